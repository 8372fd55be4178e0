//! Whole-run tests over the shipped configs and the malformed ones.

use std::path::{Path, PathBuf};
use std::process::Command;

fn configs() -> Vec<PathBuf> {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("configs");
    let mut files: Vec<PathBuf> = std::fs::read_dir(&dir)
        .expect("configs/ exists")
        .map(|e| e.expect("readable dir entry").path())
        .filter(|p| p.extension().is_some_and(|e| e == "ron"))
        .collect();
    files.sort();
    files
}

#[test]
fn every_shipped_config_parses_and_validates() {
    let files = configs();
    assert!(files.len() >= 2, "configs/ ships at least two configs");
    for path in files {
        if let Err(e) = mmu_sim::load_config(&path) {
            panic!("{} does not load: {e}", path.display());
        }
    }
}

#[test]
fn every_shipped_config_report_matches_its_snapshot() {
    insta::glob!("../configs", "*.ron", |path| {
        let report = mmu_sim::run_file(path, None).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
        insta::assert_yaml_snapshot!(report);
    });
}

#[test]
fn every_malformed_config_gives_one_clear_error() {
    insta::glob!("bad-configs", "*.ron", |path| {
        let err = mmu_sim::run_file(path, None).expect_err("a malformed config must be refused");
        assert_eq!(err.exit_code(), 2, "{err}");
        let message = err.to_string().replace('\\', "/");
        let origin = path.display().to_string().replace('\\', "/");
        assert!(message.starts_with(&origin), "the error names the file: {message}");
        assert!(!message.contains('\n'), "one paragraph: {message}");
        let relative = message.replacen(&origin, "<config>", 1);
        insta::assert_snapshot!(relative);
    });
}

fn mmu_sim(args: &[&str]) -> std::process::Output {
    Command::new(env!("CARGO_BIN_EXE_mmu-sim"))
        .args(args)
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .output()
        .expect("the binary runs")
}

#[test]
fn json_report_is_byte_identical_across_runs_and_has_the_documented_fields() {
    let first = mmu_sim(&["run", "configs/sv32-small.ron", "--format", "json"]);
    let second = mmu_sim(&["run", "configs/sv32-small.ron", "--format", "json"]);
    assert!(first.status.success(), "{}", String::from_utf8_lossy(&first.stderr));
    assert_eq!(first.stdout, second.stdout, "same config and seed give identical bytes");

    let v: serde_json::Value = serde_json::from_slice(&first.stdout).expect("valid JSON");
    let u = |pointer: &str| {
        v.pointer(pointer).and_then(serde_json::Value::as_u64).unwrap_or_else(|| panic!("missing {pointer}"))
    };
    // Independent facts about this config: 200 000 accesses over 512 pages.
    assert_eq!(u("/accesses"), 200_000);
    assert_eq!(u("/faults/not_present"), 512, "one demand-zero fault per page of the 2 MiB heap");
    for level in ["l1d", "l2"] {
        assert!(u(&format!("/tlb/{level}/hits")) > 0, "{level} hits");
        assert!(u(&format!("/tlb/{level}/misses")) > 0, "{level} misses");
    }
    assert!(u("/walks") > 0);
    assert!(u("/pte_reads") >= u("/walks"), "every walk reads at least the root PTE");
    assert!(u("/cycles") > u("/accesses"));
    assert_eq!(u("/dram/writes"), u("/dram/data_writes") + u("/dram/page_table_writes"));
    assert_eq!(u("/dram/data_reads") + u("/dram/data_writes"), 200_000, "every access reaches DRAM once");
    // Sv32 page tables for one 2 MiB region: the root and one level-0 table.
    assert_eq!(u("/page_table_bytes"), 2 * 4096);
    assert_eq!(v.pointer("/seed").and_then(serde_json::Value::as_u64), Some(1));
}

#[test]
fn ron_and_table_formats_print() {
    let ron = mmu_sim(&["run", "configs/sv32-small.ron", "--format", "ron"]);
    assert!(ron.status.success());
    assert!(String::from_utf8_lossy(&ron.stdout).contains("page_table_bytes: 8192"));
    let table = mmu_sim(&["run", "configs/sv32-small.ron"]);
    assert!(String::from_utf8_lossy(&table.stdout).contains("l1d"));
}

#[test]
fn a_malformed_config_exits_non_zero_with_a_message_and_no_panic() {
    let out = mmu_sim(&["run", "tests/bad-configs/ways-not-dividing.ron"]);
    assert_eq!(out.status.code(), Some(2));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains("tlb.l1[0].ways") && stderr.contains("(3)"), "{stderr}");
    assert!(!stderr.contains("panicked"), "{stderr}");
    assert!(out.stdout.is_empty());
}

#[test]
fn a_missing_file_is_an_error_not_a_panic() {
    let out = mmu_sim(&["run", "configs/does-not-exist.ron"]);
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("does-not-exist.ron"));
}

#[test]
fn trace_override_runs_a_trace_and_reports_bad_lines() {
    let dir = std::env::temp_dir().join(format!("mmu-sim-test-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let good = dir.join("good.trace");
    std::fs::write(&good, "W 0x10000000 0x2a\nR 0x10000000\nR 0x10000003\n").unwrap();
    let out =
        mmu_sim(&["run", "configs/sv32-small.ron", "--trace", good.to_str().unwrap(), "--format", "json"]);
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(v["accesses"], 3);
    assert_eq!(v["faults"]["alignment"], 1);

    let bad = dir.join("bad.trace");
    std::fs::write(&bad, "R 0x10000000\nR 0x1234567890\n").unwrap();
    let out = mmu_sim(&["run", "configs/sv32-small.ron", "--trace", bad.to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(1));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains("bad.trace:2:") && stderr.contains("64-bit"), "{stderr}");
    std::fs::remove_dir_all(&dir).ok();
}

#[test]
fn cycles_are_the_sum_of_every_cost_in_the_report() {
    // With fixed DRAM latency and no overlap, a run's cycles decompose exactly:
    // cpu work + TLB lookups × latency + walk cycles + data accesses × DRAM latency
    // + faults × handler cost. This checks the accounting against the counters.
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("configs/sv32-small.ron");
    let r = mmu_sim::run_file(&path, None).unwrap();
    let c = &r.config;
    let tlb_cycles: u64 =
        c.tlb.levels().zip(&r.tlb.0).map(|(cfg, (_, s))| s.lookups * cfg.hit_latency.as_u64()).sum();
    let mmu_core::DramTiming::Fixed { latency } = c.dram.timing else {
        panic!("configs/sv32-small.ron uses fixed DRAM timing");
    };
    let data = (r.dram.data_reads + r.dram.data_writes) * latency.as_u64();
    let faults = r.os.demand_zero * (c.os.trap_cycles.as_u64() + c.os.demand_zero_cycles.as_u64());
    let cpu = r.accesses * c.cpu.cycles_per_access.as_u64();
    assert_eq!(r.walker.walk_cycles, (r.walker.pte_reads + r.walker.pte_writes) * latency.as_u64());
    assert_eq!(r.cycles, cpu + tlb_cycles + r.walker.walk_cycles + data + faults);
}
