//! An address space: the guest's VMAs, the page map (guest page → frame) and
//! every operation that changes them (mmap, munmap, mprotect, mremap, brk,
//! madvise), plus page-fault resolution.
//!
//! Invariants, kept under the one `inner` lock:
//! - every page inside a VMA has exactly one frame, recorded in `extents`
//!   (runs of consecutive pages on consecutive frames); nothing outside VMAs
//!   has one;
//! - the stub maps each extent ∩ VMA with the VMA's protection, `MAP_SHARED`
//!   from the frames memfd; host operations run (through [`HostMmu`]) before
//!   the lock is released, and frames are freed only after the stub has
//!   unmapped them;
//! - private file VMAs are registered on the stub's userfaultfd for missing
//!   and minor faults; their frames stay in `Memory::unfilled` until first
//!   use, when a cluster of pages is read from the file (see [`AddressSpace::fault`]);
//! - *direct* VMAs (below) have no frames at all.
//!
//! # Direct file mappings
//!
//! Copying file pages into frames costs ~4.5 µs a page (a fresh memfd page
//! plus the copy), against ~0.2 µs natively, where the page cache is shared
//! and fault-around maps 16 pages at once; a fork + exec + exit of a small
//! static program spent most of its time there. So a private file VMA that
//! is not writable (program text, read-only data, shared libraries) is
//! mapped by the stub straight from the host file (`HostOp::map_file`:
//! the stub opens the file through its descriptor of umk's `/proc/PID/fd`,
//! maps it `MAP_PRIVATE` and closes it), and the host kernel pages it in,
//! shares it with every other stub, and raises SIGBUS past the end of the
//! file, as Linux does. Such a VMA has no frames; umk reads it with `pread`
//! ([`AddressSpace::read`]). Nothing can write it: `mprotect` to writable (and
//! `mremap`) first turn it into an ordinary private file VMA with frames
//! loaded lazily from the file (`materialize`). A fork child's stub
//! maps it from the file again.
//!
//! # Copy-on-write
//!
//! [`AddressSpace::fork`] gives the child the same VMAs and the same frames
//! (each frame's reference count goes up) and write-protects every private
//! range of the parent through its userfaultfd; the child's stub maps the
//! same frames, write-protected too ([`AddressSpace::populate`]). A write
//! to such a page stops the writer in a write-protect fault. The fault
//! thread then ([`AddressSpace::fault`]):
//! - if the frame's count is 1 (the other side already copied), clears the
//!   protection of that page, which wakes the writer;
//! - otherwise copies a chunk of [`COW_CHUNK`] pages around it into new
//!   frames (placed after the neighbouring extent's frames when possible, so
//!   the host mappings merge again), maps them over the old ones through the
//!   stub's control thread, drops the old frames' references and wakes the
//!   writer. The new mapping is no longer registered (registration does not
//!   survive a remap); its pages are private now, so it needs none until the
//!   next fork registers the range again.
//!
//! umk's own writes into guest memory (a `read(2)` into a buffer) bypass the
//! host's write protection, so [`AddressSpace::write`] breaks COW first.

use std::collections::BTreeMap;
use std::os::fd::AsRawFd;
use std::sync::{Arc, OnceLock};

use guest_abi::mman::{
    MADV_DODUMP, MADV_DOFORK, MADV_DONTDUMP, MADV_DONTFORK, MADV_DONTNEED, MADV_FREE,
    MADV_HUGEPAGE, MADV_MERGEABLE, MADV_NOHUGEPAGE, MADV_NORMAL, MADV_RANDOM, MADV_REMOVE,
    MADV_SEQUENTIAL, MADV_UNMERGEABLE, MADV_WILLNEED, MAP_32BIT, MAP_FIXED, MAP_FIXED_NOREPLACE,
    MAP_PRIVATE, MAP_SHARED, MAP_SHARED_VALIDATE, MREMAP_DONTUNMAP, MREMAP_FIXED, MREMAP_MAYMOVE,
    MS_ASYNC, MS_INVALIDATE, MS_SYNC, PROT_EXEC, PROT_GROWSDOWN, PROT_GROWSUP, PROT_READ,
    PROT_WRITE,
};
use parking_lot::Mutex;

use super::frames::{Frame, Memory, PAGE_SIZE};
use super::hostop::{HostMmu, HostOp};
use super::uffd::{self, Uffd};
use super::vma::{Backing, MappedFile, Role, Vma};
use crate::error::{SysError, SysResult, EFAULT};
use crate::platform::{Remote, StubHandle};
use crate::sys_err;

/// Pages read from a file per demand-paging fault (fault-around). 64 beat
/// 16 here: 4.4 vs 5.9 µs per page (`umk bench --suite memory`).
pub const FAULT_CLUSTER: u64 = 64;

/// Pages copied per copy-on-write break: 2.2N per page for a 16-page chunk
/// against 13N for one page (`../shared/prototypes/memory/FINDINGS.md`).
pub const COW_CHUNK: u64 = 16;

/// Largest chunk a sequential writer's COW breaks grow to (1 MiB): a break
/// costs 40–100 µs besides the copy (~2.5 µs a page), so a 64 MiB
/// sequential write takes ~70 breaks instead of 1024.
pub const COW_CHUNK_MAX: u64 = 256;

/// Sorted runs of frames that hold data in the memfd ([`Memory::data_runs`]).
type DataRuns = Vec<(Frame, Frame)>;

/// Writable private file mappings of at most this many pages are read in
/// when they are mapped instead of on first touch.
const EAGER_FILL: u64 = 64;

/// Host operations queued instead of run ([`AddressSpace::start_batch`]).
#[derive(Debug, Default)]
struct Batch {
    ops: Vec<HostOp>,
    register: Vec<(u64, u64)>,
}

/// Fork copies writable private VMAs of at most this many pages for the
/// child at once (see [`AddressSpace::fork`]).
const EAGER_SMALL_VMA: u64 = 16;
/// Pages fork copies around each hot address (a quarter below it).
const EAGER_AROUND: u64 = 16;
/// Most pages fork copies eagerly.
const EAGER_BUDGET: u64 = 64;

/// Where things go in a guest address space.
#[derive(Clone, Copy, Debug)]
pub struct Layout {
    /// First address guests may not use (the stub's region starts here).
    pub task_size: u64,
    /// Lowest address a mapping may start at (`vm.mmap_min_addr`).
    pub mmap_min: u64,
    /// Top of the main thread's stack.
    pub stack_top: u64,
    /// Top of the region where mappings without a fixed address go,
    /// searched top-down like Linux's `unmapped_area_topdown`.
    pub mmap_base: u64,
}

/// A run of consecutive guest pages on consecutive frames.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
struct Extent {
    frame: Frame,
    pages: u64,
}

/// What `mmap` was asked for, after the syscall layer resolved the fd.
#[derive(Clone, Debug)]
pub struct MapRequest {
    pub addr: u64,
    pub len: u64,
    pub prot: u64,
    pub flags: u64,
    pub backing: Backing,
    pub role: Role,
}

#[derive(Debug)]
struct Inner {
    vmas: BTreeMap<u64, Vma>,
    extents: BTreeMap<u64, Extent>,
    /// Where the last COW break ended, and its chunk's size in pages
    /// (sequential writers get growing chunks: see `cow_chunk`).
    cow_next: u64,
    cow_pages: u64,
    layout: Layout,
    brk_start: u64,
    brk: u64,
}

/// One guest address space (held by one stub process).
pub struct AddressSpace {
    memory: Arc<Memory>,
    inner: Mutex<Inner>,
    uffd: OnceLock<Uffd>,
    /// The stub holding this address space; it is killed before the frames
    /// are released.
    stub: OnceLock<Arc<StubHandle>>,
    /// Host operations queued while a program is loaded.
    batch: Mutex<Option<Batch>>,
}

impl std::fmt::Debug for AddressSpace {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("AddressSpace").finish_non_exhaustive()
    }
}

pub fn page_down(x: u64) -> u64 {
    x & !(PAGE_SIZE - 1)
}

/// Rounds up to a page boundary; `None` on overflow.
pub fn page_up(x: u64) -> Option<u64> {
    Some(x.checked_add(PAGE_SIZE - 1)? & !(PAGE_SIZE - 1))
}

fn host_prot(prot: u64) -> u64 {
    prot & (PROT_READ | PROT_WRITE | PROT_EXEC)
}

impl Inner {
    fn vma_at(&self, addr: u64) -> Option<&Vma> {
        self.vmas
            .range(..=addr)
            .next_back()
            .map(|(_, v)| v)
            .filter(|v| addr < v.end)
    }

    fn is_free(&self, start: u64, end: u64) -> bool {
        match self.vmas.range(..end).next_back() {
            Some((_, v)) => v.end <= start,
            None => true,
        }
    }

    /// Highest gap of `len` bytes lying within `[low, high)`.
    fn gap_topdown(&self, len: u64, low: u64, high: u64) -> Option<u64> {
        let mut top = high;
        for (_, v) in self.vmas.range(..high).rev() {
            if v.end <= top && top - v.end >= len && top - len >= low {
                return Some(top - len);
            }
            top = top.min(v.start);
            if top < low + len {
                return None;
            }
        }
        (top >= low + len).then(|| top - len)
    }

