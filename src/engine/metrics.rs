//! VERIFYING's metrics against history: coverage under its minimum or dropped since the
//! previous audit, and a test stage much slower than usual.

use crate::config::MetricSettings;
use crate::finding::{Finding, IssueType, Location, Severity};
use crate::ledger::{Ledger, MetricSample};
use crate::policy::Issue;

/// Samples kept in the ledger.
const KEEP: usize = 50;
/// Recent test-stage times a regression is measured against, and the fewest that count.
const WINDOW: usize = 5;
const MIN_SAMPLES: usize = 3;

#[expect(
    clippy::too_many_arguments,
    reason = "one constructor for three similar issues"
)]
fn issue(
    check: &str,
    rule: &str,
    issue_type: IssueType,
    severity: Severity,
    title: String,
    description: String,
    remediation: &str,
    commit: &str,
) -> Issue {
    Issue {
        id: String::new(),
        life: None,
        finding: Finding {
            check: check.into(),
            rule: rule.into(),
            issue_type,
            severity,
            file: None,
            line: None,
            column: None,
            title,
            description,
            remediation: remediation.into(),
            snippet: None,
            location: Location::Introduced,
            commit: Some(commit.to_string()),
            // One identity per rule: the same problem persisting is the same issue.
            fingerprint: format!("metrics:{rule}"),
            redacted: None,
        },
    }
}

/// Issues from this audit's coverage and test time, measured against the ledger's history.
pub fn issues(
    ledger: &Ledger,
    coverage: Option<f64>,
    test_ms: Option<u64>,
    settings: &MetricSettings,
    commit: &str,
) -> Vec<Issue> {
    let mut out = Vec::new();
    if let (Some(c), Some(min)) = (coverage, settings.coverage_min) {
        if c < min {
            out.push(issue(
                "coverage",
                "coverage-min",
                IssueType::Coverage,
                Severity::Medium,
                format!("Test coverage {c:.1}% is under the minimum {min:.1}%"),
                format!("Line coverage measured after the tests is {c:.1}%; `[metrics] coverage_min` is {min:.1}%."),
                "Add tests for the code this change added or touched, until coverage is back above the minimum.",
                commit,
            ));
        }
    }
    let previous = ledger.metrics.iter().rev().find_map(|m| m.coverage);
    if let (Some(c), Some(p)) = (coverage, previous) {
        if p - c > settings.coverage_drop_max {
            out.push(issue(
                "coverage",
                "coverage-drop",
                IssueType::Coverage,
                Severity::Medium,
                format!("Test coverage dropped from {p:.1}% to {c:.1}%"),
                format!(
                    "Line coverage fell {:.1} points since the previous audited commit ({p:.1}% → {c:.1}%); the allowed drop is {:.1} points.",
                    p - c,
                    settings.coverage_drop_max
                ),
                "Cover the new code with tests, or restore the tests this change removed or disabled.",
                commit,
            ));
        }
    }
    if let Some(now) = test_ms {
        let mut recent: Vec<u64> = ledger
            .metrics
            .iter()
            .rev()
            .filter_map(|m| m.test_ms)
            .take(WINDOW)
            .collect();
        if recent.len() >= MIN_SAMPLES {
            recent.sort_unstable();
            let median = recent[recent.len() / 2].max(1);
            #[expect(
                clippy::cast_precision_loss,
                reason = "durations in ms fit an f64 exactly"
            )]
            let ratio = now as f64 / median as f64;
            if ratio > settings.perf_regression_ratio {
                out.push(issue(
                    "performance",
                    "test-duration",
                    IssueType::PerformanceRegression,
                    Severity::High,
                    format!("The test stage is {ratio:.1}x slower than usual"),
                    format!(
                        "The test stage took {:.1} s; the median of the last {} audits is {:.1} s ({ratio:.1}x; the limit is {:.1}x).",
                        now as f64 / 1000.0,
                        recent.len(),
                        median as f64 / 1000.0,
                        settings.perf_regression_ratio
                    ),
                    "Find what this change made slower (a new sleep, a quadratic loop, an unmocked network call) and fix it; if the slowdown is intended, say so in the commit and acknowledge the issue.",
                    commit,
                ));
            }
        }
    }
    out
}

/// Records this audit's metrics.
pub fn record(ledger: &mut Ledger, commit: &str, test_ms: Option<u64>, coverage: Option<f64>) {
    if test_ms.is_none() && coverage.is_none() {
        return;
    }
    ledger.metrics.push(MetricSample {
        commit: commit.to_string(),
        test_ms,
        coverage,
    });
    let excess = ledger.metrics.len().saturating_sub(KEEP);
    ledger.metrics.drain(..excess);
}
