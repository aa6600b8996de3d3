//! The `umk` command.

use clap::{Parser, Subcommand};

/// umk: a user-mode kernel that runs Linux x86-64 programs.
#[derive(Debug, Parser)]
#[command(name = "umk", version, about, long_about = None)]
struct Cli {
    #[command(subcommand)]
    cmd: Cmd,
}

#[derive(Debug, Subcommand)]
enum Cmd {
    /// Run a program under umk.
    Run(umk::cli::RunArgs),
    /// Measure guests natively, under umk's platforms and under peer tools.
    Bench(umk_bench::BenchArgs),
}

fn main() {
    let cli = Cli::parse();
    let code = match cli.cmd {
        Cmd::Run(a) => umk::cli::run(a),
        Cmd::Bench(a) => umk_bench::run(&a),
    };
    std::process::exit(code);
}
