//! Runners: the ways a guest is run, each turning (program, args) into a
//! command line.

use std::ffi::OsString;
use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};

/// The platforms of umk; each gives a runner `umk-<platform>`.
pub const UMK_PLATFORMS: &[&str] = &["ptrace"];

/// Peer tools, in the order they are listed after umk's runners.
const PEERS: &[&str] = &["strace", "proot", "runsc"];

/// How a runner runs a program.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum RunnerKind {
    /// The program itself.
    Native,
    /// `umk run --platform P -- program args`.
    Umk { platform: String },
    /// `strace -f -o /dev/null program args`.
    Strace,
    /// `proot program args`.
    Proot,
    /// `runsc --network=none --platform=ptrace do program args` (root only).
    Runsc,
}

/// A runner that is available on this machine.
#[derive(Clone, Debug)]
pub struct Runner {
    pub name: String,
    pub kind: RunnerKind,
    /// The tool that runs the program (umk, strace, …); none for native.
    pub tool: Option<PathBuf>,
}

/// A runner that was asked for (or is known) but cannot run here.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Skipped {
    pub name: String,
    pub reason: String,
}

impl Runner {
    /// The native runner.
    pub fn native() -> Runner {
        Runner {
            name: "native".to_string(),
            kind: RunnerKind::Native,
            tool: None,
        }
    }

    /// The words put before the program and its arguments.
    fn prefix(&self) -> Vec<OsString> {
        let tool = || -> OsString {
            self.tool.as_ref().map_or_else(
                || OsString::from(&self.name),
                |t| t.clone().into_os_string(),
            )
        };
        let words = |w: &[&str]| w.iter().map(OsString::from).collect::<Vec<_>>();
        let mut prefix = match &self.kind {
            RunnerKind::Native => return Vec::new(),
            RunnerKind::Umk { platform } => words(&["run", "--platform", platform.as_str(), "--"]),
            RunnerKind::Strace => words(&["-f", "-o", "/dev/null"]),
            RunnerKind::Proot => Vec::new(),
            RunnerKind::Runsc => words(&["--network=none", "--platform=ptrace", "do"]),
        };
        prefix.insert(0, tool());
        prefix
    }

    /// The full command line that runs `program args` under this runner.
    pub fn command_line(&self, program: &Path, args: &[String]) -> Vec<OsString> {
        let mut argv = self.prefix();
        argv.push(program.as_os_str().to_owned());
        argv.extend(args.iter().map(OsString::from));
        argv
    }

    /// The command line as words, with `PROGRAM ARGS…` standing for the
    /// benchmark (for reports).
    pub fn template(&self) -> Vec<String> {
        let mut words: Vec<String> = self
            .prefix()
            .iter()
            .map(|w| w.to_string_lossy().into_owned())
            .collect();
        words.push("PROGRAM".to_string());
        words.push("ARGS…".to_string());
        words
    }
}

/// Every runner name umk bench knows, in the default order.
pub fn known_names() -> Vec<String> {
    let mut names = vec!["native".to_string()];
    names.extend(UMK_PLATFORMS.iter().map(|p| format!("umk-{p}")));
    names.extend(PEERS.iter().map(|p| p.to_string()));
    names
}

/// Parses `--runners` (comma-separated, possibly given several times):
/// runner names, `umk` for every umk platform, `all` for every runner.
/// Keeps the given order and drops duplicates; empty means all.
pub fn parse_list(lists: &[String]) -> Result<Vec<String>, String> {
    let known = known_names();
    let mut out: Vec<String> = Vec::new();
    let mut push = |name: String| {
        if !out.contains(&name) {
            out.push(name);
        }
    };
    for word in lists.iter().flat_map(|l| l.split(',')).map(str::trim) {
        match word {
            "" => {}
            "all" => known.iter().cloned().for_each(&mut push),
            "umk" => UMK_PLATFORMS.iter().for_each(|p| push(format!("umk-{p}"))),
            w if known.iter().any(|k| k == w) => push(w.to_string()),
            w => {
                return Err(format!(
                    "unknown runner `{w}` (known: {}, umk, all)",
                    known.join(", ")
                ))
            }
        }
    }
    if out.is_empty() {
        Ok(known)
    } else {
        Ok(out)
    }
}

fn is_executable(path: &Path) -> bool {
    path.metadata()
        .is_ok_and(|m| m.is_file() && m.permissions().mode() & 0o111 != 0)
}

/// The first executable file `name` in the directories of `$PATH`.
pub fn find_on_path(name: &str) -> Option<PathBuf> {
    let path = std::env::var_os("PATH")?;
    std::env::split_paths(&path)
        .filter(|dir| !dir.as_os_str().is_empty())
        .map(|dir| dir.join(name))
        .find(|p| is_executable(p))
}

fn is_root() -> bool {
    // SAFETY: geteuid has no preconditions and cannot fail.
    unsafe { libc::geteuid() == 0 }
}

