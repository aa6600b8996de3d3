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

/// The reads a [`Recorder`] kept; a read inside one of them is answered
/// from it, anything else is unreadable.
#[derive(Debug, Default)]
pub struct Recorded(Vec<(u64, Vec<u8>)>);

impl GuestMemRead for Recorded {
    fn read(&self, addr: u64, buf: &mut [u8]) -> bool {
        self.0.iter().any(|(at, bytes)| {
            let Some(off) = addr.checked_sub(*at).and_then(|o| usize::try_from(o).ok()) else {
                return false;
            };
            match bytes.get(off..).and_then(|b| b.get(..buf.len())) {
                Some(src) => {
                    buf.copy_from_slice(src);
                    true
                }
                None => false,
            }
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    struct Mem(Vec<u8>);
    impl GuestMemRead for Mem {
        fn read(&self, addr: u64, buf: &mut [u8]) -> bool {
            match self.0.get(addr as usize..addr as usize + buf.len()) {
                Some(s) => {
                    buf.copy_from_slice(s);
                    true
                }
                None => false,
            }
        }
    }

    #[test]
    fn reads_are_answered_after_the_memory_is_gone() {
        let mem = Mem(b"hello, world".to_vec());
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
