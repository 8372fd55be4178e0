//! The RV32 core of mmu-emu: an RV32IMAC + Zicsr + Zifencei hart with M, S and U
//! modes, which sees memory only through [`mmu_core::MemoryPort`].
//!
//! What it models: decode and execute of every RV32IMAC instruction (compressed
//! ones by expansion), the CSRs the privileged spec requires for M, S and U modes
//! (traps, delegation, interrupts, `satp`, counters), misaligned loads and stores
//! split into aligned accesses as QEMU does, LR/SC with a reservation, and the
//! translation context (`satp`, the mode with `MPRV` applied, `SUM`, `MXR`) each
//! access carries to the memory system. Time: a configured cost per instruction
//! plus the `ready_at` of each memory access. ELF parsing is in [`elf`].
//!
//! What it does not: F, D, V or B; PMP and PMAs (the port answers access faults);
//! debug triggers (`tselect`/`tdata1` are hard-wired to "no trigger"); a pipeline,
//! caches or branch prediction (one instruction's cost is its base cost plus its
//! memory latency); several harts (one reservation, AMOs as read then write);
//! `mcountinhibit`, `menvcfg`, Sstc. `FIXME(#10)`: the machine, its devices and the
//! CLI integration live in cpu-sim.
#![warn(missing_docs)]
#![deny(clippy::print_stdout, clippy::print_stderr, clippy::dbg_macro)]

mod compressed;
pub mod csr;
pub mod elf;
mod exec;
mod hart;
mod memory;
mod stats;
mod trap;

pub use compressed::expand as expand_compressed;
pub use hart::{AddressSpaceError, CoreConfig, Environment, Hart, Mode, Step};
pub use stats::{CoreStats, TrapStats};
pub use trap::{Cause, Exception, Interrupt};

#[cfg(test)]
mod tests;
