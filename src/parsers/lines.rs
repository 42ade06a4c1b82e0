//! `path:line[:col]: message` lines, the lingua franca of compilers and simple linters.

use std::sync::LazyLock;

use regex::Regex;

use super::{Diagnostic, DiagnosticKind, relative_path};

static LINE: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r"^(?P<path>[^:\s][^:]*):(?P<line>\d+):(?:(?P<col>\d+):)?\s*(?P<msg>.+)$")
        .expect("static regex")
});

/// Parses every line of the form `path:line[:col]: message`; others are ignored.
pub fn parse(output: &[u8], root: &str) -> Vec<Diagnostic> {
    String::from_utf8_lossy(output)
        .lines()
        .filter_map(|l| LINE.captures(l.trim_end()))
        .map(|c| {
            let msg = c["msg"].trim().to_string();
            let lower = msg.to_ascii_lowercase();
            let level = ["error", "warning", "info", "note", "style"]
                .into_iter()
                .find(|lvl| lower.starts_with(lvl))
                .unwrap_or("warning");
            Diagnostic {
                file: Some(relative_path(&c["path"], root)),
                line: c["line"].parse().ok(),
                column: c.name("col").and_then(|m| m.as_str().parse().ok()),
                level: level.into(),
                rule: "line".into(),
                message: msg,
                kind: DiagnosticKind::Lint,
            }
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_path_line_col_message() {
        let d = parse(
            b"src/a.c:12:5: error: expected ';'\nnoise\nb.py:3: warning: unused\n",
            "/w",
        );
        assert_eq!(d.len(), 2);
        assert_eq!(
            (d[0].file.as_deref(), d[0].line, d[0].column),
            (Some("src/a.c"), Some(12), Some(5))
        );
        assert_eq!(d[0].level, "error");
        assert_eq!(d[1].column, None);
    }
}
