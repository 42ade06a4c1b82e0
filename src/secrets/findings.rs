//! Turning secret matches in one file into findings: redacted, fingerprinted, with context.

use std::collections::BTreeSet;

use super::SecretsSettings;
use super::{Scanner, SecretMatch, fingerprint, redact};
use crate::finding::{Finding, IssueType, Location, Severity};

/// Lines of context shown on each side of a secret.
const CONTEXT: usize = 1;
/// Context lines are cut to this many characters.
const MAX_CONTEXT_LINE: usize = 160;

/// Where scanned content is: in a commit, or written in the working tree (an uncommitted
/// audit's snapshot, which nobody can look up and which is not in the history yet).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Written<'a> {
    /// In this commit.
    Committed(&'a str),
    /// In the working tree, captured as this snapshot commit.
    NotCommitted(&'a str),
}

impl<'a> Written<'a> {
    /// The commit scanned (the snapshot's, for the working tree).
    fn commit(self) -> &'a str {
        match self {
            Written::Committed(c) | Written::NotCommitted(c) => c,
        }
    }
}

/// Scans one file's content and returns its findings.
///
/// `added` holds the lines the commit added (for the location label); `None` means every
/// line counts as introduced (whole-tree and whole-history scans).
pub fn scan_file(
    scanner: &Scanner,
    settings: &SecretsSettings,
    path: &str,
    content: &[u8],
    at: Written<'_>,
    added: Option<&BTreeSet<u32>>,
    quiet: Option<&super::QuietText>,
) -> Vec<Finding> {
    let committed = matches!(at, Written::Committed(_));
    let commit = Some(at.commit());
    if settings.allow_paths.is_match(path) {
        return Vec::new();
    }
    let origin = super::Origin {
        path: Some(path),
        commit,
        quiet,
    };
    let matches: Vec<SecretMatch> = scanner
        .scan_at(content, origin)
        .into_iter()
        .filter(|m| {
            let line = line_text(content, m.start);
            !settings
                .allow_regexes
                .iter()
                .any(|r| r.is_match(&m.value) || r.is_match(&line))
        })
        .collect();
    for m in &matches {
        // Every later output hides the value wherever it appears (`outbound`).
        super::remember(&m.value);
    }
    matches
        .iter()
        .map(|m| {
            let location = match added {
                Some(lines) if !lines.contains(&m.line) => Location::Touched,
                _ => Location::Introduced,
            };
            let redacted = redact(&m.value);
            Finding {
                check: "secrets".into(),
                rule: m.rule.id.clone(),
                issue_type: IssueType::SecretExposure,
                severity: Severity::Critical,
                file: Some(path.to_string()),
                line: Some(m.line),
                column: Some(m.column),
                title: format!("Secret exposed: {}", m.rule.title),
                description: if committed {
                    format!(
                        "{} committed in `{path}` at line {}: `{redacted}` (fingerprint {}). \
                         The value is shown redacted; it is in the repository's history.",
                        m.rule.title,
                        m.line,
                        fingerprint(&m.value)
                    )
                } else {
                    format!(
                        "{} written (not yet committed) in `{path}` at line {}: `{redacted}` \
                         (fingerprint {}). The value is shown redacted; it is not in the \
                         repository's history yet.",
                        m.rule.title,
                        m.line,
                        fingerprint(&m.value)
                    )
                },
                remediation: if committed {
                    m.rule.remediation.clone()
                } else {
                    m.rule.remediation_written.clone()
                },
                snippet: Some(context(content, m, &matches)),
                location,
                // The working tree's snapshot is no commit anyone can look up.
                commit: committed.then(|| at.commit().to_string()),
                fingerprint: fingerprint(&m.value),
                redacted: Some(redacted),
            }
        })
        // Accepted on adoption: counted by the settings, not reported.
        .filter(|f| !settings.accepts(f))
        .collect()
}

fn line_text(content: &[u8], at: usize) -> String {
    let (start, end) = crate::bytes::line_bounds(content, at);
    String::from_utf8_lossy(&content[start..end]).into_owned()
}

/// The lines around a match with every secret in them redacted, numbered.
fn context(content: &[u8], m: &SecretMatch, all: &[SecretMatch]) -> String {
    // Redact every match in the file first, so that no context line can carry a value.
    let mut redacted = Vec::with_capacity(content.len());
    let mut pos = 0;
    for other in all {
        if other.start < pos {
            continue;
        }
        redacted.extend_from_slice(&content[pos..other.start]);
        let r = redact(&other.value);
        // Keep line numbering: a multi-line value (a key block) keeps its newlines count.
        let newlines = other.value.matches('\n').count();
        redacted.extend_from_slice(r.as_bytes());
        redacted.extend(std::iter::repeat_n(b'\n', newlines));
        pos = other.end;
    }
    redacted.extend_from_slice(&content[pos..]);
    let text = String::from_utf8_lossy(&redacted);
    let line = m.line as usize;
    let first = line.saturating_sub(CONTEXT).max(1);
    text.lines()
        .enumerate()
        .skip(first - 1)
        .take(line - first + 1 + CONTEXT)
        .map(|(i, l)| {
            let l: String = l.chars().take(MAX_CONTEXT_LINE).collect();
            format!("{:>5} | {l}", i + 1)
        })
        .collect::<Vec<_>>()
        .join("\n")
}

/// What a secret was found in besides a file's content.
#[derive(Debug, Clone, Copy)]
pub enum Source<'a> {
    /// The commit's message.
    Message,
    /// The name of a file the commit added or changed.
    Path(&'a str),
}

/// Scans a commit's message or a file's name: a token there leaks into every output that
/// quotes it (the report's commit summaries, the feedback, hooks), and is in the history.
pub fn scan_source(
    scanner: &Scanner,
    settings: &SecretsSettings,
    source: Source<'_>,
    text: &[u8],
    commit: &str,
) -> Vec<Finding> {
    let (label, file) = match source {
        Source::Message => ("commit message", None),
        Source::Path(path) => (path, Some(path.to_string())),
    };
    let mut found = scan_file(
        scanner,
        settings,
        label,
        text,
        Written::Committed(commit),
        None,
        None,
    );
    let short = crate::bytes::short(commit);
    for f in &mut found {
        let redacted = f.redacted.clone().unwrap_or_default();
        let (kind, where_) = match source {
            Source::Message => ("message", format!("the message of commit `{short}`")),
            Source::Path(_) => ("file name", format!("a file name of commit `{short}`")),
        };
        f.description = format!(
            "{} in {where_}: `{redacted}` (fingerprint {}). A {kind} is kept in the history and quoted wherever the commit is shown; the value is shown redacted.",
            f.title.trim_start_matches("Secret exposed: "),
            f.fingerprint
        );
        f.title = format!("{} (in the commit's {kind})", f.title);
        f.file.clone_from(&file);
        f.line = None;
        f.column = None;
        f.snippet = None;
    }
    found
}
