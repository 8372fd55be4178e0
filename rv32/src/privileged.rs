//! The privileged architecture's control flow: which interrupt is taken, trap
//! entry with delegation to S-mode, `mret` and `sret` (privileged spec, "Machine
//! Trap Delegation Registers", "Machine Interrupt Registers", "Trap-Return
//! Instructions"), and how a trap from the memory port becomes an exception.

use crate::Mode;
use crate::csr::mstatus;
use crate::hart::Hart;
use crate::trap::{Cause, Interrupt};

impl Hart {
    /// The interrupt to take now, if any (privileged spec, "Machine Interrupt
    /// Registers"): one not delegated is taken "if the current privilege mode is
    /// less than M, or the current privilege mode is M and MIE is set"; a delegated
    /// one if the mode is less than S, or S with SIE set, and never in M-mode.
    /// M-level interrupts go first, then each set in the order MEI, MSI, MTI, SEI,
    /// SSI, STI.
    pub(crate) fn interrupt_to_take(&self, pending: u32) -> Option<Interrupt> {
        let status = self.csr.mstatus;
        let m_enabled = self.mode < Mode::Machine || status & mstatus::MIE != 0;
        let s_enabled =
            self.mode < Mode::Supervisor || (self.mode == Mode::Supervisor && status & mstatus::SIE != 0);
        let to_m = pending & !self.csr.mideleg;
        let to_s = pending & self.csr.mideleg;
        let set = if m_enabled && to_m != 0 {
            to_m
        } else if s_enabled && to_s != 0 {
            to_s
        } else {
            return None;
        };
        Interrupt::PRIORITY.into_iter().find(|i| set & i.mask() != 0)
    }

    /// Trap entry (privileged spec, "Machine Trap Delegation Registers" and the
    /// `xstatus` stack): to S-mode if the trap comes from S or U and `medeleg` or
    /// `mideleg` delegates it, otherwise to M-mode.
    pub(crate) fn take_trap(&mut self, cause: Cause, tval: u32) {
        self.stats.traps.count(cause);
        self.reservation = None;
        let delegated = self.mode != Mode::Machine
            && match cause {
                Cause::Exception(e) => self.csr.medeleg & (1 << e.code()) != 0,
                Cause::Interrupt(i) => self.csr.mideleg & i.mask() != 0,
            };
        let status = self.csr.mstatus;
        let (tvec, new_mode) = if delegated {
            self.csr.scause = cause.mcause();
            self.csr.sepc = self.pc;
            self.csr.stval = tval;
            let spp = if self.mode == Mode::Supervisor { mstatus::SPP } else { 0 };
            let spie = if status & mstatus::SIE != 0 { mstatus::SPIE } else { 0 };
            self.csr.mstatus = (status & !(mstatus::SPP | mstatus::SPIE | mstatus::SIE)) | spp | spie;
            (self.csr.stvec, Mode::Supervisor)
        } else {
            self.csr.mcause = cause.mcause();
            self.csr.mepc = self.pc;
            self.csr.mtval = tval;
            let mpp = (self.mode as u32) << mstatus::MPP_SHIFT;
            let mpie = if status & mstatus::MIE != 0 { mstatus::MPIE } else { 0 };
            self.csr.mstatus = (status & !(mstatus::MPP | mstatus::MPIE | mstatus::MIE)) | mpp | mpie;
            (self.csr.mtvec, Mode::Machine)
        };
        let base = tvec & !3;
        self.pc = match cause {
            // Vectored mode: "asynchronous interrupts set pc to BASE+4×cause".
            Cause::Interrupt(i) if tvec & 3 == 1 => base.wrapping_add(4 * i.code()),
            _ => base,
        };
        self.mode = new_mode;
        self.update_contexts();
    }

    /// `mret`: "xIE is set to xPIE; the privilege mode is changed to y; xPIE is set
    /// to 1; and xPP is set to the least-privileged supported mode (U)"; and "if
    /// xPP ≠ M, xRET also sets MPRV=0".
    pub(crate) fn mret(&mut self) {
        let status = self.csr.mstatus;
        let target = Mode::from_bits(status >> mstatus::MPP_SHIFT);
        let mie = if status & mstatus::MPIE != 0 { mstatus::MIE } else { 0 };
        let mut new = (status & !(mstatus::MIE | mstatus::MPP)) | mie | mstatus::MPIE;
        if target != Mode::Machine {
            new &= !mstatus::MPRV;
        }
        self.csr.mstatus = new;
        self.pc = self.csr.mepc;
        self.mode = target;
        self.reservation = None;
        self.update_contexts();
    }

