//! wait4(2) and waitid(2): reaping children.
//!
//! A waiter looks at the children of its process (any thread's, as with
//! `__WNOTHREAD` unset) that match its selector; a zombie among them is
//! reported — and reaped unless `WNOWAIT` — otherwise the waiter sleeps on
//! the task table's condition variable until some process ends or changes
//! parent (`WNOHANG`: it returns at once). No matching child at all is
//! `ECHILD`. Stopped and continued children arrive with job-control
//! signals; until then `WUNTRACED`/`WCONTINUED` are accepted and never
//! match.

use guest_abi::structs::{Rusage, Siginfo};
use guest_abi::wait::*;

use super::context::SyscallContext;
use crate::error::SysResult;
use crate::sys_err;
use crate::task::table::Tasks;
use crate::task::{ExitStatus, Pid, Wake};

#[derive(Clone, Copy, Debug)]
enum Which {
    Any,
    Pid(Pid),
    Group(Pid),
}

/// Finds a zombie child matching `which` (reaping it unless `keep`);
/// `Ok(None)` with `nohang` when children exist but none has ended.
fn do_wait(
    ctx: &SyscallContext<'_>,
    which: Which,
    nohang: bool,
    keep: bool,
) -> SysResult<Option<(Pid, ExitStatus)>> {
    let me = ctx.process().pid;
    let tasks = &ctx.kernel.tasks;
    let mut t = tasks.lock();
    loop {
        let Some(node) = t.node(me) else {
            return sys_err!(ECHILD, "no children");
        };
        let mut any = false;
        let mut found = None;
        for &c in &node.children {
            let Some(cn) = t.node(c) else { continue };
            let matches = match which {
                Which::Any => true,
                Which::Pid(p) => c == p,
                Which::Group(g) => cn.pgid == g,
            };
            if !matches {
                continue;
            }
            any = true;
            if let Some(st) = cn.zombie {
                found = Some((c, st));
                break;
            }
        }
        if let Some((c, st)) = found {
            if !keep {
                Tasks::reap(&mut t, c);
            }
            return Ok(Some((c, st)));
        }
        if !any {
            return sys_err!(ECHILD, "no matching children");
        }
        if nohang {
            return Ok(None);
        }
        if ctx.thread.wait_on(&tasks.changed, &mut t, None) == Wake::Interrupted {
            return sys_err!(EINTR, "interrupted");
        }
    }
}

pub fn wait4(ctx: &mut SyscallContext<'_>, a: &[u64; 6]) -> SysResult {
    let (pid, status, options, rusage) = (a[0] as i32, a[1], a[2], a[3]);
    if options & !(WNOHANG | WUNTRACED | WCONTINUED | __WNOTHREAD | __WALL | __WCLONE) != 0 {
        return sys_err!(EINVAL, "unknown options");
    }
    let which = match pid {
        -1 => Which::Any,
        0 => {
            let me = ctx.process().pid;
            let g = ctx.kernel.tasks.lock().node(me).map_or(0, |n| n.pgid);
            Which::Group(g)
        }
        p if p == i32::MIN => return sys_err!(ESRCH, "no such process"),
        p if p < 0 => Which::Group(-p),
        p => Which::Pid(p),
    };
    match do_wait(ctx, which, options & WNOHANG != 0, false)? {
        None => Ok(0),
        Some((child, st)) => {
            if status != 0 {
                ctx.write_struct(status, &st.wait_status())?;
            }
            if rusage != 0 {
                ctx.write_struct(rusage, &Rusage::default())?;
            }
            Ok(child as u64)
        }
    }
}

/// The siginfo waitid reports: `si_code` CLD_EXITED/KILLED/DUMPED, the
/// child's pid and uid, `si_status` the exit code or signal.
fn chld_info(child: Pid, st: ExitStatus) -> Siginfo {
    let (code, status) = match st {
        ExitStatus::Exited(c) => (libc::CLD_EXITED, c & 0xff),
        ExitStatus::Signaled { signo, core: false } => (libc::CLD_KILLED, signo),
        ExitStatus::Signaled { signo, core: true } => (libc::CLD_DUMPED, signo),
    };
    let mut info = Siginfo::new(libc::SIGCHLD as u32, 0, code);
    info.set_si_pid(child);
    info.set_si_uid(crate::loader::stack::HostAux::get().uid as u32);
    info.set_si_status(status);
    info
}

pub fn waitid(ctx: &mut SyscallContext<'_>, a: &[u64; 6]) -> SysResult {
    let (idtype, id, infop, options, rusage) = (a[0], a[1] as i32, a[2], a[3], a[4]);
    let known =
        WNOHANG | WEXITED | WSTOPPED | WCONTINUED | WNOWAIT | __WNOTHREAD | __WALL | __WCLONE;
    if options & !known != 0 || options & (WEXITED | WSTOPPED | WCONTINUED) == 0 {
        return sys_err!(EINVAL, "bad options");
    }
    let which = match idtype {
        P_ALL => Which::Any,
        P_PID if id > 0 => Which::Pid(id),
        P_PGID if id >= 0 => {
            if id == 0 {
                let me = ctx.process().pid;
                Which::Group(ctx.kernel.tasks.lock().node(me).map_or(0, |n| n.pgid))
            } else {
                Which::Group(id)
            }
        }
        P_PIDFD => return sys_err!(EINVAL, "pidfds are not supported"),
        _ => return sys_err!(EINVAL, "bad idtype"),
    };
    if options & WEXITED == 0 {
        // Only stopped/continued children asked for: none can match yet.
        if options & WNOHANG != 0 {
            if infop != 0 {
                ctx.write_struct(infop, &Siginfo::default())?;
            }
            return Ok(0);
        }
        return sys_err!(ECHILD, "stopped/continued children are not tracked yet");
    }
    let r = do_wait(ctx, which, options & WNOHANG != 0, options & WNOWAIT != 0)?;
    if infop != 0 {
        let info = r.map_or_else(Siginfo::default, |(c, st)| chld_info(c, st));
        ctx.write_struct(infop, &info)?;
    }
    if rusage != 0 {
        ctx.write_struct(rusage, &Rusage::default())?;
    }
    Ok(0)
}
