//! Physical memory: frames in one memfd, mapped whole in umk.
//!
//! A frame number `f` is the page at byte offset `f * PAGE_SIZE` of the memfd.
//! Stubs map frame runs into guest address spaces with
//! `mmap(MAP_SHARED|MAP_FIXED, memfd, f * PAGE_SIZE)`; umk reads and writes
//! them through its own mapping (`MmapRaw`: guests write the same memory
//! concurrently, so no `&mut [u8]` is ever formed over it).
//!
//! The allocator hands out *runs* of consecutive frames, best fit, with free
//! runs coalesced ([`RunAllocator`]). Why not the seeds' buddy system: guest
//! mappings come in arbitrary page counts, and what matters here is that a
//! guest range gets one contiguous run (so the stub needs one host mapping for
//! it, and neighbouring pages stay on neighbouring frames) and that a run can
//! grow in place (brk, mremap). A buddy allocator rounds to powers of two and
//! cannot extend a block by an arbitrary length; a best-fit run allocator over
//! ordered maps does both in O(log n) and never splits a request.
//!
//! The memfd is sparse: an allocated frame costs no memory until someone
//! touches it. Freed runs are returned to the host with
//! `fallocate(PUNCH_HOLE)`.
//!
//! Reference counts: an allocated frame has an implicit count of 1; only
//! frames shared by several mappings (copy-on-write after fork) carry an
//! explicit count, in a side table, so the common path stores nothing. The
//! table holds *runs* of frames with the same count ([`RefCounts`]): a fork
//! shares whole extents, so sharing an 8 MiB stack is one entry, not 2048.

use std::collections::{BTreeMap, BTreeSet};
use std::os::fd::{AsFd, AsRawFd, BorrowedFd, OwnedFd};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, OnceLock};

use crossbeam_channel::{unbounded, Sender};

use memmap2::MmapRaw;
use parking_lot::{Mutex, MutexGuard};

use super::rangeset::RangeSet;

pub const PAGE_SIZE: u64 = 4096;
pub const PAGE_SHIFT: u32 = 12;

/// Frame number (page index into the memfd).
pub type Frame = u64;

/// Runs of frames: (first frame, count).
type FrameRuns = Vec<(Frame, u64)>;

#[derive(Debug, thiserror::Error)]
pub enum FrameError {
    #[error("creating the frames memfd: {0}")]
    Create(std::io::Error),
    #[error("out of guest physical memory ({0} pages requested)")]
    OutOfMemory(u64),
}

/// Best-fit allocator of runs of consecutive frames, with coalescing.
#[derive(Debug, Default)]
pub struct RunAllocator {
    /// Free runs by start frame → length.
    by_start: BTreeMap<Frame, u64>,
    /// Free runs ordered by (length, start), for best fit.
    by_len: BTreeSet<(u64, Frame)>,
    free_pages: u64,
}

impl RunAllocator {
    pub fn new(total: u64) -> Self {
        let mut a = RunAllocator::default();
        if total > 0 {
            a.insert_free(0, total);
        }
        a
    }

    fn insert_free(&mut self, start: Frame, len: u64) {
        self.by_start.insert(start, len);
        self.by_len.insert((len, start));
        self.free_pages += len;
    }

    fn remove_free(&mut self, start: Frame, len: u64) {
        self.by_start.remove(&start);
        self.by_len.remove(&(len, start));
        self.free_pages -= len;
    }

    pub fn free_pages(&self) -> u64 {
        self.free_pages
    }

    /// Allocates `n` consecutive frames: the smallest free run that fits.
    pub fn alloc(&mut self, n: u64) -> Option<Frame> {
        if n == 0 {
            return None;
        }
        let &(len, start) = self.by_len.range((n, 0)..).next()?;
        self.remove_free(start, len);
        if len > n {
            self.insert_free(start + n, len - n);
        }
        Some(start)
    }

    /// Allocates exactly `[start, start+n)` if all of it is free (used to grow
    /// a run in place).
    pub fn alloc_at(&mut self, start: Frame, n: u64) -> bool {
        let Some((&s, &len)) = self.by_start.range(..=start).next_back() else {
            return false;
        };
        if s + len < start + n {
            return false;
        }
        self.remove_free(s, len);
        if start > s {
            self.insert_free(s, start - s);
        }
        if s + len > start + n {
            self.insert_free(start + n, s + len - (start + n));
        }
        true
    }

