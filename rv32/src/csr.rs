//! The control and status registers: their addresses, their WARL rules and the
//! privilege checks of the Zicsr instructions (privileged spec, "Control and Status
//! Registers", and the Machine- and Supervisor-level CSR chapters).
//!
//! Only the CSRs a hart with M, S and U modes needs are present; any other address
//! (`mnstatus`, floating point, `menvcfg`, `mcountinhibit`, debug mode...) raises
//! an illegal-instruction exception, which the riscv-tests use to skip features
//! (shared/riscv-tests/README.md; issue #10).
//!
//! PMP: the registers of 16 entries hold what is written (`pmpcfg0-3`,
//! `pmpaddr0-15`, WARL with granularity 4 bytes; `pmpcfg4-15` and `pmpaddr16-63`
//! read zero, as the spec lets an implementation with 16 entries do), but no
//! access is ever checked against them and the L bit locks nothing. Issue #10
//! asked for illegal PMP CSRs; `rv32mi-p-pmpaddr`, which the issue also requires
//! to pass (it passes on QEMU, whose PMP works), reads back what it wrote to
//! `pmpaddr0`, so the registers must exist.

use crate::Mode;
use crate::trap::Interrupt;
use mmu_core::Cycle;

/// CSR addresses (privileged spec, "CSR Listing").
pub mod addr {
    #![allow(missing_docs)]
    pub const SSTATUS: u16 = 0x100;
    pub const SIE: u16 = 0x104;
    pub const STVEC: u16 = 0x105;
    pub const SCOUNTEREN: u16 = 0x106;
    pub const SSCRATCH: u16 = 0x140;
    pub const SEPC: u16 = 0x141;
    pub const SCAUSE: u16 = 0x142;
    pub const STVAL: u16 = 0x143;
    pub const SIP: u16 = 0x144;
    pub const SATP: u16 = 0x180;
    pub const MSTATUS: u16 = 0x300;
    pub const MISA: u16 = 0x301;
    pub const MEDELEG: u16 = 0x302;
    pub const MIDELEG: u16 = 0x303;
    pub const MIE: u16 = 0x304;
    pub const MTVEC: u16 = 0x305;
    pub const MCOUNTEREN: u16 = 0x306;
    pub const MSTATUSH: u16 = 0x310;
    pub const PMPCFG0: u16 = 0x3a0;
    pub const PMPCFG15: u16 = 0x3af;
    pub const PMPADDR0: u16 = 0x3b0;
    pub const PMPADDR63: u16 = 0x3ef;
    pub const MHPMEVENT3: u16 = 0x323;
    pub const MHPMEVENT31: u16 = 0x33f;
    pub const MSCRATCH: u16 = 0x340;
    pub const MEPC: u16 = 0x341;
    pub const MCAUSE: u16 = 0x342;
    pub const MTVAL: u16 = 0x343;
    pub const MIP: u16 = 0x344;
    pub const TSELECT: u16 = 0x7a0;
    pub const TDATA1: u16 = 0x7a1;
    pub const TDATA2: u16 = 0x7a2;
    pub const MCYCLE: u16 = 0xb00;
    pub const MINSTRET: u16 = 0xb02;
    pub const MHPMCOUNTER3: u16 = 0xb03;
    pub const MHPMCOUNTER31: u16 = 0xb1f;
    pub const MCYCLEH: u16 = 0xb80;
    pub const MINSTRETH: u16 = 0xb82;
    pub const MHPMCOUNTER3H: u16 = 0xb83;
    pub const MHPMCOUNTER31H: u16 = 0xb9f;
    pub const CYCLE: u16 = 0xc00;
    pub const TIME: u16 = 0xc01;
    pub const INSTRET: u16 = 0xc02;
    pub const HPMCOUNTER3: u16 = 0xc03;
    pub const HPMCOUNTER31: u16 = 0xc1f;
    pub const CYCLEH: u16 = 0xc80;
    pub const TIMEH: u16 = 0xc81;
    pub const INSTRETH: u16 = 0xc82;
    pub const HPMCOUNTER3H: u16 = 0xc83;
    pub const HPMCOUNTER31H: u16 = 0xc9f;
    pub const MVENDORID: u16 = 0xf11;
    pub const MARCHID: u16 = 0xf12;
    pub const MIMPID: u16 = 0xf13;
    pub const MHARTID: u16 = 0xf14;
    pub const MCONFIGPTR: u16 = 0xf15;
}

