//! Nothing outlives umk: SIGKILL of umk itself while guests run (several
//! stubs, some blocked in syscalls) leaves no stub process behind — each stub
//! has `PR_SET_PDEATHSIG(SIGKILL)` and is seized with `PTRACE_O_EXITKILL`.

use std::time::{Duration, Instant};

use umk_tests::{check_stub_leaks, Background, PLATFORMS};

/// Waits until `umk` has at least `n` live descendants (its stubs), or
/// gives up after a few seconds.
fn wait_for_descendants(umk: &Background, n: usize) -> Vec<i32> {
    let start = Instant::now();
    loop {
        let d = umk.descendants();
        if d.len() >= n || start.elapsed() > Duration::from_secs(10) {
            return d;
        }
        std::thread::sleep(Duration::from_millis(20));
    }
}

fn alive(pid: i32) -> bool {
    std::fs::read_to_string(format!("/proc/{pid}/stat")).is_ok_and(|s| {
        let state = s
            .rsplit_once(')')
            .and_then(|(_, r)| r.trim_start().chars().next());
        !matches!(state, Some('Z' | 'X') | None)
    })
}

#[test]
fn sigkill_of_umk_leaves_no_stub() {
    for platform in PLATFORMS {
        // A shell with three children sleeping (blocked in umk) and the
        // shell itself blocked in wait4.
        let umk = Background::umk([
            "run",
            "--platform",
            platform,
            "--",
            "/bin/sh",
            "-c",
            "sleep 30 & sleep 30 & sleep 30 & wait",
        ]);
        let stubs = wait_for_descendants(&umk, 4);
        assert!(
            stubs.len() >= 4,
            "umk did not start its guests: descendants {stubs:?}"
        );
        umk.sigkill();
        let start = Instant::now();
        while stubs.iter().any(|&p| alive(p)) && start.elapsed() < Duration::from_secs(5) {
            std::thread::sleep(Duration::from_millis(20));
        }
        let left: Vec<i32> = stubs.iter().copied().filter(|&p| alive(p)).collect();
        let leaks = check_stub_leaks();
        assert!(
            left.is_empty() && leaks.is_empty(),
            "{platform}: still alive after SIGKILL of umk: {left:?}, leaks {leaks:?}"
        );
    }
}
