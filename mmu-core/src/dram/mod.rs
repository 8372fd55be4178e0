//! The DRAM: a sparse word store plus a timing model and its statistics.
//!
//! Two timing models, chosen per config:
//! - `Fixed`: every request costs the same latency, whatever came before (the
//!   foundation's model, kept for hand-computed examples);
//! - `Banked`: channels, ranks and banks, each bank with an open row and a
//!   busy-until cycle, so a request is a row hit, a row miss (bank closed) or a row
//!   conflict (another row open) depending on history, and pays the matching sum of
//!   datasheet timings (the `banked` module).
//!
//! Host memory grows with the 4 KiB chunks written, never with the configured
//! capacity: a 4 GiB DRAM costs a few KiB of bookkeeping until it is touched.

mod banked;
mod data_run;
mod recorded;
#[cfg(test)]
mod tests;

pub use banked::DramCoordinates;
pub use data_run::{BankedDataRun, DataRequests, DataRun, FixedDataRun, OpenPageDataRun};
pub use recorded::RecordedDram;

use crate::addr::PhysAddr;
use crate::config::{InvalidField, is_power_of_two};
use crate::mem::{PhysMem, SparseMemory, Traffic};
use crate::time::{Cycle, Cycles, Timed};
use banked::Banked;
use serde::{Deserialize, Serialize};

/// Which DRAM coordinate a group of physical-address bits selects.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
pub enum AddressField {
    /// The channel (an independent memory controller and bus).
    Channel,
    /// The rank on that channel (a set of chips sharing chip select).
    Rank,
    /// The bank inside the rank (its own row buffer).
    Bank,
    /// The row inside the bank.
    Row,
    /// The burst-sized column inside the row.
    Column,
}

impl AddressField {
    /// Every field, in the order bank coordinates are listed.
    pub const ALL: [AddressField; 5] = [
        AddressField::Channel,
        AddressField::Rank,
        AddressField::Bank,
        AddressField::Row,
        AddressField::Column,
    ];
}

/// What a bank does with its row buffer after serving a request.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum RowPolicy {
    /// Leave the row open: the next request to it is a row hit, to another row a conflict.
    OpenPage,
    /// Precharge right after each request (auto-precharge): every request is a row
    /// miss, but never a conflict.
    ClosedPage,
}

/// How long a DRAM request takes.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub enum DramTiming {
    /// Every read and write costs `latency` cycles, whatever came before.
    Fixed {
        /// Cycles per request.
        latency: Cycles,
    },
    /// Banks with row buffers and datasheet timings, all in CPU cycles.
    ///
    /// The physical address, above the `burst_bytes` offset, is split into the
    /// fields of `mapping` (most significant first). Rows per bank follow from the
    /// capacity: `capacity_bytes / (channels × ranks × banks × row_bytes)`.
    Banked {
        /// Independent channels; a power of two.
        channels: u32,
        /// Ranks per channel; a power of two.
        ranks: u32,
        /// Banks per rank; a power of two (DDR4: 16, in 4 bank groups).
        banks: u32,
        /// Bytes in one row of a bank across the rank (DDR4 x8 rank: 8 chips × 1 KiB = 8192).
        row_bytes: u64,
        /// Bytes one column access transfers (a 64-bit bus × burst of 8 = 64).
        burst_bytes: u64,
        /// The address fields from the most significant bit down, each once, e.g.
        /// `[Row, Bank, Rank, Channel, Column]`.
        mapping: Vec<AddressField>,
        /// Open-page or closed-page.
        policy: RowPolicy,
        /// ACTIVATE to READ/WRITE: opening a row.
        t_rcd: Cycles,
        /// READ to first data (CAS latency); also used for writes (CWL = CL).
        t_cl: Cycles,
        /// PRECHARGE to ACTIVATE: closing a row.
        t_rp: Cycles,
        /// ACTIVATE to PRECHARGE: the least time a row stays open.
        t_ras: Cycles,
        /// Transferring one burst on the data bus.
        t_burst: Cycles,
    },
}

/// The DRAM of a machine. Owned by `mmu-core`; composed into the machine config.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DramConfig {
    /// Physical address of the first byte (default 0, and left out of reports when
    /// 0). QEMU's `virt` board puts its RAM at 0x8000_0000; the OS model's machines
    /// start at 0. Page aligned. The [`Dram`] itself numbers its bytes from 0: the
    /// machine's bus subtracts `base`, so bank and row mapping see the offset.
    #[serde(default, skip_serializing_if = "is_zero")]
    pub base: u64,
    /// Bytes of physical memory, from `base`. A multiple of the page
    /// size; with `Banked` timing a power of two.
    pub capacity_bytes: u64,
    /// The timing model.
    pub timing: DramTiming,
}

