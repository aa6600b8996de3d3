//! Process identity and lifetime: exit, ids, thread pointers, arch_prctl,
//! resource limits.

use guest_abi::prctl::{
    ARCH_GET_CPUID, ARCH_GET_FS, ARCH_GET_GS, ARCH_SET_CPUID, ARCH_SET_FS, ARCH_SET_GS,
};
use guest_abi::resource::{RLIMIT_NOFILE, RLIM_NLIMITS};
use guest_abi::structs::{Rlimit, RobustListHead};
use guest_abi::Pod;

use super::context::{Outcome, SyscallContext};
use crate::error::SysResult;
use crate::loader::stack::HostAux;
use crate::sys_err;
use crate::task::ExitStatus;

/// exit(2): ends the calling thread; the process ends with its last
/// thread.
pub fn exit(ctx: &mut SyscallContext<'_>, a: &[u64; 6]) -> SysResult {
    ctx.outcome = Outcome::ExitThread(ExitStatus::Exited((a[0] & 0xff) as i32));
    Ok(0)
}

/// exit_group(2): the status is `status & 0xff` (wait(2)).
pub fn exit_group(ctx: &mut SyscallContext<'_>, a: &[u64; 6]) -> SysResult {
    ctx.outcome = Outcome::ExitProcess(ExitStatus::Exited((a[0] & 0xff) as i32));
    Ok(0)
}

pub fn getpid(ctx: &mut SyscallContext<'_>, _a: &[u64; 6]) -> SysResult {
    Ok(ctx.process().pid as u64)
}

pub fn gettid(ctx: &mut SyscallContext<'_>, _a: &[u64; 6]) -> SysResult {
    Ok(ctx.thread.tid as u64)
}

pub fn getuid(_ctx: &mut SyscallContext<'_>, _a: &[u64; 6]) -> SysResult {
    Ok(HostAux::get().uid)
}

pub fn geteuid(_ctx: &mut SyscallContext<'_>, _a: &[u64; 6]) -> SysResult {
    Ok(HostAux::get().euid)
}

pub fn getgid(_ctx: &mut SyscallContext<'_>, _a: &[u64; 6]) -> SysResult {
    Ok(HostAux::get().gid)
}

pub fn getegid(_ctx: &mut SyscallContext<'_>, _a: &[u64; 6]) -> SysResult {
    Ok(HostAux::get().egid)
}

/// set_tid_address(2): remembers `tidptr`, returns the caller's tid.
pub fn set_tid_address(ctx: &mut SyscallContext<'_>, a: &[u64; 6]) -> SysResult {
    ctx.thread.state.lock().clear_child_tid = a[0];
    Ok(ctx.thread.tid as u64)
}

/// set_robust_list(2): `len` must be `sizeof(struct robust_list_head)`.
pub fn set_robust_list(ctx: &mut SyscallContext<'_>, a: &[u64; 6]) -> SysResult {
    if a[1] != std::mem::size_of::<RobustListHead>() as u64 {
        return sys_err!(EINVAL, "robust list head size");
    }
    let mut st = ctx.thread.state.lock();
    st.robust_list = a[0];
    st.robust_list_len = a[1];
    Ok(0)
}

/// get_robust_list(2) for the calling thread (pid 0 or its own tid).
pub fn get_robust_list(ctx: &mut SyscallContext<'_>, a: &[u64; 6]) -> SysResult {
    let pid = a[0] as i32;
    if pid != 0 && pid != ctx.thread.tid {
        return sys_err!(ESRCH, "other threads' robust lists are not visible yet");
    }
    let (head, len) = {
        let st = ctx.thread.state.lock();
        (st.robust_list, st.robust_list_len)
    };
    ctx.write_struct(a[1], &head)?;
    ctx.write_struct(a[2], &len)?;
    Ok(0)
}

/// arch_prctl(2). The FS/GS bases are guest registers; setting them is a
/// register write (`PTRACE_SETREGS` carries `fs_base`/`gs_base`).
/// arch/x86/kernel/process_64.c: a base at or above TASK_SIZE_MAX is EPERM.
pub fn arch_prctl(ctx: &mut SyscallContext<'_>, a: &[u64; 6]) -> SysResult {
    const TASK_SIZE_MAX: u64 = 0x7fff_ffff_f000;
    let (code, addr) = (a[0], a[1]);
    match code {
        ARCH_SET_FS | ARCH_SET_GS => {
            if addr >= TASK_SIZE_MAX {
                return sys_err!(EPERM, "base outside user space");
            }
            let r = ctx.guest.regs_mut();
            if code == ARCH_SET_FS {
                r.fs_base = addr;
            } else {
                r.gs_base = addr;
            }
            Ok(0)
        }
        ARCH_GET_FS | ARCH_GET_GS => {
            let r = ctx.guest.regs();
            let v = if code == ARCH_GET_FS {
                r.fs_base
            } else {
                r.gs_base
            };
            ctx.write_struct(addr, &v)?;
            Ok(0)
        }
        ARCH_GET_CPUID => Ok(1),
        ARCH_SET_CPUID => sys_err!(ENODEV, "CPUID faulting is not available"),
        _ => sys_err!(EINVAL, "unknown arch_prctl code"),
    }
}

