//! `mmu-sim explain` and `run --log`: the story of one access, and one line per
//! event over a window of accesses, from the events the machine records
//! (`mmu_core::event`) when a watch asks for them.

use crate::error::RunError;
use crate::run::{RunOptions, run_watched};
use cpu_sim::watch::{ExplainWatch, LogWatch, Target, Told};
use cpu_sim::{MachineConfig, WorkloadConfig};
use mmu_core::event::{Event, FillChoice, OsStep, RowState, Rule, RuleBook};
use mmu_core::{AccessKind, PageTableFormat, PagingConfig, VirtAddr};
use serde::Serialize;
use std::cell::RefCell;
use std::fmt::Write as _;
use std::path::Path;
use std::rc::Rc;

/// One field of a virtual address in the config's format.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct VaField {
    /// `VPN[1]`, `offset`... as the format's specification names it
    /// (`directory`, `table` for IA-32).
    pub name: String,
    /// Highest bit.
    pub hi: u8,
    /// Lowest bit.
    pub lo: u8,
    /// The field's value.
    pub value: u32,
}

/// The whole story of one access: what `explain` prints, and `--format json` gives.
#[derive(Clone, Debug, Serialize)]
pub struct Explanation {
    /// The access's number, counting from 0.
    pub access: u64,
    /// The process that made it.
    pub pid: u32,
    /// `R`, `W` or `X`.
    pub kind: &'static str,
    /// The virtual address.
    pub vaddr: mmu_core::event::Hex,
    /// The paging format.
    pub format: String,
    /// The address split into its fields, root first.
    pub fields: Vec<VaField>,
    /// The cycle the access's turn began.
    pub start_cycle: u64,
    /// Every step, in order.
    pub steps: Vec<Event>,
    /// The cycles the run charged for the access: the sum of the steps' cycles.
    pub total_cycles: u64,
    /// The context switch made just before the access, if one was: its events
    /// (its cycles are charged between the accesses, not in `total_cycles`).
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub switch_before: Vec<Event>,
}

/// The virtual address's fields for `format`, root first, then the offset.
pub fn va_fields(format: &PagingConfig, vaddr: VirtAddr) -> Vec<VaField> {
    let book = rule_book(format);
    let paging = format.build();
    let g = *paging.geometry();
    let mut fields: Vec<VaField> = (0..g.levels())
        .rev()
        .map(|level| {
            let lo = g.index_shift(level);
            VaField {
                name: index_name(book, level),
                hi: lo + g.index_bits(level) - 1,
                lo,
                value: g.index(vaddr, level),
            }
        })
        .collect();
    let page_bits = g.page_shift().bits();
    fields.push(VaField {
        name: "offset".into(),
        hi: page_bits - 1,
        lo: 0,
        value: vaddr.page_offset(g.page_shift()),
    });
    fields
}

fn kind_letter(kind: AccessKind) -> &'static str {
    match kind {
        AccessKind::Read => "R",
        AccessKind::Write => "W",
        AccessKind::Fetch => "X",
    }
}

fn format_name(format: &PagingConfig) -> String {
    match format {
        PagingConfig::Sv32 => "Sv32".into(),
        PagingConfig::X86_32 { pse } => format!("IA-32 (PSE {})", if *pse { "on" } else { "off" }),
        PagingConfig::Flat { page_bytes } => format!("flat, {page_bytes}-byte pages"),
        PagingConfig::Radix { index_bits, page_bits } => {
            let bits: Vec<String> = index_bits.as_slice().iter().map(u8::to_string).collect();
            format!("radix {} | {page_bits}", bits.join(" | "))
        }
    }
}

fn rule_book(format: &PagingConfig) -> RuleBook {
    match format {
        PagingConfig::X86_32 { .. } => RuleBook::Ia32,
        PagingConfig::Sv32 | PagingConfig::Flat { .. } | PagingConfig::Radix { .. } => RuleBook::RiscV,
    }
}

/// The name of the address field that indexes the table at `level`, as the
/// format's specification names it. IA-32 (SDM Vol. 3A, 4.3 "32-bit paging"):
/// bits 31:22 of a linear address select the PDE in the page directory, the
/// "directory" field, and bits 21:12 the PTE in the page table, the "table"
/// field. RISC-V (Sv32, and the flat and radix tables read its way): VPN\[i\].
fn index_name(book: RuleBook, level: u8) -> String {
    match (book, level) {
        (RuleBook::Ia32, 1) => "directory".into(),
        (RuleBook::Ia32, 0) => "table".into(),
        (RuleBook::Ia32 | RuleBook::RiscV, _) => format!("VPN[{level}]"),
    }
}

