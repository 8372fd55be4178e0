//! Test fixtures shared by the tests and benches of every crate above: a builder
//! of machine configs that starts from a small default machine and replaces
//! whole sections (given as RON, as a user writes them), and the RON of the
//! machine parts tests use again and again.

use crate::config::{MachineConfig, parse_config};

/// Fixed-latency DRAM of 1 MiB, 10 cycles per request.
pub const FIXED_1M: &str = "(capacity_bytes: 0x100000, timing: Fixed(latency: 10))";

/// One 4-entry direct-mapped data L1 TLB, 1 cycle per lookup.
pub const L1D_4X1: &str = r#"(l1: [(name: "l1d", serves: Data, entries: 4, ways: 1, hit_latency: 1)])"#;

/// The default OS: 100 cycles to trap, 1000 to zero a page, no swap.
pub const OS_NO_SWAP: &str = "(trap_cycles: 100, demand_zero_cycles: 1000)";

/// One process `p` with a read-write region of 8 KiB at 0x1000.
pub const ONE_PROCESS: &str =
    r#"[(name: "p", regions: [(name: "data", base: 0x1000, size: 0x2000, perms: "rw-")])]"#;

/// A swapping OS with `frames` data frames and `policy`: 100 cycles to trap, 1000
/// to zero a page, a 1 MiB swap device (1000 cycles to read a page, 2000 to write).
pub fn os_swapping(frames: u64, policy: &str) -> String {
    format!(
        "(trap_cycles: 100, demand_zero_cycles: 1000, data_frames: Some({frames}), replacement: {policy},
          swap: Some((capacity_bytes: 0x100000, read_latency: 1000, write_latency: 2000)))"
    )
}

/// A config put together from RON sections; each setter replaces one section.
#[derive(Clone, Debug)]
pub struct ConfigBuilder {
    seed: u64,
    cpu: String,
    mmu: String,
    tlb: String,
    dram: String,
    os: String,
    processes: String,
    workload: String,
}

impl Default for ConfigBuilder {
    /// Seed 1, one cycle per access, Sv32, [`L1D_4X1`], [`FIXED_1M`],
    /// [`OS_NO_SWAP`], [`ONE_PROCESS`], and a trace workload (the test supplies it).
    fn default() -> Self {
        Self {
            seed: 1,
            cpu: "(cycles_per_access: 1)".into(),
            mmu: "(format: Sv32)".into(),
            tlb: L1D_4X1.into(),
            dram: FIXED_1M.into(),
            os: OS_NO_SWAP.into(),
            processes: ONE_PROCESS.into(),
            workload: r#"Trace(path: "unused")"#.into(),
        }
    }
}

macro_rules! section {
    ($name:ident, $doc:literal) => {
        #[doc = $doc]
        #[must_use]
        pub fn $name(mut self, ron: impl Into<String>) -> Self {
            self.$name = ron.into();
            self
        }
    };
}

impl ConfigBuilder {
    /// The run seed.
    #[must_use]
    pub fn seed(mut self, seed: u64) -> Self {
        self.seed = seed;
        self
    }
    section!(cpu, "The `cpu` section.");
    section!(mmu, "The `mmu` section, e.g. `(format: Sv32, ad_update: Fault)`.");
    section!(tlb, "The `tlb` section.");
    section!(dram, "The `dram` section.");
    section!(os, "The `os` section.");
    section!(processes, "The `processes` list.");
    section!(workload, "The `workload`.");

    /// The config as RON text.
    pub fn text(&self) -> String {
        format!(
            "(\n    seed: {},\n    cpu: {},\n    mmu: {},\n    tlb: {},\n    dram: {},\n    os: {},\n    processes: {},\n    workload: {},\n)",
            self.seed, self.cpu, self.mmu, self.tlb, self.dram, self.os, self.processes, self.workload
        )
    }

    /// The config, parsed and validated.
    ///
    /// # Panics
    /// If the config is invalid: a test that builds one wants a valid one.
    pub fn build(&self) -> MachineConfig {
        let text = self.text();
        parse_config(&text, "test.ron").unwrap_or_else(|e| panic!("{e}\n{text}"))
    }
}
