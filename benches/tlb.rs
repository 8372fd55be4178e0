//! TLB lookup benches: a hit and a miss on a 64-entry 4-way L1 holding 4 KiB and
//! 4 MiB pages (as Sv32 requires), with addresses generated once from a seed.

use criterion::{BenchmarkId, Criterion, Throughput, criterion_group, criterion_main};
use mmu_core::{Asid, Cycles, Perms, PhysAddr, Translation, VirtAddr, Vpn};
use std::hint::black_box;
use tlb::{Replacement, Serves, Tlb, TlbConfig};

const ADDRESSES: usize = 4096;

fn tlb(entries: u32, ways: u32) -> Tlb {
    let config = TlbConfig {
        name: "l1d".into(),
        serves: Serves::Data,
        entries,
        ways,
        hit_latency: Cycles::new(1),
        replacement: Replacement::Lru,
    };
    Tlb::new(&config, &[12, 22])
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
/// within `pages` pages.
fn addresses(pages: u32) -> Vec<VirtAddr> {
    let mut x = u64::from(pages) | 1;
    (0..ADDRESSES)
        .map(|_| {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            VirtAddr::new(((x as u32) % (pages * 1024)) * 4)
        })
        .collect()
}

fn lookup(c: &mut Criterion) {
    let mut group = c.benchmark_group("tlb/lookup");
    group.throughput(Throughput::Elements(ADDRESSES as u64));
    let asid = Asid::new(1);
    for (entries, ways) in [(64u32, 4u32)] {
        // Hits: 64 pages resident, every address inside them.
        let mut t = tlb(entries, ways);
        for vpn in 0..entries {
            t.fill(page(vpn), asid);
        }
        let hits = addresses(entries);
        group.bench_with_input(BenchmarkId::new("hit", format!("{entries}x{ways}")), &hits, |b, addrs| {
            b.iter(|| {
                let mut found = 0u32;
                for &va in addrs {
                    found += u32::from(t.lookup(black_box(va), asid).is_some());
                }
                assert_eq!(found as usize, ADDRESSES);
                found
            });
        });
        // Misses: addresses in pages 1024.. that were never filled.
        let misses: Vec<VirtAddr> =
            addresses(entries).iter().map(|va| VirtAddr::new(va.as_u32() + (1024 << 12))).collect();
        group.bench_with_input(BenchmarkId::new("miss", format!("{entries}x{ways}")), &misses, |b, addrs| {
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

criterion_group!(benches, lookup);
criterion_main!(benches);
