//! The scheduler core: which guest thread runs on which vCPU, and for how
//! long.
//!
//! # Design note
//!
//! ## Model
//!
//! This module is **pure logic** (all but `dispatch.rs`, the dispatcher
//! that drives it with real threads and a real clock). It owns no threads and makes no system
//! calls; time is an argument (`now`, nanoseconds of a monotonic clock) of
//! every operation that needs it, and all state lives in one [`Scheduler`]
//! value. That makes it unit-testable and lets [`sim`] drive it with
//! thousands of scripted tasks over simulated time. umk's dispatcher (which
//! runs guest threads in stub processes) owns the clock and the vCPUs and
//! calls in here; it wraps the `Scheduler` in one lock.
//!
//! There is one runqueue per vCPU ([`CpuId`] `0..nr_cpus`, at most
//! [`MAX_CPUS`]) holding three classes, picked in this order:
//!
//! 1. **RT** (`SCHED_FIFO`, `SCHED_RR`, priorities 1–99; `rt.rs`, after
//!    kernel/sched/rt.c): a bitmap of non-empty priorities and one FIFO
//!    queue per priority; the head of the highest queue runs. FIFO runs
//!    until it blocks, yields or a higher priority arrives; RR additionally
//!    rotates to the tail of its priority every `rr_timeslice` (100 ms, also
//!    what `sched_rr_get_interval` reports). A preempted RT task goes back
//!    to the head of its queue. **Throttling** (`sched_rt_runtime_us` /
//!    `sched_rt_period_us`, default 950 ms per 1 s, per vCPU): once RT tasks
//!    have run `rt_runtime` in the current period the vCPU stops picking RT
//!    until the period ends, so CFS gets at least the remaining 5%.
//! 2. **CFS** (`SCHED_NORMAL`, `SCHED_BATCH`; `cfs.rs`, the pre-EEVDF
//!    kernel/sched/fair.c of Linux ≤ 6.5). Each task has a weight from
//!    `sched_prio_to_weight` ([`weights`], kernel/sched/core.c; 1024 at nice
//!    0) and a virtual runtime:
//!    * `vruntime += Δexec × 1024 / weight` (`update_curr()`), tasks ordered
//!      by `(vruntime, seq)` in a B-tree, leftmost runs;
//!    * `min_vruntime` = monotonic max of min(running, leftmost);
//!    * `period = latency` (6 ms), or `nr × min_granularity` (0.75 ms) when
//!      more than `latency / min_granularity` tasks run (`__sched_period()`);
//!      `slice = max(period × w / Σw, min_granularity)` (`sched_slice()`);
//!    * tick preemption when the slice is used up, or after at least
//!      `min_granularity` when `vruntime − leftmost > slice`
//!      (`check_preempt_tick()`);
//!    * wake-up placement `max(vruntime, min_vruntime − latency/2)` (sleeper
//!      credit, `GENTLE_FAIR_SLEEPERS`), new tasks at `min_vruntime + vslice`
//!      (`START_DEBIT`) (`place_entity()`);
//!    * wake-up preemption when `curr.vruntime − woken.vruntime >
//!      wakeup_granularity × 1024 / w_woken` (1 ms, `wakeup_gran()`); a
//!      woken `SCHED_BATCH` (or idle-class) task never wake-preempts;
//!    * `sched_yield` marks the skip buddy (`yield_task_fair()`).
//! 3. **Idle class** (`SCHED_IDLE`, weight 3; `idle.rs`): runs only when
//!    neither RT nor CFS has anything runnable on the vCPU. (In Linux these
//!    tasks sit in CFS with weight 3; see `idle.rs` for why umk differs.)
//!
//! Across vCPUs (`balance.rs`): affinity masks ([`CpuSet`]) are never
//! violated; wake-up placement prefers the previous vCPU unless it is
//! busier than an alternative; an idle vCPU pulls from the busiest one; RT
//! tasks are pushed/pulled so that no runnable RT task waits while an
//! allowed vCPU runs something less urgent; [`Scheduler::balance`] evens out
//! runnable counts periodically. Migrations rebase `vruntime` between the
//! two runqueues' `min_vruntime` and are counted.
//!
//! Per task we account runtime (`sum_exec_runtime`), vruntime, wait time,
//! switches (voluntary/involuntary), wake-ups and migrations ([`TaskInfo`]),
//! i.e. what `/proc/<pid>/sched{,stat}` and `getrusage` need.
//!
//! ## How the dispatcher drives it
//!
//! Tasks are added blocked ([`Scheduler::add_task`]) and made runnable with
//! [`Scheduler::wake`] (`wake_up_new_task`). A vCPU's running task only
//! changes in [`Scheduler::pick_next`], which puts the previous task back
//! (`put_prev_task`) and returns the next one, or `None` to idle. Every call
//! that decides that some vCPU must reschedule sets that vCPU's
//! `need_resched` flag (like `TIF_NEED_RESCHED`) and adds it to a kick set
//! that also collects vCPUs whose slice deadline moved earlier (a task was
//! queued behind their running one). The protocol:
//!
//! * after **any** call, `for c in take_kicks()`: interrupt vCPU `c` (if it
//!   is not the caller);
//! * a vCPU that was interrupted, whose deadline timer fired, or that ran
//!   its guest thread into a blocking syscall, `sched_yield` or exit calls
//!   [`Scheduler::block`] / [`Scheduler::yield_now`] /
//!   [`Scheduler::remove_task`] / [`Scheduler::tick`] as appropriate, then
//!   `if need_resched(c) { pick_next(c, now) }`, then re-arms its one-shot
//!   timer at [`Scheduler::slice_deadline`] (a precise slice end, like the
//!   kernel's `HRTICK`); a periodic tick is optional;
//! * every `config.balance_interval`, some vCPU calls [`Scheduler::balance`].
//!
//! `now` values should come from one monotonic clock; a `now` older than
//! what a vCPU has already seen is clamped, so small reorderings between
//! vCPU threads are harmless. Run time is charged to the running task of a
//! vCPU between consecutive calls that touch that vCPU, so the dispatcher
//! should make the call as soon as the guest thread stops running.
//!
//! ## Deviations from Linux (all deliberate)
//!
//! * `SCHED_IDLE` is a class strictly below CFS (see `idle.rs`).
//! * No EEVDF, no `SCHED_DEADLINE`, no cgroups/group scheduling, no PELT:
//!   load balancing compares runnable counts; no next/last buddies.
//! * Preemption at `slice ≥ ideal` / `rt_time ≥ runtime` instead of `>` so a
//!   timer armed at the exact deadline fires it.
//! * `vruntime` is a saturating `u64`, compared directly (the kernel wraps
//!   and compares differences): it saturates only after 584 years of CPU
//!   time at nice 0, 8.5 years at nice 19, 1.7 years at `SCHED_IDLE`'s
//!   weight 3.
//! * RT bandwidth periods are aligned to multiples of `rt_period` on every
//!   vCPU; no runtime sharing between vCPUs (`RT_RUNTIME_SHARE` off), but an
//!   RT task waiting on a throttled vCPU may be pushed to an unthrottled one.
//! * Real time is converted to virtual time by exact 128-bit division
//!   instead of the kernel's 32-bit inverse weights (`__calc_delta()`).
//!
//! ## Costs
//!
//! Wake, block, pick, tick are O(log n) in the tasks of the vCPU plus O(v)
//! in vCPUs for placement and RT push/pull; `balance` is O(v² · nr_migrate)
//! per move. See `runtime/benches/sched.rs`.

