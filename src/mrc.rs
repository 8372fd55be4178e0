//! `mmu-sim mrc`: one-pass miss-ratio curves. For a TLB, the LRU misses of every
//! requested geometry from one run (the references the named TLB sees); for page
//! replacement, the faults of LRU or OPT for every number of frames from one
//! replay of the workload (both are stack algorithms: Mattson et al., 1970).

use crate::error::RunError;
use cpu_sim::window::{IntervalColumns, IntervalRecord};
use std::fmt::Write as _;
use std::path::Path;

/// The geometries `sizes` x `ways` (`None` in `ways`: fully associative), in that
/// order, each checked against a TLB's rules.
///
/// # Errors
/// A geometry no TLB can have, named.
pub fn geometries(sizes: &[u64], ways: &[Option<u64>]) -> Result<Vec<mrc::Geometry>, RunError> {
    let mut out = Vec::new();
    for &w in ways {
        for &entries in sizes {
            let g = mrc::Geometry::new(entries, w.unwrap_or(entries));
            g.validate().map_err(|e| {
                RunError::Unsupported(format!(
                    "--sizes {entries} with --ways {}: {e}",
                    w.map_or("full".into(), |w| w.to_string())
                ))
            })?;
            out.push(g);
        }
    }
    Ok(out)
}

/// `--ways 1,4,full`: numbers, or `full`.
pub fn parse_ways(text: &str) -> Result<Vec<Option<u64>>, String> {
    text.split(',')
        .map(|w| match w.trim() {
            "full" => Ok(None),
            n => n.parse().map(Some).map_err(|_| format!("`{n}` is not a number of ways or `full`")),
        })
        .collect()
}

/// `--sizes 8,16,...` or `--frames 16,64,...`: positive numbers.
pub fn parse_counts(text: &str) -> Result<Vec<u64>, String> {
    text.split(',')
        .map(|n| match n.trim().parse::<u64>() {
            Ok(0) => Err("a count must be at least 1".to_string()),
            Ok(v) => Ok(v),
            Err(_) => Err(format!("`{}` is not a count", n.trim())),
        })
        .collect()
}

/// Interval records of a page-replacement curve (`mrc --frames --interval N`):
/// every `every` page references after the first `warmup` (which fill the stack
/// uncounted), the references and the faults of LRU (or OPT, with `opt`) with
/// each of `frames` frames: columns `references`, `faults.<F>`. The sum of the
/// records' faults is the curve's. Each reference's stack distance decides its
/// fault for every frame count at once (Mattson et al., 1970).
pub fn frame_intervals(
    references: &[u64],
    warmup: usize,
    frames: &[u64],
    opt: bool,
    every: u64,
) -> (IntervalColumns, Vec<IntervalRecord>) {
    let mut names = vec!["references".to_string()];
    names.extend(frames.iter().map(|f| format!("faults.{f}")));
    let every = every.max(1);
    let warmup = warmup.min(references.len());
    // The stack distance of each reference (`None`: cold, or deeper than asked).
    let distances: Vec<Option<u64>> = if opt {
        let deepest = frames.iter().copied().max().unwrap_or(0).min(references.len() as u64);
        let mut stack = mrc::OptStack::new(deepest);
        mrc::next_uses(references).into_iter().map(|next| stack.reference(next)).collect()
    } else {
        let mut stack = mrc::LruStack::new();
        references.iter().map(|&key| stack.reference(key)).collect()
    };
    let mut records: Vec<IntervalRecord> = Vec::new();
    for (i, distance) in distances[warmup..].iter().enumerate() {
        if i as u64 % every == 0 {
            let interval = records.len() as u64;
            records.push(IntervalRecord { interval, values: vec![0; names.len()] });
        }
        let Some(record) = records.last_mut() else { continue };
        record.values[0] += 1;
        for (value, &f) in record.values[1..].iter_mut().zip(frames) {
            *value += u64::from(distance.is_none_or(|d| d >= f));
        }
    }
    (IntervalColumns(names), records)
}

/// The TLB curve as CSV (`tlb,sets,ways,entries,references,misses`) or JSON.
pub fn render_tlb(tlb: &str, points: &[mrc::Point], json: bool) -> String {
    if json {
        let rows: Vec<serde_json::Value> = points
            .iter()
            .map(|p| {
                serde_json::json!({"tlb": tlb, "sets": p.sets, "ways": p.ways, "entries": p.entries,
                    "references": p.references, "misses": p.misses})
            })
            .collect();
        return serde_json::to_string_pretty(&rows).unwrap_or_default() + "\n";
    }
    let mut out = String::from("tlb,sets,ways,entries,references,misses\n");
    for p in points {
        let _ = writeln!(out, "{tlb},{},{},{},{},{}", p.sets, p.ways, p.entries, p.references, p.misses);
    }
    out
}

/// The page-replacement curve as CSV (`policy,frames,references,faults`) or JSON.
pub fn render_frames(policy: &str, frames: &[u64], references: u64, faults: &[u64], json: bool) -> String {
    if json {
        let rows: Vec<serde_json::Value> = frames
            .iter()
            .zip(faults)
            .map(|(f, n)| serde_json::json!({"policy": policy, "frames": f, "references": references, "faults": n}))
            .collect();
        return serde_json::to_string_pretty(&rows).unwrap_or_default() + "\n";
    }
    let mut out = String::from("policy,frames,references,faults\n");
    for (f, n) in frames.iter().zip(faults) {
        let _ = writeln!(out, "{policy},{f},{references},{n}");
    }
    out
}

/// Plots misses per reference against size (log 2 axis), one line per associativity.
///
/// # Errors
/// The file cannot be written.
pub fn plot(
    path: &Path,
    title: &str,
    series: &[(String, Vec<(u64, f64)>)],
    x_label: &str,
) -> Result<(), RunError> {
    use plotters::prelude::*;
    let err = |e: String| RunError::Output { path: path.to_path_buf(), message: e };
    let xs = series.iter().flat_map(|(_, s)| s.iter().map(|p| p.0));
    let (lo, hi) = xs.fold((u64::MAX, 1u64), |(lo, hi), x| (lo.min(x), hi.max(x)));
    let ymax = series.iter().flat_map(|(_, s)| s.iter().map(|p| p.1)).fold(0.0f64, f64::max).max(1e-6);
    let root = SVGBackend::new(path, (800, 500)).into_drawing_area();
    root.fill(&WHITE).map_err(|e| err(e.to_string()))?;
    let mut chart = ChartBuilder::on(&root)
        .caption(title, ("sans-serif", 18))
        .margin(10)
        .x_label_area_size(40)
        .y_label_area_size(60)
        .build_cartesian_2d((lo.max(1) as f64..hi.max(2) as f64).log_scale(), 0f64..ymax * 1.1)
        .map_err(|e| err(e.to_string()))?;
    chart
        .configure_mesh()
        .x_desc(x_label)
        .y_desc("misses per reference")
        .draw()
        .map_err(|e| err(e.to_string()))?;
    for (i, (name, points)) in series.iter().enumerate() {
        let color = Palette99::pick(i).to_rgba();
        chart
            .draw_series(LineSeries::new(points.iter().map(|&(x, y)| (x as f64, y)), color))
            .map_err(|e| err(e.to_string()))?
            .label(name.clone())
            .legend(move |(x, y)| PathElement::new(vec![(x, y), (x + 20, y)], color));
    }
    chart.configure_series_labels().border_style(BLACK).draw().map_err(|e| err(e.to_string()))?;
    root.present().map_err(|e| err(e.to_string()))
}