/// The entry read at `level`: IA-32's page directory holds PDEs (SDM Vol. 3A,
/// 4.3); every other table, and IA-32's page table, PTEs.
fn entry_name(book: RuleBook, level: u8) -> &'static str {
    match (book, level) {
        (RuleBook::Ia32, 1) => "PDE",
        (RuleBook::Ia32 | RuleBook::RiscV, _) => "PTE",
    }
}

/// What holds the base of the table at `level`: IA-32's page directory is
/// located by CR3 and a page table by its PDE (SDM Vol. 3A, 4.3); RISC-V's
/// tables are each a `table` (the root located by `satp.PPN`).
fn table_name(book: RuleBook, level: u8) -> &'static str {
    match (book, level) {
        (RuleBook::Ia32, 1) => "CR3",
        (RuleBook::Ia32, 0) => "page table",
        (RuleBook::Ia32 | RuleBook::RiscV, _) => "table",
    }
}

/// Runs `config`'s workload (or `options.trace`) up to the access `target`
/// names and returns its story. The config's `window` is ignored: accesses are
/// numbered from the workload's first.
///
/// # Errors
/// An ELF workload (not supported), a process `target` names that the config
/// does not declare, a target past the end of the workload or never accessed,
/// and any error of the run itself.
pub fn explain(
    config: &MachineConfig,
    config_path: &Path,
    options: &RunOptions,
    target: Target,
) -> Result<Explanation, RunError> {
    if options.elf.is_some() || matches!(config.workload, WorkloadConfig::Elf { .. }) {
        return Err(RunError::Unsupported(
            "explain follows the trace player's accesses; an RV32 program (an `Elf` workload or --elf) runs on \
             the RV32 core, which explain does not follow yet"
                .into(),
        ));
    }
    if let Target::Address { pid: Some(pid), .. } = target {
        let count = config.processes.len();
        if pid.as_u32() as usize >= count {
            return Err(RunError::Unsupported(format!(
                "--pid {pid}: the config declares {count} process(es), pids 0 to {}",
                count.saturating_sub(1)
            )));
        }
    }
    let mut config = config.clone();
    config.window = cpu_sim::window::Window::default();
    let found = Rc::new(RefCell::new(None));
    let switch_before = Rc::new(RefCell::new(None));
    let watch = ExplainWatch { target, found: Rc::clone(&found), switch_before: Rc::clone(&switch_before) };
    let outcome = run_watched(&config, config_path, options, Some(Box::new(watch)))?;
    let told: Option<Told> = found.borrow_mut().take();
    let Some(told) = told else {
        let seen = outcome.report.accesses;
        return Err(RunError::Unsupported(match target {
            Target::Index(n) => format!(
                "--access {n} is past the end of the workload: it has {seen} accesses, numbered 0 to {}",
                seen.saturating_sub(1)
            ),
            Target::Address { vaddr, pid, kind } => {
                let by = pid.map_or(String::new(), |p| format!(" by process {p}"));
                let of = kind.map_or(String::new(), |k| format!(" of kind {}", kind_letter(k)));
                format!("no access{of}{by} touches the word at {vaddr} in the workload's {seen} accesses")
            }
        }));
    };
    let access =
        told.access.ok_or_else(|| RunError::Unsupported("internal: a told access has no access".into()))?;
    let start_cycle = told.events.first().map_or(0, event_at);
    Ok(Explanation {
        access: told.index,
        pid: told.pid.as_u32(),
        kind: kind_letter(access.kind),
        vaddr: mmu_core::event::Hex(u64::from(access.vaddr.as_u32())),
        format: format_name(&config.mmu.format),
        fields: va_fields(&config.mmu.format, access.vaddr),
        start_cycle,
        total_cycles: told.cycles,
        steps: told.events,
        switch_before: switch_before.borrow_mut().take().map_or_else(Vec::new, |s| s.events),
    })
}

