//! Signals in motion: sending one (generation), taking one on the way back
//! to guest code (delivery), and job control (stop and continue).
//!
//! The pieces that are pure data — sets, queues, dispositions, siginfo, the
//! frame — live in `crate::signal`; this module applies them to processes
//! and threads, following kernel/signal.c:
//!
//! - [`send`] (`send_signal_locked` + `prepare_signal` + `complete_signal`):
//!   SIGKILL ends the process at once; SIGCONT continues a stopped process
//!   and discards pending stop signals (a stop signal discards a pending
//!   SIGCONT); a signal whose action is "ignore" and that the target does not
//!   block is dropped; anything else is queued on the thread or the process
//!   and one thread that does not block it is kicked (woken from a wait in
//!   umk, or stopped if it runs guest code).
//! - [`deliver`] (`get_signal` + `handle_signal`): each time a thread is
//!   about to resume guest code it takes every unblocked signal in turn; a
//!   handler gets a frame (stacked on the previous one, so the last taken
//!   runs first, as on Linux), a default action
//!   ends or stops the process, and without a handler an interrupted
//!   syscall is restarted.
//! - [`force`] (`force_sig_info`): a fault of guest code cannot be blocked
//!   or ignored — it is unblocked and reset to SIG_DFL first if it would be.
//! - Job control: a stop signal's default action stops every thread of the
//!   process ([`park_while_stopped`]); once the last one has parked (or
//!   exited: [`join_group_stop`]) the parent hears of it (SIGCHLD with
//!   `CLD_STOPPED` unless it set `SA_NOCLDSTOP`, and a `WUNTRACED` report;
//!   Linux `do_signal_stop` and `group_stop_count`);
//!   SIGCONT resumes them (`CLD_CONTINUED`, `WCONTINUED`). SIGTSTP, SIGTTIN
//!   and SIGTTOU are discarded in an orphaned process group (POSIX; Linux
//!   `is_current_pgrp_orphaned` in `get_signal`).

use std::sync::atomic::Ordering;
use std::sync::Arc;

use guest_abi::signal::*;

use super::Kernel;
use crate::error::SysResult;
use crate::platform::{GuestThread, PlatformError};
use crate::signal::action::{self, DefaultAction, Disposition};
use crate::signal::{
    enter_handler, pending, restart_without_handler, DeliverError, FaultRegs, SigInfo, SigSet,
    ThreadSignals,
};
use crate::task::{ExitStatus, JobReport, Pid, Process, Thread};

/// Whom a signal is for.
#[derive(Clone, Copy, Debug)]
pub enum Target<'a> {
    /// The process as a whole (kill(2)): any thread may take it.
    Process(&'a Arc<Process>),
    /// One thread (tkill(2), tgkill(2), faults).
    Thread(&'a Arc<Thread>),
}

impl Target<'_> {
    fn process(&self) -> &Arc<Process> {
        match self {
            Target::Process(p) => p,
            Target::Thread(t) => &t.process,
        }
    }
}

/// The uid guests run as (umk's own), for `si_uid`.
pub fn guest_uid() -> u32 {
    crate::loader::stack::HostAux::get().uid as u32
}

/// Sends `info` to `target` (kernel/signal.c `send_signal_locked`). Fails
/// only with EAGAIN, for a real-time signal over `RLIMIT_SIGPENDING`.
pub fn send(k: &Kernel, target: Target<'_>, info: SigInfo) -> SysResult<()> {
    let sig = info.signo();
    let p = target.process();
    if p.exiting().is_some() {
        // Dying already (SIGNAL_GROUP_EXIT): nothing more can happen to it.
        return Ok(());
    }
    if sig == SIGKILL {
        p.begin_exit(ExitStatus::Signaled {
            signo: SIGKILL as i32,
            core: false,
        });
        return Ok(());
    }
    // prepare_signal: stop signals and SIGCONT cancel each other.
    let drop = action::discarded_by(sig);
    if !drop.is_empty() {
        p.shared_pending.lock().remove(drop);
        for t in p.threads.lock().iter() {
            t.state.lock().pending.remove(drop);
        }
        if sig == SIGCONT {
            continue_process(k, p);
        }
    }
    let bit = SigSet::of(sig);
    let threads: Vec<Arc<Thread>> = match target {
        Target::Thread(t) => vec![t.clone()],
        Target::Process(p) => p.threads.lock().clone(),
    };
    {
        let act = p.sigactions.lock()[sig as usize - 1];
        // sig_ignored(): judged against the target thread's mask (for a
        // process, its first thread's, as kill(2) targets the leader).
        let blocked = threads.first().map_or(SigSet::EMPTY, |t| {
            let st = t.state.lock();
            SigSet(st.sigmask | st.real_blocked)
        });
        if action::ignored_when_sent(sig, &act, blocked) {
            return Ok(());
        }
    }
    let limit = p.limit(guest_abi::resource::RLIMIT_SIGPENDING).rlim_cur;
    match target {
        Target::Thread(t) => {
            t.state.lock().pending.enqueue(info, limit)?;
        }
        Target::Process(p) => {
            p.shared_pending.lock().enqueue(info, limit)?;
        }
    }
    // complete_signal: wake one thread that can take it (a stopped process
    // takes nothing but SIGKILL and SIGCONT, handled above; its threads see
    // the signal once continued).
    if let Some(t) = threads
        .iter()
        .find(|t| SigSet(t.state.lock().sigmask).intersect(bit).is_empty())
    {
        t.kick();
    }
    Ok(())
}

