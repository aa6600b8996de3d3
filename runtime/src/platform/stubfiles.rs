//! The program files a stub keeps open.
//!
//! A stub maps a guest's program and libraries straight from the host's page
//! cache: it opens the file again through umk's `/proc/PID/fd/<fd>`, maps
//! the segments and closes it ([`HostOp::map_file`]). That open is a procfs
//! walk and a magic-link resolution, ~7 µs here, and a fork child's stub
//! (set-up) and an exec (new program) each pay it again for the same few
//! files. So a stub keeps the last [`CAPACITY`] files it opened, keyed by
//! the host file's device and inode, and later requests map from the
//! descriptor it already holds instead.
//!
//! Keying by inode is what the page cache does: a file changed in place is
//! the same inode, and a private mapping sees its current pages through any
//! descriptor; a file replaced by rename is a new inode and misses. A kept
//! descriptor holds its inode alive until it is evicted or the stub dies
//! (at most [`CAPACITY`] per stub, and the pool keeps a few stubs).

use std::collections::VecDeque;

use crate::mm::hostop::{HostOp, OP_FD_R8, OP_FD_RDI, OP_SAVE, OP_UMK_FD};

/// Files kept open per stub.
pub const CAPACITY: usize = 4;

const SYS_CLOSE: u64 = libc::SYS_close as u64;

/// A host file's identity: (device, inode).
pub type FileKey = (u64, u64);

/// The files one stub holds open, newest last.
#[derive(Debug, Default)]
pub struct StubFiles {
    open: VecDeque<(FileKey, u64)>,
    /// Descriptors evicted but not closed yet (closed by the next request).
    to_close: Vec<u64>,
}

/// A request rewritten to use kept descriptors: `ops` to run, and for each
/// file it opens anew, its key and the index of the opening op.
#[derive(Debug, Default, PartialEq, Eq)]
pub struct Rewritten {
    pub ops: Vec<HostOp>,
    pub opens: Vec<(FileKey, usize)>,
}

impl StubFiles {
    fn get(&self, key: FileKey) -> Option<u64> {
        self.open.iter().find(|(k, _)| *k == key).map(|&(_, fd)| fd)
    }

    /// Rewrites `ops` (as built by [`HostOp::map_file`] and
    /// `merge_reopens`): a file this stub holds is not opened again (its
    /// maps name the kept descriptor), and a file opened now is not closed
    /// after its maps (the caller keeps it with [`StubFiles::keep`]).
    /// Files whose key `key_of` cannot tell are left as they were.
    /// Descriptors evicted earlier are closed first.
    pub fn rewrite(
        &mut self,
        ops: &[HostOp],
        key_of: impl Fn(i32) -> Option<FileKey>,
    ) -> Rewritten {
        let mut out = Rewritten::default();
        out.ops.extend(self.to_close.drain(..).map(HostOp::close));
        // The descriptor the maps that follow an open refer to.
        enum Cur {
            None,
            Kept(u64),
            Keeping,
        }
        let mut cur = Cur::None;
        for op in ops {
            if op.nr & OP_SAVE != 0 && op.nr & OP_UMK_FD != 0 {
                match umk_fd(op).and_then(&key_of) {
                    Some(key) => match self.get(key) {
                        Some(fd) => cur = Cur::Kept(fd),
                        None => {
                            out.opens.push((key, out.ops.len()));
                            out.ops.push(*op);
                            cur = Cur::Keeping;
                        }
                    },
                    None => {
                        out.ops.push(*op);
                        cur = Cur::None;
                    }
                }
                continue;
            }
            let closes_opened = op.nr & OP_FD_RDI != 0 && op.nr & 0xffff_ffff == SYS_CLOSE;
            match cur {
                Cur::Kept(fd) if op.nr & OP_FD_R8 != 0 => {
                    let mut o = *op;
                    o.nr &= !OP_FD_R8;
                    o.args[4] = fd;
                    out.ops.push(o);
                }
                Cur::Kept(_) | Cur::Keeping if closes_opened => {}
                _ => out.ops.push(*op),
            }
        }
        out
    }

