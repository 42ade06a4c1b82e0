//! Uncommitted changes: what the working tree holds beyond HEAD, and a synthetic commit of that
//! state (written into the snapshot's own object store, never the audited repository's) so
//! that the engine audits it like any commit.

use std::path::Path;

use git2::build::TreeUpdateBuilder;
use git2::{FileMode, Oid};

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

/// The hidden first argument that turns the binary into the working-tree status helper.
pub const STATUS_ARG: &str = "__status";

/// The working tree's changes against HEAD (staged or not, untracked included, ignored and
/// submodules excluded).
///
/// libgit2 computes them, never `git status`: git would run the repository's
/// `core.fsmonitor` and clean filters, programs the agent can configure. It runs in a child
/// process of our own binary (`auditor __status ROOT`) when there is one, so that its memory
/// (the index, a stat of every file) is not the daemon's.
pub fn uncommitted_changes(repo: &Repo) -> Result<Vec<WorkChange>, GitError> {
    let Some(exe) = crate::runner::own_binary() else {
        return worktree_status(&repo.root);
    };
    let fail = |message: String| GitError::Command {
        command: "status (auditor __status)".into(),
        message,
    };
    let out = std::process::Command::new(exe)
        .arg(STATUS_ARG)
        .arg(&repo.root)
        .stdin(std::process::Stdio::null())
        .output()
        .map_err(|e| fail(e.to_string()))?;
    if !out.status.success() {
        return Err(fail(
            String::from_utf8_lossy(&out.stderr).trim().to_string(),
        ));
    }
    Ok(parse_status(&out.stdout))
}

/// The changes as `status_main` prints them: `D` or `M`, the path, a NUL, for each.
fn parse_status(out: &[u8]) -> Vec<WorkChange> {
    out.split(|b| *b == 0)
        .filter_map(|entry| {
            let (kind, path) = entry.split_first()?;
            Some(WorkChange {
                path: String::from_utf8_lossy(path).into_owned(),
                deleted: *kind == b'D',
            })
        })
        .collect()
}

/// The working tree's changes against HEAD, computed here with libgit2 (see
/// `uncommitted_changes`). Reads the index, never writes it.
pub fn worktree_status(root: &Path) -> Result<Vec<WorkChange>, GitError> {
    let git = git2::Repository::open(root).ctx(|| format!("open {}", root.display()))?;
    let mut opts = git2::StatusOptions::new();
    opts.include_untracked(true)
        .recurse_untracked_dirs(true)
        .include_ignored(false)
        .exclude_submodules(true)
        .renames_head_to_index(false)
        .renames_index_to_workdir(false);
    let statuses = git
        .statuses(Some(&mut opts))
        .ctx(|| format!("read the status of {}", root.display()))?;
    let mut changes: Vec<WorkChange> = statuses
        .iter()
        .filter(|s| !s.status().is_empty() && !s.status().contains(git2::Status::IGNORED))
        .map(|s| {
            let path = String::from_utf8_lossy(s.path_bytes()).into_owned();
            WorkChange {
                deleted: std::fs::symlink_metadata(root.join(&path)).is_err(),
                path,
            }
        })
        .collect();
    changes.sort();
    changes.dedup();
    Ok(changes)
}

/// `auditor __status ROOT`: prints the working tree's changes for `uncommitted_changes`.
pub fn status_main(args: Vec<std::ffi::OsString>) -> ! {
    use std::io::Write;
    let Some(root) = args.first() else {
        crate::sink::eprint("auditor: status: no repository\n");
        std::process::exit(2);
    };
    match worktree_status(Path::new(root)) {
        Ok(changes) => {
            let mut out = Vec::new();
            for c in changes {
                out.push(if c.deleted { b'D' } else { b'M' });
                out.extend_from_slice(c.path.as_bytes());
                out.push(0);
            }
            // To the daemon through a pipe, not to a person: the paths must stay exact.
            let ok = std::io::stdout().lock().write_all(&out).is_ok();
            std::process::exit(if ok { 0 } else { 1 });
        }
        Err(e) => {
            crate::sink::eprint(&format!("auditor: status: {e}\n"));
            std::process::exit(1);
        }
    }
}

/// Which of `paths` (repo-relative; files or folders a watcher reported) differ from HEAD in the
/// working tree. Cheap: only these paths are read, never the index or the whole tree.
pub fn changes_among<'a>(
    repo: &Repo,
    head: Oid,
    paths: impl IntoIterator<Item = &'a String>,
) -> Vec<WorkChange> {
    let Ok(tree) = repo.git.find_commit(head).and_then(|c| c.tree()) else {
        return Vec::new();
    };
    let in_head = |path: &str| {
        tree.get_path(Path::new(path))
            .ok()
            .filter(|e| e.kind() == Some(git2::ObjectType::Blob))
            .map(|e| e.id())
    };
    let mut out = Vec::new();
    let mut stack: Vec<String> = paths.into_iter().cloned().collect();
    while let Some(path) = stack.pop() {
        if repo.git.is_path_ignored(&path).unwrap_or(false) {
            continue;
        }
        let full = repo.root.join(&path);
        match std::fs::symlink_metadata(&full) {
            Ok(m) if m.is_dir() => {
                // A new folder: its files may have appeared before a watch was on it.
                if full.join(".git").exists() {
                    continue; // a nested repository or submodule
                }
                if let Ok(entries) = std::fs::read_dir(&full) {
                    for e in entries.flatten() {
                        stack.push(format!("{path}/{}", e.file_name().to_string_lossy()));
                    }
                }
            }
            Ok(m) if m.is_file() => {
                let current = Oid::hash_file(git2::ObjectType::Blob, &full).ok();
                if current.is_none() || current != in_head(&path) {
                    out.push(WorkChange {
                        path,
                        deleted: false,
                    });
                }
            }
            Ok(_) => {} // symlinks and special files carry no content to audit
            Err(_) => {
                if in_head(&path).is_some() {
                    out.push(WorkChange {
                        path,
                        deleted: true,
                    });
                }
            }
        }
    }
    out.sort();
    out.dedup();
    out
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
