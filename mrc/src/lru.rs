//! The LRU stack of a fully associative cache: the stack distance of every
//! reference in O(log n), so one pass gives the misses of every size.
//!
//! Mattson et al. 1970 keep the stack as a list and search it, O(n) per reference.
//! Here the stack is implicit: each key remembers the time of its last use, and a
//! Fenwick tree over times marks the times that are some key's last use. The keys
//! above key `k` in the stack are exactly those whose last use is later than `k`'s,
//! so `k`'s distance is the number of marks after its time, one prefix count (the
//! method of Bennett and Kruskal, "LRU stack processing", IBM J. R&D 19(4), 1975,
//! and of Almási, Caşcaval and Padua, "Calculating stack distances efficiently",
//! MSP 2002). Times are slots of a finite axis; when it fills, the live marks are
//! renumbered 0.. in order onto an axis four times as long as the live keys, which
//! keeps every distance. A renumbering costs O(axis) and the new axis lasts three
//! times the live keys in references before the next, so it is amortized O(1).

use crate::StackHistogram;
use crate::fenwick::Fenwick;
use crate::hash::KeyMap;
use std::collections::hash_map::Entry;

/// The smallest time axis: a few cache lines, so tiny streams do not renumber often.
const MIN_SLOTS: usize = 64;
/// The axis after a renumbering holds this many times the live keys.
const SLOTS_PER_KEY: usize = 4;

/// The LRU stack of a fully associative cache, giving each reference's stack
/// distance.
///
/// ```
/// let mut stack = mrc::LruStack::new();
/// assert_eq!(stack.reference(7), None); // cold
/// assert_eq!(stack.reference(8), None);
/// assert_eq!(stack.reference(7), Some(1)); // 8 was used since: a hit with 2 entries or more
/// assert_eq!(stack.reference(7), Some(0));
/// ```
#[derive(Clone, Debug, Default)]
pub struct LruStack {
    /// Each key's last use, a slot of the time axis.
    last_use: KeyMap<usize>,
    /// Marks the slots that are some key's last use.
    marks: Fenwick,
    /// The slot the next reference takes.
    now: usize,
    /// Renumbering's work space, kept to spare an allocation each time.
    scratch: Vec<usize>,
    /// The last key referenced, if not flushed since.
    previous: Option<u64>,
}

impl LruStack {
    /// An empty stack; it allocates on the first reference.
    pub fn new() -> Self {
        Self::default()
    }

    /// Distinct keys referenced (since the last flush): the stack's depth.
    pub fn depth(&self) -> u64 {
        self.last_use.len() as u64
    }

    /// References `key` and moves it to the top. Returns its stack distance, the
    /// number of distinct other keys used since its last use (`None`: never used
    /// before, a cold miss). It hits in every LRU cache of more than that many entries.
    #[inline]
    pub fn reference(&mut self, key: u64) -> Option<u64> {
        if self.previous == Some(key) {
            // Still on top: leaving its last use where it is keeps the order.
            return Some(0);
        }
        self.previous = Some(key);
        if self.now >= self.marks.capacity() {
            self.renumber();
        }
        let now = self.now;
        self.now += 1;
        let live = self.last_use.len() as u64;
        match self.last_use.entry(key) {
            Entry::Occupied(mut last) => {
                let then = std::mem::replace(last.get_mut(), now);
                // The keys used since: the last uses after `then` (`now` is not yet
                // marked), all the live marks but those at or before `then`.
                let distance = live - self.marks.prefix(then);
                self.marks.move_mark(then, now);
                Some(distance)
            }
            Entry::Vacant(slot) => {
                slot.insert(now);
                self.marks.mark(now);
                None
            }
        }
    }

    /// Empties the stack, as a full flush empties a cache: every key's next
    /// reference is cold again.
    pub fn flush(&mut self) {
        self.previous = None;
        self.last_use.clear();
        self.marks.reset_prefix_marked(self.marks.capacity(), 0);
        self.now = 0;
    }

    /// Renumbers the live last uses 0.. in time order onto a fresh axis sized for
    /// the live keys. Keeps the order, hence every future distance.
    #[cold]
    fn renumber(&mut self) {
        // One scratch vector, reused: first 1 for a live slot, then in place each
        // slot's new number, the live slots before it.
        let scratch = &mut self.scratch;
        scratch.clear();
        scratch.resize(self.marks.capacity(), 0);
        for &slot in self.last_use.values() {
            if let Some(live) = scratch.get_mut(slot) {
                *live = 1;
            }
        }
        let mut next = 0;
        for number in scratch.iter_mut() {
            let live = *number;
            *number = next;
            next += live;
        }
        for slot in self.last_use.values_mut() {
            *slot = scratch.get(*slot).copied().unwrap_or(0);
        }
        let live = self.last_use.len();
        let slots = live.saturating_mul(SLOTS_PER_KEY).max(MIN_SLOTS);
        self.marks.reset_prefix_marked(slots, live);
        self.now = live;
    }
}

/// LRU page faults (or misses of a fully associative LRU cache) for each of
/// `frames`, in one pass: position `i` of the result is the faults with `frames[i]`
/// frames. Zero frames fault on every reference.
pub fn lru_faults(references: &[u64], frames: &[u64]) -> Vec<u64> {
    lru_faults_after(references, 0, frames)
}

/// [`lru_faults`] counting only the references after the first `warmup`, which
/// fill the stack without counting (a run's warm-up: its faults are not counted,
/// the frames it fills stay filled).
pub fn lru_faults_after(references: &[u64], warmup: usize, frames: &[u64]) -> Vec<u64> {
    let mut stack = LruStack::new();
    let mut histogram = StackHistogram::new();
    let warmup = warmup.min(references.len());
    for &key in &references[..warmup] {
        stack.reference(key);
    }
    for &key in &references[warmup..] {
        histogram.record(stack.reference(key));
    }
    // An unlimited histogram answers every size.
    frames.iter().map(|&f| histogram.misses(f).unwrap_or(0)).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Mattson's list: the obvious O(n) stack.
    fn list_distances(keys: &[u64]) -> Vec<Option<u64>> {
        let mut list: Vec<u64> = Vec::new();
        keys.iter()
            .map(|&k| {
                let found = list.iter().position(|&x| x == k);
                if let Some(p) = found {
                    list.remove(p);
                }
                list.insert(0, k);
                found.map(|p| p as u64)
            })
            .collect()
    }

    #[test]
    fn distances_survive_many_renumberings() {
        // 3 keys then 200 keys, cycled: the axis renumbers at 64 and grows.
        let keys: Vec<u64> = (0..5_000u64).map(|i| if i < 1_000 { i % 3 } else { (i * 7) % 200 }).collect();
        let mut stack = LruStack::new();
        let got: Vec<_> = keys.iter().map(|&k| stack.reference(k)).collect();
        assert_eq!(got, list_distances(&keys));
        assert_eq!(stack.depth(), 200);
    }

    #[test]
    fn a_flush_makes_every_key_cold_again() {
        let mut stack = LruStack::new();
        stack.reference(1);
        stack.reference(2);
        stack.flush();
        assert_eq!(stack.reference(2), None);
        assert_eq!(stack.reference(1), None);
        assert_eq!(stack.reference(2), Some(1));
    }
}
