//! The trace reader: streams lines out of any `Read` through one fixed buffer,
//! tells the format, parses each line and splits wide or unaligned accesses into
//! the words they touch. Memory stays at the one buffer whatever the trace's
//! length, and a line costs no allocation.

use crate::binary::{self, Decoded, Header};
use crate::formats::{self, Record};
use crate::{Access, TraceEvent, TraceFormat, Unaligned, WorkloadError};
use mmu_core::{AccessKind, VirtAddr};
use serde::Serialize;
use std::io::{ErrorKind, Read};

/// The longest line a trace may have, in bytes (its newline not counted):
/// the read buffer grows to hold it, and its newline, only for a line that
/// does not fit in [`READ_BYTES`].
pub const BUFFER_BYTES: usize = 1 << 18;

/// The read buffer at its largest: the longest line and its newline, so a
/// line of exactly [`BUFFER_BYTES`] is read and one byte more is refused.
const MAX_BUFFER: usize = BUFFER_BYTES + 1;

/// Bytes of the read buffer to start with, and asked of the source per
/// `read` at most: the kernel's copy into the buffer and the decoding out of
/// it then stay within the L1/L2 caches while the simulation runs between
/// reads. With a 256 KiB buffer filled whole, a binary trace's run on one
/// thread spent 17-20% of its time in the kernel's copy (`_copy_to_iter`),
/// also when asking 64 KiB at a time of that buffer; with a 64 KiB buffer,
/// 3-4%, and the run took 12-15% less CPU time (issue #15,
/// benches/README.md). Text parsing costs the same.
const READ_BYTES: usize = 1 << 16;

/// What a trace reader saw, for the report.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize)]
pub struct TraceStats {
    /// The format read (the detected one when the config said `Auto`).
    pub format: TraceFormat,
    /// Lines read, including blank, comment and skipped ones; for a binary
    /// trace, records read.
    pub lines: u64,
    /// Lines that did not parse and were skipped (only with skipping on; without
    /// it the first bad line stops the run).
    pub bad_lines_skipped: u64,
    /// lackey, din or course records whose address was not word aligned: split
    /// into the words they touch or taken as the word that holds them; and
    /// native ones rounded down to their word with [`Unaligned::RoundDown`]
    /// (with [`Unaligned::Fault`] they are passed on, and the core counts them
    /// as alignment faults).
    pub unaligned_records: u64,
}

/// The words of one record still to be issued: `words` words from `first`, then
/// (for a modify) the same words again as writes.
#[derive(Clone, Copy)]
struct Split {
    first: u32,
    words: u32,
    emitted: u32,
    total: u32,
    kind: AccessKind,
}

impl Split {
    const EMPTY: Split = Split { first: 0, words: 0, emitted: 0, total: 0, kind: AccessKind::Read };

    #[inline]
    fn next(&mut self) -> Option<TraceEvent> {
        if self.emitted == self.total {
            return None;
        }
        let i = self.emitted;
        self.emitted += 1;
        let (kind, word) = if i < self.words { (self.kind, i) } else { (AccessKind::Write, i - self.words) };
        // In range: the parser checked that the record ends below 2^32.
        let vaddr = VirtAddr::new(self.first.wrapping_add(word.wrapping_mul(4)));
        Some(TraceEvent::Access(Access { kind, vaddr, value: None }))
    }
}

enum Line {
    Text(usize, usize),
    TooLong,
    End,
}

/// Streams events from a trace in any [`TraceFormat`].
pub struct TraceReader<R> {
    source: R,
    origin: String,
    format: TraceFormat,
    buf: Box<[u8]>,
    pos: usize,
    end: usize,
    /// Offset in the (decompressed) input of `buf[0]`, for binary errors.
    base: u64,
    /// Whether the start of the input was checked for the binary magic.
    sniffed: bool,
    /// The binary header, once read.
    header: Header,
    /// Bytes before this index (from `pos`) are known to hold no `\n`, so that a
    /// long line arriving in small reads is searched once, not once per read.
    searched: usize,
    eof: bool,
    finished: bool,
    split: Split,
    skip_bad_lines: bool,
    /// How many processes `P n` may name; `None` accepts any.
    processes: Option<u32>,
    /// What to do with an unaligned native address.
    unaligned: Unaligned,
    stats: TraceStats,
    first_bad_line: Option<WorkloadError>,
}

impl<R: Read> TraceReader<R> {
    /// A reader over `source` in `format` (`Auto` tells it from the first line that
    /// is not blank or a comment); `origin` (usually the path) names it in errors.
    pub fn new(source: R, origin: impl Into<String>, format: TraceFormat) -> Self {
        Self {
            source,
            origin: origin.into(),
            format,
            buf: vec![0; READ_BYTES].into_boxed_slice(),
            pos: 0,
            end: 0,
            base: 0,
            sniffed: false,
            header: Header { store_values: false },
            searched: 0,
            eof: false,
            finished: false,
            split: Split::EMPTY,
            skip_bad_lines: false,
            processes: None,
            unaligned: Unaligned::Fault,
            stats: TraceStats { format, ..TraceStats::default() },
            first_bad_line: None,
        }
    }

    /// With `skip` on, a line that does not parse is counted in
    /// [`TraceStats::bad_lines_skipped`] and skipped instead of stopping the read.
    /// Compressed data, a line longer than the buffer and read errors still stop it.
    #[must_use]
    pub fn skip_bad_lines(mut self, skip: bool) -> Self {
        self.skip_bad_lines = skip;
        self
    }

    /// Accepts `P n` only for the `count` processes `0..count` a config declares:
    /// another `n` is a bad line, with the file, the line and the pids that exist.
    #[must_use]
    pub fn processes(mut self, count: u32) -> Self {
        self.processes = Some(count);
        self
    }

