//! Unit tests of the hart on a small logging test port: instruction classes, traps
//! and delegation, xRET, contexts, LR/SC and AMOs, misaligned splitting, split
//! fetches, interrupts, `wfi`, the user-process environment and cycle accounting.
//! Encodings are built by the helpers below from the base formats; expected values
//! are worked out by hand in the comments.

use crate::csr::{addr, mstatus};
use crate::{Cause, CoreConfig, Environment, Exception, Hart, Interrupt, Mode, Step};
use mmu_core::{
    AccessContext, AccessKind, Answer, Asid, Cycle, Cycles, Fault, FaultKind, Fence, MemRequest, MemoryPort,
    Privilege, Timed, Trap, TrapCause, VirtAddr, Width,
};

/// 64 KiB of memory at address 0 that logs every request and can trap one address.
struct TestPort {
    words: Vec<u32>,
    log: Vec<(MemRequest, AccessContext)>,
    /// Accesses to this address (of any kind) answer a page fault of this kind.
    fault_at: Option<(u32, FaultKind)>,
    latency: Cycles,
    fences: Vec<Fence>,
}

impl TestPort {
    fn new() -> Self {
        Self {
            words: vec![0; 16384],
            log: Vec::new(),
            fault_at: None,
            latency: Cycles::ZERO,
            fences: Vec::new(),
        }
    }
    fn word(&self, a: u32) -> u32 {
        self.words[(a / 4) as usize]
    }
    fn set_word(&mut self, a: u32, v: u32) {
        self.words[(a / 4) as usize] = v;
    }
    fn load(&mut self, at: u32, program: &[u32]) {
        for (i, w) in program.iter().enumerate() {
            self.set_word(at + 4 * i as u32, *w);
        }
    }
    fn requests(&self, kind: AccessKind) -> Vec<(u32, Width)> {
        self.log.iter().filter(|(r, _)| r.kind == kind).map(|(r, _)| (r.vaddr.as_u32(), r.width)).collect()
    }
}

impl MemoryPort for TestPort {
    type Error = ();
    fn access(&mut self, now: Cycle, context: &AccessContext, request: MemRequest) -> Result<Answer, ()> {
        assert!(request.width.is_aligned(request.vaddr), "unaligned request {request:?}");
        self.log.push((request, *context));
        let ready_at = now + self.latency;
        let a = request.vaddr.as_u32();
        let trap =
            |cause| Timed { value: Err(Trap { cause, vaddr: request.vaddr, kind: request.kind }), ready_at };
        if let Some((at, kind)) = self.fault_at {
            if at == a {
                let fault = Fault { kind, vaddr: request.vaddr, access: request.kind, level: Some(0) };
                return Ok(trap(TrapCause::Fault(fault)));
            }
        }
        let Some(&word) = self.words.get((a / 4) as usize) else {
            return Ok(trap(TrapCause::AccessFault));
        };
        let value = match request.kind {
            AccessKind::Write => {
                self.words[(a / 4) as usize] = request.width.insert(word, u64::from(a), request.value);
                0
            }
            AccessKind::Read | AccessKind::Fetch => request.width.extract(word, u64::from(a)),
        };
        Ok(Timed { value: Ok(value), ready_at })
    }
    fn fence(&mut self, fence: Fence) {
        self.fences.push(fence);
    }
}

// Register numbers.
const ZERO: u32 = 0;
const RA: u32 = 1;
const T0: u32 = 5;
const A0: u32 = 10;
const A1: u32 = 11;
const A2: u32 = 12;
const A7: u32 = 17;

const fn r(funct7: u32, rs2: u32, rs1: u32, funct3: u32, rd: u32, opcode: u32) -> u32 {
    (funct7 << 25) | (rs2 << 20) | (rs1 << 15) | (funct3 << 12) | (rd << 7) | opcode
}
const fn i(imm: i32, rs1: u32, funct3: u32, rd: u32, opcode: u32) -> u32 {
    (((imm as u32) & 0xfff) << 20) | (rs1 << 15) | (funct3 << 12) | (rd << 7) | opcode
}
const fn s(imm: i32, rs2: u32, rs1: u32, funct3: u32) -> u32 {
    let imm = imm as u32;
    (((imm >> 5) & 0x7f) << 25) | (rs2 << 20) | (rs1 << 15) | (funct3 << 12) | ((imm & 0x1f) << 7) | 0x23
}
const fn addi(rd: u32, rs1: u32, imm: i32) -> u32 {
    i(imm, rs1, 0, rd, 0x13)
}
const fn lui(rd: u32, imm20: u32) -> u32 {
    (imm20 << 12) | (rd << 7) | 0x37
}
const fn lw(rd: u32, rs1: u32, imm: i32) -> u32 {
    i(imm, rs1, 2, rd, 0x03)
}
const fn sw(rs2: u32, rs1: u32, imm: i32) -> u32 {
    s(imm, rs2, rs1, 2)
}
const fn csrrw(rd: u32, csr: u16, rs1: u32) -> u32 {
    i(csr as i32, rs1, 1, rd, 0x73)
}
const fn csrrs(rd: u32, csr: u16, rs1: u32) -> u32 {
    i(csr as i32, rs1, 2, rd, 0x73)
}
const fn amo(funct5: u32, rd: u32, rs1: u32, rs2: u32) -> u32 {
    r(funct5 << 2, rs2, rs1, 2, rd, 0x2f)
}
const ECALL: u32 = 0x0000_0073;
const MRET: u32 = 0x3020_0073;
const SRET: u32 = 0x1020_0073;
const WFI: u32 = 0x1050_0073;
const NOP: u32 = 0x0000_0013;

