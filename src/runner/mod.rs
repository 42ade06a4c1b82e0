//! Running checks as supervised child processes: process groups, nice, capped output, timeouts.

mod capture;
mod process;

pub use capture::Captured;
pub use process::{Outcome, ProcessResult, ProcessSpec, run_process};
