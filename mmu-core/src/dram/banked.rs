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

/// The address bits of one field: `bits` bits from bit `shift`.
#[derive(Clone, Copy, Debug, Default)]
struct BitSlice {
    shift: u32,
    bits: u32,
}

impl BitSlice {
    #[inline]
    fn extract(self, addr: u64) -> u32 {
        ((addr >> self.shift) & ((1u64 << self.bits) - 1)) as u32
    }
}

/// One bank's state.
#[derive(Clone, Copy, Debug, Default)]
struct Bank {
    /// The row in the row buffer, `None` when precharged.
    open_row: Option<u32>,
    /// The first cycle the bank accepts a new request.
    ready_at: Cycle,
    /// The cycle of the last ACTIVATE, for tRAS.
    activated_at: Cycle,
}

/// The bank state machine of a `Banked` DRAM.
pub(super) struct Banked {
    channel: BitSlice,
    rank: BitSlice,
    bank: BitSlice,
    row: BitSlice,
    column: BitSlice,
    policy: RowPolicy,
    t_rcd: Cycles,
    t_rp: Cycles,
    t_ras: Cycles,
    t_cl: Cycles,
    t_burst: Cycles,
    /// tCL + tBURST: every request pays it once its row is open.
    column_access: Cycles,
    banks: Vec<Bank>,
}

fn log2(x: u64) -> u32 {
    x.trailing_zeros()
}

impl Banked {
    /// All banks closed and idle, from a validated banked config.
    pub(super) fn new(config: &DramConfig) -> Self {
        let DramTiming::Banked {
            channels,
            ranks,
            banks,
            row_bytes,
            burst_bytes,
            mapping,
            policy,
            t_rcd,
            t_cl,
            t_rp,
            t_ras,
            t_burst,
        } = &config.timing
        else {
            // Dram::new only builds a Banked from a banked config.
            unreachable!("Banked::new called with a Fixed timing config")
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
        // Lay the fields out from the least significant end, above the burst offset.
        let mut slices = [BitSlice::default(); 5];
        let mut shift = log2(*burst_bytes);
        for &f in mapping.iter().rev() {
            let bits = width(f);
            slices[f as usize] = BitSlice { shift, bits };
            shift += bits;
        }
        let [channel, rank, bank, row, column] = slices;
        Self {
            channel,
            rank,
            bank,
            row,
            column,
            policy: *policy,
            t_rcd: *t_rcd,
            t_rp: *t_rp,
            t_ras: *t_ras,
            t_cl: *t_cl,
            t_burst: *t_burst,
            column_access: *t_cl + *t_burst,
            banks: vec![Bank::default(); total_banks as usize],
        }
    }

    /// The coordinates of `addr`.
    #[inline]
    pub(super) fn decode(&self, addr: PhysAddr) -> DramCoordinates {
        let a = addr.as_u64();
        DramCoordinates {
            channel: self.channel.extract(a),
            rank: self.rank.extract(a),
            bank: self.bank.extract(a),
            row: self.row.extract(a),
            column: self.column.extract(a),
        }
    }

    /// The bank `addr` lands in, as an index into the bank table: channel, then
    /// rank, then bank (every count is a power of two, so the fields just concatenate).
    #[inline]
    fn bank_index(&self, a: u64) -> usize {
        let channel = self.channel.extract(a) as usize;
        let rank = self.rank.extract(a) as usize;
        let bank = self.bank.extract(a) as usize;
        (((channel << self.rank.bits) | rank) << self.bank.bits) | bank
    }

    /// Serves one request issued at `now`: when its data is ready, and what it found.
    #[inline]
    pub(super) fn access(&mut self, now: Cycle, addr: PhysAddr) -> (Cycle, RowOutcome) {
        let row = self.row.extract(addr.as_u64());
        let index = self.bank_index(addr.as_u64());
        let (t_rcd, t_rp, t_ras, column_access) = (self.t_rcd, self.t_rp, self.t_ras, self.column_access);
        let bank = &mut self.banks[index];
        // A busy bank finishes what it is doing first.
        let start = now.max(bank.ready_at);
        match self.policy {
            RowPolicy::OpenPage => {
                let (outcome, data_at) = match bank.open_row {
                    Some(open) if open == row => (RowOutcome::Hit, start + column_access),
                    None => {
                        bank.activated_at = start;
                        (RowOutcome::Miss, start + t_rcd + column_access)
                    }
                    Some(_) => {
                        // The open row may be closed only tRAS after it was opened.
                        let precharge = start.max(bank.activated_at + t_ras);
                        let activate = precharge + t_rp;
                        bank.activated_at = activate;
                        (RowOutcome::Conflict, activate + t_rcd + column_access)
                    }
                };
                bank.open_row = Some(row);
                bank.ready_at = data_at;
                (data_at, outcome)
            }
            RowPolicy::ClosedPage => {
                let data_at = start + t_rcd + column_access;
                let precharge = data_at.max(start + t_ras);
                bank.activated_at = start;
                bank.open_row = None;
                bank.ready_at = precharge + t_rp;
                (data_at, RowOutcome::Miss)
            }
        }
    }

    /// What a request issued at `now` to `addr` would find and pay, from the
    /// bank's state, without serving it: the terms of [`Banked::access`]'s
    /// latency, in order (for `explain`; the timing itself stays in `access`).
    pub(super) fn preview(&self, now: Cycle, addr: PhysAddr) -> DramPreview {
        let c = self.decode(addr);
        let place =
            DramPlace { channel: c.channel, rank: c.rank, bank: c.bank, row: c.row, column: c.column };
        let bank = &self.banks[self.bank_index(addr.as_u64())];
        let start = now.max(bank.ready_at);
        let mut terms = Vec::new();
        if start > now {
            terms.push(Term { name: "wait for the busy bank", cycles: start.since(now).as_u64() });
        }
        let column = [
            Term { name: "tCL", cycles: self.t_cl.as_u64() },
            Term { name: "tBURST", cycles: self.t_burst.as_u64() },
        ];
        let activate = Term { name: "tRCD", cycles: self.t_rcd.as_u64() };
        let row_state = match (self.policy, bank.open_row) {
            (RowPolicy::OpenPage, Some(open)) if open == c.row => RowState::Open,
            (RowPolicy::OpenPage, Some(_)) => {
                let precharge = start.max(bank.activated_at + self.t_ras);
                if precharge > start {
                    terms.push(Term {
                        name: "wait for tRAS since the open row's ACTIVATE",
                        cycles: precharge.since(start).as_u64(),
                    });
                }
                terms.push(Term { name: "tRP", cycles: self.t_rp.as_u64() });
                terms.push(activate);
                RowState::Conflict
            }
            (RowPolicy::OpenPage, None) | (RowPolicy::ClosedPage, _) => {
                terms.push(activate);
                RowState::Closed
            }
        };
        terms.extend(column);
        DramPreview { place: Some(place), row_state, terms }
    }
}
