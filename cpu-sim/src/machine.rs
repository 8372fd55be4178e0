//! The machine: a core (the trace player) and the memory system behind its
//! memory port, with what sits between them in a real system: the current
//! process, context switches, and the end of a process.

use crate::config::MachineConfig;
use crate::curve::CurveRun;
use crate::error::SimError;
use crate::memory::MemorySystem;
use crate::player::TracePlayer;
use crate::report::Report;
use crate::watch::{Told, Watch};
use crate::window::{IntervalColumns, IntervalRecord, WindowReport};
use mmu_core::event::{Event, EventLog, LogTo, Recorder};
use mmu_core::{AccessContext, AddressSpace, Dram, Pid};
use os_model::{Future, Os};
use std::cell::RefCell;
use workload::{Access, TraceEvent};

/// A whole machine: trace player, MMU, DRAM and OS.
pub struct Machine {
    config: MachineConfig,
    memory: MemorySystem,
    player: TracePlayer,
    current: Pid,
    accesses: u64,
    skipped_accesses: u64,
    context_switches: u64,
    future_known: bool,
    /// Accesses read from the workload so far, skipped ones included.
    seen: u64,
    /// `window.skip`: accesses below this count are discarded.
    skip_until: u64,
    /// The next count of `seen` at which the window does something (the end of
    /// the warm-up, an interval's end, `max`): one compare per access.
    checkpoint: u64,
    /// A context switch read among the skipped accesses, performed when they end.
    pending_switch: Option<Pid>,
    window: WindowReport,
    finished: bool,
    /// The counters at the start of the current interval, and the records so far.
    interval_base: Vec<u64>,
    intervals: Vec<IntervalRecord>,
    /// A miss-ratio curve of one TLB (at its position in the hierarchy), built as
    /// the run goes.
    curve: Option<(usize, CurveRun)>,
    /// Who is told the recorded steps (`explain`, `run --log`), if anyone; the
    /// flag is what the hot path tests.
    watch: Option<Box<dyn Watch>>,
    watching: bool,
    /// Accesses below this count take the cold path: `skip_until`, or every
    /// access while watched.
    slow_until: u64,
    /// How many of the next accesses [`Machine::step_all`] may take through
    /// [`Machine::access_between_checkpoints`]: none in the cold region
    /// (`slow_until`) or with a curve to drain, else those before the one that
    /// reaches the checkpoint. Worked out again after every other step.
    fast_left: u64,
}

impl Machine {
    /// Builds and boots a machine from a validated config.
    ///
    /// # Errors
    /// `OutOfMemory` if DRAM cannot hold the processes' root tables.
    pub fn new(config: &MachineConfig) -> Result<Self, SimError> {
        let memory = MemorySystem::boot(config)?;
        let current = Pid::new(0);
        let first =
            memory.os.process(current).ok_or_else(|| SimError::Internal("no process to run".into()))?;
        let context =
            AccessContext::paged(AddressSpace { asid: first.asid, root: first.root }, config.mmu.privilege);
        Ok(Self {
            config: config.clone(),
            memory,
            player: TracePlayer::new(config.cpu.cycles_per_access, context),
            current,
            accesses: 0,
            skipped_accesses: 0,
            context_switches: 0,
            future_known: false,
            seen: 0,
            skip_until: config.window.skip,
            checkpoint: 0,
            pending_switch: None,
            window: WindowReport::default(),
            finished: false,
            interval_base: Vec::new(),
            intervals: Vec::new(),
            curve: None,
            watch: None,
            watching: false,
            slow_until: config.window.skip,
            fast_left: 0,
        }
        .with_first_checkpoint())
    }

    fn with_first_checkpoint(mut self) -> Self {
        self.checkpoint = self.next_checkpoint();
        self.interval_base = self.interval_counters();
        self
    }

