//! The bare-metal machine: the RV32 core on a board compatible with QEMU's `virt`
//! (`qemu-system-riscv32 -M virt -bios none -kernel PROG`), with the project's
//! TLBs, walk caches, Sv32 walker and DRAM behind the memory port.
//!
//! The board: RAM at `dram.base` (0x8000_0000 on `virt`) of `dram.capacity_bytes`,
//! an NS16550A UART at 0x1000_0000, the SiFive test finisher at 0x10_0000, a CLINT
//! at 0x200_0000, and the HTIF `tohost` word at the ELF's `tohost` symbol. Every
//! other physical address is unbacked: a data access there is an access fault
//! (cause 1, 5 or 7) and so is a PTE read (the walker asks [`mmu_core::PhysMem::contains`]).
//! That is the privileged spec's rule; QEMU 7.2 raises page faults for such PTE
//! reads and truncates physical addresses above 4 GiB, and this board does not.
//!
//! Bare metal has no OS model: the program owns M-mode and its page tables, so a
//! translation fault goes back to the core as a trap (counted in the report's
//! `faults`). What is not modelled: PMP (the core has no PMP CSRs), the PLIC,
//! virtio, the UART's receiver and interrupts, several harts.
//!
//! Time: `mtime` ticks once every [`CYCLES_PER_MTIME_TICK`] core cycles (QEMU's
//! `virt` timebase is 10 MHz; 300 cycles is a 3 GHz core, the clock the shipped
//! DRAM timings assume). A `wfi` with the timer armed jumps the clock to the
//! timer's deadline.

mod bus;
pub mod devices;

pub use bus::{Bus, DEVICE_LATENCY};
pub use devices::Halt;

use crate::config::MachineConfig;
use crate::error::SimError;
use crate::memory::FaultCounts;
use crate::memory::mmu::{L1Hit, Mmu};
use crate::player::{FNV_OFFSET, fnv_fold};
use crate::program_window::{ProgramStop, ProgramWindow, WindowedProgram};
use crate::report::{CoreReport, Report};
use crate::window::IntervalColumns;
use mmu_core::{
    AccessContext, AccessKind, Answer, Asid, Cycle, Dram, Fence, MemRequest, MemoryPort, PhysAddr,
    PrivilegeState, Timed, Trap, TrapCause,
};
use rv32::elf::Program;
use rv32::{CoreConfig, Environment, Hart, Interrupt, Step};

/// Core cycles per `mtime` tick: a 3 GHz core over QEMU `virt`'s 10 MHz timebase.
pub const CYCLES_PER_MTIME_TICK: u64 = 300;

/// Traps in a row without an instruction retiring after which the run stops: the
/// trap vector itself faults (for example `mtvec` points at unbacked memory).
const MAX_TRAPS_IN_A_ROW: u32 = 1000;

pub use devices::overlapping_device;

/// The memory side of the board behind the memory port: MMU then bus.
pub struct VirtMemory {
    mmu: Mmu,
    bus: Bus,
    faults: FaultCounts,
    accesses: u64,
    /// FNV-1a of every value fetched or loaded, as the trace player folds them.
    data_checksum: u64,
    /// The last L1 TLB hit of a fetch, a load and a store (indexed by
    /// [`Memo::slot`]), replayed for the next access of the same kind to the same
    /// page in the same context (see [`Memo`]).
    memos: [Memo; 3],
    /// The smallest page of the paging format, as a shift: the memos' granule.
    memo_shift: u32,
    /// The offset in that page: `(1 << memo_shift) - 1`.
    memo_offset: u32,
    /// Off: every access is translated in full (the switch the equivalence tests use).
    fast_paths: bool,
}

/// A translation served from an L1 TLB, kept to serve the next access of the
/// same kind to the same smallest page, in the same address space and at the
/// same privilege, without searching the TLB: [`Mmu::hit_again`] counts the hit
/// and touches the entry exactly as the lookup would, and refuses once the TLBs
/// may have changed. So every counter, the replacement state and each answer's
/// time are those of a full translation.
#[derive(Clone, Copy, Debug)]
struct Memo {
    /// The page number (`vaddr >> memo_shift`); `u32::MAX`, above every page, when empty.
    page: u32,
    asid: Asid,
    /// [`privilege_key`] of the privilege it was translated at.
    privilege: u32,
    /// The physical address of the page's first byte.
    frame: u64,
    hit: L1Hit,
}

