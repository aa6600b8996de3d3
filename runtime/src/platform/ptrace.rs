//! The ptrace platform: `PTRACE_SEIZE` + `PTRACE_SYSEMU`.
//!
//! Each guest thread is a stub thread traced by its own umk kernel thread
//! (ptrace accepts requests only from the tracing thread). The kernel thread
//! resumes the guest with `PTRACE_SYSEMU`, so the host stops it at every
//! syscall entry *without running the syscall*; umk reads the registers,
//! handles the call and writes the result into `rax`.
//!
//! Host syscalls the stub itself must make while it is being set up (the
//! mailbox mapping, the control thread, its userfaultfd) and new host
//! threads are *injected*: point `rip` at the stub's `syscall; int3` (or its
//! clone entry) and `PTRACE_CONT` until the `int3`. Mapping changes after
//! that go through the stub's control thread ([`super::control`]), which
//! any umk thread may use while guest threads run.
//!
//! A guest thread that ends alone (exit(2) with other threads left) leaves
//! by detaching: its registers point at `stub_exit_thread`, EXITKILL is
//! cleared, and `PTRACE_DETACH` lets the host thread exit by itself. Killing
//! it would kill the whole stub (SIGKILL is process-wide). The last guest
//! thread of a stub detaches at `stub_park` instead and stays, so that the
//! stub can be reused ([`super::pool`]).
//!
//! # Handing a stub from one tracer to another
//!
//! ptrace requests are accepted only from the tracing *thread*. Stubs are
//! set up by the pool's keeper thread ([`PtraceThread::prepare`]: seize,
//! control thread, userfaultfd) and then *parked*: detached at `stub_park`,
//! untraced. The kernel thread that takes the stub seizes the parked thread
//! and interrupts it ([`PtraceThread::attach`]), exactly as it takes over a
//! thread cloned for a new guest thread. Between the two tracers the stub
//! is protected by its parent-death signal (tied to the keeper thread)
//! instead of `PTRACE_O_EXITKILL`.
//!
//! One stop costs ~7 µs here when tracer and tracee share a CPU, ~17 µs across
//! CPUs (`../shared/prototypes/trap/FINDINGS.md`).

use std::os::fd::{FromRawFd, OwnedFd};
use std::sync::Arc;

use super::control::StubHandle;
use super::pool::ReadyStub;
use super::stub::{self, StubLayout};
use super::{GuestThread, PlatformError, Regs, Trap, SIGKICK};
use crate::mm::frames::Frame;
use crate::mm::hostop::{HostMmu, HostOp, HostOpError, STUB_FRAMES_FD};
use crate::mm::uffd::Uffd;
use crate::mm::{Memory, PAGE_SIZE};

const PTRACE_SYSEMU: libc::c_uint = 31;
const PTRACE_EVENT_STOP: i32 = 128;

/// Offset of `rax` in `struct user_regs_struct` (PTRACE_POKEUSER's `addr`).
const RAX_OFFSET: usize = std::mem::offset_of!(Regs, rax);

/// Which of a thread's registers umk changed since it last stopped.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Dirty {
    Clean,
    /// Only `rax`: a syscall's result.
    Rax,
    All,
}

fn errno() -> std::io::Error {
    std::io::Error::last_os_error()
}

/// A stub thread under our ptrace. It is stopped whenever umk holds it: the
/// only way to run it is [`GuestThread::run`], which returns at the next
/// stop, so every request below is made on a stopped tracee.
#[derive(Debug)]
pub struct PtraceThread {
    tid: i32,
    layout: StubLayout,
    regs: Regs,
    /// What of `regs` the host thread does not have yet.
    dirty: Dirty,
    /// The stub as a whole (its control thread runs mapping changes).
    stub: Option<Arc<StubHandle>>,
    memory: Arc<Memory>,
    /// Host signals that arrived while we ran injected code; reported by
    /// the next `run`.
    pending: Vec<i32>,
    dead: bool,
    /// Counted among the stub's users ([`StubHandle::enter`]).
    user: bool,
}

fn ptrace(req: libc::c_uint, tid: i32, addr: usize, data: usize) -> std::io::Result<libc::c_long> {
    // SAFETY: every caller passes a request whose `addr`/`data` are either
    // integers or pointers to live, correctly sized buffers.
    let r = unsafe { libc::ptrace(req, tid, addr, data) };
    if r < 0 {
        Err(errno())
    } else {
        Ok(r)
    }
}

