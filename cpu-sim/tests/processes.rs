//! Several processes: scheduling by quantum, sharing, protection, fragmentation,
//! and long seeded multi-process runs with heavy swapping under the oracle.

use cpu_sim::testing::{ConfigBuilder, os_swapping};
use cpu_sim::{Machine, Report, Workload, parse_config};

fn fnv(values: &[u32]) -> u64 {
    mmu_core::testing::fnv1a(values.iter().copied())
}

/// Four processes, each over 64 private pages and a 16-page object they all
/// share: 272 pages of working set for 32 data frames (8.5 times memory).
fn mix(policy: &str, quantum: &str, accesses: u64) -> String {
    let region = |base: u32| {
        format!(
            r#"[(name: "heap", base: {base:#x}, size: 0x40000, perms: "rw-"),
                (name: "shm", base: {:#x}, size: 0x10000, perms: "rw-", shared: Some("shm"))]"#,
            base + 0x40000
        )
    };
    let program = |base: u32| {
        format!("Uniform(base: {base:#x}, bytes: 0x50000, accesses: {accesses}, write_percent: 40)")
    };
    // Process 3 puts everything at another address.
    let bases = [0x1000_0000u32, 0x1000_0000, 0x1000_0000, 0x2000_0000];
    let processes: Vec<String> =
        bases.iter().enumerate().map(|(i, &b)| format!("(name: \"p{i}\", regions: {})", region(b))).collect();
    let programs: Vec<String> = bases.iter().map(|&b| program(b)).collect();
    ConfigBuilder::default()
        .seed(11)
        .tlb(
            r#"(l1: [(name: "l1d", serves: Both, entries: 16, ways: 4, hit_latency: 1)],
                l2: Some((name: "l2", serves: Both, entries: 64, ways: 4, hit_latency: 5)))"#,
        )
        .dram("(capacity_bytes: 0x100000, timing: Fixed(latency: 50))")
        .os(format!(
            "(trap_cycles: 200, demand_zero_cycles: 2000, swap_in_cycles: 1000, evict_cycles: 500,
              context_switch_cycles: 300, data_frames: Some(32), replacement: {policy},
              swap: Some((capacity_bytes: 0x200000, read_latency: 20000, write_latency: 30000)))"
        ))
        .processes(format!("[{}]", processes.join(", ")))
        .workload(format!("Processes(quantum: {quantum}, programs: [{}])", programs.join(", ")))
        .text()
}

fn run_synthetic_checked(text: &str) -> Report {
    let config = parse_config(text, "test.ron").unwrap_or_else(|e| panic!("{e}"));
    let mut m = Machine::new(&config).unwrap();
    m.enable_check();
    cpu_sim::runner::run_synthetic(&mut m, &mut |_| {}).unwrap_or_else(|e| panic!("{e}"));
    m.report()
}

#[test]
fn long_multi_process_runs_with_heavy_swapping_lose_nothing_under_every_policy() {
    let mut faults = Vec::new();
    for policy in ["Fifo", "Lru", "Clock", "Random", "Opt"] {
        let r = run_synthetic_checked(&mix(policy, "Accesses(700)", 6000));
        let check = r.check.clone().unwrap();
        assert_eq!(r.accesses, 4 * 6000, "{policy}");
        assert_eq!(check.loads_checked + check.stores_recorded, r.accesses, "{policy}: every access checked");
        assert!(r.os.swap_ins > 1000 && r.os.dirty_writebacks > 1000, "{policy}: heavy swapping: {:?}", r.os);
        assert_eq!(r.os.exits, 4, "{policy}");
        // Exits free private pages and page tables; the shared object outlives its
        // mappers (as a file would), so some of its 16 pages may stay resident.
        assert_eq!(r.os.page_table_frames, 0, "{policy}");
        assert!(r.os.data_frames <= 16, "{policy}: only shared pages stay: {}", r.os.data_frames);
        // Each process runs ceil(6000 / 700) = 9 slices (8 full, one of 400 that
        // ends in its exit), round-robin: 36 slices, and the first needs no switch.
        assert_eq!(r.context_switches, 35, "{policy}");
        faults.push((policy, r.os.demand_zero + r.os.swap_ins));
    }
    let opt = faults[4].1;
    assert!(faults.iter().all(|&(_, f)| opt <= f), "OPT is optimal: {faults:?}");
}

