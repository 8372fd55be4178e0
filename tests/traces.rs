//! Trace input end to end: formats, compression, standard input, bad lines, the
//! recorded lackey trace, generated workloads and the `--timing` flag.

use std::io::Write as _;
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};

fn root() -> &'static Path {
    Path::new(env!("CARGO_MANIFEST_DIR"))
}

fn mmu_sim(args: &[&str]) -> Output {
    mmu_sim_with_input(args, None)
}

fn mmu_sim_with_input(args: &[&str], stdin: Option<&[u8]>) -> Output {
    let mut child = Command::new(env!("CARGO_BIN_EXE_mmu-sim"))
        .args(args)
        .current_dir(root())
        .stdin(if stdin.is_some() { Stdio::piped() } else { Stdio::null() })
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("the binary starts");
    if let Some(bytes) = stdin {
        let mut pipe = child.stdin.take().expect("piped stdin");
        pipe.write_all(bytes).expect("the binary reads its input");
    }
    child.wait_with_output().expect("the binary runs")
}

fn json(out: &Output) -> serde_json::Value {
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    serde_json::from_slice(&out.stdout).expect("valid JSON")
}

/// A scratch directory for one test, removed when dropped.
struct Scratch(PathBuf);

impl Scratch {
    fn new(name: &str) -> Self {
        let dir = std::env::temp_dir().join(format!("mmu-sim-{name}-{}", std::process::id()));
        std::fs::create_dir_all(&dir).expect("temp dir");
        Scratch(dir)
    }
    fn file(&self, name: &str, bytes: &[u8]) -> String {
        let path = self.0.join(name);
        std::fs::write(&path, bytes).expect("write a temp file");
        path.to_str().expect("utf-8 temp path").to_string()
    }
}

impl Drop for Scratch {
    fn drop(&mut self) {
        std::fs::remove_dir_all(&self.0).ok();
    }
}

/// The report without the reader's own statistics, which name the format.
fn without_trace(mut v: serde_json::Value) -> serde_json::Value {
    v.as_object_mut().expect("a report is an object").remove("trace");
    v
}

const SMALL: &str = "configs/sv32-small.ron";

/// A native trace over the sv32-small heap, with stores carrying values.
fn native_text() -> String {
    let mut s = String::from("# a test trace\n");
    for i in 0..3000u32 {
        let addr = 0x1000_0000 + (i * 4100) % 0x20_0000;
        if i % 3 == 0 {
            s.push_str(&format!("W 0x{addr:08x} 0x{i:x}\n"));
        } else {
            s.push_str(&format!("R 0x{addr:08x}\n"));
        }
    }
    s
}

#[test]
fn gzip_zstd_and_standard_input_read_the_same_as_plain_text() {
    let dir = Scratch::new("compressed");
    let text = native_text();
    let plain = dir.file("t.trace", text.as_bytes());
    let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
    gz.write_all(text.as_bytes()).unwrap();
    let gz = dir.file("t.trace.gz", &gz.finish().unwrap());
    let zst = dir.file("t.trace.zst", &zstd::encode_all(text.as_bytes(), 3).unwrap());

    let want = json(&mmu_sim(&["run", SMALL, "--trace", &plain, "--format", "json"]));
    assert_eq!(want["accesses"], 3000);
    assert_eq!(want["trace"]["lines"], 3001);
    assert_eq!(want["trace"]["format"], "Native");
    for path in [&gz, &zst] {
        let got = json(&mmu_sim(&["run", SMALL, "--trace", path, "--format", "json"]));
        assert_eq!(got, want, "{path}");
    }
    let piped =
        json(&mmu_sim_with_input(&["run", SMALL, "--trace", "-", "--format", "json"], Some(text.as_bytes())));
    assert_eq!(piped, want, "standard input");
}

#[test]
fn compressed_data_without_its_extension_gets_a_hint() {
    let dir = Scratch::new("magic");
    let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
    gz.write_all(b"R 0x10000000\n").unwrap();
    let path = dir.file("t.trace", &gz.finish().unwrap());
    let out = mmu_sim(&["run", SMALL, "--trace", &path]);
    assert_eq!(out.status.code(), Some(1));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains("t.trace:1: this is gzip-compressed data"), "{stderr}");
}

#[test]
fn bad_lines_stop_the_run_or_are_skipped_and_counted() {
    let dir = Scratch::new("bad");
    let path = dir.file("bad.trace", b"R 0x10000000\nR 0x1000zzzz\nhello\nW 0x10000004\n");
    let out = mmu_sim(&["run", SMALL, "--trace", &path]);
    assert_eq!(out.status.code(), Some(1));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains("bad.trace:2: `0x1000zzzz` is not a hexadecimal address"), "{stderr}");

    let out = mmu_sim(&["run", SMALL, "--trace", &path, "--skip-bad-lines", "--format", "json"]);
    let v = json(&out);
    assert_eq!(v["accesses"], 2);
    assert_eq!(v["trace"]["bad_lines_skipped"], 2);
    assert_eq!(v["trace"]["lines"], 4);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains("warning: skipped 2 bad trace lines; the first: "), "{stderr}");
    assert!(stderr.contains("bad.trace:2: "), "{stderr}");
}

#[test]
fn a_64_bit_trace_is_refused_with_a_hint() {
    let dir = Scratch::new("wide");
    let path = dir.file("ls.lackey", b"==1== Lackey\nI  04017d10,3\n S 1ffefffd58,8\n");
    let out = mmu_sim(&["run", SMALL, "--trace", &path]);
    assert_eq!(out.status.code(), Some(1));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains("ls.lackey:3: address 0x1ffefffd58 does not fit in 32 bits"), "{stderr}");
    assert!(stderr.contains("gcc -m32"), "{stderr}");
}

#[test]
fn the_format_flag_overrides_detection() {
    let dir = Scratch::new("flag");
    let path = dir.file("t.din", b"0 10000000\n1 10000004\n");
    let v = json(&mmu_sim(&["run", SMALL, "--trace", &path, "--format", "json"]));
    assert_eq!(v["trace"]["format"], "Din");
    assert_eq!((v["accesses"].as_u64(), v["dram"]["data_writes"].as_u64()), (Some(2), Some(1)));
    let out = mmu_sim(&["run", SMALL, "--trace", &path, "--trace-format", "course"]);
    assert_eq!(out.status.code(), Some(1));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains("t.din:1: expected `R` or `W` after the address, found `10000000`"), "{stderr}");
    let out = mmu_sim(&["run", SMALL, "--trace", &dir.file("x", b"hello\n")]);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains("x:1: cannot tell the trace format: `hello`"), "{stderr}");
}

#[test]
fn course_format_runs_like_its_native_conversion() {
    // traces/gcc-20k.trace is the course trace converted to native lines; convert it
    // back to the course format (`0041f7a0 R`) and, for the native side, round
    // unaligned addresses down to their word as the course reader does.
    let native = std::fs::read_to_string(root().join("traces/gcc-20k.trace")).unwrap();
    let mut course = String::new();
    let mut rounded = String::new();
    let mut unaligned = 0;
    for line in native.lines().filter(|l| !l.starts_with('#')) {
        let (op, addr) = line.split_once(" 0x").unwrap();
        let a = u32::from_str_radix(addr, 16).unwrap();
        unaligned += u32::from(a % 4 != 0);
        course.push_str(&format!("{addr} {op}\n"));
        rounded.push_str(&format!("{op} 0x{:08x}\n", a & !3));
    }
    assert_eq!(unaligned, 20, "the first 20 000 gcc accesses hold 20 unaligned addresses");
    let dir = Scratch::new("course");
    let course = dir.file("gcc.course", course.as_bytes());
    let rounded = dir.file("gcc.native", rounded.as_bytes());
    let config = "configs/sv32-gcc-trace.ron";
    let a = json(&mmu_sim(&["run", config, "--trace", &course, "--format", "json"]));
    let b = json(&mmu_sim(&["run", config, "--trace", &rounded, "--format", "json"]));
    assert_eq!(a["trace"]["format"], "Course");
    assert_eq!(a["trace"]["unaligned_records"], 20);
    assert_eq!(a["faults"]["alignment"], 0);
    assert_eq!(without_trace(a), without_trace(b));
}

/// Words a lackey record touches, counted the obvious way.
fn words_touched(addr: u64, size: u64) -> u64 {
    (addr + size - 1) / 4 - addr / 4 + 1
}

