//! clone(2), clone3(2), fork(2), vfork(2): new threads and processes.
//!
//! - **Without `CLONE_VM`** (fork): the child gets a copy of the address
//!   space that shares the touched frames copy-on-write (`AddressSpace::fork`;
//!   the pages around the stack and thread pointers are copied at once), a
//!   copy of the descriptor table and dispositions, the caller's FPU state,
//!   and a stub of its own, set up by its new kernel thread
//!   (`kernel::Start::Fork`).
//! - **With `CLONE_VM`** (threads, and the vfork of posix_spawn): the child
//!   runs in the same stub, on a new host thread the caller's stub clones
//!   (`GuestThread::spawn_thread`) and the child's kernel thread attaches.
//!   With `CLONE_THREAD` it joins the caller's process; without, it is a new
//!   process sharing the address space until it execs.
//! - **`CLONE_VFORK`**: the caller waits until the child execs or exits.
//!
//! The child's registers are the caller's at the syscall, with `rax` = 0, the
//! new stack pointer and (`CLONE_SETTLS`) the new FS base. Flag checks follow
//! clone(2) "ERRORS" and kernel/fork.c `copy_process`.

use std::sync::Arc;

use guest_abi::clone::*;
use guest_abi::structs::CloneArgs;

use super::context::SyscallContext;
use crate::error::SysResult;
use crate::kernel::Start;
use crate::sys_err;
use crate::task::table::Tasks;
use crate::task::{Mm, Thread, ThreadState, Wake};

/// What clone, clone3, fork and vfork have in common.
#[derive(Clone, Copy, Debug, Default)]
struct Args {
    flags: u64,
    stack: u64,
    parent_tid: u64,
    child_tid: u64,
    tls: u64,
}

/// Flags umk does not implement: namespaces, pidfds, cgroups, ptrace.
const UNSUPPORTED: u64 = CLONE_NEWNS
    | CLONE_NEWCGROUP
    | CLONE_NEWUTS
    | CLONE_NEWIPC
    | CLONE_NEWUSER
    | CLONE_NEWPID
    | CLONE_NEWNET
    | CLONE_NEWTIME
    | CLONE_PIDFD
    | CLONE_PTRACE
    | CLONE_INTO_CGROUP;

fn do_clone(ctx: &mut SyscallContext<'_>, a: Args) -> SysResult {
    let f = a.flags;
    if f & CLONE_THREAD != 0 && f & CLONE_SIGHAND == 0 {
        return sys_err!(EINVAL, "CLONE_THREAD without CLONE_SIGHAND");
    }
    if f & CLONE_SIGHAND != 0 && f & CLONE_VM == 0 {
        return sys_err!(EINVAL, "CLONE_SIGHAND without CLONE_VM");
    }
    if f & UNSUPPORTED != 0 {
        return sys_err!(
            EINVAL,
            "namespaces, pidfds and CLONE_PTRACE are not supported"
        );
    }
    let k = ctx.kernel;
    let parent = ctx.process().clone();
    let mut regs = *ctx.guest.regs();
    regs.rax = 0;
    regs.orig_rax = u64::MAX;
    if a.stack != 0 {
        regs.rsp = a.stack;
    }
    if f & CLONE_SETTLS != 0 {
        regs.fs_base = a.tls;
    }
    let state = {
        let st = ctx.thread.state.lock();
        ThreadState {
            sigmask: st.sigmask,
            comm: st.comm.clone(),
            clear_child_tid: if f & CLONE_CHILD_CLEARTID != 0 {
                a.child_tid
            } else {
                0
            },
            ..Default::default()
        }
    };
    let mm: Arc<Mm> = if f & CLONE_VM != 0 {
        ctx.mm.clone()
    } else {
        // The stack and the thread pointer are what both sides write first.
        let hot = [regs.rsp, regs.fs_base];
        Arc::new(Mm::new(Arc::new(ctx.mm.space.fork(&hot)?)))
    };
    // The host thread comes first: it is the step that can fail late.
    let host_tid = if f & CLONE_VM != 0 {
        Some(ctx.guest.spawn_thread().map_err(|e| {
            crate::log::warn(&format!("clone: {e}"));
            crate::error::SysError::new(guest_abi::Errno::EAGAIN, "cannot start a host thread")
        })?)
    } else {
        None
    };
    // copy_process: a process that has begun to exit makes nothing new
    // (-ERESTARTNOINTR; it never sees the result).
    let dying = |ctx: &mut SyscallContext<'_>| {
        if let Some(h) = host_tid {
            kill_spare(ctx, h);
        }
        crate::signal::interrupted(crate::signal::ERESTARTNOINTR)
    };
    if parent.exiting().is_some() {
        return dying(ctx).map(|()| 0);
    }
    let child = {
        let mut t = k.tasks.lock();
        let tid = match t.alloc_pid() {
            Ok(p) => p,
            Err(_) => {
                drop(t);
                if let Some(h) = host_tid {
                    kill_spare(ctx, h);
                }
                return sys_err!(EAGAIN, "too many tasks");
            }
        };
        let process = if f & CLONE_THREAD != 0 {
            parent.clone()
        } else {
            let p = Arc::new(parent.fork(tid));
            let ppid = if f & CLONE_PARENT != 0 {
                t.node(parent.pid).map_or(parent.pid, |n| n.ppid)
            } else {
                parent.pid
            };
            Tasks::add_process(&mut t, p.clone(), ppid);
            p
        };
        let child = Arc::new(Thread::new(tid, process, mm.clone(), state));
        if !k.tasks.add_thread(&mut t, child.clone()) {
            drop(t);
            return dying(ctx).map(|()| 0);
        }
        child
    };
    let tid = child.tid;
    if f & CLONE_PARENT_SETTID != 0 {
        ctx.write_struct(a.parent_tid, &tid)?;
    }
    let start = match host_tid {
        Some(h) => {
            if f & CLONE_CHILD_SETTID != 0 {
                ctx.write_struct(a.child_tid, &tid)?;
            }
            let Some(stub) = ctx.guest.stub().cloned() else {
                return sys_err!(EAGAIN, "no stub");
            };
            Start::Attach {
                host_tid: h,
                stub,
                regs,
            }
        }
        None => Start::Fork {
            regs,
            // The child continues with the caller's FPU and vector state.
            xstate: ctx.guest.xstate().ok(),
            set_child_tid: (f & CLONE_CHILD_SETTID != 0).then_some(a.child_tid),
        },
    };
    if let Err(e) = k.sched.add(tid, Some(ctx.thread.tid)) {
        crate::log::warn(&format!("sched: task {tid}: {e}"));
    }
    if let Err(e) = k.spawn_task(child.clone(), start) {
        crate::log::warn(&format!("clone: {e}"));
        child.process.begin_exit(crate::task::ExitStatus::Signaled {
            signo: libc::SIGKILL,
            core: false,
        });
        crate::kernel::exit::thread_exited(k, &child, None, crate::task::ExitStatus::Exited(0));
        return sys_err!(EAGAIN, "cannot start a kernel thread");
    }
    if f & CLONE_VFORK != 0 {
        // vfork(2): the parent is suspended until the child execs or exits
        // (only a fatal signal ends the wait early).
        let p = &child.process;
        let mut done = p.vfork_done.lock();
        while !*done {
            if ctx.thread.wait_on(&p.vfork_cv, &mut done, None) == Wake::Interrupted {
                if ctx.thread.is_killed() {
                    break;
                }
                // Other signals wait until the child lets go
                // (`wait_for_vfork_done` sleeps TASK_KILLABLE).
                ctx.thread.clear_attention();
            }
        }
    }
    Ok(tid as u64)
}