fn config(environment: Environment) -> CoreConfig {
    CoreConfig { cycles_per_instruction: Cycles::new(1), environment, hart_id: 0 }
}

fn bare(program: &[u32]) -> (Hart, TestPort) {
    let mut port = TestPort::new();
    port.load(0, program);
    (Hart::new(config(Environment::BareMetal), 0), port)
}

fn run(hart: &mut Hart, port: &mut TestPort, steps: usize) -> Vec<Step> {
    (0..steps).map(|_| hart.step(port).expect("the test port never errs")).collect()
}

#[test]
fn encoders_match_the_assembler() {
    // From `riscv64-unknown-elf-objdump` of `addi a0,a0,-1`, `sw a0,-8(sp)`, `csrr a0,mhartid`.
    assert_eq!(addi(A0, A0, -1), 0xfff5_0513);
    assert_eq!(sw(A0, 2, -8), 0xfea1_2c23);
    assert_eq!(csrrs(A0, addr::MHARTID, ZERO), 0xf140_2573);
}

#[test]
fn alu_results_by_hand() {
    let program = [
        addi(A0, ZERO, -5),           // a0 = -5
        addi(A1, ZERO, 3),            // a1 = 3
        r(0x20, A1, A0, 0, A2, 0x33), // sub a2 = -8
        r(0x20, A1, A2, 5, T0, 0x33), // sra t0 = -8 >> 3 = -1
        r(0, A1, A2, 5, RA, 0x33),    // srl ra = 0xfffffff8 >> 3 = 0x1fffffff
        r(0, A1, A0, 3, A7, 0x33),    // sltu a7 = (0xfffffffb < 3) = 0
        r(1, A1, A0, 0, 6, 0x33),     // mul x6 = -15
        r(1, A1, A0, 4, 7, 0x33),     // div x7 = -5 / 3 = -1 (toward zero)
        r(1, A1, A0, 6, 8, 0x33),     // rem x8 = -2
        i(0x400 | 1, A0, 5, 9, 0x13), // srai x9 = -5 >> 1 = -3
        lui(ZERO, 0x12345),           // writes to x0 are dropped
    ];
    let (mut hart, mut port) = bare(&program);
    assert!(run(&mut hart, &mut port, program.len()).iter().all(|s| *s == Step::Retired));
    assert_eq!(hart.reg(12), (-8i32) as u32);
    assert_eq!(hart.reg(5), u32::MAX);
    assert_eq!(hart.reg(1), 0x1fff_ffff);
    assert_eq!(hart.reg(17), 0);
    assert_eq!(hart.reg(6), (-15i32) as u32);
    assert_eq!(hart.reg(7), u32::MAX);
    assert_eq!(hart.reg(8), (-2i32) as u32);
    assert_eq!(hart.reg(9), (-3i32) as u32);
    assert_eq!(hart.reg(0), 0);
    let stats = hart.stats();
    assert_eq!((stats.instructions, stats.alu, stats.mul_div), (11, 8, 3));
    assert_eq!(hart.csr(addr::MINSTRET), Some(11));
}

#[test]
fn shifts_with_imm_bit_5_are_illegal_on_rv32() {
    // slli a0, a0, 32 would need shamt[5] = funct7 bit 0: reserved on RV32.
    let (mut hart, mut port) = bare(&[i(32, A0, 1, A0, 0x13)]);
    hart.set_csr(addr::MTVEC, 0x100).expect("a writable CSR");
    assert_eq!(
        run(&mut hart, &mut port, 1),
        [Step::Trapped(Cause::Exception(Exception::IllegalInstruction))]
    );
    assert_eq!(hart.csr(addr::MTVAL), Some(i(32, A0, 1, A0, 0x13)), "tval holds the instruction bits");
}

#[test]
fn loads_sign_or_zero_extend() {
    let program = [
        i(0x200, ZERO, 0, A0, 0x03), // lb a0, 0x200
        i(0x200, ZERO, 4, A1, 0x03), // lbu a1, 0x200
        i(0x202, ZERO, 1, A2, 0x03), // lh a2, 0x202
        i(0x202, ZERO, 5, T0, 0x03), // lhu t0, 0x202
    ];
    let (mut hart, mut port) = bare(&program);
    port.set_word(0x200, 0x8001_7f80);
    run(&mut hart, &mut port, 4);
    assert_eq!(hart.reg(10), 0xffff_ff80);
    assert_eq!(hart.reg(11), 0x80);
    assert_eq!(hart.reg(12), 0xffff_8001);
    assert_eq!(hart.reg(5), 0x8001);
}

#[test]
fn misaligned_loads_and_stores_are_split_into_bytes() {
    let program = [lw(A0, ZERO, 0x201), sw(A0, ZERO, 0x303)];
    let (mut hart, mut port) = bare(&program);
    port.set_word(0x200, 0x4433_2211);
    port.set_word(0x204, 0x8877_6655);
    run(&mut hart, &mut port, 2);
    // Bytes 0x201..0x204 little-endian: 0x22, 0x33, 0x44, 0x55.
    assert_eq!(hart.reg(10), 0x5544_3322);
    let reads = port.requests(AccessKind::Read);
    assert_eq!(
        reads,
        [(0x201, Width::Byte), (0x202, Width::Byte), (0x203, Width::Byte), (0x204, Width::Byte)]
    );
    assert_eq!(port.word(0x300), 0x2200_0000);
    assert_eq!(port.word(0x304), 0x0055_4433);
}

