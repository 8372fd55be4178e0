use super::*;
use crate::array::PolicyRng;
use crate::config::{PageSizes, Replacement};
use mmu_core::PageShift;
use mmu_core::{Perms, PhysAddr, Vpn};
use rand::{RngExt, SeedableRng};

fn config(entries: u32, ways: u32, replacement: Replacement) -> TlbConfig {
    TlbConfig {
        name: "t".into(),
        serves: Serves::Both,
        entries,
        ways,
        hit_latency: Cycles::new(1),
        replacement,
        page_sizes: PageSizes::Any,
    }
}

fn lru(entries: u32, ways: u32) -> Tlb {
    Tlb::new(&config(entries, ways, Replacement::Lru), &[PageShift::new(12), PageShift::new(22)], 0)
}

/// A 4 KiB translation of page `vpn` to frame `vpn + 0x100`.
fn page(vpn: u32) -> Translation {
    Translation {
        vpn: Vpn::new(vpn),
        page_shift: PageShift::new(12),
        page_base: PhysAddr::new(u64::from(vpn + 0x100) << 12),
        perms: Perms::ALL,
        global: false,
        dirty: true,
    }
}

fn va(vpn: u32) -> VirtAddr {
    VirtAddr::new(vpn << 12 | 0x123)
}

fn fill(t: &mut Tlb, vpn: u32) -> Option<u32> {
    t.fill(va(vpn), page(vpn), A1).map(|e| e.translation.vpn.as_u32())
}

fn hit(t: &mut Tlb, vpn: u32) -> bool {
    t.lookup(va(vpn), A1).is_some()
}

const A1: Asid = Asid::new(1);
const A2: Asid = Asid::new(2);

#[test]
fn miss_fill_hit() {
    let mut t = lru(8, 2);
    assert_eq!(t.lookup(va(5), A1), None);
    t.fill(va(5), page(5), A1);
    let hit = t.lookup(va(5), A1).unwrap();
    assert_eq!(hit.phys_addr(va(5)), PhysAddr::new(0x105_123));
    assert_eq!(t.lookup(va(5), A2), None, "another ASID does not match");
    let s = t.stats();
    assert_eq!((s.lookups, s.hits, s.misses, s.fills, s.evictions), (3, 1, 2, 1, 0));
}

// One set of four ways in each hand-worked example below: pages 0, 1, 2, 3 fill
// ways 0, 1, 2, 3 in that order (a fill takes the lowest invalid way).

#[test]
fn lru_by_hand() {
    let mut t = Tlb::new(&config(4, 4, Replacement::Lru), &[PageShift::new(12)], 0);
    for vpn in 0..4 {
        assert_eq!(fill(&mut t, vpn), None);
    }
    // Recency, oldest first: 0 1 2 3. Hit 0: 1 2 3 0.
    assert!(hit(&mut t, 0));
    assert_eq!(fill(&mut t, 4), Some(1)); // 2 3 0 4
    assert!(hit(&mut t, 2)); // 3 0 4 2
    assert_eq!(fill(&mut t, 5), Some(3)); // 0 4 2 5
    // A refill in place is a use: 4 2 5 0.
    assert_eq!(fill(&mut t, 0), None);
    assert_eq!(fill(&mut t, 6), Some(4));
    assert_eq!(t.stats().evictions, 3);
}

#[test]
fn fifo_by_hand() {
    let mut t = Tlb::new(&config(4, 4, Replacement::Fifo), &[PageShift::new(12)], 0);
    for vpn in 0..4 {
        fill(&mut t, vpn);
    }
    // Insertion order 0 1 2 3; hits do not reorder.
    assert!(hit(&mut t, 0));
    assert_eq!(fill(&mut t, 4), Some(0)); // 1 2 3 4
    assert!(hit(&mut t, 1));
    assert_eq!(fill(&mut t, 5), Some(1)); // 2 3 4 5
    // A refill in place keeps its age: 2 is still the oldest.
    assert_eq!(fill(&mut t, 2), None);
    assert_eq!(fill(&mut t, 6), Some(2));
}

