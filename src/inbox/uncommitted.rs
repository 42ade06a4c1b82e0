//! Findings in uncommitted changes: an ID space of their own (`UNC-SEC-001`, never a ledger
//! ID), kept in `state/supervisor/uncommitted.json`, listed in `INBOX.md` and `BLOCKING` and
//! judged by the gate, marked uncommitted. Each audit of the working tree replaces the set;
//! an issue leaves it (its file removed from the inbox) when its change is committed (the
//! commit's own audit takes over) or reverted.

use std::collections::BTreeMap;
use std::path::PathBuf;

use serde::{Deserialize, Serialize};

use super::render::render_issue;
use crate::finding::{IssueType, Severity};
use crate::git::Repo;
use crate::ledger::{Ledger, LedgerError};
use crate::report::AuditReport;
use crate::store::{Layout, write_atomic};

/// The prefix of their IDs.
pub const PREFIX: &str = "UNC-";

/// One issue of the working tree.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct UncommittedIssue {
    /// `UNC-SEC-001`.
    pub id: String,
    /// Identity, as a ledger key: check, rule, file, fingerprint.
    pub key: String,
    /// The issue type.
    pub issue_type: IssueType,
    /// Its severity.
    pub severity: Severity,
    /// Its title.
    pub title: String,
    /// Its file.
    pub file: Option<String>,
    /// Its line.
    pub line: Option<u32>,
    /// Its feedback file, for CRITICAL and HIGH.
    pub inbox_file: Option<String>,
}

impl UncommittedIssue {
    /// `file:line`, or the file alone.
    pub fn place(&self) -> Option<String> {
        let file = self.file.as_deref()?;
        Some(match self.line {
            Some(line) => format!("{file}:{line}"),
            None => file.to_string(),
        })
    }
}

/// The set, and the counters that keep its IDs from being reused.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Uncommitted {
    /// Its shape's version.
    pub schema_version: u32,
    /// HEAD under the changes when they were audited.
    pub head: Option<String>,
    /// The last number given per type prefix.
    #[serde(default)]
    pub counters: BTreeMap<String, u32>,
    /// The issues, most severe first.
    #[serde(default)]
    pub issues: Vec<UncommittedIssue>,
}

fn path(layout: &Layout) -> PathBuf {
    layout.state_dir.join("uncommitted.json")
}

/// The set as last written; none when there is none (or it does not read: the next look at
/// the working tree writes it again).
pub fn read(layout: &Layout) -> Uncommitted {
    std::fs::read(path(layout))
        .ok()
        .and_then(|b| serde_json::from_slice::<Uncommitted>(&b).ok())
        .filter(|u| u.schema_version == 1)
        .unwrap_or_default()
}

fn save(layout: &Layout, set: &Uncommitted) -> Result<(), LedgerError> {
    let text = serde_json::to_string_pretty(set).unwrap_or_default();
    write_atomic(&path(layout), format!("{text}\n").as_bytes())?;
    Ok(())
}

/// What publishing did.
#[derive(Debug, Default)]
pub struct Published {
    /// Feedback files written.
    pub files: Vec<PathBuf>,
    /// A HIGH or CRITICAL issue is open, committed or not.
    pub blocking: bool,
}

