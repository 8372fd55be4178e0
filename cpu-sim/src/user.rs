//! A user program on the OS model: a statically linked RV32 Linux executable runs
//! as process 0, in U-mode, with its system calls emulated here (Linux RISC-V ABI:
//! number in a7, arguments in a0-a5, result in a0, a negative errno on error).
//!
//! The process: one region per `PT_LOAD` segment (page-rounded, with the
//! segment's rights), a heap region from the page after the last segment
//! ([`HEAP_BYTES`], in which `brk` moves), and a stack region below
//! [`STACK_TOP`] ([`STACK_BYTES`]). Every page is demand paged by the OS model;
//! a segment's file bytes and the initial stack are the pages' initial contents
//! (`Os::preload`), so they are read in on first touch and after a clean
//! eviction, and swapped like any page once written.
//!
//! System calls: `write` 64 (fd 1 and 2; the kernel copies the buffer byte by
//! byte through the memory port, so its loads are timed and translated like the
//! program's), `exit` 93, `exit_group` 94, `brk` 214. Any other number stops the
//! process with an error naming it; so does an exception (illegal instruction, a
//! segmentation fault the OS refused).
//!
//! Approximations: the heap region is reserved whole at load, so a touch above
//! the break but inside the region is not a fault as on Linux; there is no
//! signal delivery, `mmap`, file system or time.
//!
//! OPT replacement needs every future access: the program is run once ahead on a
//! second machine (same config, FIFO), whose port accesses are recorded in the
//! numbering the memory system uses. A program's accesses do not depend on the
//! replacement policy as long as it does not read the clock (`rdcycle`, `rdtime`):
//! one that does gets a valid but not exactly optimal OPT.

use crate::config::MachineConfig;
use crate::error::SimError;
use crate::memory::{Functional, MemorySystem};
use crate::player::{FNV_OFFSET, fnv_fold};
use crate::program_window::{ProgramStop, ProgramWindow, WindowedProgram};
use crate::report::{CoreReport, Report};
use crate::window::{IntervalColumns, IntervalRecord};
use crate::workload::WorkloadConfig;
use mmu_core::{
    AccessContext, AccessKind, AddressSpace, Answer, Cycle, Fence, MemRequest, MemoryPort, Perms, Pid,
    VirtAddr, Width,
};
use os_model::{FutureBuilder, PageReplacement, ProcessConfig, RegionConfig};
use rv32::elf::Program;
use rv32::{CoreConfig, Environment, Hart, Step};
use std::collections::BTreeMap;

/// One past the top of the stack (Linux on RV32 puts it just below 2 GiB).
pub const STACK_TOP: u32 = 0x8000_0000;
/// Bytes of stack region.
pub const STACK_BYTES: u64 = 8 << 20;
/// Bytes the heap may grow by through `brk`: more than the 64 MiB issue #10 asks.
pub const HEAP_BYTES: u64 = 128 << 20;
const PAGE: u64 = 4096;

/// Linux errno values the emulated calls return (negated).
const EBADF: i32 = 9;
const EFAULT: i32 = 14;

/// The running process.
const PID: Pid = Pid::new(0);

/// A user program on the OS model.
pub struct UserMachine {
    config: MachineConfig,
    hart: Hart,
    memory: MemorySystem,
    io: ProcessIo,
    max_instructions: Option<u64>,
    /// FNV-1a of every value fetched or loaded, as the trace player folds them.
    data_checksum: u64,
    /// The clock when the counters were last zeroed: the report's `cycles` count from it.
    measured_from: Cycle,
    window: ProgramWindow,
}

/// The machine's own port: the memory system, with every value fetched or loaded
/// folded into the report's `data_checksum`.
struct Summing<'a> {
    inner: &'a mut MemorySystem,
    checksum: &'a mut u64,
}

impl MemoryPort for Summing<'_> {
    type Error = SimError;
    #[inline]
    fn access(
        &mut self,
        now: Cycle,
        context: &AccessContext,
        request: MemRequest,
    ) -> Result<Answer, SimError> {
        let answer = self.inner.access(now, context, request)?;
        if let (Ok(value), false) = (answer.value, request.kind == AccessKind::Write) {
            *self.checksum = fnv_fold(*self.checksum, value);
        }
        Ok(answer)
    }
    fn fence(&mut self, fence: Fence) {
        self.inner.fence(fence);
    }
}

