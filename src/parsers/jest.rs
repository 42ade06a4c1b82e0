//! `jest --json --testLocationInResults`: one diagnostic per failed test, at the line of the
//! test file its stack passes through (the failing expectation), else at the test's own
//! line; a test file that failed to run (a syntax error, a throwing import) at that file.

use std::sync::LazyLock;

use regex::Regex;
use serde::Deserialize;

use super::{Diagnostic, DiagnosticKind, ParseError, Parsed, TestCounts, relative_path};

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct Report {
    num_total_tests: u32,
    num_failed_tests: u32,
    #[serde(default)]
    num_pending_tests: u32,
    #[serde(default)]
    num_todo_tests: u32,
    #[serde(default)]
    num_runtime_error_test_suites: u32,
    #[serde(default)]
    test_results: Vec<Suite>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct Suite {
    name: String,
    #[serde(default)]
    status: String,
    #[serde(default)]
    message: String,
    #[serde(default)]
    assertion_results: Vec<Assertion>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct Assertion {
    #[serde(default)]
    full_name: String,
    status: String,
    #[serde(default)]
    failure_messages: Vec<String>,
    location: Option<Place>,
}

#[derive(Deserialize)]
struct Place {
    line: u32,
    column: Option<u32>,
}

/// A stack frame's place: `(/abs/sum.test.js:6:21)` or `at /abs/sum.test.js:6:21`.
static FRAME: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r"(?m)^\s*at (?:.*?\()?(?P<path>[^\s()]+?):(?P<line>\d+):(?P<column>\d+)\)?\s*$")
        .expect("static regex")
});
/// Babel's syntax error in a test file: `SyntaxError: /abs/x.test.js: Unexpected token (1:10)`,
/// its column 0-based.
static SYNTAX: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r"(?m)SyntaxError: (?P<path>[^:\n]+): [^\n]*\((?P<line>\d+):(?P<column>\d+)\)\s*$")
        .expect("static regex")
});

/// The first frame of a stack that is in `file`, as (line, column).
fn frame_in(stack: &str, file: &str, root: &str) -> Option<(u32, Option<u32>)> {
    FRAME.captures_iter(stack).find_map(|caps| {
        if relative_path(&caps["path"], root) != file {
            return None;
        }
        Some((caps["line"].parse().ok()?, caps["column"].parse().ok()))
    })
}

/// The place of a syntax error in `file`, as (line, 1-based column).
fn syntax_error_in(message: &str, file: &str, root: &str) -> Option<(u32, Option<u32>)> {
    SYNTAX.captures_iter(message).find_map(|caps| {
        if relative_path(&caps["path"], root) != file {
            return None;
        }
        let column = caps["column"]
            .parse::<u32>()
            .ok()
            .map(|c| c.saturating_add(1));
        Some((caps["line"].parse().ok()?, column))
    })
}

/// The message's first line that says something, without colours.
fn headline(message: &str) -> String {
    super::summary::plain(message)
        .lines()
        .map(str::trim)
        .find(|l| !l.is_empty() && !l.starts_with('●'))
        .unwrap_or_default()
        .chars()
        .take(300)
        .collect()
}

