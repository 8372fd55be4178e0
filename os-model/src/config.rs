//! The OS model's config: handler costs, the data-frame split, the replacement
//! policy and the swap device.

use crate::replacement::PageReplacement;
use crate::swap::SwapConfig;
use mmu_core::Cycles;
use mmu_core::config::InvalidField;
use serde::{Deserialize, Serialize};

/// The OS's costs and policies. Owned by the OS model.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct OsConfig {
    /// Entering and leaving the fault handler, charged on every page fault.
    pub trap_cycles: Cycles,
    /// Handler work for a demand-zero fault: find a frame, zero it, build PTEs.
    pub demand_zero_cycles: Cycles,
    /// Handler work to set A/D bits in software (with `ad_update: Fault`); default 0.
    #[serde(default)]
    pub accessed_dirty_cycles: Cycles,
    /// Handler work for a swap-in, besides the device's `read_latency`; default 0.
    #[serde(default)]
    pub swap_in_cycles: Cycles,
    /// Handler work per eviction (choose the victim, unmap it, shoot down its TLB
    /// entries), besides the device's `write_latency` for a dirty one; default 0.
    #[serde(default)]
    pub evict_cycles: Cycles,
    /// Cost of a context switch (save, restore, scheduler); default 0.
    #[serde(default)]
    pub context_switch_cycles: Cycles,
    /// Frames for data pages (default `None`: every frame serves data and page
    /// tables alike). With `Some(n)`, frames `0..n` hold data pages and the rest
    /// hold the (pinned) page tables, so "a machine with n frames" means n frames
    /// of data, as textbook exercises count them.
    #[serde(default)]
    pub data_frames: Option<u64>,
    /// Which page to evict when no frame is free (default `Clock`).
    #[serde(default)]
    pub replacement: PageReplacement,
    /// The swap device (default `None`: no swapping, so running out of frames stops
    /// the run with an error).
    #[serde(default)]
    pub swap: Option<SwapConfig>,
}

impl OsConfig {
    /// Checks the OS's fields against the machine: `frames` of `page_bytes`, and the
    /// `tables` frames the page tables of `processes` processes need at least (their
    /// roots and one node per lower level, from the memory plan).
    ///
    /// # Errors
    /// The first field that breaks a rule, named relative to this struct.
    pub fn validate(
        &self,
        frames: u64,
        page_bytes: u64,
        tables: u64,
        processes: usize,
    ) -> Result<(), InvalidField> {
        if let Some(swap) = &self.swap {
            swap.validate(page_bytes).map_err(|e| e.within("swap"))?;
        }
        if let Some(n) = self.data_frames {
            if n == 0 || n.saturating_add(tables) > frames {
                return Err(InvalidField::new(
                    "data_frames",
                    format!(
                        "{n} must be at least 1 and leave room for the {tables} page-table frames of {processes} process(es) among the {frames} frames of DRAM"
                    ),
                ));
            }
            if n > u64::from(u32::MAX) {
                return Err(InvalidField::new("data_frames", format!("{n} is more than 2^32 frames")));
            }
        }
        Ok(())
    }
}