/// Reaps stub `pid` that was killed before anyone had a pidfd for it.
fn reap_pid(pid: i32) {
    while let Ok(status) = wait(pid) {
        if libc::WIFEXITED(status) || libc::WIFSIGNALED(status) {
            break;
        }
    }
}

fn wait(tid: i32) -> std::io::Result<i32> {
    loop {
        let mut status = 0;
        // SAFETY: `status` is a valid out pointer.
        let r = unsafe { libc::waitpid(tid, &mut status, libc::__WALL) };
        if r >= 0 {
            return Ok(status);
        }
        let e = errno();
        if e.raw_os_error() != Some(libc::EINTR) {
            return Err(e);
        }
    }
}

/// Clone flags of a new host thread in a stub: a thread of the stub process
/// that its own kernel thread seizes (CLONE_UNTRACED: not auto-attached to
/// the creating thread's tracer).
const THREAD_FLAGS: u64 = (libc::CLONE_VM
    | libc::CLONE_FS
    | libc::CLONE_FILES
    | libc::CLONE_SIGHAND
    | libc::CLONE_THREAD
    | libc::CLONE_SYSVSEM
    | libc::CLONE_UNTRACED) as u64;

const SEIZE_OPTIONS: usize = (libc::PTRACE_O_TRACESYSGOOD | libc::PTRACE_O_EXITKILL) as usize;

impl PtraceThread {
    fn seize(tid: i32) -> Result<(), PlatformError> {
        ptrace(libc::PTRACE_SEIZE, tid, 0, SEIZE_OPTIONS)
            .map(|_| ())
            .map_err(|e| PlatformError::Host("PTRACE_SEIZE", e))
    }

    fn new(tid: i32, memory: Arc<Memory>) -> Result<PtraceThread, PlatformError> {
        Ok(PtraceThread {
            tid,
            layout: stub::layout()?,
            // SAFETY: user_regs_struct is plain integers; zero is valid.
            regs: unsafe { std::mem::zeroed() },
            dirty: Dirty::Clean,
            stub: None,
            memory,
            pending: Vec::new(),
            dead: false,
            user: false,
        })
    }

    /// Sets up stub `tid` (just spawned, stopped by its own SIGSTOP) for
    /// the pool: seize it, start its control thread, create its
    /// userfaultfd, and park it (see the module note). Runs on the pool's
    /// keeper thread.
    pub fn prepare(tid: i32, memory: Arc<Memory>) -> Result<ReadyStub, PlatformError> {
        if let Err(e) = Self::seize(tid) {
            // SAFETY: killing the stub we just created.
            unsafe { libc::kill(tid, libc::SIGKILL) };
            reap_pid(tid);
            return Err(e);
        }
        let mut t = Self::new(tid, memory.clone())?;
        let r = t.prepare_seized();
        if r.is_err() {
            t.kill();
        }
        r
    }

    fn prepare_seized(&mut self) -> Result<ReadyStub, PlatformError> {
        // The stub sits in its group-stop; seizing turns it into a ptrace stop.
        let status = wait(self.tid).map_err(|e| PlatformError::Host("waitpid", e))?;
        if !(libc::WIFSTOPPED(status) && status >> 16 == PTRACE_EVENT_STOP) {
            return Err(PlatformError::Unexpected(status));
        }
        self.load_regs()?;
        self.check_vdso();
        let mailbox = self.memory.alloc(1)?;
        let stub = match self.start_control(mailbox) {
            Ok(s) => Arc::new(s),
            Err(e) => {
                self.memory.release(mailbox, 1);
                return Err(e);
            }
        };
        self.stub = Some(stub.clone());
        let ufd = self.inject(
            libc::SYS_userfaultfd as u64,
            [crate::mm::uffd::CREATE_FLAGS, 0, 0, 0, 0, 0],
        )? as i64;
        if ufd < 0 {
            return Err(PlatformError::Injected("userfaultfd", ufd));
        }
        let uffd = self.take_fd(ufd as i32)?;
        self.inject(libc::SYS_close as u64, [ufd as u64, 0, 0, 0, 0, 0])?;
        let uffd = Uffd::new(uffd).map_err(|e| PlatformError::Uffd(e.to_string()))?;
        self.open_procfd(&stub)?;
        if !self.detach_at(self.layout.park) {
            return Err(PlatformError::Host(
                "PTRACE_DETACH",
                std::io::Error::other("cannot park the new stub"),
            ));
        }
        self.dead = true;
        stub.set_parked(self.tid);
        Ok(ReadyStub { stub, uffd })
    }

