//! Guest programs on the core: the official riscv-tests suite
//! (/work/shared/riscv-tests) over a flat physical port (`-p-`) and an Sv32 port
//! that translates with the project's own walker (`-v-`, and the `-p-` tests that
//! turn paging on themselves); programs/sv32-demo on the Sv32 port; and the Linux
//! user programs of programs/ in the user-process environment. One test binary.
//!
//! A riscv-test ends when it writes its `tohost` word: 1 is a pass, `(n << 1) | 1`
//! a failure of its test case n.

mod support;

use mmu_core::{
    AccessContext, AccessKind, AdUpdate, Answer, Cycle, Cycles, Fence, MemRequest, MemoryPort, Timed,
};
use rv32::{CoreConfig, Environment, Hart, Step};
use std::path::PathBuf;
use support::{FlatPort, PortError, Ram, Sv32Port, TestPort, UserPort};

/// Every test in the suite finishes in well under this (the longest `-v-` test
/// retires a few hundred thousand instructions).
const INSTRUCTION_LIMIT: u64 = 5_000_000;

#[derive(Debug, PartialEq, Eq)]
enum Outcome {
    Pass,
    Fail(u32),
    HostRequest(u32),
    Timeout,
    Stuck(String),
}

fn elf_dir() -> PathBuf {
    let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../shared/riscv-tests/elf");
    assert!(
        dir.is_dir(),
        "the riscv-tests ELFs are missing: expected them in {} (shared/riscv-tests/elf beside the repository)",
        dir.display()
    );
    dir
}

fn run_elf(name: &str) -> Outcome {
    run_elf_with(name, AdUpdate::Hardware)
}

fn run_elf_with(name: &str, ad_update: AdUpdate) -> Outcome {
    run_elf_stats(name, ad_update).0
}

fn run_elf_stats(name: &str, ad_update: AdUpdate) -> (Outcome, rv32::CoreStats) {
    let path = elf_dir().join(name);
    let bytes = std::fs::read(&path).unwrap_or_else(|e| panic!("reading {}: {e}", path.display()));
    let program = rv32::elf::parse(&bytes).unwrap_or_else(|e| panic!("{name}: {e}"));
    let mut ram = Ram::new(program.tohost.map(u64::from));
    for segment in &program.segments {
        ram.load_bytes(u64::from(segment.paddr), &segment.file_bytes);
    }
    let config = CoreConfig {
        cycles_per_instruction: Cycles::new(1),
        environment: Environment::BareMetal,
        hart_id: 0,
    };
    let hart = Hart::new(config, program.entry);
    if name.contains("-v-") || NEEDS_SV32.contains(&name) {
        execute(hart, &mut Sv32Port { ram, ad_update })
    } else {
        execute(hart, &mut FlatPort { ram, fences: 0 })
    }
}

/// `-p-` tests that turn Sv32 on themselves (with MPRV).
const NEEDS_SV32: &[&str] = &["rv32si-p-dirty"];

fn execute<P: TestPort>(mut hart: Hart, port: &mut P) -> (Outcome, rv32::CoreStats) {
    let outcome = execute_until_tohost(&mut hart, port);
    (outcome, hart.stats().clone())
}

fn execute_until_tohost<P: TestPort>(hart: &mut Hart, port: &mut P) -> Outcome {
    for _ in 0..INSTRUCTION_LIMIT {
        match hart.step(port) {
            Ok(Step::Waiting) if hart.is_waiting() => {
                // Nothing in this harness raises interrupts: a wait that does not end
                // at once would never end.
                if hart.step(port).map(|s| s == Step::Waiting).unwrap_or(false) {
                    return Outcome::Stuck(format!("wfi with nothing pending at {:#x}", hart.pc()));
                }
            }
            Ok(_) => {}
            Err(e) => return Outcome::Stuck(format!("port error {e:?} at pc {:#x}", hart.pc())),
        }
        if let Some(value) = port.ram().tohost_value {
            return match value {
                1 => Outcome::Pass,
                v if v & 1 == 1 => Outcome::Fail(v >> 1),
                v => Outcome::HostRequest(v),
            };
        }
    }
    Outcome::Timeout
}

fn run_suite(filter: impl Fn(&str) -> bool) -> (usize, Vec<(String, Outcome)>) {
    run_suite_with(filter, AdUpdate::Hardware)
}

