//! The C extension: each 16-bit instruction is expanded into the 32-bit
//! instruction it stands for (unprivileged spec, "Compressed Instruction Formats"
//! and the RVC opcode map), then executed as that instruction with length 2.
//!
//! Floating-point loads and stores (no F/D here), RV64-only encodings and the
//! reserved encodings (all-zero, `c.addi16sp`/`c.lui` with immediate 0, `c.lwsp`
//! to x0, `c.jr` of x0, shift amounts with bit 5 set) expand to nothing: illegal.

const OP_IMM: u32 = 0x13;
const OP: u32 = 0x33;
const LUI: u32 = 0x37;
const LOAD: u32 = 0x03;
const STORE: u32 = 0x23;
const BRANCH: u32 = 0x63;
const JAL: u32 = 0x6f;
const JALR: u32 = 0x67;
/// `ebreak`.
const EBREAK: u32 = 0x0010_0073;

const fn bit(inst: u32, from: u32, to: u32) -> u32 {
    ((inst >> from) & 1) << to
}
const fn bits(inst: u32, lo: u32, len: u32, to: u32) -> u32 {
    ((inst >> lo) & ((1 << len) - 1)) << to
}
/// Sign-extends the low `width` bits.
const fn sext(value: u32, width: u32) -> u32 {
    let shift = 32 - width;
    (((value << shift) as i32) >> shift) as u32
}
/// A compressed register field (x8-x15).
const fn creg(inst: u32, lo: u32) -> u32 {
    ((inst >> lo) & 7) + 8
}

const fn i_type(imm: u32, rs1: u32, funct3: u32, rd: u32, opcode: u32) -> u32 {
    ((imm & 0xfff) << 20) | (rs1 << 15) | (funct3 << 12) | (rd << 7) | opcode
}
const fn r_type(funct7: u32, rs2: u32, rs1: u32, funct3: u32, rd: u32) -> u32 {
    (funct7 << 25) | (rs2 << 20) | (rs1 << 15) | (funct3 << 12) | (rd << 7) | OP
}
const fn s_type(imm: u32, rs2: u32, rs1: u32) -> u32 {
    (((imm >> 5) & 0x7f) << 25) | (rs2 << 20) | (rs1 << 15) | (2 << 12) | ((imm & 0x1f) << 7) | STORE
}
const fn b_type(imm: u32, rs1: u32, funct3: u32) -> u32 {
    (bit(imm, 12, 31))
        | (bits(imm, 5, 6, 25))
        | (rs1 << 15)
        | (funct3 << 12)
        | (bits(imm, 1, 4, 8))
        | (bit(imm, 11, 7))
        | BRANCH
}
const fn j_type(imm: u32, rd: u32) -> u32 {
    bit(imm, 20, 31) | bits(imm, 1, 10, 21) | bit(imm, 11, 20) | bits(imm, 12, 8, 12) | (rd << 7) | JAL
}

