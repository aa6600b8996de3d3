//! alarm(2), setitimer(2), getitimer(2): the process's `ITIMER_REAL`,
//! fired by `kernel::timers`. Interval timers survive execve and are not
//! inherited by fork (getitimer(2), "NOTES"). `ITIMER_VIRTUAL` and
//! `ITIMER_PROF` (user/CPU-time timers) are not implemented: EINVAL.

use std::time::{Duration, Instant};

use guest_abi::structs::{Itimerval, Timeval};

use super::context::SyscallContext;
use crate::error::SysResult;
use crate::sys_err;
use crate::task::ItimerReal;

const ITIMER_REAL: u64 = 0;

fn to_timeval(d: Duration) -> Timeval {
    Timeval {
        tv_sec: d.as_secs() as i64,
        tv_usec: i64::from(d.subsec_micros()),
    }
}

fn from_timeval(tv: &Timeval) -> SysResult<Duration> {
    if tv.tv_sec < 0 || !(0..1_000_000).contains(&tv.tv_usec) {
        return sys_err!(EINVAL, "bad timeval");
    }
    Ok(Duration::new(tv.tv_sec as u64, tv.tv_usec as u32 * 1000))
}

/// The timer as getitimer reports it: the time left (at least 1 µs while
/// armed, as `itimer_get_remtime` rounds up) and the interval.
fn current(t: &ItimerReal) -> Itimerval {
    let left = t.deadline.map_or(Duration::ZERO, |d| {
        d.saturating_duration_since(Instant::now())
            .max(Duration::from_micros(1))
    });
    // Reported in whole microseconds, rounded up like the kernel's
    // ns_to_timeval of a remaining time.
    let left_us = left.as_nanos().div_ceil(1000) as u64;
    Itimerval {
        it_interval: to_timeval(t.interval),
        it_value: to_timeval(Duration::from_micros(left_us)),
    }
}

/// Sets the calling process's real timer; returns the old setting.
fn set_real(ctx: &SyscallContext<'_>, value: Duration, interval: Duration) -> Itimerval {
    let p = ctx.process();
    let (old, armed) = {
        let mut t = p.itimer_real.lock();
        let old = current(&t);
        t.generation += 1;
        t.interval = interval;
        t.deadline = (!value.is_zero()).then(|| Instant::now() + value);
        (old, t.deadline.map(|d| (d, t.generation)))
    };
    if let Some((deadline, gen)) = armed {
        ctx.kernel.timers.arm(ctx.kernel, p.pid, deadline, gen);
    }
    old
}

pub fn getitimer(ctx: &mut SyscallContext<'_>, a: &[u64; 6]) -> SysResult {
    if a[0] != ITIMER_REAL {
        return sys_err!(EINVAL, "only ITIMER_REAL is implemented");
    }
    let v = current(&ctx.process().itimer_real.lock());
    ctx.write_struct(a[1], &v)?;
    Ok(0)
}

/// setitimer(2). A NULL new value disarms the timer, as Linux still
/// accepts it (kernel/time/itimer.c, with a warning).
pub fn setitimer(ctx: &mut SyscallContext<'_>, a: &[u64; 6]) -> SysResult {
    let (which, new, old) = (a[0], a[1], a[2]);
    if which != ITIMER_REAL {
        return sys_err!(EINVAL, "only ITIMER_REAL is implemented");
    }
    let v: Itimerval = if new != 0 {
        ctx.read_struct(new)?
    } else {
        Itimerval::default()
    };
    let value = from_timeval(&v.it_value)?;
    let interval = from_timeval(&v.it_interval)?;
    let prev = set_real(ctx, value, interval);
    if old != 0 {
        ctx.write_struct(old, &prev)?;
    }
    Ok(0)
}

/// alarm(2): seconds until the previous alarm would have fired (rounded to
/// the nearest second, and at least 1 if one was pending: kernel/time/
/// itimer.c `alarm_setitimer`), 0 if none.
pub fn alarm(ctx: &mut SyscallContext<'_>, a: &[u64; 6]) -> SysResult {
    let secs = a[0] as u32;
    let prev = set_real(ctx, Duration::from_secs(u64::from(secs)), Duration::ZERO);
    let mut left = prev.it_value.tv_sec as u64;
    if prev.it_value.tv_usec >= 500_000 || (left == 0 && prev.it_value.tv_usec > 0) {
        left += 1;
    }
    Ok(left)
}