impl Memo {
    const EMPTY: Memo = Memo { page: u32::MAX, asid: Asid::new(0), privilege: 0, frame: 0, hit: L1Hit::NONE };

    #[inline(always)]
    fn slot(kind: AccessKind) -> usize {
        kind as usize
    }
}

impl VirtMemory {
    /// The memory side of the board a validated config describes, over `bus`,
    /// with empty TLBs and walk caches and the fast paths on.
    fn new(config: &MachineConfig, bus: Bus) -> Self {
        let mmu = Mmu::new(&config.mmu, &config.tlb, config.seed);
        let smallest_page = mmu_core::PageTableFormat::geometry(mmu.format()).leaf_sizes().min();
        let memo_shift = smallest_page.map_or(12, |p| u32::from(p.bits()));
        Self {
            mmu,
            bus,
            faults: FaultCounts::default(),
            accesses: 0,
            data_checksum: FNV_OFFSET,
            memos: [Memo::EMPTY; 3],
            memo_shift,
            memo_offset: (1 << memo_shift) - 1,
            fast_paths: true,
        }
    }

    /// The bus (RAM and devices).
    pub fn bus(&self) -> &Bus {
        &self.bus
    }

    /// The MMU.
    pub fn mmu(&self) -> &Mmu {
        &self.mmu
    }

    /// Accesses that reached the port since the counters were last zeroed.
    pub fn accesses(&self) -> u64 {
        self.accesses
    }

    /// Page faults by kind since the counters were last zeroed.
    pub fn faults(&self) -> &FaultCounts {
        &self.faults
    }
}

/// `privilege` in one word, for a memo's key.
#[inline(always)]
fn privilege_key(privilege: &PrivilegeState) -> u32 {
    let flag = |on: bool, bit: u32| u32::from(on) << bit;
    privilege.mode as u32
        | flag(privilege.sum, 8)
        | flag(privilege.mxr, 16)
        | flag(privilege.write_protect, 24)
}

impl VirtMemory {
    /// The translation of `request` from its kind's memo, if it holds the page in
    /// this context and the TLBs have not changed since: (physical address, when
    /// the TLB hit is known).
    #[inline(always)]
    fn replay(
        &mut self,
        now: Cycle,
        space: mmu_core::AddressSpace,
        privilege: &PrivilegeState,
        request: &MemRequest,
    ) -> Option<(PhysAddr, Cycle)> {
        let vaddr = request.vaddr.as_u32();
        let memo = &self.memos[Memo::slot(request.kind)];
        if memo.page != vaddr >> self.memo_shift
            || memo.asid != space.asid
            || memo.privilege != privilege_key(privilege)
        {
            return None;
        }
        let done = self.mmu.hit_again(now, &memo.hit)?;
        Some((PhysAddr::new(memo.frame | u64::from(vaddr & self.memo_offset)), done))
    }

    /// The full translation of `request`: (physical address, when translation
    /// finished), or the trap of its fault. A translation the next access of
    /// its kind to the page could replay is kept in the memo.
    #[inline(never)]
    fn translate(
        &mut self,
        now: Cycle,
        space: mmu_core::AddressSpace,
        privilege: &PrivilegeState,
        request: &MemRequest,
    ) -> Result<(PhysAddr, Cycle), Answer> {
        let (vaddr, kind) = (request.vaddr, request.kind);
        let translated = self.mmu.translate(now, &mut self.bus, space, privilege, vaddr, kind);
        match translated.value {
            Ok(paddr) => {
                if self.fast_paths {
                    let memo = &mut self.memos[Memo::slot(kind)];
                    *memo = match self.mmu.l1_hit_of(space, privilege, vaddr, kind) {
                        Some((hit, to)) => Memo {
                            page: vaddr.as_u32() >> self.memo_shift,
                            asid: space.asid,
                            privilege: privilege_key(privilege),
                            frame: to.as_u64() & !u64::from(self.memo_offset),
                            hit,
                        },
                        None => Memo::EMPTY,
                    };
                }
                Ok((paddr, translated.ready_at))
            }
            Err(fault) => {
                self.faults.count(fault.kind);
                let trap = Trap { cause: TrapCause::Fault(fault), vaddr, kind };
                Err(Timed { value: Err(trap), ready_at: translated.ready_at })
            }
        }
    }
}

