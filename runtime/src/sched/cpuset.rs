//! `CpuSet`: a fixed-size bitset of virtual CPUs, the affinity mask type.

use std::fmt;

use super::CpuId;

/// Number of 64-bit words in a [`CpuSet`].
const WORDS: usize = 16;

/// Largest number of vCPUs a [`CpuSet`] (and so a [`super::Scheduler`]) can
/// describe: 1024, glibc's `CPU_SETSIZE`, so a guest's `cpu_set_t` maps onto
/// it one to one.
pub const MAX_CPUS: usize = WORDS * 64;

/// A set of vCPU numbers below [`MAX_CPUS`], laid out like the kernel's
/// `cpumask` / glibc's `cpu_set_t`: bit `n % 64` of word `n / 64` is CPU `n`.
///
/// It is `Copy` (128 bytes) so that it can be passed around freely.
#[derive(Clone, Copy, PartialEq, Eq, Hash, Default)]
pub struct CpuSet {
    words: [u64; WORDS],
}

impl CpuSet {
    /// The empty set.
    pub const fn new() -> Self {
        Self { words: [0; WORDS] }
    }

    /// CPUs `0..n` (`n` is clamped to [`MAX_CPUS`]).
    pub fn first_n(n: usize) -> Self {
        let mut s = Self::new();
        for cpu in 0..n.min(MAX_CPUS) {
            s.insert(cpu);
        }
        s
    }

    /// The set holding only `cpu`.
    pub fn single(cpu: CpuId) -> Self {
        let mut s = Self::new();
        s.insert(cpu);
        s
    }

    /// Build from the 64-bit words of a guest `cpu_set_t` (as passed to
    /// `sched_setaffinity`); words past [`MAX_CPUS`] are ignored.
    pub fn from_words(words: &[u64]) -> Self {
        let mut s = Self::new();
        for (dst, src) in s.words.iter_mut().zip(words) {
            *dst = *src;
        }
        s
    }

    /// The 64-bit words of the set (for `sched_getaffinity`).
    pub fn as_words(&self) -> &[u64; WORDS] {
        &self.words
    }

    /// Add `cpu`; CPUs at or above [`MAX_CPUS`] are ignored.
    pub fn insert(&mut self, cpu: CpuId) {
        if cpu < MAX_CPUS {
            self.words[cpu / 64] |= 1 << (cpu % 64);
        }
    }

    /// Remove `cpu`.
    pub fn remove(&mut self, cpu: CpuId) {
        if cpu < MAX_CPUS {
            self.words[cpu / 64] &= !(1 << (cpu % 64));
        }
    }

    /// Whether `cpu` is in the set.
    pub fn contains(&self, cpu: CpuId) -> bool {
        cpu < MAX_CPUS && self.words[cpu / 64] & (1 << (cpu % 64)) != 0
    }

    /// Whether the set is empty.
    pub fn is_empty(&self) -> bool {
        self.words.iter().all(|w| *w == 0)
    }

    /// Number of CPUs in the set (`CPU_COUNT`).
    pub fn len(&self) -> usize {
        self.words.iter().map(|w| w.count_ones() as usize).sum()
    }

    /// The lowest CPU in the set.
    pub fn first(&self) -> Option<CpuId> {
        self.iter().next()
    }

    /// The CPUs in both sets.
    pub fn intersection(&self, other: &CpuSet) -> CpuSet {
        let mut s = *self;
        for (a, b) in s.words.iter_mut().zip(other.words.iter()) {
            *a &= *b;
        }
        s
    }

    /// The CPUs in either set.
    pub fn union(&self, other: &CpuSet) -> CpuSet {
        let mut s = *self;
        for (a, b) in s.words.iter_mut().zip(other.words.iter()) {
            *a |= *b;
        }
        s
    }

    /// Iterate over the CPUs in ascending order.
    pub fn iter(&self) -> CpuSetIter<'_> {
        CpuSetIter {
            set: self,
            word: 0,
            bits: self.words[0],
        }
    }
}

impl FromIterator<CpuId> for CpuSet {
    fn from_iter<I: IntoIterator<Item = CpuId>>(iter: I) -> Self {
        let mut s = CpuSet::new();
        for cpu in iter {
            s.insert(cpu);
        }
        s
    }
}

impl<'a> IntoIterator for &'a CpuSet {
    type Item = CpuId;
    type IntoIter = CpuSetIter<'a>;
    fn into_iter(self) -> Self::IntoIter {
        self.iter()
    }
}

/// Iterator over the members of a [`CpuSet`], ascending.
pub struct CpuSetIter<'a> {
    set: &'a CpuSet,
    word: usize,
    bits: u64,
}

impl Iterator for CpuSetIter<'_> {
    type Item = CpuId;
    fn next(&mut self) -> Option<CpuId> {
        loop {
            if self.bits != 0 {
                let bit = self.bits.trailing_zeros() as usize;
                self.bits &= self.bits - 1;
                return Some(self.word * 64 + bit);
            }
            self.word += 1;
            if self.word >= WORDS {
                return None;
            }
            self.bits = self.set.words[self.word];
        }
    }
}

/// Formats like the kernel's cpulist (`/sys/.../cpus_allowed_list`):
/// `{0-3,8,10-11}`.
impl fmt::Debug for CpuSet {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{{")?;
        let mut first = true;
        let mut it = self.iter().peekable();
        while let Some(start) = it.next() {
            let mut end = start;
            while it.peek() == Some(&(end + 1)) {
                end += 1;
                it.next();
            }
            if !first {
                write!(f, ",")?;
            }
            first = false;
            if end == start {
                write!(f, "{start}")?;
            } else {
                write!(f, "{start}-{end}")?;
            }
        }
        write!(f, "}}")
    }
}
