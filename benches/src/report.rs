//! The results of a bench run: every run, every sample, and per cell
//! (benchmark × metric × runner) the statistics and the ratio to native.

use crate::env::EnvInfo;
use crate::metric::MetricSpec;
use crate::runner::Skipped;
use crate::stats::{self, Summary};

/// Why a run stopped before its plan was done.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum StopReason {
    Interrupted,
    BudgetExhausted,
}

impl StopReason {
    pub fn as_str(self) -> &'static str {
        match self {
            StopReason::Interrupted => "interrupted",
            StopReason::BudgetExhausted => "time budget exhausted",
        }
    }
}

/// A runner as reported: its name and command-line template.
#[derive(Clone, Debug, PartialEq)]
pub struct RunnerInfo {
    pub name: String,
    pub command: Vec<String>,
}

/// How one run went.
#[derive(Clone, Debug, PartialEq)]
pub enum RunStatus {
    Ok,
    /// The run failed: the cell is n/a for this reason.
    Failed(String),
    /// The run was stopped (Ctrl-C, budget): it counts for nothing.
    Aborted(String),
}

/// One run of a benchmark under a runner.
#[derive(Clone, Debug, PartialEq)]
pub struct RunRecord {
    pub runner: usize,
    /// 0-based.
    pub rep: usize,
    pub status: RunStatus,
    pub wall_s: f64,
    pub stderr_tail: String,
}

/// One value of one metric from one run.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Sample {
    /// 0-based repetition.
    pub rep: usize,
    pub value: f64,
}

/// The results of one metric under one runner.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Cell {
    pub samples: Vec<Sample>,
    /// Set by the first failed run: the cell is then n/a, whatever samples
    /// earlier runs gave.
    pub failure: Option<String>,
    /// Filled by [`Report::finalize`].
    pub summary: Option<Summary>,
    /// This cell's median over native's; filled by [`Report::finalize`].
    pub ratio: Option<f64>,
}

impl Cell {
    /// Whether the cell has a value to show.
    pub fn is_ok(&self) -> bool {
        self.failure.is_none() && self.summary.is_some()
    }

    /// Why the cell is n/a, or `None` when it is not.
    pub fn na_reason(&self) -> Option<String> {
        match (&self.failure, self.summary) {
            (Some(f), _) => Some(f.clone()),
            (None, None) => Some("not run".to_string()),
            (None, Some(_)) => None,
        }
    }
}

/// One metric of a benchmark, one cell per runner (in runner order).
#[derive(Clone, Debug, PartialEq)]
pub struct MetricResult {
    pub spec: MetricSpec,
    pub cells: Vec<Cell>,
}

/// One benchmark's results.
#[derive(Clone, Debug, PartialEq)]
pub struct BenchResult {
    pub suite: String,
    pub name: String,
    /// The program as run (or as looked for, if missing).
    pub program: String,
    pub args: Vec<String>,
    pub metrics: Vec<MetricResult>,
    pub runs: Vec<RunRecord>,
}

impl BenchResult {
    pub fn id(&self) -> String {
        format!("{}/{}", self.suite, self.name)
    }
}

/// A whole bench run.
#[derive(Clone, Debug, PartialEq)]
pub struct Report {
    pub env: EnvInfo,
    pub runners: Vec<RunnerInfo>,
    pub skipped: Vec<Skipped>,
    pub benchmarks: Vec<BenchResult>,
    pub stop: Option<StopReason>,
    pub elapsed_s: f64,
}

impl Report {
    /// The column of the native runner, the base of every ratio.
    pub fn native_index(&self) -> Option<usize> {
        self.runners.iter().position(|r| r.name == "native")
    }

    /// Computes every cell's summary and ratio to native.
    pub fn finalize(&mut self) {
        let native = self.native_index();
        for bench in &mut self.benchmarks {
            for metric in &mut bench.metrics {
                for cell in &mut metric.cells {
                    let values: Vec<f64> = cell.samples.iter().map(|s| s.value).collect();
                    cell.summary = stats::summarize(&values);
                }
                let base = native
                    .and_then(|i| metric.cells.get(i))
                    .filter(|c| c.is_ok())
                    .and_then(|c| c.summary)
                    .map(|s| s.median);
                for cell in &mut metric.cells {
                    cell.ratio = match (base, cell.is_ok(), cell.summary) {
                        (Some(b), true, Some(s)) => stats::ratio(s.median, b),
                        _ => None,
                    };
                }
            }
        }
    }
}

