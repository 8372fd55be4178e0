//! The page-fault handler: demand-zero allocation, swap-in, eviction of a victim
//! chosen by the replacement policy (dirty victims written to swap), software A/D
//! updates, and segmentation faults that stop a process and free its memory.
//!
//! It returns what it did as data, a [`Resolution`]: the cycles it cost, the
//! fences the machine must apply to its TLBs and walk caches (each evicted page's
//! shootdown, each A bit Clock cleared), and whether the access may be retried.
//! It touches memory only through [`PhysBackdoor`]: its own traffic is part of
//! the configured handler cycles, not timed per word. Page tables are pinned.
//!
//! A page is either resident (in a frame), in swap (a slot), or untouched (zero).
//! A page keeps its swap slot once it has one, so a clean page whose copy is in
//! swap is dropped on eviction without a write; a clean page with no slot was never
//! written since it was zero-filled, so it is dropped and comes back zero-filled.

use crate::error::OsError;
use crate::frames::{FrameUse, TableFrame};
use crate::os::{Os, ResidentView, Segfault, mappings};
use crate::page_table::Descent;
use crate::process::{Owner, PageKey, ProcessState, Region, page_key};
use mmu_core::event::{Hex, OsStep};
use mmu_core::{
    AccessKind, Cycles, Fault, FaultKind, Fence, PageTableFormat, PhysAddr, PhysBackdoor, Pid, Ppn, VirtAddr,
};

/// What the OS did about a fault.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Resolution {
    /// Handler cycles, swap latencies included.
    pub cost: Cycles,
    /// Cached translations to drop before the access is retried, in order.
    pub fences: Vec<Fence>,
    /// Whether the access may be retried.
    pub outcome: Outcome,
    /// What the handler did, step by step, when the OS was asked to tell it
    /// ([`Os::set_narrating`]); empty otherwise.
    pub story: Vec<OsStep>,
}

/// Whether a faulting access may go on.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Outcome {
    /// The fault was fixed: retry the access.
    Retry,
    /// The process was stopped (a segmentation fault).
    Stopped(Segfault),
}

impl Os {
    /// Handles a page fault of process `pid`.
    ///
    /// # Errors
    /// `OutOfMemory` when no frame can be freed, `SwapFull` when a dirty victim
    /// finds no swap slot, `Internal` on a broken invariant.
    pub fn handle_fault(
        &mut self,
        mem: &mut dyn PhysBackdoor,
        pid: Pid,
        fault: Fault,
    ) -> Result<Resolution, OsError> {
        let mut fences = Vec::new();
        let trap = self.config.trap_cycles;
        let region = self.process(pid).and_then(|p| p.region(fault.vaddr)).cloned();
        self.tell(|| OsStep::Trap { cycles: trap.as_u64() });
        if let Some(r) = &region {
            self.tell(|| OsStep::Region {
                name: r.config.name.clone(),
                base: Hex(u64::from(r.config.base)),
                size: Hex(r.config.size),
                perms: r.config.perms.to_string(),
            });
        }
        let (cost, outcome) = match fault.kind {
            FaultKind::NotPresent => match region {
                None => {
                    self.stop(mem, pid, fault, "address outside every region of the process", &mut fences)
                }
                Some(region) if !region.config.allows(fault.access) => {
                    self.stop(mem, pid, fault, "access not allowed by the region's permissions", &mut fences)
                }
                Some(region) => {
                    let cost = self.page_in(mem, pid, &region, fault.vaddr, &mut fences)?;
                    (cost, Outcome::Retry)
                }
            },
            FaultKind::AccessedDirty => {
                let root = self.root_of(pid)?;
                let (pte_addr, _) = self.tables.find_leaf(mem, root, fault.vaddr)?.ok_or_else(|| {
                    OsError::Internal(format!("A/D fault at {} with no leaf PTE", fault.vaddr))
                })?;
                let mut raw = self.format().with_accessed(mem.peek(pte_addr));
                if fault.access == AccessKind::Write {
                    raw = self.format().with_dirty(raw);
                }
                mem.poke(pte_addr, raw);
                let cycles = self.config.accessed_dirty_cycles.as_u64();
                self.tell(|| OsStep::AccessedDirtySet { cycles });
                self.tell(|| OsStep::PteWritten { addr: Hex(pte_addr.as_u64()), raw: Hex(u64::from(raw)) });
                self.stats.accessed_dirty_updates += 1;
                (self.config.accessed_dirty_cycles, Outcome::Retry)
            }
            FaultKind::Protection => {
                self.stop(mem, pid, fault, "access not allowed by the page's permissions", &mut fences)
            }
            FaultKind::Reserved | FaultKind::MisalignedSuperpage | FaultKind::AccessFault => {
                self.stop(mem, pid, fault, "malformed page table entry", &mut fences)
            }
        };
        if let Outcome::Stopped(segfault) = &outcome {
            let why = segfault.reason.to_string();
            self.tell(|| OsStep::Segfault { why });
        }
        let story = self.story.as_mut().map(std::mem::take).unwrap_or_default();
        Ok(Resolution { cost: trap + cost, fences, outcome, story })
    }

