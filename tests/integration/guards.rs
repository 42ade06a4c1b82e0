//! The guards through `audit` and `scan` on real commits.

use serde_json::Value;

use crate::support::{TestRepo, issue_of, issues, issues_of};

fn types(report: &Value) -> Vec<String> {
    let mut v: Vec<String> = report["issues"]
        .as_array()
        .map(|a| {
            a.iter()
                .filter_map(|i| i["type"].as_str().map(str::to_string))
                .collect()
        })
        .unwrap_or_default();
    v.sort();
    v
}

#[test]
fn a_skipped_test_and_a_deleted_one_are_reported_with_remediation() {
    let repo = TestRepo::new();
    repo.write(
        "tests/test_api.py",
        "def test_get():\n    assert get() == 1\n",
    );
    repo.write(
        "tests/api.rs",
        "#[test]\nfn posts() { assert!(post()); }\n#[test]\nfn deletes() { assert!(delete()); }\n",
    );
    repo.commit("tests");
    repo.write("tests/test_api.py", "import pytest\n\n@pytest.mark.skip(reason='flaky')\ndef test_get():\n    assert get() == 1\n");
    repo.write("tests/api.rs", "#[test]\nfn posts() { assert!(post()); }\n");
    repo.commit("make CI green");
    let (code, report, _) = repo.audit_json(&["--no-tests"]);
    assert_eq!(code, 1);
    assert_eq!(
        types(&report),
        ["TEST_DELETED", "TEST_DISABLED"],
        "{report}"
    );
    let disabled = issue_of(&report, "TEST_DISABLED");
    assert_eq!(disabled["severity"], "HIGH");
    assert_eq!(disabled["file"], "tests/test_api.py");
    assert_eq!(disabled["line"], 3);
    let deleted = issue_of(&report, "TEST_DELETED");
    assert!(
        deleted["description"]
            .as_str()
            .unwrap_or_default()
            .contains("`deletes`"),
        "{deleted}"
    );
    let files = repo.files_under("tasks/supervisor_feedback");
    let text = files
        .iter()
        .filter(|p| p.to_string_lossy().contains("/ISSUE_"))
        .map(|p| std::fs::read_to_string(p).expect("read"))
        .find(|t| t.contains("TEST_DISABLED"))
        .expect("a feedback file for the skipped test");
    assert!(
        text.contains("## Remediation") && text.contains("Remove the marker"),
        "{text}"
    );
}

#[test]
fn credentials_files_and_ci_edits_are_flagged_with_the_diff() {
    let repo = TestRepo::new();
    repo.write(
        ".github/workflows/ci.yml",
        "jobs:\n  test:\n    steps:\n      - run: make test\n",
    );
    repo.commit("ci");
    repo.write(".env", "API=1\n");
    repo.write(
        ".github/workflows/ci.yml",
        "jobs:\n  test:\n    steps:\n      - run: true\n",
    );
    repo.commit("simplify");
    let (_, report, _) = repo.audit_json(&["--no-tests"]);
    assert_eq!(
        types(&report),
        ["SENSITIVE_FILE", "SUPERVISION_TAMPERING"],
        "{report}"
    );
    assert_eq!(issue_of(&report, "SENSITIVE_FILE")["severity"], "CRITICAL");
    let tamper = issue_of(&report, "SUPERVISION_TAMPERING");
    assert_eq!(tamper["severity"], "HIGH");
    let snippet = tamper["snippet"].as_str().unwrap_or_default();
    assert!(
        snippet.contains("-      - run: make test") && snippet.contains("+      - run: true"),
        "{snippet}"
    );
}

#[test]
fn what_the_commit_did_not_do_is_not_flagged() {
    let repo = TestRepo::new();
    repo.write(
        "tests/old_test.rs",
        concat!(
            "#[test]\n",
            "#[ig",
            "nore]\nfn slow() {}\n#[test]\nfn fast() {}\n"
        ),
    );
    repo.write("web/a.test.js", "it('a', () => { expect(f()).toBe(1) })\n");
    repo.commit("tests");
    // An untouched ignore attribute elsewhere, a marker in a string, a renamed test file.
    repo.write(
        "tests/old_test.rs",
        concat!(
            "#[test]\n",
            "#[ig",
            "nore]\nfn slow() {}\n#[test]\nfn fast() { let _ = 1; }\n"
        ),
    );
    repo.write(
        "web/a.test.js",
        "it('a', () => { expect(f(\"it.skip(\")).toBe(1) })\n",
    );
    repo.git(&["add", "-A"]);
    repo.git(&["mv", "tests/old_test.rs", "tests/new_test.rs"]);
    repo.commit("tidy");
    let (_, report, _) = repo.audit_json(&["--no-tests"]);
    assert!(types(&report).is_empty(), "{report}");
}