#[test]
fn the_recorded_lackey_trace_runs_with_every_record_split_into_words() {
    let bytes = std::fs::read(root().join("traces/sortwords.lackey.zst")).unwrap();
    let text = String::from_utf8(zstd::decode_all(&bytes[..]).unwrap()).unwrap();
    // The reference count: each record's words, twice for a modify.
    let (mut fetches, mut data, mut unaligned) = (0u64, 0u64, 0u64);
    for line in text.lines().filter(|l| !l.starts_with("==")) {
        let (op, rest) = line.trim_start().split_at(1);
        let (addr, size) = rest.trim().split_once(',').unwrap();
        let (addr, size) = (u64::from_str_radix(addr, 16).unwrap(), size.parse::<u64>().unwrap());
        assert!(addr + size <= 1 << 32, "a 32-bit program: {line}");
        let words = words_touched(addr, size);
        unaligned += u64::from(addr % 4 != 0);
        match op {
            "I" => fetches += words,
            "L" | "S" => data += words,
            "M" => data += 2 * words,
            _ => panic!("not a lackey record: {line}"),
        }
    }
    let v = json(&mmu_sim(&["run", "configs/sv32-sortwords-lackey.ron", "--format", "json"]));
    assert_eq!(v["accesses"].as_u64(), Some(fetches + data));
    assert_eq!(v["trace"]["lines"].as_u64(), Some(text.lines().count() as u64));
    assert_eq!(v["trace"]["unaligned_records"].as_u64(), Some(unaligned));
    assert_eq!(v["faults"]["alignment"], 0, "every split access is word aligned");
    assert_eq!(v["segfaults"].as_array().map(Vec::len), Some(0), "the regions cover the program");
    let fetch_lookups = v["tlb"]["l1i"]["lookups"].as_u64().unwrap();
    let data_lookups = v["tlb"]["l1d"]["lookups"].as_u64().unwrap();
    // Each access looks up its side's L1 once, plus once more per fault retry.
    let retries =
        v["os"]["demand_zero"].as_u64().unwrap() + v["os"]["accessed_dirty_updates"].as_u64().unwrap();
    assert!(fetch_lookups >= fetches && data_lookups >= data, "{fetch_lookups} {data_lookups}");
    assert!(fetch_lookups + data_lookups <= fetches + data + retries);
}

#[test]
fn a_generated_workload_piped_back_runs_like_the_generator() {
    for config in
        ["configs/sv32-zipf.ron", "configs/sv32-matmul-blocked.ron", "configs/sv32-pointer-chase.ron"]
    {
        let generated = mmu_sim(&["generate", config]);
        assert!(generated.status.success(), "{}", String::from_utf8_lossy(&generated.stderr));
        let direct = json(&mmu_sim(&["run", config, "--format", "json"]));
        let piped = json(&mmu_sim_with_input(
            &["run", config, "--trace", "-", "--format", "json"],
            Some(&generated.stdout),
        ));
        assert_eq!(piped["trace"]["lines"], direct["accesses"], "{config}");
        assert_eq!(without_trace(piped), direct, "{config}");
    }
}

#[test]
fn generate_repeats_and_refuses_trace_configs() {
    let once = mmu_sim(&["generate", "configs/sv32-phases.ron"]);
    let twice = mmu_sim(&["generate", "configs/sv32-phases.ron", "--repeat", "2"]);
    assert_eq!(once.stdout.iter().filter(|&&b| b == b'\n').count(), 120_000);
    assert_eq!(twice.stdout, [once.stdout.clone(), once.stdout].concat());
    let out = mmu_sim(&["generate", "configs/sv32-gcc-trace.ron"]);
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("needs a Synthetic or Processes one"));
}

#[test]
fn timing_appears_only_when_asked_for() {
    let plain = mmu_sim(&["run", "configs/sv32-phases.ron", "--format", "json"]);
    let again = mmu_sim(&["run", "configs/sv32-phases.ron", "--format", "json"]);
    assert_eq!(plain.stdout, again.stdout, "byte-identical without --timing");
    assert!(json(&plain).get("timing").is_none());
    let timed = json(&mmu_sim(&["run", "configs/sv32-phases.ron", "--format", "json", "--timing"]));
    assert!(timed["timing"]["seconds"].as_f64().is_some_and(|s| s > 0.0));
    let rate = timed["timing"]["accesses_per_second"].as_f64().unwrap();
    let seconds = timed["timing"]["seconds"].as_f64().unwrap();
    assert!((rate * seconds - 120_000.0).abs() < 1.0, "rate x time = accesses");
    let ron = mmu_sim(&["run", "configs/sv32-phases.ron", "--format", "ron", "--timing"]);
    assert!(String::from_utf8_lossy(&ron.stdout).contains("accesses_per_second:"));
    // A table on a pipe has no host line unless asked for.
    let table = String::from_utf8(mmu_sim(&["run", "configs/sv32-phases.ron"]).stdout).unwrap();
    assert!(!table.contains("M accesses/s"));
    let table = String::from_utf8(mmu_sim(&["run", "configs/sv32-phases.ron", "--timing"]).stdout).unwrap();
    assert!(table.contains("M accesses/s"), "{table}");
}

#[test]
fn inspect_counts_what_a_trace_holds() {
    let dir = Scratch::new("inspect");
    let path =
        dir.file("t.lackey", b"==1== hi\nI  00001002,8\n L 00002000,4\n M 00004004,8\n S 00010000,4\n");
    let out = mmu_sim(&["inspect", &path]);
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let text = String::from_utf8(out.stdout).unwrap();
    // By hand: I touches 3 words, L 1, M 2 read + 2 written, S 1; pages 1, 2, 4, 16.
    assert!(text.contains("lackey format"), "{text}");
    assert!(text.contains("lines     5 (0 bad lines skipped, 1 unaligned records)"), "{text}");
    assert!(text.contains("accesses  9: 3 fetches, 3 reads, 3 writes; 0 context switches"), "{text}");
    assert!(text.contains("pages     4 distinct 4 KiB pages, addresses 0x00001000 to 0x00010000"), "{text}");
}

/// The course traces carry their own facts (shared/traces/README.md): a million
/// accesses each, with this many unaligned addresses. Skipped when the shared
/// traces are not beside the repository.
#[test]
fn the_course_traces_read_with_their_documented_unaligned_counts() {
    let dir = root().join("../shared/traces/course");
    if !dir.is_dir() {
        eprintln!("skipped: {} is not there", dir.display());
        return;
    }
    for (name, unaligned) in [("bzip", 614), ("gcc", 41), ("sixpack", 118), ("swim", 8)] {
        let path = dir.join(format!("{name}.trace.gz"));
        let out = mmu_sim(&["inspect", path.to_str().unwrap()]);
        assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
        let text = String::from_utf8(out.stdout).unwrap();
        assert!(text.contains("course format"), "{text}");
        let want = format!("lines     1000000 (0 bad lines skipped, {unaligned} unaligned records)");
        assert!(text.contains(&want), "{name}: {text}");
    }
}

/// Where a test sends the binary's standard output.
enum Out {
    /// Captured.
    Captured,
    /// `/dev/full`: every write fails with "no space left".
    Full,
    /// A pipe whose reading end is closed before the run, as `| head -c1` leaves it.
    Closed,
}

/// Runs the binary with standard output to `out`, and standard error captured
/// or closed (its pipe's reading end dropped before the run).
fn mmu_sim_to(args: &[&str], out: Out, close_stderr: bool) -> Output {
    let stdout = match out {
        Out::Captured | Out::Closed => Stdio::piped(),
        Out::Full => {
            Stdio::from(std::fs::OpenOptions::new().write(true).open("/dev/full").expect("/dev/full exists"))
        }
    };
    let mut child = Command::new(env!("CARGO_BIN_EXE_mmu-sim"))
        .args(args)
        .current_dir(root())
        .stdin(Stdio::null())
        .stdout(stdout)
        .stderr(Stdio::piped())
        .spawn()
        .expect("the binary starts");
    if let Out::Closed = out {
        drop(child.stdout.take());
    }
    if close_stderr {
        drop(child.stderr.take());
    }
    child.wait_with_output().expect("the binary runs")
}

/// Every subcommand, and help, with output that can be long enough to matter.
const EVERY_COMMAND: [&[&str]; 5] = [
    &["run", SMALL],
    &["run", SMALL, "--format", "json"],
    &["inspect", "traces/gcc-20k.trace"],
    &["generate", SMALL],
    &["--help"],
];

#[test]
fn a_full_disk_is_an_error_with_status_1_never_a_panic() {
    // The rule: output that cannot be written is an error the user must hear of
    // (status 1); a panic would exit with 101.
    for args in EVERY_COMMAND {
        let out = mmu_sim_to(args, Out::Full, false);
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(1), "{args:?}: {stderr}");
        assert!(
            stderr.starts_with("error: writing to standard output: No space left on device"),
            "{args:?}: {stderr}"
        );
        assert!(!stderr.contains("panicked"), "{args:?}: {stderr}");
        // With standard error closed too there is nowhere to say it: still status 1.
        let out = mmu_sim_to(args, Out::Full, true);
        assert_eq!(out.status.code(), Some(1), "{args:?} with standard error closed");
    }
}

#[test]
fn a_closed_pipe_stops_quietly_with_status_0() {
    // The rule: a reader that stopped early (`| head -c1`) is not our error.
    for args in EVERY_COMMAND {
        let out = mmu_sim_to(args, Out::Closed, false);
        assert_eq!(out.status.code(), Some(0), "{args:?}: {}", String::from_utf8_lossy(&out.stderr));
        assert!(out.stderr.is_empty(), "{args:?}: {}", String::from_utf8_lossy(&out.stderr));
    }
}

#[test]
fn errors_written_to_a_closed_standard_error_keep_their_status_and_never_panic() {
    // A missing config is the user's error (2), a bad trace line a run's error (1),
    // a usage error clap's (2), a skipped line a warning (0): the same status
    // whether or not the message can be written.
    let dir = Scratch::new("closed-stderr");
    let bad = dir.file("bad.trace", b"R 0x10000000\nhello\n");
    let cases: [(&[&str], i32); 4] = [
        (&["run", "no-such-config.ron"], 2),
        (&["run", SMALL, "--trace", &bad], 1),
        (&["run"], 2),
        (&["run", SMALL, "--trace", &bad, "--skip-bad-lines", "--format", "json"], 0),
    ];
    for (args, code) in cases {
        let out = mmu_sim_to(args, Out::Captured, true);
        assert_eq!(out.status.code(), Some(code), "{args:?}");
    }
}

