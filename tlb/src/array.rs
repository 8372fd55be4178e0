//! The set-associative array under every TLB and walk cache: tags, payloads,
//! replacement state and counters. It knows nothing of addresses: callers hand it
//! a page number, the page size it is counted in (log2 bytes) and an address-space
//! tag, and it finds, fills and invalidates entries.

use crate::config::Replacement;
use crate::index::TagIndex;
use crate::plru::PlruTree;
use bitvec::prelude::{BitVec, Lsb0};
use mmu_core::{Asid, PageShift};
use rand::{RngExt, SeedableRng};
use serde::Serialize;

/// The random generator of `Replacement::Random`: the simulator's `SimRng` type,
/// `mmu_core::SimRng` (ChaCha8), seeded by the run seed XOR a per-array salt.
pub type PolicyRng = mmu_core::SimRng;

/// Counters of one TLB or walk cache.
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
    /// Valid entries removed because an inclusive L2 evicted the entry covering
    /// them (the cost of inclusion; always 0 in a non-inclusive hierarchy).
    pub back_invalidations: u64,
    /// Lookups made by accesses re-executed after a page fault (included in
    /// `lookups`): the first try of an access that faults misses, the OS maps the
    /// page, and the retry looks up again, as hardware counters show it.
    pub retry_lookups: u64,
    /// Misses among `retry_lookups`: `misses - retry_misses` counts each reference's
    /// miss once, as a cache simulator does.
    pub retry_misses: u64,
    /// For a TLB serving both sides, the same counters for instruction fetches and
    /// for loads and stores; absent otherwise (and within the sides themselves).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub by_side: Option<Box<BySide>>,
}

/// The counters of a TLB serving both sides, split by side: lookups, hits, misses
/// and retries by the side of the access; fills by the side of the access that
/// filled; evictions, invalidations and back-invalidations by the side whose access
/// brought the removed entry in. Each total is the sum of its two sides.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize)]
pub struct BySide {
    /// Instruction fetches.
    pub instructions: TlbStats,
    /// Loads and stores.
    pub data: TlbStats,
}

impl TlbStats {
    /// The sum of two sets of counters (without `by_side`).
    pub(crate) fn plus(&self, other: &TlbStats) -> TlbStats {
        TlbStats {
            lookups: self.lookups + other.lookups,
            hits: self.hits + other.hits,
            misses: self.misses + other.misses,
            fills: self.fills + other.fills,
            evictions: self.evictions + other.evictions,
            invalidations: self.invalidations + other.invalidations,
            back_invalidations: self.back_invalidations + other.back_invalidations,
            retry_lookups: self.retry_lookups + other.retry_lookups,
            retry_misses: self.retry_misses + other.retry_misses,
            by_side: None,
        }
    }
}

// Tag layout: one u64 per entry, so a probe is two integer compares per way.
pub(crate) const VALID: u64 = 1 << 63;
pub(crate) const GLOBAL: u64 = 1 << 62;
const ASID_SHIFT: u32 = 40;
const ASID_MASK: u64 = 0xffff << ASID_SHIFT;
const BITS_SHIFT: u32 = 32;
/// The address-space part of a tag: the global flag and the ASID.
pub(crate) const SPACE_MASK: u64 = GLOBAL | ASID_MASK;
/// Everything that names the page: valid, size and VPN, but not the address space.
pub(crate) const PAGE_MASK: u64 = VALID | (0xff << BITS_SHIFT) | 0xffff_ffff;

/// The tag part naming page `vpn` of `page` size.
#[inline]
pub(crate) const fn page_tag(vpn: u32, page: PageShift) -> u64 {
    VALID | ((page.bits() as u64) << BITS_SHIFT) | vpn as u64
}

/// The tag part naming address space `asid` (non-global).
#[inline]
pub(crate) const fn space_tag(asid: Asid) -> u64 {
    (asid.as_u16() as u64) << ASID_SHIFT
}

/// The VPN of a tag.
#[inline]
pub(crate) const fn tag_vpn(tag: u64) -> u32 {
    tag as u32
}

