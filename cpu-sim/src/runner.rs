//! The runner: how a workload runs on a machine, in one place. It owns OPT's
//! look-ahead (the workload read once ahead of the run to learn each access's
//! next use), the scheduling of a `Processes` mix, and the stepping of events,
//! with a progress callback for whoever draws a bar.

use crate::error::SimError;
use crate::machine::Machine;
use crate::workload::WorkloadConfig;
use mmu_core::{Cycle, Pid};
use os_model::FutureBuilder;
use os_model::scheduler::{Executor, Step, drive};
use std::iter::Peekable;
use workload::{Generator, GeneratorConfig, TraceEvent, WorkloadError};

/// Salt that sets process `i`'s program stream apart in a `Processes` workload.
const SALT_PROGRAM: u64 = 0x9e37_79b9_7f4a_7c15;

/// Events between two progress callbacks: rare enough to cost nothing per
/// access, frequent enough (tens per second) to look live.
pub const PROGRESS_EVERY: u64 = 1 << 16;

/// A stream of events that can be read again from its start: a trace file
/// opened anew, or a generator rebuilt from its seed. OPT reads it twice.
pub trait EventSource {
    /// The events of one reading.
    type Events: Iterator<Item = Result<TraceEvent, WorkloadError>>;
    /// Starts a reading from the beginning.
    ///
    /// # Errors
    /// The source cannot be opened.
    fn open(&mut self) -> Result<Self::Events, SimError>;
}

/// Replays `events` without simulating them, to give OPT each access's next use.
///
/// # Errors
/// The first workload error, or a switch to an unknown process.
pub fn learn_future<I>(machine: &mut Machine, events: I, origin: &str) -> Result<(), SimError>
where
    I: IntoIterator<Item = Result<TraceEvent, WorkloadError>>,
{
    let count = machine.config().processes.len();
    let mut builder = FutureBuilder::new(machine.os());
    for event in events {
        match event? {
            TraceEvent::Access(a) => builder.access(a.kind, a.vaddr),
            TraceEvent::Switch(pid) => {
                if pid.as_u32() as usize >= count {
                    return Err(SimError::UnknownProcess { origin: origin.to_string(), pid, count });
                }
                builder.switch(pid);
            }
        }
    }
    let future = builder.finish();
    machine.set_future(future);
    Ok(())
}

/// Steps `machine` through every event of `events`, with no look-ahead (see
/// [`run_source`] for OPT) and no progress; `origin` names the workload in errors.
///
/// # Errors
/// The first workload or simulation error.
pub fn run<I>(machine: &mut Machine, events: I, origin: &str) -> Result<(), SimError>
where
    I: IntoIterator<Item = Result<TraceEvent, WorkloadError>>,
{
    replay(machine, events, origin, &mut |_| {})
}

/// Steps `machine` through every event, calling `progress` with the events done
/// every [`PROGRESS_EVERY`] events.
///
/// # Errors
/// The first workload or simulation error; the machine's state is then as it
/// was after the last complete event.
pub fn replay<I>(
    machine: &mut Machine,
    events: I,
    origin: &str,
    progress: &mut dyn FnMut(u64),
) -> Result<(), SimError>
where
    I: IntoIterator<Item = Result<TraceEvent, WorkloadError>>,
{
    let mut done: u64 = 0;
    for event in events {
        machine.step(event?, origin)?;
        done += 1;
        if done % PROGRESS_EVERY == 0 {
            progress(done);
        }
    }
    Ok(())
}

/// Runs every event of `source` on `machine`, reading it once ahead first when
/// the replacement policy needs the future. Returns the events of the real run,
/// exhausted (a trace reader keeps its statistics).
///
/// # Errors
/// The source cannot be opened, or the first workload or simulation error.
pub fn run_source<S: EventSource>(
    machine: &mut Machine,
    source: &mut S,
    origin: &str,
    progress: &mut dyn FnMut(u64),
) -> Result<S::Events, SimError> {
    if machine.needs_future() {
        let mut ahead = source.open()?;
        learn_future(machine, ahead.by_ref(), origin)?;
    }
    let mut events = source.open()?;
    replay(machine, events.by_ref(), origin, progress)?;
    Ok(events)
}

/// A generator, rebuilt from its seed for each reading.
pub struct Generated<'a> {
    /// The generator's config.
    pub config: &'a GeneratorConfig,
    /// The run seed.
    pub seed: u64,
}

impl EventSource for Generated<'_> {
    type Events = std::iter::Map<Generator, fn(TraceEvent) -> Result<TraceEvent, WorkloadError>>;
    fn open(&mut self) -> Result<Self::Events, SimError> {
        Ok(self.config.build(self.seed).map(Ok))
    }
}

