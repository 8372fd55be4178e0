//! Banked DRAM timing: the physical address picks a channel, rank, bank, row and
//! column; each bank keeps its open row and the cycle it is busy until, so the same
//! request costs a row hit, a row miss or a row conflict depending on history.
//!
//! Per request issued at `now` to a bank (`start = max(now, bank busy until)`):
//! - row hit (open page, the row is open): data at `start + tCL + tBURST`;
//! - row miss (the bank is closed): ACTIVATE at `start`, data at
//!   `start + tRCD + tCL + tBURST`;
//! - row conflict (open page, another row open): PRECHARGE at
//!   `max(start, last ACTIVATE + tRAS)`, ACTIVATE `tRP` later, then as a miss.
//!
//! With the closed-page policy every request is a miss and the bank precharges
//! itself afterwards: the precharge starts when the burst ends or `tRAS` after the
//! ACTIVATE, whichever is later, and the bank is busy until `tRP` after that.
//!
//! Approximations, stated here where they live: one request in flight per bank
//! (the in-order CPU never issues two at once, so column commands are not
//! pipelined and tCCD, tRRD, tFAW and bank-group rules are not modelled); writes
//! are timed as reads (CWL = CL, no tWR or tWTR); no refresh; no data-bus or
//! command-bus contention between banks; the read-to-precharge delay (tRTP) is
//! folded into "precharge when the burst ends".

use super::{AddressField, DramConfig, DramTiming, RowOutcome, RowPolicy};
use crate::addr::PhysAddr;
use crate::event::{DramPlace, DramPreview, RowState, Term};
use crate::time::{Cycle, Cycles};

/// Where a physical address lands in a banked DRAM.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct DramCoordinates {
    /// Channel.
    pub channel: u32,
    /// Rank on the channel.
    pub rank: u32,
    /// Bank in the rank.
    pub bank: u32,
    /// Row in the bank.
    pub row: u32,
    /// Burst-sized column in the row.
    pub column: u32,
}

/// Where a field sits in the physical address: `width` bits from bit `shift`.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub(super) struct FieldLayout {
    /// The field's lowest address bit.
    pub(super) shift: u32,
    /// The field's bits.
    pub(super) width: u32,
}

/// The bit layout of every field, indexed by [`AddressField`] as its discriminant:
/// the fields of `mapping` laid out from the least significant end, above the
/// burst offset. Runs once, when the DRAM is built.
pub(super) fn layout(config: &DramConfig) -> [FieldLayout; 5] {
    let DramTiming::Banked { channels, ranks, banks, row_bytes, burst_bytes, mapping, .. } = &config.timing
    else {
        // Dram::new only builds a Banked from a banked config.
        unreachable!("banked::layout called with a Fixed timing config")
    };
    let total_banks = u64::from(*channels) * u64::from(*ranks) * u64::from(*banks);
    let rows = config.capacity_bytes / (total_banks * row_bytes);
    let width = |f: AddressField| match f {
        AddressField::Channel => log2(u64::from(*channels)),
        AddressField::Rank => log2(u64::from(*ranks)),
        AddressField::Bank => log2(u64::from(*banks)),
        AddressField::Row => log2(rows),
        AddressField::Column => log2(row_bytes / burst_bytes),
    };
    let mut fields = [FieldLayout::default(); 5];
    let mut shift = log2(*burst_bytes);
    for &f in mapping.iter().rev() {
        let width = width(f);
        fields[f as usize] = FieldLayout { shift, width };
        shift += width;
    }
    fields
}

/// One field's extraction with everything precomputed from the config: the
/// field is `(addr >> shift) & mask`, and it lands in the bank index at `place`.
/// Building the masks once replaces a mask computed from a width and shifts by
/// run-time field widths on every request (#15).
#[derive(Clone, Copy, Debug, Default)]
struct Extract {
    shift: u32,
    mask: u64,
    /// `mask << shift`: the field's bits where they are in the address.
    in_place: u64,
    /// Where the field goes in the bank index (0 for row and column).
    place: u32,
}

impl Extract {
    fn new(field: FieldLayout, place: u32) -> Self {
        // A width is at most 64 bits less the burst offset (at least 2 bits).
        let mask = (1u64 << field.width) - 1;
        let in_place = mask.checked_shl(field.shift).unwrap_or(0);
        Self { shift: field.shift, mask, in_place, place }
    }
    /// The field's value in `addr`.
    #[inline(always)]
    fn of(self, addr: u64) -> u64 {
        (addr >> self.shift) & self.mask
    }
    /// The field's bits of `addr` where they are: as unique as its value, one
    /// instruction cheaper (a bank's open row is kept this way).
    #[inline(always)]
    fn in_place(self, addr: u64) -> u64 {
        addr & self.in_place
    }
    /// The field's value shifted to its place in the bank index.
    #[inline(always)]
    fn placed(self, addr: u64) -> u64 {
        self.of(addr) << self.place
    }
}

