//! Page-walk caches and ASIDs through the whole machine, every cycle derived by hand;
//! fences on superpages held as 4 KiB pieces.

use cpu_sim::testing::ConfigBuilder;
use cpu_sim::{Machine, Workload, parse_config};
use mmu_core::{Cycle, Fence, PhysAddr, VirtAddr};

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

/// The MMU of a config on `format` with a 4 KiB-only L1 dTLB, an any-size L2 and a
/// cache of root PTEs, over 1 MiB of DRAM at 10 cycles; no OS: the test is the kernel.
fn splintering_mmu(format: &str) -> (cpu_sim::memory::mmu::Mmu, mmu_core::Dram) {
    let text = format!(
        r#"(
    seed: 1,
    cpu: (cycles_per_access: 1),
    mmu: (format: {format}),
    tlb: (
        l1: [(name: "l1d", serves: Data, entries: 8, ways: 2, hit_latency: 1, page_sizes: Only([4096]))],
        l2: Some((name: "l2", serves: Both, entries: 16, ways: 4, hit_latency: 5)),
        walk_caches: [(name: "pde", pte_level: 1, entries: 4, ways: 2, hit_latency: 1)],
    ),
    dram: (capacity_bytes: 0x100000, timing: Fixed(latency: 10)),
    os: (trap_cycles: 1, demand_zero_cycles: 1),
    processes: [(name: "A", regions: [(name: "data", base: 0x1000, size: 0x1000, perms: "rw-")])],
    workload: Trace(path: "unused"),
)"#
    );
    let config = parse_config(&text, "splinter.ron").unwrap_or_else(|e| panic!("{e}"));
    let dram = mmu_core::Dram::new(&config.dram);
    (cpu_sim::memory::mmu::Mmu::new(&config.mmu, &config.tlb, 1), dram)
}

/// Maps the megapage at VA 0x0040_0000 to `pa` through root PTE 1 of the table at
/// 0x1000 (PTE `leaf_bits` | the frame), translates 0x0040_0000 and 0x0040_1000
/// (two 4 KiB pieces in the L1, one 4 MiB entry in the L2), rewrites the PTE to
/// PA 0x00c0_0000, applies `fence`, and gives the translation of 0x0040_1234.
fn remap_megapage_and_fence(format: &str, pte: impl Fn(u64) -> u32, fence: Fence) -> u64 {
    use mmu_core::{AccessKind, AddressSpace, Asid, PrivilegeState};
    let (mut mmu, mut dram) = splintering_mmu(format);
    let space = AddressSpace { asid: Asid::new(1), root: PhysAddr::new(0x1000) };
    let root_pte = PhysAddr::new(0x1000 + 4);
    dram.poke(root_pte, pte(0x0080_0000));
    let translate = |mmu: &mut cpu_sim::memory::mmu::Mmu, dram: &mut mmu_core::Dram, va: u32| {
        let p = PrivilegeState::default();
        let t = mmu.translate(Cycle::ZERO, dram, space, &p, VirtAddr::new(va), AccessKind::Read);
        t.value.expect("mapped").as_u64()
    };
    assert_eq!(translate(&mut mmu, &mut dram, 0x0040_0000), 0x0080_0000);
    assert_eq!(translate(&mut mmu, &mut dram, 0x0040_1000), 0x0080_1000);
    let pieces: Vec<_> = mmu.tlbs().l1()[0].entries();
    assert_eq!(pieces.len(), 2, "two 4 KiB pieces in the L1: {pieces:?}");
    assert_eq!(mmu.tlbs().l2().unwrap().entries().len(), 1, "one megapage entry in the L2");
    dram.poke(root_pte, pte(0x00c0_0000));
    mmu.fence(fence);
    assert!(mmu.tlbs().entries().is_empty(), "every piece of the leaf is gone");
    translate(&mut mmu, &mut dram, 0x0040_1234)
}

#[test]
fn sfence_vma_on_a_megapage_drops_its_pieces_at_every_offset() {
    // Sv32 leaf PTE: PPN in bits 31..10, V R W U A D = 0xd7 (a megapage's PPN[0] is 0).
    let sv32 = |pa: u64| ((pa >> 12) << 10) as u32 | 0xd7;
    // sfence.vma rs1 = 0x0040_0000, rs2 = ASID 1.
    let fence = Fence::page(VirtAddr::new(0x0040_0000), mmu_core::Asid::new(1));
    assert_eq!(remap_megapage_and_fence("Sv32", sv32, fence), 0x00c0_1234);
}

