//! futex(2) for single-threaded guests.
//!
//! Until threads arrive a process has exactly one thread, so no other waiter
//! or waker can exist, and the calls have exact answers without wait queues:
//! a wake finds nobody (0), and a wait whose value still matches sleeps
//! until its timeout (or forever, as Linux would). Shared futexes with other
//! processes arrive with fork and the wait queues of the processes issue.

use guest_abi::futex::*;
use guest_abi::structs::Timespec;

use super::context::SyscallContext;
use crate::error::SysResult;
use crate::sys_err;

pub fn futex(ctx: &mut SyscallContext<'_>, a: &[u64; 6]) -> SysResult {
    let (uaddr, op, val, timeout, val3) = (a[0], a[1], a[2] as u32, a[3], a[5] as u32);
    let cmd = op & FUTEX_CMD_MASK & !(FUTEX_PRIVATE_FLAG | FUTEX_CLOCK_REALTIME);
    match cmd {
        FUTEX_WAKE | FUTEX_WAKE_BITSET => {
            if cmd == FUTEX_WAKE_BITSET && val3 == 0 {
                return sys_err!(EINVAL, "empty bitset");
            }
            if uaddr % 4 != 0 {
                return sys_err!(EINVAL, "unaligned futex");
            }
            Ok(0)
        }
        FUTEX_WAIT | FUTEX_WAIT_BITSET => {
            if cmd == FUTEX_WAIT_BITSET && val3 == 0 {
                return sys_err!(EINVAL, "empty bitset");
            }
            if uaddr % 4 != 0 {
                return sys_err!(EINVAL, "unaligned futex");
            }
            let ts = if timeout != 0 {
                Some(ctx.read_struct::<Timespec>(timeout)?)
            } else {
                None
            };
            if let Some(t) = ts {
                if t.tv_sec < 0 || !(0..1_000_000_000).contains(&t.tv_nsec) {
                    return sys_err!(EINVAL, "bad timeout");
                }
            }
            let cur: u32 = ctx.read_struct(uaddr)?;
            if cur != val {
                return sys_err!(EAGAIN, "value changed");
            }
            // Nobody else can wake us: sleep out the timeout. FUTEX_WAIT's
            // timeout is relative (CLOCK_MONOTONIC); WAIT_BITSET's absolute.
            let tid = ctx.thread.tid;
            match ts {
                None => ctx.kernel.sched.blocked(tid, || loop {
                    std::thread::park();
                }),
                Some(t) => {
                    let (clock, flags) = match (cmd, op & FUTEX_CLOCK_REALTIME != 0) {
                        (FUTEX_WAIT, _) => (libc::CLOCK_MONOTONIC, 0),
                        (_, true) => (libc::CLOCK_REALTIME, libc::TIMER_ABSTIME),
                        (_, false) => (libc::CLOCK_MONOTONIC, libc::TIMER_ABSTIME),
                    };
                    let req = libc::timespec {
                        tv_sec: t.tv_sec,
                        tv_nsec: t.tv_nsec,
                    };
                    ctx.kernel.sched.blocked(tid, || {
                        // SAFETY: valid timespec; EINTR from umk's own signals
                        // just ends the sleep early (a spurious wake-up is legal).
                        unsafe { libc::clock_nanosleep(clock, flags, &req, std::ptr::null_mut()) }
                    });
                    sys_err!(ETIMEDOUT, "futex wait timed out")
                }
            }
        }
        _ => sys_err!(ENOSYS, "futex operation not implemented yet"),
    }
}
