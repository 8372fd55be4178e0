//! Seeded synthetic generators: each isolates one access pattern, and the same
//! config and seed always give the same accesses. Every generator is an iterator
//! that allocates only when it is built (pointer chasing's permutation), never per
//! access.

mod chase;
mod matmul;
mod simple;
mod zipf;

pub use chase::PointerChase;
pub use matmul::MatrixMultiply;
pub use simple::{Phases, Sequential, Strided, Uniform};
pub use zipf::Zipf;

use crate::{SALT_WORKLOAD, TraceEvent};
use mmu_core::AccessKind;
use mmu_core::SimRng;
use mmu_core::config::InvalidField;
use rand::RngExt;
use serde::{Deserialize, Serialize};

/// A synthetic access pattern, seeded from the run seed. Every variant issues word
/// accesses only; regions are `[base, base + bytes)`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
// Unknown fields of a struct variant are refused, as they are everywhere else in a config.
#[serde(deny_unknown_fields)]
pub enum GeneratorConfig {
    /// Word after word from `base`, wrapping around after `bytes`.
    Sequential {
        /// First address; word aligned.
        base: u32,
        /// Size of the region walked; a non-zero multiple of 4.
        bytes: u32,
        /// Number of accesses.
        accesses: u64,
        /// Percentage (0..=100) of accesses that are stores, chosen at random.
        write_percent: u8,
    },
    /// From `base`, each access `stride` bytes after the last, wrapping around
    /// inside the region (a stride of `bytes` or a multiple of it touches one word).
    Strided {
        /// First address; word aligned.
        base: u32,
        /// Size of the region; a non-zero multiple of 4.
        bytes: u32,
        /// Bytes between consecutive accesses; a non-zero multiple of 4, negative to walk down.
        stride: i64,
        /// Number of accesses.
        accesses: u64,
        /// Percentage (0..=100) of accesses that are stores.
        write_percent: u8,
    },
    /// Words chosen uniformly at random in `[base, base + bytes)`.
    Uniform {
        /// First address; word aligned.
        base: u32,
        /// Size of the region; a non-zero multiple of 4.
        bytes: u32,
        /// Number of accesses.
        accesses: u64,
        /// Percentage (0..=100) of accesses that are stores.
        write_percent: u8,
    },
    /// The region is cut into items of `item_bytes`; the item of popularity rank k
    /// (1 = most popular) is drawn with probability proportional to 1 / k^exponent,
    /// and a word is chosen uniformly inside it. Ranks are scattered over the
    /// region by a seeded affine permutation, so the hot items are not all adjacent.
    Zipf {
        /// First address; word aligned.
        base: u32,
        /// Size of the region; a non-zero multiple of `item_bytes`.
        bytes: u32,
        /// Size of one item (a word, a cache line, a page...); a non-zero multiple of 4.
        item_bytes: u32,
        /// The exponent s of the rank-frequency law; 0 is uniform, about 1 is
        /// classic Zipf, larger is more skewed. From 0 to 100.
        exponent: ZipfExponent,
        /// Number of accesses.
        accesses: u64,
        /// Percentage (0..=100) of accesses that are stores.
        write_percent: u8,
    },
    /// Loads following a linked list laid over a random cyclic permutation of the
    /// region's nodes: each load reads a node's first word (its `next` pointer),
    /// and the walk visits every node once before it comes back to the first.
    PointerChase {
        /// First address; word aligned.
        base: u32,
        /// Size of the region; a non-zero multiple of `node_bytes`.
        bytes: u32,
        /// Size of one node; a non-zero multiple of 4. At most 2^24 nodes.
        node_bytes: u32,
        /// Number of accesses.
        accesses: u64,
    },
    /// C = A x B on n x n matrices of 4-byte elements, row major: A at `base`, B at
    /// `base + 4n²`, C at `base + 8n²`. The multiplication repeats until `accesses`.
    MatrixMultiply {
        /// Address of A[0][0]; word aligned; the three matrices must fit below 2^32.
        base: u32,
        /// Rows and columns; at least 1.
        n: u32,
        /// The loop nest.
        loops: MatrixLoops,
        /// Number of accesses.
        accesses: u64,
    },
    /// Phases of working sets: in each phase, `accesses` words chosen uniformly in
    /// that phase's set, then the next phase (Denning's working-set model).
    Phases {
        /// The phases, in order; at least one.
        phases: Vec<WorkingSet>,
        /// Percentage (0..=100) of accesses that are stores.
        write_percent: u8,
    },
}

