//! `mmu-sim`: run a simulation from a RON config and print its report, or write a
//! config's synthetic workload out as a trace.

use clap::{Parser, Subcommand, ValueEnum};
use cpu_sim::TraceFormat;
use std::io::IsTerminal;
use std::path::PathBuf;
use std::process::ExitCode;

#[derive(Parser)]
#[command(
    name = "mmu-sim",
    version,
    about = "Cycle-level emulator of TLBs, page walks, DRAM and demand paging"
)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Run the machine and workload a config describes, and print the report.
    Run {
        /// The RON config file (see configs/).
        config: PathBuf,
        /// Read this trace instead of the config's workload; `-` reads standard
        /// input. Files ending in .gz or .zst are decompressed.
        #[arg(long)]
        trace: Option<PathBuf>,
        /// Check every load against a reference memory (the data-integrity oracle);
        /// a mismatch stops the run with an error.
        #[arg(long)]
        check: bool,
        #[command(flatten)]
        reading: TraceReadingArgs,
        /// Add host time and accesses simulated per second to the report (JSON and
        /// RON leave them out otherwise, so that reports stay byte-identical).
        #[arg(long)]
        timing: bool,
        /// How to print the report: a table for people, or the full report as JSON or RON.
        #[arg(long, value_enum, default_value_t = Format::Table)]
        format: Format,
        /// Read and discard the first N accesses (no state changes); of an ELF
        /// program, run the first N instructions functionally (registers and memory
        /// change, no TLB, DRAM timing or counter does). Overrides `window.skip`.
        #[arg(long, value_name = "N")]
        skip: Option<u64>,
        /// Run the next N accesses (instructions of an ELF program) to warm the
        /// machine up, then reset every counter; overrides `window.warmup`.
        #[arg(long, value_name = "N")]
        warmup: Option<u64>,
        /// End the measured window after N accesses (instructions of an ELF program)
        /// and report normally (exit 0); overrides `window.max`.
        #[arg(long, value_name = "N")]
        max: Option<u64>,
        /// Record the counters' deltas every N measured accesses (instructions of an
        /// ELF program; needs --interval-out or --plot-intervals); overrides
        /// `window.interval`.
        #[arg(long, value_name = "N")]
        interval: Option<u64>,
        /// Where the interval records go: CSV if FILE ends in .csv, JSON lines if .jsonl.
        #[arg(long, value_name = "FILE")]
        interval_out: Option<PathBuf>,
        /// Draw miss rates and cycles per access over the intervals as an SVG.
        #[arg(long, value_name = "FILE.svg")]
        plot_intervals: Option<PathBuf>,
        /// Draw the walk-latency histogram of the run as an SVG.
        #[arg(long, value_name = "FILE.svg")]
        plot_latency: Option<PathBuf>,
        /// Replace a config field: PATH names it with dots and [i] (tlb.l1[0].entries),
        /// VALUE is RON (128, Fixed(latency: 50)). Any number of times, in order.
        #[arg(long = "set", value_name = "PATH=VALUE")]
        sets: Vec<mmu_sim::overrides::Override>,
        /// Run this RV32 ELF program on the RV32 core; the config's workload must
        /// be `Elf` (configs/rv32-virt.ron). The exit status is the program's: 0 on
        /// pass, n when bare-metal test n fails.
        #[arg(long)]
        elf: Option<PathBuf>,
        /// The runaway guard: stop an ELF run with an error after N instructions
        /// (overrides the workload's `max_instructions`).
        #[arg(long, value_name = "N")]
        max_instructions: Option<u64>,
        /// Write the program's console output to FILE instead of standard output
        /// (table) or standard error (JSON, RON).
        #[arg(long, value_name = "FILE")]
        console: Option<PathBuf>,
        /// Log one line per event (lookups, walks, PTE reads, DRAM requests, faults,
        /// evictions, write-backs, fences, context switches) of the accesses
        /// numbered FROM to TO, counting from 0, TO excluded; to standard error or
        /// --log-file.
        #[arg(long, value_name = "FROM..TO")]
        log: Option<mmu_sim::explain::LogRange>,
        /// Write the --log lines to FILE instead of standard error.
        #[arg(long, value_name = "FILE", requires = "log")]
        log_file: Option<PathBuf>,
        #[command(flatten)]
        threads: ReaderThreadsArg,
    },
    /// Run the workload up to one access and print its whole story: the address's
    /// fields, each TLB probed, walk caches, each PTE read and check, DRAM timing,
    /// the OS's handling of a fault, and the cycles of each step adding up.
    Explain {
        /// The RON config file.
        config: PathBuf,
        /// Read this trace instead of the config's workload.
        #[arg(long)]
        trace: Option<PathBuf>,
        /// The access to explain: its number in the workload, counting from 0.
        #[arg(long, value_name = "N", conflicts_with = "va", required_unless_present = "va")]
        access: Option<u64>,
        /// Explain the first access to the word holding this address (hex).
        #[arg(long, value_name = "ADDR")]
        va: Option<String>,
        /// With --va: only accesses of this process.
        // `conflicts_with` as well: `requires` alone is bypassed when the other
        // side of a conflict is given (clap#4520), and --access would ignore it.
        #[arg(long, value_name = "P", requires = "va", conflicts_with = "access")]
        pid: Option<u32>,
        /// With --va: only accesses of this kind (R load, W store, X fetch).
        #[arg(long, value_enum, requires = "va", conflicts_with = "access")]
        kind: Option<KindArg>,
        /// table: the story for people; json: the same as data.
        #[arg(long, value_enum, default_value_t = ExplainFormat::Table)]
        format: ExplainFormat,
        /// Replace a config field (PATH=VALUE, RON), as `run --set`.
        #[arg(long = "set", value_name = "PATH=VALUE")]
        sets: Vec<mmu_sim::overrides::Override>,
        /// The trace's format (as `run --trace-format`).
        #[arg(long, value_enum)]
        trace_format: Option<FormatArg>,
        /// Skip trace lines that do not parse (as `run --skip-bad-lines`): access
        /// numbers count the accesses read, not the lines.
        #[arg(long)]
        skip_bad_lines: bool,
        /// Unaligned native addresses: `fault` or `round-down` (as `run --unaligned`).
        #[arg(long, value_enum)]
        unaligned: Option<UnalignedArg>,
    },
    /// Convert a trace (any format `run` reads) into the binary format, or into
    /// native text with `--to native`; OUT is overwritten, and compressed with
    /// zstd when it ends in .zst (gzip for .gz).
    Convert {
        /// The trace to read; `-` reads standard input. .gz and .zst are decompressed.
        input: PathBuf,
        /// The file to write (overwritten through a temporary file beside it;
        /// a symbolic link, dangling or not, is written through); `-` writes
        /// standard output.
        output: PathBuf,
        /// The format to write.
        #[arg(long, value_enum, default_value_t = ConvertToArg::Binary)]
        to: ConvertToArg,
        /// The input's format; detected by default.
        #[arg(long, value_enum, default_value_t = FormatArg::Auto)]
        trace_format: FormatArg,
        /// Skip and count lines that do not parse instead of stopping.
        #[arg(long)]
        skip_bad_lines: bool,
        /// Unaligned native addresses: `fault` keeps them (a run counts the
        /// alignment faults), `round-down` writes the word that holds them.
        #[arg(long, value_enum, default_value_t = UnalignedArg::Fault)]
        unaligned: UnalignedArg,
    },
    /// Run the config once per point of a grid of values, in parallel, and print
    /// one row of counters per point.
    // `run`'s help, reworded where the output is rows, not a report.
    #[command(mut_arg("skip_bad_lines", |a| a.help(
        "Skip trace lines that do not parse, count them in every row (`trace.bad_lines_skipped`) and warn about \
         the first, instead of stopping",
    )))]
    Sweep {
        /// The RON config file.
        config: PathBuf,
        /// A field and its values: PATH=V1,V2,... (split at top-level commas, so
        /// Some((1, 2)) stays one value). The grid is the product of every --vary.
        #[arg(long = "vary", value_name = "PATH=V1,V2,...", required = true)]
        varies: Vec<mmu_sim::sweep::Vary>,
        /// Replace a config field for every point (PATH=VALUE, RON), as `run --set`.
        #[arg(long = "set", value_name = "PATH=VALUE")]
        sets: Vec<mmu_sim::overrides::Override>,
        /// Read this trace instead of the config's workload (a file: every point reads it).
        #[arg(long)]
        trace: Option<PathBuf>,
        #[command(flatten)]
        reading: TraceReadingArgs,
        /// Threads running points at once (default: every core).
        #[arg(long, default_value_t = 0)]
        jobs: usize,
        /// csv (a header line, then a row per point) or jsonl (an object per point).
        #[arg(long, value_enum, default_value_t = SweepFormatArg::Csv)]
        format: SweepFormatArg,
        /// Write the rows to FILE instead of standard output.
        #[arg(long)]
        out: Option<PathBuf>,
        /// Run a grid larger than the limit (4096 points) without refusing.
        #[arg(long)]
        yes: bool,
        /// Read and discard the first N accesses of every point (as `run --skip`).
        #[arg(long, value_name = "N")]
        skip: Option<u64>,
        /// Warm every point up for N accesses, then reset its counters (as `run --warmup`).
        #[arg(long, value_name = "N")]
        warmup: Option<u64>,
        /// Measure at most N accesses per point (as `run --max`).
        #[arg(long, value_name = "N")]
        max: Option<u64>,
        /// Record every point's counters every N measured accesses (as `run
        /// --interval`); needs --interval-out.
        #[arg(long, value_name = "N", requires = "interval_out")]
        interval: Option<u64>,
        /// Where every point's interval records go, one row per interval with the
        /// point's varied values first: CSV if FILE ends in .csv, JSON lines if .jsonl.
        #[arg(long, value_name = "FILE", conflicts_with = "emit_slurm")]
        interval_out: Option<PathBuf>,
        /// Draw --y against --x as an SVG, one line per combination of the other
        /// varied paths.
        #[arg(long, value_name = "FILE.svg", requires_all = ["x", "y"])]
        plot: Option<PathBuf>,
        /// The varied path on the plot's x axis (a log-2 axis for sizes).
        #[arg(long, value_name = "PATH")]
        x: Option<String>,
        /// The counter on the plot's y axis, as the CSV names it (`cycles`, `tlb.l1d.misses`).
        #[arg(long, value_name = "COUNTER")]
        y: Option<String>,
        /// Run only shard I of N: the points whose index is I modulo N (`mmu-sim
        /// merge` joins the shards' outputs into the unsharded sweep's bytes).
        #[arg(long, value_name = "I/N", conflicts_with = "emit_slurm")]
        shard: Option<mmu_sim::sweep::Shard>,
        /// Write a SLURM job-array script (one task per shard) and its manifest into
        /// DIR instead of running: `sbatch DIR/sweep.sbatch`, then the manifest's merge line.
        #[arg(long, value_name = "DIR")]
        emit_slurm: Option<PathBuf>,
        /// Shards of --emit-slurm (default: 8, or fewer when the grid is smaller).
        // `conflicts_with` too: `requires` alone is bypassed by --shard (clap#4520).
        #[arg(long, value_name = "N", requires = "emit_slurm", conflicts_with = "shard")]
        shards: Option<usize>,
    },
    /// Join the outputs of `sweep --shard I/N` (given in shard order 0..N) into
    /// exactly the output of the unsharded sweep.
    Merge {
        /// The shards' output files, shard 0 first.
        #[arg(required = true)]
        shards: Vec<PathBuf>,
        /// Write the result to FILE instead of standard output.
        #[arg(long)]
        out: Option<PathBuf>,
    },
    /// One-pass miss-ratio curves: the LRU misses of a TLB for every requested
    /// geometry from one run, or page faults of LRU or OPT for every number of
    /// frames from one pass over the workload.
    Mrc(MrcArgs),
    /// Read a trace without simulating it and say what it holds: format, lines,
    /// accesses by kind, pages touched, and how fast it parsed.
    Inspect {
        /// The trace; `-` reads standard input. .gz and .zst are decompressed.
        trace: PathBuf,
        /// The trace's format; detected from the first lines by default.
        #[arg(long, value_enum, default_value_t = FormatArg::Auto)]
        trace_format: FormatArg,
        /// Skip and count lines that do not parse instead of stopping.
        #[arg(long)]
        skip_bad_lines: bool,
    },
    /// Write the config's synthetic workload to standard output as a native
    /// trace, for `mmu-sim run --trace -` or for keeping. A `Processes` mix is
    /// written as the scheduler interleaves it, with `P n` lines.
    Generate {
        /// The RON config file; its workload must be `Synthetic`, or `Processes`
        /// with a quantum in `Accesses`.
        config: PathBuf,
        /// Write the whole workload this many times over.
        #[arg(long, default_value_t = 1)]
        repeat: u64,
    },
}

