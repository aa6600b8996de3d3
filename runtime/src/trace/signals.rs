//! Signal names, signal sets and `struct sigaction`, as strace prints them.

use super::flags::{self, SA_FLAGS, SA_RESTORER};
use super::strings::{addr, read_bytes};
use super::GuestMemRead;

const NAMES: [&str; 33] = [
    "0",
    "SIGHUP",
    "SIGINT",
    "SIGQUIT",
    "SIGILL",
    "SIGTRAP",
    "SIGABRT",
    "SIGBUS",
    "SIGFPE",
    "SIGKILL",
    "SIGUSR1",
    "SIGSEGV",
    "SIGUSR2",
    "SIGPIPE",
    "SIGALRM",
    "SIGTERM",
    "SIGSTKFLT",
    "SIGCHLD",
    "SIGCONT",
    "SIGSTOP",
    "SIGTSTP",
    "SIGTTIN",
    "SIGTTOU",
    "SIGURG",
    "SIGXCPU",
    "SIGXFSZ",
    "SIGVTALRM",
    "SIGPROF",
    "SIGWINCH",
    "SIGIO",
    "SIGPWR",
    "SIGSYS",
    "SIGRTMIN",
];

/// The name strace gives signal `sig`: `SIGSEGV`, `SIGRTMIN`, `SIGRT_1`
/// (signal 33) .. `SIGRT_32` (64), or the number for anything else.
pub fn signal_name(sig: i32) -> String {
    match sig {
        1..=32 => NAMES[sig as usize].to_string(),
        33..=64 => format!("SIGRT_{}", sig - 32),
        _ => sig.to_string(),
    }
}

/// A signal number argument (int-sized).
pub(crate) fn signal_arg(v: u64) -> String {
    signal_name(v as u32 as i32)
}

/// A signal set of `bytes` (little-endian words): `[INT TERM]`, or
/// `~[RTMIN RT_1]` when more than half the signals are in it.
pub(crate) fn sigset_bits(bytes: &[u8]) -> String {
    let nbits = bytes.len() * 8;
    let bit = |i: usize| bytes[i / 8] & (1 << (i % 8)) != 0;
    let set = (0..nbits).filter(|&i| bit(i)).count();
    let invert = nbits > 0 && set > nbits / 2;
    let mut out = String::new();
    if invert {
        out.push('~');
    }
    out.push('[');
    let mut first = true;
    for i in 0..nbits {
        if bit(i) == invert {
            continue;
        }
        if !first {
            out.push(' ');
        }
        first = false;
        let sig = i + 1;
        match sig {
            1..=31 => out.push_str(&NAMES[sig][3..]),
            32 => out.push_str("RTMIN"),
            33..=64 => out.push_str(&format!("RT_{}", sig - 32)),
            _ => out.push_str(&sig.to_string()),
        }
    }
    out.push(']');
    out
}

/// A `sigset_t *` of `size` bytes in guest memory. Like strace, only the
/// kernel's size (8 bytes) is decoded; other sizes show the address.
pub(crate) fn sigset(mem: &dyn GuestMemRead, a: u64, size: u64) -> String {
    if a == 0 {
        return "NULL".to_string();
    }
    if size != 8 {
        return addr(a);
    }
    match read_bytes(mem, a, 8) {
        Some(b) => sigset_bits(&b),
        None => addr(a),
    }
}

/// A `struct sigaction *` (kernel layout: handler, flags, restorer, mask).
pub(crate) fn sigaction(mem: &dyn GuestMemRead, a: u64) -> String {
    if a == 0 {
        return "NULL".to_string();
    }
    let Some(b) = read_bytes(mem, a, 32) else {
        return addr(a);
    };
    let word = |i: usize| {
        let mut w = [0u8; 8];
        w.copy_from_slice(&b[i * 8..i * 8 + 8]);
        u64::from_le_bytes(w)
    };
    let (handler, fl, restorer) = (word(0), word(1), word(2));
    let handler = match handler {
        0 => "SIG_DFL".to_string(),
        1 => "SIG_IGN".to_string(),
        u64::MAX => "SIG_ERR".to_string(),
        h => format!("{h:#x}"),
    };
    let mut s = format!(
        "{{sa_handler={}, sa_mask={}, sa_flags={}",
        handler,
        sigset_bits(&b[24..32]),
        flags::flags(SA_FLAGS, fl, Some("SA_???"))
    );
    if fl & SA_RESTORER != 0 {
        s.push_str(&format!(", sa_restorer={}", addr(restorer)));
    }
    s.push('}');
    s
}

