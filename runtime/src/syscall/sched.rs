//! Scheduling syscalls: sched_yield, sched_{set,get}scheduler,
//! sched_{set,get}param, sched_{set,get}attr, sched_get_priority_{max,min},
//! sched_rr_get_interval, sched_{set,get}affinity, getpriority/setpriority
//! (glibc's `nice()` is built on these: x86-64 has no nice syscall), getcpu.
//!
//! # Model
//!
//! Everything lives in umk's scheduler ([`crate::sched::Dispatcher`],
//! `ctx.kernel.sched`); the host's scheduling of umk's own threads is never
//! touched. CPUs are umk's vCPUs (`--cpus`).
//!
//! Argument checks follow kernel/sched/syscalls.c (Linux 6.x) in its order:
//! `EINVAL` for a null pointer or negative pid, then `EFAULT` when copying
//! in, then `ESRCH` for the target, then `EINVAL` for policy and priority,
//! then `EPERM`.
//!
//! # Targets
//!
//! [`lookup_task`] turns a pid argument into a task. Until the task table
//! arrives it knows only the caller (0 or its own tid); any other pid is
//! `ESRCH`. `PRIO_PGRP`/`PRIO_USER` targets go through [`lookup_group`].
//!
//! # Permissions (EPERM / EACCES)
//!
//! umk has no capabilities of its own: a guest whose effective uid is 0
//! is treated as having `CAP_SYS_NICE` (every change is allowed). Other
//! guests get the unprivileged rules of `user_check_sched_setscheduler()`
//! and `can_nice()`, with the process's `RLIMIT_NICE` and `RLIMIT_RTPRIO`:
//!
//! * lowering nice to `n` needs `20 - n <= RLIMIT_NICE` (`sched_setscheduler`
//!   and `sched_setattr`: `EPERM`; `setpriority`: `EACCES`);
//! * switching to `SCHED_FIFO`/`SCHED_RR` from another policy needs a
//!   non-zero `RLIMIT_RTPRIO`, and raising the RT priority above both the
//!   current one and `RLIMIT_RTPRIO` is `EPERM`;
//! * leaving `SCHED_IDLE` needs `can_nice()` for the current nice;
//! * clearing `SCHED_RESET_ON_FORK` is `EPERM`.
//!
//! Every target is the caller's own thread today, so the "same user" checks
//! always pass. A root guest on a host where umk lacks `CAP_SYS_NICE` thus
//! succeeds under umk where it would fail natively.
//!
//! # Deviations
//!
//! * `SCHED_DEADLINE` (and `SCHED_EXT`) is `EINVAL`: umk has no EDF class.
//! * Utilization clamping (`SCHED_FLAG_UTIL_CLAMP_*`) is `EOPNOTSUPP`, as
//!   on a kernel without `CONFIG_UCLAMP_TASK`; `sched_getattr` reports
//!   util_min 0 and util_max 1024 (the defaults).
//! * `sched_rr_get_interval` reports the CFS slice in nanoseconds, not
//!   rounded down to jiffies.

use guest_abi::resource::{PRIO_PGRP, PRIO_PROCESS, PRIO_USER, RLIMIT_NICE, RLIMIT_RTPRIO};
use guest_abi::sched::*;
use guest_abi::structs::{SchedAttr, SchedParam, Timespec};
use guest_abi::{Errno, Pod};

use super::context::SyscallContext;
use crate::error::{SysError, SysResult};
use crate::loader::stack::HostAux;
use crate::sched::dispatch::{TaskAttr, TaskId};
use crate::sched::{CpuSet, Policy, SchedError, SchedParams, MAX_CPUS, MAX_RT_PRIO};
use crate::sys_err;

/// The page size the kernel bounds `sched_attr` sizes with.
const PAGE_SIZE: u64 = 4096;

/// The task a pid argument names (0: the caller): any live thread, as
/// `find_process_by_pid()` finds any task by tid.
pub fn lookup_task(ctx: &SyscallContext<'_>, pid: i32) -> SysResult<TaskId> {
    let me = ctx.thread.tid;
    // A negative pid: the calls that check it first fail with EINVAL;
    // the affinity calls go straight to the lookup (ESRCH).
    if pid < 0 {
        return sys_err!(ESRCH, "no such task");
    }
    if pid == 0 || pid == me {
        return Ok(me);
    }
    match ctx.kernel.tasks.thread(pid) {
        Some(t) => Ok(t.tid),
        None => sys_err!(ESRCH, "no such task"),
    }
}

