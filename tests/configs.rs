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
    // The same terms, cause by cause (no swap, one process: the rest is 0).
    let b = &r.cycles_by_cause;
    assert_eq!(
        (b.cpu, b.tlb_lookups, b.page_walks, b.dram_data, b.fault_handling),
        (cpu, tlb_cycles, r.walker.walk_cycles, data, faults)
    );
    assert_eq!((b.swap_io, b.context_switches, b.idle), (0, 0, 0));
}

/// Runs the shipped config at `name` with its window replaced by `window`.
fn run_window(name: &str, window: cpu_sim::window::Window, check: bool) -> mmu_sim::RunOutcome {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("configs").join(name);
    let mut config = mmu_sim::load_config(&path).unwrap();
    config.window = window;
    let options = mmu_sim::RunOptions { check, ..mmu_sim::RunOptions::default() };
    mmu_sim::run_with(&config, &path, &options).unwrap_or_else(|e| panic!("{name}: {e}"))
}

/// Every integer leaf of a report's counters, by JSON path, for subtraction.
fn counters(report: &cpu_sim::Report) -> Vec<(String, u64)> {
    fn walk(prefix: &str, v: &serde_json::Value, out: &mut Vec<(String, u64)>) {
        match v {
            serde_json::Value::Object(map) => {
                for (k, v) in map {
                    walk(&format!("{prefix}/{k}"), v, out);
                }
            }
            serde_json::Value::Number(n) => {
                if let Some(n) = n.as_u64() {
                    out.push((prefix.to_string(), n));
                }
            }
            _ => {}
        }
    }
    let v = serde_json::to_value(report).unwrap();
    let mut out = Vec::new();
    for section in ["tlb", "walk_cache", "tlb_invalidations", "faults", "dram"] {
        walk(&format!("/{section}"), &v[section], &mut out);
    }
    for key in ["accesses", "cycles", "walks", "pte_reads", "pte_writes", "walk_cycles", "faulting_walks"] {
        out.push((format!("/{key}"), v[key].as_u64().unwrap()));
    }
    // The OS's event counters (the rest of `os` are gauges: frames, slots in use).
    for key in [
        "demand_zero",
        "swap_ins",
        "evictions",
        "dirty_writebacks",
        "clean_evictions",
        "shootdowns",
        "swap_reads",
        "swap_writes",
    ] {
        out.push((format!("/os/{key}"), v["os"][key].as_u64().unwrap()));
    }
    out
}

#[test]
fn a_warm_up_run_counts_the_whole_run_minus_its_prefix() {
    use cpu_sim::window::Window;
    // swapping-lru: three processes, 30 000 accesses, heavy swapping; deterministic.
    let config = "swapping-lru.ron";
    let whole = run_window(config, Window::default(), false).report;
    let k = 12_345;
    let prefix = run_window(config, Window { max: Some(k), ..Window::default() }, false).report;
    let warm = run_window(config, Window { warmup: k, ..Window::default() }, false).report;
    assert_eq!(prefix.accesses, k);
    let w = warm.window.as_ref().expect("a window section");
    assert_eq!((w.skipped, w.warmup, w.measured), (0, k, whole.accesses - k));
    assert_eq!(w.skipped + w.warmup + w.measured, whole.accesses, "skip + warm-up + counted = the whole run");
    let (whole, prefix, warm) = (counters(&whole), counters(&prefix), counters(&warm));
    assert!(whole.len() > 40, "{} counters compared", whole.len());
    for (((path, a), (_, b)), (_, c)) in whole.iter().zip(&prefix).zip(&warm) {
        assert_eq!(*c, a - b, "{path}: whole {a} - prefix {b}");
    }
}

#[test]
fn mrc_without_a_curve_names_both_kinds() {
    // Neither --tlb nor --frames: the error names both (it named only --tlb).
    let out = mmu_sim(&["mrc", "configs/explain-demo.ron"]);
    assert_eq!(out.status.code(), Some(2));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains("--tlb <NAME>|--frames"), "{stderr}");
    let both = mmu_sim(&["mrc", "configs/explain-demo.ron", "--tlb", "l1d", "--frames", "2"]);
    assert_eq!(both.status.code(), Some(2), "{}", String::from_utf8_lossy(&both.stderr));
}

#[test]
fn sweep_and_mrc_say_when_the_window_does_not_fit() {
    // explain-demo has 6 accesses.
    let cases: [(&[&str], &str); 4] = [
        (
            &["sweep", "configs/explain-demo.ron", "--vary", "seed=1,2", "--warmup", "10"],
            "ended during the warm-up (6 of 10 accesses)",
        ),
        (&["sweep", "configs/explain-demo.ron", "--vary", "seed=1", "--skip", "10"], "within the 10 to skip"),
        (
            &["mrc", "configs/explain-demo.ron", "--tlb", "l1d", "--sizes", "4", "--warmup", "10"],
            "ended during the warm-up (6 of 10 accesses)",
        ),
        (&["mrc", "configs/explain-demo.ron", "--frames", "2", "--skip", "10"], "the curve is empty"),
    ];
    for (args, wanted) in cases {
        let out = mmu_sim(args);
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert!(out.status.success(), "{args:?}: {stderr}");
        assert!(stderr.contains("warning: ") && stderr.contains(wanted), "{args:?}: {stderr}");
    }
    // Without --interval-out (sweep) or at all (mrc), a config's `window.interval` is said to be ignored.
    for args in [
        &["sweep", "configs/explain-demo.ron", "--vary", "seed=1", "--set", "window=(interval: Some(2))"][..],
        &[
            "mrc",
            "configs/explain-demo.ron",
            "--tlb",
            "l1d",
            "--sizes",
            "4",
            "--set",
            "window=(interval: Some(2))",
        ],
        &["mrc", "configs/explain-demo.ron", "--frames", "2", "--set", "window=(interval: Some(2))"],
    ] {
        let out = mmu_sim(args);
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert!(out.status.success(), "{args:?}: {stderr}");
        assert!(stderr.contains("warning: the config's `window.interval` is ignored"), "{args:?}: {stderr}");
    }
    let two = mmu_sim(cases[0].0);
    assert!(String::from_utf8_lossy(&two.stderr).contains("(the point seed=1), and 1 more grid point(s)"));
    let fits = mmu_sim(&["sweep", "configs/explain-demo.ron", "--vary", "seed=1", "--warmup", "5"]);
    assert!(fits.stderr.is_empty(), "{}", String::from_utf8_lossy(&fits.stderr));
}

/// A skip, or a skip and a warm-up, of exactly the workload's length measures
/// nothing: said as when the workload ends within them (before, nothing was
/// said, since neither was cut short). A window that measures one access, or
/// one that asks for no skip and no warm-up, is not warned about.
#[test]
fn a_window_that_ends_with_the_workload_is_said() {
    // explain-demo's trace has 6 accesses.
    let warned: [(&[&str], &str); 5] = [
        (
            &["run", "--skip", "6"],
            "warning: the workload ended after 6 accesses, exactly the 6 to skip: nothing was measured",
        ),
        (&["run", "--skip", "6", "--max", "3"], "exactly the 6 to skip: nothing was measured"),
        (
            &["run", "--skip", "2", "--warmup", "4"],
            "warning: the workload ended with the warm-up (4 accesses after 2 skipped): nothing was measured",
        ),
        (
            &["run", "--warmup", "6"],
            "ended with the warm-up (6 accesses after 0 skipped): nothing was measured",
        ),
        (
            &["sweep", "--vary", "seed=1", "--skip", "6"],
            "exactly the 6 to skip: nothing was measured (the point seed=1)",
        ),
    ];
    for (args, wanted) in warned {
        let (command, flags) = args.split_first().unwrap();
        let out = mmu_sim(&[&[*command, "configs/explain-demo.ron"], flags].concat());
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert!(out.status.success(), "{args:?}: {stderr}");
        assert!(stderr.contains(wanted), "{args:?}: {stderr}");
    }
    // One access measured, or a window that stops at `max`: nothing to say.
    for flags in [
        &["--skip", "5"][..],
        &["--skip", "2", "--warmup", "3"],
        &["--skip", "5", "--max", "1"],
        &["--max", "6"],
        &["--max", "2"],
    ] {
        let out = mmu_sim(&[&["run", "configs/explain-demo.ron"], flags].concat());
        assert!(out.status.success());
        assert!(out.stderr.is_empty(), "{flags:?}: {}", String::from_utf8_lossy(&out.stderr));
    }
    // An empty trace with a window of no skip and no warm-up: empty, not cut short.
    let empty = std::env::temp_dir().join(format!("mmu-sim-empty-{}.trace", std::process::id()));
    std::fs::write(&empty, "").unwrap();
    let out = mmu_sim(&["run", "configs/sv32-small.ron", "--trace", empty.to_str().unwrap(), "--max", "1"]);
    std::fs::remove_file(&empty).ok();
    assert!(out.status.success());
    assert!(out.stderr.is_empty(), "{}", String::from_utf8_lossy(&out.stderr));
}

