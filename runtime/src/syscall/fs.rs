//! Paths and descriptors: open, close, stat, access, getcwd, readlink,
//! fcntl, ioctl, dup, poll.
//!
//! Files are host files (see `fs/`): paths are resolved by the host, relative
//! to the guest's working directory or to a directory descriptor's host fd.
//! `/proc/self/exe` and `/proc/self/fd/N` are answered by umk, since the
//! host's would describe umk or the stub.

use std::ffi::CString;
use std::os::fd::{AsRawFd, FromRawFd, OwnedFd};
use std::os::unix::ffi::OsStrExt;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use guest_abi::fcntl::*;
use guest_abi::ioctl::{FIOCLEX, FIONCLEX};
use guest_abi::resource::RLIMIT_NOFILE;
use guest_abi::structs::{Pollfd, Stat};
use guest_abi::Pod;

use super::context::{SyscallContext, PATH_MAX};
use super::fd_arg;
use crate::error::{SysError, SysResult};
use crate::fs::host::{host_errno, stat_from_host};
use crate::fs::{File, HostFile};
use crate::sys_err;

/// The target of a `/proc` link umk answers itself — the caller's
/// `/proc/{self,thread-self,PID}/exe` and `.../fd/N` (the host's would
/// describe the stub) — or `None` for any other path.
fn proc_link(ctx: &SyscallContext<'_>, path: &Path) -> Option<SysResult<PathBuf>> {
    let rest = path.to_str()?.strip_prefix("/proc/")?;
    let (who, tail) = rest.split_once('/')?;
    let me =
        who == "self" || who == "thread-self" || who.parse::<i32>().ok() == Some(ctx.process().pid);
    if !me {
        return None;
    }
    if tail == "exe" {
        return Some(Ok(ctx.process().exe.lock().clone()));
    }
    let n: i32 = tail.strip_prefix("fd/")?.parse().ok()?;
    Some(match ctx.process().files.lock().get(n) {
        Ok(f) => Ok(f
            .path()
            .unwrap_or_else(|| PathBuf::from(format!("anon_inode:[{n}]")))),
        Err(_) => sys_err!(ENOENT, "no such fd"),
    })
}

/// The path a lookup that follows symlinks resolves: umk's own `/proc`
/// links replaced by their targets, any other path unchanged.
fn follow(ctx: &SyscallContext<'_>, path: PathBuf) -> SysResult<PathBuf> {
    proc_link(ctx, &path).unwrap_or(Ok(path))
}

fn cstring(p: &Path) -> SysResult<CString> {
    CString::new(p.as_os_str().as_bytes())
        .map_err(|_| SysError::new(guest_abi::Errno::EINVAL, "NUL in path"))
}