#[test]
fn a_trap_on_any_part_reports_the_original_address() {
    let (mut hart, mut port) = bare(&[lw(A0, ZERO, 0x7fe)]);
    hart.set_csr(addr::MTVEC, 0x100).expect("a writable CSR");
    port.fault_at = Some((0x800, FaultKind::NotPresent));
    assert_eq!(run(&mut hart, &mut port, 1), [Step::Trapped(Cause::Exception(Exception::LoadPageFault))]);
    assert_eq!(hart.csr(addr::MTVAL), Some(0x7fe));
    assert_eq!(hart.csr(addr::MEPC), Some(0));
    assert_eq!(hart.reg(10), 0, "rd is not written");
}

#[test]
fn port_traps_map_to_riscv_causes() {
    for (kind, expected) in [
        (FaultKind::NotPresent, Exception::StorePageFault),
        (FaultKind::Protection, Exception::StorePageFault),
        (FaultKind::AccessedDirty, Exception::StorePageFault),
        (FaultKind::AccessFault, Exception::StoreAccessFault),
    ] {
        let (mut hart, mut port) = bare(&[sw(A0, ZERO, 0x400)]);
        port.fault_at = Some((0x400, kind));
        assert_eq!(run(&mut hart, &mut port, 1), [Step::Trapped(Cause::Exception(expected))], "{kind:?}");
    }
    // Outside the port's memory: the data access itself faults (cause 5).
    let (mut hart, mut port) = bare(&[lw(A0, ZERO, -4)]);
    assert_eq!(run(&mut hart, &mut port, 1), [Step::Trapped(Cause::Exception(Exception::LoadAccessFault))]);
    assert_eq!(hart.csr(addr::MTVAL), Some(0xffff_fffc));
}

#[test]
fn a_32_bit_instruction_at_2_mod_4_is_fetched_in_two_halves() {
    let mut port = TestPort::new();
    // c.nop at 0xffc, then addi a0, zero, 7 across the word boundary at 0xffe.
    let addi7 = addi(A0, ZERO, 7);
    port.set_word(0xffc, 0x0001 | (addi7 << 16));
    port.set_word(0x1000, addi7 >> 16);
    let mut hart = Hart::new(config(Environment::BareMetal), 0xffc);
    run(&mut hart, &mut port, 2);
    assert_eq!(hart.reg(10), 7);
    assert_eq!(hart.pc(), 0x1002);
    assert_eq!(
        port.requests(AccessKind::Fetch),
        [(0xffc, Width::Word), (0xffe, Width::Half), (0x1000, Width::Half)]
    );
}

#[test]
fn a_fetch_fault_on_the_second_half_reports_its_address() {
    let mut port = TestPort::new();
    port.set_word(0xffc, addi(A0, ZERO, 7) << 16);
    port.fault_at = Some((0x1000, FaultKind::NotPresent));
    let mut hart = Hart::new(config(Environment::BareMetal), 0xffe);
    assert_eq!(
        run(&mut hart, &mut port, 1),
        [Step::Trapped(Cause::Exception(Exception::InstructionPageFault))]
    );
    assert_eq!(hart.csr(addr::MEPC), Some(0xffe));
    assert_eq!(hart.csr(addr::MTVAL), Some(0x1000));
}

#[test]
fn exceptions_from_u_go_to_s_when_delegated_and_to_m_otherwise() {
    // U-mode illegal instruction (csrr of mstatus), delegated: to S.
    let (mut hart, mut port) = bare(&[0, csrrs(A0, addr::MSTATUS, ZERO)]);
    hart.set_csr(addr::MEDELEG, 1 << 2).expect("a writable CSR");
    hart.set_csr(addr::STVEC, 0x200).expect("a writable CSR");
    hart.set_csr(addr::MTVEC, 0x300).expect("a writable CSR");
    hart.set_csr(addr::MEPC, 4).expect("a writable CSR");
    hart.set_csr(addr::MSTATUS, mstatus::SIE).expect("a writable CSR"); // MPP = U
    hart.set_pc(0x100);
    port.set_word(0x100, MRET);
    run(&mut hart, &mut port, 1);
    assert_eq!((hart.mode(), hart.pc()), (Mode::User, 4));
    assert_eq!(
        run(&mut hart, &mut port, 1),
        [Step::Trapped(Cause::Exception(Exception::IllegalInstruction))]
    );
    assert_eq!((hart.mode(), hart.pc()), (Mode::Supervisor, 0x200));
    assert_eq!(hart.csr(addr::SCAUSE), Some(2));
    assert_eq!(hart.csr(addr::SEPC), Some(4));
    let status = hart.csr(addr::MSTATUS).unwrap_or(0);
    assert_eq!(
        status & (mstatus::SPP | mstatus::SIE | mstatus::SPIE),
        mstatus::SPIE,
        "SPP = U, SPIE = old SIE"
    );
    // ECALL from S is not delegated: to M with MPP = S.
    port.set_word(0x200, ECALL);
    assert_eq!(
        run(&mut hart, &mut port, 1),
        [Step::Trapped(Cause::Exception(Exception::EcallFromSupervisor))]
    );
    assert_eq!((hart.mode(), hart.pc()), (Mode::Machine, 0x300));
    assert_eq!(hart.csr(addr::MCAUSE), Some(9));
    assert_eq!(hart.csr(addr::MSTATUS).unwrap_or(0) & mstatus::MPP, 1 << 11);
}

