//! The frame table: which physical frames are free, which hold page tables and
//! which hold which data page. Data frames come from a first-fit free-frame
//! bitmap; with `os.data_frames`, page tables have a pool of their own above it.

use crate::process::PageKey;
use bitvec::prelude::*;
use mmu_core::Ppn;

/// What a frame holds.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum FrameUse {
    /// Nothing.
    Free,
    /// A node of a page table (pinned).
    Table,
    /// A data page.
    Data(PageKey),
}

/// Every frame the OS manages and what it holds.
pub struct FrameTable {
    /// Frames `0..data.frames()`: data pages (and, without a table pool, tables too).
    data: FrameBitmap,
    /// With `os.data_frames`, the table pool: frames from `data.frames()` on.
    tables: Option<FrameBitmap>,
    /// What each frame of the data pool holds, grown as higher frames are used.
    uses: Vec<FrameUse>,
    /// Frames of the data pool holding data pages now.
    data_in_use: u64,
    /// Data frames holding a superpage's base page other than its first (a tail):
    /// replacement policies see a superpage as its first frame only. Grown as
    /// superpages are taken; frames past its end are not tails.
    tails: BitVec<u64, Lsb0>,
    /// Frames per superpage (all superpages have one size); 1 before the first.
    superpage_frames: u32,
}

/// Where a new page-table frame came from, or why none was free.
pub enum TableFrame {
    /// A frame, already marked as a table.
    Taken(Ppn),
    /// The table pool is full (tables are pinned: nothing can be evicted for them).
    PoolFull {
        /// Frames of the table pool.
        frames: u64,
    },
    /// The shared pool is full: a data page must be evicted first.
    NeedsEviction,
}

impl FrameTable {
    /// `data` frames for data (and tables, when `tables` is 0), then `tables`
    /// frames for page tables only.
    pub fn new(data: u64, tables: u64) -> Self {
        Self {
            data: FrameBitmap::new(data as usize),
            tables: (tables > 0).then(|| FrameBitmap::new(tables as usize)),
            uses: Vec::new(),
            data_in_use: 0,
            tails: BitVec::new(),
            superpage_frames: 1,
        }
    }

    /// Frames of the data pool.
    pub fn data_frames(&self) -> u64 {
        self.data.frames() as u64
    }

    /// Frames free in both pools.
    pub fn free(&self) -> u64 {
        (self.data.free() + self.tables.as_ref().map_or(0, FrameBitmap::free)) as u64
    }

    /// Frames of the data pool holding data pages now.
    pub fn data_in_use(&self) -> u64 {
        self.data_in_use
    }

    /// The longest run of consecutive free data frames.
    pub fn largest_free_run(&self) -> u64 {
        self.data.largest_free_run() as u64
    }

    /// What `frame` holds (frames of the table pool are not tracked: `Free`).
    pub fn use_of(&self, frame: Ppn) -> FrameUse {
        self.uses.get(frame.as_index()).copied().unwrap_or(FrameUse::Free)
    }

    /// Frames `0..n` of the data pool that have ever been used, for scans.
    pub fn scanned(&self) -> u32 {
        self.uses.len() as u32
    }

