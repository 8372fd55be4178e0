//! How to run a config, beyond the config itself: the options `run`, `sweep`
//! and `mrc` share.

use cpu_sim::{TraceFormat, Unaligned};
use std::path::PathBuf;

/// How to run a config, beyond the config itself.
#[derive(Clone, Debug, Default)]
pub struct RunOptions {
    /// Read this trace instead of the config's workload; `-` is standard input.
    pub trace: Option<PathBuf>,
    /// The trace's format. Without it: the config's `format` for the config's
    /// own trace, detection for a `--trace` override.
    pub trace_format: Option<TraceFormat>,
    /// Count and skip trace lines that do not parse instead of stopping.
    pub skip_bad_lines: bool,
    /// What to do with unaligned native addresses. Without it: the config's
    /// `unaligned` for the config's own trace, `Fault` for a `--trace` override.
    pub unaligned: Option<Unaligned>,
    /// Draw a progress bar on standard error (the binary turns it on only when
    /// standard error is a terminal).
    pub progress: bool,
    /// Check every load against a reference memory (`--check`); a mismatch stops
    /// the run with `CheckFailed`.
    pub check: bool,
    /// Run this RV32 ELF file (`--elf`) instead of the `Elf` workload's own path.
    pub elf: Option<PathBuf>,
    /// The runaway guard (`--max-instructions`), overriding the workload's.
    pub max_instructions: Option<u64>,
    /// Threads that read the trace: 2 decodes it on a second thread, in batches,
    /// while this one simulates (`--reader-threads 2`, the CLI's default on two
    /// or more cores); 1 decodes the same batches on the simulating thread
    /// (`--reader-threads 1`); 0 (the default here) decodes each event there
    /// as the run takes it, so nothing is read past the run's last event. The
    /// report is the same either way, the trace statistics included when the
    /// run reads the trace to its end or stops at a known `max`.
    pub reader_threads: usize,
    /// Build a one-pass miss-ratio curve of this TLB over these geometries (`mrc`).
    pub observe: Option<(String, Vec<mrc::Geometry>)>,
}