#[derive(Clone, Copy, ValueEnum)]
enum PolicyArg {
    Lru,
    Opt,
}

#[derive(Clone, Copy, ValueEnum)]
enum MrcFormat {
    Csv,
    Json,
}

#[derive(Clone, Copy, ValueEnum)]
enum SweepFormatArg {
    Csv,
    Jsonl,
}

#[derive(Clone, Copy, ValueEnum)]
enum Format {
    Table,
    Json,
    Ron,
}

#[derive(Clone, Copy, ValueEnum)]
enum KindArg {
    #[value(name = "R")]
    R,
    #[value(name = "W")]
    W,
    #[value(name = "X")]
    X,
}

#[derive(Clone, Copy, ValueEnum)]
enum ExplainFormat {
    Table,
    Json,
}

#[derive(Clone, Copy, ValueEnum)]
enum UnalignedArg {
    Fault,
    RoundDown,
}

impl From<UnalignedArg> for cpu_sim::Unaligned {
    fn from(u: UnalignedArg) -> Self {
        match u {
            UnalignedArg::Fault => cpu_sim::Unaligned::Fault,
            UnalignedArg::RoundDown => cpu_sim::Unaligned::RoundDown,
        }
    }
}

#[derive(Clone, Copy, ValueEnum)]
enum ConvertToArg {
    Binary,
    Native,
}