#[test]
fn invlpg_on_a_4_mib_page_drops_its_pieces_at_every_offset() {
    // IA-32 PDE with PS: base in bits 31..22, P R/W U/S A D PS = 0xe7.
    let pse = |pa: u64| pa as u32 | 0xe7;
    // INVLPG 0x0040_0000: the address in every address space.
    let fence = Fence { vaddr: Some(VirtAddr::new(0x0040_0000)), asid: None };
    assert_eq!(remap_megapage_and_fence("X86_32(pse: true)", pse, fence), 0x00c0_1234);
}

/// A unified L1 and L2 (both `serves: Both`) and a root-PTE cache on Sv32, with a
/// code and a data region.
fn unified(trace: &str) -> cpu_sim::Report {
    let text = r#"(
    seed: 1,
    cpu: (cycles_per_access: 1),
    mmu: (format: Sv32),
    tlb: (
        l1: [(name: "l1", serves: Both, entries: 4, ways: 2, hit_latency: 1)],
        l2: Some((name: "l2", serves: Both, entries: 8, ways: 2, hit_latency: 5)),
        walk_caches: [(name: "pde", pte_level: 1, entries: 4, ways: 2, hit_latency: 1)],
    ),
    dram: (capacity_bytes: 0x100000, timing: Fixed(latency: 10)),
    os: (trap_cycles: 1, demand_zero_cycles: 1),
    processes: [(name: "A", regions: [
        (name: "code", base: 0x400000, size: 0x4000, perms: "r-x"),
        (name: "data", base: 0x1000, size: 0x8000, perms: "rw-"),
    ])],
    workload: Trace(path: "unused"),
)"#;
    let config = parse_config(text, "unified.ron").unwrap_or_else(|e| panic!("{e}"));
    let mut m = Machine::new(&config).unwrap();
    cpu_sim::runner::run(&mut m, Workload::trace(trace.as_bytes(), "t"), "t").unwrap();
    m.report()
}

#[test]
fn a_faulting_access_counts_its_retry_apart() {
    let r = unified("R 0x1000\n");
    // The first try misses the L1 and the L2 and walks: the root PTE is invalid,
    // a not-present fault. The OS maps the page; the retry misses both again and
    // walks to the new leaf. Hardware counters: 2 lookups and 2 misses per level,
    // of which 1 and 1 by the retry; a cache simulator's count is 2 - 1 = 1 miss.
    for (name, s) in &r.tlb.0 {
        let counts = (s.lookups, s.misses, s.retry_lookups, s.retry_misses);
        assert_eq!(counts, (2, 2, 1, 1), "{name}");
        let sides = s.by_side.as_ref().expect("serves both sides");
        assert_eq!(sides.data.lookups, 2, "{name}: the load is a data access");
        assert_eq!(sides.instructions, tlb::TlbStats::default(), "{name}: no fetch");
    }
    // The root-PTE cache is probed by both walks and hits neither (the first found
    // the root PTE invalid and cached nothing).
    let pde = &r.walk_cache.0[0].1;
    assert_eq!((pde.lookups, pde.misses, pde.retry_lookups, pde.retry_misses), (2, 2, 1, 1));
    assert!(pde.by_side.is_none(), "walk caches are not split by side");
}

#[test]
fn by_side_counters_add_up_to_the_totals() {
    // Fetches and data accesses over 4 code and 8 data pages: hits, misses, fills,
    // evictions and retries on both sides of both unified levels.
    let mut trace = String::new();
    for round in 0..3 {
        for page in 0..8u32 {
            // Each access twice: the second hits the L1.
            let fetch = format!("X {:#x}\n", 0x40_0000 + (page % 4) * 0x1000 + round * 4);
            let op = if page % 3 == 0 { "W" } else { "R" };
            let data = format!("{op} {:#x}\n", 0x1000 + page * 0x1000 + round * 4);
            trace.push_str(&fetch.repeat(2));
            trace.push_str(&data.repeat(2));
        }
    }
    let r = unified(&trace);
    for (name, s) in &r.tlb.0 {
        let sides = s.by_side.as_ref().expect("serves both sides");
        let (i, d) = (&sides.instructions, &sides.data);
        let sum = |f: fn(&tlb::TlbStats) -> u64| f(i) + f(d);
        assert_eq!(sum(|s| s.lookups), s.lookups, "{name} lookups");
        assert_eq!(sum(|s| s.hits), s.hits, "{name} hits");
        assert_eq!(sum(|s| s.misses), s.misses, "{name} misses");
        assert_eq!(sum(|s| s.fills), s.fills, "{name} fills");
        assert_eq!(sum(|s| s.evictions), s.evictions, "{name} evictions");
        assert_eq!(sum(|s| s.invalidations), s.invalidations, "{name} invalidations");
        assert_eq!(sum(|s| s.retry_lookups), s.retry_lookups, "{name} retry_lookups");
        assert_eq!(sum(|s| s.retry_misses), s.retry_misses, "{name} retry_misses");
        // Every page faults once on first touch (4 code + 8 data pages), and each
        // fault's access is retried once in each level it missed.
        assert_eq!((i.retry_lookups, d.retry_lookups), (4, 8), "{name}");
        assert!(s.evictions > 0 && i.hits > 0, "{name}: {s:?}");
    }
    assert_eq!(r.os.demand_zero, 12);
}

