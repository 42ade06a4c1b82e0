//! The snapshot workspace: an isolated checkout of exactly the audited commit, kept exactly
//! that before every check.
//!
//! It is a small repository of its own under `state/supervisor/workspace/` whose object store
//! borrows the audited repository's through `objects/info/alternates`, so it costs no copy of
//! history. Moving it to the next commit is a libgit2 checkout (only changed files are
//! rewritten; untracked build caches such as `target/` and `node_modules/` survive). The
//! audited repository's index, HEAD and tree are never touched.
//!
//! Checks are the repository's own tools and code, so the workspace is hostile ground: a
//! fixing linter rewrites files, a test replaces a file or a folder with a symlink to a place
//! outside, a hard link, a FIFO. So:
//! - before a checkout, whatever stands where the trees put a file or a folder and is not one
//!   (a symlink, a hard link, a special file) is removed, so the checkout never writes through it;
//! - the checkout writes into the snapshot folder named here (never a `core.worktree` a check
//!   set) with filters off: the files are the blobs' bytes;
//! - `verify` compares every tracked path with the commit's tree (an lstat each; a file whose
//!   inode, size, mtime or ctime moved since it was last verified is hashed) and restores what
//!   differs, removing whatever stands in the way and creating files anew, never writing
//!   through a link. A check can restore an mtime, never a ctime.

use std::collections::{BTreeSet, HashMap};
use std::ffi::OsStr;
use std::fs::OpenOptions;
use std::io::Write;
use std::os::unix::ffi::OsStrExt;
use std::os::unix::fs::{MetadataExt, OpenOptionsExt};
use std::path::{Path, PathBuf};

use git2::build::CheckoutBuilder;
use git2::{ObjectType, Oid, Repository};

use super::error::{GitContext, GitError};
use super::repo::Repo;

/// Lines of a modified file's diff shown in a finding.
const DIFF_LINES: usize = 40;
/// The file, inside the snapshot's git folder, that remembers what was last verified.
const STAMPS_FILE: &str = "auditor-verified";

fn io<'a>(context: &'static str, path: &'a Path) -> impl FnOnce(std::io::Error) -> GitError + 'a {
    move |source| GitError::Io {
        context,
        path: path.to_path_buf(),
        source,
    }
}

/// What a tracked path is in the audited tree.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Kind {
    File,
    Executable,
    Link,
}

/// One tracked path of the audited tree.
#[derive(Debug, Clone)]
struct Tracked {
    path: PathBuf,
    blob: Oid,
    kind: Kind,
}

/// What `lstat` says of a path, enough to tell that it changed: a write moves the ctime,
/// which no process can set back.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Stamp {
    dev: u64,
    ino: u64,
    size: u64,
    mode: u32,
    mtime_ns: i128,
    ctime_ns: i128,
}

impl Stamp {
    fn of(meta: &std::fs::Metadata) -> Stamp {
        Stamp {
            dev: meta.dev(),
            ino: meta.ino(),
            size: meta.size(),
            mode: meta.mode(),
            mtime_ns: i128::from(meta.mtime()) * 1_000_000_000 + i128::from(meta.mtime_nsec()),
            ctime_ns: i128::from(meta.ctime()) * 1_000_000_000 + i128::from(meta.ctime_nsec()),
        }
    }
}

/// How a tracked path differed from the audited commit.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Drift {
    /// Its content changed; the diff (blob → what was found), cut to a readable length.
    Modified(String),
    /// Its executable bit changed.
    ModeChanged,
    /// It was gone.
    Deleted,
    /// Something else stood there (a symlink to somewhere, a folder, a special file).
    Replaced(String),
}

/// A tracked path found not to be what the audited commit holds, and restored.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TreeDrift {
    /// Repo-relative path, as text.
    pub path: String,
    /// How it differed.
    pub drift: Drift,
}