    /// What to do with a native record whose address is not word aligned: pass
    /// it on (an alignment fault, the default) or round it down to its word.
    #[must_use]
    pub fn unaligned(mut self, unaligned: Unaligned) -> Self {
        self.unaligned = unaligned;
        self
    }

    /// A native access as the reader hands it out: an unaligned address rounded
    /// down and counted when asked to.
    #[inline(always)]
    fn native(&mut self, access: Access) -> Access {
        if access.vaddr.is_word_aligned() || self.unaligned == Unaligned::Fault {
            return access;
        }
        self.round_down(access)
    }

    #[cold]
    fn round_down(&mut self, access: Access) -> Access {
        self.stats.unaligned_records += 1;
        Access { vaddr: VirtAddr::new(access.vaddr.as_u32() & !3), ..access }
    }

    /// What was read so far.
    pub fn stats(&self) -> &TraceStats {
        &self.stats
    }

    /// The first line skipped as bad, with its error, to show the user what was skipped.
    pub fn first_bad_line(&self) -> Option<&WorkloadError> {
        self.first_bad_line.as_ref()
    }

    fn parse_error(&self, message: String) -> WorkloadError {
        let message = formats::escape_controls(&message);
        WorkloadError::Parse { origin: self.origin.clone(), line: self.stats.lines, message }
    }

    /// Counts a bad line when skipping, else returns its error.
    #[cold]
    fn bad_line(&mut self, message: String) -> Option<WorkloadError> {
        let error = self.parse_error(message);
        if !self.skip_bad_lines {
            return Some(error);
        }
        self.stats.bad_lines_skipped += 1;
        if self.first_bad_line.is_none() {
            self.first_bad_line = Some(error);
        }
        None
    }

    /// The next line's byte range in the buffer, refilling (and growing) it as
    /// needed. A line that fills the buffer at its largest ([`MAX_BUFFER`]:
    /// longer than [`BUFFER_BYTES`]) is `TooLong` at once, without waiting
    /// for its end: a source without newlines (`/dev/zero`) never has one.
    #[inline]
    fn next_line(&mut self) -> std::io::Result<Line> {
        loop {
            let from = self.pos.max(self.searched);
            if let Some(i) = memchr::memchr(b'\n', &self.buf[from..self.end]) {
                let start = self.pos;
                self.pos = from + i + 1;
                self.searched = self.pos;
                return Ok(Line::Text(start, from + i));
            }
            self.searched = self.end;
            if self.eof {
                if self.pos < self.end {
                    let start = self.pos;
                    self.pos = self.end;
                    return Ok(Line::Text(start, self.end));
                }
                return Ok(Line::End);
            }
            if self.pos == 0 && self.end == self.buf.len() {
                if self.buf.len() < MAX_BUFFER {
                    self.grow();
                } else {
                    self.pos = self.end;
                    return Ok(Line::TooLong);
                }
            }
            self.refill()?;
        }
    }

    /// Doubles the buffer (up to [`MAX_BUFFER`]) for a line that fills it.
    #[cold]
    fn grow(&mut self) {
        let mut bigger = vec![0; (2 * self.buf.len()).min(MAX_BUFFER)];
        bigger[..self.end].copy_from_slice(&self.buf[..self.end]);
        self.buf = bigger.into_boxed_slice();
    }

    /// Moves the partial last line to the front and reads more after it.
    #[cold]
    fn refill(&mut self) -> std::io::Result<()> {
        if self.pos > 0 {
            self.base += self.pos as u64;
            self.buf.copy_within(self.pos..self.end, 0);
            self.end -= self.pos;
            self.searched = self.searched.saturating_sub(self.pos);
            self.pos = 0;
        }
        loop {
            let upto = (self.end + READ_BYTES).min(self.buf.len());
            match self.source.read(&mut self.buf[self.end..upto]) {
                Ok(0) => {
                    self.eof = true;
                    return Ok(());
                }
                Ok(n) => {
                    self.end += n;
                    return Ok(());
                }
                Err(e) if e.kind() == ErrorKind::Interrupted => {}
                Err(e) => return Err(e),
            }
        }
    }

    /// Resolves an `Auto` format from the line at `start..end`: `Ok(true)` once
    /// resolved, `Ok(false)` for a line that cannot tell (blank or comment).
    #[cold]
    fn detect(&mut self, start: usize, end: usize) -> Result<bool, Option<WorkloadError>> {
        let line = &self.buf[start..end];
        if self.stats.lines == 1
            && let Some(kind) = formats::compressed(line)
        {
            return Err(Some(self.parse_error(format!(
                "this is {kind}-compressed data: name the file with its extension \
                 (`.gz` or `.zst`) so that it is decompressed, or pipe it through `{kind} -dc`"
            ))));
        }
        match formats::detect(line) {
            Ok(None) => Ok(false),
            Ok(Some(format)) => {
                self.format = format;
                self.stats.format = format;
                Ok(true)
            }
            Err(message) => Err(self.bad_line(message)),
        }
    }

    /// Stops the stream after a fatal error: later calls, fast path included, end it.
    #[cold]
    fn finish(&mut self) {
        self.finished = true;
        self.pos = self.end;
        self.eof = true;
    }

    /// The first words of a span record, keeping the rest in `self.split`.
    #[inline]
    fn span(&mut self, kind: AccessKind, addr: u32, size: u32, modify: bool) -> Option<TraceEvent> {
        if addr % 4 != 0 {
            self.stats.unaligned_records += 1;
        }
        let first = addr & !3;
        // The parser checked that `addr + size - 1` fits in 32 bits.
        let last = addr.wrapping_add(size.wrapping_sub(1)) & !3;
        let words = (last - first) / 4 + 1;
        self.split = Split { first, words, emitted: 0, total: if modify { 2 * words } else { words }, kind };
        self.split.next()
    }
}

