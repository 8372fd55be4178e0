//! TLB benches: lookup hits and misses on a 64-entry 4-way L1, a 64-entry fully
//! associative L1 and a 1536-entry 12-way L2, each holding 4 KiB and 4 MiB sizes as
//! Sv32 requires (only 4 KiB entries are resident, so one set is probed), and fills
//! that evict under each replacement policy. Addresses are generated once per size.

use criterion::{BenchmarkId, Criterion, Throughput, criterion_group, criterion_main};
use mmu_core::{Asid, Cycles, Perms, PhysAddr, Translation, VirtAddr, Vpn};
use std::hint::black_box;
use tlb::{PageSizes, Replacement, Serves, Tlb, TlbConfig};

const ADDRESSES: usize = 4096;

fn tlb(entries: u32, ways: u32, replacement: Replacement) -> Tlb {
    let config = TlbConfig {
        name: "bench".into(),
        serves: Serves::Data,
        entries,
        ways,
        hit_latency: Cycles::new(1),
        replacement,
        page_sizes: PageSizes::Any,
    };
    Tlb::new(&config, &[12, 22], 1)
}

fn page(vpn: u32) -> Translation {
    Translation {
        vpn: Vpn::new(vpn),
        page_bits: 12,
        page_base: PhysAddr::new(u64::from(vpn) << 12),
        perms: Perms::ALL,
        global: false,
        dirty: true,
    }
}

/// A fixed pseudo-random sequence (xorshift, seeded by the size) of word addresses
/// within `pages` pages starting at page `first`.
fn addresses(first: u32, pages: u32) -> Vec<VirtAddr> {
    let mut x = u64::from(pages) | 1;
    (0..ADDRESSES)
        .map(|_| {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            VirtAddr::new((first << 12) + ((x as u32) % (pages * 1024)) * 4)
        })
        .collect()
}

const GEOMETRIES: [(u32, u32, &str); 3] =
    [(64, 4, "64x4"), (64, 64, "64-fully-assoc"), (1536, 12, "1536x12")];

fn lookup(c: &mut Criterion) {
    let mut group = c.benchmark_group("tlb/lookup");
    group.throughput(Throughput::Elements(ADDRESSES as u64));
    let asid = Asid::new(1);
    for (entries, ways, name) in GEOMETRIES {
        // Hits: `entries` consecutive pages resident (every set full), every address in them.
        let mut t = tlb(entries, ways, Replacement::Lru);
        for vpn in 0..entries {
            t.fill(Vpn::new(vpn).base(12), page(vpn), asid);
        }
        assert_eq!(t.occupancy(), entries as usize);
        let hits = addresses(0, entries);
        group.bench_with_input(BenchmarkId::new("hit", name), &hits, |b, addrs| {
            b.iter(|| {
                let mut found = 0u32;
                for &va in addrs {
                    found += u32::from(t.lookup(black_box(va), asid).is_some());
                }
                assert_eq!(found as usize, ADDRESSES);
                found
            });
        });
        // Misses: addresses in pages 65536.. that were never filled.
        let misses = addresses(1 << 16, entries);
        group.bench_with_input(BenchmarkId::new("miss", name), &misses, |b, addrs| {
            b.iter(|| {
                let mut found = 0u32;
                for &va in addrs {
                    found += u32::from(t.lookup(black_box(va), asid).is_some());
                }
                assert_eq!(found, 0);
                found
            });
        });
    }
    group.finish();
}

fn fill(c: &mut Criterion) {
    let mut group = c.benchmark_group("tlb/fill");
    group.throughput(Throughput::Elements(ADDRESSES as u64));
    let asid = Asid::new(1);
    // Pages from a 16x larger range than the TLB: almost every fill evicts.
    let pages: Vec<u32> = addresses(0, 1024).iter().map(|va| va.vpn(12).as_u32()).collect();
    for (policy, name) in [
        (Replacement::Lru, "lru"),
        (Replacement::TreePlru, "tree-plru"),
        (Replacement::Fifo, "fifo"),
        (Replacement::Random, "random"),
        (Replacement::Nru, "nru"),
    ] {
        let mut t = tlb(64, 4, policy);
        group.bench_with_input(BenchmarkId::new(name, "64x4"), &pages, |b, pages| {
            b.iter(|| {
                for &vpn in pages {
                    black_box(t.fill(Vpn::new(vpn).base(12), page(vpn), asid));
                }
            });
        });
    }
    group.finish();
}

criterion_group!(benches, lookup, fill);
criterion_main!(benches);
