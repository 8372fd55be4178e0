//! The line formats a trace may be written in, one parser per format, and the
//! detection that tells them apart from a trace's first lines.
//!
//! Every format allows blank lines and `#` comment lines. Addresses must fit in 32
//! bits: a wider one is a 64-bit program's trace, refused with a hint rather than
//! silently truncated.
//!
//! - **native** (`R 0x0041f7a0`, `W 0x0041f7a4 0xdeadbeef`, `X 0x00400000`, `P 3`):
//!   word accesses; an unaligned address is passed on and becomes an alignment
//!   fault. A `#` starts a comment anywhere on a line.
//! - **lackey**, valgrind's `--tool=lackey --trace-mem=yes` output
//!   (`I  0400d7d4,8`, ` L 04222cac,8`, ` S be8b4c68,4`, ` M 0421f2b0,4`): hex address
//!   and decimal size in bytes. `I` is a fetch, `L` a load, `S` a store, `M` a
//!   modify: a load then a store. An access wider than a word or unaligned is split
//!   into the words it touches, in address order (for `M`: every word read, then
//!   every word written). Lines starting with `==` or `--` are valgrind's own
//!   messages and are skipped.
//! - **din**, Dinero's format (`0 70f60888`): a label, 0 read, 1 write, 2 fetch,
//!   3 unknown access type (taken as a read), 4 cache flush (ignored: no caches are
//!   modelled), then a hex address; the rest of the line is ignored.
//! - **course**, the page-replacement course traces (`0041f7a0 R`): a hex address
//!   then `R` or `W`.
//!
//! din and course addresses are byte addresses of accesses whose width the format
//! does not give; mmu-emu takes them as one byte wide, so an unaligned address
//! accesses the word that holds it (the page touched is exact either way).

use crate::{Access, TraceEvent};
use mmu_core::{AccessKind, Pid, VirtAddr};
use serde::{Deserialize, Serialize};

/// What a reader does with a native record whose address is not word aligned
/// (the other formats take such an address as the word that holds it, or split
/// the access into the words it touches, always).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum Unaligned {
    /// Pass it on: the core counts an alignment fault and skips the access
    /// (`faults.alignment`). Today's behaviour, the default.
    #[default]
    Fault,
    /// Round it down to its word, as the course format does with its byte
    /// addresses, and count it in `trace.unaligned_records`.
    RoundDown,
}

impl Unaligned {
    /// Whether this is the default, [`Unaligned::Fault`] (configs leave it out).
    pub fn is_fault(&self) -> bool {
        *self == Unaligned::Fault
    }
}

/// The format of a trace file.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub enum TraceFormat {
    /// Tell the format from the trace's first lines.
    #[default]
    Auto,
    /// mmu-emu's own format: `R 0x0041f7a0`, `W 0x41f7a4 0x2a`, `X 0x400000`, `P 1`.
    Native,
    /// valgrind `--tool=lackey --trace-mem=yes` output: ` L 04222cac,8`.
    Lackey,
    /// Dinero's din format: `0 70f60888`.
    Din,
    /// The course page-replacement traces: `0041f7a0 R`.
    Course,
    /// mmu-emu's binary format (see the `binary` module): a 16-byte header
    /// starting with its magic bytes, then 4 bytes per plain access. Detection
    /// knows it by its magic.
    Binary,
}

impl TraceFormat {
    /// The formats detection chooses between, in the order it prefers them.
    pub const CONCRETE: [TraceFormat; 4] =
        [TraceFormat::Native, TraceFormat::Lackey, TraceFormat::Din, TraceFormat::Course];

    /// The format's name, as the CLI and configs spell it.
    pub const fn name(self) -> &'static str {
        match self {
            TraceFormat::Auto => "auto",
            TraceFormat::Native => "native",
            TraceFormat::Lackey => "lackey",
            TraceFormat::Din => "din",
            TraceFormat::Course => "course",
            TraceFormat::Binary => "binary",
        }
    }

    /// An example line, for error messages.
    const fn example(self) -> &'static str {
        match self {
            TraceFormat::Auto => "",
            TraceFormat::Native => "`R 0x1000`",
            TraceFormat::Lackey => "` L 1000,4`",
            TraceFormat::Din => "`0 1000`",
            TraceFormat::Course => "`1000 R`",
            TraceFormat::Binary => "",
        }
    }

    /// Parses one line (without its `\n`). `Auto` parses nothing: the reader
    /// resolves it first.
    #[inline]
    pub(crate) fn parse(self, line: &[u8]) -> Result<Record, LineError> {
        match self {
            TraceFormat::Native => match native_fast(line) {
                Some(access) => Ok(Record::Event(TraceEvent::Access(access))),
                None => with_text(line, native),
            },
            TraceFormat::Lackey => with_text(line, lackey),
            TraceFormat::Din => with_text(line, din),
            TraceFormat::Course => with_text(line, course),
            TraceFormat::Auto => Err("internal: the trace format was not resolved".into()),
            TraceFormat::Binary => Err("internal: a binary trace has no lines".into()),
        }
    }
}

/// Why one line does not parse.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct LineError {
    /// What was expected and what was found.
    pub(crate) message: String,
    /// The line has the format's shape but a number in it is out of range (an
    /// address or a value wider than 32 bits). Detection takes such a format, so
    /// that the first line gets the same precise error as any other.
    pub(crate) out_of_range: bool,
}

impl LineError {
    fn out_of_range(message: String) -> Self {
        Self { message, out_of_range: true }
    }
}

impl From<String> for LineError {
    fn from(message: String) -> Self {
        Self { message, out_of_range: false }
    }
}

impl From<&str> for LineError {
    fn from(message: &str) -> Self {
        message.to_string().into()
    }
}

