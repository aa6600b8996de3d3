//! Strings and byte buffers from guest memory, quoted and escaped like
//! strace's `string_quote`: `\t \n \v \f \r \" \\` by name, other
//! non-printable bytes in octal (three digits when a digit 0-7 follows, so the
//! escape stays unambiguous), or every byte as `\xHH` for buffers strace shows
//! in hex (getrandom). Output is always ASCII.
//!
//! Every read is bounded: NUL-terminated strings by the string limit (or
//! `PATH_MAX` for paths), buffers by the limit, arrays by the element limit,
//! so a guest cannot make the tracer read or allocate without bound.

use super::GuestMemRead;

/// Longest path strace prints (`PATH_MAX - 1` bytes, then `...`).
pub(crate) const PATH_MAX: usize = 4096;

/// Largest string limit honoured, whatever the options say.
pub(crate) const MAX_LIMIT: usize = 1 << 20;

/// Guest pages are read one at a time so a string that ends just before an
/// unmapped page is still printed.
const PAGE: u64 = 4096;

/// `NULL` for 0, otherwise the address in hex.
pub(crate) fn addr(a: u64) -> String {
    if a == 0 {
        "NULL".to_string()
    } else {
        format!("{a:#x}")
    }
}

/// Appends `data` escaped as strace does (without the surrounding quotes).
pub(crate) fn escape_into(out: &mut String, data: &[u8], hex: bool) {
    const DIGITS: &[u8; 16] = b"0123456789abcdef";
    for (i, &c) in data.iter().enumerate() {
        if hex {
            out.push_str("\\x");
            out.push(char::from(DIGITS[usize::from(c >> 4)]));
            out.push(char::from(DIGITS[usize::from(c & 0xf)]));
            continue;
        }
        match c {
            b'"' | b'\\' => {
                out.push('\\');
                out.push(char::from(c));
            }
            b'\x0c' => out.push_str("\\f"),
            b'\n' => out.push_str("\\n"),
            b'\r' => out.push_str("\\r"),
            b'\t' => out.push_str("\\t"),
            b'\x0b' => out.push_str("\\v"),
            b' '..=b'~' => out.push(char::from(c)),
            _ => {
                out.push('\\');
                let next_is_octal = matches!(data.get(i + 1), Some(b'0'..=b'7'));
                if next_is_octal || c >> 6 != 0 {
                    out.push(char::from(b'0' + (c >> 6)));
                }
                if next_is_octal || c >> 3 != 0 {
                    out.push(char::from(b'0' + ((c >> 3) & 7)));
                }
                out.push(char::from(b'0' + (c & 7)));
            }
        }
    }
}

/// `data` in double quotes, escaped.
pub(crate) fn quote(data: &[u8], hex: bool) -> String {
    let mut s = String::with_capacity(data.len() + 2);
    s.push('"');
    escape_into(&mut s, data, hex);
    s.push('"');
    s
}

/// Reads up to `max` bytes of a NUL-terminated string. Returns the bytes
/// before the NUL and whether the NUL was found; `None` if not even the first
/// byte is readable. A read that fails part-way returns what came before.
pub(crate) fn read_cstr(mem: &dyn GuestMemRead, addr: u64, max: usize) -> Option<(Vec<u8>, bool)> {
    let mut out = Vec::new();
    let mut at = addr;
    let mut chunk = [0u8; PAGE as usize];
    while out.len() < max {
        let to_page_end = PAGE - (at % PAGE);
        let want = to_page_end.min((max - out.len()) as u64) as usize;
        let buf = &mut chunk[..want];
        if !mem.read(at, buf) {
            // Retry byte by byte: the fake or real reader may refuse a read
            // that crosses the end of the readable range.
            let mut got_any = false;
            for b in buf.iter_mut() {
                if !mem.read(at, std::slice::from_mut(b)) {
                    break;
                }
                got_any = true;
                if *b == 0 {
                    return Some((out, true));
                }
                out.push(*b);
                at = at.wrapping_add(1);
            }
            if !got_any && out.is_empty() {
                return None;
            }
            return Some((out, false));
        }
        if let Some(nul) = buf.iter().position(|&b| b == 0) {
            out.extend_from_slice(&buf[..nul]);
            return Some((out, true));
        }
        out.extend_from_slice(buf);
        at = match at.checked_add(want as u64) {
            Some(a) => a,
            None => return Some((out, false)),
        };
    }
    Some((out, false))
}

/// Reads exactly `len` bytes, or `None`.
pub(crate) fn read_bytes(mem: &dyn GuestMemRead, addr: u64, len: usize) -> Option<Vec<u8>> {
    let mut v = vec![0u8; len];
    if len == 0 || mem.read(addr, &mut v) {
        Some(v)
    } else {
        None
    }
}

/// Reads a little-endian u64, or `None`.
pub(crate) fn read_u64(mem: &dyn GuestMemRead, addr: u64) -> Option<u64> {
    let mut b = [0u8; 8];
    mem.read(addr, &mut b).then(|| u64::from_le_bytes(b))
}

