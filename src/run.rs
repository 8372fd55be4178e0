//! Running a config: the options of `mmu-sim run`, the trace file behind the
//! runner's event source, and a progress bar on standard error.

use crate::error::RunError;
use crate::io::{STDIN, load_config, open_trace, trace_path};
pub use crate::options::RunOptions;
use crate::program::{ProgramRun, run_program};
use crate::reader_thread::BatchedReader;
use cpu_sim::window::{IntervalColumns, IntervalRecord};
use cpu_sim::{
    HostTiming, Machine, MachineConfig, Report, SimError, TraceFormat, TraceReader, Unaligned,
    WorkloadConfig, runner,
};
use indicatif::{ProgressBar, ProgressStyle};
use std::io::Read;
use std::path::Path;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

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
    /// An ELF run's console output and end.
    pub program: Option<ProgramRun>,
    /// The interval columns and records, when the window asked for intervals.
    pub intervals: Option<(IntervalColumns, Vec<IntervalRecord>)>,
    /// The miss-ratio curve's points and the entries selective invalidations
    /// removed from the observed TLB (0: the curve is exact), when asked for.
    pub curve: Option<(Vec<mrc::Point>, u64)>,
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

/// The progress bar of a run, or nothing when it is off.
struct Progress {
    bar: Option<ProgressBar>,
    /// Bytes read from the trace file, when the bar measures bytes.
    bytes: Option<Arc<AtomicU64>>,
    start: Instant,
}

impl Progress {
    /// A bar of `length` units (bytes of the trace file, or accesses of a
    /// generator), or a spinner when the length is unknown.
    fn new(enabled: bool, length: Option<u64>, bytes: Option<Arc<AtomicU64>>) -> Self {
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
        bar.set_position(self.bytes.as_ref().map_or(accesses, |b| b.load(Ordering::Relaxed)));
        let rate = accesses as f64 / self.start.elapsed().as_secs_f64().max(1e-9);
        bar.set_message(format!("{accesses} accesses, {:.1} M/s", rate / 1e6));
    }

    fn finish(&self) {
        if let Some(bar) = &self.bar {
            bar.finish_and_clear();
        }
    }
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
    run_watched(config, config_path, options, None)
}

