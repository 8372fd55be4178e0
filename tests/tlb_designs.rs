//! The shipped TLB-design configs: the multi-process trace they run is exactly what
//! the generator below writes, and their reports show what ASIDs are worth, with
//! counts derived from the trace itself rather than from the simulator.

use std::collections::BTreeSet;
use std::fmt::Write as _;
use std::path::{Path, PathBuf};

const PROCESSES: u32 = 4;
const QUANTA: u32 = 40;
const ACCESSES_PER_QUANTUM: u32 = 400;
const CODE: u32 = 0x0040_0000;
const CODE_PAGES: u32 = 8;
const DATA: u32 = 0x1000_0000;
const DATA_PAGES: u32 = 24;
const STACK: u32 = 0x7ffe_0000;
const STACK_PAGES: u32 = 2;

/// Writes `traces/multiprocess-4x.trace`: four processes take turns for 40 quanta
/// of 400 accesses (`P n` at each switch). Each fetches instructions from 8 code
/// pages (mostly straight-line, with jumps), and loads (50%) and stores (20%) into
/// 24 data pages and 2 stack pages. The working set of all four, 136 pages, is
/// more than a 64-entry L1 holds and far less than a 1536-entry L2 does.
fn multiprocess_trace() -> String {
    let mut x = mmu_core::testing::XorShift::new(0x9e37_79b9_7f4a_7c15);
    let mut next = move |n: u32| x.below(u64::from(n)) as u32;
    let mut out = String::from(
        "# Four processes in turn, 40 quanta of 400 accesses: written by multiprocess_trace()\n\
         # in tests/tlb_designs.rs, which checks that this file is exactly its output.\n",
    );
    let mut pc = [CODE; PROCESSES as usize];
    for q in 0..QUANTA {
        let pid = q % PROCESSES;
        let _ = writeln!(out, "P {pid}");
        for _ in 0..ACCESSES_PER_QUANTUM {
            let roll = next(100);
            if roll < 30 {
                let p = &mut pc[pid as usize];
                *p = if next(10) == 0 {
                    CODE + next(CODE_PAGES * 1024) * 4
                } else {
                    CODE + (*p - CODE + 4) % (CODE_PAGES * 4096)
                };
                let _ = writeln!(out, "X {:#010x}", *p);
            } else {
                let vaddr = if next(5) == 0 {
                    STACK + next(STACK_PAGES * 1024) * 4
                } else {
                    DATA + next(DATA_PAGES * 1024) * 4
                };
                let op = if roll < 80 { 'R' } else { 'W' };
                let _ = writeln!(out, "{op} {vaddr:#010x}");
            }
        }
    }
    out
}

const HOT: u32 = 0x1000_0000;
const HOT_PAGES: u32 = 16;
const COLD: u32 = 0x2000_0000;
const COLD_PAGES: u32 = 1024;

/// Writes `traces/hot-cold-30k.trace`: 30 000 loads, 85% to a random word of 16 hot
/// pages, 15% walking 1024 cold pages in order, one access per page. The hot pages
/// fit any L1 dTLB of 32 entries and stay there; the cold stream passes through the
/// L2, which never sees the hot pages' L1 hits: the classic case where inclusion
/// costs L1 hits.
fn hot_cold_trace() -> String {
    let mut x = mmu_core::testing::XorShift::new(0x2545_f491_4f6c_dd1d);
    let mut next = move |n: u32| x.below(u64::from(n)) as u32;
    let mut out = String::from(
        "# 85% loads to 16 hot pages, 15% to 1024 cold pages in turn: written by hot_cold_trace()\n\
         # in tests/tlb_designs.rs, which checks that this file is exactly its output.\n",
    );
    let mut cold = 0;
    for _ in 0..30_000 {
        let vaddr = if next(100) < 85 {
            HOT + next(HOT_PAGES * 1024) * 4
        } else {
            cold = (cold + 1) % COLD_PAGES;
            COLD + cold * 4096 + next(1024) * 4
        };
        let _ = writeln!(out, "R {vaddr:#010x}");
    }
    out
}

fn root() -> &'static Path {
    Path::new(env!("CARGO_MANIFEST_DIR"))
}

#[test]
fn the_shipped_traces_are_their_generators_output() {
    for (file, text) in
        [("multiprocess-4x.trace", multiprocess_trace()), ("hot-cold-30k.trace", hot_cold_trace())]
    {
        let path = root().join("traces").join(file);
        let shipped = std::fs::read_to_string(&path).unwrap_or_default();
        if shipped != text {
            if std::env::var_os("MMU_REGENERATE_TRACES").is_some() {
                std::fs::write(&path, text).unwrap();
            } else {
                panic!("{} differs from its generator; rerun with MMU_REGENERATE_TRACES=1", path.display());
            }
        }
    }
}

/// Distinct (process, page) pairs the trace touches: its compulsory TLB misses.
fn distinct_pages() -> usize {
    let mut pid = 0;
    let mut pages = BTreeSet::new();
    for line in multiprocess_trace().lines().filter(|l| !l.starts_with('#')) {
        let (op, arg) = line.split_once(' ').unwrap();
        if op == "P" {
            pid = arg.parse::<u32>().unwrap();
        } else {
            pages.insert((pid, u32::from_str_radix(&arg[2..], 16).unwrap() >> 12));
        }
    }
    pages.len()
}

