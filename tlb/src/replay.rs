//! A run of L1 hits replayed one after another (cpu-sim's hit lane): each
//! side's only L1 opened once; the caller counts each side's hits in
//! registers, stamps each hit with its number, and hands the counts over at
//! the end. Every hit stamps and counts exactly as
//! [`Tlb::hit_again`](crate::Tlb::hit_again) would, so the TLBs end in the
//! same state; this is about the cost of a hit, not its result.

use crate::hierarchy::TlbHierarchy;
use crate::set_assoc::{Side, Tlb};
use mmu_core::Cycles;

/// One side's only L1, open for a run of hits.
struct OpenL1<'a> {
    /// The LRU stamps, by entry position; empty when a use stamps nothing
    /// (FIFO, random).
    stamps: &'a mut [u64],
    stamping: bool,
    tick: u64,
    tick_home: &'a mut u64,
    hits: u64,
    hits_home: &'a mut u64,
    latency: Cycles,
}

impl<'a> OpenL1<'a> {
    /// `l1` open for hits of `side` costing `latency` each ([`Tlb::hit_parts`]).
    fn of(l1: &'a mut Tlb, side: Side, latency: Cycles) -> Option<Self> {
        let (stamps, stamping, tick, hits) = l1.hit_parts(side)?;
        Some(Self::new(stamps, stamping, tick, hits, latency))
    }

    /// The parts of an L1 a hit changes, for hits of one side costing `latency`.
    fn new(
        stamps: &'a mut [u64],
        stamping: bool,
        tick_home: &'a mut u64,
        hits_home: &'a mut u64,
        latency: Cycles,
    ) -> Self {
        Self { stamps, stamping, tick: *tick_home, tick_home, hits: 0, hits_home, latency }
    }
}

/// The L1s of both sides, open for a run of hits: made by
/// [`TlbHierarchy::open_replay`], written back when dropped.
pub struct HitReplay<'a> {
    fetch: OpenL1<'a>,
    data: OpenL1<'a>,
}

impl OpenL1<'_> {
    /// Stamps the entry at `entry` for the `uses`-th hit of this side in the
    /// run (counted from 1): the use clock then reads its start plus `uses`.
    #[inline(always)]
    fn stamp(&mut self, entry: usize, uses: u64) {
        if self.stamping {
            self.stamps[entry] = self.tick + uses;
        }
    }

    /// Counts the run's `hits` (the clock ticks once a hit when stamping).
    fn settle(&mut self, hits: u64) {
        if self.stamping {
            self.tick += hits;
        }
        self.hits += hits;
    }

    fn write_back(&mut self) {
        *self.tick_home = self.tick;
        *self.hits_home += self.hits;
    }
}

impl HitReplay<'_> {
    /// Touches the entry at `entry` of `side`'s only L1 for that side's
    /// `uses`-th hit in this replay (counted from 1 by the caller, which keeps
    /// the counts in registers and hands them over at the end,
    /// [`HitReplay::settle`]): the stamp [`Tlb::hit_again`](crate::Tlb::hit_again)
    /// would give it. `entry` is a position [`TlbHierarchy::entry_index`] gave
    /// for that side since the last fill or invalidation.
    #[inline(always)]
    pub fn stamp(&mut self, side: Side, entry: usize, uses: u64) {
        // Two named sides, not an array indexed by side: each side's fields
        // stay apart for the optimizer.
        match side {
            Side::Instructions => self.fetch.stamp(entry, uses),
            Side::Data => self.data.stamp(entry, uses),
        }
    }

    /// Counts the replay's hits of each side, as many as were stamped
    /// ([`HitReplay::stamp`]), once, at its end: the use clocks and hit
    /// counts then read as after that many [`Tlb::hit_again`](crate::Tlb::hit_again)s
    /// (written back when the replay is dropped).
    pub fn settle(&mut self, fetch_hits: u64, data_hits: u64) {
        self.fetch.settle(fetch_hits);
        self.data.settle(data_hits);
    }

    /// The L1 latency of a hit of `side`.
    pub fn latency(&self, side: Side) -> Cycles {
        match side {
            Side::Instructions => self.fetch.latency,
            Side::Data => self.data.latency,
        }
    }
}

impl Drop for HitReplay<'_> {
    fn drop(&mut self) {
        self.fetch.write_back();
        self.data.write_back();
    }
}

impl TlbHierarchy {
    /// Opens both sides' L1s for a run of hits ([`HitReplay`]): `None` unless
    /// each side has exactly one L1, the two are different TLBs, and neither
    /// records references for a curve nor keeps per-set use state (tree-PLRU,
    /// NRU); then [`TlbHierarchy::replay_l1`] replays hits one at a time.
    pub fn open_replay(&mut self) -> Option<HitReplay<'_>> {
        let [(fetch, fetch_latency), (data, data_latency)] = self.single_l1s();

        if fetch == usize::MAX || data == usize::MAX || fetch == data {
            return None;
        }
        let (fetch_l1, data_l1) = two_mut(self.l1s_mut(), fetch, data);
        Some(HitReplay {
            fetch: OpenL1::of(fetch_l1, Side::Instructions, fetch_latency)?,
            data: OpenL1::of(data_l1, Side::Data, data_latency)?,
        })
    }
}

/// The elements at `a` and `b` (different) of `items`, both mutable.
fn two_mut<T>(items: &mut [T], a: usize, b: usize) -> (&mut T, &mut T) {
    if a < b {
        let (low, high) = items.split_at_mut(b);
        (&mut low[a], &mut high[0])
    } else {
        let (low, high) = items.split_at_mut(a);
        (&mut high[0], &mut low[b])
    }
}