mod balance;
mod cfs;
mod cpuset;
pub mod dispatch;
mod error;
mod idle;
mod params;
mod rq;
mod rt;
pub mod sim;
mod task;
pub mod weights;

#[cfg(test)]
mod tests;

use std::collections::HashMap;
use std::hash::{BuildHasherDefault, Hasher};

pub use cpuset::{CpuSet, CpuSetIter, MAX_CPUS};
pub use dispatch::Dispatcher;
pub use error::SchedError;
pub use params::{Policy, SchedConfig, SchedParams, MAX_RT_PRIO, MIN_RT_PRIO};
pub use task::{TaskInfo, TaskState};

use params::Class;
use rq::{get, get_mut, Rq};
use task::Task;

/// A guest thread, as the dispatcher names it (e.g. its TID).
pub type TaskId = u64;
/// A virtual CPU number, `0..nr_cpus`.
pub type CpuId = usize;
/// Nanoseconds (of the dispatcher's monotonic clock, or a duration).
pub type Nanos = u64;

/// Task table. Deterministic (no per-process random hash keys: same inputs,
/// same decisions) and fast: ids are chosen by the dispatcher, not by an
/// adversary, so a multiplicative hash is enough.
type TaskMap = HashMap<TaskId, Task, BuildHasherDefault<IdHasher>>;

