//! Analytic checks of the DRAM timing (Ramulator's "latency shape" suite): every
//! expected latency is derived in a comment from the configured timings.

use super::*;
use proptest::prelude::*;

// Distinct primes, so a wrong sum of timings cannot land on the right number.
const T_RCD: u64 = 11;
const T_CL: u64 = 13;
const T_RP: u64 = 17;
const T_RAS: u64 = 40;
const T_BURST: u64 = 4;

/// 1 MiB, 1 channel, 1 rank, 4 banks of 1 KiB rows, 64-byte bursts, mapped
/// `[Row, Bank, Rank, Channel, Column]`: above the 6 burst-offset bits come
/// log2(1024 / 64) = 4 column bits (9..6), 0 channel and rank bits, 2 bank bits
/// (11..10) and log2(1 MiB / (4 × 1 KiB)) = 8 row bits (19..12).
fn banked(policy: RowPolicy) -> DramConfig {
    DramConfig {
        base: 0,
        capacity_bytes: 1 << 20,
        timing: DramTiming::Banked {
            channels: 1,
            ranks: 1,
            banks: 4,
            row_bytes: 1024,
            burst_bytes: 64,
            mapping: vec![
                AddressField::Row,
                AddressField::Bank,
                AddressField::Rank,
                AddressField::Channel,
                AddressField::Column,
            ],
            policy,
            t_rcd: Cycles::new(T_RCD),
            t_cl: Cycles::new(T_CL),
            t_rp: Cycles::new(T_RP),
            t_ras: Cycles::new(T_RAS),
            t_burst: Cycles::new(T_BURST),
        },
    }
}

/// The address of `column` in `row` of `bank`, by the layout above.
fn at(bank: u64, row: u64, column: u64) -> PhysAddr {
    PhysAddr::new((row << 12) | (bank << 10) | (column << 6))
}

fn open_page() -> Dram {
    let config = banked(RowPolicy::OpenPage);
    config.validate().expect("the test config is valid");
    Dram::new(&config)
}

fn read_at(d: &mut Dram, now: u64, addr: PhysAddr) -> u64 {
    d.read(Cycle::new(now), addr, Traffic::Data).ready_at.as_u64()
}

#[test]
fn fixed_latency_read_and_write() {
    let mut d = Dram::new(&DramConfig {
        base: 0,
        capacity_bytes: 1 << 20,
        timing: DramTiming::Fixed { latency: Cycles::new(100) },
    });
    let done = d.write(Cycle::new(5), PhysAddr::new(0x40), 42, Traffic::Data);
    assert_eq!(done, Cycle::new(105));
    let r = d.read(done, PhysAddr::new(0x40), Traffic::PageTable);
    assert_eq!(r, Timed { value: 42, ready_at: Cycle::new(205) });
    let s = d.stats();
    assert_eq!((s.reads, s.writes, s.page_table_reads, s.data_writes), (1, 1, 1, 1));
    assert_eq!(s.total_latency_cycles, 200);
    assert_eq!((s.row_hits, s.row_misses, s.row_conflicts), (0, 0, 0), "fixed timing has no rows");
    assert_eq!(s.page_table, DramTrafficStats { requests: 1, latency_cycles: 100, ..Default::default() });
}

#[test]
fn decode_follows_the_mapping() {
    let d = open_page();
    // 0xa_b7c4: row = bits 19..12 = 0xab; 0x7c4 = 0b0111_1100_0100 gives bank = bits
    // 11..10 = 0b01, column = bits 9..6 = 0b1111, offset 0b00_0100.
    let c = d.coordinates(PhysAddr::new(0x000a_b7c4)).unwrap();
    assert_eq!((c.channel, c.rank, c.bank, c.row, c.column), (0, 0, 1, 0xab, 0xf));
    assert_eq!(d.coordinates(at(3, 0xff, 0xf)).unwrap().bank, 3);
}

#[test]
fn a_closed_bank_costs_trcd_plus_tcl_plus_burst() {
    let mut d = open_page();
    // Idle, closed bank: ACTIVATE at 100, READ tRCD later, data tCL + tBURST after.
    assert_eq!(read_at(&mut d, 100, at(0, 5, 0)), 100 + T_RCD + T_CL + T_BURST); // 128
    assert_eq!(d.stats().row_misses, 1);
}

