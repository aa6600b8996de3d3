//! The stub pool (`runtime/src/platform/pool.rs`): stubs made ahead of time
//! and stubs given back by exited processes sit parked and untraced, so
//! `PTRACE_O_EXITKILL` does not cover them; their parent-death signal must.
//! A umk killed with SIGKILL in the middle of a fork loop leaves no stub
//! behind.

use std::os::unix::process::CommandExt;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use umk_tests::{become_subreaper, check_stub_leaks, guest, umk_binary, PLATFORMS};

#[test]
fn sigkill_of_umk_leaves_no_stub() {
    become_subreaper();
    for platform in PLATFORMS {
        let mut cmd = Command::new(umk_binary());
        cmd.args(["run", "--platform", platform, "--"])
            .arg(guest("bench_process"))
            .args(["-n", "1000000", "-t", "20000", "fork_exit"])
            .env_clear()
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null());
        // SAFETY: prctl takes integers only and is async-signal-safe.
        unsafe {
            cmd.pre_exec(|| {
                libc::prctl(
                    libc::PR_SET_PDEATHSIG,
                    libc::SIGKILL as libc::c_ulong,
                    0,
                    0,
                    0,
                );
                Ok(())
            });
        }
        let mut child = cmd.spawn().expect("start umk");
        let pid = child.id() as i32;
        // Let the fork loop run (the pool is filled and stubs come back).
        std::thread::sleep(Duration::from_millis(700));
        let stubs = stub_children(pid);
        // SAFETY: kill by the pid of our own child.
        unsafe { libc::kill(pid, libc::SIGKILL) };
        let status = child.wait().expect("wait for umk");
        assert_eq!(
            std::os::unix::process::ExitStatusExt::signal(&status),
            Some(libc::SIGKILL),
            "umk should have been killed, not ended with {status:?}"
        );
        assert!(
            stubs >= 2,
            "{platform}: expected a running guest and pooled stubs, found {stubs} stubs"
        );
        let start = Instant::now();
        let leaks = check_stub_leaks();
        assert!(
            leaks.is_empty(),
            "{platform}: stubs outlived a SIGKILLed umk: {leaks:?} (checked for {:?})",
            start.elapsed()
        );
    }
}

/// How many children of `pid` are stubs (`umk-stub`).
fn stub_children(pid: i32) -> usize {
    let Ok(dir) = std::fs::read_dir("/proc") else {
        return 0;
    };
    dir.filter_map(|e| e.ok()?.file_name().to_str()?.parse::<i32>().ok())
        .filter(|p| {
            let Ok(stat) = std::fs::read_to_string(format!("/proc/{p}/stat")) else {
                return false;
            };
            let Some(close) = stat.rfind(')') else {
                return false;
            };
            let comm = stat.get(stat.find('(').map_or(0, |i| i + 1)..close);
            let ppid = stat
                .get(close + 1..)
                .and_then(|r| r.split_whitespace().nth(1))
                .and_then(|s| s.parse::<i32>().ok());
            comm == Some("umk-stub") && ppid == Some(pid)
        })
        .count()
}
