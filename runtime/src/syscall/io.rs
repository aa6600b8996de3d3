//! Reading and writing: read, write, readv, writev, pread64, pwrite64, lseek.
//!
//! Data moves through a umk buffer: the host call fills or drains it, and
//! the guest-memory API copies it in or out (EFAULT for bad buffers).

use guest_abi::structs::Iovec;
use guest_abi::Pod;

use super::context::SyscallContext;
use super::fd_arg;
use crate::error::{SysResult, EFAULT};
use crate::sys_err;

/// Largest count one read or write transfers (`MAX_RW_COUNT` in
/// include/linux/fs.h: INT_MAX rounded down to a page).
const MAX_RW_COUNT: u64 = 0x7fff_f000;
/// Largest bounce buffer per call; bigger requests return a short count,
/// which read(2)/write(2) allow.
const MAX_CHUNK: u64 = 16 << 20;
/// IOV_MAX (include/uapi/linux/uio.h: UIO_MAXIOV).
const IOV_MAX: u64 = 1024;

fn clamp(count: u64) -> usize {
    count.min(MAX_RW_COUNT).min(MAX_CHUNK) as usize
}

/// Checks a destination buffer before consuming any input, so a bad
/// pointer loses no data (as Linux's read of a regular file).
fn check_dest(ctx: &SyscallContext<'_>, buf: u64, n: usize) -> SysResult<()> {
    if n > 0 && ctx.mm().accessible_len(buf, 1, true) == 0 {
        return Err(EFAULT);
    }
    Ok(())
}

/// Copies a source buffer out of the guest. A buffer that turns bad partway
/// yields its valid prefix (the kernel writes what it could copy), or
/// EFAULT if no byte is valid.
fn gather_src(ctx: &SyscallContext<'_>, buf: u64, n: usize) -> SysResult<Vec<u8>> {
    // The common case is one pass over the VMAs; the prefix walk only runs
    // for a buffer that is bad somewhere.
    match ctx.read_bytes(buf, n) {
        Err(e) if e.errno == guest_abi::Errno::EFAULT => {
            let ok = ctx.mm().accessible_len(buf, n as u64, false) as usize;
            if ok == 0 {
                return Err(EFAULT);
            }
            ctx.read_bytes(buf, ok)
        }
        r => r,
    }
}

pub fn read(ctx: &mut SyscallContext<'_>, a: &[u64; 6]) -> SysResult {
    let file = ctx.process().files.lock().get(fd_arg(a[0]))?;
    let n = clamp(a[2]);
    check_dest(ctx, a[1], n)?;
    let mut buf = vec![0u8; n];
    let got = file.read(&mut buf)?;
    ctx.mm().write(a[1], &buf[..got])?;
    Ok(got as u64)
}

pub fn write(ctx: &mut SyscallContext<'_>, a: &[u64; 6]) -> SysResult {
    let file = ctx.process().files.lock().get(fd_arg(a[0]))?;
    let data = gather_src(ctx, a[1], clamp(a[2]))?;
    Ok(file.write(&data)? as u64)
}

pub fn pread64(ctx: &mut SyscallContext<'_>, a: &[u64; 6]) -> SysResult {
    let file = ctx.process().files.lock().get(fd_arg(a[0]))?;
    if (a[3] as i64) < 0 {
        return sys_err!(EINVAL, "negative offset");
    }
    let n = clamp(a[2]);
    check_dest(ctx, a[1], n)?;
    let mut buf = vec![0u8; n];
    let got = file.pread(&mut buf, a[3])?;
    ctx.mm().write(a[1], &buf[..got])?;
    Ok(got as u64)
}

pub fn pwrite64(ctx: &mut SyscallContext<'_>, a: &[u64; 6]) -> SysResult {
    let file = ctx.process().files.lock().get(fd_arg(a[0]))?;
    if (a[3] as i64) < 0 {
        return sys_err!(EINVAL, "negative offset");
    }
    let data = gather_src(ctx, a[1], clamp(a[2]))?;
    Ok(file.pwrite(&data, a[3])? as u64)
}

/// Reads and checks an iovec array (readv(2): EINVAL for too many vectors
/// or a total that overflows `ssize_t`).
fn iovecs(ctx: &SyscallContext<'_>, addr: u64, count: u64) -> SysResult<Vec<Iovec>> {
    if count > IOV_MAX {
        return sys_err!(EINVAL, "too many iovecs");
    }
    let raw = ctx.read_bytes(addr, count as usize * std::mem::size_of::<Iovec>())?;
    let v: Vec<Iovec> = raw.chunks_exact(16).filter_map(Iovec::from_bytes).collect();
    let mut total: u64 = 0;
    for iov in &v {
        total = match total.checked_add(iov.iov_len) {
            Some(t) if t <= i64::MAX as u64 => t,
            _ => return sys_err!(EINVAL, "iovec total overflows"),
        };
    }
    Ok(v)
}

