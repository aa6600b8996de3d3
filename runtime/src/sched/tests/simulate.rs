//! Whole-system simulations: many tasks with mixed policies run to
//! completion; accounting is exact; invariants hold throughout.

use std::time::Instant;

use super::*;
use crate::sched::sim::{Prng, SimConfig, Simulator, Step, TaskSpec};

/// A random task: mostly CFS, some batch/idle, a few short RT bursts.
fn random_task(rng: &mut Prng, start_spread: Nanos) -> TaskSpec {
    let nice = rng.range(0, 15) as i8 - 5;
    let params = match rng.below(100) {
        0 => SchedParams::fifo(rng.range(1, 99) as u8),
        1 => SchedParams::round_robin(rng.range(1, 99) as u8),
        2..=6 => SchedParams::batch(nice),
        7..=9 => SchedParams::idle(),
        _ => SchedParams::normal(nice),
    };
    let mut spec = TaskSpec::new(params).starting_at(rng.below(start_spread));
    for _ in 0..rng.range(1, 3) {
        spec = spec
            .run(rng.range(100_000, 2 * MS))
            .sleep(rng.range(MS, 5 * MS));
    }
    if rng.chance(1, 10) {
        spec = spec.yield_now().run(rng.range(100_000, MS));
    }
    spec.repeat(rng.range(1, 3) as u32)
}

#[test]
fn ten_thousand_tasks_run_to_completion() {
    let started = Instant::now();
    let mut sim = Simulator::new(SimConfig {
        cpus: 8,
        ..SimConfig::default()
    })
    .unwrap();
    let mut rng = Prng::new(10_000);
    let specs: Vec<TaskSpec> = (0..10_000)
        .map(|_| random_task(&mut rng, 100 * MS))
        .collect();
    let ids: Vec<TaskId> = specs
        .iter()
        .map(|s| sim.spawn(s.clone()).unwrap())
        .collect();
    let end = sim.run_to_completion(10_000 * SEC).unwrap();
    let elapsed = started.elapsed();
    eprintln!(
        "10k tasks: simulated {} ms in {elapsed:?}, {} events, {:?}",
        end / MS,
        sim.nr_events(),
        sim.scheduler().stats()
    );
    assert_eq!(sim.live_tasks(), 0);
    assert_eq!(sim.scheduler().nr_tasks(), 0);
    let mut total = 0;
    for (id, spec) in ids.iter().zip(&specs) {
        let st = sim.task_stats(*id).unwrap();
        let info = st.final_info.unwrap();
        // Every task got exactly the CPU its script asked for, and the
        // scheduler's accounting agrees to the nanosecond.
        assert_eq!(st.cpu_time, spec.total_run(), "task {id}");
        assert_eq!(info.sum_exec_runtime, st.cpu_time, "task {id}");
        assert!(info.nr_switches >= 1);
        total += st.cpu_time;
    }
    // 8 vCPUs were kept busy: the whole run took little more than the
    // total work spread over them.
    assert!(
        end < total / 8 + total / 40 + 200 * MS,
        "end {end} total {total}"
    );
    assert!(elapsed.as_secs() < 30, "took {elapsed:?}");
}

#[test]
fn invariants_hold_throughout_a_mixed_simulation() {
    let mut sim = Simulator::new(SimConfig {
        cpus: 4,
        sched: no_throttle(),
        check_invariants: true,
        ..SimConfig::default()
    })
    .unwrap();
    let mut rng = Prng::new(42);
    let mut ids = Vec::new();
    for _ in 0..300 {
        let mut spec = random_task(&mut rng, 50 * MS);
        if rng.chance(1, 5) {
            spec.affinity = Some(CpuSet::single(rng.below(4) as CpuId));
        }
        if rng.chance(1, 10) {
            let p = SchedParams::round_robin(rng.range(1, 99) as u8);
            spec = spec.step(Step::SetParams(p)).run(MS);
        }
        ids.push(sim.spawn(spec).unwrap());
    }
    let check_ids = ids.clone();
    sim.set_observer(move |s, _| check_state(s, &check_ids, true));
    sim.run_to_completion(1000 * SEC).unwrap();
    assert_eq!(sim.live_tasks(), 0);
}

#[test]
fn invariants_hold_with_rt_throttling() {
    let mut sim = Simulator::new(SimConfig {
        cpus: 3,
        sched: SchedConfig {
            rt_runtime: Some(10 * MS),
            rt_period: 20 * MS,
            ..SchedConfig::default()
        },
        check_invariants: true,
        ..SimConfig::default()
    })
    .unwrap();
    let mut ids = Vec::new();
    for i in 0..6 {
        let spec = TaskSpec::new(SchedParams::fifo(10 + i))
            .run(5 * MS)
            .sleep(MS)
            .repeat(20);
        ids.push(sim.spawn(spec).unwrap());
    }
    let cfs: Vec<TaskId> = (0..3)
        .map(|_| {
            sim.spawn(TaskSpec::hog(SchedParams::normal(0), SEC))
                .unwrap()
        })
        .collect();
    ids.extend(&cfs);
    let check_ids = ids.clone();
    sim.set_observer(move |s, _| check_state(s, &check_ids, false));
    sim.run_until(200 * MS).unwrap();
    // RT is capped at half of each vCPU, so CFS got at least the rest.
    let cfs_time: Nanos = cfs
        .iter()
        .map(|id| sim.task_stats(*id).unwrap().cpu_time)
        .sum();
    assert!(cfs_time >= 3 * 100 * MS, "cfs got {cfs_time}");
}
