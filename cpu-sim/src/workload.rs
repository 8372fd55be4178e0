//! The config of a run's workload: a trace file, one synthetic generator, or a mix
//! of processes under the OS's scheduler. The readers and generators themselves
//! live in the `workload` crate.

use mmu_core::config::InvalidField;
use serde::{Deserialize, Serialize};
use std::io::Read;
use workload::{Generator, GeneratorConfig, TraceEvent, TraceFormat, TraceReader, Unaligned, WorkloadError};

/// Where a run's accesses come from. Composed here, by cpu-sim: the generators are the `workload` crate's, the quantum the OS's.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
// Unknown fields of a struct variant are refused, as they are everywhere else in a config.
#[serde(deny_unknown_fields)]
pub enum WorkloadConfig {
    /// A trace file, its path relative to the config file. Files ending in `.gz` or
    /// `.zst` are decompressed while they are read.
    Trace {
        /// Path of the trace, relative to the directory of the config file.
        path: String,
        /// The trace's format; `Auto` (the default) tells it from the first lines.
        #[serde(default)]
        format: TraceFormat,
        /// What to do with a native record whose address is not word aligned:
        /// `Fault` (the default: an alignment fault, the access skipped) or
        /// `RoundDown` (the word that holds it, as the course format does).
        #[serde(default, skip_serializing_if = "Unaligned::is_fault")]
        unaligned: Unaligned,
    },
    /// A seeded generator whose accesses process 0 makes.
    Synthetic(GeneratorConfig),
    /// A mix of processes (#5): process `i` runs `programs[i]`, seeded apart, and
    /// the OS's round-robin scheduler switches when the quantum expires. A process
    /// whose program ends exits and its memory is freed. Run by
    /// `runner::run_synthetic`, not through [`Workload`].
    Processes {
        /// How long each process runs before the next one.
        quantum: os_model::Quantum,
        /// One generator per process, in pid order.
        programs: Vec<GeneratorConfig>,
    },
    /// An RV32 program run by the RV32 core (issue #10): bare metal on the
    /// QEMU-`virt` board (`environment: BareMetal`), or as process 0 of the OS model
    /// (`UserProcess`). Run by `cpu_sim::virt::VirtMachine`, not through [`Workload`].
    Elf {
        /// Path of the ELF file, relative to the directory of the config file;
        /// `None` (the default) when it is given on the command line (`--elf`).
        #[serde(default)]
        path: Option<String>,
        /// Bare metal or a user process.
        environment: rv32::Environment,
        /// The runaway guard: the run stops with an error after this many
        /// instructions (retired, or traps taken). Default `None`: no limit.
        #[serde(default)]
        max_instructions: Option<u64>,
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
            WorkloadConfig::Elf { path, max_instructions, .. } => {
                if path.as_deref() == Some("") {
                    return Err(InvalidField::new(
                        "path",
                        "must name an ELF file (or leave it out and pass --elf)",
                    ));
                }
                if *max_instructions == Some(0) {
                    return Err(InvalidField::new("max_instructions", "must be at least 1"));
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

impl<R: Read> Workload<R> {
    /// The generator a synthetic config describes; `None` for a trace config, which
    /// the caller opens and passes to [`Workload::trace`], and for a `Processes`
    /// mix, which `runner::run_synthetic` schedules.
    pub fn synthetic(config: &WorkloadConfig, seed: u64) -> Option<Self> {
        match config {
            WorkloadConfig::Trace { .. } | WorkloadConfig::Processes { .. } | WorkloadConfig::Elf { .. } => {
                None
            }
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
