//! The hart's side of memory: instruction fetch (one word, or two halfwords when
//! the pc is 2 mod 4), loads and stores split when misaligned, LR/SC and AMOs,
//! all through [`mmu_core::MemoryPort`] in the contexts the hart keeps.

use crate::hart::{Hart, Stop};
use crate::trap::Exception;
use mmu_core::{AccessKind, MemoryPort, Width};

impl Hart {
    /// Fetches the instruction at the pc: its bits and its length (2 or 4).
    ///
    /// At a 4-aligned pc one aligned word holds the whole instruction, or a
    /// compressed one in its low half. At 2 mod 4 a halfword is fetched, and if it
    /// starts a 32-bit instruction, the next halfword at pc + 2, which may lie on
    /// the next page: its fault reports pc + 2 in `tval` ("the virtual address of the
    /// portion of the instruction that caused the fault").
    #[inline]
    pub(crate) fn fetch<P: MemoryPort>(&mut self, port: &mut P) -> Result<(u32, u32), Stop<P::Error>> {
        let pc = self.pc();
        if pc & 1 != 0 {
            return Err(Stop::Raise(Exception::InstructionMisaligned, pc));
        }
        if pc & 2 == 0 {
            let word = self.fetch_part(port, pc, Width::Word)?;
            return Ok(if word & 3 == 3 { (word, 4) } else { (word & 0xffff, 2) });
        }
        let low = self.fetch_part(port, pc, Width::Half)?;
        if low & 3 != 3 {
            return Ok((low, 2));
        }
        let high = self.fetch_part(port, pc.wrapping_add(2), Width::Half)?;
        Ok((low | (high << 16), 4))
    }

    #[inline(always)]
    fn fetch_part<P: MemoryPort>(
        &mut self,
        port: &mut P,
        vaddr: u32,
        width: Width,
    ) -> Result<u32, Stop<P::Error>> {
        self.fetch_access(port, vaddr, width)
    }

    /// Loads `width` bytes at `vaddr`, zero-extended.
    ///
    /// A misaligned load completes, as on QEMU: it is split into byte loads, each
    /// translated on its own, so it may span two pages; a trap on any byte traps the
    /// instruction with `tval` = `vaddr`. (The spec lets an EEI do this: "loads and
    /// stores ... may be decomposed into a set of component memory operations".)
    #[inline]
    pub(crate) fn load<P: MemoryPort>(
        &mut self,
        port: &mut P,
        vaddr: u32,
        width: Width,
    ) -> Result<u32, Stop<P::Error>> {
        if width.is_aligned(mmu_core::VirtAddr::new(vaddr)) {
            return self.data_part(port, AccessKind::Read, vaddr, width, 0, vaddr, AccessKind::Read);
        }
        let mut value = 0;
        for i in 0..width.bytes() {
            let byte_addr = vaddr.wrapping_add(i);
            let byte =
                self.data_part(port, AccessKind::Read, byte_addr, Width::Byte, 0, vaddr, AccessKind::Read)?;
            value |= byte << (8 * i);
        }
        Ok(value)
    }

    /// Stores the low `width` bytes of `value` at `vaddr`; misaligned stores are
    /// split into bytes in address order like loads. A trap on a later byte leaves
    /// the earlier ones written (the spec allows a partially visible misaligned store).
    #[inline]
    pub(crate) fn store<P: MemoryPort>(
        &mut self,
        port: &mut P,
        vaddr: u32,
        width: Width,
        value: u32,
    ) -> Result<(), Stop<P::Error>> {
        if width.is_aligned(mmu_core::VirtAddr::new(vaddr)) {
            self.data_part(port, AccessKind::Write, vaddr, width, value, vaddr, AccessKind::Write)?;
            return Ok(());
        }
        for i in 0..width.bytes() {
            let byte_addr = vaddr.wrapping_add(i);
            let byte = (value >> (8 * i)) & 0xff;
            self.data_part(port, AccessKind::Write, byte_addr, Width::Byte, byte, vaddr, AccessKind::Write)?;
        }
        Ok(())
    }

    /// One aligned data access; a trap becomes the exception of an access of
    /// `reported` kind (an AMO's read reports store/AMO causes) at `tval`.
    #[allow(clippy::too_many_arguments)]
    #[inline]
    fn data_part<P: MemoryPort>(
        &mut self,
        port: &mut P,
        kind: AccessKind,
        vaddr: u32,
        width: Width,
        value: u32,
        tval: u32,
        reported: AccessKind,
    ) -> Result<u32, Stop<P::Error>> {
        self.port_access(port, kind, vaddr, width, value, reported, tval)
    }

    /// `lr.w`: a naturally aligned load that registers a reservation on its word.
    /// Misaligned, it raises load address-misaligned (the A extension: "an
    /// address-misaligned exception or an access-fault exception will be generated").
    pub(crate) fn load_reserved<P: MemoryPort>(
        &mut self,
        port: &mut P,
        vaddr: u32,
    ) -> Result<u32, Stop<P::Error>> {
        if vaddr & 3 != 0 {
            return Err(Stop::Raise(Exception::LoadMisaligned, vaddr));
        }
        let value = self.data_part(port, AccessKind::Read, vaddr, Width::Word, 0, vaddr, AccessKind::Read)?;
        self.reservation = Some(vaddr);
        Ok(value)
    }

    /// `sc.w`: stores if the reservation is on `vaddr`, and answers 0 for success or
    /// 1 for failure. Any SC clears the reservation. Misaligned: store/AMO misaligned.
    pub(crate) fn store_conditional<P: MemoryPort>(
        &mut self,
        port: &mut P,
        vaddr: u32,
        value: u32,
    ) -> Result<u32, Stop<P::Error>> {
        if vaddr & 3 != 0 {
            return Err(Stop::Raise(Exception::StoreMisaligned, vaddr));
        }
        let reserved = self.reservation.take() == Some(vaddr);
        if !reserved {
            return Ok(1);
        }
        self.data_part(port, AccessKind::Write, vaddr, Width::Word, value, vaddr, AccessKind::Write)?;
        Ok(0)
    }

    /// An AMO: one read then one write of the word at `vaddr` through the port (one
    /// hart, so nothing can come between them). Either part's trap is a store/AMO
    /// exception, as the spec classes AMOs; misaligned, store/AMO misaligned.
    pub(crate) fn amo<P: MemoryPort>(
        &mut self,
        port: &mut P,
        vaddr: u32,
        operation: impl FnOnce(u32) -> u32,
    ) -> Result<u32, Stop<P::Error>> {
        if vaddr & 3 != 0 {
            return Err(Stop::Raise(Exception::StoreMisaligned, vaddr));
        }
        let old = self.data_part(port, AccessKind::Read, vaddr, Width::Word, 0, vaddr, AccessKind::Write)?;
        let new = operation(old);
        self.data_part(port, AccessKind::Write, vaddr, Width::Word, new, vaddr, AccessKind::Write)?;
        Ok(old)
    }
}
