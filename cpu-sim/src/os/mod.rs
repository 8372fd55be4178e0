//! The OS model: processes with regions and shared memory objects, page tables
//! built in DRAM frames, and the page-fault handler: demand-zero allocation from a
//! free-frame bitmap, page replacement and swapping when no frame is free, software
//! A/D updates, and segmentation faults that kill a process and free its memory.
//!
//! The OS reads and writes page tables and page contents through the DRAM backdoor
//! (`peek`/`poke`): its memory traffic is part of the configured handler cycles,
//! not timed per word. Page tables are pinned: never evicted.
//!
//! A page is either resident (in a frame), in swap (a slot), or untouched (zero).
//! A page keeps its swap slot once it has one, so a clean page whose copy is in
//! swap is dropped on eviction without a write; a clean page with no slot was never
//! written since it was zero-filled, so it is dropped and comes back zero-filled.

mod frames;
mod page_table;
mod process;
mod replacement;
pub mod scheduler;
mod swap;

pub use frames::FrameBitmap;
pub(crate) use page_table::MemoryPlan;
pub use process::{
    Owner, PageKey, Process, ProcessConfig, ProcessState, ProcessStats, RegionConfig, validate_shared,
};
pub use replacement::{Future, FutureBuilder, NEVER, PageReplacement};
pub use swap::{Slot, SwapConfig, SwapDevice};

use crate::SimRng;
use crate::error::SimError;
use crate::mmu::Mmu;
use mmu_core::config::InvalidField;
use mmu_core::{
    AccessKind, Asid, Cycles, Dram, Fault, FaultKind, PageTableFormat, Paging, PhysAddr, Pid, Ppn,
    PrivilegeState, PteView, VirtAddr,
};
use process::{Region, page_key};
use rand::{RngExt, SeedableRng};
use replacement::Replacer;
use serde::{Deserialize, Serialize};
use std::collections::{BTreeMap, BTreeSet};

/// Salt of the random replacement policy's stream (see `SimRng`).
pub const SALT_PAGE_REPLACEMENT: u64 = 0x5041_4745_5245_504c;

/// The OS's costs and policies. Owned by cpu-sim's OS model.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct OsConfig {
    /// Entering and leaving the fault handler, charged on every page fault.
    pub trap_cycles: Cycles,
    /// Handler work for a demand-zero fault: find a frame, zero it, build PTEs.
    pub demand_zero_cycles: Cycles,
    /// Handler work to set A/D bits in software (with `ad_update: Fault`); default 0.
    #[serde(default)]
    pub accessed_dirty_cycles: Cycles,
    /// Handler work for a swap-in, besides the device's `read_latency`; default 0.
    #[serde(default)]
    pub swap_in_cycles: Cycles,
    /// Handler work per eviction (choose the victim, unmap it, shoot down its TLB
    /// entries), besides the device's `write_latency` for a dirty one; default 0.
    #[serde(default)]
    pub evict_cycles: Cycles,
    /// Cost of a context switch (save, restore, scheduler); default 0.
    #[serde(default)]
    pub context_switch_cycles: Cycles,
    /// Frames for data pages (default `None`: every frame serves data and page
    /// tables alike). With `Some(n)`, frames `0..n` hold data pages and the rest
    /// hold the (pinned) page tables, so "a machine with n frames" means n frames
    /// of data, as textbook exercises count them.
    #[serde(default)]
    pub data_frames: Option<u64>,
    /// Which page to evict when no frame is free (default `Clock`).
    #[serde(default)]
    pub replacement: PageReplacement,
    /// The swap device (default `None`: no swapping, so running out of frames stops
    /// the run with an error).
    #[serde(default)]
    pub swap: Option<SwapConfig>,
}

impl OsConfig {
    /// Checks the OS's fields against the machine: `frames` of `page_bytes`, and the
    /// `tables` frames the page tables of `processes` processes need at least (their
    /// roots and one node per lower level, from the memory plan).
    ///
    /// # Errors
    /// The first field that breaks a rule, named relative to this struct.
    pub fn validate(
        &self,
        frames: u64,
        page_bytes: u64,
        tables: u64,
        processes: usize,
    ) -> Result<(), InvalidField> {
        if let Some(swap) = &self.swap {
            swap.validate(page_bytes).map_err(|e| e.within("swap"))?;
        }
        if let Some(n) = self.data_frames {
            if n == 0 || n.saturating_add(tables) > frames {
                return Err(InvalidField::new(
                    "data_frames",
                    format!(
                        "{n} must be at least 1 and leave room for the {tables} page-table frames of {processes} process(es) among the {frames} frames of DRAM"
                    ),
                ));
            }
            if n > u64::from(u32::MAX) {
                return Err(InvalidField::new("data_frames", format!("{n} is more than 2^32 frames")));
            }
        }
        Ok(())
    }
}

