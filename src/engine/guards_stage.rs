//! The guards over an audit's commits: each commit's changed files (renames detected), both
//! versions read through libgit2, handed to `guards::check_commit`.

use std::collections::HashSet;

use git2::{Delta, DiffFindOptions, DiffOptions, Oid};

use crate::finding::Finding;
use crate::git::{GitError, Repo};
use crate::guards::{ChangeKind, FactsCache, FileChange, GuardSettings, check_commit_cached};

/// Blobs larger than this are judged by size alone (never inflated for facts).
const READ_LIMIT: u64 = 2 << 20;

fn ctx(what: String) -> impl FnOnce(git2::Error) -> GitError {
    move |source| GitError::Git {
        context: what,
        source,
    }
}

/// One changed file with both versions read.
struct Owned {
    path: String,
    old_path: Option<String>,
    kind: ChangeKind,
    old: Option<Vec<u8>>,
    new: Option<Vec<u8>>,
    new_size: u64,
    ids: (String, String),
}

/// The blob's size without inflating it, and its content when small enough to read.
fn blob(repo: &Repo, odb: &git2::Odb<'_>, id: Oid) -> (u64, Option<Vec<u8>>) {
    if id.is_zero() {
        return (0, None);
    }
    let size = odb.read_header(id).map_or(0, |(len, _)| len as u64);
    if size > READ_LIMIT {
        return (size, None);
    }
    let content = repo.git.find_blob(id).ok().map(|b| b.content().to_vec());
    (size, content)
}

/// Runs the guards over every commit (oldest first); a finding repeated by a later commit of
/// the batch is reported once, at the commit that introduced it.
pub fn guard_commits(
    repo: &Repo,
    commits: &[Oid],
    settings: &GuardSettings,
) -> Result<Vec<Finding>, GitError> {
    let mut out = Vec::new();
    let mut seen: HashSet<(String, Option<String>, String)> = HashSet::new();
    if !settings.enabled {
        return Ok(out);
    }
    let mut cache = FactsCache::default();
    let odb = repo
        .git
        .odb()
        .map_err(ctx("open the object database".into()))?;
    for &oid in commits {
        let commit = repo
            .git
            .find_commit(oid)
            .map_err(ctx(format!("read commit {oid}")))?;
        let new_tree = commit
            .tree()
            .map_err(ctx(format!("read the tree of {oid}")))?;
        // Missing parents (a shallow clone) make the commit a root.
        let old_tree = commit.parent(0).ok().and_then(|p| p.tree().ok());
        let mut opts = DiffOptions::new();
        opts.ignore_submodules(true);
        let mut diff = repo
            .git
            .diff_tree_to_tree(old_tree.as_ref(), Some(&new_tree), Some(&mut opts))
            .map_err(ctx(format!("diff {oid}")))?;
        let mut find = DiffFindOptions::new();
        find.renames(true);
        diff.find_similar(Some(&mut find))
            .map_err(ctx(format!("find renames in {oid}")))?;
        let mut owned: Vec<Owned> = Vec::new();
        for delta in diff.deltas() {
            let kind = match delta.status() {
                Delta::Added | Delta::Copied | Delta::Untracked => ChangeKind::Added,
                Delta::Deleted => ChangeKind::Deleted,
                Delta::Renamed => ChangeKind::Renamed,
                Delta::Modified | Delta::Typechange => ChangeKind::Modified,
                _ => continue,
            };
            let path_of =
                |f: git2::DiffFile<'_>| f.path().map(|p| p.to_string_lossy().into_owned());
            let (Some(path), old_path) = (
                if kind == ChangeKind::Deleted {
                    path_of(delta.old_file())
                } else {
                    path_of(delta.new_file())
                },
                (kind == ChangeKind::Renamed)
                    .then(|| path_of(delta.old_file()))
                    .flatten(),
            ) else {
                continue;
            };
            let old_path_key = old_path.as_deref().unwrap_or(&path);
            let old_known = cache.contains(old_path_key, &delta.old_file().id().to_string());
            // Facts already read spare inflating the old version, unless its lines are shown.
            let old = if old_known && !settings.needs_old_text(&path) {
                None
            } else {
                blob(repo, &odb, delta.old_file().id()).1
            };
            let (new_size, new) = blob(repo, &odb, delta.new_file().id());
            let id = |f: git2::DiffFile<'_>| {
                if f.id().is_zero() {
                    String::new()
                } else {
                    f.id().to_string()
                }
            };
            owned.push(Owned {
                path,
                old_path,
                kind,
                old,
                new,
                new_size,
                ids: (id(delta.old_file()), id(delta.new_file())),
            });
        }
        let changes: Vec<FileChange<'_>> = owned
            .iter()
            .map(|o| FileChange {
                path: o.path.clone(),
                old_path: o.old_path.clone(),
                kind: o.kind,
                old: o.old.as_deref(),
                new: o.new.as_deref(),
                new_size: o.new_size,
                ids: o.ids.clone(),
            })
            .collect();
        for f in check_commit_cached(&changes, settings, &oid.to_string(), &mut cache) {
            if seen.insert((f.rule.clone(), f.file.clone(), f.description.clone())) {
                out.push(f);
            }
        }
    }
    Ok(out)
}
