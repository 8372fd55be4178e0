//! The OS model's state: the process table, the frame table, the page-table
//! builder, where every page is (a frame, a swap slot, or nowhere yet), the
//! replacement policy and the swap device; and what the rest of the machine may
//! ask of it. Fault handling is in [`crate::handler`].

use crate::config::OsConfig;
use crate::error::OsError;
use crate::frames::{FrameTable, FrameUse};
use crate::page_table::{MemoryPlan, PageTables};
use crate::process::{
    Owner, PageKey, Process, ProcessConfig, ProcessState, ProcessStats, ProcessTable, admits, page_key,
};
use crate::replacement::{Future, PageReplacement, Replacer, Residents};
use crate::swap::{Slot, SwapDevice};
use mmu_core::event::OsStep;
use mmu_core::{
    AccessKind, FaultKind, Fence, PageShift, PageTableFormat, Paging, PhysAddr, PhysBackdoor, Pid, Ppn,
    PrivilegeState, SimRng, VirtAddr,
};
use rand::SeedableRng;
use serde::Serialize;
use std::collections::BTreeMap;

/// Salt of the random replacement policy's stream (see `SimRng`).
pub const SALT_PAGE_REPLACEMENT: u64 = 0x5041_4745_5245_504c;

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
    /// Page faults served by mapping a whole superpage (also counted once in
    /// `demand_zero` or `swap_ins`; their base pages in `swap_reads`).
    pub superpage_maps: u64,
    /// Superpages evicted whole (their base pages are counted in `evictions`,
    /// `dirty_writebacks` and `clean_evictions`).
    pub superpage_evictions: u64,
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

/// Where a page is.
#[derive(Clone, Copy, Debug, Default)]
pub(crate) struct PageInfo {
    pub(crate) frame: Option<Ppn>,
    pub(crate) slot: Option<Slot>,
    /// Dirty bits of PTEs that are gone (a process that mapped a shared page ended).
    pub(crate) dirty: bool,
}

/// The OS model.
pub struct Os {
    pub(crate) config: OsConfig,
    pub(crate) privilege: PrivilegeState,
    pub(crate) page_shift: PageShift,
    pub(crate) frames: FrameTable,
    pub(crate) tables: PageTables,
    pub(crate) pages: BTreeMap<PageKey, PageInfo>,
    pub(crate) processes: ProcessTable,
    pub(crate) replacer: Replacer,
    /// `replacer.watches_uses()`, kept as it changes (OPT's once it knows the
    /// future): what each access's [`Os::touched`] tests.
    watches_uses: bool,
    pub(crate) swap: Option<SwapDevice>,
    pub(crate) stats: OsStats,
    /// Pages whose first touch fills them with these words instead of zeros:
    /// a program's loaded segments and its initial stack ([`Os::preload`]).
    pub(crate) initial: BTreeMap<PageKey, Box<[u32]>>,
    /// The steps of the fault being handled, when `explain` asked for them
    /// ([`Os::set_narrating`]); handed back in the fault's `Resolution::story`.
    pub(crate) story: Option<Vec<OsStep>>,
}

impl Os {
    /// Boots the OS: one root table per process, allocated and zeroed in memory.
    ///
    /// # Errors
    /// `OutOfMemory` if memory cannot hold the root tables.
    pub fn boot(
        config: &OsConfig,
        processes: &[ProcessConfig],
        format: &Paging,
        privilege: PrivilegeState,
        seed: u64,
        capacity_bytes: u64,
        mem: &mut dyn PhysBackdoor,
    ) -> Result<Self, OsError> {
        let page_bytes = format.geometry().page_bytes();
        // The frames PTEs can reach, below any flat tables (issue #4's memory plan).
        let plan = MemoryPlan::new(format, capacity_bytes, processes.len()).map_err(OsError::Internal)?;
        let total = plan.pool_frames;
        let data = config.data_frames.unwrap_or(total).min(total);
        let mut os = Os {
            config: config.clone(),
            privilege,
            page_shift: format.geometry().page_shift(),
            frames: FrameTable::new(data, total - data),
            tables: PageTables::new(format.clone(), plan, processes.len()),
            pages: BTreeMap::new(),
            processes: ProcessTable::default(),
            replacer: Replacer::new(config.replacement, SimRng::seed_from_u64(seed ^ SALT_PAGE_REPLACEMENT)),
            watches_uses: false,
            swap: config.swap.as_ref().map(|s| SwapDevice::new(s.capacity_bytes / page_bytes, page_bytes)),
            stats: OsStats { frames_total: total, data_frames_total: data, ..OsStats::default() },
            initial: BTreeMap::new(),
            story: None,
        };
        let table = ProcessTable::new(processes, |pid| {
            let root = os.alloc_root(mem, pid)?;
            Ok::<_, OsError>((root, os.tables.root_frames(root)))
        })?;
        os.processes = table;
        os.watches_uses = os.replacer.watches_uses();
        Ok(os)
    }