/// The tasks `getpriority`/`setpriority` act on for `which`/`who`
/// (`who` 0: the caller, its process group or its user): every thread of
/// the processes named (kernel/sys.c). An empty result is `ESRCH`.
pub fn lookup_group(ctx: &SyscallContext<'_>, which: u64, who: i32) -> SysResult<Vec<TaskId>> {
    let me = ctx.process().pid;
    let t = ctx.kernel.tasks.lock();
    let procs: Vec<i32> = match which {
        PRIO_PROCESS => {
            drop(t);
            return lookup_task(ctx, who).map(|t| vec![t]);
        }
        PRIO_PGRP => {
            let g = if who == 0 {
                t.node(me).map_or(0, |n| n.pgid)
            } else {
                who
            };
            t.group(g)
        }
        // Every guest runs as umk's own user.
        PRIO_USER if who == 0 || who as u32 as u64 == HostAux::get().uid => t
            .procs
            .iter()
            .filter(|(_, n)| n.zombie.is_none())
            .map(|(&p, _)| p)
            .collect(),
        PRIO_USER => Vec::new(),
        _ => return sys_err!(EINVAL, "bad which"),
    };
    let mut out = Vec::new();
    for p in procs {
        if let Some(n) = t.live(p) {
            out.extend(n.process.threads.lock().iter().map(|th| th.tid));
        }
    }
    if out.is_empty() {
        return sys_err!(ESRCH, "no such task");
    }
    Ok(out)
}

fn sched_errno(e: SchedError) -> SysError {
    match e {
        SchedError::NoSuchTask(_) => SysError::new(Errno::ESRCH, "no such task"),
        SchedError::EmptyAffinity => SysError::new(Errno::EINVAL, "no usable vCPU in the mask"),
        _ => SysError::new(Errno::EINVAL, "invalid scheduling parameters"),
    }
}

fn attr_of(ctx: &SyscallContext<'_>, id: TaskId) -> SysResult<TaskAttr> {
    ctx.kernel
        .sched
        .attr(id)
        .ok_or(SysError::new(Errno::ESRCH, "no such task"))
}

fn privileged() -> bool {
    HostAux::get().euid == 0
}

/// `can_nice()`: may the task's nice become `nice`?
fn can_nice(ctx: &SyscallContext<'_>, nice: i8) -> bool {
    privileged() || (20 - i64::from(nice)) as u64 <= ctx.process().limit(RLIMIT_NICE).rlim_cur
}

/// A pid argument: the kernel's `pid_t`.
fn pid_arg(a: u64) -> i32 {
    a as u32 as i32
}

/// What a set call asks for; `None` keeps the current value.
struct Change {
    /// Raw policy (already without `SCHED_RESET_ON_FORK`).
    policy: Option<u32>,
    priority: u32,
    /// Only used by fair policies (`__setscheduler_params()`).
    nice: Option<i8>,
    reset_on_fork: Option<bool>,
}