#[test]
fn an_open_row_costs_tcl_plus_burst() {
    let mut d = open_page();
    read_at(&mut d, 100, at(0, 5, 0)); // opens row 5, data at 128
    // Idle bank, row 5 open: another column of it is a row hit.
    assert_eq!(read_at(&mut d, 200, at(0, 5, 7)), 200 + T_CL + T_BURST); // 217
    assert_eq!(d.stats().row_hits, 1);
}

#[test]
fn another_open_row_costs_trp_plus_trcd_plus_tcl_plus_burst() {
    let mut d = open_page();
    read_at(&mut d, 100, at(0, 5, 0)); // ACTIVATE row 5 at 100
    // At 300 the row has been open 200 > tRAS cycles: PRECHARGE at once, ACTIVATE
    // tRP later, then as a miss.
    assert_eq!(read_at(&mut d, 300, at(0, 6, 0)), 300 + T_RP + T_RCD + T_CL + T_BURST); // 345
    assert_eq!(d.stats().row_conflicts, 1);
    // Row 6 is now open: a hit.
    assert_eq!(read_at(&mut d, 400, at(0, 6, 1)), 400 + T_CL + T_BURST);
}

#[test]
fn a_precharge_waits_for_tras_after_the_activate() {
    let mut d = open_page();
    // ACTIVATE at 0, data at 0 + 11 + 13 + 4 = 28.
    assert_eq!(read_at(&mut d, 0, at(2, 1, 0)), 28);
    // A conflict issued at 28: the row may close only at 0 + tRAS = 40, ACTIVATE at
    // 40 + tRP = 57, data at 57 + tRCD + tCL + tBURST = 85: a latency of 57, not 45.
    assert_eq!(read_at(&mut d, 28, at(2, 9, 0)), T_RAS + T_RP + T_RCD + T_CL + T_BURST);
    assert_eq!(d.stats().data.latency_cycles, 28 + (85 - 28));
}

#[test]
fn back_to_back_requests_to_a_busy_bank_wait_for_it() {
    let mut d = open_page();
    // Both issued at 10 to bank 1, row 3. The first misses: data at 10 + 28 = 38.
    assert_eq!(read_at(&mut d, 10, at(1, 3, 0)), 38);
    // The second waits until 38, then hits: 38 + tCL + tBURST = 55, a latency of 45.
    assert_eq!(read_at(&mut d, 10, at(1, 3, 1)), 38 + T_CL + T_BURST);
    // A request to another bank at 10 does not wait: bank 2 is idle and closed.
    assert_eq!(read_at(&mut d, 10, at(2, 3, 0)), 10 + T_RCD + T_CL + T_BURST);
    let s = d.stats();
    assert_eq!((s.row_hits, s.row_misses, s.row_conflicts), (1, 2, 0));
    assert_eq!(s.total_latency_cycles, 28 + 45 + 28);
}

#[test]
fn closed_page_precharges_after_every_request() {
    let config = banked(RowPolicy::ClosedPage);
    config.validate().unwrap();
    let mut d = Dram::new(&config);
    // ACTIVATE at 0, data at 28; auto-precharge at max(28, 0 + tRAS) = 40, bank
    // ready at 40 + tRP = 57.
    assert_eq!(read_at(&mut d, 0, at(0, 5, 0)), 28);
    // The same row at 30: no hit (the row was closed), and the bank is busy until 57:
    // ACTIVATE at 57, data at 57 + 28 = 85.
    assert_eq!(read_at(&mut d, 30, at(0, 5, 1)), 57 + T_RCD + T_CL + T_BURST);
    // That ACTIVATE at 57 closes at max(85, 97) = 97, ready at 114. Another row at
    // 500: never a conflict, a plain miss.
    assert_eq!(read_at(&mut d, 500, at(0, 9, 0)), 500 + T_RCD + T_CL + T_BURST);
    let s = d.stats();
    assert_eq!((s.row_hits, s.row_misses, s.row_conflicts), (0, 3, 0));
}

