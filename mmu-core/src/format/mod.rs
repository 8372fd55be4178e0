//! Paging formats: the geometry of a radix page table and the encoding of its PTEs.
//!
//! Every format is described by a [`Geometry`] (levels, index bits per level, page
//! offset bits, PTE size) and decodes its PTEs into one format-independent
//! [`PteView`]. A single walker loop ([`crate::walker`]) is driven by these two,
//! as Spike's `vm_info` drives its one walk routine.

mod radix;
mod sv32;
mod x86;

pub use radix::{LevelBits, MAX_PHYS_ADDR_BITS, RISCV_PPN_BITS, Radix};
pub use sv32::Sv32Pte;
pub use x86::{X86_32, X86Pte};

use crate::access::{AccessKind, PrivilegeState};
use crate::addr::{PageShift, PhysAddr, Ppn, VirtAddr};
use crate::config::{InvalidField, is_power_of_two};
use crate::perms::Perms;
use serde::{Deserialize, Serialize};

/// The largest number of levels any format may have.
pub const MAX_LEVELS: usize = 8;

/// The shape of a radix page table.
///
/// Levels are numbered as the RISC-V spec numbers them: the root is `levels - 1`,
/// the last level is 0, and `index_bits[i]` is the width of VPN\[i\].
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Geometry {
    levels: u8,
    index_bits: [u8; MAX_LEVELS],
    page_bits: u8,
    pte_bytes: u8,
}

impl Geometry {
    /// A geometry from root-first index widths, e.g. `&[10, 10]` and 12 for Sv32.
    ///
    /// # Panics
    /// If there are no levels or more than [`MAX_LEVELS`]; configs are validated
    /// before a geometry is built, so this is a bug in the caller.
    pub fn new(root_first_bits: &[u8], page_bits: u8, pte_bytes: u8) -> Self {
        assert!(
            !root_first_bits.is_empty() && root_first_bits.len() <= MAX_LEVELS,
            "a geometry has 1..={MAX_LEVELS} levels, got {}",
            root_first_bits.len()
        );
        let levels = root_first_bits.len() as u8;
        let mut index_bits = [0; MAX_LEVELS];
        for (i, &bits) in root_first_bits.iter().rev().enumerate() {
            index_bits[i] = bits;
        }
        Self { levels, index_bits, page_bits, pte_bytes }
    }
    /// Number of levels in a walk.
    pub const fn levels(&self) -> u8 {
        self.levels
    }
    /// The root's level number (`levels - 1`).
    pub const fn root_level(&self) -> u8 {
        self.levels - 1
    }
    /// Width of VPN\[level\].
    pub const fn index_bits(&self, level: u8) -> u8 {
        self.index_bits[level as usize]
    }
    /// The size of a base page.
    pub const fn page_shift(&self) -> PageShift {
        PageShift::new(self.page_bits)
    }
    /// Bytes in one base page.
    pub const fn page_bytes(&self) -> u64 {
        1 << self.page_bits
    }
    /// Bytes in one PTE.
    pub const fn pte_bytes(&self) -> u8 {
        self.pte_bytes
    }
    /// The VA bit where VPN\[level\] starts; also log2 of the size a leaf at `level` maps.
    pub const fn index_shift(&self, level: u8) -> u8 {
        let mut shift = self.page_bits;
        let mut i = 0;
        while i < level {
            shift += self.index_bits[i as usize];
            i += 1;
        }
        shift
    }
    /// The size of the page a leaf at `level` maps (4 KiB at level 0, 4 MiB at 1 in Sv32).
    pub const fn leaf_page_shift(&self, level: u8) -> PageShift {
        PageShift::new(self.index_shift(level))
    }
    /// VPN\[level\] of `vaddr`.
    pub const fn index(&self, vaddr: VirtAddr, level: u8) -> u32 {
        vaddr.field(self.index_shift(level), self.index_bits(level))
    }
    /// Entries in one table at `level`.
    pub const fn entries_per_table(&self, level: u8) -> u64 {
        1 << self.index_bits(level)
    }
    /// Bytes in one table at `level`.
    pub const fn table_bytes(&self, level: u8) -> u64 {
        self.entries_per_table(level) * self.pte_bytes as u64
    }
    /// Physical address of the PTE for `vaddr` in the table at `table` of `level`.
    pub const fn pte_addr(&self, table: PhysAddr, vaddr: VirtAddr, level: u8) -> PhysAddr {
        PhysAddr::new(table.as_u64() + self.index(vaddr, level) as u64 * self.pte_bytes as u64)
    }
    /// Page sizes a leaf may map, smallest first.
    pub fn leaf_sizes(&self) -> impl Iterator<Item = PageShift> + '_ {
        (0..self.levels).map(|l| self.leaf_page_shift(l))
    }
}

