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
    /// A combination of options that cannot work.
    #[error("{0}")]
    Unsupported(String),
}

impl RunError {
    /// The process exit code: 2 for bad input the user must fix before running,
    /// 1 for a simulation that started and stopped with an error.
    pub fn exit_code(&self) -> i32 {
        match self {
            RunError::Io { .. } | RunError::Config(_) | RunError::Unsupported(_) => 2,
            RunError::Sim(_) => 1,
        }
    }
}
