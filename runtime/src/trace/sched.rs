//! Scheduler events as trace lines (`--trace-sched`).
//!
//! Text lines start with `sched:` (never the start of a syscall line, a
//! `---` signal line or a `+++` exit line), then the time in seconds since
//! the scheduler started, the vCPU, the event and `key=value` fields; an
//! idle vCPU is `idle`. `prev_state` is ftrace's letter: `R` still runnable
//! (preempted or yielded), `S` blocked, `X` exited.
//!
//! ```text
//! sched: t=0.000105 cpu=0 wakeup tid=1
//! sched: t=0.000109 cpu=0 switch prev=idle prev_state=R next=1
//! sched: t=0.004012 cpu=0 preempt tid=1
//! sched: t=0.004101 cpu=0 switch prev=1 prev_state=R next=2
//! sched: t=0.004101 cpu=1 migrate tid=2 from=0
//! ```
//!
//! JSON Lines: `{"event":"sched_switch","t_ns":4101000,"cpu":0,"prev":1,
//! "prev_state":"R","next":2}` and likewise `sched_wakeup` / `sched_migrate`
//! (`tid`, `from`) / `sched_preempt` (`tid`), with `null` for idle.

use super::json::JsonObject;
use super::TraceFormat;
use crate::sched::dispatch::SchedEvent;

fn who(t: Option<i32>) -> String {
    t.map_or_else(|| "idle".to_string(), |t| t.to_string())
}

fn secs(ns: u64) -> String {
    format!("{}.{:06}", ns / 1_000_000_000, ns % 1_000_000_000 / 1000)
}

/// One event as one line (no newline) in `format`.
pub(crate) fn line(ev: &SchedEvent, format: TraceFormat) -> String {
    match format {
        TraceFormat::Text => match ev {
            SchedEvent::Switch {
                at,
                cpu,
                prev,
                prev_state,
                next,
            } => format!(
                "sched: t={} cpu={cpu} switch prev={} prev_state={} next={}",
                secs(*at),
                who(*prev),
                prev_state.letter(),
                who(*next)
            ),
            SchedEvent::Wakeup { at, cpu, task } => {
                format!("sched: t={} cpu={cpu} wakeup tid={task}", secs(*at))
            }
            SchedEvent::Migrate { at, task, from, to } => {
                format!(
                    "sched: t={} cpu={to} migrate tid={task} from={from}",
                    secs(*at)
                )
            }
            SchedEvent::Preempt { at, cpu, task } => {
                format!("sched: t={} cpu={cpu} preempt tid={task}", secs(*at))
            }
        },
        TraceFormat::Json => {
            let mut o = JsonObject::new();
            let opt = |o: &mut JsonObject, k: &str, v: Option<i32>| match v {
                Some(t) => o.int(k, i64::from(t)),
                None => o.null(k),
            };
            match ev {
                SchedEvent::Switch {
                    at,
                    cpu,
                    prev,
                    prev_state,
                    next,
                } => {
                    o.str("event", "sched_switch");
                    o.uint("t_ns", *at);
                    o.uint("cpu", *cpu as u64);
                    opt(&mut o, "prev", *prev);
                    o.str("prev_state", &prev_state.letter().to_string());
                    opt(&mut o, "next", *next);
                }
                SchedEvent::Wakeup { at, cpu, task } => {
                    o.str("event", "sched_wakeup");
                    o.uint("t_ns", *at);
                    o.uint("cpu", *cpu as u64);
                    o.int("tid", i64::from(*task));
                }
                SchedEvent::Migrate { at, task, from, to } => {
                    o.str("event", "sched_migrate");
                    o.uint("t_ns", *at);
                    o.uint("cpu", *to as u64);
                    o.int("tid", i64::from(*task));
                    o.uint("from", *from as u64);
                }
                SchedEvent::Preempt { at, cpu, task } => {
                    o.str("event", "sched_preempt");
                    o.uint("t_ns", *at);
                    o.uint("cpu", *cpu as u64);
                    o.int("tid", i64::from(*task));
                }
            }
            o.finish()
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::sched::dispatch::PrevState;

    #[test]
    fn text_and_json_lines() {
        let ev = SchedEvent::Switch {
            at: 4_101_234,
            cpu: 0,
            prev: Some(1),
            prev_state: PrevState::Runnable,
            next: None,
        };
        assert_eq!(
            line(&ev, TraceFormat::Text),
            "sched: t=0.004101 cpu=0 switch prev=1 prev_state=R next=idle"
        );
        assert_eq!(
            line(&ev, TraceFormat::Json),
            r#"{"event":"sched_switch","t_ns":4101234,"cpu":0,"prev":1,"prev_state":"R","next":null}"#
        );
        let ev = SchedEvent::Migrate {
            at: 1_000_000_000,
            task: 7,
            from: 2,
            to: 3,
        };
        assert_eq!(
            line(&ev, TraceFormat::Text),
            "sched: t=1.000000 cpu=3 migrate tid=7 from=2"
        );
    }
}
