//! One RISC-V hart: its architectural state, the step loop, trap entry and return,
//! interrupts, and the translation contexts it hands the memory port.

use crate::csr::{Csrs, IllegalCsr, addr, mstatus, satp};
use crate::stats::{Class, CoreStats};
use crate::trap::exception_of;
use crate::trap::{Cause, Exception, Interrupt};
use mmu_core::{
    AccessContext, AccessKind, AddressSpace, Asid, Cycle, Cycles, MemoryPort, PhysAddr, Privilege,
    PrivilegeState, Trap, VirtAddr, Width,
};
use serde::{Deserialize, Serialize};

/// A privilege mode, numbered as `mstatus.MPP` encodes it.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub enum Mode {
    /// U-mode (0).
    User = 0,
    /// S-mode (1).
    Supervisor = 1,
    /// M-mode (3).
    Machine = 3,
}

impl Mode {
    /// The mode an `MPP`/`SPP` field names; the reserved 2 reads as U (it cannot be
    /// written: `mstatus` legalises it).
    pub(crate) const fn from_bits(bits: u32) -> Mode {
        match bits & 3 {
            3 => Mode::Machine,
            1 => Mode::Supervisor,
            _ => Mode::User,
        }
    }
}

/// What runs on the core, chosen at construction.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum Environment {
    /// The program owns the machine from M-mode: every trap goes to `mtvec`/`stvec`
    /// as the privileged spec says (riscv-tests, firmware, a kernel).
    BareMetal,
    /// A Linux-ABI user program on the project's OS model: the core stays in U-mode,
    /// `ecall` leaves [`Hart::step`] as [`Step::Syscall`] and every other exception
    /// as [`Step::Exception`], for the machine to emulate or to stop the process.
    /// Interrupts are recorded but never taken (the OS model schedules).
    UserProcess,
}

/// How a core is built.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CoreConfig {
    /// Cycles every instruction costs besides its memory accesses.
    pub cycles_per_instruction: Cycles,
    /// Bare metal or user process.
    pub environment: Environment,
    /// What `mhartid` reads.
    pub hart_id: u32,
}

/// What one [`Hart::step`] did.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Step {
    /// An instruction retired.
    Retired,
    /// A trap was taken (bare metal): the core now runs the handler.
    Trapped(Cause),
    /// The core waits for an interrupt (`wfi` retired, or still waiting): the machine
    /// may advance time ([`Hart::advance_to`]) to its next event.
    Waiting,
    /// User process: an `ecall`. The number is in a7, the arguments in a0-a5; the
    /// machine writes the result to a0 and calls [`Hart::skip_ecall`].
    Syscall,
    /// User process: an exception the process cannot survive. `pc` is the
    /// instruction's address, `tval` what `mtval` would hold.
    Exception {
        /// The exception.
        cause: Exception,
        /// The faulting address, instruction bits or 0, as `mtval` would hold.
        tval: u32,
        /// The instruction that raised it.
        pc: u32,
    },
}

/// Why the core could not be given an address space.
#[derive(Clone, Copy, Debug, PartialEq, Eq, thiserror::Error)]
pub enum AddressSpaceError {
    /// Sv32's `satp.ASID` has 9 bits.
    #[error("ASID {0} does not fit satp.ASID (9 bits, at most 511)")]
    AsidTooWide(u16),
    /// `satp.PPN` names a 4 KiB frame in a 34-bit physical space.
    #[error("root table {0:#x} is not a 4 KiB aligned address below 2^34")]
    BadRoot(u64),
}

/// Why [`Hart::set_csr`] refused a write.
#[derive(Clone, Copy, Debug, PartialEq, Eq, thiserror::Error)]
pub enum CsrError {
    /// No CSR at this address (PMP, floating point, ...).
    #[error("this hart has no CSR {0:#05x}")]
    Missing(u16),
    /// A read-only CSR (address bits 11:10 = 3).
    #[error("CSR {0:#05x} is read-only")]
    ReadOnly(u16),
}