impl<R: Read> Iterator for TraceReader<R> {
    type Item = Result<TraceEvent, WorkloadError>;

    /// Always inlined: the native fast path is a few dozen instructions, and a call
    /// with its register saves would add a third to them.
    #[inline(always)]
    fn next(&mut self) -> Option<Self::Item> {
        if self.format == TraceFormat::Native
            && let Some((access, used)) = formats::native_scan(&self.buf[self.pos..self.end])
        {
            self.pos += used;
            self.stats.lines += 1;
            return Some(Ok(TraceEvent::Access(self.native(access))));
        }
        if self.format == TraceFormat::Binary
            && let Some(&[b0, b1, b2, b3]) = self.buf[..self.end].get(self.pos..self.pos + 4)
        {
            let word = u32::from_le_bytes([b0, b1, b2, b3]);
            let low = word & 3;
            if low != 3 && (low != 1 || !self.header.store_values) {
                self.pos += 4;
                self.stats.lines += 1;
                let vaddr = VirtAddr::new(word & !3);
                return Some(Ok(TraceEvent::Access(Access {
                    kind: binary::kind_of(low),
                    vaddr,
                    value: None,
                })));
            }
        }
        self.next_other()
    }
}

impl<R: Read> TraceReader<R> {
    /// The other formats' fast paths, kept out of line so that the native one
    /// stays small enough to inline into the run loop.
    #[inline(never)]
    fn next_other(&mut self) -> Option<Result<TraceEvent, WorkloadError>> {
        if !self.sniffed {
            if let Err(error) = self.sniff() {
                self.finish();
                return Some(Err(error));
            }
        }
        if self.format == TraceFormat::Binary {
            return self.next_binary();
        }
        if self.split.emitted == self.split.total {
            let bytes = &self.buf[self.pos..self.end];
            let scanned = match self.format {
                TraceFormat::Lackey => formats::lackey_scan(bytes),
                TraceFormat::Course => formats::course_scan(bytes),
                TraceFormat::Din => formats::din_scan(bytes),
                TraceFormat::Auto | TraceFormat::Native | TraceFormat::Binary => None,
            };
            if let Some((Record::Span { kind, addr, size, modify }, used)) = scanned {
                self.pos += used;
                self.stats.lines += 1;
                return self.span(kind, addr, size, modify).map(Ok);
            }
        }
        self.next_general()
    }

    /// Checks once, before the first line, whether the input starts with the
    /// binary magic: with `Auto` it is then read as binary, and `Binary` requires it.
    #[cold]
    fn sniff(&mut self) -> Result<(), WorkloadError> {
        self.sniffed = true;
        if !matches!(self.format, TraceFormat::Auto | TraceFormat::Binary) {
            return Ok(());
        }
        while self.end - self.pos < binary::HEADER_BYTES && !self.eof {
            self.refill().map_err(|source| WorkloadError::Io { origin: self.origin.clone(), source })?;
        }
        let head = &self.buf[self.pos..self.end];
        if head.starts_with(&binary::MAGIC) {
            self.header = Header::parse(head)
                .map_err(|message| WorkloadError::Format { origin: self.origin.clone(), message })?;
            self.pos += binary::HEADER_BYTES;
            self.format = TraceFormat::Binary;
            self.stats.format = TraceFormat::Binary;
        } else if self.format == TraceFormat::Binary {
            let shown: Vec<String> = head.iter().take(8).map(|b| format!("{b:02x}")).collect();
            return Err(WorkloadError::Format {
                origin: self.origin.clone(),
                message: format!(
                    "byte 0: not a binary trace: it starts with `{}`, not the magic bytes `89 4d 4d 55 54 52 43 1a`; \
                     leave the format out to have it detected",
                    shown.join(" ")
                ),
            });
        }
        Ok(())
    }

    /// The next record of a binary trace, any kind (the fast path in `next`
    /// takes the plain ones).
    fn next_binary(&mut self) -> Option<Result<TraceEvent, WorkloadError>> {
        if self.finished {
            return None;
        }
        loop {
            match binary::decode(&self.buf[self.pos..self.end], self.header) {
                Decoded::Event(event, used) => {
                    let offset = self.base + self.pos as u64;
                    self.pos += used;
                    self.stats.lines += 1;
                    if let Some(event) = self.binary_event(event, offset) {
                        return Some(event);
                    }
                }
                Decoded::Corrupt(message) => return Some(Err(self.corrupt(message))),
                Decoded::Short if self.eof => {
                    if self.pos == self.end {
                        return None;
                    }
                    let left = self.end - self.pos;
                    return Some(Err(self.corrupt(format!(
                        "the binary trace is truncated: it ends {left} byte(s) into a record"
                    ))));
                }
                Decoded::Short => {
                    if let Err(source) = self.refill() {
                        self.finish();
                        return Some(Err(WorkloadError::Io { origin: self.origin.clone(), source }));
                    }
                }
            }
        }
    }

    /// A decoded binary event as the reader hands it out: an unaligned address
    /// treated as a native one, a switch checked against the processes. A
    /// switch to a pid the config does not declare is an error, or with
    /// `skip_bad_lines` skipped and counted (`None`), as the native `P n` is.
    fn binary_event(&mut self, event: TraceEvent, offset: u64) -> Option<Result<TraceEvent, WorkloadError>> {
        match event {
            TraceEvent::Access(access) => Some(Ok(TraceEvent::Access(self.native(access)))),
            TraceEvent::Switch(pid) if self.processes.is_some_and(|count| pid.as_u32() >= count) => {
                let count = self.processes.unwrap_or(0);
                let error = WorkloadError::Corrupt {
                    origin: self.origin.clone(),
                    offset,
                    message: format!(
                        "the switch to process {pid} names no process: the config declares {}",
                        crate::describe_pids(count)
                    ),
                };
                if self.skip_bad_lines {
                    self.stats.bad_lines_skipped += 1;
                    if self.first_bad_line.is_none() {
                        self.first_bad_line = Some(error);
                    }
                    return None;
                }
                self.finish();
                Some(Err(error))
            }
            TraceEvent::Switch(_) => Some(Ok(event)),
        }
    }

