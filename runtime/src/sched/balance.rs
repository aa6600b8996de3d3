//! Multi-vCPU placement and load balancing.
//!
//! * **Wake placement** (`select_task_rq()`): CFS and idle-class tasks go
//!   back to their previous vCPU if it is idle, else to an idle allowed
//!   vCPU, else to the previous one if it is not much busier (at most one
//!   more runnable task) than the least loaded allowed vCPU, else to that
//!   one. New tasks go to the least loaded allowed vCPU, round-robin among
//!   equals (`SD_BALANCE_FORK`). RT tasks go where they can run at once: the
//!   previous vCPU if they outrank everything there, else the allowed vCPU
//!   of lowest priority (`select_task_rq_rt()` / `find_lowest_rq()`).
//! * **RT push/pull** (kernel/sched/rt.c `push_rt_tasks()`,
//!   `pull_rt_task()`): after a pick, RT tasks left waiting on a vCPU are
//!   pushed to allowed vCPUs running something less urgent; a vCPU about to
//!   run something below RT pulls the most urgent waiting RT task it may
//!   run. Together these keep "no runnable RT task waits while an allowed
//!   vCPU runs a lower priority" true after every operation (RT throttling
//!   aside).
//! * **Idle pull** (`newidle_balance()`): a vCPU with nothing to run takes
//!   the leftmost allowed CFS (then idle-class) task of the busiest vCPU.
//! * **Periodic balance** (`rebalance_domains()`, flattened to one level):
//!   while some vCPU has at least two more runnable tasks than another, move
//!   a waiting CFS/idle-class task (the rightmost, i.e. the one that would
//!   wait longest, that the affinity allows) from the busiest to the least
//!   busy. Load is the number of runnable tasks, as in the kernel's
//!   `migrate_task` case; PELT load tracking is not modelled.
//!
//! Running tasks are never moved (the kernel's active balancing is not
//! modelled), and nothing is ever queued on a vCPU outside the task's
//! affinity.

use super::params::{Class, RANK_FAIR};
use super::rq::{get, get_mut, rebase};
use super::{CpuId, CpuSet, Migration, Nanos, Scheduler, TaskId};

/// The members of `set` starting at `start` and wrapping around.
fn cyclic(set: &CpuSet, start: CpuId) -> impl Iterator<Item = CpuId> + '_ {
    set.iter()
        .filter(move |c| *c >= start)
        .chain(set.iter().filter(move |c| *c < start))
}

impl Scheduler {
    /// `select_task_rq()`: the vCPU a task should be queued on. Never outside
    /// its affinity.
    pub(crate) fn select_cpu(&mut self, id: TaskId) -> CpuId {
        let t = get(&self.tasks, id);
        let allowed = t.affinity;
        let prev = allowed.contains(t.cpu).then_some(t.cpu);
        let fresh = t.fresh;
        let rank = t.rank();
        let class = t.class();
        let fallback = allowed.first().unwrap_or(0);
        if class == Class::Rt {
            // select_task_rq_rt(): stay if we can run right away.
            if let Some(p) = prev {
                if !self.rqs[p].bw.throttled && self.cpu_rank(p) < rank {
                    return p;
                }
            }
            // find_lowest_rq(): lowest priority, unthrottled first, prefer
            // the previous CPU, then the least loaded.
            let start = prev.map_or(0, |p| p + 1);
            return cyclic(&allowed, start)
                .min_by_key(|c| {
                    (
                        self.rqs[*c].bw.throttled,
                        self.cpu_rank(*c),
                        Some(*c) != prev,
                        self.rqs[*c].nr_running(),
                    )
                })
                .unwrap_or(fallback);
        }
        let nr = |c: CpuId| self.rqs[c].nr_running();
        if !fresh {
            if let Some(p) = prev {
                if nr(p) == 0 {
                    return p;
                }
            }
        }
        let start = if fresh {
            self.fresh_rotor = (self.fresh_rotor + 1) % self.rqs.len();
            self.fresh_rotor
        } else {
            prev.map_or(0, |p| p + 1)
        };
        let best = cyclic(&allowed, start)
            .min_by_key(|c| (nr(*c), self.rqs[*c].cfs.load))
            .unwrap_or(fallback);
        if !fresh {
            if let Some(p) = prev {
                if nr(p) <= nr(best) + 1 {
                    return p;
                }
            }
        }
        best
    }