    /// Splits the VMA and the extent containing `at` so that `at` is a
    /// boundary of both.
    fn split_at(&mut self, at: u64) {
        if let Some((&s, v)) = self.vmas.range_mut(..at).next_back() {
            if s < at && at < v.end {
                let hi = v.split_off(at);
                self.vmas.insert(at, hi);
            }
        }
        if let Some((&s, e)) = self.extents.range_mut(..at).next_back() {
            let end = s + e.pages * PAGE_SIZE;
            if s < at && at < end {
                let lo_pages = (at - s) / PAGE_SIZE;
                let hi = Extent {
                    frame: e.frame + lo_pages,
                    pages: e.pages - lo_pages,
                };
                e.pages = lo_pages;
                self.extents.insert(at, hi);
            }
        }
    }

    /// Makes frames `[frame, ...)` the only extent of `[lo, hi)` (whose
    /// ends are extent boundaries): the extents there are forgotten, not
    /// released.
    fn replace_extents(&mut self, lo: u64, hi: u64, frame: Frame) {
        let keys: Vec<u64> = self.extents.range(lo..hi).map(|(&k, _)| k).collect();
        for k in keys {
            self.extents.remove(&k);
        }
        let pages = (hi - lo) / PAGE_SIZE;
        self.extents.insert(lo, Extent { frame, pages });
    }

    /// Merges VMAs and extents around `at` where they continue each other.
    fn merge_at(&mut self, at: u64) {
        let lo = self
            .vmas
            .range(..at)
            .next_back()
            .map(|(&s, v)| (s, v.clone()));
        if let (Some((ls, lo)), Some(hi)) = (lo, self.vmas.get(&at)) {
            if lo.can_merge(hi) {
                let end = hi.end;
                self.vmas.remove(&at);
                if let Some(v) = self.vmas.get_mut(&ls) {
                    v.end = end;
                }
            }
        }
        let lo = self.extents.range(..at).next_back().map(|(&s, e)| (s, *e));
        if let (Some((ls, lo)), Some(&hi)) = (lo, self.extents.get(&at)) {
            if ls + lo.pages * PAGE_SIZE == at && lo.frame + lo.pages == hi.frame {
                self.extents.remove(&at);
                if let Some(e) = self.extents.get_mut(&ls) {
                    e.pages += hi.pages;
                }
            }
        }
    }

    /// Removes `[start, end)` from the maps. Returns the frame runs to
    /// release once the stub has unmapped the range.
    fn remove_range(&mut self, start: u64, end: u64) -> Vec<(Frame, u64)> {
        self.split_at(start);
        self.split_at(end);
        let keys: Vec<u64> = self.vmas.range(start..end).map(|(&k, _)| k).collect();
        for k in keys {
            self.vmas.remove(&k);
        }
        let keys: Vec<u64> = self.extents.range(start..end).map(|(&k, _)| k).collect();
        let mut freed = Vec::with_capacity(keys.len());
        for k in keys {
            if let Some(e) = self.extents.remove(&k) {
                freed.push((e.frame, e.pages));
            }
        }
        freed
    }

    /// Frame runs backing `[start, end)`, as (guest address, frame, pages).
    fn frames_in(&self, start: u64, end: u64) -> Vec<(u64, Frame, u64)> {
        let mut out = Vec::new();
        let first = self
            .extents
            .range(..=start)
            .next_back()
            .map(|(&k, _)| k)
            .unwrap_or(start);
        for (&s, e) in self.extents.range(first..end) {
            let e_end = s + e.pages * PAGE_SIZE;
            let (a, b) = (s.max(start), e_end.min(end));
            if a < b {
                out.push((a, e.frame + (a - s) / PAGE_SIZE, (b - a) / PAGE_SIZE));
            }
        }
        out
    }

    fn frame_of(&self, page: u64) -> Option<Frame> {
        let (&s, e) = self.extents.range(..=page).next_back()?;
        let idx = (page - s) / PAGE_SIZE;
        (idx < e.pages).then_some(e.frame + idx)
    }

    /// Whether `[start, end)` is covered by VMAs without holes.
    fn fully_mapped(&self, start: u64, end: u64) -> bool {
        let mut at = start;
        while at < end {
            match self.vma_at(at) {
                Some(v) => at = v.end,
                None => return false,
            }
        }
        true
    }
}

impl AddressSpace {
    pub fn new(memory: Arc<Memory>, layout: Layout) -> AddressSpace {
        AddressSpace {
            memory,
            inner: Mutex::new(Inner {
                vmas: BTreeMap::new(),
                extents: BTreeMap::new(),
                cow_next: 0,
                cow_pages: COW_CHUNK,
                layout,
                brk_start: 0,
                brk: 0,
            }),
            uffd: OnceLock::new(),
            stub: OnceLock::new(),
            batch: Mutex::new(None),
        }
    }

    pub fn set_stub(&self, stub: Arc<StubHandle>) {
        let _ = self.stub.set(stub);
    }

    pub fn stub(&self) -> Option<&Arc<StubHandle>> {
        self.stub.get()
    }

    /// The child's copy of this address space for fork(2): the same VMAs and
    /// frames, every frame's count raised; this side's shared private
    /// ranges are write-protected before it returns. The child has no stub
    /// yet: its kernel thread calls [`Self::populate`] once it has one.
    ///
    /// `hot` are addresses both sides are about to write (the caller's stack
    /// pointer and thread pointer): the pages around them, and small
    /// writable VMAs (`.data`, `.bss`), are copied for the child now instead
    /// of shared (`eager_ranges`). A copy costs ~2–4 µs a page here;
    /// a copy-on-write fault costs 40–100 µs (fault thread, control thread
    /// and two wake-ups), and right after fork both sides fault on exactly
    /// these pages.
    pub fn fork(&self, hot: &[u64]) -> SysResult<AddressSpace> {
        let mut inner = self.inner.lock();
        // Writable private file pages are loaded now: after fork they are
        // write-protected, and a minor fault resolved with UFFDIO_CONTINUE
        // does not keep the protection (seen on 6.18), so these ranges are
        // registered for write protection only (see `forked_mode`).
        let writable_files: Vec<Vma> = inner
            .vmas
            .values()
            .filter(|v| !v.shared && v.is_file() && v.writable())
            .cloned()
            .collect();
        for v in &writable_files {
            self.fill(&inner, v, v.start, v.end);
        }
        let (eager, anon_data) = self.eager_ranges(&inner, hot);
        for &(lo, hi) in &eager {
            inner.split_at(lo);
            inner.split_at(hi);
        }
        let in_eager = |a: u64| eager.iter().any(|&(lo, hi)| lo <= a && a < hi);
        for (&s, e) in &inner.extents {
            if !in_eager(s) {
                self.memory.share(e.frame, e.pages);
            }
        }
        let mut child = Inner {
            vmas: inner.vmas.clone(),
            extents: inner.extents.clone(),
            cow_next: 0,
            cow_pages: COW_CHUNK,
            layout: inner.layout,
            brk_start: inner.brk_start,
            brk: inner.brk,
        };
        for &(lo, hi) in &eager {
            let pages = (hi - lo) / PAGE_SIZE;
            let new = match self.alloc_frames(&child, lo, pages) {
                Ok(f) => f,
                Err(_) => {
                    drop(inner);
                    drop(AddressSpace::from_inner(self.memory.clone(), child));
                    return sys_err!(ENOMEM, "out of frames");
                }
            };
            child.replace_extents(lo, hi, new);
            child.merge_at(lo);
            // A merged range may span VMAs of both kinds.
            let parts: Vec<(u64, u64, bool)> = inner
                .vmas
                .range(..hi)
                .rev()
                .take_while(|(_, v)| v.end > lo)
                .map(|(_, v)| (v.start.max(lo), v.end.min(hi), !v.is_file()))
                .collect();
            for (plo, phi, anon) in parts {
                for (addr, frame, n) in inner.frames_in(plo, phi) {
                    let dst = new + (addr - lo) / PAGE_SIZE;
                    if anon {
                        self.memory.copy_data_frames(frame, dst, n, &anon_data);
                    } else {
                        self.memory.copy_frames(frame, dst, n);
                    }
                }
            }
        }
        for &(lo, hi) in &eager {
            for at in [lo, hi] {
                inner.merge_at(at);
                child.merge_at(at);
            }
        }
        if let Some(u) = self.uffd.get() {
            for v in inner.vmas.values().filter(|v| !v.shared) {
                if forked_mode(v) & uffd::MODE_WP == 0 {
                    // Lazily loaded read-only file ranges: registered since
                    // they were mapped.
                    continue;
                }
                if let Err(e) = self.protect_shared(u, &inner, v) {
                    log::warn(&format!("mm: fork: protecting {:#x}: {e}", v.start));
                    drop(inner);
                    drop(AddressSpace::from_inner(self.memory.clone(), child));
                    return sys_err!(ENOMEM, "cannot write-protect for fork");
                }
            }
        }
        Ok(AddressSpace::from_inner(self.memory.clone(), child))
    }

