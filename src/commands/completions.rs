//! `auditor completions SHELL`: a completion script on stdout.

use clap::CommandFactory;

use crate::cli::Cli;
use crate::error::{Error, ExitCode};

/// Prints the completion script.
pub fn run(shell: clap_complete::Shell) -> Result<ExitCode, Error> {
    let mut buf = Vec::new();
    clap_complete::generate(shell, &mut Cli::command(), "auditor", &mut buf);
    super::common::print(&String::from_utf8_lossy(&buf))?;
    Ok(ExitCode::Clean)
}
