//! Clock (second chance): a hand sweeps the data frames in physical order; a page
//! whose PTEs have the A bit set gets it cleared and is passed over once, the
//! first page found with A clear goes. Clearing A also drops the page's TLB
//! entries: otherwise a TLB hit would never walk, the walker would never set A
//! again, and a hot page would look cold on the next sweep.

use super::Residents;
use crate::error::OsError;
use mmu_core::Ppn;

/// The hand: the frame the next sweep starts at.
#[derive(Debug, Default)]
pub struct Clock {
    hand: u32,
}

impl Clock {
    /// Sweeps from the hand. Two sweeps at most: the first may clear every A bit.
    ///
    /// # Errors
    /// A page table the OS cannot read.
    pub fn victim(&mut self, residents: &mut dyn Residents) -> Result<Option<Ppn>, OsError> {
        let len = residents.scanned().max(1);
        let mut h = self.hand;
        for _ in 0..2 * u64::from(len) + 1 {
            let frame = h % len;
            h = (frame + 1) % len;
            if !residents.holds_data(Ppn::new(frame)) {
                continue;
            }
            if !residents.clear_accessed(Ppn::new(frame))? {
                self.hand = h;
                return Ok(Some(Ppn::new(frame)));
            }
        }
        Ok(None)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Frames 0..4 hold pages; the A bits are given, and clearing is recorded.
    struct Bits(Vec<bool>, Vec<u32>);
    impl Residents for Bits {
        fn scanned(&self) -> u32 {
            self.0.len() as u32
        }
        fn holds_data(&self, _: Ppn) -> bool {
            true
        }
        fn page(&self, frame: Ppn) -> Option<crate::process::PageKey> {
            Some(crate::process::PageKey {
                owner: crate::process::Owner::Process(mmu_core::Pid::new(0)),
                page: frame.as_u32(),
            })
        }
        fn is_dirty(&self, _: Ppn) -> Result<bool, OsError> {
            Ok(false)
        }
        fn clear_accessed(&mut self, frame: Ppn) -> Result<bool, OsError> {
            let was = std::mem::replace(&mut self.0[frame.as_index()], false);
            if was {
                self.1.push(frame.as_u32());
            }
            Ok(was)
        }
    }

    #[test]
    fn referenced_pages_get_a_second_chance_and_the_hand_moves_on() {
        let mut clock = Clock::default();
        let mut bits = Bits(vec![true, false, true, true], Vec::new());
        assert_eq!(clock.victim(&mut bits).unwrap(), Some(Ppn::new(1)));
        assert_eq!(bits.1, [0], "frame 0's A bit was cleared on the way");
        // The hand is at 2: frames 2 and 3 are referenced, 0 no longer is.
        assert_eq!(clock.victim(&mut bits).unwrap(), Some(Ppn::new(0)));
        assert_eq!(bits.1, [0, 2, 3]);
    }
}
