//! One TLB: lookup, fill, replacement and invalidation of cached translations.
//!
//! Entries are tagged by ASID unless global, and each holds one page size. A TLB
//! that may hold several sizes probes one set per size it currently holds, smallest
//! first (hardware probes them in parallel with one index function per size, or
//! re-probes as AMD's L2 does); a TLB holding only 4 KiB entries probes exactly one
//! set. Above 16 ways the set is searched through a hash index of its tags (the
//! model's stand-in for a CAM), so a fully associative hit is not a linear scan.
//!
//! Within one size, an entry of the looking-up ASID wins over a global one; a TLB
//! never holds two entries with the same tag (a fill of an existing tag rewrites it).

pub use crate::array::TlbStats;
use crate::array::{
    GLOBAL, PAGE_MASK, SPACE_MASK, SetAssoc, page_tag, space_tag, tag_asid, tag_page, tag_vpn,
};
use crate::config::{Serves, TlbConfig};
use mmu_core::format::MAX_LEVELS;
use mmu_core::{Asid, Cycles, PageShift, Perms, PhysAddr, Translation, VirtAddr, Vpn};

/// An entry a fill pushed out: its translation and address space (`None`: global).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Evicted {
    /// The translation the entry held.
    pub translation: Translation,
    /// Its ASID, or `None` for a global entry.
    pub asid: Option<Asid>,
}

/// One valid entry, as listed by [`Tlb::entries`].
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Resident {
    /// Its ASID, or `None` for a global entry.
    pub asid: Option<Asid>,
    /// What it translates.
    pub translation: Translation,
}

const EMPTY: Translation = Translation {
    vpn: Vpn::new(0),
    page_shift: PageShift::new(0),
    page_base: PhysAddr::new(0),
    perms: Perms::NONE,
    global: false,
    dirty: false,
};

/// The piece of `piece` size (no larger than `t`'s page) of page `t` that contains
/// `vaddr`, which lies in `t`.
fn splinter(t: Translation, vaddr: VirtAddr, piece: PageShift) -> Translation {
    if piece == t.page_shift {
        return t;
    }
    let offset = u64::from(vaddr.page_offset(t.page_shift)) & !piece.offset_mask();
    Translation {
        vpn: vaddr.vpn(piece),
        page_shift: piece,
        page_base: PhysAddr::new(t.page_base.as_u64() | offset),
        ..t
    }
}

/// A set-associative TLB.
#[derive(Clone, Debug)]
pub struct Tlb {
    name: String,
    serves: Serves,
    hit_latency: Cycles,
    array: SetAssoc<Translation>,
    /// The page sizes this TLB holds, smallest first.
    sizes: [PageShift; MAX_LEVELS],
    size_slots: usize,
    /// The same sizes as a mask: bit `b` for `2^b` bytes.
    held: u64,
}

