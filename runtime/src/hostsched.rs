//! How the host schedules umk's helper threads and stub threads that are
//! between jobs (the pinning of busy vCPUs is `kernel/placement.rs`).
//!
//! Background work — freeing frames, emptying a retired stub — must not
//! take a host CPU from a guest or its kernel thread: on a two-CPU host a
//! helper woken next to a guest delays every ptrace round trip it shares
//! the CPU with. So such work is unpinned (any CPU umk may use) and, where
//! the host allows it, put in `SCHED_IDLE`, which runs only on a CPU with
//! nothing else to do (sched(7)). Helpers that wake often but must not
//! starve (the stub spawner, the fault threads) use `SCHED_BATCH` instead:
//! normal shares, but no wake-up preemption.

use std::mem::MaybeUninit;

/// Lets host thread `tid` (0: the calling thread) run on any CPU umk may
/// use again. Failures only cost speed.
pub fn unpin(tid: i32) {
    let mut set = MaybeUninit::<libc::cpu_set_t>::zeroed();
    let size = std::mem::size_of::<libc::cpu_set_t>();
    // SAFETY: `set` is a writable cpu_set_t of `size` bytes. The process's
    // own mask is read from its main thread (umk's pid), never pinned.
    if unsafe { libc::sched_getaffinity(libc::getpid(), size, set.as_mut_ptr()) } != 0 {
        return;
    }
    // SAFETY: filled in by the kernel above; `tid` is 0, one of umk's
    // threads or a stub's.
    unsafe { libc::sched_setaffinity(tid, size, set.as_ptr()) };
}

/// Puts host thread `tid` (0: the calling thread) in `SCHED_IDLE` (`idle`)
/// or back in `SCHED_OTHER`; false if the host refused. Leaving
/// `SCHED_IDLE` needs privilege (or an `RLIMIT_NICE` few have), so callers
/// that must go back only enter it when [`can_leave_idle`] says so.
pub fn set_idle(tid: i32, idle: bool) -> bool {
    let param = libc::sched_param { sched_priority: 0 };
    let policy = if idle {
        libc::SCHED_IDLE
    } else {
        libc::SCHED_OTHER
    };
    // SAFETY: plain syscall with a valid parameter block.
    unsafe { libc::sched_setscheduler(tid, policy, &param) == 0 }
}

/// Puts the calling thread in `SCHED_BATCH`: scheduled like any other
/// thread, but its wake-ups never preempt the thread running on the CPU
/// it wakes on (sched(7)). For helpers that must not wait long but whose
/// wake-up should not cut into a guest's ptrace round trip. Needs no
/// privilege; failures only cost speed.
pub fn set_batch() {
    let param = libc::sched_param { sched_priority: 0 };
    // SAFETY: plain syscall on the calling thread with a valid parameter
    // block.
    unsafe { libc::sched_setscheduler(0, libc::SCHED_BATCH, &param) };
}

/// Whether a thread put in `SCHED_IDLE` can be taken out again: umk runs
/// as root (CI and the usual case); otherwise background work that must
/// return to normal scheduling stays in `SCHED_OTHER`.
pub fn can_leave_idle() -> bool {
    // SAFETY: geteuid cannot fail.
    unsafe { libc::geteuid() == 0 }
}
