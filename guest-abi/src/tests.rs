extern crate std;
use crate::*;
use std::{format, string::String, vec::Vec};

fn same<T: PartialEq + core::fmt::Debug>(bad: &mut Vec<String>, ours: T, libc: T, name: &str) {
    if ours != libc {
        bad.push(format!("{name}: ours {ours:?}, libc {libc:?}"));
    }
}

macro_rules! check {
    ($bad:ident, $m:ident: $($n:ident),* $(,)?) => {$(
        same(&mut $bad, $m::$n, libc::$n as _, concat!(stringify!($m), "::", stringify!($n)));
    )*};
}

/// Every generated constant that libc also defines, compared at our type (the
/// list was produced from the modules; names libc lacks or defines differently
/// are checked in `constants_libc_lacks_or_differs`).
#[test]
fn constants_match_libc() {
    let mut bad = Vec::new();
    check!(bad, fcntl: O_RDONLY, O_WRONLY, O_RDWR, O_ACCMODE, O_CREAT, O_EXCL, O_NOCTTY, O_TRUNC, O_APPEND, O_NONBLOCK, O_NDELAY, O_DSYNC, O_ASYNC, O_DIRECT, O_DIRECTORY, O_NOFOLLOW, O_NOATIME, O_CLOEXEC, O_SYNC, O_PATH, O_TMPFILE, AT_FDCWD, AT_SYMLINK_NOFOLLOW, AT_REMOVEDIR, AT_EACCESS, AT_SYMLINK_FOLLOW, AT_NO_AUTOMOUNT, AT_EMPTY_PATH, AT_STATX_SYNC_TYPE, AT_STATX_SYNC_AS_STAT, AT_STATX_FORCE_SYNC, AT_STATX_DONT_SYNC, AT_RECURSIVE, STATX_TYPE, STATX_MODE, STATX_NLINK, STATX_UID, STATX_GID, STATX_ATIME, STATX_MTIME, STATX_CTIME, STATX_INO, STATX_SIZE, STATX_BLOCKS, STATX_BASIC_STATS, STATX_BTIME, STATX_MNT_ID, STATX_DIOALIGN, STATX_MNT_ID_UNIQUE, STATX_SUBVOL, STATX_WRITE_ATOMIC, STATX_DIO_READ_ALIGN, STATX_ATTR_COMPRESSED, STATX_ATTR_IMMUTABLE, STATX_ATTR_APPEND, STATX_ATTR_NODUMP, STATX_ATTR_ENCRYPTED, STATX_ATTR_AUTOMOUNT, STATX_ATTR_MOUNT_ROOT, STATX_ATTR_VERITY, STATX_ATTR_DAX, STATX_ATTR_WRITE_ATOMIC, F_DUPFD, F_GETFD, F_SETFD, F_GETFL, F_SETFL, F_GETLK, F_SETLK, F_SETLKW, F_SETOWN, F_GETOWN, F_OFD_GETLK, F_OFD_SETLK, F_OFD_SETLKW, F_SETLEASE, F_GETLEASE, F_NOTIFY, F_CANCELLK, F_DUPFD_CLOEXEC, F_SETPIPE_SZ, F_GETPIPE_SZ, F_ADD_SEALS, F_GET_SEALS, FD_CLOEXEC, F_RDLCK, F_WRLCK, F_UNLCK, F_SEAL_SEAL, F_SEAL_SHRINK, F_SEAL_GROW, F_SEAL_WRITE, F_SEAL_FUTURE_WRITE, F_SEAL_EXEC, SEEK_SET, SEEK_CUR, SEEK_END, SEEK_DATA, SEEK_HOLE, F_OK, X_OK, W_OK, R_OK, S_IFMT, S_IFSOCK, S_IFLNK, S_IFREG, S_IFBLK, S_IFDIR, S_IFCHR, S_IFIFO, S_ISUID, S_ISGID, S_ISVTX, S_IRWXU, S_IRUSR, S_IWUSR, S_IXUSR, S_IRWXG, S_IRGRP, S_IWGRP, S_IXGRP, S_IRWXO, S_IROTH, S_IWOTH, S_IXOTH, RENAME_NOREPLACE, RENAME_EXCHANGE, RENAME_WHITEOUT, UTIME_NOW, UTIME_OMIT, DT_UNKNOWN, DT_FIFO, DT_CHR, DT_DIR, DT_BLK, DT_REG, DT_LNK, DT_SOCK);
    check!(bad, mman: PROT_NONE, PROT_READ, PROT_WRITE, PROT_EXEC, PROT_GROWSDOWN, PROT_GROWSUP, MAP_SHARED, MAP_PRIVATE, MAP_SHARED_VALIDATE, MAP_DROPPABLE, MAP_TYPE, MAP_FILE, MAP_FIXED, MAP_ANONYMOUS, MAP_32BIT, MAP_GROWSDOWN, MAP_DENYWRITE, MAP_EXECUTABLE, MAP_LOCKED, MAP_NORESERVE, MAP_POPULATE, MAP_NONBLOCK, MAP_STACK, MAP_HUGETLB, MAP_SYNC, MAP_FIXED_NOREPLACE, MAP_HUGE_SHIFT, MAP_HUGE_MASK, MREMAP_MAYMOVE, MREMAP_FIXED, MREMAP_DONTUNMAP, MADV_NORMAL, MADV_RANDOM, MADV_SEQUENTIAL, MADV_WILLNEED, MADV_DONTNEED, MADV_FREE, MADV_REMOVE, MADV_DONTFORK, MADV_DOFORK, MADV_MERGEABLE, MADV_UNMERGEABLE, MADV_HUGEPAGE, MADV_NOHUGEPAGE, MADV_DONTDUMP, MADV_DODUMP, MADV_WIPEONFORK, MADV_KEEPONFORK, MADV_COLD, MADV_PAGEOUT, MADV_POPULATE_READ, MADV_POPULATE_WRITE, MADV_DONTNEED_LOCKED, MADV_COLLAPSE, MADV_HWPOISON, MADV_SOFT_OFFLINE, MS_ASYNC, MS_INVALIDATE, MS_SYNC, MCL_CURRENT, MCL_FUTURE, MCL_ONFAULT, MLOCK_ONFAULT, MFD_CLOEXEC, MFD_ALLOW_SEALING, MFD_HUGETLB, MFD_NOEXEC_SEAL, MFD_EXEC, MAP_FAILED);
    check!(bad, signal: SIGHUP, SIGINT, SIGQUIT, SIGILL, SIGTRAP, SIGABRT, SIGIOT, SIGBUS, SIGFPE, SIGKILL, SIGUSR1, SIGSEGV, SIGUSR2, SIGPIPE, SIGALRM, SIGTERM, SIGSTKFLT, SIGCHLD, SIGCONT, SIGSTOP, SIGTSTP, SIGTTIN, SIGTTOU, SIGURG, SIGXCPU, SIGXFSZ, SIGVTALRM, SIGPROF, SIGWINCH, SIGIO, SIGPOLL, SIGPWR, SIGSYS, SA_NOCLDSTOP, SA_NOCLDWAIT, SA_SIGINFO, SA_ONSTACK, SA_RESTART, SA_NODEFER, SIG_DFL, SIG_IGN, SIG_ERR, SIG_BLOCK, SIG_UNBLOCK, SIG_SETMASK, SS_ONSTACK, SS_DISABLE, MINSIGSTKSZ, SIGSTKSZ, SI_USER, SI_KERNEL, SI_QUEUE, SI_TIMER, SI_MESGQ, SI_ASYNCIO, SI_SIGIO, SI_TKILL, SI_DETHREAD, SI_ASYNCNL, BUS_ADRALN, BUS_ADRERR, BUS_OBJERR, BUS_MCEERR_AR, BUS_MCEERR_AO, TRAP_BRKPT, TRAP_TRACE, TRAP_BRANCH, TRAP_HWBKPT, TRAP_UNK, TRAP_PERF, CLD_EXITED, CLD_KILLED, CLD_DUMPED, CLD_TRAPPED, CLD_STOPPED, CLD_CONTINUED);
    check!(bad, auxv: AT_NULL, AT_IGNORE, AT_EXECFD, AT_PHDR, AT_PHENT, AT_PHNUM, AT_PAGESZ, AT_BASE, AT_FLAGS, AT_ENTRY, AT_NOTELF, AT_UID, AT_EUID, AT_GID, AT_EGID, AT_PLATFORM, AT_HWCAP, AT_CLKTCK, AT_SECURE, AT_BASE_PLATFORM, AT_RANDOM, AT_HWCAP2, AT_HWCAP3, AT_HWCAP4, AT_EXECFN, AT_SYSINFO_EHDR, AT_MINSIGSTKSZ);
    check!(bad, clock: CLOCK_REALTIME, CLOCK_MONOTONIC, CLOCK_PROCESS_CPUTIME_ID, CLOCK_THREAD_CPUTIME_ID, CLOCK_MONOTONIC_RAW, CLOCK_REALTIME_COARSE, CLOCK_MONOTONIC_COARSE, CLOCK_BOOTTIME, CLOCK_REALTIME_ALARM, CLOCK_BOOTTIME_ALARM, CLOCK_TAI, TIMER_ABSTIME, ITIMER_REAL, ITIMER_VIRTUAL, ITIMER_PROF);
    check!(bad, ioctl: TCGETS, TCSETS, TCSETSW, TCSETSF, TCSBRK, TCXONC, TCFLSH, TIOCEXCL, TIOCNXCL, TIOCSCTTY, TIOCGPGRP, TIOCSPGRP, TIOCOUTQ, TIOCSTI, TIOCGWINSZ, TIOCSWINSZ, TIOCINQ, TIOCNOTTY, TIOCGSID, TIOCGPTN, TIOCSPTLCK, TIOCGPTPEER, TIOCVHANGUP, FIONREAD, FIONBIO, FIONCLEX, FIOCLEX, FIOASYNC, FIOQSIZE, TCIFLUSH, TCOFLUSH, TCIOFLUSH, TCSANOW, TCSADRAIN, TCSAFLUSH, IGNBRK, BRKINT, IGNPAR, PARMRK, INPCK, ISTRIP, INLCR, IGNCR, ICRNL, IUCLC, IXON, IXANY, IXOFF, IMAXBEL, IUTF8, OPOST, OLCUC, ONLCR, OCRNL, ONOCR, ONLRET, CSIZE, CS5, CS6, CS7, CS8, CSTOPB, CREAD, PARENB, PARODD, HUPCL, CLOCAL, CBAUD, B38400, ISIG, ICANON, ECHO, ECHOE, ECHOK, ECHONL, NOFLSH, TOSTOP, ECHOCTL, ECHOPRT, ECHOKE, IEXTEN, VINTR, VQUIT, VERASE, VKILL, VEOF, VTIME, VMIN, VSWTC, VSTART, VSTOP, VSUSP, VEOL, VREPRINT, VDISCARD, VWERASE, VLNEXT, VEOL2);
    check!(bad, resource: RLIMIT_CPU, RLIMIT_FSIZE, RLIMIT_DATA, RLIMIT_STACK, RLIMIT_CORE, RLIMIT_RSS, RLIMIT_NPROC, RLIMIT_NOFILE, RLIMIT_MEMLOCK, RLIMIT_AS, RLIMIT_LOCKS, RLIMIT_SIGPENDING, RLIMIT_MSGQUEUE, RLIMIT_NICE, RLIMIT_RTPRIO, RLIMIT_RTTIME, RLIM_INFINITY, PRIO_PROCESS, PRIO_PGRP, PRIO_USER, RUSAGE_SELF, RUSAGE_CHILDREN, RUSAGE_THREAD);
    check!(bad, prctl: PR_SET_PDEATHSIG, PR_GET_PDEATHSIG, PR_GET_DUMPABLE, PR_SET_DUMPABLE, PR_GET_UNALIGN, PR_SET_UNALIGN, PR_GET_KEEPCAPS, PR_SET_KEEPCAPS, PR_GET_FPEMU, PR_SET_FPEMU, PR_GET_FPEXC, PR_SET_FPEXC, PR_GET_TIMING, PR_SET_TIMING, PR_SET_NAME, PR_GET_NAME, PR_GET_ENDIAN, PR_SET_ENDIAN, PR_GET_SECCOMP, PR_SET_SECCOMP, PR_CAPBSET_READ, PR_CAPBSET_DROP, PR_GET_TSC, PR_SET_TSC, PR_GET_SECUREBITS, PR_SET_SECUREBITS, PR_SET_TIMERSLACK, PR_GET_TIMERSLACK, PR_TASK_PERF_EVENTS_DISABLE, PR_TASK_PERF_EVENTS_ENABLE, PR_MCE_KILL, PR_MCE_KILL_GET, PR_SET_MM, PR_SET_PTRACER, PR_SET_CHILD_SUBREAPER, PR_GET_CHILD_SUBREAPER, PR_SET_NO_NEW_PRIVS, PR_GET_NO_NEW_PRIVS, PR_GET_TID_ADDRESS, PR_SET_THP_DISABLE, PR_GET_THP_DISABLE, PR_MPX_ENABLE_MANAGEMENT, PR_MPX_DISABLE_MANAGEMENT, PR_SET_FP_MODE, PR_GET_FP_MODE, PR_CAP_AMBIENT, PR_GET_SPECULATION_CTRL, PR_SET_SPECULATION_CTRL, PR_SCHED_CORE, PR_SET_MDWE, PR_GET_MDWE, PR_SET_MEMORY_MERGE, PR_GET_MEMORY_MERGE, PR_SET_VMA, PR_SET_VMA_ANON_NAME, PR_SET_PTRACER_ANY, PR_TSC_ENABLE, PR_TSC_SIGSEGV, PR_CAP_AMBIENT_IS_SET, PR_CAP_AMBIENT_RAISE, PR_CAP_AMBIENT_LOWER, PR_CAP_AMBIENT_CLEAR_ALL, PR_MCE_KILL_CLEAR, PR_MCE_KILL_SET, PR_MCE_KILL_LATE, PR_MCE_KILL_EARLY, PR_MCE_KILL_DEFAULT);
    check!(bad, futex: FUTEX_WAIT, FUTEX_WAKE, FUTEX_FD, FUTEX_REQUEUE, FUTEX_CMP_REQUEUE, FUTEX_WAKE_OP, FUTEX_LOCK_PI, FUTEX_UNLOCK_PI, FUTEX_TRYLOCK_PI, FUTEX_WAIT_BITSET, FUTEX_WAKE_BITSET, FUTEX_WAIT_REQUEUE_PI, FUTEX_CMP_REQUEUE_PI, FUTEX_LOCK_PI2, FUTEX_PRIVATE_FLAG, FUTEX_CLOCK_REALTIME, FUTEX_BITSET_MATCH_ANY, FUTEX_WAITERS, FUTEX_OWNER_DIED, FUTEX_TID_MASK, FUTEX_OP_SET, FUTEX_OP_ADD, FUTEX_OP_OR, FUTEX_OP_ANDN, FUTEX_OP_XOR, FUTEX_OP_OPARG_SHIFT, FUTEX_OP_CMP_EQ, FUTEX_OP_CMP_NE, FUTEX_OP_CMP_LT, FUTEX_OP_CMP_LE, FUTEX_OP_CMP_GT, FUTEX_OP_CMP_GE, FUTEX_WAITV_MAX);
    check!(bad, clone: CSIGNAL, CLONE_NEWTIME, CLONE_VM, CLONE_FS, CLONE_FILES, CLONE_SIGHAND, CLONE_PIDFD, CLONE_PTRACE, CLONE_VFORK, CLONE_PARENT, CLONE_THREAD, CLONE_NEWNS, CLONE_SYSVSEM, CLONE_SETTLS, CLONE_PARENT_SETTID, CLONE_CHILD_CLEARTID, CLONE_DETACHED, CLONE_UNTRACED, CLONE_CHILD_SETTID, CLONE_NEWCGROUP, CLONE_NEWUTS, CLONE_NEWIPC, CLONE_NEWUSER, CLONE_NEWPID, CLONE_NEWNET);
    check!(bad, wait: WNOHANG, WUNTRACED, WSTOPPED, WEXITED, WCONTINUED, WNOWAIT, __WNOTHREAD, __WALL, P_ALL, P_PID, P_PGID, P_PIDFD);
    check!(bad, poll: POLLIN, POLLPRI, POLLOUT, POLLERR, POLLHUP, POLLNVAL, POLLRDNORM, POLLRDBAND, POLLWRNORM, POLLWRBAND, POLLRDHUP);
    check!(bad, random: GRND_NONBLOCK, GRND_RANDOM, GRND_INSECURE);
    check!(bad, sched: SCHED_NORMAL, SCHED_FIFO, SCHED_RR, SCHED_BATCH, SCHED_IDLE, SCHED_DEADLINE, SCHED_RESET_ON_FORK, SCHED_FLAG_RESET_ON_FORK, SCHED_FLAG_RECLAIM, SCHED_FLAG_DL_OVERRUN, SCHED_FLAG_KEEP_POLICY, SCHED_FLAG_KEEP_PARAMS, SCHED_FLAG_KEEP_ALL, SCHED_FLAG_UTIL_CLAMP_MIN, SCHED_FLAG_UTIL_CLAMP_MAX, SCHED_FLAG_UTIL_CLAMP, SCHED_FLAG_ALL);
    check!(bad, socket: AF_UNSPEC, AF_UNIX, AF_INET, AF_INET6, AF_NETLINK, AF_LOCAL, SOCK_STREAM, SOCK_DGRAM, SOCK_RAW, SOCK_RDM, SOCK_SEQPACKET, SOCK_NONBLOCK, SOCK_CLOEXEC, SHUT_RD, SHUT_WR, SHUT_RDWR, SOL_SOCKET, SCM_RIGHTS);
    check!(bad, eventfd: EFD_SEMAPHORE, EFD_NONBLOCK, EFD_CLOEXEC);
    check!(bad, timerfd: TFD_NONBLOCK, TFD_CLOEXEC, TFD_TIMER_ABSTIME, TFD_TIMER_CANCEL_ON_SET);
    check!(bad, epoll: EPOLL_CLOEXEC, EPOLL_CTL_ADD, EPOLL_CTL_DEL, EPOLL_CTL_MOD, EPOLLIN, EPOLLPRI, EPOLLOUT, EPOLLERR, EPOLLHUP, EPOLLRDNORM, EPOLLRDBAND, EPOLLWRNORM, EPOLLWRBAND, EPOLLMSG, EPOLLRDHUP, EPOLLEXCLUSIVE, EPOLLWAKEUP, EPOLLONESHOT, EPOLLET);
    assert!(bad.is_empty(), "{bad:#?}");
}

