//! One set-associative TLB array: lookup, fill, replacement and invalidation.
//!
//! Entries are tagged by ASID unless global, and each holds one page size; a TLB
//! that may hold several sizes probes one set per size it currently holds (the
//! smallest first), so a TLB holding only 4 KiB entries scans exactly one set.

use crate::config::{Replacement, Serves, TlbConfig};
use mmu_core::format::MAX_LEVELS;
use mmu_core::{Asid, Cycles, Translation, VirtAddr};
use serde::Serialize;

/// Counters of one TLB.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize)]
pub struct TlbStats {
    /// Lookups (hits + misses).
    pub lookups: u64,
    /// Lookups that found a matching entry.
    pub hits: u64,
    /// Lookups that did not.
    pub misses: u64,
    /// Entries written by fills (new or updated in place).
    pub fills: u64,
    /// Valid entries replaced to make room for a fill.
    pub evictions: u64,
    /// Valid entries removed by invalidations (flushes and shootdowns).
    pub invalidations: u64,
}

// Tag layout: one u64 per entry, so a probe is two integer compares per way.
const VALID: u64 = 1 << 63;
const GLOBAL: u64 = 1 << 62;
const ASID_SHIFT: u32 = 40;
const BITS_SHIFT: u32 = 32;
const ASID_MASK: u64 = 0xffff << ASID_SHIFT;
/// Everything that names the page: valid, size and VPN, but not the address space.
const PAGE_MASK: u64 = VALID | (0xff << BITS_SHIFT) | 0xffff_ffff;

#[inline]
const fn page_key(vpn: u32, page_bits: u8) -> u64 {
    VALID | ((page_bits as u64) << BITS_SHIFT) | vpn as u64
}

/// A set-associative TLB.
pub struct Tlb {
    name: String,
    serves: Serves,
    hit_latency: Cycles,
    ways: usize,
    set_mask: u32,
    /// Tags, set-major: entry `set * ways + way`.
    keys: Vec<u64>,
    /// The cached translations, parallel to `keys`.
    data: Vec<Translation>,
    /// LRU: the tick of each entry's last use.
    last_use: Vec<u64>,
    tick: u64,
    /// The page sizes (log2 bytes) this TLB may hold, smallest first, and how many
    /// valid entries of each it holds now (a size with none is not probed).
    sizes: [u8; MAX_LEVELS],
    size_counts: [u32; MAX_LEVELS],
    size_slots: usize,
    stats: TlbStats,
}

impl Tlb {
    /// An empty TLB from a validated config, holding any of `page_sizes` (log2 bytes).
    ///
    /// # Panics
    /// If `page_sizes` is empty or longer than [`MAX_LEVELS`] (a bug in the caller).
    pub fn new(config: &TlbConfig, page_sizes: &[u8]) -> Self {
        assert!(!page_sizes.is_empty() && page_sizes.len() <= MAX_LEVELS, "1..={MAX_LEVELS} page sizes");
        let entries = config.entries as usize;
        let ways = config.ways as usize;
        let mut sizes = [0; MAX_LEVELS];
        sizes[..page_sizes.len()].copy_from_slice(page_sizes);
        sizes[..page_sizes.len()].sort_unstable();
        match config.replacement {
            Replacement::Lru => {}
        }
        Self {
            name: config.name.clone(),
            serves: config.serves,
            hit_latency: config.hit_latency,
            ways,
            set_mask: (entries / ways) as u32 - 1,
            keys: vec![0; entries],
            data: vec![
                Translation {
                    vpn: mmu_core::Vpn::new(0),
                    page_bits: 0,
                    page_base: mmu_core::PhysAddr::new(0),
                    perms: mmu_core::Perms::NONE,
                    global: false,
                    dirty: false,
                };
                entries
            ],
            last_use: vec![0; entries],
            tick: 0,
            sizes,
            size_counts: [0; MAX_LEVELS],
            size_slots: page_sizes.len(),
            stats: TlbStats::default(),
        }
    }

    /// The name the report uses.
    pub fn name(&self) -> &str {
        &self.name
    }
    /// Which accesses it serves.
    pub fn serves(&self) -> Serves {
        self.serves
    }
    /// Cycles per lookup.
    pub fn hit_latency(&self) -> Cycles {
        self.hit_latency
    }
    /// The counters so far.
    pub fn stats(&self) -> &TlbStats {
        &self.stats
    }
    /// Valid entries now held.
    pub fn occupancy(&self) -> usize {
        self.keys.iter().filter(|&&k| k & VALID != 0).count()
    }

    #[inline]
    fn set_of(&self, vpn: u32) -> usize {
        (vpn & self.set_mask) as usize * self.ways
    }

