//! Small runs on every paging format and on banked DRAM, each counter and cycle
//! derived by hand in the comments; and a property: on any trace, every format
//! loads exactly the values a plain map from address to last stored value predicts.

use cpu_sim::testing::{ConfigBuilder, FIXED_1M};
use cpu_sim::{Machine, Report, Workload, parse_config};
use proptest::prelude::*;
use std::collections::BTreeMap;

/// 1 cycle per access, a 4-entry direct-mapped L1 dTLB of 1 cycle, no L2, a trap of
/// 100 and a demand-zero handler of 1000, one process with a region at 0x1000.
fn config(format: &str, privilege: &str, dram: &str, region: &str) -> String {
    ConfigBuilder::default()
        .seed(7)
        .mmu(format!("(format: {format}, privilege: {privilege})"))
        .dram(dram)
        .processes(format!(r#"[(name: "p", regions: [{region}])]"#))
        .text()
}

const USER: &str = "(mode: User)";
const DATA_RW: &str = r#"(name: "data", base: 0x1000, size: 0x2000, perms: "rw-")"#;

fn machine(text: &str, trace: &str) -> Machine {
    let config = parse_config(text, "test.ron").unwrap_or_else(|e| panic!("{e}"));
    let mut m = Machine::new(&config).unwrap();
    cpu_sim::runner::run(&mut m, Workload::trace(trace.as_bytes(), "t"), "t").unwrap();
    m
}

fn fnv(values: &[u32]) -> u64 {
    mmu_core::testing::fnv1a(values.iter().copied())
}

#[test]
fn ia32_sets_the_pde_accessed_bit_after_a_successful_walk() {
    let m = machine(&config("X86_32(pse: true)", USER, FIXED_1M, DATA_RW), "W 0x1000 0x2a\nR 0x1000\n");
    let r = m.report();
    // Access 1, W 0x1000 (directory 0, table 1): cpu 1 -> 1; L1 miss 1 -> 2; PDE at
    //   CR3 = frame 0, offset 0: read 10 -> 12, P = 0: not present at level 1. Trap +
    //   demand-zero 1100 -> 1112; the OS puts the page table in frame 1 and the page
    //   in frame 2. Retry: L1 miss 1 -> 1113; PDE 10 -> 1123 (A clear); PTE at
    //   0x1004 10 -> 1133 (A, D clear, a store); the walk succeeds: PDE A write 10 ->
    //   1143, PTE A|D write 10 -> 1153; data write 10 -> 1163.
    // Access 2, R 0x1000: cpu 1, L1 hit 1, data read 10 -> 1175.
    assert_eq!(r.cycles, 1175);
    assert_eq!(
        (r.walker.walks, r.walker.pte_reads, r.walker.pte_writes, r.walker.faulting_walks),
        (2, 3, 2, 1)
    );
    assert_eq!(r.walker.walk_cycles, 10 + 40);
    // PDE: frame 1 | P RW US (0x7) | A (0x20); PTE: frame 2 | P RW US | A | D (0x40).
    assert_eq!(m.peek_phys(0x0000), 0x1027);
    assert_eq!(m.peek_phys(0x1004), 0x2067);
    assert_eq!(r.data_checksum, fnv(&[0x2a]));
}

#[test]
fn ia32_cr0_wp_decides_supervisor_writes_to_read_only_pages() {
    let region = r#"(name: "ro", base: 0x1000, size: 0x1000, perms: "r--", user: false)"#;
    let trace = "R 0x1000\nW 0x1000 0x5\nR 0x1000\n";
    // The load maps the page read-only (R/W = 0). With CR0.WP = 0 the supervisor's
    // store goes through (SDM 4.6.1) and the last load reads it back.
    let no_wp = "(mode: Supervisor, write_protect: false)";
    let r = machine(&config("X86_32(pse: true)", no_wp, FIXED_1M, region), trace).report();
    assert!(r.segfaults.is_empty(), "{:?}", r.segfaults);
    assert_eq!(r.data_checksum, fnv(&[0, 5]));
    // With CR0.WP = 1 it is a protection fault, and the process is stopped.
    let wp = "(mode: Supervisor, write_protect: true)";
    let r = machine(&config("X86_32(pse: true)", wp, FIXED_1M, region), trace).report();
    assert_eq!((r.faults.protection, r.segfaults.len(), r.skipped_accesses), (1, 1, 1));
}

#[test]
fn ia32_refuses_risc_v_only_options() {
    let refused = |privilege: &str, field: &str| {
        let text = config("X86_32(pse: false)", privilege, FIXED_1M, DATA_RW);
        let err = parse_config(&text, "x.ron").expect_err(privilege).to_string();
        assert!(err.starts_with(&format!("x.ron: field `{field}`")), "{err}");
    };
    refused("(mode: Supervisor, sum: true)", "mmu.privilege.sum");
    refused("(mode: User, mxr: true)", "mmu.privilege.mxr");
    let text = config("X86_32(pse: false)", USER, FIXED_1M, DATA_RW)
        .replace("privilege:", "ad_update: Fault, privilege:");
    let err = parse_config(&text, "x.ron").unwrap_err().to_string();
    assert!(err.contains("field `mmu.ad_update`") && err.contains("4.8"), "{err}");
    // The same options are fine on Sv32.
    let text = config("Sv32", "(mode: Supervisor, sum: true, mxr: true)", FIXED_1M, DATA_RW);
    assert!(parse_config(&text.replace("privilege:", "ad_update: Fault, privilege:"), "x.ron").is_ok());
}

#[test]
fn flat_word_pages_fault_per_word_and_reserve_a_4_gib_table() {
    // 4 GiB + 64 KiB of DRAM: the 4 GiB table sits at [64 KiB, 4 GiB + 64 KiB), and
    // the 16384 four-byte frames below it form the pool.
    let dram = "(capacity_bytes: 0x100010000, timing: Fixed(latency: 10))";
    let m =
        machine(&config("Flat(page_bytes: 4)", USER, dram, DATA_RW), "W 0x1000 0x2a\nR 0x1000\nR 0x1004\n");
    let r = m.report();
    // Access 1, W 0x1000: cpu 1, L1 miss 1 -> 2; PTE at 0x10000 + (0x1000 >> 2) × 4
    //   = 0x11000, read 10 -> 12, invalid; 1100 -> 1112; the word goes to frame 0.
    //   Retry: L1 miss -> 1113, PTE 10 -> 1123, A|D write 10 -> 1133, data write 10
    //   -> 1143.
    // Access 2, R 0x1000: 1 + 1 (hit) + 10 -> 1155.
    // Access 3, R 0x1004, the next word, another page: cpu 1, L1 miss 1 -> 1157;
    //   PTE 0x11004 10 -> 1167, invalid; 1100 -> 2267; frame 1. Retry: L1 miss ->
    //   2268, PTE 10 -> 2278, A write 10 -> 2288, data read 10 -> 2298.
    assert_eq!(r.cycles, 2298);
    assert_eq!((r.walker.walks, r.walker.pte_reads, r.walker.pte_writes, r.os.demand_zero), (4, 4, 2, 2));
    assert_eq!((r.os.frames_total, r.os.page_table_frames, r.os.data_frames), (16384, 0, 2));
    assert_eq!(r.page_table_bytes, 4 << 30, "2^30 PTEs of 4 bytes");
    assert_eq!(r.page_table_touched_bytes, 4096, "both PTEs sit in one 4 KiB chunk");
    // PTEs: frame 0 | V R W U (0x17) | A D (0xc0); frame 1 (1 << 10) | 0x17 | A.
    assert_eq!((m.peek_phys(0x11000), m.peek_phys(0x11004)), (0xd7, 0x457));
    assert_eq!((m.peek_phys(0), m.peek_phys(4)), (0x2a, 0));
    assert_eq!(r.data_checksum, fnv(&[0x2a, 0]));
    assert!(m.host_memory_bytes() <= 3 * 4096, "the table, the data and nothing else");
}

#[test]
fn radix_three_levels_read_three_ptes() {
    let format = "Radix(index_bits: [4, 8, 8], page_bits: 12)";
    let m = machine(&config(format, USER, FIXED_1M, DATA_RW), "W 0x1000 0x2a\nR 0x1000\n");
    let r = m.report();
    // W 0x1000 (VPN[2] = 0, VPN[1] = 0, VPN[0] = 1): cpu 1, miss 1 -> 2; root PTE
    //   10 -> 12, invalid at level 2; 1100 -> 1112: level-1 table in frame 1, level-0
    //   in frame 2, page in frame 3. Retry: miss -> 1113, three PTEs 30 -> 1143,
    //   A|D 10 -> 1153, data 10 -> 1163. R: 1 + 1 + 10 -> 1175.
    assert_eq!(r.cycles, 1175);
    assert_eq!(
        (r.walker.pte_reads, r.walker.pte_writes, r.os.page_table_frames, r.page_table_bytes),
        (4, 1, 3, 3 * 4096)
    );
    // Root PTE 0 -> frame 1 (0x401), level-1 PTE 0 -> frame 2 (0x801), leaf PTE 1 ->
    // frame 3 with V R W U A D (0xd7).
    assert_eq!((m.peek_phys(0), m.peek_phys(0x1000), m.peek_phys(0x2004)), (0x401, 0x801, 0xcd7));
}

#[test]
fn a_radix_root_larger_than_a_page_takes_contiguous_frames() {
    // [16, 4] + 12: a 2^16-entry root (256 KiB, frames 0..63), 64-byte leaf tables.
    let format = "Radix(index_bits: [16, 4], page_bits: 12)";
    let m = machine(&config(format, USER, FIXED_1M, DATA_RW), "W 0x1000 0x2a\n");
    let r = m.report();
    // 0x1000: VPN[1] = 0, VPN[0] = 1. The leaf table is frame 64, the page frame 65.
    assert_eq!((r.os.page_table_frames, r.os.data_frames), (65, 1));
    assert_eq!(m.peek_phys(0), (64 << 10) | 1);
    assert_eq!(m.peek_phys(0x40004), (65 << 10) | 0xd7);
    assert_eq!(m.peek_phys(0x41000), 0x2a);
    assert_eq!(r.page_table_bytes, 65 * 4096);
}

#[test]
fn a_large_root_comes_from_the_table_pool_when_data_frames_split_one_off() {
    // 256 frames: `data_frames: Some(16)` leaves frames 16..255 to page tables. The
    // 64-frame root of [16, 4] + 12 takes 16..79, the leaf table 80; data frame 0.
    let format = "Radix(index_bits: [16, 4], page_bits: 12)";
    let text = config(format, USER, FIXED_1M, DATA_RW)
        .replace("demand_zero_cycles: 1000)", "demand_zero_cycles: 1000, data_frames: Some(16))");
    let m = machine(&text, "W 0x1000 0x2a\n");
    let r = m.report();
    assert_eq!((r.os.page_table_frames, r.os.data_frames, r.os.data_frames_total), (65, 1, 16));
    assert_eq!(m.peek_phys(16 * 4096), (80 << 10) | 1, "root PTE 0 points to frame 80");
    assert_eq!(m.peek_phys(80 * 4096 + 4), 0xd7, "leaf PTE 1 maps frame 0, V R W U A D");
    assert_eq!(m.peek_phys(0), 0x2a);
    // 200 data frames would leave 56 for tables: fewer than the root alone needs.
    let text = text.replace("data_frames: Some(16)", "data_frames: Some(200)");
    let err = parse_config(&text, "x.ron").unwrap_err().to_string();
    assert!(err.contains("os.data_frames") && err.contains("65 page-table frames"), "{err}");
}

/// 1 MiB; 4 banks of 1 KiB rows, 64-byte bursts, `[Row, Bank, Rank, Channel,
/// Column]`: bank = address bits 11..10, row = bits 19..12, so frame n (page
/// aligned, small offsets) is row n of bank 0. tRCD 11, tCL 13, tRP 17, tRAS 60,
/// burst 4: a miss costs 28, a hit 17, a conflict 45 (once tRAS has passed).
fn banked(policy: &str) -> String {
    format!(
        "(capacity_bytes: 0x100000, timing: Banked(channels: 1, ranks: 1, banks: 4, row_bytes: 1024, \
         burst_bytes: 64, mapping: [Row, Bank, Rank, Channel, Column], policy: {policy}, \
         t_rcd: 11, t_cl: 13, t_rp: 17, t_ras: 60, t_burst: 4))"
    )
}

#[test]
fn open_page_dram_cycle_by_cycle() {
    let r =
        machine(&config("Sv32", USER, &banked("OpenPage"), DATA_RW), "W 0x1000 0x2a\nR 0x1000\n").report();
    // Root table frame 0 (row 0), level-0 table frame 1 (row 1), page frame 2 (row 2).
    // W: cpu 1, L1 miss 1 -> 2; root PTE (row 0, bank closed): miss, ACT at 2, data
    //   at 30; invalid; 1100 -> 1130. Retry: L1 -> 1131; root PTE, row 0 open: hit
    //   -> 1148; leaf PTE 0x1004, row 1: conflict, PRE at max(1148, 2 + 60) = 1148,
    //   ACT 1165, data 1193; A|D write, row 1 open: hit -> 1210; data write 0x2000,
    //   row 2: conflict, PRE waits for tRAS: max(1210, 1165 + 60) = 1225, ACT 1242,
    //   data 1270.
    // R: cpu 1, L1 hit 1 -> 1272; row 2 open: hit -> 1289.
    assert_eq!(r.cycles, 1289);
    let (pt, data) = (&r.dram.page_table, &r.dram.data);
    assert_eq!((pt.requests, pt.row_hits, pt.row_misses, pt.row_conflicts), (4, 2, 1, 1));
    assert_eq!(pt.latency_cycles, 28 + 17 + 45 + 17);
    assert_eq!(r.walker.walk_cycles, pt.latency_cycles, "walks are their DRAM requests here");
    assert_eq!((data.requests, data.row_hits, data.row_conflicts, data.latency_cycles), (2, 1, 1, 60 + 17));
    assert_eq!(r.averages.dram_page_table_latency, Some(26.75));
}

#[test]
fn closed_page_dram_cycle_by_cycle() {
    let r =
        machine(&config("Sv32", USER, &banked("ClosedPage"), DATA_RW), "W 0x1000 0x2a\nR 0x1000\n").report();
    // Every request: ACT at start, data 28 later, PRE at max(data, ACT + 60), the
    // bank busy until PRE + 17. All six requests go to bank 0.
    // W: cpu 1, L1 -> 2; root: data 30 (busy to 62 + 17 = 79); fault, -> 1130.
    //   Retry: L1 -> 1131; root: ACT 1131, data 1159, busy to 1191 + 17 = 1208; leaf
    //   waits: ACT 1208, data 1236, busy to 1285; A|D write: ACT 1285, data 1313,
    //   busy to 1362; data write: ACT 1362, data 1390, busy to 1439.
    // R: cpu 1, L1 hit 1 -> 1392; waits: ACT 1439, data 1467.
    assert_eq!(r.cycles, 1467);
    assert_eq!((r.dram.row_hits, r.dram.row_misses, r.dram.row_conflicts), (0, 6, 0));
    assert_eq!(r.dram.data.latency_cycles, (1390 - 1313) + (1467 - 1392), "issue to data, waits included");
}

/// Machines of every format over a 16 KiB region at 0x10000, with fixed DRAM.
fn every_format() -> Vec<(&'static str, String)> {
    let region = r#"(name: "data", base: 0x10000, size: 0x4000, perms: "rw-")"#;
    let small = "(capacity_bytes: 0x100000, timing: Fixed(latency: 3))";
    let flat_words = "(capacity_bytes: 0x100010000, timing: Fixed(latency: 3))";
    vec![
        ("sv32", config("Sv32", USER, small, region)),
        ("x86_32", config("X86_32(pse: true)", USER, small, region)),
        ("flat words", config("Flat(page_bytes: 4)", USER, flat_words, region)),
        (
            "flat 1 KiB",
            config(
                "Flat(page_bytes: 1024)",
                USER,
                "(capacity_bytes: 0x2000000, timing: Fixed(latency: 3))",
                region,
            ),
        ),
        ("radix", config("Radix(index_bits: [4, 8, 8], page_bits: 12)", USER, small, region)),
        ("radix 64 B pages", config("Radix(index_bits: [10, 8, 8], page_bits: 6)", USER, small, region)),
        ("sv32 banked", config("Sv32", USER, &banked("OpenPage"), region)),
    ]
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(24))]

    #[test]
    fn every_format_loads_what_a_plain_map_predicts(
        ops in proptest::collection::vec((any::<bool>(), 0u32..0x1000, any::<u32>()), 1..150),
    ) {
        // The oracle: the last value stored at each address, zero if none.
        let mut memory: BTreeMap<u32, u32> = BTreeMap::new();
        let mut loaded = Vec::new();
        let mut trace = String::new();
        for &(store, word, value) in &ops {
            let va = 0x10000 + word * 4;
            if store {
                memory.insert(va, value);
                trace.push_str(&format!("W {va:#x} {value:#x}\n"));
            } else {
                loaded.push(memory.get(&va).copied().unwrap_or(0));
                trace.push_str(&format!("R {va:#x}\n"));
            }
        }
        for (name, text) in every_format() {
            let r: Report = machine(&text, &trace).report();
            prop_assert_eq!(r.data_checksum, fnv(&loaded), "{}", name);
            prop_assert!(r.segfaults.is_empty(), "{}", name);
        }
    }
}
