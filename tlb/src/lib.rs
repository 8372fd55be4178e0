//! Translation caches of mmu-emu: set-associative TLB arrays with five replacement
//! policies, the L1/L2 hierarchy the MMU looks addresses up in, and the page-walk
//! caches the hardware walker consults before reading page-table entries.
//!
//! What it models: hits, misses, fills, evictions and invalidations of TLB entries
//! tagged by ASID, with global entries and several page sizes (unified, or split
//! between TLBs), inclusive or non-inclusive L2s, splintering of pages larger than a
//! TLB holds, per-level walk caches, and the lookup latency of each structure.
//! What it does not: port contention, miss queues or overlapping misses (one lookup
//! at a time), and prefetching into TLBs.
#![warn(missing_docs)]
#![deny(clippy::print_stdout, clippy::print_stderr, clippy::dbg_macro)]

mod array;
pub mod config;
pub mod hierarchy;
mod index;
pub mod plru;
pub mod replay;
pub mod set_assoc;
pub mod walk_cache;

pub use array::PolicyRng;
pub use config::{
    AsidMode, Inclusion, PageSizes, Replacement, Serves, TlbConfig, TlbHierarchyConfig, WalkCacheConfig,
};
pub use hierarchy::{HierarchyLookup, InvalidationStats, L1Entry, TlbHierarchy};
pub use plru::PlruTree;
pub use replay::HitReplay;
pub use set_assoc::{BySide, Evicted, FLUSH, ReferenceTap, Resident, Side, Tlb, TlbStats};
pub use walk_cache::{CachedPointer, WalkCaches};
