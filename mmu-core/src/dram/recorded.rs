//! A DRAM that tells a [`Recorder`] about each request before serving it: what
//! the walker reads through during an explained access.

use super::Dram;
use crate::addr::PhysAddr;
use crate::event::{Event, Hex, Recorder};
use crate::mem::{PhysMem, Traffic};
use crate::time::{Cycle, Timed};

/// [`Dram`] seen through a recorder: each read and write is described (place,
/// row state, latency terms) and then served by the DRAM itself, so its timing
/// and counters are exactly those of an unrecorded run.
pub struct RecordedDram<'a, R: Recorder> {
    /// The DRAM.
    pub dram: &'a mut Dram,
    /// Where the requests' stories go.
    pub recorder: R,
}

impl<R: Recorder> RecordedDram<'_, R> {
    fn record(
        &self,
        now: Cycle,
        addr: PhysAddr,
        op: &'static str,
        traffic: Traffic,
        done: Cycle,
        preview: crate::event::DramPreview,
    ) {
        self.recorder.record(Event::Dram {
            at: now.as_u64(),
            op,
            traffic: match traffic {
                Traffic::PageTable => "page_table",
                Traffic::Data => "data",
            },
            addr: Hex(addr.as_u64()),
            preview,
            cycles: done.since(now).as_u64(),
        });
    }
}

impl<R: Recorder> PhysMem for RecordedDram<'_, R> {
    fn read(&mut self, now: Cycle, addr: PhysAddr, traffic: Traffic) -> Timed<u32> {
        if !R::ON {
            return self.dram.read(now, addr, traffic);
        }
        let preview = self.dram.preview(now, addr);
        let read = self.dram.read(now, addr, traffic);
        self.record(now, addr, "read", traffic, read.ready_at, preview);
        read
    }
    fn write(&mut self, now: Cycle, addr: PhysAddr, value: u32, traffic: Traffic) -> Cycle {
        if !R::ON {
            return self.dram.write(now, addr, value, traffic);
        }
        let preview = self.dram.preview(now, addr);
        let done = self.dram.write(now, addr, value, traffic);
        self.record(now, addr, "write", traffic, done, preview);
        done
    }
    fn contains(&self, addr: PhysAddr) -> bool {
        self.dram.contains(addr)
    }
}