    /// Whether each fault's handling is told step by step in its
    /// `Resolution::story` (for `explain`; off by default, and then the handler
    /// builds nothing).
    pub fn set_narrating(&mut self, on: bool) {
        self.story = on.then(Vec::new);
    }

    /// Adds a step to the story of the fault being handled, if one is told.
    #[inline]
    pub(crate) fn tell(&mut self, step: impl FnOnce() -> OsStep) {
        if let Some(story) = &mut self.story {
            story.push(step());
        }
    }

    /// Gives the page of `pid` at `va` (page aligned) initial contents: its first
    /// touch, and any touch after a clean eviction, fills it with `words` (one
    /// page of them, or fewer: the rest is zero) instead of zeros. This is how a
    /// loader maps a program's segments and its initial stack, as a file-backed
    /// mapping would be on Linux. Counted and charged as a demand-zero fault.
    ///
    /// # Errors
    /// `Internal` if `va` is not page aligned or lies outside every region of `pid`.
    pub fn preload(&mut self, pid: Pid, va: VirtAddr, words: &[u32]) -> Result<(), OsError> {
        let page_words = (self.format().geometry().page_bytes() / 4) as usize;
        if va.as_u32() & ((1u32 << self.page_shift.bits()) - 1) != 0 || words.len() > page_words {
            return Err(OsError::Internal(format!("preload of {} words at {va}: not one page", words.len())));
        }
        let region = self.process(pid).and_then(|p| p.region(va)).ok_or_else(|| {
            OsError::Internal(format!("preload at {va}: outside every region of process {pid}"))
        })?;
        let key = crate::process::page_key(pid, region, va, self.page_shift);
        self.initial.insert(key, words.into());
        Ok(())
    }

    /// The process `pid`, if it exists.
    pub fn process(&self, pid: Pid) -> Option<&Process> {
        self.processes.get(pid)
    }

    /// How many processes the OS has.
    pub fn process_count(&self) -> usize {
        self.processes.len()
    }

    /// Whether `pid` exists and still runs.
    #[inline]
    pub fn is_running(&self, pid: Pid) -> bool {
        self.processes.is_running(pid)
    }

    /// The paging format of the page tables.
    pub fn format(&self) -> &Paging {
        self.tables.format()
    }

    /// Whether the replacement policy needs the workload's future ([`crate::FutureBuilder`]).
    pub fn needs_future(&self) -> bool {
        self.config.replacement == PageReplacement::Opt
    }

    /// Gives OPT the future of the workload about to run.
    pub fn set_future(&mut self, future: Future) {
        self.replacer.set_future(future);
        self.watches_uses = self.replacer.watches_uses();
    }

    /// Counters, with the frame table's and the swap device's state now.
    pub fn stats(&self) -> OsStats {
        let (slots, used, peak) = self.swap.as_ref().map_or((0, 0, 0), |s| (s.slots(), s.used(), s.peak()));
        OsStats {
            frames_free: self.frames.free(),
            largest_free_run: self.frames.largest_free_run(),
            data_frames: self.frames.data_in_use(),
            swap_slots: slots,
            swap_slots_used: used,
            swap_slots_peak: peak,
            ..self.stats.clone()
        }
    }

    /// Zeroes the event counters (faults served, evictions, swap traffic, and each
    /// process's), keeping the state they describe: frames, tables, pages, swap
    /// slots. The peak of swap slots restarts at the slots in use. The end of a warm-up.
    pub fn reset_counters(&mut self) {
        let kept = OsStats {
            page_table_frames: self.stats.page_table_frames,
            frames_total: self.stats.frames_total,
            data_frames_total: self.stats.data_frames_total,
            ..OsStats::default()
        };
        self.stats = kept;
        if let Some(swap) = &mut self.swap {
            swap.reset_peak();
        }
        self.processes.reset_counters();
    }

    /// Counts an access by `pid` (made or skipped) and tells whether `pid` runs
    /// ([`Os::is_running`]), with one look-up of the process.
    #[inline]
    pub fn count_access_if_running(&mut self, pid: Pid) -> bool {
        match self.processes.get_mut(pid) {
            Some(p) => {
                p.stats.accesses += 1;
                p.state == ProcessState::Running
            }
            None => false,
        }
    }

