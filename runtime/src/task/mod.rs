//! Processes (thread groups) and threads: umk's process control blocks.
//!
//! # Model
//!
//! A [`Process`] owns what its threads share: the descriptor table, resource
//! limits, signal dispositions, the executable and working directory. A
//! [`Thread`] owns what is per thread: its id, its address space (threads of
//! one process share it; a `vfork` child borrows its parent's until it
//! execs), its signal mask and alternate stack, and the `set_tid_address` /
//! `set_robust_list` pointers. Each guest thread is driven by one kernel
//! thread in umk (`kernel::run`).
//!
//! The process tree — parents, children, process groups, sessions, zombies —
//! lives in one table ([`table::Tasks`]) under one lock, so that fork, exit,
//! wait, setpgid and kill see a consistent tree. Pids are guest pids: the
//! first program is pid 1 (init).
//!
//! **Blocking.** A syscall that waits (wait4, a pipe read, a futex) blocks
//! its kernel thread on a condition variable through [`Thread::wait_on`],
//! which returns early when the thread is *kicked* ([`Thread::kick`]): a
//! signal to deliver, its process ending, an exec killing the other threads.
//! A kicked thread that is running guest code gets a host signal instead
//! (`platform::SIGKICK`), which stops it in its tracer.

pub mod table;

use std::path::PathBuf;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use guest_abi::resource::*;
use guest_abi::structs::{KernelSigaction, Rlimit, StackT};
use parking_lot::{Condvar, Mutex, MutexGuard};

use crate::fs::FdTable;
use crate::mm::fault::FaultThread;
use crate::mm::AddressSpace;
use crate::sched::dispatch::CpuTimes;
use crate::signal::{FaultRegs, SigQueue, SigSet};

pub type Pid = i32;

/// Number of signals (1..=64), indexed from 0.
pub const NSIG: usize = 64;

/// An address space in use: the space itself and the thread resolving its
/// page faults (stopped when the last user lets go).
#[derive(Debug)]
pub struct Mm {
    pub space: Arc<AddressSpace>,
    faults: Mutex<Option<FaultThread>>,
}

impl Mm {
    /// An address space whose fault thread starts once its stub exists
    /// ([`Mm::set_faults`]).
    pub fn new(space: Arc<AddressSpace>) -> Mm {
        Mm {
            space,
            faults: Mutex::new(None),
        }
    }

    pub fn set_faults(&self, faults: FaultThread) {
        *self.faults.lock() = Some(faults);
    }
}

/// The vCPU dispatcher, for blocking waits to give up their vCPU.
static DISPATCHER: std::sync::OnceLock<Arc<crate::sched::Dispatcher>> = std::sync::OnceLock::new();

/// Installs the dispatcher (once, at boot).
pub fn set_dispatcher(d: Arc<crate::sched::Dispatcher>) {
    let _ = DISPATCHER.set(d);
}

thread_local! {
    static CURRENT: std::cell::RefCell<Option<Arc<Thread>>> = const { std::cell::RefCell::new(None) };
}

/// Makes `t` the guest thread this kernel thread drives (see [`current`]).
pub fn set_current(t: Option<Arc<Thread>>) {
    CURRENT.with(|c| *c.borrow_mut() = t);
}

/// The guest thread the calling kernel thread drives, if any: code far from
/// the syscall context (a pipe's blocking read) waits through it.
pub fn current() -> Option<Arc<Thread>> {
    CURRENT.with(|c| c.borrow().clone())
}

impl Drop for Mm {
    fn drop(&mut self) {
        // Stop the fault thread first: it holds the space too.
        self.faults.lock().take();
    }
}

