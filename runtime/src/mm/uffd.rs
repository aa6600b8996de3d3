//! A small userfaultfd wrapper: the ioctls umk uses, over `linux-raw-sys`
//! constants and `libc::ioctl`.
//!
//! Why not the `userfaultfd` crate: its build runs bindgen, which needs
//! libclang, and a fresh machine has none. The handful of ioctls below is all
//! umk needs, and the kernel's uAPI (`include/uapi/linux/userfaultfd.h`) is
//! stable.
//!
//! The descriptor is created *inside the stub* (registration acts on the
//! address space of the process that created the uffd) and taken over by umk
//! with `pidfd_getfd`; every ioctl here then acts on the stub's memory.

use std::os::fd::{AsRawFd, OwnedFd};

use linux_raw_sys::general as uapi;
use linux_raw_sys::ioctl as ioc;

/// Fault-handling features umk asks for: shmem (memfd) missing and minor
/// faults, and write-protect on shmem including never-touched pages.
pub const FEATURES: u64 = (uapi::UFFD_FEATURE_MISSING_SHMEM
    | uapi::UFFD_FEATURE_MINOR_SHMEM
    | uapi::UFFD_FEATURE_WP_HUGETLBFS_SHMEM
    | uapi::UFFD_FEATURE_WP_UNPOPULATED) as u64;

pub const MODE_MISSING: u64 = uapi::UFFDIO_REGISTER_MODE_MISSING as u64;
pub const MODE_MINOR: u64 = uapi::UFFDIO_REGISTER_MODE_MINOR as u64;
pub const MODE_WP: u64 = uapi::UFFDIO_REGISTER_MODE_WP as u64;

/// `UFFDIO_WRITEPROTECT_MODE_WP` (a `(__u64)1 << 0` define bindgen skips).
const WRITEPROTECT_MODE_WP: u64 = 1;
/// `UFFDIO_CONTINUE_MODE_DONTWAKE` (`(__u64)1 << 0`).
const CONTINUE_MODE_DONTWAKE: u64 = 1;

/// `flags` of `userfaultfd(2)` as the stub creates it: user-mode faults only
/// (all umk needs, and what an unprivileged host allows when
/// `vm.unprivileged_userfaultfd=0`), non-blocking, close-on-exec.
pub const CREATE_FLAGS: u64 =
    (uapi::UFFD_USER_MODE_ONLY | uapi::O_NONBLOCK | uapi::O_CLOEXEC) as u64;

#[derive(Debug, thiserror::Error)]
pub enum UffdError {
    #[error("userfaultfd {op}: {source}")]
    Ioctl {
        op: &'static str,
        source: std::io::Error,
    },
    #[error("userfaultfd lacks features {missing:#x}")]
    Features { missing: u64 },
}

#[repr(C)]
#[derive(Default)]
struct Range {
    start: u64,
    len: u64,
}

#[repr(C)]
#[derive(Default)]
struct Api {
    api: u64,
    features: u64,
    ioctls: u64,
}

#[repr(C)]
#[derive(Default)]
struct Register {
    range: Range,
    mode: u64,
    ioctls: u64,
}

#[repr(C)]
#[derive(Default)]
struct Continue {
    range: Range,
    mode: u64,
    mapped: i64,
}

#[repr(C)]
#[derive(Default)]
struct WriteProtect {
    range: Range,
    mode: u64,
}

/// One `struct uffd_msg` (32 bytes), the page-fault variant decoded.
#[repr(C)]
#[derive(Clone, Copy, Default)]
struct RawMsg {
    event: u8,
    reserved: [u8; 7],
    flags: u64,
    address: u64,
    ptid: u32,
    pad: u32,
}

/// A page fault reported by the stub's userfaultfd.
#[derive(Clone, Copy, Debug)]
pub struct Fault {
    pub addr: u64,
    pub write: bool,
    pub minor: bool,
    pub wp: bool,
}

/// umk's end of a stub's userfaultfd.
#[derive(Debug)]
pub struct Uffd {
    fd: OwnedFd,
}

impl Uffd {
    /// Takes over a userfaultfd and performs the `UFFDIO_API` handshake.
    pub fn new(fd: OwnedFd) -> Result<Uffd, UffdError> {
        let u = Uffd { fd };
        let mut api = Api {
            api: uapi::UFFD_API as u64,
            features: FEATURES,
            ioctls: 0,
        };
        u.ioctl(ioc::UFFDIO_API, &mut api, "API")?;
        let missing = FEATURES & !api.features;
        if missing != 0 {
            return Err(UffdError::Features { missing });
        }
        Ok(u)
    }

    pub fn raw_fd(&self) -> i32 {
        self.fd.as_raw_fd()
    }

