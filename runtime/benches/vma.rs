//! Micro-benchmarks of VMA lookup and mapping churn in an address space
//! (`umk::mm::AddressSpace`) holding 10, 1,000 or 10,000 VMAs. Every guest
//! pointer a syscall passes is checked against the VMAs, and every mmap,
//! munmap and mprotect edits them, so these costs sit under most syscalls.
//! The VMAs are a `BTreeMap` by start address: lookups should grow like
//! log n. Finding room for a mapping without an address walks the VMAs top
//! down from `mmap_base`, so its cost grows with the VMAs it has to pass.
//!
//! No stub process is needed: an address space only describes the host
//! mappings it wants as `HostOp`s, and here a no-op `HostMmu` drops them.
//! Frames come from a real (sparse) memfd, so munmap includes the
//! `fallocate(PUNCH_HOLE)` that returns the frames to the host.
//!
//! Run with `cargo bench -p umk --bench vma`.

use std::sync::Arc;

use divan::{black_box, Bencher};
use guest_abi::mman::{MAP_ANONYMOUS, MAP_FIXED, MAP_PRIVATE, PROT_READ, PROT_WRITE};
use umk::mm::hostop::HostOpError;
use umk::mm::vma::{Backing, Role};
use umk::mm::{AddressSpace, HostMmu, HostOp, MapRequest, Memory, PAGE_SIZE};
use umk::sched::sim::Prng;

fn main() {
    divan::main();
}

const SIZES: [usize; 3] = [10, 1_000, 10_000];

/// A stub that is not there: host operations succeed without running.
struct NoStub;

impl HostMmu for NoStub {
    fn apply(&mut self, ops: &[HostOp]) -> Result<(), HostOpError> {
        black_box(ops);
        Ok(())
    }
}

fn anon(addr: u64, pages: u64, prot: u64, flags: u64) -> MapRequest {
    MapRequest {
        addr,
        len: pages * PAGE_SIZE,
        prot,
        flags: MAP_PRIVATE | MAP_ANONYMOUS | flags,
        backing: Backing::Anon,
        role: Role::Plain,
    }
}

/// An address space with `n` one-page read-only VMAs just below
/// `mmap_base`, each followed by a one-page hole (so none merge), and the
/// VMAs' addresses.
fn space(n: usize) -> (AddressSpace, Vec<u64>) {
    let memory = Arc::new(Memory::new(1 << 30).expect("memfd"));
    let layout = umk::loader::layout(0x7fff_c000_0000, 8 << 20);
    let aspace = AddressSpace::new(memory, layout);
    let addrs: Vec<u64> = (1..=n as u64)
        .map(|i| layout.mmap_base - 2 * i * PAGE_SIZE)
        .collect();
    for &a in &addrs {
        aspace
            .mmap(anon(a, 1, PROT_READ, MAP_FIXED), &mut NoStub)
            .expect("mmap");
    }
    (aspace, addrs)
}

/// Random addresses inside the VMAs, cycled through by the lookups.
fn targets(addrs: &[u64]) -> Vec<u64> {
    let mut rng = Prng::new(9);
    (0..4096)
        .map(|_| addrs[rng.below(addrs.len() as u64) as usize] + rng.below(PAGE_SIZE - 8))
        .collect()
}

/// VMA lookup alone: `accessible_len` of one byte at a random mapped
/// address (lock, B-tree search, permission check).
#[divan::bench(args = SIZES)]
fn lookup(bencher: Bencher, n: usize) {
    let (aspace, addrs) = space(n);
    let t = targets(&addrs);
    let mut i = 0;
    bencher.bench_local(|| {
        i = (i + 1) % t.len();
        aspace.accessible_len(black_box(t[i]), 1, false)
    });
}

/// Lookup of an unmapped address (in a hole): what a bad guest pointer
/// costs before `EFAULT`.
#[divan::bench(args = SIZES)]
fn lookup_miss(bencher: Bencher, n: usize) {
    let (aspace, addrs) = space(n);
    let t: Vec<u64> = targets(&addrs).iter().map(|a| a + PAGE_SIZE).collect();
    let mut i = 0;
    bencher.bench_local(|| {
        i = (i + 1) % t.len();
        aspace.accessible_len(black_box(t[i]), 1, false)
    });
}

/// A guest-memory read as a syscall argument does it: check an 8-byte
/// range, find its frame, copy from umk's view of the frames (every page
/// read once beforehand, so no host page fault is measured).
#[divan::bench(args = SIZES)]
fn read_u64(bencher: Bencher, n: usize) {
    let (aspace, addrs) = space(n);
    let t = targets(&addrs);
    let mut i = 0;
    let mut buf = [0u8; 8];
    for &a in &addrs {
        aspace.read(a, &mut buf).expect("mapped");
    }
    bencher.bench_local(|| {
        i = (i + 1) % t.len();
        aspace.read(black_box(t[i]), &mut buf).expect("mapped");
        buf
    });
}

/// mmap + munmap of one page without an address: it lands in the top hole
/// right below `mmap_base` (found at once), then goes away again (the
/// munmap punches its frame out of the memfd).
#[divan::bench(args = SIZES)]
fn mmap_munmap_1page(bencher: Bencher, n: usize) {
    let (aspace, _) = space(n);
    bencher.bench_local(|| {
        let a = aspace
            .mmap(anon(0, 1, PROT_READ | PROT_WRITE, 0), &mut NoStub)
            .expect("mmap");
        aspace.munmap(a, PAGE_SIZE, &mut NoStub).expect("munmap");
        a
    });
}

/// mmap + munmap of four pages without an address: no hole between the
/// VMAs fits, so the top-down search passes all `n` of them (linear).
#[divan::bench(args = SIZES)]
fn mmap_munmap_4pages(bencher: Bencher, n: usize) {
    let (aspace, _) = space(n);
    bencher.bench_local(|| {
        let a = aspace
            .mmap(anon(0, 4, PROT_READ | PROT_WRITE, 0), &mut NoStub)
            .expect("mmap");
        aspace
            .munmap(a, 4 * PAGE_SIZE, &mut NoStub)
            .expect("munmap");
        a
    });
}

/// mprotect of one VMA to read-write and back: the range check, split and
/// merge attempts, with the VMA picked at random.
#[divan::bench(args = SIZES)]
fn mprotect_toggle(bencher: Bencher, n: usize) {
    let (aspace, addrs) = space(n);
    let mut rng = Prng::new(13);
    bencher.bench_local(|| {
        let a = addrs[rng.below(addrs.len() as u64) as usize];
        aspace
            .mprotect(a, PAGE_SIZE, PROT_READ | PROT_WRITE, &mut NoStub)
            .expect("mprotect");
        aspace
            .mprotect(a, PAGE_SIZE, PROT_READ, &mut NoStub)
            .expect("mprotect");
    });
}