#[test]
fn a_store_finding_d_clear_in_the_l1_goes_on_to_the_l2_as_a_counted_lookup() {
    let text = r#"(
    seed: 1,
    cpu: (cycles_per_access: 1),
    mmu: (format: Sv32),
    tlb: (
        l1: [(name: "l1d", serves: Data, entries: 2, ways: 2, hit_latency: 1)],
        l2: Some((name: "l2", serves: Data, entries: 2, ways: 2, hit_latency: 5)),
    ),
    dram: (capacity_bytes: 0x100000, timing: Fixed(latency: 10)),
    os: (trap_cycles: 1, demand_zero_cycles: 1),
    processes: [(name: "A", regions: [(name: "data", base: 0x1000, size: 0x3000, perms: "rw-")])],
    workload: Trace(path: "unused"),
)"#;
    let config = parse_config(text, "d-bit.ron").unwrap_or_else(|e| panic!("{e}"));
    let mut m = Machine::new(&config).unwrap();
    let trace = "R 0x1000\nR 0x2000\nW 0x1000\nR 0x3000\nR 0x2000\n";
    cpu_sim::runner::run(&mut m, Workload::trace(trace.as_bytes(), "t"), "t").unwrap();
    let r = m.report();
    // Pages 1, 2, 3; both TLBs 2-entry fully associative LRU (orders oldest first).
    // Each first touch faults (L1 and L2 miss, walk to an invalid root PTE), then
    // retries (L1 and L2 miss again, walk, fill both with D clear).
    //   R 1: L1 1, L2 1.  R 2: L1 1 2, L2 1 2.
    //   W 1: L1 hit, D clear: on to the L2 as a miss would go, a counted lookup
    //        that hits (D clear too) and refills the L1; the walk sets D and fills
    //        both: L1 2 1, L2 2 1.
    //   R 3: L1 miss, L2 miss; fault; retry misses both; the walk fills both,
    //        evicting page 2 from each: L1 1 3, L2 1 3.
    //   R 2: L1 miss, L2 miss, walk; fills evict page 1: L1 3 2, L2 3 2.
    // L2: lookups 2 + 2 + 1 + 2 + 1 = 8, one hit (W 1), misses 7, of them 3 by
    // retries: 4 misses (pages 1, 2, 3, 2), what an LRU TLB of this geometry sees
    // on the L2's lookups (1, 2, 1, 3, 2); every one of its 5 fills follows one.
    let l2 = &r.tlb.0[1].1;
    let l2_counts = (l2.lookups, l2.hits, l2.misses, l2.retry_lookups, l2.retry_misses);
    assert_eq!(l2_counts, (8, 1, 7, 3, 3));
    assert_eq!(l2.misses - l2.retry_misses, 4);
    assert_eq!((l2.fills, l2.evictions), (5, 2));
    // L1: lookups 2 + 2 + 1 + 2 + 1 = 8, one hit (W 1); fills 1 + 1 + 2 (the L2
    // hit's copy and the walk's) + 1 + 1 = 6; evictions by R 3 and R 2.
    let l1 = &r.tlb.0[0].1;
    assert_eq!((l1.lookups, l1.hits, l1.fills, l1.evictions), (8, 1, 6, 2));
    // Walks: 2 per first touch (the faulting one and the retry's), W 1's, R 2's.
    assert_eq!(r.walker.walks, 8);
}
