//! The one-pass results equal slow per-size simulations, on generated streams.
//!
//! Streams come in three shapes: a small key space (hits at every size), a large
//! one (mostly cold and capacity misses), and a mix with several address spaces,
//! so that keys sharing a page number but not an ASID collide in a set.

mod oracle;

use mrc::{
    Geometry, GeometryError, LruStack, OptStack, SetAssocSweep, StackHistogram, TlbCurve, lru_faults,
    lru_faults_after, next_uses, opt_faults, opt_faults_after, tlb_key,
};
use proptest::prelude::*;

/// Every geometry the tests sweep: all power-of-two shapes up to 64 entries, the
/// 12- and 6-way shapes of real L2 TLBs and other non-power-of-two ways, and shapes
/// deeper than `SCAN_WAYS` (the per-set Fenwick stacks), including duplicates.
/// With these, 2 and 4 sets are swept by Fenwick stacks, 1 set by the full stack
/// and the other set counts by arrays.
fn geometries() -> Vec<Geometry> {
    let mut all = Vec::new();
    for entries in [1u64, 2, 4, 8, 16, 32, 64] {
        let mut ways = 1;
        while ways <= entries {
            all.push(Geometry::new(entries, ways));
            ways *= 2;
        }
    }
    all.extend([
        Geometry::new(12, 3),
        Geometry::new(24, 3),
        Geometry::new(40, 5),
        Geometry::new(24, 6),
        Geometry::new(48, 12),
        Geometry::new(96, 12),
        Geometry::new(96, 48),
        Geometry::new(192, 48),
        Geometry::new(80, 40),
        Geometry::fully_associative(100),
        Geometry::fully_associative(1000),
        Geometry::new(8, 2),
    ]);
    all
}

/// (ASID, page number) references.
fn small_pages() -> impl Strategy<Value = Vec<(u16, u32)>> {
    prop::collection::vec((Just(1u16), 0u32..12), 0..600)
}
fn large_pages() -> impl Strategy<Value = Vec<(u16, u32)>> {
    prop::collection::vec((Just(1u16), 0u32..1_000_000), 0..600)
}
fn mixed_pages() -> impl Strategy<Value = Vec<(u16, u32)>> {
    let page = prop_oneof![6 => 0u32..40, 3 => 0u32..400, 1 => any::<u32>()];
    prop::collection::vec((0u16..3, page), 0..1500)
}

/// Runs of the same page, 1 to 4 long, as accesses walking through a page make.
fn runs_of_pages() -> impl Strategy<Value = Vec<(u16, u32)>> {
    prop::collection::vec((0u16..2, 0u32..30, 1usize..5), 0..500).prop_map(|runs| {
        runs.into_iter().flat_map(|(asid, vpn, n)| std::iter::repeat_n((asid, vpn), n)).collect()
    })
}

fn tlb_references(pages: &[(u16, u32)]) -> Vec<(u64, u64)> {
    pages.iter().map(|&(asid, vpn)| (tlb_key(vpn, 12, Some(asid)), u64::from(vpn))).collect()
}

fn check_curve(pages: &[(u16, u32)]) -> Result<(), TestCaseError> {
    let references = tlb_references(pages);
    let requested = geometries();
    let mut curve = TlbCurve::new(&requested).expect("the test geometries are valid");
    for &(key, vpn) in &references {
        curve.reference(key, vpn);
    }
    let distinct = references.iter().map(|r| r.0).collect::<std::collections::BTreeSet<_>>().len();
    for (point, g) in curve.points().iter().zip(&requested) {
        prop_assert_eq!((point.entries, point.ways, point.sets), (g.entries, g.ways, g.sets()));
        prop_assert_eq!(point.references, references.len() as u64);
        prop_assert_eq!(point.cold_misses, distinct as u64);
        let want = oracle::lru_cache_misses(&references, g.sets(), g.ways);
        prop_assert_eq!(point.misses, want, "{} entries, {} ways", g.entries, g.ways);
    }
    Ok(())
}