/// A segmentation fault, as reported: which process, where, and why.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Segfault {
    /// The process stopped.
    pub pid: Pid,
    /// Its name.
    pub process: String,
    /// The faulting virtual address.
    pub vaddr: VirtAddr,
    /// The access.
    pub access: AccessKind,
    /// What the hardware reported.
    pub fault: FaultKind,
    /// Why the OS refused it.
    pub reason: &'static str,
}

/// What the OS did about a fault.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Resolution {
    /// The fault was fixed; retry the access after `cost` cycles.
    Retry {
        /// Handler cycles, swap latency included.
        cost: Cycles,
    },
    /// The process was stopped.
    Stopped {
        /// Handler cycles.
        cost: Cycles,
        /// The record for the report.
        segfault: Segfault,
    },
}

/// OS counters.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize)]
pub struct OsStats {
    /// Page faults served by a zero-filled frame (first touch, or a never-written
    /// page that was dropped).
    pub demand_zero: u64,
    /// Page faults served by reading the page back from swap.
    pub swap_ins: u64,
    /// Page faults on a shared page already resident for another process: only
    /// the faulting process's PTE is written.
    pub shared_maps: u64,
    /// A/D bits set by the handler (with `ad_update: Fault`).
    pub accessed_dirty_updates: u64,
    /// Pages evicted from their frame.
    pub evictions: u64,
    /// Evicted pages that were dirty and written to swap.
    pub dirty_writebacks: u64,
    /// Evicted pages that were clean and dropped (their swap copy is current, or
    /// they were never written).
    pub clean_evictions: u64,
    /// TLB shootdowns: PTEs invalidated by evictions, each followed by an
    /// invalidation of that page in that address space (`sfence.vma va, asid`).
    pub shootdowns: u64,
    /// A bits cleared by Clock's hand (each also drops the page's TLB entries).
    pub accessed_clears: u64,
    /// Processes stopped by segmentation faults.
    pub segfaults: u64,
    /// Processes whose workload ended.
    pub exits: u64,
    /// Pages read from the swap device.
    pub swap_reads: u64,
    /// Pages written to the swap device.
    pub swap_writes: u64,
    /// Slots of the swap device (0 without one).
    pub swap_slots: u64,
    /// Slots holding a page at the end of the run.
    pub swap_slots_used: u64,
    /// The most slots in use at once.
    pub swap_slots_peak: u64,
    /// Frames holding page tables now.
    pub page_table_frames: u64,
    /// Frames holding data pages now.
    pub data_frames: u64,
    /// Frames of physical memory.
    pub frames_total: u64,
    /// Frames that may hold data pages (`os.data_frames`, else every frame).
    pub data_frames_total: u64,
    /// Frames free at the end of the run.
    pub frames_free: u64,
    /// The longest run of consecutive free data frames at the end of the run (the
    /// largest contiguous allocation that could still succeed without paging).
    pub largest_free_run: u64,
}

/// What a frame holds.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum FrameUse {
    Free,
    Table,
    Data(PageKey),
}

/// Where a page is.
#[derive(Clone, Copy, Debug, Default)]
struct PageInfo {
    frame: Option<Ppn>,
    slot: Option<Slot>,
    /// Dirty bits of PTEs that are gone (a process that mapped a shared page ended).
    dirty: bool,
}

/// A shared memory object: the processes mapping it and where.
#[derive(Clone, Debug)]
struct SharedObject {
    mappers: Vec<(Pid, u32)>,
}

/// The OS model.
pub struct Os {
    config: OsConfig,
    format: Paging,
    privilege: PrivilegeState,
    page_bits: u8,
    /// Frames `0..data.frames()`: data pages (and, without `data_frames`, tables too).
    frames: FrameBitmap,
    /// Where page tables go (flat tables outside every pool) and what was placed.
    tables: page_table::PageTables,
    /// With `data_frames`, the table pool: frames from `frames.frames()` on.
    table_frames: Option<FrameBitmap>,
    /// What each frame of the data pool holds, grown as higher frames are used.
    uses: Vec<FrameUse>,
    pages: BTreeMap<PageKey, PageInfo>,
    objects: Vec<SharedObject>,
    processes: Vec<Process>,
    replacer: Replacer,
    swap: Option<SwapDevice>,
    /// Invalidations owed to the MMU by the handler running now.
    pending_shootdowns: Vec<(VirtAddr, Asid)>,
    /// Cycles of evictions made to find a page-table frame, owed by the handler
    /// running now.
    pending_cost: Cycles,
    stats: OsStats,
}

