//! A fixed-size open-addressing hash index from entry tag to entry number, so a
//! highly associative set (a 64-entry fully associative L1) is searched in a probe
//! or two instead of a scan of every way. It stands in for the CAM of real hardware:
//! it changes how fast the model finds an entry, never which entry it finds.
//!
//! Linear probing, Fibonacci hashing of the 64-bit tag, backward-shift deletion (no
//! tombstones), at most half full. Never grows, so lookups and updates never allocate.

const EMPTY: u64 = 0;
const FIBONACCI: u64 = 0x9e37_79b9_7f4a_7c15;

/// Tag -> entry number, for tags that are never 0 (a valid tag has its top bit set).
#[derive(Clone, Debug)]
pub struct TagIndex {
    tags: Vec<u64>,
    entries: Vec<u32>,
    mask: usize,
    shift: u32,
}

impl TagIndex {
    /// An empty index for up to `capacity` tags.
    pub fn new(capacity: usize) -> Self {
        let slots = (capacity * 2).next_power_of_two().max(4);
        Self {
            tags: vec![EMPTY; slots],
            entries: vec![0; slots],
            mask: slots - 1,
            shift: 64 - slots.trailing_zeros(),
        }
    }

    #[inline]
    fn home(&self, tag: u64) -> usize {
        (tag.wrapping_mul(FIBONACCI) >> self.shift) as usize
    }

    /// The entry holding `tag`.
    #[inline]
    pub fn find(&self, tag: u64) -> Option<u32> {
        let mut slot = self.home(tag);
        loop {
            let t = self.tags[slot];
            if t == tag {
                return Some(self.entries[slot]);
            }
            if t == EMPTY {
                return None;
            }
            slot = (slot + 1) & self.mask;
        }
    }

    /// Records that `entry` holds `tag`, which must not be present already.
    pub fn insert(&mut self, tag: u64, entry: u32) {
        debug_assert!(tag != EMPTY && self.find(tag).is_none(), "tags in a TLB are unique");
        let mut slot = self.home(tag);
        while self.tags[slot] != EMPTY {
            slot = (slot + 1) & self.mask;
        }
        self.tags[slot] = tag;
        self.entries[slot] = entry;
    }

    /// Forgets `tag`; shifts later members of its probe run back so no run is broken.
    pub fn remove(&mut self, tag: u64) {
        let mut slot = self.home(tag);
        loop {
            let t = self.tags[slot];
            if t == tag {
                break;
            }
            if t == EMPTY {
                return;
            }
            slot = (slot + 1) & self.mask;
        }
        let mut hole = slot;
        let mut next = slot;
        loop {
            next = (next + 1) & self.mask;
            let t = self.tags[next];
            if t == EMPTY {
                break;
            }
            let home = self.home(t);
            // `t` may fill the hole unless its home lies cyclically in (hole, next].
            let stays = if hole <= next { home > hole && home <= next } else { home > hole || home <= next };
            if !stays {
                self.tags[hole] = t;
                self.entries[hole] = self.entries[next];
                hole = next;
            }
        }
        self.tags[hole] = EMPTY;
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::BTreeMap;

    #[test]
    fn agrees_with_a_map_under_random_inserts_and_removes() {
        let mut index = TagIndex::new(64);
        let mut model: BTreeMap<u64, u32> = BTreeMap::new();
        let mut x: u64 = 0x1234_5678;
        for step in 0..20_000u32 {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            // Few distinct tags, so runs collide, wrap and get removed from often.
            let tag = (1 << 63) | (x % 97);
            match model.get(&tag) {
                Some(_) if x % 3 == 0 => {
                    index.remove(tag);
                    model.remove(&tag);
                }
                None if model.len() < 64 => {
                    index.insert(tag, step);
                    model.insert(tag, step);
                }
                _ => {}
            }
            for probe in 0..97u64 {
                let t = (1 << 63) | probe;
                assert_eq!(index.find(t), model.get(&t).copied(), "step {step} tag {probe}");
            }
        }
    }
}