    /// The error of a bad binary record at the read position; the stream ends.
    #[cold]
    fn corrupt(&mut self, message: String) -> WorkloadError {
        let offset = self.base + self.pos as u64;
        self.finish();
        WorkloadError::Corrupt { origin: self.origin.clone(), offset, message }
    }

    /// Appends up to `limit` events to `out` (a batch for a reader thread):
    /// the same events, in the same order, as that many calls of `next`, with
    /// a tighter loop for plain binary records. `Ok(true)` when the limit was
    /// reached, `Ok(false)` at the end of the trace.
    ///
    /// # Errors
    /// The first error `next` would return; the events before it are in `out`.
    pub fn fill(&mut self, out: &mut Vec<TraceEvent>, limit: usize) -> Result<bool, WorkloadError> {
        out.reserve(limit.saturating_sub(out.len()));
        while out.len() < limit {
            if self.format == TraceFormat::Binary && !self.header.store_values {
                self.fill_plain_binary(out, limit);
            } else if self.format == TraceFormat::Native {
                while out.len() < limit {
                    let Some((access, used)) = formats::native_scan(&self.buf[self.pos..self.end]) else {
                        break;
                    };
                    self.pos += used;
                    self.stats.lines += 1;
                    let access = self.native(access);
                    out.push(TraceEvent::Access(access));
                }
            }
            if out.len() == limit {
                break;
            }
            // Anything the tight loops do not take: one event the general way.
            match self.next() {
                Some(Ok(event)) => out.push(event),
                Some(Err(error)) => return Err(error),
                None => return Ok(false),
            }
        }
        Ok(true)
    }

    /// The run of plain records (no escape, no value) at the read position, as
    /// many as fit under `limit` and are in the buffer: found first, then
    /// decoded by an exact-size loop with no branch per record.
    #[inline]
    fn fill_plain_binary(&mut self, out: &mut Vec<TraceEvent>, limit: usize) {
        let words = (limit - out.len()).min((self.end - self.pos) / 4);
        let bytes = &self.buf[self.pos..self.pos + 4 * words];
        let plain = plain_records(bytes);
        // Records as 4-byte arrays (one load each, a loop of known stride),
        // where `chunks_exact(4)` kept its stride in a register inside
        // `extend`'s loop and loaded the bytes one by one. A whole number of
        // records, of the alignment of u8: the cast cannot fail.
        let records: &[[u8; 4]] = bytemuck::cast_slice(&bytes[..4 * plain]);
        out.extend(records.iter().map(|&record| {
            let word = u32::from_le_bytes(record);
            TraceEvent::Access(Access {
                kind: binary::kind_of(word),
                vaddr: VirtAddr::new(word & !3),
                value: None,
            })
        }));
        self.pos += 4 * plain;
        self.stats.lines += plain as u64;
    }

    /// Every line the fast paths do not take.
    fn next_general(&mut self) -> Option<Result<TraceEvent, WorkloadError>> {
        if let Some(event) = self.split.next() {
            return Some(Ok(event));
        }
        if self.finished {
            return None;
        }
        loop {
            let (start, end) = match self.next_line() {
                Ok(Line::Text(start, end)) => (start, end),
                Ok(Line::End) => return None,
                Ok(Line::TooLong) => {
                    self.stats.lines += 1;
                    self.finish();
                    return Some(Err(self.parse_error(format!(
                        "the line is longer than {BUFFER_BYTES} bytes: this is not a text trace"
                    ))));
                }
                Err(source) => {
                    self.finish();
                    return Some(Err(WorkloadError::Io { origin: self.origin.clone(), source }));
                }
            };
            self.stats.lines += 1;
            if self.format == TraceFormat::Auto {
                match self.detect(start, end) {
                    Ok(true) => {}
                    Ok(false) | Err(None) => continue,
                    Err(Some(error)) => {
                        self.finish();
                        return Some(Err(error));
                    }
                }
            }
            match self.format.parse(&self.buf[start..end]) {
                Ok(Record::Event(TraceEvent::Switch(pid)))
                    if self.processes.is_some_and(|count| pid.as_u32() >= count) =>
                {
                    let count = self.processes.unwrap_or(0);
                    let message = format!(
                        "`P {pid}` names no process: the config declares {}",
                        crate::describe_pids(count)
                    );
                    if let Some(error) = self.bad_line(message) {
                        return Some(Err(error));
                    }
                }
                Ok(Record::Event(TraceEvent::Access(access))) => {
                    return Some(Ok(TraceEvent::Access(self.native(access))));
                }
                Ok(Record::Event(event)) => return Some(Ok(event)),
                Ok(Record::Nothing) => {}
                Ok(Record::Span { kind, addr, size, modify }) => {
                    return self.span(kind, addr, size, modify).map(Ok);
                }
                Err(error) => {
                    if let Some(error) = self.bad_line(error.message) {
                        return Some(Err(error));
                    }
                }
            }
        }
    }
}

