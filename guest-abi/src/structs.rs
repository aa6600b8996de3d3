//! `#[repr(C)]` structs exchanged with guests through memory, in the x86-64
//! *kernel* layout (which differs from glibc's for e.g. `sigaction`, `termios`
//! and `sigset_t`).
//!
//! Mirrors `arch/x86/include/uapi/asm/stat.h`, `include/uapi/linux/stat.h`,
//! `include/uapi/linux/time_types.h`, `include/uapi/linux/time.h`,
//! `include/uapi/linux/utsname.h`, `include/uapi/linux/sysinfo.h`,
//! `include/uapi/linux/resource.h`, `include/uapi/linux/uio.h`,
//! `arch/x86/include/uapi/asm/signal.h` (`sigaction`, `sigaltstack`),
//! `include/uapi/asm-generic/siginfo.h`, `include/uapi/asm-generic/poll.h`,
//! `include/uapi/asm-generic/termbits.h`, `include/uapi/linux/times.h`,
//! `include/linux/dirent.h`, `include/uapi/linux/sched.h` (`clone_args`),
//! `include/uapi/linux/futex.h`, `include/uapi/linux/sched/types.h` and
//! `include/uapi/linux/eventpoll.h`.
//!
//! Pointers are `u64` guest addresses. Every struct implements [`Pod`]; the
//! `pod_struct!` macro proves at compile time that none has padding and that
//! each has the kernel's size.

use crate::pod::{pod_struct, Pod};

