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

/// Parses ruff's JSON output; a finding without a code is a syntax error.
pub fn parse(output: &[u8], root: &str) -> Result<Vec<Diagnostic>, ParseError> {
    let items: Vec<Item> =
        serde_json::from_slice(output).map_err(|e| ParseError::new("ruff", e))?;
    Ok(items
        .into_iter()
        .map(|i| Diagnostic {
            file: Some(relative_path(&i.filename, root)),
            line: i.location.as_ref().map(|l| l.row),
            column: i.location.as_ref().map(|l| l.column),
            level: if i.code.is_some() { "warning" } else { "error" }.into(),
            rule: i.code.unwrap_or_else(|| "syntax-error".into()),
            message: i.message,
            kind: DiagnosticKind::Lint,
        })
        .collect())
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
    }
}