/// Constants libc lacks (values from headers other than linux-raw-sys's, or
/// given by hand in the generator) and those where glibc's value or type
/// differs from the kernel's.
#[test]
fn constants_libc_lacks_or_differs() {
    // glibc defines O_LARGEFILE as 0 on 64-bit; the kernel's value is what
    // 32-bit-style callers may pass and what F_GETFL reports.
    assert_eq!(fcntl::O_LARGEFILE, 0o100000);
    // glibc's SIGRTMIN/SIGRTMAX are functions (it reserves some RT signals).
    assert_eq!(
        (signal::SIGRTMIN, signal::SIGRTMAX, signal::NSIG),
        (32, 64, 65)
    );
    // glibc/libc declare these as `int`, so bit 31 sign-extends; compare 32 bits.
    assert_eq!(signal::SA_RESETHAND as u32, libc::SA_RESETHAND as u32);
    assert_eq!(signal::SA_RESETHAND, 0x8000_0000);
    assert_eq!(clone::CLONE_IO as u32, libc::CLONE_IO as u32);
    assert_eq!(wait::__WCLONE as u32, libc::__WCLONE as u32);
    // The uapi header's ~(FUTEX_PRIVATE_FLAG | FUTEX_CLOCK_REALTIME); libc's
    // FUTEX_CMD_MASK also clears bits 9 and 10, the kernel's does not.
    assert_eq!(futex::FUTEX_CMD_MASK, 0xffff_fe7f);
    // libc truncates the 64-bit clone3-only flags to an int.
    assert_eq!(clone::CLONE_CLEAR_SIGHAND, 1 << 32);
    assert_eq!(clone::CLONE_INTO_CGROUP, 1 << 33);
    // The kernel termios has 19 control characters, glibc's 32.
    assert_eq!(ioctl::NCCS, 19);
    assert_eq!(
        ioctl::NCCS,
        core::mem::size_of_val(&structs::Termios::default().c_cc)
    );

    assert_eq!(prctl::ARCH_SET_GS, 0x1001);
    assert_eq!(prctl::ARCH_SET_FS, 0x1002);
    assert_eq!(prctl::ARCH_GET_FS, 0x1003);
    assert_eq!(prctl::ARCH_GET_GS, 0x1004);
    assert_eq!(prctl::ARCH_GET_CPUID, 0x1011);
    assert_eq!(prctl::ARCH_SET_CPUID, 0x1012);
    assert_eq!(fcntl::AT_FDCWD_U64, 0xffff_ffff_ffff_ff9c);
    assert_eq!(fcntl::AT_FDCWD_U64 as i32, fcntl::AT_FDCWD);
    assert_eq!(auxv::AT_RSEQ_FEATURE_SIZE, 27);
    assert_eq!(auxv::AT_RSEQ_ALIGN, 28);
    assert_eq!(auxv::AT_MINSIGSTKSZ, 51);
    assert_eq!(signal::SA_RESTORER, 0x0400_0000);
    assert_eq!(signal::SA_UNSUPPORTED, 0x400);
    assert_eq!(signal::SA_EXPOSE_TAGBITS, 0x800);
    assert_eq!(signal::SS_AUTODISARM as u32, 1 << 31);
    assert_eq!(signal::SIGSET_SIZE, core::mem::size_of::<u64>());
    assert_eq!(signal::SEGV_MAPERR, 1);
    assert_eq!(signal::SEGV_ACCERR, 2);
    assert_eq!(signal::SI_KERNEL, 0x80);
    assert_eq!(signal::SI_TKILL, -6);
    assert_eq!(mman::MAP_UNINITIALIZED, 0x0400_0000);
    assert_eq!(mman::MAP_FIXED_NOREPLACE, 0x10_0000);
    assert_eq!(rseq::RSEQ_FLAG_UNREGISTER, 1);
    assert_eq!(socket::SOCK_NONBLOCK, fcntl::O_NONBLOCK);
    assert_eq!(socket::SOCK_CLOEXEC, fcntl::O_CLOEXEC);
    assert_eq!(fcntl::DT_WHT, 14);
    assert_eq!(
        futex::FUTEX_WAIT_PRIVATE,
        futex::FUTEX_WAIT | futex::FUTEX_PRIVATE_FLAG
    );
    assert_eq!(
        futex::FUTEX_WAKE_PRIVATE,
        futex::FUTEX_WAKE | futex::FUTEX_PRIVATE_FLAG
    );
    assert_eq!(
        futex::futex_op(futex::FUTEX_OP_ADD, 1, futex::FUTEX_OP_CMP_GT, 0),
        (1 << 28) | (4 << 24) | (1 << 12)
    );
    assert_eq!(
        clone::CLONE_ARGS_SIZE_VER2,
        core::mem::size_of::<structs::CloneArgs>()
    );
    assert_eq!(
        sched::SCHED_ATTR_SIZE_VER1,
        core::mem::size_of::<structs::SchedAttr>()
    );
    assert_eq!(prctl::TASK_COMM_LEN, 16);
    assert_eq!(resource::RLIM_NLIMITS, 16);
}

