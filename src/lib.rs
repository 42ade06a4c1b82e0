//! `auditor`: audits every commit an autonomous coding agent makes and writes ranked,
//! actionable feedback into an inbox the agent reads.
//!
//! The binary is a thin shell around [`run`]; every concept has its module (see
//! ARCHITECTURE.md for the map and the invariants).

pub mod bytes;
pub mod checks;
pub mod cli;
mod commands;
pub mod config;
pub mod daemon;
pub mod engine;
pub mod error;
pub mod eventlog;
pub mod finding;
pub mod gate;
pub mod git;
pub mod guards;
pub mod hooks;
pub mod inbox;
pub mod ledger;
pub mod mcp;
pub mod parsers;
pub mod policy;
pub mod report;
pub mod runner;
pub mod secrets;
pub mod sink;
pub mod store;

pub use error::{Error, ExitCode};

/// Runs a parsed command line and returns the exit code it ends with.
pub fn run(cli: cli::Cli) -> Result<ExitCode, Error> {
    report::human::set_color(cli.color);
    sink::set_quiet(cli.quiet);
    match cli.command {
        cli::Command::Audit(args) => commands::audit::run(args),
        cli::Command::Scan(args) => commands::scan::run(args),
        cli::Command::Baseline(args) => commands::baseline::run(args),
        cli::Command::Init(args) => commands::init::run(args),
        cli::Command::Watch(args) => commands::watch::run(args),
        cli::Command::Status(args) => commands::status::run(args),
        cli::Command::Watchdog(args) => commands::watchdog::run(args),
        cli::Command::Stop(args) => commands::stop::run(args),
        cli::Command::Reset(args) => commands::reset::run(args),
        cli::Command::Gate(args) => commands::gate::run(args),
        cli::Command::Report(args) => commands::report::run(args),
        cli::Command::Inbox(args) => commands::inbox::run(args),
        cli::Command::Mcp(args) => commands::mcp::run(args),
        cli::Command::Completions { shell } => commands::completions::run(shell),
    }
}