#[test]
fn m_mode_traps_are_never_delegated() {
    let (mut hart, mut port) = bare(&[0]);
    hart.set_csr(addr::MEDELEG, 1 << 2).expect("a writable CSR");
    hart.set_csr(addr::MTVEC, 0x300).expect("a writable CSR");
    assert_eq!(
        run(&mut hart, &mut port, 1),
        [Step::Trapped(Cause::Exception(Exception::IllegalInstruction))]
    );
    assert_eq!((hart.mode(), hart.pc(), hart.csr(addr::MCAUSE)), (Mode::Machine, 0x300, Some(2)));
}

#[test]
fn xret_pops_the_status_stack() {
    // mret with MPP = S, MPIE = 1, MPRV = 1: MIE = 1, MPIE = 1, MPP = U, MPRV = 0.
    let (mut hart, mut port) = bare(&[MRET]);
    hart.set_csr(addr::MSTATUS, (1 << 11) | mstatus::MPIE | mstatus::MPRV).expect("a writable CSR");
    hart.set_csr(addr::MEPC, 0x40).expect("a writable CSR");
    run(&mut hart, &mut port, 1);
    assert_eq!((hart.mode(), hart.pc()), (Mode::Supervisor, 0x40));
    assert_eq!(hart.csr(addr::MSTATUS), Some(mstatus::MIE | mstatus::MPIE));
    // sret in S with SPP = U, SPIE = 0: SIE = 0, SPIE = 1, to U.
    port.set_word(0x40, SRET);
    hart.set_csr(addr::SEPC, 0x80).expect("a writable CSR");
    run(&mut hart, &mut port, 1);
    assert_eq!((hart.mode(), hart.pc()), (Mode::User, 0x80));
    assert_eq!(hart.csr(addr::MSTATUS), Some(mstatus::MIE | mstatus::MPIE | mstatus::SPIE));
    // In U-mode both are illegal.
    port.set_word(0x80, SRET);
    hart.set_csr(addr::MTVEC, 0x300).expect("a writable CSR");
    assert_eq!(
        run(&mut hart, &mut port, 1),
        [Step::Trapped(Cause::Exception(Exception::IllegalInstruction))]
    );
}

#[test]
fn tsr_makes_sret_illegal_in_s_mode() {
    let (mut hart, mut port) = bare(&[MRET]);
    hart.set_csr(addr::MSTATUS, (1 << 11) | mstatus::TSR).expect("a writable CSR");
    hart.set_csr(addr::MEPC, 0x40).expect("a writable CSR");
    hart.set_csr(addr::MTVEC, 0x300).expect("a writable CSR");
    port.set_word(0x40, SRET);
    run(&mut hart, &mut port, 1);
    assert_eq!(
        run(&mut hart, &mut port, 1),
        [Step::Trapped(Cause::Exception(Exception::IllegalInstruction))]
    );
}

#[test]
fn contexts_follow_mode_satp_mprv_sum_mxr() {
    let (mut hart, _) = bare(&[]);
    // satp: Sv32, ASID 5, PPN 0x12345 -> root 0x1234_5000.
    hart.set_csr(addr::SATP, 0x8000_0000 | (5 << 22) | 0x12345).expect("a writable CSR");
    assert_eq!(hart.fetch_context().space, None, "M-mode is never translated");
    assert_eq!(hart.data_context().space, None);
    hart.set_csr(addr::MSTATUS, mstatus::MPRV | (1 << 11) | mstatus::SUM).expect("a writable CSR");
    let data = *hart.data_context();
    let space = data.space.expect("MPRV with MPP = S translates loads and stores");
    assert_eq!((space.asid, space.root.as_u64()), (Asid::new(5), 0x1234_5000));
    assert_eq!(
        (data.privilege.mode, data.privilege.sum, data.privilege.mxr),
        (Privilege::Supervisor, true, false)
    );
    assert_eq!(hart.fetch_context().space, None, "MPRV does not apply to fetches");
    // MPP = U, MXR.
    hart.set_csr(addr::MSTATUS, mstatus::MPRV | mstatus::MXR).expect("a writable CSR");
    assert_eq!(hart.data_context().privilege.mode, Privilege::User);
    assert!(hart.data_context().privilege.mxr);
    // Bare satp: no translation even with MPRV.
    hart.set_csr(addr::SATP, 0).expect("a writable CSR");
    assert_eq!(hart.data_context().space, None);
}

#[test]
fn contexts_are_recomputed_by_csr_instructions_and_traps() {
    let program = [csrrw(ZERO, addr::SATP, A0), MRET];
    let (mut hart, mut port) = bare(&program);
    hart.set_reg(10, 0x8000_0000 | 0x80);
    hart.set_csr(addr::MSTATUS, 1 << 11).expect("a writable CSR"); // MPP = S
    hart.set_csr(addr::MEPC, 0x40).expect("a writable CSR");
    port.set_word(0x40, NOP);
    run(&mut hart, &mut port, 3);
    assert_eq!((hart.mode(), hart.pc()), (Mode::Supervisor, 0x44));
    assert_eq!(hart.fetch_context().space.map(|s| s.root.as_u64()), Some(0x8_0000));
    // The fetch at 0x40 went out in the S-mode paged context.
    let (request, context) = port.log.last().copied().expect("a fetch");
    assert_eq!((request.kind, request.vaddr), (AccessKind::Fetch, VirtAddr::new(0x40)));
    assert_eq!(context.privilege.mode, Privilege::Supervisor);
    assert!(context.space.is_some());
}

