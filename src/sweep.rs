//! `mmu-sim sweep`: one run per point of a grid of config values, in parallel,
//! one CSV row or JSON line per point in a fixed order.
//!
//! The grid is the Cartesian product of the `--vary PATH=V1,V2,...` lists, the
//! first `--vary` varying slowest. Every point is built and validated before any
//! runs. Points run on a rayon pool of `--jobs` threads; their rows are written in
//! grid order whatever the number of threads, so the output is byte-identical for
//! any `--jobs`.

use crate::error::RunError;
use crate::overrides::{Override, apply};
use crate::run::{RunOptions, RunOutcome, run_with};
use cpu_sim::window::{IntervalColumns, IntervalRecord};
use cpu_sim::{MachineConfig, Report};
use rayon::prelude::*;
use std::fmt::Write as _;
use std::path::Path;

/// Points a sweep runs without `--yes`.
pub const GRID_LIMIT: usize = 4096;

/// One `--vary PATH=V1,V2,...`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Vary {
    /// The field's path.
    pub path: String,
    /// Its values, RON each.
    pub values: Vec<String>,
}

impl std::str::FromStr for Vary {
    type Err = String;
    /// `PATH=V1,V2,...`: the list splits at top-level commas only, so `Some((1, 2))`
    /// stays one value.
    fn from_str(text: &str) -> Result<Self, String> {
        let (path, list) = text.split_once('=').ok_or_else(|| {
            format!("`{text}` is not PATH=V1,V2,... (for example tlb.l1[0].entries=16,32,64)")
        })?;
        let values = split_top_level(list)?;
        if path.trim().is_empty() || values.is_empty() || values.iter().any(String::is_empty) {
            return Err(format!("`{text}` needs a PATH and non-empty values"));
        }
        Ok(Self { path: path.trim().to_string(), values })
    }
}

/// Splits at commas outside brackets, parentheses, braces and strings.
fn split_top_level(list: &str) -> Result<Vec<String>, String> {
    let mut out = Vec::new();
    let (mut depth, mut in_string, mut escaped) = (0i32, false, false);
    let mut current = String::new();
    for c in list.chars() {
        if in_string {
            current.push(c);
            match (escaped, c) {
                (true, _) => escaped = false,
                (false, '\\') => escaped = true,
                (false, '"') => in_string = false,
                (false, _) => {}
            }
            continue;
        }
        match c {
            '"' => in_string = true,
            '(' | '[' | '{' => depth += 1,
            ')' | ']' | '}' => depth -= 1,
            ',' if depth == 0 => {
                out.push(current.trim().to_string());
                current.clear();
                continue;
            }
            _ => {}
        }
        if depth < 0 {
            return Err(format!("`{list}` closes a bracket it never opened"));
        }
        current.push(c);
    }
    if depth != 0 || in_string {
        return Err(format!("`{list}` leaves a bracket or a string open"));
    }
    out.push(current.trim().to_string());
    Ok(out)
}

/// How to print the rows.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum SweepFormat {
    /// A header line, then one comma-separated row per point.
    Csv,
    /// One JSON object per point and line.
    Jsonl,
}

/// One point of the grid: the values it takes, and its validated config.
pub struct Point {
    /// The value of each varied path, in `--vary` order.
    pub values: Vec<String>,
    /// The config with those values.
    pub config: MachineConfig,
}

