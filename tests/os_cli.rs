//! The OS model through the binary: `--check`, and OPT reading a trace ahead.

use std::process::Command;

fn mmu_sim(args: &[&str]) -> std::process::Output {
    Command::new(env!("CARGO_BIN_EXE_mmu-sim"))
        .args(args)
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .output()
        .expect("the binary runs")
}

#[test]
fn check_flag_reports_what_the_oracle_verified() {
    let out = mmu_sim(&["run", "configs/swapping-clock.ron", "--check", "--format", "json"]);
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let loads = v["check"]["loads_checked"].as_u64().unwrap();
    assert_eq!(loads, v["dram"]["data_reads"].as_u64().unwrap(), "every load was checked");
    assert!(v["os"]["swap_ins"].as_u64().unwrap() > 0);
    let table = mmu_sim(&["run", "configs/swapping-clock.ron", "--check"]);
    assert!(String::from_utf8_lossy(&table.stdout).contains("loads matched the reference memory"));
    // Without the flag the report says the oracle was off.
    let plain = mmu_sim(&["run", "configs/seed-fragmentation.ron", "--format", "json"]);
    let v: serde_json::Value = serde_json::from_slice(&plain.stdout).unwrap();
    assert!(v["check"].is_null());
}

#[test]
fn opt_reads_a_trace_file_ahead_and_beats_fifo_on_the_book_string() {
    let dir = std::env::temp_dir().join(format!("mmu-sim-os-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let trace = dir.join("book.trace");
    let refs = [7, 0, 1, 2, 0, 3, 0, 4, 2, 3, 0, 3, 2, 1, 2, 0, 1, 7, 0, 1];
    std::fs::write(&trace, refs.iter().map(|p: &u32| format!("R {:#x}\n", p << 12)).collect::<String>())
        .unwrap();
    let config = |policy: &str| {
        let path = dir.join(format!("{policy}.ron"));
        std::fs::write(
            &path,
            format!(
                r#"(seed: 1, cpu: (cycles_per_access: 1), mmu: (format: Sv32),
    tlb: (l1: [(name: "l1d", serves: Both, entries: 4, ways: 4, hit_latency: 1)]),
    dram: (capacity_bytes: 0x10000, timing: Fixed(latency: 10)),
    os: (trap_cycles: 1, demand_zero_cycles: 1, data_frames: Some(3), replacement: {policy},
         swap: Some((capacity_bytes: 0x10000, read_latency: 1, write_latency: 1))),
    processes: [(name: "p", regions: [(name: "d", base: 0, size: 0x10000, perms: "rw-")])],
    workload: Trace(path: "book.trace"))"#
            ),
        )
        .unwrap();
        let out = mmu_sim(&["run", path.to_str().unwrap(), "--check", "--format", "json"]);
        assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
        let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
        v["os"]["demand_zero"].as_u64().unwrap() + v["os"]["swap_ins"].as_u64().unwrap()
    };
    assert_eq!((config("Opt"), config("Fifo")), (9, 15));
    std::fs::remove_dir_all(&dir).ok();
}
