//! What the MCP tools answer, as JSON, from the files the auditor keeps: the daemon's status,
//! the ledger and the working tree's issues, the reports, the fast lane's verdict and the
//! rules. Read-only: nothing here changes supervision.

use std::time::Duration;

use chrono::{DateTime, TimeZone, Utc};
use serde_json::{Value, json};

use crate::config::Settings;
use crate::finding::Severity;
use crate::git::Repo;
use crate::inbox::uncommitted::{self, UncommittedIssue};
use crate::ledger::{Entry, Ledger};
use crate::store::Layout;

/// What every query reads.
pub struct Context {
    /// The repository.
    pub repo: Repo,
    /// Its settings (the operator's config, or the embedded defaults).
    pub settings: Settings,
    /// Where the auditor keeps its files.
    pub layout: Layout,
}

/// The longest `wait_for_verdict` waits.
pub const MAX_WAIT: Duration = Duration::from_secs(300);

/// How often a wait looks for the report.
const POLL: Duration = Duration::from_millis(50);

fn ledger(ctx: &Context) -> Result<Ledger, String> {
    crate::ledger::read_checked(&ctx.layout).map(|(l, _)| l)
}

/// When a commit was made, as the repository says.
fn commit_time(repo: &Repo, hex: &str) -> Option<DateTime<Utc>> {
    let oid = git2::Oid::from_str(hex).ok()?;
    let commit = repo.git.find_commit(oid).ok()?;
    Utc.timestamp_opt(commit.time().seconds(), 0).single()
}

/// `3d 4h`, `2h 5m`, `7m`, `40s`.
fn age(d: chrono::Duration) -> String {
    let s = d.num_seconds().max(0);
    match s {
        s if s >= 86_400 => format!("{}d {}h", s / 86_400, s % 86_400 / 3600),
        s if s >= 3600 => format!("{}h {}m", s / 3600, s % 3600 / 60),
        s if s >= 60 => format!("{}m", s / 60),
        s => format!("{s}s"),
    }
}

fn entry_json(ctx: &Context, head: Option<git2::Oid>, e: &Entry) -> Value {
    let since = commit_time(&ctx.repo, &e.first_seen);
    json!({
        "id": e.id,
        "severity": e.severity.as_str(),
        "original_severity": e.original_severity.as_str(),
        "type": e.issue_type.as_str(),
        "title": e.title,
        "file": e.file,
        "line": e.line,
        "place": crate::inbox::place_at(&ctx.repo, head, e),
        "status": e.life.as_str(),
        "first_seen": e.first_seen,
        "last_seen": e.last_seen,
        "seen_in_commits": e.seen_in,
        "escalations": e.escalations,
        "open_since": since.map(|t| t.to_rfc3339_opts(chrono::SecondsFormat::Secs, true)),
        "open_for": since.map(|t| age(Utc::now() - t)),
        "inbox_file": e.inbox_file,
        "check": e.check,
        "rule": e.rule,
    })
}

fn uncommitted_json(u: &UncommittedIssue) -> Value {
    json!({
        "id": u.id,
        "severity": u.severity.as_str(),
        "type": u.issue_type.as_str(),
        "title": u.title,
        "file": u.file,
        "line": u.line,
        "place": u.place(),
        "status": "uncommitted",
        "inbox_file": u.inbox_file,
    })
}

/// The daemon's state, HEAD's verdict and what is open by severity.
pub fn status(ctx: &Context) -> Result<Value, String> {
    let health = crate::daemon::control::health(&ctx.layout, ctx.settings.watch.stale_after);
    let ledger = ledger(ctx)?;
    let open = open(ctx, &ledger, Severity::Low);
    let counts: serde_json::Map<String, Value> = Severity::RANKED
        .iter()
        .map(|s| {
            let n = open.iter().filter(|i| i["severity"] == s.as_str()).count();
            (s.as_str().to_string(), json!(n))
        })
        .collect();
    let head = ctx.repo.head().ok().map(|h| h.to_string());
    let status = health.status.as_ref().ok();
    let fast = crate::report::fast::FastVerdict::read(&ctx.layout);
    Ok(json!({
        "daemon": {
            "running": health.healthy,
            "pid": health.holder,
            "state": status.map(|s| s.state.as_str()),
            "since": status.map(|s| s.state_since.to_rfc3339_opts(chrono::SecondsFormat::Secs, true)),
            "auditing": status.and_then(|s| s.current.as_ref()).map(|c| &c.commit),
        },
        "head": head,
        "head_audited": head.as_deref().is_some_and(|h| ctx.layout.report_path(h).is_file()),
        "head_scanned_by_fast_lane": fast.as_ref().zip(head.as_deref()).is_some_and(|(f, h)| f.commit == h),
        "last_verdict": status.and_then(|s| s.last_verdict.as_ref()).map(|v| json!({
            "commit": v.commit, "status": v.status, "uncommitted": v.uncommitted,
            "at": v.at.to_rfc3339_opts(chrono::SecondsFormat::Secs, true),
        })),
        "open": counts,
        "blocking": open.iter().filter(|i| i["severity"] == "CRITICAL" || i["severity"] == "HIGH").count(),
    }))
}

