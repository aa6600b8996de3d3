//! The scheduler core's error type.

use super::{CpuId, Policy, TaskId};

/// Everything the scheduler core can refuse. Syscall handlers map these to
/// errno values (almost all are `EINVAL`; [`SchedError::NoSuchTask`] is
/// `ESRCH`).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SchedError {
    /// A raw policy number that is not one of `SCHED_NORMAL`, `SCHED_FIFO`,
    /// `SCHED_RR`, `SCHED_BATCH` or `SCHED_IDLE` (`SCHED_DEADLINE` is not
    /// supported).
    #[error("invalid or unsupported scheduling policy {0}")]
    InvalidPolicy(i32),
    /// `sched_priority` outside 1..=99 for `SCHED_FIFO`/`SCHED_RR`, or non-zero
    /// for the other policies (`__sched_setscheduler()` in kernel/sched/core.c).
    #[error("priority {priority} is invalid for {policy:?}")]
    InvalidPriority {
        /// The policy the priority was given with.
        policy: Policy,
        /// The rejected priority.
        priority: u8,
    },
    /// A nice value outside −20..=19.
    #[error("nice value {0} is outside -20..=19")]
    InvalidNice(i8),
    /// An affinity mask with no CPU of this scheduler in it.
    #[error("affinity mask contains no usable cpu")]
    EmptyAffinity,
    /// A CPU number outside `0..nr_cpus`.
    #[error("cpu {0} does not exist")]
    InvalidCpu(CpuId),
    /// No task with this id is known.
    #[error("no task {0}")]
    NoSuchTask(TaskId),
    /// A task with this id already exists.
    #[error("task {0} already exists")]
    TaskExists(TaskId),
    /// The operation needs the task to be running on a CPU, and it is not.
    #[error("task {0} is not running")]
    NotRunning(TaskId),
    /// The operation needs a runnable (queued or running) task, and it is
    /// blocked.
    #[error("task {0} is not runnable")]
    NotRunnable(TaskId),
    /// A [`super::SchedConfig`] or CPU count that makes no sense.
    #[error("invalid scheduler configuration: {0}")]
    InvalidConfig(&'static str),
}