    /// Queue task `id`, already detached from `src`, on `dst`: rebase its
    /// vruntime, count the migration, and check preemption there.
    pub(crate) fn migrate_into(&mut self, id: TaskId, src: CpuId, dst: CpuId, now: Nanos) {
        let class = get(&self.tasks, id).class();
        let (src_min, dst_min) = (
            self.rqs[src].fair_rq(class).min_vruntime,
            self.rqs[dst].fair_rq(class).min_vruntime,
        );
        let t = get_mut(&mut self.tasks, id);
        let queued_at = t.queued_at;
        if class != Class::Rt {
            t.vruntime = rebase(t.vruntime, src_min, dst_min);
        } else {
            // enqueue_task_rt() on the new CPU queues at the tail.
            t.requeue_tail = true;
        }
        if src != dst {
            t.nr_migrations += 1;
            self.stats.nr_migrations += 1;
        }
        let before = self.deadline(dst);
        self.attach(dst, id);
        self.queue_insert(dst, id, now);
        // It keeps waiting: its run_delay clock does not restart.
        get_mut(&mut self.tasks, id).queued_at = queued_at;
        if !self.check_preempt(dst, id) {
            self.kick_if_earlier(dst, before);
        }
    }

    /// Move a queued task between runqueues (`detach_task()` +
    /// `attach_task()`).
    pub(crate) fn move_queued(
        &mut self,
        id: TaskId,
        src: CpuId,
        dst: CpuId,
        now: Nanos,
    ) -> Migration {
        self.update(src, now);
        self.update(dst, now);
        self.queue_remove(src, id);
        self.detach(src, id);
        self.refresh_min_vruntime(src, get(&self.tasks, id).class());
        self.migrate_into(id, src, dst, now);
        Migration {
            task: id,
            from: src,
            to: dst,
        }
    }

    /// `pull_rt_task()`: `dst` is about to pick; take the most urgent RT task
    /// waiting elsewhere that it may run and that outranks everything `dst`
    /// has, unless that task is about to run where it is.
    pub(crate) fn pull_rt(&mut self, dst: CpuId, now: Nanos) -> Option<Migration> {
        let rq = &self.rqs[dst];
        if rq.bw.throttled || self.rt_queued_total <= rq.rt.nr_queued {
            return None;
        }
        let beat = rq
            .rt
            .highest_prio()
            .map_or(RANK_FAIR, |p| RANK_FAIR + u32::from(p));
        let mut best: Option<(u32, CpuId, TaskId)> = None;
        for (src, srq) in self.rqs.iter().enumerate() {
            if src == dst || srq.rt.nr_queued == 0 {
                continue;
            }
            let src_curr = srq.curr.map_or(0, |c| get(&self.tasks, c).rank());
            for (k, (id, prio)) in srq.rt.iter().take(self.cfg.nr_migrate).enumerate() {
                let r = RANK_FAIR + u32::from(prio);
                if r <= beat || best.is_some_and(|b| r <= b.0) {
                    break;
                }
                if k == 0 && !srq.bw.throttled && r > src_curr {
                    continue; // it preempts on its own CPU
                }
                if get(&self.tasks, id).affinity.contains(dst) {
                    best = Some((r, src, id));
                    break;
                }
            }
        }
        let (_, src, id) = best?;
        Some(self.move_queued(id, src, dst, now))
    }

