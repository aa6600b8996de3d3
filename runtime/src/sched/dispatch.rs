//! The vCPU dispatcher: the **non-pure** half of the scheduler, which puts
//! the pure [`Scheduler`] in charge of real kernel threads.
//!
//! # Design note
//!
//! ## Model
//!
//! A vCPU is a token. A guest thread's kernel thread must hold one to resume
//! its guest, so at most `cpus` guest threads run guest code at once. The
//! core decides who holds which token; this module owns the clock, the
//! locking, the waiting and the timer, and follows the protocol in the
//! core's design note ("How the dispatcher drives it").
//!
//! All state sits behind one mutex (`State`: the core, a mirror of each
//! vCPU's current task, who *holds* each vCPU, per-task extras). A kernel
//! thread waits for its vCPU on its own condition variable (all on that
//! mutex), so a switch wakes exactly the thread that was picked.
//!
//! Per vCPU there are two notions of "its task":
//!
//! * **current**: the core's `curr` — picked by [`Scheduler::pick_next`];
//! * **holder**: the task whose kernel thread returned from
//!   [`Dispatcher::acquire`] with this vCPU and has not given it back
//!   (by [`Dispatcher::block`], [`Dispatcher::preempted`] (or a
//!   preempting `acquire`), [`Dispatcher::yield_now`] or
//!   [`Dispatcher::exit`]), or that lost it while its guest ran (see
//!   "Preempting a guest").
//!
//! The holder is always the current task; between a pick and the picked
//! thread waking up the vCPU has a current task but no holder ("granted").
//! `pick_next` for a vCPU is called only when it has no holder, by the
//! holder's own thread, or for a holder whose guest is running. So when the
//! core asks a held vCPU to reschedule (its slice ran out, a more urgent
//! task woke, its affinity changed), the dispatcher calls `kick(holder)`,
//! once per request: the kernel makes the guest trap (a host signal to the
//! stub thread). If the guest was running the vCPU has already switched
//! (below); otherwise the holder is in a syscall, and its kernel thread's
//! next [`Dispatcher::acquire`] (or [`Dispatcher::should_yield`] +
//! [`Dispatcher::preempted`]) performs the switch and waits for its turn
//! again. A kick whose holder is the calling
//! kernel thread itself (it is in a syscall: `clone` creating a more urgent
//! task, a wake-up of a more urgent sleeper) is not sent: that thread passes
//! through `acquire` before it resumes its guest anyway.
//!
//! `kick` and the event observer run **with the state lock held** (a kick
//! is a non-blocking signal; the observer queues a trace line): they must
//! not call back into the dispatcher.
//!
//! ## Preempting a guest
//!
//! A holder whose guest is running (between [`Dispatcher::entering`] and
//! [`Dispatcher::trapped`], which the run loop calls around every resume)
//! loses its vCPU at once when it is preempted by another thread (a
//! wake-up, the slice timer): the dispatcher charges it, picks the next
//! task and wakes that task's kernel thread, and the kick stops the old
//! guest. Waiting for the old holder's kernel thread to notice its trap
//! first would put one more host wake-up (and, on a loaded host, its
//! scheduling delay) into every preemption, e.g. an RT task's wake-up
//! latency (measured beside a busy hog on a loaded 2-core host: p50 82 →
//! 62 µs, p99 2.5–3.8 → 0.8–1.6 ms). The kick is sent before the state
//! lock is released, so before the new holder can resume its guest: the
//! old stub thread has the signal pending and runs no more guest code once
//! the signal's IPI reaches its host CPU (a thread waiting for a host CPU
//! takes the signal on its way back to user mode). Sampling the stubs'
//! host states shows two of them runnable at once in 0.5–1% of samples
//! with this (the stop in progress), 0 without. The old holder's kernel
//! thread then waits in `trapped` for its next turn before it handles the
//! trap, so syscalls are still only handled with a vCPU held. A holder
//! that is in a syscall is only kicked and switches in its next `acquire`.
//!
//! ## Time and the timer
//!
//! `now` is nanoseconds since the dispatcher was created
//! (`Instant`, i.e. `CLOCK_MONOTONIC`). One timer thread serves all vCPUs:
//! it sleeps until the earliest [`Scheduler::slice_deadline`] of any vCPU
//! (a precise slice end, like `HRTICK`) or the next periodic balance (every
//! `balance_interval`, only while some task waits and there is more than one
//! vCPU), calls [`Scheduler::tick`] for the vCPUs that are due, and kicks
//! what must be preempted. Calls that move a deadline earlier wake it
//! through a condition variable. There is no periodic tick: with nothing to
//! preempt the timer sleeps.
//!
//! ## Accounting
//!
//! A vCPU held is not a CPU used: the stub is a host process that the host
//! schedules among everything else on the machine (other guests' stubs,
//! umk's threads, unrelated work), and each switch costs the host a ptrace
//! round trip during which neither task runs. Charging the wall time a
//! thread holds its vCPU made shares follow the host's whims rather than
//! the weights (nice 0 : nice 5 came out 4–8 : 1 on a busy 2-core host
//! instead of 3 : 1). So the core runs with *measured* run time
//! ([`Scheduler::set_measured_exec`], like the kernel's `clock_task` minus
//! steal time) and the dispatcher charges what the guest thread really ran
//! on the host (`clock.rs`):
//!
//! * **user time**: the CPU time of its stub thread (the guest code);
//! * **system time**: the CPU time of its kernel thread while it holds the
//!   vCPU (syscall handling and the ptrace round trips: the work Linux would
//!   do in the kernel on the task's behalf). The wall time a handler spends
//!   waiting for the host to run it does not count.
//!
//! The holder's clocks are sampled when it first resumes its guest after
//! taking the vCPU ([`Dispatcher::entering`], which the run loop calls
//! before every resume; it also names the host threads) and at every slice
//! end: before `block`, `yield_now`, a preemption, `exit`, and by the timer
//! at a slice deadline (so a deadline is re-armed if the thread got less
//! CPU than wall time). Each sample is one `pread` of the stub thread's
//! schedstat and one `clock_gettime`, about 1.5 µs, per slice rather than
//! per syscall. A task that never names its host threads (the unit tests'
//! plain threads) is charged wall time from `acquire` on.
//!
//! The charged times feed `vruntime`, RT bandwidth and [`CpuTimes`]
//! ([`Dispatcher::cpu_times`], [`Dispatcher::group_times`]:
//! `CLOCK_THREAD_CPUTIME_ID`, `CLOCK_PROCESS_CPUTIME_ID`, `getrusage`,
//! `times`); a process keeps its exited threads' times until its last
//! thread exits.
//!
//! ## Seeing it
//!
//! With an observer ([`Dispatcher::set_observer`]) every switch (a new
//! current task on a vCPU, idle included), wake-up, migration (a task
//! starts running on a vCPU other than the one it last ran on) and
//! preemption request (a kick) is reported as a [`SchedEvent`]. With
//! [`Dispatcher::enable_timeline`] every interval a task held a vCPU is
//! kept as a [`Slice`] for `trace::timeline`.
//!
//! ## Costs
//!
//! A guest resume by the holder with nothing pending (the common case, once
//! per syscall) is three uncontended locks: `trapped` (after the previous
//! trap), `acquire` and `entering`, each a hash lookup; the host clocks
//! are read only when a thread starts holding a vCPU and when its slice
//! ends (about 1.5 µs each time). One lock for all vCPUs is simple and
//! right for tens of vCPUs; per-vCPU locks (as Linux has) would be the next
//! step.