impl MemoryPort for VirtMemory {
    type Error = SimError;

    /// An access whose translation its memo holds is served here, inlined into
    /// the core's step; every other one by [`VirtMemory::access_in_full`].
    #[inline(always)]
    fn access(
        &mut self,
        now: Cycle,
        context: &AccessContext,
        request: MemRequest,
    ) -> Result<Answer, SimError> {
        if let Some(space) = context.space {
            if request.width.is_aligned(request.vaddr) {
                if let Some((paddr, translated)) = self.replay(now, space, &context.privilege, &request) {
                    self.accesses += 1;
                    return Ok(self.data(translated, paddr, &request));
                }
            }
        }
        self.access_in_full(now, context, request)
    }

    fn fence(&mut self, fence: Fence) {
        self.mmu.fence(fence);
    }
}

impl VirtMemory {
    /// An access: checked for alignment, translated in full (or not at all
    /// without an address space), then served by RAM or a device.
    #[inline(never)]
    fn access_in_full(
        &mut self,
        now: Cycle,
        context: &AccessContext,
        request: MemRequest,
    ) -> Result<Answer, SimError> {
        self.accesses += 1;
        if !request.width.is_aligned(request.vaddr) {
            let trap = Trap { cause: TrapCause::Misaligned, vaddr: request.vaddr, kind: request.kind };
            return Ok(Timed { value: Err(trap), ready_at: now });
        }
        let (paddr, now) = match context.space {
            None => (PhysAddr::new(u64::from(request.vaddr.as_u32())), now),
            Some(space) => match self.translate(now, space, &context.privilege, &request) {
                Ok(translated) => translated,
                Err(trapped) => return Ok(trapped),
            },
        };
        Ok(self.data(now, paddr, &request))
    }

    /// The data side of a translated access issued at `now`: RAM or a device,
    /// each value fetched or loaded folded into the checksum; an access fault
    /// where nothing backs `paddr`.
    #[inline(always)]
    fn data(&mut self, now: Cycle, paddr: PhysAddr, request: &MemRequest) -> Answer {
        match self.bus.data(now, paddr, request) {
            Some(done) => {
                if request.kind != AccessKind::Write {
                    self.data_checksum = fnv_fold(self.data_checksum, done.value);
                }
                Timed { value: Ok(done.value), ready_at: done.ready_at }
            }
            None => {
                let trap = Trap { cause: TrapCause::AccessFault, vaddr: request.vaddr, kind: request.kind };
                Timed { value: Err(trap), ready_at: now }
            }
        }
    }
}

/// The board's memory on the functional path (a skip, see
/// [`crate::program_window`]): translation walks the program's page table
/// through the back door ([`Mmu::translate_functional`]: A/D bits set, no TLB or
/// walk-cache fill, nothing timed or counted), RAM is read and written through
/// the back door, devices work as always. Faults reach the core as traps,
/// uncounted. Answers are ready at the cycle the access was issued.
struct FunctionalVirt<'a>(&'a mut VirtMemory);

impl MemoryPort for FunctionalVirt<'_> {
    type Error = SimError;

    fn access(
        &mut self,
        now: Cycle,
        context: &AccessContext,
        request: MemRequest,
    ) -> Result<Answer, SimError> {
        let trap = |cause| Trap { cause, vaddr: request.vaddr, kind: request.kind };
        let answer = |value| Ok(Timed { value, ready_at: now });
        if !request.width.is_aligned(request.vaddr) {
            return answer(Err(trap(TrapCause::Misaligned)));
        }
        let memory = &mut *self.0;
        let paddr = match context.space {
            None => PhysAddr::new(u64::from(request.vaddr.as_u32())),
            Some(space) => {
                match memory.mmu.translate_functional(
                    &mut memory.bus,
                    space,
                    &context.privilege,
                    request.vaddr,
                    request.kind,
                ) {
                    Ok(paddr) => paddr,
                    Err(fault) => return answer(Err(trap(TrapCause::Fault(fault)))),
                }
            }
        };
        match memory.bus.data_functional(now, paddr, &request) {
            Some(value) => answer(Ok(value)),
            None => answer(Err(trap(TrapCause::AccessFault))),
        }
    }

    /// Nothing to drop: a skip comes first in a run and fills no TLB or walk
    /// cache (and a fence is counted only on the full model).
    fn fence(&mut self, _: Fence) {}
}

