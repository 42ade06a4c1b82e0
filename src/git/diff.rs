//! What the audited commits changed: files, their added lines, and each commit's touched blobs.

use std::cell::RefCell;
use std::collections::{BTreeMap, BTreeSet};

use git2::{Delta, DiffOptions, FileMode, Oid};

use super::error::{GitContext, GitError};
use super::repo::Repo;

/// How a file changed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FileStatus {
    /// New file.
    Added,
    /// Content changed.
    Modified,
    /// Moved (possibly with edits).
    Renamed,
    /// Removed.
    Deleted,
}

/// A file the audited commits changed, with the lines they added (new-side numbers).
#[derive(Debug, Clone)]
pub struct ChangedFile {
    /// Repo-relative path (new side; old side for deletions).
    pub path: String,
    /// How it changed.
    pub status: FileStatus,
    /// 1-based lines added or changed, at the target commit.
    pub added_lines: BTreeSet<u32>,
    /// The blob at the target (none for deletions).
    pub blob: Option<Oid>,
}

/// A blob one commit touched (added or modified), for the secret scanner.
#[derive(Debug, Clone)]
pub struct CommitBlob {
    /// The commit.
    pub commit: Oid,
    /// Repo-relative path at that commit.
    pub path: String,
    /// The blob's id.
    pub blob: Oid,
    /// Lines this commit added (vs its first parent).
    pub added_lines: BTreeSet<u32>,
}

fn is_content(mode: FileMode) -> bool {
    matches!(mode, FileMode::Blob | FileMode::BlobExecutable)
}

/// Diffs two trees (no `from`: the empty tree), returning content files with added lines.
fn diff_trees(
    repo: &Repo,
    from: Option<Oid>,
    to: Oid,
    renames: bool,
) -> Result<BTreeMap<String, ChangedFile>, GitError> {
    let tree_of = |oid: Oid| {
        repo.git
            .find_commit(oid)
            .and_then(|c| c.tree())
            .ctx(|| format!("read the tree of {oid}"))
    };
    let new_tree = tree_of(to)?;
    let old_tree = from.map(tree_of).transpose()?;
    let mut opts = DiffOptions::new();
    opts.context_lines(0).ignore_submodules(true);
    let mut diff = repo
        .git
        .diff_tree_to_tree(old_tree.as_ref(), Some(&new_tree), Some(&mut opts))
        .ctx(|| format!("diff {to}"))?;
    if renames {
        diff.find_similar(None)
            .ctx(|| format!("find renames in {to}"))?;
    }
    let files: RefCell<BTreeMap<String, ChangedFile>> = RefCell::new(BTreeMap::new());
    let path_of = |delta: &git2::DiffDelta<'_>| -> Option<String> {
        let side = if delta.status() == Delta::Deleted {
            delta.old_file()
        } else {
            delta.new_file()
        };
        side.path().map(|p| p.to_string_lossy().into_owned())
    };
    diff.foreach(
        &mut |delta, _| {
            let status = match delta.status() {
                Delta::Added | Delta::Copied => FileStatus::Added,
                Delta::Deleted => FileStatus::Deleted,
                Delta::Renamed => FileStatus::Renamed,
                _ => FileStatus::Modified,
            };
            let mode = if status == FileStatus::Deleted {
                delta.old_file().mode()
            } else {
                delta.new_file().mode()
            };
            if !is_content(mode) {
                return true; // submodules and symlinks carry no content to audit
            }
            if let Some(path) = path_of(&delta) {
                let blob = (status != FileStatus::Deleted).then(|| delta.new_file().id());
                files.borrow_mut().insert(
                    path.clone(),
                    ChangedFile {
                        path,
                        status,
                        added_lines: BTreeSet::new(),
                        blob,
                    },
                );
            }
            true
        },
        None,
        None,
        Some(&mut |delta, _hunk, line| {
            if line.origin() == '+' {
                if let (Some(path), Some(n)) = (path_of(&delta), line.new_lineno()) {
                    if let Some(f) = files.borrow_mut().get_mut(&path) {
                        f.added_lines.insert(n);
                    }
                }
            }
            true
        }),
    )
    .ctx(|| format!("walk the diff of {to}"))?;
    Ok(files.into_inner())
}

/// The files changed between `base` (none: empty tree) and `target`, with added lines.
pub fn changed_files(
    repo: &Repo,
    base: Option<Oid>,
    target: Oid,
) -> Result<Vec<ChangedFile>, GitError> {
    Ok(diff_trees(repo, base, target, true)?
        .into_values()
        .collect())
}

/// The blobs one commit added or modified.
///
/// For a merge, the files that differ from every parent (the merge's own changes, such as a
/// conflict resolution), as `git log --cc` shows them.
pub fn commit_blobs(repo: &Repo, oid: Oid) -> Result<Vec<CommitBlob>, GitError> {
    let commit = repo
        .git
        .find_commit(oid)
        .ctx(|| format!("read commit {oid}"))?;
    // In a shallow clone, missing parents are treated as absent (the commit is a root).
    let parents: Vec<Oid> = commit
        .parent_ids()
        .filter(|p| repo.git.find_commit(*p).is_ok())
        .collect();
    let first = diff_trees(repo, parents.first().copied(), oid, false)?;
    let mut keep: Vec<ChangedFile> = first
        .into_values()
        .filter(|f| f.status != FileStatus::Deleted)
        .collect();
    for other in parents.iter().skip(1) {
        let changed = diff_trees(repo, Some(*other), oid, false)?;
        keep.retain(|f| changed.contains_key(&f.path));
    }
    Ok(keep
        .into_iter()
        .filter_map(|f| {
            Some(CommitBlob {
                commit: oid,
                blob: f.blob?,
                path: f.path,
                added_lines: f.added_lines,
            })
        })
        .collect())
}
