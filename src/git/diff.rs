//! What the audited commits changed: files and their added lines, over a range or one commit.

use std::collections::BTreeSet;
use std::ops::Range;
use std::path::{Path, PathBuf};

use git2::{Delta, DiffFindOptions, DiffOptions, FileMode, Oid};

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
    /// Repo-relative path (new side; old side for deletions), as text.
    pub path: String,
    /// The same path exactly as git stores it (`path` replaces bytes that are not UTF-8).
    pub exact: PathBuf,
    /// How it changed.
    pub status: FileStatus,
    /// The path before, for a rename: nothing is left at it.
    pub old_path: Option<String>,
    /// 1-based lines added or changed, at the target commit.
    pub added_lines: BTreeSet<u32>,
    /// The blob at the target (none for deletions).
    pub blob: Option<Oid>,
}

/// One file a commit changed against its first parent, renames detected: what the built-in
/// scanners read for that commit.
#[derive(Debug, Clone)]
pub struct CommitChange {
    /// Repo-relative path at the commit (before it, for deletions).
    pub path: String,
    /// The same path exactly as git stores it.
    pub exact: PathBuf,
    /// The path before, for a rename.
    pub old_path: Option<String>,
    /// How it changed.
    pub status: FileStatus,
    /// The version before (none when added).
    pub old_blob: Option<Oid>,
    /// The version at the commit (none when deleted).
    pub new_blob: Option<Oid>,
    /// Whether the change is the commit's own: for a merge, the file also differs from every
    /// other parent (what `git log --cc` shows, such as a conflict resolution).
    pub own: bool,
}

fn is_content(mode: FileMode) -> bool {
    matches!(mode, FileMode::Blob | FileMode::BlobExecutable)
}

/// The regular files changed between the trees of two commits (no `from`: the empty tree),
/// without reading their contents.
fn tree_changes(
    repo: &Repo,
    from: Option<Oid>,
    to: Oid,
    renames: bool,
) -> Result<Vec<CommitChange>, GitError> {
    let tree_of = |oid: Oid| {
        repo.git
            .find_commit(oid)
            .and_then(|c| c.tree())
            .ctx(|| format!("read the tree of {oid}"))
    };
    let new_tree = tree_of(to)?;
    let old_tree = from.map(tree_of).transpose()?;
    let mut opts = DiffOptions::new();
    opts.ignore_submodules(true);
    let mut diff = repo
        .git
        .diff_tree_to_tree(old_tree.as_ref(), Some(&new_tree), Some(&mut opts))
        .ctx(|| format!("diff {to}"))?;
    if renames {
        let mut find = DiffFindOptions::new();
        find.renames(true);
        diff.find_similar(Some(&mut find))
            .ctx(|| format!("find renames in {to}"))?;
    }
    let path_of = |f: git2::DiffFile<'_>| f.path().map(|p| p.to_string_lossy().into_owned());
    let id_of = |f: git2::DiffFile<'_>| (!f.id().is_zero()).then(|| f.id());
    let mut out = Vec::new();
    for delta in diff.deltas() {
        let status = match delta.status() {
            Delta::Added | Delta::Copied => FileStatus::Added,
            Delta::Deleted => FileStatus::Deleted,
            Delta::Renamed => FileStatus::Renamed,
            Delta::Modified | Delta::Typechange => FileStatus::Modified,
            _ => continue,
        };
        let side = if status == FileStatus::Deleted {
            delta.old_file()
        } else {
            delta.new_file()
        };
        if !is_content(side.mode()) {
            continue; // submodules and symlinks carry no content to audit
        }
        let Some(exact) = side.path().map(Path::to_path_buf) else {
            continue;
        };
        let path = exact.to_string_lossy().into_owned();
        out.push(CommitChange {
            exact,
            old_path: (status == FileStatus::Renamed)
                .then(|| path_of(delta.old_file()))
                .flatten(),
            old_blob: id_of(delta.old_file()).filter(|_| is_content(delta.old_file().mode())),
            new_blob: id_of(delta.new_file()),
            path,
            status,
            own: true,
        });
    }
    Ok(out)
}

/// The files changed between `base` (none: empty tree) and `target`, with added lines.
pub fn changed_files(
    repo: &Repo,
    base: Option<Oid>,
    target: Oid,
) -> Result<Vec<ChangedFile>, GitError> {
    let blob = |id: Option<Oid>| id.and_then(|id| repo.git.find_blob(id).ok());
    let mut out = Vec::new();
    for c in tree_changes(repo, base, target, true)? {
        // A binary file has no lines to add, as in git's diff.
        let added_lines = match blob(c.new_blob).filter(|b| !b.is_binary()) {
            Some(new) => added_lines(&line_diff(blob(c.old_blob).as_ref(), &new)?),
            None => BTreeSet::new(),
        };
        out.push(ChangedFile {
            exact: c.exact,
            path: c.path,
            status: c.status,
            old_path: c.old_path,
            added_lines,
            blob: c.new_blob,
        });
    }
    out.sort_by(|a, b| a.path.cmp(&b.path));
    Ok(out)
}

