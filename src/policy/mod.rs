//! The verdict rules: where a finding sits, what that does to its severity, one issue per
//! lint rule and file, its ID, the audit's status and its security score.

mod group;

pub use group::group_lints;

use std::collections::{BTreeMap, HashMap};

use crate::finding::{Finding, IssueType, Location, Severity};
use crate::git::ChangedFile;

/// The audit's overall verdict.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Status {
    /// No issue.
    Pass,
    /// Issues below `fail_on`.
    Warn,
    /// An issue at or above `fail_on`.
    Fail,
}

impl Status {
    /// Upper-case name used in reports.
    pub fn as_str(self) -> &'static str {
        match self {
            Status::Pass => "PASS",
            Status::Warn => "WARN",
            Status::Fail => "FAIL",
        }
    }
}

/// A finding with its report ID.
#[derive(Debug, Clone)]
pub struct Issue {
    /// `SEC-001`, `LINT-014`: per audit at first, the ledger's stable ID once it has one.
    pub id: String,
    /// The finding.
    pub finding: Finding,
    /// Its life in the ledger, when the audit was recorded in one.
    pub life: Option<IssueLife>,
}

/// An issue's place in the ledger, as the report shows it.
#[derive(Debug, Clone, PartialEq)]
pub struct IssueLife {
    /// New, open or reopened.
    pub status: crate::finding::Life,
    /// How many audited commits it was present in.
    pub seen_in: u32,
    /// The first commit it was found in.
    pub first_seen: String,
    /// The operator accepted it (`auditor inbox ack`): kept out of the inbox and the gate.
    pub acknowledged: bool,
}

/// Labels each non-secret finding introduced, touched or preexisting and adjusts severity.
///
/// Only lint findings are re-ranked: a build break or a failing test is caused by the change
/// wherever its file is, and a secret is a leak on any line. Secrets arrive labelled, and so
/// do the guards' findings: each is what the commit did (a test it deleted, a file it added),
/// found by comparing the file before and after, whether or not it has a line.
pub fn locate(findings: &mut [Finding], changes: &[ChangedFile]) {
    let by_path: HashMap<&str, &ChangedFile> =
        changes.iter().map(|c| (c.path.as_str(), c)).collect();
    for f in findings.iter_mut() {
        // The environment's failings are no commit's: they keep the location they were given.
        if f.issue_type == IssueType::SecretExposure
            || f.issue_type == IssueType::TestEnvironment
            || f.check == "guards"
        {
            continue;
        }
        f.location = match f.file.as_deref().map(|p| by_path.get(p)) {
            None => Location::Introduced, // about the commit as a whole
            Some(None) => Location::Preexisting,
            Some(Some(change)) => match f.line {
                Some(line) if change.added_lines.contains(&line) => Location::Introduced,
                _ => Location::Touched,
            },
        };
        if f.issue_type == IssueType::Lint {
            f.severity = match f.location {
                Location::Introduced => f.severity,
                Location::Touched => f.severity.lowered(),
                Location::Preexisting => Severity::Low,
            };
        }
    }
}

/// A stable identity for a non-secret finding: check, rule, file and the flagged line's
/// normalised text, never its number, so it survives unrelated edits that shift lines.
pub fn fingerprint(f: &Finding, line_text: Option<&str>) -> String {
    let normalised: String = match line_text {
        Some(t) => t.split_whitespace().collect::<Vec<_>>().join(" "),
        // No line to anchor on: the message without its numbers.
        None => f.title.chars().filter(|c| !c.is_ascii_digit()).collect(),
    };
    let hex = crate::bytes::short_digest([
        f.check.as_str(),
        f.rule.as_str(),
        f.file.as_deref().unwrap_or(""),
        normalised.as_str(),
    ]);
    format!("sha256:{hex}")
}

/// Ranks findings (most severe first) and numbers them per type prefix.
pub fn assign_ids(mut findings: Vec<Finding>) -> Vec<Issue> {
    findings.sort_by(|a, b| {
        b.severity
            .cmp(&a.severity)
            .then(a.issue_type.cmp(&b.issue_type))
            .then(a.file.cmp(&b.file))
            .then(a.line.cmp(&b.line))
            .then(a.rule.cmp(&b.rule))
            // The same rule at the same place in two commits (a history): the order of the
            // parallel readers must not decide which is SEC-003.
            .then(a.commit.cmp(&b.commit))
            .then(a.fingerprint.cmp(&b.fingerprint))
            .then(a.description.cmp(&b.description))
    });
    let mut counters: BTreeMap<&'static str, u32> = BTreeMap::new();
    findings
        .into_iter()
        .map(|finding| {
            let prefix = finding.issue_type.id_prefix();
            let n = counters.entry(prefix).or_insert(0);
            *n += 1;
            Issue {
                id: format!("{prefix}-{n:03}"),
                finding,
                life: None,
            }
        })
        .collect()
}