#[test]
fn an_added_pragma_is_tampering_and_the_config_can_switch_rules_off() {
    let repo = TestRepo::new();
    repo.write("src/lib.rs", "pub fn f() {}\n");
    repo.commit("lib");
    repo.write(
        "src/lib.rs",
        "pub fn f() {\n    // auditor:allow(DEBUG_LEFTOVER) handy\n    dbg!(1);\n}\n",
    );
    repo.commit("debug");
    let (_, report, _) = repo.audit_json(&["--no-tests"]);
    assert_eq!(types(&report), ["SUPERVISION_TAMPERING"], "{report}");
    assert_eq!(
        issue_of(&report, "SUPERVISION_TAMPERING")["severity"],
        "CRITICAL"
    );

    repo.write(
        "auditor.toml",
        "[guards]\ndisabled = [\"SUPERVISION_TAMPERING\", \"DEBUG_LEFTOVER\"]\n",
    );
    let (_, report, _) = repo.audit_json(&["--no-tests"]);
    // The rules are off; switching them off is itself a weakening of the supervision.
    let left = issues(&report);
    assert_eq!(left.len(), 1, "{report}");
    assert_eq!(left[0]["rule"], "settings-weakened");
    assert!(
        left[0]["snippet"]
            .as_str()
            .is_some_and(|s| s.contains("! guards.disabled")),
        "{report}"
    );

    repo.write("auditor.toml", "[guards]\ndisabled = [\"NO_SUCH_GUARD\"]\n");
    let out = repo
        .auditor()
        .args(["audit", "--no-tests"])
        .output()
        .expect("audit");
    assert_eq!(out.status.code(), Some(2));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.contains("auditor.toml:2:13") && stderr.contains("unknown guard"),
        "{stderr}"
    );
}

#[test]
fn scan_runs_the_guards_over_a_range() {
    let repo = TestRepo::new();
    repo.write("a.txt", "a\n");
    let first = repo.commit("a");
    repo.write("src/x.py", "def f():\n    return 1\n");
    repo.commit("f");
    repo.write(
        "src/x.py",
        "<<<<<<< HEAD\ndef f():\n=======\ndef g():\n>>>>>>> topic\n    return 1\n",
    );
    repo.commit("merge gone wrong");
    let out = repo
        .auditor()
        .args(["scan", &format!("{first}..HEAD"), "--json"])
        .output()
        .expect("scan");
    let v: Value = serde_json::from_slice(&out.stdout).expect("json");
    assert_eq!(out.status.code(), Some(1), "{v}");
    assert!(
        v["issues"]
            .as_array()
            .is_some_and(|a| a.iter().all(|i| i["type"] == "CONFLICT_MARKER")),
        "{v}"
    );
    // One conflict, one issue.
    assert_eq!(v["issues"].as_array().map(Vec::len), Some(1));
}

/// The type and file of each issue at HIGH or CRITICAL.
fn high_or_critical(v: &Value) -> Vec<String> {
    v["issues"]
        .as_array()
        .into_iter()
        .flatten()
        .filter(|i| matches!(i["severity"].as_str(), Some("HIGH" | "CRITICAL")))
        .map(|i| format!("{} {}", i["type"], i["file"]))
        .collect()
}

/// `scan` with the given arguments, as JSON.
fn scan(repo: &TestRepo, args: &[&str]) -> (Option<i32>, Value) {
    let out = repo
        .auditor()
        .arg("scan")
        .args(args)
        .arg("--json")
        .output()
        .expect("scan");
    let v: Value = serde_json::from_slice(&out.stdout).expect("json");
    (out.status.code(), v)
}

