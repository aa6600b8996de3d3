//! kill(2), tkill(2), tgkill(2), rt_sigqueueinfo(2), rt_tgsigqueueinfo(2):
//! sending signals to processes, groups and threads.
//!
//! Targets follow kill(2): `pid > 0` one process, `0` the caller's process
//! group, `-1` every process but init and the caller, `< -1` the group
//! `-pid`. A guest runs as root inside umk, so permission checks always
//! pass. Signal 0 only checks that the target exists. Generation itself is
//! `kernel::signal::send`.

use std::sync::Arc;

use guest_abi::structs::Siginfo;

use super::context::SyscallContext;
use crate::error::SysResult;
use crate::kernel::signal::{guest_uid, send, Target};
use crate::signal::SigInfo;
use crate::sys_err;
use crate::task::{Pid, Process, Thread};

fn check_sig(sig: u64) -> SysResult<u32> {
    if sig > 64 {
        return sys_err!(EINVAL, "bad signal");
    }
    Ok(sig as u32)
}

/// The processes kill(2)'s `pid` names (ESRCH if none).
fn kill_targets(ctx: &SyscallContext<'_>, pid: i32) -> SysResult<Vec<Arc<Process>>> {
    let me = ctx.process().pid;
    let t = ctx.kernel.tasks.lock();
    // Zombies are still there to be signalled (to no effect): kill(zombie,
    // 0) succeeds until the zombie is reaped.
    let group = |g: Pid| -> Vec<Arc<Process>> {
        t.procs
            .values()
            .filter(|n| n.pgid == g)
            .map(|n| n.process.clone())
            .collect()
    };
    let v: Vec<Arc<Process>> = match pid {
        p if p > 0 => t.node(p).map(|n| n.process.clone()).into_iter().collect(),
        0 => match t.node(me) {
            Some(n) => group(n.pgid),
            None => Vec::new(),
        },
        -1 => t
            .procs
            .iter()
            .filter(|(&p, _)| p != 1 && p != me)
            .map(|(_, n)| n.process.clone())
            .collect(),
        p if p == i32::MIN => return sys_err!(ESRCH, "no such process group"),
        p => group(-p),
    };
    if v.is_empty() {
        return sys_err!(ESRCH, "no such process");
    }
    Ok(v)
}

/// kill(2). The target is looked up before the signal number is checked:
/// ESRCH wins over EINVAL (kernel/signal.c `kill_pid_info` →
/// `check_kill_permission`).
pub fn kill(ctx: &mut SyscallContext<'_>, a: &[u64; 6]) -> SysResult {
    let pid = a[0] as i32;
    let targets = kill_targets(ctx, pid)?;
    let sig = check_sig(a[1])?;
    if sig == 0 {
        return Ok(0);
    }
    let info = SigInfo::kill(sig, ctx.process().pid, guest_uid());
    // A group kill succeeds if the signal reached any member (kill(2)).
    let mut last = Ok(());
    let mut any = false;
    for p in &targets {
        match send(ctx.kernel, Target::Process(p), info) {
            Ok(()) => any = true,
            Err(e) => last = Err(e),
        }
    }
    if any {
        Ok(0)
    } else {
        last.map(|()| 0)
    }
}

/// The thread `tid`, in process `tgid` if given (ESRCH otherwise).
fn thread_in(ctx: &SyscallContext<'_>, tgid: Option<i32>, tid: i32) -> SysResult<Arc<Thread>> {
    match ctx.kernel.tasks.thread(tid) {
        Some(t) if tgid.is_none_or(|g| t.process.pid == g) => Ok(t),
        _ => sys_err!(ESRCH, "no such thread"),
    }
}

fn send_thread(ctx: &SyscallContext<'_>, t: &Arc<Thread>, sig: u32) -> SysResult {
    if sig == 0 {
        return Ok(0);
    }
    let info = SigInfo::tkill(sig, ctx.process().pid, guest_uid());
    send(ctx.kernel, Target::Thread(t), info)?;
    Ok(0)
}

pub fn tkill(ctx: &mut SyscallContext<'_>, a: &[u64; 6]) -> SysResult {
    let tid = a[0] as i32;
    if tid <= 0 {
        return sys_err!(EINVAL, "bad tid");
    }
    let t = thread_in(ctx, None, tid)?;
    let sig = check_sig(a[1])?;
    send_thread(ctx, &t, sig)
}

pub fn tgkill(ctx: &mut SyscallContext<'_>, a: &[u64; 6]) -> SysResult {
    let (tgid, tid) = (a[0] as i32, a[1] as i32);
    if tgid <= 0 || tid <= 0 {
        return sys_err!(EINVAL, "bad tgid or tid");
    }
    let t = thread_in(ctx, Some(tgid), tid)?;
    let sig = check_sig(a[2])?;
    send_thread(ctx, &t, sig)
}

/// rt_sigqueueinfo(2): `info` from the guest to process `tgid`.
pub fn rt_sigqueueinfo(ctx: &mut SyscallContext<'_>, a: &[u64; 6]) -> SysResult {
    let (tgid, sig) = (a[0] as i32, check_sig(a[1])?);
    let raw: Siginfo = ctx.read_struct(a[2])?;
    let info = SigInfo::queue(sig, &raw, tgid == ctx.process().pid)?;
    let p = match ctx.kernel.tasks.process(tgid) {
        Some(p) if tgid > 0 => p,
        _ => return sys_err!(ESRCH, "no such process"),
    };
    if sig == 0 {
        return Ok(0);
    }
    send(ctx.kernel, Target::Process(&p), info)?;
    Ok(0)
}

/// rt_tgsigqueueinfo(2): `info` from the guest to thread `tid` of `tgid`.
pub fn rt_tgsigqueueinfo(ctx: &mut SyscallContext<'_>, a: &[u64; 6]) -> SysResult {
    let (tgid, tid) = (a[0] as i32, a[1] as i32);
    if tgid <= 0 || tid <= 0 {
        return sys_err!(EINVAL, "bad tgid or tid");
    }
    let sig = check_sig(a[2])?;
    let raw: Siginfo = ctx.read_struct(a[3])?;
    let info = SigInfo::queue(sig, &raw, tid == ctx.thread.tid)?;
    let t = thread_in(ctx, Some(tgid), tid)?;
    if sig == 0 {
        return Ok(0);
    }
    send(ctx.kernel, Target::Thread(&t), info)?;
    Ok(0)
}