    fn root_of(&self, pid: Pid) -> Result<PhysAddr, OsError> {
        self.process(pid).map(|p| p.root).ok_or_else(|| OsError::Internal(format!("no process {pid}")))
    }

    /// Maps the page of `va` for `pid`: a shared page already resident, a page
    /// back from swap, or a zero-filled one. Returns the handler cycles.
    fn page_in(
        &mut self,
        mem: &mut dyn PhysBackdoor,
        pid: Pid,
        region: &Region,
        va: VirtAddr,
        fences: &mut Vec<Fence>,
    ) -> Result<Cycles, OsError> {
        let key = page_key(pid, region, va, self.page_shift);
        let pte_perms = region.config.pte_perms();
        let mut cost = Cycles::ZERO;
        if region.config.superpages && self.superpage_in(mem, pid, region, va, &mut cost, fences)? {
            return Ok(cost);
        }
        let pte_addr = self.build_leaf(mem, pid, va, &mut cost, fences)?;
        let info = self.pages.get(&key).copied().unwrap_or_default();
        if let Some(frame) = info.frame {
            if key.owner == Owner::Process(pid) {
                return Err(OsError::Internal(format!(
                    "process {pid} faulted on {va}, whose private page is resident in frame {frame:?}"
                )));
            }
            if let Some(p) = self.processes.get_mut(pid) {
                p.stats.shared_maps += 1;
            }
            self.stats.shared_maps += 1;
            let raw = self.format().encode_leaf(frame, pte_perms, false);
            mem.poke(pte_addr, raw);
            self.tell(|| OsStep::SharedMap { frame: Hex(u64::from(frame.as_u32())) });
            self.tell(|| OsStep::PteWritten { addr: Hex(pte_addr.as_u64()), raw: Hex(u64::from(raw)) });
            return Ok(cost);
        }
        let frame = self.alloc_data_frame(mem, pid, va, key, &mut cost, fences)?;
        let base = frame.base(self.page_shift);
        mem.zero(base, self.format().geometry().page_bytes());
        match (info.slot, &self.swap, &self.config.swap) {
            (Some(slot), Some(swap), Some(device)) => {
                if let Some(words) = swap.read(slot) {
                    mem.write_words(base, words);
                }
                self.stats.swap_ins += 1;
                self.stats.swap_reads += 1;
                if let Some(p) = self.processes.get_mut(pid) {
                    p.stats.swap_ins += 1;
                }
                let cycles = (self.config.swap_in_cycles + device.read_latency).as_u64();
                cost += self.config.swap_in_cycles + device.read_latency;
                self.tell(|| OsStep::SwapIn { slot: u64::from(slot), cycles });
            }
            _ => {
                if let Some(words) = self.initial.get(&key) {
                    mem.write_words(base, words);
                }
                self.stats.demand_zero += 1;
                if let Some(p) = self.processes.get_mut(pid) {
                    p.stats.demand_zero += 1;
                }
                cost += self.config.demand_zero_cycles;
                let cycles = self.config.demand_zero_cycles.as_u64();
                self.tell(|| OsStep::DemandZero { cycles });
            }
        }
        self.pages.entry(key).or_default().frame = Some(frame);
        let raw = self.format().encode_leaf(frame, pte_perms, false);
        mem.poke(pte_addr, raw);
        self.tell(|| OsStep::PteWritten { addr: Hex(pte_addr.as_u64()), raw: Hex(u64::from(raw)) });
        Ok(cost)
    }

    /// The address of the leaf PTE for `vaddr` in `pid`'s table, building the
    /// missing tables on the way down (which may evict pages: their cost is added).
    fn build_leaf(
        &mut self,
        mem: &mut dyn PhysBackdoor,
        pid: Pid,
        vaddr: VirtAddr,
        cost: &mut Cycles,
        fences: &mut Vec<Fence>,
    ) -> Result<PhysAddr, OsError> {
        let geometry = *self.format().geometry();
        let mut table = self.root_of(pid)?;
        for level in (1..geometry.levels()).rev() {
            table = match self.tables.step(mem, table, vaddr, level)? {
                Descent::Next(next) => next,
                Descent::Missing(pte_addr) => {
                    let next = self.alloc_table(mem, pid, vaddr, level - 1, cost, fences)?;
                    self.tables.link(mem, pte_addr, next);
                    next
                }
            };
        }
        Ok(geometry.pte_addr(table, vaddr, 0))
    }

