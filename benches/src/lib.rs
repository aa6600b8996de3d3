//! `umk bench`: measures benchmark guests natively, under umk's platforms
//! and under peer tools, side by side, from one run.
//!
//! # What is measured
//! Benchmark guests are small static C programs (`guests/c/bench_*.c`) that
//! time an operation in a loop themselves and print `metric value unit`
//! lines (`getppid_ns 52.1 ns`) — one format for all, other lines ignored.
//! Each guest takes an iteration count (`-n`) and a time bound (`-t MS`), so
//! a slow runner does fewer iterations instead of taking longer; metrics are
//! per operation (or a ratio), so runs of different lengths compare. The
//! `real` suite runs host programs (a shell loop, python3) and the harness
//! times the whole run, spawn to exit. The suites and their metrics are the
//! table in [`suite::builtin`]; `umk bench --list` prints it.
//!
//! # Runners
//! A runner turns (program, args) into a command line ([`runner`]): `native`
//! runs the program itself; `umk-<platform>` runs `umk run --platform P --
//! program args` for each of [`runner::UMK_PLATFORMS`]; the peers `strace -f
//! -o /dev/null`, `proot` and `runsc --network=none --platform=ptrace do`
//! run when installed (runsc as root only). A missing runner is skipped with
//! a one-line note; nothing is ever installed.
//!
//! # Interleaving
//! For each benchmark, repetition by repetition, every runner runs once, in
//! an order rotated by one each repetition (A B C, B C A, C A B, …; see
//! [`plan`]), so drift over time hits every runner alike and none always
//! goes first.
//!
//! # Statistics
//! Per (benchmark, metric, runner) cell: every sample, the median, the min
//! and the max, and the ratio of the median to native's median ([`stats`]).
//! Each metric has a direction ([`metric::Better`]: times are lower is
//! better, rates higher, a fairness ratio neither); the ratio is always
//! median ÷ native median and the direction is shown beside it. A run that
//! fails (non-zero exit, signal, timeout, missing program, no metric line)
//! makes its cell n/a — never zero — with the reason (in the JSON and the
//! table's notes), and that runner is not retried on that benchmark.
//!
//! # Control
//! Every child runs in its own process group with PR_SET_PDEATHSIG(SIGKILL)
//! and is killed by process group on its timeout, when the total time budget
//! (`--time-budget`) runs out, or on Ctrl-C (a SIGINT/SIGTERM handler only
//! sets a flag); then scheduling stops and what finished is reported.
//! Progress goes to stderr (`[syscall/getppid] umk-ptrace 3/10 …`).
//!
//! # Output
//! `--format table` (markdown with a header: date, machine, exact command;
//! docs/BENCHMARKS.md is this output), `json` (every sample and run), `csv`
//! (one row per sample), on stdout or into `--output FILE`; `--plot F.svg`
//! writes a chart of the ratios to native ([`output`]).
//!
//! # Adding a benchmark or a runner
//! A benchmark: a test in a `guests/c/bench_*.c` guest (or a new guest; any
//! `guests/c/*.c` is built statically, `-pthread` when its name holds
//! `thread`) printing its metric lines, and one line in
//! [`suite::builtin`] (suite, name, guest, args, metrics, timeout). A
//! runner: a [`runner::RunnerKind`] with its command-line prefix in
//! `Runner::prefix`, its name in `known_names` and its detection in
//! `detect`; a new umk platform is one more entry in `UMK_PLATFORMS`.

use std::path::{Path, PathBuf};
use std::time::Duration;

pub mod engine;
pub mod env;
pub mod exec;
pub mod interrupt;
pub mod metric;
pub mod output;
pub mod plan;
pub mod progress;
pub mod report;
pub mod runner;
pub mod stats;
pub mod suite;

/// Output formats.
#[derive(clap::ValueEnum, Clone, Copy, Debug, PartialEq, Eq)]
pub enum Format {
    /// A markdown report with a header (date, machine, command).
    Table,
    /// Every sample and run, with the environment.
    Json,
    /// One row per sample.
    Csv,
}

/// The options of `umk bench`.
#[derive(clap::Args, Debug, Clone)]
pub struct BenchArgs {
    /// A suite (syscall, memory, process, sched, real), `all`, or one
    /// benchmark as SUITE/NAME; may be repeated. Default: every suite.
    #[arg(long = "suite", value_name = "NAME")]
    pub suites: Vec<String>,

    /// Comma-separated runners: native, umk-ptrace (or `umk` for every
    /// platform), strace, proot, runsc, `all`. Default: all that are
    /// installed.
    #[arg(long, value_name = "LIST")]
    pub runners: Vec<String>,

    /// Runs of each benchmark under each runner.
    #[arg(long, value_name = "N", default_value_t = 5)]
    pub repeat: usize,

