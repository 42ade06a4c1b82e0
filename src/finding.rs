//! The domain vocabulary every stage shares: severities, issue types, locations, findings and
//! where an issue is in its life.

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Serialize};

/// How urgent a finding is, ordered from least to most severe.
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, serde::Serialize, serde::Deserialize,
)]
#[serde(rename_all = "UPPERCASE")]
pub enum Severity {
    /// Logged only.
    Low,
    /// Batched feedback.
    Medium,
    /// Urgent feedback, top of the queue.
    High,
    /// Blocking: fix before anything else.
    Critical,
}

impl Severity {
    /// Every severity, most severe first (the order feedback is ranked in).
    pub const RANKED: [Severity; 4] = [
        Severity::Critical,
        Severity::High,
        Severity::Medium,
        Severity::Low,
    ];

    /// The upper-case name used in reports, file names and config.
    pub fn as_str(self) -> &'static str {
        match self {
            Severity::Low => "LOW",
            Severity::Medium => "MEDIUM",
            Severity::High => "HIGH",
            Severity::Critical => "CRITICAL",
        }
    }

    /// One level lower, saturating at LOW.
    pub fn lowered(self) -> Severity {
        match self {
            Severity::Critical => Severity::High,
            Severity::High => Severity::Medium,
            Severity::Medium | Severity::Low => Severity::Low,
        }
    }

    /// One level higher, saturating at CRITICAL (escalation).
    pub fn raised(self) -> Severity {
        match self {
            Severity::Low => Severity::Medium,
            Severity::Medium => Severity::High,
            Severity::High | Severity::Critical => Severity::Critical,
        }
    }

    /// What the design document says to do at this level.
    pub fn action(self) -> &'static str {
        match self {
            Severity::Critical => "CRITICAL - Immediate Fix Required.",
            Severity::High => "HIGH - Urgent: fix before starting new work.",
            Severity::Medium => "MEDIUM - Batched: fix when convenient, before it accumulates.",
            Severity::Low => "LOW - Logged only.",
        }
    }
}

impl fmt::Display for Severity {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for Severity {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s.to_ascii_uppercase().as_str() {
            "LOW" => Ok(Severity::Low),
            "MEDIUM" => Ok(Severity::Medium),
            "HIGH" => Ok(Severity::High),
            "CRITICAL" => Ok(Severity::Critical),
            _ => Err(format!(
                "unknown severity `{s}` (expected CRITICAL, HIGH, MEDIUM or LOW)"
            )),
        }
    }
}

/// What kind of problem a finding is; decides its ID prefix. Written by its upper-case name
/// (`SECRET_EXPOSURE`) in the ledger and the reports.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(into = "&'static str", try_from = "String")]
pub enum IssueType {
    /// A credential committed to the repository.
    SecretExposure,
    /// The code does not compile.
    BuildBreak,
    /// A test failed.
    TestFailure,
    /// The test command ran past its timeout.
    TestTimeout,
    /// A linter's diagnostic.
    Lint,
    /// A configured check's program is not installed.
    CheckUnavailable,
    /// A static check ran past its timeout.
    CheckTimeout,
    /// A check failed in a way that gives no trustworthy result.
    CheckError,
    /// A check changed tracked files of the audited tree (a fixing linter, a test writing
    /// into the repository).
    CheckModifiedTree,
    /// Commits asked not to be audited more often than the policy allows.
    AuditSkipped,
    /// Commits the daemon could not audit, attempt after attempt.
    AuditFailed,
    /// A `[fix-ID]` claim the audit does not confirm.
    IneffectiveFix,
    /// Test coverage under the minimum, or dropped too far.
    Coverage,
    /// The test stage got much slower.
    PerformanceRegression,
    /// Fewer tests ran, or more were skipped, than before, and no deleted test or added
    /// skip explains it (a focus marker, a collection filter, a test file no longer found).
    TestsNotRun,
    /// The test command could not start: the environment lacks a module, a package or a
    /// program the commit did not ask for.
    TestEnvironment,
    /// A skip, ignore or focus marker added to a test.
    TestDisabled,
    /// Tests deleted without replacement.
    TestDeleted,
    /// A test's assertions dropped or replaced by a constant truth.
    AssertionRemoved,
    /// The auditor's own configuration, inbox or state, the CI or the test runner changed.
    SupervisionTampering,
    /// Merge conflict markers committed.
    ConflictMarker,
    /// A stub where code should be.
    StubCode,
    /// A credentials file or key added.
    SensitiveFile,
    /// A very large or binary file added.
    LargeFile,
    /// Debug output left in library code.
    DebugLeftover,
    /// A finding a pre-existing `auditor:allow` pragma suppressed.
    GuardSuppressed,
}

