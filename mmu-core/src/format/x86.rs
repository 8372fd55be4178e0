//! IA-32 32-bit paging without PAE (Intel SDM Vol. 3A, 4.3 "32-Bit Paging").
//!
//! Linear address = directory (10) | table (10) | offset (12). CR3 holds the page
//! directory; a PDE points to a page table, or, with `CR4.PSE = 1` and `PS = 1`,
//! maps a 4 MiB page. PDE/PTE bits: P 0, R/W 1, U/S 2, PWT 3, PCD 4, A 5, D 6,
//! PS 7 (PDE) / PAT 7 (PTE), G 8, address 31..12.
//!
//! What is modelled and what is not: physical addresses are 32 bits (no PSE-36, so
//! MAXPHYADDR = 32 and bits 21:13 of a 4 MiB PDE are reserved, SDM Table 4-4);
//! `CR4.PGE = 1` (the G bit of a leaf makes a global translation); `CR4.SMEP =
//! CR4.SMAP = 0`; 32-bit paging has no execute-disable bit, so every present page is
//! executable. PWT, PCD and PAT select cache types and are ignored (there are no caches).

use super::{Geometry, PageTableFormat, PteView};
use crate::access::{AccessKind, Privilege, PrivilegeState};
use crate::addr::{PhysAddr, Ppn};
use crate::perms::Perms;

/// An IA-32 page-directory or page-table entry, read through named accessors.
#[derive(Clone, Copy, PartialEq, Eq, Hash)]
pub struct X86Pte(u32);

impl X86Pte {
    /// Present.
    pub const P: u32 = 1 << 0;
    /// Read/write: 0 makes the region read-only.
    pub const RW: u32 = 1 << 1;
    /// User/supervisor: 0 makes the region supervisor-only.
    pub const US: u32 = 1 << 2;
    /// Page-level write-through (ignored: no caches).
    pub const PWT: u32 = 1 << 3;
    /// Page-level cache disable (ignored: no caches).
    pub const PCD: u32 = 1 << 4;
    /// Accessed.
    pub const A: u32 = 1 << 5;
    /// Dirty (leaves only: a PTE, or a PDE with PS = 1).
    pub const D: u32 = 1 << 6;
    /// Page size, in a PDE: 1 maps a 4 MiB page when `CR4.PSE = 1`.
    pub const PS: u32 = 1 << 7;
    /// Global (leaves only).
    pub const G: u32 = 1 << 8;
    /// Bits 21:13 of a PDE that maps a 4 MiB page: address bits 39:32 with PSE-36,
    /// reserved with MAXPHYADDR = 32 (SDM Table 4-4).
    pub const PDE_4M_RESERVED: u32 = 0x003f_e000;
    const FRAME_MASK: u32 = 0xffff_f000;
    const LARGE_FRAME_MASK: u32 = 0xffc0_0000;

    /// Wraps a raw entry.
    pub const fn from_raw(raw: u32) -> Self {
        Self(raw)
    }
    /// The raw entry.
    pub const fn raw(self) -> u32 {
        self.0
    }
    /// P.
    pub const fn is_present(self) -> bool {
        self.0 & Self::P != 0
    }
    /// R/W.
    pub const fn is_writable(self) -> bool {
        self.0 & Self::RW != 0
    }
    /// U/S.
    pub const fn is_user(self) -> bool {
        self.0 & Self::US != 0
    }
    /// A.
    pub const fn is_accessed(self) -> bool {
        self.0 & Self::A != 0
    }
    /// D.
    pub const fn is_dirty(self) -> bool {
        self.0 & Self::D != 0
    }
    /// PS.
    pub const fn is_large(self) -> bool {
        self.0 & Self::PS != 0
    }
    /// G.
    pub const fn is_global(self) -> bool {
        self.0 & Self::G != 0
    }
    /// The 4 KiB frame of bits 31:12 (a page table, or a 4 KiB page).
    pub const fn frame(self) -> Ppn {
        Ppn::new((self.0 & Self::FRAME_MASK) >> 12)
    }
    /// The 4 MiB page of bits 31:22, as a PPN in 4 KiB units.
    pub const fn large_frame(self) -> Ppn {
        Ppn::new((self.0 & Self::LARGE_FRAME_MASK) >> 12)
    }
    /// The rights this entry grants: R/W and U/S; reads and fetches always (SDM 4.6:
    /// 32-bit paging has no execute-disable).
    pub const fn perms(self) -> Perms {
        let mut p = Perms::R.union(Perms::X);
        if self.is_writable() {
            p = p.union(Perms::W);
        }
        if self.is_user() {
            p = p.union(Perms::U);
        }
        p
    }
}

