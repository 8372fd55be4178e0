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

/// A scratch directory for one test, removed when dropped.
struct Scratch(std::path::PathBuf);

impl Scratch {
    fn new(name: &str) -> Self {
        let dir = std::env::temp_dir().join(format!("mmu-sim-os-{name}-{}", std::process::id()));
        std::fs::create_dir_all(&dir).expect("temp dir");
        Scratch(dir)
    }
    /// `configs/sv32-small.ron` with each `(from, to)` replacement made, written as `name`.
    fn small_with(&self, name: &str, edits: &[(&str, &str)]) -> String {
        let mut text = std::fs::read_to_string(
            std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("configs/sv32-small.ron"),
        )
        .unwrap();
        for (from, to) in edits {
            assert!(text.contains(from), "sv32-small.ron has no `{from}`");
            text = text.replace(from, to);
        }
        let path = self.0.join(name);
        std::fs::write(&path, text).unwrap();
        path.to_str().unwrap().to_string()
    }
}

impl Drop for Scratch {
    fn drop(&mut self) {
        std::fs::remove_dir_all(&self.0).ok();
    }
}

#[test]
fn run_time_errors_of_the_machine_name_the_config_file() {
    let dir = Scratch::new("runtime");
    // 64 KiB of DRAM: 16 frames, fewer than the 512 heap pages touched, no swap.
    let small = dir.small_with("small-dram.ron", &[("capacity_bytes: 0x1000000", "capacity_bytes: 0x10000")]);
    let out = mmu_sim(&["run", &small]);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "{stderr}");
    assert!(stderr.starts_with(&format!("error: {small}: physical memory exhausted: ")), "{stderr}");
    // One page of swap fills at the second dirty eviction.
    let swap = dir.small_with(
        "small-swap.ron",
        &[
            ("capacity_bytes: 0x1000000", "capacity_bytes: 0x10000"),
            (
                "demand_zero_cycles: 2000)",
                "demand_zero_cycles: 2000, swap: Some((capacity_bytes: 0x1000, read_latency: 1, write_latency: 1)))",
            ),
        ],
    );
    let out = mmu_sim(&["run", &swap]);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "{stderr}");
    assert!(stderr.starts_with(&format!("error: {swap}: swap device full: ")), "{stderr}");
}

#[test]
fn a_cycle_count_that_would_overflow_stops_the_run_naming_the_cost() {
    // The rule: `Cycle + Cycles` saturates at 2^64 - 1, so a run that reaches it
    // has lost cycles; it must stop with an error, not report a saturated count.
    let dir = Scratch::new("overflow");
    let huge = dir.small_with("huge.ron", &[("trap_cycles: 200", "trap_cycles: 0xffffffffffffffff")]);
    let out = mmu_sim(&["run", &huge, "--format", "json"]);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "{stderr}");
    assert!(out.stdout.is_empty());
    assert!(
        stderr.contains(&format!(
            "{huge}: the simulated clock would pass 2^64 - 1 cycles at access 1, so `cycles` and the other cycle \
             counters would be wrong: `os.trap_cycles` is 18446744073709551615 cycles"
        )),
        "{stderr}"
    );
    // Costs that are each fine but add up past 2^64: 2^62 cycles per access.
    let sum = dir.small_with("sum.ron", &[("cycles_per_access: 1", "cycles_per_access: 0x4000000000000000")]);
    let out = mmu_sim(&["run", &sum]);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "{stderr}");
    assert!(stderr.contains("the simulated clock would pass 2^64 - 1 cycles at access 4"), "{stderr}");
}

#[test]
fn opt_on_a_look_ahead_too_large_for_host_memory_is_refused_before_the_run() {
    // The rule: 8 bytes per access. 2^61 accesses need 2^64 bytes, more than any
    // host can allocate; the run must stop at once with that figure, not abort.
    let dir = Scratch::new("opt-huge");
    let config = dir.small_with(
        "opt.ron",
        &[
            ("demand_zero_cycles: 2000)", "demand_zero_cycles: 2000, replacement: Opt)"),
            ("accesses: 200000", "accesses: 0x2000000000000000"),
        ],
    );
    let started = std::time::Instant::now();
    let out = mmu_sim(&["run", &config]);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "{stderr}");
    assert!(
        stderr.contains(&format!(
            "{config}: OPT's look-ahead needs 18446744073709551616 bytes of host memory (8 per access, for \
             2305843009213693952 accesses)"
        )),
        "{stderr}"
    );
    assert!(started.elapsed() < std::time::Duration::from_secs(10), "refused before the run");
}