#[test]
fn scan_history_judges_every_commit_and_names_the_one_that_did_it() {
    let repo = TestRepo::new();
    repo.write(
        "tests/test_api.py",
        "def test_get():\n    assert get() == 1\n\ndef test_put():\n    assert put() == 1\n",
    );
    // The first commit sets up CI: nothing was supervised before it, so that is no tampering.
    repo.write(
        ".github/workflows/ci.yml",
        "jobs:\n  test:\n    steps:\n      - run: pytest\n",
    );
    repo.commit("tests");
    repo.write(
        "tests/test_api.py",
        "import pytest\n\n@pytest.mark.skip(reason='flaky')\ndef test_get():\n    assert get() == 1\n\ndef test_put():\n    assert put() == 1\n",
    );
    repo.write(
        ".github/workflows/ci.yml",
        "jobs:\n  test:\n    steps:\n      - run: true\n",
    );
    let skipped = repo.commit("skip a flaky test, simplify CI");
    repo.write("deploy/.env", "TOKEN=x\n");
    let env = repo.commit("env");
    repo.git(&["rm", "-q", "deploy/.env"]);
    repo.commit("remove env");
    // A test moved to another file is not lost; one dropped for good is.
    repo.write(
        "tests/test_api.py",
        "import pytest\n\n@pytest.mark.skip(reason='flaky')\ndef test_get():\n    assert get() == 1\n",
    );
    repo.write(
        "tests/test_put.py",
        "def test_put():\n    assert put() == 1\n",
    );
    repo.commit("split");
    repo.git(&["rm", "-q", "tests/test_put.py"]);
    let dropped = repo.commit("drop");
    let (code, v) = scan(&repo, &["--history"]);
    assert_eq!(code, Some(1), "{v}");
    assert_eq!(
        types(&v),
        [
            "SENSITIVE_FILE",
            "SUPERVISION_TAMPERING",
            "TEST_DELETED",
            "TEST_DISABLED"
        ],
        "{v}"
    );
    let at = |t: &str| issue_of(&v, t)["commit"].as_str().map(str::to_string);
    assert_eq!(at("TEST_DISABLED"), Some(skipped.clone()));
    assert_eq!(at("SUPERVISION_TAMPERING"), Some(skipped));
    assert_eq!(issue_of(&v, "TEST_DISABLED")["line"], 3);
    assert_eq!(at("SENSITIVE_FILE"), Some(env));
    assert_eq!(at("TEST_DELETED"), Some(dropped));
    // The same history through the per-commit scan finds the same.
    let root = repo.git(&["rev-list", "--max-parents=0", "HEAD"]);
    let (_, range) = scan(&repo, &[&format!("{}..HEAD", root.trim())]);
    assert_eq!(types(&range), types(&v), "{range}");
    // Without guards, only the secret scan runs.
    repo.write("off.toml", "[guards]\nenabled = false\n");
    let (code, v) = scan(&repo, &["--history", "--config", "off.toml"]);
    assert_eq!((code, types(&v)), (Some(0), Vec::<String>::new()), "{v}");
}

/// Two different edits of one CI file read alike ("changes the CI definition"); the history
/// reports each at its commit, and an edit cherry-picked onto another branch (the same change
/// of the same file) once.
#[test]
fn scan_history_reports_each_edit_of_a_file_once_and_every_different_edit() {
    let repo = TestRepo::new();
    let ci = ".github/workflows/ci.yml";
    repo.write(ci, "jobs:\n  test:\n    steps:\n      - run: pytest\n");
    repo.write("tests/test_a.py", "def test_a():\n    assert a() == 1\n");
    repo.commit("tests");
    let base = repo.git(&["rev-parse", "HEAD"]);
    repo.write(
        ci,
        "jobs:\n  test:\n    steps:\n      - run: pytest -k 'not slow'\n",
    );
    let first = repo.commit("skip slow tests in CI");
    repo.write(
        ci,
        "jobs:\n  test:\n    steps:\n      - run: pytest -k 'not slow and not net'\n",
    );
    let second = repo.commit("skip network tests in CI");
    repo.git(&["checkout", "-q", "-b", "other", base.trim()]);
    repo.git(&["cherry-pick", first.as_str()]);
    repo.git(&["checkout", "-q", "-"]);
    let (_, v) = scan(&repo, &["--history"]);
    let edits: Vec<String> = v["issues"]
        .as_array()
        .into_iter()
        .flatten()
        .filter(|i| i["type"] == "SUPERVISION_TAMPERING")
        .filter_map(|i| i["commit"].as_str().map(str::to_string))
        .collect();
    assert_eq!(edits.len(), 2, "{v}");
    assert!(edits.contains(&second), "{v}");
    let picked = repo.git(&["rev-parse", "other"]);
    assert!(
        edits.contains(&first) || edits.contains(&picked.trim().to_string()),
        "{v}"
    );
}

