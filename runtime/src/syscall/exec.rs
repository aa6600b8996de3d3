//! execve(2) and execveat(2): replacing the program of a process.
//!
//! The steps follow fs/exec.c: read and check the arguments (`E2BIG` past
//! `MAX_ARG_STRLEN` per string or, in total, past a quarter of the
//! caller's own stack limit, at most 6 MiB), open and check the file
//! (`ENOENT`, `EACCES`, `ENOTDIR` go to the guest) and read its first
//! kilobyte once: a `#!` script names an interpreter (up to four levels
//! like `BINPRM_MAX_RECURSION`), an ELF program is checked (`ENOEXEC`),
//! end every other thread of the process (`de_thread`), load the program
//! into a new address space, and then commit: close-on-exec descriptors
//! close, caught signals return to their default (ignored ones stay
//! ignored), the alternate signal stack goes, and a vfork parent is
//! released.
//!
//! The new address space lives in one of two places:
//! - **The caller's own stub**, when the caller's address space has no
//!   other user (the usual fork + exec): it is emptied in place
//!   (`AddressSpace::reset`) and the thread goes on in the same host thread
//!   with fresh registers and FPU state. Emptying it is the point of no
//!   return, as `begin_new_exec` is in Linux: a load failure after it kills
//!   the process with SIGSEGV (fs/exec.c `bprm_execve`).
//! - **A stub from the pool**, when the address space is shared (a vfork
//!   child, whose parent still runs on it; threads of the process that have
//!   not finished leaving): the program is loaded there and the thread
//!   switches to it at the commit. A failure before the commit leaves the
//!   old program running with the error.

use std::ffi::OsStr;
use std::os::fd::AsRawFd;
use std::os::unix::ffi::OsStrExt;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::{Duration, Instant};

use guest_abi::fcntl::{AT_EMPTY_PATH, AT_FDCWD, AT_SYMLINK_NOFOLLOW};
use guest_abi::structs::{KernelSigaction, StackT};

use super::context::{Outcome, SyscallContext};
use super::fd_arg;
use super::fs::{host_dirfd, DirGuard};
use crate::error::{SysError, SysResult};
use crate::kernel::initial_regs;
use crate::loader::{read_at, ExecArgs, ExecError, Executable, Program, HEAD_SIZE};
use crate::signal::frame::XstateLayout;
use crate::sys_err;
use crate::task::{ExitStatus, Mm};

/// Longest single argument or environment string, with its NUL
/// (`MAX_ARG_STRLEN`, 32 pages).
const MAX_ARG_STRLEN: usize = 32 * 4096;
/// Least room for argument strings (`ARG_MAX`, 32 pages).
const ARG_MAX: usize = 32 * 4096;
/// The default stack limit (`_STK_LIM`), which caps the room for arguments.
const STK_LIM: usize = 8 << 20;
/// `#!` line buffer (`BINPRM_BUF_SIZE`).
const BINPRM_BUF_SIZE: usize = 256;
/// Interpreter nesting (`BINPRM_MAX_RECURSION` + the script itself).
const MAX_DEPTH: usize = 5;

/// Reads a NULL-terminated array of C strings (argv or envp); a NULL array
/// is empty. `total` accumulates the bytes the new stack will need.
fn read_strings(
    ctx: &SyscallContext<'_>,
    mut ptr: u64,
    total: &mut usize,
    limit: usize,
) -> SysResult<Vec<Vec<u8>>> {
    let mut out = Vec::new();
    if ptr == 0 {
        return Ok(out);
    }
    let space = ctx.mm();
    let mut ptrs = PageReader::default();
    let mut strs = PageReader::default();
    loop {
        let p = match ptrs.get(space, ptr, 8) {
            Some(b) => u64::from_ne_bytes(b.try_into().map_err(|_| crate::error::EFAULT)?),
            None => ctx.read_struct(ptr)?,
        };
        if p == 0 {
            return Ok(out);
        }
        let s = match strs.cstr(space, p) {
            Some(s) if s.len() < MAX_ARG_STRLEN => s.to_vec(),
            Some(_) => return Err(too_long()),
            None => space.read_cstr(p, MAX_ARG_STRLEN - 1).map_err(|e| {
                if e.errno == guest_abi::Errno::ENAMETOOLONG {
                    too_long()
                } else {
                    e
                }
            })?,
        };
        *total += s.len() + 1 + 8;
        if *total > limit {
            return sys_err!(E2BIG, "arguments and environment too large");
        }
        out.push(s);
        ptr = ptr.checked_add(8).ok_or(crate::error::EFAULT)?;
    }
}

