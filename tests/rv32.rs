//! RV32 programs on the machine (issue #10): the riscv-tests suite and
//! programs/sv32-demo on configs/rv32-virt.ron, the exit statuses and console
//! rules of `mmu-sim run --elf`, and bad input.

use mmu_sim::{ProgramEnd, RunError, RunOptions};
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

const VIRT: &str = "configs/rv32-virt.ron";

fn root() -> &'static Path {
    Path::new(env!("CARGO_MANIFEST_DIR"))
}

fn suite_dir() -> PathBuf {
    let dir = root().join("../shared/riscv-tests");
    assert!(
        dir.join("expected.txt").is_file() && dir.join("elf").is_dir(),
        "the riscv-tests are missing: expected {} with expected.txt and elf/ (shared/riscv-tests beside the repository)",
        dir.display()
    );
    dir
}

fn run_elf(config: &str, elf: &Path, max_instructions: Option<u64>) -> Result<mmu_sim::RunOutcome, RunError> {
    let config_path = root().join(config);
    let config = mmu_sim::load_config(&config_path).expect("the shipped config loads");
    let options = RunOptions { elf: Some(elf.to_path_buf()), max_instructions, ..RunOptions::default() };
    mmu_sim::run_with(&config, &config_path, &options)
}

/// `cycles_by_cause` of `report`, checked to add up to its `cycles`.
fn assert_causes_add_up(report: &cpu_sim::Report, what: &str) {
    let causes = report.cycles_by_cause.causes();
    let sum: u64 = causes.iter().map(|(_, c)| c).sum();
    assert_eq!(sum, report.cycles, "{what}: {causes:?} add up to {sum}, not to cycles {}", report.cycles);
}

fn end_of(outcome: &mmu_sim::RunOutcome) -> &ProgramEnd {
    &outcome.program.as_ref().expect("an ELF run has a program section").end
}

#[test]
fn every_listed_riscv_test_passes_on_the_virt_config() {
    let dir = suite_dir();
    let list = std::fs::read_to_string(dir.join("expected.txt")).expect("expected.txt reads");
    let names: Vec<&str> =
        list.lines().filter_map(|l| l.split_whitespace().next()).filter(|n| !n.starts_with('#')).collect();
    assert!(names.len() >= 140, "expected.txt lists the suite ({} names)", names.len());
    assert!(names.iter().any(|n| n.contains("-v-")) && names.iter().any(|n| n.contains("-p-")));
    let mut failures = Vec::new();
    for name in &names {
        let outcome = run_elf(VIRT, &dir.join("elf").join(name), Some(10_000_000));
        let end = match &outcome {
            Ok(o) => format!("{:?}", end_of(o)),
            Err(e) => format!("error: {e}"),
        };
        let want = "Halted(Pass)";
        if end != want {
            failures.push(format!("{name}: {end}"));
        }
        if let Ok(o) = &outcome {
            let core = o.report.core.as_ref().expect("an ELF report has a core section");
            assert!(core.instructions > 0 && o.report.cycles > core.instructions, "{name}");
            assert_causes_add_up(&o.report, name);
            if name.contains("-v-") {
                assert!(o.report.walker.walks > 0, "{name}: a -v- test walks page tables");
            }
        }
    }
    assert!(failures.is_empty(), "{} of {} failed:\n{}", failures.len(), names.len(), failures.join("\n"));
}

fn mmu_sim(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_mmu-sim"))
        .args(args)
        .current_dir(root())
        .output()
        .expect("the binary runs")
}

#[test]
fn sv32_demo_prints_the_specifications_output_before_the_table() {
    let expected = std::fs::read(root().join("programs/sv32-demo/expected.txt")).expect("expected.txt");
    let out = mmu_sim(&["run", VIRT, "--elf", "programs/sv32-demo/sv32-demo.elf"]);
    assert_eq!(out.status.code(), Some(0), "{}", String::from_utf8_lossy(&out.stderr));
    assert!(out.stdout.starts_with(&expected), "the console comes first, byte for byte");
    let table = String::from_utf8_lossy(&out.stdout[expected.len()..]).into_owned();
    assert!(table.starts_with("mmu-sim run configs/rv32-virt.ron"), "{table}");
    assert!(table.contains("instructions") && table.contains("CPI"), "{table}");
    assert!(table.contains("cycles by cause") && table.contains("legend"), "{table}");
    // The UART's registers cost 1 cycle each, counted with the data accesses.
    let outcome = run_elf(VIRT, &root().join("programs/sv32-demo/sv32-demo.elf"), None).expect("it runs");
    let r = &outcome.report;
    assert_causes_add_up(r, "sv32-demo");
    let console = outcome.program.as_ref().map_or(0, |p| p.console.len() as u64);
    assert!(r.cycles_by_cause.dram_data >= r.dram.data.latency_cycles + console, "a device cycle per byte");
}

