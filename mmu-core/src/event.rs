//! What happens in one access, step by step, as data: the events that
//! `mmu-sim explain` prints as a story and `run --log` as one line each.
//!
//! Recording is free when off. Every model that records is generic over a
//! [`Recorder`] whose [`Recorder::ON`] is a constant: the normal run passes
//! [`Off`], so each `if R::ON { ... }` and the description it would compute are
//! compiled away, and the hot path is the same machine code as before. An
//! explained access passes an [`EventLog`] and gets every event, each with the
//! cycle it began at and, for a step that takes time, the cycles it took.
//!
//! Addresses and PTE words are [`Hex`]: printed and serialized as 0x-prefixed
//! lowercase hex.

use serde::{Serialize, Serializer};

/// A number shown as 0x-prefixed lowercase hex, in text and in JSON.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Hex(pub u64);

impl core::fmt::Display for Hex {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        write!(f, "{:#x}", self.0)
    }
}

impl Serialize for Hex {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_str(self)
    }
}

/// One way of a TLB set as a probe compared it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct WayState {
    /// Way number in the set.
    pub way: u32,
    /// Whether the way holds an entry.
    pub valid: bool,
    /// The entry's VPN (at its page size), when valid.
    pub vpn: Option<Hex>,
    /// The entry's page size in bytes, when valid.
    pub page_bytes: Option<u64>,
    /// The entry's ASID, `None` for a global entry (or an invalid way).
    pub asid: Option<u16>,
    /// Whether this way's tag equals the probe's.
    pub matches: bool,
}

/// One page size probed in one TLB: the set it indexes and what it compared.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct SizeProbe {
    /// The page size probed, in bytes.
    pub page_bytes: u64,
    /// VPN at that size: the tag compared (with the ASID).
    pub vpn: Hex,
    /// Set index: the low bits of the VPN.
    pub set: u32,
    /// Sets in the TLB.
    pub sets: u32,
    /// The ways of that set.
    pub ways: Vec<WayState>,
    /// The way that hit, if any.
    pub hit_way: Option<u32>,
}

/// The translation a TLB entry or a walk gives.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct CachedTranslation {
    /// Physical address of the first byte of the (super)page (PPN x page size).
    pub page_base: Hex,
    /// Bytes mapped by the leaf.
    pub page_bytes: u64,
    /// Effective rights, `ls` style (`rwxu`).
    pub perms: String,
    /// Global mapping.
    pub global: bool,
    /// The leaf's D bit is set.
    pub dirty: bool,
}

/// How a TLB fill chose its way.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum FillChoice {
    /// An entry with the same tag was there: overwritten in place.
    Refill,
    /// The lowest invalid way of the set.
    InvalidWay,
    /// Every way was valid: the replacement policy's victim.
    Victim {
        /// The policy (`Lru`, `TreePlru`, ...).
        policy: String,
        /// Why the policy chose this way, from its state before the fill.
        why: String,
        /// VPN of the evicted entry (at its stored size).
        evicted_vpn: Hex,
        /// Its ASID (`None`: global).
        evicted_asid: Option<u16>,
    },
}

/// A rule of the specification that a walk or a TLB hit checks, in the order the
/// walker applies them (RISC-V privileged spec, "Virtual Address Translation
/// Process", steps 2-7; IA-32: SDM Vol. 3A, 4.6-4.8).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Rule {
    /// Step 2: the PTE's address must be backed by memory (PMA).
    PteInMemory,
    /// Step 3: the PTE must be valid (V / P set).
    Valid,
    /// Step 3: no reserved encoding (Sv32 W without R; IA-32 reserved bits).
    NotReserved,
    /// Step 4: a pointer may not appear at the last level.
    PointerAboveLeaf,
    /// Step 5: the leaf's rights allow this access at this privilege.
    Permission,
    /// Step 6: a superpage's low PPN bits are zero.
    SuperpageAligned,
    /// Step 7: A set, and D set for a store (else set by hardware or a fault).
    AccessedDirty,
}

/// Which specification a format's rules come from.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum RuleBook {
    /// RISC-V PTEs: Sv32, flat and radix tables.
    RiscV,
    /// IA-32 32-bit paging.
    Ia32,
}

