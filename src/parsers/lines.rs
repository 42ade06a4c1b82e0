//! `path:line[:col]: message` lines, the lingua franca of compilers and simple linters.

use std::sync::LazyLock;

use regex::Regex;

use super::{Diagnostic, DiagnosticKind, relative_path};

static LINE: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r"^(?P<path>[^:\s][^:]*):(?P<line>\d+):(?:(?P<col>\d+):)?\s*(?P<msg>.+)$")
        .expect("static regex")
});

/// A rule code at the end of the message, in brackets: shellcheck's `[SC2086]`, gcc's
/// `[-Wunused-variable]`, eslint's unix format `[Error/no-unused-vars]`.
static TRAILING_CODE: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r"\[(?:(?:Error|Warning)/)?(?P<code>-?[A-Za-z][\w./@:-]*)\]$").expect("static regex")
});

/// A rule code leading the message, after any level: ruff's and flake8's `F401`, pycodestyle's
/// `E501`, shellcheck's `SC2086`.
static LEADING_CODE: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r"^(?:(?:error|warning|info|note|style):\s*)?(?P<code>[A-Z]{1,4}\d{2,5})\b")
        .expect("static regex")
});

/// The rule a message names, or `line` when it names none.
fn rule_of(msg: &str) -> String {
    TRAILING_CODE
        .captures(msg)
        .or_else(|| LEADING_CODE.captures(msg))
        .map_or_else(|| "line".to_string(), |c| c["code"].to_string())
}

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
                rule: rule_of(&msg),
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
        assert_eq!(d[0].rule, "line");
    }

    #[test]
    fn keeps_the_rule_codes_tools_print() {
        let out = b"a.sh:3:8: warning: Double quote to prevent globbing. [SC2086]\n\
a.py:1:8: F401 [*] `os` imported but unused\n\
a.py:2:80: E501 Line too long (88 > 79)\n\
a.c:4:9: warning: unused variable 'x' [-Wunused-variable]\n\
a.js:1:5: 'x' is assigned a value but never used. [Error/no-unused-vars]\n";
        let rules: Vec<String> = parse(out, "/w").into_iter().map(|d| d.rule).collect();
        assert_eq!(
            rules,
            [
                "SC2086",
                "F401",
                "E501",
                "-Wunused-variable",
                "no-unused-vars"
            ]
        );
    }
}