impl core::fmt::Debug for X86Pte {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        let flag = |bit: u32, c: char| if self.0 & bit != 0 { c } else { '-' };
        write!(
            f,
            "X86Pte(frame={:#x} {}{}{}{}{}{}{})",
            self.0 >> 12,
            flag(Self::G, 'G'),
            flag(Self::PS, 'S'),
            flag(Self::D, 'D'),
            flag(Self::A, 'A'),
            flag(Self::US, 'U'),
            flag(Self::RW, 'W'),
            flag(Self::P, 'P'),
        )
    }
}

/// IA-32 32-bit paging, with or without 4 MiB pages.
#[derive(Clone, Debug)]
pub struct X86_32 {
    geometry: Geometry,
    pse: bool,
}

impl X86_32 {
    /// 32-bit paging; `pse` is `CR4.PSE` (4 MiB pages allowed).
    pub fn new(pse: bool) -> Self {
        Self { geometry: Geometry::new(&[10, 10], 12, 4), pse }
    }
    /// Whether 4 MiB pages are enabled.
    pub fn pse(&self) -> bool {
        self.pse
    }
}

impl PageTableFormat for X86_32 {
    #[inline]
    fn geometry(&self) -> &Geometry {
        &self.geometry
    }

    #[inline]
    fn decode(&self, raw: u32, level: u8) -> PteView {
        let e = X86Pte(raw);
        // 4.3: "If the PDE's P flag (bit 0) is 0 ... the entry is not used to
        // translate"; 4.7: a page fault with P = 0 in the error code.
        if !e.is_present() {
            return PteView::Invalid;
        }
        if level == 0 {
            // A PTE maps a 4 KiB page; 32-bit paging reserves no PTE bits.
            return PteView::Leaf {
                ppn: e.frame(),
                perms: e.perms(),
                global: e.is_global(),
                accessed: e.is_accessed(),
                dirty: e.is_dirty(),
            };
        }
        if self.pse && e.is_large() {
            // 4.3: "If CR4.PSE = 1 and the PDE's PS flag is 1, the PDE maps a 4-MByte
            // page"; 4.7: a reserved bit set in it (bits 21:13 with MAXPHYADDR = 32)
            // is a page fault with RSVD = 1.
            if raw & X86Pte::PDE_4M_RESERVED != 0 {
                return PteView::Reserved;
            }
            return PteView::Leaf {
                ppn: e.large_frame(),
                perms: e.perms(),
                global: e.is_global(),
                accessed: e.is_accessed(),
                dirty: e.is_dirty(),
            };
        }
        // 4.3: "If CR4.PSE = 0 or the PDE's PS flag is 0, a 4-KByte naturally aligned
        // page table is located at the physical address specified in bits 31:12 of the
        // PDE." Its G and D bits are ignored; its R/W and U/S restrict everything below
        // it (4.6), and the processor sets its A bit when it uses it (4.8).
        PteView::Pointer {
            next: PhysAddr::new(u64::from(raw & X86Pte::FRAME_MASK)),
            perms: e.perms(),
            accessed: Some(e.is_accessed()),
            global: false,
        }
    }

