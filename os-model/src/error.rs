//! Errors of the OS model: conditions that stop the run (as opposed to page
//! faults, which it handles, and segmentation faults, which stop one process).

use mmu_core::{Pid, VirtAddr};
use thiserror::Error;

/// Why the OS model cannot go on.
#[derive(Debug, Error)]
pub enum OsError {
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
    /// OPT's look-ahead (8 bytes per access) does not fit in host memory.
    #[error(
        "OPT's look-ahead needs {bytes} bytes of host memory (8 per access, for {accesses} accesses), \
         more than can be allocated: choose another `os.replacement` or a shorter workload"
    )]
    LookAheadTooLarge {
        /// Accesses of the workload (an upper bound when counted before the run).
        accesses: u64,
        /// Bytes the look-ahead needs.
        bytes: u128,
    },
    /// An invariant of the model broke: a bug in mmu-emu.
    #[error("internal error (a bug in mmu-emu): {0}")]
    Internal(String),
}