/// How a step reaches memory: on the full model or on the functional path. A
/// type, so that each run loop is compiled for one and checks no flag per step.
trait StepPath {
    fn step(hart: &mut Hart, memory: &mut VirtMemory) -> Result<Step, SimError>;
}

/// The full model: TLBs, walk caches, walker, timed DRAM, counters.
struct TimedPath;

impl StepPath for TimedPath {
    #[inline]
    fn step(hart: &mut Hart, memory: &mut VirtMemory) -> Result<Step, SimError> {
        hart.step(memory)
    }
}

/// The functional path of a skip.
struct FunctionalPath;

impl StepPath for FunctionalPath {
    #[inline]
    fn step(hart: &mut Hart, memory: &mut VirtMemory) -> Result<Step, SimError> {
        hart.step(&mut FunctionalVirt(memory))
    }
}

/// Why a loaded program cannot run on the board.
#[derive(Debug, thiserror::Error)]
pub enum LoadError {
    /// A segment lies (partly) outside RAM.
    #[error(
        "segment {index} ([{start:#x}, {end:#x})) lies outside RAM [{ram_start:#x}, {ram_end:#x}): \
         bare-metal programs are loaded at their physical addresses"
    )]
    OutsideRam {
        /// The segment's index among the loadable ones.
        index: usize,
        /// Its first physical address.
        start: u64,
        /// One past its last.
        end: u64,
        /// RAM's first address.
        ram_start: u64,
        /// One past RAM's last.
        ram_end: u64,
    },
}

/// The bare-metal machine: one hart and the board.
pub struct VirtMachine {
    config: MachineConfig,
    hart: Hart,
    memory: VirtMemory,
    max_instructions: Option<u64>,
    steps: u64,
    /// MTIP and MSIP as last driven into the hart.
    lines: (bool, bool),
    /// Cycles the clock jumped over while the hart waited in `wfi` (since the
    /// counters were last zeroed).
    idle_cycles: u64,
    /// The clock when the counters were last zeroed: the report's `cycles` count from it.
    measured_from: Cycle,
    window: ProgramWindow,
    /// Off: the CLINT is synchronised before every step, and the hart's fast
    /// paths are off (the switch the equivalence tests use).
    fast_paths: bool,
}

impl VirtMachine {
    /// The board a validated config describes, with `program` loaded at its
    /// physical addresses and the hart at its entry in M-mode.
    ///
    /// # Errors
    /// A segment outside RAM.
    pub fn new(config: &MachineConfig, program: &Program) -> Result<Self, LoadError> {
        let ram = Dram::new(&config.dram);
        let mut bus = Bus::new(ram, config.dram.base, program.tohost.map(u64::from));
        for (index, segment) in program.segments.iter().enumerate() {
            let start = u64::from(segment.paddr);
            let bytes = u64::from(segment.mem_size.max(segment.file_bytes.len() as u32));
            if !bus.ram_holds(start, bytes) {
                return Err(LoadError::OutsideRam {
                    index,
                    start,
                    end: start + bytes,
                    ram_start: config.dram.base,
                    ram_end: config.dram.base + config.dram.capacity_bytes,
                });
            }
            bus.load_bytes(start, &segment.file_bytes);
        }
        let core = CoreConfig {
            cycles_per_instruction: config.cpu.cycles_per_access,
            environment: Environment::BareMetal,
            hart_id: 0,
        };
        let max_instructions = match &config.workload {
            crate::WorkloadConfig::Elf { max_instructions, .. } => *max_instructions,
            _ => None,
        };
        Ok(Self {
            config: config.clone(),
            hart: Hart::new(core, program.entry),
            memory: VirtMemory::new(config, bus),
            max_instructions,
            steps: 0,
            lines: (false, false),
            idle_cycles: 0,
            measured_from: Cycle::ZERO,
            window: ProgramWindow::new(config.window),
            fast_paths: true,
        })
    }

    /// Turns the fast paths on (the default) or off: the hart's
    /// ([`Hart::set_fast_paths`]) and the board's, which drives the CLINT's lines
    /// only when they can change instead of before every step and replays the
    /// last L1 TLB hit of each kind of access (its translation memos). Reports, console output
    /// and the TLBs' contents are the same either way; the tests check it.
    #[doc(hidden)]
    pub fn set_fast_paths(&mut self, on: bool) {
        self.fast_paths = on;
        self.hart.set_fast_paths(on);
        self.memory.fast_paths = on;
        self.memory.memos = [Memo::EMPTY; 3];
    }