#[test]
fn the_table_says_whether_the_warm_up_reset_the_counters() {
    // explain-demo has 6 accesses: a warm-up of 5 or 6 ends, and resets the
    // counters; one of 7 is cut short by the workload, and resets nothing.
    for (warmup, reset) in [("5", true), ("6", true), ("7", false)] {
        let out = mmu_sim(&["run", "configs/explain-demo.ron", "--warmup", warmup]);
        assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
        let table = String::from_utf8(out.stdout).unwrap();
        let line = table.lines().find(|l| l.trim_start().starts_with("window")).expect("a window line");
        assert_eq!(line.contains("counters reset after it"), reset, "--warmup {warmup}: {line}");
        // The counters are those of the measured part, or of the partial warm-up.
        let measured = if reset { 6 - warmup.parse::<u64>().unwrap() } else { 6 };
        let accesses =
            table.lines().find_map(|l| l.split_whitespace().skip_while(|w| *w != "accesses").nth(1));
        assert_eq!(accesses, Some(measured.to_string().as_str()), "--warmup {warmup}: {table}");
        if !reset {
            assert!(line.contains("the workload ended within it: counters not reset"), "{line}");
        }
    }
}

#[test]
fn skip_warm_up_and_count_add_up_and_opt_and_check_still_hold() {
    use cpu_sim::window::Window;
    let whole = run_window("swapping-opt.ron", Window::default(), true).report;
    let window = Window { skip: 5_000, warmup: 7_000, max: Some(9_000), interval: None };
    let out = run_window("swapping-opt.ron", window, true).report;
    let w = out.window.as_ref().unwrap();
    assert_eq!((w.skipped, w.warmup, w.measured, w.stopped_at_max), (5_000, 7_000, 9_000, true));
    assert_eq!(out.accesses, 9_000);
    assert!(out.check.as_ref().is_some_and(|c| c.loads_checked > 0), "--check held over the window");
    // Without max: the three parts are the whole run.
    let out = run_window("swapping-opt.ron", Window { max: None, ..window }, true).report;
    let w = out.window.as_ref().unwrap();
    assert_eq!(w.skipped + w.warmup + w.measured, whole.accesses);
}

#[test]
fn the_interval_deltas_add_up_to_the_report_totals() {
    use cpu_sim::window::Window;
    let out =
        run_window("sv32-skylake-like.ron", Window { interval: Some(1_000), ..Window::default() }, false);
    let (columns, records) = out.intervals.expect("interval records");
    assert_eq!(records.len(), 16, "16 000 accesses in intervals of 1000");
    let total = |name: &str| {
        let i = columns.0.iter().position(|c| c == name).unwrap_or_else(|| panic!("no column {name}"));
        records.iter().map(|r| r.values[i]).sum::<u64>()
    };
    let r = &out.report;
    assert_eq!(total("accesses"), r.accesses);
    assert_eq!(total("cycles"), r.cycles);
    assert_eq!(total("walks"), r.walker.walks);
    for (name, t) in &r.tlb.0 {
        assert_eq!(total(&format!("tlb.{name}.lookups")), t.lookups, "{name}");
        assert_eq!(total(&format!("tlb.{name}.misses")), t.misses, "{name}");
    }
    let f = &r.faults;
    let faults = f.not_present
        + f.protection
        + f.reserved
        + f.misaligned_superpage
        + f.accessed_dirty
        + f.access_fault;
    assert_eq!(total("faults"), faults);
    assert_eq!(total("dram.row_hits"), r.dram.row_hits);
    assert_eq!(total("os.swap_reads"), r.os.swap_reads);
}

#[test]
fn interval_files_are_csv_or_json_lines_and_a_plot() {
    let dir = std::env::temp_dir().join(format!("mmu-sim-intervals-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let csv = dir.join("i.csv");
    let svg = dir.join("i.svg");
    let out = mmu_sim(&[
        "run",
        "configs/sv32-small.ron",
        "--warmup",
        "50000",
        "--interval",
        "50000",
        "--interval-out",
        csv.to_str().unwrap(),
        "--plot-intervals",
        svg.to_str().unwrap(),
    ]);
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let text = std::fs::read_to_string(&csv).unwrap();
    let lines: Vec<&str> = text.lines().collect();
    assert!(lines[0].starts_with("interval,accesses,cycles,tlb.l1d.lookups,tlb.l1d.misses,"), "{}", lines[0]);
    assert_eq!(lines.len(), 1 + 3, "150 000 measured accesses after the warm-up: 3 intervals");
    let plot = std::fs::read_to_string(&svg).unwrap();
    assert!(
        plot.contains("<svg") && plot.contains("cycles per access") && plot.contains("l1d"),
        "the plot has its series"
    );
    let jsonl = dir.join("i.jsonl");
    let out = mmu_sim(&[
        "run",
        "configs/sv32-small.ron",
        "--interval",
        "100000",
        "--interval-out",
        jsonl.to_str().unwrap(),
    ]);
    assert!(out.status.success());
    let first: serde_json::Value =
        serde_json::from_str(std::fs::read_to_string(&jsonl).unwrap().lines().next().unwrap()).unwrap();
    assert_eq!(first["accesses"], 100_000);
    // Bad uses are named errors.
    let out = mmu_sim(&["run", "configs/sv32-small.ron", "--interval", "10"]);
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("--interval-out"));
    let out = mmu_sim(&["run", "configs/sv32-small.ron", "--warmup", "999999999"]);
    assert!(out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("ended during the warm-up (200000 of 999999999"));
    std::fs::remove_dir_all(&dir).ok();
}

#[test]
fn set_overrides_show_in_the_effective_config_and_bad_ones_name_the_path() {
    let out = mmu_sim(&[
        "run",
        "configs/sv32-small.ron",
        "--set",
        "tlb.l1[0].entries=128",
        "--set",
        "dram.timing=Fixed(latency: 50)",
        "--set",
        "tlb.l2.hit_latency=9",
        "--format",
        "json",
    ]);
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(v["config"]["tlb"]["l1"][0]["entries"], 128);
    assert_eq!(v["config"]["tlb"]["l2"]["hit_latency"], 9, "through the Option's Some");
    assert_eq!(v["config"]["dram"]["timing"]["Fixed"]["latency"], 50);
    // The same run from a file with those values gives the same counters.
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("configs/sv32-small.ron");
    let mut config = mmu_sim::load_config(&path).unwrap();
    config.tlb.l1[0].entries = 128;
    config.dram.timing = mmu_core::DramTiming::Fixed { latency: mmu_core::Cycles::new(50) };
    config.tlb.l2.as_mut().unwrap().hit_latency = mmu_core::Cycles::new(9);
    let direct = mmu_sim::run_config(&config, &path, None).unwrap();
    assert_eq!(v["cycles"], direct.cycles);
    for (set, expected) in [
        ("tlb.l1[0].entriez=128", "`tlb.l1[0]` has no field `entriez` (its fields: name, serves, entries"),
        ("tlb.l1[7].entries=128", "`tlb.l1` has 1 element(s), so `[7]` is out of range"),
        ("tlb.l1[0].ways=3", "field `tlb.l1[0].ways`: `ways` (3) must be between 1 and `entries`"),
        ("seed.x=1", "`seed` is a value, not a struct"),
        ("dram.timing=Fast", "dram.timing"),
        ("nonsense", "is not PATH=VALUE"),
    ] {
        let out = mmu_sim(&["run", "configs/sv32-small.ron", "--set", set]);
        let err = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(2), "{set}: {err}");
        assert!(err.contains(expected), "{set}: {err}");
        assert!(!err.contains("panicked"), "{set}: {err}");
    }
}

#[test]
fn every_shipped_config_survives_the_override_round_trip() {
    // --set rewrites the config as RON with every field written out: that text
    // must parse back to the same config.
    for path in configs() {
        let config = mmu_sim::load_config(&path).unwrap();
        let same = mmu_sim::overrides::apply(
            &config,
            "x",
            &["seed=".to_string() + &config.seed.to_string()]
                .iter()
                .map(|s| s.parse().unwrap())
                .collect::<Vec<_>>(),
        )
        .unwrap_or_else(|e| panic!("{}: {e}", path.display()));
        assert_eq!(same, config, "{}", path.display());
    }
}

