//! The [`Tracer`]: formats on the calling kernel thread, hands finished lines
//! to one writer thread through an unbounded channel, so a guest never waits
//! for the trace file.

use super::decode;
use super::line::{self, Event};
use super::recorded::{replaces_image, Recorded, Recorder};
use super::{GuestMemRead, SyscallEvent, TraceError, TraceFormat, TraceOptions};
use crossbeam_channel::{Receiver, Sender};
use parking_lot::Mutex;
use std::collections::HashSet;
use std::io::{BufWriter, Write};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::thread::JoinHandle;
use std::time::SystemTime;

enum Msg {
    Line(String),
    Finish,
}

/// Size of the writer's buffer.
const BUF_SIZE: usize = 64 * 1024;

/// The trace of one umk run, shared by all kernel threads (`Arc<Tracer>`).
pub struct Tracer {
    opts: TraceOptions,
    tx: Sender<Msg>,
    /// Tasks alive now; lines get `[pid N] ` while there is more than one.
    live: Mutex<HashSet<i32>>,
    writer: Mutex<Option<JoinHandle<()>>>,
    finished: AtomicBool,
    error: Arc<Mutex<Option<TraceError>>>,
}

impl Tracer {
    /// Starts the writer thread writing to `dest`.
    pub fn new(dest: Box<dyn Write + Send>, opts: TraceOptions) -> Tracer {
        let (tx, rx) = crossbeam_channel::unbounded();
        let error = Arc::new(Mutex::new(None));
        let err = Arc::clone(&error);
        let writer = std::thread::Builder::new()
            .name("umk-trace".to_string())
            .spawn(move || write_loop(rx, dest, &err));
        let writer = match writer {
            Ok(h) => Some(h),
            Err(e) => {
                *error.lock() = Some(TraceError::Spawn(e));
                None
            }
        };
        Tracer {
            opts,
            tx,
            live: Mutex::new(HashSet::new()),
            writer: Mutex::new(writer),
            finished: AtomicBool::new(false),
            error,
        }
    }

    /// Records that task `tid` exists (call for every task, the first too).
    pub fn task_created(&self, tid: i32) {
        self.live.lock().insert(tid);
    }

    /// Whether lines of `tid` get the pid prefix; a task is known from
    /// `task_created` or from its first event.
    fn prefix_for(&self, tid: i32) -> bool {
        let mut live = self.live.lock();
        live.insert(tid);
        live.len() > 1
    }

    /// Traces one completed syscall. Formats here; never blocks on output.
    pub fn syscall(&self, ev: &SyscallEvent, mem: &dyn GuestMemRead) {
        if self.finished.load(Ordering::Relaxed) {
            return;
        }
        let prefix = self.prefix_for(ev.tid);
        let d = decode::decode(ev, mem, self.opts.string_limit);
        let s = match self.opts.format {
            TraceFormat::Text => line::text(&d, ev, &self.opts, prefix),
            TraceFormat::Json => line::json(&d, ev),
        };
        self.send(s);
    }

    /// For a call whose arguments' memory is gone when it completes
    /// (execve), reads them now, at entry, and returns what was read, to
    /// format the line from ([`super::recorded`]); `None` for other calls.
    pub fn read_ahead(
        &self,
        tid: i32,
        nr: u64,
        args: [u64; 6],
        mem: &dyn GuestMemRead,
    ) -> Option<Recorded> {
        if !replaces_image(nr) {
            return None;
        }
        let rec = Recorder::new(mem);
        let ev = SyscallEvent {
            tid,
            nr,
            args,
            ret: None,
            start: std::time::SystemTime::UNIX_EPOCH,
            duration: std::time::Duration::ZERO,
        };
        let _ = decode::decode(&ev, &rec, self.opts.string_limit);
        Some(rec.finish())
    }

    /// Whether syscalls are traced (not with `--trace-sched` alone).
    pub fn traces_syscalls(&self) -> bool {
        self.opts.syscalls
    }

    /// One scheduler event (`--trace-sched`; format in `sched.rs`). Called
    /// with the scheduler's lock held: formats and queues, nothing more.
    pub fn sched(&self, ev: &crate::sched::dispatch::SchedEvent) {
        if self.finished.load(Ordering::Relaxed) {
            return;
        }
        self.send(super::sched::line(ev, self.opts.format));
    }

    /// `+++ exited with N +++`; the task is gone afterwards.
    pub fn exited(&self, tid: i32, status: i32) {
        self.task_event(tid, &Event::Exited(status), true);
    }

    /// `+++ killed by SIGSEGV (core dumped) +++`; the task is gone afterwards.
    pub fn killed(&self, tid: i32, sig: i32, core_dumped: bool) {
        self.task_event(tid, &Event::Killed { sig, core_dumped }, true);
    }

    /// A free-form line about task `tid`, such as
    /// `--- SIGSEGV {si_signo=SIGSEGV, si_code=SEGV_MAPERR, si_addr=NULL} ---`
    /// (pass the whole text after the leader; see [`super::signal_name`]).
    pub fn note(&self, tid: i32, text: &str) {
        self.task_event(tid, &Event::Note(text), false);
    }

    fn task_event(&self, tid: i32, ev: &Event, gone: bool) {
        if self.finished.load(Ordering::Relaxed) {
            return;
        }
        let prefix = self.prefix_for(tid);
        if gone {
            self.live.lock().remove(&tid);
        }
        let s = line::event(ev, tid, SystemTime::now(), &self.opts, prefix);
        self.send(s);
    }

    fn send(&self, mut s: String) {
        s.push('\n');
        // Unbounded: never blocks. Fails only once the writer is gone.
        let _ = self.tx.send(Msg::Line(s));
    }

    /// Writes out everything traced so far and stops the writer. Later
    /// events are dropped. Idempotent; concurrent callers return after the
    /// flush.
    pub fn finish(&self) {
        let mut writer = self.writer.lock();
        self.finished.store(true, Ordering::Relaxed);
        if let Some(h) = writer.take() {
            let _ = self.tx.send(Msg::Finish);
            let _ = h.join();
        }
    }

    /// The first error of the writer (or of starting it), if any; the trace
    /// is incomplete after one.
    pub fn take_error(&self) -> Option<TraceError> {
        self.error.lock().take()
    }
}

impl Drop for Tracer {
    fn drop(&mut self) {
        self.finish();
    }
}

fn write_loop(rx: Receiver<Msg>, dest: Box<dyn Write + Send>, error: &Mutex<Option<TraceError>>) {
    let mut out = BufWriter::with_capacity(BUF_SIZE, dest);
    let mut failed = false;
    let record = |e: std::io::Error, failed: &mut bool| {
        if !*failed {
            *failed = true;
            *error.lock() = Some(TraceError::Write(e));
        }
    };
    while let Ok(mut msg) = rx.recv() {
        loop {
            match msg {
                Msg::Line(s) => {
                    if !failed {
                        if let Err(e) = out.write_all(s.as_bytes()) {
                            record(e, &mut failed);
                        }
                    }
                }
                Msg::Finish => {
                    if !failed {
                        if let Err(e) = out.flush() {
                            record(e, &mut failed);
                        }
                    }
                    return;
                }
            }
            match rx.try_recv() {
                Ok(m) => msg = m,
                Err(_) => break,
            }
        }
        // The channel is momentarily empty: write out what is buffered.
        if !failed {
            if let Err(e) = out.flush() {
                record(e, &mut failed);
            }
        }
    }
    if !failed {
        let _ = out.flush();
    }
}