#[derive(Clone, Copy, ValueEnum)]
enum FormatArg {
    Auto,
    Native,
    Lackey,
    Din,
    Course,
    Binary,
}

impl From<FormatArg> for TraceFormat {
    fn from(f: FormatArg) -> Self {
        match f {
            FormatArg::Auto => TraceFormat::Auto,
            FormatArg::Native => TraceFormat::Native,
            FormatArg::Lackey => TraceFormat::Lackey,
            FormatArg::Din => TraceFormat::Din,
            FormatArg::Course => TraceFormat::Course,
            FormatArg::Binary => TraceFormat::Binary,
        }
    }
}

/// How a trace is read: `--trace-format`, `--skip-bad-lines` and `--unaligned`,
/// the same flags with the same help for `run`, `mrc` and `sweep` (which
/// reword a line of it where their output is not a report).
#[derive(clap::Args)]
struct TraceReadingArgs {
    /// The trace's format; by default the config's `format`, or detected from
    /// the first lines for a --trace file.
    #[arg(long, value_enum)]
    trace_format: Option<FormatArg>,
    /// Skip trace lines that do not parse, count them in the report
    /// (`trace.bad_lines_skipped`) and warn about the first, instead of stopping.
    #[arg(long)]
    skip_bad_lines: bool,
    /// What to do with a native trace record whose address is not word
    /// aligned: `fault` (count an alignment fault and skip it) or `round-down`
    /// (access the word that holds it, as the course format does). By
    /// default the config's `unaligned`, else `fault`.
    #[arg(long, value_enum)]
    unaligned: Option<UnalignedArg>,
}

impl TraceReadingArgs {
    /// `options`, reading the trace as these flags say.
    fn apply(&self, options: mmu_sim::RunOptions) -> mmu_sim::RunOptions {
        mmu_sim::RunOptions {
            trace_format: self.trace_format.map(TraceFormat::from),
            skip_bad_lines: self.skip_bad_lines,
            unaligned: self.unaligned.map(cpu_sim::Unaligned::from),
            ..options
        }
    }

    /// The flags as given, spelt for a command line that repeats them (a
    /// shard's, in `sweep --emit-slurm`).
    fn to_args(&self) -> Vec<String> {
        let mut args = Vec::new();
        if let Some(format) = self.trace_format {
            args.extend(["--trace-format".to_string(), value_name(format)]);
        }
        if self.skip_bad_lines {
            args.push("--skip-bad-lines".into());
        }
        if let Some(unaligned) = self.unaligned {
            args.extend(["--unaligned".to_string(), value_name(unaligned)]);
        }
        args
    }
}

/// `--reader-threads`, for `run` and `mrc`, whose traces are read by the same
/// [`mmu_sim::reader_thread`] path. (`sweep` runs its points on `--jobs`
/// threads already; a reader thread per point, `run`'s default, would double them.)
#[derive(clap::Args)]
struct ReaderThreadsArg {
    /// Threads reading a trace: 2 decodes it on a second thread while this
    /// one simulates (the default on a machine with two or more cores), 1 on
    /// the simulating thread; both in batches of 16384 events. The report is
    /// the same either way.
    #[arg(long, value_name = "N", value_parser = clap::value_parser!(u8).range(1..=2))]
    reader_threads: Option<u8>,
}

impl ReaderThreadsArg {
    /// The threads to read with: as given, else 2 on a machine with two or more
    /// cores, else 1.
    fn threads(&self) -> usize {
        let cores = std::thread::available_parallelism().map_or(1, std::num::NonZero::get);
        self.reader_threads.map_or(cores.min(2), usize::from)
    }

    /// Refuses `--reader-threads` given to a run that reads no trace (it would
    /// be ignored).
    fn refuse_without_a_trace(
        &self,
        reads_a_trace: bool,
        config: &std::path::Path,
    ) -> Result<(), mmu_sim::RunError> {
        if self.reader_threads.is_some() && !reads_a_trace {
            return Err(mmu_sim::RunError::Unsupported(format!(
                "{}: --reader-threads applies to a trace, and this run reads none (its workload is not a \
                 `Trace`, or it is an RV32 program): pass the trace with --trace",
                config.display()
            )));
        }
        Ok(())
    }
}

/// The warning of a run that skipped bad trace lines: how many, and the first.
fn skipped_lines_warning(first: Option<&str>, stats: Option<&cpu_sim::TraceStats>) -> Option<String> {
    let (first, stats) = (first?, stats?);
    Some(format!("warning: skipped {} bad trace lines; the first: {first}", stats.bad_lines_skipped))
}

/// A value's name on the command line (`round-down`).
fn value_name<V: ValueEnum>(value: V) -> String {
    value.to_possible_value().expect("every value of the trace flags has a name").get_name().to_string()
}

/// Where a program's console output goes: `--console FILE`, else standard output
/// before a table report, else standard error (JSON and RON keep standard output
/// for exactly one report).
fn write_console(bytes: &[u8], console: Option<&std::path::Path>, format: Format) -> Result<(), String> {
    use std::io::Write as _;
    if let Some(path) = console {
        return std::fs::write(path, bytes).map_err(|e| format!("{}: {e}", path.display()));
    }
    let result = match format {
        Format::Table => std::io::stdout().lock().write_all(bytes).and_then(|()| std::io::stdout().flush()),
        Format::Json | Format::Ron => std::io::stderr().lock().write_all(bytes),
    };
    result.map_err(|e| format!("writing the console output: {e}"))
}

/// A user program's fd 2: always standard error.
fn write_stderr(bytes: &[u8]) {
    use std::io::Write as _;
    let _ = std::io::stderr().lock().write_all(bytes);
}