use std::collections::HashMap;
use std::sync::Arc;
use std::thread::{JoinHandle, ThreadId};
use std::time::{Duration, Instant};

use parking_lot::{Condvar, Mutex};

mod clock;

pub use clock::{preopen as preopen_schedstat, HostIds};
use clock::{HostClock, Sample};

use super::{
    CpuId, CpuSet, Nanos, SchedConfig, SchedError, SchedParams, SchedStats, Scheduler, TaskState,
};

/// A guest thread, named by its tid.
pub type TaskId = i32;

/// The core's key for a guest tid (tids are positive; the cast keeps any
/// `i32` distinct).
fn key(id: TaskId) -> super::TaskId {
    u64::from(id as u32)
}

fn unkey(k: super::TaskId) -> TaskId {
    k as u32 as i32
}

/// What a task's thread was doing when its vCPU switched away from it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PrevState {
    /// Still runnable (preempted or yielded): ftrace's `R`.
    Runnable,
    /// Blocked in a syscall: `S`.
    Sleeping,
    /// Exited: `X`.
    Dead,
}

impl PrevState {
    /// The one-letter form (ftrace's `prev_state`).
    pub fn letter(self) -> char {
        match self {
            PrevState::Runnable => 'R',
            PrevState::Sleeping => 'S',
            PrevState::Dead => 'X',
        }
    }
}

/// One scheduler event, for `--trace-sched`. `at` is nanoseconds since the
/// dispatcher started.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SchedEvent {
    /// `cpu`'s current task changed (`None`: idle).
    Switch {
        at: Nanos,
        cpu: CpuId,
        prev: Option<TaskId>,
        prev_state: PrevState,
        next: Option<TaskId>,
    },
    /// `task` became runnable and was queued on `cpu`.
    Wakeup { at: Nanos, cpu: CpuId, task: TaskId },
    /// `task` starts running on `to` after last running on `from`.
    Migrate {
        at: Nanos,
        task: TaskId,
        from: CpuId,
        to: CpuId,
    },
    /// `task`, holding `cpu`, must give it up: it was kicked.
    Preempt { at: Nanos, cpu: CpuId, task: TaskId },
}

/// An interval during which `task` held vCPU `cpu` (for the timeline).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Slice {
    pub cpu: CpuId,
    pub task: TaskId,
    /// Its `comm` at the end of the slice.
    pub comm: String,
    /// Nanoseconds since the dispatcher started.
    pub start: Nanos,
    pub end: Nanos,
}

/// A task's scheduling attributes as the syscalls see them.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct TaskAttr {
    pub params: SchedParams,
    /// `SCHED_RESET_ON_FORK`: children start with default parameters.
    pub reset_on_fork: bool,
}

/// CPU time charged to a task or a thread group (see "Accounting").
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct CpuTimes {
    /// Guest code (the stub thread).
    pub user: Nanos,
    /// umk's work for it (its kernel thread while holding the vCPU).
    pub system: Nanos,
}

impl CpuTimes {
    /// User plus system time.
    pub fn total(&self) -> Nanos {
        self.user.saturating_add(self.system)
    }

    pub fn add(&mut self, o: CpuTimes) {
        self.user = self.user.saturating_add(o.user);
        self.system = self.system.saturating_add(o.system);
    }
}

/// Called with the id of a task whose guest must trap (see the note).
pub type Kick = Arc<dyn Fn(TaskId) + Send + Sync>;
/// Receives scheduler events (see the note).
pub type Observer = Box<dyn Fn(&SchedEvent) + Send + Sync>;