/// Why an instruction did not complete: an exception to raise, or an error of the
/// port that stops the run (boxed: it ends the run, and a small `Stop` keeps every
/// `Result` of the per-instruction path in registers).
pub(crate) enum Stop<E> {
    Raise(Exception, u32),
    Port(Box<E>),
}

/// Entries of the cache of compressed-instruction expansions (a power of two).
const EXPANSIONS: usize = 512;

/// One entry of that cache: the 16 bits fetched at a pc and their 32-bit
/// expansion (0 when they are illegal). A tag above `u16::MAX` never matches.
#[derive(Clone, Copy, Debug)]
pub(crate) struct Expansion {
    pub(crate) bits: u32,
    pub(crate) inst: u32,
}

/// How an executed instruction ends.
pub(crate) enum Flow {
    /// It retired; the pc has been updated.
    Retired(Class),
    /// `wfi` retired: wait for an interrupt.
    Wait,
}

/// The instruction-alignment mask: with C, targets need only be 2-byte aligned
/// (IALIGN = 16), and `misa.C` cannot be cleared here.
const IALIGN_MASK: u32 = 1;

/// An RV32IMAC hart with M, S and U modes.
///
/// Time: the hart owns its clock. A step costs `cycles_per_instruction`, and every
/// access is issued at the current clock, which then moves to the answer's
/// `ready_at`. `mcycle` reads this clock.
#[derive(Clone, Debug)]
pub struct Hart {
    regs: [u32; 32],
    pub(crate) pc: u32,
    pub(crate) mode: Mode,
    pub(crate) csr: Csrs,
    now: Cycle,
    cycles_per_instruction: Cycles,
    /// Steps that charged `cycles_per_instruction` (instructions, traps and
    /// interrupts taken): the core's own share of its clock.
    charged_steps: u64,
    environment: Environment,
    /// LR.W's reservation: the word address, cleared by SC, traps and xRET.
    pub(crate) reservation: Option<u32>,
    waiting: bool,
    /// The context of fetches (the current mode) and of loads and stores (`MPRV`
    /// applied), recomputed when `mstatus`, `satp` or the mode change.
    fetch_context: AccessContext,
    pub(crate) data_context: AccessContext,
    pub(crate) stats: CoreStats,
    /// Compressed instructions already expanded, indexed by `pc / 2` and checked
    /// against the bits fetched (so a store to code, `fence.i` or a new mapping
    /// needs no invalidation: other bits miss). See [`Hart::set_fast_paths`].
    pub(crate) expansions: Box<[Expansion; EXPANSIONS]>,
    /// Whether the expansion cache is filled (the switch tests use to compare
    /// runs with and without it).
    pub(crate) fast_paths: bool,
}

impl Hart {
    /// A hart at `entry`: in M-mode for bare metal, in U-mode with the counters
    /// visible (`mcounteren = scounteren = 7`, as Linux sets them) for a user process.
    pub fn new(config: CoreConfig, entry: u32) -> Self {
        let mode = match config.environment {
            Environment::BareMetal => Mode::Machine,
            Environment::UserProcess => Mode::User,
        };
        let mut csr = Csrs::new(config.hart_id);
        if config.environment == Environment::UserProcess {
            csr.mcounteren = 7;
            csr.scounteren = 7;
        }
        let bare = AccessContext::bare(PrivilegeState::default());
        let mut hart = Self {
            regs: [0; 32],
            pc: entry,
            mode,
            csr,
            now: Cycle::ZERO,
            cycles_per_instruction: config.cycles_per_instruction,
            charged_steps: 0,
            environment: config.environment,
            reservation: None,
            waiting: false,
            fetch_context: bare,
            data_context: bare,
            stats: CoreStats::default(),
            expansions: Box::new([Expansion { bits: u32::MAX, inst: 0 }; EXPANSIONS]),
            fast_paths: true,
        };
        hart.update_contexts();
        hart
    }

