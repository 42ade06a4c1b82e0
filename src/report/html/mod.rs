//! The page for the person: one self-contained HTML file (no network, no script, inline SVG
//! charts) of what the audits found over time, and what is open now.
//!
//! - `history`: the audits' reports as a time series.
//! - `svg`: the charts, drawn as inline SVG.
//! - `page`: the page itself, every text from the repository escaped.
//!
//! `auditor report --html` writes it on demand; every recorded audit rewrites
//! `logs/audit/index.html`.

mod history;
mod page;
mod svg;

pub use history::{AuditPoint, read_history};
pub use page::{PageInput, render, write_index};
