//! Generates `docs/syscalls.md` from the dispatch table, so the document
//! cannot drift from the code: a test compares the file with this output
//! (run with `UPDATE_DOCS=1` to rewrite it).

use std::fmt::Write;

use guest_abi::sysno;

use super::{Status, ENOSYS_NOTES, TABLE};

/// The markdown table of every x86-64 syscall and its status in umk.
pub fn syscalls_markdown() -> String {
    let mut full = 0;
    let mut partial = 0;
    let mut rows = String::new();
    for (nr, entry) in TABLE.iter().enumerate() {
        let Some(name) = sysno::name(nr as u64) else {
            continue;
        };
        let (status, note) = match entry.map(|e| e.status) {
            Some(Status::Full) => {
                full += 1;
                ("implemented", String::new())
            }
            Some(Status::Partial(what)) => {
                partial += 1;
                ("partial", what.to_string())
            }
            None => {
                let note = ENOSYS_NOTES
                    .iter()
                    .find(|(n, _)| *n == nr)
                    .map(|(_, w)| w.to_string());
                ("ENOSYS", note.unwrap_or_default())
            }
        };
        let _ = writeln!(rows, "| {nr} | `{name}` | {status} | {note} |");
    }
    let total = (0..sysno::COUNT)
        .filter(|&n| sysno::name(n as u64).is_some())
        .count();
    let mut out = String::new();
    out.push_str("# Syscalls\n\n");
    out.push_str("Generated from umk's dispatch table (`runtime/src/syscall/mod.rs`) by\n");
    out.push_str("`UPDATE_DOCS=1 cargo test -p umk --lib syscall::docs`; a test fails when this file is stale.\n\n");
    let _ = writeln!(
        out,
        "{full} implemented, {partial} partial, {} return `ENOSYS` (of {total} x86-64 syscalls).\n",
        total - full - partial
    );
    out.push_str("- **implemented**: behaves as the man page says, on every platform.\n");
    out.push_str("- **partial**: works for the common case; the note says what is missing.\n");
    out.push_str("- **ENOSYS**: returns `-ENOSYS` (and the trace shows it).\n\n");
    out.push_str("| nr | syscall | status | notes |\n|---:|---|---|---|\n");
    out.push_str(&rows);
    out
}

#[cfg(test)]
mod tests {
    #[test]
    fn docs_syscalls_md_is_current() {
        let path = concat!(env!("CARGO_MANIFEST_DIR"), "/../docs/syscalls.md");
        let want = super::syscalls_markdown();
        if std::env::var_os("UPDATE_DOCS").is_some() {
            std::fs::write(path, &want).expect("write docs/syscalls.md");
            return;
        }
        let have = std::fs::read_to_string(path).unwrap_or_default();
        assert!(
            have == want,
            "docs/syscalls.md is stale: run `UPDATE_DOCS=1 cargo test -p umk --lib syscall::docs`"
        );
    }
}
