//! The trace player: the core that replays a workload's accesses. An in-order,
//! blocking core: it charges its own cycles per access, issues the access through
//! the memory port, and waits for the answer; every latency adds.
//!
//! A trace gives whole-word accesses; an unaligned one is an alignment fault,
//! counted and skipped (never sent to memory). A store without a value in the
//! trace stores the access's sequence number, so every store leaves a distinct,
//! checkable value; every value loaded is folded into a checksum.

use crate::error::SimError;
use crate::memory::{HitRun, MemorySystem, OpenRun, RunTally};
use mmu_core::dram::DataRequests;
use mmu_core::event::{Event, Recorder};
use mmu_core::{AccessContext, Answer, Cycle, Cycles, MemRequest, Width};
use workload::{Access, TraceEvent};

pub(crate) const FNV_OFFSET: u64 = 0xcbf2_9ce4_8422_2325;
const FNV_PRIME: u64 = 0x0000_0100_0000_01b3;

/// `checksum` with a loaded `value` folded in (FNV-1a over whole words): the
/// data checksum of every core, which starts at [`FNV_OFFSET`].
#[inline(always)]
pub(crate) fn fnv_fold(checksum: u64, value: u32) -> u64 {
    (checksum ^ u64::from(value)).wrapping_mul(FNV_PRIME)
}

/// The trace player's state: its clock, its translation context, and what it saw.
pub struct TracePlayer {
    now: Cycle,
    cycles_per_access: Cycles,
    context: AccessContext,
    /// Accesses replayed (the sequence number a store without a value stores).
    accesses: u64,
    alignment_faults: u64,
    data_checksum: u64,
    /// Where the measured window began on the clock.
    measured_from: Cycle,
}

impl TracePlayer {
    /// A player at cycle 0 that charges `cycles_per_access` before each access and
    /// translates in `context`.
    pub fn new(cycles_per_access: Cycles, context: AccessContext) -> Self {
        Self {
            now: Cycle::ZERO,
            cycles_per_access,
            context,
            accesses: 0,
            alignment_faults: 0,
            data_checksum: FNV_OFFSET,
            measured_from: Cycle::ZERO,
        }
    }

    /// The player's clock.
    pub fn now(&self) -> Cycle {
        self.now
    }

    /// Charges `cycles` of work outside the accesses (a context switch).
    pub fn charge(&mut self, cycles: Cycles) {
        self.now += cycles;
    }

    /// Translates the following accesses in `context` (a context switch).
    pub fn set_context(&mut self, context: AccessContext) {
        self.context = context;
    }

    /// Zeroes what the player counts (alignment faults, the checksum) and starts
    /// measuring cycles from now: the end of a warm-up. The sequence number that
    /// value-less stores write goes on, so the data stay those of a whole run.
    pub fn reset_counters(&mut self) {
        self.alignment_faults = 0;
        self.data_checksum = FNV_OFFSET;
        self.measured_from = self.now;
    }

    /// Cycles since the measurement began (the start, or the end of a warm-up).
    pub fn measured_cycles(&self) -> u64 {
        self.now.since(self.measured_from).as_u64()
    }

    /// Counts an access that was not replayed (its process was stopped).
    pub fn skip(&mut self) {
        self.accesses += 1;
    }

    /// Accesses whose address was not word aligned.
    pub fn alignment_faults(&self) -> u64 {
        self.alignment_faults
    }

    /// FNV-1a hash of every value loaded, in order.
    pub fn data_checksum(&self) -> u64 {
        self.data_checksum
    }

    /// The word request of `access`: a store without a value in the trace stores
    /// the access's sequence number.
    #[inline(always)]
    fn request(&self, access: Access) -> MemRequest {
        let value = if access.kind == mmu_core::AccessKind::Write {
            access.value.unwrap_or(self.accesses as u32)
        } else {
            0
        };
        MemRequest { kind: access.kind, vaddr: access.vaddr, width: Width::Word, value }
    }

    /// The start of every access: counted and the CPU's own cycles charged;
    /// `false` for an unaligned address (an alignment fault, counted: the
    /// access is over).
    #[inline(always)]
    fn begin(&mut self, access: Access) -> bool {
        self.accesses += 1;
        self.now += self.cycles_per_access;
        if !access.vaddr.is_word_aligned() {
            self.alignment_faults += 1;
            return false;
        }
        true
    }

    /// Moves the clock to the answer and folds a loaded value into the checksum.
    #[inline(always)]
    fn end(&mut self, request: MemRequest, answer: Answer) {
        self.now = answer.ready_at;
        if let (Ok(value), false) = (answer.value, request.kind == mmu_core::AccessKind::Write) {
            self.fold(value);
        }
    }

    /// Replays one access through the memory system, with its hit path
    /// ([`MemorySystem::access_hit`]) inline and the rest of the way behind a
    /// call.
    ///
    /// # Errors
    /// What the memory system stops the run with; a trap is not an error (the
    /// access is over: its process was stopped).
    #[inline(always)]
    pub fn access_memory(&mut self, memory: &mut MemorySystem, access: Access) -> Result<(), SimError> {
        if !self.begin(access) {
            return Ok(());
        }
        let request = self.request(access);
        match memory.access_hit(self.now, &self.context, request) {
            Some(done) => {
                self.now = done.ready_at;
                if request.kind != mmu_core::AccessKind::Write {
                    self.fold(done.value);
                }
                Ok(())
            }
            None => self.access_translated(memory, request),
        }
    }

