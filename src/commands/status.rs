//! `auditor status`: the daemon's state for people (`--short` for a tmux status bar) and
//! scripts (`--json`); exit 0 when a healthy daemon runs, 1 when not.

use chrono::Utc;
use serde_json::json;

use super::common::{open_repo, print, say, settings_or_defaults};
use crate::cli::StatusArgs;
use crate::daemon::control::{Health, health};
use crate::daemon::status::{Status, clock, short_counts, short_line};
use crate::error::{Error, ExitCode};

/// Runs the status command.
pub fn run(args: StatusArgs) -> Result<ExitCode, Error> {
    let repo = open_repo(args.repo.as_deref())?;
    let (settings, layout) = settings_or_defaults(&repo);
    let h = health(&layout, settings.watch.stale_after);
    let now = Utc::now();
    let ledger = crate::ledger::read_only(&layout);
    let active = ledger.active();
    let open: Vec<(String, usize)> = crate::finding::Severity::RANKED
        .iter()
        .map(|s| {
            (
                s.as_str().to_string(),
                active.iter().filter(|e| e.severity == *s).count(),
            )
        })
        .collect();
    let escalated: Vec<&crate::ledger::Entry> = active
        .iter()
        .copied()
        .filter(|e| e.escalations > 0)
        .collect();
    let accepted = ledger.accepted();
    if args.json {
        let v = json!({
            "schema_version": crate::report::json::SCHEMA_VERSION,
            "running": h.holder.is_some(),
            "healthy": h.healthy,
            "pid": h.holder,
            "heartbeat_age_ms": h.heartbeat_age.map(|a| u64::try_from(a.as_millis()).unwrap_or(u64::MAX)),
            "status": h.status.as_ref().ok().map(Status::to_json),
            "open_issues": open.iter().map(|(s, n)| (s.clone(), json!(n))).collect::<serde_json::Map<_, _>>(),
            "escalations": escalated.iter().map(|e| json!({
                "id": e.id, "severity": e.severity.as_str(),
                "original_severity": e.original_severity.as_str(), "escalations": e.escalations,
                "title": e.title,
            })).collect::<Vec<_>>(),
            "top_rules": ledger.top_rules(5).iter().map(|(rule, st)| json!({
                "rule": rule, "fired": st.fired, "resolved": st.resolved,
                "last_resolved_in": st.last_resolved_in,
            })).collect::<Vec<_>>(),
            "acknowledged": accepted.iter().map(crate::report::json::accepted_json).collect::<Vec<_>>(),
            "problem": h.status.as_ref().err(),
        });
        print(&format!("{v:#}\n"))?;
    } else if args.short {
        let line = match (&h.status, h.holder) {
            (Ok(s), Some(_)) if h.healthy => short_line(
                s,
                now,
                (!ledger.entries.is_empty()).then_some(open.as_slice()),
            ),
            (_, Some(pid)) => format!("auditor: HUNG (pid {pid})"),
            (_, None) => "auditor: not running".to_string(),
        };
        say(&format!("{line}\n"))?;
    } else {
        let mut text = long_form(&h, now, &repo.root);
        if !ledger.entries.is_empty() {
            text.push_str(&format!("open:       {}\n", short_counts(&open)));
        }
        for e in &escalated {
            text.push_str(&format!(
                "escalated:  {} {} → {} ({})\n",
                e.id,
                e.original_severity.as_str(),
                e.severity.as_str(),
                e.title
            ));
        }
        for a in &accepted {
            text.push_str(&format!("accepted:   {}\n", a.line()));
        }
        say(&text)?;
    }
    Ok(if h.healthy {
        ExitCode::Clean
    } else {
        ExitCode::Findings
    })
}

fn long_form(h: &Health, now: chrono::DateTime<Utc>, root: &std::path::Path) -> String {
    let mut out = format!("repository: {}\n", root.display());
    match h.holder {
        Some(pid) if h.healthy => out.push_str(&format!("daemon:     running, pid {pid}")),
        Some(pid) => out.push_str(&format!(
            "daemon:     HUNG or starting, pid {pid} (heartbeat stale)"
        )),
        None => out.push_str("daemon:     not running"),
    }
    if let Some(age) = h.heartbeat_age {
        out.push_str(&format!(", heartbeat {:.1}s ago", age.as_secs_f64()));
    }
    out.push('\n');
    match &h.status {
        Ok(s) => {
            let since = (now - s.state_since).to_std().unwrap_or_default();
            out.push_str(&format!(
                "state:      {} for {} (since {})\n",
                s.state,
                clock(since),
                s.state_since.format("%Y-%m-%d %H:%M:%S UTC")
            ));
            if let Some(c) = &s.current {
                let elapsed = (now - c.stage_started).to_std().unwrap_or_default();
                let what = if c.uncommitted {
                    "uncommitted changes".to_string()
                } else if c.commits > 1 {
                    format!("{} ({} commits)", crate::bytes::short(&c.commit), c.commits)
                } else {
                    crate::bytes::short(&c.commit).to_string()
                };
                out.push_str(&format!(
                    "auditing:   {what}, stage {}{}\n",
                    clock(elapsed),
                    c.estimate_ms
                        .map(|e| format!(" of ~{}", clock(std::time::Duration::from_millis(e))))
                        .unwrap_or_default()
                ));
            }
            match &s.last_verdict {
                Some(v) => out.push_str(&format!(
                    "verdict:    {} on {} at {}\nissues:     {}\n",
                    v.status,
                    if v.uncommitted {
                        "uncommitted changes"
                    } else {
                        crate::bytes::short(&v.commit)
                    },
                    v.at.format("%Y-%m-%d %H:%M:%S UTC"),
                    short_counts(&v.counts)
                )),
                None => out.push_str("verdict:    none yet\n"),
            }
            if let Some(w) = &s.waiting_since {
                out.push_str(&format!(
                    "waiting:    for a fix since {}\n",
                    w.format("%H:%M:%S UTC")
                ));
            }
            if let Some(l) = &s.last_checked {
                out.push_str(&format!("checked:    up to {}\n", crate::bytes::short(l)));
            }
            if let Some(f) = &s.audit_failure {
                let shown: Vec<&str> = f.commits.iter().map(|c| crate::bytes::short(c)).collect();
                // The reason can quote the repository's file names: no control characters.
                let reason: String = f
                    .message
                    .chars()
                    .map(|c| if c.is_control() { '?' } else { c })
                    .collect();
                out.push_str(&format!(
                    "UNAUDITED:  {} commit{} ({}): {} failed attempt{} since {}: {reason}\n",
                    f.commits.len(),
                    if f.commits.len() == 1 { "" } else { "s" },
                    shown.join(", "),
                    f.attempts,
                    if f.attempts == 1 { "" } else { "s" },
                    f.since
                ));
            }
            out.push_str(&format!("watcher:    {}\n", s.watcher));
        }
        Err(why) => out.push_str(&format!("state:      unknown ({why})\n")),
    }
    out
}
