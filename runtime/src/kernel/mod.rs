//! The kernel: boot, global tables, and starting the first program.
//!
//! # Model
//!
//! [`Kernel::boot`] creates guest physical memory and the platform (which
//! starts the stub spawner). [`Kernel::run`] starts the first program as
//! pid 1 on its own kernel thread and waits for it; the kernel thread
//! creates the stub, loads the program into the new address space and then
//! drives the guest thread in [`run::run_thread`] until the process ends.

pub mod run;

use std::path::PathBuf;
use std::sync::Arc;

use parking_lot::Mutex;

use crate::fs::{FdTable, HostFile};
use crate::loader::{ExecArgs, Program};
use crate::mm::fault::FaultThread;
use crate::mm::uffd::Uffd;
use crate::mm::{AddressSpace, Memory};
use crate::platform::{stub, Platform, PlatformKind};
use crate::sched::Dispatcher;
use crate::task::{host_limits, ExitStatus, Process, Thread, ThreadState, NSIG};
use crate::trace::Tracer;

/// Size of guest physical memory (a sparse memfd: untouched frames cost
/// nothing).
pub const DEFAULT_MEMORY: u64 = 256 << 30;

#[derive(Debug)]
pub struct Config {
    pub platform: PlatformKind,
    /// vCPUs (`--cpus`): at most this many guest threads run at once.
    pub cpus: usize,
    pub memory_bytes: u64,
    /// Report scheduler events in the trace (`--trace-sched`).
    pub trace_sched: bool,
    /// Record which task held which vCPU when (`--timeline`).
    pub timeline: bool,
}