/// Sends `info` to process `pid` if it is alive (kernel-generated signals:
/// SIGCHLD, the parent-death signal, SIGHUP to orphaned groups).
pub fn send_to_pid(k: &Kernel, pid: Pid, info: SigInfo) {
    if let Some(p) = k.tasks.process(pid) {
        let _ = send(k, Target::Process(&p), info);
    }
}

/// Queues a synchronous signal on `thread` that it cannot block or ignore:
/// if it would be, it is unblocked and its action reset to SIG_DFL
/// (kernel/signal.c `force_sig_info_to_task`). Used for faults of guest
/// code and for frames that could not be written.
pub fn force(thread: &Arc<Thread>, info: SigInfo) {
    let sig = info.signo();
    let p = &thread.process;
    let mut acts = p.sigactions.lock();
    let mut st = thread.state.lock();
    let act = &mut acts[sig as usize - 1];
    let blocked = SigSet(st.sigmask).contains(sig);
    if blocked || act.sa_handler == SIG_IGN {
        act.sa_handler = SIG_DFL;
        if blocked {
            st.sigmask &= !SigSet::of(sig).raw();
        }
    }
    // A synchronous signal is never over the limit for the kernel
    // (`si_code > 0` overrides it).
    let _ = st.pending.enqueue(info, u64::MAX);
}

/// What [`deliver`] left the thread to do.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Delivery {
    /// Resume the guest (a handler may have been set up).
    Resume,
    /// The process stopped: park, then deliver again.
    Stopped,
    /// A signal ended the process.
    Exit(ExitStatus),
}

/// Delivers the thread's pending signals before it resumes guest code (see
/// `crate::signal`'s run-loop sequence).
pub fn deliver(
    k: &Arc<Kernel>,
    thread: &Arc<Thread>,
    guest: &mut dyn GuestThread,
) -> Result<Delivery, PlatformError> {
    let p = &thread.process;
    let mut handled = false;
    while thread.signal_pending() {
        let (info, disp) = {
            let mut acts = p.sigactions.lock();
            let mut shared = p.shared_pending.lock();
            let mut st = thread.state.lock();
            let blocked = SigSet(st.sigmask);
            let Some(info) = pending::dequeue(&mut st.pending, &mut shared, blocked) else {
                break;
            };
            let sig = info.signo();
            (
                info,
                action::take_for_delivery(sig, &mut acts[sig as usize - 1]),
            )
        };
        let sig = info.signo();
        if let Some(tr) = k.tracer.as_ref().filter(|t| t.traces_syscalls()) {
            tr.note(
                thread.tid,
                &format!(
                    "--- {} {} ---",
                    crate::trace::signal_name(sig as i32),
                    crate::trace::siginfo_text(&info.0)
                ),
            );
        }
        match disp {
            Disposition::Ignore
            | Disposition::Default(DefaultAction::Cont | DefaultAction::Ign) => {}
            Disposition::Default(DefaultAction::Term) => {
                return Ok(Delivery::Exit(end(p, sig, false)));
            }
            Disposition::Default(DefaultAction::Core) => {
                let core = super::exit::core_dumped(p, sig as i32);
                return Ok(Delivery::Exit(end(p, sig, core)));
            }
            Disposition::Default(DefaultAction::Stop) => {
                if sig != SIGSTOP && k.tasks.pgrp_orphaned_of(p.pid) {
                    continue;
                }
                stop_process(p, sig, thread.tid);
                return Ok(Delivery::Stopped);
            }
            Disposition::Handler(h) => {
                let mm = thread.mm();
                let (mut blocked, saved, mut altstack, fault) = {
                    let mut st = thread.state.lock();
                    (st.sigmask, st.saved_sigmask.take(), st.altstack, st.fault)
                };
                let r = enter_handler(
                    guest,
                    &*mm.space,
                    &info,
                    &h,
                    ThreadSignals {
                        blocked: &mut blocked,
                        saved,
                        altstack: &mut altstack,
                        fault,
                    },
                );
                match r {
                    Ok(()) => {
                        let mut st = thread.state.lock();
                        st.sigmask = blocked;
                        st.altstack = altstack;
                        // Keep going: like Linux's exit_to_user_mode_loop,
                        // every deliverable signal gets its frame now, each
                        // on top of the last; the newest handler runs first.
                        handled = true;
                    }
                    Err(DeliverError::Frame(_)) => {
                        // force_sigsegv(): a SIGSEGV whose own frame failed
                        // is reset to SIG_DFL so it cannot loop.
                        if sig == SIGSEGV {
                            p.sigactions.lock()[SIGSEGV as usize - 1].sa_handler = SIG_DFL;
                        }
                        force(thread, SigInfo::kernel(SIGSEGV));
                    }
                    Err(DeliverError::Platform(e)) => return Err(e),
                }
            }
        }
    }
    if !handled {
        // No handler runs: an interrupted syscall restarts, and the mask
        // rt_sigsuspend replaced comes back (`restore_saved_sigmask`).
        let mut regs = *guest.regs();
        let before = (regs.rax, regs.rip);
        restart_without_handler(&mut regs);
        if (regs.rax, regs.rip) != before {
            *guest.regs_mut() = regs;
        }
        let mut st = thread.state.lock();
        if let Some(m) = st.saved_sigmask.take() {
            st.sigmask = m;
        }
    }
    Ok(Delivery::Resume)
}