/// Fibonacci hashing of a `u64` id (the multiplier is 2^64/φ).
#[derive(Default)]
struct IdHasher(u64);

impl Hasher for IdHasher {
    fn finish(&self) -> u64 {
        self.0
    }

    fn write(&mut self, bytes: &[u8]) {
        for b in bytes {
            self.write_u64(u64::from(*b));
        }
    }

    fn write_u64(&mut self, n: u64) {
        self.0 = (self.0.rotate_left(5) ^ n).wrapping_mul(0x9E37_79B9_7F4A_7C15);
    }
}

/// What [`Scheduler::wake`] did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct WakeResult {
    /// The vCPU the task was queued on.
    pub cpu: CpuId,
    /// That vCPU must call [`Scheduler::pick_next`]: it is idle or its
    /// running task is preempted by the woken one.
    pub resched: bool,
}

/// What [`Scheduler::tick`] decided.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct TickResult {
    /// The vCPU must call [`Scheduler::pick_next`].
    pub resched: bool,
    /// When to call `tick` again at the latest ([`Scheduler::slice_deadline`]).
    pub deadline: Option<Nanos>,
}

/// A task moved between runqueues by balancing.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Migration {
    /// The task (it was waiting, not running).
    pub task: TaskId,
    /// Its old vCPU.
    pub from: CpuId,
    /// Its new vCPU.
    pub to: CpuId,
}

/// A snapshot of one vCPU's runqueue.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct CpuInfo {
    /// The running task.
    pub current: Option<TaskId>,
    /// Runnable tasks, the running one included.
    pub nr_running: usize,
    /// … of which RT.
    pub nr_rt: usize,
    /// … of which CFS.
    pub nr_fair: usize,
    /// … of which idle class.
    pub nr_idle_class: usize,
    /// Σ weight of the CFS tasks.
    pub fair_load: u64,
    /// The CFS runqueue's `min_vruntime`.
    pub min_vruntime: Nanos,
    /// RT tasks may not run until the current bandwidth period ends.
    pub rt_throttled: bool,
    /// RT time charged in the current period.
    pub rt_time: Nanos,
    /// Context switches on this vCPU.
    pub nr_switches: u64,
    /// The vCPU must call `pick_next`.
    pub need_resched: bool,
}

/// Global counters.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct SchedStats {
    /// Context switches (a different task picked).
    pub nr_switches: u64,
    /// Switches away from a task that was still runnable.
    pub nr_preemptions: u64,
    /// Task migrations between vCPUs (wake-up placement, balancing,
    /// affinity changes).
    pub nr_migrations: u64,
    /// Migrations done by [`Scheduler::balance`].
    pub nr_balance_moves: u64,
    /// Wake-ups.
    pub nr_wakeups: u64,
    /// Times a vCPU's RT bandwidth was exhausted.
    pub nr_rt_throttled: u64,
}

/// The scheduler: every vCPU's runqueue, every task, the tunables.
#[derive(Debug)]
pub struct Scheduler {
    cfg: SchedConfig,
    online: CpuSet,
    rqs: Vec<Rq>,
    tasks: TaskMap,
    need_resched: CpuSet,
    kicks: CpuSet,
    /// Insertion counter for CFS tree keys.
    seq: u64,
    /// Σ over vCPUs of waiting RT tasks (to skip RT pulls cheaply).
    rt_queued_total: usize,
    /// Round-robin start for placing new tasks.
    fresh_rotor: CpuId,
    stats: SchedStats,
    /// Run time is reported by [`Scheduler::account`] instead of being the
    /// wall time between calls.
    measured_exec: bool,
}

impl Scheduler {
    /// A scheduler for `cpus` vCPUs (1..=[`MAX_CPUS`]).
    pub fn new(cpus: usize, config: SchedConfig) -> Result<Self, SchedError> {
        if cpus == 0 || cpus > MAX_CPUS {
            return Err(SchedError::InvalidConfig("cpu count must be 1..=1024"));
        }
        config.validate()?;
        Ok(Self {
            cfg: config,
            online: CpuSet::first_n(cpus),
            rqs: (0..cpus).map(|_| Rq::new()).collect(),
            tasks: TaskMap::default(),
            need_resched: CpuSet::new(),
            kicks: CpuSet::new(),
            seq: 0,
            rt_queued_total: 0,
            fresh_rotor: cpus - 1,
            stats: SchedStats::default(),
            measured_exec: false,
        })
    }

    /// Number of vCPUs.
    pub fn nr_cpus(&self) -> usize {
        self.rqs.len()
    }

