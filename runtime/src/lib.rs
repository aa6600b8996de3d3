//! umk: a user-mode kernel for Linux x86-64 guest programs.
//!
//! See `docs/ARCHITECTURE.md` for the map of this crate.

pub mod sched;
pub mod trace;
