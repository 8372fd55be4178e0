//! The reader thread: a trace decoded on a second thread, in batches, while the
//! simulating thread replays the batches before it, so that a run costs about
//! the larger of parsing and simulating on two cores rather than their sum.
//!
//! Batches of [`BATCH_EVENTS`] events travel through a bounded channel, and their
//! buffers come back through another: after the first [`BATCHES_IN_FLIGHT`]
//! batches, nothing is allocated. The events, their order, the errors and the
//! reader's statistics are exactly those of the same reader on one thread: a
//! batch ends at the first error, and when the run will stop after a known
//! number of accesses (`--max`) the thread stops reading at that access, where
//! the run on one thread stops calling the reader.
//!
//! The same batches can be decoded on the simulating thread
//! ([`BatchedReader::inline`], `--reader-threads 1`): the run then steps
//! through a decoded batch as it does through a handed-over one, rather than
//! taking each event from the reader as it is decoded (whose narrow stores,
//! read back at once as one 16-byte event, stall the load); those batches are
//! smaller ([`INLINE_BATCH_EVENTS`]), since no thread is woken for each.

use cpu_sim::{TraceEvent, TraceReader, TraceStats, WorkloadError};
use std::io::Read;
use std::sync::mpsc::{Receiver, SyncSender, sync_channel};
use std::thread::JoinHandle;

/// Events per batch: big enough that the channel costs nothing per event (a
/// handoff wakes the other thread, which in a virtual machine costs
/// microseconds: with 4096-event batches the kernel's wake-ups were a fifth of
/// a binary-trace run's time, with these a fourteenth), small enough that a
/// batch (16 bytes an event, 256 KiB) stays in the L2 cache between the cores.
pub const BATCH_EVENTS: usize = 16384;

/// Events per batch decoded on the simulating thread (`--reader-threads 1`):
/// no thread is woken per batch, so a batch can be small enough (16 bytes an
/// event, 64 KiB) to be replayed from the L1/L2 caches right after decoding.
pub const INLINE_BATCH_EVENTS: usize = 4096;

/// Batches decoded ahead of the simulation, at most.
pub const BATCHES_IN_FLIGHT: usize = 4;

/// One batch: events, then possibly the error that ended the reading.
struct Batch {
    events: Vec<TraceEvent>,
    error: Option<WorkloadError>,
    /// No batch follows.
    last: bool,
}

/// What the reader saw, handed back when the thread ends.
#[derive(Debug)]
pub struct ReaderEnd {
    /// The reader's statistics.
    pub stats: TraceStats,
    /// The first bad line skipped, as `path:line: message`.
    pub first_bad_line: Option<String>,
}

/// The events of a trace decoded in batches, on a reader thread or on this
/// one, given one at a time (or a batch at a time) as the reader itself would
/// give them.
pub struct BatchedReader {
    batch: Vec<TraceEvent>,
    at: usize,
    error: Option<WorkloadError>,
    last: bool,
    full: Option<Receiver<Batch>>,
    empty: Option<SyncSender<Vec<TraceEvent>>>,
    thread: Option<JoinHandle<ReaderEnd>>,
    /// The reader, when the batches are decoded on this thread.
    inline: Option<Box<Inline>>,
}

/// A reader decoding batches on the simulating thread.
struct Inline {
    reader: TraceReader<Box<dyn Read + Send>>,
    /// Accesses still to read, when the run stops after a known number.
    left: Option<u64>,
}

/// Decodes the next batch of `reader` into `events` (emptied first): at most
/// `batch` events, and no access past the `left` the run will make
/// (counted down). Returns the error that ended the batch, if any, and
/// whether no batch follows.
fn read_batch<R: Read>(
    reader: &mut TraceReader<R>,
    events: &mut Vec<TraceEvent>,
    left: &mut Option<u64>,
    batch: usize,
) -> (Option<WorkloadError>, bool) {
    events.clear();
    let limit = left.map_or(batch, |l| usize::try_from(l).map_or(batch, |l| l.min(batch)));
    let result = reader.fill(events, limit);
    if let Some(l) = left {
        let done = events.iter().filter(|e| matches!(e, TraceEvent::Access(_))).count();
        *l -= done as u64;
    }
    match result {
        Ok(more) => (None, !more || *left == Some(0)),
        Err(error) => (Some(error), true),
    }
}

