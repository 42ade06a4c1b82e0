//! The top-level error: every failure, with the exit code and hint it maps to.

use crate::config::ConfigError;
use crate::engine::EngineError;
use crate::git::GitError;
use crate::store::AtomicWriteError;

/// The process exit codes, documented in the README.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ExitCode {
    /// Nothing at or above `fail_on`.
    Clean = 0,
    /// Something at or above `fail_on`.
    Findings = 1,
    /// A usage or configuration error.
    Usage = 2,
    /// An internal error (a bug, or the filesystem failing us).
    Internal = 3,
    /// `auditor watch` was killed at once by a second SIGTERM or SIGINT.
    Interrupted = 130,
}

/// Anything that stops a command.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// The configuration is invalid.
    #[error(transparent)]
    Config(#[from] ConfigError),
    /// Git could not give what was asked.
    #[error(transparent)]
    Git(#[from] GitError),
    /// The audit failed.
    #[error(transparent)]
    Engine(#[from] EngineError),
    /// A file could not be written.
    #[error(transparent)]
    Write(#[from] AtomicWriteError),
    /// The command line asks for something impossible.
    #[error("{0}")]
    Usage(String),
    /// Something that should not happen.
    #[error("{0}")]
    Internal(String),
}

impl Error {
    /// The exit code this error ends the process with.
    pub fn exit_code(&self) -> ExitCode {
        match self {
            Error::Config(_) | Error::Usage(_) => ExitCode::Usage,
            Error::Git(g) | Error::Engine(EngineError::Git(g)) => match g {
                GitError::NotARepo { .. }
                | GitError::Bare { .. }
                | GitError::Empty
                | GitError::UnknownRev { .. }
                | GitError::EmptyRange { .. } => ExitCode::Usage,
                _ => ExitCode::Internal,
            },
            Error::Engine(_) | Error::Write(_) | Error::Internal(_) => ExitCode::Internal,
        }
    }

    /// A hint for the user, where one helps.
    pub fn hint(&self) -> Option<&'static str> {
        match self {
            Error::Config(_) => Some(
                "fix the config file at the place shown, or move it aside to run on the embedded defaults",
            ),
            Error::Git(GitError::NotARepo { .. }) => {
                Some("run inside a git repository or pass --repo PATH")
            }
            Error::Git(GitError::UnknownRev { .. }) => {
                Some("give a commit, branch or tag, or a range A..B")
            }
            _ => None,
        }
    }
}
