//! umk: a user-mode kernel for Linux x86-64 guest programs.
//!
//! See `docs/ARCHITECTURE.md` for the map of this crate.

pub mod cli;
pub mod error;
pub mod fs;
pub mod hostsched;
pub mod kernel;
pub mod loader;
pub mod log;
pub mod mm;
pub mod platform;
pub mod sched;
pub mod signal;
pub mod syscall;
pub mod task;
pub mod trace;