/// What keeps a host directory descriptor open while a call uses it.
pub(super) enum DirGuard {
    None,
    File(#[allow(dead_code)] Arc<dyn File>),
    Cwd(#[allow(dead_code)] Arc<crate::task::Cwd>),
}

/// A directory descriptor argument as a host descriptor: `AT_FDCWD` is the
/// guest's working directory (a host `O_PATH` descriptor of its own).
pub(super) fn host_dirfd(
    ctx: &SyscallContext<'_>,
    dirfd: i32,
    path: &Path,
) -> SysResult<(i32, DirGuard)> {
    if path.is_absolute() {
        return Ok((libc::AT_FDCWD, DirGuard::None));
    }
    if dirfd == AT_FDCWD {
        let cwd = ctx.process().cwd.lock().clone();
        return Ok((cwd.fd.as_raw_fd(), DirGuard::Cwd(cwd)));
    }
    let f = ctx.process().files.lock().get(dirfd)?;
    let raw = match f.host_fd() {
        Some(h) => h.as_raw_fd(),
        None => return sys_err!(ENOTDIR, "not a directory"),
    };
    Ok((raw, DirGuard::File(f)))
}

fn nofile_limit(ctx: &SyscallContext<'_>) -> u64 {
    ctx.process().limit(RLIMIT_NOFILE).rlim_cur
}

/// The content of a file umk answers itself instead of the host, for a
/// read-only open of an absolute path: `/sys/devices/system/cpu/online`
/// lists umk's vCPUs (glibc's `get_nprocs()`, i.e.
/// `sysconf(_SC_NPROCESSORS_ONLN)`, reads it). `_SC_NPROCESSORS_CONF`
/// (the `cpuN` entries of that directory) is still the host's.
fn synthetic(ctx: &SyscallContext<'_>, path: &Path, flags: u64) -> Option<Vec<u8>> {
    if flags & O_ACCMODE != O_RDONLY {
        return None;
    }
    match path.to_str()? {
        "/sys/devices/system/cpu/online" => {
            let n = ctx.kernel.sched.nr_cpus();
            Some(if n == 1 {
                b"0\n".to_vec()
            } else {
                format!("0-{}\n", n - 1).into_bytes()
            })
        }
        _ => None,
    }
}

/// A read-only host descriptor holding `data` (a sealed memfd).
fn memfd_with(data: &[u8]) -> SysResult<i32> {
    // SAFETY: a NUL-terminated name and integer flags.
    let fd = unsafe { libc::memfd_create(c"umk-synthetic".as_ptr(), libc::MFD_CLOEXEC) };
    if fd < 0 {
        return Err(host_errno("memfd_create"));
    }
    // SAFETY: `fd` is a fresh descriptor we own.
    let owned = unsafe { OwnedFd::from_raw_fd(fd) };
    let mut f = std::fs::File::from(owned);
    std::io::Write::write_all(&mut f, data)
        .map_err(|_| SysError::new(guest_abi::Errno::EIO, "memfd"))?;
    std::io::Seek::rewind(&mut f).map_err(|_| SysError::new(guest_abi::Errno::EIO, "memfd"))?;
    Ok(std::os::fd::IntoRawFd::into_raw_fd(f))
}

fn do_openat(
    ctx: &SyscallContext<'_>,
    dirfd: i32,
    path_addr: u64,
    flags: u64,
    mode: u64,
) -> SysResult {
    let path = follow(ctx, ctx.read_path(path_addr, false)?)?;
    let fd = if let Some(data) = synthetic(ctx, &path, flags) {
        memfd_with(&data)?
    } else {
        let (dir, _keep) = host_dirfd(ctx, dirfd, &path)?;
        let c = cstring(&path)?;
        let host_flags = (flags as i32) | libc::O_CLOEXEC;
        // SAFETY: `c` is a NUL-terminated path; flags and mode are integers.
        let fd = unsafe { libc::openat(dir, c.as_ptr(), host_flags, mode as libc::c_uint) };
        if fd < 0 {
            return Err(host_errno("openat"));
        }
        fd
    };
    // SAFETY: `fd` is a fresh descriptor we own.
    let owned = unsafe { OwnedFd::from_raw_fd(fd) };
    let abs = if path.is_absolute() {
        path
    } else {
        ctx.process().cwd.lock().path.join(&path)
    };
    let file: Arc<dyn File> = Arc::new(HostFile::new(owned, Some(abs)));
    let limit = nofile_limit(ctx);
    let guest_fd = ctx
        .process()
        .files
        .lock()
        .install(file, flags & O_CLOEXEC != 0, 0, limit)?;
    Ok(guest_fd as u64)
}

pub fn open(ctx: &mut SyscallContext<'_>, a: &[u64; 6]) -> SysResult {
    do_openat(ctx, AT_FDCWD, a[0], a[1], a[2])
}

pub fn openat(ctx: &mut SyscallContext<'_>, a: &[u64; 6]) -> SysResult {
    do_openat(ctx, fd_arg(a[0]), a[1], a[2], a[3])
}

pub fn close(ctx: &mut SyscallContext<'_>, a: &[u64; 6]) -> SysResult {
    ctx.process().files.lock().remove(fd_arg(a[0]))?;
    Ok(0)
}

pub fn fstat(ctx: &mut SyscallContext<'_>, a: &[u64; 6]) -> SysResult {
    let file = ctx.process().files.lock().get(fd_arg(a[0]))?;
    let st = file.stat()?;
    ctx.write_struct(a[1], &st)?;
    Ok(0)
}

/// The common part of stat, lstat and newfstatat (fs/stat.c: the path is
/// looked up before the result is copied out).
fn do_fstatat(
    ctx: &SyscallContext<'_>,
    dirfd: i32,
    path_addr: u64,
    buf: u64,
    flags: u64,
) -> SysResult {
    if flags & !(AT_SYMLINK_NOFOLLOW | AT_EMPTY_PATH | AT_NO_AUTOMOUNT) != 0 {
        return sys_err!(EINVAL, "unknown flags");
    }
    let mut path = ctx.read_path(path_addr, flags & AT_EMPTY_PATH != 0)?;
    let st: Stat = if path.as_os_str().is_empty() {
        if dirfd == AT_FDCWD {
            path = PathBuf::from(".");
            let (dir, _keep) = host_dirfd(ctx, dirfd, &path)?;
            host_stat(dir, &path, 0)?
        } else {
            ctx.process().files.lock().get(dirfd)?.stat()?
        }
    } else {
        if flags & AT_SYMLINK_NOFOLLOW == 0 {
            path = follow(ctx, path)?;
        }
        let (dir, _keep) = host_dirfd(ctx, dirfd, &path)?;
        let hf = if flags & AT_SYMLINK_NOFOLLOW != 0 {
            libc::AT_SYMLINK_NOFOLLOW
        } else {
            0
        };
        host_stat(dir, &path, hf)?
    };
    ctx.write_struct(buf, &st)?;
    Ok(0)
}

fn host_stat(dir: i32, path: &Path, flags: i32) -> SysResult<Stat> {
    let c = cstring(path)?;
    // SAFETY: zeroed `stat` is a valid out buffer.
    let mut st: libc::stat = unsafe { std::mem::zeroed() };
    // SAFETY: `c` is NUL-terminated and `st` a valid out pointer.
    if unsafe { libc::fstatat(dir, c.as_ptr(), &mut st, flags) } < 0 {
        return Err(host_errno("fstatat"));
    }
    Ok(stat_from_host(&st))
}

pub fn stat(ctx: &mut SyscallContext<'_>, a: &[u64; 6]) -> SysResult {
    do_fstatat(ctx, AT_FDCWD, a[0], a[1], 0)
}

pub fn lstat(ctx: &mut SyscallContext<'_>, a: &[u64; 6]) -> SysResult {
    do_fstatat(ctx, AT_FDCWD, a[0], a[1], AT_SYMLINK_NOFOLLOW)
}

pub fn newfstatat(ctx: &mut SyscallContext<'_>, a: &[u64; 6]) -> SysResult {
    do_fstatat(ctx, fd_arg(a[0]), a[1], a[2], a[3])
}

fn do_faccessat(
    ctx: &SyscallContext<'_>,
    dirfd: i32,
    path_addr: u64,
    mode: u64,
    flags: u64,
) -> SysResult {
    if mode & !(R_OK | W_OK | X_OK) != 0 {
        return sys_err!(EINVAL, "bad mode");
    }
    if flags & !(AT_EACCESS | AT_SYMLINK_NOFOLLOW | AT_EMPTY_PATH) != 0 {
        return sys_err!(EINVAL, "bad flags");
    }
    let path = follow(ctx, ctx.read_path(path_addr, flags & AT_EMPTY_PATH != 0)?)?;
    let (dir, _keep) = host_dirfd(ctx, dirfd, &path)?;
    let c = cstring(&path)?;
    // SAFETY: NUL-terminated path and integer arguments.
    let r = unsafe {
        libc::syscall(
            libc::SYS_faccessat2,
            dir,
            c.as_ptr(),
            mode as i32,
            flags as i32,
        )
    };
    if r < 0 {
        return Err(host_errno("faccessat2"));
    }
    Ok(0)
}

pub fn access(ctx: &mut SyscallContext<'_>, a: &[u64; 6]) -> SysResult {
    do_faccessat(ctx, AT_FDCWD, a[0], a[1], 0)
}

pub fn faccessat(ctx: &mut SyscallContext<'_>, a: &[u64; 6]) -> SysResult {
    do_faccessat(ctx, fd_arg(a[0]), a[1], a[2], 0)
}

pub fn faccessat2(ctx: &mut SyscallContext<'_>, a: &[u64; 6]) -> SysResult {
    do_faccessat(ctx, fd_arg(a[0]), a[1], a[2], a[3])
}

/// getcwd(2): returns the length including the NUL; ERANGE if it does not fit.
pub fn getcwd(ctx: &mut SyscallContext<'_>, a: &[u64; 6]) -> SysResult {
    let mut s = ctx
        .process()
        .cwd
        .lock()
        .path
        .as_os_str()
        .as_bytes()
        .to_vec();
    s.push(0);
    if (a[1] as usize) < s.len() {
        return sys_err!(ERANGE, "buffer too small");
    }
    ctx.mm().write(a[0], &s)?;
    Ok(s.len() as u64)
}

fn do_readlinkat(
    ctx: &SyscallContext<'_>,
    dirfd: i32,
    path_addr: u64,
    buf: u64,
    size: u64,
) -> SysResult {
    let path = ctx.read_path(path_addr, false)?;
    if size as i32 <= 0 {
        return sys_err!(EINVAL, "bufsiz <= 0");
    }
    let target: Vec<u8> = match proc_link(ctx, &path) {
        Some(t) => t?.as_os_str().as_bytes().to_vec(),
        None => {
            let (dir, _keep) = host_dirfd(ctx, dirfd, &path)?;
            let c = cstring(&path)?;
            let mut out = vec![0u8; PATH_MAX];
            // SAFETY: NUL-terminated path; `out` is a writable buffer of its length.
            let n =
                unsafe { libc::readlinkat(dir, c.as_ptr(), out.as_mut_ptr().cast(), out.len()) };
            if n < 0 {
                return Err(host_errno("readlinkat"));
            }
            out.truncate(n as usize);
            out
        }
    };
    let n = target.len().min(size as usize);
    ctx.mm().write(buf, &target[..n])?;
    Ok(n as u64)
}

pub fn readlink(ctx: &mut SyscallContext<'_>, a: &[u64; 6]) -> SysResult {
    do_readlinkat(ctx, AT_FDCWD, a[0], a[1], a[2])
}

pub fn readlinkat(ctx: &mut SyscallContext<'_>, a: &[u64; 6]) -> SysResult {
    do_readlinkat(ctx, fd_arg(a[0]), a[1], a[2], a[3])
}

/// fcntl(2): descriptor flags and duplication; status flags of the file.
pub fn fcntl(ctx: &mut SyscallContext<'_>, a: &[u64; 6]) -> SysResult {
    let (fd, cmd, arg) = (fd_arg(a[0]), a[1], a[2]);
    let limit = nofile_limit(ctx);
    let mut files = ctx.process().files.lock();
    match cmd {
        F_DUPFD | F_DUPFD_CLOEXEC => {
            let file = files.get(fd)?;
            if arg >= limit {
                return sys_err!(EINVAL, "F_DUPFD minimum above RLIMIT_NOFILE");
            }
            Ok(files.install(file, cmd == F_DUPFD_CLOEXEC, arg as usize, limit)? as u64)
        }
        F_GETFD => {
            let e = files
                .entry(fd)
                .ok_or(SysError::new(guest_abi::Errno::EBADF, "no such descriptor"))?;
            Ok(if e.cloexec { FD_CLOEXEC } else { 0 })
        }
        F_SETFD => {
            let e = files
                .entry_mut(fd)
                .ok_or(SysError::new(guest_abi::Errno::EBADF, "no such descriptor"))?;
            e.cloexec = arg & FD_CLOEXEC != 0;
            Ok(0)
        }
        F_GETFL => Ok(files.get(fd)?.status_flags()),
        F_SETFL => {
            files.get(fd)?.set_status_flags(arg)?;
            Ok(0)
        }
        _ => {
            files.get(fd)?;
            sys_err!(EINVAL, "fcntl command not supported yet")
        }
    }
}

pub fn ioctl(ctx: &mut SyscallContext<'_>, a: &[u64; 6]) -> SysResult {
    let (fd, req) = (fd_arg(a[0]), a[1]);
    if req == FIOCLEX || req == FIONCLEX {
        let mut files = ctx.process().files.lock();
        let e = files
            .entry_mut(fd)
            .ok_or(SysError::new(guest_abi::Errno::EBADF, "no such descriptor"))?;
        e.cloexec = req == FIOCLEX;
        return Ok(0);
    }
    let file = ctx.process().files.lock().get(fd)?;
    file.ioctl(req, a[2], ctx.mm())
}

pub fn dup(ctx: &mut SyscallContext<'_>, a: &[u64; 6]) -> SysResult {
    let limit = nofile_limit(ctx);
    let mut files = ctx.process().files.lock();
    let f = files.get(fd_arg(a[0]))?;
    Ok(files.install(f, false, 0, limit)? as u64)
}

fn do_dup3(ctx: &SyscallContext<'_>, old: i32, new: u64, cloexec: bool) -> SysResult {
    let limit = nofile_limit(ctx);
    let mut files = ctx.process().files.lock();
    let f = files.get(old)?;
    if new >= limit || new > i32::MAX as u64 {
        return sys_err!(EBADF, "new descriptor out of range");
    }
    // The replaced file is closed when its last reference goes, after the
    // table lock is released.
    let _old = files.install_at(new as usize, f, cloexec);
    drop(files);
    Ok(new)
}

pub fn dup2(ctx: &mut SyscallContext<'_>, a: &[u64; 6]) -> SysResult {
    let old = fd_arg(a[0]);
    if a[1] == old as u64 && old >= 0 {
        // dup2(2): the same descriptor is returned if it is valid.
        ctx.process().files.lock().get(old)?;
        return Ok(a[1]);
    }
    do_dup3(ctx, old, a[1], false)
}

pub fn dup3(ctx: &mut SyscallContext<'_>, a: &[u64; 6]) -> SysResult {
    if a[2] & !O_CLOEXEC != 0 {
        return sys_err!(EINVAL, "unknown dup3 flags");
    }
    if a[0] == a[1] {
        return sys_err!(EINVAL, "dup3 to the same descriptor");
    }
    do_dup3(ctx, fd_arg(a[0]), a[1], a[2] & O_CLOEXEC != 0)
}

/// poll(2) over host files: an immediate check, then (if nothing is ready
/// and the timeout allows) a host poll on the files' host descriptors.
pub fn poll(ctx: &mut SyscallContext<'_>, a: &[u64; 6]) -> SysResult {
    let (addr, nfds, timeout) = (a[0], a[1], a[2] as i32);
    if nfds > nofile_limit(ctx) || nfds > 1 << 20 {
        return sys_err!(EINVAL, "nfds above RLIMIT_NOFILE");
    }
    let raw = ctx.read_bytes(addr, nfds as usize * 8)?;
    let mut fds: Vec<Pollfd> = raw.chunks_exact(8).filter_map(Pollfd::from_bytes).collect();
    let files: Vec<Option<Arc<dyn File>>> = {
        let t = ctx.process().files.lock();
        fds.iter()
            .map(|p| if p.fd < 0 { None } else { t.get(p.fd).ok() })
            .collect()
    };
    let always = libc::POLLERR | libc::POLLHUP | libc::POLLNVAL;
    let scan = |fds: &mut Vec<Pollfd>| -> u64 {
        let mut ready = 0;
        for (p, f) in fds.iter_mut().zip(&files) {
            p.revents = match f {
                _ if p.fd < 0 => 0,
                None => libc::POLLNVAL,
                Some(f) => f.poll_ready(p.events | always) & (p.events | always),
            };
            if p.revents != 0 {
                ready += 1;
            }
        }
        ready
    };
    let mut ready = scan(&mut fds);
    let all_host = files.iter().flatten().all(|f| f.host_fd().is_some());
    if ready == 0 && timeout != 0 && !all_host {
        // Files of umk's own (pipes) have no host descriptor to wait on:
        // recheck every millisecond until ready or the timeout passes.
        // (A wait queue replaces this with the processes issue.)
        let deadline = (timeout > 0)
            .then(|| std::time::Instant::now() + std::time::Duration::from_millis(timeout as u64));
        let tid = ctx.thread.tid;
        let interrupted = ctx.kernel.sched.blocked(tid, || {
            while ready == 0 && deadline.is_none_or(|d| std::time::Instant::now() < d) {
                if ctx.thread.attention() {
                    return true;
                }
                std::thread::sleep(std::time::Duration::from_millis(1));
                ready = scan(&mut fds);
            }
            false
        });
        if interrupted {
            // poll(2) is never restarted after a handler (ERESTARTNOHAND).
            return crate::signal::interrupted(crate::signal::ERESTARTNOHAND);
        }
    } else if ready == 0 && timeout != 0 {
        let mut host: Vec<libc::pollfd> = fds
            .iter()
            .zip(&files)
            .map(|(p, f)| libc::pollfd {
                fd: f
                    .as_ref()
                    .and_then(|f| f.host_fd())
                    .map_or(-1, |h| h.as_raw_fd()),
                events: p.events,
                revents: 0,
            })
            .collect();
        let r = ctx.kernel.sched.blocked(ctx.thread.tid, || {
            // SAFETY: `host` is a valid array of pollfd of the given length.
            unsafe { libc::poll(host.as_mut_ptr(), host.len() as libc::nfds_t, timeout) }
        });
        if r < 0 {
            return Err(host_errno("poll"));
        }
        ready = scan(&mut fds);
    }
    let out: Vec<u8> = fds.iter().flat_map(|p| p.as_bytes().to_vec()).collect();
    ctx.mm().write(addr, &out)?;
    Ok(ready)
}

/// pipe2(2): O_CLOEXEC, O_NONBLOCK (O_DIRECT "packet mode" is EINVAL here).
pub fn pipe2(ctx: &mut SyscallContext<'_>, a: &[u64; 6]) -> SysResult {
    let flags = a[1];
    if flags & !(O_CLOEXEC | O_NONBLOCK) != 0 {
        return sys_err!(EINVAL, "unsupported pipe2 flags");
    }
    // Check the destination before creating anything.
    if ctx.mm().accessible_len(a[0], 8, true) < 8 {
        return Err(crate::error::EFAULT);
    }
    let (r, w) = crate::fs::pipe::pipe(flags & O_NONBLOCK != 0);
    let limit = nofile_limit(ctx);
    let cloexec = flags & O_CLOEXEC != 0;
    let (rfd, wfd) = {
        let mut files = ctx.process().files.lock();
        let rfd = files.install(Arc::new(r), cloexec, 0, limit)?;
        match files.install(Arc::new(w), cloexec, 0, limit) {
            Ok(wfd) => (rfd, wfd),
            Err(e) => {
                let _ = files.remove(rfd);
                return Err(e);
            }
        }
    };
    ctx.write_struct(a[0], &[rfd, wfd])?;
    Ok(0)
}

pub fn pipe(ctx: &mut SyscallContext<'_>, a: &[u64; 6]) -> SysResult {
    pipe2(ctx, &[a[0], 0, 0, 0, 0, 0])
}

pub fn ftruncate(ctx: &mut SyscallContext<'_>, a: &[u64; 6]) -> SysResult {
    let file = ctx.process().files.lock().get(fd_arg(a[0]))?;
    if (a[1] as i64) < 0 {
        return sys_err!(EINVAL, "negative length");
    }
    let Some(h) = file.host_fd() else {
        return sys_err!(EINVAL, "not a regular file");
    };
    // SAFETY: integer arguments on a descriptor we hold.
    if unsafe { libc::ftruncate(h.as_raw_fd(), a[1] as i64) } < 0 {
        return Err(host_errno("ftruncate"));
    }
    Ok(0)
}

pub fn truncate(ctx: &mut SyscallContext<'_>, a: &[u64; 6]) -> SysResult {
    let path = ctx.read_path(a[0], false)?;
    if (a[1] as i64) < 0 {
        return sys_err!(EINVAL, "negative length");
    }
    let c = cstring(&path)?;
    // SAFETY: NUL-terminated path, integer length.
    if unsafe { libc::truncate(c.as_ptr(), a[1] as i64) } < 0 {
        return Err(host_errno("truncate"));
    }
    Ok(0)
}

fn sync_fd(ctx: &SyscallContext<'_>, fd: u64, data_only: bool) -> SysResult {
    let file = ctx.process().files.lock().get(fd_arg(fd))?;
    let Some(h) = file.host_fd() else {
        return sys_err!(EINVAL, "cannot sync this file");
    };
    // SAFETY: a descriptor we hold.
    let r = unsafe {
        if data_only {
            libc::fdatasync(h.as_raw_fd())
        } else {
            libc::fsync(h.as_raw_fd())
        }
    };
    if r < 0 {
        return Err(host_errno("fsync"));
    }
    Ok(0)
}

pub fn fsync(ctx: &mut SyscallContext<'_>, a: &[u64; 6]) -> SysResult {
    sync_fd(ctx, a[0], false)
}

pub fn fdatasync(ctx: &mut SyscallContext<'_>, a: &[u64; 6]) -> SysResult {
    sync_fd(ctx, a[0], true)
}

/// Runs a host `*at` path call for a guest `(dirfd, path)`.
fn path_call(
    ctx: &SyscallContext<'_>,
    dirfd: i32,
    path_addr: u64,
    why: &'static str,
    f: impl FnOnce(i32, &std::ffi::CStr) -> libc::c_int,
) -> SysResult {
    let path = ctx.read_path(path_addr, false)?;
    let (dir, _keep) = host_dirfd(ctx, dirfd, &path)?;
    let c = cstring(&path)?;
    if f(dir, &c) < 0 {
        return Err(host_errno(why));
    }
    Ok(0)
}

pub fn unlink(ctx: &mut SyscallContext<'_>, a: &[u64; 6]) -> SysResult {
    // SAFETY: NUL-terminated path on a live directory descriptor.
    path_call(ctx, AT_FDCWD, a[0], "unlink", |d, p| unsafe {
        libc::unlinkat(d, p.as_ptr(), 0)
    })
}

pub fn unlinkat(ctx: &mut SyscallContext<'_>, a: &[u64; 6]) -> SysResult {
    if a[2] & !AT_REMOVEDIR != 0 {
        return sys_err!(EINVAL, "bad flags");
    }
    let flags = a[2] as i32;
    // SAFETY: as in `unlink`.
    path_call(ctx, fd_arg(a[0]), a[1], "unlinkat", |d, p| unsafe {
        libc::unlinkat(d, p.as_ptr(), flags)
    })
}

pub fn rmdir(ctx: &mut SyscallContext<'_>, a: &[u64; 6]) -> SysResult {
    // SAFETY: as in `unlink`.
    path_call(ctx, AT_FDCWD, a[0], "rmdir", |d, p| unsafe {
        libc::unlinkat(d, p.as_ptr(), libc::AT_REMOVEDIR)
    })
}

/// symlinkat(2): `target` is stored as given, never resolved.
fn do_symlinkat(ctx: &SyscallContext<'_>, target: u64, dirfd: i32, link: u64) -> SysResult {
    let t = cstring(&ctx.read_path(target, false)?)?;
    // SAFETY: NUL-terminated strings on a live directory descriptor.
    path_call(ctx, dirfd, link, "symlinkat", |d, p| unsafe {
        libc::symlinkat(t.as_ptr(), d, p.as_ptr())
    })
}

pub fn symlink(ctx: &mut SyscallContext<'_>, a: &[u64; 6]) -> SysResult {
    do_symlinkat(ctx, a[0], AT_FDCWD, a[1])
}

pub fn symlinkat(ctx: &mut SyscallContext<'_>, a: &[u64; 6]) -> SysResult {
    do_symlinkat(ctx, a[0], fd_arg(a[1]), a[2])
}

/// chmod(2): the host file's mode (umk has no inodes of its own yet).
pub fn chmod(ctx: &mut SyscallContext<'_>, a: &[u64; 6]) -> SysResult {
    let mode = (a[1] & 0o7777) as libc::mode_t;
    // SAFETY: as in `unlink`.
    path_call(ctx, AT_FDCWD, a[0], "chmod", |d, p| unsafe {
        libc::fchmodat(d, p.as_ptr(), mode, 0)
    })
}

/// fchmodat(2): no flags (the syscall has no flags argument;
/// AT_SYMLINK_NOFOLLOW is fchmodat2's).
pub fn fchmodat(ctx: &mut SyscallContext<'_>, a: &[u64; 6]) -> SysResult {
    let mode = (a[2] & 0o7777) as libc::mode_t;
    // SAFETY: as in `unlink`.
    path_call(ctx, fd_arg(a[0]), a[1], "fchmodat", |d, p| unsafe {
        libc::fchmodat(d, p.as_ptr(), mode, 0)
    })
}

/// fchmod(2) on a host file; umk's own files (pipes) have no mode to keep.
pub fn fchmod(ctx: &mut SyscallContext<'_>, a: &[u64; 6]) -> SysResult {
    let file = ctx.process().files.lock().get(fd_arg(a[0]))?;
    let Some(h) = file.host_fd() else {
        return Ok(0);
    };
    // SAFETY: integer arguments on a descriptor we hold.
    if unsafe { libc::fchmod(h.as_raw_fd(), (a[1] & 0o7777) as libc::mode_t) } < 0 {
        return Err(host_errno("fchmod"));
    }
    Ok(0)
}

pub fn mkdir(ctx: &mut SyscallContext<'_>, a: &[u64; 6]) -> SysResult {
    let mode = a[1] as libc::mode_t;
    // SAFETY: as in `unlink`.
    path_call(ctx, AT_FDCWD, a[0], "mkdir", |d, p| unsafe {
        libc::mkdirat(d, p.as_ptr(), mode)
    })
}

pub fn mkdirat(ctx: &mut SyscallContext<'_>, a: &[u64; 6]) -> SysResult {
    let mode = a[2] as libc::mode_t;
    // SAFETY: as in `unlink`.
    path_call(ctx, fd_arg(a[0]), a[1], "mkdirat", |d, p| unsafe {
        libc::mkdirat(d, p.as_ptr(), mode)
    })
}

fn do_renameat2(
    ctx: &SyscallContext<'_>,
    olddir: i32,
    old: u64,
    newdir: i32,
    new: u64,
    flags: u64,
) -> SysResult {
    let op = ctx.read_path(old, false)?;
    let np = ctx.read_path(new, false)?;
    let (od, _k1) = host_dirfd(ctx, olddir, &op)?;
    let (nd, _k2) = host_dirfd(ctx, newdir, &np)?;
    let (oc, nc) = (cstring(&op)?, cstring(&np)?);
    // SAFETY: NUL-terminated paths on live directory descriptors.
    let r = unsafe {
        libc::syscall(
            libc::SYS_renameat2,
            od,
            oc.as_ptr(),
            nd,
            nc.as_ptr(),
            flags as u32,
        )
    };
    if r < 0 {
        return Err(host_errno("renameat2"));
    }
    Ok(0)
}

pub fn rename(ctx: &mut SyscallContext<'_>, a: &[u64; 6]) -> SysResult {
    do_renameat2(ctx, AT_FDCWD, a[0], AT_FDCWD, a[1], 0)
}

pub fn renameat(ctx: &mut SyscallContext<'_>, a: &[u64; 6]) -> SysResult {
    do_renameat2(ctx, fd_arg(a[0]), a[1], fd_arg(a[2]), a[3], 0)
}

pub fn renameat2(ctx: &mut SyscallContext<'_>, a: &[u64; 6]) -> SysResult {
    do_renameat2(ctx, fd_arg(a[0]), a[1], fd_arg(a[2]), a[3], a[4])
}

/// getdents64(2) on a host directory: the host fills a buffer in umk's
/// memory in the same `linux_dirent64` format, which is copied out.
pub fn getdents64(ctx: &mut SyscallContext<'_>, a: &[u64; 6]) -> SysResult {
    let file = ctx.process().files.lock().get(fd_arg(a[0]))?;
    let Some(h) = file.host_fd() else {
        return sys_err!(ENOTDIR, "not a directory");
    };
    let n = (a[2] as usize).min(1 << 20);
    if ctx.mm().accessible_len(a[1], n as u64, true) < n as u64 {
        return Err(crate::error::EFAULT);
    }
    let mut buf = vec![0u8; n];
    // SAFETY: `buf` is writable for `n` bytes.
    let r = unsafe { libc::syscall(libc::SYS_getdents64, h.as_raw_fd(), buf.as_mut_ptr(), n) };
    if r < 0 {
        return Err(host_errno("getdents64"));
    }
    ctx.mm().write(a[1], &buf[..r as usize])?;
    Ok(r as u64)
}

fn set_cwd(ctx: &SyscallContext<'_>, fd: OwnedFd, path: PathBuf) -> SysResult {
    let mut st: libc::stat = {
        // SAFETY: a zeroed stat is a valid out buffer.
        unsafe { std::mem::zeroed() }
    };
    // SAFETY: fstat into `st` on a descriptor we own.
    if unsafe { libc::fstat(fd.as_raw_fd(), &mut st) } < 0 {
        return Err(host_errno("fstat"));
    }
    if st.st_mode & libc::S_IFMT != libc::S_IFDIR {
        return sys_err!(ENOTDIR, "not a directory");
    }
    *ctx.process().cwd.lock() = Arc::new(crate::task::Cwd { path, fd });
    Ok(0)
}

/// chdir(2): the new directory must be searchable (EACCES otherwise).
pub fn chdir(ctx: &mut SyscallContext<'_>, a: &[u64; 6]) -> SysResult {
    let path = ctx.read_path(a[0], false)?;
    let (dir, _keep) = host_dirfd(ctx, AT_FDCWD, &path)?;
    let c = cstring(&path)?;
    // SAFETY: NUL-terminated path on a live directory descriptor.
    if unsafe { libc::faccessat(dir, c.as_ptr(), libc::X_OK, 0) } < 0 {
        return Err(host_errno("chdir"));
    }
    // SAFETY: as above; the result is a fresh descriptor we own.
    let fd = unsafe {
        libc::openat(
            dir,
            c.as_ptr(),
            libc::O_PATH | libc::O_DIRECTORY | libc::O_CLOEXEC,
        )
    };
    if fd < 0 {
        return Err(host_errno("chdir"));
    }
    // SAFETY: `fd` is fresh and ours.
    let fd = unsafe { OwnedFd::from_raw_fd(fd) };
    let abs = std::fs::read_link(format!("/proc/self/fd/{}", fd.as_raw_fd())).unwrap_or(path);
    set_cwd(ctx, fd, abs)
}

pub fn fchdir(ctx: &mut SyscallContext<'_>, a: &[u64; 6]) -> SysResult {
    let file = ctx.process().files.lock().get(fd_arg(a[0]))?;
    let Some(h) = file.host_fd() else {
        return sys_err!(ENOTDIR, "not a directory");
    };
    let fd = h
        .try_clone_to_owned()
        .map_err(|_| SysError::new(guest_abi::Errno::ENFILE, "dup"))?;
    let abs = std::fs::read_link(format!("/proc/self/fd/{}", fd.as_raw_fd())).unwrap_or_default();
    set_cwd(ctx, fd, abs)
}
