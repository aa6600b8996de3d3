//! Builds the guest programs of `umk-guests`:
//!
//! * every `c/*.c` with `gcc -static -O2 -Wall -Werror` (plus `-pthread` when
//!   the file name contains `thread`) into `<target>/<profile>/guests/<stem>`;
//! * link flags for the freestanding Rust guests (`src/bin/*.rs`): no C
//!   runtime, no libc, static, no build id;
//! * `UMK_GUEST_DIR` (= `<target>/<profile>`) and `guest_list.rs` (the names
//!   of all guests) for the library.

use std::env;
use std::fmt::Write as _;
use std::fs;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::SystemTime;

fn main() {
    let manifest_dir =
        PathBuf::from(env::var_os("CARGO_MANIFEST_DIR").expect("CARGO_MANIFEST_DIR"));
    let out_dir = PathBuf::from(env::var_os("OUT_DIR").expect("OUT_DIR"));
    // OUT_DIR is `<target>/<profile>/build/umk-guests-<hash>/out`.
    let profile_dir = out_dir
        .ancestors()
        .nth(3)
        .unwrap_or_else(|| panic!("unexpected OUT_DIR layout: {}", out_dir.display()))
        .to_path_buf();
    let c_out_dir = profile_dir.join("guests");

    // Freestanding Rust guests: `_start` comes from rt/mod.rs, mem* too.
    for arg in [
        "-nostartfiles",
        "-nostdlib",
        "-static",
        "-Wl,--build-id=none",
    ] {
        println!("cargo:rustc-link-arg-bins={arg}");
    }
    println!("cargo:rustc-env=UMK_GUEST_DIR={}", profile_dir.display());
    println!("cargo:rerun-if-changed=build.rs");
    println!("cargo:rerun-if-changed=src/bin");

    let c_dir = manifest_dir.join("c");
    println!("cargo:rerun-if-changed={}", c_dir.display());
    let c_sources = list(&c_dir, "c");
    let headers = list(&c_dir, "h");
    for f in c_sources.iter().chain(&headers) {
        println!("cargo:rerun-if-changed={}", f.display());
    }
    let rust_guests: Vec<String> = list(&manifest_dir.join("src/bin"), "rs")
        .iter()
        .map(|p| stem(p))
        .collect();
    let c_guests: Vec<String> = c_sources.iter().map(|p| stem(p)).collect();

    if !c_sources.is_empty() {
        fs::create_dir_all(&c_out_dir)
            .unwrap_or_else(|e| panic!("cannot create {}: {e}", c_out_dir.display()));
        check_gcc();
        // An output newer than its source, every header and this script is
        // up to date (the flags live in this script).
        let mut newest_input = mtime(&manifest_dir.join("build.rs"));
        for h in &headers {
            newest_input = newest_input.max(mtime(h));
        }
        let stale: Vec<(&PathBuf, PathBuf)> = c_sources
            .iter()
            .map(|src| (src, c_out_dir.join(stem(src))))
            .filter(|(src, out)| !out.exists() || mtime(out) < newest_input.max(mtime(src)))
            .collect();
        // Two compilers at a time: the machines are small.
        for chunk in stale.chunks(2) {
            let jobs: Vec<_> = chunk
                .iter()
                .map(|(src, out)| (src, out, spawn_gcc(src, out)))
                .collect();
            let mut failed = Vec::new();
            for (src, out, child) in jobs {
                let output = child.wait_with_output().expect("waiting for gcc");
                let tmp = tmp_path(out);
                if output.status.success() {
                    fs::rename(&tmp, out).unwrap_or_else(|e| {
                        panic!("rename {} -> {}: {e}", tmp.display(), out.display())
                    });
                } else {
                    let _ = fs::remove_file(&tmp);
                    failed.push(format!(
                        "gcc failed for {} ({}):\n{}",
                        src.display(),
                        output.status,
                        String::from_utf8_lossy(&output.stderr)
                    ));
                }
            }
            if !failed.is_empty() {
                panic!("building C guests failed:\n{}", failed.join("\n"));
            }
        }
    }

    let mut list_rs = String::new();
    for (name, items) in [("RUST_GUESTS", &rust_guests), ("C_GUESTS", &c_guests)] {
        let _ = writeln!(list_rs, "pub const {name}: &[&str] = &{items:?};");
    }
    fs::write(out_dir.join("guest_list.rs"), list_rs).expect("writing guest_list.rs");
}

/// Files in `dir` ending in `.ext`, sorted.
fn list(dir: &Path, ext: &str) -> Vec<PathBuf> {
    let Ok(entries) = fs::read_dir(dir) else {
        return Vec::new();
    };
    let mut files: Vec<PathBuf> = entries
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.is_file() && p.extension().is_some_and(|e| e == ext))
        .collect();
    files.sort();
    files
}

fn stem(p: &Path) -> String {
    p.file_stem()
        .expect("file has a stem")
        .to_string_lossy()
        .into_owned()
}

fn mtime(p: &Path) -> SystemTime {
    fs::metadata(p)
        .and_then(|m| m.modified())
        .unwrap_or(SystemTime::UNIX_EPOCH)
}

fn tmp_path(out: &Path) -> PathBuf {
    let mut name = out.file_name().expect("output has a name").to_os_string();
    name.push(".tmp");
    out.with_file_name(name)
}

fn gcc() -> String {
    env::var("UMK_GUEST_CC").unwrap_or_else(|_| "gcc".to_string())
}

fn check_gcc() {
    println!("cargo:rerun-if-env-changed=UMK_GUEST_CC");
    let cc = gcc();
    match Command::new(&cc).arg("--version").stdout(Stdio::null()).stderr(Stdio::null()).status() {
        Ok(s) if s.success() => {}
        Ok(s) => panic!("`{cc} --version` failed ({s}): the C guests in guests/c need a working gcc with static glibc (Debian: apt-get install gcc libc6-dev)"),
        Err(e) => panic!("cannot run `{cc}` ({e}): the C guests in guests/c need gcc with static glibc (Debian: apt-get install gcc libc6-dev)"),
    }
}

fn spawn_gcc(src: &Path, out: &Path) -> std::process::Child {
    let name = stem(src);
    let mut cmd = Command::new(gcc());
    cmd.args(["-static", "-O2", "-Wall", "-Werror"]);
    if name.contains("thread") {
        cmd.arg("-pthread");
    }
    cmd.arg("-o").arg(tmp_path(out)).arg(src).arg("-lm");
    cmd.stdout(Stdio::null()).stderr(Stdio::piped());
    cmd.spawn()
        .unwrap_or_else(|e| panic!("cannot run gcc for {}: {e}", src.display()))
}