/// Writes a message to standard error, ignoring failures: with standard error
/// closed or full there is nowhere left to say anything (`eprintln!` would panic).
fn say(message: std::fmt::Arguments) {
    use std::io::Write as _;
    let mut err = std::io::stderr().lock();
    let _ = err.write_fmt(message).and_then(|()| err.write_all(b"\n"));
}

fn fail(e: &mmu_sim::RunError) -> ExitCode {
    say(format_args!("error: {e}"));
    ExitCode::from(e.exit_code() as u8)
}

/// Writes `text` to standard output. A reader that stopped early (`| head`) is
/// not an error of ours: stop quietly with success. Any other failure (a full
/// disk) is reported with exit status 1 (`print!` would panic on either).
fn emit(text: &[u8]) -> ExitCode {
    use std::io::Write as _;
    let mut out = std::io::stdout().lock();
    match out.write_all(text).and_then(|()| out.flush()) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => output_failed(&e),
    }
}

/// The exit of a write to standard output that failed: quiet success for a
/// closed pipe, an error and status 1 otherwise.
fn output_failed(e: &std::io::Error) -> ExitCode {
    if e.kind() == std::io::ErrorKind::BrokenPipe {
        return ExitCode::SUCCESS;
    }
    say(format_args!("error: writing to standard output: {e}"));
    ExitCode::FAILURE
}

/// Help, version and usage errors, written like everything else (clap's own
/// printing ignores a failed write): help on standard output, errors on standard
/// error, in colour on a terminal.
fn usage(e: &clap::Error) -> ExitCode {
    let rendered = e.render();
    if e.use_stderr() {
        let text =
            if std::io::stderr().is_terminal() { rendered.ansi().to_string() } else { rendered.to_string() };
        say(format_args!("{}", text.trim_end()));
        return ExitCode::from(u8::try_from(e.exit_code()).unwrap_or(2));
    }
    let text =
        if std::io::stdout().is_terminal() { rendered.ansi().to_string() } else { rendered.to_string() };
    emit(text.as_bytes())
}