fn event_at(e: &Event) -> u64 {
    match e {
        Event::Cpu { at, .. }
        | Event::TlbLookup { at, .. }
        | Event::WalkStart { at, .. }
        | Event::Dram { at, .. }
        | Event::Fault { at, .. }
        | Event::OsCost { at, .. }
        | Event::ContextSwitch { at, .. } => *at,
        _ => 0,
    }
}

fn bytes_name(bytes: u64) -> String {
    if bytes >= 1 << 20 && bytes % (1 << 20) == 0 {
        format!("{} MiB", bytes >> 20)
    } else if bytes >= 1 << 10 && bytes % (1 << 10) == 0 {
        format!("{} KiB", bytes >> 10)
    } else {
        format!("{bytes} B")
    }
}

/// One event as text: a first line and, for some, indented detail lines.
fn describe(e: &Event, book: RuleBook) -> (String, Vec<String>) {
    match e {
        Event::Cpu { cycles, .. } => {
            (format!("CPU: {cycles} cycles of its own before the access (cpu.cycles_per_access)"), vec![])
        }
        Event::TlbLookup { level, cycles, .. } => {
            (format!("{level} TLB lookup: {cycles} cycles (hit latency)"), vec![])
        }
        Event::TlbProbe { tlb, asid, sizes, hit } => {
            let mut lines = Vec::new();
            if sizes.is_empty() {
                lines.push("empty: no entry of any page size, nothing to compare".to_string());
            }
            for s in sizes {
                lines.push(format!(
                    "{} pages: VPN {} -> set {} of {} (VPN mod {}), tag VPN {} ASID {asid}",
                    bytes_name(s.page_bytes),
                    s.vpn,
                    s.set,
                    s.sets,
                    s.sets,
                    s.vpn
                ));
                let ways: Vec<String> = s
                    .ways
                    .iter()
                    .map(|w| match (w.valid, w.vpn) {
                        (true, Some(vpn)) => format!(
                            "way {}: VPN {vpn} {}{}",
                            w.way,
                            w.asid.map_or("global".to_string(), |a| format!("ASID {a}")),
                            if w.matches { " = match" } else { "" }
                        ),
                        _ => format!("way {}: invalid", w.way),
                    })
                    .collect();
                lines.push(format!("  compared: {}", ways.join("; ")));
            }
            let head = match hit {
                Some(t) => format!(
                    "{tlb}: hit, cached translation: page base {}, {} page, rights {}{}{}",
                    t.page_base,
                    bytes_name(t.page_bytes),
                    t.perms,
                    if t.dirty { ", D set" } else { ", D clear" },
                    if t.global { ", global" } else { "" }
                ),
                None => format!("{tlb}: miss"),
            };
            (head, lines)
        }
        Event::TlbCheck { rule, passed, detail } => (
            format!("check {}: {detail}", if *passed { "passed" } else { "failed" }),
            vec![rule.quote(book).to_string()],
        ),
        Event::TlbFill { tlb, set, way, vpn, page_bytes, choice } => {
            let how = match choice {
                FillChoice::Refill => "over the entry with the same tag (a refill)".to_string(),
                FillChoice::InvalidWay => "the lowest invalid way".to_string(),
                FillChoice::Victim { policy, why, evicted_vpn, evicted_asid } => format!(
                    "evicting VPN {evicted_vpn} ({}): {policy}: {why}",
                    evicted_asid.map_or("global".to_string(), |a| format!("ASID {a}"))
                ),
            };
            (
                format!(
                    "{tlb} fill: VPN {vpn} ({} page) into set {set}, way {way}: {how}",
                    bytes_name(*page_bytes)
                ),
                vec![],
            )
        }
        Event::WalkCacheProbe { name, pte_level, set, tag, hit } => (
            format!(
                "walk cache {name} (level-{pte_level} pointers): set {set}, tag {tag}: {}",
                if *hit { "hit" } else { "miss" }
            ),
            vec![],
        ),
        Event::WalkStart { cycles, level, table, cached, .. } => (
            format!(
                "walk starts at level {level}, table {table} ({}); walk caches: {cycles} cycles",
                if *cached { "from the walk cache" } else { "the root" }
            ),
            vec![],
        ),
        Event::PteAddress { level, table, index, pte_bytes, addr } => (
            format!(
                "level {level} {} address = {} {table} + {} {index:#x} x {pte_bytes} = {addr}",
                entry_name(book, *level),
                table_name(book, *level),
                index_name(book, *level)
            ),
            vec![],
        ),
        Event::Dram { op, traffic, addr, preview, cycles, .. } => {
            let place = preview.place.map_or("fixed-latency DRAM".to_string(), |p| {
                format!(
                    "channel {}, rank {}, bank {}, row {:#x}, column {}",
                    p.channel, p.rank, p.bank, p.row, p.column
                )
            });
            let state = match preview.row_state {
                RowState::Unmodelled => "",
                RowState::Open => ": row open (row hit)",
                RowState::Closed => ": bank closed (row miss)",
                RowState::Conflict => ": another row open (row conflict)",
            };
            let terms: Vec<String> =
                preview.terms.iter().map(|t| format!("{} {}", t.name, t.cycles)).collect();
            (
                format!("DRAM {op} ({}) {addr}: {cycles} cycles", traffic.replace('_', " ")),
                vec![format!("{place}{state}"), format!("latency = {} = {cycles}", terms.join(" + "))],
            )
        }
        Event::PteValue { level, raw, kind, target } => {
            let detail = match (*kind, target) {
                ("pointer", Some(t)) => format!(": a pointer to the next table at {t}"),
                ("leaf", Some(t)) => format!(": a leaf, page base {t}"),
                ("invalid", _) => ": not valid".to_string(),
                _ => ": a reserved encoding".to_string(),
            };
            (
                format!("level {level} {} = {raw}{detail}", entry_name(book, *level)),
                vec![pte_bits(raw.0 as u32, book)],
            )
        }
        Event::Check { rule: Rule::AccessedDirty, level, passed: false } => (
            format!("level {level} check: A clear, or D clear on a store: the bits must be set"),
            vec![Rule::AccessedDirty.quote(book).to_string()],
        ),
        Event::Check { rule, level, passed } => (
            format!(
                "level {level} check {}: {}",
                if *passed { "passed" } else { "FAILED" },
                rule_name(*rule)
            ),
            vec![rule.quote(book).to_string()],
        ),
        Event::AdWrite { addr, old, new } => (format!("A/D update: PTE at {addr} {old} -> {new}"), vec![]),
        Event::WalkDone { translation } => match translation {
            Some(t) => (
                format!(
                    "walk done: page base {}, {} page, rights {}{}",
                    t.page_base,
                    bytes_name(t.page_bytes),
                    t.perms,
                    if t.dirty { ", D set" } else { "" }
                ),
                vec![],
            ),
            None => ("walk done: it faulted".to_string(), vec![]),
        },
        Event::Fault { kind, level, .. } => (
            format!(
                "page fault: {kind:?}{} -> trap to the OS",
                level.map_or(" (on the TLB hit)".to_string(), |l| format!(" at level {l}"))
            ),
            vec![],
        ),
        Event::Os { step } => (format!("OS: {}", os_step(step)), vec![]),
        Event::OsCost { cycles, .. } => {
            (format!("OS handler total: {cycles} cycles (the steps above)"), vec![])
        }
        Event::Fence { vaddr, asid } => (
            format!(
                "fence: {} in {}",
                vaddr.map_or("every address".to_string(), |v| format!("page of {v}")),
                asid.map_or("every address space".to_string(), |a| format!("ASID {a}"))
            ),
            vec![],
        ),
        Event::Retry { attempt } => (format!("retry {attempt}: the access is translated again"), vec![]),
        Event::Data { paddr, value } => (format!("physical address {paddr}, value {value}"), vec![]),
        Event::Trapped { reason } => (format!("the access ends in a trap: {reason}"), vec![]),
        Event::ContextSwitch { from, to, cycles, flushed, .. } => (
            format!(
                "context switch from process {from} to {to}: {cycles} cycles{}",
                if *flushed { ", TLBs and walk caches flushed (no ASIDs)" } else { "" }
            ),
            vec![],
        ),
    }
}

