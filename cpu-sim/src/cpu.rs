//! The CPU: takes events from the workload, translates each access through the
//! MMU, lets the OS handle faults, performs the data access in DRAM, and counts
//! cycles. An in-order, blocking CPU: one access at a time, every latency adds.
//!
//! It also runs the OS's scheduler over a `Processes` workload, and, when asked
//! (`--check`), the data-integrity oracle: a plain reference memory, keyed by
//! (process or shared object, address), against which every load is compared.

use crate::config::MachineConfig;
use crate::error::SimError;
use crate::mmu::{AddressSpace, Mmu};
use crate::os::scheduler::{Executor, drive};
use crate::os::{FutureBuilder, Os, Owner, Resolution, Segfault};
use crate::report::{CheckStats, FaultCounts, Report, TlbReport};
use crate::workload::{Access, Generator, TraceEvent, WorkloadConfig, WorkloadError};
use mmu_core::{AccessKind, Cycle, Dram, PhysMem, Pid, Traffic};
use std::collections::HashMap;

/// How many times one access may fault and be retried before the run stops with
/// a diagnostic: a demand-zero fault, then an A/D fault, then success is the
/// longest legitimate sequence.
const MAX_ATTEMPTS: u32 = 4;

const FNV_OFFSET: u64 = 0xcbf2_9ce4_8422_2325;
const FNV_PRIME: u64 = 0x0000_0100_0000_01b3;

/// Salt that sets process `i`'s program stream apart in a `Processes` workload.
const SALT_PROGRAM: u64 = 0x9e37_79b9_7f4a_7c15;

/// The `--check` oracle: the last value stored at each word, as a program sees it.
/// Never iterated, so the map's order cannot reach the report.
#[derive(Default)]
struct Oracle {
    memory: HashMap<(Owner, u32), u32>,
    loads_checked: u64,
    stores_recorded: u64,
}

