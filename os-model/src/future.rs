//! OPT's look-ahead: the workload replayed once without simulating it, to record
//! for every access the index of the next access to the same page.

use crate::os::Os;
use crate::process::PageKey;
use crate::replacement::{Future, NEVER};
use mmu_core::{AccessKind, Pid, VirtAddr};
use std::collections::HashMap;

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
        Future::from_next_uses(self.next_use)
    }
}
