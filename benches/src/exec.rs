//! Running one child: its own process group, PR_SET_PDEATHSIG(SIGKILL),
//! stdout captured, the tail of stderr kept, and a deadline. The child is
//! killed by process group on timeout, on the total time budget, or when
//! the stop flag (Ctrl-C) is set.
//!
//! Exit is observed through a pidfd (poll()able, exact), so the wall time
//! of a run is measured from spawn to exit without a polling delay.

use std::ffi::OsString;
use std::fs::File;
use std::io::{self, Read};
use std::os::fd::{AsRawFd, FromRawFd, OwnedFd, RawFd};
use std::os::unix::process::{CommandExt, ExitStatusExt};
use std::process::{Child, Command, Stdio};
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

/// Most of stdout kept (metric lines come first in practice).
const STDOUT_LIMIT: usize = 1 << 20;
/// How much of the end of stderr is kept, for failure reasons.
const STDERR_TAIL: usize = 4096;
/// The longest poll() sleep, so the stop flag is seen even if its signal
/// arrived just before poll() started.
const POLL_SLICE: Duration = Duration::from_millis(100);
/// After the child exits, how long leftovers may hold its pipes open
/// before its process group is killed.
const LINGER: Duration = Duration::from_millis(500);

/// How a child ended.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Outcome {
    /// It exited with this status.
    Exited(i32),
    /// A signal killed it.
    Signaled(i32),
    /// It could not be started.
    SpawnFailed(String),
    /// It ran past its own timeout and was killed.
    TimedOut(Duration),
    /// The total time budget ran out; it was killed.
    BudgetExhausted,
    /// The stop flag was set (Ctrl-C); it was killed.
    Interrupted,
}

/// What one run of a child gave.
#[derive(Clone, Debug)]
pub struct ChildResult {
    pub outcome: Outcome,
    pub stdout: String,
    pub stderr_tail: String,
    /// From just before spawn to the child's exit (or to its killing).
    pub wall: Duration,
}

/// Limits of one run.
#[derive(Clone, Copy, Debug)]
pub struct Limits<'a> {
    pub timeout: Duration,
    /// The end of the total time budget.
    pub budget_end: Instant,
    pub stop: &'a AtomicBool,
}

struct Pipe {
    file: Option<File>,
    data: Vec<u8>,
    limit: usize,
    keep_tail: bool,
}

impl Pipe {
    fn new(file: Option<File>, limit: usize, keep_tail: bool) -> Pipe {
        Pipe {
            file,
            data: Vec::new(),
            limit,
            keep_tail,
        }
    }

    fn fd(&self) -> Option<RawFd> {
        self.file.as_ref().map(AsRawFd::as_raw_fd)
    }

    /// Reads once (poll() said it would not block); closes at EOF.
    fn read_some(&mut self) {
        let Some(file) = self.file.as_mut() else {
            return;
        };
        let mut buf = [0u8; 16384];
        match file.read(&mut buf) {
            Ok(0) => self.file = None,
            Ok(n) => {
                self.data.extend_from_slice(&buf[..n]);
                if self.data.len() > self.limit {
                    if self.keep_tail {
                        let cut = self.data.len() - self.limit;
                        self.data.drain(..cut);
                    } else {
                        self.data.truncate(self.limit);
                    }
                }
            }
            Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
            Err(_) => self.file = None,
        }
    }

    fn text(&self) -> String {
        String::from_utf8_lossy(&self.data).into_owned()
    }
}

fn pidfd_open(pid: u32) -> Option<OwnedFd> {
    let pid = libc::pid_t::try_from(pid).ok()?;
    // SAFETY: pidfd_open takes a pid and flags and returns a new fd or -1.
    let fd = unsafe { libc::syscall(libc::SYS_pidfd_open, pid, 0) };
    let fd = RawFd::try_from(fd).ok().filter(|fd| *fd >= 0)?;
    // SAFETY: `fd` was just returned by pidfd_open and is owned by no one else.
    Some(unsafe { OwnedFd::from_raw_fd(fd) })
}

/// Whether child `pid` has exited, without reaping it (WNOWAIT), so its pid
/// (and process group id) stays reserved until we wait for it.
fn has_exited(pid: libc::pid_t) -> bool {
    // SAFETY: siginfo_t is plain old data; all-zero is a valid value.
    let mut info: libc::siginfo_t = unsafe { std::mem::zeroed() };
    // SAFETY: `info` is a valid siginfo_t to fill; pid is our child.
    let rc = unsafe {
        libc::waitid(
            libc::P_PID,
            pid as libc::id_t,
            &mut info,
            libc::WEXITED | libc::WNOHANG | libc::WNOWAIT,
        )
    };
    // SAFETY: waitid filled `info` (or left it zeroed: si_pid 0).
    rc == 0 && unsafe { info.si_pid() } != 0
}

