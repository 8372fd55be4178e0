//! Errors a run can stop with: things the user must fix, or bugs reported as such.

use crate::workload::WorkloadError;
use mmu_core::{Pid, VirtAddr};
use thiserror::Error;

/// Why a simulation stopped early.
#[derive(Debug, Error)]
pub enum SimError {
    /// The workload could not be read.
    #[error(transparent)]
    Workload(#[from] WorkloadError),
    /// Every frame is in use and the OS model cannot free one.
    #[error(
        "physical memory exhausted: all {frames} frames are in use when process {pid} touched {vaddr}; \
         swapping is not modelled yet (FIXME(#5)), so give `dram.capacity_bytes` more room or shrink the workload"
    )]
    OutOfMemory {
        /// Frames of DRAM.
        frames: u64,
        /// The process that needed one more.
        pid: Pid,
        /// The address it touched.
        vaddr: VirtAddr,
    },
    /// A trace switched to a process the config does not declare.
    #[error("{origin}: `P {pid}` names no process: the config declares {count} (pids 0..{count})")]
    UnknownProcess {
        /// Where the switch came from.
        origin: String,
        /// The pid asked for.
        pid: Pid,
        /// How many processes exist.
        count: usize,
    },
    /// An access kept faulting after the OS handled its fault: a bug in mmu-emu.
    #[error("no progress: {0}")]
    NoProgress(String),
    /// An invariant of the model broke: a bug in mmu-emu.
    #[error("internal error (a bug in mmu-emu): {0}")]
    Internal(String),
}
