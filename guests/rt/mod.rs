//! A tiny freestanding runtime for the no_std Rust guests.
//!
//! Include it from a guest with
//!
//! ```ignore
//! #![no_std]
//! #![no_main]
//! #[path = "../../rt/mod.rs"]
//! mod rt;
//! fn main(args: &rt::Args) -> i32 { ... }
//! ```
//!
//! It provides `_start` (which hands the initial stack — argc, argv, envp,
//! auxv — to the guest's `main`), the memory functions the compiler may call,
//! a panic handler (message on stderr, exit status 101), `print!`/`println!`/
//! `eprint!`/`eprintln!` over `write(2)`, and `exit`. Nothing is buffered.

#![allow(dead_code, unused_macros, unused_imports)]

use core::arch::{asm, global_asm};
use core::fmt;

use guest_abi::raw::{syscall1, syscall3};
use guest_abi::sysno;

// The kernel starts us with rsp pointing at argc (16-byte aligned) and
// rdx = the dynamic linker's fini function (none for a static binary).
global_asm!(
    ".globl _start",
    ".type _start,@function",
    "_start:",
    "xor ebp, ebp",
    "mov rdi, rsp",
    "and rsp, -16",
    "call {entry}",
    "ud2",
    ".size _start, . - _start",
    entry = sym rt_entry,
);

/// Auxiliary vector types (`AT_*`), from `<elf.h>`.
pub mod at {
    pub const NULL: usize = 0;
    pub const PHDR: usize = 3;
    pub const PHENT: usize = 4;
    pub const PHNUM: usize = 5;
    pub const PAGESZ: usize = 6;
    pub const ENTRY: usize = 9;
    pub const UID: usize = 11;
    pub const EUID: usize = 12;
    pub const GID: usize = 13;
    pub const EGID: usize = 14;
    pub const HWCAP: usize = 16;
    pub const CLKTCK: usize = 17;
    pub const SECURE: usize = 23;
    pub const RANDOM: usize = 25;
    pub const EXECFN: usize = 31;
}

/// The process's arguments, environment and auxiliary vector, as the kernel
/// laid them out on the initial stack.
pub struct Args {
    argv: &'static [*const u8],
    envp: &'static [*const u8],
    auxv: *const [usize; 2],
}

impl Args {
    pub fn argc(&self) -> usize {
        self.argv.len()
    }

    /// `argv[i]` without its NUL, or `None` past the end.
    pub fn arg(&self, i: usize) -> Option<&'static [u8]> {
        // SAFETY: the kernel's argv strings are NUL-terminated and live forever.
        self.argv.get(i).map(|&p| unsafe { cstr(p) })
    }

    pub fn args(&self) -> impl Iterator<Item = &'static [u8]> + '_ {
        // SAFETY: as in `arg`.
        self.argv.iter().map(|&p| unsafe { cstr(p) })
    }

    /// The environment strings (`NAME=value`).
    pub fn env(&self) -> impl Iterator<Item = &'static [u8]> + '_ {
        // SAFETY: as in `arg`.
        self.envp.iter().map(|&p| unsafe { cstr(p) })
    }

    /// The value of the environment variable `name`, like `getenv`.
    pub fn getenv(&self, name: &[u8]) -> Option<&'static [u8]> {
        self.env().find_map(|kv| {
            (kv.len() > name.len() && kv.starts_with(name) && kv[name.len()] == b'=')
                .then(|| &kv[name.len() + 1..])
        })
    }

    /// The auxiliary vector's `(type, value)` pairs, up to `AT_NULL`.
    pub fn auxv(&self) -> Auxv {
        Auxv { next: self.auxv }
    }

    /// The value of the first auxv entry of type `ty`, like `getauxval`.
    pub fn getauxval(&self, ty: usize) -> Option<usize> {
        self.auxv().find(|&(t, _)| t == ty).map(|(_, v)| v)
    }
}

pub struct Auxv {
    next: *const [usize; 2],
}

impl Iterator for Auxv {
    type Item = (usize, usize);
    fn next(&mut self) -> Option<(usize, usize)> {
        // SAFETY: the auxv is an array of pairs ending with AT_NULL; we never
        // step past that entry.
        let [ty, val] = unsafe { *self.next };
        if ty == at::NULL {
            return None;
        }
        // SAFETY: not at the AT_NULL entry, so the next pair exists.
        self.next = unsafe { self.next.add(1) };
        Some((ty, val))
    }
}