/// The snapshot, checked out at one commit and verified.
pub struct Snapshot {
    /// The snapshot's root.
    pub path: PathBuf,
    /// The commit it holds.
    pub commit: Oid,
    /// The commit it held before this sync (none: created now).
    pub previous: Option<Oid>,
    /// What the sync found changed since the snapshot was last verified, and restored.
    pub restored_at_sync: Vec<TreeDrift>,
    repo: Repository,
    objects: PathBuf,
    tracked: Vec<Tracked>,
    stamps: HashMap<PathBuf, (Oid, Stamp)>,
    index_stamp: Option<Stamp>,
}

/// The snapshot's own configuration: nothing a check wrote there (a `core.worktree`, a
/// `core.bare`) survives a sync.
const SNAPSHOT_CONFIG: &str = "[core]\n\trepositoryformatversion = 0\n\tfilemode = true\n\tbare = false\n\tlogallrefupdates = false\n\tsymlinks = true\n";

/// Opens the snapshot repository at `dir`, creating it (without a checkout) when missing.
pub fn open_or_init(repo: &Repo, dir: &Path) -> Result<Repository, GitError> {
    open_snapshot(&repo.objects_dir(), dir)
}

/// Opens (or creates) the snapshot at `dir` borrowing the objects of `objects`.
fn open_snapshot(objects: &Path, dir: &Path) -> Result<Repository, GitError> {
    // The folder is ours: a symlink put in its place is removed, never followed.
    if std::fs::symlink_metadata(dir).is_ok_and(|m| !m.is_dir()) {
        std::fs::remove_file(dir).map_err(io("remove", dir))?;
    }
    let git_dir = dir.join(".git");
    let alternates = git_dir.join("objects/info/alternates");
    let want = format!("{}\n", objects.display());
    let config = git_dir.join("config");
    // Its `.git` must be the snapshot's own folder: a symlink or a gitfile a check put there
    // (to the agent's repository, say) would take our HEAD and index updates elsewhere.
    if std::fs::symlink_metadata(&git_dir).is_ok_and(|m| !m.is_dir()) {
        std::fs::remove_file(&git_dir).map_err(io("remove", &git_dir))?;
    }
    if !git_dir.is_dir() {
        std::fs::create_dir_all(dir).map_err(io("create", dir))?;
        Repository::init(dir).ctx(|| format!("create the snapshot at {}", dir.display()))?;
    }
    for (path, content) in [(&config, SNAPSHOT_CONFIG), (&alternates, want.as_str())] {
        if std::fs::read_to_string(path).ok().as_deref() != Some(content) {
            crate::store::write_atomic_exact(path, content.as_bytes()).map_err(|e| {
                GitError::Io {
                    context: "write",
                    path: e.path,
                    source: e.source,
                }
            })?;
        }
    }
    let snap =
        Repository::open(&git_dir).ctx(|| format!("open the snapshot at {}", dir.display()))?;
    snap.set_workdir(dir, false)
        .ctx(|| format!("set the snapshot's folder to {}", dir.display()))?;
    Ok(snap)
}

/// The tracked paths of a tree: files, executables and links (submodules have no content).
fn tracked(snap: &Repository, commit: Oid) -> Result<Vec<Tracked>, GitError> {
    let tree = snap
        .find_commit(commit)
        .and_then(|c| c.tree())
        .ctx(|| format!("read the tree of {commit} from the snapshot"))?;
    let mut out = Vec::new();
    let mut refused = None;
    tree.walk(git2::TreeWalkMode::PreOrder, |dir, entry| {
        if is_refused(entry.name_bytes()) {
            refused = Some(format!(
                "{dir}{}",
                String::from_utf8_lossy(entry.name_bytes())
            ));
            return git2::TreeWalkResult::Abort;
        }
        let kind = match entry.filemode() {
            0o100644 => Kind::File,
            0o100755 => Kind::Executable,
            0o120000 => Kind::Link,
            _ => return git2::TreeWalkResult::Ok,
        };
        let mut path = PathBuf::from(dir);
        path.push(OsStr::from_bytes(entry.name_bytes()));
        out.push(Tracked {
            path,
            blob: entry.id(),
            kind,
        });
        git2::TreeWalkResult::Ok
    })
    .or_else(|e| if refused.is_some() { Ok(()) } else { Err(e) })
    .ctx(|| format!("walk the tree of {commit}"))?;
    match refused {
        Some(path) => Err(GitError::RefusedPath { path }),
        None => Ok(out),
    }
}