    fn ioctl<T>(&self, req: u32, arg: &mut T, op: &'static str) -> Result<(), UffdError> {
        // SAFETY: `req` is a userfaultfd ioctl whose argument struct is `T`
        // (each caller pairs them as in the uAPI header); `arg` is a valid,
        // exclusively borrowed `T` for the duration of the call.
        let r = unsafe { libc::ioctl(self.fd.as_raw_fd(), req as _, arg as *mut T) };
        if r < 0 {
            return Err(UffdError::Ioctl {
                op,
                source: std::io::Error::last_os_error(),
            });
        }
        Ok(())
    }

    /// Registers `[start, start+len)` of the stub for the given fault modes.
    pub fn register(&self, start: u64, len: u64, mode: u64) -> Result<(), UffdError> {
        let mut r = Register {
            range: Range { start, len },
            mode,
            ioctls: 0,
        };
        self.ioctl(ioc::UFFDIO_REGISTER, &mut r, "REGISTER")
    }

    /// Maps the page-cache pages of `[start, start+len)` into the stub and
    /// wakes the threads waiting on them (minor-fault resolution).
    /// `EEXIST` (some page already mapped) is reported as `Ok(false)`.
    pub fn continue_range(&self, start: u64, len: u64) -> Result<bool, UffdError> {
        self.continue_range_wp(start, len, false)
    }

    /// As [`Self::continue_range`]; with `wp` the pages are mapped
    /// write-protected (they are shared copy-on-write): mapped without
    /// waking, protected, then woken. (`UFFDIO_CONTINUE_MODE_WP` alone left
    /// shmem pages writable here.)
    pub fn continue_range_wp(&self, start: u64, len: u64, wp: bool) -> Result<bool, UffdError> {
        let mut c = Continue {
            range: Range { start, len },
            mode: if wp { CONTINUE_MODE_DONTWAKE } else { 0 },
            mapped: 0,
        };
        let r = match self.ioctl(ioc::UFFDIO_CONTINUE, &mut c, "CONTINUE") {
            Ok(()) => Ok(true),
            Err(UffdError::Ioctl { source, .. }) if source.raw_os_error() == Some(libc::EEXIST) => {
                Ok(false)
            }
            Err(e) => Err(e),
        };
        if wp {
            if let Err(e) = self.write_protect(start, len, true) {
                crate::log::warn(&format!("uffd: protect {start:#x}+{len:#x}: {e}"));
            }
            let _ = self.wake(start, len);
        }
        r
    }

    /// Wakes threads waiting on faults in `[start, start+len)` without mapping.
    pub fn wake(&self, start: u64, len: u64) -> Result<(), UffdError> {
        let mut r = Range { start, len };
        self.ioctl(ioc::UFFDIO_WAKE, &mut r, "WAKE")
    }

    /// Sets or clears write protection on `[start, start+len)`.
    pub fn write_protect(&self, start: u64, len: u64, on: bool) -> Result<(), UffdError> {
        let mode = if on { WRITEPROTECT_MODE_WP } else { 0 };
        let mut w = WriteProtect {
            range: Range { start, len },
            mode,
        };
        self.ioctl(ioc::UFFDIO_WRITEPROTECT, &mut w, "WRITEPROTECT")
    }

    /// Reads pending page-fault messages (non-blocking) into `out`.
    /// Returns how many were read; 0 when none are pending.
    pub fn read_faults(&self, out: &mut Vec<Fault>) -> std::io::Result<usize> {
        let mut msgs = [RawMsg::default(); 16];
        // SAFETY: reading into a properly sized, writable array of
        // `uffd_msg`-layout structs; the kernel writes whole messages.
        let n = unsafe {
            libc::read(
                self.fd.as_raw_fd(),
                msgs.as_mut_ptr().cast(),
                std::mem::size_of_val(&msgs),
            )
        };
        if n < 0 {
            let e = std::io::Error::last_os_error();
            if e.raw_os_error() == Some(libc::EAGAIN) {
                return Ok(0);
            }
            return Err(e);
        }
        let count = n as usize / std::mem::size_of::<RawMsg>();
        for m in &msgs[..count] {
            if u32::from(m.event) == uapi::UFFD_EVENT_PAGEFAULT {
                let f = m.flags;
                out.push(Fault {
                    addr: m.address,
                    write: f & u64::from(uapi::UFFD_PAGEFAULT_FLAG_WRITE) != 0,
                    minor: f & u64::from(uapi::UFFD_PAGEFAULT_FLAG_MINOR) != 0,
                    wp: f & u64::from(uapi::UFFD_PAGEFAULT_FLAG_WP) != 0,
                });
            }
        }
        Ok(count)
    }
}

const _: () = assert!(std::mem::size_of::<RawMsg>() == 32);