    /// The ranges [`Self::fork`] gives the child frames of its own for,
    /// instead of sharing them (sorted, disjoint):
    /// - small writable private VMAs, whole, and [`EAGER_AROUND`] pages
    ///   around each `hot` address in a writable private VMA, at most
    ///   [`EAGER_BUDGET`] pages in all (their data is copied);
    /// - every never-touched part of a private anonymous VMA (a hole in the
    ///   memfd): it reads as zeroes on both sides, so the child's fresh
    ///   frames need no copy, and neither side needs write protection
    ///   there, now or when it first writes there later.
    ///
    /// Also returns the runs of frames of private anonymous VMAs that hold
    /// data (sorted), which the copy reuses instead of asking the memfd
    /// again.
    fn eager_ranges(&self, inner: &Inner, hot: &[u64]) -> (Vec<(u64, u64)>, DataRuns) {
        let mut set = super::rangeset::RangeSet::default();
        let mut budget = EAGER_BUDGET * PAGE_SIZE;
        let writable_private = |v: &Vma| !v.shared && v.writable();
        let mut want: Vec<(u64, u64)> = Vec::new();
        for &a in hot {
            let Some(v) = inner.vma_at(a).filter(|v| writable_private(v)) else {
                continue;
            };
            if v.len() > EAGER_SMALL_VMA * PAGE_SIZE {
                let lo = page_down(a)
                    .saturating_sub(EAGER_AROUND / 4 * PAGE_SIZE)
                    .max(v.start);
                want.push((lo, (lo + EAGER_AROUND * PAGE_SIZE).min(v.end)));
            }
        }
        for v in inner.vmas.values() {
            if writable_private(v) && v.len() <= EAGER_SMALL_VMA * PAGE_SIZE {
                want.push((v.start, v.end));
            }
        }
        for (lo, hi) in want {
            if hi - lo <= budget && set.intersect(lo, hi).is_empty() {
                budget -= hi - lo;
                set.insert(lo, hi);
            }
        }
        let mut data = Vec::new();
        for v in inner.vmas.values() {
            if v.shared || v.is_file() {
                continue;
            }
            for (addr, frame, n) in inner.frames_in(v.start, v.end) {
                let mut at = frame;
                let runs = self.memory.data_runs(frame, n);
                data.extend_from_slice(&runs);
                for &(ds, de) in &runs {
                    if at < ds {
                        set.insert(
                            addr + (at - frame) * PAGE_SIZE,
                            addr + (ds - frame) * PAGE_SIZE,
                        );
                    }
                    at = de;
                }
                if at < frame + n {
                    set.insert(addr + (at - frame) * PAGE_SIZE, addr + n * PAGE_SIZE);
                }
            }
        }
        data.sort_unstable();
        (set.intersect(0, u64::MAX), data)
    }

    /// Registers private VMA `v` for write protection and write-protects
    /// the parts whose frames are shared (after fork).
    fn protect_shared(&self, u: &Uffd, inner: &Inner, v: &Vma) -> Result<(), uffd::UffdError> {
        let mut runs: Vec<(u64, u64)> = Vec::new();
        for (addr, frame, n) in inner.frames_in(v.start, v.end) {
            if !self.memory.any_shared(frame, n) {
                continue;
            }
            let end = addr + n * PAGE_SIZE;
            match runs.last_mut() {
                Some((_, e)) if *e == addr => *e = end,
                _ => runs.push((addr, end)),
            }
        }
        if runs.is_empty() {
            return Ok(());
        }
        u.register(v.start, v.len(), uffd::MODE_WP)?;
        for (s, e) in runs {
            u.write_protect(s, e - s, true)?;
        }
        Ok(())
    }

    /// Registers the parts of file VMA `v` whose frames still wait for the
    /// file (lazy loading); filled parts are mapped by the host directly.
    fn register_unfilled(&self, u: &Uffd, inner: &Inner, v: &Vma) -> Result<(), uffd::UffdError> {
        let runs: Vec<(u64, u64)> = {
            let unfilled = self.memory.unfilled();
            inner
                .frames_in(v.start, v.end)
                .into_iter()
                .flat_map(|(addr, frame, n)| {
                    unfilled
                        .intersect(frame, frame + n)
                        .into_iter()
                        .map(move |(fs, fe)| {
                            let a = addr + (fs - frame) * PAGE_SIZE;
                            (a, a + (fe - fs) * PAGE_SIZE)
                        })
                })
                .collect()
        };
        for (s, e) in runs {
            u.register(s, e - s, uffd::MODE_MISSING | uffd::MODE_MINOR)?;
        }
        Ok(())
    }

    fn from_inner(memory: Arc<Memory>, inner: Inner) -> AddressSpace {
        AddressSpace {
            memory,
            inner: Mutex::new(inner),
            uffd: OnceLock::new(),
            stub: OnceLock::new(),
            batch: Mutex::new(None),
        }
    }

    /// Maps every VMA of a forked address space into its (new, empty) stub
    /// and registers it: shared private ranges write-protected like the
    /// parent's, file ranges only where they are not loaded yet.
    pub fn populate(&self, mmu: &mut dyn HostMmu) -> SysResult<()> {
        let mut inner = self.inner.lock();
        if !self.stub.get().is_some_and(|s| s.maps_files()) {
            // This stub cannot map files itself: direct mappings get frames.
            let direct: Vec<u64> = inner
                .vmas
                .values()
                .filter(|v| v.direct)
                .map(|v| v.start)
                .collect();
            for k in direct {
                let Some(v) = inner.vmas.get_mut(&k) else {
                    continue;
                };
                v.direct = false;
                let pages = v.len() / PAGE_SIZE;
                let frame = self.alloc_frames(&inner, k, pages)?;
                self.memory.unfilled().insert(frame, frame + pages);
                inner.extents.insert(k, Extent { frame, pages });
            }
        }
        let mut ops = Vec::new();
        // The file of the direct mappings being emitted (opened once for
        // consecutive mappings of one file).
        let mut open: Option<&Arc<MappedFile>> = None;
        for v in inner.vmas.values() {
            let file = match &v.backing {
                Backing::File { file, .. } if v.direct => Some(file),
                _ => None,
            };
            if open.is_some() && !matches!((open, file), (Some(a), Some(b)) if Arc::ptr_eq(a, b)) {
                ops.push(HostOp::close_opened());
                open = None;
            }
            if let (Some(f), Backing::File { offset, .. }) = (file, &v.backing) {
                if open.is_none() {
                    ops.push(HostOp::open_file(f.fd().as_raw_fd()));
                    open = Some(f);
                }
                ops.push(HostOp::map_opened(
                    v.start,
                    v.len(),
                    host_prot(v.prot),
                    *offset,
                ));
                continue;
            }
            for (addr, frame, pages) in inner.frames_in(v.start, v.end) {
                ops.push(HostOp::map(
                    addr,
                    pages * PAGE_SIZE,
                    host_prot(v.prot),
                    frame,
                ));
            }
        }
        if open.is_some() {
            ops.push(HostOp::close_opened());
        }
        self.apply(mmu, &ops)?;
        if let Some(u) = self.uffd.get() {
            for v in inner.vmas.values() {
                let mode = forked_mode(v);
                let r = if mode & uffd::MODE_WP != 0 {
                    self.protect_shared(u, &inner, v)
                } else if mode != 0 {
                    self.register_unfilled(u, &inner, v)
                } else {
                    Ok(())
                };
                if let Err(e) = r {
                    log::warn(&format!("mm: populate {:#x}: {e}", v.start));
                    return sys_err!(ENOMEM, "cannot register the child's memory");
                }
            }
        }
        Ok(())
    }

    /// Whether any frame under `[start, end)` is shared with another
    /// address space.
    fn any_shared(&self, inner: &Inner, start: u64, end: u64) -> bool {
        self.memory.has_shared()
            && inner
                .frames_in(start, end)
                .iter()
                .any(|&(_, f, n)| self.memory.any_shared(f, n))
    }

    /// Gives the pages of `[lo, hi)` (inside private VMA `vma`) frames of
    /// their own: copy, remap in the stub through its control thread, drop
    /// the old references.
    fn break_cow(&self, inner: &mut Inner, vma: &Vma, lo: u64, hi: u64) -> SysResult<()> {
        let Some(stub) = self.stub.get() else {
            return sys_err!(EFAULT, "no stub to remap in");
        };
        if vma.is_file() {
            self.fill(inner, vma, lo, hi);
        }
        let pages = (hi - lo) / PAGE_SIZE;
        inner.split_at(lo);
        inner.split_at(hi);
        let old = inner.frames_in(lo, hi);
        let new = self.alloc_frames(inner, lo, pages)?;
        for &(addr, frame, n) in &old {
            // The source is never written meanwhile: it is shared, so it is
            // write-protected wherever it is mapped privately.
            self.memory
                .copy_frames(frame, new + (addr - lo) / PAGE_SIZE, n);
        }
        let r = Remote(stub.clone()).apply(&[HostOp::map(lo, hi - lo, host_prot(vma.prot), new)]);
        if let Err(e) = r {
            log::warn(&format!("mm: COW remap {lo:#x}: {e}"));
            self.memory.release(new, pages);
            inner.merge_at(lo);
            inner.merge_at(hi);
            return sys_err!(ENOMEM, "copy-on-write remap failed");
        }
        inner.replace_extents(lo, hi, new);
        inner.merge_at(lo);
        inner.merge_at(hi);
        for (_, f, n) in old {
            self.memory.release(f, n);
        }
        Ok(())
    }

