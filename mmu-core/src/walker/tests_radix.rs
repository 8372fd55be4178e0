//! Hand-computed walks of the `flat` and generic radix formats. Both use the RISC-V
//! PTE encoding, so each rule is the Sv32 rule of the Privileged Spec ("Virtual
//! Address Translation Process", steps 2-8, and 4.3.1), applied to another geometry;
//! and a property: for random geometries and mappings, every walk agrees with a
//! plain map from virtual to physical pages, built by a slow reference in this file.

use super::*;
use crate::access::Privilege;
use crate::addr::Ppn;
use crate::format::{Radix, Sv32Pte};
use crate::testing::TestMem;
use proptest::prelude::*;
use std::collections::BTreeMap;

const LATENCY: u64 = 10;

const V: u32 = Sv32Pte::V;
const R: u32 = Sv32Pte::R;
const W: u32 = Sv32Pte::W;
const X: u32 = Sv32Pte::X;
const U: u32 = Sv32Pte::U;
const A: u32 = Sv32Pte::A;
const D: u32 = Sv32Pte::D;

const USER: PrivilegeState =
    PrivilegeState { mode: Privilege::User, sum: false, mxr: false, write_protect: true };
const SUPER: PrivilegeState =
    PrivilegeState { mode: Privilege::Supervisor, sum: false, mxr: false, write_protect: true };

/// A RISC-V PTE with `ppn` in bits 31..10.
const fn pte(ppn: u32, flags: u32) -> u32 {
    (ppn << 10) | flags
}

#[derive(Clone, Copy, Debug)]
enum Expect {
    /// Physical address, PTE writes.
    Ok(u64, u32),
    /// Fault kind and level.
    Fault(FaultKind, u8),
}

struct Row {
    rule: &'static str,
    /// (PTE address, value) to place in memory.
    ptes: &'static [(u64, u32)],
    access: AccessKind,
    state: PrivilegeState,
    ad: AdUpdate,
    /// PTE addresses the walk reads, in order.
    reads: &'static [u64],
    expect: Expect,
}

use AccessKind::{Fetch, Read, Write};
use FaultKind::*;

fn check(format: &Radix, root: u64, va: u32, rows: &[Row]) {
    for row in rows {
        let mut mem = TestMem::new(16 << 30, LATENCY);
        for &(addr, value) in row.ptes {
            mem.set(addr, value);
        }
        let req = WalkRequest {
            root: PhysAddr::new(root),
            asid: Asid::new(1),
            vaddr: VirtAddr::new(va),
            access: row.access,
            state: row.state,
            ad_update: row.ad,
        };
        let out = walk(format, &mut mem, &mut NoWalkCache, Cycle::ZERO, &req);
        assert_eq!(mem.reads(), row.reads, "{}: PTEs read", row.rule);
        match row.expect {
            Expect::Ok(pa, writes) => {
                let t = out.result.unwrap_or_else(|f| panic!("{}: unexpected {f:?}", row.rule));
                assert_eq!(t.phys_addr(VirtAddr::new(va)).as_u64(), pa, "{}", row.rule);
                assert_eq!(out.pte_writes, writes, "{}", row.rule);
                let requests = row.reads.len() as u64 + u64::from(writes);
                assert_eq!(out.done_at, Cycle::new(requests * LATENCY), "{}: cycles", row.rule);
            }
            Expect::Fault(kind, level) => {
                let f = out.result.expect_err(row.rule);
                assert_eq!((f.kind, f.level), (kind, Some(level)), "{}", row.rule);
                assert!(mem.writes().is_empty(), "{}", row.rule);
            }
        }
    }
}

// Flat, one word per page: the table has 2^30 PTEs (4 GiB) and sits at 4 GiB. The
// word at VA 0x1000_0008 is VPN 0x0400_0002, so its PTE is at 4 GiB + 4 × VPN =
// 0x1_1000_0008; the leaf maps PPN 0x1234, a 4-byte frame: PA = 0x1234 × 4 = 0x48d0.
const FLAT_ROOT: u64 = 0x1_0000_0000;
const FLAT_VA: u32 = 0x1000_0008;
const FLAT_PTE: u64 = FLAT_ROOT + 0x1000_0008;

