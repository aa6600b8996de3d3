//! Opening and checking an ELF executable, and mapping its segments.
//!
//! Only the ELF header and the program headers are read (with goblin); the
//! segments are mapped as private file VMAs and loaded on first touch, so
//! starting a 100 MB program reads a few hundred bytes of it.

use std::fs::File;
use std::os::unix::fs::{FileExt, PermissionsExt};
use std::path::{Path, PathBuf};
use std::sync::Arc;

use goblin::elf::header::{self, Header};
use goblin::elf::program_header::{self, ProgramHeader};
use goblin::elf::Elf;
use guest_abi::mman::{
    MAP_ANONYMOUS, MAP_FIXED, MAP_PRIVATE, PROT_EXEC, PROT_NONE, PROT_READ, PROT_WRITE,
};

use crate::error::SysResult;
use crate::mm::space::{page_down, page_up};
use crate::mm::vma::{Backing, MappedFile, Role};
use crate::mm::{AddressSpace, HostMmu, MapRequest, PAGE_SIZE};

/// Why a file cannot be executed. `exit_code` is what a shell (and
/// `umk run`) exits with: 127 for a missing file, 126 otherwise.
#[derive(Debug, thiserror::Error)]
pub enum ExecError {
    #[error("No such file or directory")]
    NotFound,
    #[error("Is a directory")]
    IsDirectory,
    #[error("Permission denied")]
    PermissionDenied,
    #[error("Not a directory")]
    NotADirectory,
    #[error("not an ELF file (Exec format error)")]
    NotElf,
    #[error("truncated ELF file ({0})")]
    Truncated(&'static str),
    #[error("32-bit ELF: umk runs x86-64 programs only")]
    Elf32,
    #[error("big-endian ELF: umk runs x86-64 programs only")]
    BigEndian,
    #[error("ELF for another machine (e_machine {0}): umk runs x86-64 programs only")]
    WrongMachine(u16),
    #[error("not an executable ELF (e_type {0})")]
    NotExecutable(u16),
    #[error("bad program headers ({0})")]
    BadHeaders(&'static str),
    #[error("cannot read: {0}")]
    Io(std::io::Error),
    #[error("interpreter {0}: {1}")]
    Interpreter(String, Box<ExecError>),
}

impl ExecError {
    pub fn exit_code(&self) -> i32 {
        match self {
            ExecError::NotFound => 127,
            ExecError::Interpreter(_, e) if matches!(**e, ExecError::NotFound) => 127,
            _ => 126,
        }
    }

    /// The errno `execve(2)` returns for this failure.
    pub fn errno(&self) -> guest_abi::Errno {
        use guest_abi::Errno;
        match self {
            ExecError::NotFound => Errno::ENOENT,
            ExecError::IsDirectory | ExecError::PermissionDenied => Errno::EACCES,
            ExecError::NotADirectory => Errno::ENOTDIR,
            // ELOOP, ENAMETOOLONG, ...: the host's own answer.
            ExecError::Io(e) => e
                .raw_os_error()
                .and_then(|n| u16::try_from(n).ok())
                .map_or(Errno::EIO, Errno),
            ExecError::Interpreter(_, e) => e.errno(),
            _ => Errno::ENOEXEC,
        }
    }
}

/// An opened, checked executable.
#[derive(Debug)]
pub struct Executable {
    pub path: PathBuf,
    pub file: File,
    pub header: Header,
    pub phdrs: Vec<ProgramHeader>,
    pub interp: Option<PathBuf>,
}

const MAX_PHDRS_BYTES: usize = 64 * 1024;
/// Sizes of `Elf64_Ehdr` and `Elf64_Phdr`.
const EHDR_SIZE: usize = 64;
const PHDR_SIZE: usize = 56;

/// How much of a file execve reads first: enough for a `#!` line
/// (`BINPRM_BUF_SIZE` is 256), the ELF header and, usually, the program
/// headers after it.
pub const HEAD_SIZE: usize = 1024;

impl Executable {
    /// Opens `path` and checks that it is a runnable x86-64 ELF program.
    pub fn open(path: &Path) -> Result<Executable, ExecError> {
        let (file, size) = Executable::open_checked(path)?;
        let mut head = [0u8; HEAD_SIZE];
        let n = read_at(&file, &mut head, 0)?;
        Executable::from_head(path, file, size, &head[..n])
    }

    /// Opens `path` for execution after execve's checks on the file itself
    /// (it exists, is a regular file, may be executed); returns it with its
    /// size. The same checks come before a `#!` script's line is read.
    pub fn open_checked(path: &Path) -> Result<(File, u64), ExecError> {
        let meta = std::fs::metadata(path).map_err(|e| match e.raw_os_error() {
            Some(libc::ENOENT) => ExecError::NotFound,
            Some(libc::ENOTDIR) => ExecError::NotADirectory,
            Some(libc::EACCES) => ExecError::PermissionDenied,
            _ => ExecError::Io(e),
        })?;
        if meta.is_dir() {
            return Err(ExecError::IsDirectory);
        }
        // execve(2): EACCES for a non-regular file or without execute permission.
        if !meta.is_file() || meta.permissions().mode() & 0o111 == 0 {
            return Err(ExecError::PermissionDenied);
        }
        if nix::unistd::access(path, nix::unistd::AccessFlags::X_OK).is_err() {
            return Err(ExecError::PermissionDenied);
        }
        let file = File::open(path).map_err(|e| match e.raw_os_error() {
            Some(libc::EACCES) => ExecError::PermissionDenied,
            _ => ExecError::Io(e),
        })?;
        Ok((file, meta.len()))
    }

    /// Checks the program `file` of `size` bytes, whose first bytes are
    /// `head` (as many as the file has, up to [`HEAD_SIZE`]), and reads
    /// what else it needs of it.
    pub fn from_head(
        path: &Path,
        file: File,
        size: u64,
        head: &[u8],
    ) -> Result<Executable, ExecError> {
        let n = head.len().min(EHDR_SIZE);
        let hbuf = &head[..n];
        if n < 4 || &hbuf[..4] != header::ELFMAG {
            return Err(ExecError::NotElf);
        }
        if n > header::EI_CLASS && hbuf[header::EI_CLASS] == header::ELFCLASS32 {
            return Err(ExecError::Elf32);
        }
        if n < EHDR_SIZE {
            return Err(ExecError::Truncated("ELF header"));
        }
        if hbuf[header::EI_CLASS] != header::ELFCLASS64 {
            return Err(ExecError::NotElf);
        }
        if hbuf[header::EI_DATA] != header::ELFDATA2LSB {
            return Err(ExecError::BigEndian);
        }
        let h = Elf::parse_header(hbuf).map_err(|_| ExecError::NotElf)?;
        if h.e_machine != header::EM_X86_64 {
            return Err(ExecError::WrongMachine(h.e_machine));
        }
        if h.e_type != header::ET_EXEC && h.e_type != header::ET_DYN {
            return Err(ExecError::NotExecutable(h.e_type));
        }
        if usize::from(h.e_phentsize) != PHDR_SIZE {
            return Err(ExecError::BadHeaders("e_phentsize"));
        }
        let ph_len = usize::from(h.e_phnum) * PHDR_SIZE;
        if h.e_phnum == 0 || ph_len > MAX_PHDRS_BYTES {
            return Err(ExecError::BadHeaders("e_phnum"));
        }
        if h.e_phoff
            .checked_add(ph_len as u64)
            .is_none_or(|e| e > size)
        {
            return Err(ExecError::Truncated("program headers past end of file"));
        }
        let in_head = usize::try_from(h.e_phoff)
            .ok()
            .and_then(|off| head.get(off..off.checked_add(ph_len)?));
        let pbuf = match in_head {
            Some(b) => b.to_vec(),
            None => {
                let mut pbuf = vec![0u8; ph_len];
                if read_at(&file, &mut pbuf, h.e_phoff)? != ph_len {
                    return Err(ExecError::Truncated("program headers"));
                }
                pbuf
            }
        };
        let ctx = goblin::container::Ctx::new(
            goblin::container::Container::Big,
            goblin::container::Endian::Little,
        );
        let phdrs = ProgramHeader::parse(&pbuf, 0, usize::from(h.e_phnum), ctx)
            .map_err(|_| ExecError::BadHeaders("unparsable"))?;
        let mut loads = 0;
        let mut interp = None;
        for p in &phdrs {
            match p.p_type {
                program_header::PT_LOAD => {
                    loads += 1;
                    if p.p_filesz > p.p_memsz {
                        return Err(ExecError::BadHeaders("p_filesz > p_memsz"));
                    }
                    if p.p_offset.checked_add(p.p_filesz).is_none_or(|e| e > size) {
                        return Err(ExecError::Truncated("segment past end of file"));
                    }
                    if p.p_vaddr.checked_add(p.p_memsz).is_none()
                        || p.p_vaddr % PAGE_SIZE != p.p_offset % PAGE_SIZE
                    {
                        return Err(ExecError::BadHeaders("misaligned segment"));
                    }
                }
                program_header::PT_INTERP => {
                    if p.p_filesz == 0 || p.p_filesz > 4096 {
                        return Err(ExecError::BadHeaders("PT_INTERP size"));
                    }
                    if p.p_offset.checked_add(p.p_filesz).is_none_or(|e| e > size) {
                        return Err(ExecError::Truncated("PT_INTERP past end of file"));
                    }
                    let mut s = vec![0u8; p.p_filesz as usize];
                    read_at(&file, &mut s, p.p_offset)?;
                    let end = s.iter().position(|&b| b == 0).unwrap_or(s.len());
                    s.truncate(end);
                    let os: std::ffi::OsString = std::os::unix::ffi::OsStringExt::from_vec(s);
                    interp = Some(PathBuf::from(os));
                }
                _ => {}
            }
        }
        if loads == 0 {
            return Err(ExecError::BadHeaders("no PT_LOAD segment"));
        }
        Ok(Executable {
            path: path.to_path_buf(),
            file,
            header: h,
            phdrs,
            interp,
        })
    }

    fn loads(&self) -> impl Iterator<Item = &ProgramHeader> {
        self.phdrs
            .iter()
            .filter(|p| p.p_type == program_header::PT_LOAD)
    }

    /// Page-aligned span of all PT_LOAD segments (before relocation).
    fn span(&self) -> (u64, u64) {
        let lo = self
            .loads()
            .map(|p| page_down(p.p_vaddr))
            .min()
            .unwrap_or(0);
        let hi = self
            .loads()
            .map(|p| p.p_vaddr + p.p_memsz)
            .max()
            .unwrap_or(0);
        (lo, page_up(hi).unwrap_or(hi))
    }

    fn max_align(&self) -> u64 {
        self.loads()
            .map(|p| p.p_align)
            .filter(|a| a.is_power_of_two())
            .max()
            .unwrap_or(PAGE_SIZE)
            .max(PAGE_SIZE)
    }

    /// Whether PT_GNU_STACK asks for an executable stack.
    pub fn exec_stack(&self) -> bool {
        self.phdrs
            .iter()
            .find(|p| p.p_type == program_header::PT_GNU_STACK)
            .is_some_and(|p| p.p_flags & program_header::PF_X != 0)
    }
}

pub fn read_at(file: &File, buf: &mut [u8], off: u64) -> Result<usize, ExecError> {
    let mut done = 0;
    while done < buf.len() {
        match file.read_at(&mut buf[done..], off + done as u64) {
            Ok(0) => break,
            Ok(n) => done += n,
            Err(e) if e.kind() == std::io::ErrorKind::Interrupted => {}
            Err(e) => return Err(ExecError::Io(e)),
        }
    }
    Ok(done)
}

/// Where an ELF image ended up.
#[derive(Clone, Copy, Debug)]
pub struct Mapped {
    /// Load bias (0 for ET_EXEC).
    pub bias: u64,
    pub entry: u64,
    /// Guest address of the program headers (for AT_PHDR), if mapped.
    pub phdr: u64,
    /// End of the highest segment (page aligned): where brk starts.
    pub end: u64,
}

fn seg_prot(flags: u32) -> u64 {
    let mut p = PROT_NONE;
    if flags & program_header::PF_R != 0 {
        p |= PROT_READ;
    }
    if flags & program_header::PF_W != 0 {
        p |= PROT_WRITE;
    }
    if flags & program_header::PF_X != 0 {
        p |= PROT_EXEC;
    }
    p
}

/// Maps `exe`'s PT_LOAD segments. `ET_DYN` images go at `dyn_base` if given,
/// else wherever the mmap region has room (as Linux places the interpreter).
pub fn map_image(
    exe: &Executable,
    space: &AddressSpace,
    mmu: &mut dyn HostMmu,
    dyn_base: Option<u64>,
) -> SysResult<Mapped> {
    let (lo, hi) = exe.span();
    let span = hi - lo;
    let bias = if exe.header.e_type == header::ET_DYN {
        // Reserve the whole span (so the segments keep their distances),
        // aligned to the largest p_align, then map segments over it.
        let align = exe.max_align();
        let want = dyn_base.unwrap_or(0);
        let reserve = MapRequest {
            addr: want,
            len: span + align,
            prot: PROT_NONE,
            flags: MAP_PRIVATE | MAP_ANONYMOUS,
            backing: Backing::Anon,
            role: Role::Plain,
        };
        let at = space.mmap(reserve, mmu)?;
        let start = (at + align - 1) & !(align - 1);
        space.munmap(at, span + align, mmu)?;
        start - lo
    } else {
        0
    };
    let file = Arc::new(
        exe.file
            .try_clone()
            .map_err(|_| crate::error::SysError::new(guest_abi::Errno::ENOMEM, "dup of executable"))
            .and_then(|f| {
                MappedFile::new(f.into(), exe.path.clone()).map_err(|_| {
                    crate::error::SysError::new(guest_abi::Errno::EIO, "fstat of executable")
                })
            })?,
    );
    let mut end = 0;
    for p in exe.loads() {
        let vaddr = bias + p.p_vaddr;
        let start = page_down(vaddr);
        let prot = seg_prot(p.p_flags);
        let file_top = page_up(vaddr + p.p_filesz).unwrap_or(u64::MAX);
        if p.p_filesz > 0 {
            space.mmap(
                MapRequest {
                    addr: start,
                    len: file_top - start,
                    prot,
                    flags: MAP_PRIVATE | MAP_FIXED,
                    backing: Backing::File {
                        file: file.clone(),
                        offset: p.p_offset - (vaddr - start),
                        // Only a segment with a bss sees zeroes after its
                        // file bytes in their last page (binfmt_elf's
                        // padzero); otherwise the page shows the file, as
                        // Linux maps it (and umk can map it directly).
                        file_end: if p.p_memsz > p.p_filesz {
                            p.p_offset + p.p_filesz
                        } else {
                            u64::MAX
                        },
                    },
                    role: Role::Plain,
                },
                mmu,
            )?;
        }
        let anon_start = if p.p_filesz > 0 { file_top } else { start };
        let mem_top = page_up(vaddr + p.p_memsz).unwrap_or(u64::MAX);
        if mem_top > anon_start {
            space.mmap(
                MapRequest {
                    addr: anon_start,
                    len: mem_top - anon_start,
                    prot,
                    flags: MAP_PRIVATE | MAP_FIXED | MAP_ANONYMOUS,
                    backing: Backing::Anon,
                    role: Role::Plain,
                },
                mmu,
            )?;
        }
        end = end.max(mem_top);
    }
    // AT_PHDR: PT_PHDR if present, else the program headers inside a segment.
    let phoff = exe.header.e_phoff;
    let phdr = exe
        .phdrs
        .iter()
        .find(|p| p.p_type == program_header::PT_PHDR)
        .map(|p| bias + p.p_vaddr)
        .or_else(|| {
            exe.loads()
                .find(|p| p.p_offset <= phoff && phoff < p.p_offset + p.p_filesz)
                .map(|p| bias + p.p_vaddr + (phoff - p.p_offset))
        })
        .unwrap_or(0);
    Ok(Mapped {
        bias,
        entry: bias + exe.header.e_entry,
        phdr,
        end,
    })
}
