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
    /// The failure element's text (a traceback), entity by entity.
    body: String,
    skipped: bool,
}

/// Lines of a failure's traceback kept beside its message: a collection error's message is
/// "collection failure"; the cause is at the end of the body.
const BODY_LINES: usize = 12;

impl Case {
    /// The message, with the last lines of the body when they say more.
    fn close_failure(&mut self) {
        let body = self.body.trim();
        if let Some((_, message)) = self.failure.as_mut()
            && !body.is_empty()
            && !message.contains(body)
        {
            let lines: Vec<&str> = body.lines().collect();
            let tail = lines[lines.len().saturating_sub(BODY_LINES)..].join("\n");
            *message = if message.trim().is_empty() {
                tail
            } else {
                format!("{}\n{tail}", message.trim())
            };
        }
        self.body.clear();
    }
}

/// The text an XML entity reference stands for.
fn entity(name: &str) -> Option<String> {
    Some(match name {
        "lt" => "<".into(),
        "gt" => ">".into(),
        "amp" => "&".into(),
        "quot" => "\"".into(),
        "apos" => "'".into(),
        _ => {
            let code = match name.strip_prefix("#x").or_else(|| name.strip_prefix("#X")) {
                Some(hex) => u32::from_str_radix(hex, 16).ok()?,
                None => name.strip_prefix('#')?.parse().ok()?,
            };
            char::from_u32(code)?.to_string()
        }
    })
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
    let mut doc = Document {
        root,
        case: None,
        in_failure: false,
        counts: TestCounts::default(),
        diagnostics: Vec::new(),
        saw_suite: false,
    };
    loop {
        let event = reader
            .read_event_into(&mut buf)
            .map_err(|e| ParseError::new("junit", e))?;
        match event {
            Event::Start(ref e) => doc.open(e, false),
            Event::Empty(ref e) => doc.open(e, true),
            Event::Text(t) if doc.in_failure => {
                if let Ok(text) = t.decode() {
                    doc.body(&text);
                }
            }
            Event::CData(t) if doc.in_failure => doc.body(&String::from_utf8_lossy(&t)),
            Event::GeneralRef(r) if doc.in_failure => {
                if let Ok(name) = r.decode() {
                    doc.body(&entity(&name).unwrap_or_default());
                }
            }
            Event::End(ref e) => doc.close(e.name().as_ref()),
            Event::Eof => break,
            _ => {}
        }
        buf.clear();
    }
    if !doc.saw_suite {
        return Err(ParseError::new("junit", "no <testsuite> element"));
    }
    Ok(Parsed {
        diagnostics: doc.diagnostics,
        tests: Some(doc.counts),
    })
}

/// What the document has said so far.
struct Document<'a> {
    root: &'a str,
    /// The `<testcase>` open.
    case: Option<Case>,
    /// Inside its `<failure>` or `<error>`: text is the failure's body.
    in_failure: bool,
    counts: TestCounts,
    diagnostics: Vec<Diagnostic>,
    saw_suite: bool,
}

impl Document<'_> {
    /// An element opens (`empty`: and closes at once).
    fn open(&mut self, e: &BytesStart<'_>, empty: bool) {
        match e.name().as_ref() {
            b"testsuite" | b"testsuites" => self.saw_suite = true,
            b"testcase" => {
                let c = Case {
                    name: attr(e, b"name").unwrap_or_default(),
                    classname: attr(e, b"classname").unwrap_or_default(),
                    file: attr(e, b"file"),
                    line: attr(e, b"line").and_then(|l| l.parse().ok()),
                    ..Case::default()
                };
                if empty {
                    self.finish(c);
                } else {
                    self.case = Some(c);
                }
            }
            tag @ (b"failure" | b"error") => {
                if let Some(c) = self.case.as_mut() {
                    let kind = if tag == b"failure" {
                        "failure"
                    } else {
                        "error"
                    };
                    c.failure = Some((kind.into(), attr(e, b"message").unwrap_or_default()));
                    self.in_failure = !empty;
                }
            }
            b"skipped" => {
                if let Some(c) = self.case.as_mut() {
                    c.skipped = true;
                }
            }
            _ => {}
        }
    }

    fn body(&mut self, text: &str) {
        if let Some(c) = self.case.as_mut() {
            c.body.push_str(text);
        }
    }

    fn close(&mut self, name: &[u8]) {
        match name {
            b"failure" | b"error" => {
                self.in_failure = false;
                if let Some(c) = self.case.as_mut() {
                    c.close_failure();
                }
            }
            b"testcase" => {
                if let Some(c) = self.case.take() {
                    self.finish(c);
                }
            }
            _ => {}
        }
    }

    /// A test case ends: counted, and a diagnostic when it failed.
    fn finish(&mut self, c: Case) {
        if c.skipped && c.failure.is_none() {
            self.counts.skipped += 1;
            return;
        }
        self.counts.total += 1;
        let Some((kind, message)) = c.failure else {
            return;
        };
        self.counts.failed += 1;
        let id = if c.classname.is_empty() {
            c.name.clone()
        } else {
            format!("{}::{}", c.classname, c.name)
        };
        let message = message.trim();
        self.diagnostics.push(Diagnostic {
            file: c.file.map(|f| relative_path(&f, self.root)),
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
    fn a_collection_error_keeps_its_traceback() {
        // pytest 9.2's --junitxml for a test module whose import fails.
        let xml = r#"<?xml version="1.0" encoding="utf-8"?><testsuites name="pytest tests"><testsuite name="pytest" errors="1" failures="0" skipped="0" tests="1" time="0.091"><testcase classname="" name="test_x" time="0.000"><error message="collection failure">ImportError while importing test module '/w/test_x.py'.
Traceback:
test_x.py:1: in &lt;module&gt;
    import nonexistent_mod
E   ModuleNotFoundError: No module named 'nonexistent_mod'</error></testcase></testsuite></testsuites>"#;
        let p = parse(xml.as_bytes(), "/w").expect("parse");
        assert_eq!(p.tests.map(|t| t.failed), Some(1));
        let message = &p.diagnostics[0].message;
        assert!(
            message.starts_with("test `test_x`: collection failure\n"),
            "{message}"
        );
        assert!(message.contains("test_x.py:1: in <module>"), "{message}");
        assert!(
            message.ends_with("No module named 'nonexistent_mod'"),
            "{message}"
        );
    }

    #[test]
    fn not_junit_is_an_error() {
        assert!(parse(b"<html></html>", "/w").is_err());
    }
}
