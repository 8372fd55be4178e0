//! Page-walk benches: full walks (no TLB, no walk cache) over tables built once for
//! 4096 mapped pages, per format, on fixed-latency DRAM so only the walker's own
//! work and the DRAM bookkeeping are measured.

use criterion::{BenchmarkId, Criterion, Throughput, criterion_group, criterion_main};
use mmu_core::walker::NoWalkCache;
use mmu_core::{
    AccessKind, AdUpdate, Asid, Cycle, Cycles, Dram, DramConfig, DramTiming, LevelBits, PageTableFormat,
    Paging, PagingConfig, Perms, PhysAddr, PrivilegeState, PteView, VirtAddr, WalkRequest, walk,
};
use std::hint::black_box;

const PAGES: u32 = 4096;

/// Tables mapping `PAGES` pages from VA 0x1000_0000 (every 7th page, to spread
/// them over tables), built with the format's own encoding and a bump allocator.
fn build(format: &Paging) -> (Dram, PhysAddr, Vec<VirtAddr>) {
    let g = *format.geometry();
    let mut dram = Dram::new(&DramConfig {
        base: 0,
        capacity_bytes: 16 << 30,
        timing: DramTiming::Fixed { latency: Cycles::new(100) },
    });
    let page = g.page_bytes();
    let mut next = page; // frame 0 stays unused
    let mut alloc = |bytes: u64| {
        let at = next;
        next += bytes.next_multiple_of(page);
        PhysAddr::new(at)
    };
    // A flat table may be 4 GiB: it sits at 8 GiB, out of the way of the frames.
    let root = if g.levels() == 1 { PhysAddr::new(8 << 30) } else { alloc(g.table_bytes(g.root_level())) };
    let mut vas = Vec::new();
    for i in 0..PAGES {
        let va = VirtAddr::new(0x1000_0000u32.wrapping_add((i * 7) << g.page_shift().bits()));
        let mut table = root;
        for level in (1..g.levels()).rev() {
            let pte = g.pte_addr(table, va, level);
            table = match format.decode(dram.peek(pte), level) {
                PteView::Pointer { next, .. } => next,
                _ => {
                    let t = alloc(g.table_bytes(level - 1));
                    dram.poke(pte, format.encode_pointer(t.ppn(g.page_shift())));
                    t
                }
            };
        }
        let data = alloc(page);
        let leaf = format.encode_leaf(data.ppn(g.page_shift()), Perms::parse("rw-u").unwrap(), false);
        dram.poke(g.pte_addr(table, va, 0), format.with_dirty(format.with_accessed(leaf)));
        vas.push(va);
    }
    (dram, root, vas)
}

fn walks(c: &mut Criterion) {
    let mut group = c.benchmark_group("walker/walk");
    group.throughput(Throughput::Elements(u64::from(PAGES)));
    let formats = [
        ("sv32", PagingConfig::Sv32),
        ("x86_32", PagingConfig::X86_32 { pse: true }),
        ("flat_words", PagingConfig::Flat { page_bytes: 4 }),
        ("radix_4_8_8", PagingConfig::Radix { index_bits: LevelBits::from(&[4u8, 8, 8][..]), page_bits: 12 }),
    ];
    for (name, config) in formats {
        let format = config.build();
        let (mut dram, root, vas) = build(&format);
        let mut now = Cycle::ZERO;
        group.bench_with_input(BenchmarkId::new("hit_leaf", name), &vas, |b, vas| {
            b.iter(|| {
                let mut ok = 0u32;
                for &va in vas {
                    let req = WalkRequest {
                        root,
                        asid: Asid::new(1),
                        vaddr: black_box(va),
                        access: AccessKind::Read,
                        state: PrivilegeState::default(),
                        ad_update: AdUpdate::Hardware,
                    };
                    let out = walk(&format, &mut dram, &mut NoWalkCache, now, &req);
                    now = out.done_at;
                    ok += u32::from(out.result.is_ok());
                }
                assert_eq!(ok, PAGES);
                ok
            });
        });
    }
    group.finish();
}

criterion_group!(benches, walks);
criterion_main!(benches);