/// Whether an entry of this name would write into the snapshot's own repository: `.git` in
/// any case, also as a case-insensitive or NTFS file system reads it (trailing dots and
/// spaces, the short name `git~1`). libgit2 refuses the rest of git's protected names itself.
fn is_refused(name: &[u8]) -> bool {
    let lower = String::from_utf8_lossy(name).to_ascii_lowercase();
    let base = lower.trim_end_matches(['.', ' ']);
    base == ".git" || base == "git~1" || name == b"." || name == b".."
}

/// The paths `old` has and `new` does not: what a checkout from `old` to `new` deletes.
fn deleted_paths(snap: &Repository, old: Oid, new: Oid) -> Vec<PathBuf> {
    let tree = |c: Oid| snap.find_commit(c).and_then(|c| c.tree()).ok();
    let (Some(old), Some(new)) = (tree(old), tree(new)) else {
        return Vec::new();
    };
    let Ok(diff) = snap.diff_tree_to_tree(Some(&old), Some(&new), None) else {
        return Vec::new();
    };
    diff.deltas()
        .filter(|d| d.status() == git2::Delta::Deleted)
        .filter_map(|d| d.old_file().path().map(Path::to_path_buf))
        .collect()
}

/// Removes whatever is at `path` (a folder with its contents, or anything else), never
/// following a link.
fn remove_any(path: &Path) -> std::io::Result<()> {
    match std::fs::symlink_metadata(path) {
        Ok(m) if m.is_dir() => std::fs::remove_dir_all(path),
        Ok(_) => std::fs::remove_file(path),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(()),
        Err(e) => Err(e),
    }
}

/// Makes every folder from `root` down to `dir` (repo-relative) a real folder: what stands in
/// the way (a symlink, a file) is removed first.
fn real_dirs(root: &Path, dir: &Path) -> std::io::Result<()> {
    let mut at = root.to_path_buf();
    for part in dir.components() {
        at.push(part);
        match std::fs::symlink_metadata(&at) {
            Ok(m) if m.is_dir() => continue,
            Ok(_) => std::fs::remove_file(&at)?,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
            Err(e) => return Err(e),
        }
        std::fs::create_dir(&at)?;
    }
    Ok(())
}

/// Clears the way for a checkout: every folder the trees hold is a real folder, and where a
/// file or link is to be written stands nothing a write could go through.
fn clear_the_way(root: &Path, tracked: &[Tracked], deleted: &[PathBuf]) -> std::io::Result<()> {
    let mut dirs: BTreeSet<&Path> = BTreeSet::new();
    for p in tracked
        .iter()
        .map(|t| t.path.as_path())
        .chain(deleted.iter().map(PathBuf::as_path))
    {
        let mut parent = p.parent();
        while let Some(d) = parent.filter(|d| !d.as_os_str().is_empty()) {
            if !dirs.insert(d) {
                break;
            }
            parent = d.parent();
        }
    }
    // Parents before children: BTreeSet orders `a` before `a/b`.
    for d in &dirs {
        let full = root.join(d);
        if std::fs::symlink_metadata(&full).is_ok_and(|m| !m.is_dir()) {
            std::fs::remove_file(&full)?;
        }
    }
    for t in tracked {
        let full = root.join(&t.path);
        let Ok(m) = std::fs::symlink_metadata(&full) else {
            continue;
        };
        let ft = m.file_type();
        let in_the_way = match t.kind {
            Kind::Link => !ft.is_symlink(),
            Kind::File | Kind::Executable => !ft.is_file() || m.nlink() > 1,
        };
        if in_the_way {
            remove_any(&full)?;
        }
    }
    Ok(())
}

