//! The memory port: the one door between a core and the memory system.
//!
//! A core (the trace player, the RV32 core) fetches, loads and stores 1, 2 or 4
//! naturally aligned bytes at a virtual address at a given cycle, and gets back a
//! timed value or a trap. Behind the port sit the TLBs, walk caches, walker, DRAM
//! and, when the machine has one, the OS model that handles page faults; the core
//! sees none of them (mooneye-gb's CPU context, moa's `BusAccess`).
//!
//! The translation state that a core owns (RISC-V `satp`, the privilege mode with
//! `MPRV` applied, `SUM`, `MXR`) travels with each access as an [`AccessContext`],
//! so the memory system keeps no copy of core state that could go stale.
//!
//! Also here, because the layers above share them: [`Fence`], the one value that
//! names an invalidation of cached translations, and [`PhysBackdoor`], the untimed
//! view of physical memory through which the OS model edits page tables and pages,
//! and [`Untimed`], that view lent to the walker for a functional translation.

use crate::access::{AccessKind, PrivilegeState};
use crate::addr::{Asid, PhysAddr, VirtAddr};
use crate::fault::Fault;
use crate::mem::{PhysMem, Traffic};
use crate::time::{Cycle, Timed};

/// How many bytes an access moves.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Width {
    /// One byte (`lb`, `lbu`, `sb`).
    Byte,
    /// Two bytes (`lh`, `lhu`, `sh`, a compressed instruction's parcel).
    Half,
    /// Four bytes (`lw`, `sw`, an instruction, an AMO).
    Word,
}

impl Width {
    /// Bytes moved: 1, 2 or 4.
    pub const fn bytes(self) -> u32 {
        match self {
            Width::Byte => 1,
            Width::Half => 2,
            Width::Word => 4,
        }
    }

    /// Whether an access of this width may start at `vaddr` (natural alignment).
    pub const fn is_aligned(self, vaddr: VirtAddr) -> bool {
        vaddr.as_u32() & (self.bytes() - 1) == 0
    }

    /// The bits of a word this width covers, before shifting into its lane.
    pub const fn mask(self) -> u32 {
        match self {
            Width::Byte => 0xff,
            Width::Half => 0xffff,
            Width::Word => u32::MAX,
        }
    }

    /// The value of an access of this width at byte address `addr` inside the
    /// little-endian `word` that holds it (zero-extended).
    pub const fn extract(self, word: u32, addr: u64) -> u32 {
        (word >> ((addr & 3) * 8)) & self.mask()
    }

    /// `word` with this width's lane at byte address `addr` replaced by `value`
    /// (a byte or halfword store into the word that holds it).
    pub const fn insert(self, word: u32, addr: u64, value: u32) -> u32 {
        let shift = (addr & 3) * 8;
        let lane = self.mask() << shift;
        (word & !lane) | ((value << shift) & lane)
    }
}

/// One access a core asks of the memory system.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct MemRequest {
    /// Fetch, load or store: picks the TLB side and the permission checked.
    pub kind: AccessKind,
    /// The virtual address; must be aligned to `width`.
    pub vaddr: VirtAddr,
    /// Bytes moved.
    pub width: Width,
    /// The value a store writes (its low `width` bytes); ignored otherwise.
    pub value: u32,
}

impl MemRequest {
    /// A fetch of `width` bytes at `vaddr`.
    pub const fn fetch(vaddr: VirtAddr, width: Width) -> Self {
        Self { kind: AccessKind::Fetch, vaddr, width, value: 0 }
    }
    /// A load of `width` bytes at `vaddr`.
    pub const fn load(vaddr: VirtAddr, width: Width) -> Self {
        Self { kind: AccessKind::Read, vaddr, width, value: 0 }
    }
    /// A store of the low `width` bytes of `value` at `vaddr`.
    pub const fn store(vaddr: VirtAddr, width: Width, value: u32) -> Self {
        Self { kind: AccessKind::Write, vaddr, width, value }
    }
}

/// An address space: the root page table and the ASID that tags its translations
/// (RISC-V `satp.PPN` and `satp.ASID`, IA-32 `CR3` and a PCID).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct AddressSpace {
    /// Tags TLB and walk-cache entries.
    pub asid: Asid,
    /// Physical address of the root page table.
    pub root: PhysAddr,
}

/// How one access is translated, as the core's state decides it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct AccessContext {
    /// The address space to translate in; `None` for no translation at all
    /// (RISC-V M-mode, or `satp.MODE = Bare`): the virtual address is the physical one.
    pub space: Option<AddressSpace>,
    /// The privilege the access is checked at (with `MPRV` already applied by the
    /// core for loads and stores), and `SUM`, `MXR`, `CR0.WP`.
    pub privilege: PrivilegeState,
}

