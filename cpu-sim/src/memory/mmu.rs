//! The MMU: TLB hierarchy, then the hardware walker (with its page-walk caches)
//! over the page table in DRAM.

use mmu_core::event::{Event, Off, Recorder, Rule};
use mmu_core::{
    AccessKind, AdUpdate, AddressSpace, Asid, Cycle, Fault, FaultKind, Fence, NoWalkCache, PageTableFormat,
    Paging, PagingConfig, PhysAddr, PhysBackdoor, PhysMem, PrivilegeState, Timed, Untimed, VirtAddr,
    WalkRequest, WalkStats, walk, walk_recorded,
};
use serde::{Deserialize, Serialize};
use tlb::{AsidMode, InvalidationStats, L1Entry, TlbHierarchy, TlbHierarchyConfig, TlbStats, WalkCaches};

/// The translation hardware's config: format, A/D policy and privilege state.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct MmuConfig {
    /// The paging format.
    pub format: PagingConfig,
    /// Who sets A/D bits (default `Hardware`).
    #[serde(default)]
    pub ad_update: AdUpdate,
    /// Privilege of the CPU's accesses, and SUM/MXR/WP (default user mode).
    #[serde(default)]
    pub privilege: PrivilegeState,
}

/// MMU counters beyond the TLBs'.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize)]
pub struct MmuStats {
    /// Hardware page walks: counts, PTE reads and A/D writes, cycles and their histogram.
    pub walker: WalkStats,
}

/// The result of translating one address: the physical address or the fault,
/// and when translation finished.
pub type Translated = Timed<Result<PhysAddr, Fault>>;

/// TLBs + walker.
pub struct Mmu {
    format: Paging,
    tlbs: TlbHierarchy,
    walk_caches: WalkCaches,
    asids: AsidMode,
    ad_update: AdUpdate,
    stats: MmuStats,
    /// Moves on whenever a TLB's contents may change (an L2 lookup that may copy
    /// into an L1, a walk's fills, a fence, a flush, a tool's handle on a TLB):
    /// an [`L1Hit`] noted at another epoch is stale.
    epoch: u64,
}

/// An L1 TLB hit of [`Mmu::translate`], noted by [`Mmu::l1_hit_of`] so that a
/// caller translating the same page again can replay it with [`Mmu::hit_again`]
/// instead of searching the TLB: the same hit counted, the same entry touched.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct L1Hit {
    entry: L1Entry,
    epoch: u64,
}

impl L1Hit {
    /// A hit no replay accepts (a placeholder before the first one is noted).
    pub const NONE: L1Hit = L1Hit { entry: L1Entry::PLACEHOLDER, epoch: u64::MAX };
}

impl Mmu {
    /// An MMU with empty TLBs and walk caches, from validated configs; random
    /// replacement policies draw from `seed` (the run seed), salted per structure.
    pub fn new(config: &MmuConfig, tlbs: &TlbHierarchyConfig, seed: u64) -> Self {
        let format = config.format.build();
        let sizes: Vec<mmu_core::PageShift> = format.geometry().leaf_sizes().collect();
        Self {
            tlbs: TlbHierarchy::new(tlbs, &sizes, seed),
            walk_caches: WalkCaches::new(&tlbs.walk_caches, format.geometry(), seed),
            asids: tlbs.asids,
            format,
            ad_update: config.ad_update,
            stats: MmuStats::default(),
            epoch: 0,
        }
    }

    /// The paging format.
    pub fn format(&self) -> &Paging {
        &self.format
    }

    /// The tag TLB and walk-cache entries of address space `asid` carry: the ASID
    /// itself, or 0 for everyone when the machine has no ASIDs.
    #[inline]
    fn tag(&self, asid: Asid) -> Asid {
        match self.asids {
            AsidMode::Tagged => asid,
            AsidMode::Off => UNTAGGED,
        }
    }

    /// Translates `vaddr` for `access` in `space` at `privilege`, starting at `now`.
    ///
    /// A TLB hit checks the cached rights exactly as the walker would. A store that
    /// finds its L1 entry with D clear goes on to the L2 as a miss would (a counted,
    /// timed L2 lookup): an L2 entry with D set serves it; otherwise it walks again
    /// so the PTE's D bit gets set, and the walk fills the L2 and the L1. So every L2
    /// fill follows a counted L2 lookup, and the L2's replacement order sees every
    /// lookup that reached it.
    #[inline(always)]
    pub fn translate<M: PhysMem>(
        &mut self,
        now: Cycle,
        dram: &mut M,
        space: AddressSpace,
        privilege: &PrivilegeState,
        vaddr: VirtAddr,
        access: AccessKind,
    ) -> Translated {
        self.translate_recorded(now, dram, space, privilege, vaddr, access, Off)
    }

