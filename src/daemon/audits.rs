//! Running audits from the loop: planning a batch into a job for the audit thread, following
//! its progress through the state machine, and recording what it audited.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use chrono::Utc;
use git2::Oid;
use serde_json::json;

use super::machine::{Event, State};
use super::plan::{self, Plan};
use super::status::{self, Verdict};
use super::worker::{Job, JobError, JobKind, Work, WorkerMessage};
use crate::engine::{AuditOptions, Progress};
use crate::eventlog::Level;
use crate::finding::{Finding, IssueType, Location, Severity};
use crate::git::{AuditTarget, WorkChange};
use crate::report::{AuditReport, CommitInfo, severity_counts};
use crate::store::state::{Durations, Failure};

use super::event_loop::{Batch, Daemon, Running, TreeKey, ms, release_free_memory, short};

impl Daemon {
    pub(super) fn start_batch(&mut self) {
        if self.state != State::DetectedChange {
            self.batch_started = None;
            return;
        }
        if self.running.is_some() {
            // A cancelled audit is still winding down.
            self.batch_due = Some(Instant::now() + Duration::from_millis(100));
            return;
        }
        self.batch_started = None;
        let head = self.repo.head().ok();
        if let Some(head) = head.filter(|h| plan::needs_audit(&self.persisted, *h)) {
            self.pending_uncommitted = None;
            match plan::plan(
                &self.repo,
                &self.persisted,
                head,
                self.settings.watch.max_consecutive_skips,
                self.origin,
            ) {
                Ok(plan) => self.start_commits(plan),
                Err(e) => {
                    self.log_error("plan", &e.to_string());
                    let waiting = self.waiting();
                    self.fire(
                        Event::NothingToAudit { waiting },
                        "the batch could not be planned",
                    );
                }
            }
        } else if let Some((changes, key)) = self.pending_uncommitted.take() {
            match head {
                Some(head) => self.start_uncommitted(head, changes, key),
                None => {
                    let waiting = self.waiting();
                    self.fire(
                        Event::NothingToAudit { waiting },
                        "no commit to compare with",
                    );
                }
            }
        } else {
            let waiting = self.waiting();
            self.fire(Event::NothingToAudit { waiting }, "already audited");
        }
    }

    pub(super) fn commit_info(&self, oid: Oid) -> CommitInfo {
        CommitInfo {
            hash: oid.to_string(),
            summary: self.repo.summary(oid),
        }
    }

    pub(super) fn start_commits(&mut self, plan: Plan) {
        let head = plan.head.to_string();
        if let Some(rw) = &plan.rewrite {
            self.events.append(
                "history_rewrite",
                Level::Warning,
                Some(&head),
                json!({
                    "previous": rw.previous,
                    "merge_base": rw.merge_base.map(|m| m.to_string()),
                    "unaudited_commits": plan.to_audit.len(),
                }),
            );
            self.view.line(&format!(
                "history rewritten: {} is no longer an ancestor of HEAD; auditing {} new commit(s) since {}",
                short(&rw.previous),
                plan.to_audit.len(),
                rw.merge_base.map_or("(no common ancestor)".to_string(), |m| short(&m.to_string()).to_string())
            ));
        }
        for s in &plan.skipped {
            let info = self.commit_info(*s);
            self.events.append(
                "skip",
                Level::Warning,
                Some(&info.hash),
                json!({ "summary": info.summary, "consecutive": plan.consecutive_skips }),
            );
            self.view
                .line(&format!("skipped {} ([skip-audit])", short(&info.hash)));
        }
        let mut extra = Vec::new();
        if let Some(forced) = plan.forced {
            let info = self.commit_info(forced);
            let limit = self.settings.watch.max_consecutive_skips;
            self.events.append(
                "skip_limit",
                Level::Warning,
                Some(&info.hash),
                json!({ "limit": limit }),
            );
            extra.push(skip_limit_finding(&info, limit));
        }
        if plan.commits.is_empty() {
            // Nothing new (every commit was audited before).
            self.persisted.last_checked = Some(head);
            self.save_state();
            let waiting = self.waiting();
            self.fire(Event::NothingToAudit { waiting }, "already audited");
            return;
        }
        let mut skipped: Vec<CommitInfo> = self
            .persisted
            .pending_skips
            .iter()
            .filter_map(|h| Oid::from_str(h).ok())
            .map(|o| self.commit_info(o))
            .collect();
        skipped.extend(plan.skipped.iter().map(|o| self.commit_info(*o)));
        let spec = match (plan.commits.len(), plan.base) {
            (1, _) | (_, None) => head.clone(),
            (_, Some(base)) => format!("{}..{}", base, head),
        };
        let target = AuditTarget {
            commits: plan.commits.clone(),
            target: plan.head,
            base: plan.base,
            spec,
        };
        let options = AuditOptions {
            run_tests: true,
            write: true,
            cancel: None,
            skipped,
            builtins_only: plan.to_audit.is_empty(),
            extra_findings: extra,
            uncommitted: false,
        };
        let commits = plan.commits.len();
        self.launch(JobKind::Commits(target), options, Some(plan), head, commits);
    }

