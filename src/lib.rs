//! The edge of mmu-emu: opening config and trace files, running a simulation, and
//! rendering its report. The `mmu-sim` binary and the integration tests use this;
//! the model crates below never touch files or print.

use cpu_sim::{ConfigError, Machine, MachineConfig, Report, SimError, Workload, WorkloadConfig};
use std::fmt::Write as _;
use std::fs::File;
use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use thiserror::Error;

/// Why a run could not be done.
#[derive(Debug, Error)]
pub enum RunError {
    /// A file could not be read.
    #[error("{}: {source}", path.display())]
    Io {
        /// The file.
        path: PathBuf,
        /// The I/O error.
        source: std::io::Error,
    },
    /// The config is malformed or invalid.
    #[error(transparent)]
    Config(#[from] ConfigError),
    /// The simulation stopped with an error.
    #[error(transparent)]
    Sim(#[from] SimError),
}

impl RunError {
    /// The process exit code: 2 for bad input the user must fix before running,
    /// 1 for a simulation that started and stopped with an error.
    pub fn exit_code(&self) -> i32 {
        match self {
            RunError::Io { .. } | RunError::Config(_) => 2,
            RunError::Sim(_) => 1,
        }
    }
}

/// Reads, parses and validates the config at `path`.
///
/// # Errors
/// The file cannot be read, or the config is malformed or invalid.
pub fn load_config(path: &Path) -> Result<MachineConfig, RunError> {
    let text =
        std::fs::read_to_string(path).map_err(|source| RunError::Io { path: path.to_path_buf(), source })?;
    Ok(cpu_sim::parse_config(&text, &path.display().to_string())?)
}

/// The trace file a run reads: `--trace` if given, else the config's `Trace` path
/// resolved against the config file's directory; `None` for a synthetic workload.
pub fn trace_path(
    config: &MachineConfig,
    config_path: &Path,
    trace_override: Option<&Path>,
) -> Option<PathBuf> {
    if let Some(path) = trace_override {
        return Some(path.to_path_buf());
    }
    match &config.workload {
        WorkloadConfig::Trace { path } => {
            Some(config_path.parent().unwrap_or_else(|| Path::new(".")).join(path))
        }
        WorkloadConfig::Synthetic(_) | WorkloadConfig::Processes { .. } => None,
    }
}

/// Runs the config at `config_path`, reading `trace_override` instead of the
/// config's workload if given.
///
/// # Errors
/// Any config, I/O or simulation error.
pub fn run_file(config_path: &Path, trace_override: Option<&Path>) -> Result<Report, RunError> {
    let config = load_config(config_path)?;
    run_config(&config, config_path, trace_override)
}

/// Runs an already loaded config.
///
/// # Errors
/// Any I/O or simulation error.
pub fn run_config(
    config: &MachineConfig,
    config_path: &Path,
    trace_override: Option<&Path>,
) -> Result<Report, RunError> {
    run_config_with(config, config_path, trace_override, false)
}

/// Runs an already loaded config; with `check`, the data-integrity oracle compares
/// every load with a reference memory and a mismatch stops the run (`--check`).
///
/// # Errors
/// Any I/O or simulation error.
pub fn run_config_with(
    config: &MachineConfig,
    config_path: &Path,
    trace_override: Option<&Path>,
    check: bool,
) -> Result<Report, RunError> {
    let mut machine = Machine::new(config)?;
    if check {
        machine.enable_check();
    }
    match trace_path(config, config_path, trace_override) {
        Some(path) => {
            let origin = path.display().to_string();
            let open = || -> Result<Workload<Box<dyn BufRead>>, RunError> {
                let file = File::open(&path).map_err(|source| RunError::Io { path: path.clone(), source })?;
                let reader: Box<dyn BufRead> = Box::new(BufReader::with_capacity(1 << 16, file));
                Ok(Workload::trace(reader, origin.clone()))
            };
            if machine.needs_future() {
                // OPT reads the trace once ahead of the run (see os::replacement).
                machine.learn_future(open()?, &origin)?;
            }
            machine.run(open()?, &origin)?;
        }
        None => machine.run_synthetic()?,
    }
    Ok(machine.report())
}

fn percent(part: u64, whole: u64) -> String {
    if whole == 0 { "-".to_string() } else { format!("{:.2}%", part as f64 * 100.0 / whole as f64) }
}

fn per(total: u64, count: u64) -> String {
    if count == 0 { "-".to_string() } else { format!("{:.1}", total as f64 / count as f64) }
}

/// Bytes in binary units, one decimal: `4.0 GiB`.
fn size(bytes: u64) -> String {
    const UNITS: [&str; 5] = ["B", "KiB", "MiB", "GiB", "TiB"];
    let mut value = bytes as f64;
    let mut unit = 0;
    while value >= 1024.0 && unit + 1 < UNITS.len() {
        value /= 1024.0;
        unit += 1;
    }
    if unit == 0 { format!("{bytes} B") } else { format!("{value:.1} {}", UNITS[unit]) }
}

/// The report as a table for people.
pub fn render_table(report: &Report, origin: &str) -> String {
    let mut s = String::new();
    let r = report;
    let _ = writeln!(s, "mmu-sim run {origin} (seed {})", r.seed);
    let _ = writeln!(
        s,
        "  accesses {:>12}   cycles {:>14}   cycles/access {}",
        r.accesses,
        r.cycles,
        per(r.cycles, r.accesses)
    );
    if r.skipped_accesses > 0 || r.context_switches > 0 {
        let _ = writeln!(s, "  skipped {:>13}   context switches {}", r.skipped_accesses, r.context_switches);
    }
    let _ = writeln!(
        s,
        "\n  {:<10} {:>12} {:>12} {:>12} {:>9} {:>10} {:>13}",
        "TLB", "lookups", "hits", "misses", "hit rate", "evictions", "invalidations"
    );
    for (name, t) in &r.tlb.0 {
        let _ = writeln!(
            s,
            "  {:<10} {:>12} {:>12} {:>12} {:>9} {:>10} {:>13}",
            name,
            t.lookups,
            t.hits,
            t.misses,
            percent(t.hits, t.lookups),
            t.evictions,
            t.invalidations
        );
    }
    let _ = writeln!(
        s,
        "\n  walks {:>15}   PTE reads {} ({} per walk)   A/D writes {}   cycles/walk {}   faulting {}",
        r.walks,
        r.pte_reads,
        per(r.pte_reads, r.walks),
        r.pte_writes,
        per(r.walk_cycles, r.walks),
        r.faulting_walks
    );
    if r.walks > 0 {
        let _ = writeln!(s, "  walk latency (cycles)");
        let widest = r.walk_latency.buckets().map(|b| b.count).max().unwrap_or(1);
        for b in r.walk_latency.buckets() {
            let bar = "#".repeat(((b.count * 40).div_ceil(widest)) as usize);
            let _ = writeln!(
                s,
                "  {:>12}..{:<10} {:>10} {:>8}  {bar}",
                b.from,
                b.to,
                b.count,
                percent(b.count, r.walks)
            );
        }
    }
    let f = &r.faults;
    let _ = writeln!(
        s,
        "  faults      not present {}, protection {}, A/D {}, reserved {}, misaligned superpage {}, access {}, alignment {}",
        f.not_present,
        f.protection,
        f.accessed_dirty,
        f.reserved,
        f.misaligned_superpage,
        f.access_fault,
        f.alignment
    );
    let o = &r.os;
    let _ = writeln!(
        s,
        "  os          demand-zero {}, swap-in {}, shared maps {}, A/D updates {}, segfaults {}, exits {}",
        o.demand_zero, o.swap_ins, o.shared_maps, o.accessed_dirty_updates, o.segfaults, o.exits
    );
    if o.evictions > 0 || o.swap_slots > 0 {
        let _ = writeln!(
            s,
            "  paging      evictions {} ({} dirty written back, {} clean dropped), shootdowns {}, A-bit clears {}",
            o.evictions, o.dirty_writebacks, o.clean_evictions, o.shootdowns, o.accessed_clears
        );
        let _ = writeln!(
            s,
            "  swap        reads {}, writes {}, slots {} used of {} (peak {})",
            o.swap_reads, o.swap_writes, o.swap_slots_used, o.swap_slots, o.swap_slots_peak
        );
    }
    let _ = writeln!(
        s,
        "  memory      {} frames ({} for data): {} page-table, {} data, {} free (largest free data run {})",
        o.frames_total,
        o.data_frames_total,
        o.page_table_frames,
        o.data_frames,
        o.frames_free,
        o.largest_free_run,
    );
    let _ = writeln!(
        s,
        "  page tables {} bytes ({}) in DRAM, {} bytes ({}) of them touched",
        r.page_table_bytes,
        size(r.page_table_bytes),
        r.page_table_touched_bytes,
        size(r.page_table_touched_bytes)
    );
    let d = &r.dram;
    let _ = writeln!(
        s,
        "  dram        reads {} (page table {}, data {}), writes {} (page table {}, data {}), avg latency {}",
        d.reads,
        d.page_table_reads,
        d.data_reads,
        d.writes,
        d.page_table_writes,
        d.data_writes,
        per(d.total_latency_cycles, d.reads + d.writes)
    );
    let banked = matches!(r.config.dram.timing, mmu_core::DramTiming::Banked { .. });
    let _ = writeln!(
        s,
        "\n  {:<10} {:>12} {:>12} {:>12} {:>12} {:>12}",
        "DRAM", "requests", "row hits", "row misses", "conflicts", "avg latency"
    );
    for (name, t) in [("page table", &d.page_table), ("data", &d.data)] {
        let rows = |n: u64| if banked { n.to_string() } else { "-".to_string() };
        let _ = writeln!(
            s,
            "  {:<10} {:>12} {:>12} {:>12} {:>12} {:>12}",
            name,
            t.requests,
            rows(t.row_hits),
            rows(t.row_misses),
            rows(t.row_conflicts),
            per(t.latency_cycles, t.requests)
        );
    }
    if r.processes.len() > 1 || o.evictions > 0 {
        let _ = writeln!(
            s,
            "\n  {:<12} {:<8} {:>10} {:>11} {:>8} {:>8} {:>8} {:>9} {:>9}",
            "process",
            "state",
            "accesses",
            "demand-zero",
            "swap-in",
            "evicted",
            "resident",
            "virt runs",
            "phys runs"
        );
        for p in &r.processes {
            let _ = writeln!(
                s,
                "  {:<12} {:<8} {:>10} {:>11} {:>8} {:>8} {:>8} {:>9} {:>9}",
                p.name,
                p.state,
                p.accesses,
                p.demand_zero,
                p.swap_ins,
                p.evicted,
                p.resident_pages,
                p.virtual_runs,
                p.physical_runs
            );
        }
    }
    if let Some(c) = &r.check {
        let _ = writeln!(
            s,
            "  check       all {} loads matched the reference memory ({} stores, {} words tracked)",
            c.loads_checked, c.stores_recorded, c.words_tracked
        );
    }
    for seg in &r.segfaults {
        let _ = writeln!(
            s,
            "  segfault    process {} ({}) {:?} at {}: {:?}, {}",
            seg.pid, seg.process, seg.access, seg.vaddr, seg.fault, seg.reason
        );
    }
    s
}