/// The fields of `lowest_first` (the bank index's, lowest first) as one field of
/// the address, if those with bits are adjacent in the address in that order.
fn fuse(lowest_first: [FieldLayout; 3]) -> Option<Extract> {
    let mut present = lowest_first.into_iter().filter(|f| f.width > 0);
    let Some(first) = present.next() else {
        return Some(Extract::new(FieldLayout { shift: 0, width: 0 }, 0));
    };
    let mut fused = first;
    for f in present {
        if f.shift != fused.shift + fused.width {
            return None;
        }
        fused.width += f.width;
    }
    Some(Extract::new(fused, 0))
}

/// One bank's state.
#[derive(Clone, Copy, Debug)]
pub(super) struct Bank {
    /// The row in the row buffer, as the row field's bits in place in the
    /// address ([`Extract::in_place`]), or [`PRECHARGED`]: a row hit is one
    /// compare, with no shift and no `Option` tag.
    open_row: u64,
    /// The first cycle the bank accepts a new request.
    ready_at: Cycle,
    /// The cycle of the last ACTIVATE, for tRAS.
    activated_at: Cycle,
}

/// [`Bank::open_row`] of a precharged bank: no row field's bits in place are
/// all ones, since the burst offset's bits are never part of it.
const PRECHARGED: u64 = u64::MAX;

impl Default for Bank {
    /// Precharged and idle.
    fn default() -> Self {
        Self { open_row: PRECHARGED, ready_at: Cycle::ZERO, activated_at: Cycle::ZERO }
    }
}

/// Where an address lands and what each step costs: everything of a
/// `Banked` DRAM but its banks' state, so a run of requests can hold it apart
/// from the banks it changes.
#[derive(Clone, Copy, Debug)]
pub(super) struct BankMap {
    channel: Extract,
    rank: Extract,
    bank: Extract,
    /// The bank index as one field of the address, when the channel, rank and
    /// bank bits that exist lie side by side in that order, the bank lowest (as
    /// with one channel and one rank): [`Banked::bank_index`] in one extract.
    fused_bank: Option<Extract>,
    row: Extract,
    column: Extract,
    policy: RowPolicy,
    t_rcd: Cycles,
    t_rp: Cycles,
    t_ras: Cycles,
    t_cl: Cycles,
    t_burst: Cycles,
    /// tCL + tBURST: every request pays it once its row is open.
    column_access: Cycles,
}

/// What a run of requests to an open-page DRAM needs when its bank index is
/// one field of the address and no bank is busy when the run opens (the usual
/// DDR case, [`Banked::open_page_map`]): a row hit is two extracts, a compare
/// and an add. The same times and outcomes as [`BankMap::access`].
#[derive(Clone, Copy, Debug)]
pub(super) struct OpenPageMap {
    /// The bank index, in one extract ([`BankMap::fused_bank`]).
    bank: Extract,
    row: Extract,
    t_rcd: Cycles,
    t_rp: Cycles,
    t_ras: Cycles,
    column_access: Cycles,
}

impl OpenPageMap {
    /// tCL + tBURST: what a row hit takes.
    pub(super) fn column_access(&self) -> Cycles {
        self.column_access
    }

    /// The most one request can take: a row conflict in a bank whose row was
    /// opened at the request's issue (tRAS, then tRP, tRCD, tCL and tBURST).
    pub(super) fn latency_bound(&self) -> Cycles {
        self.t_ras + self.t_rp + self.t_rcd + self.column_access
    }

    /// Serves one request issued at `now`, as [`BankMap::access`] does, given
    /// what a run of them guarantees: no bank is busy at `now` (every bank was
    /// ready when the run opened, and each request is issued after the one
    /// before it is done, which is when its bank is ready again), and the clock
    /// stays [`OpenPageMap::latency_bound`] short of its end. So the bank's
    /// start is `now`, and nothing saturates.
    #[inline(always)]
    pub(super) fn access(&self, banks: &mut [Bank], now: Cycle, addr: PhysAddr) -> (Cycle, RowOutcome) {
        let a = addr.as_u64();
        let row = self.row.in_place(a);
        let bank = &mut banks[self.bank.of(a) as usize];
        debug_assert!(bank.ready_at <= now, "a bank is busy in a run: {:?} > {now:?}", bank.ready_at);
        let (outcome, data_at) = match bank.open_row {
            open if open == row => (RowOutcome::Hit, now.add_bounded(self.column_access)),
            PRECHARGED => {
                bank.activated_at = now;
                bank.open_row = row;
                (RowOutcome::Miss, now.add_bounded(self.t_rcd).add_bounded(self.column_access))
            }
            _ => {
                // The open row may be closed only tRAS after it was opened.
                let precharge = now.max(bank.activated_at.add_bounded(self.t_ras));
                let activate = precharge.add_bounded(self.t_rp);
                bank.activated_at = activate;
                bank.open_row = row;
                (RowOutcome::Conflict, activate.add_bounded(self.t_rcd).add_bounded(self.column_access))
            }
        };
        bank.ready_at = data_at;
        (data_at, outcome)
    }
}

