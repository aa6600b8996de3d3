//! The fault thread: one per address space, it reads the stub's userfaultfd
//! and resolves demand-paging faults while the faulting guest thread waits
//! in the host kernel.
//!
//! A separate thread is needed because a guest thread blocked in a uffd
//! fault produces no ptrace stop: its tracer would never hear of it.

use std::os::fd::{AsFd, AsRawFd, OwnedFd};
use std::sync::Arc;
use std::thread::JoinHandle;

use super::space::AddressSpace;

/// Handle to a running fault thread; dropping it stops and joins the thread.
#[derive(Debug)]
pub struct FaultThread {
    stop: OwnedFd,
    handle: Option<JoinHandle<()>>,
}

impl FaultThread {
    pub fn spawn(space: Arc<AddressSpace>) -> std::io::Result<FaultThread> {
        let stop = nix::sys::eventfd::EventFd::from_flags(
            nix::sys::eventfd::EfdFlags::EFD_CLOEXEC | nix::sys::eventfd::EfdFlags::EFD_NONBLOCK,
        )
        .map_err(std::io::Error::from)?;
        let stop: OwnedFd = stop.into();
        let stop_fd = stop.as_raw_fd();
        let handle = std::thread::Builder::new()
            .name("umk-faults".into())
            .spawn(move || run(&space, stop_fd))?;
        Ok(FaultThread {
            stop,
            handle: Some(handle),
        })
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
        let _ = nix::unistd::write(self.stop.as_fd(), &one);
        if let Some(h) = self.handle.take() {
            let _ = h.join();
        }
    }
}
