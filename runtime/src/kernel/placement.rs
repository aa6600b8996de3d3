//! Host placement of vCPUs: which host CPU a guest thread and the kernel
//! thread driving it run on.
//!
//! # Model
//!
//! A ptrace round trip (the guest stops, its kernel thread wakes, handles
//! the syscall and resumes it) costs about 7 µs when tracer and tracee
//! share a host CPU and about 17 µs when they do not: each stop and each
//! resume is a wake-up, and a cross-CPU wake-up in this nested VM costs
//! ~11 µs where a same-CPU switch costs ~3
//! (`../shared/prototypes/trap/FINDINGS.md`). Left alone, the host
//! scheduler spreads the two threads over both CPUs.
//!
//! So vCPU *i* is bound to host CPU `cpus[i % n]` (`cpus`: the CPUs umk
//! may run on, from `sched_getaffinity` at boot), and when a kernel thread
//! gets a vCPU it pins itself, its guest's host thread and the stub's
//! control thread there (the control thread runs umk's mapping requests:
//! on the same CPU its wake-ups are cheap and the stub's TLB flushes need
//! no inter-processor interrupt). Only one
//! guest thread holds a vCPU at a time, so the pair has that host CPU to
//! itself (apart from umk's helper threads, which stay unpinned). Each
//! kernel thread remembers its last placement, so the `sched_setaffinity`
//! calls happen only when the vCPU or the host thread changes, not per
//! syscall. A new guest's stub is pinned where its kernel thread already
//! runs before the stub does any set-up work ([`Placement::pin_here`]):
//! moving the running kernel thread later cost ~15 µs of every fork.
//!
//! Until 2026-11-21 the kernel thread itself was never pinned (a `tid <= 0`
//! test meant for "no control thread" also skipped the calling thread, 0):
//! the host put tracer and tracee on different CPUs and a trapped getppid
//! cost 11.3 µs instead of 6.0 (`umk bench --suite syscall`).
//!
//! `--no-pin` turns this off (the host then places every thread).

use std::cell::Cell;
use std::mem::MaybeUninit;

/// The host CPUs vCPUs map to; empty when pinning is off.
#[derive(Debug, Default)]
pub struct Placement {
    cpus: Vec<usize>,
}

impl Placement {
    /// The CPUs umk's process may run on (none when `enabled` is false or
    /// the mask cannot be read).
    pub fn detect(enabled: bool) -> Placement {
        if !enabled {
            return Placement::default();
        }
        let mut set = MaybeUninit::<libc::cpu_set_t>::zeroed();
        // SAFETY: `set` is a writable cpu_set_t of the size passed.
        let r = unsafe {
            libc::sched_getaffinity(0, std::mem::size_of::<libc::cpu_set_t>(), set.as_mut_ptr())
        };
        if r != 0 {
            return Placement::default();
        }
        // SAFETY: zero-initialised and filled in by the kernel above.
        let set = unsafe { set.assume_init() };
        let cpus = (0..libc::CPU_SETSIZE as usize)
            // SAFETY: CPU_ISSET reads a bit of a valid set, i < CPU_SETSIZE.
            .filter(|&i| unsafe { libc::CPU_ISSET(i, &set) })
            .collect();
        Placement { cpus }
    }

    /// Whether vCPUs are pinned.
    pub fn enabled(&self) -> bool {
        !self.cpus.is_empty()
    }

    /// The host CPU of vCPU `vcpu`, if pinning is on.
    pub fn host_cpu(&self, vcpu: usize) -> Option<usize> {
        (!self.cpus.is_empty()).then(|| self.cpus[vcpu % self.cpus.len()])
    }
}

thread_local! {
    /// Where this kernel thread last pinned itself and its guest's host
    /// threads: (host CPU, guest thread, control thread).
    static PINNED: Cell<Option<(usize, i32, i32)>> = const { Cell::new(None) };
    /// The host CPU this kernel thread itself is pinned to, if any.
    static SELF_CPU: Cell<Option<usize>> = const { Cell::new(None) };
}

impl Placement {
    /// Moves the calling kernel thread and host threads `host_tid` (the
    /// guest's) and `control_tid` (its stub's control thread; 0: none) to
    /// vCPU `vcpu`'s host CPU, unless they are there already. Failures
    /// only cost speed: the threads stay where the host put them.
    pub fn follow(&self, vcpu: usize, host_tid: i32, control_tid: i32) {
        if let Some(cpu) = self.host_cpu(vcpu) {
            pin_all(cpu, host_tid, control_tid);
        }
    }