    /// The hart.
    pub fn hart(&self) -> &Hart {
        &self.hart
    }

    /// The memory side.
    pub fn memory(&self) -> &VirtMemory {
        &self.memory
    }

    /// What the program wrote to the UART so far.
    pub fn console(&self) -> &[u8] {
        &self.memory.bus.uart.output
    }

    /// The `mtime` the clock gives now.
    #[inline]
    fn mtime(&self) -> u64 {
        self.memory.bus.clint.mtime_at(self.hart.now().as_u64())
    }

    /// Drives the CLINT into the hart at cycle `now`, the start of a step: the
    /// `time` CSR's base (`mtime` is derived from the clock, with the offset a
    /// program's write to `mtime` set) and MTIP and MSIP into `mip` (only when
    /// they change: software cannot write them); and when to look again
    /// (`bus.attention_at`: before every step with the fast paths off).
    #[inline(never)]
    fn sync_clint(&mut self, now: u64) {
        let bus = &mut self.memory.bus;
        let clint = &bus.clint;
        bus.attention_at = if self.fast_paths { clint.next_timer_change(now) } else { 0 };
        self.hart.set_time_base(CYCLES_PER_MTIME_TICK, clint.mtime_offset);
        let lines = (clint.mtime_at(now) >= clint.mtimecmp, clint.msip);
        if lines != self.lines {
            self.lines = lines;
            self.hart.set_interrupt_pending(Interrupt::MachineTimer, lines.0);
            self.hart.set_interrupt_pending(Interrupt::MachineSoftware, lines.1);
        }
    }

    /// Runs until the program halts (finisher or `tohost`), or until the
    /// config's `window` says stop (`max` instructions measured).
    ///
    /// # Errors
    /// The instruction limit, a `wfi` nothing can end, a trap vector that keeps
    /// faulting, or what the memory system stops with.
    pub fn run(&mut self) -> Result<ProgramStop<Halt>, SimError> {
        let mut window = std::mem::take(&mut self.window);
        let stop = window.run(self);
        self.window = window;
        stop
    }

    /// Steps until `until` instructions have retired since the counters were
    /// last zeroed, or the program halts (`Some`).
    fn run_until<P: StepPath>(&mut self, until: u64) -> Result<Option<Halt>, SimError> {
        let limit = self.max_instructions.unwrap_or(u64::MAX);
        let mut traps_in_a_row = 0u32;
        loop {
            // Between steps: the program halted in the last one, or the CLINT's
            // lines may have changed (written, or MTIP's deadline passed).
            let now = self.hart.now().as_u64();
            if now >= self.memory.bus.attention_at {
                if let Some(halt) = self.memory.bus.halt {
                    return Ok(Some(halt));
                }
                self.sync_clint(now);
            }
            if self.hart.stats().instructions >= until {
                return Ok(None);
            }
            if self.steps >= limit {
                return Err(SimError::InstructionLimit { limit, pc: self.hart.pc() });
            }
            self.steps += 1;
            self.memory.bus.step_start = now;
            match P::step(&mut self.hart, &mut self.memory)? {
                Step::Retired => traps_in_a_row = 0,
                Step::Trapped(cause) => {
                    traps_in_a_row += 1;
                    if traps_in_a_row >= MAX_TRAPS_IN_A_ROW {
                        return Err(SimError::NoProgress(format!(
                            "{MAX_TRAPS_IN_A_ROW} traps in a row without an instruction retiring (the last: \
                             {cause:?}, now at pc {:#x}): the trap handler itself faults",
                            self.hart.pc()
                        )));
                    }
                }
                Step::Waiting => {
                    traps_in_a_row = 0;
                    if self.hart.is_waiting() {
                        self.fast_forward()?;
                    }
                }
                Step::Syscall | Step::Exception { .. } => {
                    return Err(SimError::Internal("a bare-metal hart handed a trap to the machine".into()));
                }
            }
        }
    }

