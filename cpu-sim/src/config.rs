//! The machine config: every crate's config struct composed into one RON file,
//! parsed with precise positions and then validated as a whole.

use crate::memory::mmu::MmuConfig;
use crate::window::Window;
use crate::workload::WorkloadConfig;
use mmu_core::config::InvalidField;
use mmu_core::{AdUpdate, Cycles, DramConfig, PageTableFormat, PagingConfig};
use os_model::{MemoryPlan, OsConfig, PageReplacement, ProcessConfig, Quantum};
use serde::{Deserialize, Serialize};
use thiserror::Error;
use tlb::TlbHierarchyConfig;

/// The CPU's own cost model.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CpuConfig {
    /// Cycles of non-memory work charged before each access.
    pub cycles_per_access: Cycles,
}

/// A whole machine and its workload, as one RON file describes it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct MachineConfig {
    /// Seed of every random stream in the run (each component salts it).
    pub seed: u64,
    /// The CPU.
    pub cpu: CpuConfig,
    /// Paging format and privilege.
    pub mmu: MmuConfig,
    /// The TLBs.
    pub tlb: TlbHierarchyConfig,
    /// Physical memory.
    pub dram: DramConfig,
    /// Fault-handling costs.
    pub os: OsConfig,
    /// The processes; the first runs first. Pids are indices in this list. Default
    /// empty, which only an ELF workload allows (its processes come from the ELF).
    #[serde(default)]
    pub processes: Vec<ProcessConfig>,
    /// Where accesses come from.
    pub workload: WorkloadConfig,
    /// Which part of the run counts (default: all of it; see `window`). Left out
    /// of the effective config when it is the default.
    #[serde(default, skip_serializing_if = "Window::is_whole_run")]
    pub window: Window,
}

impl MachineConfig {
    /// Checks every part and the rules between parts.
    ///
    /// # Errors
    /// The first field that breaks a rule, with its full path.
    pub fn validate(&self) -> Result<(), InvalidField> {
        self.tlb.validate().map_err(|e| e.within("tlb"))?;
        self.dram.validate().map_err(|e| e.within("dram"))?;
        self.workload.validate().map_err(|e| e.within("workload"))?;
        self.window.validate().map_err(|e| e.within("window"))?;
        self.mmu.format.validate().map_err(|e| e.within("format").within("mmu"))?;
        self.validate_format_options()?;
        if let WorkloadConfig::Elf { environment, .. } = &self.workload {
            self.validate_elf(*environment)?;
            // A user program's process is built from its ELF when it is loaded
            // (`cpu_sim::user`), which validates the config again with it.
            if *environment == rv32::Environment::BareMetal || self.processes.is_empty() {
                return Ok(());
            }
        }
        if self.dram.base != 0 {
            return Err(InvalidField::new(
                "dram.base",
                "only a bare-metal `Elf` workload runs on RAM that does not start at 0 (the OS model numbers frames from 0)",
            ));
        }
        let format = self.mmu.format.build();
        let geometry = *format.geometry();
        let leaf_sizes: Vec<mmu_core::PageShift> = geometry.leaf_sizes().collect();
        self.tlb.validate_for_format(&leaf_sizes, geometry.levels()).map_err(|e| e.within("tlb"))?;

        let max_phys = 1u64 << format.phys_addr_bits();
        if self.dram.capacity_bytes > max_phys {
            return Err(InvalidField::new(
                "dram.capacity_bytes",
                format!(
                    "{} bytes is more than the format's {}-bit physical addresses reach",
                    self.dram.capacity_bytes,
                    format.phys_addr_bits()
                ),
            ));
        }
        let page = geometry.page_bytes();
        if self.dram.capacity_bytes % page != 0 {
            return Err(InvalidField::new(
                "dram.capacity_bytes",
                format!("must be a multiple of the {page}-byte page"),
            ));
        }
        let plan = MemoryPlan::new(&format, self.dram.capacity_bytes, self.processes.len())
            .map_err(|message| InvalidField::new("dram.capacity_bytes", message))?;
        let frames = plan.pool_frames;
        // Each process needs its root table, one table per lower level and one data
        // frame before its first access can complete.
        let needed = plan.frames_needed(self.processes.len());
        if frames < needed {
            return Err(InvalidField::new(
                "dram.capacity_bytes",
                format!(
                    "{frames} frames cannot hold the page tables of {} process(es) and one data page ({needed} frames needed)",
                    self.processes.len()
                ),
            ));
        }
        // Sv32's satp.ASID is 9 bits; each process gets its own ASID.
        const MAX_PROCESSES: usize = 1 << 9;
        match self.processes.len() {
            0 => return Err(InvalidField::new("processes", "at least one process is needed")),
            n if n > MAX_PROCESSES => {
                return Err(InvalidField::new(
                    "processes",
                    format!(
                        "{n} processes declared; each needs its own 9-bit ASID, so at most {MAX_PROCESSES}"
                    ),
                ));
            }
            _ => {}
        }
        for (i, p) in self.processes.iter().enumerate() {
            p.validate(&format).map_err(|e| e.within(&format!("processes[{i}]")))?;
        }
        os_model::validate_shared(&self.processes).map_err(|e| e.within("processes"))?;
        self.os.validate(frames, page, needed - 1, self.processes.len()).map_err(|e| e.within("os"))?;
        if let WorkloadConfig::Processes { quantum, programs } = &self.workload {
            if programs.len() != self.processes.len() {
                return Err(InvalidField::new(
                    "workload.programs",
                    format!(
                        "{} program(s) for {} process(es): each process runs one",
                        programs.len(),
                        self.processes.len()
                    ),
                ));
            }
            if self.os.replacement == PageReplacement::Opt && matches!(quantum, Quantum::Cycles(_)) {
                return Err(InvalidField::new(
                    "os.replacement",
                    "`Opt` needs a quantum in `Accesses`: with a quantum in cycles the interleaving of the processes depends on the policy, so the future cannot be read ahead",
                ));
            }
        }
        match &self.workload {
            WorkloadConfig::Synthetic(generator) => {
                inside_regions(generator, &self.processes[0], 0, "workload")
            }
            WorkloadConfig::Processes { programs, .. } => {
                for (i, (program, process)) in programs.iter().zip(&self.processes).enumerate() {
                    inside_regions(program, process, i, &format!("workload.programs[{i}]"))?;
                }
                Ok(())
            }
            WorkloadConfig::Trace { .. } | WorkloadConfig::Elf { .. } => Ok(()),
        }
    }