    /// The tunables.
    pub fn config(&self) -> &SchedConfig {
        &self.cfg
    }

    /// Charge run time as the dispatcher measures it instead of the wall
    /// time between calls. On the host the vCPU a guest thread holds is not
    /// a CPU: the host also runs other work, so the thread can hold its vCPU
    /// without running. With this set, calls only advance the clock; each
    /// running task's CPU time is reported with [`Self::account`] (at least
    /// before its vCPU reschedules and at its slice deadline), like the
    /// kernel's `rq->clock_task`, which leaves out what the hypervisor stole
    /// (`update_rq_clock_task()`, `CONFIG_PARAVIRT_TIME_ACCOUNTING`).
    /// Slice deadlines then assume the task runs from its last report on.
    pub fn set_measured_exec(&mut self, on: bool) {
        self.measured_exec = on;
    }

    /// Whether run time is measured (see [`Self::set_measured_exec`]).
    pub fn measured_exec(&self) -> bool {
        self.measured_exec
    }

    /// With measured run time: `cpu`'s running task ran `exec` nanoseconds
    /// since its last report (or since it was picked), ending at `now`.
    /// Charges it (`update_curr()`) and restarts the slice-deadline clock at
    /// `now`. Without measured run time it is [`Self::tick`]'s accounting
    /// (the wall time is charged) and `exec` is ignored.
    ///
    /// # Panics
    /// If `cpu` is out of range.
    pub fn account(&mut self, cpu: CpuId, now: Nanos, exec: Nanos) {
        self.check_cpu(cpu);
        let now = self.update(cpu, now);
        if self.measured_exec {
            self.charge(cpu, now, exec);
            self.rqs[cpu].exec_start = now;
        }
    }

    /// Number of known tasks.
    pub fn nr_tasks(&self) -> usize {
        self.tasks.len()
    }

    fn check_cpu(&self, cpu: CpuId) {
        assert!(cpu < self.rqs.len(), "sched: cpu {cpu} out of range");
    }

    fn usable(&self, affinity: &CpuSet) -> Result<CpuSet, SchedError> {
        let mask = affinity.intersection(&self.online);
        if mask.is_empty() {
            Err(SchedError::EmptyAffinity)
        } else {
            Ok(mask)
        }
    }

    /// Register a new task (`sched_fork()`). It starts **blocked**: call
    /// [`Self::wake`] to make it runnable. The affinity is intersected with
    /// the existing vCPUs.
    pub fn add_task(
        &mut self,
        id: TaskId,
        params: SchedParams,
        affinity: CpuSet,
    ) -> Result<(), SchedError> {
        params.validate()?;
        let mask = self.usable(&affinity)?;
        if self.tasks.contains_key(&id) {
            return Err(SchedError::TaskExists(id));
        }
        self.tasks
            .insert(id, Task::new(id, params, mask, self.cfg.rr_timeslice));
        Ok(())
    }

    /// Takes running task `id` (of `class`) off vCPU `c`, which must then
    /// pick another.
    fn take_off_cpu(&mut self, c: CpuId, id: TaskId, class: Class, now: Nanos) {
        self.update(c, now);
        self.rqs[c].curr = None;
        self.detach(c, id);
        self.refresh_min_vruntime(c, class);
        self.resched(c);
    }

    /// Forget a task (it exited). If it was running, its vCPU must
    /// reschedule. Returns its final statistics.
    pub fn remove_task(&mut self, id: TaskId, now: Nanos) -> Result<TaskInfo, SchedError> {
        let t = self.tasks.get(&id).ok_or(SchedError::NoSuchTask(id))?;
        let class = t.class();
        match t.state {
            TaskState::Running(c) => {
                self.take_off_cpu(c, id, class, now);
            }
            TaskState::Queued(c) => {
                self.update(c, now);
                self.queue_remove(c, id);
                self.detach(c, id);
                self.refresh_min_vruntime(c, class);
            }
            TaskState::Blocked => {}
        }
        let t = self.tasks.remove(&id).ok_or(SchedError::NoSuchTask(id))?;
        Ok(TaskInfo {
            state: TaskState::Blocked,
            ..t.info()
        })
    }