pod_struct! {
    /// `struct stat` of x86-64 (`arch/x86/include/uapi/asm/stat.h`), filled by
    /// stat(2), fstat(2), lstat(2) and newfstatat(2). The kernel declares the
    /// time fields `unsigned long`; they are `i64` here (same layout) to match
    /// [`Timespec`].
    #[repr(C)]
    #[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
    pub struct Stat {
        pub st_dev: u64,
        pub st_ino: u64,
        pub st_nlink: u64,
        pub st_mode: u32,
        pub st_uid: u32,
        pub st_gid: u32,
        pub __pad0: u32,
        pub st_rdev: u64,
        pub st_size: i64,
        pub st_blksize: i64,
        pub st_blocks: i64,
        pub st_atime: i64,
        pub st_atime_nsec: i64,
        pub st_mtime: i64,
        pub st_mtime_nsec: i64,
        pub st_ctime: i64,
        pub st_ctime_nsec: i64,
        pub __unused: [i64; 3],
    } = 144;

    /// `struct statx_timestamp`.
    #[repr(C)]
    #[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
    pub struct StatxTimestamp {
        pub tv_sec: i64,
        pub tv_nsec: u32,
        pub __reserved: i32,
    } = 16;

    /// `struct statx` (statx(2)), as of Linux 6.16.
    #[repr(C)]
    #[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
    pub struct Statx {
        pub stx_mask: u32,
        pub stx_blksize: u32,
        pub stx_attributes: u64,
        pub stx_nlink: u32,
        pub stx_uid: u32,
        pub stx_gid: u32,
        pub stx_mode: u16,
        pub __spare0: [u16; 1],
        pub stx_ino: u64,
        pub stx_size: u64,
        pub stx_blocks: u64,
        pub stx_attributes_mask: u64,
        pub stx_atime: StatxTimestamp,
        pub stx_btime: StatxTimestamp,
        pub stx_ctime: StatxTimestamp,
        pub stx_mtime: StatxTimestamp,
        pub stx_rdev_major: u32,
        pub stx_rdev_minor: u32,
        pub stx_dev_major: u32,
        pub stx_dev_minor: u32,
        pub stx_mnt_id: u64,
        pub stx_dio_mem_align: u32,
        pub stx_dio_offset_align: u32,
        pub stx_subvol: u64,
        pub stx_atomic_write_unit_min: u32,
        pub stx_atomic_write_unit_max: u32,
        pub stx_atomic_write_segments_max: u32,
        pub stx_dio_read_offset_align: u32,
        pub stx_atomic_write_unit_max_opt: u32,
        pub __spare2: [u32; 1],
        pub __spare3: [u64; 8],
    } = 256;

    /// `struct __kernel_timespec` (= `struct timespec` on x86-64).
    #[repr(C)]
    #[derive(Clone, Copy, Debug, Default, PartialEq, Eq, PartialOrd, Ord, Hash)]
    pub struct Timespec {
        pub tv_sec: i64,
        pub tv_nsec: i64,
    } = 16;

    /// `struct timeval` (`__kernel_old_timeval`).
    #[repr(C)]
    #[derive(Clone, Copy, Debug, Default, PartialEq, Eq, PartialOrd, Ord, Hash)]
    pub struct Timeval {
        pub tv_sec: i64,
        pub tv_usec: i64,
    } = 16;

    /// `struct timezone` (gettimeofday(2)).
    #[repr(C)]
    #[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
    pub struct Timezone {
        pub tz_minuteswest: i32,
        pub tz_dsttime: i32,
    } = 8;

    /// `struct itimerval` (getitimer(2)/setitimer(2)).
    #[repr(C)]
    #[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
    pub struct Itimerval {
        pub it_interval: Timeval,
        pub it_value: Timeval,
    } = 32;

    /// `struct itimerspec` (`__kernel_itimerspec`; timer_settime(2), timerfd_settime(2)).
    #[repr(C)]
    #[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
    pub struct Itimerspec {
        pub it_interval: Timespec,
        pub it_value: Timespec,
    } = 32;

    /// `struct new_utsname` (uname(2)): NUL-terminated strings of at most 64 bytes.
    #[repr(C)]
    #[derive(Clone, Copy, Debug, PartialEq, Eq)]
    pub struct Utsname {
        pub sysname: [u8; 65],
        pub nodename: [u8; 65],
        pub release: [u8; 65],
        pub version: [u8; 65],
        pub machine: [u8; 65],
        pub domainname: [u8; 65],
    } = 390;

    /// `struct sysinfo` (sysinfo(2)) on x86-64. `__pad1` is the implicit padding
    /// after `pad` and `__pad2` the tail padding (the kernel's `_f` is empty on
    /// 64-bit), both made explicit.
    #[repr(C)]
    #[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
    pub struct Sysinfo {
        pub uptime: i64,
        pub loads: [u64; 3],
        pub totalram: u64,
        pub freeram: u64,
        pub sharedram: u64,
        pub bufferram: u64,
        pub totalswap: u64,
        pub freeswap: u64,
        pub procs: u16,
        pub pad: u16,
        pub __pad1: u32,
        pub totalhigh: u64,
        pub freehigh: u64,
        pub mem_unit: u32,
        pub __pad2: u32,
    } = 112;

    /// `struct rlimit64` (= `struct rlimit` on x86-64); [`RLIM_INFINITY`] means no limit.
    ///
    /// [`RLIM_INFINITY`]: crate::resource::RLIM_INFINITY
    #[repr(C)]
    #[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
    pub struct Rlimit {
        pub rlim_cur: u64,
        pub rlim_max: u64,
    } = 16;

    /// `struct iovec` (readv(2), writev(2), ...).
    #[repr(C)]
    #[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
    pub struct Iovec {
        pub iov_base: u64,
        pub iov_len: u64,
    } = 16;

    /// The kernel's `struct sigaction` for rt_sigaction(2) on x86-64 (not glibc's:
    /// the mask is last and is the kernel's 64-bit `sigset_t`). `sa_handler` is
    /// also `sa_sigaction` when `SA_SIGINFO` is set.
    #[repr(C)]
    #[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
    pub struct KernelSigaction {
        pub sa_handler: u64,
        pub sa_flags: u64,
        pub sa_restorer: u64,
        pub sa_mask: u64,
    } = 32;

    /// `stack_t` (`struct sigaltstack`), with the padding after `ss_flags` explicit.
    #[repr(C)]
    #[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
    pub struct StackT {
        pub ss_sp: u64,
        pub ss_flags: i32,
        pub __pad: i32,
        pub ss_size: u64,
    } = 24;

    /// `struct pollfd` (poll(2), ppoll(2)).
    #[repr(C)]
    #[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
    pub struct Pollfd {
        pub fd: i32,
        pub events: i16,
        pub revents: i16,
    } = 8;

    /// `struct winsize` (TIOCGWINSZ/TIOCSWINSZ).
    #[repr(C)]
    #[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
    pub struct Winsize {
        pub ws_row: u16,
        pub ws_col: u16,
        pub ws_xpixel: u16,
        pub ws_ypixel: u16,
    } = 8;

    /// The kernel's `struct termios` (TCGETS/TCSETS*): 19 control characters and
    /// no speed fields (glibc's is 60 bytes).
    #[repr(C)]
    #[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
    pub struct Termios {
        pub c_iflag: u32,
        pub c_oflag: u32,
        pub c_cflag: u32,
        pub c_lflag: u32,
        pub c_line: u8,
        pub c_cc: [u8; 19],
    } = 36;

    /// `struct tms` (times(2)), in clock ticks.
    #[repr(C)]
    #[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
    pub struct Tms {
        pub tms_utime: i64,
        pub tms_stime: i64,
        pub tms_cutime: i64,
        pub tms_cstime: i64,
    } = 32;

    /// `struct rusage` (getrusage(2), wait4(2)).
    #[repr(C)]
    #[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
    pub struct Rusage {
        pub ru_utime: Timeval,
        pub ru_stime: Timeval,
        pub ru_maxrss: i64,
        pub ru_ixrss: i64,
        pub ru_idrss: i64,
        pub ru_isrss: i64,
        pub ru_minflt: i64,
        pub ru_majflt: i64,
        pub ru_nswap: i64,
        pub ru_inblock: i64,
        pub ru_oublock: i64,
        pub ru_msgsnd: i64,
        pub ru_msgrcv: i64,
        pub ru_nsignals: i64,
        pub ru_nvcsw: i64,
        pub ru_nivcsw: i64,
    } = 144;

    /// `siginfo_t` (128 bytes): the common header, the 4 bytes of padding before
    /// the 8-aligned union, and the union `_sifields` as raw words. Use the
    /// accessors for the union members; which ones are meaningful depends on
    /// `si_signo` and `si_code`.
    #[repr(C)]
    #[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
    pub struct Siginfo {
        pub si_signo: i32,
        pub si_errno: i32,
        pub si_code: i32,
        pub __pad0: i32,
        pub _sifields: [u64; 14],
    } = 128;

    /// `struct clone_args` (clone3(2)), latest version (`CLONE_ARGS_SIZE_VER2`).
    #[repr(C)]
    #[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
    pub struct CloneArgs {
        pub flags: u64,
        pub pidfd: u64,
        pub child_tid: u64,
        pub parent_tid: u64,
        pub exit_signal: u64,
        pub stack: u64,
        pub stack_size: u64,
        pub tls: u64,
        pub set_tid: u64,
        pub set_tid_size: u64,
        pub cgroup: u64,
    } = 88;

    /// `struct robust_list`: a link in a guest's robust futex list.
    #[repr(C)]
    #[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
    pub struct RobustList {
        pub next: u64,
    } = 8;

    /// `struct robust_list_head` (set_robust_list(2)).
    #[repr(C)]
    #[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
    pub struct RobustListHead {
        pub list: RobustList,
        pub futex_offset: i64,
        pub list_op_pending: u64,
    } = 24;

    /// `struct sched_param` (sched_setparam(2), sched_setscheduler(2)).
    #[repr(C)]
    #[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
    pub struct SchedParam {
        pub sched_priority: i32,
    } = 4;

    /// `struct sched_attr` (sched_setattr(2)), `SCHED_ATTR_SIZE_VER1`.
    #[repr(C)]
    #[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
    pub struct SchedAttr {
        pub size: u32,
        pub sched_policy: u32,
        pub sched_flags: u64,
        pub sched_nice: i32,
        pub sched_priority: u32,
        pub sched_runtime: u64,
        pub sched_deadline: u64,
        pub sched_period: u64,
        pub sched_util_min: u32,
        pub sched_util_max: u32,
    } = 56;

    /// `struct epoll_event`, which is packed on x86-64 (12 bytes).
    #[repr(C, packed)]
    #[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
    pub struct EpollEvent {
        pub events: u32,
        pub data: u64,
    } = 12;
}

