//! FIFO: evict the page loaded longest ago; a swapped-in page counts as newly loaded.

use super::list::FrameList;
use mmu_core::Ppn;

/// Frames in the order their pages arrived.
#[derive(Debug, Default)]
pub struct Fifo {
    arrivals: FrameList,
}

impl Fifo {
    /// A page arrived in `frame`.
    pub fn loaded(&mut self, frame: Ppn) {
        self.arrivals.push_back(frame);
    }
    /// `frame` was freed.
    pub fn removed(&mut self, frame: Ppn) {
        self.arrivals.remove(frame);
    }
    /// The oldest arrival.
    pub fn victim(&self) -> Option<Ppn> {
        self.arrivals.front()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_first_page_in_goes_first_whatever_its_use() {
        let mut p = Fifo::default();
        for f in [4, 2, 9] {
            p.loaded(Ppn::new(f));
        }
        assert_eq!(p.victim(), Some(Ppn::new(4)));
        p.removed(Ppn::new(4));
        p.loaded(Ppn::new(4));
        assert_eq!(p.victim(), Some(Ppn::new(2)), "a reloaded frame goes to the back");
    }
}
