//! Signal state: rt_sigaction, rt_sigprocmask, sigaltstack, rt_sigpending,
//! and rt_sigreturn (the end of a handler). Delivery itself happens in the
//! run loop (`kernel::signal::deliver`); the calls that wait for signals are
//! in `sigwait.rs`.

use guest_abi::signal::{
    SIGKILL, SIGSEGV, SIGSTOP, SIG_BLOCK, SIG_DFL, SIG_IGN, SIG_SETMASK, SIG_UNBLOCK,
};
use guest_abi::structs::{KernelSigaction, StackT};

use super::context::SyscallContext;
use crate::error::SysResult;
use crate::signal::{SigInfo, SigSet, ThreadSignals};
use crate::sys_err;
use crate::task::NSIG;

/// The kernel's sigset_t is 64 bits; rt_sig* calls require exactly that size.
pub(super) const SIGSET_SIZE: u64 = 8;

/// Signals that can be neither caught nor blocked.
pub(super) const UNBLOCKABLE: u64 = (1 << (SIGKILL - 1)) | (1 << (SIGSTOP - 1));

/// rt_sigaction(2).
pub fn rt_sigaction(ctx: &mut SyscallContext<'_>, a: &[u64; 6]) -> SysResult {
    let (sig, act, oact, size) = (a[0], a[1], a[2], a[3]);
    if size != SIGSET_SIZE {
        return sys_err!(EINVAL, "sigsetsize must be 8");
    }
    if sig == 0 || sig > NSIG as u64 {
        return sys_err!(EINVAL, "bad signal number");
    }
    let new = if act != 0 {
        Some(ctx.read_struct::<KernelSigaction>(act)?)
    } else {
        None
    };
    if new.is_some() && (sig == u64::from(SIGKILL) || sig == u64::from(SIGSTOP)) {
        return sys_err!(EINVAL, "SIGKILL and SIGSTOP cannot be caught");
    }
    let old = {
        let mut acts = ctx.process().sigactions.lock();
        let i = (sig - 1) as usize;
        let old = acts[i];
        if let Some(mut n) = new {
            // kernel/signal.c do_sigaction: SIGKILL/SIGSTOP never blocked.
            n.sa_mask &= !UNBLOCKABLE;
            acts[i] = n;
            // POSIX (do_sigaction): setting an action that ignores the
            // signal discards its pending instances, in every thread.
            let ignores = n.sa_handler == SIG_IGN
                || (n.sa_handler == SIG_DFL && SigSet::KERNEL_IGNORE.contains(sig as u32));
            if ignores {
                let p = ctx.process();
                let mask = SigSet::of(sig as u32);
                p.shared_pending.lock().remove(mask);
                for t in p.threads.lock().iter() {
                    t.state.lock().pending.remove(mask);
                }
            }
        }
        old
    };
    if oact != 0 {
        ctx.write_struct(oact, &old)?;
    }
    Ok(0)
}

/// rt_sigprocmask(2).
pub fn rt_sigprocmask(ctx: &mut SyscallContext<'_>, a: &[u64; 6]) -> SysResult {
    let (how, set, oset, size) = (a[0], a[1], a[2], a[3]);
    if size != SIGSET_SIZE {
        return sys_err!(EINVAL, "sigsetsize must be 8");
    }
    let new = if set != 0 {
        Some(ctx.read_struct::<u64>(set)?)
    } else {
        None
    };
    let old = {
        let mut st = ctx.thread.state.lock();
        let old = st.sigmask;
        if let Some(s) = new {
            st.sigmask = match how {
                SIG_BLOCK => old | s,
                SIG_UNBLOCK => old & !s,
                SIG_SETMASK => s,
                _ => return sys_err!(EINVAL, "bad how"),
            } & !UNBLOCKABLE;
        }
        old
    };
    if oset != 0 {
        ctx.write_struct(oset, &old)?;
    }
    Ok(0)
}

/// sigaltstack(2): `crate::signal::altstack` (SS_ONSTACK and EPERM depend
/// on the caller's stack pointer).
pub fn sigaltstack(ctx: &mut SyscallContext<'_>, a: &[u64; 6]) -> SysResult {
    use crate::signal::altstack;
    let (ss, old_ss) = (a[0], a[1]);
    let new = if ss != 0 {
        Some(ctx.read_struct::<StackT>(ss)?)
    } else {
        None
    };
    let sp = ctx.guest.regs().rsp;
    let old = {
        let mut st = ctx.thread.state.lock();
        let old = altstack::report(&st.altstack, sp);
        if let Some(n) = new {
            altstack::set(&mut st.altstack, &n, sp)?;
        }
        old
    };
    if old_ss != 0 {
        ctx.write_struct(old_ss, &old)?;
    }
    Ok(0)
}

/// rt_sigpending(2): the signals pending for the thread or its process
/// that it blocks (kernel/signal.c `do_sigpending`).
pub fn rt_sigpending(ctx: &mut SyscallContext<'_>, a: &[u64; 6]) -> SysResult {
    if a[1] > SIGSET_SIZE {
        return sys_err!(EINVAL, "sigsetsize too large");
    }
    let set = {
        let p = ctx.process();
        let shared = p.shared_pending.lock().pending();
        let st = ctx.thread.state.lock();
        st.pending
            .pending()
            .union(shared)
            .intersect(SigSet(st.sigmask))
    };
    let bytes = set.raw().to_ne_bytes();
    ctx.mm().write(a[0], &bytes[..a[1] as usize])?;
    Ok(0)
}

/// rt_sigreturn(2): back from a handler; registers, FPU state, mask and
/// alternate stack come from the frame on the stack. A bad frame is a
/// forced SIGSEGV (signal_64.c `SYSCALL_DEFINE0(rt_sigreturn)`:
/// `signal_fault` + `force_sig(SIGSEGV)`, returning 0).
pub fn rt_sigreturn(ctx: &mut SyscallContext<'_>, _a: &[u64; 6]) -> SysResult {
    use crate::signal::{sigreturn, SigreturnFailure};
    let (mut blocked, mut altstack, fault) = {
        let mut st = ctx.thread.state.lock();
        // A restart_syscall after a handler returns EINTR
        // (`restart_block.fn = do_no_restart_syscall`).
        st.restart = None;
        (st.sigmask, st.altstack, st.fault)
    };
    let mm = ctx.mm.clone();
    let r = sigreturn(
        ctx.guest,
        &*mm.space,
        ThreadSignals {
            blocked: &mut blocked,
            saved: None,
            altstack: &mut altstack,
            fault,
        },
    );
    {
        let mut st = ctx.thread.state.lock();
        st.sigmask = blocked & !UNBLOCKABLE;
        st.altstack = altstack;
    }
    match r {
        Ok(rax) => Ok(rax),
        Err(SigreturnFailure::Frame(_)) => {
            crate::kernel::signal::force(ctx.thread, SigInfo::kernel(SIGSEGV));
            Ok(0)
        }
        Err(SigreturnFailure::Platform(e)) => {
            crate::log::warn(&format!("rt_sigreturn: {e}"));
            sys_err!(EFAULT, "registers could not be restored")
        }
    }
}
