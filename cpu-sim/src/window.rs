//! Windows of a run: which part of the workload counts (as DynamoRIO's cache
//! simulator's skip / warm-up / simulated reference counts, and ChampSim's warm-up
//! and heartbeat), and interval statistics over the measured part.
//!
//! - `skip`: the first accesses are read and discarded: no state changes. A
//!   context switch among them still decides which process runs next: it is
//!   performed (and counted) before the first access that is not skipped.
//! - `warmup`: the next accesses run through the whole machine and change its
//!   state (TLBs, walk caches, page tables, DRAM rows, frames, swap), then every
//!   counter is reset: the report's `accesses` and `cycles` count only the work
//!   after it.
//! - `max`: the measured window ends after that many accesses; the run reports
//!   normally.
//! - `interval`: every that many measured accesses, one record of the counters'
//!   deltas over the interval (and one for the rest at the end).

use mmu_core::config::InvalidField;
use serde::{Deserialize, Serialize};

/// Which accesses of a run count. Every field is optional; the default measures
/// the whole run, as without a window.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Window {
    /// Accesses read and discarded before anything runs (default 0).
    #[serde(default)]
    pub skip: u64,
    /// Accesses run to warm the machine up, then forgotten by every counter (default 0).
    #[serde(default)]
    pub warmup: u64,
    /// Accesses measured at most; the run ends there (default: all).
    #[serde(default)]
    pub max: Option<u64>,
    /// Measured accesses per interval record (default: no records).
    #[serde(default)]
    pub interval: Option<u64>,
}

impl Window {
    /// Whether this is the default window (the whole run, no intervals).
    pub fn is_whole_run(&self) -> bool {
        *self == Window::default()
    }

    /// Checks the fields.
    ///
    /// # Errors
    /// A zero `max` or `interval`.
    pub fn validate(&self) -> Result<(), InvalidField> {
        if self.max == Some(0) {
            return Err(InvalidField::new(
                "max",
                "must be at least 1 (leave it out to measure the whole run)",
            ));
        }
        if self.interval == Some(0) {
            return Err(InvalidField::new("interval", "must be at least 1 access"));
        }
        Ok(())
    }
}

/// What a window did, for the report: present only when a window was asked for.
/// Its unit is the window's: accesses of a trace or generator, instructions
/// retired of an RV32 program.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize)]
pub struct WindowReport {
    /// Accesses (instructions) skipped (fewer than asked when the workload was shorter).
    pub skipped: u64,
    /// Accesses (instructions) run as warm-up (fewer than asked when the workload
    /// was shorter: then nothing was measured).
    pub warmup: u64,
    /// Accesses measured: the report's `accesses` (of a program: instructions
    /// measured, the report's `core.instructions`).
    pub measured: u64,
    /// Whether the run stopped at `max` rather than at the end of the workload.
    pub stopped_at_max: bool,
}

/// One interval: the deltas of the counters over `accesses` measured accesses.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct IntervalRecord {
    /// 0-based interval number.
    pub interval: u64,
    /// Each column's delta, in [`IntervalColumns`] order.
    pub values: Vec<u64>,
}

/// The names of the interval columns, as the report names them: `accesses`,
/// `cycles`, `tlb.<name>.lookups` and `tlb.<name>.misses` per TLB, `walks`,
/// `faults` (page faults of every kind), `os.swap_reads`, `os.swap_writes`,
/// `dram.row_hits`, `dram.row_misses`, `dram.row_conflicts`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct IntervalColumns(pub Vec<String>);
