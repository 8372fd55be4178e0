//! TLB configs: one level's geometry and policy, the hierarchy they form, and the
//! page-walk caches beside it.

use mmu_core::config::{InvalidField, is_power_of_two};
use mmu_core::{Cycles, PageShift};
use serde::{Deserialize, Serialize};

/// Which accesses a TLB serves.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum Serves {
    /// Instruction fetches only (an L1 iTLB).
    Instructions,
    /// Loads and stores only (an L1 dTLB).
    Data,
    /// Everything (a unified TLB).
    Both,
}

impl Serves {
    /// Whether an access of this side (`is_fetch`) goes to this TLB.
    pub const fn serves(self, is_fetch: bool) -> bool {
        match self {
            Serves::Instructions => is_fetch,
            Serves::Data => !is_fetch,
            Serves::Both => true,
        }
    }
}

/// How a full set picks the entry to evict. In every policy a fill first takes the
/// lowest-numbered invalid way of the set; the policy only chooses among valid ways.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub enum Replacement {
    /// Least recently used, exactly (a use is a hit, a fill or a refill in place).
    #[default]
    Lru,
    /// Tree pseudo-LRU: `ways - 1` bits per set in a binary tree; each use points the
    /// bits on its path away from the used way, and the victim is found by following
    /// them. Needs a power-of-two number of ways.
    TreePlru,
    /// First in, first out: the way filled longest ago; hits do not reorder.
    Fifo,
    /// A uniformly random way, from a stream seeded by the run seed and the TLB's name.
    Random,
    /// Not recently used: one reference bit per way, set on every use; when the last
    /// clear bit of a set would be set, the others are cleared. The victim is the
    /// lowest-numbered way whose bit is clear (the "bit-PLRU" of Intel's literature).
    Nru,
}

/// Which page sizes a TLB holds.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub enum PageSizes {
    /// Every size the paging format can map (a unified TLB, a size per entry).
    #[default]
    Any,
    /// Only these sizes, in bytes (e.g. `Only([4096])`, `Only([0x400000])`). A larger
    /// page is stored as the piece of the largest smaller size held (splintered) that
    /// the access touched; a page smaller than every size held is not cached here.
    Only(Vec<u64>),
}

/// Whether the L2 must hold everything the L1s hold.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub enum Inclusion {
    /// L1 and L2 fill independently; an eviction from one leaves the other alone.
    #[default]
    NonInclusive,
    /// Every L1 entry is also in the L2: an L2 eviction removes the L1 copies too
    /// (counted as `back_invalidations` of each L1 it hits).
    Inclusive,
}

/// How TLB entries tell address spaces apart.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub enum AsidMode {
    /// Entries carry the ASID of their address space; a context switch flushes nothing.
    #[default]
    Tagged,
    /// No ASIDs: a context switch flushes every non-global entry of every TLB and
    /// walk cache (an IA-32 `CR3` write; RISC-V `sfence.vma x0, x0` with all processes
    /// on ASID 0 keeping globals), counted as `context_switch_flushes`.
    Off,
}

/// One TLB. Owned by `tlb`; composed into the machine config by cpu-sim.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TlbConfig {
    /// The name the report uses for this TLB (`tlb.<name>.hits`).
    pub name: String,
    /// Which accesses it serves.
    pub serves: Serves,
    /// Total entries; `entries / ways` must be a power of two (the set count).
    pub entries: u32,
    /// Ways per set: 1 = direct-mapped, `entries` = fully associative.
    pub ways: u32,
    /// Cycles charged for a lookup, hit or miss.
    pub hit_latency: Cycles,
    /// Replacement policy (default `Lru`).
    #[serde(default)]
    pub replacement: Replacement,
    /// Page sizes held (default `Any`: every size the format maps).
    #[serde(default)]
    pub page_sizes: PageSizes,
}

/// The most entries one TLB or walk cache may have: far beyond any real design
/// (the largest TLBs hold a few thousand), while keeping a typo from allocating
/// gigabytes of host memory (each entry costs about 50 host bytes).
pub const MAX_ENTRIES: u32 = 1 << 20;

