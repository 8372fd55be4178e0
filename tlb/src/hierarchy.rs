//! The TLB hierarchy: the L1 TLBs of the access's side, then the L2.
//!
//! The L1s of one side (one per page-size split) are probed in parallel: a lookup
//! costs the largest of their latencies, and each counts a lookup. On an L1 miss the
//! L2, if it serves the side, adds its latency. An L2 hit is copied into the side's
//! L1 that stores that size; a walk fills the L2 and that L1.
//!
//! Non-inclusive (the default): evictions at one level leave the other alone.
//! Inclusive: an L2 eviction removes every L1 entry it covered (`back_invalidations`
//! of the L1s), so each L1 entry is always also in the L2; validation makes sure the
//! L2 serves and holds everything the L1s do.

use crate::config::{Inclusion, TlbHierarchyConfig};
use crate::set_assoc::{Resident, Side, Tlb, TlbStats};
use mmu_core::event::Event;
use mmu_core::{AccessKind, Asid, Cycle, Cycles, PageShift, Translation, VirtAddr};
use serde::Serialize;

/// Salt of the TLBs' random streams (XORed with the run seed and the name's hash).
pub const SALT_TLB: u64 = 0x544c_425f_5245_504c;

/// FNV-1a of a name: a per-component salt that does not depend on config order.
pub(crate) fn name_salt(name: &str) -> u64 {
    name.bytes().fold(0xcbf2_9ce4_8422_2325, |h, b| (h ^ u64::from(b)).wrapping_mul(0x100_0000_01b3))
}

/// Invalidation operations the hierarchy performed, by kind (each operation counts
/// once however many TLBs and entries it reached; entries are counted per TLB).
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize)]
pub struct InvalidationStats {
    /// Flushes of everything (`sfence.vma x0, x0`).
    pub all: u64,
    /// Flushes of one address space (`sfence.vma x0, asid`).
    pub by_asid: u64,
    /// Shootdowns of one address in every address space (`sfence.vma va, x0`).
    pub by_va: u64,
    /// Shootdowns of one address in one address space (`sfence.vma va, asid`).
    pub by_va_asid: u64,
    /// Flushes of every non-global entry on a context switch, with ASIDs off.
    pub context_switch_flushes: u64,
}

/// The result of looking an address up in the hierarchy.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct HierarchyLookup {
    /// The translation, if some level held it.
    pub translation: Option<Translation>,
    /// When the answer is known: each level looked up adds its latency.
    pub done_at: Cycle,
    /// The translation came from an L1 (the L2 was not looked up).
    pub from_l1: bool,
}

/// An entry of an L1 TLB that a lookup hit, and what the lookup cost: what
/// [`TlbHierarchy::hit_l1_again`] replays.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct L1Entry {
    l1: usize,
    entry: usize,
    side: Side,
    latency: Cycles,
}

impl L1Entry {
    /// A placeholder, for a caller's empty slot (replaying it counts a hit on the
    /// first entry of the first L1: the caller must never).
    pub const PLACEHOLDER: L1Entry = L1Entry { l1: 0, entry: 0, side: Side::Data, latency: Cycles::ZERO };
}

/// The L1s of one side and what a lookup there costs.
#[derive(Clone, Debug, Default)]
struct SideL1s {
    l1: Vec<usize>,
    latency: Cycles,
    l2: bool,
}

/// L1 TLBs by side plus an optional L2.
#[derive(Clone, Debug)]
pub struct TlbHierarchy {
    l1: Vec<Tlb>,
    l2: Option<Tlb>,
    fetch: SideL1s,
    data: SideL1s,
    inclusion: Inclusion,
    invalidations: InvalidationStats,
    /// Per side (instructions, data): its L1's position when it has exactly one
    /// (`usize::MAX` otherwise) and its L1 latency, for [`TlbHierarchy::l1_hit`].
    single: [(usize, Cycles); 2],
}