fn run_suite_with(filter: impl Fn(&str) -> bool, ad_update: AdUpdate) -> (usize, Vec<(String, Outcome)>) {
    let mut names: Vec<String> = std::fs::read_dir(elf_dir())
        .expect("listing the riscv-tests ELFs")
        .map(|entry| entry.expect("a directory entry").file_name().to_string_lossy().into_owned())
        .filter(|n| filter(n))
        .collect();
    names.sort();
    let mut failures = Vec::new();
    for name in &names {
        let outcome = run_elf_with(name, ad_update);
        if outcome != Outcome::Pass {
            failures.push((name.clone(), outcome));
        }
    }
    (names.len(), failures)
}

fn check(kind: &str, total: usize, failures: &[(String, Outcome)], expected_total: usize) {
    for (name, outcome) in failures {
        eprintln!("{name}: {outcome:?}");
    }
    assert_eq!(total, expected_total, "{kind}: the suite should hold {expected_total} ELFs");
    assert!(failures.is_empty(), "{kind}: {} of {total} failed: {failures:?}", failures.len());
}

#[test]
fn every_physical_test_passes() {
    let (total, failures) = run_suite(|n| n.contains("-p-"));
    check("-p-", total, &failures, 81);
}

#[test]
fn pmpaddr_reads_back_the_pmp_registers_it_writes() {
    assert_eq!(run_elf("rv32mi-p-pmpaddr"), Outcome::Pass);
}

#[test]
fn every_virtual_memory_test_passes() {
    let (total, failures) = run_suite(|n| n.contains("-v-"));
    check("-v-", total, &failures, 61);
}

/// With A/D updates left to software, every first touch of a page is a page fault
/// the tests' supervisor handles (it "fixes A/D on the page fault"): the same
/// suite, with many more delegated traps through the core.
#[test]
fn every_virtual_memory_test_passes_with_software_ad_updates() {
    let (total, failures) = run_suite_with(|n| n.contains("-v-"), AdUpdate::Fault);
    check("-v- (A/D by fault)", total, &failures, 61);
}

fn read_elf(name: &str) -> Vec<u8> {
    let path = elf_dir().join(name);
    std::fs::read(&path).unwrap_or_else(|e| panic!("reading {}: {e}", path.display()))
}

#[test]
fn elf_loader_finds_entry_segments_and_tohost() {
    use rv32::elf::SegmentFlags;
    // `readelf -l -s rv32ui-v-simple`: RISCV_ATTRIBUTES (skipped), a text LOAD of
    // 0x200 bytes R E and a data LOAD of 0x1c34 file / 0x5008 memory bytes RWE;
    // tohost at 0x8000_1000, fromhost at 0x8000_1040.
    let program = rv32::elf::parse(&read_elf("rv32ui-v-simple")).expect("a valid RV32 ELF");
    assert_eq!(program.entry, 0x8000_0000);
    assert_eq!(program.tohost, Some(0x8000_1000));
    assert_eq!(program.fromhost, Some(0x8000_1040));
    assert_eq!(program.segments.len(), 2, "the RISCV_ATTRIBUTES header is not loadable");
    let (text, data) = (&program.segments[0], &program.segments[1]);
    assert_eq!(
        (text.vaddr, text.paddr, text.file_bytes.len(), text.mem_size),
        (0x8000_0000, 0x8000_0000, 0x200, 0x200)
    );
    assert_eq!(text.flags, SegmentFlags { read: true, write: false, execute: true });
    assert_eq!((data.vaddr, data.file_bytes.len(), data.mem_size), (0x8000_1000, 0x1c34, 0x5008));
    assert_eq!(data.flags, SegmentFlags { read: true, write: true, execute: true });
    // The first instruction, per objdump: `j handle_reset` (+12) = 0x00c0006f.
    assert_eq!(&text.file_bytes[..4], &[0x6f, 0x00, 0xc0, 0x00][..]);
}