/// The checks every set-associative array shares: a TLB's or a walk cache's.
fn validate_geometry(entries: u32, ways: u32, replacement: Replacement) -> Result<(), InvalidField> {
    if entries == 0 {
        return Err(InvalidField::new("entries", "must be at least 1, got 0"));
    }
    if entries > MAX_ENTRIES {
        return Err(InvalidField::new(
            "entries",
            format!("{entries} is more than the {MAX_ENTRIES} entries modelled per TLB or walk cache"),
        ));
    }
    if ways == 0 || ways > entries || entries % ways != 0 {
        return Err(InvalidField::new(
            "ways",
            format!("`ways` ({ways}) must be between 1 and `entries` and divide `entries` ({entries})"),
        ));
    }
    let sets = entries / ways;
    if !is_power_of_two(u64::from(sets)) {
        return Err(InvalidField::new(
            "ways",
            format!(
                "`entries / ways` = {sets} sets must be a power of two, since sets are indexed by VPN bits (entries {entries}, ways {ways})"
            ),
        ));
    }
    if replacement == Replacement::TreePlru && !is_power_of_two(u64::from(ways)) {
        return Err(InvalidField::new(
            "replacement",
            format!("`TreePlru` needs a power-of-two number of ways for its bit tree, got {ways}"),
        ));
    }
    Ok(())
}

fn validate_name(name: &str) -> Result<(), InvalidField> {
    if name.is_empty() || !name.chars().all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-') {
        return Err(InvalidField::new(
            "name",
            format!("must be non-empty letters, digits, `_` or `-`, got {name:?}"),
        ));
    }
    Ok(())
}

impl TlbConfig {
    /// Checks the geometry, the policy and the page-size list.
    ///
    /// # Errors
    /// The first field that breaks a rule, named relative to this struct.
    pub fn validate(&self) -> Result<(), InvalidField> {
        validate_name(&self.name)?;
        validate_geometry(self.entries, self.ways, self.replacement)?;
        if let PageSizes::Only(sizes) = &self.page_sizes {
            if sizes.is_empty() {
                return Err(InvalidField::new(
                    "page_sizes",
                    "`Only([])` holds nothing; list at least one size",
                ));
            }
            for (i, &bytes) in sizes.iter().enumerate() {
                if !is_power_of_two(bytes) || !(4..=1 << 31).contains(&bytes) {
                    return Err(InvalidField::new(
                        format!("page_sizes[{i}]"),
                        format!("{bytes} bytes is not a page size: a power of two from 4 to 2^31"),
                    ));
                }
                if sizes[..i].contains(&bytes) {
                    return Err(InvalidField::new(
                        format!("page_sizes[{i}]"),
                        format!("{bytes} bytes is listed twice"),
                    ));
                }
            }
        }
        Ok(())
    }

    /// The page sizes this TLB holds, smallest first, given the sizes the format
    /// maps (`format_sizes`).
    ///
    /// # Errors
    /// `page_sizes` names a size the format cannot produce.
    pub fn resolve_sizes(&self, format_sizes: &[PageShift]) -> Result<Vec<PageShift>, InvalidField> {
        let mut out = match &self.page_sizes {
            PageSizes::Any => format_sizes.to_vec(),
            PageSizes::Only(sizes) => {
                let mut out = Vec::with_capacity(sizes.len());
                for (i, &bytes) in sizes.iter().enumerate() {
                    let size = PageShift::new(bytes.trailing_zeros() as u8);
                    if !format_sizes.contains(&size) {
                        let offered: Vec<String> =
                            format_sizes.iter().map(|p| p.bytes().to_string()).collect();
                        return Err(InvalidField::new(
                            format!("page_sizes[{i}]"),
                            format!(
                                "{bytes} bytes is not a page size this paging format maps (it maps {})",
                                offered.join(", ")
                            ),
                        ));
                    }
                    out.push(size);
                }
                out
            }
        };
        out.sort_unstable();
        Ok(out)
    }
}

/// One level of page-walk cache: a set-associative cache of the pointer PTEs read
/// at one level of the page table (a page-structure cache, Barr, Cox and Rixner,
/// ISCA 2010, "split" design: one cache per level).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct WalkCacheConfig {
    /// The name the report uses (`walk_cache.<name>.hits`).
    pub name: String,
    /// The level (RISC-V numbering: the root is `levels - 1`, the leaf level 0) of
    /// the pointer PTEs cached. An entry maps the VA bits that select such a PTE to
    /// the table it points at, so a hit skips every PTE read from the root down to
    /// and including this level. Sv32 has one: 1 (the root's PTEs).
    pub pte_level: u8,
    /// Total entries; `entries / ways` must be a power of two.
    pub entries: u32,
    /// Ways per set.
    pub ways: u32,
    /// Cycles per lookup. All levels are probed in parallel before a walk, so a walk
    /// pays the largest latency of the configured levels, hit or miss.
    pub hit_latency: Cycles,
    /// Replacement policy (default `Lru`).
    #[serde(default)]
    pub replacement: Replacement,
}