#[test]
fn scan_tree_judges_what_the_files_are_not_how_they_changed() {
    let repo = TestRepo::new();
    repo.write(
        "tests/test_api.py",
        "import pytest\n\n@pytest.mark.skip(reason='flaky')\ndef test_get():\n    assert True\n",
    );
    repo.write("keys/id_rsa", "not really a key\n");
    repo.write(
        "src/x.py",
        "<<<<<<< HEAD\nx = 1\n=======\nx = 2\n>>>>>>> topic\n",
    );
    repo.write("src/ok.py", "def f():\n    return 1\n");
    repo.commit("everything");
    let (code, v) = scan(&repo, &["--tree"]);
    assert_eq!(code, Some(1), "{v}");
    let t = types(&v);
    assert!(t.contains(&"SENSITIVE_FILE".to_string()), "{v}");
    assert!(t.contains(&"CONFLICT_MARKER".to_string()), "{v}");
    assert!(
        t.iter()
            .all(|t| matches!(t.as_str(), "SENSITIVE_FILE" | "CONFLICT_MARKER")),
        "a tree scan judges no change: {v}"
    );
}

/// What projects commit every day, each once a false HIGH or CRITICAL on a real repository:
/// a bot's bump of pinned actions, a platform skip on a new test, Diffie-Hellman parameters
/// and a certificate, an environment file among test fixtures.
#[test]
fn ordinary_commits_raise_nothing_at_high_or_above() {
    let repo = TestRepo::new();
    repo.write(
        ".github/workflows/test.yml",
        "jobs:\n  test:\n    steps:\n      - uses: actions/checkout@v3\n      - run: pytest\n",
    );
    repo.write(
        "tests/test_cli.py",
        "import pytest\n\ndef test_echo():\n    assert echo() == 1\n",
    );
    repo.commit("start");
    repo.write(
        ".github/workflows/test.yml",
        "jobs:\n  test:\n    steps:\n      - uses: actions/checkout@v4\n      - run: pytest\n",
    );
    repo.commit("Bump actions/checkout from 3 to 4");
    repo.write(
        "tests/test_cli.py",
        "import pytest\n\ndef test_echo():\n    assert echo() == 1\n\n@pytest.mark.skipif(shutil.which(\"cat\") is None, reason=\"needs cat\")\ndef test_pipe():\n    assert pipe() == 1\n",
    );
    repo.commit("test the pipe where cat exists");
    repo.write(
        "tests/dhparam.pem",
        "-----BEGIN DH PARAMETERS-----\nMIIBCAKCAQEA\n-----END DH PARAMETERS-----\n",
    );
    repo.write(
        "certs/ca.crt",
        "-----BEGIN CERTIFICATE-----\nMIIBCAKCAQEA\n-----END CERTIFICATE-----\n",
    );
    repo.write("tests/apps/web/.env", "PORT=5000\n");
    repo.commit("fixtures");
    let (code, v) = scan(&repo, &["--history"]);
    assert_eq!(high_or_critical(&v), Vec::<String>::new(), "{v}");
    assert_eq!(code, Some(0), "{v}");
    // The bump is still shown, LOW, with nothing to revert.
    let bump = issue_of(&v, "SUPERVISION_TAMPERING");
    assert_eq!(bump["severity"], "LOW", "{v}");
    // The agent's own commit of the same, audited: nothing at HIGH either.
    let (_, report, _) = repo.audit_json(&["--no-tests"]);
    assert_eq!(high_or_critical(&report), Vec::<String>::new(), "{report}");
}