fn check_opt(keys: &[u64]) -> Result<(), TestCaseError> {
    let distinct = keys.iter().collect::<std::collections::BTreeSet<_>>().len() as u64;
    let frames: Vec<u64> = (0..=distinct + 1).chain([distinct + 50, u64::MAX]).collect();
    let got = opt_faults(keys, &frames);
    for (&f, &faults) in frames.iter().zip(&got) {
        let want = oracle::opt_page_faults(keys, f.min(distinct + 1));
        prop_assert_eq!(faults, want, "OPT with {} frames", f);
    }
    Ok(())
}

fn check_lru_faults(keys: &[u64]) -> Result<(), TestCaseError> {
    let distinct = keys.iter().collect::<std::collections::BTreeSet<_>>().len() as u64;
    let frames: Vec<u64> = (0..=distinct + 1).chain([u64::MAX]).collect();
    let got = lru_faults(keys, &frames);
    for (&f, &faults) in frames.iter().zip(&got) {
        prop_assert_eq!(faults, oracle::lru_page_faults(keys, f.min(distinct + 1)), "LRU with {} frames", f);
    }
    Ok(())
}

/// The one-pass curves with a warm-up: the first `warmup` references fill the
/// stack uncounted, as they fill the frames of a run uncounted.
fn check_after_a_warm_up(keys: &[u64], warmup: usize) -> Result<(), TestCaseError> {
    let distinct = keys.iter().collect::<std::collections::BTreeSet<_>>().len() as u64;
    let frames: Vec<u64> = (0..=distinct + 1).collect();
    let (lru, opt) = (lru_faults_after(keys, warmup, &frames), opt_faults_after(keys, warmup, &frames));
    for (i, &f) in frames.iter().enumerate() {
        prop_assert_eq!(lru[i], oracle::lru_page_faults_after(keys, warmup, f), "LRU with {} frames", f);
        prop_assert_eq!(opt[i], oracle::opt_page_faults_after(keys, warmup, f), "OPT with {} frames", f);
    }
    Ok(())
}

