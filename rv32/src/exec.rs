//! Decode and execute: one `match` on the major opcode of a 32-bit instruction
//! (a compressed one arrives expanded), then on its function fields (unprivileged
//! spec, "RV32I Base Integer Instruction Set", "M", "A", "Zicsr", "Zifencei"; the
//! privileged spec for the SYSTEM instructions). No decode cache, no allocation.

use crate::Mode;
use crate::compressed;
use crate::csr::mstatus;
use crate::hart::{Expansion, Flow, Hart, Stop};
use crate::stats::Class;
use crate::trap::Exception;
use mmu_core::{Asid, Fence, MemoryPort, VirtAddr, Width};

const fn imm_i(inst: u32) -> u32 {
    ((inst as i32) >> 20) as u32
}
const fn imm_s(inst: u32) -> u32 {
    ((((inst as i32) >> 25) as u32) << 5) | ((inst >> 7) & 0x1f)
}
const fn imm_b(inst: u32) -> u32 {
    ((((inst as i32) >> 31) as u32) << 12)
        | (((inst >> 7) & 1) << 11)
        | (((inst >> 25) & 0x3f) << 5)
        | (((inst >> 8) & 0xf) << 1)
}
const fn imm_j(inst: u32) -> u32 {
    ((((inst as i32) >> 31) as u32) << 20)
        | (inst & 0x000f_f000)
        | (((inst >> 20) & 1) << 11)
        | (((inst >> 21) & 0x3ff) << 1)
}

/// `ecall`, `ebreak`, `mret`, `sret`, `wfi`: whole-word encodings.
const ECALL: u32 = 0x0000_0073;
const EBREAK: u32 = 0x0010_0073;
const MRET: u32 = 0x3020_0073;
const SRET: u32 = 0x1020_0073;
const WFI: u32 = 0x1050_0073;
/// `sfence.vma`: funct7 = 0001001, rd = 0, funct3 = 0.
const SFENCE_VMA_MASK: u32 = 0xfe00_7fff;
const SFENCE_VMA: u32 = 0x1200_0073;

impl Hart {
    /// Fetches, expands if compressed, and executes one instruction.
    #[inline]
    pub(crate) fn fetch_execute<P: MemoryPort>(&mut self, port: &mut P) -> Result<Flow, Stop<P::Error>> {
        let (bits, len) = self.fetch(port)?;
        let inst = if len == 2 { self.expand(bits) } else { bits };
        if inst == 0 {
            return Err(Stop::Raise(Exception::IllegalInstruction, bits));
        }
        self.execute(port, inst, len, bits)
    }

    /// The 32-bit form of the compressed instruction `bits` fetched at the pc, or
    /// 0 if it is illegal: from the expansion cache when the same bits were
    /// expanded at this pc before (the cache is keyed by the bits themselves, so
    /// self-modifying code and new mappings are always seen).
    #[inline]
    fn expand(&mut self, bits: u32) -> u32 {
        let slot = (self.pc() >> 1) as usize % self.expansions.len();
        let entry = self.expansions[slot];
        if entry.bits == bits {
            return entry.inst;
        }
        let inst = compressed::expand(bits as u16).unwrap_or(0);
        if self.fast_paths {
            self.expansions[slot] = Expansion { bits, inst };
        }
        inst
    }