impl TlbHierarchy {
    /// Empty TLBs from a config validated for a format whose leaf page sizes are
    /// `format_sizes`; random policies draw from `seed` salted per TLB.
    ///
    /// # Panics
    /// If the config was not validated against these sizes.
    pub fn new(config: &TlbHierarchyConfig, format_sizes: &[PageShift], seed: u64) -> Self {
        let build = |c: &crate::config::TlbConfig| {
            let sizes = c.resolve_sizes(format_sizes).expect("config validated against the format");
            Tlb::new(c, &sizes, seed ^ SALT_TLB ^ name_salt(&c.name))
        };
        let l1: Vec<Tlb> = config.l1.iter().map(build).collect();
        let l2 = config.l2.as_ref().map(build);
        let side = |is_fetch: bool| {
            let l1_side: Vec<usize> = (0..l1.len()).filter(|&i| l1[i].serves().serves(is_fetch)).collect();
            let latency = l1_side.iter().map(|&i| l1[i].hit_latency()).max().unwrap_or(Cycles::ZERO);
            SideL1s { l1: l1_side, latency, l2: l2.as_ref().is_some_and(|t| t.serves().serves(is_fetch)) }
        };
        let (fetch, data) = (side(true), side(false));
        let single = |s: &SideL1s| (if let [only] = s.l1[..] { only } else { usize::MAX }, s.latency);
        Self {
            single: [single(&fetch), single(&data)],
            l1,
            l2,
            fetch,
            data,
            inclusion: config.inclusion,
            invalidations: InvalidationStats::default(),
        }
    }

    /// Looks `vaddr` up: the L1s of the access's side in parallel, then the L2, each
    /// level adding its latency. An L2 hit is copied into the side's L1.
    #[inline]
    pub fn lookup(&mut self, now: Cycle, vaddr: VirtAddr, asid: Asid, access: AccessKind) -> HierarchyLookup {
        let on = Side::of(access);
        let side = if access.is_fetch() { &self.fetch } else { &self.data };
        let t = now + side.latency;
        if let [only] = side.l1[..] {
            // One L1 for the side, the common case: no parallel probes to merge.
            if let Some(hit) = self.l1[only].lookup_on(on, vaddr, asid) {
                return HierarchyLookup { translation: Some(hit), done_at: t, from_l1: true };
            }
        } else {
            let mut found = None;
            for &i in &side.l1 {
                if let Some(hit) = self.l1[i].lookup_on(on, vaddr, asid) {
                    if found.is_none() {
                        found = Some(hit);
                    }
                }
            }
            if found.is_some() {
                return HierarchyLookup { translation: found, done_at: t, from_l1: true };
            }
        }
        self.lookup_l2(t, vaddr, asid, access)
    }

    /// Where [`TlbHierarchy::lookup`] of `vaddr` for an `access` would hit when
    /// the access's side has one L1, and the translation it would give: for
    /// [`TlbHierarchy::hit_l1_again`]. `None` on a miss there, or with several L1s
    /// on the side (their parallel probes each count). Changes nothing.
    #[inline]
    pub fn l1_entry_of(
        &self,
        vaddr: VirtAddr,
        asid: Asid,
        access: AccessKind,
    ) -> Option<(L1Entry, Translation)> {
        let side = if access.is_fetch() { &self.fetch } else { &self.data };
        let [only] = side.l1[..] else { return None };
        let (entry, t) = self.l1[only].entry_of(vaddr, asid)?;
        Some((L1Entry { l1: only, entry, side: Side::of(access), latency: side.latency }, t))
    }

    /// Per side: its only L1's position (`usize::MAX` with none or several)
    /// and the side's L1 latency.
    pub(crate) fn single_l1s(&self) -> [(usize, Cycles); 2] {
        self.single
    }

    /// The L1s, in config order.
    pub(crate) fn l1s_mut(&mut self) -> &mut [Tlb] {
        &mut self.l1
    }