/// Reads a little-endian u32, or `None`.
pub(crate) fn read_u32(mem: &dyn GuestMemRead, addr: u64) -> Option<u32> {
    let mut b = [0u8; 4];
    mem.read(addr, &mut b).then(|| u32::from_le_bytes(b))
}

/// A NUL-terminated string cut at `limit` bytes (strace's `printstr`): `"abc"`,
/// `"abcdef"...`, `NULL`, or the address when unreadable.
pub(crate) fn cstr(mem: &dyn GuestMemRead, a: u64, limit: usize) -> String {
    if a == 0 {
        return "NULL".to_string();
    }
    let limit = limit.min(MAX_LIMIT);
    // One byte more than printed: a string of exactly `limit` bytes is whole.
    match read_cstr(mem, a, limit.saturating_add(1)) {
        None => addr(a),
        Some((bytes, terminated)) => {
            let shown = &bytes[..bytes.len().min(limit)];
            let mut s = quote(shown, false);
            if !terminated || bytes.len() > limit {
                s.push_str("...");
            }
            s
        }
    }
}

/// A path: like [`cstr`] but cut at `PATH_MAX` rather than the string limit,
/// as strace does.
pub(crate) fn path(mem: &dyn GuestMemRead, a: u64) -> String {
    cstr(mem, a, PATH_MAX - 1)
}

/// A buffer of `len` bytes shown up to `limit` bytes (strace's `printstrn`):
/// `"abc"`, `"abc"...` when `len` is larger than the limit.
pub(crate) fn buf(mem: &dyn GuestMemRead, a: u64, len: u64, limit: usize, hex: bool) -> String {
    if a == 0 {
        return "NULL".to_string();
    }
    let limit = limit.min(MAX_LIMIT);
    let shown = usize::try_from(len).unwrap_or(usize::MAX).min(limit);
    match read_bytes(mem, a, shown) {
        None => addr(a),
        Some(bytes) => {
            let mut s = quote(&bytes, hex);
            if len > limit as u64 {
                s.push_str("...");
            }
            s
        }
    }
}

/// A NULL-terminated array of string pointers, like execve's argv:
/// `["/bin/ls", "-l"]`, at most `limit` elements then `...`.
pub(crate) fn argv(mem: &dyn GuestMemRead, a: u64, limit: usize) -> String {
    if a == 0 {
        return "NULL".to_string();
    }
    let mut out = String::from("[");
    let mut n = 0usize;
    let mut at = a;
    loop {
        let Some(p) = read_u64(mem, at) else {
            if n == 0 {
                return addr(a);
            }
            out.push_str(", ...");
            break;
        };
        if p == 0 {
            break;
        }
        if n > 0 {
            out.push_str(", ");
        }
        if n >= limit.min(MAX_LIMIT) {
            out.push_str("...");
            break;
        }
        out.push_str(&cstr(mem, p, limit));
        n += 1;
        at = match at.checked_add(8) {
            Some(x) => x,
            None => break,
        };
    }
    out.push(']');
    out
}

/// Counting bound for [`argc`]: arrays longer than this are shown as
/// unterminated rather than walked to the end.
const MAX_COUNT: u32 = 1 << 16;

/// A NULL-terminated array shown as its address and length, like execve's
/// envp: `0x7ffc4f2a1b38 /* 23 vars */`.
pub(crate) fn argc(mem: &dyn GuestMemRead, a: u64) -> String {
    let mut s = addr(a);
    if a == 0 {
        return s;
    }
    let mut count = 0u32;
    let mut unterminated = false;
    let mut at = a;
    let mut chunk = [0u8; 512];
    'outer: loop {
        // Read a page-bounded chunk of pointers at a time, falling back to
        // single pointers where the chunk is not readable.
        let to_page_end = (PAGE - (at % PAGE)) as usize;
        let n = chunk.len().min(to_page_end);
        let ok = n >= 8 && mem.read(at, &mut chunk[..n]);
        let ptrs: Vec<u64> = if ok {
            chunk[..n]
                .chunks_exact(8)
                .map(|c| {
                    let mut b = [0u8; 8];
                    b.copy_from_slice(c);
                    u64::from_le_bytes(b)
                })
                .collect()
        } else {
            match read_u64(mem, at) {
                Some(p) => vec![p],
                None => {
                    if count == 0 {
                        return s;
                    }
                    unterminated = true;
                    break;
                }
            }
        };
        for p in &ptrs {
            if *p == 0 {
                break 'outer;
            }
            count += 1;
            if count >= MAX_COUNT {
                unterminated = true;
                break 'outer;
            }
        }
        at = match at.checked_add(8 * ptrs.len() as u64) {
            Some(x) => x,
            None => {
                unterminated = true;
                break;
            }
        };
    }
    s.push_str(&format!(
        " /* {} var{}{} */",
        count,
        if count == 1 { "" } else { "s" },
        if unterminated { ", unterminated" } else { "" }
    ));
    s
}