#[test]
fn a_sweep_gives_the_same_bytes_for_any_number_of_jobs_and_names_bad_points() {
    let args = |jobs: &str| {
        mmu_sim(&[
            "sweep",
            "configs/sv32-small.ron",
            "--vary",
            "tlb.l1[0].entries=16,64",
            "--vary",
            "dram.timing=Fixed(latency: 50),Fixed(latency: 100)",
            "--jobs",
            jobs,
        ])
    };
    let one = args("1");
    let eight = args("8");
    assert!(one.status.success(), "{}", String::from_utf8_lossy(&one.stderr));
    assert_eq!(one.stdout, eight.stdout, "byte-identical output for --jobs 1 and --jobs 8");
    let text = String::from_utf8(one.stdout).unwrap();
    let lines: Vec<&str> = text.lines().collect();
    assert_eq!(lines.len(), 1 + 4, "a header and one row per point");
    assert!(lines[0].starts_with(
        "tlb.l1[0].entries,dram.timing,accesses,skipped_accesses,context_switches,cycles,\
         cycles_by_cause.cpu,cycles_by_cause.tlb_lookups,cycles_by_cause.page_walks,cycles_by_cause.dram_data,\
         cycles_by_cause.fault_handling,cycles_by_cause.swap_io,cycles_by_cause.context_switches,\
         cycles_by_cause.idle,tlb.l1d.lookups"
    ));
    assert!(lines[1].starts_with("16,Fixed(latency: 50),200000,"), "{}", lines[1]);
    assert!(lines[4].starts_with("64,Fixed(latency: 100),200000,"), "{}", lines[4]);
    // Each row's cycles equal a separate run of that point.
    let cycles = |row: &str| row.split(',').nth(5).unwrap().parse::<u64>().unwrap();
    let single = mmu_sim(&[
        "run",
        "configs/sv32-small.ron",
        "--set",
        "tlb.l1[0].entries=64",
        "--set",
        "dram.timing=Fixed(latency: 100)",
        "--format",
        "json",
    ]);
    let v: serde_json::Value = serde_json::from_slice(&single.stdout).unwrap();
    assert_eq!(cycles(lines[4]), v["cycles"].as_u64().unwrap());
    // A value list splits at top-level commas only.
    let out = mmu_sim(&[
        "sweep",
        "configs/sv32-small.ron",
        "--vary",
        "tlb.l2=None,Some((name: \"l2\", serves: Both, entries: 64, ways: 4, hit_latency: 7))",
        "--format",
        "jsonl",
    ]);
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    assert_eq!(String::from_utf8_lossy(&out.stdout).lines().count(), 2);
    // Every point is validated before any runs, and an invalid one is named.
    let out = mmu_sim(&["sweep", "configs/sv32-small.ron", "--vary", "tlb.l1[0].ways=4,3"]);
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{err}");
    assert!(err.contains("grid point 1 (tlb.l1[0].ways=3) is invalid"), "{err}");
    assert!(out.stdout.is_empty(), "nothing ran");
    let out = mmu_sim(&["sweep", "configs/sv32-small.ron", "--vary", "tlb.l1[0].entries=(1,2"]);
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("leaves a bracket or a string open"));
    // The guard: a grid over the limit is refused unless --yes.
    let many: Vec<String> = (1..=65).map(|i| i.to_string()).collect();
    let vary = format!("seed={}", many.join(","));
    let out = mmu_sim(&["sweep", "configs/sv32-small.ron", "--vary", &vary, "--vary", &vary]);
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("4225 points, more than the limit of 4096") && err.contains("--yes"), "{err}");
}

/// `misses - retry_misses` of TLB `tlb` in a separate run of `config` with that
/// TLB's geometry set to `entries` x `ways` (the count a cache simulator reports).
fn separate_run_misses(
    config: &cpu_sim::MachineConfig,
    path: &Path,
    tlb: &str,
    entries: u64,
    ways: u64,
) -> (u64, u64) {
    let mut config = config.clone();
    let level = config
        .tlb
        .l1
        .iter_mut()
        .chain(config.tlb.l2.iter_mut())
        .find(|t| t.name == tlb)
        .unwrap_or_else(|| panic!("no TLB {tlb}"));
    (level.entries, level.ways) = (entries as u32, ways as u32);
    let report =
        mmu_sim::run_config(&config, path, None).unwrap_or_else(|e| panic!("{tlb} {entries}x{ways}: {e}"));
    let s = report.tlb.0.iter().find(|(n, _)| n == tlb).map(|(_, s)| s.clone()).unwrap();
    (s.lookups - s.retry_lookups, s.misses - s.retry_misses)
}

#[test]
fn every_point_of_a_one_pass_curve_equals_a_separate_run() {
    /// Config, TLB, sizes, ways (`None`: fully associative).
    type Case<'a> = (&'a str, &'a str, &'a [u64], &'a [Option<u64>]);
    let cases: [Case; 5] = [
        // The shipped lackey trace of a real program: both L1s and the L2.
        ("sv32-sortwords-lackey.ron", "l1d", &[4, 8, 16, 32, 64], &[Some(1), Some(4), None]),
        ("sv32-sortwords-lackey.ron", "l1i", &[4, 8, 16], &[Some(2), None]),
        ("sv32-sortwords-lackey.ron", "l2", &[16, 64, 256], &[Some(4), None]),
        // A course trace, and a hot/cold trace over an inclusive-free L2.
        ("sv32-gcc-trace.ron", "l1d", &[8, 32, 128], &[Some(1), Some(4), None]),
        ("sv32-l2-non-inclusive.ron", "l2", &[32, 128, 512], &[Some(4), None]),
    ];
    for (name, tlb, sizes, ways) in cases {
        let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("configs").join(name);
        let config = mmu_sim::load_config(&path).unwrap();
        let geometries = mmu_sim::mrc::geometries(sizes, ways).unwrap();
        let options =
            mmu_sim::RunOptions { observe: Some((tlb.to_string(), geometries)), ..Default::default() };
        let (points, invalidations) = mmu_sim::run_with(&config, &path, &options).unwrap().curve.unwrap();
        assert_eq!(invalidations, 0, "{name} {tlb}: an exact case has no shootdowns");
        for p in &points {
            let (references, misses) = separate_run_misses(&config, &path, tlb, p.entries, p.ways);
            assert_eq!(
                (p.references, p.misses),
                (references, misses),
                "{name} {tlb} {}x{}",
                p.entries,
                p.ways
            );
        }
    }
}

#[test]
fn page_replacement_curves_equal_separate_runs() {
    // The course trace of `configs/sv32-gcc-trace.ron` (one process), every page
    // in the same data pool: faults for F frames = a run with `data_frames: Some(F)`.
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("configs/sv32-gcc-trace.ron");
    let mut config = mmu_sim::load_config(&path).unwrap();
    config.os.swap = Some(os_model::SwapConfig {
        capacity_bytes: 64 << 20,
        read_latency: mmu_core::Cycles::new(1000),
        write_latency: mmu_core::Cycles::new(1000),
    });
    let frames = [16u64, 64, 200];
    let mmu_sim::run::PageReferences { references, warm, .. } =
        mmu_sim::run::page_references(&config, &path, &Default::default()).unwrap();
    assert_eq!(warm, 0, "no warm-up asked");
    for (policy, faults) in [
        (os_model::PageReplacement::Lru, mrc::lru_faults(&references, &frames)),
        (os_model::PageReplacement::Opt, mrc::opt_faults(&references, &frames)),
    ] {
        for (&f, &expected) in frames.iter().zip(&faults) {
            let mut c = config.clone();
            c.os.replacement = policy;
            c.os.data_frames = Some(f);
            let r = mmu_sim::run_config(&c, &path, None).unwrap();
            assert_eq!(r.os.demand_zero + r.os.swap_ins, expected, "{policy:?} with {f} frames");
        }
    }
    // With a window: the curve covers the accesses a run with that window
    // measures; the warm-up's references fill the frames without counting.
    let mut windowed = config.clone();
    windowed.window =
        cpu_sim::window::Window { skip: 100, warmup: 3000, max: Some(1000), ..Default::default() };
    let mmu_sim::run::PageReferences { references, warm, .. } =
        mmu_sim::run::page_references(&windowed, &path, &Default::default()).unwrap();
    assert!(warm > 0 && warm <= 3000, "{warm} references of the 3000 warm-up accesses");
    let counted = references.len() - warm;
    assert!(counted <= 1000, "{counted} references of at most 1000 accesses");
    for (policy, faults) in [
        (os_model::PageReplacement::Lru, mrc::lru_faults_after(&references, warm, &frames)),
        (os_model::PageReplacement::Opt, mrc::opt_faults_after(&references, warm, &frames)),
    ] {
        let cold = if policy == os_model::PageReplacement::Lru {
            mrc::lru_faults(&references, &frames)
        } else {
            mrc::opt_faults(&references, &frames)
        };
        for ((&f, &expected), &whole) in frames.iter().zip(&faults).zip(&cold) {
            let mut c = windowed.clone();
            c.os.replacement = policy;
            c.os.data_frames = Some(f);
            let r = mmu_sim::run_config(&c, &path, None).unwrap();
            let what = format!("{policy:?} with {f} frames, skip 100, warm-up 3000, max 1000");
            assert_eq!(r.os.demand_zero + r.os.swap_ins, expected, "{what}");
            assert!(expected < whole, "{what}: the warm-up's faults ({whole} in all) are left out");
        }
    }
    // --skip, --warmup and --max on the command line are the config's `window`.
    let flag = mmu_sim(&[
        "mrc",
        "configs/sv32-gcc-trace.ron",
        "--frames",
        "16,64",
        "--skip",
        "100",
        "--warmup",
        "3000",
        "--max",
        "1000",
    ]);
    let set = mmu_sim(&[
        "mrc",
        "configs/sv32-gcc-trace.ron",
        "--frames",
        "16,64",
        "--set",
        "window=(skip: 100, warmup: 3000, max: Some(1000))",
    ]);
    assert!(flag.status.success(), "{}", String::from_utf8_lossy(&flag.stderr));
    assert_eq!(flag.stdout, set.stdout);
    let text = String::from_utf8(flag.stdout).unwrap();
    let lru = mrc::lru_faults_after(&references, warm, &[16]);
    assert!(text.contains(&format!("lru,16,{counted},{}\n", lru[0])), "{text}");
}

