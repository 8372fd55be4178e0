//! Address and identifier newtypes: one type per kind of number, so a virtual
//! address can never be passed where a physical one is expected.

use core::fmt;
use serde::{Deserialize, Serialize};

macro_rules! hex_debug {
    ($ty:ident, $width:literal) => {
        impl fmt::Debug for $ty {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                write!(f, concat!(stringify!($ty), "({:#0", $width, "x})"), self.0)
            }
        }
        impl fmt::Display for $ty {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                write!(f, concat!("{:#0", $width, "x}"), self.0)
            }
        }
    };
}

/// The size of a page as log2 of its bytes: 12 for a 4 KiB page, 22 for an Sv32
/// megapage or an IA-32 4 MiB page, 2 for the seed's one-word pages. Shifting an
/// address right by it gives the page number; its low bits are the page offset.
#[derive(Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(transparent)]
pub struct PageShift(u8);

impl PageShift {
    /// A 4 KiB page, the base page of Sv32 and IA-32.
    pub const KIB_4: Self = Self(12);
    /// A page of `2^bits` bytes; every `bits` from 0 to 63 names a size.
    pub const fn new(bits: u8) -> Self {
        Self(bits)
    }
    /// log2 of the page's bytes.
    pub const fn bits(self) -> u8 {
        self.0
    }
    /// Bytes in the page (saturating at 2^63 for nonsense shifts).
    pub const fn bytes(self) -> u64 {
        if self.0 >= 64 { 1 << 63 } else { 1 << self.0 }
    }
    /// The low `bits()` bits set: the page-offset mask.
    pub const fn offset_mask(self) -> u64 {
        self.bytes() - 1
    }
}

impl fmt::Debug for PageShift {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "2^{} B", self.0)
    }
}

impl fmt::Display for PageShift {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.0)
    }
}

/// A 32-bit virtual address. Every modelled format translates 32-bit VAs.
#[derive(Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(transparent)]
pub struct VirtAddr(u32);

impl VirtAddr {
    /// Wraps a raw 32-bit address; every value is a valid VA.
    pub const fn new(raw: u32) -> Self {
        Self(raw)
    }
    /// The raw address.
    pub const fn as_u32(self) -> u32 {
        self.0
    }
    /// Whether the address is a multiple of four (a word access may start here).
    pub const fn is_word_aligned(self) -> bool {
        self.0 & 3 == 0
    }
    /// The `bits`-wide index field whose lowest bit is `shift` (VPN\[i\] in the specs).
    pub const fn field(self, shift: u8, bits: u8) -> u32 {
        if bits == 0 {
            return 0;
        }
        let shifted = if shift >= 32 { 0 } else { self.0 >> shift };
        if bits >= 32 { shifted } else { shifted & ((1u32 << bits) - 1) }
    }
    /// The offset of this address inside a page of `page` size.
    #[inline(always)]
    pub const fn page_offset(self, page: PageShift) -> u32 {
        // `field(0, page)`: the low `page` bits (all 32 from a 32-bit page up;
        // shifts of 64 and more name no page of a 32-bit address space).
        let mask = (1u64 << (page.0 & 63)) - 1;
        (self.0 as u64 & mask) as u32
    }
    /// The virtual page number for pages of `page` size.
    pub const fn vpn(self, page: PageShift) -> Vpn {
        Vpn(if page.0 >= 32 { 0 } else { self.0 >> page.0 })
    }
}
hex_debug!(VirtAddr, 10);

/// A physical address. 64 bits wide because Sv32 physical addresses are 34 bits.
#[derive(Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(transparent)]
pub struct PhysAddr(u64);

impl PhysAddr {
    /// Wraps a raw physical address.
    pub const fn new(raw: u64) -> Self {
        Self(raw)
    }
    /// The raw address.
    pub const fn as_u64(self) -> u64 {
        self.0
    }
    /// This address plus a byte offset; `None` on overflow (a bug in the caller).
    pub const fn checked_add(self, bytes: u64) -> Option<Self> {
        match self.0.checked_add(bytes) {
            Some(v) => Some(Self(v)),
            None => None,
        }
    }
    /// The physical page number for pages of `page` size.
    pub const fn ppn(self, page: PageShift) -> Ppn {
        Ppn((self.0 >> page.0) as u32)
    }
}
hex_debug!(PhysAddr, 11);

