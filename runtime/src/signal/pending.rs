//! Pending signals: one queue per thread (`tkill`, faults) and one per
//! process (`kill`, shared by its threads), as kernel/signal.c keeps
//! `task->pending` and `signal->shared_pending`.

use std::collections::VecDeque;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;

use guest_abi::signal::SI_USER;

use super::info::SigInfo;
use super::sigset::{is_realtime, SigSet};
use crate::error::SysResult;
use crate::sys_err;

/// How many signals are queued for one user, against `RLIMIT_SIGPENDING`
/// (Linux counts them per user: `ucounts`). Share one between the queues
/// of all processes of a uid.
#[derive(Debug, Default)]
pub struct PendingCount(AtomicU64);

impl PendingCount {
    pub fn new() -> Arc<PendingCount> {
        Arc::new(PendingCount::default())
    }

    pub fn get(&self) -> u64 {
        self.0.load(Ordering::Relaxed)
    }

    /// Charges one entry; with `override_limit` the limit is not checked
    /// (it still counts), as `__sigqueue_alloc` does.
    fn charge(&self, limit: u64, override_limit: bool) -> bool {
        let n = self.0.fetch_add(1, Ordering::Relaxed) + 1;
        if override_limit || n <= limit {
            true
        } else {
            self.0.fetch_sub(1, Ordering::Relaxed);
            false
        }
    }

    fn refund(&self) {
        self.0.fetch_sub(1, Ordering::Relaxed);
    }
}

/// The count every guest queue charges: guests all run as one user
/// (umk's own), so they share one `RLIMIT_SIGPENDING` budget.
pub fn user_count() -> Arc<PendingCount> {
    static USER: std::sync::OnceLock<Arc<PendingCount>> = std::sync::OnceLock::new();
    USER.get_or_init(PendingCount::new).clone()
}

impl Default for SigQueue {
    fn default() -> SigQueue {
        SigQueue::new(user_count())
    }
}

/// What [`SigQueue::enqueue`] did.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Queued {
    /// A new instance is pending with its siginfo.
    Queued,
    /// A standard signal that was already pending: nothing changed; the
    /// first instance's siginfo is kept (`legacy_queue`).
    Coalesced,
    /// Over the limit, but the signal may not fail (kill(2) of a real-time
    /// signal, or a kernel-generated standard one): it is pending without
    /// its siginfo and will be delivered as `SI_USER` with zeroes.
    InfoLost,
}

/// One pending queue. Standard signals (1..=31) hold at most one instance;
/// real-time ones (32..=64) queue every instance in order (signal(7)).
#[derive(Debug)]
pub struct SigQueue {
    set: SigSet,
    entries: VecDeque<SigInfo>,
    count: Arc<PendingCount>,
}

impl SigQueue {
    pub fn new(count: Arc<PendingCount>) -> SigQueue {
        SigQueue {
            set: SigSet::EMPTY,
            entries: VecDeque::new(),
            count,
        }
    }

    /// The pending signals (rt_sigpending(2) is the union of the thread's
    /// and the process's sets, intersected with nothing: blocked ones too).
    pub fn pending(&self) -> SigSet {
        self.set
    }

    /// Whether a signal not in `blocked` is pending.
    pub fn has_deliverable(&self, blocked: SigSet) -> bool {
        !self.set.minus(blocked).is_empty()
    }

    /// Adds `info` (kernel/signal.c `__send_signal_locked`). `limit` is the
    /// target's `RLIMIT_SIGPENDING`. Fails with EAGAIN only for a real-time
    /// signal that is not from kill(2) (`SI_USER`) when the limit is reached
    /// (sigqueue(3): EAGAIN); a standard signal sent by the kernel or by
    /// kill(2) (`si_code >= 0`) is queued over the limit.
    pub fn enqueue(&mut self, info: SigInfo, limit: u64) -> SysResult<Queued> {
        let sig = info.signo();
        if !SigSet::valid(sig) {
            return sys_err!(EINVAL, "bad signal number");
        }
        if !is_realtime(sig) && self.set.contains(sig) {
            return Ok(Queued::Coalesced);
        }
        let override_limit = !is_realtime(sig) && info.code() >= 0;
        let r = if self.count.charge(limit, override_limit) {
            self.entries.push_back(info);
            Queued::Queued
        } else if is_realtime(sig) && info.code() != SI_USER {
            return sys_err!(EAGAIN, "RLIMIT_SIGPENDING reached");
        } else {
            Queued::InfoLost
        };
        self.set.add(sig);
        Ok(r)
    }

    /// Takes the next deliverable signal: synchronous faults first, then the
    /// lowest-numbered (kernel/signal.c `next_signal`).
    pub fn dequeue(&mut self, blocked: SigSet) -> Option<SigInfo> {
        let sig = self.set.minus(blocked).next()?;
        self.take(sig)
    }

    /// Takes the oldest pending instance of `sig` (`collect_signal`): its bit
    /// stays set while more instances are queued.
    pub fn take(&mut self, sig: u32) -> Option<SigInfo> {
        if !self.set.contains(sig) {
            return None;
        }
        let found = self.entries.iter().position(|i| i.signo() == sig);
        let info = match found.and_then(|at| self.entries.remove(at)) {
            Some(i) => {
                self.count.refund();
                i
            }
            None => SigInfo::lost(sig),
        };
        if !self.entries.iter().any(|i| i.signo() == sig) {
            self.set.remove(sig);
        }
        Some(info)
    }

