//! The differential test harness: run a guest natively and under `umk run`,
//! and compare what they did.
//!
//! * [`run_native`] / [`run_umk`] run a guest (by name, see
//!   [`umk_guests::guest_path`]) with an exact environment, stdin from
//!   `/dev/null`, and a hard timeout; [`Cmd`] is the general builder.
//! * [`assert_same`] / [`assert_same_with_stderr`] compare two runs and
//!   print a unified diff on mismatch; [`differential`] does all of it for
//!   every platform in [`PLATFORMS`].
//! * Every umk run is followed by a **stub-leak check**: the test process is
//!   a child subreaper, so stub processes that outlive umk are reparented to
//!   it, found in `/proc` and killed (by pid), and the test fails.
//! * Children get `PR_SET_PDEATHSIG(SIGKILL)`, so nothing outlives the test.
//!
//! Tests may run in parallel threads: nothing here changes the cwd or other
//! process-wide state except the (idempotent) subreaper flag.

use std::borrow::Cow;
use std::collections::{HashMap, HashSet};
use std::ffi::{OsStr, OsString};
use std::fmt::Write as _;
use std::io::{ErrorKind, Read, Write};
use std::os::fd::AsRawFd;
use std::os::unix::process::{CommandExt, ExitStatusExt};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, ExitStatus, Stdio};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Mutex, MutexGuard, Once};
use std::thread;
use std::time::{Duration, Instant};

pub use umk_guests::{all_guests, c_guest_dir, guest_path, C_GUESTS, RUST_GUESTS};

/// The umk platforms every differential test runs on.
pub const PLATFORMS: &[&str] = &["ptrace"];

/// How long any one command may run before it is killed and the test fails.
pub const DEFAULT_TIMEOUT: Duration = Duration::from_secs(60);

/// How long stub processes get to die after umk exits, and pipes to close.
const EXIT_GRACE: Duration = Duration::from_secs(2);

/// The value of `UMK_TEST_VAR` in [`DEFAULT_ENV`].
pub const TEST_VAR_VALUE: &str = "value with spaces/ünïcödé";

/// The environment the differential tests give guests (and nothing else).
pub const DEFAULT_ENV: &[(&str, &str)] = &[("UMK_TEST_VAR", TEST_VAR_VALUE)];

// ---------------------------------------------------------------------------
// Locating binaries

/// `<target>/<profile>`, from the test executable's own path
/// (`<target>/<profile>/deps/<test>-<hash>`).
pub fn profile_dir() -> PathBuf {
    let exe = std::env::current_exe().expect("current_exe");
    exe.parent()
        .and_then(Path::parent)
        .unwrap_or_else(|| panic!("unexpected test executable path {}", exe.display()))
        .to_path_buf()
}

/// The `umk` binary: `$UMK_BIN` if set, else `<target>/<profile>/umk` next to
/// the test executable. Panics if it does not exist.
pub fn umk_binary() -> PathBuf {
    let path = match std::env::var_os("UMK_BIN") {
        Some(p) => PathBuf::from(p),
        None => profile_dir().join("umk"),
    };
    if !path.is_file() {
        panic!(
            "run `cargo test --workspace` (umk binary not built): {} does not exist \
             (`cargo build -p umk` builds it; UMK_BIN overrides the path)",
            path.display()
        );
    }
    path
}

/// The path of guest `name`, which must have been built.
pub fn guest(name: &str) -> PathBuf {
    let path = guest_path(name);
    if !path.is_file() {
        panic!(
            "guest {name} not built: {} does not exist (run `cargo test --workspace`)",
            path.display()
        );
    }
    path
}

// ---------------------------------------------------------------------------
// Running commands

/// What a finished command did.
#[derive(Debug, Clone)]
pub struct Output {
    /// The command line, for messages.
    pub what: String,
    pub status: ExitStatus,
    pub stdout: Vec<u8>,
    pub stderr: Vec<u8>,
    pub elapsed: Duration,
}

impl Output {
    /// The exit code, or `None` if killed by a signal.
    pub fn code(&self) -> Option<i32> {
        self.status.code()
    }

    pub fn stdout_str(&self) -> Cow<'_, str> {
        String::from_utf8_lossy(&self.stdout)
    }

    pub fn stderr_str(&self) -> Cow<'_, str> {
        String::from_utf8_lossy(&self.stderr)
    }

    /// "exit 3" or "killed by signal 9 (core dumped)".
    pub fn status_str(&self) -> String {
        status_str(self.status)
    }

    /// A multi-line description: command, status, stdout and stderr.
    pub fn describe(&self) -> String {
        format!(
            "$ {}\n{} after {:.3}s\n--- stdout ---\n{}\n--- stderr ---\n{}",
            self.what,
            self.status_str(),
            self.elapsed.as_secs_f64(),
            clip(&self.stdout_str()),
            clip(&self.stderr_str())
        )
    }

    /// Panics with a description unless the exit code is `code`.
    pub fn assert_code(&self, code: i32) -> &Self {
        assert!(
            self.code() == Some(code),
            "expected exit {code}:\n{}",
            self.describe()
        );
        self
    }
}

fn status_str(s: ExitStatus) -> String {
    match (s.code(), s.signal()) {
        (Some(c), _) => format!("exit {c}"),
        (None, Some(sig)) => format!(
            "killed by signal {sig}{}",
            if s.core_dumped() {
                " (core dumped)"
            } else {
                ""
            }
        ),
        _ => format!("{s}"),
    }
}

fn clip(s: &str) -> Cow<'_, str> {
    const MAX: usize = 20_000;
    if s.len() <= MAX {
        return Cow::Borrowed(s);
    }
    let mut cut = MAX;
    while !s.is_char_boundary(cut) {
        cut -= 1;
    }
    Cow::Owned(format!("{}\n... ({} more bytes)", &s[..cut], s.len() - cut))
}

