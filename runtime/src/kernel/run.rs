//! The per-thread run loop: resume the guest, take its trap, handle it.

use std::sync::Arc;
use std::time::{Instant, SystemTime};

use crate::error::SysError;
use crate::mm::AddressSpace;
use crate::platform::{GuestThread, Trap};
use crate::syscall::{self, Outcome, SyscallContext};
use crate::task::{ExitStatus, Thread};
use crate::trace::{GuestMemRead, SyscallEvent};

use super::exit::{self, send_to};
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

/// Drives one guest thread until it ends, then does its exit work.
pub fn run_thread(kernel: &Arc<Kernel>, thread: &Arc<Thread>, guest: Box<dyn GuestThread>) {
    let mut guest = guest;
    let status = drive(kernel, thread, &mut guest);
    exit::thread_exited(kernel, thread, Some(guest), status);
}

fn drive(
    kernel: &Arc<Kernel>,
    thread: &Arc<Thread>,
    guest: &mut Box<dyn GuestThread>,
) -> ExitStatus {
    let tracer = kernel.tracer.clone().filter(|t| t.traces_syscalls());
    let tid = thread.tid;
    loop {
        if thread.is_killed() {
            return thread.process.exiting().unwrap_or(KILLED);
        }
        thread.clear_attention();
        // Hold a vCPU while the guest runs (and while its syscalls are
        // handled). After a preemption kick the same call gives the vCPU up
        // and waits for the next turn; blocking waits give it up too
        // (`Thread::wait_on`).
        if kernel.sched.acquire(tid).is_none() {
            thread.process.begin_exit(KILLED);
            return KILLED;
        }
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
        let _ = kernel.sched.trapped(tid);
        let trap = match trap {
            Ok(t) => t,
            Err(e) => {
                crate::log::warn(&format!("task {tid}: {e}"));
                thread.process.begin_exit(KILLED);
                return KILLED;
            }
        };
        match trap {
            Trap::Syscall => {
                let regs = *guest.regs();
                let nr = regs.orig_rax;
                let args = [regs.rdi, regs.rsi, regs.rdx, regs.r10, regs.r8, regs.r9];
                let t0 = tracer.as_ref().map(|_| (SystemTime::now(), Instant::now()));
                let mm = thread.mm();
                let mut ctx = SyscallContext {
                    kernel,
                    thread,
                    mm,
                    guest: &mut **guest,
                    outcome: Outcome::Return,
                };
                let res = syscall::dispatch(&mut ctx, nr, &args);
                let SyscallContext { outcome, mm, .. } = ctx;
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
                    tr.syscall(&ev, &*mm.space);
                }
                match outcome {
                    Outcome::Return => guest.set_syscall_result(encode(&res)),
                    Outcome::Exec(new) => *guest = new,
                    Outcome::ExitThread(st) => return st,
                    Outcome::ExitProcess(st) => {
                        thread.process.begin_exit(st);
                        return st;
                    }
                }
            }
            Trap::Fault { signo, code, addr } => {
                if let Some(tr) = &tracer {
                    let name = guest_abi::signal::signal_name(signo as u32).unwrap_or("SIG?");
                    tr.note(
                        tid,
                        &format!(
                            "--- {name} {{si_signo={name}, si_code={code}, si_addr={addr:#x}}} ---"
                        ),
                    );
                }
                let core = exit::core_dumped(&thread.process, signo);
                let st = ExitStatus::Signaled { signo, core };
                thread.process.begin_exit(st);
                return st;
            }
            // A host signal from outside (the terminal's SIGINT reaches the
            // stubs in umk's process group): the guest process gets it.
            Trap::Signal(sig) => {
                send_to(&thread.process, sig);
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
                return st;
            }
        }
    }
}