proptest! {
    #[test]
    fn curves_after_a_warm_up_equal_per_size_simulations(
        keys in prop::collection::vec(0u64..30, 0..400),
        warmup in 0usize..500,
    ) {
        check_after_a_warm_up(&keys, warmup)?;
    }

    #[test]
    fn tlb_curve_equals_per_geometry_lru_simulation_small_footprint(pages in small_pages()) {
        check_curve(&pages)?;
    }

    #[test]
    fn tlb_curve_equals_per_geometry_lru_simulation_large_footprint(pages in large_pages()) {
        check_curve(&pages)?;
    }

    #[test]
    fn tlb_curve_equals_per_geometry_lru_simulation_mixed_address_spaces(pages in mixed_pages()) {
        check_curve(&pages)?;
    }

    #[test]
    fn tlb_curve_equals_per_geometry_lru_simulation_runs_of_pages(pages in runs_of_pages()) {
        check_curve(&pages)?;
    }

    #[test]
    fn lru_stack_distances_equal_mattsons_list_on_runs(pages in runs_of_pages()) {
        let keys: Vec<u64> = pages.iter().map(|&(asid, vpn)| u64::from(vpn) * 2 + u64::from(asid)).collect();
        let mut stack = LruStack::new();
        let got: Vec<_> = keys.iter().map(|&k| stack.reference(k)).collect();
        prop_assert_eq!(got, oracle::lru_stack_distances(&keys));
    }

    #[test]
    fn lru_stack_distances_equal_mattsons_list(keys in prop::collection::vec(0u64..50, 0..3000)) {
        let mut stack = LruStack::new();
        let got: Vec<_> = keys.iter().map(|&k| stack.reference(k)).collect();
        prop_assert_eq!(got, oracle::lru_stack_distances(&keys));
    }

    #[test]
    fn lru_faults_equal_per_frame_count_simulation(keys in prop::collection::vec(0u64..20, 0..400)) {
        check_lru_faults(&keys)?;
    }

    #[test]
    fn opt_faults_equal_beladys_rule_small_key_space(keys in prop::collection::vec(0u64..8, 0..300)) {
        check_opt(&keys)?;
    }

    #[test]
    fn opt_faults_equal_beladys_rule_medium_key_space(keys in prop::collection::vec(0u64..40, 0..400)) {
        check_opt(&keys)?;
    }

    #[test]
    fn opt_faults_equal_beladys_rule_large_key_space(
        keys in prop::collection::vec(prop_oneof![3 => 0u64..30, 1 => any::<u64>()], 0..300),
    ) {
        check_opt(&keys)?;
    }

    /// A set count that is not a power of two indexes modulo, and the deep (Fenwick)
    /// and shallow (array) stacks agree with the oracle alike.
    #[test]
    fn set_assoc_sweep_with_any_set_count_equals_lru_simulation(
        sets in 1u64..7,
        deep in any::<bool>(),
        refs in prop::collection::vec((0u64..60, 0u64..100), 0..800),
    ) {
        let max_ways = if deep { 40 } else { 6 };
        let mut sweep = SetAssocSweep::try_new(sets, max_ways).expect("small");
        let references: Vec<(u64, u64)> = refs.iter().map(|&(key, set)| (key * 1000 + set, set)).collect();
        for &(key, set) in &references {
            sweep.reference(set, key);
        }
        for ways in 0..=max_ways {
            let want = oracle::lru_cache_misses(&references, sets, ways);
            prop_assert_eq!(sweep.misses(ways), Some(want), "{} sets x {} ways", sets, ways);
        }
        prop_assert_eq!(sweep.misses(max_ways + 1), None);
    }

    /// A truncated OPT stack answers exactly up to its depth, and nothing beyond.
    #[test]
    fn a_shallow_opt_stack_is_exact_up_to_its_depth(
        keys in prop::collection::vec(0u64..25, 0..300),
        depth in 1u64..10,
    ) {
        let mut stack = OptStack::new(depth);
        for next in next_uses(&keys) {
            stack.reference(next);
        }
        for f in 0..=depth {
            prop_assert_eq!(stack.histogram().misses(f), Some(oracle::opt_page_faults(&keys, f)));
        }
        prop_assert_eq!(stack.histogram().misses(depth + 1), None);
    }

    /// A flush empties every structure, as `invalidate_all` empties a TLB: the same
    /// as two independent runs, except that cold misses add up.
    #[test]
    fn a_flush_is_two_separate_runs(before in small_pages(), after in mixed_pages()) {
        let requested = geometries();
        let mut flushed = TlbCurve::new(&requested).expect("valid");
        let mut first = TlbCurve::new(&requested).expect("valid");
        let mut second = TlbCurve::new(&requested).expect("valid");
        for &(key, vpn) in &tlb_references(&before) {
            flushed.reference(key, vpn);
            first.reference(key, vpn);
        }
        flushed.flush();
        for &(key, vpn) in &tlb_references(&after) {
            flushed.reference(key, vpn);
            second.reference(key, vpn);
        }
        for ((f, a), b) in flushed.points().iter().zip(first.points()).zip(second.points()) {
            prop_assert_eq!(f.misses, a.misses + b.misses);
            prop_assert_eq!(f.cold_misses, a.cold_misses + b.cold_misses);
        }
    }
}

/// Geometry rules, each row naming the rule it breaks.
const BAD_GEOMETRIES: [(u64, u64, &str); 6] = [
    (0, 1, "no entries"),
    (4, 0, "no ways"),
    (12, 5, "ways must divide entries"),
    (12, 4, "3 sets: not a power of two"),
    (48, 16, "3 sets: not a power of two"),
    (1 << 25, 1, "above MAX_ENTRIES"),
];

#[test]
fn geometries_no_tlb_could_have_are_refused() {
    for (entries, ways, rule) in BAD_GEOMETRIES {
        let g = Geometry::new(entries, ways);
        assert!(g.validate().is_err(), "{rule}: {g:?}");
        assert!(TlbCurve::new(&[Geometry::fully_associative(8), g]).is_err(), "{rule}");
    }
    assert_eq!(Geometry::new(12, 5).validate(), Err(GeometryError::WaysDoNotDivide { entries: 12, ways: 5 }));
    assert_eq!(
        GeometryError::SetsNotPowerOfTwo { entries: 12, ways: 4, sets: 3 }.to_string(),
        "12 entries of 4 ways make 3 sets, which is not a power of two"
    );
    assert!(SetAssocSweep::try_new(0, 4).is_err());
    assert!(SetAssocSweep::try_new(4, 0).is_err());
    assert!(SetAssocSweep::try_new(u64::MAX, u64::MAX).is_err());
}