/// Turns runner names (from [`parse_list`]) into the runners available
/// here and the ones skipped with a reason. Nothing is installed or run:
/// umk's runners need the umk binary at `umk`; peers need their tool on
/// PATH (and runsc needs root).
pub fn detect(names: &[String], umk: &Path) -> (Vec<Runner>, Vec<Skipped>) {
    let mut runners = Vec::new();
    let mut skipped = Vec::new();
    for name in names {
        let found: Result<Runner, String> = if name == "native" {
            Ok(Runner::native())
        } else if let Some(platform) = name.strip_prefix("umk-") {
            if is_executable(umk) {
                Ok(Runner {
                    name: name.clone(),
                    kind: RunnerKind::Umk {
                        platform: platform.to_string(),
                    },
                    tool: Some(umk.to_path_buf()),
                })
            } else {
                Err(format!("no umk binary at {}", umk.display()))
            }
        } else {
            let kind = match name.as_str() {
                "strace" => RunnerKind::Strace,
                "proot" => RunnerKind::Proot,
                _ => RunnerKind::Runsc,
            };
            match find_on_path(name) {
                None => Err("not installed (not on PATH)".to_string()),
                Some(_) if kind == RunnerKind::Runsc && !is_root() => Err("needs root".to_string()),
                Some(tool) => Ok(Runner {
                    name: name.clone(),
                    kind,
                    tool: Some(tool),
                }),
            }
        };
        match found {
            Ok(r) => runners.push(r),
            Err(reason) => skipped.push(Skipped {
                name: name.clone(),
                reason,
            }),
        }
    }
    (runners, skipped)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn runner(name: &str, kind: RunnerKind, tool: &str) -> Runner {
        Runner {
            name: name.to_string(),
            kind,
            tool: Some(PathBuf::from(tool)),
        }
    }

    fn words(argv: Vec<OsString>) -> Vec<String> {
        argv.into_iter()
            .map(|w| w.to_string_lossy().into_owned())
            .collect()
    }

    #[test]
    fn command_lines() {
        let prog = Path::new("/g/bench_syscall");
        let args = vec!["-n".to_string(), "5".to_string()];
        assert_eq!(
            words(Runner::native().command_line(prog, &args)),
            ["/g/bench_syscall", "-n", "5"]
        );
        let umk = runner(
            "umk-ptrace",
            RunnerKind::Umk {
                platform: "ptrace".into(),
            },
            "/t/umk",
        );
        assert_eq!(
            words(umk.command_line(prog, &args)),
            [
                "/t/umk",
                "run",
                "--platform",
                "ptrace",
                "--",
                "/g/bench_syscall",
                "-n",
                "5"
            ]
        );
        let strace = runner("strace", RunnerKind::Strace, "/usr/bin/strace");
        assert_eq!(
            words(strace.command_line(prog, &[])),
            [
                "/usr/bin/strace",
                "-f",
                "-o",
                "/dev/null",
                "/g/bench_syscall"
            ]
        );
        let proot = runner("proot", RunnerKind::Proot, "/usr/bin/proot");
        assert_eq!(
            words(proot.command_line(prog, &[])),
            ["/usr/bin/proot", "/g/bench_syscall"]
        );
        let runsc = runner("runsc", RunnerKind::Runsc, "/usr/bin/runsc");
        assert_eq!(
            words(runsc.command_line(prog, &[])),
            [
                "/usr/bin/runsc",
                "--network=none",
                "--platform=ptrace",
                "do",
                "/g/bench_syscall"
            ]
        );
        assert_eq!(strace.template().last().map(String::as_str), Some("ARGS…"));
    }

    #[test]
    fn runner_lists() {
        let s = |v: &[&str]| v.iter().map(|x| x.to_string()).collect::<Vec<_>>();
        assert_eq!(parse_list(&[]), Ok(known_names()));
        assert_eq!(
            parse_list(&s(&["native,umk", "strace,native"])),
            Ok(s(&["native", "umk-ptrace", "strace"]))
        );
        assert_eq!(parse_list(&s(&["all"])), Ok(known_names()));
        assert!(parse_list(&s(&["native,docker"])).is_err());
        assert!(known_names().contains(&"umk-ptrace".to_string()));
    }

    #[test]
    fn detection_skips_missing_tools() {
        let names: Vec<String> = vec!["native".into(), "umk-ptrace".into()];
        let (runners, skipped) = detect(&names, Path::new("/nonexistent/umk"));
        assert_eq!(runners.len(), 1);
        assert_eq!(runners[0].kind, RunnerKind::Native);
        assert_eq!(skipped.len(), 1);
        assert_eq!(skipped[0].name, "umk-ptrace");
        let sh = find_on_path("sh");
        assert!(sh.is_some_and(|p| p.is_absolute()));
        assert_eq!(find_on_path("surely-not-a-program-umk-bench"), None);
    }
}
