//! Scheduling policies, per-task parameters and the scheduler's tunables.

use super::weights::{nice_to_weight, MAX_NICE, MIN_NICE, WEIGHT_IDLEPRIO};
use super::{Nanos, SchedError};

/// Lowest real-time priority (`sched_get_priority_min(SCHED_FIFO)`).
pub const MIN_RT_PRIO: u8 = 1;
/// Highest real-time priority (`sched_get_priority_max(SCHED_FIFO)`,
/// `MAX_RT_PRIO - 1` in include/linux/sched/prio.h).
pub const MAX_RT_PRIO: u8 = 99;

/// A scheduling policy (`sched_setscheduler(2)`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Policy {
    /// `SCHED_NORMAL` (`SCHED_OTHER`): CFS, nice-weighted.
    Normal,
    /// `SCHED_BATCH`: CFS, but never preempts on wake-up.
    Batch,
    /// `SCHED_IDLE`: runs only when nothing else is runnable on the CPU.
    Idle,
    /// `SCHED_FIFO`: real-time, runs until it blocks, yields or is preempted
    /// by a higher priority.
    Fifo,
    /// `SCHED_RR`: like FIFO, with a round-robin slice among equal priorities.
    RoundRobin,
}

impl Policy {
    /// Linux's policy number (include/uapi/linux/sched.h).
    pub const fn as_raw(self) -> i32 {
        match self {
            Policy::Normal => 0,
            Policy::Fifo => 1,
            Policy::RoundRobin => 2,
            Policy::Batch => 3,
            Policy::Idle => 5,
        }
    }

    /// Parse Linux's policy number; `SCHED_DEADLINE` (6) and unknown values
    /// are [`SchedError::InvalidPolicy`]. The caller strips
    /// `SCHED_RESET_ON_FORK` first.
    pub fn from_raw(raw: i32) -> Result<Policy, SchedError> {
        Ok(match raw {
            0 => Policy::Normal,
            1 => Policy::Fifo,
            2 => Policy::RoundRobin,
            3 => Policy::Batch,
            5 => Policy::Idle,
            _ => return Err(SchedError::InvalidPolicy(raw)),
        })
    }

    /// `SCHED_FIFO` or `SCHED_RR`.
    pub const fn is_rt(self) -> bool {
        matches!(self, Policy::Fifo | Policy::RoundRobin)
    }

    /// The scheduling class the policy belongs to.
    pub(crate) const fn class(self) -> Class {
        match self {
            Policy::Fifo | Policy::RoundRobin => Class::Rt,
            Policy::Normal | Policy::Batch => Class::Fair,
            Policy::Idle => Class::Idle,
        }
    }
}

/// The three scheduling classes, in pick order (RT first).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub(crate) enum Class {
    Rt,
    Fair,
    Idle,
}

/// A task's scheduling parameters (`struct sched_attr`, minus deadline
/// fields).
///
/// `nice` is kept for every policy, like the kernel's `static_prio`: an RT
/// task switched back to `SCHED_NORMAL` gets its old nice value back.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct SchedParams {
    /// The policy.
    pub policy: Policy,
    /// Nice value, −20..=19 (used by `Normal` and `Batch`).
    pub nice: i8,
    /// Real-time priority: 1..=99 for `Fifo`/`RoundRobin`, 0 otherwise.
    pub rt_priority: u8,
}

impl Default for SchedParams {
    fn default() -> Self {
        Self::normal(0)
    }
}

impl SchedParams {
    /// `SCHED_NORMAL` at `nice`.
    pub const fn normal(nice: i8) -> Self {
        Self {
            policy: Policy::Normal,
            nice,
            rt_priority: 0,
        }
    }

    /// `SCHED_BATCH` at `nice`.
    pub const fn batch(nice: i8) -> Self {
        Self {
            policy: Policy::Batch,
            nice,
            rt_priority: 0,
        }
    }

    /// `SCHED_IDLE`.
    pub const fn idle() -> Self {
        Self {
            policy: Policy::Idle,
            nice: 0,
            rt_priority: 0,
        }
    }

    /// `SCHED_FIFO` at `priority` (1..=99).
    pub const fn fifo(priority: u8) -> Self {
        Self {
            policy: Policy::Fifo,
            nice: 0,
            rt_priority: priority,
        }
    }

    /// `SCHED_RR` at `priority` (1..=99).
    pub const fn round_robin(priority: u8) -> Self {
        Self {
            policy: Policy::RoundRobin,
            nice: 0,
            rt_priority: priority,
        }
    }

    /// Check the combination like `__sched_setscheduler()` in
    /// kernel/sched/core.c: RT policies need a priority in 1..=99, the others
    /// need 0; nice must be in −20..=19 (the syscall layer clamps nice for
    /// `setpriority`/`sched_setattr` before calling us, as the kernel does).
    pub fn validate(&self) -> Result<(), SchedError> {
        let prio_ok = if self.policy.is_rt() {
            (MIN_RT_PRIO..=MAX_RT_PRIO).contains(&self.rt_priority)
        } else {
            self.rt_priority == 0
        };
        if !prio_ok {
            return Err(SchedError::InvalidPriority {
                policy: self.policy,
                priority: self.rt_priority,
            });
        }
        if !(MIN_NICE..=MAX_NICE).contains(&self.nice) {
            return Err(SchedError::InvalidNice(self.nice));
        }
        Ok(())
    }

