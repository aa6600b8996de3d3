//! Lines captured from the real strace (6.1) on x86-64, compared after
//! masking addresses (hex numbers of 7 or more digits become `X`s of the
//! same length, so the ` = ` column is still checked).

use super::tests::{ev, text, Mem, R};
use guest_abi::sysno as n;

fn mask(s: &str) -> String {
    let b = s.as_bytes();
    let mut out = String::with_capacity(s.len());
    let mut i = 0;
    while i < b.len() {
        if b[i..].starts_with(b"0x") {
            let len = b[i + 2..]
                .iter()
                .take_while(|c| c.is_ascii_hexdigit())
                .count();
            if len >= 7 {
                out.push_str("0x");
                out.push_str(&"X".repeat(len));
                i += 2 + len;
                continue;
            }
        }
        out.push(char::from(b[i]));
        i += 1;
    }
    out
}

#[track_caller]
fn check(m: &Mem, e: super::SyscallEvent, strace: &str) {
    assert_eq!(mask(&text(m, &e)), mask(strace));
}

const AT_FDCWD: u64 = -100i64 as u64;
const NEG1: u64 = u64::MAX;

/// A `struct stat` with the fields strace shows.
fn stat_buf(mode: u32, size: u64, rdev: u64) -> Vec<u8> {
    let mut b = vec![0u8; 144];
    b[24..28].copy_from_slice(&mode.to_le_bytes());
    b[40..48].copy_from_slice(&rdev.to_le_bytes());
    b[48..56].copy_from_slice(&size.to_le_bytes());
    b
}

fn sigaction_buf(handler: u64, flags: u64, restorer: u64, mask: u64) -> Vec<u8> {
    [handler, flags, restorer, mask]
        .iter()
        .flat_map(|x| x.to_le_bytes())
        .collect()
}

#[test]
fn dynamic_loader_startup() {
    let mut m = Mem::new();
    let cache = m.str("/etc/ld.so.cache");
    check(
        &m,
        ev(n::OPENAT, &[AT_FDCWD, cache, 0o2000000], R::Ok(3)),
        r#"openat(AT_FDCWD, "/etc/ld.so.cache", O_RDONLY|O_CLOEXEC) = 3"#,
    );
    let empty = m.str("");
    let st = m.bytes(&stat_buf(0o100644, 33699, 0));
    check(
        &m,
        ev(n::NEWFSTATAT, &[3, empty, st, 0x1000], R::Ok(0)),
        r#"newfstatat(3, "", {st_mode=S_IFREG|0644, st_size=33699, ...}, AT_EMPTY_PATH) = 0"#,
    );
    let mut elf = vec![
        0x7f, 0x45, 0x4c, 0x46, 0x02, 0x01, 0x01, 0x03, 0, 0, 0, 0, 0, 0, 0, 0, 0x03, 0x00, 0x3e,
        0x00, 0x01, 0, 0, 0, 0x10, 0x74, 0x02, 0, 0, 0, 0, 0,
    ];
    elf.resize(832, 0);
    let buf = m.bytes(&elf);
    check(
        &m,
        ev(n::READ, &[3, buf, 832], R::Ok(832)),
        r#"read(3, "\177ELF\2\1\1\3\0\0\0\0\0\0\0\0\3\0>\0\1\0\0\0\20t\2\0\0\0\0\0"..., 832) = 832"#,
    );
    check(
        &m,
        ev(n::MMAP, &[0x7fef_c838_4000, 1400832, 5, 0x812, 3, 0x26000], R::Ok(0x7fef_c838_4000)),
        "mmap(0x7fefc8384000, 1400832, PROT_READ|PROT_EXEC, MAP_PRIVATE|MAP_FIXED|MAP_DENYWRITE, 3, 0x26000) = 0x7fefc8384000",
    );
    check(
        &m,
        ev(
            n::MMAP,
            &[0, 8192, 3, 0x22, NEG1, 0],
            R::Ok(0x7fe1_62a1_8000),
        ),
        "mmap(NULL, 8192, PROT_READ|PROT_WRITE, MAP_PRIVATE|MAP_ANONYMOUS, -1, 0) = 0x7fe162a18000",
    );
    let preload = m.str("/etc/ld.so.preload");
    check(
        &m,
        ev(n::ACCESS, &[preload, 4], R::Err(2)),
        r#"access("/etc/ld.so.preload", R_OK)      = -1 ENOENT (No such file or directory)"#,
    );
    check(
        &m,
        ev(n::BRK, &[0], R::Ok(0x55dc_7896_2000)),
        "brk(NULL)                               = 0x55dc78962000",
    );
    check(
        &m,
        ev(n::ARCH_PRCTL, &[0x1002, 0x7fef_c835_b740], R::Ok(0)),
        "arch_prctl(ARCH_SET_FS, 0x7fefc835b740) = 0",
    );
    check(
        &m,
        ev(n::SET_TID_ADDRESS, &[0x7fef_c835_ba10], R::Ok(5038)),
        "set_tid_address(0x7fefc835ba10)         = 5038",
    );
    check(
        &m,
        ev(n::SET_ROBUST_LIST, &[0x7fef_c835_ba20, 24], R::Ok(0)),
        "set_robust_list(0x7fefc835ba20, 24)     = 0",
    );
    check(
        &m,
        ev(n::RSEQ, &[0x7fef_c835_c060, 0x20, 0, 0x5305_3053], R::Ok(0)),
        "rseq(0x7fefc835c060, 0x20, 0, 0x53053053) = 0",
    );
    check(
        &m,
        ev(n::MPROTECT, &[0x7fef_c852_d000, 16384, 1], R::Ok(0)),
        "mprotect(0x7fefc852d000, 16384, PROT_READ) = 0",
    );
    let rl = m.u64s(&[8192 * 1024, u64::MAX]);
    check(
        &m,
        ev(n::PRLIMIT64, &[0, 3, 0, rl], R::Ok(0)),
        "prlimit64(0, RLIMIT_STACK, NULL, {rlim_cur=8192*1024, rlim_max=RLIM64_INFINITY}) = 0",
    );
    check(
        &m,
        ev(n::MUNMAP, &[0x7fef_c854_0000, 33699], R::Ok(0)),
        "munmap(0x7fefc8540000, 33699)           = 0",
    );
    check(
        &m,
        ev(n::EXIT_GROUP, &[7], R::NoRet),
        "exit_group(7)                           = ?",
    );
}

#[test]
fn execve_argv_and_envp() {
    let mut m = Mem::new();
    let path = m.str("./prog2");
    let x = m.str("x");
    let long = m.str("a very long argument that is longer than thirty two chars");
    let argv = m.u64s(&[path, x, long, 0]);
    let mut env = vec![x; 35];
    env.push(0);
    let envp = m.u64s(&env);
    check(
        &m,
        ev(n::EXECVE, &[path, argv, envp], R::Ok(0)),
        r#"execve("./prog2", ["./prog2", "x", "a very long argument that is lon"...], 0x7ffe27debe98 /* 35 vars */) = 0"#,
    );
}