#[test]
fn mrc_prints_csv_or_json_draws_its_plot_and_names_bad_arguments() {
    let dir = std::env::temp_dir().join(format!("mmu-sim-mrc-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let svg = dir.join("mrc.svg");
    let out = mmu_sim(&[
        "mrc",
        "configs/sv32-sortwords-lackey.ron",
        "--tlb",
        "l1d",
        "--sizes",
        "8,16,32",
        "--ways",
        "4,full",
        "--plot",
        svg.to_str().unwrap(),
    ]);
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let text = String::from_utf8(out.stdout).unwrap();
    let lines: Vec<&str> = text.lines().collect();
    assert_eq!(lines[0], "tlb,sets,ways,entries,references,misses");
    assert_eq!(lines.len(), 1 + 6);
    assert!(lines[1].starts_with("l1d,2,4,8,"), "{}", lines[1]);
    assert!(lines[4].starts_with("l1d,1,8,8,"), "ways equals entries when fully associative: {}", lines[4]);
    let plot = std::fs::read_to_string(&svg).unwrap();
    assert!(
        plot.contains("fully associative") && plot.contains("4 ways") && plot.contains("entries"),
        "both series"
    );
    let out = mmu_sim(&[
        "mrc",
        "configs/sv32-gcc-trace.ron",
        "--frames",
        "8,64",
        "--policy",
        "opt",
        "--format",
        "json",
    ]);
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(v[0]["policy"], "opt");
    assert!(v[0]["faults"].as_u64() > v[1]["faults"].as_u64(), "fewer faults with more frames");
    for (args, expected) in [
        (vec!["--tlb", "nope"], "no TLB named \"nope\""),
        (vec!["--tlb", "l1d", "--sizes", "12", "--ways", "8"], "--sizes 12 with --ways 8"),
        (vec!["--tlb", "l1d", "--ways", "x"], "`x` is not a number of ways"),
        (vec!["--frames", "0"], "--frames: a count must be at least 1"),
    ] {
        let mut all = vec!["mrc", "configs/sv32-sortwords-lackey.ron"];
        all.extend(args.iter().copied());
        let out = mmu_sim(&all);
        let err = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(2), "{args:?}: {err}");
        assert!(err.contains(expected), "{args:?}: {err}");
    }
    std::fs::remove_dir_all(&dir).ok();
}

#[test]
fn sweep_and_latency_plots_draw_their_series_with_labelled_axes() {
    let dir = std::env::temp_dir().join(format!("mmu-sim-plots-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let svg = dir.join("sweep.svg");
    let out = mmu_sim(&[
        "sweep",
        "configs/sv32-small.ron",
        "--vary",
        "tlb.l1[0].entries=16,32,64",
        "--vary",
        "tlb.l1[0].ways=1,4",
        "--plot",
        svg.to_str().unwrap(),
        "--x",
        "tlb.l1[0].entries",
        "--y",
        "tlb.l1d.misses",
    ]);
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let plot = std::fs::read_to_string(&svg).unwrap();
    for label in ["tlb.l1[0].ways=1", "tlb.l1[0].ways=4", "tlb.l1d.misses against tlb.l1[0].entries"] {
        assert!(plot.contains(label), "the plot names {label}");
    }
    // Each series is a polyline of its three points (mesh lines are two-point ones).
    let three_point_lines = plot
        .split("<polyline")
        .skip(1)
        .filter(|l| {
            l.split("points=\"")
                .nth(1)
                .is_some_and(|p| p.split('"').next().unwrap_or("").split_whitespace().count() == 3)
        })
        .count();
    assert_eq!(three_point_lines, 2, "one line per number of ways");
    let out = mmu_sim(&[
        "sweep",
        "configs/sv32-small.ron",
        "--vary",
        "seed=1,2",
        "--plot",
        svg.to_str().unwrap(),
        "--x",
        "seed",
        "--y",
        "nope",
    ]);
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("--y nope: not a counter"));
    let latency = dir.join("latency.svg");
    let out = mmu_sim(&[
        "run",
        "configs/sv32-ddr4.ron",
        "--plot-latency",
        latency.to_str().unwrap(),
        "--format",
        "json",
    ]);
    assert!(out.status.success());
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let buckets = v["walk_latency"].as_array().unwrap();
    let plot = std::fs::read_to_string(&latency).unwrap();
    assert!(plot.contains("walk latency (cycles)") && plot.contains("walks"), "labelled axes");
    for b in buckets {
        assert!(plot.contains(&format!("{}..{}", b["from"], b["to"])), "bucket {b} on the x axis");
    }
    std::fs::remove_dir_all(&dir).ok();
}

#[test]
fn sharded_sweeps_merge_into_the_bytes_of_the_unsharded_one() {
    let dir = std::env::temp_dir().join(format!("mmu-sim-shards-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let grid =
        ["sweep", "configs/sv32-small.ron", "--vary", "tlb.l1[0].entries=16,32,64", "--vary", "seed=1,2"];
    for format in ["csv", "jsonl"] {
        let whole = mmu_sim(&[&grid[..], &["--format", format]].concat());
        assert!(whole.status.success(), "{}", String::from_utf8_lossy(&whole.stderr));
        let mut files = Vec::new();
        for i in 0..4 {
            let file = dir.join(format!("shard-{i}.{format}"));
            let shard = format!("{i}/4");
            let out = mmu_sim(
                &[&grid[..], &["--format", format, "--shard", &shard, "--out", file.to_str().unwrap()]]
                    .concat(),
            );
            assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
            files.push(file.to_str().unwrap().to_string());
        }
        let mut args = vec!["merge"];
        args.extend(files.iter().map(String::as_str));
        let merged = mmu_sim(&args);
        assert!(merged.status.success(), "{}", String::from_utf8_lossy(&merged.stderr));
        assert_eq!(merged.stdout, whole.stdout, "{format}: merged shards = the unsharded sweep");
        // Out of order, the row counts cannot come from one grid: refused.
        let swapped = mmu_sim(&["merge", &files[3], &files[0]]);
        assert_eq!(swapped.status.code(), Some(2));
        assert!(String::from_utf8_lossy(&swapped.stderr).contains("differ by at most one"));
    }
    let slurm = dir.join("job");
    let out = mmu_sim(&[&grid[..], &["--emit-slurm", slurm.to_str().unwrap(), "--shards", "3"]].concat());
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let script = std::fs::read_to_string(slurm.join("sweep.sbatch")).unwrap();
    assert!(
        script.contains("#SBATCH --array=0-2") && script.contains("--shard \"$SLURM_ARRAY_TASK_ID/3\""),
        "{script}"
    );
    let manifest = std::fs::read_to_string(slurm.join("manifest.txt")).unwrap();
    assert!(manifest.contains("points: 6") && manifest.contains(" merge "), "{manifest}");
    for bad in ["4/4", "1/0", "x"] {
        let out = mmu_sim(&[&grid[..], &["--shard", bad]].concat());
        assert_eq!(out.status.code(), Some(2), "--shard {bad}");
    }
    // --shards belongs to --emit-slurm: with --shard it would be ignored.
    let out = mmu_sim(&[&grid[..], &["--shard", "0/2", "--shards", "3"]].concat());
    assert_eq!(out.status.code(), Some(2), "--shard with --shards: {}", String::from_utf8_lossy(&out.stderr));
    std::fs::remove_dir_all(&dir).ok();
}

/// `cycles_by_cause` of `report`, checked to add up to its `cycles`.
fn assert_causes_add_up(report: &cpu_sim::Report, what: &str) {
    let causes = report.cycles_by_cause.causes();
    let sum: u64 = causes.iter().map(|(_, c)| c).sum();
    assert_eq!(sum, report.cycles, "{what}: {causes:?} add up to {sum}, not to cycles {}", report.cycles);
}

#[test]
fn the_table_shows_the_causes_with_their_shares_and_the_readme_shows_its_legend() {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("configs/sv32-small.ron");
    let report = mmu_sim::run_file(&path, None).unwrap();
    let table = mmu_sim::render_table(&report, "configs/sv32-small.ron");
    let b = &report.cycles_by_cause;
    for (name, cycles) in [("tlb lookups", b.tlb_lookups), ("dram data", b.dram_data), ("swap io", 0)] {
        let share = format!("{:.2}%", cycles as f64 * 100.0 / report.cycles as f64);
        assert!(
            table.lines().any(|l| l.trim_start().starts_with(name)
                && l.contains(&cycles.to_string())
                && l.ends_with(&share)),
            "{name} {cycles} {share}:\n{table}"
        );
    }
    assert!(!table.contains("  idle "), "idle is shown only when the core slept");
    assert!(table.ends_with(mmu_sim::render::LEGEND), "the legend closes the table");
    let readme = std::fs::read_to_string(Path::new(env!("CARGO_MANIFEST_DIR")).join("README.md")).unwrap();
    assert!(
        readme.contains(mmu_sim::render::LEGEND.trim_start_matches('\n')),
        "README shows the legend as printed"
    );
}

/// The lines the README shows after `$ COMMAND`, up to the end of the block.
fn readme_output(readme: &str, command: &str) -> String {
    let at = readme.find(&format!("$ {command}")).unwrap_or_else(|| panic!("the README shows `{command}`"));
    let body = &readme[at..];
    let body = &body[body.find('\n').unwrap() + 1..];
    body[..body.find("```").unwrap()].to_string()
}

#[test]
fn the_readmes_worked_examples_are_what_the_binary_prints() {
    let readme = std::fs::read_to_string(Path::new(env!("CARGO_MANIFEST_DIR")).join("README.md")).unwrap();
    let explain = mmu_sim(&["explain", "configs/explain-demo.ron", "--access", "2"]);
    assert!(explain.status.success());
    assert_eq!(
        readme_output(&readme, "mmu-sim explain configs/explain-demo.ron --access 2"),
        String::from_utf8(explain.stdout).unwrap()
    );
    let log = mmu_sim(&["run", "configs/explain-demo.ron", "--log", "1..2"]);
    assert!(log.status.success());
    assert_eq!(
        readme_output(&readme, "mmu-sim run configs/explain-demo.ron --log 1..2 > /dev/null"),
        String::from_utf8(log.stderr).unwrap()
    );
    let mrc = mmu_sim(&[
        "mrc",
        "configs/sv32-sortwords-lackey.ron",
        "--tlb",
        "l1d",
        "--sizes",
        "4,8,16,32",
        "--ways",
        "1,full",
    ]);
    assert!(mrc.status.success());
    assert_eq!(
        readme_output(
            &readme,
            "mmu-sim mrc configs/sv32-sortwords-lackey.ron --tlb l1d --sizes 4,8,16,32 --ways 1,full"
        ),
        String::from_utf8(mrc.stdout).unwrap()
    );
    // The sweep, through the README's `cut -d, -f...`.
    let shown =
        readme_output(&readme, "mmu-sim sweep configs/sv32-small.ron --vary 'tlb.l1[0].entries=16,32,64' \\");
    let (cut, rows) = shown.split_once('\n').unwrap();
    let fields: Vec<usize> = cut
        .rsplit_once("cut -d, -f")
        .expect("the sweep is cut")
        .1
        .split(',')
        .map(|f| f.trim().parse::<usize>().unwrap() - 1)
        .collect();
    let sweep = mmu_sim(&[
        "sweep",
        "configs/sv32-small.ron",
        "--vary",
        "tlb.l1[0].entries=16,32,64",
        "--vary",
        "dram.timing=Fixed(latency: 50),Fixed(latency: 100)",
    ]);
    assert!(sweep.status.success());
    let printed: String = String::from_utf8(sweep.stdout)
        .unwrap()
        .lines()
        .map(|line| {
            let columns: Vec<&str> = line.split(',').collect();
            fields.iter().map(|&f| columns[f]).collect::<Vec<_>>().join(",") + "\n"
        })
        .collect();
    assert_eq!(rows, printed);
}

#[test]
fn cycles_by_cause_adds_up_to_cycles_for_every_shipped_config_whole_and_after_a_warm_up() {
    use cpu_sim::window::Window;
    for path in configs() {
        let name = path.file_name().unwrap().to_str().unwrap().to_string();
        let report = mmu_sim::run_file(&path, None).unwrap_or_else(|e| panic!("{name}: {e}"));
        assert_causes_add_up(&report, &name);
        assert!(report.cycles_by_cause.cpu > 0, "{name}: the core charged its own cycles");
        // After a warm-up of a third of the run (of its instructions for a
        // program), the causes cover the measured part.
        let warmup = report.core.as_ref().map_or(report.accesses, |core| core.instructions) / 3;
        let warm = run_window(&name, Window { warmup, ..Window::default() }, false).report;
        assert_eq!(warm.window.as_ref().map(|w| w.warmup), Some(warmup), "{name}");
        assert_causes_add_up(&warm, &format!("{name} --warmup {warmup}"));
        assert!(warm.cycles < report.cycles, "{name}: the warm-up's cycles are left out");
    }
}

/// Every access of the first `n` of `config` (with `sets` applied), recorded as
/// `run --log 0..n` records them, and the report of the same run unwatched.
fn logged_run(
    config: &str,
    sets: &[&str],
    n: u64,
) -> (Vec<cpu_sim::watch::Told>, cpu_sim::Report, cpu_sim::Report) {
    use std::cell::RefCell;
    use std::rc::Rc;
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join(config);
    let loaded = mmu_sim::load_config(&path).expect("a shipped config loads");
    let sets: Vec<mmu_sim::overrides::Override> =
        sets.iter().map(|s| s.parse().expect("a good override")).collect();
    let mut loaded = mmu_sim::overrides::apply(&loaded, config, &sets).expect("overrides apply");
    loaded.window.max = Some(n);
    let options = mmu_sim::RunOptions::default();
    let plain = mmu_sim::run_with(&loaded, &path, &options).expect("the run succeeds").report;
    let told = Rc::new(RefCell::new(Vec::new()));
    let sink = Rc::clone(&told);
    let watch = cpu_sim::watch::LogWatch { from: 0, to: n, sink: move |t| sink.borrow_mut().push(t) };
    let watched =
        mmu_sim::run_watched(&loaded, &path, &options, Some(Box::new(watch))).expect("the run succeeds");
    let steps = told.borrow().clone();
    (steps, plain, watched.report)
}

#[test]
fn recording_every_access_changes_nothing_and_each_story_adds_up_to_what_the_run_charges() {
    let cases: &[(&str, &[&str])] = &[
        ("configs/sv32-small.ron", &[]),
        ("configs/explain-demo.ron", &[]),
        ("configs/x86-32-ddr4.ron", &[]),
        ("configs/sv32-ddr4.ron", &[]),
        ("configs/flat-4k-pages.ron", &[]),
        ("configs/radix-3level.ron", &[]),
        ("configs/swapping-clock.ron", &[]),
        ("configs/swapping-lru.ron", &[]),
        ("configs/sv32-skylake-like-no-asids.ron", &[]),
        ("configs/sv32-l2-inclusive.ron", &[]),
        ("configs/shared-memory.ron", &[]),
        ("configs/sv32-superpages.ron", &[]),
        ("configs/explain-demo.ron", &["mmu.ad_update=Fault", "os.accessed_dirty_cycles=7"]),
    ];
    for (config, sets) in cases {
        let (steps, plain, watched) = logged_run(config, sets, 400);
        assert_eq!(
            serde_json::to_value(&plain).unwrap(),
            serde_json::to_value(&watched).unwrap(),
            "{config}: recording must not change the run"
        );
        let accesses = steps.iter().filter(|s| s.access.is_some()).count() as u64;
        assert_eq!(accesses, plain.accesses, "{config}: every access is told");
        for step in &steps {
            let sum: u64 = step.events.iter().map(mmu_core::event::Event::cycles).sum();
            assert_eq!(
                sum, step.cycles,
                "{config}: access {}: the steps add up to the cycles charged",
                step.index
            );
        }
        let total: u64 = steps.iter().map(|s| s.cycles).sum();
        assert_eq!(total, plain.cycles, "{config}: the accesses' cycles (and switches') add up to the run's");
    }
}

/// `explain` of `config` (with `sets`) at access `n`, as text.
fn explain_text(config: &str, sets: &[&str], target: cpu_sim::watch::Target) -> String {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join(config);
    let loaded = mmu_sim::load_config(&path).expect("a shipped config loads");
    let sets: Vec<mmu_sim::overrides::Override> =
        sets.iter().map(|s| s.parse().expect("a good override")).collect();
    let loaded = mmu_sim::overrides::apply(&loaded, config, &sets).expect("overrides apply");
    let e = mmu_sim::explain::explain(&loaded, &path, &mmu_sim::RunOptions::default(), target)
        .unwrap_or_else(|e| panic!("{config}: {e}"));
    let sum: u64 = e.steps.iter().map(mmu_core::event::Event::cycles).sum();
    assert_eq!(sum, e.total_cycles, "{config}: the steps add up");
    mmu_sim::explain::render_explanation(&e, &loaded)
}

#[test]
fn explain_tells_each_kind_of_access_in_each_paging_format() {
    use cpu_sim::watch::Target::Index;
    let demo = "configs/explain-demo.ron";
    // Sv32: 0 a demand-zero fault, 1 a TLB hit, 2 a walk from the walk cache,
    // 4 a swap-in that evicts a dirty victim.
    insta::assert_snapshot!("explain_sv32_demand_zero", explain_text(demo, &[], Index(0)));
    insta::assert_snapshot!("explain_sv32_tlb_hit", explain_text(demo, &[], Index(1)));
    insta::assert_snapshot!("explain_sv32_walk_cache", explain_text(demo, &[], Index(2)));
    insta::assert_snapshot!("explain_sv32_swap_in_dirty_victim", explain_text(demo, &[], Index(4)));
    let formats: &[(&str, &[&str])] = &[
        ("ia32", &["mmu.format=X86_32(pse: true)"]),
        ("flat", &["mmu.format=Flat(page_bytes: 4096)", "tlb.walk_caches=[]"]),
        ("radix", &["mmu.format=Radix(index_bits: [4, 8, 8], page_bits: 12)"]),
    ];
    for (name, sets) in formats {
        // A flat table has one level: no pointer for a walk cache to hold.
        let walk = if *name == "flat" { "walk" } else { "walk_cache" };
        for (what, n) in [("demand_zero", 0), ("tlb_hit", 1), (walk, 2), ("swap_in_dirty_victim", 4)] {
            insta::assert_snapshot!(format!("explain_{name}_{what}"), explain_text(demo, sets, Index(n)));
        }
    }
}

/// IA-32's explain and --log name the linear address's fields and entries as
/// the SDM does (Vol. 3A, 4.3 "32-bit paging"): "directory" (bits 31:22) and
/// "table" (bits 21:12), the PDE from CR3 and the PTE from the page table;
/// before, they were Sv32's VPN[1] and VPN[0]. Sv32 keeps RISC-V's names.
#[test]
fn explain_and_log_name_ia32_fields_and_entries_as_the_sdm_does() {
    let ia32 = ["--set", "mmu.format=X86_32(pse: true)"];
    let mut args = vec!["explain", "configs/explain-demo.ron", "--access", "0"];
    args.extend_from_slice(&ia32);
    let out = mmu_sim(&args);
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let text = String::from_utf8_lossy(&out.stdout);
    for wanted in [
        "0x10000000 = directory = bits 31..22 = 0x40 | table = bits 21..12 = 0x0 | offset = bits 11..0 = 0x0",
        "level 1 PDE address = CR3 0x2000 + directory 0x40 x 4 = 0x2100",
        "level 1 PDE = 0x3007: a pointer to the next table at 0x3000",
        "level 0 PTE address = page table 0x3000 + table 0x0 x 4 = 0x3000",
        "level 0 PTE = 0x7: a leaf, page base 0x0",
    ] {
        assert!(text.contains(wanted), "missing `{wanted}`:\n{text}");
    }
    assert!(!text.contains("VPN["), "{text}");
    args.extend_from_slice(&["--format", "json"]);
    let json: serde_json::Value = serde_json::from_slice(&mmu_sim(&args).stdout).expect("JSON");
    let names: Vec<&str> =
        json["fields"].as_array().unwrap().iter().map(|f| f["name"].as_str().unwrap()).collect();
    assert_eq!(names, ["directory", "table", "offset"]);
    let mut log = vec!["run", "configs/explain-demo.ron", "--log", "0..1"];
    log.extend_from_slice(&ia32);
    let out = mmu_sim(&log);
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains("level 1 PDE address = CR3 0x2000 + directory 0x40 x 4 = 0x2100"), "{stderr}");
    assert!(!stderr.contains("VPN["), "{stderr}");
    // Sv32 keeps the RISC-V names.
    let sv32 = mmu_sim(&["explain", "configs/explain-demo.ron", "--access", "0"]);
    let text = String::from_utf8_lossy(&sv32.stdout);
    assert!(text.contains("level 1 PTE address = table 0x2000 + VPN[1] 0x40 x 4 = 0x2100"), "{text}");
}

#[test]
fn explain_finds_the_first_access_to_an_address_and_refuses_bad_targets() {
    let ok = mmu_sim(&["explain", "configs/explain-demo.ron", "--va", "0x10000004", "--kind", "R"]);
    assert!(ok.status.success(), "{}", String::from_utf8_lossy(&ok.stderr));
    assert!(String::from_utf8_lossy(&ok.stdout).starts_with("access 1: process 0, R 0x10000004"));
    let json = mmu_sim(&["explain", "configs/explain-demo.ron", "--access", "3", "--format", "json"]);
    let value: serde_json::Value = serde_json::from_slice(&json.stdout).expect("JSON");
    assert_eq!(value["access"], 3);
    assert_eq!(value["vaddr"], "0x10002000");
    let sum: u64 = value["steps"].as_array().unwrap().iter().filter_map(|s| s["cycles"].as_u64()).sum();
    assert_eq!(Some(sum), value["total_cycles"].as_u64());
    for (args, wanted) in [
        (
            &["--access", "6"][..],
            "--access 6 is past the end of the workload: it has 6 accesses, numbered 0 to 5",
        ),
        (
            &["--va", "0x20000000"][..],
            "no access touches the word at 0x20000000 in the workload's 6 accesses",
        ),
        (&["--va", "0x10000000", "--kind", "X"][..], "no access of kind X touches the word at 0x10000000"),
        (
            &["--va", "0x10000000", "--pid", "3"][..],
            "--pid 3: the config declares 1 process(es), pids 0 to 0",
        ),
        (&["--va", "zz"][..], "--va `zz` is not a hexadecimal address"),
        (&["--va", "0x+10000000"][..], "--va `0x+10000000` is not a hexadecimal address"),
        (&["--va", "0x100000000"][..], "does not fit in 32 bits"),
        (&["--va", "0x10", "--kind", "Q"][..], "invalid value 'Q'"),
    ] {
        let mut all = vec!["explain", "configs/explain-demo.ron"];
        all.extend_from_slice(args);
        let out = mmu_sim(&all);
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(2), "{args:?}: {stderr}");
        assert!(stderr.contains(wanted), "{args:?}: {stderr}");
    }
    // --pid and --kind narrow --va; with --access they would be silently ignored
    // (clap's `requires` alone is bypassed by `--access`'s `conflicts_with`, clap#4520).
    for narrow in [&["--pid", "0"][..], &["--kind", "W"][..]] {
        let mut all = vec!["explain", "configs/explain-demo.ron", "--access", "1"];
        all.extend_from_slice(narrow);
        let out = mmu_sim(&all);
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(2), "{narrow:?} with --access: {stderr}");
        assert!(
            stderr.contains("'--access <N>' cannot be used with") && stderr.contains(narrow[0]),
            "{narrow:?}: {stderr}"
        );
    }
    // seed-fragmentation's access 7 follows `P 1`: the switch is told before the
    // story, outside its total (a `run --max` difference includes it, 500 cycles).
    for target in [&["--access", "7"][..], &["--va", "0x11000", "--pid", "1", "--kind", "R"][..]] {
        let mut all = vec!["explain", "configs/seed-fragmentation.ron"];
        all.extend_from_slice(target);
        let out = mmu_sim(&all);
        let text = String::from_utf8_lossy(&out.stdout);
        assert!(text.starts_with("access 7: process 1"), "{target:?}: {text}");
        assert!(
            text.contains("just before it, at cycle 15719: context switch from process 2 to 1: 500 cycles"),
            "{target:?}: {text}"
        );
        all.extend_from_slice(&["--format", "json"]);
        let json: serde_json::Value = serde_json::from_slice(&mmu_sim(&all).stdout).expect("JSON");
        assert_eq!(json["switch_before"][0]["event"], "context_switch", "{target:?}");
        assert_eq!(json["total_cycles"], 102, "the switch is not in the access's total");
    }
    let six = mmu_sim(&["explain", "configs/seed-fragmentation.ron", "--access", "6", "--format", "json"]);
    let json: serde_json::Value = serde_json::from_slice(&six.stdout).expect("JSON");
    assert!(json.get("switch_before").is_none(), "no switch before access 6: {json}");
    let elf = mmu_sim(&["explain", "configs/rv32-virt.ron", "--access", "0"]);
    assert_eq!(elf.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&elf.stderr).contains("explain follows the trace player's accesses"));
}

