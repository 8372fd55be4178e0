//! The hit lane: the L1 TLB hits of recent pages, kept where the next access to
//! the same page finds them in one probe (the idea of QEMU's softmmu TLB, here
//! a host-side memo in front of the modelled TLBs, not a model of its own).
//!
//! A slot remembers, for one page and one kind of access (load, store, fetch),
//! in one context (ASID and privilege state), an L1 hit that needs nothing
//! more (rights permit the access, a store finds D set): the entry that holds
//! the page, the MMU epoch it was found at (the hit is stale once the TLBs
//! change) and the physical page. Replaying a slot counts the same hit and
//! touches the same entry as the TLB lookup would ([`Mmu::replay_l1`]), so the
//! lane changes the cost of a hit, never its result. Slots are direct-mapped by
//! the low bits of the page number, one table per kind; a slot of a stale
//! epoch or of another page or context is a miss that sends the access the
//! whole way.

use super::mmu::Mmu;
use mmu_core::{AccessKind, AddressSpace, PrivilegeState, VirtAddr};
use tlb::Side;

/// Slots per kind of access; a power of two.
const SLOTS: usize = 64;

/// One remembered page.
#[derive(Clone, Copy, Debug)]
struct Slot {
    /// The page number, ASID and privilege state ([`HitLane::place`]);
    /// [`Slot::EMPTY`]'s matches none.
    key: u64,
    /// The MMU epoch the hit was noted at ([`Mmu::epoch`]).
    epoch: u64,
    /// The physical address of the page's first byte less the virtual one's
    /// (wrapping): a virtual address plus `delta` is its physical one.
    delta: u64,
    /// The entry's position in the side's only L1 ([`Mmu::parts_of`]).
    entry: u32,
}

impl Slot {
    /// Matches no key: a key is below 2^59.
    const EMPTY: Slot = Slot { key: u64::MAX, epoch: 0, delta: 0, entry: 0 };
}

/// The hit lane: [`SLOTS`] slots per kind of access.
#[derive(Clone, Debug)]
pub(crate) struct HitLane {
    slots: Box<[Slot; 3 * SLOTS]>,
    /// The smallest page size's shift: pages are numbered `vaddr >> shift`.
    shift: u32,
}

/// The parts of a lane key and slot that one context at one MMU epoch shares
/// ([`HitLane::probe`]).
#[derive(Clone, Copy, Debug)]
pub(crate) struct Probe<'a> {
    slots: &'a [Slot; 3 * SLOTS],
    /// [`HitLane::shift`].
    shift: u32,
    epoch: u64,
    /// The ASID and privilege state, placed as in a key ([`context_key`]).
    context_key: u64,
}

/// The part of a key that names the context: the ASID above the page number
/// (bits 32-47) and the privilege state above it (bits 48-58: the mode, then
/// SUM, MXR and WP, one bit each).
#[inline(always)]
fn context_key(space: AddressSpace, privilege: &PrivilegeState) -> u64 {
    let privilege = u64::from(privilege.mode as u8)
        | u64::from(privilege.sum) << 8
        | u64::from(privilege.mxr) << 9
        | u64::from(privilege.write_protect) << 10;
    u64::from(space.asid.as_u16()) << 32 | privilege << 48
}

/// A hit the lane replays ([`Mmu::replay_l1`]) and where its word is.
#[derive(Clone, Copy, Debug)]
pub(crate) struct LaneHit {
    /// The physical address of the access.
    pub paddr: u64,
    pub side: Side,
    /// The entry's position in the side's only L1.
    pub entry: usize,
}

impl HitLane {
    /// An empty lane for pages of `1 << shift` bytes.
    pub(crate) fn new(shift: u32) -> Self {
        Self { slots: Box::new([Slot::EMPTY; 3 * SLOTS]), shift }
    }

    /// The slot index and key of `vaddr` for an access of `kind` in `space` at
    /// `privilege`: the page number and the context ([`context_key`]) in one
    /// word.
    #[inline(always)]
    fn place(
        &self,
        space: AddressSpace,
        privilege: &PrivilegeState,
        vaddr: VirtAddr,
        kind: AccessKind,
    ) -> (usize, u64) {
        let page = vaddr.as_u32() >> self.shift;
        let key = u64::from(page) | context_key(space, privilege);
        (kind as usize * SLOTS + (page as usize & (SLOTS - 1)), key)
    }

