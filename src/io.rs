//! Files: configs read and validated, traces opened and decompressed by
//! extension (`.gz`, `.zst`), standard input as `-`.

use crate::error::RunError;
use cpu_sim::{MachineConfig, WorkloadConfig};
use std::fs::File;
use std::io::{BufRead, BufReader, Read};
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};

/// Reads, parses and validates the config at `path`.
///
/// # Errors
/// The file cannot be read, or the config is malformed or invalid.
pub fn load_config(path: &Path) -> Result<MachineConfig, RunError> {
    let bytes = std::fs::read(path).map_err(|source| RunError::Io { path: path.to_path_buf(), source })?;
    let text = String::from_utf8(bytes).map_err(|e| {
        RunError::Unsupported(format!(
            "{}: a config is RON text, but byte {} is not UTF-8{}",
            path.display(),
            e.utf8_error().valid_up_to(),
            compressed_hint(path)
        ))
    })?;
    cpu_sim::parse_config(&text, &path.display().to_string()).map_err(|e| {
        if looks_like_a_trace(&text) {
            RunError::Unsupported(format!(
                "{e}; this file looks like a trace, not a config: give a config first and the trace with --trace {}",
                path.display()
            ))
        } else {
            RunError::Config(e)
        }
    })
}

/// The trace file a run reads: `--trace` if given, else the config's `Trace` path
/// resolved against the config file's directory; `None` for a synthetic workload.
pub fn trace_path(
    config: &MachineConfig,
    config_path: &Path,
    trace_override: Option<&Path>,
) -> Option<PathBuf> {
    if let Some(path) = trace_override {
        return Some(path.to_path_buf());
    }
    match &config.workload {
        WorkloadConfig::Trace { path, .. } => {
            Some(config_path.parent().unwrap_or_else(|| Path::new(".")).join(path))
        }
        WorkloadConfig::Synthetic(_) | WorkloadConfig::Processes { .. } | WorkloadConfig::Elf { .. } => None,
    }
}

/// The path that means standard input.
pub const STDIN: &str = "-";

/// Opens a trace for reading, decompressing by extension: `.gz` (gzip, several
/// members allowed, as `cat a.gz b.gz` makes) and `.zst`/`.zstd` (zstd). `-` is
/// standard input, read as is. Every byte taken from the file is added to
/// `bytes_read`, for the progress bar. The reader is `Send`, so that a reader
/// thread can decode it (see [`crate::reader_thread`]).
///
/// # Errors
/// The file cannot be opened.
pub fn open_trace(path: &Path, bytes_read: Arc<AtomicU64>) -> Result<Box<dyn Read + Send>, RunError> {
    let io_error = |source| RunError::Io { path: path.to_path_buf(), source };
    if path.as_os_str() == STDIN {
        return Ok(Box::new(Counting { inner: std::io::stdin(), bytes: bytes_read }));
    }
    let file = Counting { inner: File::open(path).map_err(io_error)?, bytes: bytes_read };
    let extension = path.extension().and_then(|e| e.to_str()).unwrap_or("");
    Ok(match extension {
        "gz" => Box::new(GzMembers::new(BufReader::with_capacity(1 << 16, file))),
        "zst" | "zstd" => Box::new(ZstdFrames::Start(BufReader::with_capacity(1 << 17, file))),
        _ => Box::new(file),
    })
}

/// The gzip magic number, the first two bytes of every member.
const GZIP_MAGIC: [u8; 2] = [0x1f, 0x8b];

/// A gzip file of one or more members (`cat a.gz b.gz`), decompressed as it is
/// read. Unlike flate2's `MultiGzDecoder`, which calls anything after a member an
/// "invalid gzip header", it says what is wrong: a file that is not gzip at all,
/// or bytes after the last member that do not start another one.
struct GzMembers<R: BufRead> {
    state: GzState<R>,
}

enum GzState<R: BufRead> {
    /// Between members (or at the start): the next bytes must be a gzip header.
    Between { input: R, members: u64 },
    /// Inside a member.
    Member { decoder: Box<flate2::bufread::GzDecoder<R>>, members: u64 },
    /// The end, or after an error.
    Done,
}

impl<R: BufRead> GzMembers<R> {
    fn new(input: R) -> Self {
        Self { state: GzState::Between { input, members: 0 } }
    }
}

impl<R: BufRead> Read for GzMembers<R> {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        loop {
            match std::mem::replace(&mut self.state, GzState::Done) {
                GzState::Done => return Ok(0),
                GzState::Member { mut decoder, members } => {
                    let n = decoder.read(buf)?;
                    if n > 0 || buf.is_empty() {
                        self.state = GzState::Member { decoder, members };
                        return Ok(n);
                    }
                    self.state = GzState::Between { input: decoder.into_inner(), members };
                }
                GzState::Between { mut input, members } => {
                    // Peek, without consuming, at the next bytes: a new member's
                    // header, the end, or something else. (When only one byte is
                    // buffered, the decoder checks the second.)
                    let available = input.fill_buf()?;
                    let head = &available[..available.len().min(2)];
                    if head.is_empty() {
                        return if members == 0 { Err(not_gzip("the file is empty")) } else { Ok(0) };
                    }
                    if head != &GZIP_MAGIC[..head.len()] {
                        return Err(if members == 0 {
                            not_gzip("it does not start with the gzip magic bytes 1f 8b")
                        } else {
                            std::io::Error::new(
                                std::io::ErrorKind::InvalidData,
                                format!(
                                    "trailing data after the gzip stream (after {members} member(s)): \
                                     the bytes that follow are not another gzip member"
                                ),
                            )
                        });
                    }
                    self.state = GzState::Member {
                        decoder: Box::new(flate2::bufread::GzDecoder::new(input)),
                        members: members + 1,
                    };
                }
            }
        }
    }
}

