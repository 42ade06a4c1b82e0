//! Renderers of an audit report, one per output format: the JSON report file, SARIF 2.1.0 for
//! code-scanning tools, and the ranked human summary.

pub mod human;
pub mod json;
pub mod sarif;