/// `__sched_setscheduler()` minus what umk lacks: validate, check
/// permissions, apply.
fn apply(ctx: &SyscallContext<'_>, id: TaskId, ch: Change) -> SysResult {
    let cur = attr_of(ctx, id)?;
    let policy = match ch.policy {
        None => cur.params.policy,
        Some(p) if p == SCHED_DEADLINE => {
            return sys_err!(EINVAL, "SCHED_DEADLINE is not supported")
        }
        Some(p) => Policy::from_raw(p as i32).map_err(sched_errno)?,
    };
    if ch.priority > u32::from(MAX_RT_PRIO) || policy.is_rt() != (ch.priority != 0) {
        return sys_err!(EINVAL, "invalid priority for the policy");
    }
    let fair = matches!(policy, Policy::Normal | Policy::Batch);
    let nice = match ch.nice {
        Some(n) if fair => n,
        _ => cur.params.nice,
    };
    let params = SchedParams {
        policy,
        nice,
        rt_priority: ch.priority as u8,
    };
    let reset_on_fork = ch.reset_on_fork.unwrap_or(cur.reset_on_fork);
    // user_check_sched_setscheduler() in kernel/sched/syscalls.c.
    if !privileged() {
        let old = cur.params;
        if fair && nice < old.nice && !can_nice(ctx, nice) {
            return sys_err!(EPERM, "lowering nice needs RLIMIT_NICE");
        }
        if policy.is_rt() {
            let rlim = ctx.process().limit(RLIMIT_RTPRIO).rlim_cur;
            if policy != old.policy && rlim == 0 {
                return sys_err!(EPERM, "real-time policy needs RLIMIT_RTPRIO");
            }
            let prio = u64::from(params.rt_priority);
            if prio > u64::from(old.rt_priority) && prio > rlim {
                return sys_err!(EPERM, "priority above RLIMIT_RTPRIO");
            }
        }
        if old.policy == Policy::Idle && policy != Policy::Idle && !can_nice(ctx, old.nice) {
            return sys_err!(EPERM, "leaving SCHED_IDLE needs RLIMIT_NICE");
        }
        if cur.reset_on_fork && !reset_on_fork {
            return sys_err!(EPERM, "clearing SCHED_RESET_ON_FORK");
        }
    }
    ctx.kernel
        .sched
        .set_attr(
            id,
            TaskAttr {
                params,
                reset_on_fork,
            },
        )
        .map_err(sched_errno)?;
    Ok(0)
}

/// sched_yield(2): gives up the vCPU to the next task of its runqueue (RT:
/// to the tail of its priority; CFS: skip buddy). Always 0.
pub fn sched_yield(ctx: &mut SyscallContext<'_>, _a: &[u64; 6]) -> SysResult {
    ctx.kernel.sched.yield_now(ctx.thread.tid);
    Ok(0)
}

/// sched_get_priority_max(2): 99 for FIFO/RR, 0 for the other known
/// policies (SCHED_DEADLINE included, as Linux), EINVAL otherwise.
pub fn sched_get_priority_max(_ctx: &mut SyscallContext<'_>, a: &[u64; 6]) -> SysResult {
    match a[0] as u32 {
        SCHED_FIFO | SCHED_RR => Ok(u64::from(MAX_RT_PRIO)),
        SCHED_NORMAL | SCHED_BATCH | SCHED_IDLE | SCHED_DEADLINE | SCHED_EXT => Ok(0),
        _ => sys_err!(EINVAL, "unknown policy"),
    }
}

/// sched_get_priority_min(2): 1 for FIFO/RR, 0 for the others.
pub fn sched_get_priority_min(_ctx: &mut SyscallContext<'_>, a: &[u64; 6]) -> SysResult {
    match a[0] as u32 {
        SCHED_FIFO | SCHED_RR => Ok(u64::from(crate::sched::MIN_RT_PRIO)),
        SCHED_NORMAL | SCHED_BATCH | SCHED_IDLE | SCHED_DEADLINE | SCHED_EXT => Ok(0),
        _ => sys_err!(EINVAL, "unknown policy"),
    }
}

/// sched_getscheduler(2): the policy, with `SCHED_RESET_ON_FORK` or'ed in.
pub fn sched_getscheduler(ctx: &mut SyscallContext<'_>, a: &[u64; 6]) -> SysResult {
    let pid = pid_arg(a[0]);
    if pid < 0 {
        return sys_err!(EINVAL, "negative pid");
    }
    let attr = attr_of(ctx, lookup_task(ctx, pid)?)?;
    let reset = if attr.reset_on_fork {
        SCHED_RESET_ON_FORK
    } else {
        0
    };
    Ok(u64::from(attr.params.policy.as_raw() as u32 | reset))
}

/// sched_getparam(2): the RT priority (0 for other policies).
pub fn sched_getparam(ctx: &mut SyscallContext<'_>, a: &[u64; 6]) -> SysResult {
    let (pid, param) = (pid_arg(a[0]), a[1]);
    if param == 0 || pid < 0 {
        return sys_err!(EINVAL, "null param or negative pid");
    }
    if pid < 0 {
        return sys_err!(EINVAL, "negative pid");
    }
    let attr = attr_of(ctx, lookup_task(ctx, pid)?)?;
    ctx.write_struct(
        param,
        &SchedParam {
            sched_priority: i32::from(attr.params.rt_priority),
        },
    )?;
    Ok(0)
}

