//! The edge of mmu-emu: opening config and trace files (decompressing `.gz` and
//! `.zst`), running a simulation with a progress bar and a host timer, and
//! rendering its report. The `mmu-sim` binary and the integration tests use this;
//! the model crates below never touch files, clocks or terminals.

use cpu_sim::workload::GeneratorConfig;
use cpu_sim::{
    ConfigError, HostTiming, Machine, MachineConfig, Report, SimError, TraceEvent, TraceFormat, TraceReader,
    Workload, WorkloadConfig, WorkloadError,
};
use indicatif::{ProgressBar, ProgressStyle};
use std::cell::Cell;
use std::fmt::Write as _;
use std::fs::File;
use std::io::{BufReader, Read};
use std::path::{Path, PathBuf};
use std::rc::Rc;
use std::time::{Duration, Instant};
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
    /// A combination of options that cannot work.
    #[error("{0}")]
    Unsupported(String),
}

impl RunError {
    /// The process exit code: 2 for bad input the user must fix before running,
    /// 1 for a simulation that started and stopped with an error.
    pub fn exit_code(&self) -> i32 {
        match self {
            RunError::Io { .. } | RunError::Config(_) | RunError::Unsupported(_) => 2,
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
        WorkloadConfig::Trace { path, .. } => {
            Some(config_path.parent().unwrap_or_else(|| Path::new(".")).join(path))
        }
        WorkloadConfig::Synthetic(_) | WorkloadConfig::Processes { .. } => None,
    }
}

/// How to run a config, beyond the config itself.
#[derive(Clone, Debug, Default)]
pub struct RunOptions {
    /// Read this trace instead of the config's workload; `-` is standard input.
    pub trace: Option<PathBuf>,
    /// The trace's format. Without it: the config's `format` for the config's
    /// own trace, detection for a `--trace` override.
    pub trace_format: Option<TraceFormat>,
    /// Count and skip trace lines that do not parse instead of stopping.
    pub skip_bad_lines: bool,
    /// Draw a progress bar on standard error (the binary turns it on only when
    /// standard error is a terminal).
    pub progress: bool,
    /// Check every load against a reference memory (`--check`); a mismatch stops
    /// the run with `CheckFailed`.
    pub check: bool,
}

/// A finished run: its report, the host time it took, and the first trace line
/// skipped as bad, if any.
#[derive(Debug)]
pub struct RunOutcome {
    /// The report; its `timing` is left empty for the caller to fill in on request.
    pub report: Report,
    /// Wall-clock time and throughput of the run loop.
    pub timing: HostTiming,
    /// The first bad line skipped, as `path:line: message`.
    pub first_bad_line: Option<String>,
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
    let options = RunOptions { trace: trace_override.map(Path::to_path_buf), check, ..RunOptions::default() };
    Ok(run_with(config, config_path, &options)?.report)
}

/// The path that means standard input.
const STDIN: &str = "-";

/// Opens a trace for reading, decompressing by extension: `.gz` (gzip, several
/// members allowed, as `cat a.gz b.gz` makes) and `.zst`/`.zstd` (zstd). `-` is
/// standard input, read as is. Every byte taken from the file is added to
/// `bytes_read`, for the progress bar.
///
/// # Errors
/// The file cannot be opened, or a zstd stream cannot be set up.
pub fn open_trace(path: &Path, bytes_read: Rc<Cell<u64>>) -> Result<Box<dyn Read>, RunError> {
    let io_error = |source| RunError::Io { path: path.to_path_buf(), source };
    if path.as_os_str() == STDIN {
        return Ok(Box::new(Counting { inner: std::io::stdin().lock(), bytes: bytes_read }));
    }
    let file = Counting { inner: File::open(path).map_err(io_error)?, bytes: bytes_read };
    let extension = path.extension().and_then(|e| e.to_str()).unwrap_or("");
    Ok(match extension {
        "gz" => Box::new(flate2::read::MultiGzDecoder::new(BufReader::with_capacity(1 << 16, file))),
        "zst" | "zstd" => Box::new(zstd::Decoder::new(file).map_err(io_error)?),
        _ => Box::new(file),
    })
}

/// A reader that counts the bytes it hands out.
struct Counting<R> {
    inner: R,
    bytes: Rc<Cell<u64>>,
}

impl<R: Read> Read for Counting<R> {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        let n = self.inner.read(buf)?;
        self.bytes.set(self.bytes.get() + n as u64);
        Ok(n)
    }
}

/// Events between two progress-bar updates: rare enough to cost nothing per
/// access, frequent enough (tens per second) to look live.
const PROGRESS_EVERY: u64 = 1 << 16;

/// The progress bar of a run, or nothing when it is off.
struct Progress {
    bar: Option<ProgressBar>,
    /// Bytes read from the trace file, when the bar measures bytes.
    bytes: Option<Rc<Cell<u64>>>,
    start: Instant,
}