    /// [`Mmu::translate`], telling `rec` each step: the TLB lookups and probes,
    /// the cached translation's checks on a hit, the walk-cache probes, the walk
    /// (through [`walk_recorded`]) and the TLB fills. With [`Off`] it is exactly
    /// `translate`. `dram` should be a [`mmu_core::dram::RecordedDram`] on the
    /// same recorder for the DRAM requests to be told too.
    #[inline]
    #[allow(clippy::too_many_arguments)]
    pub fn translate_recorded<M: PhysMem, R: Recorder>(
        &mut self,
        now: Cycle,
        dram: &mut M,
        space: AddressSpace,
        privilege: &PrivilegeState,
        vaddr: VirtAddr,
        access: AccessKind,
        rec: R,
    ) -> Translated {
        let tag = self.tag(space.asid);
        if R::ON {
            self.tlbs.describe_lookup(now, vaddr, tag, access).into_iter().for_each(|e| rec.record(e));
        }
        let lookup = self.tlbs.lookup(now, vaddr, tag, access);
        if !lookup.from_l1 {
            // The L2 was looked up: a hit there is copied into an L1.
            self.epoch += 1;
        }
        let mut done = lookup.done_at;
        if let Some(t) = lookup.translation {
            let permitted = self.format.permits(t.perms, access, privilege);
            if R::ON {
                rec.record(Event::TlbCheck {
                    rule: Rule::Permission,
                    passed: permitted,
                    detail: format!(
                        "cached rights {} for a {access:?} in {:?} mode",
                        t.perms, privilege.mode
                    ),
                });
            }
            if !permitted {
                let fault = Fault { kind: FaultKind::Protection, vaddr, access, level: None };
                return Timed { value: Err(fault), ready_at: lookup.done_at };
            }
            if access != AccessKind::Write || t.dirty {
                return Timed { value: Ok(t.phys_addr(vaddr)), ready_at: lookup.done_at };
            }
            if R::ON {
                rec.record(Event::TlbCheck {
                    rule: Rule::AccessedDirty,
                    passed: false,
                    detail: "a store, and the entry's D bit is clear: it goes on as a miss".to_string(),
                });
            }
            if lookup.from_l1 {
                self.epoch += 1;
                if R::ON {
                    self.tlbs
                        .describe_lookup_l2(done, vaddr, tag, access)
                        .into_iter()
                        .for_each(|e| rec.record(e));
                }
                let l2 = self.tlbs.lookup_l2(done, vaddr, tag, access);
                done = l2.done_at;
                if let Some(t) = l2.translation {
                    if t.dirty && self.format.permits(t.perms, access, privilege) {
                        return Timed { value: Ok(t.phys_addr(vaddr)), ready_at: done };
                    }
                }
            }
        }
        let request = WalkRequest {
            root: space.root,
            asid: tag,
            vaddr,
            access,
            state: *privilege,
            ad_update: self.ad_update,
        };
        self.walk(done, dram, &request, rec)
    }

    #[inline(never)]
    fn walk<M: PhysMem, R: Recorder>(
        &mut self,
        now: Cycle,
        dram: &mut M,
        request: &WalkRequest,
        rec: R,
    ) -> Translated {
        self.epoch += 1;
        if R::ON {
            self.walk_caches
                .describe_probes(request.asid, request.vaddr)
                .into_iter()
                .for_each(|e| rec.record(e));
        }
        let out = walk_recorded(&self.format, dram, &mut self.walk_caches, now, request, rec);
        self.stats.walker.record(&out);
        if R::ON {
            rec.record(Event::WalkDone { translation: out.result.ok().as_ref().map(tlb::set_assoc::cached) });
        }
        let result = out.result.map(|t| {
            if R::ON {
                let (vaddr, asid, access) = (request.vaddr, request.asid, request.access);
                self.tlbs.describe_fill(vaddr, &t, asid, access).into_iter().for_each(|e| rec.record(e));
            }
            self.tlbs.fill(request.vaddr, t, request.asid, request.access);
            t.phys_addr(request.vaddr)
        });
        Timed { value: result, ready_at: out.done_at }
    }