pub fn readv(ctx: &mut SyscallContext<'_>, a: &[u64; 6]) -> SysResult {
    let file = ctx.process().files.lock().get(fd_arg(a[0]))?;
    let iov = iovecs(ctx, a[1], a[2])?;
    let total: u64 = iov.iter().map(|v| v.iov_len).sum();
    let n = clamp(total);
    if let Some(first) = iov.iter().find(|v| v.iov_len > 0) {
        check_dest(ctx, first.iov_base, 1)?;
    }
    let mut buf = vec![0u8; n];
    let got = file.read(&mut buf)?;
    let mut off = 0;
    for v in &iov {
        if off >= got {
            break;
        }
        let take = (v.iov_len as usize).min(got - off);
        ctx.mm().write(v.iov_base, &buf[off..off + take])?;
        off += take;
    }
    Ok(got as u64)
}

pub fn writev(ctx: &mut SyscallContext<'_>, a: &[u64; 6]) -> SysResult {
    let file = ctx.process().files.lock().get(fd_arg(a[0]))?;
    let iov = iovecs(ctx, a[1], a[2])?;
    let mut data = Vec::new();
    for v in &iov {
        let part = gather_src(ctx, v.iov_base, v.iov_len as usize);
        match part {
            Ok(p) => {
                let short = p.len() < v.iov_len as usize;
                data.extend_from_slice(&p);
                if short {
                    break;
                }
            }
            Err(e) if data.is_empty() => return Err(e),
            Err(_) => break,
        }
        if data.len() as u64 >= MAX_CHUNK {
            break;
        }
    }
    // One host write: a pipe sees it as one (atomic up to PIPE_BUF) write.
    Ok(file.write(&data)? as u64)
}

pub fn lseek(ctx: &mut SyscallContext<'_>, a: &[u64; 6]) -> SysResult {
    let file = ctx.process().files.lock().get(fd_arg(a[0]))?;
    file.seek(a[1] as i64, a[2] as u32)
}

/// The offset of preadv/pwritev: `pos_l`/`pos_h` halves (fs/read_write.c).
fn vec_offset(lo: u64, hi: u64) -> SysResult<u64> {
    let off = (hi << 32) | (lo & 0xffff_ffff);
    let off = if hi == 0 { lo } else { off };
    if (off as i64) < 0 {
        return sys_err!(EINVAL, "negative offset");
    }
    Ok(off)
}

pub fn preadv(ctx: &mut SyscallContext<'_>, a: &[u64; 6]) -> SysResult {
    let file = ctx.process().files.lock().get(fd_arg(a[0]))?;
    let iov = iovecs(ctx, a[1], a[2])?;
    let off = vec_offset(a[3], a[4])?;
    let total: u64 = iov.iter().map(|v| v.iov_len).sum();
    let mut buf = vec![0u8; clamp(total)];
    let got = file.pread(&mut buf, off)?;
    let mut done = 0;
    for v in &iov {
        if done >= got {
            break;
        }
        let take = (v.iov_len as usize).min(got - done);
        ctx.mm().write(v.iov_base, &buf[done..done + take])?;
        done += take;
    }
    Ok(got as u64)
}

pub fn pwritev(ctx: &mut SyscallContext<'_>, a: &[u64; 6]) -> SysResult {
    let file = ctx.process().files.lock().get(fd_arg(a[0]))?;
    let iov = iovecs(ctx, a[1], a[2])?;
    let off = vec_offset(a[3], a[4])?;
    let mut data = Vec::new();
    for v in &iov {
        data.extend_from_slice(&ctx.read_bytes(v.iov_base, v.iov_len.min(MAX_CHUNK) as usize)?);
    }
    Ok(file.pwrite(&data, off)? as u64)
}

/// preadv2/pwritev2 with flags 0 (or RWF_HIPRI, a hint); offset -1 means
/// the file position, as readv/writev.
pub fn preadv2(ctx: &mut SyscallContext<'_>, a: &[u64; 6]) -> SysResult {
    if a[5] & !1 != 0 {
        return sys_err!(EOPNOTSUPP, "RWF flags not supported");
    }
    if a[3] as i64 == -1 {
        return readv(ctx, a);
    }
    preadv(ctx, a)
}

pub fn pwritev2(ctx: &mut SyscallContext<'_>, a: &[u64; 6]) -> SysResult {
    if a[5] & !1 != 0 {
        return sys_err!(EOPNOTSUPP, "RWF flags not supported");
    }
    if a[3] as i64 == -1 {
        return writev(ctx, a);
    }
    pwritev(ctx, a)
}