/// `mstatus` bit positions (privileged spec, "Machine Status Registers").
pub mod mstatus {
    #![allow(missing_docs)]
    pub const SIE: u32 = 1 << 1;
    pub const MIE: u32 = 1 << 3;
    pub const SPIE: u32 = 1 << 5;
    pub const MPIE: u32 = 1 << 7;
    pub const SPP: u32 = 1 << 8;
    pub const MPP_SHIFT: u32 = 11;
    pub const MPP: u32 = 3 << MPP_SHIFT;
    pub const MPRV: u32 = 1 << 17;
    pub const SUM: u32 = 1 << 18;
    pub const MXR: u32 = 1 << 19;
    pub const TVM: u32 = 1 << 20;
    pub const TW: u32 = 1 << 21;
    pub const TSR: u32 = 1 << 22;
    /// What M-mode may write; FS, VS, XS, UBE and SD are read-only zero (no F, V).
    pub const WRITABLE: u32 = SIE | MIE | SPIE | MPIE | SPP | MPP | MPRV | SUM | MXR | TVM | TW | TSR;
    /// The `sstatus` view of `mstatus`.
    pub const SSTATUS: u32 = SIE | SPIE | SPP | SUM | MXR;
}

/// `misa` of this hart: MXL = 1 (RV32) and the extensions A, C, I, M, S, U.
/// Read-only: writes are ignored, which the spec allows (WARL).
pub const MISA_VALUE: u32 = (1 << 30) | (1 << 0) | (1 << 2) | (1 << 8) | (1 << 12) | (1 << 18) | (1 << 20);

/// The interrupts M-mode may delegate and S-mode may see: SSI, STI, SEI.
const S_INTERRUPTS: u32 = (1 << 1) | (1 << 5) | (1 << 9);
/// Every interrupt `mie` can enable.
const ALL_INTERRUPTS: u32 = S_INTERRUPTS | (1 << 3) | (1 << 7) | (1 << 11);
/// Exceptions `medeleg` may delegate: every code but 10, 14 (reserved) and 11
/// (`ecall` from M-mode, "medeleg[11] is read-only zero").
const DELEGABLE_EXCEPTIONS: u32 = 0xb3ff;

/// `satp` fields for Sv32 ("Supervisor Address Translation and Protection Register").
pub mod satp {
    #![allow(missing_docs)]
    pub const MODE_SV32: u32 = 1 << 31;
    pub const ASID_SHIFT: u32 = 22;
    pub const ASID_MASK: u32 = 0x1ff;
    pub const PPN_MASK: u32 = 0x3f_ffff;
}

/// Whether a counter CSR reads through to its value (bit of `mcounteren`/`scounteren`).
const fn counter_bit(address: u16) -> u32 {
    1 << (address & 0x1f)
}

/// The CSR state of one hart. Plain data; [`crate::Hart`] applies the side effects
/// (recomputing translation contexts) after writes.
#[derive(Clone, Debug)]
pub(crate) struct Csrs {
    pub(crate) mstatus: u32,
    pub(crate) mtvec: u32,
    pub(crate) stvec: u32,
    pub(crate) mepc: u32,
    pub(crate) sepc: u32,
    pub(crate) mcause: u32,
    pub(crate) scause: u32,
    pub(crate) mtval: u32,
    pub(crate) stval: u32,
    pub(crate) mscratch: u32,
    pub(crate) sscratch: u32,
    pub(crate) mie: u32,
    /// The bits of `mip` software writes (SSIP, STIP, SEIP).
    pub(crate) mip_soft: u32,
    /// The interrupt lines the machine drives ([`crate::Hart::set_interrupt_pending`]).
    pub(crate) mip_lines: u32,
    pub(crate) medeleg: u32,
    pub(crate) mideleg: u32,
    pub(crate) satp: u32,
    pub(crate) mcounteren: u32,
    pub(crate) scounteren: u32,
    /// `mcycle - now`, wrapping: `mcycle` follows the core's clock and stays writable.
    pub(crate) mcycle_offset: u64,
    pub(crate) minstret: u64,
    /// What `time` reads when no time base is set ([`crate::Hart::set_mtime`]).
    pub(crate) mtime: u64,
    /// Core cycles per `time` tick; 0 when `time` is the fixed `mtime`
    /// ([`crate::Hart::set_time_base`]).
    pub(crate) time_divisor: u64,
    /// Added (wrapping) to `instruction_start / time_divisor`.
    pub(crate) time_offset: u64,
    /// The clock when the current instruction began: the instant `time` is read at.
    pub(crate) instruction_start: u64,
    /// `pmpcfg0-3`: the configuration of 16 PMP entries, held but never checked.
    pub(crate) pmpcfg: [u32; 4],
    /// `pmpaddr0-15`.
    pub(crate) pmpaddr: [u32; 16],
    pub(crate) hart_id: u32,
}

