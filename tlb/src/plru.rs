//! Tree pseudo-LRU state: one binary tree of `ways - 1` bits per set.
//!
//! The nodes of a set are numbered heap-fashion: node 0 is the root, node `n` has
//! children `2n + 1` (the lower half of its ways) and `2n + 2` (the upper half). A
//! bit of 0 says "the next victim is in the lower half", 1 "in the upper half".
//! Using a way sets every bit on its path to point at the other half; the victim is
//! the way reached by following the bits from the root. All bits start at 0, so an
//! untouched set's victim is way 0.
//!
//! Up to 64 ways, each set's tree sits in one 64-bit word of the bit vector, and a
//! use is one masked store: the nodes on each way's path and the values they take
//! are worked out once, when the tree is built.

use bitvec::prelude::{BitVec, Lsb0};

/// The tree-PLRU bits of every set of one array.
#[derive(Clone, Debug)]
pub struct PlruTree {
    bits: BitVec<u64, Lsb0>,
    ways: usize,
    /// Bits per set in `bits`: 64 when a set fits a word, else `ways - 1`.
    stride: usize,
    /// Up to 64 ways: per way, the nodes on its path, and the values a use sets.
    path_nodes: Vec<u64>,
    path_values: Vec<u64>,
}

impl PlruTree {
    /// All-zero trees for `sets` sets of `ways` ways.
    ///
    /// # Panics
    /// If `ways` is not a power of two (validation rejects such configs).
    pub fn new(sets: usize, ways: usize) -> Self {
        assert!(ways.is_power_of_two(), "tree-PLRU needs power-of-two ways, got {ways}");
        let word_per_set = ways <= 64;
        let stride = if word_per_set { 64 } else { ways - 1 };
        let mut tree = Self {
            bits: BitVec::repeat(false, sets * stride),
            ways,
            stride,
            path_nodes: Vec::new(),
            path_values: Vec::new(),
        };
        if word_per_set {
            for way in 0..ways {
                let (mut nodes, mut values) = (0u64, 0u64);
                tree.walk_path(way, |node, upper| {
                    nodes |= 1 << node;
                    values |= u64::from(upper) << node;
                });
                tree.path_nodes.push(nodes);
                tree.path_values.push(values);
            }
        }
        tree
    }

    /// Calls `visit(node, bit)` for each node on `way`'s path with the bit a use of
    /// `way` leaves there (true: the next victim is in the upper half).
    fn walk_path(&self, way: usize, mut visit: impl FnMut(usize, bool)) {
        let (mut node, mut lo, mut span) = (0, 0, self.ways);
        while span > 1 {
            let half = span / 2;
            if way < lo + half {
                // Used the lower half: the next victim is in the upper half.
                visit(node, true);
                node = 2 * node + 1;
            } else {
                visit(node, false);
                node = 2 * node + 2;
                lo += half;
            }
            span = half;
        }
    }

    /// Records a use of `way` in `set`: every node on its path points away from it.
    #[inline]
    pub fn touch(&mut self, set: usize, way: usize) {
        if self.stride == 64 {
            let word = &mut self.bits.as_raw_mut_slice()[set];
            *word = (*word & !self.path_nodes[way]) | self.path_values[way];
            return;
        }
        let base = set * self.stride;
        let mut path = [(0usize, false); 64];
        let mut n = 0;
        self.walk_path(way, |node, bit| {
            path[n] = (node, bit);
            n += 1;
        });
        for &(node, bit) in &path[..n] {
            self.bits.set(base + node, bit);
        }
    }

    /// The way the bits of `set` point at.
    pub fn victim(&self, set: usize) -> usize {
        let base = set * self.stride;
        let (mut node, mut lo, mut span) = (0, 0, self.ways);
        while span > 1 {
            let half = span / 2;
            if self.bits[base + node] {
                node = 2 * node + 2;
                lo += half;
            } else {
                node = 2 * node + 1;
            }
            span = half;
        }
        lo
    }

    /// The bits of `set` in node order (root first), for tests and debugging.
    pub fn set_bits(&self, set: usize) -> Vec<bool> {
        let base = set * self.stride;
        self.bits[base..base + self.ways - 1].iter().map(|b| *b).collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn four_way_bit_updates_by_hand() {
        // Nodes: b0 = root (ways 0-1 vs 2-3), b1 = ways 0 vs 1, b2 = ways 2 vs 3.
        let mut t = PlruTree::new(2, 4);
        assert_eq!(t.victim(0), 0, "all bits 0: left, left");
        t.touch(0, 0); // b0 = 1 (go right), b1 = 1 (go to way 1); b2 untouched = 0
        assert_eq!(t.set_bits(0), [true, true, false]);
        assert_eq!(t.victim(0), 2); // right at b0, then b2 = 0: way 2
        t.touch(0, 2); // b0 = 0, b2 = 1
        assert_eq!(t.set_bits(0), [false, true, true]);
        assert_eq!(t.victim(0), 1); // left at b0, then b1 = 1: way 1
        t.touch(0, 1); // b0 = 1, b1 = 0
        assert_eq!(t.set_bits(0), [true, false, true]);
        assert_eq!(t.victim(0), 3); // right, then b2 = 1: way 3
        t.touch(0, 3); // b0 = 0, b2 = 0
        assert_eq!(t.set_bits(0), [false, false, false]);
        assert_eq!(t.victim(0), 0);
        assert_eq!(t.set_bits(1), [false, false, false], "set 1 was never touched");
    }

    #[test]
    fn eight_way_tree_is_not_true_lru() {
        // Touch 0..8 in order: true LRU would evict 0; each touch flips the root,
        // and after touching 7 the bits lead to way 0 as well.
        let mut t = PlruTree::new(1, 8);
        for w in 0..8 {
            t.touch(0, w);
        }
        assert_eq!(t.victim(0), 0);
        // Now touch 0 then 4: LRU order is 1,2,3,5,6,7,0,4 -> LRU victim 1.
        // PLRU: touch 0 sets root=1, n1=1, n3=1; touch 4 sets root=0, n2=1, n5=1.
        // Victim: root 0 -> n1 = 1 -> upper pair (2,3) at n4; n4 was set by the
        // touch of 3 (pointing at 2's side: 0) -> way 2. PLRU picks 2, not 1.
        t.touch(0, 0);
        t.touch(0, 4);
        assert_eq!(t.victim(0), 2);
    }

    #[test]
    fn trees_wider_than_a_word_follow_the_same_rule() {
        // 128 ways: bits stored packed, updated node by node. Touch ways 0..128 in
        // order: as in the 8-way case every node ends pointing low, so the victim is
        // 0; then a touch of 0 sends it to 64 (root now points high, then all low).
        let mut t = PlruTree::new(2, 128);
        for w in 0..128 {
            t.touch(1, w);
        }
        assert_eq!(t.victim(1), 0);
        t.touch(1, 0);
        assert_eq!(t.victim(1), 64);
        assert_eq!(t.victim(0), 0, "set 0 untouched");
    }

    #[test]
    fn one_way_sets_have_no_bits() {
        let mut t = PlruTree::new(4, 1);
        t.touch(3, 0);
        assert_eq!(t.victim(3), 0);
    }
}
