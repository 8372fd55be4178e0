//! Watching a run: which accesses are recorded step by step, and who receives
//! their events (`mmu-sim explain`'s one access, `run --log`'s window).
//!
//! A machine without a watch never looks at one: [`crate::Machine::access`]
//! tests one flag, and the recorded path is taken only for the accesses a watch
//! asks for (see `mmu_core::event` for why recording costs nothing otherwise).

use mmu_core::event::Event;
use mmu_core::{AccessKind, Pid, VirtAddr};
use std::cell::RefCell;
use std::rc::Rc;
use workload::Access;

/// One recorded step of a run.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Told {
    /// The access's number, counting from 0 in workload order (the access that
    /// follows, for a context switch).
    pub index: u64,
    /// The process that made it (switched to, for a context switch).
    pub pid: Pid,
    /// The access, `None` for a context switch.
    pub access: Option<Access>,
    /// Its events, in order.
    pub events: Vec<Event>,
    /// Cycles from the start of the step to its end (for an access: the CPU's
    /// own cycles, then translation, faults and the data word).
    pub cycles: u64,
}

/// What a run tells a watcher.
pub trait Watch {
    /// Whether access number `index`, by `pid`, is recorded.
    fn wants(&mut self, index: u64, pid: Pid, access: &Access) -> bool;
    /// Whether context switches before access number `index` are recorded.
    fn wants_switch(&mut self, index: u64) -> bool;
    /// A recorded step.
    fn told(&mut self, step: Told);
    /// Whether the run may stop now.
    fn finished(&self) -> bool {
        false
    }
}

/// Which access `explain` tells.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Target {
    /// Access number N, counting from 0.
    Index(u64),
    /// The first access whose word holds `vaddr`, optionally only by `pid` and
    /// of `kind`.
    Address {
        /// The address (any byte of the word).
        vaddr: VirtAddr,
        /// Only this process's accesses.
        pid: Option<Pid>,
        /// Only this kind of access.
        kind: Option<AccessKind>,
    },
}

impl Target {
    /// Whether access `index` by `pid` is the one.
    pub fn matches(&self, index: u64, pid: Pid, access: &Access) -> bool {
        match *self {
            Target::Index(n) => index == n,
            Target::Address { vaddr, pid: want_pid, kind } => {
                access.vaddr.as_u32() & !3 == vaddr.as_u32() & !3
                    && want_pid.is_none_or(|p| p == pid)
                    && kind.is_none_or(|k| k == access.kind)
            }
        }
    }
}

/// The watch of `explain`: records the target access, then ends the run. The
/// story lands in `found`, shared with whoever set the watch.
#[derive(Debug)]
pub struct ExplainWatch {
    /// The access to tell.
    pub target: Target,
    /// Its story, once told.
    pub found: Rc<RefCell<Option<Told>>>,
    /// The context switch made just before it, if one was (its cycles are
    /// charged between the accesses, not to the access).
    pub switch_before: Rc<RefCell<Option<Told>>>,
}

impl Watch for ExplainWatch {
    fn wants(&mut self, index: u64, pid: Pid, access: &Access) -> bool {
        self.found.borrow().is_none() && self.target.matches(index, pid, access)
    }
    fn wants_switch(&mut self, index: u64) -> bool {
        // An address's access is not known before it comes: every switch is
        // recorded, and only the one just before the access is kept.
        self.found.borrow().is_none()
            && match self.target {
                Target::Index(n) => index == n,
                Target::Address { .. } => true,
            }
    }
    fn told(&mut self, step: Told) {
        if step.access.is_none() {
            *self.switch_before.borrow_mut() = Some(step);
            return;
        }
        let mut before = self.switch_before.borrow_mut();
        if before.as_ref().is_some_and(|s| s.index != step.index) {
            *before = None;
        }
        *self.found.borrow_mut() = Some(step);
    }
    fn finished(&self) -> bool {
        self.found.borrow().is_some()
    }
}

/// The watch of `run --log`: every access numbered in `from..to` and the context
/// switches among them, each step handed to `sink`.
pub struct LogWatch<F: FnMut(Told)> {
    /// First access logged.
    pub from: u64,
    /// First access not logged.
    pub to: u64,
    /// Where the steps go.
    pub sink: F,
}

impl<F: FnMut(Told)> Watch for LogWatch<F> {
    fn wants(&mut self, index: u64, _: Pid, _: &Access) -> bool {
        (self.from..self.to).contains(&index)
    }
    fn wants_switch(&mut self, index: u64) -> bool {
        (self.from..self.to).contains(&index)
    }
    fn told(&mut self, step: Told) {
        (self.sink)(step);
    }
    fn finished(&self) -> bool {
        false
    }
}
