//! The `auditor` binary: parse the command line, set up logging, run, map to an exit code.

use clap::Parser;
use tracing_subscriber::EnvFilter;

fn main() {
    // A panic's message can quote what it was handling: through the choke point too.
    std::panic::set_hook(Box::new(|info| {
        auditor::sink::error(&format!("internal error: {info}"));
    }));
    // The helpers the binary re-executes itself as, not user commands: a check's
    // process-group guard (runner/guard.rs) and the working-tree status reader (git/).
    let mut args = std::env::args_os();
    match args.nth(1) {
        Some(a) if a == auditor::runner::GUARD_ARG => {
            auditor::runner::guard_main(args.skip(1).collect())
        }
        Some(a) if a == auditor::git::STATUS_ARG => auditor::git::status_main(args.collect()),
        _ => {}
    }
    let cli = match auditor::cli::Cli::try_parse() {
        Ok(cli) => cli,
        Err(e) => usage_error(e),
    };
    let default = match cli.verbose {
        _ if cli.quiet => "error",
        0 => "warn",
        1 => "info",
        _ => "debug",
    };
    let filter = EnvFilter::try_from_env("AUDITOR_LOG").unwrap_or_else(|_| EnvFilter::new(default));
    tracing_subscriber::fmt()
        .with_env_filter(filter)
        // Log records quote paths and messages: through the redaction choke point.
        .with_writer(|| auditor::sink::LogWriter)
        .with_target(false)
        .init();
    let code = match auditor::run(cli) {
        Ok(code) => code,
        Err(err) => {
            auditor::sink::error(&err.to_string());
            if let Some(hint) = err.hint() {
                auditor::sink::eprint(&format!("hint: {hint}\n"));
            }
            err.exit_code()
        }
    };
    std::process::exit(code as i32);
}

/// A command line clap cannot read: its message and exit 2, except for `auditor gate`, whose
/// exit 2 would block a coding agent on a typo in its hook: there, exit 1 (the hook's own
/// error, shown to the user).
fn usage_error(e: clap::Error) -> ! {
    use clap::error::ErrorKind;
    let gate = std::env::args_os().nth(1).is_some_and(|a| a == "gate");
    let informational = matches!(e.kind(), ErrorKind::DisplayHelp | ErrorKind::DisplayVersion);
    if gate && !informational {
        // Said as the gate's own error, like the others it reports.
        auditor::sink::eprint(&format!("auditor gate: {}", e.render()));
        std::process::exit(1);
    }
    e.exit()
}
