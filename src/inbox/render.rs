//! The Markdown of feedback files, in the design document's format.

use crate::bytes::short;
use crate::policy::Issue;
use crate::report::AuditReport;

/// The marker at the end of each file that lets a later audit recognise what it already sent.
const MARKER: &str = "<!-- auditor:";

fn context_line(r: &AuditReport) -> String {
    if r.uncommitted {
        return format!(
            "**Context:** Uncommitted changes in the working tree, on top of commit `{}` (not committed yet: fix before you commit)",
            r.base.as_deref().map(short).unwrap_or("(none)")
        );
    }
    let last = r.commits.last();
    let subject = last.map(|c| c.summary.as_str()).unwrap_or_default();
    let mut s = format!("**Context:** Commit `{}` (\"{subject}\")", short(&r.target));
    if r.commits.len() > 1 {
        let list: Vec<String> = r
            .commits
            .iter()
            .map(|c| format!("`{}`", short(&c.hash)))
            .collect();
        s.push_str(&format!(
            ", audit of {} commits: {}",
            r.commits.len(),
            list.join(" ")
        ));
    }
    if !r.skipped.is_empty() {
        let list: Vec<String> = r
            .skipped
            .iter()
            .map(|c| format!("`{}`", short(&c.hash)))
            .collect();
        s.push_str(&format!("; skipped by `[skip-audit]`: {}", list.join(" ")));
    }
    s
}

pub(super) fn place(i: &Issue) -> String {
    match (&i.finding.file, i.finding.line) {
        (Some(f), Some(l)) => format!("`{f}` (line {l})"),
        (Some(f), None) => format!("`{f}`"),
        _ => "(the commit as a whole)".into(),
    }
}

fn issue_body(i: &Issue) -> String {
    let f = &i.finding;
    let mut s = String::new();
    s.push_str(&format!(
        "**ID:** {} · **Type:** {} · **Check:** {} (`{}`) · **Where:** {}{}\n\n",
        i.id,
        f.issue_type.as_str(),
        f.check,
        f.rule,
        f.location.as_str(),
        f.commit
            .as_deref()
            .map(|c| format!(" in commit `{}`", short(c)))
            .unwrap_or_default()
    ));
    s.push_str("## Issue\n\n");
    s.push_str(f.description.trim());
    s.push('\n');
    if let Some(snippet) = &f.snippet {
        s.push_str(&format!("\n```text\n{snippet}\n```\n"));
    }
    s.push_str("\n## Remediation\n\n");
    s.push_str(f.remediation.trim());
    s.push('\n');
    s
}

/// The Markdown of one CRITICAL or HIGH issue's file.
pub fn render_issue(i: &Issue, r: &AuditReport) -> String {
    let f = &i.finding;
    format!(
        "# Supervisor Feedback: [{}] {}{}\n\n{}\n**File:** {}\n{}\n## Severity\n\n{}\n\n{MARKER} id={} fingerprint={} commit={} -->\n",
        f.severity.as_str(),
        if r.uncommitted { "(uncommitted) " } else { "" },
        f.title,
        context_line(r),
        place(i),
        issue_body(i),
        f.severity.action(),
        i.id,
        f.fingerprint,
        r.target
    )
}

/// The Markdown of an issue the daemon raises outside an audit (see `inbox::raise`).
pub fn render_daemon_issue(i: &Issue) -> String {
    let f = &i.finding;
    format!(
        "# Supervisor Feedback: [{}] {}\n\n**Context:** the daemon (`auditor watch`), not an audit\n**File:** {}\n{}\n## Severity\n\n{}\n\n{MARKER} id={} fingerprint={} -->\n",
        f.severity.as_str(),
        f.title,
        place(i),
        issue_body(i),
        f.severity.action(),
        i.id,
        f.fingerprint,
    )
}