/// Every point of the grid, built and validated.
///
/// # Errors
/// A grid over the limit without `yes`, or the first point whose config is
/// invalid, named with its values.
pub fn grid(
    base: &MachineConfig,
    origin: &str,
    sets: &[Override],
    varies: &[Vary],
    yes: bool,
) -> Result<Vec<Point>, RunError> {
    let size = varies.iter().try_fold(1usize, |n, v| n.checked_mul(v.values.len())).unwrap_or(usize::MAX);
    if size > GRID_LIMIT && !yes {
        return Err(RunError::Unsupported(format!(
            "the grid has {size} points, more than the limit of {GRID_LIMIT}: pass --yes to run it anyway"
        )));
    }
    let mut points = Vec::with_capacity(size);
    for index in 0..size {
        // The first --vary varies slowest.
        let mut rest = index;
        let mut chosen = vec![String::new(); varies.len()];
        for (i, v) in varies.iter().enumerate().rev() {
            chosen[i] = v.values[rest % v.values.len()].clone();
            rest /= v.values.len();
        }
        let mut all = sets.to_vec();
        all.extend(
            varies
                .iter()
                .zip(&chosen)
                .map(|(v, value)| Override { path: v.path.clone(), value: value.clone() }),
        );
        let config = apply(base, origin, &all).map_err(|e| {
            let named: Vec<String> =
                varies.iter().zip(&chosen).map(|(v, x)| format!("{}={x}", v.path)).collect();
            RunError::Unsupported(format!("grid point {} ({}) is invalid: {e}", index, named.join(", ")))
        })?;
        points.push(Point { values: chosen, config });
    }
    Ok(points)
}

/// A run's interval columns and records (see [`RunOutcome::intervals`]).
///
/// [`RunOutcome::intervals`]: crate::RunOutcome::intervals
pub type Intervals = (IntervalColumns, Vec<IntervalRecord>);

/// Runs every point on `jobs` threads (0: all cores) and returns each run's
/// outcome (its report, its interval records when the point's window asks for
/// them, the first bad trace line it skipped), in grid order. `progress` is
/// called with the points done.
///
/// # Errors
/// The first point (in grid order) whose run failed, named with its values.
pub fn run_points(
    points: &[Point],
    varies: &[Vary],
    config_path: &Path,
    options: &RunOptions,
    jobs: usize,
    progress: &(dyn Fn(u64) + Sync),
) -> Result<Vec<RunOutcome>, RunError> {
    let pool = rayon::ThreadPoolBuilder::new()
        .num_threads(jobs)
        .build()
        .map_err(|e| RunError::Unsupported(format!("--jobs {jobs}: {e}")))?;
    let done = std::sync::atomic::AtomicU64::new(0);
    let results: Vec<Result<RunOutcome, RunError>> = pool.install(|| {
        points
            .par_iter()
            .map(|p| {
                let out = run_with(&p.config, config_path, options);
                progress(done.fetch_add(1, std::sync::atomic::Ordering::Relaxed) + 1);
                out
            })
            .collect()
    });
    results
        .into_iter()
        .zip(points)
        .map(|(r, p)| {
            r.map_err(|e| {
                let named: Vec<String> =
                    varies.iter().zip(&p.values).map(|(v, x)| format!("{}={x}", v.path)).collect();
                RunError::Unsupported(format!("the run at {} failed: {e}", named.join(", ")))
            })
        })
        .collect()
}

/// Every scalar counter of a report, flattened with dots, in report order: the
/// sections after the config (`accesses`, `cycles`, `tlb.<name>.misses`, ...),
/// leaving out lists (histograms, segfaults, processes) and host timing.
pub fn flatten(report: &Report) -> Vec<(String, serde_json::Value)> {
    fn walk(prefix: &str, v: &serde_json::Value, out: &mut Vec<(String, serde_json::Value)>) {
        match v {
            serde_json::Value::Object(map) => {
                for (k, v) in map {
                    let key = if prefix.is_empty() { k.clone() } else { format!("{prefix}.{k}") };
                    walk(&key, v, out);
                }
            }
            serde_json::Value::Number(_) | serde_json::Value::Bool(_) | serde_json::Value::Null => {
                out.push((prefix.to_string(), v.clone()));
            }
            serde_json::Value::Array(_) | serde_json::Value::String(_) => {}
        }
    }
    let value = serde_json::to_value(report).unwrap_or_default();
    let mut out = Vec::new();
    if let serde_json::Value::Object(map) = &value {
        for (k, v) in map {
            if matches!(k.as_str(), "seed" | "config" | "timing" | "check") {
                continue;
            }
            walk(k, v, &mut out);
        }
    }
    out
}