fn too_long() -> SysError {
    SysError::new(
        guest_abi::Errno::E2BIG,
        "argument longer than MAX_ARG_STRLEN",
    )
}

/// The rest of one guest page, read at once: argv and envp (the pointer
/// arrays and the strings) usually lie packed together on the caller's
/// stack, so one read serves many of them instead of one read each.
#[derive(Default)]
struct PageReader {
    base: u64,
    buf: Vec<u8>,
}

impl PageReader {
    /// Reads from `at` to the end of its page; false if that fails (the
    /// caller then reads the usual way, which reports the error).
    fn load(&mut self, space: &crate::mm::AddressSpace, at: u64) -> bool {
        let len = (crate::mm::PAGE_SIZE - at % crate::mm::PAGE_SIZE) as usize;
        self.buf.resize(len, 0);
        if space.read(at, &mut self.buf).is_err() {
            self.buf.clear();
            return false;
        }
        self.base = at;
        true
    }

    fn held(&self, at: u64, len: usize) -> Option<usize> {
        let off = at.checked_sub(self.base)? as usize;
        (off + len <= self.buf.len()).then_some(off)
    }

    /// `len` bytes at `at`, if they lie within one page.
    fn get(&mut self, space: &crate::mm::AddressSpace, at: u64, len: usize) -> Option<&[u8]> {
        let off = match self.held(at, len) {
            Some(off) => off,
            None if self.load(space, at) => self.held(at, len)?,
            None => return None,
        };
        Some(&self.buf[off..off + len])
    }

    /// The string at `at` without its NUL, if it ends within `at`'s page.
    fn cstr(&mut self, space: &crate::mm::AddressSpace, at: u64) -> Option<&[u8]> {
        if self.held(at, 1).is_none() && !self.load(space, at) {
            return None;
        }
        let off = self.held(at, 1)?;
        let n = self.buf[off..].iter().position(|&b| b == 0)?;
        Some(&self.buf[off..off + n])
    }
}

/// A path as the host can open it: relative ones through the guest's
/// working directory or `dirfd` (via umk's own `/proc/self/fd`).
fn host_path(ctx: &SyscallContext<'_>, dirfd: i32, path: &Path) -> SysResult<(PathBuf, DirGuard)> {
    let (fd, guard) = host_dirfd(ctx, dirfd, path)?;
    if fd == libc::AT_FDCWD {
        return Ok((path.to_path_buf(), guard));
    }
    let base = PathBuf::from(format!("/proc/self/fd/{fd}"));
    let full = if path.as_os_str().is_empty() {
        base
    } else {
        base.join(path)
    };
    Ok((full, guard))
}

/// The interpreter line of a `#!` script: (interpreter, optional argument).
fn shebang(head: &[u8]) -> Option<(Vec<u8>, Option<Vec<u8>>)> {
    let n = head.len().min(BINPRM_BUF_SIZE);
    let buf = head;
    let line = buf[..n].strip_prefix(b"#!")?;
    let line = match line.iter().position(|&b| b == b'\n') {
        Some(i) => &line[..i],
        None => line,
    };
    let is_space = |b: &u8| *b == b' ' || *b == b'\t';
    let start = line.iter().position(|b| !is_space(b))?;
    let line = &line[start..];
    let end = line.iter().position(is_space).unwrap_or(line.len());
    let interp = line[..end].to_vec();
    let rest = &line[end..];
    let arg = match rest.iter().position(|b| !is_space(b)) {
        Some(i) => {
            let a = &rest[i..];
            let last = a.iter().rposition(|b| !is_space(b)).map_or(0, |j| j + 1);
            Some(a[..last].to_vec())
        }
        None => None,
    };
    Some((interp, arg))
}

