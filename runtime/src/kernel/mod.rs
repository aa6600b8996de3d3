//! The kernel: boot, global tables, and the life of a kernel thread.
//!
//! # Model
//!
//! [`Kernel::boot`] creates guest physical memory, the platform (which
//! starts the stub spawner, keeper of the stub pool) and the task table. [`Kernel::run`] starts the
//! first program as pid 1 and waits for it to end; then every other guest is
//! killed and umk waits for their kernel threads, so no stub outlives the
//! run.
//!
//! Every guest thread gets a kernel thread ([`Kernel::spawn_task`]; kernel
//! threads are reused, `workers.rs`) that
//! first sets up what the guest thread runs on — a stub from the pool
//! (`platform::pool`) with a program loaded (init) or a forked address space
//! mapped (fork), or a new host thread in the parent's stub (clone with
//! `CLONE_VM`) — and then
//! drives it in [`run::run_thread`]. When the guest thread ends its kernel
//! thread does the exit work ([`exit::thread_exited`]).

pub mod exit;
pub mod placement;
pub mod run;
pub mod signal;
pub mod timers;
pub mod workers;

use std::path::PathBuf;
use std::sync::{Arc, OnceLock};
use std::time::{Duration, Instant};

use parking_lot::{Condvar, Mutex};

use crate::fs::{FdTable, HostFile};
use crate::loader::{ExecArgs, Program};
use crate::mm::fault::FaultThread;
use crate::mm::{AddressSpace, Layout, Memory};
use crate::platform::{stub, GuestThread, Platform, PlatformKind, Regs, StubHandle};
use crate::sched::Dispatcher;
use crate::signal::frame::XstateLayout;
use crate::task::table::Tasks;
use crate::task::{ExitStatus, Live, Mm, Process, Thread, ThreadState};
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
    /// `--max-tasks`: live guest threads at most.
    pub max_tasks: usize,
    /// Report scheduler events in the trace (`--trace-sched`).
    pub trace_sched: bool,
    /// Record which task held which vCPU when (`--timeline`).
    pub timeline: bool,
    /// Pin vCPUs to host CPUs (`placement.rs`; off with `--no-pin`).
    pub pin: bool,
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
    pub tasks: Tasks,
    /// Kernel threads still running (umk waits for them at the end).
    pub live: Live,
    /// init's status once it has ended.
    init_status: Mutex<Option<ExitStatus>>,
    init_cv: Condvar,
    /// The vCPU dispatcher: who runs guest code when (`sched/dispatch.rs`).
    pub sched: Arc<Dispatcher>,
    /// Processes' real-time interval timers (`timers.rs`).
    pub timers: timers::Timers,
    /// Which host CPU each vCPU runs on (`placement.rs`).
    pub placement: placement::Placement,
    /// Kernel threads waiting to drive the next guest thread (`workers.rs`).
    workers: Arc<workers::Workers>,
}

impl std::fmt::Debug for Kernel {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Kernel")
            .field("config", &self.config)
            .finish_non_exhaustive()
    }
}