/// What one line of a trace holds.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Record {
    /// Nothing: a blank line, a comment, valgrind's own messages, a din flush.
    Nothing,
    /// One event, passed on as is.
    Event(TraceEvent),
    /// `size` (>= 1) bytes from `addr`, split into the words they touch; with
    /// `modify`, every word is read and then every word written.
    Span {
        /// Fetch, read or write.
        kind: AccessKind,
        /// First byte.
        addr: u32,
        /// Bytes; `addr + size - 1` fits in 32 bits.
        size: u32,
        /// A lackey `M`: read then write.
        modify: bool,
    },
}

/// Hex digit values, `0xff` for a byte that is not a hex digit.
const HEX: [u8; 256] = {
    let mut t = [0xffu8; 256];
    let mut i = 0;
    while i < 10 {
        t[b'0' as usize + i] = i as u8;
        i += 1;
    }
    let mut i = 0;
    while i < 6 {
        t[b'a' as usize + i] = 10 + i as u8;
        t[b'A' as usize + i] = 10 + i as u8;
        i += 1;
    }
    t
};

const fn is_blank(b: u8) -> bool {
    b == b' ' || b == b'\t' || b == b'\r'
}

/// The common native line, `R|W|X <blanks> [0x]<1..8 hex digits> [blanks]`,
/// without a `str` or a branch per field kind: the reader's hot path. Anything
/// else (values, comments, `P`, errors) returns `None` and takes the precise
/// parser, which is the reference this one must agree with.
#[inline]
fn native_fast(line: &[u8]) -> Option<Access> {
    let (&op, rest) = line.split_first()?;
    let kind = match op {
        b'R' => AccessKind::Read,
        b'W' => AccessKind::Write,
        b'X' => AccessKind::Fetch,
        _ => return None,
    };
    let start = rest.iter().position(|&b| b != b' ' && b != b'\t')?;
    if start == 0 {
        return None;
    }
    let mut digits = &rest[start..];
    while let [head @ .., last] = digits {
        if !is_blank(*last) {
            break;
        }
        digits = head;
    }
    if let [b'0', b'x' | b'X', tail @ ..] = digits {
        digits = tail;
    }
    if digits.is_empty() || digits.len() > 8 {
        return None;
    }
    let mut value: u32 = 0;
    for &c in digits {
        let d = HEX[usize::from(c)];
        if d == 0xff {
            return None;
        }
        value = (value << 4) | u32::from(d);
    }
    Some(Access { kind, vaddr: VirtAddr::new(value), value: None })
}

/// The reader's hot path: parses the common native line, `R|W|X`, one space,
/// `[0x]` and 1 to 8 hex digits, an optional `\r`, then `\n`, straight out of the
/// read buffer, finding the line's end as it goes. Returns the access and the
/// bytes consumed (the `\n` included), or `None` for anything else, including a
/// line whose `\n` is not in `bytes` yet: the reader then takes the general path
/// (find the line, [`TraceFormat::parse`]), which agrees with this one.
#[inline(always)]
pub(crate) fn native_scan(bytes: &[u8]) -> Option<(Access, usize)> {
    let kind = match bytes.first()? {
        b'R' => AccessKind::Read,
        b'W' => AccessKind::Write,
        b'X' => AccessKind::Fetch,
        _ => return None,
    };
    if *bytes.get(1)? != b' ' {
        return None;
    }
    // The canonical form `mmu-sim generate` writes, `R 0x0041f7a0\n`: eight digits
    // converted at once.
    if let Some(&[b'0', b'x', d0, d1, d2, d3, d4, d5, d6, d7, b'\n']) = bytes.get(2..13)
        && let Some(value) = hex8([d0, d1, d2, d3, d4, d5, d6, d7])
    {
        return Some((Access { kind, vaddr: VirtAddr::new(value), value: None }, 13));
    }
    let mut i = 2;
    if bytes.get(2) == Some(&b'0') && matches!(bytes.get(3), Some(b'x' | b'X')) {
        i = 4;
    }
    let start = i;
    let mut value: u32 = 0;
    loop {
        let d = HEX[usize::from(*bytes.get(i)?)];
        if d == 0xff {
            break;
        }
        // Digits beyond the eighth shift out; such lines are refused below.
        value = (value << 4) | u32::from(d);
        i += 1;
    }
    if i == start || i - start > 8 {
        return None;
    }
    if bytes[i] == b'\r' {
        i += 1;
    }
    if *bytes.get(i)? != b'\n' {
        return None;
    }
    Some((Access { kind, vaddr: VirtAddr::new(value), value: None }, i + 1))
}

/// The lackey records valgrind writes for a 32-bit program, `I  0400d7d4,8` and
/// ` L 04222cac,8` (eight digits, a one- or two-digit size), straight out of the
/// read buffer like [`native_scan`]; `None` sends the line to the general path.
#[inline]
pub(crate) fn lackey_scan(bytes: &[u8]) -> Option<(Record, usize)> {
    let [b0, b1, b2, d0, d1, d2, d3, d4, d5, d6, d7, b',', s0, rest @ ..] = bytes else { return None };
    let (kind, modify) = match (b0, b1, b2) {
        (b'I', b' ', b' ') => (AccessKind::Fetch, false),
        (b' ', b'L', b' ') => (AccessKind::Read, false),
        (b' ', b'S', b' ') => (AccessKind::Write, false),
        (b' ', b'M', b' ') => (AccessKind::Read, true),
        _ => return None,
    };
    let addr = hex8([*d0, *d1, *d2, *d3, *d4, *d5, *d6, *d7])?;
    let digit = |b: u8| b.is_ascii_digit().then(|| u32::from(b - b'0'));
    let (size, used) = match rest {
        [b'\n', ..] => (digit(*s0)?, 14),
        [s1, b'\n', ..] => (digit(*s0)? * 10 + digit(*s1)?, 15),
        _ => return None,
    };
    if size == 0 || u64::from(addr) + u64::from(size) > 1 << 32 {
        return None;
    }
    Some((Record::Span { kind, addr, size, modify }, used))
}