    /// Make a blocked task runnable (`try_to_wake_up()`): choose a vCPU,
    /// place it and check wake-up preemption. Returns `None` if the task was
    /// already runnable (a no-op, like a redundant wake-up in the kernel).
    pub fn wake(&mut self, id: TaskId, now: Nanos) -> Result<Option<WakeResult>, SchedError> {
        let t = self.tasks.get(&id).ok_or(SchedError::NoSuchTask(id))?;
        if t.state != TaskState::Blocked {
            return Ok(None);
        }
        let (old_cpu, class) = (t.cpu, t.class());
        let cpu = self.select_cpu(id);
        let now = self.update(cpu, now);
        if class != Class::Rt {
            let src_min = self.rqs[old_cpu].fair_rq(class).min_vruntime;
            let dst = self.rqs[cpu].fair_rq(class);
            let t = get_mut(&mut self.tasks, id);
            if !t.fresh {
                t.vruntime = rq::rebase(t.vruntime, src_min, dst.min_vruntime);
            }
            t.vruntime = dst.place(t.vruntime, t.weight, t.fresh, &self.cfg);
        }
        let t = get_mut(&mut self.tasks, id);
        // A woken RT task goes to the tail of its priority
        // (`enqueue_task_rt()` without ENQUEUE_HEAD).
        if class == Class::Rt {
            t.requeue_tail = true;
        }
        if !t.fresh && old_cpu != cpu {
            t.nr_migrations += 1;
            self.stats.nr_migrations += 1;
        }
        t.fresh = false;
        t.nr_wakeups += 1;
        self.stats.nr_wakeups += 1;
        let before = self.deadline(cpu);
        self.attach(cpu, id);
        self.queue_insert(cpu, id, now);
        let resched = self.check_preempt(cpu, id);
        if !resched {
            self.kick_if_earlier(cpu, before);
        }
        Ok(Some(WakeResult { cpu, resched }))
    }

    /// The task stops being runnable (it sleeps, or is stopped). Normally it
    /// is the running task of its vCPU, which must then reschedule; a queued
    /// task is simply dequeued.
    pub fn block(&mut self, id: TaskId, now: Nanos) -> Result<(), SchedError> {
        let t = self.tasks.get(&id).ok_or(SchedError::NoSuchTask(id))?;
        let class = t.class();
        match t.state {
            TaskState::Blocked => return Err(SchedError::NotRunnable(id)),
            TaskState::Running(c) => {
                self.take_off_cpu(c, id, class, now);
                let t = get_mut(&mut self.tasks, id);
                t.nvcsw += 1;
                t.requeue_tail = false;
            }
            TaskState::Queued(c) => {
                self.update(c, now);
                self.queue_remove(c, id);
                self.detach(c, id);
                self.refresh_min_vruntime(c, class);
            }
        }
        get_mut(&mut self.tasks, id).state = TaskState::Blocked;
        Ok(())
    }

    /// `sched_yield()` by the running task: RT tasks go to the tail of their
    /// priority (`yield_task_rt()`), CFS/idle-class tasks become the skip
    /// buddy (`yield_task_fair()`). Its vCPU must reschedule.
    pub fn yield_now(&mut self, id: TaskId, now: Nanos) -> Result<(), SchedError> {
        let t = self.tasks.get(&id).ok_or(SchedError::NoSuchTask(id))?;
        let TaskState::Running(cpu) = t.state else {
            return Err(SchedError::NotRunning(id));
        };
        self.update(cpu, now);
        let t = get_mut(&mut self.tasks, id);
        match t.class() {
            Class::Rt => t.requeue_tail = true,
            class => {
                let f = self.rqs[cpu].fair_rq_mut(class);
                if f.nr_running > 1 {
                    f.skip = Some(id);
                }
            }
        }
        self.resched(cpu);
        Ok(())
    }

    /// Timer tick or slice deadline on `cpu` (`scheduler_tick()` /
    /// `hrtick()`): account time, throttle RT, rotate RR, check CFS slice
    /// preemption.
    ///
    /// # Panics
    /// If `cpu` is out of range.
    pub fn tick(&mut self, cpu: CpuId, now: Nanos) -> TickResult {
        self.check_cpu(cpu);
        self.update(cpu, now);
        self.class_tick(cpu);
        TickResult {
            resched: self.need_resched.contains(cpu),
            deadline: self.deadline(cpu),
        }
    }

