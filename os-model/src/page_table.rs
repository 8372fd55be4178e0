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

use crate::error::OsError;
use mmu_core::{PageTableFormat, Paging, PhysAddr, PhysBackdoor, Pid, Ppn, PteView, VirtAddr};
use std::collections::BTreeSet;

/// Where page tables and data go in physical memory, decided once from the format,
/// the DRAM size and the number of processes; config validation and the OS's boot
/// use the same plan.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct MemoryPlan {
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
    pub fn new(format: &Paging, capacity_bytes: u64, processes: usize) -> Result<Self, String> {
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
    pub fn frames_needed(&self, processes: usize) -> u64 {
        let per_process: u64 = (0..self.levels).map(|l| self.frames_per_node(l)).sum();
        processes as u64 * per_process + 1
    }
}

/// The page-table builder: where tables go, the nodes it placed, and how to find
/// or decode the PTEs of a table tree through the physical back door. Frames for
/// new nodes come from the OS's frame table (the builder does not own frames).
pub struct PageTables {
    format: Paging,
    plan: MemoryPlan,
    processes: u64,
    /// Every node taken from the frame pool: first byte and bytes reserved.
    nodes: Vec<(PhysAddr, u64)>,
}

const CHUNK_BYTES: u64 = 4096;

impl PageTables {
    /// No tables yet, for `processes` processes laid out by `plan`.
    pub(crate) fn new(format: Paging, plan: MemoryPlan, processes: usize) -> Self {
        Self { format, plan, processes: processes as u64, nodes: Vec::new() }
    }

    /// The paging format the tables are in.
    pub fn format(&self) -> &Paging {
        &self.format
    }

    /// Frames a table node at `level` takes from the pool.
    pub(crate) fn frames_per_node(&self, level: u8) -> u64 {
        self.plan.frames_per_node(level)
    }

    /// Bytes per frame.
    pub(crate) fn page_bytes(&self) -> u64 {
        self.plan.page_bytes
    }

    /// Records a node placed at `base`, `frames` frames long.
    pub(crate) fn record_node(&mut self, base: PhysAddr, frames: u64) {
        self.nodes.push((base, frames * self.plan.page_bytes));
    }

    /// Process `pid`'s flat table, which sits in the region reserved for them at
    /// boot (already zero: DRAM starts zeroed); `None` for other formats.
    pub(crate) fn flat_root(&self, pid: Pid) -> Option<Result<PhysAddr, OsError>> {
        let (base, table_bytes) = self.plan.flat_tables?;
        Some(
            base.checked_add(u64::from(pid.as_u32()) * table_bytes)
                .ok_or_else(|| OsError::Internal(format!("flat table of process {pid} overflows"))),
        )
    }

    /// The frames of the root table at `root`, for the process's list of table
    /// frames (freed when it ends); none for a flat table, which stays reserved.
    pub(crate) fn root_frames(&self, root: PhysAddr) -> Vec<Ppn> {
        if self.plan.flat_tables.is_some() {
            return Vec::new();
        }
        let first = root.ppn(self.format.geometry().page_shift());
        let count = self.plan.frames_per_node(self.format.geometry().root_level()) as u32;
        (0..count).map(|i| Ppn::new(first.as_u32() + i)).collect()
    }

    /// Bytes of DRAM set aside for page tables: `table_frames` pool frames holding
    /// table nodes, plus the flat tables' region.
    pub fn page_table_bytes(&self, table_frames: u64) -> u64 {
        let flat = self.plan.flat_tables.map_or(0, |(_, bytes)| bytes * self.processes);
        table_frames * self.plan.page_bytes + flat
    }

    /// Host bytes behind page-table memory: the 4 KiB chunks of the tables that have
    /// ever held a non-zero entry, which is what a table costs when only the parts
    /// used are materialized (with pages under 4 KiB a chunk may also hold data).
    /// Nodes whose frame no longer holds a table (`is_table` false) are skipped.
    pub fn touched_bytes(&self, mem: &dyn PhysBackdoor, is_table: impl Fn(Ppn) -> bool) -> u64 {
        let mut touched = 0;
        if let Some((base, bytes)) = self.plan.flat_tables {
            touched += mem.touched_bytes(base, bytes * self.processes);
        }
        // Pool nodes may share a chunk (pages under 4 KiB): count each chunk once.
        let page_shift = self.format.geometry().page_shift();
        let mut chunks = BTreeSet::new();
        for &(start, bytes) in &self.nodes {
            if !is_table(start.ppn(page_shift)) {
                continue; // freed when its process ended
            }
            let first = start.as_u64() / CHUNK_BYTES;
            let last = (start.as_u64() + bytes - 1) / CHUNK_BYTES;
            for chunk in first..=last {
                if chunks.insert(chunk) {
                    touched += mem.touched_bytes(PhysAddr::new(chunk * CHUNK_BYTES), CHUNK_BYTES);
                }
            }
        }
        touched
    }

