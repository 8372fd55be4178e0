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
    fn next_touched(&self, start: PhysAddr, end: PhysAddr) -> Option<PhysAddr> {
        self.storage.next_allocated(start, end.as_u64())
    }
}

/// The xorshift64 generator (Marsaglia, "Xorshift RNGs", 2003; shifts 13, 7, 17)
/// that tests and benches use for fixed pseudo-random inputs: the generated test
/// traces in `traces/` depend on its exact sequence. Simulations use `SimRng`.
#[derive(Clone, Debug)]
pub struct XorShift(u64);

impl XorShift {
    /// A generator from a non-zero seed (zero would stay zero).
    pub const fn new(seed: u64) -> Self {
        Self(seed)
    }
    /// The next 64-bit value.
    #[allow(clippy::should_implement_trait)]
    pub fn next(&mut self) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0
    }
    /// The next value below `n`, by remainder (slightly biased, as the traces were made).
    pub fn below(&mut self, n: u64) -> u64 {
        self.next() % n
    }
}

/// FNV-1a over 32-bit values, one value per step: how a run's `data_checksum`
/// folds the values it loads, recomputed independently by tests.
pub fn fnv1a(values: impl IntoIterator<Item = u32>) -> u64 {
    values.into_iter().fold(0xcbf2_9ce4_8422_2325, |h, v| (h ^ u64::from(v)).wrapping_mul(0x100_0000_01b3))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn xorshift_is_marsaglias() {
        // The first outputs of xorshift64 (13, 7, 17) from 1, worked by hand:
        // 1 ^ 1<<13 = 0x2001; ^ >>7 = 0x2041; ^ <<17 = 0x4082_2041.
        let mut x = XorShift::new(1);
        assert_eq!(x.next(), 0x4082_2041);
    }

    #[test]
    fn fnv1a_of_nothing_is_the_offset_basis() {
        assert_eq!(fnv1a([]), 0xcbf2_9ce4_8422_2325);
        assert_eq!(fnv1a([0]), 0xcbf2_9ce4_8422_2325u64.wrapping_mul(0x100_0000_01b3));
    }
}
