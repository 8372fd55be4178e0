//! Walk statistics: how many walks, what they read and wrote, how long they took,
//! and a histogram of their latencies.

use super::WalkOutcome;
use crate::time::Cycles;
use serde::Serialize;
use serde::ser::{SerializeSeq, Serializer};

/// Buckets per power of two: each octave `[2^e, 2^(e+1))` splits into four equal
/// parts, so a bucket is at most 25% wide and a row hit, a row miss and a row
/// conflict of a real DRAM land in different buckets.
const SUB_BUCKETS: u64 = 4;
/// Buckets 0..3 hold the values 0..3; then four per octave up to 2^64.
const BUCKETS: usize = 4 + 4 * 62;

/// A histogram of latencies in cycles, with quarter-octave buckets.
///
/// Fixed size (252 counters), so recording never allocates. Serialized as the
/// non-empty buckets only, each `{ from, to, count }` with inclusive bounds.
#[derive(Clone, PartialEq, Eq)]
pub struct LatencyHistogram {
    counts: [u64; BUCKETS],
}

impl Default for LatencyHistogram {
    fn default() -> Self {
        Self { counts: [0; BUCKETS] }
    }
}

/// One non-empty bucket of a [`LatencyHistogram`].
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
pub struct HistogramBucket {
    /// Smallest latency in the bucket.
    pub from: u64,
    /// Largest latency in the bucket.
    pub to: u64,
    /// Latencies recorded in it.
    pub count: u64,
}

impl LatencyHistogram {
    #[inline]
    fn index(cycles: u64) -> usize {
        if cycles < SUB_BUCKETS {
            return cycles as usize;
        }
        let octave = 63 - u64::from(cycles.leading_zeros()); // >= 2
        let sub = (cycles >> (octave - 2)) & (SUB_BUCKETS - 1);
        (SUB_BUCKETS * (octave - 1) + sub) as usize
    }

    fn bounds(index: usize) -> (u64, u64) {
        let i = index as u64;
        if i < SUB_BUCKETS {
            return (i, i);
        }
        let octave = i / SUB_BUCKETS + 1;
        let sub = i % SUB_BUCKETS;
        let from = (SUB_BUCKETS + sub) << (octave - 2);
        let width = 1u64 << (octave - 2);
        (from, from + (width - 1))
    }

    /// Counts one latency.
    #[inline]
    pub fn record(&mut self, latency: Cycles) {
        self.counts[Self::index(latency.as_u64())] += 1;
    }

    /// Latencies recorded.
    pub fn total(&self) -> u64 {
        self.counts.iter().sum()
    }

    /// The non-empty buckets, shortest latencies first.
    pub fn buckets(&self) -> impl Iterator<Item = HistogramBucket> + '_ {
        self.counts.iter().enumerate().filter(|&(_, &count)| count > 0).map(|(i, &count)| {
            let (from, to) = Self::bounds(i);
            HistogramBucket { from, to, count }
        })
    }
}

impl core::fmt::Debug for LatencyHistogram {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.debug_list().entries(self.buckets()).finish()
    }
}

impl Serialize for LatencyHistogram {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let mut seq = s.serialize_seq(None)?;
        for bucket in self.buckets() {
            seq.serialize_element(&bucket)?;
        }
        seq.end()
    }
}

/// Counters of the hardware page walker.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize)]
pub struct WalkStats {
    /// Walks started.
    pub walks: u64,
    /// Walks that ended in a fault.
    pub faulting_walks: u64,
    /// PTEs read from DRAM.
    pub pte_reads: u64,
    /// PTEs written to DRAM to set A/D bits.
    pub pte_writes: u64,
    /// Cycles from the start to the end of every walk, summed.
    pub walk_cycles: u64,
    /// The distribution of walk latencies.
    pub latency: LatencyHistogram,
}

impl WalkStats {
    /// Counts one walk.
    #[inline]
    pub fn record(&mut self, out: &WalkOutcome) {
        let cycles = out.latency();
        self.walks += 1;
        self.faulting_walks += u64::from(out.result.is_err());
        self.pte_reads += u64::from(out.pte_reads);
        self.pte_writes += u64::from(out.pte_writes);
        self.walk_cycles += cycles.as_u64();
        self.latency.record(cycles);
    }

    /// Mean PTE reads per walk, `None` without walks.
    pub fn pte_reads_per_walk(&self) -> Option<f64> {
        (self.walks > 0).then(|| self.pte_reads as f64 / self.walks as f64)
    }