#[test]
fn file_io() {
    let mut m = Mem::new();
    let data = m.str("/tmp/stw/data.txt");
    check(
        &m,
        ev(n::OPENAT, &[AT_FDCWD, data, 0o2001101, 0o644], R::Ok(3)),
        r#"openat(AT_FDCWD, "/tmp/stw/data.txt", O_WRONLY|O_CREAT|O_TRUNC|O_CLOEXEC, 0644) = 3"#,
    );
    let s = m.bytes(b"hello\n\t\"quoted\" back\\slash \x01\x7f\xff end");
    check(
        &m,
        ev(n::WRITE, &[3, s, 38], R::Ok(38)),
        r#"write(3, "hello\n\t\"quoted\" back\\slash \1\177\377 e"..., 38) = 38"#,
    );
    let s = m.bytes(b"0123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJ");
    check(
        &m,
        ev(n::WRITE, &[3, s, 46], R::Ok(46)),
        r#"write(3, "0123456789abcdefghijklmnopqrstuv"..., 46) = 46"#,
    );
    check(
        &m,
        ev(n::WRITE, &[3, s, 32], R::Ok(32)),
        r#"write(3, "0123456789abcdefghijklmnopqrstuv", 32) = 32"#,
    );
    let s = m.bytes(b"\x011\x022\n");
    check(
        &m,
        ev(n::WRITE, &[3, s, 5], R::Ok(5)),
        r#"write(3, "\0011\0022\n", 5)             = 5"#,
    );
    check(
        &m,
        ev(n::WRITE, &[3, 0, 0], R::Ok(0)),
        "write(3, NULL, 0)                       = 0",
    );
    check(
        &m,
        ev(n::WRITE, &[3, 1, 10], R::Err(14)),
        "write(3, 0x1, 10)                       = -1 EFAULT (Bad address)",
    );
    check(
        &m,
        ev(n::OPENAT, &[AT_FDCWD, data, 0o204000], R::Err(20)),
        r#"openat(AT_FDCWD, "/tmp/stw/data.txt", O_RDONLY|O_NONBLOCK|O_DIRECTORY) = -1 ENOTDIR (Not a directory)"#,
    );
    check(
        &m,
        ev(n::OPENAT, &[AT_FDCWD, data, 0o20002002, 0], R::Err(22)),
        r#"openat(AT_FDCWD, "/tmp/stw/data.txt", O_RDWR|O_APPEND|__O_TMPFILE, 000) = -1 EINVAL (Invalid argument)"#,
    );
    let b = m.bytes(b"hello\n\t\"qu");
    check(
        &m,
        ev(n::READ, &[3, b, 10], R::Ok(10)),
        r#"read(3, "hello\n\t\"qu", 10)            = 10"#,
    );
    let mut bytes = b"oted\" back\\slash \x01\x7f\xff end\0\0\0\x000123".to_vec();
    bytes.resize(111, b'z');
    let b = m.bytes(&bytes);
    check(
        &m,
        ev(n::READ, &[3, b, 200], R::Ok(111)),
        r#"read(3, "oted\" back\\slash \1\177\377 end\0\0\0\0000123"..., 200) = 111"#,
    );
    check(
        &m,
        ev(n::READ, &[99, 0x7ffe_bedd_fdd0, 10], R::Err(9)),
        "read(99, 0x7ffebeddfdd0, 10)            = -1 EBADF (Bad file descriptor)",
    );
    let b = m.bytes(b"llo\n\t");
    check(
        &m,
        ev(n::PREAD64, &[3, b, 5, 2], R::Ok(5)),
        r#"pread64(3, "llo\n\t", 5, 2)             = 5"#,
    );
    check(
        &m,
        ev(n::LSEEK, &[3, NEG1, 2], R::Ok(120)),
        "lseek(3, -1, SEEK_END)                  = 120",
    );
    check(
        &m,
        ev(n::LSEEK, &[0, 0, 7], R::Err(22)),
        "lseek(0, 0, 0x7 /* SEEK_??? */)         = -1 EINVAL (Invalid argument)",
    );
    let b = m.bytes(b"\n\0\0\0\0\0\0");
    let iov = m.u64s(&[b, 3, b + 3, 4]);
    check(
        &m,
        ev(n::READV, &[3, iov, 2], R::Ok(1)),
        r#"readv(3, [{iov_base="\n", iov_len=3}, {iov_base="", iov_len=4}], 2) = 1"#,
    );
    let h = m.bytes(b"hello");
    let w = m.bytes(b" world\n");
    let iov = m.u64s(&[h, 5, w, 7]);
    check(
        &m,
        ev(n::WRITEV, &[4, iov, 2], R::Ok(12)),
        r#"writev(4, [{iov_base="hello", iov_len=5}, {iov_base=" world\n", iov_len=7}], 2) = 12"#,
    );
    let cwd = m.str("/tmp/stw");
    check(
        &m,
        ev(n::GETCWD, &[cwd, 256], R::Ok(9)),
        r#"getcwd("/tmp/stw", 256)                 = 9"#,
    );
    let exe = m.str("/proc/self/exe");
    let link = m.bytes(b"/tmp/stw/progXXXXXX");
    check(
        &m,
        ev(n::READLINK, &[exe, link, 256], R::Ok(13)),
        r#"readlink("/proc/self/exe", "/tmp/stw/prog", 256) = 13"#,
    );
    let ne = m.str("/nonexistent");
    check(
        &m,
        ev(
            n::READLINKAT,
            &[AT_FDCWD, ne, 0x7ffe_bedd_fdd0, 256],
            R::Err(2),
        ),
        r#"readlinkat(AT_FDCWD, "/nonexistent", 0x7ffebeddfdd0, 256) = -1 ENOENT (No such file or directory)"#,
    );
    let mut dents = vec![0u8; 256];
    let mut off = 0;
    for len in [24u16, 24, 24, 32, 32, 32, 32] {
        dents[off + 16..off + 18].copy_from_slice(&len.to_le_bytes());
        off += usize::from(len);
    }
    let d = m.bytes(&dents);
    check(
        &m,
        ev(n::GETDENTS64, &[6, d, 256], R::Ok(200)),
        "getdents64(6, 0x7ffebeddfdd0 /* 7 entries */, 256) = 200",
    );
}

