//! The process tree as a guest sees it: parent, process group and session
//! ids (getppid(2), setpgid(2), setsid(2), getsid(2)), and
//! `PR_SET_CHILD_SUBREAPER`.

use super::context::SyscallContext;
use crate::error::SysResult;
use crate::sys_err;
use crate::task::table::Table;
use crate::task::Pid;

fn me(ctx: &SyscallContext<'_>) -> Pid {
    ctx.process().pid
}

/// `pid` 0 means the caller; anything else must be a process in the table
/// (a zombie counts until it is reaped, as `find_task_by_vpid` finds it).
fn target(t: &Table, ctx: &SyscallContext<'_>, pid: u64) -> SysResult<Pid> {
    let pid = pid as i32;
    let pid = if pid == 0 { me(ctx) } else { pid };
    if pid < 0 || t.node(pid).is_none() {
        return sys_err!(ESRCH, "no such process");
    }
    Ok(pid)
}

pub fn getppid(ctx: &mut SyscallContext<'_>, _a: &[u64; 6]) -> SysResult {
    let t = ctx.kernel.tasks.lock();
    Ok(t.node(me(ctx)).map_or(0, |n| n.ppid) as u64)
}

pub fn getpgrp(ctx: &mut SyscallContext<'_>, _a: &[u64; 6]) -> SysResult {
    let t = ctx.kernel.tasks.lock();
    Ok(t.node(me(ctx)).map_or(0, |n| n.pgid) as u64)
}

pub fn getpgid(ctx: &mut SyscallContext<'_>, a: &[u64; 6]) -> SysResult {
    let t = ctx.kernel.tasks.lock();
    let pid = target(&t, ctx, a[0])?;
    Ok(t.node(pid).map_or(0, |n| n.pgid) as u64)
}

pub fn getsid(ctx: &mut SyscallContext<'_>, a: &[u64; 6]) -> SysResult {
    let t = ctx.kernel.tasks.lock();
    let pid = target(&t, ctx, a[0])?;
    Ok(t.node(pid).map_or(0, |n| n.sid) as u64)
}

/// setpgid(2), with the man page's errors in the kernel's order
/// (kernel/sys.c `SYSCALL_DEFINE2(setpgid)`).
pub fn setpgid(ctx: &mut SyscallContext<'_>, a: &[u64; 6]) -> SysResult {
    let (pid, pgid) = (a[0] as i32, a[1] as i32);
    let caller = me(ctx);
    let pid = if pid == 0 { caller } else { pid };
    let pgid = if pgid == 0 { pid } else { pgid };
    if pgid < 0 || pid < 0 {
        return sys_err!(EINVAL, "negative pgid");
    }
    let mut t = ctx.kernel.tasks.lock();
    let Some(caller_node) = t.node(caller) else {
        return sys_err!(ESRCH, "no such process");
    };
    let caller_sid = caller_node.sid;
    let Some(n) = t.live(pid) else {
        return sys_err!(ESRCH, "no such process");
    };
    if pid != caller {
        if n.ppid != caller {
            return sys_err!(ESRCH, "not the caller or its child");
        }
        if n.execed {
            return sys_err!(EACCES, "the child has already exec'd");
        }
        if n.sid != caller_sid {
            return sys_err!(EPERM, "the child is in another session");
        }
    }
    if n.sid == pid {
        return sys_err!(EPERM, "a session leader cannot change group");
    }
    let sid = n.sid;
    if pgid != pid
        && !t
            .procs
            .values()
            .any(|p| p.pgid == pgid && p.sid == sid && p.zombie.is_none())
    {
        return sys_err!(EPERM, "no such process group in the session");
    }
    if let Some(n) = t.procs.get_mut(&pid) {
        n.pgid = pgid;
    }
    Ok(0)
}

/// setsid(2): EPERM when a process group with the caller's pid exists
/// (in particular when the caller leads one).
pub fn setsid(ctx: &mut SyscallContext<'_>, _a: &[u64; 6]) -> SysResult {
    let pid = me(ctx);
    let mut t = ctx.kernel.tasks.lock();
    if t.procs
        .values()
        .any(|n| n.pgid == pid && n.zombie.is_none())
    {
        return sys_err!(EPERM, "already a process group leader");
    }
    if let Some(n) = t.procs.get_mut(&pid) {
        n.pgid = pid;
        n.sid = pid;
    }
    Ok(pid as u64)
}

/// `PR_SET_CHILD_SUBREAPER` / `PR_GET_CHILD_SUBREAPER` (prctl(2)).
pub fn set_subreaper(ctx: &SyscallContext<'_>, on: bool) {
    let pid = me(ctx);
    if let Some(n) = ctx.kernel.tasks.lock().procs.get_mut(&pid) {
        n.subreaper = on;
    }
}

pub fn is_subreaper(ctx: &SyscallContext<'_>) -> bool {
    let pid = me(ctx);
    ctx.kernel
        .tasks
        .lock()
        .node(pid)
        .is_some_and(|n| n.subreaper)
}