impl UserPort for Summing<'_> {
    fn is_running(&self) -> bool {
        self.inner.is_running()
    }
    fn last_segfault(&self) -> Option<String> {
        self.inner.last_segfault()
    }
}

/// The kernel-side state of the process: its break and what it wrote.
#[derive(Clone, Debug)]
struct ProcessIo {
    brk_start: u32,
    brk: u32,
    heap_end: u32,
    stdout: Vec<u8>,
    stderr: Vec<u8>,
    steps: u64,
}

/// What the system-call emulation needs of the memory behind the port.
trait UserPort: MemoryPort<Error = SimError> {
    /// Whether the OS still runs the process (a refused fault stops it).
    fn is_running(&self) -> bool;
    /// The last segmentation fault, described.
    fn last_segfault(&self) -> Option<String>;
}

impl UserPort for MemorySystem {
    fn is_running(&self) -> bool {
        self.os().is_running(PID)
    }
    fn last_segfault(&self) -> Option<String> {
        self.segfaults().last().map(|s| format!("{s:?}"))
    }
}

impl UserPort for Functional<'_> {
    fn is_running(&self) -> bool {
        self.0.is_running()
    }
    fn last_segfault(&self) -> Option<String> {
        self.0.last_segfault()
    }
}

/// OPT's look-ahead: a run of the program on a second machine whose every access
/// is recorded (the program's accesses do not depend on the replacement policy:
/// it reads no clock here).
struct Recording<'a, 'b> {
    inner: &'b mut MemorySystem,
    builder: FutureBuilder<'a>,
}

impl MemoryPort for Recording<'_, '_> {
    type Error = SimError;
    fn access(
        &mut self,
        now: Cycle,
        context: &AccessContext,
        request: MemRequest,
    ) -> Result<Answer, SimError> {
        // The memory system numbers the aligned accesses it is given: the same ones
        // (as the word that holds them: the builder numbers word accesses).
        if request.width.is_aligned(request.vaddr) {
            self.builder.access(request.kind, VirtAddr::new(request.vaddr.as_u32() & !3));
        }
        self.inner.access(now, context, request)
    }
    fn fence(&mut self, fence: Fence) {
        self.inner.fence(fence);
    }
}

impl UserPort for Recording<'_, '_> {
    fn is_running(&self) -> bool {
        self.inner.is_running()
    }
    fn last_segfault(&self) -> Option<String> {
        self.inner.last_segfault()
    }
}

fn round_up(x: u64) -> u64 {
    x.div_ceil(PAGE) * PAGE
}

impl UserMachine {
    /// Loads `program` as process 0 of the OS model a validated config describes;
    /// with `check`, the `--check` oracle verifies every load.
    ///
    /// # Errors
    /// Segments that overlap or leave no room for the heap and stack, a config
    /// the process does not fit (`Unsupported`), OPT replacement, or memory too
    /// small for the page tables.
    pub fn new(config: &MachineConfig, program: &Program, check: bool) -> Result<Self, SimError> {
        let mut machine = Self::load(config, program, check)?;
        if machine.memory.os().needs_future() {
            // OPT: run the program once ahead, under FIFO, recording its accesses.
            let mut ahead_config = config.clone();
            ahead_config.os.replacement = PageReplacement::Fifo;
            let mut ahead = Self::load(&ahead_config, program, false)?;
            let limit = ahead.max_instructions;
            let mut recording =
                Recording { inner: &mut ahead.memory, builder: FutureBuilder::new(machine.memory.os()) };
            execute(&mut ahead.hart, &mut recording, &mut ahead.io, limit, u64::MAX)?;
            let future = recording.builder.finish()?;
            machine.memory.set_future(future);
        }
        Ok(machine)
    }

