//! Whole runs of shipped configs, in accesses simulated per second.

use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use std::path::Path;

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
    group.finish();
}

criterion_group!(benches, whole_run);
criterion_main!(benches);
