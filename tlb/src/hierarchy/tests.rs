use super::*;
use crate::config::{AsidMode, PageSizes, Replacement, Serves, TlbConfig};
use mmu_core::PageShift;
use mmu_core::{Perms, PhysAddr, Vpn};

fn tlb(name: &str, serves: Serves, entries: u32, latency: u64) -> TlbConfig {
    TlbConfig {
        name: name.into(),
        serves,
        entries,
        ways: 2,
        hit_latency: Cycles::new(latency),
        replacement: Replacement::Lru,
        page_sizes: PageSizes::Any,
    }
}

fn config(l1: Vec<TlbConfig>, l2: Option<TlbConfig>, inclusion: Inclusion) -> TlbHierarchyConfig {
    let c = TlbHierarchyConfig { l1, l2, inclusion, asids: AsidMode::Tagged, walk_caches: vec![] };
    c.validate().unwrap();
    c.validate_for_format(&[PageShift::new(12), PageShift::new(22)], 2).unwrap();
    c
}

fn hierarchy() -> TlbHierarchy {
    let c = config(
        vec![tlb("l1i", Serves::Instructions, 4, 1), tlb("l1d", Serves::Data, 4, 2)],
        Some(tlb("l2", Serves::Both, 16, 7)),
        Inclusion::NonInclusive,
    );
    TlbHierarchy::new(&c, &[PageShift::new(12), PageShift::new(22)], 0)
}

fn page(vpn: u32) -> Translation {
    Translation {
        vpn: Vpn::new(vpn),
        page_shift: PageShift::new(12),
        page_base: PhysAddr::new(u64::from(vpn) << 12),
        perms: Perms::ALL,
        global: false,
        dirty: true,
    }
}

fn va(vpn: u32) -> VirtAddr {
    VirtAddr::new(vpn << 12)
}

const A: Asid = Asid::new(1);

fn fill(h: &mut TlbHierarchy, vpn: u32, access: AccessKind) {
    h.fill(va(vpn), page(vpn), A, access);
}

#[test]
fn l1_miss_l2_hit_costs_both_latencies_and_refills_l1() {
    let mut h = hierarchy();
    let miss = h.lookup(Cycle::new(10), va(5), A, AccessKind::Read);
    assert_eq!(miss, HierarchyLookup { translation: None, done_at: Cycle::new(10 + 2 + 7), from_l1: false });
    fill(&mut h, 5, AccessKind::Read);
    // Evict page 5 from the 2-set, 2-way l1d with pages 7 and 9 (odd: set 1).
    fill(&mut h, 7, AccessKind::Read);
    fill(&mut h, 9, AccessKind::Read);
    let l2_hit = h.lookup(Cycle::new(100), va(5), A, AccessKind::Read);
    assert_eq!(l2_hit.translation, Some(page(5)));
    assert_eq!(l2_hit.done_at, Cycle::new(100 + 2 + 7));
    let l1_hit = h.lookup(Cycle::new(200), va(5), A, AccessKind::Read);
    assert_eq!(l1_hit.done_at, Cycle::new(202), "the L2 hit refilled the L1");
}

#[test]
fn fetches_use_the_instruction_side() {
    let mut h = hierarchy();
    fill(&mut h, 1, AccessKind::Fetch);
    let hit = h.lookup(Cycle::ZERO, va(1), A, AccessKind::Fetch);
    assert_eq!(hit.done_at, Cycle::new(1));
    // The data side misses in its L1 but hits in the shared L2.
    let data = h.lookup(Cycle::ZERO, va(1), A, AccessKind::Write);
    assert_eq!(data.done_at, Cycle::new(9));
    let names: Vec<String> = h.stats().into_iter().map(|(n, _)| n).collect();
    assert_eq!(names, ["l1i", "l1d", "l2"]);
}

#[test]
fn invalidation_reaches_every_level_and_counts_operations() {
    let mut h = hierarchy();
    fill(&mut h, 3, AccessKind::Read);
    assert_eq!(h.invalidate_va(va(3)), 2);
    assert!(h.lookup(Cycle::ZERO, va(3), A, AccessKind::Read).translation.is_none());
    fill(&mut h, 3, AccessKind::Read);
    assert_eq!(h.invalidate_va_asid(va(3), Asid::new(2)), 0, "another address space's shootdown");
    assert_eq!(h.invalidate_va_asid(va(3), A), 2);
    fill(&mut h, 4, AccessKind::Fetch);
    assert_eq!(h.invalidate_asid(A), 2);
    fill(&mut h, 4, AccessKind::Fetch);
    assert_eq!(h.invalidate_all(), 2);
    let ops = h.invalidation_stats();
    assert_eq!(
        (ops.all, ops.by_asid, ops.by_va, ops.by_va_asid, ops.context_switch_flushes),
        (1, 1, 1, 2, 0)
    );
}

