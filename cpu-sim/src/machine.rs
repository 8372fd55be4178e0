//! The machine: a core (the trace player) and the memory system behind its
//! memory port, with what sits between them in a real system: the current
//! process, context switches, and the end of a process.

use crate::config::MachineConfig;
use crate::error::SimError;
use crate::memory::MemorySystem;
use crate::memory::mmu::Mmu;
use crate::player::TracePlayer;
use crate::report::Report;
use mmu_core::{AccessContext, AddressSpace, Dram, Pid};
use os_model::{Future, Os};
use workload::{Access, TraceEvent};

/// A whole machine: trace player, MMU, DRAM and OS.
pub struct Machine {
    config: MachineConfig,
    memory: MemorySystem,
    player: TracePlayer,
    current: Pid,
    accesses: u64,
    skipped_accesses: u64,
    context_switches: u64,
    future_known: bool,
}

impl Machine {
    /// Builds and boots a machine from a validated config.
    ///
    /// # Errors
    /// `OutOfMemory` if DRAM cannot hold the processes' root tables.
    pub fn new(config: &MachineConfig) -> Result<Self, SimError> {
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
        let current = Pid::new(0);
        let first = os.process(current).ok_or_else(|| SimError::Internal("no process to run".into()))?;
        let context =
            AccessContext::paged(AddressSpace { asid: first.asid, root: first.root }, config.mmu.privilege);
        Ok(Self {
            config: config.clone(),
            memory: MemorySystem::new(mmu, dram, os),
            player: TracePlayer::new(config.cpu.cycles_per_access, context),
            current,
            accesses: 0,
            skipped_accesses: 0,
            context_switches: 0,
            future_known: false,
        })
    }

    /// The config the machine was built from.
    pub fn config(&self) -> &MachineConfig {
        &self.config
    }

    /// Turns on the data-integrity oracle: every load is checked against a plain
    /// reference memory, and a mismatch stops the run with `CheckFailed`.
    pub fn enable_check(&mut self) {
        self.memory.enable_check();
    }

    /// Whether the replacement policy (OPT) must see the workload before the run
    /// (the runner reads it ahead and calls [`Machine::set_future`]).
    pub fn needs_future(&self) -> bool {
        self.memory.os.needs_future() && !self.future_known
    }

    /// Gives OPT the future of the workload about to run.
    pub fn set_future(&mut self, future: Future) {
        self.memory.os.set_future(future);
        self.future_known = true;
    }

    /// Performs one event; `origin` names the workload in errors.
    ///
    /// # Errors
    /// A switch to an unknown process, memory exhaustion, or an internal error.
    #[inline]
    pub fn step(&mut self, event: TraceEvent, origin: &str) -> Result<(), SimError> {
        match event {
            TraceEvent::Access(access) => self.access(access),
            TraceEvent::Switch(pid) => self.switch(pid, origin),
        }
    }

    /// Gives the CPU to `pid`: a context switch, charged and counted, unless it
    /// runs already.
    ///
    /// # Errors
    /// `UnknownProcess` if the config declares no such process.
    pub fn switch(&mut self, pid: Pid, origin: &str) -> Result<(), SimError> {
        let count = self.config.processes.len();
        let process = self.memory.os.process(pid).ok_or_else(|| SimError::UnknownProcess {
            origin: origin.to_string(),
            pid,
            count,
        })?;
        if pid != self.current {
            let space = AddressSpace { asid: process.asid, root: process.root };
            self.current = pid;
            self.player.set_context(AccessContext::paged(space, self.config.mmu.privilege));
            self.memory.set_current(pid);
            self.memory.mmu.switch_to(space);
            self.context_switches += 1;
            self.player.charge(self.config.os.context_switch_cycles);
            self.memory.os.count_switch_in(pid);
            self.check_clock()?;
        }
        Ok(())
    }

    /// One access of the running process: replayed, or skipped if it was stopped.
    ///
    /// # Errors
    /// What the memory system stops the run with.
    #[inline]
    pub fn access(&mut self, access: Access) -> Result<(), SimError> {
        self.accesses += 1;
        self.memory.os.count_access(self.current);
        if !self.memory.os.is_running(self.current) {
            self.skipped_accesses += 1;
            self.player.skip();
            return Ok(());
        }
        self.player.access(&mut self.memory, access)?;
        self.check_clock()
    }

