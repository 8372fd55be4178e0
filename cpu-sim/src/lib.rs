//! The machine of mmu-emu: the CPU that issues accesses and counts cycles, the MMU
//! that composes TLBs, walker and DRAM, the OS model, workloads, config loading
//! and the report.
//!
//! What it models: an in-order CPU whose every access is translated and then
//! served by DRAM (there are no data caches), and an OS that handles page faults.
//! Files are opened by the binary; this crate reads configs from text and traces
//! from any `BufRead`.
#![warn(missing_docs)]
#![deny(clippy::print_stdout, clippy::print_stderr, clippy::dbg_macro)]

pub mod config;
pub mod cpu;
pub mod error;
pub mod mmu;
pub mod os;
pub mod report;
pub mod workload;

pub use config::{ConfigError, MachineConfig, parse_config};
pub use cpu::Machine;
pub use error::SimError;
pub use report::{HostTiming, Report};
pub use workload::{
    Access, TraceEvent, TraceFormat, TraceReader, TraceStats, Workload, WorkloadConfig, WorkloadError,
};

/// The only random number generator of the simulator. Each randomized component
/// seeds its own stream from the run seed XOR a salt of its own, so adding a
/// component does not shift the others' sequences.
pub type SimRng = rand_chacha::ChaCha8Rng;