/// sched_setscheduler(2). Nice is kept; `SCHED_RESET_ON_FORK` may be or'ed
/// into the policy.
pub fn sched_setscheduler(ctx: &mut SyscallContext<'_>, a: &[u64; 6]) -> SysResult {
    let (pid, policy, param) = (pid_arg(a[0]), a[1] as u32 as i32, a[2]);
    if param == 0 || pid < 0 || policy < 0 {
        return sys_err!(EINVAL, "null param, negative pid or policy");
    }
    let p: SchedParam = ctx.read_struct(param)?;
    if pid < 0 {
        return sys_err!(EINVAL, "negative pid");
    }
    let id = lookup_task(ctx, pid)?;
    let reset = policy as u32 & SCHED_RESET_ON_FORK != 0;
    apply(
        ctx,
        id,
        Change {
            policy: Some(policy as u32 & !SCHED_RESET_ON_FORK),
            priority: p.sched_priority as u32,
            nice: None,
            reset_on_fork: Some(reset),
        },
    )
}

/// sched_setparam(2): the priority under the current policy.
pub fn sched_setparam(ctx: &mut SyscallContext<'_>, a: &[u64; 6]) -> SysResult {
    let (pid, param) = (pid_arg(a[0]), a[1]);
    if param == 0 || pid < 0 {
        return sys_err!(EINVAL, "null param or negative pid");
    }
    let p: SchedParam = ctx.read_struct(param)?;
    if pid < 0 {
        return sys_err!(EINVAL, "negative pid");
    }
    let id = lookup_task(ctx, pid)?;
    apply(
        ctx,
        id,
        Change {
            policy: None,
            priority: p.sched_priority as u32,
            nice: None,
            reset_on_fork: None,
        },
    )
}

/// `sched_copy_attr()` failing on the size: the kernel writes its own size
/// into `uattr->size` (best effort) and returns E2BIG.
fn attr_size_error(ctx: &SyscallContext<'_>, uattr: u64) -> SysError {
    let _ = ctx.write_struct(uattr, &(SCHED_ATTR_SIZE_VER1 as u32));
    SysError::new(Errno::E2BIG, "sched_attr size")
}

/// sched_setattr(2): `sched_copy_attr()` (size 0 means VER0; a larger
/// struct than umk's must have zeroes beyond it, else E2BIG with our size
/// written back), then the policy, nice (clamped) and priority.
pub fn sched_setattr(ctx: &mut SyscallContext<'_>, a: &[u64; 6]) -> SysResult {
    let (pid, uattr, flags) = (pid_arg(a[0]), a[1], a[2] as u32);
    if uattr == 0 || pid < 0 || flags != 0 {
        return sys_err!(EINVAL, "null attr, negative pid or flags");
    }
    let size: u32 = ctx.read_struct(uattr)?;
    let size = if size == 0 {
        SCHED_ATTR_SIZE_VER0 as u64
    } else {
        u64::from(size)
    };
    if size < SCHED_ATTR_SIZE_VER0 as u64 || size > PAGE_SIZE {
        return Err(attr_size_error(ctx, uattr));
    }
    let ours = std::mem::size_of::<SchedAttr>() as u64;
    let mut at = SchedAttr::default();
    let n = size.min(ours) as usize;
    ctx.mm().read(uattr, &mut at.as_bytes_mut()[..n])?;
    if size > ours {
        // copy_struct_from_user(): the tail must be zero.
        let tail = ctx.read_bytes(uattr + ours, (size - ours) as usize)?;
        if tail.iter().any(|b| *b != 0) {
            return Err(attr_size_error(ctx, uattr));
        }
    }
    if at.sched_flags & SCHED_FLAG_UTIL_CLAMP != 0 && size < SCHED_ATTR_SIZE_VER1 as u64 {
        return sys_err!(EINVAL, "util clamp needs sched_attr VER1");
    }
    let nice = at.sched_nice.clamp(-20, 19) as i8;
    if (at.sched_policy as i32) < 0 {
        return sys_err!(EINVAL, "negative policy");
    }
    let id = lookup_task(ctx, pid)?;
    // SCHED_FLAG_SUGOV (0x10000000) is kernel-internal but accepted here.
    if at.sched_flags & !(SCHED_FLAG_ALL | 0x1000_0000) != 0 {
        return sys_err!(EINVAL, "unknown sched_flags");
    }
    if at.sched_flags & SCHED_FLAG_UTIL_CLAMP != 0 {
        return sys_err!(EOPNOTSUPP, "no utilization clamping");
    }
    let policy = (at.sched_flags & SCHED_FLAG_KEEP_POLICY == 0).then_some(at.sched_policy);
    let (priority, nice) = if at.sched_flags & SCHED_FLAG_KEEP_PARAMS != 0 {
        let cur = attr_of(ctx, id)?;
        (u32::from(cur.params.rt_priority), cur.params.nice)
    } else {
        (at.sched_priority, nice)
    };
    apply(
        ctx,
        id,
        Change {
            policy,
            priority,
            nice: Some(nice),
            // Keeping the policy keeps reset-on-fork (`__sched_setscheduler()`).
            reset_on_fork: policy.map(|_| at.sched_flags & SCHED_FLAG_RESET_ON_FORK != 0),
        },
    )
}

