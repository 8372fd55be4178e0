//! The test ports: physical memory with the riscv-tests' `tohost` watch and two
//! devices of QEMU's `virt` machine, a flat port (no translation), an Sv32 port
//! that translates with the project's walker, and a user process's flat memory.

use mmu_core::format::Radix;
use mmu_core::walker::NoWalkCache;
use mmu_core::{
    AccessContext, AccessKind, AdUpdate, Answer, Cycle, Cycles, Fence, MemRequest, MemoryPort, PhysAddr,
    PhysMem, Timed, Traffic, Trap, TrapCause, WalkRequest, Width, walk,
};

pub const RAM_BASE: u64 = 0x8000_0000;
pub const RAM_BYTES: u64 = 4 << 20;

/// RAM at 0x8000_0000 with a watch on the `tohost` word, and two devices of QEMU's
/// `virt` machine for programs/sv32-demo: an NS16550A UART's THR (+0) and LSR
/// (+5) at 0x1000_0000, and the SiFive test finisher at 0x10_0000.
pub struct Ram {
    pub words: Vec<u32>,
    pub tohost: Option<u64>,
    pub tohost_value: Option<u32>,
    pub uart: Vec<u8>,
    pub finisher: Option<u32>,
}

pub const UART: u64 = 0x1000_0000;
pub const FINISHER: u64 = 0x10_0000;
/// LSR bit 5, THRE: the transmitter takes a byte at once.
pub const LSR_THR_EMPTY: u32 = 0x20;

impl Ram {
    pub fn new(tohost: Option<u64>) -> Self {
        Self {
            words: vec![0; (RAM_BYTES / 4) as usize],
            tohost,
            tohost_value: None,
            uart: Vec::new(),
            finisher: None,
        }
    }
    pub fn index(&self, addr: PhysAddr) -> Option<usize> {
        let offset = addr.as_u64().checked_sub(RAM_BASE)?;
        (offset < RAM_BYTES).then_some((offset / 4) as usize)
    }
    pub fn load_bytes(&mut self, paddr: u64, bytes: &[u8]) {
        for (i, b) in bytes.iter().enumerate() {
            let a = paddr + i as u64;
            let index = self.index(PhysAddr::new(a)).expect("ELF segment inside RAM");
            self.words[index] = Width::Byte.insert(self.words[index], a, u32::from(*b));
        }
    }
    /// One aligned data access at a physical address (the port's last step).
    #[inline]
    pub fn data(&mut self, now: Cycle, paddr: PhysAddr, request: &MemRequest) -> Answer {
        let ready_at = now + Cycles::new(1);
        let a = paddr.as_u64();
        match (a, request.kind) {
            (UART, AccessKind::Write) => {
                self.uart.push(request.value as u8);
                return Timed { value: Ok(0), ready_at };
            }
            (_, AccessKind::Read) if a == UART + 5 => return Timed { value: Ok(LSR_THR_EMPTY), ready_at },
            (FINISHER, AccessKind::Write) => {
                self.finisher = Some(request.value);
                return Timed { value: Ok(0), ready_at };
            }
            _ => {}
        }
        let Some(index) = self.index(paddr) else {
            let trap = Trap { cause: TrapCause::AccessFault, vaddr: request.vaddr, kind: request.kind };
            return Timed { value: Err(trap), ready_at };
        };
        let word = self.words[index];
        let value = match request.kind {
            AccessKind::Read | AccessKind::Fetch => request.width.extract(word, a),
            AccessKind::Write => {
                self.words[index] = request.width.insert(word, a, request.value);
                if Some(a) == self.tohost && request.value != 0 {
                    self.tohost_value = Some(request.value);
                }
                0
            }
        };
        Timed { value: Ok(value), ready_at }
    }
}

impl PhysMem for Ram {
    fn read(&mut self, now: Cycle, addr: PhysAddr, _: Traffic) -> Timed<u32> {
        let value = self.index(addr).map_or(0, |i| self.words[i]);
        Timed { value, ready_at: now + Cycles::new(1) }
    }
    fn write(&mut self, now: Cycle, addr: PhysAddr, value: u32, _: Traffic) -> Cycle {
        if let Some(i) = self.index(addr) {
            self.words[i] = value;
        }
        now + Cycles::new(1)
    }
    fn contains(&self, addr: PhysAddr) -> bool {
        self.index(addr).is_some()
    }
}

/// What stops a run on a test port.
#[derive(Debug)]
pub enum PortError {
    /// The flat port was asked to translate.
    NeedsTranslation,
}