/// [`run_with`], with `watch` told the steps it asks for (`explain`, `--log`).
///
/// # Errors
/// As [`run_with`]; an ELF run cannot be watched (`Unsupported`).
pub fn run_watched(
    config: &MachineConfig,
    config_path: &Path,
    options: &RunOptions,
    watch: Option<Box<dyn cpu_sim::watch::Watch>>,
) -> Result<RunOutcome, RunError> {
    if watch.is_some() && (options.elf.is_some() || matches!(config.workload, WorkloadConfig::Elf { .. })) {
        return Err(RunError::Unsupported(
            "explain and --log follow the trace player's accesses; an RV32 program (an `Elf` workload or --elf) \
             runs on the RV32 core, which they do not follow yet"
                .into(),
        ));
    }
    if options.elf.is_some() || matches!(config.workload, WorkloadConfig::Elf { .. }) {
        let given: Vec<&str> = options
            .trace
            .as_ref()
            .map(|_| "--trace")
            .into_iter()
            .chain(trace_reading_flags(options))
            .collect();
        if !given.is_empty() {
            return Err(RunError::Unsupported(format!(
                "{}: {} to a trace, and this run is an RV32 program (an `Elf` workload or --elf): \
                 run the trace with a config whose workload is not `Elf`",
                config_path.display(),
                flags_apply(&given)
            )));
        }
        let (report, timing, program, intervals) = run_program(config, config_path, options)?;
        return Ok(RunOutcome {
            report,
            timing,
            first_bad_line: None,
            program: Some(program),
            intervals,
            curve: None,
        });
    }
    let in_config = |e: SimError| RunError::of_run(config_path, e);
    let mut machine = Machine::new(config).map_err(in_config)?;
    if options.check {
        machine.enable_check();
    }
    if let Some((tlb, geometries)) = &options.observe {
        machine.observe_tlb(tlb, geometries).map_err(RunError::Unsupported)?;
    }
    if let Some(watch) = watch {
        machine.set_watch(watch);
    }
    let mut trace_stats = None;
    let mut first_bad_line = None;
    let start;
    match trace_path(config, config_path, options.trace.as_deref()) {
        Some(path) => {
            let (format, unaligned) = trace_reading(config, options);
            let origin = path.display().to_string();
            if machine.needs_future() && path.as_os_str() == STDIN {
                return Err(RunError::Unsupported(
                    "OPT replacement reads the trace twice (once ahead, to learn the future), \
                     so it cannot read standard input: pass the trace as a file"
                        .into(),
                ));
            }
            let bytes = Arc::new(AtomicU64::new(0));
            let length = std::fs::metadata(&path).ok().filter(|m| m.is_file()).map(|m| m.len());
            let progress = Progress::new(options.progress, length, Some(Arc::clone(&bytes)));
            // Opened here, so that a missing file is the user's error (exit 2).
            let first = open_trace(&path, Arc::clone(&bytes))?;
            let accesses = window_accesses(config);
            let mut source = TraceFile {
                path: &path,
                origin: origin.clone(),
                format,
                skip_bad_lines: options.skip_bad_lines,
                unaligned,
                processes: u32::try_from(config.processes.len()).unwrap_or(u32::MAX),
                bytes,
                first: Some(first),
                threads: options.reader_threads,
                // OPT's look-ahead reads the whole trace first, without a limit.
                unlimited_readings: u32::from(machine.needs_future()),
                accesses,
            };
            start = Instant::now();
            let result =
                runner::run_source(&mut machine, &mut source, &origin, &mut |done| progress.update(done));
            progress.finish();
            let (stats, first_bad) = result.map_err(in_config)?.end();
            trace_stats = Some(stats);
            first_bad_line = first_bad;
        }
        None => {
            refuse_trace_reading_without_a_trace(options, config_path)?;
            // One generator streams under the progress bar; a `Processes` mix is
            // scheduled by the runner. FIXME(#6): no progress bar for a mix.
            let length = match &config.workload {
                WorkloadConfig::Synthetic(generator) => Some(generator.accesses()),
                WorkloadConfig::Processes { .. }
                | WorkloadConfig::Trace { .. }
                | WorkloadConfig::Elf { .. } => None,
            };
            let progress = Progress::new(options.progress && length.is_some(), length, None);
            start = Instant::now();
            let result = runner::run_synthetic(&mut machine, &mut |done| progress.update(done));
            progress.finish();
            result.map_err(in_config)?;
        }
    }
    let seconds = start.elapsed().as_secs_f64();
    let mut report = machine.report();
    report.trace = trace_stats;
    let timing = HostTiming {
        seconds,
        accesses_per_second: report.accesses as f64 / seconds.max(1e-9),
        instructions_per_second: None,
    };
    let intervals =
        config.window.interval.map(|_| (machine.interval_columns(), machine.intervals().to_vec()));
    let curve = machine.curve().map(|c| (c.points(), c.invalidations));
    Ok(RunOutcome { report, timing, first_bad_line, program: None, intervals, curve })
}

/// A trace file, read from its start for each reading (OPT reads it twice): the
/// first reading uses the file opened before the run, later ones open it again.
/// Each reading restarts the byte count of the progress bar.
struct TraceFile<'a> {
    path: &'a Path,
    origin: String,
    format: TraceFormat,
    skip_bad_lines: bool,
    unaligned: Unaligned,
    /// How many processes the config declares, for `P n` lines.
    processes: u32,
    bytes: Arc<AtomicU64>,
    first: Option<Box<dyn Read + Send>>,
    /// Where to decode: 0 on the simulating thread, each event as it is taken;
    /// 1 there too, in batches (`--reader-threads 1`); 2 on a reader thread.
    threads: usize,
    /// Readings still to come that read the whole trace (OPT's look-ahead)
    /// before the run's own, which stops after `accesses`.
    unlimited_readings: u32,
    /// Accesses after which the run ends (`skip + warmup + max`), if it does.
    accesses: Option<u64>,
}

/// The events of one reading of a trace file: decoded on this thread, one at
/// a time or in batches, or on a reader thread (the same events, errors and
/// statistics either way).
pub enum TraceEvents {
    /// Decoded by the thread that simulates, each event as it is taken.
    Direct(TraceReader<Box<dyn Read + Send>>),
    /// Decoded in batches, on a reader thread or on the simulating one.
    Batched(BatchedReader),
}

