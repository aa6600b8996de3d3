//! Executes a plan: runs every (benchmark, repetition, runner) step in the
//! interleaved order of [`crate::plan`], turns each run into samples or a
//! failure, and assembles the [`Report`].

use std::path::PathBuf;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use crate::env::EnvInfo;
use crate::exec::{self, Limits, Outcome};
use crate::metric::{parse_output, MetricLine};
use crate::plan;
use crate::progress::Progress;
use crate::report::{
    BenchResult, Cell, MetricResult, Report, RunRecord, RunStatus, RunnerInfo, Sample, StopReason,
};
use crate::runner::{Runner, Skipped};
use crate::suite::{Benchmark, Source};

/// What to run.
#[derive(Clone, Debug)]
pub struct Plan {
    pub benchmarks: Vec<Benchmark>,
    pub runners: Vec<Runner>,
    pub skipped: Vec<Skipped>,
    pub repeat: usize,
    /// The hard limit on the whole run.
    pub budget: Duration,
    pub guest_dir: PathBuf,
    /// Stands for [`crate::suite::BIG_FILE`]; when `None` (or missing), the
    /// benchmark's own program is used.
    pub big_file: Option<PathBuf>,
    pub progress: bool,
}

/// The line of a child's stderr that best says what went wrong, shortened:
/// the last one that mentions an error, else the last non-empty one.
fn last_line(text: &str) -> Option<String> {
    let lines = || text.lines().rev().map(str::trim).filter(|l| !l.is_empty());
    let line = lines()
        .find(|l| l.to_ascii_lowercase().contains("error"))
        .or_else(|| lines().next())?;
    let mut short: String = line.chars().take(200).collect();
    if short.len() < line.len() {
        short.push('…');
    }
    Some(short)
}

/// Multiplier from seconds to `unit`.
fn seconds_to(unit: &str) -> f64 {
    match unit {
        "ns" => 1e9,
        "us" | "µs" => 1e6,
        "ms" => 1e3,
        _ => 1.0,
    }
}

/// What one run gave for each metric of its benchmark.
enum RunValues {
    /// One entry per metric: a value or why it is missing.
    Metrics(Vec<Result<f64, String>>),
    Failed(String),
    Aborted(StopReason, String),
}

fn evaluate(bench: &Benchmark, result: &exec::ChildResult) -> RunValues {
    let with_stderr = |what: String| match last_line(&result.stderr_tail) {
        Some(line) => format!("{what}: {line}"),
        None => what,
    };
    match &result.outcome {
        Outcome::Exited(0) => {}
        Outcome::Interrupted => {
            return RunValues::Aborted(StopReason::Interrupted, result.outcome.describe())
        }
        Outcome::BudgetExhausted => {
            return RunValues::Aborted(StopReason::BudgetExhausted, result.outcome.describe())
        }
        other => return RunValues::Failed(with_stderr(other.describe())),
    }
    match bench.source {
        Source::Wall { per } => {
            let unit = &bench.metrics[0].unit;
            let value = result.wall.as_secs_f64() * seconds_to(unit) / per;
            RunValues::Metrics(vec![Ok(value)])
        }
        Source::Stdout => {
            let lines = parse_output(&result.stdout);
            if lines.is_empty() {
                return RunValues::Failed(with_stderr("no metric lines".to_string()));
            }
            let find =
                |name: &str| -> Option<&MetricLine> { lines.iter().find(|l| l.name == name) };
            RunValues::Metrics(
                bench
                    .metrics
                    .iter()
                    .map(|spec| match find(&spec.name) {
                        Some(l) if l.unit == spec.unit => Ok(l.value),
                        Some(l) => Err(format!(
                            "unit mismatch: {} in {}, expected {}",
                            spec.name, l.unit, spec.unit
                        )),
                        None => Err(with_stderr(format!("metric {} missing", spec.name))),
                    })
                    .collect(),
            )
        }
    }
}

/// A benchmark's result before any run: resolved program and arguments,
/// and empty cells (n/a for every runner if the program is missing).
fn blank_result(plan: &Plan, b: &Benchmark, program: &Result<PathBuf, String>) -> BenchResult {
    let failure = program.as_ref().err().cloned();
    let (program, args) = match program {
        Ok(p) => {
            let big = plan.big_file.as_ref().filter(|f| f.is_file()).unwrap_or(p);
            (p.display().to_string(), b.resolve_args(big))
        }
        Err(_) => (b.program.describe(&plan.guest_dir), b.args.clone()),
    };
    let cells = || -> Vec<Cell> {
        (0..plan.runners.len())
            .map(|_| Cell {
                failure: failure.clone(),
                ..Cell::default()
            })
            .collect()
    };
    BenchResult {
        suite: b.suite.clone(),
        name: b.name.clone(),
        program,
        args,
        metrics: b
            .metrics
            .iter()
            .map(|spec| MetricResult {
                spec: spec.clone(),
                cells: cells(),
            })
            .collect(),
        runs: Vec::new(),
    }
}