#[test]
fn stat_family() {
    let mut m = Mem::new();
    let null = m.str("/dev/null");
    let st = m.bytes(&stat_buf(0o20666, 0, 0x103));
    check(
        &m,
        ev(n::NEWFSTATAT, &[AT_FDCWD, null, st, 0x100], R::Ok(0)),
        r#"newfstatat(AT_FDCWD, "/dev/null", {st_mode=S_IFCHR|0666, st_rdev=makedev(0x1, 0x3), ...}, AT_SYMLINK_NOFOLLOW) = 0"#,
    );
    check(
        &m,
        ev(n::FSTAT, &[0, st], R::Ok(0)),
        "fstat(0, {st_mode=S_IFCHR|0666, st_rdev=makedev(0x1, 0x3), ...}) = 0",
    );
    let empty = m.str("");
    check(
        &m,
        ev(
            n::NEWFSTATAT,
            &[1234, empty, 0x7ffe_bedd_fd20, 0x1000],
            R::Err(9),
        ),
        r#"newfstatat(1234, "", 0x7ffebeddfd20, AT_EMPTY_PATH) = -1 EBADF (Bad file descriptor)"#,
    );
    let long = m.str("/tmp/stw/abcdefghijklmnopqrstuvwxyz012");
    check(
        &m,
        ev(n::LSTAT, &[long, 0x7fff_a9c3_9d40], R::Err(2)),
        r#"lstat("/tmp/stw/abcdefghijklmnopqrstuvwxyz012", 0x7fffa9c39d40) = -1 ENOENT (No such file or directory)"#,
    );
    let passwd = m.str("/etc/passwd");
    let mut stx = vec![0u8; 256];
    stx[0..4].copy_from_slice(&0x1fffu32.to_le_bytes());
    stx[28..30].copy_from_slice(&0o100644u16.to_le_bytes());
    stx[40..48].copy_from_slice(&1221u64.to_le_bytes());
    let stx = m.bytes(&stx);
    check(
        &m,
        ev(n::STATX, &[AT_FDCWD, passwd, 0, 0xfff, stx], R::Ok(0)),
        r#"statx(AT_FDCWD, "/etc/passwd", AT_STATX_SYNC_AS_STAT, STATX_ALL, {stx_mask=STATX_ALL|STATX_MNT_ID, stx_attributes=0, stx_mode=S_IFREG|0644, stx_size=1221, ...}) = 0"#,
    );
    check(
        &m,
        ev(n::ACCESS, &[passwd, 5], R::Err(13)),
        r#"access("/etc/passwd", R_OK|X_OK)        = -1 EACCES (Permission denied)"#,
    );
    let root = m.str("/");
    check(
        &m,
        ev(n::ACCESS, &[root, 0x14], R::Err(22)),
        r#"access("/", R_OK|0x10)                  = -1 EINVAL (Invalid argument)"#,
    );
    check(
        &m,
        ev(n::FACCESSAT2, &[AT_FDCWD, passwd, 2, 0x200], R::Ok(0)),
        r#"faccessat2(AT_FDCWD, "/etc/passwd", W_OK, AT_EACCESS) = 0"#,
    );
    check(
        &m,
        ev(n::NEWFSTATAT, &[AT_FDCWD, root, 0, 0x8e00], R::Err(22)),
        r#"newfstatat(AT_FDCWD, "/", NULL, AT_REMOVEDIR|AT_SYMLINK_FOLLOW|AT_NO_AUTOMOUNT|AT_RECURSIVE) = -1 EINVAL (Invalid argument)"#,
    );
}

#[test]
fn open_flags_and_paths() {
    let mut m = Mem::new();
    let p32 = m.str("/tmp/stw/abcdefghijklmnopqrstuvw");
    check(
        &m,
        ev(n::OPEN, &[p32, 0], R::Err(2)),
        r#"open("/tmp/stw/abcdefghijklmnopqrstuvw", O_RDONLY) = -1 ENOENT (No such file or directory)"#,
    );
    check(
        &m,
        ev(n::OPEN, &[1, 0], R::Err(14)),
        "open(0x1, O_RDONLY)                     = -1 EFAULT (Bad address)",
    );
    let x = m.str("/tmp/x");
    check(
        &m,
        ev(n::OPEN, &[x, 0x1000_0000], R::Ok(3)),
        r#"open("/tmp/x", O_RDONLY|0x10000000)     = 3"#,
    );
    check(
        &m,
        ev(n::OPEN, &[x, 0x1000_0040, 0o755], R::Ok(4)),
        r#"open("/tmp/x", O_RDONLY|O_CREAT|0x10000000, 0755) = 4"#,
    );
    let odd = m.bytes(b"a\xff\x017b\0");
    check(
        &m,
        ev(n::OPEN, &[odd, 0], R::Err(2)),
        r#"open("a\377\0017b", O_RDONLY)           = -1 ENOENT (No such file or directory)"#,
    );
    let y = m.str("/x");
    check(
        &m,
        ev(n::OPEN, &[y, 1 | 0o4010000 | 0o20200000, 0], R::Err(2)),
        r#"open("/x", O_WRONLY|O_SYNC|O_TMPFILE, 000) = -1 ENOENT (No such file or directory)"#,
    );
    let fl = 2 | 0o10000 | 0o10000000 | 0o400000 | 0o200 | 0o400 | 0o20000 | 0o40000;
    check(
        &m,
        ev(n::OPEN, &[y, fl], R::Err(2)),
        r#"open("/x", O_RDWR|O_EXCL|O_NOCTTY|O_DSYNC|O_DIRECT|O_NOFOLLOW|O_PATH|FASYNC) = -1 ENOENT (No such file or directory)"#,
    );
    check(
        &m,
        ev(n::OPEN, &[y, 3], R::Err(2)),
        r#"open("/x", O_ACCMODE)                   = -1 ENOENT (No such file or directory)"#,
    );
    let zz = m.str("/tmp/stw/zz");
    check(
        &m,
        ev(n::MKDIR, &[zz, 0o4755], R::Err(17)),
        r#"mkdir("/tmp/stw/zz", 04755)             = -1 EEXIST (File exists)"#,
    );
    check(
        &m,
        ev(n::MKDIR, &[zz, 0o7], R::Err(17)),
        r#"mkdir("/tmp/stw/zz", 007)               = -1 EEXIST (File exists)"#,
    );
    check(
        &m,
        ev(n::MKDIRAT, &[AT_FDCWD, zz, 0], R::Ok(0)),
        r#"mkdirat(AT_FDCWD, "/tmp/stw/zz", 000)   = 0"#,
    );
    check(
        &m,
        ev(n::FCHMOD, &[99, 0o644], R::Err(9)),
        "fchmod(99, 0644)                        = -1 EBADF (Bad file descriptor)",
    );
    check(
        &m,
        ev(n::UMASK, &[0o22], R::Ok(0o22)),
        "umask(022)                              = 022",
    );
    check(
        &m,
        ev(n::CLOSE_RANGE, &[3, 0xffff_ffff, 0], R::Ok(0)),
        "close_range(3, 4294967295, 0)           = 0",
    );
}