    /// Counts `n` accesses by `pid` ([`Os::count_access_if_running`] `n`
    /// times, for a process known to run).
    #[inline]
    pub fn count_accesses(&mut self, pid: Pid, n: u64) {
        if let Some(p) = self.processes.get_mut(pid) {
            p.stats.accesses += n;
        }
    }

    /// Counts a switch to `pid`.
    pub fn count_switch_in(&mut self, pid: Pid) {
        if let Some(p) = self.processes.get_mut(pid) {
            p.stats.switched_in += 1;
        }
    }

    /// Whether [`Os::touched`] needs to see completed accesses (LRU and OPT do).
    #[inline]
    pub fn watches_uses(&self) -> bool {
        self.replacer.watches_uses()
    }

    /// The CPU completed access number `index` at `paddr`: LRU and OPT learn of it.
    #[inline(always)]
    pub fn touched(&mut self, paddr: PhysAddr, index: u64) {
        if self.watches_uses {
            let frame = self.frames.unit_of(paddr.ppn(self.page_shift));
            self.replacer.touched(frame, index);
        }
    }

    /// Whether the OS lets an access by `pid` complete (otherwise it stops the
    /// process with a segmentation fault): [`Os::admitted_page`] without the page.
    pub fn admits(&self, pid: Pid, kind: AccessKind, vaddr: VirtAddr) -> bool {
        self.admitted_page(pid, kind, vaddr).is_some()
    }

    /// The page an access by `pid` touches, if the OS lets it complete: the same
    /// rule decides, in the real run and in OPT's look-ahead, which accesses
    /// complete and which stop their process.
    pub(crate) fn admitted_page(&self, pid: Pid, kind: AccessKind, vaddr: VirtAddr) -> Option<PageKey> {
        let process = self.process(pid)?;
        let region = process.region(vaddr);
        if !admits(region, kind, self.format(), &self.privilege) {
            return None;
        }
        // A superpage is replaced as one: its future is that of its first page.
        region.map(|r| {
            let va = if r.config.superpages {
                let shift = self.format().geometry().leaf_page_shift(1);
                VirtAddr::new(vaddr.as_u32() & !(shift.offset_mask() as u32))
            } else {
                vaddr
            };
            page_key(pid, r, va, self.page_shift)
        })
    }

    /// The word `va` of process `pid` names, as the `--check` oracle keys it:
    /// its owner and its byte offset in the owner's space. `None` outside regions.
    pub fn word_key(&self, pid: Pid, va: VirtAddr) -> Option<(Owner, u32)> {
        let region = self.process(pid)?.region(va)?;
        Some(match region.object {
            None => (Owner::Process(pid), va.as_u32()),
            Some(o) => (Owner::Shared(o), va.as_u32() - region.config.base),
        })
    }

    /// Bytes of memory set aside for page tables.
    pub fn page_table_bytes(&self) -> u64 {
        self.tables.page_table_bytes(self.stats.page_table_frames)
    }

    /// Host bytes behind page-table memory (see [`PageTables::touched_bytes`]).
    pub fn page_table_touched_bytes(&self, mem: &dyn PhysBackdoor) -> u64 {
        self.tables.touched_bytes(mem, |frame| self.frames.is_table(frame))
    }

