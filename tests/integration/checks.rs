//! Checks as supervised processes: timeouts, process groups, output caps, nice, JUnit,
//! missing programs.

use crate::support::*;

#[test]
fn hung_test_suite_is_killed_with_its_grandchildren_and_reported_as_timeout() {
    let repo = TestRepo::new();
    // The grandchild ignores SIGTERM and would sleep for ever.
    repo.write(
        "auditor.toml",
        r#"
[runner]
grace = "500ms"

[[check]]
name = "suite"
stage = "test"
command = ["sh", "-c", "(trap '' TERM; sleep 31337) & sleep 31338; wait"]
timeout = "1s"
"#,
    );
    repo.commit("hang");
    let (code, report, _) = repo.audit_json(&[]);
    let timeouts = issues_of(&report, "TEST_TIMEOUT");
    assert_eq!(timeouts.len(), 1, "{report}");
    assert_eq!(timeouts[0]["severity"], "HIGH");
    assert_eq!(check(&report, "suite")["outcome"], "timed_out");
    assert_eq!(code, 1);
    assert!(!process_alive("sleep 31337"), "the grandchild survived");
    assert!(!process_alive("sleep 31338"), "the child survived");
}

#[test]
fn leaked_background_process_is_killed_after_the_check_exits() {
    let repo = TestRepo::new();
    repo.write(
        "auditor.toml",
        "[[check]]\nname = \"leaky\"\ncommand = [\"sh\", \"-c\", \"sleep 31339 >/dev/null 2>&1 & exit 0\"]\n",
    );
    repo.commit("leak a process");
    let (_, report, _) = repo.audit_json(&[]);
    assert_eq!(check(&report, "leaky")["outcome"], "passed");
    assert_eq!(check(&report, "leaky")["leaked_processes_killed"], true);
    assert!(!process_alive("sleep 31339"));
}

#[test]
fn a_hundred_megabytes_of_output_is_capped() {
    let repo = TestRepo::new();
    repo.write(
        "auditor.toml",
        r#"
[runner]
output_cap = "1MiB"

[[check]]
name = "noisy"
command = ["sh", "-c", "head -c 100000000 /dev/zero | tr '\\0' 'x'; echo; echo LAST-LINE; exit 3"]
timeout = "60s"
"#,
    );
    repo.commit("noisy");
    let out = repo
        .auditor()
        .args(["audit", "--json"])
        .output()
        .expect("run auditor");
    let report: serde_json::Value = serde_json::from_slice(&out.stdout).expect("json");
    let noisy = check(&report, "noisy");
    assert_eq!(noisy["output_truncated"], true);
    let finding = issues(&report)
        .into_iter()
        .find(|i| i["check"] == "noisy")
        .expect("finding");
    let desc = finding["description"].as_str().unwrap_or_default();
    assert!(desc.contains("LAST-LINE"), "the tail is kept");
    assert!(desc.len() < 20_000, "description is {} bytes", desc.len());
    // The auditor itself stayed small (peak RSS of every child this test waited for).
    let usage = nix::sys::resource::getrusage(nix::sys::resource::UsageWho::RUSAGE_CHILDREN)
        .expect("getrusage");
    assert!(
        usage.max_rss() < 80 * 1024,
        "peak RSS {} KiB",
        usage.max_rss()
    );
}

#[test]
fn missing_linter_is_check_unavailable_not_a_crash() {
    let repo = TestRepo::new();
    repo.write(
        "auditor.toml",
        "[[check]]\nname = \"ghost\"\ncommand = [\"no-such-linter-xyz\", \"{files}\"]\nfiles = [\"*.txt\"]\n",
    );
    repo.write("a.txt", "a\n");
    repo.commit("first");
    let (code, report, _) = repo.audit_json(&[]);
    let unavailable = issues_of(&report, "CHECK_UNAVAILABLE");
    assert_eq!(unavailable.len(), 1);
    assert_eq!(unavailable[0]["severity"], "MEDIUM");
    assert!(
        unavailable[0]["title"]
            .as_str()
            .unwrap_or_default()
            .contains("no-such-linter-xyz")
    );
    assert_eq!(check(&report, "ghost")["outcome"], "unavailable");
    assert_eq!(code, 0, "MEDIUM is below fail_on");
}

