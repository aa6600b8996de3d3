//! The program loader: ELF executables (static, static-PIE, and dynamic via
//! their `PT_INTERP` interpreter), the initial stack and the auxiliary
//! vector, as Linux's `fs/binfmt_elf.c` builds them.
//!
//! Layout of a fresh address space (no randomization, so traces and
//! addresses are reproducible run to run):
//!
//! ```text
//!   task_size (stub region above)   0x7fffc0000000
//!   stack top                        task_size - 64 KiB guard
//!   stack                            RLIMIT_STACK below the top (lazy)
//!   mmap_base                        below the stack gap, grows down
//!   ET_DYN programs                  0x555555554000 (as Linux without ASLR)
//!   ET_EXEC programs                 their own addresses; brk after them
//! ```

pub mod elf;
pub mod stack;

use std::path::{Path, PathBuf};

pub use elf::{read_at, ExecError, Executable, HEAD_SIZE};

use crate::error::SysResult;
use crate::mm::space::page_up;
use crate::mm::{AddressSpace, HostMmu, Layout, PAGE_SIZE};

/// Where Linux puts an ET_DYN program with an interpreter (`ELF_ET_DYN_BASE`
/// on x86-64 with randomization off).
pub const ET_DYN_BASE: u64 = 0x5555_5555_4000;

/// A program ready to load: the executable and its interpreter, if any.
#[derive(Debug)]
pub struct Program {
    pub exe: Executable,
    pub interp: Option<Executable>,
}

impl Program {
    /// Opens and checks `path` and its interpreter.
    pub fn open(path: &Path) -> Result<Program, ExecError> {
        Program::with_exe(Executable::open(path)?)
    }

    /// The program whose executable is `exe`: opens and checks its
    /// interpreter.
    pub fn with_exe(exe: Executable) -> Result<Program, ExecError> {
        let interp = match &exe.interp {
            Some(ip) => Some(
                Executable::open(ip)
                    .map_err(|e| ExecError::Interpreter(ip.display().to_string(), Box::new(e)))?,
            ),
            None => None,
        };
        if let Some(i) = &interp {
            if i.interp.is_some() {
                return Err(ExecError::Interpreter(
                    i.path.display().to_string(),
                    Box::new(ExecError::BadHeaders("interpreter has an interpreter")),
                ));
            }
        }
        Ok(Program { exe, interp })
    }
}

/// The address-space layout for a stub whose region starts at `task_size`.
pub fn layout(task_size: u64, stack_size: u64) -> Layout {
    let stack_top = task_size - 16 * PAGE_SIZE;
    // Linux keeps at least 128 MiB between the stack top and mmap_base.
    let gap = stack_size.clamp(128 << 20, task_size / 6 * 5) + (1 << 20);
    Layout {
        task_size,
        mmap_min: 0x10000,
        stack_top,
        mmap_base: stack_top - gap,
    }
}

/// What the initial thread needs to start the program.
#[derive(Clone, Copy, Debug)]
pub struct Started {
    pub entry: u64,
    pub sp: u64,
}

/// The strings that go on the initial stack.
#[derive(Clone, Debug)]
pub struct ExecArgs {
    pub argv: Vec<Vec<u8>>,
    pub envp: Vec<Vec<u8>>,
    /// `AT_EXECFN`: the path as the caller named the program.
    pub execfn: Vec<u8>,
}

/// Loads `prog` into the (empty) address space `space` and builds the
/// initial stack.
pub fn load(
    prog: &Program,
    space: &AddressSpace,
    mmu: &mut dyn HostMmu,
    args: &ExecArgs,
    stack_size: u64,
) -> SysResult<Started> {
    let base = (prog.exe.header.e_type == goblin::elf::header::ET_DYN).then_some(ET_DYN_BASE);
    let main = elf::map_image(&prog.exe, space, mmu, base)?;
    space.set_brk_start(page_up(main.end).unwrap_or(main.end));
    let interp = match &prog.interp {
        Some(i) => Some(elf::map_image(i, space, mmu, None)?),
        None => None,
    };
    let aux = stack::AuxInputs {
        phdr: main.phdr,
        phnum: u64::from(prog.exe.header.e_phnum),
        entry: main.entry,
        base: interp.map_or(0, |m| m.bias),
    };
    let sp = stack::build(space, mmu, args, &aux, stack_size, prog.exe.exec_stack())?;
    Ok(Started {
        entry: interp.map_or(main.entry, |m| m.entry),
        sp,
    })
}

/// Resolves `name` like `execvp(3)`: a name with a slash is a path; otherwise
/// each directory of `PATH` is tried in turn, and the first candidate that
/// exists as a file wins (remembering a permission error if none is
/// executable).
pub fn find_in_path(name: &str, path_var: Option<&std::ffi::OsStr>) -> Result<PathBuf, ExecError> {
    if name.is_empty() {
        return Err(ExecError::NotFound);
    }
    if name.contains('/') {
        return Ok(PathBuf::from(name));
    }
    let default = std::ffi::OsString::from("/usr/local/bin:/usr/bin:/bin");
    let dirs = path_var.unwrap_or(&default);
    let mut denied = None;
    for dir in std::env::split_paths(dirs) {
        let dir = if dir.as_os_str().is_empty() {
            PathBuf::from(".")
        } else {
            dir
        };
        let cand = dir.join(name);
        match std::fs::metadata(&cand) {
            Ok(m) if m.is_file() => {
                if nix::unistd::access(&cand, nix::unistd::AccessFlags::X_OK).is_ok() {
                    return Ok(cand);
                }
                denied.get_or_insert(cand);
            }
            _ => {}
        }
    }
    match denied {
        Some(p) => Ok(p),
        None => Err(ExecError::NotFound),
    }
}