    /// `push_rt_tasks()`: move RT tasks waiting on `src` to allowed vCPUs
    /// that currently run something less urgent.
    pub(crate) fn push_rt(&mut self, src: CpuId, now: Nanos, out: &mut Vec<Migration>) {
        for _ in 0..self.cfg.nr_migrate {
            let srq = &self.rqs[src];
            if srq.rt.nr_queued == 0 {
                return;
            }
            let src_curr = srq.curr.map_or(0, |c| get(&self.tasks, c).rank());
            let mut found = None;
            for (k, (id, prio)) in srq.rt.iter().take(self.cfg.nr_migrate).enumerate() {
                let r = RANK_FAIR + u32::from(prio);
                if k == 0 && !srq.bw.throttled && r > src_curr {
                    continue; // it will run here next
                }
                let allowed = get(&self.tasks, id).affinity;
                let target = allowed
                    .iter()
                    .filter(|c| *c != src && !self.rqs[*c].bw.throttled)
                    .map(|c| (self.cpu_rank(c), self.rqs[c].nr_running(), c))
                    .filter(|(rank, _, _)| *rank < r)
                    .min();
                if let Some((_, _, dst)) = target {
                    found = Some((id, dst));
                    break;
                }
            }
            let Some((id, dst)) = found else { return };
            out.push(self.move_queued(id, src, dst, now));
        }
    }

    /// `newidle_balance()`: `dst` has nothing to run; pull one waiting
    /// CFS (else idle-class) task from the busiest vCPU that has one it may
    /// take.
    pub(crate) fn idle_pull(&mut self, dst: CpuId, now: Nanos) -> Option<Migration> {
        let mut srcs: Vec<CpuId> = (0..self.rqs.len())
            .filter(|c| *c != dst && self.rqs[*c].nr_running() >= 2)
            .collect();
        srcs.sort_by_key(|c| std::cmp::Reverse(self.rqs[*c].nr_running()));
        for src in srcs {
            let rq = &self.rqs[src];
            let found = rq
                .cfs
                .iter()
                .take(self.cfg.nr_migrate)
                .chain(rq.idle.iter().take(self.cfg.nr_migrate))
                .find(|id| get(&self.tasks, *id).affinity.contains(dst));
            if let Some(id) = found {
                return Some(self.move_queued(id, src, dst, now));
            }
        }
        None
    }

    /// A waiting CFS (else idle-class) task of `src` allowed on `dst`,
    /// rightmost first (`detach_tasks()` / `can_migrate_task()`).
    fn find_movable(&self, src: CpuId, dst: CpuId) -> Option<TaskId> {
        let rq = &self.rqs[src];
        let n = self.cfg.nr_migrate;
        rq.cfs
            .iter()
            .rev()
            .take(n)
            .chain(rq.idle.iter().rev().take(n))
            .find(|id| get(&self.tasks, *id).affinity.contains(dst))
    }

    /// See [`Scheduler::balance`].
    pub(crate) fn rebalance(&mut self, now: Nanos) -> Vec<Migration> {
        let mut out = Vec::new();
        let ncpus = self.rqs.len();
        for cpu in 0..ncpus {
            self.push_rt(cpu, now, &mut out);
        }
        let queued: usize = self
            .rqs
            .iter()
            .map(|rq| rq.cfs.nr_queued() + rq.idle.nr_queued())
            .sum();
        let mut order: Vec<CpuId> = (0..ncpus).collect();
        for _ in 0..queued {
            order.sort_by_key(|c| (self.rqs[*c].nr_running(), *c));
            let mut moved = None;
            'search: for &src in order.iter().rev() {
                let src_nr = self.rqs[src].nr_running();
                if src_nr < 2 {
                    break;
                }
                for &dst in &order {
                    if src_nr < self.rqs[dst].nr_running() + 2 {
                        break;
                    }
                    if let Some(id) = self.find_movable(src, dst) {
                        moved = Some((id, src, dst));
                        break 'search;
                    }
                }
            }
            let Some((id, src, dst)) = moved else { break };
            out.push(self.move_queued(id, src, dst, now));
        }
        self.stats.nr_balance_moves += out.len() as u64;
        out
    }
}
