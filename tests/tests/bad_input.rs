//! `umk run` of things that cannot run: exit status 127 (not found) or 126
//! (found but not executable), and exactly one `umk: <path>: <reason>` line
//! on stderr; PATH lookup like execvp; usage errors.

use std::fs;
use std::os::unix::fs::PermissionsExt;
use std::path::Path;

use umk_tests::{c_guest_dir, guest, profile_dir, Cmd, Output, TempDir, PLATFORMS};

const HELLO_C_OUTPUT: &str = "Hello from a static C guest!\n";

fn umk_run(platform: &str, program: impl AsRef<std::ffi::OsStr>) -> Cmd {
    Cmd::umk(["run", "--platform", platform, "--"]).arg(program)
}

/// Exit `code` and stderr exactly `umk: <program>: <non-empty reason>\n`.
fn assert_error(out: &Output, program: &str, code: i32) {
    let stderr = out.stderr_str();
    let prefix = format!("umk: {program}: ");
    let ok = out.code() == Some(code)
        && stderr.starts_with(&prefix)
        && stderr.ends_with('\n')
        && stderr.lines().count() == 1
        && !stderr[prefix.len()..].trim().is_empty();
    assert!(
        ok,
        "expected exit {code} and one line `{prefix}<reason>` on stderr:\n{}",
        out.describe()
    );
    assert!(
        out.stdout.is_empty(),
        "expected no stdout:\n{}",
        out.describe()
    );
}

fn write_file(path: &Path, data: &[u8], mode: u32) {
    fs::write(path, data).unwrap_or_else(|e| panic!("writing {}: {e}", path.display()));
    fs::set_permissions(path, fs::Permissions::from_mode(mode))
        .unwrap_or_else(|e| panic!("chmod {}: {e}", path.display()));
}

fn hello_c_bytes() -> Vec<u8> {
    let path = guest("hello_c");
    fs::read(&path).unwrap_or_else(|e| panic!("reading {}: {e}", path.display()))
}

fn not_executable(tag: &str, make: impl Fn(&Path) -> std::path::PathBuf) {
    let dir = TempDir::new(tag);
    let path = make(dir.path());
    let program = path.to_str().expect("utf-8 temp path").to_string();
    for platform in PLATFORMS {
        let out = umk_run(platform, &path).run();
        assert_error(&out, &program, 126);
    }
}

#[test]
fn missing_program() {
    for platform in PLATFORMS {
        let out = umk_run(platform, "/nonexistent/x").run();
        assert_error(&out, "/nonexistent/x", 127);
    }
}

#[test]
fn missing_program_relative() {
    let dir = TempDir::new("relative");
    for platform in PLATFORMS {
        let out = umk_run(platform, "./no-such-program")
            .current_dir(dir.path())
            .run();
        assert_error(&out, "./no-such-program", 127);
    }
}

#[test]
fn path_lookup() {
    for platform in PLATFORMS {
        let out = umk_run(platform, "hello_c")
            .env("PATH", c_guest_dir())
            .run();
        assert_eq!(out.stdout_str(), HELLO_C_OUTPUT, "{}", out.describe());
        out.assert_code(0);
    }
}

#[test]
fn path_lookup_skips_missing_directories() {
    let path = format!("/nonexistent-umk-dir:{}", c_guest_dir().display());
    for platform in PLATFORMS {
        let out = umk_run(platform, "hello_c").env("PATH", &path).run();
        assert_eq!(out.stdout_str(), HELLO_C_OUTPUT, "{}", out.describe());
        out.assert_code(0);
    }
}

#[test]
fn path_lookup_skips_non_executable_files() {
    // Like execvp: EACCES on an earlier PATH entry is remembered, but the
    // search goes on and finds the executable later on.
    let dir = TempDir::new("path-noexec");
    write_file(&dir.join("hello_c"), &hello_c_bytes(), 0o644);
    let path = format!("{}:{}", dir.path().display(), c_guest_dir().display());
    for platform in PLATFORMS {
        let out = umk_run(platform, "hello_c").env("PATH", &path).run();
        assert_eq!(out.stdout_str(), HELLO_C_OUTPUT, "{}", out.describe());
        out.assert_code(0);
    }
}

