//! The physical bus of the `virt` board: RAM (the modeled [`Dram`], at `base`)
//! and the devices. The walker sees it as [`PhysMem`], where only RAM is
//! memory ("contains"), so a PTE read anywhere else is an access fault; data
//! accesses reach RAM or a device, and anything else is unbacked.
//!
//! Timing: RAM accesses are timed by the DRAM model (with the offset from `base`,
//! so banks and rows see the same mapping as a DRAM at 0); a device access costs
//! [`DEVICE_LATENCY`] and is not counted as DRAM traffic.

use super::devices::{CLINT, Clint, FINISHER, Halt, UART, Uart, finisher_write, tohost_write};
use mmu_core::{
    AccessKind, Cycle, Cycles, Dram, MemRequest, PhysAddr, PhysBackdoor, PhysMem, Timed, Traffic,
};

/// Cycles a device register access takes (an uncached bus transaction; QEMU
/// charges nothing, real 16550s on a SoC bus take tens of cycles).
pub const DEVICE_LATENCY: Cycles = Cycles::new(1);

/// RAM and devices.
pub struct Bus {
    pub(crate) ram: Dram,
    base: u64,
    size: u64,
    pub(crate) uart: Uart,
    pub(crate) clint: Clint,
    /// The physical address of the ELF's `tohost` word, if it has one.
    tohost: Option<u64>,
    /// How the program ended, once it has.
    pub(crate) halt: Option<Halt>,
    /// Cycles spent on device register accesses ([`DEVICE_LATENCY`] each).
    pub(crate) device_cycles: u64,
    /// The clock when the current instruction began (set by the board before each
    /// step): the CLINT's `mtime` is derived from it when a program reads or
    /// writes a CLINT register, never ticked.
    pub(crate) step_start: u64,
    /// The clock at which the board must look at the bus again before a step:
    /// when MTIP may change next; 0 once a CLINT register is written (the lines
    /// and the `time` CSR must be driven again) or the program has halted.
    pub(crate) attention_at: u64,
}

impl Bus {
    /// A bus over `ram`, which starts at `base`.
    pub fn new(ram: Dram, base: u64, tohost: Option<u64>) -> Self {
        let size = ram.capacity_bytes();
        Self {
            ram,
            base,
            size,
            uart: Uart::default(),
            clint: Clint::default(),
            tohost,
            halt: None,
            device_cycles: 0,
            step_start: 0,
            attention_at: 0,
        }
    }

    /// The DRAM address of `addr`, if it is in RAM.
    #[inline]
    fn ram_offset(&self, addr: PhysAddr) -> Option<PhysAddr> {
        let offset = addr.as_u64().wrapping_sub(self.base);
        (offset < self.size).then_some(PhysAddr::new(offset))
    }

    /// Whether `[start, start + bytes)` lies in RAM.
    pub fn ram_holds(&self, start: u64, bytes: u64) -> bool {
        start >= self.base && start.saturating_add(bytes) <= self.base + self.size
    }

    /// Writes `bytes` at `start` through the back door (an ELF loader); the
    /// caller checked [`Bus::ram_holds`].
    pub fn load_bytes(&mut self, start: u64, bytes: &[u8]) {
        for (i, &b) in bytes.iter().enumerate() {
            let a = start + i as u64;
            if let Some(d) = self.ram_offset(PhysAddr::new(a & !3)) {
                let word = mmu_core::Width::Byte.insert(self.ram.peek(d), a, u32::from(b));
                self.ram.poke(d, word);
            }
        }
    }

    /// One aligned data access at physical address `paddr`: `None` if nothing
    /// backs it (an access fault).
    #[inline(always)]
    pub fn data(&mut self, now: Cycle, paddr: PhysAddr, request: &MemRequest) -> Option<Timed<u32>> {
        let Some(d) = self.ram_offset(paddr) else {
            return self.device(now, paddr.as_u64(), request);
        };
        let a = paddr.as_u64();
        Some(match request.kind {
            AccessKind::Read | AccessKind::Fetch => {
                let read = self.ram.read(now, d, Traffic::Data);
                Timed { value: request.width.extract(read.value, a), ready_at: read.ready_at }
            }
            AccessKind::Write => {
                // A byte or halfword store is a word write with the other lanes kept.
                let word = request.width.insert(self.ram.peek(d), a, request.value);
                let ready_at = self.ram.write(now, d, word, Traffic::Data);
                self.watch_tohost(a, word);
                Timed { value: 0, ready_at }
            }
        })
    }