    /// The program counter.
    pub fn pc(&self) -> u32 {
        self.pc
    }
    /// Moves the program counter (a loader's entry point, a signal handler).
    pub fn set_pc(&mut self, pc: u32) {
        self.pc = pc;
        self.waiting = false;
    }
    /// Register `x[index & 31]` (x0 reads 0).
    pub fn reg(&self, index: u8) -> u32 {
        self.regs[usize::from(index & 31)]
    }
    /// Writes `x[index & 31]`; writes to x0 are ignored.
    pub fn set_reg(&mut self, index: u8, value: u32) {
        let i = usize::from(index & 31);
        if i != 0 {
            self.regs[i] = value;
        }
    }
    /// The current privilege mode.
    pub fn mode(&self) -> Mode {
        self.mode
    }
    /// The core's clock.
    pub fn now(&self) -> Cycle {
        self.now
    }
    /// The cycles the core charged itself: `cycles_per_instruction` per step that
    /// ran (an instruction, or a trap or interrupt taken; a `wfi` that waits on
    /// costs nothing more). The rest of the clock is the memory port's answers
    /// and what the machine adds ([`Hart::advance_to`]). Since the last
    /// [`Hart::reset_stats`].
    pub fn own_cycles(&self) -> u64 {
        self.charged_steps.saturating_mul(self.cycles_per_instruction.as_u64())
    }
    /// Moves the clock forward to `cycle` (a machine fast-forwarding a `wfi`); an
    /// earlier cycle changes nothing.
    pub fn advance_to(&mut self, cycle: Cycle) {
        self.now = self.now.max(cycle);
    }
    /// Counters for the report.
    pub fn stats(&self) -> &CoreStats {
        &self.stats
    }
    /// Zeroes the counters, keeping every architectural state (`minstret` and
    /// `mcycle` included): the end of a run's skipped prefix or warm-up.
    pub fn reset_stats(&mut self) {
        self.stats = CoreStats::default();
        self.charged_steps = 0;
    }
    /// Whether the core is stopped in `wfi`.
    pub fn is_waiting(&self) -> bool {
        self.waiting
    }
    /// The context fetches are translated in.
    pub fn fetch_context(&self) -> &AccessContext {
        &self.fetch_context
    }
    /// The context loads and stores are translated in.
    pub fn data_context(&self) -> &AccessContext {
        &self.data_context
    }

    /// Reads a CSR as M-mode would, without side effects (for tests and debuggers);
    /// `None` if the hart has no such CSR.
    pub fn csr(&self, address: u16) -> Option<u32> {
        self.csr.read(address, self.now).ok()
    }

    /// Writes a CSR as M-mode would, with its WARL rules (a machine setting up
    /// state, a test).
    ///
    /// # Errors
    /// The hart has no such CSR, or it is read-only.
    pub fn set_csr(&mut self, address: u16, value: u32) -> Result<(), CsrError> {
        self.csr.check(address, Mode::Machine, true).map_err(|_| CsrError::ReadOnly(address))?;
        self.csr.read(address, self.now).map_err(|_| CsrError::Missing(address))?;
        self.csr.write(address, value, self.now);
        self.update_contexts();
        Ok(())
    }

    /// Sets the value the `time` CSR reads (the CLINT's `mtime`), until the next
    /// call; it replaces any time base ([`Hart::set_time_base`]).
    #[inline]
    pub fn set_mtime(&mut self, mtime: u64) {
        self.csr.mtime = mtime;
        self.csr.time_divisor = 0;
    }

    /// Makes the `time` CSR follow the clock: an instruction that began at cycle
    /// `c` reads `c / cycles_per_tick + offset` (wrapping), as a CLINT whose `mtime`
    /// ticks every `cycles_per_tick` cycles reads at that instant. The machine sets
    /// it once and again when software moves `mtime` (a new `offset`), instead of
    /// writing `mtime` before every step. `cycles_per_tick` 0 keeps the last
    /// [`Hart::set_mtime`] value.
    pub fn set_time_base(&mut self, cycles_per_tick: u64, offset: u64) {
        self.csr.time_divisor = cycles_per_tick;
        self.csr.time_offset = offset;
    }

