//! Several vCPUs: placement, affinity, balancing, RT push/pull.

use super::*;
use crate::sched::sim::{Step, TaskSpec};

#[test]
fn balance_spreads_2n_tasks_over_n_cpus() {
    let n = 4;
    let mut s = sched(n, SchedConfig::default());
    let ids: Vec<TaskId> = (1..=2 * n as TaskId).collect();
    for &id in &ids {
        s.add_task(id, SchedParams::normal(0), CpuSet::single(0))
            .unwrap();
        s.wake(id, 0).unwrap();
    }
    settle(&mut s, 0);
    assert_eq!(s.cpu_info(0).nr_running, 2 * n);
    for &id in &ids {
        s.set_affinity(id, CpuSet::first_n(n), MS).unwrap();
    }
    assert_eq!(
        s.cpu_info(0).nr_running,
        2 * n,
        "widening alone moves nothing"
    );
    let moves = s.balance(MS);
    assert_eq!(moves.len(), 2 * n - 2);
    assert!(moves.iter().all(|m| m.from == 0 && m.to != 0));
    for c in 0..n {
        assert_eq!(s.cpu_info(c).nr_running, 2, "cpu {c}");
    }
    let migrations: u64 = ids
        .iter()
        .map(|id| s.task_info(*id).unwrap().nr_migrations)
        .sum();
    assert_eq!(migrations, moves.len() as u64);
    assert_eq!(s.stats().nr_balance_moves, moves.len() as u64);
    settle(&mut s, MS);
    check_state(&s, &ids, true).unwrap();
    assert!(s.balance(2 * MS).is_empty(), "balanced stays balanced");
}

#[test]
fn busy_tasks_spread_and_share_evenly_in_simulation() {
    let n = 4;
    let mut sim = simulator(n, SchedConfig::default());
    let ids: Vec<TaskId> = (0..2 * n)
        .map(|_| {
            let spec = TaskSpec::new(SchedParams::normal(0))
                .affinity(CpuSet::single(0))
                .step(Step::SetAffinity(CpuSet::first_n(n)))
                .run(100 * SEC);
            sim.spawn(spec).unwrap()
        })
        .collect();
    sim.run_until(10 * SEC).unwrap();
    for id in ids {
        let t = sim.task_stats(id).unwrap().cpu_time as f64;
        assert_close(t, 5.0 * SEC as f64, 0.01, &format!("task {id}"));
    }
}

#[test]
fn wake_placement_prefers_idle_then_previous() {
    let mut s = sched(2, SchedConfig::default());
    spawn(&mut s, 1, SchedParams::normal(0), 0);
    settle(&mut s, 0);
    let c1 = s.task_info(1).unwrap().cpu;
    s.add_task(2, SchedParams::normal(0), CpuSet::first_n(2))
        .unwrap();
    let r = s.wake(2, 0).unwrap().unwrap();
    assert_ne!(r.cpu, c1, "new task goes to the idle cpu");
    assert!(r.resched);
    settle(&mut s, 0);
    // Task 2 sleeps and wakes: its previous cpu is idle again, it goes back.
    s.block(2, MS).unwrap();
    settle(&mut s, MS);
    let r = s.wake(2, 2 * MS).unwrap().unwrap();
    assert_eq!(r.cpu, 1 - c1);
    assert_eq!(s.task_info(2).unwrap().nr_migrations, 0);
    settle(&mut s, 2 * MS);
    // Task 2 sleeps; its cpu gets three busy tasks; it wakes on the other
    // (busy, but less so) cpu and counts a migration.
    s.block(2, 3 * MS).unwrap();
    settle(&mut s, 3 * MS);
    for id in [3, 4, 5] {
        s.add_task(id, SchedParams::normal(0), CpuSet::single(1 - c1))
            .unwrap();
        s.wake(id, 3 * MS).unwrap();
    }
    settle(&mut s, 3 * MS);
    let r = s.wake(2, 4 * MS).unwrap().unwrap();
    assert_eq!(r.cpu, c1);
    assert_eq!(s.task_info(2).unwrap().nr_migrations, 1);
    settle(&mut s, 4 * MS);
    check_state(&s, &[1, 2, 3, 4, 5], true).unwrap();
}

