//! Watching for change with notify (inotify on Linux): the git directory for commits, and the
//! working tree for uncommitted edits.
//!
//! Events only wake the daemon up; it then re-reads HEAD itself. Git updates refs by renaming
//! lock files over them, so an event's own content (which file, which kind) is never trusted.

use std::path::{Path, PathBuf};

use notify::{EventKind, RecommendedWatcher, RecursiveMode, Watcher};
use tokio::sync::mpsc::UnboundedSender;

use super::repo::Repo;

/// What a watcher saw.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Change {
    /// Something in the git directory changed: HEAD may have moved.
    Git,
    /// These working-tree paths (repo-relative; not ignored, not ours) changed.
    WorkTree(Vec<String>),
}

/// A watch could not be set up; the daemon falls back to polling.
#[derive(Debug, thiserror::Error)]
#[error("cannot watch {path}: {message}")]
pub struct WatchError {
    /// What we tried to watch.
    pub path: PathBuf,
    /// Why it failed, with how to fix it when we know.
    pub message: String,
}

fn watch_error(path: &Path, e: &notify::Error) -> WatchError {
    let exhausted = matches!(e.kind, notify::ErrorKind::MaxFilesWatch)
        || matches!(&e.kind, notify::ErrorKind::Io(io) if io.raw_os_error() == Some(nix::libc::ENOSPC) || io.raw_os_error() == Some(nix::libc::EMFILE));
    let message = if exhausted {
        format!(
            "{e}: the inotify limit is exhausted; raise it with \
             `sudo sysctl fs.inotify.max_user_watches=524288 fs.inotify.max_user_instances=1024` \
             (persist it in /etc/sysctl.d/)"
        )
    } else {
        e.to_string()
    };
    WatchError {
        path: path.to_path_buf(),
        message,
    }
}

fn relevant(kind: &EventKind) -> bool {
    // Opening or reading a file changes nothing.
    !matches!(kind, EventKind::Access(_))
}

/// Watches what moves HEAD: the git directory's own files (HEAD, for a linked worktree its own
/// folder), the common directory (packed-refs) and its `refs/` tree.
pub fn watch_git(
    repo: &Repo,
    tx: UnboundedSender<Change>,
) -> Result<RecommendedWatcher, WatchError> {
    let gitdir = repo.git.path().to_path_buf();
    let common = repo.common_dir();
    let mut watcher = notify::recommended_watcher(move |res: notify::Result<notify::Event>| {
        if let Ok(event) = res {
            if relevant(&event.kind) {
                let _ = tx.send(Change::Git);
            }
        }
    })
    .map_err(|e| watch_error(&gitdir, &e))?;
    let mut targets = vec![
        (gitdir.clone(), RecursiveMode::NonRecursive),
        (common.join("refs"), RecursiveMode::Recursive),
    ];
    if common.canonicalize().ok() != gitdir.canonicalize().ok() {
        targets.push((common.clone(), RecursiveMode::NonRecursive));
    }
    for (path, mode) in targets {
        watcher
            .watch(&path, mode)
            .map_err(|e| watch_error(&path, &e))?;
    }
    Ok(watcher)
}

/// Watches the working tree for edits, ignoring `.git`, the auditor's own folders and what
/// `.gitignore` ignores.
pub fn watch_worktree(
    repo: &Repo,
    own_folders: Vec<PathBuf>,
    tx: UnboundedSender<Change>,
) -> Result<RecommendedWatcher, WatchError> {
    let root = repo.root.clone();
    // The callback runs on notify's thread; it gets its own handle for ignore rules.
    let ignores = git2::Repository::open(repo.git.path()).map_err(|e| WatchError {
        path: root.clone(),
        message: e.message().to_string(),
    })?;
    let ignores = std::sync::Mutex::new(ignores);
    let base = root.clone();
    let mut watcher = notify::recommended_watcher(move |res: notify::Result<notify::Event>| {
        let Ok(event) = res else { return };
        if !relevant(&event.kind) {
            return;
        }
        let changed: Vec<String> = event
            .paths
            .iter()
            .filter_map(|p| {
                let rel = p.strip_prefix(&base).ok()?;
                if rel.as_os_str().is_empty()
                    || rel.components().any(|c| c.as_os_str() == ".git")
                    || own_folders.iter().any(|f| p.starts_with(f))
                {
                    return None;
                }
                if let Ok(repo) = ignores.lock() {
                    if repo.is_path_ignored(rel).unwrap_or(false) {
                        return None;
                    }
                }
                Some(rel.to_string_lossy().into_owned())
            })
            .collect();
        if !changed.is_empty() {
            let _ = tx.send(Change::WorkTree(changed));
        }
    })
    .map_err(|e| watch_error(&root, &e))?;
    watcher
        .watch(&root, RecursiveMode::Recursive)
        .map_err(|e| watch_error(&root, &e))?;
    Ok(watcher)
}
