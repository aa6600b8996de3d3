//! The per-thread run loop: resume the guest, take its trap, handle it.

use std::sync::Arc;
use std::time::{Instant, SystemTime};

use crate::error::SysError;
use crate::mm::AddressSpace;
use crate::platform::{GuestThread, Trap};
use crate::syscall::{self, Outcome, SyscallContext};
use crate::task::{ExitStatus, Thread};
use crate::trace::{GuestMemRead, SyscallEvent};

use super::exit;
use super::signal::{self as ksignal, Delivery, Target};
use super::Kernel;

impl GuestMemRead for AddressSpace {
    fn read(&self, addr: u64, buf: &mut [u8]) -> bool {
        AddressSpace::read(self, addr, buf).is_ok()
    }
}

fn encode(r: &Result<u64, SysError>) -> u64 {
    match r {
        Ok(v) => *v,
        Err(e) => e.errno.to_ret(),
    }
}

const KILLED: ExitStatus = ExitStatus::Signaled {
    signo: libc::SIGKILL,
    core: false,
};

/// The writing syscalls whose EPIPE raises SIGPIPE.
fn raises_sigpipe(nr: u64) -> bool {
    use guest_abi::sysno as n;
    [
        n::WRITE,
        n::WRITEV,
        n::PWRITE64,
        n::PWRITEV,
        n::PWRITEV2,
        n::SENDFILE,
        n::SPLICE,
        n::VMSPLICE,
        n::TEE,
    ]
    .contains(&(nr as usize))
}

/// Drives one guest thread until it ends, then does its exit work.
pub fn run_thread(kernel: &Arc<Kernel>, thread: &Arc<Thread>, guest: Box<dyn GuestThread>) {
    let mut guest = guest;
    let mut thread = thread.clone();
    let status = drive(kernel, &mut thread, &mut guest);
    exit::thread_exited(kernel, &thread, Some(guest), status);
}

/// Runs the guest until the thread ends. `thread` is replaced when an
/// execve from a non-leader thread gives it the leader's tid.
fn drive(
    kernel: &Arc<Kernel>,
    thread_slot: &mut Arc<Thread>,
    guest: &mut Box<dyn GuestThread>,
) -> ExitStatus {
    loop {
        let thread = thread_slot.clone();
        match drive_as(kernel, &thread, guest) {
            Driven::Ended(st) => return st,
            Driven::Became(next) => *thread_slot = next,
        }
    }
}

/// How [`drive_as`] stopped.
enum Driven {
    Ended(ExitStatus),
    /// Continue as this thread (execve took over the leader's tid).
    Became(Arc<Thread>),
}

