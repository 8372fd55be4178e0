//! The OS model: processes with regions, page tables built in DRAM frames, and the
//! page-fault handler (demand-zero allocation, software A/D updates, segfaults).
//!
//! The OS reads and writes page tables through the DRAM backdoor (`peek`/`poke`):
//! its memory traffic is part of the configured handler cycles, not timed per word.
//! FIXME(#5): several processes, swapping and page replacement.

mod frames;
mod page_table;

pub use frames::FrameBitmap;
pub(crate) use page_table::MemoryPlan;

use crate::error::SimError;
use mmu_core::config::InvalidField;
use mmu_core::{
    AccessKind, Asid, Cycles, Dram, Fault, FaultKind, PageTableFormat, Paging, Perms, PhysAddr, Pid, VirtAddr,
};
use serde::{Deserialize, Serialize};

/// Costs of the OS's fault handling. Owned by cpu-sim's OS model.
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
}

/// A region of a process's address space, with the rights its pages get.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RegionConfig {
    /// A name for reports, e.g. `"heap"`.
    pub name: String,
    /// First virtual address; page aligned.
    pub base: u32,
    /// Bytes; a non-zero multiple of the page size, ending at or below 2^32.
    pub size: u64,
    /// Rights of its pages, `"r-x"` for code, `"rw-"` for data.
    pub perms: Perms,
    /// Whether its pages are user pages (PTE U bit); default true.
    #[serde(default = "yes")]
    pub user: bool,
}

fn yes() -> bool {
    true
}

/// One process: a name and its regions. Its pid is its index in `processes`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ProcessConfig {
    /// A name for reports.
    pub name: String,
    /// The parts of its address space it may touch.
    pub regions: Vec<RegionConfig>,
}

impl RegionConfig {
    fn end(&self) -> u64 {
        u64::from(self.base) + self.size
    }
    fn contains(&self, va: VirtAddr) -> bool {
        let a = u64::from(va.as_u32());
        a >= u64::from(self.base) && a < self.end()
    }
    fn pte_perms(&self) -> Perms {
        if self.user { self.perms.union(Perms::U) } else { self.perms }
    }
    /// Whether the region's rights allow `access` (the VMA check of a real kernel).
    fn allows(&self, access: AccessKind) -> bool {
        match access {
            AccessKind::Read => self.perms.can_read(),
            AccessKind::Write => self.perms.can_write(),
            AccessKind::Fetch => self.perms.can_execute(),
        }
    }
}

impl ProcessConfig {
    /// Checks regions against the format's page size and PTE encoding.
    ///
    /// # Errors
    /// The first field that breaks a rule, named relative to this struct.
    pub fn validate(&self, format: &Paging) -> Result<(), InvalidField> {
        let page = format.geometry().page_bytes();
        for (i, r) in self.regions.iter().enumerate() {
            let at = |e: InvalidField| e.within(&format!("[{i}]")).within("regions");
            if u64::from(r.base) % page != 0 {
                return Err(at(InvalidField::new(
                    "base",
                    format!("{:#x} is not aligned to the {page}-byte page", r.base),
                )));
            }
            if r.size == 0 || r.size % page != 0 {
                return Err(at(InvalidField::new(
                    "size",
                    format!("{:#x} is not a non-zero multiple of the {page}-byte page", r.size),
                )));
            }
            if r.end() > 1 << 32 {
                return Err(at(InvalidField::new(
                    "size",
                    format!(
                        "region {:?} ends at {:#x}, beyond the 32-bit virtual address space",
                        r.name,
                        r.end()
                    ),
                )));
            }
            if !format.can_encode(r.pte_perms()) {
                return Err(at(InvalidField::new(
                    "perms",
                    format!(
                        "{:?} cannot be expressed by this format's PTEs (write needs read; some right is needed)",
                        r.perms.to_string()
                    ),
                )));
            }
            if let Some(other) =
                self.regions[..i].iter().find(|o| u64::from(o.base) < r.end() && u64::from(r.base) < o.end())
            {
                return Err(at(InvalidField::new(
                    "base",
                    format!("region {:?} overlaps region {:?}", r.name, other.name),
                )));
            }
        }
        Ok(())
    }
}

/// Whether a process still runs.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
pub enum ProcessState {
    /// Running.
    Running,
    /// Stopped by a segmentation fault; its remaining accesses are skipped.
    Stopped,
}

/// A process of the OS model.
#[derive(Clone, Debug)]
pub struct Process {
    /// Its pid (index in the config's `processes`).
    pub pid: Pid,
    /// Its name.
    pub name: String,
    /// The ASID its translations are tagged with.
    pub asid: Asid,
    /// Physical address of its root page table.
    pub root: PhysAddr,
    /// Running or stopped.
    pub state: ProcessState,
    regions: Vec<RegionConfig>,
}

/// A segmentation fault, as reported: which process, where, and why.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Segfault {
    /// The process stopped.
    pub pid: Pid,
    /// Its name.
    pub process: String,
    /// The faulting virtual address.
    pub vaddr: VirtAddr,
    /// The access.
    pub access: AccessKind,
    /// What the hardware reported.
    pub fault: FaultKind,
    /// Why the OS refused it.
    pub reason: &'static str,
}

/// What the OS did about a fault.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Resolution {
    /// The fault was fixed; retry the access after `cost` cycles.
    Retry {
        /// Handler cycles.
        cost: Cycles,
    },
    /// The process was stopped.
    Stopped {
        /// Handler cycles.
        cost: Cycles,
        /// The record for the report.
        segfault: Segfault,
    },
}