impl AccessContext {
    /// No translation: physical addresses (RISC-V M-mode or bare mode).
    pub const fn bare(privilege: PrivilegeState) -> Self {
        Self { space: None, privilege }
    }
    /// Translation in `space` at `privilege`.
    pub const fn paged(space: AddressSpace, privilege: PrivilegeState) -> Self {
        Self { space: Some(space), privilege }
    }
}

/// Why an access did not complete: what the core traps on.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum TrapCause {
    /// The address is not aligned to the access's width (RISC-V causes 0, 4, 6).
    Misaligned,
    /// The physical address is not backed by memory or a device, for the data
    /// access itself (RISC-V causes 1, 5, 7). A PTE read outside memory is a
    /// [`TrapCause::Fault`] of kind `AccessFault`.
    AccessFault,
    /// Translation failed: a page fault, or an access fault of the walk (RISC-V
    /// causes 12, 13, 15 and 1, 5, 7). With an OS model behind the port, only the
    /// faults it refused reach the core (its process was stopped).
    Fault(Fault),
}

/// A trap raised by an access: its cause, the faulting virtual address (RISC-V
/// `mtval`/`stval`) and the kind of access.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Trap {
    /// Why.
    pub cause: TrapCause,
    /// The virtual address of the access.
    pub vaddr: VirtAddr,
    /// Fetch, load or store.
    pub kind: AccessKind,
}

/// What one access gives back: the value (zero-extended; 0 for a store), or the
/// trap; either way with the cycle at which the core may go on.
pub type Answer = Timed<Result<u32, Trap>>;

/// An invalidation of cached translations (TLB entries and walk-cache entries):
/// RISC-V `sfence.vma rs1, rs2`, IA-32 `INVLPG` (an address in every address space
/// but global entries) and `MOV CR3`.
///
/// `vaddr: None` is `rs1 = x0` (every address); `asid: None` is `rs2 = x0` (every
/// address space, global entries included). With an ASID, global entries stay.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct Fence {
    /// The address whose translations go, or every address.
    pub vaddr: Option<VirtAddr>,
    /// The address space whose translations go, or every one.
    pub asid: Option<Asid>,
}

impl Fence {
    /// Every cached translation (`sfence.vma x0, x0`).
    pub const ALL: Fence = Fence { vaddr: None, asid: None };
    /// The translations of `vaddr` in `asid` (`sfence.vma vaddr, asid`): a shootdown.
    pub const fn page(vaddr: VirtAddr, asid: Asid) -> Self {
        Self { vaddr: Some(vaddr), asid: Some(asid) }
    }
    /// Every non-global translation of `asid` (`sfence.vma x0, asid`).
    pub const fn address_space(asid: Asid) -> Self {
        Self { vaddr: None, asid: Some(asid) }
    }
}

/// The memory system as a core sees it.
///
/// Every access takes the cycle `now` at which it is issued and answers with the
/// cycle at which the core may go on, so its cost cannot be skipped. A trap is an
/// answer, not an error: `Err` is for what stops the whole run (memory exhausted,
/// swap full, a data-integrity check that failed).
pub trait MemoryPort {
    /// What stops the run.
    type Error;

    /// Performs one access.
    ///
    /// # Errors
    /// A condition that stops the run (see the implementation); traps are answers.
    fn access(
        &mut self,
        now: Cycle,
        context: &AccessContext,
        request: MemRequest,
    ) -> Result<Answer, Self::Error>;

    /// Drops cached translations (`sfence.vma`), at no cost in cycles.
    fn fence(&mut self, fence: Fence);

    /// Fetches `width` bytes of instruction at `vaddr`.
    ///
    /// # Errors
    /// As [`MemoryPort::access`].
    fn fetch(
        &mut self,
        now: Cycle,
        context: &AccessContext,
        vaddr: VirtAddr,
        width: Width,
    ) -> Result<Answer, Self::Error> {
        self.access(now, context, MemRequest::fetch(vaddr, width))
    }

    /// Loads `width` bytes at `vaddr`, zero-extended.
    ///
    /// # Errors
    /// As [`MemoryPort::access`].
    fn load(
        &mut self,
        now: Cycle,
        context: &AccessContext,
        vaddr: VirtAddr,
        width: Width,
    ) -> Result<Answer, Self::Error> {
        self.access(now, context, MemRequest::load(vaddr, width))
    }

    /// Stores the low `width` bytes of `value` at `vaddr`.
    ///
    /// # Errors
    /// As [`MemoryPort::access`].
    fn store(
        &mut self,
        now: Cycle,
        context: &AccessContext,
        vaddr: VirtAddr,
        width: Width,
        value: u32,
    ) -> Result<Answer, Self::Error> {
        self.access(now, context, MemRequest::store(vaddr, width, value))
    }
}

