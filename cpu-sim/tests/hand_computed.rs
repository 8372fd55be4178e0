//! Small runs whose every counter and cycle is derived by hand in the comments.

use cpu_sim::testing::ConfigBuilder;
use cpu_sim::{Machine, Workload, parse_config};

/// 1 cycle per access, a 4-entry direct-mapped L1 dTLB costing 1 cycle, no L2,
/// DRAM at 10 cycles per request, a trap of 100 and a demand-zero handler of 1000.
fn config(ad_update: &str, perms: &str) -> String {
    ConfigBuilder::default()
        .seed(7)
        .mmu(format!("(format: Sv32, ad_update: {ad_update})"))
        .os("(trap_cycles: 100, demand_zero_cycles: 1000, accessed_dirty_cycles: 50)")
        .processes(format!(
            r#"[(name: "p", regions: [(name: "data", base: 0x1000, size: 0x2000, perms: "{perms}")])]"#
        ))
        .text()
}

fn run(config_text: &str, trace: &str) -> cpu_sim::Report {
    let config = parse_config(config_text, "test.ron").unwrap();
    let mut m = Machine::new(&config).unwrap();
    cpu_sim::runner::run(&mut m, Workload::trace(trace.as_bytes(), "t"), "t").unwrap();
    m.report()
}

fn fnv(values: &[u32]) -> u64 {
    mmu_core::testing::fnv1a(values.iter().copied())
}

#[test]
fn demand_zero_then_hits_cycle_by_cycle() {
    let r = run(&config("Hardware", "rw-"), "W 0x1000 0x2a\nR 0x1000\nR 0x1004\n");
    // Access 1, W 0x1000: cpu 1 -> 1; L1 miss 1 -> 2; walk reads the root PTE (10)
    //   -> 12: invalid, NotPresent. Trap + demand-zero 1100 -> 1112. Retry: L1 miss
    //   1 -> 1113; root PTE 10 -> 1123 (now a pointer); leaf PTE 10 -> 1133; A and D
    //   are clear on a store: one PTE write 10 -> 1143; data write 10 -> 1153.
    // Access 2, R 0x1000: cpu 1 -> 1154; L1 hit 1 -> 1155; data read 10 -> 1165.
    // Access 3, R 0x1004 (same page): 1 + 1 + 10 -> 1177.
    assert_eq!(r.cycles, 1177);
    assert_eq!((r.walker.walks, r.walker.pte_reads, r.walker.pte_writes), (2, 3, 1));
    assert_eq!(r.walker.walk_cycles, 10 + 30);
    assert_eq!((r.faults.not_present, r.os.demand_zero), (1, 1));
    let l1 = &r.tlb.0[0].1;
    assert_eq!((l1.lookups, l1.hits, l1.misses, l1.fills), (4, 2, 2, 1));
    assert_eq!((r.dram.reads, r.dram.writes), (3 + 2, 1 + 1));
    // The root table (frame 0), the level-0 table (frame 1) and the data page (frame 2).
    assert_eq!((r.os.page_table_frames, r.os.data_frames, r.page_table_bytes), (2, 1, 8192));
    // Loads returned the stored 0x2a, then a demand-zero 0.
    assert_eq!(r.data_checksum, fnv(&[0x2a, 0]));
    // By cause: cpu 3 x 1; L1 lookups 4 x 1 (the faulting access's, its retry's,
    // two hits); walks 10 + 30; data 3 x 10; one trap + demand-zero 1100.
    assert_eq!(causes(&r), [3, 4, 40, 30, 1100, 0, 0, 0]);
}

/// `cycles_by_cause` in order, checked to add up to `cycles`.
fn causes(r: &cpu_sim::Report) -> [u64; 8] {
    let causes = r.cycles_by_cause.causes().map(|(_, c)| c);
    assert_eq!(causes.iter().sum::<u64>(), r.cycles, "{:?} add up to cycles", r.cycles_by_cause);
    causes
}

