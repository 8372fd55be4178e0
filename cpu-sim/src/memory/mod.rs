//! The memory system behind the memory port: the MMU (TLBs, walk caches, walker),
//! DRAM, and the OS model that handles the faults of the running process. A core
//! sees it only as a [`MemoryPort`]: an access goes in, a timed value or a trap
//! comes out.
//!
//! One access: the MMU translates; a fault goes to the OS, whose fences are
//! applied to the TLBs and walk caches and whose cycles are charged, and the
//! access is retried (a demand-zero fault, then an A/D fault, then success is the
//! longest legitimate sequence); a fault the OS refuses stops the process and
//! reaches the core as a trap. The data word then goes to DRAM. With no
//! translation (`AccessContext::space` is `None`) the virtual address is the
//! physical one.

mod faults;
mod functional;
mod hit_run;
mod lane;
pub mod mmu;
mod oracle;

pub use faults::FaultCounts;
pub use functional::Functional;
pub use oracle::CheckStats;

use crate::config::MachineConfig;
use crate::error::SimError;
pub(crate) use hit_run::{HitRun, OpenRun, RunTally};
use lane::HitLane;
pub(crate) use lane::LaneHit;
use mmu::Mmu;
use mmu_core::dram::RecordedDram;
use mmu_core::event::{Event, Hex, Off, Recorder};
use mmu_core::{
    AccessContext, AccessKind, Answer, Cycle, Dram, Fence, MemRequest, MemoryPort, PhysAddr, PhysMem, Pid,
    Timed, Traffic, Trap, TrapCause, Width,
};
use oracle::Oracle;
use os_model::{Os, Outcome, Segfault};

/// How many times one access may fault and be retried before the run stops with
/// a diagnostic: a demand-zero fault, then an A/D fault, then success is the
/// longest legitimate sequence.
pub(crate) const MAX_ATTEMPTS: u32 = 4;

/// TLBs, walk caches, walker, DRAM and the OS model, behind the memory port.
pub struct MemorySystem {
    pub(crate) mmu: Mmu,
    pub(crate) dram: Dram,
    pub(crate) os: Os,
    /// The process whose faults the OS handles.
    current: Pid,
    /// Accesses that reached the port, in order: the numbering OPT's future uses.
    issued: u64,
    /// `issued` when the counters were last reset.
    issued_before_reset: u64,
    faults: FaultCounts,
    /// Cycles the OS's fault handling cost, swap latencies included (the sum of
    /// every `Resolution::cost` charged).
    fault_cycles: u64,
    segfaults: Vec<Segfault>,
    oracle: Option<Oracle>,
    /// Recent L1 TLB hits, for the hit path ([`MemorySystem::access_hit`]).
    lane: HitLane,
    /// Whether the lane is filled (see [`MemorySystem::set_hit_lane`]).
    lane_on: bool,
    /// Whether the last access [`MemorySystem::access_hit`] took found its
    /// page in the lane: then a run of hits is likely to follow.
    lane_hit_last: bool,
}

impl MemorySystem {
    /// A memory system over booted parts, running process 0.
    pub fn new(mmu: Mmu, dram: Dram, os: Os) -> Self {
        let smallest_page = mmu_core::PageTableFormat::geometry(mmu.format()).leaf_sizes().min();
        let lane = HitLane::new(smallest_page.map_or(12, |p| u32::from(p.bits())));
        Self {
            mmu,
            dram,
            os,
            current: Pid::new(0),
            issued: 0,
            issued_before_reset: 0,
            faults: FaultCounts::default(),
            fault_cycles: 0,
            segfaults: Vec::new(),
            oracle: None,
            lane,
            lane_on: true,
            lane_hit_last: false,
        }
    }

    /// Boots the memory system `config` describes: DRAM, the MMU, and the OS with
    /// the config's processes (their root tables placed in DRAM).
    ///
    /// # Errors
    /// As [`Os::boot`]: `OutOfMemory` if DRAM cannot hold the root tables.
    pub fn boot(config: &MachineConfig) -> Result<Self, SimError> {
        let mut dram = Dram::new(&config.dram);
        let mmu = Mmu::new(&config.mmu, &config.tlb, config.seed);
        let capacity = dram.capacity_bytes();
        let os = Os::boot(
            &config.os,
            &config.processes,
            mmu.format(),
            config.mmu.privilege,
            config.seed,
            capacity,
            &mut dram,
        )?;
        Ok(Self::new(mmu, dram, os))
    }

    /// Turns on the data-integrity oracle (`--check`): every load is checked
    /// against a plain reference memory, and a mismatch stops the run.
    pub fn enable_check(&mut self) {
        self.oracle = Some(Oracle::default());
        self.lane.clear();
    }

