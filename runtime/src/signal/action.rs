//! Dispositions: the default action of each signal (signal(7)) and what
//! delivering a signal does, given its `struct sigaction`.

use guest_abi::signal::*;
use guest_abi::structs::KernelSigaction;

use super::sigset::SigSet;

/// signal(7), "Signal dispositions".
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum DefaultAction {
    /// Terminate the process.
    Term,
    /// Terminate the process and dump core (`WCOREDUMP`).
    Core,
    /// Stop the process.
    Stop,
    /// Continue the process if it is stopped.
    Cont,
    /// Ignore the signal.
    Ign,
}

/// The default action of `sig` (signal(7), the table under "Standard
/// signals"; real-time signals terminate).
pub const fn default_action(sig: u32) -> DefaultAction {
    use DefaultAction::*;
    match sig {
        SIGQUIT | SIGILL | SIGTRAP | SIGABRT | SIGBUS | SIGFPE | SIGSEGV | SIGXCPU | SIGXFSZ
        | SIGSYS => Core,
        SIGCHLD | SIGURG | SIGWINCH => Ign,
        SIGCONT => Cont,
        SIGSTOP | SIGTSTP | SIGTTIN | SIGTTOU => Stop,
        _ => Term,
    }
}

/// A handler as delivery needs it: a copy of the action taken *before*
/// SA_RESETHAND reset it (kernel/signal.c `get_signal`: `ksig->ka = *ka`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Handler {
    pub handler: u64,
    pub flags: u64,
    /// `sa_mask`: added to the blocked set while the handler runs.
    pub mask: SigSet,
    /// `sa_restorer`: the handler's return address (`pretcode`). x86-64
    /// requires SA_RESTORER; without it the frame cannot be set up and the
    /// thread gets SIGSEGV (signal_64.c `x64_setup_rt_frame`: -EFAULT).
    pub restorer: u64,
}

impl Handler {
    pub const fn has(&self, flag: u64) -> bool {
        self.flags & flag != 0
    }
}

/// What delivering a dequeued signal does.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Disposition {
    /// SIG_IGN (or a SIG_DFL whose default is to ignore): nothing.
    Ignore,
    /// SIG_DFL with this action (never `Ign`: that is `Ignore`).
    Default(DefaultAction),
    /// Run a handler: build a frame.
    Handler(Handler),
}

/// The disposition of `sig` under `act`, without changing anything.
pub fn disposition(sig: u32, act: &KernelSigaction) -> Disposition {
    // SIGKILL and SIGSTOP cannot be caught or ignored (sigaction(2)); their
    // actions can never be set, but do not trust the table for it.
    if sig == SIGKILL || sig == SIGSTOP || act.sa_handler == SIG_DFL {
        return match default_action(sig) {
            DefaultAction::Ign => Disposition::Ignore,
            a => Disposition::Default(a),
        };
    }
    if act.sa_handler == SIG_IGN {
        return Disposition::Ignore;
    }
    Disposition::Handler(Handler {
        handler: act.sa_handler,
        flags: act.sa_flags,
        mask: SigSet(act.sa_mask),
        restorer: act.sa_restorer,
    })
}

/// Takes `sig` for delivery: returns its disposition and applies what
/// delivery does to the action table entry. SA_RESETHAND (SA_ONESHOT)
/// resets *only* `sa_handler` to SIG_DFL; `sa_flags` (SA_SIGINFO included)
/// and `sa_mask` stay as they were (kernel/signal.c `get_signal`:
/// `if (ka->sa.sa_flags & SA_ONESHOT) ka->sa.sa_handler = SIG_DFL;`).
pub fn take_for_delivery(sig: u32, act: &mut KernelSigaction) -> Disposition {
    let d = disposition(sig, act);
    if let Disposition::Handler(h) = d {
        if h.has(SA_RESETHAND) {
            act.sa_handler = SIG_DFL;
        }
    }
    d
}

/// The blocked set while the handler for `sig` runs: the old set plus
/// `sa_mask`, plus `sig` itself unless SA_NODEFER; never SIGKILL/SIGSTOP
/// (kernel/signal.c `signal_delivered`).
pub fn handler_mask(sig: u32, h: &Handler, blocked: SigSet) -> SigSet {
    let mut m = blocked.union(h.mask);
    if !h.has(SA_NODEFER) {
        m.add(sig);
    }
    m.settable()
}

