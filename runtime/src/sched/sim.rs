//! A discrete-event simulator that drives a [`Scheduler`] the way umk's
//! dispatcher will, over simulated time, with tasks that follow scripts of
//! CPU bursts, sleeps, yields and parameter changes.
//!
//! Each simulated vCPU runs its current task until the earliest of: the end
//! of the task's current burst, the scheduler's [`Scheduler::slice_deadline`],
//! and an optional periodic tick. Wake-ups, spawns and periodic balancing
//! are events too. After every event the simulator services the vCPUs the
//! scheduler asked to kick (as IPIs would), so each vCPU always runs what the
//! scheduler last chose. The simulator measures CPU time itself,
//! independently of the scheduler's accounting, so tests can compare both.
//!
//! ```
//! use umk::sched::sim::{SimConfig, Simulator, TaskSpec};
//! use umk::sched::SchedParams;
//! let mut sim = Simulator::new(SimConfig { cpus: 2, ..SimConfig::default() }).unwrap();
//! for _ in 0..4 {
//!     sim.spawn(TaskSpec::new(SchedParams::normal(0)).run(3_000_000).sleep(1_000_000).repeat(5)).unwrap();
//! }
//! let end = sim.run_to_completion(10_000_000_000).unwrap();
//! assert!(end >= 30_000_000);
//! ```

use std::cmp::Reverse;
use std::collections::BinaryHeap;
use std::fmt;

use super::{
    CpuId, CpuSet, Nanos, SchedConfig, SchedError, SchedParams, Scheduler, TaskId, TaskInfo,
};

/// A small deterministic PRNG (SplitMix64) for simulations, property tests
/// and benchmarks; no dependency, same sequence everywhere.
#[derive(Debug, Clone)]
pub struct Prng(u64);

impl Prng {
    /// A generator seeded with `seed`.
    pub fn new(seed: u64) -> Self {
        Self(seed)
    }

    /// The next 64 random bits.
    pub fn next_u64(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    /// Uniform in `0..n` (`n > 0`; 0 if `n == 0`).
    pub fn below(&mut self, n: u64) -> u64 {
        if n == 0 {
            0
        } else {
            ((u128::from(self.next_u64()) * u128::from(n)) >> 64) as u64
        }
    }

    /// Uniform in `lo..=hi`.
    pub fn range(&mut self, lo: u64, hi: u64) -> u64 {
        lo + self.below(hi.saturating_sub(lo).saturating_add(1))
    }

    /// True with probability `num / den`.
    pub fn chance(&mut self, num: u64, den: u64) -> bool {
        self.below(den) < num
    }
}

/// One step of a task's script.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Step {
    /// Use this much CPU time (possibly over several slices).
    Run(Nanos),
    /// Block for this long.
    Sleep(Nanos),
    /// `sched_yield()`.
    Yield,
    /// `sched_setscheduler()` on itself.
    SetParams(SchedParams),
    /// `sched_setaffinity()` on itself.
    SetAffinity(CpuSet),
}

/// A task to simulate: parameters, start time, and a script that is
/// repeated `repeat` times; the task exits at the end.
#[derive(Debug, Clone)]
pub struct TaskSpec {
    /// Initial scheduling parameters.
    pub params: SchedParams,
    /// Initial affinity (`None`: all vCPUs).
    pub affinity: Option<CpuSet>,
    /// When it is created and first woken.
    pub start: Nanos,
    /// What it does.
    pub script: Vec<Step>,
    /// How many times the script runs (at least once).
    pub repeat: u32,
}

impl TaskSpec {
    /// An empty script with these parameters, starting at time 0.
    pub fn new(params: SchedParams) -> Self {
        Self {
            params,
            affinity: None,
            start: 0,
            script: Vec::new(),
            repeat: 1,
        }
    }

    /// A task that runs `total` ns of CPU and exits.
    pub fn hog(params: SchedParams, total: Nanos) -> Self {
        Self::new(params).run(total)
    }

