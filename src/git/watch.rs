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
        if let Ok(event) = res
            && relevant(&event.kind)
        {
            let _ = tx.send(Change::Git);
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

/// The working-tree watch: one non-recursive inotify watch per folder that git does not
/// ignore, so that build outputs (`target/`, `node_modules/`), `.git` and the auditor's own
/// folders (with the snapshot, a second copy of the tree) cost no watch at all.
pub struct TreeWatch {
    watcher: RecommendedWatcher,
    root: PathBuf,
    own_folders: Vec<PathBuf>,
    /// Folders watched.
    pub folders: usize,
}

impl TreeWatch {
    fn skip(&self, repo: &Repo, dir: &Path) -> bool {
        let Ok(rel) = dir.strip_prefix(&self.root) else {
            return true;
        };
        if rel.as_os_str().is_empty() {
            return false;
        }
        if rel.components().any(|c| c.as_os_str() == ".git")
            || self.own_folders.iter().any(|f| dir.starts_with(f))
            // A nested repository or submodule is not this tree.
            || dir.join(".git").exists()
        {
            return true;
        }
        // A trailing slash asks about the folder, so that `target/` patterns apply.
        let as_dir = format!("{}/", rel.to_string_lossy());
        repo.git.is_path_ignored(&as_dir).unwrap_or(false)
    }

    /// Watches `dir` and every folder below it that is not skipped.
    pub fn add_tree(&mut self, repo: &Repo, dir: &Path) -> Result<(), WatchError> {
        let mut stack = vec![dir.to_path_buf()];
        while let Some(d) = stack.pop() {
            if self.skip(repo, &d) {
                continue;
            }
            match self.watcher.watch(&d, RecursiveMode::NonRecursive) {
                Ok(()) => self.folders += 1,
                // Gone already (a short-lived temp folder): nothing to watch.
                Err(e) if matches!(e.kind, notify::ErrorKind::PathNotFound) => continue,
                Err(e) => return Err(watch_error(&d, &e)),
            }
            let Ok(entries) = std::fs::read_dir(&d) else {
                continue;
            };
            for e in entries.flatten() {
                if e.file_type().is_ok_and(|t| t.is_dir()) {
                    stack.push(e.path());
                }
            }
        }
        Ok(())
    }

    /// Watches the folders among `paths` (repo-relative, as a change reported them): a new
    /// folder must be watched before edits inside it are seen.
    pub fn add_new_folders(&mut self, repo: &Repo, paths: &[String]) -> Result<(), WatchError> {
        for p in paths {
            let full = self.root.join(p);
            if std::fs::symlink_metadata(&full).is_ok_and(|m| m.is_dir()) {
                self.add_tree(repo, &full)?;
            }
        }
        Ok(())
    }
}

/// Watches the working tree for edits, ignoring `.git`, the auditor's own folders and what
/// `.gitignore` ignores.
pub fn watch_worktree(
    repo: &Repo,
    own_folders: Vec<PathBuf>,
    tx: UnboundedSender<Change>,
) -> Result<TreeWatch, WatchError> {
    let root = repo.root.clone();
    // The callback runs on notify's thread; it gets its own handle for ignore rules.
    let ignores = git2::Repository::open(repo.git.path()).map_err(|e| WatchError {
        path: root.clone(),
        message: e.message().to_string(),
    })?;
    let ignores = std::sync::Mutex::new(ignores);
    let base = root.clone();
    let own = own_folders.clone();
    let watcher = notify::recommended_watcher(move |res: notify::Result<notify::Event>| {
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
                    || own.iter().any(|f| p.starts_with(f))
                {
                    return None;
                }
                if let Ok(repo) = ignores.lock()
                    && repo.is_path_ignored(rel).unwrap_or(false)
                {
                    return None;
                }
                Some(rel.to_string_lossy().into_owned())
            })
            .collect();
        if !changed.is_empty() {
            let _ = tx.send(Change::WorkTree(changed));
        }
    })
    .map_err(|e| watch_error(&root, &e))?;
    let mut tree = TreeWatch {
        watcher,
        root: root.clone(),
        own_folders,
        folders: 0,
    };
    tree.add_tree(repo, &root)?;
    Ok(tree)
}
