//! Signal delivery: sets, dispositions, pending queues, siginfo, and the
//! x86-64 rt signal frame.
//!
//! # Model
//!
//! umk keeps every piece of a guest's signal state itself; nothing of it is
//! applied to the stub threads (the host only ever sees umk's own use of
//! signals and ptrace). The pieces follow Linux's split (kernel/signal.c):
//!
//! - **Generation** ([`SigInfo`] constructors, [`SigQueue::enqueue`]): a
//!   signal becomes pending on a thread (`tkill`, faults) or on its process
//!   (`kill`). Standard signals coalesce, real-time ones queue with their
//!   siginfo up to `RLIMIT_SIGPENDING` ([`pending`]). Before queueing, the
//!   sender applies [`action::ignored_when_sent`] (discard) and
//!   [`action::discarded_by`] (SIGCONT vs stop signals).
//! - **Delivery** happens when a thread is about to return to guest code
//!   (after a syscall, a fault, or an interruption of running code):
//!   [`pending::dequeue`] takes the next unblocked signal (synchronous faults
//!   first, the thread's queue before the process's);
//!   [`action::take_for_delivery`] says what to do with it and applies
//!   SA_RESETHAND; for a handler, [`enter_handler`] performs syscall restart
//!   processing, writes the [`frame`] and switches the thread to the
//!   handler (registers, a clean FPU, the handler's mask, a disarmed
//!   SS_AUTODISARM stack).
//! - **Return**: the handler's `ret` lands on `sa_restorer`, which makes the
//!   rt_sigreturn syscall; [`sigreturn`] reads the frame back.
//!
//! ## The run loop's sequence (per thread, each time it would resume guest code)
//!
//! ```text
//! after a syscall handler (rax holds its result, orig_rax its number):
//!   loop {
//!     info = pending::dequeue(thread_q, process_q, blocked)  else break
//!     match action::take_for_delivery(sig, &mut sigactions[sig-1]) {
//!       Ignore            => continue,
//!       Default(Term|Core)=> end the process (WTERMSIG = sig, core flag)
//!       Default(Stop)     => group stop (SIGCHLD/CLD_STOPPED to the parent)
//!       Default(Cont)     => continue          // continuing happened at send
//!       Handler(h)        => {
//!          enter_handler(...)  // restart_with_handler + frame + mask
//!          on Err: force SIGSEGV (SI_KERNEL). `force_sigsegv`: if the
//!                  failed frame was for SIGSEGV itself, reset SIGSEGV to
//!                  SIG_DFL first (no loop); like every forced signal
//!                  (`force_sig_info_to_task`), a blocked or ignored one
//!                  is unblocked and reset to SIG_DFL. Faults of guest
//!                  code (Trap::Fault) are forced the same way: a blocked
//!                  or ignored SIGSEGV/SIGFPE/... kills (sigfault_c checks).
//!          continue        // the next one's frame goes on top
//!       }
//!     }
//!   }
//!   if no handler was entered: restart_without_handler(regs)
//!   and put back the mask sigsuspend/ppoll saved, if any.
//! ```
//!
//! Linux keeps delivering while an unblocked signal is pending before it
//! returns to user mode (`exit_to_user_mode_loop` re-checks
//! `TIF_SIGPENDING`), so two pending signals get two stacked frames and the
//! later-dequeued one's handler runs first, returning into the other's.
//! Each handler's mask applies to what is dequeued after it.

//! ## Syscall restart (arch/x86/kernel/signal.c `handle_signal`,
//! `arch_do_signal_or_restart`)
//!
//! A blocking syscall that is interrupted by a signal returns one of:
//!
//! | errno | with a handler | no handler (ignored, stopped/continued) |
//! |---|---|---|
//! | `ERESTARTSYS` (512): read, write, wait4, accept, futex without timeout… | restart if SA_RESTART, else EINTR | restart |
//! | `ERESTARTNOINTR` (513): e.g. fork interrupted | restart | restart |
//! | `ERESTARTNOHAND` (514): pause, rt_sigsuspend, poll/select | EINTR | restart |
//! | `ERESTART_RESTARTBLOCK` (516): nanosleep, clock_nanosleep, futex with timeout | EINTR | `restart_syscall` (219) with the saved restart block |
//!
//! "Restart" rewinds `rip` over the 2-byte `syscall` instruction and puts the
//! syscall number back in `rax`; with PTRACE_SYSEMU the stop reports `rip`
//! after the instruction exactly as the kernel's `pt_regs` do, so the same
//! arithmetic applies. These values must never reach the guest.
//! rt_sigreturn (and every frame switch) sets `orig_rax = -1`, which turns
//! restart processing off, and Linux makes a pending `restart_syscall`
//! return EINTR after a sigreturn (`restart_block.fn =
//! do_no_restart_syscall`).
//!
//! ## What the platform contributes
//!
//! `GuestThread::xstate`/`set_xstate` move the FPU/vector state as the
//! ptrace `NT_X86_XSTATE` image; the frame code converts between that and
//! the signal frame's layout ([`frame`]). The XSAVE size comes from CPUID
//! leaf 0xD, never from a constant (`AT_MINSIGSTKSZ` agrees:
//! [`frame::minsigstksz`]).

