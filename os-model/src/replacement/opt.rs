//! OPT (Belady): evict the page whose next use lies furthest in the future. It
//! needs the future, which a streamed workload does not have: before the run, a
//! first pass over the same workload (the trace read a second time, or the seeded
//! generators built again) records for every access the index of the next access
//! to the same page ([`Future`]). That costs 8 bytes per access of the workload
//! plus a map over the distinct pages while it is built; victim selection then
//! scans the resident frames (O(frames) per eviction).

use super::Residents;
use crate::error::OsError;
use crate::os::Os;
use crate::process::PageKey;
use mmu_core::{AccessKind, Pid, Ppn, VirtAddr};
use std::collections::HashMap;

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

/// Builds a [`Future`] by replaying a workload without simulating it: accesses are
/// numbered exactly as the CPU numbers them, and a process stops where the OS
/// would stop it (see `process::admits`), so the two passes agree.
pub struct FutureBuilder<'a> {
    os: &'a Os,
    current: Pid,
    stopped: Vec<bool>,
    last: HashMap<PageKey, u64>,
    next_use: Vec<u64>,
}

impl<'a> FutureBuilder<'a> {
    /// A builder for the processes of `os`, starting with process 0.
    pub fn new(os: &'a Os) -> Self {
        Self {
            os,
            current: Pid::new(0),
            stopped: vec![false; os.process_count()],
            last: HashMap::new(),
            next_use: Vec::new(),
        }
    }

    /// Makes `pid` the process whose accesses follow.
    pub fn switch(&mut self, pid: Pid) {
        self.current = pid;
    }

    /// Whether `pid` is still running in the replay.
    pub fn is_running(&self, pid: Pid) -> bool {
        !self.stopped.get(pid.as_u32() as usize).copied().unwrap_or(true)
    }

    /// Replays one access of the current process, as the trace player would
    /// issue it: accesses of a stopped process and unaligned ones never reach the
    /// memory system and are not numbered; the others are numbered in order, and
    /// one the OS would refuse stops its process.
    pub fn access(&mut self, kind: AccessKind, vaddr: VirtAddr) {
        let pid = self.current;
        let p = pid.as_u32() as usize;
        if self.stopped.get(p).copied().unwrap_or(true) || !vaddr.is_word_aligned() {
            return;
        }
        let index = self.next_use.len() as u64;
        self.next_use.push(NEVER);
        let Some(key) = self.os.admitted_page(pid, kind, vaddr) else {
            self.stopped[p] = true;
            return;
        };
        if let Some(previous) = self.last.insert(key, index) {
            self.next_use[previous as usize] = index;
        }
    }

    /// The future recorded.
    pub fn finish(self) -> Future {
        Future { next_use: self.next_use }
    }
}
