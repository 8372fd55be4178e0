//! The window of an RV32 program's run (the config's `window`; `--skip`,
//! `--warmup`, `--max`, `--interval`), counted in instructions retired, as
//! ChampSim counts its warm-up and simulation instructions.
//!
//! - `skip`: the first instructions run on the functional path (registers and
//!   memory change; TLBs, walk caches, DRAM rows and timing state do not; see
//!   `memory::functional` and [`crate::virt`]). The core's clock moves by
//!   `cpu.cycles_per_access` per instruction, so the timer still runs. The OS
//!   model handles the skip's page faults and counts them; every counter (the
//!   core's and the OS's included) is zeroed when the skip ends, so nothing done
//!   during a skip reaches the report.
//! - `warmup`: the next instructions run on the full model, then every counter is
//!   zeroed, all state kept (the core's `instructions`, CPI, classes and traps,
//!   `accesses`, `cycles`, `data_checksum`, and the memory system's).
//! - `max`: the run stops after that many measured instructions and reports.
//! - `interval`: every that many measured instructions, one record of the
//!   counters' deltas: `instructions`, then the columns of a trace's intervals.
//!
//! A step retires at most one instruction, so every boundary falls exactly on
//! its count. The runaway guard (`max_instructions`) counts every step of the
//! run, the skip's included.

use crate::error::SimError;
use crate::window::{IntervalColumns, IntervalRecord, Window, WindowReport};

/// How a windowed program run stopped.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ProgramStop<E> {
    /// The program ended by itself (bare metal: how it halted; a user program:
    /// its exit status).
    Ended(E),
    /// The window's `max` instructions were measured: the run stops there.
    AtMax,
}

/// What a machine running a program does for its window.
pub(crate) trait WindowedProgram {
    /// How the program ends by itself.
    type End;
    /// Runs on the functional path until `until` instructions have retired since
    /// the counters were last zeroed, or the program ends (`Some`).
    fn run_functional(&mut self, until: u64) -> Result<Option<Self::End>, SimError>;
    /// Runs on the full model, likewise.
    fn run_timed(&mut self, until: u64) -> Result<Option<Self::End>, SimError>;
    /// Instructions retired since the counters were last zeroed.
    fn retired(&self) -> u64;
    /// Zeroes every counter, keeping all state.
    fn reset_counters(&mut self);
    /// The interval columns' values now (totals since the counters were zeroed),
    /// in [`ProgramWindow::columns`] order: `instructions` first.
    fn interval_counters(&self) -> Vec<u64>;
}

/// The window of one program run: what it asked for, what it did, and the
/// interval records so far.
#[derive(Clone, Debug, Default)]
pub struct ProgramWindow {
    window: Window,
    report: WindowReport,
    intervals: Vec<IntervalRecord>,
    interval_base: Vec<u64>,
}

impl ProgramWindow {
    /// The window `window` asks for (validated).
    pub fn new(window: Window) -> Self {
        Self { window, ..Self::default() }
    }

    /// Runs `machine` through the window.
    ///
    /// # Errors
    /// What the machine stops with.
    pub(crate) fn run<M: WindowedProgram>(
        &mut self,
        machine: &mut M,
    ) -> Result<ProgramStop<M::End>, SimError> {
        let w = self.window;
        if w.skip > 0 {
            let end = machine.run_functional(w.skip)?;
            self.report.skipped = machine.retired();
            machine.reset_counters();
            if let Some(end) = end {
                return Ok(ProgramStop::Ended(end));
            }
        }
        if w.warmup > 0 {
            let end = machine.run_timed(w.warmup)?;
            self.report.warmup = machine.retired();
            if self.report.warmup == w.warmup {
                machine.reset_counters();
            }
            if let Some(end) = end {
                // Ended in the warm-up: its counters stay (nothing was measured).
                return Ok(ProgramStop::Ended(end));
            }
        }
        self.interval_base = machine.interval_counters();
        loop {
            let retired = machine.retired();
            let mut until = u64::MAX;
            if let Some(every) = w.interval {
                until = until.min((retired / every + 1).saturating_mul(every));
            }
            if let Some(max) = w.max {
                until = until.min(max);
            }
            let end = machine.run_timed(until)?;
            let retired = machine.retired();
            self.report.measured = retired;
            if retired == until && w.interval.is_some_and(|every| retired % every == 0) {
                self.close_interval(machine.interval_counters());
            }
            if let Some(end) = end {
                self.close_last(machine);
                return Ok(ProgramStop::Ended(end));
            }
            if w.max == Some(retired) {
                self.report.stopped_at_max = true;
                self.close_last(machine);
                return Ok(ProgramStop::AtMax);
            }
        }
    }

