//! The report of a run: the effective config, then every counter, in a fixed order
//! so that the same run always serializes to the same bytes.

use crate::config::MachineConfig;
pub use crate::memory::{CheckStats, FaultCounts};
use crate::window::WindowReport;
use mmu_core::{DramStats, WalkStats};
use os_model::{OsStats, ProcessStats, Segfault};
use serde::Serialize;
use serde::ser::{SerializeMap, SerializeStruct, Serializer};
use tlb::{InvalidationStats, TlbStats};
use workload::TraceStats;

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

/// Where a run's cycles went: every cycle of the report's `cycles` counted under
/// exactly one cause, so the causes add up to `cycles` (over the measured part
/// after a warm-up, as `cycles`). Serialized as a flat map in this order.
///
/// The cores are in-order and blocking (the trace player and the RV32 hart add
/// every latency to their clock; DRAM never answers before it is asked), so no
/// two causes overlap: a request that waits for a busy DRAM bank counts the wait
/// under its own cause (a PTE read under `page_walks`, a data word under
/// `dram_data`), whoever made the bank busy.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize)]
pub struct CyclesByCause {
    /// The core's own cycles: `cpu.cycles_per_access` per access it executed (an
    /// unaligned one included, a skipped one not), or per RV32 step (an
    /// instruction, or a trap or interrupt taken).
    pub cpu: u64,
    /// TLB lookups: from the start of each translation to its TLB answer or the
    /// start of its walk (L1 latency, L2 latency after an L1 miss or for a store's
    /// D-bit re-lookup, and again for the retry after a page fault).
    pub tlb_lookups: u64,
    /// Page walks: the walk caches' probe, the PTE reads and the A/D writes in
    /// DRAM (the walker's `walk_cycles`).
    pub page_walks: u64,
    /// The data word's access: DRAM (the `dram.data.latency_cycles`), and on the
    /// bare-metal board a device register's access.
    pub dram_data: u64,
    /// The OS's fault handling besides swap I/O: trap entry and exit, demand-zero,
    /// swap-in and eviction work, software A/D updates.
    pub fault_handling: u64,
    /// The swap device's latencies: `read_latency` per page read, `write_latency`
    /// per page written.
    pub swap_io: u64,
    /// `os.context_switch_cycles` per context switch.
    pub context_switches: u64,
    /// Bare metal only: cycles the core slept in `wfi` until the timer's deadline
    /// (the clock jumps; nothing else above accounts for them).
    pub idle: u64,
}

impl CyclesByCause {
    /// Each cause's name (as serialized) and cycles, in order.
    pub fn causes(&self) -> [(&'static str, u64); 8] {
        [
            ("cpu", self.cpu),
            ("tlb_lookups", self.tlb_lookups),
            ("page_walks", self.page_walks),
            ("dram_data", self.dram_data),
            ("fault_handling", self.fault_handling),
            ("swap_io", self.swap_io),
            ("context_switches", self.context_switches),
            ("idle", self.idle),
        ]
    }

    /// The sum of the causes (saturating, as the clock does).
    pub fn total(&self) -> u64 {
        self.causes().iter().fold(0u64, |sum, (_, c)| sum.saturating_add(*c))
    }

    /// The causes the MMU accounts for: TLB lookups and page walks.
    pub fn of_mmu(mmu: &crate::memory::mmu::Mmu) -> Self {
        Self {
            tlb_lookups: mmu.lookup_cycles(),
            page_walks: mmu.stats().walker.walk_cycles,
            ..Self::default()
        }
    }

    /// The causes a memory system accounts for: TLB lookups, page walks, data
    /// accesses, fault handling and swap I/O (the cores add `cpu`, the machine
    /// `context_switches`). Swap I/O is the OS's page reads and writes times the
    /// device's latencies (`swap`), which is what each fault's cost added for them.
    pub fn of_memory(memory: &crate::memory::MemorySystem, swap: Option<&os_model::SwapConfig>) -> Self {
        let os = memory.os().stats();
        let swap_io = swap.map_or(0, |d| {
            os.swap_reads
                .saturating_mul(d.read_latency.as_u64())
                .saturating_add(os.swap_writes.saturating_mul(d.write_latency.as_u64()))
        });
        Self {
            dram_data: memory.dram().stats().data.latency_cycles,
            fault_handling: memory.fault_cycles().saturating_sub(swap_io),
            swap_io,
            ..Self::of_mmu(memory.mmu())
        }
    }
}

/// The run's own counters: what the core and the machine around it did.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct RunCounts {
    /// Accesses taken from the workload (including skipped and faulting ones).
    pub accesses: u64,
    /// Accesses skipped because their process was stopped.
    pub skipped_accesses: u64,
    /// Context switches performed.
    pub context_switches: u64,
    /// Simulated cycles at the end of the run.
    pub cycles: u64,
    /// `cycles` by cause.
    pub cycles_by_cause: CyclesByCause,
}

