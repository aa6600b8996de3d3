//! Micro-benchmarks of syscall trace formatting (`umk::trace::format_syscall`):
//! under `umk run --trace` every syscall is decoded and formatted on the
//! kernel thread that ran it, before the guest resumes, so this cost adds
//! to each traced syscall (the file write happens on the writer thread).
//! Typical lines: an `openat` (path string and flags), a `read` whose
//! 4 KiB buffer is escaped and cut at `-s 32`, a `write` of a short
//! string, the same `read` with `-s 4096`, and the `openat` as JSON Lines.
//!
//! Run with `cargo bench -p umk --bench trace`.

use std::time::{Duration, UNIX_EPOCH};

use divan::{black_box, Bencher};
use guest_abi::sysno;
use umk::trace::recorded::Recorded;
use umk::trace::{format_syscall, SyscallEvent, TraceFormat, TraceOptions};

fn main() {
    divan::main();
}

const PATH: u64 = 0x7ffe_bedd_0000;
const BUF: u64 = PATH + 0x1000;
const MSG: u64 = PATH + 0x3000;
const MSG_TEXT: &[u8] = b"hello, world\n\0";

/// `/etc/passwd` at `PATH`, 4 KiB of `/etc/passwd`-like text (with
/// newlines, colons and a few bytes that need octal escapes) at `BUF`, a
/// short message at `MSG`.
fn memory() -> Recorded {
    let mut data = vec![0u8; 0x4000];
    data[..12].copy_from_slice(b"/etc/passwd\0");
    let line = b"root:x:0:0:root:/root:/bin/bash\ndaemon:x:1:1:\x01\x7f\tdaemon:/usr/sbin\n";
    for (i, b) in data[0x1000..0x2000].iter_mut().enumerate() {
        *b = line[i % line.len()];
    }
    data[0x3000..0x3000 + MSG_TEXT.len()].copy_from_slice(MSG_TEXT);
    Recorded::from_ranges(vec![(PATH, data)])
}

fn event(nr: usize, args: [u64; 6], ret: u64) -> SyscallEvent {
    SyscallEvent {
        tid: 1234,
        nr: nr as u64,
        args,
        ret: Some(Ok(ret)),
        start: UNIX_EPOCH + Duration::from_micros(1_700_000_000_123_456),
        duration: Duration::from_micros(12),
    }
}

const AT_FDCWD: u64 = -100i64 as u64;
const O_CLOEXEC: u64 = 0o2000000;

fn openat() -> SyscallEvent {
    event(sysno::OPENAT, [AT_FDCWD, PATH, O_CLOEXEC, 0, 0, 0], 3)
}

fn read_4k() -> SyscallEvent {
    event(sysno::READ, [3, BUF, 4096, 0, 0, 0], 4096)
}

fn write_msg() -> SyscallEvent {
    let len = (MSG_TEXT.len() - 1) as u64;
    event(sysno::WRITE, [1, MSG, len, 0, 0, 0], len)
}

const OPENAT_LINE: &str = r#"openat(AT_FDCWD, "/etc/passwd", O_RDONLY|O_CLOEXEC) = 3"#;
const READ_LINE: &str = r#"read(3, "root:x:0:0:root:/root:/bin/bash\n"..., 4096) = 4096"#;
const WRITE_LINE: &str = r#"write(1, "hello, world\n", 13)          = 13"#;
const OPENAT_JSON: &str = r#"{"time":"2023-11-14T22:13:20.123456Z","tid":1234,"syscall":"openat","nr":257,"args":["AT_FDCWD","\"/etc/passwd\"","O_RDONLY|O_CLOEXEC"],"ret":3,"errno":null,"duration_us":12.000,"ret_text":"3"}"#;

fn text(limit: usize) -> TraceOptions {
    TraceOptions {
        string_limit: limit,
        ..TraceOptions::default()
    }
}

/// Formats `ev` once to check it reads `expected` (up to a `-tt` time,
/// which depends on the time zone), then measures it.
fn bench_line(bencher: Bencher, ev: SyscallEvent, opts: TraceOptions, expected: &str) {
    let mem = memory();
    let line = format_syscall(&ev, &mem, &opts);
    assert!(line.ends_with(expected), "{line}");
    bencher.bench_local(|| format_syscall(black_box(&ev), &mem, &opts));
}

/// `openat(AT_FDCWD, "/etc/passwd", O_RDONLY|O_CLOEXEC) = 3`
#[divan::bench]
fn openat_text(bencher: Bencher) {
    bench_line(bencher, openat(), text(32), OPENAT_LINE);
}

/// `read(3, "root:x:0:0:root:/root:/bin/bash\n"..., 4096) = 4096` (-s 32)
#[divan::bench]
fn read_4k_s32(bencher: Bencher) {
    bench_line(bencher, read_4k(), text(32), READ_LINE);
}

/// The same `read` with `-s 4096`: the whole buffer escaped.
#[divan::bench]
fn read_4k_s4096(bencher: Bencher) {
    bench_line(bencher, read_4k(), text(4096), "r\", 4096) = 4096");
}

/// `write(1, "hello, world\n", 13) = 13`
#[divan::bench]
fn write_text(bencher: Bencher) {
    bench_line(bencher, write_msg(), text(32), WRITE_LINE);
}

/// `openat` with `-tt -T` (local time of day and duration).
#[divan::bench]
fn openat_text_tt_t(bencher: Bencher) {
    let opts = TraceOptions {
        timestamps: true,
        durations: true,
        ..TraceOptions::default()
    };
    bench_line(bencher, openat(), opts, "= 3 <0.000012>");
}

/// The `openat` as a JSON Lines object.
#[divan::bench]
fn openat_json(bencher: Bencher) {
    let opts = TraceOptions {
        format: TraceFormat::Json,
        ..TraceOptions::default()
    };
    bench_line(bencher, openat(), opts, OPENAT_JSON);
}

/// The `read` (-s 32) as a JSON Lines object.
#[divan::bench]
fn read_4k_json(bencher: Bencher) {
    let opts = TraceOptions {
        format: TraceFormat::Json,
        ..TraceOptions::default()
    };
    bench_line(
        bencher,
        read_4k(),
        opts,
        r#""ret":4096,"errno":null,"duration_us":12.000,"ret_text":"4096"}"#,
    );
}