    /// Mean walk latency in cycles, `None` without walks.
    pub fn average_cycles(&self) -> Option<f64> {
        (self.walks > 0).then(|| self.walk_cycles as f64 / self.walks as f64)
    }

    /// Writes the counters as fields of an enclosing struct (the run report keeps
    /// them at its top level): `walks`, `pte_reads`, `pte_writes`, `walk_cycles`,
    /// `faulting_walks`, `walk_latency`. A new counter is added here only.
    ///
    /// # Errors
    /// The serializer's.
    pub fn serialize_fields<S: serde::ser::SerializeStruct>(&self, s: &mut S) -> Result<(), S::Error> {
        s.serialize_field("walks", &self.walks)?;
        s.serialize_field("pte_reads", &self.pte_reads)?;
        s.serialize_field("pte_writes", &self.pte_writes)?;
        s.serialize_field("walk_cycles", &self.walk_cycles)?;
        s.serialize_field("faulting_walks", &self.faulting_walks)?;
        s.serialize_field("walk_latency", &self.latency)
    }

    /// How many fields [`WalkStats::serialize_fields`] writes.
    pub const FIELDS: usize = 6;
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::access::AccessKind;
    use crate::addr::VirtAddr;
    use crate::fault::{Fault, FaultKind};
    use crate::time::Cycle;

    /// The slow definition: the bucket of `v` is the one whose bounds contain it.
    fn reference_index(v: u64) -> usize {
        (0..BUCKETS)
            .find(|&i| {
                let (from, to) = LatencyHistogram::bounds(i);
                from <= v && v <= to
            })
            .expect("the buckets cover every u64")
    }

    #[test]
    fn buckets_tile_the_line_without_gaps_or_overlap() {
        let mut next = 0u64;
        for i in 0..BUCKETS {
            let (from, to) = LatencyHistogram::bounds(i);
            assert_eq!(from, next, "bucket {i} starts where {} ended", i.wrapping_sub(1));
            assert!(to >= from);
            next = to.wrapping_add(1);
        }
        assert_eq!(next, 0, "the last bucket ends at u64::MAX");
        for v in (0..2000).chain([4095, 4096, 5119, 5120, 1 << 40, u64::MAX]) {
            assert_eq!(LatencyHistogram::index(v), reference_index(v), "{v}");
        }
    }

    #[test]
    fn quarter_octave_buckets() {
        // 96 = 0b110_0000: octave 6 (64..127) is split into 64-79, 80-95, 96-111, 112-127.
        assert_eq!(LatencyHistogram::bounds(LatencyHistogram::index(96)), (96, 111));
        assert_eq!(LatencyHistogram::bounds(LatencyHistogram::index(95)), (80, 95));
        assert_eq!(LatencyHistogram::bounds(LatencyHistogram::index(3)), (3, 3));
        assert_eq!(LatencyHistogram::bounds(LatencyHistogram::index(9)), (8, 9));
    }

    #[test]
    fn record_counts_walks_and_serializes_non_empty_buckets() {
        let mut s = WalkStats::default();
        let outcome = |start, end, reads, writes| WalkOutcome {
            result: Err(Fault {
                kind: FaultKind::NotPresent,
                vaddr: VirtAddr::new(0),
                access: AccessKind::Read,
                level: Some(1),
            }),
            started_at: Cycle::new(start),
            done_at: Cycle::new(end),
            pte_reads: reads,
            pte_writes: writes,
        };
        s.record(&outcome(100, 200, 2, 0)); // 100 cycles: bucket 96-111
        s.record(&outcome(1000, 1106, 2, 1)); // 106 cycles: bucket 96-111
        s.record(&outcome(0, 43, 1, 0)); // 43 cycles: octave 32-63 in 8s: 40-47
        assert_eq!((s.walks, s.faulting_walks, s.pte_reads, s.pte_writes, s.walk_cycles), (3, 3, 5, 1, 249));
        assert_eq!(s.average_cycles(), Some(83.0));
        assert_eq!(s.pte_reads_per_walk(), Some(5.0 / 3.0));
        assert_eq!(
            s.latency.buckets().collect::<Vec<_>>(),
            vec![
                HistogramBucket { from: 40, to: 47, count: 1 },
                HistogramBucket { from: 96, to: 111, count: 2 }
            ]
        );
        assert_eq!(s.latency.total(), 3);
        assert_eq!(
            serde_json::to_string(&s.latency).unwrap(),
            r#"[{"from":40,"to":47,"count":1},{"from":96,"to":111,"count":2}]"#
        );
        assert_eq!(WalkStats::default().average_cycles(), None);
    }
}
