//! The end of a thread and of a process, and signals sent between processes.
//!
//! A thread ends ([`thread_exited`]): its `clear_child_tid` word is zeroed
//! and woken (CLONE_CHILD_CLEARTID, what pthread_join waits on), its host
//! thread leaves the stub, and it leaves the task table. The last thread of a
//! process ends the process ([`process_exited`]): descriptors close (pipe
//! readers see EOF), a vfork parent is released, the process becomes a zombie
//! for its parent (kernel/exit.c `do_exit` → `exit_notify`), the parent is
//! sent SIGCHLD, orphans get their `PR_SET_PDEATHSIG` signal, and when init
//! ends the whole run ends.

use std::sync::Arc;

use super::Kernel;
use crate::fs::FdTable;
use crate::platform::GuestThread;
use guest_abi::signal::{SIGCONT, SIGHUP};

use super::signal;
use crate::signal::SigInfo;
use crate::task::{ExitStatus, Process, Thread};

/// The exit work of `thread`, whose guest (if it still has one) is
/// `guest`; `status` is how the thread itself ended.
pub fn thread_exited(
    k: &Arc<Kernel>,
    thread: &Arc<Thread>,
    guest: Option<Box<dyn GuestThread>>,
    status: ExitStatus,
) {
    release_mm(thread, thread.process.exiting().is_none());
    if let Some(tr) = k.tracer.as_ref().filter(|t| t.traces_syscalls()) {
        match thread.process.exiting().unwrap_or(status) {
            ExitStatus::Exited(code) => tr.exited(thread.tid, code),
            ExitStatus::Signaled { signo, core } => tr.killed(thread.tid, signo, core),
        }
    }
    if thread.process.exiting().is_none() {
        // A group exit cancels a stop in progress (`zap_other_threads`).
        signal::join_group_stop(k, thread);
    }
    // Its schedstat file is closed after the parent has been told.
    let _clock = k.sched.exit_keeping(thread.tid).map(|(t, clock)| {
        thread.process.cpu.lock().dead.add(t);
        clock
    });
    if k.tasks.remove_thread(thread) {
        let st = thread.process.exiting().unwrap_or(status);
        process_exited(k, &thread.process, st);
    }
    // Only now does the host thread leave the stub (PtraceThread's drop
    // detaches it, ~7 µs): umk's own clean-up need not delay the parent's
    // wake-up. The stub cannot be reused meanwhile: its address space
    // lives as long as `thread`, which the caller still holds.
    drop(guest);
}

/// What a thread leaving its address space (by exit or execve) does to it
/// (kernel/fork.c `mm_release`): the robust futex list is walked first,
/// then, when `clear_tid` (someone else may still look at the memory),
/// `CLONE_CHILD_CLEARTID`'s word is zeroed and woken. Both are forgotten.
pub fn release_mm(thread: &Thread, clear_tid: bool) {
    let (ctid, robust) = {
        let mut st = thread.state.lock();
        st.robust_list_len = 0;
        (
            std::mem::take(&mut st.clear_child_tid),
            std::mem::take(&mut st.robust_list),
        )
    };
    if robust != 0 {
        crate::syscall::exit_robust_list(&thread.mm(), robust, thread.tid);
    }
    if ctid != 0 && clear_tid {
        let mm = thread.mm();
        if mm.space.write(ctid, &0u32.to_ne_bytes()).is_ok() {
            crate::syscall::futex_wake(&mm, ctid, 1);
        }
    }
}

/// `process` has no threads left: it ended with `status`.
pub fn process_exited(k: &Arc<Kernel>, process: &Arc<Process>, status: ExitStatus) {
    *process.files.lock() = FdTable::default();
    process.release_vfork();
    let fx = k.tasks.exit_process(process.pid, status);
    let uid = signal::guest_uid();
    if let Some(pp) = fx.notify_parent {
        if pp > 0 {
            // do_notify_parent: SIGCHLD with how the child ended.
            let (code, st) = status.cld();
            let info = SigInfo::chld(code, process.pid, uid, st, 0, 0);
            signal::send_to_pid(k, pp, info);
        }
    }
    for (pid, sig) in fx.pdeath {
        if (1..=64).contains(&sig) {
            signal::send_to_pid(k, pid, SigInfo::kill(sig as u32, process.pid, uid));
        }
    }
    for g in fx.hup_groups {
        let members = k.tasks.lock().group(g);
        for sig in [SIGHUP, SIGCONT] {
            for &pid in &members {
                signal::send_to_pid(k, pid, SigInfo::kernel(sig));
            }
        }
    }
    if fx.init_exited {
        k.init_exited(status);
    }
}

/// Whether `sig`, killing `p` by its default action, reports a core dump:
/// signal(7) "Core", and only when a core could be written (RLIMIT_CORE
/// not 0) — umk writes none, but reports the bit as such a host would.
pub fn core_dumped(p: &Process, sig: i32) -> bool {
    use crate::signal::action::{default_action, DefaultAction};
    default_action(sig as u32) == DefaultAction::Core
        && p.limit(guest_abi::resource::RLIMIT_CORE).rlim_cur > 0
}
