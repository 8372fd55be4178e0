//! The optimized TLB against a slow, obviously-correct reference model: for every
//! policy and a spread of geometries and page-size sets, both see the same long
//! seeded sequence of lookups, fills and invalidations and must agree on every hit,
//! every translation returned, every victim, every invalidation count, and finally
//! on which entry sits in which way.
//!
//! The reference keeps each set as a plain `Vec<Option<Entry>>` and each policy in
//! its textbook form: LRU and FIFO as ordered lists, tree-PLRU as bits keyed by
//! (depth, index) in a `BTreeMap`, NRU as a `Vec<bool>`, random as a draw from the
//! same seeded ChaCha8 stream. No tag packing, no hash index, no counters.

use mmu_core::PageShift;
use mmu_core::SimRng as ChaCha8Rng;
use mmu_core::{Asid, Cycles, Perms, PhysAddr, Translation, VirtAddr, Vpn};
use rand::{RngExt, SeedableRng};
use std::collections::BTreeMap;
use tlb::{
    AsidMode, Evicted, Inclusion, PageSizes, Replacement, Serves, Tlb, TlbConfig, TlbHierarchy,
    TlbHierarchyConfig,
};

#[derive(Clone, Copy, Debug, PartialEq)]
struct Entry {
    /// `None` for a global entry.
    asid: Option<Asid>,
    /// The page the entry covers (a piece of `leaf` when splintered).
    t: Translation,
    /// The leaf it came from: what a hit returns.
    leaf: Translation,
}

#[derive(Clone, Debug)]
struct RefSet {
    ways: Vec<Option<Entry>>,
    /// LRU: valid ways, least recently used first. FIFO: valid ways, oldest first.
    order: Vec<usize>,
    /// Tree-PLRU: (depth, index) -> bit; true = the victim is in the upper half.
    plru: BTreeMap<(u32, usize), bool>,
    /// NRU reference bits.
    referenced: Vec<bool>,
}

struct RefTlb {
    sets: Vec<RefSet>,
    ways: usize,
    policy: Replacement,
    /// Held sizes, smallest first.
    sizes: Vec<u8>,
    rng: ChaCha8Rng,
}

impl RefTlb {
    fn new(entries: usize, ways: usize, policy: Replacement, sizes: &[u8], seed: u64) -> Self {
        let set = RefSet {
            ways: vec![None; ways],
            order: Vec::new(),
            plru: BTreeMap::new(),
            referenced: vec![false; ways],
        };
        let mut sizes = sizes.to_vec();
        sizes.sort_unstable();
        Self { sets: vec![set; entries / ways], ways, policy, sizes, rng: ChaCha8Rng::seed_from_u64(seed) }
    }

    fn set_of(&self, vpn: u32) -> usize {
        vpn as usize % self.sets.len()
    }

    fn depth(&self) -> u32 {
        self.ways.trailing_zeros()
    }

    /// A use of `way` (a hit, a fill, a refill).
    fn use_way(&mut self, set: usize, way: usize, is_insert: bool) {
        let depth = self.depth();
        let s = &mut self.sets[set];
        match self.policy {
            Replacement::Lru => {
                s.order.retain(|&w| w != way);
                s.order.push(way);
            }
            Replacement::Fifo => {
                if is_insert {
                    s.order.push(way);
                }
            }
            Replacement::TreePlru => {
                // At each depth d, the node on way's path is way >> (depth - d); way is
                // in its upper half if bit (depth - d - 1) of way is set. Point away.
                for d in 0..depth {
                    let node = way >> (depth - d);
                    let upper = (way >> (depth - d - 1)) & 1 == 1;
                    s.plru.insert((d, node), !upper);
                }
            }
            Replacement::Nru => {
                s.referenced[way] = true;
                if s.referenced.iter().all(|&r| r) {
                    for (w, r) in s.referenced.iter_mut().enumerate() {
                        *r = w == way;
                    }
                }
            }
            Replacement::Random => {}
        }
    }

    fn forget(&mut self, set: usize, way: usize) {
        let s = &mut self.sets[set];
        s.ways[way] = None;
        s.order.retain(|&w| w != way);
        s.referenced[way] = false;
    }

    fn victim(&mut self, set: usize) -> usize {
        let depth = self.depth();
        let s = &self.sets[set];
        match self.policy {
            Replacement::Lru | Replacement::Fifo => s.order[0],
            Replacement::TreePlru => {
                let mut node = 0;
                for d in 0..depth {
                    let upper = s.plru.get(&(d, node)).copied().unwrap_or(false);
                    node = 2 * node + usize::from(upper);
                }
                node
            }
            Replacement::Nru => s.referenced.iter().position(|&r| !r).unwrap_or(0),
            Replacement::Random => self.rng.random_range(0..self.ways),
        }
    }

