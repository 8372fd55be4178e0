//! The hot path does not allocate: TLB lookups (hits and misses, every policy, set
//! scan and hash index), hierarchy lookups with L2 refills, and walk-cache probes
//! are counted by an instrumented global allocator. The binary has no test
//! harness (`harness = false`): `main` is the only thread, so nothing else
//! allocates while it counts (libtest's own thread once did, on a loaded machine).

use mmu_core::PageShift;
use mmu_core::walker::WalkCache;
use mmu_core::{
    AccessKind, Asid, Cycle, Cycles, PageTableFormat, PagingConfig, Perms, PhysAddr, Translation,
};
use mmu_core::{VirtAddr, Vpn, WalkStart};
use stats_alloc::{INSTRUMENTED_SYSTEM, Region, StatsAlloc};
use std::alloc::System;
use std::hint::black_box;
use tlb::{
    AsidMode, Inclusion, PageSizes, Replacement, Serves, Tlb, TlbConfig, TlbHierarchy, TlbHierarchyConfig,
    WalkCacheConfig, WalkCaches,
};

#[global_allocator]
static GLOBAL: &StatsAlloc<System> = &INSTRUMENTED_SYSTEM;

fn config(name: &str, entries: u32, ways: u32, replacement: Replacement) -> TlbConfig {
    TlbConfig {
        name: name.into(),
        serves: Serves::Both,
        entries,
        ways,
        hit_latency: Cycles::new(1),
        replacement,
        page_sizes: PageSizes::Any,
    }
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

fn main() {
    lookups_and_fills_allocate_nothing();
    println!("test lookups_and_fills_allocate_nothing ... ok");
}

fn lookups_and_fills_allocate_nothing() {
    let asid = Asid::new(1);
    let policies =
        [Replacement::Lru, Replacement::TreePlru, Replacement::Fifo, Replacement::Random, Replacement::Nru];
    let mut tlbs: Vec<Tlb> = Vec::new();
    for policy in policies {
        for (entries, ways) in [(64, 4), (64, 64), (1536, 12)] {
            if policy == Replacement::TreePlru && ways == 12 {
                continue;
            }
            tlbs.push(Tlb::new(
                &config("t", entries, ways, policy),
                &[PageShift::new(12), PageShift::new(22)],
                1,
            ));
        }
    }
    let hierarchy_config = TlbHierarchyConfig {
        l1: vec![config("l1", 16, 4, Replacement::Lru)],
        l2: Some(config("l2", 64, 4, Replacement::Lru)),
        inclusion: Inclusion::Inclusive,
        asids: AsidMode::Tagged,
        walk_caches: vec![],
    };
    let mut hierarchy = TlbHierarchy::new(&hierarchy_config, &[PageShift::new(12), PageShift::new(22)], 1);
    let walk_config = WalkCacheConfig {
        name: "pde".into(),
        pte_level: 1,
        entries: 16,
        ways: 4,
        hit_latency: Cycles::new(1),
        replacement: Replacement::Lru,
    };
    let mut walk_caches = WalkCaches::new(&[walk_config], PagingConfig::Sv32.build().geometry(), 1);
    let start = WalkStart { level: 0, table: PhysAddr::new(0x1000), perms: Perms::ALL, global: false };

    let region = Region::new(GLOBAL);
    let mut found = 0u64;
    for t in &mut tlbs {
        // Fills that evict (pages 0..2048 through at most 1536 entries), then hits
        // on the last page filled, then a miss.
        for vpn in 0..2048 {
            black_box(t.fill(Vpn::new(vpn).base(mmu_core::PageShift::new(12)), page(vpn), asid));
        }
        for _ in 0..8 {
            found += u64::from(t.lookup(Vpn::new(2047).base(mmu_core::PageShift::new(12)), asid).is_some());
        }
        found += u64::from(t.lookup(VirtAddr::new(0xfff0_0000), asid).is_some());
    }
    for vpn in 0..256 {
        let va = Vpn::new(vpn).base(mmu_core::PageShift::new(12));
        if hierarchy.lookup(Cycle::ZERO, va, asid, AccessKind::Read).translation.is_none() {
            hierarchy.fill(va, page(vpn), asid, AccessKind::Read);
        }
        found += u64::from(hierarchy.lookup(Cycle::ZERO, va, asid, AccessKind::Read).translation.is_some());
        walk_caches.fill(asid, va, start);
        found += u64::from(walk_caches.lookup(Cycle::ZERO, asid, va).value.is_some());
    }
    hierarchy.invalidate_va_asid(VirtAddr::new(0x5000), asid);
    let change = region.change();
    assert_eq!(
        (change.allocations, change.reallocations),
        (0, 0),
        "the lookup and fill paths allocated: {change:?}"
    );
    assert_eq!(found, tlbs.len() as u64 * 8 + 256 * 2, "every probe meant to hit did");
}