/// Whether a default-zero field is left out of a serialized config.
#[allow(clippy::trivially_copy_pass_by_ref)] // serde's `skip_serializing_if` passes a reference
fn is_zero(value: &u64) -> bool {
    *value == 0
}

/// The most banks (channels × ranks × banks) a config may declare: far above any
/// real system, low enough that the bank table stays small.
pub const MAX_BANKS: u64 = 1 << 16;

impl DramConfig {
    /// Checks the fields that do not depend on the paging format.
    ///
    /// # Errors
    /// The first field that breaks a rule.
    pub fn validate(&self) -> Result<(), InvalidField> {
        if self.base % 4096 != 0 {
            return Err(InvalidField::new(
                "base",
                format!("must be a multiple of 4096, got {:#x}", self.base),
            ));
        }
        if self.capacity_bytes == 0 || self.capacity_bytes % 4096 != 0 {
            return Err(InvalidField::new(
                "capacity_bytes",
                format!("must be a non-zero multiple of 4096, got {}", self.capacity_bytes),
            ));
        }
        match &self.timing {
            DramTiming::Fixed { .. } => Ok(()),
            DramTiming::Banked {
                channels,
                ranks,
                banks,
                row_bytes,
                burst_bytes,
                mapping,
                t_rcd,
                t_ras,
                ..
            } => {
                let field = |name: &str, message: String| InvalidField::new(name, message).within("timing");
                for (name, value) in [("channels", *channels), ("ranks", *ranks), ("banks", *banks)] {
                    if !is_power_of_two(u64::from(value)) {
                        return Err(field(name, format!("must be a power of two, got {value}")));
                    }
                }
                let total_banks = u64::from(*channels) * u64::from(*ranks) * u64::from(*banks);
                if total_banks > MAX_BANKS {
                    return Err(field(
                        "banks",
                        format!(
                            "channels × ranks × banks = {total_banks} is more than the {MAX_BANKS} banks modelled"
                        ),
                    ));
                }
                if !is_power_of_two(*burst_bytes) || *burst_bytes < 4 {
                    return Err(field(
                        "burst_bytes",
                        format!("must be a power of two of at least 4 (one word), got {burst_bytes}"),
                    ));
                }
                if !is_power_of_two(*row_bytes) || row_bytes < burst_bytes {
                    return Err(field(
                        "row_bytes",
                        format!(
                            "must be a power of two of at least `burst_bytes` ({burst_bytes}), got {row_bytes}"
                        ),
                    ));
                }
                let bank_span = total_banks.saturating_mul(*row_bytes);
                if !is_power_of_two(self.capacity_bytes) || self.capacity_bytes < bank_span {
                    return Err(InvalidField::new(
                        "capacity_bytes",
                        format!(
                            "with banked timing must be a power of two of at least channels × ranks × banks × row_bytes \
                             = {bank_span} (one row per bank), got {}",
                            self.capacity_bytes
                        ),
                    ));
                }
                for f in AddressField::ALL {
                    let count = mapping.iter().filter(|&&m| m == f).count();
                    if count != 1 {
                        return Err(field(
                            "mapping",
                            format!(
                                "must name each of Channel, Rank, Bank, Row and Column exactly once, \
                                 but names {f:?} {count} times"
                            ),
                        ));
                    }
                }
                if t_ras < t_rcd {
                    return Err(field(
                        "t_ras",
                        format!(
                            "({}) must be at least `t_rcd` ({}): a row stays open at least until it can be read",
                            t_ras.as_u64(),
                            t_rcd.as_u64()
                        ),
                    ));
                }
                Ok(())
            }
        }
    }
}

/// DRAM counters of one kind of traffic (page-table or data).
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize)]
pub struct DramTrafficStats {
    /// Reads and writes.
    pub requests: u64,
    /// Requests that found their row open (banked timing only).
    pub row_hits: u64,
    /// Requests that found their bank closed and activated the row.
    pub row_misses: u64,
    /// Requests that found another row open, closed it and activated theirs.
    pub row_conflicts: u64,
    /// Sum of the latencies, from issue to data, including waits for a busy bank.
    pub latency_cycles: u64,
}

impl DramTrafficStats {
    /// Mean latency per request, `None` without requests.
    pub fn average_latency(&self) -> Option<f64> {
        (self.requests > 0).then(|| self.latency_cycles as f64 / self.requests as f64)
    }
}