    /// Takes a free data frame for `key`, evicting a page if none is free.
    fn alloc_data_frame(
        &mut self,
        mem: &mut dyn PhysBackdoor,
        pid: Pid,
        va: VirtAddr,
        key: PageKey,
        cost: &mut Cycles,
        fences: &mut Vec<Fence>,
    ) -> Result<Ppn, OsError> {
        let frame = match self.frames.alloc_data(key) {
            Some(f) => f,
            None => {
                *cost += self.evict_one(mem, pid, va, fences)?;
                self.frames
                    .alloc_data(key)
                    .ok_or_else(|| OsError::Internal("no free frame after an eviction".into()))?
            }
        };
        self.replacer.loaded(frame);
        self.tell(|| OsStep::FrameTaken { frame: Hex(u64::from(frame.as_u32())) });
        Ok(frame)
    }

    /// The root table of process `pid`, at boot: flat tables sit in the region
    /// reserved for them, every other root is a node from the pool.
    pub(crate) fn alloc_root(&mut self, mem: &mut dyn PhysBackdoor, pid: Pid) -> Result<PhysAddr, OsError> {
        if let Some(root) = self.tables.flat_root(pid) {
            return root;
        }
        let root_level = self.format().geometry().root_level();
        let (mut cost, mut fences) = (Cycles::ZERO, Vec::new());
        self.alloc_table(mem, pid, VirtAddr::new(0), root_level, &mut cost, &mut fences)
    }

    /// A zeroed table node for `level`: one frame, or a run of frames for a node
    /// larger than a page. A single frame may be made by evicting a data page
    /// (without a table pool of its own); a run never is: eviction frees frames
    /// wherever its victims were, not side by side.
    fn alloc_table(
        &mut self,
        mem: &mut dyn PhysBackdoor,
        pid: Pid,
        vaddr: VirtAddr,
        level: u8,
        cost: &mut Cycles,
        fences: &mut Vec<Fence>,
    ) -> Result<PhysAddr, OsError> {
        let frames = self.tables.frames_per_node(level);
        let ppn = if frames == 1 {
            match self.frames.alloc_table() {
                TableFrame::Taken(f) => f,
                TableFrame::PoolFull { frames } => {
                    return Err(OsError::OutOfMemory {
                        frames,
                        pid,
                        vaddr,
                        why: "every frame outside `os.data_frames` holds a page table (page tables are pinned)",
                    });
                }
                TableFrame::NeedsEviction => {
                    *cost += self.evict_one(mem, pid, vaddr, fences)?;
                    match self.frames.alloc_table() {
                        TableFrame::Taken(f) => f,
                        TableFrame::PoolFull { .. } | TableFrame::NeedsEviction => {
                            return Err(OsError::Internal("no free frame after an eviction".into()));
                        }
                    }
                }
            }
        } else {
            let pooled = self.config.data_frames.is_some();
            self.frames.alloc_table_run(frames).map_err(|pool_frames| OsError::OutOfMemory {
                frames: pool_frames,
                pid,
                vaddr,
                why: if pooled {
                    "no run of contiguous free frames outside `os.data_frames` is left for a page-table node larger than a page"
                } else {
                    "no run of contiguous free frames is left for a page-table node larger than a page \
                     (evicting pages frees scattered frames, not a run)"
                },
            })?
        };
        if let Some(p) = self.processes.get_mut(pid) {
            p.table_frames.extend((0..frames as u32).map(|i| Ppn::new(ppn.as_u32() + i)));
        }
        let base = ppn.base(self.page_shift);
        mem.zero(base, frames * self.tables.page_bytes());
        self.stats.page_table_frames += frames;
        self.tables.record_node(base, frames);
        self.tell(|| OsStep::TableAllocated { table: Hex(base.as_u64()) });
        Ok(base)
    }

    /// Chooses a victim by the configured policy and evicts it. Returns the cycles.
    fn evict_one(
        &mut self,
        mem: &mut dyn PhysBackdoor,
        pid: Pid,
        vaddr: VirtAddr,
        fences: &mut Vec<Fence>,
    ) -> Result<Cycles, OsError> {
        let frames = self.frames.data_frames();
        if self.swap.is_none() {
            return Err(OsError::OutOfMemory {
                frames,
                pid,
                vaddr,
                why: "no swap device is configured (`os.swap`) to page out to",
            });
        }
        let Os { replacer, frames: table, tables, processes, stats, page_shift, pages, .. } = self;
        let mut view = ResidentView {
            frames: table,
            tables,
            processes,
            stats,
            page_shift: *page_shift,
            pages,
            mem,
            fences,
        };
        let fences_before = view.fences.len();
        let victim = replacer.choose_victim(&mut view)?.ok_or(OsError::OutOfMemory {
            frames,
            pid,
            vaddr,
            why: "every frame holds a page table and page tables are pinned",
        })?;
        if self.story.is_some() {
            let second_chances = fences.len() - fences_before;
            self.tell_victim(mem, victim, second_chances)?;
        }
        self.evict(mem, victim, pid, vaddr, fences)
    }

