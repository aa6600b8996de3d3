//! futex(2): wait queues in umk.
//!
//! A futex is named by a key: for a word in a private mapping, the address
//! space and the address (all threads of a process, and a vfork child,
//! share it); for a word in a `MAP_SHARED` mapping, the frame and offset, so
//! processes that share the memory meet at the same key (Linux keys shared
//! futexes by inode and page offset the same way, kernel/futex/core.c
//! `get_futex_key`). The private flag does not change the key: for private
//! memory the kernel's shared key is (mm, address) too.
//!
//! All queues live under one lock. `FUTEX_WAIT` reads the word and queues
//! the waiter under that lock, and `FUTEX_WAKE` takes it too, so a wake
//! between the guest's check and its wait is never lost (futex(2), "the
//! check and the wait happen atomically"). Waiters sleep on one condition
//! variable through `Thread::wait_on`, so a signal or the end of the process
//! interrupts them.

use std::collections::HashMap;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, OnceLock};
use std::time::{Duration, Instant};

use guest_abi::futex::*;
use guest_abi::structs::Timespec;
use parking_lot::{Condvar, Mutex};

use super::context::SyscallContext;
use crate::error::SysResult;
use crate::sys_err;
use crate::task::{Mm, Wake};

#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
enum Key {
    /// (address space, address)
    Private(usize, u64),
    /// (frame, offset in page)
    Shared(u64, u64),
}

#[derive(Debug)]
struct Waiter {
    bitset: u32,
    woken: AtomicBool,
    /// The waiting thread and its scheduler, which the waker makes runnable.
    tid: i32,
    sched: Arc<crate::sched::Dispatcher>,
}

#[derive(Debug, Default)]
struct Queues {
    map: Mutex<HashMap<Key, Vec<Arc<Waiter>>>>,
    cv: Condvar,
}

fn queues() -> &'static Queues {
    static Q: OnceLock<Queues> = OnceLock::new();
    Q.get_or_init(Queues::default)
}

fn key(mm: &Mm, addr: u64) -> Key {
    match mm.space.shared_frame(addr) {
        Some((frame, off)) => Key::Shared(frame, off),
        None => Key::Private(Arc::as_ptr(&mm.space) as usize, addr),
    }
}

/// Wakes up to `n` waiters on `addr` whose bitset meets `bitset`; returns
/// how many.
fn wake(mm: &Mm, addr: u64, n: u32, bitset: u32) -> u64 {
    let q = queues();
    let k = key(mm, addr);
    let mut map = q.map.lock();
    let mut woken = 0u64;
    if let Some(list) = map.get_mut(&k) {
        list.retain(|w| {
            if woken < u64::from(n) && w.bitset & bitset != 0 {
                w.woken.store(true, Ordering::SeqCst);
                // The waker wakes it in the scheduler, under the queue lock
                // (the waiter blocks and wakes itself under it too), so that
                // a more urgent waiter preempts the waker before it returns
                // to its guest, as try_to_wake_up() does.
                w.sched.wake(w.tid);
                woken += 1;
                false
            } else {
                true
            }
        });
        if list.is_empty() {
            map.remove(&k);
        }
    }
    drop(map);
    if woken > 0 {
        q.cv.notify_all();
    }
    woken
}

/// The wake a thread's exit does on its `clear_child_tid` word.
pub fn futex_wake(mm: &Mm, addr: u64, n: u32) -> u64 {
    wake(mm, addr, n, FUTEX_BITSET_MATCH_ANY)
}

/// Moves up to `n` waiters from `from` to `to` (FUTEX_REQUEUE).
fn requeue(mm: &Mm, from: u64, to: u64, n: u32) -> u64 {
    let q = queues();
    let (kf, kt) = (key(mm, from), key(mm, to));
    let mut map = q.map.lock();
    let moved: Vec<Arc<Waiter>> = match map.get_mut(&kf) {
        Some(list) => {
            let k = (n as usize).min(list.len());
            list.drain(..k).collect()
        }
        None => Vec::new(),
    };
    if map.get(&kf).is_some_and(Vec::is_empty) {
        map.remove(&kf);
    }
    let count = moved.len() as u64;
    if count > 0 {
        map.entry(kt).or_default().extend(moved);
    }
    count
}