/// sched_getattr(2): `size` between VER0 and a page; the kernel copies
/// `min(size, sizeof(struct sched_attr))` bytes and stores that in `size`.
/// RT tasks report nice 0, the others priority 0 (`get_params()`).
pub fn sched_getattr(ctx: &mut SyscallContext<'_>, a: &[u64; 6]) -> SysResult {
    let (pid, uattr, usize_, flags) = (pid_arg(a[0]), a[1], a[2] as u32 as u64, a[3] as u32);
    if uattr == 0
        || pid < 0
        || usize_ > PAGE_SIZE
        || usize_ < SCHED_ATTR_SIZE_VER0 as u64
        || flags != 0
    {
        return sys_err!(EINVAL, "bad pointer, pid, size or flags");
    }
    let attr = attr_of(ctx, lookup_task(ctx, pid)?)?;
    let ours = std::mem::size_of::<SchedAttr>() as u64;
    let n = usize_.min(ours);
    let rt = attr.params.policy.is_rt();
    let k = SchedAttr {
        size: n as u32,
        sched_policy: attr.params.policy.as_raw() as u32,
        sched_flags: if attr.reset_on_fork {
            SCHED_FLAG_RESET_ON_FORK
        } else {
            0
        },
        sched_nice: if rt { 0 } else { i32::from(attr.params.nice) },
        sched_priority: u32::from(attr.params.rt_priority),
        sched_util_min: 0,
        sched_util_max: 1024,
        ..Default::default()
    };
    ctx.mm().write(uattr, &k.as_bytes()[..n as usize])?;
    Ok(0)
}

/// sched_rr_get_interval(2): 100 ms for SCHED_RR, 0 for SCHED_FIFO, the
/// current CFS slice otherwise (0 on an empty runqueue).
pub fn sched_rr_get_interval(ctx: &mut SyscallContext<'_>, a: &[u64; 6]) -> SysResult {
    let pid = pid_arg(a[0]);
    if pid < 0 {
        return sys_err!(EINVAL, "negative pid");
    }
    let id = lookup_task(ctx, pid)?;
    let ns = ctx.kernel.sched.rr_interval(id).map_err(sched_errno)?;
    ctx.write_struct(
        a[1],
        &Timespec {
            tv_sec: (ns / 1_000_000_000) as i64,
            tv_nsec: (ns % 1_000_000_000) as i64,
        },
    )?;
    Ok(0)
}

/// `cpumask_size()` for umk's vCPUs: one long per 64.
fn cpumask_size(ctx: &SyscallContext<'_>) -> u64 {
    (ctx.kernel.sched.nr_cpus().div_ceil(64).max(1) * 8) as u64
}