struct Holder {
    id: TaskId,
    since: Nanos,
    thread: ThreadId,
    kicked: bool,
    /// Its guest runs (between [`Dispatcher::entering`] and
    /// [`Dispatcher::trapped`]).
    in_guest: bool,
    /// When its run time was last charged.
    synced: Nanos,
    /// Its host clocks then, once its guest has been resumed.
    base: Option<Sample>,
}

impl Holder {
    fn new(id: TaskId, now: Nanos, thread: ThreadId) -> Holder {
        Holder {
            id,
            since: now,
            thread,
            kicked: false,
            in_guest: false,
            synced: now,
            base: None,
        }
    }
}

#[derive(Default)]
struct Vcpu {
    /// Mirror of the core's `curr` as of our last `pick_next` on this vCPU.
    curr: Option<TaskId>,
    holder: Option<Holder>,
}

/// The host clock of a task that has exited ([`Dispatcher::exit_keeping`]):
/// held only to be dropped later.
pub struct ExitedClock {
    _clock: HostClock,
}

struct Entry {
    cv: Arc<Condvar>,
    reset_on_fork: bool,
    comm: String,
    last_cpu: Option<CpuId>,
    clock: HostClock,
    /// Charged so far (up to the holder's last sync).
    times: CpuTimes,
    /// Its thread group, once known ([`Dispatcher::entering`]).
    group: Option<i32>,
    /// Its kernel thread's timer slack is the minimum (an RT task).
    rt_slack: bool,
}

/// A thread group's threads that are gone.
#[derive(Default)]
struct Group {
    /// Its known live tasks.
    live: usize,
    /// What its exited tasks were charged.
    dead: CpuTimes,
}

struct State {
    sched: Scheduler,
    tasks: HashMap<TaskId, Entry>,
    cpus: Vec<Vcpu>,
    next_balance: Nanos,
    shutdown: bool,
    timeline: Option<Vec<Slice>>,
    observer: Option<Observer>,
    /// Tasks that started running on a vCPU other than their last one.
    migrations: u64,
    /// A core call may have moved a deadline: compare it with `timer_at`.
    timer_dirty: bool,
    /// When the timer thread wakes by itself (`None`: only when notified).
    /// It is woken early only for a deadline before this one; a deadline
    /// that moved later is found when it wakes.
    timer_at: Option<Nanos>,
    groups: HashMap<i32, Group>,
}

struct Inner {
    state: Mutex<State>,
    timer_cv: Condvar,
    kick: Kick,
    epoch: Instant,
}

/// The vCPU dispatcher (see the module note).
pub struct Dispatcher {
    inner: Arc<Inner>,
    timer: Mutex<Option<JoinHandle<()>>>,
}

impl std::fmt::Debug for Dispatcher {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Dispatcher")
            .field("cpus", &self.nr_cpus())
            .finish_non_exhaustive()
    }
}

/// The default vCPU count: the host's (`--cpus` default).
pub fn host_cpus() -> usize {
    std::thread::available_parallelism().map_or(1, |n| n.get())
}

impl Dispatcher {
    /// A dispatcher for `cpus` vCPUs (clamped to 1..=[`super::MAX_CPUS`])
    /// with Linux's CPU-count-scaled tunables, and its timer thread. Fails
    /// only if the timer thread cannot be started.
    pub fn new(cpus: usize, kick: Kick) -> Result<Arc<Dispatcher>, SchedError> {
        let cpus = cpus.clamp(1, super::MAX_CPUS);
        Self::with_config(cpus, SchedConfig::linux_scaled(cpus), kick)
    }

    /// A dispatcher with explicit tunables.
    pub fn with_config(
        cpus: usize,
        config: SchedConfig,
        kick: Kick,
    ) -> Result<Arc<Dispatcher>, SchedError> {
        let mut sched = Scheduler::new(cpus, config)?;
        sched.set_measured_exec(true);
        let inner = Arc::new(Inner {
            state: Mutex::new(State {
                sched,
                tasks: HashMap::new(),
                cpus: (0..cpus).map(|_| Vcpu::default()).collect(),
                next_balance: config.balance_interval,
                shutdown: false,
                timeline: None,
                observer: None,
                migrations: 0,
                timer_dirty: false,
                // Until the timer thread first sleeps, it looks by itself.
                timer_at: Some(0),
                groups: HashMap::new(),
            }),
            timer_cv: Condvar::new(),
            kick,
            epoch: Instant::now(),
        });
        let i = inner.clone();
        let timer = std::thread::Builder::new()
            .name("umk-sched-timer".into())
            .spawn(move || i.timer_loop())
            .map_err(|_| SchedError::InvalidConfig("cannot start the timer thread"))?;
        Ok(Arc::new(Dispatcher {
            inner,
            timer: Mutex::new(Some(timer)),
        }))
    }

    /// Number of vCPUs.
    pub fn nr_cpus(&self) -> usize {
        self.inner.state.lock().cpus.len()
    }

    /// Nanoseconds since the dispatcher started (its clock).
    pub fn now(&self) -> Nanos {
        self.inner.now()
    }

    /// Report [`SchedEvent`]s to `observer` from now on.
    pub fn set_observer(&self, observer: Observer) {
        self.inner.state.lock().observer = Some(observer);
    }

    /// Keep [`Slice`]s for a timeline from now on.
    pub fn enable_timeline(&self) {
        let mut st = self.inner.state.lock();
        if st.timeline.is_none() {
            st.timeline = Some(Vec::new());
        }
    }

