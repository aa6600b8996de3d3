//! Smoke tests: real runs of tiny suites with the native runner. They
//! assert the shape of the results, never timing; every child has a short
//! timeout, so each test ends within seconds.

use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use umk_bench::engine::{execute, Plan};
use umk_bench::env::EnvInfo;
use umk_bench::metric::MetricSpec;
use umk_bench::report::{Report, RunStatus, StopReason};
use umk_bench::runner::Runner;
use umk_bench::suite::{Benchmark, Program, Source};
use umk_bench::{output, BenchArgs, Format};

/// A fresh directory under the system temp dir, removed on drop.
struct TempDir(PathBuf);

impl TempDir {
    fn new(tag: &str) -> TempDir {
        let dir = std::env::temp_dir().join(format!("umk-bench-{tag}-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).expect("temp dir");
        TempDir(dir)
    }
}

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

/// Compiles C `source` as a static guest `dir/name`; false without gcc.
fn compile(dir: &Path, name: &str, source: &Path) -> bool {
    let out = dir.join(name);
    match Command::new("gcc")
        .args(["-static", "-O2", "-Wall", "-Werror", "-o"])
        .arg(&out)
        .arg(source)
        .status()
    {
        Ok(s) if s.success() => true,
        Ok(s) => panic!("gcc failed on {}: {s}", source.display()),
        Err(e) => {
            eprintln!("skipping: no gcc ({e})");
            false
        }
    }
}

fn compile_str(dir: &Path, name: &str, code: &str) -> bool {
    let src = dir.join(format!("{name}.c"));
    std::fs::write(&src, code).expect("write C source");
    compile(dir, name, &src)
}

fn bench(
    name: &str,
    program: Program,
    args: &[&str],
    metrics: &[(&str, &str)],
    timeout_ms: u64,
) -> Benchmark {
    Benchmark {
        suite: "tiny".into(),
        name: name.into(),
        program,
        args: args.iter().map(|s| s.to_string()).collect(),
        metrics: metrics.iter().map(|(n, u)| MetricSpec::new(n, u)).collect(),
        source: Source::Stdout,
        timeout: Duration::from_millis(timeout_ms),
    }
}

fn plan(benchmarks: Vec<Benchmark>, guest_dir: &Path, repeat: usize, budget: Duration) -> Plan {
    Plan {
        benchmarks,
        runners: vec![Runner::native()],
        skipped: Vec::new(),
        repeat,
        budget,
        guest_dir: guest_dir.to_path_buf(),
        big_file: None,
        progress: false,
    }
}

fn env(repeat: usize) -> EnvInfo {
    EnvInfo::collect(vec!["smoke".into()], repeat, 60.0)
}

fn cell_reason(report: &Report, bench: usize) -> String {
    report.benchmarks[bench].metrics[0].cells[0]
        .na_reason()
        .unwrap_or_default()
}

#[test]
fn tiny_suite_native() {
    let dir = TempDir::new("tiny");
    let ok = compile_str(
        &dir.0,
        "tiny",
        "#include <stdio.h>\nint main(void) {\n  puts(\"starting\");\n  puts(\"tiny_ns 42.5 ns\");\n  \
         puts(\"garbage line 1 2 3\");\n  puts(\"other_ms 3 ms\");\n  return 0;\n}\n",
    ) && compile_str(
        &dir.0,
        "failing",
        "#include <stdio.h>\nint main(void) {\n  puts(\"x_ns 1 ns\");\n  fputs(\"cannot do it\\n\", stderr);\n  return 1;\n}\n",
    ) && compile_str(
        &dir.0,
        "silent",
        "#include <stdio.h>\nint main(void) {\n  puts(\"hello\");\n  return 0;\n}\n",
    );
    if !ok {
        return;
    }
    let guest = |n: &str| Program::Guest(n.to_string());
    let mut wall = bench(
        "wall",
        Program::System(vec!["/bin/true".into(), "true".into()]),
        &[],
        &[("true_ms", "ms")],
        10_000,
    );
    wall.source = Source::Wall { per: 1.0 };
    let benches = vec![
        bench(
            "tiny",
            guest("tiny"),
            &[],
            &[("tiny_ns", "ns"), ("other_ms", "ms"), ("absent_ns", "ns")],
            10_000,
        ),
        bench("failing", guest("failing"), &[], &[("x_ns", "ns")], 10_000),
        bench("silent", guest("silent"), &[], &[("x_ns", "ns")], 10_000),
        bench(
            "missing",
            guest("bench_missing"),
            &[],
            &[("x_ns", "ns")],
            10_000,
        ),
        bench(
            "slow",
            Program::System(vec!["/bin/sleep".into(), "sleep".into()]),
            &["30"],
            &[("x_ns", "ns")],
            300,
        ),
        wall,
    ];
    let stop = AtomicBool::new(false);
    let report = execute(
        &plan(benches, &dir.0, 3, Duration::from_secs(120)),
        env(3),
        &stop,
    );

    assert_eq!(report.stop, None);
    assert_eq!(report.runners.len(), 1);
    let tiny = &report.benchmarks[0];
    assert_eq!(tiny.runs.len(), 3);
    assert!(
        tiny.runs.iter().all(|r| r.status != RunStatus::Ok),
        "absent_ns is missing in every run"
    );
    let c = &tiny.metrics[0].cells[0];
    assert!(c.is_ok());
    assert_eq!(
        c.samples.iter().map(|s| s.value).collect::<Vec<_>>(),
        [42.5; 3]
    );
    assert_eq!(
        c.summary.map(|s| (s.median, s.min, s.max, s.n)),
        Some((42.5, 42.5, 42.5, 3))
    );
    assert_eq!(c.ratio, Some(1.0));
    assert!(tiny.metrics[1].cells[0].is_ok());
    assert!(cell_reason(&report, 0).is_empty());
    assert!(tiny.metrics[2].cells[0]
        .na_reason()
        .is_some_and(|r| r.contains("absent_ns missing")));

    // Failures: n/a with a reason, never a zero; a failed runner is not retried.
    let failing = &report.benchmarks[1];
    assert_eq!(failing.runs.len(), 1, "not retried after a failure");
    let reason = cell_reason(&report, 1);
    assert!(
        reason.contains("exit status 1") && reason.contains("cannot do it"),
        "{reason}"
    );
    assert!(failing.metrics[0].cells[0].ratio.is_none());
    assert!(cell_reason(&report, 2).contains("no metric lines"));
    assert!(cell_reason(&report, 3).contains("guest not built"));
    assert!(
        report.benchmarks[3].runs.is_empty(),
        "a missing guest is not run"
    );
    assert!(
        cell_reason(&report, 4).contains("timed out"),
        "{}",
        cell_reason(&report, 4)
    );

    // The harness-timed benchmark.
    let w = &report.benchmarks[5].metrics[0].cells[0];
    assert!(w.is_ok(), "{:?}", w.na_reason());
    assert_eq!(w.samples.len(), 3);
    assert!(w.samples.iter().all(|s| s.value > 0.0));

    // Every output writes something of the right shape.
    let table = output::table::render(&report);
    assert!(
        table.contains("| tiny | tiny_ns ↓ | 42.5 ns [42.5–42.5] ×1.00 |"),
        "{table}"
    );
    assert!(table.contains("| failing | x_ns ↓ | n/a ["));
    assert!(table.contains("## Notes (n/a)"));
    let json = output::json::render(&report);
    assert!(json.starts_with('{') && json.ends_with("}\n"));
    assert_eq!(json.matches("\"value\": 42.5").count(), 3, "every sample");
    let csv = output::csv::render(&report);
    assert_eq!(
        csv.lines()
            .filter(|l| l.starts_with("tiny,tiny,tiny_ns,ns,native,"))
            .count(),
        3
    );
    let svg = output::svg::render(&report);
    assert!(svg.starts_with("<svg") && svg.contains("only the native runner"));
}

#[test]
fn interrupt_stops_and_reports() {
    let dir = TempDir::new("interrupt");
    let benches = vec![
        bench(
            "slow",
            Program::System(vec!["/bin/sleep".into(), "sleep".into()]),
            &["30"],
            &[("x_ns", "ns")],
            60_000,
        ),
        bench(
            "never",
            Program::System(vec!["/bin/true".into(), "true".into()]),
            &[],
            &[("x_ns", "ns")],
            60_000,
        ),
    ];
    let stop = AtomicBool::new(false);
    let report = std::thread::scope(|s| {
        s.spawn(|| {
            std::thread::sleep(Duration::from_millis(300));
            stop.store(true, Ordering::SeqCst);
        });
        execute(
            &plan(benches, &dir.0, 3, Duration::from_secs(120)),
            env(3),
            &stop,
        )
    });
    assert_eq!(report.stop, Some(StopReason::Interrupted));
    let runs = &report.benchmarks[0].runs;
    assert_eq!(runs.len(), 1);
    assert!(matches!(runs[0].status, RunStatus::Aborted(_)));
    assert!(
        report.benchmarks[1].runs.is_empty(),
        "nothing scheduled after the stop"
    );
    assert_eq!(cell_reason(&report, 0), "not run");
    assert!(output::table::render(&report).contains("Stopped early:** interrupted"));
}

#[test]
fn time_budget_is_hard() {
    let dir = TempDir::new("budget");
    let benches = vec![bench(
        "slow",
        Program::System(vec!["/bin/sleep".into(), "sleep".into()]),
        &["30"],
        &[("x_ns", "ns")],
        60_000,
    )];
    let stop = AtomicBool::new(false);
    let report = execute(
        &plan(benches, &dir.0, 2, Duration::from_millis(300)),
        env(2),
        &stop,
    );
    assert_eq!(report.stop, Some(StopReason::BudgetExhausted));
    assert_eq!(report.benchmarks[0].runs.len(), 1);
}

/// `run` end to end on the real syscall guest: one benchmark, native only,
/// two repetitions; JSON and SVG files are written.
#[test]
fn run_writes_json_and_plot() {
    let dir = TempDir::new("run");
    let src = Path::new(env!("CARGO_MANIFEST_DIR")).join("../guests/c/bench_syscall.c");
    if !compile(&dir.0, "bench_syscall", &src) {
        return;
    }
    let json = dir.0.join("out.json");
    let svg = dir.0.join("out.svg");
    let args = BenchArgs {
        suites: vec!["syscall/getppid".into()],
        runners: vec!["native".into()],
        repeat: 2,
        format: Format::Json,
        plot: Some(svg.clone()),
        time_budget: 60.0,
        guest_dir: Some(dir.0.clone()),
        umk: Some(dir.0.join("no-umk")),
        list: false,
        output: Some(json.clone()),
    };
    assert_eq!(umk_bench::run(&args), 0);
    let text = std::fs::read_to_string(&json).expect("json written");
    assert!(text.contains("\"name\": \"getppid_ns\""));
    assert!(text.contains("\"status\": \"ok\""));
    assert_eq!(
        text.matches("\"rep\": ").count(),
        2 + 2,
        "two samples and two runs"
    );
    let plot = std::fs::read_to_string(&svg).expect("svg written");
    assert!(plot.starts_with("<svg"));
}