    /// Resident pages, virtual runs and physical runs of the page table at `root`.
    pub(crate) fn layout(&self, mem: &dyn PhysBackdoor, root: PhysAddr) -> (u64, u64, u64) {
        let leaves = self.tables.leaves(mem, root);
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
    pub fn process_stats(&self, mem: &dyn PhysBackdoor) -> Vec<ProcessStats> {
        self.processes
            .iter()
            .map(|p| {
                let mut s = p.stats.clone();
                s.state = format!("{:?}", p.state);
                if p.state == ProcessState::Running {
                    (s.resident_pages, s.virtual_runs, s.physical_runs) = self.layout(mem, p.root);
                }
                s
            })
            .collect()
    }

    /// Every live mapping: (pid, VA of the page, frame, owner of the page). For
    /// tests that check isolation from the outside.
    pub fn mappings_now(&self, mem: &dyn PhysBackdoor) -> Vec<(Pid, VirtAddr, Ppn, Option<PageKey>)> {
        let mut out = Vec::new();
        for p in self.processes.iter().filter(|p| p.state == ProcessState::Running) {
            for (vpn, ppn, _) in self.tables.leaves(mem, p.root) {
                let owner = match self.frames.use_of(ppn) {
                    FrameUse::Data(k) => Some(k),
                    FrameUse::Free | FrameUse::Table => None,
                };
                out.push((p.pid, mmu_core::Vpn::new(vpn).base(self.page_shift), ppn, owner));
            }
        }
        out
    }
}

/// Whether the page `key` in `frame` must be written back when evicted: a dirty
/// bit left by a mapper that is gone, or set in a PTE mapping it now.
pub(crate) fn is_dirty(
    tables: &PageTables,
    processes: &ProcessTable,
    page_shift: PageShift,
    mem: &dyn PhysBackdoor,
    pages: &BTreeMap<PageKey, PageInfo>,
    key: PageKey,
    frame: Ppn,
) -> Result<bool, OsError> {
    if pages.get(&key).is_some_and(|info| info.dirty) {
        return Ok(true);
    }
    let mappings = mappings(tables, processes, page_shift, mem, key, frame)?;
    Ok(mappings.iter().any(|m| tables.accessed_dirty(m.3).1))
}

/// A leaf PTE mapping a page: (pid, va, PTE address, raw PTE, level of the PTE:
/// above 0 for a superpage, of which the page is one base page).
pub(crate) type Mapping = (Pid, VirtAddr, PhysAddr, u32, u8);

/// The valid leaf PTEs mapping `frame` for `key`.
pub(crate) fn mappings(
    tables: &PageTables,
    processes: &ProcessTable,
    page_shift: PageShift,
    mem: &dyn PhysBackdoor,
    key: PageKey,
    frame: Ppn,
) -> Result<Vec<Mapping>, OsError> {
    let mut found = Vec::new();
    let geometry = *tables.format().geometry();
    for (pid, va) in processes.mappers(key, page_shift) {
        let Some(root) = processes.get(pid).map(|p| p.root) else { continue };
        let Some((addr, level)) = tables.find_leaf(mem, root, va)? else { continue };
        let raw = mem.peek(addr);
        if let mmu_core::PteView::Leaf { ppn, .. } = tables.format().decode(raw, level) {
            // The page of `va` within the (super)page the PTE maps.
            let pieces_bits = geometry.index_shift(level) - page_shift.bits();
            let piece = va.vpn(page_shift).as_u32() & ((1u32 << pieces_bits) - 1);
            if ppn.as_u32() + piece == frame.as_u32() {
                found.push((pid, va, addr, raw, level));
            }
        }
    }
    Ok(found)
}

/// What a replacement policy sees of the OS while it chooses a victim: the frame
/// table, and for Clock the PTEs whose A bits it clears (with the fences owed).
pub(crate) struct ResidentView<'a> {
    pub(crate) frames: &'a FrameTable,
    pub(crate) tables: &'a PageTables,
    pub(crate) processes: &'a ProcessTable,
    pub(crate) stats: &'a mut OsStats,
    pub(crate) page_shift: PageShift,
    pub(crate) pages: &'a BTreeMap<PageKey, PageInfo>,
    pub(crate) mem: &'a mut dyn PhysBackdoor,
    pub(crate) fences: &'a mut Vec<Fence>,
}

impl Residents for ResidentView<'_> {
    fn scanned(&self) -> u32 {
        self.frames.scanned()
    }
    fn holds_data(&self, frame: Ppn) -> bool {
        matches!(self.frames.use_of(frame), FrameUse::Data(_)) && !self.frames.is_tail(frame)
    }
    fn page(&self, frame: Ppn) -> Option<PageKey> {
        match self.frames.use_of(frame) {
            FrameUse::Data(key) => Some(key),
            FrameUse::Free | FrameUse::Table => None,
        }
    }
    fn is_dirty(&self, frame: Ppn) -> Result<bool, OsError> {
        let FrameUse::Data(key) = self.frames.use_of(frame) else { return Ok(false) };
        is_dirty(self.tables, self.processes, self.page_shift, &*self.mem, self.pages, key, frame)
    }
    fn clear_accessed(&mut self, frame: Ppn) -> Result<bool, OsError> {
        let FrameUse::Data(key) = self.frames.use_of(frame) else { return Ok(false) };
        let mut referenced = false;
        for (pid, va, addr, raw, _) in
            mappings(self.tables, self.processes, self.page_shift, self.mem, key, frame)?
        {
            let (accessed, _) = self.tables.accessed_dirty(raw);
            if accessed {
                referenced = true;
                self.mem.poke(addr, self.tables.format().without_accessed(raw));
                if let Some(p) = self.processes.get(pid) {
                    self.fences.push(Fence::page(va, p.asid));
                }
            }
        }
        if referenced {
            self.stats.accessed_clears += 1;
        }
        Ok(referenced)
    }
}