#[test]
fn a_switch_flush_keeps_global_entries() {
    let mut h = hierarchy();
    let untagged = Asid::new(0);
    h.fill(va(1), page(1), untagged, AccessKind::Read);
    let mut g = page(2);
    g.global = true;
    h.fill(va(2), g, untagged, AccessKind::Read);
    assert_eq!(h.flush_for_switch(untagged), 2, "page 1 from l1d and l2");
    assert!(h.lookup(Cycle::ZERO, va(2), untagged, AccessKind::Read).translation.is_some());
    assert_eq!(h.invalidation_stats().context_switch_flushes, 1);
}

fn split_sizes() -> TlbHierarchy {
    let small = TlbConfig { page_sizes: PageSizes::Only(vec![4096]), ..tlb("l1d", Serves::Data, 4, 1) };
    let big = TlbConfig { page_sizes: PageSizes::Only(vec![0x40_0000]), ..tlb("l1d_4m", Serves::Data, 2, 3) };
    let c = config(vec![small, big], None, Inclusion::NonInclusive);
    TlbHierarchy::new(&c, &[PageShift::new(12), PageShift::new(22)], 0)
}

#[test]
fn split_l1s_take_their_own_sizes_and_cost_the_slower_of_the_two() {
    let mut h = split_sizes();
    let mega = Translation {
        vpn: Vpn::new(1),
        page_shift: PageShift::new(22),
        page_base: PhysAddr::new(0x80_0000),
        ..page(0)
    };
    h.fill(VirtAddr::new(0x0040_1000), mega, A, AccessKind::Read);
    fill(&mut h, 0x900, AccessKind::Read);
    let l1 = h.l1();
    assert_eq!((l1[0].occupancy(), l1[1].occupancy()), (1, 1), "each size in its own TLB");
    // Both probed in parallel: max(1, 3) cycles, and both count the lookup.
    let hit = h.lookup(Cycle::ZERO, VirtAddr::new(0x0070_0000), A, AccessKind::Read);
    assert_eq!(hit.done_at, Cycle::new(3));
    assert_eq!(hit.translation.unwrap().phys_addr(VirtAddr::new(0x0070_0000)), PhysAddr::new(0xb0_0000));
    let stats = h.stats();
    assert_eq!((stats[0].1.lookups, stats[0].1.misses), (1, 1));
    assert_eq!((stats[1].1.lookups, stats[1].1.hits), (1, 1));
}

#[test]
fn an_inclusive_l2_eviction_removes_the_l1_copy() {
    let build = |inclusion| {
        let c = config(
            vec![TlbConfig { ways: 4, ..tlb("l1d", Serves::Data, 4, 1) }],
            Some(TlbConfig { ways: 1, ..tlb("l2", Serves::Both, 4, 5) }),
            inclusion,
        );
        TlbHierarchy::new(&c, &[PageShift::new(12), PageShift::new(22)], 0)
    };
    // The L2 is direct mapped with 4 sets: pages 0 and 4 collide in set 0, while the
    // 4-way L1 holds both.
    for (inclusion, page0_in_l1) in [(Inclusion::NonInclusive, true), (Inclusion::Inclusive, false)] {
        let mut h = build(inclusion);
        fill(&mut h, 0, AccessKind::Read);
        fill(&mut h, 4, AccessKind::Read); // the L2 evicts page 0
        let hit = h.lookup(Cycle::ZERO, va(0), A, AccessKind::Read);
        assert_eq!(hit.done_at == Cycle::new(1), page0_in_l1, "{inclusion:?}");
        let back = h.stats()[0].1.back_invalidations;
        assert_eq!(back, u64::from(!page0_in_l1), "{inclusion:?}");
        // Inclusion holds: every L1 entry is in the L2.
        if inclusion == Inclusion::Inclusive {
            let l2: Vec<_> = h.l2().unwrap().entries();
            for e in h.l1()[0].entries() {
                assert!(l2.contains(&e), "{e:?} is in the L1 but not the L2");
            }
        }
    }
}