/// The 32-bit instruction a 16-bit one stands for, or `None` if it is illegal here.
pub fn expand(inst: u16) -> Option<u32> {
    let i = u32::from(inst);
    let funct3 = i >> 13;
    let rd = (i >> 7) & 0x1f;
    let rs2 = (i >> 2) & 0x1f;
    // The 6-bit signed immediate of c.addi, c.li, c.andi: imm[5] = bit 12, imm[4:0] = bits 6:2.
    let imm6 = sext(bit(i, 12, 5) | bits(i, 2, 5, 0), 6);
    match (i & 3, funct3) {
        // c.addi4spn: nzuimm[5:4|9:6|2|3] = bits 12:5.
        (0, 0b000) => {
            let imm = bits(i, 11, 2, 4) | bits(i, 7, 4, 6) | bit(i, 6, 2) | bit(i, 5, 3);
            (imm != 0).then(|| i_type(imm, 2, 0, creg(i, 2), OP_IMM))
        }
        // c.lw / c.sw: offset[5:3] = bits 12:10, offset[2] = bit 6, offset[6] = bit 5.
        (0, 0b010) => Some(i_type(clw_offset(i), creg(i, 7), 2, creg(i, 2), LOAD)),
        (0, 0b110) => Some(s_type(clw_offset(i), creg(i, 2), creg(i, 7))),
        (0, _) => None,
        (1, 0b000) => Some(i_type(imm6, rd, 0, rd, OP_IMM)),
        (1, 0b001) => Some(j_type(cj_offset(i), 1)),
        (1, 0b010) => Some(i_type(imm6, 0, 0, rd, OP_IMM)),
        (1, 0b011) if rd == 2 => {
            // c.addi16sp: nzimm[9] = bit 12, nzimm[4|6|8:7|5] = bits 6:2.
            let imm = bit(i, 12, 9) | bit(i, 6, 4) | bit(i, 5, 6) | bits(i, 3, 2, 7) | bit(i, 2, 5);
            (imm != 0).then(|| i_type(sext(imm, 10), 2, 0, 2, OP_IMM))
        }
        (1, 0b011) => {
            // c.lui: nzimm[17] = bit 12, nzimm[16:12] = bits 6:2.
            let imm = bit(i, 12, 17) | bits(i, 2, 5, 12);
            (imm != 0).then(|| (sext(imm, 18) & 0xffff_f000) | (rd << 7) | LUI)
        }
        (1, 0b100) => {
            let rd = creg(i, 7);
            match (i >> 10) & 3 {
                // RV32: shamt[5] = 1 is reserved (NSE).
                0b00 => (i & (1 << 12) == 0).then(|| i_type(rs2, rd, 5, rd, OP_IMM)),
                0b01 => (i & (1 << 12) == 0).then(|| i_type(rs2 | 0x400, rd, 5, rd, OP_IMM)),
                0b10 => Some(i_type(imm6, rd, 7, rd, OP_IMM)),
                _ => {
                    if i & (1 << 12) != 0 {
                        return None; // c.subw / c.addw: RV64 only
                    }
                    let rs2 = creg(i, 2);
                    Some(match (i >> 5) & 3 {
                        0b00 => r_type(0x20, rs2, rd, 0, rd), // c.sub
                        0b01 => r_type(0, rs2, rd, 4, rd),    // c.xor
                        0b10 => r_type(0, rs2, rd, 6, rd),    // c.or
                        _ => r_type(0, rs2, rd, 7, rd),       // c.and
                    })
                }
            }
        }
        (1, 0b101) => Some(j_type(cj_offset(i), 0)),
        (1, 0b110) => Some(b_type(cb_offset(i), creg(i, 7), 0)),
        (1, _) => Some(b_type(cb_offset(i), creg(i, 7), 1)),
        (2, 0b000) => (i & (1 << 12) == 0).then(|| i_type(rs2, rd, 1, rd, OP_IMM)),
        (2, 0b010) => {
            // c.lwsp: offset[5] = bit 12, offset[4:2|7:6] = bits 6:2.
            let imm = bit(i, 12, 5) | bits(i, 4, 3, 2) | bits(i, 2, 2, 6);
            (rd != 0).then(|| i_type(imm, 2, 2, rd, LOAD))
        }
        (2, 0b100) => match (i & (1 << 12) != 0, rd, rs2) {
            (false, 0, 0) => None,                            // c.jr x0: reserved
            (false, _, 0) => Some(i_type(0, rd, 0, 0, JALR)), // c.jr
            (false, _, _) => Some(r_type(0, rs2, 0, 0, rd)),  // c.mv
            (true, 0, 0) => Some(EBREAK),                     // c.ebreak
            (true, _, 0) => Some(i_type(0, rd, 0, 1, JALR)),  // c.jalr
            (true, _, _) => Some(r_type(0, rs2, rd, 0, rd)),  // c.add
        },
        (2, 0b110) => {
            // c.swsp: offset[5:2|7:6] = bits 12:7.
            let imm = bits(i, 9, 4, 2) | bits(i, 7, 2, 6);
            Some(s_type(imm, rs2, 2))
        }
        // Quadrant 2's remaining slots are floating point; quadrant 3 is not compressed.
        _ => None,
    }
}

const fn clw_offset(i: u32) -> u32 {
    bits(i, 10, 3, 3) | bit(i, 6, 2) | bit(i, 5, 6)
}

/// c.j / c.jal: offset[11|4|9:8|10|6|7|3:1|5] = bits 12:2.
const fn cj_offset(i: u32) -> u32 {
    let imm = bit(i, 12, 11)
        | bit(i, 11, 4)
        | bits(i, 9, 2, 8)
        | bit(i, 8, 10)
        | bit(i, 7, 6)
        | bit(i, 6, 7)
        | bits(i, 3, 3, 1)
        | bit(i, 2, 5);
    sext(imm, 12)
}

/// c.beqz / c.bnez: offset[8|4:3] = bits 12:10, offset[7:6|2:1|5] = bits 6:2.
const fn cb_offset(i: u32) -> u32 {
    let imm = bit(i, 12, 8) | bits(i, 10, 2, 3) | bits(i, 5, 2, 6) | bits(i, 3, 2, 1) | bit(i, 2, 5);
    sext(imm, 9)
}

