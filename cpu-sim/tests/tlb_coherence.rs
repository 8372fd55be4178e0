//! Property: a TLB never disagrees with a fresh page walk.
//!
//! Random multi-process workloads (loads, stores, fetches, context switches) run
//! through the real MMU, OS fault handler and DRAM, while the test plays a kernel
//! that now and then rewrites a mapped page's PTE (clears A and D as a Clock sweep
//! does, or removes write permission), or moves a level-0 page table to another
//! frame and repoints the root PTE, and shoots the address down with
//! a fence (`Mmu::fence`). After every step, every translation resident in any TLB
//! must equal what a software walk of the page table in DRAM gives now, and every
//! walk-cache entry must point at the table the root PTE points at now.

use cpu_sim::MachineConfig;
use cpu_sim::memory::mmu::Mmu;
use cpu_sim::testing::ConfigBuilder;
use mmu_core::{
    AccessKind, AddressSpace, Asid, Cycle, Dram, Fence, PageTableFormat, PhysAddr, PhysMem, Pid, PteView,
    SimRng as ChaCha8Rng, Traffic, VirtAddr,
};
use os_model::{Os, Outcome};
use proptest::prelude::*;
use rand::{RngExt, SeedableRng};

const PROCESSES: u32 = 3;

fn config(policy: &str, asids: &str, ad_update: &str, l1: (u32, u32), walk_cache_ways: u32) -> MachineConfig {
    let process = r#"(name: "p", regions: [
            (name: "code", base: 0x00400000, size: 0x10000, perms: "r-x"),
            (name: "data", base: 0x10000000, size: 0x40000, perms: "rw-"),
            (name: "far", base: 0x10400000, size: 0x8000, perms: "rw-"),
        ])"#;
    ConfigBuilder::default()
        .mmu(format!("(format: Sv32, ad_update: {ad_update})"))
        .tlb(format!(
            r#"(
        l1: [
            (name: "l1i", serves: Instructions, entries: 8, ways: 2, hit_latency: 1, replacement: {policy}),
            (name: "l1d", serves: Data, entries: {}, ways: {}, hit_latency: 1, replacement: {policy}),
        ],
        l2: Some((name: "l2", serves: Both, entries: 64, ways: 4, hit_latency: 5, replacement: {policy})),
        inclusion: Inclusive,
        asids: {asids},
        walk_caches: [(name: "pde", pte_level: 1, entries: 4, ways: {walk_cache_ways}, hit_latency: 1, replacement: {policy})],
    )"#,
            l1.0, l1.1
        ))
        .dram("(capacity_bytes: 0x1000000, timing: Fixed(latency: 10))")
        .os("(trap_cycles: 10, demand_zero_cycles: 10)")
        .processes(format!("[{process}, {process}, {process}]"))
        .build()
}

/// The leaf PTE of `vaddr` under `root`, and its address, by reading DRAM directly.
fn software_walk(
    dram: &Dram,
    format: &impl PageTableFormat,
    root: PhysAddr,
    vaddr: VirtAddr,
) -> Option<(PhysAddr, u32)> {
    let g = format.geometry();
    let mut table = root;
    for level in (0..g.levels()).rev() {
        let addr = g.pte_addr(table, vaddr, level);
        let raw = dram.peek(addr);
        match format.decode(raw, level) {
            PteView::Pointer { next, .. } => table = next,
            PteView::Leaf { .. } => return Some((addr, raw)),
            PteView::Invalid | PteView::Reserved => return None,
        }
    }
    None
}

