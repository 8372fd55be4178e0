//! The TLB hierarchy: the L1 TLB of the access's side, then the unified L2.
//!
//! Non-inclusive: an L2 hit fills the L1, a walk fills both, and an L1 eviction
//! does not touch the L2 nor an L2 eviction the L1.

use crate::config::TlbHierarchyConfig;
use crate::set_assoc::{Tlb, TlbStats};
use mmu_core::{AccessKind, Asid, Cycle, Translation, VirtAddr};

/// The result of looking an address up in the hierarchy.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct HierarchyLookup {
    /// The translation, if some level held it.
    pub translation: Option<Translation>,
    /// When the answer is known: each level looked up adds its latency.
    pub done_at: Cycle,
}

/// L1 TLBs by side plus an optional unified L2.
pub struct TlbHierarchy {
    l1: Vec<Tlb>,
    l2: Option<Tlb>,
    l1_for_fetch: Option<usize>,
    l1_for_data: Option<usize>,
}

impl TlbHierarchy {
    /// Empty TLBs from a validated config, holding any of `page_sizes` (log2 bytes).
    pub fn new(config: &TlbHierarchyConfig, page_sizes: &[u8]) -> Self {
        let l1: Vec<Tlb> = config.l1.iter().map(|c| Tlb::new(c, page_sizes)).collect();
        let side = |is_fetch: bool| l1.iter().position(|t| t.serves().serves(is_fetch));
        let (l1_for_fetch, l1_for_data) = (side(true), side(false));
        Self { l1, l2: config.l2.as_ref().map(|c| Tlb::new(c, page_sizes)), l1_for_fetch, l1_for_data }
    }

    #[inline]
    fn l1_index(&self, access: AccessKind) -> Option<usize> {
        if access.is_fetch() { self.l1_for_fetch } else { self.l1_for_data }
    }

    /// Looks `vaddr` up: the L1 of the access's side, then the L2, each adding its
    /// latency. An L2 hit is copied into the L1.
    #[inline]
    pub fn lookup(&mut self, now: Cycle, vaddr: VirtAddr, asid: Asid, access: AccessKind) -> HierarchyLookup {
        let mut t = now;
        let l1 = self.l1_index(access);
        if let Some(i) = l1 {
            let tlb = &mut self.l1[i];
            t += tlb.hit_latency();
            if let Some(hit) = tlb.lookup(vaddr, asid) {
                return HierarchyLookup { translation: Some(hit), done_at: t };
            }
        }
        if let Some(l2) = &mut self.l2 {
            t += l2.hit_latency();
            if let Some(hit) = l2.lookup(vaddr, asid) {
                if let Some(i) = l1 {
                    if self.l1[i].holds_size(hit.page_bits) {
                        self.l1[i].fill(hit, asid);
                    }
                }
                return HierarchyLookup { translation: Some(hit), done_at: t };
            }
        }
        HierarchyLookup { translation: None, done_at: t }
    }

    /// Installs a walked translation in the L2 and in the L1 of the access's side.
    pub fn fill(&mut self, translation: Translation, asid: Asid, access: AccessKind) {
        if let Some(l2) = &mut self.l2 {
            if l2.holds_size(translation.page_bits) {
                l2.fill(translation, asid);
            }
        }
        if let Some(i) = self.l1_index(access) {
            if self.l1[i].holds_size(translation.page_bits) {
                self.l1[i].fill(translation, asid);
            }
        }
    }

    fn all(&mut self) -> impl Iterator<Item = &mut Tlb> {
        self.l1.iter_mut().chain(self.l2.iter_mut())
    }

    /// Flushes every TLB. Returns the entries removed.
    pub fn invalidate_all(&mut self) -> u64 {
        self.all().map(Tlb::invalidate_all).sum()
    }
    /// Removes the non-global entries of `asid` everywhere.
    pub fn invalidate_asid(&mut self, asid: Asid) -> u64 {
        self.all().map(|t| t.invalidate_asid(asid)).sum()
    }
    /// Removes every entry translating `vaddr` everywhere.
    pub fn invalidate_va(&mut self, vaddr: VirtAddr) -> u64 {
        self.all().map(|t| t.invalidate_va(vaddr)).sum()
    }
    /// Removes the non-global entries of `asid` translating `vaddr` everywhere.
    pub fn invalidate_va_asid(&mut self, vaddr: VirtAddr, asid: Asid) -> u64 {
        self.all().map(|t| t.invalidate_va_asid(vaddr, asid)).sum()
    }