#[test]
fn affinity_changes_move_queued_and_running_tasks() {
    let mut s = sched(2, SchedConfig::default());
    for id in [1, 2] {
        s.add_task(id, SchedParams::normal(0), CpuSet::single(0))
            .unwrap();
        s.wake(id, 0).unwrap();
    }
    settle(&mut s, 0);
    let running = s.current(0).unwrap();
    let queued = 3 - running;
    s.set_affinity(queued, CpuSet::single(1), MS).unwrap();
    assert_eq!(s.task_info(queued).unwrap().state, TaskState::Queued(1));
    assert_eq!(s.task_info(queued).unwrap().nr_migrations, 1);
    settle(&mut s, MS);
    assert_eq!(s.current(1), Some(queued));
    // The running task may not stay: its cpu reschedules and it moves.
    s.set_affinity(running, CpuSet::single(1), 2 * MS).unwrap();
    assert!(s.need_resched(0));
    assert_eq!(s.pick_next(0, 2 * MS), None);
    assert_eq!(s.task_info(running).unwrap().state, TaskState::Queued(1));
    settle(&mut s, 2 * MS);
    check_state(&s, &[1, 2], true).unwrap();
}

#[test]
fn idle_cpu_pulls_from_the_busiest() {
    let mut s = sched(2, SchedConfig::default());
    for id in 1..=3 {
        s.add_task(id, SchedParams::normal(0), CpuSet::single(0))
            .unwrap();
        s.wake(id, 0).unwrap();
        s.set_affinity(id, CpuSet::first_n(2), 0).unwrap();
    }
    settle(&mut s, 0);
    assert_eq!(s.cpu_info(0).nr_running, 3);
    assert!(s.pick_next(1, MS).is_some(), "cpu 1 pulls");
    assert_eq!(s.cpu_info(0).nr_running, 2);
    assert_eq!(s.stats().nr_migrations, 1);
}

#[test]
fn rt_tasks_are_pushed_and_pulled_to_lower_priority_cpus() {
    let mut s = sched(2, no_throttle());
    let all = CpuSet::first_n(2);
    // cpu 0: FIFO 10 (task 1); cpu 1: CFS (task 2).
    s.add_task(1, SchedParams::fifo(10), CpuSet::single(0))
        .unwrap();
    s.wake(1, 0).unwrap();
    s.add_task(2, SchedParams::normal(0), CpuSet::single(1))
        .unwrap();
    s.wake(2, 0).unwrap();
    settle(&mut s, 0);
    s.set_affinity(1, all, 0).unwrap();
    // FIFO 60 pinned to cpu 0 preempts task 1, which is pushed to cpu 1.
    s.add_task(3, SchedParams::fifo(60), CpuSet::single(0))
        .unwrap();
    s.wake(3, MS).unwrap();
    settle(&mut s, MS);
    assert_eq!(s.current(0), Some(3));
    assert_eq!(s.current(1), Some(1));
    check_state(&s, &[1, 2, 3], true).unwrap();
    // FIFO 70 pinned to cpu 1 preempts task 1 there; task 1 must wait.
    s.add_task(4, SchedParams::fifo(70), CpuSet::single(1))
        .unwrap();
    s.wake(4, 2 * MS).unwrap();
    settle(&mut s, 2 * MS);
    assert_eq!(s.current(1), Some(4));
    assert!(matches!(
        s.task_info(1).unwrap().state,
        TaskState::Queued(_)
    ));
    // Task 3 blocks: cpu 0 pulls task 1 rather than idle or run CFS.
    s.block(3, 3 * MS).unwrap();
    settle(&mut s, 3 * MS);
    assert_eq!(s.current(0), Some(1));
    check_state(&s, &[1, 2, 3, 4], true).unwrap();
}

#[test]
fn never_runs_against_affinity_in_simulation() {
    // Tasks pinned to random single vCPUs or pairs, changing affinity as they
    // go; the simulator fails on any pick outside the mask.
    let n = 4;
    let mut sim = simulator(n, SchedConfig::default());
    let mut rng = crate::sched::sim::Prng::new(7);
    let mut ids = Vec::new();
    for _ in 0..40 {
        let mut mask = CpuSet::single(rng.below(n as u64) as CpuId);
        mask.insert(rng.below(n as u64) as CpuId);
        let other = CpuSet::single(rng.below(n as u64) as CpuId);
        let spec = TaskSpec::new(SchedParams::normal(rng.range(0, 10) as i8))
            .affinity(mask)
            .run(rng.range(1, 5) * MS)
            .sleep(rng.range(1, 5) * MS)
            .step(Step::SetAffinity(other))
            .run(rng.range(1, 5) * MS)
            .step(Step::SetAffinity(mask))
            .repeat(20);
        ids.push(sim.spawn(spec).unwrap());
    }
    let check_ids = ids.clone();
    sim.set_observer(move |s, _| check_state(s, &check_ids, true));
    sim.run_to_completion(100 * SEC).unwrap();
}