    /// Data frames holding a page now, lowest first.
    pub fn resident(&self) -> impl Iterator<Item = (Ppn, PageKey)> + '_ {
        self.uses.iter().enumerate().filter_map(|(i, u)| match u {
            FrameUse::Data(key) => Some((Ppn::new(i as u32), *key)),
            FrameUse::Free | FrameUse::Table => None,
        })
    }

    fn set_use(&mut self, frame: Ppn, usage: FrameUse) {
        let i = frame.as_index();
        if i >= self.data.frames() {
            return;
        }
        if self.uses.len() <= i {
            self.uses.resize(i + 1, FrameUse::Free);
        }
        self.uses[i] = usage;
    }

    /// Takes the lowest free data frame for `key`, or `None` when every one is used.
    pub fn alloc_data(&mut self, key: PageKey) -> Option<Ppn> {
        let frame = self.data.alloc()?;
        self.set_use(frame, FrameUse::Data(key));
        self.data_in_use += 1;
        Some(frame)
    }

    /// Takes the lowest free run of `count` data frames aligned to `count` (the
    /// frames of a superpage), the frame `first + i` for page `key(i)`; `None`
    /// when no such run is free.
    pub fn alloc_data_aligned(&mut self, count: u32, key: impl Fn(u32) -> PageKey) -> Option<Ppn> {
        let first = self.data.alloc_aligned(count as usize)?;
        for i in 0..count {
            self.set_use(Ppn::new(first.as_u32() + i), FrameUse::Data(key(i)));
        }
        let end = first.as_index() + count as usize;
        if self.tails.len() < end {
            self.tails.resize(end, false);
        }
        self.tails[first.as_index() + 1..end].fill(true);
        self.superpage_frames = count;
        self.data_in_use += u64::from(count);
        Some(first)
    }

    /// Whether the data pool has a free run of `count` frames aligned to `count`.
    pub fn has_aligned_free_run(&self, count: u32) -> bool {
        self.data.find_aligned(count as usize).is_some()
    }

    /// Whether `frame` holds a superpage's base page other than its first.
    #[inline]
    pub fn is_tail(&self, frame: Ppn) -> bool {
        self.tails.get(frame.as_index()).is_some_and(|b| *b)
    }

    /// The frame a replacement policy knows `frame` by: the first frame of its
    /// superpage, or itself.
    #[inline]
    pub fn unit_of(&self, frame: Ppn) -> Ppn {
        if self.is_tail(frame) { Ppn::new(frame.as_u32() & !(self.superpage_frames - 1)) } else { frame }
    }

    /// Whether some run of `count` data frames aligned to `count` holds no page
    /// table, so that evicting data pages can free it.
    pub fn may_free_aligned_run(&self, count: u32) -> bool {
        let count = count as usize;
        (0..self.data.frames())
            .step_by(count.max(1))
            .take_while(|&b| b + count <= self.data.frames())
            .any(|b| (b..b + count).all(|i| self.uses.get(i).is_none_or(|u| *u != FrameUse::Table)))
    }

    /// Takes a frame for a page-table node.
    pub fn alloc_table(&mut self) -> TableFrame {
        let offset = self.data.frames() as u32;
        match &mut self.tables {
            Some(pool) => match pool.alloc() {
                Some(f) => TableFrame::Taken(Ppn::new(f.as_u32() + offset)),
                None => TableFrame::PoolFull { frames: pool.frames() as u64 },
            },
            None => match self.data.alloc() {
                Some(f) => {
                    self.set_use(f, FrameUse::Table);
                    TableFrame::Taken(f)
                }
                None => TableFrame::NeedsEviction,
            },
        }
    }

    /// Takes the lowest run of `count` contiguous frames for a page-table node
    /// larger than a page, from the table pool if there is one; `Err` carries the
    /// frames of the pool that had no such run.
    pub fn alloc_table_run(&mut self, count: u64) -> Result<Ppn, u64> {
        let offset = self.data.frames() as u32;
        match &mut self.tables {
            Some(pool) => pool
                .alloc_contiguous(count as usize)
                .map(|f| Ppn::new(f.as_u32() + offset))
                .ok_or(pool.frames() as u64),
            None => {
                let run = self.data.alloc_contiguous(count as usize).ok_or(self.data.frames() as u64)?;
                for i in 0..count as u32 {
                    self.set_use(Ppn::new(run.as_u32() + i), FrameUse::Table);
                }
                Ok(run)
            }
        }
    }

    /// Returns `frame` to its pool; says which data page it held, if any.
    pub fn release(&mut self, frame: Ppn) -> Option<PageKey> {
        let i = frame.as_index();
        if i < self.data.frames() {
            let held = match self.use_of(frame) {
                FrameUse::Data(key) => {
                    self.data_in_use -= 1;
                    Some(key)
                }
                FrameUse::Free | FrameUse::Table => None,
            };
            self.set_use(frame, FrameUse::Free);
            if i < self.tails.len() {
                self.tails.set(i, false);
            }
            self.data.release(frame);
            held
        } else {
            if let Some(pool) = &mut self.tables {
                pool.release(Ppn::new(frame.as_u32() - self.data.frames() as u32));
            }
            None
        }
    }

    /// Whether `frame` holds a page table now.
    pub fn is_table(&self, frame: Ppn) -> bool {
        let data = self.data.frames();
        if frame.as_index() < data {
            self.use_of(frame) == FrameUse::Table
        } else {
            self.tables.as_ref().is_some_and(|pool| pool.is_used(Ppn::new(frame.as_u32() - data as u32)))
        }
    }
}

