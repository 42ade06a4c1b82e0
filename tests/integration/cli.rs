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
    assert_eq!(github_sarif_problems(&log), Vec::<String>::new(), "{log:#}");
    let run = &log["runs"][0];
    assert_eq!(run["tool"]["driver"]["name"], "auditor");
    let rules = run["tool"]["driver"]["rules"].as_array().expect("rules");
    let rule = |id: &str| {
        rules
            .iter()
            .find(|r| r["id"] == id)
            .unwrap_or_else(|| panic!("rule {id}"))
    };
    // A leaked key is a security alert; a lint is not (GitHub files every result of a rule
    // with `security-severity` as a security alert).
    let secret = rule("secrets/aws-access-key-id");
    let sev: f64 = secret["properties"]["security-severity"]
        .as_str()
        .expect("security-severity")
        .parse()
        .expect("number");
    assert!(sev >= 9.0);
    let lint = rule("lint/line");
    assert!(
        lint["properties"].get("security-severity").is_none(),
        "{lint}"
    );
    assert_eq!(lint["properties"]["problem.severity"], "error");
    assert_eq!(run["automationDetails"]["id"], "auditor/audit/");
    let head = repo.head();
    assert_eq!(
        run["versionControlProvenance"][0]["revisionId"],
        head.as_str()
    );
    let results = run["results"].as_array().expect("results");
    assert_eq!(results.len(), 2, "{results:?}");
    let on_lint = results
        .iter()
        .find(|r| r["ruleId"] == "lint/line")
        .expect("the lint's result");
    let region = &on_lint["locations"][0]["physicalLocation"]["region"];
    assert_eq!(
        (region["startLine"].as_u64(), region["startColumn"].as_u64()),
        (Some(1), Some(2))
    );
    // The failed test suite has no file: it is a notification, described by the driver.
    let notes = run["invocations"][0]["toolExecutionNotifications"]
        .as_array()
        .expect("notifications");
    assert_eq!(notes.len(), 1);
}

/// What GitHub's code scanning requires of an upload beyond the SARIF schema (its documented
/// "SARIF support for code scanning" fields), as a list of what is wrong.
fn github_sarif_problems(log: &serde_json::Value) -> Vec<String> {
    let mut problems = Vec::new();
    let mut check = |ok: bool, what: String| {
        if !ok {
            problems.push(what);
        }
    };
    check(log["version"] == "2.1.0", "version".into());
    for run in log["runs"].as_array().into_iter().flatten() {
        let driver = &run["tool"]["driver"];
        let rules = driver["rules"].as_array().cloned().unwrap_or_default();
        for rule in &rules {
            let id = rule["id"].as_str().unwrap_or_default();
            let props = &rule["properties"];
            let tags: Vec<&str> = props["tags"]
                .as_array()
                .into_iter()
                .flatten()
                .filter_map(|t| t.as_str())
                .collect();
            match props.get("security-severity").and_then(|v| v.as_str()) {
                Some(s) => {
                    check(
                        s.parse::<f64>().is_ok_and(|v| (0.0..=10.0).contains(&v)),
                        format!("{id}: security-severity {s}"),
                    );
                    check(
                        tags.contains(&"security"),
                        format!("{id}: security-severity without the security tag"),
                    );
                }
                None => check(
                    props["problem.severity"]
                        .as_str()
                        .is_some_and(|s| ["error", "warning", "recommendation"].contains(&s)),
                    format!("{id}: neither security-severity nor problem.severity"),
                ),
            }
            check(
                rule["shortDescription"]["text"].is_string(),
                format!("{id}: shortDescription"),
            );
            check(rule["help"]["text"].is_string(), format!("{id}: help"));
        }
        let bases = run["originalUriBaseIds"]
            .as_object()
            .cloned()
            .unwrap_or_default();
        check(
            run["automationDetails"]["id"]
                .as_str()
                .is_some_and(|id| id.contains('/')),
            "automationDetails.id with a category".into(),
        );
        for (n, result) in run["results"].as_array().into_iter().flatten().enumerate() {
            let rule_id = result["ruleId"].as_str().unwrap_or_default();
            let index = result["ruleIndex"].as_u64().map(|i| i as usize);
            check(
                index
                    .and_then(|i| rules.get(i))
                    .is_some_and(|r| r["id"] == rule_id),
                format!("result {n}: ruleIndex does not name {rule_id}"),
            );
            check(
                result["message"]["text"]
                    .as_str()
                    .is_some_and(|t| !t.is_empty()),
                format!("result {n}: message"),
            );
            let location = &result["locations"][0]["physicalLocation"];
            let uri = location["artifactLocation"]["uri"]
                .as_str()
                .unwrap_or_default();
            check(
                !uri.is_empty() && !uri.starts_with('/'),
                format!("result {n}: relative uri"),
            );
            if let Some(base) = location["artifactLocation"]["uriBaseId"].as_str() {
                check(
                    bases.contains_key(base),
                    format!("result {n}: uriBaseId {base} undefined"),
                );
            }
            let region = &location["region"];
            let start_line = region["startLine"].as_u64().unwrap_or(0);
            let start_col = region["startColumn"].as_u64().unwrap_or(0);
            check(
                start_line >= 1 && start_col >= 1,
                format!("result {n}: start"),
            );
            check(
                region["endLine"].as_u64().is_some_and(|e| e >= start_line),
                format!("result {n}: endLine"),
            );
            if let Some(end_col) = region["endColumn"].as_u64() {
                check(
                    region["endLine"].as_u64() != Some(start_line) || end_col > start_col,
                    format!("result {n}: endColumn"),
                );
            }
            check(
                result["partialFingerprints"]["primaryLocationLineHash"].is_string(),
                format!("result {n}: primaryLocationLineHash"),
            );
        }
        let descriptors: Vec<&str> = driver["notifications"]
            .as_array()
            .into_iter()
            .flatten()
            .filter_map(|d| d["id"].as_str())
            .collect();
        for note in run["invocations"][0]["toolExecutionNotifications"]
            .as_array()
            .into_iter()
            .flatten()
        {
            let id = note["descriptor"]["id"].as_str().unwrap_or_default();
            check(
                descriptors.contains(&id),
                format!("notification {id} not among the driver's"),
            );
        }
    }
    problems
}

