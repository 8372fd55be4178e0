//! RISC-V Sv32 (Privileged Spec, "Sv32: Page-Based 32-bit Virtual-Memory Systems").
//!
//! VA = VPN\[1\] (10) | VPN\[0\] (10) | offset (12); PTE = PPN\[1\] 31..20 | PPN\[0\]
//! 19..10 | RSW 9..8 | D | A | G | U | X | W | R | V; 34-bit physical addresses.
//!
//! The format itself is [`super::Radix::sv32`]: a radix tree of these PTEs with
//! Sv32's geometry. This module holds the PTE and the RISC-V rules every
//! RISC-V-style format (Sv32, flat, generic radix) shares.

use super::{Geometry, PteView};
use crate::access::{AccessKind, Privilege, PrivilegeState};
use crate::addr::Ppn;
use crate::perms::Perms;

/// An Sv32 page-table entry, read through named accessors.
#[derive(Clone, Copy, PartialEq, Eq, Hash)]
pub struct Sv32Pte(u32);

impl Sv32Pte {
    /// Valid.
    pub const V: u32 = 1 << 0;
    /// Readable.
    pub const R: u32 = 1 << 1;
    /// Writable.
    pub const W: u32 = 1 << 2;
    /// Executable.
    pub const X: u32 = 1 << 3;
    /// User-accessible.
    pub const U: u32 = 1 << 4;
    /// Global mapping.
    pub const G: u32 = 1 << 5;
    /// Accessed.
    pub const A: u32 = 1 << 6;
    /// Dirty.
    pub const D: u32 = 1 << 7;
    /// D, A and U: reserved in a non-leaf PTE (spec 4.3.1).
    pub const NON_LEAF_RESERVED: u32 = Self::D | Self::A | Self::U;
    const RSW_SHIFT: u32 = 8;
    const PPN_SHIFT: u32 = 10;

    /// Wraps a raw PTE word.
    pub const fn from_raw(raw: u32) -> Self {
        Self(raw)
    }
    /// The raw PTE word.
    pub const fn raw(self) -> u32 {
        self.0
    }
    /// A PTE with `ppn` in bits 31..10 and `flags` (a union of the bit constants).
    pub const fn new(ppn: Ppn, flags: u32) -> Self {
        Self((ppn.as_u32() << Self::PPN_SHIFT) | (flags & 0xff))
    }
    /// V.
    pub const fn is_valid(self) -> bool {
        self.0 & Self::V != 0
    }
    /// R.
    pub const fn is_readable(self) -> bool {
        self.0 & Self::R != 0
    }
    /// W.
    pub const fn is_writable(self) -> bool {
        self.0 & Self::W != 0
    }
    /// X.
    pub const fn is_executable(self) -> bool {
        self.0 & Self::X != 0
    }
    /// U.
    pub const fn is_user(self) -> bool {
        self.0 & Self::U != 0
    }
    /// G.
    pub const fn is_global(self) -> bool {
        self.0 & Self::G != 0
    }
    /// A.
    pub const fn is_accessed(self) -> bool {
        self.0 & Self::A != 0
    }
    /// D.
    pub const fn is_dirty(self) -> bool {
        self.0 & Self::D != 0
    }
    /// "A PTE is a leaf if R or X is set" (spec step 4).
    pub const fn is_leaf(self) -> bool {
        self.0 & (Self::R | Self::X) != 0
    }
    /// The software-reserved bits 9..8.
    pub const fn rsw(self) -> u32 {
        (self.0 >> Self::RSW_SHIFT) & 0b11
    }
    /// The full 22-bit PPN, bits 31..10.
    pub const fn ppn(self) -> Ppn {
        Ppn::new(self.0 >> Self::PPN_SHIFT)
    }
    /// PPN\[1\], bits 31..20 (12 bits).
    pub const fn ppn1(self) -> u32 {
        self.0 >> 20
    }
    /// PPN\[0\], bits 19..10 (10 bits).
    pub const fn ppn0(self) -> u32 {
        (self.0 >> Self::PPN_SHIFT) & 0x3ff
    }
    /// This PTE with A set.
    #[must_use]
    pub const fn with_accessed(self) -> Self {
        Self(self.0 | Self::A)
    }
    /// This PTE with D set.
    #[must_use]
    pub const fn with_dirty(self) -> Self {
        Self(self.0 | Self::D)
    }
    /// The R, W, X and U bits as permissions.
    pub const fn perms(self) -> Perms {
        let mut p = Perms::NONE;
        if self.is_readable() {
            p = p.union(Perms::R);
        }
        if self.is_writable() {
            p = p.union(Perms::W);
        }
        if self.is_executable() {
            p = p.union(Perms::X);
        }
        if self.is_user() {
            p = p.union(Perms::U);
        }
        p
    }
}

