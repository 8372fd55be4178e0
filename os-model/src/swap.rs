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
        if self.capacity_bytes / page_bytes > MAX_SLOTS {
            return Err(InvalidField::new(
                "capacity_bytes",
                format!(
                    "{} pages of swap: at most 2^32 (slots are numbered in 32 bits)",
                    self.capacity_bytes / page_bytes
                ),
            ));
        }
        Ok(())
    }
}

/// A slot of the swap device.
pub type Slot = u32;

/// The most slots a device may have: every [`Slot`] number.
pub const MAX_SLOTS: u64 = 1 << 32;

/// The device: which slots hold a page, and the pages' contents.
///
/// Host memory grows with the slots used, never with the capacity: the map of
/// used slots and the table of contents reach only as far as the highest slot
/// ever taken (slots are taken lowest first, so that is the peak of slots in use),
/// and a page's contents exist once it is written out.
pub struct SwapDevice {
    /// Slots `0..used.len()` ever taken, and which of them hold a page now.
    used: BitVec<u64, Lsb0>,
    slots: u64,
    contents: Vec<Option<Box<[u32]>>>,
    words_per_page: usize,
    used_count: u64,
    peak: u64,
}

impl SwapDevice {
    /// An empty device of `slots` page slots, each of `page_bytes` bytes.
    pub fn new(slots: u64, page_bytes: u64) -> Self {
        Self {
            used: BitVec::new(),
            slots,
            contents: Vec::new(),
            words_per_page: (page_bytes / 4) as usize,
            used_count: 0,
            peak: 0,
        }
    }
    /// Slots in all.
    pub fn slots(&self) -> u64 {
        self.slots
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
        let slot = match self.used.first_zero() {
            Some(slot) => slot,
            None if (self.used.len() as u64) < self.slots => {
                self.used.push(false);
                self.used.len() - 1
            }
            None => return None,
        };
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
    /// Host bytes the device holds: its slot map, its table of contents and the
    /// pages written out (capacities, not lengths: what is allocated).
    pub fn host_bytes(&self) -> u64 {
        let map = self.used.capacity() / 8;
        let table = self.contents.capacity() * std::mem::size_of::<Option<Box<[u32]>>>();
        let pages = self.contents.iter().flatten().map(|p| p.len() * 4).sum::<usize>();
        (map + table + pages) as u64
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
    fn host_memory_grows_with_the_slots_used_not_the_capacity() {
        // The same run on a device of 2^32 - 1 pages and on one of 64: the same
        // slots are taken and written, so the same host bytes are held.
        let run = |slots: u64| {
            let mut s = SwapDevice::new(slots, 4096);
            let taken: Vec<Slot> = (0..40).map(|_| s.alloc().unwrap()).collect();
            for &slot in taken.iter().step_by(3) {
                s.write(slot, &[7; 1024]);
            }
            for &slot in taken.iter().step_by(2) {
                s.release(slot);
            }
            s.alloc();
            (s.host_bytes(), s.used(), s.peak())
        };
        let small = run(64);
        assert_eq!(run(u64::from(u32::MAX)), small);
        assert_eq!(run(MAX_SLOTS), small);
        // 14 pages of 4 KiB written, and a few hundred bytes of bookkeeping.
        assert!(small.0 < 14 * 4096 + 1024, "{small:?}");
        assert_eq!(SwapDevice::new(u64::from(u32::MAX), 4096).slots(), u64::from(u32::MAX));
    }

    #[test]
    fn a_device_is_full_at_its_capacity() {
        let mut s = SwapDevice::new(3, 16);
        assert_eq!((s.alloc(), s.alloc(), s.alloc(), s.alloc()), (Some(0), Some(1), Some(2), None));
        s.release(1);
        assert_eq!((s.alloc(), s.alloc()), (Some(1), None));
    }

    #[test]
    fn at_most_2_to_the_32_pages_of_swap() {
        let c = |pages: u64| SwapConfig {
            capacity_bytes: pages * 4096,
            read_latency: Cycles::new(1),
            write_latency: Cycles::new(1),
        };
        assert!(c(u64::from(u32::MAX)).validate(4096).is_ok());
        assert!(c(1 << 32).validate(4096).is_ok());
        let err = c((1 << 32) + 1).validate(4096).unwrap_err();
        assert_eq!(
            err.to_string(),
            "field `capacity_bytes`: 4294967297 pages of swap: at most 2^32 (slots are numbered in 32 bits)"
        );
    }

    #[test]
    fn capacity_must_be_whole_pages() {
        let c =
            SwapConfig { capacity_bytes: 6000, read_latency: Cycles::new(1), write_latency: Cycles::new(1) };
        assert_eq!(c.validate(4096).unwrap_err().field, "capacity_bytes");
    }
}
