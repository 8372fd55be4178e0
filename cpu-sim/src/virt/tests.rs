//! The board's translation memos against full translations: the same random
//! accesses, contexts and fences on two boards, one with the fast paths off,
//! give the same answers, counters and TLB contents after every step.

use super::*;
use mmu_core::{AddressSpace, Privilege, SimRng, VirtAddr, Width};
use rand::{RngExt, SeedableRng};

const RAM: u64 = 0x8000_0000;
/// The root table, and the leaf table of the 4 KiB pages at `PAGES`.
const ROOT: u64 = RAM + 0x20_0000;
const LEAVES: u64 = ROOT + 0x1000;
/// Virtual pages 0x4000_0000.. (4 KiB each), backed from `FRAMES` on.
const PAGES: u32 = 0x4000_0000;
const FRAMES: u64 = RAM + 0x40_0000;
const MAPPED: u32 = 24;
const V: u32 = 1;
const R: u32 = 2;
const W: u32 = 4;
const X: u32 = 8;
const U: u32 = 16;
const A: u32 = 64;
const D: u32 = 128;

/// The shipped virt config with TLBs small enough to evict at every step
/// (2-entry L1s, a 4-entry L2) under `policy`.
fn config(policy: tlb::Replacement) -> MachineConfig {
    let path = concat!(env!("CARGO_MANIFEST_DIR"), "/../configs/rv32-virt.ron");
    let text = std::fs::read_to_string(path).expect("the shipped config");
    let mut config = crate::parse_config(&text, path).expect("it parses");
    for t in config.tlb.l1.iter_mut() {
        (t.entries, t.ways, t.replacement) = (2, 2, policy);
    }
    let l2 = config.tlb.l2.as_mut().expect("an L2");
    (l2.entries, l2.ways, l2.replacement) = (4, 2, policy);
    config
}

/// A board whose page table maps `MAPPED` 4 KiB pages with assorted rights
/// (some without A or D, some user pages, some read-only or execute-only, one
/// invalid) and RAM as one identity megapage.
fn board(config: &MachineConfig, fast: bool) -> VirtMemory {
    let mut bus = Bus::new(Dram::new(&config.dram), config.dram.base, None);
    let pte = |paddr: u64, flags: u32| ((paddr >> 12) as u32) << 10 | flags;
    let mut poke = |paddr: u64, word: u32| bus.load_bytes(paddr, &word.to_le_bytes());
    poke(ROOT + 4 * u64::from(PAGES >> 22), pte(LEAVES, V));
    poke(ROOT + 4 * (RAM >> 22), pte(RAM, V | R | W | X | A | D));
    let rights =
        [V | R | W | X | A | D, V | R | W | A, V | R | X | A | U, V | R | W | U, V | X | A, V | R | A, 0];
    for page in 0..MAPPED {
        let flags = rights[page as usize % rights.len()];
        poke(LEAVES + 4 * u64::from(page), pte(FRAMES + 0x1000 * u64::from(page), flags));
    }
    let mut memory = VirtMemory::new(config, bus);
    memory.fast_paths = fast;
    memory
}

/// One random access or fence, the same on both boards.
enum Op {
    Access(AccessContext, MemRequest),
    Fence(Fence),
}

/// The context and page accesses keep to for a while, as a program does.
struct Locality {
    context: AccessContext,
    page: u32,
}

fn random_context(rng: &mut SimRng) -> AccessContext {
    let privilege = PrivilegeState {
        mode: if rng.random_range(0..4) == 0 { Privilege::User } else { Privilege::Supervisor },
        sum: rng.random_range(0..4) == 0,
        mxr: rng.random_range(0..4) == 0,
        write_protect: true,
    };
    if rng.random_range(0..20) == 0 {
        return AccessContext::bare(privilege);
    }
    AccessContext::paged(
        AddressSpace { asid: Asid::new(rng.random_range(1..3)), root: PhysAddr::new(ROOT) },
        privilege,
    )
}

/// Mostly one of a few pages, now and then any mapped page, a page of the
/// megapage or an unmapped page.
fn random_page(rng: &mut SimRng) -> u32 {
    match rng.random_range(0..20) {
        0 => (RAM as u32) + 0x1000 * rng.random_range(0..64),
        1 => PAGES + 0x1000 * MAPPED,
        2..6 => PAGES + 0x1000 * rng.random_range(0..MAPPED),
        _ => PAGES + 0x1000 * rng.random_range(0..3),
    }
}