    /// Opens umk's `/proc/PID/fd` in the stub (`O_PATH`), through which it
    /// can open the files umk has open and map them directly
    /// ([`HostOp::map_file`]). Without it (no procfs) guest files are copied
    /// into frames instead.
    fn open_procfd(&mut self, stub: &StubHandle) -> Result<(), PlatformError> {
        let path = format!("/proc/{}/fd\0", std::process::id());
        // The path goes in the upper half of the mailbox page (no request
        // is pending yet), where the stub can read it.
        const AT: u64 = PAGE_SIZE / 2;
        let dst = self.memory.frame_ptr(stub.frame(), AT);
        // SAFETY: `dst` points at `PAGE_SIZE - AT` bytes of the mailbox
        // frame, more than the path needs; nothing else uses them now.
        unsafe { std::ptr::copy_nonoverlapping(path.as_ptr(), dst, path.len()) };
        let flags = (libc::O_PATH | libc::O_DIRECTORY | libc::O_CLOEXEC) as u64;
        let fd = self.inject(
            libc::SYS_openat as u64,
            [
                libc::AT_FDCWD as u64,
                self.layout.mailbox_page + AT,
                flags,
                0,
                0,
                0,
            ],
        )? as i64;
        if fd >= 0 {
            stub.set_procfd(fd as i32);
        } else {
            crate::log::warn(&format!(
                "stub: cannot open /proc/PID/fd (errno {}): guest files are copied",
                -fd
            ));
        }
        Ok(())
    }

    /// Maps the mailbox frame and clones the control thread.
    fn start_control(&mut self, mailbox: Frame) -> Result<StubHandle, PlatformError> {
        let page = self.layout.mailbox_page;
        let prot = (libc::PROT_READ | libc::PROT_WRITE) as u64;
        let flags = (libc::MAP_SHARED | libc::MAP_FIXED) as u64;
        let r = self.inject(
            libc::SYS_mmap as u64,
            [
                page,
                PAGE_SIZE,
                prot,
                flags,
                STUB_FRAMES_FD,
                mailbox * PAGE_SIZE,
            ],
        )?;
        if r != page {
            return Err(PlatformError::Injected("mmap of the mailbox", r as i64));
        }
        let (at, stack) = (self.layout.spawn_control, self.layout.control_stack_top);
        let out = self.run_stub_code(|r| {
            r.rip = at;
            r.rax = 0;
            r.rdi = THREAD_FLAGS;
            r.rsi = stack;
            r.r15 = page;
        })?;
        if (out.rax as i64) <= 0 {
            return Err(PlatformError::Injected(
                "clone of the control thread",
                out.rax as i64,
            ));
        }
        // The stub stopped itself with SIGSTOP, and that group stop still
        // holds for threads born since: the control thread would start
        // stopped. SIGCONT ends it (the traced leader stays in its ptrace
        // stop; a SIGCONT stop it reports is dropped in `run_stub_code`).
        // SAFETY: signalling our own stub by pid.
        unsafe { libc::kill(self.tid, libc::SIGCONT) };
        StubHandle::new(self.tid, out.rax as i32, mailbox, page, self.memory.clone())
            .map_err(|e| PlatformError::Host("pidfd_open", e))
    }

    /// Takes over host thread `tid` of an existing stub (made by
    /// [`GuestThread::spawn_thread`], or the parked thread of a stub from
    /// the pool), already counted among the stub's users: seize it and stop
    /// it. Must run on the kernel thread that will drive it.
    pub fn attach(
        tid: i32,
        memory: Arc<Memory>,
        stub: Arc<StubHandle>,
    ) -> Result<PtraceThread, PlatformError> {
        Self::seize(tid)?;
        let mut t = Self::new(tid, memory)?;
        t.stub = Some(stub);
        t.user = true;
        ptrace(libc::PTRACE_INTERRUPT, tid, 0, 0)
            .map_err(|e| PlatformError::Host("PTRACE_INTERRUPT", e))?;
        loop {
            let status = wait(tid).map_err(|e| PlatformError::Host("waitpid", e))?;
            if !libc::WIFSTOPPED(status) {
                t.dead = true;
                return Err(PlatformError::Gone(status));
            }
            if status >> 16 == PTRACE_EVENT_STOP {
                break;
            }
            // A signal-delivery stop (a kick that raced us): drop it.
            ptrace(libc::PTRACE_CONT, tid, 0, 0)
                .map_err(|e| PlatformError::Host("PTRACE_CONT", e))?;
        }
        t.load_regs()?;
        Ok(t)
    }

