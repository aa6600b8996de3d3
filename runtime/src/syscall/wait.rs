//! wait4(2) and waitid(2): reaping children.
//!
//! A waiter looks at the children of its process (any thread's, as with
//! `__WNOTHREAD` unset) that match its selector; a zombie among them is
//! reported — and reaped unless `WNOWAIT` — otherwise the waiter sleeps on
//! the task table's condition variable until some process ends or changes
//! parent (`WNOHANG`: it returns at once). No matching child at all is
//! `ECHILD`. A stopped or continued child (job control,
//! `kernel::signal`) is reported once to `WUNTRACED`/`WSTOPPED` or
//! `WCONTINUED` waiters.

use guest_abi::structs::{Rusage, Siginfo};
use guest_abi::wait::*;

use super::context::SyscallContext;
use crate::error::SysResult;
use crate::sched::dispatch::CpuTimes;
use crate::sys_err;
use crate::task::table::Tasks;
use crate::task::{ExitStatus, JobReport, Pid, Wake};

#[derive(Clone, Copy, Debug)]
enum Which {
    Any,
    Pid(Pid),
    Group(Pid),
}

/// What a waiter wants to hear of, and how.
#[derive(Clone, Copy, Debug)]
struct Want {
    exited: bool,
    stopped: bool,
    continued: bool,
    nohang: bool,
    /// WNOWAIT: report without consuming (no reap, the report stays).
    keep: bool,
}

/// What happened to a child.
#[derive(Clone, Copy, Debug)]
enum Event {
    Exited(ExitStatus),
    Stopped(i32),
    Continued,
}

impl Event {
    /// The wait(2) status word (`WIFSTOPPED`: sig << 8 | 0x7f;
    /// `WIFCONTINUED`: 0xffff).
    fn status(self) -> i32 {
        match self {
            Event::Exited(st) => st.wait_status(),
            Event::Stopped(sig) => (sig << 8) | 0x7f,
            Event::Continued => 0xffff,
        }
    }
}

/// Finds a child matching `which` with something `want` asks for: a zombie
/// (reaped unless `keep`), a stop or a continue not yet reported
/// (kernel/exit.c `wait_task_zombie`, `wait_task_stopped`,
/// `wait_task_continued`). `Ok(None)` with `nohang` when children exist but
/// none has news.
fn do_wait(
    ctx: &SyscallContext<'_>,
    which: Which,
    want: Want,
) -> SysResult<Option<(Pid, Event, CpuTimes)>> {
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
                if want.exited {
                    found = Some((c, Event::Exited(st)));
                    break;
                }
                continue;
            }
            if !(want.stopped || want.continued) {
                continue;
            }
            let mut j = cn.process.jobctl.lock();
            let ev = match j.report {
                Some(JobReport::Stopped(sig)) if want.stopped && j.stopped => Event::Stopped(sig),
                Some(JobReport::Continued) if want.continued => Event::Continued,
                _ => continue,
            };
            if !want.keep {
                j.report = None;
            }
            found = Some((c, ev));
            break;
        }
        if let Some((c, ev)) = found {
            let mut times = CpuTimes::default();
            if matches!(ev, Event::Exited(_)) {
                if let Some(child) = t.node(c).map(|n| n.process.clone()) {
                    times = child.cpu.lock().total();
                }
                if !want.keep {
                    ctx.process().cpu.lock().children.add(times);
                    Tasks::reap(&mut t, c);
                }
            }
            return Ok(Some((c, ev, times)));
        }
        if !any {
            return sys_err!(ECHILD, "no matching children");
        }
        if want.nohang {
            return Ok(None);
        }
        if ctx.thread.wait_on(&tasks.changed, &mut t, None) == Wake::Interrupted {
            // Restarted unless a handler without SA_RESTART runs.
            return crate::signal::interrupted(crate::signal::ERESTARTSYS);
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
    let want = Want {
        exited: true,
        stopped: options & WUNTRACED != 0,
        continued: options & WCONTINUED != 0,
        nohang: options & WNOHANG != 0,
        keep: false,
    };
    match do_wait(ctx, which, want)? {
        None => Ok(0),
        Some((child, ev, times)) => {
            if status != 0 {
                ctx.write_struct(status, &ev.status())?;
            }
            if rusage != 0 {
                ctx.write_struct(rusage, &rusage_of(times))?;
            }
            Ok(child as u64)
        }
    }
}

/// The siginfo waitid reports: `si_code` CLD_EXITED/KILLED/DUMPED/
/// STOPPED/CONTINUED, the child's pid and uid, `si_status` the exit code or
/// signal.
fn chld_info(child: Pid, ev: Event) -> Siginfo {
    let (code, status) = match ev {
        Event::Exited(st) => st.cld(),
        Event::Stopped(sig) => (libc::CLD_STOPPED, sig),
        Event::Continued => (libc::CLD_CONTINUED, libc::SIGCONT),
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
    let want = Want {
        exited: options & WEXITED != 0,
        stopped: options & WSTOPPED != 0,
        continued: options & WCONTINUED != 0,
        nohang: options & WNOHANG != 0,
        keep: options & WNOWAIT != 0,
    };
    let r = do_wait(ctx, which, want)?;
    if infop != 0 {
        let info = r.map_or_else(Siginfo::default, |(c, st, _)| chld_info(c, st));
        ctx.write_struct(infop, &info)?;
    }
    if rusage != 0 {
        let times = r.map(|(_, _, t)| t).unwrap_or_default();
        ctx.write_struct(rusage, &rusage_of(times))?;
    }
    Ok(0)
}

/// The rusage wait4/waitid report for a reaped child: its CPU times (its
/// own and its waited-for children's); the other fields stay zero.
fn rusage_of(t: CpuTimes) -> Rusage {
    Rusage {
        ru_utime: super::time::timeval_of(t.user),
        ru_stime: super::time::timeval_of(t.system),
        ..Rusage::default()
    }
}
