//! The edge of mmu-emu: opening config and trace files (decompressing `.gz` and
//! `.zst`), running a simulation with a progress bar and a host timer, and
//! rendering its report. The `mmu-sim` binary and the integration tests use this;
//! the model crates below never touch files, clocks or terminals.
//!
//! - [`error`]: why a run could not be done, and its exit code;
//! - [`io`]: configs and traces from files;
//! - [`program`]: running an RV32 ELF program, its console and exit status;
//! - [`run`]: the options of a run, the progress bar, the runner's trace source;
//! - [`reader_thread`]: a trace decoded on a second thread, in batches;
//! - [`convert`]: traces converted between formats (binary, native text);
//! - [`inspect`]: reading a trace without simulating it;
//! - [`generate`]: writing a synthetic workload as a trace;
//! - [`render`]: the report as a table;
//! - [`explain`]: the story of one access (`explain`) and the event log (`run --log`);
//! - [`log_file`]: the `--log-file`, changed only once the run goes ahead.

pub mod convert;
pub mod error;
pub mod explain;
pub mod generate;
pub mod inspect;
pub mod io;
pub mod log_file;
pub mod mrc;
pub mod options;
pub mod overrides;
pub mod program;
pub mod reader_thread;
pub mod render;
pub mod run;
pub mod sweep;
pub mod window;

pub use error::RunError;
pub use generate::{GenerateError, write_config_workload, write_generated};
pub use inspect::{TraceSummary, inspect_trace, render_summary};
pub use io::{load_config, open_trace, refuse_outputs_over_trace, trace_path};
pub use program::{ProgramEnd, ProgramRun};
pub use render::{executed_accesses, render_table, render_timing, skipped_warning};
pub use run::{RunOptions, RunOutcome, run_config, run_config_with, run_file, run_watched, run_with};
