//! Assembling whole output lines: strace's leader (`[pid N] ` and the `-tt`
//! time), the call padded so ` = ` starts at column 40, the return value and
//! the `-T` duration; and the JSON Lines form of the same content.

use super::decode::Decoded;
use super::json::{self, JsonObject};
use super::{SyscallEvent, TraceFormat, TraceOptions};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

/// strace's column for the `=` of the result (its `-a` default).
const RESULT_COLUMN: usize = 40;

/// `HH:MM:SS.uuuuuu` in local time, like `strace -tt`.
pub(crate) fn local_time(t: SystemTime) -> String {
    let d = t.duration_since(UNIX_EPOCH).unwrap_or_default();
    let secs = libc::time_t::try_from(d.as_secs()).unwrap_or(libc::time_t::MAX);
    // SAFETY: `libc::tm` is a plain C struct of integers and one pointer, for
    // which all-zero bytes are a valid value.
    let mut tm: libc::tm = unsafe { std::mem::zeroed() };
    // SAFETY: both pointers are to live, properly aligned locals;
    // localtime_r is the thread-safe variant and writes only to `tm`.
    let ok = unsafe { !libc::localtime_r(&secs, &mut tm).is_null() };
    let (h, m, s) = if ok {
        (tm.tm_hour as u64, tm.tm_min as u64, tm.tm_sec as u64)
    } else {
        let day = d.as_secs() % 86400;
        (day / 3600, day / 60 % 60, day % 60)
    };
    format!("{h:02}:{m:02}:{s:02}.{:06}", d.subsec_micros())
}

/// `2024-05-01T18:30:16.094906Z`: UTC, for JSON.
pub(crate) fn utc_time(t: SystemTime) -> String {
    let d = t.duration_since(UNIX_EPOCH).unwrap_or_default();
    let secs = d.as_secs();
    let days = (secs / 86400) as i64;
    let rem = secs % 86400;
    // Days to civil date (Howard Hinnant's algorithm).
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = doy - (153 * mp + 2) / 5 + 1;
    let month = if mp < 10 { mp + 3 } else { mp - 9 };
    let year = yoe + era * 400 + i64::from(month <= 2);
    format!(
        "{year:04}-{month:02}-{day:02}T{:02}:{:02}:{:02}.{:06}Z",
        rem / 3600,
        rem / 60 % 60,
        rem % 60,
        d.subsec_micros()
    )
}

/// `<0.000012>`, like `strace -T`.
pub(crate) fn duration(d: Duration) -> String {
    format!("<{}.{:06}>", d.as_secs(), d.subsec_micros())
}

/// The start of a text line: `[pid  1234] ` when several tasks are traced,
/// then the `-tt` time.
pub(crate) fn leader(tid: i32, pid_prefix: bool, time: Option<SystemTime>) -> String {
    let mut s = String::new();
    if pid_prefix {
        s.push_str(&format!("[pid {tid:5}] "));
    }
    if let Some(t) = time {
        s.push_str(&local_time(t));
        s.push(' ');
    }
    s
}

/// The text line of a decoded call (without the newline).
pub(crate) fn text(
    d: &Decoded,
    ev: &SyscallEvent,
    opts: &TraceOptions,
    pid_prefix: bool,
) -> String {
    let mut s = leader(ev.tid, pid_prefix, opts.timestamps.then_some(ev.start));
    s.push_str(&d.name);
    s.push('(');
    s.push_str(&d.args.join(", "));
    s.push_str(") ");
    // Lines are ASCII (strings are escaped), so bytes are columns.
    if s.len() < RESULT_COLUMN {
        s.push_str(&" ".repeat(RESULT_COLUMN - s.len()));
    }
    s.push_str("= ");
    s.push_str(&d.ret);
    if opts.durations && ev.ret.is_some() {
        s.push(' ');
        s.push_str(&duration(ev.duration));
    }
    s
}

/// The JSON line of a decoded call (without the newline).
pub(crate) fn json(d: &Decoded, ev: &SyscallEvent) -> String {
    let mut o = JsonObject::new();
    o.str("time", &utc_time(ev.start));
    o.int("tid", i64::from(ev.tid));
    o.str("syscall", &d.name);
    o.uint("nr", ev.nr);
    o.raw("args", &json::array(&d.args));
    match d.ret_num {
        Some(n) => o.int("ret", n),
        None => o.null("ret"),
    }
    match &d.errno {
        Some(e) => o.str("errno", e),
        None => o.null("errno"),
    }
    o.raw(
        "duration_us",
        &format!("{:.3}", ev.duration.as_nanos() as f64 / 1000.0),
    );
    o.str("ret_text", &d.ret);
    o.finish()
}

/// An event line (`+++ exited with 0 +++` and friends) in either format.
pub(crate) enum Event<'a> {
    Exited(i32),
    Killed { sig: i32, core_dumped: bool },
    Note(&'a str),
}

pub(crate) fn event(
    ev: &Event,
    tid: i32,
    time: SystemTime,
    opts: &TraceOptions,
    pid_prefix: bool,
) -> String {
    match opts.format {
        TraceFormat::Text => {
            let mut s = leader(tid, pid_prefix, opts.timestamps.then_some(time));
            match ev {
                Event::Exited(status) => s.push_str(&format!("+++ exited with {status} +++")),
                Event::Killed { sig, core_dumped } => s.push_str(&format!(
                    "+++ killed by {}{} +++",
                    super::signals::signal_name(*sig),
                    if *core_dumped { " (core dumped)" } else { "" }
                )),
                // One event, one line.
                Event::Note(text) => s.push_str(&text.trim_end_matches('\n').replace('\n', "\\n")),
            }
            s
        }
        TraceFormat::Json => {
            let mut o = JsonObject::new();
            o.str("time", &utc_time(time));
            match ev {
                Event::Exited(status) => {
                    o.str("event", "exited");
                    o.int("tid", i64::from(tid));
                    o.int("status", i64::from(*status));
                }
                Event::Killed { sig, core_dumped } => {
                    o.str("event", "killed");
                    o.int("tid", i64::from(tid));
                    o.str("signal", &super::signals::signal_name(*sig));
                    o.int("signo", i64::from(*sig));
                    o.raw("core_dumped", if *core_dumped { "true" } else { "false" });
                }
                Event::Note(text) => {
                    o.str("event", "note");
                    o.int("tid", i64::from(tid));
                    o.str("text", text);
                }
            }
            o.finish()
        }
    }
}
