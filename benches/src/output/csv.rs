//! CSV: one row per sample (`status` ok), plus one row per n/a cell
//! (`status` n/a, empty value, the reason). Repetitions are 1-based.

use crate::report::Report;

use super::rep_number;

/// The header row.
pub const HEADER: &str = "suite,benchmark,metric,unit,runner,rep,value,status,reason";

/// Quotes a field when it holds a comma, a quote or a line break.
pub fn field(s: &str) -> String {
    if s.contains([',', '"', '\n', '\r']) {
        format!("\"{}\"", s.replace('"', "\"\""))
    } else {
        s.to_string()
    }
}

/// The report as CSV text.
pub fn render(report: &Report) -> String {
    let mut out = String::new();
    out.push_str(HEADER);
    out.push('\n');
    for b in &report.benchmarks {
        for m in &b.metrics {
            for (runner, cell) in report.runners.iter().zip(&m.cells) {
                let prefix = [&b.suite, &b.name, &m.spec.name, &m.spec.unit, &runner.name]
                    .map(|s| field(s))
                    .join(",");
                for s in &cell.samples {
                    out.push_str(&format!("{prefix},{},{},ok,\n", rep_number(s.rep), s.value));
                }
                if let Some(reason) = cell.na_reason() {
                    out.push_str(&format!("{prefix},,,n/a,{}\n", field(&reason)));
                }
            }
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::report::fixture;

    /// Splits CSV text into records of fields (RFC 4180).
    fn parse(text: &str) -> Vec<Vec<String>> {
        let mut rows = Vec::new();
        let (mut row, mut f) = (Vec::new(), String::new());
        let mut chars = text.chars().peekable();
        let mut quoted = false;
        while let Some(c) = chars.next() {
            match (quoted, c) {
                (true, '"') if chars.peek() == Some(&'"') => {
                    chars.next();
                    f.push('"');
                }
                (true, '"') => quoted = false,
                (true, c) => f.push(c),
                (false, '"') => quoted = true,
                (false, ',') => row.push(std::mem::take(&mut f)),
                (false, '\n') => {
                    row.push(std::mem::take(&mut f));
                    rows.push(std::mem::take(&mut row));
                }
                (false, c) => f.push(c),
            }
        }
        rows
    }

    #[test]
    fn quoting() {
        assert_eq!(field("plain"), "plain");
        assert_eq!(field("a,b"), "\"a,b\"");
        assert_eq!(field("say \"hi\""), "\"say \"\"hi\"\"\"");
    }

    #[test]
    fn one_row_per_sample() {
        let report = fixture::report();
        let rows = parse(&render(&report));
        assert_eq!(rows[0].join(","), HEADER);
        assert!(rows.iter().all(|r| r.len() == 9), "{rows:?}");
        let samples: usize = report
            .benchmarks
            .iter()
            .flat_map(|b| &b.metrics)
            .flat_map(|m| &m.cells)
            .map(|c| c.samples.len())
            .sum();
        assert_eq!(rows.iter().filter(|r| r[7] == "ok").count(), samples);
        let na: Vec<_> = rows.iter().filter(|r| r[7] == "n/a").collect();
        assert_eq!(na.len(), 1);
        assert_eq!(na[0][4], "umk-ptrace");
        assert!(na[0][8].contains("\"quote\", <tag> & comma\nnewline"));
        assert_eq!(
            rows[1],
            [
                "syscall",
                "getppid",
                "getppid_ns",
                "ns",
                "native",
                "1",
                "50",
                "ok",
                ""
            ]
        );
    }
}
