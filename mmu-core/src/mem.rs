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
const CHUNK_BYTES: u64 = 1 << CHUNK_BITS;
/// Chunks per directory: the span (4 MiB) whose allocated chunks are counted
/// together, so a scan skips an empty one in one step.
const DIR_BITS: u32 = 10;
const DIR_CHUNKS: u64 = 1 << DIR_BITS;

type Chunk = [u32; CHUNK_WORDS];

/// Word storage that allocates host memory only for the 4 KiB chunks written.
///
/// A flat table of chunks indexed by the physical address's chunk number, so a
/// lookup is one indexing. The table reaches as far as the highest chunk
/// written (8 bytes per 4 KiB below it: 32 MiB at most, for the 16 GiB the
/// formats address), so making and dropping a memory costs what was written,
/// not the capacity. Allocated chunks are also counted per 4 MiB directory, so
/// scans skip untouched directories in one step. Untouched memory reads as
/// zero.
pub struct SparseMemory {
    capacity_bytes: u64,
    chunks: Vec<Option<Box<Chunk>>>,
    /// Allocated chunks per directory of [`DIR_CHUNKS`] chunks.
    per_directory: Vec<u32>,
    chunks_allocated: u64,
}

impl SparseMemory {
    /// An all-zero memory of `capacity_bytes` (rounded up to whole chunks internally).
    pub fn new(capacity_bytes: u64) -> Self {
        let chunks = usize::try_from(capacity_bytes.div_ceil(CHUNK_BYTES)).unwrap_or(usize::MAX);
        Self {
            capacity_bytes,
            // Grown as chunks are written (`allocate`): making and dropping a
            // memory costs its highest written chunk, not its capacity.
            chunks: Vec::new(),
            per_directory: vec![0; chunks.div_ceil(DIR_CHUNKS as usize)],
            chunks_allocated: 0,
        }
    }

    /// Bytes of simulated memory.
    pub fn capacity_bytes(&self) -> u64 {
        self.capacity_bytes
    }

    /// Host bytes spent on chunks (a measure of the frames touched).
    pub fn host_bytes(&self) -> u64 {
        self.chunks_allocated * CHUNK_BYTES
    }

    /// Whether the directory holding chunk `chunk` has no allocated chunk.
    fn directory_empty(&self, chunk: u64) -> bool {
        self.per_directory.get((chunk >> DIR_BITS) as usize).is_none_or(|&n| n == 0)
    }

    /// Host bytes spent on chunks that overlap `[start, start + bytes)`: how much of
    /// that range has ever held a non-zero word, at 4 KiB granularity.
    pub fn host_bytes_in(&self, start: PhysAddr, bytes: u64) -> u64 {
        let end = start.as_u64().saturating_add(bytes).min(self.capacity_bytes);
        let mut chunk = start.as_u64() / CHUNK_BYTES;
        let mut allocated = 0;
        while chunk * CHUNK_BYTES < end {
            if self.directory_empty(chunk) {
                // An empty directory holds no chunk: skip to the next directory.
                chunk = (chunk | (DIR_CHUNKS - 1)) + 1;
            } else {
                allocated += u64::from(self.chunk(chunk).is_some());
                chunk += 1;
            }
        }
        allocated * CHUNK_BYTES
    }

    /// The start of the first allocated 4 KiB chunk from the one holding `start`
    /// up to `end` (exclusive), `None` if there is none: it skips an empty
    /// directory (4 MiB) in one step, so a scan of a sparse range costs its
    /// directories and its allocated chunks, not its size.
    pub fn next_allocated(&self, start: PhysAddr, end: u64) -> Option<PhysAddr> {
        let end = end.min(self.capacity_bytes);
        let mut chunk = start.as_u64() / CHUNK_BYTES;
        while chunk * CHUNK_BYTES < end {
            if self.directory_empty(chunk) {
                chunk = (chunk | (DIR_CHUNKS - 1)) + 1;
            } else if self.chunk(chunk).is_some() {
                return Some(PhysAddr::new(chunk * CHUNK_BYTES));
            } else {
                chunk += 1;
            }
        }
        None
    }

    /// Whether `addr` is inside the memory.
    #[inline]
    pub fn contains(&self, addr: PhysAddr) -> bool {
        addr.as_u64() < self.capacity_bytes
    }

    /// The chunk numbered `chunk`, if allocated.
    #[inline]
    fn chunk(&self, chunk: u64) -> Option<&Chunk> {
        self.chunks.get(usize::try_from(chunk).ok()?)?.as_deref()
    }

    /// The chunk number and the word's index in it.
    #[inline]
    fn split(addr: PhysAddr) -> (u64, usize) {
        let a = addr.as_u64();
        (a >> CHUNK_BITS, ((a >> 2) as usize) & (CHUNK_WORDS - 1))
    }

    /// The word at `addr` (aligned down to 4 bytes); zero outside the memory.
    #[inline]
    pub fn load(&self, addr: PhysAddr) -> u32 {
        let (c, w) = Self::split(addr);
        self.chunk(c).map_or(0, |chunk| chunk[w])
    }