    /// The rules of an ELF workload: the RV32 core translates with Sv32; bare metal
    /// needs RAM that fits Sv32's 34-bit physical addresses and misses the devices.
    fn validate_elf(&self, environment: rv32::Environment) -> Result<(), InvalidField> {
        if self.mmu.format != PagingConfig::Sv32 {
            return Err(InvalidField::new(
                "mmu.format",
                "an `Elf` workload runs on the RV32 core, which translates with `Sv32`",
            ));
        }
        let format = self.mmu.format.build();
        let geometry = *format.geometry();
        let leaf_sizes: Vec<mmu_core::PageShift> = geometry.leaf_sizes().collect();
        self.tlb.validate_for_format(&leaf_sizes, geometry.levels()).map_err(|e| e.within("tlb"))?;
        match environment {
            rv32::Environment::BareMetal => {
                let end = self.dram.base.saturating_add(self.dram.capacity_bytes);
                if end > 1 << format.phys_addr_bits() {
                    return Err(InvalidField::new(
                        "dram",
                        format!(
                            "RAM [{:#x}, {end:#x}) goes past Sv32's 34-bit physical addresses",
                            self.dram.base
                        ),
                    ));
                }
                if let Some(device) = crate::virt::devices::overlapping_device(self.dram.base, end) {
                    return Err(InvalidField::new(
                        "dram.base",
                        format!(
                            "RAM [{:#x}, {end:#x}) overlaps the {device} of the virt board",
                            self.dram.base
                        ),
                    ));
                }
                Ok(())
            }
            rv32::Environment::UserProcess => {
                if self.dram.base != 0 {
                    return Err(InvalidField::new(
                        "dram.base",
                        "a user program runs on the OS model, whose frames start at physical address 0",
                    ));
                }
                // Its process comes from its ELF file (`cpu_sim::user` builds it).
                Ok(())
            }
        }
    }

