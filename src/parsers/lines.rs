//! `path:line[:col]: message` lines, the lingua franca of compilers and simple linters (gcc,
//! `go vet`, mypy, rubocop's emacs format, standard), and tsc's `path(line,col): error TS…:`.

use std::sync::LazyLock;

use regex::Regex;

use super::{Diagnostic, DiagnosticKind, relative_path};

/// `path:line[:col]: message`; `go vet` prefixes its type-checking errors with `vet: `.
static LINE: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r"^(?:vet: )?(?P<path>[^:\s][^:]*):(?P<line>\d+):(?:(?P<col>\d+):)?\s*(?P<msg>.+)$")
        .expect("static regex")
});

/// `path(line,col): error TS2322: message`: tsc with `--pretty false`, and MSBuild's compilers.
static PAREN: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r"^(?P<path>[^(\s][^(]*)\((?P<line>\d+),(?P<col>\d+)\): (?P<level>error|warning|info) (?P<code>[A-Z]+\d+): (?P<msg>.+)$")
        .expect("static regex")
});

/// rubocop's emacs format after the place: `C: [Correctable] Style/StringLiterals: message`.
static RUBOCOP: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r"^(?P<sev>[CRWEF]): (?:\[Correctable\] )?(?P<cop>[A-Z]\w+/\w+): ")
        .expect("static regex")
});

/// A rule code at the end of the message, in brackets: shellcheck's `[SC2086]`, gcc's
/// `[-Wunused-variable]`, eslint's unix format `[Error/no-unused-vars]`.
static TRAILING_CODE: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r"\[(?:(?:Error|Warning)/)?(?P<code>-?[A-Za-z][\w./@:-]*)\]$").expect("static regex")
});

/// A rule name at the end of the message, in parentheses: standard's `(no-unused-vars)`,
/// golangci-lint's `(errcheck)`.
static TRAILING_NAME: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r"\((?P<code>@?[a-z][a-z0-9]*(?:[-/][a-z0-9-]+)*)\)$").expect("static regex")
});

/// A path an indented line may start with (standard indents its lines): path characters only
/// and an extension, so that an indented source line quoted in a tool's output is no place.
static INDENTED_PATH: LazyLock<Regex> =
    LazyLock::new(|| Regex::new(r"^[\w./@+-]+\.\w+$").expect("static regex"));

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
        .or_else(|| TRAILING_NAME.captures(msg))
        .map_or_else(|| "line".to_string(), |c| c["code"].to_string())
}

/// Parses every line of the forms above; others are ignored.
pub fn parse(output: &[u8], root: &str) -> Vec<Diagnostic> {
    String::from_utf8_lossy(output)
        .lines()
        .filter_map(|l| {
            let line = l.trim_end();
            let unindented = line.trim_start();
            if unindented.len() == line.len() {
                return diagnostic(line, root);
            }
            let d = diagnostic(unindented, root)?;
            let path = unindented.split(':').next().unwrap_or_default();
            INDENTED_PATH.is_match(path).then_some(d)
        })
        .collect()
}

