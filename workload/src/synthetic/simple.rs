//! The simple generators: sequential, strided, uniform random and phases of
//! working sets.

use super::{WorkingSet, kind};
use crate::{Access, TraceEvent};
use mmu_core::SimRng;
use mmu_core::VirtAddr;
use rand::{RngExt, SeedableRng};

fn access(rng: &mut SimRng, write_percent: u8, addr: u32) -> TraceEvent {
    TraceEvent::Access(Access { kind: kind(rng, write_percent), vaddr: VirtAddr::new(addr), value: None })
}

/// Word after word from `base`, wrapping after `bytes`.
pub struct Sequential {
    base: u32,
    bytes: u32,
    offset: u32,
    remaining: u64,
    write_percent: u8,
    rng: SimRng,
}

impl Sequential {
    /// A generator of `accesses` accesses; `bytes` is a non-zero multiple of 4.
    pub fn new(base: u32, bytes: u32, accesses: u64, write_percent: u8, seed: u64) -> Self {
        Self { base, bytes, offset: 0, remaining: accesses, write_percent, rng: SimRng::seed_from_u64(seed) }
    }
}

impl Iterator for Sequential {
    type Item = TraceEvent;
    #[inline]
    fn next(&mut self) -> Option<TraceEvent> {
        self.remaining = self.remaining.checked_sub(1)?;
        let addr = self.base.wrapping_add(self.offset);
        // `bytes` may be 2^32 - 4 at most, so `offset + 4` cannot overflow a u64.
        self.offset = ((u64::from(self.offset) + 4) % u64::from(self.bytes)) as u32;
        Some(access(&mut self.rng, self.write_percent, addr))
    }
}

/// From `base`, `stride` bytes at a time, wrapping inside `[base, base + bytes)`.
pub struct Strided {
    base: u32,
    bytes: u64,
    /// The stride reduced into `0..bytes`: a negative stride walks down.
    step: u64,
    offset: u64,
    remaining: u64,
    write_percent: u8,
    rng: SimRng,
}

impl Strided {
    /// A generator of `accesses` accesses; `bytes` is a non-zero multiple of 4 and
    /// `stride` a non-zero multiple of 4.
    pub fn new(base: u32, bytes: u32, stride: i64, accesses: u64, write_percent: u8, seed: u64) -> Self {
        let bytes = u64::from(bytes);
        // rem_euclid of a positive modulus is in 0..bytes, whatever the sign of stride.
        let step = stride.rem_euclid(bytes as i64) as u64;
        Self {
            base,
            bytes,
            step,
            offset: 0,
            remaining: accesses,
            write_percent,
            rng: SimRng::seed_from_u64(seed),
        }
    }
}

impl Iterator for Strided {
    type Item = TraceEvent;
    #[inline]
    fn next(&mut self) -> Option<TraceEvent> {
        self.remaining = self.remaining.checked_sub(1)?;
        let addr = self.base.wrapping_add(self.offset as u32);
        self.offset = (self.offset + self.step) % self.bytes;
        Some(access(&mut self.rng, self.write_percent, addr))
    }
}

/// Words chosen uniformly at random in `[base, base + bytes)`.
pub struct Uniform {
    base: u32,
    words: u32,
    remaining: u64,
    write_percent: u8,
    rng: SimRng,
}

impl Uniform {
    /// A generator of `accesses` accesses; `bytes` is a non-zero multiple of 4.
    pub fn new(base: u32, bytes: u32, accesses: u64, write_percent: u8, seed: u64) -> Self {
        Self { base, words: bytes / 4, remaining: accesses, write_percent, rng: SimRng::seed_from_u64(seed) }
    }
}

impl Iterator for Uniform {
    type Item = TraceEvent;
    #[inline]
    fn next(&mut self) -> Option<TraceEvent> {
        self.remaining = self.remaining.checked_sub(1)?;
        let word = self.rng.random_range(0..self.words);
        let addr = self.base.wrapping_add(word * 4);
        Some(access(&mut self.rng, self.write_percent, addr))
    }
}

/// Phases of working sets: uniform accesses inside each phase's set in turn.
pub struct Phases {
    phases: Vec<WorkingSet>,
    phase: usize,
    remaining: u64,
    write_percent: u8,
    rng: SimRng,
}

impl Phases {
    /// A generator running each of `phases` in turn; every set is valid (word
    /// aligned, a non-zero multiple of 4 bytes).
    pub fn new(phases: &[WorkingSet], write_percent: u8, seed: u64) -> Self {
        let remaining = phases.first().map_or(0, |p| p.accesses);
        Self { phases: phases.to_vec(), phase: 0, remaining, write_percent, rng: SimRng::seed_from_u64(seed) }
    }
}

impl Iterator for Phases {
    type Item = TraceEvent;
    #[inline]
    fn next(&mut self) -> Option<TraceEvent> {
        while self.remaining == 0 {
            self.phase += 1;
            self.remaining = self.phases.get(self.phase)?.accesses;
        }
        self.remaining -= 1;
        let set = self.phases.get(self.phase)?;
        let word = self.rng.random_range(0..set.bytes / 4);
        let addr = set.base.wrapping_add(word * 4);
        Some(access(&mut self.rng, self.write_percent, addr))
    }
}

#[cfg(test)]
mod tests {
    use super::super::tests::addrs;
    use super::*;
    use mmu_core::AccessKind;

