//! One-pass miss-ratio curves: the miss count of every cache size, associativity
//! and frame count from a single pass over a reference stream.
//!
//! What it computes, exactly (nothing is sampled):
//! - [`LruStack`]: the LRU stack distance of every reference, for a fully
//!   associative cache of every size at once (Mattson, Gecsei, Slutz and Traiger,
//!   "Evaluation techniques for storage hierarchies", IBM Systems Journal 9(2),
//!   1970). Kept in a Fenwick tree over reference times, O(log n) per reference.
//! - [`SetAssocSweep`]: per-set stack distances for a fixed number of sets, giving
//!   LRU misses for every associativity up to a bound at once (Hill and Smith,
//!   "Evaluating associativity in CPU caches", IEEE Trans. Computers 38(12), 1989).
//! - [`TlbCurve`]: a list of requested TLB geometries (entries, ways), grouped by
//!   set count, all updated by the same single pass; the set of a reference is the
//!   TLB's own index function, the low bits of the page number.
//! - [`OptStack`] and [`opt_faults`]: Belady's OPT (MIN) page replacement for every
//!   frame count at once by Mattson's priority-stack processing, which needs each
//!   reference's next use, hence the whole sequence up front.
//! - [`lru_faults`]: LRU page faults for every frame count.
//!
//! What it does not: replacement policies that are not stack algorithms (FIFO,
//! tree-PLRU, NRU, random), invalidation of single entries (removing one key from a
//! stack breaks the inclusion property every one-pass method rests on; only a
//! full flush is exact), prefetching, and anything about timing.
//!
//! References are plain `u64` keys: this crate knows nothing of addresses. A key
//! must name exactly what a cache entry names (for a TLB: page number, page size and
//! address space), and two references hit the same entry iff their keys are equal.
#![warn(missing_docs)]
#![deny(clippy::print_stdout, clippy::print_stderr, clippy::dbg_macro)]

mod curve;
mod fenwick;
mod hash;
mod histogram;
mod lru;
mod opt;
mod set_assoc;

pub use curve::{Geometry, GeometryError, MAX_ENTRIES, Point, TlbCurve, tlb_key};
pub use histogram::StackHistogram;
pub use lru::{LruStack, lru_faults, lru_faults_after};
pub use opt::{NEVER, OptStack, next_uses, opt_faults, opt_faults_after};
pub use set_assoc::{SCAN_WAYS, SetAssocSweep};
