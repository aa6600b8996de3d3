//! Per-vCPU runqueues and the class-independent core operations on them:
//! time accounting (`update_curr`), enqueue/dequeue, wake-up preemption,
//! `put_prev`/`pick`/`set_next`, and the precise slice deadline.

use super::cfs::{CfsRq, Curr};
use super::idle::{self, IdleRq};
use super::params::{Class, Policy, RANK_FAIR, RANK_NONE};
use super::rt::{RtBandwidth, RtRq};
use super::task::{Task, TaskState};
use super::weights::calc_delta_fair;
use super::{CpuId, Nanos, Scheduler, TaskId, TaskMap};

/// One vCPU's runqueue (`struct rq`).
#[derive(Debug)]
pub(crate) struct Rq {
    /// The running task (`rq->curr`); `None` when idle or between a block
    /// and the next `pick_next`.
    pub curr: Option<TaskId>,
    /// When `curr` was last accounted (`exec_start`).
    pub exec_start: Nanos,
    /// Latest time seen on this CPU; earlier `now`s are clamped to it.
    pub clock: Nanos,
    pub rt: RtRq,
    pub cfs: CfsRq,
    pub idle: IdleRq,
    pub bw: RtBandwidth,
    pub nr_switches: u64,
}

impl Rq {
    pub fn new() -> Self {
        Self {
            curr: None,
            exec_start: 0,
            clock: 0,
            rt: RtRq::default(),
            cfs: CfsRq::default(),
            idle: idle::new_rq(),
            bw: RtBandwidth::default(),
            nr_switches: 0,
        }
    }

    /// Runnable tasks on this CPU, the running one included.
    pub fn nr_running(&self) -> usize {
        self.rt.nr_running + self.cfs.nr_running + self.idle.nr_running
    }

    /// Whether `pick` would find a task.
    pub fn has_pickable(&self) -> bool {
        (!self.bw.throttled && self.rt.nr_queued > 0)
            || self.cfs.nr_queued() > 0
            || self.idle.nr_queued() > 0
    }

    /// The CFS-like runqueue of `class` (fair or idle).
    pub fn fair_rq(&self, class: Class) -> &CfsRq {
        if class == Class::Idle {
            &self.idle
        } else {
            &self.cfs
        }
    }

    /// Mutable [`Self::fair_rq`].
    pub fn fair_rq_mut(&mut self, class: Class) -> &mut CfsRq {
        if class == Class::Idle {
            &mut self.idle
        } else {
            &mut self.cfs
        }
    }
}

/// Look up a task the scheduler's own structures refer to. A miss is a bug
/// in this module (a runqueue naming a task that is gone), hence the panic.
pub(crate) fn get(tasks: &TaskMap, id: TaskId) -> &Task {
    tasks
        .get(&id)
        .expect("sched: runqueue refers to an unknown task")
}

/// Mutable [`get`].
pub(crate) fn get_mut(tasks: &mut TaskMap, id: TaskId) -> &mut Task {
    tasks
        .get_mut(&id)
        .expect("sched: runqueue refers to an unknown task")
}

/// Move a vruntime from one runqueue's frame to another's, keeping its lag
/// (`vruntime -= src.min_vruntime` / `+= dst.min_vruntime` in
/// `migrate_task_rq_fair()` and `enqueue_entity()`).
pub(crate) fn rebase(vruntime: Nanos, from_min: Nanos, to_min: Nanos) -> Nanos {
    let v = i128::from(vruntime) - i128::from(from_min) + i128::from(to_min);
    u64::try_from(v.max(0)).unwrap_or(u64::MAX)
}

impl Scheduler {
    /// Flag `cpu` for rescheduling (`resched_curr()`): it must call
    /// `pick_next`, and the dispatcher must kick it if it is another vCPU.
    pub(crate) fn resched(&mut self, cpu: CpuId) {
        self.need_resched.insert(cpu);
        self.kicks.insert(cpu);
    }

    /// A task was queued on `cpu` without preempting: if that brought its
    /// slice deadline forward (from `before`), the vCPU must re-arm its timer
    /// (the kernel's `hrtick_update()` on enqueue).
    pub(crate) fn kick_if_earlier(&mut self, cpu: CpuId, before: Option<Nanos>) {
        if let Some(after) = self.deadline(cpu) {
            if before.is_none_or(|b| after < b) {
                self.kicks.insert(cpu);
            }
        }
    }

