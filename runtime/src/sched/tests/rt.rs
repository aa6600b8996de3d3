//! RT class (FIFO, RR, throttling) and the idle class, on one vCPU.

use super::*;
use crate::sched::sim::{Slice, TaskSpec};

/// The trace slices of `task`.
fn slices_of(trace: &[Slice], task: TaskId) -> Vec<(Nanos, Nanos)> {
    trace
        .iter()
        .filter(|s| s.task == task)
        .map(|s| (s.start, s.end))
        .collect()
}

#[test]
fn rt_wake_preempts_by_priority_only() {
    let mut s = sched(1, no_throttle());
    spawn(&mut s, 1, SchedParams::normal(-20), 0);
    s.pick_next(0, 0);
    s.add_task(2, SchedParams::fifo(10), CpuSet::single(0))
        .unwrap();
    assert!(s.wake(2, MS).unwrap().unwrap().resched, "RT beats any CFS");
    assert_eq!(s.pick_next(0, MS), Some(2));
    s.add_task(3, SchedParams::fifo(10), CpuSet::single(0))
        .unwrap();
    assert!(
        !s.wake(3, MS).unwrap().unwrap().resched,
        "equal priority waits"
    );
    s.add_task(4, SchedParams::round_robin(9), CpuSet::single(0))
        .unwrap();
    assert!(
        !s.wake(4, MS).unwrap().unwrap().resched,
        "lower priority waits"
    );
    s.add_task(5, SchedParams::fifo(11), CpuSet::single(0))
        .unwrap();
    assert!(
        s.wake(5, MS).unwrap().unwrap().resched,
        "higher priority preempts"
    );
    assert_eq!(s.pick_next(0, MS), Some(5));
    // POSIX: the preempted task 2 is at the head of priority 10, before 3.
    s.block(5, 2 * MS).unwrap();
    assert_eq!(s.pick_next(0, 2 * MS), Some(2));
    s.block(2, 3 * MS).unwrap();
    assert_eq!(s.pick_next(0, 3 * MS), Some(3));
    s.block(3, 4 * MS).unwrap();
    assert_eq!(s.pick_next(0, 4 * MS), Some(4));
    s.block(4, 5 * MS).unwrap();
    assert_eq!(
        s.pick_next(0, 5 * MS),
        Some(1),
        "CFS only when no RT is runnable"
    );
}

#[test]
fn fifo_runs_until_it_blocks_or_yields() {
    let mut sim = simulator(1, no_throttle());
    let a = sim
        .spawn(
            TaskSpec::new(SchedParams::fifo(10))
                .run(300 * MS)
                .yield_now()
                .run(200 * MS)
                .sleep(100 * MS)
                .run(50 * MS),
        )
        .unwrap();
    let c = sim
        .spawn(TaskSpec::hog(SchedParams::normal(-20), 10 * SEC))
        .unwrap();
    let b = sim
        .spawn(TaskSpec::hog(SchedParams::fifo(10), SEC).starting_at(MS))
        .unwrap();
    sim.run_until(3 * SEC).unwrap();
    let trace = sim.trace();
    // A runs 300 ms through every tick; its yield hands over to B (same
    // priority), which runs its whole second; then A's 200 ms; A sleeps and
    // CFS gets the CPU until A wakes and preempts it.
    assert_eq!(
        slices_of(trace, a),
        vec![
            (0, 300 * MS),
            (1300 * MS, 1500 * MS),
            (1600 * MS, 1650 * MS)
        ]
    );
    assert_eq!(slices_of(trace, b), vec![(300 * MS, 1300 * MS)]);
    assert_eq!(time_in(&sim, c, 0, 1650 * MS), 100 * MS);
    assert_eq!(sim.task_stats(a).unwrap().finished_at, Some(1650 * MS));
}