    /// The chunk of private VMA `vma` around shared `page` that a COW break
    /// copies: the [`COW_CHUNK`]-aligned chunk, or, when the break continues
    /// where the last one ended (a sequential writer), twice the last
    /// chunk's size from `page` on, up to [`COW_CHUNK_MAX`]. Only pages whose
    /// frames are shared are taken: those are write-protected, so no guest
    /// thread can write them while they are copied.
    fn cow_chunk(&self, inner: &mut Inner, vma: &Vma, page: u64) -> (u64, u64) {
        let sequential = page == inner.cow_next;
        let pages = if sequential {
            (inner.cow_pages * 2).min(COW_CHUNK_MAX)
        } else {
            COW_CHUNK
        };
        let c = COW_CHUNK * PAGE_SIZE;
        let floor = if sequential {
            page
        } else {
            (page / c * c).max(vma.start)
        };
        let ceil = (floor + pages * PAGE_SIZE).min(vma.end);
        let shared = |p: u64| {
            inner
                .frame_of(p)
                .is_some_and(|f| self.memory.refcount(f) > 1)
        };
        let mut lo = page;
        while lo > floor && shared(lo - PAGE_SIZE) {
            lo -= PAGE_SIZE;
        }
        let mut hi = page + PAGE_SIZE;
        while hi < ceil && shared(hi) {
            hi += PAGE_SIZE;
        }
        inner.cow_next = hi;
        inner.cow_pages = pages;
        (lo, hi)
    }

    /// A write-protect fault at `page`.
    fn wp_fault(&self, u: &Uffd, page: u64) {
        let mut inner = self.inner.lock();
        let vma = inner.vma_at(page).cloned();
        let shared = match (&vma, inner.frame_of(page)) {
            (Some(v), Some(f)) => !v.shared && self.memory.refcount(f) > 1,
            _ => false,
        };
        log::debug(|| {
            format!(
                "mm: write-protect fault {page:#x} shared={shared} space={:p}",
                self
            )
        });
        if let (true, Some(v)) = (shared, vma) {
            let (lo, hi) = self.cow_chunk(&mut inner, &v, page);
            if self.break_cow(&mut inner, &v, lo, hi).is_ok() {
                let _ = u.wake(lo, hi - lo);
                return;
            }
        }
        // The last sharer (or nothing to copy): lift the protection, which
        // also wakes the writer.
        if let Err(e) = u.write_protect(page, PAGE_SIZE, false) {
            log::debug(|| format!("mm: un-protect {page:#x}: {e}"));
            let _ = u.wake(page, PAGE_SIZE);
        }
    }

    pub fn memory(&self) -> &Arc<Memory> {
        &self.memory
    }

    pub fn layout(&self) -> Layout {
        self.inner.lock().layout
    }

    /// Attaches the stub's userfaultfd (once, before any file mapping).
    pub fn set_uffd(&self, u: Uffd) {
        let _ = self.uffd.set(u);
    }

    pub fn uffd(&self) -> Option<&Uffd> {
        self.uffd.get()
    }

    /// Allocates frames for `pages` guest pages at `addr`, preferring frames
    /// that continue a neighbouring extent so host mappings stay merged.
    fn alloc_frames(&self, inner: &Inner, addr: u64, pages: u64) -> SysResult<Frame> {
        if let Some((&s, e)) = inner.extents.range(..addr).next_back() {
            if s + e.pages * PAGE_SIZE == addr && self.memory.alloc_at(e.frame + e.pages, pages) {
                return Ok(e.frame + e.pages);
            }
        }
        if let Some(e) = inner.extents.get(&(addr + pages * PAGE_SIZE)) {
            if e.frame >= pages && self.memory.alloc_at(e.frame - pages, pages) {
                return Ok(e.frame - pages);
            }
        }
        self.memory
            .alloc(pages)
            .map_err(|_| SysError::new(guest_abi::Errno::ENOMEM, "out of frames"))
    }

    fn apply(&self, mmu: &mut dyn HostMmu, ops: &[HostOp]) -> SysResult<()> {
        if ops.is_empty() {
            return Ok(());
        }
        if let Some(b) = self.batch.lock().as_mut() {
            b.ops.extend_from_slice(ops);
            return Ok(());
        }
        mmu.apply(ops).map_err(|e| {
            log::warn(&format!("mm: {e}"));
            SysError::new(guest_abi::Errno::ENOMEM, "host mapping failed")
        })
    }

    /// From now on host operations are queued instead of run, until
    /// [`Self::finish_batch`] runs them all in one request to the stub's
    /// control thread (a round trip costs 40–100 µs here; loading a
    /// program makes a dozen). Only for an address space no guest thread
    /// runs in (exec), since nothing is mapped in the host until then.
    pub fn start_batch(&self) {
        *self.batch.lock() = Some(Batch::default());
    }

    /// Runs `f` with host operations batched (see [`Self::start_batch`]).
    pub fn batched<R>(
        &self,
        mmu: &mut dyn HostMmu,
        f: impl FnOnce(&mut dyn HostMmu) -> SysResult<R>,
    ) -> SysResult<R> {
        self.start_batch();
        let r = f(mmu);
        let done = self.finish_batch(mmu);
        let v = r?;
        done?;
        Ok(v)
    }

    /// Runs the host operations queued since [`Self::start_batch`], then
    /// the userfaultfd registrations that needed them.
    pub fn finish_batch(&self, mmu: &mut dyn HostMmu) -> SysResult<()> {
        let Some(mut b) = self.batch.lock().take() else {
            return Ok(());
        };
        super::hostop::merge_reopens(&mut b.ops);
        self.apply(mmu, &b.ops)?;
        for (start, end) in b.register {
            self.register_file_range(start, end);
        }
        Ok(())
    }

    /// Whether `vma` (not installed yet) can be a direct file mapping: see
    /// "Direct file mappings" in the module note.
    fn can_map_directly(&self, vma: &Vma) -> bool {
        let Backing::File {
            offset, file_end, ..
        } = &vma.backing
        else {
            return false;
        };
        !vma.shared
            && !vma.writable()
            && offset.is_multiple_of(PAGE_SIZE)
            && (*file_end == u64::MAX || *file_end >= offset + vma.len())
            && self.stub.get().is_some_and(|s| s.maps_files())
    }

    /// Turns the direct file mappings in `[start, end)` into ordinary
    /// private file VMAs: fresh frames, loaded lazily from the file, mapped
    /// over the host's file mapping.
    fn materialize(
        &self,
        inner: &mut Inner,
        start: u64,
        end: u64,
        mmu: &mut dyn HostMmu,
    ) -> SysResult<()> {
        let any = inner
            .vmas
            .range(..end)
            .rev()
            .take_while(|(_, v)| v.end > start)
            .any(|(_, v)| v.direct);
        if !any {
            return Ok(());
        }
        inner.split_at(start);
        inner.split_at(end);
        let keys: Vec<u64> = inner
            .vmas
            .range(start..end)
            .filter(|(_, v)| v.direct)
            .map(|(&k, _)| k)
            .collect();
        let mut ops = Vec::new();
        for &k in &keys {
            let Some(v) = inner.vmas.get_mut(&k) else {
                continue;
            };
            v.direct = false;
            let v = v.clone();
            let pages = v.len() / PAGE_SIZE;
            let frame = self.alloc_frames(inner, v.start, pages)?;
            self.memory.unfilled().insert(frame, frame + pages);
            inner.extents.insert(v.start, Extent { frame, pages });
            ops.push(HostOp::map(v.start, v.len(), host_prot(v.prot), frame));
        }
        let r = self.apply(mmu, &ops);
        for &k in &keys {
            if let Some(e) = inner.vmas.get(&k).map(|v| v.end) {
                self.register_file_range(k, e);
            }
        }
        for k in keys.into_iter().chain([start, end]) {
            inner.merge_at(k);
        }
        r
    }

    fn register_file_range(&self, start: u64, end: u64) {
        if let Some(b) = self.batch.lock().as_mut() {
            b.register.push((start, end));
            return;
        }
        if let Some(u) = self.uffd.get() {
            if let Err(e) = u.register(start, end - start, uffd::MODE_MISSING | uffd::MODE_MINOR) {
                log::warn(&format!("mm: registering {start:#x}..{end:#x}: {e}"));
            }
        }
    }

