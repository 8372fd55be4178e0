//! The scheduler: round-robin over the processes of a `Processes` workload, each
//! running its own access stream, switching when its quantum expires, when it
//! is stopped by a segfault, or when its stream ends (it exits).
//!
//! The same loop drives the real run and OPT's look-ahead pass ([`Executor`]), so
//! with a quantum counted in accesses both see the same interleaving. The
//! programs themselves belong to the executor: the scheduler only decides who
//! runs next and for how long.

use mmu_core::config::InvalidField;
use mmu_core::{Cycle, Cycles, Pid};
use serde::{Deserialize, Serialize};

/// How long a process runs before the next one gets the CPU.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum Quantum {
    /// This many accesses (faulting and skipped ones included).
    Accesses(u64),
    /// At least this many cycles: checked after each access.
    Cycles(Cycles),
}

impl Quantum {
    /// A quantum must be positive.
    ///
    /// # Errors
    /// A zero quantum.
    pub fn validate(&self) -> Result<(), InvalidField> {
        match *self {
            Quantum::Accesses(0) => Err(InvalidField::new("quantum", "must be positive")),
            Quantum::Cycles(c) if c == Cycles::ZERO => Err(InvalidField::new("quantum", "must be positive")),
            Quantum::Accesses(_) | Quantum::Cycles(_) => Ok(()),
        }
    }
}

/// What one step of a program did.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Step {
    /// The program made one access (it counts against an `Accesses` quantum).
    Access,
    /// The program did something that takes no time (a switch line of its own).
    Nothing,
    /// The program has ended.
    Ended,
}

/// What the scheduler drives: the machine, or OPT's replay of the workload. It
/// owns the programs, one per pid.
pub trait Executor {
    /// Why the executor stops the run.
    type Error;
    /// Whether `pid`'s program has nothing left to run.
    fn is_finished(&mut self, pid: Pid) -> bool;
    /// Gives the CPU to `pid`.
    ///
    /// # Errors
    /// Whatever the executor stops with.
    fn switch(&mut self, pid: Pid) -> Result<(), Self::Error>;
    /// Runs one step of `pid`'s program.
    ///
    /// # Errors
    /// Whatever the executor stops with.
    fn step(&mut self, pid: Pid) -> Result<Step, Self::Error>;
    /// Whether `pid` still runs (a segfault stops it).
    fn is_running(&self, pid: Pid) -> bool;
    /// `pid`'s program ended.
    fn exit(&mut self, pid: Pid);
    /// The clock a `Cycles` quantum is measured by.
    fn now(&self) -> Cycle;
}

/// Runs the `programs` programs to their ends, round-robin from process 0.
///
/// # Errors
/// The first error of the executor.
pub fn drive<E: Executor>(programs: usize, quantum: Quantum, exec: &mut E) -> Result<(), E::Error> {
    let n = programs;
    let mut alive = vec![true; n];
    let mut remaining = n;
    let mut current = 0;
    while remaining > 0 {
        while !alive[current] {
            current = (current + 1) % n;
        }
        let pid = Pid::new(current as u32);
        if exec.is_finished(pid) {
            // Its program ended: it exits without being switched in.
            exec.exit(pid);
            alive[current] = false;
            remaining -= 1;
            continue;
        }
        exec.switch(pid)?;
        let started = exec.now();
        let mut used = 0u64;
        loop {
            match exec.step(pid)? {
                Step::Ended => {
                    exec.exit(pid);
                    alive[current] = false;
                    remaining -= 1;
                    break;
                }
                Step::Access => {
                    used += 1;
                    if !exec.is_running(pid) {
                        alive[current] = false;
                        remaining -= 1;
                        break;
                    }
                }
                Step::Nothing => {}
            }
            let expired = match quantum {
                Quantum::Accesses(q) => used >= q,
                Quantum::Cycles(c) => exec.now().since(started) >= c,
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

    /// Programs as address lists; every access costs 10 cycles.
    struct Log {
        programs: Vec<std::collections::VecDeque<u32>>,
        out: Vec<String>,
        now: Cycle,
    }
    impl Log {
        fn new(programs: &[&[u32]]) -> Self {
            let programs = programs.iter().map(|p| p.iter().copied().collect()).collect();
            Self { programs, out: Vec::new(), now: Cycle::ZERO }
        }
    }
    impl Executor for Log {
        type Error = ();
        fn is_finished(&mut self, pid: Pid) -> bool {
            self.programs[pid.as_u32() as usize].is_empty()
        }
        fn switch(&mut self, pid: Pid) -> Result<(), ()> {
            self.out.push(format!("P{pid}"));
            Ok(())
        }
        fn step(&mut self, pid: Pid) -> Result<Step, ()> {
            let Some(a) = self.programs[pid.as_u32() as usize].pop_front() else { return Ok(Step::Ended) };
            self.now += Cycles::new(10);
            self.out.push(format!("{a:x}"));
            Ok(Step::Access)
        }
        fn is_running(&self, _: Pid) -> bool {
            true
        }
        fn exit(&mut self, pid: Pid) {
            self.out.push(format!("E{pid}"));
        }
        fn now(&self) -> Cycle {
            self.now
        }
    }

    #[test]
    fn round_robin_by_accesses_with_exits() {
        let mut log = Log::new(&[&[1, 2, 3], &[0xa], &[0xb, 0xc, 0xd]]);
        drive(3, Quantum::Accesses(2), &mut log).unwrap();
        // P0 runs 2; P1 runs its one access and exits mid-quantum; P2 runs 2; P0 its
        // last and exits; P1 is gone; P2 its last and exits.
        assert_eq!(log.out.join(" "), "P0 1 2 P1 a E1 P2 b c P0 3 E0 P2 d E2");
    }

    #[test]
    fn cycle_quantum_switches_after_enough_cycles() {
        let mut log = Log::new(&[&[1, 2, 3], &[0xa, 0xb]]);
        drive(2, Quantum::Cycles(Cycles::new(15)), &mut log).unwrap();
        // 10 cycles per access: P0 runs 2 (20 >= 15), P1 runs 2, P0 its last and exits
        // mid-quantum, and P1, found empty, exits without being switched in.
        assert_eq!(log.out.join(" "), "P0 1 2 P1 a b P0 3 E0 E1");
    }
}
