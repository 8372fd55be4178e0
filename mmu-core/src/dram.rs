//! The DRAM: a sparse word store plus a timing model and its statistics.
//!
//! This is the fixed-latency model of the foundation: every request costs the
//! configured latency and requests do not overlap. FIXME(#4): banks, rows and
//! the timings of a real part.

use crate::addr::PhysAddr;
use crate::config::InvalidField;
use crate::mem::{PhysMem, SparseMemory, Traffic};
use crate::time::{Cycle, Cycles, Timed};
use serde::{Deserialize, Serialize};

/// How long a DRAM request takes.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum DramTiming {
    /// Every read and write costs `latency` cycles, whatever came before.
    Fixed {
        /// Cycles per request.
        latency: Cycles,
    },
}

/// The DRAM of a machine. Owned by `mmu-core`; composed into the machine config.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DramConfig {
    /// Bytes of physical memory, from physical address 0. A multiple of the page size.
    pub capacity_bytes: u64,
    /// The timing model.
    pub timing: DramTiming,
}

impl DramConfig {
    /// Checks the fields that do not depend on the paging format.
    ///
    /// # Errors
    /// The first field that breaks a rule.
    pub fn validate(&self) -> Result<(), InvalidField> {
        if self.capacity_bytes == 0 || self.capacity_bytes % 4096 != 0 {
            return Err(InvalidField::new(
                "capacity_bytes",
                format!("must be a non-zero multiple of 4096, got {}", self.capacity_bytes),
            ));
        }
        Ok(())
    }
}

/// DRAM counters, by requester.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize)]
pub struct DramStats {
    /// All read requests.
    pub reads: u64,
    /// All write requests.
    pub writes: u64,
    /// Reads by the page walker.
    pub page_table_reads: u64,
    /// Writes by the page walker (A/D updates).
    pub page_table_writes: u64,
    /// Reads of data words.
    pub data_reads: u64,
    /// Writes of data words.
    pub data_writes: u64,
    /// Sum of the latencies of all requests, in cycles.
    pub total_latency_cycles: u64,
}

/// A DRAM: storage, timing and counters.
pub struct Dram {
    storage: SparseMemory,
    timing: DramTiming,
    stats: DramStats,
}

impl Dram {
    /// A zeroed DRAM built from a validated config.
    pub fn new(config: &DramConfig) -> Self {
        Self {
            storage: SparseMemory::new(config.capacity_bytes),
            timing: config.timing,
            stats: DramStats::default(),
        }
    }
    /// The counters so far.
    pub fn stats(&self) -> &DramStats {
        &self.stats
    }
    /// Bytes of simulated memory.
    pub fn capacity_bytes(&self) -> u64 {
        self.storage.capacity_bytes()
    }
    /// Host bytes spent on simulated memory contents.
    pub fn host_bytes(&self) -> u64 {
        self.storage.host_bytes()
    }
    /// Reads a word without timing or counting: the OS model's view, whose cost is
    /// charged as handler cycles instead.
    pub fn peek(&self, addr: PhysAddr) -> u32 {
        self.storage.load(addr)
    }
    /// Writes a word without timing or counting (the OS model's stores).
    pub fn poke(&mut self, addr: PhysAddr, value: u32) {
        self.storage.store(addr, value);
    }
    /// Zeroes a range without timing (the OS model's demand-zero fill).
    pub fn zero(&mut self, addr: PhysAddr, bytes: u64) {
        self.storage.zero(addr, bytes);
    }

    fn latency(&self) -> Cycles {
        match self.timing {
            DramTiming::Fixed { latency } => latency,
        }
    }

    fn count(&mut self, traffic: Traffic, is_write: bool, latency: Cycles) {
        let s = &mut self.stats;
        match (traffic, is_write) {
            (Traffic::PageTable, false) => s.page_table_reads += 1,
            (Traffic::PageTable, true) => s.page_table_writes += 1,
            (Traffic::Data, false) => s.data_reads += 1,
            (Traffic::Data, true) => s.data_writes += 1,
        }
        if is_write {
            s.writes += 1;
        } else {
            s.reads += 1;
        }
        s.total_latency_cycles += latency.as_u64();
    }
}

impl PhysMem for Dram {
    #[inline]
    fn read(&mut self, now: Cycle, addr: PhysAddr, traffic: Traffic) -> Timed<u32> {
        let latency = self.latency();
        self.count(traffic, false, latency);
        Timed { value: self.storage.load(addr), ready_at: now + latency }
    }
    #[inline]
    fn write(&mut self, now: Cycle, addr: PhysAddr, value: u32, traffic: Traffic) -> Cycle {
        let latency = self.latency();
        self.count(traffic, true, latency);
        self.storage.store(addr, value);
        now + latency
    }
    #[inline]
    fn contains(&self, addr: PhysAddr) -> bool {
        self.storage.contains(addr)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn dram(latency: u64) -> Dram {
        Dram::new(&DramConfig {
            capacity_bytes: 1 << 20,
            timing: DramTiming::Fixed { latency: Cycles::new(latency) },
        })
    }

    #[test]
    fn fixed_latency_read_and_write() {
        let mut d = dram(100);
        let done = d.write(Cycle::new(5), PhysAddr::new(0x40), 42, Traffic::Data);
        assert_eq!(done, Cycle::new(105));
        let r = d.read(done, PhysAddr::new(0x40), Traffic::PageTable);
        assert_eq!(r, Timed { value: 42, ready_at: Cycle::new(205) });
        let s = d.stats();
        assert_eq!((s.reads, s.writes, s.page_table_reads, s.data_writes), (1, 1, 1, 1));
        assert_eq!(s.total_latency_cycles, 200);
    }

    #[test]
    fn backdoor_is_free() {
        let mut d = dram(100);
        d.poke(PhysAddr::new(0x40), 9);
        assert_eq!(d.peek(PhysAddr::new(0x40)), 9);
        assert_eq!(d.stats(), &DramStats::default());
    }

    #[test]
    fn capacity_must_be_page_multiple() {
        let c = DramConfig { capacity_bytes: 1000, timing: DramTiming::Fixed { latency: Cycles::new(1) } };
        assert_eq!(c.validate().unwrap_err().field, "capacity_bytes");
    }
}