    /// Returns `[start, start+n)` to the free pool, merging with neighbours.
    pub fn free(&mut self, start: Frame, n: u64) {
        if n == 0 {
            return;
        }
        let (mut s, mut len) = (start, n);
        if let Some((&ps, &pl)) = self.by_start.range(..start).next_back() {
            debug_assert!(ps + pl <= start, "double free of frames {start}..+{n}");
            if ps + pl == start {
                self.remove_free(ps, pl);
                s = ps;
                len += pl;
            }
        }
        if let Some(&nl) = self.by_start.get(&(start + n)) {
            self.remove_free(start + n, nl);
            len += nl;
        }
        self.insert_free(s, len);
    }
}

/// Explicit reference counts (≥ 2) of runs of frames: start → (end, count),
/// disjoint runs; frames in no run have count 1 (or are free).
#[derive(Debug, Default)]
pub struct RefCounts {
    runs: BTreeMap<Frame, (Frame, u32)>,
}

impl RefCounts {
    pub fn is_empty(&self) -> bool {
        self.runs.is_empty()
    }

    /// Splits the run containing `at` so that `at` starts a run.
    fn split_at(&mut self, at: Frame) {
        if let Some((&s, &(e, c))) = self.runs.range(..at).next_back() {
            if at < e {
                self.runs.insert(s, (at, c));
                self.runs.insert(at, (e, c));
            }
        }
    }

    /// Merges neighbouring runs with equal counts around `[start, end]`.
    fn merge_around(&mut self, start: Frame, end: Frame) {
        let first = self
            .runs
            .range(..start)
            .next_back()
            .map_or(start, |(&s, _)| s);
        let keys: Vec<Frame> = self.runs.range(first..=end).map(|(&k, _)| k).collect();
        let mut prev: Option<Frame> = None;
        for k in keys {
            let Some(&(e, c)) = self.runs.get(&k) else {
                continue;
            };
            if let Some(p) = prev {
                if let Some(&(pe, pc)) = self.runs.get(&p) {
                    if pe == k && pc == c {
                        self.runs.remove(&k);
                        self.runs.insert(p, (e, c));
                        continue;
                    }
                }
            }
            prev = Some(k);
        }
    }

    /// Splits runs at `start` and `end`; returns the runs (start, end,
    /// count) that lie inside.
    fn isolate(&mut self, start: Frame, end: Frame) -> Vec<(Frame, Frame, u32)> {
        self.split_at(start);
        self.split_at(end);
        self.runs
            .range(start..end)
            .map(|(&s, &(e, c))| (s, e, c))
            .collect()
    }

    /// Adds a reference to every frame of `[start, end)`.
    pub fn share(&mut self, start: Frame, end: Frame) {
        if start >= end {
            return;
        }
        let inside = self.isolate(start, end);
        let mut at = start;
        for (s, e, c) in inside {
            if at < s {
                self.runs.insert(at, (s, 2));
            }
            self.runs.insert(s, (e, c + 1));
            at = e;
        }
        if at < end {
            self.runs.insert(at, (end, 2));
        }
        self.merge_around(start, end);
    }

    /// Drops a reference to every frame of `[start, end)`; returns the runs
    /// whose count reached zero (frames that were not shared).
    pub fn release(&mut self, start: Frame, end: Frame) -> Vec<(Frame, u64)> {
        let mut free = Vec::new();
        if start >= end {
            return free;
        }
        if self.runs.is_empty() {
            free.push((start, end - start));
            return free;
        }
        let inside = self.isolate(start, end);
        let mut at = start;
        for (s, e, c) in inside {
            if at < s {
                free.push((at, s - at));
            }
            if c > 2 {
                self.runs.insert(s, (e, c - 1));
            } else {
                self.runs.remove(&s);
            }
            at = e;
        }
        if at < end {
            free.push((at, end - at));
        }
        self.merge_around(start, end);
        free
    }