#[test]
fn lr_sc_succeeds_once_per_reservation() {
    let program = [
        amo(0x02, A0, A1, ZERO), // lr.w a0, (a1)
        amo(0x03, A2, A1, T0),   // sc.w a2, t0, (a1) -> 0
        amo(0x03, A2, A1, RA),   // sc.w a2, ra, (a1) -> 1, no store
    ];
    let (mut hart, mut port) = bare(&program);
    hart.set_reg(11, 0x400);
    hart.set_reg(5, 0xaaaa);
    hart.set_reg(1, 0xbbbb);
    port.set_word(0x400, 17);
    run(&mut hart, &mut port, 2);
    assert_eq!((hart.reg(10), hart.reg(12), port.word(0x400)), (17, 0, 0xaaaa));
    let writes = port.requests(AccessKind::Write).len();
    run(&mut hart, &mut port, 1);
    assert_eq!((hart.reg(12), port.word(0x400)), (1, 0xaaaa));
    assert_eq!(port.requests(AccessKind::Write).len(), writes, "a failed SC does not store");
    assert_eq!(hart.stats().atomics, 3);
}

#[test]
fn a_trap_clears_the_reservation() {
    let program = [amo(0x02, A0, A1, ZERO), ECALL];
    let (mut hart, mut port) = bare(&program);
    hart.set_reg(11, 0x400);
    hart.set_csr(addr::MTVEC, 0x100).expect("a writable CSR");
    port.set_word(0x100, amo(0x03, A2, A1, T0));
    run(&mut hart, &mut port, 3);
    assert_eq!(hart.reg(12), 1);
}

#[test]
fn amos_read_then_write_and_fault_as_stores() {
    // amoadd.w a0, a2, (a1); amomaxu; amomin (signed)
    let program = [amo(0x00, A0, A1, A2), amo(0x1c, A0, A1, A2), amo(0x10, A0, A1, T0)];
    let (mut hart, mut port) = bare(&program);
    hart.set_reg(11, 0x400);
    hart.set_reg(12, 5);
    hart.set_reg(5, (-1i32) as u32);
    port.set_word(0x400, 10);
    run(&mut hart, &mut port, 1);
    assert_eq!((hart.reg(10), port.word(0x400)), (10, 15));
    run(&mut hart, &mut port, 1);
    assert_eq!((hart.reg(10), port.word(0x400)), (15, 15), "maxu(15, 5) = 15");
    run(&mut hart, &mut port, 1);
    assert_eq!((hart.reg(10), port.word(0x400)), (15, u32::MAX), "min(15, -1) = -1");
    // A fault on the AMO's read is a store/AMO page fault (15), not a load fault.
    let (mut hart, mut port) = bare(&[amo(0x01, A0, A1, A2)]);
    hart.set_reg(11, 0x400);
    port.fault_at = Some((0x400, FaultKind::NotPresent));
    assert_eq!(run(&mut hart, &mut port, 1), [Step::Trapped(Cause::Exception(Exception::StorePageFault))]);
    // Misaligned: store/AMO address misaligned, nothing sent to the port.
    let (mut hart, mut port) = bare(&[amo(0x01, A0, A1, A2)]);
    hart.set_reg(11, 0x402);
    assert_eq!(run(&mut hart, &mut port, 1), [Step::Trapped(Cause::Exception(Exception::StoreMisaligned))]);
    assert_eq!(hart.csr(addr::MTVAL), Some(0x402));
    assert!(port.requests(AccessKind::Read).is_empty());
}

#[test]
fn interrupts_are_taken_in_priority_order_when_enabled() {
    let (mut hart, mut port) = bare(&[NOP; 4]);
    hart.set_csr(addr::MTVEC, 0x101).expect("a writable CSR"); // vectored at 0x100
    hart.set_csr(addr::MIE, 0xaaa).expect("a writable CSR");
    for i in [Interrupt::MachineTimer, Interrupt::MachineSoftware, Interrupt::MachineExternal] {
        hart.set_interrupt_pending(i, true);
    }
    // MIE = 0 in M-mode: nothing is taken.
    assert_eq!(run(&mut hart, &mut port, 1), [Step::Retired]);
    hart.set_csr(addr::MSTATUS, mstatus::MIE).expect("a writable CSR");
    let external = Cause::Interrupt(Interrupt::MachineExternal);
    assert_eq!(run(&mut hart, &mut port, 1), [Step::Trapped(external)]);
    assert_eq!(hart.csr(addr::MCAUSE), Some(0x8000_000b));
    assert_eq!(hart.csr(addr::MEPC), Some(4), "the interrupted instruction");
    assert_eq!(hart.pc(), 0x100 + 4 * 11, "vectored: BASE + 4 * cause");
    assert_eq!(hart.csr(addr::MSTATUS), Some(mstatus::MPIE | (3 << 11)), "MIE cleared, MPP = M");
    // Software before timer once external is gone.
    hart.set_interrupt_pending(Interrupt::MachineExternal, false);
    hart.set_csr(addr::MSTATUS, mstatus::MIE).expect("a writable CSR");
    assert_eq!(run(&mut hart, &mut port, 1), [Step::Trapped(Cause::Interrupt(Interrupt::MachineSoftware))]);
    assert_eq!(hart.stats().traps.machine_external_interrupt, 1);
}

