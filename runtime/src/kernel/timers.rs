//! The real-time interval timers of processes (`ITIMER_REAL`: alarm(2),
//! setitimer(2)), fired by one kernel thread.
//!
//! A process's timer state is in `Process::itimer_real`; arming it pushes
//! `(deadline, pid, generation)` here. The timer thread sleeps until the
//! earliest deadline, then checks the entry against the process's current
//! state: an entry whose generation is stale (the timer was re-set or
//! cancelled since) is dropped, so nothing needs removing from the heap.
//! On expiry the process gets SIGALRM (`SI_KERNEL`, as kernel/time/itimer.c
//! `it_real_fn` sends it) and a periodic timer re-arms one interval later
//! (a timer that fell behind skips the missed periods, like hrtimer
//! forwarding).

use std::cmp::Reverse;
use std::collections::BinaryHeap;
use std::sync::{Arc, Weak};
use std::time::{Duration, Instant};

use parking_lot::{Condvar, Mutex};

use super::signal::{send, Target};
use super::Kernel;
use crate::signal::SigInfo;
use crate::task::Pid;

/// How long the timer thread sleeps at most before checking whether umk
/// is shutting down.
const IDLE_CHECK: Duration = Duration::from_secs(1);

type Entry = Reverse<(Instant, Pid, u64)>;

#[derive(Debug, Default)]
pub struct Timers {
    heap: Mutex<Option<BinaryHeap<Entry>>>,
    cv: Condvar,
}

impl Timers {
    /// Queues an expiry of `pid`'s timer at `deadline` (generation `gen`);
    /// starts the timer thread on first use.
    pub fn arm(&self, k: &Arc<Kernel>, pid: Pid, deadline: Instant, gen: u64) {
        let mut h = self.heap.lock();
        if h.is_none() {
            *h = Some(BinaryHeap::new());
            let weak = Arc::downgrade(k);
            let spawned = std::thread::Builder::new()
                .name("umk-timers".into())
                .spawn(move || timer_loop(weak));
            if let Err(e) = spawned {
                crate::log::warn(&format!("interval timers: {e}"));
            }
        }
        if let Some(q) = h.as_mut() {
            q.push(Reverse((deadline, pid, gen)));
        }
        self.cv.notify_all();
    }
}

fn timer_loop(k: Weak<Kernel>) {
    loop {
        let Some(kernel) = k.upgrade() else { return };
        let due = {
            let mut h = kernel.timers.heap.lock();
            let now = Instant::now();
            let next = h.as_ref().and_then(|q| q.peek().map(|e| e.0 .0));
            match next {
                Some(d) if d <= now => h.as_mut().and_then(|q| q.pop()).map(|e| e.0),
                other => {
                    let until = other.map_or(now + IDLE_CHECK, |d| d.min(now + IDLE_CHECK));
                    let timers = &kernel.timers;
                    timers.cv.wait_until(&mut h, until);
                    None
                }
            }
        };
        if let Some((_, pid, gen)) = due {
            fire(&kernel, pid, gen);
        }
    }
}

fn fire(k: &Arc<Kernel>, pid: Pid, gen: u64) {
    let Some(p) = k.tasks.process(pid) else {
        return;
    };
    let rearm = {
        let mut t = p.itimer_real.lock();
        if t.generation != gen || t.deadline.is_none() {
            return;
        }
        if t.interval.is_zero() {
            t.deadline = None;
            None
        } else {
            let now = Instant::now();
            let mut next = t.deadline.unwrap_or(now) + t.interval;
            if next <= now {
                next = now + t.interval;
            }
            t.deadline = Some(next);
            Some(next)
        }
    };
    if let Some(next) = rearm {
        k.timers.arm(k, pid, next, gen);
    }
    let info = SigInfo::kernel(guest_abi::signal::SIGALRM);
    let _ = send(k, Target::Process(&p), info);
}