/// One PTE, decoded into what the walker needs to know, whatever its format.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum PteView {
    /// Not valid / not present: a page fault of kind `NotPresent`.
    Invalid,
    /// A reserved encoding (Sv32 `W = 1, R = 0`, IA-32 reserved bits set).
    Reserved,
    /// A pointer to the next-level table.
    Pointer {
        /// Physical address of the next table.
        next: PhysAddr,
        /// Rights this entry grants to everything below it (`Perms::ALL` for Sv32,
        /// whose pointers carry none; IA-32 ANDs R/W and U/S down the walk).
        perms: Perms,
        /// The entry's accessed bit, for formats whose hardware sets it on pointers.
        accessed: Option<bool>,
        /// The entry is global, so every mapping below it is.
        global: bool,
    },
    /// A leaf: the translation.
    Leaf {
        /// PPN of the (super)page, in base-page units.
        ppn: Ppn,
        /// Rights the leaf grants.
        perms: Perms,
        /// Global mapping: present in every address space.
        global: bool,
        /// Accessed bit.
        accessed: bool,
        /// Dirty bit.
        dirty: bool,
    },
}

/// What a format's PTE encoding must provide for the walker, the TLB's cached
/// permission check and the OS that builds tables.
pub trait PageTableFormat {
    /// The table shape.
    fn geometry(&self) -> &Geometry;
    /// Decodes a raw PTE found at `level`.
    fn decode(&self, raw: u32, level: u8) -> PteView;
    /// Whether `perms` (the effective rights of a translation) allow `access` in `state`.
    fn permits(&self, perms: Perms, access: AccessKind, state: &PrivilegeState) -> bool;
    /// The PTE with its accessed bit set.
    fn with_accessed(&self, raw: u32) -> u32;
    /// The PTE with its dirty bit set.
    fn with_dirty(&self, raw: u32) -> u32;
    /// The PTE with its accessed bit cleared (Clock's second chance).
    fn without_accessed(&self, raw: u32) -> u32;
    /// A valid leaf mapping `ppn` with `perms`, A and D clear.
    fn encode_leaf(&self, ppn: Ppn, perms: Perms, global: bool) -> u32;
    /// A valid leaf at `level` (a superpage above level 0) whose page starts at
    /// frame `ppn`, with `perms`, A and D clear. `None` when the format maps no
    /// leaf at that level (IA-32 without `CR4.PSE`, a flat table). The default
    /// writes [`PageTableFormat::encode_leaf`], if it decodes as a leaf there.
    fn encode_leaf_at(&self, level: u8, ppn: Ppn, perms: Perms, global: bool) -> Option<u32> {
        let raw = self.encode_leaf(ppn, perms, global);
        let fits = level < self.geometry().levels();
        (fits && matches!(self.decode(raw, level), PteView::Leaf { .. })).then_some(raw)
    }
    /// A valid pointer to the table in frame `next`.
    fn encode_pointer(&self, next: Ppn) -> u32;
    /// Whether a PTE that `perms` describes can be encoded (Sv32 has no write-only).
    fn can_encode(&self, perms: Perms) -> bool;
    /// Bits in a PTE's PPN field: the frames the table can point at.
    fn ppn_bits(&self) -> u8;
    /// Bits of physical address the format can produce.
    fn phys_addr_bits(&self) -> u8;
}

