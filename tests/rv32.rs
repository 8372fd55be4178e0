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
    let out = mmu_sim(&["run", VIRT, "--warmup", "10"]);
    assert_eq!(out.status.code(), Some(2), "a window is refused for an ELF run");
    assert!(String::from_utf8_lossy(&out.stderr).contains("runs whole"));
    let missing = run_elf(VIRT, Path::new("no/such.elf"), None).expect_err("missing");
    assert_eq!(missing.exit_code(), 2);
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
        swap_ins.push(r.os.swap_ins);
    }
    let opt = swap_ins[4];
    assert!(swap_ins.iter().all(|&s| opt <= s), "OPT swaps in the least: {swap_ins:?}");
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

/// Runs a bare-metal ELF on the virt config with the fast paths on or off, and
/// `max_instructions` as the limit: (report, console, how it ended).
fn run_virt(elf: &Path, fast: bool, max_instructions: Option<u64>) -> (cpu_sim::Report, Vec<u8>, String) {
    let mut config = mmu_sim::load_config(&root().join(VIRT)).expect("the shipped config loads");
    if let cpu_sim::WorkloadConfig::Elf { max_instructions: limit, .. } = &mut config.workload {
        *limit = max_instructions;
    }
    let program = rv32::elf::parse(&std::fs::read(elf).expect("the ELF reads")).expect("an RV32 ELF");
    let mut machine = cpu_sim::virt::VirtMachine::new(&config, &program).expect("it loads");
    machine.set_fast_paths(fast);
    let end = format!("{:?}", machine.run());
    (machine.report(), machine.console().to_vec(), end)
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
    for (elf, limit) in &bare {
        let name = elf.display().to_string();
        let (fast, fast_console, fast_end) = run_virt(elf, true, *limit);
        let (slow, slow_console, slow_end) = run_virt(elf, false, *limit);
        assert_same_reports(&name, &fast, &slow);
        assert_eq!((fast_console, fast_end), (slow_console, slow_end), "{name}");
        assert!(fast.core.as_ref().is_some_and(|c| c.instructions > 0), "{name}");
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