impl core::fmt::Debug for Sv32Pte {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        let flag = |bit: u32, c: char| if self.0 & bit != 0 { c } else { '-' };
        write!(
            f,
            "Sv32Pte(ppn={:#x} {}{}{}{}{}{}{}{})",
            self.ppn().as_u32(),
            flag(Self::D, 'D'),
            flag(Self::A, 'A'),
            flag(Self::G, 'G'),
            flag(Self::U, 'U'),
            flag(Self::X, 'X'),
            flag(Self::W, 'W'),
            flag(Self::R, 'R'),
            flag(Self::V, 'V'),
        )
    }
}

/// The Sv32 PTE encoding's decode, shared by every format that uses RISC-V PTEs.
pub(crate) fn decode_riscv(raw: u32, geometry: &Geometry) -> PteView {
    let pte = Sv32Pte(raw);
    // Step 3: "If pte.v = 0, or if pte.r = 0 and pte.w = 1, ... raise a page-fault exception."
    if !pte.is_valid() {
        return PteView::Invalid;
    }
    if !pte.is_readable() && pte.is_writable() {
        return PteView::Reserved;
    }
    // Step 4: "Otherwise, the PTE is valid. If pte.r = 1 or pte.x = 1, go to step 5.
    // Otherwise, this PTE is a pointer to the next level of the page table."
    if !pte.is_leaf() && pte.0 & Sv32Pte::NON_LEAF_RESERVED != 0 {
        // Step 3 (Privileged Spec 1.12+): "or if any bits or encodings that are reserved
        // for future standard use are set within pte"; 4.3.1: "For non-leaf PTEs, the D,
        // A, and U bits are reserved for future standard use." (Spike faults too.)
        return PteView::Reserved;
    }
    if pte.is_leaf() {
        PteView::Leaf {
            ppn: pte.ppn(),
            perms: pte.perms(),
            global: pte.is_global(),
            accessed: pte.is_accessed(),
            dirty: pte.is_dirty(),
        }
    } else {
        // "let a = pte.ppn × PAGESIZE"
        PteView::Pointer {
            next: pte.ppn().base(geometry.page_shift()),
            perms: Perms::ALL,
            accessed: None,
            global: pte.is_global(),
        }
    }
}

/// The RISC-V permission rule (spec 4.3.1 and step 5), shared by RISC-V-style formats.
pub(crate) fn permits_riscv(perms: Perms, access: AccessKind, state: &PrivilegeState) -> bool {
    let privilege_ok = match state.mode {
        // U-mode software may only access pages with U = 1.
        Privilege::User => perms.is_user(),
        // "Irrespective of SUM, the supervisor may not execute code on pages with U=1";
        // with SUM = 0, supervisor loads and stores to U = 1 pages fault.
        Privilege::Supervisor => !perms.is_user() || (!access.is_fetch() && state.sum),
    };
    let kind_ok = match access {
        AccessKind::Fetch => perms.can_execute(),
        // MXR makes loads from pages marked either readable or executable succeed.
        AccessKind::Read => perms.can_read() || (state.mxr && perms.can_execute()),
        AccessKind::Write => perms.can_write(),
    };
    privilege_ok && kind_ok
}