/// Why a CSR access is refused: the instruction raises illegal instruction.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct IllegalCsr;

impl Csrs {
    pub(crate) fn new(hart_id: u32) -> Self {
        Self {
            mstatus: 0,
            mtvec: 0,
            stvec: 0,
            mepc: 0,
            sepc: 0,
            mcause: 0,
            scause: 0,
            mtval: 0,
            stval: 0,
            mscratch: 0,
            sscratch: 0,
            mie: 0,
            mip_soft: 0,
            mip_lines: 0,
            medeleg: 0,
            mideleg: 0,
            satp: 0,
            mcounteren: 0,
            scounteren: 0,
            mcycle_offset: 0,
            minstret: 0,
            mtime: 0,
            time_divisor: 0,
            time_offset: 0,
            instruction_start: 0,
            pmpcfg: [0; 4],
            pmpaddr: [0; 16],
            hart_id,
        }
    }

    /// `mip` as software reads it: the machine's lines ORed with the software bits.
    #[inline]
    pub(crate) fn mip(&self) -> u32 {
        self.mip_lines | self.mip_soft
    }

    pub(crate) fn set_line(&mut self, interrupt: Interrupt, pending: bool) {
        if pending {
            self.mip_lines |= interrupt.mask();
        } else {
            self.mip_lines &= !interrupt.mask();
        }
    }

    /// What `time` reads now: the fixed `mtime`, or the clock at the start of the
    /// instruction in ticks of the time base, plus its offset.
    fn time(&self) -> u64 {
        match self.time_divisor {
            0 => self.mtime,
            d => (self.instruction_start / d).wrapping_add(self.time_offset),
        }
    }

    fn mcycle(&self, now: Cycle) -> u64 {
        now.as_u64().wrapping_add(self.mcycle_offset)
    }

    /// The privilege and read-only checks every Zicsr access makes first:
    /// "Attempts to access a CSR without appropriate privilege level or to write a
    /// read-only register raise illegal instruction exceptions" (address bits 9:8
    /// give the lowest privilege, bits 11:10 = 3 mark read-only). `satp` with
    /// `mstatus.TVM` in S-mode and counters hidden by `mcounteren`/`scounteren` too.
    pub(crate) fn check(&self, address: u16, mode: Mode, write: bool) -> Result<(), IllegalCsr> {
        let lowest = (address >> 8) & 3;
        if (mode as u16) < lowest {
            return Err(IllegalCsr);
        }
        if write && (address >> 10) & 3 == 3 {
            return Err(IllegalCsr);
        }
        if address == addr::SATP && mode == Mode::Supervisor && self.mstatus & mstatus::TVM != 0 {
            return Err(IllegalCsr);
        }
        let is_user_counter =
            matches!(address, addr::CYCLE..=addr::HPMCOUNTER31 | addr::CYCLEH..=addr::HPMCOUNTER31H);
        if is_user_counter {
            let bit = counter_bit(address);
            let hidden = match mode {
                Mode::Machine => false,
                Mode::Supervisor => self.mcounteren & bit == 0,
                Mode::User => self.mcounteren & bit == 0 || self.scounteren & bit == 0,
            };
            if hidden {
                return Err(IllegalCsr);
            }
        }
        Ok(())
    }