    /// Builds the process and loads the program.
    fn load(config: &MachineConfig, program: &Program, check: bool) -> Result<Self, SimError> {
        let mut regions = Vec::new();
        let mut end = 0u64;
        for (i, segment) in program.segments.iter().enumerate() {
            if segment.mem_size == 0 {
                continue;
            }
            let base = u64::from(segment.vaddr) & !(PAGE - 1);
            let top = round_up(u64::from(segment.vaddr) + u64::from(segment.mem_size));
            if base < end {
                return Err(SimError::Unsupported(format!(
                    "segment {i} at {:#x} shares a page with the segment before it; this loader maps each \
                     segment's pages with its own rights",
                    segment.vaddr
                )));
            }
            end = top;
            let f = segment.flags;
            let perms = [(f.read, Perms::R), (f.write, Perms::W), (f.execute, Perms::X)]
                .into_iter()
                .filter(|(on, _)| *on)
                .fold(Perms::NONE, |p, (_, bit)| p.union(bit));
            regions.push(RegionConfig {
                name: format!("segment{i}"),
                base: base as u32,
                size: top - base,
                perms,
                user: true,
                shared: None,
                superpages: false,
            });
        }
        let heap_base = end;
        let stack_base = u64::from(STACK_TOP) - STACK_BYTES;
        if heap_base + HEAP_BYTES > stack_base {
            return Err(SimError::Unsupported(format!(
                "the segments end at {heap_base:#x}: no room for a {HEAP_BYTES}-byte heap below the stack at {stack_base:#x}"
            )));
        }
        let rw = Perms::R.union(Perms::W);
        regions.push(RegionConfig {
            name: "heap".into(),
            base: heap_base as u32,
            size: HEAP_BYTES,
            perms: rw,
            user: true,
            shared: None,
            superpages: false,
        });
        regions.push(RegionConfig {
            name: "stack".into(),
            base: stack_base as u32,
            size: STACK_BYTES,
            perms: rw,
            user: true,
            shared: None,
            superpages: false,
        });
        let mut config = config.clone();
        config.processes = vec![ProcessConfig { name: "program".into(), regions }];
        config
            .validate()
            .map_err(|e| SimError::Unsupported(format!("the program does not fit the config: {e}")))?;

        let mut memory = MemorySystem::boot(&config)?;
        let process = memory.os().process(PID).ok_or_else(|| SimError::Internal("no process 0".into()))?;
        let space = AddressSpace { asid: process.asid, root: process.root };
        if check {
            memory.enable_check();
        }
        // The segments' file bytes, page by page.
        let mut pages: BTreeMap<u32, Vec<u32>> = BTreeMap::new();
        for segment in &program.segments {
            for (i, &byte) in segment.file_bytes.iter().enumerate() {
                let va = segment.vaddr.wrapping_add(i as u32);
                let words =
                    pages.entry(va & !(PAGE as u32 - 1)).or_insert_with(|| vec![0; PAGE as usize / 4]);
                let w = &mut words[(va as usize % PAGE as usize) / 4];
                *w = Width::Byte.insert(*w, u64::from(va), u32::from(byte));
            }
        }
        // The stack as Linux leaves it: argc = 1, argv[0], NULL, envp NULL, auxv AT_NULL,
        // then the string argv[0] points at.
        let sp = STACK_TOP - 64;
        let name_at = sp + 32;
        let mut stack = vec![0u32; PAGE as usize / 4];
        let top_page = STACK_TOP - PAGE as u32;
        let at = |va: u32| ((va - top_page) / 4) as usize;
        stack[at(sp)] = 1;
        stack[at(sp + 4)] = name_at;
        for (i, chunk) in b"program\0".chunks(4).enumerate() {
            stack[at(name_at) + i] = u32::from_le_bytes([chunk[0], chunk[1], chunk[2], chunk[3]]);
        }
        pages.insert(top_page, stack);
        for (va, words) in &pages {
            if words.iter().any(|&w| w != 0) {
                memory.preload(PID, VirtAddr::new(*va), words)?;
            }
        }
        let core = CoreConfig {
            cycles_per_instruction: config.cpu.cycles_per_access,
            environment: Environment::UserProcess,
            hart_id: 0,
        };
        let mut hart = Hart::new(core, program.entry);
        hart.set_address_space(Some(space)).map_err(|e| SimError::Internal(e.to_string()))?;
        hart.set_reg(2, sp);
        let max_instructions = match &config.workload {
            WorkloadConfig::Elf { max_instructions, .. } => *max_instructions,
            _ => None,
        };
        let io = ProcessIo {
            brk_start: heap_base as u32,
            brk: heap_base as u32,
            heap_end: (heap_base + HEAP_BYTES) as u32,
            stdout: Vec::new(),
            stderr: Vec::new(),
            steps: 0,
        };
        let window = ProgramWindow::new(config.window);
        Ok(Self {
            config,
            hart,
            memory,
            io,
            max_instructions,
            data_checksum: FNV_OFFSET,
            measured_from: Cycle::ZERO,
            window,
        })
    }

