//! kill(2), tkill(2), tgkill(2): sending signals to processes, groups and
//! threads.
//!
//! Targets follow kill(2): `pid > 0` one process, `0` the caller's process
//! group, `-1` every process but init and the caller, `< -1` the group
//! `-pid`. A guest runs as root inside umk, so permission checks always
//! pass. Signal 0 only checks that the target exists.

use std::sync::Arc;

use super::context::SyscallContext;
use crate::error::SysResult;
use crate::kernel::exit::{send_to, Sent};
use crate::sys_err;
use crate::task::{Pid, Process};

fn check_sig(sig: u64) -> SysResult<i32> {
    if sig > 64 {
        return sys_err!(EINVAL, "bad signal");
    }
    Ok(sig as i32)
}

fn deliver(targets: &[Arc<Process>], sig: i32) -> SysResult {
    if targets.is_empty() {
        return sys_err!(ESRCH, "no such process");
    }
    if sig == 0 {
        return Ok(0);
    }
    let mut caught = false;
    for p in targets {
        caught |= send_to(p, sig) == Sent::Caught;
    }
    if caught {
        return sys_err!(ENOSYS, "signal handlers are not delivered yet");
    }
    Ok(0)
}

pub fn kill(ctx: &mut SyscallContext<'_>, a: &[u64; 6]) -> SysResult {
    let pid = a[0] as i32;
    let sig = check_sig(a[1])?;
    let me = ctx.process().pid;
    let targets: Vec<Arc<Process>> = {
        let t = ctx.kernel.tasks.lock();
        let group = |g: Pid| -> Vec<Arc<Process>> {
            t.group(g)
                .into_iter()
                .filter_map(|p| t.live(p).map(|n| n.process.clone()))
                .collect()
        };
        match pid {
            p if p > 0 => t.live(p).map(|n| n.process.clone()).into_iter().collect(),
            0 => match t.live(me) {
                Some(n) => group(n.pgid),
                None => Vec::new(),
            },
            -1 => t
                .procs
                .iter()
                .filter(|(&p, n)| p != 1 && p != me && n.zombie.is_none())
                .map(|(_, n)| n.process.clone())
                .collect(),
            p if p == i32::MIN => return sys_err!(ESRCH, "no such process group"),
            p => group(-p),
        }
    };
    deliver(&targets, sig)
}

pub fn tkill(ctx: &mut SyscallContext<'_>, a: &[u64; 6]) -> SysResult {
    let tid = a[0] as i32;
    if tid <= 0 {
        return sys_err!(EINVAL, "bad tid");
    }
    let sig = check_sig(a[1])?;
    match ctx.kernel.tasks.thread(tid) {
        Some(t) => deliver(std::slice::from_ref(&t.process), sig),
        None => sys_err!(ESRCH, "no such thread"),
    }
}

pub fn tgkill(ctx: &mut SyscallContext<'_>, a: &[u64; 6]) -> SysResult {
    let (tgid, tid) = (a[0] as i32, a[1] as i32);
    if tgid <= 0 || tid <= 0 {
        return sys_err!(EINVAL, "bad tgid or tid");
    }
    let sig = check_sig(a[2])?;
    match ctx.kernel.tasks.thread(tid) {
        Some(t) if t.process.pid == tgid => deliver(std::slice::from_ref(&t.process), sig),
        _ => sys_err!(ESRCH, "no such thread"),
    }
}