const FLAT_WORD_ROWS: &[Row] = &[
    Row {
        rule: "step 8: one PTE read translates a word; pa = ppn × 4",
        ptes: &[(FLAT_PTE, pte(0x1234, V | R | W | U | A | D))],
        access: Write,
        state: USER,
        ad: AdUpdate::Hardware,
        reads: &[FLAT_PTE],
        expect: Expect::Ok(0x48d0, 0),
    },
    Row {
        rule: "step 3: pte.v = 0",
        ptes: &[],
        access: Read,
        state: USER,
        ad: AdUpdate::Hardware,
        reads: &[FLAT_PTE],
        expect: Expect::Fault(NotPresent, 0),
    },
    Row {
        rule: "step 4: a pointer in the only level (i < 0)",
        ptes: &[(FLAT_PTE, pte(0x1234, V))],
        access: Read,
        state: USER,
        ad: AdUpdate::Hardware,
        reads: &[FLAT_PTE],
        expect: Expect::Fault(Reserved, 0),
    },
    Row {
        rule: "step 3: W without R is reserved",
        ptes: &[(FLAT_PTE, pte(0x1234, V | W | U | A | D))],
        access: Read,
        state: USER,
        ad: AdUpdate::Hardware,
        reads: &[FLAT_PTE],
        expect: Expect::Fault(Reserved, 0),
    },
    Row {
        rule: "step 5 / 4.3.1: U-mode needs U = 1",
        ptes: &[(FLAT_PTE, pte(0x1234, V | R | W | A | D))],
        access: Read,
        state: USER,
        ad: AdUpdate::Hardware,
        reads: &[FLAT_PTE],
        expect: Expect::Fault(Protection, 0),
    },
    Row {
        rule: "step 7 (hardware): A and D set by one PTE write",
        ptes: &[(FLAT_PTE, pte(0x1234, V | R | W | U))],
        access: Write,
        state: USER,
        ad: AdUpdate::Hardware,
        reads: &[FLAT_PTE],
        expect: Expect::Ok(0x48d0, 1),
    },
    Row {
        rule: "step 7 (trap): A = 0 faults",
        ptes: &[(FLAT_PTE, pte(0x1234, V | R | W | U))],
        access: Read,
        state: USER,
        ad: AdUpdate::Fault,
        reads: &[FLAT_PTE],
        expect: Expect::Fault(AccessedDirty, 0),
    },
];

#[test]
fn flat_word_page_spec_table() {
    check(&Radix::flat(2), FLAT_ROOT, FLAT_VA, FLAT_WORD_ROWS);
}

#[test]
fn flat_4k_pages_index_by_vpn() {
    // VA 0x0040_3abc with 4 KiB pages: VPN 0x403, PTE at root + 0x100c; PPN 0x55.
    check(
        &Radix::flat(12),
        0x40_0000,
        0x0040_3abc,
        &[Row {
            rule: "step 8: pa = ppn × 4096 + offset",
            ptes: const { &[(0x40_0000 + 0x403 * 4, pte(0x55, V | R | U | A))] },
            access: Read,
            state: USER,
            ad: AdUpdate::Hardware,
            reads: &[0x40_0000 + 0x100c],
            expect: Expect::Ok(0x55abc, 0),
        }],
    );
}

// Radix [4, 8, 8] + 12: VA 0x1234_5678 has VPN[2] = 0x1 (bits 31..28), VPN[1] = 0x23
// (27..20), VPN[0] = 0x45 (19..12), offset 0x678. Root (16 PTEs, 64 bytes) at 0x1000,
// the level-1 table (256 PTEs) at 0x2000, the level-0 table at 0x3000.
const R_VA: u32 = 0x1234_5678;
const L2_PTE: u64 = 0x1000 + 4; // VPN[2] = 1
const L1_PTE: u64 = 0x2000 + 0x23 * 4;
const L0_PTE: u64 = 0x3000 + 0x45 * 4;
const TO_L1: u32 = pte(2, V);
const TO_L0: u32 = pte(3, V);
const THREE: &[u64] = &[L2_PTE, L1_PTE, L0_PTE];