    /// The remembered hit for an access of `kind` to `vaddr` at `epoch`, if the
    /// kind's slot for its page was noted at that epoch in this context.
    #[inline(always)]
    pub(crate) fn find(
        &self,
        epoch: u64,
        space: AddressSpace,
        privilege: &PrivilegeState,
        vaddr: VirtAddr,
        kind: AccessKind,
    ) -> Option<LaneHit> {
        self.probe(epoch, space, privilege).find(vaddr, kind)
    }

    /// What [`HitLane::find`] compares that stays the same from one access to
    /// the next while nothing but lane hits happen: worked out once for a run of
    /// them ([`MemorySystem::open_hit_run`](super::MemorySystem::open_hit_run)).
    #[inline(always)]
    pub(crate) fn probe(&self, epoch: u64, space: AddressSpace, privilege: &PrivilegeState) -> Probe<'_> {
        Probe { slots: &self.slots, shift: self.shift, epoch, context_key: context_key(space, privilege) }
    }

    /// Remembers the L1 hit an access of `kind` to `vaddr` would find now, if
    /// any ([`Mmu::l1_hit_of`]); gives it, or `None` (the slot left as it was)
    /// when the access would not be an L1 hit that needs nothing more.
    #[inline]
    pub(crate) fn fill(
        &mut self,
        mmu: &Mmu,
        space: AddressSpace,
        privilege: &PrivilegeState,
        vaddr: VirtAddr,
        kind: AccessKind,
    ) -> Option<LaneHit> {
        let (hit, paddr) = mmu.l1_hit_of(space, privilege, vaddr, kind)?;
        let (epoch, entry) = Mmu::parts_of(&hit);
        let (index, key) = self.place(space, privilege, vaddr, kind);
        let delta = paddr.as_u64().wrapping_sub(u64::from(vaddr.as_u32()));
        self.slots[index] = Slot { key, epoch, delta, entry: entry as u32 };
        Some(LaneHit { paddr: paddr.as_u64(), side: Side::of(kind), entry })
    }

    /// Forgets every slot (a check oracle turned on).
    pub(crate) fn clear(&mut self) {
        self.slots.fill(Slot::EMPTY);
    }
}

impl Probe<'_> {
    /// [`HitLane::find`] with the context and epoch of this probe.
    #[inline(always)]
    pub(crate) fn find(&self, vaddr: VirtAddr, kind: AccessKind) -> Option<LaneHit> {
        let page = vaddr.as_u32() >> self.shift;
        let slot = &self.slots[kind as usize * SLOTS + (page as usize & (SLOTS - 1))];
        let found = slot.key == (u64::from(page) | self.context_key) && slot.epoch == self.epoch;
        found.then(|| LaneHit {
            paddr: u64::from(vaddr.as_u32()).wrapping_add(slot.delta),
            side: Side::of(kind),
            entry: slot.entry as usize,
        })
    }
}

#[cfg(test)]
mod tests {
    use crate::machine::Machine;
    use crate::testing::ConfigBuilder;
    use mmu_core::{AccessKind, Pid, VirtAddr};
    use proptest::prelude::*;
    use workload::{Access, TraceEvent};

