//! Calls whose other arguments depend on a command argument: fcntl, ioctl,
//! prctl, futex, arch_prctl, and clone/clone3. Each decoder pushes the
//! command and the arguments strace shows for it.

use super::decode::{hex, int, Ctx};
use super::flags::{self, Xlat};
use super::signals;
use super::strings::{self, addr, read_bytes};
use super::structs;

/// clone (x86-64 argument order: flags, stack, parent_tid, child_tid, tls).
pub(crate) fn clone(ctx: &Ctx, out: &mut Vec<String>) {
    let raw = ctx.arg(0);
    let fl = raw & !0xff;
    let sig = (raw & 0xff) as i32;
    out.push(format!("child_stack={}", addr(ctx.arg(1))));
    let mut f = String::from("flags=");
    if fl != 0 {
        f.push_str(&flags::flags(flags::CLONE_FLAGS, fl, Some("CLONE_???")));
        if sig != 0 {
            f.push('|');
            f.push_str(&signals::signal_name(sig));
        }
    } else {
        f.push_str(&signals::signal_name(sig));
    }
    out.push(f);
    if fl & (flags::CLONE_PARENT_SETTID | flags::CLONE_PIDFD) != 0 {
        out.push(format!(
            "parent_tid={}",
            structs::int_ptr(ctx.mem, ctx.arg(2))
        ));
    }
    if fl & flags::CLONE_SETTLS != 0 {
        out.push(format!("tls={}", addr(ctx.arg(4))));
    }
    if fl & (flags::CLONE_CHILD_SETTID | flags::CLONE_CHILD_CLEARTID) != 0 {
        out.push(format!("child_tidptr={}", addr(ctx.arg(3))));
    }
}

/// clone3's `struct clone_args`, with what the kernel wrote back after a
/// successful call: `{flags=..., ...} => {parent_tid=[42]}`.
pub(crate) fn clone3(ctx: &Ctx, a: u64, size: u64) -> String {
    let mut s = structs::clone_args(ctx.mem, a, size);
    if ctx.ok().is_some() {
        if let Some(after) = structs::clone_args_after(ctx.mem, a, size) {
            s.push_str(" => ");
            s.push_str(&after);
        }
    }
    s
}

const FUTEX_WAKE_OPS: Xlat = &[
    (0, "FUTEX_OP_SET"),
    (1, "FUTEX_OP_ADD"),
    (2, "FUTEX_OP_OR"),
    (3, "FUTEX_OP_ANDN"),
    (4, "FUTEX_OP_XOR"),
];

const FUTEX_WAKE_CMPS: Xlat = &[
    (0, "FUTEX_OP_CMP_EQ"),
    (1, "FUTEX_OP_CMP_NE"),
    (2, "FUTEX_OP_CMP_LT"),
    (3, "FUTEX_OP_CMP_LE"),
    (4, "FUTEX_OP_CMP_GT"),
    (5, "FUTEX_OP_CMP_GE"),
];

fn bitset(v: u64) -> String {
    if v == 0xffff_ffff {
        "FUTEX_BITSET_MATCH_ANY".to_string()
    } else {
        hex(v)
    }
}