    pub(super) fn start_uncommitted(&mut self, head: Oid, changes: Vec<WorkChange>, key: TreeKey) {
        self.last_tree_key = Some(key);
        let options = AuditOptions {
            run_tests: false,
            write: true,
            uncommitted: true,
            ..AuditOptions::default()
        };
        let hex = head.to_string();
        self.launch(
            JobKind::Uncommitted { head, changes },
            options,
            None,
            hex,
            0,
        );
    }

    pub(super) fn launch(
        &mut self,
        kind: JobKind,
        mut options: AuditOptions,
        plan: Option<Plan>,
        commit: String,
        commits: usize,
    ) {
        let cancel = Arc::new(AtomicBool::new(false));
        options.cancel = Some(cancel.clone());
        let id = self.next_job;
        self.next_job += 1;
        self.running = Some(Running {
            id,
            batch: plan.map_or(Batch::Uncommitted, Batch::Unrecorded),
            cancel,
            started: Instant::now(),
            stage_started: Utc::now(),
            commit: commit.clone(),
            commits,
            static_ms: None,
            test_started: None,
            test_ms: 0,
        });
        let uncommitted = options.uncommitted;
        self.events.append(
            "audit_started",
            Level::Info,
            Some(&commit),
            json!({
                "uncommitted": uncommitted,
                "commits": match &kind {
                    JobKind::Commits(t) => t.commits.iter().map(Oid::to_string).collect::<Vec<_>>(),
                    JobKind::Uncommitted { .. } => Vec::new(),
                },
                "skipped": options.skipped.iter().map(|c| c.hash.clone()).collect::<Vec<_>>(),
            }),
        );
        let reason = if uncommitted {
            "auditing uncommitted changes".to_string()
        } else if commits > 1 {
            format!(
                "auditing a batch of {commits} commits up to {}",
                short(&commit)
            )
        } else {
            format!("auditing {}", short(&commit))
        };
        self.fire(Event::BatchReady, &reason);
        let job = Job {
            id,
            kind,
            settings: self.settings.clone(),
            options,
        };
        if !self.worker.send(Work::Audit(job)) {
            self.running = None;
            self.log_error("audit_thread", "the audit thread is gone");
            let waiting = self.waiting();
            self.fire(Event::AuditFailed { waiting }, "the audit thread is gone");
        }
    }

    pub(super) fn cancel_running(&mut self, why: &str) {
        let Some(r) = &self.running else { return };
        r.cancel.store(true, Ordering::SeqCst);
        let commit = r.commit.clone();
        self.events.append(
            "audit_cancelled",
            Level::Warning,
            Some(&commit),
            json!({ "reason": why }),
        );
        self.view
            .line(&format!("audit of {} cancelled: {why}", short(&commit)));
        let grace = self.settings.runner.grace;
        // Off the loop: the grace period must not stall heartbeats and detection.
        std::thread::spawn(move || crate::runner::terminate_all(grace));
    }

    pub(super) fn on_worker(&mut self, message: WorkerMessage) {
        let current = self.running.as_ref().map(|r| r.id);
        match message {
            WorkerMessage::Progress(id, p) if Some(id) == current => self.on_progress(p),
            WorkerMessage::Progress(..) => {}
            WorkerMessage::Done(id, result) if Some(id) == current => {
                let Some(running) = self.running.take() else {
                    return;
                };
                self.finished(running, result);
            }
            WorkerMessage::Done(..) => {}
            WorkerMessage::HooksRun(runs) => self.log_hooks(&runs),
            WorkerMessage::Escalated(Ok((ids, hooks))) => {
                self.log_escalations(&ids, None);
                self.log_hooks(&hooks);
            }
            WorkerMessage::Escalated(Err(message)) => self.log_error("escalation", &message),
        }
    }