/// DRAM counters, by requester.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize)]
pub struct DramStats {
    /// All read requests.
    pub reads: u64,
    /// All write requests.
    pub writes: u64,
    /// Reads by the page walker.
    pub page_table_reads: u64,
    /// Writes by the page walker (A/D updates).
    pub page_table_writes: u64,
    /// Reads of data words.
    pub data_reads: u64,
    /// Writes of data words.
    pub data_writes: u64,
    /// Sum of the latencies of all requests, in cycles.
    pub total_latency_cycles: u64,
    /// Requests that found their row open (banked timing only).
    pub row_hits: u64,
    /// Requests that found their bank closed (banked timing only).
    pub row_misses: u64,
    /// Requests that found another row open (banked timing only).
    pub row_conflicts: u64,
    /// The walker's requests.
    pub page_table: DramTrafficStats,
    /// The CPU's data requests.
    pub data: DramTrafficStats,
}

impl DramStats {
    /// Mean latency over every request, `None` without requests.
    pub fn average_latency(&self) -> Option<f64> {
        let requests = self.reads + self.writes;
        (requests > 0).then(|| self.total_latency_cycles as f64 / requests as f64)
    }
}

/// What a request found in its bank.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum RowOutcome {
    /// Fixed timing: there are no rows.
    Unmodelled,
    /// The row was open.
    Hit,
    /// The bank was closed.
    Miss,
    /// Another row was open.
    Conflict,
}

// One per DRAM: boxing the larger would add a pointer chase to every request.
#[allow(clippy::large_enum_variant)]
enum Model {
    Fixed(Cycles),
    Banked(Banked),
}

/// A DRAM: storage, timing and counters.
pub struct Dram {
    storage: SparseMemory,
    model: Model,
    /// Counters by requester and direction, indexed by [`Dram::slot`]: the hot
    /// path adds to one of them; [`Dram::stats`] derives every total.
    counters: [RequestCounters; 4],
}

impl Dram {
    /// A zeroed DRAM built from a validated config.
    pub fn new(config: &DramConfig) -> Self {
        let model = match &config.timing {
            DramTiming::Fixed { latency } => Model::Fixed(*latency),
            DramTiming::Banked { .. } => Model::Banked(Banked::new(config)),
        };
        Self {
            storage: SparseMemory::new(config.capacity_bytes),
            model,
            counters: [RequestCounters::default(); 4],
        }
    }
    /// The counters so far.
    pub fn stats(&self) -> DramStats {
        let counters = self.counters.map(|mut c| {
            if let Model::Fixed(latency) = self.model {
                c.latency_cycles = c.requests.saturating_mul(latency.as_u64());
            }
            c
        });
        let c = |traffic: Traffic, is_write: bool| &counters[Self::slot(traffic, is_write)];
        let by_traffic = |traffic: Traffic| {
            let (r, w) = (c(traffic, false), c(traffic, true));
            DramTrafficStats {
                requests: r.requests + w.requests,
                row_hits: r.outcomes[RowOutcome::Hit as usize] + w.outcomes[RowOutcome::Hit as usize],
                row_misses: r.outcomes[RowOutcome::Miss as usize] + w.outcomes[RowOutcome::Miss as usize],
                row_conflicts: r.outcomes[RowOutcome::Conflict as usize]
                    + w.outcomes[RowOutcome::Conflict as usize],
                latency_cycles: r.latency_cycles + w.latency_cycles,
            }
        };
        let (page_table, data) = (by_traffic(Traffic::PageTable), by_traffic(Traffic::Data));
        DramStats {
            reads: c(Traffic::PageTable, false).requests + c(Traffic::Data, false).requests,
            writes: c(Traffic::PageTable, true).requests + c(Traffic::Data, true).requests,
            page_table_reads: c(Traffic::PageTable, false).requests,
            page_table_writes: c(Traffic::PageTable, true).requests,
            data_reads: c(Traffic::Data, false).requests,
            data_writes: c(Traffic::Data, true).requests,
            total_latency_cycles: page_table.latency_cycles + data.latency_cycles,
            row_hits: page_table.row_hits + data.row_hits,
            row_misses: page_table.row_misses + data.row_misses,
            row_conflicts: page_table.row_conflicts + data.row_conflicts,
            page_table,
            data,
        }
    }
    /// Zeroes the counters, keeping contents and bank state (the end of a warm-up).
    pub fn reset_stats(&mut self) {
        self.counters = [RequestCounters::default(); 4];
    }
    /// Bytes of simulated memory.
    pub fn capacity_bytes(&self) -> u64 {
        self.storage.capacity_bytes()
    }
    /// Host bytes spent on simulated memory contents.
    pub fn host_bytes(&self) -> u64 {
        self.storage.host_bytes()
    }
    /// Host bytes spent on the contents of `[start, start + bytes)`: the 4 KiB
    /// chunks of that range holding a non-zero word, times 4096.
    pub fn host_bytes_in(&self, start: PhysAddr, bytes: u64) -> u64 {
        self.storage.host_bytes_in(start, bytes)
    }
    /// Where `addr` lands (channel, rank, bank, row, column), with banked timing.
    pub fn coordinates(&self, addr: PhysAddr) -> Option<DramCoordinates> {
        match &self.model {
            Model::Fixed(_) => None,
            Model::Banked(b) => Some(b.decode(addr)),
        }
    }
    /// Reads a word without timing or counting: the OS model's view, whose cost is
    /// charged as handler cycles instead.
    pub fn peek(&self, addr: PhysAddr) -> u32 {
        self.storage.load(addr)
    }
    /// Writes a word without timing or counting (the OS model's stores).
    pub fn poke(&mut self, addr: PhysAddr, value: u32) {
        self.storage.store(addr, value);
    }
    /// Zeroes a range without timing (the OS model's demand-zero fill).
    pub fn zero(&mut self, addr: PhysAddr, bytes: u64) {
        self.storage.zero(addr, bytes);
    }