#[derive(Debug, thiserror::Error)]
pub enum KernelError {
    #[error(transparent)]
    Platform(#[from] crate::platform::PlatformError),
    #[error(transparent)]
    Frames(#[from] crate::mm::frames::FrameError),
    #[error(transparent)]
    Uffd(#[from] crate::mm::uffd::UffdError),
    #[error("loading the program: {0}")]
    Load(crate::error::SysError),
    #[error("{0}")]
    Io(#[from] std::io::Error),
    #[error("a kernel thread panicked")]
    Panicked,
    #[error("starting the scheduler: {0}")]
    Sched(#[from] crate::sched::SchedError),
}

pub struct Kernel {
    pub config: Config,
    pub memory: Arc<Memory>,
    pub platform: Platform,
    pub tracer: Option<Arc<Tracer>>,
    /// The vCPU dispatcher: who runs guest code when (`sched/dispatch.rs`).
    pub sched: Arc<Dispatcher>,
}

impl std::fmt::Debug for Kernel {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Kernel")
            .field("config", &self.config)
            .finish_non_exhaustive()
    }
}

/// The guest's stdio: duplicates of umk's descriptors 0, 1 and 2 (a guest
/// closing its stdout does not close umk's).
fn stdio_table() -> FdTable {
    let mut t = FdTable::default();
    for fd in 0..3 {
        // SAFETY: F_DUPFD_CLOEXEC of umk's own stdio descriptor.
        let d = unsafe { libc::fcntl(fd, libc::F_DUPFD_CLOEXEC, 3) };
        if d >= 0 {
            // SAFETY: `d` is a fresh descriptor we own.
            let owned = unsafe { <std::os::fd::OwnedFd as std::os::fd::FromRawFd>::from_raw_fd(d) };
            let file = Arc::new(HostFile::new(
                owned,
                Some(PathBuf::from(format!("/dev/fd/{fd}"))),
            ));
            t.install_at(fd as usize, file, false);
        }
    }
    t
}

impl Kernel {
    pub fn boot(config: Config, tracer: Option<Arc<Tracer>>) -> Result<Arc<Kernel>, KernelError> {
        let memory = Arc::new(Memory::new(config.memory_bytes)?);
        let platform = Platform::new(config.platform, memory.clone())?;
        // The kick makes a running guest thread trap so that its kernel
        // thread gives up the vCPU; it arrives with the task table (a host
        // signal to the stub thread). Until then a single-threaded guest is
        // never preempted: nobody waits for its vCPU.
        let kick: crate::sched::dispatch::Kick =
            Arc::new(|tid| crate::log::debug(|| format!("sched: kick task {tid} (not wired yet)")));
        let sched = Dispatcher::new(config.cpus, kick)?;
        if config.timeline {
            sched.enable_timeline();
        }
        if let Some(t) = tracer.as_ref().filter(|_| config.trace_sched) {
            let t = t.clone();
            sched.set_observer(Box::new(move |ev| t.sched(ev)));
        }
        Ok(Arc::new(Kernel {
            config,
            memory,
            platform,
            tracer,
            sched,
        }))
    }

    /// Runs `prog` as pid 1 and returns how it ended.
    pub fn run(self: &Arc<Self>, prog: Program, args: ExecArgs) -> Result<ExitStatus, KernelError> {
        let k = self.clone();
        let h = std::thread::Builder::new()
            .name("umk-task-1".into())
            .spawn(move || k.start_init(prog, args))?;
        h.join().map_err(|_| KernelError::Panicked)?
    }

    fn start_init(
        self: Arc<Self>,
        prog: Program,
        args: ExecArgs,
    ) -> Result<ExitStatus, KernelError> {
        let (mut guest, uffd) = self.platform.new_address_space()?;
        let limits = host_limits();
        let stack = limits[guest_abi::resource::RLIMIT_STACK as usize]
            .rlim_cur
            .clamp(128 << 10, 1 << 30);
        let base = stub::layout()
            .map_err(crate::platform::PlatformError::from)?
            .base;
        let layout = crate::loader::layout(base, stack);
        let mm = Arc::new(AddressSpace::new(self.memory.clone(), layout));
        mm.set_uffd(Uffd::new(uffd)?);
        let faults = FaultThread::spawn(mm.clone())?;
        let started = crate::loader::load(&prog, &mm, &mut *guest, &args, stack)
            .map_err(KernelError::Load)?;
        {
            let r = guest.regs_mut();
            let (cs, ss, ds, es, fs, gs) = (r.cs, r.ss, r.ds, r.es, r.fs, r.gs);
            // SAFETY: user_regs_struct is plain integers; zero is valid.
            *r = unsafe { std::mem::zeroed() };
            (r.cs, r.ss, r.ds, r.es, r.fs, r.gs) = (cs, ss, ds, es, fs, gs);
            r.rip = started.entry;
            r.rsp = started.sp;
            r.eflags = 0x202;
            r.orig_rax = u64::MAX;
        }
        let exe = std::fs::canonicalize(&prog.exe.path).unwrap_or_else(|_| prog.exe.path.clone());
        let cwd =
            crate::task::Cwd::open(std::env::current_dir().unwrap_or_else(|_| PathBuf::from("/")))
                .or_else(|_| crate::task::Cwd::open(PathBuf::from("/")))?;
        let process = Arc::new(Process {
            pid: 1,
            ppid: 0,
            mm,
            faults: Mutex::new(Some(faults)),
            files: Mutex::new(stdio_table()),
            limits: Mutex::new(limits),
            sigactions: Mutex::new([Default::default(); NSIG]),
            exe,
            cwd: Mutex::new(Arc::new(cwd)),
            pgid: Mutex::new(1),
            sid: Mutex::new(1),
            pdeathsig: Mutex::new(0),
        });
        let state = ThreadState {
            comm: crate::task::comm_of(&process.exe),
            ..Default::default()
        };
        let thread = Arc::new(Thread {
            tid: 1,
            process: process.clone(),
            state: Mutex::new(state),
        });
        if let Some(t) = &self.tracer {
            t.task_created(1);
        }
        if let Err(e) = self.sched.add(1, None) {
            crate::log::warn(&format!("sched: task 1: {e}"));
        }
        self.sched
            .set_comm(1, &String::from_utf8_lossy(&thread.state.lock().comm));
        let status = run::run_thread(&self, &thread, &mut *guest);
        self.sched.exit(1);
        guest.kill();
        drop(guest);
        process.faults.lock().take();
        // Close the guest's descriptors now rather than when the last
        // reference to the process goes.
        *process.files.lock() = FdTable::default();
        Ok(status)
    }
}