    /// The slices recorded so far (closing the open ones at "now" without
    /// ending them), sorted by start time.
    pub fn timeline(&self) -> Vec<Slice> {
        let now = self.inner.now();
        let st = self.inner.state.lock();
        let mut v = st.timeline.clone().unwrap_or_default();
        if st.timeline.is_some() {
            for (c, cpu) in st.cpus.iter().enumerate() {
                if let Some(h) = &cpu.holder {
                    v.push(Slice {
                        cpu: c,
                        task: h.id,
                        comm: st
                            .tasks
                            .get(&h.id)
                            .map(|e| e.comm.clone())
                            .unwrap_or_default(),
                        start: h.since,
                        end: now,
                    });
                }
            }
        }
        v.sort_by_key(|s| (s.start, s.cpu));
        v
    }

    /// A new runnable task (`fork`/`clone`/the first thread). It inherits
    /// policy, priority, nice, affinity and `SCHED_RESET_ON_FORK` from
    /// `parent` (if known); with reset-on-fork set the child starts as
    /// `SCHED_NORMAL` (RT parents) or with nice ≥ 0, and without the flag
    /// (`sched_fork()` in kernel/sched/core.c). It may preempt the parent.
    pub fn add(&self, id: TaskId, parent: Option<TaskId>) -> Result<(), SchedError> {
        let mut st = self.inner.state.lock();
        let now = self.inner.now();
        let n = st.cpus.len();
        let (mut params, affinity, reset, comm) = match parent.and_then(|p| {
            let info = st.sched.task_info(key(p))?;
            let e = st.tasks.get(&p)?;
            Some((info.params, info.affinity, e.reset_on_fork, e.comm.clone()))
        }) {
            Some(x) => x,
            None => (
                SchedParams::default(),
                CpuSet::first_n(n),
                false,
                String::new(),
            ),
        };
        if reset {
            if params.policy.is_rt() {
                params = SchedParams::normal(0);
            } else if params.nice < 0 {
                params.nice = 0;
            }
        }
        st.sched.add_task(key(id), params, affinity)?;
        st.tasks.insert(
            id,
            Entry {
                cv: Arc::new(Condvar::new()),
                reset_on_fork: false,
                comm,
                last_cpu: None,
                clock: HostClock::default(),
                times: CpuTimes::default(),
                group: None,
                rt_slack: false,
            },
        );
        self.inner.wake_locked(&mut st, id, now);
        Ok(())
    }

    /// Name `id` in events and the timeline (its `comm`).
    pub fn set_comm(&self, id: TaskId, comm: &str) {
        if let Some(e) = self.inner.state.lock().tasks.get_mut(&id) {
            e.comm = comm.to_string();
        }
    }

    /// Wait until the scheduler runs `id` on a vCPU, and hold it; returns
    /// the vCPU, or `None` if `id` is not (or no longer) a task. Call before
    /// every resume of the guest. A blocked task is woken first. The holder
    /// calling it with a reschedule pending is preempted here (and waits
    /// for its next turn), so after a kick it is enough to call `acquire`.
    pub fn acquire(&self, id: TaskId) -> Option<CpuId> {
        self.acquire_after(id, false)
    }

    /// `id`'s guest stopped (a trap): if its vCPU was handed over while
    /// the guest ran, wait for the next turn, so that the trap is handled
    /// with a vCPU held; otherwise like [`Self::acquire`] by the holder.
    pub fn trapped(&self, id: TaskId) -> Option<CpuId> {
        self.acquire_after(id, true)
    }

    fn acquire_after(&self, id: TaskId, trapped: bool) -> Option<CpuId> {
        let inner = &*self.inner;
        let me = std::thread::current().id();
        let mut st = inner.state.lock();
        if trapped {
            for v in st.cpus.iter_mut() {
                if let Some(h) = v.holder.as_mut().filter(|h| h.id == id) {
                    h.in_guest = false;
                }
            }
        }
        loop {
            if st.shutdown {
                return None;
            }
            let cv = st.tasks.get(&id)?.cv.clone();
            let now = inner.now();
            match st.sched.task_info(key(id))?.state {
                TaskState::Blocked => {
                    inner.wake_locked(&mut st, id, now);
                    continue;
                }
                TaskState::Running(c) => {
                    if st.sched.need_resched(c) {
                        match &st.cpus[c].holder {
                            Some(h) if h.id != id => {} // cannot happen; wait
                            _ => {
                                Inner::sync(&mut st, c, now);
                                inner.pick(&mut st, c, now);
                                if st.cpus[c].curr != Some(id) {
                                    inner.release(&mut st, c, id, now);
                                }
                                inner.settle(&mut st, now);
                                continue;
                            }
                        }
                    } else {
                        match &mut st.cpus[c].holder {
                            Some(h) if h.id == id => {
                                h.kicked = false;
                                h.thread = me;
                                return Some(c);
                            }
                            None => {
                                st.cpus[c].holder = Some(Holder::new(id, now, me));
                                // Its run time starts now (not at the pick).
                                st.sched.account(c, now, 0);
                                return Some(c);
                            }
                            Some(_) => {}
                        }
                    }
                }
                TaskState::Queued(_) => {}
            }
            cv.wait(&mut st);
        }
    }

    /// `id` sleeps (in a blocking syscall): it gives up its vCPU, which
    /// switches to the next task. Call before the kernel thread waits; call
    /// [`Self::wake`] (or just [`Self::acquire`]) after.
    pub fn block(&self, id: TaskId) {
        let mut st = self.inner.state.lock();
        let now = self.inner.now();
        let Some(info) = st.sched.task_info(key(id)) else {
            return;
        };
        if info.state == TaskState::Blocked {
            return;
        }
        if let TaskState::Running(c) = info.state {
            Inner::sync(&mut st, c, now);
            self.inner.release(&mut st, c, id, now);
        }
        if st.sched.block(key(id), now).is_ok() {
            self.inner.settle(&mut st, now);
        }
    }

