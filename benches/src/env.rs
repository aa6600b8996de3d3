//! The environment header of a report: when, on what machine, with which
//! command.

use std::time::{SystemTime, UNIX_EPOCH};

/// Where and how a report was made.
#[derive(Clone, Debug, PartialEq)]
pub struct EnvInfo {
    /// UTC, `YYYY-MM-DD HH:MM:SS UTC`.
    pub date: String,
    /// `uname -r`.
    pub kernel: String,
    /// The `model name` of /proc/cpuinfo.
    pub cpu: String,
    /// CPUs this process may use.
    pub cores: usize,
    /// The exact command line (argv).
    pub command: Vec<String>,
    pub repeat: usize,
    pub time_budget_s: f64,
}

impl EnvInfo {
    /// Collects the machine's facts now.
    pub fn collect(command: Vec<String>, repeat: usize, time_budget_s: f64) -> EnvInfo {
        let secs = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map_or(0, |d| d.as_secs());
        EnvInfo {
            date: utc_date(secs),
            kernel: kernel_release(),
            cpu: cpu_model(),
            cores: std::thread::available_parallelism().map_or(1, |n| n.get()),
            command,
            repeat,
            time_budget_s,
        }
    }

    /// `Linux 6.1.0, Intel(R) Xeon(R) …, 2 cores`.
    pub fn machine(&self) -> String {
        format!("Linux {}, {}, {} cores", self.kernel, self.cpu, self.cores)
    }

    /// The command line, quoted for a POSIX shell where needed.
    pub fn command_line(&self) -> String {
        self.command
            .iter()
            .map(|w| shell_quote(w))
            .collect::<Vec<_>>()
            .join(" ")
    }
}

fn kernel_release() -> String {
    std::fs::read_to_string("/proc/sys/kernel/osrelease")
        .map(|s| s.trim().to_string())
        .unwrap_or_else(|_| "unknown".to_string())
}

fn cpu_model() -> String {
    std::fs::read_to_string("/proc/cpuinfo")
        .ok()
        .and_then(|info| {
            info.lines()
                .find(|l| l.starts_with("model name"))
                .and_then(|l| l.split_once(':'))
                .map(|(_, v)| v.trim().to_string())
        })
        .unwrap_or_else(|| "unknown CPU".to_string())
}

/// Quotes `w` for a POSIX shell unless it is made only of safe characters.
pub fn shell_quote(w: &str) -> String {
    let safe = !w.is_empty()
        && w.chars()
            .all(|c| c.is_ascii_alphanumeric() || "-_./=,:+@%".contains(c));
    if safe {
        w.to_string()
    } else {
        format!("'{}'", w.replace('\'', r"'\''"))
    }
}

/// Seconds since the epoch as a UTC date and time.
pub fn utc_date(secs: u64) -> String {
    let days = (secs / 86_400) as i64;
    let rem = secs % 86_400;
    let (y, m, d) = civil_from_days(days);
    format!(
        "{y:04}-{m:02}-{d:02} {:02}:{:02}:{:02} UTC",
        rem / 3600,
        rem / 60 % 60,
        rem % 60
    )
}

/// Howard Hinnant's days-to-civil algorithm (proleptic Gregorian).
fn civil_from_days(z: i64) -> (i64, u32, u32) {
    let z = z + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = (doy - (153 * mp + 2) / 5 + 1) as u32;
    let m = if mp < 10 { mp + 3 } else { mp - 9 } as u32;
    let y = yoe + era * 400 + i64::from(m <= 2);
    (y, m, d)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dates() {
        assert_eq!(utc_date(0), "1970-01-01 00:00:00 UTC");
        assert_eq!(utc_date(951_782_400), "2000-02-29 00:00:00 UTC");
        assert_eq!(utc_date(1_700_000_000), "2023-11-14 22:13:20 UTC");
    }

    #[test]
    fn quoting() {
        assert_eq!(shell_quote("--suite"), "--suite");
        assert_eq!(shell_quote("a b"), "'a b'");
        assert_eq!(shell_quote("it's"), r"'it'\''s'");
        assert_eq!(shell_quote(""), "''");
    }

    #[test]
    fn collects_something() {
        let e = EnvInfo::collect(vec!["umk".into(), "bench".into()], 3, 60.0);
        assert!(e.date.ends_with("UTC"));
        assert!(e.cores >= 1);
        assert!(!e.kernel.is_empty());
        assert_eq!(e.command_line(), "umk bench");
        assert!(e.machine().starts_with("Linux "));
    }
}
