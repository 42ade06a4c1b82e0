//! Where an open issue is, as the lines the agent reads print it: `file:line`, the line
//! followed from the commit it was last found in to HEAD when later commits moved it.

use git2::Oid;

use crate::bytes::short;
use crate::git::{Repo, follow_line};
use crate::ledger::Entry;

/// `file:line` as last found (`file` when there is no line); `None` for an issue about no
/// file.
pub fn place(e: &Entry) -> Option<String> {
    let file = e.file.as_deref()?;
    Some(match e.line {
        Some(line) => format!("{file}:{line}"),
        None => file.to_string(),
    })
}

/// `file:line` at `head`: the line as last found, moved by what later commits added or
/// removed above it; when they changed the line itself (or removed the file), where it was
/// and in which commit.
pub fn place_at(repo: &Repo, head: Option<Oid>, e: &Entry) -> Option<String> {
    let file = e.file.as_deref()?;
    let (Some(line), Some(head)) = (e.line, head) else {
        return place(e);
    };
    let Ok(seen) = Oid::from_str(&e.last_seen) else {
        return place(e);
    };
    Some(match follow_line(repo, seen, head, file, line) {
        Some(now) => format!("{file}:{now}"),
        None if repo.file_head(head, file, 0).is_none() => {
            format!(
                "{file}:{line} (as of {}; the file is gone)",
                short(&e.last_seen)
            )
        }
        None if repo.git.find_commit(seen).is_ok() => {
            format!(
                "{file}:{line} (as of {}; changed since)",
                short(&e.last_seen)
            )
        }
        None => format!("{file}:{line}"),
    })
}