/// What the translation hardware reports.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct MmuReport {
    /// Per-TLB counters, by name.
    pub tlb: TlbReport,
    /// Per-level page-walk-cache counters, by name.
    pub walk_cache: TlbReport,
    /// TLB invalidation operations by kind, and context-switch flushes.
    pub tlb_invalidations: InvalidationStats,
    /// Hardware page walks.
    pub walker: WalkStats,
}

impl MmuReport {
    /// The counters of `mmu`'s TLBs, walk caches, invalidations and walker.
    pub fn of(mmu: &crate::memory::mmu::Mmu) -> Self {
        Self {
            tlb: TlbReport(mmu.tlb_stats()),
            walk_cache: TlbReport(mmu.walk_cache_stats()),
            tlb_invalidations: mmu.invalidation_stats(),
            walker: mmu.stats().walker.clone(),
        }
    }
}

/// What the OS model reports.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct OsReport {
    /// OS counters.
    pub stats: OsStats,
    /// Bytes of DRAM holding page tables.
    pub page_table_bytes: u64,
    /// Bytes of page-table memory holding a non-zero word at the end of the run,
    /// in 4 KiB chunks, counting only the tables of processes that have not
    /// exited (see the README's report section).
    pub page_table_touched_bytes: u64,
    /// Processes stopped by segmentation faults.
    pub segfaults: Vec<Segfault>,
    /// Per-process counters and memory layout.
    pub processes: Vec<ProcessStats>,
}

impl OsReport {
    /// What `memory`'s OS model reports: its counters, page-table footprint,
    /// segfaults and per-process counters.
    pub fn of(memory: &crate::memory::MemorySystem) -> Self {
        let (os, dram) = (memory.os(), memory.dram());
        Self {
            stats: os.stats(),
            page_table_bytes: os.page_table_bytes(),
            page_table_touched_bytes: os.page_table_touched_bytes(dram),
            segfaults: memory.segfaults().to_vec(),
            processes: os.process_stats(dram),
        }
    }
}

/// Everything a run measured. Each component's counters keep their own type
/// (`TlbStats`, `WalkStats`, `OsStats`, `DramStats`), so a new counter is added
/// in its component; the serialized form keeps the walker's counters at the top
/// level (`walks`, `pte_reads`, ...), as it always has.
#[derive(Clone, Debug)]
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
    /// `cycles` split by cause; the causes add up to `cycles`.
    pub cycles_by_cause: CyclesByCause,
    /// Per-TLB counters, by name.
    pub tlb: TlbReport,
    /// Per-level page-walk-cache counters, by name (`back_invalidations` is always 0).
    pub walk_cache: TlbReport,
    /// TLB invalidation operations by kind, and context-switch flushes.
    pub tlb_invalidations: InvalidationStats,
    /// Hardware page walks: counts, PTE reads and A/D writes, cycles and their
    /// histogram (serialized as `walks`, `pte_reads`, `pte_writes`, `walk_cycles`,
    /// `faulting_walks`, `walk_latency`).
    pub walker: WalkStats,
    /// Faults by kind.
    pub faults: FaultCounts,
    /// OS counters.
    pub os: OsStats,
    /// DRAM counters.
    pub dram: DramStats,
    /// Bytes of DRAM holding page tables at the end of the run (for `flat`, the
    /// whole tables reserved at boot).
    pub page_table_bytes: u64,
    /// Bytes of page-table memory holding a non-zero word at the end of the run,
    /// in 4 KiB chunks, live processes' tables only: what the tables cost when
    /// only the parts used are materialized.
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
    pub trace: Option<TraceStats>,
    /// Host time and throughput of the run: only with `--timing`, since it differs
    /// from run to run and every other field does not.
    pub timing: Option<HostTiming>,
    /// What the run's window did (skip, warm-up, measured, stopped at `max`):
    /// only when the config or the command line asked for a window.
    pub window: Option<WindowReport>,
    /// What the RV32 core did: only for ELF runs (absent otherwise, so trace and
    /// synthetic reports keep their form).
    pub core: Option<CoreReport>,
}

/// The RV32 core's section of a report: instructions retired, CPI, and the
/// counts by instruction class and traps by cause.
#[derive(Clone, Debug, Serialize)]
pub struct CoreReport {
    /// Bare metal or user process.
    pub environment: rv32::Environment,
    /// Instructions retired.
    pub instructions: u64,
    /// Cycles per instruction retired (two decimals); `None` before the first.
    pub cpi: Option<f64>,
    /// Instructions by class, traps by cause.
    pub counts: rv32::CoreStats,
}

