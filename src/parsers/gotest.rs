//! `go test -json`: the test2json event stream on stdout, and the compiler's errors on stderr
//! (Go before 1.24 prints a package's build failure as plain text there; 1.24 and later send it
//! as `build-output` events).
//!
//! A failed test is placed at the `file.go:line:` its output names (what `t.Errorf` and
//! `t.Fatal` print), in the package's directory; a test whose subtests failed is reported
//! through them, not twice.

use std::collections::{BTreeMap, BTreeSet};
use std::sync::LazyLock;

use regex::Regex;
use serde::Deserialize;

use super::{Diagnostic, DiagnosticKind, Parsed, TestCounts, relative_path};

/// One test2json event (the fields we read).
#[derive(Deserialize)]
struct Event {
    #[serde(rename = "Action")]
    action: String,
    #[serde(rename = "Package", alias = "ImportPath", default)]
    package: String,
    #[serde(rename = "Test")]
    test: Option<String>,
    #[serde(rename = "Output")]
    output: Option<String>,
}

/// `    calc_test.go:7: Add(1, 2) = 3, want 4`: where the testing package says a test failed.
static TEST_PLACE: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r"^\s+(?P<file>[\w.-]+\.go):(?P<line>\d+): (?P<msg>.*)$").expect("static regex")
});

/// `broken/b.go:4:9: undefined: x`: a compiler error, path relative to the module's root.
static COMPILE_ERROR: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(
        r"^(?:vet: )?(?P<path>[^:\s][^:]*\.go):(?P<line>\d+):(?:(?P<col>\d+):)?\s*(?P<msg>.+)$",
    )
    .expect("static regex")
});

/// What a test printed and how it ended.
#[derive(Default)]
struct TestRun {
    place: Option<(String, u32, String)>,
    action: Option<String>,
}

/// The directory of `package` inside the repository: its import path with the longest
/// module path it starts with replaced by that module's directory.
fn package_dir(package: &str, modules: &[(String, String)]) -> String {
    let within = |m: &str| {
        if package == m {
            Some("")
        } else {
            package.strip_prefix(m).and_then(|r| r.strip_prefix('/'))
        }
    };
    modules
        .iter()
        .filter_map(|(m, dir)| Some((m.len(), within(m)?, dir)))
        .max_by_key(|(len, _, _)| *len)
        .map_or_else(
            || package.to_string(),
            |(_, rest, dir)| match (dir.as_str(), rest) {
                ("", rest) => rest.to_string(),
                (dir, "") => dir.to_string(),
                (dir, rest) => format!("{dir}/{rest}"),
            },
        )
}

fn join(dir: &str, file: &str) -> String {
    if dir.is_empty() {
        file.to_string()
    } else {
        format!("{dir}/{file}")
    }
}

