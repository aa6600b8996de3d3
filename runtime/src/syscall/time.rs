//! Time: clock_gettime, clock_getres, gettimeofday, time, nanosleep,
//! clock_nanosleep, times, getrusage.
//!
//! Wall and monotonic clocks are the host's (umk does not virtualize time).
//! CPU time is what umk's scheduler charged (`sched::dispatch`,
//! "Accounting"): user time is the guest thread's stub thread's host CPU
//! time, system time its kernel thread's while it handles the thread's
//! traps. That is the time the scheduler shares out by weight, so a guest
//! measuring its CPU time sees the shares the scheduler gave it. (The
//! stub's own host clocks would leave out the syscall work, which Linux
//! counts as system time.)
//!
//! CPU clock ids (include/linux/posix-timers.h): `CLOCK_PROCESS_CPUTIME_ID`
//! and `CLOCK_THREAD_CPUTIME_ID`, and `(~pid << 3) | perthread << 2 | which`
//! from `clock_getcpuclockid`/`pthread_getcpuclockid`, with `which` 0 PROF
//! (user + system), 1 VIRT (user), 2 SCHED (run time; here also user +
//! system).

use guest_abi::clock::*;
use guest_abi::structs::{Timespec, Timeval};

use super::context::SyscallContext;
use crate::error::SysResult;
use crate::fs::host::host_errno;
use crate::sched::dispatch::CpuTimes;
use crate::sys_err;

/// `CPUCLOCK_PERTHREAD_MASK`, `CPUCLOCK_CLOCK_MASK`, the `which` values and
/// `CLOCKFD` (include/linux/posix-timers_types.h).
const CPUCLOCK_PERTHREAD: i32 = 4;
const CPUCLOCK_CLOCK_MASK: i32 = 3;
const CPUCLOCK_VIRT: i32 = 1;
const CPUCLOCK_SCHED: i32 = 2;
const CLOCKFD: i32 = 3;

/// Whose CPU time a CPU clock measures, and which part.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
struct CpuClock {
    /// A thread (tid) or a thread group (tgid).
    target: i32,
    thread: bool,
    which: i32,
}

/// The CPU clock `id` names, `Ok(None)` if it is not a CPU clock. Like
/// kernel/time/posix-cpu-timers.c `lookup_task()`: pid 0 is the caller; a
/// thread clock must be of the caller's thread group; a process clock must
/// name a thread group leader (or, to read it, the caller itself). A bad
/// target is EINVAL.
fn cpu_clock(ctx: &SyscallContext<'_>, id: i32, gettime: bool) -> SysResult<Option<CpuClock>> {
    let (pid, thread, which) = match id {
        CLOCK_PROCESS_CPUTIME_ID => (0, false, CPUCLOCK_SCHED),
        CLOCK_THREAD_CPUTIME_ID => (0, true, CPUCLOCK_SCHED),
        id if id < 0 && id & CPUCLOCK_CLOCK_MASK != CLOCKFD => (
            !(id >> 3),
            id & CPUCLOCK_PERTHREAD != 0,
            id & CPUCLOCK_CLOCK_MASK,
        ),
        _ => return Ok(None),
    };
    let me = ctx.thread.tid;
    let tgid = ctx.process().pid;
    let target = if pid == 0 {
        if thread {
            me
        } else {
            tgid
        }
    } else {
        let Some(t) = ctx.kernel.tasks.thread(pid) else {
            return sys_err!(EINVAL, "no such task for the CPU clock");
        };
        let group = t.process.pid;
        if thread && group != tgid {
            return sys_err!(EINVAL, "thread CPU clock of another process");
        }
        if !thread && group != pid && !(gettime && pid == me) {
            return sys_err!(EINVAL, "process CPU clock of a non-leader thread");
        }
        if thread {
            pid
        } else {
            group
        }
    };
    Ok(Some(CpuClock {
        target,
        thread,
        which,
    }))
}

/// The times charged to `c`'s target so far.
fn cpu_times(ctx: &SyscallContext<'_>, c: CpuClock) -> CpuTimes {
    let sched = &ctx.kernel.sched;
    let t = if c.thread {
        sched.cpu_times(c.target)
    } else {
        sched.group_times(c.target)
    };
    t.unwrap_or_default()
}