impl Default for Utsname {
    fn default() -> Self {
        Self::zeroed()
    }
}

impl Utsname {
    /// Copies `s` into a 65-byte field, truncating to 64 bytes and NUL-padding.
    pub fn field(s: &[u8]) -> [u8; 65] {
        let mut f = [0u8; 65];
        let n = s.len().min(64);
        f[..n].copy_from_slice(&s[..n]);
        f
    }
}

impl Timespec {
    /// A `Timespec` from nanoseconds (which may be negative).
    pub const fn from_nanos(ns: i128) -> Self {
        Self {
            tv_sec: ns.div_euclid(1_000_000_000) as i64,
            tv_nsec: ns.rem_euclid(1_000_000_000) as i64,
        }
    }

    /// The total in nanoseconds (no range check of `tv_nsec`).
    pub const fn as_nanos(&self) -> i128 {
        self.tv_sec as i128 * 1_000_000_000 + self.tv_nsec as i128
    }

    /// Whether `tv_nsec` is in `0..1_000_000_000`, as syscalls require (`EINVAL` otherwise).
    pub const fn is_valid(&self) -> bool {
        self.tv_nsec >= 0 && self.tv_nsec < 1_000_000_000
    }
}

impl Timeval {
    /// Whether `tv_usec` is in `0..1_000_000`.
    pub const fn is_valid(&self) -> bool {
        self.tv_usec >= 0 && self.tv_usec < 1_000_000
    }
}

