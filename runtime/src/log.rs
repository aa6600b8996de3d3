//! umk's own diagnostics on stderr: warnings always, debug lines when the
//! environment variable `UMK_LOG=debug` is set. (Guest-visible tracing is
//! `trace/`, not this.)

use std::sync::OnceLock;

fn debug_enabled() -> bool {
    static ON: OnceLock<bool> = OnceLock::new();
    *ON.get_or_init(|| std::env::var_os("UMK_LOG").is_some_and(|v| v == "debug"))
}

pub fn warn(msg: &str) {
    eprintln!("umk: warning: {msg}");
}

pub fn debug(msg: impl FnOnce() -> String) {
    if debug_enabled() {
        eprintln!("umk: {}", msg());
    }
}