    /// `__schedule()` for `cpu`: put the running task back (or move it away
    /// if its affinity no longer allows this vCPU), pull work if needed, and
    /// return the task to run next, or `None` to idle. Clears
    /// `need_resched(cpu)`. Calling it when nothing changed is harmless (the
    /// same task is returned and starts a new slice).
    ///
    /// # Panics
    /// If `cpu` is out of range.
    pub fn pick_next(&mut self, cpu: CpuId, now: Nanos) -> Option<TaskId> {
        self.check_cpu(cpu);
        let now = self.update(cpu, now);
        let prev = self.rqs[cpu].curr;
        if let Some(p) = prev {
            self.put_prev(cpu, p, now);
        }
        self.pull_rt(cpu, now);
        if !self.rqs[cpu].has_pickable() {
            self.idle_pull(cpu, now);
        }
        let next = self.pick_task(cpu);
        if let Some(n) = next {
            self.set_next(cpu, n, now, prev);
        }
        if next != prev {
            if let Some(p) = prev.and_then(|p| self.tasks.get_mut(&p)) {
                p.nivcsw += 1;
                self.stats.nr_preemptions += 1;
            }
        }
        self.need_resched.remove(cpu);
        self.kicks.remove(cpu);
        let mut pushed = Vec::new();
        self.push_rt(cpu, now, &mut pushed);
        next
    }

    /// Whether `cpu` must call [`Self::pick_next`].
    pub fn need_resched(&self, cpu: CpuId) -> bool {
        self.need_resched.contains(cpu)
    }

    /// The vCPUs to interrupt since the last call: they must reschedule or
    /// re-arm their deadline timer. Clears the set.
    pub fn take_kicks(&mut self) -> CpuSet {
        std::mem::take(&mut self.kicks)
    }

    /// When `cpu` next needs a [`Self::tick`]: the end of the running task's
    /// CFS slice (if others wait), of its RR slice, of its RT budget, or of a
    /// throttled period with RT tasks waiting. `None`: nothing is due (a
    /// lone task or FIFO runs on). Changes after any call touching `cpu`.
    ///
    /// # Panics
    /// If `cpu` is out of range.
    pub fn slice_deadline(&self, cpu: CpuId) -> Option<Nanos> {
        self.check_cpu(cpu);
        self.deadline(cpu)
    }

    /// `sched_setscheduler()` / `sched_setattr()` / `setpriority()`: change
    /// policy, RT priority or nice. A running task whose priority drops (or
    /// whose class changes) makes its vCPU reschedule; a queued one is
    /// requeued (at the head of its new RT priority if lowered, the tail if
    /// raised, as `__sched_setscheduler()` does) and may preempt.
    pub fn set_params(
        &mut self,
        id: TaskId,
        params: SchedParams,
        now: Nanos,
    ) -> Result<(), SchedError> {
        params.validate()?;
        let t = self.tasks.get(&id).ok_or(SchedError::NoSuchTask(id))?;
        let old = t.params;
        if old == params {
            return Ok(());
        }
        let (state, cpu, queued_at) = (t.state, t.cpu, t.queued_at);
        let (old_class, new_class) = (old.policy.class(), params.policy.class());
        let lowered =
            params.rank() < old.rank() || (new_class == old_class && params.nice > old.nice);
        let now = self.update(cpu, now);
        match state {
            TaskState::Running(c) => self.detach(c, id),
            TaskState::Queued(c) => {
                self.queue_remove(c, id);
                self.detach(c, id);
            }
            TaskState::Blocked => {}
        }
        self.rebase_class(id, cpu, old_class, new_class);
        let rr_slice = self.cfg.rr_timeslice;
        let t = get_mut(&mut self.tasks, id);
        t.params = params;
        t.weight = params.weight();
        if params.policy == Policy::RoundRobin && old.policy != Policy::RoundRobin {
            t.rr_left = rr_slice;
        }
        t.requeue_tail = !lowered;
        match state {
            TaskState::Running(c) => {
                self.attach(c, id);
                get_mut(&mut self.tasks, id).requeue_tail = false;
                if lowered || old_class != new_class {
                    self.resched(c);
                }
            }
            TaskState::Queued(c) => {
                self.attach(c, id);
                self.queue_insert(c, id, now);
                get_mut(&mut self.tasks, id).queued_at = queued_at;
                self.check_preempt(c, id);
                if new_class == Class::Rt {
                    let mut out = Vec::new();
                    self.push_rt(c, now, &mut out);
                }
            }
            TaskState::Blocked => get_mut(&mut self.tasks, id).requeue_tail = false,
        }
        self.refresh_min_vruntime(cpu, old_class);
        self.refresh_min_vruntime(cpu, new_class);
        Ok(())
    }