impl Os {
    /// Boots the OS: one root table per process, allocated and zeroed in DRAM.
    ///
    /// # Errors
    /// `OutOfMemory` if DRAM cannot hold the root tables.
    pub fn boot(
        config: &OsConfig,
        processes: &[ProcessConfig],
        format: &Paging,
        privilege: PrivilegeState,
        seed: u64,
        dram: &mut Dram,
    ) -> Result<Self, SimError> {
        let page_bytes = format.geometry().page_bytes();
        // The frames PTEs can reach, below any flat tables (issue #4's memory plan).
        let plan =
            MemoryPlan::new(format, dram.capacity_bytes(), processes.len()).map_err(SimError::Internal)?;
        let total = plan.pool_frames;
        let data = config.data_frames.unwrap_or(total).min(total);
        let names: BTreeSet<&str> =
            processes.iter().flat_map(|p| p.regions.iter().filter_map(|r| r.shared.as_deref())).collect();
        let object_of = |name: &str| names.iter().position(|n| *n == name).map(|i| i as u32);
        let mut objects = vec![SharedObject { mappers: Vec::new() }; names.len()];
        let mut os = Os {
            config: config.clone(),
            format: format.clone(),
            privilege,
            page_bits: format.geometry().page_bits(),
            frames: FrameBitmap::new(data as usize),
            tables: page_table::PageTables::new(plan, processes.len()),
            table_frames: (data < total).then(|| FrameBitmap::new((total - data) as usize)),
            uses: Vec::new(),
            pages: BTreeMap::new(),
            objects: Vec::new(),
            processes: Vec::new(),
            replacer: Replacer::new(config.replacement, SimRng::seed_from_u64(seed ^ SALT_PAGE_REPLACEMENT)),
            swap: config.swap.as_ref().map(|s| SwapDevice::new(s.capacity_bytes / page_bytes, page_bytes)),
            pending_shootdowns: Vec::new(),
            pending_cost: Cycles::ZERO,
            stats: OsStats { frames_total: total, data_frames_total: data, ..OsStats::default() },
        };
        for (i, p) in processes.iter().enumerate() {
            let pid = Pid::new(i as u32);
            let root = os.alloc_root(dram, pid)?;
            let regions: Vec<Region> = p
                .regions
                .iter()
                .map(|r| Region { config: r.clone(), object: r.shared.as_deref().and_then(object_of) })
                .collect();
            for r in &regions {
                if let Some(o) = r.object {
                    objects[o as usize].mappers.push((pid, r.config.base));
                }
            }
            os.processes.push(Process {
                pid,
                name: p.name.clone(),
                asid: Asid::new(i as u16),
                root,
                state: ProcessState::Running,
                regions,
                table_frames: os.root_frames(root),
                stats: ProcessStats { pid: i as u32, name: p.name.clone(), ..ProcessStats::default() },
            });
        }
        os.objects = objects;
        Ok(os)
    }

    /// The process `pid`, if it exists.
    pub fn process(&self, pid: Pid) -> Option<&Process> {
        self.processes.get(pid.as_u32() as usize)
    }

    /// How many processes the OS has.
    pub fn process_count(&self) -> usize {
        self.processes.len()
    }

    /// Whether `pid` exists and still runs.
    #[inline]
    pub fn is_running(&self, pid: Pid) -> bool {
        self.process(pid).is_some_and(|p| p.state == ProcessState::Running)
    }

    /// Whether the replacement policy needs the workload's future ([`FutureBuilder`]).
    pub fn needs_future(&self) -> bool {
        self.config.replacement == PageReplacement::Opt
    }

    /// Gives OPT the future of the workload about to run.
    pub fn set_future(&mut self, future: Future) {
        if let Replacer::Opt { future: slot, .. } = &mut self.replacer {
            *slot = Some(future);
        }
    }

    /// Counters, with the frame map's and the swap device's state now.
    pub fn stats(&self) -> OsStats {
        let tables_free = self.table_frames.as_ref().map_or(0, FrameBitmap::free);
        let (slots, used, peak) = self.swap.as_ref().map_or((0, 0, 0), |s| (s.slots(), s.used(), s.peak()));
        OsStats {
            frames_free: (self.frames.free() + tables_free) as u64,
            largest_free_run: self.frames.largest_free_run() as u64,
            swap_slots: slots,
            swap_slots_used: used,
            swap_slots_peak: peak,
            ..self.stats.clone()
        }
    }

