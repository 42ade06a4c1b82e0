//! The ledger and the feedback loop: issues followed across real commits and audits, the
//! inbox kept as a conversation, the gate, acknowledgements, claims, escalation, metrics.

use std::time::Duration;

use serde_json::Value;

use crate::support::{TestRepo, aws_key, eventually, github_token, issue_of, issues_of};

/// Writes `text` as a config inside `.git/` and returns `--config PATH`.
fn config(repo: &TestRepo, text: &str) -> [String; 2] {
    let path = repo.path().join(".git/auditor-ledger-test.toml");
    std::fs::write(&path, text).expect("config");
    ["--config".into(), path.to_string_lossy().into_owned()]
}

fn audit(repo: &TestRepo, cfg: &[String; 2]) -> Value {
    let (_, report, _) = repo.audit_json(&[cfg[0].as_str(), cfg[1].as_str(), "--no-tests"]);
    report
}

fn issue_files(repo: &TestRepo, folder: &str) -> Vec<std::path::PathBuf> {
    let dir = repo.path().join(folder);
    let mut v: Vec<_> = std::fs::read_dir(dir)
        .map(|d| {
            d.flatten()
                .map(|e| e.path())
                .filter(|p| {
                    p.file_name()
                        .is_some_and(|n| n.to_string_lossy().starts_with("ISSUE_"))
                })
                .collect()
        })
        .unwrap_or_default();
    v.sort();
    v
}

fn read(repo: &TestRepo, path: &str) -> String {
    std::fs::read_to_string(repo.path().join(path)).unwrap_or_default()
}