    /// Runs the wait `f` with `id`'s vCPU given up: [`Self::block`] before,
    /// [`Self::wake`] after (the caller's next `acquire` waits for a vCPU).
    pub fn blocked<R>(&self, id: TaskId, f: impl FnOnce() -> R) -> R {
        self.block(id);
        let r = f();
        self.wake(id);
        r
    }

    /// `id` is runnable again (its wait ended). It is queued on a vCPU and
    /// may preempt that vCPU's task (which is then kicked). Its kernel
    /// thread must call [`Self::acquire`] before resuming the guest.
    pub fn wake(&self, id: TaskId) {
        let mut st = self.inner.state.lock();
        let now = self.inner.now();
        self.inner.wake_locked(&mut st, id, now);
    }

    /// `sched_yield()` by the holder `id`: RT goes to the tail of its
    /// priority, CFS becomes the skip buddy. If another task is picked, `id`
    /// loses its vCPU (and waits in its next `acquire`).
    pub fn yield_now(&self, id: TaskId) {
        let mut st = self.inner.state.lock();
        let now = self.inner.now();
        let Some(TaskState::Running(c)) = st.sched.task_info(key(id)).map(|i| i.state) else {
            return;
        };
        Inner::sync(&mut st, c, now);
        if st.sched.yield_now(key(id), now).is_ok() {
            self.inner.pick(&mut st, c, now);
            if st.cpus[c].curr != Some(id) {
                self.inner.release(&mut st, c, id, now);
            }
            self.inner.settle(&mut st, now);
        }
    }

    /// Whether `id`'s vCPU must reschedule (after a kick: was it
    /// preempted?). If so, call [`Self::preempted`] (or `acquire`).
    pub fn should_yield(&self, id: TaskId) -> bool {
        let st = self.inner.state.lock();
        matches!(st.sched.task_info(key(id)).map(|i| i.state),
            Some(TaskState::Running(c)) if st.sched.need_resched(c))
    }

    /// `id` stopped running its guest because it was preempted: perform the
    /// pending reschedule; if another task is picked, `id` loses its vCPU
    /// but stays runnable. A no-op when no reschedule is pending.
    pub fn preempted(&self, id: TaskId) {
        let mut st = self.inner.state.lock();
        let now = self.inner.now();
        let Some(TaskState::Running(c)) = st.sched.task_info(key(id)).map(|i| i.state) else {
            return;
        };
        if st.sched.need_resched(c) {
            Inner::sync(&mut st, c, now);
            self.inner.pick(&mut st, c, now);
            if st.cpus[c].curr != Some(id) {
                self.inner.release(&mut st, c, id, now);
            }
            self.inner.settle(&mut st, now);
        }
    }

    /// `id` is gone (its thread exited or was killed): it gives up its vCPU
    /// and is forgotten. A kernel thread waiting in `acquire` for it gets
    /// `None`.
    ///
    /// Returns what it was charged in all.
    pub fn exit(&self, id: TaskId) -> Option<CpuTimes> {
        self.exit_keeping(id).map(|(times, _)| times)
    }

    /// [`Self::exit`], handing back the task's host clock as well: dropping
    /// it closes a `/proc` file (a few µs here), which an exiting thread
    /// does after it has told its parent, off the parent's wait.
    pub fn exit_keeping(&self, id: TaskId) -> Option<(CpuTimes, ExitedClock)> {
        let mut st = self.inner.state.lock();
        let now = self.inner.now();
        if let Some(TaskState::Running(c)) = st.sched.task_info(key(id)).map(|i| i.state) {
            Inner::sync(&mut st, c, now);
            self.inner.release(&mut st, c, id, now);
        }
        if st.sched.remove_task(key(id), now).is_ok() {
            self.inner.settle(&mut st, now);
        }
        let e = st.tasks.remove(&id)?;
        e.cv.notify_all();
        let info = st.sched.stats();
        crate::log::debug(|| {
            format!(
                "sched: task {id} exits: user {} us, system {} us ({} switches in all)",
                e.times.user / 1000,
                e.times.system / 1000,
                info.nr_switches
            )
        });
        if let Some(g) = e.group {
            Inner::leave_group(&mut st, g, e.times);
        }
        drop(st);
        Some((e.times, ExitedClock { _clock: e.clock }))
    }

    /// Whether `id` is a known task.
    pub fn contains(&self, id: TaskId) -> bool {
        self.inner.state.lock().tasks.contains_key(&id)
    }

    /// Policy, priority, nice and reset-on-fork of `id`.
    pub fn attr(&self, id: TaskId) -> Option<TaskAttr> {
        let st = self.inner.state.lock();
        let info = st.sched.task_info(key(id))?;
        Some(TaskAttr {
            params: info.params,
            reset_on_fork: st.tasks.get(&id)?.reset_on_fork,
        })
    }

    /// Change policy, priority, nice and reset-on-fork of `id`
    /// (`sched_setscheduler`, `sched_setattr`, `setpriority`). Permission
    /// checks are the caller's. The change may preempt (kicks follow).
    pub fn set_attr(&self, id: TaskId, attr: TaskAttr) -> Result<(), SchedError> {
        let mut st = self.inner.state.lock();
        let now = self.inner.now();
        st.sched.set_params(key(id), attr.params, now)?;
        if let Some(e) = st.tasks.get_mut(&id) {
            e.reset_on_fork = attr.reset_on_fork;
        }
        self.inner.settle(&mut st, now);
        Ok(())
    }