    /// Counts an access by `pid` (made or skipped).
    #[inline]
    pub fn count_access(&mut self, pid: Pid) {
        if let Some(p) = self.processes.get_mut(pid.as_u32() as usize) {
            p.stats.accesses += 1;
        }
    }

    /// Counts a switch to `pid`.
    pub fn count_switch_in(&mut self, pid: Pid) {
        if let Some(p) = self.processes.get_mut(pid.as_u32() as usize) {
            p.stats.switched_in += 1;
        }
    }

    /// The CPU completed access number `index` at `paddr`: LRU and OPT learn of it.
    #[inline]
    pub fn touched(&mut self, paddr: PhysAddr, index: u64) {
        if self.replacer.watches_uses() {
            self.replacer.touched((paddr.as_u64() >> self.page_bits) as u32, index);
        }
    }

    /// Handles a page fault of process `pid`. Evictions it causes are shot down in
    /// `mmu` before it returns.
    ///
    /// # Errors
    /// `OutOfMemory` when no frame can be freed, `SwapFull` when a dirty victim
    /// finds no swap slot.
    pub fn handle_fault(
        &mut self,
        dram: &mut Dram,
        mmu: &mut Mmu,
        pid: Pid,
        fault: Fault,
    ) -> Result<Resolution, SimError> {
        let result = self.handle(dram, mmu, pid, fault);
        for (va, asid) in self.pending_shootdowns.drain(..) {
            mmu.invalidate_page(va, asid);
        }
        let owed = std::mem::replace(&mut self.pending_cost, Cycles::ZERO);
        result.map(|r| match r {
            Resolution::Retry { cost } => Resolution::Retry { cost: cost + owed },
            Resolution::Stopped { cost, segfault } => Resolution::Stopped { cost: cost + owed, segfault },
        })
    }

    fn handle(
        &mut self,
        dram: &mut Dram,
        mmu: &mut Mmu,
        pid: Pid,
        fault: Fault,
    ) -> Result<Resolution, SimError> {
        let trap = self.config.trap_cycles;
        let index = pid.as_u32() as usize;
        let region = self.processes[index].region(fault.vaddr).cloned();
        match fault.kind {
            FaultKind::NotPresent => {
                let Some(region) = region else {
                    return Ok(self.stop(
                        dram,
                        mmu,
                        pid,
                        fault,
                        "address outside every region of the process",
                        trap,
                    ));
                };
                if !region.config.allows(fault.access) {
                    return Ok(self.stop(
                        dram,
                        mmu,
                        pid,
                        fault,
                        "access not allowed by the region's permissions",
                        trap,
                    ));
                }
                let cost = self.page_in(dram, pid, &region, fault.vaddr)?;
                Ok(Resolution::Retry { cost: trap + cost })
            }
            FaultKind::AccessedDirty => {
                let pte_addr = self.leaf_pte_addr(dram, pid, fault.vaddr, false)?.ok_or_else(|| {
                    SimError::Internal(format!("A/D fault at {} with no leaf PTE", fault.vaddr))
                })?;
                let mut raw = self.format.with_accessed(dram.peek(pte_addr));
                if fault.access == AccessKind::Write {
                    raw = self.format.with_dirty(raw);
                }
                dram.poke(pte_addr, raw);
                self.stats.accessed_dirty_updates += 1;
                Ok(Resolution::Retry { cost: trap + self.config.accessed_dirty_cycles })
            }
            FaultKind::Protection => {
                Ok(self.stop(dram, mmu, pid, fault, "access not allowed by the page's permissions", trap))
            }
            FaultKind::Reserved | FaultKind::MisalignedSuperpage | FaultKind::AccessFault => {
                Ok(self.stop(dram, mmu, pid, fault, "malformed page table entry", trap))
            }
        }
    }

