//! `mmu-sim inspect`: what a trace holds, read without simulating it.

use crate::error::RunError;
use crate::io::open_trace;
use cpu_sim::{SimError, TraceEvent, TraceFormat, TraceReader};
use std::fmt::Write as _;
use std::path::Path;
use std::sync::Arc;
use std::sync::atomic::AtomicU64;
use std::time::Instant;

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
    /// Native accesses whose address is not word aligned (a run counts each as
    /// an alignment fault); the other formats' are in `stats.unaligned_records`.
    pub unaligned_accesses: u64,
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
    let source = open_trace(path, Arc::new(AtomicU64::new(0)))?;
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
                if !access.vaddr.is_word_aligned() {
                    summary.unaligned_accesses += 1;
                }
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
    let unit = if t.format == TraceFormat::Binary { "records" } else { "lines" };
    let _ = writeln!(
        s,
        "  {unit:<9} {} ({} bad lines skipped, {} unaligned records)",
        t.lines,
        t.bad_lines_skipped,
        t.unaligned_records + summary.unaligned_accesses
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
        "  read in   {:.3} s, {:.1} M {unit}/s",
        summary.seconds,
        t.lines as f64 / summary.seconds.max(1e-9) / 1e6
    );
    s
}
