//! The window of a run on the command line (`--skip`, `--warmup`, `--max`,
//! `--interval`), and its interval records written out: CSV or JSON lines, and an
//! SVG plot of miss rates and cycles per access over time.

use crate::error::RunError;
use cpu_sim::window::{IntervalColumns, IntervalRecord, Window, WindowReport};
use std::fmt::Write as _;
use std::fs::OpenOptions;
use std::path::Path;

/// The window flags; each overrides the config's `window` field of that name.
#[derive(Clone, Copy, Debug, Default)]
pub struct WindowFlags {
    /// `--skip N`.
    pub skip: Option<u64>,
    /// `--warmup N`.
    pub warmup: Option<u64>,
    /// `--max N`.
    pub max: Option<u64>,
    /// `--interval N`.
    pub interval: Option<u64>,
}

impl WindowFlags {
    /// The config's window with the flags given applied.
    ///
    /// # Errors
    /// A zero `--max` or `--interval`.
    pub fn apply(&self, window: &mut Window) -> Result<(), RunError> {
        window.skip = self.skip.unwrap_or(window.skip);
        window.warmup = self.warmup.unwrap_or(window.warmup);
        window.max = self.max.or(window.max);
        window.interval = self.interval.or(window.interval);
        window.validate().map_err(|e| RunError::Unsupported(format!("--{}: {}", e.field, e.message)))
    }
}

/// A warning when the window did not fit the run: the workload ended during the
/// skip or the warm-up, or exactly at the end of either (a skip, or skip and
/// warm-up, of the workload's whole length), so that nothing was measured.
/// `program` says the window counted instructions of an RV32 program (which
/// runs functionally during a skip) rather than accesses.
///
/// Whether anything was measured is the report's `measured`, not a total: a
/// run's totals can include what was skipped or warmed up. No skip and no
/// warm-up (a `max` or an `interval` alone) is never warned about: an empty
/// workload measured nothing because there was nothing, not because of the
/// window.
pub fn window_warning(window: &Window, report: Option<&WindowReport>, program: bool) -> Option<String> {
    let report = report?;
    let (what, unit) = if program { ("program", "instructions") } else { ("workload", "accesses") };
    if report.skipped < window.skip {
        let ran = if program { "nothing was measured (it ran functionally)" } else { "nothing ran" };
        return Some(format!(
            "warning: the {what} ended after {} {unit}, within the {} to skip: {ran}",
            report.skipped, window.skip
        ));
    }
    if report.warmup < window.warmup {
        return Some(format!(
            "warning: the {what} ended during the warm-up ({} of {} {unit}): nothing was measured, \
             and the report's counters are those of the partial warm-up",
            report.warmup, window.warmup
        ));
    }
    if report.measured == 0 && window.warmup > 0 {
        return Some(format!(
            "warning: the {what} ended with the warm-up ({} {unit} after {} skipped): nothing was measured",
            report.warmup, report.skipped
        ));
    }
    if report.measured == 0 && window.skip > 0 {
        let ran = if program { " (it ran functionally)" } else { "" };
        return Some(format!(
            "warning: the {what} ended after {} {unit}, exactly the {} to skip: nothing was measured{ran}",
            report.skipped, window.skip
        ));
    }
    None
}

/// Checks, before the run, that the interval output files have the right
/// extensions and can be written, so a bad path does not cost the run. The
/// files are written only after the run: one that did not exist is created
/// here and removed at once, and an existing one is opened but not emptied,
/// so that a run refused after this check (a missing trace, a workload the
/// run does not take) leaves no file of its own and an existing one as it was.
///
/// # Errors
/// A wrong extension, or a file that cannot be written (exit 2 either way).
pub fn check_outputs(interval_out: Option<&Path>, plot: Option<&Path>) -> Result<(), RunError> {
    for (path, allowed, flag) in
        [(interval_out, &["csv", "jsonl"][..], "--interval-out"), (plot, &["svg"][..], "--plot-intervals")]
    {
        let Some(path) = path else { continue };
        let extension = path.extension().and_then(|e| e.to_str()).unwrap_or("");
        if !allowed.contains(&extension) {
            return Err(RunError::Unsupported(format!(
                "{flag} {}: the file must end in .{}",
                path.display(),
                allowed.join(" or .")
            )));
        }
        check_writable(path).map_err(|source| RunError::Io { path: path.to_path_buf(), source })?;
    }
    Ok(())
}

