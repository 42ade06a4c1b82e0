//! Errors from git operations, with the path, rev or command they concern.

use std::path::PathBuf;

/// A git operation failed.
#[derive(Debug, thiserror::Error)]
pub enum GitError {
    /// The path is not inside a git repository.
    #[error("{path} is not inside a git repository")]
    NotARepo {
        /// Where we looked.
        path: PathBuf,
    },
    /// A bare repository has no working tree to audit.
    #[error("{path} is a bare repository; the auditor needs a working tree")]
    Bare {
        /// The repository.
        path: PathBuf,
    },
    /// The repository has no commit yet.
    #[error("the repository has no commits yet; make a first commit, then audit it")]
    Empty,
    /// A revision did not resolve.
    #[error("unknown revision `{rev}`: {message}")]
    UnknownRev {
        /// What the user typed.
        rev: String,
        /// What git said.
        message: String,
    },
    /// A range holds no commit.
    #[error("the range `{range}` contains no commits")]
    EmptyRange {
        /// What the user typed.
        range: String,
    },
    /// libgit2 failed.
    #[error("{context}: {source}")]
    Git {
        /// What we were doing.
        context: String,
        /// What libgit2 said.
        #[source]
        source: git2::Error,
    },
    /// A filesystem operation failed.
    #[error("{context} {path}: {source}")]
    Io {
        /// What we were doing.
        context: &'static str,
        /// The path.
        path: PathBuf,
        /// What the filesystem said.
        #[source]
        source: std::io::Error,
    },
    /// A tree holds a path that would write into a repository's own `.git`.
    #[error("the tree holds `{path}`, a path git refuses to check out")]
    RefusedPath {
        /// The path, as text.
        path: String,
    },
    /// An object the history names is not in the object store.
    #[error(
        "object {id} is missing from the object store (a damaged or partial clone, or an object deleted); nothing that holds it can be vouched for"
    )]
    MissingObject {
        /// The object's id (hex).
        id: String,
    },
    /// The git command-line tool failed.
    #[error("`git {command}` failed: {message}")]
    Command {
        /// The subcommand.
        command: String,
        /// What it said.
        message: String,
    },
}

/// Adds context to libgit2 errors.
pub trait GitContext<T> {
    /// Wraps the error with what we were doing.
    fn ctx(self, context: impl FnOnce() -> String) -> Result<T, GitError>;
}

impl<T> GitContext<T> for Result<T, git2::Error> {
    fn ctx(self, context: impl FnOnce() -> String) -> Result<T, GitError> {
        self.map_err(|source| GitError::Git {
            context: context(),
            source,
        })
    }
}
