//! TLB benches: lookup hits and misses on a 64-entry 4-way L1, a 64-entry fully
//! associative L1 and a 1536-entry 12-way L2, each holding 4 KiB and 4 MiB sizes as
//! Sv32 requires (only 4 KiB entries are resident, so one set is probed), and fills
//! that evict under each replacement policy. Addresses are generated once per size.

use criterion::{BenchmarkId, Criterion, Throughput, criterion_group, criterion_main};
use mmu_core::PageShift;
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
    Tlb::new(&config, &[PageShift::new(12), PageShift::new(22)], 1)
}

fn page(vpn: u32) -> Translation {
    Translation {
        vpn: Vpn::new(vpn),
        page_shift: PageShift::new(12),
        page_base: PhysAddr::new(u64::from(vpn) << 12),
        perms: Perms::ALL,
        global: false,
        dirty: true,
    }
}

/// A fixed pseudo-random sequence (xorshift, seeded by the size) of word addresses
/// within `pages` pages starting at page `first`.
fn addresses(first: u32, pages: u32) -> Vec<VirtAddr> {
    let mut x = mmu_core::testing::XorShift::new(u64::from(pages) | 1);
    (0..ADDRESSES).map(|_| VirtAddr::new((first << 12) + ((x.next() as u32) % (pages * 1024)) * 4)).collect()
}

/// The foundation's TLB (issue #2: LRU only, no policy dispatch, no index), kept here
/// verbatim in its lookup as the baseline measured in the same process.
mod foundation {
    use mmu_core::{Asid, Translation, VirtAddr};

    const VALID: u64 = 1 << 63;
    const GLOBAL: u64 = 1 << 62;
    const ASID_SHIFT: u32 = 40;
    const BITS_SHIFT: u32 = 32;

    const fn page_key(vpn: u32, page_bits: u8) -> u64 {
        VALID | ((page_bits as u64) << BITS_SHIFT) | vpn as u64
    }

    pub struct Tlb {
        ways: usize,
        set_mask: u32,
        keys: Vec<u64>,
        data: Vec<Translation>,
        last_use: Vec<u64>,
        tick: u64,
        sizes: [u8; 8],
        size_counts: [u32; 8],
        size_slots: usize,
        lookups: u64,
        hits: u64,
        misses: u64,
    }

    impl Tlb {
        /// A TLB holding `pages` (4 KiB, non-global, one ASID), filled in order.
        pub fn filled(entries: usize, ways: usize, pages: &[Translation], asid: Asid) -> Self {
            let mut t = Self {
                ways,
                set_mask: (entries / ways) as u32 - 1,
                keys: vec![0; entries],
                data: vec![pages[0]; entries],
                last_use: vec![0; entries],
                tick: 0,
                sizes: [12, 22, 0, 0, 0, 0, 0, 0],
                size_counts: [0; 8],
                size_slots: 2,
                lookups: 0,
                hits: 0,
                misses: 0,
            };
            for p in pages {
                let vpn = p.vpn.as_u32();
                let base = (vpn & t.set_mask) as usize * ways;
                let way = t.keys[base..base + ways].iter().position(|&k| k & VALID == 0).expect("room");
                t.keys[base + way] = page_key(vpn, 12) | (u64::from(asid.as_u16()) << ASID_SHIFT);
                t.data[base + way] = *p;
                t.size_counts[0] += 1;
            }
            t
        }

        #[inline]
        pub fn lookup(&mut self, vaddr: VirtAddr, asid: Asid) -> Option<Translation> {
            self.lookups += 1;
            for s in 0..self.size_slots {
                if self.size_counts[s] == 0 {
                    continue;
                }
                let bits = self.sizes[s];
                let vpn = vaddr.vpn(mmu_core::PageShift::new(bits)).as_u32();
                let base = (vpn & self.set_mask) as usize * self.ways;
                let local = page_key(vpn, bits) | (u64::from(asid.as_u16()) << ASID_SHIFT);
                let global = page_key(vpn, bits) | GLOBAL;
                let set = &self.keys[base..base + self.ways];
                if let Some(way) = set.iter().position(|&k| k == local || k == global) {
                    let i = base + way;
                    self.tick += 1;
                    self.last_use[i] = self.tick;
                    self.hits += 1;
                    return Some(self.data[i]);
                }
            }
            self.misses += 1;
            None
        }
    }
}

/// The last two: a fully associative lookup must not grow with its ways (issue
/// #11): 65 536 entries fully associative against the same size 4-way.
const GEOMETRIES: [(u32, u32, &str); 5] = [
    (64, 4, "64x4"),
    (64, 64, "64-fully-assoc"),
    (1536, 12, "1536x12"),
    (65536, 4, "65536x4"),
    (65536, 65536, "65536-fully-assoc"),
];

fn lookup(c: &mut Criterion) {
    let mut group = c.benchmark_group("tlb/lookup");
    group.throughput(Throughput::Elements(ADDRESSES as u64));
    let asid = Asid::new(1);
    // The baseline: the foundation's 64x4 TLB on the same addresses.
    let pages: Vec<Translation> = (0..64).map(page).collect();
    let mut base = foundation::Tlb::filled(64, 4, &pages, asid);
    let hits = addresses(0, 64);
    group.bench_with_input(BenchmarkId::new("hit-foundation-baseline", "64x4"), &hits, |b, addrs| {
        b.iter(|| {
            let mut found = 0u32;
            for &va in addrs {
                found += u32::from(base.lookup(black_box(va), asid).is_some());
            }
            assert_eq!(found as usize, ADDRESSES);
            found
        });
    });
    for (entries, ways, name) in GEOMETRIES {
        // Hits: `entries` consecutive pages resident (every set full), every address in them.
        let mut t = tlb(entries, ways, Replacement::Lru);
        for vpn in 0..entries {
            t.fill(Vpn::new(vpn).base(mmu_core::PageShift::new(12)), page(vpn), asid);
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
    let pages: Vec<u32> =
        addresses(0, 1024).iter().map(|va| va.vpn(mmu_core::PageShift::new(12)).as_u32()).collect();
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
                    black_box(t.fill(Vpn::new(vpn).base(mmu_core::PageShift::new(12)), page(vpn), asid));
                }
            });
        });
    }
    group.finish();
}

criterion_group!(benches, lookup, fill);
criterion_main!(benches);