    /// Copies descriptor `fd` of the stub into umk (`pidfd_getfd`).
    fn take_fd(&self, fd: i32) -> Result<OwnedFd, PlatformError> {
        // SAFETY: plain integer syscalls; the results are checked.
        let pidfd = unsafe { libc::syscall(libc::SYS_pidfd_open, self.tid, 0) } as i32;
        if pidfd < 0 {
            return Err(PlatformError::Host("pidfd_open", errno()));
        }
        // SAFETY: `pidfd` is a fresh descriptor we own.
        let pidfd = unsafe { OwnedFd::from_raw_fd(pidfd) };
        // SAFETY: as above.
        let r = unsafe {
            libc::syscall(
                libc::SYS_pidfd_getfd,
                std::os::fd::AsRawFd::as_raw_fd(&pidfd),
                fd,
                0,
            )
        } as i32;
        if r < 0 {
            return Err(PlatformError::Host("pidfd_getfd", errno()));
        }
        // SAFETY: `r` is a fresh descriptor we own.
        Ok(unsafe { OwnedFd::from_raw_fd(r) })
    }

    /// Checks that the stub moved its vDSO where guests will be told it is
    /// (`vdso.rs`); if not, guests get none from now on.
    fn check_vdso(&self) {
        let at = super::vdso::guest_addr(self.layout.image_end);
        if at == 0 {
            return;
        }
        // glibc's wrapper returns the word read (an ELF header's first
        // word is positive: the magic, class, data and version bytes).
        let word = ptrace(libc::PTRACE_PEEKDATA, self.tid, at as usize, 0);
        if !word.is_ok_and(|w| w.to_le_bytes()[..4] == *b"\x7fELF") {
            super::vdso::mark_broken();
        }
    }

    fn load_regs(&mut self) -> Result<(), PlatformError> {
        ptrace(
            libc::PTRACE_GETREGS,
            self.tid,
            0,
            &mut self.regs as *mut Regs as usize,
        )
        .map_err(|e| PlatformError::Host("PTRACE_GETREGS", e))?;
        Ok(())
    }

    fn store_regs(&mut self, regs: &Regs) -> Result<(), PlatformError> {
        ptrace(
            libc::PTRACE_SETREGS,
            self.tid,
            0,
            regs as *const Regs as usize,
        )
        .map_err(|e| PlatformError::Host("PTRACE_SETREGS", e))?;
        Ok(())
    }

    /// Runs the stub from `rip` with registers derived from the guest's
    /// until it reaches an `int3`; returns the registers at that point.
    /// The guest's registers are restored on the next `run`.
    fn run_stub_code(&mut self, setup: impl FnOnce(&mut Regs)) -> Result<Regs, PlatformError> {
        let mut r = self.regs;
        r.orig_rax = u64::MAX; // not in a syscall: no restart processing
        setup(&mut r);
        self.store_regs(&r)?;
        self.dirty = Dirty::All;
        ptrace(libc::PTRACE_CONT, self.tid, 0, 0)
            .map_err(|e| PlatformError::Host("PTRACE_CONT", e))?;
        loop {
            let status = wait(self.tid).map_err(|e| PlatformError::Host("waitpid", e))?;
            if !libc::WIFSTOPPED(status) {
                self.dead = true;
                return Err(PlatformError::Gone(status));
            }
            let sig = libc::WSTOPSIG(status);
            if sig == libc::SIGTRAP && status >> 16 == 0 {
                let mut out = r;
                ptrace(
                    libc::PTRACE_GETREGS,
                    self.tid,
                    0,
                    &mut out as *mut Regs as usize,
                )
                .map_err(|e| PlatformError::Host("PTRACE_GETREGS", e))?;
                return Ok(out);
            }
            if status >> 16 == 0 && sig != libc::SIGSTOP && sig != libc::SIGCONT {
                self.pending.push(sig);
            }
            ptrace(libc::PTRACE_CONT, self.tid, 0, 0)
                .map_err(|e| PlatformError::Host("PTRACE_CONT", e))?;
        }
    }

