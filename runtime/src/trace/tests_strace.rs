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
            let len = b[i + 2..].iter().take_while(|c| c.is_ascii_hexdigit()).count();
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