/// Encodes a RISC-V leaf, shared by RISC-V-style formats.
pub(crate) fn encode_riscv_leaf(ppn: Ppn, perms: Perms, global: bool) -> u32 {
    let mut flags = Sv32Pte::V;
    if perms.can_read() {
        flags |= Sv32Pte::R;
    }
    if perms.can_write() {
        flags |= Sv32Pte::W;
    }
    if perms.can_execute() {
        flags |= Sv32Pte::X;
    }
    if perms.is_user() {
        flags |= Sv32Pte::U;
    }
    if global {
        flags |= Sv32Pte::G;
    }
    Sv32Pte::new(ppn, flags).raw()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::addr::PhysAddr;
    use crate::format::{PageTableFormat, Radix};

    #[test]
    fn bit_positions_match_the_spec() {
        // PTE = PPN[1] 31..20 | PPN[0] 19..10 | RSW 9..8 | D A G U X W R V
        let pte = Sv32Pte::from_raw(0xABCD_E3FF);
        assert_eq!(pte.ppn1(), 0xABC);
        assert_eq!(pte.ppn0(), 0x378); // bits 19..10 of 0xABCDE3FF
        assert_eq!(pte.ppn(), Ppn::new(0xABCD_E3FF >> 10));
        assert_eq!(pte.rsw(), 0b11);
        assert!(pte.is_valid() && pte.is_readable() && pte.is_writable() && pte.is_executable());
        assert!(pte.is_user() && pte.is_global() && pte.is_accessed() && pte.is_dirty());
        assert_eq!(Sv32Pte::new(Ppn::new(0x12345), Sv32Pte::V | Sv32Pte::R).raw(), 0x048D_1403);
    }

    #[test]
    fn decode_distinguishes_pointer_leaf_and_reserved() {
        let g = Radix::sv32();
        assert_eq!(g.decode(0, 1), PteView::Invalid);
        assert_eq!(g.decode(Sv32Pte::V | Sv32Pte::W, 1), PteView::Reserved);
        assert_eq!(g.decode(Sv32Pte::V | Sv32Pte::W | Sv32Pte::X, 0), PteView::Reserved);
        assert_eq!(
            g.decode(Sv32Pte::new(Ppn::new(7), Sv32Pte::V).raw(), 1),
            PteView::Pointer {
                next: PhysAddr::new(0x7000),
                perms: Perms::ALL,
                accessed: None,
                global: false
            }
        );
        // D, A or U on a pointer is reserved; G is not.
        for bit in [Sv32Pte::D, Sv32Pte::A, Sv32Pte::U] {
            assert_eq!(g.decode(Sv32Pte::new(Ppn::new(7), Sv32Pte::V | bit).raw(), 1), PteView::Reserved);
        }
        assert!(matches!(
            g.decode(Sv32Pte::new(Ppn::new(7), Sv32Pte::V | Sv32Pte::G).raw(), 1),
            PteView::Pointer { global: true, .. }
        ));
        // Execute-only is a leaf.
        assert!(matches!(g.decode(Sv32Pte::V | Sv32Pte::X, 0), PteView::Leaf { .. }));
    }

    #[test]
    fn encode_leaf_round_trips() {
        let g = Radix::sv32();
        let perms = Perms::parse("rw-u").unwrap();
        let raw = g.encode_leaf(Ppn::new(0x2a), perms, true);
        assert_eq!(
            g.decode(raw, 0),
            PteView::Leaf { ppn: Ppn::new(0x2a), perms, global: true, accessed: false, dirty: false }
        );
        assert!(!g.can_encode(Perms::W));
        assert!(!g.can_encode(Perms::U));
        assert!(g.can_encode(Perms::X));
    }
}