/// The per-process state that threads share.
#[derive(Debug)]
pub struct Process {
    pub pid: Pid,
    pub files: Mutex<FdTable>,
    pub limits: Mutex<[Rlimit; RLIM_NLIMITS as usize]>,
    pub sigactions: Mutex<[KernelSigaction; NSIG]>,
    /// Absolute path of the running executable (`/proc/self/exe`).
    pub exe: Mutex<PathBuf>,
    /// Shared, so a lookup can hold the directory without a host `dup`.
    pub cwd: Mutex<Arc<Cwd>>,
    /// `PR_SET_PDEATHSIG` signal (0: none).
    pub pdeathsig: Mutex<i32>,
    /// Live threads.
    pub threads: Mutex<Vec<Arc<Thread>>>,
    /// Set once the process is ending (exit_group, a fatal signal): how.
    pub exit: Mutex<Option<ExitStatus>>,
    /// A `vfork` parent waits on this until the child execs or exits.
    pub vfork_done: Mutex<bool>,
    pub vfork_cv: Condvar,
    /// Signals sent to the process as a whole (kill(2)): any thread that
    /// does not block one takes it. Lock order: `sigactions`, then this,
    /// then a thread's `state`.
    pub shared_pending: Mutex<SigQueue>,
    /// Job control: stopped by a stop signal, and what wait(2) may report.
    pub jobctl: Mutex<JobCtl>,
    /// Stopped threads wait on this for SIGCONT (or SIGKILL).
    pub jobctl_cv: Condvar,
    /// `ITIMER_REAL` (alarm(2), setitimer(2)).
    pub itimer_real: Mutex<ItimerReal>,
    /// CPU time of ended threads and of reaped children.
    pub cpu: Mutex<ProcCpu>,
}

/// A process's CPU time that no live thread carries any more.
#[derive(Clone, Copy, Debug, Default)]
pub struct ProcCpu {
    /// Its threads that have ended (all of them, once it is a zombie).
    pub dead: CpuTimes,
    /// Children it has waited for, with their own waited-for children
    /// (`RUSAGE_CHILDREN`, `tms_cutime`; kernel/exit.c `wait_task_zombie`
    /// adds to `signal->cutime`). Children reaped automatically (SIGCHLD
    /// ignored) do not count, as on Linux.
    pub children: CpuTimes,
}

impl ProcCpu {
    /// What a parent's wait collects: the process's own time and its
    /// children's.
    pub fn total(&self) -> CpuTimes {
        let mut t = self.dead;
        t.add(self.children);
        t
    }
}

/// A process's job-control state (Linux: `signal->flags` SIGNAL_STOP_* and
/// `group_exit_code`).
#[derive(Debug, Default)]
pub struct JobCtl {
    /// The process is stopped: its threads do not run guest code.
    pub stopped: bool,
    /// What waitpid(WUNTRACED / WCONTINUED) has still to report, once.
    pub report: Option<JobReport>,
    /// Which group stop this is (threads count themselves in once each:
    /// [`Thread::stop_gen`]).
    pub gen: u64,
    /// Threads still to park before the stop is complete (Linux's
    /// `group_stop_count`): only then does the parent hear of it.
    pub to_park: usize,
    /// The signal that stopped the process.
    pub sig: i32,
}

/// A stop or continue a parent has not seen yet.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum JobReport {
    /// Stopped by this signal (`WIFSTOPPED`, `CLD_STOPPED`).
    Stopped(i32),
    /// Continued by SIGCONT (`WIFCONTINUED`, `CLD_CONTINUED`).
    Continued,
}

/// The process's real-time interval timer: when it fires next, and the
/// interval it re-arms with. `generation` changes on every setitimer so a
/// stale timer-queue entry is recognised and dropped.
#[derive(Clone, Copy, Debug, Default)]
pub struct ItimerReal {
    pub deadline: Option<Instant>,
    pub interval: Duration,
    pub generation: u64,
}

impl Process {
    pub fn new(pid: Pid, files: FdTable, exe: PathBuf, cwd: Arc<Cwd>) -> Process {
        Self::with(
            pid,
            files,
            host_limits(),
            [Default::default(); NSIG],
            exe,
            cwd,
        )
    }