    /// Output format.
    #[arg(long, value_enum, default_value_t = Format::Table)]
    pub format: Format,

    /// Also write an SVG chart of the ratios to native.
    #[arg(long, value_name = "FILE.svg")]
    pub plot: Option<PathBuf>,

    /// Hard limit on the whole run; on expiry the running child is killed
    /// and what finished is reported.
    #[arg(long = "time-budget", value_name = "SECONDS", default_value_t = 1800.0)]
    pub time_budget: f64,

    /// Where the benchmark guests are. Default: `guests/` beside this
    /// executable.
    #[arg(long, value_name = "DIR")]
    pub guest_dir: Option<PathBuf>,

    /// The umk binary for the umk-* runners. Default: this executable.
    #[arg(long, value_name = "PATH")]
    pub umk: Option<PathBuf>,

    /// List the suites, benchmarks and runners, and exit.
    #[arg(long)]
    pub list: bool,

    /// Write the output to FILE instead of stdout.
    #[arg(long, value_name = "FILE")]
    pub output: Option<PathBuf>,
}

/// Exit status when stopped by Ctrl-C (128 + SIGINT).
pub const EXIT_INTERRUPTED: i32 = 130;

fn default_guest_dir() -> PathBuf {
    std::env::current_exe()
        .ok()
        .and_then(|exe| exe.parent().map(|d| d.join("guests")))
        .unwrap_or_else(|| PathBuf::from("guests"))
}

fn default_umk() -> PathBuf {
    std::env::current_exe().unwrap_or_else(|_| PathBuf::from("umk"))
}

/// The `--list` text.
pub fn list_text(
    benchmarks: &[suite::Benchmark],
    runners: &[runner::Runner],
    skipped: &[runner::Skipped],
    guest_dir: &Path,
) -> String {
    let mut out = String::new();
    for (suite, about) in suite::SUITES {
        out.push_str(&format!("suite {suite}: {about}\n"));
        for b in benchmarks.iter().filter(|b| b.suite == *suite) {
            let metrics: Vec<String> = b
                .metrics
                .iter()
                .map(|m| format!("{} ({})", m.name, m.unit))
                .collect();
            let program = match &b.program {
                suite::Program::Guest(g) => g.clone(),
                suite::Program::System(c) => format!("{} (timed whole)", c.join(" or ")),
            };
            let missing = if b.resolve_program(guest_dir).is_err() {
                " [missing]"
            } else {
                ""
            };
            out.push_str(&format!(
                "  {:<28} {}{missing}: {}\n",
                b.id(),
                program,
                metrics.join(", ")
            ));
        }
    }
    out.push_str("runners:\n");
    for r in runners {
        out.push_str(&format!("  {:<12} {}\n", r.name, r.template().join(" ")));
    }
    for s in skipped {
        out.push_str(&format!("  {:<12} skipped: {}\n", s.name, s.reason));
    }
    out
}

/// Writes `text` to `path`, or to stdout when `path` is `None`.
fn emit(path: Option<&Path>, text: &str) -> Result<(), String> {
    match path {
        Some(p) => {
            std::fs::write(p, text).map_err(|e| format!("cannot write {}: {e}", p.display()))
        }
        None => {
            use std::io::Write;
            let mut out = std::io::stdout().lock();
            out.write_all(text.as_bytes())
                .and_then(|()| out.flush())
                .map_err(|e| format!("cannot write to stdout: {e}"))
        }
    }
}