/// Runs the plan; stops early when `stop` is set (Ctrl-C) or the budget
/// runs out, and reports what finished either way.
pub fn execute(plan: &Plan, env: EnvInfo, stop: &AtomicBool) -> Report {
    let start = Instant::now();
    let budget_end = start + plan.budget;
    let mut progress = Progress::new(plan.progress);
    let n_runners = plan.runners.len();

    let programs: Vec<Result<PathBuf, String>> = plan
        .benchmarks
        .iter()
        .map(|b| b.resolve_program(&plan.guest_dir))
        .collect();
    let mut results: Vec<BenchResult> = plan
        .benchmarks
        .iter()
        .zip(&programs)
        .map(|(b, program)| blank_result(plan, b, program))
        .collect();
    for (b, p) in plan.benchmarks.iter().zip(&programs) {
        if let Err(e) = p {
            progress.note(&format!("[{}] n/a for every runner: {e}", b.id()));
        }
    }

    let steps = plan::schedule(plan.benchmarks.len(), n_runners, plan.repeat);
    let total = steps.len();
    let mut stopped: Option<StopReason> = None;
    // Runs that failed as a whole (not just one missing metric).
    let mut failed = vec![vec![false; n_runners]; plan.benchmarks.len()];
    for (i, step) in steps.iter().enumerate() {
        let bench = &plan.benchmarks[step.bench];
        let runner = &plan.runners[step.runner];
        let Ok(program) = &programs[step.bench] else {
            continue;
        };
        if failed[step.bench][step.runner] {
            continue; // failed before: not retried
        }
        let result = &mut results[step.bench];
        if stop.load(Ordering::SeqCst) {
            stopped = Some(StopReason::Interrupted);
            break;
        }
        let now = Instant::now();
        if now >= budget_end {
            stopped = Some(StopReason::BudgetExhausted);
            break;
        }
        progress.step(&Progress::format_step(
            &bench.id(),
            &runner.name,
            step.rep + 1,
            plan.repeat,
            i + 1,
            total,
            now - start,
        ));
        let argv = runner.command_line(program, &result.args);
        let child = exec::run(
            &argv,
            Limits {
                timeout: bench.timeout,
                budget_end,
                stop,
            },
        );
        let mut record = RunRecord {
            runner: step.runner,
            rep: step.rep,
            status: RunStatus::Ok,
            wall_s: child.wall.as_secs_f64(),
            stderr_tail: child.stderr_tail.clone(),
        };
        match evaluate(bench, &child) {
            RunValues::Metrics(values) => {
                let mut problems = Vec::new();
                for (metric, value) in result.metrics.iter_mut().zip(values) {
                    let cell = &mut metric.cells[step.runner];
                    match value {
                        Ok(value) => cell.samples.push(Sample {
                            rep: step.rep,
                            value,
                        }),
                        Err(why) => {
                            cell.failure.get_or_insert_with(|| why.clone());
                            problems.push(why);
                        }
                    }
                }
                if !problems.is_empty() {
                    let why = problems.join("; ");
                    progress.note(&format!("[{}] {}: n/a: {why}", bench.id(), runner.name));
                    record.status = RunStatus::Failed(why);
                }
            }
            RunValues::Failed(why) => {
                failed[step.bench][step.runner] = true;
                progress.note(&format!("[{}] {}: n/a: {why}", bench.id(), runner.name));
                for metric in &mut result.metrics {
                    metric.cells[step.runner].failure = Some(why.clone());
                }
                record.status = RunStatus::Failed(why);
            }
            RunValues::Aborted(reason, why) => {
                record.status = RunStatus::Aborted(why);
                result.runs.push(record);
                stopped = Some(reason);
                break;
            }
        }
        result.runs.push(record);
    }
    progress.clear();
    if let Some(reason) = stopped {
        progress.note(&format!(
            "umk bench: stopped ({}); reporting what finished",
            reason.as_str()
        ));
    }
    let mut report = Report {
        env,
        runners: plan
            .runners
            .iter()
            .map(|r| RunnerInfo {
                name: r.name.clone(),
                command: r.template(),
            })
            .collect(),
        skipped: plan.skipped.clone(),
        benchmarks: results,
        stop: stopped,
        elapsed_s: start.elapsed().as_secs_f64(),
    };
    report.finalize();
    report
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn last_line_of_stderr() {
        assert_eq!(last_line("a\nb\n\n  \n"), Some("b".to_string()));
        assert_eq!(
            last_line("error: unexpected argument 'run'\n\nUsage: x\nFor more information, try '--help'.\n"),
            Some("error: unexpected argument 'run'".to_string())
        );
        assert_eq!(last_line(""), None);
        let long = "x".repeat(300);
        assert_eq!(last_line(&long).map(|l| l.chars().count()), Some(201));
    }

    #[test]
    fn unit_conversion() {
        assert_eq!(seconds_to("ms"), 1e3);
        assert_eq!(seconds_to("us"), 1e6);
        assert_eq!(seconds_to("ns"), 1e9);
    }
}