#[test]
fn delegated_interrupts_go_to_s_and_wait_in_m() {
    let (mut hart, mut port) = bare(&[NOP; 4]);
    hart.set_csr(addr::MIDELEG, Interrupt::SupervisorTimer.mask()).expect("a writable CSR");
    hart.set_csr(addr::MIE, 0xaaa).expect("a writable CSR");
    hart.set_csr(addr::STVEC, 0x200).expect("a writable CSR");
    port.load(0x200, &[NOP; 2]);
    hart.set_csr(addr::MSTATUS, mstatus::MIE | mstatus::SIE).expect("a writable CSR");
    hart.set_interrupt_pending(Interrupt::SupervisorTimer, true);
    // In M-mode a delegated interrupt is never taken, whatever SIE says.
    assert_eq!(run(&mut hart, &mut port, 1), [Step::Retired]);
    // In U-mode it is taken, to S, even with SIE = 0.
    hart.set_csr(addr::MSTATUS, 0).expect("a writable CSR");
    hart.set_csr(addr::MEPC, 0x10).expect("a writable CSR");
    port.set_word(4, MRET);
    run(&mut hart, &mut port, 1);
    assert_eq!(hart.mode(), Mode::User);
    assert_eq!(run(&mut hart, &mut port, 1), [Step::Trapped(Cause::Interrupt(Interrupt::SupervisorTimer))]);
    assert_eq!(
        (hart.mode(), hart.pc(), hart.csr(addr::SCAUSE)),
        (Mode::Supervisor, 0x200, Some(0x8000_0005))
    );
    // In S-mode with SIE = 0 it waits, but a pending M-level interrupt preempts S.
    assert_eq!(run(&mut hart, &mut port, 1), [Step::Retired]);
    hart.set_interrupt_pending(Interrupt::MachineTimer, true);
    assert_eq!(run(&mut hart, &mut port, 1), [Step::Trapped(Cause::Interrupt(Interrupt::MachineTimer))]);
    assert_eq!(hart.mode(), Mode::Machine);
}

#[test]
fn wfi_waits_until_an_interrupt_is_pending_and_enabled_in_mie() {
    let (mut hart, mut port) = bare(&[WFI, addi(A0, ZERO, 1)]);
    hart.set_csr(addr::MIE, Interrupt::MachineTimer.mask()).expect("a writable CSR");
    assert_eq!(run(&mut hart, &mut port, 1), [Step::Waiting]);
    let now = hart.now();
    assert_eq!(run(&mut hart, &mut port, 2), [Step::Waiting, Step::Waiting]);
    assert_eq!(hart.now(), now, "waiting costs nothing until the machine advances time");
    hart.advance_to(Cycle::new(1000));
    // Pending and enabled in mie, but MIE = 0: the hart resumes without a trap.
    hart.set_interrupt_pending(Interrupt::MachineTimer, true);
    assert_eq!(run(&mut hart, &mut port, 1), [Step::Retired]);
    assert_eq!(hart.reg(10), 1);
    assert_eq!(hart.now(), Cycle::new(1001));
}

#[test]
fn wfi_is_illegal_in_u_mode_and_in_s_mode_with_tw() {
    for (mpp, tw) in [(0, 0), (1 << 11, mstatus::TW)] {
        let (mut hart, mut port) = bare(&[MRET]);
        hart.set_csr(addr::MSTATUS, mpp | tw).expect("a writable CSR");
        hart.set_csr(addr::MEPC, 0x40).expect("a writable CSR");
        hart.set_csr(addr::MTVEC, 0x300).expect("a writable CSR");
        port.set_word(0x40, WFI);
        run(&mut hart, &mut port, 1);
        assert_eq!(
            run(&mut hart, &mut port, 1),
            [Step::Trapped(Cause::Exception(Exception::IllegalInstruction))]
        );
    }
}

#[test]
fn sfence_vma_passes_its_operands_to_the_port() {
    let sfence = |rs1: u32, rs2: u32| r(0x09, rs2, rs1, 0, 0, 0x73);
    let (mut hart, mut port) = bare(&[sfence(ZERO, ZERO), sfence(A0, A1), sfence(ZERO, A1)]);
    hart.set_reg(10, 0x1234_5678);
    hart.set_reg(11, 0x1_0007); // ASID field keeps 9 bits: 7
    run(&mut hart, &mut port, 3);
    assert_eq!(
        port.fences,
        [
            Fence::ALL,
            Fence::page(VirtAddr::new(0x1234_5678), Asid::new(7)),
            Fence::address_space(Asid::new(7))
        ]
    );
    // Illegal in U-mode.
    let (mut hart, mut port) = bare(&[MRET]);
    hart.set_csr(addr::MEPC, 0x40).expect("a writable CSR");
    port.set_word(0x40, sfence(ZERO, ZERO));
    run(&mut hart, &mut port, 1);
    assert_eq!(
        run(&mut hart, &mut port, 1),
        [Step::Trapped(Cause::Exception(Exception::IllegalInstruction))]
    );
    assert!(port.fences.is_empty());
}

