//! Ctrl-C: a SIGINT (or SIGTERM) handler that only sets a flag. The engine
//! checks the flag between runs and while waiting for a child, kills the
//! child's process group, stops scheduling and reports what finished.

use std::io;
use std::sync::atomic::{AtomicBool, Ordering};

/// Set by the signal handler.
pub static INTERRUPTED: AtomicBool = AtomicBool::new(false);

extern "C" fn on_signal(_sig: libc::c_int) {
    // Async-signal-safe: one atomic store.
    INTERRUPTED.store(true, Ordering::SeqCst);
}

const SIGNALS: [libc::c_int; 2] = [libc::SIGINT, libc::SIGTERM];

/// Installs the handler until dropped, then restores the previous ones.
pub struct SignalGuard {
    old: Vec<(libc::c_int, libc::sigaction)>,
}

impl SignalGuard {
    /// Clears the flag and installs the handler for SIGINT and SIGTERM,
    /// without SA_RESTART, so a blocking poll() returns EINTR at once.
    pub fn install() -> io::Result<SignalGuard> {
        INTERRUPTED.store(false, Ordering::SeqCst);
        let mut guard = SignalGuard { old: Vec::new() };
        for sig in SIGNALS {
            // SAFETY: sigaction is plain old data; all-zero is a valid value.
            let mut action: libc::sigaction = unsafe { std::mem::zeroed() };
            action.sa_sigaction = on_signal as extern "C" fn(libc::c_int) as libc::sighandler_t;
            action.sa_flags = 0;
            // SAFETY: as above.
            let mut old: libc::sigaction = unsafe { std::mem::zeroed() };
            // SAFETY: `action` and `old` are valid sigaction structs; the
            // handler only stores to an atomic, which is async-signal-safe;
            // sigemptyset only writes the mask inside `action`.
            let rc = unsafe {
                libc::sigemptyset(&mut action.sa_mask);
                libc::sigaction(sig, &action, &mut old)
            };
            if rc != 0 {
                return Err(io::Error::last_os_error());
            }
            guard.old.push((sig, old));
        }
        Ok(guard)
    }
}

impl Drop for SignalGuard {
    fn drop(&mut self) {
        for (sig, old) in &self.old {
            // SAFETY: `old` is the action sigaction returned for `sig`.
            unsafe {
                libc::sigaction(*sig, old, std::ptr::null_mut());
            }
        }
    }
}
