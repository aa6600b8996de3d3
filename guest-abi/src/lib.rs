//! The Linux x86-64 ABI as a guest program sees it, shared by umk (the kernel)
//! and the guest programs in `guests/`.
//!
//! Everything here describes the *guest's* side of the syscall boundary: umk
//! uses `libc`/`nix` for its own host syscalls and this crate for what it
//! reads from and writes to guests, so the two can never be confused.
#![no_std]

pub mod errno;
pub mod raw;
pub mod sysno;

pub use errno::Errno;
