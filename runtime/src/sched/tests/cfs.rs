//! CFS: slices, placement, wake-up preemption, and weight-proportional
//! shares over long simulated runs.

use super::*;
use crate::sched::sim::TaskSpec;

/// Long simulated run of CPU hogs on one vCPU; returns each one's share.
fn shares(nices: &[i8], horizon: Nanos) -> Vec<f64> {
    let mut sim = simulator(1, SchedConfig::default());
    let ids: Vec<TaskId> = nices
        .iter()
        .map(|n| {
            sim.spawn(TaskSpec::hog(SchedParams::normal(*n), 1000 * SEC))
                .unwrap()
        })
        .collect();
    sim.run_until(horizon).unwrap();
    let times: Vec<f64> = ids
        .iter()
        .map(|id| sim.task_stats(*id).unwrap().cpu_time as f64)
        .collect();
    let total: f64 = times.iter().sum();
    assert_eq!(total as Nanos, horizon, "the CPU never idles");
    // The scheduler's own accounting agrees with what the simulator saw, up
    // to the last unaccounted slice.
    for (id, t) in ids.iter().zip(&times) {
        let acc = sim.scheduler().task_info(*id).unwrap().sum_exec_runtime as f64;
        assert!(
            (acc - t).abs() <= 10.0 * MS as f64,
            "accounting {acc} vs {t}"
        );
    }
    times.iter().map(|t| t / total).collect()
}

#[test]
fn nice0_vs_nice5_share_matches_weights() {
    let s = shares(&[0, 5], 20 * SEC);
    // 1024 : 335 ≈ 3.06 : 1
    assert_close(s[0] / s[1], 1024.0 / 335.0, 0.01, "nice 0 / nice 5");
}

#[test]
fn many_tasks_share_by_weight() {
    let nices = [-5, -3, 0, 0, 2, 7, 10, 19];
    let weights: Vec<f64> = nices
        .iter()
        .map(|n| SchedParams::normal(*n).weight() as f64)
        .collect();
    let total: f64 = weights.iter().sum();
    let s = shares(&nices, 30 * SEC);
    for (i, share) in s.iter().enumerate() {
        assert_close(
            *share,
            weights[i] / total,
            0.01,
            &format!("nice {}", nices[i]),
        );
    }
}

#[test]
fn slices_follow_sched_slice() {
    let mut s = sched(1, SchedConfig::default());
    spawn(&mut s, 1, SchedParams::normal(0), 0);
    spawn(&mut s, 2, SchedParams::normal(0), 0);
    let cur = s.pick_next(0, 0).unwrap();
    // Two equal tasks: 6 ms latency halved.
    assert_eq!(s.slice_deadline(0), Some(3 * MS));
    assert!(!s.tick(0, 3 * MS - 1).resched);
    let t = s.tick(0, 3 * MS);
    assert!(t.resched);
    let next = s.pick_next(0, 3 * MS).unwrap();
    assert_ne!(cur, next);
    // Ten tasks: period stretches to 10 × 0.75 ms, slices are 0.75 ms.
    for id in 3..=10 {
        spawn(&mut s, id, SchedParams::normal(0), 3 * MS);
    }
    let now = 3 * MS;
    s.pick_next(0, now);
    assert_eq!(s.slice_deadline(0).map(|d| d - now), Some(750_000));
    // A lone task has no deadline.
    let mut s = sched(1, SchedConfig::default());
    spawn(&mut s, 1, SchedParams::normal(0), 0);
    s.pick_next(0, 0);
    assert_eq!(s.slice_deadline(0), None);
}

#[test]
fn new_task_placement_is_start_debit() {
    let mut s = sched(1, SchedConfig::default());
    spawn(&mut s, 1, SchedParams::normal(0), 0);
    s.pick_next(0, 0);
    s.tick(0, 10 * MS);
    let min = s.cpu_info(0).min_vruntime;
    spawn(&mut s, 2, SchedParams::normal(0), 10 * MS);
    // place_entity(initial): min_vruntime + vslice, vslice = 6 ms × 1024/2048.
    assert_eq!(s.task_info(2).unwrap().vruntime, min + 3 * MS);
}