#[test]
fn k_hits_cost_the_cpu_the_lookup_and_the_data_word_each() {
    let k = 5u64;
    let config = ConfigBuilder::default()
        .cpu("(cycles_per_access: 3)")
        .tlb(r#"(l1: [(name: "l1d", serves: Data, entries: 4, ways: 1, hit_latency: 2)])"#)
        .text();
    let r = run(&config, &format!("W 0x1000 0x1\n{}", "R 0x1004\n".repeat(k as usize)));
    // The store: cpu 3, L1 miss 2, root PTE 10 (invalid), trap + demand-zero 1100;
    // retry: L1 miss 2, root 10 + leaf 10 + A/D write 10, data 10. Then k hits:
    // cpu 3, L1 hit 2, data 10 each.
    let [cpu, tlb, walks, data, faults, swap, switches, idle] = causes(&r);
    assert_eq!((cpu, tlb, walks, data), (3 * (k + 1), 2 * 2 + 2 * k, 10 + 30, 10 * (k + 1)));
    assert_eq!((faults, swap, switches, idle), (1100, 0, 0, 0));
    assert_eq!(r.cycles, 3 * (k + 1) + 4 + 2 * k + 40 + 10 * (k + 1) + 1100);
}

#[test]
fn an_l2_and_the_d_bit_re_lookup_count_as_tlb_lookups() {
    // L1 latency 1, L2 latency 7. A load maps the page clean (A set, D clear); the
    // store then finds its L1 entry with D clear and looks the L2 up (7) before
    // walking again to set D.
    let config = ConfigBuilder::default()
        .tlb(
            r#"(l1: [(name: "l1d", serves: Data, entries: 4, ways: 1, hit_latency: 1)],
                l2: Some((name: "l2", serves: Both, entries: 16, ways: 4, hit_latency: 7)))"#,
        )
        .text();
    let r = run(&config, "R 0x1000\nW 0x1000 0x2\nR 0x1000\n");
    // Load: L1 + L2 miss 8, walk 10 (root invalid), fault 1100; retry: L1 + L2
    // miss 8, walk root 10 + leaf 10 + A write 10. Store: L1 hit (D clear) 1 +
    // L2 hit (D clear) 7, walk root 10 + leaf 10 + D write 10. Load: L1 hit 1.
    let [cpu, tlb, walks, data, faults, ..] = causes(&r);
    assert_eq!((cpu, tlb, walks, data, faults), (3, 8 + 8 + 8 + 1, 10 + 30 + 30, 30, 1100));
    let l2 = &r.tlb.0[1].1;
    assert_eq!(l2.lookups, 3, "two misses and the D-bit re-lookup");
}

#[test]
fn swap_io_is_the_device_latencies_and_the_rest_is_fault_handling() {
    // One data frame, FIFO; trap 100, demand-zero 1000, swap read 1000, write 2000.
    let config = ConfigBuilder::default().os(cpu_sim::testing::os_swapping(1, "Fifo")).text();
    let r = run(&config, "W 0x1000 0x1\nW 0x2000 0x2\nR 0x1000\n");
    // W 0x1000: demand-zero, 100 + 1000. W 0x2000: evicts the dirty 0x1000 page
    // (write 2000), demand-zero, 100 + 1000. R 0x1000: evicts the dirty 0x2000
    // page (write 2000), swaps 0x1000 in (read 1000), 100.
    assert_eq!((r.os.swap_writes, r.os.swap_reads), (2, 1));
    let [.., faults, swap, switches, idle] = causes(&r);
    assert_eq!((faults, swap, switches, idle), (1100 + 1100 + 100, 2000 + 2000 + 1000, 0, 0));
}

#[test]
fn context_switches_cost_their_configured_cycles() {
    let config = ConfigBuilder::default()
        .os("(trap_cycles: 100, demand_zero_cycles: 1000, context_switch_cycles: 500)")
        .processes(
            r#"[(name: "a", regions: [(name: "d", base: 0x1000, size: 0x1000, perms: "rw-")]),
                (name: "b", regions: [(name: "d", base: 0x1000, size: 0x1000, perms: "rw-")])]"#,
        )
        .text();
    // Process 0 runs first: `P 0` switches nothing; `P 1` and `P 0` switch.
    let r = run(&config, "P 0\nR 0x1000\nP 1\nR 0x1000\nP 0\nR 0x1000\n");
    assert_eq!(r.context_switches, 2);
    let [cpu, .., switches, _] = causes(&r);
    assert_eq!((cpu, switches), (3, 2 * 500));
}

#[test]
fn a_store_hitting_a_clean_entry_walks_again_to_set_d() {
    let r = run(&config("Hardware", "rw-"), "R 0x1000\nW 0x1000\nW 0x1000\n");
    // Walks: the faulting one, the retry (sets A), the store that finds D clear
    // in the TLB entry (sets D). The last store hits the now-dirty entry.
    assert_eq!(r.walker.walks, 3);
    assert_eq!(r.walker.pte_writes, 2);
    assert_eq!(r.tlb.0[0].1.hits, 2);
}

