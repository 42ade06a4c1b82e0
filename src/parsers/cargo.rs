//! `cargo build|clippy --message-format=json`: one JSON object a line; compiler messages kept.

use serde::Deserialize;

use super::{Diagnostic, DiagnosticKind, ParseError, relative_path};

#[derive(Deserialize)]
struct Line {
    reason: String,
    message: Option<Message>,
}

#[derive(Deserialize)]
struct Message {
    message: String,
    level: String,
    code: Option<Code>,
    #[serde(default)]
    spans: Vec<Span>,
}

#[derive(Deserialize)]
struct Code {
    code: String,
}

#[derive(Deserialize)]
struct Span {
    file_name: String,
    line_start: u32,
    column_start: u32,
    is_primary: bool,
}

/// Parses cargo's JSON message stream; non-JSON lines (build progress) are skipped.
pub fn parse(output: &[u8], root: &str) -> Result<Vec<Diagnostic>, ParseError> {
    let text = String::from_utf8_lossy(output);
    let mut out = Vec::new();
    let mut saw_json = false;
    for line in text.lines().filter(|l| l.starts_with('{')) {
        let Ok(parsed) = serde_json::from_str::<Line>(line) else {
            continue;
        };
        saw_json = true;
        if parsed.reason != "compiler-message" {
            continue;
        }
        let Some(m) = parsed.message else { continue };
        let primary = m.spans.iter().find(|s| s.is_primary);
        // Summaries ("aborting due to 2 previous errors", "3 warnings emitted") carry no span.
        let Some(span) = primary else { continue };
        let rule = m.code.map_or_else(|| "rustc".to_string(), |c| c.code);
        let level = m.level.to_ascii_lowercase();
        // The build breaks on rustc's own errors (`E0425`, or a syntax error with no code);
        // a lint made an error by `-D warnings` or `#![deny(..)]` carries the lint's name
        // (`unused_variables`, `clippy::needless_return`) and is a lint at level error.
        let compiler_error = rule == "rustc"
            || (rule.len() == 5
                && rule.starts_with('E')
                && rule[1..].bytes().all(|b| b.is_ascii_digit()));
        let kind = if level.starts_with("error") && compiler_error {
            DiagnosticKind::BuildError
        } else {
            DiagnosticKind::Lint
        };
        out.push(Diagnostic {
            file: Some(relative_path(&span.file_name, root)),
            line: Some(span.line_start),
            column: Some(span.column_start),
            level: if level.starts_with("error") {
                "error".into()
            } else {
                level
            },
            rule,
            message: m.message,
            kind,
        });
    }
    if !saw_json && !text.trim().is_empty() {
        return Err(ParseError::new("cargo", "no JSON messages in the output"));
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    // Abridged from `cargo clippy --message-format=json` (cargo 1.95).
    const REAL: &str = r#"{"reason":"compiler-artifact","package_id":"x","target":{"name":"x"}}
{"reason":"compiler-message","package_id":"p","manifest_path":"/w/Cargo.toml","target":{"name":"p"},"message":{"rendered":"warning: unneeded `return` statement","$message_type":"diagnostic","children":[],"code":{"code":"clippy::needless_return","explanation":null},"level":"warning","message":"unneeded `return` statement","spans":[{"byte_end":40,"byte_start":30,"column_end":13,"column_start":5,"expansion":null,"file_name":"src/lib.rs","is_primary":true,"label":null,"line_end":2,"line_start":2,"suggested_replacement":null,"suggestion_applicability":null,"text":[]}]}}
{"reason":"compiler-message","package_id":"p","manifest_path":"/w/Cargo.toml","target":{"name":"p"},"message":{"rendered":"error[E0425]: cannot find value","$message_type":"diagnostic","children":[],"code":{"code":"E0425","explanation":"..."},"level":"error","message":"cannot find value `y` in this scope","spans":[{"byte_end":60,"byte_start":59,"column_end":6,"column_start":5,"expansion":null,"file_name":"src/lib.rs","is_primary":true,"label":"not found","line_end":5,"line_start":5,"suggested_replacement":null,"suggestion_applicability":null,"text":[]}]}}
{"reason":"compiler-message","package_id":"p","manifest_path":"/w/Cargo.toml","target":{"name":"p"},"message":{"rendered":"error: aborting","$message_type":"diagnostic","children":[],"code":null,"level":"error","message":"aborting due to 1 previous error","spans":[]}}
{"reason":"build-finished","success":false}"#;

    #[test]
    fn a_lint_denied_by_d_warnings_is_a_lint_not_a_build_break() {
        let denied = r#"{"reason":"compiler-message","package_id":"p","manifest_path":"/w/Cargo.toml","target":{"name":"p"},"message":{"rendered":"error: unused variable: `x`","$message_type":"diagnostic","children":[{"children":[],"code":null,"level":"note","message":"`-D unused-variables` implied by `-D warnings`","rendered":null,"spans":[]}],"code":{"code":"unused_variables","explanation":null},"level":"error","message":"unused variable: `x`","spans":[{"byte_end":20,"byte_start":19,"column_end":10,"column_start":9,"expansion":null,"file_name":"src/lib.rs","is_primary":true,"label":null,"line_end":2,"line_start":2,"suggested_replacement":null,"suggestion_applicability":null,"text":[]}]}}
{"reason":"compiler-message","package_id":"p","manifest_path":"/w/Cargo.toml","target":{"name":"p"},"message":{"rendered":"error: unneeded `return`","$message_type":"diagnostic","children":[],"code":{"code":"clippy::needless_return","explanation":null},"level":"error","message":"unneeded `return` statement","spans":[{"byte_end":40,"byte_start":30,"column_end":13,"column_start":5,"expansion":null,"file_name":"src/lib.rs","is_primary":true,"label":null,"line_end":3,"line_start":3,"suggested_replacement":null,"suggestion_applicability":null,"text":[]}]}}
{"reason":"compiler-message","package_id":"p","manifest_path":"/w/Cargo.toml","target":{"name":"p"},"message":{"rendered":"error: expected one of","$message_type":"diagnostic","children":[],"code":null,"level":"error","message":"expected one of `;` or `}`","spans":[{"byte_end":60,"byte_start":59,"column_end":6,"column_start":5,"expansion":null,"file_name":"src/lib.rs","is_primary":true,"label":null,"line_end":5,"line_start":5,"suggested_replacement":null,"suggestion_applicability":null,"text":[]}]}}"#;
        let d = parse(denied.as_bytes(), "/w").expect("parses");
        let kinds: Vec<(&str, DiagnosticKind, &str)> = d
            .iter()
            .map(|d| (d.rule.as_str(), d.kind, d.level.as_str()))
            .collect();
        assert_eq!(
            kinds,
            [
                ("unused_variables", DiagnosticKind::Lint, "error"),
                ("clippy::needless_return", DiagnosticKind::Lint, "error"),
                ("rustc", DiagnosticKind::BuildError, "error"),
            ]
        );
    }

    #[test]
    fn reads_real_output() {
        let d = parse(REAL.as_bytes(), "/w").expect("parses");
        assert_eq!(d.len(), 2);
        assert_eq!(d[0].rule, "clippy::needless_return");
        assert_eq!(d[0].kind, DiagnosticKind::Lint);
        assert_eq!(d[1].rule, "E0425");
        assert_eq!(d[1].kind, DiagnosticKind::BuildError);
        assert_eq!(d[1].line, Some(5));
    }
}
