//! `mmu-sim convert IN OUT`: a trace in any format the readers know, written in
//! the binary format (the default) or as native text, compressed by OUT's
//! extension (`.zst`/`.zstd`: zstd, `.gz`: gzip).
//!
//! What a conversion keeps: every event as the reader gives it (lackey's wide
//! accesses already split into words, din's and course's byte addresses already
//! taken as their words), so a run of OUT replays exactly the accesses of a run
//! of IN read the same way. What it does not keep: comments, blank lines, and the
//! per-line counters of the source (`trace.lines`, `trace.unaligned_records` of
//! split records), which describe the file and not the accesses.

use crate::error::RunError;
use crate::io::open_trace;
use crate::reader_thread::BATCH_EVENTS;
use cpu_sim::{SimError, TraceEvent, TraceFormat, TraceReader, TraceStats, Unaligned};
use mmu_core::AccessKind;
use std::fs::File;
use std::io::{BufWriter, Write};
use std::path::{Path, PathBuf};
use std::sync::atomic::AtomicU64;
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};
use workload::BinaryWriter;

/// The format `convert` writes.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum ConvertTo {
    /// The binary format (see `workload::binary`): 4 bytes per plain access.
    #[default]
    Binary,
    /// Native text, one line per event, as `mmu-sim generate` writes it.
    Native,
}

/// How to read the input of a conversion.
#[derive(Clone, Copy, Debug, Default)]
pub struct ConvertOptions {
    /// The output format.
    pub to: ConvertTo,
    /// The input's format; `Auto` detects it.
    pub format: TraceFormat,
    /// Skip (and count) lines that do not parse instead of stopping.
    pub skip_bad_lines: bool,
    /// What to do with unaligned native addresses: keep them (`Fault`, so that
    /// a run of OUT counts the same alignment faults) or round them down.
    pub unaligned: Unaligned,
}

/// What a conversion read and wrote.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Converted {
    /// The input reader's statistics (its format as detected).
    pub stats: TraceStats,
    /// Events written (accesses and process switches).
    pub events: u64,
    /// The first bad line skipped, as `path:line: message`.
    pub first_bad_line: Option<String>,
    /// Binary output only: whether plain write records carry their value (the
    /// header's store-values flag, chosen from the first batch of events).
    pub store_values: bool,
}