    fn lookup(&mut self, vaddr: VirtAddr, asid: Asid) -> Option<Translation> {
        for bits in self.sizes.clone() {
            let vpn = vaddr.as_u32() >> bits;
            let set = self.set_of(vpn);
            let matches = |e: &Option<Entry>, want: Option<Asid>| {
                e.is_some_and(|e| e.t.page_shift.bits() == bits && e.t.vpn.as_u32() == vpn && e.asid == want)
            };
            let ways = &self.sets[set].ways;
            let way = ways
                .iter()
                .position(|e| matches(e, Some(asid)))
                .or_else(|| ways.iter().position(|e| matches(e, None)));
            if let Some(way) = way {
                let leaf = self.sets[set].ways[way].unwrap().leaf;
                self.use_way(set, way, false);
                return Some(leaf);
            }
        }
        None
    }

    fn fill(&mut self, vaddr: VirtAddr, leaf: Translation, asid: Asid) -> Option<Evicted> {
        let t = leaf;
        let bits = *self.sizes.iter().rev().find(|&&b| b <= t.page_shift.bits())?;
        let vpn = vaddr.as_u32() >> bits;
        let piece_offset = (u64::from(vaddr.as_u32()) & ((1u64 << t.page_shift.bits()) - 1)) >> bits << bits;
        let t = Translation {
            vpn: Vpn::new(vpn),
            page_shift: PageShift::new(bits),
            page_base: PhysAddr::new(t.page_base.as_u64() + piece_offset),
            ..t
        };
        let entry = Entry { asid: if t.global { None } else { Some(asid) }, t, leaf };
        let set = self.set_of(vpn);
        let same = self.sets[set].ways.iter().position(|e| {
            e.is_some_and(|e| {
                e.asid == entry.asid && e.t.page_shift.bits() == bits && e.t.vpn.as_u32() == vpn
            })
        });
        if let Some(way) = same {
            self.sets[set].ways[way] = Some(entry);
            self.use_way(set, way, false);
            return None;
        }
        let mut evicted = None;
        let way = match self.sets[set].ways.iter().position(Option::is_none) {
            Some(way) => way,
            None => {
                let way = self.victim(set);
                let old = self.sets[set].ways[way].unwrap();
                evicted = Some(Evicted { translation: old.t, asid: old.asid });
                self.forget(set, way);
                way
            }
        };
        self.sets[set].ways[way] = Some(entry);
        self.use_way(set, way, true);
        evicted
    }

    fn invalidate(&mut self, pred: impl Fn(&Entry) -> bool) -> u64 {
        let mut n = 0;
        for set in 0..self.sets.len() {
            for way in 0..self.ways {
                if self.sets[set].ways[way].is_some_and(|e| pred(&e)) {
                    self.forget(set, way);
                    n += 1;
                }
            }
        }
        n
    }

    /// Whether a fence for `vaddr` removes `e`: its leaf maps `vaddr` (the rule:
    /// every entry derived from the leaf that maps the address).
    fn covers(e: &Entry, vaddr: VirtAddr) -> bool {
        vaddr.as_u32() >> e.leaf.page_shift.bits() == e.leaf.vpn.as_u32()
    }

    fn entries(&self) -> Vec<(Option<Asid>, Translation)> {
        self.sets.iter().flat_map(|s| s.ways.iter().flatten().map(|e| (e.asid, e.t))).collect()
    }
}

/// The next operation of a random sequence, over a pool of addresses with reuse.
enum Op {
    Lookup(VirtAddr, Asid),
    Fill(VirtAddr, Translation, Asid),
    InvalidateVa(VirtAddr),
    InvalidateVaAsid(VirtAddr, Asid),
    InvalidateAsid(Asid),
    InvalidateAll,
}

struct Ops {
    rng: ChaCha8Rng,
    pool: u32,
}

impl Ops {
    fn vaddr(&mut self) -> VirtAddr {
        // Eight 4 MiB regions, `pool / 8` small pages in each, so 4 KiB and 4 MiB
        // entries overlap and sets conflict.
        let p = self.rng.random_range(0..self.pool);
        let offset = self.rng.random_range(0..1024u32) * 4;
        VirtAddr::new(((p % 8) << 22) | ((p / 8) << 12) | offset)
    }

