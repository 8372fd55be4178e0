//! A run of data requests (cpu-sim's hit lane): the DRAM's storage and timing
//! model opened once for the run, and its counters written back when it ends.
//! Each request is timed, stored and counted as [`PhysMem`](crate::PhysMem) on
//! the [`Dram`] would do it; a `Fixed` DRAM's request counts are kept by the
//! caller in registers and handed over at the end ([`DataRequests::settle`]).
//! A run's loop makes no call: a store that would allocate storage is refused
//! ([`DataRequests::write_data`]) and ends the run.
//!
//! A `Banked` DRAM's run takes one of two paths, chosen when it opens. The
//! usual DDR case (open page, the bank index one field of the address, no bank
//! busy) gets [`OpenPageDataRun`]: since an in-order CPU issues each request
//! after the one before is done, no bank is ever busy in the run and no
//! request can take longer than a row conflict, so a row hit is two extracts,
//! a compare and an add, and counts nothing. Anything else gets
//! [`BankedDataRun`], the general bank state machine (#15: the open-page path
//! took the full machine from 132 to 110 host instructions per access).

use super::banked::{Bank, BankMap, OpenPageMap};
use super::{Dram, Model, RequestCounters, RowOutcome};
use crate::addr::PhysAddr;
use crate::mem::{SparseMemory, Traffic};
use crate::time::{Cycle, Cycles, Timed};

/// The data requests of a run, to a `Fixed` DRAM ([`Dram::open_data`]):
/// written back to the DRAM's counters when dropped.
pub struct FixedDataRun<'a> {
    storage: &'a mut SparseMemory,
    latency: Cycles,
    /// Data reads and writes in the run ([`DataRequests::settle`]).
    requests: [u64; 2],
    /// The DRAM's data read and write counters.
    homes: &'a mut [RequestCounters; 2],
}

/// Where a run of data requests goes: a [`FixedDataRun`], an
/// [`OpenPageDataRun`] or a [`BankedDataRun`]. The same values, times and
/// counts as the [`Dram`]'s, for requests each issued no earlier than the one
/// before it is done (an in-order CPU's).
pub trait DataRequests {
    /// Whether every data request takes the same time (a `Fixed` DRAM's,
    /// [`FixedDataRun::latency`]): the caller may then time a run's requests
    /// itself (the answers' times are the same).
    const FIXED: bool;
    /// Whether no request takes longer than [`DataRequests::latency_bound`]:
    /// the caller then bounds the run's length so that its clock cannot reach
    /// its end, and adds cycles without saturating ([`Cycle::add_bounded`]).
    const BOUNDED: bool;
    /// The most a request can take, when [`DataRequests::BOUNDED`].
    fn latency_bound(&self) -> Cycles;
    /// [`PhysMem::read`] of the data word at `addr`, issued at `now`.
    fn read_data(&mut self, now: Cycle, addr: PhysAddr) -> Timed<u32>;
    /// [`PhysMem::write`] of the data word at `addr`, issued at `now`; `None`,
    /// with nothing done, when the word's storage is not allocated yet and
    /// `value` is not zero (allocating is left to the memory system's own
    /// path: the run ends before this request).
    fn write_data(&mut self, now: Cycle, addr: PhysAddr, value: u32) -> Option<Cycle>;
    /// Counts the run's `reads` and `writes` (all of its requests, once, at
    /// its end, with `end` the clock then: none of them is done later): a
    /// `Fixed` DRAM's requests are counted here, not one by one; a `Banked`
    /// one counts each by its row outcome as it serves it.
    fn settle(&mut self, reads: u64, writes: u64, end: Cycle);
}

impl FixedDataRun<'_> {
    /// The latency of every request.
    pub fn latency(&self) -> Cycles {
        self.latency
    }
}

impl DataRequests for FixedDataRun<'_> {
    const FIXED: bool = true;
    const BOUNDED: bool = true;
    fn latency_bound(&self) -> Cycles {
        self.latency
    }
    #[inline(always)]
    fn read_data(&mut self, now: Cycle, addr: PhysAddr) -> Timed<u32> {
        Timed { value: self.storage.load(addr), ready_at: now + self.latency }
    }
    #[inline(always)]
    fn write_data(&mut self, now: Cycle, addr: PhysAddr, value: u32) -> Option<Cycle> {
        self.storage.store_allocated(addr, value).then(|| now + self.latency)
    }
    fn settle(&mut self, reads: u64, writes: u64, _end: Cycle) {
        self.requests[0] += reads;
        self.requests[1] += writes;
    }
}