/// FAIL at or above `fail_on`, WARN below it, PASS with no issue.
pub fn status(issues: &[Issue], fail_on: Severity) -> Status {
    match issues.iter().map(|i| i.finding.severity).max() {
        None => Status::Pass,
        Some(worst) if worst >= fail_on => Status::Fail,
        Some(_) => Status::Warn,
    }
}

/// The security score, from security findings only:
/// A none, B only LOW, C a MEDIUM, D a HIGH, F a CRITICAL (any exposed secret).
pub fn security_score(issues: &[Issue]) -> char {
    match issues
        .iter()
        .filter(|i| i.finding.issue_type.is_security())
        .map(|i| i.finding.severity)
        .max()
    {
        None => 'A',
        Some(Severity::Low) => 'B',
        Some(Severity::Medium) => 'C',
        Some(Severity::High) => 'D',
        Some(Severity::Critical) => 'F',
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::git::FileStatus;
    use std::collections::BTreeSet;

    fn lint(file: &str, line: u32, sev: Severity) -> Finding {
        Finding {
            check: "shellcheck".into(),
            rule: "SC2086".into(),
            issue_type: IssueType::Lint,
            severity: sev,
            file: Some(file.into()),
            line: Some(line),
            column: None,
            title: "t".into(),
            description: String::new(),
            remediation: String::new(),
            snippet: None,
            location: Location::Preexisting,
            commit: None,
            fingerprint: String::new(),
            redacted: None,
        }
    }

    #[test]
    fn a_guard_finding_about_a_whole_file_is_what_the_commit_did() {
        let changes = vec![ChangedFile {
            exact: "tests/test_api.py".into(),
            path: "tests/test_api.py".into(),
            status: FileStatus::Deleted,
            old_path: None,
            added_lines: BTreeSet::new(),
            blob: None,
        }];
        let mut findings = vec![Finding {
            check: "guards".into(),
            issue_type: IssueType::TestDeleted,
            line: None,
            location: Location::Introduced,
            ..lint("tests/test_api.py", 0, Severity::High)
        }];
        locate(&mut findings, &changes);
        assert_eq!(findings[0].location, Location::Introduced);
    }

    #[test]
    fn ids_do_not_depend_on_the_order_findings_arrive_in() {
        let at = |commit: &str| Finding {
            commit: Some(commit.into()),
            ..lint("keyring.gpg", 32, Severity::Critical)
        };
        let ids = |findings: Vec<Finding>| -> Vec<(String, Option<String>)> {
            let mut v: Vec<_> = assign_ids(findings)
                .into_iter()
                .map(|i| (i.id, i.finding.commit))
                .collect();
            v.sort();
            v
        };
        assert_eq!(
            ids(vec![at("1e3eefb"), at("1e69084")]),
            ids(vec![at("1e69084"), at("1e3eefb")])
        );
    }

    #[test]
    fn location_rules() {
        let changes = vec![ChangedFile {
            exact: "a.sh".into(),
            path: "a.sh".into(),
            status: FileStatus::Modified,
            old_path: None,
            added_lines: BTreeSet::from([3]),
            blob: None,
        }];
        let mut f = vec![
            lint("a.sh", 3, Severity::High),
            lint("a.sh", 9, Severity::High),
            lint("b.sh", 1, Severity::High),
        ];
        locate(&mut f, &changes);
        let got: Vec<_> = f.iter().map(|f| (f.location, f.severity)).collect();
        assert_eq!(
            got,
            [
                (Location::Introduced, Severity::High),
                (Location::Touched, Severity::Medium),
                (Location::Preexisting, Severity::Low)
            ]
        );
    }

    #[test]
    fn ids_rank_and_number_per_prefix() {
        let issues = assign_ids(vec![
            lint("a", 1, Severity::Low),
            lint("b", 1, Severity::High),
        ]);
        assert_eq!(issues[0].id, "LINT-001");
        assert_eq!(issues[0].finding.severity, Severity::High);
        assert_eq!(issues[1].id, "LINT-002");
        assert_eq!(status(&issues, Severity::High), Status::Fail);
        assert_eq!(status(&issues, Severity::Critical), Status::Warn);
        assert_eq!(status(&[], Severity::High), Status::Pass);
        assert_eq!(security_score(&issues), 'A');
    }

    #[test]
    fn fingerprint_ignores_line_numbers_and_whitespace() {
        let a = lint("a.sh", 3, Severity::High);
        let b = lint("a.sh", 23, Severity::High);
        assert_eq!(
            fingerprint(&a, Some("echo  $x")),
            fingerprint(&b, Some(" echo $x"))
        );
        assert_ne!(
            fingerprint(&a, Some("echo $x")),
            fingerprint(&a, Some("echo $y"))
        );
    }
}