#[test]
fn descriptors() {
    let mut m = Mem::new();
    check(
        &m,
        ev(n::FCNTL, &[3, 3], R::Ok(0x8000)),
        "fcntl(3, F_GETFL)                       = 0x8000 (flags O_RDONLY|O_LARGEFILE)",
    );
    check(
        &m,
        ev(n::FCNTL, &[3, 2, 1], R::Ok(0)),
        "fcntl(3, F_SETFD, FD_CLOEXEC)           = 0",
    );
    check(
        &m,
        ev(n::FCNTL, &[3, 1030, 10], R::Ok(11)),
        "fcntl(3, F_DUPFD_CLOEXEC, 10)           = 11",
    );
    check(
        &m,
        ev(n::FCNTL, &[0, 4, 0o6000], R::Ok(0)),
        "fcntl(0, F_SETFL, O_RDONLY|O_APPEND|O_NONBLOCK) = 0",
    );
    check(
        &m,
        ev(n::FCNTL, &[0, 1], R::Ok(0)),
        "fcntl(0, F_GETFD)                       = 0",
    );
    check(
        &m,
        ev(n::FCNTL, &[0, 1234, 0x7f45_0778_f829], R::Err(22)),
        "fcntl(0, 0x4d2 /* F_??? */, 0x7f450778f829) = -1 EINVAL (Invalid argument)",
    );
    let fds = m.u32s(&[3, 4]);
    check(
        &m,
        ev(n::PIPE2, &[fds, 0o2000000], R::Ok(0)),
        "pipe2([3, 4], O_CLOEXEC)                = 0",
    );
    check(
        &m,
        ev(n::PIPE2, &[1, 0o4000], R::Err(14)),
        "pipe2(0x1, O_NONBLOCK)                  = -1 EFAULT (Bad address)",
    );
    let fds = m.u32s(&[5, 6]);
    check(
        &m,
        ev(n::PIPE, &[fds], R::Ok(0)),
        "pipe([5, 6])                            = 0",
    );
    check(
        &m,
        ev(n::DUP, &[3], R::Ok(5)),
        "dup(3)                                  = 5",
    );
    check(
        &m,
        ev(n::DUP2, &[3, 20], R::Ok(20)),
        "dup2(3, 20)                             = 20",
    );
    check(
        &m,
        ev(n::DUP3, &[3, 21, 0o2000000], R::Ok(21)),
        "dup3(3, 21, O_CLOEXEC)                  = 21",
    );
    check(
        &m,
        ev(n::DUP3, &[99, 100, 0], R::Err(9)),
        "dup3(99, 100, 0)                        = -1 EBADF (Bad file descriptor)",
    );
    let pfd = m.bytes(&[3, 0, 0, 0, 1, 0, 1, 0, 4, 0, 0, 0, 5, 0, 4, 0]);
    check(
        &m,
        ev(n::POLL, &[pfd, 2, 100], R::Ok(2)),
        "poll([{fd=3, events=POLLIN}, {fd=4, events=POLLIN|POLLOUT}], 2, 100) = 2 ([{fd=3, revents=POLLIN}, {fd=4, revents=POLLOUT}])",
    );
}

#[test]
fn memory_management() {
    let mut m = Mem::new();
    let a = 0x7fef_c854_7000;
    check(
        &m,
        ev(n::MPROTECT, &[a, 4096, 0], R::Ok(0)),
        "mprotect(0x7fefc8547000, 4096, PROT_NONE) = 0",
    );
    check(
        &m,
        ev(n::MADVISE, &[a, 4096, 4], R::Ok(0)),
        "madvise(0x7fefc8547000, 4096, MADV_DONTNEED) = 0",
    );
    check(
        &m,
        ev(n::MADVISE, &[a, 4096, 12345], R::Err(22)),
        "madvise(0x7fefc8547000, 4096, 0x3039 /* MADV_??? */) = -1 EINVAL (Invalid argument)",
    );
    let vec = m.bytes(&[0, 0]);
    check(
        &m,
        ev(n::MINCORE, &[a, 8192, vec], R::Ok(0)),
        "mincore(0x7fefc8547000, 8192, [0, 0])   = 0",
    );
    check(
        &m,
        ev(n::MSYNC, &[a, 4096, 6], R::Ok(0)),
        "msync(0x7fefc8547000, 4096, MS_SYNC|MS_INVALIDATE) = 0",
    );
    check(
        &m,
        ev(n::MSYNC, &[0, 0, 0x80], R::Err(22)),
        "msync(NULL, 0, 0x80 /* MS_??? */)       = -1 EINVAL (Invalid argument)",
    );
    check(
        &m,
        ev(
            n::MREMAP,
            &[0x7fe2_7d6c_5000, 8192, 16384, 1],
            R::Ok(0x7fe2_7d6c_1000),
        ),
        "mremap(0x7fe27d6c5000, 8192, 16384, MREMAP_MAYMOVE) = 0x7fe27d6c1000",
    );
    check(
        &m,
        ev(
            n::MREMAP,
            &[0x7fe2_7d6c_1000, 16384, 4096, 0],
            R::Ok(0x7fe2_7d6c_1000),
        ),
        "mremap(0x7fe27d6c1000, 16384, 4096, 0)  = 0x7fe27d6c1000",
    );
    check(
        &m,
        ev(n::MREMAP, &[0, 0, 0, 7, 0x1000], R::Err(22)),
        "mremap(NULL, 0, 0, MREMAP_MAYMOVE|MREMAP_FIXED|MREMAP_DONTUNMAP, 0x1000) = -1 EINVAL (Invalid argument)",
    );
    check(
        &m,
        ev(n::MREMAP, &[0, 0, 0, 8, 0x1000], R::Err(22)),
        "mremap(NULL, 0, 0, 0x8 /* MREMAP_??? */) = -1 EINVAL (Invalid argument)",
    );
    check(
        &m,
        ev(n::MUNMAP, &[NEG1, 16384], R::Err(22)),
        "munmap(0xffffffffffffffff, 16384)       = -1 EINVAL (Invalid argument)",
    );
    check(
        &m,
        ev(n::MMAP, &[0x1000_0000, 4096, 1, 0xc031, NEG1, 0], R::Ok(0x1000_0000)),
        "mmap(0x10000000, 4096, PROT_READ, MAP_SHARED|MAP_FIXED|MAP_ANONYMOUS|MAP_NORESERVE|MAP_POPULATE, -1, 0) = 0x10000000",
    );
    check(
        &m,
        ev(n::MMAP, &[0, 4096, 7, 0x20122, NEG1, 0], R::Ok(0x7fef_c854_6000)),
        "mmap(NULL, 4096, PROT_READ|PROT_WRITE|PROT_EXEC, MAP_PRIVATE|MAP_ANONYMOUS|MAP_GROWSDOWN|MAP_STACK, -1, 0) = 0x7fefc8546000",
    );
    check(
        &m,
        ev(n::MMAP, &[0, 4096, 1, 2, 1234, 0], R::Err(9)),
        "mmap(NULL, 4096, PROT_READ, MAP_PRIVATE, 1234, 0) = -1 EBADF (Bad file descriptor)",
    );
    check(
        &m,
        ev(n::MMAP, &[0, 4096, 0x11, 0x0800_0022, NEG1, 0], R::Ok(0x7fe2_7d6c_6000)),
        "mmap(NULL, 4096, PROT_READ|0x10, MAP_PRIVATE|MAP_ANONYMOUS|2<<MAP_HUGE_SHIFT, -1, 0) = 0x7fe27d6c6000",
    );
    check(
        &m,
        ev(n::MMAP, &[0, 4096, 1, 0x140023 | (21 << 26), NEG1, 0], R::Err(95)),
        "mmap(NULL, 4096, PROT_READ, MAP_SHARED_VALIDATE|MAP_ANONYMOUS|MAP_HUGETLB|MAP_FIXED_NOREPLACE|21<<MAP_HUGE_SHIFT, -1, 0) = -1 EOPNOTSUPP (Operation not supported)",
    );
    check(
        &m,
        ev(n::MMAP, &[0, 4096, 0x10, 0x20, NEG1, 0], R::Err(22)),
        "mmap(NULL, 4096, 0x10 /* PROT_??? */, MAP_FILE|MAP_ANONYMOUS, -1, 0) = -1 EINVAL (Invalid argument)",
    );
}

