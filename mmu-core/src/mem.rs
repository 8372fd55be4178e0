//! Physical memory: the `PhysMem` trait every reader of DRAM goes through, and the
//! sparse word store behind the DRAM model.

use crate::addr::PhysAddr;
use crate::time::{Cycle, Timed};
use serde::Serialize;

/// Who a DRAM request is for, so page-table traffic and data traffic are counted apart.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize)]
pub enum Traffic {
    /// A PTE read or an A/D write by the hardware walker.
    PageTable,
    /// The data word of a CPU access.
    Data,
}

/// Word-granular physical memory with timing.
///
/// The only way for the walker or the CPU to read or write memory: the returned
/// cycle makes every access pay its latency (mooneye's `read_cycle`).
pub trait PhysMem {
    /// Reads the aligned word at `addr`, issued at `now`.
    fn read(&mut self, now: Cycle, addr: PhysAddr, traffic: Traffic) -> Timed<u32>;
    /// Writes the aligned word at `addr`, issued at `now`; returns when it is done.
    fn write(&mut self, now: Cycle, addr: PhysAddr, value: u32, traffic: Traffic) -> Cycle;
    /// Whether `addr` is backed by memory (outside it, the walker raises an access fault).
    fn contains(&self, addr: PhysAddr) -> bool;
}

const CHUNK_BITS: u32 = 12;
const CHUNK_WORDS: usize = 1 << (CHUNK_BITS - 2);
const DIR_BITS: u32 = 10;
const DIR_ENTRIES: usize = 1 << DIR_BITS;

type Chunk = [u32; CHUNK_WORDS];
type Directory = [Option<Box<Chunk>>; DIR_ENTRIES];

/// Word storage that allocates host memory only for the 4 KiB chunks written.
///
/// A two-level radix over the physical address (4 MiB directories of 4 KiB chunks),
/// so a lookup is two indexings and a 16 GiB space costs nothing until touched.
/// Untouched memory reads as zero.
pub struct SparseMemory {
    capacity_bytes: u64,
    directories: Vec<Option<Box<Directory>>>,
    chunks_allocated: u64,
}

impl SparseMemory {
    /// An all-zero memory of `capacity_bytes` (rounded up to whole chunks internally).
    pub fn new(capacity_bytes: u64) -> Self {
        let dir_span = (CHUNK_WORDS as u64 * 4) << DIR_BITS;
        let dirs = capacity_bytes.div_ceil(dir_span) as usize;
        Self { capacity_bytes, directories: (0..dirs).map(|_| None).collect(), chunks_allocated: 0 }
    }

    /// Bytes of simulated memory.
    pub fn capacity_bytes(&self) -> u64 {
        self.capacity_bytes
    }

    /// Host bytes spent on chunks (a measure of the frames touched).
    pub fn host_bytes(&self) -> u64 {
        self.chunks_allocated * (CHUNK_WORDS as u64 * 4)
    }

    /// Host bytes spent on chunks that overlap `[start, start + bytes)`: how much of
    /// that range has ever held a non-zero word, at 4 KiB granularity.
    pub fn host_bytes_in(&self, start: PhysAddr, bytes: u64) -> u64 {
        let chunk_bytes = CHUNK_WORDS as u64 * 4;
        let end = start.as_u64().saturating_add(bytes).min(self.capacity_bytes);
        let mut chunk = start.as_u64() / chunk_bytes;
        let mut allocated = 0;
        while chunk * chunk_bytes < end {
            let d = (chunk >> DIR_BITS) as usize;
            match self.directories.get(d) {
                Some(Some(dir)) => {
                    allocated += u64::from(dir[(chunk as usize) & (DIR_ENTRIES - 1)].is_some());
                    chunk += 1;
                }
                // A missing directory holds no chunk: skip to the next directory.
                _ => chunk = (chunk | (DIR_ENTRIES as u64 - 1)) + 1,
            }
        }
        allocated * chunk_bytes
    }

