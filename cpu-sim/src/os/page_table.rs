//! The OS's page-table manager: where each format's tables live in physical memory,
//! allocating them, and finding or building the PTE that maps a virtual address,
//! through the DRAM backdoor (the OS's own memory traffic is charged as handler
//! cycles).
//!
//! Placement, per format:
//! - Sv32, IA-32 and radix: every table node comes from the frame pool, one frame
//!   per node when it fits in a page (a smaller node wastes the rest of its frame,
//!   as a pointer is `PPN × page size`), or a run of contiguous frames when it is
//!   larger (a radix level wider than a page).
//! - flat: each process's single table (`2^32 / page × 4` bytes: 4 GiB with one
//!   word per page) is reserved at boot at the top of DRAM, outside the frame pool,
//!   so the free-frame bitmap covers only memory that data can use. Reserving it
//!   costs no host memory: DRAM is sparse, and only the 4 KiB chunks of the table
//!   that hold a PTE are ever allocated.
//!
//! The frame pool covers the frames a PTE can point at (`2^ppn_bits`) below the
//! flat region: with word-sized pages the 22-bit PPNs of the RISC-V encoding reach
//! 16 MiB of data, whatever the DRAM size.

use super::{FrameUse, Os};
use crate::error::SimError;
use mmu_core::{Dram, PageTableFormat, Paging, PhysAddr, Pid, Ppn, PteView, VirtAddr};
use std::collections::BTreeSet;

/// Where page tables and data go in physical memory, decided once from the format,
/// the DRAM size and the number of processes; config validation and the OS's boot
/// use the same plan.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct MemoryPlan {
    /// Bytes per frame (the format's base page).
    pub page_bytes: u64,
    /// Frames in the pool that tables (except flat ones) and data pages come from.
    pub pool_frames: u64,
    /// Flat format: where process 0's table starts, and each table's size.
    pub flat_tables: Option<(PhysAddr, u64)>,
    /// Frames each level's table node takes (index = level), 0 for flat.
    frames_per_node: [u64; mmu_core::format::MAX_LEVELS],
    levels: u8,
}

impl MemoryPlan {
    /// The plan for `processes` processes of `format` in `capacity_bytes` of DRAM.
    ///
    /// # Errors
    /// A sentence for `dram.capacity_bytes` when the flat tables do not fit.
    pub(crate) fn new(format: &Paging, capacity_bytes: u64, processes: usize) -> Result<Self, String> {
        let g = *format.geometry();
        let page_bytes = g.page_bytes();
        let ppn_frames = 1u64 << format.ppn_bits();
        let mut frames_per_node = [0; mmu_core::format::MAX_LEVELS];
        let (pool_end, flat_tables) = match format {
            Paging::Flat(_) => {
                let table_bytes = g.table_bytes(0);
                let region = table_bytes.saturating_mul(processes as u64);
                if region >= capacity_bytes {
                    return Err(format!(
                        "{capacity_bytes} bytes cannot hold the flat page tables of {processes} process(es) \
                         ({table_bytes} bytes each, {region} in all) and a data page"
                    ));
                }
                let base = capacity_bytes - region;
                (base, Some((PhysAddr::new(base), table_bytes)))
            }
            Paging::Sv32(_) | Paging::X86_32(_) | Paging::Radix(_) => {
                for level in 0..g.levels() {
                    frames_per_node[level as usize] = g.table_bytes(level).div_ceil(page_bytes);
                }
                (capacity_bytes, None)
            }
        };
        Ok(Self {
            page_bytes,
            pool_frames: (pool_end / page_bytes).min(ppn_frames),
            flat_tables,
            frames_per_node,
            levels: g.levels(),
        })
    }

    /// Frames a table node at `level` takes from the pool.
    pub(crate) fn frames_per_node(&self, level: u8) -> u64 {
        self.frames_per_node[level as usize]
    }

    /// Pool frames needed before every process can complete its first access: its
    /// root (allocated at boot), one node per lower level, and one data page.
    pub(crate) fn frames_needed(&self, processes: usize) -> u64 {
        let per_process: u64 = (0..self.levels).map(|l| self.frames_per_node(l)).sum();
        processes as u64 * per_process + 1
    }
}

/// The OS's record of the page tables it placed.
pub(crate) struct PageTables {
    plan: MemoryPlan,
    processes: u64,
    /// Every node taken from the frame pool: first byte and bytes reserved.
    nodes: Vec<(PhysAddr, u64)>,
}

impl PageTables {
    /// No tables yet, for `processes` processes laid out by `plan`.
    pub(crate) fn new(plan: MemoryPlan, processes: usize) -> Self {
        Self { plan, processes: processes as u64, nodes: Vec::new() }
    }
}

