//! Signal state: rt_sigaction, rt_sigprocmask, sigaltstack. The state is
//! kept as Linux keeps it; delivery arrives with the processes issue.

use guest_abi::signal::{SIGKILL, SIGSTOP, SIG_BLOCK, SIG_SETMASK, SIG_UNBLOCK};
use guest_abi::structs::{KernelSigaction, StackT};

use super::context::SyscallContext;
use crate::error::SysResult;
use crate::sys_err;
use crate::task::NSIG;

/// The kernel's sigset_t is 64 bits; rt_sig* calls require exactly that size.
const SIGSET_SIZE: u64 = 8;

/// Signals that can be neither caught nor blocked.
const UNBLOCKABLE: u64 = (1 << (SIGKILL - 1)) | (1 << (SIGSTOP - 1));

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
