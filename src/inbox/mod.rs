//! The inbox the agent reads before each task (`tasks/supervisor_feedback/`), kept as a
//! conversation with the ledger: one file per CRITICAL or HIGH issue, written once and updated
//! in place, moved to `resolved/` when fixed; MEDIUM issues in a daily digest; `INBOX.md`
//! ranking everything open; `BLOCKING` listing the CRITICAL IDs; which hooks (`crate::hooks`) a
//! CRITICAL issue or an escalation makes due; where an open issue is now (`place`); and the issues of uncommitted changes, in an ID space
//! of their own (`uncommitted`).

mod place;
mod render;
mod sync;
pub mod uncommitted;

pub use place::{place, place_at};
pub use render::{render_daemon_issue, render_issue};
pub use sync::{Synced, hook_for, raise, refresh_index, sync, update_escalated};