impl From<IssueType> for &'static str {
    fn from(t: IssueType) -> &'static str {
        t.as_str()
    }
}

impl TryFrom<String> for IssueType {
    type Error = String;

    fn try_from(name: String) -> Result<IssueType, String> {
        IssueType::ALL
            .into_iter()
            .find(|t| t.as_str() == name)
            .ok_or_else(|| format!("unknown issue type `{name}`"))
    }
}

impl IssueType {
    /// Every type.
    pub const ALL: [IssueType; 26] = [
        IssueType::SecretExposure,
        IssueType::BuildBreak,
        IssueType::TestFailure,
        IssueType::TestTimeout,
        IssueType::Lint,
        IssueType::CheckUnavailable,
        IssueType::CheckTimeout,
        IssueType::CheckError,
        IssueType::CheckModifiedTree,
        IssueType::AuditSkipped,
        IssueType::AuditFailed,
        IssueType::IneffectiveFix,
        IssueType::Coverage,
        IssueType::PerformanceRegression,
        IssueType::TestsNotRun,
        IssueType::TestEnvironment,
        IssueType::TestDisabled,
        IssueType::TestDeleted,
        IssueType::AssertionRemoved,
        IssueType::SupervisionTampering,
        IssueType::ConflictMarker,
        IssueType::StubCode,
        IssueType::SensitiveFile,
        IssueType::LargeFile,
        IssueType::DebugLeftover,
        IssueType::GuardSuppressed,
    ];

    /// The upper-case name used in reports.
    pub fn as_str(self) -> &'static str {
        match self {
            IssueType::SecretExposure => "SECRET_EXPOSURE",
            IssueType::BuildBreak => "BUILD_BREAK",
            IssueType::TestFailure => "TEST_FAILURE",
            IssueType::TestTimeout => "TEST_TIMEOUT",
            IssueType::Lint => "LINT",
            IssueType::CheckUnavailable => "CHECK_UNAVAILABLE",
            IssueType::CheckTimeout => "CHECK_TIMEOUT",
            IssueType::CheckError => "CHECK_ERROR",
            IssueType::CheckModifiedTree => "CHECK_MODIFIED_TREE",
            IssueType::AuditSkipped => "AUDIT_SKIPPED",
            IssueType::AuditFailed => "AUDIT_FAILED",
            IssueType::IneffectiveFix => "INEFFECTIVE_FIX",
            IssueType::Coverage => "COVERAGE",
            IssueType::PerformanceRegression => "PERFORMANCE_REGRESSION",
            IssueType::TestsNotRun => "TESTS_NOT_RUN",
            IssueType::TestEnvironment => "TEST_ENVIRONMENT",
            IssueType::TestDisabled => "TEST_DISABLED",
            IssueType::TestDeleted => "TEST_DELETED",
            IssueType::AssertionRemoved => "ASSERTION_REMOVED",
            IssueType::SupervisionTampering => "SUPERVISION_TAMPERING",
            IssueType::ConflictMarker => "CONFLICT_MARKER",
            IssueType::StubCode => "STUB_CODE",
            IssueType::SensitiveFile => "SENSITIVE_FILE",
            IssueType::LargeFile => "LARGE_FILE",
            IssueType::DebugLeftover => "DEBUG_LEFTOVER",
            IssueType::GuardSuppressed => "GUARD_SUPPRESSED",
        }
    }

    /// The prefix of issue IDs of this type (SEC-001, TEST-002, LINT-014).
    pub fn id_prefix(self) -> &'static str {
        match self {
            IssueType::SecretExposure => "SEC",
            IssueType::BuildBreak => "BUILD",
            IssueType::TestFailure
            | IssueType::TestTimeout
            | IssueType::TestsNotRun
            | IssueType::TestEnvironment => "TEST",
            IssueType::Lint => "LINT",
            IssueType::CheckUnavailable
            | IssueType::CheckTimeout
            | IssueType::CheckError
            | IssueType::CheckModifiedTree => "CHK",
            IssueType::AuditSkipped | IssueType::AuditFailed => "PROC",
            IssueType::IneffectiveFix => "FIX",
            IssueType::Coverage => "COV",
            IssueType::PerformanceRegression => "PERF",
            IssueType::TestDisabled
            | IssueType::TestDeleted
            | IssueType::AssertionRemoved
            | IssueType::SupervisionTampering
            | IssueType::ConflictMarker
            | IssueType::StubCode
            | IssueType::SensitiveFile
            | IssueType::LargeFile
            | IssueType::DebugLeftover
            | IssueType::GuardSuppressed => "GRD",
        }
    }

    /// Whether findings of this type count towards the security score.
    pub fn is_security(self) -> bool {
        matches!(
            self,
            IssueType::SecretExposure | IssueType::SensitiveFile | IssueType::SupervisionTampering
        )
    }
}