/// How many whole records at the start of `bytes` are plain (no escape): an
/// escape has both low bits of its first (least significant) byte set. Looked
/// for 16 records at a time with no early exit inside a block (about 3 host
/// instructions a record, against 8 for a scan that stops at each).
fn plain_records(bytes: &[u8]) -> usize {
    const BLOCK: usize = 16;
    // Whole records only; [u8; 4] has the alignment of u8, so the cast cannot fail.
    let records: &[[u8; 4]] = bytemuck::cast_slice(&bytes[..bytes.len() / 4 * 4]);
    let is_escape = |record: &[u8; 4]| record[0] & 3 == 3;
    let mut plain = 0;
    for block in records.chunks_exact(BLOCK) {
        if block.iter().fold(false, |found, record| found | is_escape(record)) {
            break;
        }
        plain += BLOCK;
    }
    let rest = &records[plain..];
    plain + rest.iter().position(is_escape).unwrap_or(rest.len())
}

#[cfg(test)]
mod tests {
    use super::*;
    use mmu_core::Pid;

    fn read(text: &[u8], format: TraceFormat) -> Vec<Result<TraceEvent, String>> {
        TraceReader::new(text, "t.trace", format).map(|r| r.map_err(|e| e.to_string())).collect()
    }

    fn a(kind: AccessKind, vaddr: u32) -> Result<TraceEvent, String> {
        Ok(TraceEvent::Access(Access { kind, vaddr: VirtAddr::new(vaddr), value: None }))
    }

    use AccessKind::{Fetch as X, Read as R, Write as W};

    #[test]
    fn plain_records_stops_at_the_first_escape_wherever_it_is() {
        // Every position of one escape in 0..40 records (across the 16-record
        // blocks and the tail), and none, against the obvious scan.
        for len in [0usize, 1, 15, 16, 17, 32, 40] {
            for escape in (0..len).map(Some).chain([None]) {
                let mut bytes: Vec<u8> =
                    (0..len as u32).flat_map(|i| ((i << 2) | (i % 3)).to_le_bytes()).collect();
                if let Some(at) = escape {
                    bytes[4 * at] |= 3;
                }
                bytes.extend([7, 7]); // a partial record is not counted
                assert_eq!(
                    plain_records(&bytes),
                    escape.unwrap_or(len),
                    "{len} records, escape at {escape:?}"
                );
            }
        }
    }

    #[test]
    fn native_every_line_kind_and_a_missing_final_newline() {
        let text = b"# header\n\nR 0x0041f7a0\r\nW 0x0041f7a4 0xdeadbeef\nX 0x00400000 # fetch\nP 3\nR 10";
        assert_eq!(
            read(text, TraceFormat::Native),
            vec![
                a(R, 0x0041_f7a0),
                Ok(TraceEvent::Access(Access {
                    kind: W,
                    vaddr: VirtAddr::new(0x0041_f7a4),
                    value: Some(0xdead_beef)
                })),
                a(X, 0x0040_0000),
                Ok(TraceEvent::Switch(Pid::new(3))),
                a(R, 0x10),
            ]
        );
    }

    #[test]
    fn lackey_splits_into_the_words_touched() {
        // By hand: I 0x1002,8 touches bytes 0x1002..=0x1009: words 0x1000, 0x1004, 0x1008.
        // L 0x2000,4 is one aligned word. S 0x3003,2 touches 0x3003..=0x3004: words
        // 0x3000 and 0x3004. M 0x4004,8: words 0x4004 and 0x4008 read, then written.
        // L 0x5001,1 is inside word 0x5000.
        let text = b"==1== Lackey\nI  00001002,8\n L 00002000,4\n S 00003003,2\n M 00004004,8\n L 5001,1\n==1== end\n";
        assert_eq!(
            read(text, TraceFormat::Lackey),
            vec![
                a(X, 0x1000),
                a(X, 0x1004),
                a(X, 0x1008),
                a(R, 0x2000),
                a(W, 0x3000),
                a(W, 0x3004),
                a(R, 0x4004),
                a(R, 0x4008),
                a(W, 0x4004),
                a(W, 0x4008),
                a(R, 0x5000),
            ]
        );
        let mut reader = TraceReader::new(&text[..], "t", TraceFormat::Auto);
        assert_eq!(reader.by_ref().count(), 11);
        let stats = reader.stats();
        assert_eq!((stats.format, stats.lines, stats.unaligned_records), (TraceFormat::Lackey, 7, 3));
    }

    #[test]
    fn lackey_at_the_top_of_the_address_space() {
        assert_eq!(read(b" M fffffffc,4\n", TraceFormat::Lackey), vec![a(R, 0xffff_fffc), a(W, 0xffff_fffc)]);
    }

    #[test]
    fn din_and_course_take_the_word_holding_an_unaligned_address() {
        let din = b"2 0\n0 1001\n1 70f6088f trailing text\n4 0\n3 8\n";
        assert_eq!(read(din, TraceFormat::Auto), vec![a(X, 0), a(R, 0x1000), a(W, 0x70f6_088c), a(R, 8)]);
        let course = b"0041f7a0 R\n0041f7a2 W\n";
        assert_eq!(read(course, TraceFormat::Auto), vec![a(R, 0x0041_f7a0), a(W, 0x0041_f7a0)]);
    }

    #[test]
    fn bad_lines_stop_with_file_and_line_or_are_counted_when_skipped() {
        let text = b"R 0x10\nQ 0x10\nR 0x1234567890\nR 0x20\n";
        let got = read(text, TraceFormat::Native);
        assert_eq!(got[0], a(R, 0x10));
        assert_eq!(
            got[1],
            Err("t.trace:2: expected `R`, `W`, `X` or `P` at the start of the line, found `Q`".into())
        );

        let mut reader = TraceReader::new(&text[..], "t.trace", TraceFormat::Native).skip_bad_lines(true);
        let events: Vec<_> = reader.by_ref().map(|r| r.map_err(|e| e.to_string())).collect();
        assert_eq!(events, vec![a(R, 0x10), a(R, 0x20)]);
        assert_eq!(reader.stats().bad_lines_skipped, 2);
        assert_eq!(reader.stats().lines, 4);
        let first = reader.first_bad_line().map(ToString::to_string).unwrap_or_default();
        assert!(first.starts_with("t.trace:2: expected"), "{first}");
    }