/// The bank state machine of a `Banked` DRAM.
pub(super) struct Banked {
    map: BankMap,
    banks: Vec<Bank>,
    /// No bank is busy from this cycle on: at least every bank's
    /// [`Bank::ready_at`] ([`Banked::open_page_map`] asks it, instead of
    /// looking at each of up to [`MAX_BANKS`](super::MAX_BANKS) banks per run).
    ready_by: Cycle,
}

fn log2(x: u64) -> u32 {
    x.trailing_zeros()
}

impl BankMap {
    /// The coordinates of `addr`.
    #[inline]
    pub(super) fn decode(&self, addr: PhysAddr) -> DramCoordinates {
        let a = addr.as_u64();
        // Every field is narrower than 32 bits: rows per bank are at most 2^32.
        DramCoordinates {
            channel: self.channel.of(a) as u32,
            rank: self.rank.of(a) as u32,
            bank: self.bank.of(a) as u32,
            row: self.row.of(a) as u32,
            column: self.column.of(a) as u32,
        }
    }

    /// The bank `addr` lands in, as an index into the bank table: channel, then
    /// rank, then bank (every count is a power of two, so the fields just concatenate).
    #[inline(always)]
    pub(super) fn bank_index(&self, a: u64) -> usize {
        if let Some(fused) = self.fused_bank {
            return fused.of(a) as usize;
        }
        (self.channel.placed(a) | self.rank.placed(a) | self.bank.placed(a)) as usize
    }

    /// Serves one request issued at `now`: when its data is ready, and what
    /// it found. `ready_by` is raised to the bank's new ready time
    /// ([`Banked::ready_by`]).
    #[inline(always)]
    pub(super) fn access(
        &self,
        banks: &mut [Bank],
        ready_by: &mut Cycle,
        now: Cycle,
        addr: PhysAddr,
    ) -> (Cycle, RowOutcome) {
        let row = self.row.in_place(addr.as_u64());
        let index = self.bank_index(addr.as_u64());
        let (t_rcd, t_rp, t_ras, column_access) = (self.t_rcd, self.t_rp, self.t_ras, self.column_access);
        let bank = &mut banks[index];
        // A busy bank finishes what it is doing first.
        let start = now.max(bank.ready_at);
        match self.policy {
            RowPolicy::OpenPage => {
                let (outcome, data_at) = match bank.open_row {
                    open if open == row => (RowOutcome::Hit, start + column_access),
                    PRECHARGED => {
                        bank.activated_at = start;
                        bank.open_row = row;
                        (RowOutcome::Miss, start + t_rcd + column_access)
                    }
                    _ => {
                        // The open row may be closed only tRAS after it was opened.
                        let precharge = start.max(bank.activated_at + t_ras);
                        let activate = precharge + t_rp;
                        bank.activated_at = activate;
                        bank.open_row = row;
                        (RowOutcome::Conflict, activate + t_rcd + column_access)
                    }
                };
                bank.ready_at = data_at;
                *ready_by = (*ready_by).max(data_at);
                (data_at, outcome)
            }
            RowPolicy::ClosedPage => {
                let data_at = start + t_rcd + column_access;
                let precharge = data_at.max(start + t_ras);
                bank.activated_at = start;
                bank.open_row = PRECHARGED;
                bank.ready_at = precharge + t_rp;
                *ready_by = (*ready_by).max(bank.ready_at);
                (data_at, RowOutcome::Miss)
            }
        }
    }
}

impl Banked {
    /// All banks closed and idle, from a validated banked config.
    pub(super) fn new(config: &DramConfig) -> Self {
        let DramTiming::Banked { channels, ranks, banks, policy, t_rcd, t_cl, t_rp, t_ras, t_burst, .. } =
            &config.timing
        else {
            // Dram::new only builds a Banked from a banked config.
            unreachable!("Banked::new called with a Fixed timing config")
        };
        let total_banks = u64::from(*channels) * u64::from(*ranks) * u64::from(*banks);
        let fields = layout(config);
        let field = |f: AddressField| fields[f as usize];
        // The bank index concatenates channel, rank and bank, the bank lowest.
        let bank_bits = field(AddressField::Bank).width;
        let rank_bits = field(AddressField::Rank).width;
        let channel = Extract::new(field(AddressField::Channel), rank_bits + bank_bits);
        let rank = Extract::new(field(AddressField::Rank), bank_bits);
        let bank = Extract::new(field(AddressField::Bank), 0);
        let fused_bank =
            fuse([field(AddressField::Bank), field(AddressField::Rank), field(AddressField::Channel)]);
        let row = Extract::new(field(AddressField::Row), 0);
        let column = Extract::new(field(AddressField::Column), 0);
        Self {
            map: BankMap {
                channel,
                rank,
                bank,
                fused_bank,
                row,
                column,
                policy: *policy,
                t_rcd: *t_rcd,
                t_rp: *t_rp,
                t_ras: *t_ras,
                t_cl: *t_cl,
                t_burst: *t_burst,
                column_access: *t_cl + *t_burst,
            },
            banks: vec![Bank::default(); total_banks as usize],
            ready_by: Cycle::ZERO,
        }
    }