    /// The next value of `seen` at which the window acts, or `u64::MAX`.
    fn next_checkpoint(&self) -> u64 {
        let w = &self.config.window;
        let measuring_from = w.skip.saturating_add(w.warmup);
        if self.seen < measuring_from {
            return measuring_from;
        }
        let measured = self.seen - measuring_from;
        let mut next = u64::MAX;
        if let Some(every) = w.interval {
            next = next.min(measuring_from.saturating_add((measured / every + 1).saturating_mul(every)));
        }
        if let Some(max) = w.max {
            next = next.min(measuring_from.saturating_add(max));
        }
        next
    }

    /// What the window does when `seen` reaches the checkpoint.
    #[cold]
    fn cross_checkpoint(&mut self) {
        let w = self.config.window;
        let measuring_from = w.skip.saturating_add(w.warmup);
        if self.seen == measuring_from && w.warmup > 0 {
            self.reset_counters();
        }
        if self.seen > measuring_from {
            let measured = self.seen - measuring_from;
            if w.interval.is_some_and(|every| measured > 0 && measured % every == 0) {
                self.close_interval();
            }
            if w.max == Some(measured) {
                self.finished = true;
                self.window.stopped_at_max = true;
            }
        }
        self.checkpoint = self.next_checkpoint();
    }

    /// Builds a miss-ratio curve of the TLB named `name` over `geometries` as the
    /// run goes (see [`crate::curve`]).
    ///
    /// # Errors
    /// No TLB of that name, or a geometry that breaks a TLB's rules.
    pub fn observe_tlb(&mut self, name: &str, geometries: &[mrc::Geometry]) -> Result<(), String> {
        let curve = CurveRun::new(name, geometries).map_err(|e| e.to_string())?;
        let names: Vec<String> = self.memory.mmu().tlb_stats().into_iter().map(|(n, _)| n).collect();
        let position =
            self.memory.mmu.tlb_position(name).ok_or_else(|| {
                format!("the config has no TLB named {name:?} (it has {})", names.join(", "))
            })?;
        if let Some(tlb) = self.memory.mmu.tlb_at_mut(position) {
            tlb.start_tap();
        }
        self.curve = Some((position, curve));
        // The interval columns now include the curve's.
        self.interval_base = self.interval_counters();
        Ok(())
    }

    /// The curve built so far.
    pub fn curve(&mut self) -> Option<&CurveRun> {
        self.drain_curve();
        self.curve.as_ref().map(|(_, c)| c)
    }

    #[inline]
    fn drain_curve(&mut self) {
        if let Some((position, curve)) = &mut self.curve {
            if let Some(tap) = self.memory.mmu.tap_at_mut(*position) {
                curve.drain(tap);
            }
        }
    }

    /// Forgets every counter, keeping all state: the end of a warm-up.
    fn reset_counters(&mut self) {
        self.drain_curve();
        if let Some((_, curve)) = &mut self.curve {
            curve.start_counting();
        }
        self.memory.reset_counters();
        self.player.reset_counters();
        self.accesses = 0;
        self.skipped_accesses = 0;
        self.context_switches = 0;
        self.interval_base = self.interval_counters();
    }

    /// Whether the measured window is over (`max` reached): the runner stops.
    pub fn is_finished(&self) -> bool {
        self.finished
    }

    /// The interval columns' names, in record order.
    pub fn interval_columns(&self) -> IntervalColumns {
        let mut names = vec!["accesses".to_string(), "cycles".to_string()];
        crate::interval::memory_columns(self.memory.mmu(), &mut names);
        if let Some((_, curve)) = &self.curve {
            // A curve's columns (`mmu-sim mrc --interval`): the observed TLB's
            // references, then each geometry's LRU misses.
            names.push("mrc.references".to_string());
            for p in curve.points() {
                names.push(format!("mrc.misses.{}x{}", p.entries, p.ways));
            }
        }
        IntervalColumns(names)
    }

    /// The interval columns' counters now (totals since the start of the measurement).
    fn interval_counters(&self) -> Vec<u64> {
        let mut values = vec![self.accesses, self.player.measured_cycles()];
        let os = self.memory.os.stats();
        let dram = self.memory.dram.stats();
        crate::interval::memory_values(
            self.memory.mmu(),
            self.memory.faults(),
            Some(&os),
            &dram,
            &mut values,
        );
        if let Some((_, curve)) = &self.curve {
            let points = curve.points();
            values.push(points.first().map_or(0, |p| p.references));
            values.extend(points.iter().map(|p| p.misses));
        }
        values
    }