    /// The position of `hit`'s entry in its L1's array, which (with the side)
    /// is all [`TlbHierarchy::replay_l1`] needs.
    pub fn entry_index(hit: &L1Entry) -> usize {
        hit.entry
    }

    /// [`TlbHierarchy::hit_l1_again`] of the entry at `entry` in the only L1 of
    /// `side` (an [`L1Entry`] of that side, [`TlbHierarchy::entry_index`]).
    #[inline(always)]
    pub fn replay_l1(&mut self, now: Cycle, side: Side, entry: usize) -> Cycle {
        let (only, latency) = self.single[side.index()];
        self.l1[only].hit_again(side, entry);
        now + latency
    }

    /// Does what [`TlbHierarchy::lookup`] at `now` does when it hits `hit`
    /// ([`TlbHierarchy::l1_entry_of`], with nothing filled or invalidated since):
    /// counts and touches the entry, and answers when the hit is known.
    #[inline(always)]
    pub fn hit_l1_again(&mut self, now: Cycle, hit: &L1Entry) -> Cycle {
        self.l1[hit.l1].hit_again(hit.side, hit.entry);
        now + hit.latency
    }

    /// Looks `vaddr` up in the L2 alone, if it serves the access's side, adding its
    /// latency: what follows an L1 miss, and a store that found its L1 entry with
    /// D clear (it goes on as a miss would, so the L2 fill that follows its walk
    /// comes after a counted L2 lookup). A hit is copied into the side's L1.
    pub fn lookup_l2(
        &mut self,
        now: Cycle,
        vaddr: VirtAddr,
        asid: Asid,
        access: AccessKind,
    ) -> HierarchyLookup {
        let side = if access.is_fetch() { &self.fetch } else { &self.data };
        let mut t = now;
        if side.l2 {
            if let Some(l2) = &mut self.l2 {
                t += l2.hit_latency();
                if let Some(hit) = l2.lookup_on(Side::of(access), vaddr, asid) {
                    self.fill_l1(vaddr, hit, asid, access);
                    return HierarchyLookup { translation: Some(hit), done_at: t, from_l1: false };
                }
            }
        }
        HierarchyLookup { translation: None, done_at: t, from_l1: false }
    }

    /// Cycles every lookup so far cost, worked out from the counters (so the
    /// lookup path pays nothing for it): per side, the side's L1 latency per
    /// lookup (its L1s are probed in parallel, and each counts every lookup of the
    /// side, so the first one's count is the side's), plus the L2's latency per L2
    /// lookup (each L1 miss of a side it serves, each D-bit re-lookup). Retries
    /// after a page fault included; since the last [`TlbHierarchy::reset_stats`].
    pub fn lookup_cycles(&self) -> u64 {
        let side = |s: &SideL1s, on: Side| {
            s.l1.first().map_or(0, |&i| self.l1[i].lookups_on(on).saturating_mul(s.latency.as_u64()))
        };
        let l2 = self.l2.as_ref().map_or(0, |t| {
            (t.lookups_on(Side::Instructions) + t.lookups_on(Side::Data))
                .saturating_mul(t.hit_latency().as_u64())
        });
        side(&self.fetch, Side::Instructions).saturating_add(side(&self.data, Side::Data)).saturating_add(l2)
    }

    /// The events of [`TlbHierarchy::lookup`] of `vaddr` at `now`, worked out from
    /// the state now without changing it (call it just before the lookup): the L1
    /// lookup and each L1 probed, then on a miss the L2's, and the L1 fill an L2
    /// hit makes.
    pub fn describe_lookup(&self, now: Cycle, vaddr: VirtAddr, asid: Asid, access: AccessKind) -> Vec<Event> {
        let side = if access.is_fetch() { &self.fetch } else { &self.data };
        let mut events =
            vec![Event::TlbLookup { at: now.as_u64(), level: "L1", cycles: side.latency.as_u64() }];
        let mut hit = false;
        for &i in &side.l1 {
            let probe = self.l1[i].describe_probe(vaddr, asid);
            hit |= matches!(&probe, Event::TlbProbe { hit: Some(_), .. });
            events.push(probe);
        }
        if !hit {
            events.extend(self.describe_lookup_l2(now + side.latency, vaddr, asid, access));
        }
        events
    }