fn main() -> ExitCode {
    let cli = match Cli::try_parse() {
        Ok(cli) => cli,
        Err(e) => return usage(&e),
    };
    match cli.command {
        Command::Run {
            config,
            trace,
            check,
            reading,
            timing,
            format,
            skip,
            warmup,
            max,
            interval,
            interval_out,
            plot_intervals,
            plot_latency,
            sets,
            elf,
            max_instructions,
            console,
            log,
            log_file,
            threads,
        } => {
            let flags = mmu_sim::window::WindowFlags { skip, warmup, max, interval };
            let options = reading.apply(mmu_sim::RunOptions {
                trace,
                progress: std::io::stderr().is_terminal(),
                check,
                elf,
                max_instructions,
                reader_threads: threads.threads(),
                observe: None,
                ..mmu_sim::RunOptions::default()
            });
            let loaded = match mmu_sim::load_config(&config).and_then(|loaded| {
                let mut loaded = mmu_sim::overrides::apply(&loaded, &config.display().to_string(), &sets)?;
                flags.apply(&mut loaded.window)?;
                if loaded.window.interval.is_some() && interval_out.is_none() && plot_intervals.is_none() {
                    return Err(mmu_sim::RunError::Unsupported(
                        "an interval (--interval, or the config's `window.interval`) records the counters every N accesses (instructions of an ELF program): say where with --interval-out FILE.csv|.jsonl or --plot-intervals FILE.svg".into(),
                    ));
                }
                // Before check_outputs, which may create a missing output file.
                mmu_sim::refuse_outputs_over_trace(
                    mmu_sim::trace_path(&loaded, &config, options.trace.as_deref()).as_deref(),
                    options.trace.is_some(),
                    &[
                        ("--log-file", log_file.as_deref()),
                        ("--interval-out", interval_out.as_deref()),
                        ("--plot-intervals", plot_intervals.as_deref()),
                        ("--plot-latency", plot_latency.as_deref()),
                        ("--console", console.as_deref()),
                    ],
                )?;
                mmu_sim::window::check_outputs(interval_out.as_deref(), plot_intervals.as_deref())?;
                mmu_sim::window::check_outputs(None, plot_latency.as_deref())?;
                if loaded.window.interval.is_none() && (interval_out.is_some() || plot_intervals.is_some()) {
                    return Err(mmu_sim::RunError::Unsupported(
                        "--interval-out and --plot-intervals need --interval N (or the config's `window.interval`)".into(),
                    ));
                }
                let reads_a_trace =
                    options.elf.is_none() && mmu_sim::trace_path(&loaded, &config, options.trace.as_deref()).is_some();
                threads.refuse_without_a_trace(reads_a_trace, &config)?;
                Ok(loaded)
            }) {
                Ok(loaded) => loaded,
                Err(e) => return fail(&e),
            };
            let mut log_out = None;
            // A --log-file this run created, removed if the run is refused.
            let mut log_created = None;
            let logged = std::rc::Rc::new(std::cell::Cell::new(0u64));
            let watch = match log {
                None => None,
                Some(range) => {
                    let sink: Box<dyn std::io::Write> = match &log_file {
                        Some(path) => match mmu_sim::log_file::LogFile::open(path) {
                            Ok((f, created)) => {
                                log_created = created;
                                Box::new(std::io::BufWriter::new(f))
                            }
                            Err(e) => {
                                eprintln!("error: --log-file {}: {e}", path.display());
                                return ExitCode::from(2);
                            }
                        },
                        None => Box::new(std::io::stderr()),
                    };
                    let out = std::rc::Rc::new(std::cell::RefCell::new(sink));
                    log_out = Some(std::rc::Rc::clone(&out));
                    Some(mmu_sim::explain::log_watch(
                        range,
                        &loaded.mmu.format,
                        out,
                        std::rc::Rc::clone(&logged),
                    ))
                }
            };
            let outcome = match mmu_sim::run_watched(&loaded, &config, &options, watch) {
                Ok(outcome) => outcome,
                Err(e) => {
                    if e.refused() {
                        // Nothing ran: no log file of this run's is left, and an existing one is untouched.
                        drop(log_out.take());
                        if let Some(path) = &log_created {
                            let _ = std::fs::remove_file(path);
                        }
                    } else {
                        if let Some(out) = &log_out {
                            // The log up to the error (a file emptied if nothing was logged).
                            if let Err(e) = out.borrow_mut().flush() {
                                eprintln!("error: writing the --log: {e}");
                            }
                        }
                        // No records or plots: none of an earlier run's is left as this one's.
                        mmu_sim::window::empty_outputs(&[
                            interval_out.as_deref(),
                            plot_intervals.as_deref(),
                            plot_latency.as_deref(),
                        ]);
                    }
                    if let mmu_sim::RunError::Stopped(stopped) = &e {
                        if let Err(message) = write_console(&stopped.console, console.as_deref(), format) {
                            eprintln!("error: {message}");
                        }
                        write_stderr(&stopped.stderr);
                    }
                    return fail(&e);
                }
            };
            if let Some(out) = log_out {
                if let Err(e) = out.borrow_mut().flush() {
                    eprintln!("error: writing the --log: {e}");
                    return ExitCode::from(1);
                }
            }
            if let (Some(range), 0) = (log, logged.get()) {
                say(format_args!(
                    "warning: --log {}..{} logged nothing: no access numbered in that range ran \
                     (accesses are numbered from 0 in workload order, the window's skip included)",
                    range.from, range.to
                ));
            }
            if let Some((columns, records)) = &outcome.intervals {
                let written = interval_out
                    .as_deref()
                    .map_or(Ok(()), |path| mmu_sim::window::write_intervals(path, columns, records))
                    .and_then(|()| {
                        plot_intervals
                            .as_deref()
                            .map_or(Ok(()), |path| mmu_sim::window::plot_intervals(path, columns, records))
                    });
                if let Err(e) = written {
                    return fail(&e);
                }
            }
            if let Some(path) = &plot_latency {
                if let Err(e) = mmu_sim::window::plot_latency(path, &outcome.report) {
                    return fail(&e);
                }
            }
            if let Some(warning) = mmu_sim::window::window_warning(
                &loaded.window,
                outcome.report.window.as_ref(),
                outcome.program.is_some(),
            ) {
                say(format_args!("{warning}"));
            }
            let mut status = None;
            if let Some(program) = &outcome.program {
                if let Err(message) = write_console(&program.console, console.as_deref(), format) {
                    eprintln!("error: {message}");
                    return ExitCode::from(2);
                }
                write_stderr(&program.stderr);
                status = Some(program.end.exit_status());
            }
            let mut report = outcome.report;
            if let Some(warning) =
                skipped_lines_warning(outcome.first_bad_line.as_deref(), report.trace.as_ref())
            {
                say(format_args!("{warning}"));
            }
            if let Some(warning) = mmu_sim::skipped_warning(&report) {
                say(format_args!("{warning}"));
            }
            if timing {
                report.timing = Some(outcome.timing.clone());
            }
            let text = match format {
                Format::Table => {
                    let mut text = mmu_sim::render_table(&report, &config.display().to_string());
                    if timing || std::io::stdout().is_terminal() {
                        text.push_str(&mmu_sim::render_timing(&outcome.timing));
                    }
                    text
                }
                Format::Json => {
                    serde_json::to_string_pretty(&report).expect("a report always serializes") + "\n"
                }
                Format::Ron => {
                    ron::ser::to_string_pretty(&report, ron::ser::PrettyConfig::default())
                        .expect("a report always serializes")
                        + "\n"
                }
            };
            match status {
                // The program's failure status wins over a successful write.
                Some(code) if code != 0 => {
                    let _ = emit(text.as_bytes());
                    ExitCode::from(code)
                }
                _ => emit(text.as_bytes()),
            }
        }
        Command::Merge { shards, out } => {
            let mut texts = Vec::new();
            for path in &shards {
                match std::fs::read_to_string(path) {
                    Ok(t) => texts.push(t),
                    Err(source) => return fail(&mmu_sim::RunError::Io { path: path.clone(), source }),
                }
            }
            match mmu_sim::sweep::merge(&texts) {
                Ok(text) => match out {
                    Some(path) => match std::fs::write(&path, text) {
                        Ok(()) => ExitCode::SUCCESS,
                        Err(source) => fail(&mmu_sim::RunError::Io { path, source }),
                    },
                    None => emit(text.as_bytes()),
                },
                Err(e) => fail(&e),
            }
        }
        Command::Sweep {
            config,
            varies,
            sets,
            trace,
            reading,
            jobs,
            format,
            out,
            yes,
            skip,
            warmup,
            max,
            interval,
            interval_out,
            plot,
            x,
            y,
            shard,
            emit_slurm,
            shards,
        } => {
            let flags = mmu_sim::window::WindowFlags { skip, warmup, max, interval };
            let base = mmu_sim::load_config(&config).and_then(|base| {
                // Before check_outputs, which may create a missing output file.
                mmu_sim::refuse_outputs_over_trace(
                    mmu_sim::trace_path(&base, &config, trace.as_deref()).as_deref(),
                    trace.is_some(),
                    &[
                        ("--out", out.as_deref()),
                        ("--interval-out", interval_out.as_deref()),
                        ("--plot", plot.as_deref()),
                    ],
                )?;
                Ok(base)
            });
            let mut base = match base {
                Ok(base) => base,
                Err(e) => return fail(&e),
            };
            if let Some(plot) = &plot {
                if let Err(e) = mmu_sim::window::check_outputs(None, Some(plot)) {
                    return fail(&e);
                }
            }
            let origin = config.display().to_string();
            if let Err(e) = mmu_sim::window::check_outputs(interval_out.as_deref(), None) {
                return fail(&e);
            }
            let points = match flags
                .apply(&mut base.window)
                .and_then(|()| mmu_sim::sweep::grid(&base, &origin, &sets, &varies, yes))
            {
                Ok(points) => points,
                Err(e) => return fail(&e),
            };
            let options = reading.apply(mmu_sim::RunOptions { trace, ..mmu_sim::RunOptions::default() });
            // Before any point runs (or a script is written): trace options with a point that reads no trace.
            if points
                .iter()
                .any(|p| mmu_sim::trace_path(&p.config, &config, options.trace.as_deref()).is_none())
            {
                if let Err(e) = mmu_sim::run::refuse_trace_reading_without_a_trace(&options, &config) {
                    return fail(&e);
                }
            }
            if options.trace.as_deref().is_some_and(|t| t.as_os_str() == "-") {
                return fail(&mmu_sim::RunError::Unsupported(
                    "sweep reads the trace once per point (a shard's too): pass it as a file, not standard input".into(),
                ));
            }
            if let Some(dir) = &emit_slurm {
                let abs = |p: &std::path::Path| std::path::absolute(p).unwrap_or_else(|_| p.to_path_buf());
                let exe = std::env::current_exe().unwrap_or_else(|_| PathBuf::from("mmu-sim"));
                let mut command =
                    vec![exe.display().to_string(), "sweep".into(), abs(&config).display().to_string()];
                for v in &varies {
                    command.push("--vary".into());
                    command.push(format!("{}={}", v.path, v.values.join(",")));
                }
                for s in &sets {
                    command.push("--set".into());
                    command.push(format!("{}={}", s.path, s.value));
                }
                if let Some(t) = &options.trace {
                    command.push("--trace".into());
                    command.push(abs(t).display().to_string());
                }
                command.extend(reading.to_args());
                command.push("--format".into());
                command.push(match format {
                    SweepFormatArg::Csv => "csv".into(),
                    SweepFormatArg::Jsonl => "jsonl".into(),
                });
                for (flag, value) in [("--skip", skip), ("--warmup", warmup), ("--max", max)] {
                    if let Some(v) = value {
                        command.push(flag.into());
                        command.push(v.to_string());
                    }
                }
                if yes {
                    command.push("--yes".into());
                }
                let count = shards.unwrap_or(8).clamp(1, points.len().max(1));
                return match mmu_sim::sweep::emit_slurm(dir, &command, count, points.len()) {
                    Ok(()) => {
                        say(format_args!(
                            "wrote {}/sweep.sbatch ({count} array tasks for {} points) and manifest.txt",
                            dir.display(),
                            points.len()
                        ));
                        ExitCode::SUCCESS
                    }
                    Err(e) => fail(&e),
                };
            }
            let mut points = match shard {
                Some(shard) => shard.select(points),
                None => points,
            };
            // Without --interval-out, the config's intervals would be recorded per
            // point and dropped: none are kept.
            if interval_out.is_none() {
                let mut intervals = false;
                for p in &mut points {
                    intervals |= p.config.window.interval.take().is_some();
                }
                if intervals {
                    say(format_args!(
                        "warning: the config's `window.interval` is ignored: say where its records go with \
                         --interval-out FILE.csv|.jsonl"
                    ));
                }
            } else if points.iter().any(|p| p.config.window.interval.is_none()) {
                return fail(&mmu_sim::RunError::Unsupported(
                    "--interval-out needs --interval N (or the config's `window.interval`)".into(),
                ));
            }
            let bar = std::io::stderr().is_terminal().then(|| {
                let bar = indicatif::ProgressBar::new(points.len() as u64);
                bar.set_style(
                    indicatif::ProgressStyle::with_template(
                        "{elapsed_precise} [{wide_bar}] {pos}/{len} points",
                    )
                    .unwrap_or_else(|_| indicatif::ProgressStyle::default_bar()),
                );
                bar
            });
            let progress = |done: u64| {
                if let Some(bar) = &bar {
                    bar.set_position(done);
                }
            };
            let reports = mmu_sim::sweep::run_points(&points, &varies, &config, &options, jobs, &progress);
            if let Some(bar) = &bar {
                bar.finish_and_clear();
            }
            let outcomes = match reports {
                Ok(outcomes) => outcomes,
                Err(e) => return fail(&e),
            };
            let named = |i: usize| -> String {
                let named: Vec<String> =
                    varies.iter().zip(&points[i].values).map(|(v, x)| format!("{}={x}", v.path)).collect();
                named.join(", ")
            };
            let more = |n: usize| match n {
                0 | 1 => String::new(),
                n => format!(", and {} more grid point(s)", n - 1),
            };
            // Bad lines skipped: each row counts its own (`trace.bad_lines_skipped`);
            // the first such point is said, as `run` says its own.
            let skipped: Vec<(usize, String)> = outcomes
                .iter()
                .enumerate()
                .filter_map(|(i, o)| {
                    skipped_lines_warning(o.first_bad_line.as_deref(), o.report.trace.as_ref())
                        .map(|w| (i, w))
                })
                .collect();
            if let Some((i, warning)) = skipped.first() {
                say(format_args!("{warning} (the point {}){}", named(*i), more(skipped.len())));
            }
            let (reports, intervals): (Vec<_>, Vec<_>) =
                outcomes.into_iter().map(|o| (o.report, o.intervals)).unzip();
            if let Some(path) = &interval_out {
                if let Err(e) = mmu_sim::sweep::write_intervals(path, &varies, &points, &intervals) {
                    return fail(&e);
                }
            }
            // A window that did not fit: said for the first such point, and counted.
            let unfit: Vec<(usize, String)> = points
                .iter()
                .zip(&reports)
                .enumerate()
                .filter_map(|(i, (p, r))| {
                    mmu_sim::window::window_warning(&p.config.window, r.window.as_ref(), r.core.is_some())
                        .map(|w| (i, w))
                })
                .collect();
            if let Some((i, warning)) = unfit.first() {
                say(format_args!(
                    "{} (the point {}){}",
                    warning.replace("the report's counters are", "the row's counters are"),
                    named(*i),
                    more(unfit.len())
                ));
            }
            let format = match format {
                SweepFormatArg::Csv => mmu_sim::sweep::SweepFormat::Csv,
                SweepFormatArg::Jsonl => mmu_sim::sweep::SweepFormat::Jsonl,
            };
            if let (Some(plot), Some(x), Some(y)) = (&plot, &x, &y) {
                if let Err(e) = mmu_sim::sweep::plot(plot, &varies, &points, &reports, x, y) {
                    return fail(&e);
                }
            }
            let text = mmu_sim::sweep::render(&varies, &points, &reports, format);
            match out {
                Some(path) => match std::fs::write(&path, text) {
                    Ok(()) => ExitCode::SUCCESS,
                    Err(source) => fail(&mmu_sim::RunError::Io { path, source }),
                },
                None => emit(text.as_bytes()),
            }
        }
        Command::Mrc(args) => match mrc_command(args) {
            Ok(text) => emit(text.as_bytes()),
            Err(e) => fail(&e),
        },
        Command::Explain {
            config,
            trace,
            access,
            va,
            pid,
            kind,
            format,
            sets,
            trace_format,
            skip_bad_lines,
            unaligned,
        } => {
            let target = match (access, va) {
                (Some(n), _) => cpu_sim::watch::Target::Index(n),
                (None, Some(va)) => match mmu_sim::explain::parse_va(&va) {
                    Ok(vaddr) => cpu_sim::watch::Target::Address {
                        vaddr,
                        pid: pid.map(mmu_core::Pid::new),
                        kind: kind.map(|k| match k {
                            KindArg::R => mmu_core::AccessKind::Read,
                            KindArg::W => mmu_core::AccessKind::Write,
                            KindArg::X => mmu_core::AccessKind::Fetch,
                        }),
                    },
                    Err(message) => {
                        eprintln!("error: --va {message}");
                        return ExitCode::from(2);
                    }
                },
                (None, None) => {
                    eprintln!("error: say which access: --access N or --va ADDR");
                    return ExitCode::from(2);
                }
            };
            let loaded = match mmu_sim::load_config(&config)
                .and_then(|loaded| mmu_sim::overrides::apply(&loaded, &config.display().to_string(), &sets))
            {
                Ok(loaded) => loaded,
                Err(e) => return fail(&e),
            };
            let options = mmu_sim::RunOptions {
                trace,
                trace_format: trace_format.map(TraceFormat::from),
                skip_bad_lines,
                unaligned: unaligned.map(cpu_sim::Unaligned::from),
                ..mmu_sim::RunOptions::default()
            };
            match mmu_sim::explain::explain(&loaded, &config, &options, target) {
                Ok(e) => match format {
                    ExplainFormat::Table => {
                        emit(mmu_sim::explain::render_explanation(&e, &loaded).as_bytes())
                    }
                    ExplainFormat::Json => emit(
                        (serde_json::to_string_pretty(&e).expect("an explanation always serializes") + "\n")
                            .as_bytes(),
                    ),
                },
                Err(e) => fail(&e),
            }
        }
        Command::Inspect { trace, trace_format, skip_bad_lines } => {
            match mmu_sim::inspect_trace(&trace, trace_format.into(), skip_bad_lines) {
                Ok(summary) => {
                    emit(mmu_sim::render_summary(&summary, &trace.display().to_string()).as_bytes())
                }
                Err(e) => fail(&e),
            }
        }
        Command::Convert { input, output, to, trace_format, skip_bad_lines, unaligned } => {
            let options = mmu_sim::convert::ConvertOptions {
                to: match to {
                    ConvertToArg::Binary => mmu_sim::convert::ConvertTo::Binary,
                    ConvertToArg::Native => mmu_sim::convert::ConvertTo::Native,
                },
                format: trace_format.into(),
                skip_bad_lines,
                unaligned: unaligned.into(),
            };
            // SIGINT, SIGTERM or SIGHUP: remove the temporary file beside OUT, exit 128 + the signal.
            if let Err(e) = mmu_sim::convert::exit_on_signals() {
                say(format_args!("warning: an interrupted conversion may leave its temporary file: {e}"));
            }
            match mmu_sim::convert::convert(&input, &output, &options) {
                Ok(done) => {
                    if let Some(first) = &done.first_bad_line {
                        say(format_args!(
                            "warning: skipped {} bad trace lines; the first: {first}",
                            done.stats.bad_lines_skipped
                        ));
                    }
                    say(format_args!(
                        "{}: {} events from {} ({} format) written",
                        output.display(),
                        done.events,
                        input.display(),
                        done.stats.format.name()
                    ));
                    ExitCode::SUCCESS
                }
                // `convert IN - | head`: the reader stopped early; not an error of ours.
                Err(mmu_sim::RunError::StdoutClosed) => ExitCode::SUCCESS,
                Err(e) => fail(&e),
            }
        }
        Command::Generate { config, repeat } => {
            let loaded = match mmu_sim::load_config(&config) {
                Ok(loaded) => loaded,
                Err(e) => return fail(&e),
            };
            let mut out = std::io::stdout().lock();
            match mmu_sim::write_config_workload(&loaded, &config, repeat, &mut out) {
                Ok(_) => ExitCode::SUCCESS,
                Err(mmu_sim::GenerateError::Refused(e)) => fail(&e),
                Err(mmu_sim::GenerateError::Write(e)) => output_failed(&e),
            }
        }
    }
}

