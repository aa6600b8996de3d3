//! Syscall trace logs in strace's format (and JSON Lines for machines).
//!
//! # What "strace-compatible" means here
//!
//! A text trace reads like `strace -f` output (strace 6.x) of the same
//! program: `name(args) = ret`, the ` = ` at column 40 counted from the start
//! of the line, errors as `= -1 ENOENT (No such file or directory)`, `= ?`
//! for calls that do not return, `[pid  1234] ` prefixes while more than one
//! task is alive, `-tt` times and `-T` durations. Arguments are decoded the
//! way strace decodes them: strings quoted and escaped byte for byte like
//! strace, cut at the string limit (`-s`) with `...` (paths are never cut,
//! as in strace), flags and enumerations by name with unknown bits in hex,
//! structures in strace's abbreviated form, buffers a call fills shown after
//! it with the length it returned. The unit tests hold lines captured from
//! the real strace, with only addresses and pids masked.
//!
//! Known differences, all from seeing each call once, after it completed:
//! a call is one line written when it completes, never strace's
//! `<unfinished ...>`/`<... resumed>` pair, so lines of different tasks are
//! in completion order; input arguments are read after the call, so they
//! show memory as the call left it; `rt_sigreturn` is shown without the
//! signal mask (strace reads it from the stack). For execve the caller
//! decodes the arguments at entry ([`Tracer::read_ahead`] through a
//! [`recorded::Recorder`]) and formats the line from those reads.
//!
//! # Hot path rules
//!
//! Tracing costs nothing unless a `Tracer` exists. With one, the cost on the
//! calling kernel thread is the formatting (reads of guest memory, bounded
//! by the string limit and fixed caps) plus one send on an unbounded
//! channel: it never blocks on the trace file, whatever the file does.
//! Nothing a guest controls can make the formatter panic or read without
//! bound: bad pointers print as addresses, lengths are capped, bytes are
//! escaped (so lines are always ASCII), unknown values print in hex.
//!
//! # Threading
//!
//! `Tracer` is `Send + Sync` and shared through `Arc` by all kernel threads.
//! Lines are formatted on the thread that calls it and queued; one writer
//! thread owns the destination behind a `BufWriter`, and flushes whenever the
//! queue is momentarily empty and at [`Tracer::finish`] (also run on drop).
//! The pid-prefix state (the set of live tasks) is a small mutex taken once
//! per event.
//!
//! # Layout
//!
//! `table.rs`: per syscall the argument and return kinds (one row each).
//! `decode.rs`: walks a row. Decoders by family: `strings.rs` (escaping,
//! guest strings, argv), `flags.rs` (all constant tables), `signals.rs`,
//! `structs.rs`, `commands.rs` (fcntl, ioctl, prctl, futex, clone, ...).
//! `line.rs`/`json.rs`: whole lines. `writer.rs`: the `Tracer`.
//! `sched.rs`: scheduler event lines (`--trace-sched`); `timeline.rs`: the
//! Chrome-trace timeline of vCPUs (`--timeline`).

mod commands;
mod decode;
mod flags;
mod json;
mod line;
pub mod recorded;
mod sched;
mod signals;
mod strings;
mod structs;
mod table;
pub mod timeline;
mod writer;

#[cfg(test)]
mod tests;
#[cfg(test)]
mod tests_strace;

pub use signals::{siginfo_text, signal_name};
pub use writer::Tracer;

use std::time::{Duration, SystemTime};

/// Read access to a guest's memory for decoding arguments.
pub trait GuestMemRead {
    /// Fills `buf` from guest address `addr`; false if any of it is not
    /// readable (the decoders then print the address, as strace does on
    /// EFAULT).
    fn read(&self, addr: u64, buf: &mut [u8]) -> bool;
}

/// One completed syscall.
#[derive(Clone, Debug)]
pub struct SyscallEvent {
    /// Guest thread id (shown as `[pid N]`).
    pub tid: i32,
    pub nr: u64,
    pub args: [u64; 6],
    /// `None`: the call does not return (exit, exit_group), shown `= ?`.
    pub ret: Option<Result<u64, guest_abi::Errno>>,
    /// When the call started (the `-tt` time).
    pub start: SystemTime,
    /// How long it took (the `-T` duration).
    pub duration: Duration,
}

/// Output format.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum TraceFormat {
    /// strace's text format.
    Text,
    /// One JSON object per line.
    Json,
}

/// What to trace and how.
#[derive(Clone, Debug)]
pub struct TraceOptions {
    pub format: TraceFormat,
    /// Prefix lines with the time, like `strace -tt`.
    pub timestamps: bool,
    /// Append the duration, like `strace -T`.
    pub durations: bool,
    /// Bytes of strings and buffers shown, like `strace -s` (default 32).
    pub string_limit: usize,
    /// Trace syscalls (off when only `--trace-sched` asked for a trace).
    pub syscalls: bool,
}

impl Default for TraceOptions {
    fn default() -> Self {
        TraceOptions {
            format: TraceFormat::Text,
            timestamps: false,
            durations: false,
            string_limit: 32,
            syscalls: true,
        }
    }
}

/// Errors of the trace writer.
#[derive(Debug, thiserror::Error)]
pub enum TraceError {
    #[error("could not start the trace writer thread: {0}")]
    Spawn(#[source] std::io::Error),
    #[error("writing the trace failed: {0}")]
    Write(#[source] std::io::Error),
}

/// Formats one syscall as one line (no newline) in `opts.format`, without
/// the `[pid N] ` prefix (which depends on the other tasks; the [`Tracer`]
/// adds it). Pure apart from reading `mem` and the local time zone.
pub fn format_syscall(ev: &SyscallEvent, mem: &dyn GuestMemRead, opts: &TraceOptions) -> String {
    format_line(ev, mem, opts, false)
}

/// [`format_syscall`] with the choice of the pid prefix.
pub(crate) fn format_line(
    ev: &SyscallEvent,
    mem: &dyn GuestMemRead,
    opts: &TraceOptions,
    pid_prefix: bool,
) -> String {
    let d = decode::decode(ev, mem, opts.string_limit);
    match opts.format {
        TraceFormat::Text => line::text(&d, ev, opts, pid_prefix),
        TraceFormat::Json => line::json(&d, ev),
    }
}
