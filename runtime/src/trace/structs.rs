//! Structures read from guest memory, printed in strace's abbreviated form
//! (`{st_mode=S_IFREG|0644, st_size=1234, ...}`). Each decoder reads the
//! whole structure first and prints the address if it is not readable.

use super::flags::{self, Xlat};
use super::signals;
use super::strings::{self, addr, read_bytes};
use super::GuestMemRead;

fn u16_at(b: &[u8], off: usize) -> u64 {
    u64::from(u16::from_le_bytes([b[off], b[off + 1]]))
}

fn u32_at(b: &[u8], off: usize) -> u64 {
    let mut w = [0u8; 4];
    w.copy_from_slice(&b[off..off + 4]);
    u64::from(u32::from_le_bytes(w))
}

fn u64_at(b: &[u8], off: usize) -> u64 {
    let mut w = [0u8; 8];
    w.copy_from_slice(&b[off..off + 8]);
    u64::from_le_bytes(w)
}

/// Reads `len` bytes at `a` and formats them with `f`; `NULL` for 0 and the
/// address when unreadable.
fn with_struct(
    mem: &dyn GuestMemRead,
    a: u64,
    len: usize,
    f: impl FnOnce(&[u8]) -> String,
) -> String {
    if a == 0 {
        return "NULL".to_string();
    }
    match read_bytes(mem, a, len) {
        Some(b) => f(&b),
        None => addr(a),
    }
}

/// `struct timespec`: `{tv_sec=1, tv_nsec=500}`.
pub(crate) fn timespec(mem: &dyn GuestMemRead, a: u64) -> String {
    with_struct(mem, a, 16, |b| {
        format!(
            "{{tv_sec={}, tv_nsec={}}}",
            u64_at(b, 0) as i64,
            u64_at(b, 8) as i64
        )
    })
}

/// `struct timeval`: `{tv_sec=1, tv_usec=500}`.
pub(crate) fn timeval(mem: &dyn GuestMemRead, a: u64) -> String {
    with_struct(mem, a, 16, |b| {
        format!(
            "{{tv_sec={}, tv_usec={}}}",
            u64_at(b, 0) as i64,
            u64_at(b, 8) as i64
        )
    })
}

const S_IFMT: u64 = 0o170000;
const FILE_TYPES: Xlat = &[
    (0o140000, "S_IFSOCK"),
    (0o120000, "S_IFLNK"),
    (0o100000, "S_IFREG"),
    (0o060000, "S_IFBLK"),
    (0o040000, "S_IFDIR"),
    (0o020000, "S_IFCHR"),
    (0o010000, "S_IFIFO"),
];

/// A `mode_t` with its file type: `S_IFREG|0644`, `S_IFDIR|S_ISVTX|0777`.
pub(crate) fn symbolic_mode(mode: u64) -> String {
    let ifmt = if mode & S_IFMT != 0 {
        flags::lookup(FILE_TYPES, mode & S_IFMT)
    } else {
        Some("")
    };
    let Some(ifmt) = ifmt else {
        return flags::octal_mode(mode);
    };
    let mut s = String::from(ifmt);
    if !ifmt.is_empty() {
        s.push('|');
    }
    for (bit, name) in [
        (0o4000, "S_ISUID|"),
        (0o2000, "S_ISGID|"),
        (0o1000, "S_ISVTX|"),
    ] {
        if mode & bit != 0 {
            s.push_str(name);
        }
    }
    s.push_str(&flags::octal_mode(mode & !(S_IFMT | 0o7000)));
    s
}

/// A device number: `makedev(0x88, 0x1)`.
fn makedev(dev: u64) -> String {
    let major = ((dev >> 8) & 0xfff) | ((dev >> 32) & !0xfff);
    let minor = (dev & 0xff) | ((dev >> 12) & !0xff);
    format!("makedev({major:#x}, {minor:#x})")
}

fn is_dev(mode: u64) -> bool {
    matches!(mode & S_IFMT, 0o020000 | 0o060000)
}