/// The bytes of a NUL-terminated string, without the NUL.
///
/// # Safety
/// `p` must point to a NUL-terminated string that lives for `'static`.
pub unsafe fn cstr(p: *const u8) -> &'static [u8] {
    // SAFETY: the caller promises a NUL-terminated string.
    let n = unsafe { strlen(p) };
    // SAFETY: `p..p+n` are the string's initialized bytes.
    unsafe { core::slice::from_raw_parts(p, n) }
}

extern "C" fn rt_entry(sp: *const usize) -> ! {
    // SAFETY: `sp` is the initial stack: argc, argv[argc], NULL, envp..., NULL,
    // auxv pairs... (see the System V x86-64 ABI, "Process Initialization").
    let args = unsafe {
        let argc = *sp;
        let argv = sp.add(1) as *const *const u8;
        let envp = argv.add(argc + 1);
        let mut envc = 0;
        while !(*envp.add(envc)).is_null() {
            envc += 1;
        }
        let auxv = envp.add(envc + 1) as *const [usize; 2];
        Args {
            argv: core::slice::from_raw_parts(argv, argc),
            envp: core::slice::from_raw_parts(envp, envc),
            auxv,
        }
    };
    let code = super::main(&args);
    exit(code)
}

/// `exit_group(code)`.
pub fn exit(code: i32) -> ! {
    loop {
        // SAFETY: exit_group takes no pointers.
        unsafe { syscall1(sysno::EXIT_GROUP, code as usize) };
    }
}

/// `write(fd, buf)`, retried until everything is written or an error occurs.
/// Returns 0 or the negative errno.
pub fn write_all(fd: i32, mut buf: &[u8]) -> isize {
    while !buf.is_empty() {
        // SAFETY: `buf` is a valid readable slice.
        let r = unsafe { syscall3(sysno::WRITE, fd as usize, buf.as_ptr() as usize, buf.len()) };
        if r < 0 {
            if r == -(guest_abi::Errno::EINTR.0 as isize) {
                continue;
            }
            return r;
        }
        buf = &buf[r as usize..];
    }
    0
}

/// An unbuffered `fmt::Write` over a file descriptor.
pub struct Fd(pub i32);

impl fmt::Write for Fd {
    fn write_str(&mut self, s: &str) -> fmt::Result {
        if write_all(self.0, s.as_bytes()) < 0 {
            return Err(fmt::Error);
        }
        Ok(())
    }
}

pub fn print_bytes(b: &[u8]) {
    write_all(1, b);
}

/// Parses an optionally negative decimal number.
pub fn parse_i64(s: &[u8]) -> Option<i64> {
    let (neg, digits) = match s.split_first() {
        Some((b'-', rest)) => (true, rest),
        _ => (false, s),
    };
    if digits.is_empty() {
        return None;
    }
    let mut v: i64 = 0;
    for &c in digits {
        if !c.is_ascii_digit() {
            return None;
        }
        v = v.checked_mul(10)?.checked_add((c - b'0') as i64)?;
    }
    Some(if neg { -v } else { v })
}

macro_rules! print {
    ($($arg:tt)*) => {{
        let _ = core::fmt::Write::write_fmt(&mut $crate::rt::Fd(1), format_args!($($arg)*));
    }};
}
macro_rules! println {
    () => { $crate::rt::print_bytes(b"\n") };
    ($($arg:tt)*) => {{
        $crate::rt::print!($($arg)*);
        $crate::rt::print_bytes(b"\n");
    }};
}
macro_rules! eprint {
    ($($arg:tt)*) => {{
        let _ = core::fmt::Write::write_fmt(&mut $crate::rt::Fd(2), format_args!($($arg)*));
    }};
}
macro_rules! eprintln {
    ($($arg:tt)*) => {{
        $crate::rt::eprint!($($arg)*);
        $crate::rt::write_all(2, b"\n");
    }};
}
pub(crate) use {eprint, eprintln, print, println};

/// Formats bytes as text, replacing non-UTF-8 sequences.
pub struct Bytes<'a>(pub &'a [u8]);