#[test]
fn writes_are_timed_like_reads_and_counted_by_traffic() {
    let mut d = open_page();
    let done = d.write(Cycle::new(0), at(0, 1, 0), 0xfeed, Traffic::PageTable);
    assert_eq!(done, Cycle::new(T_RCD + T_CL + T_BURST));
    let r = d.read(done, at(0, 1, 0), Traffic::Data);
    assert_eq!(r.value, 0xfeed);
    assert_eq!(r.ready_at, done + Cycles::new(T_CL + T_BURST));
    let s = d.stats();
    assert_eq!((s.page_table_writes, s.data_reads), (1, 1));
    assert_eq!(
        s.page_table,
        DramTrafficStats { requests: 1, row_misses: 1, latency_cycles: 28, ..Default::default() }
    );
    assert_eq!(
        s.data,
        DramTrafficStats { requests: 1, row_hits: 1, latency_cycles: 17, ..Default::default() }
    );
    assert_eq!(s.page_table.average_latency(), Some(28.0));
    assert_eq!(s.average_latency(), Some(22.5));
    assert_eq!(DramStats::default().average_latency(), None);
}

/// DDR4-2400 17-17-17 at a 3 GHz core, as `configs/sv32-ddr4.ron` ships it: one DRAM
/// clock (0.833 ns) is 2.5 core cycles; tCL = tRCD = tRP = 14.16 ns = 42.5 -> 43
/// cycles, tRAS = 32 ns = 96 cycles, BL8 = 4 clocks = 10 cycles.
#[test]
fn ddr4_2400_latencies_at_3ghz() {
    let config = DramConfig {
        base: 0,
        capacity_bytes: 4 << 30,
        timing: DramTiming::Banked {
            channels: 1,
            ranks: 1,
            banks: 16,
            row_bytes: 8192,
            burst_bytes: 64,
            mapping: vec![
                AddressField::Row,
                AddressField::Bank,
                AddressField::Rank,
                AddressField::Channel,
                AddressField::Column,
            ],
            policy: RowPolicy::OpenPage,
            t_rcd: Cycles::new(43),
            t_cl: Cycles::new(43),
            t_rp: Cycles::new(43),
            t_ras: Cycles::new(96),
            t_burst: Cycles::new(10),
        },
    };
    config.validate().unwrap();
    let mut d = Dram::new(&config);
    // Rows are 8 KiB and 16 banks sit above the column bits: row r of bank b starts
    // at r × 128 KiB + b × 8 KiB.
    assert_eq!(read_at(&mut d, 0, PhysAddr::new(0)), 96, "miss = 43 + 43 + 10");
    assert_eq!(read_at(&mut d, 1000, PhysAddr::new(0x40)), 1000 + 53, "hit = 43 + 10");
    assert_eq!(read_at(&mut d, 2000, PhysAddr::new(128 << 10)), 2000 + 139, "conflict = 43 + 43 + 43 + 10");
    assert_eq!(read_at(&mut d, 3000, PhysAddr::new(8 << 10)), 3000 + 96, "bank 1 was never opened");
    assert_eq!(d.host_bytes(), 0, "4 GiB of DRAM costs nothing until written");
}

#[test]
fn backdoor_is_free() {
    let mut d = open_page();
    d.poke(PhysAddr::new(0x40), 9);
    assert_eq!(d.peek(PhysAddr::new(0x40)), 9);
    assert_eq!(d.stats(), DramStats::default());
    // And it does not open rows: the first timed access is still a miss.
    assert_eq!(read_at(&mut d, 0, PhysAddr::new(0x40)), T_RCD + T_CL + T_BURST);
}

#[test]
fn capacity_must_be_page_multiple() {
    let c =
        DramConfig { base: 0, capacity_bytes: 1000, timing: DramTiming::Fixed { latency: Cycles::new(1) } };
    assert_eq!(c.validate().unwrap_err().field, "capacity_bytes");
}