    /// Lets the (stopped) thread go on untraced from `rip`, outside any
    /// syscall. EXITKILL is cleared first: the thread outlives our tracing.
    fn detach_at(&mut self, rip: u64) -> bool {
        let mut r = self.regs;
        r.rip = rip;
        r.orig_rax = u64::MAX;
        self.store_regs(&r).is_ok()
            && ptrace(
                libc::PTRACE_SETOPTIONS,
                self.tid,
                0,
                libc::PTRACE_O_TRACESYSGOOD as usize,
            )
            .is_ok()
            && ptrace(libc::PTRACE_DETACH, self.tid, 0, 0).is_ok()
    }

    /// Makes the stub run one host syscall; returns its raw result.
    pub fn inject(&mut self, nr: u64, a: [u64; 6]) -> Result<u64, PlatformError> {
        let at = self.layout.syscall_insn;
        let out = self.run_stub_code(|r| {
            r.rip = at;
            r.rax = nr;
            r.rdi = a[0];
            r.rsi = a[1];
            r.rdx = a[2];
            r.r10 = a[3];
            r.r8 = a[4];
            r.r9 = a[5];
        })?;
        Ok(out.rax)
    }
}

impl HostMmu for PtraceThread {
    fn apply(&mut self, ops: &[HostOp]) -> Result<(), HostOpError> {
        match &self.stub {
            Some(stub) => stub.run_ops(ops),
            None => Err(HostOpError::Stub("no control thread".into())),
        }
    }
}

impl GuestThread for PtraceThread {
    fn regs(&self) -> &Regs {
        &self.regs
    }

    fn regs_mut(&mut self) -> &mut Regs {
        self.dirty = Dirty::All;
        &mut self.regs
    }

    fn set_syscall_result(&mut self, value: u64) {
        self.regs.rax = value;
        if self.dirty == Dirty::Clean {
            self.dirty = Dirty::Rax;
        }
    }

    fn run(&mut self) -> Result<Trap, PlatformError> {
        if let Some(sig) = self.pending.pop() {
            return Ok(if sig == SIGKICK {
                Trap::Interrupted
            } else {
                Trap::Signal(sig)
            });
        }
        if self.dead {
            return Err(PlatformError::Gone(0));
        }
        match self.dirty {
            Dirty::Clean => {}
            // One register is ~0.6 µs cheaper to write than the whole set
            // (PTRACE_SETREGS checks and writes every segment register).
            Dirty::Rax => {
                ptrace(
                    libc::PTRACE_POKEUSER,
                    self.tid,
                    RAX_OFFSET,
                    self.regs.rax as usize,
                )
                .map_err(|e| PlatformError::Host("PTRACE_POKEUSER", e))?;
            }
            Dirty::All => {
                let r = self.regs;
                self.store_regs(&r)?;
            }
        }
        self.dirty = Dirty::Clean;
        let mut inject_sig = 0usize;
        loop {
            ptrace(PTRACE_SYSEMU, self.tid, 0, inject_sig)
                .map_err(|e| PlatformError::Host("PTRACE_SYSEMU", e))?;
            inject_sig = 0;
            let status = wait(self.tid).map_err(|e| PlatformError::Host("waitpid", e))?;
            if libc::WIFEXITED(status) || libc::WIFSIGNALED(status) {
                self.dead = true;
                return Ok(Trap::Exited(status));
            }
            let sig = libc::WSTOPSIG(status);
            if sig == libc::SIGTRAP | 0x80 {
                self.load_regs()?;
                return Ok(Trap::Syscall);
            }
            if status >> 16 != 0 {
                // Group-stop or PTRACE_INTERRUPT: nothing for the guest.
                continue;
            }
            // A signal-delivery stop. Synchronous faults of guest code carry
            // a kernel si_code (> 0); the rest came from outside.
            // SAFETY: siginfo_t is plain data; zero is a valid value.
            let mut info: libc::siginfo_t = unsafe { std::mem::zeroed() };
            ptrace(
                libc::PTRACE_GETSIGINFO,
                self.tid,
                0,
                &mut info as *mut _ as usize,
            )
            .map_err(|e| PlatformError::Host("PTRACE_GETSIGINFO", e))?;
            self.load_regs()?;
            let synchronous = info.si_code > 0
                && matches!(
                    sig,
                    libc::SIGSEGV | libc::SIGBUS | libc::SIGFPE | libc::SIGILL | libc::SIGTRAP
                );
            if synchronous {
                // SAFETY: si_addr is valid for these fault signals.
                let addr = unsafe { info.si_addr() } as u64;
                return Ok(Trap::Fault {
                    signo: sig,
                    code: info.si_code,
                    addr,
                });
            }
            if sig == libc::SIGSTOP {
                continue;
            }
            if sig == SIGKICK {
                return Ok(Trap::Interrupted);
            }
            return Ok(Trap::Signal(sig));
        }
    }