/// sched_setaffinity(2): `get_user_cpu_mask()` reads `min(len,
/// cpumask_size())` bytes (a shorter mask is zero-extended), then the mask
/// is cut to the vCPUs; nothing left is EINVAL.
pub fn sched_setaffinity(ctx: &mut SyscallContext<'_>, a: &[u64; 6]) -> SysResult {
    let (pid, len, mask) = (pid_arg(a[0]), a[1] as u32 as u64, a[2]);
    let n = len.min(cpumask_size(ctx)) as usize;
    let bytes = ctx.read_bytes(mask, n)?;
    let id = lookup_task(ctx, pid)?;
    let mut words = vec![0u64; MAX_CPUS / 64];
    for (i, b) in bytes.iter().enumerate() {
        words[i / 8] |= u64::from(*b) << (8 * (i % 8));
    }
    let set = CpuSet::from_words(&words);
    ctx.kernel
        .sched
        .set_affinity(id, set)
        .map_err(sched_errno)?;
    Ok(0)
}

/// sched_getaffinity(2): `len` must hold `nr_cpu_ids` bits and be a
/// multiple of a long; returns the `min(len, cpumask_size())` bytes copied.
pub fn sched_getaffinity(ctx: &mut SyscallContext<'_>, a: &[u64; 6]) -> SysResult {
    let (pid, len, mask) = (pid_arg(a[0]), a[1] as u32 as u64, a[2]);
    let cpus = ctx.kernel.sched.nr_cpus() as u64;
    if len * 8 < cpus || len % 8 != 0 {
        return sys_err!(EINVAL, "mask buffer too small or not a multiple of 8");
    }
    let id = lookup_task(ctx, pid)?;
    let set = ctx
        .kernel
        .sched
        .affinity(id)
        .ok_or(SysError::new(Errno::ESRCH, "no such task"))?;
    let n = len.min(cpumask_size(ctx)) as usize;
    let bytes: Vec<u8> = set
        .as_words()
        .iter()
        .flat_map(|w| w.to_le_bytes())
        .take(n)
        .collect();
    ctx.mm().write(mask, &bytes)?;
    Ok(n as u64)
}

/// getcpu(2): the vCPU the caller runs on, NUMA node 0; either pointer may
/// be null, the third argument is unused.
pub fn getcpu(ctx: &mut SyscallContext<'_>, a: &[u64; 6]) -> SysResult {
    let cpu = ctx.kernel.sched.cpu_of(ctx.thread.tid).unwrap_or(0) as u32;
    if a[0] != 0 {
        ctx.write_struct(a[0], &cpu)?;
    }
    if a[1] != 0 {
        ctx.write_struct(a[1], &0u32)?;
    }
    Ok(0)
}

/// getpriority(2): the raw syscall returns `20 - nice` (1..=40; glibc turns
/// it back into a nice value), the highest over the matching tasks.
pub fn getpriority(ctx: &mut SyscallContext<'_>, a: &[u64; 6]) -> SysResult {
    let (which, who) = (a[0] as u32 as u64, pid_arg(a[1]));
    let mut best = None;
    for id in lookup_group(ctx, which, who)? {
        if let Some(attr) = ctx.kernel.sched.attr(id) {
            let v = 20 - i64::from(attr.params.nice);
            best = Some(best.map_or(v, |b: i64| b.max(v)));
        }
    }
    best.map(|v| v as u64)
        .ok_or(SysError::new(Errno::ESRCH, "no such task"))
}

/// setpriority(2): nice clamped to −20..=19 for every matching task;
/// lowering it without the right is EACCES (`set_one_prio()`).
pub fn setpriority(ctx: &mut SyscallContext<'_>, a: &[u64; 6]) -> SysResult {
    let (which, who) = (a[0] as u32 as u64, pid_arg(a[1]));
    let nice = (a[2] as u32 as i32).clamp(-20, 19) as i8;
    let ids = lookup_group(ctx, which, who)?;
    let mut err = None;
    let mut found = false;
    for id in ids {
        let Some(mut attr) = ctx.kernel.sched.attr(id) else {
            continue;
        };
        found = true;
        if nice < attr.params.nice && !can_nice(ctx, nice) {
            err = Some(SysError::new(
                Errno::EACCES,
                "lowering nice needs RLIMIT_NICE",
            ));
            continue;
        }
        attr.params.nice = nice;
        if let Err(e) = ctx.kernel.sched.set_attr(id, attr) {
            err = Some(sched_errno(e));
        }
    }
    match (found, err) {
        (false, _) => sys_err!(ESRCH, "no such task"),
        (true, Some(e)) => Err(e),
        (true, None) => Ok(0),
    }
}
