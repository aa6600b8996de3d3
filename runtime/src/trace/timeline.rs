//! `--timeline FILE`: which guest thread held which vCPU when, as a Chrome
//! trace (the JSON Object Format of the Trace Event Format, which
//! ui.perfetto.dev and chrome://tracing open).
//!
//! One process ("umk vCPUs", pid 0) with one track per vCPU (tid = vCPU
//! number, named `vCPU N` and sorted by number through metadata events), and
//! one complete event (`"ph":"X"`, `ts`/`dur` in microseconds) per
//! [`Slice`], named `tid N (comm)` with `tid` and `comm` in its args. The
//! file is written once, at the end of the run.

use std::io::Write;

use super::json::JsonObject;
use crate::sched::dispatch::Slice;

fn micros(ns: u64) -> String {
    format!("{}.{:03}", ns / 1000, ns % 1000)
}

/// The whole timeline document for `cpus` vCPUs.
pub fn render(slices: &[Slice], cpus: usize) -> String {
    let mut events = Vec::with_capacity(slices.len() + cpus + 1);
    let mut o = JsonObject::new();
    o.str("name", "process_name");
    o.str("ph", "M");
    o.uint("pid", 0);
    o.raw("args", r#"{"name":"umk vCPUs"}"#);
    events.push(o.finish());
    for c in 0..cpus {
        let mut args = JsonObject::new();
        args.str("name", &format!("vCPU {c}"));
        let mut o = JsonObject::new();
        o.str("name", "thread_name");
        o.str("ph", "M");
        o.uint("pid", 0);
        o.uint("tid", c as u64);
        o.raw("args", &args.finish());
        events.push(o.finish());
        let mut args = JsonObject::new();
        args.uint("sort_index", c as u64);
        let mut o = JsonObject::new();
        o.str("name", "thread_sort_index");
        o.str("ph", "M");
        o.uint("pid", 0);
        o.uint("tid", c as u64);
        o.raw("args", &args.finish());
        events.push(o.finish());
    }
    for s in slices {
        let name = if s.comm.is_empty() {
            format!("tid {}", s.task)
        } else {
            format!("tid {} ({})", s.task, s.comm)
        };
        let mut args = JsonObject::new();
        args.int("tid", i64::from(s.task));
        args.str("comm", &s.comm);
        let mut o = JsonObject::new();
        o.str("name", &name);
        o.str("cat", "sched");
        o.str("ph", "X");
        o.raw("ts", &micros(s.start));
        o.raw("dur", &micros(s.end.saturating_sub(s.start)));
        o.uint("pid", 0);
        o.uint("tid", s.cpu as u64);
        o.raw("args", &args.finish());
        events.push(o.finish());
    }
    let mut doc = String::from("{\"displayTimeUnit\":\"ns\",\"traceEvents\":[\n");
    doc.push_str(&events.join(",\n"));
    doc.push_str("\n]}\n");
    doc
}

/// Writes the timeline to `path`.
pub fn write(path: &std::path::Path, slices: &[Slice], cpus: usize) -> std::io::Result<()> {
    let mut f = std::fs::File::create(path)?;
    f.write_all(render(slices, cpus).as_bytes())?;
    f.flush()
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A small JSON parser, enough to check the document's structure
    /// (serde_json is not a dependency of umk).
    #[derive(Debug, Clone, PartialEq)]
    enum J {
        Null,
        Bool(bool),
        Num(f64),
        Str(String),
        Arr(Vec<J>),
        Obj(Vec<(String, J)>),
    }

    impl J {
        fn get(&self, k: &str) -> Option<&J> {
            match self {
                J::Obj(kv) => kv.iter().find(|(key, _)| key == k).map(|(_, v)| v),
                _ => None,
            }
        }
        fn str(&self, k: &str) -> Option<&str> {
            match self.get(k)? {
                J::Str(s) => Some(s),
                _ => None,
            }
        }
        fn num(&self, k: &str) -> Option<f64> {
            match self.get(k)? {
                J::Num(n) => Some(*n),
                _ => None,
            }
        }
    }

    struct P<'a>(&'a [u8], usize);

    impl P<'_> {
        fn ws(&mut self) {
            while self.1 < self.0.len() && self.0[self.1].is_ascii_whitespace() {
                self.1 += 1;
            }
        }
        fn eat(&mut self, c: u8) -> Result<(), String> {
            self.ws();
            if self.0.get(self.1) == Some(&c) {
                self.1 += 1;
                Ok(())
            } else {
                Err(format!("expected {} at {}", c as char, self.1))
            }
        }
        fn value(&mut self) -> Result<J, String> {
            self.ws();
            match self.0.get(self.1).copied() {
                Some(b'{') => {
                    self.1 += 1;
                    let mut kv = Vec::new();
                    self.ws();
                    if self.0.get(self.1) == Some(&b'}') {
                        self.1 += 1;
                        return Ok(J::Obj(kv));
                    }
                    loop {
                        self.ws();
                        let J::Str(k) = self.value()? else {
                            return Err("key".into());
                        };
                        self.eat(b':')?;
                        kv.push((k, self.value()?));
                        self.ws();
                        match self.0.get(self.1) {
                            Some(b',') => self.1 += 1,
                            Some(b'}') => {
                                self.1 += 1;
                                return Ok(J::Obj(kv));
                            }
                            _ => return Err(format!("object at {}", self.1)),
                        }
                    }
                }
                Some(b'[') => {
                    self.1 += 1;
                    let mut v = Vec::new();
                    self.ws();
                    if self.0.get(self.1) == Some(&b']') {
                        self.1 += 1;
                        return Ok(J::Arr(v));
                    }
                    loop {
                        v.push(self.value()?);
                        self.ws();
                        match self.0.get(self.1) {
                            Some(b',') => self.1 += 1,
                            Some(b']') => {
                                self.1 += 1;
                                return Ok(J::Arr(v));
                            }
                            _ => return Err(format!("array at {}", self.1)),
                        }
                    }
                }
                Some(b'"') => {
                    self.1 += 1;
                    let mut s = String::new();
                    loop {
                        match self.0.get(self.1).copied() {
                            Some(b'"') => {
                                self.1 += 1;
                                return Ok(J::Str(s));
                            }
                            Some(b'\\') => {
                                let e = self.0.get(self.1 + 1).copied().ok_or("escape")?;
                                s.push(match e {
                                    b'n' => '\n',
                                    b't' => '\t',
                                    b'"' => '"',
                                    b'\\' => '\\',
                                    _ => return Err(format!("escape {}", e as char)),
                                });
                                self.1 += 2;
                            }
                            Some(c) if c >= 0x20 => {
                                s.push(c as char);
                                self.1 += 1;
                            }
                            _ => return Err("string".into()),
                        }
                    }
                }
                Some(b'n') if self.0[self.1..].starts_with(b"null") => {
                    self.1 += 4;
                    Ok(J::Null)
                }
                Some(b't') if self.0[self.1..].starts_with(b"true") => {
                    self.1 += 4;
                    Ok(J::Bool(true))
                }
                Some(b'f') if self.0[self.1..].starts_with(b"false") => {
                    self.1 += 5;
                    Ok(J::Bool(false))
                }
                _ => {
                    let start = self.1;
                    while self.1 < self.0.len()
                        && (self.0[self.1].is_ascii_digit() || b"+-.eE".contains(&self.0[self.1]))
                    {
                        self.1 += 1;
                    }
                    std::str::from_utf8(&self.0[start..self.1])
                        .ok()
                        .and_then(|t| t.parse().ok())
                        .map(J::Num)
                        .ok_or_else(|| format!("value at {start}"))
                }
            }
        }
    }

    fn parse(s: &str) -> Result<J, String> {
        let mut p = P(s.as_bytes(), 0);
        let v = p.value()?;
        p.ws();
        if p.1 != s.len() {
            return Err(format!("trailing data at {}", p.1));
        }
        Ok(v)
    }

    #[test]
    fn timeline_is_a_chrome_trace() {
        let slices = vec![
            Slice {
                cpu: 0,
                task: 1,
                comm: "init \"x\"".into(),
                start: 1_500,
                end: 2_001_500,
            },
            Slice {
                cpu: 1,
                task: 2,
                comm: String::new(),
                start: 3_000,
                end: 3_000,
            },
        ];
        let doc = parse(&render(&slices, 2)).expect("valid JSON");
        let Some(J::Arr(evs)) = doc.get("traceEvents") else {
            panic!("no traceEvents array");
        };
        let names: Vec<&str> = evs
            .iter()
            .filter(|e| e.str("name") == Some("thread_name"))
            .filter_map(|e| e.get("args").and_then(|a| a.str("name")))
            .collect();
        assert_eq!(names, ["vCPU 0", "vCPU 1"]);
        let x: Vec<&J> = evs.iter().filter(|e| e.str("ph") == Some("X")).collect();
        assert_eq!(x.len(), 2);
        assert_eq!(x[0].str("name"), Some("tid 1 (init \"x\")"));
        assert_eq!(x[0].num("ts"), Some(1.5));
        assert_eq!(x[0].num("dur"), Some(2000.0));
        assert_eq!(x[0].num("tid"), Some(0.0));
        assert_eq!(x[0].num("pid"), Some(0.0));
        assert_eq!(x[1].str("name"), Some("tid 2"));
        assert_eq!(x[1].num("tid"), Some(1.0));
        assert_eq!(x[1].num("dur"), Some(0.0));
        assert_eq!(x[1].get("args").and_then(|a| a.num("tid")), Some(2.0));
    }
}
