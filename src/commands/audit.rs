//! `auditor audit [REV | A..B]`: one audit, its report and inbox, a summary and an exit code.

use std::sync::{Arc, Mutex, PoisonError};

use super::common::{
    layout, line_text, load_settings, open_repo, print, repository_uri, runtime, sarif_to_stdout,
    write_requested,
};
use super::progress::{AuditState, ProgressLine};
use crate::cli::AuditArgs;
use crate::engine::{self, AuditOptions};
use crate::error::{Error, ExitCode};
use crate::policy::Status;
use crate::report::{human, json, sarif};

/// Runs the audit command.
pub fn run(args: AuditArgs) -> Result<ExitCode, Error> {
    if args.json && sarif_to_stdout(args.sarif.as_deref()) {
        return Err(Error::Usage(
            "--json and --sarif - both write to stdout: give --sarif a file".into(),
        ));
    }
    let repo = open_repo(args.repo.repo.as_deref())?;
    let target = repo.target(&args.rev)?;
    let settings = load_settings(&repo, &args.repo, Some(target.target))?;
    let layout = layout(&repo, &settings);
    let options = AuditOptions {
        run_tests: !args.no_tests,
        write: true,
        ..AuditOptions::default()
    };
    let state = Arc::new(Mutex::new(AuditState::with_estimates(&layout)));
    let progress = super::progress::audit_sink(&state);
    let line = super::progress::wanted().then(|| {
        ProgressLine::start(move |elapsed| {
            state
                .lock()
                .unwrap_or_else(PoisonError::into_inner)
                .line(elapsed)
        })
    });
    let runtime = runtime()?;
    let mut report = runtime.block_on(engine::audit(
        &repo, &settings, &layout, &target, &options, &progress,
    ))?;
    // The audit is recorded; the hooks it made due run now.
    runtime.block_on(engine::run_due_hooks(&settings, &layout, &mut report))?;
    if let Some(line) = line {
        line.finish();
    }
    if let Some(path) = &args.sarif {
        let acknowledged = report
            .acknowledged
            .iter()
            .map(|a| (a.id.clone(), a.ack.reason.clone()))
            .collect();
        let lines = line_text(&repo, Some(target.target));
        let run = sarif::SarifRun {
            kind: "audit",
            root: &repo.root,
            commit: Some(&report.target),
            repository_uri: repository_uri(&repo),
            line_text: &lines,
            acknowledged: &acknowledged,
        };
        write_requested(path, &sarif::render(&report.issues, &run))?;
    }
    if args.json {
        print(&json::render(&report))?;
    } else {
        // With the SARIF log on stdout, the summary is for the person, on stderr.
        let on_stdout = !sarif_to_stdout(args.sarif.as_deref());
        let text = human::render(
            &report,
            human::Style::detect(!on_stdout),
            Some(&crate::engine::report_file(&layout, &report)),
        );
        if on_stdout {
            super::common::say(&text)?;
        } else {
            crate::sink::say_err(&text);
        }
    }
    Ok(match report.status {
        Status::Fail => ExitCode::Findings,
        Status::Warn | Status::Pass => ExitCode::Clean,
    })
}
