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
//! What it does not: F, D, V or B; PMP checks (its registers hold values, nothing is checked) and PMAs
//! (the port answers access faults); debug mode and triggers (`tselect`/`tdata1`
//! are hard-wired to "no trigger"); `mcountinhibit`, `menvcfg`, Sstc; a pipeline,
//! caches or branch prediction (one instruction's cost is its base cost plus its
//! memory latency); several harts (one reservation, AMOs as one read then one
//! write). The machine, its devices and the CLI are cpu-sim's (issue #10).
//!
//! Approximations, where the spec leaves a choice: a misaligned load or store is
//! split into byte accesses in address order, so a trap on a later byte leaves the
//! earlier bytes of a store written; `mtval` is the faulting address (the original,
//! unsplit one for data; the faulting half for a fetch that crosses a page), the
//! instruction bits for an illegal instruction and the pc for `ebreak`; `misa` is
//! read-only, so C cannot be turned off and only odd targets could be misaligned.
//!
//! # How a machine drives it
//!
//! The machine owns the memory system (behind a [`mmu_core::MemoryPort`]), the
//! devices and the OS model; between steps it sets `mtime` and the interrupt lines,
//! and it reacts to what [`Hart::step`] returns:
//!
//! ```
//! use mmu_core::{AccessContext, Answer, Cycle, Cycles, Fence, MemRequest, MemoryPort, Timed};
//! use rv32::{CoreConfig, Environment, Hart, Step};
//!
//! /// Four words of memory at 0: `li a7, 93; li a0, 7; ecall; j .`
//! struct Rom([u32; 4]);
//! impl MemoryPort for Rom {
//!     type Error = std::convert::Infallible;
//!     fn access(&mut self, now: Cycle, _: &AccessContext, r: MemRequest) -> Result<Answer, Self::Error> {
//!         let word = self.0[(r.vaddr.as_u32() as usize / 4) % 4];
//!         let value = r.width.extract(word, u64::from(r.vaddr.as_u32()));
//!         Ok(Timed { value: Ok(value), ready_at: now + Cycles::new(2) })
//!     }
//!     fn fence(&mut self, _: Fence) {}
//! }
//!
//! let mut port = Rom([0x05d0_0893, 0x0070_0513, 0x0000_0073, 0x0000_006f]);
//! let config = CoreConfig {
//!     cycles_per_instruction: Cycles::new(1),
//!     environment: Environment::UserProcess,
//!     hart_id: 0,
//! };
//! let mut hart = Hart::new(config, 0);
//! let exit_code = loop {
//!     match hart.step(&mut port) {
//!         Ok(Step::Syscall) if hart.reg(17) == 93 => break hart.reg(10), // exit(a0)
//!         Ok(Step::Syscall) => hart.skip_ecall(),
//!         Ok(Step::Exception { cause, pc, .. }) => panic!("{cause:?} at {pc:#x}"),
//!         Ok(Step::Retired | Step::Trapped(_) | Step::Waiting) => {}
//!         Err(never) => match never {},
//!     }
//! };
//! assert_eq!(exit_code, 7);
//! // Two instructions retired, each 1 cycle plus a 2-cycle fetch; the ecall's own
//! // cycle and fetch are spent too: 3 × 3 = 9.
//! assert_eq!((hart.stats().instructions, hart.now()), (2, Cycle::new(9)));
//! ```
#![warn(missing_docs)]
#![deny(clippy::print_stdout, clippy::print_stderr, clippy::dbg_macro)]

mod compressed;
pub mod csr;
pub mod elf;
mod exec;
mod hart;
mod memory;
mod privileged;
mod stats;
mod trap;

pub use compressed::expand as expand_compressed;
pub use hart::{AddressSpaceError, CoreConfig, CsrError, Environment, Hart, Mode, Step};
pub use stats::{CoreStats, TrapStats};
pub use trap::{Cause, Exception, Interrupt};

#[cfg(test)]
mod tests;