#[test]
fn banked_configs_are_validated_field_by_field() {
    let with = |edit: fn(&mut DramConfig)| {
        let mut c = banked(RowPolicy::OpenPage);
        edit(&mut c);
        c.validate().unwrap_err()
    };
    fn timing(c: &mut DramConfig) -> &mut DramTiming {
        &mut c.timing
    }
    let e = with(|c| {
        if let DramTiming::Banked { banks, .. } = timing(c) {
            *banks = 3;
        }
    });
    assert_eq!((e.field.as_str(), e.message.as_str()), ("timing.banks", "must be a power of two, got 3"));
    let e = with(|c| {
        if let DramTiming::Banked { channels, .. } = timing(c) {
            *channels = 0;
        }
    });
    assert_eq!(e.field, "timing.channels");
    let e = with(|c| {
        if let DramTiming::Banked { burst_bytes, .. } = timing(c) {
            *burst_bytes = 2;
        }
    });
    assert_eq!(e.field, "timing.burst_bytes");
    let e = with(|c| {
        if let DramTiming::Banked { row_bytes, .. } = timing(c) {
            *row_bytes = 32;
        }
    });
    assert_eq!(e.field, "timing.row_bytes");
    let e = with(|c| c.capacity_bytes = 3 << 20);
    assert_eq!(e.field, "capacity_bytes");
    assert!(e.message.contains("power of two"), "{e}");
    // 4 banks of 512 KiB rows need 2 MiB, more than the 1 MiB capacity.
    let e = with(|c| {
        if let DramTiming::Banked { row_bytes, .. } = timing(c) {
            *row_bytes = 1 << 19;
        }
    });
    assert_eq!(e.field, "capacity_bytes", "{e}");
    let e = with(|c| {
        if let DramTiming::Banked { mapping, .. } = timing(c) {
            mapping[0] = AddressField::Bank;
        }
    });
    assert_eq!(e.field, "timing.mapping");
    assert!(e.message.contains("Bank 2 times"), "{e}");
    let e = with(|c| {
        if let DramTiming::Banked { mapping, .. } = timing(c) {
            mapping.pop();
        }
    });
    assert!(e.message.contains("Column 0 times"), "{e}");
    let e = with(|c| {
        if let DramTiming::Banked { t_ras, .. } = timing(c) {
            *t_ras = Cycles::new(T_RCD - 1);
        }
    });
    assert_eq!(e.field, "timing.t_ras");
}

/// The slow, obvious inverse of `decode`: concatenate the fields, most significant
/// first, as the mapping lists them, above the burst offset.
fn compose(mapping: &[AddressField], widths: [u32; 5], c: DramCoordinates, offset: u64) -> u64 {
    let value = |f: AddressField| match f {
        AddressField::Channel => c.channel,
        AddressField::Rank => c.rank,
        AddressField::Bank => c.bank,
        AddressField::Row => c.row,
        AddressField::Column => c.column,
    };
    let mut addr = 0u64;
    for &f in mapping {
        let w = widths[f as usize];
        addr = (addr << w) | u64::from(value(f));
    }
    (addr << 6) | offset
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(256))]

    /// For any mapping order and any coordinates, `decode` recovers what `compose` built.
    #[test]
    fn decode_inverts_the_mapping(
        order in Just(AddressField::ALL.to_vec()).prop_shuffle(),
        channel in 0u32..2, rank in 0u32..4, bank in 0u32..8, row in 0u32..64, column in 0u32..32,
        offset in 0u64..64,
    ) {
        // 2 channels, 4 ranks, 8 banks, 2 KiB rows of 64-byte bursts (32 columns):
        // 2 × 4 × 8 × 2 KiB = 128 KiB per row index, 64 rows in 8 MiB.
        let config = DramConfig {
            base: 0,
            capacity_bytes: 8 << 20,
            timing: DramTiming::Banked {
                channels: 2, ranks: 4, banks: 8, row_bytes: 2048, burst_bytes: 64,
                mapping: order.clone(), policy: RowPolicy::OpenPage,
                t_rcd: Cycles::new(1), t_cl: Cycles::new(1), t_rp: Cycles::new(1),
                t_ras: Cycles::new(1), t_burst: Cycles::new(1),
            },
        };
        prop_assert!(config.validate().is_ok());
        let d = Dram::new(&config);
        let c = DramCoordinates { channel, rank, bank, row, column };
        // Widths in AddressField order: Channel, Rank, Bank, Row, Column.
        let addr = compose(&order, [1, 2, 3, 6, 5], c, offset);
        prop_assert!(addr < 8 << 20);
        prop_assert_eq!(d.coordinates(PhysAddr::new(addr)), Some(c));
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(64))]

    /// `explain`'s preview of a request, made from the state before it, names the
    /// row state the request finds and terms that add up to its latency, under
    /// both policies and any history of requests (including a busy bank and tRAS).
    #[test]
    fn the_preview_of_a_request_adds_up_to_its_latency(
        closed in any::<bool>(),
        requests in proptest::collection::vec((0u64..4, 0u64..3, 0u64..16, 0u64..60), 1..40),
    ) {
        let policy = if closed { RowPolicy::ClosedPage } else { RowPolicy::OpenPage };
        let mut d = Dram::new(&banked(policy));
        let mut now = 0;
        for (bank, row, column, gap) in requests {
            now += gap;
            let addr = at(bank, row, column);
            let preview = d.preview(Cycle::new(now), addr);
            let before = d.stats();
            let ready = read_at(&mut d, now, addr);
            let after = d.stats();
            let sum: u64 = preview.terms.iter().map(|t| t.cycles).sum();
            prop_assert_eq!(sum, ready - now, "{:?}", preview);
            let state = if after.row_hits > before.row_hits {
                crate::event::RowState::Open
            } else if after.row_conflicts > before.row_conflicts {
                crate::event::RowState::Conflict
            } else {
                crate::event::RowState::Closed
            };
            prop_assert_eq!(preview.row_state, state);
            let place = preview.place.expect("banked DRAM places every address");
            prop_assert_eq!((u64::from(place.bank), u64::from(place.row), u64::from(place.column)), (bank, row, column));
            now = ready.min(now + gap / 2);
        }
    }
}

