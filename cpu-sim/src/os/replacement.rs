//! Page replacement: which resident page to evict when no frame is free.
//!
//! - FIFO evicts the page loaded longest ago (a swapped-in page counts as newly loaded).
//! - LRU is exact: the CPU reports every completed access, TLB hits included, and
//!   the frame moves to the back of an intrusive list (O(1), no allocation).
//! - Clock (second chance) sweeps the frames in physical order with a hand, reading
//!   the A bits the walker sets in the PTEs. A set A bit is cleared through the DRAM
//!   backdoor *and the TLB entries holding the page are dropped*: otherwise a TLB
//!   hit would never walk, the walker would never set A again, and a hot page would
//!   look cold on the next sweep.
//! - Random picks a resident data frame with the OS's own seeded stream.
//! - OPT (Belady) evicts the page whose next use lies furthest in the future. It
//!   needs the future, which a streamed workload does not have: before the run, a
//!   first pass over the same workload (the trace read a second time, or the seeded
//!   generators built again) records for every access the index of the next access
//!   to the same page ([`Future`]). That costs 8 bytes per access of the workload
//!   plus a map over the distinct pages while it is built; victim selection then
//!   scans the resident frames (O(frames) per eviction).

use super::Os;
use super::process::{Owner, PageKey, admits, page_key};
use crate::SimRng;
use crate::error::SimError;
use crate::workload::{Access, TraceEvent};
use mmu_core::{Pid, VirtAddr};
use serde::{Deserialize, Serialize};
use std::collections::HashMap;

/// The page replacement policy. Owned by cpu-sim's OS model.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub enum PageReplacement {
    /// First in, first out.
    Fifo,
    /// Least recently used, exactly.
    Lru,
    /// Second chance with the PTEs' A bits (the default: what kernels approximate).
    #[default]
    Clock,
    /// A resident page chosen at random (seeded).
    Random,
    /// Belady's optimal policy, offline: it reads the workload's future.
    Opt,
}

/// "Never used again" in a [`Future`].
pub const NEVER: u64 = u64::MAX;

const NIL: u32 = u32::MAX;

/// A doubly linked list of frames threaded through per-frame arrays, so moving a
/// frame to the back on every access costs a few stores and never allocates
/// (the arrays grow only when a higher frame is first used).
#[derive(Default)]
pub(crate) struct FrameList {
    prev: Vec<u32>,
    next: Vec<u32>,
    linked: Vec<bool>,
    head: u32,
    tail: u32,
}

impl FrameList {
    pub(crate) fn new() -> Self {
        Self { head: NIL, tail: NIL, ..Self::default() }
    }
    fn ensure(&mut self, f: u32) {
        let need = f as usize + 1;
        if self.linked.len() < need {
            self.prev.resize(need, NIL);
            self.next.resize(need, NIL);
            self.linked.resize(need, false);
        }
    }
    pub(crate) fn push_back(&mut self, f: u32) {
        self.ensure(f);
        debug_assert!(!self.linked[f as usize], "frame {f} linked twice");
        self.linked[f as usize] = true;
        self.prev[f as usize] = self.tail;
        self.next[f as usize] = NIL;
        if self.tail == NIL {
            self.head = f;
        } else {
            self.next[self.tail as usize] = f;
        }
        self.tail = f;
    }
    pub(crate) fn remove(&mut self, f: u32) {
        if !self.linked.get(f as usize).copied().unwrap_or(false) {
            return;
        }
        let (p, n) = (self.prev[f as usize], self.next[f as usize]);
        if p == NIL {
            self.head = n
        } else {
            self.next[p as usize] = n
        }
        if n == NIL {
            self.tail = p
        } else {
            self.prev[n as usize] = p
        }
        self.linked[f as usize] = false;
    }
    #[inline]
    pub(crate) fn move_to_back(&mut self, f: u32) {
        if self.tail == f || !self.linked.get(f as usize).copied().unwrap_or(false) {
            return;
        }
        self.remove(f);
        self.push_back(f);
    }
    pub(crate) fn front(&self) -> Option<u32> {
        (self.head != NIL).then_some(self.head)
    }
}

/// The running policy's state.
pub(crate) enum Replacer {
    Fifo(FrameList),
    Lru(FrameList),
    Clock { hand: u32 },
    Random(Box<SimRng>),
    Opt { next_use: Vec<u64>, future: Option<Future> },
}