    /// Maps the page of `va` for `pid`: a shared page already resident, a page
    /// back from swap, or a zero-filled one. Returns the handler cycles.
    fn page_in(
        &mut self,
        dram: &mut Dram,
        pid: Pid,
        region: &Region,
        va: VirtAddr,
    ) -> Result<Cycles, SimError> {
        let key = page_key(pid, region, va, self.page_bits);
        let pte_perms = region.config.pte_perms();
        let pte_addr = self.leaf_pte_addr(dram, pid, va, true)?.expect("built on the way down");
        let info = self.pages.get(&key).copied().unwrap_or_default();
        let stats = &mut self.processes[pid.as_u32() as usize].stats;
        if let Some(frame) = info.frame {
            if key.owner == Owner::Process(pid) {
                return Err(SimError::Internal(format!(
                    "process {pid} faulted on {va}, whose private page is resident in frame {frame:?}"
                )));
            }
            stats.shared_maps += 1;
            self.stats.shared_maps += 1;
            dram.poke(pte_addr, self.format.encode_leaf(frame, pte_perms, false));
            return Ok(Cycles::ZERO);
        }
        let mut cost = Cycles::ZERO;
        let frame = self.alloc_data_frame(dram, pid, va, key, &mut cost)?;
        let base = frame.base(self.page_bits);
        dram.zero(base, self.format.geometry().page_bytes());
        match (info.slot, &self.swap, &self.config.swap) {
            (Some(slot), Some(swap), Some(device)) => {
                if let Some(words) = swap.read(slot) {
                    for (i, &w) in words.iter().enumerate() {
                        if w != 0 {
                            dram.poke(PhysAddr::new(base.as_u64() + 4 * i as u64), w);
                        }
                    }
                }
                self.stats.swap_ins += 1;
                self.stats.swap_reads += 1;
                self.processes[pid.as_u32() as usize].stats.swap_ins += 1;
                cost += self.config.swap_in_cycles + device.read_latency;
            }
            _ => {
                self.stats.demand_zero += 1;
                self.processes[pid.as_u32() as usize].stats.demand_zero += 1;
                cost += self.config.demand_zero_cycles;
            }
        }
        let entry = self.pages.entry(key).or_default();
        entry.frame = Some(frame);
        dram.poke(pte_addr, self.format.encode_leaf(frame, pte_perms, false));
        Ok(cost)
    }

    /// Takes a free data frame for `key`, evicting a page if none is free.
    fn alloc_data_frame(
        &mut self,
        dram: &mut Dram,
        pid: Pid,
        va: VirtAddr,
        key: PageKey,
        cost: &mut Cycles,
    ) -> Result<Ppn, SimError> {
        let frame = match self.frames.alloc() {
            Some(f) => f,
            None => {
                *cost += self.evict_one(dram, pid, va)?;
                self.frames
                    .alloc()
                    .ok_or_else(|| SimError::Internal("no free frame after an eviction".into()))?
            }
        };
        self.set_use(frame, FrameUse::Data(key));
        self.replacer.loaded(frame.as_u32());
        self.stats.data_frames += 1;
        Ok(frame)
    }

    /// Takes a frame for a page table of `pid` (called by the page-table manager).
    /// Tables are pinned; without a table pool of their own they may push a data
    /// page out to swap.
    pub(super) fn take_table_frame(
        &mut self,
        dram: &mut Dram,
        pid: Pid,
        vaddr: VirtAddr,
    ) -> Result<Ppn, SimError> {
        let frame = match &mut self.table_frames {
            Some(pool) => {
                let offset = self.frames.frames() as u32;
                let f = pool.alloc().ok_or(SimError::OutOfMemory {
                    frames: pool.frames() as u64,
                    pid,
                    vaddr,
                    why: "every frame outside `os.data_frames` holds a page table (page tables are pinned)",
                })?;
                Ppn::new(f.as_u32() + offset)
            }
            None => match self.frames.alloc() {
                Some(f) => f,
                None => {
                    let cost = self.evict_one(dram, pid, vaddr)?;
                    self.pending_cost += cost;
                    self.frames
                        .alloc()
                        .ok_or_else(|| SimError::Internal("no free frame after an eviction".into()))?
                }
            },
        };
        if (frame.as_index()) < self.frames.frames() {
            self.set_use(frame, FrameUse::Table);
        }
        if let Some(p) = self.processes.get_mut(pid.as_u32() as usize) {
            p.table_frames.push(frame);
        }
        Ok(frame)
    }

    fn set_use(&mut self, frame: Ppn, usage: FrameUse) {
        let i = frame.as_index();
        if self.uses.len() <= i {
            self.uses.resize(i + 1, FrameUse::Free);
        }
        self.uses[i] = usage;
    }

    fn free_frame(&mut self, frame: Ppn) {
        let i = frame.as_index();
        if i < self.frames.frames() {
            if let Some(FrameUse::Data(_)) = self.uses.get(i) {
                self.replacer.removed(frame.as_u32());
                self.stats.data_frames -= 1;
            }
            self.set_use(frame, FrameUse::Free);
            self.frames.release(frame);
        } else if let Some(pool) = &mut self.table_frames {
            pool.release(Ppn::new(frame.as_u32() - self.frames.frames() as u32));
        }
    }

    /// The processes mapping `key`, at which addresses.
    fn mappers(&self, key: PageKey) -> Vec<(Pid, VirtAddr)> {
        match key.owner {
            Owner::Process(pid) => vec![(pid, mmu_core::Vpn::new(key.page).base(self.page_bits))],
            Owner::Shared(o) => self.objects[o as usize]
                .mappers
                .iter()
                .filter(|(pid, _)| self.is_running(*pid))
                .map(|&(pid, base)| (pid, VirtAddr::new(base + (key.page << self.page_bits))))
                .collect(),
        }
    }