/// Untimed access to physical memory: how the OS model (and loaders, checkers and
/// tools) read and write page tables and pages. Its traffic is not timed per word;
/// the OS charges configured handler cycles instead.
pub trait PhysBackdoor {
    /// The aligned word at `addr`; zero outside memory.
    fn peek(&self, addr: PhysAddr) -> u32;
    /// Writes the aligned word at `addr`; ignored outside memory.
    fn poke(&mut self, addr: PhysAddr, value: u32);
    /// Zeroes `bytes` bytes from `addr` (both word aligned).
    fn zero(&mut self, addr: PhysAddr, bytes: u64);
    /// Reads `out.len()` consecutive words from `addr` (a page written to swap).
    fn read_words(&self, addr: PhysAddr, out: &mut [u32]) {
        for (i, word) in out.iter_mut().enumerate() {
            *word = self.peek(PhysAddr::new(addr.as_u64() + 4 * i as u64));
        }
    }
    /// Writes consecutive words from `addr` (a page read back from swap).
    fn write_words(&mut self, addr: PhysAddr, words: &[u32]) {
        for (i, &word) in words.iter().enumerate() {
            self.poke(PhysAddr::new(addr.as_u64() + 4 * i as u64), word);
        }
    }
    /// Bytes of `[start, start + bytes)` that may hold a non-zero word, in whole
    /// 4 KiB chunks: 0 means the range is certainly all zero, so a scan may skip it.
    fn touched_bytes(&self, start: PhysAddr, bytes: u64) -> u64;
    /// The start of the first 4 KiB chunk from the one holding `start` up to
    /// `end` (exclusive) that may hold a non-zero word, `None` when the rest is
    /// certainly zero: a scan of a sparse table jumps there. Memories that know
    /// which chunks they hold answer in time proportional to those chunks (#15);
    /// this default asks [`PhysBackdoor::touched_bytes`] chunk by chunk.
    fn next_touched(&self, start: PhysAddr, end: PhysAddr) -> Option<PhysAddr> {
        let mut chunk = start.as_u64() & !(TOUCHED_CHUNK_BYTES - 1);
        while chunk < end.as_u64() {
            if self.touched_bytes(PhysAddr::new(chunk), TOUCHED_CHUNK_BYTES) > 0 {
                return Some(PhysAddr::new(chunk));
            }
            chunk += TOUCHED_CHUNK_BYTES;
        }
        None
    }
}

/// Physical memory seen through its back door as [`PhysMem`]: the functional
/// path of a run's skipped prefix (`window.skip`), on which the walker reads and
/// writes PTEs (A/D updates included) and the core its data without timing,
/// DRAM bank state or counters. A read is ready at the cycle it is issued; which
/// addresses are memory is the wrapped memory's [`PhysMem::contains`].
pub struct Untimed<'a, M: ?Sized>(pub &'a mut M);

impl<M: PhysMem + PhysBackdoor + ?Sized> PhysMem for Untimed<'_, M> {
    #[inline]
    fn read(&mut self, now: Cycle, addr: PhysAddr, _: Traffic) -> Timed<u32> {
        Timed { value: self.0.peek(addr), ready_at: now }
    }
    #[inline]
    fn write(&mut self, now: Cycle, addr: PhysAddr, value: u32, _: Traffic) -> Cycle {
        self.0.poke(addr, value);
        now
    }
    #[inline]
    fn contains(&self, addr: PhysAddr) -> bool {
        self.0.contains(addr)
    }
}

/// The granule of [`PhysBackdoor::touched_bytes`] and [`PhysBackdoor::next_touched`].
pub const TOUCHED_CHUNK_BYTES: u64 = 4096;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lanes_are_little_endian() {
        let word = 0x4433_2211;
        assert_eq!(Width::Byte.extract(word, 0x1001), 0x22);
        assert_eq!(Width::Half.extract(word, 0x1002), 0x4433);
        assert_eq!(Width::Word.extract(word, 0x1000), word);
        assert_eq!(Width::Byte.insert(word, 0x1003, 0xaabb), 0xbb33_2211);
        assert_eq!(Width::Half.insert(word, 0x1000, 0xccdd), 0x4433_ccdd);
        assert_eq!(Width::Word.insert(word, 0x1000, 7), 7);
    }

    #[test]
    fn alignment_is_natural() {
        assert!(Width::Byte.is_aligned(VirtAddr::new(3)));
        assert!(Width::Half.is_aligned(VirtAddr::new(2)) && !Width::Half.is_aligned(VirtAddr::new(3)));
        assert!(Width::Word.is_aligned(VirtAddr::new(8)) && !Width::Word.is_aligned(VirtAddr::new(6)));
    }
}