fn cpu_clock_now(ctx: &SyscallContext<'_>, c: CpuClock) -> Timespec {
    let t = cpu_times(ctx, c);
    let ns = if c.which == CPUCLOCK_VIRT {
        t.user
    } else {
        t.total()
    };
    timespec_of(ns)
}

fn timespec_of(ns: u64) -> Timespec {
    Timespec {
        tv_sec: (ns / 1_000_000_000) as i64,
        tv_nsec: (ns % 1_000_000_000) as i64,
    }
}

/// The host clock that answers guest clock `id` (not a CPU clock: those
/// are [`cpu_clock`]'s).
fn host_clock(id: i32) -> SysResult<libc::clockid_t> {
    match id {
        CLOCK_REALTIME
        | CLOCK_MONOTONIC
        | CLOCK_MONOTONIC_RAW
        | CLOCK_REALTIME_COARSE
        | CLOCK_MONOTONIC_COARSE
        | CLOCK_BOOTTIME
        | CLOCK_TAI => Ok(id),
        _ => sys_err!(EINVAL, "unsupported clock"),
    }
}

fn now(clock: libc::clockid_t) -> SysResult<Timespec> {
    let mut ts = libc::timespec {
        tv_sec: 0,
        tv_nsec: 0,
    };
    // SAFETY: `ts` is a valid out pointer.
    if unsafe { libc::clock_gettime(clock, &mut ts) } < 0 {
        return Err(host_errno("clock_gettime"));
    }
    Ok(Timespec {
        tv_sec: ts.tv_sec,
        tv_nsec: ts.tv_nsec,
    })
}

pub fn clock_gettime(ctx: &mut SyscallContext<'_>, a: &[u64; 6]) -> SysResult {
    let id = a[0] as i32;
    let ts = match cpu_clock(ctx, id, true)? {
        Some(c) => cpu_clock_now(ctx, c),
        None => now(host_clock(id)?)?,
    };
    ctx.write_struct(a[1], &ts)?;
    Ok(0)
}

pub fn clock_getres(ctx: &mut SyscallContext<'_>, a: &[u64; 6]) -> SysResult {
    let id = a[0] as i32;
    if let Some(c) = cpu_clock(ctx, id, false)? {
        // posix_cpu_clock_getres(): 1 ns for the SCHED clocks, a host tick
        // for PROF and VIRT; the host's own clock of the same kind says.
        let perthread = if c.thread { CPUCLOCK_PERTHREAD } else { 0 };
        let own = (!0 << 3) | perthread | c.which;
        return getres(ctx, own, a[1]);
    }
    getres(ctx, host_clock(id)?, a[1])
}

fn getres(ctx: &mut SyscallContext<'_>, c: libc::clockid_t, out: u64) -> SysResult {
    let mut ts = libc::timespec {
        tv_sec: 0,
        tv_nsec: 0,
    };
    // SAFETY: `ts` is a valid out pointer.
    if unsafe { libc::clock_getres(c, &mut ts) } < 0 {
        return Err(host_errno("clock_getres"));
    }
    if out != 0 {
        ctx.write_struct(
            out,
            &Timespec {
                tv_sec: ts.tv_sec,
                tv_nsec: ts.tv_nsec,
            },
        )?;
    }
    Ok(0)
}

pub fn gettimeofday(ctx: &mut SyscallContext<'_>, a: &[u64; 6]) -> SysResult {
    let ts = now(libc::CLOCK_REALTIME)?;
    if a[0] != 0 {
        ctx.write_struct(
            a[0],
            &Timeval {
                tv_sec: ts.tv_sec,
                tv_usec: ts.tv_nsec / 1000,
            },
        )?;
    }
    if a[1] != 0 {
        // The kernel's timezone is all zeroes unless set with settimeofday.
        ctx.write_struct(a[1], &[0i32; 2])?;
    }
    Ok(0)
}

pub fn time(ctx: &mut SyscallContext<'_>, a: &[u64; 6]) -> SysResult {
    let t = now(libc::CLOCK_REALTIME)?.tv_sec;
    if a[0] != 0 {
        ctx.write_struct(a[0], &t)?;
    }
    Ok(t as u64)
}

fn read_timespec(ctx: &SyscallContext<'_>, addr: u64) -> SysResult<Timespec> {
    let ts: Timespec = ctx.read_struct(addr)?;
    if ts.tv_sec < 0 || !(0..1_000_000_000).contains(&ts.tv_nsec) {
        return sys_err!(EINVAL, "bad timespec");
    }
    Ok(ts)
}