    /// Executes `inst` (`len` bytes long; `raw` its bits as fetched, the `tval` of
    /// an illegal instruction).
    #[inline]
    fn execute<P: MemoryPort>(
        &mut self,
        port: &mut P,
        inst: u32,
        len: u32,
        raw: u32,
    ) -> Result<Flow, Stop<P::Error>> {
        let illegal = || Stop::Raise(Exception::IllegalInstruction, raw);
        let pc = self.pc();
        let next = pc.wrapping_add(len);
        let rd = (inst >> 7) & 31;
        let rs1 = (inst >> 15) & 31;
        let rs2 = (inst >> 20) & 31;
        let funct3 = (inst >> 12) & 7;
        let funct7 = inst >> 25;
        let class = match inst & 0x7f {
            // LUI
            0x37 => {
                self.set_x(rd, inst & 0xffff_f000);
                Class::Alu
            }
            // AUIPC
            0x17 => {
                self.set_x(rd, pc.wrapping_add(inst & 0xffff_f000));
                Class::Alu
            }
            // JAL: the target is checked before rd is written, so a trap leaves rd.
            0x6f => {
                self.jump(pc.wrapping_add(imm_j(inst)))?;
                self.set_x(rd, next);
                return Ok(Flow::Retired(Class::Jump));
            }
            // JALR: "the target address is obtained by adding the sign-extended
            // 12-bit I-immediate to the register rs1, then setting the least-significant
            // bit of the result to zero".
            0x67 if funct3 == 0 => {
                let target = self.x(rs1).wrapping_add(imm_i(inst)) & !1;
                self.jump(target)?;
                self.set_x(rd, next);
                return Ok(Flow::Retired(Class::Jump));
            }
            0x63 => {
                let (a, b) = (self.x(rs1), self.x(rs2));
                let taken = match funct3 {
                    0 => a == b,
                    1 => a != b,
                    4 => (a as i32) < (b as i32),
                    5 => (a as i32) >= (b as i32),
                    6 => a < b,
                    7 => a >= b,
                    _ => return Err(illegal()),
                };
                if taken {
                    self.jump(pc.wrapping_add(imm_b(inst)))?;
                    return Ok(Flow::Retired(Class::Branch));
                }
                Class::Branch
            }
            0x03 => {
                let vaddr = self.x(rs1).wrapping_add(imm_i(inst));
                let value = match funct3 {
                    0 => self.load(port, vaddr, Width::Byte)? as i8 as i32 as u32,
                    1 => self.load(port, vaddr, Width::Half)? as i16 as i32 as u32,
                    2 => self.load(port, vaddr, Width::Word)?,
                    4 => self.load(port, vaddr, Width::Byte)?,
                    5 => self.load(port, vaddr, Width::Half)?,
                    _ => return Err(illegal()),
                };
                self.set_x(rd, value);
                Class::Load
            }
            0x23 => {
                let vaddr = self.x(rs1).wrapping_add(imm_s(inst));
                let width = match funct3 {
                    0 => Width::Byte,
                    1 => Width::Half,
                    2 => Width::Word,
                    _ => return Err(illegal()),
                };
                self.store(port, vaddr, width, self.x(rs2))?;
                Class::Store
            }
            0x13 => {
                let a = self.x(rs1);
                let imm = imm_i(inst);
                let shamt = rs2;
                let value = match (funct3, funct7) {
                    (0, _) => a.wrapping_add(imm),
                    (2, _) => u32::from((a as i32) < (imm as i32)),
                    (3, _) => u32::from(a < imm),
                    (4, _) => a ^ imm,
                    (6, _) => a | imm,
                    (7, _) => a & imm,
                    // RV32: "SLLI, SRLI, and SRAI with imm[5] ≠ 0 are reserved", so
                    // funct7 must be exactly 0 (or 0100000 for SRAI).
                    (1, 0) => a << shamt,
                    (5, 0) => a >> shamt,
                    (5, 0x20) => ((a as i32) >> shamt) as u32,
                    _ => return Err(illegal()),
                };
                self.set_x(rd, value);
                Class::Alu
            }
            0x33 => {
                let (a, b) = (self.x(rs1), self.x(rs2));
                let (value, class) = match (funct7, funct3) {
                    (0, 0) => (a.wrapping_add(b), Class::Alu),
                    (0x20, 0) => (a.wrapping_sub(b), Class::Alu),
                    (0, 1) => (a << (b & 31), Class::Alu),
                    (0, 2) => (u32::from((a as i32) < (b as i32)), Class::Alu),
                    (0, 3) => (u32::from(a < b), Class::Alu),
                    (0, 4) => (a ^ b, Class::Alu),
                    (0, 5) => (a >> (b & 31), Class::Alu),
                    (0x20, 5) => (((a as i32) >> (b & 31)) as u32, Class::Alu),
                    (0, 6) => (a | b, Class::Alu),
                    (0, 7) => (a & b, Class::Alu),
                    (1, f) => (mul_div(f, a, b), Class::MulDiv),
                    _ => return Err(illegal()),
                };
                self.set_x(rd, value);
                class
            }
            // FENCE and FENCE.I: one hart and no caches, so nothing to order or flush.
            0x0f => match funct3 {
                0 | 1 => Class::Fence,
                _ => return Err(illegal()),
            },
            0x73 => return self.system(port, inst, next, raw),
            0x2f if funct3 == 2 => {
                let vaddr = self.x(rs1);
                let b = self.x(rs2);
                let old = match inst >> 27 {
                    0x02 if rs2 == 0 => self.load_reserved(port, vaddr)?,
                    0x03 => self.store_conditional(port, vaddr, b)?,
                    0x01 => self.amo(port, vaddr, |_| b)?,
                    0x00 => self.amo(port, vaddr, |a| a.wrapping_add(b))?,
                    0x04 => self.amo(port, vaddr, |a| a ^ b)?,
                    0x0c => self.amo(port, vaddr, |a| a & b)?,
                    0x08 => self.amo(port, vaddr, |a| a | b)?,
                    0x10 => self.amo(port, vaddr, |a| (a as i32).min(b as i32) as u32)?,
                    0x14 => self.amo(port, vaddr, |a| (a as i32).max(b as i32) as u32)?,
                    0x18 => self.amo(port, vaddr, |a| a.min(b))?,
                    0x1c => self.amo(port, vaddr, |a| a.max(b))?,
                    _ => return Err(illegal()),
                };
                self.set_x(rd, old);
                Class::Atomic
            }
            _ => return Err(illegal()),
        };
        self.set_pc_raw(next);
        Ok(Flow::Retired(class))
    }

