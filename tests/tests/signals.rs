//! Signal delivery guests, natively vs under umk. umk cannot deliver
//! signals to handlers yet (issue 3): the `runtime/src/signal` module holds
//! the machinery; these tests turn on when the run loop uses it.

use umk_tests::{differential, Compare, DEFAULT_ENV};

fn same(name: &str) {
    let native = differential(name, &[], DEFAULT_ENV, Compare::StdoutAndStderr);
    assert_eq!(native.code(), Some(0), "{name} fails natively");
}

#[test]
#[ignore = "needs signal delivery (issue 3)"]
fn signal_c() {
    same("signal_c");
}

#[test]
#[ignore = "needs signal delivery (issue 3)"]
fn sigfault_c() {
    same("sigfault_c");
}

#[test]
#[ignore = "needs signal delivery (issue 3)"]
fn sigrestart_c() {
    same("sigrestart_c");
}