#[test]
fn a_trace_without_newlines_stops_at_the_line_limit_at_once() {
    // /dev/zero never ends and has no newline: the documented line limit (256 KiB)
    // must stop it, quickly, whether named by --trace or by the config.
    let dir = Scratch::new("zero");
    let config = std::fs::read_to_string(root().join(SMALL)).unwrap();
    let start = config.find("workload:").expect("sv32-small has a workload");
    let zero_config = dir
        .file("zero.ron", format!("{}workload: Trace(path: \"/dev/zero\"),\n)", &config[..start]).as_bytes());
    for args in [
        vec!["run", SMALL, "--trace", "/dev/zero"],
        vec!["run", zero_config.as_str()],
        vec!["inspect", "/dev/zero"],
    ] {
        let started = std::time::Instant::now();
        let out = mmu_sim(&args);
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert_ne!(out.status.code(), Some(0), "{args:?}");
        assert!(
            stderr.contains("/dev/zero:1: the line is longer than 262144 bytes: this is not a text trace"),
            "{args:?}: {stderr}"
        );
        assert!(
            started.elapsed() < std::time::Duration::from_secs(5),
            "{args:?} took {:?}",
            started.elapsed()
        );
    }
}

#[test]
fn the_first_line_gets_the_same_precise_error_as_any_other() {
    // A 64-bit address or a value wider than a word on line 1 is reported as on
    // line 2, not hidden behind "cannot tell the trace format".
    let dir = Scratch::new("first-line");
    let cases = [
        (
            "R 0x1ffefffd58\n",
            "address 0x1ffefffd58 does not fit in 32 bits: this looks like a trace of a 64-bit program; record a 32-bit build (gcc -m32)",
        ),
        (" S 1ffefffd58,8\n", "address 0x1ffefffd58 does not fit in 32 bits"),
        ("1ffefffd58 W\n", "address 0x1ffefffd58 does not fit in 32 bits"),
        ("0 1ffefffd58\n", "address 0x1ffefffd58 does not fit in 32 bits"),
        ("W 0x10000000 0x123456789\n", "value 0x123456789 does not fit in a 32-bit word"),
    ];
    for (line, want) in cases {
        for (name, text) in [("first", line.to_string()), ("second", format!("# header\n{line}"))] {
            let path = dir.file(&format!("{name}.trace"), text.as_bytes());
            let out = mmu_sim(&["run", SMALL, "--trace", &path]);
            let stderr = String::from_utf8_lossy(&out.stderr);
            let lineno = if name == "first" { 1 } else { 2 };
            assert_eq!(out.status.code(), Some(1), "{line:?}: {stderr}");
            assert!(stderr.contains(&format!("{name}.trace:{lineno}: {want}")), "{line:?}: {stderr}");
        }
    }
}

#[test]
fn a_switch_to_a_missing_process_names_the_line_and_the_pids_in_words() {
    let dir = Scratch::new("pid");
    let path = dir.file("p.trace", b"R 0x10000000\nP 0\nP 1\n");
    let out = mmu_sim(&["run", SMALL, "--trace", &path]);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "{stderr}");
    assert!(stderr.contains("p.trace:3: `P 1` names no process: the config declares pid 0 only"), "{stderr}");
    let path = dir.file("p4.trace", b"R 0x10000000\nP 4\n");
    let out = mmu_sim(&["run", "configs/sv32-skylake-like.ron", "--trace", &path]);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.contains("p4.trace:2: `P 4` names no process: the config declares pids 0 to 3"),
        "{stderr}"
    );
}

#[test]
fn control_bytes_and_a_byte_order_mark_are_never_echoed_raw() {
    let dir = Scratch::new("controls");
    let path = dir.file("bom.trace", "\u{feff}R 0x10000000\n".as_bytes());
    let out = mmu_sim(&["run", SMALL, "--trace", &path]);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains("bom.trace:1: the line starts with a byte-order mark (U+FEFF"), "{stderr}");
    let path = dir.file("nul.trace", b"R 0x10000000\nR 0x10\x00\x1b[2J\x07\n");
    let out = mmu_sim(&["run", SMALL, "--trace", &path]);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains(r"nul.trace:2: `0x10\0\u{1b}[2J\u{7}` is not a hexadecimal address"), "{stderr}");
    assert!(!out.stderr.iter().any(|&b| b < 0x20 && b != b'\n'), "a raw control byte in {stderr:?}");
}

#[test]
fn a_gz_trace_with_trailing_garbage_or_not_gzip_at_all_says_which() {
    let dir = Scratch::new("gz");
    let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
    gz.write_all(b"R 0x10000000\n").unwrap();
    let member = gz.finish().unwrap();
    // Two members are one trace (`cat a.gz b.gz`): fine.
    let two = dir.file("two.gz", &[member.clone(), member.clone()].concat());
    assert_eq!(json(&mmu_sim(&["run", SMALL, "--trace", &two, "--format", "json"]))["accesses"], 2);
    let trailing = dir.file("trailing.gz", &[member, b"garbage\n".to_vec()].concat());
    let out = mmu_sim(&["run", SMALL, "--trace", &trailing]);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "{stderr}");
    assert!(stderr.contains("trailing.gz: read failed: trailing data after the gzip stream"), "{stderr}");
    let plain = dir.file("plain.gz", b"R 0x10000000\n");
    let out = mmu_sim(&["inspect", &plain]);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_ne!(out.status.code(), Some(0), "{stderr}");
    assert!(stderr.contains("plain.gz: read failed: not gzip data"), "{stderr}");
}

/// A `.zst` file that is not zstd data (a binary trace or text named `.zst`, an
/// empty file) says so, as a `.gz` one does, instead of zstd's "Unknown frame
/// descriptor" or "incomplete frame"; zstd data still reads, a skippable frame
/// first included.
#[test]
fn a_zst_trace_that_is_not_zstd_says_so() {
    let dir = Scratch::new("zst");
    let bin = dir.0.join("t.bin");
    let out = mmu_sim(&["convert", "traces/explain-demo.trace", bin.to_str().unwrap()]);
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let binary = std::fs::read(&bin).unwrap();
    for (name, bytes, why) in [
        ("binary.zst", &binary[..], "it does not start with the zstd magic bytes 28 b5 2f fd"),
        ("text.zst", &b"R 0x10000000\n"[..], "it does not start with the zstd magic bytes 28 b5 2f fd"),
        ("empty.zst", &b""[..], "the file is empty"),
    ] {
        let path = dir.file(name, bytes);
        for command in [&["inspect", path.as_str()][..], &["run", SMALL, "--trace", &path][..]] {
            let out = mmu_sim(command);
            let stderr = String::from_utf8_lossy(&out.stderr);
            assert_eq!(out.status.code(), Some(1), "{stderr}");
            let want = format!(
                "error: {path}: read failed: not zstd data ({why}), though the name ends in `.zst`: rename it or compress it\n"
            );
            assert_eq!(stderr, want);
        }
    }
    let mut framed = vec![0x50, 0x2a, 0x4d, 0x18, 3, 0, 0, 0, 1, 2, 3];
    framed.extend(zstd::encode_all(&b"R 0x10000000\nR 0x10000004\n"[..], 3).unwrap());
    let framed = dir.file("framed.zst", &framed);
    assert_eq!(json(&mmu_sim(&["run", SMALL, "--trace", &framed, "--format", "json"]))["accesses"], 2);
}

#[test]
fn a_trace_run_that_skips_most_of_its_accesses_warns_and_divides_cycles_by_executed_accesses() {
    // The second access is outside sv32-small's heap: the process is stopped and
    // the last three are skipped. 3 of 5 skipped is most: a warning. The table's
    // cycles/access divides by the 2 executed accesses (skipped ones cost nothing).
    let dir = Scratch::new("segv");
    let path =
        dir.file("segv.trace", b"R 0x10000000\nR 0x50000000\nR 0x10000000\nR 0x10000004\nR 0x10000008\n");
    let v = json(&mmu_sim(&["run", SMALL, "--trace", &path, "--format", "json"]));
    assert_eq!((v["accesses"].as_u64(), v["skipped_accesses"].as_u64()), (Some(5), Some(3)));
    let cycles = v["cycles"].as_u64().unwrap();
    let out = mmu_sim(&["run", SMALL, "--trace", &path]);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.starts_with("warning: 3 of the trace's 5 accesses were skipped, because their process was stopped by a segmentation fault; the first: process 0 (`app`) at 0x50000000"),
        "{stderr}"
    );
    let table = String::from_utf8_lossy(&out.stdout);
    let want = format!("cycles/access {:.1}", cycles as f64 / 2.0);
    assert!(table.contains(&want), "{want} in {table}");
    // Half skipped is not most: no warning.
    let path = dir.file("half.trace", b"R 0x10000000\nR 0x50000000\nR 0x10000000\n");
    let out = mmu_sim(&["run", SMALL, "--trace", &path]);
    assert!(out.stderr.is_empty(), "{}", String::from_utf8_lossy(&out.stderr));
}