fn run(config: &str) -> cpu_sim::Report {
    let path: PathBuf = root().join("configs").join(config);
    mmu_sim::run_file(&path, None).unwrap_or_else(|e| panic!("{e}"))
}

fn stat(r: &cpu_sim::Report, name: &str) -> tlb::TlbStats {
    r.tlb.0.iter().find(|(n, _)| n == name).unwrap_or_else(|| panic!("no TLB {name}")).1.clone()
}

#[test]
fn with_asids_only_compulsory_misses_reach_the_walker() {
    let r = run("sv32-skylake-like.ron");
    let pages = distinct_pages() as u64;
    // 4 processes x (8 code + 24 data + 2 stack) pages, all touched in 10 quanta each.
    assert_eq!(pages, 136);
    assert_eq!(r.accesses, u64::from(QUANTA * ACCESSES_PER_QUANTUM));
    assert_eq!(r.context_switches, u64::from(QUANTA - 1), "P 0 first is no switch");
    // Each page faults once (demand zero); its access then walks twice: before the
    // fault and on the retry, each after missing the L1 and the STLB, which is big
    // enough never to evict (136 pages in 128 sets x 12 ways, at most 4 per set
    // from the 4 processes' same addresses, plus neighbours).
    assert_eq!(r.faults.not_present, pages);
    let stlb = stat(&r, "stlb");
    assert_eq!(stlb.misses, 2 * pages);
    assert_eq!(stlb.evictions, 0);
    assert_eq!(r.tlb_invalidations.context_switch_flushes, 0);
    assert!(r.tlb.0.iter().all(|(_, s)| s.invalidations == 0), "nothing flushes with ASIDs");
    // Sv32's one walk-cache level: a PDE per (process, 4 MiB region): code, data and
    // stack are in three regions per process. Every walk probes it once.
    let pde = &r.walk_cache.0[0].1;
    assert_eq!(pde.lookups, r.walker.walks);
    assert_eq!(pde.hits + pde.misses, r.walker.walks);
    // 12 (process, region) pairs. Each region's first walk finds the root PTE
    // invalid (1 PTE read, nothing to cache) and faults; the retry finds the new
    // pointer (a miss, 2 reads) and caches it. The cache keeps all 12: their VPN[1]s
    // (1, 64, 511) fall in sets 1, 0 and 7 of 8, four processes per 4-way set. So
    // every later walk hits and reads the leaf PTE only.
    let regions = u64::from(PROCESSES) * 3;
    assert_eq!(pde.misses, 2 * regions);
    assert_eq!(r.walker.pte_reads, regions + 2 * regions + (r.walker.walks - 2 * regions));
}

#[test]
fn without_asids_every_switch_flushes_and_costs_walks() {
    let with = run("sv32-skylake-like.ron");
    let without = run("sv32-skylake-like-no-asids.ron");
    assert_eq!(without.tlb_invalidations.context_switch_flushes, without.context_switches);
    // The same faults (the page tables do not care about ASIDs)...
    assert_eq!(without.faults.not_present, with.faults.not_present);
    // ...but every quantum after the first of each process re-walks the pages it
    // touches, since the switch emptied every TLB of them.
    assert!(
        without.walker.walks > 3 * with.walker.walks,
        "{} walks vs {}",
        without.walker.walks,
        with.walker.walks
    );
    assert!(without.cycles > with.cycles);
    assert!(stat(&without, "stlb").invalidations > 0);
    assert_eq!(without.data_checksum, with.data_checksum, "translation schemes do not change the data");
}

#[test]
fn an_inclusive_l2_costs_the_l1_its_hot_entries() {
    let inclusive = run("sv32-l2-inclusive.ron");
    let non = run("sv32-l2-non-inclusive.ron");
    // The same trace and the same page faults: one per page touched.
    let pages = u64::from(HOT_PAGES + COLD_PAGES);
    assert_eq!(inclusive.faults.not_present, pages);
    assert_eq!(non.faults.not_present, pages);
    let (l1_inc, l1_non) = (stat(&inclusive, "l1d"), stat(&non, "l1d"));
    assert_eq!(l1_non.back_invalidations, 0, "only inclusion back-invalidates");
    assert!(l1_inc.back_invalidations > 0);
    // Without inclusion the 16 hot pages stay in the 32-entry L1 (2 of 4 ways per
    // set; LRU keeps them over the cold pages, each used once), so every hot access
    // but the first to each page hits, bar the rare hot page left untouched while
    // two cold pages came through its set (under 1%). Cold pages never hit.
    let hot = hot_cold_trace().lines().filter(|l| l.starts_with("R 0x1")).count() as u64;
    let hot_hits = hot - u64::from(HOT_PAGES);
    assert!(l1_non.hits <= hot_hits && l1_non.hits >= hot_hits - hot / 100, "{l1_non:?} of {hot} hot");
    // With it, each cold fill can evict a hot page's L2 entry, the L2 never having
    // seen that page's L1 hits, and take the L1 copy with it.
    assert!(l1_inc.hits + l1_inc.back_invalidations / 2 < l1_non.hits, "{l1_inc:?} vs {l1_non:?}");
    assert!(inclusive.walker.walks > non.walker.walks && inclusive.cycles > non.cycles);
}