fn end(p: &Process, sig: u32, core: bool) -> ExitStatus {
    let st = ExitStatus::Signaled {
        signo: sig as i32,
        core,
    };
    p.begin_exit(st);
    st
}

/// A fault of guest code (`Trap::Fault`) becomes a forced signal with the
/// host's `si_code` and address; the frame's `sigcontext` gets a best guess
/// of the exception registers.
pub fn fault(thread: &Arc<Thread>, signo: i32, code: i32, addr: u64) {
    let sig = signo as u32;
    thread.state.lock().fault = FaultRegs::guess(sig, code, addr);
    force(thread, SigInfo::fault(sig, code, addr));
}

/// Stops process `p` by `sig` (the group stop of `do_signal_stop`): every
/// other thread is kicked so it parks, and the parent is told.
fn stop_process(p: &Arc<Process>, sig: u32, me: Pid) {
    let threads = p.threads.lock().clone();
    {
        let mut j = p.jobctl.lock();
        if j.stopped {
            return;
        }
        j.stopped = true;
        j.gen += 1;
        j.to_park = threads.len();
        j.sig = sig as i32;
    }
    for t in threads.iter().filter(|t| t.tid != me) {
        t.kick();
    }
}

/// `thread` takes part in the current group stop (once): the last one to
/// do so completes it and tells the parent (`do_signal_stop`). A thread
/// that exits while its process is stopping counts as stopped too
/// (`exit_signals` → `task_participate_group_stop`).
pub fn join_group_stop(k: &Kernel, thread: &Thread) {
    let p = &thread.process;
    let sig = {
        let mut j = p.jobctl.lock();
        if !j.stopped || thread.stop_gen.swap(j.gen, Ordering::AcqRel) == j.gen || j.to_park == 0 {
            return;
        }
        j.to_park -= 1;
        if j.to_park > 0 {
            return;
        }
        j.report = Some(JobReport::Stopped(j.sig));
        j.sig
    };
    notify_parent_cldstop(k, p, CLD_STOPPED, sig);
}

/// SIGCONT's side effect at send time (`prepare_signal`): a stopped process
/// runs again and its parent hears of it.
fn continue_process(k: &Kernel, p: &Arc<Process>) {
    {
        let mut j = p.jobctl.lock();
        if !j.stopped {
            return;
        }
        j.stopped = false;
        // Linux `prepare_signal`: a stop still in progress is reported to
        // the parent as CLD_STOPPED, a complete one as CLD_CONTINUED;
        // WCONTINUED sees either.
        let complete = j.to_park == 0;
        j.to_park = 0;
        j.report = Some(JobReport::Continued);
        p.jobctl_cv.notify_all();
        if !complete {
            let sig = j.sig;
            drop(j);
            notify_parent_cldstop(k, p, CLD_STOPPED, sig);
            return;
        }
    }
    notify_parent_cldstop(k, p, CLD_CONTINUED, SIGCONT as i32);
}

/// `do_notify_parent_cldstop`: SIGCHLD to the parent unless its SIGCHLD
/// action has SA_NOCLDSTOP, and waiters in wait(2) re-check.
fn notify_parent_cldstop(k: &Kernel, child: &Process, code: i32, status: i32) {
    let parent = {
        let t = k.tasks.lock();
        t.node(child.pid)
            .and_then(|n| t.live(n.ppid))
            .map(|n| n.process.clone())
    };
    k.tasks.changed.notify_all();
    let Some(parent) = parent else { return };
    let act = parent.sigactions.lock()[SIGCHLD as usize - 1];
    if act.sa_flags & SA_NOCLDSTOP != 0 {
        return;
    }
    let info = SigInfo::chld(code, child.pid, guest_uid(), status, 0, 0);
    let _ = send(k, Target::Process(&parent), info);
}

/// Keeps a thread of a stopped process out of guest code until SIGCONT or
/// SIGKILL. It holds no vCPU meanwhile (`Thread::wait_on`).
pub fn park_while_stopped(k: &Kernel, thread: &Thread) {
    join_group_stop(k, thread);
    let p = &thread.process;
    let mut j = p.jobctl.lock();
    while j.stopped && !thread.is_killed() {
        thread.clear_attention();
        thread.wait_on(&p.jobctl_cv, &mut j, None);
    }
}