    /// Turns the hart's fast paths on (the default) or off ([`Hart::set_fast_paths`]):
    /// reports and output are the same either way; the tests check it.
    #[doc(hidden)]
    pub fn set_fast_paths(&mut self, on: bool) {
        self.hart.set_fast_paths(on);
    }

    /// What the program wrote to fd 1.
    pub fn stdout(&self) -> &[u8] {
        &self.io.stdout
    }

    /// What the program wrote to fd 2.
    pub fn stderr(&self) -> &[u8] {
        &self.io.stderr
    }

    /// The memory system (for tests and tools that inspect its state).
    pub fn memory(&self) -> &MemorySystem {
        &self.memory
    }

    /// Runs the program until it exits (`Ended` with its exit status), or until
    /// the config's `window` says stop (`max` instructions measured).
    ///
    /// # Errors
    /// The instruction limit, an exception or an unsupported system call
    /// (`ProcessStopped`), or what the memory system stops with.
    pub fn run(&mut self) -> Result<ProgramStop<u32>, SimError> {
        let mut window = std::mem::take(&mut self.window);
        let stop = window.run(self);
        self.window = window;
        stop
    }

    /// The report of the run so far (since the counters were last zeroed), with
    /// the core's section and, when one was asked for, the window's.
    pub fn report(&self) -> Report {
        let memory = &self.memory;
        let mmu = memory.mmu();
        let cycles = self.measured_cycles();
        let mut report = Report::assemble(
            self.config.clone(),
            crate::report::RunCounts {
                accesses: memory.accesses(),
                skipped_accesses: 0,
                context_switches: 0,
                cycles,
                cycles_by_cause: crate::report::CyclesByCause {
                    cpu: self.hart.own_cycles(),
                    ..crate::report::CyclesByCause::of_memory(memory, self.config.os.swap.as_ref())
                },
            },
            crate::report::MmuReport::of(mmu),
            memory.faults().clone(),
            crate::report::OsReport::of(memory),
            memory.dram().stats(),
            self.data_checksum,
            memory.check_stats(),
        )
        .with_window(self.window.report());
        report.core = Some(CoreReport::new(Environment::UserProcess, self.hart.stats(), cycles));
        report
    }

    fn measured_cycles(&self) -> u64 {
        self.hart.now().since(self.measured_from).as_u64()
    }

    /// The interval columns' names, in record order (`instructions`, `accesses`,
    /// `cycles`, then the memory system's).
    pub fn interval_columns(&self) -> IntervalColumns {
        let mut names = vec!["accesses".to_string(), "cycles".to_string()];
        crate::interval::memory_columns(self.memory.mmu(), &mut names);
        ProgramWindow::columns(names)
    }

    /// The interval records (`window.interval`).
    pub fn intervals(&self) -> &[IntervalRecord] {
        self.window.intervals()
    }
}

impl WindowedProgram for UserMachine {
    type End = u32;

    fn run_functional(&mut self, until: u64) -> Result<Option<u32>, SimError> {
        let mut port = Functional(&mut self.memory);
        execute(&mut self.hart, &mut port, &mut self.io, self.max_instructions, until)
    }

    fn run_timed(&mut self, until: u64) -> Result<Option<u32>, SimError> {
        let mut port = Summing { inner: &mut self.memory, checksum: &mut self.data_checksum };
        execute(&mut self.hart, &mut port, &mut self.io, self.max_instructions, until)
    }

    fn retired(&self) -> u64 {
        self.hart.stats().instructions
    }

    /// The core's, the memory system's (MMU, DRAM, OS, faults, `--check`) and
    /// the run's (`cycles`, `data_checksum`) counters.
    fn reset_counters(&mut self) {
        self.hart.reset_stats();
        self.measured_from = self.hart.now();
        self.memory.reset_counters();
        self.data_checksum = FNV_OFFSET;
    }

