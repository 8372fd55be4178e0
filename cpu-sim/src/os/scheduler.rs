//! The scheduler: round-robin over the processes of a `Processes` workload, each
//! running its own access stream, switching when its quantum expires, when it
//! is stopped by a segfault, or when its stream ends (it exits).
//!
//! The same loop drives the real run and OPT's look-ahead pass ([`Executor`]), so
//! with a quantum counted in accesses both see the same interleaving.

use crate::error::SimError;
use crate::workload::{Access, TraceEvent};
use mmu_core::Pid;
use mmu_core::config::InvalidField;
use serde::{Deserialize, Serialize};
use std::iter::Peekable;

/// How long a process runs before the next one gets the CPU.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum Quantum {
    /// This many accesses (faulting and skipped ones included).
    Accesses(u64),
    /// At least this many cycles: checked after each access.
    Cycles(u64),
}

impl Quantum {
    /// A quantum must be positive.
    ///
    /// # Errors
    /// A zero quantum.
    pub fn validate(&self) -> Result<(), InvalidField> {
        match *self {
            Quantum::Accesses(0) | Quantum::Cycles(0) => {
                Err(InvalidField::new("quantum", "must be positive"))
            }
            Quantum::Accesses(_) | Quantum::Cycles(_) => Ok(()),
        }
    }
}

/// What the scheduler drives: the machine, or OPT's replay of the workload.
pub trait Executor {
    /// Gives the CPU to `pid`.
    ///
    /// # Errors
    /// Whatever the executor stops with.
    fn switch(&mut self, pid: Pid) -> Result<(), SimError>;
    /// Performs one access of the running process.
    ///
    /// # Errors
    /// Whatever the executor stops with.
    fn access(&mut self, access: Access) -> Result<(), SimError>;
    /// Whether `pid` still runs (a segfault stops it).
    fn is_running(&self, pid: Pid) -> bool;
    /// `pid`'s stream ended.
    fn exit(&mut self, pid: Pid);
    /// The clock a `Cycles` quantum is measured by.
    fn now(&self) -> u64;
}

/// Runs every program to its end, round-robin from process 0.
///
/// # Errors
/// The first error of the executor.
pub fn drive<I, E>(programs: Vec<I>, quantum: Quantum, exec: &mut E) -> Result<(), SimError>
where
    I: Iterator<Item = TraceEvent>,
    E: Executor,
{
    let mut programs: Vec<Peekable<I>> = programs.into_iter().map(Iterator::peekable).collect();
    let n = programs.len();
    let mut alive = vec![true; n];
    let mut remaining = n;
    let mut current = 0;
    while remaining > 0 {
        while !alive[current] {
            current = (current + 1) % n;
        }
        let pid = Pid::new(current as u32);
        if programs[current].peek().is_none() {
            // Its stream ended: it exits without being switched in.
            exec.exit(pid);
            alive[current] = false;
            remaining -= 1;
            continue;
        }
        exec.switch(pid)?;
        let started = exec.now();
        let mut used = 0u64;
        loop {
            match programs[current].next() {
                None => {
                    exec.exit(pid);
                    alive[current] = false;
                    remaining -= 1;
                    break;
                }
                Some(TraceEvent::Access(a)) => {
                    exec.access(a)?;
                    used += 1;
                    if !exec.is_running(pid) {
                        alive[current] = false;
                        remaining -= 1;
                        break;
                    }
                }
                // A program's own switch lines mean nothing here: the scheduler switches.
                Some(TraceEvent::Switch(_)) => {}
            }
            let expired = match quantum {
                Quantum::Accesses(q) => used >= q,
                Quantum::Cycles(c) => exec.now().saturating_sub(started) >= c,
            };
            if expired {
                break;
            }
        }
        current = (current + 1) % n;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use mmu_core::{AccessKind, VirtAddr};

    #[derive(Default)]
    struct Log(Vec<String>, u64);
    impl Executor for Log {
        fn switch(&mut self, pid: Pid) -> Result<(), SimError> {
            self.0.push(format!("P{pid}"));
            Ok(())
        }
        fn access(&mut self, a: Access) -> Result<(), SimError> {
            self.1 += 10;
            self.0.push(format!("{:x}", a.vaddr.as_u32()));
            Ok(())
        }
        fn is_running(&self, _: Pid) -> bool {
            true
        }
        fn exit(&mut self, pid: Pid) {
            self.0.push(format!("E{pid}"));
        }
        fn now(&self) -> u64 {
            self.1
        }
    }

    fn program(addrs: &[u32]) -> std::vec::IntoIter<TraceEvent> {
        addrs
            .iter()
            .map(|&a| {
                TraceEvent::Access(Access { kind: AccessKind::Read, vaddr: VirtAddr::new(a), value: None })
            })
            .collect::<Vec<_>>()
            .into_iter()
    }

    #[test]
    fn round_robin_by_accesses_with_exits() {
        let mut log = Log::default();
        drive(
            vec![program(&[1, 2, 3]), program(&[0xa]), program(&[0xb, 0xc, 0xd])],
            Quantum::Accesses(2),
            &mut log,
        )
        .unwrap();
        // P0 runs 2; P1 runs its one access and exits mid-quantum; P2 runs 2; P0 its
        // last and exits; P1 is gone; P2 its last and exits.
        assert_eq!(log.0.join(" "), "P0 1 2 P1 a E1 P2 b c P0 3 E0 P2 d E2");
    }

    #[test]
    fn cycle_quantum_switches_after_enough_cycles() {
        let mut log = Log::default();
        drive(vec![program(&[1, 2, 3]), program(&[0xa, 0xb])], Quantum::Cycles(15), &mut log).unwrap();
        // 10 cycles per access: P0 runs 2 (20 >= 15), P1 runs 2, P0 its last and exits
        // mid-quantum, and P1, found empty, exits without being switched in.
        assert_eq!(log.0.join(" "), "P0 1 2 P1 a b P0 3 E0 E1");
    }
}
