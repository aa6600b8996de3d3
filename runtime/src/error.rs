//! The error a syscall handler (and the kernel layers below it) returns to
//! the guest: an errno plus a short static note saying why, for traces and
//! debugging (Asterinas' `Error::with_message`).

use guest_abi::Errno;

#[derive(Clone, Copy, PartialEq, Eq)]
pub struct SysError {
    pub errno: Errno,
    pub why: &'static str,
}

impl SysError {
    pub const fn new(errno: Errno, why: &'static str) -> SysError {
        SysError { errno, why }
    }
}

impl From<Errno> for SysError {
    fn from(errno: Errno) -> SysError {
        SysError { errno, why: "" }
    }
}

impl std::fmt::Debug for SysError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        if self.why.is_empty() {
            write!(f, "{}", self.errno.name())
        } else {
            write!(f, "{} ({})", self.errno.name(), self.why)
        }
    }
}

impl std::fmt::Display for SysError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        std::fmt::Debug::fmt(self, f)
    }
}

/// `Err(SysError)` with an errno name and a note: `sys_err!(EINVAL, "bad flags")`.
#[macro_export]
macro_rules! sys_err {
    ($e:ident, $why:expr) => {
        Err($crate::error::SysError::new(guest_abi::Errno::$e, $why))
    };
    ($e:ident) => {
        Err($crate::error::SysError::new(guest_abi::Errno::$e, ""))
    };
}

pub type SysResult<T = u64> = Result<T, SysError>;

/// EFAULT: a guest pointer that is unmapped or lacks the needed permission.
pub const EFAULT: SysError = SysError::new(Errno::EFAULT, "bad guest address");