/// stripe-node without its yarn install: `npx --no-install eslint` finds no eslint. The
/// linter is unavailable (the machine's), not a check error of each commit, and it never
/// escalates, however many commits follow (it reached CRITICAL in the replay).
#[test]
fn a_linter_its_launcher_cannot_find_is_unavailable_and_never_escalates() {
    let repo = TestRepo::new();
    repo.write(
        "auditor.toml",
        concat!(
            "[[check]]\nname = \"eslint\"\nformat = \"eslint\"\nfiles = [\"*.js\"]\n",
            "command = [\"sh\", \"-c\", \"echo 'npm error npx canceled due to missing packages and no YES option: [\\\"eslint@9.0.0\\\"]' >&2; exit 1\"]\n",
        ),
    );
    for n in 0..6 {
        repo.write("a.js", format!("module.exports = {n};\n"));
        repo.commit(&format!("edit {n}"));
        let (code, report, out) = repo.audit_json(&["--no-tests"]);
        assert!(issues_of(&report, "CHECK_ERROR").is_empty(), "{out}");
        let unavailable = issues_of(&report, "CHECK_UNAVAILABLE");
        assert_eq!(unavailable.len(), 1, "{out}");
        assert_eq!(unavailable[0]["severity"], "MEDIUM", "audit {n}: {out}");
        assert!(
            unavailable[0]["title"]
                .as_str()
                .is_some_and(|t| t.contains("`eslint`")),
            "{out}"
        );
        assert_eq!(code, 0, "{out}");
    }
}

#[test]
fn checks_run_niced() {
    let repo = TestRepo::new();
    repo.write(
        "auditor.toml",
        "[runner]\nnice = 13\n\n[[check]]\nname = \"nice\"\ncommand = [\"sh\", \"-c\", \"echo \\\"x:1: nice=$(nice)\\\"; exit 1\"]\nformat = \"lines\"\n",
    );
    repo.commit("first");
    let (_, report, _) = repo.audit_json(&[]);
    let desc = issues(&report)[0]["description"]
        .as_str()
        .unwrap_or_default()
        .to_string();
    let level: i32 = desc
        .split("nice=")
        .nth(1)
        .and_then(|s| s.trim().split(|c: char| !c.is_ascii_digit()).next())
        .and_then(|n| n.parse().ok())
        .unwrap_or_else(|| panic!("no nice value in {desc}"));
    assert!(level >= 13, "check ran at nice {level}");
}

fn junit_check(xml: &str, exit: i32) -> String {
    format!(
        r#"
[[check]]
name = "pytest"
stage = "test"
command = ["sh", "-c", '''cat > report.xml <<'XML'
{xml}
XML
exit {exit}''']
format = "junit"
junit = "report.xml"
"#
    )
}

#[test]
fn failing_test_command_with_junit_gives_one_issue_per_failing_case() {
    let repo = TestRepo::new();
    let xml = r#"<testsuites><testsuite name="s" tests="3"><testcase classname="test_math" name="test_add" file="tests/test_math.py" line="4"/><testcase classname="test_math" name="test_div"><failure message="ZeroDivisionError: division by zero">trace</failure></testcase><testcase classname="test_math" name="test_neg"><error message="boom"/></testcase></testsuite></testsuites>"#;
    repo.write("auditor.toml", junit_check(xml, 1));
    repo.commit("tests");
    let (code, report, _) = repo.audit_json(&[]);
    let failures = issues_of(&report, "TEST_FAILURE");
    assert_eq!(failures.len(), 2, "{failures:?}");
    assert!(failures.iter().all(|f| f["severity"] == "HIGH"));
    assert!(failures.iter().any(|f| {
        f["rule"] == "test_math::test_div"
            && f["description"]
                .as_str()
                .unwrap_or_default()
                .contains("division by zero")
    }));
    let rate = report["metrics"]["test_pass_rate"].as_f64().expect("rate");
    assert!((rate - 1.0 / 3.0).abs() < 1e-9, "{rate}");
    assert_eq!(report["metrics"]["tests"]["failed"], 2);
    assert_eq!(code, 1);
}

#[test]
fn passing_test_command_with_junit() {
    let repo = TestRepo::new();
    let xml = r#"<testsuite name="s" tests="2"><testcase classname="t" name="a"/><testcase classname="t" name="b"><skipped/></testcase></testsuite>"#;
    repo.write("auditor.toml", junit_check(xml, 0));
    repo.commit("tests");
    let (code, report, _) = repo.audit_json(&[]);
    assert_eq!(code, 0);
    assert_eq!(report["status"], "PASS");
    assert_eq!(report["metrics"]["test_pass_rate"], 1.0);
    assert_eq!(report["metrics"]["tests"]["skipped"], 1);
    assert_eq!(check(&report, "pytest")["outcome"], "passed");
}

