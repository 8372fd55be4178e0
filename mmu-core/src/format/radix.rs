//! Formats for design exploration: `flat` (one level, the seed's naive table) and a
//! generic radix tree with configurable index bits per level.
//!
//! Both reuse the RISC-V PTE encoding of Sv32 (V R W X U G A D, RSW, a 22-bit PPN
//! in bits 31..10) with their own geometry, and so the Sv32 rules: a PTE with R or X
//! is a leaf at any level (a superpage above level 0, which must be aligned), a
//! pointer is `ppn × page size`, and a pointer at level 0 is a page fault. Only the
//! shape of the table changes, so a run compares table shapes and nothing else.

use super::sv32::{decode_riscv, encode_riscv_leaf, permits_riscv};
use super::{Geometry, MAX_LEVELS, PageTableFormat, PteView, Sv32Pte};
use crate::access::{AccessKind, PrivilegeState};
use crate::addr::Ppn;
use crate::perms::Perms;
use core::fmt;
use serde::{Deserialize, Serialize};

/// Bits in the PPN field of a RISC-V-style PTE (bits 31..10).
pub const RISCV_PPN_BITS: u8 = 22;

/// The widest physical address any format produces: Sv32's 34 bits, which is also
/// how far a root register (`satp.PPN × 4 KiB`) reaches.
pub const MAX_PHYS_ADDR_BITS: u8 = 34;

/// Index bits per level, root first, as a radix config lists them: `[4, 8, 8]`.
///
/// Fixed capacity ([`MAX_LEVELS`]) so the paging config stays `Copy`; a longer list
/// is refused when the config is read.
#[derive(Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(try_from = "Vec<u8>", into = "Vec<u8>")]
pub struct LevelBits {
    len: u8,
    bits: [u8; MAX_LEVELS],
}

impl LevelBits {
    /// The widths, root first.
    pub fn as_slice(&self) -> &[u8] {
        &self.bits[..self.len as usize]
    }
}

impl TryFrom<Vec<u8>> for LevelBits {
    type Error = String;
    fn try_from(v: Vec<u8>) -> Result<Self, String> {
        if v.len() > MAX_LEVELS {
            return Err(format!("at most {MAX_LEVELS} levels are modelled, got {}", v.len()));
        }
        let mut bits = [0; MAX_LEVELS];
        bits[..v.len()].copy_from_slice(&v);
        Ok(Self { len: v.len() as u8, bits })
    }
}

impl From<LevelBits> for Vec<u8> {
    fn from(l: LevelBits) -> Vec<u8> {
        l.as_slice().to_vec()
    }
}

impl<'a> From<&'a [u8]> for LevelBits {
    /// # Panics
    /// With more than [`MAX_LEVELS`] entries (a bug in the caller: configs go
    /// through `TryFrom`).
    fn from(s: &'a [u8]) -> Self {
        Self::try_from(s.to_vec()).expect("at most MAX_LEVELS levels")
    }
}

impl fmt::Debug for LevelBits {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_list().entries(self.as_slice()).finish()
    }
}

/// A radix table of RISC-V PTEs with any geometry: `flat` or `Radix`.
#[derive(Clone, Debug)]
pub struct Radix {
    geometry: Geometry,
    phys_addr_bits: u8,
}

impl Radix {
    /// RISC-V Sv32 as the spec defines it: VPN\[1\] (10) | VPN\[0\] (10) | offset
    /// (12), 22-bit PPNs, 34-bit physical addresses, 4 MiB megapages at level 1.
    pub fn sv32() -> Self {
        Self::new(&[10, 10], 12)
    }
    /// The seed's naive table: one level of `2^(32 - page_bits)` PTEs.
    ///
    /// The table is placed by the root register (34 bits of reach), so the machine
    /// may be as large as Sv32's; the PTEs' 22-bit PPNs reach `2^(22 + page_bits)`
    /// bytes of data frames.
    pub fn flat(page_bits: u8) -> Self {
        Self { geometry: Geometry::new(&[32 - page_bits], page_bits, 4), phys_addr_bits: MAX_PHYS_ADDR_BITS }
    }
    /// A tree with `root_first_bits` index bits per level over pages of
    /// `2^page_bits` bytes (validated by [`super::PagingConfig::validate`]). Every
    /// table but the root is reached through a 22-bit PPN, so the machine is as large
    /// as PTEs reach: `2^(22 + page_bits)` bytes, at most 2^34.
    pub fn new(root_first_bits: &[u8], page_bits: u8) -> Self {
        let phys_addr_bits = (RISCV_PPN_BITS + page_bits).min(MAX_PHYS_ADDR_BITS);
        Self { geometry: Geometry::new(root_first_bits, page_bits, 4), phys_addr_bits }
    }
}

