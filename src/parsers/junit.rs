//! JUnit XML (pytest `--junitxml`, cargo-nextest, jest-junit...): one diagnostic per failing case.

use quick_xml::Reader;
use quick_xml::events::{BytesStart, Event};

use super::{Diagnostic, DiagnosticKind, ParseError, Parsed, TestCounts, relative_path};

#[derive(Default)]
struct Case {
    name: String,
    classname: String,
    file: Option<String>,
    line: Option<u32>,
    failure: Option<(String, String)>,
    skipped: bool,
}

fn attr(e: &BytesStart<'_>, key: &[u8]) -> Option<String> {
    e.attributes()
        .flatten()
        .find(|a| a.key.as_ref() == key)
        .and_then(|a| a.unescape_value().ok().map(|v| v.into_owned()))
}

/// Parses a JUnit XML document into failing cases and counts.
pub fn parse(xml: &[u8], root: &str) -> Result<Parsed, ParseError> {
    let mut reader = Reader::from_reader(xml);
    let mut buf = Vec::new();
    let mut case: Option<Case> = None;
    let mut in_failure = false;
    let mut counts = TestCounts::default();
    let mut diagnostics = Vec::new();
    let mut saw_suite = false;

    let finish = |c: Case, counts: &mut TestCounts, out: &mut Vec<Diagnostic>| {
        if c.skipped && c.failure.is_none() {
            counts.skipped += 1;
            return;
        }
        counts.total += 1;
        if let Some((kind, message)) = c.failure {
            counts.failed += 1;
            let id = if c.classname.is_empty() {
                c.name.clone()
            } else {
                format!("{}::{}", c.classname, c.name)
            };
            let message = message.trim();
            out.push(Diagnostic {
                file: c.file.map(|f| relative_path(&f, root)),
                line: c.line,
                column: None,
                level: kind.clone(),
                rule: id.clone(),
                message: if message.is_empty() {
                    format!("test `{id}` {kind}ed")
                } else {
                    format!("test `{id}`: {message}")
                },
                kind: DiagnosticKind::TestFailure,
            });
        }
    };

    loop {
        let event = reader
            .read_event_into(&mut buf)
            .map_err(|e| ParseError::new("junit", e))?;
        match event {
            Event::Start(ref e) | Event::Empty(ref e) => {
                let empty = matches!(event, Event::Empty(_));
                match e.name().as_ref() {
                    b"testsuite" | b"testsuites" => saw_suite = true,
                    b"testcase" => {
                        let c = Case {
                            name: attr(e, b"name").unwrap_or_default(),
                            classname: attr(e, b"classname").unwrap_or_default(),
                            file: attr(e, b"file"),
                            line: attr(e, b"line").and_then(|l| l.parse().ok()),
                            ..Case::default()
                        };
                        if empty {
                            finish(c, &mut counts, &mut diagnostics);
                        } else {
                            case = Some(c);
                        }
                    }
                    tag @ (b"failure" | b"error") => {
                        if let Some(c) = case.as_mut() {
                            let kind = if tag == b"failure" {
                                "failure"
                            } else {
                                "error"
                            };
                            c.failure =
                                Some((kind.into(), attr(e, b"message").unwrap_or_default()));
                            in_failure = !empty;
                        }
                    }
                    b"skipped" => {
                        if let Some(c) = case.as_mut() {
                            c.skipped = true;
                        }
                    }
                    _ => {}
                }
            }
            Event::Text(t) if in_failure => {
                if let (Some(c), Ok(text)) = (case.as_mut(), t.decode()) {
                    if let Some((_, msg)) = c.failure.as_mut() {
                        if msg.is_empty() {
                            // The body is often a whole traceback; its last lines say most.
                            let lines: Vec<&str> = text.trim().lines().collect();
                            *msg = lines[lines.len().saturating_sub(5)..].join("\n");
                        }
                    }
                }
            }
            Event::End(ref e) => match e.name().as_ref() {
                b"failure" | b"error" => in_failure = false,
                b"testcase" => {
                    if let Some(c) = case.take() {
                        finish(c, &mut counts, &mut diagnostics);
                    }
                }
                _ => {}
            },
            Event::Eof => break,
            _ => {}
        }
        buf.clear();
    }
    if !saw_suite {
        return Err(ParseError::new("junit", "no <testsuite> element"));
    }
    Ok(Parsed {
        diagnostics,
        tests: Some(counts),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    // Captured from `pytest --junitxml` (pytest 8).
    const REAL: &str = r#"<?xml version="1.0" encoding="utf-8"?><testsuites><testsuite name="pytest" errors="0" failures="1" skipped="1" tests="3" time="0.02"><testcase classname="test_a" name="test_ok" time="0.001" /><testcase classname="test_a" name="test_bad" time="0.001"><failure message="assert 1 == 2">def test_bad():
&gt;       assert 1 == 2
E       assert 1 == 2

test_a.py:5: AssertionError</failure></testcase><testcase classname="test_a" name="test_skip" time="0.000"><skipped type="pytest.skip" message="later">test_a.py:7: later</skipped></testcase></testsuite></testsuites>"#;

    #[test]
    fn reads_real_pytest_output() {
        let p = parse(REAL.as_bytes(), "/w").expect("parses");
        assert_eq!(
            p.tests,
            Some(TestCounts {
                total: 2,
                failed: 1,
                skipped: 1
            })
        );
        assert_eq!(p.diagnostics[0].rule, "test_a::test_bad");
        assert!(p.diagnostics[0].message.contains("assert 1 == 2"));
    }

    #[test]
    fn not_junit_is_an_error() {
        assert!(parse(b"<html></html>", "/w").is_err());
    }
}
