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
//! itself (apart from umk's helper threads, which stay unpinned). A
//! [`Pinned`] per kernel thread remembers the last placement, so the
//! `sched_setaffinity` calls happen only when the vCPU or the host thread
//! changes, not per syscall.
//!
//! `--no-pin` turns this off (the host then places every thread).

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

/// Where one kernel thread last pinned itself and its guest thread.
#[derive(Debug, Default)]
pub struct Pinned {
    at: Option<(usize, i32, i32)>,
}

impl Pinned {
    /// Moves the calling kernel thread and host threads `host_tid` (the
    /// guest's) and `control_tid` (its stub's control thread; 0: none) to
    /// vCPU `vcpu`'s host CPU, unless they are there already. Failures
    /// only cost speed: the threads stay where the host put them.
    pub fn follow(&mut self, placement: &Placement, vcpu: usize, host_tid: i32, control_tid: i32) {
        let Some(cpu) = placement.host_cpu(vcpu) else {
            return;
        };
        if self.at == Some((cpu, host_tid, control_tid)) {
            return;
        }
        let mut set = MaybeUninit::<libc::cpu_set_t>::zeroed();
        // SAFETY: CPU_SET writes one bit of the zeroed set; cpu comes from
        // sched_getaffinity, so it is below CPU_SETSIZE.
        let set = unsafe {
            libc::CPU_SET(cpu, &mut *set.as_mut_ptr());
            set.assume_init()
        };
        let size = std::mem::size_of::<libc::cpu_set_t>();
        // SAFETY: `set` is a valid cpu_set_t of `size` bytes; 0 is the
        // calling thread, the others threads of our own stub.
        let pin = |tid: i32| tid <= 0 || unsafe { libc::sched_setaffinity(tid, size, &set) } == 0;
        let ok = pin(0) && pin(host_tid) && pin(control_tid);
        self.at = ok.then_some((cpu, host_tid, control_tid));
    }
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
