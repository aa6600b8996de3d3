//! Syscalls: the dispatch table and one handler per syscall, grouped in
//! files by area.
//!
//! # Model
//!
//! A guest thread traps; its kernel thread builds a [`SyscallContext`] and
//! calls [`dispatch`], which indexes [`TABLE`] by syscall number. A handler
//! gets the six raw argument registers and returns `Ok(rax)` or a
//! [`SysError`](crate::error::SysError) (errno + a short note). Numbers with
//! no entry return `ENOSYS`. Handlers follow the man pages and the kernel;
//! where behaviour is subtle, the comment names the source.
//!
//! Handlers that end the process or replace the registers say so through
//! [`SyscallContext::outcome`].

pub mod context;
pub mod docs;
pub mod table;

mod clone;
mod exec;
mod fs;
mod futex;
mod info;
mod io;
mod itimer;
mod kill;
mod memory;
mod pgrp;
mod process;
pub mod sched;
mod signal;
mod sigwait;
mod time;
mod wait;

pub use futex::{exit_robust_list, futex_wake};

pub use context::{Outcome, SyscallContext};
pub use table::{Entry, Status, Table};

use guest_abi::sysno as nr;

use crate::error::SysResult;
use table::Status::{Full, Partial};

/// Every implemented syscall: (number, handler, status).
const ROWS: &[(usize, table::Handler, Status)] = &[
    // process identity and lifetime (process.rs)
    (nr::EXIT, process::exit, Full),
    (nr::EXIT_GROUP, process::exit_group, Full),
    (nr::GETPID, process::getpid, Full),
    (nr::GETTID, process::gettid, Full),
    (nr::GETPPID, pgrp::getppid, Full),
    (nr::GETUID, process::getuid, Full),
    (nr::GETEUID, process::geteuid, Full),
    (nr::GETGID, process::getgid, Full),
    (nr::GETEGID, process::getegid, Full),
    (nr::SET_TID_ADDRESS, process::set_tid_address, Full),
    (nr::SET_ROBUST_LIST, process::set_robust_list, Partial("walked when the thread exits or execs (owner-died marking and a wake); PI futexes are ENOSYS")),
    (nr::GET_ROBUST_LIST, process::get_robust_list, Partial("own thread only")),
    (nr::ARCH_PRCTL, process::arch_prctl, Partial("ARCH_SET_FS/GET_FS/SET_GS/GET_GS/GET_CPUID; ARCH_SET_CPUID and AMX permissions are EINVAL/ENODEV")),
    (nr::PRLIMIT64, process::prlimit64, Partial("own process only (pid 0 or self); limits are kept, only RLIMIT_NOFILE and RLIMIT_STACK act")),
    (nr::GETRLIMIT, process::getrlimit, Full),
    (nr::GETRESUID, process::getresuid, Full),
    (nr::GETRESGID, process::getresgid, Full),
    (nr::GETPGRP, pgrp::getpgrp, Full),
    (nr::GETPGID, pgrp::getpgid, Full),
    (nr::GETSID, pgrp::getsid, Full),
    (nr::SETPGID, pgrp::setpgid, Full),
    (nr::SETSID, pgrp::setsid, Full),
    (nr::PRCTL, process::prctl, Partial("PR_SET_NAME/GET_NAME, PR_SET_PDEATHSIG/GET_PDEATHSIG (fires when the parent process exits), PR_SET/GET_CHILD_SUBREAPER, PR_GET_DUMPABLE/SET_DUMPABLE; other options EINVAL")),
    // new processes and threads (clone.rs, exec.rs, wait.rs)
    (nr::CLONE, clone::clone, Partial("no namespaces, pidfds or CLONE_PTRACE (EINVAL); the exit signal is always SIGCHLD")),
    (nr::CLONE3, clone::clone3, Partial("as clone; set_tid is EINVAL")),
    (nr::FORK, clone::fork, Full),
    (nr::VFORK, clone::vfork, Full),
    (nr::EXECVE, exec::execve, Full),
    (nr::EXECVEAT, exec::execveat, Partial("as execve")),
    (nr::WAIT4, wait::wait4, Partial("rusage carries the child's CPU times only")),
    (nr::WAITID, wait::waitid, Partial("as wait4; P_PIDFD is EINVAL")),
    (nr::SETRLIMIT, process::setrlimit, Partial("limits are kept; only RLIMIT_NOFILE and RLIMIT_STACK act")),
    // memory (memory.rs)
    (nr::BRK, memory::brk, Full),
    (nr::MMAP, memory::mmap, Partial("MAP_SHARED file mappings are read-only (writable ones: ENODEV); MAP_HUGETLB is EINVAL")),
    (nr::MUNMAP, memory::munmap, Full),
    (nr::MPROTECT, memory::mprotect, Partial("PROT_GROWSDOWN/GROWSUP accepted but not applied to neighbours")),
    (nr::MREMAP, memory::mremap, Partial("no MREMAP_DONTUNMAP, no old_size 0 duplication")),
    (nr::MADVISE, memory::madvise, Partial("MADV_DONTNEED/MADV_FREE drop private pages; other known advice is accepted and ignored")),
    (nr::MSYNC, memory::msync, Full),
    (nr::MINCORE, memory::mincore, Full),
    // reading and writing (io.rs)
    (nr::READ, io::read, Full),
    (nr::WRITE, io::write, Full),
    (nr::READV, io::readv, Full),
    (nr::WRITEV, io::writev, Full),
    (nr::PREAD64, io::pread64, Full),
    (nr::PWRITE64, io::pwrite64, Full),
    (nr::LSEEK, io::lseek, Full),
    (nr::PREADV, io::preadv, Full),
    (nr::PWRITEV, io::pwritev, Full),
    (nr::PREADV2, io::preadv2, Partial("flags other than RWF_HIPRI are EOPNOTSUPP")),
    (nr::PWRITEV2, io::pwritev2, Partial("flags other than RWF_HIPRI are EOPNOTSUPP")),
    // paths and descriptors (fs.rs)
    (nr::OPEN, fs::open, Partial("host files passed through; /proc is the host's except /proc/self/exe")),
    (nr::OPENAT, fs::openat, Partial("host files passed through; /proc is the host's except /proc/self/exe")),
    (nr::CLOSE, fs::close, Full),
    (nr::FSTAT, fs::fstat, Full),
    (nr::STAT, fs::stat, Full),
    (nr::LSTAT, fs::lstat, Full),
    (nr::NEWFSTATAT, fs::newfstatat, Full),
    (nr::ACCESS, fs::access, Full),
    (nr::FACCESSAT, fs::faccessat, Full),
    (nr::FACCESSAT2, fs::faccessat2, Full),
    (nr::GETCWD, fs::getcwd, Full),
    (nr::READLINK, fs::readlink, Partial("/proc/self/exe and /proc/self/fd/N are umk's; other /proc links are the host's")),
    (nr::READLINKAT, fs::readlinkat, Partial("as readlink")),
    (nr::FCNTL, fs::fcntl, Partial("F_DUPFD, F_DUPFD_CLOEXEC, F_GETFD, F_SETFD, F_GETFL, F_SETFL; locks and leases are EINVAL")),
    (nr::IOCTL, fs::ioctl, Partial("TCGETS, TIOCGWINSZ, FIOCLEX, FIONCLEX")),
    (nr::DUP, fs::dup, Full),
    (nr::DUP2, fs::dup2, Full),
    (nr::DUP3, fs::dup3, Full),
    (nr::POLL, fs::poll, Partial("waits on umk's own files (pipes) by rechecking every millisecond; not interruptible by guest signals yet")),
    (nr::PIPE, fs::pipe, Full),
    (nr::PIPE2, fs::pipe2, Partial("O_DIRECT (packet mode) is EINVAL")),
    (nr::FTRUNCATE, fs::ftruncate, Full),
    (nr::TRUNCATE, fs::truncate, Full),
    (nr::FSYNC, fs::fsync, Full),
    (nr::FDATASYNC, fs::fdatasync, Full),
    (nr::UNLINK, fs::unlink, Full),
    (nr::UNLINKAT, fs::unlinkat, Full),
    (nr::RMDIR, fs::rmdir, Full),
    (nr::MKDIR, fs::mkdir, Full),
    (nr::CHMOD, fs::chmod, Full),
    (nr::SYMLINK, fs::symlink, Full),
    (nr::SYMLINKAT, fs::symlinkat, Full),
    (nr::FCHMOD, fs::fchmod, Partial("host files; a no-op on pipes")),
    (nr::FCHMODAT, fs::fchmodat, Full),
    (nr::MKDIRAT, fs::mkdirat, Full),
    (nr::RENAME, fs::rename, Full),
    (nr::RENAMEAT, fs::renameat, Full),
    (nr::RENAMEAT2, fs::renameat2, Full),
    (nr::GETDENTS64, fs::getdents64, Partial("host directories only")),
    (nr::CHDIR, fs::chdir, Full),
    (nr::FCHDIR, fs::fchdir, Full),
    // signals (signal.rs, kill.rs, sigwait.rs, itimer.rs); delivery is
    // kernel::signal
    (nr::RT_SIGACTION, signal::rt_sigaction, Full),
    (nr::RT_SIGPROCMASK, signal::rt_sigprocmask, Full),
    (nr::RT_SIGPENDING, signal::rt_sigpending, Full),
    (nr::RT_SIGRETURN, signal::rt_sigreturn, Full),
    (nr::SIGALTSTACK, signal::sigaltstack, Full),
    (nr::KILL, kill::kill, Full),
    (nr::TKILL, kill::tkill, Full),
    (nr::TGKILL, kill::tgkill, Full),
    (nr::RT_SIGQUEUEINFO, kill::rt_sigqueueinfo, Full),
    (nr::RT_TGSIGQUEUEINFO, kill::rt_tgsigqueueinfo, Full),
    (nr::PAUSE, sigwait::pause, Full),
    (nr::RT_SIGSUSPEND, sigwait::rt_sigsuspend, Full),
    (nr::RT_SIGTIMEDWAIT, sigwait::rt_sigtimedwait, Full),
    (nr::RESTART_SYSCALL, sigwait::restart_syscall, Partial("resumes nanosleep/clock_nanosleep; futex and poll timeouts restart from the start instead (ERESTARTNOHAND)")),
    (nr::ALARM, itimer::alarm, Full),
    (nr::SETITIMER, itimer::setitimer, Partial("ITIMER_REAL only; ITIMER_VIRTUAL and ITIMER_PROF are EINVAL")),
    (nr::GETITIMER, itimer::getitimer, Partial("as setitimer")),
    (nr::FUTEX, futex::futex, Partial("WAIT, WAKE, REQUEUE, CMP_REQUEUE, WAKE_OP and the BITSET forms; the PI operations are ENOSYS")),
    // time (time.rs)
    (nr::CLOCK_GETTIME, time::clock_gettime, Full),
    (nr::CLOCK_GETRES, time::clock_getres, Full),
    (nr::GETTIMEOFDAY, time::gettimeofday, Full),
    (nr::TIME, time::time, Full),
    (nr::NANOSLEEP, time::nanosleep, Full),
    (nr::CLOCK_NANOSLEEP, time::clock_nanosleep, Partial("CPU-time clocks: see the sleep notes in time.rs")),
    (nr::GETRUSAGE, time::getrusage, Partial("RUSAGE_SELF/THREAD: CPU times umk's scheduler charged, switch counts (of live threads), the stub's peak RSS and faults; RUSAGE_CHILDREN: CPU times of waited-for children; its other fields are zero")),
    (nr::TIMES, time::times, Partial("user and system time from umk's scheduler; tms_cutime/tms_cstime of waited-for children")),
    // system information (info.rs)
    (nr::UNAME, info::uname, Full),
    (nr::SYSINFO, info::sysinfo, Partial("host memory and load figures; procs counts guest threads")),
    (nr::GETRANDOM, info::getrandom, Full),
    // scheduling (sched.rs): umk's scheduler over its vCPUs
    (nr::SCHED_YIELD, sched::sched_yield, Full),
    (nr::SCHED_SETSCHEDULER, sched::sched_setscheduler, Partial("SCHED_DEADLINE is EINVAL")),
    (nr::SCHED_GETSCHEDULER, sched::sched_getscheduler, Full),
    (nr::SCHED_SETPARAM, sched::sched_setparam, Full),
    (nr::SCHED_GETPARAM, sched::sched_getparam, Full),
    (nr::SCHED_SETATTR, sched::sched_setattr, Partial("SCHED_DEADLINE is EINVAL, utilization clamping EOPNOTSUPP")),
    (nr::SCHED_GETATTR, sched::sched_getattr, Full),
    (nr::SCHED_GET_PRIORITY_MAX, sched::sched_get_priority_max, Full),
    (nr::SCHED_GET_PRIORITY_MIN, sched::sched_get_priority_min, Full),
    (nr::SCHED_RR_GET_INTERVAL, sched::sched_rr_get_interval, Partial("the CFS slice is not rounded to jiffies")),
    (nr::SCHED_SETAFFINITY, sched::sched_setaffinity, Partial("over vCPUs (the masks guests see)")),
    (nr::SCHED_GETAFFINITY, sched::sched_getaffinity, Partial("over vCPUs (the masks guests see)")),
    (nr::GETPRIORITY, sched::getpriority, Partial("PRIO_USER: every guest runs as one user")),
    (nr::SETPRIORITY, sched::setpriority, Partial("as getpriority")),
    (nr::GETCPU, sched::getcpu, Full),
];

/// Syscalls that deliberately return `ENOSYS`, with the reason (shown in
/// `docs/syscalls.md`).
pub const ENOSYS_NOTES: &[(usize, &str)] = &[(
    nr::RSEQ,
    "by design for now: the host kernel cannot maintain a guest rseq area across umk's own scheduling; glibc falls back when rseq registration fails",
)];

/// The dispatch table, indexed by syscall number.
pub static TABLE: Table = table::build(ROWS);

/// Runs syscall `nr` for the thread in `ctx`.
pub fn dispatch(ctx: &mut SyscallContext<'_>, nr: u64, args: &[u64; 6]) -> SysResult {
    match usize::try_from(nr)
        .ok()
        .and_then(|n| TABLE.get(n))
        .copied()
        .flatten()
    {
        Some(e) => (e.handler)(ctx, args),
        None => crate::sys_err!(ENOSYS, "not implemented"),
    }
}

/// A descriptor argument: the kernel reads the low 32 bits (`unsigned int`
/// or `int`); negative values never name a descriptor (and `AT_FDCWD` is
/// -100 as an `int`).
pub fn fd_arg(a: u64) -> i32 {
    a as u32 as i32
}