    /// Turns the core's fast paths on (the default) or off: today the cache of
    /// compressed-instruction expansions. Off, every compressed instruction is
    /// expanded again; nothing a program or a report can observe differs, which
    /// the tests check by running both ways.
    #[doc(hidden)]
    pub fn set_fast_paths(&mut self, on: bool) {
        self.fast_paths = on;
        self.expansions.fill(Expansion { bits: u32::MAX, inst: 0 });
    }

    /// Drives one interrupt line into `mip` (MSIP, MTIP and MEIP from the CLINT and
    /// PLIC; SEIP and STIP are ORed with the bits software writes).
    pub fn set_interrupt_pending(&mut self, interrupt: Interrupt, pending: bool) {
        self.csr.set_line(interrupt, pending);
    }

    /// Sets `satp` for a user process: Sv32 translation in `space`, or none.
    ///
    /// # Errors
    /// An ASID wider than 9 bits or a root that `satp.PPN` cannot hold.
    pub fn set_address_space(&mut self, space: Option<AddressSpace>) -> Result<(), AddressSpaceError> {
        self.csr.satp = match space {
            None => 0,
            Some(AddressSpace { asid, root }) => {
                if u32::from(asid.as_u16()) > satp::ASID_MASK {
                    return Err(AddressSpaceError::AsidTooWide(asid.as_u16()));
                }
                let raw = root.as_u64();
                if raw & 0xfff != 0 || raw >> 34 != 0 {
                    return Err(AddressSpaceError::BadRoot(raw));
                }
                satp::MODE_SV32 | (u32::from(asid.as_u16()) << satp::ASID_SHIFT) | (raw >> 12) as u32
            }
        };
        self.update_contexts();
        Ok(())
    }

    /// User process: moves past the `ecall` that stopped with [`Step::Syscall`]
    /// (an `ecall` is always 4 bytes) and counts it as retired.
    pub fn skip_ecall(&mut self) {
        self.pc = self.pc.wrapping_add(4);
        self.retire(Class::System);
    }

    /// Recomputes the fetch and data contexts from the mode, `mstatus` and `satp`
    /// (privileged spec, "Virtual Address Translation Process": translation applies
    /// when the effective mode is S or U and `satp.MODE` is Sv32; "when MPRV=1, load
    /// and store memory addresses are translated and protected ... as though the
    /// current privilege mode were set to MPP").
    pub(crate) fn update_contexts(&mut self) {
        let status = self.csr.mstatus;
        let data_mode = if self.mode == Mode::Machine && status & mstatus::MPRV != 0 {
            Mode::from_bits(status >> mstatus::MPP_SHIFT)
        } else {
            self.mode
        };
        self.fetch_context = self.context_for(self.mode);
        self.data_context = self.context_for(data_mode);
    }

    fn context_for(&self, mode: Mode) -> AccessContext {
        let status = self.csr.mstatus;
        let privilege = PrivilegeState {
            mode: if mode == Mode::User { Privilege::User } else { Privilege::Supervisor },
            sum: status & mstatus::SUM != 0,
            mxr: status & mstatus::MXR != 0,
            write_protect: true,
        };
        let satp = self.csr.satp;
        if mode == Mode::Machine || satp & satp::MODE_SV32 == 0 {
            return AccessContext::bare(privilege);
        }
        let space = AddressSpace {
            asid: Asid::new(((satp >> satp::ASID_SHIFT) & satp::ASID_MASK) as u16),
            root: PhysAddr::new(u64::from(satp & satp::PPN_MASK) << 12),
        };
        AccessContext::paged(space, privilege)
    }