    /// The start of the first allocated 4 KiB chunk from the one holding `start`
    /// up to `end` (exclusive), `None` if there is none: it skips a missing
    /// directory (4 MiB) in one step, so a scan of a sparse range costs its
    /// directories and its allocated chunks, not its size.
    pub fn next_allocated(&self, start: PhysAddr, end: u64) -> Option<PhysAddr> {
        let chunk_bytes = CHUNK_WORDS as u64 * 4;
        let end = end.min(self.capacity_bytes);
        let mut chunk = start.as_u64() / chunk_bytes;
        while chunk * chunk_bytes < end {
            match self.directories.get((chunk >> DIR_BITS) as usize) {
                Some(Some(dir)) => {
                    if dir[(chunk as usize) & (DIR_ENTRIES - 1)].is_some() {
                        return Some(PhysAddr::new(chunk * chunk_bytes));
                    }
                    chunk += 1;
                }
                Some(None) => chunk = (chunk | (DIR_ENTRIES as u64 - 1)) + 1,
                None => return None,
            }
        }
        None
    }

    /// Whether `addr` is inside the memory.
    #[inline]
    pub fn contains(&self, addr: PhysAddr) -> bool {
        addr.as_u64() < self.capacity_bytes
    }

    #[inline]
    fn split(addr: PhysAddr) -> (usize, usize, usize) {
        let a = addr.as_u64();
        let word = ((a >> 2) as usize) & (CHUNK_WORDS - 1);
        let chunk = a >> CHUNK_BITS;
        ((chunk >> DIR_BITS) as usize, (chunk as usize) & (DIR_ENTRIES - 1), word)
    }

    /// The word at `addr` (aligned down to 4 bytes); zero outside the memory.
    #[inline]
    pub fn load(&self, addr: PhysAddr) -> u32 {
        let (d, c, w) = Self::split(addr);
        match self.directories.get(d) {
            Some(Some(dir)) => match &dir[c] {
                Some(chunk) => chunk[w],
                None => 0,
            },
            _ => 0,
        }
    }

    /// Stores `value` at `addr` (aligned down to 4 bytes); ignored outside the memory,
    /// which callers rule out with [`SparseMemory::contains`].
    #[inline]
    pub fn store(&mut self, addr: PhysAddr, value: u32) {
        let (d, c, w) = Self::split(addr);
        // The common case, a word of a chunk written before: two indexings.
        if let Some(Some(dir)) = self.directories.get_mut(d) {
            if let Some(chunk) = &mut dir[c] {
                chunk[w] = value;
                return;
            }
        }
        self.store_new(addr, value);
    }

    /// [`SparseMemory::store`] into a chunk not allocated yet.
    #[cold]
    #[inline(never)]
    fn store_new(&mut self, addr: PhysAddr, value: u32) {
        if !self.contains(addr) {
            return;
        }
        let (d, c, w) = Self::split(addr);
        let dir = self.directories[d].get_or_insert_with(|| {
            let empty: Vec<Option<Box<Chunk>>> = (0..DIR_ENTRIES).map(|_| None).collect();
            empty.into_boxed_slice().try_into().unwrap_or_else(|_| unreachable!("length is DIR_ENTRIES"))
        });
        let slot = &mut dir[c];
        if slot.is_none() {
            if value == 0 {
                return; // storing zero into an untouched chunk changes nothing
            }
            *slot = Some(Box::new([0; CHUNK_WORDS]));
            self.chunks_allocated += 1;
        }
        if let Some(chunk) = slot {
            chunk[w] = value;
        }
    }

    /// Reads `out.len()` consecutive words from `addr` (word aligned), a chunk at a
    /// time; words outside the memory read as zero.
    pub fn load_words(&self, addr: PhysAddr, out: &mut [u32]) {
        let mut done = 0;
        while done < out.len() {
            let a = addr.as_u64() + 4 * done as u64;
            let (d, c, w) = Self::split(PhysAddr::new(a));
            let n = (CHUNK_WORDS - w).min(out.len() - done);
            let dst = &mut out[done..done + n];
            match self.directories.get(d) {
                Some(Some(dir)) if a < self.capacity_bytes => match &dir[c] {
                    Some(chunk) => dst.copy_from_slice(&chunk[w..w + n]),
                    None => dst.fill(0),
                },
                _ => dst.fill(0),
            }
            done += n;
        }
    }