/// Whether a signal sent now may be discarded at once instead of queued
/// (kernel/signal.c `sig_ignored` / `sig_task_ignored`): its handler is
/// SIG_IGN, or SIG_DFL with a default of "ignore" (SIGCHLD, SIGURG,
/// SIGWINCH, and SIGCONT once its continuing is done). A *blocked* signal is
/// never discarded: the handler may change before it is unblocked. Neither
/// are SIGKILL and SIGSTOP.
pub fn ignored_when_sent(sig: u32, act: &KernelSigaction, blocked: SigSet) -> bool {
    if sig == SIGKILL || sig == SIGSTOP || blocked.contains(sig) {
        return false;
    }
    act.sa_handler == SIG_IGN || (act.sa_handler == SIG_DFL && SigSet::KERNEL_IGNORE.contains(sig))
}

/// The signals to discard from every queue of the target process when `sig`
/// is sent (kernel/signal.c `prepare_signal`): a stop signal discards a
/// pending SIGCONT; SIGCONT discards pending stop signals (and continues
/// the process).
pub fn discarded_by(sig: u32) -> SigSet {
    if SigSet::STOP.contains(sig) {
        SigSet::of(SIGCONT)
    } else if sig == SIGCONT {
        SigSet::STOP
    } else {
        SigSet::EMPTY
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn act(handler: u64, flags: u64, mask: u64) -> KernelSigaction {
        KernelSigaction {
            sa_handler: handler,
            sa_flags: flags | SA_RESTORER,
            sa_restorer: 0x1234,
            sa_mask: mask,
        }
    }

    #[test]
    fn defaults() {
        assert_eq!(default_action(SIGSEGV), DefaultAction::Core);
        assert_eq!(default_action(SIGTERM), DefaultAction::Term);
        assert_eq!(default_action(SIGCHLD), DefaultAction::Ign);
        assert_eq!(default_action(SIGTSTP), DefaultAction::Stop);
        assert_eq!(default_action(SIGCONT), DefaultAction::Cont);
        assert_eq!(default_action(SIGRTMIN + 3), DefaultAction::Term);
        assert_eq!(
            disposition(SIGCHLD, &act(SIG_DFL, 0, 0)),
            Disposition::Ignore
        );
        assert_eq!(
            disposition(SIGKILL, &act(0x4000, 0, 0)),
            Disposition::Default(DefaultAction::Term)
        );
    }

    #[test]
    fn resethand_keeps_flags() {
        let mut a = act(0x4000, SA_RESETHAND | SA_SIGINFO, 0);
        let d = take_for_delivery(SIGUSR1, &mut a);
        let Disposition::Handler(h) = d else {
            panic!("{d:?}")
        };
        assert_eq!(h.handler, 0x4000);
        assert_eq!(a.sa_handler, SIG_DFL);
        assert_ne!(a.sa_flags & SA_SIGINFO, 0);
        assert_eq!(
            take_for_delivery(SIGUSR1, &mut a),
            Disposition::Default(DefaultAction::Term)
        );
    }

    #[test]
    fn masks() {
        let h = |flags| Handler {
            handler: 1,
            flags,
            mask: SigSet::of(SIGUSR2).union(SigSet::of(SIGKILL)),
            restorer: 0,
        };
        let m = handler_mask(SIGUSR1, &h(0), SigSet::of(SIGINT));
        assert_eq!(
            m,
            SigSet::of(SIGINT)
                .union(SigSet::of(SIGUSR1))
                .union(SigSet::of(SIGUSR2))
        );
        let m = handler_mask(SIGUSR1, &h(SA_NODEFER), SigSet::EMPTY);
        assert_eq!(m, SigSet::of(SIGUSR2));
    }

    #[test]
    fn ignoring() {
        assert!(ignored_when_sent(
            SIGCHLD,
            &act(SIG_DFL, 0, 0),
            SigSet::EMPTY
        ));
        assert!(!ignored_when_sent(
            SIGCHLD,
            &act(SIG_DFL, 0, 0),
            SigSet::of(SIGCHLD)
        ));
        assert!(ignored_when_sent(
            SIGUSR1,
            &act(SIG_IGN, 0, 0),
            SigSet::EMPTY
        ));
        assert!(!ignored_when_sent(
            SIGTERM,
            &act(SIG_DFL, 0, 0),
            SigSet::EMPTY
        ));
        assert!(discarded_by(SIGCONT).contains(SIGTSTP));
        assert!(discarded_by(SIGSTOP).contains(SIGCONT));
        assert!(discarded_by(SIGUSR1).is_empty());
    }
}
