//! The command line: init, completions, SARIF, the human summary, exit codes, defaults.

use crate::support::*;

#[test]
fn init_detects_checks_writes_a_valid_config_and_refuses_to_overwrite() {
    let repo = TestRepo::new();
    repo.write("Cargo.toml", "[package]\nname = \"x\"\n");
    repo.write("tools/deploy", "#!/usr/bin/env bash\necho hi\n");
    repo.write("tests/run_tests.sh", "#!/bin/sh\nexit 0\n");
    // As in a repository the test helper has not prepared.
    std::fs::write(repo.path().join(".git/info/exclude"), "").expect("reset exclude");
    let out = repo.auditor().arg("init").output().expect("run");
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let text = std::fs::read_to_string(repo.path().join("auditor.toml")).expect("config");
    for name in [
        "name = \"clippy\"",
        "name = \"shellcheck\"",
        "name = \"run-tests\"",
    ] {
        assert!(text.contains(name), "{name} missing in\n{text}");
    }
    assert!(
        text.lines().filter(|l| l.starts_with('#')).count() > 5,
        "config is commented"
    );
    let exclude = std::fs::read_to_string(repo.path().join(".git/info/exclude")).expect("exclude");
    assert!(exclude.contains("/state/supervisor/"));
    // The config stays the operator's: out of `git add -A`.
    assert!(exclude.lines().any(|l| l == "/auditor.toml"), "{exclude}");
    assert!(
        !repo
            .git(&["status", "--porcelain"])
            .contains("auditor.toml")
    );

    let again = repo.auditor().arg("init").output().expect("run");
    assert_eq!(again.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&again.stderr).contains("--force"));
    assert_eq!(
        repo.auditor()
            .args(["init", "--force"])
            .output()
            .expect("run")
            .status
            .code(),
        Some(0)
    );

    // The written config is accepted by audit (no checks run: nothing they match changed).
    repo.write("README.md", "r\n");
    repo.commit("c");
    let out = repo
        .auditor()
        .args(["audit", "--no-tests", "--json"])
        .output()
        .expect("run");
    assert!(
        out.status.code() == Some(0) || out.status.code() == Some(1),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
}

#[test]
fn embedded_defaults_detect_installed_linters() {
    let repo = TestRepo::new();
    repo.write("run.sh", "#!/bin/sh\ncd /tmp\n");
    repo.commit("script");
    let (_, report, _) = repo.audit_json(&[]);
    // shellcheck is installed by tests/run_tests.sh: the default config picks it up.
    assert_eq!(
        check(&report, "shellcheck")["outcome"],
        "failed",
        "{report}"
    );
    assert_eq!(issues_of(&report, "LINT")[0]["rule"], "SC2164");
}

#[test]
fn completions_are_printed() {
    let repo = TestRepo::new();
    for shell in ["bash", "zsh", "fish"] {
        let out = repo
            .auditor()
            .args(["completions", shell])
            .output()
            .expect("run");
        assert_eq!(out.status.code(), Some(0));
        assert!(String::from_utf8_lossy(&out.stdout).contains("audit"));
    }
}

#[test]
fn human_summary_is_ranked_and_plain_without_a_tty() {
    let repo = TestRepo::new();
    repo.write(
        "auditor.toml",
        "[[check]]\nname = \"lint\"\ncommand = [\"sh\", \"-c\", \"echo 'a.txt:1: warning: meh'; exit 1\"]\nformat = \"lines\"\n",
    );
    repo.write("a.txt", "a\n");
    repo.write("k.py", format!("K = \"{}\"\n", aws_key()));
    repo.commit("c");
    let out = repo.auditor().arg("audit").output().expect("run");
    assert_eq!(out.status.code(), Some(1));
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(!text.contains('\x1b'), "no colours off a terminal");
    let crit = text.find("CRITICAL").expect("critical line");
    let med = text.find("MEDIUM").expect("medium line");
    assert!(crit < med, "ranked:\n{text}");
    assert!(text.starts_with("auditor: FAIL"), "{text}");
}

#[test]
fn fail_on_decides_the_exit_code() {
    let repo = TestRepo::new();
    repo.write(
        "auditor.toml",
        "[policy]\nfail_on = \"MEDIUM\"\n\n[[check]]\nname = \"lint\"\ncommand = [\"sh\", \"-c\", \"echo 'a.txt:1: warning: meh'; exit 1\"]\nformat = \"lines\"\n",
    );
    repo.write("a.txt", "a\n");
    repo.commit("c");
    let (code, report, _) = repo.audit_json(&[]);
    assert_eq!(report["status"], "FAIL");
    assert_eq!(code, 1);
    let inbox = repo.files_under("tasks/supervisor_feedback");
    assert!(
        !inbox
            .iter()
            .any(|p| p.to_string_lossy().contains("/ISSUE_")),
        "MEDIUM issues get no file of their own: {inbox:?}"
    );
    let digest = inbox
        .iter()
        .find(|p| p.to_string_lossy().contains("/DIGEST_"))
        .expect("a daily digest");
    let text = std::fs::read_to_string(digest).expect("digest");
    assert!(
        text.contains("LINT-001") && text.contains("`a.txt:1`"),
        "{text}"
    );
}

