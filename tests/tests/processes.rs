//! Processes, threads and pipes between processes: `fork_c`, `exec_c`,
//! `pgrp_c`, `thread_c`, `thread_exit_c`, `pipe_c` and `forkbomb_c`, natively
//! vs under umk.
//!
//! Each guest runs whole and section by section (`<guest> <section>` runs
//! one part), so that each part can be enabled as umk learns it. A part
//! umk cannot pass yet is `#[ignore]`d with what it needs; run those
//! anyway with
//! `cargo test -p umk-tests --test processes -- --ignored`.
//!
//! The `*_natively` tests (not ignored) run every variant natively only, so
//! the guests and their section arguments stay correct in the meantime.

use umk_tests::{differential, guest, run_native, Cmd, Compare, DEFAULT_ENV, PLATFORMS};

fn same(name: &str, args: &[&str]) {
    differential(name, args, DEFAULT_ENV, Compare::StdoutAndStderr);
}

/// Runs each `(guest, args)` natively: exit 0 and the guest's summary line.
fn natively(variants: &[(&str, &[&str])]) {
    for (name, args) in variants {
        let out = run_native(name, args, DEFAULT_ENV);
        assert!(
            out.code() == Some(0) && out.stdout_str().contains("checks passed\n"),
            "{name} {args:?} fails natively:\n{}",
            out.describe()
        );
        assert!(
            out.stderr.is_empty(),
            "{name} {args:?}: unexpected stderr:\n{}",
            out.describe()
        );
    }
}

