//! Findings accepted on adoption: a baseline of the secrets a repository held when the
//! auditor arrived (`auditor baseline`), and the entries of a `.gitleaksignore`. A finding
//! they cover is counted, not reported. Pure: text in, sets out.
//!
//! A baseline entry is a secret's fingerprint (the hash of its value, never the value) in a
//! file, under a rule: the same key moved within the file stays accepted, the same key
//! committed to another file is new. A `.gitleaksignore` line names a place instead
//! (`[commit:]file:rule:line`); its rule IDs are gitleaks', so a place matches whatever rule
//! of ours found a secret there.

use std::collections::BTreeSet;
use std::sync::atomic::{AtomicUsize, Ordering};

use serde::{Deserialize, Serialize};

use crate::finding::Finding;

/// Where `auditor baseline` writes, unless `[secrets] baseline` says otherwise.
pub const BASELINE_FILE: &str = "auditor-baseline.json";

/// The baseline file's format version.
pub const BASELINE_SCHEMA: u32 = 1;

/// One accepted secret.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
pub struct BaselineEntry {
    /// The rule that found it.
    pub rule: String,
    /// The file it is in.
    pub file: String,
    /// The fingerprint of its value.
    pub fingerprint: String,
    /// Where it was seen first, for people (not matched on).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub commit: Option<String>,
    /// Its line there, for people (not matched on).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub line: Option<u32>,
}

#[derive(Serialize, Deserialize)]
struct BaselineFile {
    schema_version: u32,
    #[serde(default)]
    tool: String,
    entries: Vec<BaselineEntry>,
}

/// A baseline file could not be used.
#[derive(Debug, thiserror::Error)]
pub enum BaselineError {
    /// Not JSON of the expected shape.
    #[error("not an auditor baseline: {0}")]
    Format(String),
    /// Written by a newer auditor.
    #[error("baseline schema_version {0} is not supported (this auditor reads {BASELINE_SCHEMA})")]
    Version(u32),
}

/// The secrets accepted when the auditor was adopted.
#[derive(Debug, Default)]
pub struct Baseline {
    entries: BTreeSet<(String, String, String)>,
    /// How many findings it kept out since it was loaded.
    hits: AtomicUsize,
}

impl Clone for Baseline {
    fn clone(&self) -> Self {
        Baseline {
            entries: self.entries.clone(),
            hits: AtomicUsize::new(self.hits.load(Ordering::Relaxed)),
        }
    }
}

impl Baseline {
    /// Reads a baseline file's text.
    pub fn parse(text: &str) -> Result<Baseline, BaselineError> {
        let file: BaselineFile =
            serde_json::from_str(text).map_err(|e| BaselineError::Format(e.to_string()))?;
        if file.schema_version != BASELINE_SCHEMA {
            return Err(BaselineError::Version(file.schema_version));
        }
        Ok(Baseline {
            entries: file
                .entries
                .into_iter()
                .map(|e| (e.rule, e.file, e.fingerprint))
                .collect(),
            hits: AtomicUsize::new(0),
        })
    }

    /// The baseline file for `findings` (their secrets only), sorted, one entry per secret.
    pub fn render(findings: &[Finding]) -> String {
        let mut entries: Vec<BaselineEntry> = Vec::new();
        let mut seen = BTreeSet::new();
        for f in findings
            .iter()
            .filter(|f| f.issue_type == crate::finding::IssueType::SecretExposure)
        {
            let file = f.file.clone().unwrap_or_default();
            if seen.insert((f.rule.clone(), file.clone(), f.fingerprint.clone())) {
                entries.push(BaselineEntry {
                    rule: f.rule.clone(),
                    file,
                    fingerprint: f.fingerprint.clone(),
                    commit: f.commit.clone(),
                    line: f.line,
                });
            }
        }
        entries.sort();
        let file = BaselineFile {
            schema_version: BASELINE_SCHEMA,
            tool: "auditor".into(),
            entries,
        };
        let mut text = serde_json::to_string_pretty(&file).unwrap_or_default();
        text.push('\n');
        text
    }

    /// How many secrets it accepts.
    pub fn len(&self) -> usize {
        self.entries.len()
    }

    /// Whether it accepts nothing.
    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }

    /// Its entries as `rule file fingerprint` lines, for the supervision record.
    pub fn keys(&self) -> impl Iterator<Item = String> + '_ {
        self.entries
            .iter()
            .map(|(rule, file, fp)| format!("{rule} {file} {fp}"))
    }

    /// Whether it accepts `f` (and counts it if so).
    pub fn covers(&self, f: &Finding) -> bool {
        let key = (
            f.rule.clone(),
            f.file.clone().unwrap_or_default(),
            f.fingerprint.clone(),
        );
        let hit = self.entries.contains(&key);
        if hit {
            self.hits.fetch_add(1, Ordering::Relaxed);
        }
        hit
    }

    /// How many findings it kept out.
    pub fn hits(&self) -> usize {
        self.hits.load(Ordering::Relaxed)
    }
}

/// One `.gitleaksignore` line: `[commit:]file:rule:line`.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
struct IgnoreEntry {
    commit: Option<String>,
    file: String,
    line: u32,
}

