//! OPT's look-ahead: the workload replayed once without simulating it, to record
//! for every access the index of the next access to the same page.
//!
//! The look-ahead is allocated with `try_reserve`: a workload whose look-ahead
//! does not fit in host memory stops before the run with the bytes it needs
//! ([`OsError::LookAheadTooLarge`]), never with an aborted allocation.

use crate::error::OsError;
use crate::os::Os;
use crate::process::PageKey;
use crate::replacement::{Future, LOOK_AHEAD_BYTES_PER_ACCESS, NEVER};
use mmu_core::{AccessKind, Pid, VirtAddr};
use std::collections::HashMap;

/// Builds a [`Future`] by replaying a workload without simulating it: accesses are
/// numbered exactly as the CPU numbers them, and a process stops where the OS
/// would stop it (see `process::admits`), so the two passes agree.
pub struct FutureBuilder<'a> {
    stream: PageStream<'a>,
    last: HashMap<PageKey, u64>,
    next_use: Vec<u64>,
    /// Accesses numbered so far; more than `next_use` holds once an allocation failed.
    numbered: u64,
    /// An allocation of the look-ahead failed: the rest is only counted.
    out_of_memory: bool,
}

impl<'a> FutureBuilder<'a> {
    /// Reserves the look-ahead of a workload of up to `accesses` accesses at once,
    /// so that one too large for host memory is refused before it is replayed.
    ///
    /// # Errors
    /// `LookAheadTooLarge` with the bytes `accesses` need.
    pub fn reserve(&mut self, accesses: u64) -> Result<(), OsError> {
        let too_large = || OsError::LookAheadTooLarge {
            accesses,
            bytes: u128::from(accesses) * u128::from(LOOK_AHEAD_BYTES_PER_ACCESS),
        };
        let additional = usize::try_from(accesses).map_err(|_| too_large())?;
        self.next_use.try_reserve_exact(additional).map_err(|_| too_large())
    }

    /// A builder for the processes of `os`, starting with process 0.
    pub fn new(os: &'a Os) -> Self {
        Self {
            stream: PageStream::new(os),
            last: HashMap::new(),
            next_use: Vec::new(),
            numbered: 0,
            out_of_memory: false,
        }
    }

    /// Makes `pid` the process whose accesses follow.
    pub fn switch(&mut self, pid: Pid) {
        self.stream.switch(pid);
    }

    /// Whether `pid` is still running in the replay.
    pub fn is_running(&self, pid: Pid) -> bool {
        self.stream.is_running(pid)
    }

    /// Replays one access of the current process, as the trace player would
    /// issue it: accesses of a stopped process and unaligned ones never reach the
    /// memory system and are not numbered; the others are numbered in order, and
    /// one the OS would refuse stops its process.
    pub fn access(&mut self, kind: AccessKind, vaddr: VirtAddr) {
        let key = match self.stream.access(kind, vaddr) {
            Touch::NotIssued => return,
            Touch::Refused => None,
            Touch::Page(key) => Some(key),
        };
        let index = self.numbered;
        self.numbered += 1;
        if self.next_use.len() == self.next_use.capacity() {
            self.grow();
        }
        if !self.out_of_memory {
            self.next_use.push(NEVER);
        }
        let Some(key) = key else { return };
        if let Some(previous) = self.last.insert(key, index)
            && let Some(slot) = self.next_use.get_mut(previous as usize)
        {
            *slot = index;
        }
    }

    /// Makes room for more of the look-ahead, or notes that host memory ran out
    /// (the rest of the workload is then only counted, for the error).
    #[cold]
    fn grow(&mut self) {
        if self.out_of_memory {
            return;
        }
        let len = self.next_use.len();
        if self.next_use.try_reserve(1).is_err()
            && self.next_use.try_reserve_exact((len / 16).max(1)).is_err()
        {
            self.out_of_memory = true;
            self.next_use = Vec::new();
        }
    }

    /// The future recorded.
    ///
    /// # Errors
    /// `LookAheadTooLarge` when host memory ran out while it was recorded, with
    /// the bytes the whole workload needs.
    pub fn finish(self) -> Result<Future, OsError> {
        if self.out_of_memory {
            return Err(OsError::LookAheadTooLarge {
                accesses: self.numbered,
                bytes: u128::from(self.numbered) * u128::from(LOOK_AHEAD_BYTES_PER_ACCESS),
            });
        }
        Ok(Future::from_next_uses(self.next_use))
    }
}

/// What one access of a replayed workload does to memory.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Touch {
    /// Never issued: its process was stopped, or its address is not word aligned.
    NotIssued,
    /// Issued, but the OS refuses it: its process stops here.
    Refused,
    /// It touches this page.
    Page(PageKey),
}

/// The pages a workload's accesses touch, in order, as the OS admits them: the
/// reference string of page replacement, computed without simulating (a process
/// stops where the OS would stop it, as in the real run).
pub struct PageStream<'a> {
    os: &'a Os,
    current: Pid,
    stopped: Vec<bool>,
}

impl<'a> PageStream<'a> {
    /// A stream for the processes of `os`, starting with process 0.
    pub fn new(os: &'a Os) -> Self {
        Self { os, current: Pid::new(0), stopped: vec![false; os.process_count()] }
    }

    /// Makes `pid` the process whose accesses follow.
    pub fn switch(&mut self, pid: Pid) {
        self.current = pid;
    }

    /// Whether `pid` is still running in the replay.
    pub fn is_running(&self, pid: Pid) -> bool {
        !self.stopped.get(pid.as_u32() as usize).copied().unwrap_or(true)
    }

    /// The page one access of the current process touches.
    pub fn access(&mut self, kind: AccessKind, vaddr: VirtAddr) -> Touch {
        let p = self.current.as_u32() as usize;
        if self.stopped.get(p).copied().unwrap_or(true) || !vaddr.is_word_aligned() {
            return Touch::NotIssued;
        }
        match self.os.admitted_page(self.current, kind, vaddr) {
            Some(key) => Touch::Page(key),
            None => {
                self.stopped[p] = true;
                Touch::Refused
            }
        }
    }
}
