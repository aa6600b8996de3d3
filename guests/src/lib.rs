//! Where the guest programs built by this package live.
//!
//! The guests themselves are static ELF executables: the C programs in `c/`
//! (built by `build.rs` with gcc) and the freestanding Rust binaries in
//! `src/bin/` (built by cargo). See `README.md`.

use std::path::PathBuf;

mod list {
    include!(concat!(env!("OUT_DIR"), "/guest_list.rs"));
}

/// Names of the freestanding Rust guests (`src/bin/*.rs`).
pub const RUST_GUESTS: &[&str] = list::RUST_GUESTS;

/// Names of the C guests (`c/*.c`), including benchmark guests (`bench_*`).
pub const C_GUESTS: &[&str] = list::C_GUESTS;

/// `<target>/<profile>`, the directory cargo built this package into.
pub const GUEST_DIR: &str = env!("UMK_GUEST_DIR");

/// Every guest's name: Rust guests, then C guests.
pub fn all_guests() -> impl Iterator<Item = &'static str> {
    RUST_GUESTS.iter().chain(C_GUESTS).copied()
}

/// The directory holding the C guests: `<target>/<profile>/guests`.
pub fn c_guest_dir() -> PathBuf {
    PathBuf::from(GUEST_DIR).join("guests")
}

/// The path of the guest `name`: `<target>/<profile>/<name>` for a Rust
/// guest, `<target>/<profile>/guests/<name>` for anything else (C guests).
///
/// The path is returned whether or not the file exists (it only does after
/// a build that includes the binaries, e.g. `cargo test`).
pub fn guest_path(name: &str) -> PathBuf {
    if RUST_GUESTS.contains(&name) {
        PathBuf::from(GUEST_DIR).join(name)
    } else {
        c_guest_dir().join(name)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn paths() {
        assert!(RUST_GUESTS.contains(&"hello_rs"));
        assert!(C_GUESTS.contains(&"hello_c"));
        assert!(guest_path("hello_rs").ends_with("hello_rs"));
        assert!(guest_path("hello_c").ends_with("guests/hello_c"));
        assert!(
            guest_path("hello_c").exists(),
            "C guests are built by build.rs"
        );
    }
}