/// Byte offsets into `siginfo_t` of the union members (x86-64).
impl Siginfo {
    /// Offset of the `_sifields` union.
    pub const FIELDS_OFFSET: usize = 16;

    fn get_u32(&self, off: usize) -> u32 {
        let b = self.as_bytes();
        u32::from_ne_bytes([b[off], b[off + 1], b[off + 2], b[off + 3]])
    }

    fn get_u64(&self, off: usize) -> u64 {
        let b = self.as_bytes();
        let mut w = [0u8; 8];
        w.copy_from_slice(&b[off..off + 8]);
        u64::from_ne_bytes(w)
    }

    fn set(&mut self, off: usize, v: &[u8]) {
        self.as_bytes_mut()[off..off + v.len()].copy_from_slice(v);
    }

    /// A siginfo with the header set and the union zeroed.
    pub fn new(si_signo: u32, si_errno: i32, si_code: i32) -> Self {
        Self {
            si_signo: si_signo as i32,
            si_errno,
            si_code,
            ..Self::default()
        }
    }

    /// `si_pid` (kill, rt, SIGCHLD): sender or child pid.
    pub fn si_pid(&self) -> i32 {
        self.get_u32(16) as i32
    }
    /// Sets `si_pid`.
    pub fn set_si_pid(&mut self, v: i32) {
        self.set(16, &v.to_ne_bytes());
    }
    /// `si_uid` (kill, rt, SIGCHLD): sender or child real uid.
    pub fn si_uid(&self) -> u32 {
        self.get_u32(20)
    }
    /// Sets `si_uid`.
    pub fn set_si_uid(&mut self, v: u32) {
        self.set(20, &v.to_ne_bytes());
    }
    /// `si_status` (SIGCHLD): exit code or signal.
    pub fn si_status(&self) -> i32 {
        self.get_u32(24) as i32
    }
    /// Sets `si_status`.
    pub fn set_si_status(&mut self, v: i32) {
        self.set(24, &v.to_ne_bytes());
    }
    /// `si_utime` (SIGCHLD), in clock ticks.
    pub fn si_utime(&self) -> i64 {
        self.get_u64(32) as i64
    }
    /// Sets `si_utime`.
    pub fn set_si_utime(&mut self, v: i64) {
        self.set(32, &v.to_ne_bytes());
    }
    /// `si_stime` (SIGCHLD), in clock ticks.
    pub fn si_stime(&self) -> i64 {
        self.get_u64(40) as i64
    }
    /// Sets `si_stime`.
    pub fn set_si_stime(&mut self, v: i64) {
        self.set(40, &v.to_ne_bytes());
    }
    /// `si_value` (rt signals, POSIX timers): the `sigval` as a raw word.
    pub fn si_value(&self) -> u64 {
        self.get_u64(24)
    }
    /// Sets `si_value`.
    pub fn set_si_value(&mut self, v: u64) {
        self.set(24, &v.to_ne_bytes());
    }
    /// `si_tid` (POSIX timers): the kernel timer id.
    pub fn si_tid(&self) -> i32 {
        self.get_u32(16) as i32
    }
    /// Sets `si_tid`.
    pub fn set_si_tid(&mut self, v: i32) {
        self.set(16, &v.to_ne_bytes());
    }
    /// `si_overrun` (POSIX timers).
    pub fn si_overrun(&self) -> i32 {
        self.get_u32(20) as i32
    }
    /// Sets `si_overrun`.
    pub fn set_si_overrun(&mut self, v: i32) {
        self.set(20, &v.to_ne_bytes());
    }
    /// `si_addr` (SIGSEGV, SIGBUS, SIGILL, SIGFPE, SIGTRAP): the faulting address.
    pub fn si_addr(&self) -> u64 {
        self.get_u64(16)
    }
    /// Sets `si_addr`.
    pub fn set_si_addr(&mut self, v: u64) {
        self.set(16, &v.to_ne_bytes());
    }
    /// `si_trapno` (some SIGTRAP/SIGILL/SIGFPE).
    pub fn si_trapno(&self) -> i32 {
        self.get_u32(24) as i32
    }
    /// `si_addr_lsb` (SIGBUS `BUS_MCEERR_*`).
    pub fn si_addr_lsb(&self) -> i16 {
        let b = self.as_bytes();
        i16::from_ne_bytes([b[24], b[25]])
    }
    /// `si_pkey` (SIGSEGV `SEGV_PKUERR`).
    pub fn si_pkey(&self) -> u32 {
        self.get_u32(32)
    }
    /// Sets `si_pkey`.
    pub fn set_si_pkey(&mut self, v: u32) {
        self.set(32, &v.to_ne_bytes());
    }
    /// `si_band` (SIGPOLL).
    pub fn si_band(&self) -> i64 {
        self.get_u64(16) as i64
    }
    /// Sets `si_band`.
    pub fn set_si_band(&mut self, v: i64) {
        self.set(16, &v.to_ne_bytes());
    }
    /// `si_fd` (SIGPOLL).
    pub fn si_fd(&self) -> i32 {
        self.get_u32(24) as i32
    }
    /// Sets `si_fd`.
    pub fn set_si_fd(&mut self, v: i32) {
        self.set(24, &v.to_ne_bytes());
    }
    /// `si_call_addr` (SIGSYS): the address of the syscall instruction.
    pub fn si_call_addr(&self) -> u64 {
        self.get_u64(16)
    }
    /// Sets `si_call_addr`.
    pub fn set_si_call_addr(&mut self, v: u64) {
        self.set(16, &v.to_ne_bytes());
    }
    /// `si_syscall` (SIGSYS): the syscall number.
    pub fn si_syscall(&self) -> i32 {
        self.get_u32(24) as i32
    }
    /// Sets `si_syscall`.
    pub fn set_si_syscall(&mut self, v: i32) {
        self.set(24, &v.to_ne_bytes());
    }
    /// `si_arch` (SIGSYS): the `AUDIT_ARCH_*` value.
    pub fn si_arch(&self) -> u32 {
        self.get_u32(28)
    }
    /// Sets `si_arch`.
    pub fn set_si_arch(&mut self, v: u32) {
        self.set(28, &v.to_ne_bytes());
    }
}