    /// The valid leaf PTEs mapping `frame` for `key`: (pid, va, PTE address, raw PTE).
    fn mappings(
        &mut self,
        dram: &mut Dram,
        key: PageKey,
        frame: Ppn,
    ) -> Result<Vec<(Pid, VirtAddr, PhysAddr, u32)>, SimError> {
        let mut found = Vec::new();
        for (pid, va) in self.mappers(key) {
            let Some(addr) = self.leaf_pte_addr(dram, pid, va, false)? else { continue };
            let raw = dram.peek(addr);
            if let PteView::Leaf { ppn, .. } = self.format.decode(raw, 0) {
                if ppn == frame {
                    found.push((pid, va, addr, raw));
                }
            }
        }
        Ok(found)
    }

    fn pte_bits(&self, raw: u32) -> (bool, bool) {
        match self.format.decode(raw, 0) {
            PteView::Leaf { accessed, dirty, .. } => (accessed, dirty),
            PteView::Invalid | PteView::Reserved | PteView::Pointer { .. } => (false, false),
        }
    }

    /// Chooses a victim by the configured policy and evicts it. Returns the cycles.
    fn evict_one(&mut self, dram: &mut Dram, pid: Pid, vaddr: VirtAddr) -> Result<Cycles, SimError> {
        if self.swap.is_none() {
            return Err(SimError::OutOfMemory {
                frames: self.frames.frames() as u64,
                pid,
                vaddr,
                why: "no swap device is configured (`os.swap`) to page out to",
            });
        }
        let victim = self.choose_victim(dram)?.ok_or(SimError::OutOfMemory {
            frames: self.frames.frames() as u64,
            pid,
            vaddr,
            why: "every frame holds a page table and page tables are pinned",
        })?;
        self.evict(dram, Ppn::new(victim), pid, vaddr)
    }

    fn choose_victim(&mut self, dram: &mut Dram) -> Result<Option<u32>, SimError> {
        let data_key = |u: &FrameUse| match u {
            FrameUse::Data(k) => Some(*k),
            FrameUse::Free | FrameUse::Table => None,
        };
        match &mut self.replacer {
            Replacer::Fifo(list) | Replacer::Lru(list) => Ok(list.front()),
            Replacer::Random(rng) => {
                let count = self.uses.iter().filter(|u| data_key(u).is_some()).count();
                if count == 0 {
                    return Ok(None);
                }
                let k = rng.random_range(0..count);
                Ok(self
                    .uses
                    .iter()
                    .enumerate()
                    .filter(|(_, u)| data_key(u).is_some())
                    .nth(k)
                    .map(|(i, _)| i as u32))
            }
            Replacer::Opt { next_use, future } => {
                if future.is_none() {
                    return Err(SimError::Internal(
                        "OPT needs the workload's future before the run (Machine::learn_future)".into(),
                    ));
                }
                let mut best: Option<(u64, u32)> = None;
                for (i, u) in self.uses.iter().enumerate() {
                    if data_key(u).is_some() {
                        let next = next_use.get(i).copied().unwrap_or(NEVER);
                        if best.is_none_or(|(b, _)| next > b) {
                            best = Some((next, i as u32));
                        }
                    }
                }
                Ok(best.map(|(_, f)| f))
            }
            Replacer::Clock { hand } => {
                let len = self.uses.len() as u32;
                let mut h = *hand;
                // Two sweeps at most: the first may clear every A bit.
                for _ in 0..2 * len as u64 + 1 {
                    let f = h % len.max(1);
                    h = (f + 1) % len.max(1);
                    let Some(key) = self.uses.get(f as usize).and_then(data_key) else { continue };
                    let mut referenced = false;
                    for (pid, va, addr, raw) in self.mappings(dram, key, Ppn::new(f))? {
                        let (accessed, _) = self.pte_bits(raw);
                        if accessed {
                            referenced = true;
                            dram.poke(addr, self.format.without_accessed(raw));
                            let asid = self.processes[pid.as_u32() as usize].asid;
                            self.pending_shootdowns.push((va, asid));
                        }
                    }
                    if referenced {
                        self.stats.accessed_clears += 1;
                    } else {
                        if let Replacer::Clock { hand } = &mut self.replacer {
                            *hand = h;
                        }
                        return Ok(Some(f));
                    }
                }
                Ok(None)
            }
        }
    }