/// The course lines as the course traces write them, `0041f7a0 R`, straight out
/// of the read buffer like [`native_scan`].
#[inline]
pub(crate) fn course_scan(bytes: &[u8]) -> Option<(Record, usize)> {
    let [d0, d1, d2, d3, d4, d5, d6, d7, b' ', op, b'\n', ..] = bytes else { return None };
    let kind = match op {
        b'R' => AccessKind::Read,
        b'W' => AccessKind::Write,
        _ => return None,
    };
    let addr = hex8([*d0, *d1, *d2, *d3, *d4, *d5, *d6, *d7])?;
    Some((Record::Span { kind, addr, size: 1, modify: false }, 11))
}

/// The din line as Dinero tools write it, a label `0`..`3`, one space, 1 to 8 hex
/// digits and `\n`, straight out of the read buffer like [`native_scan`].
#[inline]
pub(crate) fn din_scan(bytes: &[u8]) -> Option<(Record, usize)> {
    let [label, b' ', rest @ ..] = bytes else { return None };
    let kind = match label {
        b'0' | b'3' => AccessKind::Read,
        b'1' => AccessKind::Write,
        b'2' => AccessKind::Fetch,
        _ => return None,
    };
    let mut addr: u32 = 0;
    let mut digits = 0;
    loop {
        let d = HEX[usize::from(*rest.get(digits)?)];
        if d == 0xff {
            break;
        }
        // Digits beyond the eighth shift out; such lines are refused below.
        addr = (addr << 4) | u32::from(d);
        digits += 1;
    }
    if digits == 0 || digits > 8 || rest[digits] != b'\n' {
        return None;
    }
    Some((Record::Span { kind, addr, size: 1, modify: false }, digits + 3))
}

/// Eight ASCII hex digits (most significant first) as a number, `None` if any byte
/// is not a hex digit; all eight bytes at once in one u64 (SWAR), without a branch
/// per digit.
#[inline(always)]
fn hex8(digits: [u8; 8]) -> Option<u32> {
    const ONES: u64 = 0x0101_0101_0101_0101;
    const HIGH: u64 = 0x8080_8080_8080_8080;
    let x = u64::from_le_bytes(digits);
    if x & HIGH != 0 {
        return None;
    }
    // With every byte below 0x80, adding a constant below 0x80 cannot carry into the
    // next byte, and a byte's high bit then says whether it reached the bound.
    let at_least = |bound: u8| x.wrapping_add(ONES * u64::from(0x80 - bound)) & HIGH;
    let digit = at_least(b'0') & !at_least(b'9' + 1);
    let lower = x | (ONES * 0x20);
    let letter = lower.wrapping_add(ONES * u64::from(0x80 - b'a'))
        & !lower.wrapping_add(ONES * u64::from(0x80 - b'f' - 1))
        & HIGH;
    if digit | letter != HIGH {
        return None;
    }
    // A digit's low nibble is its value; a letter's is its value - 9, and bit 6 is set.
    let nibbles = (x & (ONES * 0x0f)) + ((x >> 6) & ONES) * 9;
    // Bytes hold nibbles n0 (first digit, lowest address) .. n7; pack pairs, then
    // pairs of pairs, most significant first.
    let pairs = ((nibbles & 0x000f_000f_000f_000f) << 4) | ((nibbles >> 8) & 0x000f_000f_000f_000f);
    let quads = ((pairs & 0x0000_00ff_0000_00ff) << 8) | ((pairs >> 16) & 0x0000_00ff_0000_00ff);
    Some((((quads & 0xffff) << 16) | ((quads >> 32) & 0xffff)) as u32)
}

fn with_text(line: &[u8], parse: fn(&str) -> Result<Record, LineError>) -> Result<Record, LineError> {
    match std::str::from_utf8(line) {
        Ok(text) if text.starts_with(BYTE_ORDER_MARK) => Err(BOM_MESSAGE.into()),
        Ok(text) => parse(text),
        Err(e) => Err(format!(
            "the line is not text (invalid UTF-8 after byte {}): is this a compressed or binary file?",
            e.valid_up_to()
        )
        .into()),
    }
}

/// U+FEFF, which some editors write at the start of a UTF-8 file.
const BYTE_ORDER_MARK: char = '\u{feff}';

const BOM_MESSAGE: &str = "the line starts with a byte-order mark (U+FEFF, bytes ef bb bf): \
                           save the trace as plain text without it";

/// `message` with every control character (NUL, tab, escape...) and byte-order
/// mark written as an escape (`\0`, `\t`, `\u{1b}`), so that an error message
/// never echoes raw control bytes of a line to the terminal.
pub(crate) fn escape_controls(message: &str) -> String {
    if !message.chars().any(|c| c.is_control() || c == BYTE_ORDER_MARK) {
        return message.to_string();
    }
    let mut out = String::with_capacity(message.len() + 8);
    for c in message.chars() {
        match c {
            '\0' => out.push_str("\\0"),
            '\t' => out.push_str("\\t"),
            '\r' => out.push_str("\\r"),
            '\n' => out.push_str("\\n"),
            c if c.is_control() || c == BYTE_ORDER_MARK => {
                out.push_str(&format!("\\u{{{:x}}}", u32::from(c)))
            }
            c => out.push(c),
        }
    }
    out
}

/// Whether a line holds nothing in every format: blank, or a `#` comment.
pub(crate) fn is_empty_line(text: &str) -> bool {
    let t = text.trim_start();
    t.is_empty() || t.starts_with('#')
}