#[test]
fn rr_rotates_every_timeslice() {
    let mut sim = simulator(1, no_throttle());
    let a = sim
        .spawn(TaskSpec::hog(SchedParams::round_robin(5), SEC))
        .unwrap();
    let b = sim
        .spawn(TaskSpec::hog(SchedParams::round_robin(5), SEC))
        .unwrap();
    let c = sim
        .spawn(TaskSpec::hog(SchedParams::normal(0), SEC))
        .unwrap();
    sim.run_until(3 * SEC).unwrap();
    let trace = sim.trace();
    let rr: Vec<&Slice> = trace.iter().filter(|s| s.task != c).collect();
    assert_eq!(rr.len(), 20);
    for (i, s) in rr.iter().enumerate() {
        let i = i as Nanos;
        assert_eq!((s.start, s.end), (i * 100 * MS, (i + 1) * 100 * MS));
        assert_eq!(s.task, [a, b][i as usize % 2]);
    }
    assert_eq!(
        time_in(&sim, c, 0, 2 * SEC),
        0,
        "CFS starved without throttling"
    );
    assert_eq!(time_in(&sim, c, 2 * SEC, 3 * SEC), SEC);
}

#[test]
fn lone_rr_task_keeps_running() {
    let mut sim = simulator(1, no_throttle());
    let a = sim
        .spawn(TaskSpec::hog(SchedParams::round_robin(5), SEC))
        .unwrap();
    sim.run_to_completion(10 * SEC).unwrap();
    assert_eq!(slices_of(sim.trace(), a), vec![(0, SEC)]);
}

#[test]
fn rt_throttling_leaves_cfs_five_percent() {
    let mut sim = simulator(1, SchedConfig::default());
    let rt = sim
        .spawn(TaskSpec::hog(SchedParams::fifo(50), 100 * SEC))
        .unwrap();
    let cfs = sim
        .spawn(TaskSpec::hog(SchedParams::normal(0), 100 * SEC))
        .unwrap();
    sim.run_until(5 * SEC).unwrap();
    for k in 0..5 {
        let (from, to) = (k * SEC, (k + 1) * SEC);
        assert_eq!(time_in(&sim, cfs, from, to), 50 * MS, "period {k}");
        assert_eq!(time_in(&sim, rt, from, to), 950 * MS, "period {k}");
    }
    // The throttle hits exactly at 950 ms into each period.
    assert!(sim
        .trace()
        .iter()
        .filter(|s| s.task == cfs)
        .all(|s| s.start % SEC == 950 * MS && s.end % SEC == 0));
    assert_eq!(sim.scheduler().stats().nr_rt_throttled, 5);
}

#[test]
fn throttled_cpu_idles_rather_than_run_rt() {
    let cfg = SchedConfig {
        rt_runtime: Some(30 * MS),
        rt_period: 100 * MS,
        ..SchedConfig::default()
    };
    let mut s = sched(1, cfg);
    spawn(&mut s, 1, SchedParams::fifo(1), 0);
    assert_eq!(s.pick_next(0, 0), Some(1));
    assert_eq!(s.slice_deadline(0), Some(30 * MS));
    let t = s.tick(0, 30 * MS);
    assert!(t.resched);
    assert!(s.cpu_info(0).rt_throttled);
    assert_eq!(s.pick_next(0, 30 * MS), None);
    assert_eq!(
        s.slice_deadline(0),
        Some(100 * MS),
        "wake up at the period end"
    );
    let t = s.tick(0, 100 * MS);
    assert!(t.resched && !s.cpu_info(0).rt_throttled);
    assert_eq!(s.pick_next(0, 100 * MS), Some(1));
    assert_eq!(s.slice_deadline(0), Some(130 * MS));
}