/// Two nice-0 tasks on one vCPU; one runs `ran` while the other sleeps.
fn sleeper_setup(sleeper: SchedParams) -> Scheduler {
    let mut s = sched(1, SchedConfig::default());
    spawn(&mut s, 1, SchedParams::normal(0), 0);
    spawn(&mut s, 2, sleeper, 0);
    s.block(2, 0).unwrap();
    assert_eq!(s.pick_next(0, 0), Some(1));
    s
}

#[test]
fn sleeper_credit_and_wakeup_preemption() {
    let mut s = sleeper_setup(SchedParams::normal(0));
    s.tick(0, 50 * MS);
    let min = s.cpu_info(0).min_vruntime;
    let r = s.wake(2, 50 * MS).unwrap().unwrap();
    // place_entity(): max(vruntime, min_vruntime - latency/2).
    assert_eq!(s.task_info(2).unwrap().vruntime, min - 3 * MS);
    assert!(r.resched, "3 ms ahead > 1 ms wake-up granularity");
    assert_eq!(s.pick_next(0, 50 * MS), Some(2));
    // Task 2 runs until it is 0.5 ms ahead of task 1 in vruntime; then task
    // 1 sleeps briefly and wakes: within the granularity, no preemption.
    let t = 53 * MS + 500_000;
    s.tick(0, t);
    let v1 = s.task_info(1).unwrap().vruntime;
    let v2 = s.task_info(2).unwrap().vruntime;
    assert_eq!(v2, v1 + 500_000);
    s.block(1, t).unwrap();
    let r = s.wake(1, t).unwrap().unwrap();
    assert_eq!(
        s.task_info(1).unwrap().vruntime,
        v1,
        "no credit beyond own vruntime"
    );
    assert!(!r.resched, "0.5 ms < 1 ms granularity");
}

#[test]
fn wakeup_granularity_scales_with_the_woken_weight() {
    // Woken nice-5 task: gran = 1 ms × 1024 / 335 ≈ 3.06 ms of vruntime, so
    // the full 3 ms sleeper credit does not preempt.
    let mut s = sleeper_setup(SchedParams::normal(5));
    s.tick(0, 50 * MS);
    let r = s.wake(2, 50 * MS).unwrap().unwrap();
    assert!(!r.resched);
    // Woken nice −5 task: gran ≈ 0.33 ms, preempts.
    let mut s = sleeper_setup(SchedParams::normal(-5));
    s.tick(0, 50 * MS);
    assert!(s.wake(2, 50 * MS).unwrap().unwrap().resched);
}

#[test]
fn batch_never_wake_preempts() {
    let mut s = sleeper_setup(SchedParams::batch(0));
    s.tick(0, 50 * MS);
    let r = s.wake(2, 50 * MS).unwrap().unwrap();
    assert!(
        !r.resched,
        "SCHED_BATCH is only preempted/preempting at ticks"
    );
    // ...but it does get the CPU at the next tick check.
    let t = s.tick(0, 51 * MS);
    assert!(t.resched);
    assert_eq!(s.pick_next(0, 51 * MS), Some(2));
}

#[test]
fn yield_prefers_a_close_competitor() {
    let mut s = sched(1, SchedConfig::default());
    spawn(&mut s, 1, SchedParams::normal(0), 0);
    spawn(&mut s, 2, SchedParams::normal(0), 0);
    // Task 2 was placed 3 ms left of task 1 (START_DEBIT) and runs first;
    // after 2.5 ms it is within the wake-up granularity of task 1.
    let a = s.pick_next(0, 0).unwrap();
    assert_eq!(a, 2);
    let t = 2 * MS + 500_000;
    assert!(!s.tick(0, t).resched);
    s.yield_now(a, t).unwrap();
    assert!(s.need_resched(0));
    let b = s.pick_next(0, t).unwrap();
    assert_ne!(a, b, "skip buddy");
    // A lone task that yields keeps running.
    let mut s = sched(1, SchedConfig::default());
    spawn(&mut s, 1, SchedParams::normal(0), 0);
    s.pick_next(0, 0);
    s.yield_now(1, MS).unwrap();
    assert_eq!(s.pick_next(0, MS), Some(1));
}

