//! Turns one syscall event into its strace pieces: the name, the argument
//! strings and the return value, by walking the table row's argument kinds.

use super::commands;
use super::flags;
use super::signals;
use super::strings::{self, addr};
use super::structs;
use super::table::{self, Arg, Ret, Row};
use super::{GuestMemRead, SyscallEvent};
use guest_abi::Errno;

/// What a decoder needs: the event, guest memory and the string limit.
pub(crate) struct Ctx<'a> {
    pub ev: &'a SyscallEvent,
    pub mem: &'a dyn GuestMemRead,
    pub limit: usize,
}

impl Ctx<'_> {
    /// Argument `i` (0 past the sixth).
    pub fn arg(&self, i: usize) -> u64 {
        self.ev.args.get(i).copied().unwrap_or(0)
    }

    /// The return value if the call succeeded.
    pub fn ok(&self) -> Option<u64> {
        match self.ev.ret {
            Some(Ok(v)) => Some(v),
            _ => None,
        }
    }

    /// Whether the call failed because a signal interrupted it.
    pub fn interrupted(&self) -> bool {
        matches!(self.ev.ret, Some(Err(e)) if e.0 == 4 || (512..=516).contains(&e.0))
    }
}

/// A decoded call.
pub(crate) struct Decoded {
    pub name: String,
    pub args: Vec<String>,
    /// The text after `= `: `3`, `-1 ENOENT (No such file or directory)`, `?`.
    pub ret: String,
    /// The numeric return for JSON: `None` when the call did not return.
    pub ret_num: Option<i64>,
    /// The errno name when the call failed.
    pub errno: Option<String>,
}

/// `0` for zero, otherwise `0x..` (strace's `%#lx`).
pub(crate) fn hex(v: u64) -> String {
    if v == 0 {
        "0".to_string()
    } else {
        format!("{v:#x}")
    }
}

pub(crate) fn int(v: u64) -> String {
    (v as u32 as i32).to_string()
}

/// Decodes `ev` into strace's pieces.
pub(crate) fn decode(ev: &SyscallEvent, mem: &dyn GuestMemRead, limit: usize) -> Decoded {
    let ctx = Ctx {
        ev,
        mem,
        limit: limit.min(strings::MAX_LIMIT),
    };
    let row = table::row(ev.nr);
    let name = match (guest_abi::sysno::name(ev.nr), row) {
        (Some(n), Some(_)) => n.to_string(),
        _ => format!("syscall_{:#x}", ev.nr),
    };
    let args = match row {
        Some(row) => decode_args(&ctx, row),
        None => ev.args.iter().map(|&a| hex(a)).collect(),
    };
    let (ret, ret_num, errno) = format_ret(&ctx, row);
    Decoded {
        name,
        args,
        ret,
        ret_num,
        errno,
    }
}

fn decode_args(ctx: &Ctx, row: &Row) -> Vec<String> {
    let mut out = Vec::with_capacity(row.args.len());
    for (i, kind) in row.args.iter().enumerate() {
        decode_arg(ctx, *kind, i, &mut out);
    }
    out
}