/// Whether `path` can be written, leaving it as it was: an existing file is
/// opened without being emptied; a missing one is created (through a symbolic
/// link, as `File::create` does) and removed.
fn check_writable(path: &Path) -> std::io::Result<()> {
    let existed = path.exists();
    OpenOptions::new().write(true).create(true).truncate(false).open(path)?;
    if !existed {
        // The file itself: removing a link would leave the file it names.
        let created = std::fs::canonicalize(path).unwrap_or_else(|_| path.to_path_buf());
        std::fs::remove_file(created)?;
    }
    Ok(())
}

/// Empties (or creates) the output files of a run that stopped with an error
/// (exit 1), as `--log-file` is, so none is left holding an earlier run's
/// records as if they were this one's. Best effort: the run's own error is
/// the one reported.
pub fn empty_outputs(paths: &[Option<&Path>]) {
    for path in paths.iter().flatten() {
        let _ = std::fs::File::create(path);
    }
}

/// Writes the interval records to `path`: CSV when it ends in `.csv` (a header,
/// then a row per interval), JSON lines when it ends in `.jsonl`.
///
/// # Errors
/// Another extension, or the file cannot be written.
pub fn write_intervals(
    path: &Path,
    columns: &IntervalColumns,
    records: &[IntervalRecord],
) -> Result<(), RunError> {
    let mut out = String::new();
    match path.extension().and_then(|e| e.to_str()) {
        Some("csv") => {
            let _ = writeln!(out, "interval,{}", columns.0.join(","));
            for r in records {
                let values: Vec<String> = r.values.iter().map(u64::to_string).collect();
                let _ = writeln!(out, "{},{}", r.interval, values.join(","));
            }
        }
        Some("jsonl") => {
            for r in records {
                let mut line = format!("{{\"interval\":{}", r.interval);
                for (name, value) in columns.0.iter().zip(&r.values) {
                    let _ = write!(line, ",\"{name}\":{value}");
                }
                let _ = writeln!(out, "{line}}}");
            }
        }
        _ => {
            return Err(RunError::Unsupported(format!(
                "--interval-out {}: the file must end in .csv or .jsonl",
                path.display()
            )));
        }
    }
    std::fs::write(path, out)
        .map_err(|source| RunError::Output { path: path.to_path_buf(), message: source.to_string() })
}

