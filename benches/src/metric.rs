//! Metric lines: the one output format of every benchmark guest.
//!
//! A guest prints `metric value unit` lines on stdout, e.g.
//! `getppid_ns 52.125 ns`. Any other line is ignored, so a guest (or a runner
//! such as umk itself) may print what else it likes.

/// Which direction is better for a metric.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Better {
    /// Times: ns, us, ms, s.
    Lower,
    /// Rates: anything per second (MB/s, ops/s).
    Higher,
    /// Neither: a behaviour to compare, such as a fairness ratio.
    Neither,
}

impl Better {
    /// The direction usual for `unit`: times are lower-is-better, rates
    /// (`…/s`) higher-is-better, anything else neither.
    pub fn for_unit(unit: &str) -> Better {
        match unit {
            "ns" | "us" | "ms" | "s" => Better::Lower,
            u if u.ends_with("/s") => Better::Higher,
            _ => Better::Neither,
        }
    }

    /// `lower`, `higher` or `neither` (as in JSON).
    pub fn as_str(self) -> &'static str {
        match self {
            Better::Lower => "lower",
            Better::Higher => "higher",
            Better::Neither => "neither",
        }
    }

    /// A short mark for tables: `↓` lower is better, `↑` higher is better.
    pub fn arrow(self) -> &'static str {
        match self {
            Better::Lower => "↓",
            Better::Higher => "↑",
            Better::Neither => "",
        }
    }
}

/// A metric a benchmark reports.
#[derive(Clone, Debug, PartialEq)]
pub struct MetricSpec {
    pub name: String,
    pub unit: String,
    pub better: Better,
}

impl MetricSpec {
    /// A metric whose direction follows from its unit.
    pub fn new(name: &str, unit: &str) -> MetricSpec {
        MetricSpec {
            name: name.to_string(),
            unit: unit.to_string(),
            better: Better::for_unit(unit),
        }
    }
}

/// One parsed `metric value unit` line.
#[derive(Clone, Debug, PartialEq)]
pub struct MetricLine {
    pub name: String,
    pub value: f64,
    pub unit: String,
}

fn is_metric_name(s: &str) -> bool {
    let mut chars = s.chars();
    matches!(chars.next(), Some(c) if c.is_ascii_alphabetic() || c == '_')
        && chars.all(|c| c.is_ascii_alphanumeric() || c == '_')
}

fn is_unit(s: &str) -> bool {
    s.len() <= 16
        && s.chars().next().is_some_and(|c| !c.is_ascii_digit())
        && s.chars().all(|c| c.is_ascii_graphic() || c == 'µ')
}

/// Parses one line; `None` unless it is exactly three whitespace-separated
/// fields: a name (`[A-Za-z_][A-Za-z0-9_]*`), a finite number and a unit.
pub fn parse_line(line: &str) -> Option<MetricLine> {
    let mut fields = line.split_whitespace();
    let (name, value, unit) = (fields.next()?, fields.next()?, fields.next()?);
    if fields.next().is_some() || !is_metric_name(name) || !is_unit(unit) {
        return None;
    }
    let value: f64 = value.parse().ok()?;
    if !value.is_finite() {
        return None;
    }
    Some(MetricLine {
        name: name.to_string(),
        value,
        unit: unit.to_string(),
    })
}

/// All metric lines of a guest's stdout, in order; other lines are ignored.
pub fn parse_output(text: &str) -> Vec<MetricLine> {
    text.lines().filter_map(parse_line).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_well_formed_lines() {
        let m = parse_line("getppid_ns 52.125 ns").expect("metric line");
        assert_eq!(m.name, "getppid_ns");
        assert_eq!(m.value, 52.125);
        assert_eq!(m.unit, "ns");
        let m = parse_line("  copy_rate\t1e3   MB/s  ").expect("metric line");
        assert_eq!((m.value, m.unit.as_str()), (1000.0, "MB/s"));
        assert_eq!(parse_line("ratio -0.5 x").map(|m| m.value), Some(-0.5));
    }

    #[test]
    fn ignores_malformed_lines() {
        for line in [
            "",
            "getppid_ns",
            "getppid_ns 52",
            "getppid_ns 52 ns extra",
            "getppid_ns fast ns",
            "getppid_ns NaN ns",
            "getppid_ns inf ns",
            "9lives 1 ns",
            "get-ppid 1 ns",
            "getppid_ns 1 5",
            "umk: note: something happened",
            "x 1 averyveryverylongunitname",
        ] {
            assert_eq!(parse_line(line), None, "{line:?}");
        }
    }

    #[test]
    fn parse_output_keeps_only_metric_lines() {
        let out = "starting\nread_pipe_ns 590.2 ns\nwarning: slow\nfair_ratio 3.0 x\n";
        let names: Vec<_> = parse_output(out).into_iter().map(|m| m.name).collect();
        assert_eq!(names, ["read_pipe_ns", "fair_ratio"]);
    }

    #[test]
    fn direction_follows_unit() {
        assert_eq!(Better::for_unit("ns"), Better::Lower);
        assert_eq!(Better::for_unit("ms"), Better::Lower);
        assert_eq!(Better::for_unit("MB/s"), Better::Higher);
        assert_eq!(Better::for_unit("x"), Better::Neither);
    }
}
