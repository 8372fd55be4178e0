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

/// A stream of events that may hand over, a batch at a time, the events it
/// has decoded ahead (a reader thread's batch): the run then steps through a
/// slice instead of taking each event through [`Iterator::next`].
pub trait EventStream: Iterator<Item = Result<TraceEvent, WorkloadError>> {
    /// The events decoded and not taken yet, taken now: they come before what
    /// `next` gives after them. Empty when there are none (or the stream does
    /// not decode ahead): then `next` goes on.
    fn take_ready(&mut self) -> &[TraceEvent] {
        &[]
    }
}

/// A stream of events that can be read again from its start: a trace file
/// opened anew, or a generator rebuilt from its seed. OPT reads it twice.
pub trait EventSource {
    /// The events of one reading.
    type Events: EventStream;
    /// Starts a reading from the beginning.
    ///
    /// # Errors
    /// The source cannot be opened.
    fn open(&mut self) -> Result<Self::Events, SimError>;
    /// At most how many accesses a reading gives, when known before reading it
    /// (a generator's count): OPT reserves its look-ahead for them at once.
    fn accesses_bound(&self) -> Option<u64> {
        None
    }
}

/// Replays `events` without simulating them, to give OPT each access's next use;
/// `bound`, when known, is at most how many accesses they hold (the look-ahead is
/// reserved for them at once).
///
/// # Errors
/// The first workload error, a switch to an unknown process, or a look-ahead
/// that does not fit in host memory (`LookAheadTooLarge`).
pub fn learn_future<I>(
    machine: &mut Machine,
    events: I,
    origin: &str,
    bound: Option<u64>,
) -> Result<(), SimError>
where
    I: IntoIterator<Item = Result<TraceEvent, WorkloadError>>,
{
    let count = machine.config().processes.len();
    // Accesses the window skips never reach the memory system: not numbered.
    let mut skip = machine.config().window.skip;
    let mut builder = FutureBuilder::new(machine.os());
    if let Some(bound) = bound {
        builder.reserve(bound)?;
    }
    for event in events {
        match event? {
            TraceEvent::Access(_) if skip > 0 => skip -= 1,
            TraceEvent::Access(a) => builder.access(a.kind, a.vaddr),
            TraceEvent::Switch(pid) => {
                if pid.as_u32() as usize >= count {
                    return Err(SimError::UnknownProcess { origin: origin.to_string(), pid, count });
                }
                builder.switch(pid);
            }
        }
    }
    let future = builder.finish()?;
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
        if machine.is_finished() {
            break;
        }
    }
    machine.finish();
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
        let bound = source.accesses_bound();
        let mut ahead = source.open()?;
        learn_future(machine, ahead.by_ref(), origin, bound)?;
    }
    let mut events = source.open()?;
    replay_stream(machine, &mut events, origin, progress)?;
    Ok(events)
}

/// [`replay`] of a stream that hands over batches ([`EventStream::take_ready`]):
/// the same steps, errors and progress calls.
fn replay_stream<S: EventStream>(
    machine: &mut Machine,
    events: &mut S,
    origin: &str,
    progress: &mut dyn FnMut(u64),
) -> Result<(), SimError> {
    let mut done: u64 = 0;
    let mut one;
    loop {
        let ready = events.take_ready();
        // One place steps the machine, so the access path is inlined once.
        let batch = if ready.is_empty() {
            match events.next() {
                None => break,
                Some(event) => {
                    one = event?;
                    std::slice::from_ref(&one)
                }
            }
        } else {
            ready
        };
        let mut rest = batch;
        while !rest.is_empty() {
            // Up to the next progress call, stepped in one loop.
            let to_progress = PROGRESS_EVERY - done % PROGRESS_EVERY;
            let chunk = &rest[..rest.len().min(usize::try_from(to_progress).unwrap_or(usize::MAX))];
            let stepped = machine.step_all(chunk, origin)?;
            done += stepped as u64;
            if done % PROGRESS_EVERY == 0 {
                progress(done);
            }
            if machine.is_finished() {
                machine.finish();
                return Ok(());
            }
            rest = &rest[stepped..];
        }
    }
    machine.finish();
    Ok(())
}