    /// Carry a task's lag (`vruntime − min_vruntime`) from the runqueue
    /// frame of one class to another's (`detach_task_cfs_rq()` /
    /// `attach_task_cfs_rq()`); RT tasks keep it in `vlag`.
    fn rebase_class(&mut self, id: TaskId, cpu: CpuId, from: Class, to: Class) {
        if from == to {
            return;
        }
        let rq = &self.rqs[cpu];
        let t = get_mut(&mut self.tasks, id);
        let lag = match from {
            Class::Rt => t.vlag,
            class => {
                let d = i128::from(t.vruntime) - i128::from(rq.fair_rq(class).min_vruntime);
                i64::try_from(d).unwrap_or(if d < 0 { i64::MIN } else { i64::MAX })
            }
        };
        match to {
            Class::Rt => t.vlag = lag,
            class => {
                let v = i128::from(rq.fair_rq(class).min_vruntime) + i128::from(lag);
                t.vruntime = u64::try_from(v.max(0)).unwrap_or(u64::MAX);
            }
        }
    }

    /// `sched_setaffinity()`: restrict the task to `affinity` (intersected
    /// with the existing vCPUs; empty is an error). A queued task on a vCPU
    /// no longer allowed moves now; a running one makes its vCPU reschedule
    /// and moves when it is put back.
    pub fn set_affinity(
        &mut self,
        id: TaskId,
        affinity: CpuSet,
        now: Nanos,
    ) -> Result<(), SchedError> {
        let mask = self.usable(&affinity)?;
        let t = self.tasks.get_mut(&id).ok_or(SchedError::NoSuchTask(id))?;
        t.affinity = mask;
        let (state, class) = (t.state, t.class());
        match state {
            TaskState::Running(c) if !mask.contains(c) => {
                self.update(c, now);
                self.resched(c);
            }
            TaskState::Queued(c) if !mask.contains(c) => {
                let dst = self.select_cpu(id);
                self.move_queued(id, c, dst, now);
            }
            TaskState::Queued(c) if class == Class::Rt => {
                let mut out = Vec::new();
                self.push_rt(c, now, &mut out);
            }
            _ => {}
        }
        Ok(())
    }

    /// Periodic load balancing across vCPUs (call every
    /// `config.balance_interval`): push waiting RT tasks to vCPUs running
    /// less urgent work, then move waiting CFS/idle-class tasks from the
    /// busiest to the least busy vCPUs until runnable counts differ by at
    /// most one (as far as affinities allow). Returns the moves; the target
    /// vCPUs are in [`Self::take_kicks`] where they must act.
    pub fn balance(&mut self, now: Nanos) -> Vec<Migration> {
        self.rebalance(now)
    }

    /// The running task of `cpu`.
    ///
    /// # Panics
    /// If `cpu` is out of range.
    pub fn current(&self, cpu: CpuId) -> Option<TaskId> {
        self.check_cpu(cpu);
        self.rqs[cpu].curr
    }

    /// A snapshot of a task's state and statistics (times as of the last
    /// call that touched its vCPU).
    pub fn task_info(&self, id: TaskId) -> Option<TaskInfo> {
        self.tasks.get(&id).map(Task::info)
    }

    /// A task's total CPU time up to `now`, including the not yet accounted
    /// part of a running slice (`task_sched_runtime()`, for
    /// `CLOCK_THREAD_CPUTIME_ID`). With measured run time only what was
    /// reported: the dispatcher knows the rest.
    pub fn task_runtime(&self, id: TaskId, now: Nanos) -> Option<Nanos> {
        let t = self.tasks.get(&id)?;
        Some(match t.state {
            TaskState::Running(c) if !self.measured_exec => {
                t.sum_exec + now.saturating_sub(self.rqs[c].exec_start)
            }
            _ => t.sum_exec,
        })
    }

    /// `sched_rr_get_interval()`: the RR slice for `SCHED_RR`, 0 for
    /// `SCHED_FIFO`, and the current CFS slice for the others
    /// (`get_rr_interval_fair()`; 0 if its runqueue is empty).
    pub fn rr_interval(&self, id: TaskId) -> Result<Nanos, SchedError> {
        let t = self.tasks.get(&id).ok_or(SchedError::NoSuchTask(id))?;
        Ok(match t.params.policy {
            Policy::RoundRobin => self.cfg.rr_timeslice,
            Policy::Fifo => 0,
            _ => {
                let f = self.rqs[t.cpu].fair_rq(t.class());
                if f.load == 0 {
                    0
                } else {
                    let on_rq = t.state != TaskState::Blocked;
                    f.slice(t.weight, on_rq, &self.cfg)
                }
            }
        })
    }