#[test]
fn name_tables() {
    assert_eq!(Errno::ENOENT.name(), "ENOENT");
    assert_eq!(Errno::ENOENT.to_ret(), (-2i64) as u64);
    assert_eq!(sysno::name(0), Some("read"));
    assert_eq!(sysno::name(sysno::EXIT_GROUP as u64), Some("exit_group"));
    assert_eq!(signal::signal_name(signal::SIGSEGV), Some("SIGSEGV"));
    assert_eq!(signal::signal_name(6), Some("SIGABRT"));
    assert_eq!(signal::signal_name(29), Some("SIGIO"));
    assert_eq!(signal::signal_name(0), None);
    assert_eq!(signal::signal_name(signal::SIGRTMIN), None);
    for sig in 1..32 {
        assert!(signal::signal_name(sig).is_some(), "{sig}");
    }
    assert_eq!(auxv::auxv_name(auxv::AT_PAGESZ), Some("AT_PAGESZ"));
    assert_eq!(
        auxv::auxv_name(auxv::AT_SYSINFO_EHDR),
        Some("AT_SYSINFO_EHDR")
    );
    assert_eq!(auxv::auxv_name(1000), None);
}

#[test]
fn helpers() {
    use fcntl::*;
    assert!(s_isdir(S_IFDIR | 0o755) && !s_isreg(S_IFDIR));
    assert!(s_isreg(S_IFREG) && s_islnk(S_IFLNK) && s_ischr(S_IFCHR));
    assert!(s_isblk(S_IFBLK) && s_isfifo(S_IFIFO) && s_issock(S_IFSOCK));
    assert_eq!(iftodt(S_IFDIR | 0o700), DT_DIR);
    assert_eq!(iftodt(S_IFREG), DT_REG);
    assert_eq!(iftodt(S_IFLNK), DT_LNK);
    assert_eq!(signal::sigmask(1), 1);
    assert_eq!(signal::sigmask(64), 1 << 63);
    assert_eq!(signal::sigmask(0), 0);
    assert_eq!(signal::sigmask(65), 0);

    use wait::*;
    let st = w_exitcode(3);
    assert!(wifexited(st) && !wifsignaled(st) && !wifstopped(st) && wexitstatus(st) == 3);
    let st = w_termsig(signal::SIGKILL, true);
    assert!(wifsignaled(st) && !wifexited(st) && wtermsig(st) == 9 && wcoredump(st));
    let st = w_stopcode(signal::SIGSTOP);
    assert!(wifstopped(st) && !wifsignaled(st) && wstopsig(st) == signal::SIGSTOP);
    assert!(wifcontinued(W_CONTINUED) && !wifsignaled(W_CONTINUED));
    // Against libc's macros.
    for st in [
        w_exitcode(3),
        w_termsig(11, true),
        w_termsig(2, false),
        w_stopcode(19),
        W_CONTINUED,
    ] {
        assert_eq!(wifexited(st), libc::WIFEXITED(st), "{st:#x}");
        assert_eq!(wifsignaled(st), libc::WIFSIGNALED(st), "{st:#x}");
        assert_eq!(wifstopped(st), libc::WIFSTOPPED(st), "{st:#x}");
        assert_eq!(wifcontinued(st), libc::WIFCONTINUED(st), "{st:#x}");
        assert_eq!(wexitstatus(st), libc::WEXITSTATUS(st), "{st:#x}");
        assert_eq!(wtermsig(st) as i32, libc::WTERMSIG(st), "{st:#x}");
        assert_eq!(wstopsig(st) as i32, libc::WSTOPSIG(st), "{st:#x}");
        assert_eq!(wcoredump(st), libc::WCOREDUMP(st), "{st:#x}");
    }
    assert_eq!(w_exitcode(3), libc::W_EXITCODE(3, 0));
    assert_eq!(w_stopcode(19), libc::W_STOPCODE(19));

    use structs::Timespec;
    let t = Timespec::from_nanos(-1);
    assert_eq!((t.tv_sec, t.tv_nsec), (-1, 999_999_999));
    assert_eq!(t.as_nanos(), -1);
    assert!(t.is_valid());
    assert!(!Timespec {
        tv_sec: 0,
        tv_nsec: 1_000_000_000
    }
    .is_valid());
}