/// `struct stat` (x86-64 layout, 144 bytes), abbreviated like strace:
/// the mode, then the size (or the device number for device files).
pub(crate) fn stat(mem: &dyn GuestMemRead, a: u64) -> String {
    with_struct(mem, a, 144, |b| {
        let mode = u32_at(b, 24);
        let tail = if is_dev(mode) {
            format!("st_rdev={}", makedev(u64_at(b, 40)))
        } else {
            format!("st_size={}", u64_at(b, 48) as i64)
        };
        format!("{{st_mode={}, {tail}, ...}}", symbolic_mode(mode))
    })
}

const STATX_ATTRS: Xlat = &[
    (0x4, "STATX_ATTR_COMPRESSED"),
    (0x10, "STATX_ATTR_IMMUTABLE"),
    (0x20, "STATX_ATTR_APPEND"),
    (0x40, "STATX_ATTR_NODUMP"),
    (0x800, "STATX_ATTR_ENCRYPTED"),
    (0x1000, "STATX_ATTR_AUTOMOUNT"),
    (0x2000, "STATX_ATTR_MOUNT_ROOT"),
    (0x100000, "STATX_ATTR_VERITY"),
    (0x200000, "STATX_ATTR_DAX"),
    (0x400000, "STATX_ATTR_WRITE_ATOMIC"),
];

/// `struct statx` (256 bytes), abbreviated like strace.
pub(crate) fn statx(mem: &dyn GuestMemRead, a: u64) -> String {
    with_struct(mem, a, 256, |b| {
        format!(
            "{{stx_mask={}, stx_attributes={}, stx_mode={}, stx_size={}, ...}}",
            flags::flags(flags::STATX_MASK, u32_at(b, 0), Some("STATX_???")),
            flags::flags(STATX_ATTRS, u64_at(b, 8), Some("STATX_ATTR_???")),
            symbolic_mode(u16_at(b, 28)),
            u64_at(b, 40)
        )
    })
}

/// An rlimit value: `RLIM64_INFINITY`, `8192*1024`, `1024`.
fn rlim(v: u64) -> String {
    if v == u64::MAX {
        "RLIM64_INFINITY".to_string()
    } else if v > 1024 && v & 1023 == 0 {
        format!("{}*1024", v / 1024)
    } else {
        v.to_string()
    }
}

/// `struct rlimit`: `{rlim_cur=8192*1024, rlim_max=RLIM64_INFINITY}`.
pub(crate) fn rlimit(mem: &dyn GuestMemRead, a: u64) -> String {
    with_struct(mem, a, 16, |b| {
        format!(
            "{{rlim_cur={}, rlim_max={}}}",
            rlim(u64_at(b, 0)),
            rlim(u64_at(b, 8))
        )
    })
}

/// A fixed-size char array field, NUL-terminated within it.
fn cfield(b: &[u8]) -> String {
    let end = b.iter().position(|&c| c == 0).unwrap_or(b.len());
    let mut s = strings::quote(&b[..end], false);
    if end == b.len() {
        s.push_str("...");
    }
    s
}

/// `struct utsname`: `{sysname="Linux", nodename="host", ...}`.
pub(crate) fn utsname(mem: &dyn GuestMemRead, a: u64) -> String {
    with_struct(mem, a, 65 * 6, |b| {
        format!(
            "{{sysname={}, nodename={}, ...}}",
            cfield(&b[0..65]),
            cfield(&b[65..130])
        )
    })
}

/// `struct sysinfo`, in full as strace prints it.
pub(crate) fn sysinfo(mem: &dyn GuestMemRead, a: u64) -> String {
    with_struct(mem, a, 112, |b| {
        format!(
            "{{uptime={}, loads=[{}, {}, {}], totalram={}, freeram={}, sharedram={}, \
             bufferram={}, totalswap={}, freeswap={}, procs={}, totalhigh={}, freehigh={}, \
             mem_unit={}}}",
            u64_at(b, 0) as i64,
            u64_at(b, 8),
            u64_at(b, 16),
            u64_at(b, 24),
            u64_at(b, 32),
            u64_at(b, 40),
            u64_at(b, 48),
            u64_at(b, 56),
            u64_at(b, 64),
            u64_at(b, 72),
            u16_at(b, 80),
            u64_at(b, 88),
            u64_at(b, 96),
            u32_at(b, 104)
        )
    })
}

