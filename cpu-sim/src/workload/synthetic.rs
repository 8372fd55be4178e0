//! Seeded synthetic generators: each isolates one access pattern.

use super::{Access, TraceEvent};
use crate::SimRng;
use mmu_core::{AccessKind, VirtAddr};
use rand::{RngExt, SeedableRng};

fn kind(rng: &mut SimRng, write_percent: u8) -> AccessKind {
    if rng.random_range(0..100u8) < write_percent { AccessKind::Write } else { AccessKind::Read }
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
    fn next(&mut self) -> Option<TraceEvent> {
        self.remaining = self.remaining.checked_sub(1)?;
        let vaddr = VirtAddr::new(self.base.wrapping_add(self.offset));
        self.offset = (self.offset + 4) % self.bytes;
        Some(TraceEvent::Access(Access { kind: kind(&mut self.rng, self.write_percent), vaddr, value: None }))
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
    fn next(&mut self) -> Option<TraceEvent> {
        self.remaining = self.remaining.checked_sub(1)?;
        let word = self.rng.random_range(0..self.words);
        let vaddr = VirtAddr::new(self.base.wrapping_add(word * 4));
        Some(TraceEvent::Access(Access { kind: kind(&mut self.rng, self.write_percent), vaddr, value: None }))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn addrs(it: impl Iterator<Item = TraceEvent>) -> Vec<u32> {
        it.map(|e| match e {
            TraceEvent::Access(a) => a.vaddr.as_u32(),
            TraceEvent::Switch(_) => panic!("generators do not switch"),
        })
        .collect()
    }

    #[test]
    fn sequential_walks_words_and_wraps() {
        assert_eq!(addrs(Sequential::new(0x1000, 12, 5, 0, 1)), [0x1000, 0x1004, 0x1008, 0x1000, 0x1004]);
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
    fn write_percent_is_respected() {
        let writes = Uniform::new(0, 4096, 10_000, 30, 3)
            .filter(|e| matches!(e, TraceEvent::Access(a) if a.kind == AccessKind::Write))
            .count();
        assert!((2700..3300).contains(&writes), "{writes} writes of 10000 at 30%");
        let none = Sequential::new(0, 4096, 1000, 0, 3)
            .filter(|e| matches!(e, TraceEvent::Access(a) if a.kind == AccessKind::Write))
            .count();
        assert_eq!(none, 0);
    }
}
