//! Page replacement: which resident page to evict when no frame is free. One
//! module per policy, each owning its state and its victim choice:
//!
//! - [`fifo`]: the page loaded longest ago (a swapped-in page counts as newly loaded).
//! - [`lru`]: exact LRU; every completed access, TLB hits included, moves the
//!   frame to the back of an intrusive list (O(1), no allocation).
//! - [`clock`]: second chance on the PTEs' A bits, with a hand over the frames.
//! - [`random`]: a resident data frame chosen with the OS's own seeded stream.
//! - [`opt`]: Belady's optimal policy, offline: it needs the workload's future.
//!
//! A policy sees the resident pages only through [`Residents`], which the OS
//! implements over its frame table and page tables.

pub mod clock;
pub mod fifo;
mod list;
pub mod lru;
pub mod opt;
pub mod random;

pub use opt::{Future, LOOK_AHEAD_BYTES_PER_ACCESS, NEVER};

use crate::error::OsError;
use crate::process::PageKey;
use mmu_core::{Ppn, SimRng};
use serde::{Deserialize, Serialize};

/// The page replacement policy. Owned by the OS model.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
// Unknown fields of a struct variant are refused, as they are everywhere else in a config.
#[serde(deny_unknown_fields)]
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

/// What a policy may ask of the OS about the resident pages when it chooses.
pub trait Residents {
    /// Frames `0..n` of the data pool that may hold a page (the bound of a scan).
    fn scanned(&self) -> u32;
    /// Whether `frame` holds a data page now, as the policy sees it: a superpage
    /// is one page, held by its first frame only.
    fn holds_data(&self, frame: Ppn) -> bool;
    /// The page `frame` holds, if it holds a data page.
    fn page(&self, frame: Ppn) -> Option<PageKey>;
    /// Whether evicting the page in `frame` would write it back: a D bit set in
    /// some PTE mapping it, or one left by a mapper that is gone.
    ///
    /// # Errors
    /// A page table the OS cannot read.
    fn is_dirty(&self, frame: Ppn) -> Result<bool, OsError>;
    /// Clears the A bit of every PTE mapping the page in `frame` (and queues the
    /// fences that drop their TLB entries); says whether any was set.
    ///
    /// # Errors
    /// A page table the OS cannot read.
    fn clear_accessed(&mut self, frame: Ppn) -> Result<bool, OsError>;
}

/// The running policy's state.
pub enum Replacer {
    /// First in, first out.
    Fifo(fifo::Fifo),
    /// Exact LRU.
    Lru(lru::Lru),
    /// Second chance.
    Clock(clock::Clock),
    /// Seeded random.
    Random(random::Random),
    /// Belady's OPT.
    Opt(opt::Opt),
}

impl Replacer {
    /// The state of `policy`; `rng` is the random policy's stream.
    pub fn new(policy: PageReplacement, rng: SimRng) -> Self {
        match policy {
            PageReplacement::Fifo => Replacer::Fifo(fifo::Fifo::default()),
            PageReplacement::Lru => Replacer::Lru(lru::Lru::default()),
            PageReplacement::Clock => Replacer::Clock(clock::Clock::default()),
            PageReplacement::Random => Replacer::Random(random::Random::new(rng)),
            PageReplacement::Opt => Replacer::Opt(opt::Opt::default()),
        }
    }

    /// A page was installed in `frame`.
    pub fn loaded(&mut self, frame: Ppn) {
        match self {
            Replacer::Fifo(p) => p.loaded(frame),
            Replacer::Lru(p) => p.loaded(frame),
            Replacer::Opt(p) => p.loaded(frame),
            Replacer::Clock(_) | Replacer::Random(_) => {}
        }
    }

    /// `frame` no longer holds a page.
    pub fn removed(&mut self, frame: Ppn) {
        match self {
            Replacer::Fifo(p) => p.removed(frame),
            Replacer::Lru(p) => p.removed(frame),
            Replacer::Clock(_) | Replacer::Random(_) | Replacer::Opt(_) => {}
        }
    }

    /// Whether [`Replacer::touched`] does anything: only LRU and OPT watch every
    /// access; the others decide from arrival order, A bits or chance.
    #[inline(always)]
    pub fn watches_uses(&self) -> bool {
        match self {
            Replacer::Lru(_) => true,
            Replacer::Opt(p) => p.knows_future(),
            Replacer::Fifo(_) | Replacer::Clock(_) | Replacer::Random(_) => false,
        }
    }

    /// The CPU completed access number `index` to a word of `frame`.
    #[inline]
    pub fn touched(&mut self, frame: Ppn, index: u64) {
        match self {
            Replacer::Lru(p) => p.touched(frame),
            Replacer::Opt(p) => p.touched(frame, index),
            Replacer::Fifo(_) | Replacer::Clock(_) | Replacer::Random(_) => {}
        }
    }

    /// The frame whose page goes, or `None` when no data page is resident.
    ///
    /// # Errors
    /// OPT without its future; a page table the OS cannot read.
    pub fn choose_victim(&mut self, residents: &mut dyn Residents) -> Result<Option<Ppn>, OsError> {
        match self {
            Replacer::Fifo(p) => Ok(p.victim()),
            Replacer::Lru(p) => Ok(p.victim()),
            Replacer::Clock(p) => p.victim(residents),
            Replacer::Random(p) => Ok(p.victim(residents)),
            Replacer::Opt(p) => p.victim(residents),
        }
    }

    /// Gives OPT the future of the workload about to run (other policies ignore it).
    pub fn set_future(&mut self, future: Future) {
        if let Replacer::Opt(p) = self {
            p.set_future(future);
        }
    }
}
