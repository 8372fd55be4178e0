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
        "physical memory exhausted: all {frames} frames are in use when process {pid} touched {vaddr} and {why}; \
         give `dram.capacity_bytes` (or `os.data_frames`) more room, configure `os.swap`, or shrink the workload"
    )]
    OutOfMemory {
        /// Frames of the pool that ran out.
        frames: u64,
        /// The process that needed one more.
        pid: Pid,
        /// The address it touched.
        vaddr: VirtAddr,
        /// Why no frame could be freed.
        why: &'static str,
    },
    /// A dirty page had to be written out and every swap slot holds a page.
    #[error(
        "swap device full: all {slots} slots hold pages when process {pid} touched {vaddr} and a dirty page had to be \
         written out; enlarge `os.swap.capacity_bytes` or `dram.capacity_bytes`"
    )]
    SwapFull {
        /// Slots of the device.
        slots: u64,
        /// The process whose fault needed the eviction.
        pid: Pid,
        /// The address it touched.
        vaddr: VirtAddr,
    },
    /// The `--check` oracle saw a load return something else than the last value
    /// stored at that address: data was lost or leaked (a bug in mmu-emu).
    #[error(
        "data-integrity check failed at access {index}: process {pid} loaded {found:#010x} from {vaddr}, \
         but the last value stored there was {expected:#010x}"
    )]
    CheckFailed {
        /// The access's sequence number (0-based).
        index: u64,
        /// The process.
        pid: Pid,
        /// The address.
        vaddr: VirtAddr,
        /// What the reference memory holds.
        expected: u32,
        /// What the machine returned.
        found: u32,
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
