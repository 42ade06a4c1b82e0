//! One audit, stage by stage as the daemon's state machine names them: the static stage (the
//! built-in scanners, then the configured audit checks), the test stage, verification (one
//! issue per problem, located, fingerprinted, ranked, the test figures) and publishing (the
//! ledger, the inbox, the report).

use std::collections::{BTreeMap, HashSet};
use std::path::PathBuf;
use std::time::Instant;

use chrono::{DateTime, Utc};

use super::builtin::builtin_stage;
use super::model::{AuditOptions, Progress, ProgressSink};
use super::settings_stage::{self, SettingsCheck};
use super::workspace::Workspace;
use super::{EngineError, environment, ledger_stage, metrics, publish, stages};
use crate::checks::{CheckEnv, CheckOutcome, CheckRun, select_files};
use crate::config::{CheckSpec, Scope, Settings, Stage};
use crate::finding::{Finding, Severity};
use crate::git::{AuditTarget, ChangedFile, FileStatus, Repo, changed_files};
use crate::guards::TestTally;
use crate::ledger::{Applied, Ledger, Locked};
use crate::parsers::TestCounts;
use crate::policy::{self, Issue};
use crate::report::{AuditReport, CommitInfo, ScanStats, TestStage};
use crate::store::Layout;

/// What every stage of one audit reads.
struct Audit<'a> {
    repo: &'a Repo,
    settings: &'a Settings,
    layout: &'a Layout,
    target: &'a AuditTarget,
    options: &'a AuditOptions,
    progress: &'a ProgressSink,
    /// The files the audited commits changed.
    changes: Vec<ChangedFile>,
    /// Those the commits left in the tree: what the configured checks look at.
    existing: Vec<PathBuf>,
    /// The ledger as it stands before this audit (read again, locked, to record it).
    ledger_before: Ledger,
    started: Instant,
    timestamp: DateTime<Utc>,
}

/// What the stages found so far.
struct Found {
    findings: Vec<Finding>,
    checks: Vec<CheckRun>,
    scan: ScanStats,
    /// What the commits did to their tests, as the guards tally it (none without the guards).
    test_tally: Option<TestTally>,
}

/// The configured checks that have something to do.
struct Planned {
    checks: Vec<(CheckSpec, Vec<PathBuf>)>,
    /// What each looks at, for the ledger (`None`: the whole tree).
    files: BTreeMap<String, Option<Vec<String>>>,
}

/// What running the configured checks left besides findings.
struct Ran {
    test_stage: TestStage,
    workspace: Option<PathBuf>,
}

/// The issues and the test stage's figures.
struct Verified {
    issues: Vec<Issue>,
    tests: Option<TestCounts>,
    test_pass_rate: Option<f64>,
    coverage: Option<f64>,
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
    progress(Progress::Auditing);
    let changes = changed_files(repo, target.base, target.target)?;
    let audit = Audit {
        existing: changes
            .iter()
            .filter(|c| c.status != FileStatus::Deleted)
            .map(|c| c.exact.clone())
            .collect(),
        changes,
        ledger_before: crate::ledger::read_checked(layout)
            .map(|(ledger, _)| ledger)
            .unwrap_or_default(),
        repo,
        settings,
        layout,
        target,
        options,
        progress,
        started,
        timestamp: Utc::now(),
    };
    // The settings themselves: weakened since the last audit, outside any commit?
    let settings_check = settings_stage::check(layout, settings, &audit.ledger_before);
    let mut found = audit.builtins(&settings_check)?;
    let planned = audit.plan(&mut found.checks);
    let ran = audit.run_checks(&planned, &mut found).await?;
    let mut verified = audit.verify(&mut found, &ran);
    if options.fast_lane {
        let record =
            ledger_stage::record_fast(layout, &mut verified.issues, &target.target.to_string())?;
        let mut report = audit.report(found, ran, verified, &record, &settings_check);
        publish::publish_fast(repo, settings, layout, &mut report, record)?;
        return Ok(report);
    }
    let record = audit.record(&planned, &found, &mut verified)?;
    let mut report = audit.report(found, ran, verified, &record, &settings_check);
    progress(Progress::Verified);
    audit.bail_if_cancelled()?;
    if options.write {
        publish::publish(repo, settings, layout, &mut report, record, progress)?;
        if !options.uncommitted {
            settings_stage::record(layout, &settings_check)?;
        }
    }
    Ok(report)
}