impl BatchedReader {
    /// Starts decoding `reader` on a new thread. With `accesses`, the thread
    /// stops after that many accesses (the run then ends there: `skip + warmup +
    /// max`), so that the reader's statistics are those of a run on one thread.
    ///
    /// # Errors
    /// The thread could not be started.
    pub fn spawn<R: Read + Send + 'static>(
        mut reader: TraceReader<R>,
        accesses: Option<u64>,
    ) -> std::io::Result<Self> {
        let (full_tx, full_rx) = sync_channel::<Batch>(BATCHES_IN_FLIGHT);
        let (empty_tx, empty_rx) = sync_channel::<Vec<TraceEvent>>(BATCHES_IN_FLIGHT + 1);
        for _ in 0..BATCHES_IN_FLIGHT {
            // Cannot fail: the channel has room for every buffer and its receiver lives.
            let _ = empty_tx.send(Vec::with_capacity(BATCH_EVENTS));
        }
        let thread = std::thread::Builder::new().name("trace reader".into()).spawn(move || {
            let mut left = accesses;
            while let Ok(mut events) = empty_rx.recv() {
                let (error, last) = read_batch(&mut reader, &mut events, &mut left, BATCH_EVENTS);
                if full_tx.send(Batch { events, error, last }).is_err() || last {
                    break;
                }
            }
            ReaderEnd {
                stats: reader.stats().clone(),
                first_bad_line: reader.first_bad_line().map(ToString::to_string),
            }
        })?;
        Ok(Self {
            batch: Vec::new(),
            at: 0,
            error: None,
            last: false,
            full: Some(full_rx),
            empty: Some(empty_tx),
            thread: Some(thread),
            inline: None,
        })
    }

    /// The events of `reader` decoded in batches on this thread, as
    /// [`BatchedReader::spawn`] decodes them on another: the same events,
    /// errors and statistics, and no reading past `accesses` accesses.
    pub fn inline(reader: TraceReader<Box<dyn Read + Send>>, accesses: Option<u64>) -> Self {
        Self {
            batch: Vec::with_capacity(INLINE_BATCH_EVENTS),
            at: 0,
            error: None,
            last: false,
            full: None,
            empty: None,
            thread: None,
            inline: Some(Box::new(Inline { reader, left: accesses })),
        }
    }

    /// Takes the next batch, handing the spent one back; `None` at the end.
    #[cold]
    fn next_batch(&mut self) -> Option<Result<TraceEvent, WorkloadError>> {
        loop {
            if let Some(error) = self.error.take() {
                return Some(Err(error));
            }
            if self.last {
                return None;
            }
            if let Some(inline) = &mut self.inline {
                let (error, last) =
                    read_batch(&mut inline.reader, &mut self.batch, &mut inline.left, INLINE_BATCH_EVENTS);
                self.at = 0;
                self.error = error;
                self.last = last;
                if let Some(&event) = self.batch.first() {
                    self.at = 1;
                    return Some(Ok(event));
                }
                continue;
            }
            let spent = std::mem::take(&mut self.batch);
            if let Some(empty) = &self.empty {
                // The thread may have ended already: then the buffer is dropped.
                let _ = empty.send(spent);
            }
            let Some(batch) = self.full.as_ref().and_then(|full| full.recv().ok()) else {
                // The thread ended without saying so: it panicked.
                self.last = true;
                return Some(Err(WorkloadError::Io {
                    origin: "trace reader thread".into(),
                    source: std::io::Error::other("the reader thread stopped unexpectedly"),
                }));
            };
            self.batch = batch.events;
            self.at = 0;
            self.error = batch.error;
            self.last = batch.last;
            if let Some(&event) = self.batch.first() {
                self.at = 1;
                return Some(Ok(event));
            }
        }
    }

    /// The events of the batch at hand not taken yet, taken now (what `next`
    /// would give one by one before it takes the next batch).
    #[inline(always)]
    pub fn take_ready(&mut self) -> &[TraceEvent] {
        let from = self.at.min(self.batch.len());
        self.at = self.batch.len();
        &self.batch[from..]
    }

    /// Stops the thread (if it is still reading) and returns what its reader saw.
    pub fn end(mut self) -> ReaderEnd {
        // Dropping both channel ends wakes a thread blocked on either.
        self.full = None;
        self.empty = None;
        if let Some(inline) = self.inline.take() {
            return ReaderEnd {
                stats: inline.reader.stats().clone(),
                first_bad_line: inline.reader.first_bad_line().map(ToString::to_string),
            };
        }
        match self.thread.take().map(JoinHandle::join) {
            Some(Ok(end)) => end,
            Some(Err(_)) | None => ReaderEnd { stats: TraceStats::default(), first_bad_line: None },
        }
    }
}

impl Iterator for BatchedReader {
    type Item = Result<TraceEvent, WorkloadError>;

