//! Why the binary could not run: errors with the exit code each one means.

use cpu_sim::{ConfigError, SimError};
use std::path::PathBuf;
use thiserror::Error;

/// Why a run could not be done.
#[derive(Debug, Error)]
pub enum RunError {
    /// A file could not be read.
    #[error("{}: {source}", path.display())]
    Io {
        /// The file.
        path: PathBuf,
        /// The I/O error.
        source: std::io::Error,
    },
    /// The config is malformed or invalid.
    #[error(transparent)]
    Config(#[from] ConfigError),
    /// The simulation stopped with an error that names its own origin (a trace
    /// file and line).
    #[error(transparent)]
    Sim(#[from] SimError),
    /// The program file is not an RV32 executable this machine runs.
    #[error("{}: {source}", path.display())]
    Elf {
        /// The file.
        path: PathBuf,
        /// Why.
        source: rv32::elf::ElfError,
    },
    /// The program cannot be placed on the board.
    #[error("{}: {source}", path.display())]
    Load {
        /// The file.
        path: PathBuf,
        /// Why.
        source: cpu_sim::virt::LoadError,
    },
    /// The program started and the run stopped with an error; what it printed
    /// so far comes with it, for the console.
    #[error("{}", .0.source)]
    Stopped(Box<StoppedProgram>),
    /// The simulation stopped with an error of the machine the config describes
    /// (memory exhausted, swap full, the clock overflowed): named by the config
    /// file, as load errors are.
    #[error("{}: {source}", config.display())]
    Machine {
        /// The config file.
        config: PathBuf,
        /// What stopped the run.
        source: SimError,
    },
    /// A combination of options that cannot work.
    #[error("{0}")]
    Unsupported(String),
    /// An output file (interval records, a plot) could not be written after the run.
    #[error("writing {}: {message}", path.display())]
    Output {
        /// The file.
        path: PathBuf,
        /// What went wrong.
        message: String,
    },
    /// Standard output's reader stopped early (`| head`): not a failure of
    /// ours, so the binary stops quietly with status 0.
    #[error("standard output was closed by its reader")]
    StdoutClosed,
}

/// A program run that stopped with an error, and what it printed before.
#[derive(Debug)]
pub struct StoppedProgram {
    /// The console output before the stop.
    pub console: Vec<u8>,
    /// What a user program wrote to fd 2 before the stop.
    pub stderr: Vec<u8>,
    /// Why it stopped.
    pub source: SimError,
}

impl RunError {
    /// A program run that stopped with `source` after printing `console` and `stderr`.
    pub fn stopped(console: Vec<u8>, stderr: Vec<u8>, source: SimError) -> Self {
        RunError::Stopped(Box::new(StoppedProgram { console, stderr, source }))
    }

    /// A simulation error of the run of `config`: an error of the machine is
    /// prefixed with the config file; one of a trace already names the trace.
    pub fn of_run(config: &std::path::Path, error: SimError) -> Self {
        match error {
            SimError::Workload(_) | SimError::UnknownProcess { .. } => RunError::Sim(error),
            SimError::Os(_)
            | SimError::CheckFailed { .. }
            | SimError::ClockOverflow { .. }
            | SimError::NoProgress(_)
            | SimError::InstructionLimit { .. }
            | SimError::ProcessStopped(_)
            | SimError::Unsupported(_)
            | SimError::Internal(_) => RunError::Machine { config: config.to_path_buf(), source: error },
        }
    }

    /// Whether the run was refused before it started (exit 2): nothing ran, so
    /// nothing it would have written should be left.
    pub fn refused(&self) -> bool {
        self.exit_code() == 2
    }

    /// The process exit code: 2 for bad input the user must fix before running,
    /// 1 for a simulation that started and stopped with an error, 0 for a
    /// reader of standard output that stopped early.
    pub fn exit_code(&self) -> i32 {
        match self {
            RunError::Io { .. }
            | RunError::Config(_)
            | RunError::Unsupported(_)
            | RunError::Elf { .. }
            | RunError::Load { .. } => 2,
            RunError::Sim(_) | RunError::Machine { .. } | RunError::Output { .. } | RunError::Stopped(_) => 1,
            RunError::StdoutClosed => 0,
        }
    }
}
