//! `mmu-sim generate`: a config's synthetic workload written as a native trace.

use crate::error::RunError;
use cpu_sim::Quantum;
use cpu_sim::{Machine, MachineConfig, TraceEvent, WorkloadConfig};
use std::path::Path;
use workload::GeneratorConfig;

/// Why `generate` wrote nothing, or stopped.
#[derive(Debug)]
pub enum GenerateError {
    /// The config cannot be generated (exit status 2): the reason.
    Refused(RunError),
    /// Writing failed (a closed pipe included).
    Write(std::io::Error),
}

/// Writes the workload of `config` (loaded from `config_path`) in the native
/// trace format, `repeat` times over, to `out`: one `Synthetic` generator, or a
/// `Processes` mix with a quantum in accesses, written with a `P i` line each
/// time the scheduler switches to process `i` (see
/// [`cpu_sim::runner::schedule_events`] for what a trace cannot say: exits).
///
/// # Errors
/// `Refused` for a trace workload or a quantum in cycles, `Write` when writing fails.
pub fn write_config_workload(
    config: &MachineConfig,
    config_path: &Path,
    repeat: u64,
    out: &mut impl std::io::Write,
) -> Result<u64, GenerateError> {
    let refuse = |why: &str| {
        GenerateError::Refused(RunError::Unsupported(format!("{}: {why}", config_path.display())))
    };
    match &config.workload {
        WorkloadConfig::Synthetic(generator) => {
            write_generated(generator, config.seed, repeat, out).map_err(GenerateError::Write)
        }
        WorkloadConfig::Trace { .. } => {
            Err(refuse("the workload is a trace already; `generate` needs a Synthetic or Processes one"))
        }
        WorkloadConfig::Elf { .. } => Err(refuse(
            "the workload is an RV32 program, whose accesses come from running it; `generate` needs a \
             Synthetic or Processes one",
        )),
        WorkloadConfig::Processes { quantum: Quantum::Cycles(_), .. } => Err(refuse(
            "the workload's quantum is in cycles, so when each process is switched out depends on the simulated \
             time of its accesses and the interleaving is known only by running it; `generate` needs \
             `quantum: Accesses(n)`",
        )),
        WorkloadConfig::Processes { quantum: Quantum::Accesses(q), programs } => {
            let machine =
                Machine::new(config).map_err(|e| GenerateError::Refused(RunError::of_run(config_path, e)))?;
            let mut buf = Vec::with_capacity(1 << 17);
            let mut lines = 0;
            for _ in 0..repeat {
                cpu_sim::runner::schedule_events(&machine, programs, *q, &mut |event: TraceEvent| {
                    workload::write_native(&event, &mut buf);
                    lines += 1;
                    if buf.len() >= 1 << 16 {
                        out.write_all(&buf)?;
                        buf.clear();
                    }
                    Ok(())
                })
                .map_err(GenerateError::Write)?;
            }
            out.write_all(&buf).and_then(|()| out.flush()).map_err(GenerateError::Write)?;
            Ok(lines)
        }
    }
}

/// Writes the synthetic workload of `generator` (seeded by `seed`) in the native
/// trace format, `repeat` times over, to `out`: `mmu-sim generate`, whose output
/// `mmu-sim run --trace -` reads back.
///
/// # Errors
/// Writing failed (a closed pipe included).
pub fn write_generated(
    generator: &GeneratorConfig,
    seed: u64,
    repeat: u64,
    out: &mut impl std::io::Write,
) -> std::io::Result<u64> {
    let mut buf = Vec::with_capacity(1 << 17);
    let mut lines = 0;
    for _ in 0..repeat {
        for event in generator.build(seed) {
            workload::write_native(&event, &mut buf);
            lines += 1;
            if buf.len() >= 1 << 16 {
                out.write_all(&buf)?;
                buf.clear();
            }
        }
    }
    out.write_all(&buf)?;
    out.flush()?;
    Ok(lines)
}
