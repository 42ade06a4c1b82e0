//! Opening the audited repository and resolving a rev or range into the commits to audit.

use std::path::{Path, PathBuf};

use git2::{Oid, Repository, Sort};

use super::error::{GitContext, GitError};

/// The audited repository.
pub struct Repo {
    /// The libgit2 handle.
    pub git: Repository,
    /// The working tree's root.
    pub root: PathBuf,
}

/// What one audit covers.
#[derive(Debug, Clone)]
pub struct AuditTarget {
    /// Every commit covered, oldest first.
    pub commits: Vec<Oid>,
    /// The newest commit: the report is written for it.
    pub target: Oid,
    /// What the change is measured against (the range start, or the first parent); `None` for
    /// a root commit.
    pub base: Option<Oid>,
    /// The rev or range as the user wrote it.
    pub spec: String,
    /// The user asked for a range (`A..B`): its report is the range's, and must not replace
    /// the report of B's own audit. A daemon's batch is HEAD's audit.
    pub range: bool,
}

impl Repo {
    /// Opens the repository containing `path` (a linked worktree or a `.git` file work too).
    pub fn open(path: &Path) -> Result<Repo, GitError> {
        let git = Repository::discover(path).map_err(|_| GitError::NotARepo {
            path: path.to_path_buf(),
        })?;
        let root = git
            .workdir()
            .ok_or_else(|| GitError::Bare {
                path: git.path().to_path_buf(),
            })?
            .to_path_buf();
        // libgit2 returns the workdir with a trailing slash; keep paths tidy.
        let root = root.canonicalize().unwrap_or(root);
        // The auditor never needs the agent's index, and must never write it: give this handle
        // an empty in-memory one. (Diffs consult the index for .gitattributes; reading a large
        // index was a fifth of a one-commit audit.)
        let mut detached = git2::Index::new().ctx(|| "create an in-memory index".into())?;
        git.set_index(&mut detached)
            .ctx(|| "detach from the repository's index".into())?;
        // Objects come from the repository's own store; re-hashing each on read (which git
        // itself does not do) cost a tenth of an audit.
        git2::opts::strict_hash_verification(false);
        Ok(Repo { git, root })
    }

    /// The folder holding objects, shared by every linked worktree.
    pub fn objects_dir(&self) -> PathBuf {
        self.git.commondir().join("objects")
    }

    /// The folder of `info/exclude`, shared by every linked worktree.
    pub fn common_dir(&self) -> PathBuf {
        self.git.commondir().to_path_buf()
    }

    /// The commit HEAD points at.
    pub fn head(&self) -> Result<Oid, GitError> {
        let head = self.git.head().map_err(|e| match e.code() {
            git2::ErrorCode::UnbornBranch | git2::ErrorCode::NotFound => GitError::Empty,
            _ => GitError::Git {
                context: "read HEAD".into(),
                source: e,
            },
        })?;
        head.peel_to_commit()
            .map(|c| c.id())
            .ctx(|| "resolve HEAD to a commit".into())
    }

    /// Resolves one rev to a commit.
    pub fn resolve(&self, rev: &str) -> Result<Oid, GitError> {
        if rev == "HEAD" {
            return self.head();
        }
        let obj = self
            .git
            .revparse_single(rev)
            .map_err(|e| GitError::UnknownRev {
                rev: rev.into(),
                message: e.message().to_string(),
            })?;
        obj.peel_to_commit()
            .map(|c| c.id())
            .map_err(|e| GitError::UnknownRev {
                rev: rev.into(),
                message: e.message().to_string(),
            })
    }

    /// The first parent of a commit, when it exists in this (possibly shallow) clone.
    pub fn first_parent(&self, oid: Oid) -> Option<Oid> {
        let commit = self.git.find_commit(oid).ok()?;
        let parent = commit.parent_id(0).ok()?;
        // In a shallow clone the parent's id is known but its object is not.
        self.git.find_commit(parent).ok().map(|c| c.id())
    }

    /// Resolves `REV` or `A..B` into an audit target.
    pub fn target(&self, spec: &str) -> Result<AuditTarget, GitError> {
        if let Some((from, to)) = spec.split_once("..") {
            let to = if to.is_empty() { "HEAD" } else { to };
            let from_oid = self.resolve(if from.is_empty() { "HEAD" } else { from })?;
            let to_oid = self.resolve(to)?;
            self.range(from_oid, to_oid, spec)
        } else {
            let oid = self.resolve(spec)?;
            Ok(AuditTarget {
                commits: vec![oid],
                target: oid,
                base: self.first_parent(oid),
                spec: spec.to_string(),
                range: false,
            })
        }
    }

