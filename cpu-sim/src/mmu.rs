//! The MMU: TLB hierarchy, then the hardware walker (with its page-walk caches)
//! over the page table in DRAM.

use mmu_core::{
    AccessKind, AdUpdate, Asid, Cycle, Dram, Fault, FaultKind, PageTableFormat, Paging, PagingConfig,
    PhysAddr, PrivilegeState, VirtAddr, WalkRequest, WalkStats, walk,
};
use serde::{Deserialize, Serialize};
use tlb::{AsidMode, InvalidationStats, TlbHierarchy, TlbHierarchyConfig, TlbStats, WalkCaches};

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

/// The address space being translated for: the running process's ASID and root.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct AddressSpace {
    /// Tags TLB entries.
    pub asid: Asid,
    /// The root page table.
    pub root: PhysAddr,
}

/// MMU counters beyond the TLBs'.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize)]
pub struct MmuStats {
    /// Hardware page walks: counts, PTE reads and A/D writes, cycles and their histogram.
    pub walker: WalkStats,
}

/// The result of translating one address.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Translated {
    /// The physical address, or the fault.
    pub result: Result<PhysAddr, Fault>,
    /// When translation finished.
    pub done_at: Cycle,
}

/// TLBs + walker.
pub struct Mmu {
    format: Paging,
    tlbs: TlbHierarchy,
    walk_caches: WalkCaches,
    asids: AsidMode,
    ad_update: AdUpdate,
    privilege: PrivilegeState,
    stats: MmuStats,
}

