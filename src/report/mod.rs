//! The audit report: its model, and one renderer per output format (the JSON report file,
//! SARIF 2.1.0 for code-scanning tools, the ranked human summary); and the fast lane's
//! verdict, which comes before the report.

pub mod fast;
pub mod html;
pub mod human;
pub mod json;
mod model;
pub mod sarif;

pub use model::{AuditReport, CommitInfo, ScanStats, TestStage, severity_counts};