impl WalkCacheConfig {
    /// Checks name and geometry (the level is checked against the format later).
    ///
    /// # Errors
    /// The first field that breaks a rule, named relative to this struct.
    pub fn validate(&self) -> Result<(), InvalidField> {
        validate_name(&self.name)?;
        validate_geometry(self.entries, self.ways, self.replacement)
    }
}

/// The TLB hierarchy: L1 TLBs looked up in parallel by side, then an optional L2,
/// and the page-walk caches the walker consults on a miss in both.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TlbHierarchyConfig {
    /// First-level TLBs. Several may serve one side if they split the page sizes
    /// between them (e.g. a 4 KiB dTLB beside a 4 MiB dTLB).
    pub l1: Vec<TlbConfig>,
    /// Optional second-level TLB, looked up after an L1 miss.
    #[serde(default)]
    pub l2: Option<TlbConfig>,
    /// Whether the L2 includes the L1s (default `NonInclusive`).
    #[serde(default)]
    pub inclusion: Inclusion,
    /// ASID tags, or a flush on every context switch (default `Tagged`).
    #[serde(default)]
    pub asids: AsidMode,
    /// Page-walk caches, at most one per page-table level (default none).
    #[serde(default)]
    pub walk_caches: Vec<WalkCacheConfig>,
}

impl TlbHierarchyConfig {
    /// Checks every level and that names are unique; the rules that depend on the
    /// paging format are in [`TlbHierarchyConfig::validate_for_format`].
    ///
    /// # Errors
    /// The first field that breaks a rule, named relative to this struct.
    pub fn validate(&self) -> Result<(), InvalidField> {
        for (i, tlb) in self.l1.iter().enumerate() {
            tlb.validate().map_err(|e| e.within(&format!("[{i}]")).within("l1"))?;
        }
        if let Some(l2) = &self.l2 {
            l2.validate().map_err(|e| e.within("l2"))?;
        }
        let mut names: Vec<&str> = self.levels().map(|t| t.name.as_str()).collect();
        names.sort_unstable();
        if let Some(w) = names.windows(2).find(|w| w[0] == w[1]) {
            return Err(InvalidField::new(
                "l1",
                format!("TLB name {:?} is used twice; names key the report", w[0]),
            ));
        }
        for (i, wc) in self.walk_caches.iter().enumerate() {
            wc.validate().map_err(|e| e.within(&format!("[{i}]")).within("walk_caches"))?;
            if let Some(other) = self.walk_caches[..i].iter().find(|o| o.name == wc.name) {
                return Err(InvalidField::new(
                    format!("walk_caches[{i}].name"),
                    format!("walk-cache name {:?} is used twice; names key the report", other.name),
                ));
            }
        }
        Ok(())
    }