/// The loop nest of a matrix multiply.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum MatrixLoops {
    /// `for i { for j { for k { load A[i][k]; load B[k][j] } store C[i][j] } }`: the
    /// sum stays in a register, so each C element is stored once: n²(2n + 1) accesses.
    Naive,
    /// Tiled: `for ii { for jj { for kk { for i in ii.. { for j in jj.. { load
    /// C[i][j]; for k in kk.. { load A[i][k]; load B[k][j] } store C[i][j] } } } } }`,
    /// each loop stepping through a `block`-wide tile: n²(n/block)(2·block + 2) accesses.
    Blocked {
        /// Tile width; divides n.
        block: u32,
    },
}

/// One phase of a [`GeneratorConfig::Phases`] workload.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct WorkingSet {
    /// First address of the set; word aligned.
    pub base: u32,
    /// Size of the set; a non-zero multiple of 4.
    pub bytes: u32,
    /// Accesses in this phase.
    pub accesses: u64,
}

/// The exponent of a Zipf law. A float compared by its bits, so that configs stay
/// `Eq`; validation keeps it finite and non-negative, where bits and value agree
/// (but for `-0.0`, which validation refuses).
#[derive(Clone, Copy, Debug, Serialize, Deserialize)]
#[serde(transparent)]
pub struct ZipfExponent(pub f64);

impl PartialEq for ZipfExponent {
    fn eq(&self, other: &Self) -> bool {
        self.0.to_bits() == other.0.to_bits()
    }
}

impl Eq for ZipfExponent {}

/// Most nodes a pointer chase may have: its permutation takes 4 bytes of host
/// memory per node (64 MiB at this limit).
pub const MAX_CHASE_NODES: u32 = 1 << 24;

fn check_region(base: u32, bytes: u32, unit: u32, unit_name: &str) -> Result<(), InvalidField> {
    if base % 4 != 0 {
        return Err(InvalidField::new("base", format!("{base:#x} is not word aligned")));
    }
    if bytes == 0 || bytes % unit != 0 {
        return Err(InvalidField::new(
            "bytes",
            format!("{bytes:#x} is not a non-zero multiple of {unit_name}"),
        ));
    }
    if u64::from(base) + u64::from(bytes) > 1 << 32 {
        return Err(InvalidField::new("bytes", "base + bytes goes beyond the 32-bit address space"));
    }
    Ok(())
}

fn check_unit(name: &str, value: u32) -> Result<(), InvalidField> {
    if value == 0 || value % 4 != 0 {
        return Err(InvalidField::new(name, format!("{value} is not a non-zero multiple of 4")));
    }
    Ok(())
}

fn check_percent(write_percent: u8) -> Result<(), InvalidField> {
    if write_percent > 100 {
        return Err(InvalidField::new("write_percent", format!("{write_percent} is not a percentage")));
    }
    Ok(())
}