    fn asid(&mut self) -> Asid {
        Asid::new(self.rng.random_range(1..4u16))
    }

    fn translation(&mut self, vaddr: VirtAddr) -> Translation {
        let bits = if self.rng.random_range(0..100) < 15 { 22 } else { 12 };
        let vpn = vaddr.as_u32() >> bits;
        Translation {
            vpn: Vpn::new(vpn),
            page_shift: PageShift::new(bits),
            page_base: PhysAddr::new(u64::from(vpn ^ 0x155) << bits),
            perms: if self.rng.random_range(0..2) == 0 { Perms::ALL } else { Perms::NONE },
            global: self.rng.random_range(0..100) < 10,
            dirty: self.rng.random_range(0..2) == 0,
        }
    }

    fn next(&mut self) -> Op {
        let roll = self.rng.random_range(0..10_000);
        let vaddr = self.vaddr();
        match roll {
            0..6000 => Op::Lookup(vaddr, self.asid()),
            6000..9000 => {
                let t = self.translation(vaddr);
                Op::Fill(vaddr, t, self.asid())
            }
            9000..9500 => Op::InvalidateVa(vaddr),
            9500..9985 => Op::InvalidateVaAsid(vaddr, self.asid()),
            9985..9998 => Op::InvalidateAsid(self.asid()),
            _ => Op::InvalidateAll,
        }
    }
}

fn config(entries: u32, ways: u32, replacement: Replacement) -> TlbConfig {
    TlbConfig {
        name: "dut".into(),
        serves: Serves::Both,
        entries,
        ways,
        hit_latency: Cycles::new(1),
        replacement,
        page_sizes: PageSizes::Any,
    }
}

const POLICIES: [Replacement; 5] =
    [Replacement::Lru, Replacement::TreePlru, Replacement::Fifo, Replacement::Random, Replacement::Nru];

/// Direct mapped, small and large set-associative, the 16/17-way boundary where the
/// hash index takes over, fully associative, and a 1536-entry 12-way L2.
const GEOMETRIES: [(u32, u32); 11] =
    [(1, 1), (4, 1), (8, 2), (16, 4), (64, 4), (64, 8), (16, 16), (32, 32), (64, 64), (256, 256), (1536, 12)];

const SIZE_SETS: [&[u8]; 3] = [&[12], &[22], &[12, 22]];

fn run(entries: u32, ways: u32, policy: Replacement, sizes: &[u8], seed: u64, steps: usize) {
    let case = format!("{entries}x{ways} {policy:?} sizes {sizes:?} seed {seed}");
    let shifts: Vec<PageShift> = sizes.iter().map(|&b| PageShift::new(b)).collect();
    let mut fast = Tlb::new(&config(entries, ways, policy), &shifts, seed);
    let mut slow = RefTlb::new(entries as usize, ways as usize, policy, sizes, seed);
    // As many pages as entries, in three address spaces: both hits and evictions
    // are frequent. Twice as many in a 4 KiB-only TLB, where a fence anywhere in a
    // splintered megapage removes every piece of it.
    let pool = entries.max(16) * if sizes == [12] { 2 } else { 1 };
    let mut ops = Ops { rng: ChaCha8Rng::seed_from_u64(seed ^ 0xd1ff), pool };
    let (mut hits, mut evictions) = (0u64, 0u64);
    for step in 0..steps {
        match ops.next() {
            Op::Lookup(vaddr, asid) => {
                let got = fast.lookup(vaddr, asid);
                assert_eq!(got, slow.lookup(vaddr, asid), "{case}: step {step}: lookup {vaddr:?} {asid:?}");
                hits += u64::from(got.is_some());
            }
            Op::Fill(vaddr, t, asid) => {
                let got = fast.fill(vaddr, t, asid);
                assert_eq!(got, slow.fill(vaddr, t, asid), "{case}: step {step}: fill {vaddr:?} {t:?}");
                evictions += u64::from(got.is_some());
            }
            Op::InvalidateVa(vaddr) => {
                let want = slow.invalidate(|e| RefTlb::covers(e, vaddr));
                assert_eq!(fast.invalidate_va(vaddr), want, "{case}: step {step}: invalidate {vaddr:?}");
            }
            Op::InvalidateVaAsid(vaddr, asid) => {
                let want = slow.invalidate(|e| RefTlb::covers(e, vaddr) && e.asid == Some(asid));
                assert_eq!(fast.invalidate_va_asid(vaddr, asid), want, "{case}: step {step}");
            }
            Op::InvalidateAsid(asid) => {
                let want = slow.invalidate(|e| e.asid == Some(asid));
                assert_eq!(fast.invalidate_asid(asid), want, "{case}: step {step}");
            }
            Op::InvalidateAll => {
                let want = slow.invalidate(|_| true);
                assert_eq!(fast.invalidate_all(), want, "{case}: step {step}");
            }
        }
    }
    let placed: Vec<(Option<Asid>, Translation)> =
        fast.entries().into_iter().map(|r| (r.asid, r.translation)).collect();
    assert_eq!(placed, slow.entries(), "{case}: the same entry in the same way");
    // The sequence must exercise what it claims to.
    assert!(hits > 0, "{case}: no hits");
    if sizes.contains(&12) {
        assert!(evictions > 0, "{case}: no evictions");
    }
    assert_eq!(fast.stats().evictions, evictions, "{case}");
}

