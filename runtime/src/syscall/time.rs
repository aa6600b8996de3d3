//! Time: clock_gettime, clock_getres, gettimeofday, time, nanosleep,
//! clock_nanosleep.
//!
//! Wall and monotonic clocks are the host's (umk does not virtualize time).
//! The CPU-time clocks of the calling process and thread are the stub's:
//! guest code runs in the stub, so its host CPU clocks measure exactly the
//! guest's run time.

use guest_abi::clock::*;
use guest_abi::structs::{Timespec, Timeval};

use super::context::SyscallContext;
use crate::error::SysResult;
use crate::fs::host::host_errno;
use crate::sys_err;

/// The host clock that answers guest clock `id` for the calling thread.
/// include/linux/posix-timers.h: a CPU clock id is `(~pid << 3) | type`,
/// type 2 = sched clock, bit 2 = per thread.
fn host_clock(ctx: &SyscallContext<'_>, id: i32) -> SysResult<libc::clockid_t> {
    match id {
        CLOCK_REALTIME
        | CLOCK_MONOTONIC
        | CLOCK_MONOTONIC_RAW
        | CLOCK_REALTIME_COARSE
        | CLOCK_MONOTONIC_COARSE
        | CLOCK_BOOTTIME
        | CLOCK_TAI => Ok(id),
        CLOCK_PROCESS_CPUTIME_ID => Ok((!ctx.guest.host_tid() << 3) | 2),
        // The host only lets a process read its own threads' CPU clocks;
        // the stub thread's run time comes from its schedstat instead.
        CLOCK_THREAD_CPUTIME_ID => Ok(THREAD_CLOCK),
        _ => sys_err!(EINVAL, "unsupported clock"),
    }
}

/// Marker for "the calling thread's CPU clock" (not a host clock id).
const THREAD_CLOCK: libc::clockid_t = i32::MIN;

/// Nanoseconds the stub thread `tid` has run (`/proc/TID/schedstat`, first
/// field; Documentation/scheduler/sched-stats.rst).
pub fn thread_cpu_ns(tid: i32) -> Option<u64> {
    let s = std::fs::read_to_string(format!("/proc/{tid}/schedstat")).ok()?;
    s.split_whitespace().next()?.parse().ok()
}

fn now_for(ctx: &SyscallContext<'_>, clock: libc::clockid_t) -> SysResult<Timespec> {
    if clock == THREAD_CLOCK {
        let ns = thread_cpu_ns(ctx.guest.host_tid()).ok_or(crate::error::SysError::new(
            guest_abi::Errno::EINVAL,
            "schedstat",
        ))?;
        return Ok(Timespec {
            tv_sec: (ns / 1_000_000_000) as i64,
            tv_nsec: (ns % 1_000_000_000) as i64,
        });
    }
    now(clock)
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
    let c = host_clock(ctx, a[0] as i32)?;
    let ts = now_for(ctx, c)?;
    ctx.write_struct(a[1], &ts)?;
    Ok(0)
}