    /// Whether any frame of `[start, end)` has a count ≥ 2.
    pub fn any(&self, start: Frame, end: Frame) -> bool {
        if let Some((_, &(e, _))) = self.runs.range(..=start).next_back() {
            if start < e {
                return true;
            }
        }
        self.runs.range(start..end).next().is_some()
    }

    /// The count of frame `f` (1 if it has no explicit count).
    pub fn get(&self, f: Frame) -> u32 {
        match self.runs.range(..=f).next_back() {
            Some((_, &(e, c))) if f < e => c,
            _ => 1,
        }
    }
}

/// Guest physical memory: the memfd, umk's view of it, the allocator.
pub struct Memory {
    memfd: OwnedFd,
    view: MmapRaw,
    total_pages: u64,
    alloc: Mutex<RunAllocator>,
    /// Explicit reference counts of shared frames (count ≥ 2).
    shared: Mutex<RefCounts>,
    /// Frames of private file mappings whose contents have not been read
    /// from the file yet (demand paging; see `space.rs`).
    unfilled: Mutex<RangeSet>,
    /// The freer thread's queue ([`Memory::release_later`]).
    freer: OnceLock<Option<Sender<FrameRuns>>>,
    /// Set once `copy_file_range` into the memfd has failed as
    /// unsupported (a file on another file system type): not tried again.
    no_copy_range: AtomicBool,
}

impl std::fmt::Debug for Memory {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Memory")
            .field("total_pages", &self.total_pages)
            .finish()
    }
}

impl Memory {
    /// Creates a sparse memfd of `bytes` and maps it whole.
    pub fn new(bytes: u64) -> Result<Memory, FrameError> {
        let memfd =
            nix::sys::memfd::memfd_create(c"umk-frames", nix::sys::memfd::MFdFlags::MFD_CLOEXEC)
                .map_err(|e| FrameError::Create(e.into()))?;
        nix::unistd::ftruncate(&memfd, bytes as i64).map_err(|e| FrameError::Create(e.into()))?;
        let view = memmap2::MmapOptions::new()
            .len(bytes as usize)
            .map_raw(&memfd)
            .map_err(FrameError::Create)?;
        let total_pages = bytes / PAGE_SIZE;
        Ok(Memory {
            memfd,
            view,
            total_pages,
            alloc: Mutex::new(RunAllocator::new(total_pages)),
            shared: Mutex::new(RefCounts::default()),
            unfilled: Mutex::new(RangeSet::default()),
            freer: OnceLock::new(),
            no_copy_range: AtomicBool::new(false),
        })
    }

