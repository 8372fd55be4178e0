//! The native trace format, one event per line:
//!
//! ```text
//! # a comment; blank lines are ignored
//! R 0x0041f7a0            load
//! W 0x0041f7a4 0xdeadbeef store of a value (the value is optional)
//! X 0x00400000            instruction fetch
//! P 3                     switch to process 3 (decimal)
//! ```
//!
//! Addresses and values are hexadecimal, with or without `0x`. A `#` starts a
//! comment anywhere on a line.

use super::{Access, TraceEvent, WorkloadError};
use mmu_core::{AccessKind, Pid, VirtAddr};
use std::io::BufRead;

/// Streams events from a native-format trace, one line at a time.
pub struct NativeReader<R> {
    reader: R,
    origin: String,
    line: String,
    line_no: u64,
}

impl<R: BufRead> NativeReader<R> {
    /// A reader over `reader`; `origin` (usually the path) names it in errors.
    pub fn new(reader: R, origin: impl Into<String>) -> Self {
        Self { reader, origin: origin.into(), line: String::with_capacity(64), line_no: 0 }
    }

    fn error(&self, message: String) -> WorkloadError {
        WorkloadError::Parse { origin: self.origin.clone(), line: self.line_no, message }
    }
}

fn parse_hex(field: &str) -> Option<u64> {
    let digits = field.strip_prefix("0x").or_else(|| field.strip_prefix("0X")).unwrap_or(field);
    if digits.is_empty() || digits.len() > 16 {
        return None;
    }
    u64::from_str_radix(digits, 16).ok()
}

/// Parses one line; `Ok(None)` for blank and comment lines.
fn parse_line(text: &str) -> Result<Option<TraceEvent>, String> {
    let text = text.split('#').next().unwrap_or("");
    let mut fields = text.split_ascii_whitespace();
    let Some(op) = fields.next() else { return Ok(None) };
    let kind = match op {
        "R" => AccessKind::Read,
        "W" => AccessKind::Write,
        "X" => AccessKind::Fetch,
        "P" => {
            let pid = fields.next().ok_or("`P` needs a process number, as in `P 3`")?;
            let pid: u32 = pid.parse().map_err(|_| format!("`{pid}` is not a decimal process number"))?;
            if let Some(extra) = fields.next() {
                return Err(format!("unexpected `{extra}` after `P {pid}`"));
            }
            return Ok(Some(TraceEvent::Switch(Pid::new(pid))));
        }
        other => {
            return Err(format!("expected `R`, `W`, `X` or `P` at the start of the line, found `{other}`"));
        }
    };
    let addr =
        fields.next().ok_or_else(|| format!("`{op}` needs a hexadecimal address, as in `{op} 0x1000`"))?;
    let addr = parse_hex(addr).ok_or_else(|| format!("`{addr}` is not a hexadecimal address"))?;
    let vaddr = u32::try_from(addr).map_err(|_| {
        format!(
            "address {addr:#x} does not fit in 32 bits: this looks like a trace of a 64-bit program; \
             record a 32-bit build (gcc -m32) or map its addresses into 32 bits first"
        )
    })?;
    let value = match fields.next() {
        None => None,
        Some(v) if kind == AccessKind::Write => {
            let value = parse_hex(v).ok_or_else(|| format!("`{v}` is not a hexadecimal value"))?;
            Some(
                u32::try_from(value)
                    .map_err(|_| format!("value {value:#x} does not fit in a 32-bit word"))?,
            )
        }
        Some(v) => return Err(format!("unexpected `{v}`: only `W` lines carry a value")),
    };
    if let Some(extra) = fields.next() {
        return Err(format!("unexpected `{extra}` at the end of the line"));
    }
    Ok(Some(TraceEvent::Access(Access { kind, vaddr: VirtAddr::new(vaddr), value })))
}

impl<R: BufRead> Iterator for NativeReader<R> {
    type Item = Result<TraceEvent, WorkloadError>;

    fn next(&mut self) -> Option<Self::Item> {
        loop {
            self.line.clear();
            match self.reader.read_line(&mut self.line) {
                Ok(0) => return None,
                Ok(_) => {}
                Err(source) => return Some(Err(WorkloadError::Io { origin: self.origin.clone(), source })),
            }
            self.line_no += 1;
            match parse_line(&self.line) {
                Ok(Some(event)) => return Some(Ok(event)),
                Ok(None) => continue,
                Err(message) => return Some(Err(self.error(message))),
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn read_all(text: &str) -> Vec<Result<TraceEvent, String>> {
        NativeReader::new(text.as_bytes(), "t.trace").map(|r| r.map_err(|e| e.to_string())).collect()
    }

    fn access(kind: AccessKind, vaddr: u32, value: Option<u32>) -> Result<TraceEvent, String> {
        Ok(TraceEvent::Access(Access { kind, vaddr: VirtAddr::new(vaddr), value }))
    }

    #[test]
    fn every_line_kind() {
        let text = "# header\n\nR 0x0041f7a0\nW 0x0041f7a4 0xdeadbeef\nW 41f7a8\nX 0x00400000 # fetch\nP 3\n";
        assert_eq!(
            read_all(text),
            vec![
                access(AccessKind::Read, 0x0041_f7a0, None),
                access(AccessKind::Write, 0x0041_f7a4, Some(0xdead_beef)),
                access(AccessKind::Write, 0x0041_f7a8, None),
                access(AccessKind::Fetch, 0x0040_0000, None),
                Ok(TraceEvent::Switch(Pid::new(3))),
            ]
        );
    }

    #[test]
    fn errors_name_the_file_line_and_problem() {
        let cases = [
            ("R 0x10\nQ 0x10\n", "t.trace:2: expected `R`, `W`, `X` or `P`"),
            ("R\n", "t.trace:1: `R` needs a hexadecimal address"),
            ("R 0xzz\n", "t.trace:1: `0xzz` is not a hexadecimal address"),
            ("R 0x1_0000_0000\n", "t.trace:1: `0x1_0000_0000` is not a hexadecimal address"),
            (
                "R 0x100000000\n",
                "t.trace:1: address 0x100000000 does not fit in 32 bits: this looks like a trace of a 64-bit program",
            ),
            ("R 0x10 0x5\n", "t.trace:1: unexpected `0x5`: only `W` lines carry a value"),
            ("W 0x10 0x1ffffffff\n", "t.trace:1: value 0x1ffffffff does not fit"),
            ("P x\n", "t.trace:1: `x` is not a decimal process number"),
            ("W 0x10 0x5 7\n", "t.trace:1: unexpected `7` at the end of the line"),
        ];
        for (text, want) in cases {
            let got = read_all(text).into_iter().find_map(Result::err).unwrap_or_default();
            assert!(got.starts_with(want), "{text:?}: got {got:?}, want {want:?}");
        }
    }
}
