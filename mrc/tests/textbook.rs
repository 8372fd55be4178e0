//! Published page-fault counts: the one-pass results (and the oracles) must
//! reproduce the textbooks' figures.

mod oracle;

use mrc::{lru_faults, opt_faults};

/// Silberschatz, Galvin and Gagne, "Operating System Concepts", the reference string
/// of the page-replacement section (figures "FIFO", "optimal", "LRU page-replacement
/// algorithm"), with 3 frames: FIFO 15 faults, OPT 9, LRU 12.
const SILBERSCHATZ: [u64; 20] = [7, 0, 1, 2, 0, 3, 0, 4, 2, 3, 0, 3, 2, 1, 2, 0, 1, 7, 0, 1];

/// The string the same book (and most others) shows Belady's anomaly with (Belady,
/// Nelson and Shedler, "An anomaly in space-time characteristics of certain programs
/// running in a paging machine", CACM 12(6), 1969): FIFO faults more with 4 frames
/// (10) than with 3 (9). The stack algorithms cannot: LRU 10 then 8, OPT 7 then 6
/// (by hand: OPT with 3 frames faults on 1, 2, 3, 4, 5, 3, 4; with 4 on 1, 2, 3, 4,
/// 5, 4).
const BELADY_ANOMALY: [u64; 12] = [1, 2, 3, 4, 1, 2, 5, 1, 2, 3, 4, 5];

/// (string, frames, FIFO, LRU, OPT)
const PUBLISHED: [(&[u64], u64, u64, u64, u64); 3] =
    [(&SILBERSCHATZ, 3, 15, 12, 9), (&BELADY_ANOMALY, 3, 9, 10, 7), (&BELADY_ANOMALY, 4, 10, 8, 6)];

#[test]
fn oracles_reproduce_the_published_counts() {
    for &(string, frames, fifo, lru, opt) in &PUBLISHED {
        assert_eq!(oracle::fifo_page_faults(string, frames), fifo, "FIFO, {frames} frames");
        assert_eq!(oracle::lru_page_faults(string, frames), lru, "LRU, {frames} frames");
        assert_eq!(oracle::opt_page_faults(string, frames), opt, "OPT, {frames} frames");
    }
}

#[test]
fn one_pass_lru_and_opt_reproduce_the_published_counts() {
    for &(string, frames, _, lru, opt) in &PUBLISHED {
        assert_eq!(lru_faults(string, &[frames]), [lru], "LRU, {frames} frames");
        assert_eq!(opt_faults(string, &[frames]), [opt], "OPT, {frames} frames");
    }
}

#[test]
fn silberschatz_string_for_every_frame_count() {
    // 6 distinct pages: from 6 frames on, only the 6 cold faults remain. Counts
    // from the oracles; 3 frames as published.
    let frames: Vec<u64> = (0..=8).collect();
    let lru: Vec<u64> = frames.iter().map(|&f| oracle::lru_page_faults(&SILBERSCHATZ, f)).collect();
    let opt: Vec<u64> = frames.iter().map(|&f| oracle::opt_page_faults(&SILBERSCHATZ, f)).collect();
    assert_eq!(lru_faults(&SILBERSCHATZ, &frames), lru);
    assert_eq!(opt_faults(&SILBERSCHATZ, &frames), opt);
    assert_eq!(lru[6..], [6, 6, 6]);
    assert_eq!(opt[6..], [6, 6, 6]);
    assert_eq!(lru[0], 20);
    assert_eq!(opt[0], 20);
}

#[test]
fn opt_never_faults_more_than_lru() {
    for f in 0..8 {
        let lru = lru_faults(&SILBERSCHATZ, &[f]);
        let opt = opt_faults(&SILBERSCHATZ, &[f]);
        assert!(opt <= lru, "{f} frames: OPT {opt:?} > LRU {lru:?}");
    }
}
