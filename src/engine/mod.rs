//! The audit engine: one audit of one commit or range, through the stages the daemon's state
//! machine names (AUDITING → TESTING → VERIFYING → REPORTING → COMMUNICATING).
//!
//! `audit` is what `auditor audit` runs once and what `auditor watch` runs per batch.

mod builtin;
mod environment;
mod history;
mod ledger_stage;
mod metrics;
mod model;
mod settings_stage;
mod stages;
mod workspace;

pub use builtin::{BuiltinFindings, Builtins, scan_commits};
pub use history::{scan_history, scan_index};
pub use ledger_stage::{FAILURES_BEFORE_ISSUE, record_failure};
pub use model::{AuditOptions, Progress, ProgressSink, no_progress};
pub use settings_stage::ack_policy;

use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::Instant;

use crate::checks::{CheckEnv, CheckObserver, CheckOutcome, CheckRun, select_files};
use crate::config::{CheckSpec, Settings, Stage};
use crate::finding::{Finding, Severity};
use crate::git::{AuditTarget, FileStatus, GitError, Repo, changed_files};
use crate::policy;
use crate::report::{AuditReport, CommitInfo, ScanStats, TestStage};
use crate::secrets::Scanner;
use crate::store::{AtomicWriteError, Layout};

/// An audit could not be carried out.
#[derive(Debug, thiserror::Error)]
pub enum EngineError {
    /// Reading the repository failed.
    #[error(transparent)]
    Git(#[from] GitError),
    /// Writing a report or inbox file failed.
    #[error(transparent)]
    Write(#[from] AtomicWriteError),
    /// The caller cancelled the audit (preemption or shutdown); nothing was written.
    #[error("the audit was cancelled")]
    Cancelled,
    /// The ledger could not be locked or written.
    #[error(transparent)]
    Ledger(#[from] crate::ledger::LedgerError),
    /// Locking or preparing the workspace failed.
    #[error("prepare the workspace {path}: {message}")]
    Workspace {
        /// The workspace.
        path: std::path::PathBuf,
        /// What went wrong.
        message: String,
    },
}

/// Runs one audit, telling `progress` what happens as it goes.
pub async fn audit(
    repo: &Repo,
    settings: &Settings,
    layout: &Layout,
    target: &AuditTarget,
    options: &AuditOptions,
    progress: &ProgressSink,
) -> Result<AuditReport, EngineError> {
    let started = Instant::now();
    let timestamp = chrono::Utc::now();
    let scanner = settings.secrets.scanner();
    let bail_if_cancelled = || {
        if options.cancelled() {
            Err(EngineError::Cancelled)
        } else {
            Ok(())
        }
    };
    progress(Progress::Auditing);

    let changes = changed_files(repo, target.base, target.target)?;
    let existing: Vec<std::path::PathBuf> = changes
        .iter()
        .filter(|c| c.status != FileStatus::Deleted)
        .map(|c| c.exact.clone())
        .collect();

    let mut findings: Vec<Finding> = options.extra_findings.clone();
    // The ledger as it stands before this audit (read again, locked, to record it).
    let ledger_before = crate::ledger::read_checked(layout)
        .map(|(ledger, _)| ledger)
        .unwrap_or_default();
    // The settings themselves: weakened since the last audit, outside any commit?
    let settings_check = settings_stage::check(layout, settings, &ledger_before);
    findings.extend(settings_check.finding.clone());
    let (mut checks, scan, test_tally) = builtin_stage(
        repo,
        settings,
        target,
        options,
        &changes,
        &ledger_before,
        scanner,
        &mut findings,
    )?;

    // Which configured checks have something to do.
    let tree_paths = || repo.tree_files(target.target).unwrap_or_default();
    let head = |p: &std::path::Path| repo.file_head(target.target, p, 256);
    let mut planned = Vec::new();
    // What each check will look at, for the ledger (None: the whole tree).
    let mut planned_files: BTreeMap<String, Option<Vec<String>>> = BTreeMap::new();
    for spec in &settings.checks {
        if options.builtins_only {
            checks.push(CheckRun::skipped(
                &spec.name,
                spec.stage,
                "every commit of the batch has [skip-audit] (the built-in scanners still ran)",
            ));
            continue;
        }
        if spec.stage == Stage::Test && !options.run_tests {
            checks.push(CheckRun::skipped(&spec.name, spec.stage, "--no-tests"));
            continue;
        }
        match select_files(spec, &existing, &tree_paths, &head) {
            Some(files) => {
                let whole = spec.stage == Stage::Test
                    || spec.scope == crate::config::Scope::Tree
                    || !spec.command.iter().any(|a| a.contains("{files}"));
                let examined = files
                    .iter()
                    .map(|f| f.to_string_lossy().into_owned())
                    .collect();
                planned_files.insert(spec.name.clone(), (!whole).then_some(examined));
                planned.push((spec.clone(), files));
            }
            None => checks.push(CheckRun::skipped(
                &spec.name,
                spec.stage,
                "no changed file matches its `files`",
            )),
        }
    }

    let mut test_stage = TestStage::NotConfigured;
    let mut workspace_path = None;
    let prepared = if planned.is_empty() {
        None
    } else {
        Some(workspace::prepare(repo, settings, layout, target, &changes).await)
    };
    match prepared {
        None => progress(Progress::StaticDone {
            critical: findings.iter().any(|f| f.severity == Severity::Critical),
            tests_next: false,
        }),
        Some(Err(e)) => {
            // The built-in scanners read blobs and have run; say what could not.
            let reason = e.to_string();
            findings.push(stages::workspace_unavailable(&reason, &planned));
            for (spec, _) in &planned {
                checks.push(stages::not_run(spec, &reason));
            }
            if stages::has_stage(&planned, Stage::Test) {
                test_stage =
                    TestStage::Skipped(format!("the workspace could not be prepared: {reason}"));
            }
            progress(Progress::StaticDone {
                critical: findings.iter().any(|f| f.severity == Severity::Critical),
                tests_next: false,
            });
        }
        Some(Ok(mut ws)) => {
            workspace_path = Some(ws.path.clone());
            if let Some(snapshot) = &ws.snapshot {
                if !snapshot.restored_at_sync.is_empty() {
                    findings.push(stages::modified_tree(
                        "workspace",
                        &snapshot.restored_at_sync,
                    ));
                }
            }
            checks.extend(ws.setup_run.clone());
            findings.extend(ws.setup_run.iter().flat_map(|r| r.findings.clone()));
            let env = CheckEnv {
                workspace: ws.path.clone(),
                commit: target.target.to_string(),
                changed_files: existing.clone(),
                repo_root: repo.root.clone(),
            };
            let (audit_checks, test_checks): (Vec<_>, Vec<_>) = planned
                .iter()
                .cloned()
                .partition(|(s, _)| s.stage == Stage::Audit);

            let observer = check_observer(progress);
            let cancelled = || options.cancelled();
            let runs = stages::run_stage(
                audit_checks,
                &env,
                &settings.runner,
                &observer,
                &mut ws,
                &cancelled,
            )
            .await?;
            for r in &runs {
                findings.extend(r.findings.iter().cloned());
            }
            checks.extend(runs);
            bail_if_cancelled()?;

            let critical = findings.iter().any(|f| f.severity == Severity::Critical);
            let skip_tests = critical && settings.policy.skip_tests_on_critical;
            progress(Progress::StaticDone {
                critical,
                tests_next: !test_checks.is_empty() && !skip_tests,
            });
            if !test_checks.is_empty() {
                if skip_tests {
                    let why = "skipped: a static check found a CRITICAL issue (policy.skip_tests_on_critical)";
                    for (spec, _) in &test_checks {
                        checks.push(CheckRun::skipped(&spec.name, spec.stage, why));
                    }
                    test_stage = TestStage::Skipped(why.into());
                } else {
                    let mut runs = stages::run_stage(
                        test_checks,
                        &env,
                        &settings.runner,
                        &observer,
                        &mut ws,
                        &cancelled,
                    )
                    .await?;
                    environment::blame_environment(
                        &mut runs,
                        repo,
                        target.target,
                        &changes,
                        metrics::tests_passed_at(&ledger_before, target.base),
                    );
                    for r in &runs {
                        findings.extend(r.findings.iter().cloned());
                    }
                    checks.extend(runs);
                    test_stage = TestStage::Ran;
                    bail_if_cancelled()?;
                    progress(Progress::TestsDone);
                }
            }
            drop(ws);
        }
    }
    if matches!(test_stage, TestStage::NotConfigured)
        && !options.run_tests
        && settings.checks.iter().any(|c| c.stage == Stage::Test)
    {
        test_stage = TestStage::Skipped("--no-tests".into());
    }

    // A tool reporting the same diagnostic twice (clippy does, once per target) is one issue.
    let mut distinct = std::collections::HashSet::new();
    findings.retain(|f| {
        distinct.insert((
            f.check.clone(),
            f.rule.clone(),
            f.file.clone(),
            f.line,
            f.column,
            f.description.clone(),
        ))
    });
    policy::locate(&mut findings, &changes);
    let mut findings = policy::group_lints(findings);
    for f in findings.iter_mut().filter(|f| f.fingerprint.is_empty()) {
        let line_text = match (&f.file, f.line) {
            (Some(file), Some(line)) => {
                repo.file_head(target.target, file, 4 << 20).and_then(|c| {
                    String::from_utf8_lossy(&c)
                        .lines()
                        .nth(line.saturating_sub(1) as usize)
                        .map(str::to_string)
                })
            }
            _ => None,
        };
        f.fingerprint = policy::fingerprint(f, line_text.as_deref());
        if f.commit.is_none() {
            f.commit = Some(target.target.to_string());
        }
    }
    if options.uncommitted {
        for f in &mut findings {
            uncommitted_wording(f);
        }
    }
    // Every sink redacts what the rules and the known values find; a finding's quoted text
    // (context lines, diffs, a tool's words) also has its credential-shaped tokens masked.
    for f in &mut findings {
        crate::secrets::clean_finding(f);
    }
    let mut issues = policy::assign_ids(findings);
    let test_runs: Vec<&CheckRun> = checks
        .iter()
        .filter(|c| c.stage == Stage::Test && c.outcome != CheckOutcome::Skipped)
        .collect();
    let tests =
        test_runs
            .iter()
            .filter_map(|r| r.tests)
            .reduce(|a, b| crate::parsers::TestCounts {
                total: a.total + b.total,
                failed: a.failed + b.failed,
                skipped: a.skipped + b.skipped,
            });
    let test_pass_rate = match (tests, test_runs.is_empty()) {
        (Some(t), _) if t.total > 0 => Some(f64::from(t.total - t.failed) / f64::from(t.total)),
        (_, true) => None,
        (_, false) => Some(
            if test_runs.iter().all(|r| r.outcome == CheckOutcome::Passed) {
                1.0
            } else {
                0.0
            },
        ),
    };
    let test_ms = (!test_runs.is_empty()).then(|| test_runs.iter().map(|r| r.duration_ms).sum());
    let coverage = match (&settings.metrics.coverage, &workspace_path) {
        (Some(file), Some(ws)) if test_stage == TestStage::Ran => std::fs::read(ws.join(file))
            .ok()
            .and_then(|b| crate::parsers::coverage(&b)),
        _ => None,
    };

    // The ledger: stable IDs, each issue's life, what this audit resolved and escalated.
    let target_hex = target.target.to_string();
    let base_hex = target.base.map(|b| b.to_string());
    let record = if options.write && !options.uncommitted {
        let facts = ledger_stage::AuditFacts {
            commits: &target.commits,
            target: &target_hex,
            changes: &changes,
            planned: &planned_files,
            runs: &checks,
            coverage,
            tests: metrics::TestStageFacts::of_runs(
                &test_runs,
                test_ms,
                test_tally,
                base_hex.as_deref(),
            ),
            day: timestamp.format("%Y-%m-%d").to_string(),
        };
        Some(ledger_stage::record(
            repo,
            layout,
            settings,
            &mut issues,
            &facts,
        )?)
    } else {
        None
    };
    let (resolved, escalated, acknowledged) = match &record {
        Some((locked, applied)) => (
            applied.resolved.clone(),
            applied.escalated.clone(),
            locked.ledger.accepted(),
        ),
        None => Default::default(),
    };

    let report = AuditReport {
        timestamp,
        repo_root: repo.root.clone(),
        spec: target.spec.clone(),
        target: target_hex.clone(),
        base: base_hex.clone(),
        commits: target
            .commits
            .iter()
            .map(|c| CommitInfo {
                hash: c.to_string(),
                summary: repo.summary(*c),
            })
            .collect(),
        status: policy::status(&issues, settings.policy.fail_on),
        fail_on: settings.policy.fail_on,
        security_score: policy::security_score(&issues),
        issues,
        checks,
        test_stage,
        tests,
        test_pass_rate,
        coverage,
        scan,
        changed_files: changes.len(),
        workspace: workspace_path,
        duration_ms: u64::try_from(started.elapsed().as_millis()).unwrap_or(u64::MAX),
        config_sources: settings.sources.clone(),
        workspace_mode: settings.workspace.mode,
        skipped: options.skipped.clone(),
        uncommitted: options.uncommitted,
        inbox_files: Vec::new(),
        resolved,
        escalated,
        acknowledged,
        hook_runs: Vec::new(),
        due_hooks: Vec::new(),
        settings_changes: settings_check.changes.clone(),
        settings_accepted_by: settings_check.accepted.clone(),
    };
    let mut report = report;
    progress(Progress::Verified);
    bail_if_cancelled()?;

    if options.write {
        publish(repo, settings, layout, &mut report, record, progress)?;
        if !options.uncommitted {
            settings_stage::record(layout, &settings_check)?;
        }
    }
    Ok(report)
}

/// The built-in scanners over every commit of the batch, one by one, each read once; and
/// the open guard issues that still stand in the audited tree. Adds their findings to
/// `findings`; returns their runs and the scan's counts.
#[expect(
    clippy::too_many_arguments,
    reason = "one audit's inputs, passed through once"
)]
fn builtin_stage(
    repo: &Repo,
    settings: &Settings,
    target: &AuditTarget,
    options: &AuditOptions,
    changes: &[crate::git::ChangedFile],
    ledger_before: &crate::ledger::Ledger,
    scanner: &Scanner,
    findings: &mut Vec<Finding>,
) -> Result<(Vec<CheckRun>, ScanStats, Option<crate::guards::TestTally>), EngineError> {
    let mut checks: Vec<CheckRun> = Vec::new();
    let builtins = Builtins {
        scanner: settings.secrets.enabled.then_some(scanner),
        secrets: &settings.secrets,
        guards: &settings.guards,
    };
    let mut found = scan_commits(repo, &target.commits, &builtins)?;
    let scan = found.stats;
    // The shared reading counts toward the secret scan, or toward the guards alone.
    if settings.secrets.enabled {
        let took = found.read_time + found.secrets_time;
        checks.push(builtin_run("secrets", &found.secrets, took, scan.blobs));
        findings.append(&mut found.secrets);
    }
    if settings.guards.enabled {
        let standing = ledger_stage::standing_guard_findings(
            repo,
            target.target,
            changes,
            ledger_before,
            &found.guards,
            &settings.guards,
        );
        found.guards.extend(standing);
        let mut took = found.guards_time;
        if !settings.secrets.enabled {
            took += found.read_time;
        }
        if options.uncommitted {
            // The operator's own untracked auditor.toml is not tampering; committing one is,
            // and is caught when it is committed.
            let base = target.base;
            found.guards.retain(|f| {
                f.issue_type != crate::finding::IssueType::SupervisionTampering
                    || f.file.as_deref().is_none_or(|file| {
                        base.is_some_and(|b| repo.file_head(b, file, 1).is_some())
                    })
            });
        }
        checks.push(builtin_run("guards", &found.guards, took, changes.len()));
        findings.append(&mut found.guards);
    }
    // Without the guards nothing says what the commits did to their tests.
    let tally = settings.guards.enabled.then_some(found.tests);
    Ok((checks, scan, tally))
}

/// Records the audit where it is read: the ledger and the inbox first, then the report, so
/// that a report on disk means its feedback is too (a kill in between audits the commit again,
/// which the ledger recognises: no file is written twice, no hook made due twice). The hooks
/// the inbox made due are left in `report.due_hooks`, to run once the caller has recorded the
/// audit.
fn publish(
    repo: &Repo,
    settings: &Settings,
    layout: &Layout,
    report: &mut AuditReport,
    record: Option<(crate::ledger::Locked, crate::ledger::Applied)>,
    progress: &ProgressSink,
) -> Result<(), EngineError> {
    crate::git::ensure_excluded(repo, &layout.exclude_patterns())?;
    let path = if report.uncommitted {
        layout.uncommitted_report_path()
    } else {
        layout.report_path(&report.target)
    };
    let blocking = match record {
        Some((mut locked, applied)) => {
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
            synced.blocking
        }
        None => {
            if report
                .issues
                .iter()
                .any(|i| i.finding.severity >= Severity::Medium)
            {
                report.inbox_files = crate::inbox::write(layout, report)?;
            }
            // A clean look at uncommitted changes ends no wait while a blocking issue of the
            // commits is open (an unreadable ledger counts as one).
            let ledger_blocking = crate::ledger::read_checked(layout).map_or(true, |(l, _)| {
                l.active().iter().any(|e| e.severity >= Severity::High)
            });
            ledger_blocking
                || report
                    .issues
                    .iter()
                    .any(|i| i.finding.severity >= Severity::High)
        }
    };
    crate::store::write_atomic(&path, crate::report::json::render(report).as_bytes())?;
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
    let path = if report.uncommitted {
        layout.uncommitted_report_path()
    } else {
        layout.report_path(&report.target)
    };
    crate::store::write_atomic(&path, crate::report::json::render(report).as_bytes())?;
    Ok(())
}

/// Rewords a finding of an uncommitted-changes audit: its "commit" is our snapshot of the
/// working tree, which nobody can look up, and a secret not yet committed is not in history.
fn uncommitted_wording(f: &mut Finding) {
    f.commit = None;
    if f.issue_type == crate::finding::IssueType::SecretExposure {
        f.description = f
            .description
            .replace(" committed in `", " written (not yet committed) in `")
            .replace(
                "it is in the repository's history.",
                "it is not in the repository's history yet.",
            );
        f.remediation = format!(
            "Remove the value before you commit: once committed it stays in the history. {}",
            f.remediation.replace(
                "it is in the git history, and removing it from the file does not un-leak it",
                "it may have been copied elsewhere already"
            )
        );
    }
}

/// Forwards the runner's per-check start and end to the progress sink.
fn check_observer(progress: &ProgressSink) -> CheckObserver {
    let progress = progress.clone();
    Arc::new(move |spec: &CheckSpec, run: Option<&CheckRun>| {
        progress(match run {
            None => Progress::CheckStarted {
                name: spec.name.clone(),
                stage: spec.stage,
            },
            Some(run) => Progress::CheckFinished {
                name: spec.name.clone(),
                stage: spec.stage,
                outcome: run.outcome,
                duration_ms: run.duration_ms,
                findings: run.findings.len(),
            },
        });
    })
}

fn builtin_run(name: &str, found: &[Finding], took: std::time::Duration, files: usize) -> CheckRun {
    let mut run = CheckRun::skipped(name, Stage::Audit, "");
    run.note = None;
    run.outcome = if found.is_empty() {
        CheckOutcome::Passed
    } else {
        CheckOutcome::Failed
    };
    run.exit_code = None;
    run.duration_ms = u64::try_from(took.as_millis()).unwrap_or(u64::MAX);
    run.files = files;
    run.findings = found.to_vec();
    run
}
