//! Tests of the scheduler core: unit tests of each class, property tests
//! over random operation sequences (with the module's own PRNG), and
//! simulations.

#![allow(clippy::unwrap_used)]

mod api;
mod cfs;
mod props;
mod rt;
mod simulate;
mod smp;

use super::params::Class;
use super::sim::{SimConfig, Simulator};
use super::{CpuId, CpuSet, Nanos, SchedConfig, SchedParams, Scheduler, TaskId, TaskState};

pub(super) const MS: Nanos = 1_000_000;
pub(super) const SEC: Nanos = 1_000_000_000;

/// Default tunables without RT throttling.
pub(super) fn no_throttle() -> SchedConfig {
    SchedConfig {
        rt_runtime: None,
        ..SchedConfig::default()
    }
}

/// A scheduler with `cpus` vCPUs.
pub(super) fn sched(cpus: usize, cfg: SchedConfig) -> Scheduler {
    Scheduler::new(cpus, cfg).unwrap()
}

/// Add and wake a task allowed everywhere.
pub(super) fn spawn(s: &mut Scheduler, id: TaskId, params: SchedParams, now: Nanos) {
    let all = CpuSet::first_n(s.nr_cpus());
    s.add_task(id, params, all).unwrap();
    s.wake(id, now).unwrap();
}

/// Play the dispatcher: every kicked vCPU that must reschedule does.
pub(super) fn settle(s: &mut Scheduler, now: Nanos) {
    for _ in 0..1000 {
        let kicks = s.take_kicks();
        if kicks.is_empty() {
            return;
        }
        for c in kicks.iter() {
            if s.need_resched(c) {
                s.pick_next(c, now);
            }
        }
    }
    panic!("kicks never settled");
}

/// A simulator with `cpus` vCPUs, recording the trace.
pub(super) fn simulator(cpus: usize, cfg: SchedConfig) -> Simulator {
    Simulator::new(SimConfig {
        cpus,
        sched: cfg,
        record_trace: true,
        ..SimConfig::default()
    })
    .unwrap()
}

/// How urgent a task is (as the scheduler ranks it): RT 2+prio, CFS 2,
/// idle class 1, nothing 0.
pub(super) fn rank_of(s: &Scheduler, id: Option<TaskId>) -> u32 {
    id.and_then(|id| s.task_info(id))
        .map_or(0, |t| t.params.rank())
}

/// The global invariants a settled scheduler must satisfy:
/// * internal consistency ([`Scheduler::check_invariants`]);
/// * nothing left to reschedule;
/// * every running task is allowed on its vCPU;
/// * per vCPU, class order: an idle-class task runs only if no CFS or
///   (unthrottled) RT task waits there, a CFS task only if no unthrottled RT
///   task waits there, an RT task only if no higher RT priority waits there;
/// * no vCPU idles while it has something to run;
/// * with `global_rt`: no RT task waits while an allowed, unthrottled vCPU
///   runs something less urgent.
pub(super) fn check_state(s: &Scheduler, ids: &[TaskId], global_rt: bool) -> Result<(), String> {
    s.check_invariants()?;
    let n = s.nr_cpus();
    for c in 0..n {
        if s.need_resched(c) {
            return Err(format!("cpu {c} left with need_resched"));
        }
        let info = s.cpu_info(c);
        let waiting_fair =
            info.nr_fair - usize::from(class_of(s, info.current) == Some(Class::Fair));
        let waiting_idle =
            info.nr_idle_class - usize::from(class_of(s, info.current) == Some(Class::Idle));
        let waiting_rt = info.nr_rt - usize::from(class_of(s, info.current) == Some(Class::Rt));
        let rt_ready = waiting_rt > 0 && !info.rt_throttled;
        match class_of(s, info.current) {
            None => {
                if rt_ready || waiting_fair > 0 || waiting_idle > 0 {
                    return Err(format!("cpu {c} idle with work: {info:?}"));
                }
            }
            Some(class) => {
                let cur = s.task_info(info.current.unwrap()).unwrap();
                if !cur.affinity.contains(c) {
                    return Err(format!("task {} runs on disallowed cpu {c}", cur.id));
                }
                let bad = match class {
                    Class::Idle => rt_ready || waiting_fair > 0,
                    Class::Fair => rt_ready,
                    Class::Rt => false,
                };
                if bad {
                    return Err(format!(
                        "cpu {c} runs {class:?} task {} over waiting work: {info:?}",
                        cur.id
                    ));
                }
            }
        }
    }
    for &id in ids {
        let Some(t) = s.task_info(id) else { continue };
        let TaskState::Queued(x) = t.state else {
            continue;
        };
        if !t.params.policy.is_rt() {
            continue;
        }
        let r = t.params.rank();
        if !s.cpu_info(x).rt_throttled && rank_of(s, s.current(x)) < r {
            return Err(format!(
                "rt task {id} waits on cpu {x} behind a lower priority"
            ));
        }
        if global_rt {
            for y in t.affinity.iter() {
                if !s.cpu_info(y).rt_throttled && rank_of(s, s.current(y)) < r {
                    return Err(format!(
                        "rt task {id} (rank {r}) waits on cpu {x} while cpu {y} runs rank {}",
                        rank_of(s, s.current(y))
                    ));
                }
            }
        }
    }
    Ok(())
}

fn class_of(s: &Scheduler, id: Option<TaskId>) -> Option<Class> {
    id.and_then(|id| s.task_info(id))
        .map(|t| t.params.policy.class())
}

/// CPU time of `task` in the trace within `[from, to)`.
pub(super) fn time_in(sim: &Simulator, task: TaskId, from: Nanos, to: Nanos) -> Nanos {
    sim.trace()
        .iter()
        .filter(|s| s.task == task)
        .map(|s| s.end.min(to).saturating_sub(s.start.max(from)))
        .sum()
}

/// Assert `got / want` within `tol` (relative).
pub(super) fn assert_close(got: f64, want: f64, tol: f64, what: &str) {
    let err = (got / want - 1.0).abs();
    assert!(
        err <= tol,
        "{what}: got {got}, want {want} (error {:.3}%)",
        err * 100.0
    );
}