#[test]
fn csr_instructions_check_privilege_and_read_only() {
    let program = [
        csrrs(A0, addr::MISA, ZERO),    // read misa
        csrrs(A1, addr::MHARTID, ZERO), // csrrs with x0 does not write: legal
        csrrw(ZERO, addr::MHARTID, A0), // write a read-only CSR: illegal
    ];
    let (mut hart, mut port) = bare(&program);
    hart.set_csr(addr::MTVEC, 0x300).expect("a writable CSR");
    let steps = run(&mut hart, &mut port, 3);
    // misa: MXL = 1 (bit 30), A (0), C (2), I (8), M (12), S (18), U (20).
    assert_eq!(hart.reg(10), 0x4014_1105);
    assert_eq!(steps[2], Step::Trapped(Cause::Exception(Exception::IllegalInstruction)));
    // fcsr and mnstatus do not exist.
    for missing in [0x003u16, 0x744] {
        let (mut hart, mut port) = bare(&[csrrs(A0, missing, ZERO)]);
        assert_eq!(
            run(&mut hart, &mut port, 1),
            [Step::Trapped(Cause::Exception(Exception::IllegalInstruction))]
        );
    }
}

#[test]
fn cycles_are_the_base_cost_plus_each_access_latency() {
    let program = [lw(A0, ZERO, 0x400), csrrs(A1, addr::CYCLE, ZERO)];
    let (_, mut port) = bare(&program);
    let mut hart =
        Hart::new(CoreConfig { cycles_per_instruction: Cycles::new(3), ..config(Environment::BareMetal) }, 0);
    port.latency = Cycles::new(10);
    run(&mut hart, &mut port, 1);
    // 3 base, then the fetch issued at 3 ready at 13, then the load at 13 ready at 23.
    assert_eq!(hart.now(), Cycle::new(23));
    assert_eq!(port.log.iter().map(|_| ()).count(), 2);
    run(&mut hart, &mut port, 1);
    // csrr: 23 + 3 = 26, fetch ready at 36, read of cycle during execute sees 36.
    assert_eq!(hart.reg(11), 36);
}

#[test]
fn user_process_ecall_and_exceptions_leave_step() {
    let mut port = TestPort::new();
    port.load(0x100, &[ECALL, 0xffff_ffff, lw(A0, ZERO, 0x7f0)]);
    let mut hart = Hart::new(config(Environment::UserProcess), 0x100);
    assert_eq!(hart.mode(), Mode::User);
    hart.set_reg(A7 as u8, 93);
    assert_eq!(hart.step(&mut port), Ok(Step::Syscall));
    assert_eq!((hart.pc(), hart.reg(17)), (0x100, 93), "the machine reads a7 at the ecall");
    hart.set_reg(10, 0);
    hart.skip_ecall();
    assert_eq!(hart.pc(), 0x104);
    assert_eq!(hart.stats().syscalls, 1);
    assert_eq!(
        hart.step(&mut port),
        Ok(Step::Exception { cause: Exception::IllegalInstruction, tval: 0xffff_ffff, pc: 0x104 })
    );
    assert_eq!((hart.mode(), hart.pc()), (Mode::User, 0x104), "no trap is taken");
    hart.set_pc(0x108);
    port.fault_at = Some((0x7f0, FaultKind::Protection));
    assert_eq!(
        hart.step(&mut port),
        Ok(Step::Exception { cause: Exception::LoadPageFault, tval: 0x7f0, pc: 0x108 })
    );
    // Counters are readable from U-mode (mcounteren = scounteren = 7).
    port.set_word(0x10c, csrrs(A0, addr::INSTRET, ZERO));
    hart.set_pc(0x10c);
    assert_eq!(hart.step(&mut port), Ok(Step::Retired));
    assert_eq!(hart.reg(10), 1, "the skipped ecall retired; the csrr itself not yet");
}

#[test]
fn user_process_address_space_sets_the_context() {
    let mut hart = Hart::new(config(Environment::UserProcess), 0);
    let space = mmu_core::AddressSpace { asid: Asid::new(3), root: mmu_core::PhysAddr::new(0x8020_0000) };
    assert_eq!(hart.set_address_space(Some(space)), Ok(()));
    assert_eq!(hart.fetch_context().space, Some(space));
    assert_eq!(hart.data_context().privilege.mode, Privilege::User);
    let wide = mmu_core::AddressSpace { asid: Asid::new(512), ..space };
    assert!(hart.set_address_space(Some(wide)).is_err());
    let unaligned = mmu_core::AddressSpace { root: mmu_core::PhysAddr::new(0x8020_0010), ..space };
    assert!(hart.set_address_space(Some(unaligned)).is_err());
}

#[test]
fn time_reads_the_machines_mtime() {
    let (mut hart, mut port) = bare(&[csrrs(A0, addr::TIME, ZERO), csrrs(A1, 0xc81, ZERO)]);
    hart.set_mtime(0x1_0000_0002);
    run(&mut hart, &mut port, 2);
    assert_eq!((hart.reg(10), hart.reg(11)), (2, 1));
}

