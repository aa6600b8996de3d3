//! The initial stack: strings, AT_RANDOM bytes, the auxiliary vector,
//! `envp`, `argv` and `argc`, laid out as `create_elf_tables()` in Linux's
//! `fs/binfmt_elf.c` does (see also the System V x86-64 psABI, §3.4.1).
//!
//! ```text
//!   stack top →  AT_EXECFN string, envp strings, argv strings
//!                "x86_64" (AT_PLATFORM), 16 random bytes (AT_RANDOM)
//!                (padding to 16 bytes)
//!                auxv pairs, AT_NULL
//!                envp pointers, NULL
//!                argv pointers, NULL
//!   rsp →        argc
//! ```

use std::sync::OnceLock;

use guest_abi::auxv::*;
use guest_abi::mman::{MAP_ANONYMOUS, MAP_FIXED, MAP_PRIVATE, PROT_EXEC, PROT_READ, PROT_WRITE};

use crate::error::{SysError, SysResult};
use crate::mm::space::page_down;
use crate::mm::vma::{Backing, Role};
use crate::mm::{AddressSpace, HostMmu, MapRequest};

/// Values of the host's auxiliary vector that guests see unchanged.
#[derive(Clone, Copy, Debug)]
pub struct HostAux {
    pub hwcap: u64,
    pub hwcap2: u64,
    pub minsigstksz: u64,
    pub clktck: u64,
    pub uid: u64,
    pub euid: u64,
    pub gid: u64,
    pub egid: u64,
}

impl HostAux {
    pub fn get() -> HostAux {
        static H: OnceLock<HostAux> = OnceLock::new();
        *H.get_or_init(|| {
            // SAFETY: getauxval and the get*id calls take and return integers.
            unsafe {
                HostAux {
                    hwcap: libc::getauxval(libc::AT_HWCAP),
                    hwcap2: libc::getauxval(libc::AT_HWCAP2),
                    // The host's value, checked against the frames umk builds.
                    minsigstksz: crate::signal::frame::minsigstksz(),
                    clktck: libc::getauxval(libc::AT_CLKTCK).max(100),
                    uid: u64::from(libc::getuid()),
                    euid: u64::from(libc::geteuid()),
                    gid: u64::from(libc::getgid()),
                    egid: u64::from(libc::getegid()),
                }
            }
        })
    }
}

/// The program-specific auxv entries.
#[derive(Clone, Copy, Debug)]
pub struct AuxInputs {
    pub phdr: u64,
    pub phnum: u64,
    pub entry: u64,
    pub base: u64,
}

/// Maps the main thread's stack and writes the initial stack contents.
/// Returns the initial stack pointer (pointing at `argc`, 16-byte aligned).
pub fn build(
    space: &AddressSpace,
    mmu: &mut dyn HostMmu,
    args: &super::ExecArgs,
    aux: &AuxInputs,
    stack_size: u64,
    exec_stack: bool,
) -> SysResult<u64> {
    let lay = space.layout();
    let top = lay.stack_top;
    let mut prot = PROT_READ | PROT_WRITE;
    if exec_stack {
        prot |= PROT_EXEC;
    }
    space.mmap(
        MapRequest {
            addr: top - stack_size,
            len: stack_size,
            prot,
            flags: MAP_PRIVATE | MAP_FIXED | MAP_ANONYMOUS,
            backing: Backing::Anon,
            role: Role::Stack,
        },
        mmu,
    )?;

    // Strings, from the top down.
    let mut strings: Vec<u8> = Vec::new();
    let mut push = |s: &[u8]| -> usize {
        strings.extend_from_slice(s);
        strings.push(0);
        strings.len()
    };
    // Offsets are measured from the top: the string ends `off` bytes below it.
    let execfn_off = push(&args.execfn);
    let env_offs: Vec<usize> = args.envp.iter().map(|e| push(e)).collect();
    let arg_offs: Vec<usize> = args.argv.iter().map(|a| push(a)).collect();
    let platform_off = push(b"x86_64");
    // `strings` was built top-down; reverse so it can be written low-to-high.
    let str_len = strings.len();
    let mut image = vec![0u8; str_len];
    // Place each pushed string so that it ends `off` bytes below the top.
    let place = |image: &mut Vec<u8>, s: &[u8], off: usize| {
        let start = str_len - off;
        image[start..start + s.len()].copy_from_slice(s);
    };
    place(&mut image, &args.execfn, execfn_off);
    for (e, &o) in args.envp.iter().zip(&env_offs) {
        place(&mut image, e, o);
    }
    for (a, &o) in args.argv.iter().zip(&arg_offs) {
        place(&mut image, a, o);
    }
    place(&mut image, b"x86_64", platform_off);
    let str_base = top - str_len as u64;
    let addr_of = |off: usize| top - off as u64;

    let mut random = [0u8; 16];
    // SAFETY: getrandom writes at most 16 bytes into `random`.
    unsafe { libc::getrandom(random.as_mut_ptr().cast(), random.len(), 0) };
    let random_addr = (str_base - 16) & !15;

    let host = HostAux::get();
    let mut auxv: Vec<(u64, u64)> = vec![
        (AT_HWCAP, host.hwcap),
        (AT_PAGESZ, 4096),
        (AT_CLKTCK, host.clktck),
        (AT_PHDR, aux.phdr),
        (AT_PHENT, 56),
        (AT_PHNUM, aux.phnum),
        (AT_BASE, aux.base),
        (AT_FLAGS, 0),
        (AT_ENTRY, aux.entry),
        (AT_UID, host.uid),
        (AT_EUID, host.euid),
        (AT_GID, host.gid),
        (AT_EGID, host.egid),
        (AT_SECURE, 0),
        (AT_RANDOM, random_addr),
        (AT_HWCAP2, host.hwcap2),
        (AT_EXECFN, addr_of(execfn_off)),
        (AT_PLATFORM, addr_of(platform_off)),
    ];
    if host.minsigstksz != 0 {
        auxv.push((AT_MINSIGSTKSZ, host.minsigstksz));
    }
    if let Ok(l) = crate::platform::stub::layout() {
        let vdso = crate::platform::vdso::guest_addr(l.image_end);
        if vdso != 0 {
            auxv.push((AT_SYSINFO_EHDR, vdso));
        }
    }
    auxv.push((AT_NULL, 0));

    // Words: argc, argv..., NULL, envp..., NULL, auxv pairs.
    let mut words: Vec<u64> = Vec::new();
    words.push(args.argv.len() as u64);
    words.extend(arg_offs.iter().map(|&o| addr_of(o)));
    words.push(0);
    words.extend(env_offs.iter().map(|&o| addr_of(o)));
    words.push(0);
    for (k, v) in &auxv {
        words.push(*k);
        words.push(*v);
    }
    let words_len = (words.len() * 8) as u64;
    let sp = (random_addr - words_len) & !15;
    if sp < top - stack_size + 4096 {
        return Err(SysError::new(
            guest_abi::Errno::E2BIG,
            "arguments exceed the stack",
        ));
    }
    let mut table = Vec::with_capacity(words.len() * 8);
    for w in &words {
        table.extend_from_slice(&w.to_le_bytes());
    }
    space.write(sp, &table)?;
    space.write(random_addr, &random)?;
    space.write(str_base, &image)?;
    debug_assert_eq!(page_down(sp) % 4096, 0);
    Ok(sp)
}
