//! `mmu-sim`: run a simulation from a RON config and print its report.

use clap::{Parser, Subcommand, ValueEnum};
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
        /// Read this native-format trace instead of the config's workload.
        #[arg(long)]
        trace: Option<PathBuf>,
        /// Check every load against a reference memory (the data-integrity oracle);
        /// a mismatch stops the run with an error.
        #[arg(long)]
        check: bool,
        /// How to print the report: a table for people, or the full report as JSON or RON.
        #[arg(long, value_enum, default_value_t = Format::Table)]
        format: Format,
    },
}

#[derive(Clone, Copy, ValueEnum)]
enum Format {
    Table,
    Json,
    Ron,
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    match cli.command {
        Command::Run { config, trace, check, format } => {
            let loaded = mmu_sim::load_config(&config);
            let run = loaded.and_then(|c| mmu_sim::run_config_with(&c, &config, trace.as_deref(), check));
            let report = match run {
                Ok(report) => report,
                Err(e) => {
                    eprintln!("error: {e}");
                    return ExitCode::from(e.exit_code() as u8);
                }
            };
            let text = match format {
                Format::Table => mmu_sim::render_table(&report, &config.display().to_string()),
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
            ExitCode::SUCCESS
        }
    }
}
