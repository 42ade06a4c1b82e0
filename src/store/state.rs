//! The daemon's persisted state under `state/supervisor/`, so that a restart resumes where it
//! stopped: `last_checked_commit` (the design document's file: a hash and a newline) and
//! `daemon.json` (the audited commits, skip bookkeeping, recent stage durations).
//!
//! Every write is atomic. A corrupt or truncated file is never fatal: it is moved aside, the
//! problem is reported, and the daemon recovers from what git itself knows.

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};
use serde_json::Value;

use super::{AtomicWriteError, Layout, write_atomic};

/// How many audited commits are remembered (oldest forgotten first).
const MAX_AUDITED: usize = 100_000;
/// How many recent audits' durations are kept for estimates.
const MAX_DURATIONS: usize = 20;

/// One audit's stage durations, for `auditor status` estimates.
#[derive(Debug, Clone, Copy, Default, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct Durations {
    /// Static stage.
    pub audit_ms: u64,
    /// Test stage (0 when skipped).
    pub test_ms: u64,
    /// The whole audit.
    pub total_ms: u64,
}

/// Audits that keep failing: the commits they cover stay unaudited, and are retried.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Failure {
    /// Attempts that failed in a row.
    pub attempts: u32,
    /// Why the last one failed.
    #[serde(default)]
    pub message: String,
    /// The commits still unaudited (the failing batch), oldest first.
    pub commits: Vec<String>,
    /// When the first of them failed (RFC 3339).
    #[serde(default)]
    pub since: String,
}

impl Failure {
    /// As JSON (in `daemon.json` and `status.json`).
    pub fn to_json(&self) -> Value {
        serde_json::to_value(self).unwrap_or_default()
    }

    /// What an edited or older file holds, kept only as far as it makes sense: commit ids
    /// that are hashes.
    fn sane(mut self) -> Failure {
        self.commits.retain(|c| is_hash(c));
        self
    }
}

/// `daemon.json` as written.
#[derive(Debug, Default, Serialize, Deserialize)]
struct DaemonFile {
    schema_version: u32,
    #[serde(default)]
    audited: Vec<String>,
    #[serde(default)]
    consecutive_skips: u32,
    #[serde(default)]
    pending_skips: Vec<String>,
    #[serde(default)]
    waiting_since: Option<String>,
    #[serde(default)]
    failure: Option<Failure>,
    #[serde(default)]
    durations: Vec<Durations>,
}

/// What the daemon remembers across restarts.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct DaemonState {
    /// The newest commit audited (or deliberately skipped).
    pub last_checked: Option<String>,
    /// Every commit audited, in the order they were audited.
    pub audited: Vec<String>,
    /// `[skip-audit]` commits in a row not yet audited.
    pub consecutive_skips: u32,
    /// Skipped commits to list in the next report.
    pub pending_skips: Vec<String>,
    /// Recent audits' durations, oldest first.
    pub durations: Vec<Durations>,
    /// When the present wait for a fix began (RFC 3339), so a restart resumes it.
    pub waiting_since: Option<String>,
    /// Audits failing in a row, when the last one failed.
    pub failure: Option<Failure>,
}

impl DaemonState {
    /// Whether a commit was already audited.
    pub fn was_audited(&self, commit: &str) -> bool {
        self.audited.iter().any(|c| c == commit)
    }

    /// Records audited commits, forgetting the oldest beyond the cap.
    pub fn mark_audited<'a>(&mut self, commits: impl IntoIterator<Item = &'a String>) {
        let known: BTreeSet<String> = self.audited.iter().cloned().collect();
        for c in commits {
            if !known.contains(c) {
                self.audited.push(c.clone());
            }
        }
        let excess = self.audited.len().saturating_sub(MAX_AUDITED);
        self.audited.drain(..excess);
    }

    /// Records one audit's durations.
    pub fn push_durations(&mut self, d: Durations) {
        self.durations.push(d);
        let excess = self.durations.len().saturating_sub(MAX_DURATIONS);
        self.durations.drain(..excess);
    }
}

/// Where the state files are.
pub fn paths(layout: &Layout) -> (PathBuf, PathBuf) {
    (
        layout.state_dir.join("last_checked_commit"),
        layout.state_dir.join("daemon.json"),
    )
}

fn is_hash(s: &str) -> bool {
    (s.len() == 40 || s.len() == 64) && s.bytes().all(|b| b.is_ascii_hexdigit())
}