/// A command to run with an exact environment, stdin, and a hard timeout.
#[derive(Debug, Clone)]
pub struct Cmd {
    program: OsString,
    args: Vec<OsString>,
    env: Vec<(OsString, OsString)>,
    stdin: Option<Vec<u8>>,
    cwd: Option<PathBuf>,
    timeout: Duration,
    umk: bool,
}

impl Cmd {
    /// `program` with an empty environment, stdin from `/dev/null` and the
    /// default timeout.
    pub fn new(program: impl AsRef<OsStr>) -> Cmd {
        Cmd {
            program: program.as_ref().to_owned(),
            args: Vec::new(),
            env: Vec::new(),
            stdin: None,
            cwd: None,
            timeout: DEFAULT_TIMEOUT,
            umk: false,
        }
    }

    /// `umk` with `args` (e.g. `["run", "--", ...]`); the run is followed by
    /// a stub-leak check.
    pub fn umk<S: AsRef<OsStr>>(args: impl IntoIterator<Item = S>) -> Cmd {
        let mut cmd = Cmd::new(umk_binary()).args(args);
        cmd.umk = true;
        cmd
    }

    pub fn arg(mut self, arg: impl AsRef<OsStr>) -> Cmd {
        self.args.push(arg.as_ref().to_owned());
        self
    }

    pub fn args<S: AsRef<OsStr>>(mut self, args: impl IntoIterator<Item = S>) -> Cmd {
        self.args
            .extend(args.into_iter().map(|a| a.as_ref().to_owned()));
        self
    }

    /// Adds one environment variable (the environment starts empty).
    pub fn env(mut self, key: impl AsRef<OsStr>, value: impl AsRef<OsStr>) -> Cmd {
        self.env
            .push((key.as_ref().to_owned(), value.as_ref().to_owned()));
        self
    }

    pub fn envs<K: AsRef<OsStr>, V: AsRef<OsStr>>(
        mut self,
        vars: impl IntoIterator<Item = (K, V)>,
    ) -> Cmd {
        for (k, v) in vars {
            self = self.env(k, v);
        }
        self
    }

    /// Feeds `bytes` to stdin (then closes it) instead of `/dev/null`.
    pub fn stdin(mut self, bytes: impl Into<Vec<u8>>) -> Cmd {
        self.stdin = Some(bytes.into());
        self
    }

    pub fn current_dir(mut self, dir: impl Into<PathBuf>) -> Cmd {
        self.cwd = Some(dir.into());
        self
    }

    pub fn timeout(mut self, timeout: Duration) -> Cmd {
        self.timeout = timeout;
        self
    }

    /// The command line, for messages.
    pub fn display(&self) -> String {
        let mut s = String::new();
        for (k, v) in &self.env {
            let _ = write!(
                s,
                "{}={} ",
                k.to_string_lossy(),
                shell_quote(&v.to_string_lossy())
            );
        }
        s.push_str(&shell_quote(&self.program.to_string_lossy()));
        for a in &self.args {
            s.push(' ');
            s.push_str(&shell_quote(&a.to_string_lossy()));
        }
        s
    }

    /// Runs the command to completion. Panics if it cannot be started, if it
    /// runs longer than the timeout (after killing it), or, for umk, if stub
    /// processes outlive it.
    pub fn run(&self) -> Output {
        let what = self.display();
        let mut command = Command::new(&self.program);
        command
            .args(&self.args)
            .env_clear()
            .envs(self.env.iter().map(|(k, v)| (k, v)))
            .stdin(if self.stdin.is_some() {
                Stdio::piped()
            } else {
                Stdio::null()
            })
            .stdout(Stdio::piped())
            .stderr(Stdio::piped());
        if let Some(dir) = &self.cwd {
            command.current_dir(dir);
        }
        // SAFETY: getpid is async-signal-safe and has no preconditions.
        let parent = unsafe { libc::getpid() };
        // SAFETY: the closure only makes async-signal-safe syscalls (prctl,
        // getppid, kill, close_range) and does not allocate.
        unsafe {
            command.pre_exec(move || {
                // Die with the thread that started us; if it is already gone
                // (we were reparented before prctl), die now.
                if libc::prctl(
                    libc::PR_SET_PDEATHSIG,
                    libc::SIGKILL as libc::c_ulong,
                    0,
                    0,
                    0,
                ) != 0
                {
                    return Err(std::io::Error::last_os_error());
                }
                if libc::getppid() != parent {
                    libc::kill(libc::getpid(), libc::SIGKILL);
                }
                // Pass on exactly stdin, stdout and stderr: descriptors the
                // test process inherited (a jobserver, say) close on exec.
                // (Not closed now: std's exec-error pipe is among them.)
                // Best effort: kernels before 5.11 lack CLOSE_RANGE_CLOEXEC.
                libc::syscall(
                    libc::SYS_close_range,
                    3u32,
                    u32::MAX,
                    libc::CLOSE_RANGE_CLOEXEC,
                );
                Ok(())
            })
        };

        let start = Instant::now();
        let (child, pid) = spawn_registered(&mut command, &what);
        let mut guard = Registered {
            pid,
            child: Some(child),
        };
        let result = collect(&mut guard, self.stdin.as_deref(), start, self.timeout);
        let child_status = guard.reap();
        let leaks = if self.umk {
            check_stub_leaks()
        } else {
            Vec::new()
        };
        let elapsed = start.elapsed();

        let (stdout, stderr, outcome) = result;
        let status = child_status.unwrap_or_else(|e| panic!("waiting for `{what}`: {e}"));
        let out = Output {
            what,
            status,
            stdout,
            stderr,
            elapsed,
        };
        match outcome {
            Outcome::Done => {}
            Outcome::TimedOut => panic!(
                "TIMEOUT: killed after {:?} (limit {:?}){}\n{}",
                elapsed,
                self.timeout,
                leak_note(&leaks),
                out.describe()
            ),
            Outcome::PipesHeldOpen => panic!(
                "stdout/stderr still open {EXIT_GRACE:?} after the process exited \
                 (a leftover process holds them){}\n{}",
                leak_note(&leaks),
                out.describe()
            ),
        }
        if !leaks.is_empty() {
            panic!("{}\n{}", leak_note(&leaks), out.describe());
        }
        out
    }
}

