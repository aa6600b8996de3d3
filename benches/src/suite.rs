//! The benchmark table: which guest runs with which arguments, and which
//! metrics it reports.

use std::path::{Path, PathBuf};
use std::time::Duration;

use crate::metric::{Better, MetricSpec};
use crate::runner::find_on_path;

/// The suites, in the order they run, with a one-line description.
pub const SUITES: &[(&str, &str)] = &[
    ("syscall", "the cost of one system call"),
    ("memory", "page faults, mappings, copy on write"),
    ("process", "fork, exec, threads, pipes, futexes"),
    ("sched", "fairness, yielding, real-time wake-up latency"),
    (
        "real",
        "real programs: a shell loop, python3 start-up (dynamic)",
    ),
];

/// In a benchmark's arguments, replaced by the path of a big read-only file:
/// the umk binary (tens of MB) when it exists, else the guest itself.
pub const BIG_FILE: &str = "{big_file}";

/// What a benchmark runs.
#[derive(Clone, Debug, PartialEq)]
pub enum Program {
    /// A benchmark guest: a file name in the guest directory.
    Guest(String),
    /// A program of the host: the first of these that exists (a name
    /// without `/` is looked up on PATH).
    System(Vec<String>),
}

/// Where a run's metrics come from.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum Source {
    /// The `metric value unit` lines the program prints on stdout.
    Stdout,
    /// The harness times the whole run (spawn to exit, so the runner's own
    /// start-up counts) and reports it as the benchmark's only metric,
    /// divided by `per` (e.g. the number of loop iterations in a script).
    Wall { per: f64 },
}

impl Program {
    /// The program's path, or the candidates looked for.
    pub fn describe(&self, guest_dir: &Path) -> String {
        match self {
            Program::Guest(file) => guest_dir.join(file).display().to_string(),
            Program::System(candidates) => candidates.join(" or "),
        }
    }
}

/// One benchmark: a row group of the results.
#[derive(Clone, Debug)]
pub struct Benchmark {
    pub suite: String,
    pub name: String,
    pub program: Program,
    pub args: Vec<String>,
    pub metrics: Vec<MetricSpec>,
    pub source: Source,
    /// Per run; a run that takes longer is killed and its cell is n/a.
    pub timeout: Duration,
}

impl Benchmark {
    /// `suite/name`, as used in progress lines and `--suite`.
    pub fn id(&self) -> String {
        format!("{}/{}", self.suite, self.name)
    }

    /// The program to run, or why there is none.
    pub fn resolve_program(&self, guest_dir: &Path) -> Result<PathBuf, String> {
        match &self.program {
            Program::Guest(file) => {
                let path = guest_dir.join(file);
                if path.is_file() {
                    Ok(path)
                } else {
                    Err(format!("guest not built: {}", path.display()))
                }
            }
            Program::System(candidates) => candidates
                .iter()
                .find_map(|c| {
                    if c.contains('/') {
                        Path::new(c).is_file().then(|| PathBuf::from(c))
                    } else {
                        find_on_path(c)
                    }
                })
                .ok_or_else(|| format!("not installed: {}", candidates.join(" or "))),
        }
    }

    /// The arguments with [`BIG_FILE`] replaced.
    pub fn resolve_args(&self, big_file: &Path) -> Vec<String> {
        let big = big_file.to_string_lossy();
        self.args
            .iter()
            .map(|a| a.replace(BIG_FILE, &big))
            .collect()
    }
}

fn metrics(list: &[(&str, &str)]) -> Vec<MetricSpec> {
    list.iter().map(|(n, u)| MetricSpec::new(n, u)).collect()
}

/// A benchmark guest `bin` run as `bin ARGS... TEST`, printing `metrics`.
fn guest(
    suite: &str,
    name: &str,
    bin: &str,
    args: &[&str],
    list: &[(&str, &str)],
    timeout_s: u64,
) -> Benchmark {
    Benchmark {
        suite: suite.to_string(),
        name: name.to_string(),
        program: Program::Guest(bin.to_string()),
        args: args.iter().map(|s| s.to_string()).collect(),
        metrics: metrics(list),
        source: Source::Stdout,
        timeout: Duration::from_secs(timeout_s),
    }
}

