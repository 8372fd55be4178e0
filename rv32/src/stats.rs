//! The core's counters for the report: instructions by class and traps by cause.

use crate::trap::{Cause, Exception, Interrupt};
use serde::Serialize;

/// The class an instruction is counted in.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Class {
    Alu,
    MulDiv,
    Load,
    Store,
    Branch,
    Jump,
    System,
    Atomic,
    Fence,
}

/// What the core did, in plain counters.
#[derive(Default, Debug, Clone, Serialize)]
pub struct CoreStats {
    /// Instructions retired (unlike `minstret`, which software may write).
    pub instructions: u64,
    /// Integer arithmetic, logic, shifts, compares, LUI, AUIPC.
    pub alu: u64,
    /// The M extension.
    pub mul_div: u64,
    /// Loads (LB..LHU, LW).
    pub loads: u64,
    /// Stores.
    pub stores: u64,
    /// Conditional branches, taken or not.
    pub branches: u64,
    /// JAL and JALR.
    pub jumps: u64,
    /// Zicsr, `mret`, `sret`, `wfi`, and `ecall`s the machine emulated.
    pub system: u64,
    /// LR, SC and AMOs.
    pub atomics: u64,
    /// FENCE, FENCE.I, SFENCE.VMA.
    pub fences: u64,
    /// User process: `ecall`s handed to the machine.
    pub syscalls: u64,
    /// Traps by cause (bare metal: taken; user process: the exception that stopped it).
    pub traps: TrapStats,
}

impl CoreStats {
    pub(crate) fn count(&mut self, class: Class) {
        self.instructions += 1;
        let counter = match class {
            Class::Alu => &mut self.alu,
            Class::MulDiv => &mut self.mul_div,
            Class::Load => &mut self.loads,
            Class::Store => &mut self.stores,
            Class::Branch => &mut self.branches,
            Class::Jump => &mut self.jumps,
            Class::System => &mut self.system,
            Class::Atomic => &mut self.atomics,
            Class::Fence => &mut self.fences,
        };
        *counter += 1;
    }
}

/// Traps by cause, one counter per `mcause` value.
#[derive(Default, Debug, Clone, Serialize)]
#[allow(missing_docs)]
pub struct TrapStats {
    pub instruction_misaligned: u64,
    pub instruction_access_fault: u64,
    pub illegal_instruction: u64,
    pub breakpoint: u64,
    pub load_misaligned: u64,
    pub load_access_fault: u64,
    pub store_misaligned: u64,
    pub store_access_fault: u64,
    pub ecall_from_user: u64,
    pub ecall_from_supervisor: u64,
    pub ecall_from_machine: u64,
    pub instruction_page_fault: u64,
    pub load_page_fault: u64,
    pub store_page_fault: u64,
    pub supervisor_software_interrupt: u64,
    pub machine_software_interrupt: u64,
    pub supervisor_timer_interrupt: u64,
    pub machine_timer_interrupt: u64,
    pub supervisor_external_interrupt: u64,
    pub machine_external_interrupt: u64,
}

impl TrapStats {
    pub(crate) fn count(&mut self, cause: Cause) {
        let counter = match cause {
            Cause::Exception(e) => match e {
                Exception::InstructionMisaligned => &mut self.instruction_misaligned,
                Exception::InstructionAccessFault => &mut self.instruction_access_fault,
                Exception::IllegalInstruction => &mut self.illegal_instruction,
                Exception::Breakpoint => &mut self.breakpoint,
                Exception::LoadMisaligned => &mut self.load_misaligned,
                Exception::LoadAccessFault => &mut self.load_access_fault,
                Exception::StoreMisaligned => &mut self.store_misaligned,
                Exception::StoreAccessFault => &mut self.store_access_fault,
                Exception::EcallFromUser => &mut self.ecall_from_user,
                Exception::EcallFromSupervisor => &mut self.ecall_from_supervisor,
                Exception::EcallFromMachine => &mut self.ecall_from_machine,
                Exception::InstructionPageFault => &mut self.instruction_page_fault,
                Exception::LoadPageFault => &mut self.load_page_fault,
                Exception::StorePageFault => &mut self.store_page_fault,
            },
            Cause::Interrupt(i) => match i {
                Interrupt::SupervisorSoftware => &mut self.supervisor_software_interrupt,
                Interrupt::MachineSoftware => &mut self.machine_software_interrupt,
                Interrupt::SupervisorTimer => &mut self.supervisor_timer_interrupt,
                Interrupt::MachineTimer => &mut self.machine_timer_interrupt,
                Interrupt::SupervisorExternal => &mut self.supervisor_external_interrupt,
                Interrupt::MachineExternal => &mut self.machine_external_interrupt,
            },
        };
        *counter += 1;
    }

    /// Every trap counted.
    pub fn total(&self) -> u64 {
        [
            self.instruction_misaligned,
            self.instruction_access_fault,
            self.illegal_instruction,
            self.breakpoint,
            self.load_misaligned,
            self.load_access_fault,
            self.store_misaligned,
            self.store_access_fault,
            self.ecall_from_user,
            self.ecall_from_supervisor,
            self.ecall_from_machine,
            self.instruction_page_fault,
            self.load_page_fault,
            self.store_page_fault,
            self.supervisor_software_interrupt,
            self.machine_software_interrupt,
            self.supervisor_timer_interrupt,
            self.machine_timer_interrupt,
            self.supervisor_external_interrupt,
            self.machine_external_interrupt,
        ]
        .iter()
        .sum()
    }
}