/// What a new kernel thread sets up before it drives its guest thread.
pub enum Start {
    /// init: a stub with `prog` loaded.
    Exec { prog: Program, args: ExecArgs },
    /// A fork child: a stub mapping the thread's (forked) address
    /// space; the guest starts from `regs` and the parent's FPU/vector
    /// state `xstate` (none: the initial state); `set_child_tid` is
    /// CLONE_CHILD_SETTID's pointer (written in the child's memory).
    Fork {
        regs: Regs,
        xstate: Option<Vec<u8>>,
        set_child_tid: Option<u64>,
    },
    /// A new host thread `host_tid` in `stub` (clone with CLONE_VM); the
    /// guest starts from `regs`.
    Attach {
        host_tid: i32,
        stub: Arc<StubHandle>,
        regs: Regs,
    },
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
        let tasks = Tasks::new(config.max_tasks);
        let placement = placement::Placement::detect(config.pin);
        // The kick makes a running guest thread trap so that its kernel
        // thread gives up the vCPU (preemption): a host signal to its stub
        // thread, nothing if it is not running guest code.
        let weak = Arc::new(OnceLock::<std::sync::Weak<Kernel>>::new());
        let w2 = weak.clone();
        let kick: crate::sched::dispatch::Kick = Arc::new(move |tid| {
            if let Some(k) = w2.get().and_then(std::sync::Weak::upgrade) {
                if let Some(t) = k.tasks.thread_for_kick(tid) {
                    t.preempt();
                }
            }
        });
        let sched = Dispatcher::new(config.cpus, kick)?;
        if config.timeline {
            sched.enable_timeline();
        }
        if let Some(t) = tracer.as_ref().filter(|_| config.trace_sched) {
            let t = t.clone();
            sched.set_observer(Box::new(move |ev| t.sched(ev)));
        }
        crate::task::set_dispatcher(sched.clone());
        let k = Arc::new(Kernel {
            config,
            memory,
            platform,
            tracer,
            tasks,
            timers: timers::Timers::default(),
            placement,
            workers: Arc::default(),
            live: Live::default(),
            init_status: Mutex::new(None),
            init_cv: Condvar::new(),
            sched,
        });
        let _ = weak.set(Arc::downgrade(&k));
        Ok(k)
    }

    /// A new, empty address space for a main-thread stack of `stack`
    /// bytes ([`Process::stack_size`]).
    pub fn new_space(&self, stack: u64) -> Result<AddressSpace, KernelError> {
        Ok(AddressSpace::new(
            self.memory.clone(),
            self.space_layout(stack)?,
        ))
    }

    /// The layout of a new address space (it depends on the stack size).
    pub fn space_layout(&self, stack: u64) -> Result<Layout, KernelError> {
        let base = stub::layout()
            .map_err(crate::platform::PlatformError::from)?
            .base;
        Ok(crate::loader::layout(base, stack))
    }

    /// Takes a stub for `space` (from the pool) and attaches it: uffd,
    /// fault thread. The thread's FPU/vector state becomes `xstate` (none:
    /// the initial state; stubs are reused, so it must not be whatever the
    /// last guest left).
    pub fn attach_stub(
        &self,
        mm: &Mm,
        xstate: Option<&[u8]>,
    ) -> Result<Box<dyn GuestThread>, KernelError> {
        let ns = match workers::take_spare() {
            Some(ns) => ns,
            None => self.platform.new_address_space()?,
        };
        mm.space.set_uffd(ns.uffd);
        mm.space.set_stub(ns.stub);
        mm.set_faults(FaultThread::spawn(mm.space.clone())?);
        let mut thread = ns.thread;
        let control = thread.stub().map_or(0, |s| s.control_tid());
        self.placement.pin_here(thread.host_tid(), control);
        match xstate {
            Some(x) => thread.set_xstate(x)?,
            None => thread.set_xstate(&XstateLayout::get().init_image())?,
        }
        Ok(thread)
    }

    /// Runs `prog` as pid 1 and returns how it ended, once every guest is
    /// gone.
    pub fn run(self: &Arc<Self>, prog: Program, args: ExecArgs) -> Result<ExitStatus, KernelError> {
        let exe = std::fs::canonicalize(&prog.exe.path).unwrap_or_else(|_| prog.exe.path.clone());
        let cwd =
            crate::task::Cwd::open(std::env::current_dir().unwrap_or_else(|_| PathBuf::from("/")))
                .or_else(|_| crate::task::Cwd::open(PathBuf::from("/")))?;
        let process = Arc::new(Process::new(1, stdio_table(), exe.clone(), Arc::new(cwd)));
        let mm = Arc::new(Mm::new(Arc::new(self.new_space(process.stack_size())?)));
        let state = ThreadState {
            comm: crate::task::comm_of(&exe),
            ..Default::default()
        };
        let thread = Arc::new(Thread::new(1, process.clone(), mm, state));
        {
            let mut t = self.tasks.lock();
            let pid = t.alloc_pid().map_err(|_| KernelError::Panicked)?;
            debug_assert_eq!(pid, 1);
            Tasks::add_process(&mut t, process, 0);
            // A new process: not exiting.
            let _ = self.tasks.add_thread(&mut t, thread.clone());
        }
        if let Err(e) = self.sched.add(1, None) {
            crate::log::warn(&format!("sched: task 1: {e}"));
        }
        self.sched
            .set_comm(1, &String::from_utf8_lossy(&thread.state.lock().comm));
        self.spawn_task(thread, Start::Exec { prog, args })?;
        let status = {
            let mut st = self.init_status.lock();
            while st.is_none() {
                self.init_cv.wait(&mut st);
            }
            st.unwrap_or(ExitStatus::Exited(0))
        };
        self.kill_everything();
        if !self
            .live
            .wait_idle(Instant::now() + Duration::from_secs(10))
        {
            crate::log::warn("kernel threads still running 10 s after init exited");
        }
        self.platform.shutdown();
        Ok(status)
    }

    /// init has ended with `status`.
    pub fn init_exited(&self, status: ExitStatus) {
        *self.init_status.lock() = Some(status);
        self.init_cv.notify_all();
    }

    /// Ends every guest process (init has exited).
    pub fn kill_everything(&self) {
        for p in self.tasks.processes() {
            p.begin_exit(ExitStatus::Signaled {
                signo: libc::SIGKILL,
                core: false,
            });
        }
    }

    /// Starts the kernel thread for `thread`.
    /// An idle kernel thread takes it if there is one (`workers.rs`).
    pub fn spawn_task(self: &Arc<Self>, thread: Arc<Thread>, start: Start) -> std::io::Result<()> {
        self.live.enter();
        let name = format!("umk-task-{}", thread.tid);
        let vcpu = self.sched.cpu_of(thread.tid);
        let job = workers::Job {
            kernel: self.clone(),
            thread,
            start,
            placed: None,
        };
        if let Err(e) = self.workers.start(job, name, vcpu) {
            self.live.leave();
            return Err(e);
        }
        Ok(())
    }

    fn task_main(self: Arc<Self>, thread: Arc<Thread>, start: Start) {
        crate::task::set_current(Some(thread.clone()));
        match self.setup(&thread, start) {
            Ok(guest) => {
                if let Some(t) = &self.tracer {
                    t.task_created(thread.tid);
                }
                run::run_thread(&self, &thread, guest);
            }
            Err(e) => {
                crate::log::warn(&format!("task {}: cannot start: {e}", thread.tid));
                let st = ExitStatus::Signaled {
                    signo: libc::SIGKILL,
                    core: false,
                };
                thread.process.begin_exit(st);
                exit::thread_exited(&self, &thread, None, st);
            }
        }
        crate::task::set_current(None);
        self.live.leave();
    }

    fn setup(
        &self,
        thread: &Arc<Thread>,
        start: Start,
    ) -> Result<Box<dyn GuestThread>, KernelError> {
        let mm = thread.mm();
        let mut guest = match start {
            Start::Exec { prog, args } => {
                let stack = thread.process.stack_size();
                let mut guest = self.attach_stub(&mm, None)?;
                let started = mm
                    .space
                    .batched(&mut *guest, |mmu| {
                        crate::loader::load(&prog, &mm.space, mmu, &args, stack)
                    })
                    .map_err(KernelError::Load)?;
                initial_regs(guest.regs_mut(), started.entry, started.sp);
                guest
            }
            Start::Fork {
                regs,
                xstate,
                set_child_tid,
            } => {
                let mut guest = self.attach_stub(&mm, xstate.as_deref())?;
                mm.space.populate(&mut *guest).map_err(KernelError::Load)?;
                if let Some(p) = set_child_tid {
                    let _ = mm.space.write(p, &thread.tid.to_ne_bytes());
                }
                *guest.regs_mut() = regs;
                guest
            }
            Start::Attach {
                host_tid,
                stub,
                regs,
            } => {
                let mut guest = self.platform.attach_thread(host_tid, stub)?;
                *guest.regs_mut() = regs;
                guest
            }
        };
        let stub_pid = guest.stub().map_or(0, |s| s.pid());
        thread.set_host(stub_pid, guest.host_tid());
        let _ = &mut guest;
        Ok(guest)
    }
}

/// Registers of a freshly loaded program: everything zero but the entry
/// point, the stack pointer and the segment selectors the host set.
pub fn initial_regs(r: &mut Regs, entry: u64, sp: u64) {
    let (cs, ss, ds, es, fs, gs) = (r.cs, r.ss, r.ds, r.es, r.fs, r.gs);
    // SAFETY: user_regs_struct is plain integers; zero is valid.
    *r = unsafe { std::mem::zeroed() };
    (r.cs, r.ss, r.ds, r.es, r.fs, r.gs) = (cs, ss, ds, es, fs, gs);
    r.rip = entry;
    r.rsp = sp;
    r.eflags = 0x202;
    r.orig_rax = u64::MAX;
}