/// Runs the config's own synthetic workload: one generator, or a `Processes` mix
/// under the OS's round-robin scheduler, learning the future first if OPT needs it.
///
/// # Errors
/// The first simulation error; `Internal` for a trace workload (the caller opens
/// traces and runs them with [`run_source`]).
pub fn run_synthetic(machine: &mut Machine, progress: &mut dyn FnMut(u64)) -> Result<(), SimError> {
    let seed = machine.config().seed;
    match machine.config().workload.clone() {
        WorkloadConfig::Trace { .. } => Err(SimError::Internal(
            "a trace workload is opened by the caller and run with runner::run_source".into(),
        )),
        WorkloadConfig::Elf { .. } => Err(SimError::Internal(
            "an ELF workload runs on the RV32 core (cpu_sim::virt::VirtMachine), not on the trace player"
                .into(),
        )),
        WorkloadConfig::Synthetic(generator) => {
            run_source(machine, &mut Generated { config: &generator, seed }, "workload", progress).map(|_| ())
        }
        WorkloadConfig::Processes { quantum, programs } => {
            let n = programs.len();
            if machine.needs_future() {
                let mut replay =
                    Replay { builder: FutureBuilder::new(machine.os()), programs: build(&programs, seed) };
                drive(n, quantum, &mut replay)?;
                let future = replay.builder.finish();
                machine.set_future(future);
            }
            drive(n, quantum, &mut Scheduled { machine, programs: build(&programs, seed) })
        }
    }
}

/// Process `i`'s program of a `Processes` mix, seeded apart from the others.
fn build(programs: &[GeneratorConfig], seed: u64) -> Vec<Peekable<Generator>> {
    programs
        .iter()
        .enumerate()
        .map(|(i, p)| p.build(seed ^ (i as u64 + 1).wrapping_mul(SALT_PROGRAM)).peekable())
        .collect()
}

/// The next step of `pid`'s program.
fn next(programs: &mut [Peekable<Generator>], pid: Pid) -> Option<TraceEvent> {
    programs.get_mut(pid.as_u32() as usize).and_then(Iterator::next)
}

/// The machine under the scheduler.
struct Scheduled<'a> {
    machine: &'a mut Machine,
    programs: Vec<Peekable<Generator>>,
}

impl Executor for Scheduled<'_> {
    type Error = SimError;
    fn is_finished(&mut self, pid: Pid) -> bool {
        self.programs.get_mut(pid.as_u32() as usize).is_none_or(|p| p.peek().is_none())
    }
    fn switch(&mut self, pid: Pid) -> Result<(), SimError> {
        self.machine.switch(pid, "workload")
    }
    fn step(&mut self, pid: Pid) -> Result<Step, SimError> {
        match next(&mut self.programs, pid) {
            None => Ok(Step::Ended),
            Some(TraceEvent::Access(a)) => self.machine.access(a).map(|()| Step::Access),
            // A program's own switch lines mean nothing here: the scheduler switches.
            Some(TraceEvent::Switch(_)) => Ok(Step::Nothing),
        }
    }
    fn is_running(&self, pid: Pid) -> bool {
        self.machine.is_running(pid)
    }
    fn exit(&mut self, pid: Pid) {
        self.machine.exit(pid);
    }
    fn now(&self) -> Cycle {
        self.machine.now()
    }
}

/// OPT's look-ahead: the scheduler drives a replay instead of the machine.
struct Replay<'a> {
    builder: FutureBuilder<'a>,
    programs: Vec<Peekable<Generator>>,
}

impl Executor for Replay<'_> {
    type Error = SimError;
    fn is_finished(&mut self, pid: Pid) -> bool {
        self.programs.get_mut(pid.as_u32() as usize).is_none_or(|p| p.peek().is_none())
    }
    fn switch(&mut self, pid: Pid) -> Result<(), SimError> {
        self.builder.switch(pid);
        Ok(())
    }
    fn step(&mut self, pid: Pid) -> Result<Step, SimError> {
        match next(&mut self.programs, pid) {
            None => Ok(Step::Ended),
            Some(TraceEvent::Access(a)) => {
                self.builder.access(a.kind, a.vaddr);
                Ok(Step::Access)
            }
            Some(TraceEvent::Switch(_)) => Ok(Step::Nothing),
        }
    }
    fn is_running(&self, pid: Pid) -> bool {
        self.builder.is_running(pid)
    }
    fn exit(&mut self, _: Pid) {}
    fn now(&self) -> Cycle {
        // Only `Quantum::Accesses` is allowed with OPT, so the clock is never read.
        Cycle::ZERO
    }
}
