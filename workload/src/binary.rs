//! The binary trace format: a 16-byte header, then one little-endian 32-bit
//! word per plain access. About three times smaller than native text before
//! compression, and decoded without parsing (a shift and a mask per access).
//!
//! Byte by byte (also in the README and `traces/README.md`):
//!
//! | bytes | what |
//! |---|---|
//! | 0..8 | magic `89 4d 4d 55 54 52 43 1a` (`\x89MMUTRC\x1a`: not text, so no text format takes it) |
//! | 8..10 | version, u16 little-endian: 1 |
//! | 10..12 | flags, u16 little-endian: bit 0 [`STORE_VALUES`]; the other bits are 0 |
//! | 12..16 | reserved, 0 |
//! | 16.. | records, each one to three little-endian u32 words |
//!
//! A record's first word `w`:
//! - `w & 3` = 0, 1, 2: a read, write or fetch of the word at `w & !3`. With
//!   [`STORE_VALUES`] set, a write's word is followed by the value it stores;
//!   without it the write carries none (the CPU then stores the access's sequence
//!   number).
//! - `w & 3` = 3: an escape; bits 2..8 are its opcode, bits 8..32 its operand:
//!   - opcode 0, operand 0: a switch to the process whose pid is the next word;
//!   - opcode 1: an access in general: operand bits 0..2 its kind (0 read, 1
//!     write, 2 fetch), bit 2 set when a value follows; the next word is the
//!     address (any alignment: an unaligned native address), then the value.
//!     Writers use it for what a plain record cannot say: an unaligned address,
//!     a write with a value when [`STORE_VALUES`] is clear, one without a value
//!     when it is set.
//!
//!   Any other opcode, or operand bit set, is corrupt data.
//!
//! A file that ends inside a record is truncated; both are errors that name the
//! byte offset of the record.

use crate::{Access, TraceEvent};
use mmu_core::{AccessKind, Pid, VirtAddr};
use std::io::Write;

/// The first eight bytes of every binary trace.
pub const MAGIC: [u8; 8] = [0x89, b'M', b'M', b'U', b'T', b'R', b'C', 0x1a];

/// The version this build writes and reads.
pub const VERSION: u16 = 1;

/// Header flag: a plain write record is followed by the value it stores.
pub const STORE_VALUES: u16 = 1;

/// Bytes of the header.
pub const HEADER_BYTES: usize = 16;

/// Escape opcode of a process switch.
const OP_SWITCH: u32 = 0;
/// Escape opcode of a general access.
const OP_ACCESS: u32 = 1;
/// Operand bit of a general access: a value word follows the address.
const HAS_VALUE: u32 = 1 << 2;
/// The low two bits of an escape word.
const ESCAPE: u32 = 3;

/// The access kind of a record's low two bits (3, the escape, is not a kind).
#[inline(always)]
pub(crate) const fn kind_of(bits: u32) -> AccessKind {
    /// By table, not by branches: the decoder's inner loop has no branch on the kind.
    const KINDS: [AccessKind; 4] =
        [AccessKind::Read, AccessKind::Write, AccessKind::Fetch, AccessKind::Fetch];
    KINDS[(bits & 3) as usize]
}

const fn bits_of(kind: AccessKind) -> u32 {
    match kind {
        AccessKind::Read => 0,
        AccessKind::Write => 1,
        AccessKind::Fetch => 2,
    }
}

/// A binary trace's header, as read.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Header {
    /// Plain write records carry their value.
    pub store_values: bool,
}

impl Header {
    /// The header's 16 bytes.
    pub fn to_bytes(self) -> [u8; HEADER_BYTES] {
        let mut bytes = [0u8; HEADER_BYTES];
        bytes[..8].copy_from_slice(&MAGIC);
        bytes[8..10].copy_from_slice(&VERSION.to_le_bytes());
        let flags = if self.store_values { STORE_VALUES } else { 0 };
        bytes[10..12].copy_from_slice(&flags.to_le_bytes());
        bytes
    }

    /// Reads a header from the first 16 bytes of a file that starts with [`MAGIC`].
    ///
    /// # Errors
    /// A short header, an unsupported version, unknown flags or reserved bytes
    /// that are not zero, as a message naming the byte offset.
    pub fn parse(bytes: &[u8]) -> Result<Header, String> {
        if bytes.len() < HEADER_BYTES {
            return Err(format!(
                "byte {}: the binary trace is truncated inside its {HEADER_BYTES}-byte header",
                bytes.len()
            ));
        }
        let version = u16::from_le_bytes([bytes[8], bytes[9]]);
        if version != VERSION {
            return Err(format!(
                "byte 8: binary trace version {version} is not supported (this build reads version {VERSION}); \
                 convert it with the mmu-sim that wrote it (`mmu-sim convert IN OUT --to native`)"
            ));
        }
        let flags = u16::from_le_bytes([bytes[10], bytes[11]]);
        if flags & !STORE_VALUES != 0 {
            return Err(format!(
                "byte 10: unknown flags {flags:#06x} in the binary trace header (version {VERSION} knows only \
                 {STORE_VALUES:#06x}, store values)"
            ));
        }
        if bytes[12..16] != [0; 4] {
            return Err("byte 12: the reserved header bytes 12..16 are not zero: corrupt binary trace".into());
        }
        Ok(Header { store_values: flags & STORE_VALUES != 0 })
    }
}