fn parse_hex(field: &str) -> Option<u64> {
    let digits = field.strip_prefix("0x").or_else(|| field.strip_prefix("0X")).unwrap_or(field);
    if digits.is_empty() || digits.len() > 16 || !digits.bytes().all(|b| b.is_ascii_hexdigit()) {
        return None;
    }
    u64::from_str_radix(digits, 16).ok()
}

/// A 32-bit address, or the error that says why a wider one is refused.
fn address32(addr: u64) -> Result<u32, LineError> {
    u32::try_from(addr).map_err(|_| {
        LineError::out_of_range(format!(
            "address {addr:#x} does not fit in 32 bits: this looks like a trace of a 64-bit program; \
             record a 32-bit build (gcc -m32) or map its addresses into 32 bits first"
        ))
    })
}

/// Up to 40 characters of a line, for error messages.
fn excerpt(text: &str) -> String {
    let t = text.trim_end();
    match t.char_indices().nth(40) {
        Some((i, _)) => format!("{}...", &t[..i]),
        None => t.to_string(),
    }
}

/// The native format, every case: the reference parser.
fn native(text: &str) -> Result<Record, LineError> {
    let text = text.split('#').next().unwrap_or("");
    let mut fields = text.split_ascii_whitespace();
    let Some(op) = fields.next() else { return Ok(Record::Nothing) };
    let kind = match op {
        "R" => AccessKind::Read,
        "W" => AccessKind::Write,
        "X" => AccessKind::Fetch,
        "P" => {
            let pid = fields.next().ok_or("`P` needs a process number, as in `P 3`")?;
            let pid: u32 = pid.parse().map_err(|_| format!("`{pid}` is not a decimal process number"))?;
            if let Some(extra) = fields.next() {
                return Err(format!("unexpected `{extra}` after `P {pid}`").into());
            }
            return Ok(Record::Event(TraceEvent::Switch(Pid::new(pid))));
        }
        other => {
            return Err(
                format!("expected `R`, `W`, `X` or `P` at the start of the line, found `{other}`").into()
            );
        }
    };
    let addr =
        fields.next().ok_or_else(|| format!("`{op}` needs a hexadecimal address, as in `{op} 0x1000`"))?;
    let addr = parse_hex(addr).ok_or_else(|| format!("`{addr}` is not a hexadecimal address"))?;
    let vaddr = address32(addr)?;
    let value = match fields.next() {
        None => None,
        Some(v) if kind == AccessKind::Write => {
            let value = parse_hex(v).ok_or_else(|| format!("`{v}` is not a hexadecimal value"))?;
            Some(u32::try_from(value).map_err(|_| {
                LineError::out_of_range(format!("value {value:#x} does not fit in a 32-bit word"))
            })?)
        }
        Some(v) => return Err(format!("unexpected `{v}`: only `W` lines carry a value").into()),
    };
    if let Some(extra) = fields.next() {
        return Err(format!("unexpected `{extra}` at the end of the line").into());
    }
    Ok(Record::Event(TraceEvent::Access(Access { kind, vaddr: VirtAddr::new(vaddr), value })))
}

/// The largest access a lackey record may describe. x86's widest single
/// accesses (`fxsave`, `xsave` areas) are a few KiB; anything wider is not lackey.
pub const LACKEY_MAX_SIZE: u32 = 1 << 16;

/// valgrind lackey `--trace-mem=yes` records.
fn lackey(text: &str) -> Result<Record, LineError> {
    if is_empty_line(text) || text.starts_with("==") || text.starts_with("--") {
        return Ok(Record::Nothing);
    }
    let body = text.trim_start();
    let mut chars = body.chars();
    let op = chars.next().unwrap_or(' ');
    let (kind, modify) = match op {
        'I' => (AccessKind::Fetch, false),
        'L' => (AccessKind::Read, false),
        'S' => (AccessKind::Write, false),
        'M' => (AccessKind::Read, true),
        _ => {
            return Err(format!(
                "expected a lackey record `I`, `L`, `S` or `M`, as in ` L 04222cac,8`, found `{}`",
                excerpt(text)
            )
            .into());
        }
    };
    let rest = chars.as_str();
    if !rest.starts_with([' ', '\t']) {
        return Err(format!(
            "expected a blank after `{op}`, as in ` {op} 04222cac,8`, found `{}`",
            excerpt(text)
        )
        .into());
    }
    let Some((addr, size)) = rest.trim().split_once(',') else {
        return Err(format!(
            "expected `address,size` after `{op}`, as in ` {op} 04222cac,8`, found `{}`",
            excerpt(text)
        )
        .into());
    };
    let addr = parse_hex(addr).ok_or_else(|| format!("`{addr}` is not a hexadecimal address"))?;
    let addr = address32(addr)?;
    let size: u32 = match size.parse() {
        Ok(s) if (1..=LACKEY_MAX_SIZE).contains(&s) => s,
        _ => {
            return Err(format!(
                "`{size}` is not a size in bytes: expected a decimal number from 1 to {LACKEY_MAX_SIZE}"
            )
            .into());
        }
    };
    if u64::from(addr) + u64::from(size) > 1 << 32 {
        return Err(LineError::out_of_range(format!(
            "{size} bytes from {addr:#x} run past the top of the 32-bit address space: \
             this looks like a trace of a 64-bit program"
        )));
    }
    Ok(Record::Span { kind, addr, size, modify })
}

