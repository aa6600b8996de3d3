//! The per-thread run loop: resume the guest, take its trap, handle it.

use std::sync::Arc;
use std::time::{Instant, SystemTime};

use crate::error::SysError;
use crate::mm::AddressSpace;
use crate::platform::{GuestThread, Trap};
use crate::syscall::{self, Outcome, SyscallContext};
use crate::task::{default_terminates, ExitStatus, Thread};
use crate::trace::{GuestMemRead, SyscallEvent};

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

/// Drives one guest thread until its process ends; returns how it ended.
pub fn run_thread(
    kernel: &Arc<Kernel>,
    thread: &Arc<Thread>,
    guest: &mut dyn GuestThread,
) -> ExitStatus {
    let tracer = kernel.tracer.clone().filter(|t| t.traces_syscalls());
    let tid = thread.tid;
    loop {
        // Hold a vCPU while the guest runs (and while its syscalls are
        // handled). After a kick (preemption) the same call gives the vCPU
        // up and waits for the next turn.
        if kernel.sched.acquire(tid).is_none() {
            return ExitStatus::Signaled {
                signo: libc::SIGKILL,
                core: false,
            };
        }
        let trap = match guest.run() {
            Ok(t) => t,
            Err(e) => {
                crate::log::warn(&format!("task {tid}: {e}"));
                return ExitStatus::Signaled {
                    signo: libc::SIGKILL,
                    core: false,
                };
            }
        };
        match trap {
            Trap::Syscall => {
                let regs = *guest.regs();
                let nr = regs.orig_rax;
                let args = [regs.rdi, regs.rsi, regs.rdx, regs.r10, regs.r8, regs.r9];
                let t0 = tracer.as_ref().map(|_| (SystemTime::now(), Instant::now()));
                let mut ctx = SyscallContext {
                    kernel,
                    thread,
                    guest: &mut *guest,
                    outcome: Outcome::Return,
                };
                let res = syscall::dispatch(&mut ctx, nr, &args);
                let outcome = ctx.outcome;
                if let (Some(tr), Some((start, i0))) = (&tracer, t0) {
                    let ev = SyscallEvent {
                        tid,
                        nr,
                        args,
                        ret: match outcome {
                            Outcome::Return => Some(res.map_err(|e| e.errno)),
                            Outcome::ExitProcess(_) => None,
                        },
                        start,
                        duration: i0.elapsed(),
                    };
                    tr.syscall(&ev, &*thread.process.mm);
                }
                match outcome {
                    Outcome::Return => guest.set_syscall_result(encode(&res)),
                    Outcome::ExitProcess(st) => {
                        if let (Some(tr), ExitStatus::Exited(code)) = (&tracer, st) {
                            tr.exited(tid, code);
                        }
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
                    tr.killed(tid, signo, false);
                }
                return ExitStatus::Signaled { signo, core: false };
            }
            Trap::Signal(sig) => {
                if default_terminates(sig) {
                    if let Some(tr) = &tracer {
                        tr.killed(tid, sig, false);
                    }
                    return ExitStatus::Signaled {
                        signo: sig,
                        core: false,
                    };
                }
            }
            Trap::Exited(status) => {
                let signo = if libc::WIFSIGNALED(status) {
                    libc::WTERMSIG(status)
                } else {
                    libc::SIGKILL
                };
                if let Some(tr) = &tracer {
                    tr.killed(tid, signo, false);
                }
                return ExitStatus::Signaled { signo, core: false };
            }
        }
    }
}