#[test]
fn run_log_writes_one_line_per_event_of_the_window_and_refuses_bad_ranges() {
    let dir = std::env::temp_dir().join(format!("mmu-sim-log-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let file = dir.join("log.txt");
    let out = mmu_sim(&[
        "run",
        "configs/explain-demo.ron",
        "--log",
        "1..3",
        "--log-file",
        file.to_str().unwrap(),
        "--format",
        "json",
    ]);
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let log = std::fs::read_to_string(&file).unwrap();
    assert!(log.lines().all(|l| l.starts_with("access 1 ") || l.starts_with("access 2 ")), "{log}");
    assert!(log.contains("access 1 pid 0 R 0x10000004: @2572 CPU"), "{log}");
    assert!(log.contains("l1d: hit"), "{log}");
    assert!(log.contains("walk cache root"), "{log}");
    let plain = mmu_sim(&["run", "configs/explain-demo.ron", "--format", "json"]);
    assert_eq!(plain.stdout, out.stdout, "the report is the same with --log");
    let stderr = mmu_sim(&["run", "configs/explain-demo.ron", "--log", "0..1"]);
    assert!(String::from_utf8_lossy(&stderr.stderr).contains("access 0 pid 0 W 0x10000000"));
    // A range the run never reaches is said, not silently empty.
    for args in [&["--log", "100..200"][..], &["--log", "0..2", "--skip", "2"][..]] {
        let mut all = vec!["run", "configs/explain-demo.ron"];
        all.extend_from_slice(args);
        let out = mmu_sim(&all);
        assert!(out.status.success(), "{args:?}");
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert!(stderr.contains(&format!("warning: --log {} logged nothing", args[1])), "{args:?}: {stderr}");
        assert!(!stderr.lines().any(|l| l.starts_with("access ")), "{args:?}: {stderr}");
    }
    // A switch read during the skip is performed where it ends, and logged there.
    let skipped = mmu_sim(&["run", "configs/seed-fragmentation.ron", "--skip", "2", "--log", "0..8"]);
    let stderr = String::from_utf8_lossy(&skipped.stderr);
    assert!(
        stderr.contains("before access 2 switch to pid 1: @0 context switch from process 0 to 1: 500 cycles"),
        "{stderr}"
    );
    let some = mmu_sim(&["run", "configs/explain-demo.ron", "--log", "5..200"]);
    assert!(!String::from_utf8_lossy(&some.stderr).contains("warning"), "access 5 is logged");
    for bad in ["5", "3..1", "a..b", "2..2"] {
        let out = mmu_sim(&["run", "configs/explain-demo.ron", "--log", bad]);
        assert_eq!(out.status.code(), Some(2), "{bad}");
        assert!(String::from_utf8_lossy(&out.stderr).contains(bad), "{bad}");
    }
    std::fs::remove_dir_all(&dir).unwrap();
}

/// A run refused before it starts (an RV32 program, which --log does not
/// follow; a missing trace) leaves no --log-file of its own and an existing one
/// as it was: before, the file was created (or emptied) first. A run that goes
/// ahead replaces an earlier log, even when it logs nothing.
#[test]
fn a_refused_run_leaves_no_log_file() {
    let dir = std::env::temp_dir().join(format!("mmu-sim-log-refused-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let file = dir.join("log.txt");
    let log_file = file.to_str().unwrap();
    let elf = mmu_sim(&["run", "configs/rv32-user.ron", "--log", "0..5", "--log-file", log_file]);
    assert_eq!(elf.status.code(), Some(2), "{}", String::from_utf8_lossy(&elf.stderr));
    assert!(String::from_utf8_lossy(&elf.stderr).contains("which they do not follow yet"));
    assert!(!file.exists(), "a refused run created its --log-file");
    let old = "an earlier run's log\n".repeat(100);
    std::fs::write(&file, &old).unwrap();
    let missing = mmu_sim(&[
        "run",
        "configs/explain-demo.ron",
        "--trace",
        "no/such.trace",
        "--log",
        "0..5",
        "--log-file",
        log_file,
    ]);
    assert_eq!(missing.status.code(), Some(2), "{}", String::from_utf8_lossy(&missing.stderr));
    assert_eq!(std::fs::read_to_string(&file).unwrap(), old, "a refused run changed the --log-file");
    // Runs that go ahead: the earlier log is replaced by this one's lines, or by nothing.
    let logged = mmu_sim(&["run", "configs/explain-demo.ron", "--log", "1..2", "--log-file", log_file]);
    assert!(logged.status.success(), "{}", String::from_utf8_lossy(&logged.stderr));
    let log = std::fs::read_to_string(&file).unwrap();
    assert!(log.starts_with("access 1 pid 0 R 0x10000004") && !log.contains("earlier"), "{log}");
    std::fs::write(&file, &old).unwrap();
    let nothing = mmu_sim(&["run", "configs/explain-demo.ron", "--log", "100..200", "--log-file", log_file]);
    assert!(nothing.status.success(), "{}", String::from_utf8_lossy(&nothing.stderr));
    assert_eq!(std::fs::read_to_string(&file).unwrap(), "", "a run that logged nothing left the old log");
    std::fs::remove_dir_all(&dir).unwrap();
}

/// --interval-out, --plot-intervals and --plot-latency are checked before the
/// run (a path that cannot be written is refused at once) but written only
/// after it: a run refused before it starts (an RV32 program with --log, a
/// missing trace, --interval-out without an interval) leaves no file of its
/// own and an existing one as it was; before, each was created (or emptied)
/// first. sweep and mrc check their --interval-out the same way. A run (or an
/// mrc) that stops with an error (exit 1) empties them, as it did.
#[test]
fn a_refused_run_leaves_no_interval_or_plot_files() {
    let dir = std::env::temp_dir().join(format!("mmu-sim-outputs-refused-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let (csv, plot, latency) = (dir.join("i.csv"), dir.join("i.svg"), dir.join("latency.svg"));
    let files = [&csv, &plot, &latency];
    let outputs = [
        "--interval-out",
        csv.to_str().unwrap(),
        "--plot-intervals",
        plot.to_str().unwrap(),
        "--plot-latency",
        latency.to_str().unwrap(),
    ];
    let refused: [&[&str]; 3] = [
        &["run", "configs/rv32-user.ron", "--log", "0..5", "--interval", "2"],
        &["run", "configs/explain-demo.ron", "--trace", "no/such.trace", "--interval", "2"],
        &["run", "configs/explain-demo.ron"],
    ];
    for args in refused {
        let out = mmu_sim(&[args, &outputs[..]].concat());
        assert_eq!(out.status.code(), Some(2), "{args:?}: {}", String::from_utf8_lossy(&out.stderr));
        for file in files {
            assert!(!file.exists(), "{args:?}: a refused run created {}", file.display());
        }
    }
    let sweep = mmu_sim(&["sweep", "configs/explain-demo.ron", "--vary", "seed=1", outputs[0], outputs[1]]);
    assert_eq!(sweep.status.code(), Some(2), "sweep --interval-out without an interval");
    let mrc = mmu_sim(&["mrc", "configs/explain-demo.ron", "--frames", "2", outputs[0], outputs[1]]);
    assert_eq!(mrc.status.code(), Some(2), "mrc --interval-out without an interval");
    assert!(!csv.exists(), "a refused sweep or mrc created its --interval-out");
    let old = "an earlier run's output\n".repeat(100);
    for args in refused {
        for file in files {
            std::fs::write(file, &old).unwrap();
        }
        let out = mmu_sim(&[args, &outputs[..]].concat());
        assert_eq!(out.status.code(), Some(2), "{args:?}");
        for file in files {
            let now = std::fs::read_to_string(file).unwrap();
            assert_eq!(now, old, "{args:?}: a refused run changed {}", file.display());
        }
    }
    // A path that cannot be written is still refused before the run.
    let nowhere = dir.join("no-such-dir").join("i.csv");
    let out = mmu_sim(&[
        "run",
        "configs/explain-demo.ron",
        "--interval",
        "2",
        "--interval-out",
        nowhere.to_str().unwrap(),
    ]);
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("no-such-dir"), "the path is named");
    // A run that stops with an error leaves them empty; one that ends, its own.
    let bad = dir.join("bad.trace");
    std::fs::write(&bad, "R 0x10000000\nbogus\n").unwrap();
    let stopped = mmu_sim(
        &[
            &["run", "configs/explain-demo.ron", "--trace", bad.to_str().unwrap(), "--interval", "2"][..],
            &outputs,
        ]
        .concat(),
    );
    assert_eq!(stopped.status.code(), Some(1), "{}", String::from_utf8_lossy(&stopped.stderr));
    for file in files {
        assert_eq!(std::fs::read_to_string(file).unwrap(), "", "{}", file.display());
        std::fs::write(file, &old).unwrap();
    }
    let (bad, plot_path) = (bad.to_str().unwrap(), plot.to_str().unwrap());
    let mrc = ["mrc", "configs/explain-demo.ron", "--frames", "2", "--trace", bad, "--interval", "2"];
    let stopped = mmu_sim(&[&mrc[..], &[outputs[0], outputs[1], "--plot", plot_path]].concat());
    assert_eq!(stopped.status.code(), Some(1), "{}", String::from_utf8_lossy(&stopped.stderr));
    for file in [&csv, &plot] {
        assert_eq!(std::fs::read_to_string(file).unwrap(), "", "mrc: {}", file.display());
    }
    let ran = mmu_sim(&[&["run", "configs/explain-demo.ron", "--interval", "2"][..], &outputs].concat());
    assert!(ran.status.success(), "{}", String::from_utf8_lossy(&ran.stderr));
    assert!(std::fs::read_to_string(&csv).unwrap().starts_with("interval,accesses,"));
    for svg in [&plot, &latency] {
        assert!(std::fs::read_to_string(svg).unwrap().contains("<svg"), "{}", svg.display());
    }
    std::fs::remove_dir_all(&dir).unwrap();
}

/// `sweep --interval N --interval-out FILE` (#14): every point's records, led by
/// its varied values, whose deltas add up to the point's row of the sweep; the
/// CSV and the JSON lines hold the same numbers.
#[test]
fn a_sweeps_interval_records_add_up_to_each_points_row() {
    let dir = std::env::temp_dir().join(format!("mmu-sim-sweep-intervals-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let (csv, jsonl) = (dir.join("iv.csv"), dir.join("iv.jsonl"));
    let mut rows = Vec::new();
    for out_file in [&csv, &jsonl] {
        let out = mmu_sim(&[
            "sweep",
            "configs/sv32-small.ron",
            "--vary",
            "tlb.l1[0].entries=16,64",
            "--warmup",
            "1000",
            "--interval",
            "30000",
            "--interval-out",
            out_file.to_str().unwrap(),
        ]);
        assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
        rows.push(String::from_utf8(out.stdout).unwrap());
    }
    assert_eq!(rows[0], rows[1], "where the records go changes no row");
    // The sweep's rows: entries -> (accesses, cycles, l1d misses).
    let sweep: Vec<Vec<String>> =
        rows[0].lines().map(|l| l.split(',').map(str::to_owned).collect()).collect();
    let col = |name: &str| sweep[0].iter().position(|c| c == name).unwrap_or_else(|| panic!("{name}"));
    let text = std::fs::read_to_string(&csv).unwrap();
    let records: Vec<Vec<&str>> = text.lines().map(|l| l.split(',').collect()).collect();
    let header = &records[0];
    assert_eq!(&header[..3], ["tlb.l1[0].entries", "interval", "accesses"]);
    let icol = |name: &str| header.iter().position(|c| *c == name).unwrap_or_else(|| panic!("{name}"));
    for row in &sweep[1..] {
        let entries = &row[0];
        let mine: Vec<&Vec<&str>> = records[1..].iter().filter(|r| r[0] == entries).collect();
        assert_eq!(mine.len(), 7, "199000 measured accesses in intervals of 30000");
        for name in ["accesses", "cycles", "tlb.l1d.misses"] {
            let sum: u64 = mine.iter().map(|r| r[icol(name)].parse::<u64>().unwrap()).sum();
            assert_eq!(sum.to_string(), row[col(name)], "entries {entries}: {name}");
        }
    }
    // The JSON lines: one object per record, the same numbers.
    let lines: Vec<serde_json::Value> =
        std::fs::read_to_string(&jsonl).unwrap().lines().map(|l| serde_json::from_str(l).unwrap()).collect();
    assert_eq!(lines.len(), records.len() - 1);
    for (line, record) in lines.iter().zip(&records[1..]) {
        assert_eq!(line["tlb.l1[0].entries"], record[0]);
        assert_eq!(line["cycles"].as_u64().unwrap().to_string(), record[icol("cycles")]);
    }
    // --interval-out without an interval, and a bad extension: exit 2 before any run.
    for args in [&["--interval-out", "x.csv"][..], &["--interval", "5", "--interval-out", "x.txt"]] {
        let out = mmu_sim(&[&["sweep", "configs/sv32-small.ron", "--vary", "seed=1"][..], args].concat());
        assert_eq!(out.status.code(), Some(2), "{args:?}");
    }
    std::fs::remove_dir_all(&dir).ok();
}

/// `mrc --interval N --interval-out FILE` (#14): the curve's interval records
/// add up to the curve, for a TLB (with the run's own columns beside) and for
/// page replacement under both policies, after a warm-up.
#[test]
fn mrc_interval_records_add_up_to_the_curve() {
    let dir = std::env::temp_dir().join(format!("mmu-sim-mrc-intervals-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let out_file = dir.join("iv.csv");
    let sums = |path: &Path| -> Vec<(String, u64)> {
        let text = std::fs::read_to_string(path).unwrap();
        let mut lines = text.lines();
        let header: Vec<String> = lines.next().unwrap().split(',').map(str::to_owned).collect();
        let mut sums = vec![0u64; header.len()];
        for line in lines {
            for (sum, value) in sums.iter_mut().zip(line.split(',')) {
                *sum += value.parse::<u64>().unwrap();
            }
        }
        header.into_iter().zip(sums).collect()
    };
    let sum_of = |sums: &[(String, u64)], name: &str| {
        sums.iter().find(|(n, _)| n == name).unwrap_or_else(|| panic!("column {name}: {sums:?}")).1
    };
    let iv = out_file.to_str().unwrap();
    for policy in ["lru", "opt"] {
        let curve = mmu_sim(&[
            "mrc",
            "configs/sv32-gcc-trace.ron",
            "--frames",
            "16,64,200",
            "--policy",
            policy,
            "--warmup",
            "3000",
            "--interval",
            "4000",
            "--interval-out",
            iv,
        ]);
        assert!(curve.status.success(), "{}", String::from_utf8_lossy(&curve.stderr));
        let sums = sums(&out_file);
        for row in String::from_utf8(curve.stdout).unwrap().lines().skip(1) {
            let cells: Vec<&str> = row.split(',').collect();
            let (frames, references, faults) = (cells[1], cells[2], cells[3]);
            assert_eq!(sum_of(&sums, "references").to_string(), references, "{policy}");
            assert_eq!(
                sum_of(&sums, &format!("faults.{frames}")).to_string(),
                faults,
                "{policy} {frames} frames"
            );
        }
    }
    let curve = mmu_sim(&[
        "mrc",
        "configs/sv32-sortwords-lackey.ron",
        "--tlb",
        "l1d",
        "--sizes",
        "4,64",
        "--ways",
        "1,full",
        "--interval",
        "50000",
        "--interval-out",
        iv,
    ]);
    assert!(curve.status.success(), "{}", String::from_utf8_lossy(&curve.stderr));
    let sums = sums(&out_file);
    assert_eq!(sum_of(&sums, "accesses"), 308974, "every access of the trace, in intervals");
    for row in String::from_utf8(curve.stdout).unwrap().lines().skip(1) {
        let cells: Vec<&str> = row.split(',').collect();
        let (ways, entries, references, misses) = (cells[2], cells[3], cells[4], cells[5]);
        assert_eq!(sum_of(&sums, "mrc.references").to_string(), references);
        assert_eq!(
            sum_of(&sums, &format!("mrc.misses.{entries}x{ways}")).to_string(),
            misses,
            "{entries}x{ways}"
        );
    }
    let bad = mmu_sim(&["mrc", "configs/sv32-gcc-trace.ron", "--frames", "16", "--interval-out", iv]);
    assert_eq!(bad.status.code(), Some(2), "--interval-out without an interval");
    std::fs::remove_dir_all(&dir).ok();
}

/// explain reads a trace as run does (--skip-bad-lines, --trace-format,
/// --unaligned), and mrc refuses the options of the other kind of curve
/// instead of ignoring them.
#[test]
fn explain_reads_traces_as_run_does_and_mrc_refuses_the_other_curves_options() {
    let dir = std::env::temp_dir().join(format!("mmu-sim-explain-bad-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let trace = dir.join("bad.trace");
    std::fs::write(&trace, "R 0x10000000\nbogus\nR 0x10000004\n").unwrap();
    let t = trace.to_str().unwrap();
    let strict = mmu_sim(&["explain", "configs/explain-demo.ron", "--trace", t, "--access", "1"]);
    assert_eq!(strict.status.code(), Some(1), "a bad line stops it");
    let skipping =
        mmu_sim(&["explain", "configs/explain-demo.ron", "--trace", t, "--access", "1", "--skip-bad-lines"]);
    assert!(skipping.status.success(), "{}", String::from_utf8_lossy(&skipping.stderr));
    assert!(String::from_utf8_lossy(&skipping.stdout).starts_with("access 1: process 0, R 0x10000004"));
    for args in [
        &["mrc", "configs/sv32-gcc-trace.ron", "--tlb", "l1d", "--policy", "opt"][..],
        &["mrc", "configs/sv32-gcc-trace.ron", "--frames", "4", "--sizes", "4"],
        &["mrc", "configs/sv32-gcc-trace.ron", "--frames", "4", "--ways", "full"],
    ] {
        assert_eq!(mmu_sim(args).status.code(), Some(2), "{args:?}");
    }
    std::fs::remove_dir_all(&dir).ok();
}

/// An output flag naming the trace the run reads is refused before the run
/// (exit 2, naming both), and the trace is left as it was: before, `--log-file
/// v.trace` (and `--interval-out`, `--plot-intervals`, `--plot-latency`, mrc's
/// and sweep's outputs) truncated the input before or while it was read. The
/// same file spelt another way (`dir/./v.trace`) is the same file.
#[test]
fn an_output_that_is_the_trace_is_refused_before_the_run() {
    let dir = std::env::temp_dir().join(format!("mmu-sim-output-is-trace-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let original =
        std::fs::read(Path::new(env!("CARGO_MANIFEST_DIR")).join("traces/explain-demo.trace")).unwrap();
    // One copy per extension the output flags accept: the trace reader goes by content.
    let (text, csv, svg) = (dir.join("v.trace"), dir.join("v.csv"), dir.join("v.svg"));
    for file in [&text, &csv, &svg] {
        std::fs::write(file, &original).unwrap();
    }
    let other = |p: &Path| dir.join(".").join(p.file_name().unwrap()).to_str().unwrap().to_string();
    let run = |trace: &Path, extra: &[&str]| {
        let mut args = vec!["run", "configs/explain-demo.ron", "--trace"];
        let trace = trace.to_str().unwrap().to_string();
        args.push(&trace);
        args.extend_from_slice(extra);
        mmu_sim(&args)
    };
    let cases: Vec<(&Path, &str, Vec<String>)> = vec![
        (&text, "--log-file", vec!["--log".into(), "0..3".into(), "--log-file".into(), other(&text)]),
        (&csv, "--interval-out", vec!["--interval".into(), "2".into(), "--interval-out".into(), other(&csv)]),
        (
            &svg,
            "--plot-intervals",
            vec!["--interval".into(), "2".into(), "--plot-intervals".into(), other(&svg)],
        ),
        (&svg, "--plot-latency", vec!["--plot-latency".into(), other(&svg)]),
    ];
    for (trace, flag, extra) in &cases {
        let extra: Vec<&str> = extra.iter().map(String::as_str).collect();
        let out = run(trace, &extra);
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(2), "{flag}: {stderr}");
        assert!(stderr.contains(&format!("{flag} {} is the --trace file", other(trace))), "{flag}: {stderr}");
        assert_eq!(std::fs::read(trace).unwrap(), original, "{flag}: the trace was changed");
    }
    let t = |p: &Path| p.to_str().unwrap().to_string();
    let others: [(&str, Vec<String>); 4] = [
        (
            "mrc --interval-out",
            vec![
                "mrc".into(),
                "configs/explain-demo.ron".into(),
                "--trace".into(),
                t(&csv),
                "--frames".into(),
                "2".into(),
                "--interval".into(),
                "2".into(),
                "--interval-out".into(),
                other(&csv),
            ],
        ),
        (
            "mrc --plot",
            vec![
                "mrc".into(),
                "configs/explain-demo.ron".into(),
                "--trace".into(),
                t(&svg),
                "--frames".into(),
                "2".into(),
                "--plot".into(),
                other(&svg),
            ],
        ),
        (
            "sweep --out",
            vec![
                "sweep".into(),
                "configs/explain-demo.ron".into(),
                "--vary".into(),
                "seed=1".into(),
                "--trace".into(),
                t(&text),
                "--out".into(),
                other(&text),
            ],
        ),
        (
            "sweep --interval-out",
            vec![
                "sweep".into(),
                "configs/explain-demo.ron".into(),
                "--vary".into(),
                "seed=1".into(),
                "--trace".into(),
                t(&csv),
                "--interval".into(),
                "2".into(),
                "--interval-out".into(),
                other(&csv),
            ],
        ),
    ];
    for (what, args) in &others {
        let args: Vec<&str> = args.iter().map(String::as_str).collect();
        let out = mmu_sim(&args);
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(2), "{what}: {stderr}");
        assert!(stderr.contains("is the --trace file"), "{what}: {stderr}");
    }
    for file in [&text, &csv, &svg] {
        assert_eq!(std::fs::read(file).unwrap(), original, "{} was changed", file.display());
    }
    std::fs::remove_dir_all(&dir).ok();
}
