//! `SigInfo`: the kernel's 128-byte x86-64 `siginfo_t`, with a constructor
//! for each way a signal is generated.

use guest_abi::signal::*;
use guest_abi::structs::Siginfo;
use guest_abi::Pod;

use crate::error::SysResult;
use crate::sys_err;

/// One signal instance: what the handler's `siginfo_t *` (or
/// sigtimedwait(2), signalfd) will see. Layout (x86-64, the union at 16):
/// kill `{pid@16, uid@20}`, rt `{pid, uid, sigval@24}`, chld `{pid, uid,
/// status@24, utime@32, stime@40}`, fault `{addr@16, ...zero}`, timer
/// `{tid@16, overrun@20, sigval@24}`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct SigInfo(pub Siginfo);

impl SigInfo {
    pub const SIZE: usize = 128;

    fn with(sig: u32, code: i32) -> SigInfo {
        SigInfo(Siginfo::new(sig, 0, code))
    }

    /// kill(2): `SI_USER` with the sender's pid and uid. (glibc's raise(3)
    /// uses tgkill: [`SigInfo::tkill`].)
    pub fn kill(sig: u32, pid: i32, uid: u32) -> SigInfo {
        let mut i = Self::with(sig, SI_USER);
        i.0.set_si_pid(pid);
        i.0.set_si_uid(uid);
        i
    }

    /// tkill(2)/tgkill(2) (raise(3) in glibc): `SI_TKILL`.
    pub fn tkill(sig: u32, pid: i32, uid: u32) -> SigInfo {
        let mut i = Self::with(sig, SI_TKILL);
        i.0.set_si_pid(pid);
        i.0.set_si_uid(uid);
        i
    }

    /// A signal the kernel itself sends with no details (`SI_KERNEL`),
    /// e.g. a forced SIGSEGV after a frame could not be written, or SIGKILL.
    pub fn kernel(sig: u32) -> SigInfo {
        Self::with(sig, SI_KERNEL)
    }

    /// rt_sigqueueinfo(2) / rt_tgsigqueueinfo(2): the guest's own siginfo,
    /// with `si_signo` forced to `sig` (kernel/signal.c
    /// `__copy_siginfo_from_user`). A guest may not pretend to be the kernel
    /// (`si_code >= 0`) or a tkill (`SI_TKILL`) towards anyone but itself:
    /// EPERM (rt_sigqueueinfo(2); `do_rt_sigqueueinfo`). `to_self` is "the
    /// target id equals the caller's own id" as Linux compares it: the
    /// caller's tgid for rt_sigqueueinfo, its *tid* for rt_tgsigqueueinfo.
    pub fn queue(sig: u32, raw: &Siginfo, to_self: bool) -> SysResult<SigInfo> {
        if (raw.si_code >= 0 || raw.si_code == SI_TKILL) && !to_self {
            return sys_err!(EPERM, "siginfo impersonates the kernel or tkill");
        }
        let mut i = SigInfo(*raw);
        i.0.si_signo = sig as i32;
        Ok(i)
    }

    /// sigqueue(3) as umk itself would build it (`SI_QUEUE` and a value).
    pub fn sigqueue(sig: u32, pid: i32, uid: u32, value: u64) -> SigInfo {
        let mut i = Self::with(sig, SI_QUEUE);
        i.0.set_si_pid(pid);
        i.0.set_si_uid(uid);
        i.0.set_si_value(value);
        i
    }

    /// A synchronous fault of guest code: SIGSEGV/SIGBUS/SIGILL/SIGFPE/
    /// SIGTRAP with the host kernel's `si_code` (SEGV_MAPERR, FPE_INTDIV,
    /// `SI_KERNEL` for int3, ...) and address. `si_addr_lsb`, `si_lower`,
    /// `si_upper` and `si_pkey` stay zero.
    pub fn fault(sig: u32, code: i32, addr: u64) -> SigInfo {
        let mut i = Self::with(sig, code);
        i.0.set_si_addr(addr);
        i
    }

    /// SIGCHLD for a child that exited (`CLD_EXITED`, status = exit code),
    /// was killed (`CLD_KILLED`/`CLD_DUMPED`, status = signal), stopped or
    /// continued. Times in clock ticks.
    pub fn chld(code: i32, pid: i32, uid: u32, status: i32, utime: i64, stime: i64) -> SigInfo {
        let mut i = Self::with(SIGCHLD, code);
        i.0.set_si_pid(pid);
        i.0.set_si_uid(uid);
        i.0.set_si_status(status);
        i.0.set_si_utime(utime);
        i.0.set_si_stime(stime);
        i
    }

    /// A POSIX timer expiry (`SI_TIMER`).
    pub fn timer(sig: u32, timer_id: i32, overrun: i32, value: u64) -> SigInfo {
        let mut i = Self::with(sig, SI_TIMER);
        i.0.set_si_tid(timer_id);
        i.0.set_si_overrun(overrun);
        i.0.set_si_value(value);
        i
    }

    /// The info of a signal that was pending without a queue entry (a
    /// real-time signal sent by kill(2) while the queue was full):
    /// kernel/signal.c `collect_signal` fills in `SI_USER` and zeroes.
    pub fn lost(sig: u32) -> SigInfo {
        Self::with(sig, SI_USER)
    }

    pub fn signo(&self) -> u32 {
        self.0.si_signo as u32
    }

    pub fn code(&self) -> i32 {
        self.0.si_code
    }

    /// Whether the kernel generated it (`SI_FROMKERNEL`: `si_code > 0`).
    pub fn from_kernel(&self) -> bool {
        self.0.si_code > 0
    }

    /// The 128 bytes to copy into the guest.
    pub fn as_bytes(&self) -> &[u8] {
        self.0.as_bytes()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn layouts() {
        let i = SigInfo::kill(SIGTERM, 7, 1000);
        let b = i.as_bytes();
        assert_eq!(b.len(), 128);
        assert_eq!(&b[0..4], &15i32.to_ne_bytes());
        assert_eq!(&b[8..12], &SI_USER.to_ne_bytes());
        assert_eq!(&b[16..20], &7i32.to_ne_bytes());
        assert_eq!(&b[20..24], &1000u32.to_ne_bytes());
        let f = SigInfo::fault(SIGSEGV, SEGV_ACCERR, 0xdead_beef);
        assert_eq!(&f.as_bytes()[16..24], &0xdead_beefu64.to_ne_bytes());
        let c = SigInfo::chld(CLD_EXITED, 3, 0, 42, 1, 2);
        assert_eq!(c.0.si_status(), 42);
        assert_eq!(&c.as_bytes()[32..40], &1i64.to_ne_bytes());
        let q = SigInfo::sigqueue(SIGRTMIN, 1, 0, 0x55);
        assert_eq!(&q.as_bytes()[24..32], &0x55u64.to_ne_bytes());
    }

    #[test]
    fn queue_rules() {
        let mut raw = Siginfo::new(99, 0, SI_QUEUE);
        let i = SigInfo::queue(SIGUSR1, &raw, false).expect("SI_QUEUE may go anywhere");
        assert_eq!(i.signo(), SIGUSR1);
        raw.si_code = SI_USER;
        assert!(SigInfo::queue(SIGUSR1, &raw, false).is_err());
        assert!(SigInfo::queue(SIGUSR1, &raw, true).is_ok());
        raw.si_code = SI_TKILL;
        assert!(SigInfo::queue(SIGUSR1, &raw, false).is_err());
        raw.si_code = SEGV_MAPERR;
        assert!(SigInfo::queue(SIGSEGV, &raw, false).is_err());
    }
}
