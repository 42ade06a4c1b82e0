//! Keeping the inbox in step with the ledger after an audit: feedback files written once and
//! updated in place, resolved ones moved to `resolved/`, the daily MEDIUM digest, `INBOX.md`,
//! `BLOCKING`, and which hooks are due.

use std::path::{Path, PathBuf};

use super::render::render_issue;
use crate::bytes::short;
use crate::finding::Severity;
use crate::hooks::DueHook;
use crate::hooks::HookSettings;
use crate::ledger::{Applied, Entry, Ledger};
use crate::report::AuditReport;
use crate::store::{AtomicWriteError, Layout, write_atomic};

const STATUS_START: &str = "<!-- auditor:status -->";
const STATUS_END: &str = "<!-- /auditor:status -->";

/// What syncing the inbox did.
#[derive(Debug, Clone, Default)]
pub struct Synced {
    /// Feedback files written, updated or moved.
    pub files: Vec<PathBuf>,
    /// Hooks due, to run once the audit is recorded.
    pub due: Vec<DueHook>,
    /// An active issue at HIGH or above remains: the agent must fix it.
    pub blocking: bool,
}

fn status_block(e: &Entry) -> String {
    let mut s = format!(
        "{STATUS_START}\n## Status\n\n**{}** · first seen in commit `{}` · ",
        e.life.as_str().to_uppercase(),
        short(&e.first_seen)
    );
    if e.seen_in > 1 {
        s.push_str(&format!(
            "still present in commit `{}`; seen in {} commits.\n",
            short(&e.last_seen),
            e.seen_in
        ));
    } else {
        s.push_str("seen in 1 commit.\n");
    }
    if e.escalations > 0 {
        s.push_str(&format!(
            "\n**Escalated** to {} (was {}): still open after the commits that followed its feedback.\n",
            e.severity.as_str(),
            e.original_severity.as_str()
        ));
    }
    s.push_str(STATUS_END);
    s.push('\n');
    s
}

/// Replaces the status block of a feedback file's text (or adds one before the marker).
fn with_status(text: &str, e: &Entry) -> String {
    let block = status_block(e);
    if let (Some(a), Some(b)) = (text.find(STATUS_START), text.find(STATUS_END)) {
        let end =
            b + STATUS_END.len() + usize::from(text[b + STATUS_END.len()..].starts_with('\n'));
        return format!("{}{block}{}", &text[..a], &text[end..]);
    }
    match text.rfind("<!-- auditor:") {
        Some(m) => format!("{}{block}\n{}", &text[..m], &text[m..]),
        None => format!("{text}\n{block}"),
    }
}

/// A file for an issue the audit did not show (it escalated where nothing looked).
fn render_entry(e: &Entry) -> String {
    format!(
        "# Supervisor Feedback: [{}] {}\n\n**File:** {}\n**ID:** {} · **Type:** {} · **Check:** {} (`{}`)\n\n{}\n{}\n\n<!-- auditor: id={} -->\n",
        e.severity.as_str(),
        e.title,
        e.file
            .as_deref()
            .map_or("(the commit as a whole)".to_string(), |f| format!("`{f}`")),
        e.id,
        e.issue_type,
        e.check,
        e.rule,
        status_block(e),
        "## Severity\n\n".to_string() + e.severity.action(),
        e.id
    )
}

fn hook_env(
    e: &Entry,
    inbox_file: &Path,
    layout: &Layout,
    event: &str,
) -> Vec<(&'static str, String)> {
    vec![
        ("AUDITOR_EVENT", event.to_string()),
        ("AUDITOR_ISSUE_ID", e.id.clone()),
        ("AUDITOR_SEVERITY", e.severity.as_str().to_string()),
        ("AUDITOR_TITLE", e.title.clone()),
        ("AUDITOR_FILE", e.file.clone().unwrap_or_default()),
        (
            "AUDITOR_INBOX_FILE",
            inbox_file.to_string_lossy().into_owned(),
        ),
        (
            "AUDITOR_INBOX",
            layout.inbox_dir.to_string_lossy().into_owned(),
        ),
        (
            "AUDITOR_REPO",
            layout.repo_root.to_string_lossy().into_owned(),
        ),
    ]
}

/// The hook `command` for issue `e` (its inbox file `file`) on `event`, if one is set.
pub fn hook_for(
    command: &[String],
    event: &'static str,
    e: &Entry,
    file: &Path,
    layout: &Layout,
) -> Option<DueHook> {
    (!command.is_empty()).then(|| DueHook {
        event,
        issue: e.id.clone(),
        command: command.to_vec(),
        env: hook_env(e, file, layout, event),
    })
}

