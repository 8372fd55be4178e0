//! Hand-computed Sv32 walks: for each rule of the spec, the PTEs at each level, the
//! access and privilege, and the exact outcome, PTE addresses read and cycles.

use super::*;
use crate::access::Privilege;
use crate::addr::Ppn;
use crate::format::{Radix, Sv32Pte};
use crate::testing::TestMem;
use crate::time::Cycles;

const LATENCY: u64 = 10;
const ROOT: u64 = 0x1000; // satp.PPN = 1
const L0_TABLE: u64 = 0x2000; // the level-0 table sits in frame 2
// VA 0x0040_3abc: VPN[1] = 0x001, VPN[0] = 0x003, offset 0xabc.
const VA: u32 = 0x0040_3abc;
const ROOT_PTE: u64 = ROOT + 4; // a + VPN[1] × 4
const LEAF_PTE: u64 = L0_TABLE + 3 * 4; // a + VPN[0] × 4

const V: u32 = Sv32Pte::V;
const R: u32 = Sv32Pte::R;
const W: u32 = Sv32Pte::W;
const X: u32 = Sv32Pte::X;
const U: u32 = Sv32Pte::U;
const G: u32 = Sv32Pte::G;
const A: u32 = Sv32Pte::A;
const D: u32 = Sv32Pte::D;
/// The pointer from the root to frame 2: PPN 2 << 10 | V.
const PTR: u32 = (2 << 10) | V;
/// The data frame of the 4 KiB leaf: PPN 0x55, so PA = 0x55abc.
const DATA_PPN: u32 = 0x55;

fn leaf(flags: u32) -> u32 {
    (DATA_PPN << 10) | flags
}

const USER: PrivilegeState =
    PrivilegeState { mode: Privilege::User, sum: false, mxr: false, write_protect: true };
const SUPER: PrivilegeState =
    PrivilegeState { mode: Privilege::Supervisor, sum: false, mxr: false, write_protect: true };
const SUPER_SUM: PrivilegeState =
    PrivilegeState { mode: Privilege::Supervisor, sum: true, mxr: false, write_protect: true };
const USER_MXR: PrivilegeState =
    PrivilegeState { mode: Privilege::User, sum: false, mxr: true, write_protect: true };

#[derive(Debug)]
enum Expect {
    /// Physical address, PTE writes (A/D updates) expected.
    Ok(u64, u32),
    /// Fault kind and level.
    Fault(FaultKind, u8),
}

struct Row {
    rule: &'static str,
    root_pte: u32,
    leaf_pte: u32,
    access: AccessKind,
    state: PrivilegeState,
    ad: AdUpdate,
    expect: Expect,
}

use AccessKind::{Fetch, Read, Write};
use AdUpdate::{Fault as AdFault, Hardware};
use FaultKind::*;