/// Sleeps until `ts` on `clock` (absolute with TIMER_ABSTIME, else
/// relative), or for the CPU time left on a CPU clock (`cpu`: as wall time,
/// which is what it takes when the target has a CPU to itself). The kernel
/// thread waits through `Thread::sleep_until`, so a kick (a signal, a stop,
/// the process ending) interrupts it. Like Linux (kernel/time/hrtimer.c
/// `hrtimer_nanosleep`): an interrupted relative sleep writes the time left
/// to `rem` and returns ERESTART_RESTARTBLOCK (EINTR if a handler runs, else
/// `restart_syscall` sleeps the rest); an absolute one returns
/// ERESTARTNOHAND (restarted as it was).
fn sleep(
    ctx: &SyscallContext<'_>,
    clock: Result<libc::clockid_t, CpuClock>,
    flags: i32,
    ts: Timespec,
    rem: u64,
) -> SysResult {
    let want = std::time::Duration::new(ts.tv_sec as u64, ts.tv_nsec as u32);
    if flags & libc::TIMER_ABSTIME != 0 {
        let n = match clock {
            Ok(c) => now(c)?,
            Err(c) => cpu_clock_now(ctx, c),
        };
        let left = want.saturating_sub(std::time::Duration::new(n.tv_sec as u64, n.tv_nsec as u32));
        let deadline = std::time::Instant::now() + left;
        return match ctx.thread.sleep_until(Some(deadline)) {
            crate::task::Wake::Interrupted => {
                crate::signal::interrupted(crate::signal::ERESTARTNOHAND)
            }
            _ => Ok(0),
        };
    }
    sleep_until_deadline(ctx, std::time::Instant::now() + want, rem)
}

/// The relative sleep proper, also what `restart_syscall` resumes.
pub(super) fn sleep_until_deadline(
    ctx: &SyscallContext<'_>,
    deadline: std::time::Instant,
    rem: u64,
) -> SysResult {
    match ctx.thread.sleep_until(Some(deadline)) {
        crate::task::Wake::Interrupted => {
            if rem != 0 {
                let r = deadline.saturating_duration_since(std::time::Instant::now());
                let out = Timespec {
                    tv_sec: r.as_secs() as i64,
                    tv_nsec: i64::from(r.subsec_nanos()),
                };
                ctx.write_struct(rem, &out)?;
            }
            ctx.thread.state.lock().restart = Some(crate::task::RestartBlock::Sleep {
                clock: libc::CLOCK_MONOTONIC,
                deadline,
                rem,
            });
            crate::signal::interrupted(crate::signal::ERESTART_RESTARTBLOCK)
        }
        _ => Ok(0),
    }
}

pub fn nanosleep(ctx: &mut SyscallContext<'_>, a: &[u64; 6]) -> SysResult {
    let ts = read_timespec(ctx, a[0])?;
    sleep(ctx, Ok(libc::CLOCK_MONOTONIC), 0, ts, a[1])
}

/// clock_nanosleep(2): the caller's own thread CPU clock is EINVAL
/// (`posix_cpu_nsleep()`); unknown flags are ignored except TIMER_ABSTIME
/// (kernel/time/posix-timers.c).
pub fn clock_nanosleep(ctx: &mut SyscallContext<'_>, a: &[u64; 6]) -> SysResult {
    let id = a[0] as i32;
    let clock = match cpu_clock(ctx, id, false)? {
        Some(c) if c.thread && c.target == ctx.thread.tid => {
            return sys_err!(EINVAL, "cannot sleep on the own thread CPU clock")
        }
        Some(c) => Err(c),
        None => match id {
            CLOCK_REALTIME | CLOCK_MONOTONIC | CLOCK_BOOTTIME | CLOCK_TAI => Ok(id),
            _ => return sys_err!(EINVAL, "unsupported clock"),
        },
    };
    let ts = read_timespec(ctx, a[2])?;
    let flags = if a[1] & TIMER_ABSTIME != 0 {
        libc::TIMER_ABSTIME
    } else {
        0
    };
    sleep(ctx, clock, flags, ts, a[3])
}