    /// Runs one instruction, or takes one interrupt.
    ///
    /// # Errors
    /// The port's error, which stops the run; the instruction has then not retired.
    #[inline]
    pub fn step<P: MemoryPort>(&mut self, port: &mut P) -> Result<Step, P::Error> {
        let pending = self.csr.mip() & self.csr.mie;
        self.csr.instruction_start = self.now.as_u64();
        if self.waiting || pending != 0 {
            if let Some(step) = self.wait_or_interrupt(pending) {
                return Ok(step);
            }
        } else {
            self.now += self.cycles_per_instruction;
            self.charged_steps += 1;
        }
        let pc = self.pc;
        match self.fetch_execute(port) {
            Ok(Flow::Retired(class)) => {
                self.retire(class);
                Ok(Step::Retired)
            }
            Ok(Flow::Wait) => {
                self.retire(Class::System);
                self.waiting = true;
                Ok(Step::Waiting)
            }
            Err(Stop::Port(error)) => Err(*error),
            Err(Stop::Raise(exception, tval)) => Ok(self.raise(exception, tval, pc)),
        }
    }

    /// The start of a step while waiting or with an interrupt pending and enabled
    /// in `mie`: `Some` if the step ends here (still waiting, or an interrupt
    /// taken), else the instruction's cycles are charged and it runs.
    #[inline(never)]
    fn wait_or_interrupt(&mut self, pending: u32) -> Option<Step> {
        if self.waiting {
            // "WFI ... resumes when an interrupt is pending and enabled in mie,
            // regardless of the global enables" (privileged spec, "Wait for Interrupt").
            if pending == 0 {
                return Some(Step::Waiting);
            }
            self.waiting = false;
        }
        self.now += self.cycles_per_instruction;
        self.charged_steps += 1;
        if pending != 0 && self.environment == Environment::BareMetal {
            if let Some(interrupt) = self.interrupt_to_take(pending) {
                let cause = Cause::Interrupt(interrupt);
                self.take_trap(cause, 0);
                return Some(Step::Trapped(cause));
            }
        }
        None
    }

    #[inline]
    fn retire(&mut self, class: Class) {
        self.csr.minstret = self.csr.minstret.wrapping_add(1);
        self.stats.count(class);
    }

    #[cold]
    fn raise(&mut self, exception: Exception, tval: u32, pc: u32) -> Step {
        match self.environment {
            Environment::BareMetal => {
                let cause = Cause::Exception(exception);
                self.take_trap(cause, tval);
                Step::Trapped(cause)
            }
            Environment::UserProcess if exception == Exception::EcallFromUser => {
                self.stats.syscalls += 1;
                Step::Syscall
            }
            Environment::UserProcess => {
                self.stats.traps.count(Cause::Exception(exception));
                Step::Exception { cause: exception, tval, pc }
            }
        }
    }

    /// The Zicsr read-modify-write: checks, reads the old value, writes the new one
    /// (unless `write` is false: `csrrs`/`csrrc` with x0 or a zero immediate), and
    /// recomputes the contexts when a write could change them.
    pub(crate) fn csr_access(
        &mut self,
        address: u16,
        write: bool,
        new_value: impl FnOnce(u32) -> u32,
    ) -> Result<u32, IllegalCsr> {
        self.csr.check(address, self.mode, write)?;
        let old = self.csr.read(address, self.now)?;
        if write {
            // "The value used as input to the read-modify-write of CSRRS/CSRRC is
            // only the software-writable SEIP bit, ignoring the interrupt value from
            // the external interrupt controller" (privileged spec, mip): the same for
            // every line the machine drives, so a `csrs mip` never latches a line.
            let base = match address {
                addr::MIP => self.csr.mip_soft,
                addr::SIP => self.csr.mip_soft & self.csr.mideleg,
                _ => old,
            };
            self.csr.write(address, new_value(base), self.now);
            if matches!(address, addr::MINSTRET | addr::MINSTRETH) {
                // This instruction retires after its write, and the next one must read
                // the value written (as on Spike): pre-pay its increment.
                self.csr.minstret = self.csr.minstret.wrapping_sub(1);
            }
            if matches!(address, addr::MSTATUS | addr::SSTATUS | addr::SATP) {
                self.update_contexts();
            }
        }
        Ok(old)
    }

