//! The swap device: a backing store of page-sized slots with fixed read and write
//! latencies.
//!
//! Approximations: every page transfer costs the configured latency whatever came
//! before (no seek model, no queueing), and the CPU waits for it (the blocking CPU
//! has nothing else to run while a fault is served).

use bitvec::prelude::*;
use mmu_core::Cycles;
use mmu_core::config::InvalidField;
use serde::{Deserialize, Serialize};

/// The swap device's size and speed. Owned by cpu-sim's OS model.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SwapConfig {
    /// Bytes of swap space; a non-zero multiple of the page size.
    pub capacity_bytes: u64,
    /// Cycles to read one page back in (charged on every swap-in).
    pub read_latency: Cycles,
    /// Cycles to write one page out (charged on every dirty eviction).
    pub write_latency: Cycles,
}

impl SwapConfig {
    /// Checks the capacity against the page size.
    ///
    /// # Errors
    /// The first field that breaks a rule, named relative to this struct.
    pub fn validate(&self, page_bytes: u64) -> Result<(), InvalidField> {
        if self.capacity_bytes == 0 || self.capacity_bytes % page_bytes != 0 {
            return Err(InvalidField::new(
                "capacity_bytes",
                format!("{} is not a non-zero multiple of the {page_bytes}-byte page", self.capacity_bytes),
            ));
        }
        if self.capacity_bytes / page_bytes > u64::from(u32::MAX) {
            return Err(InvalidField::new("capacity_bytes", "more than 2^32 pages of swap"));
        }
        Ok(())
    }
}

/// A slot of the swap device.
pub type Slot = u32;

/// The device: which slots hold a page, and the pages' contents.
///
/// Host memory grows with the pages written out, not with the capacity.
pub struct SwapDevice {
    used: BitVec<u64, Lsb0>,
    contents: Vec<Option<Box<[u32]>>>,
    words_per_page: usize,
    used_count: u64,
    peak: u64,
}

impl SwapDevice {
    /// An empty device of `slots` page slots, each of `page_bytes` bytes.
    pub fn new(slots: u64, page_bytes: u64) -> Self {
        Self {
            used: bitvec![u64, Lsb0; 0; slots as usize],
            contents: Vec::new(),
            words_per_page: (page_bytes / 4) as usize,
            used_count: 0,
            peak: 0,
        }
    }
    /// Slots in all.
    pub fn slots(&self) -> u64 {
        self.used.len() as u64
    }
    /// Slots holding a page now.
    pub fn used(&self) -> u64 {
        self.used_count
    }
    /// The most slots ever in use at once.
    pub fn peak(&self) -> u64 {
        self.peak
    }
    /// Restarts the peak at the slots in use now (the end of a warm-up).
    pub fn reset_peak(&mut self) {
        self.peak = self.used_count;
    }
    /// Takes the lowest free slot, or `None` if the device is full.
    pub fn alloc(&mut self) -> Option<Slot> {
        let slot = self.used.first_zero()?;
        self.used.set(slot, true);
        self.used_count += 1;
        self.peak = self.peak.max(self.used_count);
        Some(slot as Slot)
    }
    /// Frees `slot` and forgets its contents.
    ///
    /// # Panics
    /// If the slot is free: freeing twice is a bug in the OS model.
    pub fn release(&mut self, slot: Slot) {
        let i = slot as usize;
        assert!(self.used[i], "swap slot {slot} freed while free");
        self.used.set(i, false);
        self.used_count -= 1;
        if let Some(c) = self.contents.get_mut(i) {
            *c = None;
        }
    }
    /// Stores a page in `slot`.
    pub fn write(&mut self, slot: Slot, page: &[u32]) {
        let i = slot as usize;
        if self.contents.len() <= i {
            self.contents.resize_with(i + 1, || None);
        }
        self.contents[i] = Some(page.into());
    }
    /// The page stored in `slot`; all zeros if none was written.
    pub fn read(&self, slot: Slot) -> Option<&[u32]> {
        self.contents.get(slot as usize).and_then(|c| c.as_deref())
    }
    /// Words in a page.
    pub fn words_per_page(&self) -> usize {
        self.words_per_page
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn slots_are_lowest_first_and_contents_survive() {
        let mut s = SwapDevice::new(2, 16);
        assert_eq!((s.alloc(), s.alloc(), s.alloc()), (Some(0), Some(1), None));
        s.write(1, &[1, 2, 3, 4]);
        assert_eq!(s.read(1), Some(&[1, 2, 3, 4][..]));
        s.release(0);
        assert_eq!((s.used(), s.peak()), (1, 2));
        assert_eq!(s.alloc(), Some(0));
        assert_eq!(s.read(0), None);
    }

    #[test]
    fn capacity_must_be_whole_pages() {
        let c =
            SwapConfig { capacity_bytes: 6000, read_latency: Cycles::new(1), write_latency: Cycles::new(1) };
        assert_eq!(c.validate(4096).unwrap_err().field, "capacity_bytes");
    }
}