/// `--sarif -` sends the log to stdout (the summary to stderr); a path that is a symlink or a
/// device is written through, never replaced by a regular file.
#[test]
fn sarif_goes_to_stdout_and_through_symlinks_and_devices() {
    let repo = TestRepo::new();
    repo.write("k.py", format!("K = \"{}\"\n", aws_key()));
    repo.commit("c");
    let out = repo
        .auditor()
        .args(["audit", "--no-tests", "--sarif", "-"])
        .output()
        .expect("run");
    let log: serde_json::Value = serde_json::from_slice(&out.stdout).expect("SARIF on stdout");
    assert_eq!(github_sarif_problems(&log), Vec::<String>::new());
    assert!(!repo.path().join("-").exists(), "no file named -");
    assert!(
        String::from_utf8_lossy(&out.stderr).contains("SEC-001"),
        "the summary on stderr"
    );
    let both = repo
        .auditor()
        .args(["audit", "--no-tests", "--json", "--sarif", "-"])
        .output()
        .expect("run");
    assert_eq!(
        both.status.code(),
        Some(2),
        "both on stdout is a usage error"
    );
    let real = repo.path().join(".git/real.sarif");
    std::fs::write(&real, "").expect("write");
    let link = repo.path().join(".git/link.sarif");
    std::os::unix::fs::symlink(&real, &link).expect("symlink");
    repo.auditor()
        .args(["audit", "--no-tests", "--sarif"])
        .arg(&link)
        .output()
        .expect("run");
    assert!(
        std::fs::symlink_metadata(&link)
            .expect("meta")
            .file_type()
            .is_symlink()
    );
    let through: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(&real).expect("read")).expect("SARIF");
    assert_eq!(through["version"], "2.1.0");
    let devnull = repo
        .auditor()
        .args(["audit", "--no-tests", "--sarif", "/dev/null"])
        .output()
        .expect("run");
    assert_eq!(devnull.status.code(), Some(1), "{devnull:?}");
    use std::os::unix::fs::FileTypeExt;
    assert!(
        std::fs::metadata("/dev/null")
            .expect("meta")
            .file_type()
            .is_char_device()
    );
}