pub fn clock_getres(ctx: &mut SyscallContext<'_>, a: &[u64; 6]) -> SysResult {
    let c = host_clock(ctx, a[0] as i32)?;
    let mut ts = libc::timespec {
        tv_sec: 0,
        tv_nsec: 0,
    };
    // SAFETY: `ts` is a valid out pointer.
    if unsafe { libc::clock_getres(c, &mut ts) } < 0 {
        return Err(host_errno("clock_getres"));
    }
    if a[1] != 0 {
        ctx.write_struct(
            a[1],
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
/// relative). The kernel thread waits through `Thread::sleep_until`, so a
/// kick (a signal, a stop, the process ending) interrupts it. Like Linux
/// (kernel/time/hrtimer.c `hrtimer_nanosleep`): an interrupted relative
/// sleep writes the time left to `rem` and returns ERESTART_RESTARTBLOCK
/// (EINTR if a handler runs, else `restart_syscall` sleeps the rest); an
/// absolute one returns ERESTARTNOHAND (restarted as it was).
fn sleep(
    ctx: &SyscallContext<'_>,
    clock: libc::clockid_t,
    flags: i32,
    ts: Timespec,
    rem: u64,
) -> SysResult {
    let want = std::time::Duration::new(ts.tv_sec as u64, ts.tv_nsec as u32);
    if flags & libc::TIMER_ABSTIME != 0 {
        let n = now(clock)?;
        let left = want.saturating_sub(std::time::Duration::new(n.tv_sec as u64, n.tv_nsec as u32));
        let deadline = std::time::Instant::now() + left;
        return match ctx.thread.sleep_until(Some(deadline)) {
            crate::task::Wake::Interrupted => Err(crate::error::SysError::new(
                crate::signal::ERESTARTNOHAND,
                "absolute sleep interrupted",
            )),
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
            super::sigwait::restart_block()
        }
        _ => Ok(0),
    }
}

pub fn nanosleep(ctx: &mut SyscallContext<'_>, a: &[u64; 6]) -> SysResult {
    let ts = read_timespec(ctx, a[0])?;
    sleep(ctx, libc::CLOCK_MONOTONIC, 0, ts, a[1])
}

/// clock_nanosleep(2): the thread CPU clock is EINVAL; unknown flags are
/// ignored except TIMER_ABSTIME (kernel/time/posix-timers.c).
pub fn clock_nanosleep(ctx: &mut SyscallContext<'_>, a: &[u64; 6]) -> SysResult {
    let id = a[0] as i32;
    let clock = match id {
        CLOCK_REALTIME | CLOCK_MONOTONIC | CLOCK_BOOTTIME | CLOCK_TAI => id,
        CLOCK_PROCESS_CPUTIME_ID => host_clock(ctx, id)?,
        CLOCK_THREAD_CPUTIME_ID => return sys_err!(EINVAL, "cannot sleep on the thread CPU clock"),
        _ => return sys_err!(EINVAL, "unsupported clock"),
    };
    let ts = read_timespec(ctx, a[2])?;
    let flags = if a[1] & TIMER_ABSTIME != 0 {
        libc::TIMER_ABSTIME
    } else {
        0
    };
    sleep(ctx, clock, flags, ts, a[3])
}

/// getrusage(2): the stub's CPU times and peak RSS (`/proc/PID/stat`
/// fields 14-15 in clock ticks, `/proc/PID/status` VmHWM in KiB).
/// RUSAGE_CHILDREN is all zero until guests have children.
pub fn getrusage(ctx: &mut SyscallContext<'_>, a: &[u64; 6]) -> SysResult {
    use guest_abi::resource::{RUSAGE_CHILDREN, RUSAGE_SELF, RUSAGE_THREAD};
    let who = a[0] as i32;
    let mut ru = guest_abi::structs::Rusage::default();
    match who {
        RUSAGE_CHILDREN => {}
        RUSAGE_SELF | RUSAGE_THREAD => {
            let pid = ctx.guest.host_tid();
            let tick_us = 1_000_000 / crate::loader::stack::HostAux::get().clktck as i64;
            if let Ok(stat) = std::fs::read_to_string(format!("/proc/{pid}/stat")) {
                // Fields after the ")" that closes comm: state is field 3.
                let rest = stat.rsplit_once(')').map_or("", |(_, r)| r);
                let f: Vec<&str> = rest.split_whitespace().collect();
                let ticks = |i: usize| f.get(i).and_then(|v| v.parse::<i64>().ok()).unwrap_or(0);
                let (ut, st) = (ticks(11) * tick_us, ticks(12) * tick_us);
                ru.ru_utime = Timeval {
                    tv_sec: ut / 1_000_000,
                    tv_usec: ut % 1_000_000,
                };
                ru.ru_stime = Timeval {
                    tv_sec: st / 1_000_000,
                    tv_usec: st % 1_000_000,
                };
                ru.ru_minflt = ticks(7);
                ru.ru_majflt = ticks(9);
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