/// Who updates the A and D bits: the walker in hardware, or software after a fault.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub enum AdUpdate {
    /// The walker sets A (and D on a store) with a PTE write to DRAM (Svadu).
    #[default]
    Hardware,
    /// The walker raises an `AccessedDirty` page fault; the OS sets the bits (Svade).
    Fault,
}

/// The paging format of a machine, as written in its config.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub enum PagingConfig {
    /// RISC-V Sv32: two levels of 10 index bits, 4 KiB pages, 4 MiB megapages.
    Sv32,
    /// IA-32 32-bit paging without PAE: 10 | 10 | 12, 4 MiB pages when `pse`.
    X86_32 {
        /// `CR4.PSE`: a PDE with PS = 1 maps a 4 MiB page.
        pse: bool,
    },
    /// One level of `2^32 / page_bytes` RISC-V PTEs: the seed's naive table.
    Flat {
        /// Bytes per page: a power of two from 4 (one word per page: a 4 GiB
        /// table) to 2^31.
        page_bytes: u64,
    },
    /// A radix tree of RISC-V PTEs with any number of levels.
    Radix {
        /// Index bits per level, root first; with `page_bits` they add up to 32.
        index_bits: LevelBits,
        /// log2 of the base page size: 2 (a word) to 30.
        page_bits: u8,
    },
}

impl PagingConfig {
    /// Checks the geometry a config describes.
    ///
    /// # Errors
    /// The first field that breaks a rule, named relative to the variant.
    pub fn validate(&self) -> Result<(), InvalidField> {
        match self {
            PagingConfig::Sv32 | PagingConfig::X86_32 { .. } => Ok(()),
            PagingConfig::Flat { page_bytes } => {
                if !is_power_of_two(*page_bytes) || !(4..=1 << 31).contains(page_bytes) {
                    return Err(InvalidField::new(
                        "page_bytes",
                        format!(
                            "must be a power of two from 4 (one word per page) to 2^31 \
                             (two pages), got {page_bytes}"
                        ),
                    ));
                }
                Ok(())
            }
            PagingConfig::Radix { index_bits, page_bits } => {
                let bits = index_bits.as_slice();
                if bits.is_empty() {
                    return Err(InvalidField::new("index_bits", "needs at least one level"));
                }
                if let Some(level) = bits.iter().position(|&b| b == 0) {
                    return Err(InvalidField::new(
                        "index_bits",
                        format!("entry {level} is 0: every level indexes at least one bit"),
                    ));
                }
                if !(2..=30).contains(page_bits) {
                    return Err(InvalidField::new(
                        "page_bits",
                        format!("must be from 2 (one word per page) to 30, got {page_bits}"),
                    ));
                }
                let sum: u32 = bits.iter().map(|&b| u32::from(b)).sum::<u32>() + u32::from(*page_bits);
                if sum != 32 {
                    let terms: Vec<String> = bits.iter().map(u8::to_string).collect();
                    return Err(InvalidField::new(
                        "index_bits",
                        format!(
                            "index bits ({}) plus page_bits ({page_bits}) add up to {sum}; \
                             they must cover the 32-bit virtual address exactly",
                            terms.join(" + ")
                        ),
                    ));
                }
                Ok(())
            }
        }
    }

    /// Builds the format this config names.
    ///
    /// # Panics
    /// If the config does not pass [`PagingConfig::validate`] (models are built only
    /// from validated configs).
    pub fn build(&self) -> Paging {
        match self {
            PagingConfig::Sv32 => Paging::Sv32(Radix::sv32()),
            PagingConfig::X86_32 { pse } => Paging::X86_32(X86_32::new(*pse)),
            PagingConfig::Flat { page_bytes } => Paging::Flat(Radix::flat(page_bytes.trailing_zeros() as u8)),
            PagingConfig::Radix { index_bits, page_bits } => {
                Paging::Radix(Radix::new(index_bits.as_slice(), *page_bits))
            }
        }
    }
}