#[test]
fn time_and_limits() {
    let mut m = Mem::new();
    let ts = m.u64s(&[0, 4070242]);
    check(
        &m,
        ev(n::CLOCK_GETTIME, &[2, ts], R::Ok(0)),
        "clock_gettime(CLOCK_PROCESS_CPUTIME_ID, {tv_sec=0, tv_nsec=4070242}) = 0",
    );
    check(
        &m,
        ev(n::CLOCK_GETTIME, &[99, 0x7ffe_6971_8130], R::Err(22)),
        "clock_gettime(0x63 /* CLOCK_??? */, 0x7ffe69718130) = -1 EINVAL (Invalid argument)",
    );
    check(
        &m,
        ev(n::CLOCK_GETTIME, &[1, 0], R::Err(14)),
        "clock_gettime(CLOCK_MONOTONIC, NULL)    = -1 EFAULT (Bad address)",
    );
    let ts2 = m.u64s(&[0, 4099883]);
    check(
        &m,
        ev(n::CLOCK_GETTIME, &[-6i64 as u64, ts2], R::Ok(0)),
        "clock_gettime(0xfffffffa /* CLOCK_??? */, {tv_sec=0, tv_nsec=4099883}) = 0",
    );
    let one = m.u64s(&[0, 1]);
    check(
        &m,
        ev(n::CLOCK_GETRES, &[0, one], R::Ok(0)),
        "clock_getres(CLOCK_REALTIME, {tv_sec=0, tv_nsec=1}) = 0",
    );
    let req = m.u64s(&[0, 1000]);
    check(
        &m,
        ev(n::CLOCK_NANOSLEEP, &[0, 0, req, 0], R::Ok(0)),
        "clock_nanosleep(CLOCK_REALTIME, 0, {tv_sec=0, tv_nsec=1000}, NULL) = 0",
    );
    let rl = m.u64s(&[8192 * 1024, u64::MAX]);
    check(
        &m,
        ev(n::GETRLIMIT, &[3, rl], R::Ok(0)),
        "getrlimit(RLIMIT_STACK, {rlim_cur=8192*1024, rlim_max=RLIM64_INFINITY}) = 0",
    );
    let rl = m.u64s(&[1024, 4096]);
    check(
        &m,
        ev(n::SETRLIMIT, &[7, rl], R::Ok(0)),
        "setrlimit(RLIMIT_NOFILE, {rlim_cur=1024, rlim_max=4*1024}) = 0",
    );
    check(
        &m,
        ev(n::PRLIMIT64, &[0, 99, 0, 0x7fff_a9c3_9de0], R::Err(22)),
        "prlimit64(0, 0x63 /* RLIMIT_??? */, NULL, 0x7fffa9c39de0) = -1 EINVAL (Invalid argument)",
    );
}

#[test]
fn signals() {
    let mut m = Mem::new();
    let act = m.bytes(&sigaction_buf(
        0x55dc_5286_d4c9,
        0x1400_0000,
        0x7fef_c839_a050,
        0,
    ));
    check(
        &m,
        ev(n::RT_SIGACTION, &[2, act, 0, 8], R::Ok(0)),
        "rt_sigaction(SIGINT, {sa_handler=0x55dc5286d4c9, sa_mask=[], sa_flags=SA_RESTORER|SA_RESTART, sa_restorer=0x7fefc839a050}, NULL, 8) = 0",
    );
    let mask = (1u64 << 9) | (1 << 14);
    let act = m.bytes(&sigaction_buf(
        0x55dc_5286_d4c9,
        0x4c00_0004,
        0x7fef_c839_a050,
        mask,
    ));
    let old = m.bytes(&sigaction_buf(0, 0, 0, 0));
    check(
        &m,
        ev(n::RT_SIGACTION, &[12, act, old, 8], R::Ok(0)),
        "rt_sigaction(SIGUSR2, {sa_handler=0x55dc5286d4c9, sa_mask=[USR1 TERM], sa_flags=SA_RESTORER|SA_ONSTACK|SA_NODEFER|SA_SIGINFO, sa_restorer=0x7fefc839a050}, {sa_handler=SIG_DFL, sa_mask=[], sa_flags=0}, 8) = 0",
    );
    let act = m.bytes(&sigaction_buf(1, 0x0400_0000, 0x7fef_c839_a050, 0));
    check(
        &m,
        ev(n::RT_SIGACTION, &[13, act, 0, 8], R::Ok(0)),
        "rt_sigaction(SIGPIPE, {sa_handler=SIG_IGN, sa_mask=[], sa_flags=SA_RESTORER, sa_restorer=0x7fefc839a050}, NULL, 8) = 0",
    );
    let act = m.bytes(&sigaction_buf(
        0x7fe3_ec28_d720,
        0x1c00_0004,
        0x7fe3_ec24_3050,
        0,
    ));
    check(
        &m,
        ev(n::RT_SIGACTION, &[33, act, 0, 8], R::Ok(0)),
        "rt_sigaction(SIGRT_1, {sa_handler=0x7fe3ec28d720, sa_mask=[], sa_flags=SA_RESTORER|SA_ONSTACK|SA_RESTART|SA_SIGINFO, sa_restorer=0x7fe3ec243050}, NULL, 8) = 0",
    );
    check(
        &m,
        ev(n::RT_SIGACTION, &[65, 0, 0, 8], R::Err(22)),
        "rt_sigaction(65, NULL, NULL, 8)         = -1 EINVAL (Invalid argument)",
    );
    check(
        &m,
        ev(n::RT_SIGACTION, &[17, 1, 0, 8], R::Err(14)),
        "rt_sigaction(SIGCHLD, 0x1, NULL, 8)     = -1 EFAULT (Bad address)",
    );
    let chld = m.u64s(&[1 << 16]);
    let empty = m.u64s(&[0]);
    check(
        &m,
        ev(n::RT_SIGPROCMASK, &[0, chld, empty, 8], R::Ok(0)),
        "rt_sigprocmask(SIG_BLOCK, [CHLD], [], 8) = 0",
    );
    let full = m.u64s(&[!(3u64 << 31)]);
    check(
        &m,
        ev(n::RT_SIGPROCMASK, &[2, full, chld, 8], R::Ok(0)),
        "rt_sigprocmask(SIG_SETMASK, ~[RTMIN RT_1], [CHLD], 8) = 0",
    );
    let all = m.u64s(&[u64::MAX]);
    check(
        &m,
        ev(n::RT_SIGPROCMASK, &[5, all, 0, 8], R::Err(22)),
        "rt_sigprocmask(0x5 /* SIG_??? */, ~[], NULL, 8) = -1 EINVAL (Invalid argument)",
    );
    let some = m.u64s(&[(1 << 1) | (1 << 8) | (1 << 31) | (1 << 32) | (1 << 63)]);
    check(
        &m,
        ev(n::RT_SIGPROCMASK, &[0, some, 0, 8], R::Ok(0)),
        "rt_sigprocmask(SIG_BLOCK, [INT KILL RTMIN RT_1 RT_32], NULL, 8) = 0",
    );
    check(
        &m,
        ev(n::RT_SIGPROCMASK, &[0, some, 0, 16], R::Err(22)),
        "rt_sigprocmask(SIG_BLOCK, 0x7ffe697180f0, NULL, 16) = -1 EINVAL (Invalid argument)",
    );
    check(
        &m,
        ev(n::RT_SIGPROCMASK, &[0, 1, 0, 8], R::Err(14)),
        "rt_sigprocmask(SIG_BLOCK, 0x1, NULL, 8) = -1 EFAULT (Bad address)",
    );
    check(
        &m,
        ev(n::KILL, &[0x7fff_ffff, 109], R::Err(3)),
        "kill(2147483647, 109)                   = -1 ESRCH (No such process)",
    );
    check(
        &m,
        ev(n::KILL, &[0x7fff_ffff, 40], R::Err(3)),
        "kill(2147483647, SIGRT_8)               = -1 ESRCH (No such process)",
    );
    check(
        &m,
        ev(n::KILL, &[5038, 12], R::Ok(0)),
        "kill(5038, SIGUSR2)                     = 0",
    );
    check(
        &m,
        ev(n::KILL, &[5038, 0], R::Ok(0)),
        "kill(5038, 0)                           = 0",
    );
    let mut e = ev(n::TGKILL, &[5040, 5040, 11], R::Ok(0));
    e.tid = 5040;
    assert_eq!(
        super::format_line(&e, &m, &super::TraceOptions::default(), true),
        "[pid  5040] tgkill(5040, 5040, SIGSEGV) = 0"
    );
}

