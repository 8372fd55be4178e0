//! ELF loading: what a machine needs from an RV32 executable, parsed with the
//! `object` crate (ELF spec, "Program Header"; the riscv-tests' `tohost` symbol).
//!
//! The loader only reads bytes it is given; placing the segments in memory is the
//! machine's job.

use object::elf;
use object::read::elf::{FileHeader, ProgramHeader, Sym};
use object::{FileKind, LittleEndian};

/// Why bytes are not a loadable RV32 executable.
#[derive(Debug, thiserror::Error)]
pub enum ElfError {
    /// Not an ELF file at all.
    #[error("not an ELF file")]
    NotElf,
    /// ELFCLASS64: this core is RV32.
    #[error("a 64-bit ELF file; this core runs RV32 (ELFCLASS32) programs")]
    Elf64,
    /// Big-endian: RISC-V is little-endian.
    #[error("a big-endian ELF file; RISC-V is little-endian")]
    BigEndian,
    /// `e_machine` is not EM_RISCV (243).
    #[error("an ELF file for machine {0}, not RISC-V (EM_RISCV = 243)")]
    NotRiscV(u16),
    /// The headers or a segment do not parse.
    #[error("malformed ELF file: {0}")]
    Malformed(String),
}

impl From<object::read::Error> for ElfError {
    fn from(e: object::read::Error) -> Self {
        ElfError::Malformed(e.to_string())
    }
}

/// Segment permissions (`p_flags`).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Default)]
pub struct SegmentFlags {
    /// PF_R.
    pub read: bool,
    /// PF_W.
    pub write: bool,
    /// PF_X.
    pub execute: bool,
}

/// One `PT_LOAD` segment: `file_bytes` at `vaddr`, then zeros up to `mem_size`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Segment {
    /// Where it is mapped (`p_vaddr`).
    pub vaddr: u32,
    /// Where it is loaded in physical memory (`p_paddr`).
    pub paddr: u32,
    /// The bytes from the file (`p_filesz` of them).
    pub file_bytes: Vec<u8>,
    /// Bytes in memory (`p_memsz`, at least `file_bytes.len()`): the rest is zero (.bss).
    pub mem_size: u32,
    /// Permissions.
    pub flags: SegmentFlags,
}

/// What a machine needs to run an executable.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Program {
    /// `e_entry`.
    pub entry: u32,
    /// The loadable segments, in file order; other program headers are skipped.
    pub segments: Vec<Segment>,
    /// The address of the `tohost` symbol (HTIF: riscv-tests report through it).
    pub tohost: Option<u32>,
    /// The address of the `fromhost` symbol.
    pub fromhost: Option<u32>,
}

/// Parses an RV32 little-endian RISC-V executable.
///
/// # Errors
/// Not ELF, 64-bit, big-endian, another machine, or malformed headers.
pub fn parse(data: &[u8]) -> Result<Program, ElfError> {
    match FileKind::parse(data) {
        Ok(FileKind::Elf32) => {}
        Ok(FileKind::Elf64) => return Err(ElfError::Elf64),
        _ => return Err(ElfError::NotElf),
    }
    let header = elf::FileHeader32::<object::Endianness>::parse(data)?;
    let endian = header.endian()?;
    if endian != object::Endianness::Little {
        return Err(ElfError::BigEndian);
    }
    let header = elf::FileHeader32::<LittleEndian>::parse(data)?;
    let e = LittleEndian;
    let machine = header.e_machine(e);
    if machine != elf::EM_RISCV {
        return Err(ElfError::NotRiscV(machine));
    }
    let mut segments = Vec::new();
    for ph in header.program_headers(e, data)? {
        if ph.p_type(e) != elf::PT_LOAD {
            continue;
        }
        let file_bytes =
            ph.data(e, data).map_err(|()| ElfError::Malformed("segment data out of bounds".into()))?;
        let mem_size = ph.p_memsz(e);
        if (mem_size as usize) < file_bytes.len() {
            return Err(ElfError::Malformed("segment p_memsz < p_filesz".into()));
        }
        let f = ph.p_flags(e);
        segments.push(Segment {
            vaddr: ph.p_vaddr(e),
            paddr: ph.p_paddr(e),
            file_bytes: file_bytes.to_vec(),
            mem_size,
            flags: SegmentFlags {
                read: f & elf::PF_R != 0,
                write: f & elf::PF_W != 0,
                execute: f & elf::PF_X != 0,
            },
        });
    }
    let (mut tohost, mut fromhost) = (None, None);
    let sections = header.sections(e, data)?;
    let symbols = sections.symbols(e, data, elf::SHT_SYMTAB)?;
    for symbol in symbols.iter() {
        match symbols.symbol_name(e, symbol) {
            Ok(b"tohost") => tohost = Some(symbol.st_value(e)),
            Ok(b"fromhost") => fromhost = Some(symbol.st_value(e)),
            _ => {}
        }
    }
    Ok(Program { entry: header.e_entry(e), segments, tohost, fromhost })
}