    /// The main thread's stack size for an exec of this process: its
    /// RLIMIT_STACK soft limit, kept within 128 KiB..1 GiB (fs/exec.c sizes
    /// the new stack from the exec'ing process's limit).
    pub fn stack_size(&self) -> u64 {
        self.limits.lock()[guest_abi::resource::RLIMIT_STACK as usize]
            .rlim_cur
            .clamp(128 << 10, 1 << 30)
    }

    /// The copy a fork child starts with (files, limits, dispositions,
    /// executable, working directory), under a new pid. fork(2): pending
    /// signals and interval timers are not inherited.
    pub fn fork(&self, pid: Pid) -> Process {
        Self::with(
            pid,
            self.files.lock().clone(),
            *self.limits.lock(),
            *self.sigactions.lock(),
            self.exe.lock().clone(),
            self.cwd.lock().clone(),
        )
    }

    /// A process with these and nothing else: no threads, nothing pending,
    /// not stopped, no timers.
    fn with(
        pid: Pid,
        files: FdTable,
        limits: [Rlimit; RLIM_NLIMITS as usize],
        sigactions: [KernelSigaction; NSIG],
        exe: PathBuf,
        cwd: Arc<Cwd>,
    ) -> Process {
        Process {
            pid,
            files: Mutex::new(files),
            limits: Mutex::new(limits),
            sigactions: Mutex::new(sigactions),
            exe: Mutex::new(exe),
            cwd: Mutex::new(cwd),
            pdeathsig: Mutex::new(0),
            threads: Mutex::new(Vec::new()),
            exit: Mutex::new(None),
            vfork_done: Mutex::new(false),
            vfork_cv: Condvar::new(),
            shared_pending: Mutex::new(SigQueue::default()),
            jobctl: Mutex::new(JobCtl::default()),
            jobctl_cv: Condvar::new(),
            itimer_real: Mutex::new(ItimerReal::default()),
            cpu: Mutex::new(ProcCpu::default()),
        }
    }

    /// Whether the process is stopped by a stop signal.
    pub fn is_stopped(&self) -> bool {
        self.jobctl.lock().stopped
    }

    /// How the process is ending, if it is.
    pub fn exiting(&self) -> Option<ExitStatus> {
        *self.exit.lock()
    }

    /// Starts ending the whole process with `status` (the first cause
    /// wins) and kicks every thread so it notices.
    pub fn begin_exit(&self, status: ExitStatus) {
        {
            let mut e = self.exit.lock();
            if e.is_none() {
                *e = Some(status);
            }
        }
        for t in self.threads.lock().iter() {
            t.kill();
        }
        // Stopped threads wait on the job-control condition: wake them so
        // they see the kill.
        let _g = self.jobctl.lock();
        self.jobctl_cv.notify_all();
    }

    /// Lets a `vfork` parent go on (the child exec'd or exited).
    pub fn release_vfork(&self) {
        *self.vfork_done.lock() = true;
        self.vfork_cv.notify_all();
    }

    pub fn limit(&self, resource: u64) -> Rlimit {
        self.limits
            .lock()
            .get(resource as usize)
            .copied()
            .unwrap_or_default()
    }
}

/// The working directory: its path (for getcwd) and a host `O_PATH`
/// descriptor that relative lookups are made against.
#[derive(Debug)]
pub struct Cwd {
    pub path: PathBuf,
    pub fd: std::os::fd::OwnedFd,
}

impl Cwd {
    pub fn open(path: PathBuf) -> std::io::Result<Cwd> {
        use std::os::unix::fs::OpenOptionsExt;
        let f = std::fs::OpenOptions::new()
            .read(true)
            .custom_flags(libc::O_PATH | libc::O_DIRECTORY | libc::O_CLOEXEC)
            .open(&path)?;
        Ok(Cwd { path, fd: f.into() })
    }
}

