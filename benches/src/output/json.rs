//! JSON for machines: the environment, the runners, and per benchmark and
//! metric every sample of every runner with its statistics, plus every run
//! (status, wall time, the tail of its stderr). Hand-written.
//!
//! Shape (`schema: "umk-bench/1"`; repetitions are 1-based):
//! ```text
//! { "schema", "env": {date, kernel, cpu, cores, command[], command_line,
//!                     repeat, time_budget_s, interleaving},
//!   "elapsed_s", "stopped": null | "interrupted" | "time budget exhausted",
//!   "runners": [{name, command[]}], "skipped_runners": [{name, reason}],
//!   "benchmarks": [{suite, name, program, args[],
//!       "metrics": [{name, unit, better,
//!           "results": {RUNNER: {status: "ok"|"n/a", reason, samples: [{rep, value}],
//!                                median, min, max, ratio}}}],
//!       "runs": [{runner, rep, status: "ok"|"failed"|"aborted", reason,
//!                 wall_s, stderr_tail}]}] }
//! ```
//! Numbers that are unknown (an n/a cell's median, a missing ratio) are null.

use crate::report::{Cell, Report, RunStatus};

use super::rep_number;

/// A JSON value.
#[derive(Clone, Debug, PartialEq)]
pub enum Json {
    Null,
    Bool(bool),
    Num(f64),
    Str(String),
    Arr(Vec<Json>),
    Obj(Vec<(String, Json)>),
}

impl From<&str> for Json {
    fn from(s: &str) -> Json {
        Json::Str(s.to_string())
    }
}

impl From<String> for Json {
    fn from(s: String) -> Json {
        Json::Str(s)
    }
}

impl From<f64> for Json {
    fn from(v: f64) -> Json {
        Json::Num(v)
    }
}

impl From<usize> for Json {
    fn from(v: usize) -> Json {
        Json::Num(v as f64)
    }
}

impl<T: Into<Json>> From<Option<T>> for Json {
    fn from(v: Option<T>) -> Json {
        v.map_or(Json::Null, Into::into)
    }
}

fn obj(entries: Vec<(&str, Json)>) -> Json {
    Json::Obj(
        entries
            .into_iter()
            .map(|(k, v)| (k.to_string(), v))
            .collect(),
    )
}

fn strings(v: &[String]) -> Json {
    Json::Arr(v.iter().map(|s| Json::Str(s.clone())).collect())
}

/// Appends `s` as a JSON string literal.
pub fn escape_into(out: &mut String, s: &str) {
    out.push('"');
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            c if (c as u32) < 0x20 || c == '\u{7f}' => {
                out.push_str(&format!("\\u{:04x}", c as u32));
            }
            c => out.push(c),
        }
    }
    out.push('"');
}

impl Json {
    fn is_scalar(&self) -> bool {
        !matches!(self, Json::Arr(_) | Json::Obj(_))
    }

    /// Pretty-printed with two-space indentation; arrays of scalars and
    /// small flat objects on one line.
    pub fn write(&self, out: &mut String, indent: usize) {
        let pad = |out: &mut String, n: usize| out.extend(std::iter::repeat_n(' ', n));
        match self {
            Json::Null => out.push_str("null"),
            Json::Bool(b) => out.push_str(if *b { "true" } else { "false" }),
            Json::Num(v) if v.is_finite() => out.push_str(&format!("{v}")),
            Json::Num(_) => out.push_str("null"),
            Json::Str(s) => escape_into(out, s),
            Json::Arr(items) if items.is_empty() => out.push_str("[]"),
            Json::Arr(items) if items.iter().all(Json::is_scalar) => {
                out.push('[');
                for (i, item) in items.iter().enumerate() {
                    if i > 0 {
                        out.push_str(", ");
                    }
                    item.write(out, indent);
                }
                out.push(']');
            }
            Json::Arr(items) => {
                out.push_str("[\n");
                for (i, item) in items.iter().enumerate() {
                    pad(out, indent + 2);
                    item.write(out, indent + 2);
                    out.push_str(if i + 1 < items.len() { ",\n" } else { "\n" });
                }
                pad(out, indent);
                out.push(']');
            }
            Json::Obj(entries) if entries.is_empty() => out.push_str("{}"),
            Json::Obj(entries)
                if entries.len() <= 4 && entries.iter().all(|(_, v)| v.is_scalar()) =>
            {
                // A small flat object (a sample) on one line.
                out.push('{');
                for (i, (k, v)) in entries.iter().enumerate() {
                    if i > 0 {
                        out.push_str(", ");
                    }
                    escape_into(out, k);
                    out.push_str(": ");
                    v.write(out, indent);
                }
                out.push('}');
            }
            Json::Obj(entries) => {
                out.push_str("{\n");
                for (i, (k, v)) in entries.iter().enumerate() {
                    pad(out, indent + 2);
                    escape_into(out, k);
                    out.push_str(": ");
                    v.write(out, indent + 2);
                    out.push_str(if i + 1 < entries.len() { ",\n" } else { "\n" });
                }
                pad(out, indent);
                out.push('}');
            }
        }
    }
}