    /// SDM 4.6.1, with SMEP = SMAP = 0 and no execute-disable; `perms` is the AND of
    /// R/W and U/S over every entry of the walk ("the R/W flag is 1 in every
    /// paging-structure entry controlling the translation").
    #[inline]
    fn permits(&self, perms: Perms, access: AccessKind, state: &PrivilegeState) -> bool {
        match state.mode {
            // User-mode accesses touch user-mode addresses only (U/S = 1 everywhere);
            // "Data may be written to any user-mode address with a translation for
            // which the R/W flag is 1 in every paging-structure entry"; reads and
            // fetches need nothing more.
            Privilege::User => perms.is_user() && (access != AccessKind::Write || perms.can_write()),
            // Supervisor-mode reads and fetches may use any translation; writes honour
            // R/W only when CR0.WP = 1.
            Privilege::Supervisor => match access {
                AccessKind::Read | AccessKind::Fetch => true,
                AccessKind::Write => !state.write_protect || perms.can_write(),
            },
        }
    }
    fn with_accessed(&self, raw: u32) -> u32 {
        raw | X86Pte::A
    }
    fn with_dirty(&self, raw: u32) -> u32 {
        raw | X86Pte::D
    }
    fn without_accessed(&self, raw: u32) -> u32 {
        raw & !X86Pte::A
    }
    /// A 4 KiB PTE: P, R/W from `W`, U/S from `U`; R and X are implied by P.
    fn encode_leaf(&self, ppn: Ppn, perms: Perms, global: bool) -> u32 {
        let mut raw = (ppn.as_u32() << 12) | X86Pte::P;
        if perms.can_write() {
            raw |= X86Pte::RW;
        }
        if perms.is_user() {
            raw |= X86Pte::US;
        }
        if global {
            raw |= X86Pte::G;
        }
        raw
    }
    /// A 4 KiB PTE at level 0; a 4 MiB PDE (PS = 1, the frame 4 MiB aligned) at
    /// level 1 when `CR4.PSE` is on.
    fn encode_leaf_at(&self, level: u8, ppn: Ppn, perms: Perms, global: bool) -> Option<u32> {
        match level {
            0 => Some(self.encode_leaf(ppn, perms, global)),
            1 if self.pse => Some(self.encode_leaf(ppn, perms, global) | X86Pte::PS),
            _ => None,
        }
    }
    /// A PDE pointing to a page table with R/W = U/S = 1, so that the PTE alone
    /// decides the rights (as Linux's `_PAGE_TABLE` does), and A clear, so the walker
    /// sets it on first use.
    fn encode_pointer(&self, next: Ppn) -> u32 {
        (next.as_u32() << 12) | X86Pte::P | X86Pte::RW | X86Pte::US
    }
    /// Present pages are always readable and executable: only rights that include
    /// R can be expressed (X is granted whether asked for or not).
    fn can_encode(&self, perms: Perms) -> bool {
        perms.can_read()
    }
    fn ppn_bits(&self) -> u8 {
        20
    }
    fn phys_addr_bits(&self) -> u8 {
        32
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bit_positions_match_the_sdm() {
        // Figure 4-4: P 0, R/W 1, U/S 2, PWT 3, PCD 4, A 5, D 6, PS/PAT 7, G 8.
        let e = X86Pte::from_raw(0x1234_51ff);
        assert!(e.is_present() && e.is_writable() && e.is_user() && e.is_accessed());
        assert!(e.is_dirty() && e.is_large() && e.is_global());
        assert_eq!(e.frame(), Ppn::new(0x12345));
        assert_eq!(e.large_frame(), Ppn::new(0x12000), "bits 31:22 only, in 4 KiB units");
        assert_eq!(X86Pte::PDE_4M_RESERVED, 0b1_1111_1111 << 13);
    }

    #[test]
    fn decode_by_level_and_pse() {
        let with_pse = X86_32::new(true);
        let without = X86_32::new(false);
        assert_eq!(with_pse.decode(X86Pte::RW | X86Pte::US, 1), PteView::Invalid);
        let pde_4m = 0x0040_0000 | X86Pte::P | X86Pte::PS | X86Pte::A;
        assert!(matches!(
            with_pse.decode(pde_4m, 1),
            PteView::Leaf { ppn, accessed: true, dirty: false, .. } if ppn == Ppn::new(0x400)
        ));
        // Without PSE the PS bit is ignored: the same PDE points to a table at 0x40_0000.
        assert_eq!(
            without.decode(pde_4m, 1),
            PteView::Pointer {
                next: PhysAddr::new(0x0040_0000),
                perms: Perms::parse("r-x").unwrap(),
                accessed: Some(true),
                global: false
            }
        );
        assert_eq!(with_pse.decode(pde_4m | (1 << 13), 1), PteView::Reserved);
        assert!(matches!(with_pse.decode(pde_4m | (1 << 12), 1), PteView::Leaf { .. }), "bit 12 is PAT");
        // At level 0, PS is the PAT bit: still a 4 KiB leaf.
        assert!(matches!(with_pse.decode(X86Pte::P | X86Pte::PS, 0), PteView::Leaf { .. }));
    }

    #[test]
    fn encode_leaf_round_trips() {
        let f = X86_32::new(true);
        let raw = f.encode_leaf(Ppn::new(0x2a), Perms::parse("rw-u").unwrap(), true);
        assert_eq!(raw, 0x2a000 | X86Pte::P | X86Pte::RW | X86Pte::US | X86Pte::G);
        assert_eq!(
            f.decode(raw, 0),
            PteView::Leaf {
                ppn: Ppn::new(0x2a),
                perms: Perms::parse("rwxu").unwrap(),
                global: true,
                accessed: false,
                dirty: false
            }
        );
        assert!(f.can_encode(Perms::parse("r--").unwrap()));
        assert!(!f.can_encode(Perms::parse("--x").unwrap()));
        assert_eq!(f.encode_pointer(Ppn::new(3)), 0x3007);
    }
}