pub mod action;
pub mod altstack;
pub mod frame;
pub mod info;
pub mod pending;
pub mod sigset;

pub use action::{DefaultAction, Disposition, Handler};
pub use frame::{FaultRegs, FrameError, GuestMem, SigreturnError};
pub use info::SigInfo;
pub use pending::{PendingCount, Queued, SigQueue};
pub use sigset::SigSet;

use guest_abi::signal::SA_RESTART;
use guest_abi::structs::StackT;
use guest_abi::Errno;

use crate::platform::{GuestThread, PlatformError, Regs};

/// Restart the syscall if the handler has SA_RESTART, else EINTR.
pub const ERESTARTSYS: Errno = Errno(512);
/// Always restart.
pub const ERESTARTNOINTR: Errno = Errno(513);
/// Restart only if no handler runs.
pub const ERESTARTNOHAND: Errno = Errno(514);
/// Restart through restart_syscall(2) if no handler runs.
pub const ERESTART_RESTARTBLOCK: Errno = Errno(516);
/// `__NR_restart_syscall`.
pub const NR_RESTART_SYSCALL: u64 = 219;

/// What a blocking call returns when a kick (a signal, a stop) interrupts
/// it: `code` is one of the restart codes above, which the run loop turns
/// into EINTR or a restart once it knows whether a handler runs.
pub fn interrupted<T>(code: Errno) -> crate::error::SysResult<T> {
    Err(crate::error::SysError::new(code, "interrupted by a signal"))
}

/// The length of the `syscall` instruction (0f 05).
const SYSCALL_INSN_LEN: u64 = 2;

fn restart_errno(regs: &Regs) -> Option<Errno> {
    if regs.orig_rax == u64::MAX {
        return None; // not in a syscall
    }
    let v = regs.rax as i64;
    [
        ERESTARTSYS,
        ERESTARTNOINTR,
        ERESTARTNOHAND,
        ERESTART_RESTARTBLOCK,
    ]
    .into_iter()
    .find(|e| v == -i64::from(e.0))
}

fn rewind(regs: &mut Regs, nr: u64) {
    regs.rax = nr;
    regs.rip = regs.rip.wrapping_sub(SYSCALL_INSN_LEN);
}

/// Syscall restart before a handler runs (`handle_signal`). Does nothing
/// unless `regs` are at the end of a syscall that returned a restart code.
pub fn restart_with_handler(regs: &mut Regs, flags: u64) {
    let eintr = Errno::EINTR.to_ret();
    match restart_errno(regs) {
        Some(ERESTART_RESTARTBLOCK) | Some(ERESTARTNOHAND) => regs.rax = eintr,
        Some(ERESTARTSYS) if flags & SA_RESTART == 0 => regs.rax = eintr,
        Some(ERESTARTSYS) | Some(ERESTARTNOINTR) => rewind(regs, regs.orig_rax),
        _ => {}
    }
}

/// Syscall restart when no handler runs (`arch_do_signal_or_restart`).
/// Returns true if the guest will make `restart_syscall` (the caller keeps
/// the restart block of the interrupted call for it).
pub fn restart_without_handler(regs: &mut Regs) -> bool {
    match restart_errno(regs) {
        Some(ERESTART_RESTARTBLOCK) => {
            rewind(regs, NR_RESTART_SYSCALL);
            true
        }
        Some(_) => {
            rewind(regs, regs.orig_rax);
            false
        }
        None => false,
    }
}

/// Why [`enter_handler`] failed.
#[derive(Debug, thiserror::Error)]
pub enum DeliverError {
    /// No frame could be written: force SIGSEGV on the thread.
    #[error("signal frame: {0:?}")]
    Frame(FrameError),
    #[error(transparent)]
    Platform(#[from] PlatformError),
}

/// The thread-side signal state [`enter_handler`] and [`sigreturn`] update.
#[derive(Debug)]
pub struct ThreadSignals<'a> {
    /// The blocked set (`ThreadState::sigmask`).
    pub blocked: &'a mut u64,
    /// The mask a sigsuspend/ppoll/pselect6 in progress saved, if any (it
    /// goes in the frame and is consumed).
    pub saved: Option<u64>,
    /// `ThreadState::altstack`.
    pub altstack: &'a mut StackT,
    /// The last fault's trap number, error code and address.
    pub fault: FaultRegs,
}