/// futex from the operation on (argument `i`), per command as strace does.
pub(crate) fn futex(ctx: &Ctx, i: usize, out: &mut Vec<String>) {
    let op = ctx.arg(i);
    let val = (ctx.arg(i + 1) as u32).to_string();
    let timeout = ctx.arg(i + 2);
    let val2 = (ctx.arg(i + 2) as u32).to_string();
    let uaddr2 = addr(ctx.arg(i + 3));
    let val3 = ctx.arg(i + 4) & 0xffff_ffff;
    let ts = || structs::timespec(ctx.mem, timeout);
    out.push(flags::futex_op(op));
    match op & 127 {
        0 => out.extend([val, ts()]),
        6 | 13 => out.push(ts()),
        9 => out.extend([val, ts(), bitset(val3)]),
        10 => out.extend([val, bitset(val3)]),
        3 => out.extend([val, val2, uaddr2]),
        4 | 12 => out.extend([val, val2, uaddr2, val3.to_string()]),
        5 => {
            let mut w = String::new();
            if (val3 >> 28) & 8 != 0 {
                w.push_str("FUTEX_OP_OPARG_SHIFT<<28|");
            }
            match flags::lookup(FUTEX_WAKE_OPS, (val3 >> 28) & 7) {
                Some(n) => w.push_str(&format!("{n}<<28")),
                None => w.push_str(&format!("{}<<28 /* FUTEX_OP_??? */", (val3 >> 28) & 7)),
            }
            w.push_str(&format!("|{}<<12|", hex((val3 >> 12) & 0xfff)));
            match flags::lookup(FUTEX_WAKE_CMPS, (val3 >> 24) & 0xf) {
                Some(n) => w.push_str(&format!("{n}<<24")),
                None => w.push_str(&format!(
                    "{}<<24 /* FUTEX_OP_CMP_??? */",
                    (val3 >> 24) & 0xf
                )),
            }
            w.push_str(&format!("|{}", hex(val3 & 0xfff)));
            out.extend([val, val2, uaddr2, w]);
        }
        11 => out.extend([val, ts(), uaddr2]),
        1 | 2 => out.push(val),
        7 | 8 => {}
        _ => out.extend([val, addr(timeout), uaddr2, hex(val3)]),
    }
}

/// `struct flock`: `{l_type=F_RDLCK, l_whence=SEEK_SET, l_start=0, l_len=0, l_pid=0}`.
fn flock(ctx: &Ctx, a: u64) -> String {
    if a == 0 {
        return "NULL".to_string();
    }
    let Some(b) = read_bytes(ctx.mem, a, 32) else {
        return addr(a);
    };
    let word = |o: usize| {
        let mut w = [0u8; 8];
        w.copy_from_slice(&b[o..o + 8]);
        i64::from_le_bytes(w)
    };
    let short = |o: usize| u64::from(u16::from_le_bytes([b[o], b[o + 1]]));
    format!(
        "{{l_type={}, l_whence={}, l_start={}, l_len={}, l_pid={}}}",
        flags::xval(flags::LEASES, short(0), "F_???"),
        flags::xval(flags::SEEK_WHENCE, short(2), "SEEK_???"),
        word(8),
        word(16),
        i32::from_le_bytes([b[24], b[25], b[26], b[27]])
    )
}

/// fcntl's command (argument `i`) and its argument.
pub(crate) fn fcntl(ctx: &Ctx, i: usize, out: &mut Vec<String>) {
    let cmd = ctx.arg(i) & 0xffff_ffff;
    let a = ctx.arg(i + 1);
    out.push(flags::xval(flags::FCNTL_CMDS, cmd, "F_???"));
    let arg = match cmd {
        // No argument.
        1 | 3 | 9 | 11 | 1025 | 1028 | 1032 | 1034 => return,
        0 | 1030 | 1027 | 8 | 1031 => int(a),
        2 => flags::flags(flags::FD_FLAGS, a & 0xffff_ffff, Some("FD_???")),
        4 => flags::open_flags(a),
        5..=7 | 36..=38 => flock(ctx, a),
        10 => signals::signal_arg(a),
        1024 => flags::xval(flags::LEASES, a & 0xffff_ffff, "F_???"),
        1026 => flags::flags(flags::NOTIFY_FLAGS, a & 0xffff_ffff, Some("DN_???")),
        1033 => flags::flags(flags::SEALS, a & 0xffff_ffff, Some("F_SEAL_???")),
        15..=17 | 1035..=1038 => addr(a),
        _ => hex(a),
    };
    out.push(arg);
}