const RADIX_ROWS: &[Row] = &[
    Row {
        rule: "steps 2-8: three PTE reads, pa = ppn × 4096 + offset",
        ptes: &[(L2_PTE, TO_L1), (L1_PTE, TO_L0), (L0_PTE, pte(0x77, V | R | U | A))],
        access: Read,
        state: USER,
        ad: AdUpdate::Hardware,
        reads: THREE,
        expect: Expect::Ok(0x77678, 0),
    },
    Row {
        rule: "step 3: pte.v = 0 at the root",
        ptes: &[],
        access: Read,
        state: USER,
        ad: AdUpdate::Hardware,
        reads: &[L2_PTE],
        expect: Expect::Fault(NotPresent, 2),
    },
    Row {
        rule: "step 3: pte.v = 0 in the middle",
        ptes: &[(L2_PTE, TO_L1)],
        access: Read,
        state: USER,
        ad: AdUpdate::Hardware,
        reads: &[L2_PTE, L1_PTE],
        expect: Expect::Fault(NotPresent, 1),
    },
    Row {
        rule: "step 3 / 4.3.1: A on a non-leaf PTE in the middle is reserved",
        ptes: &[(L2_PTE, TO_L1), (L1_PTE, TO_L0 | A)],
        access: Read,
        state: USER,
        ad: AdUpdate::Hardware,
        reads: &[L2_PTE, L1_PTE],
        expect: Expect::Fault(Reserved, 1),
    },
    Row {
        rule: "step 4: a pointer at level 0",
        ptes: &[(L2_PTE, TO_L1), (L1_PTE, TO_L0), (L0_PTE, pte(0x77, V))],
        access: Read,
        state: USER,
        ad: AdUpdate::Hardware,
        reads: THREE,
        expect: Expect::Fault(Reserved, 0),
    },
    Row {
        // A leaf at level 2 maps 2^28 bytes: PPN bits 15..0 must be 0. PPN 0x3_0000
        // -> base 0x3000_0000, pa = base | (VA & 0x0fff_ffff) = 0x3234_5678.
        rule: "steps 6, 8: a level-2 superpage keeps VPN[1], VPN[0] and the offset",
        ptes: &[(L2_PTE, pte(0x3_0000, V | R | W | U | A | D))],
        access: Write,
        state: USER,
        ad: AdUpdate::Hardware,
        reads: &[L2_PTE],
        expect: Expect::Ok(0x3234_5678, 0),
    },
    Row {
        rule: "step 6: a level-2 superpage with PPN[15..0] != 0 is misaligned",
        ptes: &[(L2_PTE, pte(0x3_0100, V | R | U | A))],
        access: Read,
        state: USER,
        ad: AdUpdate::Hardware,
        reads: &[L2_PTE],
        expect: Expect::Fault(MisalignedSuperpage, 2),
    },
    Row {
        // A leaf at level 1 maps 2^20 bytes: PPN bits 7..0 must be 0. PPN 0x500 ->
        // base 0x50_0000, pa = base | (VA & 0xf_ffff) = 0x54_5678.
        rule: "steps 6, 8: a level-1 superpage keeps VPN[0] and the offset",
        ptes: &[(L2_PTE, TO_L1), (L1_PTE, pte(0x500, V | X | U | A))],
        access: Fetch,
        state: USER,
        ad: AdUpdate::Hardware,
        reads: &[L2_PTE, L1_PTE],
        expect: Expect::Ok(0x54_5678, 0),
    },
    Row {
        rule: "step 6: a level-1 superpage with PPN[7..0] != 0 is misaligned",
        ptes: &[(L2_PTE, TO_L1), (L1_PTE, pte(0x501, V | X | U | A))],
        access: Fetch,
        state: USER,
        ad: AdUpdate::Hardware,
        reads: &[L2_PTE, L1_PTE],
        expect: Expect::Fault(MisalignedSuperpage, 1),
    },
    Row {
        rule: "step 5 / 4.3.1: S-mode may not load from U pages without SUM",
        ptes: &[(L2_PTE, TO_L1), (L1_PTE, TO_L0), (L0_PTE, pte(0x77, V | R | U | A))],
        access: Read,
        state: SUPER,
        ad: AdUpdate::Hardware,
        reads: THREE,
        expect: Expect::Fault(Protection, 0),
    },
    Row {
        rule: "step 7 (hardware): a store to a clean page writes its leaf once",
        ptes: &[(L2_PTE, TO_L1), (L1_PTE, TO_L0), (L0_PTE, pte(0x77, V | R | W | U | A))],
        access: Write,
        state: USER,
        ad: AdUpdate::Hardware,
        reads: THREE,
        expect: Expect::Ok(0x77678, 1),
    },
];

#[test]
fn radix_three_level_spec_table() {
    check(&Radix::new(&[4, 8, 8], 12), 0x1000, R_VA, RADIX_ROWS);
}

#[test]
fn radix_with_small_pages_points_in_its_own_page_units() {
    // [8, 8, 8] + 8: VA 0x1234_5678 has VPN[2] = 0x12, VPN[1] = 0x34, VPN[0] = 0x56,
    // offset 0x78. Pointers are PPN × 256: PPN 0x20 -> 0x2000, 0x30 -> 0x3000.
    check(
        &Radix::new(&[8, 8, 8], 8),
        0x1000,
        R_VA,
        &[Row {
            rule: "steps 2-8 with 256-byte pages: pa = 0x99 × 256 + 0x78",
            ptes: const {
                &[
                    (0x1000 + 0x12 * 4, pte(0x20, V)),
                    (0x2000 + 0x34 * 4, pte(0x30, V)),
                    (0x3000 + 0x56 * 4, pte(0x99, V | R | U | A)),
                ]
            },
            access: Read,
            state: USER,
            ad: AdUpdate::Hardware,
            reads: &[0x1048, 0x20d0, 0x3158],
            expect: Expect::Ok(0x9978, 0),
        }],
    );
}

