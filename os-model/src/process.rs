//! Processes of the OS model: their config (regions, rights, shared memory objects)
//! and their run-time state and counters.

use mmu_core::config::InvalidField;
use mmu_core::{
    AccessKind, Asid, PageShift, PageTableFormat, Paging, Perms, PhysAddr, Pid, Ppn, PrivilegeState, VirtAddr,
};
use serde::{Deserialize, Serialize};

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
    /// The shared memory object this region maps (default `None`: private memory).
    ///
    /// Every region naming the same object, in any process, maps the same frames:
    /// page `i` of the region is page `i` of the object, wherever each process puts
    /// it and whatever rights each gives it. All such regions have the same size.
    #[serde(default)]
    pub shared: Option<String>,
    /// Whether the region asks for superpages (default false: base pages only):
    /// pages as large as one level-1 PTE maps (4 MiB Sv32 megapages, IA-32 4 MiB
    /// pages with `pse: true`). A fault maps the whole superpage when an aligned run
    /// of free frames can be had (evicting a whole superpage if memory is full), else
    /// the base page, for good; a superpage is evicted and swapped whole. Private
    /// regions only, aligned to the superpage size, in a two-level format.
    #[serde(default)]
    pub superpages: bool,
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
    pub(crate) fn end(&self) -> u64 {
        u64::from(self.base) + self.size
    }
    pub(crate) fn contains(&self, va: VirtAddr) -> bool {
        let a = u64::from(va.as_u32());
        a >= u64::from(self.base) && a < self.end()
    }
    pub(crate) fn pte_perms(&self) -> Perms {
        if self.user { self.perms.union(Perms::U) } else { self.perms }
    }
    /// Whether the region's rights allow `access` (the VMA check of a real kernel).
    pub(crate) fn allows(&self, access: AccessKind) -> bool {
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
            if r.superpages {
                let g = format.geometry();
                let bytes = 1u64 << g.index_shift(1).min(63);
                let why = if g.levels() != 2
                    || format.encode_leaf_at(1, Ppn::new(0), r.pte_perms(), false).is_none()
                {
                    Some(
                        "needs a two-level format that maps level-1 leaves (Sv32, or X86_32 with `pse: true`)"
                            .to_string(),
                    )
                } else if r.shared.is_some() {
                    Some("is for private regions only, not shared memory".to_string())
                } else if u64::from(r.base) % bytes != 0 || r.size % bytes != 0 {
                    Some(format!(
                        "needs `base` ({:#x}) and `size` ({:#x}) aligned to the {bytes:#x}-byte superpage",
                        r.base, r.size
                    ))
                } else {
                    None
                };
                if let Some(why) = why {
                    return Err(at(InvalidField::new("superpages", why)));
                }
            }
            if let Some(name) = &r.shared {
                if name.is_empty() {
                    return Err(at(InvalidField::new("shared", "must name a shared memory object")));
                }
                if let Some(other) = self.regions[..i].iter().find(|o| o.shared.as_ref() == Some(name)) {
                    return Err(at(InvalidField::new(
                        "shared",
                        format!(
                            "object {name:?} is already mapped by region {:?} of this process",
                            other.name
                        ),
                    )));
                }
            }
        }
        Ok(())
    }
}

/// Checks the rules between processes: every region naming a shared object has
/// the object's size (the first such region's).
///
/// # Errors
/// The first offending region, named relative to `processes`.
pub fn validate_shared(processes: &[ProcessConfig]) -> Result<(), InvalidField> {
    let mut sizes: Vec<(&str, u64, &str)> = Vec::new();
    for (p, process) in processes.iter().enumerate() {
        for (i, r) in process.regions.iter().enumerate() {
            let Some(name) = r.shared.as_deref() else { continue };
            match sizes.iter().find(|(n, ..)| *n == name) {
                Some(&(_, size, first)) if size != r.size => {
                    return Err(InvalidField::new(
                        format!("[{p}].regions[{i}].size"),
                        format!(
                            "{:#x} differs from the {size:#x} bytes that process {first:?} maps of shared object {name:?}",
                            r.size
                        ),
                    ));
                }
                Some(_) => {}
                None => sizes.push((name, r.size, &process.name)),
            }
        }
    }
    Ok(())
}

