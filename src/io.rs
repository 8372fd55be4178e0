//! Files: configs read and validated, traces opened and decompressed by
//! extension (`.gz`, `.zst`), standard input as `-`.

use crate::error::RunError;
use cpu_sim::{MachineConfig, WorkloadConfig};
use std::cell::Cell;
use std::fs::File;
use std::io::{BufReader, Read};
use std::path::{Path, PathBuf};
use std::rc::Rc;

/// Reads, parses and validates the config at `path`.
///
/// # Errors
/// The file cannot be read, or the config is malformed or invalid.
pub fn load_config(path: &Path) -> Result<MachineConfig, RunError> {
    let text =
        std::fs::read_to_string(path).map_err(|source| RunError::Io { path: path.to_path_buf(), source })?;
    Ok(cpu_sim::parse_config(&text, &path.display().to_string())?)
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
/// `bytes_read`, for the progress bar.
///
/// # Errors
/// The file cannot be opened, or a zstd stream cannot be set up.
pub fn open_trace(path: &Path, bytes_read: Rc<Cell<u64>>) -> Result<Box<dyn Read>, RunError> {
    let io_error = |source| RunError::Io { path: path.to_path_buf(), source };
    if path.as_os_str() == STDIN {
        return Ok(Box::new(Counting { inner: std::io::stdin().lock(), bytes: bytes_read }));
    }
    let file = Counting { inner: File::open(path).map_err(io_error)?, bytes: bytes_read };
    let extension = path.extension().and_then(|e| e.to_str()).unwrap_or("");
    Ok(match extension {
        "gz" => Box::new(flate2::read::MultiGzDecoder::new(BufReader::with_capacity(1 << 16, file))),
        "zst" | "zstd" => Box::new(zstd::Decoder::new(file).map_err(io_error)?),
        _ => Box::new(file),
    })
}

/// A reader that counts the bytes it hands out.
struct Counting<R> {
    inner: R,
    bytes: Rc<Cell<u64>>,
}

impl<R: Read> Read for Counting<R> {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        let n = self.inner.read(buf)?;
        self.bytes.set(self.bytes.get() + n as u64);
        Ok(n)
    }
}