/// A rule's name in words.
fn rule_name(rule: Rule) -> &'static str {
    match rule {
        Rule::PteInMemory => "the PTE lies in physical memory",
        Rule::Valid => "the PTE is valid",
        Rule::NotReserved => "no reserved encoding",
        Rule::PointerAboveLeaf => "a pointer above the last level",
        Rule::Permission => "the rights allow the access",
        Rule::SuperpageAligned => "the superpage is aligned",
        Rule::AccessedDirty => "A set (and D set for a store)",
    }
}

/// A PTE word's fields, named as the specification names them.
fn pte_bits(raw: u32, book: RuleBook) -> String {
    let flags = |names: &[(&str, u32)]| -> String {
        names.iter().map(|(n, bit)| format!("{n}={}", (raw >> bit) & 1)).collect::<Vec<_>>().join(" ")
    };
    match book {
        RuleBook::RiscV => format!(
            "PPN {:#x} (bits 31..10), RSW {} | {}",
            raw >> 10,
            (raw >> 8) & 3,
            flags(&[("D", 7), ("A", 6), ("G", 5), ("U", 4), ("X", 3), ("W", 2), ("R", 1), ("V", 0)])
        ),
        RuleBook::Ia32 => format!(
            "frame {:#x} (bits 31..12) | {}",
            raw >> 12,
            flags(&[
                ("G", 8),
                ("PS", 7),
                ("D", 6),
                ("A", 5),
                ("PCD", 4),
                ("PWT", 3),
                ("U/S", 2),
                ("R/W", 1),
                ("P", 0)
            ])
        ),
    }
}