    /// Stops the run when the clock has saturated (`Cycle + Cycles` saturates
    /// rather than wraps): every later cycle count would be wrong.
    #[inline]
    fn check_clock(&self) -> Result<(), SimError> {
        if self.player.now() == mmu_core::Cycle::new(u64::MAX) {
            return Err(self.clock_overflow());
        }
        Ok(())
    }

    #[cold]
    fn clock_overflow(&self) -> SimError {
        let os = &self.config.os;
        let mut costs = vec![
            ("cpu.cycles_per_access", self.config.cpu.cycles_per_access),
            ("os.trap_cycles", os.trap_cycles),
            ("os.demand_zero_cycles", os.demand_zero_cycles),
            ("os.accessed_dirty_cycles", os.accessed_dirty_cycles),
            ("os.swap_in_cycles", os.swap_in_cycles),
            ("os.evict_cycles", os.evict_cycles),
            ("os.context_switch_cycles", os.context_switch_cycles),
        ];
        if let Some(swap) = &os.swap {
            costs.push(("os.swap.read_latency", swap.read_latency));
            costs.push(("os.swap.write_latency", swap.write_latency));
        }
        let (name, largest) =
            costs.into_iter().max_by_key(|(_, c)| c.as_u64()).unwrap_or(("", mmu_core::Cycles::ZERO));
        let cause = if largest.as_u64() >= 1 << 40 {
            format!("`{name}` is {} cycles; make it smaller", largest.as_u64())
        } else {
            format!(
                "the costs of {} accesses add up past 2^64 cycles (the largest OS or CPU cost is `{name}`, {} cycles); \
                 check the config's latencies: TLB `hit_latency`, `dram.timing`, the OS's costs",
                self.accesses,
                largest.as_u64()
            )
        };
        SimError::ClockOverflow { access: self.accesses, cause }
    }

    /// Whether `pid` still runs.
    pub fn is_running(&self, pid: Pid) -> bool {
        self.memory.os.is_running(pid)
    }

    /// Ends process `pid`: its program ended.
    pub fn exit(&mut self, pid: Pid) {
        self.memory.exit(pid);
    }

    /// The player's clock.
    pub fn now(&self) -> mmu_core::Cycle {
        self.player.now()
    }

    /// The memory system (for tests and tools that inspect its state).
    pub fn memory(&self) -> &MemorySystem {
        &self.memory
    }

    /// The OS model, for tests that inspect its state.
    pub fn os(&self) -> &Os {
        &self.memory.os
    }

    /// The DRAM, for tests that inspect page tables and frames.
    pub fn dram(&self) -> &Dram {
        &self.memory.dram
    }

    /// The word at physical address `addr`, read without timing (for tests and tools).
    pub fn peek_phys(&self, addr: u64) -> u32 {
        self.memory.dram.peek(mmu_core::PhysAddr::new(addr))
    }

    /// Host bytes spent on simulated memory contents.
    pub fn host_memory_bytes(&self) -> u64 {
        self.memory.dram.host_bytes()
    }

    /// The report of everything so far.
    pub fn report(&self) -> Report {
        let memory = &self.memory;
        let mut faults = memory.faults().clone();
        faults.alignment = self.player.alignment_faults();
        let mmu = memory.mmu();
        Report::assemble(
            self.config.clone(),
            crate::report::RunCounts {
                accesses: self.accesses,
                skipped_accesses: self.skipped_accesses,
                context_switches: self.context_switches,
                cycles: self.player.now().as_u64(),
            },
            crate::report::MmuReport {
                tlb: crate::report::TlbReport(mmu.tlb_stats()),
                walk_cache: crate::report::TlbReport(mmu.walk_cache_stats()),
                tlb_invalidations: mmu.invalidation_stats(),
                walker: mmu.stats().walker.clone(),
            },
            faults,
            crate::report::OsReport {
                stats: memory.os.stats(),
                page_table_bytes: memory.os.page_table_bytes(),
                page_table_touched_bytes: memory.os.page_table_touched_bytes(&memory.dram),
                segfaults: memory.segfaults().to_vec(),
                processes: memory.os.process_stats(&memory.dram),
            },
            memory.dram.stats(),
            self.player.data_checksum(),
            memory.check_stats(),
        )
    }
}