/// The sweep's output: a header and one row per point (CSV), or one JSON object
/// per point (JSON lines), columns the varied paths then the report's counters.
pub fn render(varies: &[Vary], points: &[Point], reports: &[Report], format: SweepFormat) -> String {
    let flat: Vec<Vec<(String, serde_json::Value)>> = reports.iter().map(flatten).collect();
    // Columns: the union over points, in first-seen order (the same for every
    // point unless a varied value changes the report's shape, e.g. TLB names).
    let mut columns: Vec<String> = Vec::new();
    for f in &flat {
        for (k, _) in f {
            if !columns.contains(k) {
                columns.push(k.clone());
            }
        }
    }
    let cell = |v: Option<&serde_json::Value>| match v {
        None | Some(serde_json::Value::Null) => String::new(),
        Some(v) => v.to_string(),
    };
    let mut out = String::new();
    match format {
        SweepFormat::Csv => {
            let header: Vec<String> = varies
                .iter()
                .map(|v| csv_field(&v.path))
                .chain(columns.iter().map(|c| csv_field(c)))
                .collect();
            let _ = writeln!(out, "{}", header.join(","));
            for (p, f) in points.iter().zip(&flat) {
                let row: Vec<String> = p
                    .values
                    .iter()
                    .map(|v| csv_field(v))
                    .chain(columns.iter().map(|c| cell(f.iter().find(|(k, _)| k == c).map(|(_, v)| v))))
                    .collect();
                let _ = writeln!(out, "{}", row.join(","));
            }
        }
        SweepFormat::Jsonl => {
            for (p, f) in points.iter().zip(&flat) {
                let mut map = serde_json::Map::new();
                for (v, value) in varies.iter().zip(&p.values) {
                    map.insert(v.path.clone(), serde_json::Value::String(value.clone()));
                }
                for c in &columns {
                    let v =
                        f.iter().find(|(k, _)| k == c).map_or(serde_json::Value::Null, |(_, v)| v.clone());
                    map.insert(c.clone(), v);
                }
                let _ = writeln!(out, "{}", serde_json::Value::Object(map));
            }
        }
    }
    out
}

/// Writes every point's interval records to `path`, points in grid order, each
/// row led by the point's varied values: CSV when `path` ends in `.csv` (the
/// varied paths, `interval`, then the union of the points' columns, empty where a
/// point has no such column), JSON lines when it ends in `.jsonl`.
///
/// # Errors
/// Another extension, or the file cannot be written.
pub fn write_intervals(
    path: &Path,
    varies: &[Vary],
    points: &[Point],
    intervals: &[Option<Intervals>],
) -> Result<(), RunError> {
    let mut columns: Vec<&str> = Vec::new();
    for (names, _) in intervals.iter().flatten() {
        for name in &names.0 {
            if !columns.contains(&name.as_str()) {
                columns.push(name);
            }
        }
    }
    let mut out = String::new();
    let csv = match path.extension().and_then(|e| e.to_str()) {
        Some("csv") => true,
        Some("jsonl") => false,
        _ => {
            return Err(RunError::Unsupported(format!(
                "--interval-out {}: the file must end in .csv or .jsonl",
                path.display()
            )));
        }
    };
    if csv {
        let header: Vec<String> = varies
            .iter()
            .map(|v| csv_field(&v.path))
            .chain(std::iter::once("interval".to_string()))
            .chain(columns.iter().map(|c| csv_field(c)))
            .collect();
        let _ = writeln!(out, "{}", header.join(","));
    }
    for (p, point_intervals) in points.iter().zip(intervals) {
        let Some((names, records)) = point_intervals else { continue };
        // Where each of the union's columns is in this point's values.
        let at: Vec<Option<usize>> = columns.iter().map(|c| names.0.iter().position(|n| n == c)).collect();
        for r in records {
            if csv {
                let row: Vec<String> = p
                    .values
                    .iter()
                    .map(|v| csv_field(v))
                    .chain(std::iter::once(r.interval.to_string()))
                    .chain(
                        at.iter()
                            .map(|i| i.and_then(|i| r.values.get(i)).map_or(String::new(), u64::to_string)),
                    )
                    .collect();
                let _ = writeln!(out, "{}", row.join(","));
            } else {
                let mut map = serde_json::Map::new();
                for (v, value) in varies.iter().zip(&p.values) {
                    map.insert(v.path.clone(), serde_json::Value::String(value.clone()));
                }
                map.insert("interval".into(), r.interval.into());
                for (c, i) in columns.iter().zip(&at) {
                    if let Some(value) = i.and_then(|i| r.values.get(i)) {
                        map.insert((*c).to_string(), (*value).into());
                    }
                }
                let _ = writeln!(out, "{}", serde_json::Value::Object(map));
            }
        }
    }
    std::fs::write(path, out)
        .map_err(|source| RunError::Output { path: path.to_path_buf(), message: source.to_string() })
}