    /// Evicts the page in `frame`: unmaps it everywhere, writes it to swap if dirty.
    fn evict(&mut self, dram: &mut Dram, frame: Ppn, pid: Pid, vaddr: VirtAddr) -> Result<Cycles, SimError> {
        let Some(FrameUse::Data(key)) = self.uses.get(frame.as_index()).copied() else {
            return Err(SimError::Internal(format!("victim frame {frame:?} holds no data page")));
        };
        let mappings = self.mappings(dram, key, frame)?;
        let mut info = self.pages.get(&key).copied().unwrap_or_default();
        let dirty = info.dirty || mappings.iter().any(|m| self.pte_bits(m.3).1);
        let mut cost = self.config.evict_cycles;
        if dirty {
            let swap =
                self.swap.as_mut().ok_or_else(|| SimError::Internal("eviction without swap".into()))?;
            let slot = match info.slot {
                Some(s) => s,
                None => swap.alloc().ok_or(SimError::SwapFull { slots: swap.slots(), pid, vaddr })?,
            };
            let base = frame.base(self.page_bits).as_u64();
            let words: Vec<u32> =
                (0..swap.words_per_page() as u64).map(|i| dram.peek(PhysAddr::new(base + 4 * i))).collect();
            swap.write(slot, &words);
            info.slot = Some(slot);
            self.stats.dirty_writebacks += 1;
            self.stats.swap_writes += 1;
            if let Some(device) = &self.config.swap {
                cost += device.write_latency;
            }
        } else {
            self.stats.clean_evictions += 1;
        }
        for (mapper, va, addr, _) in mappings {
            dram.poke(addr, 0);
            let asid = self.processes[mapper.as_u32() as usize].asid;
            self.pending_shootdowns.push((va, asid));
            self.stats.shootdowns += 1;
        }
        info.frame = None;
        info.dirty = false;
        if info.slot.is_some() {
            self.pages.insert(key, info);
        } else {
            // Never written: it comes back zero-filled.
            self.pages.remove(&key);
        }
        if let Owner::Process(owner) = key.owner {
            self.processes[owner.as_u32() as usize].stats.evicted += 1;
        }
        self.stats.evictions += 1;
        self.free_frame(frame);
        Ok(cost)
    }

    fn stop(
        &mut self,
        dram: &mut Dram,
        mmu: &mut Mmu,
        pid: Pid,
        fault: Fault,
        reason: &'static str,
        cost: Cycles,
    ) -> Resolution {
        self.release(dram, mmu, pid, ProcessState::Stopped);
        self.stats.segfaults += 1;
        let p = &self.processes[pid.as_u32() as usize];
        Resolution::Stopped {
            cost,
            segfault: Segfault {
                pid,
                process: p.name.clone(),
                vaddr: fault.vaddr,
                access: fault.access,
                fault: fault.kind,
                reason,
            },
        }
    }

    /// Ends process `pid` because its workload ended: its memory is freed.
    pub fn exit(&mut self, dram: &mut Dram, mmu: &mut Mmu, pid: Pid) {
        if self.is_running(pid) {
            self.release(dram, mmu, pid, ProcessState::Exited);
            self.stats.exits += 1;
        }
    }

    /// Frees the private pages, swap slots and page tables of `pid`, and sets its
    /// state. Its TLB and walk-cache entries are flushed by ASID (`sfence.vma x0,
    /// asid`), as a kernel does before reusing an address space: the ASID is never
    /// reused here, but no cached translation may outlive the PTE it came from.
    fn release(&mut self, dram: &mut Dram, mmu: &mut Mmu, pid: Pid, state: ProcessState) {
        let index = pid.as_u32() as usize;
        mmu.sfence_vma(None, Some(self.processes[index].asid));
        let root = self.processes[index].root;
        let layout = self.layout(dram, root);
        let stats = &mut self.processes[index].stats;
        (stats.resident_pages, stats.virtual_runs, stats.physical_runs) = layout;
        // Dirty bits of its PTEs on shared pages must outlive its page table.
        for (vpn, ppn, raw) in self.leaves(dram, root) {
            let va = mmu_core::Vpn::new(vpn).base(self.page_bits);
            let Some(region) = self.processes[index].region(va) else { continue };
            if region.object.is_none() {
                continue;
            }
            let key = page_key(pid, region, va, self.page_bits);
            let dirty = self.pte_bits(raw).1;
            if let Some(info) = self.pages.get_mut(&key) {
                if info.frame == Some(ppn) {
                    info.dirty |= dirty;
                }
            }
        }
        let private = PageKey { owner: Owner::Process(pid), page: 0 }..=PageKey {
            owner: Owner::Process(pid),
            page: u32::MAX,
        };
        let keys: Vec<PageKey> = self.pages.range(private).map(|(k, _)| *k).collect();
        for key in keys {
            let Some(info) = self.pages.remove(&key) else { continue };
            if let Some(frame) = info.frame {
                self.free_frame(frame);
            }
            if let (Some(slot), Some(swap)) = (info.slot, &mut self.swap) {
                swap.release(slot);
            }
        }
        let tables = std::mem::take(&mut self.processes[index].table_frames);
        for frame in tables {
            self.free_frame(frame);
            self.stats.page_table_frames -= 1;
        }
        self.processes[index].state = state;
    }