fn rows() -> Vec<Row> {
    let row = |rule, root_pte, leaf_pte, access, state, ad, expect| Row {
        rule,
        root_pte,
        leaf_pte,
        access,
        state,
        ad,
        expect,
    };
    vec![
        row(
            "step 8: a 4 KiB translation; pa = leaf.ppn × 4096 + offset",
            PTR,
            leaf(V | R | W | U | A | D),
            Read,
            USER,
            Hardware,
            Expect::Ok(0x55abc, 0),
        ),
        row("step 3: root pte.v = 0", 0, 0, Read, USER, Hardware, Expect::Fault(NotPresent, 1)),
        row(
            "step 3: leaf pte.v = 0",
            PTR,
            leaf(R | W | U | A | D),
            Read,
            USER,
            Hardware,
            Expect::Fault(NotPresent, 0),
        ),
        row(
            "step 3: leaf pte.r = 0 and pte.w = 1 is reserved",
            PTR,
            leaf(V | W | U | A | D),
            Read,
            USER,
            Hardware,
            Expect::Fault(Reserved, 0),
        ),
        row(
            "step 3: W-without-R is reserved even with X set",
            PTR,
            leaf(V | W | X | U | A | D),
            Fetch,
            USER,
            Hardware,
            Expect::Fault(Reserved, 0),
        ),
        row(
            "step 3: a root pointer with W and not R is reserved",
            (2 << 10) | V | W,
            0,
            Read,
            USER,
            Hardware,
            Expect::Fault(Reserved, 1),
        ),
        row(
            "step 4: a pointer at level 0 (i < 0) faults",
            PTR,
            leaf(V),
            Read,
            USER,
            Hardware,
            Expect::Fault(Reserved, 0),
        ),
        row(
            "step 5: store to a page without W",
            PTR,
            leaf(V | R | U | A | D),
            Write,
            USER,
            Hardware,
            Expect::Fault(Protection, 0),
        ),
        row(
            "step 5: fetch from a page without X",
            PTR,
            leaf(V | R | W | U | A | D),
            Fetch,
            USER,
            Hardware,
            Expect::Fault(Protection, 0),
        ),
        row(
            "step 5: fetch from an executable page",
            PTR,
            leaf(V | X | U | A),
            Fetch,
            USER,
            Hardware,
            Expect::Ok(0x55abc, 0),
        ),
        row(
            "4.3.1: load from execute-only page with MXR = 0",
            PTR,
            leaf(V | X | U | A),
            Read,
            USER,
            Hardware,
            Expect::Fault(Protection, 0),
        ),
        row(
            "4.3.1: MXR makes execute-only pages readable",
            PTR,
            leaf(V | X | U | A),
            Read,
            USER_MXR,
            Hardware,
            Expect::Ok(0x55abc, 0),
        ),
        row(
            "4.3.1: U-mode may only access pages with U = 1",
            PTR,
            leaf(V | R | W | A | D),
            Read,
            USER,
            Hardware,
            Expect::Fault(Protection, 0),
        ),
        row(
            "4.3.1: S-mode load of a U = 1 page with SUM = 0",
            PTR,
            leaf(V | R | W | U | A | D),
            Read,
            SUPER,
            Hardware,
            Expect::Fault(Protection, 0),
        ),
        row(
            "4.3.1: S-mode load of a U = 1 page with SUM = 1",
            PTR,
            leaf(V | R | W | U | A | D),
            Read,
            SUPER_SUM,
            Hardware,
            Expect::Ok(0x55abc, 0),
        ),
        row(
            "4.3.1: S-mode never executes U = 1 pages, whatever SUM",
            PTR,
            leaf(V | R | X | U | A),
            Fetch,
            SUPER_SUM,
            Hardware,
            Expect::Fault(Protection, 0),
        ),
        row(
            "4.3.1: S-mode access to a supervisor page",
            PTR,
            leaf(V | R | W | A | D),
            Write,
            SUPER,
            Hardware,
            Expect::Ok(0x55abc, 0),
        ),
        row(
            "step 7 (hardware): A = 0 on a load sets A with one PTE write",
            PTR,
            leaf(V | R | W | U),
            Read,
            USER,
            Hardware,
            Expect::Ok(0x55abc, 1),
        ),
        row(
            "step 7 (hardware): D = 0 on a store sets D with one PTE write",
            PTR,
            leaf(V | R | W | U | A),
            Write,
            USER,
            Hardware,
            Expect::Ok(0x55abc, 1),
        ),
        row(
            "step 7: D = 0 on a load needs no update",
            PTR,
            leaf(V | R | W | U | A),
            Read,
            USER,
            Hardware,
            Expect::Ok(0x55abc, 0),
        ),
        row(
            "step 7 (trap): A = 0 raises a page fault",
            PTR,
            leaf(V | R | W | U),
            Read,
            USER,
            AdFault,
            Expect::Fault(AccessedDirty, 0),
        ),
        row(
            "step 7 (trap): D = 0 on a store raises a page fault",
            PTR,
            leaf(V | R | W | U | A),
            Write,
            USER,
            AdFault,
            Expect::Fault(AccessedDirty, 0),
        ),
        row(
            "step 7 (trap): A = 1, D = 1 needs nothing",
            PTR,
            leaf(V | R | W | U | A | D),
            Write,
            USER,
            AdFault,
            Expect::Ok(0x55abc, 0),
        ),
        // Megapage: root leaf with PPN[1] = 0x003, PPN[0] = 0 maps 0x0040_0000..0x007f_ffff
        // to 0x00c0_0000..; pa = 0x003 << 22 | (VA & 0x3f_ffff) = 0xc0_0000 | 0x3abc.
        row(
            "step 8: a megapage keeps VPN[0] and the offset",
            (0x003 << 20) | V | R | W | U | A | D,
            0,
            Write,
            USER,
            Hardware,
            Expect::Ok(0x00c0_3abc, 0),
        ),
        row(
            "step 6: a megapage with PPN[0] != 0 is misaligned",
            (0x003 << 20) | (1 << 10) | V | R | U | A,
            0,
            Read,
            USER,
            Hardware,
            Expect::Fault(MisalignedSuperpage, 1),
        ),
        row(
            "step 3 / 4.3.1: D on a non-leaf PTE is reserved",
            PTR | D,
            leaf(V | R | U | A),
            Read,
            USER,
            Hardware,
            Expect::Fault(Reserved, 1),
        ),
        row(
            "step 3 / 4.3.1: A on a non-leaf PTE is reserved",
            PTR | A,
            leaf(V | R | U | A),
            Read,
            USER,
            Hardware,
            Expect::Fault(Reserved, 1),
        ),
        row(
            "step 3 / 4.3.1: U on a non-leaf PTE is reserved",
            PTR | U,
            leaf(V | R | U | A),
            Read,
            USER,
            Hardware,
            Expect::Fault(Reserved, 1),
        ),
        row(
            "step 3: reserved encodings are checked before permissions (W-only, S-mode)",
            PTR,
            leaf(V | W | A | D),
            Write,
            SUPER,
            Hardware,
            Expect::Fault(Reserved, 0),
        ),
        row(
            "4.3.1: an execute-only page is fetchable by its owner",
            PTR,
            leaf(V | X | A),
            Fetch,
            SUPER,
            Hardware,
            Expect::Ok(0x55abc, 0),
        ),
        row(
            "4.3.1: an execute-only page cannot be stored to, even with MXR",
            PTR,
            leaf(V | X | U | A | D),
            Write,
            USER_MXR,
            Hardware,
            Expect::Fault(Protection, 0),
        ),
        row(
            "4.3.1: MXR does not make readable pages executable",
            PTR,
            leaf(V | R | U | A),
            Fetch,
            USER_MXR,
            Hardware,
            Expect::Fault(Protection, 0),
        ),
        row(
            "4.3.1: S-mode store to a U = 1 page with SUM = 1",
            PTR,
            leaf(V | R | W | U | A | D),
            Write,
            SUPER_SUM,
            Hardware,
            Expect::Ok(0x55abc, 0),
        ),
        row(
            "4.3.1: S-mode store to a U = 1 page with SUM = 0",
            PTR,
            leaf(V | R | W | U | A | D),
            Write,
            SUPER,
            Hardware,
            Expect::Fault(Protection, 0),
        ),
        row(
            "4.3.1: SUM does not open S pages to U-mode",
            PTR,
            leaf(V | R | A),
            Read,
            PrivilegeState { mode: Privilege::User, sum: true, mxr: false, write_protect: true },
            Hardware,
            Expect::Fault(Protection, 0),
        ),
        row(
            "step 7 (hardware): a megapage store with A = D = 0 sets both with one write",
            (0x003 << 20) | V | R | W | U,
            0,
            Write,
            USER,
            Hardware,
            Expect::Ok(0x00c0_3abc, 1),
        ),
        row(
            "step 7 (trap): a megapage with A = 0 faults at level 1",
            (0x003 << 20) | V | R | U,
            0,
            Read,
            USER,
            AdFault,
            Expect::Fault(AccessedDirty, 1),
        ),
        row(
            "steps 6-7: a misaligned megapage faults before its A bit is considered",
            (0x003 << 20) | (1 << 10) | V | R | U,
            0,
            Read,
            USER,
            AdFault,
            Expect::Fault(MisalignedSuperpage, 1),
        ),
        row(
            "steps 5-6: the permission check comes before the alignment check",
            (0x003 << 20) | (1 << 10) | V | R | A,
            0,
            Read,
            USER,
            Hardware,
            Expect::Fault(Protection, 1),
        ),
    ]
}