    /// Append a CPU burst.
    pub fn run(mut self, ns: Nanos) -> Self {
        self.script.push(Step::Run(ns));
        self
    }

    /// Append a sleep.
    pub fn sleep(mut self, ns: Nanos) -> Self {
        self.script.push(Step::Sleep(ns));
        self
    }

    /// Append a `sched_yield()`.
    pub fn yield_now(mut self) -> Self {
        self.script.push(Step::Yield);
        self
    }

    /// Append any step.
    pub fn step(mut self, step: Step) -> Self {
        self.script.push(step);
        self
    }

    /// Run the script `n` times.
    pub fn repeat(mut self, n: u32) -> Self {
        self.repeat = n.max(1);
        self
    }

    /// Start at `t`.
    pub fn starting_at(mut self, t: Nanos) -> Self {
        self.start = t;
        self
    }

    /// Restrict to `set`.
    pub fn affinity(mut self, set: CpuSet) -> Self {
        self.affinity = Some(set);
        self
    }

    /// Total CPU time the script asks for.
    pub fn total_run(&self) -> Nanos {
        let once: Nanos = self
            .script
            .iter()
            .map(|s| if let Step::Run(n) = s { *n } else { 0 })
            .sum();
        once * Nanos::from(self.repeat)
    }
}

/// Simulation settings.
#[derive(Debug, Clone, Copy)]
pub struct SimConfig {
    /// Number of vCPUs.
    pub cpus: usize,
    /// The scheduler's tunables.
    pub sched: SchedConfig,
    /// Periodic tick on busy vCPUs (`None`: only precise deadlines).
    pub tick: Option<Nanos>,
    /// Call [`Scheduler::balance`] every `sched.balance_interval`.
    pub balance: bool,
    /// Record every run interval in [`Simulator::trace`].
    pub record_trace: bool,
    /// Run [`Scheduler::check_invariants`] after every event (slow).
    pub check_invariants: bool,
}

impl Default for SimConfig {
    fn default() -> Self {
        Self {
            cpus: 1,
            sched: SchedConfig::default(),
            tick: Some(4_000_000),
            balance: true,
            record_trace: false,
            check_invariants: false,
        }
    }
}

/// A task ran on a vCPU from `start` to `end`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Slice {
    /// The vCPU.
    pub cpu: CpuId,
    /// The task.
    pub task: TaskId,
    /// Start time.
    pub start: Nanos,
    /// End time.
    pub end: Nanos,
}

/// What the simulator measured for one task.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct SimTaskStats {
    /// CPU time it got.
    pub cpu_time: Nanos,
    /// When it exited.
    pub finished_at: Option<Nanos>,
    /// The scheduler's final record of it ([`Scheduler::remove_task`]).
    pub final_info: Option<TaskInfo>,
}