#[test]
fn elf_loader_refuses_what_this_core_cannot_run() {
    use rv32::elf::ElfError;
    let good = read_elf("rv32ui-p-simple");
    let patched = |offset: usize, bytes: &[u8]| {
        let mut data = good.clone();
        data[offset..offset + bytes.len()].copy_from_slice(bytes);
        data
    };
    assert!(matches!(rv32::elf::parse(b"#!/bin/sh\necho not an ELF\n"), Err(ElfError::NotElf)));
    assert!(matches!(rv32::elf::parse(&[]), Err(ElfError::NotElf)));
    // e_ident[EI_CLASS] = ELFCLASS64.
    assert!(matches!(rv32::elf::parse(&patched(4, &[2])), Err(ElfError::Elf64)));
    // e_ident[EI_DATA] = ELFDATA2MSB.
    assert!(matches!(rv32::elf::parse(&patched(5, &[2])), Err(ElfError::BigEndian)));
    // e_machine = EM_X86_64 (62).
    let err = rv32::elf::parse(&patched(18, &[62, 0])).expect_err("x86-64 is refused");
    assert!(matches!(err, ElfError::NotRiscV(62)), "{err}");
    assert!(err.to_string().contains("not RISC-V"), "{err}");
    // Truncated headers are an error, not a panic.
    assert!(matches!(rv32::elf::parse(&good[..40]), Err(ElfError::Malformed(_))));
    // A program header table that runs off the end.
    assert!(rv32::elf::parse(&good[..60]).is_err());
    // No prefix of a valid file, and no single corrupted byte, makes it panic.
    for end in 0..good.len() {
        let _ = rv32::elf::parse(&good[..end]);
    }
    for (offset, byte) in good.iter().enumerate().take(4096) {
        let _ = rv32::elf::parse(&patched(offset, &[byte ^ 0xa5]));
    }
}

/// Throughput of the core alone on a trivial memory, in release builds:
/// `cargo test --release -p rv32 --test riscv_tests -- --ignored --nocapture throughput`.
#[test]
#[ignore = "a measurement, not a check: run in release with --nocapture"]
fn throughput_on_a_flat_memory() {
    let bytes = read_elf("rv32um-p-mul");
    let program = rv32::elf::parse(&bytes).expect("a valid RV32 ELF");
    let mut ram = Ram::new(None);
    for segment in &program.segments {
        ram.load_bytes(u64::from(segment.paddr), &segment.file_bytes);
    }
    let mut port = FlatPort { ram, fences: 0 };
    let config = CoreConfig {
        cycles_per_instruction: Cycles::new(1),
        environment: Environment::BareMetal,
        hart_id: 0,
    };
    let start = std::time::Instant::now();
    let mut retired = 0u64;
    // Rerun the test body from the entry point until enough instructions have run.
    while retired < 50_000_000 {
        let mut hart = Hart::new(config, program.entry);
        for _ in 0..20_000 {
            if hart.step(&mut port).is_err() {
                break;
            }
        }
        retired += hart.stats().instructions;
    }
    let seconds = start.elapsed().as_secs_f64();
    eprintln!(
        "{retired} instructions in {seconds:.2} s: {:.1} M instructions/s",
        retired as f64 / seconds / 1e6
    );
}

/// Throughput of the core alone: a port that answers every fetch with
/// `addi a0, a0, 1` at no cost, so only decode, execute and the step loop remain.
#[test]
#[ignore = "a measurement, not a check: run in release with --nocapture"]
fn throughput_of_the_core_alone() {
    struct Null;
    impl MemoryPort for Null {
        type Error = PortError;
        #[inline]
        fn access(&mut self, now: Cycle, _: &AccessContext, r: MemRequest) -> Result<Answer, PortError> {
            // addi a0, a0, 1 everywhere
            let v = if r.kind == AccessKind::Fetch { 0x0015_0513 } else { 0 };
            Ok(Timed { value: Ok(v), ready_at: now })
        }
        fn fence(&mut self, _: Fence) {}
    }
    let config = CoreConfig {
        cycles_per_instruction: Cycles::new(1),
        environment: Environment::BareMetal,
        hart_id: 0,
    };
    let mut hart = Hart::new(config, 0x8000_0000);
    let start = std::time::Instant::now();
    for _ in 0..100_000_000u64 {
        let _ = hart.step(&mut Null);
    }
    let seconds = start.elapsed().as_secs_f64();
    assert_eq!(hart.reg(10), 100_000_000);
    eprintln!("core alone: {:.1} M instructions/s", 100.0 / seconds);
}