    /// Installs a new VMA over `[start, start+len)` with fresh frames, or
    /// none if it is a direct file mapping (the range must already be free
    /// in our maps).
    fn install(&self, inner: &mut Inner, vma: Vma, ops: &mut Vec<HostOp>) -> SysResult<()> {
        if vma.direct {
            ops.extend(direct_map_ops(&vma));
            let (start, end) = (vma.start, vma.end);
            inner.vmas.insert(start, vma);
            inner.merge_at(start);
            inner.merge_at(end);
            return Ok(());
        }
        let pages = vma.len() / PAGE_SIZE;
        let frame = self.alloc_frames(inner, vma.start, pages)?;
        if vma.is_file() {
            self.memory.unfilled().insert(frame, frame + pages);
        }
        ops.push(HostOp::map(
            vma.start,
            vma.len(),
            host_prot(vma.prot),
            frame,
        ));
        inner.extents.insert(vma.start, Extent { frame, pages });
        let (start, end) = (vma.start, vma.end);
        inner.vmas.insert(start, vma);
        inner.merge_at(start);
        inner.merge_at(end);
        Ok(())
    }

    /// `mmap(2)` after argument decoding: returns the mapping's address.
    pub fn mmap(&self, req: MapRequest, mmu: &mut dyn HostMmu) -> SysResult<u64> {
        let kind = req.flags & (MAP_SHARED | MAP_PRIVATE | MAP_SHARED_VALIDATE);
        let shared = match kind {
            MAP_SHARED | MAP_SHARED_VALIDATE => true,
            MAP_PRIVATE => false,
            _ => return sys_err!(EINVAL, "mmap needs exactly one of MAP_SHARED, MAP_PRIVATE"),
        };
        if req.len == 0 {
            return sys_err!(EINVAL, "mmap of length 0");
        }
        let Some(len) = page_up(req.len) else {
            return sys_err!(ENOMEM, "mmap length overflows");
        };
        let mut inner = self.inner.lock();
        let lay = inner.layout;
        if len > lay.task_size - lay.mmap_min {
            return sys_err!(ENOMEM, "mmap larger than the address space");
        }
        let fixed = req.flags & (MAP_FIXED | MAP_FIXED_NOREPLACE) != 0;
        let start = if fixed {
            if !req.addr.is_multiple_of(PAGE_SIZE) {
                return sys_err!(EINVAL, "MAP_FIXED address not page aligned");
            }
            let end = req.addr.checked_add(len).filter(|&e| e <= lay.task_size);
            if end.is_none() || req.addr < lay.mmap_min {
                return sys_err!(ENOMEM, "MAP_FIXED range outside the address space");
            }
            if req.flags & MAP_FIXED == 0 && !inner.is_free(req.addr, req.addr + len) {
                return sys_err!(EEXIST, "MAP_FIXED_NOREPLACE range in use");
            }
            req.addr
        } else {
            let hint = page_down(req.addr);
            let hint_ok = hint >= lay.mmap_min
                && hint.checked_add(len).is_some_and(|e| e <= lay.task_size)
                && inner.is_free(hint, hint + len);
            if hint != 0 && hint_ok {
                hint
            } else if req.flags & MAP_32BIT != 0 {
                // Linux puts MAP_32BIT mappings in [1 GiB, 2 GiB).
                match inner.gap_topdown(len, 0x4000_0000, 0x8000_0000) {
                    Some(a) => a,
                    None => return sys_err!(ENOMEM, "no room below 2 GiB"),
                }
            } else {
                match inner
                    .gap_topdown(len, lay.mmap_min, lay.mmap_base)
                    .or_else(|| inner.gap_topdown(len, lay.mmap_min, lay.task_size))
                {
                    Some(a) => a,
                    None => return sys_err!(ENOMEM, "address space full"),
                }
            }
        };
        let end = start + len;
        let mut ops = Vec::new();
        let replaced = !inner.is_free(start, end);
        let freed = inner.remove_range(start, end);
        if replaced {
            // MAP_FIXED over existing mappings: the new mmap replaces them.
            ops.push(HostOp::unmap(start, len));
        }
        let mut vma = Vma {
            start,
            end,
            prot: req.prot,
            shared,
            backing: req.backing,
            role: req.role,
            direct: false,
        };
        vma.direct = self.can_map_directly(&vma);
        // A small writable private file mapping (a program's `.data`) is
        // read in now: cheaper than the userfaultfd fault its first access
        // would take.
        let eager = vma.is_file()
            && !vma.direct
            && !vma.shared
            && vma.writable()
            && len <= EAGER_FILL * PAGE_SIZE;
        let lazy = vma.is_file() && !vma.direct && !eager;
        let filled = eager.then(|| vma.clone());
        self.install(&mut inner, vma, &mut ops)?;
        if let Some(v) = filled {
            self.fill(&inner, &v, start, end);
        }
        self.apply(mmu, &ops)?;
        if lazy {
            self.register_file_range(start, end);
        }
        drop(inner);
        self.release(freed);
        Ok(start)
    }

    fn release(&self, freed: Vec<(Frame, u64)>) {
        self.memory.release_later(&freed);
    }

    /// `munmap(2)`.
    pub fn munmap(&self, addr: u64, len: u64, mmu: &mut dyn HostMmu) -> SysResult<()> {
        if !addr.is_multiple_of(PAGE_SIZE) || len == 0 {
            return sys_err!(EINVAL, "munmap: unaligned address or zero length");
        }
        let Some(end) = page_up(len).and_then(|l| addr.checked_add(l)) else {
            return sys_err!(EINVAL, "munmap range overflows");
        };
        let mut inner = self.inner.lock();
        if end > inner.layout.task_size {
            return sys_err!(EINVAL, "munmap range outside the address space");
        }
        let mapped = !inner.is_free(addr, end);
        let freed = inner.remove_range(addr, end);
        if mapped {
            self.apply(mmu, &[HostOp::unmap(addr, end - addr)])?;
        }
        drop(inner);
        self.memory.release_async(&freed);
        Ok(())
    }

    /// `mprotect(2)`.
    pub fn mprotect(&self, addr: u64, len: u64, prot: u64, mmu: &mut dyn HostMmu) -> SysResult<()> {
        if !addr.is_multiple_of(PAGE_SIZE) {
            return sys_err!(EINVAL, "mprotect: unaligned address");
        }
        if prot & !(PROT_READ | PROT_WRITE | PROT_EXEC | PROT_GROWSDOWN | PROT_GROWSUP) != 0
            || prot & (PROT_GROWSDOWN | PROT_GROWSUP) == (PROT_GROWSDOWN | PROT_GROWSUP)
        {
            return sys_err!(EINVAL, "mprotect: unknown protection bits");
        }
        let Some(end) = page_up(len).and_then(|l| addr.checked_add(l)) else {
            return sys_err!(ENOMEM, "mprotect range overflows");
        };
        if len == 0 {
            return Ok(());
        }
        let prot = host_prot(prot);
        let mut inner = self.inner.lock();
        if !inner.fully_mapped(addr, end) {
            return sys_err!(ENOMEM, "mprotect range not fully mapped");
        }
        if prot & PROT_WRITE != 0 {
            // Direct file mappings must become frames before a write can
            // make their pages differ from the file.
            self.materialize(&mut inner, addr, end, mmu)?;
            // Pages shared copy-on-write that were not writable were not
            // write-protected (see `forked_mode`): copy them before they
            // become writable.
            if self.any_shared(&inner, addr, end) {
                self.unshare_for_write(&mut inner, addr, end)?;
            }
        }
        inner.split_at(addr);
        inner.split_at(end);
        let keys: Vec<u64> = inner.vmas.range(addr..end).map(|(&k, _)| k).collect();
        for k in &keys {
            if let Some(v) = inner.vmas.get_mut(k) {
                v.prot = prot;
            }
        }
        self.apply(mmu, &[HostOp::protect(addr, end - addr, prot)])?;
        for k in keys {
            inner.merge_at(k);
        }
        inner.merge_at(end);
        Ok(())
    }

    /// `brk(2)`: moves the program break; returns the (possibly unchanged)
    /// break, as Linux does on failure.
    pub fn brk(&self, want: u64, mmu: &mut dyn HostMmu) -> u64 {
        let mut inner = self.inner.lock();
        let (start, cur) = (inner.brk_start, inner.brk);
        if want < start || start == 0 {
            return cur;
        }
        let (Some(old_top), Some(new_top)) = (page_up(cur), page_up(want)) else {
            return cur;
        };
        let mut freed = Vec::new();
        if new_top > old_top {
            if new_top > inner.layout.task_size || !inner.is_free(old_top, new_top) {
                return cur;
            }
            let vma = Vma {
                start: old_top,
                end: new_top,
                prot: PROT_READ | PROT_WRITE,
                shared: false,
                backing: Backing::Anon,
                role: Role::Heap,
                direct: false,
            };
            let mut ops = Vec::new();
            if self.install(&mut inner, vma, &mut ops).is_err() || self.apply(mmu, &ops).is_err() {
                return cur;
            }
        } else if new_top < old_top {
            freed = inner.remove_range(new_top, old_top);
            if self
                .apply(mmu, &[HostOp::unmap(new_top, old_top - new_top)])
                .is_err()
            {
                return cur;
            }
        }
        inner.brk = want;
        drop(inner);
        self.release(freed);
        want
    }

