//! The real-time class: `SCHED_FIFO` / `SCHED_RR` runqueues and RT
//! bandwidth throttling (kernel/sched/rt.c).
//!
//! Like `struct rt_prio_array`, a runqueue is a bitmap of non-empty
//! priorities plus one FIFO queue per priority. The kernel's queues are
//! intrusive lists; ours are `BTreeMap<position, TaskId>` so that removing a
//! task from the middle (it blocked, migrated or changed priority while
//! queued) is O(log n) instead of a list search. Positions come from two
//! counters: decreasing ones for head insertion, increasing ones for tail.
//!
//! Unlike the kernel, the running task is not kept in its queue: it is taken
//! out by `pick` and put back by `put_prev` — at the head of its priority if
//! it was preempted (POSIX: "a preempted thread becomes the head of the
//! thread list for its priority"), at the tail if its RR slice expired or it
//! yielded (`requeue_task_rt()`).

use std::collections::BTreeMap;

use super::{Nanos, SchedConfig, TaskId};

/// Number of priority levels (0 is unused: RT priorities are 1..=99).
const NR_PRIOS: usize = 100;

/// One CPU's RT runqueue.
#[derive(Debug)]
pub(crate) struct RtRq {
    /// Bit `p` is set iff `queues[p]` is non-empty (`rt_prio_array.bitmap`,
    /// with "higher bit = more urgent" since we index by user priority).
    bitmap: u128,
    queues: [BTreeMap<i64, TaskId>; NR_PRIOS],
    next_head: i64,
    next_tail: i64,
    /// Tasks queued (waiting), not counting the running one.
    pub nr_queued: usize,
    /// RT tasks on this CPU including the running one (`rt_nr_running`).
    pub nr_running: usize,
}

impl Default for RtRq {
    fn default() -> Self {
        Self {
            bitmap: 0,
            queues: std::array::from_fn(|_| BTreeMap::new()),
            next_head: 0,
            next_tail: 0,
            nr_queued: 0,
            nr_running: 0,
        }
    }
}

impl RtRq {
    /// Queue `id` at priority `prio`, at the head or the tail; returns its
    /// position key (to be stored in the task for `remove`).
    pub fn insert(&mut self, id: TaskId, prio: u8, head: bool) -> i64 {
        let pos = if head {
            self.next_head -= 1;
            self.next_head
        } else {
            self.next_tail += 1;
            self.next_tail
        };
        let p = usize::from(prio).min(NR_PRIOS - 1);
        self.queues[p].insert(pos, id);
        self.bitmap |= 1 << p;
        self.nr_queued += 1;
        pos
    }

    /// Remove a queued task.
    pub fn remove(&mut self, id: TaskId, prio: u8, pos: i64) {
        let p = usize::from(prio).min(NR_PRIOS - 1);
        let removed = self.queues[p].remove(&pos);
        debug_assert_eq!(removed, Some(id), "rt queue out of sync");
        if removed.is_some() {
            self.nr_queued -= 1;
        }
        if self.queues[p].is_empty() {
            self.bitmap &= !(1 << p);
        }
    }

    /// The highest queued priority (`sched_find_first_bit()`).
    pub fn highest_prio(&self) -> Option<u8> {
        if self.bitmap == 0 {
            None
        } else {
            u8::try_from(127 - self.bitmap.leading_zeros()).ok()
        }
    }

    /// The task that would be picked: head of the highest priority queue.
    pub fn first(&self) -> Option<(TaskId, u8)> {
        let p = self.highest_prio()?;
        self.queues[usize::from(p)]
            .values()
            .next()
            .map(|id| (*id, p))
    }

    /// Whether anything else waits at `prio` (an RR task only rotates if so).
    pub fn has_queued_at(&self, prio: u8) -> bool {
        self.bitmap & (1 << usize::from(prio).min(NR_PRIOS - 1)) != 0
    }

    /// The task stored at a position, if any (for consistency checks).
    pub fn lookup(&self, prio: u8, pos: i64) -> Option<TaskId> {
        self.queues[usize::from(prio).min(NR_PRIOS - 1)]
            .get(&pos)
            .copied()
    }