fn shell_quote(s: &str) -> Cow<'_, str> {
    if !s.is_empty()
        && s.bytes()
            .all(|b| b.is_ascii_alphanumeric() || b"/._-=+,:@%".contains(&b))
    {
        Cow::Borrowed(s)
    } else {
        Cow::Owned(format!("'{}'", s.replace('\'', r"'\''")))
    }
}

// The pids of the children currently running (spawned and not yet reaped).
// Spawning happens with the lock held, so a leak scan (which also holds it)
// never mistakes a just-spawned child for a leak.
static LIVE: Mutex<Option<HashSet<i32>>> = Mutex::new(None);
static SUBREAPER: Once = Once::new();

fn live() -> MutexGuard<'static, Option<HashSet<i32>>> {
    LIVE.lock().unwrap_or_else(|e| e.into_inner())
}

/// Makes this process a child subreaper (once), so that processes orphaned
/// by umk are reparented to it and can be found.
pub fn become_subreaper() {
    SUBREAPER.call_once(|| {
        // SAFETY: PR_SET_CHILD_SUBREAPER takes an integer and no pointers.
        let r = unsafe { libc::prctl(libc::PR_SET_CHILD_SUBREAPER, 1 as libc::c_ulong, 0, 0, 0) };
        assert_eq!(
            r,
            0,
            "prctl(PR_SET_CHILD_SUBREAPER): {}",
            std::io::Error::last_os_error()
        );
    });
}

fn spawn_registered(command: &mut Command, what: &str) -> (Child, i32) {
    become_subreaper();
    let mut live = live();
    let child = command
        .spawn()
        .unwrap_or_else(|e| panic!("cannot start `{what}`: {e}"));
    let pid = child.id() as i32;
    live.get_or_insert_with(HashSet::new).insert(pid);
    (child, pid)
}

/// A registered child: killed (by pid) and reaped if dropped while running.
struct Registered {
    pid: i32,
    child: Option<Child>,
}

impl Registered {
    fn reap(&mut self) -> std::io::Result<ExitStatus> {
        let child = self.child.as_mut().expect("not yet reaped");
        let status = child.wait();
        self.child = None;
        if let Some(set) = live().as_mut() {
            set.remove(&self.pid);
        }
        status
    }
}

/// umk started in the background (stdio to /dev/null), registered like
/// [`Cmd::run`]'s children so that leak scans of other tests leave it alone.
/// Dropping it kills it (SIGKILL, by pid) and reaps it.
pub struct Background(Registered);

impl Background {
    pub fn umk<S: AsRef<OsStr>>(args: impl IntoIterator<Item = S>) -> Background {
        let mut command = Command::new(umk_binary());
        command
            .args(args)
            .stdin(std::process::Stdio::null())
            .stdout(std::process::Stdio::null())
            .stderr(std::process::Stdio::null());
        let (child, pid) = spawn_registered(&mut command, "umk (background)");
        Background(Registered {
            pid,
            child: Some(child),
        })
    }

    pub fn pid(&self) -> i32 {
        self.0.pid
    }

    /// Every live descendant of the process (children, their children, ...).
    pub fn descendants(&self) -> Vec<i32> {
        let mut by_parent: HashMap<i32, Vec<i32>> = HashMap::new();
        if let Ok(dir) = std::fs::read_dir("/proc") {
            for pid in dir.filter_map(|e| e.ok()?.file_name().to_str()?.parse::<i32>().ok()) {
                if let Some((_, state, ppid)) = proc_stat(pid) {
                    if state != 'Z' && state != 'X' {
                        by_parent.entry(ppid).or_default().push(pid);
                    }
                }
            }
        }
        let mut out = Vec::new();
        let mut todo = vec![self.0.pid];
        while let Some(p) = todo.pop() {
            for &c in by_parent.get(&p).map(Vec::as_slice).unwrap_or(&[]) {
                out.push(c);
                todo.push(c);
            }
        }
        out
    }

    /// SIGKILLs umk (only umk: what it started must die by itself) and
    /// reaps it.
    pub fn sigkill(mut self) {
        // SAFETY: kill by the pid of our own unreaped child.
        unsafe { libc::kill(self.0.pid, libc::SIGKILL) };
        let _ = self.0.reap();
    }
}

impl Drop for Registered {
    fn drop(&mut self) {
        if let Some(child) = &mut self.child {
            let _ = child.kill();
            let _ = child.wait();
            if let Some(set) = live().as_mut() {
                set.remove(&self.pid);
            }
        }
    }
}

enum Outcome {
    Done,
    TimedOut,
    PipesHeldOpen,
}

fn set_nonblocking(fd: i32) {
    // SAFETY: fcntl on a file descriptor we own; no pointers.
    unsafe {
        let fl = libc::fcntl(fd, libc::F_GETFL);
        libc::fcntl(fd, libc::F_SETFL, fl | libc::O_NONBLOCK);
    }
}