macro_rules! layout {
    ($ours:ty, $theirs:ty; $($f:ident),* $(,)?) => {
        assert_eq!(
            core::mem::size_of::<$ours>(),
            core::mem::size_of::<$theirs>(),
            concat!("size of ", stringify!($ours))
        );
        assert!(core::mem::align_of::<$ours>() >= core::mem::align_of::<$theirs>() || core::mem::align_of::<$ours>() == 8);
        $(
            assert_eq!(
                core::mem::offset_of!($ours, $f),
                core::mem::offset_of!($theirs, $f),
                concat!(stringify!($ours), "::", stringify!($f))
            );
        )*
    };
}

#[test]
fn struct_layouts_match_libc() {
    use core::mem::{offset_of, size_of};
    use structs::*;
    layout!(Stat, libc::stat; st_dev, st_ino, st_nlink, st_mode, st_uid, st_gid, st_rdev, st_size,
        st_blksize, st_blocks, st_atime, st_atime_nsec, st_mtime, st_mtime_nsec, st_ctime, st_ctime_nsec);
    layout!(StatxTimestamp, libc::statx_timestamp; tv_sec, tv_nsec);
    layout!(Statx, libc::statx; stx_mask, stx_blksize, stx_attributes, stx_nlink, stx_uid, stx_gid,
        stx_mode, stx_ino, stx_size, stx_blocks, stx_attributes_mask, stx_atime, stx_btime, stx_ctime,
        stx_mtime, stx_rdev_major, stx_rdev_minor, stx_dev_major, stx_dev_minor, stx_mnt_id,
        stx_dio_mem_align, stx_dio_offset_align, stx_subvol, stx_atomic_write_unit_min,
        stx_atomic_write_unit_max, stx_atomic_write_segments_max, stx_dio_read_offset_align,
        stx_atomic_write_unit_max_opt);
    layout!(Timespec, libc::timespec; tv_sec, tv_nsec);
    layout!(Timeval, libc::timeval; tv_sec, tv_usec);
    // libc::timezone is opaque; `Timezone`'s size is checked by `pod_struct!`.
    layout!(Itimerval, libc::itimerval; it_interval, it_value);
    layout!(Itimerspec, libc::itimerspec; it_interval, it_value);
    layout!(Utsname, libc::utsname; sysname, nodename, release, version, machine, domainname);
    layout!(Sysinfo, libc::sysinfo; uptime, loads, totalram, freeram, sharedram, bufferram, totalswap,
        freeswap, procs, pad, totalhigh, freehigh, mem_unit);
    layout!(Rlimit, libc::rlimit; rlim_cur, rlim_max);
    layout!(Iovec, libc::iovec; iov_base, iov_len);
    layout!(StackT, libc::stack_t; ss_sp, ss_flags, ss_size);
    layout!(Pollfd, libc::pollfd; fd, events, revents);
    layout!(Winsize, libc::winsize; ws_row, ws_col, ws_xpixel, ws_ypixel);
    layout!(Tms, libc::tms; tms_utime, tms_stime, tms_cutime, tms_cstime);
    layout!(Rusage, libc::rusage; ru_utime, ru_stime, ru_maxrss, ru_ixrss, ru_idrss, ru_isrss,
        ru_minflt, ru_majflt, ru_nswap, ru_inblock, ru_oublock, ru_msgsnd, ru_msgrcv, ru_nsignals,
        ru_nvcsw, ru_nivcsw);
    layout!(Siginfo, libc::siginfo_t; si_signo, si_errno, si_code);
    layout!(CloneArgs, libc::clone_args; flags, pidfd, child_tid, parent_tid, exit_signal, stack,
        stack_size, tls, set_tid, set_tid_size, cgroup);
    layout!(SchedParam, libc::sched_param; sched_priority);
    // libc's sched_attr is the 48-byte SCHED_ATTR_SIZE_VER0 (no util clamps).
    assert_eq!(size_of::<libc::sched_attr>(), sched::SCHED_ATTR_SIZE_VER0);
    for (ours, theirs) in [
        (
            offset_of!(SchedAttr, sched_flags),
            offset_of!(libc::sched_attr, sched_flags),
        ),
        (
            offset_of!(SchedAttr, sched_nice),
            offset_of!(libc::sched_attr, sched_nice),
        ),
        (
            offset_of!(SchedAttr, sched_priority),
            offset_of!(libc::sched_attr, sched_priority),
        ),
        (
            offset_of!(SchedAttr, sched_runtime),
            offset_of!(libc::sched_attr, sched_runtime),
        ),
        (
            offset_of!(SchedAttr, sched_deadline),
            offset_of!(libc::sched_attr, sched_deadline),
        ),
        (
            offset_of!(SchedAttr, sched_period),
            offset_of!(libc::sched_attr, sched_period),
        ),
    ] {
        assert_eq!(ours, theirs);
    }
    // The kernel termios is termios2 without the two speeds.
    assert_eq!(size_of::<Termios>() + 8, size_of::<libc::termios2>());
    assert_eq!(
        offset_of!(Termios, c_line),
        offset_of!(libc::termios2, c_line)
    );
    assert_eq!(offset_of!(Termios, c_cc), offset_of!(libc::termios2, c_cc));
    // epoll_event is packed on x86-64; libc names `data` `u64`.
    assert_eq!(size_of::<EpollEvent>(), size_of::<libc::epoll_event>());
    assert_eq!(
        offset_of!(EpollEvent, data),
        offset_of!(libc::epoll_event, u64)
    );
    // The dirent64 header.
    assert_eq!(
        LinuxDirent64::D_INO_OFFSET,
        offset_of!(libc::dirent64, d_ino)
    );
    assert_eq!(
        LinuxDirent64::D_OFF_OFFSET,
        offset_of!(libc::dirent64, d_off)
    );
    assert_eq!(
        LinuxDirent64::D_RECLEN_OFFSET,
        offset_of!(libc::dirent64, d_reclen)
    );
    assert_eq!(
        LinuxDirent64::D_TYPE_OFFSET,
        offset_of!(libc::dirent64, d_type)
    );
    assert_eq!(
        LinuxDirent64::D_NAME_OFFSET,
        offset_of!(libc::dirent64, d_name)
    );
}