/// The reference: page tables built by the obvious recursive definition. The root
/// sits at 8 GiB (a root register reaches 34 bits); every other table is
/// page-aligned, from a bump pointer at 0, and must stay where a 22-bit PPN reaches.
struct Builder {
    mem: TestMem,
    next: u64,
    bits: Vec<u8>,
    page_bits: u8,
}

const BUILDER_ROOT: u64 = 1 << 33;

impl Builder {
    /// A fresh zeroed table for `level_index` (root first), `None` out of PPN reach.
    fn table(&mut self, level_index: usize) -> Option<u64> {
        let bytes = (4u64 << self.bits[level_index]).next_multiple_of(1 << self.page_bits);
        let at = self.next;
        self.next += bytes;
        (self.next <= 1 << (22 + u32::from(self.page_bits))).then_some(at)
    }
    /// Maps virtual page `vpn` to `ppn` with a base-page leaf, building tables;
    /// `None` if a table would land out of reach.
    fn map(&mut self, vpn: u64, ppn: u32) -> Option<()> {
        let levels = self.bits.len();
        let mut table = BUILDER_ROOT;
        let mut shift: u32 = self.bits.iter().map(|&b| u32::from(b)).sum();
        for depth in 0..levels {
            let b = self.bits[depth];
            shift -= u32::from(b);
            let index = (vpn >> shift) & ((1 << b) - 1);
            let addr = table + index * 4;
            if depth == levels - 1 {
                self.mem.set(addr, pte(ppn, V | R | W | X | U | A | D));
            } else {
                let existing = self.mem.get(addr);
                table = if existing & V != 0 {
                    u64::from(existing >> 10) << self.page_bits
                } else {
                    let t = self.table(depth + 1)?;
                    self.mem.set(addr, pte((t >> self.page_bits) as u32, V));
                    t
                };
            }
        }
        Some(())
    }
}

/// A geometry: 1 to 4 levels over pages of 2^4 to 2^16 bytes, index bits adding up.
fn geometry() -> impl Strategy<Value = (Vec<u8>, u8)> {
    (4u8..=16, 1usize..=4).prop_flat_map(|(page_bits, levels)| {
        let total = 32 - page_bits;
        // Cut points dividing `total` bits into `levels` non-empty parts.
        proptest::collection::btree_set(1..total, levels - 1).prop_map(move |cuts| {
            let mut bits = Vec::new();
            let mut last = 0;
            for c in cuts.into_iter().chain([total]) {
                bits.push(c - last);
                last = c;
            }
            (bits, page_bits)
        })
    })
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(64))]

    /// Every mapped address translates to the page the reference mapped it to;
    /// every other one is not present.
    #[test]
    fn radix_walks_agree_with_a_reference_map(
        (bits, page_bits) in geometry(),
        pages in proptest::collection::vec((any::<u32>(), 1u32..0x3f_ffff), 1..24),
        probes in proptest::collection::vec(any::<u32>(), 8),
    ) {
        let format = Radix::new(&bits, page_bits);
        let mut reference: BTreeMap<u64, u32> = BTreeMap::new();
        let mut b = Builder { mem: TestMem::new(1 << 34, 1), next: 0, bits: bits.clone(), page_bits };
        for &(va, ppn) in &pages {
            let vpn = u64::from(va) >> page_bits;
            prop_assume!(b.map(vpn, ppn).is_some(), "tables out of PPN reach");
            reference.insert(vpn, ppn);
        }
        let probe_vas = pages.iter().map(|&(va, _)| va).chain(probes);
        for va in probe_vas {
            let req = WalkRequest {
                root: PhysAddr::new(BUILDER_ROOT),
                asid: Asid::new(0),
                vaddr: VirtAddr::new(va),
                access: AccessKind::Read,
                state: USER,
                ad_update: AdUpdate::Hardware,
            };
            let out = walk(&format, &mut b.mem, &mut NoWalkCache, Cycle::ZERO, &req);
            let vpn = u64::from(va) >> page_bits;
            match reference.get(&vpn) {
                Some(&ppn) => {
                    let t = out.result.map_err(|f| TestCaseError::fail(format!("{f:?}")))?;
                    let offset = u64::from(va) & ((1 << page_bits) - 1);
                    prop_assert_eq!(t.phys_addr(VirtAddr::new(va)), Ppn::new(ppn).base(crate::addr::PageShift::new(page_bits)).checked_add(offset).unwrap());
                    prop_assert_eq!(out.pte_reads as usize, bits.len());
                }
                None => {
                    let f = out.result.expect_err("an unmapped page");
                    prop_assert_eq!(f.kind, NotPresent);
                }
            }
        }
    }
}