fn run(row: &Row) -> (WalkOutcome, TestMem) {
    let mut mem = TestMem::new(16 << 20, LATENCY);
    mem.set(ROOT_PTE, row.root_pte);
    mem.set(LEAF_PTE, row.leaf_pte);
    let req = WalkRequest {
        root: PhysAddr::new(ROOT),
        asid: Asid::new(1),
        vaddr: VirtAddr::new(VA),
        access: row.access,
        state: row.state,
        ad_update: row.ad,
    };
    let out = walk(&Radix::sv32(), &mut mem, &mut NoWalkCache, Cycle::new(100), &req);
    (out, mem)
}

#[test]
fn sv32_spec_table() {
    for row in rows() {
        let (out, mem) = run(&row);
        let megapage = row.root_pte & (R | X) != 0;
        let root_is_pointer = row.root_pte & V != 0
            && !megapage
            && row.root_pte & (R | W) != W
            && row.root_pte & (D | A | U) == 0;
        let expected_reads: Vec<u64> =
            if root_is_pointer { vec![ROOT_PTE, LEAF_PTE] } else { vec![ROOT_PTE] };
        assert_eq!(mem.reads(), expected_reads, "{}: PTE addresses read", row.rule);
        match row.expect {
            Expect::Ok(pa, writes) => {
                let t = out.result.unwrap_or_else(|f| panic!("{}: unexpected {f:?}", row.rule));
                assert_eq!(t.phys_addr(VirtAddr::new(VA)).as_u64(), pa, "{}", row.rule);
                assert_eq!(out.pte_writes, writes, "{}: A/D writes", row.rule);
                // Each PTE read and each A/D write costs one memory latency.
                let requests = expected_reads.len() as u64 + u64::from(writes);
                assert_eq!(out.done_at, Cycle::new(100 + requests * LATENCY), "{}: cycles", row.rule);
            }
            Expect::Fault(kind, level) => {
                let f = out.result.expect_err(row.rule);
                assert_eq!((f.kind, f.level), (kind, Some(level)), "{}", row.rule);
                assert_eq!(f.vaddr, VirtAddr::new(VA));
                assert_eq!(out.pte_writes, 0, "{}: a faulting walk writes nothing", row.rule);
                assert_eq!(out.done_at, Cycle::new(100 + expected_reads.len() as u64 * LATENCY));
            }
        }
    }
}

