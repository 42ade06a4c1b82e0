//! Uncommitted changes: what the working tree holds beyond HEAD, and a synthetic commit of that
//! state (written into the snapshot's own object store, never the audited repository's) so
//! that the engine audits it like any commit.

use std::path::Path;

use git2::build::TreeUpdateBuilder;
use git2::{FileMode, Oid, Repository, Status, StatusOptions};

use super::error::{GitContext, GitError};
use super::repo::Repo;

/// One path whose working-tree content differs from HEAD.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct WorkChange {
    /// Repo-relative path.
    pub path: String,
    /// Removed from the working tree.
    pub deleted: bool,
}

/// The working tree's changes against HEAD (staged or not, untracked included, ignored and
/// submodules excluded). Reads the agent's index; never writes it.
pub fn uncommitted_changes(repo: &Repo) -> Result<Vec<WorkChange>, GitError> {
    // Our handle has a detached, empty index; status needs the real one.
    let real = Repository::open(repo.git.path()).ctx(|| "open the repository for status".into())?;
    let mut opts = StatusOptions::new();
    opts.include_untracked(true)
        .recurse_untracked_dirs(true)
        .include_ignored(false)
        .exclude_submodules(true)
        .renames_head_to_index(false);
    let statuses = real
        .statuses(Some(&mut opts))
        .ctx(|| "read the working tree's status".into())?;
    let mut out: Vec<WorkChange> = statuses
        .iter()
        .filter(|s| !s.status().is_empty() && !s.status().contains(Status::IGNORED))
        .map(|s| WorkChange {
            path: String::from_utf8_lossy(s.path_bytes()).into_owned(),
            deleted: s.status().intersects(Status::WT_DELETED)
                || (s.status().contains(Status::INDEX_DELETED)
                    && !s.status().contains(Status::WT_NEW)),
        })
        .collect();
    out.sort();
    out.dedup();
    Ok(out)
}

/// Writes a commit of HEAD's tree with the working tree's `changes` applied into the object
/// store of the snapshot repository at `snapshot` (which borrows the audited repository's
/// objects), and returns it. The audited repository gains no object and no ref.
pub fn commit_worktree(
    repo: &Repo,
    snapshot: &Path,
    head: Oid,
    changes: &[WorkChange],
) -> Result<Oid, GitError> {
    let snap = super::snapshot::open_or_init(repo, snapshot)?;
    let head_commit = snap
        .find_commit(head)
        .ctx(|| format!("find {head} from the snapshot"))?;
    let base_tree = head_commit.tree().ctx(|| "read HEAD's tree".into())?;
    let mut update = TreeUpdateBuilder::new();
    for change in changes {
        let full = repo.root.join(&change.path);
        let meta = std::fs::symlink_metadata(&full);
        match meta {
            Ok(m) if m.is_file() && !change.deleted => {
                use std::os::unix::fs::PermissionsExt;
                let content = std::fs::read(&full).map_err(|source| GitError::Io {
                    context: "read",
                    path: full.clone(),
                    source,
                })?;
                let blob = snap
                    .blob(&content)
                    .ctx(|| format!("store {} in the snapshot", change.path))?;
                let mode = if m.permissions().mode() & 0o111 != 0 {
                    FileMode::BlobExecutable
                } else {
                    FileMode::Blob
                };
                update.upsert(&change.path, blob, mode);
            }
            // Symlinks and other non-files carry no content to audit; leave HEAD's entry.
            Ok(m) if !m.is_file() && !change.deleted => {}
            _ => {
                update.remove(&change.path);
            }
        }
    }
    let tree_id = update
        .create_updated(&snap, &base_tree)
        .ctx(|| "build the uncommitted tree".into())?;
    let tree = snap
        .find_tree(tree_id)
        .ctx(|| "read the uncommitted tree".into())?;
    let sig =
        git2::Signature::now("auditor", "auditor@localhost").ctx(|| "make a signature".into())?;
    snap.commit(
        None,
        &sig,
        &sig,
        "uncommitted changes (auditor snapshot)",
        &tree,
        &[&head_commit],
    )
    .ctx(|| "write the uncommitted snapshot commit".into())
}

/// Lets `repo` read objects written into the snapshot's own store (in memory only: the
/// repository's alternates file is not touched).
pub fn read_snapshot_objects(repo: &Repo, snapshot: &Path) -> Result<(), GitError> {
    let objects = snapshot.join(".git/objects");
    let odb = repo.git.odb().ctx(|| "open the object database".into())?;
    odb.add_disk_alternate(&objects.to_string_lossy())
        .ctx(|| format!("read objects from {}", objects.display()))
}