/// Brings the inbox in step with the ledger after `report` was applied to it.
///
/// `learned` gives, for a new or reopened issue, what the ledger learned about its rule (an
/// earlier fix, as Markdown) to show as a worked example.
pub fn sync(
    layout: &Layout,
    report: &AuditReport,
    ledger: &mut Ledger,
    applied: &Applied,
    hooks: &HookSettings,
    learned: &dyn Fn(&Entry) -> Option<String>,
) -> Result<Synced, AtomicWriteError> {
    let mut out = Synced::default();
    let stamp = report.timestamp.format("%Y%m%dT%H%M%SZ").to_string();
    for issue in report
        .issues
        .iter()
        .filter(|i| i.finding.severity >= Severity::High)
    {
        let Some(e) = ledger.entries.iter_mut().find(|e| e.id == issue.id) else {
            continue;
        };
        if e.ack.is_some() {
            continue;
        }
        match &e.inbox_file {
            None => {
                let name = format!("ISSUE_{stamp}_{}_{}.md", e.severity.as_str(), e.id);
                let path = layout.inbox_dir.join(&name);
                let mut text = render_issue(issue, report);
                if let Some(lesson) = learned(e) {
                    text = match text.find("## Severity") {
                        Some(at) => format!("{}{lesson}\n{}", &text[..at], &text[at..]),
                        None => format!("{text}\n{lesson}"),
                    };
                }
                write_atomic(&path, with_status(&text, e).as_bytes())?;
                e.inbox_file = Some(name);
                e.commits_since_feedback = 0;
                out.files.push(path.clone());
                if e.severity == Severity::Critical {
                    out.due
                        .extend(hook_for(&hooks.on_critical, "critical", e, &path, layout));
                }
            }
            Some(name) => {
                let path = layout.inbox_dir.join(name);
                let text =
                    std::fs::read_to_string(&path).unwrap_or_else(|_| render_issue(issue, report));
                write_atomic(&path, with_status(&text, e).as_bytes())?;
                out.files.push(path);
            }
        }
    }
    out.due
        .extend(update_escalated(layout, ledger, &applied.escalated, hooks)?.due);

    for r in &applied.resolved {
        let Some(name) = &r.inbox_file else { continue };
        let from = layout.inbox_dir.join(name);
        let Ok(text) = std::fs::read_to_string(&from) else {
            continue;
        };
        let mut section = format!("\n## Resolved in commit `{}`\n\n", short(&r.resolved_in));
        if r.claimed {
            section.push_str(&format!(
                "The commit claimed this fix with `[fix-{}]`, and the audit confirms it.\n",
                r.id
            ));
        } else {
            section.push_str("A later audit looked again and the issue is gone.\n");
        }
        if r.issue_type == crate::finding::IssueType::SecretExposure {
            section.push_str("\n**The credential is still in the git history**: removing it from the tree does not un-leak it. Rotate it at its provider if that is not done yet.\n");
        }
        let to = layout.inbox_dir.join("resolved").join(name);
        write_atomic(&to, format!("{text}{section}").as_bytes())?;
        let _ = std::fs::remove_file(&from);
        out.files.push(to);
    }

    write_digest(layout, report, ledger)?;
    refresh_index(layout, ledger)?;
    out.blocking = ledger.active().iter().any(|e| e.severity >= Severity::High);
    Ok(out)
}

/// Notes escalations in their files (writing one where none was sent yet); `on_escalate` is
/// due for each.
pub fn update_escalated(
    layout: &Layout,
    ledger: &mut Ledger,
    escalated: &[String],
    hooks: &HookSettings,
) -> Result<Synced, AtomicWriteError> {
    let mut out = Synced::default();
    let stamp = chrono::Utc::now().format("%Y%m%dT%H%M%SZ").to_string();
    for id in escalated {
        let Some(e) = ledger.entries.iter_mut().find(|e| &e.id == id) else {
            continue;
        };
        let path = match e.inbox_file.clone() {
            Some(name) => {
                // The file's name and title say the severity the agent reads first: the new
                // one, written before the old file goes.
                let old = layout.inbox_dir.join(&name);
                let text = std::fs::read_to_string(&old).unwrap_or_else(|_| render_entry(e));
                let renamed = with_severity(&name, &e.id, e.severity);
                let path = layout.inbox_dir.join(&renamed);
                let text = retitled(&with_status(&text, e), e.severity);
                write_atomic(&path, text.as_bytes())?;
                if renamed != name {
                    let _ = std::fs::remove_file(&old);
                    e.inbox_file = Some(renamed);
                }
                path
            }
            None if e.severity >= Severity::High => {
                let name = format!("ISSUE_{stamp}_{}_{}.md", e.severity.as_str(), e.id);
                let path = layout.inbox_dir.join(&name);
                write_atomic(&path, render_entry(e).as_bytes())?;
                e.inbox_file = Some(name);
                path
            }
            None => layout.inbox_dir.join(digest_name(&chrono::Utc::now())),
        };
        out.due
            .extend(hook_for(&hooks.on_escalate, "escalation", e, &path, layout));
        out.files.push(path);
    }
    refresh_index(layout, ledger)?;
    Ok(out)
}