/// Publishes an audit of the working tree: its MEDIUM and higher issues replace the last
/// set (one seen before keeps its ID and file), a file is written for each new CRITICAL or
/// HIGH one, the files of those gone are removed, and `INBOX.md` and `BLOCKING` are
/// refreshed. The report's issues get their `UNC-` IDs.
pub fn publish(layout: &Layout, report: &mut AuditReport) -> Result<Published, LedgerError> {
    // The ledger's lock: the index files are written from both.
    let locked = crate::ledger::lock(layout)?;
    let mut set = read(layout);
    set.schema_version = 1;
    set.head = report.base.clone();
    let stamp = report.timestamp.format("%Y%m%dT%H%M%SZ").to_string();
    let keys = crate::ledger::occurrence_keys(&report.issues);
    let mut kept = Vec::new();
    let mut out = Published::default();
    for (index, key) in keys.into_iter().enumerate() {
        if report.issues[index].finding.severity < Severity::Medium {
            continue;
        }
        let before = set.issues.iter().position(|u| u.key == key);
        let id = match before {
            Some(i) => set.issues[i].id.clone(),
            None => {
                let prefix = report.issues[index].finding.issue_type.id_prefix();
                let n = set.counters.entry(prefix.to_string()).or_insert(0);
                *n += 1;
                format!("{PREFIX}{prefix}-{n:03}")
            }
        };
        report.issues[index].id = id.clone();
        let issue = &report.issues[index];
        let f = &issue.finding;
        let mut inbox_file = before.and_then(|i| set.issues[i].inbox_file.clone());
        if f.severity >= Severity::High && inbox_file.is_none() {
            let name = format!("ISSUE_{stamp}_{}_{id}.md", f.severity.as_str());
            let file = layout.inbox_dir.join(&name);
            write_atomic(&file, render_issue(issue, report).as_bytes())?;
            out.files.push(file);
            inbox_file = Some(name);
        }
        let f = &report.issues[index].finding;
        kept.push(UncommittedIssue {
            id,
            key,
            issue_type: f.issue_type,
            severity: f.severity,
            title: f.title.clone(),
            file: f.file.clone(),
            line: f.line,
            inbox_file,
        });
    }
    kept.sort_by(|a, b| b.severity.cmp(&a.severity).then(a.id.cmp(&b.id)));
    let gone: Vec<UncommittedIssue> = set
        .issues
        .drain(..)
        .filter(|u| !kept.iter().any(|k| k.id == u.id))
        .collect();
    set.issues = kept;
    finish(layout, &locked.ledger, &set, &gone)?;
    out.blocking = set.issues.iter().any(|u| u.severity >= Severity::High)
        || locked
            .ledger
            .active()
            .iter()
            .any(|e| e.severity >= Severity::High);
    Ok(out)
}

/// Drops the issues whose change is no longer uncommitted: those whose file now matches HEAD
/// (committed or reverted), whose identity a commit's audit has open in the ledger, and those
/// about no file once the whole tree is clean. Returns their IDs.
pub fn settle(layout: &Layout, repo: &Repo) -> Result<Vec<String>, LedgerError> {
    if read(layout).issues.is_empty() {
        return Ok(Vec::new());
    }
    let locked = crate::ledger::lock(layout)?;
    let mut set = read(layout);
    let committed = |u: &UncommittedIssue| {
        let key = base_key(&u.key);
        locked
            .ledger
            .active()
            .iter()
            .any(|e| base_key(&e.key) == key)
    };
    let tree_clean = std::cell::OnceCell::new();
    // Neither in HEAD nor in the working tree any more is not uncommitted either.
    let unchanged = |u: &UncommittedIssue| match u.file.as_deref() {
        Some(f) => repo
            .git
            .status_file(std::path::Path::new(f))
            .map_or(true, |s| s.is_empty()),
        None => *tree_clean
            .get_or_init(|| crate::git::uncommitted_changes(repo).is_ok_and(|c| c.is_empty())),
    };
    let (gone, kept): (Vec<_>, Vec<_>) = set
        .issues
        .drain(..)
        .partition(|u| committed(u) || unchanged(u));
    set.issues = kept;
    if gone.is_empty() {
        return Ok(Vec::new());
    }
    finish(layout, &locked.ledger, &set, &gone)?;
    Ok(gone.into_iter().map(|u| u.id).collect())
}

/// A ledger key without its repeat count (`#2`).
fn base_key(key: &str) -> &str {
    match key.rsplit_once('#') {
        Some((base, n)) if !n.is_empty() && n.bytes().all(|b| b.is_ascii_digit()) => base,
        _ => key,
    }
}

/// Saves the set, removes the files of the issues `gone`, refreshes the index files.
fn finish(
    layout: &Layout,
    ledger: &Ledger,
    set: &Uncommitted,
    gone: &[UncommittedIssue],
) -> Result<(), LedgerError> {
    save(layout, set)?;
    // The index first: when a file is gone, INBOX.md and BLOCKING no longer name it.
    super::refresh_index(layout, ledger)?;
    for u in gone {
        if let Some(name) = &u.inbox_file {
            let _ = std::fs::remove_file(layout.inbox_dir.join(name));
        }
    }
    Ok(())
}