    /// Replays the longest prefix of `events` that are aligned word accesses
    /// the memory system's hit lane serves ([`MemorySystem::open_hit_run`]):
    /// each as [`TracePlayer::access_memory`] would, with the clock, the
    /// sequence number and the checksum kept in registers. Stops after an
    /// access that takes the clock to its end (the caller reports the
    /// overflow). How many were replayed: the caller counts them as accesses.
    #[inline(always)]
    pub fn replay_lane_hits(&mut self, memory: &mut MemorySystem, events: &[TraceEvent]) -> usize {
        match memory.open_hit_run(self.now, &self.context, self.cycles_per_access) {
            Some(OpenRun::Fixed(mut run)) if run.watches_uses() => {
                self.replay_run::<_, true>(&mut run, events)
            }
            Some(OpenRun::Fixed(mut run)) => self.replay_run::<_, false>(&mut run, events),
            Some(OpenRun::OpenPage(mut run)) if run.watches_uses() => {
                self.replay_run::<_, true>(&mut run, events)
            }
            Some(OpenRun::OpenPage(mut run)) => self.replay_run::<_, false>(&mut run, events),
            Some(OpenRun::Banked(mut run)) if run.watches_uses() => {
                self.replay_run::<_, true>(&mut run, events)
            }
            Some(OpenRun::Banked(mut run)) => self.replay_run::<_, false>(&mut run, events),
            None => 0,
        }
    }

    /// The kind of run of lane hits `memory` opens in this player's context
    /// now, by its DRAM's data path, if any.
    #[cfg(test)]
    pub(crate) fn hit_run_kind(&self, memory: &mut MemorySystem) -> Option<&'static str> {
        Some(match memory.open_hit_run(self.now, &self.context, self.cycles_per_access)? {
            OpenRun::Fixed(_) => "fixed",
            OpenRun::OpenPage(_) => "open page",
            OpenRun::Banked(_) => "banked",
        })
    }

    /// Whether `event` is an aligned access the hit lane holds: a run of hits
    /// is opened only then, since opening one costs several accesses' worth
    /// of lane probes.
    #[inline(always)]
    pub fn lane_serves(&self, memory: &MemorySystem, event: &TraceEvent) -> bool {
        match event {
            TraceEvent::Access(access) => {
                access.vaddr.is_word_aligned() && memory.lane_holds(&self.context, access.vaddr, access.kind)
            }
            TraceEvent::Switch(_) => false,
        }
    }

    /// [`TracePlayer::replay_lane_hits`] through an open run; `WATCH` is
    /// [`HitRun::watches_uses`]. The clock, the checksum and the run's counts
    /// ([`RunTally`]) are locals, in registers for the loop.
    #[inline(always)]
    fn replay_run<D: DataRequests, const WATCH: bool>(
        &mut self,
        run: &mut HitRun<'_, D>,
        events: &[TraceEvent],
    ) -> usize {
        let (mut now, mut checksum, mut tally) = (self.now, self.data_checksum, RunTally::default());
        // The sequence number of the run's first access, as `TracePlayer::request` gives it.
        let first = self.accesses + 1;
        let events = &events[..events.len().min(run.hits_before_overflow(now))];
        for event in events {
            let TraceEvent::Access(access) = *event else { break };
            if !access.vaddr.is_word_aligned() {
                break;
            }
            let Some(hit) = run.find(access.vaddr, access.kind) else { break };
            let is_write = access.kind == mmu_core::AccessKind::Write;
            let value = if is_write { access.value.unwrap_or((first + tally.hits) as u32) } else { 0 };
            let request = MemRequest { kind: access.kind, vaddr: access.vaddr, width: Width::Word, value };
            let Some(answer) = run.complete::<WATCH>(&mut tally, now, hit, request) else { break };
            now = answer.ready_at;
            if !is_write {
                checksum = fnv_fold(checksum, answer.value);
            }
            if !D::BOUNDED && now == Cycle::new(u64::MAX) {
                break;
            }
        }
        run.settle(tally, now);
        self.accesses += tally.hits;
        (self.now, self.data_checksum) = (now, checksum);
        tally.hits as usize
    }

    /// The rest of [`TracePlayer::access_memory`] past the hit path.
    #[inline(never)]
    fn access_translated(&mut self, memory: &mut MemorySystem, request: MemRequest) -> Result<(), SimError> {
        let answer = memory.access_translated(self.now, &self.context, request, mmu_core::event::Off)?;
        self.end(request, answer);
        Ok(())
    }

    /// Folds a loaded value into the checksum.
    #[inline(always)]
    fn fold(&mut self, value: u32) {
        self.data_checksum = fnv_fold(self.data_checksum, value);
    }

    /// [`TracePlayer::access_memory`], telling `rec` every step (the CPU's own
    /// cycles first): what `explain` and `run --log` use. The same state changes
    /// and cycles.
    ///
    /// # Errors
    /// What the memory system stops the run with.
    pub fn access_recorded<R: Recorder>(
        &mut self,
        memory: &mut MemorySystem,
        access: Access,
        rec: R,
    ) -> Result<(), SimError> {
        if R::ON {
            rec.record(Event::Cpu { at: self.now.as_u64(), cycles: self.cycles_per_access.as_u64() });
        }
        if !self.begin(access) {
            if R::ON {
                rec.record(Event::Trapped {
                    reason: "alignment fault: the address is not word aligned".into(),
                });
            }
            return Ok(());
        }
        let request = self.request(access);
        let answer = memory.access_recorded(self.now, &self.context, request, rec)?;
        self.end(request, answer);
        Ok(())
    }
}