fn os_step(step: &OsStep) -> String {
    match step {
        OsStep::Trap { cycles } => format!("trap entry and exit, {cycles} cycles (os.trap_cycles)"),
        OsStep::Region { name, base, size, perms } => {
            format!("the address lies in region `{name}` ({base}, {size} bytes, {perms})")
        }
        OsStep::Segfault { why } => format!("segmentation fault: {why}; the process is stopped"),
        OsStep::TableAllocated { table } => format!("page-table node allocated at {table}"),
        OsStep::Victim { frame, owner, vaddr, policy, why, dirty } => format!(
            "no free frame: {policy} chooses frame {frame} ({} page {vaddr}, {}): {why}",
            owner.map_or("shared".to_string(), |p| format!("process {p}'s")),
            if *dirty { "dirty" } else { "clean" }
        ),
        OsStep::EvictWork { cycles } => format!("eviction work, {cycles} cycles (os.evict_cycles)"),
        OsStep::WriteBack { slot, cycles } => {
            format!("dirty victim written to swap slot {slot}, {cycles} cycles")
        }
        OsStep::Dropped => "clean victim dropped (no write-back)".to_string(),
        OsStep::FrameTaken { frame } => format!("frame {frame} taken for the page"),
        OsStep::SwapIn { slot, cycles } => format!("page read back from swap slot {slot}, {cycles} cycles"),
        OsStep::DemandZero { cycles } => format!("page zero-filled (demand zero), {cycles} cycles"),
        OsStep::SharedMap { frame } => format!("shared page already resident in frame {frame}: mapped"),
        OsStep::PteWritten { addr, raw } => format!("leaf PTE written: {addr} = {raw}"),
        OsStep::AccessedDirtySet { cycles } => format!("A/D bits set in software, {cycles} cycles"),
    }
}

/// The story as text: the address's fields, each step with its cycle and its
/// cycles, and the total as a sum.
pub fn render_explanation(e: &Explanation, config: &MachineConfig) -> String {
    let book = rule_book(&config.mmu.format);
    let mut out = String::new();
    let _ = writeln!(out, "access {}: process {}, {} {} ({})", e.access, e.pid, e.kind, e.vaddr, e.format);
    let fields: Vec<String> =
        e.fields.iter().map(|f| format!("{} = bits {}..{} = {:#x}", f.name, f.hi, f.lo, f.value)).collect();
    let _ = writeln!(out, "  {} = {}", e.vaddr, fields.join(" | "));
    for ev in &e.switch_before {
        let (head, _) = describe(ev, book);
        if matches!(ev, Event::ContextSwitch { .. }) {
            let at = event_at(ev);
            let _ = writeln!(
                out,
                "  just before it, at cycle {at}: {head} (charged between the accesses, not in this total)"
            );
        } else {
            let _ = writeln!(out, "  just before it: {head}");
        }
    }
    let _ = writeln!(out);
    let _ = writeln!(out, "  {:>10} {:>8}  step", "cycle", "+cycles");
    let mut terms = Vec::new();
    for ev in &e.steps {
        let (head, details) = describe(ev, book);
        let cycles = ev.cycles();
        let timed = matches!(
            ev,
            Event::Cpu { .. }
                | Event::TlbLookup { .. }
                | Event::WalkStart { .. }
                | Event::Dram { .. }
                | Event::OsCost { .. }
        );
        if timed {
            terms.push(cycles.to_string());
            let _ = writeln!(out, "  {:>10} {:>8}  {head}", event_at(ev), cycles);
        } else {
            let _ = writeln!(out, "  {:>10} {:>8}  {head}", "", "");
        }
        for d in details {
            let _ = writeln!(out, "  {:>10} {:>8}    {d}", "", "");
        }
    }
    let sum: u64 = e.steps.iter().map(Event::cycles).sum();
    let _ = writeln!(out);
    let _ =
        writeln!(out, "  total: {} = {sum} cycles (the run charges {})", terms.join(" + "), e.total_cycles);
    out
}

