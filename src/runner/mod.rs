//! Running checks as supervised child processes: process groups, nice, capped output, timeouts.

mod capture;
mod guard;
mod process;
mod settings;

pub use capture::Captured;
pub use guard::{GUARD_ARG, guard_main};
pub use process::{
    Outcome, ProcessResult, ProcessSpec, own_binary, program_available, run_process, terminate_all,
};
pub use settings::RunnerSettings;