/// The report without what a trace of a `Processes` workload cannot say: that a
/// process whose program ended exits (in the real run its address space is then
/// flushed from the TLBs (`by_asid`, and the entries counted as invalidations)
/// and its frames and page tables freed; replayed from a trace it stays `Running`).
fn without_exits(mut v: serde_json::Value) -> serde_json::Value {
    let o = v.as_object_mut().expect("a report is an object");
    for key in ["config", "trace", "page_table_bytes", "page_table_touched_bytes"] {
        o.remove(key);
    }
    // The end state of memory: what the exited processes held is free again.
    for key in
        ["exits", "data_frames", "frames_free", "largest_free_run", "page_table_frames", "swap_slots_used"]
    {
        o["os"].as_object_mut().unwrap().remove(key);
    }
    o["tlb_invalidations"].as_object_mut().unwrap().remove("by_asid");
    for tlb in o["tlb"].as_object_mut().unwrap().values_mut() {
        let tlb = tlb.as_object_mut().unwrap();
        tlb.remove("invalidations");
        if let Some(sides) = tlb.get_mut("by_side").and_then(|s| s.as_object_mut()) {
            for side in sides.values_mut() {
                side.as_object_mut().unwrap().remove("invalidations");
            }
        }
    }
    for p in o["processes"].as_array_mut().unwrap() {
        p.as_object_mut().unwrap().remove("state");
    }
    v
}

#[test]
fn a_generated_processes_workload_runs_like_the_config() {
    // The rule: `generate` writes the scheduler's interleaving (a `P i` line at
    // each switch, round-robin by accesses, a segfaulted process's later accesses
    // left out), so the trace replays the same accesses in the same order: every
    // counter agrees but those of exits, which a trace cannot express.
    let dir = Scratch::new("gen-processes");
    for name in [
        "shared-memory",
        "swapping-clock",
        "swapping-fifo",
        "swapping-lru",
        "swapping-random",
        "swapping-opt",
    ] {
        let config = format!("configs/{name}.ron");
        let generated = mmu_sim(&["generate", &config]);
        assert!(generated.status.success(), "{name}: {}", String::from_utf8_lossy(&generated.stderr));
        assert!(generated.stdout.starts_with(b"P 0\n"), "{name}");
        let direct = json(&mmu_sim(&["run", &config, "--format", "json"]));
        let replayed = if name == "swapping-opt" {
            // OPT reads its trace twice, so not from standard input: it says so.
            let out = mmu_sim(&["run", &config, "--trace", "-"]);
            assert_eq!(out.status.code(), Some(2));
            assert!(
                String::from_utf8_lossy(&out.stderr)
                    .contains("cannot read standard input: pass the trace as a file")
            );
            let path = dir.file("opt.trace", &generated.stdout);
            json(&mmu_sim(&["run", &config, "--trace", &path, "--format", "json"]))
        } else {
            json(&mmu_sim_with_input(
                &["run", &config, "--trace", "-", "--format", "json"],
                Some(&generated.stdout),
            ))
        };
        let processes = direct["processes"].as_array().unwrap().len() as u64;
        let ended =
            direct["processes"].as_array().unwrap().iter().filter(|p| p["state"] == "Exited").count() as u64;
        assert_eq!(direct["os"]["exits"].as_u64(), Some(ended), "{name}");
        assert_eq!(replayed["os"]["exits"].as_u64(), Some(0), "{name}");
        assert!(ended > 0 && ended <= processes, "{name}");
        assert_eq!(without_exits(replayed), without_exits(direct), "{name}");
    }
}

#[test]
fn generate_refuses_a_quantum_in_cycles_with_the_reason() {
    let dir = Scratch::new("gen-cycles");
    let text = std::fs::read_to_string(root().join("configs/shared-memory.ron")).unwrap();
    assert!(text.contains("quantum: Accesses(500)"));
    let path =
        dir.file("cycles.ron", text.replace("quantum: Accesses(500)", "quantum: Cycles(5000)").as_bytes());
    let out = mmu_sim(&["generate", &path]);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{stderr}");
    assert!(out.stdout.is_empty());
    assert!(
        stderr.contains("cycles.ron: the workload's quantum is in cycles, so when each process is switched out depends on the simulated time of its accesses"),
        "{stderr}"
    );
}

/// gcc-20k.trace's accesses, as (kind letter, address).
fn gcc_20k_records() -> Vec<(String, u32)> {
    std::fs::read_to_string(root().join("traces/gcc-20k.trace"))
        .unwrap()
        .lines()
        .filter(|l| !l.starts_with('#') && !l.trim().is_empty())
        .map(|l| {
            let (kind, addr) = l.split_once(' ').unwrap();
            (kind.to_string(), u32::from_str_radix(addr.trim().trim_start_matches("0x"), 16).unwrap())
        })
        .collect()
}

#[test]
fn inspect_counts_unaligned_native_addresses_as_a_run_counts_alignment_faults() {
    let unaligned = gcc_20k_records().iter().filter(|(_, a)| a % 4 != 0).count();
    assert_eq!(unaligned, 20, "traces/README.md says twenty");
    let out = mmu_sim(&["inspect", "traces/gcc-20k.trace"]);
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(text.contains(&format!("(0 bad lines skipped, {unaligned} unaligned records)")), "{text}");
    let v = json(&mmu_sim(&["run", "configs/sv32-gcc-trace.ron", "--format", "json"]));
    assert_eq!(v["faults"]["alignment"].as_u64(), Some(unaligned as u64));
}

#[test]
fn rounding_native_byte_addresses_down_runs_like_the_course_format() {
    // The rule: `--unaligned round-down` takes an unaligned native address as the
    // word that holds it, as the course format takes its byte addresses. So the
    // native trace rounded runs exactly like the same records in course format.
    let dir = Scratch::new("round-down");
    let records = gcc_20k_records();
    let course: String = records.iter().map(|(k, a)| format!("{a:08x} {k}\n")).collect();
    let course = dir.file("gcc.course", course.as_bytes());
    let config = "configs/sv32-gcc-trace.ron";
    let want = json(&mmu_sim(&["run", config, "--trace", &course, "--format", "json"]));
    assert_eq!(want["trace"]["format"], "Course");
    let rounded = json(&mmu_sim(&[
        "run",
        config,
        "--trace",
        "traces/gcc-20k.trace",
        "--unaligned",
        "round-down",
        "--format",
        "json",
    ]));
    assert_eq!(rounded["faults"]["alignment"], 0);
    assert_eq!(rounded["trace"]["unaligned_records"], want["trace"]["unaligned_records"]);
    assert_eq!(rounded["trace"]["unaligned_records"], 20);
    assert_eq!(without_trace(rounded.clone()), without_trace(want));

    // The same from the config's optional `unaligned` field; `--unaligned fault`
    // overrides it, and a config without the field faults as before.
    let text = std::fs::read_to_string(root().join(config)).unwrap();
    let needle = "Trace(path: \"../traces/gcc-20k.trace\")";
    assert!(text.contains(needle), "sv32-gcc-trace.ron's workload");
    let with_field = text.replace(
        needle,
        &format!("Trace(path: \"{}/traces/gcc-20k.trace\", unaligned: RoundDown)", root().display()),
    );
    let path = dir.file("round.ron", with_field.as_bytes());
    let from_config = json(&mmu_sim(&["run", &path, "--format", "json"]));
    assert_eq!(from_config["trace"]["unaligned_records"], 20);
    assert_eq!(from_config["cycles"], rounded["cycles"]);
    assert_eq!(from_config["config"]["workload"]["Trace"]["unaligned"], "RoundDown");
    let overridden = json(&mmu_sim(&["run", &path, "--unaligned", "fault", "--format", "json"]));
    assert_eq!(overridden["faults"]["alignment"], 20);
    let plain = json(&mmu_sim(&["run", config, "--format", "json"]));
    assert!(plain["config"]["workload"]["Trace"].get("unaligned").is_none(), "the default is left out");
}

#[test]
fn an_empty_trace_a_trace_given_as_config_and_trace_options_without_a_trace_are_said() {
    let out = mmu_sim(&["run", "configs/sv32-small.ron", "--trace", "/dev/null"]);
    assert!(out.status.success());
    assert!(
        String::from_utf8_lossy(&out.stderr).contains("the trace held no accesses"),
        "an empty trace warns"
    );
    let out = mmu_sim(&["run", "traces/gcc-20k.trace"]);
    assert_eq!(out.status.code(), Some(2));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("looks like a trace, not a config") && err.contains("--trace traces/gcc-20k.trace"),
        "{err}"
    );
    let out = mmu_sim(&["run", "traces/sortwords.lackey.zst"]);
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("it looks compressed"));
    for flag in [&["--skip-bad-lines"][..], &["--trace-format", "lackey"], &["--unaligned", "round-down"]] {
        let out = mmu_sim(&[&["run", "configs/sv32-small.ron"][..], flag].concat());
        assert_eq!(out.status.code(), Some(2), "{flag:?}");
        assert!(String::from_utf8_lossy(&out.stderr).contains("to a trace"), "{flag:?}");
    }
    // --reader-threads too (it was accepted and ignored), for a synthetic and an RV32 run;
    // with a trace, given or the config's, it is taken.
    for args in [&["configs/sv32-small.ron"][..], &["configs/rv32-user.ron"]] {
        let out = mmu_sim(&[&["run"][..], args, &["--reader-threads", "1"]].concat());
        assert_eq!(out.status.code(), Some(2), "{args:?}");
        let err = String::from_utf8_lossy(&out.stderr);
        assert!(err.contains("--reader-threads applies to a trace"), "{args:?}: {err}");
    }
    for args in
        [&["configs/sv32-small.ron", "--trace", "traces/gcc-20k.trace"][..], &["configs/sv32-gcc-trace.ron"]]
    {
        let out = mmu_sim(&[&["run"][..], args, &["--reader-threads", "1"]].concat());
        assert!(out.status.success(), "{args:?}: {}", String::from_utf8_lossy(&out.stderr));
    }
}