    fn close_interval(&mut self) {
        self.drain_curve();
        let now = self.interval_counters();
        let values = now.iter().zip(&self.interval_base).map(|(n, b)| n.saturating_sub(*b)).collect();
        self.intervals.push(IntervalRecord { interval: self.intervals.len() as u64, values });
        self.interval_base = now;
    }

    /// Ends the run: records the last, partial interval. Call once after the last event.
    pub fn finish(&mut self) {
        let w = self.config.window;
        let measuring = self.seen > w.skip.saturating_add(w.warmup);
        self.drain_curve();
        if w.interval.is_some() && measuring && self.interval_counters().first() != self.interval_base.first()
        {
            self.close_interval();
        }
    }

    /// The interval records so far.
    pub fn intervals(&self) -> &[IntervalRecord] {
        &self.intervals
    }

    /// The config the machine was built from.
    pub fn config(&self) -> &MachineConfig {
        &self.config
    }

    /// Turns on the data-integrity oracle: every load is checked against a plain
    /// reference memory, and a mismatch stops the run with `CheckFailed`.
    pub fn enable_check(&mut self) {
        self.memory.enable_check();
    }

    /// Whether the replacement policy (OPT) must see the workload before the run
    /// (the runner reads it ahead and calls [`Machine::set_future`]).
    pub fn needs_future(&self) -> bool {
        self.memory.os.needs_future() && !self.future_known
    }

    /// Gives OPT the future of the workload about to run.
    pub fn set_future(&mut self, future: Future) {
        self.memory.os.set_future(future);
        self.future_known = true;
    }

    /// Performs one event; `origin` names the workload in errors.
    ///
    /// # Errors
    /// A switch to an unknown process, memory exhaustion, or an internal error.
    #[inline]
    pub fn step(&mut self, event: TraceEvent, origin: &str) -> Result<(), SimError> {
        match event {
            TraceEvent::Access(access) => self.access(access),
            TraceEvent::Switch(pid) if self.watching => self.switch_watched(pid, origin),
            TraceEvent::Switch(pid) if self.seen < self.skip_until => self.defer_switch(pid, origin),
            TraceEvent::Switch(pid) => self.switch(pid, origin),
        }
    }

    /// Turns the memory system's hit lane on (the default) or off
    /// ([`MemorySystem::set_hit_lane`]): the same results either way.
    pub fn set_hit_lane(&mut self, on: bool) {
        self.memory.set_hit_lane(on);
    }

    /// Performs `events` in order ([`Machine::step`]) until the run is finished
    /// ([`Machine::is_finished`]): how many were performed.
    ///
    /// # Errors
    /// As [`Machine::step`]: the events before the failing one are performed.
    #[inline]
    pub fn step_all(&mut self, events: &[TraceEvent], origin: &str) -> Result<usize, SimError> {
        self.fast_left = self.accesses_before_checkpoint();
        let mut next = 0;
        while next < events.len() {
            if self.fast_left > 0 && self.memory.lane_hit_last() && self.hit_run_ahead(&events[next..]) {
                next += self.replay_lane_hits(&events[next..])?;
                if next == events.len() {
                    break;
                }
            }
            let event = events[next];
            next += 1;
            if let TraceEvent::Access(access) = event {
                if self.fast_left > 0 {
                    self.fast_left -= 1;
                    self.access_between_checkpoints(access)?;
                    continue;
                }
            }
            self.step(event, origin)?;
            if self.finished {
                return Ok(next);
            }
            self.fast_left = self.accesses_before_checkpoint();
        }
        Ok(events.len())
    }

    /// Whether a run of hits is worth opening at `events`: the last access
    /// taken alone was a lane hit and the lane holds the next one (opening a
    /// run costs a few hits' worth, so a workload whose accesses mostly miss
    /// the lane does not try at each).
    #[inline(always)]
    fn hit_run_ahead(&self, events: &[TraceEvent]) -> bool {
        events.first().is_some_and(|first| self.player.lane_serves(&self.memory, first))
    }