    /// Looks `vaddr` up for address space `asid`; a hit refreshes the entry's recency.
    #[inline]
    pub fn lookup(&mut self, vaddr: VirtAddr, asid: Asid) -> Option<Translation> {
        self.stats.lookups += 1;
        for s in 0..self.size_slots {
            if self.size_counts[s] == 0 {
                continue;
            }
            let bits = self.sizes[s];
            let vpn = vaddr.vpn(bits).as_u32();
            let base = self.set_of(vpn);
            let local = page_key(vpn, bits) | (u64::from(asid.as_u16()) << ASID_SHIFT);
            let global = page_key(vpn, bits) | GLOBAL;
            let set = &self.keys[base..base + self.ways];
            if let Some(way) = set.iter().position(|&k| k == local || k == global) {
                let i = base + way;
                self.tick += 1;
                self.last_use[i] = self.tick;
                self.stats.hits += 1;
                return Some(self.data[i]);
            }
        }
        self.stats.misses += 1;
        None
    }

    /// Whether this TLB may hold pages of `2^page_bits` bytes.
    pub fn holds_size(&self, page_bits: u8) -> bool {
        self.sizes[..self.size_slots].contains(&page_bits)
    }

    fn size_slot(&self, page_bits: u8) -> Option<usize> {
        self.sizes[..self.size_slots].iter().position(|&b| b == page_bits)
    }

    /// Inserts `t` for `asid`, replacing an entry for the same page and address space
    /// if there is one, else an invalid way, else the policy's victim.
    ///
    /// # Panics
    /// If `t.page_bits` is not a size this TLB holds (the hierarchy checks first).
    pub fn fill(&mut self, t: Translation, asid: Asid) {
        let slot = self.size_slot(t.page_bits).expect("fill of a page size this TLB does not hold");
        let key = if t.global {
            page_key(t.vpn.as_u32(), t.page_bits) | GLOBAL
        } else {
            page_key(t.vpn.as_u32(), t.page_bits) | (u64::from(asid.as_u16()) << ASID_SHIFT)
        };
        let base = self.set_of(t.vpn.as_u32());
        let set = &self.keys[base..base + self.ways];
        let way = match set.iter().position(|&k| k == key) {
            Some(way) => way,
            None => match set.iter().position(|&k| k & VALID == 0) {
                Some(way) => way,
                None => {
                    let way = self.victim(base);
                    self.stats.evictions += 1;
                    self.forget(base + way);
                    way
                }
            },
        };
        let i = base + way;
        if self.keys[i] & VALID == 0 {
            self.size_counts[slot] += 1;
        }
        self.keys[i] = key;
        self.data[i] = t;
        self.tick += 1;
        self.last_use[i] = self.tick;
        self.stats.fills += 1;
    }

    fn victim(&self, base: usize) -> usize {
        let uses = &self.last_use[base..base + self.ways];
        let mut best = 0;
        for (way, &u) in uses.iter().enumerate() {
            if u < uses[best] {
                best = way;
            }
        }
        best
    }

    /// Marks entry `i` invalid, keeping the per-size counts right.
    fn forget(&mut self, i: usize) {
        let key = self.keys[i];
        if key & VALID != 0 {
            let bits = ((key >> BITS_SHIFT) & 0xff) as u8;
            if let Some(slot) = self.size_slot(bits) {
                self.size_counts[slot] -= 1;
            }
            self.keys[i] = 0;
        }
    }

    fn invalidate_where(&mut self, range: core::ops::Range<usize>, pred: impl Fn(u64) -> bool) -> u64 {
        let mut n = 0;
        for i in range {
            if self.keys[i] & VALID != 0 && pred(self.keys[i]) {
                self.forget(i);
                n += 1;
            }
        }
        self.stats.invalidations += n;
        n
    }

    /// Removes every entry (a full flush). Returns how many were valid.
    pub fn invalidate_all(&mut self) -> u64 {
        self.invalidate_where(0..self.keys.len(), |_| true)
    }

    /// Removes the non-global entries of `asid`.
    pub fn invalidate_asid(&mut self, asid: Asid) -> u64 {
        let want = u64::from(asid.as_u16()) << ASID_SHIFT;
        self.invalidate_where(0..self.keys.len(), |k| k & GLOBAL == 0 && k & ASID_MASK == want)
    }

    /// Removes every entry that translates `vaddr`, in any address space, global or not.
    pub fn invalidate_va(&mut self, vaddr: VirtAddr) -> u64 {
        self.invalidate_va_where(vaddr, |_| true)
    }

    /// Removes the non-global entries of `asid` that translate `vaddr`
    /// (`sfence.vma` with both operands: global mappings are kept).
    pub fn invalidate_va_asid(&mut self, vaddr: VirtAddr, asid: Asid) -> u64 {
        let want = u64::from(asid.as_u16()) << ASID_SHIFT;
        self.invalidate_va_where(vaddr, move |k| k & GLOBAL == 0 && k & ASID_MASK == want)
    }