#[test]
fn software_managed_accessed_dirty_bits_trap_to_the_os() {
    let r = run(&config("Fault", "rw-"), "W 0x1000 0x5\nR 0x1000\n");
    // W: NotPresent -> demand-zero; retry: A/D clear -> AccessedDirty -> the OS sets
    // both; retry: success. R: TLB hit.
    assert_eq!((r.faults.not_present, r.faults.accessed_dirty, r.os.accessed_dirty_updates), (1, 1, 1));
    assert_eq!(r.walker.pte_writes, 0, "the walker never writes PTEs in this mode");
    // cpu 1, L1 1, root 10 (fault), 1100, L1 1, root 10, leaf 10 (fault), trap 100 +
    // 50, L1 1, root 10, leaf 10, data write 10 = 1314; then 1 + 1 + 10 for the load.
    assert_eq!(r.cycles, 1314 + 12);
    assert_eq!(r.data_checksum, fnv(&[5]));
    // By cause: 2 accesses; 4 L1 lookups; walks 10 + 20 + 20; 2 data words;
    // 1100 for the demand-zero fault, 100 + 50 for the A/D one.
    assert_eq!(causes(&r), [2, 4, 50, 20, 1100 + 150, 0, 0, 0]);
}

#[test]
fn segfaults_stop_the_process_and_skip_the_rest() {
    // A store to a read-only region is refused on first touch.
    let r = run(&config("Hardware", "r--"), "R 0x1000\nW 0x1000\nR 0x1000\n");
    assert_eq!(r.segfaults.len(), 1);
    let s = &r.segfaults[0];
    assert_eq!((s.vaddr.as_u32(), s.reason), (0x1000, "access not allowed by the page's permissions"));
    assert_eq!(r.faults.protection, 1, "the page is mapped r--, so the store is a protection fault");
    assert_eq!(r.skipped_accesses, 1);
    assert_eq!(r.accesses, 3);

    // Outside every region: refused before any page is mapped.
    let r = run(&config("Hardware", "rw-"), "R 0x8000\nR 0x1000\n");
    assert_eq!(r.segfaults[0].reason, "address outside every region of the process");
    assert_eq!((r.os.demand_zero, r.skipped_accesses), (0, 1));
}

#[test]
fn unaligned_accesses_are_alignment_faults_not_panics() {
    let r = run(&config("Hardware", "rw-"), "R 0x1001\nW 0x1002\nR 0x1000\n");
    assert_eq!(r.faults.alignment, 2);
    assert_eq!(r.os.demand_zero, 1);
}

#[test]
fn switching_to_an_unknown_process_is_an_error() {
    let config = parse_config(&config("Hardware", "rw-"), "test.ron").unwrap();
    let mut m = Machine::new(&config).unwrap();
    let err =
        cpu_sim::runner::run(&mut m, Workload::trace("R 0x1000\nP 4\n".as_bytes(), "t.trace"), "t.trace")
            .unwrap_err();
    assert_eq!(err.to_string(), "t.trace: `P 4` names no process: the config declares pid 0 only");
}

#[test]
fn page_tables_hold_the_hand_computed_ptes() {
    // After one touch of 0x1000 (VPN[1] = 0, VPN[0] = 1): root PTE 0 points to frame
    // 1 ((1 << 10) | V = 0x401); leaf PTE 1 of frame 1 maps frame 2 with V R W U set
    // by the OS and A set by the walker's load: (2 << 10) | 0b0101_0111 = 0x857.
    let config = parse_config(&config("Hardware", "rw-"), "test.ron").unwrap();
    let mut m = Machine::new(&config).unwrap();
    cpu_sim::runner::run(&mut m, Workload::trace("R 0x1000\n".as_bytes(), "t"), "t").unwrap();
    assert_eq!(m.peek_phys(0x0000), 0x401);
    assert_eq!(m.peek_phys(0x1004), 0x857);
}

#[test]
fn two_processes_at_the_same_address_get_their_own_frames() {
    // The seed's figure 1.2: A and B both write "cell 64"; each reads its own value.
    let text = config("Hardware", "rw-").replace(
        r#"processes: [(name: "p", regions: [(name: "data", base: 0x1000, size: 0x2000, perms: "rw-")])],"#,
        r#"processes: [
        (name: "A", regions: [(name: "data", base: 0x1000, size: 0x2000, perms: "rw-")]),
        (name: "B", regions: [(name: "data", base: 0x1000, size: 0x2000, perms: "rw-")]),
    ],"#,
    );
    let r = run(&text, "W 0x1040 0xa\nP 1\nW 0x1040 0xb\nR 0x1040\nP 0\nR 0x1040\n");
    assert_eq!(r.context_switches, 2);
    assert_eq!(r.os.demand_zero, 2, "one page each");
    // Two roots at boot (frames 0, 1), then per process a level-0 table and a page.
    assert_eq!((r.os.page_table_frames, r.os.data_frames), (4, 2));
    assert_eq!(r.data_checksum, fnv(&[0xb, 0xa]), "B reads B's value, then A reads A's");
}