    /// `update_rq_clock()` + `update_curr()` for whatever class the running
    /// task is in, plus the RT bandwidth period timer. Returns the (clamped)
    /// current time.
    ///
    /// With measured execution time ([`Scheduler::set_measured_exec`]) the
    /// wall time since the last update is *not* charged: the dispatcher
    /// reports what the task really ran with [`Scheduler::account`], and
    /// this only advances the clock and the RT periods.
    pub(crate) fn update(&mut self, cpu: CpuId, now: Nanos) -> Nanos {
        let rq = &mut self.rqs[cpu];
        let now = now.max(rq.clock);
        rq.clock = now;
        if self.measured_exec {
            self.charge(cpu, now, 0);
        } else {
            let delta = now.saturating_sub(rq.exec_start);
            rq.exec_start = now;
            self.charge(cpu, now, delta);
        }
        now
    }

    /// Charge `delta` of execution ending at `now` to `cpu`'s running task
    /// (`sum_exec_runtime`, vruntime, RR slice, RT bandwidth) and roll RT
    /// bandwidth periods over up to `now`.
    pub(crate) fn charge(&mut self, cpu: CpuId, now: Nanos, delta: Nanos) {
        let rq = &mut self.rqs[cpu];
        let mut curr_rt = false;
        if let Some(id) = rq.curr {
            let t = get_mut(&mut self.tasks, id);
            t.sum_exec += delta;
            match t.class() {
                Class::Rt => {
                    curr_rt = true;
                    if t.params.policy == Policy::RoundRobin {
                        t.rr_left = t.rr_left.saturating_sub(delta);
                    }
                }
                class => {
                    // vruntime += delta × NICE_0_LOAD / weight
                    t.vruntime = t.vruntime.saturating_add(calc_delta_fair(delta, t.weight));
                    rq.fair_rq_mut(class).update_min_vruntime(Some(t.vruntime));
                }
            }
        }
        // The run time is taken to end at `now` (for the period it counts in).
        let from = now.saturating_sub(delta);
        let change = rq.bw.account(from, now, curr_rt, &self.cfg);
        let rt_waiting = rq.rt.nr_queued > 0;
        if change.throttled {
            self.stats.nr_rt_throttled += 1;
            if curr_rt {
                self.resched(cpu);
            }
        }
        if change.unthrottled && rt_waiting {
            self.resched(cpu);
        }
    }

    /// The running task's vruntime, if it is in `class`.
    fn curr_vruntime(&self, cpu: CpuId, class: Class) -> Option<Nanos> {
        let id = self.rqs[cpu].curr?;
        let t = get(&self.tasks, id);
        (t.class() == class).then_some(t.vruntime)
    }

    /// `update_min_vruntime()` of the fair-like runqueue of `class`.
    pub(crate) fn refresh_min_vruntime(&mut self, cpu: CpuId, class: Class) {
        if class == Class::Rt {
            return;
        }
        let curr = self.curr_vruntime(cpu, class);
        self.rqs[cpu].fair_rq_mut(class).update_min_vruntime(curr);
    }

    /// Count a task into `cpu`'s class totals (`account_entity_enqueue()`,
    /// `inc_rt_tasks()`), without queueing it.
    pub(crate) fn attach(&mut self, cpu: CpuId, id: TaskId) {
        let t = get_mut(&mut self.tasks, id);
        t.cpu = cpu;
        let rq = &mut self.rqs[cpu];
        match t.class() {
            Class::Rt => rq.rt.nr_running += 1,
            class => {
                let f = rq.fair_rq_mut(class);
                f.load += t.weight;
                f.nr_running += 1;
            }
        }
    }

    /// Reverse of [`Self::attach`].
    pub(crate) fn detach(&mut self, cpu: CpuId, id: TaskId) {
        let t = get(&self.tasks, id);
        let rq = &mut self.rqs[cpu];
        match t.class() {
            Class::Rt => rq.rt.nr_running -= 1,
            class => {
                let f = rq.fair_rq_mut(class);
                f.load -= t.weight;
                f.nr_running -= 1;
                if f.skip == Some(id) {
                    f.skip = None;
                }
            }
        }
    }

    /// Put a task into `cpu`'s queue of its class; it becomes `Queued`.
    pub(crate) fn queue_insert(&mut self, cpu: CpuId, id: TaskId, now: Nanos) {
        self.seq += 1;
        let seq = self.seq;
        let t = get_mut(&mut self.tasks, id);
        let rq = &mut self.rqs[cpu];
        match t.class() {
            Class::Rt => {
                t.rt_pos = rq.rt.insert(id, t.params.rt_priority, !t.requeue_tail);
                t.requeue_tail = false;
                self.rt_queued_total += 1;
            }
            class => {
                t.seq = seq;
                rq.fair_rq_mut(class).insert(id, t.vruntime, seq);
            }
        }
        t.state = TaskState::Queued(cpu);
        t.queued_at = now;
    }

