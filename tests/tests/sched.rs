//! umk's scheduler against Linux's on one CPU: guests natively under
//! `taskset -c 0` and under `umk run --cpus 1` must print the same (the
//! guests print verdicts, not measurements).
//!
//! These guests create threads or fork. CPU shares and CPU clocks are what
//! umk's scheduler charged: the host CPU time of the guest's stub thread
//! and of its kernel thread (see `sched::dispatch`, "Accounting").

use umk_tests::{assert_same, guest, Cmd, Output, DEFAULT_ENV};

fn native_on_cpu0(name: &str, args: &[&str]) -> Output {
    Cmd::new("taskset")
        .args(["-c", "0"])
        .arg(guest(name))
        .args(args)
        .envs(DEFAULT_ENV.iter().copied())
        .run()
}

fn umk_one_vcpu(name: &str, args: &[&str]) -> Output {
    Cmd::umk(["run", "--cpus", "1", "--"])
        .arg(guest(name))
        .args(args)
        .envs(DEFAULT_ENV.iter().copied())
        .run()
}

fn same_on_one_cpu(name: &str) {
    let native = native_on_cpu0(name, &[]);
    native.assert_code(0);
    let umk = umk_one_vcpu(name, &[]);
    assert_same(&native, &umk);
}

/// A SCHED_FIFO thread created by a CFS thread runs to completion before
/// its creator continues.
#[test]
fn fifo_thread_runs_before_its_creator() {
    same_on_one_cpu("sched_fifo_thread_c");
}

/// Two SCHED_FIFO threads of equal priority alternate on sched_yield.
#[test]
fn fifo_threads_alternate_on_yield() {
    same_on_one_cpu("sched_yield_thread_c");
}

/// Busy processes at nice 0 and nice 5 share one CPU about 3.06 : 1
/// (the guest checks 2.0..4.5).
#[test]
fn nice_weights_share_one_cpu() {
    same_on_one_cpu("sched_nice_c");
}

/// CPU clocks, getrusage and times agree with each other and with what the
/// process did (busy, sleeping, a busy thread that exits).
#[test]
fn cpu_time_accounting() {
    same_on_one_cpu("sched_cputime_thread_c");
}

/// `--cpus N` is what the guest sees as online CPUs and its affinity.
#[test]
fn cpus_option_sets_the_online_cpus() {
    let out = Cmd::umk([
        "run",
        "--cpus",
        "3",
        "--",
        "/bin/cat",
        "/sys/devices/system/cpu/online",
    ])
    .run();
    out.assert_code(0);
    assert_eq!(out.stdout_str(), "0-2\n");
    let out = Cmd::umk([
        "run",
        "--cpus",
        "1",
        "--",
        "/bin/cat",
        "/sys/devices/system/cpu/online",
    ])
    .run();
    assert_eq!(out.stdout_str(), "0\n");
}

/// `--trace-sched` alone traces scheduler events only; `--timeline` writes
/// a Chrome trace with one complete event per slice.
#[test]
fn trace_sched_and_timeline() {
    let dir = umk_tests::TempDir::new("sched-timeline");
    let tl = dir.join("timeline.json");
    let trace = dir.join("trace.txt");
    let out = Cmd::umk(["run", "--trace-sched", "--cpus", "2", "--timeline"])
        .arg(&tl)
        .arg("--trace-file")
        .arg(&trace)
        .arg("--")
        .arg(guest("hello_c"))
        .run();
    out.assert_code(0);
    let text = std::fs::read_to_string(&trace).expect("trace file");
    let lines: Vec<&str> = text.lines().collect();
    assert!(!lines.is_empty(), "no sched events");
    assert!(
        lines.iter().all(|l| l.starts_with("sched: t=")),
        "only sched lines expected:\n{text}"
    );
    assert!(lines.iter().any(|l| l.contains(" wakeup tid=1")), "{text}");
    assert!(
        lines
            .iter()
            .any(|l| l.contains(" switch prev=1 prev_state=X next=idle")),
        "{text}"
    );
    let json = std::fs::read_to_string(&tl).expect("timeline file");
    assert!(json.starts_with("{\"displayTimeUnit\":\"ns\",\"traceEvents\":["));
    assert!(json.trim_end().ends_with("]}"));
    assert!(json.contains("\"name\":\"vCPU 0\"") && json.contains("\"name\":\"vCPU 1\""));
    assert!(json.contains("\"name\":\"tid 1 (hello_c)\",\"cat\":\"sched\",\"ph\":\"X\""));
}