    /// Writes consecutive words from `addr` (word aligned), a chunk at a time;
    /// an untouched chunk that would receive only zeros stays unallocated, and
    /// words outside the memory are ignored.
    pub fn store_words(&mut self, addr: PhysAddr, words: &[u32]) {
        let mut done = 0;
        while done < words.len() {
            let a = addr.as_u64() + 4 * done as u64;
            let (d, c, w) = Self::split(PhysAddr::new(a));
            let n = (CHUNK_WORDS - w).min(words.len() - done);
            let src = &words[done..done + n];
            done += n;
            if !self.contains(PhysAddr::new(a)) {
                continue;
            }
            let zeros = src.iter().all(|&v| v == 0);
            let Some(dir) = self.directories.get_mut(d) else { continue };
            if dir.is_none() && zeros {
                continue;
            }
            let dir = dir.get_or_insert_with(|| {
                let empty: Vec<Option<Box<Chunk>>> = (0..DIR_ENTRIES).map(|_| None).collect();
                empty.into_boxed_slice().try_into().unwrap_or_else(|_| unreachable!("length is DIR_ENTRIES"))
            });
            match &mut dir[c] {
                Some(chunk) => chunk[w..w + n].copy_from_slice(src),
                slot @ None if !zeros => {
                    let mut chunk = Box::new([0; CHUNK_WORDS]);
                    chunk[w..w + n].copy_from_slice(src);
                    *slot = Some(chunk);
                    self.chunks_allocated += 1;
                }
                None => {}
            }
        }
    }

