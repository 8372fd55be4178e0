//! The architecture of mmu-emu: addresses, paging formats and their PTEs,
//! permissions, faults, simulated time, physical memory and DRAM, and the hardware
//! page walker.
//!
//! What it models: the bit-exact translation of a 32-bit virtual address through a
//! radix page table stored in simulated DRAM (RISC-V Sv32, IA-32 32-bit paging, a
//! flat table and a generic radix tree), with the cycles each PTE read costs in a
//! banked DRAM whose latency depends on the open rows.
//! What it does not: caches between the walker and DRAM (PTE reads go straight to
//! DRAM), PMP, PAE and PSE-36, DRAM refresh, and the OS (which lives in `cpu-sim`).
#![warn(missing_docs)]
#![deny(clippy::print_stdout, clippy::print_stderr, clippy::dbg_macro)]

pub mod access;
pub mod addr;
pub mod config;
pub mod dram;
pub mod event;
pub mod fault;
pub mod format;
pub mod mem;
pub mod perms;
pub mod port;
#[cfg(any(test, feature = "testing"))]
pub mod testing;
pub mod time;
pub mod walker;

pub use access::{AccessKind, Privilege, PrivilegeState};
pub use addr::{Asid, PageShift, PhysAddr, Pid, Ppn, VirtAddr, Vpn};
pub use config::InvalidField;
pub use dram::{AddressField, Dram, DramConfig, DramStats, DramTiming, DramTrafficStats, RowPolicy};
pub use fault::{Fault, FaultKind};
pub use format::{AdUpdate, Geometry, LevelBits, PageTableFormat, Paging, PagingConfig, PteView};
pub use mem::{PhysMem, Traffic};
pub use perms::Perms;
pub use port::{
    AccessContext, AddressSpace, Answer, Fence, MemRequest, MemoryPort, PhysBackdoor, Trap, TrapCause,
    Untimed, Width,
};
pub use time::{Cycle, Cycles, Timed};
/// The only random number generator of the simulator. Each randomized component
/// seeds its own stream from the run seed XOR a salt of its own, so adding a
/// component does not shift the others' sequences.
pub type SimRng = rand_chacha::ChaCha8Rng;

pub use walker::{
    LatencyHistogram, NoWalkCache, Translation, WalkCache, WalkOutcome, WalkRequest, WalkStart, WalkStats,
    walk, walk_recorded,
};
