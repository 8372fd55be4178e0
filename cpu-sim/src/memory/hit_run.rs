//! A run of hit-lane hits: the parts of the memory system a lane hit changes,
//! opened once for a run of them (the L1 TLBs' use clocks and hit counts, the
//! DRAM's data path, the OS's use tracking, the access numbering), so that
//! each hit in the run is one probe and a few register updates. Every hit
//! changes the state as [`MemorySystem::access_hit`] would.
//!
//! The replay loop keeps its state in registers: the run's counts are a
//! [`RunTally`] of locals, handed over once at the end ([`HitRun::settle`]),
//! and the loop makes no call unless the OS watches uses (a store that would
//! allocate storage ends the run instead). A count kept in a field behind the
//! run's reference, or a value live across a call, stayed in memory: one
//! store-to-load chain per hit each, which bounded the loop.

use super::MemorySystem;
use super::lane::{LaneHit, Probe};
use mmu_core::dram::{BankedDataRun, DataRequests, DataRun, FixedDataRun, OpenPageDataRun};
use mmu_core::{AccessContext, AccessKind, Cycle, Cycles, MemRequest, PhysAddr, Timed, VirtAddr};
use os_model::Os;
use tlb::{HitReplay, Side};

/// The memory system open for a run of lane hits, its data requests going to
/// `D` ([`MemorySystem::open_hit_run`]).
pub(crate) struct HitRun<'a, D: DataRequests> {
    parts: RunParts<'a>,
    data: D,
}

/// What a [`HitRun`] holds whatever its DRAM.
struct RunParts<'a> {
    probe: Probe<'a>,
    tlbs: HitReplay<'a>,
    /// The OS, when its replacement policy watches uses ([`Os::touched`]).
    os: Option<&'a mut Os>,
    /// What a hit of each side takes before its data request is issued: the
    /// CPU's own cycles and the L1's latency, added once.
    fetch_issue: Cycles,
    data_issue: Cycles,
    /// With a fixed DRAM latency ([`DataRequests::FIXED`]), what a hit of each
    /// side takes from issue to done: the above and the DRAM's, added once.
    fetch_cost: Cycles,
    data_cost: Cycles,
    /// The number of the run's first access ([`MemorySystem::issued`]), and
    /// where the number after its last is written back when dropped.
    issued: u64,
    issued_home: &'a mut u64,
}

/// The counts of a run of hits so far, kept by the caller of
/// [`HitRun::complete`] in locals and handed over once at the end
/// ([`HitRun::settle`]). Every other count of the run follows from these.
#[derive(Clone, Copy, Debug, Default)]
pub(crate) struct RunTally {
    /// Hits completed.
    pub hits: u64,
    /// Those of them that were instruction fetches.
    pub fetches: u64,
    /// Those of them that were stores.
    pub writes: u64,
}

/// A [`HitRun`] with its DRAM's data path ([`mmu_core::Dram::open_data`]).
// One per run of hits, on the stack: boxing the larger would allocate per run.
#[allow(clippy::large_enum_variant)]
pub(crate) enum OpenRun<'a> {
    Fixed(HitRun<'a, FixedDataRun<'a>>),
    OpenPage(HitRun<'a, OpenPageDataRun<'a>>),
    Banked(HitRun<'a, BankedDataRun<'a>>),
}