/// Kills the whole process group of `pgid` (the child and everything it
/// started that stayed in its group).
fn kill_group(pgid: libc::pid_t) {
    // SAFETY: kill with a negative pid signals that process group only;
    // pgid is our child's pid, which stays reserved until we reap it.
    unsafe {
        libc::kill(-pgid, libc::SIGKILL);
    }
}

fn spawn(argv: &[OsString]) -> io::Result<Child> {
    let Some((program, args)) = argv.split_first() else {
        return Err(io::Error::new(io::ErrorKind::InvalidInput, "empty command"));
    };
    let mut cmd = Command::new(program);
    cmd.args(args)
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .process_group(0);
    // SAFETY: getpid has no preconditions.
    let me = unsafe { libc::getpid() };
    // SAFETY: the closure runs in the forked child before exec and only
    // makes async-signal-safe system calls (prctl, getppid); it allocates
    // nothing and touches no locks.
    unsafe {
        cmd.pre_exec(move || {
            if libc::prctl(
                libc::PR_SET_PDEATHSIG,
                libc::SIGKILL as libc::c_ulong,
                0,
                0,
                0,
            ) != 0
            {
                return Err(io::Error::last_os_error());
            }
            // The harness may have died before the prctl took effect.
            if libc::getppid() != me {
                return Err(io::Error::other("umk bench exited"));
            }
            Ok(())
        });
    }
    cmd.spawn()
}

fn signal_name(sig: i32) -> &'static str {
    match sig {
        libc::SIGKILL => "SIGKILL",
        libc::SIGSEGV => "SIGSEGV",
        libc::SIGBUS => "SIGBUS",
        libc::SIGABRT => "SIGABRT",
        libc::SIGILL => "SIGILL",
        libc::SIGFPE => "SIGFPE",
        libc::SIGTRAP => "SIGTRAP",
        libc::SIGSYS => "SIGSYS",
        libc::SIGTERM => "SIGTERM",
        libc::SIGINT => "SIGINT",
        libc::SIGPIPE => "SIGPIPE",
        _ => "signal",
    }
}

impl Outcome {
    /// A short description for failure reasons.
    pub fn describe(&self) -> String {
        match self {
            Outcome::Exited(code) => format!("exit status {code}"),
            Outcome::Signaled(sig) => format!("killed by {} ({sig})", signal_name(*sig)),
            Outcome::SpawnFailed(e) => format!("cannot start: {e}"),
            Outcome::TimedOut(t) => format!("timed out after {:.1} s", t.as_secs_f64()),
            Outcome::BudgetExhausted => "stopped: time budget exhausted".to_string(),
            Outcome::Interrupted => "stopped: interrupted".to_string(),
        }
    }
}