    /// The events of [`TlbHierarchy::lookup_l2`] (see [`TlbHierarchy::describe_lookup`]).
    pub fn describe_lookup_l2(
        &self,
        now: Cycle,
        vaddr: VirtAddr,
        asid: Asid,
        access: AccessKind,
    ) -> Vec<Event> {
        let side = if access.is_fetch() { &self.fetch } else { &self.data };
        let mut events = Vec::new();
        if let (true, Some(l2)) = (side.l2, &self.l2) {
            events.push(Event::TlbLookup {
                at: now.as_u64(),
                level: "L2",
                cycles: l2.hit_latency().as_u64(),
            });
            events.push(l2.describe_probe(vaddr, asid));
            if let Some(t) = l2.peek(vaddr, asid) {
                let l1 = self.l1_for(t.page_shift, access);
                events.extend(l1.and_then(|i| self.l1[i].describe_fill(vaddr, &t, asid)));
            }
        }
        events
    }

    /// The events of [`TlbHierarchy::fill`] of a walked translation: the L2's fill
    /// (and, inclusive, that its victim's L1 copies go), then the L1's.
    pub fn describe_fill(
        &self,
        vaddr: VirtAddr,
        t: &Translation,
        asid: Asid,
        access: AccessKind,
    ) -> Vec<Event> {
        let side = if access.is_fetch() { &self.fetch } else { &self.data };
        let mut events = Vec::new();
        if let (true, Some(l2)) = (side.l2, &self.l2) {
            events.extend(l2.describe_fill(vaddr, t, asid));
        }
        if let Some(i) = self.l1_for(t.page_shift, access) {
            events.extend(self.l1[i].describe_fill(vaddr, t, asid));
        }
        events
    }

    /// The L1 of the side that stores pages of `page` size best: the one holding
    /// that size, else the one splintering it into the largest pieces.
    fn l1_for(&self, page: PageShift, access: AccessKind) -> Option<usize> {
        let side = if access.is_fetch() { &self.fetch } else { &self.data };
        if let [only] = side.l1[..] {
            return self.l1[only].stored_size(page).map(|_| only);
        }
        let mut best: Option<(PageShift, usize)> = None;
        for &i in &side.l1 {
            if let Some(size) = self.l1[i].stored_size(page) {
                if best.is_none_or(|(b, _)| size > b) {
                    best = Some((size, i));
                }
            }
        }
        best.map(|(_, i)| i)
    }

    fn fill_l1(&mut self, vaddr: VirtAddr, t: Translation, asid: Asid, access: AccessKind) {
        if let Some(i) = self.l1_for(t.page_shift, access) {
            // An L1 eviction needs nothing further in either inclusion mode.
            let _ = self.l1[i].fill_on(Side::of(access), vaddr, t, asid);
        }
    }

    /// Installs a walked translation of `vaddr` in the L2 (if it serves the side)
    /// and in the side's L1. In an inclusive hierarchy an L2 eviction first removes
    /// the L1 entries the evicted one covered.
    pub fn fill(&mut self, vaddr: VirtAddr, translation: Translation, asid: Asid, access: AccessKind) {
        let side = if access.is_fetch() { &self.fetch } else { &self.data };
        if side.l2 {
            if let Some(l2) = &mut self.l2 {
                if let Some(evicted) = l2.fill_on(Side::of(access), vaddr, translation, asid) {
                    if self.inclusion == Inclusion::Inclusive {
                        let e = evicted.translation;
                        for l1 in &mut self.l1 {
                            l1.back_invalidate(e.vpn.as_u32(), e.page_shift, evicted.asid);
                        }
                    }
                }
            }
        }
        self.fill_l1(vaddr, translation, asid, access);
    }

