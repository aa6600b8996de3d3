//! What a syscall handler works with: the calling thread, its process, the
//! kernel, and the stopped guest thread (registers and the stub's MMU).

use std::path::PathBuf;
use std::sync::Arc;

use guest_abi::Pod;

use crate::error::{SysError, SysResult};
use crate::kernel::Kernel;
use crate::mm::AddressSpace;
use crate::platform::GuestThread;
use crate::task::{ExitStatus, Mm, Process, Thread};

/// PATH_MAX (linux/limits.h): longest path a syscall accepts, with its NUL.
pub const PATH_MAX: usize = 4096;

/// What happens after the handler returns.
pub enum Outcome {
    /// Write the result into `rax` and resume the guest.
    Return,
    /// The calling thread ends (exit(2)); its process too if it was the
    /// last.
    ExitThread(ExitStatus),
    /// The whole process ends (exit_group(2)).
    ExitProcess(ExitStatus),
    /// execve(2) succeeded: the thread continues as this new guest thread
    /// (registers set up), in the new address space already in `mm`.
    Exec(Box<dyn GuestThread>),
}

pub struct SyscallContext<'a> {
    pub kernel: &'a Arc<Kernel>,
    pub thread: &'a Arc<Thread>,
    /// The calling thread's address space (taken once per syscall).
    pub mm: Arc<Mm>,
    pub guest: &'a mut dyn GuestThread,
    pub outcome: Outcome,
    /// Set by an execve from a thread that is not its process's leader:
    /// the thread that goes on in its place, with the leader's tid.
    pub successor: Option<Arc<Thread>>,
}

impl SyscallContext<'_> {
    pub fn process(&self) -> &Arc<Process> {
        &self.thread.process
    }

    pub fn mm(&self) -> &AddressSpace {
        &self.mm.space
    }

    pub fn read_struct<T: Pod>(&self, addr: u64) -> SysResult<T> {
        let mut v = T::zeroed();
        self.mm().read(addr, v.as_bytes_mut())?;
        Ok(v)
    }

    pub fn write_struct<T: Pod>(&self, addr: u64, v: &T) -> SysResult<()> {
        self.mm().write(addr, v.as_bytes())
    }

    pub fn read_bytes(&self, addr: u64, len: usize) -> SysResult<Vec<u8>> {
        let mut v = vec![0u8; len];
        self.mm().read(addr, &mut v)?;
        Ok(v)
    }

    /// A path argument: NUL-terminated, at most PATH_MAX bytes, not empty
    /// unless `allow_empty` (the `AT_EMPTY_PATH` case).
    pub fn read_path(&self, addr: u64, allow_empty: bool) -> SysResult<PathBuf> {
        let bytes = self.mm().read_cstr(addr, PATH_MAX - 1)?;
        if bytes.is_empty() && !allow_empty {
            return Err(SysError::new(guest_abi::Errno::ENOENT, "empty path"));
        }
        let os: std::ffi::OsString = std::os::unix::ffi::OsStringExt::from_vec(bytes);
        Ok(PathBuf::from(os))
    }
}