/// A host thread cloned for a child that could not be created: let it go.
fn kill_spare(ctx: &SyscallContext<'_>, host_tid: i32) {
    if let Ok(mut g) = ctx.kernel.platform.attach_thread(
        host_tid,
        match ctx.guest.stub() {
            Some(s) => s.clone(),
            None => return,
        },
    ) {
        g.exit_thread();
    }
}

/// clone(2), x86-64 argument order: flags, stack, parent_tid, child_tid,
/// tls. The low byte of flags is the exit signal (SIGCHLD is assumed).
pub fn clone(ctx: &mut SyscallContext<'_>, a: &[u64; 6]) -> SysResult {
    do_clone(
        ctx,
        Args {
            flags: a[0] & !CSIGNAL,
            stack: a[1],
            parent_tid: a[2],
            child_tid: a[3],
            tls: a[4],
        },
    )
}

/// clone3(2): `struct clone_args` of at least `CLONE_ARGS_SIZE_VER0` bytes;
/// larger structs must be zero past what umk knows (E2BIG otherwise).
pub fn clone3(ctx: &mut SyscallContext<'_>, a: &[u64; 6]) -> SysResult {
    let (ptr, size) = (a[0], a[1] as usize);
    let known = std::mem::size_of::<CloneArgs>();
    if size < CLONE_ARGS_SIZE_VER0 {
        return sys_err!(EINVAL, "clone_args too small");
    }
    if size > 4096 {
        return sys_err!(E2BIG, "clone_args too large");
    }
    let bytes = ctx.read_bytes(ptr, size)?;
    if bytes.len() > known && bytes[known..].iter().any(|&b| b != 0) {
        return sys_err!(E2BIG, "unknown clone_args fields set");
    }
    let mut buf = [0u8; std::mem::size_of::<CloneArgs>()];
    let n = bytes.len().min(known);
    buf[..n].copy_from_slice(&bytes[..n]);
    let word = |i: usize| {
        let mut w = [0u8; 8];
        w.copy_from_slice(&buf[i * 8..i * 8 + 8]);
        u64::from_ne_bytes(w)
    };
    let (flags, child_tid, parent_tid, exit_signal, stack, stack_size, tls, set_tid_size) = (
        word(0),
        word(2),
        word(3),
        word(4),
        word(5),
        word(6),
        word(7),
        word(9),
    );
    if exit_signal > 64 || flags & CSIGNAL != 0 {
        return sys_err!(EINVAL, "bad exit signal");
    }
    if set_tid_size != 0 {
        return sys_err!(EINVAL, "set_tid is not supported");
    }
    if flags & CLONE_CLEAR_SIGHAND != 0 && flags & CLONE_SIGHAND != 0 {
        return sys_err!(EINVAL, "CLONE_CLEAR_SIGHAND with CLONE_SIGHAND");
    }
    if (stack == 0) != (stack_size == 0) {
        return sys_err!(EINVAL, "stack and stack_size go together");
    }
    do_clone(
        ctx,
        Args {
            flags: flags & !CLONE_CLEAR_SIGHAND,
            stack: stack.wrapping_add(stack_size),
            parent_tid,
            child_tid,
            tls,
        },
    )
}

pub fn fork(ctx: &mut SyscallContext<'_>, _a: &[u64; 6]) -> SysResult {
    do_clone(ctx, Args::default())
}

pub fn vfork(ctx: &mut SyscallContext<'_>, _a: &[u64; 6]) -> SysResult {
    do_clone(
        ctx,
        Args {
            flags: CLONE_VM | CLONE_VFORK,
            ..Args::default()
        },
    )
}
