//! What the daemon writes to the event log, as types: one variant per event type, its fields
//! the event's details. `serde` gives the wire names (`event_type`, snake case) in one place.

use serde::Serialize;
use serde_json::{Map, Value};

use crate::eventlog::{EventLog, Level};

/// One event of the daemon's log.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(tag = "event_type", content = "details", rename_all = "snake_case")]
pub enum LogEvent {
    /// The daemon started.
    DaemonStarted {
        /// Its pid.
        pid: u32,
        /// Its version.
        version: &'static str,
        /// `inotify` or `polling`.
        watcher: &'static str,
        /// Folders the working-tree watch covers, when there is one.
        watched_folders: Option<usize>,
        /// The state it starts in.
        state: &'static str,
        /// The last checked commit it resumes from.
        resumed_from: Option<String>,
    },
    /// A state file was unreadable and was recovered.
    StateRecovered {
        /// What was wrong.
        message: String,
    },
    /// A watcher could not be set up.
    WatchUnavailable {
        /// Why, and what is done instead.
        message: String,
    },
    /// The state machine moved.
    Transition {
        /// From.
        from: &'static str,
        /// To.
        to: &'static str,
        /// Why.
        reason: String,
    },
    /// HEAD moved to a commit audited before.
    HeadMoved {
        /// Always true: an unaudited commit is a `change_detected`.
        already_audited: bool,
        /// What looked.
        source: &'static str,
    },
    /// A new commit, or working-tree changes that settled.
    ChangeDetected {
        /// What saw it (`inotify`, `poll`, `working_tree`...).
        source: &'static str,
        /// The commit's subject.
        #[serde(skip_serializing_if = "Option::is_none")]
        summary: Option<String>,
        /// How many uncommitted files changed.
        #[serde(skip_serializing_if = "Option::is_none")]
        uncommitted_files: Option<usize>,
    },
    /// HEAD no longer descends from the last checked commit.
    HistoryRewrite {
        /// The last checked commit.
        previous: String,
        /// Where the histories meet.
        merge_base: Option<String>,
        /// Commits to audit since.
        unaudited_commits: usize,
    },
    /// A `[skip-audit]` commit was skipped.
    Skip {
        /// Its subject.
        summary: String,
        /// Skips in a row.
        consecutive: u32,
    },
    /// Too many skips in a row: this one is audited.
    SkipLimit {
        /// The limit.
        limit: u32,
    },
    /// An audit started.
    AuditStarted {
        /// Of uncommitted changes.
        uncommitted: bool,
        /// The commits it covers.
        commits: Vec<String>,
        /// Those skipped.
        skipped: Vec<String>,
    },
    /// An audit was told to stop.
    AuditCancelled {
        /// Why.
        reason: String,
    },
    /// A cancelled audit ended without a report.
    AuditAbandoned {
        /// How long it ran.
        elapsed_ms: u64,
    },
    /// A configured check started.
    CheckStarted {
        /// Its name.
        check: String,
        /// Its stage.
        stage: &'static str,
    },
    /// A configured check ended.
    CheckFinished {
        /// Its name.
        check: String,
        /// Its stage.
        stage: &'static str,
        /// How it ended.
        outcome: &'static str,
        /// How long it ran.
        duration_ms: u64,
        /// Its findings.
        findings: usize,
    },
    /// The report file was written.
    ReportWritten {
        /// Where.
        path: String,
    },
    /// An inbox file was written.
    FeedbackWritten {
        /// Where.
        path: String,
        /// The daemon's own issue it holds, when it is one (`AUDIT_FAILED`).
        #[serde(skip_serializing_if = "Option::is_none")]
        issue: Option<&'static str>,
    },
    /// An audit failed and is tried again.
    AuditRetry {
        /// Failures in a row.
        attempts: u32,
        /// When the next attempt is.
        retry_in_ms: u64,
        /// The commits still unaudited.
        unaudited: Vec<String>,
        /// Why it failed.
        message: String,
    },
    /// Audits work again after failing.
    AuditRecovered {},
    /// An audit ended with a report.
    AuditFinished {
        /// PASS, WARN or FAIL.
        status: &'static str,
        /// Issues per severity.
        counts: Map<String, Value>,
        /// How long it took.
        duration_ms: u64,
        /// Of uncommitted changes.
        uncommitted: bool,
        /// Commits covered.
        commits: usize,
    },
    /// The fast lane scanned new commits with the built-in scanners.
    FastLane {
        /// Commits scanned.
        commits: usize,
        /// The CRITICAL and HIGH issues it published.
        issues: Vec<String>,
        /// From HEAD seen to its issues published.
        duration_ms: u64,
    },
    /// Issues of uncommitted changes left the inbox: committed (a commit's audit took them
    /// over) or reverted.
    UncommittedSettled {
        /// Their IDs.
        issues: Vec<String>,
    },
    /// Settings changed since the audit before.
    ConfigChanged {
        /// What changed.
        changes: Vec<Value>,
    },
    /// An issue was raised (or seen again) by an audit.
    IssueRaised {
        /// Its ID.
        id: String,
        /// Its severity.
        severity: &'static str,
        /// Its type.
        #[serde(rename = "type")]
        issue_type: &'static str,
        /// Its title.
        title: String,
        /// Its file.
        file: Option<String>,
        /// Its line.
        line: Option<u32>,
        /// Its life in the ledger.
        status: &'static str,
    },
    /// An audit resolved an issue.
    IssueResolved {
        /// Its ID.
        id: String,
        /// Its title.
        title: String,
        /// Whether a commit claimed the fix.
        claimed_fix: bool,
    },
    /// An issue escalated.
    Escalation {
        /// Its ID.
        id: String,
        /// Why.
        reason: &'static str,
    },
    /// A hook ran.
    HookRun {
        /// `critical` or `escalation`.
        event: &'static str,
        /// The issue.
        issue: String,
        /// Its exit code.
        exit_code: Option<i32>,
        /// Why there is none.
        error: Option<String>,
    },
    /// The wait for a fix timed out.
    WaitTimeout {
        /// How long it waited.
        waited_ms: u64,
    },
    /// `auditor reset`.
    Reset {
        /// The state it came in.
        state: &'static str,
    },
    /// SIGHUP re-read the configuration.
    ConfigReloaded {},
    /// A signal stops the daemon.
    Shutdown {
        /// Which.
        signal: String,
    },
    /// Something failed; the daemon goes on.
    Error {
        /// What.
        what: &'static str,
        /// The error.
        message: String,
    },
}

