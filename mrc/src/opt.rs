//! Belady's OPT (MIN) page replacement for every frame count in one pass, by
//! Mattson's priority-stack processing.
//!
//! Belady, "A study of replacement algorithms for a virtual-storage computer", IBM
//! Systems Journal 5(2), 1966: on a fault with every frame full, evict the page
//! whose next use is farthest in the future. Mattson et al. 1970 show OPT is a stack
//! algorithm under the priority "sooner next use is higher" and give its update: the
//! referenced key goes to the top, and the key it displaces is carried down the
//! stack; at each position the higher-priority of the carried key and the resident
//! one stays, the other is carried on, until the carried key fills the referenced
//! key's old position (or falls off the bottom on a cold miss). After the update,
//! the top `F` keys are exactly what OPT with `F` frames holds, because the key
//! carried past position `F` is the lowest-priority one of the old top `F`: the
//! one Belady's rule evicts.
//!
//! Priorities are next-use times, so the stack needs the future: [`next_uses`]
//! computes them from the whole sequence. The stack is kept only `max_frames` deep,
//! which is exact for every count up to that (a carry never moves up), so a
//! reference costs O(max_frames) at worst and O(distance) on a hit: with frame
//! counts up to 1024, 3 to 7 M references per second (`examples/speed.rs`), a
//! third of LRU's rate. Ask only for the frame counts wanted: the deepest sets
//! the cost.
//!
//! Ties: several keys never used again all have priority [`NEVER`]. The carried key
//! only displaces a resident one of strictly higher next use, so among equals the
//! resident stays. Any choice gives the same fault counts: a key never used again
//! causes no fault whatever its position, and the positions of the others do not
//! depend on how the tie was broken (each of them is compared by its own, distinct
//! next use).

use crate::StackHistogram;
use crate::hash::KeyMap;

/// The next use of a key never used again.
pub const NEVER: u64 = u64::MAX;

/// For each reference, the index of the next reference to the same key
/// ([`NEVER`] if none): the priorities OPT needs. One backward pass.
pub fn next_uses(references: &[u64]) -> Vec<u64> {
    let mut next_seen: KeyMap<u64> = KeyMap::default();
    let mut next = vec![NEVER; references.len()];
    for (t, &key) in references.iter().enumerate().rev() {
        next[t] = next_seen.insert(key, t as u64).unwrap_or(NEVER);
    }
    next
}

/// The OPT stack, kept `max_frames` deep, fed one reference at a time with the
/// reference's next use.
///
/// Each stack entry is the next-use time of a key, which names it: at time `t` the
/// referenced key is the entry whose next use is `t` (next uses of different keys
/// differ, except [`NEVER`], which is never looked for).
///
/// ```
/// let references = [1, 2, 3, 1, 4, 1, 2];
/// let mut stack = mrc::OptStack::new(2);
/// for &next in &mrc::next_uses(&references) {
///     stack.reference(next);
/// }
/// // Two frames: 1, 2 fault; 3 faults and evicts 2 (used later than 1); 1 hits;
/// // 4 faults and evicts 3 (never used again); 1 hits; 2 faults.
/// assert_eq!(stack.histogram().misses(2), Some(5));
/// ```
#[derive(Clone, Debug)]
pub struct OptStack {
    /// Next uses, the top first; at most `max_frames` long.
    stack: Vec<u64>,
    max_frames: usize,
    /// The index of the next reference.
    now: u64,
    histogram: StackHistogram,
}

impl OptStack {
    /// An empty stack answering frame counts up to `max_frames` (at least 1; a 0
    /// is taken as 1).
    pub fn new(max_frames: u64) -> Self {
        let max_frames = usize::try_from(max_frames).unwrap_or(usize::MAX).max(1);
        Self {
            stack: Vec::new(),
            max_frames,
            now: 0,
            histogram: StackHistogram::with_depth_limit(max_frames as u64),
        }
    }

    /// References the key of the current reference (the `n`-th call is reference
    /// `n`, from 0), whose next use is `next_use` ([`NEVER`] if none). Returns its
    /// OPT stack distance if below `max_frames` (`None`: a fault for every frame
    /// count answered, cold or deeper). The next uses must be those of one
    /// sequence ([`next_uses`]); others give meaningless, but not panicking, counts.
    #[inline]
    pub fn reference(&mut self, next_use: u64) -> Option<u64> {
        let now = self.now;
        self.now += 1;
        let distance = self.update(now, next_use);
        match distance {
            Some(d) => self.histogram.record(Some(d)),
            None => self.histogram.record_beyond(),
        }
        distance
    }

    fn update(&mut self, now: u64, next_use: u64) -> Option<u64> {
        let Some(top) = self.stack.first_mut() else {
            self.stack.push(next_use);
            return None;
        };
        if *top == now {
            *top = next_use;
            return Some(0);
        }
        let mut carried = std::mem::replace(top, next_use);
        for (depth, resident) in self.stack.iter_mut().enumerate().skip(1) {
            if *resident == now {
                *resident = carried;
                return Some(depth as u64);
            }
            // The sooner-used key stays; ties (only NEVER) leave the resident.
            if carried < *resident {
                std::mem::swap(&mut carried, resident);
            }
        }
        if self.stack.len() < self.max_frames {
            self.stack.push(carried);
        }
        None
    }

    /// The distance histogram: faults with `F` frames are `histogram().misses(F)`.
    pub fn histogram(&self) -> &StackHistogram {
        &self.histogram
    }
}

/// OPT page faults for each of `frames`, in one pass over `references`: position
/// `i` of the result is the faults with `frames[i]` frames. Zero frames fault on
/// every reference.
pub fn opt_faults(references: &[u64], frames: &[u64]) -> Vec<u64> {
    opt_faults_after(references, 0, frames)
}

/// [`opt_faults`] counting only the references after the first `warmup`, which
/// fill the stack without counting (a run's warm-up). OPT's choices during the
/// warm-up still look at the whole future, as a run's OPT replacer does.
pub fn opt_faults_after(references: &[u64], warmup: usize, frames: &[u64]) -> Vec<u64> {
    let deepest = frames.iter().copied().max().unwrap_or(0);
    // No stack grows deeper than the number of references.
    let mut stack = OptStack::new(deepest.min(references.len() as u64));
    let warmup = warmup.min(references.len());
    for (t, next) in next_uses(references).into_iter().enumerate() {
        if t == warmup {
            stack.histogram.clear();
        }
        stack.reference(next);
    }
    if warmup == references.len() {
        stack.histogram.clear();
    }
    let all = (references.len() - warmup) as u64;
    let histogram = stack.histogram();
    frames
        .iter()
        .map(|&f| {
            // More frames than the stack's depth limit means more than the references,
            // where only the cold misses fault: the same count as at the limit.
            let limit = histogram.depth_limit().unwrap_or(u64::MAX);
            histogram.misses(f.min(limit)).unwrap_or(all)
        })
        .collect()
}