impl Progress {
    /// A bar of `length` units (bytes of the trace file, or accesses of a
    /// generator), or a spinner when the length is unknown.
    fn new(enabled: bool, length: Option<u64>, bytes: Option<Rc<Cell<u64>>>) -> Self {
        let bar = enabled.then(|| {
            let template = if bytes.is_some() {
                "{elapsed_precise} [{wide_bar}] {bytes}/{total_bytes} read, {msg}"
            } else {
                "{elapsed_precise} [{wide_bar}] {percent:>3}%, {msg}"
            };
            let bar = match length {
                Some(len) => ProgressBar::new(len).with_style(
                    ProgressStyle::with_template(template).unwrap_or_else(|_| ProgressStyle::default_bar()),
                ),
                None => ProgressBar::new_spinner().with_style(
                    ProgressStyle::with_template("{spinner} {elapsed_precise} {msg}")
                        .unwrap_or_else(|_| ProgressStyle::default_spinner()),
                ),
            };
            bar.enable_steady_tick(Duration::from_millis(200));
            bar
        });
        Self { bar, bytes, start: Instant::now() }
    }

    #[cold]
    fn update(&self, accesses: u64) {
        let Some(bar) = &self.bar else { return };
        bar.set_position(self.bytes.as_ref().map_or(accesses, |b| b.get()));
        let rate = accesses as f64 / self.start.elapsed().as_secs_f64().max(1e-9);
        bar.set_message(format!("{accesses} accesses, {:.1} M/s", rate / 1e6));
    }

    fn finish(&self) {
        if let Some(bar) = &self.bar {
            bar.finish_and_clear();
        }
    }
}

/// Steps the machine through every event, updating the progress bar now and then.
fn drive(
    machine: &mut Machine,
    events: impl Iterator<Item = Result<TraceEvent, WorkloadError>>,
    origin: &str,
    progress: &Progress,
) -> Result<(), SimError> {
    let mut done: u64 = 0;
    for event in events {
        machine.step(event?, origin)?;
        done += 1;
        if done % PROGRESS_EVERY == 0 {
            progress.update(done);
        }
    }
    Ok(())
}

/// Runs an already loaded config with every option.
///
/// # Errors
/// Any I/O, trace or simulation error.
pub fn run_with(
    config: &MachineConfig,
    config_path: &Path,
    options: &RunOptions,
) -> Result<RunOutcome, RunError> {
    let mut machine = Machine::new(config)?;
    if options.check {
        machine.enable_check();
    }
    let mut trace_stats = None;
    let mut first_bad_line = None;
    let start;
    match trace_path(config, config_path, options.trace.as_deref()) {
        Some(path) => {
            let format = match (&options.trace_format, &options.trace, &config.workload) {
                (Some(format), _, _) => *format,
                (None, None, WorkloadConfig::Trace { format, .. }) => *format,
                (None, _, _) => TraceFormat::Auto,
            };
            let origin = path.display().to_string();
            if machine.needs_future() {
                // OPT reads the whole trace once ahead of the run (see os::replacement).
                if path.as_os_str() == STDIN {
                    return Err(RunError::Unsupported(
                        "OPT replacement reads the trace twice (once ahead, to learn the future), \
                         so it cannot read standard input: pass the trace as a file"
                            .into(),
                    ));
                }
                let ahead = open_trace(&path, Rc::new(Cell::new(0)))?;
                let mut ahead =
                    TraceReader::new(ahead, origin.clone(), format).skip_bad_lines(options.skip_bad_lines);
                machine.learn_future(ahead.by_ref(), &origin)?;
            }
            let bytes = Rc::new(Cell::new(0));
            let source = open_trace(&path, Rc::clone(&bytes))?;
            let length = std::fs::metadata(&path).ok().filter(|m| m.is_file()).map(|m| m.len());
            let progress = Progress::new(options.progress, length, Some(bytes));
            let mut reader =
                TraceReader::new(source, origin.clone(), format).skip_bad_lines(options.skip_bad_lines);
            start = Instant::now();
            let result = drive(&mut machine, reader.by_ref(), &origin, &progress);
            progress.finish();
            result?;
            trace_stats = Some(reader.stats().clone());
            first_bad_line = reader.first_bad_line().map(ToString::to_string);
        }
        None => match &config.workload {
            // One generator: stream it here, under the progress bar.
            WorkloadConfig::Synthetic(generator) if !machine.needs_future() => {
                let workload: Workload<std::io::Empty> = Workload::synthetic(&config.workload, config.seed)
                    .ok_or_else(|| {
                    SimError::Internal("a synthetic workload without a generator".into())
                })?;
                let progress = Progress::new(options.progress, Some(generator.accesses()), None);
                start = Instant::now();
                let result = drive(&mut machine, workload, "workload", &progress);
                progress.finish();
                result?;
            }
            // Several processes under the OS scheduler, or OPT's look-ahead: the
            // machine drives its own generators. FIXME(#6): no progress bar here.
            WorkloadConfig::Synthetic(_)
            | WorkloadConfig::Processes { .. }
            | WorkloadConfig::Trace { .. } => {
                start = Instant::now();
                machine.run_synthetic()?;
            }
        },
    }
    let seconds = start.elapsed().as_secs_f64();
    let mut report = machine.report();
    report.trace = trace_stats;
    let timing = HostTiming { seconds, accesses_per_second: report.accesses as f64 / seconds.max(1e-9) };
    Ok(RunOutcome { report, timing, first_bad_line })
}

