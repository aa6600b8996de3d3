//! Progress on stderr: `[syscall/getppid] umk-ptrace 3/10 (run 17 of 120, 12 s)`.
//! On a terminal each line overwrites the previous one; otherwise (a log)
//! every line stays.

use std::io::Write;
use std::time::Duration;

/// Where progress goes.
#[derive(Debug)]
pub struct Progress {
    enabled: bool,
    tty: bool,
    /// A progress line is on screen without its newline.
    open: bool,
}

impl Progress {
    pub fn new(enabled: bool) -> Progress {
        // SAFETY: isatty only inspects the descriptor.
        let tty = unsafe { libc::isatty(libc::STDERR_FILENO) } == 1;
        Progress {
            enabled,
            tty,
            open: false,
        }
    }

    /// The line for one run.
    pub fn format_step(
        bench_id: &str,
        runner: &str,
        rep: usize,
        repeat: usize,
        run: usize,
        runs: usize,
        elapsed: Duration,
    ) -> String {
        format!(
            "[{bench_id}] {runner} {rep}/{repeat} (run {run} of {runs}, {:.0} s)",
            elapsed.as_secs_f64()
        )
    }

    /// Shows the line of the run about to start.
    pub fn step(&mut self, line: &str) {
        if !self.enabled {
            return;
        }
        let mut err = std::io::stderr().lock();
        if self.tty {
            let _ = write!(err, "\r\x1b[K{line}");
            self.open = true;
        } else {
            let _ = writeln!(err, "{line}");
        }
        let _ = err.flush();
    }

    /// A line that stays (a failure, a skipped runner…).
    pub fn note(&mut self, line: &str) {
        if !self.enabled {
            return;
        }
        self.clear();
        eprintln!("{line}");
    }

    /// Removes an open progress line.
    pub fn clear(&mut self) {
        if self.open {
            let mut err = std::io::stderr().lock();
            let _ = write!(err, "\r\x1b[K");
            let _ = err.flush();
            self.open = false;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn step_line_format() {
        let l = Progress::format_step(
            "syscall/getppid",
            "umk-ptrace",
            3,
            10,
            17,
            120,
            Duration::from_secs(12),
        );
        assert_eq!(l, "[syscall/getppid] umk-ptrace 3/10 (run 17 of 120, 12 s)");
    }
}