fn cell_json(cell: &Cell) -> Json {
    let s = cell.summary.filter(|_| cell.is_ok());
    obj(vec![
        ("status", if cell.is_ok() { "ok" } else { "n/a" }.into()),
        ("reason", cell.na_reason().into()),
        (
            "samples",
            Json::Arr(
                cell.samples
                    .iter()
                    .map(|x| {
                        obj(vec![
                            ("rep", rep_number(x.rep).into()),
                            ("value", x.value.into()),
                        ])
                    })
                    .collect(),
            ),
        ),
        ("median", s.map(|s| s.median).into()),
        ("min", s.map(|s| s.min).into()),
        ("max", s.map(|s| s.max).into()),
        ("ratio", cell.ratio.into()),
    ])
}

/// The report as a JSON value.
pub fn to_json(report: &Report) -> Json {
    let env = &report.env;
    let runner_name = |i: usize| -> Json {
        report
            .runners
            .get(i)
            .map_or(Json::Null, |r| r.name.as_str().into())
    };
    let benchmarks = report
        .benchmarks
        .iter()
        .map(|b| {
            let metrics = b
                .metrics
                .iter()
                .map(|m| {
                    let results = report
                        .runners
                        .iter()
                        .zip(&m.cells)
                        .map(|(r, c)| (r.name.clone(), cell_json(c)))
                        .collect();
                    obj(vec![
                        ("name", m.spec.name.as_str().into()),
                        ("unit", m.spec.unit.as_str().into()),
                        ("better", m.spec.better.as_str().into()),
                        ("results", Json::Obj(results)),
                    ])
                })
                .collect();
            let runs = b
                .runs
                .iter()
                .map(|run| {
                    let (status, reason) = match &run.status {
                        RunStatus::Ok => ("ok", None),
                        RunStatus::Failed(r) => ("failed", Some(r.as_str())),
                        RunStatus::Aborted(r) => ("aborted", Some(r.as_str())),
                    };
                    obj(vec![
                        ("runner", runner_name(run.runner)),
                        ("rep", rep_number(run.rep).into()),
                        ("status", status.into()),
                        ("reason", reason.into()),
                        ("wall_s", run.wall_s.into()),
                        ("stderr_tail", run.stderr_tail.as_str().into()),
                    ])
                })
                .collect();
            obj(vec![
                ("suite", b.suite.as_str().into()),
                ("name", b.name.as_str().into()),
                ("program", b.program.as_str().into()),
                ("args", strings(&b.args)),
                ("metrics", Json::Arr(metrics)),
                ("runs", Json::Arr(runs)),
            ])
        })
        .collect();
    obj(vec![
        ("schema", "umk-bench/1".into()),
        (
            "env",
            obj(vec![
                ("date", env.date.as_str().into()),
                ("kernel", env.kernel.as_str().into()),
                ("cpu", env.cpu.as_str().into()),
                ("cores", env.cores.into()),
                ("command", strings(&env.command)),
                ("command_line", env.command_line().into()),
                ("repeat", env.repeat.into()),
                ("time_budget_s", env.time_budget_s.into()),
                (
                    "interleaving",
                    "runner order rotated by one each repetition".into(),
                ),
            ]),
        ),
        ("elapsed_s", report.elapsed_s.into()),
        ("stopped", report.stop.map(|s| s.as_str()).into()),
        (
            "runners",
            Json::Arr(
                report
                    .runners
                    .iter()
                    .map(|r| {
                        obj(vec![
                            ("name", r.name.as_str().into()),
                            ("command", strings(&r.command)),
                        ])
                    })
                    .collect(),
            ),
        ),
        (
            "skipped_runners",
            Json::Arr(
                report
                    .skipped
                    .iter()
                    .map(|s| {
                        obj(vec![
                            ("name", s.name.as_str().into()),
                            ("reason", s.reason.as_str().into()),
                        ])
                    })
                    .collect(),
            ),
        ),
        ("benchmarks", Json::Arr(benchmarks)),
    ])
}