fn random_op(rng: &mut SimRng, at: &mut Locality) -> Op {
    if rng.random_range(0..200) == 0 {
        let vaddr = Some(VirtAddr::new(PAGES + 0x1000 * rng.random_range(0..MAPPED)));
        let asid = Some(Asid::new(rng.random_range(1..3)));
        let fence =
            [Fence::ALL, Fence { vaddr, asid: None }, Fence { vaddr: None, asid }][rng.random_range(0..3)];
        return Op::Fence(fence);
    }
    if rng.random_range(0..100) == 0 {
        at.context = random_context(rng);
    }
    if rng.random_range(0..8) == 0 {
        at.page = random_page(rng);
    }
    // A word, now and then a misaligned one.
    let offset = rng.random_range(0..1024) * 4 + u32::from(rng.random_range(0..30) == 0);
    let kind =
        [AccessKind::Fetch, AccessKind::Fetch, AccessKind::Read, AccessKind::Write][rng.random_range(0..4)];
    let request =
        MemRequest { kind, vaddr: VirtAddr::new(at.page + offset), width: Width::Word, value: offset };
    Op::Access(at.context, request)
}

#[test]
fn memos_answer_count_and_replace_as_full_translations_do() {
    for (seed, policy) in [
        tlb::Replacement::Lru,
        tlb::Replacement::TreePlru,
        tlb::Replacement::Fifo,
        tlb::Replacement::Random,
        tlb::Replacement::Nru,
    ]
    .into_iter()
    .enumerate()
    {
        let config = config(policy);
        let (mut fast, mut slow) = (board(&config, true), board(&config, false));
        let mut rng = SimRng::seed_from_u64(seed as u64);
        let mut now = Cycle::ZERO;
        let mut at = Locality { context: random_context(&mut rng), page: PAGES };
        for step in 0..20_000 {
            match random_op(&mut rng, &mut at) {
                Op::Fence(fence) => {
                    fast.fence(fence);
                    slow.fence(fence);
                }
                Op::Access(context, request) => {
                    let a = fast.access(now, &context, request).expect("no port error");
                    let b = slow.access(now, &context, request).expect("no port error");
                    assert_eq!(a, b, "{policy:?}, step {step}: {request:?} in {context:?}");
                    now = a.ready_at;
                }
            }
            let entries = |m: &VirtMemory| {
                let tlbs = m.mmu.tlbs();
                tlbs.l1().iter().chain(tlbs.l2()).map(tlb::Tlb::entries).collect::<Vec<_>>()
            };
            assert_eq!(entries(&fast), entries(&slow), "{policy:?}, step {step}: the TLBs' entries");
        }
        let counters = |m: &VirtMemory| {
            format!("{:?} {:?} {:?}", crate::report::MmuReport::of(&m.mmu), m.faults, m.bus.dram().stats())
        };
        assert_eq!(counters(&fast), counters(&slow), "{policy:?}");
        let l1_stats = fast.mmu.tlb_stats();
        let (hits, evictions) =
            l1_stats.iter().take(2).fold((0, 0), |(h, e), (_, t)| (h + t.hits, e + t.evictions));
        assert!(hits > 5_000 && evictions > 1_000, "{policy:?}: {hits} L1 hits, {evictions} evictions");
        assert_eq!((fast.accesses, fast.data_checksum), (slow.accesses, slow.data_checksum), "{policy:?}");
    }
}

#[test]
fn a_memo_serves_the_next_access_to_its_page_until_the_tlbs_change() {
    let config = config(tlb::Replacement::Lru);
    let mut memory = board(&config, true);
    let space = AddressSpace { asid: Asid::new(1), root: PhysAddr::new(ROOT) };
    let context =
        AccessContext::paged(space, PrivilegeState { mode: Privilege::Supervisor, ..Default::default() });
    let load = |vaddr: u32| MemRequest {
        kind: AccessKind::Read,
        vaddr: VirtAddr::new(vaddr),
        width: Width::Word,
        value: 0,
    };
    let l1d_hits = |m: &VirtMemory| m.mmu.tlb_stats()[1].1.hits;
    memory.access(Cycle::ZERO, &context, load(PAGES)).expect("a walk");
    let page = &memory.memos[Memo::slot(AccessKind::Read)];
    assert_eq!(page.page, PAGES >> 12, "the walk's translation is noted");
    let replayed = memory.replay(Cycle::new(1000), space, &context.privilege, &load(PAGES + 8));
    assert_eq!(replayed, Some((PhysAddr::new(FRAMES + 8), Cycle::new(1001))), "L1 latency 1");
    assert_eq!(l1d_hits(&memory), 1, "the replay counted its hit");
    assert_eq!(
        memory.replay(Cycle::ZERO, space, &context.privilege, &load(PAGES + 0x1000)),
        None,
        "another page"
    );
    let user = PrivilegeState { mode: Privilege::User, ..Default::default() };
    assert_eq!(memory.replay(Cycle::ZERO, space, &user, &load(PAGES)), None, "another privilege");
    let other = AddressSpace { asid: Asid::new(2), ..space };
    assert_eq!(memory.replay(Cycle::ZERO, other, &context.privilege, &load(PAGES)), None, "another ASID");
    memory.fence(Fence { vaddr: Some(VirtAddr::new(PAGES + 0x5000)), asid: None });
    assert_eq!(memory.replay(Cycle::ZERO, space, &context.privilege, &load(PAGES)), None, "after a fence");
    assert_eq!(l1d_hits(&memory), 1, "refused replays count nothing");
}
