//! Page-walk caches and ASIDs through the whole machine, every cycle derived by hand.

use cpu_sim::testing::ConfigBuilder;
use cpu_sim::{Machine, Workload, parse_config};

/// 1 cycle per access; a 4-entry 2-way L1 dTLB of 1 cycle, no L2; a 4-entry 2-way
/// cache of root PTEs costing 2 cycles per walk; DRAM at 10 cycles; a trap of 100
/// and a demand-zero handler of 1000; two processes with the same data region.
fn config(asids: &str) -> String {
    ConfigBuilder::default()
        .seed(7)
        .tlb(format!(
            r#"(l1: [(name: "l1d", serves: Data, entries: 4, ways: 2, hit_latency: 1)], asids: {asids},
                walk_caches: [(name: "pde", pte_level: 1, entries: 4, ways: 2, hit_latency: 2)])"#
        ))
        .processes(
            r#"[(name: "A", regions: [(name: "data", base: 0x1000, size: 0x2000, perms: "rw-")]),
                (name: "B", regions: [(name: "data", base: 0x1000, size: 0x2000, perms: "rw-")])]"#,
        )
        .text()
}

const TRACE: &str = "R 0x1000\nR 0x1004\nP 1\nR 0x1000\nP 0\nR 0x1000\nR 0x2000\n";

fn run(asids: &str) -> cpu_sim::Report {
    let config = parse_config(&config(asids), "test.ron").unwrap();
    let mut m = Machine::new(&config).unwrap();
    cpu_sim::runner::run(&mut m, Workload::trace(TRACE.as_bytes(), "t"), "t").unwrap();
    m.report()
}

// Both runs start alike:
// A R 0x1000: cpu 1 -> 1; L1 miss 1 -> 2; walk: PDE probe 2 (miss) -> 4, root PTE 10
//   -> 14, invalid: NotPresent (nothing cached). Handler 1100 -> 1114. Retry: L1 miss
//   1 -> 1115; probe 2 (miss) -> 1117; root PTE 10 -> 1127, a pointer: cached; leaf
//   10 -> 1137; A clear: PTE write 10 -> 1147; data 10 -> 1157.
// A R 0x1004: cpu 1, L1 hit 1, data 10 -> 1169.
// P 1, then B R 0x1000: cpu 1 -> 1170; L1 miss 1 -> 1171; probe 2 (B's root PTE is
//   not cached) -> 1173; B's root PTE 10 -> 1183: invalid, fault 1100 -> 2283; retry:
//   L1 1 -> 2284; probe 2 -> 2286 (miss); root 10 -> 2296 (cached); leaf 10 -> 2306;
//   A write 10 -> 2316; data 10 -> 2326.

#[test]
fn with_asids_a_switch_back_finds_the_tlb_and_walk_cache_warm() {
    let r = run("Tagged");
    // P 0, then A R 0x1000: A's entry survived B's run (2 ways per set):
    //   cpu 1, L1 hit 1, data 10 -> 2338.
    // A R 0x2000 (page 2, same 4 MiB region): cpu 1 -> 2339; L1 miss 1 -> 2340; probe
    //   2 hits A's root PTE -> 2342; leaf 10 -> 2352: invalid, fault 1100 -> 3452;
    //   retry: L1 1 -> 3453; probe hit 2 -> 3455; leaf 10 -> 3465; A write 10 ->
    //   3475; data 10 -> 3485.
    assert_eq!(r.cycles, 3485);
    assert_eq!((r.walker.walks, r.walker.pte_reads, r.walker.pte_writes), (6, 1 + 2 + 1 + 2 + 1 + 1, 3));
    let pde = &r.walk_cache.0[0].1;
    assert_eq!((pde.lookups, pde.hits, pde.misses, pde.fills, pde.invalidations), (6, 2, 4, 2, 0));
    let l1 = &r.tlb.0[0].1;
    assert_eq!((l1.lookups, l1.hits, l1.invalidations), (8, 2, 0));
    assert_eq!(r.tlb_invalidations.context_switch_flushes, 0);
}

#[test]
fn without_asids_every_switch_flushes_the_tlb_and_the_walk_cache() {
    let r = run("Off");
    // P 1 flushed A's L1 entry and root-PTE entry; P 0 flushes B's.
    // A R 0x1000: cpu 1 -> 2327; L1 miss 1 -> 2328; probe 2 (miss) -> 2330; root 10 ->
    //   2340 (cached again); leaf 10 -> 2350 (A already set); data 10 -> 2360.
    // A R 0x2000: as with ASIDs, 1147 cycles: 2360 + 1147 = 3507. The 22 cycles more
    //   are the walk of A R 0x1000 (2 + 10 + 10) that ASIDs avoid.
    assert_eq!(r.cycles, 3507);
    assert_eq!((r.walker.walks, r.walker.pte_reads), (7, 1 + 2 + 1 + 2 + 2 + 1 + 1));
    let pde = &r.walk_cache.0[0].1;
    assert_eq!((pde.lookups, pde.hits, pde.misses, pde.fills, pde.invalidations), (7, 2, 5, 3, 2));
    let l1 = &r.tlb.0[0].1;
    assert_eq!((l1.lookups, l1.hits, l1.invalidations), (8, 1, 2));
    assert_eq!(r.tlb_invalidations.context_switch_flushes, 2);
    assert_eq!(r.context_switches, 2);
}
