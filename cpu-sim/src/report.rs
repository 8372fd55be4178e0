//! The report of a run: the effective config, then every counter, in a fixed order
//! so that the same run always serializes to the same bytes.

use crate::config::MachineConfig;
use crate::mmu::MmuStats;
use crate::os::{OsStats, Segfault};
use mmu_core::{DramStats, FaultKind};
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
    /// Faults by kind.
    pub faults: FaultCounts,
    /// OS counters.
    pub os: OsStats,
    /// DRAM counters.
    pub dram: DramStats,
    /// Bytes of DRAM holding page tables at the end of the run.
    pub page_table_bytes: u64,
    /// FNV-1a hash of every value loaded, in order: equal runs read equal data.
    pub data_checksum: u64,
    /// Processes stopped by segmentation faults.
    pub segfaults: Vec<Segfault>,
}

impl Report {
    /// Builds the report from the machine's parts.
    pub(crate) fn mmu_fields(&mut self, mmu: &MmuStats) {
        self.walks = mmu.walks;
        self.pte_reads = mmu.pte_reads;
        self.pte_writes = mmu.pte_writes;
        self.walk_cycles = mmu.walk_cycles;
    }
}
