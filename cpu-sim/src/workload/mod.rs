//! Workloads: where the CPU's accesses come from, either a trace read from any
//! `BufRead` or a seeded synthetic generator. Never loaded whole: events stream.

mod native;
mod synthetic;

pub use native::NativeReader;
pub use synthetic::{Sequential, Uniform};

use mmu_core::config::InvalidField;
use mmu_core::{AccessKind, Pid, VirtAddr};
use serde::{Deserialize, Serialize};
use std::io::BufRead;
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
    /// A trace file in the native format, its path relative to the config file.
    Trace {
        /// Path of the trace, relative to the directory of the config file.
        path: String,
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

/// A synthetic access pattern, seeded from the run seed.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum GeneratorConfig {
    /// Word after word from `base`, wrapping around after `bytes`.
    Sequential {
        /// First address; word aligned.
        base: u32,
        /// Size of the region walked; a non-zero multiple of 4.
        bytes: u32,
        /// Number of accesses.
        accesses: u64,
        /// Percentage (0..=100) of accesses that are stores, chosen at random.
        write_percent: u8,
    },
    /// Words chosen uniformly at random in `[base, base + bytes)`.
    Uniform {
        /// First address; word aligned.
        base: u32,
        /// Size of the region; a non-zero multiple of 4.
        bytes: u32,
        /// Number of accesses.
        accesses: u64,
        /// Percentage (0..=100) of accesses that are stores.
        write_percent: u8,
    },
}

impl WorkloadConfig {
    /// Checks the workload's parameters (a trace is checked when read).
    ///
    /// # Errors
    /// The first field that breaks a rule, named relative to this enum.
    pub fn validate(&self) -> Result<(), InvalidField> {
        match self {
            WorkloadConfig::Trace { path } => {
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

impl GeneratorConfig {
    /// Checks a generator's parameters.
    ///
    /// # Errors
    /// The first field that breaks a rule, named relative to this enum.
    pub fn validate(&self) -> Result<(), InvalidField> {
        match self {
            GeneratorConfig::Sequential { base, bytes, write_percent, .. }
            | GeneratorConfig::Uniform { base, bytes, write_percent, .. } => {
                if base % 4 != 0 {
                    return Err(InvalidField::new("base", format!("{base:#x} is not word aligned")));
                }
                if *bytes == 0 || bytes % 4 != 0 {
                    return Err(InvalidField::new(
                        "bytes",
                        format!("{bytes:#x} is not a non-zero multiple of 4"),
                    ));
                }
                if u64::from(*base) + u64::from(*bytes) > 1 << 32 {
                    return Err(InvalidField::new(
                        "bytes",
                        "base + bytes goes beyond the 32-bit address space",
                    ));
                }
                if *write_percent > 100 {
                    return Err(InvalidField::new(
                        "write_percent",
                        format!("{write_percent} is not a percentage"),
                    ));
                }
            }
        }
        Ok(())
    }

    /// The running generator, its random stream seeded from `seed`.
    pub fn build(&self, seed: u64) -> Generator {
        let seed = seed ^ SALT_WORKLOAD;
        match *self {
            GeneratorConfig::Sequential { base, bytes, accesses, write_percent } => {
                Generator::Sequential(Sequential::new(base, bytes, accesses, write_percent, seed))
            }
            GeneratorConfig::Uniform { base, bytes, accesses, write_percent } => {
                Generator::Uniform(Uniform::new(base, bytes, accesses, write_percent, seed))
            }
        }
    }
}

/// A running generator, dispatched by `match` (no virtual call per access).
pub enum Generator {
    /// See [`GeneratorConfig::Sequential`].
    Sequential(Sequential),
    /// See [`GeneratorConfig::Uniform`].
    Uniform(Uniform),
}

impl Iterator for Generator {
    type Item = TraceEvent;
    #[inline]
    fn next(&mut self) -> Option<TraceEvent> {
        match self {
            Generator::Sequential(g) => g.next(),
            Generator::Uniform(g) => g.next(),
        }
    }
}

/// A running workload: a trace reader or a generator.
pub enum Workload<R: BufRead> {
    /// A native-format trace.
    Native(NativeReader<R>),
    /// A synthetic generator.
    Synthetic(Box<Generator>),
}

/// Salt of the workload's random stream (see `SimRng`).
pub const SALT_WORKLOAD: u64 = 0x574f_524b_4c4f_4144;

impl<R: BufRead> Workload<R> {
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
        Workload::Native(NativeReader::new(reader, origin))
    }
}

impl<R: BufRead> Iterator for Workload<R> {
    type Item = Result<TraceEvent, WorkloadError>;
    #[inline]
    fn next(&mut self) -> Option<Self::Item> {
        match self {
            Workload::Native(r) => r.next(),
            Workload::Synthetic(g) => g.next().map(Ok),
        }
    }
}