/// A zstd file, decompressed as it is read, after a check that it starts like
/// zstd data (a frame's magic number, or a skippable frame's): anything else
/// named `.zst` is refused with a message that says so, as a `.gz` one is,
/// rather than zstd's own "Unknown frame descriptor".
enum ZstdFrames<R: BufRead> {
    /// Nothing read yet.
    Start(R),
    /// Decompressing.
    Frames(zstd::Decoder<'static, R>),
    /// After an error.
    Done,
}

impl<R: BufRead> Read for ZstdFrames<R> {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        match std::mem::replace(self, ZstdFrames::Done) {
            ZstdFrames::Frames(mut decoder) => {
                let n = decoder.read(buf);
                *self = ZstdFrames::Frames(decoder);
                n
            }
            ZstdFrames::Done => Ok(0),
            ZstdFrames::Start(mut input) => {
                // A frame starts with 28 b5 2f fd, a skippable frame with 5? 2a 4d 18.
                let available = input.fill_buf()?;
                let head = &available[..available.len().min(4)];
                let skippable = |h: &[u8]| h[0] & 0xf0 == 0x50 && h[1..] == [0x2a, 0x4d, 0x18][..h.len() - 1];
                if head.is_empty() {
                    return Err(not_zstd("the file is empty"));
                }
                if head != &[0x28, 0xb5, 0x2f, 0xfd][..head.len()] && !skippable(head) {
                    return Err(not_zstd("it does not start with the zstd magic bytes 28 b5 2f fd"));
                }
                let mut decoder = zstd::Decoder::with_buffer(input)?;
                let n = decoder.read(buf);
                *self = ZstdFrames::Frames(decoder);
                n
            }
        }
    }
}

fn not_zstd(why: &str) -> std::io::Error {
    std::io::Error::new(
        std::io::ErrorKind::InvalidData,
        format!("not zstd data ({why}), though the name ends in `.zst`: rename it or compress it"),
    )
}

fn not_gzip(why: &str) -> std::io::Error {
    std::io::Error::new(
        std::io::ErrorKind::InvalidData,
        format!("not gzip data ({why}), though the name ends in `.gz`: rename it or compress it"),
    )
}

/// A reader that counts the bytes it hands out.
struct Counting<R> {
    inner: R,
    bytes: Arc<AtomicU64>,
}

impl<R: Read> Read for Counting<R> {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        let n = self.inner.read(buf)?;
        self.bytes.fetch_add(n as u64, Ordering::Relaxed);
        Ok(n)
    }
}

/// Whether `text` starts like a trace of one of the formats the readers know
/// (its first line that is not blank or a comment).
fn looks_like_a_trace(text: &str) -> bool {
    let Some(line) =
        text.lines().map(str::trim).find(|l| !l.is_empty() && !l.starts_with('#') && !l.starts_with("//"))
    else {
        return false;
    };
    let mut words = line.split(|c: char| c.is_whitespace() || c == ',');
    let (first, second) = (words.next().unwrap_or(""), words.next().unwrap_or(""));
    let hex = |w: &str| {
        let w = w.strip_prefix("0x").unwrap_or(w);
        !w.is_empty() && w.chars().all(|c| c.is_ascii_hexdigit())
    };
    matches!(first, "R" | "W" | "X" | "P" | "I" | "L" | "S" | "M" | "0" | "1" | "2" | "3" | "4")
        && hex(second)
        || hex(first) && matches!(second, "R" | "W")
}

/// A hint for a config file that looks compressed.
fn compressed_hint(path: &Path) -> &'static str {
    match path.extension().and_then(|e| e.to_str()) {
        Some("gz" | "zst" | "zstd") => " (it looks compressed: a config is read as plain text)",
        _ => "",
    }
}

/// Refuses, before a run, an output file that is the trace it reads: writing
/// it would truncate the input before or while it is read. `trace` is the
/// trace file ([`trace_path`]), `None` for a synthetic workload; `outputs` are
/// the output flags and their paths. Standard input (`-`) and a path that does
/// not exist yet cannot be the trace.
///
/// # Errors
/// `Unsupported` (exit 2), naming the flag and the path.
pub fn refuse_outputs_over_trace(
    trace: Option<&Path>,
    trace_flag: bool,
    outputs: &[(&str, Option<&Path>)],
) -> Result<(), RunError> {
    let Some(trace) = trace.filter(|t| *t != Path::new(STDIN)) else { return Ok(()) };
    for (flag, output) in outputs {
        let Some(output) = output else { continue };
        if same_file(trace, output) {
            let input = if trace_flag {
                "the --trace file".to_string()
            } else {
                format!("the config's trace ({})", trace.display())
            };
            return Err(RunError::Unsupported(format!(
                "{flag} {} is {input}: the run would overwrite its own input",
                output.display()
            )));
        }
    }
    Ok(())
}

/// Whether `a` and `b` both exist and are the same file (the same device and
/// inode, through any links), however they are spelt.
fn same_file(a: &Path, b: &Path) -> bool {
    let (Ok(a_meta), Ok(b_meta)) = (std::fs::metadata(a), std::fs::metadata(b)) else { return false };
    #[cfg(unix)]
    {
        use std::os::unix::fs::MetadataExt as _;
        a_meta.dev() == b_meta.dev() && a_meta.ino() == b_meta.ino()
    }
    #[cfg(not(unix))]
    {
        let _ = (a_meta, b_meta);
        matches!((std::fs::canonicalize(a), std::fs::canonicalize(b)), (Ok(x), Ok(y)) if x == y)
    }
}