fn gate(repo: &TestRepo, max: &str) -> (i32, String) {
    let out = repo
        .auditor()
        .args(["gate", "--max-severity", max])
        .output()
        .expect("gate");
    (
        out.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

const HOOKS: &str = r#"
[hooks]
on_critical = ["sh", "-c", "echo \"critical $AUDITOR_ISSUE_ID $AUDITOR_SEVERITY $AUDITOR_INBOX_FILE\" >> .git/hooks.log"]
on_escalate = ["sh", "-c", "echo \"escalation $AUDITOR_ISSUE_ID $AUDITOR_SEVERITY\" >> .git/hooks.log"]
"#;

#[test]
fn a_secret_is_sent_once_followed_escalated_and_resolved() {
    let repo = TestRepo::new();
    let cfg = config(&repo, HOOKS);
    repo.write("README.md", "hi\n");
    repo.commit("initial");
    audit(&repo, &cfg);
    let key = aws_key();
    repo.write("deploy.py", format!("KEY = \"{key}\"\n"));
    repo.commit("add deploy");
    let r = audit(&repo, &cfg);
    assert_eq!(r["issues"][0]["id"], "SEC-001");
    assert_eq!(r["issues"][0]["status"], "new");
    let files = issue_files(&repo, "tasks/supervisor_feedback");
    assert_eq!(files.len(), 1, "{files:?}");
    assert_eq!(
        read(&repo, "tasks/supervisor_feedback/BLOCKING"),
        "SEC-001\n"
    );
    let inbox = read(&repo, "tasks/supervisor_feedback/INBOX.md");
    assert!(inbox.contains("[CRITICAL] SEC-001"), "{inbox}");
    let hooks = read(&repo, ".git/hooks.log");
    assert!(hooks.starts_with("critical SEC-001 CRITICAL "), "{hooks}");
    let (code, stderr) = gate(&repo, "HIGH");
    assert_eq!(code, 2);
    assert!(
        stderr.contains("SEC-001") && stderr.contains("INBOX.md"),
        "{stderr}"
    );

    // Three commits that do not fix it: still one file, updated in place, then escalated.
    for i in 0..3 {
        repo.write(&format!("other{i}.txt"), "work\n");
        repo.commit(&format!("unrelated {i}"));
        let r = audit(&repo, &cfg);
        assert!(r["issues"].as_array().is_none_or(|v| v.is_empty()), "{r}");
    }
    let files = issue_files(&repo, "tasks/supervisor_feedback");
    assert_eq!(files.len(), 1, "{files:?}");
    let text = std::fs::read_to_string(&files[0]).expect("file");
    assert!(text.contains("**Escalated**"), "{text}");
    let hooks = read(&repo, ".git/hooks.log");
    assert!(hooks.contains("escalation SEC-001 CRITICAL"), "{hooks}");
    let status = repo
        .auditor()
        .args(["status", "--json"])
        .output()
        .expect("status");
    let v: Value = serde_json::from_slice(&status.stdout).expect("json");
    assert_eq!(v["schema_version"], 1, "{v}");
    assert_eq!(v["escalations"][0]["id"], "SEC-001", "{v}");

    // Removing the key resolves it.
    repo.write("deploy.py", "import os\nKEY = os.environ[\"KEY\"]\n");
    let fix = repo.commit("read the key from the environment");
    let r = audit(&repo, &cfg);
    assert_eq!(r["resolved"][0]["id"], "SEC-001", "{r}");
    assert!(issue_files(&repo, "tasks/supervisor_feedback").is_empty());
    let moved = issue_files(&repo, "tasks/supervisor_feedback/resolved");
    assert_eq!(moved.len(), 1);
    let text = std::fs::read_to_string(&moved[0]).expect("resolved file");
    assert!(
        text.contains(&format!("## Resolved in commit `{}`", &fix[..7])),
        "{text}"
    );
    assert!(text.contains("still in the git history"), "{text}");
    assert!(!text.contains(&key));
    assert!(read(&repo, "tasks/supervisor_feedback/INBOX.md").contains("No open issues"));
    assert!(
        !repo
            .path()
            .join("tasks/supervisor_feedback/BLOCKING")
            .exists()
    );
    assert_eq!(gate(&repo, "LOW").0, 0);
    // Nothing anywhere holds the secret.
    for folder in ["logs", "tasks", "state"] {
        for f in repo.files_under(folder) {
            let bytes = std::fs::read(&f).unwrap_or_default();
            assert!(
                !String::from_utf8_lossy(&bytes).contains(&key),
                "{}",
                f.display()
            );
        }
    }
}

const TODO_CHECK: &str = r#"
[[check]]
name = "todo"
command = ["awk", "/TODO/ { print FILENAME \":\" FNR \": warning: a TODO is left\" }", "{files}"]
files = ["*.txt"]
format = "lines"
"#;

#[test]
fn an_issue_keeps_its_id_when_an_unrelated_edit_shifts_it_and_medium_goes_to_the_digest() {
    let repo = TestRepo::new();
    let cfg = config(&repo, TODO_CHECK);
    repo.write("notes.txt", "one\nTODO write the docs\nthree\n");
    repo.commit("notes");
    let r = audit(&repo, &cfg);
    let first = r["issues"][0].clone();
    assert_eq!(first["type"], "LINT", "{r}");
    assert_eq!(first["line"], 2);
    let id = first["id"].as_str().expect("id").to_string();

    let above: String = (0..20).map(|i| format!("line {i}\n")).collect();
    repo.write(
        "notes.txt",
        format!("{above}one\nTODO write the docs\nthree\n"),
    );
    repo.commit("twenty lines above");
    let r = audit(&repo, &cfg);
    assert_eq!(r["issues"][0]["id"], id.as_str(), "{r}");
    assert_eq!(r["issues"][0]["line"], 22);
    assert_eq!(r["issues"][0]["status"], "open");
    assert_eq!(r["issues"][0]["seen_in_commits"], 2);
    // MEDIUM: in the day's digest, never a file of its own.
    assert!(issue_files(&repo, "tasks/supervisor_feedback").is_empty());
    let digest = repo
        .files_under("tasks/supervisor_feedback")
        .into_iter()
        .find(|p| p.to_string_lossy().contains("DIGEST_"))
        .expect("digest");
    let text = std::fs::read_to_string(digest).expect("digest");
    assert!(
        text.contains(&id) && text.contains("seen in 2 commits"),
        "{text}"
    );
    assert!(
        text.contains("## Today") && text.contains("audits: 2"),
        "{text}"
    );
}

#[test]
fn fix_claims_are_checked_and_credited() {
    let repo = TestRepo::new();
    let cfg = config(&repo, "");
    repo.write("app.py", format!("T = \"{}\"\n", github_token()));
    repo.commit("token");
    audit(&repo, &cfg);
    repo.write("other.py", "x = 1\n");
    repo.write("app.py", format!("# fixed?\nT = \"{}\"\n", github_token()));
    repo.commit("[fix-SEC-001] remove the token");
    let r = audit(&repo, &cfg);
    let claim = issue_of(&r, "INEFFECTIVE_FIX");
    assert_eq!(claim["severity"], "HIGH");
    assert!(
        claim["title"]
            .as_str()
            .unwrap_or_default()
            .contains("SEC-001")
    );

    repo.write("app.py", "import os\nT = os.environ[\"T\"]\n");
    repo.commit("[fix-SEC-001] really remove it");
    let r = audit(&repo, &cfg);
    let resolved = r["resolved"].as_array().expect("resolved");
    let sec = resolved
        .iter()
        .find(|x| x["id"] == "SEC-001")
        .expect("SEC-001 resolved");
    assert_eq!(sec["claimed_fix"], true);
    // The ineffective-claim issue is gone too.
    assert!(
        resolved.iter().any(|x| x["type"] == "INEFFECTIVE_FIX"),
        "{r}"
    );
}

#[test]
fn an_acknowledged_issue_leaves_the_inbox_and_the_gate_and_stays_in_reports() {
    let repo = TestRepo::new();
    let cfg = config(&repo, "");
    repo.write("fixture.py", format!("K = \"{}\"\n", aws_key()));
    repo.commit("test fixture");
    audit(&repo, &cfg);
    assert_eq!(gate(&repo, "HIGH").0, 2);
    let (code, out) = repo.auditor_in_terminal(&[
        "inbox",
        "ack",
        "sec-001",
        "--reason",
        "a revoked key used as a test fixture",
    ]);
    assert_eq!(code, 0, "{out}");
    assert_eq!(gate(&repo, "LOW").0, 0);
    let inbox = read(&repo, "tasks/supervisor_feedback/INBOX.md");
    assert!(
        inbox.contains("No open issues") && inbox.contains("a revoked key"),
        "{inbox}"
    );
    let list = repo
        .auditor()
        .args(["inbox", "--json"])
        .output()
        .expect("inbox");
    let v: Value = serde_json::from_slice(&list.stdout).expect("json");
    assert_eq!(v["schema_version"], 1, "{v}");
    assert_eq!(v["issues"].as_array().map(Vec::len), Some(0));
    let show = repo
        .auditor()
        .args(["inbox", "show", "SEC-001"])
        .output()
        .expect("show");
    assert!(String::from_utf8_lossy(&show.stdout).contains("acknowledged"));

    repo.write("later.txt", "later\n");
    repo.commit("later");
    let r = audit(&repo, &cfg);
    assert_eq!(r["acknowledged"][0]["id"], "SEC-001", "{r}");
    assert_eq!(
        r["acknowledged"][0]["reason"],
        "a revoked key used as a test fixture"
    );
    assert!(
        r["acknowledged"][0]["from"]
            .as_str()
            .is_some_and(|f| f.starts_with("/dev/")),
        "the terminal is recorded: {r}"
    );
    // The acknowledgement stays in sight: the digest and `status` list it too.
    let digest = std::fs::read_dir(repo.path().join("tasks/supervisor_feedback"))
        .expect("inbox")
        .flatten()
        .find(|e| e.file_name().to_string_lossy().starts_with("DIGEST_"))
        .map(|e| std::fs::read_to_string(e.path()).expect("digest"))
        .expect("a digest lists the acknowledged issue");
    assert!(
        digest.contains("SEC-001") && digest.contains("a revoked key"),
        "{digest}"
    );
    let status = repo.auditor().arg("status").output().expect("status");
    let status = String::from_utf8_lossy(&status.stdout);
    assert!(
        status.contains("accepted:   SEC-001") && status.contains("a revoked key"),
        "{status}"
    );
    // Unknown IDs are a clear usage error.
    let (code, _) = repo.auditor_in_terminal(&["inbox", "ack", "SEC-999", "--reason", "x"]);
    assert_eq!(code, 2);
}

#[test]
fn an_ack_without_a_terminal_is_refused_and_changes_nothing() {
    let repo = TestRepo::new();
    let cfg = config(&repo, "");
    repo.write("app.py", format!("K = \"{}\"\n", aws_key()));
    repo.commit("leak");
    audit(&repo, &cfg);
    let ledger_before = read(&repo, "state/supervisor/ledger.json");
    // The agent's shell: no terminal.
    let out = repo
        .auditor()
        .args(["inbox", "ack", "SEC-001", "--reason", "not a real key"])
        .output()
        .expect("ack");
    assert_eq!(out.status.code(), Some(2));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains("interactive terminal"), "{stderr}");
    assert_eq!(read(&repo, "state/supervisor/ledger.json"), ledger_before);
    assert_eq!(gate(&repo, "HIGH").0, 2, "the gate stays closed");
}

#[test]
fn letting_anyone_ack_takes_effect_only_once_the_operator_accepts_it() {
    let repo = TestRepo::new();
    repo.write(".gitignore", "auditor.toml\nlogs/\nstate/\ntasks/\n");
    repo.write("app.py", format!("K = \"{}\"\n", aws_key()));
    repo.commit("leak");
    repo.audit_json(&["--no-tests"]);
    // The agent lets anyone acknowledge, and acks its own issue at once: refused, because
    // the settings the auditor last ran with still say "terminal".
    repo.write("auditor.toml", "[policy]\nack = \"anyone\"\n");
    let ack = |id: &str| {
        repo.auditor()
            .args(["inbox", "ack", id, "--reason", "fine"])
            .output()
            .expect("ack")
    };
    assert_eq!(ack("SEC-001").status.code(), Some(2));
    // The next audit shows the change as tampering.
    repo.write("b.txt", "b\n");
    repo.commit("b");
    let (_, r, _) = repo.audit_json(&["--no-tests"]);
    let tamper = issue_of(&r, "SUPERVISION_TAMPERING");
    assert_eq!(tamper["severity"], "CRITICAL");
    let id = tamper["id"].as_str().expect("id").to_string();
    assert_eq!(ack(&id).status.code(), Some(2), "the agent cannot ack it");
    // The operator accepts it from a terminal: the weaker settings become the baseline, and
    // from then on an acknowledgement needs no terminal.
    let (code, out) = repo.auditor_in_terminal(&["inbox", "ack", &id, "--reason", "CI has no tty"]);
    assert_eq!(code, 0, "{out}");
    repo.write("c.txt", "c\n");
    repo.commit("c");
    let (_, r, _) = repo.audit_json(&["--no-tests"]);
    assert_eq!(r["settings_accepted_by"], id.as_str(), "{r}");
    let out = ack("SEC-001");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let l: Value =
        serde_json::from_str(&read(&repo, "state/supervisor/ledger.json")).expect("ledger");
    let sec = l["entries"]
        .as_array()
        .and_then(|v| v.iter().find(|e| e["id"] == "SEC-001"))
        .expect("SEC-001");
    assert_eq!(sec["ack"]["from"], "non-interactive");
}

#[test]
fn a_recurring_rule_shows_its_earlier_fix() {
    let repo = TestRepo::new();
    let cfg = config(&repo, "");
    let key = aws_key();
    repo.write("a.py", format!("KEY = \"{key}\"\n"));
    repo.commit("leak one");
    audit(&repo, &cfg);
    repo.write("a.py", "import os\nKEY = os.environ[\"AWS_KEY\"]\n");
    let fix = repo.commit("move the key to the environment");
    audit(&repo, &cfg);
    let other = ["AKIA", "QQQ4LMNOPQRSTUW3"].concat();
    repo.write("b.py", format!("OTHER = \"{other}\"\n"));
    repo.commit("leak two");
    let r = audit(&repo, &cfg);
    assert_eq!(r["issues"][0]["id"], "SEC-002");
    let file = issue_files(&repo, "tasks/supervisor_feedback")
        .into_iter()
        .find(|p| p.to_string_lossy().contains("SEC-002"))
        .expect("SEC-002's file");
    let text = std::fs::read_to_string(file).expect("file");
    assert!(text.contains("## Seen before"), "{text}");
    assert!(
        text.contains(&format!("last resolved in commit `{}`", &fix[..7])),
        "{text}"
    );
    assert!(text.contains("+KEY = os.environ[\"AWS_KEY\"]"), "{text}");
    assert!(
        !text.contains(&key) && !text.contains(&other),
        "a secret leaked:\n{text}"
    );
    let status = repo
        .auditor()
        .args(["status", "--json"])
        .output()
        .expect("status");
    let v: Value = serde_json::from_slice(&status.stdout).expect("json");
    assert_eq!(
        v["top_rules"][0]["rule"], "secrets/aws-access-key-id",
        "{v}"
    );
}

#[test]
fn coverage_drop_and_a_slower_test_stage_are_reported() {
    let repo = TestRepo::new();
    let cfg = config(
        &repo,
        r#"
[metrics]
coverage = "coverage.lcov"
coverage_drop_max = 5.0
perf_regression_min = "1s"

[[check]]
name = "tests"
stage = "test"
command = ["sh", "-c", "sleep $(cat delay); cp cov.lcov coverage.lcov"]
"#,
    );
    let lcov = |hit: u32| format!("SF:a.py\nLF:100\nLH:{hit}\nend_of_record\n");
    let audit_tests = |delay: &str, hit: u32, msg: &str| -> Value {
        repo.write("delay", format!("{delay}\n"));
        repo.write("cov.lcov", lcov(hit));
        repo.commit(msg);
        let (_, report, _) = repo.audit_json(&[cfg[0].as_str(), cfg[1].as_str()]);
        report
    };
    // Five passing runs are the baseline.
    for i in 0..5 {
        let r = audit_tests("0.2", 90, &format!("steady {i}"));
        assert_eq!(r["metrics"]["coverage"], 90.0, "{r}");
        assert!(r["issues"].as_array().is_none_or(|v| v.is_empty()), "{r}");
    }
    let r = audit_tests("1.6", 70, "slower and less covered");
    let types: Vec<&str> = r["issues"]
        .as_array()
        .expect("issues")
        .iter()
        .filter_map(|i| i["type"].as_str())
        .collect();
    assert!(types.contains(&"PERFORMANCE_REGRESSION"), "{r}");
    assert!(types.contains(&"COVERAGE"), "{r}");
    // Told, not blocking: a loaded machine can be slow too.
    let perf = issue_of(&r, "PERFORMANCE_REGRESSION");
    assert_eq!(perf["severity"], "MEDIUM");
    assert!(
        r["issues"]
            .as_array()
            .expect("issues")
            .iter()
            .any(|i| i["title"]
                .as_str()
                .is_some_and(|t| t.contains("dropped from 90.0% to 70.0%"))),
        "{r}"
    );
}

#[test]
fn the_ledger_is_never_half_written() {
    let repo = TestRepo::new();
    let cfg = config(&repo, TODO_CHECK);
    repo.write("notes.txt", "TODO one\n");
    repo.commit("c0");
    audit(&repo, &cfg);
    let ledger = repo.path().join("state/supervisor/ledger.json");
    for i in 0..15u64 {
        repo.write(
            "notes.txt",
            format!(
                "TODO {i}\n{}",
                "x\n".repeat(usize::try_from(i).unwrap_or(0))
            ),
        );
        repo.commit(&format!("c{}", i + 1));
        let mut child = std::process::Command::new(assert_cmd::cargo::cargo_bin("auditor"))
            .args(["audit", "--no-tests", "--json", &cfg[0], &cfg[1]])
            .current_dir(repo.path())
            .env("HOME", repo.path())
            .stdout(std::process::Stdio::null())
            .stderr(std::process::Stdio::null())
            .spawn()
            .expect("audit");
        std::thread::sleep(Duration::from_millis(3 * i));
        let _ = child.kill();
        let _ = child.wait();
        let text = std::fs::read_to_string(&ledger).expect("the ledger exists");
        let v: Value = serde_json::from_str(&text)
            .unwrap_or_else(|e| panic!("a torn ledger after kill at {} ms: {e}", 3 * i));
        assert_eq!(v["schema_version"], 1);
    }
}

#[test]
fn the_daemon_waits_for_a_fix_and_escalates_when_the_wait_times_out() {
    let repo = TestRepo::new();
    repo.write("README.md", "hi\n");
    repo.commit("initial");
    let path = repo.path().join(".git/auditor-wait-test.toml");
    std::fs::write(
        &path,
        format!(
            "{HOOKS}\n[watch]\ndebounce = \"200ms\"\npoll_interval = \"1s\"\nuncommitted = false\nwait_timeout = \"2s\"\nheartbeat = \"1s\"\nstale_after = \"3s\"\n"
        ),
    )
    .expect("config");
    let cfg = path.to_string_lossy().into_owned();
    let w = repo.watch(&["--config", &cfg]);
    w.wait_settled(20);
    repo.write("conf.py", "X = 1\n");
    repo.write("tok.py", format!("T = \"{}\"\n", github_token()));
    repo.commit("token");
    w.wait_event(20, "transition", |e| e["details"]["to"] == "WAIT_FOR_FIX");
    let raised = w.wait_event(10, "issue_raised", |e| e["details"]["id"] == "SEC-001");
    assert_eq!(raised["details"]["status"], "new");
    // The wait times out: blocking issues escalate (hook run), the daemon goes back to IDLE.
    w.wait_event(20, "wait_timeout", |_| true);
    w.wait_event(20, "escalation", |e| e["details"]["id"] == "SEC-001");
    w.wait_event(20, "hook_run", |e| e["details"]["event"] == "escalation");
    assert!(eventually(10, || read(&repo, ".git/hooks.log")
        .contains("escalation SEC-001")));

    // Back to waiting with a new blocking issue, then the fix ends the wait.
    repo.write("tok2.py", format!("U = \"{}\"\n", aws_key()));
    repo.commit("another");
    let waits = |w: &crate::support::Watch| {
        w.events()
            .iter()
            .filter(|e| e["event_type"] == "transition" && e["details"]["to"] == "WAIT_FOR_FIX")
            .count()
    };
    assert!(eventually(20, || waits(&w) >= 2), "{}", w.output());
    std::fs::remove_file(repo.path().join("tok.py")).expect("rm");
    std::fs::remove_file(repo.path().join("tok2.py")).expect("rm");
    let fix = repo.commit("remove both tokens");
    w.wait_event(20, "audit_finished", |e| e["commit"] == fix.as_str());
    let last = w
        .events()
        .into_iter()
        .rfind(|e| e["event_type"] == "transition")
        .expect("a transition");
    assert_eq!(last["details"]["to"], "IDLE", "{last}");
    assert_eq!(gate(&repo, "LOW").0, 0);
}

#[test]
fn a_corrupt_ledger_is_the_gates_own_error_and_never_an_open_gate() {
    let repo = TestRepo::new();
    repo.write("a.txt", "a\n");
    repo.commit("a");
    let state = repo.path().join("state/supervisor");
    std::fs::create_dir_all(&state).expect("mkdir");
    std::fs::write(state.join("ledger.json"), "{\"schema_version\": 1, \"entr").expect("write");
    // Exit 1, the hook's own error: Claude Code shows it to the user and does not block the
    // agent on it (exit 2 would block with an error text for the model).
    let (code, stderr) = gate(&repo, "HIGH");
    assert_eq!(code, 1);
    assert!(stderr.contains("not a valid ledger"), "{stderr}");
    // It is never replaced by an empty one: with no backup to recover from, audits fail and
    // say how to start anew.
    let cfg = config(&repo, "");
    let out = repo
        .auditor()
        .args(["audit", &cfg[0], &cfg[1], "--no-tests"])
        .output()
        .expect("audit");
    assert_eq!(out.status.code(), Some(3));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains("move both files aside"), "{stderr}");
    assert_eq!(gate(&repo, "HIGH").0, 1);
    // The operator moves it aside: a new ledger starts (no earlier report: nothing was lost).
    std::fs::rename(state.join("ledger.json"), state.join("ledger.old")).expect("move aside");
    audit(&repo, &cfg);
    assert_eq!(gate(&repo, "HIGH").0, 0);
}