/// Other kernel sizes libc has no (kernel-layout) type for.
#[test]
fn kernel_sizes() {
    use core::mem::size_of;
    use structs::*;
    assert_eq!(size_of::<KernelSigaction>(), 32);
    assert_eq!(size_of::<Termios>(), 36);
    assert_eq!(size_of::<RobustListHead>(), 24);
    assert_eq!(size_of::<Siginfo>(), 128);
    assert_eq!(core::mem::align_of::<Siginfo>(), 8);
}

#[test]
fn siginfo_accessors_match_libc() {
    use structs::Siginfo;
    let mut si = Siginfo::new(signal::SIGCHLD, 0, signal::CLD_EXITED);
    si.set_si_pid(1234);
    si.set_si_uid(1000);
    si.set_si_status(7);
    si.set_si_utime(11);
    si.set_si_stime(22);
    assert_eq!((si.si_pid(), si.si_uid(), si.si_status()), (1234, 1000, 7));
    // SAFETY: `Siginfo` and `libc::siginfo_t` are both 128 bytes (checked in
    // `struct_layouts_match_libc`) and `siginfo_t` is plain data.
    let theirs: libc::siginfo_t =
        unsafe { core::ptr::read_unaligned(si.as_bytes().as_ptr().cast()) };
    // SAFETY: the accessors read the SIGCHLD members, which we filled in.
    unsafe {
        assert_eq!(theirs.si_pid(), 1234);
        assert_eq!(theirs.si_uid(), 1000);
        assert_eq!(theirs.si_status(), 7);
        assert_eq!(theirs.si_utime(), 11);
        assert_eq!(theirs.si_stime(), 22);
    }
    assert_eq!(theirs.si_code, signal::CLD_EXITED);

    let mut si = Siginfo::new(signal::SIGSEGV, 0, signal::SEGV_MAPERR);
    si.set_si_addr(0xdead_beef);
    // SAFETY: as above.
    let theirs: libc::siginfo_t =
        unsafe { core::ptr::read_unaligned(si.as_bytes().as_ptr().cast()) };
    // SAFETY: reading the SIGSEGV member we filled in.
    assert_eq!(unsafe { theirs.si_addr() } as u64, 0xdead_beef);

    let mut si = Siginfo::new(signal::SIGRTMIN, 0, signal::SI_QUEUE);
    si.set_si_value(0x1234_5678_9abc);
    // SAFETY: as above.
    let theirs: libc::siginfo_t =
        unsafe { core::ptr::read_unaligned(si.as_bytes().as_ptr().cast()) };
    // SAFETY: reading the rt member we filled in.
    let value = unsafe { theirs.si_value() };
    assert_eq!(value.sival_ptr as u64, 0x1234_5678_9abc);
}

