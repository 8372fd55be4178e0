//! All-associativity simulation: for a fixed number of sets, the LRU misses of
//! every associativity up to a bound in one pass.
//!
//! Hill and Smith, "Evaluating associativity in CPU caches", IEEE Trans. Computers
//! 38(12), 1989: with LRU, a set of `W` ways holds the top `W` keys of that set's
//! own LRU stack, so one stack per set gives per-set stack distances, and a
//! reference misses in the `W`-way cache iff its per-set distance is `W` or more.
//! Keeping each set's stack only `max_ways` deep is exact for every `W <= max_ways`:
//! the top of an LRU stack never depends on what lies below it.
//!
//! Shallow stacks (up to [`SCAN_WAYS`] ways, every TLB's L1 and most L2s) are
//! arrays searched and shifted in place, a few compares per reference and no
//! allocation. Deeper ones are one Fenwick-tree [`LruStack`] per set, O(log n).

use crate::curve::MAX_ENTRIES;
use crate::{GeometryError, LruStack, StackHistogram};

/// The deepest per-set stack kept as an array. A move-to-front over 32 keys reads
/// four adjacent cache lines; a hash probe and a tree walk read about as many, at
/// random, and cost a map per set. (A judgement, not a measurement: the TLBs swept
/// so far have at most 16 ways, far from the threshold.)
pub const SCAN_WAYS: u64 = 32;

/// Each set's stack.
#[derive(Clone, Debug)]
enum Stacks {
    /// `keys[set * ways .. set * ways + depth[set]]`, most recent first.
    Shallow { ways: usize, keys: Vec<u64>, depth: Vec<u32> },
    /// One full stack per set.
    Deep(Vec<LruStack>),
}

/// Per-set LRU stacks of a cache of `sets` sets, giving the misses of every
/// associativity from 1 to `max_ways` in one pass.
///
/// The caller gives each reference's set, the cache's index function applied to
/// its address (for the TLBs of mmu-emu, the low bits of the page number:
/// `vpn & (sets - 1)`). A set number of `sets` or more is reduced modulo `sets`.
///
/// ```
/// let mut sweep = mrc::SetAssocSweep::try_new(2, 3)?;
/// for (set, key) in [(0, 10), (0, 12), (0, 14), (0, 10), (1, 11)] {
///     sweep.reference(set, key);
/// }
/// // Set 0 sees 10, 12, 14, 10: the second 10 is at per-set distance 2, a hit
/// // with 3 ways and a miss with 2.
/// assert_eq!(sweep.misses(3), Some(4));
/// assert_eq!(sweep.misses(2), Some(5));
/// # Ok::<(), mrc::GeometryError>(())
/// ```
#[derive(Clone, Debug)]
pub struct SetAssocSweep {
    sets: u64,
    /// A power-of-two count indexes by a mask, as the TLB does; others by modulo.
    power_of_two: bool,
    max_ways: u64,
    stacks: Stacks,
    histogram: StackHistogram,
}

impl SetAssocSweep {
    /// Empty stacks for `sets` sets, answering associativities 1 ..= `max_ways`.
    /// Takes 8 bytes per entry (`sets * max_ways`) up to [`SCAN_WAYS`] ways, and one
    /// [`LruStack`] per set above.
    ///
    /// # Errors
    /// [`GeometryError::Empty`] if `sets` or `max_ways` is 0,
    /// [`GeometryError::TooLarge`] above [`MAX_ENTRIES`] entries.
    pub fn try_new(sets: u64, max_ways: u64) -> Result<Self, GeometryError> {
        let entries = sets.saturating_mul(max_ways);
        if sets == 0 || max_ways == 0 {
            return Err(GeometryError::Empty { entries, ways: max_ways });
        }
        if entries > MAX_ENTRIES {
            return Err(GeometryError::TooLarge { entries });
        }
        let set_count = usize::try_from(sets).unwrap_or(usize::MAX);
        let stacks = if max_ways <= SCAN_WAYS {
            let ways = max_ways as usize;
            Stacks::Shallow { ways, keys: vec![0; set_count.saturating_mul(ways)], depth: vec![0; set_count] }
        } else {
            Stacks::Deep(vec![LruStack::new(); set_count])
        };
        Ok(Self {
            sets,
            power_of_two: sets.is_power_of_two(),
            max_ways,
            stacks,
            histogram: StackHistogram::with_depth_limit(max_ways),
        })
    }

    /// The number of sets.
    pub fn sets(&self) -> u64 {
        self.sets
    }

    /// The largest associativity answered.
    pub fn max_ways(&self) -> u64 {
        self.max_ways
    }

    /// References `key` in set `set`. Returns its per-set stack distance if below
    /// `max_ways` (`None`: cold, or deeper, a miss at every associativity answered).
    #[inline]
    pub fn reference(&mut self, set: u64, key: u64) -> Option<u64> {
        let set = if self.power_of_two { set & (self.sets - 1) } else { set % self.sets };
        let set = set as usize;
        let distance = match &mut self.stacks {
            Stacks::Shallow { ways, keys, depth } => {
                let ways = *ways;
                let held = depth[set] as usize;
                let stack = &mut keys[set * ways..(set + 1) * ways];
                // Move-to-front in one pass: each key passed shifts down one place,
                // until the referenced key itself is the one shifted out.
                let mut carried = key;
                let mut found = None;
                for (d, slot) in stack[..held].iter_mut().enumerate() {
                    carried = std::mem::replace(slot, carried);
                    if carried == key {
                        found = Some(d as u64);
                        break;
                    }
                }
                if found.is_none() && held < ways {
                    stack[held] = carried;
                    depth[set] += 1;
                }
                found
            }
            Stacks::Deep(stacks) => stacks[set].reference(key),
        };
        match distance {
            // The histogram's depth limit is `max_ways`: it files deeper ones beyond.
            Some(d) => self.histogram.record(Some(d)),
            // A shallow stack cannot tell a cold key from one that fell off.
            None => self.histogram.record_beyond(),
        }
        distance.filter(|&d| d < self.max_ways)
    }

    /// Misses of the `ways`-way LRU cache with these sets; `None` if `ways` is
    /// above `max_ways`. Zero ways miss every reference.
    pub fn misses(&self, ways: u64) -> Option<u64> {
        self.histogram.misses(ways)
    }

    /// References seen.
    pub fn references(&self) -> u64 {
        self.histogram.references()
    }

    /// The per-set distance histogram (cold and deep references are both in
    /// [`StackHistogram::beyond`]).
    pub fn histogram(&self) -> &StackHistogram {
        &self.histogram
    }

    /// Empties every set, as a full flush empties the cache.
    pub fn flush(&mut self) {
        match &mut self.stacks {
            Stacks::Shallow { depth, .. } => depth.fill(0),
            Stacks::Deep(stacks) => stacks.iter_mut().for_each(LruStack::flush),
        }
    }
}
