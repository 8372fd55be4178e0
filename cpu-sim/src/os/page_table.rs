//! The OS's page-table manager: allocating frames for tables and pages, and
//! finding or building the PTE that maps a virtual address, through the DRAM
//! backdoor (the OS's own memory traffic is charged as handler cycles).

use super::Os;
use crate::error::SimError;
use mmu_core::{Dram, PageTableFormat, PhysAddr, Pid, Ppn, PteView, VirtAddr};

impl Os {
    pub(super) fn alloc_frame(
        &mut self,
        dram: &mut Dram,
        pid: Pid,
        vaddr: VirtAddr,
    ) -> Result<Ppn, SimError> {
        // Page-table frames come from the pager, which may swap a data page out (#5).
        let ppn = self.take_table_frame(dram, pid, vaddr)?;
        let page_bytes = self.format.geometry().page_bytes();
        dram.zero(ppn.base(self.format.geometry().page_bits()), page_bytes);
        Ok(ppn)
    }

    pub(super) fn alloc_table(
        &mut self,
        dram: &mut Dram,
        pid: Pid,
        vaddr: VirtAddr,
    ) -> Result<PhysAddr, SimError> {
        let ppn = self.alloc_frame(dram, pid, vaddr)?;
        self.stats.page_table_frames += 1;
        Ok(ppn.base(self.format.geometry().page_bits()))
    }

    /// The address of the leaf PTE for `vaddr` at the last level, building missing
    /// tables on the way down when `build` is set.
    pub(super) fn leaf_pte_addr(
        &mut self,
        dram: &mut Dram,
        pid: Pid,
        vaddr: VirtAddr,
        build: bool,
    ) -> Result<Option<PhysAddr>, SimError> {
        let geometry = *self.format.geometry();
        let mut table = self.processes[pid.as_u32() as usize].root;
        for level in (1..geometry.levels()).rev() {
            let pte_addr = geometry.pte_addr(table, vaddr, level);
            match self.format.decode(dram.peek(pte_addr), level) {
                PteView::Pointer { next, .. } => table = next,
                PteView::Invalid if build => {
                    let next = self.alloc_table(dram, pid, vaddr)?;
                    dram.poke(pte_addr, self.format.encode_pointer(next.ppn(geometry.page_bits())));
                    table = next;
                }
                PteView::Invalid => return Ok(None),
                // The OS maps base pages only and writes every PTE itself.
                view @ (PteView::Leaf { .. } | PteView::Reserved) => {
                    return Err(SimError::Internal(format!(
                        "OS page table of process {pid} holds {view:?} at level {level} for {vaddr}"
                    )));
                }
            }
        }
        Ok(Some(geometry.pte_addr(table, vaddr, 0)))
    }
}
