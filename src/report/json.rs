//! The JSON report (`logs/audit/report_<hash>.json`), schema version 1.

use serde_json::{Value, json};

use super::{AuditReport, TestStage, severity_counts};
use crate::policy::Issue;

/// The schema version written in every report.
pub const SCHEMA_VERSION: u32 = 1;

/// An acknowledged issue as JSON (reports and `status --json`).
pub fn accepted_json(a: &crate::ledger::Accepted) -> Value {
    json!({
        "id": a.id, "severity": a.severity.as_str(), "title": a.title,
        "reason": a.ack.reason, "at": a.ack.at, "from": a.ack.from,
    })
}

/// One issue as JSON.
pub fn issue(i: &Issue) -> Value {
    let f = &i.finding;
    let mut v = json!({
        "id": i.id,
        "severity": f.severity.as_str(),
        "type": f.issue_type.as_str(),
        "title": f.title,
        "file": f.file,
        "line": f.line,
        "column": f.column,
        "description": f.description,
        "remediation": f.remediation,
        "check": f.check,
        "rule": f.rule,
        "location": f.location.as_str(),
        "commit": f.commit,
        "fingerprint": f.fingerprint,
    });
    if let Some(r) = &f.redacted {
        v["redacted"] = json!(r);
    }
    if let Some(life) = &i.life {
        v["status"] = json!(life.status.as_str());
        v["seen_in_commits"] = json!(life.seen_in);
        v["first_seen"] = json!(life.first_seen);
        v["acknowledged"] = json!(life.acknowledged);
    }
    if let Some(s) = &f.snippet {
        v["snippet"] = json!(s);
    }
    v
}

/// The whole report as a JSON value.
pub fn value(r: &AuditReport) -> Value {
    let counts: serde_json::Map<String, Value> = severity_counts(r)
        .into_iter()
        .map(|(s, n)| (s.as_str().to_string(), json!(n)))
        .collect();
    let (test_stage, test_note) = match &r.test_stage {
        TestStage::Ran => ("ran", None),
        TestStage::Skipped(why) => ("skipped", Some(why.as_str())),
        TestStage::NotConfigured => ("not_configured", None),
    };
    json!({
        "schema_version": SCHEMA_VERSION,
        "tool": { "name": "auditor", "version": env!("CARGO_PKG_VERSION") },
        "timestamp": r.timestamp.to_rfc3339_opts(chrono::SecondsFormat::Secs, true),
        "repository": r.repo_root.to_string_lossy(),
        "audited": r.spec,
        "commit_hash": r.target,
        "base": r.base,
        "commits": r.commits.iter().map(|c| c.hash.clone()).collect::<Vec<_>>(),
        "commit_summaries": r.commits.iter().map(|c| json!({"hash": c.hash, "summary": c.summary})).collect::<Vec<_>>(),
        "uncommitted": r.uncommitted,
        "skipped_commits": r.skipped.iter().map(|c| json!({"hash": c.hash, "summary": c.summary})).collect::<Vec<_>>(),
        "resolved": r.resolved.iter().map(|x| json!({
            "id": x.id, "severity": x.severity.as_str(), "type": x.issue_type, "title": x.title,
            "file": x.file, "resolved_in": x.resolved_in, "claimed_fix": x.claimed,
        })).collect::<Vec<_>>(),
        "escalated": r.escalated,
        "acknowledged": r.acknowledged.iter().map(accepted_json).collect::<Vec<_>>(),
        "hooks": r.hook_runs.iter().map(|h| json!({
            "event": h.event, "issue": h.issue,
            "exit_code": h.outcome.as_ref().ok(), "error": h.outcome.as_ref().err(),
        })).collect::<Vec<_>>(),
        "settings_changes": r.settings_changes.iter().map(|c| json!({
            "key": c.key, "before": c.before, "after": c.after, "weakens": c.weakens,
        })).collect::<Vec<_>>(),
        "settings_accepted_by": r.settings_accepted_by,
        "status": r.status.as_str(),
        "fail_on": r.fail_on.as_str(),
        "summary": counts,
        "metrics": {
            "coverage": r.coverage,
            "test_pass_rate": r.test_pass_rate,
            "security_score": r.security_score.to_string(),
            "tests": r.tests.map(test_counts),
        },
        "stages": {
            "test": { "status": test_stage, "note": test_note },
        },
        "checks": r.checks.iter().map(|c| json!({
            "name": c.name,
            "stage": c.stage.as_str(),
            "outcome": c.outcome.as_str(),
            "exit_code": c.exit_code,
            "duration_ms": c.duration_ms,
            "findings": c.findings.len(),
            "files": c.files,
            "tests": c.tests.map(test_counts),
            "note": c.note,
            "output_truncated": c.output_truncated,
            "leaked_processes_killed": c.leaked_processes,
            "killed_processes": c.killed_processes,
        })).collect::<Vec<_>>(),
        "scan": {
            "blobs": r.scan.blobs,
            "bytes": r.scan.bytes,
            "skipped_binary": r.scan.skipped_binary,
            "skipped_large": r.scan.skipped_large,
        },
        "changed_files": r.changed_files,
        "workspace": {
            "mode": match r.workspace_mode { crate::config::WorkspaceMode::Snapshot => "snapshot", crate::config::WorkspaceMode::Live => "live" },
            "path": r.workspace.as_ref().map(|p| p.to_string_lossy().into_owned()),
        },
        "config": r.config_sources.iter().map(|p| p.to_string_lossy().into_owned()).collect::<Vec<_>>(),
        "duration_ms": r.duration_ms,
        "issues": r.issues.iter().map(issue).collect::<Vec<_>>(),
    })
}

/// The report as pretty JSON with a trailing newline.
pub fn render(r: &AuditReport) -> String {
    let mut s = serde_json::to_string_pretty(&value(r)).unwrap_or_else(|_| "{}".into());
    s.push('\n');
    s
}

/// A test run's counts: `total` ran (skipped excluded), of which `passed` and `failed`.
fn test_counts(t: crate::parsers::TestCounts) -> Value {
    json!({"total": t.total, "passed": t.passed(), "failed": t.failed, "skipped": t.skipped})
}