#[test]
fn hardware_ad_update_writes_the_exact_pte() {
    let row = Row {
        rule: "",
        root_pte: PTR,
        leaf_pte: leaf(V | R | W | U),
        access: Write,
        state: USER,
        ad: Hardware,
        expect: Expect::Ok(0, 1),
    };
    let (out, mem) = run(&row);
    assert_eq!(mem.writes(), vec![(LEAF_PTE, leaf(V | R | W | U | A | D))]);
    assert!(out.result.unwrap().dirty);
    assert_eq!(mem.get(LEAF_PTE), leaf(V | R | W | U | A | D));
}

#[test]
fn translation_carries_page_size_global_and_perms() {
    let row = Row {
        rule: "",
        root_pte: PTR | G,
        leaf_pte: leaf(V | R | U | A),
        access: Read,
        state: USER,
        ad: Hardware,
        expect: Expect::Ok(0, 0),
    };
    let t = run(&row).0.result.unwrap();
    assert_eq!(t.vpn, Vpn::new(VA >> 12));
    assert_eq!(t.page_shift.bits(), 12);
    assert!(t.global, "a global pointer makes every mapping below it global");
    assert!(!t.dirty);
    assert_eq!(t.perms, Perms::parse("r--u").unwrap());

    let mega = Row {
        rule: "",
        root_pte: (0x003 << 20) | V | R | U | A | G,
        leaf_pte: 0,
        access: Read,
        state: USER,
        ad: Hardware,
        expect: Expect::Ok(0, 0),
    };
    let t = run(&mega).0.result.unwrap();
    assert_eq!((t.page_shift.bits(), t.vpn, t.page_base), (22, Vpn::new(1), PhysAddr::new(0x00c0_0000)));
    assert!(t.global);
}

#[test]
fn a_pte_outside_memory_is_an_access_fault() {
    let mut mem = TestMem::new(0x3000, LATENCY);
    // Root pointer to frame 0x100 (0x100000), beyond the 12 KiB memory.
    mem.set(ROOT_PTE, Sv32Pte::new(Ppn::new(0x100), V).raw());
    let req = WalkRequest {
        root: PhysAddr::new(ROOT),
        asid: Asid::new(0),
        vaddr: VirtAddr::new(VA),
        access: Read,
        state: USER,
        ad_update: Hardware,
    };
    let out = walk(&Radix::sv32(), &mut mem, &mut NoWalkCache, Cycle::ZERO, &req);
    assert_eq!(out.result.unwrap_err().kind, AccessFault);
    assert_eq!(mem.reads(), vec![ROOT_PTE], "the out-of-range PTE is never read");
}

