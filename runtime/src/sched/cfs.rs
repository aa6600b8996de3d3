//! The fair class: CFS runqueues as in kernel/sched/fair.c before EEVDF
//! (Linux 6.5 and earlier).
//!
//! A runqueue orders its waiting tasks by `(vruntime, seq)` in a `BTreeMap`
//! (the kernel's `tasks_timeline` rbtree; `seq` is an insertion counter that
//! makes equal vruntimes FIFO). As in the kernel, the running task is *not*
//! in the tree but *is* counted in `load` and `nr_running`.
//!
//! The same structure serves the idle class (`SCHED_IDLE` tasks, see
//! [`super::idle`]), with weight 3 for every task.

use std::collections::BTreeMap;
use std::ops::Bound;

use super::weights::{calc_delta_fair, mul_div, real_from_virtual_ceil};
use super::{Nanos, SchedConfig, TaskId};

/// One CPU's CFS (or idle-class) runqueue.
#[derive(Debug, Default)]
pub(crate) struct CfsRq {
    tree: BTreeMap<(Nanos, u64), TaskId>,
    /// Σ weight of the tasks on this runqueue, running one included
    /// (`cfs_rq->load.weight`).
    pub load: u64,
    /// Tasks on this runqueue, running one included (`cfs_rq->nr_running`).
    pub nr_running: usize,
    /// Monotonic floor of the vruntimes (`cfs_rq->min_vruntime`).
    pub min_vruntime: Nanos,
    /// The task that called `sched_yield()` (`cfs_rq->skip`).
    pub skip: Option<TaskId>,
    /// Runqueue of the idle class: sleeper credit uses the minimum
    /// granularity instead of the latency (`se_is_idle()` in `place_entity()`).
    pub idle_class: bool,
}

/// The running task's CFS data, as far as the runqueue math needs it.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Curr {
    pub vruntime: Nanos,
    pub weight: u64,
    /// Time run in the current slice (`sum_exec_runtime - prev_sum_exec_runtime`).
    pub ran: Nanos,
}

impl CfsRq {
    /// A runqueue for the idle class.
    pub fn new_idle_class() -> Self {
        Self {
            idle_class: true,
            ..Self::default()
        }
    }

    /// Number of waiting (not running) tasks.
    pub fn nr_queued(&self) -> usize {
        self.tree.len()
    }

    /// Insert a waiting task with the given key.
    pub fn insert(&mut self, id: TaskId, vruntime: Nanos, seq: u64) {
        let old = self.tree.insert((vruntime, seq), id);
        debug_assert!(old.is_none(), "duplicate cfs key");
    }

    /// Remove a waiting task.
    pub fn remove(&mut self, id: TaskId, vruntime: Nanos, seq: u64) {
        let removed = self.tree.remove(&(vruntime, seq));
        debug_assert_eq!(removed, Some(id), "cfs tree out of sync");
        if self.skip == Some(id) {
            self.skip = None;
        }
    }

    /// The leftmost (smallest vruntime) waiting task
    /// (`__pick_first_entity()`).
    pub fn first(&self) -> Option<(TaskId, Nanos)> {
        self.tree.iter().next().map(|((v, _), id)| (*id, *v))
    }

    /// The waiting task after `key` in vruntime order (`__pick_next_entity()`).
    pub fn after(&self, vruntime: Nanos, seq: u64) -> Option<(TaskId, Nanos)> {
        self.tree
            .range((Bound::Excluded((vruntime, seq)), Bound::Unbounded))
            .next()
            .map(|((v, _), id)| (*id, *v))
    }

    /// The task stored under a key, if any (for consistency checks).
    pub fn lookup(&self, vruntime: Nanos, seq: u64) -> Option<TaskId> {
        self.tree.get(&(vruntime, seq)).copied()
    }