/// The output file, compressed by its extension, or standard output.
enum Output {
    /// The process's standard output, written where it stands (an append-mode
    /// file keeps what it held; a socket works): never reopened by a path.
    Stdout(BufWriter<std::io::StdoutLock<'static>>),
    Plain(BufWriter<File>),
    Zstd(zstd::Encoder<'static, BufWriter<File>>),
    Gzip(flate2::write::GzEncoder<BufWriter<File>>),
}

impl Output {
    /// Standard output for `Sink::Stdout`, else `file` created (truncated)
    /// and compressed by `path`'s extension.
    fn create(path: &Path, sink: &Sink) -> std::io::Result<Output> {
        let file = match sink {
            Sink::Stdout => {
                return Ok(Output::Stdout(BufWriter::with_capacity(1 << 16, std::io::stdout().lock())));
            }
            Sink::File(file) => file,
        };
        let file = BufWriter::with_capacity(1 << 16, File::create(file)?);
        Ok(match path.extension().and_then(|e| e.to_str()) {
            Some("zst" | "zstd") => Output::Zstd(zstd::Encoder::new(file, zstd::DEFAULT_COMPRESSION_LEVEL)?),
            Some("gz") => Output::Gzip(flate2::write::GzEncoder::new(file, flate2::Compression::default())),
            _ => Output::Plain(file),
        })
    }

    /// Ends the stream; `sync` (a regular file about to be renamed into place)
    /// also waits for the data to reach the disk. A device or a pipe is not
    /// synced (`/dev/null` refuses `fsync`).
    fn finish(self, sync: bool) -> std::io::Result<()> {
        let mut file = match self {
            Output::Stdout(mut out) => return out.flush(),
            Output::Plain(file) => file,
            Output::Zstd(encoder) => encoder.finish()?,
            Output::Gzip(encoder) => encoder.finish()?,
        };
        file.flush()?;
        let file = file.into_inner().map_err(std::io::IntoInnerError::into_error)?;
        if sync { file.sync_all() } else { Ok(()) }
    }
}

impl Write for Output {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        match self {
            Output::Stdout(w) => w.write(buf),
            Output::Plain(w) => w.write(buf),
            Output::Zstd(w) => w.write(buf),
            Output::Gzip(w) => w.write(buf),
        }
    }
    fn flush(&mut self) -> std::io::Result<()> {
        match self {
            Output::Stdout(w) => w.flush(),
            Output::Plain(w) => w.flush(),
            Output::Zstd(w) => w.flush(),
            Output::Gzip(w) => w.flush(),
        }
    }
}

/// Converts the trace `input` (`-`: standard input) into `output` (`-`:
/// standard output, uncompressed), overwriting it. The output is written to a
/// temporary file beside it and renamed into place at the end, so that a failed
/// conversion leaves OUT as it was (and IN may be OUT); an OUT replaced keeps
/// its permissions; a symbolic link is
/// followed (the file it names is replaced or, for a dangling link, created;
/// the link is kept). An OUT that exists and is not a regular file or a
/// directory (`/dev/null`, `/dev/full`, a named pipe) is written in place:
/// renaming over it would replace the device or the pipe with a file. A
/// directory is refused before the input is opened.
///
/// A binary that converts should call [`exit_on_signals`] first, so that an
/// interrupted conversion leaves no temporary file.
///
/// # Errors
/// The input cannot be opened or OUT is a directory (`Io`, exit 2), the input
/// cannot be read (`Sim`: a bad line, a corrupt binary record, a read error;
/// exit 1), the output cannot be written (`Output`, exit 1), or standard
/// output's reader stopped early (`StdoutClosed`, exit 0).
pub fn convert(input: &Path, output: &Path, options: &ConvertOptions) -> Result<Converted, RunError> {
    let destination = destination(output)?;
    let source = open_trace(input, Arc::new(AtomicU64::new(0)))?;
    let mut reader = TraceReader::new(source, input.display().to_string(), options.format)
        .skip_bad_lines(options.skip_bad_lines)
        .unaligned(options.unaligned);
    let (events, store_values) = match destination {
        Destination::Stdout => write_all(&mut reader, output, &Sink::Stdout, options.to, false)?,
        Destination::InPlace(file) => write_all(&mut reader, output, &Sink::File(file), options.to, false)?,
        Destination::Replace(target) => {
            let temp = Partial::new(temporary_path(&target));
            let written = write_all(&mut reader, output, &Sink::File(temp.path.clone()), options.to, true)?;
            let out_error =
                |e: std::io::Error| RunError::Output { path: output.to_path_buf(), message: e.to_string() };
            // A file replaced keeps its permissions (a new one gets the umask's).
            if let Ok(meta) = std::fs::metadata(&target) {
                std::fs::set_permissions(&temp.path, meta.permissions()).map_err(out_error)?;
            }
            temp.rename_to(&target).map_err(out_error)?;
            written
        }
    };
    Ok(Converted {
        stats: reader.stats().clone(),
        events,
        first_bad_line: reader.first_bad_line().map(ToString::to_string),
        store_values,
    })
}

/// Where a conversion writes.
enum Destination {
    /// Standard output (`-`), written as it goes.
    Stdout,
    /// This file, written as it goes: a device, a named pipe.
    InPlace(PathBuf),
    /// This regular file, replaced at the end by a temporary file beside it.
    Replace(PathBuf),
}

/// Where `output` is written, decided before the input is read, so that an
/// OUT that cannot be one is refused at once.
fn destination(output: &Path) -> Result<Destination, RunError> {
    if output == Path::new("-") {
        // Standard output, written as it goes (uncompressed: `-` has no extension).
        return Ok(Destination::Stdout);
    }
    let out_error = |message: String| RunError::Output { path: output.to_path_buf(), message };
    match std::fs::metadata(output) {
        Ok(meta) if meta.is_dir() => Err(RunError::Io {
            path: output.to_path_buf(),
            source: std::io::Error::new(
                std::io::ErrorKind::IsADirectory,
                "OUT is a directory: name the file to write",
            ),
        }),
        Ok(meta) if !meta.is_file() => Ok(Destination::InPlace(output.to_path_buf())),
        // A link to a regular file: the temporary file goes beside the file it
        // names, which the rename then replaces.
        Ok(_) if output.is_symlink() => {
            std::fs::canonicalize(output).map(Destination::Replace).map_err(|e| out_error(e.to_string()))
        }
        Ok(_) => Ok(Destination::Replace(output.to_path_buf())),
        // A dangling link: the file it names is created (renaming over the link
        // would replace it with a file).
        Err(_) if output.is_symlink() => link_end(output).map(Destination::Replace).map_err(out_error),
        // Missing: created. Any other error is met creating the temporary file.
        Err(_) => Ok(Destination::Replace(output.to_path_buf())),
    }
}

/// The path at the end of the chain of symbolic links that starts at `link`,
/// each link's target taken relative to the link's directory (as the system
/// resolves it); at most 40 links, the system's own limit.
fn link_end(link: &Path) -> Result<PathBuf, String> {
    let mut path = link.to_path_buf();
    for _ in 0..40 {
        match std::fs::symlink_metadata(&path) {
            Ok(meta) if meta.file_type().is_symlink() => {
                let target = std::fs::read_link(&path).map_err(|e| e.to_string())?;
                path = path.parent().map_or_else(|| target.clone(), |dir| dir.join(&target));
            }
            _ => return Ok(path),
        }
    }
    Err("too many levels of symbolic links".into())
}

/// `.NAME.partial-PID` beside `output`.
fn temporary_path(output: &Path) -> PathBuf {
    let name = output.file_name().map_or_else(|| "trace".into(), |n| n.to_string_lossy().into_owned());
    output.with_file_name(format!(".{name}.partial-{}", std::process::id()))
}

/// The temporary files of the conversions under way, for [`exit_interrupted`].
static PARTIALS: Mutex<Vec<PathBuf>> = Mutex::new(Vec::new());

fn partials() -> MutexGuard<'static, Vec<PathBuf>> {
    // The list stays valid whatever a panicking holder did: it only pushes and retains.
    PARTIALS.lock().unwrap_or_else(PoisonError::into_inner)
}