#[cfg(test)]
pub(crate) mod fixture {
    //! A small report for the output writers' tests.
    use super::*;

    fn cell(values: &[f64]) -> Cell {
        Cell {
            samples: values
                .iter()
                .enumerate()
                .map(|(rep, &value)| Sample { rep, value })
                .collect(),
            ..Cell::default()
        }
    }

    /// Two benchmarks × three runners (native, umk-ptrace, strace); one
    /// cell failed, with a reason that needs escaping everywhere.
    pub fn report() -> Report {
        let env = EnvInfo {
            date: "2026-01-02 03:04:05 UTC".into(),
            kernel: "6.1.0".into(),
            cpu: "Test CPU \"fast\" <1>".into(),
            cores: 2,
            command: vec![
                "umk".into(),
                "bench".into(),
                "--suite".into(),
                "syscall".into(),
            ],
            repeat: 3,
            time_budget_s: 60.0,
        };
        let runners = ["native", "umk-ptrace", "strace"]
            .iter()
            .map(|n| RunnerInfo {
                name: n.to_string(),
                command: vec![n.to_string(), "PROGRAM".into()],
            })
            .collect();
        let mut failed = cell(&[]);
        failed.failure = Some("exit status 1: bad \"quote\", <tag> & comma\nnewline".into());
        let getppid = BenchResult {
            suite: "syscall".into(),
            name: "getppid".into(),
            program: "/g/bench_syscall".into(),
            args: vec!["getppid".into()],
            metrics: vec![MetricResult {
                spec: MetricSpec::new("getppid_ns", "ns"),
                cells: vec![
                    cell(&[50.0, 52.0, 51.0]),
                    failed,
                    cell(&[5000.0, 5200.0, 5100.0]),
                ],
            }],
            runs: vec![RunRecord {
                runner: 1,
                rep: 0,
                status: RunStatus::Failed("exit status 1".into()),
                wall_s: 0.01,
                stderr_tail: "umk: \"run\" unknown\n".into(),
            }],
        };
        let pipe = BenchResult {
            suite: "syscall".into(),
            name: "read_pipe".into(),
            program: "/g/bench_syscall".into(),
            args: vec!["read_pipe".into()],
            metrics: vec![MetricResult {
                spec: MetricSpec::new("read_pipe_ns", "ns"),
                cells: vec![
                    cell(&[500.0, 600.0, 550.0]),
                    cell(&[1100.0]),
                    cell(&[55000.0, 56000.0]),
                ],
            }],
            runs: Vec::new(),
        };
        let mut r = Report {
            env,
            runners,
            skipped: vec![Skipped {
                name: "proot".into(),
                reason: "not installed (not on PATH)".into(),
            }],
            benchmarks: vec![getppid, pipe],
            stop: None,
            elapsed_s: 12.5,
        };
        r.finalize();
        r
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn finalize_computes_ratios() {
        let r = fixture::report();
        let cells = &r.benchmarks[0].metrics[0].cells;
        assert_eq!(cells[0].summary.map(|s| s.median), Some(51.0));
        assert_eq!(cells[0].ratio, Some(1.0));
        assert_eq!(cells[1].ratio, None);
        assert!(cells[1]
            .na_reason()
            .is_some_and(|r| r.starts_with("exit status 1")));
        assert_eq!(cells[2].ratio, Some(100.0));
        let cells = &r.benchmarks[1].metrics[0].cells;
        assert_eq!(cells[1].ratio, Some(2.0));
        assert!(cells[2]
            .ratio
            .is_some_and(|r| (r - 55500.0 / 550.0).abs() < 1e-9));
    }

    #[test]
    fn no_native_no_ratio() {
        let mut r = fixture::report();
        r.runners[0].name = "other".into();
        r.finalize();
        assert!(r
            .benchmarks
            .iter()
            .flat_map(|b| &b.metrics)
            .flat_map(|m| &m.cells)
            .all(|c| c.ratio.is_none()));
    }
}