/// A history scan's results carry their commit; an acknowledged issue is an accepted
/// suppression; the scan's run has a category of its own.
#[test]
fn history_scan_results_carry_their_commit_and_acknowledged_issues_are_suppressed() {
    let repo = TestRepo::new();
    repo.write("k.py", format!("K = \"{}\"\n", aws_key()));
    let leak = repo.commit("leak");
    repo.write("README.md", "r\n");
    repo.commit("more");
    let sarif = repo.path().join(".git/history.sarif");
    repo.auditor()
        .args(["scan", "--history", "--sarif"])
        .arg(&sarif)
        .output()
        .expect("scan");
    let log: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(&sarif).expect("read")).expect("json");
    assert_eq!(github_sarif_problems(&log), Vec::<String>::new(), "{log:#}");
    let run = &log["runs"][0];
    assert_eq!(run["automationDetails"]["id"], "auditor/scan-history/");
    assert_eq!(run["results"][0]["properties"]["commit"], leak.as_str());

    repo.write("fixture.py", format!("K = \"{}\"\n", aws_key()));
    repo.commit("a test fixture");
    repo.audit_json(&["--no-tests"]);
    // Acknowledging is the operator's, from a terminal.
    let (code, out) =
        repo.auditor_in_terminal(&["inbox", "ack", "SEC-001", "--reason", "a revoked test key"]);
    assert_eq!(code, 0, "{out}");
    repo.write("fixture.py", format!("# still\nK = \"{}\"\n", aws_key()));
    repo.commit("again");
    let audit_sarif = repo.path().join(".git/audit.sarif");
    repo.auditor()
        .args(["audit", "--no-tests", "--sarif"])
        .arg(&audit_sarif)
        .output()
        .expect("audit");
    let log: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(&audit_sarif).expect("read")).expect("json");
    let result = log["runs"][0]["results"]
        .as_array()
        .expect("results")
        .iter()
        .find(|r| r["properties"]["auditorId"] == "SEC-001")
        .cloned()
        .expect("SEC-001");
    assert_eq!(result["suppressions"][0]["status"], "accepted", "{result}");
    assert_eq!(
        result["suppressions"][0]["justification"],
        "a revoked test key"
    );
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

/// Colour as ripgrep and ruff do it: `--color`, `NO_COLOR`, `CLICOLOR_FORCE`/`FORCE_COLOR`,
/// `TERM=dumb`, and otherwise only on a terminal.
#[test]
fn colours_follow_the_flag_and_the_conventional_variables() {
    let repo = TestRepo::new();
    repo.write("k.py", format!("K = \"{}\"\n", aws_key()));
    repo.commit("c");
    let escapes = |args: &[&str], env: &[(&str, &str)]| {
        let mut cmd = repo.auditor();
        cmd.args(["audit", "--no-tests"]).args(args);
        for var in [
            "NO_COLOR",
            "CLICOLOR_FORCE",
            "FORCE_COLOR",
            "CLICOLOR",
            "TERM",
        ] {
            cmd.env_remove(var);
        }
        for (k, v) in env {
            cmd.env(k, v);
        }
        let out = cmd.output().expect("audit");
        String::from_utf8_lossy(&out.stdout).contains("\u{1b}[")
    };
    assert!(!escapes(&[], &[]), "not a terminal: plain");
    assert!(escapes(&["--color", "always"], &[]));
    assert!(escapes(&[], &[("FORCE_COLOR", "1")]));
    assert!(escapes(&[], &[("CLICOLOR_FORCE", "1")]));
    assert!(!escapes(&[], &[("FORCE_COLOR", "1"), ("NO_COLOR", "1")]));
    assert!(!escapes(&["--color", "never"], &[("FORCE_COLOR", "1")]));
    // On a terminal (util-linux `script`): colours, unless TERM=dumb or NO_COLOR.
    let on_terminal = |env: &str| {
        let bin = assert_cmd::cargo::cargo_bin("auditor");
        let out = std::process::Command::new("script")
            .args(["-q", "-e", "-c"])
            .arg(format!("env {env} '{}' audit --no-tests", bin.display()))
            .arg("/dev/null")
            .current_dir(repo.path())
            // A hermetic environment: CI machines often force colour for every process.
            .env_clear()
            .env("PATH", std::env::var_os("PATH").unwrap_or_default())
            .env("HOME", repo.path())
            .env("GIT_CONFIG_NOSYSTEM", "1")
            .stdin(std::process::Stdio::null())
            .output()
            .expect("script");
        String::from_utf8_lossy(&out.stdout).contains("\u{1b}[1;97;41")
    };
    assert!(on_terminal("TERM=xterm-256color"));
    assert!(!on_terminal("TERM=dumb"));
    assert!(!on_terminal("TERM=xterm-256color NO_COLOR=1"));
}

/// `--help` says what the exit codes mean and shows examples (as ripgrep's and ruff's do);
/// `--max-severity` completes its severities.
#[test]
fn help_states_the_exit_codes_and_examples_and_severities_complete() {
    let repo = TestRepo::new();
    let help = |args: &[&str]| {
        let out = repo.auditor().args(args).output().expect("help");
        assert!(out.status.success(), "{out:?}");
        String::from_utf8_lossy(&out.stdout).into_owned()
    };
    let top = help(&["--help"]);
    assert!(
        top.contains("Exit codes:") && top.contains("Examples:"),
        "{top}"
    );
    assert!(
        top.contains("1    an issue at or above policy.fail_on"),
        "{top}"
    );
    let gate = help(&["gate", "--help"]);
    assert!(
        gate.contains("2    open issues at or above --max-severity"),
        "{gate}"
    );
    assert!(
        gate.contains("[possible values: LOW, MEDIUM, HIGH, CRITICAL]"),
        "{gate}"
    );
    let bash = help(&["completions", "bash"]);
    assert!(
        bash.contains("LOW MEDIUM HIGH CRITICAL"),
        "the completion offers the severities"
    );
}

