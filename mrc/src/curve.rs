//! Miss counts of many TLB geometries from one pass over a reference stream.
//!
//! The requested (entries, ways) points are grouped by set count, entries / ways:
//! one fully associative [`LruStack`] answers every point with one set, and one
//! [`SetAssocSweep`] per other set count, as deep as the most ways asked of it,
//! answers the rest. Each reference updates every structure once, so a sweep of
//! sizes 8 ..= 1024 at 1, 4 and all ways costs 11 structure updates, not 24 TLB
//! simulations.
//!
//! The set index is mmu-emu's: a TLB of `sets` sets (a power of two) puts the entry
//! for page number `vpn` in set `vpn & (sets - 1)`, where `vpn` counts pages of the
//! entry's own size (`tlb::array`'s `set_base`). So each reference carries the page
//! number it indexes with, besides its key.
//!
//! What makes a curve equal the misses of `tlb::Tlb` with `Replacement::Lru`, one
//! TLB fed one reference per lookup:
//! - The key names the entry exactly as the TLB's tag does: page number, stored
//!   page size (after splintering, `Tlb::stored_size`) and ASID, or global
//!   ([`tlb_key`]). The page number is counted in that stored size.
//! - A lookup hit touches, a miss fills (LRU victim, or an invalid way); an
//!   invalid way is filled before anything is evicted. The stack model assumes
//!   every miss is filled: a lookup whose walk faults and is retried is two
//!   references of the same key, as the TLB sees it. A page smaller than every
//!   size the TLB holds is never stored: leave it out (it misses at every size).
//! - `invalidate_all` is [`TlbCurve::flush`]. Invalidating one page or one ASID
//!   cannot be followed exactly by any stack method; an untagged TLB that is
//!   flushed at each address-space switch can (flush there).
//! - A curve describes one TLB seeing the whole stream. An L2 behind an L1 sees
//!   only the L1's misses (feed those), and an inclusive L2's back-invalidations
//!   of the L1 are not modelled; split instruction and data L1s each see their side.

use crate::{LruStack, SetAssocSweep, StackHistogram};
use serde::{Deserialize, Serialize};

/// One TLB geometry to report: `entries` in sets of `ways`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Geometry {
    /// Total entries.
    pub entries: u64,
    /// Ways per set: 1 = direct-mapped, `entries` = fully associative.
    pub ways: u64,
}

impl Geometry {
    /// `entries` in sets of `ways`.
    pub const fn new(entries: u64, ways: u64) -> Self {
        Self { entries, ways }
    }

    /// `entries` in one set.
    pub const fn fully_associative(entries: u64) -> Self {
        Self { entries, ways: entries }
    }

    /// The number of sets, `entries / ways` (0 for zero ways).
    pub const fn sets(self) -> u64 {
        match self.entries.checked_div(self.ways) {
            Some(sets) => sets,
            None => 0,
        }
    }

    /// Checks the rules a TLB's geometry obeys (`tlb::TlbConfig::validate`): at
    /// least one way, ways dividing entries, a power-of-two number of sets; and at
    /// most [`MAX_ENTRIES`] entries.
    ///
    /// # Errors
    /// The first rule broken, naming the values.
    pub fn validate(self) -> Result<(), GeometryError> {
        let Self { entries, ways } = self;
        if ways == 0 || entries == 0 {
            return Err(GeometryError::Empty { entries, ways });
        }
        if entries > MAX_ENTRIES {
            return Err(GeometryError::TooLarge { entries });
        }
        if entries % ways != 0 {
            return Err(GeometryError::WaysDoNotDivide { entries, ways });
        }
        if !(entries / ways).is_power_of_two() {
            return Err(GeometryError::SetsNotPowerOfTwo { entries, ways, sets: entries / ways });
        }
        Ok(())
    }
}

/// The most entries a geometry may have: 16 Mi, far above any TLB (mmu-emu's
/// `TlbConfig::entries` is a `u32`, real ones have thousands), and low enough that
/// the per-set stacks (8 bytes an entry) always fit memory.
pub const MAX_ENTRIES: u64 = 1 << 24;

/// A requested geometry no TLB could have.
#[derive(Clone, Copy, Debug, PartialEq, Eq, thiserror::Error)]
pub enum GeometryError {
    /// Zero entries or zero ways.
    #[error("a TLB of {entries} entries and {ways} ways is empty: both must be at least 1")]
    Empty {
        /// Requested entries.
        entries: u64,
        /// Requested ways.
        ways: u64,
    },
    /// More than [`MAX_ENTRIES`] entries.
    #[error("{entries} entries is more than the {MAX_ENTRIES} a curve can sweep")]
    TooLarge {
        /// Requested entries.
        entries: u64,
    },
    /// Entries not a multiple of ways.
    #[error("`ways` ({ways}) must divide `entries` ({entries})")]
    WaysDoNotDivide {
        /// Requested entries.
        entries: u64,
        /// Requested ways.
        ways: u64,
    },
    /// A set count the TLB's index function (low page-number bits) cannot have.
    #[error("{entries} entries of {ways} ways make {sets} sets, which is not a power of two")]
    SetsNotPowerOfTwo {
        /// Requested entries.
        entries: u64,
        /// Requested ways.
        ways: u64,
        /// `entries / ways`.
        sets: u64,
    },
}

/// The result for one requested geometry.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
pub struct Point {
    /// Sets, `entries / ways`.
    pub sets: u64,
    /// Ways per set.
    pub ways: u64,
    /// Total entries.
    pub entries: u64,
    /// References seen.
    pub references: u64,
    /// Misses of an LRU TLB of this geometry, cold ones included.
    pub misses: u64,
    /// Cold misses: first references of a key (or first since a flush), the same
    /// for every geometry.
    pub cold_misses: u64,
}

