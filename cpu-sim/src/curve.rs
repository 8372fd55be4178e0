//! One-pass miss-ratio curves of a TLB: the references the named TLB sees during
//! a run (its lookups outside fault retries, keyed by the entry that serves each:
//! `tlb::ReferenceTap`) fed to `mrc::TlbCurve`, which gives the LRU miss count of
//! every requested geometry from that one pass (Mattson et al., 1970; Hill and
//! Smith, 1989).
//!
//! Exact when the TLB sees no selective invalidation (shootdowns, Clock's A-bit
//! clears, fences by address): full flushes are modelled, selective ones are not,
//! and [`CurveRun::invalidations`] says how many entries they removed.

use mrc::{Geometry, GeometryError, Point, TlbCurve};
use tlb::{FLUSH, ReferenceTap};

/// A curve being built during a run.
#[derive(Clone, Debug)]
pub struct CurveRun {
    /// The TLB observed.
    pub tlb: String,
    curve: TlbCurve,
    unfilled: u64,
    /// Entries removed from the observed TLB by selective invalidations.
    pub invalidations: u64,
    /// The points at the end of a warm-up: subtracted, so that the warm-up fills
    /// the stacks without counting.
    baseline: Option<Vec<Point>>,
    baseline_unfilled: u64,
}

impl CurveRun {
    /// A curve of `geometries` for the TLB named `tlb`.
    ///
    /// # Errors
    /// A geometry that breaks a TLB's rules.
    pub fn new(tlb: &str, geometries: &[Geometry]) -> Result<Self, GeometryError> {
        Ok(Self {
            tlb: tlb.to_string(),
            curve: TlbCurve::new(geometries)?,
            unfilled: 0,
            invalidations: 0,
            baseline: None,
            baseline_unfilled: 0,
        })
    }

    /// Feeds the references the tap recorded, and empties it.
    #[inline]
    pub fn drain(&mut self, tap: &mut ReferenceTap) {
        if tap.references.is_empty() && tap.unfilled == 0 && tap.invalidations == 0 {
            return;
        }
        for &(key, vpn) in &tap.references {
            if key == FLUSH {
                self.curve.flush();
            } else {
                self.curve.reference(key, u64::from(vpn));
            }
        }
        tap.references.clear();
        self.unfilled += std::mem::take(&mut tap.unfilled);
        self.invalidations += std::mem::take(&mut tap.invalidations);
    }

    /// The end of a warm-up: what came before stops counting.
    pub fn start_counting(&mut self) {
        self.baseline = Some(self.curve.points());
        self.baseline_unfilled = self.unfilled;
        self.invalidations = 0;
    }

    /// Each requested geometry's references and misses (counted since the warm-up,
    /// if any). A miss no fill followed (the access faulted for good) is a miss of
    /// every geometry.
    pub fn points(&self) -> Vec<Point> {
        let unfilled = self.unfilled - self.baseline_unfilled;
        let mut points = self.curve.points();
        for (i, p) in points.iter_mut().enumerate() {
            if let Some(base) = self.baseline.as_ref().and_then(|b| b.get(i)) {
                p.references -= base.references;
                p.misses -= base.misses;
                p.cold_misses -= base.cold_misses;
            }
            p.references += unfilled;
            p.misses += unfilled;
        }
        points
    }
}
