//! The memory system's columns of an interval record (see [`crate::window`]):
//! what every run's intervals share, whatever counts them (accesses of a trace,
//! instructions of a program).

use crate::memory::FaultCounts;
use crate::memory::mmu::Mmu;
use mmu_core::DramStats;
use os_model::OsStats;

/// The memory system's interval column names, after `accesses` and `cycles`:
/// `tlb.<name>.lookups` and `tlb.<name>.misses` per TLB, `walks`, `faults`,
/// `os.swap_reads`, `os.swap_writes`, `dram.row_hits`, `dram.row_misses`,
/// `dram.row_conflicts`.
pub(crate) fn memory_columns(mmu: &Mmu, names: &mut Vec<String>) {
    for (name, _) in mmu.tlb_stats() {
        names.push(format!("tlb.{name}.lookups"));
        names.push(format!("tlb.{name}.misses"));
    }
    for name in [
        "walks",
        "faults",
        "os.swap_reads",
        "os.swap_writes",
        "dram.row_hits",
        "dram.row_misses",
        "dram.row_conflicts",
    ] {
        names.push(name.to_string());
    }
}

/// The values of [`memory_columns`] now (totals since the counters were reset);
/// `os` is `None` on a machine without the OS model (its swap columns are 0).
pub(crate) fn memory_values(
    mmu: &Mmu,
    faults: &FaultCounts,
    os: Option<&OsStats>,
    dram: &DramStats,
    values: &mut Vec<u64>,
) {
    for (_, t) in mmu.tlb_stats() {
        values.push(t.lookups);
        values.push(t.misses);
    }
    let f = faults;
    values.extend([
        mmu.stats().walker.walks,
        f.not_present
            + f.protection
            + f.reserved
            + f.misaligned_superpage
            + f.accessed_dirty
            + f.access_fault,
        os.map_or(0, |o| o.swap_reads),
        os.map_or(0, |o| o.swap_writes),
        dram.row_hits,
        dram.row_misses,
        dram.row_conflicts,
    ]);
}