/// Dinero's din format: `label address`, the rest of the line ignored.
fn din(text: &str) -> Result<Record, LineError> {
    if is_empty_line(text) {
        return Ok(Record::Nothing);
    }
    let mut fields = text.split_ascii_whitespace();
    let label = fields.next().unwrap_or("");
    let kind = match label {
        "0" | "3" => AccessKind::Read,
        "1" => AccessKind::Write,
        "2" => AccessKind::Fetch,
        "4" => return Ok(Record::Nothing),
        _ => {
            return Err(format!(
                "expected a din label, 0 (read), 1 (write), 2 (fetch), 3 (unknown) or 4 (flush), \
                 as in `0 70f60888`, found `{}`",
                excerpt(text)
            )
            .into());
        }
    };
    let addr = fields
        .next()
        .ok_or_else(|| format!("din label `{label}` needs a hexadecimal address, as in `{label} 1000`"))?;
    let addr = parse_hex(addr).ok_or_else(|| format!("`{addr}` is not a hexadecimal address"))?;
    Ok(Record::Span { kind, addr: address32(addr)?, size: 1, modify: false })
}

/// The course traces: `address R|W`.
fn course(text: &str) -> Result<Record, LineError> {
    if is_empty_line(text) {
        return Ok(Record::Nothing);
    }
    let mut fields = text.split_ascii_whitespace();
    let addr = fields.next().unwrap_or("");
    let Some(addr) = parse_hex(addr) else {
        return Err(format!(
            "expected a hexadecimal address then `R` or `W`, as in `0041f7a0 R`, found `{}`",
            excerpt(text)
        )
        .into());
    };
    let addr = address32(addr)?;
    let kind = match fields.next() {
        Some("R" | "r") => AccessKind::Read,
        Some("W" | "w") => AccessKind::Write,
        Some(other) => return Err(format!("expected `R` or `W` after the address, found `{other}`").into()),
        None => return Err(LineError::from("expected `R` or `W` after the address, as in `0041f7a0 R`")),
    };
    if let Some(extra) = fields.next() {
        return Err(format!("unexpected `{extra}` at the end of the line").into());
    }
    Ok(Record::Span { kind, addr, size: 1, modify: false })
}

/// Tells the format from one line of a trace: `Ok(None)` for a line that is empty
/// in every format (blank or `#`), which cannot tell. valgrind's own messages
/// (`==pid==`, `--pid--`) mean lackey; otherwise the first format in
/// [`TraceFormat::CONCRETE`] that accepts the line wins (no line is valid in two:
/// a test checks it). A line that has a format's shape but a number out of range
/// (a 64-bit address, a value wider than a word) also tells that format, so that
/// parsing it gives the precise error rather than "cannot tell".
///
/// # Errors
/// Binary data, a byte-order mark, or a line no format accepts.
pub(crate) fn detect(line: &[u8]) -> Result<Option<TraceFormat>, String> {
    let Ok(text) = std::str::from_utf8(line) else {
        return Err("the line is not text: cannot tell the trace format; is this a binary file?".into());
    };
    if text.starts_with(BYTE_ORDER_MARK) {
        return Err(BOM_MESSAGE.into());
    }
    if is_empty_line(text) {
        return Ok(None);
    }
    if text.starts_with("==") || text.starts_with("--") {
        return Ok(Some(TraceFormat::Lackey));
    }
    let mut out_of_range = None;
    for format in TraceFormat::CONCRETE {
        match format.parse(line) {
            Ok(_) => return Ok(Some(format)),
            Err(e) if e.out_of_range => out_of_range = out_of_range.or(Some(format)),
            Err(_) => {}
        }
    }
    if out_of_range.is_some() {
        return Ok(out_of_range);
    }
    let examples: Vec<String> =
        TraceFormat::CONCRETE.iter().map(|f| format!("{} ({})", f.name(), f.example())).collect();
    Err(format!(
        "cannot tell the trace format: `{}` is none of {}; \
         name the format with `--trace-format` or the config's `format` field",
        excerpt(text),
        examples.join(", ")
    ))
}

/// The compression whose magic number starts `bytes`, if any.
pub(crate) fn compressed(bytes: &[u8]) -> Option<&'static str> {
    if bytes.starts_with(&[0x1f, 0x8b]) {
        Some("gzip")
    } else if bytes.starts_with(&[0x28, 0xb5, 0x2f, 0xfd]) {
        Some("zstd")
    } else {
        None
    }
}