#[test]
fn tree_plru_by_hand() {
    // Bits b0 (ways 0-1 | 2-3), b1 (0 | 1), b2 (2 | 3); 0 = victim on the left.
    let mut t = Tlb::new(&config(4, 4, Replacement::TreePlru), &[PageShift::new(12)], 0);
    for vpn in 0..4 {
        fill(&mut t, vpn);
    }
    // Fills touch 0: b0=1 b1=1; 1: b0=1 b1=0; 2: b0=0 b2=1; 3: b0=0 b2=0 -> [0,0,0].
    // Hit 0 (way 0): b0=1 b1=1 -> [1,1,0]: right, then b2=0 -> way 2 (page 2).
    assert!(hit(&mut t, 0));
    assert_eq!(fill(&mut t, 4), Some(2), "true LRU would evict page 1 here");
    // Page 4 in way 2: b0=0 b2=1 -> [0,1,1]: left, b1=1 -> way 1 (page 1).
    assert_eq!(fill(&mut t, 5), Some(1));
    // Page 5 in way 1: b0=1 b1=0 -> [1,0,1]: right, b2=1 -> way 3 (page 3).
    assert_eq!(fill(&mut t, 6), Some(3));
    // Page 6 in way 3: b0=0 b2=0 -> [0,0,0]: left, b1=0 -> way 0 (page 0).
    assert_eq!(fill(&mut t, 7), Some(0));
}

#[test]
fn nru_by_hand() {
    let mut t = Tlb::new(&config(4, 4, Replacement::Nru), &[PageShift::new(12)], 0);
    // Reference bits after each fill: [1000] [1100] [1110], and the fill of way 3
    // would set the last clear bit, so the others clear: [0001].
    for vpn in 0..4 {
        fill(&mut t, vpn);
    }
    // Victim: lowest clear bit, way 0 (page 0); page 4 goes there -> [1001].
    assert_eq!(fill(&mut t, 4), Some(0));
    assert!(hit(&mut t, 1)); // [1101]
    // Victim way 2 (page 2); page 5 there sets the last clear bit -> [0010].
    assert_eq!(fill(&mut t, 5), Some(2));
    // Victim way 0 (page 4).
    assert_eq!(fill(&mut t, 6), Some(4));
    // Invalidating clears the bit, and a fill takes the invalid way first.
    assert_eq!(t.invalidate_va(va(1)), 1);
    assert_eq!(fill(&mut t, 7), None);
}

#[test]
fn random_draws_its_victims_from_the_seeded_stream() {
    // The policy's victim is `random_range(0..ways)` of ChaCha8 seeded with the seed
    // given: replay that stream here and predict every victim from it.
    for seed in [1u64, 2, 99] {
        let mut t = Tlb::new(&config(4, 4, Replacement::Random), &[PageShift::new(12)], seed);
        let mut ways: Vec<u32> = (0..4).collect(); // page held by each way
        for vpn in 0..4 {
            fill(&mut t, vpn);
        }
        let mut rng = PolicyRng::seed_from_u64(seed);
        let mut victims = [0u32; 4];
        for vpn in 4..400 {
            let way = rng.random_range(0..4usize);
            assert_eq!(fill(&mut t, vpn), Some(ways[way]), "seed {seed}, page {vpn}");
            ways[way] = vpn;
            victims[way] += 1;
        }
        // 396 draws over 4 ways: every way is chosen often.
        assert!(victims.iter().all(|&n| n > 60), "{victims:?}");
    }
}

#[test]
fn lru_evicts_the_least_recently_used_way_of_its_own_set() {
    // 4 sets of 2 ways; pages 0, 4, 8 all map to set 0.
    let mut t = lru(8, 2);
    fill(&mut t, 0);
    fill(&mut t, 4);
    assert!(hit(&mut t, 0)); // now 4 is LRU
    assert_eq!(fill(&mut t, 8), Some(4));
    assert!(hit(&mut t, 0));
    assert!(hit(&mut t, 8));
    assert!(!hit(&mut t, 4));
    // Other sets were untouched.
    fill(&mut t, 1);
    assert_eq!(t.stats().evictions, 1);
}