#[test]
fn a_corrupt_or_deleted_ledger_is_recovered_from_its_backup_never_emptied() {
    let repo = TestRepo::new();
    repo.write("README.md", "hi\n");
    repo.commit("initial");
    let cfg = config(&repo, "");
    repo.write("conf.py", format!("KEY = \"{}\"\n", aws_key()));
    repo.commit("add a key");
    let report = audit(&repo, &cfg);
    assert_eq!(issue_of(&report, "SECRET_EXPOSURE")["id"], "SEC-001");
    let state = repo.path().join("state/supervisor");
    // The agent corrupts the ledger to open the gate: the backup stands in.
    std::fs::write(state.join("ledger.json"), "{}").expect("corrupt");
    let (code, stderr) = gate(&repo, "HIGH");
    assert_eq!(code, 2, "{stderr}");
    assert!(stderr.contains("recovered every issue"), "{stderr}");
    repo.write("b.txt", "b\n");
    repo.commit("unrelated");
    let report = audit(&repo, &cfg);
    let recovered = issues_of(&report, "SUPERVISION_TAMPERING");
    assert_eq!(recovered.len(), 1, "{report}");
    assert_eq!(recovered[0]["rule"], "ledger-recovered");
    // The secret keeps its ID and its life: nothing was forgotten.
    let ledger: Value =
        serde_json::from_str(&std::fs::read_to_string(state.join("ledger.json")).expect("ledger"))
            .expect("json");
    let sec = ledger["entries"]
        .as_array()
        .and_then(|e| e.iter().find(|e| e["id"] == "SEC-001").cloned())
        .expect("SEC-001 still in the ledger");
    assert_ne!(sec["life"], "resolved", "{sec}");
    assert!(
        std::fs::read_dir(&state)
            .expect("state")
            .flatten()
            .any(|e| e
                .file_name()
                .to_string_lossy()
                .starts_with("ledger.corrupt-"))
    );
    // Both files deleted while reports exist: the gate cannot tell what is open (its own error,
    // exit 1, said to the operator) and the loss is CRITICAL in the next audit.
    std::fs::remove_file(state.join("ledger.json")).expect("rm");
    std::fs::remove_file(state.join("ledger.json.bak")).expect("rm");
    let (code, stderr) = gate(&repo, "HIGH");
    assert_eq!(code, 1, "{stderr}");
    assert!(stderr.contains("cannot tell what is open"), "{stderr}");
    repo.write("c.txt", "c\n");
    repo.commit("another");
    let report = audit(&repo, &cfg);
    let lost = issues_of(&report, "SUPERVISION_TAMPERING");
    assert_eq!(lost[0]["rule"], "ledger-lost", "{report}");
    assert_eq!(lost[0]["severity"], "CRITICAL");
}