    /// The SYSTEM opcode: the privileged instructions and Zicsr.
    fn system<P: MemoryPort>(
        &mut self,
        port: &mut P,
        inst: u32,
        next: u32,
        raw: u32,
    ) -> Result<Flow, Stop<P::Error>> {
        let illegal = || Stop::Raise(Exception::IllegalInstruction, raw);
        let mode = self.mode();
        let status = self.mstatus();
        let funct3 = (inst >> 12) & 7;
        let rd = (inst >> 7) & 31;
        let rs1 = (inst >> 15) & 31;
        let rs2 = (inst >> 20) & 31;
        if funct3 == 0 {
            match inst {
                ECALL => {
                    let cause = match mode {
                        Mode::User => Exception::EcallFromUser,
                        Mode::Supervisor => Exception::EcallFromSupervisor,
                        Mode::Machine => Exception::EcallFromMachine,
                    };
                    return Err(Stop::Raise(cause, 0));
                }
                // "mtval is written with the virtual address of the breakpoint" for EBREAK.
                EBREAK => return Err(Stop::Raise(Exception::Breakpoint, self.pc())),
                MRET if mode == Mode::Machine => {
                    self.mret();
                    return Ok(Flow::Retired(Class::System));
                }
                // "When TSR=1, attempts to execute SRET while executing in S-mode will
                // raise an illegal instruction exception."
                SRET if mode == Mode::Machine || (mode == Mode::Supervisor && status & mstatus::TSR == 0) => {
                    self.sret();
                    return Ok(Flow::Retired(Class::System));
                }
                // WFI is illegal in U-mode (S-mode exists), and in S-mode with TW=1.
                WFI if mode == Mode::Machine || (mode == Mode::Supervisor && status & mstatus::TW == 0) => {
                    self.set_pc_raw(next);
                    return Ok(Flow::Wait);
                }
                _ if inst & SFENCE_VMA_MASK == SFENCE_VMA => {
                    // Illegal in U-mode, and in S-mode when TVM=1.
                    let allowed =
                        mode == Mode::Machine || (mode == Mode::Supervisor && status & mstatus::TVM == 0);
                    if !allowed {
                        return Err(illegal());
                    }
                    port.fence(Fence {
                        vaddr: (rs1 != 0).then(|| VirtAddr::new(self.x(rs1))),
                        asid: (rs2 != 0)
                            .then(|| Asid::new((self.x(rs2) & crate::csr::satp::ASID_MASK) as u16)),
                    });
                    self.set_pc_raw(next);
                    return Ok(Flow::Retired(Class::Fence));
                }
                _ => return Err(illegal()),
            }
        }
        if funct3 == 4 {
            return Err(illegal());
        }
        let address = (inst >> 20) as u16;
        // CSRRWI/CSRRSI/CSRRCI take rs1 as a 5-bit zero-extended immediate.
        let source = if funct3 & 4 != 0 { rs1 } else { self.x(rs1) };
        let op = funct3 & 3;
        // "For both CSRRS and CSRRC, if rs1=x0, then the instruction will not write
        // to the CSR at all"; likewise for a zero immediate.
        let write = op == 1 || rs1 != 0;
        let old = self
            .csr_access(address, write, |old| match op {
                1 => source,
                2 => old | source,
                _ => old & !source,
            })
            .map_err(|_| illegal())?;
        self.set_x(rd, old);
        self.set_pc_raw(next);
        Ok(Flow::Retired(Class::System))
    }
}