/// A host program timed as a whole by the harness.
fn wall(
    suite: &str,
    name: &str,
    candidates: &[&str],
    args: &[&str],
    metric: (&str, &str),
    per: f64,
    timeout_s: u64,
) -> Benchmark {
    Benchmark {
        suite: suite.to_string(),
        name: name.to_string(),
        program: Program::System(candidates.iter().map(|s| s.to_string()).collect()),
        args: args.iter().map(|s| s.to_string()).collect(),
        metrics: metrics(&[metric]),
        source: Source::Wall { per },
        timeout: Duration::from_secs(timeout_s),
    }
}

/// Iterations of the shell loop in `real/shell_true`.
const SHELL_LOOPS: u32 = 100;

/// Every benchmark, suite by suite. Guests bound their own time (`-t MS`),
/// so a slow runner does fewer iterations rather than taking longer; the
/// metrics are per operation, so that is fair.
#[rustfmt::skip] // one benchmark a line reads as a table
pub fn builtin() -> Vec<Benchmark> {
    let shell_loop = format!("i=0; while [ $i -lt {SHELL_LOOPS} ]; do /bin/true; i=$((i+1)); done");
    // Nice 0, 5 and 10 sharing one CPU for 2 s: the CPU-time ratios
    // (neither better: compare with 3.06 and 9.31) and the larger relative
    // error against the weight ratios (lower is better).
    let mut fairness = guest(
        "sched",
        "fairness",
        "bench_sched",
        &["-t", "2000", "fairness"],
        &[("fair_nice0_nice5_ratio", "x"), ("fair_nice0_nice10_ratio", "x"), ("fair_error_pct", "%")],
        30,
    );
    fairness.metrics[2].better = Better::Lower;
    vec![
        // syscall
        guest("syscall", "getppid", "bench_syscall", &["-n", "1000000", "-t", "500", "getppid"], &[("getppid_ns", "ns")], 30),
        guest("syscall", "clock_gettime", "bench_syscall", &["-n", "1000000", "-t", "500", "clock_gettime"], &[("clock_gettime_ns", "ns")], 30),
        guest("syscall", "read_devzero", "bench_syscall", &["-n", "1000000", "-t", "500", "read_devzero"], &[("read_devzero_ns", "ns")], 30),
        guest("syscall", "read_pipe", "bench_syscall", &["-n", "1000000", "-t", "500", "read_pipe"], &[("read_pipe_ns", "ns")], 30),
        // memory
        guest("memory", "anon_fault", "bench_memory", &["-n", "16", "-t", "1000", "anon_fault"], &[("anon_fault_ns", "ns")], 60),
        guest("memory", "file_fault", "bench_memory", &["-n", "32", "-t", "1000", "-f", BIG_FILE, "file_fault"], &[("file_fault_ns", "ns")], 60),
        guest("memory", "mmap_munmap", "bench_memory", &["-n", "1000000", "-t", "500", "mmap_munmap"], &[("mmap_munmap_ns", "ns")], 30),
        guest("memory", "fork_cow", "bench_process", &["-n", "20", "-t", "1000", "fork_cow"], &[("fork_cow_64m_ms", "ms")], 60),
        // process
        guest("process", "fork_exit", "bench_process", &["-n", "5000", "-t", "1000", "fork_exit"], &[("fork_exit_wait_us", "us")], 60),
        guest("process", "fork_exec", "bench_process", &["-n", "2000", "-t", "1000", "fork_exec"], &[("fork_exec_wait_us", "us")], 60),
        guest("process", "thread_create", "bench_thread", &["-n", "20000", "-t", "1000", "thread_create"], &[("thread_create_join_us", "us")], 60),
        guest("process", "pipe_pingpong", "bench_process", &["-n", "200000", "-t", "1000", "pipe_pingpong"], &[("pipe_pingpong_us", "us")], 60),
        guest("process", "futex_pingpong", "bench_thread", &["-n", "200000", "-t", "1000", "futex_pingpong"], &[("futex_pingpong_us", "us")], 60),
        // sched
        fairness,
        guest("sched", "yield_pingpong", "bench_sched", &["-n", "200000", "-t", "1000", "yield_pingpong"], &[("yield_pingpong_us", "us")], 60),
        guest("sched", "yield_threads", "bench_sched", &["-n", "200000", "-t", "1000", "yield_threads"], &[("yield_thread_pingpong_us", "us")], 60),
        guest(
            "sched",
            "rt_latency",
            "bench_sched",
            &["-n", "2000", "rt_latency"],
            &[("rt_wakeup_p50_us", "us"), ("rt_wakeup_p99_us", "us"), ("rt_wakeup_max_us", "us")],
            60,
        ),
        // real (dynamic programs: n/a under umk until it runs them)
        wall("real", "shell_true", &["/bin/sh"], &["-c", &shell_loop], ("shell_true_us", "us"), f64::from(SHELL_LOOPS), 120),
        wall("real", "python3_startup", &["/usr/bin/python3", "python3"], &["-c", "pass"], ("python3_startup_ms", "ms"), 1.0, 60),
    ]
}