    /// Whether the bitmap matches the queues (for consistency checks).
    pub fn bitmap_consistent(&self) -> bool {
        self.queues
            .iter()
            .enumerate()
            .all(|(p, q)| q.is_empty() == (self.bitmap & (1 << p) == 0))
    }

    /// Queued tasks in pick order (highest priority first, head first).
    pub fn iter(&self) -> impl Iterator<Item = (TaskId, u8)> + '_ {
        let bitmap = self.bitmap;
        (0..NR_PRIOS)
            .rev()
            .filter(move |p| bitmap & (1 << p) != 0)
            .flat_map(move |p| {
                let prio = u8::try_from(p).unwrap_or(0);
                self.queues[p].values().map(move |id| (*id, prio))
            })
    }
}

/// One CPU's RT bandwidth state (`rt_rq.rt_time` / `rt_throttled` and the
/// `rt_bandwidth` period timer, kernel/sched/rt.c).
///
/// Periods are aligned to multiples of `rt_period` from time 0 on every CPU;
/// the period "timer" is evaluated lazily whenever the CPU's time advances.
/// With `RT_RUNTIME_SHARE` off (the kernel default since 5.x) each CPU has
/// its own budget of `rt_runtime` per period.
#[derive(Debug, Default)]
pub(crate) struct RtBandwidth {
    /// RT execution time charged in the current period(s).
    pub rt_time: Nanos,
    /// Start of the current period.
    pub period_start: Nanos,
    /// RT tasks may not run on this CPU until replenished.
    pub throttled: bool,
}

/// What a bandwidth update changed.
#[derive(Debug, Default, Clone, Copy)]
pub(crate) struct BwChange {
    pub throttled: bool,
    pub unthrottled: bool,
}

impl RtBandwidth {
    /// End of the current period.
    pub fn period_end(&self, cfg: &SchedConfig) -> Nanos {
        self.period_start.saturating_add(cfg.rt_period)
    }

    /// Account the interval `[from, to)` in which the CPU ran an RT task
    /// (`is_rt`) or something else, rolling periods over on the way.
    pub fn account(&mut self, from: Nanos, to: Nanos, is_rt: bool, cfg: &SchedConfig) -> BwChange {
        let mut change = BwChange::default();
        let Some(runtime) = cfg.rt_throttle_runtime() else {
            self.throttled = false;
            return change;
        };
        let mut from = from.max(self.period_start);
        loop {
            let period_end = self.period_end(cfg);
            let end = to.min(period_end);
            if is_rt && end > from {
                // update_curr_rt(): rt_rq->rt_time += delta_exec, then
                // sched_rt_runtime_exceeded(). We throttle at `>=` (the
                // kernel says `>`) so that a timer armed at the exact budget
                // end fires the throttle instead of a zero-length re-arm.
                self.rt_time += end - from;
                if !self.throttled && self.rt_time >= runtime {
                    self.throttled = true;
                    change.throttled = true;
                }
            }
            if to < period_end {
                break;
            }
            // do_sched_rt_period_timer(): `overrun` periods passed. While an
            // RT task runs we step one period at a time so that its time is
            // charged to the right period.
            let overrun = if is_rt {
                1
            } else {
                (to - self.period_start) / cfg.rt_period
            };
            self.period_start += overrun * cfg.rt_period;
            self.rt_time -= self.rt_time.min(overrun.saturating_mul(runtime));
            if self.throttled && self.rt_time < runtime {
                self.throttled = false;
                change.unthrottled = true;
            }
            from = from.max(self.period_start);
        }
        change
    }

    /// When the running RT task will have used up the budget, if throttling
    /// is on and it has not yet.
    pub fn exhaust_time(&self, exec_start: Nanos, cfg: &SchedConfig) -> Option<Nanos> {
        let runtime = cfg.rt_throttle_runtime()?;
        if self.throttled {
            return None;
        }
        Some(exec_start.saturating_add(runtime.saturating_sub(self.rt_time)))
    }
}