/// One line per event of a recorded step, for `run --log`.
pub fn log_lines(step: &Told, book: RuleBook) -> String {
    let mut out = String::new();
    let what = match &step.access {
        Some(a) => format!(
            "access {} pid {} {} {:#010x}",
            step.index,
            step.pid,
            kind_letter(a.kind),
            a.vaddr.as_u32()
        ),
        None => format!("before access {} switch to pid {}", step.index, step.pid),
    };
    for ev in &step.events {
        let (head, details) = describe(ev, book);
        let at = event_at(ev);
        let timed = matches!(
            ev,
            Event::Cpu { .. }
                | Event::TlbLookup { .. }
                | Event::WalkStart { .. }
                | Event::Dram { .. }
                | Event::Fault { .. }
                | Event::OsCost { .. }
                | Event::ContextSwitch { .. }
        );
        let cycle = if timed { format!("@{at}") } else { String::new() };
        let mut line = format!("{what}: {cycle} {head}");
        if !details.is_empty() && matches!(ev, Event::Dram { .. }) {
            let _ = write!(line, " [{}]", details.join("; "));
        }
        let _ = writeln!(out, "{}", line.replace(":  ", ": "));
    }
    out
}

/// A `--log` window, `FROM..TO`: accesses numbered FROM (inclusive) to TO
/// (exclusive), counting from 0.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct LogRange {
    /// First access logged.
    pub from: u64,
    /// First access not logged.
    pub to: u64,
}

impl std::str::FromStr for LogRange {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, String> {
        let bad = || format!("`{s}` is not a range of accesses: write FROM..TO, e.g. 0..100 (TO excluded)");
        let (from, to) = s.split_once("..").ok_or_else(bad)?;
        let from: u64 = from.trim().parse().map_err(|_| bad())?;
        let to: u64 = to.trim().parse().map_err(|_| bad())?;
        if to <= from {
            return Err(format!("`{s}`: TO ({to}) must be greater than FROM ({from}); TO is excluded"));
        }
        Ok(Self { from, to })
    }
}

/// Parses `--va`: hex with or without `0x`, within 32 bits.
///
/// # Errors
/// Not a hexadecimal number, or wider than 32 bits.
pub fn parse_va(s: &str) -> Result<VirtAddr, String> {
    let digits = s.strip_prefix("0x").or_else(|| s.strip_prefix("0X")).unwrap_or(s);
    let bad = || format!("`{s}` is not a hexadecimal address");
    // `from_str_radix` takes a leading sign: only hex digits are an address.
    if !digits.bytes().all(|b| b.is_ascii_hexdigit()) {
        return Err(bad());
    }
    let v = u64::from_str_radix(digits, 16).map_err(|_| bad())?;
    u32::try_from(v)
        .map(VirtAddr::new)
        .map_err(|_| format!("`{s}` does not fit in 32 bits: virtual addresses are 32-bit"))
}

/// A log of `range` written to `out` as the run goes: the watch `run --log` sets.
/// `logged` counts the accesses logged.
pub fn log_watch(
    range: LogRange,
    format: &PagingConfig,
    out: Rc<RefCell<Box<dyn std::io::Write>>>,
    logged: Rc<std::cell::Cell<u64>>,
) -> Box<dyn cpu_sim::watch::Watch> {
    let book = rule_book(format);
    Box::new(LogWatch {
        from: range.from,
        to: range.to,
        sink: move |step: Told| {
            if step.access.is_some() {
                logged.set(logged.get() + 1);
            }
            let text = log_lines(&step, book);
            // A log that cannot be written is reported once the run ends (`flush`).
            let _ = out.borrow_mut().write_all(text.as_bytes());
        },
    })
}