/// A paging format, dispatched by `match` so the hot path never goes through a vtable.
#[derive(Clone, Debug)]
pub enum Paging {
    /// RISC-V Sv32: a radix tree of RISC-V PTEs with Sv32's geometry.
    Sv32(Radix),
    /// IA-32 32-bit paging.
    X86_32(X86_32),
    /// One level of RISC-V PTEs.
    Flat(Radix),
    /// A radix tree of RISC-V PTEs.
    Radix(Radix),
}

macro_rules! dispatch {
    ($self:ident, $f:ident => $e:expr) => {
        match $self {
            Paging::X86_32($f) => $e,
            Paging::Sv32($f) | Paging::Flat($f) | Paging::Radix($f) => $e,
        }
    };
}

impl PageTableFormat for Paging {
    #[inline]
    fn geometry(&self) -> &Geometry {
        dispatch!(self, f => f.geometry())
    }
    #[inline]
    fn decode(&self, raw: u32, level: u8) -> PteView {
        dispatch!(self, f => f.decode(raw, level))
    }
    #[inline]
    fn permits(&self, perms: Perms, access: AccessKind, state: &PrivilegeState) -> bool {
        dispatch!(self, f => f.permits(perms, access, state))
    }
    fn with_accessed(&self, raw: u32) -> u32 {
        dispatch!(self, f => f.with_accessed(raw))
    }
    fn with_dirty(&self, raw: u32) -> u32 {
        dispatch!(self, f => f.with_dirty(raw))
    }
    fn without_accessed(&self, raw: u32) -> u32 {
        dispatch!(self, f => f.without_accessed(raw))
    }
    fn encode_leaf(&self, ppn: Ppn, perms: Perms, global: bool) -> u32 {
        dispatch!(self, f => f.encode_leaf(ppn, perms, global))
    }
    fn encode_leaf_at(&self, level: u8, ppn: Ppn, perms: Perms, global: bool) -> Option<u32> {
        dispatch!(self, f => f.encode_leaf_at(level, ppn, perms, global))
    }
    fn encode_pointer(&self, next: Ppn) -> u32 {
        dispatch!(self, f => f.encode_pointer(next))
    }
    fn can_encode(&self, perms: Perms) -> bool {
        dispatch!(self, f => f.can_encode(perms))
    }
    fn ppn_bits(&self) -> u8 {
        dispatch!(self, f => f.ppn_bits())
    }
    fn phys_addr_bits(&self) -> u8 {
        dispatch!(self, f => f.phys_addr_bits())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sv32_geometry_shifts_and_sizes() {
        let g = Geometry::new(&[10, 10], 12, 4);
        assert_eq!(g.levels(), 2);
        assert_eq!(g.root_level(), 1);
        assert_eq!(g.index_shift(0), 12);
        assert_eq!(g.index_shift(1), 22);
        assert_eq!(g.leaf_page_shift(1), PageShift::new(22)); // 4 MiB megapage
        assert_eq!(g.table_bytes(1), 4096);
        assert_eq!(g.leaf_sizes().map(PageShift::bits).collect::<Vec<_>>(), vec![12, 22]);
        // VPN[1] = 0x3ff, VPN[0] = 0x001 -> PTE at table + 4 * index.
        let va = VirtAddr::new(0xffc0_1abc);
        assert_eq!(g.index(va, 1), 0x3ff);
        assert_eq!(g.index(va, 0), 0x001);
        assert_eq!(g.pte_addr(PhysAddr::new(0x8000), va, 1), PhysAddr::new(0x8000 + 0x3ff * 4));
    }

    fn radix(bits: &[u8], page_bits: u8) -> PagingConfig {
        PagingConfig::Radix { index_bits: LevelBits::from(bits), page_bits }
    }

    #[test]
    fn paging_configs_are_validated() {
        assert!(radix(&[4, 8, 8], 12).validate().is_ok());
        assert!(radix(&[30], 2).validate().is_ok());
        let e = radix(&[4, 8, 8], 10).validate().unwrap_err();
        assert_eq!(e.field, "index_bits");
        assert_eq!(
            e.message,
            "index bits (4 + 8 + 8) plus page_bits (10) add up to 30; they must cover the 32-bit virtual address exactly"
        );
        assert_eq!(radix(&[], 12).validate().unwrap_err().field, "index_bits");
        assert!(radix(&[10, 0, 10], 12).validate().unwrap_err().message.contains("entry 1 is 0"));
        assert_eq!(radix(&[31], 1).validate().unwrap_err().field, "page_bits");
        for bad in [0, 2, 6, 1 << 32] {
            let e = PagingConfig::Flat { page_bytes: bad }.validate().unwrap_err();
            assert_eq!(e.field, "page_bytes", "{bad}");
        }
        for good in [4, 4096, 1 << 31] {
            assert!(PagingConfig::Flat { page_bytes: good }.validate().is_ok(), "{good}");
        }
        assert!(PagingConfig::X86_32 { pse: true }.validate().is_ok());
    }

    #[test]
    fn configs_build_their_geometry() {
        let g = *PagingConfig::Flat { page_bytes: 4 }.build().geometry();
        assert_eq!((g.levels(), g.page_shift().bits(), g.table_bytes(0)), (1, 2, 4 << 30));
        let g = *radix(&[4, 8, 8], 12).build().geometry();
        assert_eq!(g.leaf_sizes().map(PageShift::bits).collect::<Vec<_>>(), vec![12, 20, 28]);
        let p = PagingConfig::X86_32 { pse: false }.build();
        assert_eq!((p.ppn_bits(), p.phys_addr_bits()), (20, 32));
    }

    #[test]
    fn superpage_leaves_are_encoded_where_the_format_maps_them() {
        let frame = Ppn::new(0x400); // 4 MiB aligned
        let leaf_at = |c: PagingConfig, level| {
            let p = c.build();
            p.encode_leaf_at(level, frame, Perms::ALL, false).map(|raw| p.decode(raw, level))
        };
        let is_leaf = |v: Option<PteView>| matches!(v, Some(PteView::Leaf { ppn, .. }) if ppn == frame);
        assert!(is_leaf(leaf_at(PagingConfig::Sv32, 1)), "an Sv32 megapage");
        assert!(is_leaf(leaf_at(PagingConfig::X86_32 { pse: true }, 1)), "a PDE with PS set");
        assert!(is_leaf(leaf_at(PagingConfig::X86_32 { pse: true }, 0)));
        assert_eq!(leaf_at(PagingConfig::X86_32 { pse: false }, 1), None, "no 4 MiB pages without PSE");
        assert_eq!(leaf_at(PagingConfig::Flat { page_bytes: 4096 }, 1), None, "one level only");
    }

    #[test]
    fn paging_configs_read_from_ron() {
        let p: PagingConfig = ron::from_str("Radix(index_bits: [4, 8, 8], page_bits: 12)").unwrap();
        assert_eq!(p, radix(&[4, 8, 8], 12));
        let p: PagingConfig = ron::from_str("X86_32(pse: true)").unwrap();
        assert_eq!(p, PagingConfig::X86_32 { pse: true });
        let p: PagingConfig = ron::from_str("Flat(page_bytes: 4)").unwrap();
        assert_eq!(p, PagingConfig::Flat { page_bytes: 4 });
        assert!(ron::from_str::<PagingConfig>("Flat(page_bytes: 4, levels: 1)").is_err());
    }

    #[test]
    fn three_level_geometry_numbers_levels_from_the_leaf() {
        // Root-first [4, 8, 8] with 12 offset bits: VPN[2] = bits 31..28.
        let g = Geometry::new(&[4, 8, 8], 12, 4);
        assert_eq!(g.index_bits(2), 4);
        assert_eq!(g.index_shift(2), 28);
        assert_eq!(g.index(VirtAddr::new(0xa000_0000), 2), 0xa);
        assert_eq!(g.table_bytes(2), 64);
    }
}
