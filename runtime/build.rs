//! Builds the stub (`stub/stub.S`), the freestanding host program that holds
//! a guest address space, with the system's gcc. umk embeds the result and
//! reads its symbols at start-up (see `platform::stub_image`).

use std::path::PathBuf;
use std::process::Command;

/// Where the stub's image starts: the top GiB of the x86-64 user address
/// space below the kernel's stack area. Guests get everything below it.
const STUB_BASE: &str = "0x7fffc0000000";

fn main() {
    let out = PathBuf::from(std::env::var_os("OUT_DIR").expect("cargo sets OUT_DIR"));
    let src = "stub/stub.S";
    println!("cargo:rerun-if-changed={src}");
    println!("cargo:rerun-if-changed=build.rs");
    let bin = out.join("umk-stub");
    let status = Command::new("gcc")
        .args(["-nostdlib", "-static", "-no-pie", "-Wl,--build-id=none"])
        .args([
            "-Wl,-z,noexecstack",
            "-Wl,-z,max-page-size=4096",
            "-Wl,-z,norelro",
        ])
        .arg(format!("-Wl,-Ttext-segment={STUB_BASE}"))
        .arg("-o")
        .arg(&bin)
        .arg(src)
        .status();
    match status {
        Ok(s) if s.success() => {}
        Ok(s) => panic!("gcc failed to build the stub ({s})"),
        Err(e) => panic!("umk needs gcc to build its stub: {e}"),
    }
}
