//! How an audit is asked to run (`AuditOptions`) and what it tells its caller as it goes
//! (`Progress`).

use std::path::PathBuf;
use std::sync::Arc;
use std::sync::atomic::AtomicBool;

use crate::checks::CheckOutcome;
use crate::config::Stage;
use crate::finding::Finding;
use crate::report::CommitInfo;

/// What an audit reports as it goes: the facts the daemon's state machine decides on, and
/// each check's start and end for the event log.
#[derive(Debug, Clone)]
pub enum Progress {
    /// The static stage (built-in scanners, linters) started.
    Auditing,
    /// A configured check started.
    CheckStarted {
        /// Its name.
        name: String,
        /// Its stage.
        stage: Stage,
    },
    /// A configured check ended.
    CheckFinished {
        /// Its name.
        name: String,
        /// Its stage.
        stage: Stage,
        /// How it ended.
        outcome: CheckOutcome,
        /// How long it ran.
        duration_ms: u64,
        /// How many findings it produced.
        findings: usize,
    },
    /// The static stage ended.
    StaticDone {
        /// Something CRITICAL was found.
        critical: bool,
        /// The test stage runs next.
        tests_next: bool,
    },
    /// The test stage ended.
    TestsDone,
    /// Findings are located, fingerprinted and ranked.
    Verified,
    /// The report file was written.
    ReportWritten {
        /// Where.
        path: PathBuf,
        /// Issues at MEDIUM or above go to the inbox next.
        to_send: bool,
    },
    /// The inbox files were written.
    FeedbackWritten {
        /// The files written (empty when everything was already sent).
        files: Vec<PathBuf>,
        /// An issue at HIGH or above is in this audit.
        blocking: bool,
    },
}

/// Receives an audit's progress; shared with the tasks that run checks.
pub type ProgressSink = Arc<dyn Fn(Progress) + Send + Sync>;

/// A progress sink that drops everything.
pub fn no_progress() -> ProgressSink {
    Arc::new(|_| {})
}

/// How the audit is to run.
#[derive(Debug, Clone, Default)]
pub struct AuditOptions {
    /// Run the test stage.
    pub run_tests: bool,
    /// Write the report and the inbox (off for dry runs).
    pub write: bool,
    /// Set by the daemon to abandon the audit (preemption, shutdown): nothing is written.
    pub cancel: Option<Arc<AtomicBool>>,
    /// Commits `[skip-audit]` left out of this audit, to list in the report.
    pub skipped: Vec<CommitInfo>,
    /// Every commit of the batch asked to be skipped: only the built-in scanners run.
    pub builtins_only: bool,
    /// Findings the caller adds (the daemon's skip-abuse issue).
    pub extra_findings: Vec<Finding>,
    /// The target is a snapshot of uncommitted changes on top of `base`, not a commit.
    pub uncommitted: bool,
    /// The fast lane: only the built-in scanners, their CRITICAL and HIGH issues published
    /// at once (ledger, inbox, the fast-lane verdict), no report; the batch's full audit
    /// follows and decides the rest.
    pub fast_lane: bool,
}

impl AuditOptions {
    /// Whether the caller asked to abandon the audit.
    pub fn cancelled(&self) -> bool {
        self.cancel
            .as_ref()
            .is_some_and(|c| c.load(std::sync::atomic::Ordering::SeqCst))
    }
}
