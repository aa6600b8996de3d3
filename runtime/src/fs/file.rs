//! An open file as the guest's fd table holds it: the operations syscalls
//! need, with Linux's defaults for objects that do not support them.

use std::os::fd::BorrowedFd;
use std::path::PathBuf;

use guest_abi::structs::Stat;

use crate::error::SysResult;
use crate::mm::AddressSpace;
use crate::sys_err;

/// An open file description (shared by `dup`ed descriptors).
pub trait File: Send + Sync + std::fmt::Debug {
    fn read(&self, _buf: &mut [u8]) -> SysResult<usize> {
        sys_err!(EBADF, "not open for reading")
    }
    fn write(&self, _buf: &[u8]) -> SysResult<usize> {
        sys_err!(EBADF, "not open for writing")
    }
    fn pread(&self, _buf: &mut [u8], _off: u64) -> SysResult<usize> {
        sys_err!(ESPIPE, "not seekable")
    }
    fn pwrite(&self, _buf: &[u8], _off: u64) -> SysResult<usize> {
        sys_err!(ESPIPE, "not seekable")
    }
    fn seek(&self, _off: i64, _whence: u32) -> SysResult<u64> {
        sys_err!(ESPIPE, "not seekable")
    }
    fn stat(&self) -> SysResult<Stat>;
    /// `ioctl(2)`; `mm` is the caller's address space for in/out structs.
    fn ioctl(&self, _req: u64, _arg: u64, _mm: &AddressSpace) -> SysResult<u64> {
        sys_err!(ENOTTY, "no ioctls on this file")
    }
    /// Ready events among `events` (`POLL*`), without blocking.
    fn poll_ready(&self, events: i16) -> i16;
    /// `F_GETFL`: access mode and status flags.
    fn status_flags(&self) -> u64;
    /// `F_SETFL`: only `O_APPEND`, `O_NONBLOCK`, `O_ASYNC`, `O_DIRECT`,
    /// `O_NOATIME` can change (fcntl(2)).
    fn set_status_flags(&self, _flags: u64) -> SysResult<()> {
        Ok(())
    }
    /// The host descriptor behind this file, if any (for `*at` lookups
    /// relative to it, and for `mmap`).
    fn host_fd(&self) -> Option<BorrowedFd<'_>> {
        None
    }
    /// The path the file was opened by (for `/proc/PID/fd` and traces).
    fn path(&self) -> Option<PathBuf> {
        None
    }
}