/// The report as pretty-printed JSON text, ending with a newline.
pub fn render(report: &Report) -> String {
    let mut out = String::new();
    to_json(report).write(&mut out, 0);
    out.push('\n');
    out
}

#[cfg(test)]
pub(crate) mod check {
    //! A strict little JSON parser, to check the writer's output.

    use super::Json;

    pub fn parse(text: &str) -> Result<Json, String> {
        let mut p = Parser {
            s: text.as_bytes(),
            i: 0,
        };
        let v = p.value()?;
        p.ws();
        if p.i != p.s.len() {
            return Err(format!("trailing data at {}", p.i));
        }
        Ok(v)
    }

    struct Parser<'a> {
        s: &'a [u8],
        i: usize,
    }

    impl Parser<'_> {
        fn ws(&mut self) {
            while self.i < self.s.len() && b" \t\r\n".contains(&self.s[self.i]) {
                self.i += 1;
            }
        }

        fn eat(&mut self, c: u8) -> Result<(), String> {
            self.ws();
            if self.s.get(self.i) == Some(&c) {
                self.i += 1;
                Ok(())
            } else {
                Err(format!("expected {:?} at {}", c as char, self.i))
            }
        }

        fn lit(&mut self, word: &str, v: Json) -> Result<Json, String> {
            if self.s[self.i..].starts_with(word.as_bytes()) {
                self.i += word.len();
                Ok(v)
            } else {
                Err(format!("bad literal at {}", self.i))
            }
        }

        fn value(&mut self) -> Result<Json, String> {
            self.ws();
            match self.s.get(self.i) {
                Some(b'{') => {
                    self.i += 1;
                    let mut entries = Vec::new();
                    self.ws();
                    if self.s.get(self.i) == Some(&b'}') {
                        self.i += 1;
                        return Ok(Json::Obj(entries));
                    }
                    loop {
                        self.ws();
                        let k = self.string()?;
                        self.eat(b':')?;
                        entries.push((k, self.value()?));
                        self.ws();
                        match self.s.get(self.i) {
                            Some(b',') => self.i += 1,
                            Some(b'}') => {
                                self.i += 1;
                                return Ok(Json::Obj(entries));
                            }
                            _ => return Err(format!("bad object at {}", self.i)),
                        }
                    }
                }
                Some(b'[') => {
                    self.i += 1;
                    let mut items = Vec::new();
                    self.ws();
                    if self.s.get(self.i) == Some(&b']') {
                        self.i += 1;
                        return Ok(Json::Arr(items));
                    }
                    loop {
                        items.push(self.value()?);
                        self.ws();
                        match self.s.get(self.i) {
                            Some(b',') => self.i += 1,
                            Some(b']') => {
                                self.i += 1;
                                return Ok(Json::Arr(items));
                            }
                            _ => return Err(format!("bad array at {}", self.i)),
                        }
                    }
                }
                Some(b'"') => Ok(Json::Str(self.string()?)),
                Some(b't') => self.lit("true", Json::Bool(true)),
                Some(b'f') => self.lit("false", Json::Bool(false)),
                Some(b'n') => self.lit("null", Json::Null),
                Some(_) => {
                    let start = self.i;
                    while self.i < self.s.len() && b"+-0123456789.eE".contains(&self.s[self.i]) {
                        self.i += 1;
                    }
                    let t =
                        std::str::from_utf8(&self.s[start..self.i]).map_err(|e| e.to_string())?;
                    if t.is_empty() || t.starts_with('+') || t.starts_with('.') || t.ends_with('.')
                    {
                        return Err(format!("bad number {t:?} at {start}"));
                    }
                    t.parse()
                        .map(Json::Num)
                        .map_err(|_| format!("bad number {t:?}"))
                }
                None => Err("unexpected end".to_string()),
            }
        }

        fn string(&mut self) -> Result<String, String> {
            if self.s.get(self.i) != Some(&b'"') {
                return Err(format!("expected string at {}", self.i));
            }
            self.i += 1;
            let mut out = Vec::new();
            loop {
                let c = *self.s.get(self.i).ok_or("unterminated string")?;
                self.i += 1;
                match c {
                    b'"' => return String::from_utf8(out).map_err(|e| e.to_string()),
                    b'\\' => {
                        let e = *self.s.get(self.i).ok_or("bad escape")?;
                        self.i += 1;
                        match e {
                            b'"' => out.push(b'"'),
                            b'\\' => out.push(b'\\'),
                            b'/' => out.push(b'/'),
                            b'n' => out.push(b'\n'),
                            b'r' => out.push(b'\r'),
                            b't' => out.push(b'\t'),
                            b'b' => out.push(8),
                            b'f' => out.push(12),
                            b'u' => {
                                let hex = self.s.get(self.i..self.i + 4).ok_or("bad \\u")?;
                                let hex = std::str::from_utf8(hex).map_err(|e| e.to_string())?;
                                let code =
                                    u32::from_str_radix(hex, 16).map_err(|e| e.to_string())?;
                                self.i += 4;
                                let ch = char::from_u32(code).ok_or("bad \\u code")?;
                                let mut buf = [0u8; 4];
                                out.extend_from_slice(ch.encode_utf8(&mut buf).as_bytes());
                            }
                            _ => return Err(format!("bad escape at {}", self.i)),
                        }
                    }
                    c if c < 0x20 => return Err(format!("raw control character at {}", self.i)),
                    c => out.push(c),
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::check::parse;
    use super::*;
    use crate::report::fixture;

    fn get<'a>(v: &'a Json, key: &str) -> &'a Json {
        match v {
            Json::Obj(entries) => entries
                .iter()
                .find(|(k, _)| k == key)
                .map(|(_, v)| v)
                .unwrap_or_else(|| panic!("no key {key}")),
            _ => panic!("not an object looking for {key}"),
        }
    }

    fn arr(v: &Json) -> &[Json] {
        match v {
            Json::Arr(items) => items,
            _ => panic!("not an array"),
        }
    }

    #[test]
    fn escaping() {
        let mut out = String::new();
        escape_into(&mut out, "a\"b\\c\nd\te\u{1}é");
        assert_eq!(out, r#""a\"b\\c\nd\te\u0001é""#);
        assert_eq!(parse(&out), Ok(Json::Str("a\"b\\c\nd\te\u{1}é".into())));
    }

    #[test]
    fn numbers_and_nulls() {
        let mut out = String::new();
        Json::Arr(vec![
            1.5.into(),
            50.0.into(),
            f64::NAN.into(),
            Json::Null,
            1e-7.into(),
        ])
        .write(&mut out, 0);
        assert_eq!(out, "[1.5, 50, null, null, 0.0000001]");
        assert!(parse(&out).is_ok());
    }

    #[test]
    fn report_shape() {
        let report = fixture::report();
        let text = render(&report);
        let v = parse(&text).expect("valid JSON");
        assert_eq!(v, to_json(&report), "round trip");
        assert_eq!(get(&v, "schema"), &Json::Str("umk-bench/1".into()));
        assert_eq!(
            get(get(&v, "env"), "cpu"),
            &Json::Str("Test CPU \"fast\" <1>".into())
        );
        assert_eq!(get(&v, "stopped"), &Json::Null);
        assert_eq!(arr(get(&v, "runners")).len(), 3);
        assert_eq!(arr(get(&v, "skipped_runners")).len(), 1);
        let benches = arr(get(&v, "benchmarks"));
        assert_eq!(benches.len(), 2);
        let metric = &arr(get(&benches[0], "metrics"))[0];
        assert_eq!(get(metric, "better"), &Json::Str("lower".into()));
        let results = get(metric, "results");
        let native = get(results, "native");
        assert_eq!(get(native, "status"), &Json::Str("ok".into()));
        assert_eq!(arr(get(native, "samples")).len(), 3, "every sample");
        assert_eq!(get(&arr(get(native, "samples"))[0], "rep"), &Json::Num(1.0));
        assert_eq!(get(native, "median"), &Json::Num(51.0));
        assert_eq!(get(native, "ratio"), &Json::Num(1.0));
        let umk = get(results, "umk-ptrace");
        assert_eq!(get(umk, "status"), &Json::Str("n/a".into()));
        assert_eq!(get(umk, "median"), &Json::Null);
        assert!(matches!(get(umk, "reason"), Json::Str(r) if r.contains("\"quote\"")));
        assert_eq!(get(get(results, "strace"), "ratio"), &Json::Num(100.0));
        let runs = arr(get(&benches[0], "runs"));
        assert_eq!(get(&runs[0], "runner"), &Json::Str("umk-ptrace".into()));
        assert_eq!(get(&runs[0], "status"), &Json::Str("failed".into()));
    }
}
