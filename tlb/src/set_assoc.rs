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
//!
//! An entry is tagged by the page it covers (a piece, when the TLB splinters a larger
//! page) but remembers the whole leaf it came from, as hardware entries record the
//! size of their page: a lookup returns that leaf's translation, and a fence for an
//! address removes every entry derived from the leaf that maps it, the pieces at
//! other offsets included (otherwise a stale piece outlives `sfence.vma` / `INVLPG`).

pub use crate::array::{BySide, TlbStats};
use crate::array::{
    FillKind, GLOBAL, PAGE_MASK, SPACE_MASK, SetAssoc, page_tag, space_tag, tag_asid, tag_page, tag_vpn,
};
use crate::config::{Serves, TlbConfig};
use mmu_core::event::{CachedTranslation, Event, FillChoice, Hex, SizeProbe, WayState};
use mmu_core::format::MAX_LEVELS;
use mmu_core::{AccessKind, Asid, Cycles, PageShift, Perms, PhysAddr, Translation, VirtAddr, Vpn};
use std::cell::Cell;

/// A translation as `explain` shows it.
pub fn cached(t: &Translation) -> CachedTranslation {
    CachedTranslation {
        page_base: Hex(t.page_base.as_u64()),
        page_bytes: t.page_shift.bytes(),
        perms: t.perms.to_string(),
        global: t.global,
        dirty: t.dirty,
    }
}

/// Which side of the core an access (and the entry it filled) belongs to.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Side {
    /// Instruction fetches.
    Instructions,
    /// Loads and stores.
    Data,
}

impl Side {
    /// The side of an access.
    #[inline]
    pub const fn of(access: AccessKind) -> Self {
        if access.is_fetch() { Side::Instructions } else { Side::Data }
    }
    #[inline]
    pub(crate) const fn index(self) -> usize {
        match self {
            Side::Instructions => 0,
            Side::Data => 1,
        }
    }
}

/// What an entry holds: the leaf it came from and the side whose access filled it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
struct Stored {
    leaf: Translation,
    side: Side,
}

/// One side's counters (`lookups` is worked out as hits + misses when reported).
#[derive(Clone, Copy, Debug, Default)]
struct Counts {
    hits: u64,
    misses: u64,
    fills: u64,
    evictions: u64,
    invalidations: u64,
    back_invalidations: u64,
    retry_lookups: u64,
    retry_misses: u64,
}

impl Counts {
    fn report(&self) -> TlbStats {
        TlbStats {
            lookups: self.hits + self.misses,
            hits: self.hits,
            misses: self.misses,
            fills: self.fills,
            evictions: self.evictions,
            invalidations: self.invalidations,
            back_invalidations: self.back_invalidations,
            retry_lookups: self.retry_lookups,
            retry_misses: self.retry_misses,
            by_side: None,
        }
    }
}

/// An entry a fill pushed out: its translation and address space (`None`: global).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Evicted {
    /// The translation of the page the entry covered (the piece, if splintered).
    pub translation: Translation,
    /// Its ASID, or `None` for a global entry.
    pub asid: Option<Asid>,
}

/// One valid entry, as listed by [`Tlb::entries`].
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Resident {
    /// Its ASID, or `None` for a global entry.
    pub asid: Option<Asid>,
    /// What it translates: the page it covers (the piece, if splintered).
    pub translation: Translation,
}