/// A test file whose `test_b` is skipped with `reason`, and `extra` more tests.
fn skipped_tests(reason: &str, extra: usize) -> String {
    let mut s = format!(
        "import pytest\n\n\ndef test_a():\n    assert 1 + 1 == 2\n\n\n@pytest.mark.skip(reason=\"{reason}\")\ndef test_b():\n    assert 2 * 2 == 4\n"
    );
    for i in 0..extra {
        s.push_str(&format!(
            "\n\ndef test_more_{i}():\n    assert {i} == {i}\n"
        ));
    }
    s
}

#[test]
fn a_reworded_skip_is_the_same_issue_and_its_claimed_fix_is_not_confirmed() {
    let repo = TestRepo::new();
    let cfg = config(&repo, "[policy]\nescalate_after_commits = 1\n");
    repo.write(
        "tests/test_app.py",
        skipped_tests("never", 0).replace("@pytest.mark.skip(reason=\"never\")\n", ""),
    );
    repo.commit("tests");
    audit(&repo, &cfg);
    repo.write("tests/test_app.py", skipped_tests("flaky", 0));
    repo.commit("skip b");
    let r = audit(&repo, &cfg);
    let skip = issue_of(&r, "TEST_DISABLED");
    let id = skip["id"].as_str().expect("id").to_string();
    assert_eq!(skip["severity"], "HIGH");
    // One commit without a fix escalates it.
    repo.write("notes.txt", "n\n");
    repo.commit("unrelated");
    audit(&repo, &cfg);

    // Rewording the reason and claiming the fix: the same issue, at its escalated severity,
    // and the claim is not confirmed.
    repo.write(
        "tests/test_app.py",
        skipped_tests(&format!("[fix-{id}] not flaky any more"), 0),
    );
    repo.commit(&format!("[fix-{id}] reword the reason"));
    let r = audit(&repo, &cfg);
    let again = issues_of(&r, "TEST_DISABLED");
    assert_eq!(again.len(), 1, "{r}");
    assert_eq!(again[0]["id"], id.as_str());
    assert_eq!(again[0]["severity"], "CRITICAL", "escalation survives: {r}");
    let claim = issue_of(&r, "INEFFECTIVE_FIX");
    assert!(claim["title"].as_str().unwrap_or_default().contains(&id));
    assert!(
        r["resolved"]
            .as_array()
            .is_none_or(|v| v.iter().all(|x| x["id"] != id.as_str())),
        "{r}"
    );

    // An edit elsewhere in the file resolves nothing either.
    repo.write(
        "tests/test_app.py",
        skipped_tests(&format!("[fix-{id}] not flaky any more"), 1),
    );
    repo.commit(&format!("[fix-{id}] add a test"));
    let r = audit(&repo, &cfg);
    assert_eq!(issues_of(&r, "TEST_DISABLED")[0]["id"], id.as_str(), "{r}");
    assert_eq!(gate(&repo, "HIGH").0, 2);

    // Removing the marker is the fix: confirmed.
    repo.write(
        "tests/test_app.py",
        skipped_tests("x", 1).replace("@pytest.mark.skip(reason=\"x\")\n", ""),
    );
    repo.commit(&format!("[fix-{id}] run test_b again"));
    let r = audit(&repo, &cfg);
    assert!(issues_of(&r, "TEST_DISABLED").is_empty(), "{r}");
    let resolved = r["resolved"].as_array().expect("resolved");
    let fixed = resolved
        .iter()
        .find(|x| x["id"] == id.as_str())
        .expect("resolved");
    assert_eq!(fixed["claimed_fix"], true);
}