/// A CSV field, quoted when it holds a comma, a quote or a newline.
fn csv_field(text: &str) -> String {
    if text.contains([',', '"', '\n']) {
        format!("\"{}\"", text.replace('"', "\"\""))
    } else {
        text.to_string()
    }
}

/// Draws `y` (a counter) against `x` (a varied path) as an SVG, one line per
/// combination of the other varied paths; a log-2 axis when every x is a positive
/// number (sizes).
///
/// # Errors
/// `x` is not varied, `y` is no counter of the report, or the file cannot be written.
pub fn plot(
    path: &Path,
    varies: &[Vary],
    points: &[Point],
    reports: &[Report],
    x: &str,
    y: &str,
) -> Result<(), RunError> {
    use plotters::prelude::*;
    let xi = varies.iter().position(|v| v.path == x).ok_or_else(|| {
        RunError::Unsupported(format!("--x {x}: not one of the varied paths ({})", varied_names(varies)))
    })?;
    let mut series: Vec<(String, Vec<(f64, f64)>)> = Vec::new();
    let numeric = points.iter().all(|p| p.values[xi].parse::<f64>().is_ok_and(|v| v > 0.0));
    for (p, r) in points.iter().zip(reports) {
        let flat = flatten(r);
        let value = flat.iter().find(|(k, _)| k == y).and_then(|(_, v)| v.as_f64()).ok_or_else(|| {
            RunError::Unsupported(format!(
                "--y {y}: not a counter of the report (try `cycles` or `tlb.<name>.misses`)"
            ))
        })?;
        let xv = if numeric {
            p.values[xi].parse::<f64>().unwrap_or(0.0)
        } else {
            points.iter().position(|q| q.values[xi] == p.values[xi]).unwrap_or(0) as f64
        };
        let label: Vec<String> = varies
            .iter()
            .zip(&p.values)
            .enumerate()
            .filter(|(i, _)| *i != xi)
            .map(|(_, (v, value))| format!("{}={value}", v.path))
            .collect();
        let label = if label.is_empty() { y.to_string() } else { label.join(", ") };
        match series.iter_mut().find(|(l, _)| *l == label) {
            Some((_, s)) => s.push((xv, value)),
            None => series.push((label, vec![(xv, value)])),
        }
    }
    let err = |e: String| RunError::Output { path: path.to_path_buf(), message: e };
    let (lo, hi) = series
        .iter()
        .flat_map(|(_, s)| s.iter().map(|p| p.0))
        .fold((f64::MAX, f64::MIN), |(a, b), x| (a.min(x), b.max(x)));
    let ymax = series.iter().flat_map(|(_, s)| s.iter().map(|p| p.1)).fold(0.0f64, f64::max).max(1.0);
    let root = SVGBackend::new(path, (800, 500)).into_drawing_area();
    root.fill(&WHITE).map_err(|e| err(e.to_string()))?;
    let mut builder = ChartBuilder::on(&root);
    builder
        .caption(format!("{y} against {x}"), ("sans-serif", 18))
        .margin(10)
        .x_label_area_size(40)
        .y_label_area_size(80);
    let hi = if hi > lo { hi } else { lo + 1.0 };
    macro_rules! draw {
        ($chart:expr) => {{
            let mut chart = $chart.map_err(|e| err(e.to_string()))?;
            chart.configure_mesh().x_desc(x).y_desc(y).draw().map_err(|e| err(e.to_string()))?;
            for (i, (name, pts)) in series.iter().enumerate() {
                let color = Palette99::pick(i).to_rgba();
                chart
                    .draw_series(LineSeries::new(pts.iter().copied(), color))
                    .map_err(|e| err(e.to_string()))?
                    .label(name.clone())
                    .legend(move |(x, y)| PathElement::new(vec![(x, y), (x + 20, y)], color));
            }
            chart.configure_series_labels().border_style(BLACK).draw().map_err(|e| err(e.to_string()))?;
        }};
    }
    if numeric {
        draw!(builder.build_cartesian_2d((lo..hi).log_scale().base(2.0), 0f64..ymax * 1.1));
    } else {
        draw!(builder.build_cartesian_2d(lo..hi, 0f64..ymax * 1.1));
    }
    root.present().map_err(|e| err(e.to_string()))
}