/// Per-thread state.
#[derive(Debug, Default)]
pub struct ThreadState {
    pub sigmask: u64,
    /// The mask rt_sigtimedwait set aside while it waits with its set
    /// unblocked (Linux's `real_blocked`); 0 otherwise. A signal blocked
    /// here is never discarded as ignored at send time.
    pub real_blocked: u64,
    /// Signals sent to this thread (tkill, faults, SIGPIPE).
    pub pending: SigQueue,
    /// The mask rt_sigsuspend replaced, put back after the signal that ends
    /// it is handled (it goes in the handler's frame).
    pub saved_sigmask: Option<u64>,
    /// What `restart_syscall(2)` resumes after an interrupted sleep.
    pub restart: Option<RestartBlock>,
    /// The last fault's exception details, for a handler's `sigcontext`.
    pub fault: FaultRegs,
    pub altstack: StackT,
    pub clear_child_tid: u64,
    pub robust_list: u64,
    pub robust_list_len: u64,
    /// `comm` (PR_SET_NAME): at most 15 bytes.
    pub comm: Vec<u8>,
}

/// An interrupted call that `restart_syscall(2)` continues (Linux's
/// `restart_block`): only sleeps need one here.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum RestartBlock {
    /// clock_nanosleep/nanosleep: sleep until `deadline` on `clock`, the
    /// time left going to `rem` when interrupted again.
    Sleep {
        clock: i32,
        deadline: Instant,
        rem: u64,
    },
}

/// Where the thread runs on the host, for kicking it.
#[derive(Debug, Default)]
struct HostSide {
    stub_pid: i32,
    host_tid: i32,
    /// The guest is running (between resume and trap).
    in_guest: bool,
    /// The condition variable the kernel thread waits on, if it waits.
    blocked_on: Option<usize>,
}

/// How a [`Thread::wait_on`] ended.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Wake {
    /// Notified (or spuriously woken): re-check the condition.
    Notified,
    /// The deadline passed.
    TimedOut,
    /// The thread was kicked: the syscall must return (EINTR or restart).
    Interrupted,
}

/// The longest a wait sleeps before re-checking for a kick it could have
/// missed (a kick between the check and the sleep).
const KICK_RECHECK: Duration = Duration::from_millis(50);

#[derive(Debug)]
pub struct Thread {
    pub tid: Pid,
    pub process: Arc<Process>,
    pub mm: Mutex<Arc<Mm>>,
    pub state: Mutex<ThreadState>,
    host: Mutex<HostSide>,
    /// Something wants this thread's attention (see [`Thread::kick`]).
    attention: AtomicBool,
    /// The thread must end (its process is exiting, or another thread
    /// exec'd).
    killed: AtomicBool,
    /// Sleeps that wait for nothing else (nanosleep, pause).
    pub sleep: Mutex<()>,
    pub sleep_cv: Condvar,
    /// The last group stop ([`JobCtl::gen`]) this thread took part in.
    pub stop_gen: AtomicU64,
}

impl Thread {
    pub fn new(tid: Pid, process: Arc<Process>, mm: Arc<Mm>, state: ThreadState) -> Thread {
        Thread {
            tid,
            process,
            mm: Mutex::new(mm),
            state: Mutex::new(state),
            host: Mutex::new(HostSide::default()),
            attention: AtomicBool::new(false),
            killed: AtomicBool::new(false),
            sleep: Mutex::new(()),
            sleep_cv: Condvar::new(),
            stop_gen: AtomicU64::new(0),
        }
    }

    /// The address space the thread runs in now.
    pub fn mm(&self) -> Arc<Mm> {
        self.mm.lock().clone()
    }

    /// Records where the thread runs on the host.
    pub fn set_host(&self, stub_pid: i32, host_tid: i32) {
        let mut h = self.host.lock();
        h.stub_pid = stub_pid;
        h.host_tid = host_tid;
    }

