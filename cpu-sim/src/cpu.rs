//! The CPU: takes events from the workload, translates each access through the
//! MMU, lets the OS handle faults, performs the data access in DRAM, and counts
//! cycles. An in-order, blocking CPU: one access at a time, every latency adds.

use crate::config::MachineConfig;
use crate::error::SimError;
use crate::mmu::{AddressSpace, Mmu};
use crate::os::{Os, ProcessState, Resolution, Segfault};
use crate::report::{FaultCounts, Report, TlbReport};
use crate::workload::{Access, TraceEvent, WorkloadError};
use mmu_core::{AccessKind, Cycle, Dram, PhysMem, Pid, Traffic};

/// How many times one access may fault and be retried before the run stops with
/// a diagnostic: a demand-zero fault, then an A/D fault, then success is the
/// longest legitimate sequence.
const MAX_ATTEMPTS: u32 = 4;

const FNV_OFFSET: u64 = 0xcbf2_9ce4_8422_2325;
const FNV_PRIME: u64 = 0x0000_0100_0000_01b3;

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
}

impl Machine {
    /// Builds and boots a machine from a validated config.
    ///
    /// # Errors
    /// `OutOfMemory` if DRAM cannot hold the processes' root tables.
    pub fn new(config: &MachineConfig) -> Result<Self, SimError> {
        let mut dram = Dram::new(&config.dram);
        let mmu = Mmu::new(&config.mmu, &config.tlb, config.seed);
        let os = Os::boot(&config.os, &config.processes, mmu.format(), &mut dram)?;
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
        })
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
        }
        Ok(())
    }

    #[inline]
    fn access(&mut self, access: Access) -> Result<(), SimError> {
        self.accesses += 1;
        let running = self.os.process(self.current).is_some_and(|p| p.state == ProcessState::Running);
        if !running {
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
                    match access.kind {
                        AccessKind::Read | AccessKind::Fetch => {
                            let read = self.dram.read(self.now, paddr, Traffic::Data);
                            self.now = read.ready_at;
                            self.data_checksum =
                                (self.data_checksum ^ u64::from(read.value)).wrapping_mul(FNV_PRIME);
                        }
                        AccessKind::Write => {
                            // Without a value in the trace, store the access's sequence number.
                            let value = access.value.unwrap_or(self.accesses as u32);
                            self.now = self.dram.write(self.now, paddr, value, Traffic::Data);
                        }
                    }
                    return Ok(());
                }
                Err(fault) => {
                    self.faults.count(fault.kind);
                    match self.os.handle_fault(&mut self.dram, self.current, fault)? {
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
            faults: self.faults.clone(),
            os: self.os.stats(),
            dram: self.dram.stats().clone(),
            page_table_bytes: self.os.page_table_bytes(),
            data_checksum: self.data_checksum,
            segfaults: self.segfaults.clone(),
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
}
