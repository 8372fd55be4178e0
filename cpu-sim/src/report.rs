//! The report of a run: the effective config, then every counter, in a fixed order
//! so that the same run always serializes to the same bytes.

use crate::config::MachineConfig;
use crate::mmu::MmuStats;
use crate::os::{OsStats, ProcessStats, Segfault};
use crate::workload::TraceStats;
use mmu_core::{DramStats, FaultKind, LatencyHistogram};
use serde::Serialize;
use serde::ser::{SerializeMap, Serializer};
use tlb::{InvalidationStats, TlbStats};

/// Page faults and CPU faults by kind.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize)]
pub struct FaultCounts {
    /// No valid PTE (demand-zero allocations and segfaults on unmapped addresses).
    pub not_present: u64,
    /// Rights violated.
    pub protection: u64,
    /// Reserved PTE encodings.
    pub reserved: u64,
    /// Misaligned superpages.
    pub misaligned_superpage: u64,
    /// A/D bits to be set by software.
    pub accessed_dirty: u64,
    /// PTE reads outside physical memory.
    pub access_fault: u64,
    /// Accesses whose address is not word aligned (raised by the CPU; the access is skipped).
    pub alignment: u64,
}

impl FaultCounts {
    /// Counts one page fault.
    pub fn count(&mut self, kind: FaultKind) {
        let counter = match kind {
            FaultKind::NotPresent => &mut self.not_present,
            FaultKind::Protection => &mut self.protection,
            FaultKind::Reserved => &mut self.reserved,
            FaultKind::MisalignedSuperpage => &mut self.misaligned_superpage,
            FaultKind::AccessedDirty => &mut self.accessed_dirty,
            FaultKind::AccessFault => &mut self.access_fault,
        };
        *counter += 1;
    }
}

/// Per-TLB (or per walk-cache level) counters keyed by the config's names,
/// serialized as a map in config order.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct TlbReport(pub Vec<(String, TlbStats)>);

impl Serialize for TlbReport {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let mut map = s.serialize_map(Some(self.0.len()))?;
        for (name, stats) in &self.0 {
            map.serialize_entry(name, stats)?;
        }
        map.end()
    }
}

/// Ratios derived from the counters when the report is built, rounded to two
/// decimals so snapshots stay stable; `None` when there is nothing to divide by.
#[derive(Clone, Debug, Default, PartialEq, Serialize)]
pub struct Averages {
    /// PTEs read per walk.
    pub pte_reads_per_walk: Option<f64>,
    /// Cycles per walk.
    pub walk_cycles: Option<f64>,
    /// Cycles per DRAM request, all traffic.
    pub dram_latency: Option<f64>,
    /// Cycles per DRAM request of the page walker.
    pub dram_page_table_latency: Option<f64>,
    /// Cycles per DRAM request for data.
    pub dram_data_latency: Option<f64>,
}

fn rounded(x: Option<f64>) -> Option<f64> {
    x.map(|v| (v * 100.0).round() / 100.0)
}

/// Everything a run measured.
#[derive(Clone, Debug, Serialize)]
pub struct Report {
    /// The seed of the run.
    pub seed: u64,
    /// The effective config, defaults filled in.
    pub config: MachineConfig,
    /// Accesses taken from the workload (including skipped and faulting ones).
    pub accesses: u64,
    /// Accesses skipped because their process was stopped.
    pub skipped_accesses: u64,
    /// Context switches performed.
    pub context_switches: u64,
    /// Simulated cycles at the end of the run.
    pub cycles: u64,
    /// Per-TLB counters, by name.
    pub tlb: TlbReport,
    /// Per-level page-walk-cache counters, by name (`back_invalidations` is always 0).
    pub walk_cache: TlbReport,
    /// TLB invalidation operations by kind, and context-switch flushes.
    pub tlb_invalidations: InvalidationStats,
    /// Hardware page walks.
    pub walks: u64,
    /// PTEs read by walks.
    pub pte_reads: u64,
    /// PTEs written by walks (A/D updates).
    pub pte_writes: u64,
    /// Cycles spent walking.
    pub walk_cycles: u64,
    /// Walks that ended in a page fault.
    pub faulting_walks: u64,
    /// Walk latencies: the non-empty quarter-octave buckets, `{ from, to, count }`.
    pub walk_latency: LatencyHistogram,
    /// Faults by kind.
    pub faults: FaultCounts,
    /// OS counters.
    pub os: OsStats,
    /// DRAM counters.
    pub dram: DramStats,
    /// Bytes of DRAM holding page tables at the end of the run (for `flat`, the
    /// whole tables reserved at boot).
    pub page_table_bytes: u64,
    /// Bytes of page-table memory ever written, in 4 KiB chunks: what the tables
    /// cost when only the parts used are materialized.
    pub page_table_touched_bytes: u64,
    /// Averages derived from the counters.
    pub averages: Averages,
    /// FNV-1a hash of every value loaded, in order: equal runs read equal data.
    pub data_checksum: u64,
    /// Processes stopped by segmentation faults.
    pub segfaults: Vec<Segfault>,
    /// Per-process counters, and the layout of each live process's memory at the
    /// end of the run (how its contiguous virtual pages sit in frames).
    pub processes: Vec<ProcessStats>,
    /// What the `--check` oracle verified (`None` when it was off).
    pub check: Option<CheckStats>,
    /// What the trace reader saw (format, lines, bad lines skipped); absent for
    /// synthetic workloads. Filled in by whoever opened the trace.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub trace: Option<TraceStats>,
    /// Host time and throughput of the run: only with `--timing`, since it differs
    /// from run to run and every other field does not.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub timing: Option<HostTiming>,
}

/// What the data-integrity oracle verified: every load it checked returned the
/// last value stored at that address (else the run stops with `CheckFailed`).
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize)]
pub struct CheckStats {
    /// Loads compared with the reference memory.
    pub loads_checked: u64,
    /// Stores recorded in the reference memory.
    pub stores_recorded: u64,
    /// Distinct words the reference memory holds.
    pub words_tracked: u64,
}

/// How fast the host simulated, measured by the binary around the run loop.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct HostTiming {
    /// Wall-clock seconds of the run loop (reading the workload and simulating).
    pub seconds: f64,
    /// Accesses simulated per wall-clock second.
    pub accesses_per_second: f64,
}

impl Report {
    /// Fills the walker's fields from the MMU, then the averages, which also read
    /// `self.dram`: call it once every other field is set.
    pub(crate) fn mmu_fields(&mut self, mmu: &MmuStats) {
        let w = &mmu.walker;
        self.walks = w.walks;
        self.pte_reads = w.pte_reads;
        self.pte_writes = w.pte_writes;
        self.walk_cycles = w.walk_cycles;
        self.faulting_walks = w.faulting_walks;
        self.walk_latency = w.latency.clone();
        self.averages = Averages {
            pte_reads_per_walk: rounded(w.pte_reads_per_walk()),
            walk_cycles: rounded(w.average_cycles()),
            dram_latency: rounded(self.dram.average_latency()),
            dram_page_table_latency: rounded(self.dram.page_table.average_latency()),
            dram_data_latency: rounded(self.dram.data.average_latency()),
        };
    }
}
