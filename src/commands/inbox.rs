//! `auditor inbox`: the open issues as the ledger knows them; `show ID`; `ack ID --reason`.
//!
//! An acknowledgement opens the gate, and the agent runs as the same user: by default it must
//! come from an interactive terminal (the operator's), and every one is recorded with where
//! it came from and listed in reports, the digest, `INBOX.md` and `status`.

use std::io::IsTerminal;

use serde_json::json;

use super::common::{open_repo, print, say, settings_or_defaults};
use crate::cli::{InboxAction, InboxArgs};
use crate::config::{AckValue, Settings};
use crate::error::{Error, ExitCode};
use crate::eventlog::{Level, append_once};
use crate::inbox::uncommitted;
use crate::ledger::{self, Ack, Entry};
use crate::store::Layout;

fn entry_json(e: &Entry) -> serde_json::Value {
    json!({
        "id": e.id, "severity": e.severity.as_str(), "original_severity": e.original_severity.as_str(),
        "type": e.issue_type, "title": e.title, "file": e.file, "line": e.line, "check": e.check, "rule": e.rule,
        "status": e.life.as_str(), "first_seen": e.first_seen, "last_seen": e.last_seen,
        "seen_in_commits": e.seen_in, "resolved_in": e.resolved_in, "escalations": e.escalations,
        "inbox_file": e.inbox_file,
        "acknowledged": e.ack.as_ref().map(|a| json!({"reason": a.reason, "at": a.at})),
    })
}

/// Runs the inbox command.
pub fn run(args: InboxArgs) -> Result<ExitCode, Error> {
    let repo = open_repo(args.repo.as_deref())?;
    let (settings, layout) = settings_or_defaults(&repo);
    match args.action {
        None => list(&repo, &layout, args.json),
        Some(InboxAction::Show { id }) => show(&layout, &id, args.json),
        Some(InboxAction::Ack { id, reason }) => ack(&layout, &settings, &id, &reason),
    }
}

/// `auditor inbox`: the open issues, most severe first.
fn list(repo: &crate::git::Repo, layout: &Layout, json: bool) -> Result<ExitCode, Error> {
    let ledger = ledger::read_only(layout);
    let active = ledger.active();
    let uncommitted = uncommitted::read(layout).issues;
    if json {
        let v: Vec<_> = active
            .iter()
            .map(|e| entry_json(e))
            .chain(uncommitted.iter().map(uncommitted_json))
            .collect();
        let v = json!({
            "schema_version": crate::report::json::SCHEMA_VERSION,
            "issues": v,
        });
        print(&format!("{v:#}\n"))?;
    } else if active.is_empty() && uncommitted.is_empty() {
        say("no open issues\n")?;
    } else {
        let mut s = String::new();
        let head = repo.head().ok();
        for e in active {
            s.push_str(&format!(
                "{:<8} {:<9} {}{} ({}, seen in {} commit{})\n",
                e.severity.as_str(),
                e.id,
                e.title,
                crate::inbox::place_at(repo, head, e)
                    .map(|p| format!(" [{p}]"))
                    .unwrap_or_default(),
                e.life.as_str(),
                e.seen_in,
                if e.seen_in == 1 { "" } else { "s" }
            ));
        }
        for u in &uncommitted {
            s.push_str(&format!(
                "{:<8} {:<9} {}{} (uncommitted)\n",
                u.severity.as_str(),
                u.id,
                u.title,
                u.place().map(|p| format!(" [{p}]")).unwrap_or_default(),
            ));
        }
        say(&s)?;
    }
    Ok(ExitCode::Clean)
}

/// `auditor inbox show ID`: one issue, and its inbox file.
fn show(layout: &Layout, id: &str, json: bool) -> Result<ExitCode, Error> {
    if id.starts_with(uncommitted::PREFIX) {
        return show_uncommitted(layout, id, json);
    }
    let ledger = ledger::read_only(layout);
    let e = ledger
        .get(id)
        .ok_or_else(|| Error::Usage(format!("no issue {id} in the ledger")))?;
    if json {
        print(&format!("{:#}\n", entry_json(e)))?;
        return Ok(ExitCode::Clean);
    }
    let file = e.inbox_file.as_ref().map(|f| {
        let open = layout.inbox_dir.join(f);
        if open.exists() {
            open
        } else {
            layout.inbox_dir.join("resolved").join(f)
        }
    });
    let mut s = format!(
        "{} [{}] {}\nstatus: {} · first seen {} · last seen {} · in {} commit(s)\n",
        e.id,
        e.severity.as_str(),
        e.title,
        e.life.as_str(),
        crate::bytes::short(&e.first_seen),
        crate::bytes::short(&e.last_seen),
        e.seen_in
    );
    if let Some(a) = &e.ack {
        s.push_str(&format!("acknowledged {}: {}\n", a.at, a.reason));
    }
    if let Some(text) = file.and_then(|p| std::fs::read_to_string(p).ok()) {
        s.push('\n');
        s.push_str(&text);
    }
    say(&s)?;
    Ok(ExitCode::Clean)
}