    /// The DRAM of [`config_with`]: `Fixed`, or `Banked` with its bank index in one
    /// field of the address (open page) or in three (closed page).
    const DRAMS: [&str; 3] = [
        crate::testing::FIXED_1M,
        "(capacity_bytes: 0x100000, timing: Banked(channels: 1, ranks: 1, banks: 4, row_bytes: 1024,
          burst_bytes: 64, mapping: [Row, Bank, Rank, Channel, Column], policy: OpenPage,
          t_rcd: 4, t_cl: 4, t_rp: 4, t_ras: 9, t_burst: 1))",
        "(capacity_bytes: 0x100000, timing: Banked(channels: 2, ranks: 2, banks: 2, row_bytes: 1024,
          burst_bytes: 64, mapping: [Row, Bank, Channel, Rank, Column], policy: ClosedPage,
          t_rcd: 4, t_cl: 4, t_rp: 4, t_ras: 9, t_burst: 1))",
    ];

    /// Two processes with 8 code and 8 data pages each, over 4-entry 2-way L1s
    /// and 6 data frames with swapping: hits, misses, evictions, fences from
    /// page-outs, switches and D-bit faults all happen within a few hundred
    /// accesses. Fixed DRAM.
    fn config(
        asids: bool,
        ad_fault: bool,
        tlb_policy: &str,
        os_policy: &str,
    ) -> crate::config::MachineConfig {
        config_with(asids, ad_fault, tlb_policy, os_policy, DRAMS[0])
    }

    /// [`config`] over `dram`.
    fn config_with(
        asids: bool,
        ad_fault: bool,
        tlb_policy: &str,
        os_policy: &str,
        dram: &str,
    ) -> crate::config::MachineConfig {
        let l1 = |name: &str, serves: &str| {
            format!(
                r#"(name: "{name}", serves: {serves}, entries: 4, ways: 2, hit_latency: 1, replacement: {tlb_policy})"#
            )
        };
        let process = |name: &str| {
            format!(
                r#"(name: "{name}", regions: [(name: "code", base: 0x10000, size: 0x8000, perms: "r-x"),
                   (name: "data", base: 0x40000, size: 0x8000, perms: "rw-")])"#
            )
        };
        ConfigBuilder::default()
            .mmu(format!("(format: Sv32, ad_update: {})", if ad_fault { "Fault" } else { "Hardware" }))
            .tlb(format!(
                "(l1: [{}, {}], l2: None, asids: {})",
                l1("l1i", "Instructions"),
                l1("l1d", "Data"),
                if asids { "Tagged" } else { "Off" }
            ))
            .os(crate::testing::os_swapping(6, os_policy))
            .dram(dram)
            .processes(format!("[{}, {}]", process("a"), process("b")))
            .build()
    }

    /// `op` 0 switches to process `n % 2`; 1..=3 fetch, 4..=7 load, 8..=9 store
    /// the word `n` of page `page`; 10 loads from outside every region (a
    /// segmentation fault stops the process: its later accesses are skipped).
    fn event(op: u8, page: u32, n: u32) -> TraceEvent {
        let (kind, base) = match op {
            0 => return TraceEvent::Switch(Pid::new(n % 2)),
            1..=3 => (AccessKind::Fetch, 0x10000),
            4..=7 => (AccessKind::Read, 0x40000),
            8 | 9 => (AccessKind::Write, 0x40000),
            _ => (AccessKind::Read, 0x80000),
        };
        let vaddr = VirtAddr::new(base + (page % 8) * 4096 + (n % 1024) * 4);
        TraceEvent::Access(Access { kind, vaddr, value: None })
    }

    /// The report of `events`: with the lane, stepped as the runner steps a
    /// batch ([`Machine::step_all`]); without, one [`Machine::step`] at a time.
    fn report(config: &crate::config::MachineConfig, events: &[TraceEvent], lane: bool) -> String {
        let mut machine = Machine::new(config).expect("it boots");
        machine.set_hit_lane(lane);
        if lane {
            machine.step_all(events, "test").expect("it runs");
        } else {
            for &e in events {
                machine.step(e, "test").expect("it runs");
                if machine.is_finished() {
                    break;
                }
            }
        }
        machine.finish();
        format!("{:?}", machine.report())
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(48))]
        #[test]
        fn the_lane_changes_no_report(
            ops in proptest::collection::vec((0u8..10, 0u32..8, 0u32..1024), 1..300),
            segfaults in proptest::collection::vec(0usize..300, 0..2),
            asids in any::<bool>(),
            ad_fault in any::<bool>(),
            tlb_policy in prop_oneof![Just("Lru"), Just("Fifo"), Just("TreePlru"), Just("Random")],
            os_policy in prop_oneof![Just("Clock"), Just("Lru"), Just("Fifo")],
            window in (0u64..40, 0u64..40, proptest::option::of(1u64..50), proptest::option::of(1u64..600)),
            dram in 0usize..3,
        ) {
            let mut config = config_with(asids, ad_fault, tlb_policy, os_policy, DRAMS[dram]);
            // A window's checkpoints bound the stretches the batch path takes.
            let (skip, warmup, interval, max) = window;
            config.window = crate::window::Window { skip, warmup, max, interval };
            // Runs of one page make the lane hit; the ops choose when it changes.
            let mut ops = ops;
            for at in segfaults {
                if at < ops.len() {
                    ops[at].0 = 10;
                }
            }
            let events: Vec<TraceEvent> = ops
                .iter()
                .flat_map(|&(op, page, n)| (0..3).map(move |k| event(op, page, n + k)))
                .collect();
            prop_assert_eq!(report(&config, &events, true), report(&config, &events, false));
        }
    }

    #[test]
    fn hit_runs_open_over_split_l1s_that_stamp_and_every_dram_path() {
        // A guard that the property above compares runs of hits (not only the
        // lane's one-at-a-time path) for every DRAM data path it draws.
        for (dram, kind) in DRAMS.into_iter().zip(["fixed", "open page", "banked"]) {
            for policy in ["Lru", "Fifo", "Random"] {
                let mut machine =
                    Machine::new(&config_with(true, false, policy, "Clock", dram)).expect("it boots");
                assert_eq!(machine.hit_run_kind(), Some(kind), "{policy} over {dram}");
            }
            // Tree-PLRU keeps per-set state on use: its hits go one at a time.
            let mut machine =
                Machine::new(&config_with(true, false, "TreePlru", "Clock", dram)).expect("it boots");
            assert_eq!(machine.hit_run_kind(), None, "TreePlru over {dram}");
        }
    }

    #[test]
    fn a_clock_that_would_pass_its_end_in_a_run_stops_at_the_same_access() {
        // A run bounds its length so that no hit in it can take the clock to
        // its end (its adds do not saturate): the access that would is left to
        // the one-at-a-time path, which stops the run there, as without the lane.
        let events: Vec<TraceEvent> = (0..200).map(|n| event(4, 0, n)).collect();
        for dram in DRAMS {
            let mut config = config_with(true, false, "Lru", "Clock", dram);
            config.cpu.cycles_per_access = mmu_core::Cycles::new(1 << 57);
            let error = |lane: bool| {
                let mut machine = Machine::new(&config).expect("it boots");
                machine.set_hit_lane(lane);
                let result = if lane {
                    machine.step_all(&events, "test").map(|_| ())
                } else {
                    events.iter().try_for_each(|&e| machine.step(e, "test").map(|_| ()))
                };
                (result.expect_err("the clock passes 2^64 - 1").to_string(), machine.accesses_seen())
            };
            let (on, off) = (error(true), error(false));
            // 2^57 cycles per access: the 128th reaches 2^64 (the rest is far less than 2^57).
            assert!(on.0.contains("would pass 2^64 - 1 cycles at access 128"), "{on:?}");
            assert_eq!(on, off, "{dram}");
        }
    }

    #[test]
    fn a_store_that_needs_storage_ends_a_run_and_is_stored() {
        // Zeros stored into a page never written leave its storage
        // unallocated, so the lane holds the page for stores while the DRAM
        // has no storage for it: the first nonzero store in a run of hits
        // must end the run and allocate (the value is read back, into the
        // checksum), as the one-at-a-time path does.
        let store = |n: u32, value: u32| {
            let vaddr = VirtAddr::new(0x40000 + 4 * n);
            TraceEvent::Access(Access { kind: AccessKind::Write, vaddr, value: Some(value) })
        };
        let load = |n: u32| {
            TraceEvent::Access(Access {
                kind: AccessKind::Read,
                vaddr: VirtAddr::new(0x40000 + 4 * n),
                value: None,
            })
        };
        let mut events: Vec<TraceEvent> = (0..10).map(|n| store(n, 0)).collect();
        events.extend([store(10, 7), store(11, 0), load(10), load(11), store(12, 9), load(12)]);
        for dram in DRAMS {
            let config = config_with(true, false, "Lru", "Clock", dram);
            let on = report(&config, &events, true);
            assert_eq!(on, report(&config, &events, false), "{dram}");
        }
    }

    #[test]
    fn the_lane_serves_repeated_hits_and_a_report_sees_them() {
        // A guard that the property above compares a lane that is used: the
        // same page read 100 times is 99 L1 hits either way.
        let config = config(true, false, "Lru", "Clock");
        let events: Vec<TraceEvent> = (0..100).map(|n| event(4, 0, n)).collect();
        let on = report(&config, &events, true);
        assert_eq!(on, report(&config, &events, false));
        assert!(on.contains("hits: 99"), "{on}");
    }
}