#[test]
fn fully_associative_beyond_sixteen_ways_uses_the_index_and_true_lru() {
    let mut t = lru(64, 64);
    for vpn in 0..64 {
        fill(&mut t, vpn * 7);
    }
    for vpn in (0..64).rev() {
        assert!(hit(&mut t, vpn * 7));
    }
    // Hits ran from page 63*7 down to 0: the LRU is 63*7.
    assert_eq!(fill(&mut t, 1000), Some(63 * 7));
    assert!(!hit(&mut t, 63 * 7));
    assert!(hit(&mut t, 1000));
    assert_eq!(t.invalidate_va(va(0)), 1);
    assert!(!hit(&mut t, 0));
    assert_eq!(t.occupancy(), 63);
}

#[test]
fn refill_of_the_same_page_updates_in_place() {
    let mut t = lru(8, 2);
    let mut clean = page(3);
    clean.dirty = false;
    t.fill(va(3), clean, A1);
    t.fill(va(3), page(3), A1);
    assert_eq!(t.occupancy(), 1);
    assert!(t.lookup(va(3), A1).unwrap().dirty);
}

#[test]
fn global_entries_match_every_asid_and_own_entries_win() {
    let mut t = lru(8, 2);
    let mut g = page(7);
    g.global = true;
    t.fill(va(7), g, A1);
    assert!(t.lookup(va(7), A2).is_some());
    assert_eq!(t.invalidate_asid(A1), 0, "flushing an ASID keeps global entries");
    assert_eq!(t.invalidate_va_asid(va(7), A1), 0, "sfence.vma va, asid keeps globals");
    // An ASID's own entry for the page wins over the global one.
    let mut own = page(7);
    own.page_base = PhysAddr::new(0xabc000);
    t.fill(va(7), own, A2);
    assert_eq!(t.lookup(va(7), A2).unwrap().page_base, PhysAddr::new(0xabc000));
    assert_eq!(t.lookup(va(7), A1).unwrap().page_base, g.page_base);
    assert_eq!(t.invalidate_va(va(7)), 2);
    assert!(t.lookup(va(7), A2).is_none());
}

fn megapage(vpn1: u32, base: u64) -> Translation {
    Translation {
        vpn: Vpn::new(vpn1),
        page_shift: PageShift::new(22),
        page_base: PhysAddr::new(base),
        perms: Perms::ALL,
        global: false,
        dirty: true,
    }
}

#[test]
fn megapage_entries_cover_their_whole_range() {
    let mut t = lru(8, 2);
    t.fill(VirtAddr::new(0x0040_0000), megapage(1, 0x00c0_0000), A1);
    for vaddr in [0x0040_0000u32, 0x0040_3abc, 0x007f_fffc] {
        let hit = t.lookup(VirtAddr::new(vaddr), A1).expect("inside the megapage");
        assert_eq!(hit.phys_addr(VirtAddr::new(vaddr)).as_u64(), 0x00c0_0000 | u64::from(vaddr & 0x3f_ffff));
    }
    assert!(t.lookup(VirtAddr::new(0x0080_0000), A1).is_none());
    assert_eq!(t.invalidate_va(VirtAddr::new(0x0055_5000)), 1, "any VA inside the megapage shoots it down");
}

#[test]
fn a_small_page_tlb_stores_the_touched_piece_of_a_megapage() {
    let config = TlbConfig { page_sizes: PageSizes::Only(vec![4096]), ..config(8, 2, Replacement::Lru) };
    let mut t = Tlb::new(&config, &[PageShift::new(12)], 0);
    assert_eq!(t.stored_size(PageShift::new(22)), Some(PageShift::new(12)));
    // Megapage 1 (VA 0x0040_0000..) at PA 0x00c0_0000; the access is at 0x0043_5678,
    // so the piece is the 4 KiB page 0x435 at PA 0x00c3_5000.
    t.fill(VirtAddr::new(0x0043_5678), megapage(1, 0x00c0_0000), A1);
    let hit = t.lookup(VirtAddr::new(0x0043_5ffc), A1).expect("same 4 KiB piece");
    assert_eq!(hit, megapage(1, 0x00c0_0000), "a hit gives the leaf the piece came from");
    assert_eq!(hit.phys_addr(VirtAddr::new(0x0043_5ffc)), PhysAddr::new(0x00c3_5ffc));
    let piece = t.entries()[0].translation;
    assert_eq!((piece.vpn, piece.page_shift.bits()), (Vpn::new(0x435), 12));
    assert_eq!(piece.page_base, PhysAddr::new(0x00c3_5000));
    assert!(t.lookup(VirtAddr::new(0x0043_6000), A1).is_none(), "another piece was not stored");
    // A 4 MiB-only TLB cannot store a 4 KiB page at all.
    let big = TlbConfig { page_sizes: PageSizes::Only(vec![0x40_0000]), ..config };
    let mut t = Tlb::new(&big, &[PageShift::new(22)], 0);
    assert_eq!(t.stored_size(PageShift::new(12)), None);
    assert_eq!(t.fill(va(1), page(1), A1), None);
    assert_eq!(t.occupancy(), 0);
}

