//! A stub process as a whole: its lifetime (a pidfd) and its control thread.
//!
//! # The control thread
//!
//! Most changes to a stub's host mappings are made for the guest thread that
//! is stopped in a syscall, and could be injected into that thread. Two kinds
//! cannot: a copy-on-write break found by the fault thread (the faulting
//! guest thread is blocked inside the host kernel, not in a ptrace stop) and
//! anything done while other guest threads of the address space run. So every
//! stub has one more host thread, the *control thread* (`stub_spawn_control`
//! in `stub/stub.S`), started untraced at creation. umk writes a batch of
//! host syscalls into the stub's mailbox page (a frame of the shared memfd,
//! mapped in umk and in the stub), bumps the `req` futex and waits on `done`.
//! The futexes are shared ones: both sides map the same memfd page, so the
//! host kernel keys them by file page. One round trip costs one futex
//! hand-off (2.6–11 µs here, `../shared/prototypes/trap/FINDINGS.md`) instead
//! of a ptrace stop, and any umk thread may use it, serialised by a lock.
//!
//! # Lifetime
//!
//! [`StubHandle`] owns the stub's pidfd. Dropping it kills whatever is left
//! of the stub (`pidfd_send_signal`, immune to pid reuse) and reaps it.

use std::os::fd::{AsRawFd, FromRawFd, OwnedFd};
use std::sync::atomic::{AtomicU32, Ordering};
use std::sync::Arc;
use std::time::Duration;

use parking_lot::Mutex;

use crate::mm::frames::Frame;
use crate::mm::hostop::{HostMmu, HostOp, HostOpError};
use crate::mm::{Memory, PAGE_SIZE};

/// Ops per request: the mailbox page minus its 64-byte header, minus the
/// end marker's slot.
const OPS_PER_REQUEST: usize = (PAGE_SIZE / 64) as usize - 2;
/// How long one wait for the control thread lasts before umk checks that
/// the stub is still alive.
const LIVENESS_CHECK: Duration = Duration::from_millis(100);

const FUTEX_WAIT: i32 = 0;
const FUTEX_WAKE: i32 = 1;

/// A live stub process: its pid, its pidfd and its control thread.
#[derive(Debug)]
pub struct StubHandle {
    pid: i32,
    pidfd: OwnedFd,
    mailbox: *mut u8,
    frame: Frame,
    memory: Arc<Memory>,
    lock: Mutex<()>,
}

// SAFETY: `mailbox` points into the frames mapping kept alive by `memory`;
// every access to the mailbox happens under `lock` (or is an atomic).
unsafe impl Send for StubHandle {}
// SAFETY: as above.
unsafe impl Sync for StubHandle {}

impl StubHandle {
    /// Takes over stub `pid` whose control thread serves the mailbox in
    /// `frame` (already mapped in the stub and zeroed).
    pub fn new(pid: i32, frame: Frame, memory: Arc<Memory>) -> std::io::Result<StubHandle> {
        // SAFETY: plain integer syscall; the result is checked.
        let fd = unsafe { libc::syscall(libc::SYS_pidfd_open, pid, 0) } as i32;
        if fd < 0 {
            return Err(std::io::Error::last_os_error());
        }
        // SAFETY: `fd` is a fresh descriptor we own.
        let pidfd = unsafe { OwnedFd::from_raw_fd(fd) };
        let mailbox = memory.frame_ptr(frame, 0);
        Ok(StubHandle {
            pid,
            pidfd,
            mailbox,
            frame,
            memory,
            lock: Mutex::new(()),
        })
    }

    pub fn pid(&self) -> i32 {
        self.pid
    }

    fn word(&self, off: usize) -> &AtomicU32 {
        // SAFETY: offsets 0 and 4 lie in the mailbox page, 4-byte aligned;
        // an AtomicU32 has the layout of a u32, and the page lives as long
        // as `memory`.
        unsafe { &*(self.mailbox.add(off).cast::<AtomicU32>()) }
    }

    fn op_word(&self, i: usize) -> *mut u64 {
        debug_assert!(i < (PAGE_SIZE / 8) as usize);
        // SAFETY: `i` indexes a u64 within the mailbox page.
        unsafe { self.mailbox.cast::<u64>().add(i) }
    }

    /// Whether the stub has exited (its pidfd polls readable).
    pub fn exited(&self) -> bool {
        let mut p = libc::pollfd {
            fd: self.pidfd.as_raw_fd(),
            events: libc::POLLIN,
            revents: 0,
        };
        // SAFETY: one valid pollfd, no timeout.
        let r = unsafe { libc::poll(&mut p, 1, 0) };
        r > 0 && p.revents != 0
    }

