//! Workloads: where the CPU's accesses come from, either a trace read from any
//! `Read` (native, valgrind lackey, Dinero din or the course format) or a seeded
//! synthetic generator. Never loaded whole: events stream, and host memory stays
//! flat whatever the trace length.

mod formats;
mod reader;
mod synthetic;

pub use formats::{TraceFormat, write_native};
pub use reader::{TraceReader, TraceStats};
pub use synthetic::{
    Generator, GeneratorConfig, MatrixLoops, MatrixMultiply, Phases, PointerChase, Sequential, Strided,
    Uniform, WorkingSet, Zipf, ZipfExponent,
};

use mmu_core::config::InvalidField;
use mmu_core::{AccessKind, Pid, VirtAddr};
use serde::{Deserialize, Serialize};
use std::io::Read;
use thiserror::Error;

/// One access of the CPU.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Access {
    /// Load, store or fetch.
    pub kind: AccessKind,
    /// The (word-aligned, or else an alignment fault) address.
    pub vaddr: VirtAddr,
    /// The value a store writes; `None` lets the CPU write the access's sequence
    /// number, so every store leaves a distinct, checkable value.
    pub value: Option<u32>,
}

/// One event of a workload.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum TraceEvent {
    /// An access by the current process.
    Access(Access),
    /// A context switch to process `pid` (`P n` in a trace).
    Switch(Pid),
}

/// A workload that could not be read.
#[derive(Debug, Error)]
pub enum WorkloadError {
    /// A line that does not parse.
    #[error("{origin}:{line}: {message}")]
    Parse {
        /// The trace's name (its path).
        origin: String,
        /// 1-based line number.
        line: u64,
        /// What was expected and what was found.
        message: String,
    },
    /// The trace's format could not be told from its first lines.
    #[error("{origin}: {message}")]
    Format {
        /// The trace's name.
        origin: String,
        /// Why, and how to name the format instead.
        message: String,
    },
    /// Reading failed.
    #[error("{origin}: read failed: {source}")]
    Io {
        /// The trace's name.
        origin: String,
        /// The I/O error.
        source: std::io::Error,
    },
}

/// Where a run's accesses come from. Owned by cpu-sim's workload module.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum WorkloadConfig {
    /// A trace file, its path relative to the config file. Files ending in `.gz` or
    /// `.zst` are decompressed while they are read.
    Trace {
        /// Path of the trace, relative to the directory of the config file.
        path: String,
        /// The trace's format; `Auto` (the default) tells it from the first lines.
        #[serde(default)]
        format: TraceFormat,
    },
    /// A seeded generator whose accesses process 0 makes.
    Synthetic(GeneratorConfig),
    /// A mix of processes (#5): process `i` runs `programs[i]`, seeded apart, and
    /// the OS's round-robin scheduler switches when the quantum expires. A process
    /// whose program ends exits and its memory is freed. Run by
    /// `Machine::run_synthetic`, not through [`Workload`].
    Processes {
        /// How long each process runs before the next one.
        quantum: crate::os::scheduler::Quantum,
        /// One generator per process, in pid order.
        programs: Vec<GeneratorConfig>,
    },
}

impl WorkloadConfig {
    /// Checks the workload's parameters (a trace is checked when read).
    ///
    /// # Errors
    /// The first field that breaks a rule, named relative to this enum.
    pub fn validate(&self) -> Result<(), InvalidField> {
        match self {
            WorkloadConfig::Trace { path, .. } => {
                if path.is_empty() {
                    return Err(InvalidField::new("path", "must name a trace file"));
                }
                Ok(())
            }
            WorkloadConfig::Synthetic(generator) => generator.validate(),
            WorkloadConfig::Processes { quantum, programs } => {
                quantum.validate()?;
                if programs.is_empty() {
                    return Err(InvalidField::new("programs", "at least one program is needed"));
                }
                for (i, p) in programs.iter().enumerate() {
                    p.validate().map_err(|e| e.within(&format!("[{i}]")).within("programs"))?;
                }
                Ok(())
            }
        }
    }
}

/// A running workload: a trace reader or a generator.
pub enum Workload<R> {
    /// A trace, in any of the [`TraceFormat`]s.
    Trace(TraceReader<R>),
    /// A synthetic generator.
    Synthetic(Box<Generator>),
}

/// Salt of the workload's random stream (see `SimRng`).
pub const SALT_WORKLOAD: u64 = 0x574f_524b_4c4f_4144;

impl<R: Read> Workload<R> {
    /// The generator a synthetic config describes; `None` for a trace config, which
    /// the caller opens and passes to [`Workload::trace`], and for a `Processes`
    /// mix, which `Machine::run_synthetic` schedules.
    pub fn synthetic(config: &WorkloadConfig, seed: u64) -> Option<Self> {
        match config {
            WorkloadConfig::Trace { .. } | WorkloadConfig::Processes { .. } => None,
            WorkloadConfig::Synthetic(generator) => {
                Some(Workload::Synthetic(Box::new(generator.build(seed))))
            }
        }
    }

    /// A native-format trace read from `reader`; `origin` names it in errors.
    pub fn trace(reader: R, origin: impl Into<String>) -> Self {
        Workload::Trace(TraceReader::new(reader, origin, TraceFormat::Native))
    }
}

impl<R: Read> Iterator for Workload<R> {
    type Item = Result<TraceEvent, WorkloadError>;
    #[inline]
    fn next(&mut self) -> Option<Self::Item> {
        match self {
            Workload::Trace(r) => r.next(),
            Workload::Synthetic(g) => g.next().map(Ok),
        }
    }
}