    /// Times one request issued at `now`: when its data is ready, and what it found.
    /// What a request issued at `now` to `addr` would find (channel, rank, bank,
    /// row; open, closed or in conflict) and the terms its latency adds up to,
    /// without serving it or changing any state.
    pub fn preview(&self, now: Cycle, addr: PhysAddr) -> crate::event::DramPreview {
        match &self.model {
            Model::Fixed(latency) => crate::event::DramPreview {
                place: None,
                row_state: crate::event::RowState::Unmodelled,
                terms: vec![crate::event::Term { name: "fixed latency", cycles: latency.as_u64() }],
            },
            Model::Banked(b) => b.preview(now, addr),
        }
    }

    /// Times and counts one request issued at `now`: when its data is ready. A
    /// `Fixed` request only counts itself: its latency is the same every time,
    /// so the latency totals are worked out when reported ([`Dram::stats`]).
    #[inline(always)]
    fn serve(&mut self, now: Cycle, addr: PhysAddr, traffic: Traffic, is_write: bool) -> Cycle {
        match &mut self.model {
            Model::Fixed(latency) => {
                let done = now + *latency;
                self.counters[Self::slot(traffic, is_write)].requests += 1;
                done
            }
            Model::Banked(b) => {
                let (done, outcome) = b.access(now, addr);
                self.count(traffic, is_write, outcome, done.since(now));
                done
            }
        }
    }

    #[inline]
    const fn slot(traffic: Traffic, is_write: bool) -> usize {
        (matches!(traffic, Traffic::Data) as usize) * 2 + is_write as usize
    }

    #[inline]
    fn count(&mut self, traffic: Traffic, is_write: bool, outcome: RowOutcome, latency: Cycles) {
        let c = &mut self.counters[Self::slot(traffic, is_write)];
        c.requests += 1;
        c.latency_cycles += latency.as_u64();
        c.outcomes[outcome as usize] += 1;
    }
}

/// The counters of one requester and direction (page-table or data, read or write).
#[derive(Clone, Copy, Debug, Default)]
struct RequestCounters {
    requests: u64,
    latency_cycles: u64,
    /// By [`RowOutcome`], as its discriminant.
    outcomes: [u64; 4],
}

impl PhysMem for Dram {
    #[inline(always)]
    fn read(&mut self, now: Cycle, addr: PhysAddr, traffic: Traffic) -> Timed<u32> {
        let ready_at = self.serve(now, addr, traffic, false);
        Timed { value: self.storage.load(addr), ready_at }
    }
    #[inline(always)]
    fn write(&mut self, now: Cycle, addr: PhysAddr, value: u32, traffic: Traffic) -> Cycle {
        let done_at = self.serve(now, addr, traffic, true);
        self.storage.store(addr, value);
        done_at
    }
    #[inline]
    fn contains(&self, addr: PhysAddr) -> bool {
        self.storage.contains(addr)
    }
}

impl crate::port::PhysBackdoor for Dram {
    fn peek(&self, addr: PhysAddr) -> u32 {
        Dram::peek(self, addr)
    }
    fn poke(&mut self, addr: PhysAddr, value: u32) {
        Dram::poke(self, addr, value);
    }
    fn zero(&mut self, addr: PhysAddr, bytes: u64) {
        Dram::zero(self, addr, bytes);
    }
    fn touched_bytes(&self, start: PhysAddr, bytes: u64) -> u64 {
        self.host_bytes_in(start, bytes)
    }
    fn next_touched(&self, start: PhysAddr, end: PhysAddr) -> Option<PhysAddr> {
        self.storage.next_allocated(start, end.as_u64())
    }
    fn read_words(&self, addr: PhysAddr, out: &mut [u32]) {
        self.storage.load_words(addr, out);
    }
    fn write_words(&mut self, addr: PhysAddr, words: &[u32]) {
        self.storage.store_words(addr, words);
    }
}
