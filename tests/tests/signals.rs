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