/// The places a `.gitleaksignore` accepts.
#[derive(Debug, Default)]
pub struct GitleaksIgnore {
    entries: BTreeSet<IgnoreEntry>,
    /// The lines as written, for the supervision record.
    lines: Vec<String>,
    hits: AtomicUsize,
}

impl Clone for GitleaksIgnore {
    fn clone(&self) -> Self {
        GitleaksIgnore {
            entries: self.entries.clone(),
            lines: self.lines.clone(),
            hits: AtomicUsize::new(self.hits.load(Ordering::Relaxed)),
        }
    }
}

impl GitleaksIgnore {
    /// Reads a `.gitleaksignore`. Lines that are no fingerprint are returned, 1-based, for a
    /// warning: gitleaks skips them too.
    pub fn parse(text: &str) -> (GitleaksIgnore, Vec<usize>) {
        let mut out = GitleaksIgnore::default();
        let mut bad = Vec::new();
        for (i, raw) in text.lines().enumerate() {
            let line = raw.trim();
            if line.is_empty() || line.starts_with('#') {
                continue;
            }
            // The file may itself hold colons: the rule and line are the last two fields,
            // and a commit is the first when it is 40 hex digits.
            let mut parts: Vec<&str> = line.rsplitn(3, ':').collect();
            parts.reverse();
            let (Some(head), Some(_rule), Some(number)) =
                (parts.first(), parts.get(1), parts.get(2))
            else {
                bad.push(i + 1);
                continue;
            };
            let Ok(number) = number.parse::<u32>() else {
                bad.push(i + 1);
                continue;
            };
            let (commit, file) = match head.split_once(':') {
                Some((c, f)) if c.len() == 40 && c.bytes().all(|b| b.is_ascii_hexdigit()) => {
                    (Some(c.to_ascii_lowercase()), f.to_string())
                }
                _ => (None, (*head).to_string()),
            };
            out.entries.insert(IgnoreEntry {
                commit,
                file,
                line: number,
            });
            out.lines.push(line.to_string());
        }
        (out, bad)
    }

    /// Its lines, for the supervision record.
    pub fn keys(&self) -> impl Iterator<Item = String> + '_ {
        self.lines.iter().cloned()
    }

    /// Whether it accepts the secret `f` (and counts it if so).
    pub fn covers(&self, f: &Finding) -> bool {
        let (Some(file), Some(line)) = (f.file.as_deref(), f.line) else {
            return false;
        };
        let hit = self.entries.iter().any(|e| {
            e.file == file
                && e.line == line
                && e.commit
                    .as_deref()
                    .is_none_or(|c| f.commit.as_deref() == Some(c))
        });
        if hit {
            self.hits.fetch_add(1, Ordering::Relaxed);
        }
        hit
    }

    /// How many findings it kept out.
    pub fn hits(&self) -> usize {
        self.hits.load(Ordering::Relaxed)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::finding::{IssueType, Location, Severity};

    fn secret(rule: &str, file: &str, line: u32, fp: &str, commit: &str) -> Finding {
        Finding {
            check: "secrets".into(),
            rule: rule.into(),
            issue_type: IssueType::SecretExposure,
            severity: Severity::Critical,
            file: Some(file.into()),
            line: Some(line),
            column: Some(1),
            title: String::new(),
            description: String::new(),
            remediation: String::new(),
            snippet: None,
            location: Location::Introduced,
            commit: Some(commit.into()),
            fingerprint: fp.into(),
            redacted: None,
        }
    }

    #[test]
    fn a_baseline_round_trips_and_matches_by_value_and_file() {
        let old = secret("github-token", "a.py", 3, "fp1", "c1");
        let text = Baseline::render(&[old.clone(), old.clone()]);
        let baseline = Baseline::parse(&text).expect("parses");
        assert_eq!(baseline.len(), 1);
        // Moved within the file: still accepted. Another file: new.
        assert!(baseline.covers(&secret("github-token", "a.py", 40, "fp1", "c9")));
        assert!(!baseline.covers(&secret("github-token", "b.py", 3, "fp1", "c9")));
        assert!(!baseline.covers(&secret("github-token", "a.py", 3, "fp2", "c9")));
        assert_eq!(baseline.hits(), 1);
        assert!(!text.contains("value"));
    }

    #[test]
    fn a_bad_baseline_is_an_error() {
        assert!(Baseline::parse("{}").is_err());
        assert!(matches!(
            Baseline::parse(r#"{"schema_version": 9, "entries": []}"#),
            Err(BaselineError::Version(9))
        ));
    }

    #[test]
    fn gitleaksignore_lines() {
        let commit = "a".repeat(40);
        let text = format!(
            "# accepted\n{commit}:config/dev.env:generic-api-key:4\nweb/a:b.js:aws-access-token:7\nnot a fingerprint\n"
        );
        let (ignore, bad) = GitleaksIgnore::parse(&text);
        assert_eq!(bad, [4]);
        assert!(ignore.covers(&secret("generic-secret", "config/dev.env", 4, "x", &commit)));
        assert!(!ignore.covers(&secret("generic-secret", "config/dev.env", 4, "x", "b")));
        assert!(ignore.covers(&secret("aws-access-key-id", "web/a:b.js", 7, "x", "any")));
        assert!(!ignore.covers(&secret("aws-access-key-id", "web/a:b.js", 8, "x", "any")));
    }
}
