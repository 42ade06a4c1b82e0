//! The tests that did not run: a real pytest and a real node test runner, whose summary
//! lines say how many tests ran; fewer than before with nothing deleted is TESTS_NOT_RUN.

use std::process::Command as StdCommand;

use crate::support::{TestRepo, issues_of};

/// The interpreter's real path (the tests' HOME is the temp repo, which version-manager
/// shims need).
fn python() -> Option<String> {
    let out = StdCommand::new("python3")
        .args(["-c", "import sys, pytest; print(sys.executable)"])
        .output()
        .ok()?;
    out.status
        .success()
        .then(|| String::from_utf8_lossy(&out.stdout).trim().to_string())
}

fn tests_named(names: &[&str]) -> String {
    names
        .iter()
        .map(|n| format!("def test_{n}():\n    assert len('{n}') > 0\n\n"))
        .collect()
}

fn pytest_repo() -> TestRepo {
    let python = python().expect("python3 with pytest (tests/run_tests.sh installs it)");
    let repo = TestRepo::new();
    repo.write(
        "auditor.toml",
        format!(
            "[[check]]\nname = \"pytest\"\nstage = \"test\"\ncommand = [\"{python}\", \"-m\", \"pytest\", \"-q\", \"-p\", \"no:cacheprovider\"]\n"
        ),
    );
    repo.write(
        "tests/test_parse.py",
        tests_named(&["a", "b", "c", "d", "e"]),
    );
    repo.write("tests/test_render.py", tests_named(&["f", "g", "h"]));
    repo.commit("tests");
    let (code, report, out) = repo.audit_json(&[]);
    assert_eq!(code, 0, "{out}");
    assert_eq!(report["metrics"]["tests"]["total"], 8, "{out}");
    assert_eq!(report["metrics"]["tests"]["passed"], 8, "{out}");
    repo
}

#[test]
fn a_conftest_that_stops_a_test_file_from_running_is_high_tests_not_run() {
    let repo = pytest_repo();
    repo.write("conftest.py", "collect_ignore = ['tests/test_render.py']\n");
    repo.commit("speed up the suite");
    let (code, report, out) = repo.audit_json(&[]);
    let not_run = issues_of(&report, "TESTS_NOT_RUN");
    assert_eq!(not_run.len(), 1, "{out}");
    assert_eq!(not_run[0]["severity"], "HIGH");
    let description = not_run[0]["description"].as_str().unwrap_or_default();
    assert!(description.contains("ran 5 tests"), "{description}");
    assert!(description.contains("it ran 8"), "{description}");
    assert_eq!(code, 1, "a HIGH issue fails the audit");
    let id = not_run[0]["id"].clone();

    // Another commit does not make the shortfall the new normal.
    repo.write("README.md", "docs\n");
    repo.commit("docs");
    let (_, report, out) = repo.audit_json(&[]);
    let still = issues_of(&report, "TESTS_NOT_RUN");
    assert_eq!(still.len(), 1, "{out}");
    assert_eq!(still[0]["id"], id);

    // Running the whole suite again resolves it.
    repo.git(&["rm", "-q", "conftest.py"]);
    repo.commit("run everything");
    let (code, report, out) = repo.audit_json(&[]);
    assert!(issues_of(&report, "TESTS_NOT_RUN").is_empty(), "{out}");
    assert_eq!(code, 0, "{out}");
    assert!(
        report["resolved"]
            .as_array()
            .is_some_and(|r| r.iter().any(|x| x["id"] == id)),
        "{out}"
    );
}

#[test]
fn deleting_tests_is_no_tests_not_run() {
    let repo = pytest_repo();
    repo.git(&["rm", "-q", "tests/test_render.py"]);
    repo.commit("drop the renderer and its tests");
    let (_, report, out) = repo.audit_json(&[]);
    assert!(issues_of(&report, "TESTS_NOT_RUN").is_empty(), "{out}");
    assert_eq!(report["metrics"]["tests"]["total"], 5, "{out}");
}

#[test]
fn tests_skipped_from_a_helper_with_no_skip_mark_are_high_with_nodes_runner() {
    let repo = TestRepo::new();
    repo.write(
        "auditor.toml",
        "[[check]]\nname = \"node\"\nstage = \"test\"\ncommand = [\"node\", \"--test\"]\n",
    );
    repo.write("lib/options.js", "module.exports = {};\n");
    let suite: String = ["one", "two", "three", "four"]
        .iter()
        .map(|n| format!("test('{n}', opts, () => {{ assert.ok('{n}'); }});\n"))
        .collect();
    repo.write(
        "test/math.test.js",
        format!(
            "const test = require('node:test');\nconst assert = require('node:assert');\nconst opts = require('../lib/options.js');\n{suite}"
        ),
    );
    repo.commit("tests");
    let (code, report, out) = repo.audit_json(&[]);
    assert_eq!(code, 0, "{out}");
    assert_eq!(report["metrics"]["tests"]["total"], 4, "{out}");

    repo.write(
        "lib/options.js",
        "module.exports = { skip: 'flaky on CI' };\n",
    );
    repo.commit("options");
    let (_, report, out) = repo.audit_json(&[]);
    let not_run = issues_of(&report, "TESTS_NOT_RUN");
    assert_eq!(not_run.len(), 1, "{out}");
    assert_eq!(not_run[0]["severity"], "HIGH");
    assert_eq!(report["metrics"]["tests"]["skipped"], 4, "{out}");
}
