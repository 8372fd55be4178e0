//! `mmu-sim`: run a simulation from a RON config and print its report, or write a
//! config's synthetic workload out as a trace.

use clap::{Parser, Subcommand, ValueEnum};
use cpu_sim::{TraceFormat, WorkloadConfig};
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
        /// The trace's format; by default the config's `format`, or detected from
        /// the first lines for a --trace file.
        #[arg(long, value_enum)]
        trace_format: Option<FormatArg>,
        /// Skip trace lines that do not parse, count them in the report
        /// (`trace.bad_lines_skipped`) and warn about the first, instead of stopping.
        #[arg(long)]
        skip_bad_lines: bool,
        /// Add host time and accesses simulated per second to the report (JSON and
        /// RON leave them out otherwise, so that reports stay byte-identical).
        #[arg(long)]
        timing: bool,
        /// How to print the report: a table for people, or the full report as JSON or RON.
        #[arg(long, value_enum, default_value_t = Format::Table)]
        format: Format,
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
    },
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
    /// trace, for `mmu-sim run --trace -` or for keeping.
    Generate {
        /// The RON config file; its workload must be `Synthetic`.
        config: PathBuf,
        /// Write the whole workload this many times over.
        #[arg(long, default_value_t = 1)]
        repeat: u64,
    },
}

#[derive(Clone, Copy, ValueEnum)]
enum Format {
    Table,
    Json,
    Ron,
}

#[derive(Clone, Copy, ValueEnum)]
enum FormatArg {
    Auto,
    Native,
    Lackey,
    Din,
    Course,
}

impl From<FormatArg> for TraceFormat {
    fn from(f: FormatArg) -> Self {
        match f {
            FormatArg::Auto => TraceFormat::Auto,
            FormatArg::Native => TraceFormat::Native,
            FormatArg::Lackey => TraceFormat::Lackey,
            FormatArg::Din => TraceFormat::Din,
            FormatArg::Course => TraceFormat::Course,
        }
    }
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

fn fail(e: &mmu_sim::RunError) -> ExitCode {
    eprintln!("error: {e}");
    ExitCode::from(e.exit_code() as u8)
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    match cli.command {
        Command::Run {
            config,
            trace,
            check,
            trace_format,
            skip_bad_lines,
            timing,
            format,
            elf,
            max_instructions,
            console,
        } => {
            let options = mmu_sim::RunOptions {
                trace,
                trace_format: trace_format.map(TraceFormat::from),
                skip_bad_lines,
                progress: std::io::stderr().is_terminal(),
                check,
                elf,
                max_instructions,
            };
            let outcome = match mmu_sim::load_config(&config)
                .and_then(|loaded| mmu_sim::run_with(&loaded, &config, &options))
            {
                Ok(outcome) => outcome,
                Err(e) => {
                    if let mmu_sim::RunError::Stopped { console: bytes, stderr, .. } = &e {
                        if let Err(message) = write_console(bytes, console.as_deref(), format) {
                            eprintln!("error: {message}");
                        }
                        write_stderr(stderr);
                    }
                    return fail(&e);
                }
            };
            let mut status = ExitCode::SUCCESS;
            if let Some(program) = &outcome.program {
                if let Err(message) = write_console(&program.console, console.as_deref(), format) {
                    eprintln!("error: {message}");
                    return ExitCode::from(2);
                }
                write_stderr(&program.stderr);
                status = ExitCode::from(program.end.exit_status());
            }
            let mut report = outcome.report;
            if let (Some(first), Some(stats)) = (&outcome.first_bad_line, &report.trace) {
                eprintln!("warning: skipped {} bad trace lines; the first: {first}", stats.bad_lines_skipped);
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
            print!("{text}");
            status
        }
        Command::Inspect { trace, trace_format, skip_bad_lines } => {
            match mmu_sim::inspect_trace(&trace, trace_format.into(), skip_bad_lines) {
                Ok(summary) => {
                    print!("{}", mmu_sim::render_summary(&summary, &trace.display().to_string()));
                    ExitCode::SUCCESS
                }
                Err(e) => fail(&e),
            }
        }
        Command::Generate { config, repeat } => {
            let loaded = match mmu_sim::load_config(&config) {
                Ok(loaded) => loaded,
                Err(e) => return fail(&e),
            };
            let WorkloadConfig::Synthetic(generator) = &loaded.workload else {
                eprintln!(
                    "error: {}: the workload is a trace already; `generate` needs a Synthetic one",
                    config.display()
                );
                return ExitCode::from(2);
            };
            let mut out = std::io::stdout().lock();
            match mmu_sim::write_generated(generator, loaded.seed, repeat, &mut out) {
                Ok(_) => ExitCode::SUCCESS,
                // The reader stopped early (`| head`): not an error of ours.
                Err(e) if e.kind() == std::io::ErrorKind::BrokenPipe => ExitCode::SUCCESS,
                Err(e) => {
                    eprintln!("error: writing the trace: {e}");
                    ExitCode::FAILURE
                }
            }
        }
    }
}