/// The fixed header of `struct linux_dirent64` (getdents64(2)). Records are
/// variable-length: the header is followed by the NUL-terminated name and
/// padding up to `d_reclen`, a multiple of 8. This struct has tail padding and
/// is therefore not [`Pod`]; use [`LinuxDirent64::write`] and
/// [`LinuxDirent64::parse`] to convert to and from bytes.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct LinuxDirent64 {
    pub d_ino: u64,
    pub d_off: i64,
    pub d_reclen: u16,
    pub d_type: u8,
}

impl LinuxDirent64 {
    /// Offset of `d_ino`.
    pub const D_INO_OFFSET: usize = 0;
    /// Offset of `d_off`.
    pub const D_OFF_OFFSET: usize = 8;
    /// Offset of `d_reclen`.
    pub const D_RECLEN_OFFSET: usize = 16;
    /// Offset of `d_type`.
    pub const D_TYPE_OFFSET: usize = 18;
    /// Offset of `d_name`, i.e. the header size.
    pub const D_NAME_OFFSET: usize = 19;
    /// Record alignment (`d_reclen` is a multiple of this).
    pub const ALIGN: usize = 8;

    /// The `d_reclen` of a record for a name of `name_len` bytes (without NUL).
    pub const fn reclen(name_len: usize) -> usize {
        (Self::D_NAME_OFFSET + name_len + 1 + Self::ALIGN - 1) & !(Self::ALIGN - 1)
    }