fn wait(
    ctx: &mut SyscallContext<'_>,
    addr: u64,
    val: u32,
    deadline: Option<Instant>,
    bitset: u32,
) -> SysResult {
    let q = queues();
    let k = key(&ctx.mm, addr);
    let me = Arc::new(Waiter {
        bitset,
        woken: AtomicBool::new(false),
        tid: ctx.thread.tid,
        sched: ctx.kernel.sched.clone(),
    });
    let mut map = q.map.lock();
    // Read under the queue lock: a waker must take it after our check.
    let cur: u32 = ctx.read_struct(addr)?;
    if cur != val {
        return sys_err!(EAGAIN, "value changed");
    }
    map.entry(k).or_default().push(me.clone());
    let result = loop {
        if me.woken.load(Ordering::SeqCst) {
            break Ok(0);
        }
        match ctx.thread.wait_on(&q.cv, &mut map, deadline) {
            Wake::Notified => continue,
            Wake::TimedOut => break sys_err!(ETIMEDOUT, "futex wait timed out"),
            // futex(2): a wait without a timeout restarts under
            // SA_RESTART (ERESTARTSYS); with one Linux uses a restart
            // block — here it is EINTR with a handler and restarted whole
            // without one (ERESTARTNOHAND).
            Wake::Interrupted => {
                let code = if deadline.is_some() {
                    crate::signal::ERESTARTNOHAND
                } else {
                    crate::signal::ERESTARTSYS
                };
                break crate::signal::interrupted(code);
            }
        }
    };
    if me.woken.load(Ordering::SeqCst) {
        return Ok(0);
    }
    // Timed out or interrupted: leave the queue (wherever a requeue put us).
    for list in map.values_mut() {
        list.retain(|w| !Arc::ptr_eq(w, &me));
    }
    map.retain(|_, l| !l.is_empty());
    result
}

/// The deadline of a FUTEX_WAIT (relative, CLOCK_MONOTONIC) or a
/// FUTEX_WAIT_BITSET (absolute, CLOCK_MONOTONIC or with
/// FUTEX_CLOCK_REALTIME the realtime clock).
fn deadline(ts: Timespec, absolute: bool, realtime: bool) -> Instant {
    let d = Duration::new(ts.tv_sec as u64, ts.tv_nsec as u32);
    if !absolute {
        return Instant::now() + d;
    }
    let clock = if realtime {
        libc::CLOCK_REALTIME
    } else {
        libc::CLOCK_MONOTONIC
    };
    let mut now = libc::timespec {
        tv_sec: 0,
        tv_nsec: 0,
    };
    // SAFETY: clock_gettime writes one timespec.
    unsafe { libc::clock_gettime(clock, &mut now) };
    let now = Duration::new(now.tv_sec as u64, now.tv_nsec as u32);
    Instant::now() + d.saturating_sub(now)
}

