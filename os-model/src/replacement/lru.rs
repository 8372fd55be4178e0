//! LRU, exact: every completed access (TLB hits included) moves its frame to the
//! back of a list, so the front is the least recently used page.

use super::list::FrameList;
use mmu_core::Ppn;

/// Frames from least to most recently used.
#[derive(Debug, Default)]
pub struct Lru {
    recency: FrameList,
}

impl Lru {
    /// A page arrived in `frame` (its use is the access that faulted it in).
    pub fn loaded(&mut self, frame: Ppn) {
        self.recency.push_back(frame);
    }
    /// `frame` was freed.
    pub fn removed(&mut self, frame: Ppn) {
        self.recency.remove(frame);
    }
    /// An access completed in `frame`.
    #[inline]
    pub fn touched(&mut self, frame: Ppn) {
        self.recency.move_to_back(frame);
    }
    /// The least recently used frame.
    pub fn victim(&self) -> Option<Ppn> {
        self.recency.front()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_use_saves_a_page_from_eviction() {
        let mut p = Lru::default();
        for f in [1, 2, 3] {
            p.loaded(Ppn::new(f));
        }
        p.touched(Ppn::new(1));
        assert_eq!(p.victim(), Some(Ppn::new(2)));
    }
}
