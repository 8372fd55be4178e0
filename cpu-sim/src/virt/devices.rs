//! The devices of QEMU's `virt` board that bare-metal programs use: an NS16550A
//! UART, the SiFive test finisher and the CLINT (`hw/riscv/virt.c`,
//! `virt_memmap`). Each answers word, halfword and byte accesses through the lanes
//! of the aligned word that holds them; registers a program does not need read 0
//! and ignore writes.

use mmu_core::Width;

/// One device window: where it sits and what it is called in errors.
#[derive(Clone, Copy, Debug)]
pub struct Window {
    /// First byte.
    pub base: u64,
    /// Bytes.
    pub size: u64,
    /// The device's name.
    pub name: &'static str,
}

impl Window {
    /// The offset of `addr` inside the window, if it is inside.
    #[inline]
    pub const fn offset(&self, addr: u64) -> Option<u64> {
        if addr >= self.base && addr - self.base < self.size { Some(addr - self.base) } else { None }
    }
}

/// The test finisher (`sifive_test`): a write of 0x5555 passes, `(n << 16) | 0x3333`
/// fails with code n, 0x7777 resets.
pub const FINISHER: Window = Window { base: 0x10_0000, size: 0x1000, name: "test finisher" };
/// The CLINT: `msip` at +0, `mtimecmp` at +0x4000, `mtime` at +0xbff8.
pub const CLINT: Window = Window { base: 0x200_0000, size: 0x1_0000, name: "CLINT" };
/// The NS16550A UART (8 byte registers, QEMU's `reg-shift` 0).
pub const UART: Window = Window { base: 0x1000_0000, size: 0x100, name: "UART" };
/// Every device window, for overlap checks.
pub const WINDOWS: [Window; 3] = [FINISHER, CLINT, UART];

/// How a program ended through a device or `tohost`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Halt {
    /// The finisher's 0x5555, or `tohost` = 1.
    Pass,
    /// The finisher's `(n << 16) | 0x3333`, or `tohost` = `(n << 1) | 1`: test n failed.
    Fail(u32),
    /// The finisher's 0x7777: the program asked for a reset, which this board
    /// does not model.
    Reset,
    /// An even, non-zero `tohost` value: an HTIF request (a system call or a
    /// character for the front end), which this board does not serve.
    HostRequest(u32),
}

/// The finisher's codes (QEMU `include/hw/misc/sifive_test.h`).
const FINISHER_FAIL: u32 = 0x3333;
const FINISHER_PASS: u32 = 0x5555;
const FINISHER_RESET: u32 = 0x7777;

/// What a write to the finisher means; `None` for a value it ignores.
pub fn finisher_write(value: u32) -> Option<Halt> {
    match value & 0xffff {
        FINISHER_PASS => Some(Halt::Pass),
        FINISHER_FAIL => Some(Halt::Fail(value >> 16)),
        FINISHER_RESET => Some(Halt::Reset),
        _ => None,
    }
}

/// What a non-zero write to `tohost` means (riscv-tests' `RVTEST_PASS`/`RVTEST_FAIL`).
pub fn tohost_write(value: u32) -> Halt {
    match value {
        1 => Halt::Pass,
        v if v & 1 == 1 => Halt::Fail(v >> 1),
        v => Halt::HostRequest(v),
    }
}

/// The NS16550A, as far as a polling console needs it: THR (+0) writes go to the
/// console; LSR (+5) reads THRE | TEMT (the transmitter takes a byte at once);
/// with LCR.DLAB set, +0 and +1 are the divisor latch (kept, never used). No
/// receiver, FIFOs or interrupts.
#[derive(Clone, Debug, Default)]
pub struct Uart {
    /// Bytes written to THR, in order.
    pub output: Vec<u8>,
    /// IER, IIR/FCR, LCR, MCR, LSR, MSR, SCR as written (THR/RBR at 0 is not kept).
    registers: [u8; 8],
    divisor: [u8; 2],
}

/// LSR bits 5 (THRE) and 6 (TEMT).
const LSR_TRANSMITTER_EMPTY: u8 = 0x60;
/// LCR bit 7: the divisor latch access bit.
const LCR_DLAB: u8 = 0x80;
const THR: u64 = 0;
const IER: u64 = 1;
const LCR: u64 = 3;
const LSR: u64 = 5;

