//! Page-walk caches: per-level caches of pointer PTEs that let the hardware walker
//! skip the upper levels of a walk (the page-structure caches of Barr, Cox and
//! Rixner, ISCA 2010, in their "split" form: one cache per level, tagged by the VA
//! bits that select the cached PTE).
//!
//! An entry of the cache for `pte_level` p maps the VA bits above VPN\[p\]'s lowest
//! bit (`vaddr >> index_shift(p)`), and the address space, to the table at level
//! p - 1 that the PTE points at, with the rights and global bit accumulated so far.
//! All levels are probed in parallel at the start of a walk; the deepest hit wins.
//! Entries are tagged by ASID, or global when a pointer above was global.

use crate::array::{GLOBAL, PAGE_MASK, SPACE_MASK, SetAssoc, page_tag, space_tag, tag_asid, tag_vpn};
use crate::config::WalkCacheConfig;
use crate::hierarchy::name_salt;
use crate::set_assoc::TlbStats;
use mmu_core::event::{Event, Hex};
use mmu_core::walker::{WalkCache, WalkStart};
use mmu_core::{Asid, Cycle, Cycles, Geometry, PageShift, Perms, PhysAddr, Timed, VirtAddr};

/// Salt of the walk caches' random streams (XORed with the run seed and the name's hash).
pub const SALT_WALK_CACHE: u64 = 0x5057_435f_5245_504c;

const EMPTY: WalkStart = WalkStart { level: 0, table: PhysAddr::new(0), perms: Perms::NONE, global: false };

/// One level's cache.
#[derive(Clone, Debug)]
struct Level {
    name: String,
    pte_level: u8,
    /// The span one PTE of `pte_level` maps (`index_shift(pte_level)`): the tag is
    /// the VA's page number at that size.
    shift: PageShift,
    array: SetAssoc<WalkStart>,
}

/// One cached pointer, as listed by [`WalkCaches::entries`].
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct CachedPointer {
    /// The level of the cached PTE.
    pub pte_level: u8,
    /// Its ASID, or `None` if global.
    pub asid: Option<Asid>,
    /// The first virtual address the PTE covers.
    pub vaddr: VirtAddr,
    /// Where a walk continues: the table of level `pte_level - 1`.
    pub start: WalkStart,
}

/// Every configured walk-cache level, consulted by the walker as one [`WalkCache`].
#[derive(Clone, Debug)]
pub struct WalkCaches {
    /// Sorted by `pte_level`, deepest (smallest) first.
    levels: Vec<Level>,
    /// The largest hit latency: levels are probed in parallel.
    latency: Cycles,
    /// Config order of the levels, for the report.
    report_order: Vec<usize>,
    /// Hits and misses per level when the retry under way began.
    retry_mark: Vec<(u64, u64)>,
}

impl WalkCaches {
    /// Empty caches from validated configs, for a page table of `geometry`; random
    /// policies draw from `seed` salted per cache.
    pub fn new(configs: &[WalkCacheConfig], geometry: &Geometry, seed: u64) -> Self {
        let mut order: Vec<usize> = (0..configs.len()).collect();
        order.sort_by_key(|&i| configs[i].pte_level);
        let levels: Vec<Level> = order
            .iter()
            .map(|&i| {
                let c = &configs[i];
                Level {
                    name: c.name.clone(),
                    pte_level: c.pte_level,
                    shift: geometry.leaf_page_shift(c.pte_level),
                    array: SetAssoc::new(
                        c.entries as usize,
                        c.ways as usize,
                        c.replacement,
                        EMPTY,
                        seed ^ SALT_WALK_CACHE ^ name_salt(&c.name),
                    ),
                }
            })
            .collect();
        let mut report_order = vec![0; configs.len()];
        for (pos, &i) in order.iter().enumerate() {
            report_order[i] = pos;
        }
        let latency = configs.iter().map(|c| c.hit_latency).max().unwrap_or(Cycles::ZERO);
        Self { levels, latency, report_order, retry_mark: Vec::new() }
    }

    /// No walk cache at all.
    pub fn none() -> Self {
        Self { levels: Vec::new(), latency: Cycles::ZERO, report_order: Vec::new(), retry_mark: Vec::new() }
    }

    #[inline]
    fn vpn(vaddr: VirtAddr, shift: PageShift) -> u32 {
        vaddr.vpn(shift).as_u32()
    }

    /// Removes every entry. Returns how many were valid.
    pub fn invalidate_all(&mut self) -> u64 {
        self.levels.iter_mut().map(|l| Self::counted(l, 0..l.array.len(), |_| true)).sum()
    }

    /// Removes the non-global entries of `asid`.
    pub fn invalidate_asid(&mut self, asid: Asid) -> u64 {
        let want = space_tag(asid);
        self.levels.iter_mut().map(|l| Self::counted(l, 0..l.array.len(), |t| t & SPACE_MASK == want)).sum()
    }