/// Feeds stdin and collects stdout/stderr until the child exits and both
/// pipes reach EOF, or the timeout (then the child is killed).
fn collect(
    reg: &mut Registered,
    mut input: Option<&[u8]>,
    start: Instant,
    timeout: Duration,
) -> (Vec<u8>, Vec<u8>, Outcome) {
    let child = reg.child.as_mut().expect("running child");
    let mut stdin = child.stdin.take();
    let mut stdout = child.stdout.take();
    let mut stderr = child.stderr.take();
    for fd in [
        stdin.as_ref().map(|s| s.as_raw_fd()),
        stdout.as_ref().map(|s| s.as_raw_fd()),
        stderr.as_ref().map(|s| s.as_raw_fd()),
    ]
    .into_iter()
    .flatten()
    {
        set_nonblocking(fd);
    }
    let (mut out, mut err) = (Vec::new(), Vec::new());
    let mut exited_at: Option<Instant> = None;
    let deadline = start + timeout;
    loop {
        if stdout.is_none() && stderr.is_none() && exited_at.is_some() {
            return (out, err, Outcome::Done);
        }
        let now = Instant::now();
        if now >= deadline {
            // Kill the child by its pid (Child::kill sends SIGKILL to it).
            let _ = child.kill();
            return (out, err, Outcome::TimedOut);
        }
        if let Some(t) = exited_at {
            if now.duration_since(t) > EXIT_GRACE {
                return (out, err, Outcome::PipesHeldOpen);
            }
        }
        let mut fds = Vec::with_capacity(3);
        if let Some(s) = &stdin {
            fds.push(libc::pollfd {
                fd: s.as_raw_fd(),
                events: libc::POLLOUT,
                revents: 0,
            });
        }
        for s in [
            stdout.as_ref().map(|s| s.as_raw_fd()),
            stderr.as_ref().map(|s| s.as_raw_fd()),
        ]
        .into_iter()
        .flatten()
        {
            fds.push(libc::pollfd {
                fd: s,
                events: libc::POLLIN,
                revents: 0,
            });
        }
        // Wake up at least every 10 ms to notice the child's exit.
        // SAFETY: `fds` is a valid array of `fds.len()` pollfds.
        unsafe { libc::poll(fds.as_mut_ptr(), fds.len() as libc::nfds_t, 10) };

        if let Some(s) = &mut stdin {
            let data = input.unwrap_or(&[]);
            if data.is_empty() {
                stdin = None; // closes it
            } else {
                match s.write(&data[..data.len().min(65536)]) {
                    Ok(n) => input = Some(&data[n..]),
                    Err(e)
                        if e.kind() == ErrorKind::WouldBlock
                            || e.kind() == ErrorKind::Interrupted => {}
                    Err(_) => stdin = None, // EPIPE: the child does not read it
                }
            }
        }
        drain(&mut stdout, &mut out);
        drain(&mut stderr, &mut err);
        if exited_at.is_none() {
            if let Ok(Some(_)) = child.try_wait() {
                exited_at = Some(Instant::now());
                stdin = None;
            }
        }
    }
}

/// Reads what is available; drops the pipe at EOF.
fn drain<R: Read>(pipe: &mut Option<R>, buf: &mut Vec<u8>) {
    let Some(r) = pipe else { return };
    let mut chunk = [0u8; 65536];
    loop {
        match r.read(&mut chunk) {
            Ok(0) => {
                *pipe = None;
                return;
            }
            Ok(n) => buf.extend_from_slice(&chunk[..n]),
            Err(e) if e.kind() == ErrorKind::Interrupted => {}
            Err(e) if e.kind() == ErrorKind::WouldBlock => return,
            Err(_) => {
                *pipe = None;
                return;
            }
        }
    }
}

// ---------------------------------------------------------------------------
// Stub leaks

/// A process that outlived the umk that started it.
#[derive(Debug, Clone)]
pub struct Leak {
    pub pid: i32,
    pub comm: String,
    pub state: char,
    pub cmdline: String,
}

fn leak_note(leaks: &[Leak]) -> String {
    if leaks.is_empty() {
        return String::new();
    }
    let mut s = String::from(
        "\nSTUB LEAK: these processes outlived umk (reparented to the test process; now killed):",
    );
    for l in leaks {
        let _ = write!(
            s,
            "\n  pid {} comm {:?} state {} cmdline {:?}",
            l.pid, l.comm, l.state, l.cmdline
        );
    }
    s.push_str("\n(with tests running in parallel, the leak may come from another test's umk run)");
    s
}

/// `(comm, state, ppid)` from `/proc/<pid>/stat`.
fn proc_stat(pid: i32) -> Option<(String, char, i32)> {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
    // "pid (comm) state ppid ...": comm may contain anything, even ')'.
    let open = stat.find('(')?;
    let close = stat.rfind(')')?;
    let comm = stat.get(open + 1..close)?.to_string();
    let mut rest = stat.get(close + 1..)?.split_whitespace();
    let state = rest.next()?.chars().next()?;
    let ppid = rest.next()?.parse().ok()?;
    Some((comm, state, ppid))
}

/// Our children that we did not start ourselves (so: reparented orphans):
/// `(pid, comm, state)`.
fn orphans(live: &Option<HashSet<i32>>) -> Vec<(i32, String, char)> {
    // SAFETY: getpid has no preconditions.
    let me = unsafe { libc::getpid() };
    let Ok(dir) = std::fs::read_dir("/proc") else {
        return Vec::new();
    };
    dir.filter_map(|e| e.ok()?.file_name().to_str()?.parse::<i32>().ok())
        .filter(|pid| !live.as_ref().is_some_and(|l| l.contains(pid)))
        .filter_map(|pid| {
            let (comm, state, ppid) = proc_stat(pid)?;
            (ppid == me).then_some((pid, comm, state))
        })
        .collect()
}