impl Drop for FixedDataRun<'_> {
    fn drop(&mut self) {
        for (home, requests) in self.homes.iter_mut().zip(self.requests) {
            home.requests += requests;
        }
    }
}

/// The data requests of a run, to a `Banked` DRAM ([`Dram::open_data`]):
/// written back to the DRAM's counters when dropped.
pub struct BankedDataRun<'a> {
    storage: &'a mut SparseMemory,
    /// The DRAM's map and timings, copied for the run (they do not change).
    map: BankMap,
    banks: &'a mut [Bank],
    /// When no bank is busy any more, kept for the run and written back.
    ready_by: Cycle,
    ready_by_home: &'a mut Cycle,
    /// Data reads and writes in the run: requests by row outcome, and their
    /// latencies' sum (the request counts are the outcomes' sums).
    outcomes: [[u64; 4]; 2],
    latency_cycles: [u64; 2],
    /// The DRAM's data read and write counters.
    homes: &'a mut [RequestCounters; 2],
}

impl BankedDataRun<'_> {
    #[inline(always)]
    fn serve(&mut self, now: Cycle, addr: PhysAddr, is_write: bool) -> Cycle {
        let (done, outcome) = self.map.access(self.banks, &mut self.ready_by, now, addr);
        let direction = usize::from(is_write);
        self.outcomes[direction][outcome as usize] += 1;
        // `done` is never before `now`: no saturation needed.
        self.latency_cycles[direction] += done.as_u64() - now.as_u64();
        done
    }
}

impl DataRequests for BankedDataRun<'_> {
    const FIXED: bool = false;
    // A busy bank may be ready any time later: no bound.
    const BOUNDED: bool = false;
    fn latency_bound(&self) -> Cycles {
        Cycles::new(u64::MAX)
    }
    #[inline(always)]
    fn read_data(&mut self, now: Cycle, addr: PhysAddr) -> Timed<u32> {
        let ready_at = self.serve(now, addr, false);
        Timed { value: self.storage.load(addr), ready_at }
    }
    #[inline(always)]
    fn write_data(&mut self, now: Cycle, addr: PhysAddr, value: u32) -> Option<Cycle> {
        if !self.storage.store_allocated(addr, value) {
            return None;
        }
        Some(self.serve(now, addr, true))
    }
    fn settle(&mut self, reads: u64, writes: u64, _end: Cycle) {
        debug_assert_eq!([reads, writes], self.outcomes.map(|o| o.iter().sum::<u64>()));
    }
}

impl Drop for BankedDataRun<'_> {
    fn drop(&mut self) {
        *self.ready_by_home = self.ready_by;
        for ((home, outcomes), latency) in self.homes.iter_mut().zip(&self.outcomes).zip(self.latency_cycles)
        {
            home.requests += outcomes.iter().sum::<u64>();
            home.latency_cycles += latency;
            for (h, r) in home.outcomes.iter_mut().zip(outcomes) {
                *h += r;
            }
        }
    }
}

/// The data requests of a run, to an open-page `Banked` DRAM whose bank index
/// is one field of the address, with no bank busy when the run opens
/// ([`Dram::open_data`]): a row hit is two extracts, a compare and an add, and
/// counts nothing (the hits are the requests that were neither misses nor
/// conflicts). Written back to the DRAM's counters when dropped.
pub struct OpenPageDataRun<'a> {
    storage: &'a mut SparseMemory,
    map: OpenPageMap,
    banks: &'a mut [Bank],
    /// Data reads and writes in the run, and its clock at the end
    /// ([`DataRequests::settle`]): no bank is busy after it.
    requests: [u64; 2],
    end: Cycle,
    /// [`Banked::ready_by`](super::banked::Banked): raised to `end` when dropped.
    ready_by: &'a mut Cycle,
    /// By direction: the row misses and the row conflicts, and what they took
    /// beyond a row hit's tCL + tBURST.
    openings: [[u64; 2]; 2],
    opening_cycles: [u64; 2],
    /// The DRAM's data read and write counters.
    homes: &'a mut [RequestCounters; 2],
}