    /// Tells which page the policy chose and why (only when a story is told).
    fn tell_victim(
        &mut self,
        mem: &dyn PhysBackdoor,
        frame: Ppn,
        second_chances: usize,
    ) -> Result<(), OsError> {
        let FrameUse::Data(key) = self.frames.use_of(frame) else {
            return Ok(());
        };
        let maps = mappings(&self.tables, &self.processes, self.page_shift, mem, key, frame)?;
        let dirty = self.pages.get(&key).is_some_and(|i| i.dirty)
            || maps.iter().any(|m| self.tables.accessed_dirty(m.3).1);
        let vaddr = maps.first().map_or(0, |m| m.1.as_u32());
        let owner = match key.owner {
            Owner::Process(p) => Some(p.as_u32()),
            Owner::Shared(_) => None,
        };
        let policy = self.config.replacement;
        let why = match policy {
            crate::replacement::PageReplacement::Fifo => {
                "the page loaded longest ago (head of the FIFO queue)".to_string()
            }
            crate::replacement::PageReplacement::Lru => {
                "the page whose last use is oldest (front of the exact LRU list)".to_string()
            }
            crate::replacement::PageReplacement::Clock => format!(
                "the first page the clock hand found with every A bit clear, after giving {second_chances} \
                 referenced page(s) a second chance (A cleared, TLB entry fenced)"
            ),
            crate::replacement::PageReplacement::Random => {
                "drawn by the OS's seeded random stream".to_string()
            }
            crate::replacement::PageReplacement::Opt => {
                "the page whose next use is furthest in the future (or never), Belady's choice".to_string()
            }
        };
        self.tell(|| OsStep::Victim {
            frame: Hex(u64::from(frame.as_u32())),
            owner,
            vaddr: Hex(u64::from(vaddr)),
            policy: format!("{policy:?}"),
            why,
            dirty,
        });
        Ok(())
    }

    /// Evicts the page in `frame`: unmaps it everywhere, writes it to swap if dirty.
    fn evict(
        &mut self,
        mem: &mut dyn PhysBackdoor,
        frame: Ppn,
        pid: Pid,
        vaddr: VirtAddr,
        fences: &mut Vec<Fence>,
    ) -> Result<Cycles, OsError> {
        let FrameUse::Data(key) = self.frames.use_of(frame) else {
            return Err(OsError::Internal(format!("victim frame {frame:?} holds no data page")));
        };
        let mappings = mappings(&self.tables, &self.processes, self.page_shift, mem, key, frame)?;
        if let Some(&(_, _, _, raw, level)) = mappings.iter().find(|m| m.4 > 0) {
            return self.evict_superpage(mem, &mappings, raw, level, pid, vaddr, fences);
        }
        let mut info = self.pages.get(&key).copied().unwrap_or_default();
        let dirty = info.dirty || mappings.iter().any(|m| self.tables.accessed_dirty(m.3).1);
        let mut cost = self.config.evict_cycles;
        let evict_cycles = cost.as_u64();
        self.tell(|| OsStep::EvictWork { cycles: evict_cycles });
        cost += self.write_back(mem, frame, &mut info, dirty, pid, vaddr)?;
        self.shoot_down(mem, &mappings, fences);
        self.page_out(frame, key, info);
        Ok(cost)
    }

    /// Clears each of `mappings`' PTEs and fences its page in its process's ASID.
    fn shoot_down(
        &mut self,
        mem: &mut dyn PhysBackdoor,
        mappings: &[crate::os::Mapping],
        fences: &mut Vec<Fence>,
    ) {
        for &(mapper, va, addr, _, _) in mappings {
            mem.poke(addr, 0);
            if let Some(p) = self.process(mapper) {
                fences.push(Fence::page(va, p.asid));
            }
            self.stats.shootdowns += 1;
        }
    }

    /// Records that the page `key` left `frame` (its swap slot, if any, now holds
    /// it) and frees the frame.
    fn page_out(&mut self, frame: Ppn, key: PageKey, mut info: crate::os::PageInfo) {
        info.frame = None;
        info.dirty = false;
        if info.slot.is_some() {
            self.pages.insert(key, info);
        } else {
            // Never written: it comes back zero-filled (or with its initial contents).
            self.pages.remove(&key);
        }
        if let Owner::Process(owner) = key.owner {
            if let Some(p) = self.processes.get_mut(owner) {
                p.stats.evicted += 1;
            }
        }
        self.stats.evictions += 1;
        self.free_frame(frame);
    }