#[test]
fn with_json_the_console_goes_to_stderr_or_to_the_console_file() {
    let expected = std::fs::read(root().join("programs/sv32-demo/expected.txt")).expect("expected.txt");
    let out = mmu_sim(&["run", VIRT, "--format", "json"]);
    assert_eq!(out.status.code(), Some(0));
    assert_eq!(out.stderr, expected, "the console on standard error");
    let report: serde_json::Value =
        serde_json::from_slice(&out.stdout).expect("stdout holds exactly one report");
    let instructions =
        report.pointer("/core/instructions").and_then(serde_json::Value::as_u64).expect("core");
    let loads = report.pointer("/core/counts/loads").and_then(serde_json::Value::as_u64).expect("loads");
    assert!(instructions > loads && loads > 0);
    assert!(report.pointer("/core/cpi").and_then(serde_json::Value::as_f64).is_some_and(|c| c > 1.0));

    let file = std::env::temp_dir().join(format!("mmu-sim-console-{}.txt", std::process::id()));
    let out = mmu_sim(&["run", VIRT, "--format", "ron", "--console", file.to_str().expect("utf-8 path")]);
    assert_eq!(out.status.code(), Some(0));
    assert!(out.stderr.is_empty(), "{}", String::from_utf8_lossy(&out.stderr));
    assert_eq!(std::fs::read(&file).expect("the console file"), expected);
    let _ = std::fs::remove_file(file);
}

#[test]
fn a_timer_interrupt_ends_a_wfi_at_the_clints_deadline() {
    // programs/timer arms mtimecmp 100,000 ticks ahead and waits in wfi; the clock
    // jumps to the deadline (300 cycles per tick) instead of stepping there.
    let outcome = run_elf(VIRT, &root().join("programs/timer/timer.elf"), Some(10_000)).expect("it ends");
    let program = outcome.program.as_ref().expect("a program run");
    let expected = std::fs::read(root().join("programs/timer/expected.txt")).expect("QEMU's output");
    assert_eq!(program.console, expected);
    assert_eq!(program.end, ProgramEnd::Halted(cpu_sim::virt::Halt::Pass));
    let core = outcome.report.core.as_ref().expect("core");
    assert_eq!(core.counts.traps.machine_timer_interrupt, 1);
    assert!(core.instructions < 1000, "{}", core.instructions);
    assert!(outcome.report.cycles >= 100_000 * 300, "{}", outcome.report.cycles);
    // The jump is `idle`, and the causes still add up to the clock.
    assert_causes_add_up(&outcome.report, "timer");
    let idle = outcome.report.cycles_by_cause.idle;
    assert!(idle > 99_000 * 300 && idle < outcome.report.cycles, "idle {idle}");
}

/// A minimal RV32 ELF (one PT_LOAD at 0x8000_0000) whose code writes the test
/// finisher's fail code for test 3, `(3 << 16) | 0x3333`, then spins.
fn finisher_fail_3_elf() -> Vec<u8> {
    let code: [u32; 5] = [
        0x0010_02b7, // lui  t0, 0x100        t0 = 0x10_0000, the finisher
        0x0003_3337, // lui  t1, 0x33         t1 = 0x3_3000
        0x3333_0313, // addi t1, t1, 0x333    t1 = 0x3_3333 = (3 << 16) | 0x3333
        0x0062_a023, // sw   t1, 0(t0)
        0x0000_006f, // j    .
    ];
    let mut elf = Vec::new();
    elf.extend_from_slice(&[0x7f, b'E', b'L', b'F', 1, 1, 1, 0, 0, 0, 0, 0, 0, 0, 0, 0]);
    let half = |v: u16, e: &mut Vec<u8>| e.extend_from_slice(&v.to_le_bytes());
    let word = |v: u32, e: &mut Vec<u8>| e.extend_from_slice(&v.to_le_bytes());
    half(2, &mut elf); // ET_EXEC
    half(243, &mut elf); // EM_RISCV
    word(1, &mut elf);
    word(0x8000_0000, &mut elf); // entry
    word(52, &mut elf); // program headers right after this header
    word(0, &mut elf); // no section headers
    word(0, &mut elf); // flags
    for v in [52, 32, 1, 40, 0, 0] {
        half(v, &mut elf);
    }
    for v in [1, 84, 0x8000_0000, 0x8000_0000, 20, 20, 5, 4] {
        word(v, &mut elf); // PT_LOAD, offset, vaddr, paddr, filesz, memsz, R+X, align
    }
    for c in code {
        word(c, &mut elf);
    }
    elf
}