/// A merge whose other side replaced three asserts with `pytest.warns`: the merge resolved
/// nothing about them, so it is not the commit that weakened the tests, whichever parent
/// comes first.
#[test]
fn a_merge_is_judged_against_every_parent() {
    let repo = TestRepo::new();
    let top = "def test_top():\n    assert top() == 1\n\n";
    let asserts = "def test_warns():\n    w = f()\n    assert len(w) == 1\n    assert w[0].category is UserWarning\n    assert 'x' in str(w[0])\n";
    repo.write("tests/test_w.py", format!("{top}{asserts}"));
    repo.commit("start");
    let main = repo.git(&["rev-parse", "--abbrev-ref", "HEAD"]);
    repo.git(&["checkout", "-q", "-b", "side"]);
    let warns = "def test_warns():\n    with pytest.warns(UserWarning, match='x'):\n        f()\n";
    repo.write("tests/test_w.py", format!("{top}{warns}"));
    repo.commit("use pytest.warns");
    repo.git(&["checkout", "-q", main.trim()]);
    let top2 = "def test_top():\n    assert top() == 2\n\n";
    repo.write("tests/test_w.py", format!("{top2}{asserts}"));
    repo.commit("top is 2");
    repo.git(&["merge", "-q", "--no-edit", "side"]);
    let merged = std::fs::read_to_string(repo.path().join("tests/test_w.py")).expect("merged");
    assert!(
        merged.contains("pytest.warns") && merged.contains("top() == 2"),
        "{merged}"
    );
    let merge = repo.git(&["rev-parse", "HEAD"]).trim().to_string();
    let at_merge = |v: &Value| -> Vec<String> {
        v["issues"]
            .as_array()
            .into_iter()
            .flatten()
            .filter(|i| i["commit"].as_str() == Some(merge.as_str()))
            .map(|i| i["type"].to_string())
            .collect()
    };
    let (_, v) = scan(&repo, &["--history"]);
    assert_eq!(at_merge(&v), Vec::<String>::new(), "{v}");
    let (_, v) = scan(&repo, &["HEAD~1..HEAD"]);
    assert_eq!(at_merge(&v), Vec::<String>::new(), "{v}");
    let (_, report, _) = repo.audit_json(&["--no-tests"]);
    assert!(
        issues_of(&report, "ASSERTION_REMOVED").is_empty(),
        "{report}"
    );
}

/// A check dropped from one CI definition that another still runs is not lost (ripgrep
/// retiring appveyor while GitHub Actions runs the same tests); dropped from the only one,
/// it is.
#[test]
fn a_check_another_ci_definition_still_runs_is_not_lost() {
    let repo = TestRepo::new();
    repo.write(
        ".github/workflows/ci.yml",
        "jobs:\n  test:\n    steps:\n      - run: cargo test --verbose\n",
    );
    repo.write("appveyor.yml", "test_script:\n  - cargo test --verbose\n");
    repo.commit("ci");
    repo.write("appveyor.yml", "test_script:\n  - echo retired\n");
    repo.commit("retire appveyor");
    let (_, v) = scan(&repo, &["--history"]);
    assert_eq!(high_or_critical(&v), Vec::<String>::new(), "{v}");
    let (_, report, _) = repo.audit_json(&["--no-tests"]);
    assert_eq!(high_or_critical(&report), Vec::<String>::new(), "{report}");
    // The last definition that ran the tests loses them: HIGH.
    repo.write(
        ".github/workflows/ci.yml",
        "jobs:\n  test:\n    steps:\n      - run: cargo build\n",
    );
    repo.commit("build only");
    let (_, report, _) = repo.audit_json(&["--no-tests"]);
    assert_eq!(
        high_or_critical(&report),
        ["\"SUPERVISION_TAMPERING\" \".github/workflows/ci.yml\""],
        "{report}"
    );
}

/// The severity of the SUPERVISION_TAMPERING finding on `.circleci/config.yml` after a
/// commit that moves CI from `before` to `after` (and writes `makefile`).
fn ci_move(before: &str, after: &str, makefile: &str) -> String {
    ci_move_with(before, after, makefile, &[])
}