    /// The longest run of the next accesses (before the checkpoint) that the
    /// hit lane serves, replayed ([`TracePlayer::replay_lane_hits`]) and
    /// counted as [`Machine::access_between_checkpoints`] counts them: how many.
    ///
    /// # Errors
    /// The clock overflowed.
    #[inline(never)]
    fn replay_lane_hits(&mut self, events: &[TraceEvent]) -> Result<usize, SimError> {
        if !self.memory.os.is_running(self.current) {
            return Ok(0);
        }
        let limit = events.len().min(usize::try_from(self.fast_left).unwrap_or(usize::MAX));
        let done = self.player.replay_lane_hits(&mut self.memory, &events[..limit]);
        let n = done as u64;
        self.accesses += n;
        self.seen += n;
        self.fast_left -= n;
        self.memory.os.count_accesses(self.current, n);
        self.check_clock()?;
        Ok(done)
    }

    /// The kind of run of lane hits the memory system opens for this machine
    /// now, by its DRAM's data path ("fixed", "open page" or "banked"), if
    /// any ([`MemorySystem::open_hit_run`]), for tests.
    #[cfg(test)]
    pub(crate) fn hit_run_kind(&mut self) -> Option<&'static str> {
        self.player.hit_run_kind(&mut self.memory)
    }

    /// How many accesses from now [`Machine::access_between_checkpoints`] can
    /// do as [`Machine::access`] would: those before the next checkpoint, past
    /// the cold region and with no curve to drain; else none.
    #[inline]
    fn accesses_before_checkpoint(&self) -> u64 {
        if self.seen < self.slow_until || self.curve.is_some() {
            return 0;
        }
        // `seen < checkpoint` always holds: the access that reaches it crosses it.
        self.checkpoint.saturating_sub(self.seen).saturating_sub(1)
    }

    /// [`Machine::access`] of an access that neither starts in the cold region
    /// nor reaches a checkpoint, with no curve to drain.
    #[inline(always)]
    fn access_between_checkpoints(&mut self, access: Access) -> Result<(), SimError> {
        self.accesses += 1;
        if self.memory.os.count_access_if_running(self.current) {
            self.player.access_memory(&mut self.memory, access)?;
        } else {
            self.skipped_accesses += 1;
            self.player.skip();
        }
        self.seen += 1;
        self.check_clock()
    }

    /// Gives the CPU to `pid`: a context switch, charged and counted, unless it
    /// runs already.
    ///
    /// # Errors
    /// `UnknownProcess` if the config declares no such process.
    pub fn switch(&mut self, pid: Pid, origin: &str) -> Result<(), SimError> {
        let count = self.config.processes.len();
        let process = self.memory.os.process(pid).ok_or_else(|| SimError::UnknownProcess {
            origin: origin.to_string(),
            pid,
            count,
        })?;
        if pid != self.current {
            let space = AddressSpace { asid: process.asid, root: process.root };
            self.current = pid;
            self.player.set_context(AccessContext::paged(space, self.config.mmu.privilege));
            self.memory.set_current(pid);
            self.memory.mmu.switch_to(space);
            self.context_switches += 1;
            self.player.charge(self.config.os.context_switch_cycles);
            self.memory.os.count_switch_in(pid);
            self.check_clock()?;
        }
        Ok(())
    }

    /// A switch read among the skipped accesses: checked now, performed when they end.
    #[cold]
    fn defer_switch(&mut self, pid: Pid, origin: &str) -> Result<(), SimError> {
        if self.memory.os.process(pid).is_none() {
            return self.switch(pid, origin);
        }
        self.pending_switch = Some(pid);
        Ok(())
    }

    /// One access discarded by `window.skip`.
    #[cold]
    fn skip(&mut self) -> Result<(), SimError> {
        self.seen += 1;
        self.window.skipped += 1;
        if self.seen == self.skip_until {
            if let Some(pid) = self.pending_switch.take() {
                // Through the watch: `run --log` tells it before the first measured access.
                self.switch_watched(pid, "workload")?;
            }
        }
        if self.seen == self.checkpoint {
            self.cross_checkpoint();
        }
        Ok(())
    }

    /// One access of the running process: replayed, or skipped if it was stopped
    /// (or discarded by the window's `skip`).
    ///
    /// # Errors
    /// What the memory system stops the run with.
    #[inline]
    pub fn access(&mut self, access: Access) -> Result<(), SimError> {
        // One compare serves the window's skip and a watch (then `slow_until` is
        // `u64::MAX`), so watching costs the unwatched hot path nothing.
        if self.seen < self.slow_until {
            return self.access_slow(access);
        }
        self.access_unskipped(access)
    }

    #[cold]
    #[inline(never)]
    fn access_slow(&mut self, access: Access) -> Result<(), SimError> {
        if self.watching {
            return self.access_watched(access);
        }
        self.access_plain(access)
    }

    /// Has `watch` told the steps it asks for from now on (see [`Watch`]).
    pub fn set_watch(&mut self, watch: Box<dyn Watch>) {
        self.watch = Some(watch);
        self.watching = true;
        self.slow_until = u64::MAX;
    }

    /// Takes the watch back (to read what it was told).
    pub fn take_watch(&mut self) -> Option<Box<dyn Watch>> {
        self.watching = false;
        self.slow_until = self.skip_until;
        self.watch.take()
    }

    #[cold]
    #[inline(never)]
    fn access_watched(&mut self, access: Access) -> Result<(), SimError> {
        let Some(mut watch) = self.watch.take() else {
            self.watching = false;
            self.slow_until = self.skip_until;
            return self.access_plain(access);
        };
        if self.seen < self.skip_until {
            // Skipped: nothing to tell, and the watch stays in place for the
            // switch deferred to the skip's end (see `skip`).
            self.watch = Some(watch);
            return self.access_plain(access);
        }
        let (index, pid) = (self.seen, self.current);
        let result = if watch.wants(index, pid, &access) {
            let log = RefCell::new(EventLog::default());
            let start = self.player.now();
            let result = self.step_recorded(TraceEvent::Access(access), "workload", LogTo(&log));
            let cycles = self.player.now().since(start).as_u64();
            watch.told(Told { index, pid, access: Some(access), events: log.into_inner().events, cycles });
            result
        } else {
            self.access_plain(access)
        };
        if watch.finished() {
            self.finished = true;
        }
        self.watch = Some(watch);
        result
    }

    #[cold]
    fn switch_watched(&mut self, pid: Pid, origin: &str) -> Result<(), SimError> {
        let unwatched = |m: &mut Self| {
            if m.seen < m.skip_until { m.defer_switch(pid, origin) } else { m.switch(pid, origin) }
        };
        let Some(mut watch) = self.watch.take() else {
            return unwatched(self);
        };
        let index = self.seen;
        let result = if self.seen >= self.skip_until && watch.wants_switch(index) {
            let log = RefCell::new(EventLog::default());
            let start = self.player.now();
            let result = self.step_recorded(TraceEvent::Switch(pid), origin, LogTo(&log));
            let cycles = self.player.now().since(start).as_u64();
            let events = log.into_inner().events;
            if !events.is_empty() {
                watch.told(Told { index, pid, access: None, events, cycles });
            }
            result
        } else {
            unwatched(self)
        };
        self.watch = Some(watch);
        result
    }

    fn access_plain(&mut self, access: Access) -> Result<(), SimError> {
        if self.seen < self.skip_until {
            return self.skip();
        }
        self.access_unskipped(access)
    }

    /// One access past the window's skip.
    #[inline(always)]
    fn access_unskipped(&mut self, access: Access) -> Result<(), SimError> {
        self.accesses += 1;
        if !self.memory.os.count_access_if_running(self.current) {
            self.skipped_accesses += 1;
            self.player.skip();
        } else {
            self.player.access_memory(&mut self.memory, access)?;
            if self.curve.is_some() {
                self.drain_curve();
            }
        }
        self.access_done()
    }

    /// The end of every access past the skip: the window's checkpoints, then the
    /// clock's limit.
    #[inline(always)]
    fn access_done(&mut self) -> Result<(), SimError> {
        self.seen += 1;
        if self.seen == self.checkpoint {
            self.cross_checkpoint();
        }
        self.check_clock()
    }

    /// [`Machine::step`], telling `rec` every step of an access (see
    /// [`MemorySystem::access_recorded`]) and each context switch. The same state
    /// changes and cycles as `step`.
    ///
    /// # Errors
    /// As [`Machine::step`].
    pub fn step_recorded<R: Recorder>(
        &mut self,
        event: TraceEvent,
        origin: &str,
        rec: R,
    ) -> Result<(), SimError> {
        match event {
            TraceEvent::Access(access) if self.seen >= self.skip_until => {
                self.accesses += 1;
                if !self.memory.os.count_access_if_running(self.current) {
                    self.skipped_accesses += 1;
                    self.player.skip();
                    if R::ON {
                        rec.record(Event::Trapped {
                            reason: format!(
                                "skipped: process {} was stopped by a segmentation fault",
                                self.current
                            ),
                        });
                    }
                } else {
                    self.memory.os.set_narrating(R::ON);
                    let done = self.player.access_recorded(&mut self.memory, access, rec);
                    self.memory.os.set_narrating(false);
                    done?;
                    if self.curve.is_some() {
                        self.drain_curve();
                    }
                }
                self.access_done()
            }
            TraceEvent::Switch(pid) if R::ON && self.seen >= self.skip_until && pid != self.current => {
                let (from, at) = (self.current, self.player.now());
                self.switch(pid, origin)?;
                rec.record(Event::ContextSwitch {
                    at: at.as_u64(),
                    from: from.as_u32(),
                    to: pid.as_u32(),
                    cycles: self.player.now().since(at).as_u64(),
                    flushed: self.config.tlb.asids == tlb::AsidMode::Off,
                });
                Ok(())
            }
            other => self.step(other, origin),
        }
    }

    /// Accesses read from the workload so far (skipped ones included): the
    /// number of the next access, counting from 0.
    pub fn accesses_seen(&self) -> u64 {
        self.seen
    }

    /// The process running now.
    pub fn current(&self) -> Pid {
        self.current
    }

    /// Stops the run when the clock has saturated (`Cycle + Cycles` saturates
    /// rather than wraps): every later cycle count would be wrong.
    #[inline]
    fn check_clock(&self) -> Result<(), SimError> {
        if self.player.now() == mmu_core::Cycle::new(u64::MAX) {
            return Err(self.clock_overflow());
        }
        Ok(())
    }

    #[cold]
    fn clock_overflow(&self) -> SimError {
        let os = &self.config.os;
        let tlb_names: Vec<String> = self
            .config
            .tlb
            .levels()
            .map(|t| format!("tlb `{}` hit_latency", t.name))
            .chain(self.config.tlb.walk_caches.iter().map(|w| format!("walk cache `{}` hit_latency", w.name)))
            .collect();
        let mut costs: Vec<(&str, mmu_core::Cycles)> = self
            .config
            .tlb
            .levels()
            .map(|t| t.hit_latency)
            .chain(self.config.tlb.walk_caches.iter().map(|w| w.hit_latency))
            .zip(&tlb_names)
            .map(|(c, n)| (n.as_str(), c))
            .collect();
        match &self.config.dram.timing {
            mmu_core::DramTiming::Fixed { latency } => costs.push(("dram.timing latency", *latency)),
            mmu_core::DramTiming::Banked { t_rcd, t_cl, t_rp, t_ras, t_burst, .. } => costs.push((
                "dram.timing (t_rcd + t_cl + t_rp + t_ras + t_burst)",
                *t_rcd + *t_cl + *t_rp + *t_ras + *t_burst,
            )),
        }
        costs.extend([
            ("cpu.cycles_per_access", self.config.cpu.cycles_per_access),
            ("os.trap_cycles", os.trap_cycles),
            ("os.demand_zero_cycles", os.demand_zero_cycles),
            ("os.accessed_dirty_cycles", os.accessed_dirty_cycles),
            ("os.swap_in_cycles", os.swap_in_cycles),
            ("os.evict_cycles", os.evict_cycles),
            ("os.context_switch_cycles", os.context_switch_cycles),
        ]);
        if let Some(swap) = &os.swap {
            costs.push(("os.swap.read_latency", swap.read_latency));
            costs.push(("os.swap.write_latency", swap.write_latency));
        }
        let (name, largest) =
            costs.into_iter().max_by_key(|(_, c)| c.as_u64()).unwrap_or(("", mmu_core::Cycles::ZERO));
        let cause = if largest.as_u64() >= 1 << 40 {
            format!("`{name}` is {} cycles; make it smaller", largest.as_u64())
        } else {
            format!(
                "the costs of {} accesses add up past 2^64 cycles (the largest OS or CPU cost is `{name}`, {} cycles); \
                 check the config's latencies: TLB `hit_latency`, `dram.timing`, the OS's costs",
                self.accesses,
                largest.as_u64()
            )
        };
        SimError::ClockOverflow { access: self.accesses, cause }
    }

    /// Whether `pid` still runs.
    pub fn is_running(&self, pid: Pid) -> bool {
        self.memory.os.is_running(pid)
    }

    /// Ends process `pid`: its program ended.
    pub fn exit(&mut self, pid: Pid) {
        self.memory.exit(pid);
    }

    /// The player's clock.
    pub fn now(&self) -> mmu_core::Cycle {
        self.player.now()
    }

    /// The memory system (for tests and tools that inspect its state).
    pub fn memory(&self) -> &MemorySystem {
        &self.memory
    }

    /// The OS model, for tests that inspect its state.
    pub fn os(&self) -> &Os {
        &self.memory.os
    }

    /// The DRAM, for tests that inspect page tables and frames.
    pub fn dram(&self) -> &Dram {
        &self.memory.dram
    }

    /// The word at physical address `addr`, read without timing (for tests and tools).
    pub fn peek_phys(&self, addr: u64) -> u32 {
        self.memory.dram.peek(mmu_core::PhysAddr::new(addr))
    }

    /// Host bytes spent on simulated memory contents.
    pub fn host_memory_bytes(&self) -> u64 {
        self.memory.dram.host_bytes()
    }

    /// The report of everything so far.
    pub fn report(&self) -> Report {
        let memory = &self.memory;
        let mut faults = memory.faults().clone();
        faults.alignment = self.player.alignment_faults();
        let mmu = memory.mmu();
        // The player charges `cycles_per_access` to every access it executes (not
        // to those of a stopped process) and the switch cost to every switch.
        let executed = self.accesses.saturating_sub(self.skipped_accesses);
        let cycles_by_cause = crate::report::CyclesByCause {
            cpu: executed.saturating_mul(self.config.cpu.cycles_per_access.as_u64()),
            context_switches: self
                .context_switches
                .saturating_mul(self.config.os.context_switch_cycles.as_u64()),
            ..crate::report::CyclesByCause::of_memory(memory, self.config.os.swap.as_ref())
        };
        Report::assemble(
            self.config.clone(),
            crate::report::RunCounts {
                accesses: self.accesses,
                skipped_accesses: self.skipped_accesses,
                context_switches: self.context_switches,
                cycles: self.player.measured_cycles(),
                cycles_by_cause,
            },
            crate::report::MmuReport::of(mmu),
            faults,
            crate::report::OsReport::of(memory),
            memory.dram.stats(),
            self.player.data_checksum(),
            memory.check_stats(),
        )
        .with_window(self.window_report())
    }

    /// What the window did, when one was asked for.
    fn window_report(&self) -> Option<WindowReport> {
        let w = self.config.window;
        if w.is_whole_run() {
            return None;
        }
        let warmup = self.seen.saturating_sub(w.skip).min(w.warmup);
        let warmed_up = self.seen >= w.skip.saturating_add(w.warmup);
        Some(WindowReport {
            skipped: self.window.skipped,
            warmup,
            measured: if warmed_up { self.accesses } else { 0 },
            stopped_at_max: self.window.stopped_at_max,
        })
    }
}