/// The M extension's OP funct3 column: MUL, MULH, MULHSU, MULHU, DIV, DIVU, REM,
/// REMU, with the spec's table for division by zero (quotient all ones, remainder
/// the dividend) and overflow (`-2^31 / -1` = `-2^31`, remainder 0).
fn mul_div(funct3: u32, a: u32, b: u32) -> u32 {
    let (sa, sb) = (a as i32, b as i32);
    match funct3 {
        0 => a.wrapping_mul(b),
        1 => ((i64::from(sa) * i64::from(sb)) >> 32) as u32,
        2 => ((i64::from(sa) * i64::from(b)) >> 32) as u32,
        3 => ((u64::from(a) * u64::from(b)) >> 32) as u32,
        4 => match b {
            0 => u32::MAX,
            _ => sa.wrapping_div(sb) as u32,
        },
        5 => a.checked_div(b).unwrap_or(u32::MAX),
        6 => match b {
            0 => a,
            _ => sa.wrapping_rem(sb) as u32,
        },
        _ => a.checked_rem(b).unwrap_or(a),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn immediates_reassemble_their_scattered_bits() {
        // beq x0, x0, -4 = 0xfe000ee3: imm[12|10:5] = 1111111, imm[4:1|11] = 11101
        assert_eq!(imm_b(0xfe00_0ee3), (-4i32) as u32);
        // jal x0, 2048 = 0x0010006f: only imm[11] set (bit 20)
        assert_eq!(imm_j(0x0010_006f), 2048);
        // sw a0, -8(sp) = 0xfea12c23
        assert_eq!(imm_s(0xfea1_2c23), (-8i32) as u32);
        assert_eq!(imm_i(0x8000_0013), 0xffff_f800);
    }

    #[test]
    fn division_follows_the_spec_corner_table() {
        let min = i32::MIN as u32;
        let minus_one = u32::MAX;
        assert_eq!(mul_div(4, 7, 0), u32::MAX, "div by zero");
        assert_eq!(mul_div(5, 7, 0), u32::MAX, "divu by zero");
        assert_eq!(mul_div(6, 7, 0), 7, "rem by zero");
        assert_eq!(mul_div(7, 7, 0), 7, "remu by zero");
        assert_eq!(mul_div(4, min, minus_one), min, "overflow");
        assert_eq!(mul_div(6, min, minus_one), 0, "overflow remainder");
        assert_eq!(mul_div(4, (-7i32) as u32, 2), (-3i32) as u32, "rounds toward zero");
        assert_eq!(mul_div(6, (-7i32) as u32, 2), (-1i32) as u32, "sign of the dividend");
    }

    #[test]
    fn high_products_by_hand() {
        // (-1) * (-1) = 1: high word 0. (-1) * 0xffffffff unsigned = -(2^32 - 1): high -1.
        assert_eq!(mul_div(1, u32::MAX, u32::MAX), 0);
        assert_eq!(mul_div(2, u32::MAX, u32::MAX), u32::MAX);
        // (2^32 - 1)^2 = 2^64 - 2^33 + 1: high word 0xffff_fffe.
        assert_eq!(mul_div(3, u32::MAX, u32::MAX), 0xffff_fffe);
        assert_eq!(mul_div(0, 0x1_0001, 0x1_0001), 0x2_0001);
    }
}