/// The arguments of `mmu-sim mrc`: a curve of a TLB (--tlb) or of page
/// replacement (--frames), one of them.
#[derive(clap::Args)]
#[command(group(clap::ArgGroup::new("curve").required(true).args(["tlb", "frames"])))]
// `run`'s help, reworded where a curve is not a report.
#[command(mut_arg("skip_bad_lines", |a| a.help(
    "Skip trace lines that do not parse and warn about the first and how many were skipped (the curve has no \
     column for them), instead of stopping",
)))]
#[command(mut_arg("reader_threads", |a| a.help(
    "Threads reading a trace: 2 decodes it on a second thread while this one replays it (the default on a \
     machine with two or more cores), 1 on the replaying thread; both in batches of 16384 events. The curve is \
     the same either way",
)))]
struct MrcArgs {
    /// The RON config file.
    config: PathBuf,
    /// Read this trace instead of the config's workload.
    #[arg(long)]
    trace: Option<PathBuf>,
    #[command(flatten)]
    reading: TraceReadingArgs,
    /// The TLB whose references are replayed (its name in the config).
    #[arg(long, value_name = "NAME", conflicts_with = "frames")]
    tlb: Option<String>,
    /// Entry counts to report.
    #[arg(
        long,
        value_name = "8,16,...",
        default_value = "8,16,32,64,128,256,512,1024",
        conflicts_with = "frames"
    )]
    sizes: String,
    /// Associativities to report: numbers, or `full` (fully associative).
    #[arg(long, value_name = "1,4,full", default_value = "full", conflicts_with = "frames")]
    ways: String,
    /// Page replacement instead: frame counts to report faults for.
    #[arg(long, value_name = "16,64,...")]
    frames: Option<String>,
    /// The page-replacement policy of --frames: lru or opt.
    #[arg(long, value_enum, default_value_t = PolicyArg::Lru, conflicts_with = "tlb")]
    policy: PolicyArg,
    /// csv (a header, then a row per point) or json.
    #[arg(long, value_enum, default_value_t = MrcFormat::Csv)]
    format: MrcFormat,
    /// Draw misses (or faults) per reference against size as an SVG.
    #[arg(long, value_name = "FILE.svg")]
    plot: Option<PathBuf>,
    /// Replace a config field (PATH=VALUE, RON), as `run --set`.
    #[arg(long = "set", value_name = "PATH=VALUE")]
    sets: Vec<mmu_sim::overrides::Override>,
    /// Read and discard the first N accesses (as `run --skip`).
    #[arg(long, value_name = "N")]
    skip: Option<u64>,
    /// The first N accesses fill the stacks without counting (as `run --warmup`).
    #[arg(long, value_name = "N")]
    warmup: Option<u64>,
    /// Count at most N accesses after the skip and the warm-up (as `run --max`).
    #[arg(long, value_name = "N")]
    max: Option<u64>,
    /// Record the curve every N measured accesses (every N measured page
    /// references with --frames); needs --interval-out.
    #[arg(long, value_name = "N", requires = "interval_out")]
    interval: Option<u64>,
    /// Where the interval records go: CSV if FILE ends in .csv, JSON lines if .jsonl.
    #[arg(long, value_name = "FILE")]
    interval_out: Option<PathBuf>,
    #[command(flatten)]
    threads: ReaderThreadsArg,
}