fn do_execve(
    ctx: &mut SyscallContext<'_>,
    dirfd: i32,
    path: u64,
    argv: u64,
    envp: u64,
    flags: u64,
) -> SysResult {
    if flags & !(AT_EMPTY_PATH | AT_SYMLINK_NOFOLLOW) != 0 {
        return sys_err!(EINVAL, "bad flags");
    }
    let filename = ctx.read_path(path, flags & AT_EMPTY_PATH != 0)?;
    let stack = ctx.process().stack_size();
    // fs/exec.c bprm_stack_limits: a quarter of the stack limit, at most
    // three quarters of _STK_LIM (8 MiB), at least ARG_MAX (32 pages); an
    // empty argv still counts one pointer.
    let limit = (stack as usize / 4).clamp(ARG_MAX, STK_LIM / 4 * 3);
    let mut total = 0;
    let mut args = read_strings(ctx, argv, &mut total, limit)?;
    if args.is_empty() {
        total += 8;
    }
    let envs = read_strings(ctx, envp, &mut total, limit)?;
    // The name the new program sees (AT_EXECFN) and the kernel's
    // bprm->filename: "/dev/fd/N[/path]" for a descriptor-relative exec.
    let shown: Vec<u8> = if dirfd == AT_FDCWD || filename.is_absolute() {
        filename.as_os_str().as_bytes().to_vec()
    } else if filename.as_os_str().is_empty() {
        format!("/dev/fd/{dirfd}").into_bytes()
    } else {
        format!("/dev/fd/{dirfd}/{}", filename.display()).into_bytes()
    };
    let (mut host, mut guard) = host_path(ctx, dirfd, &filename)?;
    if flags & AT_SYMLINK_NOFOLLOW != 0
        && std::fs::symlink_metadata(&host).is_ok_and(|m| m.file_type().is_symlink())
    {
        return sys_err!(ELOOP, "AT_SYMLINK_NOFOLLOW on a symbolic link");
    }
    let mut script_name = shown.clone();
    let mut depth = 0;
    let prog = loop {
        let cannot = |e: ExecError| SysError::new(e.errno(), "cannot execute");
        let (file, size) = Executable::open_checked(&host).map_err(cannot)?;
        let mut head = [0u8; HEAD_SIZE];
        let n = read_at(&file, &mut head, 0).map_err(cannot)?;
        if let Some((interp, arg)) = shebang(&head[..n]) {
            if depth >= MAX_DEPTH {
                return sys_err!(ELOOP, "too many levels of interpreters");
            }
            depth += 1;
            // argv becomes: interpreter, [argument], script, argv[1..]
            // (fs/binfmt_script.c).
            let mut new = vec![interp.clone()];
            new.extend(arg);
            new.push(script_name.clone());
            new.extend(args.into_iter().skip(1));
            args = new;
            script_name = interp.clone();
            let ip = PathBuf::from(OsStr::from_bytes(&interp));
            let (h, g) = host_path(ctx, AT_FDCWD, &ip)?;
            host = h;
            guard = g;
            continue;
        }
        break Executable::from_head(&host, file, size, &head[..n])
            .and_then(Program::with_exe)
            .map_err(cannot)?;
    };
    // The program's canonical path (for /proc/PID/exe): what the host says
    // the opened file is, one readlink instead of a walk of the path.
    let exe = std::fs::read_link(format!("/proc/self/fd/{}", prog.exe.file.as_raw_fd()))
        .or_else(|_| std::fs::canonicalize(&host))
        .unwrap_or_else(|_| host.clone());
    drop(guard);
    de_thread(ctx)?;

    let k = ctx.kernel;
    let exec_args = ExecArgs {
        argv: args,
        envp: envs,
        execfn: shown.clone(),
    };
    // exec_mm_release: the robust list is walked in the old memory; the
    // child-tid word is cleared only if someone else shares that memory
    // (a vfork parent).
    let sole = sole_user(ctx);
    crate::kernel::exit::release_mm(ctx.thread, !sole);
    if sole {
        reload_in_place(ctx, &prog, &exec_args, stack)?;
    } else {
        let space = k
            .new_space(stack)
            .map_err(|_| SysError::new(guest_abi::Errno::ENOMEM, "no address space"))?;
        let mm = Arc::new(Mm::new(Arc::new(space)));
        let mut guest = k.attach_stub(&mm, None).map_err(|e| {
            crate::log::warn(&format!("execve: {e}"));
            SysError::new(guest_abi::Errno::ENOMEM, "cannot start a stub")
        })?;
        let started = mm.space.batched(&mut *guest, |mmu| {
            crate::loader::load(&prog, &mm.space, mmu, &exec_args, stack)
        })?;
        initial_regs(guest.regs_mut(), started.entry, started.sp);
        if let Some(s) = guest.stub() {
            ctx.thread.set_host(s.pid(), guest.host_tid());
        }
        *ctx.thread.mm.lock() = mm.clone();
        ctx.mm = mm;
        ctx.outcome = Outcome::Exec(guest);
    }

    // Commit.
    let p = ctx.process().clone();
    *p.exe.lock() = exe;
    {
        let mut files = p.files.lock();
        let cloexec: Vec<i32> = files
            .fds()
            .filter(|(_, e)| e.cloexec)
            .map(|(fd, _)| fd)
            .collect();
        for fd in cloexec {
            let _ = files.remove(fd);
        }
    }
    for act in p.sigactions.lock().iter_mut() {
        if act.sa_handler != libc::SIG_IGN as u64 {
            *act = KernelSigaction::default();
        }
    }
    {
        let mut st = ctx.thread.state.lock();
        st.altstack = StackT {
            ss_flags: guest_abi::signal::SS_DISABLE,
            ..StackT::default()
        };
        st.comm = crate::task::comm_of(Path::new(OsStr::from_bytes(&shown)));
    }
    if let Some(n) = ctx.kernel.tasks.lock().procs.get_mut(&p.pid) {
        n.execed = true;
    }
    p.release_vfork();
    if ctx.thread.tid != p.pid {
        let host = match &ctx.outcome {
            Outcome::Exec(g) => (g.stub().map_or(0, |s| s.pid()), g.host_tid()),
            _ => (
                ctx.guest.stub().map_or(0, |s| s.pid()),
                ctx.guest.host_tid(),
            ),
        };
        ctx.successor = Some(take_leader_tid(ctx, host));
    }
    Ok(0)
}