/// The page size of a tag.
#[inline]
pub(crate) const fn tag_page(tag: u64) -> PageShift {
    PageShift::new((tag >> BITS_SHIFT) as u8)
}

/// The ASID of a non-global tag, `None` for a global one.
#[inline]
pub(crate) const fn tag_asid(tag: u64) -> Option<Asid> {
    if tag & GLOBAL != 0 { None } else { Some(Asid::new(((tag & ASID_MASK) >> ASID_SHIFT) as u16)) }
}

/// Replacement state beyond LRU's and FIFO's stamps (matched, never boxed behind a
/// trait). The stamps live in the array itself so that an LRU hit, the hot path,
/// is a tick and a store with no indirection.
#[derive(Clone, Debug)]
enum Policy {
    Stamps,
    TreePlru(PlruTree),
    /// Boxed: the generator's 300-odd bytes would bloat every other variant.
    Random(Box<PolicyRng>),
    Nru {
        referenced: BitVec<u64, Lsb0>,
        per_set: Vec<u32>,
    },
}

/// Above this many ways a set is searched through a [`TagIndex`] rather than by
/// comparing every way: scanning 16 tags costs about what one hash probe does.
pub(crate) const SCAN_WAYS: usize = 16;

/// A set-associative array of `T`, tagged by page and address space.
#[derive(Clone, Debug)]
pub(crate) struct SetAssoc<T> {
    ways: usize,
    set_mask: u32,
    /// Tags, set-major: entry `set * ways + way`; 0 is invalid.
    tags: Vec<u64>,
    /// Payloads, parallel to `tags`.
    data: Vec<T>,
    valid_in_set: Vec<u32>,
    /// Valid entries per page size (log2 bytes): a size with none is not probed.
    per_size: [u32; 64],
    /// Bit `b` set when `per_size[b]` is not 0.
    present: u64,
    /// Valid global entries: with none, a lookup does not look for a global tag.
    globals: u32,
    replacement: Replacement,
    /// LRU: a use stamps the entry.
    stamp_on_use: bool,
    /// Tree-PLRU and NRU: a use updates the per-set state.
    track_on_use: bool,
    /// LRU: the tick of each entry's last use; FIFO: of its fill. Empty otherwise.
    stamps: Vec<u64>,
    tick: u64,
    policy: Policy,
    index: Option<TagIndex>,
    pub(crate) stats: TlbStats,
}

/// How a fill will choose its way ([`SetAssoc::preview_fill`]).
pub(crate) enum FillKind {
    /// The same tag is there: rewritten in place.
    Refill,
    /// The lowest invalid way.
    Invalid,
    /// The policy's victim, and why it chose it.
    Victim(String),
}

/// What a fill displaced.
pub(crate) struct Displaced<T> {
    pub tag: u64,
    pub value: T,
}

impl<T: Copy> SetAssoc<T> {
    /// An empty array; `entries / ways` is a power of two (validated). `seed` feeds
    /// the random policy only.
    pub fn new(entries: usize, ways: usize, replacement: Replacement, empty: T, seed: u64) -> Self {
        let sets = entries / ways;
        let policy = match replacement {
            Replacement::Lru | Replacement::Fifo => Policy::Stamps,
            Replacement::TreePlru => Policy::TreePlru(PlruTree::new(sets, ways)),
            Replacement::Random => Policy::Random(Box::new(PolicyRng::seed_from_u64(seed))),
            Replacement::Nru => {
                Policy::Nru { referenced: BitVec::repeat(false, entries), per_set: vec![0; sets] }
            }
        };
        Self {
            ways,
            set_mask: (sets - 1) as u32,
            tags: vec![0; entries],
            data: vec![empty; entries],
            valid_in_set: vec![0; sets],
            per_size: [0; 64],
            present: 0,
            globals: 0,
            replacement,
            stamp_on_use: replacement == Replacement::Lru,
            track_on_use: matches!(replacement, Replacement::TreePlru | Replacement::Nru),
            stamps: match replacement {
                Replacement::Lru | Replacement::Fifo => vec![0; entries],
                Replacement::TreePlru | Replacement::Random | Replacement::Nru => Vec::new(),
            },
            tick: 0,
            policy,
            index: (ways > SCAN_WAYS).then(|| TagIndex::new(entries)),
            stats: TlbStats::default(),
        }
    }