impl Mmu {
    /// An MMU with empty TLBs and walk caches, from validated configs; random
    /// replacement policies draw from `seed` (the run seed), salted per structure.
    pub fn new(config: &MmuConfig, tlbs: &TlbHierarchyConfig, seed: u64) -> Self {
        let format = config.format.build();
        let sizes: Vec<u8> = format.geometry().leaf_sizes().collect();
        Self {
            tlbs: TlbHierarchy::new(tlbs, &sizes, seed),
            walk_caches: WalkCaches::new(&tlbs.walk_caches, format.geometry(), seed),
            asids: tlbs.asids,
            format,
            ad_update: config.ad_update,
            privilege: config.privilege,
            stats: MmuStats::default(),
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

    /// Translates `vaddr` for `access` in `space`, starting at `now`.
    ///
    /// A TLB hit checks the cached rights exactly as the walker would; a store that
    /// hits an entry whose D bit is clear walks again so the PTE's D bit gets set.
    #[inline]
    pub fn translate(
        &mut self,
        now: Cycle,
        dram: &mut Dram,
        space: AddressSpace,
        vaddr: VirtAddr,
        access: AccessKind,
    ) -> Translated {
        let tag = self.tag(space.asid);
        let lookup = self.tlbs.lookup(now, vaddr, tag, access);
        if let Some(t) = lookup.translation {
            if !self.format.permits(t.perms, access, &self.privilege) {
                let fault = Fault { kind: FaultKind::Protection, vaddr, access, level: None };
                return Translated { result: Err(fault), done_at: lookup.done_at };
            }
            if access != AccessKind::Write || t.dirty {
                return Translated { result: Ok(t.phys_addr(vaddr)), done_at: lookup.done_at };
            }
        }
        self.walk(lookup.done_at, dram, space.root, tag, vaddr, access)
    }

    #[inline(never)]
    fn walk(
        &mut self,
        now: Cycle,
        dram: &mut Dram,
        root: PhysAddr,
        tag: Asid,
        vaddr: VirtAddr,
        access: AccessKind,
    ) -> Translated {
        let req =
            WalkRequest { root, asid: tag, vaddr, access, state: self.privilege, ad_update: self.ad_update };
        let out = walk(&self.format, dram, &mut self.walk_caches, now, &req);
        self.stats.walker.record(&out);
        let result = out.result.map(|t| {
            self.tlbs.fill(vaddr, t, tag, access);
            t.phys_addr(vaddr)
        });
        Translated { result, done_at: out.done_at }
    }

    /// Makes `space` the address space being translated for (a context switch).
    ///
    /// With ASID tags nothing needs flushing: entries of other address spaces simply
    /// stop matching. Without, every non-global TLB and walk-cache entry goes (the
    /// flush is counted in `tlb_invalidations.context_switch_flushes`, the entries in
    /// each structure's `invalidations`).
    pub fn switch_to(&mut self, _space: AddressSpace) {
        match self.asids {
            AsidMode::Tagged => {}
            AsidMode::Off => {
                self.tlbs.flush_for_switch(UNTAGGED);
                self.walk_caches.invalidate_asid(UNTAGGED);
            }
        }
    }

    /// Removes every cached translation of `vaddr` in address space `asid`, and the
    /// walk-cache entries on its path, after the OS changed a PTE of that path
    /// (`sfence.vma vaddr, asid`). Returns the TLB entries removed. Without ASIDs
    /// every entry carries one tag, so this also drops the running process's entry
    /// for `vaddr` if `asid` is another's: more than needed, never less.
    pub fn invalidate_page(&mut self, vaddr: VirtAddr, asid: Asid) -> u64 {
        self.sfence_vma(Some(vaddr), Some(asid))
    }

    /// RISC-V `sfence.vma rs1, rs2` on the TLBs and the walk caches: `vaddr` `None`
    /// is `rs1 = x0` (every address), `asid` `None` is `rs2 = x0` (every address
    /// space, global entries included); with an ASID, global entries are kept.
    /// Counted by kind in the report's `tlb_invalidations`. Returns the TLB entries
    /// removed (walk-cache entries are counted in each level's `invalidations`).
    ///
    /// The spec lets a `vaddr` fence keep non-leaf entries; this one drops the walk-
    /// cache entries on the path too, so the OS may also change pointer PTEs.
    pub fn sfence_vma(&mut self, vaddr: Option<VirtAddr>, asid: Option<Asid>) -> u64 {
        let tag = asid.map(|a| self.tag(a));
        match (vaddr, tag) {
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

    /// The TLBs, for invalidations by the OS. Prefer [`Mmu::sfence_vma`], which also
    /// maps the ASID when ASIDs are off and drops walk-cache entries.
    pub fn tlbs_mut(&mut self) -> &mut TlbHierarchy {
        &mut self.tlbs
    }
}

/// The one tag every entry carries when the machine has no ASIDs.
const UNTAGGED: Asid = Asid::new(0);

#[cfg(test)]
mod tests {
    use super::*;
    use crate::os::{Os, Resolution};
    use crate::parse_config;
    use mmu_core::Pid;

    /// Two processes each touch pages 0x1000 and 0x2000 (and so their root PTE); then
    /// each kind of fence removes exactly its share of the 4 TLB and 2 PDE entries.
    #[test]
    fn each_kind_of_sfence_vma_removes_its_share() {
        let text = r#"(
            seed: 1, cpu: (cycles_per_access: 1), mmu: (format: Sv32),
            tlb: (l1: [(name: "l1d", serves: Data, entries: 16, ways: 4, hit_latency: 1)],
                  walk_caches: [(name: "pde", pte_level: 1, entries: 4, ways: 4, hit_latency: 1)]),
            dram: (capacity_bytes: 0x100000, timing: Fixed(latency: 1)),
            os: (trap_cycles: 1, demand_zero_cycles: 1),
            processes: [
                (name: "A", regions: [(name: "d", base: 0x1000, size: 0x2000, perms: "rw-")]),
                (name: "B", regions: [(name: "d", base: 0x1000, size: 0x2000, perms: "rw-")]),
            ],
            workload: Trace(path: "unused"),
        )"#;
        let config = parse_config(text, "t.ron").unwrap();
        let fresh = || {
            let mut dram = Dram::new(&config.dram);
            let mut mmu = Mmu::new(&config.mmu, &config.tlb, 1);
            let mut os = Os::boot(
                &config.os,
                &config.processes,
                mmu.format(),
                config.mmu.privilege,
                config.seed,
                &mut dram,
            )
            .unwrap();
            for pid in [0, 1] {
                let p = os.process(Pid::new(pid)).unwrap();
                let space = AddressSpace { asid: p.asid, root: p.root };
                for va in [0x1000, 0x2000] {
                    for _ in 0..2 {
                        let out =
                            mmu.translate(Cycle::ZERO, &mut dram, space, VirtAddr::new(va), AccessKind::Read);
                        if let Err(fault) = out.result {
                            let r = os.handle_fault(&mut dram, &mut mmu, Pid::new(pid), fault).unwrap();
                            assert!(matches!(r, Resolution::Retry { .. }));
                        }
                    }
                }
            }
            assert_eq!((mmu.tlbs().entries().len(), mmu.walk_caches().entries().len()), (4, 2));
            mmu
        };
        let (a, b) = (Asid::new(0), Asid::new(1));
        let page = Some(VirtAddr::new(0x1004));
        let cases: [(Option<VirtAddr>, Option<Asid>, u64, usize); 4] = [
            (None, None, 4, 0),    // everything
            (None, Some(b), 2, 1), // B's pages and B's root PTE
            (page, None, 2, 0),    // page 1 of both, and both root PTEs on its path
            (page, Some(a), 1, 1), // A's page 1 and A's root PTE
        ];
        for (vaddr, asid, tlb_removed, pde_left) in cases {
            let mut mmu = fresh();
            assert_eq!(mmu.sfence_vma(vaddr, asid), tlb_removed, "{vaddr:?} {asid:?}");
            assert_eq!(mmu.walk_caches().entries().len(), pde_left, "{vaddr:?} {asid:?}");
            let ops = mmu.invalidation_stats();
            assert_eq!(ops.all + ops.by_asid + ops.by_va + ops.by_va_asid, 1);
        }
        let mut mmu = fresh();
        assert_eq!(mmu.invalidate_page(VirtAddr::new(0x2000), b), 1);
        assert_eq!(mmu.invalidation_stats().by_va_asid, 1);
    }
}