/// The exec'ing thread becomes the leader: a successor with the leader's
/// tid (= the pid) takes its state, table entries and scheduling attributes
/// (fs/exec.c `de_thread`: "the thread group leader's pid is stolen",
/// execve(2): "all threads other than the calling thread are destroyed ...
/// the calling thread ... gets the PID of the leader").
fn take_leader_tid(ctx: &SyscallContext<'_>, host: (i32, i32)) -> Arc<crate::task::Thread> {
    let old = ctx.thread;
    let p = ctx.process();
    let state = std::mem::take(&mut *old.state.lock());
    let new = Arc::new(crate::task::Thread::new(p.pid, p.clone(), old.mm(), state));
    new.set_host(host.0, host.1);
    let k = ctx.kernel;
    let attr = k.sched.attr(old.tid);
    if let Err(e) = k.sched.add(p.pid, Some(old.tid)) {
        crate::log::warn(&format!("execve: sched: {e}"));
    }
    if let Some(a) = attr {
        let _ = k.sched.set_attr(p.pid, a);
    }
    k.sched
        .set_comm(p.pid, &String::from_utf8_lossy(&new.state.lock().comm));
    k.tasks.replace_thread(old, new.clone());
    if let Some(t) = k.sched.exit(old.tid) {
        p.cpu.lock().dead.add(t);
    }
    crate::task::set_current(Some(new.clone()));
    new
}