#[test]
fn futexes() {
    let m = Mem::new();
    let f = 0x7ffe_bedd_f6dc;
    check(
        &m,
        ev(n::FUTEX, &[f, 129, 1], R::Ok(0)),
        "futex(0x7ffebeddf6dc, FUTEX_WAKE_PRIVATE, 1) = 0",
    );
    check(
        &m,
        ev(n::FUTEX, &[f, 0, 1, 0], R::Err(11)),
        "futex(0x7ffebeddf6dc, FUTEX_WAIT, 1, NULL) = -1 EAGAIN (Resource temporarily unavailable)",
    );
    check(
        &m,
        ev(n::FUTEX, &[f, 99, 1, 0, 0, 0], R::Err(38)),
        "futex(0x7ffe6971811c, 0x63 /* FUTEX_??? */, 1, NULL, NULL, 0) = -1 ENOSYS (Function not implemented)",
    );
    check(
        &m,
        ev(n::FUTEX, &[0x7fe3_ec20_3990, 0x109, 5, 0, 0, 0xffff_ffff], R::Ok(0)),
        "futex(0x7fe3ec203990, FUTEX_WAIT_BITSET|FUTEX_CLOCK_REALTIME, 5, NULL, FUTEX_BITSET_MATCH_ANY) = 0",
    );
    let mut m = Mem::new();
    let to = m.u64s(&[1, 5]);
    check(
        &m,
        ev(n::FUTEX, &[f, 128, 1, to], R::Err(11)),
        "futex(0x7ffe6971811c, FUTEX_WAIT_PRIVATE, 1, {tv_sec=1, tv_nsec=5}) = -1 EAGAIN (Resource temporarily unavailable)",
    );
    check(
        &m,
        ev(n::FUTEX, &[f, 0x189, 1, to, 0, 0xffff_ffff], R::Err(11)),
        "futex(0x7ffe6971811c, FUTEX_WAIT_BITSET_PRIVATE|FUTEX_CLOCK_REALTIME, 1, {tv_sec=1, tv_nsec=5}, FUTEX_BITSET_MATCH_ANY) = -1 EAGAIN (Resource temporarily unavailable)",
    );
}

