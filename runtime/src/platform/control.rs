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
//! of the stub (`pidfd_send_signal`, immune to pid reuse) and hands the
//! pidfd to the **reaper** thread, which waits for the exit and reaps it, so
//! whoever drops a stub (an exiting process, an exec) never waits for the
//! host to tear a process down. The mailbox frame is released by the reaper
//! too, once nothing can write it any more.
//!
//! # Users and the parked thread
//!
//! A stub also counts its *users*: host threads that are guest threads (or
//! are about to become one). When the last one leaves ([`StubHandle::leave`])
//! it does not exit but *parks*: it is detached at `stub_park`, a `pause`
//! loop, and its tid is kept here. A stub whose guests are all gone and that
//! has a parked thread can be emptied and used again for another address
//! space (`platform::pool`): the next kernel thread seizes the parked thread.

use std::os::fd::{AsRawFd, FromRawFd, OwnedFd};
use std::sync::atomic::{AtomicU32, AtomicUsize, Ordering};
use std::sync::{Arc, OnceLock, Weak};
use std::time::{Duration, Instant};

use crossbeam_channel::{unbounded, Receiver, Sender};
use parking_lot::{Condvar, Mutex};

use super::pool::{ReadyStub, StubPool};
use super::stubfiles::{self, FileKey, Rewritten, StubFiles};
use crate::mm::frames::Frame;
use crate::mm::hostop::{HostMmu, HostOp, HostOpError, OP_FD_RDI, OP_SAVE, OP_UMK_FD};
use crate::mm::uffd::Uffd;
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
    /// The host tid of the control thread.
    control_tid: i32,
    /// `None` only while being dropped (the reaper takes it).
    pidfd: Option<OwnedFd>,
    mailbox: *mut u8,
    frame: Frame,
    memory: Arc<Memory>,
    /// Held for a whole request sequence (there is one mailbox); it also
    /// guards the program files the stub keeps open.
    lock: Mutex<StubFiles>,
    /// Host threads that are (or are becoming) guest threads.
    users: AtomicUsize,
    /// The thread that stayed when the last user left, waiting in
    /// `stub_park` untraced.
    parked: Mutex<Option<i32>>,
    /// The pool it goes back to when its address space is gone.
    home: OnceLock<Weak<StubPool>>,
    /// The stub's address of the mailbox page.
    mailbox_addr: u64,
    /// The stub's descriptor of umk's `/proc/PID/fd` directory.
    procfd: OnceLock<i32>,
}

// SAFETY: `mailbox` points into the frames mapping kept alive by `memory`;
// every access to the mailbox happens under `lock` (or is an atomic).
unsafe impl Send for StubHandle {}
// SAFETY: as above.
unsafe impl Sync for StubHandle {}