    /// Stores `value` at `addr` (aligned down to 4 bytes); ignored outside the memory,
    /// which callers rule out with [`SparseMemory::contains`].
    #[inline]
    pub fn store(&mut self, addr: PhysAddr, value: u32) {
        // The common case, a word of a chunk written before: one indexing.
        if !self.store_allocated(addr, value) {
            self.store_new(addr, value);
        }
    }

    /// [`SparseMemory::store`] when it needs no allocation (no call, for a
    /// loop that keeps its state in registers): `false`, with nothing
    /// stored, when `value` is not zero and `addr`'s chunk is not allocated
    /// yet (or `addr` is outside the memory).
    #[inline]
    pub fn store_allocated(&mut self, addr: PhysAddr, value: u32) -> bool {
        let (c, w) = Self::split(addr);
        match self.chunks.get_mut(c as usize) {
            Some(Some(chunk)) => {
                chunk[w] = value;
                true
            }
            _ => value == 0,
        }
    }

    /// [`SparseMemory::store`] of a nonzero word into a chunk not allocated
    /// yet ([`SparseMemory::store_allocated`] refused it).
    #[cold]
    #[inline(never)]
    fn store_new(&mut self, addr: PhysAddr, value: u32) {
        if !self.contains(addr) {
            return;
        }
        let (c, w) = Self::split(addr);
        self.allocate(c)[w] = value;
    }

    /// Allocates the (untouched, inside the memory) chunk numbered `chunk`, zeroed.
    fn allocate(&mut self, chunk: u64) -> &mut Chunk {
        self.chunks_allocated += 1;
        if let Some(count) = self.per_directory.get_mut((chunk >> DIR_BITS) as usize) {
            *count += 1;
        }
        let chunk = chunk as usize;
        if chunk >= self.chunks.len() {
            // Doubling, so a run writing upwards resizes a logarithmic number of times.
            let len =
                (chunk + 1).max(2 * self.chunks.len()).min(self.per_directory.len() * DIR_CHUNKS as usize);
            self.chunks.resize_with(len.max(chunk + 1), || None);
        }
        self.chunks[chunk].insert(Box::new([0; CHUNK_WORDS]))
    }

    /// Reads `out.len()` consecutive words from `addr` (word aligned), a chunk at a
    /// time; words outside the memory read as zero.
    pub fn load_words(&self, addr: PhysAddr, out: &mut [u32]) {
        let mut done = 0;
        while done < out.len() {
            let a = addr.as_u64() + 4 * done as u64;
            let (c, w) = Self::split(PhysAddr::new(a));
            let n = (CHUNK_WORDS - w).min(out.len() - done);
            let dst = &mut out[done..done + n];
            match self.chunk(c) {
                Some(chunk) if a < self.capacity_bytes => dst.copy_from_slice(&chunk[w..w + n]),
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
            let (c, w) = Self::split(PhysAddr::new(a));
            let n = (CHUNK_WORDS - w).min(words.len() - done);
            let src = &words[done..done + n];
            done += n;
            if !self.contains(PhysAddr::new(a)) {
                continue;
            }
            match self.chunks.get_mut(c as usize).and_then(Option::as_mut) {
                Some(chunk) => chunk[w..w + n].copy_from_slice(src),
                None if src.iter().any(|&v| v != 0) => self.allocate(c)[w..w + n].copy_from_slice(src),
                None => {}
            }
        }
    }

    /// Zeroes `bytes` bytes from `addr` (both word aligned), freeing whole chunks.
    pub fn zero(&mut self, addr: PhysAddr, bytes: u64) {
        let mut a = addr.as_u64();
        let end = a.saturating_add(bytes).min(self.capacity_bytes);
        while a < end {
            let (c, _) = Self::split(PhysAddr::new(a));
            let chunk_start = a & !(CHUNK_BYTES - 1);
            if a == chunk_start && end - a >= CHUNK_BYTES {
                if self.chunks.get_mut(c as usize).and_then(Option::take).is_some() {
                    self.chunks_allocated -= 1;
                    if let Some(count) = self.per_directory.get_mut((c >> DIR_BITS) as usize) {
                        *count -= 1;
                    }
                }
                a += CHUNK_BYTES;
            } else {
                let stop = (chunk_start + CHUNK_BYTES).min(end);
                if let Some(Some(chunk)) = self.chunks.get_mut(c as usize) {
                    for word in (a..stop).step_by(4) {
                        chunk[((word >> 2) as usize) & (CHUNK_WORDS - 1)] = 0;
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
    fn store_allocated_refuses_only_what_would_allocate() {
        let mut m = SparseMemory::new(1 << 20);
        // Zero into untouched storage changes nothing: done, nothing allocated.
        assert!(m.store_allocated(PhysAddr::new(0x1000), 0));
        assert_eq!(m.host_bytes(), 0);
        // A nonzero word there, or outside the memory, is refused and not stored.
        assert!(!m.store_allocated(PhysAddr::new(0x1004), 5));
        assert!(!m.store_allocated(PhysAddr::new(2 << 20), 5));
        assert_eq!((m.load(PhysAddr::new(0x1004)), m.host_bytes()), (0, 0));
        // Once the chunk is allocated, any word of it is stored.
        m.store(PhysAddr::new(0x1000), 1);
        assert!(m.store_allocated(PhysAddr::new(0x1ffc), 6));
        assert_eq!(m.load(PhysAddr::new(0x1ffc)), 6);
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