/// Decodes argument `i` of kind `kind`, pushing zero (an optional argument
/// that is absent), one, or several (a command and its arguments) strings.
fn decode_arg(ctx: &Ctx, kind: Arg, i: usize, out: &mut Vec<String>) {
    let a = ctx.arg(i);
    let mem = ctx.mem;
    // For buffers and structures the call fills: decoded after success.
    let filled = |f: &dyn Fn(u64) -> String| match ctx.ok() {
        Some(r) if a != 0 => f(r),
        _ => addr(a),
    };
    let s = match kind {
        Arg::Int | Arg::Fd => int(a),
        Arg::UInt => (a as u32).to_string(),
        Arg::Long => (a as i64).to_string(),
        Arg::ULong => a.to_string(),
        Arg::Hex => hex(a),
        Arg::Ptr => addr(a),
        Arg::DirFd => {
            if a as u32 as i32 == flags::AT_FDCWD {
                "AT_FDCWD".to_string()
            } else {
                int(a)
            }
        }
        Arg::Mode => flags::octal_mode(a & 0xffff_ffff),
        Arg::Path => strings::path(mem, a),
        Arg::Str => strings::cstr(mem, a, ctx.limit),
        Arg::InBuf(len) => strings::buf(mem, a, ctx.arg(len), ctx.limit, false),
        Arg::OutBuf(len) => {
            filled(&|r| strings::buf(mem, a, r.min(ctx.arg(len)), ctx.limit, false))
        }
        Arg::OutHexBuf(len) => {
            filled(&|r| strings::buf(mem, a, r.min(ctx.arg(len)), ctx.limit, true))
        }
        Arg::OutStr => filled(&|r| strings::buf(mem, a, r, ctx.limit, false)),
        Arg::OutPath => filled(&|r| {
            let n = usize::try_from(r)
                .unwrap_or(strings::PATH_MAX)
                .min(strings::PATH_MAX);
            strings::cstr(mem, a, n)
        }),
        Arg::Argv => strings::argv(mem, a, ctx.limit),
        Arg::Envp => strings::argc(mem, a),
        Arg::Flags(table, dflt) => flags::flags(table, a & 0xffff_ffff, Some(dflt)),
        Arg::Enum(table, dflt) => flags::xval(table, a & 0xffff_ffff, dflt),
        Arg::OpenFlags => flags::open_flags(a),
        Arg::OpenMode => {
            if ctx.arg(i.wrapping_sub(1)) & (flags::O_CREAT | flags::O_TMPFILE_BIT) == 0 {
                return;
            }
            flags::octal_mode(a & 0xffff_ffff)
        }
        Arg::AccessMode => flags::flags(flags::ACCESS_MODES, a & 0xffff_ffff, None),
        Arg::Prot => flags::flags(flags::MMAP_PROT, a & 0xffff_ffff, Some("PROT_???")),
        Arg::MapFlags => flags::mmap_flags(a),
        Arg::MremapNewAddr => {
            if ctx.arg(i.wrapping_sub(1)) & flags::MREMAP_FIXED == 0 {
                return;
            }
            addr(a)
        }
        Arg::StatxFlags => flags::statx_flags(a),
        Arg::SockType => flags::socket_type(a),
        Arg::Signal => signals::signal_arg(a),
        Arg::InSigset(size) => signals::sigset(mem, a, ctx.arg(size)),
        Arg::OutSigset(size) => filled(&|_| signals::sigset(mem, a, ctx.arg(size))),
        Arg::InSigaction => signals::sigaction(mem, a),
        Arg::OutSigaction => filled(&|_| signals::sigaction(mem, a)),
        Arg::InTimespec => structs::timespec(mem, a),
        Arg::OutTimespec => filled(&|_| structs::timespec(mem, a)),
        Arg::RemTimespec => {
            if ctx.interrupted() {
                structs::timespec(mem, a)
            } else {
                addr(a)
            }
        }
        Arg::OutTimeval => filled(&|_| structs::timeval(mem, a)),
        Arg::InRlimit => structs::rlimit(mem, a),
        Arg::OutRlimit => filled(&|_| structs::rlimit(mem, a)),
        Arg::OutStat => filled(&|_| structs::stat(mem, a)),
        Arg::OutStatx => filled(&|_| structs::statx(mem, a)),
        Arg::OutUtsname => filled(&|_| structs::utsname(mem, a)),
        Arg::OutSysinfo => filled(&|_| structs::sysinfo(mem, a)),
        Arg::PollFds(n) => structs::pollfds(mem, a, ctx.arg(n) & 0xffff_ffff),
        Arg::OutPipe => filled(&|_| structs::int_pair(mem, a)),
        Arg::OutDents => filled(&|r| structs::dirents64(mem, a, r)),
        Arg::IovIn(n) => structs::iovec(mem, a, ctx.arg(n) & 0xffff_ffff, None, ctx.limit),
        Arg::IovOut(n) => {
            filled(&|r| structs::iovec(mem, a, ctx.arg(n) & 0xffff_ffff, Some(r), ctx.limit))
        }
        Arg::InCpuSet(len) => structs::cpu_set(mem, a, ctx.arg(len)),
        Arg::OutCpuSet => filled(&|r| structs::cpu_set(mem, a, r)),
        Arg::OutMincore(len) => filled(&|_| structs::mincore_vec(mem, a, ctx.arg(len))),
        Arg::OutWaitStatus => match ctx.ok() {
            Some(r) if r != 0 && a != 0 => structs::wait_status(mem, a),
            _ => addr(a),
        },
        Arg::Clone => return commands::clone(ctx, out),
        Arg::Clone3(size) => commands::clone3(ctx, a, ctx.arg(size)),
        Arg::Futex => return commands::futex(ctx, i, out),
        Arg::Fcntl => return commands::fcntl(ctx, i, out),
        Arg::Ioctl => return commands::ioctl(ctx, i, out),
        Arg::Prctl => return commands::prctl(ctx, i, out),
        Arg::ArchPrctl => return commands::arch_prctl(ctx, i, out),
    };
    out.push(s);
}