/// `struct winsize`: `{ws_row=24, ws_col=80, ws_xpixel=0, ws_ypixel=0}`.
pub(crate) fn winsize(mem: &dyn GuestMemRead, a: u64) -> String {
    with_struct(mem, a, 8, |b| {
        format!(
            "{{ws_row={}, ws_col={}, ws_xpixel={}, ws_ypixel={}}}",
            u16_at(b, 0),
            u16_at(b, 2),
            u16_at(b, 4),
            u16_at(b, 6)
        )
    })
}

fn term_oflag(v: u64) -> String {
    let mut parts = Vec::new();
    let mut rest = v;
    for &(mask, table, dflt) in flags::TERM_ODELAYS {
        parts.push(flags::lookup(table, v & mask).unwrap_or(dflt).to_string());
        rest &= !mask;
    }
    if rest != 0 {
        parts.push(flags::flags(flags::TERM_OFLAGS, rest, None));
    }
    parts.join("|")
}

fn term_cflag(v: u64) -> String {
    let mut parts = vec![flags::lookup(flags::BAUD_RATES, v & flags::CBAUD)
        .unwrap_or("B???")
        .to_string()];
    if v & flags::CIBAUD != 0 {
        let ib = (v & flags::CIBAUD) >> 16;
        parts.push(format!(
            "{}<<IBSHIFT",
            flags::lookup(flags::BAUD_RATES, ib).unwrap_or("B???")
        ));
    }
    parts.push(
        flags::lookup(flags::TERM_CSIZE, v & flags::CSIZE)
            .unwrap_or("CS?")
            .to_string(),
    );
    let rest = v & !(flags::CBAUD | flags::CIBAUD | flags::CSIZE);
    if rest != 0 {
        parts.push(flags::flags(flags::TERM_CFLAGS, rest, None));
    }
    parts.join("|")
}

/// `struct termios` (kernel layout), abbreviated like strace.
pub(crate) fn termios(mem: &dyn GuestMemRead, a: u64) -> String {
    with_struct(mem, a, 36, |b| {
        format!(
            "{{c_iflag={}, c_oflag={}, c_cflag={}, c_lflag={}, ...}}",
            flags::flags(flags::TERM_IFLAGS, u32_at(b, 0), None),
            term_oflag(u32_at(b, 4)),
            term_cflag(u32_at(b, 8)),
            flags::flags(flags::TERM_LFLAGS, u32_at(b, 12), None)
        )
    })
}

/// An `int *` shown as `[value]`.
pub(crate) fn int_ptr(mem: &dyn GuestMemRead, a: u64) -> String {
    with_struct(mem, a, 4, |b| format!("[{}]", u32_at(b, 0) as u32 as i32))
}

/// A `u64 *` shown in hex as `[0x...]`.
pub(crate) fn addr_ptr(mem: &dyn GuestMemRead, a: u64) -> String {
    with_struct(mem, a, 8, |b| format!("[{:#x}]", u64_at(b, 0)))
}

/// An `int[2]` (pipe): `[3, 4]`.
pub(crate) fn int_pair(mem: &dyn GuestMemRead, a: u64) -> String {
    with_struct(mem, a, 8, |b| {
        format!(
            "[{}, {}]",
            u32_at(b, 0) as u32 as i32,
            u32_at(b, 4) as u32 as i32
        )
    })
}

/// Elements printed of any array before strace's `...`.
const MAX_ELEMENTS: usize = 32;

/// `struct iovec[count]`. `data`: for a call that read into the buffers,
/// the number of bytes it returned (shown across the buffers in order);
/// `None` for a call that wrote from them (each buffer shown in full).
pub(crate) fn iovec(
    mem: &dyn GuestMemRead,
    a: u64,
    count: u64,
    mut data: Option<u64>,
    limit: usize,
) -> String {
    if a == 0 {
        return "NULL".to_string();
    }
    let mut out = String::from("[");
    for i in 0..count {
        if i as usize >= MAX_ELEMENTS {
            out.push_str(", ...");
            break;
        }
        let Some(b) = a.checked_add(i * 16).and_then(|p| read_bytes(mem, p, 16)) else {
            if i == 0 {
                return addr(a);
            }
            out.push_str(", ...");
            break;
        };
        let (base, len) = (u64_at(&b, 0), u64_at(&b, 8));
        let shown = match data.as_mut() {
            Some(left) => {
                let n = (*left).min(len);
                *left -= n;
                n
            }
            None => len,
        };
        if i > 0 {
            out.push_str(", ");
        }
        out.push_str(&format!(
            "{{iov_base={}, iov_len={}}}",
            strings::buf(mem, base, shown, limit, false),
            len
        ));
    }
    out.push(']');
    out
}