    /// Every valid base-page leaf of the page table at `root`, in VA order:
    /// (VPN, PPN, raw PTE).
    fn leaves(&self, dram: &Dram, root: PhysAddr) -> Vec<(u32, Ppn, u32)> {
        let geometry = *self.format.geometry();
        let mut out = Vec::new();
        let mut stack = vec![(root, geometry.root_level(), 0u32)];
        // Depth-first with the children pushed in reverse, so leaves come out in VA order.
        while let Some((table, level, prefix)) = stack.pop() {
            let shift = geometry.index_shift(level) - geometry.page_bits();
            let mut children = Vec::new();
            let pte_bytes = u64::from(geometry.pte_bytes());
            let mut i = 0;
            while i < geometry.entries_per_table(level) {
                let addr = PhysAddr::new(table.as_u64() + i * pte_bytes);
                // A 4 KiB chunk never written holds only invalid entries: skip it whole
                // (a flat table of word pages has 2^30 entries, a few of them used).
                if addr.as_u64() % 4096 == 0 || i == 0 {
                    let chunk_end = (addr.as_u64() | 4095) + 1;
                    if dram.host_bytes_in(addr, chunk_end - addr.as_u64()) == 0 {
                        i = (chunk_end - table.as_u64()).div_ceil(pte_bytes);
                        continue;
                    }
                }
                let raw = dram.peek(addr);
                let vpn = prefix | ((i as u32).checked_shl(u32::from(shift)).unwrap_or(0));
                match self.format.decode(raw, level) {
                    PteView::Pointer { next, .. } if level > 0 => children.push((next, level - 1, vpn)),
                    PteView::Leaf { ppn, .. } if level == 0 => out.push((vpn, ppn, raw)),
                    _ => {}
                }
                i += 1;
            }
            stack.extend(children.into_iter().rev());
        }
        out
    }

    /// Resident pages, virtual runs and physical runs of the page table at `root`.
    fn layout(&self, dram: &Dram, root: PhysAddr) -> (u64, u64, u64) {
        let leaves = self.leaves(dram, root);
        let (mut virtual_runs, mut physical_runs) = (0, 0);
        let mut prev: Option<(u32, Ppn)> = None;
        for &(vpn, ppn, _) in &leaves {
            let virtual_next = prev.is_some_and(|(v, _)| v.checked_add(1) == Some(vpn));
            let physical_next = prev.is_some_and(|(_, f)| f.as_u32().checked_add(1) == Some(ppn.as_u32()));
            if !virtual_next {
                virtual_runs += 1;
            }
            if !(virtual_next && physical_next) {
                physical_runs += 1;
            }
            prev = Some((vpn, ppn));
        }
        (leaves.len() as u64, virtual_runs, physical_runs)
    }

    /// Per-process counters, and the layout of each process's memory: now for a
    /// running process, as it was when it ended for the others.
    pub fn process_stats(&self, dram: &Dram) -> Vec<ProcessStats> {
        self.processes
            .iter()
            .map(|p| {
                let mut s = p.stats.clone();
                s.state = format!("{:?}", p.state);
                if p.state == ProcessState::Running {
                    (s.resident_pages, s.virtual_runs, s.physical_runs) = self.layout(dram, p.root);
                }
                s
            })
            .collect()
    }

    /// Every live mapping: (pid, VA of the page, frame, owner of the page). For
    /// tests that check isolation from the outside.
    pub fn mappings_now(&self, dram: &Dram) -> Vec<(Pid, VirtAddr, Ppn, Option<PageKey>)> {
        let mut out = Vec::new();
        for p in self.processes.iter().filter(|p| p.state == ProcessState::Running) {
            for (vpn, ppn, _) in self.leaves(dram, p.root) {
                let owner = match self.uses.get(ppn.as_index()) {
                    Some(FrameUse::Data(k)) => Some(*k),
                    _ => None,
                };
                out.push((p.pid, mmu_core::Vpn::new(vpn).base(self.page_bits), ppn, owner));
            }
        }
        out
    }
}