    /// MMU options that only some formats have.
    fn validate_format_options(&self) -> Result<(), InvalidField> {
        match self.mmu.format {
            PagingConfig::X86_32 { .. } => {
                if self.mmu.ad_update == AdUpdate::Fault {
                    return Err(InvalidField::new(
                        "mmu.ad_update",
                        "IA-32 hardware always sets A and D itself (SDM Vol. 3A, 4.8); \
                         `Fault` (software-managed A/D) is a RISC-V option",
                    ));
                }
                for (field, set) in [("sum", self.mmu.privilege.sum), ("mxr", self.mmu.privilege.mxr)] {
                    if set {
                        return Err(InvalidField::new(
                            format!("mmu.privilege.{field}"),
                            "is a RISC-V `mstatus` bit; IA-32 has no equivalent here (CR4.SMAP is not modelled)",
                        ));
                    }
                }
                Ok(())
            }
            PagingConfig::Sv32 | PagingConfig::Flat { .. } | PagingConfig::Radix { .. } => Ok(()),
        }
    }
}

/// Checks that every address `generator` may touch lies in a region of
/// `process` (pid `pid`): a synthetic workload outside them would only segfault,
/// which is a mistake in the config, not an experiment.
fn inside_regions(
    generator: &workload::GeneratorConfig,
    process: &ProcessConfig,
    pid: usize,
    field: &str,
) -> Result<(), InvalidField> {
    let mut regions: Vec<(u64, u64)> =
        process.regions.iter().map(|r| (u64::from(r.base), u64::from(r.base) + r.size)).collect();
    regions.sort_unstable();
    for (start, end) in generator.ranges() {
        // Regions do not overlap: walk them from `start` until `end` is covered.
        let mut cursor = start;
        for &(base, region_end) in &regions {
            if base <= cursor && cursor < region_end {
                cursor = region_end;
            }
        }
        if cursor < end {
            let listed: Vec<String> = process
                .regions
                .iter()
                .map(|r| format!("`{}` {:#x}..{:#x}", r.name, r.base, u64::from(r.base) + r.size))
                .collect();
            return Err(InvalidField::new(
                field,
                format!(
                    "the generator touches {start:#x}..{end:#x}, but {cursor:#x} lies outside every region of \
                     process {pid} (`{}`: {}), which runs it; keep a synthetic workload inside its process's regions",
                    process.name,
                    if listed.is_empty() { "none".to_string() } else { listed.join(", ") }
                ),
            ));
        }
    }
    Ok(())
}

/// A config that cannot be used, with where and why.
#[derive(Debug, Error)]
pub enum ConfigError {
    /// The RON text does not parse or does not match the schema.
    #[error("{origin}:{line}:{column}: {message}{}", field_note(field))]
    Parse {
        /// The config's name (its path).
        origin: String,
        /// 1-based line where RON noticed the problem.
        line: usize,
        /// 1-based column.
        column: usize,
        /// The field being read, as a path (`tlb.l1[0].ways`), if known.
        field: Option<String>,
        /// RON's description of the problem.
        message: String,
    },
    /// The config parses but breaks a rule.
    #[error("{origin}: {error}")]
    Invalid {
        /// The config's name.
        origin: String,
        /// The field and the rule.
        error: InvalidField,
    },
}

fn field_note(field: &Option<String>) -> String {
    match field {
        Some(f) if !f.is_empty() && f != "?" && f != "." => format!(" (in field `{f}`)"),
        _ => String::new(),
    }
}

/// Parses and validates a machine config from RON text; `origin` names it in errors.
///
/// # Errors
/// A parse error with line, column and field, or the first broken rule.
pub fn parse_config(text: &str, origin: &str) -> Result<MachineConfig, ConfigError> {
    let parse_error = |span: ron::error::SpannedError, field: Option<String>| ConfigError::Parse {
        origin: origin.to_string(),
        line: span.span.start.line,
        column: span.span.start.col,
        field,
        message: span.code.to_string(),
    };
    let mut de = ron::Deserializer::from_str(text).map_err(|e| parse_error(e, None))?;
    let config: MachineConfig = serde_path_to_error::deserialize(&mut de).map_err(|e| {
        let field = e.path().to_string();
        let span = de.span_error(e.into_inner());
        parse_error(span, Some(field))
    })?;
    de.end().map_err(|e| parse_error(de.span_error(e), None))?;
    config.validate().map_err(|error| ConfigError::Invalid { origin: origin.to_string(), error })?;
    Ok(config)
}
