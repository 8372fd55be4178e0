//! The hardware page walker: one loop for every format, driven by its geometry and
//! its PTE decoding, following the steps of the RISC-V spec's "Virtual Address
//! Translation Process" (Sv32 section, steps 1-8). IA-32's rules (SDM Vol. 3A, 4.3,
//! 4.6-4.8) fit the same loop: its pointers carry rights that are ANDed down the walk
//! and A bits the walker sets, which the format's [`PteView`] exposes.
//!
//! Walk statistics (counts, PTE traffic, a latency histogram) live in [`WalkStats`].

mod stats;

pub use stats::{HistogramBucket, LatencyHistogram, WalkStats};

use crate::access::{AccessKind, PrivilegeState};
use crate::addr::{Asid, PageShift, PhysAddr, VirtAddr, Vpn};
use crate::event::{Event, Hex, Off, Recorder, Rule};
use crate::fault::{Fault, FaultKind};
use crate::format::{AdUpdate, MAX_LEVELS, PageTableFormat, PteView};
use crate::mem::{PhysMem, Traffic};
use crate::perms::Perms;
use crate::time::{Cycle, Timed};

/// A successful translation: what a TLB entry caches.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Translation {
    /// Virtual page number at the granularity of the mapped page (`vaddr >> page_shift`).
    pub vpn: Vpn,
    /// The size of the page the mapping covers (4 KiB, or a 4 MiB megapage...).
    pub page_shift: PageShift,
    /// Physical address of the first byte of the (super)page.
    pub page_base: PhysAddr,
    /// Effective rights (the leaf's, intersected with its pointers' in IA-32).
    pub perms: Perms,
    /// Global mapping: matches in every address space.
    pub global: bool,
    /// The leaf's D bit is set, so a store may complete from the TLB.
    pub dirty: bool,
}

impl Translation {
    /// The physical address of `vaddr`, which must lie in this translation's page.
    #[inline]
    pub const fn phys_addr(&self, vaddr: VirtAddr) -> PhysAddr {
        PhysAddr::new(self.page_base.as_u64() | vaddr.page_offset(self.page_shift) as u64)
    }
}

/// Where a walk may start instead of the root: a page-walk cache hit.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct WalkStart {
    /// The level whose table `table` is.
    pub level: u8,
    /// Physical address of that table.
    pub table: PhysAddr,
    /// Rights accumulated by the pointers above it.
    pub perms: Perms,
    /// Whether a pointer above was global.
    pub global: bool,
}

/// A cache of upper-level PTEs that the walker consults before reading DRAM
/// (the page-structure caches of Barr, Cox and Rixner, ISCA 2010).
///
/// Defined here, where the walker calls it; the `tlb` crate implements it.
pub trait WalkCache {
    /// The deepest cached table for `vaddr`, and the cycle at which the answer is known.
    fn lookup(&mut self, now: Cycle, asid: Asid, vaddr: VirtAddr) -> Timed<Option<WalkStart>>;
    /// Records that the table for `start.level` on the path of `vaddr` is `start.table`.
    fn fill(&mut self, asid: Asid, vaddr: VirtAddr, start: WalkStart);
}

/// No page-walk cache: every walk starts at the root.
#[derive(Clone, Copy, Debug, Default)]
pub struct NoWalkCache;

impl WalkCache for NoWalkCache {
    #[inline]
    fn lookup(&mut self, now: Cycle, _: Asid, _: VirtAddr) -> Timed<Option<WalkStart>> {
        Timed { value: None, ready_at: now }
    }
    #[inline]
    fn fill(&mut self, _: Asid, _: VirtAddr, _: WalkStart) {}
}

/// One translation to perform.
#[derive(Clone, Copy, Debug)]
pub struct WalkRequest {
    /// Physical address of the root table (`satp.PPN × PAGESIZE`, IA-32 `CR3`).
    pub root: PhysAddr,
    /// The address space, for walk-cache tags.
    pub asid: Asid,
    /// The address to translate.
    pub vaddr: VirtAddr,
    /// The access that needs it.
    pub access: AccessKind,
    /// Privilege, SUM, MXR, WP.
    pub state: PrivilegeState,
    /// Whether the walker sets A/D itself or faults.
    pub ad_update: AdUpdate,
}

/// What a walk did and found.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct WalkOutcome {
    /// The translation, or the fault that stopped the walk.
    pub result: Result<Translation, Fault>,
    /// When the walk started (the `now` it was called with).
    pub started_at: Cycle,
    /// When the walk finished.
    pub done_at: Cycle,
    /// PTEs read from DRAM.
    pub pte_reads: u32,
    /// PTEs written back to DRAM to set A/D bits.
    pub pte_writes: u32,
}

impl WalkOutcome {
    /// Cycles from the start of the walk to its end, walk-cache lookup included.
    pub const fn latency(&self) -> crate::time::Cycles {
        self.done_at.since(self.started_at)
    }
}