/// A generator, rebuilt from its seed for each reading.
pub struct Generated<'a> {
    /// The generator's config.
    pub config: &'a GeneratorConfig,
    /// The run seed.
    pub seed: u64,
}

/// Events a generator hands over per batch ([`EventStream::take_ready`]).
const GENERATED_BATCH: usize = 4096;

/// A generator's events, handed over a batch at a time as a reader thread's
/// are, so that a synthetic run steps through slices too.
pub struct GeneratedEvents {
    generator: Generator,
    batch: Vec<TraceEvent>,
}

impl Iterator for GeneratedEvents {
    type Item = Result<TraceEvent, WorkloadError>;
    fn next(&mut self) -> Option<Self::Item> {
        self.generator.next().map(Ok)
    }
}

impl EventStream for GeneratedEvents {
    fn take_ready(&mut self) -> &[TraceEvent] {
        self.batch.clear();
        self.batch.extend(self.generator.by_ref().take(GENERATED_BATCH));
        &self.batch
    }
}

impl EventSource for Generated<'_> {
    type Events = GeneratedEvents;
    fn open(&mut self) -> Result<Self::Events, SimError> {
        Ok(GeneratedEvents {
            generator: self.config.build(self.seed),
            batch: Vec::with_capacity(GENERATED_BATCH),
        })
    }
    fn accesses_bound(&self) -> Option<u64> {
        Some(self.config.accesses())
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
                let mut builder = FutureBuilder::new(machine.os());
                builder.reserve(programs.iter().fold(0u64, |sum, p| sum.saturating_add(p.accesses())))?;
                let mut replay =
                    Replay { builder, programs: build(&programs, seed), skip: machine.config().window.skip };
                drive(n, quantum, &mut replay)?;
                let future = replay.builder.finish()?;
                machine.set_future(future);
            }
            drive(n, quantum, &mut Scheduled { machine: &mut *machine, programs: build(&programs, seed) })?;
            machine.finish();
            Ok(())
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
        self.machine.is_finished()
            || self.programs.get_mut(pid.as_u32() as usize).is_none_or(|p| p.peek().is_none())
    }
    fn switch(&mut self, pid: Pid) -> Result<(), SimError> {
        // Through `step`, so a switch among the window's skipped accesses waits.
        self.machine.step(TraceEvent::Switch(pid), "workload")
    }
    fn step(&mut self, pid: Pid) -> Result<Step, SimError> {
        if self.machine.is_finished() {
            return Ok(Step::Ended);
        }
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
        // At the end of a measured window (`max`) the programs stop; they do not end.
        if !self.machine.is_finished() {
            self.machine.exit(pid);
        }
    }
    fn now(&self) -> Cycle {
        self.machine.now()
    }
}

/// Writes out the events of a `Processes` workload, `programs` under a quantum of
/// `accesses_per_quantum` accesses, in the order the real run performs them: a
/// `P i` switch (`TraceEvent::Switch`) each time the scheduler gives process `i`
/// the CPU, then its accesses. A process stops where the OS would stop it (a
/// segmentation fault: the same replay as OPT's look-ahead), so its later
/// accesses are not written. What a trace cannot say: that a process whose
/// program ended exits (its memory is freed in the real run and stays mapped in a
/// replay of the trace). Only a quantum in accesses can be written out: with one
/// in cycles the interleaving depends on the simulation.
///
/// # Errors
/// What `emit` returns.
pub fn schedule_events<E>(
    machine: &Machine,
    programs: &[GeneratorConfig],
    accesses_per_quantum: u64,
    emit: &mut dyn FnMut(TraceEvent) -> Result<(), E>,
) -> Result<(), E> {
    let seed = machine.config().seed;
    let mut emitter = Emitter {
        os: machine.os(),
        current: Pid::new(0),
        stopped: vec![false; programs.len()],
        programs: build(programs, seed),
        emit,
    };
    drive(programs.len(), os_model::Quantum::Accesses(accesses_per_quantum.max(1)), &mut emitter)
}

/// The scheduler writing events out (see [`schedule_events`]).
struct Emitter<'a, 'e, E> {
    os: &'a os_model::Os,
    current: Pid,
    /// Processes the OS would have stopped (as `FutureBuilder` tracks them, without
    /// its look-ahead, so that memory stays flat however long the workload).
    stopped: Vec<bool>,
    programs: Vec<Peekable<Generator>>,
    emit: &'e mut dyn FnMut(TraceEvent) -> Result<(), E>,
}