fn varied_names(varies: &[Vary]) -> String {
    varies.iter().map(|v| v.path.as_str()).collect::<Vec<_>>().join(", ")
}

/// `--shard I/N`: the points whose index is I modulo N, a deterministic slice.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Shard {
    /// This shard, `0..count`.
    pub index: usize,
    /// Shards in all.
    pub count: usize,
}

impl std::str::FromStr for Shard {
    type Err = String;
    fn from_str(text: &str) -> Result<Self, String> {
        let bad = || format!("`{text}` is not I/N with 0 <= I < N (for example 0/4)");
        let (i, n) = text.split_once('/').ok_or_else(bad)?;
        let (index, count): (usize, usize) =
            (i.trim().parse().map_err(|_| bad())?, n.trim().parse().map_err(|_| bad())?);
        if count == 0 || index >= count {
            return Err(bad());
        }
        Ok(Self { index, count })
    }
}

impl Shard {
    /// Keeps the points of this shard, in grid order.
    pub fn select(self, points: Vec<Point>) -> Vec<Point> {
        points.into_iter().enumerate().filter(|(i, _)| i % self.count == self.index).map(|(_, p)| p).collect()
    }
}

/// Joins the outputs of shards `0..N` (in that order) into exactly the bytes of
/// the unsharded sweep: the header once (CSV), then the rows taken round-robin,
/// as the shards took the points.
///
/// # Errors
/// Shards whose headers differ, or whose row counts cannot come from one grid.
pub fn merge(shards: &[String]) -> Result<String, RunError> {
    let csv = shards.iter().any(|s| s.lines().next().is_some_and(|l| !l.starts_with('{')));
    let mut header: Option<&str> = None;
    let mut rows: Vec<Vec<&str>> = Vec::new();
    for (i, text) in shards.iter().enumerate() {
        let mut lines = text.lines();
        if csv {
            let h = lines.next().unwrap_or("");
            match header {
                None => header = Some(h),
                Some(first) if first != h => {
                    return Err(RunError::Unsupported(format!(
                        "shard {i} has another header than shard 0: they are not shards of one sweep"
                    )));
                }
                Some(_) => {}
            }
        }
        rows.push(lines.collect());
    }
    // Round-robin: shard k holds points k, k + N, ...: earlier shards have at most
    // one row more than later ones.
    for (i, pair) in rows.windows(2).enumerate() {
        if pair[1].len() > pair[0].len() || pair[0].len() > pair[1].len() + 1 {
            return Err(RunError::Unsupported(format!(
                "shard {} has {} rows and shard {} has {}: shards of one grid differ by at most one, earlier ones first",
                i,
                pair[0].len(),
                i + 1,
                pair[1].len()
            )));
        }
    }
    let mut out = String::new();
    if let Some(h) = header {
        out.push_str(h);
        out.push('\n');
    }
    let longest = rows.first().map_or(0, Vec::len);
    for r in 0..longest {
        for shard in &rows {
            if let Some(line) = shard.get(r) {
                out.push_str(line);
                out.push('\n');
            }
        }
    }
    Ok(out)
}

