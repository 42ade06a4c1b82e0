//! The shipped examples run or parse: the tmux session script, the crontab line, the systemd
//! unit.

use std::path::PathBuf;
use std::process::Command;

use crate::support::{TestRepo, eventually, pids_matching};

fn example(name: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("examples")
        .join(name)
}

fn binary() -> PathBuf {
    assert_cmd::cargo::cargo_bin("auditor")
}

/// PATH with the built binary first, as after `cargo install`.
fn path_with_binary() -> String {
    let dir = binary().parent().expect("bin dir").to_path_buf();
    format!(
        "{}:{}",
        dir.display(),
        std::env::var("PATH").unwrap_or_default()
    )
}

fn healthy(repo: &TestRepo) -> bool {
    repo.auditor()
        .args(["status", "--short"])
        .output()
        .is_ok_and(|o| o.status.success())
}

fn daemons(repo: &TestRepo) -> Vec<u32> {
    let repo_arg = format!("--repo {}", repo.path().display());
    pids_matching(&["auditor", " watch ", &repo_arg])
}

fn repo() -> TestRepo {
    let repo = TestRepo::new();
    repo.write("README.md", "hi\n");
    repo.commit("initial");
    repo
}

/// Runs examples/tmux.sh detached on `repo` (the agent: a long sleep) in session `session`
/// of the tmux server whose sockets are in `sockets`.
fn tmux_sh(repo: &TestRepo, sockets: &std::path::Path, session: &str) -> std::process::Output {
    Command::new("bash")
        .arg(example("tmux.sh"))
        .arg(repo.path())
        .args(["sleep", "600"])
        .env("PATH", path_with_binary())
        .env("TMUX_TMPDIR", sockets)
        // The snapshot stays out of the real cache folder.
        .env("HOME", repo.path())
        .env_remove("TMUX")
        .env("AUDITOR_TMUX_SESSION", session)
        .env("AUDITOR_TMUX_DETACHED", "1")
        .output()
        .expect("run tmux.sh")
}

struct KillTmux(PathBuf);

impl Drop for KillTmux {
    fn drop(&mut self) {
        let _ = Command::new("tmux")
            .arg("kill-server")
            .env("TMUX_TMPDIR", &self.0)
            .stderr(std::process::Stdio::null())
            .status();
    }
}

#[test]
fn tmux_sh_starts_the_agent_and_the_auditor_side_by_side() {
    let repo = repo();
    let sockets = tempfile::tempdir().expect("tempdir");
    let _cleanup = KillTmux(sockets.path().to_path_buf());
    let out = tmux_sh(&repo, sockets.path(), "auditor-example-test");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(
        eventually(20, || healthy(&repo)),
        "the auditor pane's daemon is not healthy"
    );
    let panes = Command::new("tmux")
        .args([
            "list-panes",
            "-t",
            "auditor-example-test:work",
            "-F",
            "#{pane_current_command}",
        ])
        .env("TMUX_TMPDIR", sockets.path())
        .output()
        .expect("list panes");
    let panes = String::from_utf8_lossy(&panes.stdout).into_owned();
    assert_eq!(panes.lines().count(), 2, "{panes}");
    assert!(
        panes.contains("sleep") && panes.contains("auditor"),
        "{panes}"
    );
    let tmux = |args: &[&str]| {
        let out = Command::new("tmux")
            .args(args)
            .env("TMUX_TMPDIR", sockets.path())
            .output()
            .expect("tmux");
        String::from_utf8_lossy(&out.stdout).trim().to_string()
    };
    // Started detached, the auditor's pane is still wide enough for its live view.
    let width: u32 = tmux(&[
        "display-message",
        "-p",
        "-t",
        "auditor-example-test:work.1",
        "#{pane_width}",
    ])
    .parse()
    .expect("a width");
    assert!(width >= 60, "the auditor's pane is {width} columns");
    // The status bar names the binary, whatever PATH the tmux server has.
    let status_right = tmux(&[
        "show-options",
        "-v",
        "-t",
        "auditor-example-test",
        "status-right",
    ]);
    assert!(
        status_right.contains(&format!("'{}' status --short", binary().display())),
        "{status_right}"
    );
    // A second script on the same repository says a daemon watches it, and fails.
    let again = tmux_sh(&repo, sockets.path(), "auditor-example-test-2");
    let stderr = String::from_utf8_lossy(&again.stderr);
    assert_eq!(again.status.code(), Some(1), "{stderr}");
    assert!(stderr.contains("already watches"), "{stderr}");
    assert!(tmux(&["list-sessions", "-F", "#{session_name}"]) == "auditor-example-test");
    // Closing the session hangs up the pane's terminal: the daemon stops instead of lingering.
    let _ = Command::new("tmux")
        .args(["kill-session", "-t", "auditor-example-test"])
        .env("TMUX_TMPDIR", sockets.path())
        .status();
    assert!(
        eventually(15, || daemons(&repo).is_empty()),
        "the daemon outlived its tmux pane"
    );
}