    /// A snapshot of `cpu`'s runqueue.
    ///
    /// # Panics
    /// If `cpu` is out of range.
    pub fn cpu_info(&self, cpu: CpuId) -> CpuInfo {
        self.check_cpu(cpu);
        let rq = &self.rqs[cpu];
        CpuInfo {
            current: rq.curr,
            nr_running: rq.nr_running(),
            nr_rt: rq.rt.nr_running,
            nr_fair: rq.cfs.nr_running,
            nr_idle_class: rq.idle.nr_running,
            fair_load: rq.cfs.load,
            min_vruntime: rq.cfs.min_vruntime,
            rt_throttled: rq.bw.throttled,
            rt_time: rq.bw.rt_time,
            nr_switches: rq.nr_switches,
            need_resched: self.need_resched.contains(cpu),
        }
    }

    /// Global counters.
    pub fn stats(&self) -> SchedStats {
        self.stats
    }

    /// Check the internal invariants (every task where its state says,
    /// counts and loads consistent, nothing queued or newly running outside
    /// its affinity). O(tasks); a debugging aid for tests and the simulator.
    pub fn check_invariants(&self) -> Result<(), String> {
        let n = self.rqs.len();
        let mut nr = vec![[0usize; 3]; n];
        let mut load = vec![[0u64; 3]; n];
        let mut rt_queued = 0;
        for t in self.tasks.values() {
            let class = t.class();
            let ci = class as usize;
            match t.state {
                TaskState::Blocked => continue,
                TaskState::Running(c) => {
                    if self.rqs[c].curr != Some(t.id) {
                        return Err(format!(
                            "task {} Running({c}) but curr is {:?}",
                            t.id, self.rqs[c].curr
                        ));
                    }
                    if !t.affinity.contains(c) && !self.need_resched.contains(c) {
                        return Err(format!("task {} runs on disallowed cpu {c}", t.id));
                    }
                }
                TaskState::Queued(c) => {
                    if !t.affinity.contains(c) {
                        return Err(format!("task {} queued on disallowed cpu {c}", t.id));
                    }
                    let rq = &self.rqs[c];
                    let found = match class {
                        Class::Rt => {
                            rt_queued += 1;
                            rq.rt.lookup(t.params.rt_priority, t.rt_pos)
                        }
                        class => rq.fair_rq(class).lookup(t.vruntime, t.seq),
                    };
                    if found != Some(t.id) {
                        return Err(format!("task {} Queued({c}) but not in its queue", t.id));
                    }
                }
            }
            if t.cpu >= n {
                return Err(format!("task {} on cpu {} out of range", t.id, t.cpu));
            }
            nr[t.cpu][ci] += 1;
            load[t.cpu][ci] += t.weight;
        }
        if rt_queued != self.rt_queued_total {
            return Err(format!(
                "rt_queued_total {} != {rt_queued}",
                self.rt_queued_total
            ));
        }
        for (c, rq) in self.rqs.iter().enumerate() {
            if let Some(id) = rq.curr {
                let ok = self
                    .tasks
                    .get(&id)
                    .is_some_and(|t| t.state == TaskState::Running(c));
                if !ok {
                    return Err(format!("cpu {c} curr {id} is not Running there"));
                }
            }
            let got = [rq.rt.nr_running, rq.cfs.nr_running, rq.idle.nr_running];
            if got != nr[c] {
                return Err(format!(
                    "cpu {c}: nr_running {got:?}, tasks say {:?}",
                    nr[c]
                ));
            }
            if rq.cfs.load != load[c][1] || rq.idle.load != load[c][2] {
                return Err(format!("cpu {c}: load mismatch"));
            }
            let curr_in = |class: Class| {
                rq.curr
                    .is_some_and(|id| get(&self.tasks, id).class() == class)
            };
            if rq.cfs.nr_queued() + usize::from(curr_in(Class::Fair)) != rq.cfs.nr_running
                || rq.idle.nr_queued() + usize::from(curr_in(Class::Idle)) != rq.idle.nr_running
                || rq.rt.nr_queued + usize::from(curr_in(Class::Rt)) != rq.rt.nr_running
            {
                return Err(format!("cpu {c}: queue sizes disagree with counts"));
            }
            if !rq.rt.bitmap_consistent() {
                return Err(format!("cpu {c}: rt bitmap inconsistent"));
            }
        }
        Ok(())
    }
}