    pub fn ways(&self) -> usize {
        self.ways
    }
    pub fn replacement(&self) -> Replacement {
        self.replacement
    }
    pub fn set_mask(&self) -> u32 {
        self.set_mask
    }

    pub fn sets(&self) -> usize {
        self.set_mask as usize + 1
    }
    pub fn len(&self) -> usize {
        self.tags.len()
    }
    /// Whether some valid entry holds a page of `page` size.
    #[inline]
    pub fn holds_any(&self, page: PageShift) -> bool {
        self.present & (1 << (page.bits() & 63)) != 0
    }

    /// The page sizes with at least one valid entry, as a mask (bit `b`: `2^b` bytes).
    #[inline]
    pub fn present_sizes(&self) -> u64 {
        self.present
    }
    #[inline]
    pub fn tag(&self, i: usize) -> u64 {
        self.tags[i]
    }
    #[inline]
    pub fn value(&self, i: usize) -> T {
        self.data[i]
    }
    #[inline]
    fn set_base(&self, vpn: u32) -> usize {
        (vpn & self.set_mask) as usize * self.ways
    }
    /// The entry numbers of the set page `vpn` maps to.
    pub fn set_range(&self, vpn: u32) -> core::ops::Range<usize> {
        let base = self.set_base(vpn);
        base..base + self.ways
    }

    /// The entry for page `vpn` of `page` size seen from `asid`: its own entry
    /// if there is one, else a global one. Does not count or touch.
    #[inline(always)]
    pub fn find(&self, vpn: u32, page: PageShift, asid: Asid) -> Option<usize> {
        if self.globals == 0 {
            // The common case, kept small enough to inline into the MMU: no global
            // entries (the OS model maps none), so only the ASID's own tag can match.
            let local = page_tag(vpn, page) | space_tag(asid);
            if let Some(index) = &self.index {
                return index.find(local).map(|i| i as usize);
            }
            let base = self.set_base(vpn);
            return self.tags[base..base + self.ways].iter().position(|&t| t == local).map(|way| base + way);
        }
        self.find_with_globals(vpn, page, asid)
    }

    #[inline(never)]
    fn find_with_globals(&self, vpn: u32, page: PageShift, asid: Asid) -> Option<usize> {
        let page = page_tag(vpn, page);
        let local = page | space_tag(asid);
        let global = page | GLOBAL;
        if let Some(index) = &self.index {
            if let Some(i) = index.find(local) {
                return Some(i as usize);
            }
            if self.globals != 0 {
                return index.find(global).map(|i| i as usize);
            }
            return None;
        }
        let base = self.set_base(vpn);
        let mut found_global = None;
        for (way, &tag) in self.tags[base..base + self.ways].iter().enumerate() {
            if tag == local {
                return Some(base + way);
            }
            if tag == global {
                found_global = Some(base + way);
            }
        }
        found_global
    }

    fn find_exact(&self, tag: u64) -> Option<usize> {
        if let Some(index) = &self.index {
            return index.find(tag).map(|i| i as usize);
        }
        let base = self.set_base(tag_vpn(tag));
        self.tags[base..base + self.ways].iter().position(|&t| t == tag).map(|way| base + way)
    }

    /// Records a use (a hit) of entry `i`.
    #[inline(always)]
    pub fn touch(&mut self, i: usize) {
        // Two flags rather than a `match`: its jump table costs an LRU hit more.
        if self.stamp_on_use {
            self.tick += 1;
            self.stamps[i] = self.tick;
        } else if self.track_on_use {
            // Set and way are only worked out for the policies that need them: a
            // division by a non-constant way count is the dearest step of a hit.
            self.touch_tracked(i);
        }
    }

    /// What a use of an entry changes, for replaying hits apart from the
    /// array: the stamps (written on use when the flag is set: LRU) and the
    /// tick; `None` for a policy that keeps per-set use state instead.
    pub(crate) fn use_clock(&mut self) -> Option<(&mut [u64], bool, &mut u64)> {
        if self.track_on_use {
            return None;
        }
        Some((&mut self.stamps, self.stamp_on_use, &mut self.tick))
    }