    /// [`Bus::data`] on the functional path (a skip): RAM through the back door,
    /// untimed and uncounted, with no DRAM row change; devices as always.
    pub fn data_functional(&mut self, now: Cycle, paddr: PhysAddr, request: &MemRequest) -> Option<u32> {
        let Some(d) = self.ram_offset(paddr) else {
            return self.device(now, paddr.as_u64(), request).map(|done| done.value);
        };
        let a = paddr.as_u64();
        let word = self.ram.peek(d);
        Some(match request.kind {
            AccessKind::Read | AccessKind::Fetch => request.width.extract(word, a),
            AccessKind::Write => {
                let word = request.width.insert(word, a, request.value);
                self.ram.poke(d, word);
                self.watch_tohost(a, word);
                0
            }
        })
    }

    /// A store of `word` at `a`: if it is the `tohost` word, the program halts.
    #[inline]
    fn watch_tohost(&mut self, a: u64, word: u32) {
        if self.tohost == Some(a & !3) && word != 0 && self.halt.is_none() {
            self.halt = Some(tohost_write(word));
            self.attention_at = 0;
        }
    }

    #[cold]
    fn device(&mut self, now: Cycle, a: u64, request: &MemRequest) -> Option<Timed<u32>> {
        let width = request.width;
        let write = request.kind == AccessKind::Write;
        let value = if let Some(o) = UART.offset(a) {
            if write {
                self.uart.store(o, width, request.value);
                0
            } else {
                self.uart.load(o, width)
            }
        } else if let Some(o) = CLINT.offset(a) {
            let mtime = self.clint.mtime_at(self.step_start);
            if write {
                self.clint.store(o, width, request.value, mtime);
                self.attention_at = 0;
                0
            } else {
                self.clint.load(o, width, mtime)
            }
        } else if let Some(o) = FINISHER.offset(a) {
            if write && o == 0 && self.halt.is_none() {
                let value = width.insert(0, a, request.value);
                self.halt = finisher_write(value);
                self.attention_at = 0;
            }
            0
        } else {
            return None;
        };
        self.device_cycles += DEVICE_LATENCY.as_u64();
        Some(Timed { value, ready_at: now + DEVICE_LATENCY })
    }

    /// The DRAM.
    pub fn dram(&self) -> &Dram {
        &self.ram
    }
}

impl PhysMem for Bus {
    #[inline]
    fn read(&mut self, now: Cycle, addr: PhysAddr, traffic: Traffic) -> Timed<u32> {
        match self.ram_offset(addr) {
            Some(d) => self.ram.read(now, d, traffic),
            None => Timed { value: 0, ready_at: now },
        }
    }
    #[inline]
    fn write(&mut self, now: Cycle, addr: PhysAddr, value: u32, traffic: Traffic) -> Cycle {
        match self.ram_offset(addr) {
            Some(d) => self.ram.write(now, d, value, traffic),
            None => now,
        }
    }
    #[inline]
    fn contains(&self, addr: PhysAddr) -> bool {
        self.ram_offset(addr).is_some()
    }
}

impl PhysBackdoor for Bus {
    fn peek(&self, addr: PhysAddr) -> u32 {
        self.ram_offset(addr).map_or(0, |d| self.ram.peek(d))
    }
    fn poke(&mut self, addr: PhysAddr, value: u32) {
        if let Some(d) = self.ram_offset(addr) {
            self.ram.poke(d, value);
        }
    }
    fn zero(&mut self, addr: PhysAddr, bytes: u64) {
        if let Some(d) = self.ram_offset(addr) {
            self.ram.zero(d, bytes);
        }
    }
    fn touched_bytes(&self, start: PhysAddr, bytes: u64) -> u64 {
        self.ram_offset(start).map_or(0, |d| self.ram.host_bytes_in(d, bytes))
    }
}
