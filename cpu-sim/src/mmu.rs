//! The MMU: TLB hierarchy, then the hardware walker over the page table in DRAM.

use mmu_core::walker::NoWalkCache;
use mmu_core::{
    AccessKind, AdUpdate, Asid, Cycle, Dram, Fault, FaultKind, PageTableFormat, Paging, PagingConfig,
    PhysAddr, PrivilegeState, VirtAddr, WalkRequest, WalkStats, walk,
};
use serde::{Deserialize, Serialize};
use tlb::{TlbHierarchy, TlbHierarchyConfig, TlbStats};

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
    ad_update: AdUpdate,
    privilege: PrivilegeState,
    stats: MmuStats,
}

impl Mmu {
    /// An MMU with empty TLBs, from validated configs.
    pub fn new(config: &MmuConfig, tlbs: &TlbHierarchyConfig) -> Self {
        let format = config.format.build();
        let sizes: Vec<u8> = format.geometry().leaf_sizes().collect();
        Self {
            tlbs: TlbHierarchy::new(tlbs, &sizes),
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
        let lookup = self.tlbs.lookup(now, vaddr, space.asid, access);
        if let Some(t) = lookup.translation {
            if !self.format.permits(t.perms, access, &self.privilege) {
                let fault = Fault { kind: FaultKind::Protection, vaddr, access, level: None };
                return Translated { result: Err(fault), done_at: lookup.done_at };
            }
            if access != AccessKind::Write || t.dirty {
                return Translated { result: Ok(t.phys_addr(vaddr)), done_at: lookup.done_at };
            }
        }
        self.walk(lookup.done_at, dram, space, vaddr, access)
    }

    #[inline(never)]
    fn walk(
        &mut self,
        now: Cycle,
        dram: &mut Dram,
        space: AddressSpace,
        vaddr: VirtAddr,
        access: AccessKind,
    ) -> Translated {
        let req = WalkRequest {
            root: space.root,
            asid: space.asid,
            vaddr,
            access,
            state: self.privilege,
            ad_update: self.ad_update,
        };
        let out = walk(&self.format, dram, &mut NoWalkCache, now, &req);
        self.stats.walker.record(&out);
        let result = out.result.map(|t| {
            self.tlbs.fill(t, space.asid, access);
            t.phys_addr(vaddr)
        });
        Translated { result, done_at: out.done_at }
    }

    /// Makes `space` the address space being translated for (a context switch).
    ///
    /// TLB entries are ASID-tagged, so nothing needs flushing: entries of other
    /// address spaces simply stop matching.
    pub fn switch_to(&mut self, _space: AddressSpace) {}

    /// Removes every cached translation of `vaddr` in address space `asid`, after
    /// the OS changed its PTE (`sfence.vma vaddr, asid`). Returns the entries removed.
    pub fn invalidate_page(&mut self, vaddr: VirtAddr, asid: Asid) -> u64 {
        self.tlbs.invalidate_va_asid(vaddr, asid)
    }

    /// Counters.
    pub fn stats(&self) -> &MmuStats {
        &self.stats
    }

    /// Each TLB's name and counters, in config order.
    pub fn tlb_stats(&self) -> Vec<(String, TlbStats)> {
        self.tlbs.stats()
    }

    /// The TLBs, for invalidations by the OS.
    pub fn tlbs_mut(&mut self) -> &mut TlbHierarchy {
        &mut self.tlbs
    }
}