    /// The commits reachable from `to` and not from `from`, oldest first.
    pub fn range(&self, from: Oid, to: Oid, spec: &str) -> Result<AuditTarget, GitError> {
        let mut walk = self.git.revwalk().ctx(|| "start a revwalk".into())?;
        walk.set_sorting(Sort::TOPOLOGICAL | Sort::REVERSE)
            .ctx(|| "sort the revwalk".into())?;
        walk.push(to).ctx(|| format!("walk from {to}"))?;
        walk.hide(from).ctx(|| format!("hide {from}"))?;
        let commits: Vec<Oid> = walk
            .collect::<Result<_, _>>()
            .ctx(|| format!("walk {spec}"))?;
        if commits.is_empty() {
            return Err(GitError::EmptyRange { range: spec.into() });
        }
        let base = self.git.merge_base(from, to).ok().or(Some(from));
        Ok(AuditTarget {
            commits,
            target: to,
            base,
            spec: spec.to_string(),
            range: true,
        })
    }

    /// The first line of a commit's message.
    pub fn summary(&self, oid: Oid) -> String {
        self.git
            .find_commit(oid)
            .ok()
            .and_then(|c| {
                c.summary_bytes()
                    .map(|b| String::from_utf8_lossy(b).into_owned())
            })
            .unwrap_or_default()
    }

    /// Every file of a commit's tree, exactly as git stores its path, for `scope = "tree"`.
    pub fn tree_files(&self, oid: Oid) -> Result<Vec<PathBuf>, GitError> {
        let tree = self
            .git
            .find_commit(oid)
            .and_then(|c| c.tree())
            .ctx(|| format!("read the tree of {oid}"))?;
        let mut out = Vec::new();
        tree.walk(git2::TreeWalkMode::PreOrder, |dir, entry| {
            if entry.kind() == Some(git2::ObjectType::Blob) {
                use std::os::unix::ffi::OsStrExt;
                let mut path = PathBuf::from(dir);
                path.push(std::ffi::OsStr::from_bytes(entry.name_bytes()));
                out.push(path);
            }
            git2::TreeWalkResult::Ok
        })
        .ctx(|| format!("walk the tree of {oid}"))?;
        Ok(out)
    }

    /// The paths of a commit's tree that `keep` accepts (listing a 100,000-file tree costs
    /// memory only for what is kept).
    pub fn tree_paths_where(
        &self,
        oid: Oid,
        keep: impl Fn(&str) -> bool,
    ) -> Result<Vec<String>, GitError> {
        let tree = self
            .git
            .find_commit(oid)
            .and_then(|c| c.tree())
            .ctx(|| format!("read the tree of {oid}"))?;
        let mut out = Vec::new();
        tree.walk(git2::TreeWalkMode::PreOrder, |dir, entry| {
            if entry.kind() == Some(git2::ObjectType::Blob) {
                let path = format!("{dir}{}", String::from_utf8_lossy(entry.name_bytes()));
                if keep(&path) {
                    out.push(path);
                }
            }
            git2::TreeWalkResult::Ok
        })
        .ctx(|| format!("walk the tree of {oid}"))?;
        Ok(out)
    }

    /// The first `limit` bytes of a file in a commit, if it is a blob there.
    pub fn file_head(&self, oid: Oid, path: impl AsRef<Path>, limit: usize) -> Option<Vec<u8>> {
        let tree = self.git.find_commit(oid).ok()?.tree().ok()?;
        let entry = tree.get_path(path.as_ref()).ok()?;
        let blob = self.git.find_blob(entry.id()).ok()?;
        let content = blob.content();
        Some(content[..content.len().min(limit)].to_vec())
    }
}

/// Files in the working tree that git tracks or would track (untracked, not ignored).
pub fn worktree_paths(repo: &Repo) -> Vec<String> {
    // Read the agent's index file directly (read-only): our handle's index is detached.
    let mut paths: Vec<String> = git2::Index::open(&repo.git.path().join("index"))
        .map(|idx| {
            idx.iter()
                .map(|e| String::from_utf8_lossy(&e.path).into_owned())
                .collect()
        })
        .unwrap_or_default();
    let mut opts = git2::StatusOptions::new();
    opts.include_untracked(true)
        .recurse_untracked_dirs(true)
        .include_ignored(false);
    if let Ok(statuses) = repo.git.statuses(Some(&mut opts)) {
        for s in statuses.iter() {
            if s.status().contains(git2::Status::WT_NEW) {
                paths.push(String::from_utf8_lossy(s.path_bytes()).into_owned());
            }
        }
    }
    paths.sort();
    paths.dedup();
    paths
}
