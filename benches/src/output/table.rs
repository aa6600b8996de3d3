//! The markdown report for people (and for docs/BENCHMARKS.md): a header
//! with date, machine and the exact command, then one table per suite —
//! rows benchmark/metric, one column per runner with
//! `median unit [min–max] ×ratio-to-native` — and the reasons of the n/a
//! cells as numbered notes.

use crate::report::Report;
use crate::suite::SUITES;

use super::{num, ratio};

/// Makes text safe inside a markdown table cell (one line, no `|`).
fn cell_text(s: &str) -> String {
    s.replace(['\n', '\r'], " ").replace('|', "\\|")
}

/// Inline code, with backquotes in `s` made harmless.
fn code(s: &str) -> String {
    format!("`{}`", s.replace('`', "'"))
}

/// The whole markdown document.
pub fn render(report: &Report) -> String {
    let env = &report.env;
    let mut out = String::new();
    out.push_str("# umk bench results\n\n");
    out.push_str(&format!("- **Date:** {}\n", env.date));
    out.push_str(&format!("- **Machine:** {}\n", cell_text(&env.machine())));
    out.push_str(&format!("- **Command:** {}\n", code(&env.command_line())));
    out.push_str(&format!(
        "- **Method:** every benchmark ran {} time(s) under each runner, interleaved \
         (the runner order rotates by one each repetition); a cell is the median of \
         the runs [min–max] and ×its ratio to native's median; ↓ lower is better, \
         ↑ higher is better; n/a: the runs failed or did not run (see the notes).\n",
        env.repeat
    ));
    let runners: Vec<String> = report
        .runners
        .iter()
        .map(|r| format!("{} ({})", r.name, code(&r.command.join(" "))))
        .collect();
    out.push_str(&format!("- **Runners:** {}\n", runners.join(", ")));
    if !report.skipped.is_empty() {
        let skipped: Vec<String> = report
            .skipped
            .iter()
            .map(|s| format!("{} ({})", s.name, s.reason))
            .collect();
        out.push_str(&format!("- **Skipped runners:** {}\n", skipped.join(", ")));
    }
    if let Some(stop) = report.stop {
        out.push_str(&format!(
            "- **Stopped early:** {}; the results are partial.\n",
            stop.as_str()
        ));
    }
    out.push_str(&format!("- **Elapsed:** {:.0} s\n", report.elapsed_s));

    // n/a notes, numbered, one per distinct (runner, reason).
    let mut notes: Vec<(String, String)> = Vec::new();
    let mut note_number = |runner: &str, reason: String| -> usize {
        let key = (runner.to_string(), reason);
        match notes.iter().position(|n| *n == key) {
            Some(i) => i + 1,
            None => {
                notes.push(key);
                notes.len()
            }
        }
    };

    let mut suites: Vec<&str> = Vec::new();
    for b in &report.benchmarks {
        if !suites.contains(&b.suite.as_str()) {
            suites.push(&b.suite);
        }
    }
    for suite in suites {
        out.push_str(&format!("\n## {suite}\n\n"));
        if let Some((_, about)) = SUITES.iter().find(|(s, _)| *s == suite) {
            out.push_str(&format!("{}.\n\n", capitalize(about)));
        }
        out.push_str("| benchmark | metric |");
        for r in &report.runners {
            out.push_str(&format!(" {} |", cell_text(&r.name)));
        }
        out.push_str("\n| --- | --- |");
        for _ in &report.runners {
            out.push_str(" ---: |");
        }
        out.push('\n');
        for b in report.benchmarks.iter().filter(|b| b.suite == suite) {
            for m in &b.metrics {
                let arrow = m.spec.better.arrow();
                let sep = if arrow.is_empty() { "" } else { " " };
                out.push_str(&format!(
                    "| {} | {}{sep}{arrow} |",
                    cell_text(&b.name),
                    cell_text(&m.spec.name)
                ));
                for (r, c) in report.runners.iter().zip(&m.cells) {
                    let text = match (c.na_reason(), c.summary) {
                        (None, Some(s)) => {
                            let mut t = format!(
                                "{} {} [{}–{}]",
                                num(s.median),
                                m.spec.unit,
                                num(s.min),
                                num(s.max)
                            );
                            if let Some(x) = c.ratio {
                                t.push_str(&format!(" {}", ratio(x)));
                            }
                            t
                        }
                        (reason, _) => {
                            let reason = reason.unwrap_or_default();
                            format!("n/a [{}]", note_number(&r.name, reason))
                        }
                    };
                    out.push_str(&format!(" {} |", cell_text(&text)));
                }
                out.push('\n');
            }
        }
    }
    if !notes.is_empty() {
        out.push_str("\n## Notes (n/a)\n\n");
        for (i, (runner, reason)) in notes.iter().enumerate() {
            out.push_str(&format!("{}. {runner}: {}\n", i + 1, cell_text(reason)));
        }
    }
    out
}

fn capitalize(s: &str) -> String {
    let mut chars = s.chars();
    match chars.next() {
        Some(c) => c.to_uppercase().chain(chars).collect(),
        None => String::new(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::report::{fixture, StopReason};

    #[test]
    fn table_shape() {
        let text = render(&fixture::report());
        assert!(text.starts_with("# umk bench results\n"));
        assert!(text.contains("- **Date:** 2026-01-02 03:04:05 UTC"));
        assert!(text.contains("- **Machine:** Linux 6.1.0, Test CPU"));
        assert!(text.contains("- **Command:** `umk bench --suite syscall`"));
        assert!(text.contains("- **Skipped runners:** proot (not installed (not on PATH))"));
        assert!(text.contains("| benchmark | metric | native | umk-ptrace | strace |"));
        assert!(text.contains("| getppid | getppid_ns ↓ | 51.0 ns [50.0–52.0] ×1.00 | n/a [1] | 5100 ns [5000–5200] ×100 |"));
        assert!(text.contains(
            "| read_pipe | read_pipe_ns ↓ | 550 ns [500–600] ×1.00 | 1100 ns [1100–1100] ×2.00 |"
        ));
        assert!(
            text.contains("1. umk-ptrace: exit status 1: bad \"quote\", <tag> & comma newline\n")
        );
        // Every table row has one cell per column.
        for line in text.lines().filter(|l| l.starts_with("| ")) {
            let cells = line.matches(" |").count();
            assert_eq!(cells, 5, "{line}");
        }
        assert!(!text.contains("Stopped early"));
    }

    #[test]
    fn stopped_runs_are_marked() {
        let mut r = fixture::report();
        r.stop = Some(StopReason::Interrupted);
        assert!(render(&r).contains("- **Stopped early:** interrupted; the results are partial."));
    }
}