    /// The CFS load weight: `sched_prio_to_weight[nice]` for `Normal` and
    /// `Batch`, [`WEIGHT_IDLEPRIO`] for `Idle` (and unused for RT).
    pub fn weight(&self) -> u64 {
        match self.policy {
            Policy::Idle => WEIGHT_IDLEPRIO,
            _ => nice_to_weight(self.nice),
        }
    }

    /// A total order of "how urgent": 0 for no task, 1 for `SCHED_IDLE`, 2
    /// for CFS, 2 + priority for RT. Higher preempts lower across classes
    /// and between RT priorities.
    pub(crate) fn rank(&self) -> u32 {
        match self.policy.class() {
            Class::Idle => RANK_IDLE_CLASS,
            Class::Fair => RANK_FAIR,
            Class::Rt => RANK_FAIR + u32::from(self.rt_priority),
        }
    }
}

/// [`SchedParams::rank`] of an empty CPU.
pub(crate) const RANK_NONE: u32 = 0;
/// [`SchedParams::rank`] of a `SCHED_IDLE` task.
pub(crate) const RANK_IDLE_CLASS: u32 = 1;
/// [`SchedParams::rank`] of a CFS task.
pub(crate) const RANK_FAIR: u32 = 2;

/// The scheduler's tunables. `Default` gives the values the issue asks for
/// (the kernel's unscaled base values); [`SchedConfig::linux_scaled`] applies
/// the kernel's CPU-count scaling.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SchedConfig {
    /// Targeted preemption latency for CPU-bound CFS tasks
    /// (`sysctl_sched_latency`, 6 ms).
    pub latency: Nanos,
    /// Minimum CFS slice (`sysctl_sched_min_granularity`, 0.75 ms).
    pub min_granularity: Nanos,
    /// Wake-up preemption granularity (`sysctl_sched_wakeup_granularity`,
    /// 1 ms), converted to virtual time of the woken task.
    pub wakeup_granularity: Nanos,
    /// `SCHED_RR` slice (`sched_rr_timeslice`, 100 ms; reported by
    /// `sched_rr_get_interval`).
    pub rr_timeslice: Nanos,
    /// RT runtime per period and CPU (`sched_rt_runtime_us`, 950 ms); `None`
    /// is the sysctl's −1 (no throttling).
    pub rt_runtime: Option<Nanos>,
    /// RT bandwidth period (`sched_rt_period_us`, 1 s).
    pub rt_period: Nanos,
    /// How often the dispatcher should call [`super::Scheduler::balance`]
    /// (4 ms, a 4-CPU domain's `balance_interval` scale).
    pub balance_interval: Nanos,
    /// Most tasks examined per balancing attempt (`sysctl_sched_nr_migrate`,
    /// 32).
    pub nr_migrate: usize,
}

impl Default for SchedConfig {
    fn default() -> Self {
        Self {
            latency: 6_000_000,
            min_granularity: 750_000,
            wakeup_granularity: 1_000_000,
            rr_timeslice: 100_000_000,
            rt_runtime: Some(950_000_000),
            rt_period: 1_000_000_000,
            balance_interval: 4_000_000,
            nr_migrate: 32,
        }
    }
}

impl SchedConfig {
    /// The defaults scaled like the kernel's `SCHED_TUNABLESCALING_LOG`
    /// (`get_update_sysctl_factor()` in kernel/sched/fair.c): latency,
    /// minimum and wake-up granularity times `1 + ilog2(min(cpus, 8))`.
    pub fn linux_scaled(cpus: usize) -> Self {
        let factor = 1 + u64::from(cpus.clamp(1, 8).ilog2());
        let d = Self::default();
        Self {
            latency: d.latency * factor,
            min_granularity: d.min_granularity * factor,
            wakeup_granularity: d.wakeup_granularity * factor,
            ..d
        }
    }

    /// Reject nonsensical values (`sched_rt_global_validate()` in
    /// kernel/sched/rt.c for the RT pair).
    pub fn validate(&self) -> Result<(), SchedError> {
        if self.latency == 0 || self.min_granularity == 0 {
            return Err(SchedError::InvalidConfig(
                "latency and granularity must be > 0",
            ));
        }
        if self.rr_timeslice == 0 {
            return Err(SchedError::InvalidConfig("rr_timeslice must be > 0"));
        }
        if self.rt_period == 0 {
            return Err(SchedError::InvalidConfig("rt_period must be > 0"));
        }
        if self.rt_runtime.is_some_and(|r| r > self.rt_period) {
            return Err(SchedError::InvalidConfig("rt_runtime exceeds rt_period"));
        }
        if self.nr_migrate == 0 {
            return Err(SchedError::InvalidConfig("nr_migrate must be > 0"));
        }
        Ok(())
    }

    /// `sched_nr_latency`: how many tasks fit in one latency period at the
    /// minimum granularity (8 with the defaults).
    pub(crate) fn nr_latency(&self) -> u64 {
        (self.latency / self.min_granularity).max(1)
    }

    /// The RT runtime if throttling is in effect (`rt_runtime < rt_period`;
    /// `sched_rt_runtime_exceeded()` ignores `runtime >= period`).
    pub(crate) fn rt_throttle_runtime(&self) -> Option<Nanos> {
        self.rt_runtime.filter(|r| *r < self.rt_period)
    }
}