    fn all(&mut self) -> impl Iterator<Item = &mut Tlb> {
        self.l1.iter_mut().chain(self.l2.iter_mut())
    }

    /// Flushes every TLB. Returns the entries removed.
    pub fn invalidate_all(&mut self) -> u64 {
        self.invalidations.all += 1;
        self.all().map(Tlb::invalidate_all).sum()
    }
    /// Removes the non-global entries of `asid` everywhere.
    pub fn invalidate_asid(&mut self, asid: Asid) -> u64 {
        self.invalidations.by_asid += 1;
        self.all().map(|t| t.invalidate_asid(asid)).sum()
    }
    /// Removes every entry translating `vaddr` everywhere.
    pub fn invalidate_va(&mut self, vaddr: VirtAddr) -> u64 {
        self.invalidations.by_va += 1;
        self.all().map(|t| t.invalidate_va(vaddr)).sum()
    }
    /// Removes the non-global entries of `asid` translating `vaddr` everywhere.
    pub fn invalidate_va_asid(&mut self, vaddr: VirtAddr, asid: Asid) -> u64 {
        self.invalidations.by_va_asid += 1;
        self.all().map(|t| t.invalidate_va_asid(vaddr, asid)).sum()
    }
    /// The context-switch flush of a machine without ASIDs, where every entry is
    /// tagged with `untagged`: removes all of them but the global ones.
    pub fn flush_for_switch(&mut self, untagged: Asid) -> u64 {
        self.invalidations.context_switch_flushes += 1;
        // Every entry carries the one tag (and the OS maps no global pages): a full flush.
        self.all()
            .map(|t| {
                let n = t.invalidate_asid(untagged);
                t.note_full_flush(n);
                n
            })
            .sum()
    }

    /// Marks the start of an access re-executed after a page fault: every TLB
    /// counts the lookups until [`TlbHierarchy::end_retry`] as retries too.
    pub fn begin_retry(&mut self) {
        self.all().for_each(Tlb::begin_retry);
    }

    /// Marks the end of the retried access.
    pub fn end_retry(&mut self) {
        self.all().for_each(Tlb::end_retry);
    }

    /// Each TLB's name and counters, L1s in config order, then the L2.
    pub fn stats(&self) -> Vec<(String, TlbStats)> {
        self.l1.iter().chain(self.l2.iter()).map(|t| (t.name().to_string(), t.stats())).collect()
    }

    /// Zeroes every counter, keeping every entry (the end of a warm-up).
    pub fn reset_stats(&mut self) {
        self.invalidations = InvalidationStats::default();
        for tlb in self.all() {
            tlb.reset_stats();
        }
    }

    /// The invalidation operations performed.
    pub fn invalidation_stats(&self) -> &InvalidationStats {
        &self.invalidations
    }

    /// Every valid entry of every TLB, with the TLB's name (for checkers and tools).
    pub fn entries(&self) -> Vec<(String, Resident)> {
        self.l1
            .iter()
            .chain(self.l2.iter())
            .flat_map(|t| t.entries().into_iter().map(|r| (t.name().to_string(), r)))
            .collect()
    }

    /// The L1 TLBs, in config order.
    pub fn l1(&self) -> &[Tlb] {
        &self.l1
    }

    /// The position of the TLB named `name` (the L1s in config order, then the
    /// L2), for tools that observe one.
    pub fn position(&self, name: &str) -> Option<usize> {
        self.l1.iter().chain(self.l2.iter()).position(|t| t.name() == name)
    }

    /// The TLB at `position` ([`TlbHierarchy::position`]).
    pub fn at_mut(&mut self, position: usize) -> Option<&mut Tlb> {
        self.all().nth(position)
    }

    /// The L2 TLB.
    pub fn l2(&self) -> Option<&Tlb> {
        self.l2.as_ref()
    }
}

#[cfg(test)]
mod tests;
