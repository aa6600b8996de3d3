//! Virtual memory areas: what a guest range is (protection, sharing, backing)
//! as the guest asked for it, independent of which frames hold the pages.

use std::os::fd::{AsFd, BorrowedFd, OwnedFd};
use std::path::PathBuf;
use std::sync::Arc;

use guest_abi::mman::{PROT_EXEC, PROT_READ, PROT_WRITE};

/// A host file mapped into guests: an open descriptor of its own (a mapping
/// keeps the file open, as in Linux), and its path for `/proc/PID/maps`.
#[derive(Debug)]
pub struct MappedFile {
    fd: OwnedFd,
    pub path: PathBuf,
    pub dev: u64,
    pub ino: u64,
}

impl MappedFile {
    pub fn new(fd: OwnedFd, path: PathBuf) -> std::io::Result<MappedFile> {
        let st = nix::sys::stat::fstat(&fd).map_err(std::io::Error::from)?;
        Ok(MappedFile {
            fd,
            path,
            dev: st.st_dev,
            ino: st.st_ino,
        })
    }

    pub fn fd(&self) -> BorrowedFd<'_> {
        self.fd.as_fd()
    }
}

/// What backs a VMA's contents before anyone writes them.
#[derive(Clone, Debug)]
pub enum Backing {
    /// Zero-filled on first touch (by the host kernel: a memfd hole).
    Anon,
    /// Private file mapping: page `i` of the VMA starts as the file's bytes
    /// at `offset + i * PAGE_SIZE`, zero past `file_end` (an absolute file
    /// offset; the ELF loader uses it to stop at a segment's `p_filesz`).
    File {
        file: Arc<MappedFile>,
        offset: u64,
        file_end: u64,
    },
}

/// What `/proc/PID/maps` calls a region that has no file.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Role {
    Plain,
    Heap,
    Stack,
}

#[derive(Clone, Debug)]
pub struct Vma {
    pub start: u64,
    pub end: u64,
    /// `PROT_*` bits.
    pub prot: u64,
    /// `MAP_SHARED` (survives fork shared, never copy-on-write).
    pub shared: bool,
    pub backing: Backing,
    pub role: Role,
    /// A private, non-writable file range the stub maps straight from the
    /// host file (no frames; see `space.rs`, "Direct file mappings").
    pub direct: bool,
}

impl Vma {
    pub fn len(&self) -> u64 {
        self.end - self.start
    }

    pub fn is_empty(&self) -> bool {
        self.end == self.start
    }

    pub fn readable(&self) -> bool {
        // x86-64 pages that are writable or executable are also readable.
        self.prot & (PROT_READ | PROT_WRITE | PROT_EXEC) != 0
    }

    pub fn writable(&self) -> bool {
        self.prot & PROT_WRITE != 0
    }

    pub fn is_file(&self) -> bool {
        matches!(self.backing, Backing::File { .. })
    }

    /// The part of `self` from `at` on, with the file offset advanced; `self`
    /// keeps the part below `at`.
    pub fn split_off(&mut self, at: u64) -> Vma {
        debug_assert!(self.start < at && at < self.end);
        let mut hi = self.clone();
        hi.start = at;
        if let Backing::File { offset, .. } = &mut hi.backing {
            *offset += at - self.start;
        }
        self.end = at;
        hi
    }

    /// Whether `next` continues `self` seamlessly (same attributes, adjacent,
    /// file offsets contiguous), so the two can be one VMA.
    pub fn can_merge(&self, next: &Vma) -> bool {
        if self.end != next.start
            || self.prot != next.prot
            || self.shared != next.shared
            || self.role != next.role
            || self.direct != next.direct
        {
            return false;
        }
        match (&self.backing, &next.backing) {
            (Backing::Anon, Backing::Anon) => true,
            (
                Backing::File {
                    file: a,
                    offset: oa,
                    file_end: ea,
                },
                Backing::File {
                    file: b,
                    offset: ob,
                    file_end: eb,
                },
            ) => Arc::ptr_eq(a, b) && ea == eb && oa + self.len() == *ob,
            _ => false,
        }
    }
}
