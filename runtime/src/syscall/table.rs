//! The dispatch table: one entry per implemented syscall number, built at
//! compile time from the list in `syscall/mod.rs`. Every number without an
//! entry returns `ENOSYS`. `docs/syscalls.md` is generated from this table
//! (see the test in `syscall/docs.rs`), so the two cannot drift.

use guest_abi::sysno::COUNT;

use super::context::SyscallContext;
use crate::error::SysResult;

/// A syscall handler: the six raw argument registers in, `rax` out.
pub type Handler = fn(&mut SyscallContext<'_>, &[u64; 6]) -> SysResult;

/// How completely a syscall is implemented (for `docs/syscalls.md`).
#[derive(Clone, Copy, Debug)]
pub enum Status {
    Full,
    /// Implemented in part; the text says what is missing.
    Partial(&'static str),
}

#[derive(Clone, Copy)]
pub struct Entry {
    pub handler: Handler,
    pub status: Status,
}

impl std::fmt::Debug for Entry {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Entry")
            .field("status", &self.status)
            .finish()
    }
}

pub type Table = [Option<Entry>; COUNT];

/// Builds the table from `(number, handler, status)` rows.
pub const fn build(rows: &[(usize, Handler, Status)]) -> Table {
    let mut t: Table = [None; COUNT];
    let mut i = 0;
    while i < rows.len() {
        let (nr, handler, status) = rows[i];
        t[nr] = Some(Entry { handler, status });
        i += 1;
    }
    t
}