    /// Checks the rules that depend on the paging format: page sizes each TLB holds,
    /// the split of sizes between L1s of one side, inclusion, and walk-cache levels.
    /// `format_sizes` are the leaf page sizes of the format, `levels`
    /// its number of page-table levels.
    ///
    /// # Errors
    /// The first field that breaks a rule, named relative to this struct.
    pub fn validate_for_format(&self, format_sizes: &[PageShift], levels: u8) -> Result<(), InvalidField> {
        let mut l1_sizes = Vec::with_capacity(self.l1.len());
        for (i, tlb) in self.l1.iter().enumerate() {
            l1_sizes
                .push(tlb.resolve_sizes(format_sizes).map_err(|e| e.within(&format!("[{i}]")).within("l1"))?);
        }
        let l2_sizes = match &self.l2 {
            Some(l2) => Some(l2.resolve_sizes(format_sizes).map_err(|e| e.within("l2"))?),
            None => None,
        };
        for is_fetch in [true, false] {
            let side = if is_fetch { "instruction fetches" } else { "data accesses" };
            let serving: Vec<usize> =
                (0..self.l1.len()).filter(|&i| self.l1[i].serves.serves(is_fetch)).collect();
            for (n, &i) in serving.iter().enumerate() {
                for &j in &serving[..n] {
                    if let Some(size) = l1_sizes[i].iter().find(|b| l1_sizes[j].contains(b)) {
                        return Err(InvalidField::new(
                            format!("l1[{i}].page_sizes"),
                            format!(
                                "{:?} and {:?} both serve {side} and both hold {}-byte pages; L1 TLBs of one side must split the page sizes between them",
                                self.l1[j].name,
                                self.l1[i].name,
                                size.bytes()
                            ),
                        ));
                    }
                }
            }
        }
        if self.inclusion == Inclusion::Inclusive {
            let (Some(l2), Some(l2_sizes)) = (&self.l2, &l2_sizes) else {
                return Err(InvalidField::new("inclusion", "`Inclusive` needs an L2 to include the L1s"));
            };
            for (i, tlb) in self.l1.iter().enumerate() {
                let side_missing = match (tlb.serves, l2.serves) {
                    (_, Serves::Both) => false,
                    (a, b) => a != b,
                };
                if side_missing {
                    return Err(InvalidField::new(
                        "inclusion",
                        format!(
                            "`Inclusive`: L2 {:?} serves {:?} only, so it cannot include L1 {:?}, which serves {:?}",
                            l2.name, l2.serves, tlb.name, tlb.serves
                        ),
                    ));
                }
                if let Some(size) = l1_sizes[i].iter().find(|b| !l2_sizes.contains(b)) {
                    return Err(InvalidField::new(
                        "inclusion",
                        format!(
                            "`Inclusive`: L1 {:?} holds {}-byte pages but L2 {:?} does not",
                            tlb.name,
                            size.bytes(),
                            l2.name
                        ),
                    ));
                }
            }
        }
        for (i, wc) in self.walk_caches.iter().enumerate() {
            if wc.pte_level == 0 || wc.pte_level >= levels {
                return Err(InvalidField::new(
                    format!("walk_caches[{i}].pte_level"),
                    format!(
                        "{} holds no pointer PTEs: this format's pointers are at levels 1..={} (the root is {})",
                        wc.pte_level,
                        levels.saturating_sub(1),
                        levels.saturating_sub(1)
                    ),
                ));
            }
            if let Some(other) = self.walk_caches[..i].iter().find(|o| o.pte_level == wc.pte_level) {
                return Err(InvalidField::new(
                    format!("walk_caches[{i}].pte_level"),
                    format!(
                        "level {} already has walk cache {:?}; one cache per level",
                        wc.pte_level, other.name
                    ),
                ));
            }
        }
        Ok(())
    }