impl<D: DataRequests> HitRun<'_, D> {
    /// The hit the lane holds for an access of `kind` to `vaddr`, if any: a
    /// miss leaves everything as it was (the run is over for it).
    #[inline(always)]
    pub(crate) fn find(&self, vaddr: VirtAddr, kind: AccessKind) -> Option<LaneHit> {
        self.parts.probe.find(vaddr, kind)
    }

    /// Whether the OS watches uses: the loop's `WATCH` ([`HitRun::complete`]).
    pub(crate) fn watches_uses(&self) -> bool {
        self.parts.os.is_some()
    }

    /// Completes the aligned word `request` that `hit` ([`HitRun::find`])
    /// serves, issued at `now` (before the CPU's own cycles): as
    /// [`MemorySystem::replay_lane_hit`] of it at `now` plus those cycles,
    /// counted in `tally` (the run's counts so far). Its value (0 for a store)
    /// and when it is done; `None`, with nothing done, for a store that needs
    /// storage allocated (the run ends before it). `WATCH` is
    /// [`HitRun::watches_uses`]: only then may the loop call the OS.
    #[inline(always)]
    pub(crate) fn complete<const WATCH: bool>(
        &mut self,
        tally: &mut RunTally,
        now: Cycle,
        hit: LaneHit,
        request: MemRequest,
    ) -> Option<Timed<u32>> {
        let paddr = PhysAddr::new(hit.paddr);
        // Saturating addition of costs is associative: each sum is added once.
        let issue = match hit.side {
            Side::Instructions => self.parts.fetch_issue,
            Side::Data => self.parts.data_issue,
        };
        let at_dram = if D::BOUNDED { now.add_bounded(issue) } else { now + issue };
        let done = if request.kind == AccessKind::Write {
            let ready_at = self.data.write_data(at_dram, paddr, request.value)?;
            tally.writes += 1;
            Timed { value: 0, ready_at }
        } else {
            self.data.read_data(at_dram, paddr)
        };
        if WATCH {
            if let Some(os) = &mut self.parts.os {
                os.touched(paddr, self.parts.issued + tally.hits);
            }
        }
        tally.hits += 1;
        let side_hits = match hit.side {
            Side::Instructions => {
                tally.fetches += 1;
                tally.fetches
            }
            Side::Data => tally.hits - tally.fetches,
        };
        self.parts.tlbs.stamp(hit.side, hit.entry, side_hits);
        if D::FIXED {
            let cost = match hit.side {
                Side::Instructions => self.parts.fetch_cost,
                Side::Data => self.parts.data_cost,
            };
            Some(Timed { value: done.value, ready_at: now.add_bounded(cost) })
        } else {
            Some(done)
        }
    }

    /// Counts the run's hits, `tally` (what [`HitRun::complete`] counted, all
    /// of it, once, at the end, with `end` the clock then): the L1s' use
    /// clocks and hit counts, the DRAM's requests and the access numbering
    /// then read as after that many [`MemorySystem::replay_lane_hit`]s,
    /// written back when the run is dropped.
    pub(crate) fn settle(&mut self, tally: RunTally, end: Cycle) {
        self.parts.tlbs.settle(tally.fetches, tally.hits - tally.fetches);
        self.data.settle(tally.hits - tally.writes, tally.writes, end);
        self.parts.issued += tally.hits;
    }

    /// How many hits from `now` on cannot take the clock to its end: all of
    /// them (`usize::MAX`) unless the DRAM's latency is bounded
    /// ([`DataRequests::BOUNDED`]), when each takes at most the dearer side's
    /// issue and that bound (then the caller need not look, and the run's
    /// adds need not saturate).
    #[inline]
    pub(crate) fn hits_before_overflow(&self, now: Cycle) -> usize {
        if !D::BOUNDED {
            return usize::MAX;
        }
        let issue = self.parts.fetch_issue.max(self.parts.data_issue);
        let step = (issue + self.data.latency_bound()).as_u64();
        if step == 0 {
            return usize::MAX;
        }
        usize::try_from((u64::MAX - 1 - now.as_u64().min(u64::MAX - 1)) / step).unwrap_or(usize::MAX)
    }
}

impl Drop for RunParts<'_> {
    fn drop(&mut self) {
        *self.issued_home = self.issued;
    }
}

impl MemorySystem {
    /// Whether the hit lane holds an access of `kind` to `vaddr` in
    /// `context` now: the first access of a run worth opening
    /// ([`MemorySystem::open_hit_run`]).
    #[inline(always)]
    pub(crate) fn lane_holds(&self, context: &AccessContext, vaddr: VirtAddr, kind: AccessKind) -> bool {
        let Some(space) = context.space else { return false };
        self.lane.find(self.mmu.epoch(), space, &context.privilege, vaddr, kind).is_some()
    }

    /// The memory system open for a run of lane hits in `context` from `now`
    /// on, whose accesses each take `cpu_cycles` of the core's own
    /// ([`HitRun`]); `None`
    /// when the lane serves nothing (no translation, the lane off, an oracle
    /// on) or the L1s cannot be opened ([`tlb::TlbHierarchy::open_replay`]):
    /// then each access goes through [`MemorySystem::access_hit`].
    #[inline]
    pub(crate) fn open_hit_run(
        &mut self,
        now: Cycle,
        context: &AccessContext,
        cpu_cycles: Cycles,
    ) -> Option<OpenRun<'_>> {
        let space = context.space?;
        if !self.lane_on || self.oracle.is_some() {
            return None;
        }
        let probe = self.lane.probe(self.mmu.epoch(), space, &context.privilege);
        let tlbs = self.mmu.open_replay()?;
        let issued = self.issued;
        let os = if self.os.watches_uses() { Some(&mut self.os) } else { None };
        let issued_home = &mut self.issued;
        let data = self.dram.open_data(now);
        let fixed = match &data {
            DataRun::Fixed(run) => run.latency(),
            DataRun::OpenPage(_) | DataRun::Banked(_) => Cycles::ZERO,
        };
        let issue = |side| cpu_cycles + tlbs.latency(side);
        let (fetch_issue, data_issue) = (issue(Side::Instructions), issue(Side::Data));
        let (fetch_cost, data_cost) = (fetch_issue + fixed, data_issue + fixed);
        let parts =
            RunParts { probe, tlbs, os, fetch_issue, data_issue, fetch_cost, data_cost, issued, issued_home };
        Some(match data {
            DataRun::Fixed(data) => OpenRun::Fixed(HitRun { parts, data }),
            DataRun::OpenPage(data) => OpenRun::OpenPage(HitRun { parts, data }),
            DataRun::Banked(data) => OpenRun::Banked(HitRun { parts, data }),
        })
    }
}
