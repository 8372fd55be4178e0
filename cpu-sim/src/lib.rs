//! The machine of mmu-emu: the memory system behind the memory port (TLBs, walk
//! caches, walker, DRAM and the OS model), the trace player that drives it, the
//! runner that feeds a workload through them, config composition and the report.
//! The RV32 core (the `rv32` crate) is the other driver: [`virt`] is the
//! bare-metal QEMU-`virt`-compatible board, [`user`] a Linux user program run as
//! a process of the OS model.
//!
//! What it models: an in-order core whose every access is translated and then
//! served by DRAM (there are no data caches), and an OS that handles page faults.
//! Files are opened by the binary; this crate reads configs from text and traces
//! from any `BufRead`.
#![warn(missing_docs)]
#![deny(clippy::print_stdout, clippy::print_stderr, clippy::dbg_macro)]

pub mod config;
pub mod curve;
pub mod error;
mod interval;
pub mod machine;
pub mod memory;
pub mod player;
pub mod program_window;
pub mod report;
pub mod runner;
pub mod testing;
pub mod user;
pub mod virt;
pub mod watch;
pub mod window;
pub mod workload;

pub use ::workload::{Access, TraceEvent, TraceFormat, TraceReader, TraceStats, Unaligned, WorkloadError};
pub use config::{ConfigError, MachineConfig, parse_config};
pub use error::SimError;
pub use machine::Machine;
pub use mmu_core::SimRng;
pub use os_model::Quantum;
pub use report::{HostTiming, Report};
pub use workload::{Workload, WorkloadConfig};