#[test]
fn a_key_referenced_again_right_after_a_flush_is_cold() {
    let requested = [Geometry::new(4, 1), Geometry::fully_associative(4)];
    let mut curve = TlbCurve::new(&requested).expect("valid");
    curve.reference(5, 5);
    curve.flush();
    curve.reference(5, 5);
    curve.reference(5, 5);
    for point in curve.points() {
        assert_eq!((point.references, point.misses, point.cold_misses), (3, 2, 2), "{point:?}");
    }
    let mut stack = LruStack::new();
    stack.reference(5);
    stack.flush();
    assert_eq!(stack.reference(5), None);
    assert_eq!(stack.reference(5), Some(0));
}

#[test]
fn a_curve_answers_only_what_it_was_asked_for() {
    let mut curve = TlbCurve::new(&[Geometry::new(16, 4)]).expect("valid");
    for vpn in 0..100u64 {
        curve.reference(vpn % 7, vpn % 7);
    }
    // Any fully associative size: the full stack is always kept.
    assert_eq!(curve.misses(Geometry::fully_associative(7)), Some(7));
    assert_eq!(curve.misses(Geometry::fully_associative(3)), Some(100));
    // 4 sets up to 4 ways; not 8 ways, nor another set count.
    assert!(curve.misses(Geometry::new(8, 2)).is_some());
    assert_eq!(curve.misses(Geometry::new(32, 8)), None);
    assert_eq!(curve.misses(Geometry::new(32, 4)), None);
    assert_eq!(curve.misses(Geometry::new(12, 5)), None);
}

#[test]
fn an_empty_stream_and_no_request_give_empty_answers() {
    assert_eq!(opt_faults(&[], &[0, 1, u64::MAX]), [0, 0, 0]);
    assert_eq!(lru_faults(&[], &[0, 1, u64::MAX]), [0, 0, 0]);
    assert_eq!(opt_faults(&[1, 2], &[]), Vec::<u64>::new());
    let curve = TlbCurve::new(&[]).expect("nothing to validate");
    assert!(curve.points().is_empty());
    assert_eq!(StackHistogram::new().misses(0), Some(0));
}

proptest! {
    /// Any numbers at all, however meaningless, are taken without panicking.
    #[test]
    fn arbitrary_inputs_do_not_panic(
        sets in 1u64..9,
        ways in 1u64..50,
        values in prop::collection::vec(any::<u64>(), 0..200),
        size in any::<u64>(),
    ) {
        let mut sweep = SetAssocSweep::try_new(sets, ways).expect("small");
        let mut stack = LruStack::new();
        let mut opt = OptStack::new(size);
        let mut histogram = StackHistogram::new();
        for &v in &values {
            sweep.reference(v, v.rotate_left(7));
            histogram.record(stack.reference(v % 17));
            opt.reference(v);
            histogram.record(Some(v));
        }
        let _ = (sweep.misses(size), histogram.misses(size), histogram.hits(size), opt.histogram().misses(size));
        let _ = (opt_faults(&values, &[size]), lru_faults(&values, &[size]));
    }
}

/// Large keys and set numbers of any value are taken without panicking.
#[test]
fn extreme_keys_and_set_numbers_do_not_panic() {
    let mut sweep = SetAssocSweep::try_new(3, 2).expect("small");
    let mut curve = TlbCurve::new(&[Geometry::new(4, 2), Geometry::fully_associative(4)]).expect("valid");
    for &x in &[0, 1, u64::MAX, u64::MAX - 1, 1 << 63] {
        sweep.reference(x, x);
        curve.reference(x, x);
    }
    assert_eq!(sweep.references(), 5);
    assert_eq!(curve.references(), 5);
    let mut stack = OptStack::new(u64::MAX);
    for next in [5, 0, u64::MAX, 3] {
        stack.reference(next); // Not one sequence's next uses: counts are meaningless, but no panic.
    }
}