    /// Writes the page in `frame` to swap if `dirty` (giving it a slot if it has
    /// none), else counts a clean eviction. Returns the device's write latency.
    fn write_back(
        &mut self,
        mem: &dyn PhysBackdoor,
        frame: Ppn,
        info: &mut crate::os::PageInfo,
        dirty: bool,
        pid: Pid,
        vaddr: VirtAddr,
    ) -> Result<Cycles, OsError> {
        if !dirty {
            self.stats.clean_evictions += 1;
            self.tell(|| OsStep::Dropped);
            return Ok(Cycles::ZERO);
        }
        let swap = self.swap.as_mut().ok_or_else(|| OsError::Internal("eviction without swap".into()))?;
        let slot = match info.slot {
            Some(s) => s,
            None => swap.alloc().ok_or(OsError::SwapFull { slots: swap.slots(), pid, vaddr })?,
        };
        let mut words = vec![0; swap.words_per_page()];
        mem.read_words(frame.base(self.page_shift), &mut words);
        swap.write(slot, &words);
        info.slot = Some(slot);
        self.stats.dirty_writebacks += 1;
        self.stats.swap_writes += 1;
        let latency = self.config.swap.as_ref().map_or(Cycles::ZERO, |device| device.write_latency);
        self.tell(|| OsStep::WriteBack { slot: u64::from(slot), cycles: latency.as_u64() });
        Ok(latency)
    }

    /// Evicts a whole superpage, one of whose base pages the policy chose: every
    /// base page is written back if the superpage is dirty (one D bit for all) and
    /// freed, then the superpage's PTE is cleared and shot down, which drops every
    /// TLB entry derived from it, 4 KiB pieces included.
    #[allow(clippy::too_many_arguments)]
    fn evict_superpage(
        &mut self,
        mem: &mut dyn PhysBackdoor,
        mappings: &[crate::os::Mapping],
        raw: u32,
        level: u8,
        pid: Pid,
        vaddr: VirtAddr,
        fences: &mut Vec<Fence>,
    ) -> Result<Cycles, OsError> {
        let geometry = *self.format().geometry();
        let pieces = 1u32 << (geometry.index_shift(level) - self.page_shift.bits());
        let mmu_core::PteView::Leaf { ppn: first, dirty, .. } = self.format().decode(raw, level) else {
            return Err(OsError::Internal(format!("superpage PTE {raw:#x} is no leaf")));
        };
        let mut cost = self.config.evict_cycles;
        for i in 0..pieces {
            let frame = Ppn::new(first.as_u32() + i);
            let FrameUse::Data(key) = self.frames.use_of(frame) else {
                return Err(OsError::Internal(format!("superpage frame {frame:?} holds no data page")));
            };
            let mut info = self.pages.get(&key).copied().unwrap_or_default();
            let page_dirty = dirty || info.dirty;
            cost += self.write_back(mem, frame, &mut info, page_dirty, pid, vaddr)?;
            self.page_out(frame, key, info);
        }
        self.shoot_down(mem, mappings, fences);
        self.stats.superpage_evictions += 1;
        Ok(cost)
    }

