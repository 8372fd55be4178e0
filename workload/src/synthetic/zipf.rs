//! Zipfian popularity: the item of rank k is drawn with probability proportional
//! to 1 / k^s.

use super::kind;
use crate::{Access, TraceEvent};
use mmu_core::SimRng;
use mmu_core::VirtAddr;
use rand::{RngExt, SeedableRng};
use rand_distr::Distribution;

/// Zipf-distributed items of a region, a uniform word inside each.
///
/// Sampling is rand_distr's rejection sampler (exact for any item count, O(1)
/// memory); its float maths goes through libm, so the sequence is the same on
/// every host. Rank r (0-based) lives at item `(a·r + c) mod items` with `a`
/// coprime to `items`: a permutation that needs no table, spreading the hot items
/// over the region instead of packing them at its start.
pub struct Zipf {
    base: u32,
    items: u64,
    item_bytes: u32,
    multiplier: u64,
    offset: u64,
    law: rand_distr::Zipf<f64>,
    remaining: u64,
    write_percent: u8,
    rng: SimRng,
}

fn gcd(mut a: u64, mut b: u64) -> u64 {
    while b != 0 {
        (a, b) = (b, a % b);
    }
    a
}

impl Zipf {
    /// A generator of `accesses` accesses over `bytes / item_bytes` items; the
    /// parameters are valid (`item_bytes` a non-zero multiple of 4 dividing
    /// `bytes`, `exponent` in 0..=100).
    pub fn new(
        base: u32,
        bytes: u32,
        item_bytes: u32,
        exponent: f64,
        accesses: u64,
        write_percent: u8,
        seed: u64,
    ) -> Self {
        let items = u64::from(bytes / item_bytes.max(4)).max(1);
        let mut rng = SimRng::seed_from_u64(seed);
        let (multiplier, offset) = if items == 1 {
            (1, 0)
        } else {
            let offset = rng.random_range(0..items);
            loop {
                let a = rng.random_range(1..items);
                if gcd(a, items) == 1 {
                    break (a, offset);
                }
            }
        };
        // Valid configs keep 0 <= s <= 100 and n >= 1, where `new` cannot fail;
        // the fallback (uniform) is only for unvalidated input.
        let law = rand_distr::Zipf::new(items as f64, exponent)
            .or_else(|_| rand_distr::Zipf::new(items as f64, 0.0))
            .expect("a Zipf law over at least one item with s = 0 is well defined");
        Self {
            base,
            items,
            item_bytes: item_bytes.max(4),
            multiplier,
            offset,
            law,
            remaining: accesses,
            write_percent,
            rng,
        }
    }

    /// The item holding popularity rank `rank` (0-based).
    fn item_of_rank(&self, rank: u64) -> u64 {
        // items <= 2^30 and both factors < items, so the product fits in a u64.
        (self.multiplier * rank + self.offset) % self.items
    }
}

impl Iterator for Zipf {
    type Item = TraceEvent;
    #[inline]
    fn next(&mut self) -> Option<TraceEvent> {
        self.remaining = self.remaining.checked_sub(1)?;
        // The sample is an integer-valued float in 1..=items.
        let rank = (self.law.sample(&mut self.rng) as u64).clamp(1, self.items) - 1;
        let item = self.item_of_rank(rank);
        let words = self.item_bytes / 4;
        let word = if words > 1 { self.rng.random_range(0..words) } else { 0 };
        let addr = self.base.wrapping_add((item as u32).wrapping_mul(self.item_bytes)).wrapping_add(word * 4);
        let kind = kind(&mut self.rng, self.write_percent);
        Some(TraceEvent::Access(Access { kind, vaddr: VirtAddr::new(addr), value: None }))
    }
}

#[cfg(test)]
mod tests {
    use super::super::tests::addrs;
    use super::*;
    use std::collections::BTreeMap;