impl Audit<'_> {
    fn bail_if_cancelled(&self) -> Result<(), EngineError> {
        if self.options.cancelled() {
            Err(EngineError::Cancelled)
        } else {
            Ok(())
        }
    }

    /// The static stage's first half: the settings' own finding, then the built-in scanners.
    fn builtins(&self, settings_check: &SettingsCheck) -> Result<Found, EngineError> {
        let mut findings: Vec<Finding> = self.options.extra_findings.clone();
        findings.extend(settings_check.finding.clone());
        let (checks, scan, test_tally) = builtin_stage(
            self.repo,
            self.settings,
            self.target,
            self.options,
            &self.changes,
            &self.ledger_before,
            self.settings.secrets.scanner(),
            &mut findings,
        )?;
        Ok(Found {
            findings,
            checks,
            scan,
            test_tally,
        })
    }

    /// Which configured checks have something to do; the others are recorded as skipped.
    fn plan(&self, checks: &mut Vec<CheckRun>) -> Planned {
        let (repo, target) = (self.repo, self.target);
        let tree_paths = || repo.tree_files(target.target).unwrap_or_default();
        let head = |p: &std::path::Path| repo.file_head(target.target, p, 256);
        let mut planned = Planned {
            checks: Vec::new(),
            files: BTreeMap::new(),
        };
        if self.options.fast_lane {
            // The batch's audit runs them.
            return planned;
        }
        for spec in &self.settings.checks {
            if self.options.builtins_only {
                checks.push(CheckRun::skipped(
                    &spec.name,
                    spec.stage,
                    "every commit of the batch has [skip-audit] (the built-in scanners still ran)",
                ));
                continue;
            }
            if spec.stage == Stage::Test && !self.options.run_tests {
                checks.push(CheckRun::skipped(&spec.name, spec.stage, "--no-tests"));
                continue;
            }
            let Some(files) = select_files(spec, &self.existing, &tree_paths, &head) else {
                checks.push(CheckRun::skipped(
                    &spec.name,
                    spec.stage,
                    "no changed file matches its `files`",
                ));
                continue;
            };
            let whole = spec.stage == Stage::Test
                || spec.scope == Scope::Tree
                || !spec.command.iter().any(|a| a.contains("{files}"));
            let examined = files
                .iter()
                .map(|f| f.to_string_lossy().into_owned())
                .collect();
            planned
                .files
                .insert(spec.name.clone(), (!whole).then_some(examined));
            planned.checks.push((spec.clone(), files));
        }
        planned
    }

    fn static_done(&self, findings: &[Finding], tests_next: bool) {
        (self.progress)(Progress::StaticDone {
            critical: findings.iter().any(|f| f.severity == Severity::Critical),
            tests_next,
        });
    }

    /// The configured checks in the workspace: the static stage's second half, then the
    /// test stage.
    async fn run_checks(&self, planned: &Planned, found: &mut Found) -> Result<Ran, EngineError> {
        let mut ran = Ran {
            test_stage: TestStage::NotConfigured,
            workspace: None,
        };
        if planned.checks.is_empty() {
            self.static_done(&found.findings, false);
        } else {
            let prepared = super::workspace::prepare(
                self.repo,
                self.settings,
                self.layout,
                self.target,
                &self.changes,
            )
            .await;
            match prepared {
                Ok(mut ws) => {
                    ran.workspace = Some(ws.path.clone());
                    ran.test_stage = self.in_workspace(&mut ws, &planned.checks, found).await?;
                }
                Err(e) => {
                    // The built-in scanners read blobs and have run; say what could not.
                    let reason = e.to_string();
                    found
                        .findings
                        .push(stages::workspace_unavailable(&reason, &planned.checks));
                    for (spec, _) in &planned.checks {
                        found.checks.push(stages::not_run(spec, &reason));
                    }
                    if stages::has_stage(&planned.checks, Stage::Test) {
                        ran.test_stage = TestStage::Skipped(format!(
                            "the workspace could not be prepared: {reason}"
                        ));
                    }
                    self.static_done(&found.findings, false);
                }
            }
        }
        if matches!(ran.test_stage, TestStage::NotConfigured)
            && !self.options.run_tests
            && self.settings.checks.iter().any(|c| c.stage == Stage::Test)
        {
            ran.test_stage = TestStage::Skipped("--no-tests".into());
        }
        Ok(ran)
    }

    /// The audit checks, then (unless a CRITICAL finding stops them) the test checks, in a
    /// prepared workspace. Returns whether the test stage ran.
    async fn in_workspace(
        &self,
        ws: &mut Workspace,
        planned: &[(CheckSpec, Vec<PathBuf>)],
        found: &mut Found,
    ) -> Result<TestStage, EngineError> {
        if let Some(snapshot) = &ws.snapshot
            && !snapshot.restored_at_sync.is_empty()
        {
            found.findings.push(stages::modified_tree(
                "workspace",
                &snapshot.restored_at_sync,
            ));
        }
        found.checks.extend(ws.setup_run.clone());
        found
            .findings
            .extend(ws.setup_run.iter().flat_map(|r| r.findings.clone()));
        let env = CheckEnv {
            workspace: ws.path.clone(),
            commit: self.target.target.to_string(),
            changed_files: self.existing.clone(),
            repo_root: self.repo.root.clone(),
        };
        let (audit_checks, test_checks): (Vec<_>, Vec<_>) = planned
            .iter()
            .cloned()
            .partition(|(s, _)| s.stage == Stage::Audit);
        let observer = stages::check_observer(self.progress);
        let cancelled = || self.options.cancelled();
        let runner = &self.settings.runner;
        let runs = stages::run_stage(audit_checks, &env, runner, &observer, ws, &cancelled).await?;
        found.add_runs(runs);
        self.bail_if_cancelled()?;

        let critical = found
            .findings
            .iter()
            .any(|f| f.severity == Severity::Critical);
        let skip_tests = critical && self.settings.policy.skip_tests_on_critical;
        self.static_done(&found.findings, !test_checks.is_empty() && !skip_tests);
        if test_checks.is_empty() {
            return Ok(TestStage::NotConfigured);
        }
        if skip_tests {
            let why =
                "skipped: a static check found a CRITICAL issue (policy.skip_tests_on_critical)";
            for (spec, _) in &test_checks {
                found
                    .checks
                    .push(CheckRun::skipped(&spec.name, spec.stage, why));
            }
            return Ok(TestStage::Skipped(why.into()));
        }
        let mut runs =
            stages::run_stage(test_checks, &env, runner, &observer, ws, &cancelled).await?;
        environment::blame_environment(
            &mut runs,
            self.repo,
            self.target.target,
            &self.changes,
            metrics::tests_passed_at(&self.ledger_before, self.target.base),
            &environment::known_lacking(&self.ledger_before),
            ws.setup_run
                .as_ref()
                .is_some_and(|r| r.outcome == CheckOutcome::Unavailable),
        );
        found.add_runs(runs);
        self.bail_if_cancelled()?;
        (self.progress)(Progress::TestsDone);
        Ok(TestStage::Ran)
    }

    /// One issue per problem, located in the commits, fingerprinted, redacted and ranked; and
    /// the test stage's figures.
    fn verify(&self, found: &mut Found, ran: &Ran) -> Verified {
        let mut findings = std::mem::take(&mut found.findings);
        // A tool reporting the same diagnostic twice (clippy does, once per target) is one issue.
        let mut distinct = HashSet::new();
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
        policy::locate(&mut findings, &self.changes);
        let mut findings = policy::group_lints(findings);
        for f in findings.iter_mut().filter(|f| f.fingerprint.is_empty()) {
            let line_text = self.line_text(f);
            f.fingerprint = policy::fingerprint(f, line_text.as_deref());
            if f.commit.is_none() {
                f.commit = Some(self.target.target.to_string());
            }
        }
        if self.options.uncommitted {
            // The commit is our snapshot of the working tree, which nobody can look up (the
            // secret scanner words its findings as not committed yet).
            for f in &mut findings {
                f.commit = None;
            }
        }
        // Every sink redacts what the rules and the known values find; a finding's quoted text
        // (context lines, diffs, a tool's words) also has its credential-shaped tokens masked.
        for f in &mut findings {
            crate::secrets::clean_finding(f);
        }
        let test_runs = test_runs(&found.checks);
        let tests = test_runs
            .iter()
            .filter_map(|r| r.tests)
            .reduce(|a, b| TestCounts {
                total: a.total + b.total,
                failed: a.failed + b.failed,
                skipped: a.skipped + b.skipped,
            });
        let coverage = match (&self.settings.metrics.coverage, &ran.workspace) {
            (Some(file), Some(ws)) if ran.test_stage == TestStage::Ran => {
                std::fs::read(ws.join(file))
                    .ok()
                    .and_then(|b| crate::parsers::coverage(&b))
            }
            _ => None,
        };
        Verified {
            issues: policy::assign_ids(findings),
            tests,
            test_pass_rate: pass_rate(tests, &test_runs),
            coverage,
        }
    }

    /// The text of the line a finding points at, in the audited tree.
    fn line_text(&self, f: &Finding) -> Option<String> {
        let (Some(file), Some(line)) = (&f.file, f.line) else {
            return None;
        };
        let content = self.repo.file_head(self.target.target, file, 4 << 20)?;
        String::from_utf8_lossy(&content)
            .lines()
            .nth(line.saturating_sub(1) as usize)
            .map(str::to_string)
    }

    /// The ledger: stable IDs, each issue's life, what this audit resolved and escalated.
    /// Only an audit of commits that writes is recorded. Returns the locked ledger, still to
    /// be saved by publishing.
    fn record(
        &self,
        planned: &Planned,
        found: &Found,
        verified: &mut Verified,
    ) -> Result<Option<(Locked, Applied)>, EngineError> {
        if !self.options.write || self.options.uncommitted {
            return Ok(None);
        }
        let target_hex = self.target.target.to_string();
        let base_hex = self.target.base.map(|b| b.to_string());
        let test_runs = test_runs(&found.checks);
        let test_ms =
            (!test_runs.is_empty()).then(|| test_runs.iter().map(|r| r.duration_ms).sum());
        let facts = ledger_stage::AuditFacts {
            commits: &self.target.commits,
            target: &target_hex,
            changes: &self.changes,
            planned: &planned.files,
            runs: &found.checks,
            coverage: verified.coverage,
            tests: metrics::TestStageFacts::of_runs(
                &test_runs,
                test_ms,
                found.test_tally,
                base_hex.as_deref(),
            ),
            day: self.timestamp.format("%Y-%m-%d").to_string(),
        };
        let record = ledger_stage::record(
            self.repo,
            self.layout,
            self.settings,
            &mut verified.issues,
            &facts,
        )?;
        Ok(Some(record))
    }

    /// The report, from everything the stages found.
    fn report(
        &self,
        found: Found,
        ran: Ran,
        verified: Verified,
        record: &Option<(Locked, Applied)>,
        settings_check: &SettingsCheck,
    ) -> AuditReport {
        let issues = verified.issues;
        let (resolved, escalated, acknowledged) = match record {
            Some((locked, applied)) => (
                applied.resolved.clone(),
                applied.escalated.clone(),
                locked.ledger.accepted(),
            ),
            None => Default::default(),
        };
        let (repo, settings, target) = (self.repo, self.settings, self.target);
        AuditReport {
            timestamp: self.timestamp,
            repo_root: repo.root.clone(),
            spec: target.spec.clone(),
            target: target.target.to_string(),
            base: target.base.map(|b| b.to_string()),
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
            checks: found.checks,
            test_stage: ran.test_stage,
            tests: verified.tests,
            test_pass_rate: verified.test_pass_rate,
            coverage: verified.coverage,
            scan: found.scan,
            changed_files: self.changes.len(),
            workspace: ran.workspace,
            duration_ms: u64::try_from(self.started.elapsed().as_millis()).unwrap_or(u64::MAX),
            config_sources: settings.sources.clone(),
            workspace_mode: settings.workspace.mode,
            skipped: self.options.skipped.clone(),
            uncommitted: self.options.uncommitted,
            range: target.range,
            inbox_files: Vec::new(),
            resolved,
            escalated,
            acknowledged,
            hook_runs: Vec::new(),
            due_hooks: Vec::new(),
            settings_changes: settings_check.changes.clone(),
            settings_accepted_by: settings_check.accepted.clone(),
        }
    }
}

impl Found {
    fn add_runs(&mut self, runs: Vec<CheckRun>) {
        for r in &runs {
            self.findings.extend(r.findings.iter().cloned());
        }
        self.checks.extend(runs);
    }
}

/// The test checks that ran.
fn test_runs(checks: &[CheckRun]) -> Vec<&CheckRun> {
    checks
        .iter()
        .filter(|c| c.stage == Stage::Test && c.outcome != CheckOutcome::Skipped)
        .collect()
}

/// Passed / total: from the counts when known, else 1 or 0 by whether every test check
/// passed; none when no test check ran.
fn pass_rate(tests: Option<TestCounts>, runs: &[&CheckRun]) -> Option<f64> {
    match (tests, runs.is_empty()) {
        (Some(t), _) if t.total > 0 => Some(f64::from(t.total - t.failed) / f64::from(t.total)),
        (_, true) => None,
        (_, false) => Some(if runs.iter().all(|r| r.outcome == CheckOutcome::Passed) {
            1.0
        } else {
            0.0
        }),
    }
}