impl PageTableFormat for Radix {
    #[inline]
    fn geometry(&self) -> &Geometry {
        &self.geometry
    }
    #[inline]
    fn decode(&self, raw: u32, _level: u8) -> PteView {
        decode_riscv(raw, &self.geometry)
    }
    #[inline]
    fn permits(&self, perms: Perms, access: AccessKind, state: &PrivilegeState) -> bool {
        permits_riscv(perms, access, state)
    }
    fn with_accessed(&self, raw: u32) -> u32 {
        raw | Sv32Pte::A
    }
    fn with_dirty(&self, raw: u32) -> u32 {
        raw | Sv32Pte::D
    }
    fn without_accessed(&self, raw: u32) -> u32 {
        raw & !Sv32Pte::A
    }
    fn encode_leaf(&self, ppn: Ppn, perms: Perms, global: bool) -> u32 {
        encode_riscv_leaf(ppn, perms, global)
    }
    fn encode_pointer(&self, next: Ppn) -> u32 {
        Sv32Pte::new(next, Sv32Pte::V).raw()
    }
    fn can_encode(&self, perms: Perms) -> bool {
        let reserved_write_only = perms.can_write() && !perms.can_read();
        let is_leaf = perms.can_read() || perms.can_execute();
        is_leaf && !reserved_write_only
    }
    fn ppn_bits(&self) -> u8 {
        RISCV_PPN_BITS
    }
    fn phys_addr_bits(&self) -> u8 {
        self.phys_addr_bits
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::addr::{PhysAddr, VirtAddr};

    #[test]
    fn flat_word_pages_make_the_seeds_4_gib_table() {
        // One PTE per 4-byte word: 2^30 PTEs of 4 bytes.
        let f = Radix::flat(2);
        let g = f.geometry();
        assert_eq!((g.levels(), g.index_bits(0), g.page_bytes()), (1, 30, 4));
        assert_eq!(g.table_bytes(0), 4 << 30);
        // The PTE of the word at 0x1000_0008 is entry 0x0400_0002.
        assert_eq!(g.pte_addr(PhysAddr::new(0), VirtAddr::new(0x1000_0008), 0), PhysAddr::new(0x1000_0008));
        assert_eq!(Radix::flat(12).geometry().table_bytes(0), 4 << 20);
    }

    #[test]
    fn radix_pointers_are_in_page_units_of_its_own_page_size() {
        let r = Radix::new(&[4, 8, 8], 12);
        assert_eq!(r.geometry().table_bytes(2), 64);
        assert_eq!(r.phys_addr_bits(), 34);
        assert!(matches!(
            r.decode(Sv32Pte::new(Ppn::new(5), Sv32Pte::V).raw(), 2),
            PteView::Pointer { next, .. } if next == PhysAddr::new(5 << 12)
        ));
        let small = Radix::new(&[10, 10, 4], 8);
        assert_eq!(small.phys_addr_bits(), 30, "22 PPN bits of 256-byte pages");
        assert!(matches!(
            small.decode(Sv32Pte::new(Ppn::new(5), Sv32Pte::V).raw(), 1),
            PteView::Pointer { next, .. } if next == PhysAddr::new(5 << 8)
        ));
    }

    #[test]
    fn level_bits_round_trip_through_ron_and_refuse_too_many_levels() {
        let l: LevelBits = ron::from_str("[4, 8, 8]").unwrap();
        assert_eq!(l.as_slice(), &[4, 8, 8]);
        assert_eq!(ron::to_string(&l).unwrap(), "[4,8,8]");
        let err = ron::from_str::<LevelBits>("[1, 1, 1, 1, 1, 1, 1, 1, 1]").unwrap_err();
        assert!(err.to_string().contains("at most 8 levels"), "{err}");
    }
}