    #[inline(never)]
    fn touch_tracked(&mut self, i: usize) {
        let (set, way) = if self.ways.is_power_of_two() {
            (i >> self.ways.trailing_zeros(), i & (self.ways - 1))
        } else {
            (i / self.ways, i % self.ways)
        };
        match &mut self.policy {
            Policy::Stamps | Policy::Random(_) => {}
            Policy::TreePlru(tree) => tree.touch(set, way),
            Policy::Nru { referenced, per_set } => {
                if !referenced[i] {
                    referenced.set(i, true);
                    per_set[set] += 1;
                    if per_set[set] as usize == self.ways {
                        let base = set * self.ways;
                        for j in base..base + self.ways {
                            referenced.set(j, j == i);
                        }
                        per_set[set] = 1;
                    }
                }
            }
        }
    }

    fn on_insert(&mut self, i: usize) {
        if self.replacement == Replacement::Fifo {
            self.tick += 1;
            self.stamps[i] = self.tick;
        } else {
            self.touch(i);
        }
    }

    fn victim(&mut self, set: usize) -> usize {
        let base = set * self.ways;
        match &mut self.policy {
            Policy::Stamps => {
                let set_stamps = &self.stamps[base..base + self.ways];
                let mut best = 0;
                for (way, &s) in set_stamps.iter().enumerate() {
                    if s < set_stamps[best] {
                        best = way;
                    }
                }
                best
            }
            Policy::TreePlru(tree) => tree.victim(set),
            Policy::Random(rng) => rng.random_range(0..self.ways),
            Policy::Nru { referenced, .. } => (0..self.ways).find(|&w| !referenced[base + w]).unwrap_or(0),
        }
    }

    /// The way a fill of `tag` would take and why, from the state now, without
    /// changing it: `(way, None)` for a refill in place or an invalid way, `(way,
    /// Some(why))` for the policy's victim (the random policy's draw is made on a
    /// copy of its stream, so it is the draw the fill will make).
    pub fn preview_fill(&self, tag: u64) -> (usize, FillKind) {
        if let Some(i) = self.find_exact(tag) {
            return (i % self.ways, FillKind::Refill);
        }
        let set = (tag_vpn(tag) & self.set_mask) as usize;
        let base = set * self.ways;
        if (self.valid_in_set[set] as usize) < self.ways {
            let way = self.tags[base..base + self.ways].iter().position(|&t| t == 0).unwrap_or(0);
            return (way, FillKind::Invalid);
        }
        let (way, why) = match &self.policy {
            Policy::Stamps => {
                let set_stamps = &self.stamps[base..base + self.ways];
                let mut best = 0;
                for (way, &s) in set_stamps.iter().enumerate() {
                    if s < set_stamps[best] {
                        best = way;
                    }
                }
                let what = if self.replacement == Replacement::Fifo { "filled" } else { "used" };
                let stamps: Vec<String> = set_stamps.iter().map(u64::to_string).collect();
                (
                    best,
                    format!(
                        "way {best} was {what} longest ago (stamps of ways 0..{}: {}; lowest wins)",
                        self.ways - 1,
                        stamps.join(", ")
                    ),
                )
            }
            Policy::TreePlru(tree) => {
                let way = tree.victim(set);
                let bits: String = tree.set_bits(set).iter().map(|&b| if b { '1' } else { '0' }).collect();
                (way, format!("the tree bits of the set ({bits}, root first) lead to way {way}"))
            }
            Policy::Random(rng) => {
                let mut copy = rng.as_ref().clone();
                let way = copy.random_range(0..self.ways);
                (way, format!("the seeded random stream drew way {way} of {}", self.ways))
            }
            Policy::Nru { referenced, .. } => {
                let found = (0..self.ways).find(|&w| !referenced[base + w]);
                let bits: String =
                    (0..self.ways).map(|w| if referenced[base + w] { '1' } else { '0' }).collect();
                match found {
                    Some(w) => {
                        (w, format!("way {w} is the lowest whose reference bit is clear (bits {bits})"))
                    }
                    None => (0, format!("every reference bit is set ({bits}): way 0")),
                }
            }
        };
        (way, FillKind::Victim(why))
    }