impl GeneratorConfig {
    /// Checks a generator's parameters.
    ///
    /// # Errors
    /// The first field that breaks a rule, named relative to this enum.
    pub fn validate(&self) -> Result<(), InvalidField> {
        match self {
            GeneratorConfig::Sequential { base, bytes, write_percent, .. }
            | GeneratorConfig::Uniform { base, bytes, write_percent, .. } => {
                check_region(*base, *bytes, 4, "4")?;
                check_percent(*write_percent)
            }
            GeneratorConfig::Strided { base, bytes, stride, write_percent, .. } => {
                check_region(*base, *bytes, 4, "4")?;
                if *stride == 0 || stride % 4 != 0 {
                    return Err(InvalidField::new(
                        "stride",
                        format!("{stride} is not a non-zero multiple of 4 (the accesses are words)"),
                    ));
                }
                check_percent(*write_percent)
            }
            GeneratorConfig::Zipf { base, bytes, item_bytes, exponent, write_percent, .. } => {
                check_unit("item_bytes", *item_bytes)?;
                check_region(*base, *bytes, *item_bytes, "`item_bytes`")?;
                let s = exponent.0;
                if !(0.0..=100.0).contains(&s) || s.is_sign_negative() {
                    return Err(InvalidField::new("exponent", format!("{s} is not a number from 0 to 100")));
                }
                check_percent(*write_percent)
            }
            GeneratorConfig::PointerChase { base, bytes, node_bytes, .. } => {
                check_unit("node_bytes", *node_bytes)?;
                check_region(*base, *bytes, *node_bytes, "`node_bytes`")?;
                let nodes = bytes / node_bytes;
                if nodes > MAX_CHASE_NODES {
                    return Err(InvalidField::new(
                        "bytes",
                        format!(
                            "{nodes} nodes of {node_bytes} bytes; at most {MAX_CHASE_NODES} (use larger nodes)"
                        ),
                    ));
                }
                Ok(())
            }
            GeneratorConfig::MatrixMultiply { base, n, loops, .. } => {
                if base % 4 != 0 {
                    return Err(InvalidField::new("base", format!("{base:#x} is not word aligned")));
                }
                if *n == 0 {
                    return Err(InvalidField::new("n", "a matrix has at least one row"));
                }
                let end = u64::from(*base) + 3 * 4 * u64::from(*n) * u64::from(*n);
                if end > 1 << 32 {
                    return Err(InvalidField::new(
                        "n",
                        format!(
                            "three {n}x{n} matrices of 4-byte elements from {base:#x} go beyond the 32-bit address space"
                        ),
                    ));
                }
                if let MatrixLoops::Blocked { block } = loops
                    && (*block == 0 || n % block != 0)
                {
                    return Err(InvalidField::new(
                        "loops.block",
                        format!("{block} does not divide n ({n}) into whole tiles"),
                    ));
                }
                Ok(())
            }
            GeneratorConfig::Phases { phases, write_percent } => {
                if phases.is_empty() {
                    return Err(InvalidField::new("phases", "at least one phase is needed"));
                }
                for (i, phase) in phases.iter().enumerate() {
                    check_region(phase.base, phase.bytes, 4, "4")
                        .map_err(|e| e.within(&format!("[{i}]")).within("phases"))?;
                }
                check_percent(*write_percent)
            }
        }
    }

    /// The address ranges `[start, end)` the generator may touch (a matrix
    /// multiply's three matrices as one range): what must lie inside the regions
    /// of the process that runs it.
    pub fn ranges(&self) -> Vec<(u64, u64)> {
        let range = |base: u32, bytes: u64| (u64::from(base), u64::from(base) + bytes);
        match self {
            GeneratorConfig::Sequential { base, bytes, .. }
            | GeneratorConfig::Strided { base, bytes, .. }
            | GeneratorConfig::Uniform { base, bytes, .. }
            | GeneratorConfig::Zipf { base, bytes, .. }
            | GeneratorConfig::PointerChase { base, bytes, .. } => vec![range(*base, u64::from(*bytes))],
            GeneratorConfig::MatrixMultiply { base, n, .. } => {
                vec![range(*base, 12 * u64::from(*n) * u64::from(*n))]
            }
            GeneratorConfig::Phases { phases, .. } => {
                phases.iter().map(|p| range(p.base, u64::from(p.bytes))).collect()
            }
        }
    }

    /// How many accesses the generator issues in all.
    pub fn accesses(&self) -> u64 {
        match self {
            GeneratorConfig::Sequential { accesses, .. }
            | GeneratorConfig::Strided { accesses, .. }
            | GeneratorConfig::Uniform { accesses, .. }
            | GeneratorConfig::Zipf { accesses, .. }
            | GeneratorConfig::PointerChase { accesses, .. }
            | GeneratorConfig::MatrixMultiply { accesses, .. } => *accesses,
            GeneratorConfig::Phases { phases, .. } => {
                phases.iter().fold(0u64, |sum, p| sum.saturating_add(p.accesses))
            }
        }
    }