/// `struct pollfd[n]` on entry: `[{fd=3, events=POLLIN}]`.
pub(crate) fn pollfds(mem: &dyn GuestMemRead, a: u64, n: u64) -> String {
    pollfd_list(mem, a, n, false).unwrap_or_else(|| addr(a))
}

/// The `revents` of `struct pollfd[n]` after the call, for the return
/// value's comment: `[{fd=3, revents=POLLIN}]`.
pub(crate) fn poll_revents(mem: &dyn GuestMemRead, a: u64, n: u64) -> Option<String> {
    pollfd_list(mem, a, n, true)
}

fn pollfd_list(mem: &dyn GuestMemRead, a: u64, n: u64, revents: bool) -> Option<String> {
    if a == 0 {
        return Some("NULL".to_string());
    }
    let mut out = String::from("[");
    let mut printed = 0usize;
    for i in 0..n {
        let b = a.checked_add(i * 8).and_then(|p| read_bytes(mem, p, 8));
        let Some(b) = b else {
            if i == 0 {
                return None;
            }
            out.push_str(", ...");
            break;
        };
        let fd = u32_at(&b, 0) as u32 as i32;
        let (ev, rev) = (u16_at(&b, 4), u16_at(&b, 6));
        if revents && rev == 0 {
            continue;
        }
        if printed > 0 {
            out.push_str(", ");
        }
        if printed >= MAX_ELEMENTS {
            out.push_str("...");
            break;
        }
        printed += 1;
        if revents {
            out.push_str(&format!(
                "{{fd={fd}, revents={}}}",
                flags::flags(flags::POLL_EVENTS, rev, Some("POLL???"))
            ));
        } else if fd < 0 {
            out.push_str(&format!("{{fd={fd}}}"));
        } else {
            out.push_str(&format!(
                "{{fd={fd}, events={}}}",
                flags::flags(flags::POLL_EVENTS, ev, Some("POLL???"))
            ));
        }
    }
    out.push(']');
    Some(out)
}

/// A wait status: `[{WIFEXITED(s) && WEXITSTATUS(s) == 0}]`.
pub(crate) fn wait_status(mem: &dyn GuestMemRead, a: u64) -> String {
    with_struct(mem, a, 4, |b| {
        let s = u32_at(b, 0);
        let body = if s & 0x7f == 0 {
            format!("WIFEXITED(s) && WEXITSTATUS(s) == {}", (s >> 8) & 0xff)
        } else if s & 0xff == 0x7f {
            format!(
                "WIFSTOPPED(s) && WSTOPSIG(s) == {}",
                signals::signal_name(((s >> 8) & 0xff) as i32)
            )
        } else if s == 0xffff {
            "WIFCONTINUED(s)".to_string()
        } else {
            format!(
                "WIFSIGNALED(s) && WTERMSIG(s) == {}{}",
                signals::signal_name((s & 0x7f) as i32),
                if s & 0x80 != 0 {
                    " && WCOREDUMP(s)"
                } else {
                    ""
                }
            )
        };
        let event = s >> 16;
        if event != 0 && s & 0xff == 0x7f {
            format!("[{{{body} | {event:#x} << 16}}]")
        } else {
            format!("[{{{body}}}]")
        }
    })
}

/// A CPU mask of `len` bytes: `[0 1 5]`.
pub(crate) fn cpu_set(mem: &dyn GuestMemRead, a: u64, len: u64) -> String {
    let len = usize::try_from(len).unwrap_or(usize::MAX).min(8192);
    with_struct(mem, a, len, |b| {
        let cpus: Vec<String> = (0..b.len() * 8)
            .filter(|&i| b[i / 8] & (1 << (i % 8)) != 0)
            .map(|i| i.to_string())
            .collect();
        format!("[{}]", cpus.join(" "))
    })
}