/// A feedback file's name (`ISSUE_<stamp>_<SEVERITY>_<ID>.md`) with `severity` in it.
fn with_severity(name: &str, id: &str, severity: Severity) -> String {
    let suffix = format!("_{id}.md");
    let Some(rest) = name.strip_suffix(&suffix) else {
        return name.to_string();
    };
    match rest.rsplit_once('_') {
        Some((stamp, _old)) => format!("{stamp}_{}{suffix}", severity.as_str()),
        None => name.to_string(),
    }
}

/// A feedback file's text with `severity` in its title (`# Supervisor Feedback: [HIGH] ...`).
fn retitled(text: &str, severity: Severity) -> String {
    let (first, rest) = text.split_once('\n').unwrap_or((text, ""));
    let title = match (first.find('['), first.find(']')) {
        (Some(a), Some(b)) if first.starts_with("# ") && a < b => {
            format!("{}[{}]{}", &first[..a], severity.as_str(), &first[b + 1..])
        }
        _ => first.to_string(),
    };
    if text.contains('\n') {
        format!("{title}\n{rest}")
    } else {
        title
    }
}

/// Writes the feedback file of an issue raised outside an audit (see `ledger::upsert`), when it
/// is HIGH or above and has none yet, and refreshes the index files. Returns the file.
pub fn raise(
    layout: &Layout,
    ledger: &mut Ledger,
    id: &str,
    text: &str,
) -> Result<Option<PathBuf>, AtomicWriteError> {
    let stamp = chrono::Utc::now().format("%Y%m%dT%H%M%SZ").to_string();
    let mut written = None;
    if let Some(e) = ledger.entries.iter_mut().find(|e| e.id == id)
        && e.severity >= Severity::High
        && e.inbox_file.is_none()
        && e.ack.is_none()
    {
        let name = format!("ISSUE_{stamp}_{}_{}.md", e.severity.as_str(), e.id);
        let path = layout.inbox_dir.join(&name);
        write_atomic(&path, with_status(text, e).as_bytes())?;
        e.inbox_file = Some(name);
        written = Some(path);
    }
    refresh_index(layout, ledger)?;
    Ok(written)
}

fn digest_name(at: &chrono::DateTime<chrono::Utc>) -> String {
    format!("DIGEST_{}.md", at.format("%Y-%m-%d"))
}

/// Rewrites a file the agent reads only when its content changes: every audit refreshes the
/// index files, and most audits change nothing in them (no fsync, no watcher wake-up).
fn write_if_changed(path: &Path, contents: &[u8]) -> Result<(), AtomicWriteError> {
    if std::fs::read(path).is_ok_and(|old| old == contents) {
        return Ok(());
    }
    write_atomic(path, contents)
}

/// The open issues the operator accepted, as a section (nothing when there are none).
fn push_accepted(s: &mut String, ledger: &Ledger) {
    let accepted = ledger.accepted();
    if !accepted.is_empty() {
        s.push_str("\n## Accepted by the operator (not blocking)\n\n");
        for a in accepted {
            s.push_str(&format!("- {}\n", a.line()));
        }
    }
}