/// fcntl's return value, decorated for the commands that return flags.
pub(crate) fn fcntl_ret(ctx: &Ctx, v: u64) -> String {
    match ctx.arg(1) & 0xffff_ffff {
        1 if v != 0 => format!(
            "{} (flags {})",
            hex(v),
            flags::flags(flags::FD_FLAGS, v, Some("FD_???"))
        ),
        3 => format!("{} (flags {})", hex(v), flags::open_flags(v)),
        1034 if v != 0 => format!(
            "{} (seals {})",
            hex(v),
            flags::flags(flags::SEALS, v, Some("F_SEAL_???"))
        ),
        1025 => format!("{} ({})", v, flags::xval(flags::LEASES, v, "F_???")),
        _ => (v as i64).to_string(),
    }
}

const TCXONC_OPTS: Xlat = &[(0, "TCOOFF"), (1, "TCOON"), (2, "TCIOFF"), (3, "TCION")];
const TCFLSH_OPTS: Xlat = &[(0, "TCIFLUSH"), (1, "TCOFLUSH"), (2, "TCIOFLUSH")];

/// An unknown ioctl request in strace's `_IOC(dir, type, nr, size)` form.
fn ioc(req: u64) -> String {
    let dir = match (req >> 30) & 3 {
        0 => "_IOC_NONE",
        1 => "_IOC_WRITE",
        2 => "_IOC_READ",
        _ => "_IOC_READ|_IOC_WRITE",
    };
    format!(
        "_IOC({dir}, {}, {}, {})",
        hex((req >> 8) & 0xff),
        hex(req & 0xff),
        hex((req >> 16) & 0x3fff)
    )
}

/// ioctl's request (argument `i`) and argument; tty requests decoded.
pub(crate) fn ioctl(ctx: &Ctx, i: usize, out: &mut Vec<String>) {
    let req = ctx.arg(i) & 0xffff_ffff;
    let a = ctx.arg(i + 1);
    let mem = ctx.mem;
    let after = |f: &dyn Fn() -> String| match ctx.ok() {
        Some(_) if a != 0 => f(),
        _ => addr(a),
    };
    match flags::lookup(flags::IOCTL_REQUESTS, req) {
        Some(name) => out.push(name.to_string()),
        None => {
            out.push(ioc(req));
            out.push(hex(a));
            return;
        }
    }
    let arg = match req {
        0x5401 | 0x5456 => after(&|| structs::termios(mem, a)),
        0x5402..=0x5404 | 0x5457 => structs::termios(mem, a),
        0x5413 => after(&|| structs::winsize(mem, a)),
        0x5414 => structs::winsize(mem, a),
        0x540a => flags::xval(TCXONC_OPTS, a & 0xffff_ffff, "TC???"),
        0x540b => flags::xval(TCFLSH_OPTS, a & 0xffff_ffff, "TC???"),
        0x5409 | 0x5425 | 0x540e => int(a),
        // Integers the call fills.
        0x540f | 0x5429 | 0x5424 | 0x5419 | 0x8004_5430 | 0x541b | 0x5411 | 0x8004_5440
        | 0x8004_5432 | 0x8004_5438 => after(&|| structs::int_ptr(mem, a)),
        // Integers the call reads.
        0x5410 | 0x5423 | 0x5421 | 0x5452 | 0x5420 | 0x541a | 0x4004_5431 => {
            structs::int_ptr(mem, a)
        }
        0x5412 => strings::buf(mem, a, 1, ctx.limit, false),
        // No argument.
        0x5427 | 0x5428 | 0x541d | 0x5422 | 0x540c | 0x540d | 0x5451 | 0x5450 | 0x5436 => return,
        _ => hex(a),
    };
    out.push(arg);
}