impl Uart {
    fn dlab(&self) -> bool {
        self.registers[LCR as usize] & LCR_DLAB != 0
    }

    fn read_byte(&self, offset: u64) -> u8 {
        match offset {
            THR | IER if self.dlab() => self.divisor[offset as usize],
            THR => 0,
            LSR => LSR_TRANSMITTER_EMPTY,
            o if o < 8 => self.registers[o as usize],
            _ => 0,
        }
    }

    fn write_byte(&mut self, offset: u64, value: u8) {
        match offset {
            THR | IER if self.dlab() => self.divisor[offset as usize] = value,
            THR => self.output.push(value),
            LSR => {}
            o if o < 8 => self.registers[o as usize] = value,
            _ => {}
        }
    }

    /// A load of `width` at `offset`: each byte lane reads its register.
    pub fn load(&self, offset: u64, width: Width) -> u32 {
        (0..u64::from(width.bytes())).fold(0, |v, i| v | u32::from(self.read_byte(offset + i)) << (8 * i))
    }

    /// A store of `width` at `offset`: each byte lane writes its register, in
    /// address order.
    pub fn store(&mut self, offset: u64, width: Width, value: u32) {
        for i in 0..u64::from(width.bytes()) {
            self.write_byte(offset + i, (value >> (8 * i)) as u8);
        }
    }
}

/// The CLINT of one hart: `msip`, `mtimecmp` and `mtime`. `mtime` is derived from
/// the core's clock by the board ([`super::CYCLES_PER_MTIME_TICK`]); a write to
/// `mtime` sets an offset so that it reads back what was written.
#[derive(Clone, Debug)]
pub struct Clint {
    /// `msip` bit 0: MSIP.
    pub msip: bool,
    /// `mtimecmp`; resets to all ones (no timer interrupt) as on QEMU.
    pub mtimecmp: u64,
    /// Added to the clock-derived time (a program that writes `mtime`).
    pub mtime_offset: u64,
}

impl Default for Clint {
    fn default() -> Self {
        Self { msip: false, mtimecmp: u64::MAX, mtime_offset: 0 }
    }
}

const MSIP: u64 = 0;
const MTIMECMP: u64 = 0x4000;
const MTIME: u64 = 0xbff8;

impl Clint {
    /// `mtime` at core cycle `now`: one tick every [`super::CYCLES_PER_MTIME_TICK`]
    /// cycles, plus the offset a program's write to `mtime` set.
    #[inline]
    pub fn mtime_at(&self, now: u64) -> u64 {
        (now / super::CYCLES_PER_MTIME_TICK).wrapping_add(self.mtime_offset)
    }

    /// The first cycle after `now` at which `mtime >= mtimecmp` may change (MTIP
    /// rises when `mtime` reaches `mtimecmp`, falls when it wraps to 0), or
    /// `u64::MAX` if it never does; until then, and until a CLINT register is
    /// written, MTIP stays what it is at `now`.
    pub fn next_timer_change(&self, now: u64) -> u64 {
        let ticks = now / super::CYCLES_PER_MTIME_TICK;
        let mtime = ticks.wrapping_add(self.mtime_offset);
        let ticks_to_change =
            if mtime >= self.mtimecmp { mtime.wrapping_neg() } else { self.mtimecmp - mtime };
        match ticks_to_change {
            0 => u64::MAX,
            t => ticks.saturating_add(t).saturating_mul(super::CYCLES_PER_MTIME_TICK),
        }
    }

    /// The aligned word at `offset` (a multiple of 4) when `mtime` reads `mtime`.
    fn word(&self, offset: u64, mtime: u64) -> u32 {
        match offset {
            MSIP => u32::from(self.msip),
            MTIMECMP => self.mtimecmp as u32,
            o if o == MTIMECMP + 4 => (self.mtimecmp >> 32) as u32,
            MTIME => mtime as u32,
            o if o == MTIME + 4 => (mtime >> 32) as u32,
            _ => 0,
        }
    }

    /// A load of `width` at `offset`.
    pub fn load(&self, offset: u64, width: Width, mtime: u64) -> u32 {
        width.extract(self.word(offset & !3, mtime), offset)
    }