fn ci_move_with(before: &str, after: &str, makefile: &str, files: &[(&str, &str)]) -> String {
    let repo = TestRepo::new();
    repo.write("main.go", "package main\n");
    repo.write(".circleci/config.yml", before);
    repo.write("Makefile", "build:\n\tgo build ./...\n");
    repo.commit("ci");
    repo.write(".circleci/config.yml", after);
    repo.write("Makefile", makefile);
    for (path, content) in files {
        repo.write(path, content);
    }
    repo.commit("ci through make");
    let (_, report, out) = repo.scan_json(&["HEAD"]);
    let found = issue_of(&report, "SUPERVISION_TAMPERING");
    assert_eq!(found["file"], ".circleci/config.yml", "{out}");
    found["severity"].as_str().unwrap_or_default().to_string()
}

#[test]
fn a_check_moved_into_a_make_target_ci_runs_is_kept() {
    let steps = |run: &str| format!("jobs:\n  test:\n    steps:\n      - checkout\n{run}");
    // vet moved from a CI step into `make lint` (spf13/cobra 39cf99f): every check still
    // runs, nothing to look at.
    let makefile = "lint: deps\n\tgo vet ./...\n\ndeps:\n\tgo get ./...\n";
    assert_eq!(
        ci_move(
            &steps("      - run: go vet ./...\n"),
            &steps("      - run: make lint\n"),
            makefile
        ),
        "LOW"
    );
    // `make test-unit` (bats) replaced by bats itself, `make test-image` checks nothing
    // (hashicorp/vault-helm 7002cc6).
    let makefile = "test-image:\n\tdocker build -t helm-test -f test/Test.dockerfile .\n\ntest-unit:\n\tdocker run -it -v ${PWD}:/helm-test helm-test bats /helm-test/test/unit\n";
    assert_eq!(
        ci_move(
            &steps("      - run: make test-image\n      - run: make test-unit\n"),
            &steps("      - run: bats ./test/unit -t\n"),
            makefile
        ),
        "LOW"
    );
    // The make step goes and nothing runs its check any more: the shortcut.
    assert_eq!(
        ci_move(
            &steps("      - run: make test-unit\n"),
            &steps("      - run: make build\n"),
            makefile
        ),
        "HIGH"
    );
}

#[test]
fn a_check_moved_into_a_script_ci_runs_is_kept_but_not_into_an_opaque_make() {
    let steps = |run: &str| format!("jobs:\n  test:\n    steps:\n      - checkout\n{run}");
    let makefile = "test:\n\t$(MAKE) -C t/ all\n";
    // git/git 657343a6: `make --quiet test` moved into ci/run-tests.sh, which CI runs.
    assert_eq!(
        ci_move_with(
            &steps("      - run: make --quiet test\n"),
            &steps("      - run: ci/run-tests.sh\n"),
            makefile,
            &[(
                "ci/run-tests.sh",
                "#!/bin/sh\nmkdir -p t\nmake --quiet test\n"
            )],
        ),
        "LOW"
    );
    // Dropped, and `make test` hands over to t/'s Makefile: not known to run anywhere.
    assert_eq!(
        ci_move(
            &steps("      - run: make --quiet test\n      - run: make build\n"),
            &steps("      - run: make build\n"),
            "build:\n\tcc -o app main.c\n\ntest:\n\t$(MAKE) -C t/ all\n",
        ),
        "HIGH"
    );
}

/// express 6a689504 "Fixed res.cookie() test": the assertion that failed was commented out.
/// The audit names the line; a rewrite that comments out many is one issue; a new test file's
/// commented lines were never live.
#[test]
fn an_assertion_commented_out_is_reported_at_its_line() {
    let repo = TestRepo::new();
    repo.write(
        "test/res.cookie.js",
        "it('sets one cookie', function () {\n  assert.equal(res.headers['set-cookie'].length, 1);\n  assert.ok(res.ok);\n});\n",
    );
    repo.commit("tests");
    repo.write(
        "test/res.cookie.js",
        "it('sets one cookie', function () {\n  //assert.equal(res.headers['set-cookie'].length, 1);\n  assert.ok(res.ok);\n});\n",
    );
    repo.write(
        "test/new.test.js",
        "it('later', function () {\n  // expect(later()).toBe(1);\n});\n",
    );
    repo.commit("Fixed res.cookie() test");
    let (_, report, _) = repo.audit_json(&["--no-tests"]);
    let found = issues_of(&report, "ASSERTION_REMOVED");
    assert_eq!(found.len(), 1, "{report}");
    assert_eq!(found[0]["severity"], "MEDIUM");
    assert_eq!(found[0]["file"], "test/res.cookie.js");
    assert_eq!(found[0]["line"], 2);
    assert!(
        found[0]["description"]
            .as_str()
            .unwrap_or_default()
            .contains("comments an assertion out"),
        "{report}"
    );
}