    /// The running generator, its random stream seeded from `seed` (salted with
    /// [`SALT_WORKLOAD`]). The config must be valid.
    pub fn build(&self, seed: u64) -> Generator {
        let seed = seed ^ SALT_WORKLOAD;
        match self {
            &GeneratorConfig::Sequential { base, bytes, accesses, write_percent } => {
                Generator::Sequential(Sequential::new(base, bytes, accesses, write_percent, seed))
            }
            &GeneratorConfig::Strided { base, bytes, stride, accesses, write_percent } => {
                Generator::Strided(Strided::new(base, bytes, stride, accesses, write_percent, seed))
            }
            &GeneratorConfig::Uniform { base, bytes, accesses, write_percent } => {
                Generator::Uniform(Uniform::new(base, bytes, accesses, write_percent, seed))
            }
            &GeneratorConfig::Zipf { base, bytes, item_bytes, exponent, accesses, write_percent } => {
                Generator::Zipf(Zipf::new(base, bytes, item_bytes, exponent.0, accesses, write_percent, seed))
            }
            &GeneratorConfig::PointerChase { base, bytes, node_bytes, accesses } => {
                Generator::PointerChase(PointerChase::new(base, bytes, node_bytes, accesses, seed))
            }
            &GeneratorConfig::MatrixMultiply { base, n, loops, accesses } => {
                Generator::MatrixMultiply(MatrixMultiply::new(base, n, loops, accesses))
            }
            GeneratorConfig::Phases { phases, write_percent } => {
                Generator::Phases(Phases::new(phases, *write_percent, seed))
            }
        }
    }
}

/// A running generator, dispatched by `match` (no virtual call per access).
pub enum Generator {
    /// See [`GeneratorConfig::Sequential`].
    Sequential(Sequential),
    /// See [`GeneratorConfig::Strided`].
    Strided(Strided),
    /// See [`GeneratorConfig::Uniform`].
    Uniform(Uniform),
    /// See [`GeneratorConfig::Zipf`].
    Zipf(Zipf),
    /// See [`GeneratorConfig::PointerChase`].
    PointerChase(PointerChase),
    /// See [`GeneratorConfig::MatrixMultiply`].
    MatrixMultiply(MatrixMultiply),
    /// See [`GeneratorConfig::Phases`].
    Phases(Phases),
}

impl Iterator for Generator {
    type Item = TraceEvent;
    #[inline]
    fn next(&mut self) -> Option<TraceEvent> {
        match self {
            Generator::Sequential(g) => g.next(),
            Generator::Strided(g) => g.next(),
            Generator::Uniform(g) => g.next(),
            Generator::Zipf(g) => g.next(),
            Generator::PointerChase(g) => g.next(),
            Generator::MatrixMultiply(g) => g.next(),
            Generator::Phases(g) => g.next(),
        }
    }
}

