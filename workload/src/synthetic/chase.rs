//! Pointer chasing: a linked list over a random cyclic permutation of nodes, the
//! access pattern of a hash-chain or tree walk that defeats every prefetcher and,
//! over enough pages, every TLB.

use crate::{Access, TraceEvent};
use mmu_core::SimRng;
use mmu_core::{AccessKind, VirtAddr};
use rand::{RngExt, SeedableRng};

/// Loads of each node's first word, in list order, starting at node 0.
pub struct PointerChase {
    base: u32,
    node_bytes: u32,
    /// `next[i]` is the node after node `i`: one cycle through every node.
    next: Vec<u32>,
    node: u32,
    remaining: u64,
}

impl PointerChase {
    /// A generator of `accesses` loads over `bytes / node_bytes` nodes (at most
    /// [`super::MAX_CHASE_NODES`], which validation enforces).
    pub fn new(base: u32, bytes: u32, node_bytes: u32, accesses: u64, seed: u64) -> Self {
        let nodes = (bytes / node_bytes.max(4)).max(1);
        let mut rng = SimRng::seed_from_u64(seed);
        // Sattolo's algorithm: like Fisher-Yates but j < i strictly, which yields a
        // uniformly random permutation with a single cycle.
        let mut next: Vec<u32> = (0..nodes).collect();
        for i in (1..nodes as usize).rev() {
            let j = rng.random_range(0..i);
            next.swap(i, j);
        }
        Self { base, node_bytes: node_bytes.max(4), next, node: 0, remaining: accesses }
    }
}

impl Iterator for PointerChase {
    type Item = TraceEvent;
    #[inline]
    fn next(&mut self) -> Option<TraceEvent> {
        self.remaining = self.remaining.checked_sub(1)?;
        let addr = self.base.wrapping_add(self.node.wrapping_mul(self.node_bytes));
        self.node = self.next.get(self.node as usize).copied().unwrap_or(0);
        Some(TraceEvent::Access(Access { kind: AccessKind::Read, vaddr: VirtAddr::new(addr), value: None }))
    }
}

#[cfg(test)]
mod tests {
    use super::super::tests::addrs;
    use super::*;

    #[test]
    fn every_node_once_per_cycle() {
        for (nodes, node_bytes, seed) in
            [(1u32, 64u32, 1u64), (2, 4, 2), (7, 12, 3), (1000, 64, 4), (4096, 4096, 5)]
        {
            let base = 0x1000_0000;
            let a =
                addrs(PointerChase::new(base, nodes * node_bytes, node_bytes, 3 * u64::from(nodes), seed));
            let n = nodes as usize;
            // Every load is the first word of a node.
            assert!(a.iter().all(|&x| (x - base) % node_bytes == 0 && x - base < nodes * node_bytes));
            // The first cycle visits each node exactly once, starting at node 0...
            let mut first: Vec<u32> = a[..n].iter().map(|&x| (x - base) / node_bytes).collect();
            assert_eq!(first[0], 0);
            first.sort_unstable();
            assert_eq!(first, (0..nodes).collect::<Vec<_>>(), "{nodes} nodes");
            // ...and the walk then repeats with period exactly `nodes`.
            assert_eq!(a[..n], a[n..2 * n]);
            assert_eq!(a[..n], a[2 * n..]);
        }
    }

    #[test]
    fn the_order_is_random_and_seeded() {
        let walk = |seed| addrs(PointerChase::new(0, 4096 * 64, 64, 4096, seed));
        assert_eq!(walk(1), walk(1));
        assert_ne!(walk(1), walk(2));
        // Not the identity order: few successive nodes are neighbours.
        let a = walk(1);
        let adjacent = a.windows(2).filter(|w| w[1] == w[0] + 64).count();
        assert!(adjacent < 20, "{adjacent} of 4095 steps go to the next node");
    }
}