fn reap_pid(pid: i32) {
    let mut status = 0;
    // SAFETY: waitpid on a specific child pid; `status` is a valid out pointer.
    unsafe { libc::waitpid(pid, &mut status, libc::WNOHANG) };
}

/// Looks for processes whose comm starts with `umk` that were reparented to
/// this (subreaper) process and are still alive: stubs that outlived their
/// umk. Dead orphans (zombies) are reaped silently: a stub killed by
/// `PTRACE_O_EXITKILL`/`PR_SET_PDEATHSIG` when umk exited is not a leak.
/// Live ones get [`EXIT_GRACE`] to die, then are killed by pid, reaped, and
/// returned.
pub fn check_stub_leaks() -> Vec<Leak> {
    let start = Instant::now();
    loop {
        let suspects: Vec<(i32, String, char)> = {
            let live = live();
            let mut suspects = Vec::new();
            for (pid, comm, state) in orphans(&live) {
                if state == 'Z' || state == 'X' {
                    reap_pid(pid);
                } else if comm.starts_with("umk") {
                    suspects.push((pid, comm, state));
                }
            }
            suspects
        };
        if suspects.is_empty() {
            return Vec::new();
        }
        if start.elapsed() < EXIT_GRACE {
            thread::sleep(Duration::from_millis(10));
            continue;
        }
        let mut leaks = Vec::new();
        for (pid, comm, state) in suspects {
            let cmdline = std::fs::read(format!("/proc/{pid}/cmdline"))
                .map(|b| {
                    String::from_utf8_lossy(&b)
                        .replace('\0', " ")
                        .trim_end()
                        .to_string()
                })
                .unwrap_or_default();
            // SAFETY: kill by the pid of our own (reparented) child.
            unsafe { libc::kill(pid, libc::SIGKILL) };
            let mut status = 0;
            // SAFETY: waitpid on our child; `status` is a valid out pointer.
            unsafe { libc::waitpid(pid, &mut status, 0) };
            leaks.push(Leak {
                pid,
                comm,
                state,
                cmdline,
            });
        }
        return leaks;
    }
}

// ---------------------------------------------------------------------------
// Running guests

/// Runs guest `name` natively with exactly the environment `env`.
pub fn run_native(name: &str, args: &[&str], env: &[(&str, &str)]) -> Output {
    native_cmd(name, args, env).run()
}

/// The command [`run_native`] runs.
pub fn native_cmd(name: &str, args: &[&str], env: &[(&str, &str)]) -> Cmd {
    Cmd::new(guest(name)).args(args).envs(env.iter().copied())
}

/// Runs `umk run --platform <platform> -- <guest path> args...` with exactly
/// the environment `env`.
pub fn run_umk(platform: &str, name: &str, args: &[&str], env: &[(&str, &str)]) -> Output {
    umk_cmd(platform, name, args, env).run()
}

/// The command [`run_umk`] runs.
pub fn umk_cmd(platform: &str, name: &str, args: &[&str], env: &[(&str, &str)]) -> Cmd {
    Cmd::umk(["run", "--platform", platform, "--"])
        .arg(guest(name))
        .args(args)
        .envs(env.iter().copied())
}

/// Panics with a diff unless the two runs have the same stdout and exit
/// status.
pub fn assert_same(native: &Output, umk: &Output) {
    compare(native, umk, false);
}

/// Like [`assert_same`], and stderr must match too.
pub fn assert_same_with_stderr(native: &Output, umk: &Output) {
    compare(native, umk, true);
}

fn compare(native: &Output, umk: &Output, with_stderr: bool) {
    let mut problems = String::new();
    if native.status != umk.status {
        let _ = writeln!(
            problems,
            "exit status differs: native {}, umk {}",
            native.status_str(),
            umk.status_str()
        );
    }
    if native.stdout != umk.stdout {
        let _ = writeln!(
            problems,
            "stdout differs:\n{}",
            unified_diff(
                &native.stdout_str(),
                &umk.stdout_str(),
                "native stdout",
                "umk stdout"
            )
        );
    }
    if with_stderr && native.stderr != umk.stderr {
        let _ = writeln!(
            problems,
            "stderr differs:\n{}",
            unified_diff(
                &native.stderr_str(),
                &umk.stderr_str(),
                "native stderr",
                "umk stderr"
            )
        );
    }
    if !problems.is_empty() {
        panic!(
            "umk differs from native\n  native: $ {}\n  umk:    $ {}\n{problems}\
             --- umk stderr ---\n{}",
            native.what,
            umk.what,
            clip(&umk.stderr_str())
        );
    }
}

/// Which outputs a differential test compares (stdout and exit status
/// always).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Compare {
    Stdout,
    StdoutAndStderr,
}

/// Runs guest `name` natively and then under umk on every platform in
/// [`PLATFORMS`], asserting the same results. Returns the native run.
pub fn differential(name: &str, args: &[&str], env: &[(&str, &str)], what: Compare) -> Output {
    let native = run_native(name, args, env);
    for platform in PLATFORMS {
        let umk = run_umk(platform, name, args, env);
        compare(&native, &umk, what == Compare::StdoutAndStderr);
    }
    native
}

// ---------------------------------------------------------------------------
// Diffs