#[test]
fn every_policy_and_geometry_agrees_with_the_reference_model() {
    for (entries, ways) in GEOMETRIES {
        for policy in POLICIES {
            if policy == Replacement::TreePlru && !ways.is_power_of_two() {
                continue;
            }
            for sizes in SIZE_SETS {
                for seed in [1, 2] {
                    // Enough fills to cycle through every set several times.
                    run(entries, ways, policy, sizes, seed, (entries as usize * 12).max(3000));
                }
            }
        }
    }
}

#[test]
fn long_sequences_on_the_benched_geometries() {
    for (entries, ways) in [(64, 4), (64, 64), (1536, 12)] {
        for policy in POLICIES {
            if policy == Replacement::TreePlru && ways == 12 {
                continue;
            }
            run(entries, ways, policy, &[12, 22], 7, 40_000);
        }
    }
}

/// A random sequence through an inclusive hierarchy: after every operation, each
/// L1 entry is covered by an L2 entry of the same address space.
#[test]
fn an_inclusive_hierarchy_keeps_every_l1_entry_in_the_l2() {
    let l1 = |name: &str, serves, policy| TlbConfig { name: name.into(), serves, ..config(16, 4, policy) };
    for policy in POLICIES {
        let c = TlbHierarchyConfig {
            l1: vec![l1("l1i", Serves::Instructions, policy), l1("l1d", Serves::Data, policy)],
            l2: Some(TlbConfig { name: "l2".into(), ..config(32, 2, policy) }),
            inclusion: Inclusion::Inclusive,
            asids: AsidMode::Tagged,
            walk_caches: vec![],
        };
        c.validate().unwrap();
        c.validate_for_format(&[PageShift::new(12), PageShift::new(22)], 2).unwrap();
        let mut h = TlbHierarchy::new(&c, &[PageShift::new(12), PageShift::new(22)], 3);
        let mut ops = Ops { rng: ChaCha8Rng::seed_from_u64(5), pool: 96 };
        for step in 0..5000 {
            let access = if ops.rng.random_range(0..2) == 0 {
                mmu_core::AccessKind::Fetch
            } else {
                mmu_core::AccessKind::Read
            };
            match ops.next() {
                Op::Lookup(vaddr, asid) => {
                    let _ = h.lookup(mmu_core::Cycle::ZERO, vaddr, asid, access);
                }
                Op::Fill(vaddr, t, asid) => h.fill(vaddr, t, asid, access),
                Op::InvalidateVa(vaddr) => {
                    h.invalidate_va(vaddr);
                }
                Op::InvalidateVaAsid(vaddr, asid) => {
                    h.invalidate_va_asid(vaddr, asid);
                }
                Op::InvalidateAsid(asid) => {
                    h.invalidate_asid(asid);
                }
                Op::InvalidateAll => {
                    h.invalidate_all();
                }
            }
            let l2 = h.l2().unwrap().entries();
            for tlb in h.l1() {
                for e in tlb.entries() {
                    let t = e.translation;
                    let covered = l2.iter().any(|o| {
                        o.asid == e.asid
                            && o.translation.page_shift.bits() >= t.page_shift.bits()
                            && t.vpn.as_u32() >> (o.translation.page_shift.bits() - t.page_shift.bits())
                                == o.translation.vpn.as_u32()
                    });
                    assert!(covered, "{policy:?} step {step}: {} holds {e:?}, the L2 does not", tlb.name());
                }
            }
        }
        let back: u64 = h.stats().iter().map(|(_, s)| s.back_invalidations).sum();
        assert!(back > 0, "{policy:?}: the sequence never exercised inclusion");
    }
}