#[test]
fn the_crontab_line_runs_the_watchdog() {
    let repo = repo();
    let text = std::fs::read_to_string(example("crontab")).expect("crontab");
    let active: Vec<&str> = text
        .lines()
        .filter(|l| !l.trim().is_empty() && !l.trim_start().starts_with('#'))
        .collect();
    assert_eq!(active.len(), 1, "{active:?}");
    let fields: Vec<&str> = active[0].splitn(6, ' ').collect();
    assert_eq!(&fields[..5], ["*", "*", "*", "*", "*"], "every minute");
    let command = fields[5]
        .replace("$HOME/.cargo/bin/auditor", &binary().to_string_lossy())
        .replace("/path/to/repo", &repo.path().to_string_lossy());
    // Cron's environment is minimal.
    let out = Command::new("sh")
        .args(["-c", &command])
        .env_clear()
        .env("PATH", "/usr/bin:/bin")
        .env("HOME", repo.path())
        .output()
        .expect("run the cron line");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(eventually(10, || healthy(&repo)));
    let stop = repo.auditor().arg("stop").output().expect("stop");
    assert!(stop.status.success());
    assert!(eventually(10, || daemons(&repo).is_empty()));
}

#[test]
fn the_systemd_unit_verifies() {
    let repo = repo();
    let dir = tempfile::tempdir().expect("tempdir");
    let unit = std::fs::read_to_string(example("auditor.service"))
        .expect("unit")
        .replace("%h/.cargo/bin/auditor", &binary().to_string_lossy())
        .replace("/path/to/repo", &repo.path().to_string_lossy());
    assert!(unit.contains(" watch --repo "), "{unit}");
    let path = dir.path().join("auditor.service");
    std::fs::write(&path, unit).expect("write unit");
    let out = Command::new("systemd-analyze")
        .arg("verify")
        .arg(&path)
        .output()
        .expect("systemd-analyze (installed by tests/run_tests.sh)");
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "{stderr}");
    assert!(
        !stderr.contains("auditor.service"),
        "systemd-analyze complained about the unit: {stderr}"
    );
}

/// The command of the first hook on `event` in a hook system's settings.
fn hook_command(settings: &serde_json::Value, event: &str) -> String {
    assert_eq!(settings["hooks"][event][0]["hooks"][0]["type"], "command");
    settings["hooks"][event][0]["hooks"][0]["command"]
        .as_str()
        .unwrap_or_else(|| panic!("a {event} hook command"))
        .to_string()
}

/// Runs a hook's command as the agents do: through a shell, with the project directory in
/// `project_var`, the event's JSON on stdin.
fn run_hook(
    command: &str,
    project_var: &str,
    repo: &TestRepo,
    input: &str,
) -> std::process::Output {
    run_hook_in(
        command,
        &[(project_var, repo.path())],
        &std::env::temp_dir(),
        input,
    )
}