    /// Take a task out of `cpu`'s queue (it stays counted by `attach`).
    pub(crate) fn queue_remove(&mut self, cpu: CpuId, id: TaskId) {
        let t = get(&self.tasks, id);
        let rq = &mut self.rqs[cpu];
        match t.class() {
            Class::Rt => {
                rq.rt.remove(id, t.params.rt_priority, t.rt_pos);
                self.rt_queued_total -= 1;
            }
            class => rq.fair_rq_mut(class).remove(id, t.vruntime, t.seq),
        }
    }

    /// The effective priority rank of a CPU: the higher of its running task
    /// and its most urgent queued RT task (what `cpupri` tracks).
    pub(crate) fn cpu_rank(&self, cpu: CpuId) -> u32 {
        let rq = &self.rqs[cpu];
        let curr = rq.curr.map_or(RANK_NONE, |id| get(&self.tasks, id).rank());
        let queued = if rq.bw.throttled {
            RANK_NONE
        } else {
            rq.rt
                .highest_prio()
                .map_or(RANK_NONE, |p| RANK_FAIR + u32::from(p))
        };
        curr.max(queued)
    }

    /// `check_preempt_curr()`: after task `id` was queued on `cpu`, should
    /// the running task give way? Flags the CPU if so.
    pub(crate) fn check_preempt(&mut self, cpu: CpuId, id: TaskId) -> bool {
        let rq = &self.rqs[cpu];
        let p = get(&self.tasks, id);
        let preempt = match rq.curr {
            None => true,
            Some(c) => {
                let curr = get(&self.tasks, c);
                match (p.class(), curr.class()) {
                    // check_preempt_curr_rt(): strictly higher priority only.
                    (Class::Rt, _) => !rq.bw.throttled && p.rank() > curr.rank(),
                    // check_preempt_wakeup(): "Idle tasks are by definition
                    // preempted by non-idle tasks" ...
                    (Class::Fair, Class::Idle) => true,
                    (Class::Fair, Class::Rt) => false,
                    // ... "Batch and idle tasks do not preempt non-idle
                    // tasks (their preemption is driven by the tick)".
                    (Class::Fair, Class::Fair) => {
                        p.params.policy == Policy::Normal
                            && CfsRq::should_preempt(curr.vruntime, p.vruntime, p.weight, &self.cfg)
                    }
                    (Class::Idle, _) => false,
                }
            }
        };
        if preempt {
            self.resched(cpu);
        }
        preempt
    }

    /// `put_prev_task()`: the running task goes back to its queue (head for
    /// preempted RT tasks), or — if its affinity no longer allows this CPU —
    /// to an allowed one (the kernel's `migration_cpu_stop`).
    pub(crate) fn put_prev(&mut self, cpu: CpuId, id: TaskId, now: Nanos) {
        self.rqs[cpu].curr = None;
        if get(&self.tasks, id).affinity.contains(cpu) {
            self.queue_insert(cpu, id, now);
        } else {
            self.detach(cpu, id);
            self.refresh_min_vruntime(cpu, get(&self.tasks, id).class());
            let dst = self.select_cpu(id);
            self.update(dst, now);
            get_mut(&mut self.tasks, id).queued_at = now;
            self.migrate_into(id, cpu, dst, now);
        }
    }

    /// Choose the next task of `cpu` without dequeuing it: RT (unless
    /// throttled), then CFS, then the idle class (`__pick_next_task()`).
    pub(crate) fn pick_task(&self, cpu: CpuId) -> Option<TaskId> {
        let rq = &self.rqs[cpu];
        if !rq.bw.throttled {
            if let Some((id, _)) = rq.rt.first() {
                return Some(id);
            }
        }
        self.pick_fair(&rq.cfs).or_else(|| self.pick_fair(&rq.idle))
    }