#[test]
fn software_ad_updates_cost_page_faults_that_hardware_ones_do_not() {
    let (hardware, by_walker) = run_elf_stats("rv32ui-v-sw", AdUpdate::Hardware);
    let (software, by_fault) = run_elf_stats("rv32ui-v-sw", AdUpdate::Fault);
    assert_eq!((hardware, software), (Outcome::Pass, Outcome::Pass));
    // The pager maps every page with A = D = 0 on its first (demand) fault; with
    // software A/D the first access and the first store fault once more per page.
    let faults = |s: &rv32::CoreStats| {
        s.traps.instruction_page_fault + s.traps.load_page_fault + s.traps.store_page_fault
    };
    assert!(faults(&by_fault) > faults(&by_walker), "{:?} vs {:?}", by_fault.traps, by_walker.traps);
    assert!(by_walker.traps.store_page_fault > 0, "the user stores demand-page their data");
}

fn repo_file(path: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("..").join(path)
}

/// programs/sv32-demo: 42 Sv32 checks (SUM, MXR, U/S, reserved encodings,
/// misaligned megapages, access faults above 4 GiB and at vacant PTE addresses,
/// delegation, a fetch across a page boundary, A/D updates) driven from M-mode,
/// with the output the specification requires in `expected.txt`.
#[test]
fn sv32_demo_prints_what_the_specification_requires() {
    let dir = repo_file("programs/sv32-demo");
    let bytes = std::fs::read(dir.join("sv32-demo.elf")).expect("programs/sv32-demo/sv32-demo.elf");
    let expected =
        std::fs::read_to_string(dir.join("expected.txt")).expect("programs/sv32-demo/expected.txt");
    let program = rv32::elf::parse(&bytes).expect("a valid RV32 ELF");
    let mut ram = Ram::new(None);
    for segment in &program.segments {
        ram.load_bytes(u64::from(segment.paddr), &segment.file_bytes);
    }
    let config = CoreConfig {
        cycles_per_instruction: Cycles::new(1),
        environment: Environment::BareMetal,
        hart_id: 0,
    };
    let mut hart = Hart::new(config, program.entry);
    let mut port = Sv32Port { ram, ad_update: AdUpdate::Hardware };
    // About 79 200 instructions on QEMU (programs/README.md).
    for _ in 0..1_000_000 {
        hart.step(&mut port).expect("the Sv32 test port never errs");
        if port.ram.finisher.is_some() {
            break;
        }
    }
    let output = String::from_utf8_lossy(&port.ram.uart).into_owned();
    for (i, (got, want)) in output.lines().zip(expected.lines()).enumerate() {
        assert_eq!(got, want, "line {}", i + 1);
    }
    assert_eq!(output, expected);
    assert_eq!(port.ram.finisher, Some(0x5555), "the finisher's pass code");
}

/// How a user program ended.
#[derive(Debug, PartialEq, Eq)]
enum Exit {
    Code(u32),
    Exception(rv32::Exception, u32),
    InstructionLimit,
}

struct Process {
    exit: Exit,
    stdout: String,
    stderr: String,
    instructions: u64,
}