    #[test]
    fn detection_errors_name_the_line() {
        let got = read(b"# c\n\nhello\n", TraceFormat::Auto);
        assert_eq!(got.len(), 1);
        let err = got[0].clone().unwrap_err();
        assert!(err.starts_with("t.trace:3: cannot tell the trace format: `hello`"), "{err}");
        let got = read(&[0x1f, 0x8b, 8, 0, b'\n', b'x'], TraceFormat::Auto);
        assert_eq!(got.len(), 1, "compressed data stops the read, even when skipping");
        assert!(got[0].clone().unwrap_err().starts_with("t.trace:1: this is gzip-compressed data"));
    }

    #[test]
    fn skipping_also_skips_lines_that_cannot_tell_the_format() {
        let mut reader = TraceReader::new(
            &b"program output
0 1000
1 2000
"[..],
            "t",
            TraceFormat::Auto,
        )
        .skip_bad_lines(true);
        let events: Vec<_> = reader.by_ref().map(|r| r.map_err(|e| e.to_string())).collect();
        assert_eq!(events, vec![a(R, 0x1000), a(W, 0x2000)]);
        assert_eq!((reader.stats().format, reader.stats().bad_lines_skipped), (TraceFormat::Din, 1));
        let empty = TraceReader::new(
            &b"# nothing

"[..],
            "t",
            TraceFormat::Auto,
        );
        assert_eq!(empty.count(), 0);
    }

