//! One file per subcommand: each turns its arguments into calls to the library and prints.

pub mod audit;
pub mod baseline;
pub mod completions;
pub mod gate;
pub mod inbox;
pub mod init;
pub mod mcp;
pub mod report;
pub mod reset;
pub mod scan;
pub mod status;
pub mod stop;
pub mod watch;
pub mod watchdog;

mod common;
mod progress;