    /// The value of the CSR at `address`, or [`IllegalCsr`] if the hart has none.
    /// Privilege is checked separately by [`Csrs::check`].
    pub(crate) fn read(&self, address: u16, now: Cycle) -> Result<u32, IllegalCsr> {
        use addr::*;
        Ok(match address {
            SSTATUS => self.mstatus & mstatus::SSTATUS,
            SIE => self.mie & self.mideleg,
            STVEC => self.stvec,
            SCOUNTEREN => self.scounteren,
            SSCRATCH => self.sscratch,
            SEPC => self.sepc,
            SCAUSE => self.scause,
            STVAL => self.stval,
            SIP => self.mip() & self.mideleg,
            SATP => self.satp,
            MSTATUS => self.mstatus,
            MISA => MISA_VALUE,
            MEDELEG => self.medeleg,
            MIDELEG => self.mideleg,
            MIE => self.mie,
            MTVEC => self.mtvec,
            MCOUNTEREN => self.mcounteren,
            MSTATUSH => 0,
            MHPMEVENT3..=MHPMEVENT31 => 0,
            MSCRATCH => self.mscratch,
            MEPC => self.mepc,
            MCAUSE => self.mcause,
            MTVAL => self.mtval,
            MIP => self.mip(),
            // No triggers: tselect reads 0 and ignores writes, tdata1 = 0 is type 0,
            // "there is no trigger at this tselect" (debug spec, "Trigger Module").
            TSELECT | TDATA1 | TDATA2 => 0,
            MCYCLE | CYCLE => self.mcycle(now) as u32,
            MCYCLEH | CYCLEH => (self.mcycle(now) >> 32) as u32,
            MINSTRET | INSTRET => self.minstret as u32,
            MINSTRETH | INSTRETH => (self.minstret >> 32) as u32,
            TIME => self.time() as u32,
            TIMEH => (self.time() >> 32) as u32,
            // Hardware performance counters 3-31 are "read-only zero" (a legal implementation).
            MHPMCOUNTER3..=MHPMCOUNTER31 | MHPMCOUNTER3H..=MHPMCOUNTER31H => 0,
            HPMCOUNTER3..=HPMCOUNTER31 | HPMCOUNTER3H..=HPMCOUNTER31H => 0,
            MVENDORID | MARCHID | MIMPID | MCONFIGPTR => 0,
            MHARTID => self.hart_id,
            PMPCFG0..=PMPCFG15 => self.pmpcfg.get(usize::from(address - PMPCFG0)).copied().unwrap_or(0),
            PMPADDR0..=PMPADDR63 => self.pmpaddr.get(usize::from(address - PMPADDR0)).copied().unwrap_or(0),
            _ => return Err(IllegalCsr),
        })
    }

    /// Writes `value` to the CSR at `address` (which [`Csrs::read`] accepted), with
    /// each register's WARL legalisation.
    pub(crate) fn write(&mut self, address: u16, value: u32, now: Cycle) {
        use addr::*;
        match address {
            PMPCFG0..=PMPCFG15 => {
                if let Some(cfg) = self.pmpcfg.get_mut(usize::from(address - PMPCFG0)) {
                    *cfg = value;
                }
            }
            PMPADDR0..=PMPADDR63 => {
                if let Some(a) = self.pmpaddr.get_mut(usize::from(address - PMPADDR0)) {
                    *a = value;
                }
            }
            SSTATUS => self.mstatus = (self.mstatus & !mstatus::SSTATUS) | (value & mstatus::SSTATUS),
            SIE => {
                let mask = self.mideleg & S_INTERRUPTS;
                self.mie = (self.mie & !mask) | (value & mask);
            }
            STVEC => self.stvec = legal_tvec(value),
            SCOUNTEREN => self.scounteren = value,
            SSCRATCH => self.sscratch = value,
            // IALIGN = 16: bit 0 of xepc is always zero.
            SEPC => self.sepc = value & !1,
            SCAUSE => self.scause = value,
            STVAL => self.stval = value,
            // Only SSIP is writable through sip, and only when delegated.
            SIP => {
                let mask = self.mideleg & Interrupt::SupervisorSoftware.mask();
                self.mip_soft = (self.mip_soft & !mask) | (value & mask);
            }
            SATP => self.satp = value,
            MSTATUS => {
                let mut v = (self.mstatus & !mstatus::WRITABLE) | (value & mstatus::WRITABLE);
                // MPP is WARL over the implemented modes {U, S, M}: the reserved 2 becomes U.
                if (v & mstatus::MPP) >> mstatus::MPP_SHIFT == 2 {
                    v &= !mstatus::MPP;
                }
                self.mstatus = v;
            }
            MEDELEG => self.medeleg = value & DELEGABLE_EXCEPTIONS,
            MIDELEG => self.mideleg = value & S_INTERRUPTS,
            MIE => self.mie = value & ALL_INTERRUPTS,
            MTVEC => self.mtvec = legal_tvec(value),
            MCOUNTEREN => self.mcounteren = value,
            MSCRATCH => self.mscratch = value,
            MEPC => self.mepc = value & !1,
            MCAUSE => self.mcause = value,
            MTVAL => self.mtval = value,
            // MSIP, MTIP, MEIP are the machine's lines, read-only here.
            MIP => self.mip_soft = (self.mip_soft & !S_INTERRUPTS) | (value & S_INTERRUPTS),
            MCYCLE => {
                let new = (self.mcycle(now) & !0xffff_ffff) | u64::from(value);
                self.mcycle_offset = new.wrapping_sub(now.as_u64());
            }
            MCYCLEH => {
                let new = (self.mcycle(now) & 0xffff_ffff) | (u64::from(value) << 32);
                self.mcycle_offset = new.wrapping_sub(now.as_u64());
            }
            MINSTRET => self.minstret = (self.minstret & !0xffff_ffff) | u64::from(value),
            MINSTRETH => self.minstret = (self.minstret & 0xffff_ffff) | (u64::from(value) << 32),
            // Read-only zero or hard-wired: writes are ignored.
            _ => {}
        }
    }
}