#[test]
fn a_failing_bare_metal_test_exits_with_its_number() {
    let dir = std::env::temp_dir().join(format!("mmu-sim-rv32-fail-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let elf = dir.join("fail3.elf");
    std::fs::write(&elf, finisher_fail_3_elf()).unwrap();
    let out = mmu_sim(&["run", VIRT, "--elf", elf.to_str().expect("utf-8 path")]);
    assert_eq!(
        out.status.code(),
        Some(3),
        "the finisher's (3 << 16) | 0x3333: test 3 failed; {}",
        String::from_utf8_lossy(&out.stderr)
    );
    std::fs::remove_dir_all(&dir).ok();
    let pass = suite_dir().join("elf/rv32ui-v-add");
    assert_eq!(mmu_sim(&["run", VIRT, "--elf", pass.to_str().expect("utf-8 path")]).status.code(), Some(0));
}

#[test]
fn the_instruction_limit_stops_a_runaway_program() {
    // rv32ui-p-simple retires 76 instructions; 20 is too few.
    let elf = suite_dir().join("elf/rv32ui-p-simple");
    let err = run_elf(VIRT, &elf, Some(20)).expect_err("the guard stops it");
    assert_eq!(err.exit_code(), 1);
    assert!(err.to_string().contains("within 20 instructions"), "{err}");
    let out = mmu_sim(&["run", VIRT, "--elf", elf.to_str().expect("utf-8 path"), "--max-instructions", "20"]);
    assert_eq!(out.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&out.stderr).contains("--max-instructions"));
}

#[test]
fn bad_programs_get_one_clear_error_and_no_panic() {
    let dir = std::env::temp_dir().join(format!("mmu-sim-bad-elf-{}", std::process::id()));
    std::fs::create_dir_all(&dir).expect("a temporary directory");
    let simple = std::fs::read(suite_dir().join("elf/rv32ui-p-simple")).expect("the ELF");
    let mut not_riscv = simple.clone();
    not_riscv[18] = 3; // e_machine = EM_386
    let mut elf64 = simple.clone();
    elf64[4] = 2; // EI_CLASS = ELFCLASS64
    let cases: [(&str, Vec<u8>, &str); 4] = [
        ("not-elf", b"(seed: 1)\n".to_vec(), "not an ELF file"),
        ("empty", Vec::new(), "not an ELF file"),
        ("i386", not_riscv, "not RISC-V"),
        ("elf64", elf64, "64-bit"),
    ];
    for (name, bytes, message) in cases {
        let path = dir.join(name);
        std::fs::write(&path, bytes).expect("a temporary file");
        let err = run_elf(VIRT, &path, None).expect_err(name);
        assert_eq!(err.exit_code(), 2, "{name}: {err}");
        assert!(err.to_string().contains(message), "{name}: {err}");
    }
    let _ = std::fs::remove_dir_all(dir);
    // A Linux user program is linked at 0x10000, outside the board's RAM.
    let err = run_elf(VIRT, &root().join("programs/hello/hello.elf"), None).expect_err("outside RAM");
    assert_eq!(err.exit_code(), 2);
    assert!(err.to_string().contains("outside RAM [0x80000000, 0x88000000)"), "{err}");
    // --elf needs an ELF workload.
    let err = run_elf("configs/sv32-small.ron", &root().join("programs/hello/hello.elf"), None)
        .expect_err("not Elf");
    assert!(err.to_string().contains("workload is `Elf`"), "{err}");
    let missing = run_elf(VIRT, Path::new("no/such.elf"), None).expect_err("missing");
    assert_eq!(missing.exit_code(), 2);
    // A trace's options cannot apply to a program: refused, not silently ignored
    // (the run would report the program as if the trace had been run).
    for extra in [
        &["--trace", "traces/explain-demo.trace"][..],
        &["--trace-format", "native"][..],
        &["--skip-bad-lines"][..],
        &["--unaligned", "round-down"][..],
    ] {
        for config in [VIRT, "configs/rv32-user.ron"] {
            let mut args = vec!["run", config];
            args.extend_from_slice(extra);
            let out = mmu_sim(&args);
            let stderr = String::from_utf8_lossy(&out.stderr);
            assert_eq!(out.status.code(), Some(2), "{config} {extra:?}: {stderr}");
            assert!(stderr.contains("to a trace") && stderr.contains(extra[0]), "{extra:?}: {stderr}");
            assert!(out.stdout.is_empty(), "{config} {extra:?}: nothing ran");
        }
    }
}

const USER: &str = "configs/rv32-user.ron";

#[test]
fn hello_prints_its_expected_output_in_user_mode() {
    let expected = std::fs::read(root().join("programs/hello/expected.txt")).expect("expected.txt");
    let expected_err = std::fs::read(root().join("programs/hello/expected-stderr.txt")).expect("stderr file");
    let out = mmu_sim(&["run", USER, "--elf", "programs/hello/hello.elf", "--format", "json"]);
    assert_eq!(out.status.code(), Some(0), "{}", String::from_utf8_lossy(&out.stderr));
    // With JSON, fd 1 goes to standard error too, before fd 2's line.
    assert_eq!(out.stderr, [expected.clone(), expected_err.clone()].concat());
    let report: serde_json::Value = serde_json::from_slice(&out.stdout).expect("one report");
    assert_eq!(report.pointer("/core/environment").and_then(serde_json::Value::as_str), Some("UserProcess"));
    assert!(report.pointer("/os/demand_zero").and_then(serde_json::Value::as_u64).is_some_and(|n| n > 0));
    assert!(report.pointer("/data_checksum").and_then(serde_json::Value::as_u64).is_some_and(|c| c != 0));
    let again = mmu_sim(&["run", USER, "--elf", "programs/hello/hello.elf", "--format", "json"]);
    assert_eq!(again.stdout, out.stdout, "the same program and config give identical bytes");

    let out = mmu_sim(&["run", USER, "--elf", "programs/hello/hello.elf"]);
    assert!(out.stdout.starts_with(&expected), "table format: the console first");
    assert_eq!(out.stderr, expected_err);
}

#[test]
fn exit_code_exits_with_its_status() {
    let out = mmu_sim(&["run", USER, "--elf", "programs/exit-code/exit-code.elf"]);
    assert_eq!(out.status.code(), Some(3));
    let expected = std::fs::read(root().join("programs/exit-code/expected.txt")).expect("expected.txt");
    assert!(out.stdout.starts_with(&expected));
}

#[test]
fn an_illegal_instruction_or_a_runaway_loop_stops_the_process_with_the_reason() {
    let err = run_elf(USER, &root().join("programs/bad/illegal.elf"), None).expect_err("stopped");
    assert!(err.to_string().contains("IllegalInstruction at pc"), "{err}");
    let RunError::Stopped(stopped) = &err else { panic!("{err:?}") };
    let expected = std::fs::read(root().join("programs/bad/illegal-expected.txt")).expect("expected");
    assert_eq!(stopped.console, expected, "what it printed before the trap");
    let err = run_elf(USER, &root().join("programs/bad/loop.elf"), Some(200_000)).expect_err("runaway");
    assert!(err.to_string().contains("within 200000 instructions"), "{err}");
    assert_eq!(err.exit_code(), 1);
}

/// programs/swapper grows its heap by 8 MiB on rv32-user.ron's 4 MiB of DRAM:
/// it swaps under every replacement policy, and every load returns the last value
/// stored (`--check`). OPT (its future learnt by a run ahead) swaps in the least.
#[test]
fn swapper_swaps_under_every_replacement_policy_and_passes_check() {
    let expected = std::fs::read(root().join("programs/swapper/expected.txt")).expect("expected.txt");
    let text = std::fs::read_to_string(root().join(USER)).expect("the config");
    let mut swap_ins: Vec<u64> = Vec::new();
    for policy in ["Fifo", "Lru", "Clock", "Random", "Opt"] {
        let config_text = text.replace("replacement: Clock", &format!("replacement: {policy}"));
        let config = cpu_sim::parse_config(&config_text, policy).expect("valid");
        let options = RunOptions {
            elf: Some(root().join("programs/swapper/swapper.elf")),
            check: true,
            ..RunOptions::default()
        };
        let outcome = mmu_sim::run_with(&config, &root().join(USER), &options)
            .unwrap_or_else(|e| panic!("{policy}: {e}"));
        let program = outcome.program.expect("a program run");
        assert_eq!(program.console, expected, "{policy}");
        assert_eq!(program.end, ProgramEnd::Exited(0), "{policy}");
        let r = &outcome.report;
        assert!(r.os.swap_ins > 0 && r.os.evictions > 0, "{policy}: it swaps ({:?})", r.os);
        assert!(r.check.as_ref().is_some_and(|c| c.loads_checked > 1_000_000), "{policy}: {:?}", r.check);
        assert!(
            r.core.as_ref().is_some_and(|c| c.instructions < 10_000_000),
            "{policy}: under 10 M instructions"
        );
        assert_causes_add_up(r, policy);
        let b = &r.cycles_by_cause;
        let swap = config.os.swap.as_ref().expect("a swap device");
        assert_eq!(
            b.swap_io,
            r.os.swap_reads * swap.read_latency.as_u64() + r.os.swap_writes * swap.write_latency.as_u64(),
            "{policy}"
        );
        assert!(b.fault_handling > 0 && b.swap_io > 0, "{policy}: {b:?}");
        swap_ins.push(r.os.swap_ins);
    }
    let opt = swap_ins[4];
    assert!(swap_ins.iter().all(|&s| opt <= s), "OPT swaps in the least: {swap_ins:?}");
}

// Windows of a program run (issue #14): counted in instructions retired.

/// Runs `elf` on `config` with `window` in the config (as the config's `window`
/// field would give it), and `--check` if asked.
fn run_window(config: &str, elf: &str, window: cpu_sim::window::Window, check: bool) -> mmu_sim::RunOutcome {
    let config_path = root().join(config);
    let mut loaded = mmu_sim::load_config(&config_path).expect("the shipped config loads");
    loaded.window = window;
    let options = RunOptions { elf: Some(root().join(elf)), check, ..RunOptions::default() };
    mmu_sim::run_with(&loaded, &config_path, &options).unwrap_or_else(|e| panic!("{config} {elf}: {e}"))
}

fn window(skip: u64, warmup: u64, max: Option<u64>, interval: Option<u64>) -> cpu_sim::window::Window {
    cpu_sim::window::Window { skip, warmup, max, interval }
}

fn instructions(outcome: &mmu_sim::RunOutcome) -> u64 {
    outcome.report.core.as_ref().expect("an ELF report has a core section").instructions
}

/// Bare metal (the virt board's sv32-demo, which owns its page tables) and a user
/// program on the OS model (hello).
const PROGRAMS: [(&str, &str); 2] =
    [(VIRT, "programs/sv32-demo/sv32-demo.elf"), (USER, "programs/hello/hello.elf")];

#[test]
fn skip_plus_warmup_plus_measured_is_the_whole_run_and_the_output_is_the_same() {
    for (config, elf) in PROGRAMS {
        let whole = run_window(config, elf, window(0, 0, None, None), false);
        let total = instructions(&whole);
        assert!(whole.report.window.is_none(), "no window asked, no window section");
        let (skip, warmup) = (total / 4, total / 4);
        let windowed = run_window(config, elf, window(skip, warmup, None, None), false);
        let w = windowed.report.window.as_ref().expect("a window section");
        assert_eq!((w.skipped, w.warmup, w.stopped_at_max), (skip, warmup, false), "{elf}");
        assert_eq!(w.skipped + w.warmup + w.measured, total, "{elf}");
        assert_eq!(instructions(&windowed), w.measured, "{elf}: the report counts the measured part");
        let (a, b) = (whole.program.as_ref().expect("program"), windowed.program.as_ref().expect("program"));
        assert_eq!(a.console, b.console, "{elf}: the same output after a functional skip");
        assert_eq!(a.end, b.end, "{elf}");
        // A skip alone: its instructions ran functionally, so the TLBs start cold
        // after it; a warm-up of the same length leaves them warm.
        let skipped = run_window(config, elf, window(skip + warmup, 0, None, None), false);
        let warmed = run_window(config, elf, window(0, skip + warmup, None, None), false);
        assert_eq!(instructions(&skipped), instructions(&warmed), "{elf}");
        assert_eq!(skipped.report.accesses, warmed.report.accesses, "{elf}: the same accesses follow");
        assert_eq!(skipped.program.as_ref().expect("program").console, a.console, "{elf}");
        assert!(skipped.report.walker.walks > warmed.report.walker.walks, "{elf}: cold TLBs after a skip");
    }
}

/// The counters that are sums of per-instruction events: with all state kept
/// at the end of a warm-up and a deterministic machine, a warm-up run's value is
/// the whole run's minus that of a run stopped (`max`) where the warm-up ends.
/// Not prefix-additive, so left out: `data_checksum` (an FNV chain, not a sum),
/// CPI and `averages` (ratios), and the OS's levels (`frames_free`,
/// `swap_slots_used`, `swap_slots_peak`, `page_table_bytes`): states, not events.
const PREFIX_ADDITIVE: [&str; 26] = [
    "/accesses",
    "/cycles",
    "/core/instructions",
    "/core/counts/alu",
    "/core/counts/loads",
    "/core/counts/stores",
    "/core/counts/branches",
    "/core/counts/system",
    "/tlb/l1i/lookups",
    "/tlb/l1i/misses",
    "/tlb/l1d/lookups",
    "/tlb/l1d/misses",
    "/tlb/l2/lookups",
    "/tlb/l2/hits",
    "/walk_cache/root/lookups",
    "/walks",
    "/pte_reads",
    "/pte_writes",
    "/walk_cycles",
    "/dram/reads",
    "/dram/writes",
    "/dram/row_hits",
    "/dram/row_misses",
    "/faults/not_present",
    "/faults/protection",
    "/os/demand_zero",
];

#[test]
fn a_warm_up_runs_counters_are_the_whole_runs_minus_the_warm_up_prefix() {
    for (config, elf) in PROGRAMS {
        let whole = run_window(config, elf, window(0, 0, None, None), false);
        let w = instructions(&whole) / 2;
        let prefix = run_window(config, elf, window(0, 0, Some(w), None), false);
        assert_eq!(prefix.program.as_ref().expect("program").end, ProgramEnd::StoppedAtMax, "{elf}");
        assert_eq!(prefix.program.as_ref().expect("program").end.exit_status(), 0);
        assert!(prefix.report.window.as_ref().is_some_and(|w| w.stopped_at_max), "{elf}");
        let warm = run_window(config, elf, window(0, w, None, None), false);
        let json = |o: &mmu_sim::RunOutcome| serde_json::to_value(&o.report).expect("a report serializes");
        let (a, p, c) = (json(&whole), json(&prefix), json(&warm));
        for path in PREFIX_ADDITIVE {
            let get = |v: &serde_json::Value| v.pointer(path).and_then(serde_json::Value::as_u64);
            let (a, p, c) = (get(&a), get(&p), get(&c));
            assert!(a.is_some(), "{elf}: {path} in the report");
            assert_eq!(c, a.zip(p).map(|(a, p)| a - p), "{elf}: {path}: whole {a:?}, prefix {p:?}");
        }
        assert!(c.pointer("/walks").and_then(serde_json::Value::as_u64) > Some(0) || config == USER);
    }
}

/// The interval columns' deltas add up to the report's totals, column by column.
fn assert_intervals_sum_to_the_report(outcome: &mmu_sim::RunOutcome, every: u64) {
    let (columns, records) = outcome.intervals.as_ref().expect("intervals asked for");
    let r = &outcome.report;
    let total = |name: &str| -> u64 {
        let f = &r.faults;
        match name {
            "instructions" => instructions(outcome),
            "accesses" => r.accesses,
            "cycles" => r.cycles,
            "walks" => r.walker.walks,
            "faults" => {
                f.not_present
                    + f.protection
                    + f.reserved
                    + f.misaligned_superpage
                    + f.accessed_dirty
                    + f.access_fault
            }
            "os.swap_reads" => r.os.swap_reads,
            "os.swap_writes" => r.os.swap_writes,
            "dram.row_hits" => r.dram.row_hits,
            "dram.row_misses" => r.dram.row_misses,
            "dram.row_conflicts" => r.dram.row_conflicts,
            tlb => {
                let (name, counter) =
                    tlb.strip_prefix("tlb.").and_then(|t| t.rsplit_once('.')).expect("tlb column");
                let stats = &r.tlb.0.iter().find(|(n, _)| n == name).expect("a TLB of the report").1;
                if counter == "lookups" { stats.lookups } else { stats.misses }
            }
        }
    };
    assert_eq!(columns.0[0], "instructions");
    assert!(records.len() >= 2, "several intervals");
    for (i, name) in columns.0.iter().enumerate() {
        let sum: u64 = records.iter().map(|rec| rec.values[i]).sum();
        assert_eq!(sum, total(name), "column {name}");
    }
    let (last, full) = records.split_last().expect("records");
    assert!(full.iter().all(|rec| rec.values[0] == every), "every interval but the last is N instructions");
    assert!(last.values[0] <= every);
}

#[test]
fn interval_deltas_sum_to_the_reports_totals_on_bare_metal() {
    let (config, elf) = PROGRAMS[0];
    let outcome = run_window(config, elf, window(1000, 5000, None, Some(7000)), false);
    assert_intervals_sum_to_the_report(&outcome, 7000);
}

/// programs/swapper (8 MiB of heap on 4 MiB of DRAM) under `--check`, with a
/// skip (its page faults handled by the OS on the functional path, the oracle
/// fed) and a warm-up: every load still returns the last value stored, the
/// output is the expected one, the parts add up, and the intervals sum up.
#[test]
fn swapper_holds_check_across_a_skip_and_a_warm_up() {
    let elf = "programs/swapper/swapper.elf";
    let expected = std::fs::read(root().join("programs/swapper/expected.txt")).expect("expected.txt");
    let whole = run_window(USER, elf, window(0, 0, None, None), true);
    let outcome = run_window(USER, elf, window(1_000_000, 1_000_000, None, Some(500_000)), true);
    let program = outcome.program.as_ref().expect("a program run");
    assert_eq!(program.console, expected);
    assert_eq!(program.end, ProgramEnd::Exited(0));
    let r = &outcome.report;
    let w = r.window.as_ref().expect("a window section");
    assert_eq!(w.skipped + w.warmup + w.measured, instructions(&whole));
    assert!(r.check.as_ref().is_some_and(|c| c.loads_checked > 1_000_000), "{:?}", r.check);
    assert!(r.os.swap_ins > 0, "it still swaps after the warm-up");
    assert_intervals_sum_to_the_report(&outcome, 500_000);
}

/// A skip, or a skip and a warm-up, of exactly the program's 79,516
/// instructions measures nothing: said (before, nothing was said, since neither
/// was cut short). One instruction fewer measures one and says nothing.
#[test]
fn a_window_that_ends_with_the_program_is_said() {
    let cases: [(&[&str], Option<&str>); 4] = [
        (
            &["--skip", "79516"],
            Some(
                "warning: the program ended after 79516 instructions, exactly the 79516 to skip: \
                 nothing was measured (it ran functionally)",
            ),
        ),
        (
            &["--skip", "79000", "--warmup", "516"],
            Some("warning: the program ended with the warm-up (516 instructions after 79000 skipped)"),
        ),
        (&["--skip", "79515"], None),
        (&["--skip", "79000", "--warmup", "515"], None),
    ];
    for (flags, wanted) in cases {
        let out = mmu_sim(&[&["run", VIRT], flags].concat());
        assert_eq!(out.status.code(), Some(0), "{flags:?}");
        let stderr = String::from_utf8_lossy(&out.stderr);
        match wanted {
            Some(wanted) => assert!(stderr.contains(wanted), "{flags:?}: {stderr}"),
            None => assert!(!stderr.contains("warning:"), "{flags:?}: {stderr}"),
        }
    }
}

#[test]
fn a_window_that_does_not_fit_the_program_is_said_and_reported() {
    // Longer than sv32-demo's 79,516 instructions: the skip ran everything
    // functionally, so every counter is 0 (nothing reached the TLBs or DRAM).
    let out = mmu_sim(&["run", VIRT, "--skip", "10000000", "--format", "json"]);
    assert_eq!(out.status.code(), Some(0), "the program's own status");
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.contains("warning: the program ended after 79516 instructions, within the 10000000 to skip"),
        "{stderr}"
    );
    let report: serde_json::Value = serde_json::from_slice(&out.stdout).expect("a report");
    for path in [
        "/window/skipped",
        "/core/instructions",
        "/accesses",
        "/tlb/l1d/lookups",
        "/tlb/l1i/fills",
        "/walks",
        "/dram/reads",
    ] {
        let want = if path == "/window/skipped" { 79516 } else { 0 };
        assert_eq!(report.pointer(path).and_then(serde_json::Value::as_u64), Some(want), "{path}");
    }
    // A warm-up longer than the program: the counters are the partial warm-up's.
    let out = mmu_sim(&[
        "run",
        USER,
        "--elf",
        "programs/exit-code/exit-code.elf",
        "--warmup",
        "10000000",
        "--format",
        "json",
    ]);
    assert_eq!(out.status.code(), Some(3), "the program's own status");
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains("warning: the program ended during the warm-up ("), "{stderr}");
    let report: serde_json::Value = serde_json::from_slice(&out.stdout).expect("a report");
    let core = report.pointer("/core/instructions").and_then(serde_json::Value::as_u64);
    assert_eq!(report.pointer("/window/warmup").and_then(serde_json::Value::as_u64), core);
    assert_eq!(report.pointer("/window/measured").and_then(serde_json::Value::as_u64), Some(0));
    // --max: the run stops, reports, and exits 0 (the program did not end).
    let out = mmu_sim(&[
        "run",
        USER,
        "--elf",
        "programs/exit-code/exit-code.elf",
        "--max",
        "100",
        "--format",
        "json",
    ]);
    assert_eq!(out.status.code(), Some(0), "{}", String::from_utf8_lossy(&out.stderr));
    let report: serde_json::Value = serde_json::from_slice(&out.stdout).expect("a report");
    assert_eq!(report.pointer("/core/instructions").and_then(serde_json::Value::as_u64), Some(100));
    assert_eq!(report.pointer("/window/stopped_at_max").and_then(serde_json::Value::as_bool), Some(true));
    // Intervals to a file, CSV with the program's `instructions` column first,
    // and a plot of cycles per instruction.
    let csv = std::env::temp_dir().join(format!("mmu-sim-elf-intervals-{}.csv", std::process::id()));
    let svg = csv.with_extension("svg");
    let (csv_arg, svg_arg) = (csv.to_str().expect("utf-8"), svg.to_str().expect("utf-8"));
    let out = mmu_sim(&[
        "run",
        VIRT,
        "--interval",
        "20000",
        "--interval-out",
        csv_arg,
        "--plot-intervals",
        svg_arg,
    ]);
    assert_eq!(out.status.code(), Some(0), "{}", String::from_utf8_lossy(&out.stderr));
    let text = std::fs::read_to_string(&csv).expect("the interval file");
    assert!(text.starts_with("interval,instructions,accesses,cycles,tlb.l1i.lookups,"), "{text}");
    assert_eq!(text.lines().count(), 1 + 4, "79,516 instructions: 3 full intervals and a last one");
    let plot = std::fs::read_to_string(&svg).expect("the plot");
    assert!(plot.contains("cycles per instruction"), "a program's plot is per instruction");
    let _ = (std::fs::remove_file(csv), std::fs::remove_file(svg));
    // The config's `window` field, as well as the flags.
    let text = std::fs::read_to_string(root().join(USER)).expect("the config");
    let text = text.replace(
        "workload: Elf(",
        "window: (skip: 1000, warmup: 2000, max: Some(3000)),\n    workload: Elf(",
    );
    let config = cpu_sim::parse_config(&text, USER).expect("a window is valid with an Elf workload");
    let options = RunOptions { elf: Some(root().join("programs/hello/hello.elf")), ..RunOptions::default() };
    let outcome = mmu_sim::run_with(&config, &root().join(USER), &options).expect("it runs");
    let w = outcome.report.window.expect("a window section");
    assert_eq!((w.skipped, w.warmup, w.measured, w.stopped_at_max), (1000, 2000, 3000, true));
}