/// `--quiet` on every command: nothing but errors and the machine output a flag asks for;
/// the exit code is the same as without it.
#[test]
fn quiet_prints_nothing_but_errors_and_asked_for_output() {
    let repo = TestRepo::new();
    repo.write("a.txt", format!("token = \"{}\"\n", github_token()));
    repo.commit("a leaked token");
    let run = |args: &[&str]| {
        let out = repo.auditor().args(args).output().expect("run");
        (
            out.status.code(),
            String::from_utf8_lossy(&out.stdout).into_owned(),
            String::from_utf8_lossy(&out.stderr).into_owned(),
        )
    };
    for args in [
        &["init", "--force"][..],
        &["audit"],
        &["scan", "--tree"],
        &["scan", "--history"],
        &["status"],
        &["inbox"],
        &["inbox", "show", "SEC-001"],
        &["gate"],
        &["stop"],
        &["reset"],
        &["baseline", "--output", "b.json"],
    ] {
        let (loud_code, loud_out, _) = run(args);
        let quiet: Vec<&str> = std::iter::once("-q").chain(args.iter().copied()).collect();
        let (code, stdout, stderr) = run(&quiet);
        assert_eq!(code, loud_code, "{args:?}: {stderr}");
        assert!(
            !loud_out.is_empty() || args[0] == "gate",
            "{args:?} says something without -q"
        );
        assert_eq!((stdout.as_str(), stderr.as_str()), ("", ""), "{args:?}");
    }
    // The gate blocked on the CRITICAL: exit 2 either way.
    assert_eq!(run(&["gate", "--quiet"]).0, Some(2));
    // Asked-for output still comes.
    let (_, stdout, _) = run(&["audit", "-q", "--json"]);
    assert!(stdout.contains("\"schema_version\""), "{stdout}");
    let (_, stdout, _) = run(&["scan", "--tree", "-q", "--sarif", "-"]);
    assert!(stdout.contains("\"version\": \"2.1.0\""), "{stdout}");
    let (_, stdout, _) = run(&["status", "-q", "--json"]);
    assert!(stdout.contains("\"schema_version\""), "{stdout}");
    // An error is still said.
    let (code, _, stderr) = run(&["-q", "audit", "no-such-rev"]);
    assert_ne!(code, Some(0));
    assert!(stderr.contains("error"), "{stderr}");
}

/// On a terminal, long work shows what it does: the stage, each running check with its
/// elapsed time against the estimate earlier audits give, the blobs a scan has read; the line
/// is erased before the summary. Nothing of it on a non-terminal or with --quiet.
#[test]
fn progress_shows_on_a_terminal_only() {
    let repo = TestRepo::new();
    repo.write(
        "auditor.toml",
        "[[check]]\nname = \"slow-lint\"\ncommand = [\"sleep\", \"2\"]\nscope = \"tree\"\n",
    );
    repo.write("a.txt", "a\n");
    repo.commit("first");
    let (_, first) = repo.auditor_in_terminal(&["audit"]);
    assert!(first.contains("auditor audit 0:0"), "{first:?}");
    assert!(first.contains("auditing: slow-lint 1s"), "{first:?}");
    assert!(
        first.contains("\r\u{1b}[K"),
        "the line is erased: {first:?}"
    );
    // The second audit has an estimate from the first report.
    repo.write("a.txt", "b\n");
    repo.commit("second");
    let (_, second) = repo.auditor_in_terminal(&["audit"]);
    assert!(second.contains("slow-lint 1s/~2s"), "{second:?}");
    let (_, scan) = repo.auditor_in_terminal(&["scan", "--history"]);
    assert!(scan.contains("the history: "), "{scan:?}");
    // Quiet, or not a terminal: no line.
    let (_, quiet) = repo.auditor_in_terminal(&["-q", "audit"]);
    assert!(!quiet.contains("auditor audit 0:"), "{quiet:?}");
    let plain = repo.auditor().arg("audit").output().expect("run");
    let text = String::from_utf8_lossy(&plain.stdout).into_owned()
        + &String::from_utf8_lossy(&plain.stderr);
    assert!(!text.contains('\r'), "{text:?}");
}