/// The open issues at or above `min`, most severe first: the ledger's (placed at HEAD), then
/// the working tree's at each severity.
fn open(ctx: &Context, ledger: &Ledger, min: Severity) -> Vec<Value> {
    let head = ctx.repo.head().ok();
    let mut open: Vec<(Severity, Value)> = ledger
        .active()
        .into_iter()
        .filter(|e| e.severity >= min)
        .map(|e| (e.severity, entry_json(ctx, head, e)))
        .chain(
            uncommitted::read(&ctx.layout)
                .issues
                .iter()
                .filter(|u| u.severity >= min)
                .map(|u| (u.severity, uncommitted_json(u))),
        )
        .collect();
    open.sort_by_key(|(s, _)| std::cmp::Reverse(*s));
    open.into_iter().map(|(_, v)| v).collect()
}

/// `list_issues`: the open issues at or above `min_severity` (default LOW), ranked.
pub fn list_issues(ctx: &Context, min_severity: Option<&str>) -> Result<Value, String> {
    let min = match min_severity {
        Some(s) => s.parse::<Severity>()?,
        None => Severity::Low,
    };
    let issues = open(ctx, &ledger(ctx)?, min);
    Ok(json!({ "count": issues.len(), "issues": issues }))
}

/// `show_issue`: one issue, open or not, with its feedback file's text.
pub fn show_issue(ctx: &Context, id: &str) -> Result<Value, String> {
    let read = |name: &str| {
        let open = ctx.layout.inbox_dir.join(name);
        std::fs::read_to_string(&open)
            .or_else(|_| std::fs::read_to_string(ctx.layout.inbox_dir.join("resolved").join(name)))
            .ok()
    };
    if id.starts_with(uncommitted::PREFIX) {
        let set = uncommitted::read(&ctx.layout);
        let u = set.issues.iter().find(|u| u.id == id).ok_or_else(|| {
            format!("no issue {id} in the working tree (its change was committed or reverted)")
        })?;
        let mut v = uncommitted_json(u);
        v["feedback"] = json!(u.inbox_file.as_deref().and_then(read));
        return Ok(v);
    }
    let ledger = ledger(ctx)?;
    let e = ledger
        .get(id)
        .ok_or_else(|| format!("no issue {id} in the ledger"))?;
    let mut v = entry_json(ctx, ctx.repo.head().ok(), e);
    v["resolved_in"] = json!(e.resolved_in);
    v["acknowledged"] = json!(
        e.ack
            .as_ref()
            .map(|a| json!({"reason": a.reason, "at": a.at}))
    );
    v["feedback"] = json!(e.inbox_file.as_deref().and_then(read));
    Ok(v)
}

/// What is known of `commit`'s verdict now: its report, else the fast lane's verdict on it.
fn verdict(ctx: &Context, commit: &str) -> Option<Value> {
    if let Some(report) = std::fs::read(ctx.layout.report_path(commit))
        .ok()
        .and_then(|b| serde_json::from_slice::<Value>(&b).ok())
    {
        let issues: Vec<Value> = report["issues"]
            .as_array()
            .map(|a| {
                a.iter()
                    .map(|i| {
                        json!({
                            "id": i["id"], "severity": i["severity"], "type": i["type"],
                            "title": i["title"], "file": i["file"], "line": i["line"],
                            "location": i["location"],
                        })
                    })
                    .collect()
            })
            .unwrap_or_default();
        return Some(json!({
            "commit": commit,
            "audited": true,
            "status": report["status"],
            "summary": report["summary"],
            "issues": issues,
            "resolved": report["resolved"],
        }));
    }
    let fast =
        crate::report::fast::FastVerdict::read(&ctx.layout).filter(|f| f.commit == commit)?;
    Some(json!({
        "commit": commit,
        "audited": false,
        "fast_lane": true,
        "note": "the built-in scanners' verdict; linters and tests are still to come",
        "issues": fast.issues.iter().map(|i| json!({
            "id": i.id, "severity": i.severity.as_str(), "title": i.title,
            "file": i.file, "line": i.line,
        })).collect::<Vec<_>>(),
    }))
}