    #[test]
    fn sequential_walks_words_and_wraps() {
        assert_eq!(addrs(Sequential::new(0x1000, 12, 5, 0, 1)), [0x1000, 0x1004, 0x1008, 0x1000, 0x1004]);
    }

    #[test]
    fn sequential_over_the_whole_top_of_the_address_space() {
        assert_eq!(addrs(Sequential::new(0xffff_fff8, 8, 3, 0, 1)), [0xffff_fff8, 0xffff_fffc, 0xffff_fff8]);
    }

    #[test]
    fn strided_steps_by_its_stride_modulo_the_region() {
        // By hand: region 0x1000..0x1040 (64 bytes); stride 24: offsets 0, 24, 48,
        // 72 mod 64 = 8, 32, 56, 80 mod 64 = 16.
        assert_eq!(
            addrs(Strided::new(0x1000, 64, 24, 7, 0, 1)),
            [0x1000, 0x1018, 0x1030, 0x1008, 0x1020, 0x1038, 0x1010]
        );
        // A negative stride walks down: offsets 0, -8 mod 64 = 56, 48.
        assert_eq!(addrs(Strided::new(0x1000, 64, -8, 3, 0, 1)), [0x1000, 0x1038, 0x1030]);
        // A stride larger than the region: 4100 mod 4096 = 4.
        assert_eq!(addrs(Strided::new(0, 4096, 4100, 3, 0, 1)), [0, 4, 8]);
    }

    #[test]
    fn strided_property_consecutive_differences_equal_the_stride() {
        for stride in [4i64, 12, 4096, 4100, -4, -65536, 1 << 20] {
            let bytes: u32 = 1 << 22;
            let a = addrs(Strided::new(0x4000_0000, bytes, stride, 5000, 0, 9));
            for w in a.windows(2) {
                let diff = (i64::from(w[1]) - i64::from(w[0])).rem_euclid(i64::from(bytes));
                assert_eq!(diff, stride.rem_euclid(i64::from(bytes)), "stride {stride}");
            }
            assert!(a.iter().all(|&x| (0x4000_0000..0x4000_0000 + bytes).contains(&x)));
        }
    }

    #[test]
    fn uniform_stays_in_range_covers_it_and_is_seeded() {
        let a = addrs(Uniform::new(0x2000, 64, 2000, 0, 7));
        assert!(a.iter().all(|&x| (0x2000..0x2040).contains(&x) && x % 4 == 0));
        let mut seen: Vec<u32> = a.clone();
        seen.sort_unstable();
        seen.dedup();
        assert_eq!(seen.len(), 16, "2000 draws over 16 words hit every word");
        assert_eq!(a, addrs(Uniform::new(0x2000, 64, 2000, 0, 7)), "same seed, same sequence");
        assert_ne!(a, addrs(Uniform::new(0x2000, 64, 2000, 0, 8)), "another seed, another sequence");
    }

    #[test]
    fn uniform_is_flat_by_a_chi_square_test() {
        // 64 words, 64 000 draws: 1000 expected each. The chi-square statistic with
        // 63 degrees of freedom exceeds 103 with probability below 0.1%.
        let a = addrs(Uniform::new(0, 256, 64_000, 0, 11));
        let mut counts = [0u32; 64];
        for x in a {
            counts[(x / 4) as usize] += 1;
        }
        let chi2: f64 = counts.iter().map(|&c| (f64::from(c) - 1000.0).powi(2) / 1000.0).sum();
        assert!(chi2 < 103.0, "chi-square {chi2}");
    }

    #[test]
    fn write_percent_is_respected() {
        let writes = Uniform::new(0, 4096, 10_000, 30, 3)
            .filter(|e| matches!(e, TraceEvent::Access(a) if a.kind == AccessKind::Write))
            .count();
        assert!((2700..3300).contains(&writes), "{writes} writes of 10000 at 30%");
        let none = Sequential::new(0, 4096, 1000, 0, 3)
            .filter(|e| matches!(e, TraceEvent::Access(a) if a.kind == AccessKind::Write))
            .count();
        assert_eq!(none, 0);
        let all = Strided::new(0, 4096, 8, 1000, 100, 3)
            .filter(|e| matches!(e, TraceEvent::Access(a) if a.kind == AccessKind::Write))
            .count();
        assert_eq!(all, 1000);
    }

    #[test]
    fn phases_stay_in_their_working_set_for_their_length() {
        let phases = [
            WorkingSet { base: 0x1000, bytes: 64, accesses: 500 },
            WorkingSet { base: 0x9000, bytes: 32, accesses: 0 },
            WorkingSet { base: 0x20000, bytes: 128, accesses: 700 },
        ];
        let a = addrs(Phases::new(&phases, 0, 5));
        assert_eq!(a.len(), 1200);
        let (first, second) = a.split_at(500);
        assert!(first.iter().all(|&x| (0x1000..0x1040).contains(&x) && x % 4 == 0));
        assert!(second.iter().all(|&x| (0x20000..0x20080).contains(&x) && x % 4 == 0));
        // The working set of each phase is its whole set: 500 draws over 16 words
        // and 700 over 32 miss none.
        let distinct = |s: &[u32]| {
            let mut v = s.to_vec();
            v.sort_unstable();
            v.dedup();
            v.len()
        };
        assert_eq!((distinct(first), distinct(second)), (16, 32));
        assert!(addrs(Phases::new(&[], 0, 5)).is_empty());
    }
}