/// The decode and bank index as they were before #15 precomputed them: each
/// field's mask rebuilt from its width on every call, the bank index built with
/// shifts by the fields' widths. The oracle of the precomputed masks.
mod shift_decode {
    use super::super::banked::layout;
    use super::*;

    /// The address bits of one field: `bits` bits from bit `shift`.
    #[derive(Clone, Copy)]
    struct BitSlice {
        shift: u32,
        bits: u32,
    }

    impl BitSlice {
        fn extract(self, addr: u64) -> u32 {
            ((addr >> self.shift) & ((1u64 << self.bits) - 1)) as u32
        }
    }

    /// The coordinates of `addr` and its bank's index, the old way.
    pub(super) fn decode(config: &DramConfig, addr: u64) -> (DramCoordinates, usize) {
        let fields = layout(config);
        let slice =
            |f: AddressField| BitSlice { shift: fields[f as usize].shift, bits: fields[f as usize].width };
        let (channel, rank, bank) =
            (slice(AddressField::Channel), slice(AddressField::Rank), slice(AddressField::Bank));
        let c = DramCoordinates {
            channel: channel.extract(addr),
            rank: rank.extract(addr),
            bank: bank.extract(addr),
            row: slice(AddressField::Row).extract(addr),
            column: slice(AddressField::Column).extract(addr),
        };
        let index = (((c.channel as usize) << rank.bits | c.rank as usize) << bank.bits) | c.bank as usize;
        (c, index)
    }
}

/// The `dram` section of every shipped config with `Banked` timing.
fn shipped_banked_configs() -> Vec<(String, DramConfig)> {
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../configs");
    let mut out = Vec::new();
    for entry in std::fs::read_dir(&dir).expect("configs/ is readable") {
        let path = entry.expect("configs/ lists").path();
        if path.extension().is_none_or(|e| e != "ron") {
            continue;
        }
        let text = std::fs::read_to_string(&path).expect("a shipped config reads");
        // Comments out, then the parenthesized value after `dram:`.
        let text: String =
            text.lines().map(|l| l.split("//").next().unwrap_or("")).collect::<Vec<_>>().join("\n");
        let Some(at) = text.find("dram:") else { continue };
        let open = at + text[at..].find('(').expect("`dram:` is followed by a tuple");
        let mut depth = 0;
        let close = text[open..]
            .char_indices()
            .find_map(|(i, ch)| {
                depth += match ch {
                    '(' => 1,
                    ')' => -1,
                    _ => 0,
                };
                (depth == 0).then_some(open + i)
            })
            .expect("the dram tuple closes");
        let config: DramConfig = ron::from_str(&text[open..=close])
            .unwrap_or_else(|e| panic!("{}: dram section: {e}", path.display()));
        if matches!(config.timing, DramTiming::Banked { .. }) {
            out.push((path.display().to_string(), config));
        }
    }
    out
}