/// `auditor inbox show UNC-...`: an issue of uncommitted changes, and its inbox file.
fn show_uncommitted(layout: &Layout, id: &str, json: bool) -> Result<ExitCode, Error> {
    let set = uncommitted::read(layout);
    let u = set.issues.iter().find(|u| u.id == id).ok_or_else(|| {
        Error::Usage(format!(
            "no issue {id} in the working tree (its change was committed or reverted)"
        ))
    })?;
    if json {
        print(&format!("{:#}\n", uncommitted_json(u)))?;
        return Ok(ExitCode::Clean);
    }
    let mut s = format!(
        "{} [{}] {}\nstatus: uncommitted (in the working tree on top of {})\n",
        u.id,
        u.severity.as_str(),
        u.title,
        set.head.as_deref().map_or("no commit", crate::bytes::short)
    );
    if let Some(text) = u
        .inbox_file
        .as_ref()
        .and_then(|f| std::fs::read_to_string(layout.inbox_dir.join(f)).ok())
    {
        s.push('\n');
        s.push_str(&text);
    }
    say(&s)?;
    Ok(ExitCode::Clean)
}

fn uncommitted_json(u: &uncommitted::UncommittedIssue) -> serde_json::Value {
    json!({
        "id": u.id, "severity": u.severity.as_str(), "type": u.issue_type, "title": u.title,
        "file": u.file, "line": u.line, "status": "uncommitted", "inbox_file": u.inbox_file,
    })
}

/// `auditor inbox ack ID --reason ...`: the operator accepts an issue.
fn ack(layout: &Layout, settings: &Settings, id: &str, reason: &str) -> Result<ExitCode, Error> {
    if reason.trim().is_empty() {
        return Err(Error::Usage(
            "--reason must say why the issue is accepted".into(),
        ));
    }
    let from = ack_origin(crate::engine::ack_policy(layout, settings))?;
    let mut locked = ledger::lock(layout).map_err(|e| Error::Internal(e.to_string()))?;
    let at = chrono::Utc::now().to_rfc3339_opts(chrono::SecondsFormat::Secs, true);
    let e = locked
        .ledger
        .entries
        .iter_mut()
        .find(|e| e.id.eq_ignore_ascii_case(id))
        .ok_or_else(|| Error::Usage(format!("no issue {id} in the ledger")))?;
    e.ack = Some(Ack {
        reason: reason.to_string(),
        at,
        from: Some(from.clone()),
    });
    let id = e.id.clone();
    locked.save().map_err(|e| Error::Internal(e.to_string()))?;
    crate::inbox::refresh_index(layout, &locked.ledger)?;
    drop(locked);
    append_once(
        &layout.reports_dir,
        crate::daemon::event_limits(settings),
        "acknowledged",
        Level::Info,
        json!({ "id": id, "reason": reason, "from": from }),
    );
    say(&format!(
        "{id} acknowledged: it leaves the inbox and the gate\n"
    ))?;
    Ok(ExitCode::Clean)
}

/// Where an acknowledgement comes from: the terminal's name, or `non-interactive` when the
/// policy lets anyone acknowledge; refused without a terminal otherwise.
fn ack_origin(policy: AckValue) -> Result<String, Error> {
    if std::io::stdin().is_terminal() && std::io::stderr().is_terminal() {
        let name = std::fs::read_link("/proc/self/fd/0")
            .map_or_else(|_| "a terminal".to_string(), |p| p.display().to_string());
        return Ok(name);
    }
    match policy {
        AckValue::Anyone => Ok("non-interactive".into()),
        AckValue::Terminal => Err(Error::Usage(
            "refused: an acknowledgement opens the gate, so it must come from an interactive terminal (the operator's); run `auditor inbox ack` there. To let anyone acknowledge, set `[policy] ack = \"anyone\"` in auditor.toml: that is itself reported as a weakening of the supervision, and takes effect once the operator accepts it".into(),
        )),
    }
}