    fn interval_counters(&self) -> Vec<u64> {
        let memory = &self.memory;
        let mut values = vec![self.hart.stats().instructions, memory.accesses(), self.measured_cycles()];
        let (os, dram) = (memory.os().stats(), memory.dram().stats());
        crate::interval::memory_values(memory.mmu(), memory.faults(), Some(&os), &dram, &mut values);
        values
    }
}

/// Runs the hart on `port` until the program exits (`Some` of its exit status)
/// or `until` instructions have retired since the core's counters were zeroed.
fn execute<P: UserPort>(
    hart: &mut Hart,
    port: &mut P,
    io: &mut ProcessIo,
    max_instructions: Option<u64>,
    until: u64,
) -> Result<Option<u32>, SimError> {
    let limit = max_instructions.unwrap_or(u64::MAX);
    while hart.stats().instructions < until {
        if io.steps >= limit {
            return Err(SimError::InstructionLimit { limit, pc: hart.pc() });
        }
        io.steps += 1;
        match hart.step(port)? {
            Step::Retired | Step::Trapped(_) => {}
            Step::Waiting => {
                return Err(SimError::ProcessStopped(format!(
                    "wfi at pc {:#x}: a user process has no interrupt to wait for",
                    hart.pc()
                )));
            }
            Step::Syscall => {
                if let Some(status) = syscall(hart, port, io)? {
                    return Ok(Some(status));
                }
            }
            Step::Exception { cause, tval, pc } => {
                let why = match port.last_segfault() {
                    Some(segfault) => format!("segmentation fault: {segfault}"),
                    None => format!("{cause:?}"),
                };
                return Err(SimError::ProcessStopped(format!("{why} at pc {pc:#010x} (tval {tval:#010x})")));
            }
        }
    }
    Ok(None)
}

/// Emulates the `ecall` the hart stopped at; `Some(status)` when the program exits.
fn syscall<P: UserPort>(hart: &mut Hart, port: &mut P, io: &mut ProcessIo) -> Result<Option<u32>, SimError> {
    let number = hart.reg(17);
    let (a0, a1, a2) = (hart.reg(10), hart.reg(11), hart.reg(12));
    let result = match number {
        64 => write(hart, port, io, a0, a1, a2)?,
        93 | 94 => return Ok(Some(a0)),
        214 => {
            // Linux: the new break on success, the current one otherwise (brk(0) asks).
            if a0 >= io.brk_start && a0 <= io.heap_end {
                io.brk = a0;
            }
            io.brk as i32
        }
        n => {
            return Err(SimError::ProcessStopped(format!(
                "unsupported system call {n} (a7) at pc {:#010x}; this machine has write (64), exit (93), \
                 exit_group (94) and brk (214)",
                hart.pc()
            )));
        }
    };
    hart.set_reg(10, result as u32);
    hart.skip_ecall();
    Ok(None)
}

/// `write(fd, buf, len)`: the bytes, loaded through the memory port.
fn write<P: UserPort>(
    hart: &mut Hart,
    port: &mut P,
    io: &mut ProcessIo,
    fd: u32,
    buf: u32,
    len: u32,
) -> Result<i32, SimError> {
    if fd != 1 && fd != 2 {
        return Ok(-EBADF);
    }
    let context = *hart.data_context();
    let mut bytes = Vec::with_capacity(len as usize);
    for i in 0..len {
        let request = MemRequest::load(VirtAddr::new(buf.wrapping_add(i)), Width::Byte);
        let answer = port.access(hart.now(), &context, request)?;
        hart.advance_to(answer.ready_at);
        match answer.value {
            Ok(byte) => bytes.push(byte as u8),
            Err(_) if !port.is_running() => {
                return Err(SimError::ProcessStopped(format!(
                    "segmentation fault in write({fd}, {buf:#x}, {len}) at byte {i}"
                )));
            }
            Err(_) => return Ok(-EFAULT),
        }
    }
    if fd == 1 { &mut io.stdout } else { &mut io.stderr }.extend_from_slice(&bytes);
    Ok(len as i32)
}
