//! Trace reading benches, in lines per second: parsing each format from memory
//! (no disk, no decompression), and a whole run of the same native trace whose
//! accesses all hit the L1 TLB, to compare simulation against parsing alone.

use cpu_sim::{Machine, parse_config};
use criterion::{BenchmarkId, Criterion, Throughput, criterion_group, criterion_main};
use std::fmt::Write as _;
use std::hint::black_box;
use workload::{TraceFormat, TraceReader};

/// Lines per trace: large enough that the 256 KiB buffer refills a few dozen times.
const LINES: usize = 1 << 20;

/// Word addresses inside 16 pages from 0x1000_0000 (xorshift seeded by a
/// constant): after the first touch of each page, every access hits a 64-entry L1.
fn addresses() -> Vec<u32> {
    let mut x = mmu_core::testing::XorShift::new(0x9e37_79b9_7f4a_7c15);
    (0..LINES).map(|_| 0x1000_0000 + ((x.next() as u32) % (16 * 1024)) * 4).collect()
}

/// The same accesses, one per line, in `format`; one store in four.
fn trace(format: TraceFormat) -> String {
    let mut s = String::with_capacity(LINES * 16);
    for (i, a) in addresses().into_iter().enumerate() {
        let store = i % 4 == 3;
        let _ = match format {
            TraceFormat::Native => writeln!(s, "{} 0x{a:08x}", if store { 'W' } else { 'R' }),
            TraceFormat::Lackey => writeln!(s, " {} {a:08x},4", if store { 'S' } else { 'L' }),
            TraceFormat::Din => writeln!(s, "{} {a:x}", u8::from(store)),
            TraceFormat::Course => writeln!(s, "{a:08x} {}", if store { 'W' } else { 'R' }),
            TraceFormat::Auto | TraceFormat::Binary => unreachable!("a text format"),
        };
    }
    s
}

fn parse(c: &mut Criterion) {
    let mut group = c.benchmark_group("trace/parse");
    group.throughput(Throughput::Elements(LINES as u64));
    for format in TraceFormat::CONCRETE {
        let text = trace(format);
        group.bench_with_input(BenchmarkId::from_parameter(format.name()), &text, |b, text| {
            b.iter(|| {
                let reader = TraceReader::new(black_box(text.as_bytes()), "bench", format);
                let mut events = 0;
                for event in reader {
                    black_box(event.expect("the bench trace parses"));
                    events += 1;
                }
                assert_eq!(events, LINES);
                events
            });
        });
    }
    // The binary format, one record per event: per event as the run loop reads
    // it, and in batches as the reader thread does.
    let binary = binary_trace();
    group.bench_function("binary", |b| {
        b.iter(|| {
            let reader = TraceReader::new(black_box(&binary[..]), "bench", TraceFormat::Binary);
            let mut events = 0;
            for event in reader {
                black_box(event.expect("the bench trace decodes"));
                events += 1;
            }
            assert_eq!(events, LINES);
            events
        });
    });
    group.bench_function("binary-batches", |b| {
        let mut batch = Vec::with_capacity(4096);
        b.iter(|| {
            let mut reader = TraceReader::new(black_box(&binary[..]), "bench", TraceFormat::Binary);
            let mut events = 0;
            loop {
                batch.clear();
                let more = reader.fill(&mut batch, 4096).expect("the bench trace decodes");
                events += black_box(&batch).len();
                if !more {
                    break;
                }
            }
            assert_eq!(events, LINES);
            events
        });
    });
    group.finish();
}

/// The native trace's events in the binary format.
fn binary_trace() -> Vec<u8> {
    let text = trace(TraceFormat::Native);
    let mut writer = workload::BinaryWriter::new(Vec::new(), false).expect("writes to memory");
    for event in TraceReader::new(text.as_bytes(), "bench", TraceFormat::Native) {
        writer.write(&event.expect("the bench trace parses")).expect("writes to memory");
    }
    writer.finish().expect("writes to memory")
}

const CONFIG: &str = r#"(
    seed: 1,
    cpu: (cycles_per_access: 1),
    mmu: (format: Sv32),
    tlb: (l1: [(name: "l1d", serves: Data, entries: 64, ways: 4, hit_latency: 1)]),
    dram: (capacity_bytes: 0x1000000, timing: Fixed(latency: 100)),
    os: (trap_cycles: 200, demand_zero_cycles: 2000),
    processes: [(name: "app", regions: [(name: "heap", base: 0x10000000, size: 0x10000, perms: "rw-")])],
    workload: Trace(path: "unused"),
)"#;

/// Parsing alone against parsing and simulating, on the same hit-dominated trace:
/// the two figures the README quotes as a ratio.
fn hits(c: &mut Criterion) {
    let mut group = c.benchmark_group("trace/native-hits");
    group.throughput(Throughput::Elements(LINES as u64));
    group.sample_size(20);
    let text = trace(TraceFormat::Native);
    let config = parse_config(CONFIG, "bench").expect("the bench config is valid");
    group.bench_function("parse", |b| {
        b.iter(|| {
            // Every event is consumed (black_box), or the compiler drops the
            // address conversion and times line splitting alone.
            let reader = TraceReader::new(black_box(text.as_bytes()), "bench", TraceFormat::Native);
            let mut events = 0;
            for event in reader {
                black_box(event.expect("the bench trace parses"));
                events += 1;
            }
            events
        });
    });
    group.bench_function("run", |b| {
        b.iter(|| {
            let mut machine = Machine::new(&config).expect("boots");
            let reader = TraceReader::new(black_box(text.as_bytes()), "bench", TraceFormat::Native);
            cpu_sim::runner::run(&mut machine, reader, "bench").expect("runs");
            let report = machine.report();
            assert!(report.tlb.0[0].1.misses < 100, "only the first touches of the 16 pages miss");
            report.cycles
        });
    });
    group.finish();
}

criterion_group!(benches, parse, hits);
criterion_main!(benches);