impl Tlb {
    /// An empty TLB from a validated config, holding the page sizes `page_sizes`
    /// (as [`TlbConfig::resolve_sizes`] gives them); `seed` seeds the random policy.
    ///
    /// # Panics
    /// If `page_sizes` is empty or longer than [`MAX_LEVELS`], or a size is 2^32
    /// bytes or more (a bug in the caller: formats map 32-bit addresses).
    pub fn new(config: &TlbConfig, page_sizes: &[PageShift], seed: u64) -> Self {
        assert!(!page_sizes.is_empty() && page_sizes.len() <= MAX_LEVELS, "1..={MAX_LEVELS} page sizes");
        assert!(
            page_sizes.iter().all(|&p| p.bits() < 32),
            "a page of a 32-bit address space is under 2^32 bytes"
        );
        let mut sizes = [PageShift::new(0); MAX_LEVELS];
        sizes[..page_sizes.len()].copy_from_slice(page_sizes);
        sizes[..page_sizes.len()].sort_unstable();
        Self {
            name: config.name.clone(),
            serves: config.serves,
            hit_latency: config.hit_latency,
            array: SetAssoc::new(
                config.entries as usize,
                config.ways as usize,
                config.replacement,
                EMPTY,
                seed,
            ),
            sizes,
            size_slots: page_sizes.len(),
            held: page_sizes.iter().fold(0, |m, &p| m | 1 << p.bits()),
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
    /// Zeroes the counters, keeping the entries (the end of a warm-up).
    pub fn reset_stats(&mut self) {
        self.array.reset_stats();
    }
    /// The counters so far.
    pub fn stats(&self) -> TlbStats {
        self.array.stats()
    }
    /// Valid entries now held.
    pub fn occupancy(&self) -> usize {
        self.array.occupancy()
    }
    /// The page sizes held, smallest first.
    pub fn page_sizes(&self) -> &[PageShift] {
        &self.sizes[..self.size_slots]
    }

    /// Looks `vaddr` up for address space `asid`; a hit counts as a use for the policy.
    #[inline(always)]
    pub fn lookup(&mut self, vaddr: VirtAddr, asid: Asid) -> Option<Translation> {
        // Only the sizes with entries now, smallest first (lowest set bit first).
        let mut sizes = self.array.present_sizes();
        while sizes != 0 {
            let bits = sizes.trailing_zeros() as u8;
            sizes &= sizes - 1;
            // Sizes are below 32 bits (checked in `new`), so the shift is total.
            if let Some(i) = self.array.find(vaddr.as_u32() >> (bits & 31), PageShift::new(bits), asid) {
                self.array.touch(i);
                self.array.stats.hits += 1;
                return Some(self.array.value(i));
            }
        }
        self.array.stats.misses += 1;
        None
    }

    /// Whether this TLB holds pages of exactly `page` size.
    pub fn holds_size(&self, page: PageShift) -> bool {
        self.page_sizes().contains(&page)
    }

    /// The size an entry for a page of `page` size is stored as: that size if held,
    /// else the largest smaller size held (a splinter), else `None`.
    #[inline]
    pub fn stored_size(&self, page: PageShift) -> Option<PageShift> {
        if self.held & (1 << (page.bits() & 63)) != 0 {
            return Some(page);
        }
        self.page_sizes().iter().rev().copied().find(|&p| p <= page)
    }

    /// Inserts translation `t` (of the page containing `vaddr`) for `asid`, stored at
    /// [`Tlb::stored_size`]; replaces an entry for the same page and address space if
    /// there is one, else takes an invalid way, else evicts the policy's victim,
    /// which is returned. A page smaller than every size held is not stored.
    pub fn fill(&mut self, vaddr: VirtAddr, t: Translation, asid: Asid) -> Option<Evicted> {
        let size = self.stored_size(t.page_shift)?;
        let t = splinter(t, vaddr, size);
        let space = if t.global { GLOBAL } else { space_tag(asid) };
        let (_, displaced) = self.array.fill(page_tag(t.vpn.as_u32(), size) | space, t);
        displaced.map(|d| Evicted { translation: d.value, asid: tag_asid(d.tag) })
    }

    fn invalidate_where(&mut self, range: core::ops::Range<usize>, pred: impl Fn(u64) -> bool) -> u64 {
        let n = self.array.remove_where(range, pred);
        self.array.stats.invalidations += n;
        n
    }

    /// Removes every entry (a full flush). Returns how many were valid.
    pub fn invalidate_all(&mut self) -> u64 {
        self.invalidate_where(0..self.array.len(), |_| true)
    }

    /// Removes the non-global entries of `asid`.
    pub fn invalidate_asid(&mut self, asid: Asid) -> u64 {
        let want = space_tag(asid);
        self.invalidate_where(0..self.array.len(), |t| t & SPACE_MASK == want)
    }

    /// Removes every entry that translates `vaddr`, in any address space, global or not.
    pub fn invalidate_va(&mut self, vaddr: VirtAddr) -> u64 {
        self.invalidate_va_where(vaddr, |_| true)
    }

    /// Removes the non-global entries of `asid` that translate `vaddr`
    /// (`sfence.vma` with both operands: global mappings are kept).
    pub fn invalidate_va_asid(&mut self, vaddr: VirtAddr, asid: Asid) -> u64 {
        let want = space_tag(asid);
        self.invalidate_va_where(vaddr, move |t| t & SPACE_MASK == want)
    }

    fn invalidate_va_where(&mut self, vaddr: VirtAddr, pred: impl Fn(u64) -> bool + Copy) -> u64 {
        let mut n = 0;
        for s in 0..self.size_slots {
            let size = self.sizes[s];
            if !self.array.holds_any(size) {
                continue;
            }
            let vpn = vaddr.vpn(size).as_u32();
            let page = page_tag(vpn, size);
            let range = self.array.set_range(vpn);
            n += self.invalidate_where(range, move |t| t & PAGE_MASK == page && pred(t));
        }
        n
    }

    /// Removes the entries of address-space tag `space` (an ASID's, or global) that
    /// overlap page `vpn` of `page` size: what an inclusive L2 does to its L1s
    /// when it evicts that page. Counted as back-invalidations.
    pub(crate) fn back_invalidate(&mut self, vpn: u32, page: PageShift, asid: Option<Asid>) -> u64 {
        let space = asid.map_or(GLOBAL, space_tag);
        let bits = page.bits();
        let mut n = 0;
        for s in 0..self.size_slots {
            let held_size = self.sizes[s];
            if !self.array.holds_any(held_size) {
                continue;
            }
            let held = held_size.bits();
            if held >= bits {
                // One entry of this size can contain the whole page.
                let v = ((u64::from(vpn) << bits) >> held) as u32;
                let page = page_tag(v, held_size);
                let range = self.array.set_range(v);
                n += self.array.remove_where(range, |t| t & PAGE_MASK == page && t & SPACE_MASK == space);
            } else {
                // Many pieces of this size fit in the page: probe each piece's set,
                // or scan everything once the pieces cover every set.
                let pieces = 1u64 << (bits - held);
                let first = u64::from(vpn) << (bits - held);
                let inside = move |t: u64| {
                    tag_page(t) == held_size
                        && (first..first + pieces).contains(&u64::from(tag_vpn(t)))
                        && t & SPACE_MASK == space
                };
                if pieces >= self.array.sets() as u64 {
                    n += self.array.remove_where(0..self.array.len(), inside);
                } else {
                    for v in first..first + pieces {
                        let range = self.array.set_range(v as u32);
                        n += self.array.remove_where(range, inside);
                    }
                }
            }
        }
        self.array.stats.back_invalidations += n;
        n
    }

    /// Every valid entry, in entry order (for checkers and tools, not the hot path).
    pub fn entries(&self) -> Vec<Resident> {
        self.array.entries().map(|(tag, t)| Resident { asid: tag_asid(tag), translation: t }).collect()
    }

    /// Ways per set.
    pub fn ways(&self) -> usize {
        self.array.ways()
    }
}

#[cfg(test)]
mod tests;
