//! Everything git: opening the repository, resolving what to audit, diffs, the snapshot
//! workspace the checks run in, `.git/info/exclude`, and the fast whole-history blob reader.
//!
//! git2 (libgit2) does the revwalks, diffs and trees; the history scan reads blobs through one
//! `git cat-file --batch` process per core, which inflates blobs about twice as fast as
//! libgit2 (see PERFORMANCE.md).

mod batch;
mod command;
mod diff;
mod error;
mod exclude;
mod lines;
mod repo;
mod snapshot;
mod uncommitted;
mod watch;

pub use batch::{
    BlobRef, HistoryIndex, RawChange, RawCommit, commit_messages, index_history,
    index_history_streaming, index_tree, read_blob_queue, read_blobs,
};
pub use command::git_command;
pub use diff::{
    ChangedFile, CommitChange, CommitChanges, FileStatus, Hunk, added_lines, changed_files,
    commit_changes, line_diff,
};
pub use error::{GitContext, GitError};
pub use exclude::ensure_excluded;
pub use lines::follow_line;
pub use repo::{AuditTarget, Repo, worktree_paths};
pub use snapshot::{Drift, Snapshot, TreeDrift};
pub use uncommitted::{
    STATUS_ARG, WorkChange, changes_among, commit_worktree, read_snapshot_objects, status_main,
    uncommitted_changes, worktree_status,
};
pub use watch::{Change, TreeWatch, WatchError, watch_git, watch_worktree};