    /// The address and level of the leaf PTE for `vaddr` in the tree at `root`:
    /// at the last level, or above it for a superpage; `None` where a pointer on
    /// the way is missing.
    ///
    /// # Errors
    /// `Internal` on a reserved encoding (the OS writes every PTE itself).
    pub(crate) fn find_leaf(
        &self,
        mem: &dyn PhysBackdoor,
        root: PhysAddr,
        vaddr: VirtAddr,
    ) -> Result<Option<(PhysAddr, u8)>, OsError> {
        let geometry = *self.format.geometry();
        let mut table = root;
        for level in (1..geometry.levels()).rev() {
            let pte_addr = geometry.pte_addr(table, vaddr, level);
            match self.format.decode(mem.peek(pte_addr), level) {
                PteView::Pointer { next, .. } => table = next,
                PteView::Invalid => return Ok(None),
                PteView::Leaf { .. } => return Ok(Some((pte_addr, level))),
                PteView::Reserved => {
                    return Err(OsError::Internal(format!(
                        "OS page table holds a reserved PTE at level {level} for {vaddr}"
                    )));
                }
            }
        }
        Ok(Some((geometry.pte_addr(table, vaddr, 0), 0)))
    }

    /// One level of a descent: the next table, or the address of the invalid
    /// pointer PTE where it is missing.
    pub(crate) fn step(
        &self,
        mem: &dyn PhysBackdoor,
        table: PhysAddr,
        vaddr: VirtAddr,
        level: u8,
    ) -> Result<Descent, OsError> {
        let pte_addr = self.format.geometry().pte_addr(table, vaddr, level);
        match self.format.decode(mem.peek(pte_addr), level) {
            PteView::Pointer { next, .. } => Ok(Descent::Next(next)),
            PteView::Invalid => Ok(Descent::Missing(pte_addr)),
            view @ (PteView::Leaf { .. } | PteView::Reserved) => {
                Err(OsError::Internal(format!("OS page table holds {view:?} at level {level} for {vaddr}")))
            }
        }
    }

    /// Points the invalid pointer PTE at `pte_addr` to the new table at `next`.
    pub(crate) fn link(&self, mem: &mut dyn PhysBackdoor, pte_addr: PhysAddr, next: PhysAddr) {
        let page_shift = self.format.geometry().page_shift();
        mem.poke(pte_addr, self.format.encode_pointer(next.ppn(page_shift)));
    }

    /// Every valid base-page leaf of the page table at `root`, in VA order:
    /// (VPN, PPN, raw PTE); a superpage gives each of its base pages, with the
    /// superpage's PTE.
    pub fn leaves(&self, mem: &dyn PhysBackdoor, root: PhysAddr) -> Vec<(u32, Ppn, u32)> {
        let geometry = *self.format.geometry();
        let mut out = Vec::new();
        let mut stack = vec![(root, geometry.root_level(), 0u32)];
        // Depth-first with the children pushed in reverse, so leaves come out in VA order.
        while let Some((table, level, prefix)) = stack.pop() {
            let shift = geometry.index_shift(level) - geometry.page_shift().bits();
            let mut children = Vec::new();
            let pte_bytes = u64::from(geometry.pte_bytes());
            let mut i = 0;
            while i < geometry.entries_per_table(level) {
                let addr = PhysAddr::new(table.as_u64() + i * pte_bytes);
                // A 4 KiB chunk never written holds only invalid entries: jump to the
                // next chunk written (a flat table of word pages has 2^30 entries, a
                // few of them used; chunk by chunk, its 2^20 chunks took 90 M host
                // instructions at the end of a run, #15).
                if addr.as_u64() % 4096 == 0 || i == 0 {
                    let table_end = table.as_u64() + geometry.entries_per_table(level) * pte_bytes;
                    let next = mem
                        .next_touched(addr, PhysAddr::new(table_end))
                        .map_or(table_end, |chunk| chunk.as_u64().max(addr.as_u64()));
                    if next > addr.as_u64() {
                        i = (next - table.as_u64()).div_ceil(pte_bytes);
                        continue;
                    }
                }
                let raw = mem.peek(addr);
                let vpn = prefix | ((i as u32).checked_shl(u32::from(shift)).unwrap_or(0));
                match self.format.decode(raw, level) {
                    PteView::Pointer { next, .. } if level > 0 => children.push((next, level - 1, vpn)),
                    PteView::Leaf { ppn, .. } if level == 0 => out.push((vpn, ppn, raw)),
                    PteView::Leaf { ppn, .. } => {
                        let pieces = 1u32 << shift;
                        out.extend((0..pieces).map(|j| (vpn + j, Ppn::new(ppn.as_u32() + j), raw)));
                    }
                    _ => {}
                }
                i += 1;
            }
            stack.extend(children.into_iter().rev());
        }
        out
    }

    /// The A and D bits of a leaf PTE (both false for anything else).
    pub(crate) fn accessed_dirty(&self, raw: u32) -> (bool, bool) {
        match self.format.decode(raw, 0) {
            PteView::Leaf { accessed, dirty, .. } => (accessed, dirty),
            PteView::Invalid | PteView::Reserved | PteView::Pointer { .. } => (false, false),
        }
    }
}

/// One level of a descent through a table tree.
pub(crate) enum Descent {
    /// The pointer is valid: the next table.
    Next(PhysAddr),
    /// The pointer PTE at this address is invalid.
    Missing(PhysAddr),
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