pub fn futex(ctx: &mut SyscallContext<'_>, a: &[u64; 6]) -> SysResult {
    let (uaddr, op, val, timeout, uaddr2, val3) =
        (a[0], a[1], a[2] as u32, a[3], a[4], a[5] as u32);
    let cmd = op & FUTEX_CMD_MASK & !(FUTEX_PRIVATE_FLAG | FUTEX_CLOCK_REALTIME);
    if uaddr % 4 != 0 {
        return sys_err!(EINVAL, "unaligned futex");
    }
    match cmd {
        FUTEX_WAKE | FUTEX_WAKE_BITSET => {
            let bits = if cmd == FUTEX_WAKE_BITSET {
                val3
            } else {
                FUTEX_BITSET_MATCH_ANY
            };
            if bits == 0 {
                return sys_err!(EINVAL, "empty bitset");
            }
            Ok(wake(&ctx.mm, uaddr, val, bits))
        }
        FUTEX_WAIT | FUTEX_WAIT_BITSET => {
            let bits = if cmd == FUTEX_WAIT_BITSET {
                val3
            } else {
                FUTEX_BITSET_MATCH_ANY
            };
            if bits == 0 {
                return sys_err!(EINVAL, "empty bitset");
            }
            let dl = if timeout != 0 {
                let t = ctx.read_struct::<Timespec>(timeout)?;
                if t.tv_sec < 0 || !(0..1_000_000_000).contains(&t.tv_nsec) {
                    return sys_err!(EINVAL, "bad timeout");
                }
                Some(deadline(
                    t,
                    cmd == FUTEX_WAIT_BITSET,
                    op & FUTEX_CLOCK_REALTIME != 0,
                ))
            } else {
                None
            };
            wait(ctx, uaddr, val, dl, bits)
        }
        FUTEX_REQUEUE | FUTEX_CMP_REQUEUE => {
            if uaddr2 % 4 != 0 {
                return sys_err!(EINVAL, "unaligned futex");
            }
            if cmd == FUTEX_CMP_REQUEUE {
                let cur: u32 = ctx.read_struct(uaddr)?;
                if cur != val3 {
                    return sys_err!(EAGAIN, "value changed");
                }
            }
            // val: waiters to wake; the timeout slot carries how many to
            // requeue (futex(2)).
            let woken = wake(&ctx.mm, uaddr, val, FUTEX_BITSET_MATCH_ANY);
            let moved = requeue(&ctx.mm, uaddr, uaddr2, timeout as u32);
            // FUTEX_REQUEUE counts the woken; FUTEX_CMP_REQUEUE both.
            Ok(if cmd == FUTEX_CMP_REQUEUE {
                woken + moved
            } else {
                woken
            })
        }
        FUTEX_WAKE_OP => {
            if uaddr2 % 4 != 0 {
                return sys_err!(EINVAL, "unaligned futex");
            }
            let op = WakeOp::decode(val3)?;
            let old = ctx.mm().update_u32(uaddr2, |v| op.apply(v))?;
            // val: waiters to wake at uaddr; the timeout slot carries val2,
            // how many at uaddr2 if the comparison holds (futex(2)).
            let mut woken = wake(&ctx.mm, uaddr, val, FUTEX_BITSET_MATCH_ANY);
            if op.test(old) {
                woken += wake(&ctx.mm, uaddr2, timeout as u32, FUTEX_BITSET_MATCH_ANY);
            }
            Ok(woken)
        }
        _ => sys_err!(ENOSYS, "futex operation not implemented"),
    }
}

/// The most robust-list entries walked at exit (`ROBUST_LIST_LIMIT`), so a
/// circular list cannot hold the exit up.
const ROBUST_LIST_LIMIT: usize = 2048;
const FUTEX_WAITERS: u32 = 0x8000_0000;
const FUTEX_OWNER_DIED: u32 = 0x4000_0000;
const FUTEX_TID_MASK: u32 = 0x3fff_ffff;

/// Walks the robust futex list of a thread that ends (`set_robust_list`;
/// kernel/futex/core.c `exit_robust_list`): every lock still held by `tid`
/// gets FUTEX_OWNER_DIED (keeping FUTEX_WAITERS) and one waiter is woken,
/// so a `PTHREAD_MUTEX_ROBUST` mutex returns EOWNERDEAD to the next
/// locker. Faults end the walk quietly, as in the kernel.
pub fn exit_robust_list(mm: &Mm, head: u64, tid: i32) {
    let space = &mm.space;
    let read_u64 = |a: u64| -> Option<u64> {
        let mut b = [0u8; 8];
        space.read(a, &mut b).ok().map(|()| u64::from_ne_bytes(b))
    };
    // struct robust_list_head { list.next, long futex_offset, list_op_pending }
    let (Some(first), Some(offset), Some(pending)) =
        (read_u64(head), read_u64(head + 8), read_u64(head + 16))
    else {
        return;
    };
    let offset = offset as i64;
    // Bit 0 of an entry pointer marks a PI futex.
    let split = |p: u64| (p & !1, p & 1 != 0);
    let (pending, pending_pi) = split(pending);
    let (mut entry, mut pi) = split(first);
    for _ in 0..ROBUST_LIST_LIMIT {
        if entry == head {
            break;
        }
        // Read the next pointer first: the lock may be freed once released.
        let next = read_u64(entry);
        if entry != pending {
            futex_death(mm, entry.wrapping_add_signed(offset), tid, pi, false);
        }
        let Some(n) = next else { break };
        (entry, pi) = split(n);
    }
    if pending != 0 {
        futex_death(
            mm,
            pending.wrapping_add_signed(offset),
            tid,
            pending_pi,
            true,
        );
    }
}

