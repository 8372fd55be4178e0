//! Matrix multiply C = A x B, naive ijk or tiled: the textbook case where loop
//! order and blocking decide how many pages, and so TLB entries, a loop touches.

use super::MatrixLoops;
use crate::{Access, TraceEvent};
use mmu_core::{AccessKind, VirtAddr};

/// The loads and stores of C = A x B, repeated until the access count runs out.
///
/// Both loop nests are one walk over tiles: naive is the single n-wide tile
/// without the load of C (its sum starts at zero in a register), blocked loads
/// C[i][j] at the start of every tile pass because earlier `kk` tiles added to it.
pub struct MatrixMultiply {
    base: u32,
    n: u32,
    block: u32,
    loads_c: bool,
    // Loop counters: tile origin (ii, jj, kk), element (i, j), step within the
    // element's group of accesses.
    ii: u32,
    jj: u32,
    kk: u32,
    i: u32,
    j: u32,
    step: u32,
    remaining: u64,
}

impl MatrixMultiply {
    /// A generator of `accesses` accesses; `n >= 1`, and a `Blocked` tile divides `n`.
    pub fn new(base: u32, n: u32, loops: MatrixLoops, accesses: u64) -> Self {
        let n = n.max(1);
        let (block, loads_c) = match loops {
            MatrixLoops::Naive => (n, false),
            MatrixLoops::Blocked { block } if block >= 1 && n % block == 0 => (block, true),
            // Refused by validation; a whole-matrix tile keeps the walk well defined.
            MatrixLoops::Blocked { .. } => (n, true),
        };
        Self { base, n, block, loads_c, ii: 0, jj: 0, kk: 0, i: 0, j: 0, step: 0, remaining: accesses }
    }

    /// Address of element (row, col) of matrix `m` (0 = A, 1 = B, 2 = C).
    fn element(&self, m: u32, row: u32, col: u32) -> u32 {
        // Below 4·3n² <= 2^32 for a valid config; wrapping keeps any other defined.
        let n = self.n;
        let index = m.wrapping_mul(n).wrapping_mul(n).wrapping_add(row.wrapping_mul(n)).wrapping_add(col);
        self.base.wrapping_add(index.wrapping_mul(4))
    }

    /// Moves to the next element, tile, or whole multiply.
    fn advance(&mut self) {
        self.step = 0;
        let b = self.block;
        self.j += 1;
        if self.j < self.jj + b {
            return;
        }
        self.j = self.jj;
        self.i += 1;
        if self.i < self.ii + b {
            return;
        }
        self.kk += b;
        if self.kk == self.n {
            self.kk = 0;
            self.jj += b;
            if self.jj == self.n {
                self.jj = 0;
                self.ii += b;
                if self.ii == self.n {
                    self.ii = 0;
                }
            }
        }
        self.i = self.ii;
        self.j = self.jj;
    }
}

