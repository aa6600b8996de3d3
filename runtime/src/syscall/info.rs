//! System information: uname, sysinfo, getrandom.

use guest_abi::random::{GRND_INSECURE, GRND_NONBLOCK, GRND_RANDOM};
use guest_abi::structs::{Sysinfo, Utsname};

use super::context::SyscallContext;
use crate::error::SysResult;
use crate::fs::host::host_errno;
use crate::sys_err;

/// uname(2): the host's identity (umk does not pretend to be another kernel).
pub fn uname(ctx: &mut SyscallContext<'_>, a: &[u64; 6]) -> SysResult {
    // SAFETY: zeroed utsname is a valid out buffer.
    let mut u: libc::utsname = unsafe { std::mem::zeroed() };
    // SAFETY: as above.
    if unsafe { libc::uname(&mut u) } < 0 {
        return Err(host_errno("uname"));
    }
    let f = |s: &[libc::c_char]| {
        let mut out = [0u8; 65];
        for (o, c) in out.iter_mut().zip(s.iter()) {
            *o = *c as u8;
        }
        out
    };
    let g = Utsname {
        sysname: f(&u.sysname),
        nodename: f(&u.nodename),
        release: f(&u.release),
        version: f(&u.version),
        machine: f(&u.machine),
        domainname: f(&u.domainname),
    };
    ctx.write_struct(a[0], &g)?;
    Ok(0)
}

pub fn sysinfo(ctx: &mut SyscallContext<'_>, a: &[u64; 6]) -> SysResult {
    // SAFETY: zeroed sysinfo is a valid out buffer.
    let mut s: libc::sysinfo = unsafe { std::mem::zeroed() };
    // SAFETY: as above.
    if unsafe { libc::sysinfo(&mut s) } < 0 {
        return Err(host_errno("sysinfo"));
    }
    let g = Sysinfo {
        uptime: s.uptime,
        loads: s.loads,
        totalram: s.totalram,
        freeram: s.freeram,
        sharedram: s.sharedram,
        bufferram: s.bufferram,
        totalswap: s.totalswap,
        freeswap: s.freeswap,
        procs: 1,
        totalhigh: s.totalhigh,
        freehigh: s.freehigh,
        mem_unit: s.mem_unit,
        ..Default::default()
    };
    ctx.write_struct(a[0], &g)?;
    Ok(0)
}

/// getrandom(2). drivers/char/random.c: at most `INT_MAX >> 6`... in
/// practice 32 MiB - 1 bytes per call; RANDOM with INSECURE is EINVAL.
pub fn getrandom(ctx: &mut SyscallContext<'_>, a: &[u64; 6]) -> SysResult {
    let (buf, len, flags) = (a[0], a[1], a[2]);
    if flags & !(GRND_NONBLOCK | GRND_RANDOM | GRND_INSECURE) != 0
        || flags & (GRND_RANDOM | GRND_INSECURE) == (GRND_RANDOM | GRND_INSECURE)
    {
        return sys_err!(EINVAL, "bad flags");
    }
    let n = len.min((1 << 25) - 1) as usize;
    if n > 0 && ctx.mm().accessible_len(buf, n as u64, true) < n as u64 {
        return Err(crate::error::EFAULT);
    }
    let mut v = vec![0u8; n];
    let mut done = 0;
    while done < n {
        // SAFETY: writing into the unfilled tail of `v`.
        let r = unsafe { libc::getrandom(v[done..].as_mut_ptr().cast(), n - done, flags as u32) };
        if r < 0 {
            let e = host_errno("getrandom");
            if e.errno == guest_abi::Errno::EINTR {
                continue;
            }
            if done > 0 {
                break;
            }
            return Err(e);
        }
        done += r as usize;
    }
    ctx.mm().write(buf, &v[..done])?;
    Ok(done as u64)
}
