//! The small types and the error paths.

use super::super::weights::{nice_to_weight, NICE_0_LOAD, SCHED_PRIO_TO_WEIGHT, WEIGHT_IDLEPRIO};
use super::*;
use crate::sched::{Policy, SchedError, MAX_CPUS};

#[test]
fn weight_table_is_the_kernels() {
    assert_eq!(SCHED_PRIO_TO_WEIGHT.len(), 40);
    assert_eq!(nice_to_weight(0), NICE_0_LOAD);
    assert_eq!(nice_to_weight(-20), 88761);
    assert_eq!(nice_to_weight(5), 335);
    assert_eq!(nice_to_weight(19), 15);
    for w in SCHED_PRIO_TO_WEIGHT.windows(2) {
        let ratio = f64::from(w[0]) / f64::from(w[1]);
        assert!((1.19..1.31).contains(&ratio), "step ratio {ratio}");
    }
    assert_eq!(SchedParams::idle().weight(), WEIGHT_IDLEPRIO);
}

#[test]
fn cpuset_basics() {
    let mut s = CpuSet::new();
    assert!(s.is_empty());
    for c in [0, 1, 2, 3, 8, 63, 64, 1023] {
        s.insert(c);
    }
    s.insert(MAX_CPUS); // ignored
    assert_eq!(s.len(), 8);
    assert!(s.contains(64) && !s.contains(65) && !s.contains(MAX_CPUS));
    assert_eq!(format!("{s:?}"), "{0-3,8,63-64,1023}");
    s.remove(63);
    assert_eq!(s.iter().collect::<Vec<_>>(), vec![0, 1, 2, 3, 8, 64, 1023]);
    assert_eq!(CpuSet::from_words(s.as_words()), s);
    assert_eq!(
        CpuSet::first_n(3).intersection(&CpuSet::single(2)),
        CpuSet::single(2)
    );
    assert_eq!(
        CpuSet::single(1).union(&CpuSet::single(0)),
        CpuSet::first_n(2)
    );
    assert_eq!(CpuSet::first_n(2000).len(), MAX_CPUS);
}

#[test]
fn params_validation() {
    assert!(SchedParams::fifo(1).validate().is_ok());
    assert!(SchedParams::round_robin(99).validate().is_ok());
    assert!(matches!(
        SchedParams::fifo(0).validate(),
        Err(SchedError::InvalidPriority { .. })
    ));
    assert!(SchedParams::fifo(100).validate().is_err());
    let mut p = SchedParams::normal(0);
    p.rt_priority = 5;
    assert!(p.validate().is_err());
    assert_eq!(
        SchedParams::normal(20).validate(),
        Err(SchedError::InvalidNice(20))
    );
    assert!(SchedParams::normal(-21).validate().is_err());
    for raw in [0, 1, 2, 3, 5] {
        assert_eq!(Policy::from_raw(raw).unwrap().as_raw(), raw);
    }
    assert_eq!(Policy::from_raw(6), Err(SchedError::InvalidPolicy(6)));
    assert_eq!(Policy::from_raw(4), Err(SchedError::InvalidPolicy(4)));
}

#[test]
fn config_validation() {
    assert!(Scheduler::new(0, SchedConfig::default()).is_err());
    assert!(Scheduler::new(MAX_CPUS + 1, SchedConfig::default()).is_err());
    assert!(Scheduler::new(MAX_CPUS, SchedConfig::default()).is_ok());
    let bad = SchedConfig {
        rt_runtime: Some(2 * SEC),
        ..SchedConfig::default()
    };
    assert!(matches!(
        Scheduler::new(1, bad),
        Err(SchedError::InvalidConfig(_))
    ));
    let scaled = SchedConfig::linux_scaled(8);
    assert_eq!(scaled.latency, 24 * MS);
    assert_eq!(scaled.min_granularity, 3 * MS);
    assert_eq!(SchedConfig::linux_scaled(1), SchedConfig::default());
}

