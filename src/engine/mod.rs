//! The audit engine: one audit of one commit or range, through the stages the daemon's state
//! machine names (AUDITING → TESTING → VERIFYING → REPORTING → COMMUNICATING).
//!
//! `audit` is what `auditor audit` runs once and what `auditor watch` runs per batch.

mod audit;
mod builtin;
mod environment;
mod error;
mod history;
mod ledger_stage;
mod metrics;
mod model;
mod publish;
mod settings_stage;
mod stages;
mod workspace;

pub use audit::audit;
pub use builtin::{BuiltinFindings, Builtins, ScanCounter, scan_commits};
pub use error::EngineError;
pub use history::{scan_history, scan_index};
pub use ledger_stage::{FAILURES_BEFORE_ISSUE, record_failure};
pub use model::{AuditOptions, Progress, ProgressSink, no_progress};
pub use publish::{report_file, run_due_hooks};
pub use settings_stage::ack_policy;
