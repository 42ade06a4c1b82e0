//! The tests that did not run: a real pytest and a real node test runner, whose summary
//! lines say how many tests ran; fewer than before with nothing deleted is TESTS_NOT_RUN.
//! And the tests that could not start: an environment without the project's package or
//! its node_modules is TEST_ENVIRONMENT, not a failure the commit introduced.

use std::process::Command as StdCommand;

use crate::support::{TestRepo, issue_of, issues_of};

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

/// A repository whose one check is pytest, with no commit yet.
fn pytest_checked_repo() -> TestRepo {
    let python = python().expect("python3 with pytest (tests/run_tests.sh installs it)");
    let repo = TestRepo::new();
    repo.write(
        "auditor.toml",
        format!(
            "[[check]]\nname = \"pytest\"\nstage = \"test\"\ncommand = [\"{python}\", \"-m\", \"pytest\", \"-q\", \"-p\", \"no:cacheprovider\"]\n"
        ),
    );
    repo
}

fn pytest_repo() -> TestRepo {
    let repo = pytest_checked_repo();
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

/// A failing test is the commit's that broke it; the next commit, which leaves it failing,
/// finds it preexisting (the click dogfood: a helper added while collection already failed
/// read "introduced"). It stays open, and as severe, until it passes.
#[test]
fn a_failure_already_open_before_the_commit_is_preexisting() {
    let repo = pytest_repo();
    repo.write(
        "tests/test_render.py",
        tests_named(&["f", "g"]) + "def test_h():\n    assert 1 == 2\n",
    );
    let broke = repo.commit("break a test");
    let (code, report, out) = repo.audit_json(&[]);
    assert_eq!(code, 1, "{out}");
    let failure = issue_of(&report, "TEST_FAILURE");
    assert_eq!(failure["location"], "introduced", "{out}");
    assert_eq!(failure["status"], "new", "{out}");
    let severity = failure["severity"].clone();

    repo.write("src/helper.py", "def helper():\n    return 1\n");
    repo.commit("add a helper");
    let (code, report, out) = repo.audit_json(&[]);
    assert_eq!(code, 1, "still failing: {out}");
    let failure = issue_of(&report, "TEST_FAILURE");
    assert_eq!(failure["location"], "preexisting", "{out}");
    assert_eq!(failure["status"], "open", "{out}");
    assert_eq!(failure["first_seen"], broke.as_str(), "{out}");
    assert_eq!(failure["severity"], severity, "{out}");
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

/// flask against a newer pytest than its tests were written for: a test module imports a name
/// the installed pytest lacks. The environment's, said once at MEDIUM, never escalated over
/// the commits that follow, and not a HIGH TEST_FAILURE "introduced" (then CRITICAL).
#[test]
fn an_installed_dependency_of_another_version_is_the_environment() {
    let repo = pytest_repo();
    repo.write(
        "tests/test_cli.py",
        "from _pytest.monkeypatch import no_such_name_in_any_pytest\n\ndef test_cli():\n    assert no_such_name_in_any_pytest\n",
    );
    repo.commit("cli tests");
    // The base's tests were green in this environment: the commit's own import is its doing.
    let (code, report, out) = repo.audit_json(&[]);
    assert_eq!(code, 1, "{out}");
    assert_eq!(issues_of(&report, "TEST_FAILURE").len(), 1, "{out}");
    // In a fresh ledger (the parent never audited), the same import in lines the commit did
    // not write is the environment.
    let fresh = TestRepo::new();
    for file in ["auditor.toml", "tests/test_cli.py"] {
        let text = std::fs::read_to_string(repo.path().join(file)).unwrap_or_default();
        fresh.write(file, text);
    }
    fresh.commit("tests");
    fresh.write("README.md", "docs\n");
    fresh.commit("docs");
    for _ in 0..5 {
        let (_, report, out) = fresh.audit_json(&[]);
        assert!(issues_of(&report, "TEST_FAILURE").is_empty(), "{out}");
        let env = issue_of(&report, "TEST_ENVIRONMENT");
        assert_eq!(env["severity"], "MEDIUM", "{out}");
        assert!(
            env["title"]
                .as_str()
                .is_some_and(|t| t.contains("`_pytest`")),
            "{env}"
        );
        let readme = std::fs::read_to_string(fresh.path().join("README.md")).unwrap_or_default();
        fresh.write("README.md", format!("{readme}more\n"));
        fresh.commit("more docs");
    }
    // A commit that then bumps a dependency manifest (flask's lock-file updates) did not
    // break what was already broken.
    fresh.write(
        "pyproject.toml",
        "[project]\nname = \"cli\"\nversion = \"0.2\"\n",
    );
    fresh.commit("bump");
    let (_, report, out) = fresh.audit_json(&[]);
    assert!(issues_of(&report, "TEST_FAILURE").is_empty(), "{out}");
    assert_eq!(issues_of(&report, "TEST_ENVIRONMENT").len(), 1, "{out}");
}

/// stripe-node's first audited commit, with no yarn on the machine: the setup could not run,
/// so `tsc` is missing whatever the commit did to package.json: the environment's, not a HIGH
/// TEST_FAILURE "introduced".
#[test]
fn a_setup_that_could_not_run_makes_a_missing_program_the_environments() {
    let repo = TestRepo::new();
    repo.write(
        "auditor.toml",
        concat!(
            "[workspace]\nsetup = [\"no-such-installer-xyz\", \"install\"]\n\n",
            "[[check]]\nname = \"npm-test\"\nstage = \"test\"\n",
            "command = [\"sh\", \"-c\", \"tsc-not-installed-xyz --build\"]\n",
        ),
    );
    repo.write(
        "package.json",
        "{\"name\": \"x\", \"version\": \"1.0.0\"}\n",
    );
    repo.commit("first");
    repo.write(
        "package.json",
        "{\"name\": \"x\", \"version\": \"1.0.1\"}\n",
    );
    repo.commit("bump");
    let (_, report, out) = repo.audit_json(&[]);
    assert!(issues_of(&report, "TEST_FAILURE").is_empty(), "{out}");
    let env = issue_of(&report, "TEST_ENVIRONMENT");
    assert!(
        env["title"]
            .as_str()
            .is_some_and(|t| t.contains("tsc-not-installed-xyz")),
        "{out}"
    );
    assert_eq!(
        issues_of(&report, "CHECK_UNAVAILABLE").len(),
        1,
        "the setup: {out}"
    );
}
/// A setup that runs and fails is not the machine's when the commit changed the manifest it
/// installs: an agent that breaks its own package gets the failure, not a MEDIUM.
#[test]
fn a_setup_the_commit_broke_leaves_its_failures_the_commits() {
    let repo = TestRepo::new();
    repo.write(
        "auditor.toml",
        concat!(
            "[workspace]\nsetup = [\"sh\", \"-c\", \"grep -q broken package.json && exit 1; exit 0\"]\n",
            "setup_when_changed = [\"package.json\"]\n\n",
            "[[check]]\nname = \"npm-test\"\nstage = \"test\"\n",
            "command = [\"sh\", \"-c\", \"tsc-not-installed-xyz --build\"]\n",
        ),
    );
    repo.write("package.json", "{\"name\": \"x\"}\n");
    repo.commit("first");
    repo.write("package.json", "{\"name\": \"x\", \"broken\": true}\n");
    repo.commit("break the manifest");
    let (_, report, out) = repo.audit_json(&[]);
    assert_eq!(issues_of(&report, "TEST_FAILURE").len(), 1, "{out}");
}

/// A src-layout project whose package is never installed: pytest cannot import it.
fn src_layout_repo(setup: Option<&str>) -> TestRepo {
    let python = python().expect("python3 with pytest (tests/run_tests.sh installs it)");
    let repo = TestRepo::new();
    let setup = setup.map_or(String::new(), |s| {
        format!("[workspace]\nsetup = [\"sh\", \"-c\", \"{s}\"]\n\n")
    });
    repo.write(
        "auditor.toml",
        format!(
            "{setup}[[check]]\nname = \"pytest\"\nstage = \"test\"\ncommand = [\"{python}\", \"-m\", \"pytest\", \"-q\", \"-p\", \"no:cacheprovider\"]\n"
        ),
    );
    repo.write(
        "pyproject.toml",
        "[project]\nname = \"mypkg\"\nversion = \"0.1\"\n",
    );
    repo.write(
        "src/mypkg/__init__.py",
        "def double(x):\n    return 2 * x\n",
    );
    repo.write(
        "tests/test_double.py",
        "from mypkg import double\n\ndef test_double():\n    assert double(2) == 4\n",
    );
    repo.commit("package");
    repo
}

#[test]
fn a_src_layout_never_installed_is_the_environment_not_the_commit() {
    let repo = src_layout_repo(None);
    repo.write(
        "src/mypkg/__init__.py",
        "def double(x):\n    return x + x\n",
    );
    repo.commit("simpler double");
    let (code, report, out) = repo.audit_json(&[]);
    assert!(issues_of(&report, "TEST_FAILURE").is_empty(), "{out}");
    let env = issue_of(&report, "TEST_ENVIRONMENT");
    assert_eq!(env["severity"], "MEDIUM", "{out}");
    assert_eq!(env["location"], "preexisting", "{out}");
    assert!(
        env["title"].as_str().is_some_and(|t| t.contains("`mypkg`")),
        "{env}"
    );
    assert!(
        env["remediation"]
            .as_str()
            .is_some_and(|t| t.contains("setup")),
        "{env}"
    );
    // Not a pass either: nothing is known of the tests.
    assert_eq!(report["status"], "WARN", "{out}");
    assert_eq!(code, 0, "{out}");
}

#[test]
fn a_missing_module_the_commit_imports_is_the_commits_failure() {
    let repo = src_layout_repo(Some("ln -s src/mypkg mypkg"));
    repo.write(
        "src/mypkg/__init__.py",
        "import yaml_that_nobody_installed\n\ndef double(x):\n    return 2 * x\n",
    );
    repo.commit("parse settings");
    assert_the_commits_failure(&repo);
}

#[test]
fn a_setup_added_later_runs_on_the_next_audit() {
    let repo = src_layout_repo(None);
    repo.write(
        "src/mypkg/__init__.py",
        "def double(x):\n    return x + x\n",
    );
    repo.commit("simpler double");
    let (_, report, out) = repo.audit_json(&[]);
    assert_eq!(issues_of(&report, "TEST_ENVIRONMENT").len(), 1, "{out}");
    // The operator adds the setup; no manifest changes in the next commit.
    let config = std::fs::read_to_string(repo.path().join("auditor.toml")).expect("config");
    repo.write(
        "auditor.toml",
        format!("[workspace]\nsetup = [\"sh\", \"-c\", \"ln -sfn src/mypkg mypkg\"]\n\n{config}"),
    );
    repo.write("README.md", "docs\n");
    repo.commit("docs");
    let (code, report, out) = repo.audit_json(&[]);
    assert_eq!(
        crate::support::check(&report, "workspace-setup")["outcome"],
        "passed",
        "{out}"
    );
    assert!(issues_of(&report, "TEST_ENVIRONMENT").is_empty(), "{out}");
    assert_eq!(
        crate::support::check(&report, "pytest")["outcome"],
        "passed",
        "{out}"
    );
    assert_eq!(code, 0, "{out}");
    // Done once: the next audit does not run it again.
    repo.write("README.md", "more docs\n");
    repo.commit("docs");
    let (_, report, out) = repo.audit_json(&[]);
    assert!(
        report["checks"]
            .as_array()
            .is_some_and(|c| c.iter().all(|c| c["name"] != "workspace-setup")),
        "{out}"
    );
}

#[test]
fn npm_test_without_node_modules_is_the_environment() {
    let repo = TestRepo::new();
    repo.write(
        "auditor.toml",
        "[[check]]\nname = \"npm-test\"\nstage = \"test\"\ncommand = [\"npm\", \"test\", \"--silent\"]\n",
    );
    repo.write(
        "package.json",
        "{\"name\": \"app\", \"scripts\": {\"test\": \"mocha\"}, \"devDependencies\": {\"mocha\": \"^10\"}}\n",
    );
    repo.write("index.js", "module.exports = 1;\n");
    repo.commit("app");
    repo.write("index.js", "module.exports = 2;\n");
    repo.commit("two");
    let (_, report, out) = repo.audit_json(&[]);
    assert!(issues_of(&report, "TEST_FAILURE").is_empty(), "{out}");
    let env = issue_of(&report, "TEST_ENVIRONMENT");
    assert!(
        env["title"].as_str().is_some_and(|t| t.contains("`mocha`")),
        "{env}"
    );
    // The environment was already found lacking mocha: a commit that then changes the
    // manifest did not break it.
    let bumped = "{\"name\": \"app\", \"scripts\": {\"test\": \"mocha\"}, \"devDependencies\": {\"mocha\": \"^11\"}}\n";
    repo.write("package.json", bumped);
    repo.commit("bump mocha");
    let (_, report, out) = repo.audit_json(&[]);
    assert!(issues_of(&report, "TEST_FAILURE").is_empty(), "{out}");
    assert_eq!(issues_of(&report, "TEST_ENVIRONMENT").len(), 1, "{out}");
    // Where nothing was known to be missing, a commit that changes the manifest owns what it
    // breaks.
    let fresh = TestRepo::new();
    for file in ["auditor.toml", "index.js"] {
        let text = std::fs::read_to_string(repo.path().join(file)).unwrap_or_default();
        fresh.write(file, text);
    }
    fresh.write("package.json", bumped.replace("^11", "^10"));
    fresh.commit("app");
    fresh.write("package.json", bumped);
    fresh.commit("bump mocha");
    let (_, report, out) = fresh.audit_json(&[]);
    assert_eq!(issues_of(&report, "TEST_FAILURE").len(), 1, "{out}");
}

#[test]
fn an_environment_that_ran_the_tests_green_before_is_not_blamed() {
    let repo = src_layout_repo(Some("ln -sfn src/mypkg mypkg"));
    let (code, report, out) = repo.audit_json(&[]);
    assert_eq!(code, 0, "{out}");
    assert_eq!(report["metrics"]["tests"]["passed"], 1, "{out}");
    // The agent breaks the package and makes the output read like a missing module.
    repo.write(
        "src/mypkg/__init__.py",
        "raise ModuleNotFoundError(\"No module named 'yaml'\")\n",
    );
    repo.commit("lazy import");
    assert_the_commits_failure(&repo);
}

/// Audits HEAD: a HIGH TEST_FAILURE of the commit, no TEST_ENVIRONMENT, and a failed audit.
fn assert_the_commits_failure(repo: &TestRepo) {
    let (code, report, out) = repo.audit_json(&[]);
    assert!(issues_of(&report, "TEST_ENVIRONMENT").is_empty(), "{out}");
    assert_eq!(
        issue_of(&report, "TEST_FAILURE")["severity"],
        "HIGH",
        "{out}"
    );
    assert_eq!(code, 1, "{out}");
}

/// pytest's default JUnit (xunit2, what `auditor init` configures) names no file or line: the
/// failure is placed at the failing assertion of the test's own module, from its traceback.
#[test]
fn a_real_pytest_junit_failure_is_placed_at_its_assertion() {
    let python = python().expect("python3 with pytest (tests/run_tests.sh installs it)");
    let repo = TestRepo::new();
    repo.write(
        "auditor.toml",
        format!(
            "[[check]]\nname = \"pytest\"\nstage = \"test\"\nformat = \"junit\"\njunit = \".auditor-junit.xml\"\ncommand = [\"{python}\", \"-m\", \"pytest\", \"-q\", \"-p\", \"no:cacheprovider\", \"--junitxml=.auditor-junit.xml\"]\n"
        ),
    );
    repo.write(
        "tests/test_a.py",
        "def test_ok():\n    assert 1 == 1\n\n\ndef test_bad():\n    x = 1\n    assert x == 2\n",
    );
    repo.commit("tests");
    let (_, report, out) = repo.audit_json(&[]);
    let failure = issue_of(&report, "TEST_FAILURE");
    assert_eq!(failure["file"], "tests/test_a.py", "{out}");
    assert_eq!(failure["line"], 7, "{out}");
}

/// pytest exits 5 when it finds no test: no test failed, so no TEST_FAILURE (the dogfood of
/// a fresh Python project with `init`'s pytest read "HIGH: Test command failed (exit 5)").
/// Told LOW while there are none; tests renamed out of pytest's pattern later are HIGH.
#[test]
fn a_runner_that_finds_no_test_is_no_failure_and_losing_them_is_high() {
    let repo = pytest_checked_repo();
    repo.write("app.py", "def run():\n    return 1\n");
    repo.commit("an app with no tests");
    let (code, report, out) = repo.audit_json(&[]);
    assert!(issues_of(&report, "TEST_FAILURE").is_empty(), "{out}");
    let none = issue_of(&report, "TESTS_NOT_RUN");
    assert_eq!(none["severity"], "LOW", "{out}");
    assert_eq!(none["title"], "`pytest` ran no tests", "{out}");
    assert_eq!(code, 0, "a LOW issue fails nothing: {out}");
    assert_eq!(report["metrics"]["tests"]["total"], 0, "{out}");

    repo.write("tests/test_app.py", tests_named(&["a", "b"]));
    repo.commit("tests");
    let (code, report, out) = repo.audit_json(&[]);
    assert!(issues_of(&report, "TESTS_NOT_RUN").is_empty(), "{out}");
    assert_eq!(code, 0, "{out}");

    repo.git(&["mv", "tests/test_app.py", "tests/app_checks.py"]);
    repo.commit("rename");
    let (code, report, out) = repo.audit_json(&[]);
    assert!(issues_of(&report, "TEST_FAILURE").is_empty(), "{out}");
    let lost = issue_of(&report, "TESTS_NOT_RUN");
    assert_eq!(lost["severity"], "HIGH", "{out}");
    assert_eq!(code, 1, "{out}");
}
