//! Test doubles shared with the crates above (enable the `testing` feature in
//! `[dev-dependencies]`), like mooneye's `TestHardware`.

use crate::addr::PhysAddr;
use crate::mem::{PhysMem, SparseMemory, Traffic};
use crate::time::{Cycle, Cycles, Timed};

/// One request seen by a [`TestMem`].
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Request {
    /// A read of this address.
    Read(PhysAddr),
    /// A write of this value to this address.
    Write(PhysAddr, u32),
}

/// A physical memory with a fixed latency that logs every request, so tests can
/// assert the exact PTE addresses a walk reads and the cycles it takes.
pub struct TestMem {
    storage: SparseMemory,
    latency: Cycles,
    /// Every timed request, in order.
    pub log: Vec<Request>,
}

impl TestMem {
    /// `capacity_bytes` of zeroed memory where each request takes `latency` cycles.
    pub fn new(capacity_bytes: u64, latency: u64) -> Self {
        Self { storage: SparseMemory::new(capacity_bytes), latency: Cycles::new(latency), log: Vec::new() }
    }
    /// Sets a word without logging (test setup).
    pub fn set(&mut self, addr: u64, value: u32) {
        self.storage.store(PhysAddr::new(addr), value);
    }
    /// Reads a word without logging (test assertions).
    pub fn get(&self, addr: u64) -> u32 {
        self.storage.load(PhysAddr::new(addr))
    }
    /// The addresses read, in order.
    pub fn reads(&self) -> Vec<u64> {
        self.log
            .iter()
            .filter_map(|r| match r {
                Request::Read(a) => Some(a.as_u64()),
                Request::Write(..) => None,
            })
            .collect()
    }
    /// The writes, in order.
    pub fn writes(&self) -> Vec<(u64, u32)> {
        self.log
            .iter()
            .filter_map(|r| match r {
                Request::Write(a, v) => Some((a.as_u64(), *v)),
                Request::Read(_) => None,
            })
            .collect()
    }
}

impl PhysMem for TestMem {
    fn read(&mut self, now: Cycle, addr: PhysAddr, _: Traffic) -> Timed<u32> {
        self.log.push(Request::Read(addr));
        Timed { value: self.storage.load(addr), ready_at: now + self.latency }
    }
    fn write(&mut self, now: Cycle, addr: PhysAddr, value: u32, _: Traffic) -> Cycle {
        self.log.push(Request::Write(addr, value));
        self.storage.store(addr, value);
        now + self.latency
    }
    fn contains(&self, addr: PhysAddr) -> bool {
        self.storage.contains(addr)
    }
}

impl crate::port::PhysBackdoor for TestMem {
    fn peek(&self, addr: PhysAddr) -> u32 {
        self.storage.load(addr)
    }
    fn poke(&mut self, addr: PhysAddr, value: u32) {
        self.storage.store(addr, value);
    }
    fn zero(&mut self, addr: PhysAddr, bytes: u64) {
        self.storage.zero(addr, bytes);
    }
    fn touched_bytes(&self, start: PhysAddr, bytes: u64) -> u64 {
        self.storage.host_bytes_in(start, bytes)
    }
}
