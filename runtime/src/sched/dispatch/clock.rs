//! Host CPU clocks of a guest thread: what the dispatcher charges.
//!
//! A guest thread's work happens in two host threads: its **stub thread**
//! runs the guest code (user time), its **kernel thread** in umk handles the
//! traps — syscalls, faults, the ptrace round trips (system time, as the
//! kernel's own work on behalf of a task is in Linux). Both are read from
//! the host:
//!
//! * the stub thread is in another process, whose *thread* CPU clock the
//!   host does not let umk read (kernel/time/posix-cpu-timers.c
//!   `lookup_task()`: a thread clock only within the caller's thread
//!   group); its `/proc/<stub>/task/<tid>/schedstat` gives the same number
//!   (first field, `se.sum_exec_runtime` in ns;
//!   Documentation/scheduler/sched-stats.rst). The file stays open and is
//!   re-read with `pread` at offset 0 (one host syscall, ~1 µs here against
//!   ~4 µs for open/read/close);
//! * the kernel thread is one of umk's own: its `pthread_getcpuclockid`
//!   clock, which any umk thread may read (~0.2 µs).
//!
//! The dispatcher samples both when a thread starts holding its vCPU and
//! when its slice ends (release, preemption, the slice timer), never per
//! syscall.

use std::fs::File;
use std::os::unix::fs::FileExt;

use parking_lot::Mutex;

use super::super::Nanos;

/// Where a guest thread runs on the host (see [`super::Dispatcher::entering`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct HostIds {
    /// The guest thread group (process id) the thread belongs to.
    pub tgid: i32,
    /// The stub process.
    pub stub_pid: i32,
    /// The stub's host thread running the guest thread.
    pub host_tid: i32,
}

/// The two clocks of one guest thread.
#[derive(Debug, Default)]
pub(super) struct HostClock {
    pub ids: HostIds,
    schedstat: Option<File>,
    /// The kernel thread's CPU clock.
    kernel: Option<libc::clockid_t>,
}

/// One reading of both clocks (`None`: could not be read).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) struct Sample {
    pub stub: Option<Nanos>,
    pub kernel: Option<Nanos>,
}

/// Schedstat files opened ahead of use ([`preopen`]), newest last.
static PREOPENED: Mutex<Vec<(i32, i32, File)>> = Mutex::new(Vec::new());
/// Most files [`PREOPENED`] keeps (a stub thread that never ran a guest
/// leaves its entry until it is pushed out).
const PREOPENED_MAX: usize = 16;

fn schedstat_path(stub_pid: i32, host_tid: i32) -> String {
    format!("/proc/{stub_pid}/task/{host_tid}/schedstat")
}

/// Opens the schedstat file of stub thread `host_tid` (of stub `stub_pid`)
/// before a guest runs there: opening a `/proc` file costs ~8 µs here, which
/// a kernel thread with a spare stub pays while idle instead of when its
/// next guest first enters.
pub fn preopen(stub_pid: i32, host_tid: i32) {
    if let Ok(f) = File::open(schedstat_path(stub_pid, host_tid)) {
        let mut pre = PREOPENED.lock();
        if pre.len() >= PREOPENED_MAX {
            pre.remove(0);
        }
        pre.push((stub_pid, host_tid, f));
    }
}

impl HostClock {
    /// Point the stub clock at `ids` (a new stub after exec, or the first
    /// time): opens its schedstat file, unless [`preopen`] did.
    pub fn set_ids(&mut self, ids: HostIds) {
        if self.ids == ids && self.schedstat.is_some() {
            return;
        }
        self.ids = ids;
        self.schedstat = if ids.stub_pid > 0 && ids.host_tid > 0 {
            let ready = {
                let mut pre = PREOPENED.lock();
                pre.iter()
                    .position(|(p, t, _)| (*p, *t) == (ids.stub_pid, ids.host_tid))
                    .map(|i| pre.remove(i).2)
            };
            ready.or_else(|| File::open(schedstat_path(ids.stub_pid, ids.host_tid)).ok())
        } else {
            None
        };
    }

    /// Use the calling thread's CPU clock as the kernel-thread clock (call
    /// on the guest thread's kernel thread).
    pub fn set_kernel_thread_here(&mut self) {
        if self.kernel.is_none() {
            self.kernel = current_thread_clock();
        }
    }

    /// Whether the stub clock can be read.
    #[cfg(test)]
    pub fn has_stub(&self) -> bool {
        self.schedstat.is_some()
    }

    pub fn sample(&self) -> Sample {
        Sample {
            stub: self.schedstat.as_ref().and_then(read_schedstat),
            kernel: self.kernel.and_then(read_clock),
        }
    }
}

/// The first field of a schedstat file, re-read from the start.
fn read_schedstat(f: &File) -> Option<Nanos> {
    let mut buf = [0u8; 96];
    let n = f.read_at(&mut buf, 0).ok()?;
    let text = std::str::from_utf8(buf.get(..n)?).ok()?;
    text.split_ascii_whitespace().next()?.parse().ok()
}

fn read_clock(clock: libc::clockid_t) -> Option<Nanos> {
    let mut ts = libc::timespec {
        tv_sec: 0,
        tv_nsec: 0,
    };
    // SAFETY: `ts` is a valid out pointer; a bad clock id is an error return.
    if unsafe { libc::clock_gettime(clock, &mut ts) } != 0 {
        return None;
    }
    let s = u64::try_from(ts.tv_sec).ok()?;
    let ns = u64::try_from(ts.tv_nsec).ok()?;
    Some(s.saturating_mul(1_000_000_000).saturating_add(ns))
}

/// The calling thread's CPU clock id, readable from any thread of umk.
fn current_thread_clock() -> Option<libc::clockid_t> {
    let mut id: libc::clockid_t = 0;
    // SAFETY: pthread_self() is the calling thread, alive; `id` is a valid
    // out pointer.
    let r = unsafe { libc::pthread_getcpuclockid(libc::pthread_self(), &mut id) };
    (r == 0).then_some(id)
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    #[test]
    fn reads_own_schedstat_and_thread_clock() {
        let mut c = HostClock::default();
        // SAFETY: getpid/gettid have no preconditions.
        let (pid, tid) = unsafe { (libc::getpid(), libc::gettid()) };
        c.set_ids(HostIds {
            tgid: 1,
            stub_pid: pid,
            host_tid: tid,
        });
        c.set_kernel_thread_here();
        assert!(c.has_stub());
        let a = c.sample();
        let mut x = 0u64;
        for i in 0..2_000_000u64 {
            x = std::hint::black_box(x.wrapping_add(i));
        }
        let b = c.sample();
        assert!(b.stub.unwrap() > a.stub.unwrap(), "{a:?} {b:?}");
        assert!(b.kernel.unwrap() > a.kernel.unwrap(), "{a:?} {b:?}");
        c.set_ids(HostIds::default());
        assert!(!c.has_stub());
        assert_eq!(c.sample().stub, None);
    }
}
