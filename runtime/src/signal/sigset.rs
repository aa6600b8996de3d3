//! `SigSet`: the kernel's 64-bit `sigset_t` (bit `n - 1` for signal `n`).

use guest_abi::signal::*;

/// A set of signals 1..=64, laid out like the kernel's `sigset_t` on x86-64.
#[derive(Clone, Copy, Default, PartialEq, Eq, Hash)]
pub struct SigSet(pub u64);

impl SigSet {
    pub const EMPTY: SigSet = SigSet(0);
    pub const ALL: SigSet = SigSet(u64::MAX);

    /// SIGKILL and SIGSTOP: never blocked, caught or ignored (signal(7)).
    pub const UNBLOCKABLE: SigSet = SigSet(sigmask(SIGKILL) | sigmask(SIGSTOP));

    /// Signals raised by the faulting instruction itself; `next_signal` in
    /// kernel/signal.c (`SYNCHRONOUS_MASK`) dequeues them before the others
    /// so a fault's handler runs before an earlier-numbered async signal.
    pub const SYNCHRONOUS: SigSet = SigSet(
        sigmask(SIGSEGV)
            | sigmask(SIGBUS)
            | sigmask(SIGILL)
            | sigmask(SIGTRAP)
            | sigmask(SIGFPE)
            | sigmask(SIGSYS),
    );

    /// The stop signals (`SIG_KERNEL_STOP_MASK`).
    pub const STOP: SigSet =
        SigSet(sigmask(SIGSTOP) | sigmask(SIGTSTP) | sigmask(SIGTTIN) | sigmask(SIGTTOU));

    /// Signals whose SIG_DFL action is to do nothing (`SIG_KERNEL_IGNORE_MASK`):
    /// with SIG_DFL they are discarded when sent.
    pub const KERNEL_IGNORE: SigSet =
        SigSet(sigmask(SIGCONT) | sigmask(SIGCHLD) | sigmask(SIGWINCH) | sigmask(SIGURG));

    /// The standard (non-real-time) signals 1..=31.
    pub const STANDARD: SigSet = SigSet((1u64 << (SIGRTMIN - 1)) - 1);

    /// Whether `sig` is a valid signal number (1..=64).
    pub const fn valid(sig: u32) -> bool {
        sig >= 1 && sig <= SIGRTMAX
    }

    /// The set holding only `sig` (empty if `sig` is not in 1..=64).
    pub const fn of(sig: u32) -> SigSet {
        SigSet(sigmask(sig))
    }

    pub const fn raw(self) -> u64 {
        self.0
    }

    pub const fn contains(self, sig: u32) -> bool {
        sigmask(sig) != 0 && self.0 & sigmask(sig) != 0
    }

    pub const fn is_empty(self) -> bool {
        self.0 == 0
    }

    pub fn add(&mut self, sig: u32) {
        self.0 |= sigmask(sig);
    }

    pub fn remove(&mut self, sig: u32) {
        self.0 &= !sigmask(sig);
    }

    pub const fn union(self, other: SigSet) -> SigSet {
        SigSet(self.0 | other.0)
    }

    pub const fn intersect(self, other: SigSet) -> SigSet {
        SigSet(self.0 & other.0)
    }

    /// `self` without the signals in `other`.
    pub const fn minus(self, other: SigSet) -> SigSet {
        SigSet(self.0 & !other.0)
    }

    pub const fn complement(self) -> SigSet {
        SigSet(!self.0)
    }

    /// A mask as a guest may set it: SIGKILL and SIGSTOP removed
    /// (sigprocmask(2), sigreturn(2)).
    pub const fn settable(self) -> SigSet {
        self.minus(Self::UNBLOCKABLE)
    }

    /// The lowest-numbered signal in the set.
    pub const fn first(self) -> Option<u32> {
        if self.0 == 0 {
            None
        } else {
            Some(self.0.trailing_zeros() + 1)
        }
    }

    /// The signal `next_signal` (kernel/signal.c) picks from pending signals
    /// `self`: a synchronous one if any, else the lowest-numbered.
    pub const fn next(self) -> Option<u32> {
        let sync = self.intersect(Self::SYNCHRONOUS);
        if sync.0 != 0 {
            sync.first()
        } else {
            self.first()
        }
    }

    /// The signals in the set, lowest first.
    pub fn iter(self) -> impl Iterator<Item = u32> {
        (1..=SIGRTMAX).filter(move |&s| self.contains(s))
    }
}

impl std::fmt::Debug for SigSet {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_set().entries(self.iter()).finish()
    }
}

/// Whether `sig` is a real-time signal (SIGRTMIN..=SIGRTMAX): those queue,
/// the standard ones coalesce (signal(7), "Real-time signals").
pub const fn is_realtime(sig: u32) -> bool {
    sig >= SIGRTMIN && sig <= SIGRTMAX
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bits_and_order() {
        assert_eq!(SigSet::of(1).raw(), 1);
        assert_eq!(SigSet::of(64).raw(), 1 << 63);
        assert_eq!(SigSet::of(0), SigSet::EMPTY);
        assert_eq!(SigSet::of(65), SigSet::EMPTY);
        let s = SigSet::of(SIGUSR1)
            .union(SigSet::of(SIGSEGV))
            .union(SigSet::of(SIGINT));
        assert_eq!(s.first(), Some(SIGINT));
        assert_eq!(s.next(), Some(SIGSEGV));
        assert_eq!(s.iter().collect::<Vec<_>>(), vec![SIGINT, SIGUSR1, SIGSEGV]);
        assert!(!SigSet::ALL.settable().contains(SIGKILL));
        assert!(SigSet::STANDARD.contains(31) && !SigSet::STANDARD.contains(32));
        assert!(is_realtime(32) && is_realtime(64) && !is_realtime(31));
    }
}
