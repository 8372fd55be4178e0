//! Workloads of mmu-emu: where the trace player's accesses come from, either a
//! trace read from any `Read` (native, valgrind lackey, Dinero din, the course
//! format or mmu-emu's binary format) or a seeded synthetic generator. Never loaded whole: events stream, and
//! host memory stays flat whatever the trace length.
//!
//! What it models: nothing of the machine; it turns files and seeds into
//! [`TraceEvent`]s. Files are opened by the binary; this crate reads any `Read`.
#![warn(missing_docs)]
#![deny(clippy::print_stdout, clippy::print_stderr, clippy::dbg_macro)]

pub mod binary;
mod formats;
mod reader;
mod synthetic;

pub use binary::BinaryWriter;
pub use formats::{TraceFormat, Unaligned, write_native};
pub use reader::{TraceReader, TraceStats};
pub use synthetic::{
    Generator, GeneratorConfig, MatrixLoops, MatrixMultiply, Phases, PointerChase, Sequential, Strided,
    Uniform, WorkingSet, Zipf, ZipfExponent,
};

use mmu_core::{AccessKind, Pid, VirtAddr};
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
    /// A binary trace that is truncated or corrupt after its header.
    #[error("{origin}: byte {offset}: {message}")]
    Corrupt {
        /// The trace's name.
        origin: String,
        /// Offset in the (decompressed) file of the record at fault.
        offset: u64,
        /// What is wrong.
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

/// The pids of `count` processes in words, for messages: "no process",
/// "pid 0 only", "pids 0 and 1", "pids 0 to 3".
pub fn describe_pids(count: u32) -> String {
    match count {
        0 => "no process".to_string(),
        1 => "pid 0 only".to_string(),
        2 => "pids 0 and 1".to_string(),
        n => format!("pids 0 to {}", n - 1),
    }
}

/// Salt of the workload's random stream (see `SimRng`).
pub const SALT_WORKLOAD: u64 = 0x574f_524b_4c4f_4144;