#[test]
fn pod_round_trips() {
    use structs::*;
    let st = Stat {
        st_dev: 1,
        st_ino: 2,
        st_nlink: 3,
        st_mode: fcntl::S_IFREG | 0o644,
        st_size: -5,
        st_mtime_nsec: 999,
        __unused: [7, 8, 9],
        ..Stat::default()
    };
    let bytes = st.as_bytes();
    assert_eq!(bytes.len(), 144);
    assert_eq!(&bytes[24..28], &st.st_mode.to_ne_bytes());
    assert_eq!(Stat::from_bytes(bytes), Some(st));
    // Unaligned and longer input.
    let mut buf = [0u8; 200];
    assert_eq!(st.write_to(&mut buf[3..]), Some(144));
    assert_eq!(Stat::from_bytes(&buf[3..]), Some(st));
    assert_eq!(Stat::from_bytes(&buf[..143]), None);
    assert_eq!(st.write_to(&mut buf[..100]), None);
    assert_eq!(Stat::zeroed(), Stat::default());

    let u = Utsname {
        sysname: Utsname::field(b"Linux"),
        ..Utsname::default()
    };
    assert_eq!(&u.sysname[..6], b"Linux\0");
    assert_eq!(Utsname::from_bytes(u.as_bytes()), Some(u));

    let ev = EpollEvent {
        events: epoll::EPOLLIN,
        data: 0x1122_3344_5566_7788,
    };
    assert_eq!(ev.as_bytes().len(), 12);
    assert_eq!(EpollEvent::from_bytes(ev.as_bytes()), Some(ev));

    let mut k = KernelSigaction::zeroed();
    k.as_bytes_mut()[8] = 4;
    assert_eq!(k.sa_flags, signal::SA_SIGINFO);

    let iov = [
        Iovec {
            iov_base: 1,
            iov_len: 2,
        },
        Iovec {
            iov_base: 3,
            iov_len: 4,
        },
    ];
    let b = pod::slice_as_bytes(&iov);
    assert_eq!(b.len(), 32);
    assert_eq!(<[Iovec; 2]>::from_bytes(b), Some(iov));
    assert_eq!(u32::from_bytes(&[1, 0, 0, 0, 9]), Some(1));
}