    /// The affinity of `id` (over vCPUs).
    pub fn affinity(&self, id: TaskId) -> Option<CpuSet> {
        self.inner
            .state
            .lock()
            .sched
            .task_info(key(id))
            .map(|i| i.affinity)
    }

    /// `sched_setaffinity`: `mask` is intersected with the vCPUs; an empty
    /// result is [`SchedError::EmptyAffinity`]. A running task on a vCPU it
    /// may no longer use is kicked and moves.
    pub fn set_affinity(&self, id: TaskId, mask: CpuSet) -> Result<(), SchedError> {
        let mut st = self.inner.state.lock();
        let now = self.inner.now();
        st.sched.set_affinity(key(id), mask, now)?;
        self.inner.settle(&mut st, now);
        Ok(())
    }

    /// `sched_rr_get_interval`: 100 ms for `SCHED_RR`, 0 for `SCHED_FIFO`,
    /// the current CFS slice for the others.
    pub fn rr_interval(&self, id: TaskId) -> Result<Nanos, SchedError> {
        self.inner.state.lock().sched.rr_interval(key(id))
    }

    /// The vCPU `id` runs on, is queued on, or last ran on (`getcpu`).
    pub fn cpu_of(&self, id: TaskId) -> Option<CpuId> {
        self.inner
            .state
            .lock()
            .sched
            .task_info(key(id))
            .map(|i| i.cpu)
    }

    /// CPU time of `id` so far, the running slice included.
    pub fn cpu_time(&self, id: TaskId) -> Option<Nanos> {
        self.cpu_times(id).map(|t| t.total())
    }

    /// User and system time of `id` so far, the running slice included
    /// (see "Accounting"): `CLOCK_THREAD_CPUTIME_ID`, `RUSAGE_THREAD`.
    pub fn cpu_times(&self, id: TaskId) -> Option<CpuTimes> {
        let now = self.inner.now();
        let st = self.inner.state.lock();
        Inner::times_of(&st, id, now)
    }

    /// User and system time of thread group `tgid` (every task that named
    /// it in [`Self::entering`], and those of them that exited):
    /// `CLOCK_PROCESS_CPUTIME_ID`, `RUSAGE_SELF`, `times`. `None` if no
    /// live task names it.
    pub fn group_times(&self, tgid: i32) -> Option<CpuTimes> {
        let now = self.inner.now();
        let st = self.inner.state.lock();
        let mut t = st.groups.get(&tgid)?.dead;
        for (id, e) in &st.tasks {
            if e.group == Some(tgid) {
                if let Some(x) = Inner::times_of(&st, *id, now) {
                    t.add(x);
                }
            }
        }
        Some(t)
    }

    /// The holder `id` is about to resume its guest, which runs on the host
    /// threads `host`. Returns true if it must not: a reschedule is pending
    /// or it lost its vCPU (call [`Self::acquire`] again). Call
    /// [`Self::trapped`] when the guest stops. Call it once the guest is marked as
    /// running (so that a later kick reaches it): a preemption requested
    /// between `acquire` and that point found no guest to stop and would
    /// otherwise wait for the guest's next trap.
    ///
    /// The first call after taking the vCPU samples the host clocks (see
    /// "Accounting"); later ones cost one lock and a compare.
    pub fn entering(&self, id: TaskId, host: HostIds) -> bool {
        let now = self.inner.now();
        let mut st = self.inner.state.lock();
        let Some(info) = st.sched.task_info(key(id)) else {
            return true;
        };
        let TaskState::Running(c) = info.state else {
            return true;
        };
        if st.sched.need_resched(c) || st.cpus[c].holder.as_ref().is_none_or(|h| h.id != id) {
            return true;
        }
        let moved = st.tasks.get(&id).is_some_and(|e| e.clock.ids != host);
        if moved {
            // A new stub (exec): charge the old one's time first.
            Inner::sync(&mut st, c, now);
            let st = &mut *st;
            let Some(e) = st.tasks.get_mut(&id) else {
                return false;
            };
            if e.group != Some(host.tgid) {
                let old = e.group.replace(host.tgid);
                let times = e.times;
                if let Some(g) = old {
                    Inner::leave_group(st, g, times);
                }
                st.groups.entry(host.tgid).or_default().live += 1;
            }
            if let Some(e) = st.tasks.get_mut(&id) {
                e.clock.set_ids(host);
            }
            if let Some(h) = st.cpus[c].holder.as_mut() {
                h.base = None;
            }
        }
        let rt = info.params.policy.is_rt();
        let State { tasks, cpus, .. } = &mut *st;
        let (Some(e), Some(h)) = (tasks.get_mut(&id), cpus[c].holder.as_mut()) else {
            return false;
        };
        if h.base.is_none() {
            e.clock.set_kernel_thread_here();
            h.base = Some(e.clock.sample());
            h.synced = now;
        }
        h.in_guest = true;
        if e.rt_slack != rt {
            // An RT task's sleeps get no timer slack (hrtimer_nanosleep():
            // `rt_task(current)` sleeps with slack 0); umk's sleeps are its
            // kernel thread's. PR_SET_TIMERSLACK 0 restores the default.
            e.rt_slack = rt;
            // SAFETY: prctl(PR_SET_TIMERSLACK) on the calling thread only.
            unsafe { libc::prctl(libc::PR_SET_TIMERSLACK, u64::from(rt), 0, 0, 0) };
        }
        false
    }

