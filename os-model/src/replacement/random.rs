//! Random: a resident data frame chosen with the OS's own seeded stream.

use super::Residents;
use mmu_core::{Ppn, SimRng};
use rand::RngExt;

/// The policy's random stream.
#[derive(Debug)]
pub struct Random {
    rng: Box<SimRng>,
}

impl Random {
    /// A policy drawing from `rng`.
    pub fn new(rng: SimRng) -> Self {
        Self { rng: Box::new(rng) }
    }

    /// The k-th resident data frame in physical order, k drawn uniformly.
    pub fn victim(&mut self, residents: &dyn Residents) -> Option<Ppn> {
        let resident = || (0..residents.scanned()).map(Ppn::new).filter(|&f| residents.holds_data(f));
        let count = resident().count();
        if count == 0 {
            return None;
        }
        let k = self.rng.random_range(0..count);
        resident().nth(k)
    }
}