    #[inline]
    pub(crate) fn x(&self, index: u32) -> u32 {
        self.regs[(index & 31) as usize]
    }
    #[inline]
    pub(crate) fn set_x(&mut self, index: u32, value: u32) {
        let i = (index & 31) as usize;
        if i != 0 {
            self.regs[i] = value;
        }
    }
    #[inline]
    pub(crate) fn set_pc_raw(&mut self, pc: u32) {
        self.pc = pc;
    }
    #[inline]
    pub(crate) fn mstatus(&self) -> u32 {
        self.csr.mstatus
    }

    /// Checks a jump target: "an instruction-address-misaligned exception is
    /// generated on a taken branch or unconditional jump if the target address is
    /// not IALIGN-bit aligned".
    #[inline]
    pub(crate) fn jump<E>(&mut self, target: u32) -> Result<(), Stop<E>> {
        if target & IALIGN_MASK != 0 {
            return Err(Stop::Raise(Exception::InstructionMisaligned, target));
        }
        self.pc = target;
        Ok(())
    }

    /// [`Hart::port_access`] for a fetch, inlined into the step: a fetch is the
    /// one access every instruction makes.
    #[inline(always)]
    pub(crate) fn fetch_access<P: MemoryPort>(
        &mut self,
        port: &mut P,
        vaddr: u32,
        width: Width,
    ) -> Result<u32, Stop<P::Error>> {
        let request =
            mmu_core::MemRequest { kind: AccessKind::Fetch, vaddr: VirtAddr::new(vaddr), width, value: 0 };
        match port.access(self.now, &self.fetch_context, request) {
            Ok(answer) => {
                if answer.ready_at > self.now {
                    self.now = answer.ready_at;
                }
                match answer.value {
                    Ok(value) => Ok(value),
                    Err(trap) => Err(trap_stop(&trap, AccessKind::Fetch, vaddr)),
                }
            }
            Err(error) => Err(port_stop(error)),
        }
    }

    /// Issues one access at the current clock and moves the clock to its answer.
    /// A trap becomes the exception of an access of `reported` kind (an AMO's read
    /// reports store/AMO causes) with `tval` (a fetch's is the trap's address).
    #[allow(clippy::too_many_arguments)]
    #[inline(always)]
    pub(crate) fn port_access<P: MemoryPort>(
        &mut self,
        port: &mut P,
        kind: AccessKind,
        vaddr: u32,
        width: Width,
        value: u32,
        reported: AccessKind,
        tval: u32,
    ) -> Result<u32, Stop<P::Error>> {
        let request = mmu_core::MemRequest { kind, vaddr: VirtAddr::new(vaddr), width, value };
        let context = if kind == AccessKind::Fetch { &self.fetch_context } else { &self.data_context };
        match port.access(self.now, context, request) {
            Ok(answer) => {
                // `Cycle::max` is not `#[inline]` across crates; this is the hot path.
                if answer.ready_at > self.now {
                    self.now = answer.ready_at;
                }
                match answer.value {
                    Ok(value) => Ok(value),
                    Err(trap) => Err(trap_stop(&trap, reported, tval)),
                }
            }
            Err(error) => Err(port_stop(error)),
        }
    }
}

/// The exception a port trap raises (see [`Hart::port_access`]).
#[cold]
fn trap_stop<E>(trap: &Trap, reported: AccessKind, tval: u32) -> Stop<E> {
    let tval = if reported == AccessKind::Fetch { trap.vaddr.as_u32() } else { tval };
    Stop::Raise(exception_of(trap, reported), tval)
}

#[cold]
fn port_stop<E>(error: E) -> Stop<E> {
    Stop::Port(Box::new(error))
}