    /// Sets where the heap starts (the loader calls this after placing the
    /// program's segments).
    pub fn set_brk_start(&self, start: u64) {
        let mut inner = self.inner.lock();
        inner.brk_start = start;
        inner.brk = start;
    }

    /// `mremap(2)`.
    pub fn mremap(
        &self,
        old: u64,
        old_len: u64,
        new_len: u64,
        flags: u64,
        new_addr: u64,
        mmu: &mut dyn HostMmu,
    ) -> SysResult<u64> {
        if flags & !(MREMAP_MAYMOVE | MREMAP_FIXED | MREMAP_DONTUNMAP) != 0 {
            return sys_err!(EINVAL, "mremap: unknown flags");
        }
        if flags & MREMAP_FIXED != 0 && flags & MREMAP_MAYMOVE == 0 {
            return sys_err!(EINVAL, "MREMAP_FIXED without MREMAP_MAYMOVE");
        }
        if flags & MREMAP_DONTUNMAP != 0 {
            return sys_err!(EINVAL, "MREMAP_DONTUNMAP is not supported yet");
        }
        if !old.is_multiple_of(PAGE_SIZE) || new_len == 0 {
            return sys_err!(EINVAL, "mremap: unaligned address or zero length");
        }
        let (Some(old_len), Some(new_len)) = (page_up(old_len), page_up(new_len)) else {
            return sys_err!(EINVAL, "mremap length overflows");
        };
        let mut inner = self.inner.lock();
        let lay = inner.layout;
        let Some(mut vma) = inner.vma_at(old).cloned() else {
            return sys_err!(EFAULT, "mremap: old address not mapped");
        };
        if vma.direct {
            // Moving or growing a direct file mapping: as frames.
            self.materialize(&mut inner, vma.start, vma.end, mmu)?;
            vma = inner.vma_at(old).cloned().ok_or(EFAULT)?;
        }
        if old_len == 0 {
            return sys_err!(
                EINVAL,
                "mremap with old_size 0 (duplicating) is not supported"
            );
        }
        let old_end = old.saturating_add(old_len);
        if old_end > vma.end {
            return sys_err!(EFAULT, "mremap: old range spans several mappings");
        }
        let fixed = flags & MREMAP_FIXED != 0;
        if fixed {
            let ok = new_addr.is_multiple_of(PAGE_SIZE)
                && new_addr >= lay.mmap_min
                && new_addr
                    .checked_add(new_len)
                    .is_some_and(|e| e <= lay.task_size);
            if !ok {
                return sys_err!(EINVAL, "mremap: bad new address");
            }
            let overlap = new_addr < old_end && old < new_addr + new_len;
            if overlap {
                return sys_err!(EINVAL, "mremap: new range overlaps the old one");
            }
        }
        let mut ops = Vec::new();
        let mut freed = Vec::new();
        if !fixed && new_len <= old_len {
            // Shrink (or same size) in place.
            if new_len < old_len {
                freed = inner.remove_range(old + new_len, old_end);
                ops.push(HostOp::unmap(old + new_len, old_len - new_len));
            }
            self.apply(mmu, &ops)?;
            drop(inner);
            self.release(freed);
            return Ok(old);
        }
        let grow_end = old.saturating_add(new_len);
        if !fixed
            && old_end == vma.end
            && grow_end <= lay.task_size
            && inner.is_free(old_end, grow_end)
        {
            // Grow in place: a new VMA continuing the old one (merged).
            let mut ext = vma.clone();
            ext.start = old_end;
            ext.end = grow_end;
            if let Backing::File { offset, .. } = &mut ext.backing {
                *offset += old_end - vma.start;
            }
            self.install(&mut inner, ext.clone(), &mut ops)?;
            self.apply(mmu, &ops)?;
            if ext.is_file() {
                self.register_file_range(ext.start, ext.end);
            }
            return Ok(old);
        }
        if flags & MREMAP_MAYMOVE == 0 {
            return sys_err!(ENOMEM, "mremap cannot grow in place");
        }
        // Move: the same frames appear at the new address; growth gets new ones.
        let dest = if fixed {
            freed = inner.remove_range(new_addr, new_addr + new_len);
            if !freed.is_empty() {
                ops.push(HostOp::unmap(new_addr, new_len));
            }
            new_addr
        } else {
            match inner.gap_topdown(new_len, lay.mmap_min, lay.mmap_base) {
                Some(a) => a,
                None => return sys_err!(ENOMEM, "no room to move the mapping"),
            }
        };
        let keep = old_len.min(new_len);
        inner.split_at(old);
        inner.split_at(old + keep);
        inner.split_at(old_end);
        let moved = inner.frames_in(old, old + keep);
        let mut moved_vma = vma.clone();
        if let Backing::File { offset, .. } = &mut moved_vma.backing {
            *offset += old - vma.start;
        }
        moved_vma.start = dest;
        moved_vma.end = dest + keep;
        // Drop the old range from the maps without freeing the moved frames.
        let old_frames = inner.remove_range(old, old_end);
        for (addr, frame, pages) in &moved {
            let at = dest + (addr - old);
            ops.push(HostOp::map(
                at,
                pages * PAGE_SIZE,
                host_prot(vma.prot),
                *frame,
            ));
            inner.extents.insert(
                at,
                Extent {
                    frame: *frame,
                    pages: *pages,
                },
            );
        }
        ops.push(HostOp::unmap(old, old_len));
        let is_file = moved_vma.is_file();
        inner.vmas.insert(dest, moved_vma.clone());
        // Frames of the old range beyond what moved (shrinking move) go.
        for (f, n) in old_frames {
            let kept = moved.iter().any(|&(_, mf, mn)| mf <= f && f + n <= mf + mn);
            if !kept {
                freed.push((f, n));
            }
        }
        if new_len > keep {
            let mut tail = moved_vma.clone();
            tail.start = dest + keep;
            tail.end = dest + new_len;
            if let Backing::File { offset, .. } = &mut tail.backing {
                *offset += keep;
            }
            self.install(&mut inner, tail, &mut ops)?;
        }
        inner.merge_at(dest);
        inner.merge_at(dest + keep);
        inner.merge_at(dest + new_len);
        self.apply(mmu, &ops)?;
        if is_file {
            self.register_file_range(dest, dest + new_len);
        }
        drop(inner);
        self.release(freed);
        Ok(dest)
    }

    /// `madvise(2)`: `MADV_DONTNEED` really drops private pages (anonymous
    /// ones read back as zeroes, file ones are read from the file again);
    /// the other known advice values are accepted and ignored.
    pub fn madvise(&self, addr: u64, len: u64, advice: u64) -> SysResult<()> {
        if !addr.is_multiple_of(PAGE_SIZE) {
            return sys_err!(EINVAL, "madvise: unaligned address");
        }
        let Some(end) = page_up(len).and_then(|l| addr.checked_add(l)) else {
            return sys_err!(EINVAL, "madvise range overflows");
        };
        let known = [
            MADV_NORMAL,
            MADV_RANDOM,
            MADV_SEQUENTIAL,
            MADV_WILLNEED,
            MADV_DONTNEED,
            MADV_FREE,
            MADV_REMOVE,
            MADV_DONTFORK,
            MADV_DOFORK,
            MADV_MERGEABLE,
            MADV_UNMERGEABLE,
            MADV_HUGEPAGE,
            MADV_NOHUGEPAGE,
            MADV_DONTDUMP,
            MADV_DODUMP,
        ];
        if !known.contains(&advice) {
            return sys_err!(EINVAL, "madvise: unsupported advice");
        }
        let inner = self.inner.lock();
        if !inner.fully_mapped(addr, end) {
            return sys_err!(ENOMEM, "madvise range not fully mapped");
        }
        if advice != MADV_DONTNEED && advice != MADV_FREE {
            return Ok(());
        }
        let mut at = addr;
        while at < end {
            let Some(v) = inner.vma_at(at).cloned() else {
                break;
            };
            let (a, b) = (at, v.end.min(end));
            // A direct file mapping is read-only: nothing to drop.
            if !v.shared && !v.direct {
                for (_, frame, pages) in inner.frames_in(a, b) {
                    // A frame shared with another address space (after fork)
                    // must not be zeroed under it: those pages keep their
                    // contents (allowed for MADV_FREE, a gap for DONTNEED).
                    if !self.memory.any_shared(frame, pages) {
                        self.memory.punch(frame, pages);
                        if v.is_file() {
                            self.memory.unfilled().insert(frame, frame + pages);
                        }
                    }
                }
                // A COW break's remap left part of a file VMA unregistered;
                // the dropped pages must fault into umk again.
                if v.is_file() {
                    if let Some(u) = self.uffd.get() {
                        let _ = u.register(a, b - a, register_mode(&v));
                    }
                }
            }
            at = b;
        }
        Ok(())
    }