/// A failed simulation.
#[derive(Debug, thiserror::Error)]
pub enum SimError {
    /// The scheduler refused an operation.
    #[error(transparent)]
    Sched(#[from] SchedError),
    /// An invariant or observer check failed.
    #[error("at {at} ns: {msg}")]
    Invariant {
        /// Simulated time.
        at: Nanos,
        /// What was wrong.
        msg: String,
    },
    /// Tasks were still alive at the time limit.
    #[error("not finished at the limit of {0} ns")]
    Timeout(Nanos),
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
enum Event {
    Spawn(TaskId),
    Wake(TaskId),
    Cpu(CpuId, u64),
    Balance,
}

#[derive(Debug, Clone, Copy, Default)]
struct SimCpu {
    running: Option<TaskId>,
    /// When `running` was last accounted.
    since: Nanos,
    /// When the current trace slice started.
    slice_start: Nanos,
    /// Generation of the pending Cpu event (older ones are stale).
    gen: u64,
}

#[derive(Debug)]
struct SimTask {
    spec: TaskSpec,
    pc: usize,
    iter: u32,
    remaining: Nanos,
    stats: SimTaskStats,
}

/// After a task's burst ended: does it keep the CPU?
enum Advance {
    Continue,
    Stopped,
}

/// A check run after every event; returns a description of what is wrong.
pub type Observer = Box<dyn FnMut(&Scheduler, Nanos) -> Result<(), String>>;

/// The simulator. Task ids are assigned from 1 in spawn order.
pub struct Simulator {
    sched: Scheduler,
    cfg: SimConfig,
    now: Nanos,
    events: BinaryHeap<Reverse<(Nanos, u64, Event)>>,
    seq: u64,
    cpus: Vec<SimCpu>,
    tasks: Vec<SimTask>,
    live: usize,
    trace: Vec<Slice>,
    observer: Option<Observer>,
    nr_events: u64,
}

impl fmt::Debug for Simulator {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Simulator")
            .field("now", &self.now)
            .field("tasks", &self.tasks.len())
            .field("live", &self.live)
            .field("events", &self.nr_events)
            .finish_non_exhaustive()
    }
}

impl Simulator {
    /// A simulator with an empty scheduler.
    pub fn new(cfg: SimConfig) -> Result<Self, SimError> {
        let sched = Scheduler::new(cfg.cpus, cfg.sched)?;
        let mut sim = Self {
            sched,
            cfg,
            now: 0,
            events: BinaryHeap::new(),
            seq: 0,
            cpus: vec![SimCpu::default(); cfg.cpus],
            tasks: Vec::new(),
            live: 0,
            trace: Vec::new(),
            observer: None,
            nr_events: 0,
        };
        if cfg.balance {
            sim.push(cfg.sched.balance_interval, Event::Balance);
        }
        Ok(sim)
    }

    /// Add a task; it is created and woken at `spec.start`.
    pub fn spawn(&mut self, spec: TaskSpec) -> Result<TaskId, SimError> {
        let id = self.tasks.len() as TaskId + 1;
        let start = spec.start.max(self.now);
        self.tasks.push(SimTask {
            spec,
            pc: 0,
            iter: 0,
            remaining: 0,
            stats: SimTaskStats::default(),
        });
        self.live += 1;
        self.push(start, Event::Spawn(id));
        Ok(id)
    }

    /// Run `check` after every event; a failure stops the simulation.
    pub fn set_observer(
        &mut self,
        check: impl FnMut(&Scheduler, Nanos) -> Result<(), String> + 'static,
    ) {
        self.observer = Some(Box::new(check));
    }

    /// The current simulated time.
    pub fn now(&self) -> Nanos {
        self.now
    }

    /// The scheduler being driven.
    pub fn scheduler(&self) -> &Scheduler {
        &self.sched
    }

    /// Operate on the scheduler at the current time (e.g. change another
    /// task's parameters), then let the vCPUs react.
    pub fn with_scheduler<R>(
        &mut self,
        f: impl FnOnce(&mut Scheduler, Nanos) -> R,
    ) -> Result<R, SimError> {
        let r = f(&mut self.sched, self.now);
        self.process_kicks()?;
        Ok(r)
    }

    /// What the simulator measured for task `id`.
    pub fn task_stats(&self, id: TaskId) -> Option<SimTaskStats> {
        self.task_index(id).map(|i| self.tasks[i].stats)
    }

    /// Tasks still alive.
    pub fn live_tasks(&self) -> usize {
        self.live
    }

    /// Events processed so far.
    pub fn nr_events(&self) -> u64 {
        self.nr_events
    }

    /// Recorded run intervals (with `record_trace`), in the order they ended.
    pub fn trace(&self) -> &[Slice] {
        &self.trace
    }