    /// Keeps descriptor `fd` (just opened in the stub) for `key`; the
    /// oldest kept file is closed by the next request when full.
    pub fn keep(&mut self, key: FileKey, fd: u64) {
        if self.get(key).is_some() {
            self.to_close.push(fd);
            return;
        }
        if self.open.len() >= CAPACITY {
            if let Some((_, old)) = self.open.pop_front() {
                self.to_close.push(old);
            }
        }
        self.open.push_back((key, fd));
    }
}

/// umk's descriptor number an [`HostOp::open_file`] op names.
fn umk_fd(op: &HostOp) -> Option<i32> {
    let name = op.args[4].to_ne_bytes();
    let digits = name.split(|&b| b == 0).next()?;
    std::str::from_utf8(digits).ok()?.parse().ok()
}

/// The identity of umk's open descriptor `fd`.
pub fn key_of(fd: i32) -> Option<FileKey> {
    let mut st = std::mem::MaybeUninit::<libc::stat>::zeroed();
    // SAFETY: `st` is a writable stat buffer; `fd` is one of umk's own.
    if unsafe { libc::fstat(fd, st.as_mut_ptr()) } != 0 {
        return None;
    }
    // SAFETY: fstat filled it in.
    let st = unsafe { st.assume_init() };
    Some((st.st_dev, st.st_ino))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::mm::hostop::merge_reopens;

    fn program(fd: i32) -> Vec<HostOp> {
        let mut ops = Vec::new();
        ops.extend(HostOp::map_file(0x1000, 0x1000, 1, fd, 0));
        ops.extend(HostOp::map_file(0x2000, 0x1000, 5, fd, 0x1000));
        ops.push(HostOp::map(0x3000, 0x1000, 3, 9));
        merge_reopens(&mut ops);
        ops
    }

    fn key(fd: i32) -> Option<FileKey> {
        Some((1, fd as u64 + 100))
    }

    #[test]
    fn a_new_file_is_opened_and_left_open() {
        let mut f = StubFiles::default();
        let r = f.rewrite(&program(7), key);
        let kinds: Vec<u64> = r.ops.iter().map(|o| o.nr & 0xffff_ffff).collect();
        let (open, mmap) = (libc::SYS_openat as u64, libc::SYS_mmap as u64);
        assert_eq!(kinds, [open, mmap, mmap, mmap]);
        assert_eq!(r.opens, [((1, 107), 0)]);
    }

    #[test]
    fn a_kept_file_is_mapped_from_its_descriptor() {
        let mut f = StubFiles::default();
        f.keep((1, 107), 42);
        let r = f.rewrite(&program(7), key);
        assert!(r.opens.is_empty());
        assert_eq!(r.ops.len(), 3);
        for o in &r.ops[..2] {
            assert_eq!(o.nr, libc::SYS_mmap as u64);
            assert_eq!(o.args[4], 42);
        }
        assert_eq!(r.ops[2], HostOp::map(0x3000, 0x1000, 3, 9));
    }

    #[test]
    fn unknown_files_keep_their_open_and_close() {
        let mut f = StubFiles::default();
        let ops = program(7);
        assert_eq!(f.rewrite(&ops, |_| None).ops, ops);
    }

    #[test]
    fn the_oldest_file_is_closed_when_full() {
        let mut f = StubFiles::default();
        for i in 0..=CAPACITY as u64 {
            f.keep((1, i), 10 + i);
        }
        let r = f.rewrite(&[], key);
        assert_eq!(r.ops, [HostOp::close(10)]);
        assert!(f.rewrite(&[], key).ops.is_empty());
        // The same file kept twice: the second descriptor goes.
        f.keep((1, 3), 99);
        assert_eq!(f.rewrite(&[], key).ops, [HostOp::close(99)]);
    }

    #[test]
    fn the_descriptor_number_is_read_back_from_the_op() {
        assert_eq!(umk_fd(&HostOp::open_file(1234567)), Some(1234567));
        assert_eq!(umk_fd(&HostOp::open_file(5)), Some(5));
    }
}