/// Runs a hook's command through a shell in `cwd`, with `vars`, the event's JSON on stdin.
fn run_hook_in(
    command: &str,
    vars: &[(&str, &std::path::Path)],
    cwd: &std::path::Path,
    input: &str,
) -> std::process::Output {
    use std::io::Write;
    let mut child = Command::new("sh")
        .args(["-c", command])
        .env("PATH", path_with_binary())
        .envs(vars.iter().map(|(k, v)| (*k, *v)))
        .env("HOME", cwd)
        .current_dir(cwd)
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .expect("run the hook");
    if let Some(mut stdin) = child.stdin.take() {
        stdin.write_all(input.as_bytes()).expect("hook input");
    }
    child.wait_with_output().expect("the hook's output")
}

/// Commits a leaked key in `leak.py` and audits it: SEC-001 is open, CRITICAL, at leak.py:1.
fn leak_and_audit(repo: &TestRepo) {
    repo.write(
        "leak.py",
        format!("K = \"{}\"\n", crate::support::aws_key()),
    );
    repo.commit("leak");
    repo.audit_json(&["--no-tests"]);
}

fn settings_of(name: &str) -> serde_json::Value {
    serde_json::from_str(&std::fs::read_to_string(example(name)).expect("settings"))
        .expect("valid JSON")
}

/// A context event's answer: exit 0, and the open issues' list in its JSON's context.
fn assert_context_lists(out: &std::process::Output, event: &str, needle: &str) {
    assert_eq!(out.status.code(), Some(0), "{event}");
    let context = additional_context(out);
    assert!(context.contains(needle), "{event}: {context}");
}

/// The additional context a JSON answer on stdout carries.
fn additional_context(out: &std::process::Output) -> String {
    let answer: serde_json::Value =
        serde_json::from_slice(&out.stdout).expect("a JSON answer on stdout");
    answer["hookSpecificOutput"]["additionalContext"]
        .as_str()
        .unwrap_or_default()
        .to_string()
}

#[test]
fn the_claude_code_hooks_keep_its_contract_with_its_documented_inputs() {
    let repo = repo();
    let settings = settings_of("claude-code-settings.json");
    let hook = |event: &str, input: String| {
        run_hook(
            &hook_command(&settings, event),
            "CLAUDE_PROJECT_DIR",
            &repo,
            &input,
        )
    };
    let stop = |active: bool| {
        format!(
            r#"{{"session_id":"s","transcript_path":"/tmp/t.jsonl","cwd":"{}","hook_event_name":"Stop","stop_hook_active":{active}}}"#,
            repo.path().display()
        )
    };
    assert_eq!(
        hook("Stop", stop(false)).status.code(),
        Some(0),
        "nothing open yet"
    );
    leak_and_audit(&repo);
    let out = hook("Stop", stop(false));
    assert_eq!(
        out.status.code(),
        Some(2),
        "Claude Code blocks only on exit 2"
    );
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.contains("SEC-001") && stderr.contains("[CRITICAL]"),
        "{stderr}"
    );
    // Continuing because of the block, the agent stops again: blocked up to the bound, then
    // let through (the operator is told) rather than looped forever.
    let codes: Vec<Option<i32>> = (0..3)
        .map(|_| hook("Stop", stop(true)).status.code())
        .collect();
    assert_eq!(codes, [Some(2), Some(2), Some(0)]);
    // After a `git commit` through the Bash tool, the verdict of that commit reaches the model.
    assert_eq!(settings["hooks"]["PostToolUse"][0]["matcher"], "Bash");
    let tool_use = |command: &str| {
        format!(
            r#"{{"session_id":"s","cwd":"{}","hook_event_name":"PostToolUse","tool_name":"Bash","tool_input":{{"command":"{command}"}},"tool_response":{{}}}}"#,
            repo.path().display()
        )
    };
    let out = hook("PostToolUse", tool_use("git commit -m leak"));
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("SEC-001"));
    // Another Bash command is no commit and no moment to repeat the open issues.
    let out = hook("PostToolUse", tool_use("ls"));
    assert_eq!(out.status.code(), Some(0));
    assert!(out.stderr.is_empty() && out.stdout.is_empty(), "{out:?}");
    // A session starts, a prompt is submitted: the open issues join the context.
    for event in ["SessionStart", "UserPromptSubmit"] {
        let input = format!(
            r#"{{"session_id":"s","transcript_path":"/tmp/t.jsonl","cwd":"{}","hook_event_name":"{event}","source":"startup","prompt":"continue"}}"#,
            repo.path().display()
        );
        assert_context_lists(&hook(event, input), event, "[CRITICAL] SEC-001");
    }
}

