//! The `--check` data-integrity oracle: a plain reference memory, keyed by
//! (process or shared object, address) as a program sees it, that records every
//! store and against which every load is compared. Never iterated, so the map's
//! order cannot reach the report.

use crate::error::SimError;
use mmu_core::{AccessKind, MemRequest, Pid};
use os_model::{Os, Owner};
use serde::Serialize;
use std::collections::HashMap;

/// What the data-integrity oracle verified: every load it checked returned the
/// last value stored at that address (else the run stops with `CheckFailed`).
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize)]
pub struct CheckStats {
    /// Loads compared with the reference memory.
    pub loads_checked: u64,
    /// Stores recorded in the reference memory.
    pub stores_recorded: u64,
    /// Distinct words the reference memory holds.
    pub words_tracked: u64,
}

/// The last value stored at each word.
#[derive(Default)]
pub(crate) struct Oracle {
    memory: HashMap<(Owner, u32), u32>,
    loads_checked: u64,
    stores_recorded: u64,
}

impl Oracle {
    /// Checks a completed load against the reference memory, or records a store.
    #[inline(never)]
    pub(crate) fn observe(
        &mut self,
        os: &Os,
        pid: Pid,
        index: u64,
        request: MemRequest,
        loaded: u32,
    ) -> Result<(), SimError> {
        let word = mmu_core::VirtAddr::new(request.vaddr.as_u32() & !3);
        let key = os.word_key(pid, word);
        let offset = u64::from(request.vaddr.as_u32());
        match request.kind {
            AccessKind::Read | AccessKind::Fetch => {
                let Some(key) = key else {
                    return Err(SimError::Internal(format!(
                        "a load from {} outside every region completed",
                        request.vaddr
                    )));
                };
                self.loads_checked += 1;
                let expected = request.width.extract(self.memory.get(&key).copied().unwrap_or(0), offset);
                if expected != loaded {
                    return Err(SimError::CheckFailed {
                        index,
                        pid,
                        vaddr: request.vaddr,
                        expected,
                        found: loaded,
                    });
                }
            }
            AccessKind::Write => {
                if let Some(key) = key {
                    self.stores_recorded += 1;
                    let old = self.memory.get(&key).copied().unwrap_or(0);
                    self.memory.insert(key, request.width.insert(old, offset, request.value));
                }
            }
        }
        Ok(())
    }

    /// Records a word a loader put in memory (a program's segments, its stack).
    pub(crate) fn preload(&mut self, key: (Owner, u32), value: u32) {
        self.memory.insert(key, value);
    }

    /// Zeroes the counts, keeping the reference memory (the end of a warm-up).
    pub(crate) fn reset_counts(&mut self) {
        (self.loads_checked, self.stores_recorded) = (0, 0);
    }

    pub(crate) fn stats(&self) -> CheckStats {
        CheckStats {
            loads_checked: self.loads_checked,
            stores_recorded: self.stores_recorded,
            words_tracked: self.memory.len() as u64,
        }
    }
}
