//! Faults by kind, as the memory system (and the core, for alignment) counts them.

use mmu_core::FaultKind;
use serde::Serialize;

/// Page faults and CPU faults by kind.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize)]
pub struct FaultCounts {
    /// No valid PTE (demand-zero allocations and segfaults on unmapped addresses).
    pub not_present: u64,
    /// Rights violated.
    pub protection: u64,
    /// Reserved PTE encodings.
    pub reserved: u64,
    /// Misaligned superpages.
    pub misaligned_superpage: u64,
    /// A/D bits to be set by software.
    pub accessed_dirty: u64,
    /// PTE reads outside physical memory.
    pub access_fault: u64,
    /// Accesses whose address is not word aligned (raised by the CPU; the access is skipped).
    pub alignment: u64,
}

impl FaultCounts {
    /// Counts one page fault.
    pub fn count(&mut self, kind: FaultKind) {
        let counter = match kind {
            FaultKind::NotPresent => &mut self.not_present,
            FaultKind::Protection => &mut self.protection,
            FaultKind::Reserved => &mut self.reserved,
            FaultKind::MisalignedSuperpage => &mut self.misaligned_superpage,
            FaultKind::AccessedDirty => &mut self.accessed_dirty,
            FaultKind::AccessFault => &mut self.access_fault,
        };
        *counter += 1;
    }
}