/// The key of a TLB entry with mmu-emu's tag layout (`tlb::array::page_tag` and
/// `space_tag`): page number in bits 0..32, page size (log2 bytes) in 32..40, ASID
/// in 40..56 (`None`: a global entry, bit 62). Any injective encoding would do;
/// this one makes keys read the same as the TLB's tags in a debugger.
pub const fn tlb_key(vpn: u32, page_bits: u8, asid: Option<u16>) -> u64 {
    let space = match asid {
        Some(asid) => (asid as u64) << 40,
        None => 1 << 62,
    };
    space | ((page_bits as u64) << 32) | vpn as u64
}

/// LRU miss counts of many TLB geometries, from one pass.
///
/// ```
/// use mrc::{Geometry, TlbCurve, tlb_key};
/// let mut curve = TlbCurve::new(&[Geometry::new(2, 1), Geometry::fully_associative(2)])?;
/// for vpn in [0u32, 2, 0, 2] {
///     // Pages 0 and 2 share set 0 of a 2-set TLB: they evict each other.
///     curve.reference(tlb_key(vpn, 12, Some(1)), u64::from(vpn));
/// }
/// let misses: Vec<u64> = curve.points().iter().map(|p| p.misses).collect();
/// assert_eq!(misses, [4, 2]);
/// # Ok::<(), mrc::GeometryError>(())
/// ```
#[derive(Clone, Debug)]
pub struct TlbCurve {
    requested: Vec<Geometry>,
    /// The fully associative stack, always kept: it also counts cold misses.
    full: LruStack,
    full_histogram: StackHistogram,
    /// One sweep per set count above 1, in increasing set count.
    sweeps: Vec<SetAssocSweep>,
    /// The key of the last reference, if not flushed since.
    previous: Option<u64>,
}

impl TlbCurve {
    /// Structures answering every geometry in `requested` (duplicates allowed; the
    /// results keep this order).
    ///
    /// # Errors
    /// The first geometry a TLB could not have (see [`Geometry::validate`]).
    pub fn new(requested: &[Geometry]) -> Result<Self, GeometryError> {
        for g in requested {
            g.validate()?;
        }
        let mut by_sets: Vec<(u64, u64)> =
            requested.iter().filter(|g| g.sets() > 1).map(|g| (g.sets(), g.ways)).collect();
        by_sets.sort_unstable();
        let mut sweeps: Vec<SetAssocSweep> = Vec::new();
        // Sorted by (sets, ways): the last of each set count has the most ways.
        for (i, &(sets, _)) in by_sets.iter().enumerate() {
            if by_sets.get(i + 1).is_some_and(|&(next, _)| next == sets) {
                continue;
            }
            // Validated: at most MAX_ENTRIES, so the sweep accepts it.
            sweeps.push(SetAssocSweep::try_new(sets, by_sets[i].1)?);
        }
        Ok(Self {
            requested: requested.to_vec(),
            full: LruStack::new(),
            full_histogram: StackHistogram::new(),
            sweeps,
            previous: None,
        })
    }

    /// The geometries asked for, in order.
    pub fn requested(&self) -> &[Geometry] {
        &self.requested
    }

    /// References entry `key`, which indexes its set with page number `vpn` (the
    /// page number in the entry's own page size, as the TLB computes its set).
    #[inline]
    pub fn reference(&mut self, key: u64, vpn: u64) {
        if self.previous == Some(key) {
            // The same entry again (common: accesses run through a page): it is on
            // top of every stack, so every structure would leave it there and find
            // it at distance 0, a hit in every geometry. Only the count of
            // references changes, kept in the full histogram alone; the sweeps'
            // own counts omit these hits, which changes none of their misses for
            // one way or more.
            self.full_histogram.record(Some(0));
            return;
        }
        self.previous = Some(key);
        self.full_histogram.record(self.full.reference(key));
        for sweep in &mut self.sweeps {
            // Power-of-two set counts, so the sweep masks: exactly `vpn & (sets - 1)`.
            sweep.reference(vpn, key);
        }
    }

    /// Empties every structure, as `invalidate_all` empties a TLB; the next
    /// reference of every key is counted cold. Exact, unlike invalidating single
    /// entries, which no stack method can follow (it breaks inclusion).
    pub fn flush(&mut self) {
        self.previous = None;
        self.full.flush();
        self.sweeps.iter_mut().for_each(SetAssocSweep::flush);
    }

    /// References seen.
    pub fn references(&self) -> u64 {
        self.full_histogram.references()
    }

    /// The fully associative stack-distance histogram (every size, one set).
    pub fn histogram(&self) -> &StackHistogram {
        &self.full_histogram
    }

    /// The misses of one geometry, if it can be answered from what was requested:
    /// any fully associative size, or a set count requested with at least `ways`.
    pub fn misses(&self, geometry: Geometry) -> Option<u64> {
        let sets = geometry.sets();
        if geometry.validate().is_err() {
            return None;
        }
        if sets == 1 {
            return self.full_histogram.misses(geometry.entries);
        }
        self.sweeps.iter().find(|s| s.sets() == sets).and_then(|s| s.misses(geometry.ways))
    }

    /// One result per requested geometry, in the order requested.
    pub fn points(&self) -> Vec<Point> {
        let references = self.references();
        let cold_misses = self.full_histogram.cold_misses();
        self.requested
            .iter()
            .map(|&g| Point {
                sets: g.sets(),
                ways: g.ways,
                entries: g.entries,
                references,
                // Every requested geometry has its structure (built in `new`).
                misses: self.misses(g).unwrap_or(references),
                cold_misses,
            })
            .collect()
    }
}
