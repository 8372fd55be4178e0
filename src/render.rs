//! The report as a table for people.

use cpu_sim::{HostTiming, Report};
use std::fmt::Write as _;

/// The host-throughput line/// The host-throughput line the table shows on a terminal or with `--timing`.
pub fn render_timing(timing: &HostTiming) -> String {
    match timing.instructions_per_second {
        Some(ips) => format!(
            "  host        {:.3} s, {:.2} M instructions/s, {:.2} M accesses/s\n",
            timing.seconds,
            ips / 1e6,
            timing.accesses_per_second / 1e6
        ),
        None => format!(
            "  host        {:.3} s, {:.2} M accesses/s\n",
            timing.seconds,
            timing.accesses_per_second / 1e6
        ),
    }
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

/// Accesses the core executed: all but those of processes stopped by a
/// segmentation fault (unaligned ones count: they cost their cycles).
pub fn executed_accesses(report: &Report) -> u64 {
    report.accesses.saturating_sub(report.skipped_accesses)
}

/// The warning for a trace run that skipped most of its accesses, because
/// the process making them was stopped by a segmentation fault: the report
/// then describes a small part of the trace, which is easy to miss.
pub fn skipped_warning(report: &Report) -> Option<String> {
    if let Some(trace) = &report.trace {
        if report.accesses == 0 && report.window.is_none() {
            return Some(format!(
                "warning: the trace held no accesses ({} lines read, {} bad lines skipped): nothing ran",
                trace.lines, trace.bad_lines_skipped
            ));
        }
    }
    if report.trace.is_none() || report.skipped_accesses <= report.accesses / 2 {
        return None;
    }
    let first = report.segfaults.first().map_or(String::new(), |f| {
        format!("; the first: process {} (`{}`) at {} ({})", f.pid, f.process, f.vaddr, f.reason)
    });
    Some(format!(
        "warning: {} of the trace's {} accesses were skipped, because their process was stopped by a \
         segmentation fault{first}; do the config's regions cover the trace's addresses (`mmu-sim inspect`)?",
        report.skipped_accesses, report.accesses
    ))
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
        // Skipped accesses (of a stopped process) cost nothing: divide by the others.
        per(r.cycles, executed_accesses(r))
    );
    if let Some(core) = &r.core {
        let c = &core.counts;
        let _ = writeln!(
            s,
            "  instructions {:>8}   CPI {}   traps {}",
            core.instructions,
            core.cpi.map_or("-".to_string(), |x| format!("{x:.2}")),
            c.traps.total()
        );
        let _ = writeln!(
            s,
            "  alu {} mul/div {} loads {} stores {} branches {} jumps {} system {} atomics {} fences {} syscalls {}",
            c.alu,
            c.mul_div,
            c.loads,
            c.stores,
            c.branches,
            c.jumps,
            c.system,
            c.atomics,
            c.fences,
            c.syscalls
        );
    }
    if r.skipped_accesses > 0 || r.context_switches > 0 {
        let _ = writeln!(s, "  skipped {:>13}   context switches {}", r.skipped_accesses, r.context_switches);
    }
    render_causes(&mut s, r);
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
        r.walker.walks,
        r.walker.pte_reads,
        per(r.walker.pte_reads, r.walker.walks),
        r.walker.pte_writes,
        per(r.walker.walk_cycles, r.walker.walks),
        r.walker.faulting_walks
    );
    if r.walker.walks > 0 {
        let _ = writeln!(s, "  walk latency (cycles)");
        let widest = r.walker.latency.buckets().map(|b| b.count).max().unwrap_or(1);
        for b in r.walker.latency.buckets() {
            let bar = "#".repeat(((b.count * 40).div_ceil(widest)) as usize);
            let _ = writeln!(
                s,
                "  {:>12}..{:<10} {:>10} {:>8}  {bar}",
                b.from,
                b.to,
                b.count,
                percent(b.count, r.walker.walks)
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
    // A bare-metal program has no OS model: its own page tables are not counted here.
    let bare_metal = r.core.as_ref().is_some_and(|c| c.environment == rv32::Environment::BareMetal);
    if bare_metal {
        let _ = writeln!(s, "  os          none: the bare-metal program owns its page tables and its faults");
    } else {
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
    }
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
    if r.processes.len() > 1 || r.os.evictions > 0 {
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
    if let Some(w) = &r.window {
        let warmup = if r.config.window.warmup == 0 {
            String::new()
        } else if w.warmup < r.config.window.warmup {
            // Cut short: the counters are the partial warm-up's, never reset.
            let what = if r.core.is_some() { "program" } else { "workload" };
            format!("{} warm-up (the {what} ended within it: counters not reset), ", w.warmup)
        } else {
            format!("{} warm-up (counters reset after it), ", w.warmup)
        };
        // A program's window counts instructions retired (its skip ran functionally).
        let unit =
            if r.core.is_some() { "instructions skipped (run functionally)" } else { "accesses skipped" };
        let _ = writeln!(
            s,
            "  window      {} {unit}, {warmup}{} measured{}",
            w.skipped,
            w.measured,
            if w.stopped_at_max { ", stopped at --max" } else { "" }
        );
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
    s.push_str(LEGEND);
    s
}

/// `cycles_by_cause` with each cause's share of `cycles` (`idle` only when the
/// core slept: it can only on the bare-metal board).
fn render_causes(s: &mut String, r: &Report) {
    let _ = writeln!(s, "\n  {:<16} {:>14} {:>8}", "cycles by cause", "cycles", "share");
    for (name, cycles) in r.cycles_by_cause.causes() {
        if name == "idle" && cycles == 0 {
            continue;
        }
        let _ =
            writeln!(s, "  {:<16} {:>14} {:>8}", name.replace('_', " "), cycles, percent(cycles, r.cycles));
    }
}

/// What the table counts where: printed under it.
pub const LEGEND: &str = "
  legend
  cycles by cause  each cycle counted once; the causes add up to `cycles`. cpu: the core's own
                   cycles per access (per instruction or trap on the RV32 core); tlb lookups: each
                   translation until its TLB answer or its walk; page walks: walk-cache probe, PTE
                   reads and A/D writes in DRAM; dram data: the data word (a device register on
                   the virt board); fault handling: the OS's trap and handler work; swap io: the
                   swap device's read and write latencies; context switches: their configured cost;
                   idle: wfi until the timer. A wait for a busy DRAM bank counts under its request.
  lookups          may exceed accesses: an L1 miss looks up the L2 too, a store that finds its L1
                   entry with D clear looks up the L2 again, and an access retried after a page
                   fault looks up every level again (counted in retry_lookups).
  page tables      bytes of DRAM set aside for page tables at the end of the run (flat: the whole
                   table); touched: the 4 KiB chunks of them holding a non-zero word at the end
                   (live processes' tables), what the tables cost when only the parts used exist.
  peak vs end      swap slots: `used` at the end of the run, `peak` the most at once; frames,
                   free runs and page-table bytes are end-of-run values; every other counter
                   counts events over the measured part of the run.
";
