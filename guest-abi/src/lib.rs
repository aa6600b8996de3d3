//! The Linux x86-64 ABI as a guest program sees it, shared by umk (the kernel)
//! and the guest programs in `guests/`.
//!
//! Everything here describes the *guest's* side of the syscall boundary: umk
//! uses `libc`/`nix` for its own host syscalls and this crate for what it
//! reads from and writes to guests, so the two can never be confused.
//!
//! Constant types follow one rule: flag words and ids passed in registers are
//! `u64` (compare against the raw register), except ids that can be negative
//! (`AT_FDCWD`, `CLOCK_*`, `RUSAGE_*`), which are `i32` like the C `int` the
//! kernel truncates the register to; constants stored in struct fields have the
//! field's type (`st_mode` bits `u32`, `si_code` `i32`, poll events `i16`, ...).
//! Each module's header says which kernel header it mirrors and which types it
//! uses. Structs are in [`structs`] and implement [`Pod`] for byte-level copies.
#![no_std]

pub mod auxv;
pub mod clock;
pub mod clone;
pub mod epoll;
pub mod errno;
pub mod eventfd;
pub mod fcntl;
pub mod futex;
pub mod ioctl;
pub mod mman;
pub mod pod;
pub mod poll;
pub mod prctl;
pub mod random;
pub mod raw;
pub mod resource;
pub mod rseq;
pub mod sched;
pub mod signal;
pub mod socket;
pub mod structs;
pub mod sysno;
pub mod timerfd;
pub mod wait;

pub use errno::Errno;
pub use pod::Pod;

#[cfg(test)]
mod tests;
