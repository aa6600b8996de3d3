//! Platforms: how guest code runs and how it traps into umk.
//!
//! # Model
//!
//! Guest instructions run natively in a **stub** process (one per guest
//! address space, one host thread per guest thread). The stub is a tiny
//! freestanding program (`stub/stub.S`) that keeps only its own image, at the
//! top of the user address space; everything below belongs to the guest and
//! is mapped by umk. A *platform* is the mechanism that stops a guest thread
//! at each syscall (and at faults and signals) and hands it to umk:
//!
//! - [`ptrace`]: `PTRACE_SYSEMU`, one stop per syscall (the portable path).
//! - seccomp (to come): `SECCOMP_RET_TRAP` → SIGSYS into stub code that
//!   shares a page with umk; no ptrace stop, ~3× faster here.
//!
//! Syscall handlers never see the platform: they get the registers through
//! [`GuestThread`] and change host mappings through [`HostMmu`], which every
//! guest thread implements (host operations run inside the stub).
//!
//! Reverie's rule holds by construction: a [`GuestThread`] is stopped
//! whenever umk holds it; [`GuestThread::run`] is the only way to run it and
//! returns at the next stop, so registers are read and written only while it
//! is stopped.

pub mod control;
pub mod pool;
pub mod ptrace;
pub mod stub;
pub mod stubfiles;
pub mod vdso;

use std::sync::Arc;
use std::time::{Duration, Instant};

use crate::mm::uffd::Uffd;
use crate::mm::{HostMmu, Memory};
pub use control::{Remote, StubHandle};

/// The host signal umk sends a stub thread to make its guest trap now
/// (a guest signal to deliver, preemption, the process ending). The stub
/// ignores it, so only a traced thread ever notices it (as a stop).
pub const SIGKICK: i32 = 63;

/// Makes host thread `host_tid` of a stub stop soon (see [`SIGKICK`]).
pub fn kick(stub_pid: i32, host_tid: i32) {
    // SAFETY: tgkill of a thread of our own stub; no memory involved.
    unsafe { libc::syscall(libc::SYS_tgkill, stub_pid, host_tid, SIGKICK) };
}

/// The general-purpose registers of a stopped guest thread.
pub type Regs = libc::user_regs_struct;

/// Why a guest thread stopped.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Trap {
    /// A syscall: number in `orig_rax`, arguments in rdi, rsi, rdx, r10, r8, r9.
    Syscall,
    /// Guest code faulted (a synchronous host signal with a kernel si_code).
    Fault { signo: i32, code: i32, addr: u64 },
    /// An asynchronous host signal reached the stub (e.g. SIGINT from the
    /// terminal, which reaches the whole foreground process group).
    Signal(i32),
    /// The stub died (killed from outside); the host wait status.
    Exited(i32),
    /// umk itself asked the thread to stop ([`SIGKICK`]).
    Interrupted,
}