    /// `sret`: as `mret` for the S-level stack; SPP is never M, so MPRV is cleared.
    pub(crate) fn sret(&mut self) {
        let status = self.csr.mstatus;
        let target = if status & mstatus::SPP != 0 { Mode::Supervisor } else { Mode::User };
        let sie = if status & mstatus::SPIE != 0 { mstatus::SIE } else { 0 };
        self.csr.mstatus = (status & !(mstatus::SIE | mstatus::SPP | mstatus::MPRV)) | sie | mstatus::SPIE;
        self.pc = self.csr.sepc;
        self.mode = target;
        self.reservation = None;
        self.update_contexts();
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::trap::{Exception, exception_of};
    use crate::{CoreConfig, Environment};
    use mmu_core::{AccessKind, Trap, TrapCause};
    use mmu_core::{Cycles, Fault, FaultKind, VirtAddr};

    /// When a pending, `mie`-enabled interrupt is taken (privileged spec, "Machine
    /// Interrupt Registers (mip and mie)"): (mode, MIE, SIE, delegated, taken, rule).
    const TAKEN: &[(Mode, bool, bool, bool, bool, &str)] = &[
        (Mode::Machine, false, true, false, false, "M-level in M needs MIE"),
        (Mode::Machine, true, false, false, true, "M-level in M with MIE"),
        (Mode::Machine, true, true, true, false, "S-level never interrupts M"),
        (Mode::Supervisor, false, false, false, true, "M-level below M: always"),
        (Mode::Supervisor, false, false, true, false, "S-level in S needs SIE"),
        (Mode::Supervisor, false, true, true, true, "S-level in S with SIE"),
        (Mode::User, false, false, true, true, "S-level below S: always"),
        (Mode::User, false, false, false, true, "M-level below M: always"),
    ];

    #[test]
    fn interrupt_enable_rules() {
        let config = CoreConfig {
            cycles_per_instruction: Cycles::new(1),
            environment: Environment::BareMetal,
            hart_id: 0,
        };
        for &(mode, mie, sie, delegated, taken, rule) in TAKEN {
            let mut hart = Hart::new(config, 0);
            hart.mode = mode;
            hart.csr.mstatus = if mie { mstatus::MIE } else { 0 } | if sie { mstatus::SIE } else { 0 };
            let interrupt = if delegated { Interrupt::SupervisorTimer } else { Interrupt::MachineTimer };
            if delegated {
                hart.csr.mideleg = interrupt.mask();
            }
            let expected = taken.then_some(interrupt);
            assert_eq!(hart.interrupt_to_take(interrupt.mask()), expected, "{rule}");
        }
    }

    /// Port traps to exceptions ("Exception Codes" table): (cause, kind, exception).
    #[test]
    fn port_traps_become_the_spec_causes() {
        let fault = |kind| {
            TrapCause::Fault(Fault { kind, vaddr: VirtAddr::new(0), access: AccessKind::Read, level: None })
        };
        let rows = [
            (TrapCause::Misaligned, AccessKind::Fetch, Exception::InstructionMisaligned),
            (TrapCause::Misaligned, AccessKind::Read, Exception::LoadMisaligned),
            (TrapCause::Misaligned, AccessKind::Write, Exception::StoreMisaligned),
            (TrapCause::AccessFault, AccessKind::Fetch, Exception::InstructionAccessFault),
            (TrapCause::AccessFault, AccessKind::Read, Exception::LoadAccessFault),
            (TrapCause::AccessFault, AccessKind::Write, Exception::StoreAccessFault),
            // A PTE read outside memory: "raise an access-fault exception" (Sv32 step 2).
            (fault(FaultKind::AccessFault), AccessKind::Fetch, Exception::InstructionAccessFault),
            (fault(FaultKind::AccessFault), AccessKind::Write, Exception::StoreAccessFault),
            (fault(FaultKind::NotPresent), AccessKind::Fetch, Exception::InstructionPageFault),
            (fault(FaultKind::Reserved), AccessKind::Read, Exception::LoadPageFault),
            (fault(FaultKind::MisalignedSuperpage), AccessKind::Write, Exception::StorePageFault),
        ];
        for (cause, kind, expected) in rows {
            let trap = Trap { cause, vaddr: VirtAddr::new(0), kind };
            assert_eq!(exception_of(&trap, kind), expected, "{cause:?} on {kind:?}");
        }
    }
}