/// Every event of the trace at `path`, read as `run` reads it (format detected).
fn events_of(path: &Path) -> Vec<cpu_sim::TraceEvent> {
    let source = mmu_sim::open_trace(path, std::sync::Arc::default()).expect("opens");
    cpu_sim::TraceReader::new(source, path.display().to_string(), cpu_sim::TraceFormat::Auto)
        .map(|e| e.unwrap_or_else(|e| panic!("{}: {e}", path.display())))
        .collect()
}

fn convert(input: &Path, output: &Path, to: mmu_sim::convert::ConvertTo) -> mmu_sim::convert::Converted {
    let options = mmu_sim::convert::ConvertOptions { to, ..Default::default() };
    mmu_sim::convert::convert(input, output, &options).unwrap_or_else(|e| panic!("{}: {e}", input.display()))
}

/// Every file `convert` can write from `input`: binary and native text, plain,
/// zstd and gzip.
const CONVERTED: [(&str, mmu_sim::convert::ConvertTo); 6] = [
    ("t.bin", mmu_sim::convert::ConvertTo::Binary),
    ("t.bin.zst", mmu_sim::convert::ConvertTo::Binary),
    ("t.bin.gz", mmu_sim::convert::ConvertTo::Binary),
    ("t.trace", mmu_sim::convert::ConvertTo::Native),
    ("t.trace.zst", mmu_sim::convert::ConvertTo::Native),
    ("t.trace.gz", mmu_sim::convert::ConvertTo::Native),
];

fn trace_event() -> impl proptest::strategy::Strategy<Value = cpu_sim::TraceEvent> {
    use cpu_sim::{Access, TraceEvent};
    use mmu_core::{AccessKind, Pid, VirtAddr};
    use proptest::prelude::*;
    let addr = prop_oneof![
        6 => any::<u32>().prop_map(|a| a & !3),
        1 => any::<u32>(),
        1 => (0u32..64).prop_map(|a| 0x1000 + 4 * a),
    ];
    prop_oneof![
        12 => (0u8..3, addr, any::<Option<u32>>()).prop_map(|(k, a, v)| {
            let kind = [AccessKind::Read, AccessKind::Write, AccessKind::Fetch][usize::from(k)];
            let value = if kind == AccessKind::Write { v } else { None };
            TraceEvent::Access(Access { kind, vaddr: VirtAddr::new(a), value })
        }),
        1 => prop_oneof![0u32..4, any::<u32>()].prop_map(|p| TraceEvent::Switch(Pid::new(p))),
    ]
}

proptest::proptest! {
    #![proptest_config(proptest::prelude::ProptestConfig::with_cases(24))]

    /// Any trace, written as native text and converted to every format `convert`
    /// writes, reads back as the same events; and text -> binary -> text gives
    /// back the text byte for byte.
    #[test]
    fn every_reader_yields_the_same_events(events in proptest::collection::vec(trace_event(), 0..3000)) {
        let dir = Scratch::new("convert-prop");
        let mut text = Vec::new();
        for e in &events {
            workload::write_native(e, &mut text);
        }
        let source = PathBuf::from(dir.file("source.trace", &text));
        proptest::prop_assert_eq!(&events_of(&source), &events);
        for (name, to) in CONVERTED {
            let out = dir.0.join(name);
            let done = convert(&source, &out, to);
            proptest::prop_assert_eq!(done.events, events.len() as u64);
            proptest::prop_assert_eq!(&events_of(&out), &events, "{}", name);
            let back = dir.0.join(format!("back-{name}.trace"));
            convert(&out, &back, mmu_sim::convert::ConvertTo::Native);
            proptest::prop_assert!(std::fs::read(&back).unwrap() == text, "{} -> text differs", name);
        }
    }
}

#[test]
fn every_input_format_converts_to_the_events_it_reads_as() {
    let dir = Scratch::new("convert-formats");
    let din = dir.file("t.din", b"0 70f60888\n1 1001\n2 400000\n3 8\n4 0\n");
    let course = dir.file("t.course", b"0041f7a0 R\n0041f7a2 W\n");
    let inputs = [
        root().join("traces/sortwords.lackey.zst"),
        root().join("traces/gcc-20k.trace"),
        root().join("traces/multiprocess-4x.trace"),
        PathBuf::from(din),
        PathBuf::from(course),
    ];
    for input in &inputs {
        let events = events_of(input);
        assert!(!events.is_empty());
        for (name, to) in CONVERTED {
            let out = dir.0.join(name);
            convert(input, &out, to);
            assert!(events_of(&out) == events, "{} as {name}", input.display());
        }
    }
    // Converting a file over itself works (through a temporary file).
    let own = dir.0.join("own.bin");
    convert(&inputs[1], &own, mmu_sim::convert::ConvertTo::Binary);
    convert(&own, &own, mmu_sim::convert::ConvertTo::Binary);
    assert!(events_of(&own) == events_of(&inputs[1]));
    // A plain access takes 4 bytes: gcc-20k's 20 000 records after a 16-byte
    // header, 20 of them unaligned (an escape word and the address: 8 bytes).
    assert_eq!(std::fs::metadata(&own).unwrap().len(), 16 + 4 * 20_000 + 4 * 20);
}

#[test]
fn convert_on_the_command_line_and_its_errors() {
    let dir = Scratch::new("convert-cli");
    let bin = dir.0.join("gcc.bin.zst");
    let out = mmu_sim(&["convert", "traces/gcc-20k.trace", bin.to_str().unwrap()]);
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    assert!(
        String::from_utf8_lossy(&out.stderr)
            .contains("20000 events from traces/gcc-20k.trace (native format)")
    );
    let text = dir.0.join("gcc.trace");
    let out = mmu_sim(&["convert", bin.to_str().unwrap(), text.to_str().unwrap(), "--to", "native"]);
    assert!(out.status.success());
    // The same report from the text, the binary and the converted text, but the reader's own counters.
    let report = |trace: &str| {
        without_trace(json(&mmu_sim(&[
            "run",
            "configs/sv32-gcc-trace.ron",
            "--trace",
            trace,
            "--format",
            "json",
        ])))
    };
    let reference = report("traces/gcc-20k.trace");
    assert_eq!(report(bin.to_str().unwrap()), reference);
    assert_eq!(report(text.to_str().unwrap()), reference);
    let inspect = mmu_sim(&["inspect", bin.to_str().unwrap()]);
    let shown = String::from_utf8_lossy(&inspect.stdout);
    assert!(shown.contains("binary format") && shown.contains("records   20000"), "{shown}");

    // Errors: a missing input (2), an unknown format (1), a truncated binary (1).
    let out = mmu_sim(&["convert", "no/such.trace", dir.0.join("x.bin").to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).starts_with("error: no/such.trace: "));
    let junk = dir.file("junk.trace", b"hello world\n");
    let out = mmu_sim(&["convert", &junk, dir.0.join("x.bin").to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&out.stderr).contains("cannot tell the trace format"));
    assert!(!dir.0.join("x.bin").exists(), "a failed conversion leaves no output");
    let plain = dir.0.join("gcc.bin");
    assert!(mmu_sim(&["convert", "traces/gcc-20k.trace", plain.to_str().unwrap()]).status.success());
    let bytes = std::fs::read(&plain).unwrap();
    let cut = dir.file("cut.bin", &bytes[..bytes.len() - 3]);
    let out = mmu_sim(&["run", "configs/sv32-gcc-trace.ron", "--trace", &cut]);
    assert_eq!(out.status.code(), Some(1));
    let stderr = String::from_utf8_lossy(&out.stderr);
    let offset = bytes.len() - 4;
    assert!(
        stderr.contains(&format!(
            "cut.bin: byte {offset}: the binary trace is truncated: it ends 1 byte(s) into a record"
        )),
        "{stderr}"
    );
    let mut future = bytes.clone();
    future[8] = 7;
    let future = dir.file("future.bin", &future);
    let out = mmu_sim(&["inspect", &future]);
    assert!(String::from_utf8_lossy(&out.stderr).contains("byte 8: binary trace version 7 is not supported"));
}

