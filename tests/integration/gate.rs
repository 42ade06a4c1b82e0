//! `auditor gate` under Claude Code's hook contract, with the documented inputs on stdin:
//! exit 2 only for open blocking issues, 1 for the gate's own errors, a Stop hook that lets go
//! after blocking the same issues a bounded number of times (and tells the operator), the open
//! issues printed for SessionStart and UserPromptSubmit.

use std::process::Stdio;
use std::time::{Duration, Instant};

use crate::support::{TestRepo, aws_key};

/// Runs the gate with `input` on stdin: (exit code, stdout, stderr).
fn gate_with(repo: &TestRepo, args: &[&str], input: &str) -> (i32, String, String) {
    let out = repo
        .auditor()
        .arg("gate")
        .args(args)
        .write_stdin(input)
        .output()
        .expect("gate");
    (
        out.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

const STOP: &str = r#"{"session_id":"s1","transcript_path":"/tmp/t.jsonl","hook_event_name":"Stop","stop_hook_active":false}"#;
const STOP_AGAIN: &str = r#"{"session_id":"s1","transcript_path":"/tmp/t.jsonl","hook_event_name":"Stop","stop_hook_active":true}"#;

/// A repository whose last audit left a CRITICAL leaked key open, with an `on_escalate` hook
/// that logs to `.git/escalations.log`.
fn leaked() -> TestRepo {
    let repo = TestRepo::new();
    repo.write("README.md", "hi\n");
    repo.commit("initial");
    repo.write(
        "auditor.toml",
        "[hooks]\non_escalate = [\"sh\", \"-c\", \"echo \\\"$AUDITOR_EVENT $AUDITOR_ISSUE_ID\\\" >> .git/escalations.log\"]\n",
    );
    repo.write("deploy.py", format!("KEY = \"{}\"\n", aws_key()));
    repo.commit("add deploy");
    let (code, _, out) = repo.audit_json(&["--no-tests"]);
    assert_eq!(code, 1, "{out}");
    repo
}

#[test]
fn a_stop_hook_blocks_the_same_issues_a_bounded_number_of_times_then_tells_the_operator() {
    let repo = leaked();
    let (code, _, stderr) = gate_with(&repo, &[], STOP);
    assert_eq!(code, 2, "{stderr}");
    assert!(stderr.contains("SEC-001"), "{stderr}");
    // The agent continues because of the block and stops again: blocked twice more (the
    // default `policy.gate_stop_blocks` is 3), then let through.
    for n in 2..=3 {
        let (code, _, stderr) = gate_with(&repo, &[], STOP_AGAIN);
        assert_eq!(code, 2, "block {n}: {stderr}");
    }
    let (code, _, stderr) = gate_with(&repo, &[], STOP_AGAIN);
    assert_eq!(code, 0, "{stderr}");
    assert!(stderr.contains("letting this one through"), "{stderr}");
    let escalations =
        std::fs::read_to_string(repo.path().join(".git/escalations.log")).unwrap_or_default();
    assert_eq!(escalations, "gate-released SEC-001\n");
    let events =
        std::fs::read_to_string(repo.path().join("logs/audit/events.jsonl")).unwrap_or_default();
    assert!(events.contains("gate_released"), "{events}");
    // A new turn that stops is blocked again: the issue is still open.
    let (code, _, _) = gate_with(&repo, &[], STOP);
    assert_eq!(code, 2);
    // Without a hook system (or a hook that sends nothing), open issues always block.
    for _ in 0..4 {
        assert_eq!(gate_with(&repo, &[], "").0, 2);
    }
}

#[test]
fn session_start_and_prompts_get_the_open_issues_as_context() {
    let repo = leaked();
    for event in ["SessionStart", "UserPromptSubmit"] {
        let input =
            format!(r#"{{"session_id":"s1","hook_event_name":"{event}","prompt":"go on"}}"#);
        let (code, stdout, stderr) = gate_with(&repo, &[], &input);
        assert_eq!(code, 0, "{event}: {stderr}");
        let answer: serde_json::Value = serde_json::from_str(&stdout).expect("JSON");
        assert_eq!(answer["hookSpecificOutput"]["hookEventName"], event);
        let context = answer["hookSpecificOutput"]["additionalContext"]
            .as_str()
            .unwrap_or_default();
        assert!(
            context.contains("[CRITICAL] SEC-001") && context.contains("deploy.py"),
            "{event}: {stdout}"
        );
    }
}

#[test]
fn the_gates_own_errors_exit_1_and_never_block() {
    let repo = leaked();
    // A typo in the hook's command line, a repository that is not there, a bad severity.
    let (code, _, stderr) = gate_with(&repo, &["--max-severty", "HIGH"], STOP);
    assert_eq!(code, 1, "{stderr}");
    let missing = repo.path().join("no-such-dir");
    let (code, _, stderr) = gate_with(&repo, &["--repo", &missing.to_string_lossy()], STOP);
    assert_eq!(code, 1, "{stderr}");
    let (code, _, stderr) = gate_with(&repo, &["--max-severity", "SEVERE"], STOP);
    assert_eq!(code, 1, "{stderr}");
    assert!(stderr.contains("auditor gate:"), "{stderr}");
}

#[test]
fn a_stdin_left_open_and_silent_does_not_hold_the_gate() {
    let repo = leaked();
    let mut child = std::process::Command::new(assert_cmd::cargo::cargo_bin("auditor"))
        .arg("gate")
        .current_dir(repo.path())
        .env_clear()
        .env("PATH", std::env::var_os("PATH").unwrap_or_default())
        .env("HOME", repo.path())
        .stdin(Stdio::piped())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("gate");
    let started = Instant::now();
    let status = loop {
        if let Some(status) = child.try_wait().expect("wait") {
            break status;
        }
        assert!(
            started.elapsed() < Duration::from_secs(10),
            "the gate hangs on stdin"
        );
        std::thread::sleep(Duration::from_millis(20));
    };
    // Still the plain gate: the open CRITICAL blocks.
    assert_eq!(status.code(), Some(2));
    drop(child.stdin.take());
}

/// A commit the agent just made, and the PostToolUse hook on it: the gate waits for the
/// daemon's verdict on that commit (not the last one before it) and blocks on its leak.
#[test]
fn after_a_commit_the_gate_waits_for_its_verdict() {
    let repo = TestRepo::new();
    repo.write(
        "auditor.toml",
        "[watch]\ndebounce = \"100ms\"\n\n[[check]]\nname = \"slow\"\nstage = \"test\"\ncommand = [\"sleep\", \"1\"]\nformat = \"exit-code\"\n",
    );
    repo.write("README.md", "hi\n");
    repo.commit("initial");
    let w = repo.watch(&[]);
    w.wait_settled(30);
    repo.write("deploy.py", format!("KEY = \"{}\"\n", aws_key()));
    repo.commit("add deploy");
    let committed = r#"{"session_id":"s1","hook_event_name":"PostToolUse","tool_name":"Bash","tool_input":{"command":"git add -A && git commit -m 'add deploy'"},"tool_response":{"stdout":"","stderr":""}}"#;
    let (code, _, stderr) = gate_with(&repo, &["--wait", "30s"], committed);
    assert_eq!(code, 2, "{stderr}\n{}", w.output());
    assert!(stderr.contains("SEC-001"), "{stderr}");
    assert!(!stderr.contains("not audited yet"), "{stderr}");
}

/// While the previous commit's tests still run, the fast lane's verdict on the new commit is
/// what the PostToolUse hook waits for: a leak blocks in well under the wait, with file:line.
#[test]
fn after_a_commit_during_long_tests_the_gate_blocks_on_the_fast_lanes_verdict() {
    let repo = TestRepo::new();
    repo.write(
        "auditor.toml",
        "[watch]\ndebounce = \"100ms\"\n\n[[check]]\nname = \"slow\"\nstage = \"test\"\ncommand = [\"sleep\", \"3132\"]\nformat = \"exit-code\"\n",
    );
    repo.write("README.md", "hi\n");
    repo.commit("initial");
    let w = repo.watch(&[]);
    w.wait_event(20, "transition", |e| e["details"]["to"] == "TESTING");
    repo.write("deploy.py", format!("\nKEY = \"{}\"\n", aws_key()));
    repo.commit("add deploy");
    let committed = r#"{"session_id":"s1","hook_event_name":"PostToolUse","tool_name":"Bash","tool_input":{"command":"git commit -am 'add deploy'"},"tool_response":{"stdout":"","stderr":""}}"#;
    let started = Instant::now();
    let (code, _, stderr) = gate_with(&repo, &["--wait", "30s"], committed);
    assert_eq!(code, 2, "{stderr}\n{}", w.output());
    assert!(
        started.elapsed() < Duration::from_secs(5),
        "{:?}",
        started.elapsed()
    );
    assert!(
        stderr.contains("SEC-001") && stderr.contains("(deploy.py:2)"),
        "{stderr}"
    );
    assert!(!stderr.contains("not audited yet"), "{stderr}");
}

/// Without a daemon, nothing will audit HEAD: the gate says its verdict is an older one.
#[test]
fn without_a_daemon_the_gate_says_head_is_not_audited() {
    let repo = TestRepo::new();
    repo.write("README.md", "hi\n");
    repo.commit("initial");
    repo.audit_json(&["--no-tests"]);
    repo.write("b.txt", "b\n");
    repo.commit("more");
    let started = Instant::now();
    let (code, _, stderr) = gate_with(&repo, &[], STOP);
    assert_eq!(code, 0, "{stderr}");
    assert!(stderr.contains("has not been audited"), "{stderr}");
    assert!(
        started.elapsed() < Duration::from_secs(5),
        "it waited for no daemon"
    );
}
