//! Running a stage of configured checks in the workspace so that every check sees exactly the
//! audited tree: what a check changed is reported (CHECK_MODIFIED_TREE) and undone before
//! anything else runs.

use std::path::PathBuf;
use std::sync::Arc;

use super::EngineError;
use super::model::{Progress, ProgressSink};
use super::workspace::Workspace;
use crate::checks::{CheckEnv, CheckObserver, CheckOutcome, CheckRun, run_checks};
use crate::config::{CheckSpec, Stage};
use crate::finding::{Finding, IssueType, Location, Severity};
use crate::git::{Drift, TreeDrift};
use crate::runner::RunnerSettings;
use crate::secrets::clean_quoted;

/// Files named in a CHECK_MODIFIED_TREE finding; the rest are counted.
const FILES_SHOWN: usize = 20;

/// Runs one stage's checks, verifying the tree after them.
///
/// Checks of a stage run concurrently (up to `[runner] jobs`); the tree is verified when they
/// are all done. Should one have changed it, which one cannot be told and the others may have
/// read the changed files: the stage runs again one check at a time, the tree verified (and
/// restored) after each, and those runs are the ones reported. A stage of one check, or with
/// `jobs = 1`, runs that way from the start.
pub async fn run_stage(
    planned: Vec<(CheckSpec, Vec<PathBuf>)>,
    env: &CheckEnv,
    runner: &RunnerSettings,
    observer: &CheckObserver,
    ws: &mut Workspace,
    cancelled: &dyn Fn() -> bool,
) -> Result<Vec<CheckRun>, EngineError> {
    if planned.len() > 1 && runner.jobs > 1 {
        let runs = run_checks(planned.clone(), env, runner, observer).await;
        if ws.verify()?.is_empty() || cancelled() {
            return Ok(runs);
        }
        tracing::warn!(
            "a check changed the audited tree; running the stage again one check at a time"
        );
    }
    let mut runs = Vec::with_capacity(planned.len());
    for (spec, files) in planned {
        if cancelled() {
            break;
        }
        let name = spec.name.clone();
        let mut run = run_checks(vec![(spec, files)], env, runner, observer)
            .await
            .pop()
            .ok_or(EngineError::Cancelled)?;
        let drift = ws.verify()?;
        if !drift.is_empty() {
            run.findings.push(modified_tree(&name, &drift));
        }
        runs.push(run);
    }
    Ok(runs)
}

fn what(d: &TreeDrift) -> String {
    match &d.drift {
        Drift::Modified(_) => format!("`{}` (modified)", d.path),
        Drift::ModeChanged => format!("`{}` (its executable bit changed)", d.path),
        Drift::Deleted => format!("`{}` (deleted)", d.path),
        Drift::Replaced(by) => format!("`{}` (replaced by {by})", d.path),
    }
}

/// The MEDIUM finding for a check (or `workspace`, for changes found between audits) that
/// changed tracked files of the audited tree.
pub fn modified_tree(check: &str, drift: &[TreeDrift]) -> Finding {
    let mut listed: Vec<String> = drift.iter().take(FILES_SHOWN).map(what).collect();
    if drift.len() > FILES_SHOWN {
        listed.push(format!("and {} more", drift.len() - FILES_SHOWN));
    }
    let diffs: Vec<&str> = drift
        .iter()
        .filter_map(|d| match &d.drift {
            Drift::Modified(diff) if !diff.is_empty() => Some(diff.as_str()),
            _ => None,
        })
        .take(5)
        .collect();
    let (title, description) = if check == "workspace" {
        (
            format!(
                "The snapshot of the audited commit was changed between audits ({} file{})",
                drift.len(),
                if drift.len() == 1 { "" } else { "s" }
            ),
            format!(
                "Before this audit's checks ran, tracked files of the snapshot under `state/` were not what the commit holds: {}. They were restored first, so every check saw exactly the commit. Something wrote into the auditor's workspace since the last audit (a process an earlier check left behind, or another program).",
                listed.join(", ")
            ),
        )
    } else {
        (
            format!(
                "Check `{check}` changed {} tracked file{} of the audited tree",
                drift.len(),
                if drift.len() == 1 { "" } else { "s" }
            ),
            format!(
                "`{check}` modified the snapshot of the audited commit: {}. What it reported is about the tree as it changed it, not the commit; the change was undone before anything else ran, so the later checks and the tests saw exactly the commit.",
                listed.join(", ")
            ),
        )
    };
    Finding {
        check: check.to_string(),
        rule: "modified-tree".into(),
        issue_type: IssueType::CheckModifiedTree,
        severity: Severity::Medium,
        file: None,
        line: None,
        column: None,
        title,
        description,
        remediation: if check == "workspace" {
            "Nothing but the auditor writes under its state folder; find what did (`auditor status`, the event log) and stop it.".into()
        } else {
            format!(
                "Make `{check}` check without fixing: `ruff check --no-fix` (a `fix = true` in pyproject.toml applies fixes otherwise), eslint without `--fix`, `prettier --check`, `black --check`, `cargo fmt --check`. A test that writes into tracked files should write into a temporary folder instead."
            )
        },
        snippet: (!diffs.is_empty()).then(|| clean_quoted(&diffs.join("\n"))),
        location: Location::Introduced,
        commit: None,
        fingerprint: String::new(),
        redacted: None,
    }
}

/// The HIGH finding for an audit whose checks could not run: the snapshot of the commit could
/// not be prepared. The built-in scanners read blobs, not files, and have run.
pub fn workspace_unavailable(reason: &str, planned: &[(CheckSpec, Vec<PathBuf>)]) -> Finding {
    let names: Vec<String> = planned
        .iter()
        .map(|(s, _)| format!("`{}`", s.name))
        .collect();
    Finding {
        check: "workspace".into(),
        rule: "unavailable".into(),
        issue_type: IssueType::CheckError,
        severity: Severity::High,
        file: None,
        line: None,
        column: None,
        title: "The audited commit could not be checked out: its linters and tests did not run"
            .into(),
        description: format!(
            "The snapshot of the audited commit could not be prepared ({reason}), so {} did not run and nothing they would have found is known. The secret scanner and the guards read the commit's blobs and did run.",
            names.join(", ")
        ),
        remediation: "If the commit holds a path git refuses to write (such as `.GIT/config`, a `.git` folder in the tree, or a name a file system cannot hold), remove it in a new commit. Otherwise fix what the reason names (disk space, permissions of the state folder).".into(),
        snippet: None,
        location: Location::Introduced,
        commit: None,
        fingerprint: String::new(),
        redacted: None,
    }
}

/// The run of a check that could not start because the workspace could not be prepared.
pub fn not_run(spec: &CheckSpec, reason: &str) -> CheckRun {
    let mut run = CheckRun::skipped(&spec.name, spec.stage, reason);
    run.outcome = CheckOutcome::Error;
    run
}

/// Whether `stage` has checks among `planned`.
pub fn has_stage(planned: &[(CheckSpec, Vec<PathBuf>)], stage: Stage) -> bool {
    planned.iter().any(|(s, _)| s.stage == stage)
}

/// Forwards the runner's per-check start and end to the progress sink.
pub(super) fn check_observer(progress: &ProgressSink) -> CheckObserver {
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