#[test]
fn a_quantum_in_cycles_switches_by_time() {
    let r = run_synthetic_checked(&mix("Clock", "Cycles(200000)", 3000));
    assert_eq!(r.accesses, 12_000);
    assert!(r.context_switches > 4, "{} switches", r.context_switches);
    assert!(r.check.unwrap().loads_checked > 0);
}

#[test]
fn opt_with_a_quantum_in_cycles_is_refused() {
    let err = parse_config(&mix("Opt", "Cycles(1000)", 10), "x.ron").unwrap_err().to_string();
    assert!(err.contains("field `os.replacement`") && err.contains("Accesses"), "{err}");
}

#[test]
fn each_context_switch_costs_its_configured_cycles() {
    // The same run with switches at 300 and at 0 cycles differs by exactly
    // switches x 300 (the switches themselves, and everything else, are equal).
    let costly = run_synthetic_checked(&mix("Lru", "Accesses(700)", 2000));
    let free = run_synthetic_checked(
        &mix("Lru", "Accesses(700)", 2000).replace("context_switch_cycles: 300", "context_switch_cycles: 0"),
    );
    assert_eq!(costly.context_switches, free.context_switches);
    assert_eq!(costly.cycles - free.cycles, 300 * costly.context_switches);
}

fn trace_config(frames: u64, processes: &str) -> String {
    ConfigBuilder::default()
        .tlb(r#"(l1: [(name: "l1d", serves: Both, entries: 4, ways: 1, hit_latency: 1)])"#)
        .os(os_swapping(frames, "Lru"))
        .processes(format!("[{processes}]"))
        .text()
}

fn run_trace(text: &str, trace: &str) -> Report {
    let config = parse_config(text, "test.ron").unwrap_or_else(|e| panic!("{e}"));
    let mut m = Machine::new(&config).unwrap();
    m.enable_check();
    cpu_sim::runner::run(&mut m, Workload::trace(trace.as_bytes(), "t"), "t")
        .unwrap_or_else(|e| panic!("{e}"));
    m.report()
}

/// The seed's sharing example: A and B both map C's memory, not each other's.
/// B maps it read-only and at another address.
const SHARING: &str = r#"
    (name: "A", regions: [(name: "own", base: 0x1000, size: 0x1000, perms: "rw-"),
                          (name: "c", base: 0x8000, size: 0x2000, perms: "rw-", shared: Some("C"))]),
    (name: "B", regions: [(name: "own", base: 0x1000, size: 0x1000, perms: "rw-"),
                          (name: "c", base: 0x20000, size: 0x2000, perms: "r--", shared: Some("C"))]),
    (name: "C", regions: [(name: "mem", base: 0x8000, size: 0x2000, perms: "rw-", shared: Some("C"))]),
"#;

#[test]
fn a_write_by_one_sharer_is_read_by_the_other_and_private_pages_stay_private() {
    let trace = "W 0x9004 0x77\nW 0x1000 0xa\nP 1\nW 0x1000 0xb\nR 0x21004\nR 0x1000\nP 2\nR 0x9004\n";
    let r = run_trace(&trace_config(8, SHARING), trace);
    // B reads A's 0x77 through its own mapping, then its own 0xb; C reads 0x77.
    assert_eq!(r.data_checksum, fnv(&[0x77, 0xb, 0x77]));
    assert_eq!(r.os.shared_maps, 2, "B and C map the page A brought in");
    assert_eq!(r.os.demand_zero, 3, "A's page, the shared page, B's page");
    assert!(r.segfaults.is_empty());
}

#[test]
fn shared_pages_survive_swapping_and_a_dirty_bit_in_any_mapper_counts() {
    // Two data frames. A writes the shared page (only A's PTE has D set), B maps
    // it clean; private pages then push it out: it must be written back because
    // of A's D bit, and B reads it back from swap.
    let trace = "W 0x8000 0x5\nP 1\nR 0x20000\nW 0x1000 0x6\nP 0\nW 0x1000 0x7\nP 1\nR 0x20000\n";
    let r = run_trace(&trace_config(2, SHARING), trace);
    assert_eq!(r.data_checksum, fnv(&[0x5, 0x5]));
    assert!(r.os.swap_ins >= 1, "{:?}", r.os);
    assert!(r.os.shootdowns >= 2, "evicting a shared page unmaps it in both processes: {:?}", r.os);
}

#[test]
fn a_protection_violation_stops_only_the_offender() {
    // B writes through its read-only view of C: B is stopped, A and C go on.
    let trace = "W 0x8000 0x1\nP 1\nR 0x20000\nW 0x20000 0x2\nR 0x1000\nP 0\nR 0x8000\nP 2\nR 0x8000\n";
    let r = run_trace(&trace_config(8, SHARING), trace);
    assert_eq!(r.segfaults.len(), 1);
    let s = &r.segfaults[0];
    assert_eq!((s.pid.as_u32(), s.process.as_str(), s.vaddr.as_u32()), (1, "B", 0x20000));
    assert_eq!(format!("{:?}/{:?}", s.access, s.fault), "Write/Protection");
    assert_eq!(r.skipped_accesses, 1, "B's later load is skipped");
    // A and C still read the 1 that A wrote; B's store never landed.
    assert_eq!(r.data_checksum, fnv(&[0x1, 0x1, 0x1]));
    assert_eq!(r.processes[1].state, "Stopped");
    assert_eq!(r.processes[0].state, "Running");
}

#[test]
fn the_seeds_fragmentation_example() {
    // Four data frames. A takes one page, B two: [A, B, B, O]. A ends (killed by
    // touching memory it does not own), leaving [O, B, B, O]: two frames free, but
    // not two in a row. C needs two contiguous pages and gets frames 0 and 3.
    let processes = r#"
        (name: "A", regions: [(name: "mem", base: 0x10000, size: 0x1000, perms: "rw-")]),
        (name: "B", regions: [(name: "mem", base: 0x10000, size: 0x2000, perms: "rw-")]),
        (name: "C", regions: [(name: "mem", base: 0x10000, size: 0x2000, perms: "rw-")]),
    "#;
    let trace = "W 0x10000 1\nP 1\nW 0x10000 2\nW 0x11000 3\nP 0\nR 0x0\nP 2\nW 0x10000 4\nW 0x11000 5\n";
    let r = run_trace(&trace_config(4, processes), trace);
    let (b, c) = (&r.processes[1], &r.processes[2]);
    assert_eq!((b.resident_pages, b.virtual_runs, b.physical_runs), (2, 1, 1), "B sits in frames 1, 2");
    assert_eq!((c.resident_pages, c.virtual_runs, c.physical_runs), (2, 1, 2), "C is split: frames 0, 3");
    assert_eq!(r.processes[0].state, "Stopped");
    assert_eq!(
        (r.os.frames_free, r.os.largest_free_run),
        (r.os.frames_total - 4 - r.os.page_table_frames, 0)
    );
    assert_eq!(r.os.evictions, 0, "no swapping needed: paging alone solved fragmentation");
}

#[test]
fn a_dead_sharers_dirty_bit_is_not_lost_with_its_page_table() {
    // A dirties the shared page, then is killed: its page table (holding the only
    // D bit) is freed. When the page is later evicted it must still be written
    // back, or C would read zero.
    let trace = "W 0x8000 0x99\nR 0x0\nP 2\nR 0x8000\nP 1\nW 0x1000 1\nR 0x20000\n";
    let r = run_trace(&trace_config(1, SHARING), trace);
    assert_eq!(r.segfaults.len(), 1, "A is killed");
    // C reads 0x99; B's private store evicts the shared page (one frame): it is
    // dirty through A's dead PTE; B's load brings it back from swap: 0x99 again.
    assert_eq!(r.data_checksum, fnv(&[0x99, 0x99]));
    assert_eq!((r.os.dirty_writebacks, r.os.swap_ins), (2, 1), "{:?}", r.os);
}

/// Three processes, each with an 8 MiB superpage region (two 4 MiB superpages) and
/// a 64 KiB region of base pages, on 2048 data frames (two superpages' worth); two
/// run over their superpages, the third over its base pages: four superpages of
/// working set for room for two, with base pages competing for the frames. A 4 KiB-only L1 dTLB splinters the
/// superpages the any-size L2 holds whole.
fn superpage_mix(format: &str, policy: &str, accesses: u64) -> String {
    let process = |i: u32| {
        format!(
            r#"(name: "p{i}", regions: [
                (name: "huge", base: 0x10000000, size: 0x800000, perms: "rw-", superpages: true),
                (name: "small", base: 0x20000000, size: 0x10000, perms: "rw-"),
            ])"#
        )
    };
    let program = |region: u32, bytes: u32| {
        format!("Uniform(base: {region:#x}, bytes: {bytes:#x}, accesses: {accesses}, write_percent: 40)")
    };
    format!(
        r#"(
    seed: 5,
    cpu: (cycles_per_access: 1),
    mmu: (format: {format}),
    tlb: (l1: [(name: "l1d", serves: Data, entries: 16, ways: 4, hit_latency: 1, page_sizes: Only([4096]))],
          l2: Some((name: "l2", serves: Both, entries: 64, ways: 4, hit_latency: 5))),
    dram: (capacity_bytes: 0x1000000, timing: Fixed(latency: 50)),
    os: (trap_cycles: 200, demand_zero_cycles: 10, swap_in_cycles: 10, evict_cycles: 500,
         data_frames: Some(2048), replacement: {policy},
         swap: Some((capacity_bytes: 0x2000000, read_latency: 100, write_latency: 100))),
    processes: [{}, {}, {}],
    workload: Processes(quantum: Accesses(10), programs: [{}, {}, {}]),
)"#,
        process(0),
        process(1),
        process(2),
        program(0x1000_0000, 0x80_0000),
        program(0x1000_0000, 0x80_0000),
        program(0x2000_0000, 0x1_0000),
    )
}

