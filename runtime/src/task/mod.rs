//! Processes (thread groups) and threads: umk's process control blocks.
//!
//! # Model
//!
//! A [`Process`] owns what its threads share: the address space, the
//! descriptor table, resource limits, signal dispositions, the executable
//! and working directory. A [`Thread`] owns what is per thread: its id, its
//! signal mask and alternate stack, and the `set_tid_address` /
//! `set_robust_list` pointers. Each guest thread is driven by one kernel
//! thread in umk (`kernel::run`).
//!
//! Pids are guest pids: the first program is pid 1 (init). Fork, the process
//! tree, zombies and wait arrive with the processes issue; the records are
//! shaped for them.

use std::path::PathBuf;
use std::sync::Arc;

use guest_abi::resource::*;
use guest_abi::structs::{KernelSigaction, Rlimit, StackT};
use parking_lot::Mutex;

use crate::fs::FdTable;
use crate::mm::fault::FaultThread;
use crate::mm::AddressSpace;

pub type Pid = i32;

/// Number of signals (1..=64), indexed from 0.
pub const NSIG: usize = 64;

/// The per-process state that threads share.
#[derive(Debug)]
pub struct Process {
    pub pid: Pid,
    pub ppid: Pid,
    pub mm: Arc<AddressSpace>,
    /// Resolves the address space's demand-paging faults; stops with it.
    pub faults: Mutex<Option<FaultThread>>,
    pub files: Mutex<FdTable>,
    pub limits: Mutex<[Rlimit; RLIM_NLIMITS as usize]>,
    pub sigactions: Mutex<[KernelSigaction; NSIG]>,
    /// Absolute path of the running executable (`/proc/self/exe`).
    pub exe: PathBuf,
    /// Shared, so a lookup can hold the directory without a host `dup`.
    pub cwd: Mutex<Arc<Cwd>>,
    /// Process group and session (init leads both).
    pub pgid: Mutex<Pid>,
    pub sid: Mutex<Pid>,
    /// `PR_SET_PDEATHSIG` signal (0: none).
    pub pdeathsig: Mutex<i32>,
}

/// The working directory: its path (for getcwd) and a host `O_PATH`
/// descriptor that relative lookups are made against.
#[derive(Debug)]
pub struct Cwd {
    pub path: PathBuf,
    pub fd: std::os::fd::OwnedFd,
}

impl Cwd {
    pub fn open(path: PathBuf) -> std::io::Result<Cwd> {
        use std::os::unix::fs::OpenOptionsExt;
        let f = std::fs::OpenOptions::new()
            .read(true)
            .custom_flags(libc::O_PATH | libc::O_DIRECTORY | libc::O_CLOEXEC)
            .open(&path)?;
        Ok(Cwd { path, fd: f.into() })
    }
}

/// Per-thread state.
#[derive(Debug, Default)]
pub struct ThreadState {
    pub sigmask: u64,
    pub altstack: StackT,
    pub clear_child_tid: u64,
    pub robust_list: u64,
    pub robust_list_len: u64,
    /// `comm` (PR_SET_NAME): at most 15 bytes.
    pub comm: Vec<u8>,
}

#[derive(Debug)]
pub struct Thread {
    pub tid: Pid,
    pub process: Arc<Process>,
    pub state: Mutex<ThreadState>,
}

/// umk's own limits, read once: guests start with the same ones.
pub fn host_limits() -> [Rlimit; RLIM_NLIMITS as usize] {
    let mut out = [Rlimit::default(); RLIM_NLIMITS as usize];
    for (i, l) in out.iter_mut().enumerate() {
        let mut r = libc::rlimit {
            rlim_cur: 0,
            rlim_max: 0,
        };
        // SAFETY: getrlimit writes one `struct rlimit` into `r`.
        if unsafe { libc::getrlimit(i as _, &mut r) } == 0 {
            *l = Rlimit {
                rlim_cur: r.rlim_cur,
                rlim_max: r.rlim_max,
            };
        } else {
            *l = Rlimit {
                rlim_cur: RLIM_INFINITY,
                rlim_max: RLIM_INFINITY,
            };
        }
    }
    out
}

impl Process {
    pub fn limit(&self, resource: u64) -> Rlimit {
        self.limits
            .lock()
            .get(resource as usize)
            .copied()
            .unwrap_or_default()
    }
}

/// How a process ended.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ExitStatus {
    Exited(i32),
    Signaled { signo: i32, core: bool },
}

impl ExitStatus {
    /// The status a shell reports: the exit code, or 128 + the signal.
    pub fn shell_code(self) -> i32 {
        match self {
            ExitStatus::Exited(c) => c & 0xff,
            ExitStatus::Signaled { signo, .. } => 128 + signo,
        }
    }
}

/// The `comm` a program starts with: its file name, cut to 15 bytes
/// (TASK_COMM_LEN - 1).
pub fn comm_of(exe: &std::path::Path) -> Vec<u8> {
    use std::os::unix::ffi::OsStrExt;
    let name = exe.file_name().map(|n| n.as_bytes()).unwrap_or(b"");
    name[..name.len().min(15)].to_vec()
}

/// Whether signal `sig`'s default action ends the process (signal(7):
/// "Term" and "Core"); the others are "Ign", "Stop" and "Cont". Until signal
/// delivery exists, stopping is treated like ignoring.
pub fn default_terminates(sig: i32) -> bool {
    !matches!(
        sig,
        libc::SIGCHLD
            | libc::SIGURG
            | libc::SIGWINCH
            | libc::SIGCONT
            | libc::SIGSTOP
            | libc::SIGTSTP
            | libc::SIGTTIN
            | libc::SIGTTOU
    )
}