/// One record decoded from the front of a byte slice.
#[derive(Debug, PartialEq, Eq)]
pub(crate) enum Decoded {
    /// An event and the bytes it took.
    Event(TraceEvent, usize),
    /// The slice ends inside the record: more bytes are needed (or, at the end
    /// of the file, it is truncated).
    Short,
    /// Not a record of this version.
    Corrupt(String),
}

#[inline(always)]
fn word(bytes: &[u8], i: usize) -> Option<u32> {
    let b = bytes.get(4 * i..4 * i + 4)?;
    Some(u32::from_le_bytes([b[0], b[1], b[2], b[3]]))
}

/// Decodes the record at the start of `bytes`, any kind.
pub(crate) fn decode(bytes: &[u8], header: Header) -> Decoded {
    let Some(first) = word(bytes, 0) else { return Decoded::Short };
    let low = first & 3;
    if low != ESCAPE {
        let access = Access { kind: kind_of(low), vaddr: VirtAddr::new(first & !3), value: None };
        if low == 1 && header.store_values {
            let Some(value) = word(bytes, 1) else { return Decoded::Short };
            return Decoded::Event(TraceEvent::Access(Access { value: Some(value), ..access }), 8);
        }
        return Decoded::Event(TraceEvent::Access(access), 4);
    }
    let op = (first >> 2) & 0x3f;
    let operand = first >> 8;
    match op {
        OP_SWITCH if operand == 0 => match word(bytes, 1) {
            Some(pid) => Decoded::Event(TraceEvent::Switch(Pid::new(pid)), 8),
            None => Decoded::Short,
        },
        OP_ACCESS if operand & !(HAS_VALUE | 3) == 0 && operand & 3 != 3 => {
            let Some(addr) = word(bytes, 1) else { return Decoded::Short };
            let (value, used) = if operand & HAS_VALUE != 0 {
                match word(bytes, 2) {
                    Some(value) => (Some(value), 12),
                    None => return Decoded::Short,
                }
            } else {
                (None, 8)
            };
            Decoded::Event(
                TraceEvent::Access(Access { kind: kind_of(operand), vaddr: VirtAddr::new(addr), value }),
                used,
            )
        }
        _ => Decoded::Corrupt(format!(
            "{first:#010x} is not a record of binary trace version {VERSION} (escape opcode {op}, operand {operand:#x})"
        )),
    }
}

/// Writes events in the binary format to any `Write`, buffering them: wrap a
/// file in nothing more, and call [`BinaryWriter::finish`] at the end.
pub struct BinaryWriter<W: Write> {
    out: W,
    header: Header,
    buf: Vec<u8>,
}

/// Bytes buffered before a write to the output.
const WRITE_CHUNK: usize = 1 << 16;

impl<W: Write> BinaryWriter<W> {
    /// Writes the header to `out`; with `store_values`, plain writes carry their value.
    ///
    /// # Errors
    /// Writing the header failed.
    pub fn new(mut out: W, store_values: bool) -> std::io::Result<Self> {
        let header = Header { store_values };
        out.write_all(&header.to_bytes())?;
        Ok(Self { out, header, buf: Vec::with_capacity(WRITE_CHUNK + 16) })
    }

    /// Appends one event.
    ///
    /// # Errors
    /// Writing to the output failed.
    #[inline]
    pub fn write(&mut self, event: &TraceEvent) -> std::io::Result<()> {
        encode(event, self.header, &mut self.buf);
        if self.buf.len() >= WRITE_CHUNK {
            self.out.write_all(&self.buf)?;
            self.buf.clear();
        }
        Ok(())
    }

    /// Writes what is buffered, flushes, and gives the output back.
    ///
    /// # Errors
    /// Writing to the output failed.
    pub fn finish(mut self) -> std::io::Result<W> {
        self.out.write_all(&self.buf)?;
        self.out.flush()?;
        Ok(self.out)
    }
}

