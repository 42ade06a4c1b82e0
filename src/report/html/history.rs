//! The audits' reports as a time series: when, which commits, the verdict, the issues by
//! severity, the tests and the coverage.

use chrono::{DateTime, Utc};
use serde_json::Value;

use crate::store::Layout;

/// The most reports a page reads: the latest ones (a history of thousands of audits reads in
/// well under a second this way, and a chart of more points is no easier to read).
pub const MAX_REPORTS: usize = 1000;

/// One audit.
#[derive(Debug, Clone, PartialEq)]
pub struct AuditPoint {
    /// When it ended.
    pub at: DateTime<Utc>,
    /// The audited commit (the range's last).
    pub commit: String,
    /// Its summary line.
    pub summary: String,
    /// How many commits it covered.
    pub commits: usize,
    /// PASS, WARN or FAIL.
    pub status: String,
    /// Its issues by severity: CRITICAL, HIGH, MEDIUM, LOW.
    pub counts: [u64; 4],
    /// The share of tests that passed, 0 to 1.
    pub pass_rate: Option<f64>,
    /// How long the test stage's checks ran, when any did.
    pub test_ms: Option<u64>,
    /// Line coverage in percent.
    pub coverage: Option<f64>,
}

impl AuditPoint {
    /// Reads one report; none when it is not one (a partial file, another schema).
    pub fn from_report(report: &Value) -> Option<Self> {
        if report["schema_version"] != 1 {
            return None;
        }
        let at = DateTime::parse_from_rfc3339(report["timestamp"].as_str()?)
            .ok()?
            .with_timezone(&Utc);
        let summary = &report["summary"];
        let count = |s: &str| summary[s].as_u64().unwrap_or(0);
        let tests: Vec<u64> = report["checks"]
            .as_array()
            .into_iter()
            .flatten()
            .filter(|c| c["stage"] == "test" && c["outcome"] != "skipped")
            .filter_map(|c| c["duration_ms"].as_u64())
            .collect();
        Some(Self {
            at,
            commit: report["commit_hash"]
                .as_str()
                .unwrap_or_default()
                .to_string(),
            summary: report["commit_summaries"]
                .as_array()
                .and_then(|c| c.last())
                .and_then(|c| c["summary"].as_str())
                .unwrap_or_default()
                .to_string(),
            commits: report["commits"].as_array().map_or(0, Vec::len),
            status: report["status"].as_str().unwrap_or("?").to_string(),
            counts: [
                count("CRITICAL"),
                count("HIGH"),
                count("MEDIUM"),
                count("LOW"),
            ],
            // No test ran: no rate (the report's 0.0 would read as every test failing).
            pass_rate: report["metrics"]["test_pass_rate"]
                .as_f64()
                .filter(|_| report["metrics"]["tests"].is_object()),
            test_ms: (!tests.is_empty()).then(|| tests.iter().sum()),
            coverage: report["metrics"]["coverage"].as_f64(),
        })
    }
}

/// The latest audits' points, oldest first.
pub fn read_history(layout: &Layout) -> Vec<AuditPoint> {
    let mut reports: Vec<_> = layout
        .audit_reports()
        .into_iter()
        .map(|e| (e.metadata().and_then(|m| m.modified()).ok(), e))
        .collect();
    reports.sort_by_key(|(modified, _)| std::cmp::Reverse(*modified));
    let mut points: Vec<_> = reports
        .iter()
        .take(MAX_REPORTS)
        .filter_map(|(modified, e)| Some((*modified, std::fs::read(e.path()).ok()?)))
        .filter_map(|(modified, b)| Some((modified, serde_json::from_slice::<Value>(&b).ok()?)))
        .filter_map(|(modified, v)| Some((modified, AuditPoint::from_report(&v)?)))
        .collect();
    // Reports' times are to the second; audits of one second keep the order they were written.
    points.sort_by(|(ma, a), (mb, b)| a.at.cmp(&b.at).then(ma.cmp(mb)));
    points.into_iter().map(|(_, p)| p).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_report_is_a_point_and_no_tests_is_no_pass_rate() {
        let report = serde_json::json!({
            "schema_version": 1,
            "timestamp": "2026-12-01T10:00:00Z",
            "commit_hash": "ab",
            "commits": ["aa", "ab"],
            "commit_summaries": [{"hash": "aa", "summary": "one"}, {"hash": "ab", "summary": "two"}],
            "status": "FAIL",
            "summary": {"CRITICAL": 1, "HIGH": 0, "MEDIUM": 2, "LOW": 3},
            "metrics": {"coverage": 81.5, "test_pass_rate": 0.0, "tests": null},
            "checks": [
                {"stage": "test", "outcome": "failed", "duration_ms": 1200},
                {"stage": "audit", "outcome": "passed", "duration_ms": 50},
                {"stage": "test", "outcome": "skipped", "duration_ms": 0}
            ]
        });
        let p = AuditPoint::from_report(&report).expect("a point");
        assert_eq!(
            (
                p.commits,
                p.summary.as_str(),
                p.counts,
                p.test_ms,
                p.coverage
            ),
            (2, "two", [1, 0, 2, 3], Some(1200), Some(81.5))
        );
        assert_eq!(p.pass_rate, None);
        assert!(AuditPoint::from_report(&serde_json::json!({"schema_version": 2})).is_none());
    }
}
