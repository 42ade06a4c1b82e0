//! The audit report's model: everything one audit found and did, before any wire format.
//! Below the renderers (`json`, `sarif`, `human`), the inbox and the engine that builds it.

use std::path::PathBuf;

use chrono::{DateTime, Utc};

use crate::checks::CheckRun;
use crate::config::WorkspaceMode;
use crate::finding::Severity;
use crate::parsers::TestCounts;
use crate::policy::{Issue, Status};

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

impl ScanStats {
    /// Whether the secret scanner reads a blob of `size` bytes (`binary`: whether it is, when
    /// it was read): not over the size cap, not binary. Counts the blob either way.
    pub fn admit(&mut self, size: u64, binary: Option<bool>, max_size: u64) -> bool {
        if size > max_size {
            self.skipped_large += 1;
            return false;
        }
        match binary {
            Some(true) => {
                self.skipped_binary += 1;
                false
            }
            Some(false) => {
                self.blobs += 1;
                self.bytes += size;
                true
            }
            None => false,
        }
    }

    /// Adds what another scan read.
    pub fn add(&mut self, other: ScanStats) {
        self.blobs += other.blobs;
        self.bytes += other.bytes;
        self.skipped_binary += other.skipped_binary;
        self.skipped_large += other.skipped_large;
    }
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
    /// Commits `[skip-audit]` left out.
    pub skipped: Vec<CommitInfo>,
    /// An audit of uncommitted changes (the target is a snapshot, `base` is HEAD).
    pub uncommitted: bool,
    /// An audit of a range the user asked for (`A..B`), reported under the range's name.
    pub range: bool,
    /// The inbox files this audit wrote, updated or moved.
    pub inbox_files: Vec<PathBuf>,
    /// Line coverage in percent, when measured (`[metrics] coverage`).
    pub coverage: Option<f64>,
    /// Issues this audit resolved (ledger).
    pub resolved: Vec<crate::ledger::Resolution>,
    /// Issues that escalated with this audit.
    pub escalated: Vec<String>,
    /// Issues the operator accepted that are still present.
    pub acknowledged: Vec<crate::ledger::Accepted>,
    /// Hooks run for CRITICAL issues and escalations.
    pub hook_runs: Vec<crate::hooks::HookRun>,
    /// Hooks this audit made due and that have not run yet (see `engine::run_due_hooks`).
    pub due_hooks: Vec<crate::hooks::DueHook>,
    /// Settings that changed since the audit before (`config::supervision`).
    pub settings_changes: Vec<crate::config::supervision::Change>,
    /// The acknowledged issue that accepted a weakening of the settings in this audit.
    pub settings_accepted_by: Option<String>,
}

/// Counts issues by severity, most severe first.
pub fn severity_counts(report: &AuditReport) -> Vec<(Severity, usize)> {
    Severity::RANKED
        .iter()
        .map(|s| {
            (
                *s,
                report
                    .issues
                    .iter()
                    .filter(|i| i.finding.severity == *s)
                    .count(),
            )
        })
        .collect()
}