#[cfg(test)]
mod tests {
    use super::expand;

    /// Pairs (compressed, expanded) assembled by hand from the RVC tables; each
    /// expansion is the encoding the base ISA gives the listed instruction.
    const PAIRS: &[(u16, u32, &str)] = &[
        // c.addi4spn x8, sp, 16: nzuimm[4] is bit 11 -> 0b000_0100_0000_00_00 = 0x0800
        (0x0800, 0x0101_0413, "addi s0, sp, 16"),
        // c.lw a0, 4(a1): offset[2] = bit 6; rs1' = a1 (3), rd' = a0 (2)
        (0x41c8, 0x0045_a503, "lw a0, 4(a1)"),
        // c.sw a0, 64(a1): offset[6] = bit 5
        (0xc1a8, 0x04a5_a023, "sw a0, 64(a1)"),
        // c.addi a0, -1: imm[5] = 1, imm[4:0] = 11111
        (0x157d, 0xfff5_0513, "addi a0, a0, -1"),
        // c.li a5, 31
        (0x47fd, 0x01f0_0793, "addi a5, x0, 31"),
        // c.lui a0, 0xfffe1 (nzimm = -31 << 12)
        (0x7505, 0xfffe_1537, "lui a0, 0xfffe1"),
        // c.addi16sp sp, -64: nzimm[9] = 1, nzimm[6] (bit 5) = 1 -> -512 + 448 = -64
        (0x7139, 0xfc01_0113, "addi sp, sp, -64"),
        // c.srli s0, 3 / c.srai s0, 3 / c.andi s0, -2
        (0x800d, 0x0034_5413, "srli s0, s0, 3"),
        (0x840d, 0x4034_5413, "srai s0, s0, 3"),
        (0x9879, 0xffe4_7413, "andi s0, s0, -2"),
        // c.sub / c.xor / c.or / c.and s0, s1
        (0x8c05, 0x4094_0433, "sub s0, s0, s1"),
        (0x8c25, 0x0094_4433, "xor s0, s0, s1"),
        (0x8c45, 0x0094_6433, "or s0, s0, s1"),
        (0x8c65, 0x0094_7433, "and s0, s0, s1"),
        // c.j -2 (all offset bits set, offset[0] implied 0): jal x0, -2
        (0xbffd, 0xfffff06f, "jal x0, -2"),
        // c.jal 2046: offset[11] (bit 12) clear, every other offset bit set
        (0x2ffd, 0x7fe0_00ef, "jal ra, 2046"),
        // c.beqz s0, -256: offset[8] = bit 12, others clear
        (0xd001, 0xf004_00e3, "beq s0, x0, -256"),
        // c.bnez s1, 6: offset[2:1] = bits 4:3 = 0b11
        (0xe099, 0x0004_9363, "bne s1, x0, 6"),
        // c.slli a0, 4 / c.lwsp a0, 12(sp) / c.swsp a0, 192(sp)
        (0x0512, 0x0045_1513, "slli a0, a0, 4"),
        (0x4532, 0x00c1_2503, "lw a0, 12(sp)"),
        (0xc182, 0x0c01_2023, "sw zero, 192(sp)"),
        // c.jr ra / c.mv a0, a1 / c.ebreak / c.jalr a0 / c.add a0, a1
        (0x8082, 0x0000_8067, "jalr x0, 0(ra)"),
        (0x852e, 0x00b0_0533, "add a0, x0, a1"),
        (0x9002, 0x0010_0073, "ebreak"),
        (0x9502, 0x0005_00e7, "jalr ra, 0(a0)"),
        (0x952e, 0x00b5_0533, "add a0, a0, a1"),
    ];

    #[test]
    fn expansions_match_the_base_encodings() {
        for &(c, full, name) in PAIRS {
            assert_eq!(expand(c), Some(full), "{c:#06x} should be {name} = {full:#010x}");
        }
    }

    #[test]
    fn reserved_and_foreign_encodings_are_illegal() {
        for (c, why) in [
            (0x0000, "all zero"),
            (0x6101, "c.addi16sp 0"),
            (0x6501, "c.lui a0, 0"),
            (0x4002, "c.lwsp x0"),
            (0x8002, "c.jr x0"),
            (0x1002, "c.slli with shamt[5]"),
            (0x9c05, "c.subw (RV64)"),
            (0x2000, "c.fld"),
            (0x6000, "c.flw"),
            (0x8000 | 0x0001 | (1 << 12), "c.srli with shamt[5]"),
        ] {
            assert_eq!(expand(c), None, "{c:#06x}: {why}");
        }
    }
}
