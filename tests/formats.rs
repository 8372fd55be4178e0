//! Whole runs of the shipped configs that compare paging formats and check the
//! banked DRAM's accounting against facts derived independently of the code.

use cpu_sim::{Machine, Workload};
use std::path::{Path, PathBuf};

/// The configs that share one workload (200 000 uniform accesses over 1 MiB) and
/// DDR4-2400 DRAM, differing only in the paging format (and x86's row policy).
const SAME_WORKLOAD: [&str; 5] =
    ["sv32-ddr4.ron", "x86-32-ddr4.ron", "flat-word-pages.ron", "flat-4k-pages.ron", "radix-3level.ron"];

fn path(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("configs").join(name)
}

fn run(name: &str) -> cpu_sim::Report {
    mmu_sim::run_file(&path(name), None).unwrap_or_else(|e| panic!("{name}: {e}"))
}

#[test]
fn every_format_loads_the_same_values() {
    // Translation must never change what a load returns: the same stores and loads
    // over the same virtual addresses, whatever the page table looks like.
    let reports: Vec<_> = SAME_WORKLOAD.iter().map(|name| (name, run(name))).collect();
    let (first, reference) = &reports[0];
    for (name, r) in &reports {
        assert_eq!(r.data_checksum, reference.data_checksum, "{name} vs {first}");
        assert_eq!(r.accesses, 200_000, "{name}");
        assert!(r.segfaults.is_empty(), "{name}");
    }
}

#[test]
fn the_page_table_each_format_costs() {
    // The 1 MiB heap at 0x1000_0000 is 256 pages of 4 KiB, 2^18 words.
    // Sv32: the root and one level-0 table (VPN[1] = 0x40 for the whole heap).
    assert_eq!(run("sv32-ddr4.ron").page_table_bytes, 2 * 4096);
    // Radix [4, 8, 8]: the root, one level-1 and one level-0 table, a frame each.
    assert_eq!(run("radix-3level.ron").page_table_bytes, 3 * 4096);
    // Flat with 4 KiB pages: 2^20 PTEs of 4 bytes, 4 MiB, of which the 256 PTEs of
    // the heap (1 KiB) sit in one 4 KiB chunk.
    let r = run("flat-4k-pages.ron");
    assert_eq!((r.page_table_bytes, r.page_table_touched_bytes), (4 << 20, 4096));
    // Flat with one word per page: 2^30 PTEs, 4 GiB. The heap's PTEs are 2^18 × 4 =
    // 1 MiB, 256 chunks of 4 KiB, each covering 4 KiB of heap; 200 000 uniform
    // accesses miss all 1024 words of a given 4 KiB with probability
    // (1 - 1/256)^200000 < 10^-300, so every chunk is touched.
    let r = run("flat-word-pages.ron");
    assert_eq!(r.page_table_bytes, 4 << 30);
    assert_eq!(r.page_table_touched_bytes, 1 << 20);
    assert_eq!(r.os.page_table_frames, 0, "the table is reserved outside the frame pool");
    // Every first touch of a word is a fault; each walk reads exactly one PTE.
    assert_eq!(r.faults.not_present, r.os.demand_zero);
    assert_eq!(r.walker.pte_reads, r.walker.walks);
}

#[test]
fn banked_cycles_are_the_sum_of_every_cost_in_the_report() {
    // The CPU blocks on every request, so a run's cycles decompose exactly, with
    // each DRAM request's latency (waits for busy banks included) counted once:
    // cpu work + TLB lookups × latency + walk cycles + data request latencies +
    // faults × handler cost. And without walk caches, a walk's cycles are exactly its
    // DRAM requests' latencies.
    for name in SAME_WORKLOAD {
        let r = run(name);
        let c = &r.config;
        let tlb: u64 =
            c.tlb.levels().zip(&r.tlb.0).map(|(cfg, (_, s))| s.lookups * cfg.hit_latency.as_u64()).sum();
        let faults = r.os.demand_zero * (c.os.trap_cycles.as_u64() + c.os.demand_zero_cycles.as_u64());
        let cpu = r.accesses * c.cpu.cycles_per_access.as_u64();
        assert_eq!(r.walker.walk_cycles, r.dram.page_table.latency_cycles, "{name}");
        assert_eq!(
            r.cycles,
            cpu + tlb + r.walker.walk_cycles + r.dram.data.latency_cycles + faults,
            "{name}"
        );
        // Every request is exactly one of hit, miss or conflict.
        for t in [&r.dram.page_table, &r.dram.data] {
            assert_eq!(t.row_hits + t.row_misses + t.row_conflicts, t.requests, "{name}");
        }
        assert_eq!(r.dram.page_table.requests, r.walker.pte_reads + r.walker.pte_writes, "{name}");
        assert_eq!(r.walker.latency.total(), r.walker.walks, "{name}: one histogram entry per walk");
    }
}

#[test]
fn closed_page_never_hits_nor_conflicts_and_open_page_does_both() {
    let closed = run("x86-32-ddr4.ron").dram;
    assert_eq!((closed.row_hits, closed.row_conflicts), (0, 0));
    let open = run("sv32-ddr4.ron").dram;
    assert!(open.row_hits > 0 && open.row_conflicts > 0, "{open:?}");
    // DDR4-2400 at 3 GHz: a hit costs 53 cycles, a miss 96, a conflict 139, plus
    // any wait for a busy bank; the mean lies between the cheapest and the dearest.
    let mean = open.total_latency_cycles as f64 / (open.reads + open.writes) as f64;
    assert!((53.0..=139.0).contains(&mean), "{mean}");
}

#[test]
fn four_gib_of_dram_with_a_one_mib_working_set_stays_small_on_the_host() {
    let config = mmu_sim::load_config(&path("sv32-ddr4.ron")).unwrap();
    assert_eq!(config.dram.capacity_bytes, 4 << 30);
    let mut m = Machine::new(&config).unwrap();
    let workload: Workload<std::io::Empty> = Workload::synthetic(&config.workload, config.seed).unwrap();
    cpu_sim::runner::run(&mut m, workload, "workload").unwrap();
    // Host chunks hold only what was written: at most the 1 MiB heap and the two
    // 4 KiB tables (demand-zero pages are zero until stored to).
    assert!(m.host_memory_bytes() <= (1 << 20) + 2 * 4096, "{}", m.host_memory_bytes());
}