impl StubHandle {
    /// Takes over stub `pid` whose control thread `control_tid` serves the
    /// mailbox in `frame` (already mapped in the stub at `mailbox_addr`,
    /// and zeroed).
    pub fn new(
        pid: i32,
        control_tid: i32,
        frame: Frame,
        mailbox_addr: u64,
        memory: Arc<Memory>,
    ) -> std::io::Result<StubHandle> {
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
            control_tid,
            pidfd: Some(pidfd),
            mailbox,
            frame,
            memory,
            lock: Mutex::new(StubFiles::default()),
            users: AtomicUsize::new(0),
            parked: Mutex::new(None),
            home: OnceLock::new(),
            mailbox_addr,
            procfd: OnceLock::new(),
        })
    }

    pub fn pid(&self) -> i32 {
        self.pid
    }

    /// The host tid of the control thread (placed with the guest thread
    /// that uses it most: `kernel/placement.rs`).
    pub fn control_tid(&self) -> i32 {
        self.control_tid
    }

    /// The frame of the mailbox page.
    pub fn frame(&self) -> Frame {
        self.frame
    }

    fn pidfd(&self) -> i32 {
        self.pidfd.as_ref().map_or(-1, AsRawFd::as_raw_fd)
    }

    /// One more host thread is a guest thread (or about to become one).
    pub fn enter(&self) {
        self.users.fetch_add(1, Ordering::AcqRel);
    }

    /// A guest thread's host thread is leaving. Returns true when it was
    /// the last one: it should park (and then call [`Self::set_parked`]).
    pub fn leave(&self) -> bool {
        self.users.fetch_sub(1, Ordering::AcqRel) == 1
    }

    /// Records the parked thread (see the module note).
    pub fn set_parked(&self, tid: i32) {
        *self.parked.lock() = Some(tid);
    }

    /// Takes the parked thread for a new user (counted as one).
    pub fn take_parked(&self) -> Option<i32> {
        let t = self.parked.lock().take();
        if t.is_some() {
            self.enter();
        }
        t
    }

    /// Whether the stub can hold another address space: alive, no guest
    /// thread left, one thread parked.
    fn reusable(&self) -> bool {
        self.users.load(Ordering::Acquire) == 0 && self.parked.lock().is_some() && !self.exited()
    }

    /// Sets the pool the stub returns to.
    pub fn set_home(&self, pool: Weak<StubPool>) {
        let _ = self.home.set(pool);
    }

    /// The end of the address space this stub held (`uffd` is its
    /// userfaultfd, `guest_end` the top of the guest range). If nobody else
    /// holds the stub and it can be reused, it goes to its pool's keeper,
    /// which unmaps everything below `guest_end` and makes it ready again
    /// ([`StubPool::retire`]); otherwise it is killed (when the last holder
    /// lets go). Either way no guest code runs in it any more, so its
    /// frames may be freed at once: a stale mapping of a freed frame is
    /// never used before the keeper has emptied the stub.
    pub fn retire(self: Arc<Self>, uffd: Option<Uffd>, guest_end: u64) {
        let Some(pool) = self.home.get().and_then(Weak::upgrade) else {
            return;
        };
        let Some(uffd) = uffd else { return };
        if Arc::strong_count(&self) != 1 || !self.reusable() {
            return;
        }
        pool.retire(ReadyStub { stub: self, uffd }, guest_end);
    }

    /// Unmaps everything below `guest_end` and drops the faults left
    /// unread on `uffd`; false if the stub could not do it.
    pub fn empty(&self, uffd: &Uffd, guest_end: u64) -> bool {
        // The control thread may still be pinned to the CPU of the vCPU it
        // last served, whose next guest would then wait for this munmap:
        // background work (`hostsched`).
        crate::hostsched::unpin(self.control_tid);
        let idle = crate::hostsched::can_leave_idle()
            && crate::hostsched::set_idle(self.control_tid, true);
        let emptied = self.run_ops(&[HostOp::unmap(0, guest_end)]).is_ok();
        if idle && !crate::hostsched::set_idle(self.control_tid, false) {
            return false;
        }
        if !emptied {
            return false;
        }
        // Nothing can fault any more; drop what was left unread.
        let mut stale = Vec::new();
        while matches!(uffd.read_faults(&mut stale), Ok(n) if n > 0) {
            stale.clear();
        }
        true
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
            fd: self.pidfd(),
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
                self.pidfd(),
                sig,
                std::ptr::null::<libc::siginfo_t>(),
                0,
            )
        };
    }

    /// Runs one request (at most [`OPS_PER_REQUEST`] ops); `results` gets
    /// the result of every op that ran.
    fn request(&self, ops: &[HostOp], results: &mut Vec<u64>) -> Result<(), HostOpError> {
        const UNSET: u64 = 0xdead_0000_0000_0000;
        for (i, op) in ops.iter().enumerate() {
            let mut words = [
                op.nr, op.args[0], op.args[1], op.args[2], op.args[3], op.args[4], op.args[5],
                UNSET,
            ];
            if op.nr & OP_UMK_FD != 0 {
                let Some(&dir) = self.procfd.get() else {
                    return Err(HostOpError::Stub(
                        "no /proc/PID/fd of umk in the stub".into(),
                    ));
                };
                words[0] &= !OP_UMK_FD;
                words[1] = dir as u64;
                // The stub's address of this op's fifth argument word.
                words[2] = self.mailbox_addr + 64 + i as u64 * 64 + 5 * 8;
            }
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
            results.push(res);
            if res > (-4096i64) as u64 {
                return Err(HostOpError::Failed {
                    op: *op,
                    errno: -(res as i64) as i32,
                });
            }
        }
        Ok(())
    }

    /// Runs `ops` in the stub through its control thread, mapping files
    /// the stub already holds open from those descriptors
    /// ([`super::stubfiles`]). Files opened now are kept if every op
    /// succeeds; if one fails, the descriptors opened here are closed.
    pub fn run_ops(&self, ops: &[HostOp]) -> Result<(), HostOpError> {
        let mut files = self.lock.lock();
        let Rewritten { ops, opens } = files.rewrite(ops, stubfiles::key_of);
        // Descriptors opened so far: kept ones (their close was dropped)
        // and the last one whose own close has not run yet.
        let mut kept: Vec<(FileKey, u64)> = Vec::new();
        let mut open: Option<u64> = None;
        let mut results = Vec::with_capacity(OPS_PER_REQUEST);
        for (n, chunk) in ops.chunks(OPS_PER_REQUEST).enumerate() {
            results.clear();
            let r = self.request(chunk, &mut results);
            for (i, (op, &res)) in chunk.iter().zip(&results).enumerate() {
                if res > (-4096i64) as u64 {
                    break;
                }
                let at = n * OPS_PER_REQUEST + i;
                if let Some(&(key, _)) = opens.iter().find(|&&(_, j)| j == at) {
                    kept.push((key, res));
                } else if op.nr & OP_SAVE != 0 {
                    open = Some(res);
                }
                if op.nr & OP_FD_RDI != 0 {
                    open = None;
                }
            }
            if let Err(e) = r {
                let close: Vec<HostOp> = kept
                    .iter()
                    .map(|&(_, fd)| fd)
                    .chain(open)
                    .map(HostOp::close)
                    .collect();
                if !close.is_empty() {
                    let _ = self.request(&close, &mut Vec::new());
                }
                return Err(e);
            }
        }
        for (key, fd) in kept {
            files.keep(key, fd);
        }
        Ok(())
    }

    /// Records the stub's descriptor of umk's `/proc/PID/fd` (opened when
    /// the stub was prepared), which lets it map guest files directly.
    pub fn set_procfd(&self, fd: i32) {
        let _ = self.procfd.set(fd);
    }

    /// Whether the stub can map host files itself ([`HostOp::map_file`]).
    pub fn maps_files(&self) -> bool {
        self.procfd.get().is_some()
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
        // Reaped off this thread. Its threads are no longer traced by anyone
        // (their kernel threads let them go), so the exit comes promptly.
        if let Some(pidfd) = self.pidfd.take() {
            reaper().bury(Corpse {
                pidfd,
                frame: Some((self.memory.clone(), self.frame)),
            });
        }
    }
}