    /// Discards every pending instance of the signals in `mask`
    /// (`flush_sigqueue_mask`): for a signal set to SIG_IGN (sigaction(2):
    /// "setting a signal to SIG_IGN discards a pending one"), and for the
    /// SIGCONT/stop-signal interplay ([`super::action::discarded_by`]).
    pub fn remove(&mut self, mask: SigSet) {
        if self.set.intersect(mask).is_empty() {
            return;
        }
        let before = self.entries.len();
        self.entries.retain(|i| !mask.contains(i.signo()));
        for _ in self.entries.len()..before {
            self.count.refund();
        }
        self.set = self.set.minus(mask);
    }

    /// Empties the queue (exec keeps pending signals; exit drops them).
    pub fn clear(&mut self) {
        self.remove(SigSet::ALL);
    }
}

impl Drop for SigQueue {
    fn drop(&mut self) {
        self.clear();
    }
}

/// The next signal for a thread: its own queue first, then its process's
/// (kernel/signal.c `dequeue_signal`), each in `next_signal` order.
pub fn dequeue(thread: &mut SigQueue, process: &mut SigQueue, blocked: SigSet) -> Option<SigInfo> {
    thread.dequeue(blocked).or_else(|| process.dequeue(blocked))
}

#[cfg(test)]
mod tests {
    use super::*;
    use guest_abi::signal::*;

    fn q() -> SigQueue {
        SigQueue::new(PendingCount::new())
    }

    #[test]
    fn standard_signals_coalesce_first_info_kept() {
        let mut q = q();
        assert_eq!(
            q.enqueue(SigInfo::kill(SIGUSR1, 5, 0), 10),
            Ok(Queued::Queued)
        );
        assert_eq!(
            q.enqueue(SigInfo::kill(SIGUSR1, 6, 0), 10),
            Ok(Queued::Coalesced)
        );
        let i = q.dequeue(SigSet::EMPTY).expect("pending");
        assert_eq!(i.0.si_pid(), 5);
        assert_eq!(q.dequeue(SigSet::EMPTY), None);
        assert_eq!(q.count.get(), 0);
    }

    #[test]
    fn realtime_signals_queue_in_order() {
        let mut q = q();
        for v in 0..3 {
            q.enqueue(SigInfo::sigqueue(SIGRTMIN + 1, 1, 0, v), 10)
                .expect("room");
        }
        q.enqueue(SigInfo::sigqueue(SIGRTMIN, 1, 0, 9), 10)
            .expect("room");
        let order: Vec<(u32, u64)> = std::iter::from_fn(|| q.dequeue(SigSet::EMPTY))
            .map(|i| (i.signo(), i.0.si_value()))
            .collect();
        assert_eq!(
            order,
            vec![
                (SIGRTMIN, 9),
                (SIGRTMIN + 1, 0),
                (SIGRTMIN + 1, 1),
                (SIGRTMIN + 1, 2)
            ]
        );
    }

    #[test]
    fn order_blocking_and_sync_first() {
        let mut q = q();
        q.enqueue(SigInfo::kill(SIGINT, 1, 0), 10).expect("room");
        q.enqueue(SigInfo::kill(SIGUSR1, 1, 0), 10).expect("room");
        q.enqueue(SigInfo::fault(SIGSEGV, SEGV_MAPERR, 0), 10)
            .expect("room");
        assert_eq!(q.pending().iter().count(), 3);
        assert_eq!(q.dequeue(SigSet::EMPTY).map(|i| i.signo()), Some(SIGSEGV));
        assert_eq!(
            q.dequeue(SigSet::of(SIGINT)).map(|i| i.signo()),
            Some(SIGUSR1)
        );
        assert!(!q.has_deliverable(SigSet::of(SIGINT)));
        assert_eq!(q.dequeue(SigSet::EMPTY).map(|i| i.signo()), Some(SIGINT));
    }

    #[test]
    fn limit() {
        let count = PendingCount::new();
        let mut q = SigQueue::new(count.clone());
        q.enqueue(SigInfo::sigqueue(SIGRTMIN, 1, 0, 1), 1)
            .expect("room");
        assert_eq!(
            q.enqueue(SigInfo::sigqueue(SIGRTMIN, 1, 0, 2), 1)
                .map_err(|e| e.errno),
            Err(guest_abi::Errno::EAGAIN)
        );
        // kill(2) of an rt signal over the limit: pending, info lost.
        assert_eq!(
            q.enqueue(SigInfo::kill(SIGRTMIN + 2, 1, 0), 1),
            Ok(Queued::InfoLost)
        );
        // A standard signal from kill(2) goes over the limit.
        assert_eq!(
            q.enqueue(SigInfo::kill(SIGUSR1, 1, 0), 1),
            Ok(Queued::Queued)
        );
        assert_eq!(count.get(), 2);
        q.take(SIGRTMIN);
        let lost = q.take(SIGRTMIN + 2).expect("pending");
        assert_eq!((lost.code(), lost.0.si_pid()), (SI_USER, 0));
        drop(q);
        assert_eq!(count.get(), 0);
    }

    #[test]
    fn thread_queue_first_and_removal() {
        let (mut t, mut p) = (q(), q());
        p.enqueue(SigInfo::kill(SIGHUP, 1, 0), 10).expect("room");
        t.enqueue(SigInfo::tkill(SIGTERM, 1, 0), 10).expect("room");
        assert_eq!(
            dequeue(&mut t, &mut p, SigSet::EMPTY).map(|i| i.signo()),
            Some(SIGTERM)
        );
        p.enqueue(SigInfo::kill(SIGTSTP, 1, 0), 10).expect("room");
        p.remove(super::super::action::discarded_by(SIGCONT));
        assert_eq!(p.pending(), SigSet::of(SIGHUP));
    }
}
