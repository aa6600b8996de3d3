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