impl Rule {
    /// The rule as the specification words it (quoted as the walker quotes it).
    pub const fn quote(self, book: RuleBook) -> &'static str {
        match (book, self) {
            (RuleBook::RiscV, Rule::PteInMemory) => {
                "step 2: \"If accessing pte violates a PMA or PMP check, raise an access-fault exception.\""
            }
            (RuleBook::RiscV, Rule::Valid) => {
                "step 3: \"If pte.v = 0 ... stop and raise a page-fault exception.\""
            }
            (RuleBook::RiscV, Rule::NotReserved) => {
                "step 3: \"If ... pte.r = 0 and pte.w = 1 ... stop and raise a page-fault exception.\" (D, A, U of a pointer are reserved too)"
            }
            (RuleBook::RiscV, Rule::PointerAboveLeaf) => {
                "step 4: \"Otherwise, this PTE is a pointer to the next level of the page table. Let i = i - 1. If i < 0, stop and raise a page-fault exception.\""
            }
            (RuleBook::RiscV, Rule::Permission) => {
                "step 5: \"Determine if the requested memory access is allowed by the pte.r, pte.w, pte.x, and pte.u bits, given the current privilege mode and the value of the SUM and MXR fields.\""
            }
            (RuleBook::RiscV, Rule::SuperpageAligned) => {
                "step 6: \"If i > 0 and pte.ppn[i - 1 : 0] != 0, this is a misaligned superpage; stop and raise a page-fault exception.\""
            }
            (RuleBook::RiscV, Rule::AccessedDirty) => {
                "step 7: \"If pte.a = 0, or if the original memory access is a store and pte.d = 0, either raise a page-fault exception or: set pte.a to 1 and, if the memory access is a store, also set pte.d to 1.\""
            }
            (RuleBook::Ia32, Rule::PteInMemory) => {
                "the entry must lie in physical memory (else an access fault)"
            }
            (RuleBook::Ia32, Rule::Valid) => {
                "SDM 4.7: \"If the P flag (bit 0) of a paging-structure entry is 0, the entry is not present\" (a page fault)"
            }
            (RuleBook::Ia32, Rule::NotReserved) => {
                "SDM 4.7: a reserved bit set in a paging-structure entry is a page fault (RSVD)"
            }
            (RuleBook::Ia32, Rule::PointerAboveLeaf) => "SDM 4.3: a PTE always maps a 4 KiB page",
            (RuleBook::Ia32, Rule::Permission) => {
                "SDM 4.6: the access rights are the AND of R/W and U/S of every entry used; a user access needs U/S = 1, a write needs R/W = 1 (supervisor writes too when CR0.WP = 1)"
            }
            (RuleBook::Ia32, Rule::SuperpageAligned) => {
                "SDM 4.3: bits 21:13 of a 4 MiB PDE are reserved (no PSE-36), so a 4 MiB page is aligned"
            }
            (RuleBook::Ia32, Rule::AccessedDirty) => {
                "SDM 4.8: \"Whenever the processor uses a paging-structure entry as part of linear-address translation, it sets the accessed flag\"; on a write it sets the dirty flag of the entry that maps the page"
            }
        }
    }
}

/// How a DRAM bank found the row a request needed.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum RowState {
    /// Fixed-latency DRAM: no rows modelled.
    Unmodelled,
    /// The row was open: a row hit.
    Open,
    /// The bank was precharged: a row miss.
    Closed,
    /// Another row was open: a row conflict.
    Conflict,
}

/// Where an address lands in a banked DRAM.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
pub struct DramPlace {
    /// Channel.
    pub channel: u32,
    /// Rank on the channel.
    pub rank: u32,
    /// Bank in the rank.
    pub bank: u32,
    /// Row in the bank.
    pub row: u32,
    /// Burst-sized column in the row.
    pub column: u32,
}

/// One term of a DRAM request's latency, in cycles.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Term {
    /// The datasheet name (`tRCD`, `tCL`, ...) or what the wait is for.
    pub name: &'static str,
    /// Cycles.
    pub cycles: u64,
}

/// The story of a DRAM request before it is served: what it will find and what
/// it will cost. Its terms add up to the latency.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct DramPreview {
    /// Channel, rank, bank, row, column (`None` with fixed timing).
    pub place: Option<DramPlace>,
    /// The row's state.
    pub row_state: RowState,
    /// The terms, in the order the bank pays them.
    pub terms: Vec<Term>,
}