const CHUNK_BYTES: u64 = 4096;

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

    /// A zeroed table node for `level`: one frame, or a run of frames for a node
    /// larger than a page.
    pub(super) fn alloc_table(
        &mut self,
        dram: &mut Dram,
        pid: Pid,
        vaddr: VirtAddr,
        level: u8,
    ) -> Result<PhysAddr, SimError> {
        let page_bits = self.format.geometry().page_bits();
        let frames = self.tables.plan.frames_per_node(level);
        let ppn = if frames == 1 {
            self.alloc_frame(dram, pid, vaddr)?
        } else {
            let ppn = self.take_table_run(pid, vaddr, frames)?;
            dram.zero(ppn.base(page_bits), frames * self.tables.plan.page_bytes);
            ppn
        };
        self.stats.page_table_frames += frames;
        let base = ppn.base(page_bits);
        self.tables.nodes.push((base, frames * self.tables.plan.page_bytes));
        Ok(base)
    }

    /// `count` contiguous frames for a table node larger than a page, from the table
    /// pool if `os.data_frames` splits one off, else from the frame pool. Unlike a
    /// single table frame, a run is never made by evicting pages: eviction frees
    /// frames wherever its victims were, not side by side.
    fn take_table_run(&mut self, pid: Pid, vaddr: VirtAddr, count: u64) -> Result<Ppn, SimError> {
        let data_frames = self.frames.frames();
        let run = match &mut self.table_frames {
            Some(pool) => pool
                .alloc_contiguous(count as usize)
                .map(|f| Ppn::new(f.as_u32() + data_frames as u32))
                .ok_or(SimError::OutOfMemory {
                    frames: pool.frames() as u64,
                    pid,
                    vaddr,
                    why: "no run of contiguous free frames outside `os.data_frames` is left for a page-table node larger than a page",
                })?,
            None => self.frames.alloc_contiguous(count as usize).ok_or(SimError::OutOfMemory {
                frames: data_frames as u64,
                pid,
                vaddr,
                why: "no run of contiguous free frames is left for a page-table node larger than a page \
                      (evicting pages frees scattered frames, not a run)",
            })?,
        };
        for i in 0..count as u32 {
            let frame = Ppn::new(run.as_u32() + i);
            if frame.as_index() < data_frames {
                self.set_use(frame, FrameUse::Table);
            }
            if let Some(p) = self.processes.get_mut(pid.as_u32() as usize) {
                p.table_frames.push(frame);
            }
        }
        Ok(run)
    }

    /// The frames of the root table at `root`, for the process's list of table
    /// frames (freed when it ends); none for a flat table, which stays reserved.
    pub(super) fn root_frames(&self, root: PhysAddr) -> Vec<Ppn> {
        if self.tables.plan.flat_tables.is_some() {
            return Vec::new();
        }
        let first = root.ppn(self.format.geometry().page_bits());
        let count = self.tables.plan.frames_per_node(self.format.geometry().root_level()) as u32;
        (0..count).map(|i| Ppn::new(first.as_u32() + i)).collect()
    }

    /// Whether `frame` holds a page table now (a node of a process that ended may
    /// have been freed and reused).
    fn is_table_frame(&self, frame: Ppn) -> bool {
        let data_frames = self.frames.frames();
        if frame.as_index() < data_frames {
            matches!(self.uses.get(frame.as_index()), Some(FrameUse::Table))
        } else {
            self.table_frames
                .as_ref()
                .is_some_and(|pool| pool.is_used(Ppn::new(frame.as_u32() - data_frames as u32)))
        }
    }

    /// The root table of process `pid`, at boot: flat tables sit in the region
    /// reserved for them (already zero: DRAM starts zeroed), every other root is a
    /// node from the pool.
    pub(super) fn alloc_root(&mut self, dram: &mut Dram, pid: Pid) -> Result<PhysAddr, SimError> {
        match self.tables.plan.flat_tables {
            Some((base, table_bytes)) => base
                .checked_add(u64::from(pid.as_u32()) * table_bytes)
                .ok_or_else(|| SimError::Internal(format!("flat table of process {pid} overflows"))),
            None => {
                let root_level = self.format.geometry().root_level();
                self.alloc_table(dram, pid, VirtAddr::new(0), root_level)
            }
        }
    }

    /// Bytes of DRAM set aside for page tables: pool frames holding table nodes,
    /// plus the flat tables' region.
    pub fn page_table_bytes(&self) -> u64 {
        let flat = self.tables.plan.flat_tables.map_or(0, |(_, bytes)| bytes * self.tables.processes);
        self.stats.page_table_frames * self.tables.plan.page_bytes + flat
    }

    /// Host bytes behind page-table memory: the 4 KiB chunks of the tables that have
    /// ever held a non-zero entry, which is what a table costs when only the parts
    /// used are materialized (with pages under 4 KiB a chunk may also hold data).
    pub fn page_table_touched_bytes(&self, dram: &Dram) -> u64 {
        let mut touched = 0;
        if let Some((base, bytes)) = self.tables.plan.flat_tables {
            touched += dram.host_bytes_in(base, bytes * self.tables.processes);
        }
        // Pool nodes may share a chunk (pages under 4 KiB): count each chunk once.
        let page_bits = self.format.geometry().page_bits();
        let mut chunks = BTreeSet::new();
        for &(start, bytes) in &self.tables.nodes {
            if !self.is_table_frame(start.ppn(page_bits)) {
                continue; // freed when its process ended
            }
            let first = start.as_u64() / CHUNK_BYTES;
            let last = (start.as_u64() + bytes - 1) / CHUNK_BYTES;
            for chunk in first..=last {
                if chunks.insert(chunk) {
                    touched += dram.host_bytes_in(PhysAddr::new(chunk * CHUNK_BYTES), CHUNK_BYTES);
                }
            }
        }
        touched
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
                    let next = self.alloc_table(dram, pid, vaddr, level - 1)?;
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

#[cfg(test)]
mod tests {
    use super::*;
    use mmu_core::{LevelBits, PagingConfig};

    fn plan(config: PagingConfig, capacity: u64, processes: usize) -> Result<MemoryPlan, String> {
        MemoryPlan::new(&config.build(), capacity, processes)
    }

    #[test]
    fn sv32_tables_are_one_frame_per_node_and_the_pool_is_all_of_dram() {
        let p = plan(PagingConfig::Sv32, 16 << 20, 2).unwrap();
        assert_eq!((p.page_bytes, p.pool_frames, p.flat_tables), (4096, 4096, None));
        assert_eq!((p.frames_per_node(1), p.frames_per_node(0)), (1, 1));
        // Two processes: root + level-0 table each, and one data page.
        assert_eq!(p.frames_needed(2), 5);
    }

    #[test]
    fn flat_word_tables_sit_at_the_top_outside_a_pool_limited_by_ppn_reach() {
        // 8 GiB, one process: the 4 GiB table at [4 GiB, 8 GiB); data frames are 4
        // bytes and 22-bit PPNs reach 2^22 of them (16 MiB), far below 4 GiB.
        let p = plan(PagingConfig::Flat { page_bytes: 4 }, 8 << 30, 1).unwrap();
        assert_eq!(p.flat_tables, Some((PhysAddr::new(4 << 30), 4 << 30)));
        assert_eq!(p.pool_frames, 1 << 22);
        assert_eq!(p.frames_needed(1), 1, "only a data page: the table is reserved");
        // Two processes need 8 GiB of tables: no room left in 8 GiB.
        let e = plan(PagingConfig::Flat { page_bytes: 4 }, 8 << 30, 2).unwrap_err();
        assert!(e.contains("4294967296 bytes each, 8589934592 in all"), "{e}");
        // 4 KiB pages: a 4 MiB table, and the pool is everything below it.
        let p = plan(PagingConfig::Flat { page_bytes: 4096 }, 16 << 20, 1).unwrap();
        assert_eq!(p.flat_tables, Some((PhysAddr::new(12 << 20), 4 << 20)));
        assert_eq!(p.pool_frames, 3072);
    }

    #[test]
    fn radix_nodes_smaller_or_larger_than_a_page() {
        // [4, 8, 8] + 12: nodes of 64 B, 1 KiB, 1 KiB each take a frame.
        let config = PagingConfig::Radix { index_bits: LevelBits::from(&[4u8, 8, 8][..]), page_bits: 12 };
        let p = plan(config, 16 << 20, 1).unwrap();
        assert_eq!((p.frames_per_node(2), p.frames_per_node(1), p.frames_per_node(0)), (1, 1, 1));
        // [16, 4] + 12: a 256 KiB root (64 frames), 64-byte leaves' tables.
        let config = PagingConfig::Radix { index_bits: LevelBits::from(&[16u8, 4][..]), page_bits: 12 };
        let p = plan(config, 16 << 20, 1).unwrap();
        assert_eq!((p.frames_per_node(1), p.frames_per_node(0)), (64, 1));
        assert_eq!(p.frames_needed(1), 66);
    }
}