/// An OUT that is not a regular file is written in place, not replaced: a named
/// pipe stays a pipe and gets the trace (before, the temporary file was renamed
/// over it, so that `convert IN /dev/full` as root replaced the device with a
/// file and said it had succeeded). A symbolic link stays a link, and the file
/// it names gets the trace.
#[cfg(unix)]
#[test]
fn convert_writes_through_a_pipe_and_a_link() {
    use std::io::Read as _;
    use std::os::unix::fs::FileTypeExt as _;
    let dir = Scratch::new("convert-special");
    let native = b"R 0x0041f7a0\nW 0x0041f7a4\nX 0x00400000\nP 3\nR 0x00001002\nW 0x00002000 0xdeadbeef\n";
    let input = PathBuf::from(dir.file("in.trace", native));
    let fifo = dir.0.join("pipe");
    let made = Command::new("mkfifo").arg(&fifo).status().expect("mkfifo runs");
    assert!(made.success());
    // Opened for reading and writing, a pipe's open does not wait for a writer,
    // and the conversion's open does not wait for a reader.
    let mut reader = std::fs::OpenOptions::new().read(true).write(true).open(&fifo).expect("opens the pipe");
    convert(&input, &fifo, mmu_sim::convert::ConvertTo::Native);
    assert!(std::fs::symlink_metadata(&fifo).unwrap().file_type().is_fifo(), "the pipe was replaced");
    let mut got = vec![0; native.len()];
    reader.read_exact(&mut got).expect("the trace went into the pipe");
    assert_eq!(got, native);

    // A file replaced keeps its mode (it became 0644 by the umask).
    use std::os::unix::fs::PermissionsExt as _;
    let private = dir.0.join("private.bin");
    std::fs::write(&private, b"old").unwrap();
    std::fs::set_permissions(&private, std::fs::Permissions::from_mode(0o600)).unwrap();
    convert(&input, &private, mmu_sim::convert::ConvertTo::Binary);
    assert_eq!(std::fs::metadata(&private).unwrap().permissions().mode() & 0o777, 0o600);
    assert_eq!(events_of(&private), events_of(&input));

    let target = dir.0.join("target.bin");
    std::fs::write(&target, b"old").unwrap();
    let link = dir.0.join("link.bin");
    std::os::unix::fs::symlink(&target, &link).unwrap();
    convert(&input, &link, mmu_sim::convert::ConvertTo::Binary);
    assert!(std::fs::symlink_metadata(&link).unwrap().file_type().is_symlink(), "the link was replaced");
    assert_eq!(events_of(&target), events_of(&input));

    // A dangling link, through another: the file at the end of the chain is
    // created, each relative target taken from its link's directory (not the
    // working directory); before, the temporary file was renamed over the link.
    std::fs::create_dir(dir.0.join("sub")).unwrap();
    let dangling = dir.0.join("sub/dangling.bin");
    std::os::unix::fs::symlink("made.bin", &dangling).unwrap();
    let chain = dir.0.join("chain.bin");
    std::os::unix::fs::symlink("sub/dangling.bin", &chain).unwrap();
    convert(&input, &chain, mmu_sim::convert::ConvertTo::Binary);
    for link in [&chain, &dangling] {
        let kind = std::fs::symlink_metadata(link).unwrap().file_type();
        assert!(kind.is_symlink(), "{} was replaced", link.display());
    }
    assert_eq!(events_of(&dir.0.join("sub/made.bin")), events_of(&input));
    assert!(!root().join("made.bin").exists(), "the target is not taken from the working directory");
    let mut names: Vec<String> = std::fs::read_dir(&dir.0)
        .unwrap()
        .chain(std::fs::read_dir(dir.0.join("sub")).unwrap())
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    names.sort();
    assert_eq!(
        names,
        [
            "chain.bin",
            "dangling.bin",
            "in.trace",
            "link.bin",
            "made.bin",
            "pipe",
            "private.bin",
            "sub",
            "target.bin"
        ]
    );
}

/// `mmu-sim convert - OUT` reading a standard input that is still open.
fn spawn_convert_of_open_stdin(out: &Path) -> std::process::Child {
    Command::new(env!("CARGO_BIN_EXE_mmu-sim"))
        .args(["convert", "-", out.to_str().unwrap()])
        .current_dir(root())
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("the binary starts")
}

/// `child`'s output once it exits, or None if it still runs after `limit`
/// (then it is killed).
fn output_within(mut child: std::process::Child, limit: std::time::Duration) -> Option<Output> {
    let start = std::time::Instant::now();
    while child.try_wait().expect("the child can be waited for").is_none() {
        if start.elapsed() > limit {
            child.kill().ok();
            child.wait().ok();
            return None;
        }
        std::thread::sleep(std::time::Duration::from_millis(10));
    }
    Some(child.wait_with_output().expect("the child's output"))
}

/// A directory as OUT is refused at once, naming it, before the input is read:
/// before, the whole input was read, then the rename failed (here, on a
/// standard input never closed, it waited for ever).
#[test]
fn convert_refuses_a_directory_before_reading() {
    let dir = Scratch::new("convert-dir");
    let out_dir = dir.0.join("out");
    std::fs::create_dir(&out_dir).unwrap();
    let mut child = spawn_convert_of_open_stdin(&out_dir);
    let stdin = child.stdin.take().expect("piped stdin");
    let out =
        output_within(child, std::time::Duration::from_secs(3)).expect("refused without reading the input");
    drop(stdin);
    assert_eq!(out.status.code(), Some(2));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(stderr, format!("error: {}: OUT is a directory: name the file to write\n", out_dir.display()));
    assert_eq!(std::fs::read_dir(&dir.0).unwrap().count(), 1, "no temporary file beside it");
    assert_eq!(std::fs::read_dir(&out_dir).unwrap().count(), 0, "nothing in it");
}

/// SIGINT, SIGTERM or SIGHUP in the middle of a conversion removes the
/// temporary file beside OUT (before, the default action killed the process
/// and left `.OUT.partial-PID`) and exits with status 128 + the signal, as a
/// shell reports it (before, 130 whatever the signal).
#[cfg(unix)]
#[test]
fn an_interrupted_convert_leaves_no_temporary_file() {
    let dir = Scratch::new("convert-interrupt");
    for (signal, status) in [("-INT", 130), ("-TERM", 143), ("-HUP", 129)] {
        let out = dir.0.join("big.bin");
        let mut child = spawn_convert_of_open_stdin(&out);
        let partial = dir.0.join(format!(".big.bin.partial-{}", child.id()));
        // A large stream, written until the conversion ends (a write then fails)
        // or 64 MiB have gone.
        let mut stdin = child.stdin.take().expect("piped stdin");
        let feeder = std::thread::spawn(move || {
            let chunk = "R 0x10000000\nW 0x10000004 0x2a\n".repeat(4096);
            for _ in 0..(64 << 20) / chunk.len() {
                if stdin.write_all(chunk.as_bytes()).is_err() {
                    break;
                }
            }
        });
        let start = std::time::Instant::now();
        while !partial.exists() {
            assert!(start.elapsed().as_secs() < 2, "{signal}: no temporary file appeared");
            std::thread::sleep(std::time::Duration::from_millis(5));
        }
        std::thread::sleep(std::time::Duration::from_millis(100));
        let killed =
            Command::new("kill").args([signal, &child.id().to_string()]).status().expect("kill runs");
        assert!(killed.success());
        let done =
            output_within(child, std::time::Duration::from_secs(2)).expect("the signal ends the conversion");
        feeder.join().expect("the feeder ends");
        assert_eq!(done.status.code(), Some(status), "{signal}: {}", String::from_utf8_lossy(&done.stderr));
        assert!(!partial.exists(), "{signal}: {} is left", partial.display());
        assert!(!out.exists(), "{signal}: an interrupted conversion writes no OUT");
    }
    // A slow input: one line, then standard input kept open and silent, so the
    // conversion waits in a read when SIGTERM comes.
    let out = dir.0.join("slow.bin");
    let mut child = spawn_convert_of_open_stdin(&out);
    let partial = dir.0.join(format!(".slow.bin.partial-{}", child.id()));
    let mut stdin = child.stdin.take().expect("piped stdin");
    stdin.write_all(b"R 0x10000000\n").expect("the line is written");
    let start = std::time::Instant::now();
    while !partial.exists() {
        assert!(start.elapsed().as_secs() < 2, "no temporary file appeared");
        std::thread::sleep(std::time::Duration::from_millis(5));
    }
    std::thread::sleep(std::time::Duration::from_millis(100));
    let killed = Command::new("kill").args(["-TERM", &child.id().to_string()]).status().expect("kill runs");
    assert!(killed.success());
    let done =
        output_within(child, std::time::Duration::from_secs(2)).expect("SIGTERM ends a waiting conversion");
    drop(stdin);
    assert_eq!(done.status.code(), Some(143), "{}", String::from_utf8_lossy(&done.stderr));
    assert!(!partial.exists(), "{} is left", partial.display());
    assert!(!out.exists(), "an interrupted conversion writes no OUT");
}

/// The report of `config` (with `sets`) on `trace`, read with `threads` reader threads
/// ([`mmu_sim::RunOptions::reader_threads`]).
fn report_with_threads(config: &str, trace: Option<&Path>, sets: &[&str], threads: usize) -> String {
    let path = root().join("configs").join(config);
    let loaded = mmu_sim::load_config(&path).expect("loads");
    let sets: Vec<mmu_sim::overrides::Override> =
        sets.iter().map(|s| s.parse().expect("PATH=VALUE")).collect();
    let loaded = mmu_sim::overrides::apply(&loaded, config, &sets).expect("valid overrides");
    let options = mmu_sim::RunOptions {
        trace: trace.map(Path::to_path_buf),
        reader_threads: threads,
        skip_bad_lines: true,
        ..mmu_sim::RunOptions::default()
    };
    let outcome = mmu_sim::run_with(&loaded, &path, &options).unwrap_or_else(|e| panic!("{config}: {e}"));
    format!(
        "{}\n{:?}",
        serde_json::to_string_pretty(&outcome.report).expect("serializes"),
        outcome.first_bad_line
    )
}

