//! Kernel threads kept for reuse.
//!
//! # Model
//!
//! Every guest thread is driven by a kernel thread of its own (see the
//! module note of `kernel`). Starting a host thread costs 20–30 µs in the
//! thread that asks for it and as much again before the new thread runs
//! (this nested VM), and a fork pays it on the parent's critical path. So a
//! kernel thread whose guest thread has ended does not exit: it waits, idle,
//! for the next guest thread to drive ([`Workers::start`] hands it over with
//! one channel send). Idle threads beyond [`MAX_IDLE`], and any idle for
//! [`IDLE_FOR`], exit.
//!
//! An idle thread also holds a **spare**: a stub from the pool whose parked
//! thread it has already seized (ptrace's tracer is a thread, so only the
//! thread that will drive the stub can do this). A fork or exec on that
//! kernel thread then starts without the 20–30 µs of taking and seizing a
//! stub (`Kernel::attach_stub` takes the spare first).
//!
//! Each idle thread waits on a channel of its own, listed in `idle`; a job
//! goes to the thread taken off the list (the most recently idle one),
//! under the list's lock, so a job never waits without a thread that will
//! receive it. Before the hand-off the thread is pinned to the host CPU of
//! the vCPU the scheduler queued the new guest thread on
//! ([`super::placement::Placement::place_sleeping`]): it wakes there
//! rather than on its waker's CPU (a third of the forks did, then moved
//! the kernel thread and the new stub once the vCPU was known, ~25 µs). A
//! thread whose wait times out takes itself off the list; if it is no
//! longer there, a job was promised to it just then, and it waits for it.

use std::cell::RefCell;
use std::sync::Arc;
use std::time::Duration;

use crossbeam_channel::{bounded, Receiver, RecvTimeoutError, Sender};
use parking_lot::Mutex;

use super::{Kernel, Start};
use crate::platform::NewSpace;
use crate::task::Thread;

thread_local! {
    /// This kernel thread's spare stub (see the module note).
    static SPARE: RefCell<Option<NewSpace>> = const { RefCell::new(None) };
}

/// This kernel thread's spare stub, if it has one.
pub fn take_spare() -> Option<NewSpace> {
    SPARE.with(|s| s.borrow_mut().take())
}

/// Idle kernel threads kept at most.
pub const MAX_IDLE: usize = 8;

/// An idle kernel thread exits after this long without work.
pub const IDLE_FOR: Duration = Duration::from_secs(2);

/// A guest thread to drive: what `Kernel::task_main` needs.
pub struct Job {
    pub kernel: Arc<Kernel>,
    pub thread: Arc<Thread>,
    pub start: Start,
    /// The host CPU the receiving thread was pinned to for this job.
    pub placed: Option<usize>,
}

/// An idle kernel thread: its host tid and the way to hand it a job.
#[derive(Debug)]
struct Idle {
    tid: i32,
    tx: Sender<Job>,
}

/// The idle kernel threads (see the module note).
#[derive(Debug, Default)]
pub struct Workers {
    idle: Mutex<Vec<Idle>>,
}

impl Workers {
    /// Runs `job` on an idle kernel thread, or on a new one named `name`.
    /// `vcpu`: where the scheduler queued the job's guest thread, if known.
    pub fn start(
        self: &Arc<Self>,
        mut job: Job,
        name: String,
        vcpu: Option<usize>,
    ) -> std::io::Result<()> {
        let idle = self.idle.lock().pop();
        if let Some(w) = idle {
            job.placed = vcpu.and_then(|v| job.kernel.placement.place_sleeping(w.tid, v));
            // Off the list, the thread waits for this job (see the module
            // note), and holds its receiver: the send cannot fail.
            return w
                .tx
                .send(job)
                .map_err(|_| std::io::Error::other("kernel thread channel closed"));
        }
        let me = self.clone();
        std::thread::Builder::new()
            .name(name)
            .spawn(move || me.serve(job))
            .map(|_| ())
    }

    /// A kernel thread's life: jobs until it has been idle too long or
    /// too many others are idle.
    fn serve(&self, first: Job) {
        let (tx, rx) = bounded(1);
        let mut job = first;
        loop {
            let Job {
                kernel,
                thread,
                start,
                placed,
            } = job;
            if let Some(cpu) = placed {
                kernel.placement.placed(cpu);
            }
            let k = kernel.clone();
            kernel.task_main(thread, start);
            // Done with the vCPU: what follows (the spare stub, waiting)
            // must not take the host CPU from the vCPU's next guest.
            k.placement.release();
            if SPARE.with(|s| s.borrow().is_none()) {
                let spare = k.platform.new_address_space().ok();
                if let Some(s) = &spare {
                    crate::sched::dispatch::preopen_schedstat(s.stub.pid(), s.thread.host_tid());
                }
                SPARE.with(|s| *s.borrow_mut() = spare);
            }
            drop(k);
            job = match self.next(&tx, &rx) {
                Some(j) => j,
                None => {
                    drop(take_spare());
                    return;
                }
            };
            set_name(&format!("umk-task-{}", job.thread.tid));
        }
    }

    /// Waits for the next job on this thread's channel (`tx`, `rx`);
    /// `None`: this thread should exit.
    fn next(&self, tx: &Sender<Job>, rx: &Receiver<Job>) -> Option<Job> {
        // SAFETY: gettid has no preconditions.
        let tid = unsafe { libc::gettid() };
        {
            let mut idle = self.idle.lock();
            if idle.len() >= MAX_IDLE {
                return None;
            }
            idle.push(Idle {
                tid,
                tx: tx.clone(),
            });
        }
        match rx.recv_timeout(IDLE_FOR) {
            Ok(j) => Some(j),
            Err(RecvTimeoutError::Disconnected) => None,
            Err(RecvTimeoutError::Timeout) => {
                let mut idle = self.idle.lock();
                match idle.iter().position(|w| w.tid == tid) {
                    Some(i) => {
                        idle.swap_remove(i);
                        None
                    }
                    // Taken off the list by `start`: its job is on the way.
                    None => {
                        drop(idle);
                        rx.recv().ok()
                    }
                }
            }
        }
    }
}

/// Renames the calling thread (as `ps -L` and `perf` show it; at most 15
/// bytes are kept).
fn set_name(name: &str) {
    let mut buf = [0u8; 16];
    let n = name.len().min(15);
    buf[..n].copy_from_slice(&name.as_bytes()[..n]);
    // SAFETY: PR_SET_NAME reads a NUL-terminated string of at most 16
    // bytes from `buf`, which is one.
    unsafe { libc::prctl(libc::PR_SET_NAME, buf.as_ptr()) };
}
