//! Page faults as data: what the walker or a TLB permission check reports to the OS.
//!
//! A fault is not an error: the OS model handles it and the run goes on. Errors
//! (`thiserror` types elsewhere) are for things the user must fix.

use crate::access::AccessKind;
use crate::addr::VirtAddr;
use serde::Serialize;

/// Why a translation failed. Matched exhaustively wherever faults are handled.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize)]
pub enum FaultKind {
    /// No valid entry at some level (Sv32 `V = 0`, IA-32 `P = 0`).
    NotPresent,
    /// The leaf's permissions forbid this access at this privilege.
    Protection,
    /// A superpage leaf whose low PPN bits are not zero (Sv32 step 6).
    MisalignedSuperpage,
    /// A reserved encoding: Sv32 `W = 1, R = 0`, a pointer at the last level, or
    /// reserved bits set.
    Reserved,
    /// The leaf's A bit is clear, or D is clear on a store, and the configured
    /// policy is to trap so software sets them (Sv32 step 7, first option).
    AccessedDirty,
    /// The walk read a PTE outside physical memory (a PMA violation: the spec's
    /// access-fault exception rather than a page fault).
    AccessFault,
}

/// A page fault: its kind, the faulting address and access, and the level of the
/// table walk at which it was found (`None` when found on a TLB hit).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
pub struct Fault {
    /// Why the translation failed.
    pub kind: FaultKind,
    /// The virtual address being translated.
    pub vaddr: VirtAddr,
    /// The access that faulted.
    pub access: AccessKind,
    /// Spec level numbering: the root is `levels - 1`, the last level is 0.
    pub level: Option<u8>,
}