    /// Turns the hit lane on (the default) or off: off, every access takes the
    /// general path, for a test or a measurement to compare against. Results
    /// are the same either way.
    pub fn set_hit_lane(&mut self, on: bool) {
        self.lane_on = on;
        self.lane.clear();
    }

    /// Gives OPT the future of the accesses about to be made.
    pub fn set_future(&mut self, future: os_model::Future) {
        self.os.set_future(future);
    }

    /// Accesses that reached the port (or the functional path) since the
    /// counters were last reset ([`MemorySystem::reset_counters`]).
    pub fn accesses(&self) -> u64 {
        self.issued - self.issued_before_reset
    }

    /// Gives the page of `pid` at `va` initial contents (a loader placing a
    /// program's segments or its stack; see `Os::preload`), and tells the
    /// `--check` oracle, if it is on (turn it on first).
    ///
    /// # Errors
    /// The OS refuses: `va` is not page aligned or lies outside every region.
    pub fn preload(&mut self, pid: Pid, va: mmu_core::VirtAddr, words: &[u32]) -> Result<(), SimError> {
        self.os.preload(pid, va, words)?;
        if let Some(oracle) = &mut self.oracle {
            for (i, &w) in words.iter().enumerate() {
                let word_va = mmu_core::VirtAddr::new(va.as_u32() + 4 * i as u32);
                if let Some(key) = self.os.word_key(pid, word_va) {
                    oracle.preload(key, w);
                }
            }
        }
        Ok(())
    }

    /// Makes `pid` the process whose faults the OS handles.
    pub fn set_current(&mut self, pid: Pid) {
        self.current = pid;
    }

    /// Applies the fences in order.
    pub fn apply(&mut self, fences: &[Fence]) {
        for &fence in fences {
            self.mmu.fence(fence);
        }
    }

    /// Ends process `pid` (its program ended) and drops its cached translations.
    pub fn exit(&mut self, pid: Pid) {
        let fences = self.os.exit(&mut self.dram, pid);
        self.apply(&fences);
    }

    /// Zeroes every counter of the memory system (MMU, DRAM, OS, faults, the
    /// oracle's counts), keeping all state: the end of a warm-up.
    pub fn reset_counters(&mut self) {
        self.issued_before_reset = self.issued;
        self.mmu.reset_stats();
        self.dram.reset_stats();
        self.os.reset_counters();
        self.faults = FaultCounts::default();
        self.fault_cycles = 0;
        self.segfaults.clear();
        if let Some(oracle) = &mut self.oracle {
            oracle.reset_counts();
        }
    }

    /// Page faults by kind so far (the core adds its own alignment faults).
    pub fn faults(&self) -> &FaultCounts {
        &self.faults
    }

    /// Cycles the OS spent handling page faults, swap latencies included: every
    /// fault's `Resolution::cost`, as charged to the faulting access.
    pub fn fault_cycles(&self) -> u64 {
        self.fault_cycles
    }

    /// Processes stopped by segmentation faults, in order.
    pub fn segfaults(&self) -> &[Segfault] {
        &self.segfaults
    }

    /// What the oracle verified, if it is on.
    pub fn check_stats(&self) -> Option<CheckStats> {
        self.oracle.as_ref().map(Oracle::stats)
    }

    /// The OS model.
    pub fn os(&self) -> &Os {
        &self.os
    }

    /// The DRAM.
    pub fn dram(&self) -> &Dram {
        &self.dram
    }

    /// The MMU.
    pub fn mmu(&self) -> &Mmu {
        &self.mmu
    }

    /// The data access itself, once translated to `paddr`.
    #[inline(always)]
    fn data(&mut self, now: Cycle, paddr: PhysAddr, request: MemRequest) -> Timed<u32> {
        let whole_word = request.width == Width::Word;
        match request.kind {
            AccessKind::Read | AccessKind::Fetch => {
                let read = self.dram.read(now, paddr, Traffic::Data);
                let value =
                    if whole_word { read.value } else { request.width.extract(read.value, paddr.as_u64()) };
                Timed { value, ready_at: read.ready_at }
            }
            AccessKind::Write => {
                // A byte or halfword store is a word write with the other lanes kept.
                let word = if whole_word {
                    request.value
                } else {
                    request.width.insert(self.dram.peek(paddr), paddr.as_u64(), request.value)
                };
                Timed { value: 0, ready_at: self.dram.write(now, paddr, word, Traffic::Data) }
            }
        }
    }

