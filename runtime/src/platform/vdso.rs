//! The guests' vDSO: the host kernel's own, moved into every stub.
//!
//! glibc calls `clock_gettime`, `gettimeofday`, `time` and `getcpu`
//! through the vDSO when the auxiliary vector names one (`AT_SYSINFO_EHDR`);
//! without it each call is a syscall, which under ptrace costs a stop and
//! a resume (~10 µs against ~50 ns natively). The stub keeps the vDSO the
//! kernel gave it: at start it moves the block of `[vvar]` pages and the
//! `[vdso]` text (the text reads the pages before it at fixed offsets, so
//! they move together) to `vdso_block`, a fixed place above its image, and
//! every stub has it at the same address, so the value survives fork.
//!
//! The stub cannot tell where the block starts or how long it is (the
//! vDSO's ELF does not say), but every process on the host gets the same
//! layout: umk reads its own from `/proc/self/maps` and writes the sizes
//! into the stub image (`vdso_layout`) before any stub starts. Each new
//! stub is checked (the ELF magic must be at the address guests are given);
//! if a check fails, guests get no vDSO from then on.
//!
//! What the vDSO answers is the host's: the wall and monotonic clocks,
//! which umk does not virtualise either, and for `getcpu` the *host* CPU
//! (the vCPU's when vCPUs are pinned one to one, the default). CPU-time
//! clocks are not in the vDSO: they fall back to a (trapped) syscall.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::OnceLock;

/// Where the block starts, past the end of the stub's image (`VDSO_GAP` in
/// `stub/stub.S`; the mailbox page lies halfway).
pub const GAP: u64 = 0x20_0000;
/// Room the stub keeps for the block (`VDSO_WINDOW`).
pub const WINDOW: u64 = 0x10_0000;

/// The host's block: bytes of vvar pages before the vDSO, and in all.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct HostLayout {
    pub before: u64,
    pub total: u64,
}

static BROKEN: AtomicBool = AtomicBool::new(false);

/// This host's layout, read from umk's own maps once; `None` when there is
/// no vDSO or its block does not fit the window.
pub fn host_layout() -> Option<HostLayout> {
    static L: OnceLock<Option<HostLayout>> = OnceLock::new();
    *L.get_or_init(|| {
        let maps = std::fs::read_to_string("/proc/self/maps").ok()?;
        parse_maps(&maps).filter(|l| l.total <= WINDOW)
    })
}

/// Finds `[vdso]` and the `[vvar...]` mappings right before it.
fn parse_maps(maps: &str) -> Option<HostLayout> {
    let ranges: Vec<(u64, u64, &str)> = maps
        .lines()
        .filter_map(|l| {
            let mut it = l.split_whitespace();
            let (lo, hi) = it.next()?.split_once('-')?;
            let name = it.nth(4).unwrap_or("");
            Some((
                u64::from_str_radix(lo, 16).ok()?,
                u64::from_str_radix(hi, 16).ok()?,
                name,
            ))
        })
        .collect();
    let i = ranges.iter().position(|r| r.2 == "[vdso]")?;
    let (vdso_lo, vdso_hi, _) = ranges[i];
    let mut start = vdso_lo;
    for r in ranges[..i].iter().rev() {
        if r.1 != start || !r.2.starts_with("[vvar") {
            break;
        }
        start = r.0;
    }
    Some(HostLayout {
        before: vdso_lo - start,
        total: vdso_hi - start,
    })
}

/// The address of the vDSO's ELF header in every stub whose image ends at
/// `image_end`, or 0 when guests get no vDSO.
pub fn guest_addr(image_end: u64) -> u64 {
    match host_layout() {
        Some(l) if !BROKEN.load(Ordering::Relaxed) => image_end + GAP + l.before,
        _ => 0,
    }
}

/// A stub did not end up with the vDSO where expected: no guest started
/// from now on is told about it.
pub fn mark_broken() {
    if !BROKEN.swap(true, Ordering::Relaxed) {
        crate::log::warn("stub: the vDSO could not be moved; guests run without one");
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn finds_the_block_before_the_vdso() {
        let maps = "\
7f00000000-7f00001000 r--p 00000000 00:00 0                          [anon]
7f2b9376c000-7f2b93770000 r--p 00000000 00:00 0                          [vvar]
7f2b93770000-7f2b93772000 r--p 00000000 00:00 0                          [vvar_vclock]
7f2b93772000-7f2b93774000 r-xp 00000000 00:00 0                          [vdso]
7ffd00000000-7ffd00021000 rw-p 00000000 00:00 0                          [stack]
";
        assert_eq!(
            parse_maps(maps),
            Some(HostLayout {
                before: 0x6000,
                total: 0x8000
            })
        );
        assert_eq!(parse_maps("7f00-8000 r--p 0 00:00 0 [heap]\n"), None);
    }

    #[test]
    fn this_host_has_one() {
        // Linux on x86-64 always maps a vDSO (unless booted vdso=0).
        let l = host_layout().expect("a vDSO in /proc/self/maps");
        assert!(l.before < l.total && l.total <= WINDOW);
    }
}
