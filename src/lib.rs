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
        WorkloadConfig::Synthetic(_) => None,
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
    let mut machine = Machine::new(config)?;
    match trace_path(config, config_path, trace_override) {
        Some(path) => {
            let file = File::open(&path).map_err(|source| RunError::Io { path: path.clone(), source })?;
            let origin = path.display().to_string();
            let reader: Box<dyn BufRead> = Box::new(BufReader::with_capacity(1 << 16, file));
            machine.run(Workload::trace(reader, origin.clone()), &origin)?;
        }
        None => {
            let workload: Workload<std::io::Empty> =
                Workload::synthetic(&config.workload, config.seed).expect("a synthetic workload config");
            machine.run(workload, "workload")?;
        }
    }
    Ok(machine.report())
}

fn percent(part: u64, whole: u64) -> String {
    if whole == 0 { "-".to_string() } else { format!("{:.2}%", part as f64 * 100.0 / whole as f64) }
}

fn per(total: u64, count: u64) -> String {
    if count == 0 { "-".to_string() } else { format!("{:.1}", total as f64 / count as f64) }
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
    for (name, w) in &r.walk_cache.0 {
        let _ = writeln!(
            s,
            "  {:<10} {:>12} {:>12} {:>12} {:>9} {:>10} {:>13}",
            format!("pwc {name}"),
            w.lookups,
            w.hits,
            w.misses,
            percent(w.hits, w.lookups),
            w.evictions,
            w.invalidations
        );
    }
    let back: u64 = r.tlb.0.iter().map(|(_, t)| t.back_invalidations).sum();
    let inv = &r.tlb_invalidations;
    if back > 0 || inv.all + inv.by_asid + inv.by_va + inv.by_va_asid + inv.context_switch_flushes > 0 {
        let _ = writeln!(
            s,
            "  invalidations: all {}, by ASID {}, by VA {}, by VA+ASID {}, switch flushes {}; inclusion back-invalidations {}",
            inv.all, inv.by_asid, inv.by_va, inv.by_va_asid, inv.context_switch_flushes, back
        );
    }
    let _ = writeln!(
        s,
        "\n  walks {:>15}   PTE reads {} ({} per walk)   A/D writes {}   cycles/walk {}",
        r.walks,
        r.pte_reads,
        per(r.pte_reads, r.walks),
        r.pte_writes,
        per(r.walk_cycles, r.walks)
    );
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
        "  os          demand-zero {}, A/D updates {}, segfaults {}",
        o.demand_zero, o.accessed_dirty_updates, o.segfaults
    );
    let _ = writeln!(
        s,
        "  memory      {} frames: {} page-table, {} data, {} free (largest free run {}); page tables {} bytes",
        o.frames_total,
        o.page_table_frames,
        o.data_frames,
        o.frames_free,
        o.largest_free_run,
        r.page_table_bytes
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
    for seg in &r.segfaults {
        let _ = writeln!(
            s,
            "  segfault    process {} ({}) {:?} at {}: {:?}, {}",
            seg.pid, seg.process, seg.access, seg.vaddr, seg.fault, seg.reason
        );
    }
    s
}
