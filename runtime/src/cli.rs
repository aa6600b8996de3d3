//! `umk run`: the command line for running a guest program.

use std::ffi::OsString;
use std::os::unix::ffi::{OsStrExt, OsStringExt};
use std::path::PathBuf;
use std::sync::Arc;

use crate::kernel::{Config, Kernel, DEFAULT_MEMORY};
use crate::loader::{find_in_path, ExecArgs, Program};
use crate::platform::PlatformKind;
use crate::trace::{TraceFormat, TraceOptions, Tracer};

#[derive(Clone, Copy, Debug, clap::ValueEnum)]
pub enum TraceFormatArg {
    /// strace-compatible text
    Text,
    /// JSON Lines, one object per event
    Json,
}

/// Run a Linux x86-64 program under umk.
#[derive(Debug, clap::Args)]
pub struct RunArgs {
    /// How guest code traps into umk.
    #[arg(long, default_value = "ptrace", value_parser = clap::builder::PossibleValuesParser::new(["ptrace"]))]
    pub platform: String,
    /// Write a syscall trace (strace format) to stderr.
    #[arg(long)]
    pub trace: bool,
    /// Write the trace to FILE instead of stderr (implies --trace, unless
    /// --trace-sched asks for a trace of scheduler events only).
    #[arg(long, value_name = "FILE")]
    pub trace_file: Option<PathBuf>,
    /// Trace format.
    #[arg(long, value_enum, default_value = "text")]
    pub trace_format: TraceFormatArg,
    /// Prefix trace lines with the wall-clock time, like `strace -tt`.
    #[arg(long)]
    pub trace_time: bool,
    /// Show the time spent in each syscall, like `strace -T`.
    #[arg(long)]
    pub trace_duration: bool,
    /// Longest string shown in the trace, like `strace -s`.
    #[arg(long, value_name = "N", default_value_t = 32)]
    pub trace_strsize: usize,
    /// Add scheduler events (switch, wakeup, migrate, preempt) to the trace;
    /// without --trace, trace only those (to stderr or --trace-file).
    #[arg(long)]
    pub trace_sched: bool,
    /// Write a timeline of which guest thread ran on which vCPU when to FILE
    /// (Chrome trace JSON: open it in ui.perfetto.dev or chrome://tracing).
    #[arg(long, value_name = "FILE")]
    pub timeline: Option<PathBuf>,
    /// Number of virtual CPUs guest threads run on (default: host cores).
    #[arg(long, value_name = "N")]
    pub cpus: Option<usize>,
    /// Do not pin each vCPU's guest thread and its kernel thread to one host
    /// CPU (pinning makes a ptrace round trip a same-CPU switch).
    #[arg(long)]
    pub no_pin: bool,
    /// Most guest threads alive at once; past it fork and clone fail with
    /// EAGAIN (a fork bomb stops there).
    #[arg(long, value_name = "N", default_value_t = crate::task::table::DEFAULT_MAX_TASKS)]
    pub max_tasks: usize,
    /// The program (looked up in PATH like execvp when it has no slash) and
    /// its arguments.
    #[arg(
        required = true,
        trailing_var_arg = true,
        allow_hyphen_values = true,
        value_name = "PROGRAM [ARGS]..."
    )]
    pub program: Vec<OsString>,
}

use crate::sched::dispatch::host_cpus;

/// Runs `umk run`; returns the process exit code.
pub fn run(args: RunArgs) -> i32 {
    let Some(name) = args.program.first().cloned() else {
        return 2;
    };
    let shown = name.to_string_lossy().into_owned();
    let path = match find_in_path(&shown, std::env::var_os("PATH").as_deref()) {
        Ok(p) => p,
        Err(e) => {
            eprintln!("umk: {shown}: {e}");
            return e.exit_code();
        }
    };
    let prog = match Program::open(&path) {
        Ok(p) => p,
        Err(e) => {
            eprintln!("umk: {shown}: {e}");
            return e.exit_code();
        }
    };
    let exec_args = ExecArgs {
        argv: args.program.iter().map(|a| a.as_bytes().to_vec()).collect(),
        envp: std::env::vars_os()
            .map(|(k, v)| {
                let mut kv = k.into_vec();
                kv.push(b'=');
                kv.extend_from_slice(v.as_bytes());
                kv
            })
            .collect(),
        execfn: path.as_os_str().as_bytes().to_vec(),
    };
    let syscalls = args.trace || (args.trace_file.is_some() && !args.trace_sched);
    let tracer = if syscalls || args.trace_sched {
        let dest: Box<dyn std::io::Write + Send> = match &args.trace_file {
            Some(f) => match std::fs::File::create(f) {
                Ok(f) => Box::new(f),
                Err(e) => {
                    eprintln!("umk: {}: {e}", f.display());
                    return 1;
                }
            },
            None => Box::new(std::io::stderr()),
        };
        let opts = TraceOptions {
            format: match args.trace_format {
                TraceFormatArg::Text => TraceFormat::Text,
                TraceFormatArg::Json => TraceFormat::Json,
            },
            timestamps: args.trace_time,
            durations: args.trace_duration,
            string_limit: args.trace_strsize,
            syscalls,
        };
        Some(Arc::new(Tracer::new(dest, opts)))
    } else {
        None
    };
    let platform = PlatformKind::from_name(&args.platform).unwrap_or(PlatformKind::Ptrace);
    let config = Config {
        platform,
        cpus: args.cpus.unwrap_or_else(host_cpus).max(1),
        max_tasks: args.max_tasks.max(1),
        memory_bytes: DEFAULT_MEMORY,
        trace_sched: args.trace_sched,
        timeline: args.timeline.is_some(),
        pin: !args.no_pin,
    };
    let status = Kernel::boot(config, tracer.clone()).and_then(|k| {
        let st = k.run(prog, exec_args);
        if let Some(path) = &args.timeline {
            let slices = k.sched.timeline();
            if let Err(e) = crate::trace::timeline::write(path, &slices, k.sched.nr_cpus()) {
                eprintln!("umk: {}: {e}", path.display());
            }
        }
        st
    });
    if let Some(t) = &tracer {
        t.finish();
    }
    match status {
        Ok(st) => st.shell_code(),
        Err(e) => {
            eprintln!("umk: {shown}: {e}");
            126
        }
    }
}
