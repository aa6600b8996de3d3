//! `umk run --trace`: strace-format traces compared with snapshots in
//! `tests/snapshots/<guest>.trace` (masked: pids, addresses, times, paths).
//!
//! Create or update the snapshots, after checking the traces are right, with
//! `UPDATE_SNAPSHOTS=1 cargo test -p umk-tests --test trace`.

use umk_tests::{
    assert_same, assert_snapshot, guest, mask_trace, run_native, snapshot_dir, Cmd, TempDir,
    PLATFORMS,
};

/// The masked trace of `umk run --trace -- <guest>`.
fn masked_trace(platform: &str, name: &str) -> String {
    let path = guest(name);
    let out = Cmd::umk(["run", "--platform", platform, "--trace", "--"])
        .arg(&path)
        .run();
    out.assert_code(0);
    let path_str = path.to_str().expect("utf-8 guest path").to_string();
    let dir = umk_tests::profile_dir()
        .to_str()
        .expect("utf-8 target dir")
        .to_string();
    mask_trace(
        &out.stderr_str(),
        &[(&path_str, "$GUEST"), (&dir, "$TARGET")],
    )
}

fn snapshot_test(name: &str) {
    for platform in PLATFORMS {
        let trace = masked_trace(platform, name);
        assert!(
            !trace.trim().is_empty(),
            "--trace printed nothing on stderr for {name}"
        );
        assert_snapshot(&snapshot_dir().join(format!("{name}.trace")), &trace);
    }
}

#[test]
fn trace_hello_rs() {
    snapshot_test("hello_rs");
}

#[test]
fn trace_hello_c() {
    snapshot_test("hello_c");
}

/// Lines that look like strace output: `name(args) = result`.
fn trace_like_lines(s: &str) -> Vec<&str> {
    s.lines()
        .filter(|l| {
            l.contains("exit_group(")
                || l.contains("write(")
                || (l.contains('(') && l.contains(") = "))
        })
        .collect()
}

#[test]
fn trace_file() {
    let dir = TempDir::new("trace-file");
    for platform in PLATFORMS {
        let file = dir.join(format!("{platform}.trace"));
        let out = Cmd::umk(["run", "--platform", platform, "--trace-file"])
            .arg(&file)
            .arg("--")
            .arg(guest("hello_c"))
            .run();
        out.assert_code(0);
        let trace = std::fs::read_to_string(&file).unwrap_or_else(|e| {
            panic!(
                "--trace-file {} was not written: {e}\n{}",
                file.display(),
                out.describe()
            )
        });
        assert!(
            trace.contains("exit_group("),
            "the trace file has no exit_group line:\n{trace}"
        );
        let leaked = trace_like_lines(&out.stderr_str()).join("\n");
        assert!(
            leaked.is_empty(),
            "trace lines on stderr despite --trace-file:\n{leaked}"
        );
        assert_eq!(
            out.stdout_str(),
            "Hello from a static C guest!\n",
            "{}",
            out.describe()
        );
    }
}

#[test]
fn tracing_does_not_change_stdout() {
    for name in ["hello_rs", "hello_c", "stdio_c"] {
        let native = run_native(name, &[], &[]);
        for platform in PLATFORMS {
            let plain = Cmd::umk(["run", "--platform", platform, "--"])
                .arg(guest(name))
                .run();
            let traced = Cmd::umk(["run", "--platform", platform, "--trace", "--"])
                .arg(guest(name))
                .run();
            assert_same(&native, &plain);
            assert_same(&plain, &traced);
        }
    }
}

/// A successful execve's line shows the argv it was called with (strace
/// reads it at entry; umk reads it before the old image is replaced).
#[test]
fn traced_execve_shows_its_arguments() {
    for platform in PLATFORMS {
        let out = Cmd::umk(["run", "--platform", platform, "--trace", "--"])
            .arg(guest("bench_process"))
            .args(["-n", "1", "-t", "100", "fork_exec"])
            .run();
        out.assert_code(0);
        let err = out.stderr_str();
        let line = err
            .lines()
            .find(|l| l.contains("execve(") && l.ends_with("= 0"))
            .unwrap_or_else(|| panic!("no successful execve traced:\n{err}"));
        assert!(
            line.contains(", \"--exec-child\"], "),
            "execve's argv is missing: {line}"
        );
    }
}
