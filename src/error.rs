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
    /// The simulation stopped with an error.
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
    #[error("{source}")]
    Stopped {
        /// The console output before the stop.
        console: Vec<u8>,
        /// What a user program wrote to fd 2 before the stop.
        stderr: Vec<u8>,
        /// Why it stopped.
        source: SimError,
    },
    /// A combination of options that cannot work.
    #[error("{0}")]
    Unsupported(String),
}

impl RunError {
    /// The process exit code: 2 for bad input the user must fix before running,
    /// 1 for a simulation that started and stopped with an error.
    pub fn exit_code(&self) -> i32 {
        match self {
            RunError::Io { .. }
            | RunError::Config(_)
            | RunError::Unsupported(_)
            | RunError::Elf { .. }
            | RunError::Load { .. } => 2,
            RunError::Sim(_) | RunError::Stopped { .. } => 1,
        }
    }
}
