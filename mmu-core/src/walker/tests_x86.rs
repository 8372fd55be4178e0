//! Hand-computed IA-32 32-bit paging walks (Intel SDM Vol. 3A): for each rule, the
//! PDE and PTE, the access and privilege, and the exact outcome, the entries read
//! and written, and the cycles.

use super::*;
use crate::access::Privilege;
use crate::format::{X86_32, X86Pte};
use crate::testing::TestMem;

const LATENCY: u64 = 10;
const CR3: u64 = 0x1000; // the page directory sits in frame 1
const PT: u64 = 0x2000; // the page table in frame 2
// VA 0x0040_3abc: directory index 1, table index 3, offset 0xabc.
const VA: u32 = 0x0040_3abc;
const PDE_ADDR: u64 = CR3 + 4; // 4.3: bits 31:12 from CR3, bits 11:2 = VA bits 31:22
const PTE_ADDR: u64 = PT + 3 * 4; // bits 31:12 from the PDE, bits 11:2 = VA bits 21:12

const P: u32 = X86Pte::P;
const RW: u32 = X86Pte::RW;
const US: u32 = X86Pte::US;
const PWT: u32 = X86Pte::PWT;
const PCD: u32 = X86Pte::PCD;
const A: u32 = X86Pte::A;
const D: u32 = X86Pte::D;
const PS: u32 = X86Pte::PS;
const G: u32 = X86Pte::G;

/// A PDE pointing to the page table in frame 2, with the given flags.
const fn pde(flags: u32) -> u32 {
    0x2000 | flags
}
/// A PTE mapping frame 0x55, so PA = 0x55abc.
const fn pte(flags: u32) -> u32 {
    0x55000 | flags
}
/// A 4 MiB PDE mapping 0x00c0_0000: PA = 0xc0_0000 | (VA & 0x3f_ffff) = 0xc0_3abc.
const fn pde_4m(flags: u32) -> u32 {
    0x00c0_0000 | PS | flags
}

const fn state(mode: Privilege, write_protect: bool) -> PrivilegeState {
    PrivilegeState { mode, sum: false, mxr: false, write_protect }
}
const USER: PrivilegeState = state(Privilege::User, true);
const SUPER: PrivilegeState = state(Privilege::Supervisor, true);
const SUPER_NO_WP: PrivilegeState = state(Privilege::Supervisor, false);