#[test]
fn a_fence_anywhere_in_a_splintered_leaf_removes_every_piece_of_it() {
    // The rule: a fence for an address removes every entry derived from the leaf
    // that maps it. A 4 KiB-only TLB holds pieces 0x400 and 0x401 of megapage 1
    // (A1), piece 0x400 of the same megapage for A2, and 4 KiB leaf 0x402 (A1),
    // which lies in the same 4 MiB region but is a leaf of its own.
    let config = TlbConfig { page_sizes: PageSizes::Only(vec![4096]), ..config(16, 4, Replacement::Lru) };
    let mut t = Tlb::new(&config, &[PageShift::new(12)], 0);
    t.fill(VirtAddr::new(0x0040_0000), megapage(1, 0x0080_0000), A1);
    t.fill(VirtAddr::new(0x0040_1000), megapage(1, 0x0080_0000), A1);
    t.fill(VirtAddr::new(0x0040_0000), megapage(1, 0x0080_0000), A2);
    t.fill(va(0x402), page(0x402), A1);
    assert_eq!(t.occupancy(), 4);
    // A fence of 0x0040_0000 for A1: both of A1's pieces (the one at 0x0040_1000
    // included); A2's piece and the 4 KiB leaf stay.
    assert_eq!(t.invalidate_va_asid(VirtAddr::new(0x0040_0000), A1), 2);
    assert!(t.lookup(VirtAddr::new(0x0040_1234), A1).is_none(), "no stale piece");
    assert!(t.lookup(VirtAddr::new(0x0040_0000), A2).is_some());
    assert!(t.lookup(va(0x402), A1).is_some());
    // A fence at an offset no piece covers still finds the leaf's pieces, in every
    // address space: A2's piece goes, the 4 KiB leaf (not mapping 0x0070_0000) stays.
    assert_eq!(t.invalidate_va(VirtAddr::new(0x0070_0000)), 1);
    assert_eq!(t.occupancy(), 1);
    assert_eq!(t.stats().invalidations, 3);
}

#[test]
fn invalidations_by_asid_and_va_are_selective() {
    let mut t = lru(16, 4);
    for vpn in 0..4 {
        t.fill(va(vpn), page(vpn), A1);
        t.fill(va(vpn), page(vpn), A2);
    }
    assert_eq!(t.occupancy(), 8);
    assert_eq!(t.invalidate_va_asid(va(0), A1), 1);
    assert_eq!(t.invalidate_va(va(1)), 2);
    assert_eq!(t.invalidate_asid(A2), 3);
    assert_eq!(t.occupancy(), 2);
    assert_eq!(t.invalidate_all(), 2);
    assert_eq!(t.stats().invalidations, 8);
}

#[test]
fn direct_mapped_and_fully_associative_extremes() {
    let mut dm = lru(4, 1);
    fill(&mut dm, 0);
    assert_eq!(fill(&mut dm, 4), Some(0), "same set, one way");
    assert!(!hit(&mut dm, 0));
    let mut fa = lru(4, 4);
    for vpn in [0, 4, 8, 12] {
        fill(&mut fa, vpn);
    }
    assert_eq!(fa.stats().evictions, 0);
    assert!(hit(&mut fa, 0));
}

