//! The idle class: `SCHED_IDLE` tasks.
//!
//! **Deviation from Linux, on purpose.** In the kernel, `SCHED_IDLE` tasks
//! live in the fair class with the tiny weight 3 (`WEIGHT_IDLEPRIO`), so next
//! to a nice-0 task they still get ~0.3% of the CPU; the kernel's own "idle
//! class" only holds the per-CPU idle thread. umk gives `SCHED_IDLE` a class
//! of its own below CFS — class order RT > CFS > idle — so such a task runs
//! only when no RT or CFS task is runnable on its vCPU (what the name
//! promises and what the issue asks for).
//!
//! Among themselves idle-class tasks share the CPU fairly: the class reuses
//! [`CfsRq`](super::cfs::CfsRq) with weight 3 for every task, the same slice
//! and tick-preemption rules, and the kernel's idle-entity sleeper credit
//! (half a minimum granularity, `se_is_idle()` in `place_entity()`). They
//! never wake-preempt anything but an empty vCPU, and are preempted by any
//! RT or CFS wake-up ("Idle tasks are by definition preempted by non-idle
//! tasks", `check_preempt_wakeup()` in kernel/sched/fair.c).

use super::cfs::CfsRq;

/// An idle-class runqueue is a CFS runqueue with idle-class placement.
pub(crate) type IdleRq = CfsRq;

/// A fresh idle-class runqueue.
pub(crate) fn new_rq() -> IdleRq {
    CfsRq::new_idle_class()
}
