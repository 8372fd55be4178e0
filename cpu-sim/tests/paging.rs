//! Page replacement and swapping on the whole machine, checked against numbers
//! that come from outside mmu-emu: the textbook reference strings (Silberschatz,
//! Galvin and Gagne, "Operating System Concepts", ch. 10: FIFO 15, LRU 12, OPT 9
//! faults; Belady's anomaly 9 vs 10), and the course traces in
//! `data/course-small/` with their published disk reads and writes.

use cpu_sim::testing::ConfigBuilder;
use cpu_sim::{Machine, Report, Workload, parse_config};

/// One process that may touch its whole address space, `frames` data frames (page tables
/// live in their own pinned frames), a swap device, and `policy`.
fn config(policy: &str, frames: u64) -> String {
    ConfigBuilder::default()
        .seed(7)
        .tlb(r#"(l1: [(name: "l1d", serves: Both, entries: 4, ways: 1, hit_latency: 1)])"#)
        .os(format!(
            "(trap_cycles: 100, demand_zero_cycles: 1000, swap_in_cycles: 300, evict_cycles: 50,
                  data_frames: Some({frames}), replacement: {policy},
                  swap: Some((capacity_bytes: 0x100000, read_latency: 1000, write_latency: 2000)),)"
        ))
        .processes(r#"[(name: "p", regions: [(name: "all", base: 0, size: 0x100000000, perms: "rw-")])]"#)
        .text()
}

fn run(config_text: &str, trace: &str) -> Report {
    let config = parse_config(config_text, "test.ron").unwrap();
    let mut m = Machine::new(&config).unwrap();
    m.enable_check();
    if m.needs_future() {
        cpu_sim::runner::learn_future(&mut m, Workload::trace(trace.as_bytes(), "t"), "t", None).unwrap();
    }
    cpu_sim::runner::run(&mut m, Workload::trace(trace.as_bytes(), "t"), "t").unwrap();
    m.report()
}

/// Page faults of any kind that brought a page in.
fn faults(r: &Report) -> u64 {
    r.os.demand_zero + r.os.swap_ins
}

/// A reference string of page numbers as a trace of loads.
fn pages(refs: &[u32]) -> String {
    refs.iter().map(|p| format!("R {:#x}\n", p << 12)).collect()
}

const BOOK: [u32; 20] = [7, 0, 1, 2, 0, 3, 0, 4, 2, 3, 0, 3, 2, 1, 2, 0, 1, 7, 0, 1];

#[test]
fn textbook_reference_string_fifo_15_lru_12_opt_9() {
    let trace = pages(&BOOK);
    for (policy, want) in [("Fifo", 15), ("Lru", 12), ("Opt", 9)] {
        let r = run(&config(policy, 3), &trace);
        assert_eq!(faults(&r), want, "{policy}");
        // Every fault past the third evicts; loads never dirty a page.
        assert_eq!(r.os.evictions, want - 3, "{policy}");
        assert_eq!((r.os.dirty_writebacks, r.os.swap_ins), (0, 0), "{policy}: clean zero pages are dropped");
    }
}

#[test]
fn opt_breaks_ties_among_pages_never_used_again_clean_first_then_lowest_page() {
    // 2 frames. After `W 0x2000`, `R 0x1000`, neither page is used again when
    // `R 0x3000` needs a frame: the rule takes the clean page 1 (nothing to
    // write back) over the dirty page 2, although page 2 sits in the lower frame.
    let r = run(&config("Opt", 2), "W 0x2000\nR 0x1000\nR 0x3000\n");
    assert_eq!((r.os.evictions, r.os.dirty_writebacks, r.os.clean_evictions), (1, 0, 1));
    assert_eq!(r.processes[0].resident_pages, 2);
    assert_eq!(r.processes[0].virtual_runs, 1, "pages 2 and 3 stay: one run");
    // Both clean: the lowest page goes (page 1, in frame 1), not the lowest frame
    // (page 2, in frame 0): pages 2 and 3 stay, one virtual run again.
    let r = run(&config("Opt", 2), "R 0x2000\nR 0x1000\nR 0x3000\n");
    assert_eq!((r.os.evictions, r.os.dirty_writebacks), (1, 0));
    assert_eq!(r.processes[0].virtual_runs, 1, "page 1 was evicted");
    // Both dirty: the lowest page again, written back.
    let r = run(&config("Opt", 2), "W 0x2000\nW 0x1000\nR 0x3000\n");
    assert_eq!((r.os.evictions, r.os.dirty_writebacks), (1, 1));
    assert_eq!(r.processes[0].virtual_runs, 1, "page 1 was evicted");
}

#[test]
fn beladys_anomaly_fifo_9_faults_with_3_frames_10_with_4() {
    let trace = pages(&[1, 2, 3, 4, 1, 2, 5, 1, 2, 3, 4, 5]);
    assert_eq!(faults(&run(&config("Fifo", 3), &trace)), 9);
    assert_eq!(faults(&run(&config("Fifo", 4), &trace)), 10);
    // LRU is a stack algorithm: more frames never hurt.
    assert!(faults(&run(&config("Lru", 4), &trace)) <= faults(&run(&config("Lru", 3), &trace)));
}

/// The course format (`0041f7a0 R`) converted to the native one.
fn course_trace(name: &str) -> String {
    let path = format!("{}/tests/data/course-small/{name}", env!("CARGO_MANIFEST_DIR"));
    let text = std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{path}: {e}"));
    text.lines()
        .filter_map(|l| {
            let mut f = l.split_whitespace();
            Some(format!("{} 0x{}\n", f.nth(1)?, l.split_whitespace().next()?))
        })
        .collect()
}

/// `total disk reads`, `total disk writes` and `page fault rate` of an answer file.
fn course_answer(name: &str) -> (u64, u64, f64) {
    let path = format!("{}/tests/data/course-small/{name}", env!("CARGO_MANIFEST_DIR"));
    let text = std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{path}: {e}"));
    let field = |key: &str| -> String {
        let line = text.lines().find(|l| l.starts_with(key)).unwrap_or_else(|| panic!("{key} in {path}"));
        line[key.len()..].trim().to_string()
    };
    (
        field("total disk reads:").parse().unwrap(),
        field("total disk writes:").parse().unwrap(),
        field("page fault rate:").parse().unwrap(),
    )
}

#[test]
fn course_traces_reproduce_the_published_disk_reads_and_writes() {
    // In the course's simulator every fault reads the page from disk (a first touch
    // included) and every dirty eviction writes it: our demand-zero + swap-in
    // faults, and our dirty write-backs.
    for (trace, frames, policy, answer) in [
        ("trace1", 4, "Clock", "trace1-4frames-clock"),
        ("trace1", 8, "Clock", "trace1-8frames-clock"),
        ("trace1", 8, "Lru", "trace1-8frames-lru"),
        ("trace2", 6, "Lru", "trace2-6frames-lru.ans"),
        ("trace3", 4, "Lru", "trace3-4frames-lru"),
    ] {
        let (reads, writes, rate) = course_answer(answer);
        let r = run(&config(policy, frames), &course_trace(trace));
        assert_eq!(faults(&r), reads, "{answer}: disk reads");
        assert_eq!(r.os.dirty_writebacks, writes, "{answer}: disk writes");
        let ours = faults(&r) as f64 / r.accesses as f64;
        assert!((ours - rate).abs() < 0.00005, "{answer}: fault rate {ours:.4} vs {rate}");
    }
}

#[test]
fn swapping_costs_cycle_by_cycle() {
    // One data frame, FIFO. Fixed DRAM 10, TLB 1 (4 entries, direct mapped),
    // trap 100, demand-zero 1000, swap-in handler 300 + read 1000, eviction handler
    // 50 + write 2000.
    let trace = "W 0x1000 0x2a\nW 0x2000 0x2b\nR 0x1000\n";
    let r = run(&config("Fifo", 1), trace);
    // W 0x1000: cpu 1, TLB 1, root PTE 10 (invalid) -> 12; trap + demand-zero
    //   1100 -> 1112; TLB 1, root 10, leaf 10, A/D write 10, data write 10 -> 1153.
    // W 0x2000: cpu 1, TLB 1, root 10, leaf 10 (invalid) -> 1175; trap 100, evict
    //   page 1 (dirty: 50 + 2000), demand-zero 1000 -> 4325; TLB 1, root 10, leaf 10,
    //   A/D write 10, data write 10 -> 4366.
    // R 0x1000: cpu 1, TLB 1 (page 1's entry was shot down), root 10, leaf 10
    //   (invalid) -> 4388; trap 100, evict page 2 (dirty: 50 + 2000), swap-in
    //   300 + 1000 -> 7838; TLB 1, root 10, leaf 10, A write 10, data read 10 -> 7879.
    assert_eq!(r.cycles, 7879);
    assert_eq!((r.os.demand_zero, r.os.swap_ins, r.os.evictions, r.os.dirty_writebacks), (2, 1, 2, 2));
    assert_eq!((r.os.swap_reads, r.os.swap_writes, r.os.swap_slots_used), (1, 2, 2));
    assert_eq!(r.os.shootdowns, 2, "each eviction invalidated one PTE and its TLB entry");
    let check = r.check.unwrap();
    assert_eq!((check.loads_checked, check.stores_recorded), (1, 2), "the load saw 0x2a back from swap");
}

#[test]
fn a_clean_page_with_a_swap_copy_is_dropped_not_written() {
    // Page 1 is written, evicted (written out), read back (clean, copy in swap),
    // then evicted again: dropped without a second write.
    let trace = "W 0x1000 0x5\nR 0x2000\nR 0x1000\nR 0x2000\nR 0x1000\n";
    let r = run(&config("Fifo", 1), trace);
    assert_eq!(r.os.evictions, 4);
    assert_eq!(r.os.dirty_writebacks, 1);
    assert_eq!(r.os.clean_evictions, 3);
    assert_eq!(r.os.swap_ins, 2, "page 1 comes back from swap twice");
    assert_eq!(r.os.demand_zero, 3, "page 2 is never written: each touch is zero-filled anew");
    assert_eq!(r.check.unwrap().loads_checked, 4);
}

#[test]
fn swap_full_is_a_clear_error() {
    let text = config("Fifo", 1)
        .replace("capacity_bytes: 0x100000, read_latency", "capacity_bytes: 0x1000, read_latency");
    let config = parse_config(&text, "test.ron").unwrap();
    let mut m = Machine::new(&config).unwrap();
    let err =
        cpu_sim::runner::run(&mut m, Workload::trace("W 0x1000\nW 0x2000\nW 0x3000\n".as_bytes(), "t"), "t")
            .unwrap_err();
    assert_eq!(
        err.to_string(),
        "swap device full: all 1 slots hold pages when process 0 touched 0x00003000 and a dirty page had to be \
         written out; enlarge `os.swap.capacity_bytes` or `dram.capacity_bytes`"
    );
}

#[test]
fn without_swap_running_out_of_frames_is_a_clear_error() {
    let text = config("Fifo", 1)
        .replace("swap: Some((capacity_bytes: 0x100000, read_latency: 1000, write_latency: 2000)),", "");
    let config = parse_config(&text, "test.ron").unwrap();
    let mut m = Machine::new(&config).unwrap();
    let err = cpu_sim::runner::run(&mut m, Workload::trace("W 0x1000\nW 0x2000\n".as_bytes(), "t"), "t")
        .unwrap_err();
    assert!(err.to_string().contains("no swap device is configured (`os.swap`)"), "{err}");
}

#[test]
fn clock_gives_a_recently_used_page_a_second_chance() {
    // 3 frames: 1 2 3 fill them (A set on each). 4: the hand clears 1, 2, 3 and
    // evicts 1 (frame 0); hand -> frame 1. Touch 2: its TLB entry was dropped with
    // the A clear, so the walker sets A again. 5: frame 1 (page 2) has A -> cleared,
    // frame 2 (page 3) has no A -> evicted. FIFO would evict 2 instead.
    let trace = pages(&[1, 2, 3, 4, 2, 5, 2]);
    let clock = run(&config("Clock", 3), &trace);
    assert_eq!(faults(&clock), 5, "1 2 3 4 5 fault; 2 stays");
    assert_eq!(clock.os.accessed_clears, 4);
    let fifo = run(&config("Fifo", 3), &trace);
    assert_eq!(faults(&fifo), 6, "FIFO evicts 2 for 5, then faults on 2");
}

#[test]
fn a_page_table_may_push_a_data_page_out_and_its_cost_is_charged() {
    // No `data_frames`: four frames serve tables and data alike. The root (frame 0),
    // one level-0 table and two data pages fill them; touching another 4 MiB region
    // needs a second level-0 table, so a data page goes to swap for it.
    let unified = |write_latency: u64| {
        config("Fifo", 1)
            .replace("data_frames: Some(1), ", "")
            .replace("capacity_bytes: 0x100000, timing", "capacity_bytes: 0x4000, timing")
            .replace("write_latency: 2000", &format!("write_latency: {write_latency}"))
    };
    let trace = "W 0x1000 1\nW 0x2000 2\nW 0x400000 3\nR 0x1000\nR 0x2000\nR 0x400000\n";
    let slow = run(&unified(2000), trace);
    let fast = run(&unified(1000), trace);
    assert!(slow.os.evictions >= 2 && slow.os.dirty_writebacks >= 2, "{:?}", slow.os);
    assert_eq!(slow.os.page_table_frames, 3, "the root and two level-0 tables, pinned");
    // Every dirty write-back, including the one made for a table frame, costs its
    // write latency: the runs differ by exactly 1000 per write-back.
    assert_eq!(slow.os.dirty_writebacks, fast.os.dirty_writebacks);
    assert_eq!(slow.cycles - fast.cycles, 1000 * slow.os.dirty_writebacks);
    assert_eq!(slow.check.unwrap().loads_checked, 3);
}