/// Writes a tracked path anew from its blob: folders on the way made real, whatever stands at
/// the path removed, the file created (never opened through a link).
fn write_entry(root: &Path, t: &Tracked, content: &[u8]) -> std::io::Result<()> {
    if let Some(parent) = t.path.parent() {
        real_dirs(root, parent)?;
    }
    let full = root.join(&t.path);
    remove_any(&full)?;
    match t.kind {
        Kind::Link => std::os::unix::fs::symlink(OsStr::from_bytes(content), &full),
        Kind::File | Kind::Executable => {
            let mode = if t.kind == Kind::Executable {
                0o755
            } else {
                0o644
            };
            let mut file = OpenOptions::new()
                .write(true)
                .create_new(true)
                .mode(mode)
                .custom_flags(nix::libc::O_NOFOLLOW)
                .open(&full)?;
            file.write_all(content)?;
            // The umask may have taken bits away.
            file.set_permissions(std::os::unix::fs::PermissionsExt::from_mode(mode))
        }
    }
}

/// The content at a path, as a blob would hold it: a file's bytes or a link's target.
fn read_entry(full: &Path, meta: &std::fs::Metadata) -> Option<Vec<u8>> {
    if meta.file_type().is_symlink() {
        std::fs::read_link(full)
            .ok()
            .map(|t| t.as_os_str().as_bytes().to_vec())
    } else if meta.is_file() {
        std::fs::read(full).ok()
    } else {
        None
    }
}

fn kind_matches(kind: Kind, meta: &std::fs::Metadata) -> bool {
    let ft = meta.file_type();
    match kind {
        Kind::Link => ft.is_symlink(),
        Kind::File => ft.is_file() && meta.mode() & 0o100 == 0,
        Kind::Executable => ft.is_file() && meta.mode() & 0o100 != 0,
    }
}

fn describe(meta: &std::fs::Metadata, full: &Path) -> String {
    let ft = meta.file_type();
    if ft.is_symlink() {
        let to = std::fs::read_link(full).map_or_else(|_| "?".into(), |t| t.display().to_string());
        format!("a symlink to `{to}`")
    } else if ft.is_dir() {
        "a folder".into()
    } else if ft.is_file() {
        "a file".into()
    } else {
        "a special file (FIFO, socket or device)".into()
    }
}

/// A unified diff of `old` → `new`, cut to `DIFF_LINES` lines.
fn short_diff(path: &Path, old: &[u8], new: &[u8]) -> String {
    let Ok(mut patch) = git2::Patch::from_buffers(old, Some(path), new, Some(path), None) else {
        return String::new();
    };
    let mut lines = Vec::new();
    let mut more = 0usize;
    let _ = patch.print(&mut |_, _, line| {
        if lines.len() >= DIFF_LINES {
            more += 1;
            return true;
        }
        let text = String::from_utf8_lossy(line.content());
        let text = text.trim_end_matches('\n');
        match line.origin() {
            '+' | '-' | ' ' => lines.push(format!("{}{text}", line.origin())),
            'H' | 'F' => lines.push(text.to_string()),
            _ => {}
        }
        true
    });
    if more > 0 {
        lines.push(format!("[... {more} more lines]"));
    }
    lines.join("\n")
}

impl Snapshot {
    /// Brings the snapshot at `dir` to exactly `commit`'s tree and verifies it.
    pub fn sync(repo: &Repo, dir: &Path, commit: Oid) -> Result<Snapshot, GitError> {
        match Snapshot::try_sync(repo, dir, commit) {
            Ok(snapshot) => Ok(snapshot),
            // A tree that cannot be checked out at all (a path git refuses) is not the
            // snapshot's fault: rebuilding would only lose the caches.
            Err(e @ GitError::RefusedPath { .. }) => Err(e),
            Err(e @ GitError::Git { .. }) if is_invalid_tree(&e) => Err(e),
            Err(first) => {
                // A snapshot left broken by a crash is rebuilt from scratch (losing only caches).
                tracing::warn!(
                    "snapshot at {} unusable ({first}); rebuilding it",
                    dir.display()
                );
                remove_any(dir).map_err(io("remove", dir))?;
                Snapshot::try_sync(repo, dir, commit)
            }
        }
    }