    #[inline(always)]
    fn next(&mut self) -> Option<Self::Item> {
        if let Some(&event) = self.batch.get(self.at) {
            self.at += 1;
            return Some(Ok(event));
        }
        self.next_batch()
    }
}

impl Drop for BatchedReader {
    fn drop(&mut self) {
        self.full = None;
        self.empty = None;
        if let Some(thread) = self.thread.take() {
            let _ = thread.join();
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use cpu_sim::TraceFormat;

    fn text(lines: u32) -> Vec<u8> {
        let mut t = Vec::new();
        for i in 0..lines {
            if i % 1000 == 7 {
                t.extend_from_slice(b"# a comment\nP 1\n");
            }
            t.extend_from_slice(format!("{} 0x{:08x}\n", ["R", "W", "X"][i as usize % 3], i * 4).as_bytes());
        }
        t
    }

    /// `data` read by a reader thread and in batches on this thread.
    fn readers(data: &[u8], accesses: Option<u64>) -> [BatchedReader; 2] {
        let reader = || TraceReader::new(std::io::Cursor::new(data.to_vec()), "t", TraceFormat::Auto);
        let boxed: TraceReader<Box<dyn Read + Send>> =
            TraceReader::new(Box::new(std::io::Cursor::new(data.to_vec())), "t", TraceFormat::Auto);
        [BatchedReader::spawn(reader(), accesses).unwrap(), BatchedReader::inline(boxed, accesses)]
    }

    #[test]
    fn the_same_events_and_statistics_as_one_thread() {
        let data = text(3 * BATCH_EVENTS as u32 + 17);
        let direct: Vec<_> =
            TraceReader::new(&data[..], "t", TraceFormat::Auto).map(Result::unwrap).collect();
        let mut direct_reader = TraceReader::new(&data[..], "t", TraceFormat::Auto);
        direct_reader.by_ref().for_each(drop);
        for mut threaded in readers(&data, None) {
            let got: Vec<_> = threaded.by_ref().map(Result::unwrap).collect();
            assert!(got == direct);
            assert_eq!(threaded.end().stats, *direct_reader.stats());
        }
    }

    #[test]
    fn batches_taken_whole_give_the_same_events_in_the_same_order() {
        let data = text(3 * BATCH_EVENTS as u32 + 17);
        let direct: Vec<_> =
            TraceReader::new(&data[..], "t", TraceFormat::Auto).map(Result::unwrap).collect();
        for mut threaded in readers(&data, None) {
            // As the run takes them: what is ready as a slice, else one event by `next`.
            let mut got = Vec::new();
            let mut slices = 0;
            loop {
                let ready = threaded.take_ready();
                if !ready.is_empty() {
                    got.extend_from_slice(ready);
                    slices += 1;
                    continue;
                }
                match threaded.next() {
                    Some(event) => got.push(event.unwrap()),
                    None => break,
                }
            }
            assert!(got == direct);
            assert!(slices >= 3, "whole batches were taken as slices ({slices})");
            assert!(threaded.take_ready().is_empty());
        }
    }

    #[test]
    fn an_access_limit_stops_where_one_thread_stops() {
        let data = text(3 * BATCH_EVENTS as u32);
        for limit in [1, 999, 1000, 4096, 5000] {
            // One thread: the run stops calling the reader after `limit` accesses.
            let mut direct = TraceReader::new(&data[..], "t", TraceFormat::Auto);
            let mut seen = 0;
            let mut events = Vec::new();
            for e in direct.by_ref() {
                let e = e.unwrap();
                events.push(e);
                seen += u64::from(matches!(e, TraceEvent::Access(_)));
                if seen == limit {
                    break;
                }
            }
            for mut threaded in readers(&data, Some(limit)) {
                let got: Vec<_> = threaded.by_ref().map(Result::unwrap).collect();
                assert!(got == events, "limit {limit}");
                assert_eq!(threaded.end().stats, *direct.stats(), "limit {limit}");
            }
        }
    }

    #[test]
    fn an_error_comes_after_the_events_before_it_and_ends_the_stream() {
        let mut data = text(5000);
        data.extend_from_slice(b"Q 0x10\nR 0x20\n");
        for mut threaded in readers(&data, None) {
            let ok = threaded.by_ref().take_while(Result::is_ok).count();
            assert_eq!(ok, 5000 + 5);
            assert!(threaded.next().is_none());
        }
        // A consumer that stops early ends the thread without waiting for the trace.
        let threaded = BatchedReader::spawn(
            TraceReader::new(std::io::Cursor::new(text(100_000)), "t", TraceFormat::Auto),
            None,
        )
        .unwrap();
        assert!(threaded.end().stats.lines < 100_000);
    }
}