/// An event with its level and the commit it concerns.
#[derive(Debug, Clone, PartialEq)]
pub struct Entry {
    /// The event.
    pub event: LogEvent,
    /// How severe.
    pub level: Level,
    /// The commit it concerns.
    pub commit: Option<String>,
}

impl Entry {
    /// An event at `level` about `commit`.
    pub fn new(event: LogEvent, level: Level, commit: Option<&str>) -> Entry {
        Entry {
            event,
            level,
            commit: commit.map(str::to_string),
        }
    }

    /// Its `event_type`.
    #[cfg(test)]
    pub fn event_type(&self) -> String {
        self.wire().0
    }

    /// Its wire type and details.
    fn wire(&self) -> (String, Value) {
        let mut v = serde_json::to_value(&self.event).unwrap_or_default();
        let kind = v["event_type"].as_str().unwrap_or("unknown").to_string();
        let details = v
            .get_mut("details")
            .map(Value::take)
            .unwrap_or_else(|| Value::Object(Map::new()));
        (kind, details)
    }

    /// Appends it to `log`.
    pub fn append_to(&self, log: &mut EventLog) {
        let (kind, details) = self.wire();
        log.append(&kind, self.level, self.commit.as_deref(), details);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn events_keep_their_wire_names_and_details() {
        let e = Entry::new(
            LogEvent::Transition {
                from: "IDLE",
                to: "DETECTED_CHANGE",
                reason: "new commit".into(),
            },
            Level::Info,
            Some("abc"),
        );
        let (kind, details) = e.wire();
        assert_eq!(kind, "transition");
        assert_eq!(
            details,
            serde_json::json!({"from": "IDLE", "to": "DETECTED_CHANGE", "reason": "new commit"})
        );
        let (kind, details) = Entry::new(LogEvent::AuditRecovered {}, Level::Info, None).wire();
        assert_eq!(
            (kind.as_str(), details),
            ("audit_recovered", serde_json::json!({}))
        );
        let (_, details) = Entry::new(
            LogEvent::ChangeDetected {
                source: "working_tree",
                summary: None,
                uncommitted_files: Some(2),
            },
            Level::Info,
            None,
        )
        .wire();
        assert_eq!(
            details,
            serde_json::json!({"source": "working_tree", "uncommitted_files": 2})
        );
        let (_, details) = Entry::new(
            LogEvent::IssueRaised {
                id: "SEC-001".into(),
                severity: "CRITICAL",
                issue_type: "SECRET_EXPOSURE",
                title: "t".into(),
                file: None,
                line: None,
                status: "new",
            },
            Level::Info,
            None,
        )
        .wire();
        assert_eq!(details["type"], "SECRET_EXPOSURE");
    }
}