/// Runs `umk bench` with `args`; returns the exit status: 0 done (also when
/// the time budget cut it short: the report says so), 130 interrupted
/// (after printing what finished), 2 bad arguments, 1 other errors.
pub fn run(args: &BenchArgs) -> i32 {
    let fail = |msg: String, code: i32| {
        eprintln!("umk bench: {msg}");
        code
    };
    let benchmarks = match suite::select(suite::builtin(), &args.suites) {
        Ok(b) => b,
        Err(e) => return fail(e, 2),
    };
    let names = match runner::parse_list(&args.runners) {
        Ok(n) => n,
        Err(e) => return fail(e, 2),
    };
    if args.repeat == 0 {
        return fail("--repeat must be at least 1".into(), 2);
    }
    if !(args.time_budget > 0.0 && args.time_budget.is_finite()) {
        return fail(
            "--time-budget must be a positive number of seconds".into(),
            2,
        );
    }
    let guest_dir = args.guest_dir.clone().unwrap_or_else(default_guest_dir);
    let umk = args.umk.clone().unwrap_or_else(default_umk);
    let (runners, skipped) = runner::detect(&names, &umk);
    if args.list {
        return match emit(
            None,
            &list_text(&benchmarks, &runners, &skipped, &guest_dir),
        ) {
            Ok(()) => 0,
            Err(e) => fail(e, 1),
        };
    }
    for s in &skipped {
        eprintln!("umk bench: skipping runner {}: {}", s.name, s.reason);
    }
    if runners.is_empty() {
        return fail("no runner available".into(), 2);
    }

    let command: Vec<String> = std::env::args().collect();
    let env = env::EnvInfo::collect(command, args.repeat, args.time_budget);
    let plan = engine::Plan {
        benchmarks,
        runners,
        skipped,
        repeat: args.repeat,
        budget: Duration::from_secs_f64(args.time_budget),
        guest_dir,
        big_file: Some(umk),
        progress: true,
    };
    let guard = interrupt::SignalGuard::install();
    if let Err(e) = &guard {
        eprintln!("umk bench: no Ctrl-C handler ({e}); Ctrl-C will end the run without a report");
    }
    let report = engine::execute(&plan, env, &interrupt::INTERRUPTED);
    drop(guard);

    let text = match args.format {
        Format::Table => output::table::render(&report),
        Format::Json => output::json::render(&report),
        Format::Csv => output::csv::render(&report),
    };
    let mut status = match report.stop {
        Some(report::StopReason::Interrupted) => EXIT_INTERRUPTED,
        _ => 0,
    };
    if let Err(e) = emit(args.output.as_deref(), &text) {
        status = fail(e, 1);
    } else if let Some(p) = &args.output {
        eprintln!("umk bench: wrote {}", p.display());
    }
    if let Some(p) = &args.plot {
        match emit(Some(p), &output::svg::render(&report)) {
            Ok(()) => eprintln!("umk bench: wrote {}", p.display()),
            Err(e) => status = fail(e, 1),
        }
    }
    status
}

#[cfg(test)]
mod tests {
    use super::*;
    use clap::Parser;

    #[derive(Parser, Debug)]
    struct Cli {
        #[command(flatten)]
        bench: BenchArgs,
    }

    fn parse(args: &[&str]) -> Result<BenchArgs, clap::Error> {
        Cli::try_parse_from(std::iter::once("bench").chain(args.iter().copied())).map(|c| c.bench)
    }

    #[test]
    fn defaults() {
        let a = parse(&[]).expect("no arguments");
        assert!(a.suites.is_empty() && a.runners.is_empty());
        assert_eq!(a.repeat, 5);
        assert_eq!(a.format, Format::Table);
        assert_eq!(a.time_budget, 1800.0);
        assert!(!a.list && a.plot.is_none() && a.output.is_none());
    }

    #[test]
    fn all_options() {
        let a = parse(&[
            "--suite",
            "syscall",
            "--suite",
            "memory/fork_cow",
            "--runners",
            "native,strace",
            "--repeat",
            "3",
            "--format",
            "json",
            "--plot",
            "r.svg",
            "--time-budget",
            "90.5",
            "--guest-dir",
            "/g",
            "--umk",
            "/u",
            "--output",
            "o.json",
        ])
        .expect("valid");
        assert_eq!(a.suites, ["syscall", "memory/fork_cow"]);
        assert_eq!(a.runners, ["native,strace"]);
        assert_eq!(a.repeat, 3);
        assert_eq!(a.format, Format::Json);
        assert_eq!(a.plot.as_deref(), Some(Path::new("r.svg")));
        assert_eq!(a.time_budget, 90.5);
        assert_eq!(a.guest_dir.as_deref(), Some(Path::new("/g")));
        assert_eq!(a.umk.as_deref(), Some(Path::new("/u")));
        assert_eq!(a.output.as_deref(), Some(Path::new("o.json")));
        assert!(parse(&["--format", "xml"]).is_err());
        assert!(parse(&["--repeat", "-1"]).is_err());
    }

    #[test]
    fn bad_arguments_exit_2() {
        let mut a = parse(&["--suite", "nonsense", "--list"]).expect("parses");
        assert_eq!(run(&a), 2);
        a.suites.clear();
        a.runners = vec!["docker".into()];
        assert_eq!(run(&a), 2);
        a.runners.clear();
        a.repeat = 0;
        a.list = false;
        assert_eq!(run(&a), 2);
    }

    #[test]
    fn list_names_everything() {
        let benches = suite::builtin();
        let (runners, skipped) = runner::detect(&runner::known_names(), Path::new("/nonexistent"));
        let text = list_text(&benches, &runners, &skipped, Path::new("/nonexistent"));
        for b in &benches {
            assert!(text.contains(&b.id()), "{}", b.id());
        }
        assert!(text.contains("umk-ptrace   skipped: no umk binary at /nonexistent"));
        assert!(text.contains("  native "));
    }
}