/// prctl's option (argument `i`) and the arguments strace shows for it.
pub(crate) fn prctl(ctx: &Ctx, i: usize, out: &mut Vec<String>) {
    let opt = ctx.arg(i) & 0xffff_ffff;
    let a = |k: usize| ctx.arg(i + k);
    out.push(flags::xval(flags::PRCTL_OPTIONS, opt, "PR_???"));
    match opt {
        // PR_SET_PDEATHSIG
        1 => out.push(signals::signal_arg(a(1))),
        // PR_GET_PDEATHSIG
        2 => out.push(match ctx.ok() {
            Some(_) => match strings::read_u32(ctx.mem, a(1)) {
                Some(s) if a(1) != 0 => format!("[{}]", signals::signal_name(s as i32)),
                _ => addr(a(1)),
            },
            None => addr(a(1)),
        }),
        // PR_GET_DUMPABLE, PR_GET_KEEPCAPS, PR_GET_SECCOMP, PR_GET_TIMERSLACK,
        // PR_GET_NO_NEW_PRIVS, PR_GET_THP_DISABLE, PR_GET_TID_ADDRESS-less gets.
        3 | 7 | 21 | 30 | 39 | 42 | 66 | 68 => {}
        // PR_SET_DUMPABLE
        4 => out.push(flags::xval(
            flags::DUMPABLE,
            a(1) & 0xffff_ffff,
            "SUID_DUMP_???",
        )),
        // PR_SET_KEEPCAPS, PR_SET_TIMERSLACK, PR_SET_CHILD_SUBREAPER
        8 | 29 | 36 => out.push(a(1).to_string()),
        // PR_SET_NAME: the kernel reads at most TASK_COMM_LEN bytes.
        15 => out.push(strings::cstr(ctx.mem, a(1), 15)),
        // PR_GET_NAME
        16 => out.push(match ctx.ok() {
            Some(_) => strings::cstr(ctx.mem, a(1), 15),
            None => addr(a(1)),
        }),
        // PR_SET_NO_NEW_PRIVS, PR_SET_THP_DISABLE, PR_SET_MDWE, PR_SET_MEMORY_MERGE
        38 | 41 | 65 | 67 => out.extend((1..=4).map(|k| a(k).to_string())),
        // PR_GET_CHILD_SUBREAPER
        37 => out.push(match ctx.ok() {
            Some(_) => structs::int_ptr(ctx.mem, a(1)),
            None => addr(a(1)),
        }),
        // PR_GET_TID_ADDRESS
        40 => out.push(match ctx.ok() {
            Some(_) => structs::addr_ptr(ctx.mem, a(1)),
            None => addr(a(1)),
        }),
        // PR_SET_VMA
        0x5356_4d41 => {
            if a(1) == 0 {
                out.push("PR_SET_VMA_ANON_NAME".to_string());
                out.push(addr(a(2)));
                out.push(a(3).to_string());
                out.push(strings::cstr(ctx.mem, a(4), ctx.limit));
            } else {
                out.extend((1..=4).map(|k| hex(a(k))));
            }
        }
        _ => out.extend((1..=4).map(|k| hex(a(k)))),
    }
}

/// prctl's return value, decorated where strace does.
pub(crate) fn prctl_ret(ctx: &Ctx, v: u64) -> String {
    match ctx.arg(0) & 0xffff_ffff {
        3 => format!(
            "{} ({})",
            v,
            flags::xval(flags::DUMPABLE, v, "SUID_DUMP_???")
        ),
        _ => (v as i64).to_string(),
    }
}

/// arch_prctl's code (argument `i`) and address.
pub(crate) fn arch_prctl(ctx: &Ctx, i: usize, out: &mut Vec<String>) {
    let code = ctx.arg(i) & 0xffff_ffff;
    let a = ctx.arg(i + 1);
    out.push(flags::xval(flags::ARCH_PRCTL_CODES, code, "ARCH_???"));
    out.push(match code {
        // ARCH_GET_FS, ARCH_GET_GS: an address the call fills.
        0x1003 | 0x1004 => match ctx.ok() {
            Some(_) if a != 0 => structs::addr_ptr(ctx.mem, a),
            _ => addr(a),
        },
        0x1001 | 0x1002 => hex(a),
        _ => hex(a),
    });
}