/// mincore's vector for `len` bytes of memory: `[1, 0, 1]`.
pub(crate) fn mincore_vec(mem: &dyn GuestMemRead, a: u64, len: u64) -> String {
    let pages = len.div_ceil(4096);
    let shown = pages.min(MAX_ELEMENTS as u64) as usize;
    with_struct(mem, a, shown, |b| {
        let mut parts: Vec<String> = b.iter().map(|v| (v & 1).to_string()).collect();
        if pages > shown as u64 {
            parts.push("...".to_string());
        }
        format!("[{}]", parts.join(", "))
    })
}

/// Bytes of directory entries read to count them.
const MAX_DENTS: usize = 1 << 20;

/// getdents64's buffer after the call: `0x7ffd... /* 7 entries */`.
pub(crate) fn dirents64(mem: &dyn GuestMemRead, a: u64, len: u64) -> String {
    let n = usize::try_from(len).unwrap_or(usize::MAX).min(MAX_DENTS);
    let Some(b) = read_bytes(mem, a, n) else {
        return addr(a);
    };
    let mut off = 0usize;
    let mut count = 0u64;
    while off + 19 <= b.len() {
        let reclen = u16_at(&b, off + 16) as usize;
        if reclen == 0 {
            break;
        }
        count += 1;
        off += reclen;
    }
    format!("{} /* {} entries */", addr(a), count)
}

/// `struct clone_args` (clone3), basic: the flags decoded, the pointers in
/// hex, like strace.
pub(crate) fn clone_args(mem: &dyn GuestMemRead, a: u64, size: u64) -> String {
    // The fields up to and including `tls`.
    const MIN: u64 = 64;
    if size < MIN {
        return addr(a);
    }
    with_struct(mem, a, MIN as usize, |b| {
        let fl = u64_at(b, 0);
        let mut s = format!(
            "{{flags={}",
            flags::flags(flags::CLONE_FLAGS, fl, Some("CLONE_???"))
        );
        if fl & flags::CLONE_PIDFD != 0 {
            s.push_str(&format!(", pidfd={}", addr(u64_at(b, 8))));
        }
        if fl & (flags::CLONE_CHILD_SETTID | flags::CLONE_CHILD_CLEARTID) != 0 {
            s.push_str(&format!(", child_tid={}", addr(u64_at(b, 16))));
        }
        if fl & flags::CLONE_PARENT_SETTID != 0 {
            s.push_str(&format!(", parent_tid={}", addr(u64_at(b, 24))));
        }
        let sig = u64_at(b, 32);
        if sig < i32::MAX as u64 {
            s.push_str(&format!(
                ", exit_signal={}",
                signals::signal_name(sig as i32)
            ));
        } else {
            s.push_str(&format!(", exit_signal={sig}"));
        }
        s.push_str(&format!(
            ", stack={}, stack_size={:#x}",
            addr(u64_at(b, 40)),
            u64_at(b, 48)
        ));
        if fl & flags::CLONE_SETTLS != 0 {
            s.push_str(&format!(", tls={}", addr(u64_at(b, 56))));
        }
        s.push('}');
        s
    })
}

/// What clone3 wrote back, for strace's ` => {parent_tid=[N]}`.
pub(crate) fn clone_args_after(mem: &dyn GuestMemRead, a: u64, size: u64) -> Option<String> {
    if size < 64 {
        return None;
    }
    let b = read_bytes(mem, a, 64)?;
    let fl = u64_at(&b, 0);
    let mut parts = Vec::new();
    if fl & flags::CLONE_PIDFD != 0 {
        parts.push(format!("pidfd={}", int_ptr(mem, u64_at(&b, 8))));
    }
    if fl & flags::CLONE_PARENT_SETTID != 0 {
        parts.push(format!("parent_tid={}", int_ptr(mem, u64_at(&b, 24))));
    }
    if parts.is_empty() {
        None
    } else {
        Some(format!("{{{}}}", parts.join(", ")))
    }
}
