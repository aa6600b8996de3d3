//! Command-line behaviour of the `umk` binary that needs no guest program.
//! (The differential suite lives in `tests/`; having an integration test
//! here also makes `cargo test --workspace` build the `umk` binary.)

use std::process::Command;

fn umk() -> Command {
    Command::new(env!("CARGO_BIN_EXE_umk"))
}

#[test]
fn help_lists_run() {
    let out = umk().arg("--help").output().expect("run umk --help");
    assert!(out.status.success());
    assert!(String::from_utf8_lossy(&out.stdout).contains("run"));
}

#[test]
fn run_without_program_is_a_usage_error() {
    let out = umk().arg("run").output().expect("run umk run");
    assert_eq!(out.status.code(), Some(2));
}

#[test]
fn missing_program_exits_127_with_one_line() {
    let out = umk()
        .args(["run", "/nonexistent/umk-test-prog"])
        .output()
        .expect("run umk");
    assert_eq!(out.status.code(), Some(127));
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(
        err,
        "umk: /nonexistent/umk-test-prog: No such file or directory\n"
    );
}