/// Gemini CLI's hooks (`.gemini/settings.json`): `AfterAgent` retries the turn on exit 2 with
/// stderr as the prompt and says `stop_hook_active` on a retry; `SessionStart` and
/// `BeforeAgent` take context from the JSON on stdout (the only thing it may print).
#[test]
fn the_gemini_cli_hooks_keep_its_contract_with_its_documented_inputs() {
    let repo = repo();
    let settings = settings_of("gemini-settings.json");
    let hook = |event: &str, input: String| {
        run_hook(
            &hook_command(&settings, event),
            "GEMINI_PROJECT_DIR",
            &repo,
            &input,
        )
    };
    let base = |event: &str| {
        format!(
            r#""session_id":"s","transcript_path":"/tmp/t.json","cwd":"{}","hook_event_name":"{event}","timestamp":"2026-12-04T20:00:00Z""#,
            repo.path().display()
        )
    };
    let session = format!(r#"{{{},"source":"startup"}}"#, base("SessionStart"));
    let out = hook("SessionStart", session.clone());
    assert_eq!(out.status.code(), Some(0));
    assert_eq!(
        String::from_utf8_lossy(&out.stdout).trim(),
        "{}",
        "nothing open: an empty answer"
    );
    leak_and_audit(&repo);
    let after_agent = |active: bool| {
        format!(
            r#"{{{},"prompt":"add deploy","prompt_response":"done","stop_hook_active":{active}}}"#,
            base("AfterAgent")
        )
    };
    let out = hook("AfterAgent", after_agent(false));
    assert_eq!(out.status.code(), Some(2), "exit 2 retries the turn");
    assert!(String::from_utf8_lossy(&out.stderr).contains("SEC-001"));
    let codes: Vec<Option<i32>> = (0..3)
        .map(|_| hook("AfterAgent", after_agent(true)).status.code())
        .collect();
    assert_eq!(codes, [Some(2), Some(2), Some(0)]);
    assert_eq!(
        settings["hooks"]["AfterTool"][0]["matcher"],
        "run_shell_command"
    );
    let shell = format!(
        r#"{{{},"tool_name":"run_shell_command","tool_input":{{"command":"git commit -am leak"}},"tool_response":{{}}}}"#,
        base("AfterTool")
    );
    assert_eq!(hook("AfterTool", shell).status.code(), Some(2));
    for (event, input) in [
        ("SessionStart", session),
        (
            "BeforeAgent",
            format!(r#"{{{},"prompt":"go on"}}"#, base("BeforeAgent")),
        ),
    ] {
        assert_context_lists(&hook(event, input), event, "[CRITICAL] SEC-001");
    }
}

#[test]
fn tmux_sh_says_why_the_auditor_could_not_start_instead_of_reporting_success() {
    let repo = repo();
    repo.write("auditor.toml", "[watch]\ndebounce = 12\n");
    let sockets = tempfile::tempdir().expect("tempdir");
    let _cleanup = KillTmux(sockets.path().to_path_buf());
    let out = tmux_sh(&repo, sockets.path(), "auditor-example-broken");
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "{stderr}");
    assert!(
        stderr.contains("auditor watch exited in its pane"),
        "{stderr}"
    );
    assert!(stderr.contains("auditor.toml"), "{stderr}");
}

#[test]
fn the_mcp_example_starts_auditor_mcp() {
    let text = std::fs::read_to_string(example("mcp.json")).expect("mcp.json");
    let v: serde_json::Value = serde_json::from_str(&text).expect("JSON");
    let server = &v["mcpServers"]["auditor"];
    assert_eq!(server["command"], "auditor");
    assert_eq!(server["args"], serde_json::json!(["mcp"]));
    // The command it names answers an initialize on stdin and exits when stdin closes.
    let repo = repo();
    let init = r#"{"jsonrpc":"2.0","id":1,"method":"initialize","params":{"protocolVersion":"2025-06-18","capabilities":{},"clientInfo":{"name":"t","version":"1"}}}"#;
    let out = Command::new(binary())
        .args(["mcp"])
        .current_dir(repo.path())
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .spawn()
        .and_then(|mut child| {
            use std::io::Write;
            let mut stdin = child.stdin.take().expect("stdin");
            writeln!(stdin, "{init}")?;
            drop(stdin);
            child.wait_with_output()
        })
        .expect("auditor mcp");
    assert!(out.status.success(), "{out:?}");
    let answer: serde_json::Value =
        serde_json::from_slice(out.stdout.split(|b| *b == b'\n').next().expect("a line"))
            .expect("a JSON-RPC answer");
    assert_eq!(answer["id"], 1);
    assert_eq!(
        answer["result"]["serverInfo"]["name"], "auditor",
        "{answer}"
    );
}

/// Codex's hooks (`.codex/hooks.json`), which run in the session's directory: Claude Code's
/// contract (exit 2 and stderr for `Stop` and `PostToolUse`, JSON `additionalContext` for
/// `SessionStart` and `UserPromptSubmit`) with Codex's own inputs (`turn_id`, `model`...).
#[test]
fn the_codex_hooks_keep_its_contract_with_its_documented_inputs() {
    let repo = repo();
    let settings = settings_of("codex-hooks.json");
    let keys: Vec<&String> = settings.as_object().expect("object").keys().collect();
    assert!(
        keys.iter().all(|k| *k == "description" || *k == "hooks"),
        "Codex rejects other top-level keys: {keys:?}"
    );
    let hook = |event: &str, input: String| {
        run_hook_in(&hook_command(&settings, event), &[], repo.path(), &input)
    };
    let base = |event: &str| {
        format!(
            r#""session_id":"s","turn_id":"t1","transcript_path":null,"cwd":"{}","hook_event_name":"{event}","model":"gpt-5","permission_mode":"default""#,
            repo.path().display()
        )
    };
    let stop = |active: bool| {
        format!(
            r#"{{{},"stop_hook_active":{active},"last_assistant_message":"done"}}"#,
            base("Stop")
        )
    };
    let out = hook("Stop", stop(false));
    assert_eq!(out.status.code(), Some(0));
    assert!(
        out.stdout.is_empty(),
        "a Stop hook's stdout must be empty or JSON: {out:?}"
    );
    leak_and_audit(&repo);
    let out = hook("Stop", stop(false));
    assert_eq!(
        out.status.code(),
        Some(2),
        "exit 2 continues the turn with stderr"
    );
    assert!(String::from_utf8_lossy(&out.stderr).contains("SEC-001"));
    let codes: Vec<Option<i32>> = (0..3)
        .map(|_| hook("Stop", stop(true)).status.code())
        .collect();
    assert_eq!(codes, [Some(2), Some(2), Some(0)]);
    assert_eq!(settings["hooks"]["PostToolUse"][0]["matcher"], "Bash");
    let tool = |command: &str| {
        format!(
            r#"{{{},"tool_name":"Bash","tool_input":{{"command":"{command}"}},"tool_response":"ok","tool_use_id":"call-1"}}"#,
            base("PostToolUse")
        )
    };
    let out = hook("PostToolUse", tool("git commit -m leak"));
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("SEC-001"));
    assert_eq!(
        hook("PostToolUse", tool("cargo build")).status.code(),
        Some(0)
    );
    for (event, extra) in [
        ("SessionStart", r#""source":"startup""#),
        ("UserPromptSubmit", r#""prompt":"go on""#),
    ] {
        let out = hook(event, format!("{{{},{extra}}}", base(event)));
        assert_context_lists(&out, event, "[CRITICAL] SEC-001");
    }
}

/// Cursor's `stop` hook (`.cursor/hooks.json`, run from the project root): a block is a
/// `followup_message` in JSON on stdout, sent back as the agent's next message; its
/// `loop_count` bounds the loop like `stop_hook_active`.
#[test]
fn the_cursor_stop_hook_keeps_its_contract_with_its_documented_input() {
    let repo = repo();
    let settings = settings_of("cursor-hooks.json");
    assert_eq!(settings["version"], 1);
    let command = settings["hooks"]["stop"][0]["command"]
        .as_str()
        .expect("a stop command")
        .to_string();
    let stop = |loops: u32| {
        let input = format!(
            r#"{{"conversation_id":"c1","generation_id":"g1","model":"claude","hook_event_name":"stop","cursor_version":"2.0.77","workspace_roots":["{}"],"user_email":null,"status":"completed","loop_count":{loops}}}"#,
            repo.path().display()
        );
        run_hook_in(&command, &[], repo.path(), &input)
    };
    let answer = |out: &std::process::Output| -> serde_json::Value {
        assert_eq!(out.status.code(), Some(0), "{out:?}");
        serde_json::from_slice(&out.stdout).expect("a JSON answer")
    };
    assert_eq!(answer(&stop(0)), serde_json::json!({}), "nothing open");
    leak_and_audit(&repo);
    let first = answer(&stop(0));
    let message = first["followup_message"].as_str().expect("a follow-up");
    assert!(
        message.contains("SEC-001") && message.contains("leak.py:1"),
        "{message}"
    );
    assert!(!message.contains(&crate::support::aws_key()));
    let follow_ups: Vec<bool> = (1..4)
        .map(|n| answer(&stop(n)).get("followup_message").is_some())
        .collect();
    assert_eq!(follow_ups, [true, true, false], "bounded, then let through");
}

/// Aider's `.aider.conf.yml`: the test command Aider runs after each change (in the
/// repository, no input) fails with the open blocking issues, and the inbox it reads exists.
#[test]
fn the_aider_config_runs_the_gate_as_its_test_command() {
    let repo = repo();
    let text = std::fs::read_to_string(example("aider.conf.yml")).expect("aider.conf.yml");
    let value = |key: &str| {
        text.lines()
            .filter(|l| !l.trim_start().starts_with('#'))
            .find_map(|l| l.strip_prefix(&format!("{key}: ")))
            .unwrap_or_else(|| panic!("{key} in aider.conf.yml"))
            .trim()
            .to_string()
    };
    assert_eq!(value("auto-test"), "true");
    let test_cmd = value("test-cmd");
    let run = || run_hook_in(&test_cmd, &[], repo.path(), "");
    assert_eq!(run().status.code(), Some(0), "nothing open");
    leak_and_audit(&repo);
    let out = run();
    assert_ne!(
        out.status.code(),
        Some(0),
        "Aider treats a non-zero exit as failing tests"
    );
    let said = String::from_utf8_lossy(&out.stderr);
    assert!(
        said.contains("SEC-001") && said.contains("leak.py:1"),
        "{said}"
    );
    assert!(repo.path().join(value("read")).is_file());
}

/// The GitHub Actions examples pass actionlint (installed by tests/run_tests.sh; it runs
/// shellcheck on their scripts too), audit the pushed range with SARIF uploaded under a
/// category of their own, and can write to code scanning.
#[test]
fn the_github_actions_examples_pass_actionlint_and_upload_their_sarif() {
    let files = [
        example("github-actions.yml"),
        example("github-actions-history.yml"),
    ];
    let out = Command::new("actionlint")
        .args(&files)
        .output()
        .expect("actionlint (tests/run_tests.sh installs it from PyPI)");
    assert!(
        out.status.success(),
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    for (file, command, category) in [
        (
            &files[0],
            "auditor audit \"$base..HEAD\" --sarif auditor.sarif",
            "auditor-audit",
        ),
        (
            &files[1],
            "auditor scan --history --sarif history.sarif",
            "auditor-history",
        ),
    ] {
        let text = std::fs::read_to_string(file).expect("workflow");
        assert!(
            text.contains("security-events: write"),
            "{}",
            file.display()
        );
        assert!(text.contains(command), "{}", file.display());
        assert!(
            text.contains("github/codeql-action/upload-sarif@"),
            "{}",
            file.display()
        );
        assert!(
            text.contains(&format!("category: {category}")),
            "{}",
            file.display()
        );
        assert!(
            text.contains("if: always()"),
            "uploaded when the audit fails too"
        );
    }
}