    /// Simulate up to and including time `end`; running tasks are accounted
    /// (and trace slices closed) up to `end`.
    pub fn run_until(&mut self, end: Nanos) -> Result<(), SimError> {
        while let Some(Reverse((t, _, _))) = self.events.peek() {
            if *t > end {
                break;
            }
            self.step()?;
        }
        self.now = self.now.max(end);
        let now = self.now;
        for c in 0..self.cpus.len() {
            if let Some(id) = self.cpus[c].running {
                let ran = now - self.cpus[c].since;
                self.cpus[c].since = now;
                if let Some(i) = self.task_index(id) {
                    let t = &mut self.tasks[i];
                    t.stats.cpu_time += ran;
                    t.remaining = t.remaining.saturating_sub(ran);
                }
                self.close_slice(c);
            }
        }
        Ok(())
    }

    /// Simulate until every task has exited; fails if that is not so by
    /// `limit`. Returns the finish time.
    pub fn run_to_completion(&mut self, limit: Nanos) -> Result<Nanos, SimError> {
        while self.live > 0 {
            match self.events.peek() {
                Some(Reverse((t, _, _))) if *t <= limit => self.step()?,
                _ => return Err(SimError::Timeout(limit)),
            }
        }
        Ok(self.now)
    }

    fn task_index(&self, id: TaskId) -> Option<usize> {
        let i = usize::try_from(id).ok()?.checked_sub(1)?;
        (i < self.tasks.len()).then_some(i)
    }

    fn push(&mut self, at: Nanos, ev: Event) {
        self.seq += 1;
        self.events.push(Reverse((at, self.seq, ev)));
    }

    fn invariant(&self, msg: String) -> SimError {
        SimError::Invariant { at: self.now, msg }
    }

    /// Process one event and everything it triggers.
    fn step(&mut self) -> Result<(), SimError> {
        let Some(Reverse((at, _, ev))) = self.events.pop() else {
            return Ok(());
        };
        self.now = self.now.max(at);
        let now = self.now;
        self.nr_events += 1;
        match ev {
            Event::Spawn(id) => {
                let i = self
                    .task_index(id)
                    .ok_or_else(|| self.invariant(format!("no task {id}")))?;
                let spec = &self.tasks[i].spec;
                let affinity = spec
                    .affinity
                    .unwrap_or_else(|| CpuSet::first_n(self.cfg.cpus));
                self.sched.add_task(id, spec.params, affinity)?;
                self.sched.wake(id, now)?;
            }
            Event::Wake(id) => {
                self.sched.wake(id, now)?;
            }
            Event::Cpu(c, gen) => {
                if self.cpus[c].gen != gen {
                    return Ok(()); // stale
                }
                self.service_cpu(c)?;
            }
            Event::Balance => {
                self.sched.balance(now);
                if self.live > 0 {
                    self.push(now + self.cfg.sched.balance_interval.max(1), Event::Balance);
                }
            }
        }
        self.process_kicks()?;
        if self.cfg.check_invariants {
            self.sched
                .check_invariants()
                .map_err(|m| self.invariant(m))?;
        }
        if let Some(obs) = self.observer.as_mut() {
            if let Err(msg) = obs(&self.sched, now) {
                return Err(self.invariant(msg));
            }
        }
        Ok(())
    }

    /// Service every vCPU the scheduler wants interrupted, until quiet.
    fn process_kicks(&mut self) -> Result<(), SimError> {
        loop {
            let kicks = self.sched.take_kicks();
            if kicks.is_empty() {
                return Ok(());
            }
            let n = self.cpus.len();
            for c in kicks.iter().filter(|c| *c < n) {
                self.service_cpu(c)?;
            }
        }
    }

    fn close_slice(&mut self, c: CpuId) {
        let cpu = &mut self.cpus[c];
        if let Some(task) = cpu.running {
            if self.cfg.record_trace && self.now > cpu.slice_start {
                self.trace.push(Slice {
                    cpu: c,
                    task,
                    start: cpu.slice_start,
                    end: self.now,
                });
            }
        }
        cpu.slice_start = self.now;
    }