    /// A snapshot of the core's statistics of `id`.
    pub fn task_info(&self, id: TaskId) -> Option<super::TaskInfo> {
        self.inner.state.lock().sched.task_info(key(id))
    }

    /// The core's global counters.
    pub fn stats(&self) -> SchedStats {
        self.inner.state.lock().sched.stats()
    }

    /// Times a task started running on a vCPU other than its last one.
    pub fn migrations(&self) -> u64 {
        self.inner.state.lock().migrations
    }

    /// The tasks holding a vCPU now (at most one per vCPU).
    pub fn holders(&self) -> Vec<(CpuId, TaskId)> {
        let st = self.inner.state.lock();
        st.cpus
            .iter()
            .enumerate()
            .filter_map(|(c, v)| v.holder.as_ref().map(|h| (c, h.id)))
            .collect()
    }

    /// Check the core's invariants and that holders are current tasks.
    pub fn check(&self) -> Result<(), String> {
        let st = self.inner.state.lock();
        st.sched.check_invariants()?;
        for (c, v) in st.cpus.iter().enumerate() {
            if let Some(h) = &v.holder {
                if st.sched.current(c) != Some(key(h.id)) {
                    return Err(format!("cpu {c} held by {} but current is other", h.id));
                }
            }
        }
        Ok(())
    }
}

impl Drop for Dispatcher {
    fn drop(&mut self) {
        {
            let mut st = self.inner.state.lock();
            st.shutdown = true;
            for e in st.tasks.values() {
                e.cv.notify_all();
            }
        }
        self.inner.timer_cv.notify_all();
        if let Some(h) = self.timer.lock().take() {
            let _ = h.join();
        }
    }
}

impl Inner {
    fn now(&self) -> Nanos {
        u64::try_from(self.epoch.elapsed().as_nanos()).unwrap_or(u64::MAX)
    }

    fn emit(st: &State, ev: SchedEvent) {
        if let Some(o) = &st.observer {
            o(&ev);
        }
    }

    fn wake_locked(&self, st: &mut State, id: TaskId, now: Nanos) {
        if let Ok(Some(r)) = st.sched.wake(key(id), now) {
            Self::emit(
                st,
                SchedEvent::Wakeup {
                    at: now,
                    cpu: r.cpu,
                    task: id,
                },
            );
            self.settle(st, now);
        }
    }

    /// Charge `c`'s holder what it ran since its last sync (see
    /// "Accounting"). Call before any core call that ends its slice or
    /// looks at its time (tick).
    fn sync(st: &mut State, c: CpuId, now: Nanos) {
        let State {
            cpus, tasks, sched, ..
        } = st;
        let Some(h) = cpus[c].holder.as_mut() else {
            return;
        };
        let Some(e) = tasks.get_mut(&h.id) else {
            return;
        };
        let ran = match h.base {
            Some(base) => {
                let s = e.clock.sample();
                h.base = Some(Sample {
                    stub: s.stub.or(base.stub),
                    kernel: s.kernel.or(base.kernel),
                });
                CpuTimes {
                    user: delta(base.stub, s.stub),
                    system: delta(base.kernel, s.kernel),
                }
            }
            None => CpuTimes {
                user: now.saturating_sub(h.synced),
                system: 0,
            },
        };
        h.synced = now;
        e.times.add(ran);
        sched.account(c, now, ran.total());
    }

    /// `id`'s times including its holder's unsynced part (read-only).
    fn times_of(st: &State, id: TaskId, now: Nanos) -> Option<CpuTimes> {
        let e = st.tasks.get(&id)?;
        let mut t = e.times;
        if let Some(TaskState::Running(c)) = st.sched.task_info(key(id)).map(|i| i.state) {
            if let Some(h) = st.cpus[c].holder.as_ref().filter(|h| h.id == id) {
                match h.base {
                    Some(base) => {
                        let s = e.clock.sample();
                        t.add(CpuTimes {
                            user: delta(base.stub, s.stub),
                            system: delta(base.kernel, s.kernel),
                        });
                    }
                    None => t.user = t.user.saturating_add(now.saturating_sub(h.synced)),
                }
            }
        }
        Some(t)
    }

    /// A task of group `g` with `times` leaves it (exits or moves).
    fn leave_group(st: &mut State, g: i32, times: CpuTimes) {
        if let Some(gr) = st.groups.get_mut(&g) {
            gr.dead.add(times);
            gr.live = gr.live.saturating_sub(1);
            if gr.live == 0 {
                st.groups.remove(&g);
            }
        }
    }

    /// `id` gives up holding `c` (if it holds it): close its slice.
    fn release(&self, st: &mut State, c: CpuId, id: TaskId, now: Nanos) {
        if st.cpus[c].holder.as_ref().is_some_and(|h| h.id == id) {
            let Some(h) = st.cpus[c].holder.take() else {
                return;
            };
            if st.timeline.is_some() {
                let comm = st
                    .tasks
                    .get(&id)
                    .map(|e| e.comm.clone())
                    .unwrap_or_default();
                if let Some(tl) = st.timeline.as_mut() {
                    tl.push(Slice {
                        cpu: c,
                        task: id,
                        comm,
                        start: h.since,
                        end: now,
                    });
                }
            }
        }
    }