#[derive(Clone, Copy, Debug)]
enum Expect {
    /// Physical address, and the entries written (address, new value) in order.
    Ok(u64, &'static [(u64, u32)]),
    /// Fault kind and level.
    Fault(FaultKind, u8),
}

struct Row {
    rule: &'static str,
    pse: bool,
    pde: u32,
    pte: u32,
    access: AccessKind,
    state: PrivilegeState,
    /// Entries the walk reads, in order.
    reads: &'static [u64],
    expect: Expect,
}

use AccessKind::{Fetch, Read, Write};
use FaultKind::*;

const BOTH: &[u64] = &[PDE_ADDR, PTE_ADDR];
const PDE_ONLY: &[u64] = &[PDE_ADDR];

const ROWS: &[Row] = &[
    Row {
        rule: "4.3: a 4 KiB page: PA = PTE bits 31:12 | VA bits 11:0",
        pse: true,
        pde: pde(P | RW | US | A),
        pte: pte(P | RW | US | A | D),
        access: Read,
        state: USER,
        reads: BOTH,
        expect: Expect::Ok(0x55abc, &[]),
    },
    Row {
        rule: "4.3/4.7: PDE P = 0 is a not-present fault",
        pse: true,
        pde: RW | US | A,
        pte: 0,
        access: Read,
        state: USER,
        reads: PDE_ONLY,
        expect: Expect::Fault(NotPresent, 1),
    },
    Row {
        rule: "4.3/4.7: PTE P = 0 is a not-present fault",
        pse: true,
        pde: pde(P | RW | US | A),
        pte: pte(RW | US | A | D),
        access: Read,
        state: USER,
        reads: BOTH,
        expect: Expect::Fault(NotPresent, 0),
    },
    Row {
        rule: "4.3, Table 4-4: with CR4.PSE = 1 a PDE with PS = 1 maps a 4 MiB page",
        pse: true,
        pde: pde_4m(P | RW | US | A | D),
        pte: 0,
        access: Write,
        state: USER,
        reads: PDE_ONLY,
        expect: Expect::Ok(0x00c0_3abc, &[]),
    },
    Row {
        rule: "Table 4-4: bit 12 of a 4 MiB PDE is PAT, not address",
        pse: true,
        pde: pde_4m(P | RW | US | A | D) | (1 << 12),
        pte: 0,
        access: Read,
        state: USER,
        reads: PDE_ONLY,
        expect: Expect::Ok(0x00c0_3abc, &[]),
    },
    Row {
        rule: "Table 4-4/4.7: bit 13 of a 4 MiB PDE is reserved (no PSE-36): RSVD fault",
        pse: true,
        pde: pde_4m(P | RW | US | A | D) | (1 << 13),
        pte: 0,
        access: Read,
        state: USER,
        reads: PDE_ONLY,
        expect: Expect::Fault(Reserved, 1),
    },
    Row {
        rule: "Table 4-4/4.7: bit 21 of a 4 MiB PDE is reserved: RSVD fault",
        pse: true,
        pde: pde_4m(P | RW | US | A | D) | (1 << 21),
        pte: 0,
        access: Read,
        state: USER,
        reads: PDE_ONLY,
        expect: Expect::Fault(Reserved, 1),
    },
    Row {
        rule: "4.3: with CR4.PSE = 0 the PS bit is ignored and the PDE points to a table",
        pse: false,
        pde: pde_4m(P | RW | US | A | D) | (1 << 13),
        pte: 0,
        access: Read,
        state: USER,
        // The table is at PDE bits 31:12 = 0x00c0_2000; its entry 3 is never written.
        reads: &[PDE_ADDR, 0x00c0_2000 + 3 * 4],
        expect: Expect::Fault(NotPresent, 0),
    },
    Row {
        rule: "4.7/4.3: P = 0 is reported before reserved bits",
        pse: true,
        pde: (pde_4m(RW | US | A | D) | (1 << 13)) & !P,
        pte: 0,
        access: Read,
        state: USER,
        reads: PDE_ONLY,
        expect: Expect::Fault(NotPresent, 1),
    },
    Row {
        rule: "4.6.1: user-mode accesses need U/S = 1 in the PTE",
        pse: true,
        pde: pde(P | RW | US | A),
        pte: pte(P | RW | A | D),
        access: Read,
        state: USER,
        reads: BOTH,
        expect: Expect::Fault(Protection, 0),
    },
    Row {
        rule: "4.6.1: ... and in the PDE (U/S is ANDed over the walk)",
        pse: true,
        pde: pde(P | RW | A),
        pte: pte(P | RW | US | A | D),
        access: Read,
        state: USER,
        reads: BOTH,
        expect: Expect::Fault(Protection, 0),
    },
    Row {
        rule: "4.6.1: user-mode writes need R/W = 1 in the PTE",
        pse: true,
        pde: pde(P | RW | US | A),
        pte: pte(P | US | A | D),
        access: Write,
        state: USER,
        reads: BOTH,
        expect: Expect::Fault(Protection, 0),
    },
    Row {
        rule: "4.6.1: ... and in the PDE (R/W is ANDed over the walk)",
        pse: true,
        pde: pde(P | US | A),
        pte: pte(P | RW | US | A | D),
        access: Write,
        state: USER,
        reads: BOTH,
        expect: Expect::Fault(Protection, 0),
    },
    Row {
        rule: "4.6.1: user-mode writes ignore CR0.WP",
        pse: true,
        pde: pde(P | US | A),
        pte: pte(P | RW | US | A | D),
        access: Write,
        state: state(Privilege::User, false),
        reads: BOTH,
        expect: Expect::Fault(Protection, 0),
    },
    Row {
        rule: "4.6.1: 32-bit paging has no execute-disable: a read-only user page is fetchable",
        pse: true,
        pde: pde(P | US | A),
        pte: pte(P | US | A),
        access: Fetch,
        state: USER,
        reads: BOTH,
        expect: Expect::Ok(0x55abc, &[]),
    },
    Row {
        rule: "4.6.1: supervisor reads of user pages are allowed (CR4.SMAP = 0)",
        pse: true,
        pde: pde(P | US | A),
        pte: pte(P | US | A),
        access: Read,
        state: SUPER,
        reads: BOTH,
        expect: Expect::Ok(0x55abc, &[]),
    },
    Row {
        rule: "4.6.1: supervisor fetches from user pages are allowed (CR4.SMEP = 0)",
        pse: true,
        pde: pde(P | US | A),
        pte: pte(P | US | A),
        access: Fetch,
        state: SUPER,
        reads: BOTH,
        expect: Expect::Ok(0x55abc, &[]),
    },
    Row {
        rule: "4.6.1: with CR0.WP = 1 supervisor writes need R/W = 1",
        pse: true,
        pde: pde(P | RW | A),
        pte: pte(P | A | D),
        access: Write,
        state: SUPER,
        reads: BOTH,
        expect: Expect::Fault(Protection, 0),
    },
    Row {
        rule: "4.6.1: with CR0.WP = 1 supervisor writes to user pages need R/W = 1 too",
        pse: true,
        pde: pde(P | RW | US | A),
        pte: pte(P | US | A | D),
        access: Write,
        state: SUPER,
        reads: BOTH,
        expect: Expect::Fault(Protection, 0),
    },
    Row {
        rule: "4.6.1: with CR0.WP = 0 supervisor writes ignore R/W",
        pse: true,
        pde: pde(P | A),
        pte: pte(P | A | D),
        access: Write,
        state: SUPER_NO_WP,
        reads: BOTH,
        expect: Expect::Ok(0x55abc, &[]),
    },
    Row {
        rule: "4.8: the walker sets A in the PDE it used",
        pse: true,
        pde: pde(P | RW | US),
        pte: pte(P | RW | US | A | D),
        access: Read,
        state: USER,
        reads: BOTH,
        expect: Expect::Ok(0x55abc, &[(PDE_ADDR, pde(P | RW | US | A))]),
    },
    Row {
        rule: "4.8: A in the PDE and the PTE, root first",
        pse: true,
        pde: pde(P | RW | US),
        pte: pte(P | RW | US),
        access: Read,
        state: USER,
        reads: BOTH,
        expect: Expect::Ok(0x55abc, &[(PDE_ADDR, pde(P | RW | US | A)), (PTE_ADDR, pte(P | RW | US | A))]),
    },
    Row {
        rule: "4.8: a write sets D in the PTE that maps the page",
        pse: true,
        pde: pde(P | RW | US | A),
        pte: pte(P | RW | US | A),
        access: Write,
        state: USER,
        reads: BOTH,
        expect: Expect::Ok(0x55abc, &[(PTE_ADDR, pte(P | RW | US | A | D))]),
    },
    Row {
        rule: "4.8: a read leaves D clear",
        pse: true,
        pde: pde(P | RW | US | A),
        pte: pte(P | RW | US),
        access: Read,
        state: USER,
        reads: BOTH,
        expect: Expect::Ok(0x55abc, &[(PTE_ADDR, pte(P | RW | US | A))]),
    },
    Row {
        rule: "4.8: a write to a 4 MiB page sets A and D in its PDE (PS = 1)",
        pse: true,
        pde: pde_4m(P | RW | US),
        pte: 0,
        access: Write,
        state: USER,
        reads: PDE_ONLY,
        expect: Expect::Ok(0x00c0_3abc, &[(PDE_ADDR, pde_4m(P | RW | US | A | D))]),
    },
    Row {
        rule: "4.8 (as KVM and Bochs model Intel): a walk that faults sets no A bit",
        pse: true,
        pde: pde(P | RW | US),
        pte: 0,
        access: Read,
        state: USER,
        reads: BOTH,
        expect: Expect::Fault(NotPresent, 0),
    },
    Row {
        rule: "4.8: ... nor does a protection fault",
        pse: true,
        pde: pde(P | RW | US),
        pte: pte(P | US),
        access: Write,
        state: USER,
        reads: BOTH,
        expect: Expect::Fault(Protection, 0),
    },
    Row {
        rule: "4.9: PWT, PCD and the PTE's PAT bit (7) select memory types and do not fault",
        pse: true,
        pde: pde(P | RW | US | A | PWT | PCD),
        pte: pte(P | RW | US | A | D | PWT | PCD | PS),
        access: Read,
        state: USER,
        reads: BOTH,
        expect: Expect::Ok(0x55abc, &[]),
    },
];

fn run(row: &Row) -> (WalkOutcome, TestMem) {
    let mut mem = TestMem::new(16 << 20, LATENCY);
    mem.set(PDE_ADDR, row.pde);
    mem.set(PTE_ADDR, row.pte);
    let req = WalkRequest {
        root: PhysAddr::new(CR3),
        asid: Asid::new(1),
        vaddr: VirtAddr::new(VA),
        access: row.access,
        state: row.state,
        ad_update: AdUpdate::Hardware,
    };
    let out = walk(&X86_32::new(row.pse), &mut mem, &mut NoWalkCache, Cycle::new(100), &req);
    (out, mem)
}

#[test]
fn ia32_spec_table() {
    for row in ROWS {
        let (out, mem) = run(row);
        assert_eq!(mem.reads(), row.reads, "{}: entries read", row.rule);
        assert_eq!(out.pte_reads as usize, row.reads.len(), "{}", row.rule);
        match row.expect {
            Expect::Ok(pa, writes) => {
                let t = out.result.unwrap_or_else(|f| panic!("{}: unexpected {f:?}", row.rule));
                assert_eq!(t.phys_addr(VirtAddr::new(VA)).as_u64(), pa, "{}", row.rule);
                assert_eq!(mem.writes(), writes, "{}: entries written", row.rule);
                assert_eq!(out.pte_writes as usize, writes.len(), "{}", row.rule);
                // Every read and every write costs one memory latency, in sequence.
                let requests = (row.reads.len() + writes.len()) as u64;
                assert_eq!(out.done_at, Cycle::new(100 + requests * LATENCY), "{}: cycles", row.rule);
            }
            Expect::Fault(kind, level) => {
                let f = out.result.expect_err(row.rule);
                assert_eq!((f.kind, f.level), (kind, Some(level)), "{}", row.rule);
                assert!(mem.writes().is_empty(), "{}: a faulting walk writes nothing", row.rule);
                assert_eq!(out.done_at, Cycle::new(100 + row.reads.len() as u64 * LATENCY), "{}", row.rule);
            }
        }
    }
}

#[test]
fn ia32_translations_carry_size_rights_and_global() {
    let base = Row {
        rule: "",
        pse: true,
        pde: pde(P | US | A),
        pte: pte(P | RW | US | A | G),
        access: Read,
        state: USER,
        reads: BOTH,
        expect: Expect::Ok(0, &[]),
    };
    let t = run(&base).0.result.unwrap();
    // The PDE's R/W = 0 removes W from the effective rights; X is always granted.
    assert_eq!(t.perms, Perms::parse("r-xu").unwrap());
    assert!(t.global, "G in the PTE (CR4.PGE = 1)");
    assert!(!t.dirty);
    assert_eq!((t.page_shift.bits(), t.vpn), (12, Vpn::new(VA >> 12)));

    // G in a PDE that points to a table is ignored.
    let t = run(&Row { pde: pde(P | RW | US | A | G), pte: pte(P | RW | US | A), ..base }).0.result.unwrap();
    assert!(!t.global);

    let large = Row { pde: pde_4m(P | RW | US | A | D | G), ..base };
    let t = run(&large).0.result.unwrap();
    assert_eq!((t.page_shift.bits(), t.vpn, t.page_base), (22, Vpn::new(1), PhysAddr::new(0x00c0_0000)));
    assert!(t.global && t.dirty);
    assert_eq!(t.perms, Perms::parse("rwxu").unwrap());
}

/// A walk cache that never hits and records every fill, in order.
struct FillRecorder(Vec<WalkStart>);

impl WalkCache for FillRecorder {
    fn lookup(&mut self, now: Cycle, _: Asid, _: VirtAddr) -> Timed<Option<WalkStart>> {
        Timed { value: None, ready_at: now }
    }
    fn fill(&mut self, _: Asid, _: VirtAddr, start: WalkStart) {
        self.0.push(start);
    }
}

#[test]
fn a_pde_is_cached_only_once_its_accessed_flag_is_set() {
    // SDM 4.10.3.1: "The processor does not create a PDE-cache entry unless the
    // accessed flag is 1 in the PDE in memory; before caching a translation, the
    // processor sets the accessed flag if it is not already 1."
    let mut mem = TestMem::new(16 << 20, LATENCY);
    mem.set(PDE_ADDR, pde(P | RW | US)); // A clear
    mem.set(PTE_ADDR, 0); // not present: the walk faults at the PTE
    let req = WalkRequest {
        root: PhysAddr::new(CR3),
        asid: Asid::new(0),
        vaddr: VirtAddr::new(VA),
        access: Read,
        state: USER,
        ad_update: AdUpdate::Hardware,
    };
    let format = X86_32::new(true);
    let mut cache = FillRecorder(Vec::new());
    let out = walk(&format, &mut mem, &mut cache, Cycle::ZERO, &req);
    assert_eq!(out.result.unwrap_err().kind, NotPresent);
    assert!(cache.0.is_empty(), "a PDE whose A bit is still 0 must not be cached");
    assert_eq!(mem.get(PDE_ADDR) & A, 0, "the faulting walk sets no A bit (set on success only)");

    // Now the OS maps the page: the walk succeeds, sets the PDE's A bit, then caches it.
    mem.set(PTE_ADDR, pte(P | RW | US | A));
    let out = walk(&format, &mut mem, &mut cache, Cycle::ZERO, &req);
    assert!(out.result.is_ok());
    assert_eq!(mem.writes(), vec![(PDE_ADDR, pde(P | RW | US | A))]);
    assert_eq!(cache.0.len(), 1);
    assert_eq!((cache.0[0].level, cache.0[0].table), (0, PhysAddr::new(PT)));

    // A PDE already marked accessed is cached during the descent, even if the walk
    // then faults (the SDM allows entries with no valid translation below them).
    let mut mem = TestMem::new(16 << 20, LATENCY);
    mem.set(PDE_ADDR, pde(P | RW | US | A));
    let mut cache = FillRecorder(Vec::new());
    let out = walk(&format, &mut mem, &mut cache, Cycle::ZERO, &req);
    assert_eq!(out.result.unwrap_err().kind, NotPresent);
    assert_eq!(cache.0.len(), 1);
}
