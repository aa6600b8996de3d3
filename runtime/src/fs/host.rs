//! Host passthrough files: a guest descriptor backed by a host descriptor
//! that umk holds (regular files, directories, and the terminal or pipes
//! umk's own stdio is connected to).

use std::os::fd::{AsFd, AsRawFd, BorrowedFd, OwnedFd};
use std::path::PathBuf;

use guest_abi::fcntl::{O_APPEND, O_ASYNC, O_DIRECT, O_NOATIME, O_NONBLOCK};
use guest_abi::ioctl::{TCGETS, TIOCGWINSZ};
use guest_abi::structs::{Stat, Termios, Winsize};
use guest_abi::{Errno, Pod};

use super::file::File;
use crate::error::{SysError, SysResult};
use crate::mm::AddressSpace;

/// The last host errno as a guest error (Linux errno values are the same on
/// both sides).
pub fn host_errno(why: &'static str) -> SysError {
    let e = std::io::Error::last_os_error()
        .raw_os_error()
        .unwrap_or(libc::EIO);
    SysError::new(Errno::from_raw(e).unwrap_or(Errno::EIO), why)
}

/// Runs a host call that returns -1/errno, retrying on EINTR.
fn retry(why: &'static str, mut f: impl FnMut() -> isize) -> SysResult<usize> {
    loop {
        let r = f();
        if r >= 0 {
            return Ok(r as usize);
        }
        let e = host_errno(why);
        if e.errno != Errno::EINTR {
            return Err(e);
        }
    }
}

#[derive(Debug)]
pub struct HostFile {
    fd: OwnedFd,
    path: Option<PathBuf>,
}

impl HostFile {
    pub fn new(fd: OwnedFd, path: Option<PathBuf>) -> HostFile {
        HostFile { fd, path }
    }

    fn raw(&self) -> i32 {
        self.fd.as_raw_fd()
    }
}

pub fn stat_from_host(st: &libc::stat) -> Stat {
    Stat {
        st_dev: st.st_dev,
        st_ino: st.st_ino,
        st_nlink: st.st_nlink,
        st_mode: st.st_mode,
        st_uid: st.st_uid,
        st_gid: st.st_gid,
        __pad0: 0,
        st_rdev: st.st_rdev,
        st_size: st.st_size,
        st_blksize: st.st_blksize,
        st_blocks: st.st_blocks,
        st_atime: st.st_atime,
        st_atime_nsec: st.st_atime_nsec,
        st_mtime: st.st_mtime,
        st_mtime_nsec: st.st_mtime_nsec,
        st_ctime: st.st_ctime,
        st_ctime_nsec: st.st_ctime_nsec,
        __unused: [0; 3],
    }
}

impl File for HostFile {
    fn read(&self, buf: &mut [u8]) -> SysResult<usize> {
        // SAFETY: `buf` is a valid writable buffer of `buf.len()` bytes.
        retry("read", || unsafe {
            libc::read(self.raw(), buf.as_mut_ptr().cast(), buf.len())
        })
    }

    fn write(&self, buf: &[u8]) -> SysResult<usize> {
        // SAFETY: `buf` is a valid readable buffer of `buf.len()` bytes.
        retry("write", || unsafe {
            libc::write(self.raw(), buf.as_ptr().cast(), buf.len())
        })
    }

    fn pread(&self, buf: &mut [u8], off: u64) -> SysResult<usize> {
        // SAFETY: as in `read`.
        retry("pread64", || unsafe {
            libc::pread(self.raw(), buf.as_mut_ptr().cast(), buf.len(), off as i64)
        })
    }

    fn pwrite(&self, buf: &[u8], off: u64) -> SysResult<usize> {
        // SAFETY: as in `write`.
        retry("pwrite64", || unsafe {
            libc::pwrite(self.raw(), buf.as_ptr().cast(), buf.len(), off as i64)
        })
    }

    fn seek(&self, off: i64, whence: u32) -> SysResult<u64> {
        // SAFETY: plain integer arguments.
        let r = unsafe { libc::lseek(self.raw(), off, whence as i32) };
        if r < 0 {
            return Err(host_errno("lseek"));
        }
        Ok(r as u64)
    }

    fn stat(&self) -> SysResult<Stat> {
        // SAFETY: `st` is a valid out buffer for fstat.
        let mut st: libc::stat = unsafe { std::mem::zeroed() };
        // SAFETY: as above.
        if unsafe { libc::fstat(self.raw(), &mut st) } < 0 {
            return Err(host_errno("fstat"));
        }
        Ok(stat_from_host(&st))
    }

    fn ioctl(&self, req: u64, arg: u64, mm: &AddressSpace) -> SysResult<u64> {
        // Only the terminal queries static programs make; each is a plain
        // out-struct, so umk can run it on its own descriptor and copy out.
        match req {
            TCGETS => {
                let mut t = Termios::default();
                // SAFETY: TCGETS writes a kernel `struct termios` (36 bytes)
                // into `t`, which has exactly that layout.
                if unsafe { libc::ioctl(self.raw(), libc::TCGETS, &mut t as *mut Termios) } < 0 {
                    return Err(host_errno("TCGETS"));
                }
                mm.write(arg, t.as_bytes())?;
                Ok(0)
            }
            TIOCGWINSZ => {
                let mut w = Winsize::default();
                // SAFETY: TIOCGWINSZ writes a `struct winsize` into `w`.
                if unsafe { libc::ioctl(self.raw(), libc::TIOCGWINSZ, &mut w as *mut Winsize) } < 0
                {
                    return Err(host_errno("TIOCGWINSZ"));
                }
                mm.write(arg, w.as_bytes())?;
                Ok(0)
            }
            _ => crate::sys_err!(ENOTTY, "ioctl not supported on host files yet"),
        }
    }

    fn poll_ready(&self, events: i16) -> i16 {
        let mut p = libc::pollfd {
            fd: self.raw(),
            events,
            revents: 0,
        };
        // SAFETY: one valid pollfd, zero timeout.
        if unsafe { libc::poll(&mut p, 1, 0) } < 0 {
            return 0;
        }
        p.revents
    }

    fn status_flags(&self) -> u64 {
        // SAFETY: F_GETFL on our descriptor.
        let r = unsafe { libc::fcntl(self.raw(), libc::F_GETFL) };
        if r < 0 {
            0
        } else {
            r as u64
        }
    }

    fn set_status_flags(&self, flags: u64) -> SysResult<()> {
        let changeable = O_APPEND | O_ASYNC | O_DIRECT | O_NOATIME | O_NONBLOCK;
        let keep = self.status_flags() & !changeable;
        // SAFETY: F_SETFL on our descriptor with an integer argument.
        if unsafe {
            libc::fcntl(
                self.raw(),
                libc::F_SETFL,
                (keep | (flags & changeable)) as i32,
            )
        } < 0
        {
            return Err(host_errno("F_SETFL"));
        }
        Ok(())
    }

    fn host_fd(&self) -> Option<BorrowedFd<'_>> {
        Some(self.fd.as_fd())
    }

    fn path(&self) -> Option<PathBuf> {
        self.path.clone()
    }
}
