//! The syscall table: for every x86-64 syscall, the kinds of its arguments
//! and of its return value. Decoding a new syscall symbolically means adding
//! or changing one row here (and, for a new kind, one decoder).
//!
//! Kinds say how strace shows a value: `Int`/`ULong` in decimal, `Hex`,
//! `Ptr` (`NULL` or hex), strings, flag sets, structures. `Out*` kinds are
//! written by the call: shown decoded after a successful call, as the
//! address otherwise. A few kinds (`Fcntl`, `Ioctl`, `Prctl`, `Futex`,
//! `Clone`, `ArchPrctl`) decode the rest of the arguments together because
//! what they are depends on a command argument.

use super::flags::{self as f, Xlat};
use guest_abi::sysno as n;

/// How one argument is shown. `usize` fields are indexes of other
/// arguments (a buffer's length, an array's count).
#[derive(Clone, Copy, Debug)]
pub(crate) enum Arg {
    /// `int`, signed decimal.
    Int,
    /// `unsigned int`, decimal.
    UInt,
    /// `long`/`off_t`, signed decimal.
    Long,
    /// `size_t`/`unsigned long`, decimal.
    ULong,
    /// Hex (`0` for zero).
    Hex,
    /// A pointer: `NULL` or hex.
    Ptr,
    /// A file descriptor.
    Fd,
    /// A directory file descriptor: `AT_FDCWD` or the number.
    DirFd,
    /// A file mode in octal (`0644`).
    Mode,
    /// A NUL-terminated path (not cut at the string limit, like strace).
    Path,
    /// A NUL-terminated string, cut at the string limit.
    Str,
    /// A buffer the call reads, of the length in argument `.0`.
    InBuf(usize),
    /// A buffer the call fills; its returned length is shown.
    OutBuf(usize),
    /// Like `OutBuf` but every byte in `\x` hex (getrandom).
    OutHexBuf(usize),
    /// A string the call fills, of the returned length (readlink).
    OutStr,
    /// A path the call fills, NUL-terminated (getcwd).
    OutPath,
    /// A NULL-terminated array of strings (execve's argv).
    Argv,
    /// A NULL-terminated array shown by count (execve's envp).
    Envp,
    /// An OR of flags from a table, with the default comment for unknown bits.
    Flags(Xlat, &'static str),
    /// One value from a table, hex with the default comment when unknown.
    Enum(Xlat, &'static str),
    /// open flags: `O_RDONLY|O_CLOEXEC`.
    OpenFlags,
    /// open's mode, shown only when the flags (argument before) create a file.
    OpenMode,
    /// access mode: `R_OK|X_OK`, `F_OK`.
    AccessMode,
    /// mmap protection.
    Prot,
    /// mmap flags.
    MapFlags,
    /// mremap's new address, shown only with `MREMAP_FIXED` (argument before).
    MremapNewAddr,
    /// statx's `AT_STATX_*|AT_*` flags.
    StatxFlags,
    /// socket type: `SOCK_STREAM|SOCK_CLOEXEC`.
    SockType,
    /// A signal number: `SIGINT`.
    Signal,
    /// A `sigset_t *` the call reads, of the size in argument `.0`.
    InSigset(usize),
    /// A `sigset_t *` the call fills, of the size in argument `.0`.
    OutSigset(usize),
    /// A `struct sigaction *` the call reads.
    InSigaction,
    /// A `struct sigaction *` the call fills.
    OutSigaction,
    /// A `struct timespec *` the call reads.
    InTimespec,
    /// A `struct timespec *` the call fills.
    OutTimespec,
    /// nanosleep's remaining time: decoded only when the call was interrupted.
    RemTimespec,
    /// A `struct timeval *` the call fills.
    OutTimeval,
    /// A `struct rlimit *` the call reads.
    InRlimit,
    /// A `struct rlimit *` the call fills.
    OutRlimit,
    /// A `struct stat *` the call fills.
    OutStat,
    /// A `struct statx *` the call fills.
    OutStatx,
    /// A `struct utsname *` the call fills.
    OutUtsname,
    /// A `struct sysinfo *` the call fills.
    OutSysinfo,
    /// A `struct pollfd *` of the count in argument `.0`.
    PollFds(usize),
    /// An `int[2]` the call fills (pipe).
    OutPipe,
    /// getdents64's buffer, shown with the number of entries read.
    OutDents,
    /// A `struct iovec *` the call reads from, count in argument `.0`.
    IovIn(usize),
    /// A `struct iovec *` the call fills, count in argument `.0`.
    IovOut(usize),
    /// A CPU mask the call reads, of the size in argument `.0`.
    InCpuSet(usize),
    /// A CPU mask the call fills (size: the return value).
    OutCpuSet,
    /// mincore's vector for the length in argument `.0`.
    OutMincore(usize),
    /// A wait status the call fills.
    OutWaitStatus,
    /// clone's arguments (all of them).
    Clone,
    /// clone3's `struct clone_args *`, of the size in argument `.0`.
    Clone3(usize),
    /// futex's arguments from the operation on.
    Futex,
    /// fcntl's command and argument.
    Fcntl,
    /// ioctl's request and argument.
    Ioctl,
    /// prctl's option and arguments.
    Prctl,
    /// arch_prctl's code and argument.
    ArchPrctl,
}

/// How the return value is shown when the call succeeds.
#[derive(Clone, Copy, Debug)]
pub(crate) enum Ret {
    /// Signed decimal.
    Dec,
    /// Hex (addresses: mmap, brk).
    Addr,
    /// Octal (umask).
    Oct,
    /// fcntl: decorated per command (`0x8000 (flags O_RDONLY|O_LARGEFILE)`).
    Fcntl,
    /// prctl: decorated per option (`1 (SUID_DUMP_USER)`).
    Prctl,
    /// poll: decimal with the returned events (`1 ([{fd=3, revents=POLLIN}])`).
    Poll,
}

/// One table row.
#[derive(Clone, Copy, Debug)]
pub(crate) struct Row {
    pub nr: usize,
    pub args: &'static [Arg],
    pub ret: Ret,
}

const fn r(nr: usize, args: &'static [Arg], ret: Ret) -> Row {
    Row { nr, args, ret }
}

use Arg::*;
use Ret::{Addr, Dec, Oct};

const AT_FLAGS: Arg = Flags(f::AT_FLAGS, "AT_???");
const O_CLOEXEC: Arg = Flags(f::O_CLOEXEC_FLAGS, "O_???");
const CLOCK: Arg = Enum(f::CLOCK_IDS, "CLOCK_???");
const RLIMIT: Arg = Enum(f::RLIMIT_RESOURCES, "RLIMIT_???");
const WHENCE: Arg = Enum(f::SEEK_WHENCE, "SEEK_???");

#[rustfmt::skip]
const ROWS: &[Row] = &[
    r(n::READ, &[Fd, OutBuf(2), ULong], Dec),
    r(n::WRITE, &[Fd, InBuf(2), ULong], Dec),
    r(n::OPEN, &[Path, OpenFlags, OpenMode], Dec),
    r(n::CLOSE, &[Fd], Dec),
    r(n::STAT, &[Path, OutStat], Dec),
    r(n::FSTAT, &[Fd, OutStat], Dec),
    r(n::LSTAT, &[Path, OutStat], Dec),
    r(n::POLL, &[PollFds(1), UInt, Int], Ret::Poll),
    r(n::LSEEK, &[Fd, Long, WHENCE], Dec),
    r(n::MMAP, &[Ptr, ULong, Prot, MapFlags, Fd, Hex], Addr),
    r(n::MPROTECT, &[Ptr, ULong, Prot], Dec),
    r(n::MUNMAP, &[Ptr, ULong], Dec),
    r(n::BRK, &[Ptr], Addr),
    r(n::RT_SIGACTION, &[Signal, InSigaction, OutSigaction, ULong], Dec),
    r(n::RT_SIGPROCMASK, &[Enum(f::SIGPROCMASK_HOW, "SIG_???"), InSigset(3), OutSigset(3), ULong], Dec),
    r(n::RT_SIGRETURN, &[], Dec),
    r(n::IOCTL, &[Fd, Ioctl], Dec),
    r(n::PREAD64, &[Fd, OutBuf(2), ULong, Long], Dec),
    r(n::PWRITE64, &[Fd, InBuf(2), ULong, Long], Dec),
    r(n::READV, &[Fd, IovOut(2), Int], Dec),
    r(n::WRITEV, &[Fd, IovIn(2), Int], Dec),
    r(n::ACCESS, &[Path, AccessMode], Dec),
    r(n::PIPE, &[OutPipe], Dec),
    r(n::SELECT, &[Int, Ptr, Ptr, Ptr, Ptr], Dec),
    r(n::SCHED_YIELD, &[], Dec),
    r(n::MREMAP, &[Ptr, ULong, ULong, Flags(f::MREMAP_FLAGS, "MREMAP_???"), MremapNewAddr], Addr),
    r(n::MSYNC, &[Ptr, ULong, Flags(f::MSYNC_FLAGS, "MS_???")], Dec),
    r(n::MINCORE, &[Ptr, ULong, OutMincore(1)], Dec),
    r(n::MADVISE, &[Ptr, ULong, Enum(f::MADVISE_ADVICE, "MADV_???")], Dec),
    r(n::SHMGET, &[Hex, ULong, Hex], Dec),
    r(n::SHMAT, &[Int, Ptr, Hex], Addr),
    r(n::SHMCTL, &[Int, Int, Ptr], Dec),
    r(n::DUP, &[Fd], Dec),
    r(n::DUP2, &[Fd, Fd], Dec),
    r(n::PAUSE, &[], Dec),
    r(n::NANOSLEEP, &[InTimespec, RemTimespec], Dec),
    r(n::GETITIMER, &[Enum(f::ITIMER_WHICH, "ITIMER_???"), Ptr], Dec),
    r(n::ALARM, &[UInt], Dec),
    r(n::SETITIMER, &[Enum(f::ITIMER_WHICH, "ITIMER_???"), Ptr, Ptr], Dec),
    r(n::GETPID, &[], Dec),
    r(n::SENDFILE, &[Fd, Fd, Ptr, ULong], Dec),
    r(n::SOCKET, &[Enum(f::SOCKET_FAMILIES, "AF_???"), SockType, Int], Dec),
    r(n::CONNECT, &[Fd, Ptr, UInt], Dec),
    r(n::ACCEPT, &[Fd, Ptr, Ptr], Dec),
    r(n::SENDTO, &[Fd, InBuf(2), ULong, Hex, Ptr, UInt], Dec),
    r(n::RECVFROM, &[Fd, OutBuf(2), ULong, Hex, Ptr, Ptr], Dec),
    r(n::SENDMSG, &[Fd, Ptr, Hex], Dec),
    r(n::RECVMSG, &[Fd, Ptr, Hex], Dec),
    r(n::SHUTDOWN, &[Fd, Enum(f::SHUTDOWN_HOW, "SHUT_???")], Dec),
    r(n::BIND, &[Fd, Ptr, UInt], Dec),
    r(n::LISTEN, &[Fd, Int], Dec),
    r(n::GETSOCKNAME, &[Fd, Ptr, Ptr], Dec),
    r(n::GETPEERNAME, &[Fd, Ptr, Ptr], Dec),
    r(n::SOCKETPAIR, &[Enum(f::SOCKET_FAMILIES, "AF_???"), SockType, Int, OutPipe], Dec),
    r(n::SETSOCKOPT, &[Fd, Int, Int, Ptr, UInt], Dec),
    r(n::GETSOCKOPT, &[Fd, Int, Int, Ptr, Ptr], Dec),
    r(n::CLONE, &[Clone], Dec),
    r(n::FORK, &[], Dec),
    r(n::VFORK, &[], Dec),
    r(n::EXECVE, &[Path, Argv, Envp], Dec),
    r(n::EXIT, &[Int], Dec),
    r(n::WAIT4, &[Int, OutWaitStatus, Flags(f::WAIT_OPTIONS, "W???"), Ptr], Dec),
    r(n::KILL, &[Int, Signal], Dec),
    r(n::UNAME, &[OutUtsname], Dec),
    r(n::SEMGET, &[Hex, Int, Hex], Dec),
    r(n::SEMOP, &[Int, Ptr, ULong], Dec),
    r(n::SEMCTL, &[Int, Int, Int, Hex], Dec),
    r(n::SHMDT, &[Ptr], Dec),
    r(n::MSGGET, &[Hex, Hex], Dec),
    r(n::MSGSND, &[Int, Ptr, ULong, Hex], Dec),
    r(n::MSGRCV, &[Int, Ptr, ULong, Long, Hex], Dec),
    r(n::MSGCTL, &[Int, Int, Ptr], Dec),
    r(n::FCNTL, &[Fd, Fcntl], Ret::Fcntl),
    r(n::FLOCK, &[Fd, Flags(f::FLOCK_OPS, "LOCK_???")], Dec),
    r(n::FSYNC, &[Fd], Dec),
    r(n::FDATASYNC, &[Fd], Dec),
    r(n::TRUNCATE, &[Path, Long], Dec),
    r(n::FTRUNCATE, &[Fd, Long], Dec),
    r(n::GETDENTS, &[Fd, OutDents, UInt], Dec),
    r(n::GETCWD, &[OutPath, ULong], Dec),
    r(n::CHDIR, &[Path], Dec),
    r(n::FCHDIR, &[Fd], Dec),
    r(n::RENAME, &[Path, Path], Dec),
    r(n::MKDIR, &[Path, Mode], Dec),
    r(n::RMDIR, &[Path], Dec),
    r(n::CREAT, &[Path, Mode], Dec),
    r(n::LINK, &[Path, Path], Dec),
    r(n::UNLINK, &[Path], Dec),
    r(n::SYMLINK, &[Path, Path], Dec),
    r(n::READLINK, &[Path, OutStr, ULong], Dec),
    r(n::CHMOD, &[Path, Mode], Dec),
    r(n::FCHMOD, &[Fd, Mode], Dec),
    r(n::CHOWN, &[Path, Int, Int], Dec),
    r(n::FCHOWN, &[Fd, Int, Int], Dec),
    r(n::LCHOWN, &[Path, Int, Int], Dec),
    r(n::UMASK, &[Mode], Oct),
    r(n::GETTIMEOFDAY, &[OutTimeval, Ptr], Dec),
    r(n::GETRLIMIT, &[RLIMIT, OutRlimit], Dec),
    r(n::GETRUSAGE, &[Enum(f::RUSAGE_WHO, "RUSAGE_???"), Ptr], Dec),
    r(n::SYSINFO, &[OutSysinfo], Dec),
    r(n::TIMES, &[Ptr], Dec),
    r(n::PTRACE, &[Long, Int, Ptr, Ptr], Dec),
    r(n::GETUID, &[], Dec),
    r(n::SYSLOG, &[Int, Ptr, Int], Dec),
    r(n::GETGID, &[], Dec),
    r(n::SETUID, &[Int], Dec),
    r(n::SETGID, &[Int], Dec),
    r(n::GETEUID, &[], Dec),
    r(n::GETEGID, &[], Dec),
    r(n::SETPGID, &[Int, Int], Dec),
    r(n::GETPPID, &[], Dec),
    r(n::GETPGRP, &[], Dec),
    r(n::SETSID, &[], Dec),
    r(n::SETREUID, &[Int, Int], Dec),
    r(n::SETREGID, &[Int, Int], Dec),
    r(n::GETGROUPS, &[Int, Ptr], Dec),
    r(n::SETGROUPS, &[Int, Ptr], Dec),
    r(n::SETRESUID, &[Int, Int, Int], Dec),
    r(n::GETRESUID, &[Ptr, Ptr, Ptr], Dec),
    r(n::SETRESGID, &[Int, Int, Int], Dec),
    r(n::GETRESGID, &[Ptr, Ptr, Ptr], Dec),
    r(n::GETPGID, &[Int], Dec),
    r(n::SETFSUID, &[Int], Dec),
    r(n::SETFSGID, &[Int], Dec),
    r(n::GETSID, &[Int], Dec),
    r(n::CAPGET, &[Ptr, Ptr], Dec),
    r(n::CAPSET, &[Ptr, Ptr], Dec),
    r(n::RT_SIGPENDING, &[OutSigset(1), ULong], Dec),
    r(n::RT_SIGTIMEDWAIT, &[InSigset(3), Ptr, InTimespec, ULong], Dec),
    r(n::RT_SIGQUEUEINFO, &[Int, Signal, Ptr], Dec),
    r(n::RT_SIGSUSPEND, &[InSigset(1), ULong], Dec),
    r(n::SIGALTSTACK, &[Ptr, Ptr], Dec),
    r(n::UTIME, &[Path, Ptr], Dec),
    r(n::MKNOD, &[Path, Mode, Hex], Dec),
    r(n::USELIB, &[Path], Dec),
    r(n::PERSONALITY, &[Hex], Addr),
    r(n::USTAT, &[Hex, Ptr], Dec),
    r(n::STATFS, &[Path, Ptr], Dec),
    r(n::FSTATFS, &[Fd, Ptr], Dec),
    r(n::SYSFS, &[Int, Hex, Hex], Dec),
    r(n::GETPRIORITY, &[Enum(f::PRIO_WHICH, "PRIO_???"), Int], Dec),
    r(n::SETPRIORITY, &[Enum(f::PRIO_WHICH, "PRIO_???"), Int, Int], Dec),
    r(n::SCHED_SETPARAM, &[Int, Ptr], Dec),
    r(n::SCHED_GETPARAM, &[Int, Ptr], Dec),
    r(n::SCHED_SETSCHEDULER, &[Int, Enum(f::SCHED_POLICIES, "SCHED_???"), Ptr], Dec),
    r(n::SCHED_GETSCHEDULER, &[Int], Dec),
    r(n::SCHED_GET_PRIORITY_MAX, &[Enum(f::SCHED_POLICIES, "SCHED_???")], Dec),
    r(n::SCHED_GET_PRIORITY_MIN, &[Enum(f::SCHED_POLICIES, "SCHED_???")], Dec),
    r(n::SCHED_RR_GET_INTERVAL, &[Int, OutTimespec], Dec),
    r(n::MLOCK, &[Ptr, ULong], Dec),
    r(n::MUNLOCK, &[Ptr, ULong], Dec),
    r(n::MLOCKALL, &[Flags(f::MLOCKALL_FLAGS, "MCL_???")], Dec),
    r(n::MUNLOCKALL, &[], Dec),
    r(n::VHANGUP, &[], Dec),
    r(n::MODIFY_LDT, &[Int, Ptr, ULong], Dec),
    r(n::PIVOT_ROOT, &[Path, Path], Dec),
    r(n::_SYSCTL, &[Ptr], Dec),
    r(n::PRCTL, &[Prctl], Ret::Prctl),
    r(n::ARCH_PRCTL, &[ArchPrctl], Dec),
    r(n::ADJTIMEX, &[Ptr], Dec),
    r(n::SETRLIMIT, &[RLIMIT, InRlimit], Dec),
    r(n::CHROOT, &[Path], Dec),
    r(n::SYNC, &[], Dec),
    r(n::ACCT, &[Path], Dec),
    r(n::SETTIMEOFDAY, &[Ptr, Ptr], Dec),
    r(n::MOUNT, &[Path, Path, Str, Hex, Ptr], Dec),
    r(n::UMOUNT2, &[Path, Hex], Dec),
    r(n::SWAPON, &[Path, Hex], Dec),
    r(n::SWAPOFF, &[Path], Dec),
    r(n::REBOOT, &[Hex, Hex, Hex, Ptr], Dec),
    r(n::SETHOSTNAME, &[InBuf(1), ULong], Dec),
    r(n::SETDOMAINNAME, &[InBuf(1), ULong], Dec),
    r(n::IOPL, &[Int], Dec),
    r(n::IOPERM, &[ULong, ULong, Int], Dec),
    r(n::CREATE_MODULE, &[Str, ULong], Dec),
    r(n::INIT_MODULE, &[Ptr, ULong, Str], Dec),
    r(n::DELETE_MODULE, &[Str, Hex], Dec),
    r(n::GET_KERNEL_SYMS, &[Ptr], Dec),
    r(n::QUERY_MODULE, &[Str, Int, Ptr, ULong, Ptr], Dec),
    r(n::QUOTACTL, &[Hex, Path, Int, Ptr], Dec),
    r(n::NFSSERVCTL, &[Int, Ptr, Ptr], Dec),
    r(n::GETPMSG, &[Hex, Hex, Hex, Hex, Hex], Dec),
    r(n::PUTPMSG, &[Hex, Hex, Hex, Hex, Hex], Dec),
    r(n::AFS_SYSCALL, &[Hex, Hex, Hex, Hex, Hex], Dec),
    r(n::TUXCALL, &[Hex, Hex, Hex], Dec),
    r(n::SECURITY, &[Hex, Hex, Hex], Dec),
    r(n::GETTID, &[], Dec),
    r(n::READAHEAD, &[Fd, Long, ULong], Dec),
    r(n::SETXATTR, &[Path, Str, Ptr, ULong, Hex], Dec),
    r(n::LSETXATTR, &[Path, Str, Ptr, ULong, Hex], Dec),
    r(n::FSETXATTR, &[Fd, Str, Ptr, ULong, Hex], Dec),
    r(n::GETXATTR, &[Path, Str, Ptr, ULong], Dec),
    r(n::LGETXATTR, &[Path, Str, Ptr, ULong], Dec),
    r(n::FGETXATTR, &[Fd, Str, Ptr, ULong], Dec),
    r(n::LISTXATTR, &[Path, Ptr, ULong], Dec),
    r(n::LLISTXATTR, &[Path, Ptr, ULong], Dec),
    r(n::FLISTXATTR, &[Fd, Ptr, ULong], Dec),
    r(n::REMOVEXATTR, &[Path, Str], Dec),
    r(n::LREMOVEXATTR, &[Path, Str], Dec),
    r(n::FREMOVEXATTR, &[Fd, Str], Dec),
    r(n::TKILL, &[Int, Signal], Dec),
    r(n::TIME, &[Ptr], Dec),
    r(n::FUTEX, &[Ptr, Futex], Dec),
    r(n::SCHED_SETAFFINITY, &[Int, ULong, InCpuSet(1)], Dec),
    r(n::SCHED_GETAFFINITY, &[Int, ULong, OutCpuSet], Dec),
    r(n::SET_THREAD_AREA, &[Ptr], Dec),
    r(n::IO_SETUP, &[UInt, Ptr], Dec),
    r(n::IO_DESTROY, &[Hex], Dec),
    r(n::IO_GETEVENTS, &[Hex, Long, Long, Ptr, InTimespec], Dec),
    r(n::IO_SUBMIT, &[Hex, Long, Ptr], Dec),
    r(n::IO_CANCEL, &[Hex, Ptr, Ptr], Dec),
    r(n::GET_THREAD_AREA, &[Ptr], Dec),
    r(n::LOOKUP_DCOOKIE, &[Hex, Ptr, ULong], Dec),
    r(n::EPOLL_CREATE, &[Int], Dec),
    r(n::EPOLL_CTL_OLD, &[Hex, Hex, Hex, Hex], Dec),
    r(n::EPOLL_WAIT_OLD, &[Hex, Hex, Hex, Hex], Dec),
    r(n::REMAP_FILE_PAGES, &[Ptr, ULong, Hex, ULong, Hex], Dec),
    r(n::GETDENTS64, &[Fd, OutDents, UInt], Dec),
    r(n::SET_TID_ADDRESS, &[Ptr], Dec),
    r(n::RESTART_SYSCALL, &[], Dec),
    r(n::SEMTIMEDOP, &[Int, Ptr, ULong, InTimespec], Dec),
    r(n::FADVISE64, &[Fd, Long, Long, Enum(f::FADVISE_ADVICE, "POSIX_FADV_???")], Dec),
    r(n::TIMER_CREATE, &[CLOCK, Ptr, Ptr], Dec),
    r(n::TIMER_SETTIME, &[Int, Flags(f::TIMER_FLAGS, "TIMER_???"), Ptr, Ptr], Dec),
    r(n::TIMER_GETTIME, &[Int, Ptr], Dec),
    r(n::TIMER_GETOVERRUN, &[Int], Dec),
    r(n::TIMER_DELETE, &[Int], Dec),
    r(n::CLOCK_SETTIME, &[CLOCK, InTimespec], Dec),
    r(n::CLOCK_GETTIME, &[CLOCK, OutTimespec], Dec),
    r(n::CLOCK_GETRES, &[CLOCK, OutTimespec], Dec),
    r(n::CLOCK_NANOSLEEP, &[CLOCK, Flags(f::TIMER_FLAGS, "TIMER_???"), InTimespec, RemTimespec], Dec),
    r(n::EXIT_GROUP, &[Int], Dec),
    r(n::EPOLL_WAIT, &[Fd, Ptr, Int, Int], Dec),
    r(n::EPOLL_CTL, &[Fd, Enum(f::EPOLL_CTL_OPS, "EPOLL_CTL_???"), Fd, Ptr], Dec),
    r(n::TGKILL, &[Int, Int, Signal], Dec),
    r(n::UTIMES, &[Path, Ptr], Dec),
    r(n::VSERVER, &[Hex, Hex, Hex, Hex, Hex], Dec),
    r(n::MBIND, &[Ptr, ULong, Int, Ptr, ULong, Hex], Dec),
    r(n::SET_MEMPOLICY, &[Int, Ptr, ULong], Dec),
    r(n::GET_MEMPOLICY, &[Ptr, Ptr, ULong, Ptr, Hex], Dec),
    r(n::MQ_OPEN, &[Str, OpenFlags, OpenMode, Ptr], Dec),
    r(n::MQ_UNLINK, &[Str], Dec),
    r(n::MQ_TIMEDSEND, &[Fd, InBuf(2), ULong, UInt, InTimespec], Dec),
    r(n::MQ_TIMEDRECEIVE, &[Fd, OutBuf(2), ULong, Ptr, InTimespec], Dec),
    r(n::MQ_NOTIFY, &[Fd, Ptr], Dec),
    r(n::MQ_GETSETATTR, &[Fd, Ptr, Ptr], Dec),
    r(n::KEXEC_LOAD, &[Hex, ULong, Ptr, Hex], Dec),
    r(n::WAITID, &[Int, Int, Ptr, Flags(f::WAIT_OPTIONS, "W???"), Ptr], Dec),
    r(n::ADD_KEY, &[Str, Str, Ptr, ULong, Int], Dec),
    r(n::REQUEST_KEY, &[Str, Str, Str, Int], Dec),
    r(n::KEYCTL, &[Int, Hex, Hex, Hex, Hex], Dec),
    r(n::IOPRIO_SET, &[Int, Int, Int], Dec),
    r(n::IOPRIO_GET, &[Int, Int], Dec),
    r(n::INOTIFY_INIT, &[], Dec),
    r(n::INOTIFY_ADD_WATCH, &[Fd, Path, Hex], Dec),
    r(n::INOTIFY_RM_WATCH, &[Fd, Int], Dec),
    r(n::MIGRATE_PAGES, &[Int, ULong, Ptr, Ptr], Dec),
    r(n::OPENAT, &[DirFd, Path, OpenFlags, OpenMode], Dec),
    r(n::MKDIRAT, &[DirFd, Path, Mode], Dec),
    r(n::MKNODAT, &[DirFd, Path, Mode, Hex], Dec),
    r(n::FCHOWNAT, &[DirFd, Path, Int, Int, AT_FLAGS], Dec),
    r(n::FUTIMESAT, &[DirFd, Path, Ptr], Dec),
    r(n::NEWFSTATAT, &[DirFd, Path, OutStat, AT_FLAGS], Dec),
    r(n::UNLINKAT, &[DirFd, Path, AT_FLAGS], Dec),
    r(n::RENAMEAT, &[DirFd, Path, DirFd, Path], Dec),
    r(n::LINKAT, &[DirFd, Path, DirFd, Path, AT_FLAGS], Dec),
    r(n::SYMLINKAT, &[Path, DirFd, Path], Dec),
    r(n::READLINKAT, &[DirFd, Path, OutStr, ULong], Dec),
    r(n::FCHMODAT, &[DirFd, Path, Mode], Dec),
    r(n::FACCESSAT, &[DirFd, Path, AccessMode], Dec),
    r(n::PSELECT6, &[Int, Ptr, Ptr, Ptr, InTimespec, Ptr], Dec),
    r(n::PPOLL, &[PollFds(1), UInt, InTimespec, InSigset(4), ULong], Ret::Poll),
    r(n::UNSHARE, &[Flags(f::CLONE_FLAGS, "CLONE_???")], Dec),
    r(n::SET_ROBUST_LIST, &[Ptr, ULong], Dec),
    r(n::GET_ROBUST_LIST, &[Int, Ptr, Ptr], Dec),
    r(n::SPLICE, &[Fd, Ptr, Fd, Ptr, ULong, Hex], Dec),
    r(n::TEE, &[Fd, Fd, ULong, Hex], Dec),
    r(n::SYNC_FILE_RANGE, &[Fd, Long, Long, Hex], Dec),
    r(n::VMSPLICE, &[Fd, IovIn(2), ULong, Hex], Dec),
    r(n::MOVE_PAGES, &[Int, ULong, Ptr, Ptr, Ptr, Hex], Dec),
    r(n::UTIMENSAT, &[DirFd, Path, Ptr, AT_FLAGS], Dec),
    r(n::EPOLL_PWAIT, &[Fd, Ptr, Int, Int, InSigset(5), ULong], Dec),
    r(n::SIGNALFD, &[Fd, InSigset(2), ULong], Dec),
    r(n::TIMERFD_CREATE, &[CLOCK, Flags(f::TFD_FLAGS, "TFD_???")], Dec),
    r(n::EVENTFD, &[UInt], Dec),
    r(n::FALLOCATE, &[Fd, Flags(f::FALLOC_FLAGS, "FALLOC_FL_???"), Long, Long], Dec),
    r(n::TIMERFD_SETTIME, &[Fd, Flags(f::TFD_SETTIME_FLAGS, "TFD_???"), Ptr, Ptr], Dec),
    r(n::TIMERFD_GETTIME, &[Fd, Ptr], Dec),
    r(n::ACCEPT4, &[Fd, Ptr, Ptr, Flags(f::O_CLOEXEC_FLAGS, "SOCK_???")], Dec),
    r(n::SIGNALFD4, &[Fd, InSigset(2), ULong, O_CLOEXEC], Dec),
    r(n::EVENTFD2, &[UInt, Flags(f::EFD_FLAGS, "EFD_???")], Dec),
    r(n::EPOLL_CREATE1, &[Flags(f::EPOLL_CREATE_FLAGS, "EPOLL_???")], Dec),
    r(n::DUP3, &[Fd, Fd, O_CLOEXEC], Dec),
    r(n::PIPE2, &[OutPipe, O_CLOEXEC], Dec),
    r(n::INOTIFY_INIT1, &[O_CLOEXEC], Dec),
    r(n::PREADV, &[Fd, IovOut(2), Int, Long], Dec),
    r(n::PWRITEV, &[Fd, IovIn(2), Int, Long], Dec),
    r(n::RT_TGSIGQUEUEINFO, &[Int, Int, Signal, Ptr], Dec),
    r(n::PERF_EVENT_OPEN, &[Ptr, Int, Int, Fd, Hex], Dec),
    r(n::RECVMMSG, &[Fd, Ptr, UInt, Hex, InTimespec], Dec),
    r(n::FANOTIFY_INIT, &[Hex, Hex], Dec),
    r(n::FANOTIFY_MARK, &[Fd, Hex, Hex, DirFd, Path], Dec),
    r(n::PRLIMIT64, &[Int, RLIMIT, InRlimit, OutRlimit], Dec),
    r(n::NAME_TO_HANDLE_AT, &[DirFd, Path, Ptr, Ptr, AT_FLAGS], Dec),
    r(n::OPEN_BY_HANDLE_AT, &[Fd, Ptr, OpenFlags], Dec),
    r(n::CLOCK_ADJTIME, &[CLOCK, Ptr], Dec),
    r(n::SYNCFS, &[Fd], Dec),
    r(n::SENDMMSG, &[Fd, Ptr, UInt, Hex], Dec),
    r(n::SETNS, &[Fd, Flags(f::CLONE_FLAGS, "CLONE_NEW???")], Dec),
    r(n::GETCPU, &[Ptr, Ptr, Ptr], Dec),
    r(n::PROCESS_VM_READV, &[Int, Ptr, ULong, Ptr, ULong, Hex], Dec),
    r(n::PROCESS_VM_WRITEV, &[Int, Ptr, ULong, Ptr, ULong, Hex], Dec),
    r(n::KCMP, &[Int, Int, Int, Hex, Hex], Dec),
    r(n::FINIT_MODULE, &[Fd, Str, Hex], Dec),
    r(n::SCHED_SETATTR, &[Int, Ptr, Hex], Dec),
    r(n::SCHED_GETATTR, &[Int, Ptr, UInt, Hex], Dec),
    r(n::RENAMEAT2, &[DirFd, Path, DirFd, Path, Flags(f::RENAME_FLAGS, "RENAME_???")], Dec),
    r(n::SECCOMP, &[UInt, Hex, Ptr], Dec),
    r(n::GETRANDOM, &[OutHexBuf(1), ULong, Flags(f::GETRANDOM_FLAGS, "GRND_???")], Dec),
    r(n::MEMFD_CREATE, &[Str, Flags(f::MFD_FLAGS, "MFD_???")], Dec),
    r(n::KEXEC_FILE_LOAD, &[Fd, Fd, ULong, Str, Hex], Dec),
    r(n::BPF, &[Int, Ptr, UInt], Dec),
    r(n::EXECVEAT, &[DirFd, Path, Argv, Envp, Flags(f::EXECVEAT_FLAGS, "AT_???")], Dec),
    r(n::USERFAULTFD, &[O_CLOEXEC], Dec),
    r(n::MEMBARRIER, &[Enum(f::MEMBARRIER_CMDS, "MEMBARRIER_CMD_???"), Hex, Int], Dec),
    r(n::MLOCK2, &[Ptr, ULong, Flags(f::MLOCK_FLAGS, "MLOCK_???")], Dec),
    r(n::COPY_FILE_RANGE, &[Fd, Ptr, Fd, Ptr, ULong, Hex], Dec),
    r(n::PREADV2, &[Fd, IovOut(2), Int, Long, Hex], Dec),
    r(n::PWRITEV2, &[Fd, IovIn(2), Int, Long, Hex], Dec),
    r(n::PKEY_MPROTECT, &[Ptr, ULong, Prot, Int], Dec),
    r(n::PKEY_ALLOC, &[Hex, Hex], Dec),
    r(n::PKEY_FREE, &[Int], Dec),
    r(n::STATX, &[DirFd, Path, StatxFlags, Flags(f::STATX_MASK, "STATX_???"), OutStatx], Dec),
    r(n::IO_PGETEVENTS, &[Hex, Long, Long, Ptr, InTimespec, Ptr], Dec),
    r(n::RSEQ, &[Ptr, Hex, Hex, Hex], Dec),
    r(n::URETPROBE, &[], Dec),
    r(n::PIDFD_SEND_SIGNAL, &[Fd, Signal, Ptr, Hex], Dec),
    r(n::IO_URING_SETUP, &[UInt, Ptr], Dec),
    r(n::IO_URING_ENTER, &[Fd, UInt, UInt, Hex, Ptr, ULong], Dec),
    r(n::IO_URING_REGISTER, &[Fd, UInt, Ptr, UInt], Dec),
    r(n::OPEN_TREE, &[DirFd, Path, Hex], Dec),
    r(n::MOVE_MOUNT, &[DirFd, Path, DirFd, Path, Hex], Dec),
    r(n::FSOPEN, &[Str, Hex], Dec),
    r(n::FSCONFIG, &[Fd, UInt, Str, Ptr, Int], Dec),
    r(n::FSMOUNT, &[Fd, Hex, Hex], Dec),
    r(n::FSPICK, &[DirFd, Path, Hex], Dec),
    r(n::PIDFD_OPEN, &[Int, Hex], Dec),
    r(n::CLONE3, &[Clone3(1), ULong], Dec),
    r(n::CLOSE_RANGE, &[Fd, UInt, Flags(f::CLOSE_RANGE_FLAGS, "CLOSE_RANGE_???")], Dec),
    r(n::OPENAT2, &[DirFd, Path, Ptr, ULong], Dec),
    r(n::PIDFD_GETFD, &[Fd, Fd, Hex], Dec),
    r(n::FACCESSAT2, &[DirFd, Path, AccessMode, Flags(f::FACCESSAT_FLAGS, "AT_???")], Dec),
    r(n::PROCESS_MADVISE, &[Fd, Ptr, ULong, Enum(f::MADVISE_ADVICE, "MADV_???"), Hex], Dec),
    r(n::EPOLL_PWAIT2, &[Fd, Ptr, Int, InTimespec, InSigset(5), ULong], Dec),
    r(n::MOUNT_SETATTR, &[DirFd, Path, Hex, Ptr, ULong], Dec),
    r(n::QUOTACTL_FD, &[Fd, Hex, Int, Ptr], Dec),
    r(n::LANDLOCK_CREATE_RULESET, &[Ptr, ULong, Hex], Dec),
    r(n::LANDLOCK_ADD_RULE, &[Fd, Int, Ptr, Hex], Dec),
    r(n::LANDLOCK_RESTRICT_SELF, &[Fd, Hex], Dec),
    r(n::MEMFD_SECRET, &[O_CLOEXEC], Dec),
    r(n::PROCESS_MRELEASE, &[Fd, Hex], Dec),
    r(n::FUTEX_WAITV, &[Ptr, UInt, Hex, InTimespec, CLOCK], Dec),
    r(n::SET_MEMPOLICY_HOME_NODE, &[Ptr, ULong, ULong, Hex], Dec),
    r(n::CACHESTAT, &[Fd, Ptr, Ptr, Hex], Dec),
    r(n::FCHMODAT2, &[DirFd, Path, Mode, AT_FLAGS], Dec),
    r(n::MAP_SHADOW_STACK, &[Ptr, ULong, Hex], Addr),
    r(n::FUTEX_WAKE, &[Ptr, Hex, Int, Hex], Dec),
    r(n::FUTEX_WAIT, &[Ptr, Hex, Hex, Hex, InTimespec, CLOCK], Dec),
    r(n::FUTEX_REQUEUE, &[Ptr, Hex, Int, Int], Dec),
    r(n::STATMOUNT, &[Ptr, Ptr, ULong, Hex], Dec),
    r(n::LISTMOUNT, &[Ptr, Ptr, ULong, Hex], Dec),
    r(n::LSM_GET_SELF_ATTR, &[UInt, Ptr, Ptr, Hex], Dec),
    r(n::LSM_SET_SELF_ATTR, &[UInt, Ptr, ULong, Hex], Dec),
    r(n::LSM_LIST_MODULES, &[Ptr, Ptr, Hex], Dec),
    r(n::MSEAL, &[Ptr, ULong, Hex], Dec),
    r(n::SETXATTRAT, &[DirFd, Path, AT_FLAGS, Str, Ptr, ULong], Dec),
    r(n::GETXATTRAT, &[DirFd, Path, AT_FLAGS, Str, Ptr, ULong], Dec),
    r(n::LISTXATTRAT, &[DirFd, Path, AT_FLAGS, Ptr, ULong], Dec),
    r(n::REMOVEXATTRAT, &[DirFd, Path, AT_FLAGS, Str], Dec),
    r(n::OPEN_TREE_ATTR, &[DirFd, Path, Hex, Ptr, ULong], Dec),
    r(n::FILE_GETATTR, &[DirFd, Path, Ptr, ULong, AT_FLAGS], Dec),
    r(n::FILE_SETATTR, &[DirFd, Path, Ptr, ULong, AT_FLAGS], Dec),
];

const NONE: u16 = u16::MAX;

const fn build_index() -> [u16; n::COUNT] {
    let mut idx = [NONE; n::COUNT];
    let mut i = 0;
    while i < ROWS.len() {
        idx[ROWS[i].nr] = i as u16;
        i += 1;
    }
    idx
}

static INDEX: [u16; n::COUNT] = build_index();

/// The row for syscall `nr`, if it is a Linux x86-64 syscall.
pub(crate) fn row(nr: u64) -> Option<&'static Row> {
    let i = *INDEX.get(usize::try_from(nr).ok()?)?;
    if i == NONE {
        None
    } else {
        ROWS.get(usize::from(i))
    }
}

#[cfg(test)]
pub(crate) fn all_rows() -> &'static [Row] {
    ROWS
}
