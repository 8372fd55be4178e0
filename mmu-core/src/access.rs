//! What the CPU asks of the MMU: the kind of access and the privilege it runs at.

use serde::{Deserialize, Serialize};

/// The kind of a memory access, as the specs distinguish them for permission checks.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
pub enum AccessKind {
    /// A data load.
    Read,
    /// A data store.
    Write,
    /// An instruction fetch.
    Fetch,
}

impl AccessKind {
    /// Whether the instruction side of the TLB hierarchy serves this access.
    pub const fn is_fetch(self) -> bool {
        matches!(self, AccessKind::Fetch)
    }
}

/// The privilege level an access is made at.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[repr(u8)]
pub enum Privilege {
    /// RISC-V U-mode, IA-32 CPL 3.
    #[default]
    User,
    /// RISC-V S-mode, IA-32 CPL 0.
    Supervisor,
}

/// The CPU state that permission checks depend on, besides the access kind.
///
/// RISC-V `mstatus.SUM` / `mstatus.MXR` and IA-32 `CR0.WP` live here; each format
/// reads only the fields its spec defines.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
// Four bytes in field order, so `packed` is one load.
#[repr(C)]
pub struct PrivilegeState {
    /// The privilege accesses are made at.
    #[serde(default)]
    pub mode: Privilege,
    /// RISC-V `SUM`: supervisor loads and stores may touch U=1 pages.
    #[serde(default)]
    pub sum: bool,
    /// RISC-V `MXR`: loads from execute-only pages succeed.
    #[serde(default)]
    pub mxr: bool,
    /// IA-32 `CR0.WP`: supervisor writes honour read-only pages (default on, as Linux sets it).
    #[serde(default = "default_true")]
    pub write_protect: bool,
}

fn default_true() -> bool {
    true
}

impl PrivilegeState {
    /// The four fields as the bytes of one number (mode lowest, 1 for supervisor):
    /// equal states, equal numbers. A key for what is worked out per state.
    #[inline(always)]
    pub fn packed(&self) -> u32 {
        u32::from_le_bytes([
            self.mode as u8,
            u8::from(self.sum),
            u8::from(self.mxr),
            u8::from(self.write_protect),
        ])
    }
}

impl Default for PrivilegeState {
    fn default() -> Self {
        Self { mode: Privilege::User, sum: false, mxr: false, write_protect: true }
    }
}
