//! Property tests: random operation sequences against the invariants of
//! [`check_state`], with the module's deterministic PRNG.

use super::*;
use crate::sched::sim::Prng;
use crate::sched::{CpuSet, Policy};

fn random_params(rng: &mut Prng) -> SchedParams {
    let nice = rng.range(0, 39) as i8 - 20;
    let prio = rng.range(1, 99) as u8;
    match rng.below(10) {
        0 => SchedParams::fifo(prio),
        1 => SchedParams::round_robin(prio),
        2 => SchedParams::batch(nice),
        3 => SchedParams::idle(),
        _ => SchedParams::normal(nice),
    }
}

fn random_mask(rng: &mut Prng, cpus: usize) -> CpuSet {
    loop {
        let m: CpuSet = (0..cpus).filter(|_| rng.chance(1, 2)).collect();
        if !m.is_empty() {
            return m;
        }
    }
}

/// Drive a scheduler with `ops` random operations as a dispatcher would,
/// checking the invariants after each.
fn random_ops(seed: u64, cpus: usize, cfg: SchedConfig, ops: usize) {
    let global_rt = cfg.rt_runtime.is_none();
    let mut rng = Prng::new(seed);
    let mut s = sched(cpus, cfg);
    let mut now: Nanos = 0;
    let mut ids: Vec<TaskId> = Vec::new();
    let mut next_id: TaskId = 1;
    let mut add = |s: &mut Scheduler, rng: &mut Prng, ids: &mut Vec<TaskId>, now| {
        let id = next_id;
        next_id += 1;
        s.add_task(id, random_params(rng), random_mask(rng, cpus))
            .unwrap();
        s.wake(id, now).unwrap();
        ids.push(id);
    };
    for _ in 0..4 * cpus {
        add(&mut s, &mut rng, &mut ids, now);
    }
    settle(&mut s, now);
    for step in 0..ops {
        now += rng.below(3 * MS);
        let cpu = rng.below(cpus as u64) as CpuId;
        let pick = |rng: &mut Prng, ids: &[TaskId]| ids[rng.below(ids.len() as u64) as usize];
        let what = rng.below(100);
        match what {
            0..=19 => {
                // Wake a random task (a no-op if it is runnable). A batch
                // task never preempts a running CFS or RT task.
                let id = pick(&mut rng, &ids);
                let before: Vec<Option<TaskId>> = (0..cpus).map(|c| s.current(c)).collect();
                if let Some(r) = s.wake(id, now).unwrap() {
                    let policy = s.task_info(id).unwrap().params.policy;
                    let curr_rank = rank_of(&s, before[r.cpu]);
                    if policy == Policy::Batch && curr_rank >= 2 {
                        assert!(!r.resched, "seed {seed} step {step}: batch wake preempted");
                    }
                    assert!(s.task_info(id).unwrap().affinity.contains(r.cpu));
                }
            }
            20..=34 => {
                // The running task of a cpu blocks (or a queued task stops).
                if let Some(id) = s.current(cpu) {
                    s.block(id, now).unwrap();
                } else {
                    let id = pick(&mut rng, &ids);
                    let _ = s.block(id, now);
                }
            }
            35..=42 => {
                if let Some(id) = s.current(cpu) {
                    s.yield_now(id, now).unwrap();
                }
            }
            43..=67 => {
                let t = s.tick(cpu, now);
                if let Some(d) = t.deadline {
                    assert!(
                        t.resched || d > now,
                        "seed {seed} step {step}: deadline {d} <= now {now}"
                    );
                }
            }
            68..=75 => {
                s.pick_next(cpu, now);
            }
            76..=83 => {
                let id = pick(&mut rng, &ids);
                s.set_params(id, random_params(&mut rng), now).unwrap();
            }
            84..=90 => {
                let id = pick(&mut rng, &ids);
                s.set_affinity(id, random_mask(&mut rng, cpus), now)
                    .unwrap();
            }
            91..=93 => {
                for m in s.balance(now) {
                    assert!(s.task_info(m.task).unwrap().affinity.contains(m.to));
                }
            }
            94..=95 => {
                if ids.len() > 2 {
                    let i = rng.below(ids.len() as u64) as usize;
                    let id = ids.swap_remove(i);
                    s.remove_task(id, now).unwrap();
                }
            }
            _ => add(&mut s, &mut rng, &mut ids, now),
        }
        settle(&mut s, now);
        if let Err(e) = check_state(&s, &ids, global_rt) {
            panic!("seed {seed} step {step} (op {what}): {e}");
        }
    }
}

#[test]
fn random_operations_keep_invariants_one_cpu() {
    for seed in 0..20 {
        random_ops(seed, 1, no_throttle(), 1500);
    }
}

#[test]
fn random_operations_keep_invariants_smp() {
    for seed in 100..120 {
        random_ops(seed, 1 + (seed as usize % 4), no_throttle(), 1500);
    }
}

#[test]
fn random_operations_keep_invariants_with_rt_throttling() {
    let cfg = SchedConfig {
        rt_runtime: Some(20 * MS),
        rt_period: 50 * MS,
        ..SchedConfig::default()
    };
    for seed in 200..215 {
        random_ops(seed, 1 + (seed as usize % 3), cfg, 1500);
    }
}