fn quarantine(path: &Path, problems: &mut Vec<String>, what: &str) {
    let aside = path.with_extension(format!(
        "corrupt-{}",
        chrono::Utc::now().format("%Y%m%dT%H%M%SZ")
    ));
    let _ = std::fs::rename(path, &aside);
    problems.push(format!(
        "{} was {what}; moved it to {} and recovered from the repository",
        path.display(),
        aside.display()
    ));
}

/// Loads the state. Problems (corrupt files, moved aside) come back as messages.
pub fn load(layout: &Layout) -> (DaemonState, Vec<String>) {
    let (last_path, json_path) = paths(layout);
    let mut problems = Vec::new();
    let mut state = DaemonState::default();
    match std::fs::read_to_string(&last_path) {
        Ok(text) if is_hash(text.trim()) => state.last_checked = Some(text.trim().to_string()),
        Ok(_) => quarantine(&last_path, &mut problems, "not a commit hash"),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
        Err(e) => problems.push(format!("cannot read {}: {e}", last_path.display())),
    }
    match std::fs::read(&json_path) {
        Ok(bytes) => match serde_json::from_slice::<DaemonFile>(&bytes) {
            Ok(file) if file.schema_version == 1 => {
                // Hand-edited entries that are not commits, or not times, are dropped.
                let hashes = |v: Vec<String>| v.into_iter().filter(|s| is_hash(s)).collect();
                state.audited = hashes(file.audited);
                state.pending_skips = hashes(file.pending_skips);
                state.consecutive_skips = file.consecutive_skips;
                state.waiting_since = file
                    .waiting_since
                    .filter(|t| chrono::DateTime::parse_from_rfc3339(t).is_ok());
                state.durations = file.durations;
                state.failure = file.failure.map(Failure::sane);
            }
            _ => quarantine(
                &json_path,
                &mut problems,
                "corrupt or of an unknown version",
            ),
        },
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
        Err(e) => problems.push(format!("cannot read {}: {e}", json_path.display())),
    }
    (state, problems)
}

/// Saves the state (two atomic writes; `daemon.json` first, so that `last_checked_commit`
/// never runs ahead of the audited set).
pub fn save(layout: &Layout, state: &DaemonState) -> Result<(), AtomicWriteError> {
    let (last_path, json_path) = paths(layout);
    let v = DaemonFile {
        schema_version: 1,
        audited: state.audited.clone(),
        consecutive_skips: state.consecutive_skips,
        pending_skips: state.pending_skips.clone(),
        waiting_since: state.waiting_since.clone(),
        failure: state.failure.clone(),
        durations: state.durations.clone(),
    };
    let v = serde_json::to_string(&v).unwrap_or_default();
    write_atomic(&json_path, format!("{v}\n").as_bytes())?;
    if let Some(last) = &state.last_checked {
        write_atomic(&last_path, format!("{last}\n").as_bytes())?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn layout(dir: &Path) -> Layout {
        Layout::new(
            dir,
            "logs/audit",
            "tasks/supervisor_feedback",
            "state/supervisor",
        )
    }

    #[test]
    fn round_trips() {
        let dir = tempfile::tempdir().expect("tempdir");
        let l = layout(dir.path());
        let h = "a".repeat(40);
        let mut s = DaemonState {
            last_checked: Some(h.clone()),
            ..DaemonState::default()
        };
        s.mark_audited([&h]);
        s.push_durations(Durations {
            audit_ms: 1,
            test_ms: 2,
            total_ms: 3,
        });
        s.failure = Some(Failure {
            attempts: 2,
            message: "write logs/audit: read-only".into(),
            commits: vec![h.clone()],
            since: "2026-01-01T00:00:00Z".into(),
        });
        save(&l, &s).expect("save");
        let (back, problems) = load(&l);
        assert!(problems.is_empty());
        assert_eq!(back, s);
    }

    #[test]
    fn corrupt_files_are_moved_aside_and_reported() {
        let dir = tempfile::tempdir().expect("tempdir");
        let l = layout(dir.path());
        let (last, json) = paths(&l);
        std::fs::create_dir_all(&l.state_dir).expect("mkdir");
        std::fs::write(&last, "a1b2c3\0\0garbage").expect("write");
        std::fs::write(&json, "{\"schema_version\": 1, \"audited\": [\"ab").expect("write");
        let (state, problems) = load(&l);
        assert_eq!(state, DaemonState::default());
        assert_eq!(problems.len(), 2, "{problems:?}");
        assert!(!last.exists() && !json.exists());
    }
}
