//! Runs every guest natively: each must be a static ELF executable, exit with
//! its expected status and print the same stdout on two runs (guests must be
//! deterministic so that umk can be compared against native runs).
//!
//! Benchmark guests (`bench_*`) are only checked for being static ELF files.

use std::io::Read;
use std::path::Path;
use std::process::{Command, ExitStatus, Stdio};
use std::thread;
use std::time::{Duration, Instant};

use umk_guests::{all_guests, guest_path, C_GUESTS, RUST_GUESTS};

const TIMEOUT: Duration = Duration::from_secs(60);
const TEST_VAR: &str = "value with spaces/ünïcödé";

/// Guests and argument variants whose expected exit status is not 0, or that
/// need arguments. Every other guest runs without arguments and must exit 0.
const VARIANTS: &[(&str, &[&str], i32)] = &[
    ("args_rs", &[], 1),
    ("args_rs", &["one", "two words", ""], 4),
    ("exit_code_rs", &["0"], 0),
    ("exit_code_rs", &["42"], 42),
    ("exit_code_rs", &["300"], 300 % 256),
    ("exit_code_rs", &["-1"], 255),
    ("stdio_c", &["alpha", "beta gamma"], 0),
    ("stdio_c", &["--exit=7"], 7),
];

struct Output {
    status: ExitStatus,
    stdout: Vec<u8>,
    stderr: Vec<u8>,
}

fn run(name: &str, args: &[&str]) -> Output {
    let path = guest_path(name);
    let mut child = Command::new(&path)
        .args(args)
        .env_clear()
        .env("UMK_TEST_VAR", TEST_VAR)
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap_or_else(|e| panic!("cannot run {}: {e}", path.display()));
    let mut out = child.stdout.take().expect("piped stdout");
    let mut err = child.stderr.take().expect("piped stderr");
    let out_reader = thread::spawn(move || {
        let mut v = Vec::new();
        let _ = out.read_to_end(&mut v);
        v
    });
    let err_reader = thread::spawn(move || {
        let mut v = Vec::new();
        let _ = err.read_to_end(&mut v);
        v
    });
    let start = Instant::now();
    let status = loop {
        if let Some(status) = child.try_wait().expect("try_wait") {
            break status;
        }
        if start.elapsed() > TIMEOUT {
            // Child::kill signals this child's pid (SIGKILL).
            let _ = child.kill();
            let _ = child.wait();
            panic!("{name} {args:?} timed out after {TIMEOUT:?}");
        }
        thread::sleep(Duration::from_millis(5));
    };
    Output {
        status,
        stdout: out_reader.join().expect("stdout reader"),
        stderr: err_reader.join().expect("stderr reader"),
    }
}

fn check_static_elf(path: &Path) {
    let data =
        std::fs::read(path).unwrap_or_else(|e| panic!("cannot read {}: {e}", path.display()));
    let name = path.display();
    assert!(
        data.len() > 64 && data.starts_with(b"\x7fELF"),
        "{name}: not an ELF file"
    );
    assert_eq!(data[4], 2, "{name}: not ELFCLASS64");
    assert_eq!(data[5], 1, "{name}: not little-endian");
    let u16_at = |o: usize| u16::from_le_bytes([data[o], data[o + 1]]);
    let u64_at = |o: usize| {
        let mut b = [0u8; 8];
        b.copy_from_slice(&data[o..o + 8]);
        u64::from_le_bytes(b)
    };
    assert_eq!(
        u16_at(16),
        2,
        "{name}: e_type is not ET_EXEC (static, non-PIE)"
    );
    assert_eq!(u16_at(18), 62, "{name}: e_machine is not EM_X86_64");
    let (phoff, phentsize, phnum) = (
        u64_at(32) as usize,
        u16_at(54) as usize,
        u16_at(56) as usize,
    );
    for i in 0..phnum {
        let p_type = u32::from_le_bytes(
            data[phoff + i * phentsize..phoff + i * phentsize + 4]
                .try_into()
                .expect("4 bytes"),
        );
        assert_ne!(p_type, 3, "{name}: has PT_INTERP (dynamically linked)");
        assert_ne!(p_type, 2, "{name}: has PT_DYNAMIC");
    }
}

fn describe(name: &str, args: &[&str], out: &Output) -> String {
    format!(
        "{name} {args:?}: {}\n--- stdout ---\n{}\n--- stderr ---\n{}",
        out.status,
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    )
}

#[test]
fn guests_are_static_elf_files() {
    assert!(!RUST_GUESTS.is_empty() && !C_GUESTS.is_empty());
    for name in all_guests() {
        check_static_elf(&guest_path(name));
    }
}

#[test]
fn guests_pass_natively_and_deterministically() {
    let mut runs: Vec<(&str, &[&str], i32)> = VARIANTS.to_vec();
    for name in all_guests() {
        if !name.starts_with("bench_") && !VARIANTS.iter().any(|v| v.0 == name) {
            runs.push((name, &[], 0));
        }
    }
    // The guests are independent: run them in parallel (two at a time would
    // do, but most of them are short).
    let handles: Vec<_> = runs
        .into_iter()
        .map(|(name, args, code)| {
            thread::spawn(move || {
                let first = run(name, args);
                let second = run(name, args);
                let mut errors = Vec::new();
                if first.status.code() != Some(code) {
                    errors.push(format!(
                        "expected exit status {code}, {}",
                        describe(name, args, &first)
                    ));
                }
                if first.stdout != second.stdout {
                    errors.push(format!(
                        "nondeterministic stdout:\n{}\n=== second run ===\n{}",
                        describe(name, args, &first),
                        describe(name, args, &second)
                    ));
                }
                errors
            })
        })
        .collect();
    let errors: Vec<String> = handles
        .into_iter()
        .flat_map(|h| h.join().expect("runner thread"))
        .collect();
    assert!(errors.is_empty(), "{}", errors.join("\n\n"));
}

#[test]
fn hello_rs_output() {
    let out = run("hello_rs", &[]);
    assert_eq!(
        String::from_utf8_lossy(&out.stdout),
        "Hello from a freestanding Rust guest!\n"
    );
    assert!(out.stderr.is_empty());
}

#[test]
fn hello_c_output() {
    let out = run("hello_c", &[]);
    assert_eq!(
        String::from_utf8_lossy(&out.stdout),
        "Hello from a static C guest!\n"
    );
    assert_eq!(out.status.code(), Some(0));
}

#[test]
fn args_rs_output() {
    let out = run("args_rs", &["x", "y z"]);
    let path = guest_path("args_rs");
    let expected = format!(
        "argc: 3\nargv[0]: {}\nargv[1]: x\nargv[2]: y z\nUMK_TEST_VAR: {TEST_VAR}\n\
         AT_PAGESZ == 4096: yes\nAT_RANDOM present: yes\nAT_ENTRY present: yes\n\
         AT_ENTRY == _start: yes\nAT_PHDR present: yes\nAT_PHNUM > 0: yes\n",
        path.display()
    );
    assert_eq!(String::from_utf8_lossy(&out.stdout), expected);
    assert_eq!(out.status.code(), Some(3));
}

#[test]
fn exit_code_rs_usage() {
    let out = run("exit_code_rs", &[]);
    assert_eq!(out.status.code(), Some(2));
    assert_eq!(
        String::from_utf8_lossy(&out.stderr),
        "usage: exit_code_rs CODE\n"
    );
}
