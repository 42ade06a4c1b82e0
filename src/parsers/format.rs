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
    /// `path:line[:col]: message` lines, on stdout or stderr (where compilers print them).
    Lines,
    /// `go test -json`: test2json events, and the compiler's errors on stderr.
    GoTest,
    /// `rspec --format json`.
    Rspec,
    /// `jest --json --testLocationInResults`.
    Jest,
    /// `pyright --outputjson`.
    Pyright,
    /// One finding from a non-zero exit.
    ExitCode,
}
