//! Host operations on a stub's address space.
//!
//! The memory manager decides *what* the stub's host mappings must become and
//! describes it as a list of [`HostOp`]s; the platform runs the list inside
//! the stub (as one request to its control thread). Keeping the two apart lets
//! `mm/` stay free of ptrace and makes the batching visible.

use super::frames::{Frame, PAGE_SIZE};

/// The stub's descriptor for the frames memfd (see `stub/stub.S`).
pub const STUB_FRAMES_FD: u64 = 3;

const SYS_MMAP: u64 = guest_abi::sysno::MMAP as u64;
const SYS_MUNMAP: u64 = guest_abi::sysno::MUNMAP as u64;
const SYS_MPROTECT: u64 = guest_abi::sysno::MPROTECT as u64;
const SYS_OPENAT: u64 = guest_abi::sysno::OPENAT as u64;
const SYS_CLOSE: u64 = guest_abi::sysno::CLOSE as u64;

/// Flags above the syscall number in [`HostOp::nr`], run by the stub's
/// control thread (`stub/stub.S`): keep the op's result ...
pub const OP_SAVE: u64 = 1 << 32;
/// ... and pass the kept result as the fifth argument (mmap's fd) ...
pub const OP_FD_R8: u64 = 1 << 33;
/// ... or as the first (close's fd).
pub const OP_FD_RDI: u64 = 1 << 34;
/// Resolved by the platform before the stub sees the op: the first argument
/// becomes the stub's descriptor of umk's `/proc/PID/fd` directory and the
/// second the stub's address of the fifth, which holds the name to open
/// (umk's descriptor number in decimal, NUL-terminated, at most 7 digits).
pub const OP_UMK_FD: u64 = 1 << 40;
/// Every flag bit.
pub const OP_FLAGS: u64 = !0xffff_ffff;

/// One host syscall for the stub to make.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct HostOp {
    pub nr: u64,
    pub args: [u64; 6],
}

impl HostOp {
    /// Map frames `[frame, frame + len/PAGE_SIZE)` at `addr`.
    pub fn map(addr: u64, len: u64, prot: u64, frame: Frame) -> HostOp {
        let flags = (libc::MAP_SHARED | libc::MAP_FIXED) as u64;
        HostOp {
            nr: SYS_MMAP,
            args: [addr, len, prot, flags, STUB_FRAMES_FD, frame * PAGE_SIZE],
        }
    }

    pub fn unmap(addr: u64, len: u64) -> HostOp {
        HostOp {
            nr: SYS_MUNMAP,
            args: [addr, len, 0, 0, 0, 0],
        }
    }

    pub fn protect(addr: u64, len: u64, prot: u64) -> HostOp {
        HostOp {
            nr: SYS_MPROTECT,
            args: [addr, len, prot, 0, 0, 0],
        }
    }

    /// Maps `[offset, offset+len)` of host file `fd` (umk's descriptor) at
    /// `addr` privately, straight from the host's page cache: the stub opens
    /// the file again through umk's `/proc/PID/fd/<fd>`, maps it and closes
    /// it. Three ops.
    pub fn map_file(addr: u64, len: u64, prot: u64, fd: i32, offset: u64) -> [HostOp; 3] {
        [
            HostOp::open_file(fd),
            HostOp::map_opened(addr, len, prot, offset),
            HostOp::close_opened(),
        ]
    }

    /// Opens umk's descriptor `fd` in the stub, as the descriptor the next
    /// [`HostOp::map_opened`] and [`HostOp::close_opened`] use.
    pub fn open_file(fd: i32) -> HostOp {
        let mut name = [0u8; 8];
        let digits = fd.max(0).to_string();
        let n = digits.len().min(7);
        name[..n].copy_from_slice(&digits.as_bytes()[..n]);
        HostOp {
            nr: SYS_OPENAT | OP_SAVE | OP_UMK_FD,
            args: [
                0,
                0,
                (libc::O_RDONLY | libc::O_CLOEXEC) as u64,
                0,
                u64::from_ne_bytes(name),
                0,
            ],
        }
    }

    /// Maps the file [`HostOp::open_file`] opened, privately.
    pub fn map_opened(addr: u64, len: u64, prot: u64, offset: u64) -> HostOp {
        let flags = (libc::MAP_PRIVATE | libc::MAP_FIXED) as u64;
        HostOp {
            nr: SYS_MMAP | OP_FD_R8,
            args: [addr, len, prot, flags, 0, offset],
        }
    }

    /// Closes the file [`HostOp::open_file`] opened.
    pub fn close_opened() -> HostOp {
        HostOp {
            nr: SYS_CLOSE | OP_FD_RDI,
            args: [0; 6],
        }
    }

    /// Closes a descriptor the stub opened for [`HostOp::map_file`] (after
    /// a failed map).
    pub fn close(fd: u64) -> HostOp {
        HostOp {
            nr: SYS_CLOSE,
            args: [fd, 0, 0, 0, 0, 0],
        }
    }
}

/// Drops each "close, then open the same file again" pair from `ops`, so
/// that consecutive [`HostOp::map_file`] triples of one file (a program's
/// segments) open it once. The opened descriptor is kept across requests
/// (r12 in `stub.S`), so the merged ops may also span a request boundary.
pub fn merge_reopens(ops: &mut Vec<HostOp>) {
    let mut out: Vec<HostOp> = Vec::with_capacity(ops.len());
    let mut opened: Option<HostOp> = None;
    for op in ops.drain(..) {
        if op.nr & OP_SAVE != 0 && opened == Some(op) && out.last() == Some(&HostOp::close_opened())
        {
            out.pop();
            continue;
        }
        if op.nr & OP_SAVE != 0 {
            opened = Some(op);
        }
        out.push(op);
    }
    *ops = out;
}

/// Runs host operations inside the stub that holds an address space.
pub trait HostMmu {
    /// Runs `ops` in order; stops at the first failure and reports it.
    fn apply(&mut self, ops: &[HostOp]) -> Result<(), HostOpError>;
}

#[derive(Debug, thiserror::Error)]
pub enum HostOpError {
    #[error("host {op:?} failed in the stub: errno {errno}")]
    Failed { op: HostOp, errno: i32 },
    #[error("stub unreachable: {0}")]
    Stub(String),
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn segments_of_one_file_open_it_once() {
        let mut ops: Vec<HostOp> = Vec::new();
        ops.extend(HostOp::map_file(0x1000, 0x1000, 1, 7, 0));
        ops.extend(HostOp::map_file(0x2000, 0x1000, 5, 7, 0x1000));
        ops.push(HostOp::unmap(0x9000, 0x1000));
        ops.extend(HostOp::map_file(0x3000, 0x1000, 1, 7, 0x2000));
        ops.extend(HostOp::map_file(0x4000, 0x1000, 1, 8, 0));
        merge_reopens(&mut ops);
        let kinds: Vec<u64> = ops.iter().map(|o| o.nr & 0xffff_ffff).collect();
        let (open, mmap, close, munmap) = (SYS_OPENAT, SYS_MMAP, SYS_CLOSE, SYS_MUNMAP);
        assert_eq!(
            kinds,
            [open, mmap, mmap, close, munmap, open, mmap, close, open, mmap, close]
        );
    }
}