    /// Waiting tasks, leftmost first.
    pub fn iter(&self) -> impl DoubleEndedIterator<Item = TaskId> + '_ {
        self.tree.values().copied()
    }

    /// `update_min_vruntime()`: advance `min_vruntime` to the smaller of the
    /// running task's and the leftmost waiting task's vruntime, never back.
    pub fn update_min_vruntime(&mut self, curr_vruntime: Option<Nanos>) {
        let leftmost = self.first().map(|(_, v)| v);
        let candidate = match (curr_vruntime, leftmost) {
            (Some(c), Some(l)) => c.min(l),
            (Some(c), None) => c,
            (None, Some(l)) => l,
            (None, None) => return,
        };
        self.min_vruntime = self.min_vruntime.max(candidate);
    }

    /// `__sched_period()`: the latency, stretched to `nr × min_granularity`
    /// once more than `sched_nr_latency` tasks share the CPU.
    pub fn period(nr_running: u64, cfg: &SchedConfig) -> Nanos {
        if nr_running > cfg.nr_latency() {
            nr_running.saturating_mul(cfg.min_granularity)
        } else {
            cfg.latency
        }
    }

    /// `sched_slice()` (fair.c, 5.19–6.5 with `BASE_SLICE`): the task's share
    /// of the period, `period × w / Σw`, at least the minimum granularity.
    /// `on_rq` says whether `weight` is already counted in `load`.
    pub fn slice(&self, weight: u64, on_rq: bool, cfg: &SchedConfig) -> Nanos {
        let (nr, load) = if on_rq {
            (self.nr_running as u64, self.load)
        } else {
            (self.nr_running as u64 + 1, self.load + weight)
        };
        let period = Self::period(nr.max(1), cfg);
        mul_div(period, weight, load.max(weight)).max(cfg.min_granularity)
    }

    /// `sched_vslice()`: the slice in virtual time.
    pub fn vslice(&self, weight: u64, on_rq: bool, cfg: &SchedConfig) -> Nanos {
        calc_delta_fair(self.slice(weight, on_rq, cfg), weight)
    }

    /// `place_entity()` (fair.c before 6.6) for a task about to be enqueued
    /// with `vruntime` (already relative to this runqueue):
    ///
    /// * a new task (`initial`) starts one virtual slice after
    ///   `min_vruntime` (`START_DEBIT`: "the 'current' period is already
    ///   promised to the current tasks");
    /// * a waking task gets at most half a latency of sleeper credit
    ///   (`GENTLE_FAIR_SLEEPERS`): `max(vruntime, min_vruntime − latency/2)`;
    ///   idle-class tasks only half a minimum granularity.
    pub fn place(&self, vruntime: Nanos, weight: u64, initial: bool, cfg: &SchedConfig) -> Nanos {
        let target = if initial {
            self.min_vruntime
                .saturating_add(self.vslice(weight, false, cfg))
        } else {
            let thresh = if self.idle_class {
                cfg.min_granularity
            } else {
                cfg.latency
            };
            self.min_vruntime.saturating_sub(thresh / 2)
        };
        // "ensure we never gain time by being placed backwards"
        vruntime.max(target)
    }

    /// `wakeup_gran()` in virtual time of the woken (or candidate) task `se`:
    /// "By using 'se' instead of 'curr' we penalize light tasks".
    pub fn wakeup_gran(weight: u64, cfg: &SchedConfig) -> Nanos {
        calc_delta_fair(cfg.wakeup_granularity, weight)
    }

    /// `wakeup_preempt_entity(curr, se) == 1`: `se` is ahead of `curr` by more
    /// than the wake-up granularity, so it should preempt.
    pub fn should_preempt(
        curr_vruntime: Nanos,
        se_vruntime: Nanos,
        se_weight: u64,
        cfg: &SchedConfig,
    ) -> bool {
        curr_vruntime > se_vruntime
            && curr_vruntime - se_vruntime > Self::wakeup_gran(se_weight, cfg)
    }

    /// `check_preempt_tick()` (fair.c before 6.6): preempt the running task
    /// when it has used up its slice, or — after at least a minimum
    /// granularity — when it is more than a slice (compared, as in the
    /// kernel, in virtual against real time) ahead of the leftmost task.
    /// We preempt at `ran >= slice` (kernel: `>`) so that a timer armed at the
    /// exact slice end fires the preemption.
    pub fn tick_preempt(&self, curr: Curr, cfg: &SchedConfig) -> bool {
        if self.tree.is_empty() {
            return false;
        }
        let ideal = self.slice(curr.weight, true, cfg);
        if curr.ran >= ideal {
            return true;
        }
        if curr.ran < cfg.min_granularity {
            return false;
        }
        match self.first() {
            Some((_, left)) => curr.vruntime > left && curr.vruntime - left > ideal,
            None => false,
        }
    }

    /// The earliest time at which [`Self::tick_preempt`] would fire for a task
    /// that was last accounted at `exec_start`, if others are waiting (the
    /// kernel's `hrtick_start_fair()`, extended to the second condition).
    pub fn slice_deadline(
        &self,
        curr: Curr,
        exec_start: Nanos,
        cfg: &SchedConfig,
    ) -> Option<Nanos> {
        let (_, left) = self.first()?;
        let ideal = self.slice(curr.weight, true, cfg);
        let slice_end = exec_start.saturating_add(ideal.saturating_sub(curr.ran));
        // Time until vruntime − left > ideal, but not before min_granularity.
        let need_v = left
            .saturating_add(ideal)
            .saturating_add(1)
            .saturating_sub(curr.vruntime);
        let dt_v = real_from_virtual_ceil(need_v, curr.weight);
        let dt_min = cfg.min_granularity.saturating_sub(curr.ran);
        let lag_end = exec_start.saturating_add(dt_v.max(dt_min));
        Some(slice_end.min(lag_end))
    }
}