    /// Every configured TLB, L1s first, in config order.
    pub fn levels(&self) -> impl Iterator<Item = &TlbConfig> {
        self.l1.iter().chain(self.l2.iter())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn tlb(entries: u32, ways: u32) -> TlbConfig {
        TlbConfig {
            name: "l1d".into(),
            serves: Serves::Data,
            entries,
            ways,
            hit_latency: Cycles::new(1),
            replacement: Replacement::Lru,
            page_sizes: PageSizes::Any,
        }
    }

    fn hierarchy(l1: Vec<TlbConfig>, l2: Option<TlbConfig>) -> TlbHierarchyConfig {
        TlbHierarchyConfig {
            l1,
            l2,
            inclusion: Inclusion::NonInclusive,
            asids: AsidMode::Tagged,
            walk_caches: vec![],
        }
    }

    const SV32: &[PageShift] = &[PageShift::new(12), PageShift::new(22)];

    #[test]
    fn geometry_rules() {
        assert!(tlb(64, 4).validate().is_ok());
        assert!(tlb(64, 64).validate().is_ok());
        assert!(tlb(64, 1).validate().is_ok());
        assert!(tlb(1536, 12).validate().is_ok(), "128 sets of 12 ways, as in a real L2");
        assert_eq!(tlb(0, 1).validate().unwrap_err().field, "entries");
        // 48 / 4 = 12 sets: not a power of two.
        assert_eq!(tlb(48, 4).validate().unwrap_err().field, "ways");
        let e = tlb(32, 3).validate().unwrap_err();
        assert_eq!(e.field, "ways");
        assert!(e.message.contains("(3)") && e.message.contains("(32)"), "{}", e.message);
        assert_eq!(tlb(32, 0).validate().unwrap_err().field, "ways");
        assert_eq!(tlb(64, 128).validate().unwrap_err().field, "ways");
        let plru12 = TlbConfig { replacement: Replacement::TreePlru, ..tlb(1536, 12) };
        assert_eq!(plru12.validate().unwrap_err().field, "replacement");
    }

    #[test]
    fn page_size_rules() {
        let only = |sizes: Vec<u64>| TlbConfig { page_sizes: PageSizes::Only(sizes), ..tlb(64, 4) };
        assert_eq!(only(vec![]).validate().unwrap_err().field, "page_sizes");
        assert_eq!(only(vec![4096, 3000]).validate().unwrap_err().field, "page_sizes[1]");
        assert_eq!(only(vec![4096, 4096]).validate().unwrap_err().field, "page_sizes[1]");
        assert_eq!(only(vec![0x40_0000, 4096]).resolve_sizes(SV32).unwrap(), SV32);
        let e = only(vec![8192]).resolve_sizes(SV32).unwrap_err();
        assert_eq!(e.field, "page_sizes[0]");
        assert!(e.message.contains("4096, 4194304"), "{}", e.message);
        assert_eq!(tlb(64, 4).resolve_sizes(SV32).unwrap(), SV32);
    }

    #[test]
    fn hierarchy_paths_and_names() {
        let h = hierarchy(vec![tlb(64, 4), tlb(16, 3)], None);
        assert_eq!(h.validate().unwrap_err().field, "l1[1].ways");
        let mut dup = tlb(64, 4);
        dup.serves = Serves::Instructions;
        let h = hierarchy(vec![tlb(64, 4), dup], None);
        assert!(h.validate().unwrap_err().message.contains("used twice"));
        let h = hierarchy(vec![tlb(64, 4)], Some(TlbConfig { name: "l2".into(), ..tlb(512, 5) }));
        assert_eq!(h.validate().unwrap_err().field, "l2.ways");
    }

    #[test]
    fn one_side_may_split_page_sizes_but_not_share_them() {
        let small = TlbConfig { page_sizes: PageSizes::Only(vec![4096]), ..tlb(64, 4) };
        let big =
            TlbConfig { name: "l1d_4m".into(), page_sizes: PageSizes::Only(vec![0x40_0000]), ..tlb(32, 4) };
        let h = hierarchy(vec![small.clone(), big.clone()], None);
        h.validate().unwrap();
        h.validate_for_format(SV32, 2).unwrap();
        let any = TlbConfig { name: "l1d_any".into(), ..tlb(32, 4) };
        let e = hierarchy(vec![small, any], None).validate_for_format(SV32, 2).unwrap_err();
        assert_eq!(e.field, "l1[1].page_sizes");
        assert!(e.message.contains("4096-byte") && e.message.contains("data accesses"), "{}", e.message);
    }

    #[test]
    fn inclusion_needs_an_l2_covering_every_l1() {
        let mut h = hierarchy(vec![tlb(64, 4)], None);
        h.inclusion = Inclusion::Inclusive;
        assert_eq!(h.validate_for_format(SV32, 2).unwrap_err().field, "inclusion");
        h.l2 = Some(TlbConfig {
            name: "l2".into(),
            page_sizes: PageSizes::Only(vec![4096]),
            serves: Serves::Both,
            ..tlb(512, 4)
        });
        let e = h.validate_for_format(SV32, 2).unwrap_err();
        assert!(e.message.contains("4194304-byte"), "{}", e.message);
        h.l2.as_mut().unwrap().page_sizes = PageSizes::Any;
        h.validate_for_format(SV32, 2).unwrap();
        h.l2.as_mut().unwrap().serves = Serves::Instructions;
        assert!(h.validate_for_format(SV32, 2).unwrap_err().message.contains("cannot include"));
    }

    #[test]
    fn walk_cache_levels_must_hold_pointers() {
        let wc = |name: &str, pte_level| WalkCacheConfig {
            name: name.into(),
            pte_level,
            entries: 16,
            ways: 4,
            hit_latency: Cycles::new(1),
            replacement: Replacement::Lru,
        };
        let mut h = hierarchy(vec![tlb(64, 4)], None);
        h.walk_caches = vec![wc("pde", 1)];
        h.validate().unwrap();
        h.validate_for_format(SV32, 2).unwrap();
        h.walk_caches = vec![wc("pde", 0)];
        assert_eq!(h.validate_for_format(SV32, 2).unwrap_err().field, "walk_caches[0].pte_level");
        h.walk_caches = vec![wc("pde", 2)];
        assert_eq!(h.validate_for_format(SV32, 2).unwrap_err().field, "walk_caches[0].pte_level");
        h.walk_caches = vec![wc("a", 1), wc("b", 1)];
        assert_eq!(h.validate_for_format(SV32, 2).unwrap_err().field, "walk_caches[1].pte_level");
        h.walk_caches = vec![wc("a", 1), wc("a", 2)];
        assert_eq!(h.validate().unwrap_err().field, "walk_caches[1].name");
        h.walk_caches = vec![WalkCacheConfig { ways: 3, ..wc("a", 1) }];
        assert_eq!(h.validate().unwrap_err().field, "walk_caches[0].ways");
    }
}