const EMPTY: Stored = Stored {
    leaf: Translation {
        vpn: Vpn::new(0),
        page_shift: PageShift::new(0),
        page_base: PhysAddr::new(0),
        perms: Perms::NONE,
        global: false,
        dirty: false,
    },
    side: Side::Data,
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

/// The piece an entry tagged `tag` covers of the leaf `leaf` it remembers.
fn piece_of(tag: u64, leaf: Translation) -> Translation {
    let size = tag_page(tag);
    splinter(leaf, Vpn::new(tag_vpn(tag)).base(size), size)
}

/// Whether `leaf` maps `vaddr`.
#[inline]
fn leaf_maps(leaf: &Translation, vaddr: VirtAddr) -> bool {
    vaddr.vpn(leaf.page_shift) == leaf.vpn
}

/// A set-associative TLB.
#[derive(Clone, Debug)]
pub struct Tlb {
    name: String,
    serves: Serves,
    hit_latency: Cycles,
    array: SetAssoc<Stored>,
    /// The page sizes this TLB holds, smallest first.
    sizes: [PageShift; MAX_LEVELS],
    size_slots: usize,
    /// The same sizes as a mask: bit `b` for `2^b` bytes.
    held: u64,
    /// Leaf sizes (as a mask) stored as smaller pieces since the last full flush:
    /// a fence must then look for the other pieces of the leaf it names.
    splintered: u64,
    /// Counters by side (`Side::index`); the totals are their sums.
    sides: [Counts; 2],
    /// Hits and misses per side when the retry under way began.
    retry_mark: [(u64, u64); 2],
    /// The references recorded for a one-pass miss-ratio curve, when asked for.
    tap: Option<Box<ReferenceTap>>,
}

/// The key [`ReferenceTap`] records for a full flush of the TLB.
pub const FLUSH: u64 = u64::MAX;

/// The references a TLB sees, recorded for one-pass miss-ratio curves (the `mrc`
/// crate): each lookup made outside a retry after a fault, keyed by the tag of
/// the entry that serves it (the entry hit, or the one the fill that follows the
/// miss stores), so that an LRU TLB of any geometry fed these keys makes the same
/// hits and misses as this one would with that geometry.
#[derive(Clone, Debug, Default)]
pub struct ReferenceTap {
    /// `(key, vpn at the stored size)` in order; key [`FLUSH`] marks a full flush.
    /// Keys are the TLB's tags without the valid bit (`mrc::tlb_key`'s layout).
    pub references: Vec<(u64, u32)>,
    /// Misses that no fill followed (the access faulted for good): a miss in
    /// every geometry, that leaves the TLB as it was.
    pub unfilled: u64,
    /// Entries removed by invalidations other than full flushes: then a curve is
    /// only an approximation (no stack method models a selective invalidation).
    pub invalidations: u64,
    pending: bool,
    retrying: bool,
}

impl ReferenceTap {
    fn hit(&mut self, tag: u64) {
        if !self.retrying {
            self.references.push((tag & !crate::array::VALID, tag as u32));
        }
    }
    fn miss(&mut self) {
        if !self.retrying {
            self.unfilled += u64::from(self.pending);
            self.pending = true;
        }
    }
    fn filled(&mut self, tag: u64) {
        if std::mem::take(&mut self.pending) {
            self.references.push((tag & !crate::array::VALID, tag as u32));
        }
    }
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
            splintered: 0,
            sides: [Counts::default(); 2],
            retry_mark: [(0, 0); 2],
            tap: None,
        }
    }

    /// Starts recording the references this TLB sees ([`ReferenceTap`]).
    pub fn start_tap(&mut self) {
        self.tap = Some(Box::default());
    }

    /// What a hit of `side` changes, apart, for replaying a run of hits: the
    /// stamps, whether a use stamps (LRU), the use clock and the side's hit
    /// count; `None` while this TLB records references or with a policy that
    /// keeps per-set use state.
    pub(crate) fn hit_parts(&mut self, side: Side) -> Option<(&mut [u64], bool, &mut u64, &mut u64)> {
        if self.tap.is_some() {
            return None;
        }
        let (stamps, stamping, tick) = self.array.use_clock()?;
        Some((stamps, stamping, tick, &mut self.sides[side.index()].hits))
    }

    /// The references recorded so far, if recording: the caller drains them.
    pub fn tap_mut(&mut self) -> Option<&mut ReferenceTap> {
        self.tap.as_deref_mut()
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
    /// Lookups made for accesses of `side` (hits and misses, retries included).
    pub fn lookups_on(&self, side: Side) -> u64 {
        let c = &self.sides[side.index()];
        c.hits + c.misses
    }
    /// Zeroes the counters, keeping the entries (the end of a warm-up).
    pub fn reset_stats(&mut self) {
        self.array.reset_stats();
        self.sides = [Counts::default(); 2];
    }
    /// The counters so far; split by side too if the TLB serves both.
    pub fn stats(&self) -> TlbStats {
        let [instructions, data] = self.sides.map(|c| c.report());
        let mut total = instructions.plus(&data);
        if self.serves == Serves::Both {
            total.by_side = Some(Box::new(BySide { instructions, data }));
        }
        total
    }

    /// Marks the start of an access re-executed after a page fault: the lookups
    /// until [`Tlb::end_retry`] are counted in `retry_lookups` and `retry_misses`
    /// too (worked out afterwards, so the lookup path does not test a flag).
    pub fn begin_retry(&mut self) {
        self.retry_mark = self.sides.map(|c| (c.hits, c.misses));
        if let Some(tap) = &mut self.tap {
            tap.retrying = true;
        }
    }

    /// Marks the end of the retried access begun with [`Tlb::begin_retry`].
    pub fn end_retry(&mut self) {
        if let Some(tap) = &mut self.tap {
            tap.retrying = false;
        }
        for (c, (hits, misses)) in self.sides.iter_mut().zip(self.retry_mark) {
            let new_misses = c.misses - misses;
            c.retry_lookups += c.hits - hits + new_misses;
            c.retry_misses += new_misses;
        }
    }
    /// Valid entries now held.
    pub fn occupancy(&self) -> usize {
        self.array.occupancy()
    }
    /// The page sizes held, smallest first.
    pub fn page_sizes(&self) -> &[PageShift] {
        &self.sizes[..self.size_slots]
    }

    /// Looks `vaddr` up for a load or store of address space `asid`
    /// ([`Tlb::lookup_on`] the data side).
    #[inline(always)]
    pub fn lookup(&mut self, vaddr: VirtAddr, asid: Asid) -> Option<Translation> {
        self.lookup_on(Side::Data, vaddr, asid)
    }

    /// Looks `vaddr` up for an access of `side` in address space `asid`; a hit
    /// counts as a use for the policy and gives the translation of the whole leaf
    /// the entry came from.
    #[inline(always)]
    pub fn lookup_on(&mut self, side: Side, vaddr: VirtAddr, asid: Asid) -> Option<Translation> {
        let counts = &mut self.sides[side.index()];
        // Only the sizes with entries now, smallest first (lowest set bit first).
        let mut sizes = self.array.present_sizes();
        while sizes != 0 {
            let bits = sizes.trailing_zeros() as u8;
            sizes &= sizes - 1;
            // Sizes are below 32 bits (checked in `new`), so the shift is total.
            if let Some(i) = self.array.find(vaddr.as_u32() >> (bits & 31), PageShift::new(bits), asid) {
                self.array.touch(i);
                counts.hits += 1;
                if let Some(tap) = &mut self.tap {
                    tap.hit(self.array.tag(i));
                }
                return Some(self.array.value(i).leaf);
            }
        }
        counts.misses += 1;
        if let Some(tap) = &mut self.tap {
            tap.miss();
        }
        None
    }

    /// The entry [`Tlb::lookup_on`] of `vaddr` for `asid` would hit and the
    /// translation it would give, without counting or touching anything: what a
    /// caller keeps to replay that hit with [`Tlb::hit_again`].
    #[inline]
    pub fn entry_of(&self, vaddr: VirtAddr, asid: Asid) -> Option<(usize, Translation)> {
        let mut sizes = self.array.present_sizes();
        while sizes != 0 {
            let bits = sizes.trailing_zeros() as u8;
            sizes &= sizes - 1;
            if let Some(i) = self.array.find(vaddr.as_u32() >> (bits & 31), PageShift::new(bits), asid) {
                return Some((i, self.array.value(i).leaf));
            }
        }
        None
    }

    /// Does what [`Tlb::lookup_on`] does when it hits `entry` for an access of
    /// `side`: counts the hit, touches the entry for the policy and tells the tap.
    /// The caller knows the lookup would find `entry` ([`Tlb::entry_of`], and no
    /// fill or invalidation since); the translation is its to remember.
    #[inline(always)]
    pub fn hit_again(&mut self, side: Side, entry: usize) {
        self.array.touch(entry);
        self.sides[side.index()].hits += 1;
        if let Some(tap) = &mut self.tap {
            tap.hit(self.array.tag(entry));
        }
    }

    /// The translation [`Tlb::lookup_on`] would return, without counting or
    /// touching anything.
    pub fn peek(&self, vaddr: VirtAddr, asid: Asid) -> Option<Translation> {
        let mut sizes = self.array.present_sizes();
        while sizes != 0 {
            let bits = sizes.trailing_zeros() as u8;
            sizes &= sizes - 1;
            if let Some(i) = self.array.find(vaddr.as_u32() >> (bits & 31), PageShift::new(bits), asid) {
                return Some(self.array.value(i).leaf);
            }
        }
        None
    }

    /// What [`Tlb::lookup_on`] of `vaddr` for `asid` would compare and find, from
    /// the state now and without counting or touching anything: an
    /// [`Event::TlbProbe`] for `explain`.
    pub fn describe_probe(&self, vaddr: VirtAddr, asid: Asid) -> Event {
        let mut sizes = Vec::new();
        let mut hit = None;
        let mut present = self.array.present_sizes();
        while present != 0 {
            let bits = present.trailing_zeros() as u8;
            present &= present - 1;
            let page = PageShift::new(bits);
            let vpn = vaddr.as_u32() >> (bits & 31);
            let found = self.array.find(vpn, page, asid);
            let range = self.array.set_range(vpn);
            let ways = range
                .clone()
                .map(|i| {
                    let tag = self.array.tag(i);
                    let valid = tag != 0;
                    WayState {
                        way: (i - range.start) as u32,
                        valid,
                        vpn: valid.then(|| Hex(u64::from(tag_vpn(tag)))),
                        page_bytes: valid.then(|| tag_page(tag).bytes()),
                        asid: if valid { tag_asid(tag).map(Asid::as_u16) } else { None },
                        matches: found == Some(i),
                    }
                })
                .collect();
            sizes.push(SizeProbe {
                page_bytes: page.bytes(),
                vpn: Hex(u64::from(vpn)),
                set: vpn & self.array.set_mask(),
                sets: self.array.sets() as u32,
                ways,
                hit_way: found.map(|i| (i - range.start) as u32),
            });
            if let Some(i) = found {
                hit = Some(cached(&self.array.value(i).leaf));
                break;
            }
        }
        Event::TlbProbe { tlb: self.name.clone(), asid: asid.as_u16(), sizes, hit }
    }

    /// What [`Tlb::fill_on`] of `t` for `vaddr` and `asid` would do, from the
    /// state now: the set, the way and why (an [`Event::TlbFill`]); `None` when
    /// the page is smaller than every size this TLB holds (nothing is stored).
    pub fn describe_fill(&self, vaddr: VirtAddr, t: &Translation, asid: Asid) -> Option<Event> {
        let size = self.stored_size(t.page_shift)?;
        let space = if t.global { GLOBAL } else { space_tag(asid) };
        let vpn = vaddr.vpn(size).as_u32();
        let tag = page_tag(vpn, size) | space;
        let (way, kind) = self.array.preview_fill(tag);
        let set = vpn & self.array.set_mask();
        let choice = match kind {
            FillKind::Refill => FillChoice::Refill,
            FillKind::Invalid => FillChoice::InvalidWay,
            FillKind::Victim(why) => {
                let old = self.array.tag(set as usize * self.array.ways() + way);
                FillChoice::Victim {
                    policy: format!("{:?}", self.array.replacement()),
                    why,
                    evicted_vpn: Hex(u64::from(tag_vpn(old))),
                    evicted_asid: tag_asid(old).map(Asid::as_u16),
                }
            }
        };
        Some(Event::TlbFill {
            tlb: self.name.clone(),
            set,
            way: way as u32,
            vpn: Hex(u64::from(vpn)),
            page_bytes: size.bytes(),
            choice,
        })
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

    /// Inserts translation `t` (of the leaf containing `vaddr`) for `asid`, stored at
    /// [`Tlb::stored_size`] (the piece containing `vaddr`, remembering the leaf);
    /// replaces an entry for the same page and address space if there is one, else
    /// takes an invalid way, else evicts the policy's victim, which is returned. A
    /// page smaller than every size held is not stored.
    pub fn fill(&mut self, vaddr: VirtAddr, t: Translation, asid: Asid) -> Option<Evicted> {
        self.fill_on(Side::Data, vaddr, t, asid)
    }

    /// [`Tlb::fill`] for an access of `side`, which the entry remembers.
    pub fn fill_on(&mut self, side: Side, vaddr: VirtAddr, t: Translation, asid: Asid) -> Option<Evicted> {
        let size = self.stored_size(t.page_shift)?;
        if size != t.page_shift {
            self.splintered |= 1 << (t.page_shift.bits() & 63);
        }
        let space = if t.global { GLOBAL } else { space_tag(asid) };
        let tag = page_tag(vaddr.vpn(size).as_u32(), size) | space;
        if let Some(tap) = &mut self.tap {
            tap.filled(tag);
        }
        let (_, displaced) = self.array.fill(tag, Stored { leaf: t, side });
        self.sides[side.index()].fills += 1;
        displaced.map(|d| {
            self.sides[d.value.side.index()].evictions += 1;
            Evicted { translation: piece_of(d.tag, d.value.leaf), asid: tag_asid(d.tag) }
        })
    }

    /// Removes the valid entries of `range` whose tag and entry satisfy `pred`;
    /// returns how many, per side (`Side::index`).
    fn remove_by_side(
        &mut self,
        range: core::ops::Range<usize>,
        pred: impl Fn(u64, &Stored) -> bool,
    ) -> [u64; 2] {
        let fetched = Cell::new(0);
        let n = self.array.remove_where_entry(range, |tag, e| {
            let gone = pred(tag, e);
            if gone && e.side == Side::Instructions {
                fetched.set(fetched.get() + 1);
            }
            gone
        });
        [fetched.get(), n - fetched.get()]
    }

    fn invalidate_entries(
        &mut self,
        range: core::ops::Range<usize>,
        pred: impl Fn(u64, &Stored) -> bool,
    ) -> u64 {
        let removed = self.remove_by_side(range, pred);
        for (c, n) in self.sides.iter_mut().zip(removed) {
            c.invalidations += n;
        }
        if let Some(tap) = &mut self.tap {
            tap.invalidations += removed[0] + removed[1];
        }
        removed[0] + removed[1]
    }

    fn invalidate_where(&mut self, range: core::ops::Range<usize>, pred: impl Fn(u64) -> bool) -> u64 {
        self.invalidate_entries(range, |tag, _| pred(tag))
    }

    /// Removes every entry (a full flush). Returns how many were valid.
    pub fn invalidate_all(&mut self) -> u64 {
        self.splintered = 0;
        let n = self.invalidate_where(0..self.array.len(), |_| true);
        self.note_full_flush(n);
        n
    }

    /// Records in the tap that the `removed` entries just invalidated were all of
    /// them (a full flush, which a stack models exactly), not a selective invalidation.
    pub fn note_full_flush(&mut self, removed: u64) {
        if let Some(tap) = &mut self.tap {
            tap.invalidations -= removed.min(tap.invalidations);
            tap.references.push((FLUSH, 0));
        }
    }

    /// Removes the non-global entries of `asid`.
    pub fn invalidate_asid(&mut self, asid: Asid) -> u64 {
        let want = space_tag(asid);
        self.invalidate_where(0..self.array.len(), |t| t & SPACE_MASK == want)
    }

    /// Removes every entry derived from a leaf that maps `vaddr` (the entry covering
    /// it and any other piece of the same leaf), in any address space, global or not.
    pub fn invalidate_va(&mut self, vaddr: VirtAddr) -> u64 {
        self.invalidate_va_where(vaddr, |_| true)
    }

    /// Removes the non-global entries of `asid` derived from a leaf that maps `vaddr`
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
        if self.splintered != 0 {
            n += self.invalidate_pieces(vaddr, pred);
        }
        n
    }

    /// The pieces of a splintered leaf mapping `vaddr` at other offsets: for each
    /// leaf size ever splintered, every smaller entry inside that size's page around
    /// `vaddr` whose remembered leaf maps `vaddr` (only pieces of that leaf, not
    /// entries of other leaves in the region).
    #[cold]
    fn invalidate_pieces(&mut self, vaddr: VirtAddr, pred: impl Fn(u64) -> bool + Copy) -> u64 {
        let mut n = 0;
        let mut leaves = self.splintered;
        while leaves != 0 {
            let leaf_bits = leaves.trailing_zeros() as u8;
            leaves &= leaves - 1;
            for s in 0..self.size_slots {
                let size = self.sizes[s];
                if size.bits() >= leaf_bits || !self.array.holds_any(size) {
                    continue;
                }
                let pieces = 1u64 << (leaf_bits - size.bits());
                let first =
                    u64::from(vaddr.vpn(PageShift::new(leaf_bits)).as_u32()) << (leaf_bits - size.bits());
                let inside = move |t: u64, e: &Stored| {
                    tag_page(t) == size
                        && (first..first + pieces).contains(&u64::from(tag_vpn(t)))
                        && leaf_maps(&e.leaf, vaddr)
                        && pred(t)
                };
                if pieces >= self.array.sets() as u64 {
                    n += self.invalidate_entries(0..self.array.len(), inside);
                } else {
                    for v in first..first + pieces {
                        let range = self.array.set_range(v as u32);
                        n += self.invalidate_entries(range, inside);
                    }
                }
            }
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
                n +=
                    self.back_invalidate_entries(range, |t| t & PAGE_MASK == page && t & SPACE_MASK == space);
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
                    n += self.back_invalidate_entries(0..self.array.len(), inside);
                } else {
                    for v in first..first + pieces {
                        let range = self.array.set_range(v as u32);
                        n += self.back_invalidate_entries(range, inside);
                    }
                }
            }
        }
        n
    }

    fn back_invalidate_entries(&mut self, range: core::ops::Range<usize>, pred: impl Fn(u64) -> bool) -> u64 {
        let removed = self.remove_by_side(range, |tag, _| pred(tag));
        for (c, n) in self.sides.iter_mut().zip(removed) {
            c.back_invalidations += n;
        }
        removed[0] + removed[1]
    }

    /// Every valid entry, in entry order (for checkers and tools, not the hot path).
    pub fn entries(&self) -> Vec<Resident> {
        self.array
            .entries()
            .map(|(tag, e)| Resident { asid: tag_asid(tag), translation: piece_of(tag, e.leaf) })
            .collect()
    }

    /// Ways per set.
    pub fn ways(&self) -> usize {
        self.array.ways()
    }
}

#[cfg(test)]
mod tests;