#[test]
fn back_invalidation_removes_every_overlapping_entry_of_the_same_space() {
    let mut t = lru(64, 4);
    // Pieces 0x400, 0x401, 0x7ff of megapage 1 for A1; piece 0x400 for A2; page 5.
    for vpn in [0x400u32, 0x401, 0x7ff] {
        t.fill(va(vpn), page(vpn), A1);
    }
    t.fill(va(0x400), page(0x400), A2);
    t.fill(va(5), page(5), A1);
    assert_eq!(t.back_invalidate(1, PageShift::new(22), Some(A1)), 3);
    assert_eq!(t.occupancy(), 2);
    assert_eq!(t.stats().back_invalidations, 3);
    assert_eq!(t.stats().invalidations, 0, "counted apart from shootdowns");
    // A 4 KiB eviction removes a megapage entry containing it.
    t.fill(VirtAddr::new(0x0080_0000), megapage(2, 0x40_0000), A1);
    assert_eq!(t.back_invalidate(0x812, PageShift::new(12), Some(A1)), 1);
}

/// `explain`'s descriptions, made before each operation from the state alone,
/// say what the operation then does: the probe hits exactly when the lookup does,
/// and the fill takes the way and evicts the entry it named, under every policy
/// (the random one included: its draw is made on a copy of the stream).
#[test]
fn descriptions_of_probes_and_fills_predict_what_happens() {
    for replacement in
        [Replacement::Lru, Replacement::TreePlru, Replacement::Fifo, Replacement::Random, Replacement::Nru]
    {
        let mut t = Tlb::new(&config(16, 4, replacement), &[PageShift::new(12)], 7);
        let mut rng = PolicyRng::seed_from_u64(3);
        for _ in 0..2000 {
            let vpn = rng.random_range(0..40u32);
            let probe = t.describe_probe(va(vpn), A1);
            let Event::TlbProbe { hit: described, .. } = &probe else { panic!("a probe") };
            let was_hit = hit(&mut t, vpn);
            assert_eq!(described.is_some(), was_hit, "{replacement:?}: {probe:?}");
            if !was_hit {
                let Some(Event::TlbFill { choice, way, set, .. }) = t.describe_fill(va(vpn), &page(vpn), A1)
                else {
                    panic!("a 4 KiB page is stored")
                };
                let evicted = fill(&mut t, vpn);
                match choice {
                    FillChoice::Victim { evicted_vpn, .. } => {
                        assert_eq!(evicted.map(u64::from), Some(evicted_vpn.0), "{replacement:?}")
                    }
                    FillChoice::Refill | FillChoice::InvalidWay => {
                        assert_eq!(evicted, None, "{replacement:?}")
                    }
                }
                let after = t.describe_probe(va(vpn), A1);
                let Event::TlbProbe { sizes, .. } = after else { panic!("a probe") };
                assert_eq!((sizes[0].set, sizes[0].hit_way), (set, Some(way)), "{replacement:?}");
            }
        }
    }
}

#[test]
fn a_replayed_hit_counts_and_touches_as_the_lookup_does() {
    // Two TLBs, one replaying the entry `entry_of` found (as the hit lane
    // does), one through `lookup_on`: the same counters and LRU order.
    let (mut fast, mut plain) = (lru(4, 4), lru(4, 4));
    for t in [&mut fast, &mut plain] {
        for vpn in 0..4 {
            fill(t, vpn);
        }
    }
    for vpn in [0, 0, 1, 2, 2, 3, 0, 1] {
        let (entry, t) = fast.entry_of(va(vpn), A1).expect("held");
        fast.hit_again(Side::Data, entry);
        assert_eq!(Some(t), plain.lookup_on(Side::Data, va(vpn), A1), "vpn {vpn}");
        assert_eq!(fast.stats(), plain.stats(), "after vpn {vpn}");
    }
    // The same least recently used pages are the next victims in both.
    assert_eq!(fill(&mut fast, 7), fill(&mut plain, 7));
    assert_eq!(fill(&mut fast, 8), fill(&mut plain, 8));
    assert_eq!(fast.entry_of(va(9), A1), None);
}