    /// Removes every entry on the path of `vaddr`, in any address space.
    pub fn invalidate_va(&mut self, vaddr: VirtAddr) -> u64 {
        self.invalidate_va_where(vaddr, |_| true)
    }

    /// Removes the non-global entries of `asid` on the path of `vaddr`.
    pub fn invalidate_va_asid(&mut self, vaddr: VirtAddr, asid: Asid) -> u64 {
        let want = space_tag(asid);
        self.invalidate_va_where(vaddr, move |t| t & SPACE_MASK == want)
    }

    fn invalidate_va_where(&mut self, vaddr: VirtAddr, pred: impl Fn(u64) -> bool + Copy) -> u64 {
        let mut n = 0;
        for l in &mut self.levels {
            let vpn = Self::vpn(vaddr, l.shift);
            let page = page_tag(vpn, l.shift);
            let range = l.array.set_range(vpn);
            n += Self::counted(l, range, move |t| t & PAGE_MASK == page && pred(t));
        }
        n
    }

    fn counted(l: &mut Level, range: core::ops::Range<usize>, pred: impl Fn(u64) -> bool) -> u64 {
        let n = l.array.remove_where(range, pred);
        l.array.stats.invalidations += n;
        n
    }

    /// Zeroes every level's counters, keeping the entries (the end of a warm-up).
    pub fn reset_stats(&mut self) {
        for level in &mut self.levels {
            level.array.reset_stats();
        }
    }

    /// Marks the start of an access re-executed after a page fault: the lookups
    /// until [`WalkCaches::end_retry`] count as retries too.
    pub fn begin_retry(&mut self) {
        self.retry_mark.clear();
        self.retry_mark.extend(self.levels.iter().map(|l| (l.array.stats.hits, l.array.stats.misses)));
    }

    /// Marks the end of the retried access.
    pub fn end_retry(&mut self) {
        for (l, &(hits, misses)) in self.levels.iter_mut().zip(&self.retry_mark) {
            let s = &mut l.array.stats;
            s.retry_lookups += s.hits - hits + s.misses - misses;
            s.retry_misses += s.misses - misses;
        }
    }

    /// Each level's name and counters, in config order.
    pub fn stats(&self) -> Vec<(String, TlbStats)> {
        self.report_order
            .iter()
            .map(|&pos| (self.levels[pos].name.clone(), self.levels[pos].array.stats()))
            .collect()
    }

    /// What the lookup of `vaddr` for `asid` at the start of a walk would find
    /// in each level, from the state now without touching it: one
    /// [`Event::WalkCacheProbe`] per level, deepest first.
    pub fn describe_probes(&self, asid: Asid, vaddr: VirtAddr) -> Vec<Event> {
        self.levels
            .iter()
            .map(|l| {
                let vpn = Self::vpn(vaddr, l.shift);
                Event::WalkCacheProbe {
                    name: l.name.clone(),
                    pte_level: l.pte_level,
                    set: vpn & l.array.set_mask(),
                    tag: Hex(u64::from(vpn)),
                    hit: l.array.find(vpn, l.shift, asid).is_some(),
                }
            })
            .collect()
    }

    /// Every cached pointer (for checkers and tools, not the hot path).
    pub fn entries(&self) -> Vec<CachedPointer> {
        self.levels
            .iter()
            .flat_map(|l| {
                l.array.entries().map(move |(tag, start)| CachedPointer {
                    pte_level: l.pte_level,
                    asid: tag_asid(tag),
                    vaddr: VirtAddr::new(((u64::from(tag_vpn(tag)) << l.shift.bits()) & 0xffff_ffff) as u32),
                    start,
                })
            })
            .collect()
    }
}

impl WalkCache for WalkCaches {
    #[inline]
    fn lookup(&mut self, now: Cycle, asid: Asid, vaddr: VirtAddr) -> Timed<Option<WalkStart>> {
        let mut found = None;
        for l in &mut self.levels {
            let vpn = Self::vpn(vaddr, l.shift);
            match l.array.find(vpn, l.shift, asid) {
                Some(i) => {
                    l.array.touch(i);
                    l.array.stats.hits += 1;
                    // Levels are sorted deepest first: the first hit is the deepest.
                    found = found.or(Some(l.array.value(i)));
                }
                None => l.array.stats.misses += 1,
            }
        }
        Timed { value: found, ready_at: now + self.latency }
    }

