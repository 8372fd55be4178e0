//! Whole runs, in accesses simulated per second: the shipped `sv32-small` config
//! (miss dominated), a TLB-hit-dominated run, and as the same-process baseline the
//! hit-dominated run's workload generated alone (the floor no simulation beats).

use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use std::path::Path;

/// One process streaming through 64 KiB (16 pages) two million times a word: after
/// 16 compulsory misses every lookup hits the 64-entry L1 dTLB.
const HIT_DOMINATED: &str = r#"(
    seed: 1,
    cpu: (cycles_per_access: 1),
    mmu: (format: Sv32),
    tlb: (
        l1: [(name: "l1d", serves: Data, entries: 64, ways: 4, hit_latency: 1)],
        l2: Some((name: "l2", serves: Both, entries: 512, ways: 8, hit_latency: 7)),
    ),
    dram: (capacity_bytes: 0x1000000, timing: Fixed(latency: 100)),
    os: (trap_cycles: 200, demand_zero_cycles: 2000),
    processes: [(name: "app", regions: [(name: "heap", base: 0x10000000, size: 0x10000, perms: "rw-")])],
    workload: Synthetic(Sequential(base: 0x10000000, bytes: 0x10000, accesses: 2000000, write_percent: 10)),
)"#;

fn whole_run(c: &mut Criterion) {
    let mut group = c.benchmark_group("whole_run");
    group.sample_size(10);
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("configs/sv32-small.ron");
    let config = mmu_sim::load_config(&path).expect("shipped config loads");
    let accesses = mmu_sim::run_config(&config, &path, None).expect("runs").accesses;
    group.throughput(Throughput::Elements(accesses));
    group.bench_function("sv32-small", |b| {
        b.iter(|| mmu_sim::run_config(&config, &path, None).expect("runs").cycles);
    });

    let hits = cpu_sim::parse_config(HIT_DOMINATED, "hit-dominated").expect("valid");
    let report = mmu_sim::run_config(&hits, &path, None).expect("runs");
    let l1 = &report.tlb.0[0].1;
    assert!(l1.hits * 1000 >= l1.lookups * 999, "hit dominated: {l1:?}");
    group.throughput(Throughput::Elements(report.accesses));
    group.bench_function("hit-dominated", |b| {
        b.iter(|| mmu_sim::run_config(&hits, &path, None).expect("runs").cycles);
    });
    group.bench_function("hit-dominated-workload-only-baseline", |b| {
        b.iter(|| {
            let workload: cpu_sim::Workload<std::io::Empty> =
                cpu_sim::Workload::synthetic(&hits.workload, hits.seed).expect("synthetic");
            workload.count()
        });
    });
    group.finish();
}

/// The RV32 core on configs/rv32-virt.ron (the full cycle-level model: TLBs, walk
/// cache, walker, banked DDR4) running programs/compute: 10 M instructions of a
/// loop whose fetches and data accesses hit the L1 TLBs. Throughput in
/// instructions retired.
fn rv32_compute(c: &mut Criterion) {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let path = root.join("configs/rv32-virt.ron");
    let config = mmu_sim::load_config(&path).expect("shipped config loads");
    let options =
        mmu_sim::RunOptions { elf: Some(root.join("programs/compute/compute.elf")), ..Default::default() };
    let run = || mmu_sim::run_with(&config, &path, &options).expect("runs").report;
    let report = run();
    let instructions = report.core.as_ref().expect("an ELF run").instructions;
    let l1i = &report.tlb.0[0].1;
    assert!(l1i.hits * 1000 >= l1i.lookups * 999, "fetches hit the L1 iTLB: {l1i:?}");
    let mut group = c.benchmark_group("whole_run");
    group.sample_size(10);
    group.throughput(Throughput::Elements(instructions));
    group.bench_function("rv32-compute-tlb-hits", |b| b.iter(|| run().cycles));
    group.finish();
}

criterion_group!(benches, whole_run, rv32_compute);
criterion_main!(benches);
