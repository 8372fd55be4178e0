//! The file of `run --log --log-file`: opened before the run, so that a path
//! that cannot be written is refused at once (exit 2) and not after the run,
//! but changed only once the run goes ahead, so that a run refused before it
//! starts (an RV32 program, a missing trace) leaves no file of its own and an
//! existing one as it was.

use std::fs::{File, OpenOptions};
use std::io::Write;
use std::path::{Path, PathBuf};

/// A log file, emptied at its first write or flush (not when opened).
#[derive(Debug)]
pub struct LogFile {
    file: File,
    emptied: bool,
}

impl LogFile {
    /// Opens `path` for writing, creating it (through a symbolic link, as
    /// `File::create` does) when it does not exist; returns the file and, when
    /// this opening created it, the path to remove if the run is refused.
    ///
    /// # Errors
    /// The file cannot be opened or created.
    pub fn open(path: &Path) -> std::io::Result<(LogFile, Option<PathBuf>)> {
        let existed = path.exists();
        // Not truncated here: emptied at the first write, once the run goes ahead.
        let file = OpenOptions::new().write(true).create(true).truncate(false).open(path)?;
        // The file itself: removing a link would leave the file it names.
        let created = (!existed).then(|| std::fs::canonicalize(path).unwrap_or_else(|_| path.to_path_buf()));
        Ok((LogFile { file, emptied: !existed }, created))
    }

    /// Empties a regular file before its first bytes (a device or a pipe,
    /// such as `/dev/stderr`, cannot be and need not be).
    fn empty(&mut self) -> std::io::Result<()> {
        if !self.emptied {
            if self.file.metadata()?.is_file() {
                self.file.set_len(0)?;
            }
            self.emptied = true;
        }
        Ok(())
    }
}

impl Write for LogFile {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.empty()?;
        self.file.write(buf)
    }

    /// Empties the file if nothing was written, so that a run that went ahead
    /// and logged nothing leaves it empty, not holding an earlier run's log.
    fn flush(&mut self) -> std::io::Result<()> {
        self.empty()?;
        self.file.flush()
    }
}