/// `wait_for_verdict`: waits up to `timeout` until `commit` (a revision; HEAD by default) is
/// audited, then gives its verdict; at the bound, what is known (the fast lane's) and that
/// the audit is not done.
pub async fn wait_for_verdict(
    ctx: Context,
    commit: Option<String>,
    timeout: Duration,
) -> Result<Value, String> {
    let hex = ctx
        .repo
        .resolve(commit.as_deref().unwrap_or("HEAD"))
        .map_err(|e| e.to_string())?
        .to_string();
    let report = ctx.layout.report_path(&hex);
    let started = std::time::Instant::now();
    let bound = timeout.min(MAX_WAIT);
    while !report.is_file() && started.elapsed() < bound {
        tokio::time::sleep(POLL).await;
    }
    if report.is_file() {
        return verdict(&ctx, &hex).ok_or_else(|| format!("the report of {hex} is unreadable"));
    }
    let running =
        crate::daemon::control::health(&ctx.layout, ctx.settings.watch.stale_after).healthy;
    let mut v = verdict(&ctx, &hex).unwrap_or_else(|| json!({ "commit": hex, "audited": false }));
    v["waited_seconds"] = json!(bound.as_secs_f64());
    v["note"] = json!(if running {
        format!(
            "not audited yet after {}s: auditor watch is still on it{}",
            bound.as_secs(),
            if v["fast_lane"] == true {
                " (what the fast lane found is above)"
            } else {
                ""
            }
        )
    } else {
        "not audited, and no auditor watch runs here: `auditor audit` audits it".to_string()
    });
    Ok(v)
}

/// `explain_rule`: what a rule (a guard's, the secret scanner's, or an issue type) finds,
/// its default severity, how to fix its issues, and what the ledger has seen of it.
pub fn explain_rule(ctx: &Context, rule: &str) -> Result<Value, String> {
    let ledger = ledger(ctx).unwrap_or_default();
    let seen = |key: &str| {
        ledger.rules.get(key).map(|s| {
            json!({"fired": s.fired, "resolved": s.resolved, "last_resolved_in": s.last_resolved_in})
        })
    };
    if let Some(g) = crate::guards::Rule::parse(rule) {
        return Ok(json!({
            "rule": g.id(),
            "scanner": "guards",
            "title": g.title(),
            "default_severity": g.default_severity().as_str(),
            "severity_means": g.default_severity().action(),
            "remediation": g.remediation(),
            "in_this_repository": seen(&format!("guards/{}", g.id())),
        }));
    }
    let secrets = ctx.settings.secrets.scanner();
    if let Some(r) = secrets
        .rules()
        .iter()
        .find(|r| r.id.eq_ignore_ascii_case(rule))
    {
        return Ok(json!({
            "rule": r.id,
            "scanner": "secrets",
            "title": r.title,
            "default_severity": "CRITICAL",
            "severity_means": Severity::Critical.action(),
            "remediation": r.remediation,
            "origin": r.origin,
            "in_this_repository": seen(&format!("secrets/{}", r.id)),
        }));
    }
    if let Some(t) = crate::finding::IssueType::ALL
        .iter()
        .find(|t| t.as_str().eq_ignore_ascii_case(rule))
    {
        return Ok(json!({
            "rule": t.as_str(),
            "scanner": "an issue type (a configured check's, the test stage's or the daemon's)",
            "id_prefix": t.id_prefix(),
            "in_this_repository": ledger.rules.iter()
                .filter(|(_, s)| s.fired > 0)
                .filter(|(k, _)| ledger.entries.iter().any(|e| e.issue_type == *t && format!("{}/{}", e.check, e.rule) == **k))
                .map(|(k, s)| json!({"rule": k, "fired": s.fired, "resolved": s.resolved}))
                .collect::<Vec<_>>(),
        }));
    }
    Err(format!(
        "no rule {rule}: a guard's ({}), a secret rule's ID, or an issue type",
        crate::guards::Rule::ALL.map(|r| r.id()).join(", ")
    ))
}

/// The inbox's index, `INBOX.md`.
pub fn inbox(ctx: &Context) -> String {
    std::fs::read_to_string(ctx.layout.inbox_dir.join("INBOX.md"))
        .unwrap_or_else(|_| "# Supervisor inbox\n\nNo audit has written the inbox yet.\n".into())
}

/// The most recent report of a commit's audit (by when it was written).
pub fn latest_report(ctx: &Context) -> Option<String> {
    let newest = ctx
        .layout
        .audit_reports()
        .into_iter()
        .filter_map(|e| Some((e.metadata().ok()?.modified().ok()?, e.path())))
        .max()?;
    std::fs::read_to_string(newest.1).ok()
}

#[cfg(test)]
mod tests {
    use super::age;

    #[test]
    fn ages_read_at_a_glance() {
        assert_eq!(age(chrono::Duration::seconds(40)), "40s");
        assert_eq!(age(chrono::Duration::seconds(7 * 60 + 3)), "7m");
        assert_eq!(age(chrono::Duration::seconds(2 * 3600 + 5 * 60)), "2h 5m");
        assert_eq!(
            age(chrono::Duration::seconds(3 * 86_400 + 4 * 3600)),
            "3d 4h"
        );
        assert_eq!(age(chrono::Duration::seconds(-5)), "0s");
    }
}
