//! Micro-benchmarks of the frame allocator (`umk::mm::frames`): every guest
//! mapping, brk and mremap takes a run of frames from it and every munmap
//! gives one back, so its cost is part of each memory syscall. The run
//! allocator is two ordered maps (free runs by start, and by length for best
//! fit), so the cost should grow like log(free runs) and not with the size
//! of a run. The `Memory` benches add what the syscall path adds on top: the
//! lock, the refcount side table, and returning freed pages to the host
//! (`fallocate(PUNCH_HOLE)`, a host syscall).
//!
//! Run with `cargo bench -p umk --bench frames`.

use divan::{black_box, Bencher};
use umk::mm::frames::{Frame, RunAllocator};
use umk::mm::Memory;
use umk::sched::sim::Prng;

fn main() {
    divan::main();
}

/// 256 GiB of frames, umk's default guest physical memory.
const TOTAL_PAGES: u64 = 256 << 18;

/// Run lengths in pages: one page, 64 KiB, 1 MiB and 256 MiB.
const RUN_PAGES: [u64; 4] = [1, 16, 256, 65_536];

/// Numbers of free holes in a fragmented allocator.
const HOLES: [usize; 3] = [10, 1_000, 10_000];

/// An allocator whose free space is `holes` runs of 1..=64 pages (random
/// lengths) between allocated runs, then the big free tail.
fn fragmented(holes: usize) -> RunAllocator {
    let mut a = RunAllocator::new(TOTAL_PAGES);
    let mut rng = Prng::new(7);
    let mut to_free: Vec<(Frame, u64)> = Vec::with_capacity(holes);
    for _ in 0..holes {
        let n = rng.range(1, 64);
        to_free.push((a.alloc(n).expect("room"), n));
        a.alloc(rng.range(1, 64)).expect("room");
    }
    for (f, n) in to_free {
        a.free(f, n);
    }
    a
}

/// Allocate a run and free it again on an empty allocator (one free run):
/// the cost of the two map updates, whatever the run's length.
#[divan::bench(args = RUN_PAGES)]
fn alloc_free(bencher: Bencher, pages: u64) {
    let mut a = RunAllocator::new(TOTAL_PAGES);
    bencher.bench_local(|| {
        let f = a.alloc(black_box(pages)).expect("room");
        a.free(f, pages);
        f
    });
}

/// Best fit in a fragmented pool: allocate a random 1..=64-page run (it
/// lands in the smallest hole that fits, splitting it) and free it (it
/// coalesces back), with `holes` free runs to choose from.
#[divan::bench(args = HOLES)]
fn alloc_free_fragmented(bencher: Bencher, holes: usize) {
    let mut a = fragmented(holes);
    let mut rng = Prng::new(11);
    bencher.bench_local(|| {
        let n = rng.range(1, 64);
        let f = a.alloc(n).expect("room");
        a.free(f, n);
        f
    });
}

/// Building the fragmentation itself: 1,000 random-length allocations, then
/// every other run freed (no coalescing possible) and the rest freed
/// (everything coalesces back into one run).
#[divan::bench(sample_count = 50)]
fn fragment_and_coalesce_1000() -> u64 {
    let mut a = RunAllocator::new(TOTAL_PAGES);
    let mut rng = Prng::new(5);
    let runs: Vec<(Frame, u64)> = (0..1000)
        .map(|_| {
            let n = rng.range(1, 64);
            (a.alloc(n).expect("room"), n)
        })
        .collect();
    for &(f, n) in runs.iter().step_by(2) {
        a.free(f, n);
    }
    for &(f, n) in runs.iter().skip(1).step_by(2) {
        a.free(f, n);
    }
    a.free_pages()
}

/// Growing a run in place, as brk and mremap do: `alloc_at` the 16 pages
/// right after an allocated run, then give them back, with `holes` free
/// runs elsewhere in the pool.
#[divan::bench(args = HOLES)]
fn alloc_at_grow(bencher: Bencher, holes: usize) {
    let mut a = fragmented(holes);
    let run = a.alloc(1 << 20).expect("room");
    let end = run + (1 << 20);
    bencher.bench_local(|| {
        let ok = a.alloc_at(black_box(end), 16);
        a.free(end, 16);
        ok
    });
}

/// `alloc_at` that fails (the next frame is taken), the common case of a
/// brk whose neighbour was mapped meanwhile.
#[divan::bench(args = HOLES)]
fn alloc_at_taken(bencher: Bencher, holes: usize) {
    let mut a = fragmented(holes);
    let run = a.alloc(16).expect("room");
    a.alloc(16).expect("room");
    bencher.bench_local(|| a.alloc_at(black_box(run + 16), 1));
}

/// Guest memory for the `Memory` benches: 1 GiB of sparse memfd.
fn memory() -> Memory {
    Memory::new(1 << 30).expect("memfd")
}

/// `Memory::alloc` + `Memory::release` of an unshared run: the lock, the
/// allocator and the `fallocate(PUNCH_HOLE)` that returns the (untouched)
/// pages to the host.
#[divan::bench(args = RUN_PAGES)]
fn memory_alloc_release(bencher: Bencher, pages: u64) {
    let m = memory();
    bencher.bench_local(|| {
        let f = m.alloc(black_box(pages)).expect("room");
        m.release(f, pages);
        f
    });
}

/// Reference counts as fork's copy-on-write will use them: `share` (count
/// 1 → 2, one side-table entry per frame) and `release` (2 → 1) of a run,
/// plus one `refcount` read.
#[divan::bench(args = [1, 16, 256])]
fn refcount_share_release(bencher: Bencher, pages: u64) {
    let m = memory();
    let f = m.alloc(pages).expect("room");
    bencher.bench_local(|| {
        m.share(f, black_box(pages));
        let c = m.refcount(f);
        m.release(f, pages);
        c
    });
    assert_eq!(m.free_pages() + pages, m.total_pages());
}