impl fmt::Display for Bytes<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for chunk in self.0.utf8_chunks() {
            f.write_str(chunk.valid())?;
            if !chunk.invalid().is_empty() {
                f.write_str("\u{FFFD}")?;
            }
        }
        Ok(())
    }
}

#[panic_handler]
fn panic(info: &core::panic::PanicInfo<'_>) -> ! {
    eprintln!("guest panicked: {}", info);
    exit(101)
}

/// Never called: guests are built with `panic = "abort"`, but the
/// precompiled `core` (built for unwinding) still refers to the symbol.
#[no_mangle]
pub extern "C" fn rust_eh_personality() {}

// The memory functions the compiler emits calls to. They use string
// instructions (or volatile reads) so that the compiler cannot "optimize"
// them into calls to themselves.

/// # Safety
/// The usual `memcpy` contract: valid, non-overlapping ranges.
#[no_mangle]
pub unsafe extern "C" fn memcpy(dst: *mut u8, src: *const u8, n: usize) -> *mut u8 {
    // SAFETY: the caller provides valid ranges; the direction flag is clear
    // (the ABI requires it on function entry).
    unsafe {
        asm!("rep movsb", inout("rcx") n => _, inout("rdi") dst => _, inout("rsi") src => _,
             options(nostack, preserves_flags))
    };
    dst
}

/// # Safety
/// The usual `memmove` contract: valid ranges, which may overlap.
#[no_mangle]
pub unsafe extern "C" fn memmove(dst: *mut u8, src: *const u8, n: usize) -> *mut u8 {
    if (dst as usize).wrapping_sub(src as usize) >= n {
        // dst is below src or the ranges are disjoint: copy forwards.
        // SAFETY: as in `memcpy`; a forward copy is correct for these overlaps.
        unsafe {
            asm!("rep movsb", inout("rcx") n => _, inout("rdi") dst => _, inout("rsi") src => _,
                 options(nostack, preserves_flags))
        };
    } else if n > 0 {
        // dst overlaps the tail of src: copy backwards from the last byte.
        // SAFETY: the caller provides valid ranges; the direction flag is
        // restored before returning.
        unsafe {
            asm!("std", "rep movsb", "cld",
                 inout("rcx") n => _, inout("rdi") dst.add(n - 1) => _,
                 inout("rsi") src.add(n - 1) => _, options(nostack))
        };
    }
    dst
}

/// # Safety
/// The usual `memset` contract: a valid, writable range.
#[no_mangle]
pub unsafe extern "C" fn memset(dst: *mut u8, c: i32, n: usize) -> *mut u8 {
    // SAFETY: the caller provides a valid range; DF is clear.
    unsafe {
        asm!("rep stosb", inout("rcx") n => _, inout("rdi") dst => _, in("al") c as u8,
             options(nostack, preserves_flags))
    };
    dst
}

/// # Safety
/// The usual `memcmp` contract: valid readable ranges.
#[no_mangle]
pub unsafe extern "C" fn memcmp(a: *const u8, b: *const u8, n: usize) -> i32 {
    let mut i = 0;
    while i < n {
        // SAFETY: `i < n`, inside both ranges. Volatile reads keep the
        // compiler from recognising the loop as a call to memcmp/bcmp.
        let (x, y) = unsafe { (a.add(i).read_volatile(), b.add(i).read_volatile()) };
        if x != y {
            return x as i32 - y as i32;
        }
        i += 1;
    }
    0
}

/// # Safety
/// `s` must point to a NUL-terminated string.
#[no_mangle]
pub unsafe extern "C" fn strlen(s: *const u8) -> usize {
    let mut n = 0;
    // SAFETY: the caller promises a NUL within the allocation; volatile
    // reads keep the compiler from turning the loop into a call to strlen.
    while unsafe { s.add(n).read_volatile() } != 0 {
        n += 1;
    }
    n
}

/// # Safety
/// The usual `bcmp` contract: valid readable ranges.
#[no_mangle]
pub unsafe extern "C" fn bcmp(a: *const u8, b: *const u8, n: usize) -> i32 {
    // SAFETY: same contract as memcmp.
    unsafe { memcmp(a, b, n) }
}