impl fmt::Display for IssueType {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Where a finding sits relative to what the audited commits changed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Location {
    /// On a line the audited commits added or changed.
    Introduced,
    /// Elsewhere in a file the audited commits changed.
    Touched,
    /// In a file the audited commits did not change, or not tied to a file.
    Preexisting,
}

impl Location {
    /// The lower-case name used in reports.
    pub fn as_str(self) -> &'static str {
        match self {
            Location::Introduced => "introduced",
            Location::Touched => "touched",
            Location::Preexisting => "preexisting",
        }
    }
}

/// One problem found by a scanner or a check, before IDs are assigned.
#[derive(Debug, Clone, PartialEq)]
pub struct Finding {
    /// Which check produced it (`secrets`, `shellcheck`, ...).
    pub check: String,
    /// The rule or code within the check (`aws-access-key-id`, `SC2086`).
    pub rule: String,
    /// What kind of problem it is.
    pub issue_type: IssueType,
    /// Its severity after policy was applied.
    pub severity: Severity,
    /// Repository-relative path, when the finding is about a file.
    pub file: Option<String>,
    /// 1-based line, when known.
    pub line: Option<u32>,
    /// 1-based column, when known.
    pub column: Option<u32>,
    /// One line saying what is wrong.
    pub title: String,
    /// What was found, in detail (already redacted).
    pub description: String,
    /// A concrete fix.
    pub remediation: String,
    /// A few lines of context (already redacted), when useful.
    pub snippet: Option<String>,
    /// Where it sits relative to the change.
    pub location: Location,
    /// The commit it was found in (for per-commit scanners), else the audited commit.
    pub commit: Option<String>,
    /// A stable identity: never built from line numbers.
    pub fingerprint: String,
    /// The redacted form of a secret (secrets only).
    pub redacted: Option<String>,
}

/// Where an issue is in its life.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Life {
    /// Found by the latest audit that saw it, for the first time.
    New,
    /// Still present in a later audit.
    Open,
    /// Absent from a later audit that looked at the same file with the same check.
    Resolved,
    /// Back after being resolved.
    Reopened,
}

impl Life {
    /// The lower-case name used in reports.
    pub fn as_str(self) -> &'static str {
        match self {
            Life::New => "new",
            Life::Open => "open",
            Life::Resolved => "resolved",
            Life::Reopened => "reopened",
        }
    }

    /// New, open or reopened.
    pub fn is_open(self) -> bool {
        self != Life::Resolved
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The ledger stores issue types by name: every type reads back as itself, and a name
    /// that is none of them is an error, not some other type.
    #[test]
    fn issue_types_round_trip_by_name() {
        for t in IssueType::ALL {
            let json = serde_json::to_string(&t).expect("serialise");
            assert_eq!(json, format!("\"{}\"", t.as_str()));
            assert_eq!(serde_json::from_str::<IssueType>(&json).ok(), Some(t));
        }
        let names: std::collections::BTreeSet<&str> =
            IssueType::ALL.iter().map(|t| t.as_str()).collect();
        assert_eq!(names.len(), IssueType::ALL.len());
        assert!(serde_json::from_str::<IssueType>("\"NOT_A_TYPE\"").is_err());
    }
}