    /// The L1 hit [`Mmu::translate`] of `vaddr` in `space` at `privilege` for
    /// `access` would make now, and the physical address it would answer, when it
    /// would answer from the side's L1 alone (the side has one L1, the entry is
    /// there, its rights permit the access and a store finds D set): for
    /// [`Mmu::hit_again`]. Changes nothing.
    #[inline]
    pub fn l1_hit_of(
        &self,
        space: AddressSpace,
        privilege: &PrivilegeState,
        vaddr: VirtAddr,
        access: AccessKind,
    ) -> Option<(L1Hit, PhysAddr)> {
        let (entry, t) = self.tlbs.l1_entry_of(vaddr, self.tag(space.asid), access)?;
        let served =
            self.format.permits(t.perms, access, privilege) && (access != AccessKind::Write || t.dirty);
        served.then(|| (L1Hit { entry, epoch: self.epoch }, t.phys_addr(vaddr)))
    }

    /// Replays `hit` for an `access` issued at `now`, as [`Mmu::translate`] of an
    /// address in the same smallest page, in the same address space, at the same
    /// privilege and for the same kind of access would hit again: the L1 counts
    /// the hit and its policy sees the use. Answers when the hit is known, or
    /// `None`, touching nothing, if the TLBs may have changed since the hit was
    /// noted (then translate). The physical page is the caller's to remember: it
    /// cannot change while the entry stays.
    #[inline(always)]
    pub fn hit_again(&mut self, now: Cycle, hit: &L1Hit) -> Option<Cycle> {
        (hit.epoch == self.epoch).then(|| self.tlbs.hit_l1_again(now, &hit.entry))
    }

    /// The TLBs' epoch: it moves whenever an entry may have come, gone or
    /// changed, so a hit noted at another epoch is stale.
    #[inline(always)]
    pub fn epoch(&self) -> u64 {
        self.epoch
    }

    /// The epoch `hit` was noted at and its entry's position in its side's only
    /// L1: what [`Mmu::replay_l1`] replays it from.
    pub fn parts_of(hit: &L1Hit) -> (u64, usize) {
        (hit.epoch, TlbHierarchy::entry_index(&hit.entry))
    }

    /// [`Mmu::hit_again`] of a current hit (noted at [`Mmu::epoch`]) of an
    /// access of `side` on the entry at `entry` of the side's only L1
    /// ([`Mmu::parts_of`]): the hit counted, the entry touched, and when the hit
    /// is known.
    #[inline(always)]
    pub fn replay_l1(&mut self, now: Cycle, side: tlb::Side, entry: usize) -> Cycle {
        self.tlbs.replay_l1(now, side, entry)
    }