#[test]
fn superpages_swapped_whole_lose_nothing_under_every_policy() {
    for format in ["Sv32", "X86_32(pse: true)"] {
        for policy in ["Fifo", "Lru", "Clock", "Random", "Opt"] {
            let r = run_synthetic_checked(&superpage_mix(format, policy, 60));
            let check = r.check.clone().unwrap();
            assert_eq!(check.loads_checked + check.stores_recorded, r.accesses, "{format} {policy}");
            let os = &r.os;
            // Four superpages for room for two: 24 to 35 whole maps per run.
            assert!(os.superpage_maps >= 20 && os.superpage_evictions >= 19, "{format} {policy}: {os:?}");
            assert!(os.swap_ins > 0 && os.dirty_writebacks > 0, "{format} {policy}: {os:?}");
            // Pages are evicted only whole or one by one: every eviction is counted
            // as written back or dropped.
            assert_eq!(os.evictions, os.dirty_writebacks + os.clean_evictions, "{format} {policy}");
            // The L2 held megapage entries; the L1 their 4 KiB pieces.
            assert!(r.tlb.0[1].1.hits > 0, "{format} {policy}");
        }
    }
}

#[test]
fn superpages_need_a_format_with_level_1_leaves_and_aligned_private_regions() {
    let text = superpage_mix("Sv32", "Lru", 10);
    for (from, to, why) in [
        ("mmu: (format: Sv32)", "mmu: (format: X86_32(pse: false))", "two-level format"),
        ("size: 0x800000, perms", "size: 0x7ff000, perms", "aligned"),
        ("superpages: true", "superpages: true, shared: Some(\"s\")", "private"),
    ] {
        let err = parse_config(&text.replacen(from, to, 1), "x.ron").unwrap_err().to_string();
        assert!(err.contains("superpages") && err.contains(why), "{err}");
    }
}
