//! The stub pool: stubs set up ahead of time, so that fork and exec take
//! one instead of creating one.
//!
//! # Why
//!
//! A new stub costs 0.4–1 ms here: a host `clone` + `execve` of the stub
//! image, a seize, an injected `mmap` and `clone` for the control thread,
//! an injected `userfaultfd` fetched with `pidfd_getfd`, the `UFFDIO_API`
//! handshake. None of it depends on the guest, so it can happen before a
//! guest asks, on another CPU.
//!
//! # How
//!
//! The pool's **keeper** is the spawner thread of [`super::stub`] (the
//! parent whose death kills every stub). It spawns stubs, prepares them
//! ([`super::ptrace::PtraceThread::prepare`]) and leaves each one *parked*: its only host
//! thread besides the control thread waits in `stub_park`, untraced. A
//! kernel thread takes a stub ([`StubPool::take`]) and seizes the parked
//! thread (ptrace's tracer is a thread: see `ptrace.rs`, "Handing a stub
//! from one tracer to another").
//!
//! Stubs also come back: when an address space is dropped and its stub has
//! no guest thread left but a parked one (the last guest thread parks
//! instead of exiting), the stub goes to the keeper ([`StubPool::retire`]),
//! which unmaps everything in it and makes it ready again, userfaultfd
//! included. A process that exits thus hands its stub to the next fork, and
//! a steady fork loop spawns no stubs at all. The emptying (an `munmap` of
//! the whole guest range, 30–40 µs) is the keeper's so that it is off the
//! exiting thread's path, which is also its parent's way to `wait4`.
//!
//! # Bounds
//!
//! The keeper keeps [`TARGET`] stubs ready once guests have taken two (a
//! program that never forks or execs costs no extra stub),
//! and the pool holds at most [`CAPACITY`] (extra stubs given back are
//! killed). At the end of a run [`StubPool::shutdown`] kills the pooled
//! stubs; the reaper (`control.rs`) reaps them. If umk dies, the stubs'
//! parent-death signal kills them.

use std::collections::VecDeque;
use std::sync::Arc;

use parking_lot::{Condvar, Mutex};

use super::control::StubHandle;
use super::PlatformError;
use crate::mm::uffd::Uffd;

/// Stubs the keeper keeps ready.
pub const TARGET: usize = 2;
/// Most stubs the pool holds (fresh and given back).
pub const CAPACITY: usize = 4;

/// A stub ready for a new address space: its control thread runs, its
/// userfaultfd (handshake done) has nothing registered, nothing of the
/// guest range is mapped, and one thread is parked.
#[derive(Debug)]
pub struct ReadyStub {
    pub stub: Arc<StubHandle>,
    pub uffd: Uffd,
}

#[derive(Debug, Default)]
struct State {
    ready: VecDeque<ReadyStub>,
    /// Stubs given back, to be emptied (with the top of their guest range).
    retiring: VecDeque<(ReadyStub, u64)>,
    /// Stubs taken so far; the keeper refills after the first (init's).
    taken: u64,
    /// Kernel threads waiting in `take`.
    waiting: usize,
    /// The keeper's last failure, for a waiting taker.
    error: Option<String>,
    shutdown: bool,
}

/// See the module note.
#[derive(Debug, Default)]
pub struct StubPool {
    state: Mutex<State>,
    /// Takers wait here for a stub.
    takers: Condvar,
    /// The keeper waits here for work.
    keeper: Condvar,
}

impl StubPool {
    /// Takes a ready stub, waiting for the keeper if none is ready.
    pub fn take(&self) -> Result<ReadyStub, PlatformError> {
        let mut st = self.state.lock();
        loop {
            if st.shutdown {
                return Err(PlatformError::Pool("umk is shutting down".into()));
            }
            if let Some(r) = st.ready.pop_front() {
                st.taken += 1;
                self.keeper.notify_one();
                return Ok(r);
            }
            if let Some(e) = st.error.take() {
                return Err(PlatformError::Pool(e));
            }
            st.waiting += 1;
            self.keeper.notify_one();
            self.takers.wait(&mut st);
            st.waiting -= 1;
        }
    }

    /// Takes back a stub whose address space is gone (see the module
    /// note): the keeper empties it; killed instead when shutting down.
    pub fn retire(&self, r: ReadyStub, guest_end: u64) {
        let mut st = self.state.lock();
        if st.shutdown {
            drop(st);
            drop(r);
            return;
        }
        st.retiring.push_back((r, guest_end));
        self.keeper.notify_one();
    }

    /// Puts an emptied stub among the ready ones; killed instead when the
    /// pool is full or shutting down.
    fn give_back(&self, r: ReadyStub) {
        let mut st = self.state.lock();
        if st.shutdown || st.ready.len() >= CAPACITY {
            drop(st);
            drop(r);
            return;
        }
        st.ready.push_back(r);
        self.takers.notify_one();
    }

    /// Stops refilling and kills the pooled stubs (at the end of a run).
    pub fn shutdown(&self) {
        let drained: Vec<ReadyStub> = {
            let mut st = self.state.lock();
            st.shutdown = true;
            self.takers.notify_all();
            self.keeper.notify_all();
            let mut all: Vec<ReadyStub> = st.ready.drain(..).collect();
            all.extend(st.retiring.drain(..).map(|(r, _)| r));
            all
        };
        drop(drained);
    }

    /// The keeper's loop (on the spawner thread): empties stubs given back,
    /// and makes stubs with `make` while takers wait or fewer than
    /// [`TARGET`] are ready. Returns at shutdown.
    pub fn keep(&self, mut make: impl FnMut() -> Result<ReadyStub, PlatformError>) {
        loop {
            {
                let mut st = self.state.lock();
                loop {
                    if st.shutdown {
                        return;
                    }
                    if let Some((r, guest_end)) = st.retiring.pop_front() {
                        drop(st);
                        if r.stub.empty(&r.uffd, guest_end) {
                            self.give_back(r);
                        }
                        st = self.state.lock();
                        continue;
                    }
                    let want = if st.taken >= 2 { TARGET } else { 0 };
                    if st.ready.len() < want.max(st.waiting) {
                        break;
                    }
                    self.keeper.wait(&mut st);
                }
            }
            let made = make();
            let mut st = self.state.lock();
            match made {
                Ok(r) if !st.shutdown => {
                    st.ready.push_back(r);
                    st.error = None;
                    self.takers.notify_one();
                }
                Ok(r) => {
                    drop(st);
                    drop(r);
                }
                Err(e) => {
                    crate::log::warn(&format!("stub pool: {e}"));
                    // Report it to a waiting taker; stop refilling ahead
                    // until the next successful take.
                    st.error = Some(e.to_string());
                    st.taken = 0;
                    self.takers.notify_one();
                    if st.waiting == 0 {
                        self.keeper.wait(&mut st);
                    }
                }
            }
        }
    }
}