    /// `pick_next_entity()` (fair.c before 6.6) without next/last buddies:
    /// the leftmost task, unless it is the yielding skip buddy and the second
    /// is not more than a wake-up granularity behind it.
    fn pick_fair(&self, rq: &CfsRq) -> Option<TaskId> {
        let (left, left_v) = rq.first()?;
        if rq.skip == Some(left) {
            let lt = get(&self.tasks, left);
            if let Some((second, second_v)) = rq.after(left_v, lt.seq) {
                // wakeup_preempt_entity(second, left) < 1
                if !CfsRq::should_preempt(second_v, left_v, lt.weight, &self.cfg) {
                    return Some(second);
                }
            }
        }
        Some(left)
    }

    /// `set_next_entity()` + the switch counters of the task switched in.
    pub(crate) fn set_next(&mut self, cpu: CpuId, id: TaskId, now: Nanos, prev: Option<TaskId>) {
        self.queue_remove(cpu, id);
        let rr_slice = self.cfg.rr_timeslice;
        let t = get_mut(&mut self.tasks, id);
        t.state = TaskState::Running(cpu);
        t.slice_start = t.sum_exec;
        t.run_delay += now.saturating_sub(t.queued_at);
        if t.params.policy == Policy::RoundRobin && t.rr_left == 0 {
            t.rr_left = rr_slice;
        }
        let class = t.class();
        let switched = prev != Some(id);
        if switched {
            t.nr_switches += 1;
        }
        let rq = &mut self.rqs[cpu];
        rq.curr = Some(id);
        rq.exec_start = now;
        if class != Class::Rt {
            let f = rq.fair_rq_mut(class);
            if f.skip == Some(id) {
                // clear_buddies()
                f.skip = None;
            }
        }
        if switched {
            rq.nr_switches += 1;
            self.stats.nr_switches += 1;
        }
        self.refresh_min_vruntime(cpu, class);
    }

    /// The fair-class view of a running task for the slice math.
    pub(crate) fn curr_of(t: &Task) -> Curr {
        Curr {
            vruntime: t.vruntime,
            weight: t.weight,
            ran: t.sum_exec.saturating_sub(t.slice_start),
        }
    }

    /// Class tick (`task_tick_rt()`, `task_tick_fair()`): decide whether the
    /// running task must be preempted at this point. Time must already be
    /// updated.
    pub(crate) fn class_tick(&mut self, cpu: CpuId) {
        let rq = &self.rqs[cpu];
        let rt_ready = !rq.bw.throttled && rq.rt.nr_queued > 0;
        let Some(id) = rq.curr else {
            if rq.has_pickable() {
                self.resched(cpu);
            }
            return;
        };
        let rr_slice = self.cfg.rr_timeslice;
        let t = get_mut(&mut self.tasks, id);
        let preempt = match t.class() {
            Class::Rt => {
                let prio = t.params.rt_priority;
                let mut preempt = rq.bw.throttled || rq.rt.highest_prio().is_some_and(|p| p > prio);
                // task_tick_rt(): refill an expired RR slice; requeue to the
                // tail only if others share the priority.
                if t.params.policy == Policy::RoundRobin && t.rr_left == 0 {
                    t.rr_left = rr_slice;
                    if rq.rt.has_queued_at(prio) {
                        t.requeue_tail = true;
                        preempt = true;
                    }
                }
                preempt
            }
            Class::Fair => rt_ready || rq.cfs.tick_preempt(Self::curr_of(t), &self.cfg),
            Class::Idle => {
                rt_ready
                    || rq.cfs.nr_queued() > 0
                    || rq.idle.tick_preempt(Self::curr_of(t), &self.cfg)
            }
        };
        if preempt {
            self.resched(cpu);
        }
    }

    /// See [`Scheduler::slice_deadline`].
    pub(crate) fn deadline(&self, cpu: CpuId) -> Option<Nanos> {
        let rq = &self.rqs[cpu];
        let mut d: Option<Nanos> = None;
        let mut add = |x: Nanos| d = Some(d.map_or(x, |d| d.min(x)));
        if let Some(id) = rq.curr {
            let t = get(&self.tasks, id);
            match t.class() {
                Class::Rt => {
                    if t.params.policy == Policy::RoundRobin {
                        add(rq.exec_start.saturating_add(t.rr_left));
                    }
                    if let Some(x) = rq.bw.exhaust_time(rq.exec_start, &self.cfg) {
                        add(x);
                    }
                }
                class => {
                    if let Some(x) =
                        rq.fair_rq(class)
                            .slice_deadline(Self::curr_of(t), rq.exec_start, &self.cfg)
                    {
                        add(x);
                    }
                }
            }
        }
        if rq.bw.throttled && rq.rt.nr_queued > 0 {
            add(rq.bw.period_end(&self.cfg));
        }
        d
    }
}