impl CoreReport {
    /// The section for a core with `stats` whose clock reads `cycles`.
    pub fn new(environment: rv32::Environment, stats: &rv32::CoreStats, cycles: u64) -> Self {
        let cpi = (stats.instructions > 0).then(|| cycles as f64 / stats.instructions as f64);
        Self { environment, instructions: stats.instructions, cpi: rounded(cpi), counts: stats.clone() }
    }
}

impl Report {
    /// The report of a run from each component's section; the derived averages
    /// are computed here, the one place that divides.
    #[allow(clippy::too_many_arguments)]
    pub fn assemble(
        config: MachineConfig,
        run: RunCounts,
        mmu: MmuReport,
        faults: FaultCounts,
        os: OsReport,
        dram: DramStats,
        data_checksum: u64,
        check: Option<CheckStats>,
    ) -> Self {
        let averages = Averages {
            pte_reads_per_walk: rounded(mmu.walker.pte_reads_per_walk()),
            walk_cycles: rounded(mmu.walker.average_cycles()),
            dram_latency: rounded(dram.average_latency()),
            dram_page_table_latency: rounded(dram.page_table.average_latency()),
            dram_data_latency: rounded(dram.data.average_latency()),
        };
        Self {
            seed: config.seed,
            config,
            accesses: run.accesses,
            skipped_accesses: run.skipped_accesses,
            context_switches: run.context_switches,
            cycles: run.cycles,
            cycles_by_cause: run.cycles_by_cause,
            tlb: mmu.tlb,
            walk_cache: mmu.walk_cache,
            tlb_invalidations: mmu.tlb_invalidations,
            walker: mmu.walker,
            faults,
            os: os.stats,
            dram,
            page_table_bytes: os.page_table_bytes,
            page_table_touched_bytes: os.page_table_touched_bytes,
            averages,
            data_checksum,
            segfaults: os.segfaults,
            processes: os.processes,
            check,
            trace: None,
            timing: None,
            window: None,
            core: None,
        }
    }

    /// The report with its window section.
    #[must_use]
    pub fn with_window(mut self, window: Option<WindowReport>) -> Self {
        self.window = window;
        self
    }
}

impl Serialize for Report {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let optional = usize::from(self.trace.is_some())
            + usize::from(self.timing.is_some())
            + usize::from(self.window.is_some())
            + usize::from(self.core.is_some());
        let mut r = s.serialize_struct("Report", 18 + WalkStats::FIELDS + optional)?;
        r.serialize_field("seed", &self.seed)?;
        r.serialize_field("config", &self.config)?;
        r.serialize_field("accesses", &self.accesses)?;
        r.serialize_field("skipped_accesses", &self.skipped_accesses)?;
        r.serialize_field("context_switches", &self.context_switches)?;
        r.serialize_field("cycles", &self.cycles)?;
        r.serialize_field("cycles_by_cause", &self.cycles_by_cause)?;
        r.serialize_field("tlb", &self.tlb)?;
        r.serialize_field("walk_cache", &self.walk_cache)?;
        r.serialize_field("tlb_invalidations", &self.tlb_invalidations)?;
        self.walker.serialize_fields(&mut r)?;
        r.serialize_field("faults", &self.faults)?;
        r.serialize_field("os", &self.os)?;
        r.serialize_field("dram", &self.dram)?;
        r.serialize_field("page_table_bytes", &self.page_table_bytes)?;
        r.serialize_field("page_table_touched_bytes", &self.page_table_touched_bytes)?;
        r.serialize_field("averages", &self.averages)?;
        r.serialize_field("data_checksum", &self.data_checksum)?;
        r.serialize_field("segfaults", &self.segfaults)?;
        r.serialize_field("processes", &self.processes)?;
        r.serialize_field("check", &self.check)?;
        // Absent rather than `None` when empty, but written as the `Option` when
        // present (`Some(..)` in RON), as the derived form always did.
        if self.trace.is_some() {
            r.serialize_field("trace", &self.trace)?;
        }
        if self.timing.is_some() {
            r.serialize_field("timing", &self.timing)?;
        }
        if self.window.is_some() {
            r.serialize_field("window", &self.window)?;
        }
        if self.core.is_some() {
            r.serialize_field("core", &self.core)?;
        }
        r.end()
    }
}

/// How fast the host simulated, measured by the binary around the run loop.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct HostTiming {
    /// Wall-clock seconds of the run loop (reading the workload and simulating).
    pub seconds: f64,
    /// Accesses simulated per wall-clock second.
    pub accesses_per_second: f64,
    /// Instructions retired per wall-clock second: ELF runs only.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub instructions_per_second: Option<f64>,
}
