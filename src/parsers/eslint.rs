//! `eslint -f json`: an array of files, each with `messages` of `{ruleId, severity, line}`.

use serde::Deserialize;

use super::{Diagnostic, DiagnosticKind, ParseError, relative_path};

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct FileResult {
    file_path: String,
    messages: Vec<Message>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct Message {
    rule_id: Option<String>,
    severity: u8,
    message: String,
    line: Option<u32>,
    column: Option<u32>,
}

/// Parses ESLint's JSON formatter output; severity 2 is an error, 1 a warning.
pub fn parse(output: &[u8], root: &str) -> Result<Vec<Diagnostic>, ParseError> {
    let files: Vec<FileResult> =
        serde_json::from_slice(output).map_err(|e| ParseError::new("eslint", e))?;
    let mut out = Vec::new();
    for f in files {
        let file = relative_path(&f.file_path, root);
        for m in f.messages {
            out.push(Diagnostic {
                file: Some(file.clone()),
                line: m.line,
                column: m.column,
                level: if m.severity >= 2 { "error" } else { "warning" }.into(),
                rule: m.rule_id.unwrap_or_else(|| "parse-error".into()),
                message: m.message,
                kind: DiagnosticKind::Lint,
            });
        }
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    // Captured from `eslint -f json a.js` (ESLint 9).
    const REAL: &str = r#"[{"filePath":"/w/a.js","messages":[{"ruleId":"no-unused-vars","severity":2,"message":"'x' is assigned a value but never used.","line":1,"column":7,"nodeType":"Identifier","messageId":"unusedVar","endLine":1,"endColumn":8}],"suppressedMessages":[],"errorCount":1,"fatalErrorCount":0,"warningCount":0,"fixableErrorCount":0,"fixableWarningCount":0,"source":"const x = 1;\n","usedDeprecatedRules":[]}]"#;

    #[test]
    fn reads_real_output() {
        let d = parse(REAL.as_bytes(), "/w").expect("parses");
        assert_eq!(d[0].file.as_deref(), Some("a.js"));
        assert_eq!(d[0].level, "error");
        assert_eq!(d[0].rule, "no-unused-vars");
    }
}
