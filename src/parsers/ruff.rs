//! `ruff check --output-format json`: an array of `{code, message, filename, location}`.

use serde::Deserialize;

use super::{Diagnostic, DiagnosticKind, ParseError, relative_path};

#[derive(Deserialize)]
struct Item {
    code: Option<String>,
    message: String,
    filename: String,
    location: Option<Loc>,
}

#[derive(Deserialize)]
struct Loc {
    row: u32,
    column: u32,
}

/// Parses ruff's JSON output. A syntax error (`invalid-syntax`, ruff 0.12 on; no code before;
/// `E999` long ago) is a module that cannot be imported: a build break, once per file (what
/// follows the first is its echo). Syntax too new for the configured target version parses
/// and runs where the project runs: a lint at level error.
pub fn parse(output: &[u8], root: &str) -> Result<Vec<Diagnostic>, ParseError> {
    let items: Vec<Item> =
        serde_json::from_slice(output).map_err(|e| ParseError::new("ruff", e))?;
    let mut broken = std::collections::HashSet::new();
    let mut out = Vec::new();
    for i in items {
        let file = relative_path(&i.filename, root);
        let syntax = i
            .code
            .as_deref()
            .is_none_or(|c| c == "invalid-syntax" || c == "E999");
        let too_new = i.message.contains("syntax was added in Python");
        let kind = if syntax && !too_new {
            if !broken.insert(file.clone()) {
                continue;
            }
            DiagnosticKind::BuildError
        } else {
            DiagnosticKind::Lint
        };
        out.push(Diagnostic {
            file: Some(file),
            line: i.location.as_ref().map(|l| l.row),
            column: i.location.as_ref().map(|l| l.column),
            level: if syntax { "error" } else { "warning" }.into(),
            rule: i.code.unwrap_or_else(|| "invalid-syntax".into()),
            message: i.message,
            kind,
        });
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    // Captured from `ruff check --output-format json` (ruff 0.x).
    const REAL: &str = r#"[{"cell":null,"code":"F401","end_location":{"column":10,"row":1},"filename":"/w/pkg/a.py","fix":{"applicability":"safe","edits":[],"message":"Remove unused import: `os`"},"location":{"column":8,"row":1},"message":"`os` imported but unused","noqa_row":1,"url":"https://docs.astral.sh/ruff/rules/unused-import"}]"#;

    #[test]
    fn reads_real_output() {
        let d = parse(REAL.as_bytes(), "/w").expect("parses");
        assert_eq!(d[0].file.as_deref(), Some("pkg/a.py"));
        assert_eq!(d[0].rule, "F401");
        assert_eq!(d[0].line, Some(1));
        assert_eq!(d[0].kind, DiagnosticKind::Lint);
    }

    // ruff 0.17.6 on `def f(:` and on a `match` statement with `--target-version py39`.
    const SYNTAX: &str = r#"[{"cell":null,"code":"invalid-syntax","end_location":{"column":8,"row":1},"filename":"/w/bad.py","fix":null,"location":{"column":7,"row":1},"message":"Expected a parameter or the end of the parameter list","name":"invalid-syntax","noqa_row":null,"severity":"error","url":null},{"cell":null,"code":"invalid-syntax","end_location":{"column":1,"row":2},"filename":"/w/bad.py","fix":null,"location":{"column":8,"row":1},"message":"Expected `)`, found newline","name":"invalid-syntax","noqa_row":null,"severity":"error","url":null},{"cell":null,"code":"invalid-syntax","end_location":{"column":6,"row":1},"filename":"/w/m.py","fix":null,"location":{"column":1,"row":1},"message":"Cannot use `match` statement on Python 3.9 (syntax was added in Python 3.10)","name":"invalid-syntax","noqa_row":null,"severity":"error","url":null}]"#;

    #[test]
    fn a_syntax_error_is_one_build_break_per_file_and_new_syntax_a_lint_error() {
        let d = parse(SYNTAX.as_bytes(), "/w").expect("parses");
        assert_eq!(d.len(), 2, "{d:?}");
        assert_eq!(d[0].kind, DiagnosticKind::BuildError);
        assert_eq!(d[0].file.as_deref(), Some("bad.py"));
        assert_eq!(d[1].kind, DiagnosticKind::Lint);
        assert_eq!(
            (d[1].level.as_str(), d[1].rule.as_str()),
            ("error", "invalid-syntax")
        );
    }
}