#[test]
fn idle_class_runs_only_when_nothing_else() {
    let mut sim = simulator(1, SchedConfig::default());
    let idle = sim
        .spawn(TaskSpec::hog(SchedParams::idle(), 100 * SEC))
        .unwrap();
    let n = sim
        .spawn(
            TaskSpec::new(SchedParams::normal(19))
                .run(30 * MS)
                .sleep(20 * MS)
                .repeat(20),
        )
        .unwrap();
    sim.set_observer(move |s, _| {
        let info = s.cpu_info(0);
        if info.current == Some(idle) && info.nr_fair > 0 {
            return Err(format!(
                "idle-class task runs while CFS is runnable: {info:?}"
            ));
        }
        Ok(())
    });
    sim.run_until(2 * SEC).unwrap();
    // The CFS task is never delayed by the idle-class one, which gets
    // exactly the CFS task's sleeps (it exits when its last sleep ends).
    assert_eq!(sim.task_stats(n).unwrap().finished_at, Some(SEC));
    assert_eq!(time_in(&sim, idle, 0, SEC), 20 * 20 * MS);
    assert_eq!(time_in(&sim, idle, SEC, 2 * SEC), SEC);
}

#[test]
fn idle_class_tasks_share_fairly() {
    let mut sim = simulator(1, SchedConfig::default());
    let a = sim
        .spawn(TaskSpec::hog(SchedParams::idle(), 100 * SEC))
        .unwrap();
    let b = sim
        .spawn(TaskSpec::hog(SchedParams::idle(), 100 * SEC))
        .unwrap();
    sim.run_until(10 * SEC).unwrap();
    let ta = sim.task_stats(a).unwrap().cpu_time as f64;
    let tb = sim.task_stats(b).unwrap().cpu_time as f64;
    assert_close(ta / tb, 1.0, 0.01, "two SCHED_IDLE tasks");
}

#[test]
fn policy_changes_move_between_classes() {
    let mut s = sched(1, no_throttle());
    spawn(&mut s, 1, SchedParams::normal(0), 0);
    spawn(&mut s, 2, SchedParams::normal(0), 0);
    let running = s.pick_next(0, 0).unwrap();
    let queued = 3 - running;
    // A queued CFS task that becomes RT preempts the CFS task at once.
    s.set_params(queued, SchedParams::fifo(1), MS).unwrap();
    assert!(s.need_resched(0));
    assert_eq!(s.pick_next(0, MS), Some(queued));
    // Back to CFS: it reschedules and keeps a sane vruntime.
    s.set_params(queued, SchedParams::normal(0), 2 * MS)
        .unwrap();
    assert!(s.need_resched(0));
    s.pick_next(0, 2 * MS);
    s.check_invariants().unwrap();
    let v = s.task_info(queued).unwrap().vruntime;
    let min = s.cpu_info(0).min_vruntime;
    assert!(v.abs_diff(min) <= 6 * MS, "vruntime {v} vs min {min}");
    // Raising an RT task's priority while it runs does not reschedule;
    // lowering it does.
    s.set_params(running, SchedParams::fifo(5), 3 * MS).unwrap();
    s.pick_next(0, 3 * MS);
    assert_eq!(s.current(0), Some(running));
    s.set_params(running, SchedParams::fifo(7), 3 * MS).unwrap();
    assert!(!s.need_resched(0));
    s.set_params(running, SchedParams::fifo(2), 3 * MS).unwrap();
    assert!(s.need_resched(0));
    s.check_invariants().unwrap();
}

/// Woken RT tasks queue at the tail of their priority: the first woken runs
/// first once the running one blocks, and a yield hands over to the next.
#[test]
fn woken_rt_tasks_queue_at_the_tail() {
    let mut s = sched(1, no_throttle());
    spawn(&mut s, 1, SchedParams::fifo(10), 0);
    assert_eq!(s.pick_next(0, 0), Some(1));
    spawn(&mut s, 2, SchedParams::fifo(10), MS);
    spawn(&mut s, 3, SchedParams::fifo(10), 2 * MS);
    assert!(!s.need_resched(0), "equal priority does not preempt");
    s.block(1, 3 * MS).unwrap();
    assert_eq!(s.pick_next(0, 3 * MS), Some(2));
    s.yield_now(2, 4 * MS).unwrap();
    assert_eq!(s.pick_next(0, 4 * MS), Some(3));
    s.yield_now(3, 5 * MS).unwrap();
    assert_eq!(s.pick_next(0, 5 * MS), Some(2));
    s.check_invariants().unwrap();
}
