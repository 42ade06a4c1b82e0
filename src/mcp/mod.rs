//! `auditor mcp`: a Model Context Protocol server (stdio) through which an agent asks the
//! auditor what is open and waits for a commit's verdict. `queries` reads the auditor's files
//! into JSON; `server` exposes them as tools (`status`, `list_issues`, `show_issue`,
//! `wait_for_verdict`, `explain_rule`) and resources (the inbox, the latest report) with
//! rmcp, the official Rust SDK. Nothing that weakens supervision is exposed: no
//! acknowledgement, no reset, no write.

mod queries;
mod server;

pub use server::{INBOX_URI, REPORT_URI, serve};
