//! OPT (Belady): evict the page whose next use lies furthest in the future. It
//! needs the future, which a streamed workload does not have: before the run, a
//! first pass over the same workload (the trace read a second time, or the seeded
//! generators built again) records for every access the index of the next access
//! to the same page ([`Future`]). That costs 8 bytes per access of the workload
//! plus a map over the distinct pages while it is built; victim selection then
//! scans the resident frames (O(frames) per eviction).
//!
//! The look-ahead is allocated with `try_reserve`: a workload whose look-ahead
//! does not fit in host memory stops before the run with the bytes it needs
//! (`OsError::LookAheadTooLarge`, from `FutureBuilder`), never with an aborted allocation.

use super::Residents;
use crate::error::OsError;
use crate::process::PageKey;
use mmu_core::Ppn;

/// Host bytes of the look-ahead per access of the workload.
pub const LOOK_AHEAD_BYTES_PER_ACCESS: u64 = std::mem::size_of::<u64>() as u64;

/// "Never used again" in a [`Future`].
pub const NEVER: u64 = u64::MAX;

/// Each resident frame's next use, and the future it is read from.
#[derive(Debug, Default)]
pub struct Opt {
    next_use: Vec<u64>,
    future: Option<Future>,
}

impl Opt {
    /// Whether the future was given.
    pub fn knows_future(&self) -> bool {
        self.future.is_some()
    }
    /// Gives the future of the workload about to run.
    pub fn set_future(&mut self, future: Future) {
        self.future = Some(future);
    }
    /// A page arrived in `frame`; its next use is set by the access that faulted.
    pub fn loaded(&mut self, frame: Ppn) {
        let f = frame.as_index();
        if self.next_use.len() <= f {
            self.next_use.resize(f + 1, NEVER);
        }
        self.next_use[f] = NEVER;
    }
    /// Access number `index` completed in `frame`.
    #[inline]
    pub fn touched(&mut self, frame: Ppn, index: u64) {
        if let (Some(slot), Some(future)) = (self.next_use.get_mut(frame.as_index()), &self.future) {
            *slot = future.next_use(index);
        }
    }
    /// The resident frame used furthest in the future. Only pages never used again
    /// can tie (an access touches one page, so two pages never share a next use);
    /// among those the victim is a clean page (no write-back) if there is one, and
    /// among equally clean ones the lowest page ([`PageKey`] order: owner, then
    /// page number). Any of them gives the fewest faults; the clean one also saves
    /// the write, and the page order makes the choice independent of where the
    /// pages happen to sit in memory.
    ///
    /// # Errors
    /// `Internal` when the future was never given; a page table the OS cannot read.
    pub fn victim(&self, residents: &dyn Residents) -> Result<Option<Ppn>, OsError> {
        if self.future.is_none() {
            return Err(OsError::Internal(
                "OPT needs the workload's future before the run (Os::set_future)".into(),
            ));
        }
        let mut best: Option<(u64, Ppn)> = None;
        let mut never: Vec<(PageKey, Ppn)> = Vec::new();
        for frame in (0..residents.scanned()).map(Ppn::new) {
            if residents.holds_data(frame) {
                let next = self.next_use.get(frame.as_index()).copied().unwrap_or(NEVER);
                if next == NEVER {
                    if let Some(key) = residents.page(frame) {
                        never.push((key, frame));
                    }
                } else if best.is_none_or(|(b, _)| next > b) {
                    best = Some((next, frame));
                }
            }
        }
        if never.is_empty() {
            return Ok(best.map(|(_, f)| f));
        }
        never.sort_unstable();
        for &(_, frame) in &never {
            if !residents.is_dirty(frame)? {
                return Ok(Some(frame));
            }
        }
        Ok(Some(never[0].1))
    }
}

/// For every access of a workload, the index of the next access to the same page
/// ([`NEVER`] if none): what OPT knows of the future.
#[derive(Clone, Debug, Default)]
pub struct Future {
    next_use: Vec<u64>,
}

impl Future {
    /// The future given by each access's next use ([`NEVER`] for none).
    pub fn from_next_uses(next_use: Vec<u64>) -> Self {
        Self { next_use }
    }
    /// The next use of the page that access `index` touched.
    #[inline]
    pub fn next_use(&self, index: u64) -> u64 {
        self.next_use.get(index as usize).copied().unwrap_or(NEVER)
    }
    /// Accesses covered.
    pub fn len(&self) -> usize {
        self.next_use.len()
    }
    /// Whether no access is covered.
    pub fn is_empty(&self) -> bool {
        self.next_use.is_empty()
    }
}