/// `tests! { native_test_name; [#[ignore = "why"]] test: "guest" [args]; ... }`:
/// one differential test per variant (ignored where umk still lacks what it
/// needs), and one test that runs all of them natively.
macro_rules! tests {
    ($native:ident; $($(#[$m:meta])* $test:ident: $guest:literal [$($arg:literal),*];)*) => {
        $(
            #[test]
            $(#[$m])*
            fn $test() {
                same($guest, &[$($arg),*]);
            }
        )*

        #[test]
        fn $native() {
            natively(&[$(($guest, &[$($arg),*])),*]);
        }
    };
}

tests! {
    fork_c_natively;
    fork_c: "fork_c" [];
    fork_c_status: "fork_c" ["status"];
    fork_c_cow: "fork_c" ["cow"];
    fork_c_wait: "fork_c" ["wait"];
    fork_c_waitid: "fork_c" ["waitid"];
    fork_c_zombie: "fork_c" ["zombie"];
    fork_c_orphan: "fork_c" ["orphan"];
    fork_c_sigchld: "fork_c" ["sigchld"];
    fork_c_many: "fork_c" ["many"];
    fork_c_chain: "fork_c" ["chain"];
}

tests! {
    exec_c_natively;
    exec_c: "exec_c" [];
    exec_c_args: "exec_c" ["args"];
    exec_c_exit: "exec_c" ["exit"];
    exec_c_pid: "exec_c" ["pid"];
    exec_c_fds: "exec_c" ["fds"];
    exec_c_signals: "exec_c" ["signals"];
    exec_c_errors: "exec_c" ["errors"];
    exec_c_script: "exec_c" ["script"];
    exec_c_vfork: "exec_c" ["vfork"];
    exec_c_arglimit: "exec_c" ["arglimit"];
}

tests! {
    pgrp_c_natively;
    pgrp_c: "pgrp_c" [];
    pgrp_c_ids: "pgrp_c" ["ids"];
    pgrp_c_setsid: "pgrp_c" ["setsid"];
    pgrp_c_setpgid: "pgrp_c" ["setpgid"];
    pgrp_c_killpg: "pgrp_c" ["killpg"];
    pgrp_c_kill: "pgrp_c" ["kill"];
}

tests! {
    thread_c_natively;
    thread_c: "thread_c" [];
    thread_c_join: "thread_c" ["join"];
    thread_c_mutex: "thread_c" ["mutex"];
    thread_c_cond: "thread_c" ["cond"];
    thread_c_tls: "thread_c" ["tls"];
    thread_c_ids: "thread_c" ["ids"];
    thread_c_detach: "thread_c" ["detach"];
    thread_c_barrier: "thread_c" ["barrier"];
    thread_c_pipe: "thread_c" ["pipe"];
    thread_c_futex: "thread_c" ["futex"];
    thread_c_misc: "thread_c" ["misc"];
}

tests! {
    thread_robust_c_natively;
    thread_robust_c: "thread_robust_c" [];
}

tests! {
    rusage_c_natively;
    rusage_c: "rusage_c" [];
}

tests! {
    thread_signal_c_natively;
    thread_signal_c: "thread_signal_c" [];
}

tests! {
    thread_exit_c_natively;
    thread_exit_c: "thread_exit_c" [];
    thread_exit_c_exit: "thread_exit_c" ["exit"];
    thread_exit_c_underscore_exit: "thread_exit_c" ["_exit"];
    thread_exit_c_return: "thread_exit_c" ["return"];
    thread_exit_c_pthread_exit: "thread_exit_c" ["pthread_exit"];
    thread_exit_c_sys_exit: "thread_exit_c" ["sys_exit"];
    thread_exit_c_kill: "thread_exit_c" ["kill"];
    thread_exit_c_fault: "thread_exit_c" ["fault"];
    thread_exit_c_fork: "thread_exit_c" ["fork"];
    thread_exit_c_exec: "thread_exit_c" ["exec"];
}

tests! {
    pipe_c_natively;
    pipe_c: "pipe_c" [];
    pipe_c_basic: "pipe_c" ["basic"];
    pipe_c_eof: "pipe_c" ["eof"];
    pipe_c_bulk: "pipe_c" ["bulk"];
    pipe_c_sigpipe: "pipe_c" ["sigpipe"];
    pipe_c_poll: "pipe_c" ["poll"];
    pipe_c_atomic: "pipe_c" ["atomic"];
    pipe_c_redirect: "pipe_c" ["redirect"];
}

tests! {
    forkbomb_c_natively;
    forkbomb_c: "forkbomb_c" [];
    forkbomb_c_20_3_rounds: "forkbomb_c" ["20", "3"];
}

/// The number after `prefix` on a line of `stdout`.
fn number_after(stdout: &str, prefix: &str) -> Option<usize> {
    stdout
        .lines()
        .find_map(|l| l.strip_prefix(prefix))
        .and_then(|n| n.trim().parse().ok())
}

/// A fork bomb under `--max-tasks 64`, twice: fork fails with EAGAIN before
/// 64 children, the guest kills and reaps them all, the second round gets as
/// many children as the first (reaped tasks are given back), and (checked by
/// `Cmd::umk`) no stub process outlives umk.
#[test]
fn forkbomb_c_hits_max_tasks() {
    const MAX_TASKS: usize = 64;
    for platform in PLATFORMS {
        let out = Cmd::umk([
            "run",
            "--platform",
            platform,
            "--max-tasks",
            &MAX_TASKS.to_string(),
            "--",
        ])
        .arg(guest("forkbomb_c"))
        .args(["10000", "2"])
        .envs(DEFAULT_ENV.iter().copied())
        .run();
        out.assert_code(0);
        let stdout = out.stdout_str();
        assert!(
            stdout.contains("fork failed with EAGAIN: yes\n")
                && stdout.contains("every round forked as many children as the first: yes\n")
                && stdout.contains("all children killed by SIGTERM and reaped: yes\n")
                && stdout.contains("no process left behind: -1 ECHILD\n"),
            "{}",
            out.describe()
        );
        let forked = number_after(&stdout, "children forked: ")
            .unwrap_or_else(|| panic!("no `children forked: N` line:\n{}", out.describe()));
        // The guest and its manager are tasks too.
        assert!(
            (1..=MAX_TASKS - 2).contains(&forked),
            "{forked} children under --max-tasks {MAX_TASKS}:\n{}",
            out.describe()
        );
    }
}
