//! Properties of the OS model over random workloads: OPT is optimal, nothing
//! written is ever lost across swapping, and no process ever reaches another's
//! private frames.

use cpu_sim::testing::{ConfigBuilder, os_swapping};
use cpu_sim::{Machine, Report, Workload, parse_config};
use os_model::{Owner, PageKey};
use proptest::prelude::*;
use std::collections::BTreeMap;

const POLICIES: [&str; 5] = ["Fifo", "Lru", "Clock", "Random", "Opt"];

fn one_process(policy: &str, frames: u64) -> String {
    ConfigBuilder::default()
        .seed(3)
        .tlb(r#"(l1: [(name: "l1d", serves: Both, entries: 4, ways: 2, hit_latency: 1)])"#)
        .os(os_swapping(frames, policy))
        .processes(r#"[(name: "p", regions: [(name: "data", base: 0, size: 0x100000, perms: "rw-")])]"#)
        .text()
}

/// Three processes: each has private pages at the same addresses, and all map
/// one shared object ("c", as in the seed: A and B share C's memory), process 2
/// at another address than the others.
fn three_processes(policy: &str, frames: u64) -> String {
    ConfigBuilder::default()
        .seed(5)
        .tlb(
            r#"(l1: [(name: "l1d", serves: Both, entries: 8, ways: 2, hit_latency: 1)],
                l2: Some((name: "l2", serves: Both, entries: 16, ways: 4, hit_latency: 4)))"#,
        )
        .os(format!(
            "(trap_cycles: 100, demand_zero_cycles: 1000, data_frames: Some({frames}), replacement: {policy},
              context_switch_cycles: 500,
              swap: Some((capacity_bytes: 0x100000, read_latency: 1000, write_latency: 2000)))"
        ))
        .processes(
            r#"[
        (name: "A", regions: [(name: "own", base: 0x10000, size: 0x4000, perms: "rw-"),
                              (name: "c", base: 0x40000, size: 0x2000, perms: "rw-", shared: Some("c"))]),
        (name: "B", regions: [(name: "own", base: 0x10000, size: 0x4000, perms: "rw-"),
                              (name: "c", base: 0x40000, size: 0x2000, perms: "rw-", shared: Some("c"))]),
        (name: "C", regions: [(name: "own", base: 0x10000, size: 0x4000, perms: "rw-"),
                              (name: "c", base: 0x90000, size: 0x2000, perms: "rw-", shared: Some("c"))]),
    ]"#,
        )
        .text()
}

fn run_checked(config_text: &str, trace: &str) -> (Report, Machine) {
    let config = parse_config(config_text, "test.ron").unwrap();
    let mut m = Machine::new(&config).unwrap();
    m.enable_check();
    if m.needs_future() {
        cpu_sim::runner::learn_future(&mut m, Workload::trace(trace.as_bytes(), "t"), "t", None).unwrap();
    }
    if let Err(e) = cpu_sim::runner::run(&mut m, Workload::trace(trace.as_bytes(), "t"), "t") {
        panic!("{e}\ntrace:\n{trace}");
    }
    (m.report(), m)
}

/// Checks from the outside, by walking every live page table, that each mapped
/// frame holds a page its process may see: its own private page at that address,
/// or a page of a shared object it maps, and that no frame serves two pages.
fn assert_isolated(m: &Machine) {
    let mut frame_page: BTreeMap<u32, PageKey> = BTreeMap::new();
    for (pid, va, ppn, key) in m.os().mappings_now(m.dram()) {
        let key = key
            .unwrap_or_else(|| panic!("process {pid} maps {va} to frame {ppn:?}, which holds no data page"));
        match key.owner {
            Owner::Process(owner) => {
                assert_eq!(owner, pid, "process {pid} maps {va} to a private frame of process {owner}");
                assert_eq!(key.page, va.as_u32() >> 12, "process {pid} maps {va} to its page {}", key.page);
            }
            Owner::Shared(_) => {
                let p = m.os().process(pid).unwrap();
                assert!(
                    m.os().word_key(pid, va).is_some_and(|(o, _)| o == key.owner),
                    "process {} maps {va} to a shared page of an object it does not map there",
                    p.name
                );
            }
        }
        if let Some(previous) = frame_page.insert(ppn.as_u32(), key) {
            assert_eq!(previous, key, "frame {ppn:?} serves two pages");
        }
    }
}

fn op() -> impl Strategy<Value = String> {
    prop_oneof![
        1 => (0u32..3).prop_map(|p| format!("P {p}")),
        6 => (any::<bool>(), 0u32..4, 0u32..4).prop_map(|(w, page, word)| {
            format!("{} {:#x}", if w { "W" } else { "R" }, 0x10000 + page * 0x1000 + word * 4)
        }),
        3 => (any::<bool>(), 0u32..2, 0u32..4, any::<bool>()).prop_map(|(w, page, word, low)| {
            // Process 2 maps the shared object at 0x90000; the others at 0x40000.
            // An address of the other mapping is outside process 2's (or the
            // others') regions only if it is chosen for the wrong process, so
            // both addresses are valid for somebody: segfaults happen too.
            let base = if low { 0x40000 } else { 0x90000 };
            format!("{} {:#x}", if w { "W" } else { "R" }, base + page * 0x1000 + word * 4)
        }),
    ]
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 48, ..ProptestConfig::default() })]

    #[test]
    fn opt_never_faults_more_than_any_other_policy(
        refs in prop::collection::vec((0u32..9, any::<bool>()), 1..80),
        frames in 1u64..6,
    ) {
        let trace: String = refs
            .iter()
            .map(|&(page, write)| format!("{} {:#x}\n", if write { "W" } else { "R" }, page << 12))
            .collect();
        let faults: Vec<u64> = POLICIES
            .iter()
            .map(|p| {
                let (r, _) = run_checked(&one_process(p, frames), &trace);
                r.os.demand_zero + r.os.swap_ins
            })
            .collect();
        for (policy, &f) in POLICIES.iter().zip(&faults) {
            prop_assert!(faults[4] <= f, "OPT {} faults, {policy} {f}", faults[4]);
        }
    }

    #[test]
    fn loads_see_the_last_store_and_processes_never_touch_each_others_frames(
        ops in prop::collection::vec(op(), 1..200),
        frames in 1u64..5,
        policy in 0usize..5,
    ) {
        let trace = ops.join("\n") + "\n";
        let (r, m) = run_checked(&three_processes(POLICIES[policy], frames), &trace);
        assert_isolated(&m);
        let check = r.check.unwrap();
        prop_assert_eq!(check.loads_checked + check.stores_recorded + r.skipped_accesses
            + r.segfaults.len() as u64, r.accesses);
    }
}
