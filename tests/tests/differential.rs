//! Each guest (and argument variant) natively vs under umk, on every
//! platform: stdout, stderr and exit status must be identical.

use umk_tests::{all_guests, differential, Compare, DEFAULT_ENV};

/// The guests covered below; `every_guest_is_covered` keeps this honest.
const COVERED: &[&str] = &[
    "hello_rs",
    "args_rs",
    "exit_code_rs",
    "hello_c",
    "stdio_c",
    "memory_c",
    "badptr_c",
    "fileio_c",
    "info_c",
    // Covered in processes.rs.
    "fork_c",
    "exec_c",
    "pgrp_c",
    "thread_c",
    "thread_exit_c",
    "thread_robust_c",
    "thread_signal_c",
    "rusage_c",
    "pipe_c",
    "forkbomb_c",
    "sched_c",
    // Scheduling guests that need threads or fork: tests in sched.rs.
    "sched_fifo_thread_c",
    "sched_yield_thread_c",
    "sched_nice_c",
    "sched_cputime_thread_c",
    // Signal delivery: tests/tests/signals.rs.
    "signal_c",
    "sigfault_c",
    "sigrestart_c",
    "jobctl_c",
];

fn same(name: &str, args: &[&str]) {
    differential(name, args, DEFAULT_ENV, Compare::StdoutAndStderr);
}

#[test]
fn every_guest_is_covered() {
    let missing: Vec<&str> = all_guests()
        .filter(|g| !g.starts_with("bench_") && !COVERED.contains(g))
        .collect();
    assert!(
        missing.is_empty(),
        "guests without a differential test: {missing:?}"
    );
}

#[test]
fn hello_rs() {
    let native = differential("hello_rs", &[], &[], Compare::StdoutAndStderr);
    assert_eq!(native.code(), Some(0));
}

#[test]
fn args_rs_no_args() {
    same("args_rs", &[]);
}

#[test]
fn args_rs_args() {
    same("args_rs", &["one", "two words", "", "--", "-x", "ünïcödé"]);
}

#[test]
fn args_rs_empty_environment() {
    differential("args_rs", &["a"], &[], Compare::StdoutAndStderr);
}

#[test]
fn args_rs_many_args() {
    let many: Vec<String> = (0..200).map(|i| format!("arg{i}")).collect();
    let many: Vec<&str> = many.iter().map(String::as_str).collect();
    differential(
        "args_rs",
        &many,
        &[("UMK_TEST_VAR", "x"), ("OTHER", "y")],
        Compare::StdoutAndStderr,
    );
}

#[test]
fn exit_code_rs_0() {
    same("exit_code_rs", &["0"]);
}

#[test]
fn exit_code_rs_42() {
    same("exit_code_rs", &["42"]);
}

#[test]
fn exit_code_rs_255() {
    same("exit_code_rs", &["255"]);
}

#[test]
fn exit_code_rs_wraps_at_256() {
    same("exit_code_rs", &["300"]);
}

#[test]
fn exit_code_rs_negative() {
    same("exit_code_rs", &["-1"]);
}

#[test]
fn exit_code_rs_usage_error() {
    same("exit_code_rs", &[]);
}

#[test]
fn hello_c() {
    same("hello_c", &[]);
}

#[test]
fn stdio_c() {
    same("stdio_c", &[]);
}

#[test]
fn stdio_c_args_and_exit_status() {
    same("stdio_c", &["alpha", "beta gamma", "--exit=7"]);
}

#[test]
fn memory_c() {
    same("memory_c", &[]);
}

#[test]
fn badptr_c() {
    same("badptr_c", &[]);
}

#[test]
fn fileio_c() {
    same("fileio_c", &[]);
}

#[test]
fn info_c() {
    same("info_c", &[]);
}

#[test]
fn sched_c() {
    same("sched_c", &[]);
}

#[test]
fn sched_c_one_vcpu() {
    let native = umk_tests::run_native("sched_c", &[], DEFAULT_ENV);
    let umk = umk_tests::Cmd::umk(["run", "--cpus", "1", "--"])
        .arg(umk_tests::guest("sched_c"))
        .envs(DEFAULT_ENV.iter().copied())
        .run();
    umk_tests::assert_same_with_stderr(&native, &umk);
}
