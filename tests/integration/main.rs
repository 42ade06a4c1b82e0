//! One integration-test binary: real git repositories in temp dirs, real commits, the real
//! `auditor` binary, real linters and real child processes.

mod support;

mod adoption;
mod architecture;
mod audit;
mod bad_input;
mod checks;
mod cli;
mod daemon;
mod detect;
mod examples;
mod gate;
mod guards;
mod integrity;
mod ledger;
mod mcp;
mod page;
mod redaction;
mod scan;
mod schema;
mod secrets;
mod test_counts;
