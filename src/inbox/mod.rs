//! The inbox the agent reads before each task (`tasks/supervisor_feedback/`), kept as a
//! conversation with the ledger: one file per CRITICAL or HIGH issue, written once and updated
//! in place, moved to `resolved/` when fixed; MEDIUM issues in a daily digest; `INBOX.md`
//! ranking everything open; `BLOCKING` listing the CRITICAL IDs; hooks for CRITICAL issues and
//! escalations.

mod hooks;
mod render;
mod sync;

pub use hooks::{HookRun, run_hook};
pub use render::{render_issue, render_medium, write};
pub use sync::{Synced, refresh_index, sync, update_escalated};