#[test]
fn an_escalated_issue_s_file_and_title_carry_its_new_severity_and_lines_follow_the_code() {
    let repo = TestRepo::new();
    let cfg = config(&repo, HOOKS);
    repo.write(
        "tests/test_api.py",
        "def test_get():\n    assert get() == 1\n",
    );
    repo.commit("initial");
    audit(&repo, &cfg);
    repo.write(
        "tests/test_api.py",
        "import pytest\n\n@pytest.mark.skip(reason='flaky')\ndef test_get():\n    assert get() == 1\n",
    );
    repo.commit("skip a flaky test");
    let r = audit(&repo, &cfg);
    let skipped = issue_of(&r, "TEST_DISABLED");
    assert_eq!(skipped["severity"], "HIGH", "{r}");
    let id = skipped["id"].as_str().expect("id").to_string();
    let line = skipped["line"].as_u64().expect("line");
    let files = issue_files(&repo, "tasks/supervisor_feedback");
    assert_eq!(files.len(), 1, "{files:?}");
    assert!(
        files[0]
            .to_string_lossy()
            .ends_with(&format!("_HIGH_{id}.md"))
    );
    let (_, stderr) = gate(&repo, "HIGH");
    assert!(
        stderr.contains(&format!("(tests/test_api.py:{line})")),
        "{stderr}"
    );

    // Lines added above the skip in a later commit move it; nothing re-audits the file (the
    // commit is made but not audited), yet the gate and `inbox` place it where it is now.
    repo.write(
        "tests/test_api.py",
        "import pytest\n# one\n# two\n\n@pytest.mark.skip(reason='flaky')\ndef test_get():\n    assert get() == 1\n",
    );
    repo.commit("comments");
    let (_, stderr) = gate(&repo, "HIGH");
    assert!(
        stderr.contains(&format!("(tests/test_api.py:{})", line + 2)),
        "{stderr}"
    );
    let listed = repo.auditor().args(["inbox"]).output().expect("inbox");
    let listed = String::from_utf8_lossy(&listed.stdout).into_owned();
    assert!(
        listed.contains(&format!("[tests/test_api.py:{}]", line + 2)),
        "{listed}"
    );
    audit(&repo, &cfg);

    // Unfixed for three more commits: CRITICAL, and the agent reads so in the file's name
    // and title, not only in its status block.
    for i in 0..3 {
        repo.write(&format!("other{i}.txt"), "work\n");
        repo.commit(&format!("unrelated {i}"));
        audit(&repo, &cfg);
    }
    let files = issue_files(&repo, "tasks/supervisor_feedback");
    assert_eq!(files.len(), 1, "{files:?}");
    let name = files[0].to_string_lossy().into_owned();
    assert!(name.ends_with(&format!("_CRITICAL_{id}.md")), "{name}");
    let text = std::fs::read_to_string(&files[0]).expect("file");
    assert!(
        text.starts_with("# Supervisor Feedback: [CRITICAL] "),
        "{text}"
    );
    assert!(
        text.contains("**Escalated** to CRITICAL (was HIGH)"),
        "{text}"
    );
    let inbox = read(&repo, "tasks/supervisor_feedback/INBOX.md");
    let file_name = files[0]
        .file_name()
        .expect("name")
        .to_string_lossy()
        .into_owned();
    assert!(inbox.contains(&format!("[CRITICAL] {id}")), "{inbox}");
    assert!(inbox.contains(&file_name), "{inbox}");
    let hooks = read(&repo, ".git/hooks.log");
    assert!(
        hooks.contains(&format!("escalation {id} CRITICAL")),
        "{hooks}"
    );
}