/// A test removed from one file whose checks the same commit writes into a test of another
/// (flask folded an error-handler test into the handler's own tests) is worth a look, not a
/// verdict: MEDIUM in `audit`, in `scan` of the commit and in `scan --history` alike. Removed
/// with nothing like it written again, it stays HIGH.
#[test]
fn a_test_folded_into_another_is_medium_everywhere_and_a_deletion_high() {
    let basic_kept = "def test_error_handling(app, client):\n    rv = client.get(\"/forbidden\")\n    assert b\"forbidden\" == rv.data\n";
    let basic = format!(
        "{basic_kept}\n\ndef test_error_handler_unknown_code(app):\n    with pytest.raises(KeyError) as exc_info:\n        app.register_error_handler(999, lambda e: (\"999\", 999))\n    assert \"Use a subclass\" in exc_info.value.args[0]\n"
    );
    let handler = "def test_error_handler_no_match(app, client):\n    rv = client.get(\"/custom\")\n    assert rv.data == b\"custom\"\n";
    let severity = |folded: bool| {
        let repo = TestRepo::new();
        repo.write("tests/test_basic.py", &basic);
        repo.write("tests/test_user_error_handler.py", handler);
        repo.commit("tests");
        repo.write("tests/test_basic.py", basic_kept);
        if folded {
            repo.write(
                "tests/test_user_error_handler.py",
                format!("{handler}    with pytest.raises(ValueError) as exc_info:\n        app.register_error_handler(999, None)\n    assert \"Use a subclass of HTTPException\" in str(exc_info.value)\n"),
            );
        }
        let head = repo.commit("move the error handler check");
        let (_, audit, _) = repo.audit_json(&["--no-tests"]);
        let (_, single) = scan(&repo, &[head.as_str()]);
        let (_, history) = scan(&repo, &["--history"]);
        [audit, single, history].map(|v| issue_of(&v, "TEST_DELETED")["severity"].clone())
    };
    assert_eq!(severity(true), ["MEDIUM"; 3].map(Value::from));
    assert_eq!(severity(false), ["HIGH"; 3].map(Value::from));
}

/// A count of assertions that drops because they were reworded (express 52e26697:
/// `assert(null == err)` became `if (err) return done(err)`) is LOW in `audit` and in
/// `scan --history` alike; one dropped from a test that stayed is MEDIUM.
#[test]
fn assertions_reworded_are_low_and_dropped_medium_everywhere() {
    let test = |callback: &str, check: &str, extra: &str| {
        format!(
            "it('should map a template engine', function({callback}){{\n  app.render('user.html', function(err, str){{\n    {check}\n    str.should.equal('<p>tobi</p>');\n{extra}  }})\n}})\nit('should work without leading \".\"', function({callback}){{\n  app.engine('html', render);\n  app.render('user.html', function(err, str){{\n    {check}\n    str.should.equal('<p>tobi</p>');\n{extra}  }})\n}})\n"
        )
    };
    let before = test("", "assert(null == err);", "");
    let severity = |after: &str| {
        let repo = TestRepo::new();
        repo.write("test/app.engine.js", &before);
        repo.commit("tests");
        repo.write("test/app.engine.js", after);
        repo.commit("async render tests");
        let (_, audit, _) = repo.audit_json(&["--no-tests"]);
        let (_, history) = scan(&repo, &["--history"]);
        [audit, history].map(|v| {
            let found = issue_of(&v, "ASSERTION_REMOVED");
            (found["severity"].clone(), found["title"].clone())
        })
    };
    let low = (
        Value::from("LOW"),
        Value::from("A test's assertions were moved or reworded"),
    );
    let reworded = test("done", "if (err) return done(err);", "    done();\n");
    assert_eq!(severity(&reworded), [low.clone(), low]);
    let medium = (
        Value::from("MEDIUM"),
        Value::from("A test's assertions were weakened"),
    );
    let dropped = test("", "", "");
    assert_eq!(severity(&dropped), [medium.clone(), medium]);
}