impl Iterator for MatrixMultiply {
    type Item = TraceEvent;
    fn next(&mut self) -> Option<TraceEvent> {
        self.remaining = self.remaining.checked_sub(1)?;
        // One element's group: [load C], then load A[i][k], load B[k][j] for k in
        // the tile, then store C.
        let head = u32::from(self.loads_c);
        let (kind, addr) = if self.step < head {
            (AccessKind::Read, self.element(2, self.i, self.j))
        } else if self.step < head + 2 * self.block {
            let t = self.step - head;
            let k = self.kk + t / 2;
            if t % 2 == 0 {
                (AccessKind::Read, self.element(0, self.i, k))
            } else {
                (AccessKind::Read, self.element(1, k, self.j))
            }
        } else {
            (AccessKind::Write, self.element(2, self.i, self.j))
        };
        self.step += 1;
        if self.step == head + 2 * self.block + 1 {
            self.advance();
        }
        Some(TraceEvent::Access(Access { kind, vaddr: VirtAddr::new(addr), value: None }))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn trace(g: MatrixMultiply) -> Vec<(char, u32)> {
        g.map(|e| match e {
            TraceEvent::Access(a) => (if a.kind == AccessKind::Write { 'W' } else { 'R' }, a.vaddr.as_u32()),
            TraceEvent::Switch(_) => panic!("no switches"),
        })
        .collect()
    }

    // 2x2 matrices from 0x1000: A = 0x1000 (a00 a01 a10 a11 at +0, +4, +8, +12),
    // B = 0x1010, C = 0x1020.
    const A00: u32 = 0x1000;
    const A01: u32 = 0x1004;
    const A10: u32 = 0x1008;
    const A11: u32 = 0x100c;
    const B00: u32 = 0x1010;
    const B01: u32 = 0x1014;
    const B10: u32 = 0x1018;
    const B11: u32 = 0x101c;
    const C00: u32 = 0x1020;
    const C01: u32 = 0x1024;
    const C10: u32 = 0x1028;
    const C11: u32 = 0x102c;

    #[test]
    #[rustfmt::skip]
    fn naive_2x2_written_out_by_hand() {
        // c_ij = a_i0 b_0j + a_i1 b_1j for i, then j: n²(2n + 1) = 20 accesses.
        let want = [
            ('R', A00), ('R', B00), ('R', A01), ('R', B10), ('W', C00),
            ('R', A00), ('R', B01), ('R', A01), ('R', B11), ('W', C01),
            ('R', A10), ('R', B00), ('R', A11), ('R', B10), ('W', C10),
            ('R', A10), ('R', B01), ('R', A11), ('R', B11), ('W', C11),
        ];
        assert_eq!(trace(MatrixMultiply::new(0x1000, 2, MatrixLoops::Naive, 20)), want);
        // It repeats: access 21 starts the next multiply.
        assert_eq!(trace(MatrixMultiply::new(0x1000, 2, MatrixLoops::Naive, 22))[20..], [('R', A00), ('R', B00)]);
    }

    #[test]
    #[rustfmt::skip]
    fn blocked_2x2_with_unit_tiles_written_out_by_hand() {
        // block 1: for ii, jj, kk over 0..2 (tile = one element): load C[ii][jj],
        // load A[ii][kk], load B[kk][jj], store C[ii][jj]. n²(n/b)(2b + 2) = 32.
        let want = [
            ('R', C00), ('R', A00), ('R', B00), ('W', C00),
            ('R', C00), ('R', A01), ('R', B10), ('W', C00),
            ('R', C01), ('R', A00), ('R', B01), ('W', C01),
            ('R', C01), ('R', A01), ('R', B11), ('W', C01),
            ('R', C10), ('R', A10), ('R', B00), ('W', C10),
            ('R', C10), ('R', A11), ('R', B10), ('W', C10),
            ('R', C11), ('R', A10), ('R', B01), ('W', C11),
            ('R', C11), ('R', A11), ('R', B11), ('W', C11),
        ];
        assert_eq!(trace(MatrixMultiply::new(0x1000, 2, MatrixLoops::Blocked { block: 1 }, 32)), want);
    }

    /// The reference: the loop nest as the docs write it, collected eagerly.
    fn reference(base: u32, n: u32, block: Option<u32>) -> Vec<(char, u32)> {
        let at = |m: u32, r: u32, c: u32| base + 4 * (m * n * n + r * n + c);
        let mut out = Vec::new();
        match block {
            None => {
                for i in 0..n {
                    for j in 0..n {
                        for k in 0..n {
                            out.push(('R', at(0, i, k)));
                            out.push(('R', at(1, k, j)));
                        }
                        out.push(('W', at(2, i, j)));
                    }
                }
            }
            Some(b) => {
                for ii in (0..n).step_by(b as usize) {
                    for jj in (0..n).step_by(b as usize) {
                        for kk in (0..n).step_by(b as usize) {
                            for i in ii..ii + b {
                                for j in jj..jj + b {
                                    out.push(('R', at(2, i, j)));
                                    for k in kk..kk + b {
                                        out.push(('R', at(0, i, k)));
                                        out.push(('R', at(1, k, j)));
                                    }
                                    out.push(('W', at(2, i, j)));
                                }
                            }
                        }
                    }
                }
            }
        }
        out
    }

    #[test]
    fn agrees_with_the_loop_nest_and_the_access_count_formulas() {
        for (n, block) in [
            (1, None),
            (3, None),
            (6, None),
            (6, Some(1)),
            (6, Some(2)),
            (6, Some(3)),
            (6, Some(6)),
            (8, Some(4)),
        ] {
            let want = reference(0x4000, n, block);
            let per_multiply = match block {
                None => n * n * (2 * n + 1),
                Some(b) => n * n * (n / b) * (2 * b + 2),
            };
            assert_eq!(want.len() as u32, per_multiply, "n {n} block {block:?}");
            let loops = block.map_or(MatrixLoops::Naive, |block| MatrixLoops::Blocked { block });
            let got = trace(MatrixMultiply::new(0x4000, n, loops, 2 * u64::from(per_multiply)));
            assert_eq!(got[..want.len()], want[..], "n {n} block {block:?}");
            assert_eq!(got[want.len()..], want[..], "the second multiply repeats the first");
        }
    }
}