#[test]
fn setting_a_bit_in_mip_does_not_latch_the_machines_lines() {
    // csrs mip, a0 with a0 = SSIP while the machine drives SEIP.
    let (mut hart, mut port) = bare(&[csrrs(A1, addr::MIP, A0)]);
    hart.set_reg(10, Interrupt::SupervisorSoftware.mask());
    hart.set_interrupt_pending(Interrupt::SupervisorExternal, true);
    run(&mut hart, &mut port, 1);
    assert_eq!(hart.reg(11), 0x200, "rd reads the line");
    hart.set_interrupt_pending(Interrupt::SupervisorExternal, false);
    assert_eq!(hart.csr(addr::MIP), Some(0x002), "SEIP went with its line; SSIP stays");
}

/// A xorshift generator: deterministic input for the robustness test.
fn xorshift(state: &mut u64) -> u64 {
    *state ^= *state << 13;
    *state ^= *state >> 7;
    *state ^= *state << 17;
    *state
}

#[test]
fn random_instruction_words_never_panic() {
    let mut seed = 0x9e37_79b9_7f4a_7c15u64;
    for environment in [Environment::BareMetal, Environment::UserProcess] {
        let mut port = TestPort::new();
        for word in port.words.iter_mut() {
            *word = xorshift(&mut seed) as u32;
        }
        let mut hart = Hart::new(config(environment), 0);
        for _ in 0..200_000 {
            for reg in 1..32u8 {
                // Keep about half the registers pointing into memory.
                let r = xorshift(&mut seed) as u32;
                hart.set_reg(reg, if reg % 2 == 0 { r & 0xfffc } else { r });
            }
            if xorshift(&mut seed) % 64 == 0 {
                hart.set_interrupt_pending(Interrupt::PRIORITY[(seed % 6) as usize], seed & 8 != 0);
            }
            match hart.step(&mut port) {
                Ok(Step::Waiting) => hart.set_pc(xorshift(&mut seed) as u32 & 0xfffe),
                Ok(Step::Syscall) => hart.skip_ecall(),
                Ok(Step::Exception { .. }) => hart.set_pc(xorshift(&mut seed) as u32 & 0xfffe),
                Ok(_) => {}
                Err(()) => unreachable!("the test port never errs"),
            }
            if hart.pc() >= 0x1_0000 {
                hart.set_pc(hart.pc() & 0xfffe);
            }
        }
        assert!(hart.stats().instructions > 1000, "{environment:?}: some random words are instructions");
    }
}

#[test]
fn the_next_instruction_reads_the_minstret_written() {
    let (mut hart, mut port) = bare(&[csrrw(ZERO, addr::MINSTRET, A0), csrrs(A1, addr::MINSTRET, ZERO)]);
    hart.set_reg(10, 1000);
    run(&mut hart, &mut port, 2);
    assert_eq!(hart.reg(11), 1000);
    assert_eq!(hart.csr(addr::MINSTRET), Some(1001));
    assert_eq!(hart.set_csr(addr::MHARTID, 1), Err(crate::CsrError::ReadOnly(addr::MHARTID)));
    assert_eq!(hart.set_csr(0x003, 1), Err(crate::CsrError::Missing(0x003)));
}

#[test]
fn a_compressed_instruction_rewritten_in_place_runs_as_written() {
    // c.li a0, 1 = 0x4505; c.li a0, 5 = 0x4515; c.nop = 0x0001; c.unimp = 0x0000.
    for fast in [true, false] {
        let (mut hart, mut port) = bare(&[0x0001_4505]);
        hart.set_fast_paths(fast);
        run(&mut hart, &mut port, 1);
        assert_eq!(hart.reg(10), 1, "fast paths {fast}");
        port.set_word(0, 0x0001_4515);
        hart.set_pc(0);
        run(&mut hart, &mut port, 1);
        assert_eq!(hart.reg(10), 5, "the new bits, not the expansion cached at this pc");
        port.set_word(0, 0x0001_0000);
        hart.set_pc(0);
        let illegal = Step::Trapped(Cause::Exception(Exception::IllegalInstruction));
        assert_eq!(run(&mut hart, &mut port, 1), [illegal]);
        assert_eq!(hart.csr(addr::MTVAL), Some(0));
    }
}

#[test]
fn two_pcs_sharing_an_expansion_slot_each_run_their_own_instruction() {
    // 0 and 0x400 map to the same slot of the 512-entry cache (indexed by pc / 2).
    let (mut hart, mut port) = bare(&[0x0001_4505]);
    port.set_word(0x400, 0x0001_4515);
    let mut seen = Vec::new();
    for pc in [0, 0x400, 0, 0x400] {
        hart.set_pc(pc);
        run(&mut hart, &mut port, 1);
        seen.push(hart.reg(10));
    }
    assert_eq!(seen, [1, 5, 1, 5]);
}

#[test]
fn time_follows_the_clock_at_the_start_of_each_instruction() {
    // Each step: 1 cycle plus a 7-cycle fetch, so the instructions start at 0, 8, 16;
    // one tick every 10 cycles from 100: 100, 100, 101.
    let program = [csrrs(A0, addr::TIME, ZERO), csrrs(A1, addr::TIME, ZERO), csrrs(A2, addr::TIME, ZERO)];
    let (mut hart, mut port) = bare(&program);
    port.latency = Cycles::new(7);
    hart.set_time_base(10, 100);
    run(&mut hart, &mut port, 3);
    assert_eq!((hart.reg(10), hart.reg(11), hart.reg(12)), (100, 100, 101));
    hart.set_mtime(7);
    assert_eq!(hart.csr(addr::TIME), Some(7), "a fixed mtime replaces the time base");
}