    pub(super) fn on_progress(&mut self, progress: Progress) {
        let commit = self.running.as_ref().map(|r| r.commit.clone());
        let commit = commit.as_deref();
        let cancelled = self
            .running
            .as_ref()
            .is_some_and(|r| r.cancel.load(Ordering::SeqCst));
        match progress {
            Progress::Auditing => {}
            Progress::CheckStarted { name, stage } => {
                self.events.append(
                    "check_started",
                    Level::Info,
                    commit,
                    json!({ "check": name, "stage": stage.as_str() }),
                );
            }
            Progress::CheckFinished {
                name,
                stage,
                outcome,
                duration_ms,
                findings,
            } => {
                self.events.append(
                    "check_finished",
                    Level::Info,
                    commit,
                    json!({
                        "check": name, "stage": stage.as_str(), "outcome": outcome.as_str(),
                        "duration_ms": duration_ms, "findings": findings,
                    }),
                );
                self.view.line(&format!(
                    "  {name}: {} ({findings} finding(s), {duration_ms} ms)",
                    outcome.as_str()
                ));
            }
            _ if cancelled => {}
            Progress::StaticDone {
                critical,
                tests_next,
            } => {
                if let Some(r) = &mut self.running {
                    r.static_ms = Some(ms(r.started.elapsed()));
                    if tests_next {
                        r.test_started = Some(Instant::now());
                    }
                }
                let reason = match (critical, tests_next) {
                    (_, true) => "static checks done; running tests",
                    (true, false) => "a static check found a CRITICAL issue",
                    (false, false) => "static checks done; no tests to run",
                };
                self.fire(
                    Event::StaticDone {
                        critical,
                        tests_next,
                    },
                    reason,
                );
            }
            Progress::TestsDone => {
                if let Some(r) = &mut self.running {
                    r.test_ms = r.test_started.map_or(0, |t| ms(t.elapsed()));
                }
                self.fire(Event::TestsDone, "tests complete");
            }
            Progress::Verified => {
                self.fire(Event::Verified, "results aggregated");
            }
            Progress::ReportWritten { path, to_send } => {
                self.report_written();
                self.events.append(
                    "report_written",
                    Level::Info,
                    commit,
                    json!({ "path": path.to_string_lossy() }),
                );
                let reason = if to_send {
                    "issues to send"
                } else {
                    "no issues"
                };
                self.fire(Event::ReportWritten { to_send }, reason);
            }
            Progress::FeedbackWritten { files, blocking } => {
                for f in &files {
                    self.events.append(
                        "feedback_written",
                        Level::Info,
                        commit,
                        json!({ "path": f.to_string_lossy() }),
                    );
                }
                let reason = if blocking {
                    "feedback sent; blocking issues open"
                } else {
                    "feedback sent"
                };
                self.fire(Event::FeedbackWritten { blocking }, reason);
            }
        }
    }

    pub(super) fn finished(
        &mut self,
        running: Running,
        result: Result<Box<AuditReport>, JobError>,
    ) {
        match result {
            Ok(report) => self.audited(running, &report),
            Err(JobError::Cancelled) => {
                // The commits stay unaudited; the next batch covers them again.
                self.events.append(
                    "audit_abandoned",
                    Level::Info,
                    Some(&running.commit),
                    json!({ "elapsed_ms": ms(running.started.elapsed()) }),
                );
            }
            Err(JobError::Failed(message)) => {
                self.audit_failed(&running, &message);
                let waiting = self.waiting();
                self.fire(Event::AuditFailed { waiting }, "the audit failed");
            }
        }
        // Whatever arrived meanwhile is the next batch (after a failure, the retry is).
        self.queued = false;
        if let Ok(head) = self.repo.head() {
            self.seen_head = Some(head);
            if self.retry_due.is_none() && plan::needs_audit(&self.persisted, head) {
                self.detected(head, "queued");
            }
        }
        if self.pending_uncommitted.is_some() && self.state != State::DetectedChange {
            self.uncommitted_due = Some(Instant::now());
        }
        self.write_status();
        release_free_memory();
    }

