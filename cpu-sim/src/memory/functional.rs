//! The functional path through the memory system, for a run's skipped prefix
//! (`window.skip` of an RV32 program): accesses change registers and memory and
//! nothing else that is timed or counted.
//!
//! Translation walks the page table through the physical back door
//! ([`Mmu::translate_functional`](super::mmu::Mmu::translate_functional)): no
//! TLB or walk-cache lookup or fill, no DRAM timing or row state, no MMU, DRAM or
//! fault counter. What is memory still changes: the walker sets A/D bits as
//! `mmu.ad_update` says, and a page fault is handled by the OS model as always
//! (demand-zero, swap-in, eviction: frames, page tables and swap change). The OS
//! counts what it handles; the machine zeroes those counts when the skip ends, so
//! nothing done during a skip reaches the report. The fences the OS returns are
//! not applied: nothing fills the TLBs or walk caches during a skip, which comes
//! first in a run, so they hold nothing to drop. The OS's replacement policy
//! still learns of each access (LRU's recency, OPT's numbering), and the
//! `--check` oracle records and checks every access, so both stay exact across
//! the skip. The answer is ready at the cycle the access was issued.
//!
//! A separate method and port, so the timed path checks no flag per access.

use super::{MAX_ATTEMPTS, MemorySystem};
use crate::error::SimError;
use mmu_core::{
    AccessContext, AccessKind, Answer, Cycle, Fence, MemRequest, MemoryPort, PhysAddr, PhysMem, Timed, Trap,
    TrapCause, Width,
};
use os_model::Outcome;

impl MemorySystem {
    /// One access on the functional path (see the module doc): the loaded value
    /// or the trap, ready at `now`.
    ///
    /// # Errors
    /// What the OS stops the run with (memory exhausted, swap full), a failed
    /// `--check`, or an access that keeps faulting.
    pub fn access_functional(
        &mut self,
        now: Cycle,
        context: &AccessContext,
        request: MemRequest,
    ) -> Result<Answer, SimError> {
        let trap = |cause| Trap { cause, vaddr: request.vaddr, kind: request.kind };
        let answer = |value| Ok(Timed { value, ready_at: now });
        if !request.width.is_aligned(request.vaddr) {
            return answer(Err(trap(TrapCause::Misaligned)));
        }
        let index = self.issued;
        self.issued += 1;
        let Some(space) = context.space else {
            let paddr = PhysAddr::new(u64::from(request.vaddr.as_u32()));
            if !self.dram.contains(paddr) {
                return answer(Err(trap(TrapCause::AccessFault)));
            }
            return answer(Ok(self.data_functional(paddr, request)));
        };
        for _ in 0..MAX_ATTEMPTS {
            let (vaddr, kind) = (request.vaddr, request.kind);
            match self.mmu.translate_functional(&mut self.dram, space, &context.privilege, vaddr, kind) {
                Ok(paddr) => {
                    self.os.touched(paddr, index);
                    let value = self.data_functional(paddr, request);
                    if let Some(oracle) = &mut self.oracle {
                        oracle.observe(&self.os, self.current, index, request, value)?;
                    }
                    return answer(Ok(value));
                }
                Err(fault) => {
                    let resolution = self.os.handle_fault(&mut self.dram, self.current, fault)?;
                    if let Outcome::Stopped(segfault) = resolution.outcome {
                        self.segfaults.push(segfault);
                        return answer(Err(trap(TrapCause::Fault(fault))));
                    }
                }
            }
        }
        Err(self.no_progress(now, request))
    }

    /// The data word of a functional access, through the back door.
    fn data_functional(&mut self, paddr: PhysAddr, request: MemRequest) -> u32 {
        let word = self.dram.peek(paddr);
        match request.kind {
            AccessKind::Read | AccessKind::Fetch => request.width.extract(word, paddr.as_u64()),
            AccessKind::Write => {
                let stored = if request.width == Width::Word {
                    request.value
                } else {
                    request.width.insert(word, paddr.as_u64(), request.value)
                };
                self.dram.poke(paddr, stored);
                0
            }
        }
    }
}

/// The memory system behind its functional path, as a memory port: what a core
/// runs on during a skip.
pub struct Functional<'a>(pub &'a mut MemorySystem);

impl MemoryPort for Functional<'_> {
    type Error = SimError;

    #[inline]
    fn access(
        &mut self,
        now: Cycle,
        context: &AccessContext,
        request: MemRequest,
    ) -> Result<Answer, SimError> {
        self.0.access_functional(now, context, request)
    }

    /// Nothing to drop: nothing fills the TLBs or walk caches during a skip.
    fn fence(&mut self, _: Fence) {}
}