#[test]
fn dirent64_records() {
    use structs::LinuxDirent64 as D;
    assert_eq!(D::reclen(1), 24);
    assert_eq!(D::reclen(4), 24);
    assert_eq!(D::reclen(5), 32);
    let mut buf = [0xffu8; 64];
    let n = D::write(42, 7, fcntl::DT_REG, b"hello", &mut buf).expect("fits");
    assert_eq!(n, 32);
    let n2 = D::write(43, 8, fcntl::DT_DIR, b"..", &mut buf[n..]).expect("fits");
    assert_eq!(n2, 24);
    let (d, name) = D::parse(&buf).expect("parses");
    assert_eq!(
        (d.d_ino, d.d_off, d.d_reclen, d.d_type, name),
        (42, 7, 32, fcntl::DT_REG, &b"hello"[..])
    );
    let (d, name) = D::parse(&buf[n..]).expect("parses");
    assert_eq!(
        (d.d_ino, d.d_reclen, d.d_type, name),
        (43, 24, fcntl::DT_DIR, &b".."[..])
    );
    assert_eq!(D::parse(&buf[..20]), None);
    assert_eq!(D::write(1, 1, 0, b"hello", &mut [0u8; 31]), None);

    // Agrees with what the host kernel writes.
    let fd = std::fs::File::open("/").expect("open /");
    let mut raw = [0u8; 4096];
    // SAFETY: `raw` is a writable buffer of the length passed; the fd is open.
    let got = unsafe {
        libc::syscall(
            libc::SYS_getdents64,
            std::os::fd::AsRawFd::as_raw_fd(&fd),
            raw.as_mut_ptr(),
            raw.len(),
        )
    };
    assert!(got > 0);
    let mut off = 0;
    let mut saw_dot = false;
    while off < got as usize {
        let (d, name) = D::parse(&raw[off..got as usize]).expect("kernel record parses");
        assert_eq!(d.d_reclen as usize % D::ALIGN, 0);
        assert!(d.d_reclen as usize >= D::reclen(name.len()));
        saw_dot |= name == b"." && d.d_type == fcntl::DT_DIR;
        off += d.d_reclen as usize;
    }
    assert!(saw_dot);
}