/// Whether a process still runs.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
pub enum ProcessState {
    /// Running (or ready to run).
    Running,
    /// Killed by a segmentation fault; its memory was freed and its remaining
    /// accesses are skipped.
    Stopped,
    /// Its workload ended; its memory was freed.
    Exited,
}

/// Who owns a page: a process (private memory) or a shared memory object.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
pub enum Owner {
    /// Private memory of a process.
    Process(Pid),
    /// A shared memory object, by its index among the objects sorted by name.
    Shared(u32),
}

/// The identity of a page of memory, whoever maps it: what the pager swaps, what
/// OPT predicts and what the `--check` oracle keys its reference memory by.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
pub struct PageKey {
    /// The owner.
    pub owner: Owner,
    /// The virtual page number for private memory; the page's index in the object
    /// for shared memory.
    pub page: u32,
}

/// A region as the OS keeps it: its config and its shared object, resolved.
#[derive(Clone, Debug)]
pub(crate) struct Region {
    pub(crate) config: RegionConfig,
    pub(crate) object: Option<u32>,
}

/// Per-process counters and, at the end of a run, the layout of its memory.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize)]
pub struct ProcessStats {
    /// Its pid.
    pub pid: u32,
    /// Its name.
    pub name: String,
    /// `Running`, `Stopped` (segfault) or `Exited`.
    pub state: String,
    /// Accesses it made (including skipped ones after it stopped).
    pub accesses: u64,
    /// Pages it got zero-filled on first touch.
    pub demand_zero: u64,
    /// Pages it got back from swap.
    pub swap_ins: u64,
    /// Faults on shared pages already resident (only its PTE was written).
    pub shared_maps: u64,
    /// Its private pages evicted.
    pub evicted: u64,
    /// Times it was switched in.
    pub switched_in: u64,
    /// Pages mapped in its page table at the end of the run, or when it ended.
    pub resident_pages: u64,
    /// Maximal runs of consecutive virtual pages among them.
    pub virtual_runs: u64,
    /// Maximal runs of pages consecutive both virtually and physically: equal to
    /// `virtual_runs` when every contiguous virtual range sits in contiguous frames.
    pub physical_runs: u64,
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
    pub(crate) regions: Vec<Region>,
    /// Frames holding its page tables, freed when it ends.
    pub(crate) table_frames: Vec<Ppn>,
    pub(crate) stats: ProcessStats,
}

impl Process {
    /// The region holding `va`, if any.
    pub(crate) fn region(&self, va: VirtAddr) -> Option<&Region> {
        self.regions.iter().find(|r| r.config.contains(va))
    }
}

/// Whether an access is one the OS lets `region` make: the region exists, allows
/// it, and the PTE the OS would write for it grants it at the CPU's privilege.
/// The same rule decides, in the real run and in OPT's look-ahead, which accesses
/// complete and which stop their process.
pub(crate) fn admits(
    region: Option<&Region>,
    access: AccessKind,
    format: &Paging,
    state: &PrivilegeState,
) -> bool {
    region.is_some_and(|r| r.config.allows(access) && format.permits(r.config.pte_perms(), access, state))
}

/// The page `va` of `region` belongs to, for process `pid`.
pub(crate) fn page_key(pid: Pid, region: &Region, va: VirtAddr, page_shift: PageShift) -> PageKey {
    match region.object {
        None => PageKey { owner: Owner::Process(pid), page: va.vpn(page_shift).as_u32() },
        Some(object) => PageKey {
            owner: Owner::Shared(object),
            page: (va.as_u32() - region.config.base) >> page_shift.bits(),
        },
    }
}

