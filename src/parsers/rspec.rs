//! `rspec --format json`: one diagnostic per failed example, at the line of the spec file its
//! backtrace passes through (the failing expectation), else at the example's own line.

use serde::Deserialize;

use super::{Diagnostic, DiagnosticKind, ParseError, Parsed, TestCounts, relative_path};

#[derive(Deserialize)]
struct Report {
    #[serde(default)]
    examples: Vec<Example>,
    summary: Summary,
}

#[derive(Deserialize)]
struct Summary {
    example_count: u32,
    failure_count: u32,
    #[serde(default)]
    pending_count: u32,
    #[serde(default)]
    errors_outside_of_examples_count: u32,
}

#[derive(Deserialize)]
struct Example {
    #[serde(default)]
    full_description: String,
    status: String,
    file_path: String,
    line_number: Option<u32>,
    exception: Option<Exception>,
}

#[derive(Deserialize)]
struct Exception {
    #[serde(default)]
    message: String,
    #[serde(default)]
    backtrace: Vec<String>,
}

/// The line of `file` a backtrace frame (`/abs/spec/x_spec.rb:4:in ...`) names.
fn frame_line(backtrace: &[String], file: &str) -> Option<u32> {
    let file = file.trim_start_matches("./");
    backtrace.iter().find_map(|frame| {
        let (path, rest) = frame.split_once(".rb:")?;
        let path = format!("{path}.rb");
        if !(path == file || path.ends_with(&format!("/{file}"))) {
            return None;
        }
        rest.split(':').next()?.parse().ok()
    })
}

/// Parses rspec's JSON report (rspec prints nothing else on stdout with `--format json`).
pub fn parse(output: &[u8], root: &str) -> Result<Parsed, ParseError> {
    // A `puts` in a spec lands before the report: read from the report's first brace.
    let start = memchr::memmem::find(output, b"{\"version\"").unwrap_or(0);
    let report: Report =
        serde_json::from_slice(&output[start..]).map_err(|e| ParseError::new("rspec", e))?;
    let diagnostics = report
        .examples
        .iter()
        .filter(|e| e.status == "failed")
        .map(|e| {
            let file = relative_path(&e.file_path, root);
            let exception = e.exception.as_ref();
            let line = exception
                .and_then(|x| frame_line(&x.backtrace, &file))
                .or(e.line_number);
            let detail = exception.map_or("", |x| x.message.trim());
            Diagnostic {
                file: Some(file),
                line,
                column: None,
                level: "failure".into(),
                rule: e.full_description.clone(),
                message: if detail.is_empty() {
                    format!("example `{}` failed", e.full_description)
                } else {
                    format!("example `{}`: {detail}", e.full_description)
                },
                kind: DiagnosticKind::TestFailure,
            }
        })
        .collect();
    let s = &report.summary;
    Ok(Parsed {
        diagnostics,
        tests: Some(TestCounts {
            total: s.example_count.saturating_sub(s.pending_count),
            failed: s
                .failure_count
                .saturating_add(s.errors_outside_of_examples_count),
            skipped: s.pending_count,
        }),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Captured from rspec 3.12 `--format json` on a spec with a failing, a passing and a
    /// pending example; the backtraces are cut to the frames that matter.
    const CAPTURED: &str = r#"{"version": "3.12.0", "examples": [{"id": "./spec/calc_spec.rb[1:1]", "description": "adds", "full_description": "add adds", "status": "failed", "file_path": "./spec/calc_spec.rb", "line_number": 3, "run_time": 0.006878591, "pending_message": null, "exception": {"class": "RSpec::Expectations::ExpectationNotMetError", "message": "\nexpected: 4\n     got: 3\n\n(compared using ==)\n", "backtrace": ["/usr/share/rubygems-integration/all/gems/rspec-support-3.12.0/lib/rspec/support.rb:102:in `block in <module:Support>'", "/w/spec/calc_spec.rb:4:in `block (2 levels) in <top (required)>'"]}}, {"id": "./spec/calc_spec.rb[1:2]", "description": "ok", "full_description": "add ok", "status": "passed", "file_path": "./spec/calc_spec.rb", "line_number": 6, "run_time": 6.1076e-05, "pending_message": null}, {"id": "./spec/calc_spec.rb[1:3]", "description": "later", "full_description": "add later", "status": "pending", "file_path": "./spec/calc_spec.rb", "line_number": 9, "run_time": 4.2449e-05, "pending_message": "x"}], "summary": {"duration": 0.007533484, "example_count": 3, "failure_count": 1, "pending_count": 1, "errors_outside_of_examples_count": 0}, "summary_line": "3 examples, 1 failure, 1 pending"}"#;

    #[test]
    fn a_failed_example_is_placed_at_its_expectation() {
        let parsed = parse(format!("debug output\n{CAPTURED}").as_bytes(), "/w").expect("parses");
        assert_eq!(
            parsed.tests,
            Some(TestCounts {
                total: 2,
                failed: 1,
                skipped: 1
            })
        );
        let d = &parsed.diagnostics;
        assert_eq!(d.len(), 1);
        assert_eq!(
            (d[0].file.as_deref(), d[0].line),
            (Some("spec/calc_spec.rb"), Some(4))
        );
        assert_eq!(d[0].rule, "add adds");
        assert!(d[0].message.contains("expected: 4"));
        assert!(parse(b"no json", "/w").is_err());
    }
}