    /// `msync(2)`: guest memory is umk's own, so there is nothing to write
    /// back; the arguments are checked as Linux checks them.
    pub fn msync(&self, addr: u64, len: u64, flags: u64) -> SysResult<()> {
        if !addr.is_multiple_of(PAGE_SIZE)
            || flags & !(MS_ASYNC | MS_INVALIDATE | MS_SYNC) != 0
            || flags & (MS_ASYNC | MS_SYNC) == (MS_ASYNC | MS_SYNC)
        {
            return sys_err!(EINVAL, "msync: bad address or flags");
        }
        let Some(end) = page_up(len).and_then(|l| addr.checked_add(l)) else {
            return sys_err!(ENOMEM, "msync range overflows");
        };
        if !self.inner.lock().fully_mapped(addr, end) {
            return sys_err!(ENOMEM, "msync range not fully mapped");
        }
        Ok(())
    }

    /// `mincore(2)`: one byte per page, bit 0 set when the page is resident
    /// (asked of the host for the frame behind it).
    pub fn mincore(&self, addr: u64, len: u64) -> SysResult<Vec<u8>> {
        if !addr.is_multiple_of(PAGE_SIZE) {
            return sys_err!(EINVAL, "mincore: unaligned address");
        }
        let Some(end) = page_up(len).and_then(|l| addr.checked_add(l)) else {
            return sys_err!(ENOMEM, "mincore range overflows");
        };
        let inner = self.inner.lock();
        if end > inner.layout.task_size || !inner.fully_mapped(addr, end) {
            return sys_err!(ENOMEM, "mincore range not fully mapped");
        }
        let mut out = vec![0u8; ((end - addr) / PAGE_SIZE) as usize];
        // Direct file pages: the host's page cache; reported resident.
        for (_, v) in inner
            .vmas
            .range(..end)
            .rev()
            .take_while(|(_, v)| v.end > addr)
        {
            if v.direct {
                let (a, b) = (v.start.max(addr), v.end.min(end));
                let i = ((a - addr) / PAGE_SIZE) as usize;
                out[i..i + ((b - a) / PAGE_SIZE) as usize].fill(1);
            }
        }
        for (a, frame, pages) in inner.frames_in(addr, end) {
            let i = ((a - addr) / PAGE_SIZE) as usize;
            let dst = &mut out[i..i + pages as usize];
            // SAFETY: the frames lie inside umk's mapping of the memfd and
            // `dst` has one byte per page, as mincore requires.
            let r = unsafe {
                libc::mincore(
                    self.memory.frame_ptr(frame, 0).cast(),
                    (pages * PAGE_SIZE) as usize,
                    dst.as_mut_ptr(),
                )
            };
            if r != 0 {
                dst.fill(0);
            }
            for b in dst.iter_mut() {
                *b &= 1;
            }
        }
        Ok(out)
    }

    /// Reads file contents into the unfilled frames among the pages
    /// `[start, end)` of `vma`. Returns the runs of pages it filled.
    fn fill(&self, inner: &Inner, vma: &Vma, start: u64, end: u64) -> Vec<(u64, u64)> {
        let Backing::File {
            file,
            offset,
            file_end,
        } = &vma.backing
        else {
            return Vec::new();
        };
        let mut filled = Vec::new();
        let mut unfilled = self.memory.unfilled();
        for (addr, frame, pages) in inner.frames_in(start, end) {
            for (fs, fe) in unfilled.intersect(frame, frame + pages) {
                let page_addr = addr + (fs - frame) * PAGE_SIZE;
                let n = fe - fs;
                let file_off = offset + (page_addr - vma.start);
                let want = (n * PAGE_SIZE).min(file_end.saturating_sub(file_off));
                let got = if want > 0 {
                    self.memory
                        .fill_from_file(file.fd(), file_off, fs, want)
                        .unwrap_or(0)
                } else {
                    0
                };
                // Pages the file did not reach must exist too, as zeroes, so
                // that UFFDIO_CONTINUE can map them.
                let full = got / PAGE_SIZE;
                let partial = u64::from(!got.is_multiple_of(PAGE_SIZE));
                if full + partial < n {
                    let _ = self
                        .memory
                        .materialize(fs + full + partial, n - full - partial);
                }
                filled.push((page_addr, page_addr + n * PAGE_SIZE));
            }
            unfilled.remove(frame, frame + pages);
        }
        filled
    }

    /// Resolves a page fault of the stub (called by the fault thread).
    pub fn fault(&self, f: uffd::Fault) {
        let Some(u) = self.uffd.get() else { return };
        log::debug(|| {
            format!(
                "mm: fault {:#x} minor={} write={} wp={}",
                f.addr, f.minor, f.write, f.wp
            )
        });
        let page = page_down(f.addr);
        if f.wp {
            self.wp_fault(u, page);
            return;
        }
        let inner = self.inner.lock();
        let Some(vma) = inner.vma_at(page).cloned() else {
            // Unmapped meanwhile: let the thread retry and take its SIGSEGV.
            let _ = u.wake(page, PAGE_SIZE);
            return;
        };
        let c = FAULT_CLUSTER * PAGE_SIZE;
        let lo = (page / c * c).max(vma.start);
        let hi = (lo + c).min(vma.end);
        let filled = self.fill(&inner, &vma, lo, hi);
        // Frames shared after fork must come in write-protected.
        let wp = !vma.shared && self.any_shared(&inner, lo, hi);
        let mut done = false;
        for (s, e) in filled {
            let ok = match u.continue_range_wp(s, e - s, wp) {
                Ok(ok) => ok,
                Err(err) => {
                    log::debug(|| format!("mm: CONTINUE {s:#x}..{e:#x}: {err}"));
                    false
                }
            };
            if ok && s <= page && page < e {
                done = true;
            }
        }
        if !done {
            // Already filled earlier (a minor fault), or lost a race.
            if !matches!(u.continue_range(page, PAGE_SIZE), Ok(true)) {
                let _ = u.wake(page, PAGE_SIZE);
            }
        }
        drop(inner);
    }

    /// Walks guest `[addr, addr+len)` page by page for an access by umk on
    /// the guest's behalf, checking permissions as the kernel's
    /// `copy_{from,to}_user` would, and calls `f(ptr, n, done)` for each
    /// chunk. Any byte that is unmapped or not accessible fails the whole
    /// access with EFAULT before `f` runs.
    fn access(
        &self,
        addr: u64,
        len: usize,
        write: bool,
        mut f: impl FnMut(*mut u8, usize, usize),
    ) -> SysResult<()> {
        if len == 0 {
            return Ok(());
        }
        let end = addr.checked_add(len as u64).ok_or(EFAULT)?;
        let mut inner = self.inner.lock();
        if end > inner.layout.task_size {
            return Err(EFAULT);
        }
        // Check the whole range first, filling file pages on the way.
        let mut at = addr;
        while at < end {
            let v = inner.vma_at(at).ok_or(EFAULT)?;
            let ok = if write { v.writable() } else { v.readable() };
            if !ok {
                return Err(EFAULT);
            }
            let b = v.end.min(end);
            // A direct mapping has no page past the end of its file (SIGBUS
            // in the guest): the copy below fails there with EFAULT, as a
            // kernel copy would.
            if v.is_file() && !v.direct {
                let v = v.clone();
                let lo = page_down(at);
                let c = FAULT_CLUSTER * PAGE_SIZE;
                let hi = page_up(b).unwrap_or(b).max(lo + c).min(v.end);
                self.fill(&inner, &v, lo, hi);
            }
            at = b;
        }
        // A write must first give this address space its own copy of shared
        // frames, as the stub's write-protect fault would.
        if write && self.any_shared(&inner, addr, end) {
            self.unshare_for_write(&mut inner, addr, end)?;
        }
        let mut done = 0usize;
        let mut at = addr;
        let mut page_buf: Option<Box<[u8; PAGE_SIZE as usize]>> = None;
        while at < end {
            let page = page_down(at);
            let off = at - page;
            let n = ((PAGE_SIZE - off).min(end - at)) as usize;
            match inner.frame_of(page) {
                Some(frame) => f(self.memory.frame_ptr(frame, off), n, done),
                None => {
                    // A direct file mapping (read-only: `write` was refused
                    // above): the page comes from the file.
                    let v = inner.vma_at(page).filter(|v| v.direct).ok_or(EFAULT)?;
                    let buf = page_buf.get_or_insert_with(|| Box::new([0; PAGE_SIZE as usize]));
                    read_file_page(v, page, &mut buf[..])?;
                    f(buf[off as usize..].as_mut_ptr(), n, done);
                }
            }
            done += n;
            at += n as u64;
        }
        Ok(())
    }

    /// For an address inside a `MAP_SHARED` mapping: its frame and offset
    /// (the futex key of memory shared between processes).
    pub fn shared_frame(&self, addr: u64) -> Option<(Frame, u64)> {
        let inner = self.inner.lock();
        let v = inner.vma_at(addr)?;
        if !v.shared {
            return None;
        }
        let page = page_down(addr);
        Some((inner.frame_of(page)?, addr - page))
    }