/// Appends `event` to `out` as one native-format line, the way
/// `mmu-sim generate` writes workloads; reading it back gives the same event.
pub fn write_native(event: &TraceEvent, out: &mut Vec<u8>) {
    fn hex8(out: &mut Vec<u8>, v: u32) {
        out.extend_from_slice(b"0x");
        for shift in (0..8).rev() {
            out.push(b"0123456789abcdef"[((v >> (shift * 4)) & 0xf) as usize]);
        }
    }
    match event {
        TraceEvent::Access(a) => {
            out.push(match a.kind {
                AccessKind::Read => b'R',
                AccessKind::Write => b'W',
                AccessKind::Fetch => b'X',
            });
            out.push(b' ');
            hex8(out, a.vaddr.as_u32());
            if let Some(v) = a.value {
                out.push(b' ');
                hex8(out, v);
            }
        }
        TraceEvent::Switch(pid) => {
            out.extend_from_slice(b"P ");
            out.extend_from_slice(pid.as_u32().to_string().as_bytes());
        }
    }
    out.push(b'\n');
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn access(kind: AccessKind, vaddr: u32, value: Option<u32>) -> Record {
        Record::Event(TraceEvent::Access(Access { kind, vaddr: VirtAddr::new(vaddr), value }))
    }

    fn span(kind: AccessKind, addr: u32, size: u32, modify: bool) -> Record {
        Record::Span { kind, addr, size, modify }
    }

    #[test]
    fn native_lines() {
        use AccessKind::*;
        let cases: &[(&str, Record)] = &[
            ("R 0x0041f7a0", access(Read, 0x0041_f7a0, None)),
            ("R\t41f7a0  \r", access(Read, 0x0041_f7a0, None)),
            ("W 0x0041f7a4 0xdeadbeef", access(Write, 0x0041_f7a4, Some(0xdead_beef))),
            ("W 41f7a8", access(Write, 0x0041_f7a8, None)),
            ("X 0X00400000 # fetch", access(Fetch, 0x0040_0000, None)),
            ("P 3", Record::Event(TraceEvent::Switch(Pid::new(3)))),
            ("", Record::Nothing),
            ("   # only a comment", Record::Nothing),
            ("R 0xffffffff", access(Read, 0xffff_ffff, None)),
            ("R 0x00000000ffffffff", access(Read, 0xffff_ffff, None)),
        ];
        for (line, want) in cases {
            assert_eq!(TraceFormat::Native.parse(line.as_bytes()), Ok(*want), "{line:?}");
        }
    }

    #[test]
    fn native_errors_say_what_was_expected() {
        let cases = [
            ("Q 0x10", "expected `R`, `W`, `X` or `P`"),
            ("R", "`R` needs a hexadecimal address"),
            ("R 0xzz", "`0xzz` is not a hexadecimal address"),
            ("R 0x1_0000_0000", "`0x1_0000_0000` is not a hexadecimal address"),
            (
                "R 0x100000000",
                "address 0x100000000 does not fit in 32 bits: this looks like a trace of a 64-bit",
            ),
            ("R 0x10 0x5", "unexpected `0x5`: only `W` lines carry a value"),
            ("W 0x10 0x1ffffffff", "value 0x1ffffffff does not fit"),
            ("P x", "`x` is not a decimal process number"),
            ("W 0x10 0x5 7", "unexpected `7` at the end of the line"),
            ("R 0x10\u{0}", "`0x10\u{0}` is not a hexadecimal address"),
        ];
        for (line, want) in cases {
            let got = TraceFormat::Native.parse(line.as_bytes()).unwrap_err().message;
            assert!(got.starts_with(want), "{line:?}: got {got:?}, want {want:?}");
        }
        let got = TraceFormat::Native.parse(b"R \xff\xfe").unwrap_err().message;
        assert!(got.contains("not text"), "{got}");
    }

    #[test]
    fn hex8_at_the_edges_of_each_digit_range() {
        assert_eq!(hex8(*b"0041f7a0"), Some(0x0041_f7a0));
        assert_eq!(hex8(*b"ffffffff"), Some(0xffff_ffff));
        assert_eq!(hex8(*b"FfFfAa09"), Some(0xffff_aa09));
        assert_eq!(hex8(*b"00000000"), Some(0));
        // The bytes just outside '0'..='9', 'a'..='f' and 'A'..='F'.
        for bad in [b'/', b':', b'`', b'g', b'@', b'G', b' ', 0x80, 0xb0, 0xff, 0xe1] {
            for at in 0..8 {
                let mut d = *b"12345678";
                d[at] = bad;
                assert_eq!(hex8(d), None, "{bad:#x} at {at}");
            }
        }
    }

    #[test]
    fn lackey_records() {
        use AccessKind::*;
        let cases: &[(&str, Record)] = &[
            ("I  0400d7d4,8", span(Fetch, 0x0400_d7d4, 8, false)),
            (" L 04222cac,8", span(Read, 0x0422_2cac, 8, false)),
            (" S be8b4c68,4", span(Write, 0xbe8b_4c68, 4, false)),
            (" M 0421f2b0,4", span(Read, 0x0421_f2b0, 4, true)),
            (" L ffffffff,1", span(Read, 0xffff_ffff, 1, false)),
            ("==1234== Lackey, an example Valgrind tool", Record::Nothing),
            ("--1234-- warning: something", Record::Nothing),
            ("", Record::Nothing),
        ];
        for (line, want) in cases {
            assert_eq!(TraceFormat::Lackey.parse(line.as_bytes()), Ok(*want), "{line:?}");
        }
    }

    #[test]
    fn fast_paths_take_the_common_lines() {
        use AccessKind::*;
        assert_eq!(lackey_scan(b"I  0400d7d4,8\n"), Some((span(Fetch, 0x0400_d7d4, 8, false), 14)));
        assert_eq!(lackey_scan(b" M 0421f2b0,16\nI"), Some((span(Read, 0x0421_f2b0, 16, true), 15)));
        assert_eq!(lackey_scan(b" S fffffffc,4\n"), Some((span(Write, 0xffff_fffc, 4, false), 14)));
        assert_eq!(lackey_scan(b" S fffffffe,4\n"), None, "past 2^32: the general path reports it");
        assert_eq!(lackey_scan(b" L 0400d7d4,8"), None, "no newline yet");
        assert_eq!(lackey_scan(b" L 0400d7d4,512\n"), None, "three digits: the general path");
        assert_eq!(din_scan(b"2 2cb5\n"), Some((span(Fetch, 0x2cb5, 1, false), 7)));
        assert_eq!(din_scan(b"1 70f6088c\n0"), Some((span(Write, 0x70f6_088c, 1, false), 11)));
        assert_eq!(din_scan(b"4 0\n"), None, "a flush: the general path ignores it");
        assert_eq!(din_scan(b"0 123456789\n"), None, "nine digits: the general path refuses it");
        assert_eq!(course_scan(b"0041f7a0 R\n"), Some((span(Read, 0x0041_f7a0, 1, false), 11)));
        assert_eq!(course_scan(b"0041f7a0 W\n0"), Some((span(Write, 0x0041_f7a0, 1, false), 11)));
        assert_eq!(course_scan(b"0041f7a0 R\r\n"), None);
    }

    #[test]
    fn lackey_errors() {
        let cases = [
            (" X 0400d7d4,8", "expected a lackey record `I`, `L`, `S` or `M`"),
            (" L0400d7d4,8", "expected a blank after `L`"),
            (" L 0400d7d4", "expected `address,size` after `L`"),
            (" L zz,4", "`zz` is not a hexadecimal address"),
            (" L 1000,0", "`0` is not a size in bytes"),
            (" L 1000,x", "`x` is not a size in bytes"),
            (
                " L 1ffefffd60,8",
                "address 0x1ffefffd60 does not fit in 32 bits: this looks like a trace of a 64-bit",
            ),
            (" S fffffffe,4", "4 bytes from 0xfffffffe run past the top of the 32-bit address space"),
        ];
        for (line, want) in cases {
            let got = TraceFormat::Lackey.parse(line.as_bytes()).unwrap_err().message;
            assert!(got.starts_with(want), "{line:?}: got {got:?}, want {want:?}");
        }
    }

    #[test]
    fn din_records() {
        use AccessKind::*;
        let cases: &[(&str, Record)] = &[
            ("0 70f60888", span(Read, 0x70f6_0888, 1, false)),
            ("1 70f6088c some comment", span(Write, 0x70f6_088c, 1, false)),
            ("2 2cb5", span(Fetch, 0x2cb5, 1, false)),
            ("3 1000", span(Read, 0x1000, 1, false)),
            ("4 0", Record::Nothing),
        ];
        for (line, want) in cases {
            assert_eq!(TraceFormat::Din.parse(line.as_bytes()), Ok(*want), "{line:?}");
        }
        for (line, want) in [
            ("5 1000", "expected a din label"),
            ("R 1000", "expected a din label"),
            ("0", "din label `0` needs a hexadecimal address"),
            ("1 12345678901", "address 0x12345678901 does not fit in 32 bits"),
        ] {
            let got = TraceFormat::Din.parse(line.as_bytes()).unwrap_err().message;
            assert!(got.starts_with(want), "{line:?}: got {got:?}, want {want:?}");
        }
    }

    #[test]
    fn course_records() {
        use AccessKind::*;
        assert_eq!(TraceFormat::Course.parse(b"0041f7a0 R"), Ok(span(Read, 0x0041_f7a0, 1, false)));
        assert_eq!(TraceFormat::Course.parse(b"31348900 W\r"), Ok(span(Write, 0x3134_8900, 1, false)));
        assert_eq!(TraceFormat::Course.parse(b"0001000 R"), Ok(span(Read, 0x1000, 1, false)));
        for (line, want) in [
            ("R 0041f7a0", "expected a hexadecimal address then `R` or `W`"),
            ("0041f7a0 X", "expected `R` or `W` after the address, found `X`"),
            ("0041f7a0", "expected `R` or `W` after the address"),
            ("0041f7a0 R 5", "unexpected `5`"),
            ("7fff0041f7a0 R", "address 0x7fff0041f7a0 does not fit in 32 bits"),
        ] {
            let got = TraceFormat::Course.parse(line.as_bytes()).unwrap_err().message;
            assert!(got.starts_with(want), "{line:?}: got {got:?}, want {want:?}");
        }
    }

    fn detect_text(text: &str) -> Result<TraceFormat, String> {
        for line in text.split('\n') {
            if let Some(format) = detect(line.as_bytes())? {
                return Ok(format);
            }
        }
        Ok(TraceFormat::Native)
    }

    #[test]
    fn detection_reads_the_first_significant_line() {
        assert_eq!(detect_text("# native\nR 0x1000\n"), Ok(TraceFormat::Native));
        assert_eq!(detect_text("P 1\nR 0x1000\n"), Ok(TraceFormat::Native));
        assert_eq!(
            detect_text("==42== Lackey, an example Valgrind tool\nI  0400d7d4,8\n"),
            Ok(TraceFormat::Lackey)
        );
        assert_eq!(detect_text(" L 1000,4\n"), Ok(TraceFormat::Lackey));
        assert_eq!(detect_text("2 0\n0 1000\n"), Ok(TraceFormat::Din));
        assert_eq!(detect_text("0041f7a0 R\n"), Ok(TraceFormat::Course));
        assert_eq!(detect_text("0001000 W\n"), Ok(TraceFormat::Course));
        assert_eq!(detect_text("\n# nothing\n"), Ok(TraceFormat::Native));
        let err = detect_text("\nhello world\n").unwrap_err();
        assert!(err.starts_with("cannot tell the trace format: `hello world` is none of native"), "{err}");
        assert!(err.contains("--trace-format"), "{err}");
        assert_eq!(compressed(&[0x1f, 0x8b, 8, 0]), Some("gzip"));
        assert_eq!(compressed(&[0x28, 0xb5, 0x2f, 0xfd, 0]), Some("zstd"));
        assert_eq!(compressed(b"R 0x1000"), None);
    }

    #[test]
    fn an_out_of_range_first_line_tells_its_format_so_that_it_gets_the_precise_error() {
        // The rule: a line with one format's shape but a number too wide for 32 bits
        // is that format's line, whose parse gives the same error as on any line.
        let cases = [
            ("R 0x1ffefffd58", TraceFormat::Native),
            ("W 0x1000 0x123456789", TraceFormat::Native),
            (" L 1ffefffd58,8", TraceFormat::Lackey),
            (" S fffffffe,4", TraceFormat::Lackey),
            ("0 1ffefffd58", TraceFormat::Din),
            ("1ffefffd58 R", TraceFormat::Course),
        ];
        for (line, format) in cases {
            assert_eq!(detect(line.as_bytes()), Ok(Some(format)), "{line:?}");
            assert!(format.parse(line.as_bytes()).unwrap_err().out_of_range, "{line:?}");
        }
    }

    #[test]
    fn a_byte_order_mark_is_named_and_control_bytes_are_escaped() {
        let bom = "\u{feff}R 0x1000".as_bytes();
        assert!(detect(bom).unwrap_err().contains("byte-order mark (U+FEFF"));
        for format in TraceFormat::CONCRETE {
            let message = format.parse(bom).unwrap_err().message;
            assert!(message.contains("byte-order mark"), "{format:?}: {message}");
        }
        assert_eq!(escape_controls("`a\0b\tc\u{1b}[31m\u{feff}`"), "`a\\0b\\tc\\u{1b}[31m\\u{feff}`");
        assert_eq!(escape_controls("plain `ü` text"), "plain `ü` text");
    }

    #[test]
    fn each_format_rejects_the_others_lines() {
        // Detection relies on no line being valid in two formats.
        let lines = ["R 0x1000", "P 2", " L 1000,4", "I  1000,3", "0 1000", "2 2cb5", "1000 R", "0041f7a0 W"];
        for line in lines {
            let fits: Vec<TraceFormat> =
                TraceFormat::CONCRETE.into_iter().filter(|f| f.parse(line.as_bytes()).is_ok()).collect();
            assert_eq!(fits.len(), 1, "{line:?} fits {fits:?}");
        }
    }

    #[test]
    fn write_native_round_trips() {
        let events = [
            TraceEvent::Access(Access { kind: AccessKind::Read, vaddr: VirtAddr::new(0x1000), value: None }),
            TraceEvent::Access(Access {
                kind: AccessKind::Write,
                vaddr: VirtAddr::new(0xffff_fffc),
                value: Some(0xdead_beef),
            }),
            TraceEvent::Access(Access { kind: AccessKind::Fetch, vaddr: VirtAddr::new(4), value: None }),
            TraceEvent::Switch(Pid::new(17)),
        ];
        let mut out = Vec::new();
        for e in &events {
            write_native(e, &mut out);
        }
        assert_eq!(
            String::from_utf8(out.clone()).unwrap(),
            "R 0x00001000\nW 0xfffffffc 0xdeadbeef\nX 0x00000004\nP 17\n"
        );
        let back: Vec<Record> = out
            .split(|&b| b == b'\n')
            .filter(|l| !l.is_empty())
            .map(|l| TraceFormat::Native.parse(l).unwrap())
            .collect();
        assert_eq!(back, events.map(Record::Event));
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(2000))]
        /// The fast native path agrees with the precise parser on every line it accepts.
        #[test]
        fn native_fast_path_agrees_with_the_reference(line in "[RWXP#Q ]{0,2}[ \t]{0,2}(0[xX])?[0-9a-fA-FgG_]{0,10}[ \t\r]{0,2}") {
            if let Some(fast) = native_fast(line.as_bytes()) {
                prop_assert_eq!(native(&line), Ok(Record::Event(TraceEvent::Access(fast))));
            }
        }

        /// The scanning fast path agrees with the reference on every line it
        /// accepts, consumes exactly that line, and needs its `\n`.
        #[test]
        fn native_scan_agrees_with_the_reference(
            line in "[RWXP ]?[ \t]{0,2}(0[xX])?[0-9a-fA-FgG]{0,10}\r?",
            next in "[RWX# ]{0,3}",
        ) {
            let text = format!("{line}\n{next}");
            if let Some((access, used)) = native_scan(text.as_bytes()) {
                prop_assert_eq!(used, line.len() + 1);
                prop_assert_eq!(native(&line), Ok(Record::Event(TraceEvent::Access(access))));
            }
            prop_assert_eq!(native_scan(line.as_bytes()), None);
        }

        /// The SWAR digit parser agrees with the standard library on any 8 bytes.
        #[test]
        fn hex8_agrees_with_from_str_radix(
            digits in proptest::array::uniform8(prop_oneof![
                4 => proptest::sample::select(b"0123456789abcdefABCDEF".to_vec()),
                1 => any::<u8>(),
            ]),
        ) {
            let want = std::str::from_utf8(&digits)
                .ok()
                .filter(|t| t.bytes().all(|b| b.is_ascii_hexdigit()))
                .and_then(|t| u32::from_str_radix(t, 16).ok());
            prop_assert_eq!(hex8(digits), want);
        }

        /// The lackey, din and course fast paths agree with their reference parsers on
        /// every line they accept, and consume exactly that line.
        #[test]
        fn lackey_and_course_scans_agree_with_the_reference(
            lackey_line in "(I  | L | S | M |  L |I )[0-9a-fA-Fx]{7,9},[0-9]{0,3}",
            course_line in "[0-9a-fA-Fgx]{7,9} [RWX]",
            din_line in "[0-58x]{1,2} [0-9a-fA-Fgx]{0,10}",
            next in "[ IRW0]{0,3}",
        ) {
            let text = format!("{lackey_line}\n{next}");
            if let Some((record, used)) = lackey_scan(text.as_bytes()) {
                prop_assert_eq!(used, lackey_line.len() + 1);
                prop_assert_eq!(lackey(&lackey_line), Ok(record));
            }
            let text = format!("{din_line}\n{next}");
            if let Some((record, used)) = din_scan(text.as_bytes()) {
                prop_assert_eq!(used, din_line.len() + 1);
                prop_assert_eq!(din(&din_line), Ok(record));
            }
            let text = format!("{course_line}\n{next}");
            if let Some((record, used)) = course_scan(text.as_bytes()) {
                prop_assert_eq!(used, course_line.len() + 1);
                prop_assert_eq!(course(&course_line), Ok(record));
            }
        }

        /// A native line written for any access reads back as that access.
        #[test]
        fn native_lines_round_trip(kind in 0u8..3, addr: u32, value: Option<u32>) {
            let kind = [AccessKind::Read, AccessKind::Write, AccessKind::Fetch][usize::from(kind)];
            let value = if kind == AccessKind::Write { value } else { None };
            let event = TraceEvent::Access(Access { kind, vaddr: VirtAddr::new(addr), value });
            let mut out = Vec::new();
            write_native(&event, &mut out);
            out.pop();
            prop_assert_eq!(TraceFormat::Native.parse(&out), Ok(Record::Event(event)));
        }
    }
}