    /// A `wfi` with nothing pending: jump the clock to the timer's deadline, the
    /// only event this board can raise by itself.
    fn fast_forward(&mut self) -> Result<(), SimError> {
        const MTIE: u32 = 1 << 7;
        let mie = self.hart.csr(rv32::csr::addr::MIE).unwrap_or(0);
        let mip = self.hart.csr(rv32::csr::addr::MIP).unwrap_or(0);
        if mip & mie != 0 {
            // Already pending and enabled (the `wfi` retired with it): the next step wakes.
            return Ok(());
        }
        let mtimecmp = self.memory.bus.clint.mtimecmp;
        let mtime = self.mtime();
        if mie & MTIE != 0 && mtimecmp > mtime && mtimecmp != u64::MAX {
            // The first cycle at which `now / CYCLES_PER_MTIME_TICK + offset` reaches mtimecmp.
            let ticks = mtimecmp.wrapping_sub(self.memory.bus.clint.mtime_offset);
            let before = self.hart.now();
            self.hart.advance_to(Cycle::new(ticks.saturating_mul(CYCLES_PER_MTIME_TICK)));
            self.idle_cycles += self.hart.now().since(before).as_u64();
            return Ok(());
        }
        let pending_soon = mie & MTIE != 0 && mtimecmp <= mtime;
        if pending_soon {
            return Ok(());
        }
        Err(SimError::NoProgress(format!(
            "wfi at pc {:#x} with no interrupt that can end it (mie = {mie:#x}, mtimecmp = {mtimecmp:#x})",
            self.hart.pc()
        )))
    }

    /// The report of the run so far (since the counters were last zeroed), with
    /// the core's section and, when one was asked for, the window's.
    pub fn report(&self) -> Report {
        let memory = &self.memory;
        let mmu = &memory.mmu;
        let dram = memory.bus.dram();
        let cycles = self.measured_cycles();
        let mut report = Report::assemble(
            self.config.clone(),
            crate::report::RunCounts {
                accesses: memory.accesses,
                skipped_accesses: 0,
                context_switches: 0,
                cycles,
                cycles_by_cause: crate::report::CyclesByCause {
                    cpu: self.hart.own_cycles(),
                    dram_data: dram.stats().data.latency_cycles.saturating_add(memory.bus.device_cycles),
                    idle: self.idle_cycles,
                    ..crate::report::CyclesByCause::of_mmu(mmu)
                },
            },
            crate::report::MmuReport::of(mmu),
            memory.faults.clone(),
            crate::report::OsReport::default(),
            dram.stats(),
            memory.data_checksum,
            None,
        )
        .with_window(self.window.report());
        report.core = Some(CoreReport::new(Environment::BareMetal, self.hart.stats(), cycles));
        report
    }

    fn measured_cycles(&self) -> u64 {
        self.hart.now().since(self.measured_from).as_u64()
    }

    /// The interval columns' names, in record order (`instructions`, `accesses`,
    /// `cycles`, then the memory system's; the OS's swap columns are 0 on bare metal).
    pub fn interval_columns(&self) -> IntervalColumns {
        let mut names = vec!["accesses".to_string(), "cycles".to_string()];
        crate::interval::memory_columns(&self.memory.mmu, &mut names);
        ProgramWindow::columns(names)
    }

    /// The interval records (`window.interval`).
    pub fn intervals(&self) -> &[crate::window::IntervalRecord] {
        self.window.intervals()
    }
}

impl WindowedProgram for VirtMachine {
    type End = Halt;

    fn run_functional(&mut self, until: u64) -> Result<Option<Halt>, SimError> {
        self.run_until::<FunctionalPath>(until)
    }

    fn run_timed(&mut self, until: u64) -> Result<Option<Halt>, SimError> {
        self.run_until::<TimedPath>(until)
    }

    fn retired(&self) -> u64 {
        self.hart.stats().instructions
    }

    fn reset_counters(&mut self) {
        self.hart.reset_stats();
        self.measured_from = self.hart.now();
        self.idle_cycles = 0;
        let memory = &mut self.memory;
        memory.bus.device_cycles = 0;
        memory.mmu.reset_stats();
        memory.bus.ram.reset_stats();
        memory.faults = FaultCounts::default();
        memory.accesses = 0;
        memory.data_checksum = FNV_OFFSET;
    }

    fn interval_counters(&self) -> Vec<u64> {
        let memory = &self.memory;
        let mut values = vec![self.hart.stats().instructions, memory.accesses, self.measured_cycles()];
        let dram = memory.bus.dram().stats();
        crate::interval::memory_values(&memory.mmu, &memory.faults, None, &dram, &mut values);
        values
    }
}

#[cfg(test)]
mod tests;