#[test]
fn system_info() {
    let mut m = Mem::new();
    let mut u = vec![0u8; 65 * 6];
    u[..5].copy_from_slice(b"Linux");
    u[65..67].copy_from_slice(b"vm");
    let u = m.bytes(&u);
    check(
        &m,
        ev(n::UNAME, &[u], R::Ok(0)),
        r#"uname({sysname="Linux", nodename="vm", ...}) = 0"#,
    );
    let r = m.bytes(&[0xf9, 0x92, 0x5a, 0xf3, 0x1e, 0x2b, 0x89, 0xe7]);
    check(
        &m,
        ev(n::GETRANDOM, &[r, 8, 1], R::Ok(8)),
        r#"getrandom("\xf9\x92\x5a\xf3\x1e\x2b\x89\xe7", 8, GRND_NONBLOCK) = 8"#,
    );
    check(
        &m,
        ev(n::GETRANDOM, &[0, 0, 0], R::Ok(0)),
        "getrandom(NULL, 0, 0)                   = 0",
    );
    check(
        &m,
        ev(n::GETRANDOM, &[0x7ffe_6971_8130, 4, 0x86], R::Err(22)),
        "getrandom(0x7ffe69718130, 4, GRND_RANDOM|GRND_INSECURE|0x80) = -1 EINVAL (Invalid argument)",
    );
    let mut si: Vec<u8> = [
        323u64,
        7392,
        13408,
        5920,
        25276063744,
        24737366016,
        9097216,
        4624384,
        0,
        0,
    ]
    .iter()
    .flat_map(|x| x.to_le_bytes())
    .collect();
    si.extend_from_slice(&89u16.to_le_bytes());
    si.resize(104, 0);
    si.extend_from_slice(&1u32.to_le_bytes());
    si.resize(112, 0);
    let si = m.bytes(&si);
    check(
        &m,
        ev(n::SYSINFO, &[si], R::Ok(0)),
        "sysinfo({uptime=323, loads=[7392, 13408, 5920], totalram=25276063744, freeram=24737366016, sharedram=9097216, bufferram=4624384, totalswap=0, freeswap=0, procs=89, totalhigh=0, freehigh=0, mem_unit=1}) = 0",
    );
    let mut cpus = vec![0u8; 128];
    cpus[0] = 3;
    let cpus = m.bytes(&cpus);
    check(
        &m,
        ev(n::SCHED_GETAFFINITY, &[0, 128, cpus], R::Ok(32)),
        "sched_getaffinity(0, 128, [0 1])        = 32",
    );
    check(
        &m,
        ev(n::SCHED_GETAFFINITY, &[0, 8, 0], R::Err(14)),
        "sched_getaffinity(0, 8, NULL)           = -1 EFAULT (Bad address)",
    );
    let name = m.str("myname");
    check(
        &m,
        ev(n::PRCTL, &[15, name], R::Ok(0)),
        r#"prctl(PR_SET_NAME, "myname")            = 0"#,
    );
    check(
        &m,
        ev(n::PRCTL, &[3], R::Ok(1)),
        "prctl(PR_GET_DUMPABLE)                  = 1 (SUID_DUMP_USER)",
    );
    check(
        &m,
        ev(n::PRCTL, &[1, 9], R::Ok(0)),
        "prctl(PR_SET_PDEATHSIG, SIGKILL)        = 0",
    );
    check(
        &m,
        ev(n::PRCTL, &[12345, 1, 2, 3, 4], R::Err(22)),
        "prctl(0x3039 /* PR_??? */, 0x1, 0x2, 0x3, 0x4) = -1 EINVAL (Invalid argument)",
    );
    let fs = m.u64s(&[0x7fef_c835_b740]);
    check(
        &m,
        ev(n::ARCH_PRCTL, &[0x1003, fs], R::Ok(0)),
        "arch_prctl(ARCH_GET_FS, [0x7fefc835b740]) = 0",
    );
    check(
        &m,
        ev(n::ARCH_PRCTL, &[0x1001, 0x1000], R::Ok(0)),
        "arch_prctl(ARCH_SET_GS, 0x1000)         = 0",
    );
    check(
        &m,
        ev(n::ARCH_PRCTL, &[0x9999, 0x1000], R::Err(22)),
        "arch_prctl(0x9999 /* ARCH_??? */, 0x1000) = -1 EINVAL (Invalid argument)",
    );
    check(
        &m,
        ev(n::GETPID, &[], R::Ok(5038)),
        "getpid()                                = 5038",
    );
    check(
        &m,
        ev(0x1f4, &[1, 2, 0x7fe2_7d5d_d829, 0x7fff_a9c3_9f88, 0x7fff_a9c3_9f88, 0x7fff_a9c3_9f88], R::Err(38)),
        "syscall_0x1f4(0x1, 0x2, 0x7fe27d5dd829, 0x7fffa9c39f88, 0x7fffa9c39f88, 0x7fffa9c39f88) = -1 ENOSYS (Function not implemented)",
    );
}

#[test]
fn terminals() {
    let mut m = Mem::new();
    let zero = m.u32s(&[0]);
    check(
        &m,
        ev(n::IOCTL, &[7, 0x8004_5430, zero], R::Ok(0)),
        "ioctl(7, TIOCGPTN, [0])                 = 0",
    );
    check(
        &m,
        ev(n::IOCTL, &[7, 0x4004_5431, zero], R::Ok(0)),
        "ioctl(7, TIOCSPTLCK, [0])               = 0",
    );
    check(
        &m,
        ev(n::IOCTL, &[7, 0x5441, 0x102], R::Ok(8)),
        "ioctl(7, TIOCGPTPEER, 0x102)            = 8",
    );
    check(
        &m,
        ev(n::IOCTL, &[8, 0x541b, zero], R::Ok(0)),
        "ioctl(8, FIONREAD, [0])                 = 0",
    );
    let ws = m.bytes(&[24, 0, 80, 0, 0, 0, 0, 0]);
    check(
        &m,
        ev(n::IOCTL, &[8, 0x5414, ws], R::Ok(0)),
        "ioctl(8, TIOCSWINSZ, {ws_row=24, ws_col=80, ws_xpixel=0, ws_ypixel=0}) = 0",
    );
    check(
        &m,
        ev(n::IOCTL, &[8, 0x5413, ws], R::Ok(0)),
        "ioctl(8, TIOCGWINSZ, {ws_row=24, ws_col=80, ws_xpixel=0, ws_ypixel=0}) = 0",
    );
    check(
        &m,
        ev(n::IOCTL, &[1, 0x5413, 0x7ffe_bedd_f684], R::Err(25)),
        "ioctl(1, TIOCGWINSZ, 0x7ffebeddf684)    = -1 ENOTTY (Inappropriate ioctl for device)",
    );
    let mut t = vec![0u8; 36];
    t[0..4].copy_from_slice(&0o2400u32.to_le_bytes());
    t[4..8].copy_from_slice(&5u32.to_le_bytes());
    t[8..12].copy_from_slice(&0o277u32.to_le_bytes());
    t[12..16].copy_from_slice(&0o105073u32.to_le_bytes());
    let t = m.bytes(&t);
    let tios = "{c_iflag=ICRNL|IXON, c_oflag=NL0|CR0|TAB0|BS0|VT0|FF0|OPOST|ONLCR, c_cflag=B38400|CS8|CREAD, c_lflag=ISIG|ICANON|ECHO|ECHOE|ECHOK|IEXTEN|ECHOCTL|ECHOKE, ...}";
    check(
        &m,
        ev(n::IOCTL, &[8, 0x5401, t], R::Ok(0)),
        &format!("ioctl(8, TCGETS, {tios}) = 0"),
    );
    check(
        &m,
        ev(n::IOCTL, &[8, 0x5402, t], R::Ok(0)),
        &format!("ioctl(8, SNDCTL_TMR_START or TCSETS, {tios}) = 0"),
    );
}