    /// The L1 TLBs open for a run of hits ([`tlb::TlbHierarchy::open_replay`]).
    pub fn open_replay(&mut self) -> Option<tlb::HitReplay<'_>> {
        self.tlbs.open_replay()
    }

    /// [`Mmu::translate`] for an access re-executed after a page fault: its TLB and
    /// walk-cache lookups also count in their `retry_lookups` and `retry_misses`.
    #[inline(never)]
    #[allow(clippy::too_many_arguments)]
    pub fn retranslate<M: PhysMem, R: Recorder>(
        &mut self,
        now: Cycle,
        dram: &mut M,
        space: AddressSpace,
        privilege: &PrivilegeState,
        vaddr: VirtAddr,
        access: AccessKind,
        rec: R,
    ) -> Translated {
        self.tlbs.begin_retry();
        self.walk_caches.begin_retry();
        let out = self.translate_recorded(now, dram, space, privilege, vaddr, access, rec);
        self.tlbs.end_retry();
        self.walk_caches.end_retry();
        out
    }

    /// Translates `vaddr` functionally, for a run's skipped prefix (`window.skip`):
    /// a walk of the page table through `mem`'s back door ([`Untimed`]), with no
    /// TLB or walk-cache lookup or fill, no DRAM timing and no counter. The A/D
    /// bits are still set as `ad_update` says (they are memory), and the same
    /// faults are raised as a timed walk would raise.
    pub fn translate_functional<M: PhysMem + PhysBackdoor>(
        &self,
        mem: &mut M,
        space: AddressSpace,
        privilege: &PrivilegeState,
        vaddr: VirtAddr,
        access: AccessKind,
    ) -> Result<PhysAddr, Fault> {
        let request = WalkRequest {
            root: space.root,
            asid: self.tag(space.asid),
            vaddr,
            access,
            state: *privilege,
            ad_update: self.ad_update,
        };
        let out = walk(&self.format, &mut Untimed(mem), &mut NoWalkCache, Cycle::ZERO, &request);
        out.result.map(|t| t.phys_addr(vaddr))
    }

    /// Makes `space` the address space being translated for (a context switch).
    ///
    /// With ASID tags nothing needs flushing: entries of other address spaces simply
    /// stop matching. Without, every non-global TLB and walk-cache entry goes (the
    /// flush is counted in `tlb_invalidations.context_switch_flushes`, the entries in
    /// each structure's `invalidations`).
    pub fn switch_to(&mut self, _space: AddressSpace) {
        self.epoch += 1;
        match self.asids {
            AsidMode::Tagged => {}
            AsidMode::Off => {
                self.tlbs.flush_for_switch(UNTAGGED);
                self.walk_caches.invalidate_asid(UNTAGGED);
            }
        }
    }

    /// Applies a fence (RISC-V `sfence.vma rs1, rs2`) to the TLBs and the walk
    /// caches: `vaddr` `None` is `rs1 = x0` (every address), `asid` `None` is
    /// `rs2 = x0` (every address space, global entries included); with an ASID,
    /// global entries are kept. Counted by kind in the report's
    /// `tlb_invalidations`. Returns the TLB entries removed (walk-cache entries
    /// are counted in each level's `invalidations`). Without ASIDs every entry
    /// carries one tag, so a fence for another address space's page also drops
    /// the running one's entry for it: more than needed, never less.
    ///
    /// The spec lets a `vaddr` fence keep non-leaf entries; this one drops the walk-
    /// cache entries on the path too, so the OS may also change pointer PTEs.
    pub fn fence(&mut self, fence: Fence) -> u64 {
        self.epoch += 1;
        let tag = fence.asid.map(|a| self.tag(a));
        match (fence.vaddr, tag) {
            (None, None) => {
                self.walk_caches.invalidate_all();
                self.tlbs.invalidate_all()
            }
            (None, Some(tag)) => {
                self.walk_caches.invalidate_asid(tag);
                self.tlbs.invalidate_asid(tag)
            }
            (Some(vaddr), None) => {
                self.walk_caches.invalidate_va(vaddr);
                self.tlbs.invalidate_va(vaddr)
            }
            (Some(vaddr), Some(tag)) => {
                self.walk_caches.invalidate_va_asid(vaddr, tag);
                self.tlbs.invalidate_va_asid(vaddr, tag)
            }
        }
    }

    /// Zeroes every counter of the TLBs, walk caches and walker, keeping every
    /// cached entry (the end of a warm-up).
    pub fn reset_stats(&mut self) {
        self.stats = MmuStats::default();
        self.tlbs.reset_stats();
        self.walk_caches.reset_stats();
    }

    /// The position of the TLB named `name`, to observe it (a miss-ratio curve's tap).
    pub fn tlb_position(&self, name: &str) -> Option<usize> {
        self.tlbs.position(name)
    }

    /// The reference tap of the TLB at `position` ([`Mmu::tlb_position`]), if
    /// it records one, to drain it: the TLBs' entries stay as they are, so
    /// hits noted before stay current.
    pub fn tap_at_mut(&mut self, position: usize) -> Option<&mut tlb::ReferenceTap> {
        self.tlbs.at_mut(position).and_then(tlb::Tlb::tap_mut)
    }

    /// The TLB at `position` ([`Mmu::tlb_position`]).
    pub fn tlb_at_mut(&mut self, position: usize) -> Option<&mut tlb::Tlb> {
        self.epoch += 1;
        self.tlbs.at_mut(position)
    }

    /// Cycles of TLB lookups since the last reset: of each translation, the time
    /// from its start to its TLB answer or the start of its walk (L1 latency, the
    /// L2's after an L1 miss or for a store's D-bit re-lookup, again for a retry
    /// after a page fault). See [`TlbHierarchy::lookup_cycles`].
    pub fn lookup_cycles(&self) -> u64 {
        self.tlbs.lookup_cycles()
    }

    /// Counters.
    pub fn stats(&self) -> &MmuStats {
        &self.stats
    }

    /// Each TLB's name and counters, in config order.
    pub fn tlb_stats(&self) -> Vec<(String, TlbStats)> {
        self.tlbs.stats()
    }

    /// Each walk-cache level's name and counters, in config order.
    pub fn walk_cache_stats(&self) -> Vec<(String, TlbStats)> {
        self.walk_caches.stats()
    }

    /// The invalidation operations the TLBs performed, by kind.
    pub fn invalidation_stats(&self) -> InvalidationStats {
        self.tlbs.invalidation_stats().clone()
    }

    /// The TLBs (for checkers: their resident entries).
    pub fn tlbs(&self) -> &TlbHierarchy {
        &self.tlbs
    }

    /// The page-walk caches (for checkers: their resident entries).
    pub fn walk_caches(&self) -> &WalkCaches {
        &self.walk_caches
    }
}

/// The one tag every entry carries when the machine has no ASIDs.
const UNTAGGED: Asid = Asid::new(0);
