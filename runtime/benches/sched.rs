//! Micro-benchmarks of the scheduler core: the cost of the hot operations
//! as the number of runnable tasks grows (10, 1,000, 10,000). Pick-next and
//! enqueue are B-tree operations, so the cost should grow like log n.
//!
//! Run with `cargo bench -p umk --bench sched`.

use divan::{black_box, Bencher};
use umk::sched::sim::{Prng, SimConfig, Simulator, TaskSpec};
use umk::sched::{CpuSet, Nanos, SchedConfig, SchedParams, Scheduler};

fn main() {
    divan::main();
}

const SIZES: [usize; 3] = [10, 1_000, 10_000];
const MS: Nanos = 1_000_000;

/// `n` runnable CFS tasks of random nice values on `cpus` vCPUs, each vCPU
/// running one of them.
fn loaded(cpus: usize, n: usize) -> Scheduler {
    let mut s = Scheduler::new(cpus, SchedConfig::default()).expect("valid config");
    let mut rng = Prng::new(1);
    let all = CpuSet::first_n(cpus);
    for id in 0..n as u64 {
        let nice = rng.range(0, 10) as i8 - 5;
        s.add_task(id, SchedParams::normal(nice), all)
            .expect("new task");
        s.wake(id, 0).expect("known task");
    }
    for c in 0..cpus {
        s.pick_next(c, 0);
    }
    s
}

/// `pick_next` on one vCPU: account the running task, put it back in the
/// tree, take the leftmost out.
#[divan::bench(args = SIZES)]
fn pick_next(bencher: Bencher, n: usize) {
    let mut s = loaded(1, n);
    let mut now = 0;
    bencher.bench_local(|| {
        now += MS;
        black_box(s.pick_next(0, now))
    });
}

/// `pick_next` round-robin over 8 vCPUs (adds RT pull/push and idle-pull
/// checks across vCPUs).
#[divan::bench(args = SIZES)]
fn pick_next_8cpus(bencher: Bencher, n: usize) {
    let mut s = loaded(8, n);
    let mut now = 0;
    let mut cpu = 0;
    bencher.bench_local(|| {
        now += MS / 8;
        cpu = (cpu + 1) % 8;
        black_box(s.pick_next(cpu, now))
    });
}

/// Enqueue + dequeue: wake a sleeping task into a runqueue of `n` (vCPU
/// choice, placement, tree insert, preemption check), then block it again.
#[divan::bench(args = SIZES)]
fn wake_block(bencher: Bencher, n: usize) {
    let mut s = loaded(1, n);
    let x = n as u64;
    s.add_task(x, SchedParams::normal(0), CpuSet::single(0))
        .expect("new task");
    let mut now = 0;
    bencher.bench_local(|| {
        now += 1_000;
        let r = s.wake(x, now).expect("known task");
        s.block(x, now).expect("runnable");
        black_box(r)
    });
}

/// A timer tick on a busy vCPU (accounting, slice check, next deadline).
#[divan::bench(args = SIZES)]
fn tick(bencher: Bencher, n: usize) {
    let mut s = loaded(1, n);
    let mut now = 0;
    bencher.bench_local(|| {
        now += 10_000;
        black_box(s.tick(0, now))
    });
}

/// The simulator end to end: 1,000 tasks with CPU bursts and sleeps on 4
/// vCPUs, run to completion.
#[divan::bench(sample_count = 10)]
fn simulate_1000_tasks() -> Nanos {
    let mut sim = Simulator::new(SimConfig {
        cpus: 4,
        ..SimConfig::default()
    })
    .expect("valid config");
    let mut rng = Prng::new(3);
    for _ in 0..1000 {
        let spec = TaskSpec::new(SchedParams::normal(rng.range(0, 10) as i8 - 5))
            .starting_at(rng.below(10 * MS))
            .run(rng.range(MS / 10, 2 * MS))
            .sleep(rng.range(MS, 3 * MS))
            .repeat(3);
        sim.spawn(spec).expect("spawn");
    }
    sim.run_to_completion(1000 * 1000 * MS).expect("finishes")
}