/// Writes the synthetic workload of `generator` (seeded by `seed`) in the native
/// trace format, `repeat` times over, to `out`: `mmu-sim generate`, whose output
/// `mmu-sim run --trace -` reads back.
///
/// # Errors
/// Writing failed (a closed pipe included).
pub fn write_generated(
    generator: &GeneratorConfig,
    seed: u64,
    repeat: u64,
    out: &mut impl std::io::Write,
) -> std::io::Result<u64> {
    let mut buf = Vec::with_capacity(1 << 17);
    let mut lines = 0;
    for _ in 0..repeat {
        for event in generator.build(seed) {
            cpu_sim::workload::write_native(&event, &mut buf);
            lines += 1;
            if buf.len() >= 1 << 16 {
                out.write_all(&buf)?;
                buf.clear();
            }
        }
    }
    out.write_all(&buf)?;
    out.flush()?;
    Ok(lines)
}

/// What a trace holds, read without simulating it: `mmu-sim inspect`.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct TraceSummary {
    /// Format, lines, bad lines and unaligned records, as a run reports them.
    pub stats: cpu_sim::TraceStats,
    /// Instruction fetches (after splitting into words).
    pub fetches: u64,
    /// Loads.
    pub reads: u64,
    /// Stores.
    pub writes: u64,
    /// `P n` context switches.
    pub switches: u64,
    /// Distinct 4 KiB pages touched by any process.
    pub pages: u64,
    /// Lowest and highest address accessed.
    pub range: Option<(u32, u32)>,
    /// Wall-clock seconds spent reading and parsing.
    pub seconds: f64,
}

/// Reads a whole trace without simulating it, counting what it holds: a check
/// before a long run, and the parse-only baseline a run's speed compares against.
/// Memory stays flat: pages are marked in a fixed 128 KiB bitmap (2^20 pages).
///
/// # Errors
/// The file cannot be opened or read, or (without skipping) a line does not parse.
pub fn inspect_trace(
    path: &Path,
    format: TraceFormat,
    skip_bad_lines: bool,
) -> Result<TraceSummary, RunError> {
    let source = open_trace(path, Rc::new(Cell::new(0)))?;
    let mut reader =
        TraceReader::new(source, path.display().to_string(), format).skip_bad_lines(skip_bad_lines);
    let mut summary = TraceSummary::default();
    let mut pages = vec![0u64; (1 << 20) / 64];
    let start = Instant::now();
    for event in reader.by_ref() {
        match event.map_err(SimError::from)? {
            TraceEvent::Switch(_) => summary.switches += 1,
            TraceEvent::Access(access) => {
                match access.kind {
                    mmu_core::AccessKind::Fetch => summary.fetches += 1,
                    mmu_core::AccessKind::Read => summary.reads += 1,
                    mmu_core::AccessKind::Write => summary.writes += 1,
                }
                let addr = access.vaddr.as_u32();
                let page = (addr >> 12) as usize;
                pages[page / 64] |= 1 << (page % 64);
                summary.range = Some(match summary.range {
                    None => (addr, addr),
                    Some((lo, hi)) => (lo.min(addr), hi.max(addr)),
                });
            }
        }
    }
    summary.seconds = start.elapsed().as_secs_f64();
    summary.pages = pages.iter().map(|w| u64::from(w.count_ones())).sum();
    summary.stats = reader.stats().clone();
    Ok(summary)
}

/// The summary of [`inspect_trace`] for people.
pub fn render_summary(summary: &TraceSummary, origin: &str) -> String {
    let t = &summary.stats;
    let accesses = summary.fetches + summary.reads + summary.writes;
    let mut s = format!("{origin}: {} format\n", t.format.name());
    let _ = writeln!(
        s,
        "  lines     {} ({} bad lines skipped, {} unaligned records)",
        t.lines, t.bad_lines_skipped, t.unaligned_records
    );
    let _ = writeln!(
        s,
        "  accesses  {accesses}: {} fetches, {} reads, {} writes; {} context switches",
        summary.fetches, summary.reads, summary.writes, summary.switches
    );
    if let Some((lo, hi)) = summary.range {
        let _ = writeln!(
            s,
            "  pages     {} distinct 4 KiB pages, addresses {lo:#010x} to {hi:#010x}",
            summary.pages
        );
    }
    let _ = writeln!(
        s,
        "  read in   {:.3} s, {:.1} M lines/s",
        summary.seconds,
        t.lines as f64 / summary.seconds.max(1e-9) / 1e6
    );
    s
}

/// The host-throughput line the table shows on a terminal or with `--timing`.
pub fn render_timing(timing: &HostTiming) -> String {
    format!("  host        {:.3} s, {:.2} M accesses/s\n", timing.seconds, timing.accesses_per_second / 1e6)
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
    if let Some(t) = &r.trace {
        let _ = writeln!(
            s,
            "  trace       {} format, {} lines, {} bad lines skipped, {} unaligned records",
            t.format.name(),
            t.lines,
            t.bad_lines_skipped,
            t.unaligned_records
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