    /// `pick_next` on `c`, which has no holder or is being given up by its
    /// holder's own thread: mirror the result, report it, wake the picked
    /// thread.
    fn pick(&self, st: &mut State, c: CpuId, now: Nanos) {
        let prev = st.cpus[c].curr;
        let next = st.sched.pick_next(c, now).map(unkey);
        st.cpus[c].curr = next;
        st.timer_dirty = true;
        if next == prev {
            return;
        }
        // Idle counts as runnable, like ftrace's swapper.
        let prev_state = match prev.map(|p| st.sched.task_info(key(p))) {
            None => PrevState::Runnable,
            Some(None) => PrevState::Dead,
            Some(Some(i)) if i.state == TaskState::Blocked => PrevState::Sleeping,
            Some(Some(_)) => PrevState::Runnable,
        };
        Self::emit(
            st,
            SchedEvent::Switch {
                at: now,
                cpu: c,
                prev,
                prev_state,
                next,
            },
        );
        if let Some(n) = next {
            let mut migrated = None;
            if let Some(e) = st.tasks.get_mut(&n) {
                if let Some(from) = e.last_cpu.filter(|l| *l != c) {
                    migrated = Some(from);
                }
                e.last_cpu = Some(c);
                e.cv.notify_all();
            }
            if let Some(from) = migrated {
                st.migrations += 1;
                Self::emit(
                    st,
                    SchedEvent::Migrate {
                        at: now,
                        task: n,
                        from,
                        to: c,
                    },
                );
            }
        }
    }

    /// After any core call: act on every vCPU the core wants interrupted,
    /// until it wants nothing more.
    fn settle(&self, st: &mut State, now: Nanos) {
        let me = std::thread::current().id();
        loop {
            let kicks = st.sched.take_kicks();
            if kicks.is_empty() {
                break;
            }
            st.timer_dirty = true;
            let n = st.cpus.len();
            for c in kicks.iter().filter(|c| *c < n) {
                if !st.sched.need_resched(c) {
                    continue; // only the deadline moved: the timer re-arms
                }
                let target = match &mut st.cpus[c].holder {
                    Some(h) if h.kicked => continue,
                    Some(h) => {
                        h.kicked = true;
                        Some((h.id, h.thread == me, h.in_guest))
                    }
                    None => None,
                };
                match target {
                    Some((id, own, in_guest)) => {
                        Self::emit(
                            st,
                            SchedEvent::Preempt {
                                at: now,
                                cpu: c,
                                task: id,
                            },
                        );
                        if own {
                            continue; // it passes through `acquire` first
                        }
                        if in_guest {
                            // Hand the vCPU over now (see "Preempting a
                            // guest"); the kick stops the old guest.
                            Self::sync(st, c, now);
                            self.pick(st, c, now);
                            if st.cpus[c].curr == Some(id) {
                                if let Some(h) = st.cpus[c].holder.as_mut() {
                                    h.kicked = false;
                                }
                                continue;
                            }
                            self.release(st, c, id, now);
                        }
                        (self.kick)(id);
                    }
                    None => self.pick(st, c, now),
                }
            }
        }
        if std::mem::take(&mut st.timer_dirty) {
            let sooner = match (Self::next_wake(st), st.timer_at) {
                (Some(d), Some(at)) => d < at,
                (Some(_), None) => true,
                (None, _) => false,
            };
            // Waking it for nothing costs two host context switches, and
            // it often lands on the CPU of the thread that notified.
            if sooner {
                self.timer_cv.notify_one();
            }
        }
    }

    /// When the timer must next act: the earliest slice deadline, or the
    /// next balance while some task waits (and there is more than one
    /// vCPU).
    fn next_wake(st: &State) -> Option<Nanos> {
        let n = st.cpus.len();
        let next = (0..n).filter_map(|c| st.sched.slice_deadline(c)).min();
        if n > 1 && Self::any_waiting(st) {
            Some(next.map_or(st.next_balance, |d| d.min(st.next_balance)))
        } else {
            next
        }
    }

    /// Whether some task waits for a vCPU (queued behind a running one).
    fn any_waiting(st: &State) -> bool {
        (0..st.cpus.len()).any(|c| {
            let i = st.sched.cpu_info(c);
            i.nr_running > usize::from(i.current.is_some())
        })
    }

    fn timer_loop(&self) {
        let mut st = self.state.lock();
        loop {
            if st.shutdown {
                return;
            }
            let now = self.now();
            let n = st.cpus.len();
            for c in 0..n {
                if st.sched.slice_deadline(c).is_some_and(|d| d <= now) {
                    Self::sync(&mut st, c, now);
                    st.sched.tick(c, now);
                }
            }
            let waiting = Self::any_waiting(&st);
            let interval = st.sched.config().balance_interval.max(1);
            if n > 1 && waiting && now >= st.next_balance {
                st.sched.balance(now);
                st.next_balance = now + interval;
            } else if !waiting {
                st.next_balance = st.next_balance.max(now + interval);
            }
            // Settled here, the deadline is computed below: no need to
            // notify ourselves.
            st.timer_at = Some(0);
            self.settle(&mut st, now);
            st.timer_dirty = false;
            let next = Self::next_wake(&st).map(|d| d.max(now + 1));
            st.timer_at = next;
            match next {
                Some(d) => {
                    let at = self.epoch + Duration::from_nanos(d);
                    self.timer_cv.wait_until(&mut st, at);
                }
                None => self.timer_cv.wait(&mut st),
            }
            // Awake (and holding the lock until the next wait): nobody
            // needs to notify.
            st.timer_at = Some(0);
        }
    }
}

/// How far a host clock advanced between two readings (0 if either failed).
fn delta(before: Option<Nanos>, after: Option<Nanos>) -> Nanos {
    match (before, after) {
        (Some(b), Some(a)) => a.saturating_sub(b),
        _ => 0,
    }
}

#[cfg(test)]
mod tests;
