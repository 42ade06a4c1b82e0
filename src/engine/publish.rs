//! Publishing an audit: the ledger and the inbox first, then the report file; and, once the
//! caller has recorded the audit, the hooks it made due.

use super::model::{Progress, ProgressSink};
use super::{EngineError, ledger_stage};
use crate::config::Settings;
use crate::git::Repo;
use crate::report::AuditReport;
use crate::store::Layout;

/// Records the audit where it is read: the ledger and the inbox first, then the report, so
/// that a report on disk means its feedback is too (a kill in between audits the commit again,
/// which the ledger recognises: no file is written twice, no hook made due twice). The hooks
/// the inbox made due are left in `report.due_hooks`, to run once the caller has recorded the
/// audit.
pub(super) fn publish(
    repo: &Repo,
    settings: &Settings,
    layout: &Layout,
    report: &mut AuditReport,
    record: Option<(crate::ledger::Locked, crate::ledger::Applied)>,
    progress: &ProgressSink,
) -> Result<(), EngineError> {
    crate::git::ensure_excluded(repo, &layout.exclude_patterns())?;
    let path = report_file(layout, report);
    let blocking = match record {
        Some(record) => sync_and_save(repo, settings, layout, report, record)?,
        None => {
            // Uncommitted changes: their own ID space, replaced by each look. A clean look
            // ends no wait while a blocking issue of the commits is open.
            let published = crate::inbox::uncommitted::publish(layout, report)?;
            report.inbox_files = published.files;
            published.blocking
        }
    };
    crate::store::write_atomic(&path, crate::report::json::render(report).as_bytes())?;
    // The page follows each recorded audit; the verdict is out already if it cannot be written.
    if !report.uncommitted
        && let Err(e) = crate::report::html::write_index(layout)
    {
        crate::sink::warn(&format!("the page {e}"));
    }
    let to_send = !report.inbox_files.is_empty() || blocking;
    progress(Progress::ReportWritten { path, to_send });
    if to_send {
        progress(Progress::FeedbackWritten {
            files: report.inbox_files.clone(),
            blocking,
        });
    }
    Ok(())
}

/// Publishes what the fast lane found: the ledger and the inbox (files of CRITICAL and HIGH
/// issues, `INBOX.md`, `BLOCKING`), then its verdict for the gate. No report: the batch's full
/// audit writes it. The hooks the inbox made due are left in `report.due_hooks`.
pub(super) fn publish_fast(
    repo: &Repo,
    settings: &Settings,
    layout: &Layout,
    report: &mut AuditReport,
    record: Option<(crate::ledger::Locked, crate::ledger::Applied)>,
) -> Result<(), EngineError> {
    let Some(record) = record else {
        return Ok(());
    };
    crate::git::ensure_excluded(repo, &layout.exclude_patterns())?;
    sync_and_save(repo, settings, layout, report, record)?;
    let verdict = crate::report::fast::FastVerdict {
        schema_version: crate::report::fast::SCHEMA_VERSION,
        commit: report.target.clone(),
        commits: report.commits.iter().map(|c| c.hash.clone()).collect(),
        at: chrono::Utc::now().to_rfc3339_opts(chrono::SecondsFormat::Millis, true),
        issues: report
            .issues
            .iter()
            .map(|i| crate::report::fast::FastIssue {
                id: i.id.clone(),
                severity: i.finding.severity,
                title: i.finding.title.clone(),
                file: i.finding.file.clone(),
                line: i.finding.line,
            })
            .collect(),
    };
    verdict.write(layout)?;
    Ok(())
}

/// Brings the inbox in step with the recorded ledger, then saves and unlocks the ledger; the
/// files written and the hooks due go into the report. Returns whether a blocking issue is
/// open.
fn sync_and_save(
    repo: &Repo,
    settings: &Settings,
    layout: &Layout,
    report: &mut AuditReport,
    (mut locked, applied): (crate::ledger::Locked, crate::ledger::Applied),
) -> Result<bool, EngineError> {
    let lessons = ledger_stage::lessons(repo, &locked.ledger, &applied.raised);
    let learned = |e: &crate::ledger::Entry| lessons.get(&e.id).cloned();
    let synced = crate::inbox::sync(
        layout,
        report,
        &mut locked.ledger,
        &applied,
        &settings.hooks,
        &learned,
    )?;
    locked.save()?;
    drop(locked);
    report.inbox_files = synced.files;
    report.due_hooks = synced.due;
    Ok(synced.blocking)
}

/// Runs the hooks an audit made due, and rewrites its report with how they ran.
pub async fn run_due_hooks(
    settings: &Settings,
    layout: &Layout,
    report: &mut AuditReport,
) -> Result<(), EngineError> {
    let due = std::mem::take(&mut report.due_hooks);
    if due.is_empty() {
        return Ok(());
    }
    report.hook_runs =
        crate::hooks::run_hooks(due, &layout.repo_root, &settings.hooks, &settings.runner).await;
    let path = report_file(layout, report);
    crate::store::write_atomic(&path, crate::report::json::render(report).as_bytes())?;
    Ok(())
}

/// Where an audit's report goes: its commit's, its range's, or the working tree's.
pub fn report_file(layout: &Layout, report: &AuditReport) -> std::path::PathBuf {
    match (&report.base, report.range, report.uncommitted) {
        (_, _, true) => layout.uncommitted_report_path(),
        (Some(base), true, false) => layout.range_report_path(base, &report.target),
        _ => layout.report_path(&report.target),
    }
}