/// A unified-style line diff of `a` and `b` with 3 lines of context.
pub fn unified_diff(a: &str, b: &str, label_a: &str, label_b: &str) -> String {
    const CONTEXT: usize = 3;
    const MAX_LINES: usize = 400;
    let a: Vec<&str> = a.lines().collect();
    let b: Vec<&str> = b.lines().collect();
    let mut out = format!("--- {label_a}\n+++ {label_b}\n");

    // Trim the common prefix and suffix, then LCS on the middle.
    let prefix = a.iter().zip(&b).take_while(|(x, y)| x == y).count();
    let suffix = a[prefix..]
        .iter()
        .rev()
        .zip(b[prefix..].iter().rev())
        .take_while(|(x, y)| x == y)
        .count();
    let (ma, mb) = (&a[prefix..a.len() - suffix], &b[prefix..b.len() - suffix]);
    if ma.len().saturating_mul(mb.len()) > 25_000_000 {
        let _ = writeln!(out, "(too large to diff: {} vs {} lines)", a.len(), b.len());
        return out;
    }
    // ops over the whole files: (' ' | '-' | '+', line)
    let mut ops: Vec<(char, &str)> = a[..prefix].iter().map(|l| (' ', *l)).collect();
    let (n, m) = (ma.len(), mb.len());
    let mut lcs = vec![0u32; (n + 1) * (m + 1)];
    for i in (0..n).rev() {
        for j in (0..m).rev() {
            lcs[i * (m + 1) + j] = if ma[i] == mb[j] {
                lcs[(i + 1) * (m + 1) + j + 1] + 1
            } else {
                lcs[(i + 1) * (m + 1) + j].max(lcs[i * (m + 1) + j + 1])
            };
        }
    }
    let (mut i, mut j) = (0, 0);
    while i < n || j < m {
        if i < n && j < m && ma[i] == mb[j] {
            ops.push((' ', ma[i]));
            i += 1;
            j += 1;
        } else if i < n && (j == m || lcs[(i + 1) * (m + 1) + j] >= lcs[i * (m + 1) + j + 1]) {
            ops.push(('-', ma[i]));
            i += 1;
        } else {
            ops.push(('+', mb[j]));
            j += 1;
        }
    }
    ops.extend(a[a.len() - suffix..].iter().map(|l| (' ', *l)));

    // Print hunks: changed lines with CONTEXT lines around them.
    let changed: Vec<usize> = ops
        .iter()
        .enumerate()
        .filter(|(_, o)| o.0 != ' ')
        .map(|(k, _)| k)
        .collect();
    let mut printed = 0;
    let mut k = 0;
    while k < changed.len() {
        let first = changed[k].saturating_sub(CONTEXT);
        let mut last = changed[k];
        while k + 1 < changed.len() && changed[k + 1] <= last + 2 * CONTEXT + 1 {
            k += 1;
            last = changed[k];
        }
        let last = (last + CONTEXT).min(ops.len() - 1);
        let a_start = ops[..first].iter().filter(|o| o.0 != '+').count() + 1;
        let b_start = ops[..first].iter().filter(|o| o.0 != '-').count() + 1;
        let a_len = ops[first..=last].iter().filter(|o| o.0 != '+').count();
        let b_len = ops[first..=last].iter().filter(|o| o.0 != '-').count();
        let _ = writeln!(out, "@@ -{a_start},{a_len} +{b_start},{b_len} @@");
        for (op, line) in &ops[first..=last] {
            if printed >= MAX_LINES {
                out.push_str("... (diff truncated)\n");
                return out;
            }
            let _ = writeln!(out, "{op}{line}");
            printed += 1;
        }
        k += 1;
    }
    out
}

// ---------------------------------------------------------------------------
// Temporary directories

/// A fresh directory under `std::env::temp_dir()`, removed when dropped.
#[derive(Debug)]
pub struct TempDir {
    path: PathBuf,
}

impl TempDir {
    pub fn new(tag: &str) -> TempDir {
        static COUNTER: AtomicU64 = AtomicU64::new(0);
        let nanos = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map(|d| d.subsec_nanos())
            .unwrap_or(0);
        loop {
            let n = COUNTER.fetch_add(1, Ordering::Relaxed);
            let path = std::env::temp_dir().join(format!(
                "umk-tests-{tag}-{}-{n}-{nanos}",
                std::process::id()
            ));
            match std::fs::create_dir(&path) {
                Ok(()) => return TempDir { path },
                Err(e) if e.kind() == ErrorKind::AlreadyExists => continue,
                Err(e) => panic!("cannot create {}: {e}", path.display()),
            }
        }
    }

    pub fn path(&self) -> &Path {
        &self.path
    }

    pub fn join(&self, p: impl AsRef<Path>) -> PathBuf {
        self.path.join(p)
    }
}

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.path);
    }
}

// ---------------------------------------------------------------------------
// Traces

/// Syscalls whose result is a pid or tid.
const PID_RESULTS: &[&str] = &[
    "set_tid_address",
    "getpid",
    "gettid",
    "getppid",
    "getpgid",
    "getpgrp",
    "getsid",
    "setsid",
    "clone",
    "clone3",
    "fork",
    "vfork",
];

/// Syscalls whose (output) buffer is random.
const RANDOM_BUFFERS: &[&str] = &["getrandom"];

/// Masks what varies between runs in an strace-format trace:
///
/// * `paths`: `(path, name)` pairs, e.g. the guest's path → `$GUEST`. A
///   quoted string that is the path, or a prefix of it truncated by the
///   tracer (`"/long/pa"...`), becomes `"name"`; other occurrences are
///   replaced too. Pass the longer paths first. A non-zero numeric result
///   of a line in which a path was masked (e.g. readlink's length) becomes
///   `LEN`.
/// * a leading pid (`1234  ` as with `strace -f -o`) → `PID `, `[pid 1234]`
///   → `[pid PID]`, and the result of pid-returning syscalls
///   (`set_tid_address`, `getpid`, `clone`...) → `PID`;
/// * hex numbers outside string literals → `0xADDR`;
/// * wall-clock times `HH:MM:SS[.uuuuuu]` → `HH:MM:SS.UUUUUU`, a leading
///   relative timestamp `0.000123 ` → `T `, durations `<0.000012>` → `<T>`;
/// * the buffer of `getrandom` → `"RANDOM"`;
/// * runs of spaces outside string literals (the tracer's column alignment,
///   which depends on the lengths of masked values) → one space.
pub fn mask_trace(trace: &str, paths: &[(&str, &str)]) -> String {
    let mut out = String::with_capacity(trace.len());
    for line in trace.split_inclusive('\n') {
        out.push_str(&mask_line(line, paths));
    }
    out
}

