//! The histogram of stack distances that a miss-ratio curve is read from.
//!
//! Distances are 0-based: a reference at distance `d` found `d` other keys used
//! since its own last use, so it hits in every LRU (or OPT) cache of more than `d`
//! entries and misses in every smaller one (Mattson et al. 1970, the inclusion
//! property of stack algorithms). Hence misses(size) = cold + #(distance >= size).

use serde::Serialize;
use std::collections::BTreeMap;

/// Distances counted from the start in a depth-limited histogram.
const PREALLOCATED: u64 = 4096;
/// Distances below this are counted in a vector; deeper ones (which only a stack of
/// that many distinct keys produces, or a caller's own numbers) in a map, so that
/// no distance makes the histogram allocate more than 128 MiB.
const DENSE_DISTANCES: u64 = 1 << 24;

/// Counts of references by stack distance, plus cold misses.
///
/// A histogram may have a depth limit: a truncated stack (one that only keeps its
/// top `limit` entries because no larger size was asked for) records a reference
/// it did not find as [`beyond`](Self::beyond), which is a miss for every size up to
/// the limit; it cannot tell a cold miss from a deep one, so its cold count only
/// holds what it recorded as cold.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize)]
pub struct StackHistogram {
    /// `counts[d]`: references at distance `d`, below the depth limit.
    counts: Vec<u64>,
    /// References at distances of [`DENSE_DISTANCES`] or more, below the limit.
    sparse: BTreeMap<u64, u64>,
    /// First references (or first since a flush): a miss at every size.
    cold: u64,
    /// References not found within the depth limit.
    beyond: u64,
    /// Distances at or above this are lumped into `beyond`; `None`: unlimited.
    depth_limit: Option<u64>,
}

impl StackHistogram {
    /// An empty histogram keeping every distance.
    pub fn new() -> Self {
        Self::default()
    }

    /// An empty histogram keeping distances below `depth_limit`, lumping the
    /// others into [`beyond`](Self::beyond): it answers sizes up to `depth_limit`.
    pub fn with_depth_limit(depth_limit: u64) -> Self {
        // Counts for the usual limits (a TLB's ways or entries) up front, so the
        // per-reference path never grows the vector.
        let counts = vec![0; usize::try_from(depth_limit.min(PREALLOCATED)).unwrap_or(0)];
        Self { counts, depth_limit: Some(depth_limit), ..Self::default() }
    }

    /// The largest size this histogram answers for (`None`: every size).
    pub fn depth_limit(&self) -> Option<u64> {
        self.depth_limit
    }

    /// Records one reference at `distance` (`None`: a cold miss).
    #[inline]
    pub fn record(&mut self, distance: Option<u64>) {
        let Some(d) = distance else {
            self.cold += 1;
            return;
        };
        // `counts` never reaches past the depth limit, so a slot found is in range.
        match usize::try_from(d).ok().and_then(|d| self.counts.get_mut(d)) {
            Some(count) => *count += 1,
            None => self.record_deeper(d),
        }
    }

    /// A distance past `counts`: beyond the limit, a new deepest one, or a very
    /// deep one.
    #[cold]
    fn record_deeper(&mut self, distance: u64) {
        if self.depth_limit.is_some_and(|limit| distance >= limit) {
            self.beyond += 1;
        } else if distance >= DENSE_DISTANCES {
            *self.sparse.entry(distance).or_insert(0) += 1;
        } else {
            // Below DENSE_DISTANCES, so the index fits and the vector stays small.
            let d = distance as usize;
            self.counts.resize(d + 1, 0);
            self.counts[d] += 1;
        }
    }

    /// Records one reference a truncated stack did not find in its top entries.
    #[inline]
    pub fn record_beyond(&mut self) {
        self.beyond += 1;
    }

    /// References recorded.
    pub fn references(&self) -> u64 {
        self.cold + self.beyond + self.counts.iter().sum::<u64>() + self.sparse.values().sum::<u64>()
    }

    /// Cold misses recorded (see the type's note on truncated stacks).
    pub fn cold_misses(&self) -> u64 {
        self.cold
    }

    /// References not found within the depth limit.
    pub fn beyond(&self) -> u64 {
        self.beyond
    }

    /// References at exactly distance `distance` (0 at or beyond the depth limit).
    pub fn at(&self, distance: u64) -> u64 {
        let dense = usize::try_from(distance).ok().and_then(|d| self.counts.get(d)).copied();
        dense.or_else(|| self.sparse.get(&distance).copied()).unwrap_or(0)
    }

    /// Misses of an LRU (or OPT, for an OPT stack) cache of `size` entries:
    /// cold + beyond + #(distance >= size). `None` if `size` is above the depth
    /// limit, where the histogram does not know.
    pub fn misses(&self, size: u64) -> Option<u64> {
        if self.depth_limit.is_some_and(|limit| size > limit) {
            return None;
        }
        let below = usize::try_from(size).unwrap_or(usize::MAX).min(self.counts.len());
        let deep: u64 = self.counts[below..].iter().sum();
        let deeper: u64 = self.sparse.range(size..).map(|(_, n)| n).sum();
        Some(self.cold + self.beyond + deep + deeper)
    }

    /// Hits of a cache of `size` entries: references minus misses.
    pub fn hits(&self, size: u64) -> Option<u64> {
        self.misses(size).map(|m| self.references() - m)
    }

    /// Forgets every count, keeping the depth limit.
    pub fn clear(&mut self) {
        self.counts.fill(0);
        self.sparse.clear();
        self.cold = 0;
        self.beyond = 0;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn misses_are_cold_plus_distances_at_or_above_the_size() {
        let mut h = StackHistogram::new();
        for d in [None, None, Some(0), Some(1), Some(1), Some(5)] {
            h.record(d);
        }
        assert_eq!(h.references(), 6);
        assert_eq!(h.misses(0), Some(6));
        assert_eq!(h.misses(1), Some(5)); // 2 cold + 1,1,5
        assert_eq!(h.misses(2), Some(3)); // 2 cold + 5
        assert_eq!(h.misses(6), Some(2));
        assert_eq!(h.misses(u64::MAX), Some(2));
        assert_eq!(h.hits(2), Some(3));
    }

    #[test]
    fn a_depth_limit_answers_only_up_to_the_limit() {
        let mut h = StackHistogram::with_depth_limit(2);
        for d in [Some(0), Some(1), Some(2), Some(9)] {
            h.record(d);
        }
        h.record_beyond();
        assert_eq!(h.beyond(), 3);
        assert_eq!(h.misses(2), Some(3));
        assert_eq!(h.misses(1), Some(4));
        assert_eq!(h.misses(3), None);
    }

    #[test]
    fn any_distance_is_counted_without_a_huge_allocation() {
        let mut h = StackHistogram::new();
        for d in [u64::MAX, u64::MAX, 1 << 40, DENSE_DISTANCES, 3] {
            h.record(Some(d));
        }
        assert_eq!(h.references(), 5);
        assert_eq!(h.at(u64::MAX), 2);
        assert_eq!(h.misses(4), Some(4));
        assert_eq!(h.misses(1 << 40), Some(3));
        assert_eq!(h.misses(u64::MAX), Some(2));
        assert_eq!(h.hits(u64::MAX), Some(3));
        h.clear();
        assert_eq!(h.references(), 0);
    }
}
