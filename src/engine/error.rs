//! Why an audit could not be carried out.

use crate::git::GitError;
use crate::store::AtomicWriteError;

/// An audit could not be carried out.
#[derive(Debug, thiserror::Error)]
pub enum EngineError {
    /// Reading the repository failed.
    #[error(transparent)]
    Git(#[from] GitError),
    /// Writing a report or inbox file failed.
    #[error(transparent)]
    Write(#[from] AtomicWriteError),
    /// The caller cancelled the audit (preemption or shutdown); nothing was written.
    #[error("the audit was cancelled")]
    Cancelled,
    /// The ledger could not be locked or written.
    #[error(transparent)]
    Ledger(#[from] crate::ledger::LedgerError),
    /// Locking or preparing the workspace failed.
    #[error("prepare the workspace {path}: {message}")]
    Workspace {
        /// The workspace.
        path: std::path::PathBuf,
        /// What went wrong.
        message: String,
    },
}
