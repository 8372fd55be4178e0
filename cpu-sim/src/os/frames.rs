//! The free-frame map: one bit per physical frame, allocated first-fit.

use bitvec::prelude::*;
use mmu_core::Ppn;

/// Which physical frames are in use. First-fit (the lowest free frame), so the
/// physical layout a run produces is easy to predict and to draw.
pub struct FrameBitmap {
    used: BitVec<u64, Lsb0>,
    free: usize,
    /// No frame below this index is free: the first-fit search starts here.
    lowest_maybe_free: usize,
}

impl FrameBitmap {
    /// `frames` free frames.
    pub fn new(frames: usize) -> Self {
        Self { used: bitvec![u64, Lsb0; 0; frames], free: frames, lowest_maybe_free: 0 }
    }
    /// Frames in all.
    pub fn frames(&self) -> usize {
        self.used.len()
    }
    /// Frames free now.
    pub fn free(&self) -> usize {
        self.free
    }
    /// Whether frame `ppn` is in use.
    pub fn is_used(&self, ppn: Ppn) -> bool {
        self.used.get(ppn.as_index()).is_some_and(|b| *b)
    }
    /// Takes the lowest free frame, or `None` if every frame is in use.
    pub fn alloc(&mut self) -> Option<Ppn> {
        let offset = self.used[self.lowest_maybe_free..].first_zero()?;
        let index = self.lowest_maybe_free + offset;
        self.used.set(index, true);
        self.free -= 1;
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
            let begin = from + self.used[from..].first_zero()?;
            let end = begin.checked_add(count).filter(|&end| end <= self.used.len())?;
            match self.used[begin..end].first_one() {
                Some(used) => from = begin + used + 1,
                None => {
                    self.used[begin..end].fill(true);
                    self.free -= count;
                    return Some(Ppn::new(begin as u32));
                }
            }
        }
    }
    /// Returns frame `ppn` to the free pool.
    ///
    /// # Panics
    /// If the frame is not in use: freeing twice is a bug in the OS model.
    pub fn release(&mut self, ppn: Ppn) {
        let index = ppn.as_index();
        assert!(self.used[index], "frame {index} freed while free");
        self.used.set(index, false);
        self.free += 1;
        self.lowest_maybe_free = self.lowest_maybe_free.min(index);
    }
    /// The longest run of consecutive free frames (the largest contiguous allocation
    /// that could still succeed without virtual memory).
    pub fn largest_free_run(&self) -> usize {
        let mut best = 0;
        let mut run = 0;
        for bit in self.used.iter().by_vals() {
            if bit {
                run = 0;
            } else {
                run += 1;
                best = best.max(run);
            }
        }
        best
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
}
