//! What is open, as the live view shows it: the ledger's active issues and the working
//! tree's, by severity, the most severe few with file:line. Read again only when either file
//! changed (the view is redrawn every second; the ledger changes once per audit).

use std::time::SystemTime;

use crate::finding::Severity;
use crate::store::Layout;

/// The open issues, summed up.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct OpenSummary {
    /// Per severity, most severe first.
    pub counts: Vec<(String, usize)>,
    /// The most severe issues, one line each.
    pub top: Vec<String>,
    /// How many issues are open in all.
    pub total: usize,
}

/// How many issues the live view lists.
const TOP: usize = 5;

/// The summary, kept until the ledger or the uncommitted set changes.
#[derive(Debug, Default)]
pub struct OpenCache {
    stamp: Option<(Option<SystemTime>, Option<SystemTime>)>,
    summary: OpenSummary,
}

fn modified(path: &std::path::Path) -> Option<SystemTime> {
    std::fs::metadata(path).and_then(|m| m.modified()).ok()
}

impl OpenCache {
    /// The summary as the files now are.
    pub fn get(&mut self, layout: &Layout) -> &OpenSummary {
        let stamp = (
            modified(&crate::ledger::path(layout)),
            modified(&layout.state_dir.join("uncommitted.json")),
        );
        if self.stamp != Some(stamp) {
            self.summary = summarise(layout);
            self.stamp = Some(stamp);
        }
        &self.summary
    }
}

fn summarise(layout: &Layout) -> OpenSummary {
    let ledger = crate::ledger::read_checked(layout)
        .map(|(l, _)| l)
        .unwrap_or_default();
    let uncommitted = crate::inbox::uncommitted::read(layout).issues;
    let mut open: Vec<(Severity, String)> = ledger
        .active()
        .into_iter()
        .map(|e| {
            (
                e.severity,
                line(e.severity, &e.id, &e.title, crate::inbox::place(e), false),
            )
        })
        .chain(uncommitted.iter().map(|u| {
            (
                u.severity,
                line(u.severity, &u.id, &u.title, u.place(), true),
            )
        }))
        .collect();
    open.sort_by_key(|(s, _)| std::cmp::Reverse(*s));
    OpenSummary {
        counts: Severity::RANKED
            .iter()
            .map(|s| {
                (
                    s.as_str().to_string(),
                    open.iter().filter(|(o, _)| o == s).count(),
                )
            })
            .collect(),
        total: open.len(),
        top: open.into_iter().take(TOP).map(|(_, l)| l).collect(),
    }
}

fn line(
    severity: Severity,
    id: &str,
    title: &str,
    place: Option<String>,
    uncommitted: bool,
) -> String {
    format!(
        "[{}] {id}{} {title}{}",
        severity.as_str(),
        if uncommitted { " (uncommitted)" } else { "" },
        place.map(|p| format!(" ({p})")).unwrap_or_default()
    )
}