    /// What a vCPU does when interrupted or when its timer fires.
    fn service_cpu(&mut self, c: CpuId) -> Result<(), SimError> {
        let now = self.now;
        let mut first = true;
        loop {
            if let Some(id) = self.cpus[c].running {
                let ran = now - self.cpus[c].since;
                self.cpus[c].since = now;
                let i = self
                    .task_index(id)
                    .ok_or_else(|| self.invariant(format!("no task {id}")))?;
                let t = &mut self.tasks[i];
                t.stats.cpu_time += ran;
                t.remaining = t.remaining.saturating_sub(ran);
                if t.remaining == 0 {
                    if let Advance::Stopped = self.advance(id, i)? {
                        self.close_slice(c);
                        self.cpus[c].running = None;
                    }
                }
            }
            if first {
                self.sched.tick(c, now);
                first = false;
            }
            if self.sched.need_resched(c) {
                let next = self.sched.pick_next(c, now);
                if let Some(n) = next {
                    let ok = self
                        .sched
                        .task_info(n)
                        .is_some_and(|info| info.affinity.contains(c));
                    if !ok {
                        return Err(
                            self.invariant(format!("task {n} picked on disallowed cpu {c}"))
                        );
                    }
                }
                if next != self.cpus[c].running {
                    self.close_slice(c);
                    self.cpus[c].running = next;
                }
                self.cpus[c].since = now;
            }
            let again = self.cpus[c]
                .running
                .and_then(|id| self.task_index(id))
                .is_some_and(|i| self.tasks[i].remaining == 0);
            if !again {
                break;
            }
        }
        self.arm(c);
        Ok(())
    }

    /// The running task `id` finished its burst: execute script steps until
    /// the next burst, a sleep, or the end.
    fn advance(&mut self, id: TaskId, i: usize) -> Result<Advance, SimError> {
        let now = self.now;
        loop {
            let t = &mut self.tasks[i];
            if t.pc >= t.spec.script.len() {
                t.pc = 0;
                t.iter += 1;
            }
            if t.iter >= t.spec.repeat || t.spec.script.is_empty() {
                let info = self.sched.remove_task(id, now)?;
                self.tasks[i].stats.finished_at = Some(now);
                self.tasks[i].stats.final_info = Some(info);
                self.live -= 1;
                return Ok(Advance::Stopped);
            }
            let step = t.spec.script[t.pc];
            t.pc += 1;
            match step {
                Step::Run(0) => {}
                Step::Run(ns) => {
                    t.remaining = ns;
                    return Ok(Advance::Continue);
                }
                Step::Sleep(ns) => {
                    self.sched.block(id, now)?;
                    self.push(now + ns, Event::Wake(id));
                    return Ok(Advance::Stopped);
                }
                Step::Yield => self.sched.yield_now(id, now)?,
                Step::SetParams(p) => self.sched.set_params(id, p, now)?,
                Step::SetAffinity(m) => self.sched.set_affinity(id, m, now)?,
            }
        }
    }

    /// Schedule the vCPU's next event: burst end, slice deadline or tick.
    fn arm(&mut self, c: CpuId) {
        let now = self.now;
        let cpu = self.cpus[c];
        let mut at = self.sched.slice_deadline(c);
        let mut add = |x: Nanos| at = Some(at.map_or(x, |a| a.min(x)));
        if let Some(id) = cpu.running {
            if let Some(i) = self.task_index(id) {
                add(cpu.since + self.tasks[i].remaining);
            }
            if let Some(tick) = self.cfg.tick.filter(|t| *t > 0) {
                add((now / tick + 1) * tick);
            }
        }
        self.cpus[c].gen += 1;
        if let Some(at) = at {
            let gen = self.cpus[c].gen;
            self.push(at.max(now + 1), Event::Cpu(c, gen));
        }
    }
}