#[test]
fn error_paths() {
    let mut s = sched(2, SchedConfig::default());
    assert_eq!(
        s.add_task(1, SchedParams::default(), CpuSet::single(5)),
        Err(SchedError::EmptyAffinity)
    );
    s.add_task(1, SchedParams::default(), CpuSet::first_n(2))
        .unwrap();
    assert_eq!(
        s.add_task(1, SchedParams::default(), CpuSet::first_n(2)),
        Err(SchedError::TaskExists(1))
    );
    assert!(s
        .add_task(2, SchedParams::fifo(0), CpuSet::first_n(2))
        .is_err());
    assert_eq!(s.wake(9, 0), Err(SchedError::NoSuchTask(9)));
    assert_eq!(s.block(1, 0), Err(SchedError::NotRunnable(1)));
    assert_eq!(s.yield_now(1, 0), Err(SchedError::NotRunning(1)));
    assert!(s.wake(1, 0).unwrap().is_some());
    assert_eq!(s.wake(1, 0), Ok(None), "second wake is a no-op");
    assert_eq!(
        s.yield_now(1, 0),
        Err(SchedError::NotRunning(1)),
        "queued, not running"
    );
    assert_eq!(
        s.set_affinity(1, CpuSet::single(7), 0),
        Err(SchedError::EmptyAffinity)
    );
    assert!(s.set_params(1, SchedParams::round_robin(100), 0).is_err());
    assert_eq!(s.remove_task(9, 0), Err(SchedError::NoSuchTask(9)));
    assert_eq!(s.task_info(1).unwrap().affinity, CpuSet::first_n(2));
    s.check_invariants().unwrap();
}

#[test]
fn rr_interval_reports_slices() {
    let mut s = sched(1, SchedConfig::default());
    spawn(&mut s, 1, SchedParams::round_robin(3), 0);
    spawn(&mut s, 2, SchedParams::fifo(3), 0);
    spawn(&mut s, 3, SchedParams::normal(0), 0);
    spawn(&mut s, 4, SchedParams::normal(5), 0);
    assert_eq!(s.rr_interval(1).unwrap(), 100 * MS);
    assert_eq!(s.rr_interval(2).unwrap(), 0);
    // Two CFS tasks, weights 1024 and 335: 6 ms split 1024:335.
    assert_eq!(s.rr_interval(3).unwrap(), 6 * MS * 1024 / 1359);
    assert_eq!(s.rr_interval(4).unwrap(), 6 * MS * 335 / 1359);
}

#[test]
fn remove_running_task_reschedules() {
    let mut s = sched(1, SchedConfig::default());
    spawn(&mut s, 1, SchedParams::normal(0), 0);
    spawn(&mut s, 2, SchedParams::normal(0), 0);
    let first = s.pick_next(0, 0).unwrap();
    let info = s.remove_task(first, 5 * MS).unwrap();
    assert_eq!(info.sum_exec_runtime, 5 * MS);
    assert!(s.need_resched(0));
    let second = s.pick_next(0, 5 * MS).unwrap();
    assert_ne!(first, second);
    assert_eq!(s.nr_tasks(), 1);
    s.check_invariants().unwrap();
}

#[test]
fn accounting_and_switch_counters() {
    let mut s = sched(1, SchedConfig::default());
    spawn(&mut s, 1, SchedParams::normal(0), 0);
    assert_eq!(s.pick_next(0, 0), Some(1));
    assert_eq!(s.task_runtime(1, 2 * MS), Some(2 * MS));
    s.block(1, 4 * MS).unwrap();
    assert_eq!(s.pick_next(0, 4 * MS), None);
    s.wake(1, 10 * MS).unwrap();
    assert_eq!(s.pick_next(0, 11 * MS), Some(1));
    s.tick(0, 12 * MS);
    let t = s.task_info(1).unwrap();
    assert_eq!(t.sum_exec_runtime, 5 * MS);
    assert_eq!(t.run_delay, MS);
    assert_eq!(t.nr_switches, 2);
    assert_eq!(t.nr_voluntary_switches, 1);
    assert_eq!(t.nr_wakeups, 2);
    assert_eq!(t.state, TaskState::Running(0));
    assert_eq!(s.stats().nr_switches, 2);
}

#[test]
fn time_going_backwards_is_clamped() {
    let mut s = sched(1, SchedConfig::default());
    spawn(&mut s, 1, SchedParams::normal(0), 0);
    s.pick_next(0, 0);
    s.tick(0, 10 * MS);
    s.tick(0, 5 * MS);
    assert_eq!(s.task_info(1).unwrap().sum_exec_runtime, 10 * MS);
    s.block(1, 7 * MS).unwrap();
    assert_eq!(s.task_info(1).unwrap().sum_exec_runtime, 10 * MS);
    s.check_invariants().unwrap();
}