/// A killed stub waiting to be reaped, and the frame to release after.
struct Corpse {
    pidfd: OwnedFd,
    frame: Option<(Arc<Memory>, Frame)>,
}

/// The reaper thread: waits for killed stubs to exit and reaps them.
struct Reaper {
    tx: Sender<Corpse>,
    /// Stubs buried but not reaped yet.
    pending: Mutex<usize>,
    idle: Condvar,
}

fn reaper() -> &'static Reaper {
    static R: OnceLock<&'static Reaper> = OnceLock::new();
    R.get_or_init(|| {
        let (tx, rx) = unbounded();
        let r: &'static Reaper = Box::leak(Box::new(Reaper {
            tx,
            pending: Mutex::new(0),
            idle: Condvar::new(),
        }));
        // If the thread cannot start, `bury` reaps inline.
        let _ = std::thread::Builder::new()
            .name("umk-reaper".into())
            .spawn(move || r.run(rx));
        r
    })
}

impl Reaper {
    fn bury(&self, c: Corpse) {
        *self.pending.lock() += 1;
        if let Err(e) = self.tx.send(c) {
            let c = e.into_inner();
            poll_exit(&c.pidfd, 2000);
            self.reaped(c);
        }
    }

    fn run(&self, rx: Receiver<Corpse>) {
        let mut list: Vec<Corpse> = Vec::new();
        loop {
            if list.is_empty() {
                match rx.recv() {
                    Ok(c) => list.push(c),
                    Err(_) => return,
                }
            }
            list.extend(rx.try_iter());
            let mut fds: Vec<libc::pollfd> = list
                .iter()
                .map(|c| libc::pollfd {
                    fd: c.pidfd.as_raw_fd(),
                    events: libc::POLLIN,
                    revents: 0,
                })
                .collect();
            // SAFETY: `fds` is a valid array of pollfd of the given length.
            unsafe { libc::poll(fds.as_mut_ptr(), fds.len() as libc::nfds_t, 20) };
            let mut keep = Vec::with_capacity(list.len());
            for (c, p) in list.drain(..).zip(&fds) {
                if p.revents != 0 && reap(&c.pidfd) {
                    self.reaped(c);
                } else {
                    keep.push(c);
                }
            }
            list = keep;
        }
    }

    fn reaped(&self, c: Corpse) {
        if let Some((memory, frame)) = c.frame {
            memory.release(frame, 1);
        }
        let mut n = self.pending.lock();
        *n -= 1;
        if *n == 0 {
            self.idle.notify_all();
        }
    }
}

/// Waits up to `ms` for the process behind `pidfd` to exit.
fn poll_exit(pidfd: &OwnedFd, ms: i32) -> bool {
    let mut p = libc::pollfd {
        fd: pidfd.as_raw_fd(),
        events: libc::POLLIN,
        revents: 0,
    };
    // SAFETY: one valid pollfd.
    let r = unsafe { libc::poll(&mut p, 1, ms) };
    r > 0 && reap(pidfd)
}

/// Reaps the exited process behind `pidfd`. True when it is gone (reaped
/// now, or by someone else before).
fn reap(pidfd: &OwnedFd) -> bool {
    // SAFETY: siginfo_t is plain data; zero is a valid value.
    let mut info: libc::siginfo_t = unsafe { std::mem::zeroed() };
    // SAFETY: waitid on our own pidfd with a valid out pointer.
    let r = unsafe {
        libc::waitid(
            libc::P_PIDFD,
            pidfd.as_raw_fd() as libc::id_t,
            &mut info,
            libc::WEXITED | libc::WNOHANG | libc::__WALL,
        )
    };
    // SAFETY: si_pid is valid after a successful waitid.
    r < 0 || unsafe { info.si_pid() } != 0
}

/// Waits (until `deadline`) for every stub killed so far to be reaped.
pub fn wait_reaped(deadline: Instant) -> bool {
    let r = reaper();
    let mut n = r.pending.lock();
    while *n > 0 {
        if r.idle.wait_until(&mut n, deadline).timed_out() {
            return *n == 0;
        }
    }
    true
}
