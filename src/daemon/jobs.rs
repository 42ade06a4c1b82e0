//! Turning the core's decisions to audit into jobs for the audit thread: the target, the
//! engine's options, the commits' subjects the log and the report name.

use std::sync::Arc;
use std::sync::atomic::AtomicBool;

use git2::Oid;

use super::core::Input;
use super::event_loop::Daemon;
use super::events::{Entry, LogEvent};
use super::plan::Plan;
use super::worker::{Job, JobKind};
use crate::bytes::short;
use crate::engine::AuditOptions;
use crate::eventlog::Level;
use crate::finding::{Finding, IssueType, Location, Severity};
use crate::git::{AuditTarget, WorkChange};
use crate::report::CommitInfo;
use crate::store::state::Failure;

impl Daemon {
    fn commit_info(&self, oid: Oid) -> CommitInfo {
        CommitInfo {
            hash: oid.to_string(),
            summary: self.repo.summary(oid),
        }
    }

    /// Logs what a plan did besides choosing commits: a history rewrite, skipped commits, a
    /// skip audited anyway.
    pub(super) fn announce(&mut self, plan: &Plan) {
        let head = plan.head.to_string();
        if let Some(rw) = &plan.rewrite {
            self.log(Entry::new(
                LogEvent::HistoryRewrite {
                    previous: rw.previous.clone(),
                    merge_base: rw.merge_base.map(|m| m.to_string()),
                    unaudited_commits: plan.to_audit.len(),
                },
                Level::Warning,
                Some(&head),
            ));
            self.view.line(&format!(
                "history rewritten: {} is no longer an ancestor of HEAD; auditing {} new commit(s) since {}",
                short(&rw.previous),
                plan.to_audit.len(),
                rw.merge_base.map_or("(no common ancestor)".to_string(), |m| short(&m.to_string()).to_string())
            ));
        }
        for s in &plan.skipped {
            let info = self.commit_info(*s);
            self.log(Entry::new(
                LogEvent::Skip {
                    summary: info.summary,
                    consecutive: plan.consecutive_skips,
                },
                Level::Warning,
                Some(&info.hash),
            ));
            self.view
                .line(&format!("skipped {} ([skip-audit])", short(&info.hash)));
        }
        if let Some(forced) = plan.forced {
            self.log(Entry::new(
                LogEvent::SkipLimit {
                    limit: self.settings.watch.max_consecutive_skips,
                },
                Level::Warning,
                Some(&forced.to_string()),
            ));
        }
    }

    /// Starts job `id` on a batch of commits.
    pub(super) fn start_commits(&mut self, id: u64, plan: &Plan) -> Option<Input> {
        let head = plan.head.to_string();
        let extra = plan
            .forced
            .map(|forced| {
                let limit = self.settings.watch.max_consecutive_skips;
                skip_limit_finding(&self.commit_info(forced), limit)
            })
            .into_iter()
            .collect();
        let mut skipped: Vec<CommitInfo> = self
            .core
            .persisted
            .pending_skips
            .iter()
            .filter_map(|h| Oid::from_str(h).ok())
            .map(|o| self.commit_info(o))
            .collect();
        skipped.extend(plan.skipped.iter().map(|o| self.commit_info(*o)));
        let spec = match (plan.commits.len(), plan.base) {
            (1, _) | (_, None) => head.clone(),
            (_, Some(base)) => format!("{base}..{head}"),
        };
        let target = AuditTarget {
            commits: plan.commits.clone(),
            target: plan.head,
            base: plan.base,
            spec,
            range: false,
        };
        let options = AuditOptions {
            run_tests: true,
            write: true,
            cancel: None,
            skipped,
            builtins_only: plan.to_audit.is_empty(),
            extra_findings: extra,
            uncommitted: false,
            fast_lane: false,
        };
        self.launch(id, JobKind::Commits(target), options, &head)
    }

    /// Starts job `id` on the working tree's changes.
    pub(super) fn start_uncommitted(
        &mut self,
        id: u64,
        head: Oid,
        changes: Vec<WorkChange>,
    ) -> Option<Input> {
        let options = AuditOptions {
            run_tests: false,
            write: true,
            uncommitted: true,
            ..AuditOptions::default()
        };
        let hex = head.to_string();
        self.launch(id, JobKind::Uncommitted { head, changes }, options, &hex)
    }

    fn launch(
        &mut self,
        id: u64,
        kind: JobKind,
        mut options: AuditOptions,
        commit: &str,
    ) -> Option<Input> {
        options.cancel = Some(Arc::new(AtomicBool::new(false)));
        self.log(Entry::new(
            LogEvent::AuditStarted {
                uncommitted: options.uncommitted,
                commits: match &kind {
                    JobKind::Commits(t) => t.commits.iter().map(Oid::to_string).collect(),
                    JobKind::Uncommitted { .. } => Vec::new(),
                },
                skipped: options.skipped.iter().map(|c| c.hash.clone()).collect(),
            },
            Level::Info,
            Some(commit),
        ));
        let job = Job {
            id,
            kind,
            settings: self.settings.clone(),
            options,
        };
        self.send_job(job)
    }

    /// Audits that keep failing: AUDIT_FAILED in the inbox.
    pub(super) fn raise_audit_failed(&mut self, failure: &Failure, commit: &str) {
        match crate::engine::record_failure(&self.layout, failure) {
            Ok(Some(path)) => self.log(Entry::new(
                LogEvent::FeedbackWritten {
                    path: path.to_string_lossy().into_owned(),
                    issue: Some("AUDIT_FAILED"),
                },
                Level::Warning,
                Some(commit),
            )),
            Ok(None) => {}
            Err(e) => self.log_error("audit_failed_issue", &e.to_string()),
        }
    }
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
