//! Unit tests: escaping, flags, lines, JSON, the Tracer's threading. Lines
//! compared with real strace output are in `tests_strace.rs`.

use super::*;
use std::io::Write;
use std::sync::Arc;
use std::time::{Duration, Instant, UNIX_EPOCH};

/// Guest memory for tests: one readable range starting at `base`.
pub(super) struct Mem {
    pub base: u64,
    pub data: Vec<u8>,
}

impl GuestMemRead for Mem {
    fn read(&self, addr: u64, buf: &mut [u8]) -> bool {
        super::recorded::read_range(self.base, &self.data, addr, buf)
    }
}

impl Mem {
    /// Memory at a stack-like address (12 hex digits, like strace's).
    pub fn new() -> Mem {
        Mem::at(0x7ffe_bedd_0000)
    }

    pub fn at(base: u64) -> Mem {
        Mem {
            base,
            data: Vec::new(),
        }
    }

    /// Appends bytes (16-aligned) and returns their guest address.
    pub fn bytes(&mut self, b: &[u8]) -> u64 {
        while self.data.len() & 15 != 0 {
            self.data.push(0);
        }
        let a = self.base + self.data.len() as u64;
        self.data.extend_from_slice(b);
        a
    }

    /// A NUL-terminated string.
    pub fn str(&mut self, s: &str) -> u64 {
        let a = self.bytes(s.as_bytes());
        self.data.push(0);
        a
    }

    pub fn u64s(&mut self, v: &[u64]) -> u64 {
        let b: Vec<u8> = v.iter().flat_map(|x| x.to_le_bytes()).collect();
        self.bytes(&b)
    }

    pub fn u32s(&mut self, v: &[u32]) -> u64 {
        let b: Vec<u8> = v.iter().flat_map(|x| x.to_le_bytes()).collect();
        self.bytes(&b)
    }

    /// The address just past the end of readable memory.
    pub fn end(&self) -> u64 {
        self.base + self.data.len() as u64
    }
}

pub(super) enum R {
    Ok(u64),
    Err(u16),
    NoRet,
}

pub(super) fn ev(nr: usize, args: &[u64], ret: R) -> SyscallEvent {
    let mut a = [0u64; 6];
    a[..args.len()].copy_from_slice(args);
    SyscallEvent {
        tid: 1234,
        nr: nr as u64,
        args: a,
        ret: match ret {
            R::Ok(v) => Some(Ok(v)),
            R::Err(e) => Some(Err(guest_abi::Errno(e))),
            R::NoRet => None,
        },
        start: UNIX_EPOCH + Duration::from_micros(1_700_000_000_123_456),
        duration: Duration::from_micros(12),
    }
}

pub(super) fn text(mem: &Mem, e: &SyscallEvent) -> String {
    format_syscall(e, mem, &TraceOptions::default())
}

use guest_abi::sysno as n;