#[test]
fn nice_change_reweights() {
    let mut s = sched(1, SchedConfig::default());
    spawn(&mut s, 1, SchedParams::normal(0), 0);
    spawn(&mut s, 2, SchedParams::normal(0), 0);
    assert_eq!(s.cpu_info(0).fair_load, 2048);
    s.set_params(1, SchedParams::normal(5), 0).unwrap();
    assert_eq!(s.cpu_info(0).fair_load, 1024 + 335);
    s.check_invariants().unwrap();
}

#[test]
fn queueing_behind_a_lone_task_kicks_its_timer() {
    let mut s = sched(1, SchedConfig::default());
    spawn(&mut s, 1, SchedParams::normal(0), 0);
    s.pick_next(0, 0);
    s.take_kicks();
    assert_eq!(s.slice_deadline(0), None);
    // A new task is placed after the running one (START_DEBIT): no
    // preemption, but the running task now has a slice to end.
    let r = s.wake_new(2, MS);
    assert!(!r.resched);
    assert_eq!(s.take_kicks(), CpuSet::single(0));
    assert_eq!(s.slice_deadline(0), Some(3 * MS));
    // A third one shortens the slice to 2 ms, 1 ms of which has run.
    assert!(!s.wake_new(3, MS).resched);
    assert_eq!(s.take_kicks(), CpuSet::single(0));
    assert_eq!(s.slice_deadline(0), Some(2 * MS));
    // Past sched_nr_latency the slice stays at the minimum granularity, so
    // more tasks do not move the deadline and need no kick.
    for id in 4..=9 {
        s.wake_new(id, MS);
    }
    s.pick_next(0, MS);
    s.take_kicks();
    assert_eq!(s.slice_deadline(0), Some(MS + 750_000));
    assert!(!s.wake_new(10, MS).resched);
    assert!(s.take_kicks().is_empty());
    assert_eq!(s.slice_deadline(0), Some(MS + 750_000));
}

trait WakeNew {
    fn wake_new(&mut self, id: TaskId, now: Nanos) -> crate::sched::WakeResult;
}

impl WakeNew for Scheduler {
    fn wake_new(&mut self, id: TaskId, now: Nanos) -> crate::sched::WakeResult {
        self.add_task(id, SchedParams::normal(0), CpuSet::single(0))
            .unwrap();
        self.wake(id, now).unwrap().unwrap()
    }
}

/// With measured run time, only what `account` reports is charged: the
/// wall time a task held its vCPU without running does not count, shares
/// follow the reported time, and slice deadlines restart at each report.
#[test]
fn measured_exec_charges_only_reported_time() {
    let mut s = sched(1, SchedConfig::default());
    s.set_measured_exec(true);
    spawn(&mut s, 1, SchedParams::normal(0), 0);
    spawn(&mut s, 2, SchedParams::normal(0), 0);
    let first = s.pick_next(0, 0).unwrap();
    // 10 ms of wall time pass, but the task ran only 1 ms.
    s.account(0, 10 * MS, MS);
    assert_eq!(s.task_runtime(first, 10 * MS), Some(MS));
    assert!(
        !s.tick(0, 10 * MS).resched,
        "1 ms is less than a 3 ms slice"
    );
    // Its slice deadline assumes it runs from the report on.
    assert_eq!(s.slice_deadline(0), Some(12 * MS));
    s.account(0, 13 * MS, 2 * MS);
    assert!(s.tick(0, 13 * MS).resched, "3 ms ran: the slice is used up");
    let second = s.pick_next(0, 13 * MS).unwrap();
    assert_ne!(first, second);
    // A report of nothing keeps the second task's vruntime behind.
    s.account(0, 20 * MS, 0);
    assert_eq!(s.task_runtime(second, 20 * MS), Some(0));
    assert_eq!(s.task_info(first).unwrap().sum_exec_runtime, 3 * MS);
    s.check_invariants().unwrap();
}