#[test]
fn processes() {
    let mut m = Mem::new();
    check(
        &m,
        ev(n::CLONE, &[0x0120_0011, 0, 0, 0x7fef_c835_ba10, 0], R::Ok(5039)),
        "clone(child_stack=NULL, flags=CLONE_CHILD_CLEARTID|CLONE_CHILD_SETTID|SIGCHLD, child_tidptr=0x7fefc835ba10) = 5039",
    );
    check(
        &m,
        ev(n::CLONE, &[0x8082_1000 | 0x3f, 0, 0, 0, 0], R::Err(14)),
        "clone(child_stack=NULL, flags=CLONE_PIDFD|CLONE_NEWNS|CLONE_UNTRACED|CLONE_IO|SIGRT_31, parent_tid=NULL) = -1 EFAULT (Bad address)",
    );
    check(
        &m,
        ev(n::CLONE, &[0x11, 0, 0, 0, 0], R::Ok(6)),
        "clone(child_stack=NULL, flags=SIGCHLD)  = 6",
    );
    let tid = m.u32s(&[5]);
    let fl = 0x0010_0000 | 0x0020_0000 | 0x0008_0000 | 0x0004_0000 | 0x0001_0000 | 0xf00;
    let args = m.u64s(&[
        fl,
        0,
        tid,
        tid,
        0,
        0x7fe3_eba0_3000,
        0x7f_ff80,
        0x7fe3_ec20_36c0,
        0,
        0,
        0,
    ]);
    check(
        &m,
        ev(n::CLONE3, &[args, 88], R::Ok(5)),
        "clone3({flags=CLONE_VM|CLONE_FS|CLONE_FILES|CLONE_SIGHAND|CLONE_THREAD|CLONE_SYSVSEM|CLONE_SETTLS|CLONE_PARENT_SETTID|CLONE_CHILD_CLEARTID, child_tid=0x7fe3ec203990, parent_tid=0x7fe3ec203990, exit_signal=0, stack=0x7fe3eba03000, stack_size=0x7fff80, tls=0x7fe3ec2036c0} => {parent_tid=[5]}, 88) = 5",
    );
    let st = m.u32s(&[3 << 8]);
    check(
        &m,
        ev(n::WAIT4, &[5039, st, 0, 0], R::Ok(5039)),
        "wait4(5039, [{WIFEXITED(s) && WEXITSTATUS(s) == 3}], 0, NULL) = 5039",
    );
    let st = m.u32s(&[11]);
    check(
        &m,
        ev(n::WAIT4, &[5040, st, 0, 0], R::Ok(5040)),
        "wait4(5040, [{WIFSIGNALED(s) && WTERMSIG(s) == SIGSEGV}], 0, NULL) = 5040",
    );
    check(
        &m,
        ev(n::WAIT4, &[NEG1, 0, 1, 0], R::Err(10)),
        "wait4(-1, NULL, WNOHANG, NULL)          = -1 ECHILD (No child processes)",
    );
    check(
        &m,
        ev(n::WAIT4, &[0x7fff_ffff, 0, 0x6000_0000 | 0x8000_0000 | 0x0100_0000 | 11, 0], R::Err(22)),
        "wait4(2147483647, NULL, WNOHANG|WSTOPPED|WCONTINUED|WNOWAIT|__WCLONE|__WALL|__WNOTHREAD, NULL) = -1 EINVAL (Invalid argument)",
    );
}

#[test]
fn pid_prefix_and_timestamps() {
    let mut m = Mem::new();
    let child = m.bytes(b"child");
    let mut e = ev(n::WRITE, &[4, child, 5], R::Ok(5));
    e.tid = 5039;
    let opts = super::TraceOptions::default();
    assert_eq!(
        super::format_line(&e, &m, &opts, true),
        r#"[pid  5039] write(4, "child", 5)        = 5"#
    );
    let mut e = ev(n::GETPID, &[], R::Ok(4));
    e.tid = 5;
    let tt = super::TraceOptions {
        timestamps: true,
        durations: true,
        ..opts
    };
    // `[pid     5] 18:30:16.098228 getpid()    = 4 <0.000007>`
    let line = super::format_line(&e, &m, &tt, true);
    assert_eq!(&line[..12], "[pid     5] ");
    e.duration = std::time::Duration::from_micros(7);
    let line = super::format_line(&e, &m, &tt, true);
    assert_eq!(&line[28..], "getpid()    = 4 <0.000007>");
    let e = ev(n::EXIT, &[0], R::NoRet);
    let line = super::format_line(&e, &m, &tt, true);
    // `[pid     5] 18:30:16.098331 exit(0)     = ?`
    assert_eq!(&line[28..], "exit(0)     = ?");
}

#[test]
fn more_edges() {
    let mut m = Mem::new();
    let s32 = m.u64s(&[0xffff_ffff]);
    check(
        &m,
        ev(n::RT_SIGPROCMASK, &[0, s32, 0, 8], R::Ok(0)),
        "rt_sigprocmask(SIG_BLOCK, [HUP INT QUIT ILL TRAP ABRT BUS FPE KILL USR1 SEGV USR2 PIPE ALRM TERM STKFLT CHLD CONT STOP TSTP TTIN TTOU URG XCPU XFSZ VTALRM PROF WINCH IO PWR SYS RTMIN], NULL, 8) = 0",
    );
    check(
        &m,
        ev(n::PRCTL, &[38, 1, 0, 0, 0], R::Ok(0)),
        "prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0)  = 0",
    );
    check(
        &m,
        ev(n::IOCTL, &[0, 0xc004_5499, 0], R::Err(25)),
        "ioctl(0, _IOC(_IOC_READ|_IOC_WRITE, 0x54, 0x99, 0x4), 0) = -1 ENOTTY (Inappropriate ioctl for device)",
    );
    check(
        &m,
        ev(n::IOCTL, &[0, 0x5499, 5], R::Err(25)),
        "ioctl(0, _IOC(_IOC_NONE, 0x54, 0x99, 0), 0x5) = -1 ENOTTY (Inappropriate ioctl for device)",
    );
    check(
        &m,
        ev(n::FCNTL, &[3, 1], R::Ok(1)),
        "fcntl(3, F_GETFD)                       = 0x1 (flags FD_CLOEXEC)",
    );
    let fds = m.u32s(&[4, 5]);
    check(
        &m,
        ev(n::PIPE2, &[fds, 0], R::Ok(0)),
        "pipe2([4, 5], 0)                        = 0",
    );
    let pfd = m.bytes(&[4, 0, 0, 0, 1, 0, 0, 0]);
    check(
        &m,
        ev(n::POLL, &[pfd, 1, 1], R::Ok(0)),
        "poll([{fd=4, events=POLLIN}], 1, 1)     = 0 (Timeout)",
    );
    let path = m.str("/nonexistent");
    let a = m.str("a");
    let argv = m.u64s(&[a, 1, 0]);
    check(
        &m,
        ev(n::EXECVE, &[path, argv, 8], R::Err(2)),
        r#"execve("/nonexistent", ["a", 0x1], 0x8) = -1 ENOENT (No such file or directory)"#,
    );
    let rl = m.u64s(&[u64::MAX, u64::MAX]);
    check(
        &m,
        ev(n::PRLIMIT64, &[0, 4, rl, 0], R::Ok(0)),
        "prlimit64(0, RLIMIT_CORE, {rlim_cur=RLIM64_INFINITY, rlim_max=RLIM64_INFINITY}, NULL) = 0",
    );
    let abrt = m.u64s(&[1 << 5]);
    check(
        &m,
        ev(n::RT_SIGPROCMASK, &[1, abrt, 0, 8], R::Ok(0)),
        "rt_sigprocmask(SIG_UNBLOCK, [ABRT], NULL, 8) = 0",
    );
}