    /// Marks the guest as running, unless the thread has been kicked
    /// meanwhile (then it must not run: false).
    pub fn enter_guest(&self) -> bool {
        let mut h = self.host.lock();
        if self.attention() {
            return false;
        }
        h.in_guest = true;
        true
    }

    pub fn leave_guest(&self) {
        self.host.lock().in_guest = false;
    }

    /// Asks for the thread's attention: wakes it from a wait in umk, or
    /// stops its running guest.
    pub fn kick(&self) {
        self.attention.store(true, Ordering::SeqCst);
        let h = self.host.lock();
        if h.in_guest {
            crate::platform::kick(h.stub_pid, h.host_tid);
        }
        if let Some(cv) = h.blocked_on {
            // SAFETY: `blocked_on` is set by `wait_on` for the duration of
            // its wait and cleared, under this lock, before the condition
            // variable can go away; so it points at a live Condvar.
            unsafe { &*(cv as *const Condvar) }.notify_all();
        }
    }

    /// Makes a thread that runs guest code trap now (preemption): unlike
    /// [`Self::kick`] it does not interrupt a syscall.
    pub fn preempt(&self) {
        let h = self.host.lock();
        if h.in_guest {
            crate::platform::kick(h.stub_pid, h.host_tid);
        }
    }

    /// Ends the thread at its next chance (see `killed`).
    pub fn kill(&self) {
        self.killed.store(true, Ordering::SeqCst);
        self.kick();
    }

    pub fn is_killed(&self) -> bool {
        self.killed.load(Ordering::SeqCst)
    }

    /// Whether the thread has been kicked since [`Self::clear_attention`].
    /// Whether the thread was kicked since the run loop last looked. A
    /// killed thread always wants attention: a kill that lands between the
    /// run loop's check of `killed` and its `clear_attention` must still
    /// end the next wait (found as a reader that outlived SIGKILL).
    pub fn attention(&self) -> bool {
        self.attention.load(Ordering::SeqCst) || self.is_killed()
    }

    /// Called by the run loop once it has looked at why it was kicked.
    pub fn clear_attention(&self) {
        if !self.is_killed() {
            self.attention.store(false, Ordering::SeqCst);
        }
    }

    /// Waits on `cv` (with `guard` held, as `Condvar::wait`) until notified,
    /// `deadline`, or a kick. Callers loop re-checking their condition.
    pub fn wait_on<T>(
        &self,
        cv: &Condvar,
        guard: &mut MutexGuard<'_, T>,
        deadline: Option<Instant>,
    ) -> Wake {
        if self.attention() {
            return Wake::Interrupted;
        }
        self.host.lock().blocked_on = Some(cv as *const Condvar as usize);
        let now = Instant::now();
        let recheck = now + KICK_RECHECK;
        let until = deadline.map_or(recheck, |d| d.min(recheck));
        // A waiting thread holds no vCPU.
        let sched = DISPATCHER.get();
        if let Some(d) = sched {
            d.block(self.tid);
        }
        cv.wait_until(guard, until);
        if let Some(d) = sched {
            d.wake(self.tid);
        }
        self.host.lock().blocked_on = None;
        if self.attention() {
            Wake::Interrupted
        } else if deadline.is_some_and(|d| Instant::now() >= d) {
            Wake::TimedOut
        } else {
            Wake::Notified
        }
    }

    /// Whether a signal this thread does not block is pending for it (on
    /// its own queue or its process's).
    pub fn signal_pending(&self) -> bool {
        let shared = self.process.shared_pending.lock();
        let st = self.state.lock();
        let blocked = SigSet(st.sigmask);
        st.pending.has_deliverable(blocked) || shared.has_deliverable(blocked)
    }