/// Runs `handler` for `info` on a stopped thread: syscall restart
/// processing, the frame, the handler's registers and clean FPU state, the
/// handler's blocked set, the disarmed altstack.
pub fn enter_handler(
    guest: &mut dyn GuestThread,
    mem: &dyn GuestMem,
    info: &SigInfo,
    handler: &Handler,
    st: ThreadSignals<'_>,
) -> Result<(), DeliverError> {
    let sig = info.signo();
    let mut regs = *guest.regs();
    restart_with_handler(&mut regs, handler.flags);
    let xstate = guest.xstate()?;
    let old = SigSet(*st.blocked);
    let req = frame::FrameRequest {
        sig,
        info,
        handler,
        regs: &regs,
        xstate: &xstate,
        saved_mask: SigSet(st.saved.unwrap_or(*st.blocked)),
        altstack: *st.altstack,
        fault: st.fault,
    };
    let f = frame::setup_rt_frame(mem, &req).map_err(DeliverError::Frame)?;
    guest.set_xstate(&f.xstate)?;
    *guest.regs_mut() = f.regs;
    *st.blocked = action::handler_mask(sig, handler, old).raw();
    *st.altstack = f.altstack;
    Ok(())
}

/// rt_sigreturn(2) on a thread stopped at that syscall: restores registers,
/// FPU state, mask and alternate stack from the frame. The syscall's return
/// value is the restored `rax` (write it back as the result, or leave
/// `rax` alone). On `Err(Frame(..))` force SIGSEGV (the mask is already
/// updated for a bad context, as in Linux).
pub fn sigreturn(
    guest: &mut dyn GuestThread,
    mem: &dyn GuestMem,
    st: ThreadSignals<'_>,
) -> Result<u64, SigreturnFailure> {
    let regs = *guest.regs();
    match frame::restore_rt_frame(mem, &regs, st.altstack) {
        Ok(r) => {
            guest.set_xstate(&r.xstate)?;
            *guest.regs_mut() = r.regs;
            *st.blocked = r.blocked.raw();
            *st.altstack = r.altstack;
            Ok(r.regs.rax)
        }
        Err(e) => {
            if let SigreturnError::BadContext { blocked } = e {
                *st.blocked = blocked.raw();
            }
            Err(SigreturnFailure::Frame(e))
        }
    }
}

/// Why [`sigreturn`] failed.
#[derive(Debug, thiserror::Error)]
pub enum SigreturnFailure {
    #[error("rt_sigreturn frame: {0:?}")]
    Frame(SigreturnError),
    #[error(transparent)]
    Platform(#[from] PlatformError),
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at_syscall(nr: u64, ret: Errno) -> Regs {
        // SAFETY: user_regs_struct is plain integers.
        let mut r: Regs = unsafe { std::mem::zeroed() };
        r.orig_rax = nr;
        r.rax = ret.to_ret();
        r.rip = 0x1002;
        r
    }

    #[test]
    fn restart_rules() {
        let eintr = Errno::EINTR.to_ret();
        let mut r = at_syscall(0, ERESTARTSYS);
        restart_with_handler(&mut r, SA_RESTART);
        assert_eq!((r.rax, r.rip), (0, 0x1000));
        let mut r = at_syscall(0, ERESTARTSYS);
        restart_with_handler(&mut r, 0);
        assert_eq!((r.rax, r.rip), (eintr, 0x1002));
        let mut r = at_syscall(34, ERESTARTNOHAND);
        restart_with_handler(&mut r, SA_RESTART);
        assert_eq!(r.rax, eintr);
        let mut r = at_syscall(34, ERESTARTNOHAND);
        assert!(!restart_without_handler(&mut r));
        assert_eq!((r.rax, r.rip), (34, 0x1000));
        let mut r = at_syscall(35, ERESTART_RESTARTBLOCK);
        assert!(restart_without_handler(&mut r));
        assert_eq!((r.rax, r.rip), (NR_RESTART_SYSCALL, 0x1000));
        let mut r = at_syscall(57, ERESTARTNOINTR);
        restart_with_handler(&mut r, 0);
        assert_eq!((r.rax, r.rip), (57, 0x1000));
        // Not in a syscall: untouched.
        let mut r = at_syscall(u64::MAX, ERESTARTSYS);
        restart_with_handler(&mut r, 0);
        assert_eq!(r.rip, 0x1002);
    }
}