/// strace's name for `si_code` `code` of signal `sig` (`SI_USER`,
/// `SEGV_MAPERR`, `CLD_EXITED`, ...), or the number.
fn si_code_name(sig: i32, code: i32) -> String {
    use guest_abi::signal as s;
    let generic = match code {
        s::SI_USER => Some("SI_USER"),
        s::SI_KERNEL => Some("SI_KERNEL"),
        s::SI_QUEUE => Some("SI_QUEUE"),
        s::SI_TIMER => Some("SI_TIMER"),
        s::SI_MESGQ => Some("SI_MESGQ"),
        s::SI_ASYNCIO => Some("SI_ASYNCIO"),
        s::SI_SIGIO => Some("SI_SIGIO"),
        s::SI_TKILL => Some("SI_TKILL"),
        _ => None,
    };
    if let Some(n) = generic {
        return n.to_string();
    }
    let specific: &[(i32, &str)] = match sig as u32 {
        s::SIGSEGV => &[(1, "SEGV_MAPERR"), (2, "SEGV_ACCERR"), (4, "SEGV_PKUERR")],
        s::SIGBUS => &[(1, "BUS_ADRALN"), (2, "BUS_ADRERR"), (3, "BUS_OBJERR")],
        s::SIGILL => &[
            (1, "ILL_ILLOPC"),
            (2, "ILL_ILLOPN"),
            (3, "ILL_ILLADR"),
            (4, "ILL_ILLTRP"),
            (5, "ILL_PRVOPC"),
            (6, "ILL_PRVREG"),
            (7, "ILL_COPROC"),
            (8, "ILL_BADSTK"),
        ],
        s::SIGFPE => &[
            (1, "FPE_INTDIV"),
            (2, "FPE_INTOVF"),
            (3, "FPE_FLTDIV"),
            (4, "FPE_FLTOVF"),
            (5, "FPE_FLTUND"),
            (6, "FPE_FLTRES"),
            (7, "FPE_FLTINV"),
            (8, "FPE_FLTSUB"),
        ],
        s::SIGTRAP => &[(1, "TRAP_BRKPT"), (2, "TRAP_TRACE")],
        s::SIGCHLD => &[
            (1, "CLD_EXITED"),
            (2, "CLD_KILLED"),
            (3, "CLD_DUMPED"),
            (4, "CLD_TRAPPED"),
            (5, "CLD_STOPPED"),
            (6, "CLD_CONTINUED"),
        ],
        _ => &[],
    };
    specific
        .iter()
        .find(|(c, _)| *c == code)
        .map_or_else(|| code.to_string(), |(_, n)| n.to_string())
}

/// A delivered signal's siginfo as strace prints it between `---`:
/// `{si_signo=SIGCHLD, si_code=CLD_EXITED, si_pid=2, si_uid=0, ...}`.
pub fn siginfo_text(info: &guest_abi::structs::Siginfo) -> String {
    use guest_abi::signal as s;
    let sig = info.si_signo;
    let code = info.si_code;
    let mut out = format!(
        "{{si_signo={}, si_code={}",
        signal_name(sig),
        si_code_name(sig, code)
    );
    let value = |out: &mut String| {
        let v = info.si_value();
        out.push_str(&format!(", si_int={}, si_ptr={}", v as u32 as i32, addr(v)));
    };
    if code == s::SI_USER || code == s::SI_TKILL || code == s::SI_QUEUE {
        out.push_str(&format!(
            ", si_pid={}, si_uid={}",
            info.si_pid(),
            info.si_uid()
        ));
        if code == s::SI_QUEUE {
            value(&mut out);
        }
    } else if code == s::SI_TIMER {
        out.push_str(&format!(
            ", si_timerid={:#x}, si_overrun={}",
            info.si_tid(),
            info.si_overrun()
        ));
        value(&mut out);
    } else if code > 0 && code != s::SI_KERNEL {
        match sig as u32 {
            s::SIGSEGV | s::SIGBUS | s::SIGILL | s::SIGFPE | s::SIGTRAP => {
                out.push_str(&format!(", si_addr={}", addr(info.si_addr())));
            }
            s::SIGCHLD => out.push_str(&format!(
                ", si_pid={}, si_uid={}, si_status={}, si_utime={}, si_stime={}",
                info.si_pid(),
                info.si_uid(),
                if code == 1 {
                    info.si_status().to_string()
                } else {
                    signal_name(info.si_status())
                },
                info.si_utime(),
                info.si_stime()
            )),
            _ => {}
        }
    }
    out.push('}');
    out
}