#[derive(Debug, thiserror::Error)]
pub enum PlatformError {
    #[error(transparent)]
    Stub(#[from] stub::StubError),
    #[error("{0}: {1}")]
    Host(&'static str, std::io::Error),
    #[error("unexpected stop of a new stub (wait status {0:#x})")]
    Unexpected(i32),
    #[error("injected {0} failed: {1}")]
    Injected(&'static str, i64),
    #[error("stub is gone (wait status {0:#x})")]
    Gone(i32),
    #[error(transparent)]
    Frames(#[from] crate::mm::frames::FrameError),
    #[error("userfaultfd: {0}")]
    Uffd(String),
    #[error("stub pool: {0}")]
    Pool(String),
}

/// One guest thread as umk drives it.
pub trait GuestThread: HostMmu + Send {
    fn regs(&self) -> &Regs;
    /// Registers for writing (written back before the thread runs again).
    fn regs_mut(&mut self) -> &mut Regs;
    /// Sets the syscall's return value (`rax`).
    fn set_syscall_result(&mut self, value: u64);
    /// Resumes the guest until its next trap.
    fn run(&mut self) -> Result<Trap, PlatformError>;
    /// Kills the stub thread's whole process and reaps it.
    fn kill(&mut self);
    /// The host thread id of the stub thread.
    fn host_tid(&self) -> i32;
    /// Starts a new host thread in this thread's stub, waiting to be
    /// attached ([`Platform::attach_thread`]); returns its host tid.
    fn spawn_thread(&mut self) -> Result<i32, PlatformError>;
    /// Lets this host thread end on its own, leaving the rest of the stub
    /// running (exit(2) of one guest thread).
    fn exit_thread(&mut self);
    /// The stub this thread belongs to.
    fn stub(&self) -> Option<&Arc<StubHandle>>;
    /// The FPU/vector state as an XSAVE image in standard format (the
    /// ptrace `NT_X86_XSTATE` layout: 512-byte FXSAVE area, 64-byte header,
    /// extended components at their CPUID 0xD offsets), for signal frames.
    fn xstate(&mut self) -> Result<Vec<u8>, PlatformError>;
    /// Replaces the FPU/vector state with an image of the same layout and
    /// length as [`GuestThread::xstate`] returns.
    fn set_xstate(&mut self, data: &[u8]) -> Result<(), PlatformError>;
}

/// A new, empty address space: its first thread, its userfaultfd (after
/// the `UFFDIO_API` handshake) and the stub as a whole.
pub struct NewSpace {
    pub thread: Box<dyn GuestThread>,
    pub uffd: Uffd,
    pub stub: Arc<StubHandle>,
}

/// Which platform `umk run --platform` chose.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum PlatformKind {
    Ptrace,
}

impl PlatformKind {
    pub const ALL: &'static [PlatformKind] = &[PlatformKind::Ptrace];

    pub fn name(self) -> &'static str {
        match self {
            PlatformKind::Ptrace => "ptrace",
        }
    }

    pub fn from_name(s: &str) -> Option<PlatformKind> {
        Self::ALL.iter().copied().find(|p| p.name() == s)
    }
}

/// A platform instance: what it needs to create stubs.
#[derive(Debug)]
pub struct Platform {
    kind: PlatformKind,
    pool: Arc<pool::StubPool>,
    memory: Arc<Memory>,
}

impl Platform {
    /// Starts the spawner thread, which keeps the stub pool.
    pub fn new(kind: PlatformKind, memory: Arc<Memory>) -> Result<Platform, PlatformError> {
        let pool = Arc::new(pool::StubPool::default());
        let (p2, m2) = (Arc::downgrade(&pool), memory.clone());
        stub::start_keeper(memory.fd(), pool.clone(), move |pid| {
            let r = ptrace::PtraceThread::prepare(pid, m2.clone())?;
            r.stub.set_home(p2.clone());
            Ok(r)
        })?;
        Ok(Platform { kind, pool, memory })
    }

    pub fn kind(&self) -> PlatformKind {
        self.kind
    }

    /// An empty address space: a stub from the pool, whose parked thread
    /// this kernel thread takes over (stopped). Call it on the kernel thread
    /// that will drive the guest thread.
    pub fn new_address_space(&self) -> Result<NewSpace, PlatformError> {
        match self.kind {
            PlatformKind::Ptrace => {
                let r = self.pool.take()?;
                let tid = r
                    .stub
                    .take_parked()
                    .ok_or_else(|| PlatformError::Pool("stub without a parked thread".into()))?;
                let t = ptrace::PtraceThread::attach(tid, self.memory.clone(), r.stub.clone())?;
                Ok(NewSpace {
                    thread: Box::new(t),
                    uffd: r.uffd,
                    stub: r.stub,
                })
            }
        }
    }

    /// Takes over host thread `host_tid` of `stub` (from
    /// [`GuestThread::spawn_thread`]). Call it on the kernel thread that
    /// will drive the guest thread.
    pub fn attach_thread(
        &self,
        host_tid: i32,
        stub: Arc<StubHandle>,
    ) -> Result<Box<dyn GuestThread>, PlatformError> {
        match self.kind {
            PlatformKind::Ptrace => Ok(Box::new(ptrace::PtraceThread::attach(
                host_tid,
                self.memory.clone(),
                stub,
            )?)),
        }
    }

    /// The end of a run: kills the pooled stubs and waits (a little) until
    /// every killed stub is reaped.
    pub fn shutdown(&self) {
        self.pool.shutdown();
        if !control::wait_reaped(Instant::now() + Duration::from_secs(2)) {
            crate::log::warn("stubs still not reaped 2 s after the run");
        }
    }
}

impl Drop for Platform {
    fn drop(&mut self) {
        self.pool.shutdown();
    }
}