    /// Writes a complete record (header, `name`, NUL, zero padding) at the
    /// start of `out`, setting `d_reclen` from the name. Returns the record
    /// length, or `None` if `out` is too small or the record would not fit in
    /// `d_reclen`'s 16 bits.
    pub fn write(d_ino: u64, d_off: i64, d_type: u8, name: &[u8], out: &mut [u8]) -> Option<usize> {
        let len = Self::reclen(name.len());
        let reclen = u16::try_from(len).ok()?;
        let rec = out.get_mut(..len)?;
        rec[Self::D_INO_OFFSET..Self::D_OFF_OFFSET].copy_from_slice(&d_ino.to_ne_bytes());
        rec[Self::D_OFF_OFFSET..Self::D_RECLEN_OFFSET].copy_from_slice(&d_off.to_ne_bytes());
        rec[Self::D_RECLEN_OFFSET..Self::D_TYPE_OFFSET].copy_from_slice(&reclen.to_ne_bytes());
        rec[Self::D_TYPE_OFFSET] = d_type;
        let name_end = Self::D_NAME_OFFSET + name.len();
        rec[Self::D_NAME_OFFSET..name_end].copy_from_slice(name);
        rec[name_end..].fill(0);
        Some(len)
    }

    /// Parses the record at the start of `buf`: the header and the name
    /// (without its NUL). `None` if the record is truncated or malformed.
    pub fn parse(buf: &[u8]) -> Option<(Self, &[u8])> {
        let hdr = buf.get(..Self::D_NAME_OFFSET)?;
        let d_ino = u64::from_bytes(&hdr[Self::D_INO_OFFSET..])?;
        let d_off = i64::from_bytes(&hdr[Self::D_OFF_OFFSET..])?;
        let d_reclen = u16::from_bytes(&hdr[Self::D_RECLEN_OFFSET..])?;
        let d_type = hdr[Self::D_TYPE_OFFSET];
        let rec = buf.get(..usize::from(d_reclen))?;
        let name_area = rec.get(Self::D_NAME_OFFSET..)?;
        let name_len = name_area.iter().position(|&c| c == 0)?;
        let dirent = Self {
            d_ino,
            d_off,
            d_reclen,
            d_type,
        };
        Some((dirent, &name_area[..name_len]))
    }
}