    /// Zeroes `bytes` bytes from `addr` (both word aligned), freeing whole chunks.
    pub fn zero(&mut self, addr: PhysAddr, bytes: u64) {
        let chunk_bytes = CHUNK_WORDS as u64 * 4;
        let mut a = addr.as_u64();
        let end = a.saturating_add(bytes).min(self.capacity_bytes);
        while a < end {
            let (d, c, _) = Self::split(PhysAddr::new(a));
            let chunk_start = a & !(chunk_bytes - 1);
            if a == chunk_start && end - a >= chunk_bytes {
                if let Some(Some(dir)) = self.directories.get_mut(d) {
                    if dir[c].take().is_some() {
                        self.chunks_allocated -= 1;
                    }
                }
                a += chunk_bytes;
            } else {
                let stop = (chunk_start + chunk_bytes).min(end);
                if let Some(Some(dir)) = self.directories.get_mut(d) {
                    if let Some(chunk) = &mut dir[c] {
                        for word in (a..stop).step_by(4) {
                            chunk[((word >> 2) as usize) & (CHUNK_WORDS - 1)] = 0;
                        }
                    }
                }
                a = stop;
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn untouched_memory_reads_zero_and_costs_nothing() {
        let m = SparseMemory::new(16 << 30);
        assert_eq!(m.load(PhysAddr::new(0x3_ffff_fffc)), 0);
        assert_eq!(m.host_bytes(), 0);
    }

    #[test]
    fn store_then_load_and_host_memory_grows_per_chunk() {
        let mut m = SparseMemory::new(16 << 30);
        m.store(PhysAddr::new(0x1000), 7);
        m.store(PhysAddr::new(0x1ffc), 8);
        m.store(PhysAddr::new(0x3_ffff_fffc), 9);
        assert_eq!(m.load(PhysAddr::new(0x1000)), 7);
        assert_eq!(m.load(PhysAddr::new(0x1ffc)), 8);
        assert_eq!(m.load(PhysAddr::new(0x3_ffff_fffc)), 9);
        assert_eq!(m.load(PhysAddr::new(0x2000)), 0);
        assert_eq!(m.host_bytes(), 2 * 4096);
    }

    #[test]
    fn next_allocated_finds_the_chunk_a_chunk_by_chunk_scan_finds() {
        // Chunks written and freed at random over 64 MiB (16 directories), then
        // random ranges: the jump over missing directories must land where the
        // obvious scan of `host_bytes_in`, chunk by chunk, lands.
        let mut x = crate::testing::XorShift::new(15);
        let mut m = SparseMemory::new(64 << 20);
        for _ in 0..200 {
            let addr = PhysAddr::new(x.below(64 << 20) & !3);
            if x.below(4) == 0 {
                m.zero(PhysAddr::new(addr.as_u64() & !4095), 4096);
            } else {
                m.store(addr, 1);
            }
        }
        let scan = |start: u64, end: u64| {
            (start & !4095..end.min(64 << 20))
                .step_by(4096)
                .find(|&c| m.host_bytes_in(PhysAddr::new(c), 4096) > 0)
                .map(PhysAddr::new)
        };
        for _ in 0..2000 {
            let start = x.below(70 << 20);
            let end = start + x.below(16 << 20);
            assert_eq!(m.next_allocated(PhysAddr::new(start), end), scan(start, end), "{start:#x}..{end:#x}");
        }
        assert_eq!(m.next_allocated(PhysAddr::new(0), 0), None);
    }

    #[test]
    fn zero_frees_whole_chunks_and_clears_partial_ones() {
        let mut m = SparseMemory::new(1 << 20);
        for a in (0x1000..0x3000u64).step_by(4) {
            m.store(PhysAddr::new(a), 0xdead);
        }
        m.zero(PhysAddr::new(0x1000), 0x1000);
        assert_eq!(m.host_bytes(), 4096);
        m.zero(PhysAddr::new(0x2000), 8);
        assert_eq!(m.load(PhysAddr::new(0x2004)), 0);
        assert_eq!(m.load(PhysAddr::new(0x2008)), 0xdead);
        assert_eq!(m.load(PhysAddr::new(0x1000)), 0);
    }

    #[test]
    fn host_bytes_in_counts_the_chunks_of_a_range() {
        let mut m = SparseMemory::new(8 << 30);
        m.store(PhysAddr::new(0x1000), 1); // chunk 1
        m.store(PhysAddr::new(0x1_0000_0000 + 0x2000), 2); // a chunk 4 GiB + 8 KiB up
        m.store(PhysAddr::new(0x1_0000_0000 + 0x2ffc), 3); // the same chunk
        assert_eq!(m.host_bytes_in(PhysAddr::new(0), 8 << 30), 2 * 4096);
        assert_eq!(m.host_bytes_in(PhysAddr::new(0x1_0000_0000), 4 << 30), 4096);
        // A range that only grazes a chunk still counts it; one that misses it does not.
        assert_eq!(m.host_bytes_in(PhysAddr::new(0x1ffc), 4), 4096);
        assert_eq!(m.host_bytes_in(PhysAddr::new(0x2000), 0x1000), 0);
        assert_eq!(m.host_bytes_in(PhysAddr::new(0), 0), 0);
    }

    #[test]
    fn word_runs_cross_chunks_and_zero_runs_allocate_nothing() {
        let mut m = SparseMemory::new(1 << 20);
        let words: Vec<u32> = (1..=1030).collect(); // 1030 words from 0xff8: three chunks
        m.store_words(PhysAddr::new(0xff8), &words);
        assert_eq!(m.load(PhysAddr::new(0xff8)), 1);
        assert_eq!(m.load(PhysAddr::new(0x1000)), 3);
        assert_eq!(m.load(PhysAddr::new(0xff8 + 4 * 1029)), 1030);
        let mut back = vec![0; 1030];
        m.load_words(PhysAddr::new(0xff8), &mut back);
        assert_eq!(back, words);
        let before = m.host_bytes();
        m.store_words(PhysAddr::new(0x8000), &[0; 1024]);
        assert_eq!(m.host_bytes(), before, "zeros into an untouched chunk allocate nothing");
        m.store_words(PhysAddr::new(0xff8), &[0, 0]);
        assert_eq!((m.load(PhysAddr::new(0xff8)), m.load(PhysAddr::new(0xffc))), (0, 0));
    }

    #[test]
    fn stores_outside_capacity_are_ignored() {
        let mut m = SparseMemory::new(4096);
        m.store(PhysAddr::new(4096), 1);
        assert_eq!(m.load(PhysAddr::new(4096)), 0);
        assert!(!m.contains(PhysAddr::new(4096)));
    }
}