/// Runs a Linux user program as the kernel would start it (programs/README.md):
/// segments loaded, bss zero, `sp` at `argc`, `argv`, NULL, `envp` NULL, auxv
/// AT_NULL; the syscalls `write` (64), `exit` (93), `exit_group` (94) and `brk`
/// (214) emulated here, as the machine will.
fn run_user(path: &str, limit: u64) -> Process {
    let bytes = std::fs::read(repo_file(path)).unwrap_or_else(|e| panic!("{path}: {e}"));
    let program = rv32::elf::parse(&bytes).expect("a valid RV32 ELF");
    let mut port = UserPort { mem: mmu_core::mem::SparseMemory::new(1 << 32) };
    let mut brk = 0;
    for segment in &program.segments {
        for (i, b) in segment.file_bytes.iter().enumerate() {
            port.set_byte(segment.vaddr + i as u32, *b);
        }
        brk = brk.max(segment.vaddr + segment.mem_size);
    }
    let initial_brk = brk;
    // The stack: argv[0] = "prog" at 0x7fff_ff00; sp = 0x7fff_fe00.
    let sp = 0x7fff_fe00u32;
    for (i, b) in b"prog\0".iter().enumerate() {
        port.set_byte(0x7fff_ff00 + i as u32, *b);
    }
    for (i, word) in [1, 0x7fff_ff00, 0, 0, 0, 0].iter().enumerate() {
        port.set_word(sp + 4 * i as u32, *word);
    }
    let config = CoreConfig {
        cycles_per_instruction: Cycles::new(1),
        environment: Environment::UserProcess,
        hart_id: 0,
    };
    let mut hart = Hart::new(config, program.entry);
    hart.set_reg(2, sp);
    let (mut stdout, mut stderr) = (Vec::new(), Vec::new());
    let exit = loop {
        if hart.stats().instructions >= limit {
            break Exit::InstructionLimit;
        }
        match hart.step(&mut port).expect("the user port never errs") {
            Step::Syscall => {
                let (a0, a1, a2) = (hart.reg(10), hart.reg(11), hart.reg(12));
                let result = match hart.reg(17) {
                    64 => {
                        let data: Vec<u8> = (0..a2).map(|i| port.byte(a1.wrapping_add(i))).collect();
                        match a0 {
                            1 => stdout.extend_from_slice(&data),
                            2 => stderr.extend_from_slice(&data),
                            fd => panic!("write to fd {fd}"),
                        }
                        a2
                    }
                    93 | 94 => break Exit::Code(a0),
                    214 => {
                        // Raw Linux brk: the new break on success, the old one otherwise.
                        if a0 >= initial_brk && a0 < 0x4000_0000 {
                            brk = a0;
                        }
                        brk
                    }
                    n => panic!("unexpected syscall {n}"),
                };
                hart.set_reg(10, result);
                hart.skip_ecall();
            }
            Step::Exception { cause, pc, .. } => break Exit::Exception(cause, pc),
            Step::Retired => {}
            other => panic!("a user process cannot {other:?}"),
        }
    };
    let text = |b: Vec<u8>| String::from_utf8(b).expect("UTF-8 output");
    Process { exit, stdout: text(stdout), stderr: text(stderr), instructions: hart.stats().instructions }
}

fn expected(path: &str) -> String {
    std::fs::read_to_string(repo_file(path)).unwrap_or_else(|e| panic!("{path}: {e}"))
}

#[test]
fn user_programs_print_what_qemu_prints() {
    let hello = run_user("programs/hello/hello.elf", 1_000_000);
    assert_eq!(hello.stdout, expected("programs/hello/expected.txt"));
    assert_eq!(hello.stderr, expected("programs/hello/expected-stderr.txt"));
    assert_eq!(hello.exit, Exit::Code(0));
    // QEMU counts 53 417 executed instructions, every ecall included; here the
    // final exit_group is not retired (the process ends in it).
    assert_eq!(hello.instructions, 53_416);

    let exit_code = run_user("programs/exit-code/exit-code.elf", 1_000_000);
    assert_eq!(exit_code.stdout, expected("programs/exit-code/expected.txt"));
    assert_eq!((exit_code.exit, exit_code.instructions), (Exit::Code(3), 871));

    // "A core model should stop with an illegal-instruction exception ... at PC
    // 0x0001_022e", after 1 094 instructions (QEMU's 1 095 include the illegal one).
    let illegal = run_user("programs/bad/illegal.elf", 1_000_000);
    assert_eq!(illegal.stdout, expected("programs/bad/illegal-expected.txt"));
    assert_eq!(illegal.exit, Exit::Exception(rv32::Exception::IllegalInstruction, 0x1_022e));
    assert_eq!(illegal.instructions, 1_094);

    let looping = run_user("programs/bad/loop.elf", 100_000);
    assert_eq!(looping.stdout, expected("programs/bad/loop-expected.txt"));
    assert_eq!(looping.exit, Exit::InstructionLimit);
}

#[test]
fn swapper_touches_an_8_mib_heap_and_checks_it() {
    let swapper = run_user("programs/swapper/swapper.elf", 10_000_000);
    assert_eq!(swapper.stdout, expected("programs/swapper/expected.txt"));
    assert_eq!(swapper.exit, Exit::Code(0));
    // QEMU: 5 484 917 instructions, the final exit_group included.
    assert_eq!(swapper.instructions, 5_484_916);
}