/// A walk cache that always starts at level 0 in a given table: the walker must
/// then read exactly one PTE, at that table.
struct StartAtLeafTable(Vec<(Asid, VirtAddr, WalkStart)>);

impl WalkCache for StartAtLeafTable {
    fn lookup(&mut self, now: Cycle, _: Asid, _: VirtAddr) -> Timed<Option<WalkStart>> {
        let start = WalkStart { level: 0, table: PhysAddr::new(L0_TABLE), perms: Perms::ALL, global: false };
        Timed { value: Some(start), ready_at: now + Cycles::new(1) }
    }
    fn fill(&mut self, asid: Asid, va: VirtAddr, start: WalkStart) {
        self.0.push((asid, va, start));
    }
}

#[test]
fn a_walk_cache_hit_skips_the_upper_levels() {
    let mut mem = TestMem::new(16 << 20, LATENCY);
    mem.set(LEAF_PTE, leaf(V | R | U | A));
    let req = WalkRequest {
        root: PhysAddr::new(ROOT),
        asid: Asid::new(3),
        vaddr: VirtAddr::new(VA),
        access: Read,
        state: USER,
        ad_update: Hardware,
    };
    let mut cache = StartAtLeafTable(Vec::new());
    let out = walk(&Radix::sv32(), &mut mem, &mut cache, Cycle::ZERO, &req);
    assert_eq!(mem.reads(), vec![LEAF_PTE]);
    assert_eq!(out.done_at, Cycle::new(1 + LATENCY));
    assert!(cache.0.is_empty(), "no pointer was read, so nothing is filled");

    // From the root instead, the pointer read fills the cache with the level-0 table.
    let mut mem = TestMem::new(16 << 20, LATENCY);
    mem.set(ROOT_PTE, PTR);
    mem.set(LEAF_PTE, leaf(V | R | U | A));
    struct Recorder(Vec<WalkStart>);
    impl WalkCache for Recorder {
        fn lookup(&mut self, now: Cycle, _: Asid, _: VirtAddr) -> Timed<Option<WalkStart>> {
            Timed { value: None, ready_at: now }
        }
        fn fill(&mut self, _: Asid, _: VirtAddr, start: WalkStart) {
            self.0.push(start);
        }
    }
    let mut rec = Recorder(Vec::new());
    walk(&Radix::sv32(), &mut mem, &mut rec, Cycle::ZERO, &req);
    assert_eq!(
        rec.0,
        vec![WalkStart { level: 0, table: PhysAddr::new(L0_TABLE), perms: Perms::ALL, global: false }]
    );
}

#[test]
fn an_untimed_walk_sets_ad_bits_but_takes_no_time_and_counts_nothing() {
    use crate::dram::{Dram, DramConfig, DramTiming};
    use crate::port::Untimed;
    let mut dram = Dram::new(&DramConfig {
        base: 0,
        capacity_bytes: 1 << 20,
        timing: DramTiming::Fixed { latency: Cycles::new(LATENCY) },
    });
    dram.poke(PhysAddr::new(ROOT_PTE), PTR);
    dram.poke(PhysAddr::new(LEAF_PTE), leaf(V | R | W | U));
    let req = WalkRequest {
        root: PhysAddr::new(ROOT),
        asid: Asid::new(0),
        vaddr: VirtAddr::new(VA),
        access: Write,
        state: USER,
        ad_update: Hardware,
    };
    let now = Cycle::new(7);
    let out = walk(&Radix::sv32(), &mut Untimed(&mut dram), &mut NoWalkCache, now, &req);
    let t = out.result.expect("a valid leaf translates");
    assert_eq!(t.phys_addr(VirtAddr::new(VA)).as_u64(), (u64::from(DATA_PPN) << 12) | 0xabc);
    assert_eq!((out.pte_reads, out.pte_writes, out.done_at), (2, 1, now), "no time passes");
    assert_eq!(dram.peek(PhysAddr::new(LEAF_PTE)), leaf(V | R | W | U | A | D), "A/D are memory: set");
    let s = dram.stats();
    assert_eq!((s.reads, s.writes, s.total_latency_cycles), (0, 0, 0), "nothing counted");
}