#[test]
fn reports_are_identical_with_the_reader_thread_on_and_off() {
    let dir = Scratch::new("reader-thread");
    let bin = dir.0.join("sortwords.bin.zst");
    convert(&root().join("traces/sortwords.lackey.zst"), &bin, mmu_sim::convert::ConvertTo::Binary);
    // A bad line to skip, past the first batch.
    let mut gcc = std::fs::read(root().join("traces/gcc-20k.trace")).unwrap();
    gcc.extend_from_slice(b"R 0xnothex\nR 0x1000\n");
    let gcc = PathBuf::from(dir.file("gcc-bad.trace", &gcc));
    let cases: Vec<(&str, Option<&Path>, Vec<&str>)> = vec![
        ("sv32-sortwords-lackey.ron", None, vec![]),
        ("sv32-sortwords-lackey.ron", Some(&bin), vec![]),
        (
            "sv32-sortwords-lackey.ron",
            Some(&bin),
            vec!["window=(skip: 5000, warmup: 10000, max: Some(12345))"],
        ),
        ("sv32-sortwords-lackey.ron", None, vec!["window=(max: Some(4096))"]),
        ("sv32-gcc-trace.ron", Some(&gcc), vec![]),
        ("sv32-gcc-trace.ron", Some(&gcc), vec!["window=(skip: 100, max: Some(7000))"]),
        (
            "sv32-gcc-trace.ron",
            None,
            vec![
                "os.replacement=Opt",
                "os.data_frames=Some(64)",
                "os.swap=Some((capacity_bytes: 0x1000000, read_latency: 1000, write_latency: 1000))",
                "window=(max: Some(15000))",
            ],
        ),
        ("sv32-skylake-like.ron", None, vec![]),
        ("sv32-l2-inclusive.ron", None, vec!["window=(warmup: 1000, max: Some(20000))"]),
    ];
    for (config, trace, sets) in cases {
        // 0: each event decoded as it is taken; 1: batches on this thread; 2: a reader thread.
        let lazy = report_with_threads(config, trace, &sets, 0);
        for threads in [1, 2] {
            let batched = report_with_threads(config, trace, &sets, threads);
            assert!(batched == lazy, "{config} {trace:?} {sets:?}, {threads} threads: the reports differ");
        }
    }
}

/// `convert IN -` writes to standard output (as `-` reads standard input),
/// never a file named `-`.
#[test]
fn convert_to_dash_writes_standard_output() {
    let dir = Scratch::new("convert-stdout");
    let native = b"R 0x0041f7a0\nW 0x0041f7a4\nX 0x00400000\nP 3\n";
    let input = dir.file("in.trace", native);
    let file = dir.0.join("out.bin");
    let to_file = mmu_sim(&["convert", &input, file.to_str().unwrap()]);
    assert!(to_file.status.success(), "{}", String::from_utf8_lossy(&to_file.stderr));
    let to_stdout = mmu_sim(&["convert", &input, "-"]);
    assert!(to_stdout.status.success(), "{}", String::from_utf8_lossy(&to_stdout.stderr));
    assert_eq!(to_stdout.stdout, std::fs::read(&file).unwrap(), "the same bytes as the file");
    let text = mmu_sim(&["convert", &input, "-", "--to", "native"]);
    assert!(String::from_utf8_lossy(&text.stdout).starts_with("R 0x0041f7a0\n"), "{:?}", text);
    assert!(!root().join("-").exists(), "no file named -");
}

/// `convert IN -` writes to the standard output it was given, at its offset:
/// an append-mode file keeps what it held (`mmu-sim convert IN - >> f`).
/// Before, `-` opened `/dev/stdout` with O_TRUNC, so f's earlier bytes were
/// erased (and a socket as stdout failed with "No such device or address").
#[test]
fn convert_to_dash_appends_to_the_standard_output_it_is_given() {
    let dir = Scratch::new("convert-append");
    let native = b"R 0x0041f7a0\nW 0x0041f7a4\nX 0x00400000\nP 3\n";
    let input = dir.file("in.trace", native);
    let log = dir.0.join("log");
    std::fs::write(&log, b"earlier bytes\n").unwrap();
    let file = std::fs::OpenOptions::new().append(true).open(&log).expect("opens the log to append");
    let out = Command::new(env!("CARGO_BIN_EXE_mmu-sim"))
        .args(["convert", &input, "-", "--to", "native"])
        .current_dir(root())
        .stdin(Stdio::null())
        .stdout(Stdio::from(file))
        .stderr(Stdio::piped())
        .output()
        .expect("the binary runs");
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let got = std::fs::read(&log).unwrap();
    assert_eq!(String::from_utf8_lossy(&got), format!("earlier bytes\n{}", String::from_utf8_lossy(native)));
}

/// `convert IN - | head -c1`: a reader that stops early ends the conversion
/// quietly with status 0, as it ends `run`, `inspect` and `generate` (before:
/// "error: writing -: Broken pipe (os error 32)" and status 1).
#[test]
fn convert_to_a_closed_pipe_stops_quietly() {
    use std::io::Read as _;
    let mut child = Command::new(env!("CARGO_BIN_EXE_mmu-sim"))
        .args(["convert", "traces/gcc-20k.trace", "-", "--to", "native"])
        .current_dir(root())
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("the binary starts");
    let mut stdout = child.stdout.take().expect("piped stdout");
    let mut first = [0u8; 1];
    stdout.read_exact(&mut first).expect("the conversion writes");
    assert_eq!(&first, b"R");
    drop(stdout);
    let out = child.wait_with_output().expect("the binary ends");
    assert_eq!(out.status.code(), Some(0), "{}", String::from_utf8_lossy(&out.stderr));
    assert_eq!(String::from_utf8_lossy(&out.stderr), "");
}

/// `mrc` and `sweep` take `run`'s trace options (`--trace-format`,
/// `--skip-bad-lines`, `--unaligned`) with the same values; bad values are
/// clap's usage errors, and trace options without a trace are refused.
const CURVES: [&[&str]; 2] =
    [&["--tlb", "l1d", "--sizes", "4,16,64"], &["--frames", "4,16,64", "--policy", "opt"]];

#[test]
fn mrc_skips_bad_lines_of_a_course_or_din_trace_into_the_clean_traces_curve() {
    let dir = Scratch::new("mrc-trace-options");
    let records = &gcc_20k_records()[..5000];
    let course: String = records.iter().map(|(k, a)| format!("{a:08x} {k}\n")).collect();
    let din: String =
        records.iter().map(|(k, a)| format!("{} {a:x}\n", if k == "W" { 1 } else { 0 })).collect();
    let config = "configs/sv32-gcc-trace.ron";
    for (name, clean, bad_line, format) in
        [("t.course", course, "0041zzzz R\n", "course"), ("t.din", din, "7 10000000\n", "din")]
    {
        let at = clean.match_indices('\n').nth(99).map_or(0, |(i, _)| i + 1);
        let bad = format!("{}{bad_line}{}", &clean[..at], &clean[at..]);
        let clean = dir.file(name, clean.as_bytes());
        let bad = dir.file(&format!("bad-{name}"), bad.as_bytes());
        for curve in CURVES {
            let want = mmu_sim(&[&["mrc", config, "--trace", &clean][..], curve].concat());
            assert!(want.status.success(), "{name} {curve:?}: {}", String::from_utf8_lossy(&want.stderr));
            let stopped =
                mmu_sim(&[&["mrc", config, "--trace", &bad, "--trace-format", format][..], curve].concat());
            assert_eq!(stopped.status.code(), Some(1), "{name} {curve:?}: a bad line stops the curve");
            assert!(
                String::from_utf8_lossy(&stopped.stderr).contains(":101: "),
                "{name} {curve:?}: line 101"
            );
            let skipped = mmu_sim(
                &[&["mrc", config, "--trace", &bad, "--trace-format", format, "--skip-bad-lines"][..], curve]
                    .concat(),
            );
            assert!(
                skipped.status.success(),
                "{name} {curve:?}: {}",
                String::from_utf8_lossy(&skipped.stderr)
            );
            assert_eq!(
                skipped.stdout, want.stdout,
                "{name} {curve:?}: the bad line skipped, the clean curve"
            );
            let stderr = String::from_utf8_lossy(&skipped.stderr);
            assert!(
                stderr.contains(&format!("warning: skipped 1 bad trace lines; the first: {bad}:101: ")),
                "{name} {curve:?}: {stderr}"
            );
            // The same curve whichever thread reads the trace.
            for threads in ["1", "2"] {
                let out =
                    mmu_sim(
                        &[
                            &[
                                "mrc",
                                config,
                                "--trace",
                                &bad,
                                "--skip-bad-lines",
                                "--reader-threads",
                                threads,
                            ][..],
                            curve,
                        ]
                        .concat(),
                    );
                assert_eq!(out.stdout, want.stdout, "{name} {curve:?}: --reader-threads {threads}");
            }
        }
    }
    // The format is taken, not detected: a din trace read as course stops at its first line.
    let din = dir.0.join("t.din");
    let out = mmu_sim(&[
        "mrc",
        config,
        "--trace",
        din.to_str().unwrap(),
        "--trace-format",
        "course",
        "--frames",
        "4",
    ]);
    assert_eq!(out.status.code(), Some(1));
    assert!(
        String::from_utf8_lossy(&out.stderr).contains("t.din:1: "),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    // Bad values are usage errors; trace options without a trace are refused, as `run` refuses them.
    for bad in [&["--trace-format", "xml"][..], &["--unaligned", "up"], &["--reader-threads", "3"]] {
        for command in [&["mrc", config, "--frames", "4"][..], &["sweep", config, "--vary", "seed=1"]] {
            let out = mmu_sim(&[command, bad].concat());
            assert_eq!(out.status.code(), Some(2), "{command:?} {bad:?}");
            assert!(String::from_utf8_lossy(&out.stderr).contains("error: "), "{command:?} {bad:?}");
        }
    }
    for flag in [&["--skip-bad-lines"][..], &["--trace-format", "lackey"], &["--unaligned", "round-down"]] {
        for command in [
            &["mrc", SMALL, "--frames", "4"][..],
            &["mrc", SMALL, "--tlb", "l1d"],
            &["sweep", SMALL, "--vary", "seed=1"],
        ] {
            let out = mmu_sim(&[command, flag].concat());
            assert_eq!(out.status.code(), Some(2), "{command:?} {flag:?}");
            assert!(String::from_utf8_lossy(&out.stderr).contains("to a trace"), "{command:?} {flag:?}");
        }
    }
    let out = mmu_sim(&["mrc", SMALL, "--frames", "4", "--reader-threads", "1"]);
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("--reader-threads applies to a trace"));
}