/// A report as lines, for a field-by-field comparison that names the first difference.
fn report_lines(report: &cpu_sim::Report) -> Vec<String> {
    format!("{report:#?}").lines().map(str::to_owned).collect()
}

fn assert_same_reports(name: &str, fast: &cpu_sim::Report, slow: &cpu_sim::Report) {
    let (fast, slow) = (report_lines(fast), report_lines(slow));
    if let Some((a, b)) = fast.iter().zip(&slow).find(|(a, b)| a != b) {
        panic!("{name}: with the fast paths `{a}`, without `{b}`");
    }
    assert_eq!(fast.len(), slow.len(), "{name}");
}

/// How a bare-metal run ended: its report, its console, how it stopped, and
/// each TLB's resident entries (in entry order, so a different victim shows).
struct VirtRun {
    report: cpu_sim::Report,
    console: Vec<u8>,
    end: String,
    tlbs: Vec<String>,
}

/// Runs a bare-metal ELF on `config` with the fast paths on or off, and
/// `max_instructions` as the limit.
fn run_virt(
    config: &cpu_sim::MachineConfig,
    elf: &Path,
    fast: bool,
    max_instructions: Option<u64>,
) -> VirtRun {
    let mut config = config.clone();
    if let cpu_sim::WorkloadConfig::Elf { max_instructions: limit, .. } = &mut config.workload {
        *limit = max_instructions;
    }
    let program = rv32::elf::parse(&std::fs::read(elf).expect("the ELF reads")).expect("an RV32 ELF");
    let mut machine = cpu_sim::virt::VirtMachine::new(&config, &program).expect("it loads");
    machine.set_fast_paths(fast);
    let end = format!("{:?}", machine.run());
    let hierarchy = machine.memory().mmu().tlbs();
    let tlbs = hierarchy.l1().iter().chain(hierarchy.l2()).map(|t| format!("{:?}", t.entries())).collect();
    VirtRun { report: machine.report(), console: machine.console().to_vec(), end, tlbs }
}

