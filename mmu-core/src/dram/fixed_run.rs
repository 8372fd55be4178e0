//! A run of data requests to a `Fixed` DRAM (cpu-sim's hit lane): the
//! storage opened once and the request counters held in registers for the
//! run, written back when it ends. Each request is timed, stored and counted
//! as [`PhysMem`] on the [`Dram`] would do it.

use super::{Dram, Model};
use crate::addr::PhysAddr;
use crate::mem::{PhysMem, SparseMemory, Traffic};
use crate::time::{Cycle, Cycles, Timed};

/// The data requests of a run, to a `Fixed` DRAM ([`Dram::open_fixed_data`]):
/// written back to the DRAM's counters when dropped.
pub struct FixedDataRun<'a> {
    storage: &'a mut SparseMemory,
    latency: Cycles,
    reads: u64,
    writes: u64,
    /// The data read and write request counts of the DRAM.
    homes: [&'a mut u64; 2],
}

/// Where a run of data requests goes: the whole [`Dram`] (any timing) or a
/// [`FixedDataRun`]. The same values, times and counts either way.
pub trait DataRequests {
    /// Whether every data request takes [`DataRequests::fixed_latency`]: the
    /// caller may then time a run's requests itself (the answers' times are
    /// the same).
    const FIXED: bool;
    /// The latency of every data request when [`DataRequests::FIXED`]; zero otherwise.
    fn fixed_latency(&self) -> Cycles;
    /// [`PhysMem::read`] of the data word at `addr`, issued at `now`.
    fn read_data(&mut self, now: Cycle, addr: PhysAddr) -> Timed<u32>;
    /// [`PhysMem::write`] of the data word at `addr`, issued at `now`.
    fn write_data(&mut self, now: Cycle, addr: PhysAddr, value: u32) -> Cycle;
}

impl DataRequests for Dram {
    const FIXED: bool = false;
    fn fixed_latency(&self) -> Cycles {
        Cycles::ZERO
    }
    #[inline(always)]
    fn read_data(&mut self, now: Cycle, addr: PhysAddr) -> Timed<u32> {
        self.read(now, addr, Traffic::Data)
    }
    #[inline(always)]
    fn write_data(&mut self, now: Cycle, addr: PhysAddr, value: u32) -> Cycle {
        self.write(now, addr, value, Traffic::Data)
    }
}

impl DataRequests for FixedDataRun<'_> {
    const FIXED: bool = true;
    fn fixed_latency(&self) -> Cycles {
        self.latency
    }
    #[inline(always)]
    fn read_data(&mut self, now: Cycle, addr: PhysAddr) -> Timed<u32> {
        self.reads += 1;
        Timed { value: self.storage.load(addr), ready_at: now + self.latency }
    }
    #[inline(always)]
    fn write_data(&mut self, now: Cycle, addr: PhysAddr, value: u32) -> Cycle {
        self.writes += 1;
        self.storage.store(addr, value);
        now + self.latency
    }
}

impl Drop for FixedDataRun<'_> {
    fn drop(&mut self) {
        *self.homes[0] += self.reads;
        *self.homes[1] += self.writes;
    }
}

impl Dram {
    /// Whether the timing is `Fixed` ([`Dram::open_fixed_data`] opens it).
    pub fn is_fixed(&self) -> bool {
        matches!(self.model, Model::Fixed(_))
    }

    /// The DRAM open for a run of data requests ([`FixedDataRun`]), if its
    /// timing is `Fixed`; `None` for `Banked` (use the DRAM itself).
    pub fn open_fixed_data(&mut self) -> Option<FixedDataRun<'_>> {
        let Model::Fixed(latency) = self.model else { return None };
        let [_, _, reads, writes] = &mut self.counters;
        debug_assert_eq!(Self::slot(Traffic::Data, false), 2);
        debug_assert_eq!(Self::slot(Traffic::Data, true), 3);
        Some(FixedDataRun {
            storage: &mut self.storage,
            latency,
            reads: 0,
            writes: 0,
            homes: [&mut reads.requests, &mut writes.requests],
        })
    }
}

impl<T: DataRequests> DataRequests for &mut T {
    const FIXED: bool = T::FIXED;
    fn fixed_latency(&self) -> Cycles {
        (**self).fixed_latency()
    }
    #[inline(always)]
    fn read_data(&mut self, now: Cycle, addr: PhysAddr) -> Timed<u32> {
        (**self).read_data(now, addr)
    }
    #[inline(always)]
    fn write_data(&mut self, now: Cycle, addr: PhysAddr, value: u32) -> Cycle {
        (**self).write_data(now, addr, value)
    }
}