    fn try_sync(repo: &Repo, dir: &Path, commit: Oid) -> Result<Snapshot, GitError> {
        let snap = open_or_init(repo, dir)?;
        let previous = snap.head().ok().and_then(|h| h.target());
        let tracked = tracked(&snap, commit)?;
        let deleted = previous.map_or_else(Vec::new, |p| deleted_paths(&snap, p, commit));
        clear_the_way(dir, &tracked, &deleted).map_err(io("clear the way in", dir))?;
        {
            let object = snap
                .find_object(commit, None)
                .ctx(|| format!("find {commit} from the snapshot"))?;
            let mut checkout = CheckoutBuilder::new();
            // Force: files a check modified are restored. Untracked files are left alone.
            checkout.force().disable_filters(true).target_dir(dir);
            snap.checkout_tree(&object, Some(&mut checkout))
                .ctx(|| format!("check out {commit} in the snapshot"))?;
        }
        snap.set_head_detached(commit)
            .ctx(|| format!("move the snapshot's HEAD to {commit}"))?;
        let stamps = load_stamps(dir);
        let mut snapshot = Snapshot {
            path: dir.to_path_buf(),
            commit,
            previous,
            restored_at_sync: Vec::new(),
            repo: snap,
            objects: repo.objects_dir(),
            tracked,
            stamps,
            index_stamp: None,
        };
        snapshot.restored_at_sync = snapshot.verify()?;
        Ok(snapshot)
    }

    /// Compares every tracked path with the commit's tree and restores what differs (see the
    /// module's documentation). Returns what differed.
    pub fn verify(&mut self) -> Result<Vec<TreeDrift>, GitError> {
        let root = self.path.clone();
        let mut drifts = Vec::new();
        let mut reset_index = false;
        // A check that put a link (to the agent's repository, say) or a gitfile in place of the
        // snapshot's `.git` would have our HEAD and index writes land there: make it ours again
        // before anything is written.
        let git_dir = root.join(".git");
        match std::fs::symlink_metadata(&git_dir) {
            Ok(m) if m.is_dir() => {}
            found => {
                drifts.push(TreeDrift {
                    path: ".git".into(),
                    drift: match &found {
                        Ok(m) => Drift::Replaced(describe(m, &git_dir)),
                        Err(_) => Drift::Deleted,
                    },
                });
                remove_any(&git_dir).map_err(io("remove", &git_dir))?;
                self.repo = open_snapshot(&self.objects, &root)?;
                self.stamps.clear();
                self.index_stamp = None;
                reset_index = true;
            }
        }
        let mut stamps = HashMap::with_capacity(self.tracked.len());
        for t in &self.tracked {
            let full = root.join(&t.path);
            let meta = std::fs::symlink_metadata(&full).ok();
            let known = self.stamps.get(&t.path);
            if let (Some(m), Some((blob, stamp))) = (&meta, known)
                && *blob == t.blob
                && *stamp == Stamp::of(m)
                && kind_matches(t.kind, m)
            {
                stamps.insert(t.path.clone(), (t.blob, *stamp));
                continue;
            }
            let found = meta
                .as_ref()
                .and_then(|m| read_entry(&full, m).map(|c| (m, c)));
            let drift = match &found {
                None => match &meta {
                    None => Some(Drift::Deleted),
                    Some(m) => Some(Drift::Replaced(describe(m, &full))),
                },
                Some((m, content)) => {
                    let same = Oid::hash_object(ObjectType::Blob, content).ok() == Some(t.blob);
                    match (same, kind_matches(t.kind, m)) {
                        (true, true) => None,
                        (true, false) if m.is_file() && t.kind != Kind::Link => {
                            Some(Drift::ModeChanged)
                        }
                        (_, false) => Some(Drift::Replaced(describe(m, &full))),
                        (false, true) => Some(Drift::Modified(String::new())),
                    }
                }
            };
            if let Some(mut drift) = drift {
                let blob = self
                    .repo
                    .find_blob(t.blob)
                    .map_err(|_| GitError::MissingObject {
                        id: t.blob.to_string(),
                    })?;
                if let (Drift::Modified(diff), Some((_, content))) = (&mut drift, &found) {
                    *diff = short_diff(&t.path, blob.content(), content);
                }
                write_entry(&root, t, blob.content()).map_err(io("restore", &full))?;
                drifts.push(TreeDrift {
                    path: t.path.to_string_lossy().into_owned(),
                    drift,
                });
            }
            if let Ok(m) = std::fs::symlink_metadata(&full) {
                stamps.insert(t.path.clone(), (t.blob, Stamp::of(&m)));
            }
        }
        self.stamps = stamps;
        self.keep_head_and_index(reset_index)?;
        save_stamps(&root, &self.stamps);
        Ok(drifts)
    }

