//! Parsers of linters' and test tools' output: one file per format, bytes in, diagnostics out.
//!
//! Parsers are pure: no I/O, no async. Each is tested on output captured from the real tool and
//! with a property test that arbitrary input never panics.

mod cargo;
mod coverage;
mod eslint;
mod format;
mod gotest;
mod jest;
mod junit;
mod lines;
mod pyright;
mod rspec;
mod ruff;
mod sarif;
mod shellcheck;
mod summary;

pub use coverage::coverage;
pub use format::Format;
pub use summary::{found_no_tests, test_summary};

/// What a diagnostic means for the audit.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DiagnosticKind {
    /// A linter's complaint.
    Lint,
    /// The code does not build.
    BuildError,
    /// A test failed or errored.
    TestFailure,
}

/// One diagnostic as the tool reported it, before severity mapping.
#[derive(Debug, Clone, PartialEq)]
pub struct Diagnostic {
    /// Path relative to the workspace root, when the tool named one.
    pub file: Option<String>,
    /// 1-based line.
    pub line: Option<u32>,
    /// 1-based column.
    pub column: Option<u32>,
    /// The tool's own level (`error`, `warning`, `info`, `style`...), lower-case.
    pub level: String,
    /// The tool's rule or code (`SC2086`, `clippy::needless_return`).
    pub rule: String,
    /// The tool's message.
    pub message: String,
    /// What it means.
    pub kind: DiagnosticKind,
}

/// Counts of a test run, from JUnit or the runner's summary lines.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct TestCounts {
    /// Test cases run (skipped ones excluded).
    pub total: u32,
    /// Failed or errored test cases.
    pub failed: u32,
    /// Skipped test cases (deselected, ignored, filtered out, todo).
    pub skipped: u32,
}

impl TestCounts {
    /// Test cases that ran and passed.
    pub fn passed(self) -> u32 {
        self.total.saturating_sub(self.failed)
    }
}

/// What a parser read from a check's output.
#[derive(Debug, Clone, Default)]
pub struct Parsed {
    /// The diagnostics.
    pub diagnostics: Vec<Diagnostic>,
    /// Test counts, for formats that carry them.
    pub tests: Option<TestCounts>,
}

/// The output could not be understood.
#[derive(Debug, Clone, thiserror::Error)]
#[error("{format} output: {message}")]
pub struct ParseError {
    /// Which format.
    pub format: &'static str,
    /// What was wrong.
    pub message: String,
}

impl ParseError {
    fn new(format: &'static str, message: impl std::fmt::Display) -> ParseError {
        ParseError {
            format,
            message: message.to_string(),
        }
    }
}

/// Makes a tool's path repo-relative: tools print paths relative to their cwd or absolute.
pub fn relative_path(path: &str, root: &str) -> String {
    let root = root.trim_end_matches('/');
    let rel = if root.is_empty() {
        path
    } else {
        path.strip_prefix(root)
            .and_then(|r| r.strip_prefix('/'))
            .unwrap_or(path)
    };
    rel.strip_prefix("./").unwrap_or(rel).to_string()
}

/// Where a check ran, for making the paths its tool prints repository-relative.
#[derive(Debug, Clone, Copy, Default)]
pub struct ParseContext<'a> {
    /// The workspace path, stripped from absolute paths.
    pub root: &'a str,
    /// The Go modules of the tree, (module path, directory): import paths become
    /// directories (`go-test`).
    pub go_modules: &'a [(String, String)],
}

/// Parses `output` (stdout; for `junit`, the XML file; for `lines` and `go-test`, stdout then
/// stderr) in `format`. `exit-code` has nothing to parse.
pub fn parse(format: Format, output: &[u8], context: ParseContext) -> Result<Parsed, ParseError> {
    let root = context.root;
    // Tools echo file names as the bytes they are, into JSON too: read them the way the
    // auditor writes paths it cannot show (U+FFFD for what is not UTF-8), so they still match.
    let text = String::from_utf8_lossy(output);
    let output = text.as_bytes();
    let diagnostics = |d| {
        Ok(Parsed {
            diagnostics: d,
            tests: None,
        })
    };
    match format {
        Format::Shellcheck => diagnostics(shellcheck::parse(output, root)?),
        Format::Cargo => diagnostics(cargo::parse(output, root)?),
        Format::Ruff => diagnostics(ruff::parse(output, root)?),
        Format::Eslint => diagnostics(eslint::parse(output, root)?),
        Format::Sarif => diagnostics(sarif::parse(output, root)?),
        Format::Lines => diagnostics(lines::parse(output, root)),
        Format::Junit => junit::parse(output, root),
        Format::GoTest => Ok(gotest::parse(output, root, context.go_modules)),
        Format::Rspec => rspec::parse(output, root),
        Format::Jest => jest::parse(output, root),
        Format::Pyright => diagnostics(pyright::parse(output, root)?),
        Format::ExitCode => Ok(Parsed::default()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    const ALL: [Format; 12] = [
        Format::Shellcheck,
        Format::Cargo,
        Format::Ruff,
        Format::Eslint,
        Format::Sarif,
        Format::Junit,
        Format::Lines,
        Format::GoTest,
        Format::Rspec,
        Format::Jest,
        Format::Pyright,
        Format::ExitCode,
    ];

    proptest! {
        #[test]
        fn arbitrary_bytes_never_panic(bytes in proptest::collection::vec(any::<u8>(), 0..512)) {
            for f in ALL {
                let _ = parse(f, &bytes, ParseContext { root: "/root", go_modules: &[] });
            }
        }

        #[test]
        fn arbitrary_json_like_text_never_panics(s in r#"[\[\]{}":,0-9a-z \n]{0,200}"#) {
            for f in ALL {
                let _ = parse(f, s.as_bytes(), ParseContext { root: "/root", go_modules: &[] });
            }
        }
    }

    #[test]
    fn relative_paths() {
        assert_eq!(relative_path("/w/src/a.rs", "/w"), "src/a.rs");
        assert_eq!(relative_path("./a.sh", "/w"), "a.sh");
        assert_eq!(relative_path("a.sh", "/w/"), "a.sh");
    }
}
