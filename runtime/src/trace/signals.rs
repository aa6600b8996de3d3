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