    /// A report on disk means the audit is recorded (ledger and inbox first): its commits are
    /// audited now, whatever happens to the rest of this run.
    fn report_written(&mut self) {
        let unrecorded = self.running.as_mut().and_then(|r| {
            match std::mem::replace(&mut r.batch, Batch::Uncommitted) {
                Batch::Unrecorded(plan) => Some(plan),
                other => {
                    r.batch = other;
                    None
                }
            }
        });
        if let Some(plan) = unrecorded {
            self.record_batch(&plan);
            self.save_state();
            if let Some(r) = &mut self.running {
                r.batch = Batch::Recorded(plan);
            }
        }
    }

    /// An audit of commits failed: its commits stay unaudited and are retried with a backoff;
    /// after `FAILURES_BEFORE_ISSUE` attempts in a row, AUDIT_FAILED reaches the inbox.
    fn audit_failed(&mut self, running: &Running, message: &str) {
        self.log_error("audit_failed", message);
        let plan = match &running.batch {
            Batch::Recorded(_) => return, // its report was written: what failed came after
            Batch::Uncommitted => return, // the next quiet period looks again
            Batch::Unrecorded(plan) => plan,
        };
        let commits: Vec<String> = plan
            .skipped
            .iter()
            .chain(&plan.to_audit)
            .map(Oid::to_string)
            .collect();
        let failure = self.persisted.failure.get_or_insert_with(|| Failure {
            attempts: 0,
            message: String::new(),
            commits: Vec::new(),
            since: Utc::now().to_rfc3339_opts(chrono::SecondsFormat::Secs, true),
        });
        failure.attempts += 1;
        failure.message = message.to_string();
        failure.commits = commits;
        let failure = failure.clone();
        let delay = retry_delay(failure.attempts);
        self.retry_due = Some(Instant::now() + delay);
        self.save_state();
        self.events.append(
            "audit_retry",
            Level::Warning,
            Some(&running.commit),
            json!({
                "attempts": failure.attempts, "retry_in_ms": ms(delay),
                "unaudited": failure.commits, "message": message,
            }),
        );
        self.view.line(&format!(
            "audit of {} failed (attempt {}); retrying in {}s",
            short(&running.commit),
            failure.attempts,
            delay.as_secs()
        ));
        if failure.attempts >= crate::engine::FAILURES_BEFORE_ISSUE {
            match crate::engine::record_failure(&self.layout, &failure) {
                Ok(Some(path)) => self.events.append(
                    "feedback_written",
                    Level::Warning,
                    Some(&running.commit),
                    json!({ "path": path.to_string_lossy(), "issue": "AUDIT_FAILED" }),
                ),
                Ok(None) => {}
                Err(e) => self.log_error("audit_failed_issue", &e.to_string()),
            }
        }
    }

    pub(super) fn log_escalations(&mut self, ids: &[String], commit: Option<&str>) {
        for id in ids {
            self.events.append(
                "escalation",
                Level::Warning,
                commit,
                json!({ "id": id, "reason": if commit.is_some() { "open after escalate_after_commits commits" } else { "the wait for a fix timed out" } }),
            );
            self.view.line(&format!("escalated {id}"));
        }
    }

    pub(super) fn log_hooks(&mut self, hooks: &[crate::hooks::HookRun]) {
        for h in hooks {
            let level = if h.outcome == Ok(0) {
                Level::Info
            } else {
                Level::Warning
            };
            self.events.append(
                "hook_run",
                level,
                None,
                json!({
                    "event": h.event, "issue": h.issue,
                    "exit_code": h.outcome.as_ref().ok(), "error": h.outcome.as_ref().err(),
                }),
            );
        }
    }

    pub(super) fn record_batch(&mut self, plan: &Plan) {
        let done: Vec<String> = plan
            .to_audit
            .iter()
            .chain(&plan.skipped)
            .map(Oid::to_string)
            .collect();
        self.persisted.mark_audited(&done);
        self.persisted.consecutive_skips = plan.consecutive_skips;
        self.persisted.pending_skips.clear();
        self.persisted.last_checked = Some(plan.head.to_string());
    }