/// A temporary file of a conversion, listed for [`exit_interrupted`] from
/// before it is created until it is renamed into place; removed when dropped
/// before that (a failed conversion).
struct Partial {
    path: PathBuf,
}

impl Partial {
    fn new(path: PathBuf) -> Self {
        partials().push(path.clone());
        Self { path }
    }

    /// Renames the file to `target`, under the list's lock, so that an
    /// interrupt either removes it first or finds it already in place.
    fn rename_to(self, target: &Path) -> std::io::Result<()> {
        let mut list = partials();
        let renamed = std::fs::rename(&self.path, target);
        if renamed.is_ok() {
            list.retain(|p| *p != self.path);
        }
        drop(list);
        renamed
    }
}

impl Drop for Partial {
    fn drop(&mut self) {
        let mut list = partials();
        if let Some(at) = list.iter().position(|p| *p == self.path) {
            list.swap_remove(at);
            let _ = std::fs::remove_file(&self.path);
        }
    }
}

/// Removes the temporary file of every conversion under way and exits with
/// status 128 + `signal`, the shell's code for a command that a signal ended
/// (SIGINT 130, SIGTERM 143, SIGHUP 129): what [`exit_on_signals`] does on a
/// signal. The list stays locked until the exit, so that no conversion renames
/// its file into place between.
pub fn exit_interrupted(signal: i32) -> ! {
    let list = partials();
    for path in list.iter() {
        let _ = std::fs::remove_file(path);
    }
    std::process::exit(signal.saturating_add(128))
}

