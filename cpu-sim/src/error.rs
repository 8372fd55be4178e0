//! Errors a run can stop with: things the user must fix, or bugs reported as such.

use mmu_core::{Pid, VirtAddr};
use os_model::OsError;
use thiserror::Error;
use workload::WorkloadError;

/// Why a simulation stopped early.
#[derive(Debug, Error)]
pub enum SimError {
    /// The workload could not be read.
    #[error(transparent)]
    Workload(#[from] WorkloadError),
    /// The OS model cannot go on (memory exhausted, swap full).
    #[error(transparent)]
    Os(#[from] OsError),
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
    #[error(
        "{origin}: `P {pid}` names no process: the config declares {}",
        workload::describe_pids(u32::try_from(*count).unwrap_or(u32::MAX))
    )]
    UnknownProcess {
        /// Where the switch came from.
        origin: String,
        /// The pid asked for.
        pid: Pid,
        /// How many processes exist.
        count: usize,
    },
    /// The simulated clock saturated at 2^64 - 1 cycles: a cost in the config is
    /// so large that `cycles` would overflow.
    #[error(
        "the simulated clock would pass 2^64 - 1 cycles at access {access}, so `cycles` and the other \
         cycle counters would be wrong: {cause}"
    )]
    ClockOverflow {
        /// The access (1-based, skipped ones included) whose cost overflowed.
        access: u64,
        /// The config's largest cost, named, or why the costs add up.
        cause: String,
    },
    /// An access kept faulting after the OS handled its fault: a bug in mmu-emu.
    #[error("no progress: {0}")]
    NoProgress(String),
    /// The program ran past `--max-instructions` (the workload's `max_instructions`).
    #[error(
        "the program did not end within {limit} instructions (the runaway guard, --max-instructions); \
         it was at pc {pc:#010x}"
    )]
    InstructionLimit {
        /// The limit.
        limit: u64,
        /// Where the program was.
        pc: u32,
    },
    /// A user program was stopped: an exception it cannot survive (illegal
    /// instruction, segmentation fault) or a system call the machine lacks.
    #[error("the process was stopped: {0}")]
    ProcessStopped(String),
    /// The program asked for something the machine does not model.
    #[error("{0}")]
    Unsupported(String),
    /// An invariant of the model broke: a bug in mmu-emu.
    #[error("internal error (a bug in mmu-emu): {0}")]
    Internal(String),
}
