//! `auditor audit [REV | A..B]`: one audit, its report and inbox, a summary and an exit code.

use std::io::IsTerminal;

use super::common::{layout, load_settings, open_repo, print, runtime, user_path};
use crate::cli::AuditArgs;
use crate::engine::{self, AuditOptions};
use crate::error::{Error, ExitCode};
use crate::policy::Status;
use crate::report::{human, json, sarif};
use crate::store::write_atomic;

/// Runs the audit command.
pub fn run(args: AuditArgs) -> Result<ExitCode, Error> {
    let repo = open_repo(args.repo.repo.as_deref())?;
    let target = repo.target(&args.rev)?;
    let settings = load_settings(&repo, &args.repo, Some(target.target))?;
    let layout = layout(&repo, &settings);
    let options = AuditOptions {
        run_tests: !args.no_tests,
        write: true,
        ..AuditOptions::default()
    };
    let progress: engine::ProgressSink = std::sync::Arc::new(|p| tracing::info!(?p, "audit"));
    let runtime = runtime()?;
    let mut report = runtime.block_on(engine::audit(
        &repo, &settings, &layout, &target, &options, &progress,
    ))?;
    // The audit is recorded; the hooks it made due run now.
    runtime.block_on(engine::run_due_hooks(&settings, &layout, &mut report))?;
    if let Some(path) = &args.sarif {
        write_atomic(&user_path(path), sarif::render(&report.issues).as_bytes())?;
    }
    if args.json {
        print(&json::render(&report))?;
    } else {
        let style = human::Style::detect(std::io::stdout().is_terminal());
        print(&human::render(
            &report,
            style,
            Some(&crate::engine::report_file(&layout, &report)),
        ))?;
    }
    Ok(match report.status {
        Status::Fail => ExitCode::Findings,
        Status::Warn | Status::Pass => ExitCode::Clean,
    })
}