/// A load, or a store with probability `write_percent`%.
fn kind(rng: &mut SimRng, write_percent: u8) -> AccessKind {
    if rng.random_range(0..100u8) < write_percent { AccessKind::Write } else { AccessKind::Read }
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;

    /// The addresses of a generator's accesses.
    pub(crate) fn addrs(it: impl Iterator<Item = TraceEvent>) -> Vec<u32> {
        it.map(|e| match e {
            TraceEvent::Access(a) => a.vaddr.as_u32(),
            TraceEvent::Switch(_) => panic!("generators do not switch"),
        })
        .collect()
    }

    fn ron(text: &str) -> GeneratorConfig {
        ron::from_str(text).unwrap_or_else(|e| panic!("{text}: {e}"))
    }

    #[test]
    fn every_variant_parses_validates_and_counts_its_accesses() {
        let cases = [
            ("Sequential(base: 0x1000, bytes: 64, accesses: 10, write_percent: 0)", 10),
            ("Strided(base: 0x1000, bytes: 0x10000, stride: -4100, accesses: 11, write_percent: 5)", 11),
            ("Uniform(base: 0, bytes: 4096, accesses: 12, write_percent: 100)", 12),
            (
                "Zipf(base: 0, bytes: 0x100000, item_bytes: 4096, exponent: 0.99, accesses: 13, write_percent: 0)",
                13,
            ),
            ("PointerChase(base: 0x2000, bytes: 4096, node_bytes: 64, accesses: 14)", 14),
            ("MatrixMultiply(base: 0, n: 8, loops: Naive, accesses: 15)", 15),
            ("MatrixMultiply(base: 0, n: 8, loops: Blocked(block: 4), accesses: 16)", 16),
            (
                "Phases(phases: [(base: 0, bytes: 4096, accesses: 7), (base: 0x8000, bytes: 64, accesses: 10)], write_percent: 0)",
                17,
            ),
        ];
        for (text, accesses) in cases {
            let config = ron(text);
            assert_eq!(config.validate(), Ok(()), "{text}");
            assert_eq!(config.accesses(), accesses, "{text}");
            assert_eq!(config.build(1).count() as u64, accesses, "{text}");
        }
    }

    #[test]
    fn invalid_parameters_name_their_field() {
        let cases = [
            ("Sequential(base: 2, bytes: 64, accesses: 1, write_percent: 0)", "base"),
            ("Uniform(base: 0, bytes: 0, accesses: 1, write_percent: 0)", "bytes"),
            ("Uniform(base: 0xfffff000, bytes: 0x2000, accesses: 1, write_percent: 0)", "bytes"),
            ("Uniform(base: 0, bytes: 64, accesses: 1, write_percent: 101)", "write_percent"),
            ("Strided(base: 0, bytes: 64, stride: 0, accesses: 1, write_percent: 0)", "stride"),
            ("Strided(base: 0, bytes: 64, stride: 6, accesses: 1, write_percent: 0)", "stride"),
            (
                "Zipf(base: 0, bytes: 4096, item_bytes: 0, exponent: 1.0, accesses: 1, write_percent: 0)",
                "item_bytes",
            ),
            (
                "Zipf(base: 0, bytes: 6000, item_bytes: 4096, exponent: 1.0, accesses: 1, write_percent: 0)",
                "bytes",
            ),
            (
                "Zipf(base: 0, bytes: 4096, item_bytes: 4, exponent: -1.0, accesses: 1, write_percent: 0)",
                "exponent",
            ),
            (
                "Zipf(base: 0, bytes: 4096, item_bytes: 4, exponent: -0.0, accesses: 1, write_percent: 0)",
                "exponent",
            ),
            (
                "Zipf(base: 0, bytes: 4096, item_bytes: 4, exponent: NaN, accesses: 1, write_percent: 0)",
                "exponent",
            ),
            ("PointerChase(base: 0, bytes: 100, node_bytes: 64, accesses: 1)", "bytes"),
            ("PointerChase(base: 0, bytes: 0x8000000, node_bytes: 4, accesses: 1)", "bytes"),
            ("MatrixMultiply(base: 0, n: 0, loops: Naive, accesses: 1)", "n"),
            ("MatrixMultiply(base: 0, n: 20000, loops: Naive, accesses: 1)", "n"),
            ("MatrixMultiply(base: 0, n: 6, loops: Blocked(block: 4), accesses: 1)", "loops.block"),
            ("MatrixMultiply(base: 0, n: 6, loops: Blocked(block: 0), accesses: 1)", "loops.block"),
            ("Phases(phases: [], write_percent: 0)", "phases"),
            (
                "Phases(phases: [(base: 0, bytes: 64, accesses: 1), (base: 1, bytes: 64, accesses: 1)], write_percent: 0)",
                "phases[1].base",
            ),
        ];
        for (text, field) in cases {
            let err = ron(text).validate().expect_err(text);
            assert_eq!(err.field, field, "{text}: {err}");
        }
    }

    #[test]
    fn working_sets_refuse_unknown_fields() {
        let err = ron::from_str::<GeneratorConfig>(
            "Phases(phases: [(base: 0, bytes: 64, accesses: 1, size: 2)], write_percent: 0)",
        );
        assert!(err.is_err());
    }
}
