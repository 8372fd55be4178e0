//! DRAM request benches: the cost of timing one request under each model, with
//! addresses generated once from a seed.

use criterion::{BenchmarkId, Criterion, Throughput, criterion_group, criterion_main};
use mmu_core::{
    AddressField, Cycle, Cycles, Dram, DramConfig, DramTiming, PhysAddr, PhysMem, RowPolicy, Traffic,
};
use std::hint::black_box;

const REQUESTS: usize = 4096;

fn banked(policy: RowPolicy) -> DramTiming {
    DramTiming::Banked {
        channels: 1,
        ranks: 1,
        banks: 16,
        row_bytes: 8192,
        burst_bytes: 64,
        mapping: vec![
            AddressField::Row,
            AddressField::Bank,
            AddressField::Rank,
            AddressField::Channel,
            AddressField::Column,
        ],
        policy,
        t_rcd: Cycles::new(43),
        t_cl: Cycles::new(43),
        t_rp: Cycles::new(43),
        t_ras: Cycles::new(96),
        t_burst: Cycles::new(10),
    }
}

/// A fixed pseudo-random sequence (xorshift, seeded by the span) of word addresses
/// below `span` bytes.
fn addresses(span: u64) -> Vec<PhysAddr> {
    let mut x = mmu_core::testing::XorShift::new(span | 1);
    (0..REQUESTS).map(|_| PhysAddr::new(x.below(span) & !3)).collect()
}

fn read(c: &mut Criterion) {
    let mut group = c.benchmark_group("dram/read");
    group.throughput(Throughput::Elements(REQUESTS as u64));
    let models = [
        ("fixed", DramTiming::Fixed { latency: Cycles::new(100) }),
        ("open_page", banked(RowPolicy::OpenPage)),
        ("closed_page", banked(RowPolicy::ClosedPage)),
    ];
    // Within one 8 KiB row (mostly row hits), and over 1 GiB (mostly conflicts).
    for (span_name, span) in [("row", 8192u64), ("1GiB", 1 << 30)] {
        let addrs = addresses(span);
        for (name, timing) in &models {
            let mut dram =
                Dram::new(&DramConfig { base: 0, capacity_bytes: 4 << 30, timing: timing.clone() });
            let mut now = Cycle::ZERO;
            group.bench_with_input(BenchmarkId::new(*name, span_name), &addrs, |b, addrs| {
                b.iter(|| {
                    let mut sum = 0u32;
                    for &a in addrs {
                        let r = dram.read(now, black_box(a), Traffic::Data);
                        now = r.ready_at;
                        sum = sum.wrapping_add(r.value);
                    }
                    sum
                });
            });
        }
    }
    group.finish();
}

criterion_group!(benches, read);
criterion_main!(benches);