    /// A store of `width` at `offset`; `mtime` is the time it reads now.
    pub fn store(&mut self, offset: u64, width: Width, value: u32, mtime: u64) {
        let aligned = offset & !3;
        let word = width.insert(self.word(aligned, mtime), offset, value);
        let set_low = |x: u64| (x & !0xffff_ffff) | u64::from(word);
        let set_high = |x: u64| (x & 0xffff_ffff) | (u64::from(word) << 32);
        match aligned {
            MSIP => self.msip = word & 1 != 0,
            MTIMECMP => self.mtimecmp = set_low(self.mtimecmp),
            o if o == MTIMECMP + 4 => self.mtimecmp = set_high(self.mtimecmp),
            MTIME => self.mtime_offset = set_low(mtime).wrapping_sub(mtime.wrapping_sub(self.mtime_offset)),
            o if o == MTIME + 4 => {
                self.mtime_offset = set_high(mtime).wrapping_sub(mtime.wrapping_sub(self.mtime_offset));
            }
            _ => {}
        }
    }
}

/// The device whose window `[start, end)` overlaps, if any.
pub fn overlapping_device(start: u64, end: u64) -> Option<&'static str> {
    WINDOWS.iter().find(|w| start < w.base + w.size && w.base < end).map(|w| w.name)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn finisher_and_tohost_codes() {
        assert_eq!(finisher_write(0x5555), Some(Halt::Pass));
        assert_eq!(finisher_write((3 << 16) | 0x3333), Some(Halt::Fail(3)));
        assert_eq!(finisher_write(0x7777), Some(Halt::Reset));
        assert_eq!(finisher_write(0x1234), None);
        assert_eq!(tohost_write(1), Halt::Pass);
        assert_eq!(tohost_write((5 << 1) | 1), Halt::Fail(5));
        assert_eq!(tohost_write(0x100), Halt::HostRequest(0x100));
    }

    #[test]
    fn uart_prints_thr_and_reports_an_empty_transmitter() {
        let mut uart = Uart::default();
        uart.store(0, Width::Byte, u32::from(b'h'));
        assert_eq!(uart.load(5, Width::Byte), 0x60);
        uart.store(3, Width::Byte, 0x80); // DLAB: +0 is the divisor now
        uart.store(0, Width::Byte, 1);
        uart.store(3, Width::Byte, 0x03);
        uart.store(0, Width::Byte, u32::from(b'i'));
        assert_eq!(uart.output, b"hi");
    }

    #[test]
    fn clint_registers_by_halves_and_bytes() {
        let mut clint = Clint::default();
        clint.store(0x4000, Width::Word, 100, 0);
        clint.store(0x4004, Width::Word, 0, 0);
        assert_eq!(clint.mtimecmp, 100);
        assert_eq!(clint.load(0xbff8, Width::Word, 0x1_0000_0005), 5);
        assert_eq!(clint.load(0xbffc, Width::Word, 0x1_0000_0005), 1);
        clint.store(0, Width::Byte, 1, 0);
        assert!(clint.msip);
        // Writing mtime = 1000 when the clock says 10: it reads 1000 + what passes.
        clint.store(0xbff8, Width::Word, 1000, 10);
        assert_eq!(clint.mtime_offset, 990);
    }

    #[test]
    fn the_timer_line_is_looked_at_again_when_mtime_reaches_mtimecmp_or_wraps() {
        let tick = crate::virt::CYCLES_PER_MTIME_TICK;
        let mut clint = Clint::default();
        assert_eq!(clint.next_timer_change(12_345), u64::MAX, "mtimecmp at reset: never");
        clint.mtimecmp = 100;
        assert_eq!(clint.next_timer_change(0), 100 * tick);
        assert_eq!(clint.next_timer_change(100 * tick - 1), 100 * tick);
        assert_eq!(clint.mtime_at(100 * tick), 100);
        assert_eq!(clint.next_timer_change(100 * tick), u64::MAX, "raised until mtime wraps");
        // mtime written to 5 below the wrap: mtimecmp = MAX is reached in 5 ticks...
        clint.mtime_offset = u64::MAX - 5;
        clint.mtimecmp = u64::MAX;
        assert_eq!(clint.next_timer_change(0), 5 * tick);
        // ...and with mtimecmp = 1 the raised line falls when mtime wraps to 0, 6 ticks on.
        clint.mtimecmp = 1;
        assert_eq!(clint.next_timer_change(0), 6 * tick);
        assert_eq!(clint.mtime_at(6 * tick), 0);
    }
}