/// A whole machine: CPU, MMU, DRAM and OS.
pub struct Machine {
    config: MachineConfig,
    dram: Dram,
    mmu: Mmu,
    os: Os,
    now: Cycle,
    current: Pid,
    space: AddressSpace,
    accesses: u64,
    skipped_accesses: u64,
    context_switches: u64,
    faults: FaultCounts,
    data_checksum: u64,
    segfaults: Vec<Segfault>,
    oracle: Option<Oracle>,
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
        let os = Os::boot(
            &config.os,
            &config.processes,
            mmu.format(),
            config.mmu.privilege,
            config.seed,
            &mut dram,
        )?;
        let current = Pid::new(0);
        let first = os.process(current).ok_or_else(|| SimError::Internal("no process to run".into()))?;
        let space = AddressSpace { asid: first.asid, root: first.root };
        Ok(Self {
            config: config.clone(),
            dram,
            mmu,
            os,
            now: Cycle::ZERO,
            current,
            space,
            accesses: 0,
            skipped_accesses: 0,
            context_switches: 0,
            faults: FaultCounts::default(),
            data_checksum: FNV_OFFSET,
            segfaults: Vec::new(),
            oracle: None,
            future_known: false,
        })
    }

    /// Turns on the data-integrity oracle: every load is checked against a plain
    /// reference memory, and a mismatch stops the run with `CheckFailed`.
    pub fn enable_check(&mut self) {
        self.oracle = Some(Oracle::default());
    }

    /// Whether the replacement policy (OPT) must see the workload before the run:
    /// then pass the same workload to [`Machine::learn_future`] first.
    pub fn needs_future(&self) -> bool {
        self.os.needs_future() && !self.future_known
    }

    /// Replays `workload` (the same events [`Machine::run`] will get) without
    /// simulating it, to give OPT each access's next use.
    ///
    /// # Errors
    /// The first workload error, or a switch to an unknown process.
    pub fn learn_future<I>(&mut self, workload: I, origin: &str) -> Result<(), SimError>
    where
        I: IntoIterator<Item = Result<TraceEvent, WorkloadError>>,
    {
        let mut builder = FutureBuilder::new(&self.os);
        for event in workload {
            builder.event(event?, origin)?;
        }
        let future = builder.finish();
        self.os.set_future(future);
        self.future_known = true;
        Ok(())
    }

    /// Runs every event of `workload`; `origin` names the workload in errors.
    ///
    /// # Errors
    /// The first workload or simulation error; the machine's state is then as it
    /// was after the last complete event.
    pub fn run<I>(&mut self, workload: I, origin: &str) -> Result<(), SimError>
    where
        I: IntoIterator<Item = Result<TraceEvent, WorkloadError>>,
    {
        for event in workload {
            self.step(event?, origin)?;
        }
        Ok(())
    }

    /// Runs the config's synthetic workload: one generator, or a `Processes` mix
    /// under the round-robin scheduler. Learns the future first if OPT needs it.
    ///
    /// # Errors
    /// The first simulation error; `Internal` for a trace workload (see [`Machine::run`]).
    pub fn run_synthetic(&mut self) -> Result<(), SimError> {
        let seed = self.config.seed;
        match self.config.workload.clone() {
            WorkloadConfig::Trace { .. } => Err(SimError::Internal(
                "a trace workload is read by the caller and run with Machine::run".into(),
            )),
            WorkloadConfig::Synthetic(generator) => {
                if self.needs_future() {
                    self.learn_future(generator.build(seed).map(Ok), "workload")?;
                }
                self.run(generator.build(seed).map(Ok), "workload")
            }
            WorkloadConfig::Processes { quantum, programs } => {
                let build = |programs: &[crate::workload::GeneratorConfig]| -> Vec<Generator> {
                    programs
                        .iter()
                        .enumerate()
                        .map(|(i, p)| p.build(seed ^ (i as u64 + 1).wrapping_mul(SALT_PROGRAM)))
                        .collect()
                };
                if self.needs_future() {
                    let mut replay = Replay(FutureBuilder::new(&self.os));
                    drive(build(&programs), quantum, &mut replay)?;
                    let future = replay.0.finish();
                    self.os.set_future(future);
                    self.future_known = true;
                }
                drive(build(&programs), quantum, self)
            }
        }
    }

    /// Performs one event.
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

    fn switch(&mut self, pid: Pid, origin: &str) -> Result<(), SimError> {
        let count = self.config.processes.len();
        let process = self.os.process(pid).ok_or_else(|| SimError::UnknownProcess {
            origin: origin.to_string(),
            pid,
            count,
        })?;
        if pid != self.current {
            self.current = pid;
            self.space = AddressSpace { asid: process.asid, root: process.root };
            self.mmu.switch_to(self.space);
            self.context_switches += 1;
            self.now += self.config.os.context_switch_cycles;
            self.os.count_switch_in(pid);
        }
        Ok(())
    }

    #[inline]
    fn access(&mut self, access: Access) -> Result<(), SimError> {
        let index = self.accesses;
        self.accesses += 1;
        self.os.count_access(self.current);
        if !self.os.is_running(self.current) {
            self.skipped_accesses += 1;
            return Ok(());
        }
        self.now += self.config.cpu.cycles_per_access;
        if !access.vaddr.is_word_aligned() {
            self.faults.alignment += 1;
            return Ok(());
        }
        for _ in 0..MAX_ATTEMPTS {
            let translated =
                self.mmu.translate(self.now, &mut self.dram, self.space, access.vaddr, access.kind);
            self.now = translated.done_at;
            match translated.result {
                Ok(paddr) => {
                    self.os.touched(paddr, index);
                    match access.kind {
                        AccessKind::Read | AccessKind::Fetch => {
                            let read = self.dram.read(self.now, paddr, Traffic::Data);
                            self.now = read.ready_at;
                            self.data_checksum =
                                (self.data_checksum ^ u64::from(read.value)).wrapping_mul(FNV_PRIME);
                            if self.oracle.is_some() {
                                self.check_load(index, access, read.value)?;
                            }
                        }
                        AccessKind::Write => {
                            // Without a value in the trace, store the access's sequence number.
                            let value = access.value.unwrap_or(self.accesses as u32);
                            self.now = self.dram.write(self.now, paddr, value, Traffic::Data);
                            if self.oracle.is_some() {
                                self.record_store(access, value);
                            }
                        }
                    }
                    return Ok(());
                }
                Err(fault) => {
                    self.faults.count(fault.kind);
                    match self.os.handle_fault(&mut self.dram, &mut self.mmu, self.current, fault)? {
                        Resolution::Retry { cost } => self.now += cost,
                        Resolution::Stopped { cost, segfault } => {
                            self.now += cost;
                            self.segfaults.push(segfault);
                            return Ok(());
                        }
                    }
                }
            }
        }
        Err(SimError::NoProgress(format!(
            "access {access:?} of process {} still faults after {MAX_ATTEMPTS} attempts; \
             at cycle {}: {:?}, OS {:?}, MMU {:?}",
            self.current,
            self.now.as_u64(),
            self.faults,
            self.os.stats(),
            self.mmu.stats()
        )))
    }

    #[inline(never)]
    fn check_load(&mut self, index: u64, access: Access, found: u32) -> Result<(), SimError> {
        let key = self.os.word_key(self.current, access.vaddr);
        let Some(oracle) = &mut self.oracle else { return Ok(()) };
        let Some(key) = key else {
            return Err(SimError::Internal(format!(
                "a load from {} outside every region completed",
                access.vaddr
            )));
        };
        oracle.loads_checked += 1;
        let expected = oracle.memory.get(&key).copied().unwrap_or(0);
        if expected != found {
            return Err(SimError::CheckFailed {
                index,
                pid: self.current,
                vaddr: access.vaddr,
                expected,
                found,
            });
        }
        Ok(())
    }

    #[inline(never)]
    fn record_store(&mut self, access: Access, value: u32) {
        let key = self.os.word_key(self.current, access.vaddr);
        if let (Some(oracle), Some(key)) = (&mut self.oracle, key) {
            oracle.stores_recorded += 1;
            oracle.memory.insert(key, value);
        }
    }

    /// The report of everything so far.
    pub fn report(&self) -> Report {
        let mut report = Report {
            seed: self.config.seed,
            config: self.config.clone(),
            accesses: self.accesses,
            skipped_accesses: self.skipped_accesses,
            context_switches: self.context_switches,
            cycles: self.now.as_u64(),
            tlb: TlbReport(self.mmu.tlb_stats()),
            walk_cache: TlbReport(self.mmu.walk_cache_stats()),
            tlb_invalidations: self.mmu.invalidation_stats(),
            walks: 0,
            pte_reads: 0,
            pte_writes: 0,
            walk_cycles: 0,
            faulting_walks: 0,
            walk_latency: Default::default(),
            faults: self.faults.clone(),
            os: self.os.stats(),
            dram: self.dram.stats(),
            page_table_bytes: self.os.page_table_bytes(),
            page_table_touched_bytes: self.os.page_table_touched_bytes(&self.dram),
            averages: Default::default(),
            data_checksum: self.data_checksum,
            segfaults: self.segfaults.clone(),
            processes: self.os.process_stats(&self.dram),
            check: self.oracle.as_ref().map(|o| CheckStats {
                loads_checked: o.loads_checked,
                stores_recorded: o.stores_recorded,
                words_tracked: o.memory.len() as u64,
            }),
            trace: None,
            timing: None,
        };
        report.mmu_fields(self.mmu.stats());
        report
    }

    /// The word at physical address `addr`, read without timing (for tests and tools).
    pub fn peek_phys(&self, addr: u64) -> u32 {
        self.dram.peek(mmu_core::PhysAddr::new(addr))
    }

    /// Host bytes spent on simulated memory contents.
    pub fn host_memory_bytes(&self) -> u64 {
        self.dram.host_bytes()
    }

    /// The OS model, for tests that inspect its state.
    pub fn os(&self) -> &Os {
        &self.os
    }

    /// The DRAM, for tests that inspect page tables and frames.
    pub fn dram(&self) -> &Dram {
        &self.dram
    }
}