impl Replacer {
    pub(crate) fn new(policy: PageReplacement, rng: SimRng) -> Self {
        match policy {
            PageReplacement::Fifo => Replacer::Fifo(FrameList::new()),
            PageReplacement::Lru => Replacer::Lru(FrameList::new()),
            PageReplacement::Clock => Replacer::Clock { hand: 0 },
            PageReplacement::Random => Replacer::Random(Box::new(rng)),
            PageReplacement::Opt => Replacer::Opt { next_use: Vec::new(), future: None },
        }
    }
    /// A page was installed in frame `f`.
    pub(crate) fn loaded(&mut self, f: u32) {
        match self {
            Replacer::Fifo(list) | Replacer::Lru(list) => list.push_back(f),
            Replacer::Opt { next_use, .. } => {
                if next_use.len() <= f as usize {
                    next_use.resize(f as usize + 1, NEVER);
                }
                next_use[f as usize] = NEVER;
            }
            Replacer::Clock { .. } | Replacer::Random(_) => {}
        }
    }
    /// Frame `f` no longer holds a page.
    pub(crate) fn removed(&mut self, f: u32) {
        match self {
            Replacer::Fifo(list) | Replacer::Lru(list) => list.remove(f),
            Replacer::Clock { .. } | Replacer::Random(_) | Replacer::Opt { .. } => {}
        }
    }
    /// Whether [`Replacer::touched`] does anything: only LRU and OPT watch every
    /// access; the others decide from arrival order, A bits or chance.
    #[inline]
    pub(crate) fn watches_uses(&self) -> bool {
        match self {
            Replacer::Lru(_) | Replacer::Opt { future: Some(_), .. } => true,
            Replacer::Fifo(_)
            | Replacer::Clock { .. }
            | Replacer::Random(_)
            | Replacer::Opt { future: None, .. } => false,
        }
    }

    /// The CPU completed access number `index` to a word of frame `f`.
    #[inline]
    pub(crate) fn touched(&mut self, f: u32, index: u64) {
        match self {
            Replacer::Lru(list) => list.move_to_back(f),
            Replacer::Opt { next_use, future: Some(future) } => {
                if let Some(slot) = next_use.get_mut(f as usize) {
                    *slot = future.next_use(index);
                }
            }
            Replacer::Fifo(_)
            | Replacer::Clock { .. }
            | Replacer::Random(_)
            | Replacer::Opt { future: None, .. } => {}
        }
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

    /// Replays one trace event.
    ///
    /// # Errors
    /// A switch to a process that does not exist (as the run would report it).
    pub fn event(&mut self, event: TraceEvent, origin: &str) -> Result<(), SimError> {
        match event {
            TraceEvent::Access(a) => self.access(a),
            TraceEvent::Switch(pid) => {
                if pid.as_u32() as usize >= self.stopped.len() {
                    return Err(SimError::UnknownProcess {
                        origin: origin.to_string(),
                        pid,
                        count: self.stopped.len(),
                    });
                }
                self.current = pid;
            }
        }
        Ok(())
    }

    /// Makes `pid` the process whose accesses follow.
    pub fn switch(&mut self, pid: Pid) {
        self.current = pid;
    }

    /// Whether `pid` is still running in the replay.
    pub fn is_running(&self, pid: Pid) -> bool {
        !self.stopped.get(pid.as_u32() as usize).copied().unwrap_or(true)
    }

    /// Replays one access of the current process.
    pub fn access(&mut self, access: Access) {
        let index = self.next_use.len() as u64;
        self.next_use.push(NEVER);
        let pid = self.current;
        let p = pid.as_u32() as usize;
        if self.stopped[p] || !access.vaddr.is_word_aligned() {
            return;
        }
        let Some(key) = self.os.admitted_page(pid, access) else {
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

impl Os {
    /// The page `access` by `pid` touches, if the OS lets it complete.
    pub(crate) fn admitted_page(&self, pid: Pid, access: Access) -> Option<PageKey> {
        let process = self.process(pid)?;
        let region = process.region(access.vaddr);
        if !admits(region, access.kind, &self.format, &self.privilege) {
            return None;
        }
        region.map(|r| page_key(pid, r, access.vaddr, self.page_bits))
    }

    /// The word `va` of process `pid` names, as the `--check` oracle keys it:
    /// its owner and its byte offset in the owner's space. `None` outside regions.
    pub fn word_key(&self, pid: Pid, va: VirtAddr) -> Option<(Owner, u32)> {
        let region = self.process(pid)?.region(va)?;
        Some(match region.object {
            None => (Owner::Process(pid), va.as_u32()),
            Some(o) => (Owner::Shared(o), va.as_u32() - region.config.base),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn frame_list_orders_by_last_move() {
        let mut l = FrameList::new();
        for f in [3, 1, 2] {
            l.push_back(f);
        }
        assert_eq!(l.front(), Some(3));
        l.move_to_back(3);
        assert_eq!(l.front(), Some(1));
        l.remove(1);
        assert_eq!(l.front(), Some(2));
        l.remove(2);
        l.remove(2);
        assert_eq!(l.front(), Some(3));
        l.remove(3);
        assert_eq!(l.front(), None);
        l.push_back(7);
        assert_eq!(l.front(), Some(7));
    }
}