/// The virt config with TLBs small enough that the suite's programs evict
/// (2-entry L1s, a 4-entry L2), all under `policy`: a fast path that touched
/// entries otherwise than a lookup does would change later victims.
fn virt_with_small_tlbs(policy: &str) -> cpu_sim::MachineConfig {
    let text = std::fs::read_to_string(root().join(VIRT)).expect("the shipped config");
    let mut small = text.clone();
    for (from, to) in [
        ("entries: 32, ways: 32,", format!("entries: 2, ways: 2, replacement: {policy},")),
        ("entries: 512, ways: 4,", format!("entries: 4, ways: 2, replacement: {policy},")),
    ] {
        assert!(small.contains(from), "{VIRT} has `{from}`");
        small = small.replace(from, &to);
    }
    cpu_sim::parse_config(&small, VIRT).expect("the small TLBs are valid")
}

#[test]
fn the_fast_paths_leave_every_report_counter_as_it_is_without_them() {
    let dir = suite_dir();
    let list = std::fs::read_to_string(dir.join("expected.txt")).expect("expected.txt reads");
    let mut bare: Vec<(PathBuf, Option<u64>)> = list
        .lines()
        .filter_map(|l| l.split_whitespace().next())
        .filter(|n| !n.starts_with('#'))
        .map(|n| (dir.join("elf").join(n), Some(10_000_000)))
        .collect();
    for (program, limit) in [
        ("sv32-demo/sv32-demo.elf", Some(1_000_000)),
        ("timer/timer.elf", Some(10_000)),
        ("compute/compute.elf", Some(300_000)),
    ] {
        bare.push((root().join("programs").join(program), limit));
    }
    assert!(bare.len() >= 143, "the suite and the programs ({})", bare.len());
    let shipped = mmu_sim::load_config(&root().join(VIRT)).expect("the shipped config loads");
    let mut configs = vec![("shipped".to_string(), shipped)];
    for policy in ["Lru", "TreePlru", "Fifo", "Random", "Nru"] {
        configs.push((format!("small {policy}"), virt_with_small_tlbs(policy)));
    }
    for (config_name, config) in &configs {
        let mut l1_evictions = 0;
        for (elf, limit) in &bare {
            let name = format!("{} ({config_name} TLBs)", elf.display());
            let fast = run_virt(config, elf, true, *limit);
            let slow = run_virt(config, elf, false, *limit);
            assert_same_reports(&name, &fast.report, &slow.report);
            assert_eq!((&fast.console, &fast.end), (&slow.console, &slow.end), "{name}");
            assert_eq!(fast.tlbs, slow.tlbs, "{name}: the TLBs' resident entries");
            assert!(fast.report.core.as_ref().is_some_and(|c| c.instructions > 0), "{name}");
            l1_evictions += fast.report.tlb.0.iter().take(2).map(|(_, t)| t.evictions).sum::<u64>();
        }
        if config_name != "shipped" {
            // 72 to 105 with the suite of 2026-12.
            assert!(l1_evictions >= 50, "{config_name} TLBs: only {l1_evictions} L1 evictions in the suite");
        }
    }

    let user = root().join("configs/rv32-user.ron");
    for (program, limit) in [
        ("hello/hello.elf", None),
        ("exit-code/exit-code.elf", None),
        ("bad/illegal.elf", None),
        ("swapper/swapper.elf", Some(400_000)),
    ] {
        let mut config = mmu_sim::load_config(&user).expect("the shipped config loads");
        if let cpu_sim::WorkloadConfig::Elf { max_instructions, .. } = &mut config.workload {
            *max_instructions = limit;
        }
        let bytes = std::fs::read(root().join("programs").join(program)).expect("the ELF reads");
        let elf = rv32::elf::parse(&bytes).expect("an RV32 ELF");
        let run = |fast: bool| {
            let mut machine = cpu_sim::user::UserMachine::new(&config, &elf, false).expect("it loads");
            machine.set_fast_paths(fast);
            let end = format!("{:?}", machine.run());
            (machine.report(), machine.stdout().to_vec(), end)
        };
        let ((fast, fast_out, fast_end), (slow, slow_out, slow_end)) = (run(true), run(false));
        assert_same_reports(program, &fast, &slow);
        assert_eq!((fast_out, fast_end), (slow_out, slow_end), "{program}");
    }
}