/// The largest RLIMIT_NOFILE (`fs.nr_open`, default 1048576).
const NR_OPEN: u64 = 1 << 20;

fn do_prlimit(ctx: &SyscallContext<'_>, resource: u64, new: Option<Rlimit>) -> SysResult<Rlimit> {
    if resource >= RLIM_NLIMITS {
        return sys_err!(EINVAL, "unknown resource");
    }
    let mut limits = ctx.process().limits.lock();
    let old = limits[resource as usize];
    if let Some(n) = new {
        if n.rlim_cur > n.rlim_max {
            return sys_err!(EINVAL, "soft limit above hard limit");
        }
        // getrlimit(2): raising the hard limit needs CAP_SYS_RESOURCE.
        if n.rlim_max > old.rlim_max && HostAux::get().euid != 0 {
            return sys_err!(EPERM, "raising a hard limit");
        }
        if resource == RLIMIT_NOFILE && n.rlim_max > NR_OPEN {
            return sys_err!(EPERM, "RLIMIT_NOFILE above nr_open");
        }
        limits[resource as usize] = n;
    }
    Ok(old)
}

/// prlimit64(2), for the calling process.
pub fn prlimit64(ctx: &mut SyscallContext<'_>, a: &[u64; 6]) -> SysResult {
    let pid = a[0] as i32;
    if pid != 0 && pid != ctx.process().pid {
        return sys_err!(ESRCH, "other processes' limits are not reachable yet");
    }
    let new = if a[2] != 0 {
        Some(ctx.read_struct::<Rlimit>(a[2])?)
    } else {
        None
    };
    let old = do_prlimit(ctx, a[1], new)?;
    if a[3] != 0 {
        ctx.write_struct(a[3], &old)?;
    }
    Ok(0)
}

pub fn getrlimit(ctx: &mut SyscallContext<'_>, a: &[u64; 6]) -> SysResult {
    let old = do_prlimit(ctx, a[0], None)?;
    ctx.mm().write(a[1], old.as_bytes())?;
    Ok(0)
}

pub fn setrlimit(ctx: &mut SyscallContext<'_>, a: &[u64; 6]) -> SysResult {
    let new = ctx.read_struct::<Rlimit>(a[1])?;
    do_prlimit(ctx, a[0], Some(new))?;
    Ok(0)
}

pub fn getresuid(ctx: &mut SyscallContext<'_>, a: &[u64; 6]) -> SysResult {
    let h = HostAux::get();
    for (addr, v) in [(a[0], h.uid), (a[1], h.euid), (a[2], h.euid)] {
        ctx.write_struct(addr, &(v as u32))?;
    }
    Ok(0)
}

pub fn getresgid(ctx: &mut SyscallContext<'_>, a: &[u64; 6]) -> SysResult {
    let h = HostAux::get();
    for (addr, v) in [(a[0], h.gid), (a[1], h.egid), (a[2], h.egid)] {
        ctx.write_struct(addr, &(v as u32))?;
    }
    Ok(0)
}

/// prctl(2): the options static programs use. Options umk does not know
/// return EINVAL, as the kernel does for unknown options.
pub fn prctl(ctx: &mut SyscallContext<'_>, a: &[u64; 6]) -> SysResult {
    use guest_abi::prctl::*;
    match a[0] {
        PR_SET_NAME => {
            let mut name = ctx.mm().read_cstr(a[1], 4096).or_else(|e| {
                // A name may be unterminated within 16 bytes.
                if e.errno == guest_abi::Errno::ENAMETOOLONG {
                    Ok(Vec::new())
                } else {
                    Err(e)
                }
            })?;
            name.truncate(15);
            ctx.thread.state.lock().comm = name;
            Ok(0)
        }
        PR_GET_NAME => {
            let mut buf = [0u8; 16];
            let comm = ctx.thread.state.lock().comm.clone();
            buf[..comm.len()].copy_from_slice(&comm);
            ctx.mm().write(a[1], &buf)?;
            Ok(0)
        }
        PR_SET_PDEATHSIG => {
            if a[1] > 64 {
                return sys_err!(EINVAL, "bad signal");
            }
            *ctx.process().pdeathsig.lock() = a[1] as i32;
            Ok(0)
        }
        PR_GET_PDEATHSIG => {
            let s = *ctx.process().pdeathsig.lock();
            ctx.write_struct(a[1], &s)?;
            Ok(0)
        }
        PR_SET_CHILD_SUBREAPER => {
            super::pgrp::set_subreaper(ctx, a[1] != 0);
            Ok(0)
        }
        PR_GET_CHILD_SUBREAPER => {
            let v = i32::from(super::pgrp::is_subreaper(ctx));
            ctx.write_struct(a[1], &v)?;
            Ok(0)
        }
        PR_GET_DUMPABLE => Ok(1),
        PR_SET_DUMPABLE => {
            if a[1] > 1 {
                return sys_err!(EINVAL, "bad dumpable value");
            }
            Ok(0)
        }
        _ => sys_err!(EINVAL, "prctl option not supported"),
    }
}