    /// Sends a host signal to the whole stub.
    pub fn signal(&self, sig: i32) {
        // SAFETY: pidfd_send_signal on our own pidfd; no memory involved.
        unsafe {
            libc::syscall(
                libc::SYS_pidfd_send_signal,
                self.pidfd.as_raw_fd(),
                sig,
                std::ptr::null::<libc::siginfo_t>(),
                0,
            )
        };
    }

    fn request(&self, ops: &[HostOp]) -> Result<(), HostOpError> {
        const UNSET: u64 = 0xdead_0000_0000_0000;
        for (i, op) in ops.iter().enumerate() {
            let words = [
                op.nr, op.args[0], op.args[1], op.args[2], op.args[3], op.args[4], op.args[5],
                UNSET,
            ];
            for (j, w) in words.iter().enumerate() {
                // SAFETY: within the mailbox (i < OPS_PER_REQUEST); the
                // control thread reads ops only after `req` changes.
                unsafe { self.op_word(8 + i * 8 + j).write_volatile(*w) };
            }
        }
        // SAFETY: the end marker, in the slot after the last op.
        unsafe { self.op_word(8 + ops.len() * 8).write_volatile(u64::MAX) };
        let req = self.word(0).load(Ordering::Relaxed).wrapping_add(1);
        self.word(0).store(req, Ordering::Release);
        futex(self.word(0), FUTEX_WAKE, 1, None);
        loop {
            let done = self.word(4).load(Ordering::Acquire);
            if done == req {
                break;
            }
            futex(self.word(4), FUTEX_WAIT, done, Some(LIVENESS_CHECK));
            if self.word(4).load(Ordering::Acquire) != req && self.exited() {
                return Err(HostOpError::Stub("the stub is gone".into()));
            }
        }
        for (i, op) in ops.iter().enumerate() {
            // SAFETY: reading back the result word the control thread wrote.
            let res = unsafe { self.op_word(8 + i * 8 + 7).read_volatile() };
            if res == UNSET {
                return Err(HostOpError::Stub(format!("request stopped before op {i}")));
            }
            if res > (-4096i64) as u64 {
                return Err(HostOpError::Failed {
                    op: *op,
                    errno: -(res as i64) as i32,
                });
            }
        }
        Ok(())
    }

    /// Runs `ops` in the stub through its control thread.
    pub fn run_ops(&self, ops: &[HostOp]) -> Result<(), HostOpError> {
        let _g = self.lock.lock();
        for chunk in ops.chunks(OPS_PER_REQUEST) {
            self.request(chunk)?;
        }
        Ok(())
    }
}

/// A [`HostMmu`] that goes through the control thread.
#[derive(Clone, Debug)]
pub struct Remote(pub Arc<StubHandle>);

impl HostMmu for Remote {
    fn apply(&mut self, ops: &[HostOp]) -> Result<(), HostOpError> {
        self.0.run_ops(ops)
    }
}

fn futex(word: &AtomicU32, op: i32, val: u32, timeout: Option<Duration>) {
    let ts = timeout.map(|t| libc::timespec {
        tv_sec: t.as_secs() as libc::time_t,
        tv_nsec: t.subsec_nanos() as libc::c_long,
    });
    let tsp = ts
        .as_ref()
        .map_or(std::ptr::null(), |t| t as *const libc::timespec);
    // SAFETY: `word` is a live, aligned u32 in shared memory; `tsp` is null
    // or points at a timespec on our stack.
    unsafe {
        libc::syscall(
            libc::SYS_futex,
            word.as_ptr(),
            op,
            val,
            tsp,
            std::ptr::null::<u32>(),
            0u32,
        )
    };
}

impl Drop for StubHandle {
    fn drop(&mut self) {
        self.signal(libc::SIGKILL);
        // Reap it. Its threads are no longer traced by anyone (their kernel
        // threads are gone), so the exit reaches us, the parent, promptly.
        for _ in 0..400 {
            let mut info: libc::siginfo_t =
                // SAFETY: siginfo_t is plain data; zero is a valid value.
                unsafe { std::mem::zeroed() };
            // SAFETY: waitid on our own pidfd with a valid out pointer.
            let r = unsafe {
                libc::waitid(
                    libc::P_PIDFD,
                    self.pidfd.as_raw_fd() as libc::id_t,
                    &mut info,
                    libc::WEXITED | libc::WNOHANG | libc::__WALL,
                )
            };
            // SAFETY: si_pid is valid after a successful waitid.
            if r < 0 || unsafe { info.si_pid() } != 0 {
                break;
            }
            std::thread::sleep(Duration::from_millis(5));
        }
        self.memory.release(self.frame, 1);
    }
}