#[test]
fn failing_test_command_without_junit_uses_the_exit_code() {
    let repo = TestRepo::new();
    repo.write(
        "auditor.toml",
        "[[check]]\nname = \"suite\"\nstage = \"test\"\ncommand = [\"sh\", \"-c\", \"echo '1 passed, 1 failed'; exit 1\"]\n",
    );
    repo.commit("tests");
    let (code, report, _) = repo.audit_json(&[]);
    let failures = issues_of(&report, "TEST_FAILURE");
    assert_eq!(failures.len(), 1);
    assert!(
        failures[0]["description"]
            .as_str()
            .unwrap_or_default()
            .contains("1 passed, 1 failed")
    );
    assert_eq!(report["metrics"]["test_pass_rate"], 0.0);
    assert_eq!(code, 1);
}

#[test]
fn nonzero_exit_with_nothing_parsed_is_never_a_pass() {
    let repo = TestRepo::new();
    repo.write(
        "auditor.toml",
        "[[check]]\nname = \"lint\"\ncommand = [\"sh\", \"-c\", \"echo '{\\\"comments\\\": []}'; exit 2\"]\nformat = \"shellcheck\"\n",
    );
    repo.commit("first");
    let (_, report, _) = repo.audit_json(&[]);
    assert_eq!(check(&report, "lint")["outcome"], "failed");
    let errors = issues_of(&report, "CHECK_ERROR");
    assert_eq!(errors.len(), 1);
    assert!(
        errors[0]["title"]
            .as_str()
            .unwrap_or_default()
            .contains("without parseable output")
    );
}

#[test]
fn checks_see_the_commit_and_changed_files_in_their_environment() {
    let repo = TestRepo::new();
    repo.write(
        "auditor.toml",
        "[[check]]\nname = \"env\"\ncommand = [\"sh\", \"-c\", \"echo \\\"x:1: commit=$AUDITOR_COMMIT files=$(echo $AUDITOR_CHANGED_FILES)\\\"; exit 1\"]\nformat = \"lines\"\n",
    );
    repo.write("a.txt", "a\n");
    let head = repo.commit("first");
    let (_, report, _) = repo.audit_json(&[]);
    let desc = issues(&report)[0]["description"]
        .as_str()
        .unwrap_or_default()
        .to_string();
    assert!(desc.contains(&format!("commit={head}")), "{desc}");
    assert!(desc.contains("a.txt"), "{desc}");
}

#[test]
fn killing_the_auditor_kills_the_checks_whole_process_group() {
    let repo = TestRepo::new();
    repo.write(
        "auditor.toml",
        r#"
[[check]]
name = "suite"
stage = "test"
command = ["sh", "-c", "(sleep 31341; echo) & sleep 31342; wait"]
timeout = "5m"
"#,
    );
    repo.commit("slow tests");
    let bin = assert_cmd::cargo::cargo_bin("auditor");
    let mut auditor = std::process::Command::new(bin)
        .arg("audit")
        .current_dir(repo.path())
        .env("HOME", repo.path())
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .spawn()
        .expect("start auditor");
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(30);
    while !(process_alive("sleep 31341") && process_alive("sleep 31342")) {
        assert!(
            std::time::Instant::now() < deadline,
            "the check never started"
        );
        std::thread::sleep(std::time::Duration::from_millis(20));
    }
    auditor.kill().expect("SIGKILL the auditor");
    auditor.wait().expect("reap");
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(10);
    while process_alive("sleep 31341") || process_alive("sleep 31342") {
        assert!(
            std::time::Instant::now() < deadline,
            "the check's processes outlived the auditor"
        );
        std::thread::sleep(std::time::Duration::from_millis(20));
    }
}

#[test]
fn a_diagnostic_reported_twice_is_one_issue() {
    // Clippy reports a lib warning once per target (lib and lib test): one problem, one issue.
    let repo = TestRepo::new();
    repo.write(
        "auditor.toml",
        "[[check]]\nname = \"lint\"\ncommand = [\"sh\", \"-c\", \"echo 'a.txt:1: warning: twice'; echo 'a.txt:1: warning: twice'\"]\nformat = \"lines\"\n",
    );
    repo.write("a.txt", "a\n");
    repo.commit("a");
    let (_, report, _) = repo.audit_json(&["--no-tests"]);
    assert_eq!(
        report["issues"].as_array().map(Vec::len),
        Some(1),
        "{report}"
    );
}