/// The row of `sweep` (one `--vary`, JSON lines) of the point `value`.
fn sweep_row(rows: &[u8], path: &str, value: &str) -> serde_json::Value {
    String::from_utf8_lossy(rows)
        .lines()
        .map(|l| serde_json::from_str::<serde_json::Value>(l).expect("a JSON line"))
        .find(|row| row[path] == value)
        .unwrap_or_else(|| panic!("no row with {path}={value}"))
}

#[test]
fn mrc_and_sweep_round_unaligned_native_addresses_down_as_run_does() {
    // gcc-20k.trace holds 20 unaligned native addresses: an alignment fault each
    // by default, the word that holds it with `--unaligned round-down`.
    let config = "configs/sv32-gcc-trace.ron";
    let vary = "tlb.l1[0].entries";
    for (unaligned, faults) in [("fault", 20), ("round-down", 0)] {
        let run = json(&mmu_sim(&[
            "run",
            config,
            "--set",
            &format!("{vary}=16"),
            "--unaligned",
            unaligned,
            "--format",
            "json",
        ]));
        assert_eq!(run["faults"]["alignment"], faults, "run --unaligned {unaligned}");
        let out = mmu_sim(&[
            "sweep",
            config,
            "--vary",
            &format!("{vary}=16,32"),
            "--unaligned",
            unaligned,
            "--format",
            "jsonl",
        ]);
        assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
        let row = sweep_row(&out.stdout, vary, "16");
        for counter in ["cycles", "faults.alignment", "trace.unaligned_records", "walks"] {
            let (section, field) = counter.split_once('.').unwrap_or((counter, ""));
            let want = if field.is_empty() { &run[section] } else { &run[section][field] };
            assert_eq!(&row[counter], want, "sweep --unaligned {unaligned}: {counter}");
        }
        // Both curves count the accesses the run executes: an alignment fault is skipped.
        let executed = run["accesses"].as_u64().unwrap() - faults;
        for curve in CURVES {
            let out = mmu_sim(
                &[&["mrc", config, "--unaligned", unaligned, "--format", "json"][..], curve].concat(),
            );
            let points = json(&out);
            assert_eq!(points[0]["references"], executed, "mrc {curve:?} --unaligned {unaligned}");
        }
    }
}

#[test]
fn sweep_reads_a_binary_trace_and_skips_bad_lines_in_every_shard() {
    let dir = Scratch::new("sweep-trace-options");
    // No comment line: a binary trace counts records, a text one lines.
    let text = native_text().replacen("# a test trace\n", "", 1);
    let native = dir.file("t.trace", text.as_bytes());
    let binary = dir.0.join("t.bin");
    convert(Path::new(&native), &binary, mmu_sim::convert::ConvertTo::Binary);
    let binary = binary.to_str().unwrap();
    let grid = ["sweep", SMALL, "--vary", "tlb.l1[0].entries=16,32,64"];
    let want = mmu_sim(&[&grid[..], &["--trace", &native, "--trace-format", "native"]].concat());
    assert!(want.status.success(), "{}", String::from_utf8_lossy(&want.stderr));
    let got = mmu_sim(&[&grid[..], &["--trace", binary, "--trace-format", "binary"]].concat());
    assert!(got.status.success(), "{}", String::from_utf8_lossy(&got.stderr));
    assert_eq!(String::from_utf8_lossy(&got.stdout), String::from_utf8_lossy(&want.stdout));
    // The format is taken, not detected. (A point's failed run is the sweep's exit 2.)
    let out = mmu_sim(&[&grid[..], &["--trace", &native, "--trace-format", "binary"]].concat());
    assert_eq!(out.status.code(), Some(2));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains("t.trace: byte 0: not a binary trace"), "{stderr}");

    // A bad line: every point stops, or skips and counts it in its row and the first point says so.
    let at = text.match_indices('\n').nth(1999).map_or(0, |(i, _)| i + 1);
    let bad = dir.file("bad.trace", format!("{}R 0xnothex\n{}", &text[..at], &text[at..]).as_bytes());
    let out = mmu_sim(&[&grid[..], &["--trace", &bad]].concat());
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("bad.trace:2001: "));
    let args =
        [&grid[..], &["--trace", &bad, "--trace-format", "native", "--skip-bad-lines", "--format", "jsonl"]]
            .concat();
    let out = mmu_sim(&args);
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.contains(&format!("warning: skipped 1 bad trace lines; the first: {bad}:2001: "))
            && stderr.contains("(the point tlb.l1[0].entries=16), and 2 more grid point(s)"),
        "{stderr}"
    );
    let clean = mmu_sim(&[&grid[..], &["--trace", &native, "--format", "jsonl"]].concat());
    for entries in ["16", "32", "64"] {
        let (mut row, mut want) = (
            sweep_row(&out.stdout, "tlb.l1[0].entries", entries),
            sweep_row(&clean.stdout, "tlb.l1[0].entries", entries),
        );
        assert_eq!(row["trace.bad_lines_skipped"], 1);
        assert_eq!(row["trace.lines"], 3001);
        for r in [&mut row, &mut want] {
            let r = r.as_object_mut().unwrap();
            r.remove("trace.bad_lines_skipped");
            r.remove("trace.lines");
        }
        assert_eq!(row, want, "entries={entries}: the clean trace's counters");
    }

    // Shards run the sweep's trace options: the SLURM script's tasks, run as
    // SLURM runs them, merge into the unsharded sweep's bytes. An unaligned
    // address first, which --unaligned round-down reads as its word.
    let unaligned = dir.file(
        "bad-unaligned.trace",
        format!("R 0x10000002\n{}", std::fs::read_to_string(&bad).unwrap()).as_bytes(),
    );
    let args = [
        &grid[..],
        &["--trace", &unaligned, "--trace-format", "native", "--skip-bad-lines", "--unaligned", "round-down"],
    ]
    .concat();
    let job = dir.0.join("job");
    let emit = mmu_sim(&[&args[..], &["--emit-slurm", job.to_str().unwrap(), "--shards", "2"]].concat());
    assert!(emit.status.success(), "{}", String::from_utf8_lossy(&emit.stderr));
    let script = std::fs::read_to_string(job.join("sweep.sbatch")).unwrap();
    assert!(script.contains(" --trace-format native --skip-bad-lines --unaligned round-down "), "{script}");
    let mut shards = Vec::new();
    for task in 0..2 {
        let out = Command::new("bash")
            .arg(job.join("sweep.sbatch"))
            .env("SLURM_ARRAY_TASK_ID", task.to_string())
            .current_dir(root())
            .output()
            .expect("bash runs the script");
        assert!(out.status.success(), "task {task}: {}", String::from_utf8_lossy(&out.stderr));
        shards.push(job.join(format!("shard-{task}.out")).to_str().unwrap().to_string());
    }
    let merged = mmu_sim(&["merge", &shards[0], &shards[1]]);
    let whole = mmu_sim(&args);
    assert!(whole.status.success() && merged.status.success());
    assert_eq!(String::from_utf8_lossy(&merged.stdout), String::from_utf8_lossy(&whole.stdout));
    let whole = String::from_utf8_lossy(&whole.stdout);
    let (header, row) = (whole.lines().next().unwrap(), whole.lines().nth(1).unwrap());
    let column = header.split(',').position(|c| c == "trace.unaligned_records").expect("the column");
    assert_eq!(row.split(',').nth(column), Some("1"), "the unaligned address rounded down: {whole}");
    // sweep runs its points on --jobs threads: it has no reader thread to ask for.
    assert_eq!(
        mmu_sim(&[&grid[..], &["--trace", &native, "--reader-threads", "1"]].concat()).status.code(),
        Some(2)
    );
}

#[test]
fn a_sweep_script_is_refused_standard_input_and_trace_flags_without_a_trace_are_named() {
    // The rule: sweep reads the trace once per point, and so does each
    // shard of an --emit-slurm script: standard input is refused before a
    // script is written (a fresh user's check found a script reading a file
    // named `-`).
    let dir = Scratch::new("slurm-stdin");
    let jobs = dir.0.join("jobs");
    let out = mmu_sim_with_input(
        &[
            "sweep",
            "configs/sv32-gcc-trace.ron",
            "--trace",
            "-",
            "--vary",
            "tlb.l1[0].entries=32,64",
            "--emit-slurm",
            jobs.to_str().expect("utf-8 temp path"),
        ],
        Some(b""),
    );
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{stderr}");
    assert!(stderr.contains("pass it as a file, not standard input"), "{stderr}");
    assert!(!jobs.exists(), "no script is written");
    // One flag "applies", and the config is named; two "apply".
    let out = mmu_sim(&["run", SMALL, "--unaligned", "fault"]);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.contains(&format!("{SMALL}: --unaligned applies to a trace, and this run reads none")),
        "{stderr}"
    );
    let out = mmu_sim(&["sweep", SMALL, "--skip-bad-lines", "--unaligned", "fault", "--vary", "seed=1"]);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{stderr}");
    assert!(stderr.contains("--skip-bad-lines, --unaligned apply to a trace"), "{stderr}");
}