/// Appends `event`'s record to `out`.
fn encode(event: &TraceEvent, header: Header, out: &mut Vec<u8>) {
    let mut push = |w: u32| out.extend_from_slice(&w.to_le_bytes());
    match *event {
        TraceEvent::Switch(pid) => {
            push(ESCAPE | (OP_SWITCH << 2));
            push(pid.as_u32());
        }
        TraceEvent::Access(Access { kind, vaddr, value }) => {
            let addr = vaddr.as_u32();
            let plain_value = kind == AccessKind::Write && header.store_values;
            if addr % 4 == 0 && value.is_some() == plain_value {
                push(addr | bits_of(kind));
                if let Some(v) = value {
                    push(v);
                }
            } else {
                let has_value = if value.is_some() { HAS_VALUE } else { 0 };
                push(ESCAPE | (OP_ACCESS << 2) | ((bits_of(kind) | has_value) << 8));
                push(addr);
                if let Some(v) = value {
                    push(v);
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn bytes_of(events: &[TraceEvent], store_values: bool) -> Vec<u8> {
        let mut w = BinaryWriter::new(Vec::new(), store_values).unwrap();
        for e in events {
            w.write(e).unwrap();
        }
        w.finish().unwrap()
    }

    fn access(kind: AccessKind, vaddr: u32, value: Option<u32>) -> TraceEvent {
        TraceEvent::Access(Access { kind, vaddr: VirtAddr::new(vaddr), value })
    }

    #[test]
    fn records_byte_by_byte() {
        // Derived by hand from the table in the module doc.
        let events = [
            access(AccessKind::Read, 0x0041_f7a0, None),
            access(AccessKind::Write, 0x0041_f7a4, None),
            access(AccessKind::Fetch, 0x0040_0000, None),
            TraceEvent::Switch(Pid::new(3)),
            access(AccessKind::Read, 0x1002, None),
            access(AccessKind::Write, 0x2000, Some(0xdead_beef)),
        ];
        let bytes = bytes_of(&events, false);
        assert_eq!(&bytes[..16], &[0x89, 0x4d, 0x4d, 0x55, 0x54, 0x52, 0x43, 0x1a, 1, 0, 0, 0, 0, 0, 0, 0]);
        let words: Vec<u32> =
            bytes[16..].chunks(4).map(|c| u32::from_le_bytes([c[0], c[1], c[2], c[3]])).collect();
        assert_eq!(
            words,
            vec![
                0x0041_f7a0,
                0x0041_f7a5,
                0x0040_0002,
                0x0000_0003,
                3,
                0x0000_0007,
                0x1002,
                0x0000_0507,
                0x2000,
                0xdead_beef,
            ]
        );
        // With store values, a valued write is plain and a value-less one escapes.
        let bytes = bytes_of(&[events[5], events[1]], true);
        assert_eq!(bytes[10], 1);
        assert_eq!(bytes[16..24], [0x01, 0x20, 0, 0, 0xef, 0xbe, 0xad, 0xde]);
        assert_eq!(bytes[24..32], [0x07, 0x01, 0, 0, 0xa4, 0xf7, 0x41, 0x00]);
    }

    #[test]
    fn bad_headers_and_records_say_what_and_where() {
        let mut header = Header { store_values: false }.to_bytes();
        assert_eq!(Header::parse(&header), Ok(Header { store_values: false }));
        assert!(
            Header::parse(&header[..10]).unwrap_err().starts_with("byte 10: the binary trace is truncated")
        );
        header[8] = 2;
        assert!(
            Header::parse(&header)
                .unwrap_err()
                .starts_with("byte 8: binary trace version 2 is not supported")
        );
        header[8] = 1;
        header[10] = 4;
        assert!(Header::parse(&header).unwrap_err().starts_with("byte 10: unknown flags 0x0004"));
        header[10] = 0;
        header[13] = 1;
        assert!(Header::parse(&header).unwrap_err().starts_with("byte 12: the reserved header bytes"));
        let h = Header { store_values: false };
        assert_eq!(
            decode(&[0x0b, 0, 0, 0, 0, 0, 0, 0], h),
            Decoded::Corrupt(
                "0x0000000b is not a record of binary trace version 1 (escape opcode 2, operand 0x0)".into()
            )
        );
        assert!(matches!(decode(&[0x07, 0x03, 0, 0, 0, 0, 0, 0], h), Decoded::Corrupt(_)), "kind 3");
        assert!(matches!(decode(&[0x07, 0x10, 0, 0, 0, 0, 0, 0], h), Decoded::Corrupt(_)), "operand bit");
        assert!(matches!(decode(&[0x03, 0x01, 0, 0, 0, 0, 0, 0], h), Decoded::Corrupt(_)), "switch operand");
        assert_eq!(decode(&[0x03, 0, 0, 0, 9], h), Decoded::Short);
        assert_eq!(decode(&[0x01, 0, 0], h), Decoded::Short);
        assert_eq!(decode(&[0x01, 0, 0, 0], Header { store_values: true }), Decoded::Short);
    }

    fn event() -> impl Strategy<Value = TraceEvent> {
        prop_oneof![
            8 => (0u32..3, any::<u32>(), any::<Option<u32>>()).prop_map(|(k, a, v)| {
                let kind = kind_of(k);
                let value = if kind == AccessKind::Write { v } else { None };
                access(kind, a, value)
            }),
            1 => any::<u32>().prop_map(|p| TraceEvent::Switch(Pid::new(p))),
        ]
    }

    proptest! {
        #[test]
        fn every_event_decodes_to_itself(events in proptest::collection::vec(event(), 0..64), values: bool) {
            let bytes = bytes_of(&events, values);
            let header = Header::parse(&bytes).unwrap();
            let mut at = HEADER_BYTES;
            let mut back = Vec::new();
            while at < bytes.len() {
                match decode(&bytes[at..], header) {
                    Decoded::Event(e, used) => { back.push(e); at += used; }
                    other => panic!("at {at}: {other:?}"),
                }
            }
            prop_assert_eq!(back, events);
        }
    }
}