    /// Maps the whole superpage holding `va`, if its level-1 PTE is still invalid
    /// (no table of base pages there) and an aligned run of frames holds no page
    /// table: made free by evicting the policy's victims as long as none is free
    /// (a superpage victim frees such a run at once). Each base page comes back
    /// from swap or zero-filled, at a base page's cost. Returns false when the base
    /// page must do instead, for good (its table stays).
    fn superpage_in(
        &mut self,
        mem: &mut dyn PhysBackdoor,
        pid: Pid,
        region: &Region,
        va: VirtAddr,
        cost: &mut Cycles,
        fences: &mut Vec<Fence>,
    ) -> Result<bool, OsError> {
        const LEVEL: u8 = 1;
        let geometry = *self.format().geometry();
        let shift = geometry.leaf_page_shift(LEVEL);
        let pieces = 1u32 << (shift.bits() - self.page_shift.bits());
        let pte_addr = geometry.pte_addr(self.root_of(pid)?, va, LEVEL);
        if self.format().decode(mem.peek(pte_addr), LEVEL) != mmu_core::PteView::Invalid {
            return Ok(false);
        }
        if !self.frames.may_free_aligned_run(pieces) {
            return Ok(false);
        }
        // The model's stand-in for compaction: evict the policy's victims until an
        // aligned run is free (a superpage victim frees one at once).
        while !self.frames.has_aligned_free_run(pieces) {
            *cost += self.evict_one(mem, pid, va, fences)?;
        }
        let base_va = va.as_u32() & !(shift.offset_mask() as u32);
        let page_shift = self.page_shift;
        let keys: Vec<PageKey> = (0..pieces)
            .map(|i| page_key(pid, region, VirtAddr::new(base_va + (i << page_shift.bits())), page_shift))
            .collect();
        let first = self
            .frames
            .alloc_data_aligned(pieces, |i| keys[i as usize])
            .ok_or_else(|| OsError::Internal("no aligned run after finding one".into()))?;
        // The policy knows the superpage by its first frame.
        self.replacer.loaded(first);
        let mut swapped = false;
        for (i, &key) in keys.iter().enumerate() {
            let frame = Ppn::new(first.as_u32() + i as u32);
            let base = frame.base(page_shift);
            mem.zero(base, self.format().geometry().page_bytes());
            let info = self.pages.get(&key).copied().unwrap_or_default();
            if info.frame.is_some() {
                return Err(OsError::Internal(format!("page {key:?} of a superpage is already resident")));
            }
            match (info.slot, &self.swap, &self.config.swap) {
                (Some(slot), Some(swap), Some(device)) => {
                    if let Some(words) = swap.read(slot) {
                        for (j, &w) in words.iter().enumerate() {
                            if w != 0 {
                                mem.poke(PhysAddr::new(base.as_u64() + 4 * j as u64), w);
                            }
                        }
                    }
                    self.stats.swap_reads += 1;
                    *cost += self.config.swap_in_cycles + device.read_latency;
                    swapped = true;
                }
                _ => *cost += self.config.demand_zero_cycles,
            }
            self.pages.entry(key).or_default().frame = Some(frame);
        }
        let p = self.processes.get_mut(pid);
        if swapped {
            self.stats.swap_ins += 1;
            if let Some(p) = p {
                p.stats.swap_ins += 1;
            }
        } else {
            self.stats.demand_zero += 1;
            if let Some(p) = p {
                p.stats.demand_zero += 1;
            }
        }
        self.stats.superpage_maps += 1;
        let raw = self
            .format()
            .encode_leaf_at(LEVEL, first, region.config.pte_perms(), false)
            .ok_or_else(|| OsError::Internal("superpage region in a format without level-1 leaves".into()))?;
        mem.poke(pte_addr, raw);
        Ok(true)
    }

    fn free_frame(&mut self, frame: Ppn) {
        if self.frames.release(frame).is_some() {
            self.replacer.removed(frame);
        }
    }

    fn stop(
        &mut self,
        mem: &mut dyn PhysBackdoor,
        pid: Pid,
        fault: Fault,
        reason: &'static str,
        fences: &mut Vec<Fence>,
    ) -> (Cycles, Outcome) {
        self.release(mem, pid, ProcessState::Stopped, fences);
        self.stats.segfaults += 1;
        let process = self.process(pid).map(|p| p.name.clone()).unwrap_or_default();
        let segfault =
            Segfault { pid, process, vaddr: fault.vaddr, access: fault.access, fault: fault.kind, reason };
        (Cycles::ZERO, Outcome::Stopped(segfault))
    }

    /// Ends process `pid` because its program ended: its memory is freed. Returns
    /// the fences that drop its cached translations.
    pub fn exit(&mut self, mem: &mut dyn PhysBackdoor, pid: Pid) -> Vec<Fence> {
        let mut fences = Vec::new();
        if self.is_running(pid) {
            self.release(mem, pid, ProcessState::Exited, &mut fences);
            self.stats.exits += 1;
        }
        fences
    }

    /// Frees the private pages, swap slots and page tables of `pid`, and sets its
    /// state. Its TLB and walk-cache entries are flushed by ASID (`sfence.vma x0,
    /// asid`), as a kernel does before reusing an address space: the ASID is never
    /// reused here, but no cached translation may outlive the PTE it came from.
    fn release(
        &mut self,
        mem: &mut dyn PhysBackdoor,
        pid: Pid,
        state: ProcessState,
        fences: &mut Vec<Fence>,
    ) {
        let Some(process) = self.process(pid) else { return };
        let (asid, root) = (process.asid, process.root);
        fences.push(Fence::address_space(asid));
        let layout = self.layout(mem, root);
        // Dirty bits of its PTEs on shared pages must outlive its page table.
        for (vpn, ppn, raw) in self.tables.leaves(mem, root) {
            let va = mmu_core::Vpn::new(vpn).base(self.page_shift);
            let Some(region) = self.process(pid).and_then(|p| p.region(va)) else { continue };
            if region.object.is_none() {
                continue;
            }
            let key = page_key(pid, region, va, self.page_shift);
            let dirty = self.tables.accessed_dirty(raw).1;
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
        let Some(process) = self.processes.get_mut(pid) else { return };
        (process.stats.resident_pages, process.stats.virtual_runs, process.stats.physical_runs) = layout;
        let tables = std::mem::take(&mut process.table_frames);
        process.state = state;
        for frame in tables {
            self.free_frame(frame);
            self.stats.page_table_frames -= 1;
        }
    }
}

#[cfg(test)]
mod tests {
    //! The fault handler on its own: a test memory, no MMU; the fences it returns
    //! are the record of what it asked the machine to drop.

