//! The snapshot workspace: an isolated checkout of exactly the audited commit.
//!
//! It is a small repository of its own under `state/supervisor/workspace/` whose object store
//! borrows the audited repository's through `objects/info/alternates`, so it costs no copy of
//! history. Moving it to the next commit is an ordinary checkout: only changed files are
//! rewritten, files a check modified are restored, and untracked build caches (`target/`,
//! `node_modules/`) survive. The audited repository's index, HEAD and tree are never touched.

use std::path::{Path, PathBuf};

use git2::build::CheckoutBuilder;
use git2::{Oid, Repository};

use super::error::{GitContext, GitError};
use super::repo::Repo;

/// What syncing the snapshot did.
#[derive(Debug, Clone)]
pub struct SnapshotUpdate {
    /// The snapshot's root.
    pub path: PathBuf,
    /// The commit it held before (none: created now).
    pub previous: Option<Oid>,
}

fn io<'a>(context: &'static str, path: &'a Path) -> impl FnOnce(std::io::Error) -> GitError + 'a {
    move |source| GitError::Io {
        context,
        path: path.to_path_buf(),
        source,
    }
}

/// Opens the snapshot repository at `dir`, creating it (without a checkout) when missing.
pub fn open_or_init(repo: &Repo, dir: &Path) -> Result<Repository, GitError> {
    let alternates = dir.join(".git/objects/info/alternates");
    let objects = repo.objects_dir();
    let want = format!("{}\n", objects.display());
    let snap = match Repository::open(dir) {
        Ok(r) => r,
        Err(_) => {
            std::fs::create_dir_all(dir).map_err(io("create", dir))?;
            Repository::init(dir).ctx(|| format!("create the snapshot at {}", dir.display()))?
        }
    };
    if std::fs::read_to_string(&alternates).ok().as_deref() != Some(want.as_str()) {
        crate::store::write_atomic(&alternates, want.as_bytes()).map_err(|e| GitError::Io {
            context: "write",
            path: e.path,
            source: e.source,
        })?;
        // Re-open so libgit2 sees the alternate object store.
        return Repository::open(dir).ctx(|| format!("open the snapshot at {}", dir.display()));
    }
    Ok(snap)
}

/// Brings the snapshot at `dir` to exactly `commit`'s tree.
pub fn sync_snapshot(repo: &Repo, dir: &Path, commit: Oid) -> Result<SnapshotUpdate, GitError> {
    match try_sync(repo, dir, commit) {
        Ok(update) => Ok(update),
        Err(first) => {
            // A snapshot left broken by a crash is rebuilt from scratch (losing only caches).
            tracing::warn!(
                "snapshot at {} unusable ({first}); rebuilding it",
                dir.display()
            );
            std::fs::remove_dir_all(dir).map_err(io("remove", dir))?;
            try_sync(repo, dir, commit)
        }
    }
}

fn try_sync(repo: &Repo, dir: &Path, commit: Oid) -> Result<SnapshotUpdate, GitError> {
    let snap = open_or_init(repo, dir)?;
    let previous = snap.head().ok().and_then(|h| h.target());
    let object = snap
        .find_object(commit, None)
        .ctx(|| format!("find {commit} from the snapshot"))?;
    let mut checkout = CheckoutBuilder::new();
    // Force: files a check modified are restored. Untracked files are left alone.
    checkout.force();
    snap.checkout_tree(&object, Some(&mut checkout))
        .ctx(|| format!("check out {commit} in the snapshot"))?;
    snap.set_head_detached(commit)
        .ctx(|| format!("move the snapshot's HEAD to {commit}"))?;
    Ok(SnapshotUpdate {
        path: dir.to_path_buf(),
        previous,
    })
}
