//! Memory syscalls: brk, mmap, munmap, mprotect, mremap, madvise, msync,
//! mincore. The address-space logic lives in `mm::space`; these handlers
//! decode arguments and resolve file descriptors.

use std::os::fd::{AsRawFd, FromRawFd, OwnedFd};
use std::sync::Arc;

use guest_abi::fcntl::{O_ACCMODE, O_RDWR, O_WRONLY};
use guest_abi::mman::{MAP_ANONYMOUS, MAP_HUGETLB, MAP_SHARED, MAP_SHARED_VALIDATE, PROT_WRITE};

use super::context::SyscallContext;
use super::fd_arg;
use crate::error::SysResult;
use crate::mm::vma::{Backing, MappedFile, Role};
use crate::mm::{MapRequest, PAGE_SIZE};
use crate::sys_err;

pub fn brk(ctx: &mut SyscallContext<'_>, a: &[u64; 6]) -> SysResult {
    Ok(ctx.mm.space.brk(a[0], ctx.guest))
}

/// mmap(2).
pub fn mmap(ctx: &mut SyscallContext<'_>, a: &[u64; 6]) -> SysResult {
    let (addr, len, prot, flags, fd, off) = (a[0], a[1], a[2], a[3], fd_arg(a[4]), a[5]);
    if flags & MAP_HUGETLB != 0 {
        return sys_err!(EINVAL, "MAP_HUGETLB is not supported");
    }
    let backing = if flags & MAP_ANONYMOUS != 0 {
        Backing::Anon
    } else {
        if off % PAGE_SIZE != 0 {
            return sys_err!(EINVAL, "offset not page aligned");
        }
        let file = ctx.process().files.lock().get(fd)?;
        let Some(host) = file.host_fd() else {
            return sys_err!(ENODEV, "this file cannot be mapped");
        };
        let st = file.stat()?;
        let mode = st.st_mode & libc::S_IFMT;
        if mode == libc::S_IFCHR && file.path().is_some_and(|p| p.as_os_str() == "/dev/zero") {
            Backing::Anon
        } else {
            if mode != libc::S_IFREG {
                return sys_err!(ENODEV, "only regular files can be mapped");
            }
            let acc = file.status_flags() & O_ACCMODE;
            if acc == O_WRONLY {
                return sys_err!(EACCES, "file not open for reading");
            }
            // MAP_SHARED_VALIDATE (0x3) contains MAP_PRIVATE's bit: compare
            // the two-bit mapping type as a whole.
            let kind = flags & (MAP_SHARED | MAP_SHARED_VALIDATE);
            let shared = kind == MAP_SHARED || kind == MAP_SHARED_VALIDATE;
            if shared && prot & PROT_WRITE != 0 {
                if acc != O_RDWR {
                    return sys_err!(EACCES, "shared writable mapping of a read-only file");
                }
                return sys_err!(
                    ENODEV,
                    "writable shared file mappings are not supported yet"
                );
            }
            // SAFETY: F_DUPFD_CLOEXEC on a descriptor we hold; the result is ours.
            let dup = unsafe { libc::fcntl(host.as_raw_fd(), libc::F_DUPFD_CLOEXEC, 0) };
            if dup < 0 {
                return sys_err!(ENFILE, "out of host descriptors");
            }
            // SAFETY: `dup` is a fresh descriptor nobody else owns.
            let owned = unsafe { OwnedFd::from_raw_fd(dup) };
            let path = file.path().unwrap_or_default();
            let mf = MappedFile::new(owned, path)
                .map_err(|_| crate::error::SysError::new(guest_abi::Errno::EIO, "fstat"))?;
            Backing::File {
                file: Arc::new(mf),
                offset: off,
                file_end: u64::MAX,
            }
        }
    };
    let req = MapRequest {
        addr,
        len,
        prot,
        flags,
        backing,
        role: Role::Plain,
    };
    ctx.mm.space.mmap(req, ctx.guest)
}

pub fn munmap(ctx: &mut SyscallContext<'_>, a: &[u64; 6]) -> SysResult {
    ctx.mm.space.munmap(a[0], a[1], ctx.guest)?;
    Ok(0)
}

pub fn mprotect(ctx: &mut SyscallContext<'_>, a: &[u64; 6]) -> SysResult {
    ctx.mm.space.mprotect(a[0], a[1], a[2], ctx.guest)?;
    Ok(0)
}

pub fn mremap(ctx: &mut SyscallContext<'_>, a: &[u64; 6]) -> SysResult {
    ctx.mm.space.mremap(a[0], a[1], a[2], a[3], a[4], ctx.guest)
}

pub fn madvise(ctx: &mut SyscallContext<'_>, a: &[u64; 6]) -> SysResult {
    ctx.mm().madvise(a[0], a[1], a[2])?;
    Ok(0)
}

pub fn msync(ctx: &mut SyscallContext<'_>, a: &[u64; 6]) -> SysResult {
    ctx.mm().msync(a[0], a[1], a[2])?;
    Ok(0)
}

/// mincore(2): one status byte per page into `vec`.
pub fn mincore(ctx: &mut SyscallContext<'_>, a: &[u64; 6]) -> SysResult {
    let v = ctx.mm().mincore(a[0], a[1])?;
    ctx.mm().write(a[2], &v)?;
    Ok(0)
}