/// Draws miss rates (misses per lookup, per TLB) and cycles per access (per
/// instruction, for a program's intervals) over the intervals as an SVG.
///
/// # Errors
/// The file cannot be written or drawn.
pub fn plot_intervals(
    path: &Path,
    columns: &IntervalColumns,
    records: &[IntervalRecord],
) -> Result<(), RunError> {
    use plotters::prelude::*;
    let col = |name: &str| columns.0.iter().position(|c| c == name);
    // A program's intervals count instructions: draw cycles per instruction.
    let (per, unit) =
        if col("instructions").is_some() { ("instruction", "instructions") } else { ("access", "accesses") };
    let (Some(accesses), Some(cycles)) = (col(unit), col("cycles")) else {
        return Err(RunError::Unsupported("interval records lack accesses or cycles".into()));
    };
    let tlbs: Vec<(String, usize, usize)> = columns
        .0
        .iter()
        .filter_map(|c| c.strip_prefix("tlb.").and_then(|r| r.strip_suffix(".lookups")))
        .filter_map(|name| {
            Some((
                name.to_string(),
                col(&format!("tlb.{name}.lookups"))?,
                col(&format!("tlb.{name}.misses"))?,
            ))
        })
        .collect();
    let ratio = |a: u64, b: u64| if b == 0 { 0.0 } else { a as f64 / b as f64 };
    let n = records.len().max(1) as f64;
    let draw_error = |e: String| RunError::Output { path: path.to_path_buf(), message: e };
    let root = SVGBackend::new(path, (900, 640)).into_drawing_area();
    root.fill(&WHITE).map_err(|e| draw_error(e.to_string()))?;
    let (upper, lower) = root.split_vertically(320);
    let max_rate = records
        .iter()
        .flat_map(|r| tlbs.iter().map(|&(_, l, m)| ratio(r.values[m], r.values[l])))
        .fold(0.0f64, f64::max)
        .max(0.01);
    let mut chart = ChartBuilder::on(&upper)
        .caption("TLB miss rate per interval", ("sans-serif", 18))
        .margin(10)
        .x_label_area_size(35)
        .y_label_area_size(60)
        .build_cartesian_2d(0f64..n, 0f64..max_rate * 1.1)
        .map_err(|e| draw_error(e.to_string()))?;
    chart
        .configure_mesh()
        .x_desc("interval")
        .y_desc("misses per lookup")
        .draw()
        .map_err(|e| draw_error(e.to_string()))?;
    for (i, (name, l, m)) in tlbs.iter().enumerate() {
        let color = Palette99::pick(i).to_rgba();
        chart
            .draw_series(LineSeries::new(
                records.iter().map(|r| (r.interval as f64, ratio(r.values[*m], r.values[*l]))),
                color,
            ))
            .map_err(|e| draw_error(e.to_string()))?
            .label(name.clone())
            .legend(move |(x, y)| PathElement::new(vec![(x, y), (x + 20, y)], color));
    }
    chart.configure_series_labels().border_style(BLACK).draw().map_err(|e| draw_error(e.to_string()))?;
    let max_cpa =
        records.iter().map(|r| ratio(r.values[cycles], r.values[accesses])).fold(0.0f64, f64::max).max(1.0);
    let mut chart = ChartBuilder::on(&lower)
        .caption(format!("cycles per {per} per interval"), ("sans-serif", 18))
        .margin(10)
        .x_label_area_size(35)
        .y_label_area_size(60)
        .build_cartesian_2d(0f64..n, 0f64..max_cpa * 1.1)
        .map_err(|e| draw_error(e.to_string()))?;
    chart
        .configure_mesh()
        .x_desc("interval")
        .y_desc(format!("cycles per {per}"))
        .draw()
        .map_err(|e| draw_error(e.to_string()))?;
    chart
        .draw_series(LineSeries::new(
            records.iter().map(|r| (r.interval as f64, ratio(r.values[cycles], r.values[accesses]))),
            BLUE,
        ))
        .map_err(|e| draw_error(e.to_string()))?;
    root.present().map_err(|e| draw_error(e.to_string()))?;
    Ok(())
}

/// Draws a run's walk-latency histogram (its non-empty quarter-octave buckets)
/// as an SVG bar chart: `run --plot-latency`.
///
/// # Errors
/// The file cannot be written.
pub fn plot_latency(path: &Path, report: &cpu_sim::Report) -> Result<(), RunError> {
    use plotters::prelude::*;
    let err = |e: String| RunError::Output { path: path.to_path_buf(), message: e };
    let buckets: Vec<_> = report.walker.latency.buckets().collect();
    let top = buckets.iter().map(|b| b.count).max().unwrap_or(1).max(1);
    let root = SVGBackend::new(path, (800, 480)).into_drawing_area();
    root.fill(&WHITE).map_err(|e| err(e.to_string()))?;
    let labels: Vec<String> = buckets.iter().map(|b| format!("{}..{}", b.from, b.to)).collect();
    let mut chart = ChartBuilder::on(&root)
        .caption(format!("page-walk latency ({} walks)", report.walker.walks), ("sans-serif", 18))
        .margin(10)
        .x_label_area_size(50)
        .y_label_area_size(70)
        .build_cartesian_2d(0..buckets.len().max(1), 0u64..top + top / 10 + 1)
        .map_err(|e| err(e.to_string()))?;
    chart
        .configure_mesh()
        .x_desc("walk latency (cycles)")
        .y_desc("walks")
        .x_labels(buckets.len().max(1))
        .x_label_formatter(&|i| labels.get(*i).cloned().unwrap_or_default())
        .draw()
        .map_err(|e| err(e.to_string()))?;
    chart
        .draw_series(
            buckets
                .iter()
                .enumerate()
                .map(|(i, b)| Rectangle::new([(i, 0), (i + 1, b.count)], BLUE.filled())),
        )
        .map_err(|e| err(e.to_string()))?;
    root.present().map_err(|e| err(e.to_string()))
}