#[test]
fn escaping_matches_strace() {
    let q = |b: &[u8]| strings::quote(b, false);
    assert_eq!(q(b"hello\n\t\"q\" b\\s"), r#""hello\n\t\"q\" b\\s""#);
    assert_eq!(q(b"\x01\x7f\xff end"), r#""\1\177\377 end""#);
    // A digit after an escape forces three octal digits.
    assert_eq!(q(b"\x011\x022\n"), r#""\0011\0022\n""#);
    assert_eq!(q(&[0, 0, 0, b'0', b'1', b'2', b'3']), r#""\0\0\0000123""#);
    assert_eq!(q(b"\x1b[0m\r\x0b\x0c"), r#""\33[0m\r\v\f""#);
    assert_eq!(q(b"\x08a"), r#""\10a""#);
    assert_eq!(q(b"\x088"), r#""\108""#);
    assert_eq!(strings::quote(b"\xf9\x92Z", true), r#""\xf9\x92\x5a""#);
    // Invalid UTF-8 and every byte value: ASCII out, no panic.
    let all: Vec<u8> = (0..=255).collect();
    assert!(q(&all).is_ascii());
}

#[test]
fn string_truncation_matches_strace() {
    let mut m = Mem::new();
    let s46 = m.str("0123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJ");
    let s32 = m.str("0123456789abcdefghijklmnopqrstuv");
    let s33 = m.str("0123456789abcdefghijklmnopqrstuvw");
    // Buffers with a length: cut at the limit, `...` when longer.
    assert_eq!(
        strings::buf(&m, s46, 46, 32, false),
        r#""0123456789abcdefghijklmnopqrstuv"..."#
    );
    assert_eq!(
        strings::buf(&m, s32, 32, 32, false),
        r#""0123456789abcdefghijklmnopqrstuv""#
    );
    assert_eq!(strings::buf(&m, s32, 0, 32, false), r#""""#);
    // NUL-terminated strings: a string of exactly the limit is whole.
    assert_eq!(
        strings::cstr(&m, s32, 32),
        r#""0123456789abcdefghijklmnopqrstuv""#
    );
    assert_eq!(
        strings::cstr(&m, s33, 32),
        r#""0123456789abcdefghijklmnopqrstuv"..."#
    );
    assert_eq!(strings::cstr(&m, s46, 0), r#"""..."#);
    // Paths are not cut at the string limit.
    assert_eq!(
        strings::path(&m, s46),
        r#""0123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJ""#
    );
    // NULL and unreadable pointers.
    assert_eq!(strings::cstr(&m, 0, 32), "NULL");
    assert_eq!(strings::cstr(&m, 1, 32), "0x1");
    assert_eq!(strings::buf(&m, 0x10, 5, 32, false), "0x10");
    // A string running into unreadable memory stops there.
    let mut m2 = Mem::new();
    let p = m2.bytes(b"abc");
    assert_eq!(strings::cstr(&m2, p, 32), r#""abc"..."#);
    // Huge lengths are capped, not allocated.
    assert_eq!(strings::buf(&m, s46, u64::MAX, 4, false), r#""0123"..."#);
    assert_eq!(
        strings::buf(&m, s46, u64::MAX, usize::MAX, false),
        format!("{s46:#x}")
    );
}

#[test]
fn argv_and_envp() {
    let mut m = Mem::new();
    let a = m.str("./prog");
    let b = m.str("a very long argument that is longer than thirty two chars");
    let argv = m.u64s(&[a, b, 0]);
    assert_eq!(
        strings::argv(&m, argv, 32),
        r#"["./prog", "a very long argument that is lon"...]"#
    );
    let envp = m.u64s(&[a, a, a, 0]);
    assert_eq!(strings::argc(&m, envp), format!("{envp:#x} /* 3 vars */"));
    let one = m.u64s(&[a, 0]);
    assert_eq!(strings::argc(&m, one), format!("{one:#x} /* 1 var */"));
    // More elements than the limit.
    let many = m.u64s(&[a, a, a, 0]);
    assert_eq!(strings::argv(&m, many, 2), r#"["./"..., "./"..., ...]"#);
    // Unterminated: runs off readable memory.
    let tail = m.u64s(&[a, a]);
    assert_eq!(
        strings::argc(&m, tail),
        format!("{tail:#x} /* 2 vars, unterminated */")
    );
    assert_eq!(strings::argv(&m, tail, 32), r#"["./prog", "./prog", ...]"#);
    assert_eq!(strings::argv(&m, 8, 32), "0x8");
}

#[test]
fn flag_decoding() {
    assert_eq!(flags::open_flags(0o2000000), "O_RDONLY|O_CLOEXEC");
    assert_eq!(
        flags::open_flags(0o1101 | 0o2000000),
        "O_WRONLY|O_CREAT|O_TRUNC|O_CLOEXEC"
    );
    assert_eq!(flags::open_flags(0x1000_0000), "O_RDONLY|0x10000000");
    assert_eq!(flags::open_flags(0o20200001), "O_WRONLY|O_TMPFILE");
    assert_eq!(flags::open_flags(0o4010000), "O_RDONLY|O_SYNC");
    assert_eq!(flags::open_flags(3), "O_ACCMODE");
    let prot = |v| flags::flags(flags::MMAP_PROT, v, Some("PROT_???"));
    assert_eq!(prot(0), "PROT_NONE");
    assert_eq!(prot(3), "PROT_READ|PROT_WRITE");
    assert_eq!(prot(0x11), "PROT_READ|0x10");
    assert_eq!(prot(0x10), "0x10 /* PROT_??? */");
    assert_eq!(flags::mmap_flags(0x22), "MAP_PRIVATE|MAP_ANONYMOUS");
    assert_eq!(
        flags::mmap_flags(0x812),
        "MAP_PRIVATE|MAP_FIXED|MAP_DENYWRITE"
    );
    assert_eq!(flags::mmap_flags(0x20), "MAP_FILE|MAP_ANONYMOUS");
    assert_eq!(flags::mmap_flags(0x25), "0x5 /* MAP_??? */|MAP_ANONYMOUS");
    assert_eq!(
        flags::mmap_flags(0x6162),
        "MAP_PRIVATE|MAP_ANONYMOUS|MAP_32BIT|MAP_NORESERVE|MAP_GROWSDOWN|MAP_LOCKED"
    );
    assert_eq!(
        flags::mmap_flags(0x0800_0022),
        "MAP_PRIVATE|MAP_ANONYMOUS|2<<MAP_HUGE_SHIFT"
    );
    assert_eq!(flags::flags(flags::ACCESS_MODES, 0, None), "F_OK");
    assert_eq!(flags::flags(flags::ACCESS_MODES, 5, None), "R_OK|X_OK");
    assert_eq!(
        flags::xval(flags::MADVISE_ADVICE, 12345, "MADV_???"),
        "0x3039 /* MADV_??? */"
    );
    assert_eq!(
        flags::xval(flags::CLOCK_IDS, 0xffff_fffa, "CLOCK_???"),
        "0xfffffffa /* CLOCK_??? */"
    );
    assert_eq!(flags::futex_op(128), "FUTEX_WAIT_PRIVATE");
    assert_eq!(
        flags::futex_op(9 | 128 | 256),
        "FUTEX_WAIT_BITSET_PRIVATE|FUTEX_CLOCK_REALTIME"
    );
    assert_eq!(flags::futex_op(99), "0x63 /* FUTEX_??? */");
    assert_eq!(
        flags::statx_flags(0x1000),
        "AT_STATX_SYNC_AS_STAT|AT_EMPTY_PATH"
    );
    assert_eq!(flags::octal_mode(0), "000");
    assert_eq!(flags::octal_mode(0o7), "007");
    assert_eq!(flags::octal_mode(0o644), "0644");
    assert_eq!(flags::octal_mode(0o4755), "04755");
    assert_eq!(structs::symbolic_mode(0o100755), "S_IFREG|0755");
    assert_eq!(structs::symbolic_mode(0o41777), "S_IFDIR|S_ISVTX|0777");
    assert_eq!(signals::signal_name(11), "SIGSEGV");
    assert_eq!(signals::signal_name(32), "SIGRTMIN");
    assert_eq!(signals::signal_name(33), "SIGRT_1");
    assert_eq!(signals::signal_name(64), "SIGRT_32");
    assert_eq!(signals::signal_name(65), "65");
    assert_eq!(signals::sigset_bits(&[0; 8]), "[]");
    assert_eq!(signals::sigset_bits(&[0xff; 8]), "~[]");
    assert_eq!(signals::sigset_bits(&(1u64 << 16).to_le_bytes()), "[CHLD]");
}

#[test]
fn unknown_syscall_and_errors() {
    let m = Mem::new();
    assert_eq!(
        text(&m, &ev(0x1f4, &[1, 2, 3, 4, 5, 6], R::Err(38))),
        "syscall_0x1f4(0x1, 0x2, 0x3, 0x4, 0x5, 0x6) = -1 ENOSYS (Function not implemented)"
    );
    assert_eq!(
        text(&m, &ev(u64::MAX as usize, &[], R::Ok(0))),
        "syscall_0xffffffffffffffff(0, 0, 0, 0, 0, 0) = 0"
    );
    assert_eq!(
        text(&m, &ev(n::GETPID, &[], R::Err(200))),
        "getpid()                                = -1 200 (Unknown error 200)"
    );
    assert_eq!(
        text(&m, &ev(n::READ, &[0, 0, 10], R::Err(512))),
        "read(0, NULL, 10)                       = ? ERESTARTSYS (To be restarted if SA_RESTART is set)"
    );
    assert_eq!(
        text(&m, &ev(n::EXIT_GROUP, &[0], R::NoRet)),
        "exit_group(0)                           = ?"
    );
}

#[test]
fn every_named_syscall_has_a_row() {
    for (nr, name) in guest_abi::sysno::NAMES.iter().enumerate() {
        if !name.is_empty() {
            assert!(
                table::row(nr as u64).is_some(),
                "no table row for {name} ({nr})"
            );
        }
    }
    for row in table::all_rows() {
        assert!(row.args.len() <= 6, "too many args for {}", row.nr);
    }
}

/// A tiny xorshift generator for the robustness test.
struct Rng(u64);
impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0
    }
}

#[test]
fn garbage_never_panics() {
    let mut rng = Rng(0x9e37_79b9_7f4a_7c15);
    let mut m = Mem::new();
    let junk: Vec<u8> = (0..8192).map(|_| rng.next() as u8).collect();
    m.bytes(&junk);
    let base = m.base;
    let end = m.end();
    let opts = [
        TraceOptions::default(),
        TraceOptions {
            format: TraceFormat::Json,
            timestamps: true,
            durations: true,
            string_limit: 1 << 40,
            syscalls: true,
        },
        TraceOptions {
            string_limit: 0,
            ..TraceOptions::default()
        },
    ];
    for nr in 0..480usize {
        for round in 0..30 {
            let mut args = [0u64; 6];
            for a in &mut args {
                *a = match rng.next() % 8 {
                    0 => 0,
                    1 => base + rng.next() % 8192,
                    2 => end - rng.next() % 64,
                    3 => rng.next(),
                    4 => u64::MAX - rng.next() % 16,
                    5 => rng.next() % 4096,
                    6 => base + 8 * (rng.next() % 1024),
                    _ => rng.next() % 64,
                };
            }
            let ret = match rng.next() % 4 {
                0 => R::Ok(rng.next()),
                1 => R::Ok(rng.next() % 300),
                2 => R::Err((rng.next() % 600) as u16),
                _ => R::NoRet,
            };
            let mut e = ev(nr, &[], ret);
            e.args = args;
            let line = format_syscall(&e, &m, &opts[round % opts.len()]);
            assert!(line.is_ascii() || round % 3 == 1, "non-ASCII line {line}");
            if round % 3 == 1 {
                assert_valid_json(&line);
            }
        }
    }
}

// ---- JSON -----------------------------------------------------------------

/// Checks that `s` is exactly one valid JSON value (a small parser).
fn assert_valid_json(s: &str) {
    fn ws(b: &[u8], i: &mut usize) {
        while *i < b.len() && b" \t\r\n".contains(&b[*i]) {
            *i += 1;
        }
    }
    fn value(b: &[u8], i: &mut usize) -> bool {
        ws(b, i);
        let ok = match b.get(*i) {
            Some(b'{') => {
                *i += 1;
                ws(b, i);
                if b.get(*i) == Some(&b'}') {
                    *i += 1;
                    return true;
                }
                loop {
                    ws(b, i);
                    if !string(b, i) {
                        return false;
                    }
                    ws(b, i);
                    if b.get(*i) != Some(&b':') {
                        return false;
                    }
                    *i += 1;
                    if !value(b, i) {
                        return false;
                    }
                    ws(b, i);
                    match b.get(*i) {
                        Some(b',') => *i += 1,
                        Some(b'}') => {
                            *i += 1;
                            break true;
                        }
                        _ => return false,
                    }
                }
            }
            Some(b'[') => {
                *i += 1;
                ws(b, i);
                if b.get(*i) == Some(&b']') {
                    *i += 1;
                    return true;
                }
                loop {
                    if !value(b, i) {
                        return false;
                    }
                    ws(b, i);
                    match b.get(*i) {
                        Some(b',') => *i += 1,
                        Some(b']') => {
                            *i += 1;
                            break true;
                        }
                        _ => return false,
                    }
                }
            }
            Some(b'"') => string(b, i),
            Some(b't') => lit(b, i, b"true"),
            Some(b'f') => lit(b, i, b"false"),
            Some(b'n') => lit(b, i, b"null"),
            Some(c) if *c == b'-' || c.is_ascii_digit() => {
                let start = *i;
                *i += 1;
                while *i < b.len() && (b[*i].is_ascii_digit() || b".eE+-".contains(&b[*i])) {
                    *i += 1;
                }
                std::str::from_utf8(&b[start..*i]).is_ok_and(|t| t.parse::<f64>().is_ok())
            }
            _ => false,
        };
        ok
    }
    fn lit(b: &[u8], i: &mut usize, l: &[u8]) -> bool {
        if b[*i..].starts_with(l) {
            *i += l.len();
            true
        } else {
            false
        }
    }
    fn string(b: &[u8], i: &mut usize) -> bool {
        if b.get(*i) != Some(&b'"') {
            return false;
        }
        *i += 1;
        while let Some(&c) = b.get(*i) {
            *i += 1;
            match c {
                b'"' => return true,
                b'\\' => match b.get(*i) {
                    Some(b'"' | b'\\' | b'/' | b'b' | b'f' | b'n' | b'r' | b't') => *i += 1,
                    Some(b'u') => {
                        if b.len() < *i + 5 || !b[*i + 1..*i + 5].iter().all(u8::is_ascii_hexdigit)
                        {
                            return false;
                        }
                        *i += 5;
                    }
                    _ => return false,
                },
                c if c < 0x20 => return false,
                _ => {}
            }
        }
        false
    }
    let b = s.as_bytes();
    let mut i = 0;
    assert!(value(b, &mut i), "invalid JSON: {s}");
    ws(b, &mut i);
    assert_eq!(i, b.len(), "trailing data after JSON: {s}");
}

#[test]
fn json_lines() {
    let mut m = Mem::new();
    let p = m.str("/etc/\"pa\\ss\"wd\n");
    let opts = TraceOptions {
        format: TraceFormat::Json,
        ..TraceOptions::default()
    };
    let e = ev(n::OPENAT, &[(-100i64) as u64, p, 0o2000000], R::Ok(3));
    let j = format_syscall(&e, &m, &opts);
    assert_valid_json(&j);
    assert_eq!(
        j,
        r#"{"time":"2023-11-14T22:13:20.123456Z","tid":1234,"syscall":"openat","nr":257,"args":["AT_FDCWD","\"/etc/\\\"pa\\\\ss\\\"wd\\n\"","O_RDONLY|O_CLOEXEC"],"ret":3,"errno":null,"duration_us":12.000,"ret_text":"3"}"#
    );
    let e = ev(n::OPENAT, &[(-100i64) as u64, p, 0], R::Err(2));
    let j = format_syscall(&e, &m, &opts);
    assert_valid_json(&j);
    assert!(j.contains(r#""ret":-1,"errno":"ENOENT""#), "{j}");
    let e = ev(n::EXIT_GROUP, &[0], R::NoRet);
    let j = format_syscall(&e, &m, &opts);
    assert_valid_json(&j);
    assert!(j.contains(r#""ret":null,"errno":null"#), "{j}");

    let (out, t) = capture(opts.clone());
    t.task_created(1);
    t.exited(1, 0);
    t.killed(2, 11, true);
    t.note(3, "--- SIGSEGV {si_signo=SIGSEGV} ---\n\u{1}\"");
    t.finish();
    let s = out.contents();
    let lines: Vec<&str> = s.lines().collect();
    assert_eq!(lines.len(), 3);
    for l in &lines {
        assert_valid_json(l);
    }
    assert!(
        lines[0].ends_with(r#""event":"exited","tid":1,"status":0}"#),
        "{}",
        lines[0]
    );
    assert!(
        lines[1].ends_with(
            r#""event":"killed","tid":2,"signal":"SIGSEGV","signo":11,"core_dumped":true}"#
        ),
        "{}",
        lines[1]
    );
    assert!(
        lines[2].ends_with(
            r#""event":"note","tid":3,"text":"--- SIGSEGV {si_signo=SIGSEGV} ---\n\u0001\""}"#
        ),
        "{}",
        lines[2]
    );
}

// ---- The Tracer ---------------------------------------------------------------

/// A destination shared with the test.
#[derive(Clone, Default)]
struct Shared(Arc<parking_lot::Mutex<Vec<u8>>>);

impl Write for Shared {
    fn write(&mut self, b: &[u8]) -> std::io::Result<usize> {
        self.0.lock().extend_from_slice(b);
        Ok(b.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

impl Shared {
    fn contents(&self) -> String {
        String::from_utf8_lossy(&self.0.lock()).into_owned()
    }
}

fn capture(opts: TraceOptions) -> (Shared, Tracer) {
    let out = Shared::default();
    let t = Tracer::new(Box::new(out.clone()), opts);
    (out, t)
}

#[test]
fn pid_prefix_while_several_tasks_live() {
    let m = Mem::new();
    let (out, t) = capture(TraceOptions::default());
    let mut e = ev(n::GETPID, &[], R::Ok(100));
    e.tid = 100;
    t.task_created(100);
    t.syscall(&e, &m);
    t.task_created(101);
    t.syscall(&e, &m);
    let mut c = ev(n::WRITE, &[4, 0, 0], R::Ok(0));
    c.tid = 101;
    t.syscall(&c, &m);
    t.exited(101, 3);
    t.syscall(&e, &m);
    t.note(
        100,
        "--- SIGABRT {si_signo=SIGABRT, si_code=SI_TKILL, si_pid=4, si_uid=0} ---",
    );
    t.killed(100, 6, true);
    t.finish();
    assert_eq!(
        out.contents(),
        "getpid()                                = 100\n\
         [pid   100] getpid()                    = 100\n\
         [pid   101] write(4, NULL, 0)           = 0\n\
         [pid   101] +++ exited with 3 +++\n\
         getpid()                                = 100\n\
         --- SIGABRT {si_signo=SIGABRT, si_code=SI_TKILL, si_pid=4, si_uid=0} ---\n\
         +++ killed by SIGABRT (core dumped) +++\n"
    );
}

#[test]
fn timestamps_and_durations() {
    let m = Mem::new();
    let opts = TraceOptions {
        timestamps: true,
        durations: true,
        ..TraceOptions::default()
    };
    let line = format_syscall(&ev(n::BRK, &[0], R::Ok(0x559e_aa8b_8000)), &m, &opts);
    // strace -tt -T: `18:30:16.094906 brk(NULL)               = 0x559eaa8b8000 <0.000016>`
    let (time, rest) = line.split_at(16);
    let b = time.as_bytes();
    assert!(
        b.len() == 16
            && [2, 5].iter().all(|&i| b[i] == b':')
            && b[8] == b'.'
            && b[15] == b' '
            && b.iter()
                .enumerate()
                .all(|(i, c)| [2, 5, 8, 15].contains(&i) || c.is_ascii_digit()),
        "{line}"
    );
    assert!(time.ends_with(".123456 "), "{line}");
    assert_eq!(rest, "brk(NULL)               = 0x559eaa8b8000 <0.000012>");
    let line = format_syscall(&ev(n::EXIT_GROUP, &[5], R::NoRet), &m, &opts);
    assert_eq!(&line[16..], "exit_group(5)           = ?");
    assert_eq!(
        line::duration(Duration::from_micros(2_500_001)),
        "<2.500001>"
    );
    let mut e = ev(n::GETPID, &[], R::Ok(4));
    e.tid = 5;
    assert_eq!(&format_line(&e, &m, &opts, true)[..12], "[pid     5] ");
    assert_eq!(line::utc_time(UNIX_EPOCH), "1970-01-01T00:00:00.000000Z");
    assert_eq!(
        line::utc_time(UNIX_EPOCH + Duration::from_secs(951_782_400 + 86_399)),
        "2000-02-29T23:59:59.000000Z"
    );
}

#[test]
fn finish_flushes_everything_and_is_idempotent() {
    let m = Mem::new();
    let (out, t) = capture(TraceOptions::default());
    let t = Arc::new(t);
    let threads: Vec<_> = (0..4)
        .map(|k| {
            let t = Arc::clone(&t);
            std::thread::spawn(move || {
                let m = Mem::new();
                for _ in 0..500 {
                    let mut e = ev(n::GETPID, &[], R::Ok(k));
                    e.tid = k as i32 + 1;
                    t.syscall(&e, &m);
                }
            })
        })
        .collect();
    for h in threads {
        assert!(h.join().is_ok());
    }
    t.finish();
    let s = out.contents();
    assert_eq!(s.lines().count(), 2000);
    assert!(s.ends_with('\n'));
    t.finish();
    // After finish, events are dropped rather than queued forever.
    t.syscall(&ev(n::GETPID, &[], R::Ok(1)), &m);
    t.finish();
    assert_eq!(out.contents().lines().count(), 2000);
    assert!(t.take_error().is_none());
}

#[test]
fn drop_flushes() {
    let m = Mem::new();
    let (out, t) = capture(TraceOptions::default());
    t.syscall(&ev(n::GETPID, &[], R::Ok(1)), &m);
    drop(t);
    assert_eq!(
        out.contents(),
        "getpid()                                = 1\n"
    );
}

/// A destination that blocks every write until the test opens the gate.
struct Gated {
    out: Shared,
    gate: crossbeam_channel::Receiver<()>,
    open: bool,
}

impl Write for Gated {
    fn write(&mut self, b: &[u8]) -> std::io::Result<usize> {
        if !self.open {
            // Blocks until the sender is dropped.
            let _ = self.gate.recv();
            self.open = true;
        }
        self.out.write(b)
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

#[test]
fn a_blocked_destination_never_blocks_the_caller() {
    let mut m = Mem::new();
    let buf = m.bytes(&[b'x'; 64]);
    let out = Shared::default();
    let (open_gate, gate) = crossbeam_channel::bounded::<()>(0);
    let t = Tracer::new(
        Box::new(Gated {
            out: out.clone(),
            gate,
            open: false,
        }),
        TraceOptions::default(),
    );
    // Enough lines to fill the writer's buffer many times over: the writer
    // is stuck in its first write, so every one of these calls completes
    // only if syscall() never waits for it.
    let start = Instant::now();
    for _ in 0..20_000 {
        t.syscall(&ev(n::WRITE, &[1, buf, 64], R::Ok(64)), &m);
    }
    let spent = start.elapsed();
    assert!(out.contents().is_empty());
    assert!(
        spent < Duration::from_secs(20),
        "syscall() took {spent:?} in total"
    );
    drop(open_gate);
    t.finish();
    assert_eq!(out.contents().lines().count(), 20_000);
}

/// A destination that takes its time over every write.
struct Slow(Shared);

impl Write for Slow {
    fn write(&mut self, b: &[u8]) -> std::io::Result<usize> {
        std::thread::sleep(Duration::from_millis(200));
        self.0.write(b)
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

#[test]
fn a_slow_destination_costs_the_caller_nothing() {
    let m = Mem::new();
    let out = Shared::default();
    let t = Tracer::new(Box::new(Slow(out.clone())), TraceOptions::default());
    let start = Instant::now();
    for _ in 0..200 {
        t.syscall(&ev(n::GETPID, &[], R::Ok(1)), &m);
        std::thread::sleep(Duration::from_micros(100));
    }
    // A caller that waited for the writer would spend 200 ms per flush.
    let spent = start.elapsed();
    assert!(
        spent < Duration::from_secs(5),
        "syscall() took {spent:?} in total"
    );
    t.finish();
    assert_eq!(out.contents().lines().count(), 200);
}

/// A destination that fails.
struct Broken;

impl Write for Broken {
    fn write(&mut self, _: &[u8]) -> std::io::Result<usize> {
        Err(std::io::Error::other("disk on fire"))
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

#[test]
fn write_errors_are_reported_not_fatal() {
    let m = Mem::new();
    let t = Tracer::new(Box::new(Broken), TraceOptions::default());
    for _ in 0..10 {
        t.syscall(&ev(n::GETPID, &[], R::Ok(1)), &m);
    }
    t.finish();
    let e = t.take_error();
    assert!(matches!(e, Some(TraceError::Write(_))), "{e:?}");
}

#[test]
fn tracer_is_shareable() {
    fn send_sync<T: Send + Sync>() {}
    send_sync::<Tracer>();
    send_sync::<Arc<Tracer>>();
}