/// `mmu-sim mrc`: the curve as text (and the plot, if asked).
fn mrc_command(a: MrcArgs) -> Result<String, mmu_sim::RunError> {
    use mmu_sim::RunError;
    let loaded = mmu_sim::load_config(&a.config)?;
    let mut loaded = mmu_sim::overrides::apply(&loaded, &a.config.display().to_string(), &a.sets)?;
    let flags =
        mmu_sim::window::WindowFlags { skip: a.skip, warmup: a.warmup, max: a.max, interval: a.interval };
    flags.apply(&mut loaded.window)?;
    let trace = mmu_sim::trace_path(&loaded, &a.config, a.trace.as_deref());
    a.threads.refuse_without_a_trace(trace.is_some(), &a.config)?;
    // Before check_outputs, which may create a missing output file.
    mmu_sim::refuse_outputs_over_trace(
        trace.as_deref(),
        a.trace.is_some(),
        &[("--interval-out", a.interval_out.as_deref()), ("--plot", a.plot.as_deref())],
    )?;
    mmu_sim::window::check_outputs(a.interval_out.as_deref(), None)?;
    match (&a.interval_out, loaded.window.interval) {
        (None, Some(_)) => {
            loaded.window.interval = None;
            say(format_args!(
                "warning: the config's `window.interval` is ignored: say where its records go with \
                 --interval-out FILE.csv|.jsonl"
            ));
        }
        (Some(_), None) => {
            return Err(RunError::Unsupported(
                "--interval-out needs --interval N (or the config's `window.interval`)".into(),
            ));
        }
        _ => {}
    }
    if let Some(plot) = &a.plot {
        mmu_sim::window::check_outputs(None, Some(plot))?;
    }
    let json = matches!(a.format, MrcFormat::Json);
    let options = a.reading.apply(mmu_sim::RunOptions {
        trace: a.trace.clone(),
        reader_threads: a.threads.threads(),
        ..mmu_sim::RunOptions::default()
    });
    // A run that stops with an error leaves no earlier curve's records or plot as this one's.
    let stopped = |e: RunError| {
        if !e.refused() {
            mmu_sim::window::empty_outputs(&[a.interval_out.as_deref(), a.plot.as_deref()]);
        }
        e
    };
    if let Some(frames) = &a.frames {
        let frames = mmu_sim::mrc::parse_counts(frames)
            .map_err(|e| RunError::Unsupported(format!("--frames: {e}")))?;
        let read = mmu_sim::run::page_references(&loaded, &a.config, &options).map_err(stopped)?;
        if let Some(warning) = skipped_lines_warning(read.first_bad_line.as_deref(), read.trace.as_ref()) {
            say(format_args!("{warning}"));
        }
        let (references, warm) = (read.references, read.warm);
        let counted = references.len() - warm;
        if counted == 0 && (loaded.window.skip > 0 || loaded.window.warmup > 0) {
            say(format_args!(
                "warning: no access touched a page after the {} to skip and the {} of warm-up (the workload may \
                 have ended within them): the curve is empty",
                loaded.window.skip, loaded.window.warmup
            ));
        }
        let (name, faults) = match a.policy {
            PolicyArg::Lru => ("lru", mrc::lru_faults_after(&references, warm, &frames)),
            PolicyArg::Opt => ("opt", mrc::opt_faults_after(&references, warm, &frames)),
        };
        if let (Some(path), Some(every)) = (&a.interval_out, loaded.window.interval) {
            let opt = matches!(a.policy, PolicyArg::Opt);
            let (columns, records) = mmu_sim::mrc::frame_intervals(&references, warm, &frames, opt, every);
            mmu_sim::window::write_intervals(path, &columns, &records)?;
        }
        if let Some(plot) = &a.plot {
            let n = counted.max(1) as f64;
            let series = vec![(
                name.to_string(),
                frames.iter().zip(&faults).map(|(&f, &x)| (f, x as f64 / n)).collect(),
            )];
            mmu_sim::mrc::plot(plot, &format!("{name} page faults per reference"), &series, "frames")?;
        }
        return Ok(mmu_sim::mrc::render_frames(name, &frames, counted as u64, &faults, json));
    }
    let tlb = a.tlb.unwrap_or_default();
    let sizes =
        mmu_sim::mrc::parse_counts(&a.sizes).map_err(|e| RunError::Unsupported(format!("--sizes: {e}")))?;
    let ways =
        mmu_sim::mrc::parse_ways(&a.ways).map_err(|e| RunError::Unsupported(format!("--ways: {e}")))?;
    let geometries = mmu_sim::mrc::geometries(&sizes, &ways)?;
    let options = mmu_sim::RunOptions { observe: Some((tlb.clone(), geometries)), ..options };
    let outcome = mmu_sim::run_with(&loaded, &a.config, &options).map_err(stopped)?;
    if let (Some(path), Some((columns, records))) = (&a.interval_out, &outcome.intervals) {
        mmu_sim::window::write_intervals(path, columns, records)?;
    }
    if let Some(warning) =
        skipped_lines_warning(outcome.first_bad_line.as_deref(), outcome.report.trace.as_ref())
    {
        say(format_args!("{warning}"));
    }
    if let Some(warning) =
        mmu_sim::window::window_warning(&loaded.window, outcome.report.window.as_ref(), false)
    {
        say(format_args!(
            "{}",
            warning.replace("the report's counters are those", "the curve counts the references")
        ));
    }
    let (points, invalidations) = outcome.curve.unwrap_or_default();
    if invalidations > 0 {
        say(format_args!(
            "warning: {invalidations} entries of {tlb} were removed by shootdowns or fences during the run: \
             the curve replays the references as if they had stayed (no stack method models a selective invalidation)"
        ));
    }
    if let Some(plot) = &a.plot {
        let mut series: Vec<(String, Vec<(u64, f64)>)> = Vec::new();
        for p in &points {
            let label = if p.ways == p.entries {
                "fully associative".to_string()
            } else {
                format!("{} ways", p.ways)
            };
            let rate = if p.references == 0 { 0.0 } else { p.misses as f64 / p.references as f64 };
            match series.iter_mut().find(|(l, _)| *l == label) {
                Some((_, s)) => s.push((p.entries, rate)),
                None => series.push((label, vec![(p.entries, rate)])),
            }
        }
        mmu_sim::mrc::plot(plot, &format!("{tlb}: LRU misses per reference"), &series, "entries")?;
    }
    Ok(mmu_sim::mrc::render_tlb(&tlb, &points, json))
}