/// OS counters.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize)]
pub struct OsStats {
    /// Pages allocated zero-filled on first touch.
    pub demand_zero: u64,
    /// A/D bits set by the handler (with `ad_update: Fault`).
    pub accessed_dirty_updates: u64,
    /// Processes stopped by segmentation faults.
    pub segfaults: u64,
    /// Frames holding page tables.
    pub page_table_frames: u64,
    /// Frames holding data pages.
    pub data_frames: u64,
    /// Frames of physical memory.
    pub frames_total: u64,
    /// Frames free at the end of the run.
    pub frames_free: u64,
    /// The longest run of consecutive free frames at the end of the run.
    pub largest_free_run: u64,
}

/// The OS model.
pub struct Os {
    config: OsConfig,
    format: Paging,
    frames: FrameBitmap,
    tables: page_table::PageTables,
    processes: Vec<Process>,
    stats: OsStats,
}

impl Os {
    /// Boots the OS: one root table per process, allocated and zeroed in DRAM.
    ///
    /// # Errors
    /// `OutOfMemory` if DRAM cannot hold the root tables.
    pub fn boot(
        config: &OsConfig,
        processes: &[ProcessConfig],
        format: &Paging,
        dram: &mut Dram,
    ) -> Result<Self, SimError> {
        let plan =
            MemoryPlan::new(format, dram.capacity_bytes(), processes.len()).map_err(SimError::Internal)?;
        let frames = plan.pool_frames as usize;
        let mut os = Os {
            config: config.clone(),
            format: format.clone(),
            frames: FrameBitmap::new(frames),
            tables: page_table::PageTables::new(plan, processes.len()),
            processes: Vec::new(),
            stats: OsStats { frames_total: frames as u64, ..OsStats::default() },
        };
        for (i, p) in processes.iter().enumerate() {
            let pid = Pid::new(i as u32);
            let root = os.alloc_root(dram, pid)?;
            os.processes.push(Process {
                pid,
                name: p.name.clone(),
                asid: Asid::new(i as u16),
                root,
                state: ProcessState::Running,
                regions: p.regions.clone(),
            });
        }
        Ok(os)
    }

    /// The process `pid`, if it exists.
    pub fn process(&self, pid: Pid) -> Option<&Process> {
        self.processes.get(pid.as_u32() as usize)
    }

    /// Counters, with the frame map's state now.
    pub fn stats(&self) -> OsStats {
        OsStats {
            frames_free: self.frames.free() as u64,
            largest_free_run: self.frames.largest_free_run() as u64,
            ..self.stats.clone()
        }
    }

    /// Handles a page fault of process `pid`.
    ///
    /// # Errors
    /// `OutOfMemory` when no frame is left for a page or a page table.
    pub fn handle_fault(&mut self, dram: &mut Dram, pid: Pid, fault: Fault) -> Result<Resolution, SimError> {
        let trap = self.config.trap_cycles;
        let index = pid.as_u32() as usize;
        let region = self.processes[index].regions.iter().find(|r| r.contains(fault.vaddr)).cloned();
        match fault.kind {
            FaultKind::NotPresent => {
                let Some(region) = region else {
                    return Ok(self.stop(pid, fault, "address outside every region of the process", trap));
                };
                if !region.allows(fault.access) {
                    return Ok(self.stop(pid, fault, "access not allowed by the region's permissions", trap));
                }
                let pte_addr =
                    self.leaf_pte_addr(dram, pid, fault.vaddr, true)?.expect("built on the way down");
                let frame = self.alloc_frame(dram, pid, fault.vaddr)?;
                dram.poke(pte_addr, self.format.encode_leaf(frame, region.pte_perms(), false));
                self.stats.demand_zero += 1;
                self.stats.data_frames += 1;
                Ok(Resolution::Retry { cost: trap + self.config.demand_zero_cycles })
            }
            FaultKind::AccessedDirty => {
                let pte_addr = self.leaf_pte_addr(dram, pid, fault.vaddr, false)?.ok_or_else(|| {
                    SimError::Internal(format!("A/D fault at {} with no leaf PTE", fault.vaddr))
                })?;
                let mut raw = self.format.with_accessed(dram.peek(pte_addr));
                if fault.access == AccessKind::Write {
                    raw = self.format.with_dirty(raw);
                }
                dram.poke(pte_addr, raw);
                self.stats.accessed_dirty_updates += 1;
                Ok(Resolution::Retry { cost: trap + self.config.accessed_dirty_cycles })
            }
            FaultKind::Protection => {
                Ok(self.stop(pid, fault, "access not allowed by the page's permissions", trap))
            }
            FaultKind::Reserved | FaultKind::MisalignedSuperpage | FaultKind::AccessFault => {
                Ok(self.stop(pid, fault, "malformed page table entry", trap))
            }
        }
    }

    fn stop(&mut self, pid: Pid, fault: Fault, reason: &'static str, cost: Cycles) -> Resolution {
        let p = &mut self.processes[pid.as_u32() as usize];
        p.state = ProcessState::Stopped;
        self.stats.segfaults += 1;
        Resolution::Stopped {
            cost,
            segfault: Segfault {
                pid,
                process: p.name.clone(),
                vaddr: fault.vaddr,
                access: fault.access,
                fault: fault.kind,
                reason,
            },
        }
    }
}