fn mask_line(line: &str, paths: &[(&str, &str)]) -> String {
    let (body, newline) = match line.strip_suffix('\n') {
        Some(body) => (body, "\n"),
        None => (line, ""),
    };
    let b = body.as_bytes();
    let digits = |from: usize| {
        b.get(from..)
            .unwrap_or(&[])
            .iter()
            .take_while(|c| c.is_ascii_digit())
            .count()
    };
    let word_start = |i: usize| i == 0 || !(b[i - 1].is_ascii_alphanumeric() || b[i - 1] == b'_');
    let spaces = |from: usize| {
        b.get(from..)
            .unwrap_or(&[])
            .iter()
            .take_while(|&&c| c == b' ')
            .count()
    };
    let mut out = String::with_capacity(line.len());
    let mut i = 0;
    let mut path_masked = false;

    // A leading pid ("1234  open(...)") or relative timestamp ("0.000123 ").
    let n = digits(0);
    if n > 0 && spaces(n) > 0 {
        out.push_str("PID ");
        i = n + spaces(n);
    } else if n > 0
        && b.get(n) == Some(&b'.')
        && digits(n + 1) > 0
        && spaces(n + 1 + digits(n + 1)) > 0
    {
        out.push_str("T ");
        i = n + 1 + digits(n + 1);
        i += spaces(i);
    }
    // The syscall's name: the first identifier followed by '('.
    let name: String = {
        let mut k = i;
        let mut name = "";
        while k < b.len() {
            let len = b[k..]
                .iter()
                .take_while(|c| c.is_ascii_alphanumeric() || **c == b'_')
                .count();
            if len > 0 && b.get(k + len) == Some(&b'(') {
                name = &body[k..k + len];
                break;
            }
            k += len.max(1);
        }
        name.to_string()
    };
    let mut random_buffer = RANDOM_BUFFERS.contains(&name.as_str());

    while i < b.len() {
        let rest = &body[i..];
        // A string literal: copied as is, or masked.
        if b[i] == b'"' {
            let mut j = i + 1;
            while j < b.len() && b[j] != b'"' {
                j += if b[j] == b'\\' { 2 } else { 1 };
            }
            let end = (j + 1).min(b.len());
            let content = &body[i + 1..j.min(b.len())];
            let truncated = body[end..].starts_with("...");
            let hit = paths.iter().find(|(path, _)| {
                content == *path || (truncated && content.len() >= 8 && path.starts_with(content))
            });
            let replacement = if random_buffer {
                random_buffer = false;
                Some("RANDOM")
            } else {
                hit.map(|(_, name)| {
                    path_masked = true;
                    *name
                })
            };
            match replacement {
                Some(r) => {
                    out.push('"');
                    out.push_str(r);
                    out.push('"');
                    i = if truncated { end + 3 } else { end };
                }
                None => {
                    let mut lit = body[i..end].to_string();
                    for (path, name) in paths {
                        if !path.is_empty() && lit.contains(path) {
                            lit = lit.replace(path, name);
                            path_masked = true;
                        }
                    }
                    out.push_str(&lit);
                    i = end;
                }
            }
            continue;
        }
        if b[i] == b' ' {
            out.push(' ');
            i += spaces(i);
            continue;
        }
        // [pid 1234]
        if rest.starts_with("[pid ") {
            let n = digits(i + 5);
            if n > 0 && b.get(i + 5 + n) == Some(&b']') {
                out.push_str("[pid PID]");
                i += 5 + n + 1;
                continue;
            }
        }
        // 0x7ffd1234
        if rest.starts_with("0x") && word_start(i) {
            let n = b[i + 2..]
                .iter()
                .take_while(|c| c.is_ascii_hexdigit())
                .count();
            if n > 0 {
                out.push_str("0xADDR");
                i += 2 + n;
                continue;
            }
        }
        // <0.000012>
        if b[i] == b'<' {
            let n = digits(i + 1);
            if n > 0 && b.get(i + 1 + n) == Some(&b'.') {
                let f = digits(i + 2 + n);
                if f > 0 && b.get(i + 2 + n + f) == Some(&b'>') {
                    out.push_str("<T>");
                    i += 3 + n + f;
                    continue;
                }
            }
        }
        // 12:34:56 or 12:34:56.123456
        if word_start(i)
            && digits(i) == 2
            && b.get(i + 2) == Some(&b':')
            && digits(i + 3) == 2
            && b.get(i + 5) == Some(&b':')
            && digits(i + 6) == 2
        {
            let mut end = i + 8;
            out.push_str("HH:MM:SS");
            if b.get(end) == Some(&b'.') && digits(end + 1) > 0 {
                end += 1 + digits(end + 1);
                out.push_str(".UUUUUU");
            }
            i = end;
            continue;
        }
        let ch = rest.chars().next().expect("non-empty");
        out.push(ch);
        i += ch.len_utf8();
    }

    // The result: the number after the last " = ".
    let mask = if PID_RESULTS.contains(&name.as_str()) {
        Some("PID")
    } else if path_masked {
        Some("LEN")
    } else {
        None
    };
    if let (Some(mask), Some(eq)) = (mask, out.rfind(" = ")) {
        let start = eq + 3;
        let len = out[start..]
            .bytes()
            .take_while(|c| c.is_ascii_digit())
            .count();
        let after = out.as_bytes().get(start + len);
        let zero = &out[start..start + len] == "0";
        if len > 0 && !(zero && mask == "LEN") && (after.is_none() || after == Some(&b' ')) {
            out.replace_range(start..start + len, mask);
        }
    }
    out.push_str(newline);
    out
}