    use super::*;
    use crate::config::OsConfig;
    use crate::process::{ProcessConfig, ProcessState, RegionConfig};
    use crate::replacement::PageReplacement;
    use crate::swap::SwapConfig;
    use mmu_core::testing::TestMem;
    use mmu_core::{PageShift, PageTableFormat, Paging, PagingConfig, Perms, PrivilegeState, PteView};

    const TRAP: u64 = 100;
    const DEMAND_ZERO: u64 = 1_000;
    const SWAP_IN: u64 = 300;
    const EVICT: u64 = 50;
    const READ: u64 = 7_000;
    const WRITE: u64 = 11_000;
    /// 16 frames of 4 KiB.
    const MEMORY: u64 = 16 * 4096;

    fn os_config(data_frames: u64, replacement: PageReplacement) -> OsConfig {
        OsConfig {
            trap_cycles: Cycles::new(TRAP),
            demand_zero_cycles: Cycles::new(DEMAND_ZERO),
            accessed_dirty_cycles: Cycles::new(5),
            swap_in_cycles: Cycles::new(SWAP_IN),
            evict_cycles: Cycles::new(EVICT),
            context_switch_cycles: Cycles::ZERO,
            data_frames: Some(data_frames),
            replacement,
            swap: Some(SwapConfig {
                capacity_bytes: 64 * 4096,
                read_latency: Cycles::new(READ),
                write_latency: Cycles::new(WRITE),
            }),
        }
    }

    /// One process with a read-write data region of 4 pages at 0x1000_0000.
    fn boot(data_frames: u64, replacement: PageReplacement) -> (Os, TestMem, Paging) {
        let format = PagingConfig::Sv32.build();
        let process = ProcessConfig {
            name: "p".into(),
            regions: vec![RegionConfig {
                name: "data".into(),
                base: 0x1000_0000,
                size: 4 * 4096,
                perms: Perms::parse("rw-").unwrap(),
                user: true,
                shared: None,
                superpages: false,
            }],
        };
        let mut mem = TestMem::new(MEMORY, 1);
        let os = Os::boot(
            &os_config(data_frames, replacement),
            &[process],
            &format,
            PrivilegeState::default(),
            1,
            MEMORY,
            &mut mem,
        )
        .unwrap();
        (os, mem, format)
    }

    fn fault(kind: FaultKind, vaddr: u32, access: AccessKind) -> Fault {
        Fault { kind, vaddr: VirtAddr::new(vaddr), access, level: Some(0) }
    }

    const P0: Pid = Pid::new(0);

    /// The leaf PTE of `va` in process 0's table, read from memory.
    fn leaf(os: &Os, mem: &TestMem, va: u32) -> Option<(PhysAddr, u32)> {
        let root = os.process(P0).unwrap().root;
        let (addr, _level) = os.tables.find_leaf(mem, root, VirtAddr::new(va)).unwrap()?;
        Some((addr, mem.peek(addr)))
    }

    fn frame_of(format: &Paging, raw: u32) -> Ppn {
        match format.decode(raw, 0) {
            PteView::Leaf { ppn, .. } => ppn,
            other => panic!("not a leaf: {other:?}"),
        }
    }

    #[test]
    fn a_first_touch_maps_a_zeroed_frame_and_asks_for_no_fence() {
        let (mut os, mut mem, format) = boot(4, PageReplacement::Fifo);
        let r = os
            .handle_fault(&mut mem, P0, fault(FaultKind::NotPresent, 0x1000_0004, AccessKind::Read))
            .unwrap();
        assert_eq!(
            r,
            Resolution {
                cost: Cycles::new(TRAP + DEMAND_ZERO),
                fences: vec![],
                outcome: Outcome::Retry,
                story: vec![]
            }
        );
        let (_, raw) = leaf(&os, &mem, 0x1000_0000).expect("the page is mapped");
        // Data frames are 0..4 (the tables have their own pool): the first is frame 0.
        assert_eq!(frame_of(&format, raw), Ppn::new(0));
        assert_eq!((os.stats().demand_zero, os.stats().data_frames), (1, 1));
    }

    #[test]
    fn a_touch_outside_every_region_stops_the_process_and_flushes_its_asid() {
        let (mut os, mut mem, _) = boot(4, PageReplacement::Fifo);
        let r = os
            .handle_fault(&mut mem, P0, fault(FaultKind::NotPresent, 0x2000_0000, AccessKind::Write))
            .unwrap();
        assert_eq!(r.cost, Cycles::new(TRAP));
        assert_eq!(r.fences, vec![Fence::address_space(mmu_core::Asid::new(0))]);
        let Outcome::Stopped(segfault) = r.outcome else { panic!("the process must stop") };
        assert_eq!(segfault.reason, "address outside every region of the process");
        assert_eq!(os.process(P0).unwrap().state, ProcessState::Stopped);
        assert_eq!(os.stats().segfaults, 1);
    }