    /// Installs `value` under `tag` in the set of `tag`'s VPN: over the entry with
    /// the same tag if there is one (a refill, counted as a use), else in the lowest
    /// invalid way, else over the policy's victim, which is returned.
    pub fn fill(&mut self, tag: u64, value: T) -> (usize, Option<Displaced<T>>) {
        self.stats.fills += 1;
        if let Some(i) = self.find_exact(tag) {
            self.data[i] = value;
            // A refill is a use: LRU, tree-PLRU and NRU mark it; FIFO keeps its age.
            self.touch(i);
            return (i, None);
        }
        let set = (tag_vpn(tag) & self.set_mask) as usize;
        let base = set * self.ways;
        let mut displaced = None;
        let way = if (self.valid_in_set[set] as usize) < self.ways {
            self.tags[base..base + self.ways].iter().position(|&t| t == 0).unwrap_or(0)
        } else {
            let way = self.victim(set);
            self.stats.evictions += 1;
            displaced = Some(Displaced { tag: self.tags[base + way], value: self.data[base + way] });
            self.remove(base + way, set);
            way
        };
        let i = base + way;
        self.tags[i] = tag;
        self.data[i] = value;
        self.valid_in_set[set] += 1;
        let bits = tag_page(tag).bits() as usize & 63;
        self.per_size[bits] += 1;
        self.present |= 1 << bits;
        if tag & GLOBAL != 0 {
            self.globals += 1;
        }
        if let Some(index) = &mut self.index {
            index.insert(tag, i as u32);
        }
        self.on_insert(i);
        (i, displaced)
    }

    /// Marks entry `i` invalid (it must be valid), keeping every count right.
    #[inline]
    fn remove(&mut self, i: usize, set: usize) {
        let tag = self.tags[i];
        self.tags[i] = 0;
        self.valid_in_set[set] -= 1;
        let bits = tag_page(tag).bits() as usize & 63;
        self.per_size[bits] -= 1;
        if self.per_size[bits] == 0 {
            self.present &= !(1 << bits);
        }
        if tag & GLOBAL != 0 {
            self.globals -= 1;
        }
        if let Some(index) = &mut self.index {
            index.remove(tag);
        }
        if let Policy::Nru { referenced, per_set } = &mut self.policy {
            if referenced[i] {
                referenced.set(i, false);
                per_set[set] -= 1;
            }
        }
    }

    /// Removes the valid entries of `range` whose tag satisfies `pred`; returns how many.
    pub fn remove_where(&mut self, range: core::ops::Range<usize>, pred: impl Fn(u64) -> bool) -> u64 {
        self.remove_where_entry(range, |tag, _| pred(tag))
    }

    /// Removes the valid entries of `range` whose tag and payload satisfy `pred`;
    /// returns how many.
    pub fn remove_where_entry(
        &mut self,
        range: core::ops::Range<usize>,
        pred: impl Fn(u64, &T) -> bool,
    ) -> u64 {
        let mut n = 0;
        for i in range {
            let tag = self.tags[i];
            if tag != 0 && pred(tag, &self.data[i]) {
                self.remove(i, i / self.ways);
                n += 1;
            }
        }
        n
    }

    /// The counters, `lookups` worked out as hits plus misses (one add fewer per
    /// Zeroes the counters, keeping the entries (the end of a warm-up).
    pub fn reset_stats(&mut self) {
        self.stats = TlbStats::default();
    }
    /// lookup on the hot path).
    pub fn stats(&self) -> TlbStats {
        TlbStats { lookups: self.stats.hits + self.stats.misses, ..self.stats.clone() }
    }

    /// Valid entries now held.
    pub fn occupancy(&self) -> usize {
        self.valid_in_set.iter().map(|&n| n as usize).sum()
    }

    /// Every valid entry: (tag, payload), in entry order.
    pub fn entries(&self) -> impl Iterator<Item = (u64, T)> + '_ {
        self.tags.iter().zip(&self.data).filter(|(t, _)| **t != 0).map(|(t, d)| (*t, *d))
    }
}