/// Whether the caller's address space has no other user: only the thread
/// and this syscall hold it (a vfork relative or a thread still on its way
/// out holds another reference), and the guest thread runs in its stub.
fn sole_user(ctx: &SyscallContext<'_>) -> bool {
    let same_stub = match (ctx.guest.stub(), ctx.mm.space.stub()) {
        (Some(a), Some(b)) => Arc::ptr_eq(a, b),
        _ => false,
    };
    same_stub && Arc::strong_count(&ctx.mm) == 2
}

/// Empties the caller's address space and loads `prog` into it, in the
/// same stub (see the module note). After the reset a failure is fatal.
fn reload_in_place(
    ctx: &mut SyscallContext<'_>,
    prog: &Program,
    args: &ExecArgs,
    stack: u64,
) -> SysResult<()> {
    let k = ctx.kernel;
    let layout = k
        .space_layout(stack)
        .map_err(|_| SysError::new(guest_abi::Errno::ENOMEM, "no address space layout"))?;
    let fatal = |ctx: &mut SyscallContext<'_>, e: SysError| {
        crate::log::warn(&format!("execve: after the point of no return: {e}"));
        ctx.outcome = Outcome::ExitProcess(ExitStatus::Signaled {
            signo: libc::SIGSEGV,
            core: false,
        });
        e
    };
    // Emptying the space and loading the program is one request to the
    // stub (see `AddressSpace::start_batch`).
    let space = ctx.mm.space.clone();
    let loaded = space.batched(&mut *ctx.guest, |mmu| {
        space.reset(mmu, layout)?;
        crate::loader::load(prog, &space, mmu, args, stack)
    });
    let started = match loaded {
        Ok(s) => s,
        Err(e) => return Err(fatal(ctx, e)),
    };
    let init = XstateLayout::get().init_image();
    if ctx.guest.set_xstate(&init).is_err() {
        return Err(fatal(
            ctx,
            SysError::new(guest_abi::Errno::EIO, "cannot reset the FPU state"),
        ));
    }
    initial_regs(ctx.guest.regs_mut(), started.entry, started.sp);
    Ok(())
}

/// Ends every other thread of the caller's process and waits until they
/// are gone (fs/exec.c `de_thread`).
fn de_thread(ctx: &SyscallContext<'_>) -> SysResult<()> {
    let me = ctx.thread.tid;
    let p = ctx.process();
    let others: Vec<_> = p
        .threads
        .lock()
        .iter()
        .filter(|t| t.tid != me)
        .cloned()
        .collect();
    if others.is_empty() {
        return Ok(());
    }
    for t in &others {
        t.kill();
    }
    let deadline = Instant::now() + Duration::from_secs(10);
    while p.threads.lock().len() > 1 {
        if ctx.thread.is_killed() {
            return sys_err!(EINTR, "killed during exec");
        }
        if Instant::now() > deadline {
            return sys_err!(EAGAIN, "other threads did not end");
        }
        std::thread::sleep(Duration::from_millis(1));
    }
    Ok(())
}

pub fn execve(ctx: &mut SyscallContext<'_>, a: &[u64; 6]) -> SysResult {
    do_execve(ctx, AT_FDCWD, a[0], a[1], a[2], 0)
}

pub fn execveat(ctx: &mut SyscallContext<'_>, a: &[u64; 6]) -> SysResult {
    do_execve(ctx, fd_arg(a[0]), a[1], a[2], a[3], a[4])
}
