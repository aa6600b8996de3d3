//! Signal delivery guests, natively vs under umk: handlers, masks, the
//! frame, faults and syscall restart.

use umk_tests::{differential, Compare, DEFAULT_ENV};

fn same(name: &str) {
    let native = differential(name, &[], DEFAULT_ENV, Compare::StdoutAndStderr);
    assert_eq!(native.code(), Some(0), "{name} fails natively");
}

#[test]
fn signal_c() {
    same("signal_c");
}

#[test]
fn sigfault_c() {
    same("sigfault_c");
}

#[test]
fn sigrestart_c() {
    same("sigrestart_c");
}

fn same_args(name: &str, args: &[&str]) {
    let native = differential(name, args, DEFAULT_ENV, Compare::StdoutAndStderr);
    assert_eq!(native.code(), Some(0), "{name} {args:?} fails natively");
}

/// Job control: stop/continue, WUNTRACED/WCONTINUED/WNOWAIT, SIGCHLD codes,
/// a sleep across a stop, orphaned process groups.
#[test]
fn jobctl_c_stop() {
    same_args("jobctl_c", &["stop"]);
}

#[test]
fn jobctl_c_sigchld() {
    same_args("jobctl_c", &["sigchld"]);
}

#[test]
fn jobctl_c_waitid() {
    same_args("jobctl_c", &["waitid"]);
}

#[test]
fn jobctl_c_sleep() {
    same_args("jobctl_c", &["sleep"]);
}

#[test]
fn jobctl_c_orphan() {
    same_args("jobctl_c", &["orphan"]);
}