/// Parses jest's JSON report from stdout (`--json` sends everything else to stderr; a test
/// writing to stdout itself lands before the report, so it is read from its first brace).
pub fn parse(output: &[u8], root: &str) -> Result<Parsed, ParseError> {
    let start = memchr::memmem::find(output, b"{\"numFailedTestSuites\"").unwrap_or(0);
    let report = serde_json::Deserializer::from_slice(&output[start..])
        .into_iter::<Report>()
        .next()
        .ok_or_else(|| ParseError::new("jest", "no JSON report"))?
        .map_err(|e| ParseError::new("jest", e))?;
    let mut diagnostics = Vec::new();
    for suite in &report.test_results {
        let file = relative_path(&suite.name, root);
        let mut failed_here = 0;
        for a in suite
            .assertion_results
            .iter()
            .filter(|a| a.status == "failed")
        {
            failed_here += 1;
            let stack = a.failure_messages.join("\n");
            let (line, column) = frame_in(&stack, &file, root)
                .or_else(|| a.location.as_ref().map(|p| (p.line, p.column)))
                .map_or((None, None), |(l, c)| (Some(l), c));
            diagnostics.push(Diagnostic {
                file: Some(file.clone()),
                line,
                column,
                level: "failure".into(),
                rule: a.full_name.clone(),
                message: format!("test `{}`: {}", a.full_name, headline(&stack)),
                kind: DiagnosticKind::TestFailure,
            });
        }
        if suite.status == "failed" && failed_here == 0 {
            let (line, column) = syntax_error_in(&suite.message, &file, root)
                .or_else(|| frame_in(&suite.message, &file, root))
                .map_or((None, None), |(l, c)| (Some(l), c));
            diagnostics.push(Diagnostic {
                file: Some(file),
                line,
                column,
                level: "error".into(),
                rule: "test suite failed to run".into(),
                message: format!("the test file failed to run: {}", headline(&suite.message)),
                kind: DiagnosticKind::TestFailure,
            });
        }
    }
    let not_run = report
        .num_pending_tests
        .saturating_add(report.num_todo_tests);
    Ok(Parsed {
        diagnostics,
        tests: Some(TestCounts {
            total: report
                .num_total_tests
                .saturating_sub(not_run)
                .saturating_add(report.num_runtime_error_test_suites),
            failed: report
                .num_failed_tests
                .saturating_add(report.num_runtime_error_test_suites),
            skipped: not_run,
        }),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Captured from jest 30.5 `--json --testLocationInResults` on three files: one passing
    /// and one failing test; a skipped, a todo and a failing test in a `describe`; a syntax
    /// error. Stacks and messages are cut to the frames and lines that matter.
    const CAPTURED: &str = r#"{"numFailedTestSuites":3,"numFailedTests":2,"numPassedTestSuites":0,"numPassedTests":1,"numPendingTestSuites":0,"numPendingTests":1,"numRuntimeErrorTestSuites":1,"numTodoTests":1,"numTotalTestSuites":3,"numTotalTests":5,"openHandles":[],"snapshot":{"added":0,"failure":false},"startTime":1796567407015,"success":false,"testResults":[{"assertionResults":[{"ancestorTitles":[],"duration":1,"failureDetails":[],"failureMessages":[],"fullName":"adds","location":{"column":1,"line":2},"status":"passed","title":"adds"},{"ancestorTitles":[],"duration":1,"failureMessages":["Error: expect(received).toBe(expected) // Object.is equality\n\nExpected: 4\nReceived: 3\n    at Object.toBe (/w/sum.test.js:6:21)\n    at Promise.finally.completed (/w/node_modules/jest-circus/build/jestAdapterInit.js:1834:28)\n    at new Promise (<anonymous>)"],"fullName":"breaks","location":{"column":1,"line":5},"status":"failed","title":"breaks"}],"endTime":1796567407259,"message":"  ● breaks\n\n    expect(received).toBe(expected) // Object.is equality\n","name":"/w/sum.test.js","startTime":1796567407094,"status":"failed","summary":""},{"assertionResults":[{"ancestorTitles":[],"duration":null,"failureMessages":[],"fullName":"skipped","location":{"column":6,"line":1},"status":"pending","title":"skipped"},{"ancestorTitles":[],"duration":null,"failureMessages":[],"fullName":"later","location":{"column":6,"line":2},"status":"todo","title":"later"},{"ancestorTitles":["group"],"duration":4,"failureMessages":["Error: expect(received).toEqual(expected) // deep equality\n\n- Expected  - 1\n+ Received  + 1\n\n  Array [\n-   2,\n+   1,\n  ]\n    at Object.toEqual (/w/more.test.js:3:67)\n    at Promise.finally.completed (/w/node_modules/jest-circus/build/jestAdapterInit.js:1834:28)"],"fullName":"group inner fails","location":{"column":35,"line":3},"status":"failed","title":"inner fails"}],"endTime":1796567407307,"message":"  ● group › inner fails\n","name":"/w/more.test.js","status":"failed","summary":""},{"assertionResults":[],"coverage":{},"endTime":1796567407392,"message":"  ● Test suite failed to run\n\n    Jest encountered an unexpected token\n\n    Details:\n\n    SyntaxError: /w/broken.test.js: Unexpected token (1:10)\n\n    > 1 | const x = ;\n        |           ^\n\n      at constructor (node_modules/@babel/parser/src/parse-error.ts:95:45)\n","name":"/w/broken.test.js","startTime":1796567407392,"status":"failed","summary":""}],"wasInterrupted":false}"#;

    #[test]
    fn failures_are_placed_at_their_expectations_and_a_broken_file_at_itself() {
        let output = format!("HELLO from a test\n{CAPTURED}\n");
        let parsed = parse(output.as_bytes(), "/w").expect("parses");
        assert_eq!(
            parsed.tests,
            Some(TestCounts {
                total: 4,
                failed: 3,
                skipped: 2
            })
        );
        let places: Vec<_> = parsed
            .diagnostics
            .iter()
            .map(|d| (d.file.as_deref(), d.line, d.column, d.rule.as_str()))
            .collect();
        assert_eq!(
            places,
            [
                (Some("sum.test.js"), Some(6), Some(21), "breaks"),
                (Some("more.test.js"), Some(3), Some(67), "group inner fails"),
                (
                    Some("broken.test.js"),
                    Some(1),
                    Some(11),
                    "test suite failed to run"
                ),
            ]
        );
        let d = &parsed.diagnostics;
        assert!(d[0].message.contains("expect(received).toBe(expected)"));
        assert!(
            d[2].message
                .contains("Jest encountered an unexpected token")
        );
        assert!(d.iter().all(|d| d.kind == DiagnosticKind::TestFailure));
    }

    #[test]
    fn a_failure_without_a_frame_in_its_file_is_at_the_tests_line() {
        let report = r#"{"numFailedTestSuites":1,"numFailedTests":1,"numTotalTests":1,"testResults":[{"name":"/w/a.test.js","status":"failed","message":"","assertionResults":[{"fullName":"t","status":"failed","failureMessages":["Error: thrown in a helper\n    at helper (/w/lib/helper.js:3:9)"],"location":{"line":7,"column":1}}]}]}"#;
        let parsed = parse(report.as_bytes(), "/w").expect("parses");
        let d = &parsed.diagnostics[0];
        assert_eq!((d.file.as_deref(), d.line), (Some("a.test.js"), Some(7)));
        assert!(parse(b"no json", "/w").is_err());
        assert!(parse(b"{\"numFailedTestSuites\": 1", "/w").is_err());
    }
}