#[test]
fn sarif_has_every_field_github_requires() {
    let repo = TestRepo::new();
    repo.write(
        "auditor.toml",
        "[[check]]\nname = \"suite\"\nstage = \"test\"\ncommand = [\"sh\", \"-c\", \"exit 1\"]\n\n[[check]]\nname = \"lint\"\ncommand = [\"sh\", \"-c\", \"echo 'a.txt:1:2: error: bad'; exit 1\"]\nformat = \"lines\"\n",
    );
    repo.write("a.txt", "a\n");
    repo.write("k.py", format!("K = \"{}\"\n", aws_key()));
    repo.commit("c");
    let sarif_path = repo.path().join("out.sarif");
    let out = repo
        .auditor()
        .args(["audit", "--policy-free-placeholder"])
        .output()
        .expect("run");
    assert_eq!(out.status.code(), Some(2), "unknown flags are usage errors");
    repo.write(
        "auditor.toml",
        std::fs::read_to_string(repo.path().join("auditor.toml"))
            .expect("cfg")
            .replace(
                "[[check]]\nname = \"suite\"",
                "[policy]\nskip_tests_on_critical = false\n\n[[check]]\nname = \"suite\"",
            ),
    );
    let out = repo
        .auditor()
        .arg("audit")
        .arg("--sarif")
        .arg(&sarif_path)
        .output()
        .expect("run");
    assert_eq!(out.status.code(), Some(1));
    let log: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(&sarif_path).expect("sarif")).expect("json");
    let text = log.to_string();
    assert!(!text.contains(&aws_key()), "no secret in SARIF");
    assert_eq!(log["version"], "2.1.0");
    assert!(
        log["$schema"]
            .as_str()
            .unwrap_or_default()
            .contains("sarif")
    );
    let run = &log["runs"][0];
    assert_eq!(run["tool"]["driver"]["name"], "auditor");
    let rules = run["tool"]["driver"]["rules"].as_array().expect("rules");
    assert!(!rules.is_empty());
    for rule in rules {
        assert!(rule["id"].is_string());
        assert!(rule["shortDescription"]["text"].is_string());
        assert!(rule["fullDescription"]["text"].is_string());
        assert!(rule["help"]["text"].is_string());
        let sev: f64 = rule["properties"]["security-severity"]
            .as_str()
            .expect("security-severity")
            .parse()
            .expect("number");
        assert!((0.0..=10.0).contains(&sev));
    }
    let secret_rule = rules
        .iter()
        .find(|r| r["id"] == "secrets/aws-access-key-id")
        .expect("secret rule");
    assert!(
        secret_rule["properties"]["security-severity"]
            .as_str()
            .expect("sev")
            .parse::<f64>()
            .expect("num")
            >= 9.0
    );
    let results = run["results"].as_array().expect("results");
    assert_eq!(results.len(), 2, "{results:?}");
    for r in results {
        assert!(r["ruleId"].is_string());
        let idx = r["ruleIndex"].as_u64().expect("ruleIndex") as usize;
        assert_eq!(rules[idx]["id"], r["ruleId"]);
        assert!(r["message"]["text"].is_string());
        assert!(["error", "warning", "note"].contains(&r["level"].as_str().unwrap_or_default()));
        let loc = &r["locations"][0]["physicalLocation"];
        assert!(loc["artifactLocation"]["uri"].is_string());
        assert!(loc["region"]["startLine"].as_u64().expect("startLine") >= 1);
        assert!(
            r["partialFingerprints"]
                .as_object()
                .is_some_and(|o| !o.is_empty())
        );
    }
    // The failed test suite has no file: it is a notification, not a location-less result.
    let notes = run["invocations"][0]["toolExecutionNotifications"]
        .as_array()
        .expect("notifications");
    assert_eq!(notes.len(), 1);
}

#[test]
fn the_example_config_is_valid() {
    let repo = TestRepo::new();
    let example = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("examples/auditor.toml");
    std::fs::copy(&example, repo.path().join("auditor.toml")).expect("copy example");
    repo.write("README.md", "r\n");
    repo.commit("c");
    // Nothing it configures matches README.md: the config loads and the audit runs clean.
    let (code, report, out) = repo.audit_json(&["--no-tests"]);
    assert_eq!(code, 0, "{out}");
    assert_eq!(report["status"], "PASS");
}