/// The flat port: physical addresses only (`space: None` means PA = VA).
pub struct FlatPort {
    pub ram: Ram,
    pub fences: u64,
}

impl MemoryPort for FlatPort {
    type Error = PortError;
    fn access(
        &mut self,
        now: Cycle,
        context: &AccessContext,
        request: MemRequest,
    ) -> Result<Answer, PortError> {
        if context.space.is_some() {
            return Err(PortError::NeedsTranslation);
        }
        assert!(request.width.is_aligned(request.vaddr), "the core sends aligned requests only: {request:?}");
        Ok(self.ram.data(now, PhysAddr::new(u64::from(request.vaddr.as_u32())), &request))
    }
    fn fence(&mut self, _: Fence) {
        self.fences += 1;
    }
}

/// The Sv32 port: the project's walker over the same RAM, A/D set in hardware (or
/// by the test's pager after a fault), no TLB (so fences have nothing to drop).
pub struct Sv32Port {
    pub ram: Ram,
    pub ad_update: AdUpdate,
}

impl MemoryPort for Sv32Port {
    type Error = PortError;
    fn access(
        &mut self,
        now: Cycle,
        context: &AccessContext,
        request: MemRequest,
    ) -> Result<Answer, PortError> {
        assert!(request.width.is_aligned(request.vaddr), "the core sends aligned requests only: {request:?}");
        let Some(space) = context.space else {
            return Ok(self.ram.data(now, PhysAddr::new(u64::from(request.vaddr.as_u32())), &request));
        };
        let outcome = walk(
            &Radix::sv32(),
            &mut self.ram,
            &mut NoWalkCache,
            now,
            &WalkRequest {
                root: space.root,
                asid: space.asid,
                vaddr: request.vaddr,
                access: request.kind,
                state: context.privilege,
                ad_update: self.ad_update,
            },
        );
        match outcome.result {
            Ok(translation) => {
                let paddr = translation.phys_addr(request.vaddr);
                Ok(self.ram.data(outcome.done_at, paddr, &request))
            }
            Err(fault) => {
                let trap = Trap { cause: TrapCause::Fault(fault), vaddr: request.vaddr, kind: request.kind };
                Ok(Timed { value: Err(trap), ready_at: outcome.done_at })
            }
        }
    }
    fn fence(&mut self, _: Fence) {}
}

pub trait TestPort: MemoryPort<Error = PortError> {
    fn ram(&mut self) -> &mut Ram;
}
impl TestPort for FlatPort {
    fn ram(&mut self) -> &mut Ram {
        &mut self.ram
    }
}
impl TestPort for Sv32Port {
    fn ram(&mut self) -> &mut Ram {
        &mut self.ram
    }
}

/// A user process's memory for the Linux programs in programs/: the whole 32-bit
/// space, flat (the core gets no address space, so PA = VA), allocated on touch.
pub struct UserPort {
    pub mem: mmu_core::mem::SparseMemory,
}

impl UserPort {
    pub fn byte(&self, vaddr: u32) -> u8 {
        Width::Byte.extract(self.mem.load(PhysAddr::new(u64::from(vaddr))), u64::from(vaddr)) as u8
    }
    pub fn set_byte(&mut self, vaddr: u32, value: u8) {
        let a = PhysAddr::new(u64::from(vaddr));
        let word = Width::Byte.insert(self.mem.load(a), u64::from(vaddr), u32::from(value));
        self.mem.store(a, word);
    }
    pub fn set_word(&mut self, vaddr: u32, value: u32) {
        self.mem.store(PhysAddr::new(u64::from(vaddr)), value);
    }
}

impl MemoryPort for UserPort {
    type Error = PortError;
    fn access(
        &mut self,
        now: Cycle,
        context: &AccessContext,
        request: MemRequest,
    ) -> Result<Answer, PortError> {
        if context.space.is_some() {
            return Err(PortError::NeedsTranslation);
        }
        let a = PhysAddr::new(u64::from(request.vaddr.as_u32()));
        let word = self.mem.load(a);
        let value = match request.kind {
            AccessKind::Read | AccessKind::Fetch => request.width.extract(word, a.as_u64()),
            AccessKind::Write => {
                self.mem.store(a, request.width.insert(word, a.as_u64(), request.value));
                0
            }
        };
        Ok(Timed { value: Ok(value), ready_at: now + Cycles::new(1) })
    }
    fn fence(&mut self, _: Fence) {}
}