impl TraceEvents {
    /// Ends the reading (stopping a reader thread) and returns the reader's
    /// statistics and its first bad line skipped, as `path:line: message`.
    pub fn end(self) -> (cpu_sim::TraceStats, Option<String>) {
        match self {
            TraceEvents::Direct(reader) => {
                (reader.stats().clone(), reader.first_bad_line().map(ToString::to_string))
            }
            TraceEvents::Batched(threaded) => {
                let end = threaded.end();
                (end.stats, end.first_bad_line)
            }
        }
    }
}

impl Iterator for TraceEvents {
    type Item = Result<cpu_sim::TraceEvent, cpu_sim::WorkloadError>;
    #[inline(always)]
    fn next(&mut self) -> Option<Self::Item> {
        match self {
            TraceEvents::Direct(reader) => reader.next(),
            TraceEvents::Batched(threaded) => threaded.next(),
        }
    }
}

impl runner::EventStream for TraceEvents {
    #[inline(always)]
    fn take_ready(&mut self) -> &[cpu_sim::TraceEvent] {
        match self {
            TraceEvents::Direct(_) => &[],
            TraceEvents::Batched(threaded) => threaded.take_ready(),
        }
    }
}

impl runner::EventSource for TraceFile<'_> {
    type Events = TraceEvents;
    fn open(&mut self) -> Result<Self::Events, SimError> {
        let source = match self.first.take() {
            Some(first) => first,
            None => {
                self.bytes.store(0, Ordering::Relaxed);
                open_trace(self.path, Arc::clone(&self.bytes)).map_err(|e| {
                    SimError::Internal(format!("the trace could be opened once but not again: {e}"))
                })?
            }
        };
        let reader = TraceReader::new(source, self.origin.clone(), self.format)
            .skip_bad_lines(self.skip_bad_lines)
            .unaligned(self.unaligned)
            .processes(self.processes);
        let accesses = if self.unlimited_readings > 0 {
            self.unlimited_readings -= 1;
            None
        } else {
            self.accesses
        };
        match self.threads {
            0 => return Ok(TraceEvents::Direct(reader)),
            1 => return Ok(TraceEvents::Batched(BatchedReader::inline(reader, accesses))),
            _ => {}
        }
        BatchedReader::spawn(reader, accesses)
            .map(TraceEvents::Batched)
            .map_err(|e| SimError::Internal(format!("the trace reader thread could not be started: {e}")))
    }
}

/// The reference string of page replacement ([`page_references`]).
#[derive(Debug)]
pub struct PageReferences {
    /// The page each access touches, in order: the page number in the low 32
    /// bits, its owner (a process, or a shared object) above.
    pub references: Vec<u64>,
    /// How many of `references`, the first, come from the window's warm-up.
    pub warm: usize,
    /// The trace reader's statistics, when a trace was read.
    pub trace: Option<cpu_sim::TraceStats>,
    /// The first bad line skipped, as `path:line: message`.
    pub first_bad_line: Option<String>,
}