    /// [`MemorySystem::data`], telling `rec` about the DRAM request and the word.
    #[inline(always)]
    fn data_recorded<R: Recorder>(
        &mut self,
        now: Cycle,
        paddr: PhysAddr,
        request: MemRequest,
        rec: R,
    ) -> Timed<u32> {
        if !R::ON {
            return self.data(now, paddr, request);
        }
        let preview = self.dram.preview(now, paddr);
        let done = self.data(now, paddr, request);
        let is_write = request.kind == AccessKind::Write;
        rec.record(Event::Dram {
            at: now.as_u64(),
            op: if is_write { "write" } else { "read" },
            traffic: "data",
            addr: Hex(paddr.as_u64()),
            preview,
            cycles: done.ready_at.since(now).as_u64(),
        });
        let value = if is_write { request.value } else { done.value };
        rec.record(Event::Data { paddr: Hex(paddr.as_u64()), value: Hex(u64::from(value)) });
        done
    }

    /// The end of a translated access: the OS learns of the use, the data word
    /// goes to DRAM, and the oracle checks a load.
    #[inline(always)]
    fn complete<R: Recorder>(
        &mut self,
        now: Cycle,
        paddr: PhysAddr,
        index: u64,
        request: MemRequest,
        rec: R,
    ) -> Result<Answer, SimError> {
        self.os.touched(paddr, index);
        let done = self.data_recorded(now, paddr, request, rec);
        if let Some(oracle) = &mut self.oracle {
            oracle.observe(&self.os, self.current, index, request, done.value)?;
        }
        Ok(Timed { value: Ok(done.value), ready_at: done.ready_at })
    }

    #[cold]
    fn no_progress(&self, now: Cycle, request: MemRequest) -> SimError {
        SimError::NoProgress(format!(
            "access {request:?} of process {} still faults after {MAX_ATTEMPTS} attempts; \
             at cycle {}: {:?}, OS {:?}, MMU {:?}",
            self.current,
            now.as_u64(),
            self.faults,
            self.os.stats(),
            self.mmu.stats()
        ))
    }
}

impl MemorySystem {
    /// [`MemoryPort::access`], telling `rec` every step of the access: the TLB
    /// lookups, the walk and its DRAM requests, each fault and what the OS did
    /// about it, the fences, the retries, and the data word's DRAM request. With
    /// [`Off`] it is exactly the port's `access` (which calls it so).
    ///
    /// # Errors
    /// As [`MemoryPort::access`].
    #[inline]
    pub fn access_recorded<R: Recorder>(
        &mut self,
        now: Cycle,
        context: &AccessContext,
        request: MemRequest,
        rec: R,
    ) -> Result<Answer, SimError> {
        if !request.width.is_aligned(request.vaddr) {
            let trap = Trap { cause: TrapCause::Misaligned, vaddr: request.vaddr, kind: request.kind };
            return Ok(Timed { value: Err(trap), ready_at: now });
        }
        if !R::ON {
            if let Some(done) = self.access_hit(now, context, request) {
                return Ok(Timed { value: Ok(done.value), ready_at: done.ready_at });
            }
        }
        self.access_translated(now, context, request, rec)
    }

    /// The hit path of [`MemoryPort::access`] for an aligned `request`: when its
    /// translation is an L1 TLB hit that needs nothing more (see
    /// [`Mmu::l1_hit_of`]) and no oracle checks it, the access completes as the
    /// general path completes it (the hit counted, numbered, the OS told of the
    /// use, the word moved) and its value and time come back; otherwise nothing
    /// changes and `None` sends the caller to the general path
    /// ([`MemorySystem::access_translated`]). The hit comes from the hit lane
    /// when it holds the page ([`HitLane`]).
    #[inline(always)]
    pub(crate) fn access_hit(
        &mut self,
        now: Cycle,
        context: &AccessContext,
        request: MemRequest,
    ) -> Option<Timed<u32>> {
        let space = context.space?;
        let epoch = self.mmu.epoch();
        let found = self.lane.find(epoch, space, &context.privilege, request.vaddr, request.kind);
        self.lane_hit_last = found.is_some();
        let found = match found {
            Some(found) => found,
            None => self.fill_lane(space, &context.privilege, request)?,
        };
        Some(self.replay_lane_hit(now, found, request))
    }

    /// Completes the aligned `request` that `hit`, a current lane hit, serves:
    /// the L1 hit counted and its entry touched, the OS told of the use, the
    /// word moved; its value (0 for a store) and when it is done.
    #[inline(always)]
    pub(crate) fn replay_lane_hit(&mut self, now: Cycle, hit: LaneHit, request: MemRequest) -> Timed<u32> {
        let ready = self.mmu.replay_l1(now, hit.side, hit.entry);
        let paddr = PhysAddr::new(hit.paddr);
        let index = self.issued;
        self.issued += 1;
        self.os.touched(paddr, index);
        self.data(ready, paddr, request)
    }