/// From now until the process exits, SIGINT, SIGTERM and SIGHUP call
/// [`exit_interrupted`] with their number, on a thread of its own (their
/// default action would end the process and leave `.OUT.partial-PID`).
///
/// # Errors
/// The handlers or their thread cannot be set up; the signals then keep their
/// default action. On a system without Unix signals, always (`Unsupported`).
#[cfg(unix)]
pub fn exit_on_signals() -> std::io::Result<()> {
    use signal_hook::consts::{SIGHUP, SIGINT, SIGTERM};
    let mut signals = signal_hook::iterator::Signals::new([SIGINT, SIGTERM, SIGHUP])?;
    std::thread::Builder::new().name("convert-signals".into()).spawn(move || {
        if let Some(signal) = signals.forever().next() {
            exit_interrupted(signal);
        }
    })?;
    Ok(())
}

/// See the Unix version: without Unix signals, nothing is handled.
///
/// # Errors
/// Always (`Unsupported`).
#[cfg(not(unix))]
pub fn exit_on_signals() -> std::io::Result<()> {
    Err(std::io::Error::new(std::io::ErrorKind::Unsupported, "no signal handling on this system"))
}

/// What [`write_all`] writes to.
enum Sink {
    /// The process's standard output.
    Stdout,
    /// This file (a temporary file beside OUT, or OUT itself), created.
    File(PathBuf),
}

/// Reads every event and writes it to `sink`, syncing it at the end when
/// `sync`; returns the events written and the binary header's store-values flag.
fn write_all(
    reader: &mut TraceReader<Box<dyn std::io::Read + Send>>,
    output: &Path,
    sink: &Sink,
    to: ConvertTo,
    sync: bool,
) -> Result<(u64, bool), RunError> {
    let out_error = |e: std::io::Error| match sink {
        Sink::Stdout if e.kind() == std::io::ErrorKind::BrokenPipe => RunError::StdoutClosed,
        Sink::Stdout | Sink::File(_) => {
            RunError::Output { path: output.to_path_buf(), message: e.to_string() }
        }
    };
    let read_error = |e| RunError::Sim(SimError::from(e));
    let mut out = Output::create(output, sink).map_err(out_error)?;
    let mut batch = Vec::with_capacity(BATCH_EVENTS);
    let mut more = reader.fill(&mut batch, BATCH_EVENTS).map_err(read_error)?;
    let mut events = 0u64;
    let store_values = match to {
        ConvertTo::Binary => {
            // Plain write records carry a value when most of the first batch's writes have one.
            let valued = batch
                .iter()
                .filter(|e| matches!(e, TraceEvent::Access(a) if a.kind == AccessKind::Write && a.value.is_some()))
                .count();
            let writes = batch
                .iter()
                .filter(|e| matches!(e, TraceEvent::Access(a) if a.kind == AccessKind::Write))
                .count();
            let store_values = 2 * valued > writes;
            let mut writer = BinaryWriter::new(&mut out, store_values).map_err(out_error)?;
            loop {
                for event in &batch {
                    writer.write(event).map_err(out_error)?;
                }
                events += batch.len() as u64;
                if !more {
                    break;
                }
                batch.clear();
                more = reader.fill(&mut batch, BATCH_EVENTS).map_err(read_error)?;
            }
            writer.finish().map_err(out_error)?;
            store_values
        }
        ConvertTo::Native => {
            let mut text = Vec::with_capacity(BATCH_EVENTS * 24);
            loop {
                text.clear();
                for event in &batch {
                    workload::write_native(event, &mut text);
                }
                out.write_all(&text).map_err(out_error)?;
                events += batch.len() as u64;
                if !more {
                    break;
                }
                batch.clear();
                more = reader.fill(&mut batch, BATCH_EVENTS).map_err(read_error)?;
            }
            false
        }
    };
    out.finish(sync).map_err(out_error)?;
    Ok((events, store_values))
}
