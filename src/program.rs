//! Running an RV32 program (`mmu-sim run CONFIG --elf PROG`, or a config whose
//! workload is `Elf`): the file is read and parsed here, the machine runs it, and
//! what it printed and how it ended come back with the report.

use crate::error::RunError;
use crate::options::RunOptions;
use cpu_sim::program_window::ProgramStop;
use cpu_sim::user::UserMachine;
use cpu_sim::virt::{Halt, VirtMachine};
use cpu_sim::window::{IntervalColumns, IntervalRecord};
use cpu_sim::{HostTiming, MachineConfig, Report, WorkloadConfig};
use std::path::{Path, PathBuf};
use std::time::Instant;

/// How a program ended, and the exit status the binary gives for it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum ProgramEnd {
    /// Bare metal: the finisher or `tohost` said pass (exit status 0), or that
    /// test n failed (exit status n, at most 255; a failure numbered 0 gives 1).
    Halted(Halt),
    /// A user program called `exit` or `exit_group` with this status (the exit
    /// status is its low 8 bits, as on Linux).
    Exited(u32),
    /// The window's `max` instructions were measured and the run stopped there,
    /// the program unfinished (exit status 0, as `--max` on a trace).
    StoppedAtMax,
}

impl ProgramEnd {
    /// The exit status of `mmu-sim run`.
    pub fn exit_status(&self) -> u8 {
        match self {
            ProgramEnd::Halted(Halt::Pass) => 0,
            ProgramEnd::Halted(Halt::Fail(n)) => (*n).clamp(1, 255) as u8,
            // Refused as errors before they get here.
            ProgramEnd::Halted(Halt::Reset | Halt::HostRequest(_)) => 1,
            ProgramEnd::Exited(status) => *status as u8,
            ProgramEnd::StoppedAtMax => 0,
        }
    }
}

/// A finished program run.
#[derive(Clone, Debug)]
pub struct ProgramRun {
    /// What the program wrote to its console (the UART, or `write` to fd 1).
    pub console: Vec<u8>,
    /// What a user program wrote to fd 2 (the binary copies it to standard error).
    pub stderr: Vec<u8>,
    /// How it ended.
    pub end: ProgramEnd,
}

/// The interval columns and records of a run, when its window asked for intervals.
pub type Intervals = Option<(IntervalColumns, Vec<IntervalRecord>)>;

/// The ELF file a run executes: `--elf`, else the workload's `path` relative to
/// the config file's directory.
///
/// # Errors
/// `--elf` with a config whose workload is not `Elf`, or no file named at all.
pub fn elf_path(
    config: &MachineConfig,
    config_path: &Path,
    options: &RunOptions,
) -> Result<PathBuf, RunError> {
    let WorkloadConfig::Elf { path, .. } = &config.workload else {
        return Err(RunError::Unsupported(format!(
            "{}: --elf needs a config whose workload is `Elf` (for example configs/rv32-virt.ron)",
            config_path.display()
        )));
    };
    match (&options.elf, path) {
        (Some(elf), _) => Ok(elf.clone()),
        (None, Some(path)) => Ok(config_path.parent().unwrap_or_else(|| Path::new(".")).join(path)),
        (None, None) => Err(RunError::Unsupported(format!(
            "{}: the `Elf` workload names no file: pass one with --elf PROG",
            config_path.display()
        ))),
    }
}