    /// Frequencies of each item, most frequent first.
    fn rank_frequencies(a: &[u32], base: u32, item_bytes: u32) -> Vec<u64> {
        let mut counts: BTreeMap<u32, u64> = BTreeMap::new();
        for &x in a {
            *counts.entry((x - base) / item_bytes).or_default() += 1;
        }
        let mut f: Vec<u64> = counts.into_values().collect();
        f.sort_unstable_by(|x, y| y.cmp(x));
        f
    }

    /// Least-squares slope of log(frequency) against log(rank) over ranks 1..=top.
    fn log_log_slope(freq: &[u64], top: usize) -> f64 {
        let pts: Vec<(f64, f64)> = freq
            .iter()
            .take(top)
            .enumerate()
            .map(|(i, &f)| (((i + 1) as f64).ln(), (f as f64).ln()))
            .collect();
        let n = pts.len() as f64;
        let (sx, sy) = pts.iter().fold((0.0, 0.0), |(a, b), (x, y)| (a + x, b + y));
        let (mx, my) = (sx / n, sy / n);
        let cov: f64 = pts.iter().map(|(x, y)| (x - mx) * (y - my)).sum();
        let var: f64 = pts.iter().map(|(x, _)| (x - mx).powi(2)).sum();
        cov / var
    }

    #[test]
    fn rank_frequency_slope_is_minus_the_exponent() {
        // 1024 items of a page each; 400 000 draws. Over the top 50 ranks the
        // expected count is at least 400 000 / (50^s · H(1024, s)), hundreds per
        // rank, so sampling noise moves the fitted slope by a few hundredths.
        for s in [0.8, 1.0, 1.3] {
            let a = addrs(Zipf::new(0x1000_0000, 1024 * 4096, 4096, s, 400_000, 0, 42));
            assert!(a.iter().all(|&x| (0x1000_0000..0x1040_0000).contains(&x) && x % 4 == 0));
            let slope = log_log_slope(&rank_frequencies(&a, 0x1000_0000, 4096), 50);
            assert!((slope + s).abs() < 0.08, "exponent {s}: fitted slope {slope}");
        }
    }

    #[test]
    fn rank_one_takes_its_share() {
        // s = 1 over 100 items: P(rank 1) = 1 / H(100) = 1 / 5.1874 = 0.1928.
        let a = addrs(Zipf::new(0, 100 * 4, 4, 1.0, 100_000, 0, 3));
        let top = rank_frequencies(&a, 0, 4)[0] as f64 / 100_000.0;
        assert!((top - 0.1928).abs() < 0.006, "rank-1 share {top}");
    }

    #[test]
    fn exponent_zero_is_uniform_and_hot_items_are_scattered() {
        let a = addrs(Zipf::new(0, 16 * 4, 4, 0.0, 16_000, 0, 3));
        let f = rank_frequencies(&a, 0, 4);
        assert_eq!(f.len(), 16);
        assert!(f[0] < 1150 && f[15] > 850, "{f:?}");
        // With s = 2, the hottest item is not simply item 0 for every seed.
        let hottest = |seed| {
            let a = addrs(Zipf::new(0, 1024 * 4, 4, 2.0, 2000, 0, seed));
            let mut counts = vec![0u32; 1024];
            for x in a {
                counts[(x / 4) as usize] += 1;
            }
            (0..1024).max_by_key(|&i| counts[i]).unwrap_or(0)
        };
        let spots: Vec<usize> = (1..6).map(hottest).collect();
        assert!(spots.iter().any(|&i| i != spots[0]), "{spots:?}");
    }

    #[test]
    fn the_rank_to_item_map_is_a_permutation() {
        for items in [1u64, 2, 12, 1000, 1024] {
            let z = Zipf::new(0, (items * 4) as u32, 4, 1.0, 0, 0, items);
            let mut seen: Vec<u64> = (0..items).map(|r| z.item_of_rank(r)).collect();
            seen.sort_unstable();
            assert_eq!(seen, (0..items).collect::<Vec<_>>(), "{items} items");
        }
    }
}