/// Which physical frames are in use. First-fit (the lowest free frame), so the
/// physical layout a run produces is easy to predict and to draw.
///
/// The bitmap holds a bit for each frame below the highest frame ever taken (the
/// high-water mark) and grows as higher frames are taken; every frame above it is
/// free. Building one, and every query of it, so costs host time and memory in
/// proportion to the frames a run used, not to the configured DRAM: with 4 GiB of
/// DRAM a full-length bitmap took 21 M host instructions to scan at the end of
/// every run (#15).
pub struct FrameBitmap {
    /// One bit per frame below the high-water mark, set when in use.
    used: BitVec<u64, Lsb0>,
    /// Frames in all.
    frames: usize,
    free: usize,
    /// No frame below this index is free: the first-fit search starts here.
    lowest_maybe_free: usize,
}

impl FrameBitmap {
    /// `frames` free frames.
    pub fn new(frames: usize) -> Self {
        Self { used: BitVec::new(), frames, free: frames, lowest_maybe_free: 0 }
    }
    /// Frames in all.
    pub fn frames(&self) -> usize {
        self.frames
    }
    /// Frames free now.
    pub fn free(&self) -> usize {
        self.free
    }
    /// Whether frame `ppn` is in use.
    pub fn is_used(&self, ppn: Ppn) -> bool {
        self.used.get(ppn.as_index()).is_some_and(|b| *b)
    }
    /// The lowest free frame at or above `from`, if any.
    fn first_free_from(&self, from: usize) -> Option<usize> {
        let tracked = self.used.len();
        match self.used.get(from..).and_then(BitSlice::first_zero) {
            Some(offset) => Some(from + offset),
            // Every tracked frame from `from` on is used: the first untracked one is free.
            None => Some(from.max(tracked)).filter(|&f| f < self.frames),
        }
    }
    /// Whether no frame of `begin..end` (within the frames) is in use.
    fn run_is_free(&self, begin: usize, end: usize) -> bool {
        let tracked_end = end.min(self.used.len());
        begin >= tracked_end || self.used[begin..tracked_end].not_any()
    }
    /// Marks `begin..end` used, growing the bitmap to cover it.
    fn take(&mut self, begin: usize, end: usize) {
        if self.used.len() < end {
            self.used.resize(end, false);
        }
        self.used[begin..end].fill(true);
        self.free -= end - begin;
    }
    /// Takes the lowest free frame, or `None` if every frame is in use.
    pub fn alloc(&mut self) -> Option<Ppn> {
        let index = self.first_free_from(self.lowest_maybe_free)?;
        self.take(index, index + 1);
        self.lowest_maybe_free = index + 1;
        Some(Ppn::new(index as u32))
    }
    /// Takes the lowest run of `count` consecutive free frames (a page-table node
    /// larger than a page), or `None` if there is no such run.
    pub fn alloc_contiguous(&mut self, count: usize) -> Option<Ppn> {
        if count == 0 {
            return None;
        }
        let mut from = self.lowest_maybe_free;
        loop {
            let begin = self.first_free_from(from)?;
            let end = begin.checked_add(count).filter(|&end| end <= self.frames)?;
            let tracked_end = end.min(self.used.len());
            match self.used.get(begin..tracked_end).and_then(BitSlice::first_one) {
                Some(used) => from = begin + used + 1,
                None => {
                    self.take(begin, end);
                    return Some(Ppn::new(begin as u32));
                }
            }
        }
    }
    /// The lowest free run of `count` frames starting at a multiple of `count`.
    pub fn find_aligned(&self, count: usize) -> Option<usize> {
        if count == 0 || self.free < count {
            return None;
        }
        let start = self.lowest_maybe_free.next_multiple_of(count);
        // Past the high-water mark every run is free: the search ends there at the latest.
        (start..self.frames)
            .step_by(count)
            .take_while(|&b| b + count <= self.frames)
            .find(|&b| self.run_is_free(b, b + count))
    }
    /// Takes the lowest free run of `count` frames aligned to `count` (a superpage's
    /// frames, whose first PPN a superpage PTE requires aligned), or `None`.
    pub fn alloc_aligned(&mut self, count: usize) -> Option<Ppn> {
        let begin = self.find_aligned(count)?;
        self.take(begin, begin + count);
        if begin == self.lowest_maybe_free {
            self.lowest_maybe_free = begin + count;
        }
        Some(Ppn::new(begin as u32))
    }
    /// Returns frame `ppn` to the free pool.
    ///
    /// # Panics
    /// If the frame is not in use: freeing twice is a bug in the OS model.
    pub fn release(&mut self, ppn: Ppn) {
        let index = ppn.as_index();
        assert!(self.is_used(ppn), "frame {index} freed while free");
        self.used.set(index, false);
        self.free += 1;
        self.lowest_maybe_free = self.lowest_maybe_free.min(index);
    }
    /// The longest run of consecutive free frames (the largest contiguous allocation
    /// that could still succeed without virtual memory).
    ///
    /// Walks the runs of the tracked frames a word at a time; the untracked frames
    /// above the high-water mark are one free run, joined to the last tracked one.
    pub fn largest_free_run(&self) -> usize {
        let tracked = self.used.len();
        let mut best = 0;
        let mut pos = 0;
        while let Some(start) = self.used[pos..].first_zero().map(|z| pos + z) {
            match self.used[start..].first_one() {
                Some(run) => {
                    best = best.max(run);
                    pos = start + run;
                }
                // The run reaches the high-water mark and goes on to the last frame.
                None => return best.max(self.frames - start),
            }
        }
        best.max(self.frames - tracked)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn first_fit_reuses_the_lowest_freed_frame() {
        let mut f = FrameBitmap::new(4);
        let got: Vec<u32> = (0..4).map(|_| f.alloc().unwrap().as_u32()).collect();
        assert_eq!(got, [0, 1, 2, 3]);
        assert_eq!(f.alloc(), None);
        f.release(Ppn::new(2));
        f.release(Ppn::new(1));
        assert_eq!(f.free(), 2);
        assert_eq!(f.alloc(), Some(Ppn::new(1)));
        assert_eq!(f.alloc(), Some(Ppn::new(2)));
    }

    #[test]
    fn largest_free_run_sees_fragmentation() {
        // The seed's example: [A, B, B, O] then A exits: [O, B, B, O].
        let mut f = FrameBitmap::new(4);
        for _ in 0..3 {
            f.alloc();
        }
        assert_eq!(f.largest_free_run(), 1);
        f.release(Ppn::new(0));
        assert_eq!(f.free(), 2);
        assert_eq!(f.largest_free_run(), 1, "two frames free, but not two in a row");
    }

    #[test]
    fn contiguous_runs_skip_holes_that_are_too_small() {
        let mut f = FrameBitmap::new(8);
        for _ in 0..4 {
            f.alloc();
        }
        f.release(Ppn::new(1)); // free: 1, 4..7
        assert_eq!(f.alloc_contiguous(2), Some(Ppn::new(4)), "frame 1 alone is too small");
        assert_eq!(f.alloc_contiguous(3), None);
        assert_eq!(f.alloc_contiguous(2), Some(Ppn::new(6)));
        assert_eq!(f.free(), 1);
        assert_eq!(f.alloc(), Some(Ppn::new(1)), "single frames still come first-fit");
        assert_eq!(f.alloc_contiguous(0), None);
    }

    #[test]
    #[should_panic(expected = "freed while free")]
    fn double_free_is_a_bug() {
        let mut f = FrameBitmap::new(2);
        f.release(Ppn::new(0));
    }

    /// The obvious first-fit model, a `bool` per configured frame with full
    /// scans: the oracle of the bitmap that grows with the frames used.
    struct FullScan {
        used: Vec<bool>,
    }

    impl FullScan {
        fn free(&self) -> usize {
            self.used.iter().filter(|u| !**u).count()
        }
        fn take(&mut self, begin: usize, count: usize) -> Option<Ppn> {
            self.used[begin..begin + count].fill(true);
            Some(Ppn::new(begin as u32))
        }
        fn alloc(&mut self) -> Option<Ppn> {
            let begin = self.used.iter().position(|u| !*u)?;
            self.take(begin, 1)
        }
        fn alloc_contiguous(&mut self, count: usize) -> Option<Ppn> {
            if count == 0 {
                return None;
            }
            let begin = (0..self.used.len().checked_sub(count)? + 1)
                .find(|&b| !self.used[b..b + count].contains(&true))?;
            self.take(begin, count)
        }
        fn find_aligned(&self, count: usize) -> Option<usize> {
            (0..self.used.len())
                .step_by(count)
                .take_while(|&b| b + count <= self.used.len())
                .find(|&b| !self.used[b..b + count].contains(&true))
        }
        fn largest_free_run(&self) -> usize {
            self.used.split(|u| *u).map(<[bool]>::len).max().unwrap_or(0)
        }
    }

    #[derive(Clone, Debug)]
    enum Op {
        Alloc,
        AllocContiguous(usize),
        AllocAligned(usize),
        /// Releases the `n % used`-th used frame.
        Release(usize),
    }

    fn op() -> impl proptest::strategy::Strategy<Value = Op> {
        use proptest::prelude::*;
        prop_oneof![
            4 => Just(Op::Alloc),
            1 => (0usize..6).prop_map(Op::AllocContiguous),
            1 => prop::sample::select(vec![1usize, 2, 4, 8, 16]).prop_map(Op::AllocAligned),
            3 => any::<usize>().prop_map(Op::Release),
        ]
    }

    proptest::proptest! {
        /// On any sequence of allocations and releases, the bitmap that tracks only
        /// the frames below its high-water mark answers as a full bitmap of every
        /// frame scanned end to end: the same frames taken, the same frames in use,
        /// the same free count and the same largest free run.
        #[test]
        fn the_growing_bitmap_answers_as_a_full_scan(
            frames in 0usize..200,
            ops in proptest::collection::vec(op(), 0..300),
        ) {
            let mut bitmap = FrameBitmap::new(frames);
            let mut oracle = FullScan { used: vec![false; frames] };
            for op in ops {
                match op {
                    Op::Alloc => proptest::prop_assert_eq!(bitmap.alloc(), oracle.alloc()),
                    Op::AllocContiguous(n) => {
                        proptest::prop_assert_eq!(bitmap.alloc_contiguous(n), oracle.alloc_contiguous(n));
                    }
                    Op::AllocAligned(n) => {
                        let expected = oracle.find_aligned(n);
                        proptest::prop_assert_eq!(bitmap.find_aligned(n), expected);
                        let taken = expected.and_then(|b| oracle.take(b, n));
                        proptest::prop_assert_eq!(bitmap.alloc_aligned(n), taken);
                    }
                    Op::Release(n) => {
                        let used: Vec<usize> = (0..frames).filter(|&i| oracle.used[i]).collect();
                        if !used.is_empty() {
                            let frame = used[n % used.len()];
                            oracle.used[frame] = false;
                            bitmap.release(Ppn::new(frame as u32));
                        }
                    }
                }
                proptest::prop_assert_eq!(bitmap.free(), oracle.free());
                proptest::prop_assert_eq!(bitmap.largest_free_run(), oracle.largest_free_run());
                for (i, &u) in oracle.used.iter().enumerate() {
                    proptest::prop_assert_eq!(bitmap.is_used(Ppn::new(i as u32)), u, "frame {}", i);
                }
            }
        }
    }
}