/// A shared memory object: the processes mapping it, and at which base address.
#[derive(Clone, Debug, Default)]
pub(crate) struct SharedObject {
    pub(crate) mappers: Vec<(Pid, u32)>,
}

/// Every process, by pid, and the shared memory objects they map.
#[derive(Clone, Debug, Default)]
pub struct ProcessTable {
    processes: Vec<Process>,
    objects: Vec<SharedObject>,
}

impl ProcessTable {
    /// Processes from their configs (pid = index), each with its root table from
    /// `root_of`; shared objects are numbered in the order of their sorted names.
    pub(crate) fn new<E>(
        configs: &[ProcessConfig],
        mut root_of: impl FnMut(Pid) -> Result<(PhysAddr, Vec<Ppn>), E>,
    ) -> Result<Self, E> {
        let names: std::collections::BTreeSet<&str> =
            configs.iter().flat_map(|p| p.regions.iter().filter_map(|r| r.shared.as_deref())).collect();
        let object_of = |name: &str| names.iter().position(|n| *n == name).map(|i| i as u32);
        let mut objects = vec![SharedObject::default(); names.len()];
        let mut processes = Vec::with_capacity(configs.len());
        for (i, p) in configs.iter().enumerate() {
            let pid = Pid::new(i as u32);
            let (root, table_frames) = root_of(pid)?;
            let regions: Vec<Region> = p
                .regions
                .iter()
                .map(|r| Region { config: r.clone(), object: r.shared.as_deref().and_then(object_of) })
                .collect();
            for r in &regions {
                if let Some(o) = r.object {
                    objects[o as usize].mappers.push((pid, r.config.base));
                }
            }
            processes.push(Process {
                pid,
                name: p.name.clone(),
                asid: Asid::new(i as u16),
                root,
                state: ProcessState::Running,
                regions,
                table_frames,
                stats: ProcessStats { pid: i as u32, name: p.name.clone(), ..ProcessStats::default() },
            });
        }
        Ok(Self { processes, objects })
    }

    /// The process `pid`, if it exists.
    pub fn get(&self, pid: Pid) -> Option<&Process> {
        self.processes.get(pid.as_u32() as usize)
    }

    pub(crate) fn get_mut(&mut self, pid: Pid) -> Option<&mut Process> {
        self.processes.get_mut(pid.as_u32() as usize)
    }

    /// How many processes there are.
    pub fn len(&self) -> usize {
        self.processes.len()
    }

    /// Whether there are none.
    pub fn is_empty(&self) -> bool {
        self.processes.is_empty()
    }

    /// Every process, in pid order.
    pub fn iter(&self) -> impl Iterator<Item = &Process> {
        self.processes.iter()
    }

    /// Zeroes each process's event counters (the end of a warm-up).
    pub(crate) fn reset_counters(&mut self) {
        for p in &mut self.processes {
            let s = &mut p.stats;
            (s.accesses, s.demand_zero, s.swap_ins, s.shared_maps, s.evicted, s.switched_in) =
                (0, 0, 0, 0, 0, 0);
        }
    }

    /// Whether `pid` exists and still runs.
    #[inline]
    pub fn is_running(&self, pid: Pid) -> bool {
        self.get(pid).is_some_and(|p| p.state == ProcessState::Running)
    }

    /// The running processes mapping `key`, at which addresses.
    pub(crate) fn mappers(&self, key: PageKey, page_shift: PageShift) -> Vec<(Pid, VirtAddr)> {
        match key.owner {
            Owner::Process(pid) => vec![(pid, mmu_core::Vpn::new(key.page).base(page_shift))],
            Owner::Shared(o) => self.objects[o as usize]
                .mappers
                .iter()
                .filter(|(pid, _)| self.is_running(*pid))
                .map(|&(pid, base)| (pid, VirtAddr::new(base + (key.page << page_shift.bits()))))
                .collect(),
        }
    }
}