/// The benchmarks named by `--suite` arguments, each a suite name, `all`,
/// or `suite/benchmark`; all of them when `names` is empty. Keeps table
/// order and drops duplicates.
pub fn select(all: Vec<Benchmark>, names: &[String]) -> Result<Vec<Benchmark>, String> {
    if names.is_empty() || names.iter().any(|n| n == "all") {
        return Ok(all);
    }
    for name in names {
        let known = all.iter().any(|b| b.suite == *name || b.id() == *name);
        if !known {
            let suites: Vec<&str> = SUITES.iter().map(|(s, _)| *s).collect();
            return Err(format!(
                "unknown suite or benchmark `{name}` (suites: {}; or SUITE/BENCHMARK, see --list)",
                suites.join(", ")
            ));
        }
    }
    Ok(all
        .into_iter()
        .filter(|b| names.iter().any(|n| b.suite == *n || b.id() == *n))
        .collect())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn table_is_consistent() {
        let all = builtin();
        let mut ids: Vec<String> = all.iter().map(Benchmark::id).collect();
        ids.sort();
        ids.dedup();
        assert_eq!(ids.len(), all.len(), "benchmark ids are unique");
        for b in &all {
            assert!(SUITES.iter().any(|(s, _)| *s == b.suite), "{}", b.id());
            assert!(!b.metrics.is_empty(), "{}", b.id());
            if let Program::Guest(bin) = &b.program {
                assert!(bin.starts_with("bench_"), "{}", b.id());
            }
            if let Source::Wall { per } = b.source {
                assert_eq!(b.metrics.len(), 1, "{}", b.id());
                assert!(per >= 1.0);
            }
        }
        for (suite, _) in SUITES {
            assert!(all.iter().any(|b| b.suite == *suite), "{suite} is empty");
        }
    }

    #[test]
    fn select_by_suite_and_id() {
        let names = |sel: &[&str]| -> Result<Vec<String>, String> {
            let sel: Vec<String> = sel.iter().map(|s| s.to_string()).collect();
            select(builtin(), &sel).map(|v| v.iter().map(Benchmark::id).collect())
        };
        assert_eq!(names(&[]).map(|v| v.len()), Ok(builtin().len()));
        let syscall = names(&["syscall"]).expect("syscall");
        assert_eq!(
            syscall,
            [
                "syscall/getppid",
                "syscall/clock_gettime",
                "syscall/read_devzero",
                "syscall/read_pipe"
            ]
        );
        assert_eq!(
            names(&["memory/fork_cow", "syscall/getppid"]).expect("ids"),
            ["syscall/getppid", "memory/fork_cow"]
        );
        assert!(names(&["nope"]).is_err());
    }

    #[test]
    fn big_file_placeholder_is_replaced() {
        let b = builtin()
            .into_iter()
            .find(|b| b.name == "file_fault")
            .expect("file_fault");
        let args = b.resolve_args(Path::new("/x/umk"));
        assert!(args.iter().any(|a| a == "/x/umk"));
        assert!(!args.iter().any(|a| a.contains(BIG_FILE)));
    }
}