fn check_coherence(mmu: &Mmu, dram: &Dram, os: &Os, current: Pid, untagged: bool, step: usize) {
    let format = mmu.format();
    // With ASIDs off every entry carries ASID 0 and belongs to the running process.
    let root_of = |asid: Option<Asid>| {
        let pid = if untagged {
            current
        } else {
            Pid::new(u32::from(asid.expect("the OS maps no global pages").as_u16()))
        };
        os.process(pid).expect("a process per ASID").root
    };
    for (tlb, entry) in mmu.tlbs().entries() {
        let t = entry.translation;
        let vaddr = t.vpn.base(t.page_shift);
        let Some((_, raw)) = software_walk(dram, format, root_of(entry.asid), vaddr) else {
            panic!(
                "step {step}: {tlb} caches {t:?} for {:?}, but the page table maps nothing there",
                entry.asid
            );
        };
        let PteView::Leaf { ppn, perms, global, accessed, dirty } = format.decode(raw, 0) else {
            unreachable!("software_walk returns leaves");
        };
        assert_eq!(
            t.page_base,
            ppn.base(mmu_core::PageShift::new(12)),
            "step {step}: {tlb} frame of {vaddr:?}"
        );
        assert_eq!(t.perms, perms, "step {step}: {tlb} rights of {vaddr:?}");
        assert_eq!(t.global, global, "step {step}: {tlb} global bit of {vaddr:?}");
        assert!(accessed, "step {step}: {tlb} caches {vaddr:?} whose PTE has A clear");
        assert!(!t.dirty || dirty, "step {step}: {tlb} lets stores to {vaddr:?} skip setting D");
    }
    for p in mmu.walk_caches().entries() {
        let g = format.geometry();
        let addr = g.pte_addr(root_of(p.asid), p.vaddr, p.pte_level);
        match format.decode(dram.peek(addr), p.pte_level) {
            PteView::Pointer { next, .. } => {
                assert_eq!(next, p.start.table, "step {step}: walk cache points at a stale table");
            }
            other => panic!("step {step}: walk cache holds {p:?} but the PTE is {other:?}"),
        }
    }
}

fn random_vaddr(rng: &mut ChaCha8Rng, kind: AccessKind) -> VirtAddr {
    let (base, bytes) = match kind {
        AccessKind::Fetch => (0x0040_0000, 0x10000),
        AccessKind::Read | AccessKind::Write => {
            if rng.random_range(0..8) == 0 {
                (0x1040_0000, 0x8000)
            } else {
                (0x1000_0000, 0x40000)
            }
        }
    };
    VirtAddr::new(base + rng.random_range(0..bytes / 4) * 4)
}