#[test]
fn path_lookup_argv0_is_the_name() {
    // The guest sees argv[0] as given ("args_rs"), as after execvp.
    let path = profile_dir();
    let native = Cmd::new("args_rs").arg("x").env("PATH", &path).run();
    assert_eq!(native.code(), Some(2), "{}", native.describe());
    assert!(
        native.stdout_str().contains("argv[0]: args_rs\n"),
        "{}",
        native.describe()
    );
    for platform in PLATFORMS {
        let out = umk_run(platform, "args_rs")
            .arg("x")
            .env("PATH", &path)
            .run();
        umk_tests::assert_same_with_stderr(&native, &out);
    }
}

#[test]
fn name_not_on_path() {
    for platform in PLATFORMS {
        let out = umk_run(platform, "no_such_guest_xyz")
            .env("PATH", c_guest_dir())
            .run();
        assert_error(&out, "no_such_guest_xyz", 127);
    }
}

#[test]
fn not_an_elf_file() {
    not_executable("text", |dir| {
        let p = dir.join("text-program");
        write_file(&p, b"this is not a program\n", 0o755);
        p
    });
}

#[test]
fn empty_file() {
    not_executable("empty", |dir| {
        let p = dir.join("empty-program");
        write_file(&p, b"", 0o755);
        p
    });
}

#[test]
fn truncated_elf() {
    not_executable("truncated", |dir| {
        let p = dir.join("truncated");
        write_file(&p, &hello_c_bytes()[..100], 0o755);
        p
    });
}

#[test]
fn elf32() {
    // gcc -m32 does not work on this machine (no 32-bit libc); a copy of
    // hello_c with EI_CLASS = ELFCLASS32 is rejected just the same.
    not_executable("elf32", |dir| {
        let p = dir.join("elf32");
        let mut data = hello_c_bytes();
        data[4] = 1;
        write_file(&p, &data, 0o755);
        p
    });
}

#[test]
fn wrong_machine() {
    not_executable("aarch64", |dir| {
        let p = dir.join("aarch64");
        let mut data = hello_c_bytes();
        data[18..20].copy_from_slice(&183u16.to_le_bytes()); // EM_AARCH64
        write_file(&p, &data, 0o755);
        p
    });
}

#[test]
fn a_directory() {
    not_executable("dir", |dir| {
        let p = dir.join("subdir");
        fs::create_dir(&p).expect("mkdir");
        p
    });
}

#[test]
fn no_execute_permission() {
    not_executable("noexec", |dir| {
        let p = dir.join("hello_c");
        write_file(&p, &hello_c_bytes(), 0o644);
        p
    });
}

#[test]
fn natively_these_fail_too() {
    // The same inputs fail natively (sanity check of the fixtures above).
    let dir = TempDir::new("native");
    let text = dir.join("text");
    write_file(&text, b"this is not a program\n", 0o755);
    let mut data = hello_c_bytes();
    data[18..20].copy_from_slice(&183u16.to_le_bytes());
    let arm = dir.join("arm");
    write_file(&arm, &data, 0o755);
    for p in [&text, &arm] {
        // Another test thread's fork may briefly hold our just-written file
        // open for writing (until its child execs): ETXTBSY then. Retry.
        let mut tries = 0;
        let err = loop {
            let err = std::process::Command::new(p)
                .status()
                .expect_err("must not run");
            tries += 1;
            if err.raw_os_error() != Some(libc::ETXTBSY) || tries >= 50 {
                break err;
            }
            std::thread::sleep(std::time::Duration::from_millis(20));
        };
        assert_eq!(
            err.raw_os_error(),
            Some(libc::ENOEXEC),
            "{}: {err}",
            p.display()
        );
    }
}

#[test]
fn no_program_is_a_usage_error() {
    for args in [
        &["run"][..],
        &["run", "--platform", PLATFORMS[0]][..],
        &["run", "--"][..],
    ] {
        let out = Cmd::umk(args).run();
        assert_eq!(
            out.code(),
            Some(2),
            "expected clap's usage error (exit 2):\n{}",
            out.describe()
        );
        assert!(
            !out.stderr.is_empty(),
            "expected a usage message:\n{}",
            out.describe()
        );
        assert!(out.stdout.is_empty(), "{}", out.describe());
    }
}
