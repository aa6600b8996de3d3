//! The fault thread: one per address space, it reads the stub's userfaultfd
//! and resolves demand-paging faults while the faulting guest thread waits
//! in the host kernel.
//!
//! A separate thread is needed because a guest thread blocked in a uffd
//! fault produces no ptrace stop: its tracer would never hear of it.
//!
//! Fault threads are reused: starting a thread and joining it again cost
//! ~30 µs and ~100 µs here, on every fork and exit. When an address space
//! lets its fault thread go ([`FaultThread`]'s drop), the thread finishes
//! with the space (dropping the last reference may happen there, which
//! hands the stub back to the pool) and waits, idle, for the next address
//! space; at most [`IDLE_MAX`] wait.

use std::os::fd::{AsFd, AsRawFd, OwnedFd};
use std::sync::Arc;

use crossbeam_channel::{unbounded, Receiver, Sender};
use parking_lot::Mutex;

use super::space::AddressSpace;

/// Most idle fault threads kept for reuse.
const IDLE_MAX: usize = 8;

/// A fault thread's mailbox: the next address space to serve, and the
/// eventfd that ends the current one.
#[derive(Debug)]
struct Worker {
    jobs: Sender<Arc<AddressSpace>>,
    stop: OwnedFd,
}

static IDLE: Mutex<Vec<Arc<Worker>>> = Mutex::new(Vec::new());

/// Handle to the fault thread serving one address space; dropping it lets
/// the thread go (it stops serving the space soon after).
#[derive(Debug)]
pub struct FaultThread {
    worker: Arc<Worker>,
}

impl FaultThread {
    pub fn spawn(space: Arc<AddressSpace>) -> std::io::Result<FaultThread> {
        let idle = IDLE.lock().pop();
        let worker = match idle {
            Some(w) => w,
            None => start_worker()?,
        };
        worker
            .jobs
            .send(space)
            .map_err(|_| std::io::Error::other("fault thread gone"))?;
        Ok(FaultThread { worker })
    }
}

fn start_worker() -> std::io::Result<Arc<Worker>> {
    let stop = nix::sys::eventfd::EventFd::from_flags(
        nix::sys::eventfd::EfdFlags::EFD_CLOEXEC | nix::sys::eventfd::EfdFlags::EFD_NONBLOCK,
    )
    .map_err(std::io::Error::from)?;
    let (tx, rx) = unbounded();
    let worker = Arc::new(Worker {
        jobs: tx,
        stop: stop.into(),
    });
    let w2 = worker.clone();
    std::thread::Builder::new()
        .name("umk-faults".into())
        .spawn(move || serve(w2, rx))?;
    Ok(worker)
}

/// A fault thread's life: serve one address space after another.
fn serve(worker: Arc<Worker>, jobs: Receiver<Arc<AddressSpace>>) {
    crate::hostsched::set_batch();
    let stop_fd = worker.stop.as_raw_fd();
    while let Ok(space) = jobs.recv() {
        run(&space, stop_fd);
        // Wait for the stop (`run` may have ended early on an error), and
        // consume it, so that it cannot end the next job.
        wait_readable(stop_fd);
        let mut buf = [0u8; 8];
        let _ = nix::unistd::read(worker.stop.as_fd(), &mut buf);
        drop(space);
        let mut idle = IDLE.lock();
        if idle.len() >= IDLE_MAX {
            return;
        }
        idle.push(worker.clone());
    }
}

fn wait_readable(fd: i32) {
    loop {
        let mut p = libc::pollfd {
            fd,
            events: libc::POLLIN,
            revents: 0,
        };
        // SAFETY: one valid pollfd.
        let r = unsafe { libc::poll(&mut p, 1, -1) };
        if r > 0 {
            return;
        }
        if r < 0 && std::io::Error::last_os_error().raw_os_error() != Some(libc::EINTR) {
            return;
        }
    }
}

fn run(space: &AddressSpace, stop_fd: i32) {
    let Some(uffd) = space.uffd() else { return };
    let mut faults = Vec::new();
    loop {
        let mut fds = [
            libc::pollfd {
                fd: uffd.raw_fd(),
                events: libc::POLLIN,
                revents: 0,
            },
            libc::pollfd {
                fd: stop_fd,
                events: libc::POLLIN,
                revents: 0,
            },
        ];
        // SAFETY: `fds` is a valid array of two pollfd structs.
        let r = unsafe { libc::poll(fds.as_mut_ptr(), 2, -1) };
        if r < 0 {
            if std::io::Error::last_os_error().raw_os_error() == Some(libc::EINTR) {
                continue;
            }
            return;
        }
        if fds[1].revents != 0 {
            return;
        }
        loop {
            faults.clear();
            match uffd.read_faults(&mut faults) {
                Ok(0) => break,
                Ok(_) => faults.iter().for_each(|f| space.fault(*f)),
                Err(_) => return,
            }
        }
    }
}

impl Drop for FaultThread {
    fn drop(&mut self) {
        let one = 1u64.to_ne_bytes();
        let _ = nix::unistd::write(self.worker.stop.as_fd(), &one);
    }
}
