//! A process's file descriptor table.

use std::sync::Arc;

use super::file::File;
use crate::error::SysResult;
use crate::sys_err;

#[derive(Clone, Debug)]
pub struct FdEntry {
    pub file: Arc<dyn File>,
    pub cloexec: bool,
}

#[derive(Clone, Debug, Default)]
pub struct FdTable {
    slots: Vec<Option<FdEntry>>,
}

impl FdTable {
    pub fn get(&self, fd: i32) -> SysResult<Arc<dyn File>> {
        usize::try_from(fd)
            .ok()
            .and_then(|i| self.slots.get(i))
            .and_then(|s| s.as_ref())
            .map(|e| e.file.clone())
            .ok_or(crate::error::SysError::new(
                guest_abi::Errno::EBADF,
                "no such descriptor",
            ))
    }

    pub fn entry(&self, fd: i32) -> Option<&FdEntry> {
        usize::try_from(fd)
            .ok()
            .and_then(|i| self.slots.get(i))
            .and_then(|s| s.as_ref())
    }

    pub fn entry_mut(&mut self, fd: i32) -> Option<&mut FdEntry> {
        usize::try_from(fd)
            .ok()
            .and_then(|i| self.slots.get_mut(i))
            .and_then(|s| s.as_mut())
    }

    /// Installs `file` at the lowest free descriptor ≥ `min`, below `limit`
    /// (RLIMIT_NOFILE): `EMFILE` when there is none.
    pub fn install(
        &mut self,
        file: Arc<dyn File>,
        cloexec: bool,
        min: usize,
        limit: u64,
    ) -> SysResult<i32> {
        let free = (min..)
            .take_while(|&i| (i as u64) < limit)
            .find(|&i| self.slots.get(i).is_none_or(|s| s.is_none()));
        let Some(i) = free else {
            return sys_err!(EMFILE, "descriptor limit reached");
        };
        if i >= self.slots.len() {
            self.slots.resize(i + 1, None);
        }
        self.slots[i] = Some(FdEntry { file, cloexec });
        Ok(i as i32)
    }

    /// Installs at exactly `fd` (dup2), returning what was there.
    pub fn install_at(&mut self, fd: usize, file: Arc<dyn File>, cloexec: bool) -> Option<FdEntry> {
        if fd >= self.slots.len() {
            self.slots.resize(fd + 1, None);
        }
        self.slots[fd].replace(FdEntry { file, cloexec })
    }

    pub fn remove(&mut self, fd: i32) -> SysResult<FdEntry> {
        usize::try_from(fd)
            .ok()
            .and_then(|i| self.slots.get_mut(i))
            .and_then(|s| s.take())
            .ok_or(crate::error::SysError::new(
                guest_abi::Errno::EBADF,
                "no such descriptor",
            ))
    }

    /// Descriptors in use (for `/proc/PID/fd` and close-on-exec).
    pub fn fds(&self) -> impl Iterator<Item = (i32, &FdEntry)> {
        self.slots
            .iter()
            .enumerate()
            .filter_map(|(i, s)| s.as_ref().map(|e| (i as i32, e)))
    }
}