    pub(super) fn audited(&mut self, running: Running, report: &AuditReport) {
        let total = ms(running.started.elapsed());
        if let Batch::Unrecorded(plan) = &running.batch {
            self.record_batch(plan);
        }
        if running.batch.plan().is_some() {
            self.persisted.push_durations(Durations {
                audit_ms: running.static_ms.unwrap_or(total),
                test_ms: running.test_ms,
                total_ms: total,
            });
            if self.persisted.failure.take().is_some() {
                self.retry_due = None;
                self.events.append(
                    "audit_recovered",
                    Level::Info,
                    Some(&running.commit),
                    json!({}),
                );
            }
        }
        self.save_state();
        // The audit is recorded: the hooks it made due run now (a kill from here on neither
        // audits the commit again nor runs a hook twice).
        if !report.due_hooks.is_empty()
            && !self
                .worker
                .send(Work::Hooks(self.settings.clone(), report.due_hooks.clone()))
        {
            self.log_error("hooks", "the audit thread is gone");
        }
        let counts: Vec<(String, usize)> = severity_counts(report)
            .into_iter()
            .map(|(s, n)| (s.as_str().to_string(), n))
            .collect();
        self.events.append(
            "audit_finished",
            Level::Info,
            Some(&running.commit),
            json!({
                "status": report.status.as_str(),
                "counts": counts.iter().map(|(s, n)| (s.clone(), json!(n))).collect::<serde_json::Map<String, serde_json::Value>>(),
                "duration_ms": total,
                "uncommitted": report.uncommitted,
                "commits": running.commits,
            }),
        );
        if !report.settings_changes.is_empty() {
            self.events.append(
                "config_changed",
                if report.settings_changes.iter().any(|c| c.weakens) {
                    Level::Warning
                } else {
                    Level::Info
                },
                Some(&running.commit),
                json!({ "changes": report.settings_changes.iter().map(|c| json!({
                    "key": c.key, "before": c.before, "after": c.after, "weakens": c.weakens,
                })).collect::<Vec<_>>() }),
            );
        }
        // Every issue the audit raised (LOW ones live only here and in the report).
        for i in &report.issues {
            let Some(life) = &i.life else { continue };
            if life.status == "open" {
                continue;
            }
            self.events.append(
                "issue_raised",
                Level::Info,
                Some(&running.commit),
                json!({
                    "id": i.id, "severity": i.finding.severity.as_str(),
                    "type": i.finding.issue_type.as_str(), "title": i.finding.title,
                    "file": i.finding.file, "line": i.finding.line, "status": life.status,
                }),
            );
        }
        for r in &report.resolved {
            self.events.append(
                "issue_resolved",
                Level::Info,
                Some(&running.commit),
                json!({ "id": r.id, "title": r.title, "claimed_fix": r.claimed }),
            );
        }
        let commit = running.commit.clone();
        self.log_escalations(&report.escalated, Some(&commit));
        self.log_hooks(&report.hook_runs);
        self.view.line(&format!(
            "{} {} {} in {} ms",
            report.status.as_str(),
            if report.uncommitted {
                "uncommitted"
            } else {
                short(&running.commit)
            },
            status::short_counts(&counts),
            total
        ));
        self.last_verdict = Some(Verdict {
            commit: running.commit,
            status: report.status.as_str().to_string(),
            counts,
            at: Utc::now(),
            uncommitted: report.uncommitted,
        });
    }
}

/// How long to wait before the next attempt after `attempts` failed ones: 1 s, doubling, at
/// most five minutes.
fn retry_delay(attempts: u32) -> Duration {
    Duration::from_secs(1u64 << attempts.saturating_sub(1).min(9)).min(Duration::from_secs(300))
}

/// The MEDIUM issue raised when `[skip-audit]` is used more often in a row than allowed.
fn skip_limit_finding(commit: &CommitInfo, limit: u32) -> Finding {
    Finding {
        check: "daemon".into(),
        rule: "skip-audit-limit".into(),
        issue_type: IssueType::AuditSkipped,
        severity: Severity::Medium,
        file: None,
        line: None,
        column: None,
        title: format!("More than {limit} commits in a row asked to skip the audit"),
        description: format!(
            "Commit `{}` (\"{}\") carries `[skip-audit]` after {limit} skipped commits in a row, so it was audited anyway. Skipping audits hides problems from the supervisor.",
            short(&commit.hash),
            commit.summary
        ),
        remediation: "Use `[skip-audit]` only for commits that cannot be audited (generated files, vendored code); fix the problems the audit reports instead of skipping it.".into(),
        snippet: None,
        location: Location::Introduced,
        commit: Some(commit.hash.clone()),
        fingerprint: String::new(),
        redacted: None,
    }
}