impl Executor for Machine {
    fn switch(&mut self, pid: Pid) -> Result<(), SimError> {
        Machine::switch(self, pid, "workload")
    }
    fn access(&mut self, access: Access) -> Result<(), SimError> {
        Machine::access(self, access)
    }
    fn is_running(&self, pid: Pid) -> bool {
        self.os.is_running(pid)
    }
    fn exit(&mut self, pid: Pid) {
        self.os.exit(&mut self.dram, &mut self.mmu, pid);
    }
    fn now(&self) -> u64 {
        self.now.as_u64()
    }
}

/// OPT's look-ahead: the scheduler drives a replay instead of the machine.
struct Replay<'a>(FutureBuilder<'a>);

impl Executor for Replay<'_> {
    fn switch(&mut self, pid: Pid) -> Result<(), SimError> {
        self.0.switch(pid);
        Ok(())
    }
    fn access(&mut self, access: Access) -> Result<(), SimError> {
        self.0.access(access);
        Ok(())
    }
    fn is_running(&self, pid: Pid) -> bool {
        self.0.is_running(pid)
    }
    fn exit(&mut self, _: Pid) {}
    fn now(&self) -> u64 {
        // Only `Quantum::Accesses` is allowed with OPT, so the clock is never read.
        0
    }
}