/// The day's digest: every open MEDIUM issue, the day's counts and the most frequent rules.
fn write_digest(
    layout: &Layout,
    report: &AuditReport,
    ledger: &Ledger,
) -> Result<(), AtomicWriteError> {
    let day = report.timestamp.format("%Y-%m-%d").to_string();
    let path = layout.inbox_dir.join(digest_name(&report.timestamp));
    let medium: Vec<&Entry> = ledger
        .active()
        .into_iter()
        .filter(|e| e.severity == Severity::Medium)
        .collect();
    if medium.is_empty() && ledger.accepted().is_empty() && !path.exists() {
        return Ok(());
    }
    let mut s = format!(
        "# Supervisor Digest: {day}\n\nMEDIUM issues are batched here (fix them when convenient, before they accumulate); CRITICAL and HIGH issues have files of their own, and `INBOX.md` ranks everything open.\n\n## Open MEDIUM issues ({})\n\n",
        medium.len()
    );
    if medium.is_empty() {
        s.push_str("None.\n");
    }
    for e in &medium {
        s.push_str(&format!(
            "- **{}** {} — {} (`{}`; first seen in `{}`, seen in {} commit{})\n",
            e.id,
            e.title,
            super::place(e).map_or("the commit as a whole".to_string(), |p| format!("`{p}`")),
            e.rule,
            short(&e.first_seen),
            e.seen_in,
            if e.seen_in == 1 { "" } else { "s" }
        ));
    }
    if let Some(d) = ledger.days.get(&day) {
        let rate = if d.audits > 0 {
            format!("{:.0}%", 100.0 * f64::from(d.passed) / f64::from(d.audits))
        } else {
            "n/a".into()
        };
        let coverage = if d.coverage.is_empty() {
            "not measured".to_string()
        } else {
            d.coverage
                .iter()
                .map(|c| format!("{c:.1}%"))
                .collect::<Vec<_>>()
                .join(" → ")
        };
        s.push_str(&format!(
            "\n## Today\n\n- audits: {} (passed: {rate})\n- issues opened: {}, resolved: {}, escalated: {}\n- coverage: {coverage}\n",
            d.audits, d.opened, d.resolved, d.escalated
        ));
    }
    push_accepted(&mut s, ledger);
    let top = ledger.top_rules(5);
    if !top.is_empty() {
        s.push_str("\n## Most frequent rules\n\n");
        for (rule, st) in top {
            s.push_str(&format!(
                "- `{rule}`: fired {} times, resolved {} times\n",
                st.fired, st.resolved
            ));
        }
    }
    write_if_changed(&path, s.as_bytes())
}

/// Rewrites `INBOX.md` (every open issue, ranked, then those of uncommitted changes) and
/// `BLOCKING` (the CRITICAL IDs, committed or not; removed when none remain).
pub fn refresh_index(layout: &Layout, ledger: &Ledger) -> Result<(), AtomicWriteError> {
    let active = ledger.active();
    let mut s = String::from(
        "# Supervisor inbox\n\nOpen issues, most urgent first. Read this before your next task; fix CRITICAL and HIGH issues before starting new work.\n\n",
    );
    let uncommitted = super::uncommitted::read(layout).issues;
    if active.is_empty() && uncommitted.is_empty() {
        s.push_str("No open issues.\n");
    }
    for e in &active {
        let link = match (&e.inbox_file, e.severity) {
            (Some(f), _) => format!("[{f}]({f})"),
            (None, Severity::Medium) => {
                let d = digest_name(&chrono::Utc::now());
                format!("[{d}]({d})")
            }
            (None, _) => "logged in the audit report".to_string(),
        };
        s.push_str(&format!(
            "- **[{}] {}** {}{} → {link}\n",
            e.severity.as_str(),
            e.id,
            e.title,
            super::place(e)
                .map(|p| format!(" (`{p}`)"))
                .unwrap_or_default()
        ));
    }
    if !uncommitted.is_empty() {
        s.push_str("\n## Uncommitted changes (not committed yet: fix them before you commit)\n\n");
        for u in &uncommitted {
            let link = match &u.inbox_file {
                Some(f) => format!("[{f}]({f})"),
                None => "logged in report_uncommitted.json".to_string(),
            };
            s.push_str(&format!(
                "- **[{}] {}** (uncommitted) {}{} → {link}\n",
                u.severity.as_str(),
                u.id,
                u.title,
                u.place().map(|p| format!(" (`{p}`)")).unwrap_or_default()
            ));
        }
    }
    push_accepted(&mut s, ledger);
    write_if_changed(&layout.inbox_dir.join("INBOX.md"), s.as_bytes())?;
    let blocking: Vec<&str> = active
        .iter()
        .filter(|e| e.severity == Severity::Critical)
        .map(|e| e.id.as_str())
        .chain(
            uncommitted
                .iter()
                .filter(|u| u.severity == Severity::Critical)
                .map(|u| u.id.as_str()),
        )
        .collect();
    let path = layout.inbox_dir.join("BLOCKING");
    if blocking.is_empty() {
        let _ = std::fs::remove_file(path);
    } else {
        write_if_changed(&path, format!("{}\n", blocking.join("\n")).as_bytes())?;
    }
    Ok(())
}
