//! Files: descriptor tables, open files, and (for now) host passthrough.
//!
//! # Model
//!
//! A guest descriptor names an [`file::File`] (an open file description,
//! shared by `dup`). Today every file is a [`host::HostFile`]: a host
//! descriptor that umk holds and the guest never sees — regular files and
//! directories opened by path, and the guest's stdio, which are duplicates
//! of umk's own descriptors 0, 1 and 2. Pipes, `/proc` and `/dev` will be
//! umk's own `File` implementations.
//!
//! Paths are resolved by the host relative to the guest's working directory
//! (umk's, until `chdir` exists) or to a directory descriptor's host fd.

pub mod fdtable;
pub mod file;
pub mod host;
pub mod pipe;

pub use fdtable::FdTable;
pub use file::File;
pub use host::HostFile;
