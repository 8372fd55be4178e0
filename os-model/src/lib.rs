//! The OS model of mmu-emu: processes with regions and shared memory objects,
//! page tables built in physical frames, and the page-fault handler: demand-zero
//! allocation from a free-frame bitmap, page replacement (FIFO, LRU, Clock,
//! random, OPT) and swapping when no frame is free, software A/D updates, and
//! segmentation faults that stop a process and free its memory; superpages for
//! regions that ask for them, mapped, evicted and swapped whole; plus the
//! round-robin scheduler of a multi-process workload.
//!
//! It sees memory only through [`mmu_core::PhysBackdoor`] and never the TLBs: a
//! fault's handling returns its cost, the fences to apply and its outcome
//! ([`Resolution`]), and the machine applies the fences.
//!
//! What it does not model: the kernel's own memory traffic (charged as
//! configured handler cycles), a swap device with seeks or queues, compaction
//! (a superpage's aligned run of frames is freed by evicting pages) and the
//! promotion of base pages into a superpage, superpages of shared memory, and
//! page-table pages being swapped (they are pinned).
#![warn(missing_docs)]
#![deny(clippy::print_stdout, clippy::print_stderr, clippy::dbg_macro)]

mod config;
mod error;
pub mod frames;
mod future;
mod handler;
mod os;
pub mod page_table;
pub mod process;
pub mod replacement;
pub mod scheduler;
pub mod swap;

pub use config::OsConfig;
pub use error::OsError;
pub use frames::{FrameBitmap, FrameTable};
pub use future::{FutureBuilder, PageStream, Touch};
pub use handler::{Outcome, Resolution};
pub use os::{Os, OsStats, SALT_PAGE_REPLACEMENT, Segfault};
pub use page_table::MemoryPlan;
pub use process::{
    Owner, PageKey, Process, ProcessConfig, ProcessState, ProcessStats, ProcessTable, RegionConfig,
    validate_shared,
};
pub use replacement::{Future, LOOK_AHEAD_BYTES_PER_ACCESS, NEVER, PageReplacement};
pub use scheduler::{Executor, Quantum, Step};
pub use swap::{Slot, SwapConfig, SwapDevice};