/// A virtual page number (a VA shifted right by the page-offset bits).
#[derive(Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(transparent)]
pub struct Vpn(u32);

impl Vpn {
    /// Wraps a raw page number.
    pub const fn new(raw: u32) -> Self {
        Self(raw)
    }
    /// The raw page number.
    pub const fn as_u32(self) -> u32 {
        self.0
    }
    /// The first virtual address of this page, for pages of `page` size.
    pub const fn base(self, page: PageShift) -> VirtAddr {
        VirtAddr(if page.0 >= 32 { 0 } else { self.0 << page.0 })
    }
}
hex_debug!(Vpn, 7);

/// A physical page number. The RISC-V spec says PPN, so this is the one name used
/// for physical frames throughout (frame `n` of DRAM is `Ppn(n)`, DRAM starts at 0).
#[derive(Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(transparent)]
pub struct Ppn(u32);

impl Ppn {
    /// Wraps a raw physical page number.
    pub const fn new(raw: u32) -> Self {
        Self(raw)
    }
    /// The raw page number.
    pub const fn as_u32(self) -> u32 {
        self.0
    }
    /// The raw page number as a frame index.
    pub const fn as_index(self) -> usize {
        self.0 as usize
    }
    /// The first physical address of this page, for pages of `page` size.
    pub const fn base(self, page: PageShift) -> PhysAddr {
        PhysAddr((self.0 as u64) << page.0)
    }
}
hex_debug!(Ppn, 7);

/// An address-space identifier, as held in Sv32's `satp.ASID` (9 bits) and in TLB tags.
#[derive(Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(transparent)]
pub struct Asid(u16);

impl Asid {
    /// Wraps a raw ASID; the width limit is enforced by the config that assigns them.
    pub const fn new(raw: u16) -> Self {
        Self(raw)
    }
    /// The raw identifier.
    pub const fn as_u16(self) -> u16 {
        self.0
    }
}

impl fmt::Debug for Asid {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Asid({})", self.0)
    }
}

/// A process identifier, as the OS model and `P n` trace lines name processes.
#[derive(Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(transparent)]
pub struct Pid(u32);

impl Pid {
    /// Wraps a raw process number.
    pub const fn new(raw: u32) -> Self {
        Self(raw)
    }
    /// The raw process number.
    pub const fn as_u32(self) -> u32 {
        self.0
    }
}

impl fmt::Debug for Pid {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Pid({})", self.0)
    }
}

impl fmt::Display for Pid {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sv32_fields_of_a_virtual_address() {
        // 0x0041_f7a4 = 0b0000000001_0000011111_011110100100
        let va = VirtAddr::new(0x0041_f7a4);
        assert_eq!(va.field(22, 10), 0x001); // VPN[1]
        assert_eq!(va.field(12, 10), 0x01f); // VPN[0]
        assert_eq!(va.page_offset(crate::addr::PageShift::new(12)), 0x7a4);
        assert_eq!(va.vpn(crate::addr::PageShift::new(12)), Vpn::new(0x41f));
        assert_eq!(
            va.vpn(crate::addr::PageShift::new(12)).base(crate::addr::PageShift::new(12)),
            VirtAddr::new(0x0041_f000)
        );
    }

    #[test]
    fn field_handles_degenerate_widths() {
        let va = VirtAddr::new(0xffff_ffff);
        assert_eq!(va.field(0, 32), 0xffff_ffff);
        assert_eq!(va.field(32, 0), 0);
        assert_eq!(va.vpn(crate::addr::PageShift::new(32)), Vpn::new(0));
        assert_eq!(va.page_offset(crate::addr::PageShift::new(2)), 3);
    }

    #[test]
    fn ppn_base_is_34_bit_capable() {
        // Sv32: a 22-bit PPN times 4 KiB reaches 2^34.
        assert_eq!(Ppn::new(0x3f_ffff).base(crate::addr::PageShift::new(12)), PhysAddr::new(0x3_ffff_f000));
        assert_eq!(PhysAddr::new(0x3_ffff_f123).ppn(crate::addr::PageShift::new(12)), Ppn::new(0x3f_ffff));
    }

    #[test]
    fn debug_is_hex() {
        assert_eq!(format!("{:?}", VirtAddr::new(0x1000)), "VirtAddr(0x00001000)");
        assert_eq!(format!("{}", PhysAddr::new(0x1000)), "0x000001000");
    }
}