/// An address and a DRAM of every shipped banked geometry, both banks' sides of
/// the precomputed masks against the old shifts.
fn assert_decodes_as_before(name: &str, config: &DramConfig, addr: u64) {
    let (expected, expected_bank) = shift_decode::decode(config, addr);
    // The bank model alone: a whole DRAM's storage table is not needed here.
    let b = super::banked::Banked::new(config);
    assert_eq!(b.decode(PhysAddr::new(addr)), expected, "{name}: {addr:#x}");
    assert_eq!(b.bank_index(addr), expected_bank, "{name}: bank of {addr:#x}, in one extraction or three");
}

#[test]
fn every_shipped_banked_geometry_decodes_as_before() {
    let configs = shipped_banked_configs();
    assert!(
        configs.len() >= 5,
        "the shipped banked configs were found: {configs:?}",
        configs = configs.len()
    );
    let mut x = crate::testing::XorShift::new(15);
    for (name, config) in &configs {
        for _ in 0..10_000 {
            assert_decodes_as_before(name, config, x.below(config.capacity_bytes));
        }
        // And addresses of any width: the masks, not the capacity, bound each field.
        for _ in 0..1000 {
            assert_decodes_as_before(name, config, x.below(u64::MAX));
        }
    }
}

/// A banked DRAM of the given field widths in bits (channel, rank, bank,
/// burst offset, column, row), mapped `order`, with this file's timings.
fn geometry(order: Vec<AddressField>, bits: [u32; 6], policy: RowPolicy) -> DramConfig {
    let [channel_bits, rank_bits, bank_bits, burst_bits, column_bits, row_bits] = bits;
    let row_bytes = 1u64 << (burst_bits + column_bits);
    DramConfig {
        base: 0,
        capacity_bytes: row_bytes << (channel_bits + rank_bits + bank_bits + row_bits),
        timing: DramTiming::Banked {
            channels: 1 << channel_bits,
            ranks: 1 << rank_bits,
            banks: 1 << bank_bits,
            row_bytes,
            burst_bytes: 1 << burst_bits,
            mapping: order,
            policy,
            t_rcd: Cycles::new(T_RCD),
            t_cl: Cycles::new(T_CL),
            t_rp: Cycles::new(T_RP),
            t_ras: Cycles::new(T_RAS),
            t_burst: Cycles::new(T_BURST),
        },
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(256))]

    /// For any valid banked geometry and mapping order, and any address, the
    /// precomputed masks decode and index banks exactly as the old shifts did.
    #[test]
    fn precomputed_masks_decode_as_the_shifts_did(
        order in Just(AddressField::ALL.to_vec()).prop_shuffle(),
        channel_bits in 0u32..3, rank_bits in 0u32..3, bank_bits in 0u32..5,
        burst_bits in 2u32..8, column_bits in 0u32..6, row_bits in 10u32..24,
        addrs in proptest::collection::vec(any::<u64>(), 16),
    ) {
        let config = geometry(order, [channel_bits, rank_bits, bank_bits, burst_bits, column_bits, row_bits], RowPolicy::OpenPage);
        let capacity_bytes = config.capacity_bytes;
        prop_assert!(config.validate().is_ok());
        for a in addrs {
            assert_decodes_as_before("random geometry", &config, a % capacity_bytes);
            assert_decodes_as_before("random geometry", &config, a);
        }
    }
}