    /// Whether the last access [`MemorySystem::access_hit`] took was a lane
    /// hit (the machine then looks for a run of them).
    #[inline(always)]
    pub(crate) fn lane_hit_last(&self) -> bool {
        self.lane_hit_last
    }

    /// The hit lane's miss: the L1 hit `request` would find now, remembered, or
    /// `None` (the general path's) with an oracle on or anything else than an L1
    /// hit that needs nothing more.
    #[cold]
    #[inline(never)]
    fn fill_lane(
        &mut self,
        space: mmu_core::AddressSpace,
        privilege: &mmu_core::PrivilegeState,
        request: MemRequest,
    ) -> Option<lane::LaneHit> {
        if self.oracle.is_some() || !self.lane_on {
            return None;
        }
        self.lane.fill(&self.mmu, space, privilege, request.vaddr, request.kind)
    }

    /// [`MemorySystem::access_recorded`] of an aligned `request`, past the hit
    /// path: translation (retried after each page fault the OS handles), then
    /// the data word.
    ///
    /// # Errors
    /// As [`MemoryPort::access`].
    pub(crate) fn access_translated<R: Recorder>(
        &mut self,
        now: Cycle,
        context: &AccessContext,
        request: MemRequest,
        rec: R,
    ) -> Result<Answer, SimError> {
        let trap = |cause| Trap { cause, vaddr: request.vaddr, kind: request.kind };
        let index = self.issued;
        self.issued += 1;
        let Some(space) = context.space else {
            let paddr = PhysAddr::new(u64::from(request.vaddr.as_u32()));
            if !self.dram.contains(paddr) {
                return Ok(Timed { value: Err(trap(TrapCause::AccessFault)), ready_at: now });
            }
            let done = self.data_recorded(now, paddr, request, rec);
            return Ok(Timed { value: Ok(done.value), ready_at: done.ready_at });
        };
        let mut now = now;
        for attempt in 0..MAX_ATTEMPTS {
            let (vaddr, kind) = (request.vaddr, request.kind);
            let translated = if R::ON {
                if attempt > 0 {
                    rec.record(Event::Retry { attempt });
                }
                let mut dram = RecordedDram { dram: &mut self.dram, recorder: rec };
                if attempt == 0 {
                    self.mmu.translate_recorded(now, &mut dram, space, &context.privilege, vaddr, kind, rec)
                } else {
                    self.mmu.retranslate(now, &mut dram, space, &context.privilege, vaddr, kind, rec)
                }
            } else if attempt == 0 {
                self.mmu.translate(now, &mut self.dram, space, &context.privilege, vaddr, kind)
            } else {
                // Counted apart in the TLBs' and walk caches' `retry_*` counters.
                self.mmu.retranslate(now, &mut self.dram, space, &context.privilege, vaddr, kind, Off)
            };
            now = translated.ready_at;
            match translated.value {
                Ok(paddr) => return self.complete(now, paddr, index, request, rec),
                Err(fault) => {
                    self.faults.count(fault.kind);
                    if R::ON {
                        rec.record(Event::Fault { at: now.as_u64(), kind: fault.kind, level: fault.level });
                    }
                    let resolution = self.os.handle_fault(&mut self.dram, self.current, fault)?;
                    if R::ON {
                        resolution.story.iter().cloned().for_each(|step| rec.record(Event::Os { step }));
                        rec.record(Event::OsCost { at: now.as_u64(), cycles: resolution.cost.as_u64() });
                        for f in &resolution.fences {
                            rec.record(Event::Fence {
                                vaddr: f.vaddr.map(|v| Hex(u64::from(v.as_u32()))),
                                asid: f.asid.map(mmu_core::Asid::as_u16),
                            });
                        }
                    }
                    self.apply(&resolution.fences);
                    now += resolution.cost;
                    self.fault_cycles += resolution.cost.as_u64();
                    if let Outcome::Stopped(segfault) = resolution.outcome {
                        if R::ON {
                            rec.record(Event::Trapped {
                                reason: format!(
                                    "segmentation fault of process {}: {}",
                                    segfault.pid, segfault.reason
                                ),
                            });
                        }
                        self.segfaults.push(segfault);
                        return Ok(Timed { value: Err(trap(TrapCause::Fault(fault))), ready_at: now });
                    }
                }
            }
        }
        Err(self.no_progress(now, request))
    }
}

impl MemoryPort for MemorySystem {
    type Error = SimError;

    #[inline(always)]
    fn access(
        &mut self,
        now: Cycle,
        context: &AccessContext,
        request: MemRequest,
    ) -> Result<Answer, SimError> {
        self.access_recorded(now, context, request, Off)
    }

    fn fence(&mut self, fence: Fence) {
        self.mmu.fence(fence);
    }
}