/// Runs `argv` to completion or until a limit; never blocks for longer than
/// the limits allow (plus the time to kill and reap).
pub fn run(argv: &[OsString], limits: Limits<'_>) -> ChildResult {
    let start = Instant::now();
    let mut child = match spawn(argv) {
        Ok(child) => child,
        Err(e) => {
            return ChildResult {
                outcome: Outcome::SpawnFailed(e.to_string()),
                stdout: String::new(),
                stderr_tail: String::new(),
                wall: start.elapsed(),
            }
        }
    };
    let pid = child.id() as libc::pid_t;
    let mut out = Pipe::new(
        child.stdout.take().map(|s| File::from(OwnedFd::from(s))),
        STDOUT_LIMIT,
        false,
    );
    let mut err = Pipe::new(
        child.stderr.take().map(|s| File::from(OwnedFd::from(s))),
        STDERR_TAIL,
        true,
    );
    let pidfd = pidfd_open(child.id());
    let timeout_end = start + limits.timeout;
    let mut exited_at: Option<Instant> = None;
    let mut swept_at: Option<Instant> = None;
    let mut killed: Option<Outcome> = None;

    loop {
        let now = Instant::now();
        let deadline = match (exited_at, swept_at) {
            (None, _) => {
                killed = if limits.stop.load(Ordering::SeqCst) {
                    Some(Outcome::Interrupted)
                } else if now >= limits.budget_end {
                    Some(Outcome::BudgetExhausted)
                } else if now >= timeout_end {
                    Some(Outcome::TimedOut(limits.timeout))
                } else {
                    None
                };
                if killed.is_some() {
                    kill_group(pid);
                    break;
                }
                timeout_end.min(limits.budget_end).min(now + POLL_SLICE)
            }
            _ if out.file.is_none() && err.file.is_none() => break,
            (Some(t), None) if now >= t + LINGER => {
                // Leftovers of the child still hold its pipes: end them.
                kill_group(pid);
                swept_at = Some(now);
                now + LINGER
            }
            (Some(t), None) => t + LINGER,
            (Some(_), Some(t)) if now >= t + LINGER => break,
            (Some(_), Some(t)) => t + LINGER,
        };
        let mut fds: Vec<libc::pollfd> = Vec::with_capacity(3);
        for fd in [out.fd(), err.fd()].into_iter().flatten() {
            fds.push(libc::pollfd {
                fd,
                events: libc::POLLIN,
                revents: 0,
            });
        }
        let pidfd_watched = match (&pidfd, exited_at) {
            (Some(p), None) => {
                fds.push(libc::pollfd {
                    fd: p.as_raw_fd(),
                    events: libc::POLLIN,
                    revents: 0,
                });
                Some(p.as_raw_fd())
            }
            _ => None,
        };
        let mut wait = deadline.saturating_duration_since(now);
        if pidfd.is_none() && exited_at.is_none() {
            wait = wait.min(Duration::from_millis(2)); // no pidfd: poll for the exit
        }
        let ms = libc::c_int::try_from(wait.as_micros().div_ceil(1000)).unwrap_or(100);
        // SAFETY: `fds` is a valid, initialised array of fds.len() pollfds.
        let rc = unsafe { libc::poll(fds.as_mut_ptr(), fds.len() as libc::nfds_t, ms) };
        if rc < 0 {
            continue; // EINTR: the loop re-checks the stop flag
        }
        let ready = |fd: Option<RawFd>| {
            fd.is_some_and(|fd| fds.iter().any(|p| p.fd == fd && p.revents != 0))
        };
        if ready(out.fd()) {
            out.read_some();
        }
        if ready(err.fd()) {
            err.read_some();
        }
        if exited_at.is_none() {
            let exited = match pidfd_watched {
                Some(fd) => ready(Some(fd)),
                None => has_exited(pid),
            };
            if exited {
                exited_at = Some(Instant::now());
            }
        }
    }

    let wall = exited_at.unwrap_or_else(Instant::now) - start;
    if exited_at.is_some() {
        // Whatever the child left running in its group goes with it.
        kill_group(pid);
    }
    let status = child.wait();
    let outcome = match (killed, status) {
        (Some(k), _) => k,
        (None, Ok(s)) => match (s.code(), s.signal()) {
            (Some(code), _) => Outcome::Exited(code),
            (None, Some(sig)) => Outcome::Signaled(sig),
            (None, None) => Outcome::Exited(-1),
        },
        (None, Err(e)) => Outcome::SpawnFailed(format!("wait: {e}")),
    };
    ChildResult {
        outcome,
        stdout: out.text(),
        stderr_tail: err.text(),
        wall,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sh(script: &str, timeout_ms: u64, stop: &AtomicBool) -> ChildResult {
        let argv: Vec<OsString> = ["/bin/sh", "-c", script]
            .iter()
            .map(OsString::from)
            .collect();
        run(
            &argv,
            Limits {
                timeout: Duration::from_millis(timeout_ms),
                budget_end: Instant::now() + Duration::from_secs(60),
                stop,
            },
        )
    }

    #[test]
    fn captures_output_and_status() {
        let stop = AtomicBool::new(false);
        let r = sh("echo a 1 ns; echo oops >&2; exit 3", 10_000, &stop);
        assert_eq!(r.outcome, Outcome::Exited(3));
        assert_eq!(r.stdout, "a 1 ns\n");
        assert_eq!(r.stderr_tail, "oops\n");
    }

    #[test]
    fn signal_is_reported() {
        let stop = AtomicBool::new(false);
        let r = sh("kill -SEGV $$", 10_000, &stop);
        assert_eq!(r.outcome, Outcome::Signaled(libc::SIGSEGV));
        assert!(r.outcome.describe().contains("SIGSEGV"));
    }

    #[test]
    fn timeout_kills_the_group() {
        let stop = AtomicBool::new(false);
        // The background sleep keeps stdout open; killing the group ends it.
        let r = sh("sleep 30 & sleep 30", 300, &stop);
        assert!(matches!(r.outcome, Outcome::TimedOut(_)), "{:?}", r.outcome);
    }

    #[test]
    fn leftovers_holding_pipes_are_killed() {
        let stop = AtomicBool::new(false);
        let r = sh("sleep 30 & echo done 1 x", 20_000, &stop);
        assert_eq!(r.outcome, Outcome::Exited(0));
        assert_eq!(r.stdout, "done 1 x\n");
    }

    #[test]
    fn stop_flag_interrupts() {
        let stop = AtomicBool::new(true);
        let r = sh("sleep 30", 20_000, &stop);
        assert_eq!(r.outcome, Outcome::Interrupted);
    }

    #[test]
    fn missing_program() {
        let stop = AtomicBool::new(false);
        let argv = vec![OsString::from("/nonexistent/prog")];
        let limits = Limits {
            timeout: Duration::from_secs(1),
            budget_end: Instant::now() + Duration::from_secs(1),
            stop: &stop,
        };
        assert!(matches!(
            run(&argv, limits).outcome,
            Outcome::SpawnFailed(_)
        ));
    }
}