    fn close_interval(&mut self, now: Vec<u64>) {
        let values = now.iter().zip(&self.interval_base).map(|(n, b)| n.saturating_sub(*b)).collect();
        self.intervals.push(IntervalRecord { interval: self.intervals.len() as u64, values });
        self.interval_base = now;
    }

    /// The last, partial interval, if anything changed since the last record.
    fn close_last<M: WindowedProgram>(&mut self, machine: &M) {
        let now = machine.interval_counters();
        if self.window.interval.is_some() && now != self.interval_base {
            self.close_interval(now);
        }
    }

    /// What the window did, when one was asked for.
    pub fn report(&self) -> Option<WindowReport> {
        (!self.window.is_whole_run()).then(|| self.report.clone())
    }

    /// The interval records so far.
    pub fn intervals(&self) -> &[IntervalRecord] {
        &self.intervals
    }

    /// The interval columns: `instructions`, then `memory` (the machine's
    /// `accesses`, `cycles` and memory-system columns).
    pub fn columns(memory: Vec<String>) -> IntervalColumns {
        let mut names = vec!["instructions".to_string()];
        names.extend(memory);
        IntervalColumns(names)
    }
}

#[cfg(test)]
mod tests {
    use super::WindowedProgram;
    use crate::config::{MachineConfig, parse_config};
    use crate::memory::mmu::Mmu;
    use rv32::elf::Program;

    fn shipped(config: &str, elf: &str) -> (MachineConfig, Program) {
        let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("..");
        let text = std::fs::read_to_string(root.join(config)).expect("the shipped config");
        let bytes = std::fs::read(root.join(elf)).expect("the shipped program");
        (parse_config(&text, config).expect("valid"), rv32::elf::parse(&bytes).expect("an RV32 ELF"))
    }

    /// Nothing of the MMU counted or cached: every TLB and walk-cache level saw
    /// no lookup and no fill (so it holds nothing), and the walker walked nothing.
    fn assert_untouched(mmu: &Mmu) {
        for (name, s) in mmu.tlb_stats().into_iter().chain(mmu.walk_cache_stats()) {
            assert_eq!((s.lookups, s.fills, s.invalidations), (0, 0, 0), "{name}");
        }
        assert_eq!(mmu.stats().walker.walks, 0);
        assert_eq!(mmu.invalidation_stats(), tlb::InvalidationStats::default());
    }

    #[test]
    fn a_bare_metal_skip_reaches_no_tlb_walk_cache_or_dram_counter() {
        // sv32-demo builds its page tables and runs under Sv32 within 40,000 instructions.
        let (config, program) = shipped("configs/rv32-virt.ron", "programs/sv32-demo/sv32-demo.elf");
        let mut machine = crate::virt::VirtMachine::new(&config, &program).expect("it loads");
        assert_eq!(machine.run_functional(40_000).expect("it runs"), None, "still running");
        assert_eq!(machine.retired(), 40_000);
        assert!(!machine.console().is_empty(), "it ran: its output so far");
        let memory = machine.memory();
        assert_untouched(memory.mmu());
        let dram = memory.bus().dram().stats();
        assert_eq!((dram.reads, dram.writes, dram.total_latency_cycles), (0, 0, 0), "no timed DRAM request");
        assert_eq!((memory.accesses(), memory.faults()), (0, &crate::memory::FaultCounts::default()));
    }

    #[test]
    fn a_user_mode_skip_reaches_no_tlb_or_dram_counter_and_the_os_handles_its_faults() {
        let (config, program) = shipped("configs/rv32-user.ron", "programs/hello/hello.elf");
        let mut machine = crate::user::UserMachine::new(&config, &program, true).expect("it loads");
        assert_eq!(machine.run_functional(20_000).expect("it runs"), None, "still running");
        let memory = machine.memory();
        assert_untouched(memory.mmu());
        let dram = memory.dram().stats();
        assert_eq!((dram.reads, dram.writes, dram.total_latency_cycles), (0, 0, 0), "no timed DRAM request");
        assert_eq!(
            memory.faults(),
            &crate::memory::FaultCounts::default(),
            "faults on the functional path are not counted"
        );
        // The OS model served the skip's page faults (memory changed), counting
        // them until the skip ends, when the machine zeroes every counter.
        assert!(memory.os().stats().demand_zero > 0);
        assert!(memory.check_stats().is_some_and(|c| c.loads_checked > 0), "the oracle is fed");
        machine.reset_counters();
        let report = machine.report();
        assert_eq!((report.os.demand_zero, report.accesses, report.cycles), (0, 0, 0));
        assert_eq!(report.core.as_ref().map(|c| c.instructions), Some(0));
    }
}