/// What one access's steps are. Cycles are absolute (`at`) or spans (`cycles`).
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
#[serde(tag = "event", rename_all = "snake_case")]
pub enum Event {
    /// The CPU's own cycles before it issues the access.
    Cpu {
        /// When the access's turn began.
        at: u64,
        /// `cpu.cycles_per_access`.
        cycles: u64,
    },
    /// The lookup of one TLB level: its latency, charged once for parallel probes.
    TlbLookup {
        /// When the lookup began.
        at: u64,
        /// `L1` or `L2`.
        level: &'static str,
        /// The level's latency (the slowest L1 of the side for parallel L1s).
        cycles: u64,
    },
    /// One TLB probed.
    TlbProbe {
        /// The TLB's name.
        tlb: String,
        /// The ASID the probe carried.
        asid: u16,
        /// Each page size with entries, smallest first, until one hits.
        sizes: Vec<SizeProbe>,
        /// The translation found, if any.
        hit: Option<CachedTranslation>,
    },
    /// A TLB hit's cached rights checked against the access (as the walker would).
    TlbCheck {
        /// The rule.
        rule: Rule,
        /// Whether the check passed.
        passed: bool,
        /// Why it passed or failed, in words.
        detail: String,
    },
    /// A translation installed in a TLB.
    TlbFill {
        /// The TLB's name.
        tlb: String,
        /// Set index.
        set: u32,
        /// The way taken.
        way: u32,
        /// VPN stored (at the stored size).
        vpn: Hex,
        /// Stored size in bytes (a smaller piece of a larger leaf is a splinter).
        page_bytes: u64,
        /// How the way was chosen.
        choice: FillChoice,
    },
    /// One page-walk cache probed before a walk (all are probed in parallel).
    WalkCacheProbe {
        /// The walk cache's name.
        name: String,
        /// The level of the pointer PTEs it caches.
        pte_level: u8,
        /// Set index probed.
        set: u32,
        /// VPN bits above the level: the tag compared (with the ASID).
        tag: Hex,
        /// Whether it held the pointer.
        hit: bool,
    },
    /// Where the walk starts, after the page-walk caches' answer.
    WalkStart {
        /// When the probe began.
        at: u64,
        /// The walk caches' latency (the largest of those probed; 0 with none).
        cycles: u64,
        /// The level the walk starts at.
        level: u8,
        /// The table it starts in (the root, or the cached pointer's table).
        table: Hex,
        /// Whether the start came from a walk-cache hit.
        cached: bool,
    },
    /// The address of the PTE a walk reads: table + index x PTE size.
    PteAddress {
        /// Level of the table (root = levels - 1).
        level: u8,
        /// Physical address of the table.
        table: Hex,
        /// VPN\[level\]: the index.
        index: u32,
        /// Bytes per PTE.
        pte_bytes: u8,
        /// The PTE's physical address.
        addr: Hex,
    },
    /// A DRAM request: where it lands, what the bank held, the terms of its latency.
    Dram {
        /// When it was issued.
        at: u64,
        /// `read` or `write`.
        op: &'static str,
        /// `page_table` or `data`.
        traffic: &'static str,
        /// Physical address.
        addr: Hex,
        /// What the bank found and the terms.
        preview: DramPreview,
        /// Cycles from issue to data (the sum of the terms).
        cycles: u64,
    },
    /// The PTE word read, decoded.
    PteValue {
        /// Level.
        level: u8,
        /// The raw word.
        raw: Hex,
        /// What it is: `pointer`, `leaf`, `invalid`, `reserved`.
        kind: &'static str,
        /// For a pointer, the next table; for a leaf, the page base.
        target: Option<Hex>,
    },
    /// A check of the specification applied by the walker.
    Check {
        /// The rule.
        rule: Rule,
        /// Level of the PTE checked.
        level: u8,
        /// Whether it passed.
        passed: bool,
    },
    /// The walker setting A (and D) bits: a PTE written back to DRAM.
    AdWrite {
        /// The PTE's address.
        addr: Hex,
        /// The word before.
        old: Hex,
        /// The word written.
        new: Hex,
    },
    /// The walk's result.
    WalkDone {
        /// The translation, if the walk succeeded.
        translation: Option<CachedTranslation>,
    },
    /// A page fault raised to the OS.
    Fault {
        /// When it was raised.
        at: u64,
        /// Its kind.
        kind: crate::fault::FaultKind,
        /// The walk level it was found at (`None`: on a TLB hit).
        level: Option<u8>,
    },
    /// The OS's handling of a fault, step by step (see [`OsStep`]).
    Os {
        /// What the OS did.
        step: OsStep,
    },
    /// The OS's handler cycles for the fault (trap, work and swap latencies).
    OsCost {
        /// When the handler began.
        at: u64,
        /// Cycles.
        cycles: u64,
    },
    /// An invalidation sent to the TLBs and walk caches.
    Fence {
        /// The page, `None` for every address.
        vaddr: Option<Hex>,
        /// The ASID, `None` for every address space.
        asid: Option<u16>,
    },
    /// The access is tried again after the OS handled its fault.
    Retry {
        /// Attempt number (1 = the first retry).
        attempt: u32,
    },
    /// The physical address reached and the data word moved.
    Data {
        /// The physical address.
        paddr: Hex,
        /// The word loaded or stored.
        value: Hex,
    },
    /// The access ended in a trap (its process was stopped).
    Trapped {
        /// Why.
        reason: String,
    },
    /// A context switch between accesses.
    ContextSwitch {
        /// When.
        at: u64,
        /// The process switched from.
        from: u32,
        /// The process switched to.
        to: u32,
        /// `os.context_switch_cycles`.
        cycles: u64,
        /// Whether the TLBs were flushed (no ASIDs).
        flushed: bool,
    },
}