/// `handle_futex_death`: marks one lock word of a dead owner.
fn futex_death(mm: &Mm, uaddr: u64, tid: i32, pi: bool, pending_op: bool) {
    if !uaddr.is_multiple_of(4) {
        return;
    }
    let mut b = [0u8; 4];
    if mm.space.read(uaddr, &mut b).is_err() {
        return;
    }
    let uval = u32::from_ne_bytes(b);
    // A lock op that was in flight when the owner died and had already
    // released the word: wake one waiter so it is not stranded.
    if pending_op && !pi && uval == 0 {
        futex_wake(mm, uaddr, 1);
        return;
    }
    if uval & FUTEX_TID_MASK != tid as u32 {
        return;
    }
    let owned = |v: u32| v & FUTEX_TID_MASK == tid as u32;
    let Ok(old) = mm.space.update_u32(uaddr, |v| {
        if owned(v) {
            (v & FUTEX_WAITERS) | FUTEX_OWNER_DIED
        } else {
            v
        }
    }) else {
        return;
    };
    if owned(old) && !pi && old & FUTEX_WAITERS != 0 {
        futex_wake(mm, uaddr, 1);
    }
}

/// FUTEX_WAKE_OP's encoded operation (futex(2); kernel/futex/waitwake.c
/// `futex_atomic_op_inuser`): `op:4 cmp:4 oparg:12 cmparg:12`, the two
/// arguments sign-extended 12-bit values; FUTEX_OP_OPARG_SHIFT (op bit 3)
/// makes the argument `1 << oparg`.
#[derive(Clone, Copy, Debug)]
struct WakeOp {
    op: u32,
    cmp: u32,
    oparg: u32,
    cmparg: i32,
}

impl WakeOp {
    fn decode(v: u32) -> SysResult<WakeOp> {
        let sext12 = |x: u32| ((x << 20) as i32) >> 20;
        let mut op = v >> 28;
        let cmp = (v >> 24) & 0xf;
        let mut oparg = sext12((v >> 12) & 0xfff) as u32;
        if op & 8 != 0 {
            op &= 7;
            // The kernel warns once and masks a shift of 32 or more.
            oparg = 1u32 << (oparg & 31);
        }
        if op > 4 || cmp > 5 {
            return sys_err!(ENOSYS, "unknown FUTEX_WAKE_OP operation");
        }
        Ok(WakeOp {
            op,
            cmp,
            oparg,
            cmparg: sext12(v & 0xfff),
        })
    }

    /// FUTEX_OP_SET, ADD, OR, ANDN, XOR.
    fn apply(self, old: u32) -> u32 {
        match self.op {
            0 => self.oparg,
            1 => old.wrapping_add(self.oparg),
            2 => old | self.oparg,
            3 => old & !self.oparg,
            _ => old ^ self.oparg,
        }
    }

    /// FUTEX_OP_CMP_EQ, NE, LT, LE, GT, GE on the old value (signed).
    fn test(self, old: u32) -> bool {
        let (a, b) = (old as i32, self.cmparg);
        match self.cmp {
            0 => a == b,
            1 => a != b,
            2 => a < b,
            3 => a <= b,
            4 => a > b,
            _ => a >= b,
        }
    }
}

#[cfg(test)]
mod wake_op_tests {
    use super::WakeOp;

    /// FUTEX_OP(op, oparg, cmp, cmparg) as linux/futex.h builds it.
    fn enc(op: u32, oparg: u32, cmp: u32, cmparg: u32) -> u32 {
        ((op & 0xf) << 28) | ((cmp & 0xf) << 24) | ((oparg & 0xfff) << 12) | (cmparg & 0xfff)
    }

    #[test]
    fn decode_apply_test() {
        // glibc's old condvar: FUTEX_OP(FUTEX_OP_SET, 0, FUTEX_OP_CMP_GT, 1).
        let op = WakeOp::decode(enc(0, 0, 4, 1)).expect("valid");
        assert_eq!(op.apply(5), 0);
        assert!(op.test(2) && !op.test(1));
        let add = WakeOp::decode(enc(1, 0xfff, 0, 0)).expect("valid");
        assert_eq!(add.apply(10), 9, "oparg -1 sign-extended");
        let shl = WakeOp::decode(enc(8 | 2, 4, 1, 0)).expect("valid");
        assert_eq!(shl.apply(1), 0b10001);
        let andn = WakeOp::decode(enc(3, 1, 5, 0xfff)).expect("valid");
        assert_eq!(andn.apply(3), 2);
        assert!(andn.test(u32::MAX), "-1 >= -1");
        assert!(WakeOp::decode(enc(5, 0, 0, 0)).is_err());
    }
}