    /// Each TLB's name and counters, L1s in config order, then the L2.
    pub fn stats(&self) -> Vec<(String, TlbStats)> {
        self.l1.iter().chain(self.l2.iter()).map(|t| (t.name().to_string(), t.stats().clone())).collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::{Replacement, Serves, TlbConfig};
    use mmu_core::{Cycles, Perms, PhysAddr, Vpn};

    fn tlb(name: &str, serves: Serves, entries: u32, latency: u64) -> TlbConfig {
        TlbConfig {
            name: name.into(),
            serves,
            entries,
            ways: 2,
            hit_latency: Cycles::new(latency),
            replacement: Replacement::Lru,
        }
    }

    fn hierarchy() -> TlbHierarchy {
        let config = TlbHierarchyConfig {
            l1: vec![tlb("l1i", Serves::Instructions, 4, 1), tlb("l1d", Serves::Data, 4, 2)],
            l2: Some(tlb("l2", Serves::Both, 16, 7)),
        };
        config.validate().unwrap();
        TlbHierarchy::new(&config, &[12, 22])
    }

    fn page(vpn: u32) -> Translation {
        Translation {
            vpn: Vpn::new(vpn),
            page_bits: 12,
            page_base: PhysAddr::new(u64::from(vpn) << 12),
            perms: Perms::ALL,
            global: false,
            dirty: true,
        }
    }

    const A: Asid = Asid::new(1);

    #[test]
    fn l1_miss_l2_hit_costs_both_latencies_and_refills_l1() {
        let mut h = hierarchy();
        let va = VirtAddr::new(0x5000);
        let miss = h.lookup(Cycle::new(10), va, A, AccessKind::Read);
        assert_eq!(miss, HierarchyLookup { translation: None, done_at: Cycle::new(10 + 2 + 7) });
        h.fill(page(5), A, AccessKind::Read);
        // Evict page 5 from the 2-set, 2-way l1d with pages 7 and 9 (odd: set 1).
        h.fill(page(7), A, AccessKind::Read);
        h.fill(page(9), A, AccessKind::Read);
        let l2_hit = h.lookup(Cycle::new(100), va, A, AccessKind::Read);
        assert_eq!(l2_hit.translation, Some(page(5)));
        assert_eq!(l2_hit.done_at, Cycle::new(100 + 2 + 7));
        let l1_hit = h.lookup(Cycle::new(200), va, A, AccessKind::Read);
        assert_eq!(l1_hit.done_at, Cycle::new(202), "the L2 hit refilled the L1");
    }

    #[test]
    fn fetches_use_the_instruction_side() {
        let mut h = hierarchy();
        h.fill(page(1), A, AccessKind::Fetch);
        let hit = h.lookup(Cycle::ZERO, VirtAddr::new(0x1000), A, AccessKind::Fetch);
        assert_eq!(hit.done_at, Cycle::new(1));
        // The data side misses in its L1 but hits in the shared L2.
        let data = h.lookup(Cycle::ZERO, VirtAddr::new(0x1000), A, AccessKind::Write);
        assert_eq!(data.done_at, Cycle::new(9));
        let names: Vec<String> = h.stats().into_iter().map(|(n, _)| n).collect();
        assert_eq!(names, ["l1i", "l1d", "l2"]);
    }

    #[test]
    fn invalidation_reaches_every_level() {
        let mut h = hierarchy();
        h.fill(page(3), A, AccessKind::Read);
        assert_eq!(h.invalidate_va(VirtAddr::new(0x3000)), 2);
        assert!(h.lookup(Cycle::ZERO, VirtAddr::new(0x3000), A, AccessKind::Read).translation.is_none());
    }
}