/// Parses `go test -json` output (stdout, then stderr). `modules` are the tree's Go modules
/// (module path, directory), so that packages become directories; `root` is stripped from
/// absolute paths.
pub fn parse(output: &[u8], root: &str, modules: &[(String, String)]) -> Parsed {
    let text = String::from_utf8_lossy(output);
    let mut tests: BTreeMap<(String, String), TestRun> = BTreeMap::new();
    let mut diagnostics = Vec::new();
    let compile = |line: &str, diagnostics: &mut Vec<Diagnostic>| {
        if let Some(c) = COMPILE_ERROR.captures(line.trim_end()) {
            diagnostics.push(Diagnostic {
                file: Some(relative_path(&c["path"], root)),
                line: c["line"].parse().ok(),
                column: c.name("col").and_then(|m| m.as_str().parse().ok()),
                level: "error".into(),
                rule: "build".into(),
                message: c["msg"].trim().to_string(),
                kind: DiagnosticKind::BuildError,
            });
        }
    };
    for line in text.lines() {
        let Ok(event) = serde_json::from_str::<Event>(line) else {
            compile(line, &mut diagnostics);
            continue;
        };
        if event.action == "build-output" {
            for l in event.output.as_deref().unwrap_or_default().lines() {
                compile(l, &mut diagnostics);
            }
            continue;
        }
        let Some(test) = event.test else { continue };
        let run = tests.entry((event.package.clone(), test)).or_default();
        match event.action.as_str() {
            "output" => {
                let out = event.output.unwrap_or_default();
                if run.place.is_none()
                    && let Some(c) = TEST_PLACE.captures(out.trim_end_matches('\n'))
                {
                    let dir = package_dir(&event.package, modules);
                    run.place = Some((
                        join(&dir, &c["file"]),
                        c["line"].parse().unwrap_or(0),
                        c["msg"].to_string(),
                    ));
                }
            }
            "pass" | "fail" | "skip" => run.action = Some(event.action),
            _ => {}
        }
    }
    let failed_parents: BTreeSet<(String, String)> = tests
        .iter()
        .filter(|(_, r)| r.action.as_deref() == Some("fail"))
        .filter_map(|((pkg, name), _)| {
            name.rsplit_once('/')
                .map(|(parent, _)| (pkg.clone(), parent.to_string()))
        })
        .collect();
    let mut counts = TestCounts::default();
    for ((package, name), run) in &tests {
        match run.action.as_deref() {
            Some("pass") => counts.total += 1,
            Some("skip") => counts.skipped += 1,
            Some("fail") => {
                counts.total += 1;
                counts.failed += 1;
                if failed_parents.contains(&(package.clone(), name.clone())) {
                    continue;
                }
                let dir = package_dir(package, modules);
                let rule = if dir.is_empty() {
                    name.clone()
                } else {
                    format!("{dir}.{name}")
                };
                let (file, line, message) = match &run.place {
                    Some((file, line, msg)) => (
                        Some(file.clone()),
                        Some(*line),
                        format!("test `{rule}`: {msg}"),
                    ),
                    None => (None, None, format!("test `{rule}` failed")),
                };
                diagnostics.push(Diagnostic {
                    file,
                    line,
                    column: None,
                    level: "fail".into(),
                    rule,
                    message,
                    kind: DiagnosticKind::TestFailure,
                });
            }
            _ => {}
        }
    }
    Parsed {
        diagnostics,
        tests: (!tests.is_empty()).then_some(counts),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Captured from `go test -vet=off -json ./...` (go1.19.8) on a module with one failing
    /// test, one passing, one skipped and a failing subtest, then a package that does not build
    /// (its compiler errors on stderr); `=== RUN` and repeated output lines trimmed.
    const CAPTURED: &str = r#"{"Time":"2026-12-06T02:08:48.860236454Z","Action":"run","Package":"example.com/demo/calc","Test":"TestAdd"}
{"Time":"2026-12-06T02:08:48.860335633Z","Action":"output","Package":"example.com/demo/calc","Test":"TestAdd","Output":"=== RUN   TestAdd\n"}
{"Time":"2026-12-06T02:08:48.860343328Z","Action":"output","Package":"example.com/demo/calc","Test":"TestAdd","Output":"%!d(string=x)\n"}
{"Time":"2026-12-06T02:08:48.860348467Z","Action":"output","Package":"example.com/demo/calc","Test":"TestAdd","Output":"    calc_test.go:7: Add(1, 2) = 3, want 4\n"}
{"Time":"2026-12-06T02:08:48.860353466Z","Action":"output","Package":"example.com/demo/calc","Test":"TestAdd","Output":"--- FAIL: TestAdd (0.00s)\n"}
{"Time":"2026-12-06T02:08:48.860358575Z","Action":"fail","Package":"example.com/demo/calc","Test":"TestAdd","Elapsed":0}
{"Time":"2026-12-06T02:08:48.860362634Z","Action":"run","Package":"example.com/demo/calc","Test":"TestOK"}
{"Time":"2026-12-06T02:08:48.860367315Z","Action":"output","Package":"example.com/demo/calc","Test":"TestOK","Output":"--- PASS: TestOK (0.00s)\n"}
{"Time":"2026-12-06T02:08:48.860374773Z","Action":"pass","Package":"example.com/demo/calc","Test":"TestOK","Elapsed":0}
{"Time":"2026-12-06T02:08:48.860376804Z","Action":"run","Package":"example.com/demo/calc","Test":"TestSkip"}
{"Time":"2026-12-06T02:08:48.860380416Z","Action":"output","Package":"example.com/demo/calc","Test":"TestSkip","Output":"    calc_test.go:13: later\n"}
{"Time":"2026-12-06T02:08:48.860384641Z","Action":"skip","Package":"example.com/demo/calc","Test":"TestSkip","Elapsed":0}
{"Time":"2026-12-06T02:08:48.860386643Z","Action":"run","Package":"example.com/demo/calc","Test":"TestSub"}
{"Time":"2026-12-06T02:08:48.860390364Z","Action":"run","Package":"example.com/demo/calc","Test":"TestSub/inner"}
{"Time":"2026-12-06T02:08:48.860394428Z","Action":"output","Package":"example.com/demo/calc","Test":"TestSub/inner","Output":"    calc_test.go:16: boom\n"}
{"Time":"2026-12-06T02:08:48.860396644Z","Action":"output","Package":"example.com/demo/calc","Test":"TestSub","Output":"--- FAIL: TestSub (0.00s)\n"}
{"Time":"2026-12-06T02:08:48.860401093Z","Action":"fail","Package":"example.com/demo/calc","Test":"TestSub/inner","Elapsed":0}
{"Time":"2026-12-06T02:08:48.860402814Z","Action":"fail","Package":"example.com/demo/calc","Test":"TestSub","Elapsed":0}
{"Time":"2026-12-06T02:08:48.860404587Z","Action":"output","Package":"example.com/demo/calc","Output":"FAIL\n"}
{"Time":"2026-12-06T02:08:48.860601959Z","Action":"fail","Package":"example.com/demo/calc","Elapsed":0.002}
FAIL	example.com/demo/broken [build failed]

# example.com/demo/broken [example.com/demo/broken.test]
broken/b.go:4:9: undefined: undefinedThing
"#;

    fn module(path: &str, dir: &str) -> Vec<(String, String)> {
        vec![(path.to_string(), dir.to_string())]
    }

    #[test]
    fn failures_are_placed_in_their_package_and_builds_break() {
        let parsed = parse(CAPTURED.as_bytes(), "/w", &module("example.com/demo", ""));
        assert_eq!(
            parsed.tests,
            Some(TestCounts {
                // As test2json counts: a failed subtest fails its parent too.
                total: 4,
                failed: 3,
                skipped: 1
            })
        );
        let d = &parsed.diagnostics;
        assert_eq!(d.len(), 3, "{d:?}");
        assert_eq!(d[0].kind, DiagnosticKind::BuildError);
        assert_eq!(
            (d[0].file.as_deref(), d[0].line, d[0].column),
            (Some("broken/b.go"), Some(4), Some(9))
        );
        assert_eq!(d[1].rule, "calc.TestAdd");
        assert_eq!(
            (d[1].file.as_deref(), d[1].line),
            (Some("calc/calc_test.go"), Some(7))
        );
        assert!(d[1].message.contains("want 4"), "{}", d[1].message);
        // The parent of a failed subtest is not reported a second time.
        assert_eq!(d[2].rule, "calc.TestSub/inner");
        assert_eq!(d[2].line, Some(16));
    }

    #[test]
    fn the_module_root_package_and_go_1_24_build_output() {
        let out = concat!(
            r##"{"ImportPath":"example.com/m","Action":"build-output","Output":"# example.com/m\n"}"##,
            "\n",
            r#"{"ImportPath":"example.com/m","Action":"build-output","Output":"./m.go:3:1: syntax error\n"}"#,
            "\n",
            r#"{"Action":"fail","Package":"example.com/m","Test":"TestRoot"}"#,
            "\n",
        );
        let parsed = parse(out.as_bytes(), "/w", &module("example.com/m", ""));
        assert_eq!(parsed.diagnostics[0].file.as_deref(), Some("m.go"));
        assert_eq!(parsed.diagnostics[1].rule, "TestRoot");
        assert_eq!(parsed.diagnostics[1].file, None);
        // Without go.mod's module path the import path stands for the directory.
        let parsed = parse(CAPTURED.as_bytes(), "/w", &[]);
        assert_eq!(
            parsed.diagnostics[1].file.as_deref(),
            Some("example.com/demo/calc/calc_test.go")
        );
        // A go.work workspace: each module in its own directory (dokku's plugins).
        let modules = [
            ("example.com/demo".to_string(), String::new()),
            (
                "example.com/demo/calc".to_string(),
                "plugins/calc".to_string(),
            ),
        ];
        let parsed = parse(CAPTURED.as_bytes(), "/w", &modules);
        assert_eq!(
            parsed.diagnostics[1].file.as_deref(),
            Some("plugins/calc/calc_test.go")
        );
    }
}