    fn invalidate_va_where(&mut self, vaddr: VirtAddr, pred: impl Fn(u64) -> bool + Copy) -> u64 {
        let mut n = 0;
        for s in 0..self.size_slots {
            let bits = self.sizes[s];
            let vpn = vaddr.vpn(bits).as_u32();
            let base = self.set_of(vpn);
            let page = page_key(vpn, bits);
            n += self.invalidate_where(base..base + self.ways, move |k| k & PAGE_MASK == page && pred(k));
        }
        n
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use mmu_core::{Perms, PhysAddr, Vpn};

    fn config(entries: u32, ways: u32) -> TlbConfig {
        TlbConfig {
            name: "t".into(),
            serves: Serves::Both,
            entries,
            ways,
            hit_latency: Cycles::new(1),
            replacement: Replacement::Lru,
        }
    }

    /// A 4 KiB translation of page `vpn` to frame `vpn + 0x100`.
    fn page(vpn: u32) -> Translation {
        Translation {
            vpn: Vpn::new(vpn),
            page_bits: 12,
            page_base: PhysAddr::new(u64::from(vpn + 0x100) << 12),
            perms: Perms::ALL,
            global: false,
            dirty: true,
        }
    }

    fn va(vpn: u32) -> VirtAddr {
        VirtAddr::new(vpn << 12 | 0x123)
    }

    const A1: Asid = Asid::new(1);
    const A2: Asid = Asid::new(2);

    #[test]
    fn miss_fill_hit() {
        let mut t = Tlb::new(&config(8, 2), &[12, 22]);
        assert_eq!(t.lookup(va(5), A1), None);
        t.fill(page(5), A1);
        let hit = t.lookup(va(5), A1).unwrap();
        assert_eq!(hit.phys_addr(va(5)), PhysAddr::new(0x105_123));
        assert_eq!(t.lookup(va(5), A2), None, "another ASID does not match");
        let s = t.stats();
        assert_eq!((s.lookups, s.hits, s.misses, s.fills, s.evictions), (3, 1, 2, 1, 0));
    }

    #[test]
    fn lru_evicts_the_least_recently_used_way() {
        // 4 sets of 2 ways; pages 0, 4, 8 all map to set 0.
        let mut t = Tlb::new(&config(8, 2), &[12]);
        t.fill(page(0), A1); // set 0: [0]
        t.fill(page(4), A1); // set 0: [0, 4], 0 is LRU
        assert!(t.lookup(va(0), A1).is_some()); // now 4 is LRU
        t.fill(page(8), A1); // evicts 4
        assert!(t.lookup(va(0), A1).is_some());
        assert!(t.lookup(va(8), A1).is_some());
        assert!(t.lookup(va(4), A1).is_none());
        assert_eq!(t.stats().evictions, 1);
        // Other sets were untouched.
        t.fill(page(1), A1);
        assert_eq!(t.stats().evictions, 1);
    }

    #[test]
    fn refill_of_the_same_page_updates_in_place() {
        let mut t = Tlb::new(&config(8, 2), &[12]);
        let mut clean = page(3);
        clean.dirty = false;
        t.fill(clean, A1);
        t.fill(page(3), A1);
        assert_eq!(t.occupancy(), 1);
        assert!(t.lookup(va(3), A1).unwrap().dirty);
    }

    #[test]
    fn global_entries_match_every_asid() {
        let mut t = Tlb::new(&config(8, 2), &[12]);
        let mut g = page(7);
        g.global = true;
        t.fill(g, A1);
        assert!(t.lookup(va(7), A2).is_some());
        assert_eq!(t.invalidate_asid(A1), 0, "flushing an ASID keeps global entries");
        assert_eq!(t.invalidate_va_asid(va(7), A1), 0, "sfence.vma va, asid keeps globals");
        assert_eq!(t.invalidate_va(va(7)), 1);
        assert!(t.lookup(va(7), A2).is_none());
    }

    #[test]
    fn megapage_entries_cover_their_whole_range() {
        let mut t = Tlb::new(&config(8, 2), &[12, 22]);
        let mega = Translation {
            vpn: Vpn::new(1),
            page_bits: 22,
            page_base: PhysAddr::new(0x00c0_0000),
            perms: Perms::ALL,
            global: false,
            dirty: true,
        };
        t.fill(mega, A1);
        for vaddr in [0x0040_0000u32, 0x0040_3abc, 0x007f_fffc] {
            let hit = t.lookup(VirtAddr::new(vaddr), A1).expect("inside the megapage");
            assert_eq!(
                hit.phys_addr(VirtAddr::new(vaddr)).as_u64(),
                0x00c0_0000 | u64::from(vaddr & 0x3f_ffff)
            );
        }
        assert!(t.lookup(VirtAddr::new(0x0080_0000), A1).is_none());
        assert_eq!(
            t.invalidate_va(VirtAddr::new(0x0055_5000)),
            1,
            "any VA inside the megapage shoots it down"
        );
    }

    #[test]
    fn invalidations_by_asid_and_va_are_selective() {
        let mut t = Tlb::new(&config(16, 4), &[12]);
        for vpn in 0..4 {
            t.fill(page(vpn), A1);
            t.fill(page(vpn), A2);
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
        let mut dm = Tlb::new(&config(4, 1), &[12]);
        dm.fill(page(0), A1);
        dm.fill(page(4), A1); // same set, one way: evicts page 0
        assert!(dm.lookup(va(0), A1).is_none());
        let mut fa = Tlb::new(&config(4, 4), &[12]);
        for vpn in [0, 4, 8, 12] {
            fa.fill(page(vpn), A1);
        }
        assert_eq!(fa.stats().evictions, 0);
        assert!(fa.lookup(va(0), A1).is_some());
    }
}
