//! Memory management: umk owns guest memory.
//!
//! # Model
//!
//! - **Physical memory** ([`frames`]) is one sparse memfd, mapped whole in
//!   umk. A frame is a page of it. Frames are allocated in runs and carry a
//!   reference count (implicitly 1; explicit once shared by fork).
//! - **An address space** ([`space`]) is the guest's VMAs ([`vma`]: range,
//!   protection, private/shared, anonymous or file backing) plus a page map
//!   from guest pages to frames. Every guest page inside a VMA has a frame
//!   from the moment it is mapped; a frame costs host memory only once
//!   touched.
//! - **The MMU** is the stub's host address space: each extent of the page
//!   map is a `MAP_SHARED|MAP_FIXED` mapping of the memfd. `mm` describes the
//!   changes as [`hostop::HostOp`]s; the stub's control thread runs them in
//!   one request.
//! - **Page faults**: anonymous pages need none — the host kernel zero-fills
//!   a memfd hole on first touch (1.1× a native fault here). Private file
//!   pages load lazily: their VMAs are registered on the stub's userfaultfd
//!   ([`uffd`]) for missing and minor faults; the fault thread ([`fault`])
//!   reads a cluster of pages from the file straight into the frames
//!   (`copy_file_range`) and maps them with `UFFDIO_CONTINUE`. The loader
//!   reads no segment eagerly.
//! - **Guest memory access** by umk (syscall arguments) goes through the page
//!   map to umk's own view of the frames, never `process_vm_readv` (5×
//!   slower here). Every range is checked against the VMAs and their
//!   protection: a bad pointer is `EFAULT`, never a umk crash. File pages
//!   are filled before umk reads or writes them.
//! - **Copy-on-write** (fork) write-protects private frames in both address
//!   spaces and copies a chunk on the write-protect fault (see [`space`]).
//!
//! Measured costs and traps behind these choices:
//! `../shared/prototypes/memory/FINDINGS.md` (never enable
//! `UFFD_EVENT_UNMAP`: the stub's own munmap would deadlock; registration does
//! not survive a remap; create the uffd after the stub's last exec).

pub mod fault;
pub mod frames;
pub mod hostop;
pub mod rangeset;
pub mod space;
pub mod uffd;
pub mod vma;

pub use frames::{Memory, PAGE_SIZE};
pub use hostop::{HostMmu, HostOp};
pub use space::{AddressSpace, Layout, MapRequest};
