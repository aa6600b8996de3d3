//! Pipes: a 64 KiB ring buffer in umk with blocking and non-blocking ends
//! (pipe(7)).
//!
//! - A read blocks while the pipe is empty and a writer exists; with no
//!   writer left it returns 0 (end of file).
//! - A write blocks while there is no room; writes of at most `PIPE_BUF`
//!   bytes are atomic (all or nothing), longer ones may be split.
//! - A write with no reader left fails with `EPIPE` (and the caller raises
//!   `SIGPIPE`).
//! - `O_NONBLOCK` turns every wait into `EAGAIN`.
//!
//! A blocked call blocks its kernel thread on a condition variable, never a
//! host syscall in the stub.

use std::collections::VecDeque;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;

use guest_abi::fcntl::{O_NONBLOCK, O_RDONLY, O_WRONLY};
use guest_abi::structs::Stat;
use parking_lot::{Condvar, Mutex};

use super::file::File;
use crate::error::SysResult;
use crate::sys_err;

/// Default capacity (pipe(7): 16 pages).
pub const PIPE_CAPACITY: usize = 65536;
/// Writes up to this size are atomic (limits.h).
pub const PIPE_BUF: usize = 4096;

#[derive(Debug, Default)]
struct State {
    buf: VecDeque<u8>,
    readers: usize,
    writers: usize,
}

#[derive(Debug)]
struct Pipe {
    state: Mutex<State>,
    changed: Condvar,
    ino: u64,
}

/// One end of a pipe.
#[derive(Debug)]
pub struct PipeEnd {
    pipe: Arc<Pipe>,
    write: bool,
    nonblock: AtomicBool,
}

/// Creates a pipe; returns (read end, write end).
pub fn pipe(nonblock: bool) -> (PipeEnd, PipeEnd) {
    static NEXT_INO: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(1);
    let p = Arc::new(Pipe {
        state: Mutex::new(State {
            buf: VecDeque::new(),
            readers: 1,
            writers: 1,
        }),
        changed: Condvar::new(),
        ino: NEXT_INO.fetch_add(1, Ordering::Relaxed),
    });
    let r = PipeEnd {
        pipe: p.clone(),
        write: false,
        nonblock: AtomicBool::new(nonblock),
    };
    let w = PipeEnd {
        pipe: p,
        write: true,
        nonblock: AtomicBool::new(nonblock),
    };
    (r, w)
}

impl Drop for PipeEnd {
    fn drop(&mut self) {
        let mut st = self.pipe.state.lock();
        if self.write {
            st.writers -= 1;
        } else {
            st.readers -= 1;
        }
        self.pipe.changed.notify_all();
    }
}

/// Waits for the pipe to change; ERESTARTSYS when the calling guest thread
/// is kicked (a signal, a stop, its process ending): EINTR if a handler
/// without SA_RESTART runs, else the read or write starts again (pipe(7)).
fn wait<T>(cv: &Condvar, st: &mut parking_lot::MutexGuard<'_, T>) -> SysResult<()> {
    match crate::task::current() {
        Some(t) => match t.wait_on(cv, st, None) {
            crate::task::Wake::Interrupted => {
                crate::signal::interrupted(crate::signal::ERESTARTSYS)
            }
            _ => Ok(()),
        },
        None => {
            cv.wait(st);
            Ok(())
        }
    }
}

impl File for PipeEnd {
    fn read(&self, out: &mut [u8]) -> SysResult<usize> {
        if self.write {
            return sys_err!(EBADF, "write end of a pipe");
        }
        if out.is_empty() {
            return Ok(0);
        }
        let mut st = self.pipe.state.lock();
        loop {
            if !st.buf.is_empty() {
                let n = out.len().min(st.buf.len());
                for (o, b) in out.iter_mut().zip(st.buf.drain(..n)) {
                    *o = b;
                }
                self.pipe.changed.notify_all();
                return Ok(n);
            }
            if st.writers == 0 {
                return Ok(0);
            }
            if self.nonblock.load(Ordering::Relaxed) {
                return sys_err!(EAGAIN, "pipe empty");
            }
            wait(&self.pipe.changed, &mut st)?;
        }
    }

    fn write(&self, data: &[u8]) -> SysResult<usize> {
        if !self.write {
            return sys_err!(EBADF, "read end of a pipe");
        }
        let mut st = self.pipe.state.lock();
        let mut done = 0;
        loop {
            if st.readers == 0 {
                if done > 0 {
                    return Ok(done);
                }
                return sys_err!(EPIPE, "no reader");
            }
            let room = PIPE_CAPACITY - st.buf.len();
            let left = data.len() - done;
            // Atomic writes wait for room for all of it.
            let fits = if data.len() <= PIPE_BUF {
                room >= left
            } else {
                room > 0
            };
            if fits {
                let n = room.min(left);
                st.buf.extend(&data[done..done + n]);
                done += n;
                self.pipe.changed.notify_all();
                if done == data.len() {
                    return Ok(done);
                }
            } else if self.nonblock.load(Ordering::Relaxed) {
                if done > 0 {
                    return Ok(done);
                }
                return sys_err!(EAGAIN, "pipe full");
            } else if let Err(e) = wait(&self.pipe.changed, &mut st) {
                // Interrupted: what was written so far counts (pipe(7)).
                return if done > 0 { Ok(done) } else { Err(e) };
            }
        }
    }

    fn stat(&self) -> SysResult<Stat> {
        Ok(Stat {
            st_mode: libc::S_IFIFO | 0o600,
            st_nlink: 1,
            st_ino: self.pipe.ino,
            st_blksize: PIPE_BUF as i64,
            st_uid: owner_uid(),
            st_gid: owner_gid(),
            ..Default::default()
        })
    }

    fn poll_ready(&self, events: i16) -> i16 {
        let st = self.pipe.state.lock();
        let mut r = 0;
        if self.write {
            if st.readers == 0 {
                r |= libc::POLLERR;
            } else if PIPE_CAPACITY - st.buf.len() >= PIPE_BUF {
                r |= libc::POLLOUT | libc::POLLWRNORM;
            }
        } else {
            if !st.buf.is_empty() {
                r |= libc::POLLIN | libc::POLLRDNORM;
            }
            if st.writers == 0 {
                r |= libc::POLLHUP;
            }
        }
        r & (events | libc::POLLERR | libc::POLLHUP)
    }

    fn status_flags(&self) -> u64 {
        let acc = if self.write { O_WRONLY } else { O_RDONLY };
        acc | if self.nonblock.load(Ordering::Relaxed) {
            O_NONBLOCK
        } else {
            0
        }
    }

    fn set_status_flags(&self, flags: u64) -> SysResult<()> {
        self.nonblock
            .store(flags & O_NONBLOCK != 0, Ordering::Relaxed);
        Ok(())
    }
}

/// Pipes belong to the user umk runs as.
fn owner_uid() -> u32 {
    crate::loader::stack::HostAux::get().euid as u32
}

fn owner_gid() -> u32 {
    crate::loader::stack::HostAux::get().egid as u32
}