/// strace's texts for the kernel-internal restart codes a tracer can see.
fn restart_text(e: u16) -> Option<&'static str> {
    Some(match e {
        512 => "ERESTARTSYS (To be restarted if SA_RESTART is set)",
        513 => "ERESTARTNOINTR (To be restarted)",
        514 => "ERESTARTNOHAND (To be restarted if no handler)",
        516 => "ERESTART_RESTARTBLOCK (Interrupted by signal)",
        _ => return None,
    })
}

fn restart_name(e: u16) -> &'static str {
    match e {
        512 => "ERESTARTSYS",
        513 => "ERESTARTNOINTR",
        514 => "ERESTARTNOHAND",
        _ => "ERESTART_RESTARTBLOCK",
    }
}

fn format_ret(ctx: &Ctx, row: Option<&Row>) -> (String, Option<i64>, Option<String>) {
    match ctx.ev.ret {
        None => ("?".to_string(), None, None),
        Some(Err(e)) => {
            if let Some(t) = restart_text(e.0) {
                return (
                    format!("? {t}"),
                    Some(-1),
                    Some(restart_name(e.0).to_string()),
                );
            }
            let name = Errno::name(e);
            if name == "E???" {
                (
                    format!("-1 {} (Unknown error {})", e.0, e.0),
                    Some(-1),
                    Some(e.0.to_string()),
                )
            } else {
                (
                    format!("-1 {} ({})", name, Errno::message(e)),
                    Some(-1),
                    Some(name.to_string()),
                )
            }
        }
        Some(Ok(v)) => {
            let kind = row.map_or(Ret::Dec, |r| r.ret);
            let text = match kind {
                Ret::Dec => (v as i64).to_string(),
                Ret::Addr => hex(v),
                Ret::Oct => {
                    if v == 0 {
                        "0".to_string()
                    } else {
                        format!("0{v:o}")
                    }
                }
                Ret::Fcntl => commands::fcntl_ret(ctx, v),
                Ret::Prctl => commands::prctl_ret(ctx, v),
                Ret::Poll => {
                    if v == 0 {
                        "0 (Timeout)".to_string()
                    } else {
                        match structs::poll_revents(ctx.mem, ctx.arg(0), ctx.arg(1) & 0xffff_ffff) {
                            Some(r) => format!("{v} ({r})"),
                            None => v.to_string(),
                        }
                    }
                }
            };
            (text, Some(v as i64), None)
        }
    }
}
