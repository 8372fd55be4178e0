//! References per second of the one-pass structures, against simulating each TLB
//! geometry separately.
//!
//! `cargo run --release -p mrc --example speed [references]` (default 10 M).
//!
//! Two TLB-like streams of 4 KiB pages of one address space: "mix", 60% from 256
//! hot pages, 35% from 16 Ki warm ones and 5% from 1 Mi cold ones (about 400 K
//! distinct pages in 10 M references, a footprint that spills every cache level);
//! and "walk", a random walk that mostly stays on a page or steps forward one or
//! two, with a jump anywhere in 100 K pages 2% of the time (strong locality, as in
//! a real trace). The request is the sweep of issue #12: 8, 16, ..., 1024 entries,
//! each direct-mapped, 4-way and fully associative (24 geometries, 11 distinct
//! set counts). The baseline simulates the 24 geometries one after the other, each
//! with the tag-and-stamp LRU array the `tlb` crate uses (linear search up to 16
//! ways, a hash index above, least stamp as victim), so it is the cost of 24 TLB
//! models without the MMU around them.

use mrc::{Geometry, LruStack, TlbCurve, lru_faults, opt_faults, tlb_key};
use rand::{RngExt, SeedableRng};
use std::collections::HashMap;
use std::hint::black_box;
use std::time::Instant;

fn mix(references: usize, seed: u64) -> Vec<(u64, u64)> {
    let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(seed);
    (0..references)
        .map(|_| {
            let r: f64 = rng.random();
            let vpn: u32 = if r < 0.60 {
                rng.random_range(0..256)
            } else if r < 0.95 {
                rng.random_range(0..16 * 1024)
            } else {
                rng.random_range(0..1024 * 1024)
            };
            (tlb_key(vpn, 12, Some(1)), u64::from(vpn))
        })
        .collect()
}

fn walk(references: usize, seed: u64) -> Vec<(u64, u64)> {
    let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(seed);
    let mut vpn = 0u32;
    (0..references)
        .map(|_| {
            let r: f64 = rng.random();
            if r < 0.02 {
                vpn = rng.random_range(0..100_000);
            } else if r < 0.5 {
                vpn = vpn.wrapping_add(rng.random_range(0..3));
            }
            (tlb_key(vpn, 12, Some(1)), u64::from(vpn))
        })
        .collect()
}

/// The LRU array of `tlb::array::SetAssoc`, stripped to what LRU needs.
struct StampLru {
    ways: usize,
    set_mask: u64,
    tags: Vec<u64>,
    stamps: Vec<u64>,
    index: Option<HashMap<u64, usize>>,
    tick: u64,
    misses: u64,
}

impl StampLru {
    fn new(g: Geometry) -> Self {
        let entries = g.entries as usize;
        Self {
            ways: g.ways as usize,
            set_mask: g.sets() - 1,
            tags: vec![u64::MAX; entries],
            stamps: vec![0; entries],
            index: (g.ways > 16).then(|| HashMap::with_capacity(entries)),
            tick: 0,
            misses: 0,
        }
    }

    fn reference(&mut self, key: u64, vpn: u64) {
        self.tick += 1;
        let base = (vpn & self.set_mask) as usize * self.ways;
        let found = match &self.index {
            Some(index) => index.get(&key).copied(),
            None => self.tags[base..base + self.ways].iter().position(|&t| t == key).map(|w| base + w),
        };
        if let Some(i) = found {
            self.stamps[i] = self.tick;
            return;
        }
        self.misses += 1;
        let set_stamps = &self.stamps[base..base + self.ways];
        let mut victim = 0;
        for (way, &s) in set_stamps.iter().enumerate() {
            if s < set_stamps[victim] {
                victim = way;
            }
        }
        let i = base + victim;
        if let Some(index) = &mut self.index {
            index.remove(&self.tags[i]);
            index.insert(key, i);
        }
        self.tags[i] = key;
        self.stamps[i] = self.tick;
    }
}

fn rate(references: usize, seconds: f64) -> String {
    format!("{:6.1} M references/s", references as f64 / seconds / 1e6)
}

fn main() {
    let references: usize = std::env::args().nth(1).and_then(|a| a.parse().ok()).unwrap_or(10_000_000);
    let mut requested = Vec::new();
    for entries in (3..=10).map(|b| 1u64 << b) {
        requested.extend([
            Geometry::new(entries, 1),
            Geometry::new(entries, 4),
            Geometry::fully_associative(entries),
        ]);
    }
    for (name, refs) in [("mix", mix(references, 12)), ("walk", walk(references, 12))] {
        measure(name, &refs, &requested);
    }
}

fn measure(name: &str, refs: &[(u64, u64)], requested: &[Geometry]) {
    let references = refs.len();
    println!("stream {name}: {references} references, {} geometries", requested.len());

    let start = Instant::now();
    let mut stack = LruStack::new();
    let mut cold = 0u64;
    for &(key, _) in refs {
        cold += u64::from(stack.reference(key).is_none());
    }
    let stack_time = start.elapsed().as_secs_f64();
    println!("  LruStack alone (fully associative, every size): {}", rate(references, stack_time));
    println!("  distinct pages: {}", black_box(cold));

    let start = Instant::now();
    let mut curve = TlbCurve::new(requested).expect("valid geometries");
    for &(key, vpn) in refs {
        curve.reference(key, vpn);
    }
    let points = curve.points();
    let curve_time = start.elapsed().as_secs_f64();
    println!(
        "  TlbCurve, all {} geometries in one pass:     {}",
        requested.len(),
        rate(references, curve_time)
    );

    let start = Instant::now();
    let mut separate = Vec::new();
    for &g in requested {
        let mut sim = StampLru::new(g);
        for &(key, vpn) in refs {
            sim.reference(key, vpn);
        }
        separate.push(sim.misses);
    }
    let separate_time = start.elapsed().as_secs_f64();
    println!(
        "  {} separate stamp-LRU simulations:             {} ({:.1}x the one pass's time)",
        requested.len(),
        rate(references, separate_time),
        separate_time / curve_time
    );
    let agree = points.iter().zip(&separate).all(|(p, &m)| p.misses == m);
    println!("  one pass and separate simulations agree: {agree}");
    for p in &points {
        println!(
            "    {:5} entries {:5} ways {:5} sets: {:6.3}% misses",
            p.entries,
            p.ways,
            p.sets,
            100.0 * p.misses as f64 / p.references.max(1) as f64
        );
    }

    // Page replacement: every frame count up to 1024, on a tenth of the stream.
    let pages: Vec<u64> = refs.iter().take(references / 10).map(|r| r.0).collect();
    let frames: Vec<u64> = (0..=1024).collect();
    let start = Instant::now();
    let lru = lru_faults(&pages, &frames);
    let lru_time = start.elapsed().as_secs_f64();
    let start = Instant::now();
    let opt = opt_faults(&pages, &frames);
    let opt_time = start.elapsed().as_secs_f64();
    println!(
        "  page replacement, {} references, 0..=1024 frames: LRU {}, OPT {}",
        pages.len(),
        rate(pages.len(), lru_time),
        rate(pages.len(), opt_time)
    );
    println!("    faults with 64 frames: LRU {}, OPT {}", lru[64], opt[64]);
}
