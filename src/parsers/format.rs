//! Which parser reads a check's output: the value of a check's `format` key.

use serde::Deserialize;

/// The parser of a check's output (a check's `format = ...`).
#[derive(Debug, Clone, Copy, PartialEq, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Format {
    /// `shellcheck -f json1`.
    Shellcheck,
    /// `cargo ... --message-format=json`.
    Cargo,
    /// `ruff check --output-format json`.
    Ruff,
    /// `eslint -f json`.
    Eslint,
    /// SARIF 2.1.0 on stdout.
    Sarif,
    /// A JUnit XML file the command writes.
    Junit,
    /// `path:line[:col]: message` lines.
    Lines,
    /// One finding from a non-zero exit.
    ExitCode,
}
