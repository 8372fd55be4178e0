//! Simulated time: a point on the clock (`Cycle`) and a span (`Cycles`).
//!
//! `Cycle + Cycles = Cycle` and `Cycle - Cycle = Cycles`; adding two points is not
//! defined, so latencies and timestamps cannot be confused.

use core::fmt;
use core::ops::{Add, AddAssign};
use serde::{Deserialize, Serialize};

/// A point on the simulated clock, in CPU cycles since the start of the run.
#[derive(Clone, Copy, Default, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(transparent)]
pub struct Cycle(u64);

impl Cycle {
    /// The first cycle of a run.
    pub const ZERO: Self = Self(0);
    /// A point `raw` cycles after the start.
    pub const fn new(raw: u64) -> Self {
        Self(raw)
    }
    /// Cycles since the start of the run.
    pub const fn as_u64(self) -> u64 {
        self.0
    }
    /// The span from `earlier` to `self`, zero if `earlier` is later.
    pub const fn since(self, earlier: Cycle) -> Cycles {
        Cycles(self.0.saturating_sub(earlier.0))
    }
    /// The later of two points.
    #[must_use]
    #[inline]
    pub fn max(self, other: Cycle) -> Cycle {
        Cycle(self.0.max(other.0))
    }
    /// `self + span` without saturating, for a caller that has bounded the
    /// clock beforehand (a run of hits, [`Cycle::add`] otherwise): one add
    /// where saturating takes three. Overflow is a bug (checked in debug builds).
    #[must_use]
    #[inline(always)]
    pub const fn add_bounded(self, span: Cycles) -> Cycle {
        Cycle(self.0 + span.0)
    }
}

impl fmt::Debug for Cycle {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "@{}", self.0)
    }
}

/// A span of CPU cycles: a latency, a busy period, a configured cost.
#[derive(Clone, Copy, Default, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(transparent)]
pub struct Cycles(u64);

impl Cycles {
    /// No time at all.
    pub const ZERO: Self = Self(0);
    /// A span of `raw` cycles.
    pub const fn new(raw: u64) -> Self {
        Self(raw)
    }
    /// The number of cycles.
    pub const fn as_u64(self) -> u64 {
        self.0
    }
}

impl fmt::Debug for Cycles {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} cycles", self.0)
    }
}

impl Add<Cycles> for Cycle {
    type Output = Cycle;
    /// Simulated runs stay far below 2^64 cycles; saturate rather than wrap if not.
    fn add(self, rhs: Cycles) -> Cycle {
        Cycle(self.0.saturating_add(rhs.0))
    }
}

impl AddAssign<Cycles> for Cycle {
    fn add_assign(&mut self, rhs: Cycles) {
        *self = *self + rhs;
    }
}

impl Add for Cycles {
    type Output = Cycles;
    fn add(self, rhs: Cycles) -> Cycles {
        Cycles(self.0.saturating_add(rhs.0))
    }
}

impl AddAssign for Cycles {
    fn add_assign(&mut self, rhs: Cycles) {
        *self = *self + rhs;
    }
}

/// A value together with the cycle at which it is available: what every memory
/// read returns, so that its cost cannot be skipped.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Timed<T> {
    /// The value read (or `()` for a write).
    pub value: T,
    /// The cycle at which the value is available to the requester.
    pub ready_at: Cycle,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn point_plus_span_is_a_point() {
        let t = Cycle::new(10) + Cycles::new(5);
        assert_eq!(t, Cycle::new(15));
        assert_eq!(t.since(Cycle::new(3)), Cycles::new(12));
        assert_eq!(Cycle::new(3).since(t), Cycles::ZERO);
    }
}
