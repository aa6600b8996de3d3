//! Per-task scheduling state (the kernel's `sched_entity` / `sched_rt_entity`
//! fields of `task_struct`, flattened).

use super::params::Class;
use super::{CpuId, CpuSet, Nanos, SchedParams, TaskId};

/// Where a task is, from the scheduler's point of view.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum TaskState {
    /// Not runnable (new, sleeping or stopped); waits for [`super::Scheduler::wake`].
    Blocked,
    /// Runnable, waiting in the runqueue of this CPU.
    Queued(CpuId),
    /// The current task of this CPU.
    Running(CpuId),
}

/// A snapshot of a task's scheduling state and statistics (what
/// `/proc/<pid>/sched`, `/proc/<pid>/schedstat` and `getrusage` report).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct TaskInfo {
    /// The task.
    pub id: TaskId,
    /// Its parameters.
    pub params: SchedParams,
    /// Its affinity (already intersected with the existing CPUs).
    pub affinity: CpuSet,
    /// Where it is.
    pub state: TaskState,
    /// The CPU it is queued or running on, or last ran on.
    pub cpu: CpuId,
    /// Total CPU time (`se.sum_exec_runtime`), as of the last call that
    /// updated its CPU; see [`super::Scheduler::task_runtime`] for "now".
    pub sum_exec_runtime: Nanos,
    /// Virtual runtime (`se.vruntime`) for CFS and idle-class tasks, in the
    /// frame of its runqueue (compare with [`super::CpuInfo::min_vruntime`]).
    pub vruntime: Nanos,
    /// Time spent runnable but waiting (`sched_info.run_delay`).
    pub run_delay: Nanos,
    /// Times it was switched in (`sched_info.pcount`).
    pub nr_switches: u64,
    /// Voluntary switches out: it blocked (`nvcsw`).
    pub nr_voluntary_switches: u64,
    /// Involuntary switches out: preempted or yielded (`nivcsw`).
    pub nr_involuntary_switches: u64,
    /// Times it moved between CPUs (`se.nr_migrations`).
    pub nr_migrations: u64,
    /// Times it was woken.
    pub nr_wakeups: u64,
}

/// The scheduler's record of one task.
#[derive(Debug, Clone)]
pub(crate) struct Task {
    pub id: TaskId,
    pub params: SchedParams,
    /// `params.weight()`, cached.
    pub weight: u64,
    pub affinity: CpuSet,
    pub state: TaskState,
    /// Queued/running CPU, or the last one.
    pub cpu: CpuId,
    /// Never enqueued yet: the first wake uses the new-task placement.
    pub fresh: bool,
    // --- CFS / idle class ---
    pub vruntime: Nanos,
    /// vruntime − min_vruntime, remembered while the task is in the RT class
    /// so that it keeps its lag if it returns to CFS (like
    /// `detach_task_cfs_rq()`/`attach_task_cfs_rq()` in kernel/sched/fair.c).
    pub vlag: i64,
    /// Tie-breaker of the CFS tree key `(vruntime, seq)`, set on insertion.
    pub seq: u64,
    /// `sum_exec` when the task was last picked (`prev_sum_exec_runtime`):
    /// the start of its current slice.
    pub slice_start: Nanos,
    // --- RT class ---
    /// Position key in its priority queue.
    pub rt_pos: i64,
    /// Remaining `SCHED_RR` slice (`rt.time_slice`).
    pub rr_left: Nanos,
    /// When next put back in the RT queue, go to the tail (RR slice expired,
    /// `sched_yield`) instead of the head (preempted, POSIX).
    pub requeue_tail: bool,
    // --- accounting ---
    pub sum_exec: Nanos,
    /// When it last entered a runqueue (for `run_delay`).
    pub queued_at: Nanos,
    pub run_delay: Nanos,
    pub nr_switches: u64,
    pub nvcsw: u64,
    pub nivcsw: u64,
    pub nr_migrations: u64,
    pub nr_wakeups: u64,
}

impl Task {
    pub fn new(id: TaskId, params: SchedParams, affinity: CpuSet, rr_timeslice: Nanos) -> Self {
        let cpu = affinity.first().unwrap_or(0);
        Self {
            id,
            params,
            weight: params.weight(),
            affinity,
            state: TaskState::Blocked,
            cpu,
            fresh: true,
            vruntime: 0,
            vlag: 0,
            seq: 0,
            slice_start: 0,
            rt_pos: 0,
            rr_left: rr_timeslice,
            requeue_tail: false,
            sum_exec: 0,
            queued_at: 0,
            run_delay: 0,
            nr_switches: 0,
            nvcsw: 0,
            nivcsw: 0,
            nr_migrations: 0,
            nr_wakeups: 0,
        }
    }

    pub fn class(&self) -> Class {
        self.params.policy.class()
    }

    pub fn rank(&self) -> u32 {
        self.params.rank()
    }

    pub fn info(&self) -> TaskInfo {
        TaskInfo {
            id: self.id,
            params: self.params,
            affinity: self.affinity,
            state: self.state,
            cpu: self.cpu,
            sum_exec_runtime: self.sum_exec,
            vruntime: self.vruntime,
            run_delay: self.run_delay,
            nr_switches: self.nr_switches,
            nr_voluntary_switches: self.nvcsw,
            nr_involuntary_switches: self.nivcsw,
            nr_migrations: self.nr_migrations,
            nr_wakeups: self.nr_wakeups,
        }
    }
}