    /// The map of a run of requests from `now` on, when an [`OpenPageMap`]
    /// serves them: open page, the bank index one field of the address, and no
    /// bank busy at `now`.
    pub(super) fn open_page_map(&self, now: Cycle) -> Option<OpenPageMap> {
        let map = &self.map;
        let bank = map.fused_bank.filter(|_| map.policy == RowPolicy::OpenPage)?;
        if self.ready_by > now {
            return None;
        }
        debug_assert!(self.banks.iter().all(|b| b.ready_at <= now), "ready_by is a bound");
        Some(OpenPageMap {
            bank,
            row: map.row,
            t_rcd: map.t_rcd,
            t_rp: map.t_rp,
            t_ras: map.t_ras,
            column_access: map.column_access,
        })
    }

    /// The banks and [`Banked::ready_by`], for a run of requests
    /// ([`Banked::open_page_map`]).
    pub(super) fn banks_mut(&mut self) -> (&mut [Bank], &mut Cycle) {
        (&mut self.banks, &mut self.ready_by)
    }

    /// The map, the banks and [`Banked::ready_by`], apart (a run of requests
    /// holds the map in registers).
    pub(super) fn parts_mut(&mut self) -> (BankMap, &mut [Bank], &mut Cycle) {
        (self.map, &mut self.banks, &mut self.ready_by)
    }

    /// The coordinates of `addr`.
    #[inline]
    pub(super) fn decode(&self, addr: PhysAddr) -> DramCoordinates {
        self.map.decode(addr)
    }

    /// Serves one request issued at `now`: when its data is ready, and what it found.
    #[inline(always)]
    pub(super) fn access(&mut self, now: Cycle, addr: PhysAddr) -> (Cycle, RowOutcome) {
        self.map.access(&mut self.banks, &mut self.ready_by, now, addr)
    }

    /// The bank `addr` lands in ([`BankMap::bank_index`]).
    #[cfg(test)]
    pub(super) fn bank_index(&self, a: u64) -> usize {
        self.map.bank_index(a)
    }

    /// What a request issued at `now` to `addr` would find and pay, from the
    /// bank's state, without serving it: the terms of [`Banked::access`]'s
    /// latency, in order (for `explain`; the timing itself stays in `access`).
    pub(super) fn preview(&self, now: Cycle, addr: PhysAddr) -> DramPreview {
        let c = self.decode(addr);
        let place =
            DramPlace { channel: c.channel, rank: c.rank, bank: c.bank, row: c.row, column: c.column };
        let bank = &self.banks[self.map.bank_index(addr.as_u64())];
        let start = now.max(bank.ready_at);
        let mut terms = Vec::new();
        if start > now {
            terms.push(Term { name: "wait for the busy bank", cycles: start.since(now).as_u64() });
        }
        let column = [
            Term { name: "tCL", cycles: self.map.t_cl.as_u64() },
            Term { name: "tBURST", cycles: self.map.t_burst.as_u64() },
        ];
        let activate = Term { name: "tRCD", cycles: self.map.t_rcd.as_u64() };
        let row = self.map.row.in_place(addr.as_u64());
        let row_state = match (self.map.policy, bank.open_row) {
            (RowPolicy::OpenPage, open) if open == row => RowState::Open,
            (RowPolicy::OpenPage, PRECHARGED) | (RowPolicy::ClosedPage, _) => {
                terms.push(activate);
                RowState::Closed
            }
            (RowPolicy::OpenPage, _) => {
                let precharge = start.max(bank.activated_at + self.map.t_ras);
                if precharge > start {
                    terms.push(Term {
                        name: "wait for tRAS since the open row's ACTIVATE",
                        cycles: precharge.since(start).as_u64(),
                    });
                }
                terms.push(Term { name: "tRP", cycles: self.map.t_rp.as_u64() });
                terms.push(activate);
                RowState::Conflict
            }
        };
        terms.extend(column);
        DramPreview { place: Some(place), row_state, terms }
    }
}