/// Walks the page table of `req` in `mem`, consulting and filling `cache`.
#[inline(always)]
pub fn walk<F, M, C>(format: &F, mem: &mut M, cache: &mut C, now: Cycle, req: &WalkRequest) -> WalkOutcome
where
    F: PageTableFormat + ?Sized,
    M: PhysMem + ?Sized,
    C: WalkCache + ?Sized,
{
    walk_recorded(format, mem, cache, now, req, Off)
}

/// [`walk`], telling `rec` each step: where the walk starts, each PTE's address
/// and value, each check of the specification with its outcome, each A/D write.
/// With [`Off`] it is exactly [`walk`].
pub fn walk_recorded<F, M, C, R>(
    format: &F,
    mem: &mut M,
    cache: &mut C,
    now: Cycle,
    req: &WalkRequest,
    rec: R,
) -> WalkOutcome
where
    F: PageTableFormat + ?Sized,
    M: PhysMem + ?Sized,
    C: WalkCache + ?Sized,
    R: Recorder,
{
    let check = |rule: Rule, level: u8, passed: bool| {
        if R::ON {
            rec.record(Event::Check { rule, level, passed });
        }
    };
    let geometry = *format.geometry();
    let va = req.vaddr;
    let mut out = WalkOutcome {
        result: Err(fault(req, FaultKind::NotPresent, None)),
        started_at: now,
        done_at: now,
        pte_reads: 0,
        pte_writes: 0,
    };

    // Step 1: "Let a be satp.ppn × PAGESIZE, and let i = LEVELS − 1." A walk-cache hit
    // starts lower down, with the rights and global bit of the pointers it skipped.
    let Timed { value: cached, ready_at: t } = cache.lookup(now, req.asid, va);
    let mut t = t;
    let start = cached.unwrap_or(WalkStart {
        level: geometry.root_level(),
        table: req.root,
        perms: Perms::ALL,
        global: false,
    });
    let (mut level, mut table, mut perms, mut global) = (start.level, start.table, start.perms, start.global);
    if R::ON {
        rec.record(Event::WalkStart {
            at: now.as_u64(),
            cycles: t.since(now).as_u64(),
            level,
            table: Hex(table.as_u64()),
            cached: cached.is_some(),
        });
    }
    // Pointers whose A bit the walker must set (IA-32), written once the walk has
    // succeeded: Intel processors "first perform the page table walk, then, if the
    // walk was successful, ... update the accessed and dirty bits of walked paging
    // elements" (as KVM's MMU and Bochs model it; SDM 4.8 leaves the order open).
    // Their walk-cache entries wait with them: "The processor does not create a
    // PDE-cache entry unless the accessed flag is 1 in the PDE in memory; before
    // caching a translation, the processor sets the accessed flag" (SDM 4.10.3.1).
    // Otherwise a walk that faults below would leave a cached PDE whose A bit is 0,
    // and later walks, skipping that PDE, would never set it.
    let mut pending_accessed: [(PhysAddr, u32, WalkStart); MAX_LEVELS] =
        [(PhysAddr::new(0), 0, start); MAX_LEVELS];
    let mut pending = 0;

    loop {
        // Step 2: "Let pte be the value of the PTE at address a + va.vpn[i] × PTESIZE.
        // If accessing pte violates a PMA or PMP check, raise an access-fault exception."
        let pte_addr = geometry.pte_addr(table, va, level);
        if R::ON {
            rec.record(Event::PteAddress {
                level,
                table: Hex(table.as_u64()),
                index: geometry.index(va, level),
                pte_bytes: geometry.pte_bytes(),
                addr: Hex(pte_addr.as_u64()),
            });
        }
        let in_memory = mem.contains(pte_addr);
        check(Rule::PteInMemory, level, in_memory);
        if !in_memory {
            out.result = Err(fault(req, FaultKind::AccessFault, Some(level)));
            break;
        }
        let read = mem.read(t, pte_addr, Traffic::PageTable);
        t = read.ready_at;
        out.pte_reads += 1;
        let raw = read.value;
        let view = format.decode(raw, level);
        if R::ON {
            let (kind, target) = match view {
                PteView::Invalid => ("invalid", None),
                PteView::Reserved => ("reserved", None),
                PteView::Pointer { next, .. } => ("pointer", Some(Hex(next.as_u64()))),
                PteView::Leaf { ppn, .. } => ("leaf", Some(Hex(ppn.base(geometry.page_shift()).as_u64()))),
            };
            rec.record(Event::PteValue { level, raw: Hex(u64::from(raw)), kind, target });
            check(Rule::Valid, level, view != PteView::Invalid);
            if view != PteView::Invalid {
                check(Rule::NotReserved, level, view != PteView::Reserved);
            }
        }

        match view {
            // Step 3: V = 0 or a reserved encoding is a page fault.
            PteView::Invalid => {
                out.result = Err(fault(req, FaultKind::NotPresent, Some(level)));
                break;
            }
            PteView::Reserved => {
                out.result = Err(fault(req, FaultKind::Reserved, Some(level)));
                break;
            }
            // Step 4: a pointer. "Let i = i − 1. If i < 0, stop and raise a page-fault
            // exception. Otherwise, let a = pte.ppn × PAGESIZE and go to step 2."
            PteView::Pointer { next, perms: granted, accessed, global: pointer_global } => {
                check(Rule::PointerAboveLeaf, level, level != 0);
                if level == 0 {
                    out.result = Err(fault(req, FaultKind::Reserved, Some(level)));
                    break;
                }
                perms = perms.intersect(granted);
                // Sv32: "For non-leaf PTEs, the global setting implies that all mappings
                // in the subsequent levels of the page table are global."
                global = global || pointer_global;
                level -= 1;
                table = next;
                let below = WalkStart { level, table, perms, global };
                if accessed == Some(false) {
                    // SDM 4.8: "Whenever the processor uses a paging-structure entry as
                    // part of linear-address translation, it sets the accessed flag in
                    // that entry (if it is not already set)."
                    pending_accessed[pending] = (pte_addr, format.with_accessed(raw), below);
                    pending += 1;
                } else {
                    cache.fill(req.asid, va, below);
                }
            }
            PteView::Leaf { ppn, perms: granted, global: leaf_global, accessed, dirty } => {
                let perms = perms.intersect(granted);
                // Step 5: "Determine if the requested memory access is allowed by the
                // pte.r, pte.w, pte.x, and pte.u bits, given the current privilege mode
                // and the value of the SUM and MXR fields."
                let permitted = format.permits(perms, req.access, &req.state);
                check(Rule::Permission, level, permitted);
                if !permitted {
                    out.result = Err(fault(req, FaultKind::Protection, Some(level)));
                    break;
                }
                // Step 6: "If i > 0 and pte.ppn[i − 1 : 0] ≠ 0, this is a misaligned superpage."
                let page_shift = geometry.leaf_page_shift(level);
                let low_ppn_bits = page_shift.bits() - geometry.page_shift().bits();
                let misaligned = low_ppn_bits > 0 && ppn.as_u32() & ((1u32 << low_ppn_bits) - 1) != 0;
                if low_ppn_bits > 0 {
                    check(Rule::SuperpageAligned, level, !misaligned);
                }
                if misaligned {
                    out.result = Err(fault(req, FaultKind::MisalignedSuperpage, Some(level)));
                    break;
                }
                // Step 7: "If pte.a = 0, or if the original memory access is a store and
                // pte.d = 0, either raise a page-fault exception or: set pte.a to 1 and,
                // if the memory access is a store, also set pte.d to 1."
                let is_store = req.access == AccessKind::Write;
                let needs_update = !accessed || (is_store && !dirty);
                check(Rule::AccessedDirty, level, !needs_update);
                if needs_update && req.ad_update == AdUpdate::Fault {
                    out.result = Err(fault(req, FaultKind::AccessedDirty, Some(level)));
                    break;
                }
                // The walk succeeds: set the pointers' A bits, root first, then the leaf's.
                for &(addr, updated, below) in &pending_accessed[..pending] {
                    if R::ON {
                        rec.record(Event::AdWrite {
                            addr: Hex(addr.as_u64()),
                            old: Hex(u64::from(format.without_accessed(updated))),
                            new: Hex(u64::from(updated)),
                        });
                    }
                    t = mem.write(t, addr, updated, Traffic::PageTable);
                    out.pte_writes += 1;
                    cache.fill(req.asid, va, below);
                }
                let mut dirty = dirty;
                if needs_update {
                    let mut updated = format.with_accessed(raw);
                    if is_store {
                        updated = format.with_dirty(updated);
                        dirty = true;
                    }
                    if R::ON {
                        rec.record(Event::AdWrite {
                            addr: Hex(pte_addr.as_u64()),
                            old: Hex(u64::from(raw)),
                            new: Hex(u64::from(updated)),
                        });
                    }
                    t = mem.write(t, pte_addr, updated, Traffic::PageTable);
                    out.pte_writes += 1;
                }
                // Step 8: pa.pgoff = va.pgoff; for a superpage the low PPN fields come
                // from the VA; the rest from the PTE.
                out.result = Ok(Translation {
                    vpn: va.vpn(page_shift),
                    page_shift,
                    page_base: ppn.base(geometry.page_shift()),
                    perms,
                    global: global || leaf_global,
                    dirty,
                });
                break;
            }
        }
    }
    out.done_at = t;
    out
}

fn fault(req: &WalkRequest, kind: FaultKind, level: Option<u8>) -> Fault {
    Fault { kind, vaddr: req.vaddr, access: req.access, level }
}

#[cfg(test)]
mod tests;
#[cfg(test)]
mod tests_radix;
#[cfg(test)]
mod tests_x86;
