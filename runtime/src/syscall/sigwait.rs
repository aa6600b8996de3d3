//! Waiting for signals: pause(2), rt_sigsuspend(2), rt_sigtimedwait(2), and
//! restart_syscall(2), which resumes a sleep a signal interrupted.
//!
//! pause and rt_sigsuspend end only by a signal that runs a handler: they
//! return `ERESTARTNOHAND`, which the run loop turns into EINTR when a
//! handler runs and into a restart (sleeping again) when the signal was
//! ignored or stopped the process (arch/x86/kernel/signal.c).
//! rt_sigsuspend's temporary mask is put back after the handler's frame has
//! saved it (`saved_sigmask`), so the handler runs with the suspend mask
//! plus its own, and returns to the original one.

use std::time::{Duration, Instant};

use guest_abi::structs::Timespec;

use super::context::SyscallContext;
use super::signal::{SIGSET_SIZE, UNBLOCKABLE};
use crate::error::SysResult;
use crate::signal::{interrupted, SigSet, ERESTARTNOHAND};
use crate::sys_err;
use crate::task::{RestartBlock, Thread, Wake};

/// Sleeps until a signal is pending for `t` (or it must stop or die), or
/// `deadline`: `Interrupted` or `TimedOut`.
fn wait_for_signal(t: &Thread, deadline: Option<Instant>) -> Wake {
    loop {
        t.clear_attention();
        if t.is_killed() || t.process.is_stopped() || t.signal_pending() {
            return Wake::Interrupted;
        }
        if deadline.is_some_and(|d| Instant::now() >= d) {
            return Wake::TimedOut;
        }
        if t.sleep_until(deadline) == Wake::TimedOut {
            return Wake::TimedOut;
        }
    }
}

/// pause(2).
pub fn pause(ctx: &mut SyscallContext<'_>, _a: &[u64; 6]) -> SysResult {
    wait_for_signal(ctx.thread, None);
    interrupted(ERESTARTNOHAND)
}

/// rt_sigsuspend(2).
pub fn rt_sigsuspend(ctx: &mut SyscallContext<'_>, a: &[u64; 6]) -> SysResult {
    if a[1] != SIGSET_SIZE {
        return sys_err!(EINVAL, "sigsetsize must be 8");
    }
    let mask: u64 = ctx.read_struct(a[0])?;
    {
        let mut st = ctx.thread.state.lock();
        st.saved_sigmask = Some(st.sigmask);
        st.sigmask = mask & !UNBLOCKABLE;
    }
    wait_for_signal(ctx.thread, None);
    interrupted(ERESTARTNOHAND)
}

/// rt_sigtimedwait(2) (sigwaitinfo, sigtimedwait): takes a pending signal
/// of `set` without running its handler. While waiting the set is
/// unblocked so that senders pick this thread (`real_blocked` in
/// kernel/signal.c `do_sigtimedwait`). EAGAIN on timeout; EINTR when
/// another signal (or a stop) interrupts — not restarted (signal(7)).
pub fn rt_sigtimedwait(ctx: &mut SyscallContext<'_>, a: &[u64; 6]) -> SysResult {
    let (uthese, uinfo, uts, size) = (a[0], a[1], a[2], a[3]);
    if size != SIGSET_SIZE {
        return sys_err!(EINVAL, "sigsetsize must be 8");
    }
    let set = SigSet(ctx.read_struct::<u64>(uthese)? & !UNBLOCKABLE);
    let deadline = if uts != 0 {
        let ts: Timespec = ctx.read_struct(uts)?;
        if ts.tv_sec < 0 || !(0..1_000_000_000).contains(&ts.tv_nsec) {
            return sys_err!(EINVAL, "bad timeout");
        }
        Some(Instant::now() + Duration::new(ts.tv_sec as u64, ts.tv_nsec as u32))
    } else {
        None
    };
    let t = ctx.thread;
    let take = || {
        let mut shared = t.process.shared_pending.lock();
        let mut st = t.state.lock();
        let not_wanted = set.complement();
        st.pending
            .dequeue(not_wanted)
            .or_else(|| shared.dequeue(not_wanted))
    };
    let mut got = take();
    if got.is_none() && deadline.is_none_or(|d| Instant::now() < d) {
        let old = {
            let mut st = t.state.lock();
            let old = st.sigmask;
            st.real_blocked = old;
            st.sigmask &= !set.raw();
            old
        };
        wait_for_signal(t, deadline);
        {
            let mut st = t.state.lock();
            st.sigmask = old;
            st.real_blocked = 0;
        }
        got = take();
        if got.is_none() && deadline.is_none_or(|d| Instant::now() < d) {
            return sys_err!(EINTR, "interrupted by another signal");
        }
    }
    let Some(info) = got else {
        return sys_err!(EAGAIN, "timed out");
    };
    if uinfo != 0 {
        ctx.mm().write(uinfo, info.as_bytes())?;
    }
    Ok(u64::from(info.signo()))
}

/// restart_syscall(2): continues the sleep whose restart block the
/// interrupted call left; without one (after a handler) it is EINTR.
pub fn restart_syscall(ctx: &mut SyscallContext<'_>, _a: &[u64; 6]) -> SysResult {
    let block = ctx.thread.state.lock().restart.take();
    match block {
        Some(RestartBlock::Sleep {
            clock: _,
            deadline,
            rem,
        }) => super::time::sleep_until_deadline(ctx, deadline, rem),
        None => sys_err!(EINTR, "nothing to restart"),
    }
}