/// Writes `DIR/sweep.sbatch`, a SLURM job-array script whose task I runs
/// `--shard I/N` of this sweep into `DIR/shard-I.out`, and `DIR/manifest.txt`,
/// which says what was emitted and how to merge. `command` is the sweep's own
/// command line with absolute paths.
///
/// # Errors
/// The directory or files cannot be written.
pub fn emit_slurm(dir: &Path, command: &[String], shards: usize, points: usize) -> Result<(), RunError> {
    let io = |source: std::io::Error| RunError::Io { path: dir.to_path_buf(), source };
    std::fs::create_dir_all(dir).map_err(io)?;
    let dir = dir.canonicalize().map_err(io)?;
    let quoted: Vec<String> = command.iter().map(|a| shell_quote(a)).collect();
    let dir_q = shell_quote(&dir.display().to_string());
    let script = format!(
        "#!/bin/bash\n\
         # Written by `mmu-sim sweep --emit-slurm`: one array task per shard of the grid.\n\
         #SBATCH --job-name=mmu-sim-sweep\n\
         #SBATCH --array=0-{last}\n\
         #SBATCH --ntasks=1\n\
         #SBATCH --cpus-per-task=1\n\
         #SBATCH --output={dir}/slurm-%A_%a.log\n\
         set -euo pipefail\n\
         exec {cmd} --jobs 1 --shard \"$SLURM_ARRAY_TASK_ID/{shards}\" --out {dir_q}/shard-\"$SLURM_ARRAY_TASK_ID\".out\n",
        last = shards - 1,
        dir = dir.display(),
        cmd = quoted.join(" "),
    );
    let script_path = dir.join("sweep.sbatch");
    std::fs::write(&script_path, script).map_err(io)?;
    let files: Vec<String> =
        (0..shards).map(|i| dir.join(format!("shard-{i}.out")).display().to_string()).collect();
    let merge_cmd = format!(
        "{} merge {} --out {}",
        shell_quote(&command[0]),
        files.iter().map(|f| shell_quote(f)).collect::<Vec<_>>().join(" "),
        shell_quote(&dir.join("sweep.out").display().to_string())
    );
    let manifest = format!(
        "# mmu-sim sweep over SLURM\n\
         points: {points}\n\
         shards: {shards} (array tasks 0-{last}; task I runs the points whose index is I modulo {shards})\n\
         sweep: {cmd}\n\
         script: {script}\n\
         submit: sbatch {script}\n\
         outputs: {outputs}\n\
         merge: {merge_cmd}\n",
        last = shards - 1,
        cmd = quoted.join(" "),
        script = script_path.display(),
        outputs = files.join(" "),
    );
    std::fs::write(dir.join("manifest.txt"), manifest).map_err(io)?;
    Ok(())
}

fn shell_quote(arg: &str) -> String {
    if !arg.is_empty() && arg.chars().all(|c| c.is_ascii_alphanumeric() || "/._-=:,+".contains(c)) {
        arg.to_string()
    } else {
        format!("'{}'", arg.replace('\'', "'\\''"))
    }
}
