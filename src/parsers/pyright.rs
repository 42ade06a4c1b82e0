//! `pyright --outputjson`: its `generalDiagnostics`, whose lines and columns are 0-based.

use serde::Deserialize;

use super::{Diagnostic, DiagnosticKind, ParseError, relative_path};

#[derive(Deserialize)]
struct Report {
    #[serde(rename = "generalDiagnostics", default)]
    diagnostics: Vec<Entry>,
}

#[derive(Deserialize)]
struct Entry {
    file: String,
    severity: String,
    message: String,
    range: Option<Range>,
    rule: Option<String>,
}

#[derive(Deserialize)]
struct Range {
    start: Position,
}

#[derive(Deserialize)]
struct Position {
    line: u32,
    character: u32,
}

/// Parses pyright's JSON report.
pub fn parse(output: &[u8], root: &str) -> Result<Vec<Diagnostic>, ParseError> {
    let report: Report =
        serde_json::from_slice(output).map_err(|e| ParseError::new("pyright", e))?;
    Ok(report
        .diagnostics
        .into_iter()
        .map(|e| Diagnostic {
            file: Some(relative_path(&e.file, root)),
            line: e.range.as_ref().map(|r| r.start.line.saturating_add(1)),
            column: e
                .range
                .as_ref()
                .map(|r| r.start.character.saturating_add(1)),
            level: match e.severity.as_str() {
                "information" => "info".to_string(),
                other => other.to_string(),
            },
            rule: e.rule.unwrap_or_else(|| "pyright".into()),
            // pyright indents the detail of a message with no-break spaces.
            message: e.message.replace('\u{a0}', " "),
            kind: DiagnosticKind::Lint,
        })
        .collect())
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Captured from pyright 1.1.414 `--outputjson` on an ill-typed assignment.
    const CAPTURED: &str = r#"{"version": "1.1.414", "time": "1796527871280", "generalDiagnostics": [{"file": "/w/mp.py", "severity": "error", "message": "Type \"int\" is not assignable to declared type \"str\"\n\u00a0\u00a0\"int\" is not assignable to \"str\"", "range": {"start": {"line": 3, "character": 9}, "end": {"line": 3, "character": 13}}, "rule": "reportAssignmentType"}], "summary": {"filesAnalyzed": 1, "errorCount": 1, "warningCount": 0, "informationCount": 0, "timeInSec": 0.308}}"#;

    #[test]
    fn positions_become_one_based() {
        let d = parse(CAPTURED.as_bytes(), "/w").expect("parses");
        assert_eq!(
            (d[0].file.as_deref(), d[0].line, d[0].column),
            (Some("mp.py"), Some(4), Some(10))
        );
        assert_eq!(
            (d[0].level.as_str(), d[0].rule.as_str()),
            ("error", "reportAssignmentType")
        );
    }
}
