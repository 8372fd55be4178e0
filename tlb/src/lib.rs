//! Translation caches of mmu-emu: set-associative TLB arrays, their replacement,
//! and the L1/L2 hierarchy the MMU looks addresses up in.
//!
//! What it models: hits, misses, fills, evictions and invalidations of TLB entries
//! tagged by ASID, with global entries and superpage entries, and the hit latency of
//! each level. What it does not: port contention or miss queues (one lookup at a time).
#![warn(missing_docs)]
#![deny(clippy::print_stdout, clippy::print_stderr, clippy::dbg_macro)]

pub mod config;
pub mod hierarchy;
pub mod set_assoc;

pub use config::{Replacement, Serves, TlbConfig, TlbHierarchyConfig};
pub use hierarchy::{HierarchyLookup, TlbHierarchy};
pub use set_assoc::{Tlb, TlbStats};
