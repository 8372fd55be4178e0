//! Trap causes: the synchronous exceptions and the interrupts of the RISC-V
//! privileged spec ("Machine Cause Register (mcause)", table of exception codes).

use mmu_core::{AccessKind, Trap, TrapCause};
use serde::Serialize;

/// A synchronous exception, numbered as `mcause` numbers it (interrupt bit clear).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize)]
pub enum Exception {
    /// 0: a jump or branch to an address that is not 2-byte aligned.
    InstructionMisaligned,
    /// 1: a fetch from a physical address with no memory, or a PTE read outside it.
    InstructionAccessFault,
    /// 2: an encoding this core does not implement, or a privilege violation.
    IllegalInstruction,
    /// 3: `ebreak` / `c.ebreak`.
    Breakpoint,
    /// 4: a load the memory system refused as misaligned (LR.W).
    LoadMisaligned,
    /// 5: a load from a physical address with no memory.
    LoadAccessFault,
    /// 6: a misaligned AMO or SC (stores and plain loads are split instead).
    StoreMisaligned,
    /// 7: a store or AMO to a physical address with no memory.
    StoreAccessFault,
    /// 8: `ecall` in U-mode.
    EcallFromUser,
    /// 9: `ecall` in S-mode.
    EcallFromSupervisor,
    /// 11: `ecall` in M-mode.
    EcallFromMachine,
    /// 12: a fetch that failed translation.
    InstructionPageFault,
    /// 13: a load that failed translation.
    LoadPageFault,
    /// 15: a store or AMO that failed translation.
    StorePageFault,
}

impl Exception {
    /// Every exception, in code order (for tables and stats).
    pub const ALL: [Exception; 14] = [
        Exception::InstructionMisaligned,
        Exception::InstructionAccessFault,
        Exception::IllegalInstruction,
        Exception::Breakpoint,
        Exception::LoadMisaligned,
        Exception::LoadAccessFault,
        Exception::StoreMisaligned,
        Exception::StoreAccessFault,
        Exception::EcallFromUser,
        Exception::EcallFromSupervisor,
        Exception::EcallFromMachine,
        Exception::InstructionPageFault,
        Exception::LoadPageFault,
        Exception::StorePageFault,
    ];

    /// The exception code written to `mcause`/`scause`.
    pub const fn code(self) -> u32 {
        match self {
            Exception::InstructionMisaligned => 0,
            Exception::InstructionAccessFault => 1,
            Exception::IllegalInstruction => 2,
            Exception::Breakpoint => 3,
            Exception::LoadMisaligned => 4,
            Exception::LoadAccessFault => 5,
            Exception::StoreMisaligned => 6,
            Exception::StoreAccessFault => 7,
            Exception::EcallFromUser => 8,
            Exception::EcallFromSupervisor => 9,
            Exception::EcallFromMachine => 11,
            Exception::InstructionPageFault => 12,
            Exception::LoadPageFault => 13,
            Exception::StorePageFault => 15,
        }
    }
}

/// An interrupt, numbered as `mip`/`mie` number their bits.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize)]
pub enum Interrupt {
    /// 1: SSIP, raised by software (an IPI through the SBI, or `csrs sip`).
    SupervisorSoftware,
    /// 3: MSIP, the CLINT's `msip` register.
    MachineSoftware,
    /// 5: STIP, set by M-mode software (or a machine that models `stimecmp`).
    SupervisorTimer,
    /// 7: MTIP, the CLINT's `mtime >= mtimecmp`.
    MachineTimer,
    /// 9: SEIP, the PLIC's supervisor context.
    SupervisorExternal,
    /// 11: MEIP, the PLIC's machine context.
    MachineExternal,
}

impl Interrupt {
    /// Decreasing priority, as the privileged spec orders simultaneous interrupts
    /// ("MEI, MSI, MTI, SEI, SSI, STI", section "Machine Interrupt Registers").
    pub const PRIORITY: [Interrupt; 6] = [
        Interrupt::MachineExternal,
        Interrupt::MachineSoftware,
        Interrupt::MachineTimer,
        Interrupt::SupervisorExternal,
        Interrupt::SupervisorSoftware,
        Interrupt::SupervisorTimer,
    ];

    /// The interrupt's code in `mcause` and its bit number in `mip`/`mie`.
    pub const fn code(self) -> u32 {
        match self {
            Interrupt::SupervisorSoftware => 1,
            Interrupt::MachineSoftware => 3,
            Interrupt::SupervisorTimer => 5,
            Interrupt::MachineTimer => 7,
            Interrupt::SupervisorExternal => 9,
            Interrupt::MachineExternal => 11,
        }
    }

    /// The interrupt's bit in `mip`/`mie`.
    pub const fn mask(self) -> u32 {
        1 << self.code()
    }
}

/// Why a trap was taken: what `mcause` holds.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize)]
pub enum Cause {
    /// A synchronous exception of the instruction at `mepc`.
    Exception(Exception),
    /// An asynchronous interrupt taken before the instruction at `mepc`.
    Interrupt(Interrupt),
}

impl Cause {
    /// The value written to `mcause`/`scause`: the code, with bit 31 set for interrupts.
    pub const fn mcause(self) -> u32 {
        match self {
            Cause::Exception(e) => e.code(),
            Cause::Interrupt(i) => (1 << 31) | i.code(),
        }
    }
}

/// The exception a trap from the port becomes, for an access of `kind`
/// (privileged spec, "Exception Codes"): an access fault of the walk or of the data
/// access is 1/5/7, a misaligned access 0/4/6, any other translation failure a
/// page fault 12/13/15.
pub(crate) fn exception_of(trap: &Trap, kind: AccessKind) -> Exception {
    use mmu_core::FaultKind;
    let access_fault = match trap.cause {
        TrapCause::Misaligned => {
            return match kind {
                AccessKind::Fetch => Exception::InstructionMisaligned,
                AccessKind::Read => Exception::LoadMisaligned,
                AccessKind::Write => Exception::StoreMisaligned,
            };
        }
        TrapCause::AccessFault => true,
        TrapCause::Fault(fault) => match fault.kind {
            FaultKind::AccessFault => true,
            FaultKind::NotPresent
            | FaultKind::Protection
            | FaultKind::MisalignedSuperpage
            | FaultKind::Reserved
            | FaultKind::AccessedDirty => false,
        },
    };
    match (kind, access_fault) {
        (AccessKind::Fetch, true) => Exception::InstructionAccessFault,
        (AccessKind::Read, true) => Exception::LoadAccessFault,
        (AccessKind::Write, true) => Exception::StoreAccessFault,
        (AccessKind::Fetch, false) => Exception::InstructionPageFault,
        (AccessKind::Read, false) => Exception::LoadPageFault,
        (AccessKind::Write, false) => Exception::StorePageFault,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn codes_match_the_mcause_table() {
        // Privileged spec, "mcause values after trap": 12/13/15 are the page faults,
        // 8/9/11 the ecalls; 10 and 14 are reserved.
        let codes: Vec<u32> = Exception::ALL.iter().map(|e| e.code()).collect();
        assert_eq!(codes, [0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 11, 12, 13, 15]);
        assert_eq!(Cause::Interrupt(Interrupt::MachineTimer).mcause(), 0x8000_0007);
        assert_eq!(Cause::Exception(Exception::StorePageFault).mcause(), 15);
        assert_eq!(Interrupt::SupervisorExternal.mask(), 0x200);
    }
}