#[test]
fn a_python_syntax_error_from_real_ruff_is_one_build_break() {
    let repo = TestRepo::new();
    repo.write(
        "auditor.toml",
        "[[check]]\nname = \"ruff\"\ncommand = [\"ruff\", \"check\", \"--no-fix\", \"--output-format\", \"json\", \"{files}\"]\nfiles = [\"*.py\"]\nformat = \"ruff\"\n",
    );
    repo.write("app.py", "def f(x):\n    return x\n");
    repo.commit("app");
    repo.write("app.py", "def f(:\n    return x\n");
    repo.commit("broken");
    let (code, report, out) = repo.audit_json(&[]);
    let breaks = issues_of(&report, "BUILD_BREAK");
    assert_eq!(breaks.len(), 1, "{out}");
    assert_eq!(breaks[0]["severity"], "CRITICAL");
    assert_eq!(breaks[0]["rule"], "invalid-syntax");
    assert!(issues_of(&report, "LINT").is_empty(), "{out}");
    assert_eq!(code, 1);
}

/// ripgrep 15.2 on this machine's rustc 1.95: cargo refuses to build crates that require a
/// newer rustc. Seen as a MEDIUM CHECK_ERROR of the commit in a dogfood audit; it is the
/// machine's: clippy is unavailable and the tests' environment lacks the compiler, whatever
/// the commit changed (here, the manifest itself).
#[test]
fn a_compiler_older_than_the_project_requires_is_the_machines_not_the_commits() {
    let repo = TestRepo::new();
    // The test repository is the checks' HOME: tell rustup where the toolchains are.
    let home = std::env::var("HOME").unwrap_or_default();
    let rustup = std::env::var("RUSTUP_HOME").unwrap_or_else(|_| format!("{home}/.rustup"));
    let cargo = std::env::var("CARGO_HOME").unwrap_or_else(|_| format!("{home}/.cargo"));
    let env = format!("\"env\", \"RUSTUP_HOME={rustup}\", \"CARGO_HOME={cargo}\", \"cargo\"");
    repo.write(
        "auditor.toml",
        format!(
            "[[check]]\nname = \"clippy\"\nformat = \"cargo\"\nfiles = [\"*.rs\", \"Cargo.toml\"]\n\
             command = [{env}, \"clippy\", \"--offline\", \"--message-format=json\", \"--quiet\"]\n\n\
             [[check]]\nname = \"cargo-test\"\nstage = \"test\"\nformat = \"exit-code\"\n\
             command = [{env}, \"test\", \"--offline\", \"--quiet\"]\n"
        ),
    );
    repo.write(
        "Cargo.toml",
        "[package]\nname = \"rv\"\nversion = \"0.1.0\"\nedition = \"2021\"\nrust-version = \"1.999\"\n",
    );
    repo.write("src/lib.rs", "pub fn one() -> u32 {\n    1\n}\n");
    repo.commit("require a rustc this machine does not have");
    let (_, report, out) = repo.audit_json(&[]);
    assert!(issues_of(&report, "CHECK_ERROR").is_empty(), "{out}");
    assert!(issues_of(&report, "TEST_FAILURE").is_empty(), "{out}");
    let unavailable = issues_of(&report, "CHECK_UNAVAILABLE");
    assert_eq!(unavailable.len(), 1, "{out}");
    assert!(
        unavailable[0]["title"]
            .as_str()
            .is_some_and(|t| t.contains("rustc 1.999")),
        "{out}"
    );
    let environment = issues_of(&report, "TEST_ENVIRONMENT");
    assert_eq!(environment.len(), 1, "{out}");
    assert!(
        environment[0]["title"]
            .as_str()
            .is_some_and(|t| t.contains("needs rustc 1.999")),
        "{out}"
    );
}

/// mypy runs as a module of the setup's interpreter: where it is not installed, python says
/// "No module named mypy" and the check read "failed without parseable output". The module
/// is missing from the machine, as a program missing from PATH is.
#[test]
fn a_python_module_the_interpreter_lacks_is_an_unavailable_check() {
    let repo = TestRepo::new();
    repo.write(
        "auditor.toml",
        "[[check]]\nname = \"mypy\"\nformat = \"lines\"\nfiles = [\"*.py\"]\n\
         command = [\"python3\", \"-m\", \"auditor_test_no_such_module\", \"{files}\"]\n",
    );
    repo.write("app.py", "x = 1\n");
    repo.commit("app");
    let (code, report, out) = repo.audit_json(&["--no-tests"]);
    assert!(issues_of(&report, "CHECK_ERROR").is_empty(), "{out}");
    let unavailable = issues_of(&report, "CHECK_UNAVAILABLE");
    assert_eq!(unavailable.len(), 1, "{out}");
    assert!(
        unavailable[0]["title"]
            .as_str()
            .is_some_and(|t| t.contains("`auditor_test_no_such_module` is not installed")),
        "{out}"
    );
    assert_eq!(code, 0, "MEDIUM fails nothing: {out}");
}