impl OpenPageDataRun<'_> {
    #[inline(always)]
    fn serve(&mut self, now: Cycle, addr: PhysAddr, is_write: bool) -> Cycle {
        let (done, outcome) = self.map.access(self.banks, now, addr);
        if outcome != RowOutcome::Hit {
            let direction = usize::from(is_write);
            self.openings[direction][usize::from(outcome == RowOutcome::Conflict)] += 1;
            self.opening_cycles[direction] +=
                done.as_u64() - now.as_u64() - self.map.column_access().as_u64();
        }
        done
    }
}

impl DataRequests for OpenPageDataRun<'_> {
    const FIXED: bool = false;
    const BOUNDED: bool = true;
    fn latency_bound(&self) -> Cycles {
        self.map.latency_bound()
    }
    #[inline(always)]
    fn read_data(&mut self, now: Cycle, addr: PhysAddr) -> Timed<u32> {
        let ready_at = self.serve(now, addr, false);
        Timed { value: self.storage.load(addr), ready_at }
    }
    #[inline(always)]
    fn write_data(&mut self, now: Cycle, addr: PhysAddr, value: u32) -> Option<Cycle> {
        if !self.storage.store_allocated(addr, value) {
            return None;
        }
        Some(self.serve(now, addr, true))
    }
    fn settle(&mut self, reads: u64, writes: u64, end: Cycle) {
        self.requests[0] += reads;
        self.requests[1] += writes;
        self.end = self.end.max(end);
    }
}

impl Drop for OpenPageDataRun<'_> {
    fn drop(&mut self) {
        // Every request's bank is ready when its data is, by the run's end.
        *self.ready_by = (*self.ready_by).max(self.end);
        let column_access = self.map.column_access().as_u64();
        for (((home, requests), [misses, conflicts]), opening_cycles) in
            self.homes.iter_mut().zip(self.requests).zip(self.openings).zip(self.opening_cycles)
        {
            home.requests += requests;
            home.latency_cycles += requests * column_access + opening_cycles;
            home.outcomes[RowOutcome::Hit as usize] += requests - misses - conflicts;
            home.outcomes[RowOutcome::Miss as usize] += misses;
            home.outcomes[RowOutcome::Conflict as usize] += conflicts;
        }
    }
}

/// A DRAM open for a run of data requests, by timing model ([`Dram::open_data`]).
// One per run of hits, on the stack: boxing the larger would allocate per run.
#[allow(clippy::large_enum_variant)]
pub enum DataRun<'a> {
    /// A `Fixed` DRAM's.
    Fixed(FixedDataRun<'a>),
    /// An open-page `Banked` DRAM's, its bank index one field, no bank busy.
    OpenPage(OpenPageDataRun<'a>),
    /// Any other `Banked` DRAM's.
    Banked(BankedDataRun<'a>),
}

impl Dram {
    /// The DRAM open for a run of data requests, the first issued at `now` or
    /// later: the counters of the run's requests are written back when it is
    /// dropped.
    pub fn open_data(&mut self, now: Cycle) -> DataRun<'_> {
        debug_assert_eq!(Self::slot(Traffic::Data, false), 2);
        debug_assert_eq!(Self::slot(Traffic::Data, true), 3);
        let [_, _, data @ ..] = &mut self.counters;
        match &mut self.model {
            Model::Fixed(latency) => DataRun::Fixed(FixedDataRun {
                storage: &mut self.storage,
                latency: *latency,
                requests: [0; 2],
                homes: data,
            }),
            Model::Banked(banked) => match banked.open_page_map(now) {
                Some(map) => {
                    let (banks, ready_by) = banked.banks_mut();
                    DataRun::OpenPage(OpenPageDataRun {
                        storage: &mut self.storage,
                        map,
                        banks,
                        requests: [0; 2],
                        end: now,
                        ready_by,
                        openings: [[0; 2]; 2],
                        opening_cycles: [0; 2],
                        homes: data,
                    })
                }
                None => {
                    let (map, banks, ready_by_home) = banked.parts_mut();
                    DataRun::Banked(BankedDataRun {
                        storage: &mut self.storage,
                        map,
                        banks,
                        ready_by: *ready_by_home,
                        ready_by_home,
                        outcomes: [[0; 4]; 2],
                        latency_cycles: [0; 2],
                        homes: data,
                    })
                }
            },
        }
    }
}