    /// Sleeps until `deadline` (or forever) unless kicked.
    pub fn sleep_until(&self, deadline: Option<Instant>) -> Wake {
        let mut g = self.sleep.lock();
        loop {
            match self.wait_on(&self.sleep_cv, &mut g, deadline) {
                Wake::Notified => continue,
                w => return w,
            }
        }
    }
}

/// Counts live kernel threads, so that umk can wait for all of them when
/// init exits.
#[derive(Debug, Default)]
pub struct Live {
    count: Mutex<usize>,
    cv: Condvar,
}

impl Live {
    pub fn enter(&self) {
        *self.count.lock() += 1;
    }

    pub fn leave(&self) {
        let mut c = self.count.lock();
        *c = c.saturating_sub(1);
        self.cv.notify_all();
    }

    /// Waits until none are left or `deadline`; true if none are left.
    pub fn wait_idle(&self, deadline: Instant) -> bool {
        let mut c = self.count.lock();
        while *c > 0 {
            if self.cv.wait_until(&mut c, deadline).timed_out() {
                return *c == 0;
            }
        }
        true
    }
}

/// umk's own limits, read once: guests start with the same ones.
pub fn host_limits() -> [Rlimit; RLIM_NLIMITS as usize] {
    static LIMITS: std::sync::OnceLock<[Rlimit; RLIM_NLIMITS as usize]> =
        std::sync::OnceLock::new();
    *LIMITS.get_or_init(read_host_limits)
}

fn read_host_limits() -> [Rlimit; RLIM_NLIMITS as usize] {
    let mut out = [Rlimit::default(); RLIM_NLIMITS as usize];
    for (i, l) in out.iter_mut().enumerate() {
        let mut r = libc::rlimit {
            rlim_cur: 0,
            rlim_max: 0,
        };
        // SAFETY: getrlimit writes one `struct rlimit` into `r`.
        if unsafe { libc::getrlimit(i as _, &mut r) } == 0 {
            *l = Rlimit {
                rlim_cur: r.rlim_cur,
                rlim_max: r.rlim_max,
            };
        } else {
            *l = Rlimit {
                rlim_cur: RLIM_INFINITY,
                rlim_max: RLIM_INFINITY,
            };
        }
    }
    out
}

/// How a process ended.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ExitStatus {
    Exited(i32),
    Signaled { signo: i32, core: bool },
}

impl ExitStatus {
    /// The wait(2) status word.
    pub fn wait_status(self) -> i32 {
        match self {
            ExitStatus::Exited(c) => (c & 0xff) << 8,
            ExitStatus::Signaled { signo, core } => (signo & 0x7f) | if core { 0x80 } else { 0 },
        }
    }

    /// The SIGCHLD/waitid `si_code` and `si_status` for this end
    /// (CLD_EXITED with the exit code, CLD_KILLED/CLD_DUMPED with the
    /// signal).
    pub fn cld(self) -> (i32, i32) {
        use guest_abi::signal::{CLD_DUMPED, CLD_EXITED, CLD_KILLED};
        match self {
            ExitStatus::Exited(c) => (CLD_EXITED, c & 0xff),
            ExitStatus::Signaled { signo, core: false } => (CLD_KILLED, signo),
            ExitStatus::Signaled { signo, core: true } => (CLD_DUMPED, signo),
        }
    }

    /// The status a shell reports: the exit code, or 128 + the signal.
    pub fn shell_code(self) -> i32 {
        match self {
            ExitStatus::Exited(c) => c & 0xff,
            ExitStatus::Signaled { signo, .. } => 128 + signo,
        }
    }
}

/// The `comm` a program starts with: its file name, cut to 15 bytes
/// (TASK_COMM_LEN - 1).
pub fn comm_of(exe: &std::path::Path) -> Vec<u8> {
    use std::os::unix::ffi::OsStrExt;
    let name = exe.file_name().map(|n| n.as_bytes()).unwrap_or(b"");
    name[..name.len().min(15)].to_vec()
}