/// Runs `steps` random steps, checking coherence after each; returns how many
/// shootdowns, stores and table moves the run made.
fn run(config: &MachineConfig, seed: u64, steps: usize) -> (u32, u32, u32) {
    let mut dram = Dram::new(&config.dram);
    let mut mmu = Mmu::new(&config.mmu, &config.tlb, seed);
    let capacity = dram.capacity_bytes();
    let mut os = Os::boot(
        &config.os,
        &config.processes,
        mmu.format(),
        config.mmu.privilege,
        config.seed,
        capacity,
        &mut dram,
    )
    .unwrap();
    let untagged = config.tlb.asids == tlb::AsidMode::Off;
    let mut rng = ChaCha8Rng::seed_from_u64(seed);
    let mut now = Cycle::ZERO;
    let mut current = Pid::new(0);
    let space_of = |os: &Os, pid: Pid| {
        let p = os.process(pid).unwrap();
        AddressSpace { asid: p.asid, root: p.root }
    };
    let mut space = space_of(&os, current);
    let (mut shootdowns, mut stores, mut moves) = (0, 0, 0u32);
    for step in 0..steps {
        match rng.random_range(0..100) {
            0..3 => {
                current = Pid::new(rng.random_range(0..PROCESSES));
                space = space_of(&os, current);
                mmu.switch_to(space);
            }
            3..5 if os.is_running(current) => {
                // The kernel moves the level-0 table of a 4 MiB region of the running
                // process to a frame far above what the OS allocates, then shoots down
                // one address of the region: that drops the walk-cache entry too.
                let vaddr = random_vaddr(&mut rng, AccessKind::Read);
                let g = *mmu.format().geometry();
                let root_pte = g.pte_addr(space.root, vaddr, 1);
                if let PteView::Pointer { next, .. } = mmu.format().decode(dram.peek(root_pte), 1) {
                    let frame = mmu_core::Ppn::new(4000 + moves % 90);
                    moves += 1;
                    for i in 0..1024 {
                        let word = dram.peek(PhysAddr::new(next.as_u64() + i * 4));
                        dram.poke(frame.base(mmu_core::PageShift::new(12)).checked_add(i * 4).unwrap(), word);
                    }
                    dram.poke(root_pte, mmu.format().encode_pointer(frame));
                    mmu.fence(Fence::page(vaddr, space.asid));
                }
            }
            5..10 => {
                // The kernel rewrites a PTE of some process, then shoots it down.
                let pid = Pid::new(rng.random_range(0..PROCESSES));
                if !os.is_running(pid) {
                    continue; // its page tables were freed with it
                }
                let victim = space_of(&os, pid);
                let vaddr = random_vaddr(&mut rng, AccessKind::Read);
                if let Some((addr, raw)) = software_walk(&dram, mmu.format(), victim.root, vaddr) {
                    let format = mmu.format();
                    let rewritten = if rng.random_range(0..2) == 0 {
                        // Clock's sweep: clear A (and D with it, as if written back).
                        format.without_accessed(raw) & !(1 << 7)
                    } else {
                        raw & !(1 << 2) // drop W: copy-on-write style protection
                    };
                    dram.poke(addr, rewritten);
                    mmu.fence(Fence::page(vaddr, victim.asid));
                    shootdowns += 1;
                }
            }
            _ if !os.is_running(current) => {
                // The CPU skips the accesses of a stopped process (as `Machine` does):
                // its memory and page tables were freed and its ASID flushed.
            }
            _ => {
                let kind = match rng.random_range(0..10) {
                    0..2 => AccessKind::Fetch,
                    2..5 => AccessKind::Write,
                    _ => AccessKind::Read,
                };
                let vaddr = random_vaddr(&mut rng, kind);
                for _ in 0..4 {
                    let out = mmu.translate(now, &mut dram, space, &config.mmu.privilege, vaddr, kind);
                    now = out.ready_at;
                    match out.value {
                        Ok(paddr) => {
                            if kind == AccessKind::Write {
                                now = dram.write(now, paddr, step as u32, Traffic::Data);
                                stores += 1;
                            }
                            break;
                        }
                        Err(fault) => {
                            let resolution = os.handle_fault(&mut dram, current, fault).unwrap();
                            for &fence in &resolution.fences {
                                mmu.fence(fence);
                            }
                            now += resolution.cost;
                            match resolution.outcome {
                                Outcome::Retry => {}
                                // A store to a page the kernel write-protected: the OS model
                                // stops the process; later accesses still translate.
                                Outcome::Stopped(_) => break,
                            }
                        }
                    }
                }
            }
        }
        check_coherence(&mmu, &dram, &os, current, untagged, step);
    }
    (shootdowns, stores, moves)
}

#[test]
fn a_coherence_run_exercises_shootdowns_table_moves_and_stores() {
    // The property below is only as good as what its runs do. Some random seeds
    // stop every process early (a store to a page the kernel write-protected), so
    // that a run does little: this fixed one is checked to do all three.
    let (shootdowns, stores, moves) = run(&config("Lru", "Tagged", "Hardware", (16, 4), 4), 1, 1500);
    assert!(
        shootdowns > 0 && stores > 0 && moves > 0,
        "{shootdowns} shootdowns, {stores} stores, {moves} moves"
    );
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 24, ..ProptestConfig::default() })]

    #[test]
    fn a_tlb_never_disagrees_with_a_fresh_walk(
        seed in any::<u64>(),
        policy in prop::sample::select(vec!["Lru", "TreePlru", "Fifo", "Random", "Nru"]),
        asids in prop::sample::select(vec!["Tagged", "Off"]),
        ad_update in prop::sample::select(vec!["Hardware", "Fault"]),
        l1 in prop::sample::select(vec![(4u32, 1u32), (16, 4), (32, 32)]),
        walk_cache_ways in prop::sample::select(vec![1u32, 4]),
    ) {
        run(&config(policy, asids, ad_update, l1, walk_cache_ways), seed, 1500);
        // (What a run exercised is checked on a fixed seed above: a random seed may
        // stop every process early, and that is no incoherence.)
    }
}