/// What one commit changed.
#[derive(Debug, Clone)]
pub struct CommitChanges {
    /// The files changed against the first parent, renames detected.
    pub files: Vec<CommitChange>,
    /// For a merge, the files changed against each other parent (renames not detected): a
    /// merge did only what it did against every parent.
    pub against_others: Vec<Vec<CommitChange>>,
    /// Whether the commit is a root (missing parents, as in a shallow clone, make it one).
    pub root: bool,
}

/// The files one commit changed against each of its parents.
pub fn commit_changes(repo: &Repo, oid: Oid) -> Result<CommitChanges, GitError> {
    let commit = repo
        .git
        .find_commit(oid)
        .ctx(|| format!("read commit {oid}"))?;
    let parents: Vec<Oid> = commit
        .parent_ids()
        .filter(|p| repo.git.find_commit(*p).is_ok())
        .collect();
    let mut files = tree_changes(repo, parents.first().copied(), oid, true)?;
    let mut against_others = Vec::new();
    // A merge's own changes: what also differs from every other parent.
    for other in parents.iter().skip(1) {
        let against = tree_changes(repo, Some(*other), oid, false)?;
        let changed: BTreeSet<&str> = against.iter().map(|c| c.path.as_str()).collect();
        for c in &mut files {
            c.own &= changed.contains(c.path.as_str());
        }
        against_others.push(against);
    }
    Ok(CommitChanges {
        files,
        against_others,
        root: parents.is_empty(),
    })
}

/// One changed region of a file: lines `old` of the version before became lines `new`
/// (0-based, half-open; an empty range is an insertion or deletion point).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Hunk {
    /// Lines of the version before.
    pub old: Range<usize>,
    /// Lines of the version after.
    pub new: Range<usize>,
}

/// How `new` differs from `old`, as git's diff decides (without `old`: all of `new` is added).
pub fn line_diff(
    old: Option<&git2::Blob<'_>>,
    new: &git2::Blob<'_>,
) -> Result<Vec<Hunk>, GitError> {
    let Some(old) = old else {
        let lines = line_count(new.content());
        return Ok(if lines == 0 {
            Vec::new()
        } else {
            vec![Hunk {
                old: 0..0,
                new: 0..lines,
            }]
        });
    };
    let mut opts = DiffOptions::new();
    opts.context_lines(0);
    // From blobs, not buffers: libgit2 would hash buffers again to name them.
    let patch = git2::Patch::from_blobs(old, None, new, None, Some(&mut opts))
        .ctx(|| format!("diff {} against {}", new.id(), old.id()))?;
    // Git numbers an empty side by the line before it: `-5,0` is "after line 5".
    let range = |start: u32, len: u32| {
        let (start, len) = (start as usize, len as usize);
        if len == 0 {
            start..start
        } else {
            start - 1..start - 1 + len
        }
    };
    (0..patch.num_hunks())
        .map(|h| {
            let (hunk, _) = patch.hunk(h).ctx(|| "read a diff hunk".to_string())?;
            Ok(Hunk {
                old: range(hunk.old_start(), hunk.old_lines()),
                new: range(hunk.new_start(), hunk.new_lines()),
            })
        })
        .collect()
}

/// The 1-based lines the hunks add.
pub fn added_lines(hunks: &[Hunk]) -> BTreeSet<u32> {
    hunks
        .iter()
        .flat_map(|h| h.new.clone())
        .map(|l| u32::try_from(l + 1).unwrap_or(u32::MAX))
        .collect()
}

/// Lines in `content`, counted as `str::lines` counts them.
fn line_count(content: &[u8]) -> usize {
    let newlines = memchr::memchr_iter(b'\n', content).count();
    newlines + usize::from(!content.is_empty() && !content.ends_with(b"\n"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hunks_and_added_lines_of_edits_and_new_files() {
        let dir = tempfile::tempdir().expect("tempdir");
        let git = git2::Repository::init(dir.path()).expect("init");
        let blob = |b: &[u8]| git.find_blob(git.blob(b).expect("write")).expect("read");
        let old = blob(b"a\nb\nc\nd\n");
        let new = blob(b"a\nB\nc\nd\ne\n");
        let hunks = line_diff(Some(&old), &new).expect("diff");
        assert_eq!(
            hunks,
            [
                Hunk {
                    old: 1..2,
                    new: 1..2
                },
                Hunk {
                    old: 4..4,
                    new: 4..5
                }
            ]
        );
        assert_eq!(added_lines(&hunks).into_iter().collect::<Vec<_>>(), [2, 5]);
        let deletion = line_diff(Some(&old), &blob(b"a\nd\n")).expect("diff");
        assert_eq!(
            deletion,
            [Hunk {
                old: 1..3,
                new: 1..1
            }]
        );
        let all = line_diff(None, &blob(b"x\ny")).expect("diff");
        assert_eq!(added_lines(&all).into_iter().collect::<Vec<_>>(), [1, 2]);
        assert!(line_diff(None, &blob(b"")).expect("diff").is_empty());
        assert!(line_diff(Some(&old), &old).expect("diff").is_empty());
    }
}
