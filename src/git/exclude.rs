//! Keeping the auditor's folders out of the audited repo's `git status` via `info/exclude`.

use std::path::Path;

use super::error::GitError;
use super::repo::Repo;
use crate::store::write_atomic_exact;

/// Adds each pattern to `info/exclude` unless it is already there. Idempotent.
pub fn ensure_excluded(repo: &Repo, patterns: &[String]) -> Result<(), GitError> {
    let path = repo.common_dir().join("info").join("exclude");
    let existing = match std::fs::read_to_string(&path) {
        Ok(s) => s,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => String::new(),
        Err(source) => {
            return Err(GitError::Io {
                context: "read",
                path,
                source,
            });
        }
    };
    let missing: Vec<&String> = patterns
        .iter()
        .filter(|p| !existing.lines().any(|l| l.trim() == p.as_str()))
        .collect();
    if missing.is_empty() {
        return Ok(());
    }
    let mut text = existing.clone();
    if !text.is_empty() && !text.ends_with('\n') {
        text.push('\n');
    }
    if !existing.contains("# auditor") {
        text.push_str("# auditor: runtime output (reports, inbox, state)\n");
    }
    for p in missing {
        text.push_str(p);
        text.push('\n');
    }
    write_atomic_exact(Path::new(&path), text.as_bytes()).map_err(|e| GitError::Io {
        context: "write",
        path: e.path,
        source: e.source,
    })
}