    pub fn fd(&self) -> BorrowedFd<'_> {
        self.memfd.as_fd()
    }

    pub fn total_pages(&self) -> u64 {
        self.total_pages
    }

    pub fn free_pages(&self) -> u64 {
        self.alloc.lock().free_pages()
    }

    /// Allocates a run of `n` frames (each with reference count 1).
    pub fn alloc(&self, n: u64) -> Result<Frame, FrameError> {
        self.alloc.lock().alloc(n).ok_or(FrameError::OutOfMemory(n))
    }

    /// Extends a run in place: allocates `[start, start+n)` if free.
    pub fn alloc_at(&self, start: Frame, n: u64) -> bool {
        start + n <= self.total_pages && self.alloc.lock().alloc_at(start, n)
    }

    /// Adds a reference to each frame of `[start, start+n)`.
    pub fn share(&self, start: Frame, n: u64) {
        self.shared.lock().share(start, start + n);
    }

    /// Whether any frame at all is shared (false until the first fork).
    pub fn has_shared(&self) -> bool {
        !self.shared.lock().is_empty()
    }

    /// Whether any frame of `[start, start+n)` has more than one reference
    /// (one lock, and nothing to look at before the first fork).
    pub fn any_shared(&self, start: Frame, n: u64) -> bool {
        self.shared.lock().any(start, start + n)
    }

    /// The reference count of frame `f` (1 for an unshared allocated frame).
    pub fn refcount(&self, f: Frame) -> u32 {
        self.shared.lock().get(f)
    }

    /// Drops a reference to each frame of `[start, start+n)`; frames whose
    /// count reaches zero are freed and their memory returned to the host.
    pub fn release(&self, start: Frame, n: u64) {
        let to_free = self.shared.lock().release(start, start + n);
        self.free_runs(to_free);
    }

    /// As [`Memory::release`] for several runs, but when that frees more
    /// than a few runs, their memory is returned to the host by the *freer*
    /// thread: a hole punch costs a few µs per run (it also zaps umk's
    /// view), and an exec or exit frees a dozen runs. A small release (one
    /// `munmap`) is cheaper done here than handed over. Reference counts drop
    /// at once; the frames become allocatable again only once punched.
    pub fn release_later(self: &Arc<Self>, runs: &[(Frame, u64)]) {
        let to_free = self.drop_refs(runs);
        if to_free.len() <= 2 {
            self.free_runs(to_free);
            return;
        }
        self.to_freer(to_free);
    }

    /// As [`Memory::release_later`], but the freer thread always returns
    /// the memory: for an address space emptied by exec, whose new program
    /// waits for nothing of it.
    pub fn release_async(self: &Arc<Self>, runs: &[(Frame, u64)]) {
        let to_free = self.drop_refs(runs);
        if !to_free.is_empty() {
            self.to_freer(to_free);
        }
    }

    /// Lowers the counts of `runs`; returns the runs no one holds any more.
    fn drop_refs(&self, runs: &[(Frame, u64)]) -> FrameRuns {
        let mut shared = self.shared.lock();
        runs.iter()
            .flat_map(|&(s, n)| shared.release(s, s + n))
            .collect()
    }

    /// Hands `to_free` to the freer thread (started on first use), or frees
    /// it here if there is none.
    fn to_freer(self: &Arc<Self>, to_free: FrameRuns) {
        let tx = self.freer.get_or_init(|| {
            let (tx, rx) = unbounded::<FrameRuns>();
            let me = Arc::downgrade(self);
            let started = std::thread::Builder::new()
                .name("umk-freer".into())
                .spawn(move || {
                    crate::hostsched::set_idle(0, true);
                    for runs in rx {
                        match me.upgrade() {
                            Some(m) => m.free_runs(runs),
                            None => return,
                        }
                    }
                });
            started.ok().map(|_| tx)
        });
        match tx {
            Some(tx) => {
                if let Err(e) = tx.send(to_free) {
                    self.free_runs(e.into_inner());
                }
            }
            None => self.free_runs(to_free),
        }
    }

    fn free_runs(&self, runs: Vec<(Frame, u64)>) {
        for (s, l) in runs {
            self.unfilled.lock().remove(s, s + l);
            self.punch(s, l);
            self.alloc.lock().free(s, l);
        }
    }

    /// Copies frames `[src, src+n)` into `[dst, dst+n)`. Only pages that
    /// exist in the memfd are copied (`SEEK_DATA`); holes stay holes in the
    /// destination, which must be fresh (all holes). `pwrite` from umk's view
    /// of the source lets the kernel allocate and fill each destination page
    /// in one go: about twice as fast here as faulting the destination in
    /// through umk's view and `memcpy`.
    pub fn copy_frames(&self, src: Frame, dst: Frame, n: u64) {
        let start = src * PAGE_SIZE;
        for (data, stop) in self.data_extents(start, (src + n) * PAGE_SIZE) {
            self.copy_bytes(data, dst * PAGE_SIZE + (data - start), stop - data);
        }
    }

    /// Like [`Self::copy_frames`], for a caller that already knows which
    /// frames hold data: `data` are sorted runs of frames (as
    /// [`Self::data_runs`] returns); only their parts inside `[src, src+n)`
    /// are copied. Saves the `SEEK_DATA` walk, which takes the memfd's
    /// inode lock (shared with every `pwrite` and hole punch).
    pub fn copy_data_frames(&self, src: Frame, dst: Frame, n: u64, data: &[(Frame, Frame)]) {
        let first = data.partition_point(|&(_, e)| e <= src);
        for &(ds, de) in &data[first..] {
            if ds >= src + n {
                break;
            }
            let (lo, hi) = (ds.max(src), de.min(src + n));
            self.copy_bytes(
                lo * PAGE_SIZE,
                (dst + (lo - src)) * PAGE_SIZE,
                (hi - lo) * PAGE_SIZE,
            );
        }
    }

    /// Copies `len` bytes at memfd offset `from` to offset `to`.
    fn copy_bytes(&self, from: u64, to: u64, len: u64) {
        let fd = self.memfd.as_raw_fd();
        let mut done = 0;
        while done < len {
            // SAFETY: the source lies inside umk's mapping of the memfd
            // (frames from our allocator) for `len - done` bytes; pwrite
            // only reads it. Guests may write it concurrently (the copy
            // then holds some mix, as a copy by the kernel would).
            let w = unsafe {
                libc::pwrite(
                    fd,
                    self.view.as_ptr().add((from + done) as usize).cast(),
                    (len - done) as usize,
                    (to + done) as i64,
                )
            };
            if w <= 0 {
                if w < 0 && std::io::Error::last_os_error().raw_os_error() == Some(libc::EINTR) {
                    continue;
                }
                // Out of host memory: the rest reads as zeroes.
                crate::log::warn("mm: copying frames failed");
                return;
            }
            done += w as u64;
        }
    }

    /// The runs of frames in `[start, start+n)` that hold data in the memfd
    /// (`SEEK_DATA`/`SEEK_HOLE`); the rest are holes and read as zeroes.
    pub fn data_runs(&self, start: Frame, n: u64) -> Vec<(Frame, Frame)> {
        self.data_extents(start * PAGE_SIZE, (start + n) * PAGE_SIZE)
            .into_iter()
            .map(|(d, e)| (d / PAGE_SIZE, e.div_ceil(PAGE_SIZE)))
            .collect()
    }

    /// The byte ranges of `[start, end)` of the memfd that hold data
    /// (`SEEK_DATA` up to the next `SEEK_HOLE`, cut at `end`).
    fn data_extents(&self, start: u64, end: u64) -> Vec<(u64, u64)> {
        let fd = self.memfd.as_raw_fd();
        let mut at = start;
        let mut out = Vec::new();
        while at < end {
            // SAFETY: lseek on our own memfd; plain integers.
            let data = unsafe { libc::lseek(fd, at as i64, libc::SEEK_DATA) };
            if data < 0 || data as u64 >= end {
                break;
            }
            // SAFETY: as above.
            let hole = unsafe { libc::lseek(fd, data, libc::SEEK_HOLE) };
            let stop = if hole < 0 {
                end
            } else {
                (hole as u64).min(end)
            };
            out.push((data as u64, stop));
            at = stop;
        }
        out
    }

    /// The set of frames still waiting for their file contents.
    pub fn unfilled(&self) -> MutexGuard<'_, RangeSet> {
        self.unfilled.lock()
    }

    /// Returns the memory behind `[start, start+n)` to the host; the frames
    /// read as zeroes afterwards (`MADV_DONTNEED` on a private anonymous page).
    pub fn punch(&self, start: Frame, n: u64) {
        let r = nix::fcntl::fallocate(
            &self.memfd,
            nix::fcntl::FallocateFlags::FALLOC_FL_PUNCH_HOLE
                | nix::fcntl::FallocateFlags::FALLOC_FL_KEEP_SIZE,
            (start * PAGE_SIZE) as i64,
            (n * PAGE_SIZE) as i64,
        );
        debug_assert!(r.is_ok(), "punching frames {start}..+{n}: {r:?}");
    }

    /// umk's pointer to byte `off` within frame `f`.
    ///
    /// The pointer is valid for `PAGE_SIZE - off` bytes and for the lifetime
    /// of `self`; guests may write the memory concurrently.
    pub fn frame_ptr(&self, f: Frame, off: u64) -> *mut u8 {
        debug_assert!(f < self.total_pages && off < PAGE_SIZE);
        // SAFETY: `f < total_pages` (frames come from our allocator), so the
        // offset lies inside the mapping of `total_pages * PAGE_SIZE` bytes.
        unsafe { self.view.as_mut_ptr().add((f * PAGE_SIZE + off) as usize) }
    }

    /// Copies `len` bytes from the host file `fd` at `file_off` into the
    /// frames starting at `f` (kernel-side copy; falls back to read+write).
    /// Returns how many bytes the file supplied (short at end of file).
    pub fn fill_from_file(
        &self,
        fd: BorrowedFd<'_>,
        file_off: u64,
        f: Frame,
        len: u64,
    ) -> std::io::Result<u64> {
        if self.no_copy_range.load(Ordering::Relaxed) {
            return self.fill_by_copy(fd, file_off, f, 0, len);
        }
        let mut done = 0u64;
        while done < len {
            let mut src = (file_off + done) as i64;
            let mut dst = (f * PAGE_SIZE + done) as i64;
            // SAFETY: both descriptors are open for the duration of the call
            // and the offsets are plain integers passed by pointer.
            let n = unsafe {
                libc::copy_file_range(
                    fd.as_raw_fd(),
                    &mut src,
                    self.memfd.as_raw_fd(),
                    &mut dst,
                    (len - done) as usize,
                    0,
                )
            };
            if n < 0 {
                let e = std::io::Error::last_os_error();
                match e.raw_os_error() {
                    Some(libc::EXDEV | libc::EINVAL | libc::EOPNOTSUPP | libc::ENOSYS) => {
                        self.no_copy_range.store(true, Ordering::Relaxed);
                        return self
                            .fill_by_copy(fd, file_off + done, f, done, len - done)
                            .map(|m| done + m);
                    }
                    Some(libc::EINTR) => continue,
                    _ => return Err(e),
                }
            }
            if n == 0 {
                break;
            }
            done += n as u64;
        }
        Ok(done)
    }

    /// The fallback of [`Memory::fill_from_file`]: `pread` into a buffer,
    /// then `pwrite` into the memfd, which allocates and fills each page in
    /// one go (reading straight into umk's view would take a page fault per
    /// fresh frame first, about three times slower here).
    fn fill_by_copy(
        &self,
        fd: BorrowedFd<'_>,
        file_off: u64,
        f: Frame,
        skip: u64,
        len: u64,
    ) -> std::io::Result<u64> {
        const CHUNK: usize = 64 << 10;
        thread_local! {
            static BUF: std::cell::RefCell<Vec<u8>> = const { std::cell::RefCell::new(Vec::new()) };
        }
        BUF.with_borrow_mut(|buf| {
            buf.resize(CHUNK, 0);
            let mut done = 0u64;
            while done < len {
                let want = (len - done).min(CHUNK as u64) as usize;
                let got = match nix::sys::uio::pread(fd, &mut buf[..want], (file_off + done) as i64)
                {
                    Ok(0) => break,
                    Ok(n) => n,
                    Err(nix::errno::Errno::EINTR) => continue,
                    Err(e) => return Err(e.into()),
                };
                let mut put = 0;
                while put < got {
                    let at = f * PAGE_SIZE + skip + done + put as u64;
                    match nix::sys::uio::pwrite(&self.memfd, &buf[put..got], at as i64) {
                        Ok(0) => return Err(std::io::ErrorKind::WriteZero.into()),
                        Ok(n) => put += n,
                        Err(nix::errno::Errno::EINTR) => {}
                        Err(e) => return Err(e.into()),
                    }
                }
                done += got as u64;
            }
            Ok(done)
        })
    }

    /// Makes sure frames `[f, f+n)` exist in the memfd's page cache (zero
    /// pages where nothing was written), so that `UFFDIO_CONTINUE` can map
    /// them.
    pub fn materialize(&self, f: Frame, n: u64) -> std::io::Result<()> {
        nix::fcntl::fallocate(
            &self.memfd,
            nix::fcntl::FallocateFlags::FALLOC_FL_KEEP_SIZE,
            (f * PAGE_SIZE) as i64,
            (n * PAGE_SIZE) as i64,
        )
        .map_err(std::io::Error::from)
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    #[test]
    fn best_fit_and_coalescing() {
        let mut a = RunAllocator::new(100);
        let x = a.alloc(10).unwrap();
        let y = a.alloc(20).unwrap();
        let z = a.alloc(5).unwrap();
        assert_eq!((x, y, z), (0, 10, 30));
        a.free(y, 20);
        // A 4-page request fits best in the 20-page hole, not the 65-page tail.
        assert_eq!(a.alloc(4), Some(10));
        a.free(10, 4);
        a.free(x, 10);
        a.free(z, 5);
        assert_eq!(a.free_pages(), 100);
        assert_eq!(a.by_start.len(), 1, "all runs merged back into one");
    }

    #[test]
    fn grow_in_place() {
        let mut a = RunAllocator::new(64);
        let r = a.alloc(8).unwrap();
        assert!(a.alloc_at(r + 8, 8));
        let other = a.alloc(4).unwrap();
        assert_eq!(other, 16);
        assert!(!a.alloc_at(r + 16, 1), "taken by `other`");
        assert!(!a.alloc_at(60, 8), "runs past the end");
    }

    #[test]
    fn refcount_runs() {
        let mut r = RefCounts::default();
        r.share(10, 20);
        r.share(15, 30);
        assert_eq!(
            (
                r.get(9),
                r.get(10),
                r.get(15),
                r.get(19),
                r.get(20),
                r.get(30)
            ),
            (1, 2, 3, 3, 2, 1)
        );
        assert!(r.any(0, 11) && !r.any(0, 10) && !r.any(30, 40) && r.any(29, 40));
        // Frames 5..10 and 30..35 were not shared: they are freed.
        assert_eq!(r.release(5, 35), vec![(5, 5), (30, 5)]);
        assert_eq!((r.get(10), r.get(15), r.get(20)), (1, 2, 1));
        assert_eq!(r.release(10, 20), vec![(10, 5)]);
        assert!(r.is_empty());
        // Equal neighbours merge back into one run.
        r.share(0, 4);
        r.share(4, 8);
        assert_eq!(r.runs.len(), 1);
    }

    #[test]
    fn memory_refcounts_and_holes() {
        let m = Memory::new(64 * PAGE_SIZE).unwrap();
        let f = m.alloc(4).unwrap();
        // SAFETY: frame `f` is ours; writing one byte inside it.
        unsafe { *m.frame_ptr(f, 0) = 7 };
        m.share(f, 4);
        assert_eq!(m.refcount(f), 2);
        m.release(f, 4);
        assert_eq!(m.refcount(f), 1);
        assert_eq!(m.free_pages(), 60);
        m.release(f, 4);
        assert_eq!(m.free_pages(), 64);
        // SAFETY: reading a byte of our own mapping.
        let byte = unsafe { *m.frame_ptr(f, 0) };
        assert_eq!(byte, 0, "punched hole reads as zero");
    }

    #[test]
    fn copies_only_the_data_it_is_told_of() {
        let m = Memory::new(64 * PAGE_SIZE).unwrap();
        let src = m.alloc(8).unwrap();
        for (i, page) in [1u64, 2, 5].into_iter().enumerate() {
            // SAFETY: frames `src..src+8` are ours; one byte in each page.
            unsafe { *m.frame_ptr(src + page, 9) = i as u8 + 1 };
        }
        let runs = m.data_runs(src, 8);
        assert_eq!(runs, [(src + 1, src + 3), (src + 5, src + 6)]);
        // Both ways agree: the runs the walk finds, or runs passed in.
        let (a, b) = (m.alloc(8).unwrap(), m.alloc(8).unwrap());
        m.copy_frames(src, a, 8);
        m.copy_data_frames(src, b, 8, &runs);
        for dst in [a, b] {
            // Before reading: a read through umk's view fills a hole.
            assert_eq!(
                m.data_runs(dst, 8),
                [(dst + 1, dst + 3), (dst + 5, dst + 6)]
            );
            // SAFETY: reading bytes of our own frames.
            let bytes: Vec<u8> = (0..8)
                .map(|p| unsafe { *m.frame_ptr(dst + p, 9) })
                .collect();
            assert_eq!(bytes, [0, 1, 2, 0, 0, 3, 0, 0]);
        }
        // A window of the source: only the runs' parts inside it.
        let c = m.alloc(3).unwrap();
        m.copy_data_frames(src + 2, c, 3, &runs);
        assert_eq!(m.data_runs(c, 3), [(c, c + 1)]);
    }
}