    fn fill(&mut self, asid: Asid, vaddr: VirtAddr, start: WalkStart) {
        let pte_level = start.level + 1;
        if let Some(l) = self.levels.iter_mut().find(|l| l.pte_level == pte_level) {
            let space = if start.global { GLOBAL } else { space_tag(asid) };
            let tag = page_tag(Self::vpn(vaddr, l.shift), l.shift) | space;
            let _ = l.array.fill(tag, start);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::Replacement;
    use mmu_core::testing::TestMem;
    use mmu_core::walker::NoWalkCache;
    use mmu_core::{AccessKind, AdUpdate, PageTableFormat, PagingConfig, PrivilegeState, WalkRequest, walk};

    fn pde_cache(entries: u32, ways: u32) -> WalkCaches {
        let config = WalkCacheConfig {
            name: "pde".into(),
            pte_level: 1,
            entries,
            ways,
            hit_latency: Cycles::new(2),
            replacement: Replacement::Lru,
        };
        WalkCaches::new(&[config], PagingConfig::Sv32.build().geometry(), 1)
    }

    /// An Sv32 table at 0x1000 whose root PTE 1 points at a level-0 table at 0x2000,
    /// whose PTE 3 maps frame 0x5 (V R W A D U).
    fn memory() -> TestMem {
        let mut mem = TestMem::new(1 << 20, 10);
        mem.set(0x1000 + 4, (0x2 << 10) | 1);
        mem.set(0x2000 + 3 * 4, (0x5 << 10) | 0b1101_0111);
        mem
    }

    fn request(asid: u16) -> WalkRequest {
        WalkRequest {
            root: PhysAddr::new(0x1000),
            asid: Asid::new(asid),
            vaddr: VirtAddr::new(0x0040_3010), // VPN[1] = 1, VPN[0] = 3
            access: AccessKind::Read,
            state: PrivilegeState::default(),
            ad_update: AdUpdate::Hardware,
        }
    }

    #[test]
    fn a_hit_skips_the_root_pte_read_and_costs_the_cache_latency() {
        let format = PagingConfig::Sv32.build();
        let mut mem = memory();
        let mut cache = pde_cache(16, 4);
        // First walk: probe (2 cycles, miss), root PTE (10), leaf PTE (10) = 22.
        let first = walk(&format, &mut mem, &mut cache, Cycle::ZERO, &request(1));
        assert_eq!((first.pte_reads, first.done_at), (2, Cycle::new(22)));
        // Second walk: probe hits (2), leaf PTE only (10) = 12, reading only 0x200c.
        mem.log.clear();
        let second = walk(&format, &mut mem, &mut cache, Cycle::ZERO, &request(1));
        assert_eq!((second.pte_reads, second.done_at), (1, Cycle::new(12)));
        assert_eq!(mem.reads(), [0x2000 + 12]);
        assert_eq!(second.result, first.result, "the same translation either way");
        let s = &cache.stats()[0].1;
        assert_eq!((s.lookups, s.hits, s.misses, s.fills), (2, 1, 1, 1));
        // The entry is tagged by ASID: another address space misses.
        let other = walk(&format, &mut mem, &mut cache, Cycle::ZERO, &request(2));
        assert_eq!(other.pte_reads, 2);
        // Without a cache the same walk reads both PTEs.
        let plain = walk(&format, &mut memory(), &mut NoWalkCache, Cycle::ZERO, &request(1));
        assert_eq!((plain.pte_reads, plain.done_at), (2, Cycle::new(20)));
    }

    #[test]
    fn invalidation_by_va_drops_the_entry_on_the_path_only() {
        let format = PagingConfig::Sv32.build();
        let mut mem = memory();
        let mut cache = pde_cache(16, 4);
        walk(&format, &mut mem, &mut cache, Cycle::ZERO, &request(1));
        walk(&format, &mut mem, &mut cache, Cycle::ZERO, &request(2));
        assert_eq!(cache.entries().len(), 2);
        let e = cache.entries()[0];
        assert_eq!(
            (e.pte_level, e.vaddr, e.start.table),
            (1, VirtAddr::new(0x0040_0000), PhysAddr::new(0x2000))
        );
        // Another 4 MiB region: nothing on that path.
        assert_eq!(cache.invalidate_va_asid(VirtAddr::new(0x0080_0000), Asid::new(1)), 0);
        assert_eq!(cache.invalidate_va_asid(VirtAddr::new(0x007f_fffc), Asid::new(1)), 1);
        assert_eq!(cache.invalidate_va(VirtAddr::new(0x0040_0000)), 1, "ASID 2's entry");
        assert_eq!(cache.stats()[0].1.invalidations, 2);
        walk(&format, &mut mem, &mut cache, Cycle::ZERO, &request(1));
        assert_eq!(cache.invalidate_asid(Asid::new(1)), 1);
        walk(&format, &mut mem, &mut cache, Cycle::ZERO, &request(1));
        assert_eq!(cache.invalidate_all(), 1);
    }
}