/// Compares `actual` with the snapshot file `path`; with `UPDATE_SNAPSHOTS=1`
/// in the environment, (re)writes the snapshot instead.
pub fn assert_snapshot(path: &Path, actual: &str) {
    if std::env::var_os("UPDATE_SNAPSHOTS").is_some_and(|v| v == "1") {
        if let Some(dir) = path.parent() {
            std::fs::create_dir_all(dir)
                .unwrap_or_else(|e| panic!("creating {}: {e}", dir.display()));
        }
        std::fs::write(path, actual).unwrap_or_else(|e| panic!("writing {}: {e}", path.display()));
        eprintln!("updated snapshot {}", path.display());
        return;
    }
    let expected = match std::fs::read_to_string(path) {
        Ok(s) => s,
        Err(e) if e.kind() == ErrorKind::NotFound => panic!(
            "snapshot {} does not exist yet; create it (after checking the output is right) with\n  \
             UPDATE_SNAPSHOTS=1 cargo test -p umk-tests --test trace\nThe masked output was:\n{}",
            path.display(),
            clip(actual)
        ),
        Err(e) => panic!("reading {}: {e}", path.display()),
    };
    if expected != actual {
        panic!(
            "trace differs from snapshot {} (if the new trace is right, update with \
             UPDATE_SNAPSHOTS=1 cargo test -p umk-tests --test trace):\n{}",
            path.display(),
            unified_diff(&expected, actual, "snapshot", "actual")
        );
    }
}

/// `tests/snapshots/` in the source tree.
pub fn snapshot_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("snapshots")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn diff_shows_changes_with_context() {
        let a: String = (1..=30).map(|i| format!("{i}\n")).collect();
        let b = a
            .replace("\n5\n", "\nfive\n")
            .replace("\n20\n", "\n20\nnew\n");
        let d = unified_diff(&a, &b, "a", "b");
        assert!(
            d.contains("@@ -2,7 +2,7 @@\n 2\n 3\n 4\n-5\n+five\n 6\n 7\n 8\n@@"),
            "{d}"
        );
        assert!(
            d.contains("@@ -18,6 +18,7 @@\n 18\n 19\n 20\n+new\n 21\n 22\n 23\n"),
            "{d}"
        );
        assert_eq!(unified_diff("x\n", "x\n", "a", "b"), "--- a\n+++ b\n");
    }

    #[test]
    fn masking() {
        let t = "[pid 4242] 12:34:56.123456 mmap(NULL, 4096, PROT_READ, MAP_PRIVATE|MAP_ANONYMOUS, -1, 0) = 0x7f12ab000000 <0.000012>\n\
                 1234  execve(\"/t/debug/hello_rs\", [\"/t/debug/hel\"...], 0x7ffc /* 1 var */) = 0\n\
                 0.000123 write(1, \"0x10  12:00:00\\n\", 15) = 15\n\
                 readlink(\"/proc/self/exe\", \"/t/debug/hello_rs\", 4096) = 17\n\
                 set_tid_address(0x4c6b10)          = 31337\n\
                 getrandom(\"\\x01\\x2d\\xc8\"..., 8, GRND_NONBLOCK) = 8\n\
                 exit_group(0)                     = ?\n";
        let m = mask_trace(
            t,
            &[("/t/debug/hello_rs", "$GUEST"), ("/t/debug", "$TARGET")],
        );
        assert_eq!(
            m,
            "[pid PID] HH:MM:SS.UUUUUU mmap(NULL, 4096, PROT_READ, MAP_PRIVATE|MAP_ANONYMOUS, -1, 0) = 0xADDR <T>\n\
             PID execve(\"$GUEST\", [\"$GUEST\"], 0xADDR /* 1 var */) = 0\n\
             T write(1, \"0x10  12:00:00\\n\", 15) = 15\n\
             readlink(\"/proc/self/exe\", \"$GUEST\", 4096) = LEN\n\
             set_tid_address(0xADDR) = PID\n\
             getrandom(\"RANDOM\", 8, GRND_NONBLOCK) = 8\n\
             exit_group(0) = ?\n"
        );
    }

    #[test]
    fn run_with_stdin_and_timeout() {
        let out = Cmd::new("/bin/cat").stdin("hello\n").run();
        assert_eq!(out.stdout_str(), "hello\n");
        assert_eq!(out.code(), Some(0));
        let r = std::panic::catch_unwind(|| {
            Cmd::new("/bin/sleep")
                .arg("10")
                .timeout(Duration::from_millis(200))
                .run()
        });
        let msg = r.expect_err("must time out");
        let msg = msg.downcast_ref::<String>().cloned().unwrap_or_default();
        assert!(msg.contains("TIMEOUT"), "{msg}");
    }

    #[test]
    fn only_stdio_is_inherited() {
        // SAFETY: dup2 of stdin to an unused descriptor number, without CLOEXEC.
        let fd = unsafe { libc::dup2(0, 477) };
        assert_eq!(fd, 477);
        let out = Cmd::new("/bin/ls").arg("/proc/self/fd").run();
        // SAFETY: closing the descriptor made above.
        unsafe { libc::close(477) };
        assert!(
            !out.stdout_str().lines().any(|l| l == "477"),
            "{}",
            out.describe()
        );
        assert!(
            out.stdout_str().lines().any(|l| l == "2"),
            "{}",
            out.describe()
        );
    }

    #[test]
    fn exact_environment() {
        let out = Cmd::new("/usr/bin/env").env("A", "b c").run();
        assert_eq!(out.stdout_str(), "A=b c\n");
    }
}