/// The reference string of page replacement for `config`'s workload (or
/// `options.trace`): the page each access touches, in order, read once without
/// simulating (`mmu-sim mrc --frames`), within the config's window, with the
/// trace read as `options` say (format, bad lines, unaligned addresses, reader
/// threads) and as a run reads it.
///
/// # Errors
/// A file that cannot be read, a bad trace line, trace options without a
/// trace, or a `Processes` workload (whose interleaving is the scheduler's:
/// write it out with `generate` first).
pub fn page_references(
    config: &MachineConfig,
    config_path: &Path,
    options: &RunOptions,
) -> Result<PageReferences, RunError> {
    let in_config = |e: SimError| RunError::of_run(config_path, e);
    let machine = Machine::new(config).map_err(in_config)?;
    match trace_path(config, config_path, options.trace.as_deref()) {
        Some(path) => {
            let (format, unaligned) = trace_reading(config, options);
            let bytes = Arc::new(AtomicU64::new(0));
            let first = open_trace(&path, Arc::clone(&bytes))?;
            let mut source = TraceFile {
                path: &path,
                origin: path.display().to_string(),
                format,
                skip_bad_lines: options.skip_bad_lines,
                unaligned,
                processes: u32::try_from(config.processes.len()).unwrap_or(u32::MAX),
                bytes,
                first: Some(first),
                threads: options.reader_threads,
                unlimited_readings: 0,
                accesses: window_accesses(config),
            };
            let mut events = runner::EventSource::open(&mut source).map_err(in_config)?;
            let (references, warm) =
                runner::page_references(&machine, &mut events, &path.display().to_string())?;
            let (stats, first_bad_line) = events.end();
            Ok(PageReferences { references, warm, trace: Some(stats), first_bad_line })
        }
        None => {
            refuse_trace_reading_without_a_trace(options, config_path)?;
            match &config.workload {
                WorkloadConfig::Synthetic(generator) => {
                    let events = generator.build(config.seed).map(Ok);
                    let (references, warm) = runner::page_references(&machine, events, "workload")?;
                    Ok(PageReferences { references, warm, trace: None, first_bad_line: None })
                }
                WorkloadConfig::Processes { .. } | WorkloadConfig::Trace { .. } => Err(RunError::Unsupported(
                    "mrc --frames needs one stream of accesses: a `Processes` workload is interleaved by the \
                     scheduler; write it out with `mmu-sim generate` and pass it with --trace"
                        .into(),
                )),
                WorkloadConfig::Elf { .. } => Err(RunError::Unsupported(
                    "mrc --frames reads a trace or a synthetic workload; an RV32 program's accesses come from \
                     running it (FIXME(#10))"
                        .into(),
                )),
            }
        }
    }
}

/// Refuses the options of trace reading (`--trace-format`, `--skip-bad-lines`,
/// `--unaligned`) for a run of the config at `config_path` that reads no
/// trace (a synthetic or `Processes` workload), which would ignore them.
///
/// # Errors
/// `Unsupported` (exit 2) when any of them is given, naming those given.
pub fn refuse_trace_reading_without_a_trace(
    options: &RunOptions,
    config_path: &Path,
) -> Result<(), RunError> {
    let given = trace_reading_flags(options);
    if !given.is_empty() {
        return Err(RunError::Unsupported(format!(
            "{}: {} to a trace, and this run reads none (its workload is not a `Trace`): pass the trace \
             with --trace",
            config_path.display(),
            flags_apply(&given)
        )));
    }
    Ok(())
}

/// The trace-reading flags `options` holds, as the command line spells them.
fn trace_reading_flags(options: &RunOptions) -> Vec<&'static str> {
    [
        ("--trace-format", options.trace_format.is_some()),
        ("--skip-bad-lines", options.skip_bad_lines),
        ("--unaligned", options.unaligned.is_some()),
    ]
    .into_iter()
    .filter_map(|(name, on)| on.then_some(name))
    .collect()
}

/// "--a applies" or "--a, --b apply": the flags of `given` and the verb.
fn flags_apply(given: &[&str]) -> String {
    let verb = if given.len() == 1 { "applies" } else { "apply" };
    format!("{} {verb}", given.join(", "))
}

/// The accesses after which a run of `config` ends (`skip + warmup + max`), if
/// its window has a `max`: a reader thread stops reading there too.
fn window_accesses(config: &MachineConfig) -> Option<u64> {
    let window = config.window;
    window.max.map(|max| window.skip.saturating_add(window.warmup).saturating_add(max))
}

/// How a trace is read: `--trace-format` and `--unaligned` if given, else the
/// config's own trace's `format` and `unaligned` (for the config's own trace), else
/// detection and alignment faults (for a `--trace` file).
fn trace_reading(config: &MachineConfig, options: &RunOptions) -> (TraceFormat, Unaligned) {
    let own = match (&options.trace, &config.workload) {
        (None, WorkloadConfig::Trace { format, unaligned, .. }) => Some((*format, *unaligned)),
        _ => None,
    };
    (
        options.trace_format.or(own.map(|o| o.0)).unwrap_or(TraceFormat::Auto),
        options.unaligned.or(own.map(|o| o.1)).unwrap_or(Unaligned::Fault),
    )
}