/// Runs the program of an `Elf` workload.
///
/// # Errors
/// An unreadable or unusable ELF file (exit status 2), or a run that stopped with
/// an error (`Stopped`, with what the program printed so far).
pub fn run_program(
    config: &MachineConfig,
    config_path: &Path,
    options: &RunOptions,
) -> Result<(Report, HostTiming, ProgramRun, Intervals), RunError> {
    let path = elf_path(config, config_path, options)?;
    if options.observe.is_some() {
        return Err(RunError::Unsupported(format!(
            "{}: `mrc` observes the TLBs of trace and synthetic runs; not of an RV32 program yet (FIXME(#10))",
            config_path.display()
        )));
    }
    let bytes = std::fs::read(&path).map_err(|source| RunError::Io { path: path.clone(), source })?;
    let program = rv32::elf::parse(&bytes).map_err(|source| RunError::Elf { path: path.clone(), source })?;
    // The effective config, as the report shows it: the file and the limit used.
    let mut config = config.clone();
    if let WorkloadConfig::Elf { path: p, max_instructions, .. } = &mut config.workload {
        if let Some(elf) = &options.elf {
            *p = Some(elf.display().to_string());
        }
        if options.max_instructions.is_some() {
            *max_instructions = options.max_instructions;
        }
    }
    let WorkloadConfig::Elf { environment, .. } = config.workload else {
        return Err(RunError::Unsupported("not an ELF workload".into()));
    };
    if environment == rv32::Environment::UserProcess {
        return run_user(&config, &program, options);
    }
    if options.check {
        return Err(RunError::Unsupported(
            "--check compares loads with the OS model's view of memory; a bare-metal program owns its memory"
                .into(),
        ));
    }
    let mut machine = VirtMachine::new(&config, &program)
        .map_err(|source| RunError::Load { path: path.clone(), source })?;
    let start = Instant::now();
    let result = machine.run();
    let seconds = start.elapsed().as_secs_f64();
    let console = machine.console().to_vec();
    let stop = result.map_err(|source| RunError::stopped(console.clone(), Vec::new(), source))?;
    let intervals =
        config.window.interval.map(|_| (machine.interval_columns(), machine.intervals().to_vec()));
    let halt = match stop {
        ProgramStop::Ended(halt) => halt,
        ProgramStop::AtMax => {
            let report = machine.report();
            let timing = program_timing(&report, seconds);
            let run = ProgramRun { console, stderr: Vec::new(), end: ProgramEnd::StoppedAtMax };
            return Ok((report, timing, run, intervals));
        }
    };
    let refuse =
        |what: String| RunError::stopped(console.clone(), Vec::new(), cpu_sim::SimError::Unsupported(what));
    match halt {
        Halt::Reset => {
            return Err(refuse(
                "the program asked the test finisher for a reset (0x7777), which this board does not model"
                    .into(),
            ));
        }
        Halt::HostRequest(v) => {
            return Err(refuse(format!(
                "the program wrote {v:#x} to tohost: an HTIF request (system call or console), which this board does not serve"
            )));
        }
        Halt::Pass | Halt::Fail(_) => {}
    }
    let report = machine.report();
    let timing = program_timing(&report, seconds);
    Ok((report, timing, ProgramRun { console, stderr: Vec::new(), end: ProgramEnd::Halted(halt) }, intervals))
}

/// The host time of a program run, and the accesses and instructions it measured per second.
fn program_timing(report: &Report, seconds: f64) -> HostTiming {
    let instructions = report.core.as_ref().map_or(0, |c| c.instructions);
    HostTiming {
        seconds,
        accesses_per_second: report.accesses as f64 / seconds.max(1e-9),
        instructions_per_second: Some(instructions as f64 / seconds.max(1e-9)),
    }
}

/// Runs a user program as process 0 of the OS model.
fn run_user(
    config: &MachineConfig,
    program: &rv32::elf::Program,
    options: &RunOptions,
) -> Result<(Report, HostTiming, ProgramRun, Intervals), RunError> {
    let mut machine = UserMachine::new(config, program, options.check)?;
    let start = Instant::now();
    let result = machine.run();
    let seconds = start.elapsed().as_secs_f64();
    let (console, stderr) = (machine.stdout().to_vec(), machine.stderr().to_vec());
    let end = match result {
        Ok(ProgramStop::Ended(status)) => ProgramEnd::Exited(status),
        Ok(ProgramStop::AtMax) => ProgramEnd::StoppedAtMax,
        Err(source) => return Err(RunError::stopped(console, stderr, source)),
    };
    let intervals =
        config.window.interval.map(|_| (machine.interval_columns(), machine.intervals().to_vec()));
    let report = machine.report();
    let timing = program_timing(&report, seconds);
    Ok((report, timing, ProgramRun { console, stderr, end }, intervals))
}