/// What the OS did while handling one fault.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
#[serde(tag = "os", rename_all = "snake_case")]
pub enum OsStep {
    /// The region the address falls in.
    Region {
        /// Its name.
        name: String,
        /// First byte.
        base: Hex,
        /// Bytes.
        size: Hex,
        /// Rights, `ls` style.
        perms: String,
    },
    /// No region (or the region forbids the access): a segmentation fault.
    Segfault {
        /// Why.
        why: String,
    },
    /// A page-table node allocated on the way down.
    TableAllocated {
        /// Its physical address.
        table: Hex,
    },
    /// A victim chosen by the page-replacement policy.
    Victim {
        /// The frame.
        frame: Hex,
        /// The process owning the page (`None`: a shared object).
        owner: Option<u32>,
        /// The page's virtual address in its owner.
        vaddr: Hex,
        /// The policy.
        policy: String,
        /// Why the policy chose it.
        why: String,
        /// Whether it was dirty.
        dirty: bool,
    },
    /// A dirty victim written to the swap device.
    WriteBack {
        /// Swap slot.
        slot: u64,
        /// The device's write latency.
        cycles: u64,
    },
    /// A clean victim dropped (its swap copy is current, or it was never written).
    Dropped,
    /// The frame the faulting page gets.
    FrameTaken {
        /// The frame number.
        frame: Hex,
    },
    /// The page read back from swap.
    SwapIn {
        /// Swap slot.
        slot: u64,
        /// Handler work plus the device's read latency.
        cycles: u64,
    },
    /// The page zero-filled (or given its initial contents).
    DemandZero {
        /// Handler work.
        cycles: u64,
    },
    /// A page shared with another mapper: mapped to its frame.
    SharedMap {
        /// The frame.
        frame: Hex,
    },
    /// The leaf PTE written.
    PteWritten {
        /// Its address.
        addr: Hex,
        /// The word.
        raw: Hex,
    },
    /// A software A/D update (`ad_update: Fault`).
    AccessedDirtySet {
        /// Handler work.
        cycles: u64,
    },
    /// The trap's entry and exit cost.
    Trap {
        /// `os.trap_cycles`.
        cycles: u64,
    },
    /// Eviction work (choose, unmap, shoot down).
    EvictWork {
        /// `os.evict_cycles`.
        cycles: u64,
    },
}

/// Where a model's events go. [`Off`] records nothing and costs nothing.
///
/// Passed by value (it is a handle): the walker, the DRAM adapter and the MMU
/// each hold a copy during one access.
pub trait Recorder: Copy {
    /// Whether events are kept: a constant, so `if R::ON` folds away.
    const ON: bool;
    /// Keeps `event` (callers test [`Recorder::ON`] first, so that the event is
    /// not even built when off).
    fn record(self, event: Event);
}

/// No recording: the normal run.
#[derive(Clone, Copy, Debug, Default)]
pub struct Off;

impl Recorder for Off {
    const ON: bool = false;
    #[inline(always)]
    fn record(self, _: Event) {}
}

/// Every event, in order.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize)]
pub struct EventLog {
    /// The events.
    pub events: Vec<Event>,
}

/// A recorder appending to an [`EventLog`] that several parts share during one
/// access (the MMU and the DRAM under it), hence the `RefCell`.
#[derive(Clone, Copy, Debug)]
pub struct LogTo<'a>(pub &'a core::cell::RefCell<EventLog>);

impl Recorder for LogTo<'_> {
    const ON: bool = true;
    fn record(self, event: Event) {
        self.0.borrow_mut().events.push(event);
    }
}

impl Event {
    /// The cycles this step adds to the access's latency (0 for a step that
    /// takes no time of its own).
    pub fn cycles(&self) -> u64 {
        match self {
            Event::Cpu { cycles, .. }
            | Event::TlbLookup { cycles, .. }
            | Event::WalkStart { cycles, .. }
            | Event::Dram { cycles, .. }
            | Event::OsCost { cycles, .. } => *cycles,
            _ => 0,
        }
    }
}