    fn kill(&mut self) {
        if self.dead {
            return;
        }
        // SAFETY: signalling our own stub by pid.
        unsafe { libc::kill(self.tid, libc::SIGKILL) };
        while let Ok(status) = wait(self.tid) {
            if libc::WIFEXITED(status) || libc::WIFSIGNALED(status) {
                break;
            }
        }
        self.dead = true;
    }

    fn host_tid(&self) -> i32 {
        self.tid
    }

    fn spawn_thread(&mut self) -> Result<i32, PlatformError> {
        let at = self.layout.clone;
        let out = self.run_stub_code(|r| {
            r.rip = at;
            r.rax = 0;
            r.rdi = THREAD_FLAGS;
        })?;
        let tid = out.rax as i64;
        if tid <= 0 {
            return Err(PlatformError::Injected("clone of a thread", tid));
        }
        if let Some(s) = &self.stub {
            s.enter();
        }
        Ok(tid as i32)
    }

    fn exit_thread(&mut self) {
        if self.dead {
            return;
        }
        // The last guest thread of the stub stays, parked, for reuse.
        let last = std::mem::take(&mut self.user) && self.stub.as_ref().is_some_and(|s| s.leave());
        let at = if last {
            self.layout.park
        } else {
            self.layout.exit_thread
        };
        if self.detach_at(at) {
            self.dead = true;
            if last {
                if let Some(s) = &self.stub {
                    s.set_parked(self.tid);
                }
            }
        } else {
            // Not in a stop we can leave from: the stub cannot be trusted.
            self.kill();
        }
    }

    fn stub(&self) -> Option<&Arc<StubHandle>> {
        self.stub.as_ref()
    }

    fn xstate(&mut self) -> Result<Vec<u8>, PlatformError> {
        /// `NT_X86_XSTATE` (include/uapi/linux/elf.h).
        const NT_X86_XSTATE: usize = 0x202;
        // The kernel copies at most `fpu_user_cfg.max_size` bytes (CPUID
        // 0xD's size for XCR0, `ptrace_size`) and says how many in
        // `iov_len`.
        let size = crate::signal::frame::XstateLayout::get().ptrace_size;
        let mut buf = vec![0u8; size.max(4096)];
        let mut iov = libc::iovec {
            iov_base: buf.as_mut_ptr().cast(),
            iov_len: buf.len(),
        };
        ptrace(
            libc::PTRACE_GETREGSET,
            self.tid,
            NT_X86_XSTATE,
            &mut iov as *mut libc::iovec as usize,
        )
        .map_err(|e| PlatformError::Host("PTRACE_GETREGSET NT_X86_XSTATE", e))?;
        buf.truncate(iov.iov_len);
        Ok(buf)
    }

    fn set_xstate(&mut self, data: &[u8]) -> Result<(), PlatformError> {
        const NT_X86_XSTATE: usize = 0x202;
        // The kernel only reads through iov_base (`xstateregs_set` wants the
        // whole `fpu_user_cfg.max_size` image).
        let mut iov = libc::iovec {
            iov_base: data.as_ptr().cast_mut().cast(),
            iov_len: data.len(),
        };
        ptrace(
            libc::PTRACE_SETREGSET,
            self.tid,
            NT_X86_XSTATE,
            &mut iov as *mut libc::iovec as usize,
        )
        .map_err(|e| PlatformError::Host("PTRACE_SETREGSET NT_X86_XSTATE", e))?;
        Ok(())
    }
}

impl Drop for PtraceThread {
    fn drop(&mut self) {
        self.exit_thread();
    }
}