/// Which [`DataRun`] `open_data` gave: "fixed", "open page" or "banked".
fn run_kind(run: &DataRun<'_>) -> &'static str {
    match run {
        DataRun::Fixed(_) => "fixed",
        DataRun::OpenPage(_) => "open page",
        DataRun::Banked(_) => "banked",
    }
}

/// Whether the bank index is one field of the address, worked out from the
/// mapping as written (most significant first): the channel, rank and bank
/// fields that have bits are next to each other among the fields that have
/// bits, in that order.
fn bank_index_is_one_field(mapping: &[AddressField], width: impl Fn(AddressField) -> u32) -> bool {
    let present: Vec<AddressField> = mapping.iter().copied().filter(|&f| width(f) > 0).collect();
    let index: Vec<usize> = present
        .iter()
        .enumerate()
        .filter(|(_, f)| matches!(f, AddressField::Channel | AddressField::Rank | AddressField::Bank))
        .map(|(i, _)| i)
        .collect();
    let adjacent = index.windows(2).all(|w| w[1] == w[0] + 1);
    let in_order = index.iter().map(|&i| present[i] as usize).collect::<Vec<_>>().is_sorted();
    adjacent && in_order
}

/// `requests` (an address, whether it is a store, and the cycles from the
/// last one's data to its issue) through a run of data requests
/// ([`Dram::open_data`]) and one by one through [`PhysMem`], from a DRAM that
/// `warm` requests left in some state: the same times, values, counters, and
/// bank state after (the same times for `warm` again). The run opens `back`
/// cycles before the last warm request's data (a bank may still be busy).
/// Which run opened, and whether it opened before the last warm data.
fn run_matches_one_by_one(
    config: &DramConfig,
    warm: &[(u64, bool, u64)],
    back: u64,
    requests: &[(u64, bool, u64)],
) -> Result<(&'static str, bool), TestCaseError> {
    let (mut by_run, mut one_by_one) = (Dram::new(config), Dram::new(config));
    // Storage for every word, so that no store needs it allocated in the run.
    for &(a, ..) in warm.iter().chain(requests) {
        by_run.poke(PhysAddr::new(a), 1);
        one_by_one.poke(PhysAddr::new(a), 1);
    }
    let mut now = Cycle::ZERO;
    let step = |d: &mut Dram, now: Cycle, (a, store, gap): (u64, bool, u64)| {
        let at = now + Cycles::new(gap);
        let addr = PhysAddr::new(a);
        if store {
            Timed { value: 0, ready_at: d.write(at, addr, a as u32, Traffic::Data) }
        } else {
            d.read(at, addr, Traffic::Data)
        }
    };
    for &w in warm {
        let (a, b) = (step(&mut by_run, now, w), step(&mut one_by_one, now, w));
        prop_assert_eq!(a, b);
        now = a.ready_at;
    }
    let last_data = now;
    now = Cycle::new(now.as_u64().saturating_sub(back));
    let kind;
    {
        let mut run = by_run.open_data(now);
        kind = run_kind(&run);
        let (mut reads, mut writes) = (0, 0);
        for &(a, store, gap) in requests {
            let expected = step(&mut one_by_one, now, (a, store, gap));
            let at = now + Cycles::new(gap);
            let addr = PhysAddr::new(a);
            let got = match &mut run {
                DataRun::Fixed(r) => serve(r, at, addr, store),
                DataRun::OpenPage(r) => serve(r, at, addr, store),
                DataRun::Banked(r) => serve(r, at, addr, store),
            };
            prop_assert_eq!(got, expected, "request to {:#x}, store {}", a, store);
            (reads, writes) = if store { (reads, writes + 1) } else { (reads + 1, writes) };
            now = got.ready_at;
        }
        match &mut run {
            DataRun::Fixed(r) => r.settle(reads, writes, now),
            DataRun::OpenPage(r) => r.settle(reads, writes, now),
            DataRun::Banked(r) => r.settle(reads, writes, now),
        }
    }
    prop_assert_eq!(by_run.stats(), one_by_one.stats());
    // The banks were left alike: the warm-up's requests again take the same times.
    for &w in warm {
        let (a, b) = (step(&mut by_run, now, w), step(&mut one_by_one, now, w));
        prop_assert_eq!(a, b, "after the run");
        now = a.ready_at;
    }
    Ok((kind, last_data.as_u64() > last_data.as_u64().saturating_sub(back)))
}

/// One request through an open run, as the hit lane's runs make it.
fn serve(run: &mut impl DataRequests, at: Cycle, addr: PhysAddr, store: bool) -> Timed<u32> {
    if store {
        let ready_at =
            run.write_data(at, addr, addr.as_u64() as u32).expect("the word's storage is allocated");
        Timed { value: 0, ready_at }
    } else {
        run.read_data(at, addr)
    }
}

#[test]
fn a_run_opens_the_open_page_path_only_when_no_bank_is_busy() {
    let mut d = open_page();
    // A row miss at 100 keeps bank 0 busy until its data, at 128.
    assert_eq!(read_at(&mut d, 100, at(0, 5, 0)), 128);
    assert_eq!(run_kind(&d.open_data(Cycle::new(127))), "banked", "bank 0 is busy until 128");
    assert_eq!(run_kind(&d.open_data(Cycle::new(128))), "open page");
    let mut closed = Dram::new(&banked(RowPolicy::ClosedPage));
    assert_eq!(run_kind(&closed.open_data(Cycle::new(1000))), "banked", "closed page");
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(256))]

    /// For any banked geometry, mapping order and policy, a run of in-order
    /// requests (each issued after the one before is done) gives the times,
    /// values and counters of the same requests one by one, and leaves the
    /// banks the same; the open-page path serves it exactly when the policy is
    /// open page, the bank index is one field and no bank is busy.
    #[test]
    fn a_run_of_data_requests_is_the_requests_one_by_one(
        order in Just(AddressField::ALL.to_vec()).prop_shuffle(),
        channel_bits in 0u32..3, rank_bits in 0u32..3, bank_bits in 0u32..4,
        burst_bits in 2u32..8, column_bits in 0u32..4, row_bits in 1u32..8,
        closed_page in any::<bool>(),
        // Few rows and words, so rows hit, miss and conflict.
        warm in proptest::collection::vec((0u64..64, any::<bool>(), 0u64..60), 0..20),
        requests in proptest::collection::vec((0u64..64, any::<bool>(), 0u64..60), 1..60),
        back in prop_oneof![Just(0u64), 1u64..40],
        pick in any::<u64>(),
    ) {
        // At least 4 KiB, the smallest capacity.
        let row_bits = row_bits.max(12u32.saturating_sub(burst_bits + column_bits + channel_bits + rank_bits + bank_bits));
        let policy = if closed_page { RowPolicy::ClosedPage } else { RowPolicy::OpenPage };
        let bits = [channel_bits, rank_bits, bank_bits, burst_bits, column_bits, row_bits];
        let config = geometry(order.clone(), bits, policy);
        let capacity_bytes = config.capacity_bytes;
        prop_assert!(config.validate().is_ok());
        // 64 word addresses spread over the whole capacity by a multiplier.
        let spread = |(n, store, gap): (u64, bool, u64)| {
            ((n.wrapping_mul(pick | 1).wrapping_add(pick >> 7) % capacity_bytes) & !3, store, gap)
        };
        let warm: Vec<_> = warm.into_iter().map(spread).collect();
        let requests: Vec<_> = requests.into_iter().map(spread).collect();
        let (kind, opened_early) = run_matches_one_by_one(&config, &warm, back, &requests)?;
        let width = |f: AddressField| match f {
            AddressField::Channel => channel_bits,
            AddressField::Rank => rank_bits,
            AddressField::Bank => bank_bits,
            AddressField::Row => row_bits,
            AddressField::Column => column_bits,
        };
        // With open page, a bank is ready when its last request's data is:
        // opened before the last warm request's data, one bank is busy.
        let open_page = !closed_page && bank_index_is_one_field(&order, width) && !opened_early;
        let expected = if open_page { "open page" } else { "banked" };
        prop_assert_eq!(kind, expected, "{:?}", order);
    }

    /// The same with a `Fixed` DRAM.
    #[test]
    fn a_run_of_fixed_requests_is_the_requests_one_by_one(
        requests in proptest::collection::vec((0u64..1024, any::<bool>(), 0u64..60), 1..60),
    ) {
        let config = DramConfig { base: 0, capacity_bytes: 1 << 20, timing: DramTiming::Fixed { latency: Cycles::new(7) } };
        let requests: Vec<_> = requests.into_iter().map(|(n, s, g)| (n * 4, s, g)).collect();
        let warm = &requests[..requests.len() / 2];
        prop_assert_eq!(run_matches_one_by_one(&config, warm, 0, &requests)?.0, "fixed");
    }
}