    #[test]
    fn a_dirty_victim_is_written_to_swap_shot_down_and_read_back() {
        // One data frame: the second page evicts the first.
        let (mut os, mut mem, format) = boot(1, PageReplacement::Fifo);
        let (a, b) = (0x1000_0000, 0x1000_1000);
        os.handle_fault(&mut mem, P0, fault(FaultKind::NotPresent, a, AccessKind::Write)).unwrap();
        let (pte_addr, raw) = leaf(&os, &mem, a).unwrap();
        let frame = frame_of(&format, raw);
        // The program stores 0xfeed at a + 8, and the walker sets A and D.
        mem.poke(PhysAddr::new(frame.base(PageShift::KIB_4).as_u64() + 8), 0xfeed);
        mem.poke(pte_addr, format.with_dirty(format.with_accessed(raw)));

        let r = os.handle_fault(&mut mem, P0, fault(FaultKind::NotPresent, b, AccessKind::Read)).unwrap();
        // trap + eviction work + the write to swap + zero-filling the new page.
        assert_eq!(r.cost, Cycles::new(TRAP + EVICT + WRITE + DEMAND_ZERO));
        assert_eq!(r.fences, vec![Fence::page(VirtAddr::new(a), mmu_core::Asid::new(0))]);
        assert_eq!(leaf(&os, &mem, a).map(|(_, raw)| raw), Some(0), "a's PTE is cleared");
        let s = os.stats();
        assert_eq!((s.evictions, s.dirty_writebacks, s.swap_writes, s.shootdowns), (1, 1, 1, 1));

        // a comes back from swap (evicting the clean b: no write), with its data.
        let r = os.handle_fault(&mut mem, P0, fault(FaultKind::NotPresent, a, AccessKind::Read)).unwrap();
        assert_eq!(r.cost, Cycles::new(TRAP + EVICT + SWAP_IN + READ));
        assert_eq!(r.fences, vec![Fence::page(VirtAddr::new(b), mmu_core::Asid::new(0))]);
        let frame = frame_of(&format, leaf(&os, &mem, a).unwrap().1);
        assert_eq!(mem.peek(PhysAddr::new(frame.base(PageShift::KIB_4).as_u64() + 8)), 0xfeed);
        let s = os.stats();
        assert_eq!((s.swap_ins, s.clean_evictions, s.swap_writes), (1, 1, 1));
    }

    #[test]
    fn clock_clears_a_bits_with_a_fence_each_before_it_evicts() {
        let (mut os, mut mem, format) = boot(2, PageReplacement::Clock);
        let pages = [0x1000_0000u32, 0x1000_1000];
        for va in pages {
            os.handle_fault(&mut mem, P0, fault(FaultKind::NotPresent, va, AccessKind::Read)).unwrap();
            let (addr, raw) = leaf(&os, &mem, va).unwrap();
            mem.poke(addr, format.with_accessed(raw));
        }
        // Both referenced: the hand clears both A bits (a fence each), then takes frame 0.
        let r = os
            .handle_fault(&mut mem, P0, fault(FaultKind::NotPresent, 0x1000_2000, AccessKind::Read))
            .unwrap();
        let asid = mmu_core::Asid::new(0);
        assert_eq!(
            r.fences,
            vec![
                Fence::page(VirtAddr::new(pages[0]), asid),
                Fence::page(VirtAddr::new(pages[1]), asid),
                Fence::page(VirtAddr::new(pages[0]), asid),
            ]
        );
        assert_eq!(os.stats().accessed_clears, 2);
        assert_eq!(leaf(&os, &mem, pages[0]).map(|(_, raw)| raw), Some(0), "frame 0's page was evicted");
    }

    #[test]
    fn a_software_a_d_fault_sets_both_bits_for_a_store() {
        let (mut os, mut mem, format) = boot(4, PageReplacement::Fifo);
        let va = 0x1000_3000;
        os.handle_fault(&mut mem, P0, fault(FaultKind::NotPresent, va, AccessKind::Write)).unwrap();
        let r =
            os.handle_fault(&mut mem, P0, fault(FaultKind::AccessedDirty, va, AccessKind::Write)).unwrap();
        assert_eq!((r.cost, r.outcome), (Cycles::new(TRAP + 5), Outcome::Retry));
        match format.decode(leaf(&os, &mem, va).unwrap().1, 0) {
            PteView::Leaf { accessed, dirty, .. } => assert!(accessed && dirty),
            other => panic!("{other:?}"),
        }
    }
}