    /// Breaks COW on every shared private page of `[addr, end)` (all
    /// mapped and writable: `access` checked).
    fn unshare_for_write(&self, inner: &mut Inner, addr: u64, end: u64) -> SysResult<()> {
        let mut page = page_down(addr);
        while page < end {
            let Some(v) = inner.vma_at(page).cloned() else {
                return Err(EFAULT);
            };
            let shared = !v.shared
                && inner
                    .frame_of(page)
                    .is_some_and(|f| self.memory.refcount(f) > 1);
            if shared {
                let (lo, hi) = self.cow_chunk(inner, &v, page);
                self.break_cow(inner, &v, lo, hi)?;
                page = hi;
            } else {
                page += PAGE_SIZE;
            }
        }
        Ok(())
    }

    /// Copies guest memory at `addr` into `buf`.
    pub fn read(&self, addr: u64, buf: &mut [u8]) -> SysResult<()> {
        let dst = buf.as_mut_ptr();
        self.access(addr, buf.len(), false, |src, n, done| {
            // SAFETY: `src` points at `n` bytes inside umk's mapping of the
            // frames (checked by `access`); `dst + done .. + n` lies inside
            // `buf`. The guest may write the source concurrently: the copy
            // then sees some mix of old and new bytes, as a kernel's would.
            unsafe { std::ptr::copy_nonoverlapping(src, dst.add(done), n) }
        })
    }

    /// Copies `data` into guest memory at `addr`.
    pub fn write(&self, addr: u64, data: &[u8]) -> SysResult<()> {
        let src = data.as_ptr();
        self.access(addr, data.len(), true, |dst, n, done| {
            // SAFETY: as in `read`, with the roles of the buffers swapped.
            unsafe { std::ptr::copy_nonoverlapping(src.add(done), dst, n) }
        })
    }

    /// Atomically replaces the aligned `u32` at `addr` with `f(old)` and
    /// returns `old`: a compare-and-swap loop on umk's own mapping of the
    /// frame, so guest atomics on the same word (other vCPUs) stay
    /// coherent (FUTEX_WAKE_OP, robust-list owner-died marking). `addr`
    /// must be 4-byte aligned (callers check: EINVAL).
    pub fn update_u32(&self, addr: u64, f: impl Fn(u32) -> u32) -> SysResult<u32> {
        use std::sync::atomic::{AtomicU32, Ordering};
        debug_assert_eq!(addr % 4, 0);
        let mut old = 0;
        self.access(addr, 4, true, |p, n, _| {
            debug_assert_eq!(n, 4);
            // SAFETY: `p` points at 4 writable bytes inside umk's mapping
            // of a frame (checked by `access`; an aligned word never
            // crosses a page), aligned to 4 like every AtomicU32.
            let word = unsafe { &*(p as *const AtomicU32) };
            let mut cur = word.load(Ordering::SeqCst);
            loop {
                match word.compare_exchange(cur, f(cur), Ordering::SeqCst, Ordering::SeqCst) {
                    Ok(_) => break,
                    Err(now) => cur = now,
                }
            }
            old = cur;
        })?;
        Ok(old)
    }

    /// Reads a NUL-terminated string of at most `max` bytes (without the
    /// NUL). `ENAMETOOLONG` if no NUL comes within `max` bytes.
    pub fn read_cstr(&self, addr: u64, max: usize) -> SysResult<Vec<u8>> {
        let mut out = Vec::new();
        let mut at = addr;
        // Most strings are short (paths, environment entries): read a small
        // piece first and larger ones after, never past the page's end (the
        // next page may not be mapped).
        let mut want = 128usize;
        let mut buf = Vec::new();
        loop {
            let chunk = ((PAGE_SIZE - at % PAGE_SIZE) as usize).min(want);
            want = want.saturating_mul(4);
            buf.clear();
            buf.resize(chunk, 0);
            self.read(at, &mut buf)?;
            if let Some(i) = buf.iter().position(|&b| b == 0) {
                out.extend_from_slice(&buf[..i]);
                if out.len() > max {
                    return sys_err!(ENAMETOOLONG, "string too long");
                }
                return Ok(out);
            }
            out.extend_from_slice(&buf);
            if out.len() > max {
                return sys_err!(ENAMETOOLONG, "string too long");
            }
            at = at.checked_add(chunk as u64).ok_or(EFAULT)?;
        }
    }

    /// How many bytes from `addr` on (at most `len`) are mapped with read (or
    /// write) access: the prefix a partially valid buffer offers.
    pub fn accessible_len(&self, addr: u64, len: u64, write: bool) -> u64 {
        let inner = self.inner.lock();
        let end = addr.saturating_add(len).min(inner.layout.task_size);
        let mut at = addr;
        while at < end {
            match inner.vma_at(at) {
                Some(v) if (if write { v.writable() } else { v.readable() }) => at = v.end,
                _ => break,
            }
        }
        at.min(end).saturating_sub(addr)
    }

    /// Whether `[addr, addr+len)` is mapped with read (or write) access.
    pub fn check(&self, addr: u64, len: u64, write: bool) -> bool {
        self.access(addr, len as usize, write, |_, _, _| {}).is_ok()
    }

    /// A snapshot of the VMAs (for `/proc/PID/maps` and tests).
    pub fn vmas(&self) -> Vec<Vma> {
        self.inner.lock().vmas.values().cloned().collect()
    }

    /// Empties the address space in place for execve(2) when its stub is
    /// kept (the caller is its only user): everything is unmapped in the
    /// stub (which also drops every userfaultfd registration), the frames
    /// are released, and the layout becomes `layout`.
    pub fn reset(&self, mmu: &mut dyn HostMmu, layout: Layout) -> SysResult<()> {
        let mut inner = self.inner.lock();
        self.apply(mmu, &[HostOp::unmap(0, inner.layout.task_size)])?;
        inner.vmas.clear();
        let freed: Vec<(Frame, u64)> = inner.extents.values().map(|e| (e.frame, e.pages)).collect();
        inner.extents.clear();
        inner.layout = layout;
        inner.brk_start = 0;
        inner.brk = 0;
        drop(inner);
        self.memory.release_async(&freed);
        Ok(())
    }

    /// Unmaps everything (exec and exit): frames are released once the
    /// stub is gone or has unmapped them.
    pub fn clear(&self) -> Vec<(Frame, u64)> {
        let mut inner = self.inner.lock();
        inner.vmas.clear();
        let freed = inner.extents.values().map(|e| (e.frame, e.pages)).collect();
        inner.extents.clear();
        freed
    }
}

/// Reads guest page `page` of direct file mapping `v` from the file into
/// `buf` (one page); the part past the end of the file reads as zeroes.
fn read_file_page(v: &Vma, page: u64, buf: &mut [u8]) -> SysResult<()> {
    let Backing::File { file, offset, .. } = &v.backing else {
        return Err(EFAULT);
    };
    let mut pos = offset + (page - v.start);
    let mut got = 0;
    while got < buf.len() {
        match nix::sys::uio::pread(file.fd(), &mut buf[got..], pos as i64) {
            Ok(0) => break,
            Ok(k) => {
                got += k;
                pos += k as u64;
            }
            Err(nix::errno::Errno::EINTR) => {}
            Err(_) => return Err(EFAULT),
        }
    }
    if got == 0 {
        return Err(EFAULT);
    }
    buf[got..].fill(0);
    Ok(())
}

/// Host operations that map direct file VMA `v` in the stub.
fn direct_map_ops(v: &Vma) -> [HostOp; 3] {
    let (fd, offset) = match &v.backing {
        Backing::File { file, offset, .. } => (file.fd().as_raw_fd(), *offset),
        Backing::Anon => (-1, 0),
    };
    HostOp::map_file(v.start, v.len(), host_prot(v.prot), fd, offset)
}

/// The userfaultfd modes a VMA is registered with once its frames may be
/// shared: lazy file loading, and write protection for private ones.
fn register_mode(v: &Vma) -> u64 {
    let file = if v.is_file() {
        uffd::MODE_MISSING | uffd::MODE_MINOR
    } else {
        0
    };
    let wp = if v.shared { 0 } else { uffd::MODE_WP };
    file | wp
}

/// The registration of a VMA whose frames are shared after fork: private
/// writable ranges (anonymous, or file ranges `fork` loaded completely) are
/// registered for write protection only; read-only private file ranges keep
/// lazy loading (a write needs `mprotect` first, which unshares them);
/// shared ranges are not protected.
fn forked_mode(v: &Vma) -> u64 {
    let lazy = uffd::MODE_MISSING | uffd::MODE_MINOR;
    match (v.shared, v.is_file(), v.writable()) {
        (true, true, _) => lazy,
        (true, false, _) => 0,
        (false, true, false) => lazy,
        (false, _, true) | (false, false, false) => uffd::MODE_WP,
    }
}

impl Drop for AddressSpace {
    fn drop(&mut self) {
        // The stub must not map the frames any more (emptied for reuse, or
        // killed) before they can go to anyone else.
        let uffd = self.uffd.take();
        if let Some(stub) = self.stub.take() {
            stub.retire(uffd, self.inner.get_mut().layout.task_size);
        }
        let freed = self.clear();
        self.memory.release_async(&freed);
    }
}

use crate::log;