fn drive_as(
    kernel: &Arc<Kernel>,
    thread: &Arc<Thread>,
    guest: &mut Box<dyn GuestThread>,
) -> Driven {
    let tracer = kernel.tracer.clone().filter(|t| t.traces_syscalls());
    let tid = thread.tid;
    loop {
        if thread.is_killed() {
            return Driven::Ended(thread.process.exiting().unwrap_or(KILLED));
        }
        if thread.process.is_stopped() {
            ksignal::park_while_stopped(kernel, thread);
            continue;
        }
        thread.clear_attention();
        match ksignal::deliver(kernel, thread, &mut **guest) {
            Ok(Delivery::Resume) => {}
            Ok(Delivery::Stopped) => continue,
            Ok(Delivery::Exit(st)) => return Driven::Ended(st),
            Err(e) => {
                crate::log::warn(&format!("task {tid}: delivering a signal: {e}"));
                thread.process.begin_exit(KILLED);
                return Driven::Ended(KILLED);
            }
        }
        // Hold a vCPU while the guest runs (and while its syscalls are
        // handled). After a preemption kick the same call gives the vCPU up
        // and waits for the next turn; blocking waits give it up too
        // (`Thread::wait_on`).
        let Some(vcpu) = kernel.sched.acquire(tid) else {
            thread.process.begin_exit(KILLED);
            return Driven::Ended(KILLED);
        };
        pin(kernel, vcpu, &**guest);
        if !thread.enter_guest() {
            continue;
        }
        // A preemption kick sent after `acquire` returned found no guest to
        // stop: look once more now that a kick would reach it. This also
        // names the host threads whose CPU time the scheduler charges.
        let host = crate::sched::dispatch::HostIds {
            tgid: thread.process.pid,
            stub_pid: guest.stub().map_or(0, |s| s.pid()),
            host_tid: guest.host_tid(),
        };
        if kernel.sched.entering(tid, host) {
            thread.leave_guest();
            continue;
        }
        let trap = guest.run();
        thread.leave_guest();
        // Preempted while the guest ran: wait for the vCPU before handling
        // the trap.
        if let Some(vcpu) = kernel.sched.trapped(tid) {
            pin(kernel, vcpu, &**guest);
        }
        let trap = match trap {
            Ok(t) => t,
            Err(e) => {
                crate::log::warn(&format!("task {tid}: {e}"));
                thread.process.begin_exit(KILLED);
                return Driven::Ended(KILLED);
            }
        };
        match trap {
            Trap::Syscall => {
                let regs = *guest.regs();
                let nr = regs.orig_rax;
                let args = [regs.rdi, regs.rsi, regs.rdx, regs.r10, regs.r8, regs.r9];
                let t0 = tracer.as_ref().map(|_| (SystemTime::now(), Instant::now()));
                let mm = thread.mm();
                // execve's arguments are gone once it succeeds: decode them
                // now and show what was read then.
                let before = tracer
                    .as_ref()
                    .and_then(|tr| tr.read_ahead(tid, nr, args, &*mm.space));
                let mut ctx = SyscallContext {
                    kernel,
                    thread,
                    mm,
                    guest: &mut **guest,
                    outcome: Outcome::Return,
                    successor: None,
                };
                let res = syscall::dispatch(&mut ctx, nr, &args);
                let SyscallContext {
                    outcome,
                    mm,
                    successor,
                    ..
                } = ctx;
                if let (Some(tr), Some((start, i0))) = (&tracer, t0) {
                    let ev = SyscallEvent {
                        tid,
                        nr,
                        args,
                        ret: match outcome {
                            Outcome::Return | Outcome::Exec(_) => {
                                Some(res.as_ref().map(|v| *v).map_err(|e| e.errno))
                            }
                            _ => None,
                        },
                        start,
                        duration: i0.elapsed(),
                    };
                    match &before {
                        Some(r) => tr.syscall(&ev, r),
                        None => tr.syscall(&ev, &*mm.space),
                    }
                }
                if res
                    .as_ref()
                    .is_err_and(|e| e.errno == guest_abi::Errno::EPIPE)
                    && raises_sigpipe(nr)
                {
                    // pipe(7), write(2): EPIPE comes with SIGPIPE to the
                    // writing thread (send(2) with MSG_NOSIGNAL aside).
                    // send_sig(SIGPIPE, current, 0): SI_USER from itself.
                    let info = crate::signal::SigInfo::kill(
                        guest_abi::signal::SIGPIPE,
                        thread.process.pid,
                        ksignal::guest_uid(),
                    );
                    let _ = ksignal::send(kernel, Target::Thread(thread), info);
                }
                match outcome {
                    Outcome::Return => guest.set_syscall_result(encode(&res)),
                    Outcome::Exec(new) => *guest = new,
                    Outcome::ExitThread(st) => return Driven::Ended(st),
                    Outcome::ExitProcess(st) => {
                        thread.process.begin_exit(st);
                        return Driven::Ended(st);
                    }
                }
                // An execve from a non-leader thread: go on as the leader.
                if let Some(next) = successor {
                    return Driven::Became(next);
                }
            }
            // A fault of guest code: a signal it cannot block or ignore,
            // delivered (or fatal) at the top of the loop.
            Trap::Fault { signo, code, addr } => ksignal::fault(thread, signo, code, addr),
            // A host signal from outside (the terminal's SIGINT reaches the
            // stubs in umk's process group): the guest process gets it.
            Trap::Signal(sig) => {
                if (1..=64).contains(&sig) {
                    let info = crate::signal::SigInfo::kernel(sig as u32);
                    let _ = ksignal::send(kernel, Target::Process(&thread.process), info);
                }
            }
            Trap::Interrupted => {}
            Trap::Exited(status) => {
                let signo = if libc::WIFSIGNALED(status) {
                    libc::WTERMSIG(status)
                } else {
                    libc::SIGKILL
                };
                let st = ExitStatus::Signaled { signo, core: false };
                thread.process.begin_exit(st);
                return Driven::Ended(st);
            }
        }
    }
}

/// Places the vCPU's threads (see `placement.rs`).
fn pin(kernel: &Kernel, vcpu: usize, guest: &dyn GuestThread) {
    let control = guest.stub().map_or(0, |s| s.control_tid());
    kernel.placement.follow(vcpu, guest.host_tid(), control);
}