    /// Pins a new guest's host threads to the CPU the calling kernel thread
    /// is on, before its stub does any work: the stub's set-up requests
    /// then run beside the kernel thread, and when the scheduler hands out
    /// that CPU's vCPU (the usual case: the kernel thread was woken on an
    /// idle CPU), [`Placement::follow`] has nothing to move. Moving a
    /// running thread later costs ~15 µs here; pinning a sleeping one
    /// costs a mask update.
    pub fn pin_here(&self, host_tid: i32, control_tid: i32) {
        // SAFETY: sched_getcpu has no preconditions.
        let here = unsafe { libc::sched_getcpu() };
        if here < 0 || !self.cpus.contains(&(here as usize)) {
            return;
        }
        let here = here as usize;
        if SELF_CPU.with(Cell::get) == Some(here) {
            // Only the stub's threads move; remembered, so that the
            // `follow` at the first resume on this CPU has nothing to do.
            let ok = (control_tid <= 0 || pin_one(here, control_tid))
                && (host_tid <= 0 || pin_one(here, host_tid));
            PINNED.with(|p| p.set(ok.then_some((here, host_tid, control_tid))));
        } else {
            pin_all(here, host_tid, control_tid);
        }
    }

    /// Pins idle kernel thread `tid` to vCPU `vcpu`'s host CPU before it is
    /// woken for a new guest thread that the scheduler has queued there
    /// (`workers.rs`): it then wakes on that CPU, and its set-up work (and
    /// the stub it pins with [`Placement::pin_here`]) starts where the
    /// guest will run, instead of on the waker's CPU. A sleeping thread's
    /// pinning is a mask update.
    ///
    /// Returns the CPU, for the woken thread's [`Placement::placed`].
    pub fn place_sleeping(&self, tid: i32, vcpu: usize) -> Option<usize> {
        let cpu = self.host_cpu(vcpu)?;
        pin_one(cpu, tid).then_some(cpu)
    }

    /// The calling kernel thread was pinned to `cpu` by
    /// [`Placement::place_sleeping`].
    pub fn placed(&self, cpu: usize) {
        SELF_CPU.with(|c| c.set(Some(cpu)));
    }

    /// The calling kernel thread is done with its vCPU: it may run on any
    /// CPU umk may use again.
    pub fn release(&self) {
        if self.enabled() {
            crate::hostsched::unpin(0);
            PINNED.with(|p| p.set(None));
            SELF_CPU.with(|c| c.set(None));
        }
    }
}

/// Pins the calling thread, `host_tid` and `control_tid` (0: none) to
/// `cpu`, unless the last call did just that.
fn pin_all(cpu: usize, host_tid: i32, control_tid: i32) {
    let want = Some((cpu, host_tid, control_tid));
    if PINNED.with(Cell::get) == want {
        return;
    }
    let pin = |tid: i32| pin_one(cpu, tid);
    // Sleeping threads first: moving them is a mask update.
    let ok = (control_tid <= 0 || pin(control_tid)) && (host_tid <= 0 || pin(host_tid)) && pin(0);
    PINNED.with(|p| p.set(if ok { want } else { None }));
    SELF_CPU.with(|c| c.set(ok.then_some(cpu)));
}

/// Pins thread `tid` (0: the calling thread; otherwise one of umk's or of
/// its stubs') to `cpu`, which comes from `sched_getaffinity`.
fn pin_one(cpu: usize, tid: i32) -> bool {
    let mut set = MaybeUninit::<libc::cpu_set_t>::zeroed();
    // SAFETY: CPU_SET writes one bit of the zeroed set; cpu is below
    // CPU_SETSIZE (it came from a cpu_set_t).
    let set = unsafe {
        libc::CPU_SET(cpu, &mut *set.as_mut_ptr());
        set.assume_init()
    };
    let size = std::mem::size_of::<libc::cpu_set_t>();
    // SAFETY: `set` is a valid cpu_set_t of `size` bytes.
    unsafe { libc::sched_setaffinity(tid, size, &set) == 0 }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn vcpus_wrap_over_host_cpus() {
        let p = Placement { cpus: vec![2, 5] };
        assert_eq!(p.host_cpu(0), Some(2));
        assert_eq!(p.host_cpu(1), Some(5));
        assert_eq!(p.host_cpu(2), Some(2));
        assert_eq!(Placement::default().host_cpu(0), None);
    }

    #[test]
    fn detect_finds_the_cpu_this_runs_on() {
        let p = Placement::detect(true);
        // SAFETY: sched_getcpu has no preconditions.
        let here = unsafe { libc::sched_getcpu() };
        assert!(here >= 0);
        assert!(
            p.cpus.contains(&(here as usize)),
            "{:?} lacks {here}",
            p.cpus
        );
        assert_eq!(Placement::detect(false).host_cpu(0), None);
    }
}