/// Nanoseconds in `USER_HZ` clock ticks (`nsec_to_clock_t()`).
fn clock_ticks(ns: u64) -> i64 {
    let hz = crate::loader::stack::HostAux::get().clktck.max(1);
    (ns / (1_000_000_000 / hz).max(1)) as i64
}

pub(super) fn timeval_of(ns: u64) -> Timeval {
    Timeval {
        tv_sec: (ns / 1_000_000_000) as i64,
        tv_usec: ((ns % 1_000_000_000) / 1000) as i64,
    }
}

/// times(2): the process's user and system time from umk's scheduler, in
/// clock ticks; children's times are zero (not collected yet). Returns the
/// host's tick count, which is what Linux returns (kernel/sys.c).
pub fn times(ctx: &mut SyscallContext<'_>, a: &[u64; 6]) -> SysResult {
    if a[0] != 0 {
        let children = ctx.process().cpu.lock().children;
        let t = ctx
            .kernel
            .sched
            .group_times(ctx.process().pid)
            .unwrap_or_default();
        let tms = guest_abi::structs::Tms {
            tms_utime: clock_ticks(t.user),
            tms_stime: clock_ticks(t.system),
            tms_cutime: clock_ticks(children.user),
            tms_cstime: clock_ticks(children.system),
        };
        ctx.write_struct(a[0], &tms)?;
    }
    // SAFETY: zeroed tms is a valid out buffer.
    let mut tms: libc::tms = unsafe { std::mem::zeroed() };
    // SAFETY: `tms` is a valid out pointer.
    let r = unsafe { libc::times(&mut tms) };
    Ok(r as u64)
}

/// getrusage(2): user and system time from umk's scheduler (the thread's,
/// or the process's with its exited threads), its voluntary and
/// involuntary switches (the live threads' for the process), and the
/// stub's peak RSS and page faults (`/proc/PID/stat` fields 10 and 12,
/// `/proc/PID/status` VmHWM in KiB). RUSAGE_CHILDREN is all zero until
/// children's times are collected.
pub fn getrusage(ctx: &mut SyscallContext<'_>, a: &[u64; 6]) -> SysResult {
    use guest_abi::resource::{RUSAGE_CHILDREN, RUSAGE_SELF, RUSAGE_THREAD};
    let who = a[0] as i32;
    let mut ru = guest_abi::structs::Rusage::default();
    match who {
        RUSAGE_CHILDREN => {
            let c = ctx.process().cpu.lock().children;
            ru.ru_utime = timeval_of(c.user);
            ru.ru_stime = timeval_of(c.system);
        }
        RUSAGE_SELF | RUSAGE_THREAD => {
            let sched = &ctx.kernel.sched;
            let (times, tids) = if who == RUSAGE_THREAD {
                (sched.cpu_times(ctx.thread.tid), vec![ctx.thread.tid])
            } else {
                let p = ctx.process();
                let tids: Vec<i32> = p.threads.lock().iter().map(|t| t.tid).collect();
                (sched.group_times(p.pid), tids)
            };
            let times = times.unwrap_or_default();
            ru.ru_utime = timeval_of(times.user);
            ru.ru_stime = timeval_of(times.system);
            for tid in tids {
                if let Some(i) = sched.task_info(tid) {
                    ru.ru_nvcsw += i.nr_voluntary_switches as i64;
                    ru.ru_nivcsw += i.nr_involuntary_switches as i64;
                }
            }
            let pid = ctx.guest.host_tid();
            if let Ok(stat) = std::fs::read_to_string(format!("/proc/{pid}/stat")) {
                // Fields after the ")" that closes comm: state is field 3.
                let rest = stat.rsplit_once(')').map_or("", |(_, r)| r);
                let f: Vec<&str> = rest.split_whitespace().collect();
                let field = |i: usize| f.get(i).and_then(|v| v.parse::<i64>().ok()).unwrap_or(0);
                ru.ru_minflt = field(7);
                ru.ru_majflt = field(9);
            }
            if let Ok(status) = std::fs::read_to_string(format!("/proc/{pid}/status")) {
                ru.ru_maxrss = status
                    .lines()
                    .find_map(|l| l.strip_prefix("VmHWM:"))
                    .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
                    .unwrap_or(0);
            }
        }
        _ => return sys_err!(EINVAL, "bad who"),
    }
    ctx.write_struct(a[1], &ru)?;
    Ok(0)
}
