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
use crate::task::{default_terminates, ExitStatus, Pid, Process, Thread};

/// The exit work of `thread`, whose guest (if it still has one) is
/// `guest`; `status` is how the thread itself ended.
pub fn thread_exited(
    k: &Arc<Kernel>,
    thread: &Arc<Thread>,
    guest: Option<Box<dyn GuestThread>>,
    status: ExitStatus,
) {
    let ctid = std::mem::take(&mut thread.state.lock().clear_child_tid);
    if ctid != 0 && thread.process.exiting().is_none() {
        let mm = thread.mm();
        if mm.space.write(ctid, &0u32.to_ne_bytes()).is_ok() {
            crate::syscall::futex_wake(&mm, ctid, 1);
        }
    }
    // The host thread leaves the stub (PtraceThread's drop detaches it).
    drop(guest);
    if let Some(tr) = k.tracer.as_ref().filter(|t| t.traces_syscalls()) {
        match thread.process.exiting().unwrap_or(status) {
            ExitStatus::Exited(code) => tr.exited(thread.tid, code),
            ExitStatus::Signaled { signo, core } => tr.killed(thread.tid, signo, core),
        }
    }
    k.sched.exit(thread.tid);
    if k.tasks.remove_thread(thread) {
        let st = thread.process.exiting().unwrap_or(status);
        process_exited(k, &thread.process, st);
    }
}

/// `process` has no threads left: it ended with `status`.
pub fn process_exited(k: &Arc<Kernel>, process: &Arc<Process>, status: ExitStatus) {
    *process.files.lock() = FdTable::default();
    process.release_vfork();
    let fx = k.tasks.exit_process(process.pid, status);
    if let Some(pp) = fx.notify_parent {
        if pp > 0 {
            signal_process(k, pp, libc::SIGCHLD);
        }
    }
    for (pid, sig) in fx.pdeath {
        signal_process(k, pid, sig);
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

/// What a signal did to the process it was sent to.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Sent {
    /// Ignored, blocked everywhere, or fatal and acted on.
    Done,
    /// A handler would have to run: not delivered yet.
    Caught,
}

/// Sends signal `sig` to process `pid` (no-op if it is gone).
pub fn signal_process(k: &Arc<Kernel>, pid: Pid, sig: i32) -> Sent {
    if sig == 0 {
        return Sent::Done;
    }
    match k.tasks.process(pid) {
        Some(p) => send_to(&p, sig),
        None => Sent::Done,
    }
}

/// The disposition-driven action of `sig` on process `p`. Until handlers
/// can be delivered, a signal acts by its disposition: ignored ones vanish,
/// a signal every thread blocks stays away, default actions that terminate
/// end the process, and a caught one is reported as [`Sent::Caught`].
pub fn send_to(p: &Arc<Process>, sig: i32) -> Sent {
    if !(1..=64).contains(&sig) {
        return Sent::Done;
    }
    let act = p.sigactions.lock()[sig as usize - 1];
    let bit = 1u64 << (sig - 1);
    let blocked = {
        let threads = p.threads.lock();
        !threads.is_empty() && threads.iter().all(|t| t.state.lock().sigmask & bit != 0)
    };
    if sig == libc::SIGKILL {
        p.begin_exit(ExitStatus::Signaled {
            signo: sig,
            core: false,
        });
        return Sent::Done;
    }
    if act.sa_handler == libc::SIG_IGN as u64 || blocked {
        return Sent::Done;
    }
    if act.sa_handler != libc::SIG_DFL as u64 {
        return Sent::Caught;
    }
    if default_terminates(sig) {
        p.begin_exit(ExitStatus::Signaled {
            signo: sig,
            core: core_dumped(p, sig),
        });
    }
    Sent::Done
}