fn diagnostic(line: &str, root: &str) -> Option<Diagnostic> {
    let place = |c: &regex::Captures, level: &str, rule: String, msg: String| Diagnostic {
        file: Some(relative_path(c["path"].trim_start(), root)),
        line: c["line"].parse().ok(),
        column: c.name("col").and_then(|m| m.as_str().parse().ok()),
        level: level.into(),
        rule,
        message: msg,
        kind: DiagnosticKind::Lint,
    };
    if let Some(c) = PAREN.captures(line) {
        return Some(place(
            &c,
            &c["level"],
            c["code"].to_string(),
            c["msg"].to_string(),
        ));
    }
    let c = LINE.captures(line)?;
    let msg = c["msg"].trim().to_string();
    if let Some(r) = RUBOCOP.captures(&msg) {
        // Convention and refactor offences are style; fatal is an error.
        let level = match &r["sev"] {
            "C" | "R" => "style",
            "W" => "warning",
            _ => "error",
        };
        return Some(place(&c, level, r["cop"].to_string(), msg.clone()));
    }
    // standard marks the rules that only warn after the rule: `(no-var) (warning)`.
    if let Some(body) = msg.strip_suffix(" (warning)") {
        return Some(place(&c, "warning", rule_of(body), msg.clone()));
    }
    let lower = msg.to_ascii_lowercase();
    let level = ["error", "warning", "info", "note", "style"]
        .into_iter()
        .find(|lvl| lower.starts_with(lvl))
        .unwrap_or("warning");
    Some(place(&c, level, rule_of(&msg), msg))
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

    /// Captured from the real tools: go1.19.8 `go vet ./...` (stderr), mypy 2.4.1
    /// `--show-column-numbers --no-pretty`, tsc 5 `--noEmit --pretty false`, rubocop 1.39.0
    /// `--format emacs`.
    #[test]
    fn go_vet_mypy_tsc_and_rubocop_as_they_print() {
        let out = "# example.com/demo/calc\n\
calc/calc.go:6:2: fmt.Printf format %d has arg \"x\" of wrong type string\n\
# example.com/demo/broken\n\
vet: broken/b.go:4:9: undeclared name: undefinedThing\n\
mp.py:4:10: error: Incompatible types in assignment (expression has type \"int\", variable has type \"str\")  [assignment]\n\
src/a.ts(1,7): error TS2322: Type 'string' is not assignable to type 'number'.\n\
/w/lib/calc.rb:1:1: C: [Correctable] Style/FrozenStringLiteralComment: Missing frozen string literal comment.\n\
/w/lib/calc.rb:2:3: W: Lint/UselessAssignment: Useless assignment to variable - `x`.\n";
        let d = parse(out.as_bytes(), "/w");
        let seen: Vec<(&str, u32, &str, &str)> = d
            .iter()
            .map(|d| {
                (
                    d.file.as_deref().unwrap_or_default(),
                    d.line.unwrap_or_default(),
                    d.level.as_str(),
                    d.rule.as_str(),
                )
            })
            .collect();
        assert_eq!(
            seen,
            [
                ("calc/calc.go", 6, "warning", "line"),
                ("broken/b.go", 4, "warning", "line"),
                ("mp.py", 4, "error", "assignment"),
                ("src/a.ts", 1, "error", "TS2322"),
                (
                    "lib/calc.rb",
                    1,
                    "style",
                    "Style/FrozenStringLiteralComment"
                ),
                ("lib/calc.rb", 2, "warning", "Lint/UselessAssignment"),
            ]
        );
        assert_eq!(d[3].column, Some(7));
    }

    #[test]
    fn reads_standard_and_mypy_as_they_print() {
        // standard 17.1.2 on a three-line file, in /tmp/stdfx (stdout, then its stderr).
        let standard =
            b"  /tmp/stdfx/bad.js:1:7: 'x' is assigned a value but never used. (no-unused-vars)
  /tmp/stdfx/bad.js:2:1: Unexpected var, use let or const instead. (no-var) (warning)
  /tmp/stdfx/bad.js:2:9: Strings must use singlequote. (quotes)

standard: Use JavaScript Standard Style (https://standardjs.com)
standard: Run `standard --fix` to automatically fix some problems.
";
        let d = parse(standard, "/tmp/stdfx");
        let got: Vec<_> = d
            .iter()
            .map(|d| {
                (
                    d.file.as_deref(),
                    d.line,
                    d.column,
                    d.rule.as_str(),
                    d.level.as_str(),
                )
            })
            .collect();
        assert_eq!(
            got,
            [
                (
                    Some("bad.js"),
                    Some(1),
                    Some(7),
                    "no-unused-vars",
                    "warning"
                ),
                (Some("bad.js"), Some(2), Some(1), "no-var", "warning"),
                (Some("bad.js"), Some(2), Some(9), "quotes", "warning"),
            ]
        );
        // An indented source line a tool quotes is no place.
        assert!(parse(b"\tfmt.Println(\"a:1:b\")\n    x := m[\"k:2:v\"]\n", "/w").is_empty());
        // mypy 1.x with the flags init writes.
        let mypy = b"m.py:1:10: error: Incompatible types in assignment (expression has type \"str\", variable has type \"int\")  [assignment]
m.py:2:13: note: Revealed type is \"int\"
";
        let d = parse(mypy, "/w");
        assert_eq!(
            (d[0].rule.as_str(), d[0].level.as_str(), d[0].column),
            ("assignment", "error", Some(10))
        );
        assert_eq!(d[1].level, "note");
    }
}
