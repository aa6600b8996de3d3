//! Guest memory read before a call and shown after it.
//!
//! A trace line is formatted when its call completes, from the memory as the
//! call left it. A successful `execve` leaves nothing of the memory its
//! arguments were in, so its arguments are decoded once at entry through a
//! [`Recorder`] (every read kept), and the line is formatted from the
//! [`Recorded`] reads when the call completes, as strace shows them.

use std::cell::RefCell;

use super::GuestMemRead;

/// Reads guest memory through `mem` and keeps what it read.
pub struct Recorder<'a> {
    mem: &'a dyn GuestMemRead,
    reads: RefCell<Vec<(u64, Vec<u8>)>>,
}

impl<'a> Recorder<'a> {
    pub fn new(mem: &'a dyn GuestMemRead) -> Recorder<'a> {
        Recorder {
            mem,
            reads: RefCell::new(Vec::new()),
        }
    }

    /// What was read, to be read again.
    pub fn finish(self) -> Recorded {
        Recorded(self.reads.into_inner())
    }
}

impl GuestMemRead for Recorder<'_> {
    fn read(&self, addr: u64, buf: &mut [u8]) -> bool {
        let ok = self.mem.read(addr, buf);
        if ok {
            self.reads.borrow_mut().push((addr, buf.to_vec()));
        }
        ok
    }
}

/// Guest memory known as ranges of bytes: the reads a [`Recorder`] kept (or
/// any ranges, [`Recorded::from_ranges`]). A read inside one range is
/// answered from it, anything else is unreadable.
#[derive(Debug, Default)]
pub struct Recorded(Vec<(u64, Vec<u8>)>);

impl Recorded {
    /// Memory holding `bytes` at each `(address, bytes)`.
    pub fn from_ranges(ranges: Vec<(u64, Vec<u8>)>) -> Recorded {
        Recorded(ranges)
    }
}

impl GuestMemRead for Recorded {
    fn read(&self, addr: u64, buf: &mut [u8]) -> bool {
        self.0
            .iter()
            .any(|(base, bytes)| read_range(*base, bytes, addr, buf))
    }
}

/// Fills `buf` from `addr` if all of it lies in `data`, which sits at
/// guest address `base`.
pub fn read_range(base: u64, data: &[u8], addr: u64, buf: &mut [u8]) -> bool {
    let Some(off) = addr.checked_sub(base).and_then(|o| usize::try_from(o).ok()) else {
        return false;
    };
    match data.get(off..).and_then(|b| b.get(..buf.len())) {
        Some(src) => {
            buf.copy_from_slice(src);
            true
        }
        None => false,
    }
}

/// execve and execveat: calls after which the caller's memory is another,
/// so their arguments must be read ahead ([`super::Tracer::read_ahead`]).
pub fn replaces_image(nr: u64) -> bool {
    nr == guest_abi::sysno::EXECVE as u64 || nr == guest_abi::sysno::EXECVEAT as u64
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::trace::tests::Mem;

    #[test]
    fn reads_are_answered_after_the_memory_is_gone() {
        let mut mem = Mem::at(0);
        mem.bytes(b"hello, world");
        let rec = Recorder::new(&mem);
        let mut b = [0u8; 5];
        assert!(rec.read(7, &mut b));
        assert!(!rec.read(20, &mut b));
        let done = rec.finish();
        drop(mem);
        let mut c = [0u8; 3];
        assert!(done.read(8, &mut c));
        assert_eq!(&c, b"orl");
        assert!(!done.read(10, &mut c), "past what was read");
        assert!(!done.read(0, &mut c), "never read");
    }
}