/// Seen dogfooding pallets/click: a lint in a file the agent then deleted stayed open for
/// ever (the linter only looks at files that exist), in INBOX.md, pointing at nothing.
#[test]
fn an_issue_in_a_file_the_commit_deletes_is_resolved_whatever_its_check() {
    let repo = TestRepo::new();
    let cfg = config(
        &repo,
        "[[check]]\nname = \"ruff\"\ncommand = [\"ruff\", \"check\", \"--no-fix\", \"--output-format\", \"json\", \"{files}\"]\nfiles = [\"*.py\"]\nformat = \"ruff\"\n",
    );
    repo.write("README.md", "hi\n");
    repo.commit("initial");
    audit(&repo, &cfg);
    repo.write("keys.py", "import os\n\nX = 1\n");
    repo.commit("keys");
    let r = audit(&repo, &cfg);
    let lint = issue_of(&r, "LINT");
    assert_eq!(lint["file"], "keys.py", "{r}");
    let id = lint["id"].as_str().expect("id").to_string();
    std::fs::remove_file(repo.path().join("keys.py")).expect("rm");
    repo.git(&["add", "-A"]);
    let gone = repo.commit("drop keys");
    let r = audit(&repo, &cfg);
    assert_eq!(r["resolved"][0]["id"], id.as_str(), "{r}");
    assert_eq!(r["resolved"][0]["resolved_in"], gone.as_str());
    assert!(read(&repo, "tasks/supervisor_feedback/INBOX.md").contains("No open issues"));
}