/// `xtvec` WARL: MODE 0 (direct) and 1 (vectored) are implemented; the reserved
/// modes 2 and 3 fall back to direct. BASE keeps its 4-byte alignment.
const fn legal_tvec(value: u32) -> u32 {
    match value & 3 {
        0 | 1 => value,
        _ => value & !3,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const NOW: Cycle = Cycle::new(0);

    #[test]
    fn privilege_comes_from_address_bits_9_8_and_read_only_from_11_10() {
        let c = Csrs::new(0);
        assert_eq!(c.check(addr::MSTATUS, Mode::Supervisor, false), Err(IllegalCsr));
        assert_eq!(c.check(addr::SSTATUS, Mode::User, false), Err(IllegalCsr));
        assert_eq!(c.check(addr::SSTATUS, Mode::Supervisor, true), Ok(()));
        assert_eq!(c.check(addr::MHARTID, Mode::Machine, false), Ok(()));
        assert_eq!(c.check(addr::MHARTID, Mode::Machine, true), Err(IllegalCsr));
        assert_eq!(c.check(addr::CYCLE, Mode::Machine, true), Err(IllegalCsr));
    }

    #[test]
    fn counters_in_lower_modes_need_both_enable_bits() {
        let mut c = Csrs::new(0);
        assert_eq!(c.check(addr::TIME, Mode::Supervisor, false), Err(IllegalCsr));
        c.mcounteren = 0b010; // TM only
        assert_eq!(c.check(addr::TIME, Mode::Supervisor, false), Ok(()));
        assert_eq!(c.check(addr::CYCLE, Mode::Supervisor, false), Err(IllegalCsr));
        assert_eq!(c.check(addr::TIME, Mode::User, false), Err(IllegalCsr));
        c.scounteren = 0b010;
        assert_eq!(c.check(addr::TIMEH, Mode::User, false), Ok(()));
    }

    #[test]
    fn tvm_hides_satp_from_s_mode_only() {
        let mut c = Csrs::new(0);
        c.mstatus = mstatus::TVM;
        assert_eq!(c.check(addr::SATP, Mode::Supervisor, false), Err(IllegalCsr));
        assert_eq!(c.check(addr::SATP, Mode::Machine, true), Ok(()));
    }

    #[test]
    fn unknown_csrs_are_illegal() {
        let c = Csrs::new(0);
        // fcsr, mnstatus, menvcfg, mcountinhibit, dcsr (debug mode only), tinfo
        for a in [0x003, 0x744, 0x30a, 0x320, 0x7b0, 0x7a4] {
            assert_eq!(c.read(a, NOW), Err(IllegalCsr), "{a:#x}");
        }
    }

    #[test]
    fn pmp_registers_of_16_entries_hold_their_values_and_the_rest_read_zero() {
        let mut c = Csrs::new(0);
        for (a, v) in [
            (addr::PMPCFG0, 0x1f),
            (addr::PMPCFG0 + 3, 0x18),
            (addr::PMPADDR0, u32::MAX),
            (addr::PMPADDR0 + 15, 7),
        ] {
            c.write(a, v, NOW);
            assert_eq!(c.read(a, NOW), Ok(v), "{a:#x}");
        }
        for a in [addr::PMPCFG0 + 4, addr::PMPCFG15, addr::PMPADDR0 + 16, addr::PMPADDR63] {
            c.write(a, u32::MAX, NOW);
            assert_eq!(c.read(a, NOW), Ok(0), "{a:#x} is an entry this hart does not have");
        }
    }

    #[test]
    fn sstatus_is_a_window_on_mstatus() {
        let mut c = Csrs::new(0);
        c.write(addr::MSTATUS, mstatus::MIE | mstatus::SIE | (3 << 11), NOW);
        assert_eq!(c.read(addr::SSTATUS, NOW), Ok(mstatus::SIE));
        c.write(addr::SSTATUS, 0xffff_ffff, NOW);
        // SIE|SPIE|SPP|SUM|MXR = 0x2 | 0x20 | 0x100 | 0x40000 | 0x80000
        assert_eq!(c.read(addr::SSTATUS, NOW), Ok(0x000c_0122));
        assert_eq!(c.read(addr::MSTATUS, NOW), Ok(0x000c_0122 | 0x8 | 0x1800));
    }

    #[test]
    fn mpp_2_is_legalised_to_user() {
        let mut c = Csrs::new(0);
        c.write(addr::MSTATUS, 2 << 11, NOW);
        assert_eq!(c.read(addr::MSTATUS, NOW), Ok(0));
    }

    #[test]
    fn s_views_of_interrupts_are_masked_by_mideleg() {
        let mut c = Csrs::new(0);
        c.write(addr::MIE, 0xffff_ffff, NOW);
        assert_eq!(c.read(addr::MIE, NOW), Ok(0xaaa));
        assert_eq!(c.read(addr::SIE, NOW), Ok(0));
        c.write(addr::MIDELEG, 0xffff_ffff, NOW);
        assert_eq!(c.read(addr::MIDELEG, NOW), Ok(0x222));
        assert_eq!(c.read(addr::SIE, NOW), Ok(0x222));
        c.write(addr::SIP, 0xffff_ffff, NOW);
        assert_eq!(c.read(addr::SIP, NOW), Ok(0x2), "only SSIP is writable through sip");
        c.set_line(Interrupt::MachineTimer, true);
        assert_eq!(c.read(addr::MIP, NOW), Ok(0x82));
        c.write(addr::MIP, 0, NOW);
        assert_eq!(c.read(addr::MIP, NOW), Ok(0x80), "MTIP is the machine's line");
    }

    #[test]
    fn medeleg_cannot_delegate_ecall_from_m() {
        let mut c = Csrs::new(0);
        c.write(addr::MEDELEG, 0xffff_ffff, NOW);
        assert_eq!(c.read(addr::MEDELEG, NOW), Ok(0xb3ff));
    }

    #[test]
    fn mcycle_follows_the_clock_after_a_write() {
        let mut c = Csrs::new(0);
        c.write(addr::MCYCLE, 100, Cycle::new(40));
        assert_eq!(c.read(addr::CYCLE, Cycle::new(45)), Ok(105));
        c.write(addr::MCYCLEH, 2, Cycle::new(45));
        assert_eq!(c.read(addr::MCYCLEH, Cycle::new(50)), Ok(2));
        assert_eq!(c.read(addr::MCYCLE, Cycle::new(50)), Ok(110));
    }

    #[test]
    fn xepc_bit_0_and_reserved_tvec_modes_are_cleared() {
        let mut c = Csrs::new(0);
        c.write(addr::MEPC, 0x8000_0003, NOW);
        assert_eq!(c.read(addr::MEPC, NOW), Ok(0x8000_0002));
        c.write(addr::MTVEC, 0x8000_0102, NOW);
        assert_eq!(c.read(addr::MTVEC, NOW), Ok(0x8000_0100));
        c.write(addr::STVEC, 0x8000_0101, NOW);
        assert_eq!(c.read(addr::STVEC, NOW), Ok(0x8000_0101));
    }
}
