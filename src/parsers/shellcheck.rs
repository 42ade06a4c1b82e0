//! `shellcheck -f json1`: `{"comments": [{file, line, column, level, code, message}]}`.

use serde::Deserialize;

use super::{Diagnostic, DiagnosticKind, ParseError, relative_path};

#[derive(Deserialize)]
struct Output {
    comments: Vec<Comment>,
}

#[derive(Deserialize)]
struct Comment {
    file: String,
    line: u32,
    column: Option<u32>,
    level: String,
    code: u32,
    message: String,
}

/// Parses shellcheck's json1 output.
pub fn parse(output: &[u8], root: &str) -> Result<Vec<Diagnostic>, ParseError> {
    let out: Output =
        serde_json::from_slice(output).map_err(|e| ParseError::new("shellcheck", e))?;
    Ok(out
        .comments
        .into_iter()
        .map(|c| Diagnostic {
            file: Some(relative_path(&c.file, root)),
            line: Some(c.line),
            column: c.column,
            level: c.level.to_ascii_lowercase(),
            rule: format!("SC{}", c.code),
            message: c.message,
            kind: DiagnosticKind::Lint,
        })
        .collect())
}

#[cfg(test)]
mod tests {
    use super::*;

    // Captured from `shellcheck -f json1 a.sh` (ShellCheck 0.9.0).
    const REAL: &str = r#"{"comments":[{"file":"a.sh","line":2,"endLine":2,"column":6,"endColumn":8,"level":"info","code":2086,"message":"Double quote to prevent globbing and word splitting.","fix":{"replacements":[]}},{"file":"a.sh","line":3,"endLine":3,"column":1,"endColumn":5,"level":"error","code":2164,"message":"Use 'cd ... || exit'","fix":null}]}"#;

    #[test]
    fn reads_real_output() {
        let d = parse(REAL.as_bytes(), "/w").expect("parses");
        assert_eq!(d.len(), 2);
        assert_eq!(d[0].rule, "SC2086");
        assert_eq!((d[0].line, d[0].column), (Some(2), Some(6)));
        assert_eq!(d[1].level, "error");
    }

    #[test]
    fn empty_output_is_an_error_not_a_pass() {
        assert!(parse(b"", "/w").is_err());
    }
}