impl<E> Executor for Emitter<'_, '_, E> {
    type Error = E;
    fn is_finished(&mut self, pid: Pid) -> bool {
        self.programs.get_mut(pid.as_u32() as usize).is_none_or(|p| p.peek().is_none())
    }
    fn switch(&mut self, pid: Pid) -> Result<(), E> {
        self.current = pid;
        (self.emit)(TraceEvent::Switch(pid))
    }
    fn step(&mut self, pid: Pid) -> Result<Step, E> {
        match next(&mut self.programs, pid) {
            None => Ok(Step::Ended),
            Some(TraceEvent::Access(a)) => {
                let p = self.current.as_u32() as usize;
                // As `FutureBuilder::access`: unaligned accesses never reach the OS.
                if a.vaddr.is_word_aligned() && !self.os.admits(self.current, a.kind, a.vaddr) {
                    self.stopped[p] = true;
                }
                (self.emit)(TraceEvent::Access(a))?;
                Ok(Step::Access)
            }
            Some(TraceEvent::Switch(_)) => Ok(Step::Nothing),
        }
    }
    fn is_running(&self, pid: Pid) -> bool {
        !self.stopped.get(pid.as_u32() as usize).copied().unwrap_or(true)
    }
    fn exit(&mut self, _: Pid) {}
    fn now(&self) -> Cycle {
        // The quantum is in accesses: the clock is never read.
        Cycle::ZERO
    }
}

/// OPT's look-ahead: the scheduler drives a replay instead of the machine.
struct Replay<'a> {
    builder: FutureBuilder<'a>,
    programs: Vec<Peekable<Generator>>,
    /// Accesses the window skips: not numbered.
    skip: u64,
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
            Some(TraceEvent::Access(_)) if self.skip > 0 => {
                self.skip -= 1;
                Ok(Step::Access)
            }
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

/// The reference string of page replacement: the page each access of `events`
/// touches, in order, as the OS admits them (nothing is simulated), keyed as
/// `(owner << 32) | page` with the owner's kind in bit 63 (set: a shared object).
/// Accesses the window skips are left out, and it ends after the window's `max`
/// accesses (those a run with that window measures). Also returns how many of the
/// references come from the window's warm-up (the first ones): they fill the
/// frames without counting.
///
/// # Errors
/// The first workload error, or a switch to an unknown process.
pub fn page_references<I>(machine: &Machine, events: I, origin: &str) -> Result<(Vec<u64>, usize), SimError>
where
    I: IntoIterator<Item = Result<TraceEvent, WorkloadError>>,
{
    let count = machine.config().processes.len();
    let mut skip = machine.config().window.skip;
    let mut warmup = machine.config().window.warmup;
    // The window's `max`: the accesses after the skip and the warm-up that are measured.
    let mut left = machine.config().window.max.unwrap_or(u64::MAX);
    let mut warm_references = 0;
    let mut stream = os_model::PageStream::new(machine.os());
    let mut out = Vec::new();
    for event in events {
        match event? {
            TraceEvent::Access(_) if skip > 0 => skip -= 1,
            TraceEvent::Access(_) if warmup == 0 && left == 0 => break,
            TraceEvent::Access(a) => {
                let warming = warmup > 0;
                if warming {
                    warmup -= 1;
                } else {
                    left -= 1;
                }
                if let os_model::Touch::Page(key) = stream.access(a.kind, a.vaddr) {
                    warm_references += usize::from(warming);
                    let owner = match key.owner {
                        os_model::Owner::Process(pid) => u64::from(pid.as_u32()) << 32,
                        os_model::Owner::Shared(o) => (1 << 63) | (u64::from(o) << 32),
                    };
                    out.push(owner | u64::from(key.page));
                }
            }
            TraceEvent::Switch(pid) => {
                if pid.as_u32() as usize >= count {
                    return Err(SimError::UnknownProcess { origin: origin.to_string(), pid, count });
                }
                stream.switch(pid);
            }
        }
    }
    Ok((out, warm_references))
}
