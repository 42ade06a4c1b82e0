//! What an audit produces: the domain report, before any wire format.

use std::path::PathBuf;

use chrono::{DateTime, Utc};

use crate::checks::CheckRun;
use crate::config::WorkspaceMode;
use crate::finding::Severity;
use crate::parsers::TestCounts;
use crate::policy::{Issue, Status};

/// The stage an audit is in, as the daemon's states name them.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Phase {
    /// Static checks and built-in scanners.
    Auditing,
    /// The test suite.
    Testing,
    /// Aggregating results and metrics.
    Verifying,
    /// Writing the report.
    Reporting,
    /// Writing the inbox.
    Communicating,
}

impl Phase {
    /// The state name users read.
    pub fn as_str(self) -> &'static str {
        match self {
            Phase::Auditing => "AUDITING",
            Phase::Testing => "TESTING",
            Phase::Verifying => "VERIFYING",
            Phase::Reporting => "REPORTING",
            Phase::Communicating => "COMMUNICATING",
        }
    }
}

/// How the audit is to run.
#[derive(Debug, Clone)]
pub struct AuditOptions {
    /// Run the test stage.
    pub run_tests: bool,
    /// Write the report and the inbox (off for dry runs).
    pub write: bool,
}

/// What the built-in scanners read.
#[derive(Debug, Clone, Copy, Default)]
pub struct ScanStats {
    /// Blobs scanned.
    pub blobs: usize,
    /// Bytes scanned.
    pub bytes: u64,
    /// Binary blobs skipped.
    pub skipped_binary: usize,
    /// Blobs over the size cap skipped.
    pub skipped_large: usize,
}

/// Whether the test stage ran.
#[derive(Debug, Clone, PartialEq)]
pub enum TestStage {
    /// It ran.
    Ran,
    /// It was skipped, and why.
    Skipped(String),
    /// No test check is configured or detected.
    NotConfigured,
}

/// One commit the audit covered.
#[derive(Debug, Clone)]
pub struct CommitInfo {
    /// Full hash.
    pub hash: String,
    /// First line of its message.
    pub summary: String,
}

/// Everything one audit found and did.
#[derive(Debug, Clone)]
pub struct AuditReport {
    /// When the audit started.
    pub timestamp: DateTime<Utc>,
    /// The audited repository.
    pub repo_root: PathBuf,
    /// The rev or range audited, as given.
    pub spec: String,
    /// The newest commit covered.
    pub target: String,
    /// What changes were measured against.
    pub base: Option<String>,
    /// Every commit covered, oldest first.
    pub commits: Vec<CommitInfo>,
    /// The verdict.
    pub status: Status,
    /// The policy's threshold.
    pub fail_on: Severity,
    /// A–F from the security findings.
    pub security_score: char,
    /// Ranked issues with IDs.
    pub issues: Vec<Issue>,
    /// Every check, built-in and configured, including skipped ones.
    pub checks: Vec<CheckRun>,
    /// Whether tests ran.
    pub test_stage: TestStage,
    /// JUnit counts, when known.
    pub tests: Option<TestCounts>,
    /// Passed / total, when tests ran.
    pub test_pass_rate: Option<f64>,
    /// What the scanner read.
    pub scan: ScanStats,
    /// Files the audited commits changed.
    pub changed_files: usize,
    /// Where checks ran, when any did.
    pub workspace: Option<PathBuf>,
    /// Snapshot or live.
    pub workspace_mode: WorkspaceMode,
    /// Wall-clock time of the audit.
    pub duration_ms: u64,
    /// Config files read.
    pub config_sources: Vec<PathBuf>,
}