    /// A check that moved the snapshot's HEAD or rewrote its index (`git checkout`, `git add`,
    /// `git stash` in the workspace) has both put back; `reset` puts the index back anyway.
    fn keep_head_and_index(&mut self, reset: bool) -> Result<(), GitError> {
        let index_path = self.path.join(".git/index");
        let index_stamp = std::fs::symlink_metadata(&index_path)
            .ok()
            .map(|m| Stamp::of(&m));
        let head_ok = self.repo.head_detached().unwrap_or(false)
            && self.repo.head().ok().and_then(|h| h.target()) == Some(self.commit);
        let index_changed = self.index_stamp.is_some() && index_stamp != self.index_stamp;
        if head_ok && !reset && !index_changed && self.index_stamp.is_some() {
            return Ok(());
        }
        if !head_ok {
            self.repo
                .set_head_detached(self.commit)
                .ctx(|| format!("move the snapshot's HEAD back to {}", self.commit))?;
        }
        if reset || index_changed {
            let tree = self
                .repo
                .find_commit(self.commit)
                .and_then(|c| c.tree())
                .ctx(|| "read the audited tree".into())?;
            let mut index = self
                .repo
                .index()
                .ctx(|| "open the snapshot's index".into())?;
            index
                .read_tree(&tree)
                .and_then(|()| index.write())
                .ctx(|| "reset the snapshot's index".into())?;
        }
        self.index_stamp = std::fs::symlink_metadata(&index_path)
            .ok()
            .map(|m| Stamp::of(&m));
        Ok(())
    }
}

/// Whether libgit2 refused the tree itself (a path such as `.GIT/config` it will not write).
fn is_invalid_tree(e: &GitError) -> bool {
    matches!(e, GitError::Git { source, .. } if source.message().contains("invalid path"))
}

fn stamps_path(root: &Path) -> PathBuf {
    root.join(".git").join(STAMPS_FILE)
}

/// Reads what was last verified: `oid dev ino size mode mtime ctime path\0` per path.
fn load_stamps(root: &Path) -> HashMap<PathBuf, (Oid, Stamp)> {
    let Ok(bytes) = std::fs::read(stamps_path(root)) else {
        return HashMap::new();
    };
    let mut out = HashMap::new();
    for record in bytes.split(|b| *b == 0) {
        let mut fields = record.splitn(8, |b| *b == b' ');
        let mut next = || fields.next().and_then(|f| std::str::from_utf8(f).ok());
        let parsed = (|| {
            let oid = Oid::from_str(next()?).ok()?;
            let stamp = Stamp {
                dev: next()?.parse().ok()?,
                ino: next()?.parse().ok()?,
                size: next()?.parse().ok()?,
                mode: next()?.parse().ok()?,
                mtime_ns: next()?.parse().ok()?,
                ctime_ns: next()?.parse().ok()?,
            };
            Some((oid, stamp))
        })();
        if let (Some(v), Some(path)) = (parsed, fields.next()) {
            out.insert(PathBuf::from(OsStr::from_bytes(path)), v);
        }
    }
    out
}

/// Saves what was verified (best effort: without it, the next sync hashes every file).
fn save_stamps(root: &Path, stamps: &HashMap<PathBuf, (Oid, Stamp)>) {
    let mut out = Vec::with_capacity(stamps.len() * 96);
    for (path, (oid, s)) in stamps {
        out.extend_from_slice(
            format!(
                "{oid} {} {} {} {} {} {} ",
                s.dev, s.ino, s.size, s.mode, s.mtime_ns, s.ctime_ns
            )
            .as_bytes(),
        );
        out.extend_from_slice(path.as_os_str().as_bytes());
        out.push(0);
    }
    if let Err(e) = crate::store::write_atomic_exact(&stamps_path(root), &out) {
        tracing::warn!("{e}");
    }
}