    /// Hands out its data a few bytes at a time, interrupted now and then, as
    /// pipes and decompressors do.
    struct Trickle<'a> {
        data: &'a [u8],
        calls: usize,
    }

    impl Read for Trickle<'_> {
        fn read(&mut self, out: &mut [u8]) -> std::io::Result<usize> {
            self.calls += 1;
            if self.calls % 5 == 0 {
                return Err(std::io::Error::from(ErrorKind::Interrupted));
            }
            let n = self.data.len().min(out.len()).min(1 + self.calls % 7);
            out[..n].copy_from_slice(&self.data[..n]);
            self.data = &self.data[n..];
            Ok(n)
        }
    }

    #[test]
    fn lines_straddling_refills_and_short_reads_parse_the_same() {
        let mut text = Vec::new();
        for i in 0..(3 * BUFFER_BYTES / 13) as u32 {
            text.extend_from_slice(format!("R 0x{:08x}\n", i * 4).as_bytes());
        }
        let whole: Vec<_> =
            TraceReader::new(&text[..], "t", TraceFormat::Native).map(|r| r.unwrap()).collect();
        assert_eq!(whole.len(), 3 * BUFFER_BYTES / 13);
        for (i, e) in whole.iter().enumerate() {
            assert_eq!(
                *e,
                TraceEvent::Access(Access { kind: R, vaddr: VirtAddr::new(i as u32 * 4), value: None })
            );
        }
        // 3900 bytes: 300 whole lines.
        let trickled: Vec<_> =
            TraceReader::new(Trickle { data: &text[..3900], calls: 0 }, "t", TraceFormat::Native)
                .map(|r| r.unwrap())
                .collect();
        assert!(trickled == whole[..300], "trickled reads parse differently");
    }

    #[test]
    fn a_line_longer_than_the_buffer_is_an_error_not_a_hang() {
        let mut text = b"R 0x10\n".to_vec();
        text.extend(std::iter::repeat_n(b'7', BUFFER_BYTES + 10));
        text.extend_from_slice(b"\nR 0x20\n");
        let got = read(&text, TraceFormat::Native);
        assert_eq!(got.len(), 2);
        assert_eq!(got[0], a(R, 0x10));
        let err = got[1].clone().unwrap_err();
        assert!(err.starts_with("t.trace:2: the line is longer than"), "{err}");
    }

    #[test]
    fn a_line_of_exactly_the_limit_is_read_and_one_byte_more_is_not() {
        // The limit counts the line, not its newline: "longer than 262144
        // bytes" refuses 262145 and takes 262144, with or without a newline
        // after it (at the end of the trace).
        for (len, tail, ok) in [
            (BUFFER_BYTES, &b"\nR 0x20\n"[..], true),
            (BUFFER_BYTES, &b""[..], true),
            (BUFFER_BYTES + 1, &b"\nR 0x20\n"[..], false),
        ] {
            let mut text = b"R 0x10\n#".to_vec();
            text.extend(std::iter::repeat_n(b'x', len - 1));
            text.extend_from_slice(tail);
            let got = read(&text, TraceFormat::Native);
            assert_eq!(got[0], a(R, 0x10), "{len}");
            if ok {
                let expected = if tail.is_empty() { 1 } else { 2 };
                assert_eq!(got.len(), expected, "{len}");
                assert!(got.iter().all(Result::is_ok), "{len}: {got:?}");
            } else {
                let err = got[1].clone().unwrap_err();
                assert!(err.starts_with("t.trace:2: the line is longer than 262144 bytes"), "{err}");
            }
        }
    }

    #[test]
    fn a_source_without_newlines_stops_at_the_line_limit_at_once() {
        // `/dev/zero`: endless NULs. The line is over the limit once the buffer is
        // full; the reader must not wait for a newline that never comes.
        let mut reader = TraceReader::new(std::io::repeat(0), "/dev/zero", TraceFormat::Auto);
        let err = reader.next().and_then(Result::err).map(|e| e.to_string()).unwrap_or_default();
        assert_eq!(
            err,
            format!("/dev/zero:1: the line is longer than {BUFFER_BYTES} bytes: this is not a text trace")
        );
        assert!(reader.next().is_none());
    }

    /// Hands out `data` one byte per read and counts the reads.
    struct OneByte<'a>(&'a [u8], usize);
    impl Read for OneByte<'_> {
        fn read(&mut self, out: &mut [u8]) -> std::io::Result<usize> {
            self.1 += 1;
            let n = self.0.len().min(out.len()).min(1);
            out[..n].copy_from_slice(&self.0[..n]);
            self.0 = &self.0[n..];
            Ok(n)
        }
    }

    #[test]
    fn a_long_line_read_a_byte_at_a_time_is_searched_once() {
        // A line just under the limit, arriving one byte per read: searching the
        // whole partial line after each read would scan 2^35 bytes (seconds);
        // searching only the new bytes scans 2^18.
        let mut text = vec![b'#'; BUFFER_BYTES - 16];
        text.extend_from_slice(b"\nR 0x10\nR 0x20\n");
        let start = std::time::Instant::now();
        let events: Vec<_> = TraceReader::new(OneByte(&text, 0), "t", TraceFormat::Native).collect();
        assert!(start.elapsed() < std::time::Duration::from_secs(2), "took {:?}", start.elapsed());
        let events: Vec<_> = events.into_iter().map(Result::unwrap).collect();
        assert_eq!(events, vec![a(R, 0x10).unwrap(), a(R, 0x20).unwrap()]);
    }

    #[test]
    fn a_switch_to_a_pid_the_config_lacks_names_the_line_and_the_pids() {
        let text = b"R 0x10\nP 1\nP 4\n";
        let got: Vec<_> = TraceReader::new(&text[..], "t.trace", TraceFormat::Native)
            .processes(4)
            .map(|r| r.map_err(|e| e.to_string()))
            .collect();
        assert_eq!(got[1], Ok(TraceEvent::Switch(Pid::new(1))));
        assert_eq!(got[2], Err("t.trace:3: `P 4` names no process: the config declares pids 0 to 3".into()));
        let got: Vec<_> = TraceReader::new(&b"P 1\n"[..], "t.trace", TraceFormat::Auto)
            .processes(1)
            .map(|r| r.map_err(|e| e.to_string()))
            .collect();
        assert_eq!(
            got,
            vec![Err("t.trace:1: `P 1` names no process: the config declares pid 0 only".into())]
        );
        assert_eq!(crate::describe_pids(2), "pids 0 and 1");
    }

    #[test]
    fn control_bytes_of_a_line_are_escaped_in_its_error() {
        let got = read(b"R 0x10\x00\x1b[2J\n", TraceFormat::Native);
        assert_eq!(got, vec![Err("t.trace:1: `0x10\\0\\u{1b}[2J` is not a hexadecimal address".into())]);
        let got = read("\u{feff}R 0x10\n".as_bytes(), TraceFormat::Auto);
        let err = got[0].clone().unwrap_err();
        assert!(err.starts_with("t.trace:1: the line starts with a byte-order mark (U+FEFF"), "{err}");
        assert!(!err.contains('\u{feff}'));
    }

    #[test]
    fn unaligned_native_addresses_fault_or_round_down_to_their_word() {
        // Fast path (`R 0x1002`), general path (a value and a comment), aligned
        // ones untouched. Rounded: the word holding the byte, counted.
        let text = b"R 0x1002\nW 0x2003 0x7 # c\nR 0x3000\n";
        let w = |vaddr: u32| {
            Ok(TraceEvent::Access(Access { kind: W, vaddr: VirtAddr::new(vaddr), value: Some(7) }))
        };
        let mut faulting = TraceReader::new(&text[..], "t", TraceFormat::Native);
        let got: Vec<_> = faulting.by_ref().map(|r| r.map_err(|e| e.to_string())).collect();
        assert_eq!(got, vec![a(R, 0x1002), w(0x2003), a(R, 0x3000)]);
        assert_eq!(faulting.stats().unaligned_records, 0);
        let mut rounding =
            TraceReader::new(&text[..], "t", TraceFormat::Auto).unaligned(Unaligned::RoundDown);
        let got: Vec<_> = rounding.by_ref().map(|r| r.map_err(|e| e.to_string())).collect();
        assert_eq!(got, vec![a(R, 0x1000), w(0x2000), a(R, 0x3000)]);
        assert_eq!(rounding.stats().unaligned_records, 2);
    }

    #[test]
    fn read_errors_name_the_trace_and_end_the_stream() {
        struct Failing;
        impl Read for Failing {
            fn read(&mut self, _: &mut [u8]) -> std::io::Result<usize> {
                Err(std::io::Error::other("disk on fire"))
            }
        }
        let mut reader = TraceReader::new(Failing, "t.trace", TraceFormat::Native);
        let err = reader.next().and_then(Result::err).map(|e| e.to_string()).unwrap_or_default();
        assert_eq!(err, "t.trace: read failed: disk on fire");
        assert!(reader.next().is_none());
    }

    fn binary(events: &[TraceEvent], store_values: bool) -> Vec<u8> {
        let mut w = crate::BinaryWriter::new(Vec::new(), store_values).unwrap();
        for e in events {
            w.write(e).unwrap();
        }
        w.finish().unwrap()
    }

    fn mixed_events(n: u32) -> Vec<TraceEvent> {
        (0..n)
            .map(|i| match i % 97 {
                0 => TraceEvent::Switch(Pid::new(i % 3)),
                1 => TraceEvent::Access(Access { kind: W, vaddr: VirtAddr::new(i * 4), value: Some(i) }),
                2 => TraceEvent::Access(Access { kind: R, vaddr: VirtAddr::new(i * 4 + 1), value: None }),
                _ => TraceEvent::Access(Access {
                    kind: [R, W, X][(i % 3) as usize],
                    vaddr: VirtAddr::new(i.wrapping_mul(0x9e37_79b9) & !3),
                    value: None,
                }),
            })
            .collect()
    }

    #[test]
    fn binary_traces_are_detected_and_read_across_refills() {
        let events = mixed_events(3 * BUFFER_BYTES as u32 / 4);
        for store_values in [false, true] {
            let bytes = binary(&events, store_values);
            let mut reader = TraceReader::new(&bytes[..], "t.bin", TraceFormat::Auto);
            let got: Vec<_> = reader.by_ref().map(Result::unwrap).collect();
            assert!(got == events, "store values {store_values}");
            assert_eq!(reader.stats().format, TraceFormat::Binary);
            assert_eq!(reader.stats().lines, events.len() as u64);
            let trickled: Vec<_> =
                TraceReader::new(Trickle { data: &bytes[..4000], calls: 0 }, "t", TraceFormat::Binary)
                    .map(Result::unwrap)
                    .collect();
            assert!(trickled[..] == events[..trickled.len()] && trickled.len() > 300);
            // Batches give the same events and the same statistics.
            let mut batched = TraceReader::new(&bytes[..], "t.bin", TraceFormat::Auto);
            let mut all = Vec::new();
            let mut batch = Vec::with_capacity(1000);
            while {
                batch.clear();
                batched.fill(&mut batch, 1000).unwrap()
            } {
                all.extend_from_slice(&batch);
            }
            all.extend_from_slice(&batch);
            assert!(all == events);
            assert_eq!(batched.stats(), reader.stats());
        }
    }

    #[test]
    fn truncated_and_corrupt_binary_traces_name_the_byte_offset() {
        let events = mixed_events(200);
        let bytes = binary(&events, false);
        let errors = |data: &[u8], format| {
            let got = read(data, format);
            let n = got.iter().filter(|r| r.is_ok()).count();
            (n, got.into_iter().find_map(Result::err))
        };
        // Cut two bytes into the last record (a plain read at the end).
        let (n, err) = errors(&bytes[..bytes.len() - 2], TraceFormat::Auto);
        assert_eq!(n, events.len() - 1);
        assert_eq!(
            err.as_deref(),
            Some(
                format!(
                    "t.trace: byte {}: the binary trace is truncated: it ends 2 byte(s) into a record",
                    bytes.len() - 4
                )
                .as_str()
            )
        );
        // An unknown escape over the third record, at byte 16 + 8 (a switch) + 12
        // (a write with its value).
        let mut bad = bytes.clone();
        bad[36..40].copy_from_slice(&0x0000_00ffu32.to_le_bytes());
        let (n, err) = errors(&bad, TraceFormat::Auto);
        assert_eq!(n, 2);
        assert!(
            err.unwrap()
                .starts_with("t.trace: byte 36: 0x000000ff is not a record of binary trace version 1")
        );
        let mut old = bytes.clone();
        old[8] = 9;
        let (_, err) = errors(&old, TraceFormat::Auto);
        assert!(err.unwrap().starts_with("t.trace: byte 8: binary trace version 9 is not supported"));
        let (_, err) = errors(b"R 0x10\n", TraceFormat::Binary);
        assert!(err.unwrap().starts_with("t.trace: byte 0: not a binary trace: it starts with `52 20 30 78"));
        let (_, err) = errors(&bytes[..10], TraceFormat::Auto);
        assert!(err.unwrap().starts_with("t.trace: byte 10: the binary trace is truncated inside its"));
        let got: Vec<_> = TraceReader::new(&bytes[..], "t.bin", TraceFormat::Auto)
            .processes(2)
            .map(|r| r.map_err(|e| e.to_string()))
            .collect();
        // Event 194 is `P 2` (194 % 97 == 0, 194 % 3 == 2), after events 0..194.
        assert_eq!(got.len(), 195);
        let err = got[194].clone().unwrap_err();
        assert!(
            err.contains("the switch to process 2 names no process: the config declares pids 0 and 1"),
            "{err}"
        );
    }

    /// With `skip_bad_lines`, a binary switch to a pid the config does not
    /// declare is skipped and counted, as the native line `P n` is, so that a
    /// converted trace runs as its text did.
    #[test]
    fn an_unknown_pid_is_skipped_alike_in_text_and_binary() {
        let text = b"R 0x10\nP 9\nR 0x20\nP 1\nR 0x30\n";
        let mut bytes = Vec::new();
        let mut writer = crate::BinaryWriter::new(&mut bytes, false).unwrap();
        for event in TraceReader::new(&text[..], "t.trace", TraceFormat::Native) {
            writer.write(&event.unwrap()).unwrap();
        }
        writer.finish().unwrap();
        let read = |bytes: &[u8], origin: &str| {
            let mut reader =
                TraceReader::new(bytes, origin, TraceFormat::Auto).processes(2).skip_bad_lines(true);
            let events: Vec<_> = reader.by_ref().map(|r| r.map_err(|e| e.to_string())).collect();
            let first = reader.first_bad_line().map(ToString::to_string).unwrap_or_default();
            (events, reader.stats().bad_lines_skipped, first)
        };
        let (from_text, skipped, first) = read(text, "t.trace");
        assert_eq!(
            (skipped, first.as_str()),
            (1, "t.trace:2: `P 9` names no process: the config declares pids 0 and 1")
        );
        let (from_binary, skipped, first) = read(&bytes, "t.bin");
        assert_eq!(from_binary, from_text);
        assert_eq!(
            (skipped, first.as_str()),
            (1, "t.bin: byte 20: the switch to process 9 names no process: the config declares pids 0 and 1")
        );
    }
}
