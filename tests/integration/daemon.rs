//! `auditor watch` and its companions, as real daemon processes on real repositories.

use std::time::{Duration, Instant};

use nix::sys::signal::Signal;
use serde_json::Value;

use crate::support::{
    TestRepo, audited_commits, aws_key, eventually, github_token, issue_of, pids_matching,
    process_alive, read_events,
};

/// Fast timings for tests; uncommitted audits off unless a test turns them on.
const FAST: [(&str, &str); 6] = [
    ("debounce", "\"200ms\""),
    ("poll_interval", "\"1s\""),
    ("uncommitted", "false"),
    ("heartbeat", "\"1s\""),
    ("stale_after", "\"3s\""),
    ("uncommitted_quiet", "\"30s\""),
];

/// Writes a config inside `.git/` (outside the working tree, so git status stays clean):
/// the fast `[watch]` timings with `watch` overriding some, then `rest`.
fn config_with(repo: &TestRepo, watch: &[(&str, &str)], rest: &str) -> String {
    let mut text = String::from("[watch]\n");
    for (key, value) in FAST {
        let value = watch
            .iter()
            .find(|(k, _)| *k == key)
            .map_or(value, |(_, v)| *v);
        text.push_str(&format!("{key} = {value}\n"));
    }
    for (key, value) in watch
        .iter()
        .filter(|(k, _)| !FAST.iter().any(|(f, _)| f == k))
    {
        text.push_str(&format!("{key} = {value}\n"));
    }
    text.push_str(rest);
    let path = repo.path().join(".git/auditor-test.toml");
    std::fs::write(&path, text).expect("write config");
    path.to_string_lossy().into_owned()
}

fn config(repo: &TestRepo, rest: &str) -> String {
    config_with(repo, &[], rest)
}

/// A config that audits uncommitted changes after one quiet second.
fn uncommitted_config(repo: &TestRepo) -> String {
    config_with(
        repo,
        &[("uncommitted", "true"), ("uncommitted_quiet", "\"1s\"")],
        "",
    )
}

fn repo_with_commit() -> TestRepo {
    let repo = TestRepo::new();
    repo.write("README.md", "hello\n");
    repo.commit("initial");
    repo
}

fn count(events: &[Value], event_type: &str) -> usize {
    events
        .iter()
        .filter(|e| e["event_type"] == event_type)
        .count()
}

#[test]
fn a_commit_made_with_no_verify_is_detected_by_the_watcher_and_audited() {
    let repo = repo_with_commit();
    // A hook that refuses every commit: agents bypass hooks, so the auditor must not need one.
    repo.write(".git/hooks/pre-commit", "#!/bin/sh\nexit 1\n");
    std::fs::set_permissions(
        repo.path().join(".git/hooks/pre-commit"),
        std::os::unix::fs::PermissionsExt::from_mode(0o755),
    )
    .expect("chmod");
    let cfg = config(&repo, "");
    let w = repo.watch(&["--config", &cfg]);
    w.wait_settled(20);
    repo.write("src.txt", "more\n");
    let head = repo.commit("second"); // --no-verify
    let detected = w.wait_event(20, "change_detected", |e| e["commit"] == head.as_str());
    assert_eq!(detected["details"]["source"], "inotify", "{detected}");
    w.wait_event(20, "audit_finished", |e| e["commit"] == head.as_str());
    assert!(
        repo.path()
            .join(format!("logs/audit/report_{head}.json"))
            .is_file()
    );
    // The page for the person follows each audit.
    let page = std::fs::read_to_string(repo.path().join("logs/audit/index.html"))
        .expect("the daemon keeps logs/audit/index.html");
    assert!(page.contains(&format!("{} second", &head[..7])), "{page}");
    // Every transition of the audit is in the log, in the design document's order.
    let path: Vec<String> = w
        .events()
        .iter()
        .filter(|e| e["event_type"] == "transition" && e["commit"] == head.as_str())
        .map(|e| e["details"]["to"].as_str().unwrap_or_default().to_string())
        .collect();
    assert_eq!(
        path,
        [
            "DETECTED_CHANGE",
            "AUDITING",
            "VERIFYING",
            "REPORTING",
            "IDLE"
        ],
        "{path:?}"
    );
    let status = repo
        .auditor()
        .args(["status", "--json"])
        .output()
        .expect("status");
    assert_eq!(status.status.code(), Some(0));
    let v: Value = serde_json::from_slice(&status.stdout).expect("json");
    assert_eq!(v["healthy"], true, "{v}");
    assert_eq!(v["status"]["state"], "IDLE");
    assert_eq!(v["status"]["last_checked"], head.as_str());
    // The daemon wrote only its own, excluded folders.
    assert_eq!(repo.git(&["status", "--porcelain"]), "");
}

#[test]
fn amend_rebase_and_branch_switches_audit_only_what_was_not_audited() {
    let repo = repo_with_commit();
    // A long debounce: the rebase's intermediate HEADs fall into one batch.
    let cfg = config_with(&repo, &[("debounce", "\"1s\"")], "");
    let w = repo.watch(&["--config", &cfg]);
    w.wait_settled(20);

    // Amend: the old commit is no longer an ancestor.
    repo.write("a.txt", "one\n");
    let first = repo.commit("add a");
    w.wait_event(20, "audit_finished", |e| e["commit"] == first.as_str());
    repo.write("a.txt", "one amended\n");
    repo.git(&["add", "-A"]);
    repo.git(&[
        "commit",
        "-q",
        "--amend",
        "--no-verify",
        "-m",
        "add a (amended)",
    ]);
    let amended = repo.head();
    let rw = w.wait_event(20, "history_rewrite", |e| e["commit"] == amended.as_str());
    assert_eq!(rw["details"]["previous"], first.as_str());
    w.wait_event(20, "audit_finished", |e| e["commit"] == amended.as_str());

    // A branch with two commits, rebased onto a main that moved on.
    repo.git(&["checkout", "-q", "-b", "feature"]);
    repo.write("f1.txt", "1\n");
    repo.commit("f1");
    repo.write("f2.txt", "2\n");
    let f2 = repo.commit("f2");
    w.wait_event(20, "audit_finished", |e| e["commit"] == f2.as_str());
    // Main moves on without being checked out (no HEAD change, nothing to audit)...
    let main_tip = repo
        .git(&[
            "commit-tree",
            "main^{tree}",
            "-p",
            "main",
            "-m",
            "main moves",
        ])
        .trim()
        .to_string();
    repo.git(&["update-ref", "refs/heads/main", &main_tip]);
    // ...and the audited feature branch is rebased onto it.
    repo.git(&["rebase", "-q", "main"]);
    let rebased = repo.head();
    let rw = w.wait_event(20, "history_rewrite", |e| e["commit"] == rebased.as_str());
    assert_eq!(rw["details"]["previous"], f2.as_str(), "{rw}");
    assert_eq!(rw["details"]["merge_base"], amended.as_str(), "{rw}");
    // main's new commit and the two rebased ones.
    assert_eq!(rw["details"]["unaudited_commits"], 3, "{rw}");
    w.wait_event(20, "audit_finished", |e| e["commit"] == rebased.as_str());
    w.wait_settled(20);

    // Switching back and forth between audited commits costs nothing.
    let audits_before = count(&w.events(), "audit_started");
    repo.git(&["checkout", "-q", "main"]);
    w.wait_event(20, "head_moved", |e| e["commit"] == main_tip.as_str());
    repo.git(&["checkout", "-q", "feature"]);
    w.wait_event(20, "head_moved", |e| e["commit"] == rebased.as_str());
    repo.git(&["checkout", "-q", "main"]);
    assert!(eventually(10, || count(&w.events(), "head_moved") >= 3));
    w.wait_settled(20);
    assert_eq!(count(&w.events(), "audit_started"), audits_before);

    // No commit was audited twice.
    let audited = audited_commits(&w.events());
    let mut unique = audited.clone();
    unique.sort();
    unique.dedup();
    assert_eq!(audited.len(), unique.len(), "{audited:?}");
}

#[test]
fn five_commits_in_one_second_are_one_batched_audit() {
    let repo = repo_with_commit();
    let cfg = config_with(&repo, &[("debounce", "\"1500ms\"")], "");
    let w = repo.watch(&["--config", &cfg]);
    w.wait_settled(20);
    let before = count(&w.events(), "audit_started");
    let mut commits = Vec::new();
    for i in 0..5 {
        repo.write(&format!("f{i}.txt"), format!("{i}\n"));
        commits.push(repo.commit(&format!("c{i}")));
    }
    let head = commits[4].clone();
    let started = w.wait_event(20, "audit_started", |e| e["commit"] == head.as_str());
    w.wait_settled(20);
    assert_eq!(count(&w.events(), "audit_started"), before + 1, "one audit");
    let covered: Vec<&str> = started["details"]["commits"]
        .as_array()
        .expect("commits")
        .iter()
        .filter_map(Value::as_str)
        .collect();
    assert_eq!(
        covered,
        commits.iter().map(String::as_str).collect::<Vec<_>>()
    );
    let report = repo.report(&head);
    assert_eq!(report["commits"].as_array().map(Vec::len), Some(5));
}

#[test]
fn a_killed_daemon_resumes_and_audits_missed_commits_exactly_once() {
    let repo = repo_with_commit();
    let cfg = config(&repo, "");
    let w = repo.watch(&["--config", &cfg]);
    w.wait_settled(20);
    w.signal(Signal::SIGKILL);
    drop(w);
    repo.write("x.txt", "x\n");
    let a = repo.commit("while down 1");
    repo.write("y.txt", "y\n");
    let b = repo.commit("while down 2");
    let w = repo.watch(&["--config", &cfg]);
    w.wait_event(20, "audit_finished", |e| e["commit"] == b.as_str());
    w.wait_settled(20);
    let audited = audited_commits(&w.events());
    for c in [&a, &b] {
        assert_eq!(
            audited.iter().filter(|x| x == &c).count(),
            1,
            "{c} in {audited:?}"
        );
    }
    let initial = repo.git(&["rev-parse", "HEAD~2"]).trim().to_string();
    assert_eq!(audited.iter().filter(|x| **x == initial).count(), 1);
    assert_eq!(
        std::fs::read_to_string(repo.path().join("state/supervisor/last_checked_commit"))
            .expect("state"),
        format!("{b}\n")
    );
}

fn sleeping_test_config(repo: &TestRepo, marker: &str) -> String {
    // The test stage starts a grandchild and waits on it: only a group kill ends both.
    config(
        repo,
        &format!(
            r#"
[runner]
grace = "1s"

[[check]]
name = "slow-tests"
stage = "test"
command = ["sh", "-c", "sleep {marker} & sleep {marker}; wait"]
timeout = "10m"
"#
        ),
    )
}

#[test]
fn sigterm_during_a_test_stage_exits_quickly_and_leaves_no_process() {
    let repo = repo_with_commit();
    let marker = "3127";
    let cfg = sleeping_test_config(&repo, marker);
    let mut w = repo.watch(&["--config", &cfg]);
    w.wait_event(20, "transition", |e| e["details"]["to"] == "TESTING");
    assert!(eventually(10, || process_alive(&format!("sleep {marker}"))));
    let sent = Instant::now();
    w.signal(Signal::SIGTERM);
    let status = w.wait_exit(15).expect("the daemon exited");
    let took = sent.elapsed();
    assert!(status.success(), "{status:?}\n{}", w.output());
    assert!(took < Duration::from_secs(5), "took {took:?}");
    assert!(
        eventually(5, || !process_alive(&format!("sleep {marker}"))),
        "a check process survived"
    );
    let events = read_events(repo.path());
    assert!(events.iter().any(|e| e["event_type"] == "shutdown"));
    // The interrupted audit is not recorded: a restart audits the commit again.
    assert!(
        !repo
            .path()
            .join("state/supervisor/last_checked_commit")
            .exists()
    );
    let status: Value = serde_json::from_str(
        &std::fs::read_to_string(repo.path().join("state/supervisor/status.json")).expect("status"),
    )
    .expect("json");
    assert_eq!(status["state"], "STOPPED");
}

#[test]
fn sigkill_during_a_test_stage_takes_the_checks_down_too() {
    let repo = repo_with_commit();
    let marker = "3128";
    let cfg = sleeping_test_config(&repo, marker);
    let w = repo.watch(&["--config", &cfg]);
    w.wait_event(20, "transition", |e| e["details"]["to"] == "TESTING");
    assert!(eventually(10, || process_alive(&format!("sleep {marker}"))));
    w.signal(Signal::SIGKILL);
    drop(w);
    assert!(
        eventually(10, || !process_alive(&format!("sleep {marker}"))),
        "the test suite outlived the SIGKILLed daemon"
    );
}

#[test]
fn a_second_watch_is_refused_with_the_holders_pid() {
    let repo = repo_with_commit();
    let cfg = config(&repo, "");
    let w = repo.watch(&["--config", &cfg]);
    let out = repo
        .auditor()
        .args(["watch", "--config", &cfg])
        .timeout(Duration::from_secs(20))
        .output()
        .expect("second watch");
    assert_eq!(out.status.code(), Some(2));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains(&format!("pid {}", w.pid())), "{stderr}");
}

#[test]
fn skip_audit_is_honoured_recorded_and_limited() {
    let repo = repo_with_commit();
    let cfg = config_with(&repo, &[("max_consecutive_skips", "2")], "");
    let w = repo.watch(&["--config", &cfg]);
    w.wait_settled(20);
    repo.write("s1.txt", "1\n");
    let s1 = repo.commit("generated files [skip-audit]");
    w.wait_event(20, "skip", |e| e["commit"] == s1.as_str());
    w.wait_settled(20);
    // Its linters and tests were skipped; the built-in scanners read it all the same.
    let report = repo.report(&s1);
    assert_eq!(
        report["skipped_commits"][0]["hash"],
        s1.as_str(),
        "{report}"
    );
    assert_eq!(
        crate::support::check(&report, "secrets")["outcome"],
        "passed"
    );

    repo.write("n.txt", "normal\n");
    let normal = repo.commit("normal work");
    w.wait_event(20, "audit_finished", |e| e["commit"] == normal.as_str());
    let report = repo.report(&normal);
    assert_eq!(report["skipped_commits"], serde_json::json!([]), "{report}");

    // Three skips in a row with a limit of two: the third is audited anyway.
    for i in 0..2 {
        repo.write(&format!("k{i}.txt"), "k\n");
        let skipped = repo.commit(&format!("skip {i} [skip-audit]"));
        w.wait_event(20, "skip", |e| e["commit"] == skipped.as_str());
        w.wait_settled(20);
    }
    repo.write("k2.txt", "k\n");
    let forced_commit = repo.commit("skip 2 [skip-audit]");
    w.wait_event(20, "skip_limit", |e| e["commit"] == forced_commit.as_str());
    w.wait_event(20, "audit_finished", |e| {
        e["commit"] == forced_commit.as_str()
    });
    let report = repo.report(&forced_commit);
    let skipped_issue = issue_of(&report, "AUDIT_SKIPPED");
    assert_eq!(skipped_issue["severity"], "MEDIUM");
}

#[test]
fn uncommitted_changes_are_audited_after_the_quiet_period() {
    let repo = repo_with_commit();
    let cfg = uncommitted_config(&repo);
    let w = repo.watch(&["--config", &cfg]);
    w.wait_settled(20);
    let key = aws_key();
    // In a new folder: its file may appear before the watcher watches the folder.
    repo.write("config/deploy.py", format!("KEY = \"{key}\"\n"));
    let done = w.wait_event(20, "audit_finished", |e| {
        e["details"]["uncommitted"] == true
    });
    assert_eq!(done["details"]["status"], "FAIL", "{done}");
    let report = std::fs::read_to_string(repo.path().join("logs/audit/report_uncommitted.json"))
        .expect("uncommitted report");
    assert!(!report.contains(&key), "the secret leaked into the report");
    let inbox: Vec<_> = repo.files_under("tasks/supervisor_feedback");
    let feedback = inbox
        .iter()
        .filter(|p| p.to_string_lossy().contains("_CRITICAL_"))
        .map(|p| std::fs::read_to_string(p).expect("read"))
        .next()
        .expect("a CRITICAL feedback file");
    assert!(feedback.contains("(uncommitted)"), "{feedback}");
    assert!(feedback.contains("Uncommitted changes"), "{feedback}");
    assert!(!feedback.contains(&key));
    // Not committed: worded so, and told to keep it out of the history, not that it is in it.
    assert!(
        feedback.contains("written (not yet committed)"),
        "{feedback}"
    );
    assert!(
        feedback.contains("Remove the value before you commit"),
        "{feedback}"
    );
    assert!(
        !feedback.contains("it is in the git history"),
        "an uncommitted secret is not in the history: {feedback}"
    );
    // The agent's tree is untouched: only its own new file shows.
    assert_eq!(repo.git(&["status", "--porcelain"]), "?? config/\n");
    assert_eq!(repo.git(&["rev-list", "--count", "--all"]).trim(), "1");
    // The same state is not audited twice.
    std::thread::sleep(Duration::from_secs(3));
    let uncommitted_audits = w
        .events()
        .iter()
        .filter(|e| e["event_type"] == "audit_started" && e["details"]["uncommitted"] == true)
        .count();
    assert_eq!(uncommitted_audits, 1);
}

#[test]
fn polling_only_mode_catches_commits_and_uncommitted_changes() {
    let repo = repo_with_commit();
    let cfg = uncommitted_config(&repo);
    let w = repo.watch(&["--config", &cfg, "--poll"]);
    w.wait_settled(20);
    repo.write("p.txt", "p\n");
    let head = repo.commit("polled");
    let detected = w.wait_event(20, "change_detected", |e| e["commit"] == head.as_str());
    assert_eq!(detected["details"]["source"], "poll");
    w.wait_event(20, "audit_finished", |e| e["commit"] == head.as_str());
    let status = repo
        .auditor()
        .args(["status", "--json"])
        .output()
        .expect("status");
    let v: Value = serde_json::from_slice(&status.stdout).expect("json");
    assert_eq!(v["status"]["watcher"], "polling");

    repo.write(
        "notes.py",
        format!("TOKEN = \"{}\"\n", crate::support::github_token()),
    );
    let done = w.wait_event(30, "audit_finished", |e| {
        e["details"]["uncommitted"] == true
    });
    assert_eq!(done["details"]["status"], "FAIL", "{done}");
}

#[test]
fn corrupt_state_files_are_reported_and_recovered_from() {
    let repo = repo_with_commit();
    let state = repo.path().join("state/supervisor");
    std::fs::create_dir_all(&state).expect("mkdir");
    std::fs::write(state.join("last_checked_commit"), "deadbeef\0\0\0garbage").expect("write");
    std::fs::write(state.join("daemon.json"), "{\"schema_version\": 1, \"aud").expect("write");
    std::fs::write(state.join("status.json"), "{ truncated").expect("write");
    let cfg = config(&repo, "");
    let w = repo.watch(&["--config", &cfg]);
    let recovered: Vec<Value> = w
        .events()
        .into_iter()
        .filter(|e| e["event_type"] == "state_recovered")
        .collect();
    assert_eq!(recovered.len(), 2, "{recovered:?}");
    assert!(w.output().contains("moved it to"), "{}", w.output());
    let head = repo.head();
    w.wait_event(20, "audit_finished", |e| e["commit"] == head.as_str());
    repo.write("after.txt", "a\n");
    let next = repo.commit("after recovery");
    w.wait_event(20, "audit_finished", |e| e["commit"] == next.as_str());
}

#[test]
fn the_event_log_rotates_into_gzipped_segments() {
    use std::io::Read;
    let repo = repo_with_commit();
    let cfg = config(&repo, "[events]\nmax_size = \"2KiB\"\n");
    let w = repo.watch(&["--config", &cfg]);
    for i in 0..4 {
        repo.write(&format!("r{i}.txt"), "r\n");
        let head = repo.commit(&format!("rotate {i}"));
        w.wait_event(20, "audit_finished", |e| e["commit"] == head.as_str());
    }
    let segments: Vec<_> = repo
        .files_under("logs/audit")
        .into_iter()
        .filter(|p| p.to_string_lossy().ends_with(".jsonl.gz"))
        .collect();
    assert!(!segments.is_empty(), "no gzipped segment");
    for seg in segments {
        let mut text = String::new();
        flate2::read::GzDecoder::new(std::fs::File::open(&seg).expect("open"))
            .read_to_string(&mut text)
            .expect("gunzip");
        assert!(text.lines().count() > 3);
        for line in text.lines() {
            let v: Value = serde_json::from_str(line).expect("a JSON line");
            assert!(v["event_type"].is_string() && v["event_id"].is_string());
        }
    }
}

#[test]
fn reset_ends_a_wait_for_a_fix_and_sighup_keeps_the_old_config_when_the_new_is_broken() {
    let repo = repo_with_commit();
    let cfg = config(&repo, "");
    let w = repo.watch(&["--config", &cfg]);
    w.wait_settled(20);
    repo.write("leak.py", format!("K = \"{}\"\n", aws_key()));
    let head = repo.commit("leak");
    w.wait_event(20, "transition", |e| e["details"]["to"] == "WAIT_FOR_FIX");
    let short = repo
        .auditor()
        .args(["status", "--short"])
        .output()
        .expect("status");
    let line = String::from_utf8_lossy(&short.stdout).into_owned();
    assert!(
        line.starts_with("auditor: WAIT_FOR_FIX") && line.contains("1C"),
        "{line}"
    );

    let out = repo.auditor().arg("reset").output().expect("reset");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(String::from_utf8_lossy(&out.stdout).contains("IDLE"));
    w.wait_event(10, "transition", |e| {
        e["details"]["from"] == "WAIT_FOR_FIX" && e["details"]["to"] == "IDLE"
    });

    std::fs::write(&cfg, "[watch]\ndebounce = 12\nbogus = true\n").expect("break config");
    w.signal(Signal::SIGHUP);
    let err = w.wait_event(10, "error", |e| e["details"]["what"] == "config_reload");
    let msg = err["details"]["message"].as_str().unwrap_or_default();
    assert!(
        msg.contains("auditor-test.toml") && msg.contains("keeping"),
        "{msg}"
    );
    repo.write("ok.txt", "fine\n");
    let next = repo.commit("still watched");
    w.wait_event(20, "audit_finished", |e| e["commit"] == next.as_str());
    let _ = head;
}

#[test]
fn status_and_stop_without_a_daemon() {
    let repo = repo_with_commit();
    let out = repo
        .auditor()
        .args(["status", "--short"])
        .output()
        .expect("status");
    assert_eq!(out.status.code(), Some(1));
    assert_eq!(
        String::from_utf8_lossy(&out.stdout),
        "auditor: not running\n"
    );
    let out = repo.auditor().arg("stop").output().expect("stop");
    assert_eq!(out.status.code(), Some(0));
}

#[test]
fn stop_ends_the_daemon_cleanly() {
    let repo = repo_with_commit();
    let cfg = config(&repo, "");
    let mut w = repo.watch(&["--config", &cfg]);
    w.wait_settled(20);
    let out = repo.auditor().arg("stop").output().expect("stop");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let status = w.wait_exit(10).expect("exited");
    assert!(status.success());
}

/// Pids of `auditor watch` daemons for this repository.
fn daemons(repo: &TestRepo) -> Vec<u32> {
    let repo_arg = format!("--repo {} ", repo.path().display());
    pids_matching(&["auditor", " watch ", &repo_arg])
}

fn watchdog(repo: &TestRepo, cfg: &str) -> std::process::Output {
    repo.auditor()
        .args(["watchdog", "--config", cfg])
        .timeout(Duration::from_secs(60))
        .output()
        .expect("watchdog")
}

/// Whether a process has exited (gone, or a zombie that has released everything).
fn exited(pid: u32) -> bool {
    std::fs::read_to_string(format!("/proc/{pid}/stat")).map_or(true, |stat| {
        stat.rsplit(')')
            .next()
            .is_some_and(|rest| rest.trim_start().starts_with(['Z', 'X']))
    })
}

/// Stops watchdog-started daemons when the test ends, whatever happens.
struct StopOnDrop<'a>(&'a TestRepo);

impl Drop for StopOnDrop<'_> {
    fn drop(&mut self) {
        for pid in daemons(self.0) {
            let _ = nix::sys::signal::kill(
                nix::unistd::Pid::from_raw(i32::try_from(pid).unwrap_or(0)),
                Signal::SIGKILL,
            );
        }
    }
}

#[test]
fn the_watchdog_starts_keeps_and_replaces_daemons() {
    let repo = repo_with_commit();
    let _cleanup = StopOnDrop(&repo);
    let cfg = config(&repo, "");

    // None running: it starts one, detached, and says so.
    let out = watchdog(&repo, &cfg);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let first = daemons(&repo);
    assert_eq!(first.len(), 1, "{first:?}");
    assert!(repo.path().join("logs/auditor.log").is_file());
    assert_eq!(count(&repo.events(), "watchdog_restart"), 1);

    // Healthy: silent, exit 0, nothing changes.
    let out = watchdog(&repo, &cfg);
    assert!(out.status.success());
    assert!(out.stdout.is_empty() && out.stderr.is_empty(), "{out:?}");
    assert_eq!(daemons(&repo), first);

    // Hung (stopped, heartbeat goes stale): replaced.
    let hung = first[0];
    let pid = nix::unistd::Pid::from_raw(i32::try_from(hung).expect("pid"));
    nix::sys::signal::kill(pid, Signal::SIGSTOP).expect("stop the daemon");
    std::thread::sleep(Duration::from_secs(4));
    let out = watchdog(&repo, &cfg);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(
        String::from_utf8_lossy(&out.stdout).contains("hung"),
        "{out:?}"
    );
    let replaced = daemons(&repo);
    assert_eq!(replaced.len(), 1, "{replaced:?}");
    assert_ne!(replaced[0], hung);

    // Killed: restarted.
    let pid = nix::unistd::Pid::from_raw(i32::try_from(replaced[0]).expect("pid"));
    nix::sys::signal::kill(pid, Signal::SIGKILL).expect("kill");
    // Right after the kill: its lock may outlive it for a moment, which must not pass for a
    // healthy daemon.
    assert!(eventually(10, || exited(replaced[0])));
    let out = watchdog(&repo, &cfg);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert_eq!(daemons(&repo).len(), 1, "{out:?}");
    assert_eq!(count(&repo.events(), "watchdog_restart"), 3);
    // The restarted daemon works.
    repo.write("w.txt", "w\n");
    let head = repo.commit("after restarts");
    assert!(eventually(20, || repo.events().iter().any(
        |e| e["event_type"] == "audit_finished" && e["commit"] == head.as_str()
    )));
}

#[test]
fn two_watchdogs_at_once_start_one_daemon() {
    let repo = repo_with_commit();
    let _cleanup = StopOnDrop(&repo);
    let cfg = config(&repo, "");
    let spawn = || {
        let mut cmd = std::process::Command::new(assert_cmd::cargo::cargo_bin("auditor"));
        cmd.args(["watchdog", "--config", &cfg])
            .current_dir(repo.path())
            .env("HOME", repo.path())
            .stdout(std::process::Stdio::null())
            .stderr(std::process::Stdio::null());
        cmd.spawn().expect("watchdog")
    };
    let (mut a, mut b) = (spawn(), spawn());
    assert!(a.wait().expect("a").success());
    assert!(b.wait().expect("b").success());
    assert_eq!(daemons(&repo).len(), 1);
    assert_eq!(count(&repo.events(), "watchdog_restart"), 1);
}

#[test]
fn a_linked_worktree_is_watched_through_its_own_git_file() {
    let repo = repo_with_commit();
    let parent = repo.path().parent().expect("parent").to_path_buf();
    let linked = parent.join(format!(
        "{}-linked",
        repo.path().file_name().expect("name").to_string_lossy()
    ));
    repo.git(&[
        "worktree",
        "add",
        "-q",
        "-b",
        "side",
        &linked.to_string_lossy(),
    ]);
    let _cleanup = RemoveOnDrop(linked.clone());
    // `.git` in a linked worktree is a file pointing into the main repository's worktrees/.
    assert!(linked.join(".git").is_file());
    let mut watch = std::process::Command::new(assert_cmd::cargo::cargo_bin("auditor"));
    let log = std::fs::File::create(linked.with_extension("log")).expect("log");
    let mut child = watch
        .args(["watch", "--repo"])
        .arg(&linked)
        // The snapshot goes into the linked worktree's git folder, not the real cache.
        .env("HOME", &linked)
        .stdout(log)
        .stderr(std::process::Stdio::null())
        .spawn()
        .expect("watch the linked worktree");
    // The first look at HEAD is over once the linked worktree's commit is detected.
    assert!(eventually(20, || read_events(&linked)
        .iter()
        .any(|e| e["event_type"] == "change_detected")));
    std::fs::write(linked.join("side.txt"), "side\n").expect("write");
    let git = |args: &[&str]| {
        let out = std::process::Command::new("git")
            .args(args)
            .current_dir(&linked)
            .env("GIT_AUTHOR_NAME", "a")
            .env("GIT_AUTHOR_EMAIL", "a@example.invalid")
            .env("GIT_COMMITTER_NAME", "a")
            .env("GIT_COMMITTER_EMAIL", "a@example.invalid")
            .output()
            .expect("git");
        assert!(out.status.success(), "{out:?}");
        String::from_utf8_lossy(&out.stdout).trim().to_string()
    };
    git(&["add", "-A"]);
    git(&["commit", "-q", "--no-verify", "-m", "on the side"]);
    let head = git(&["rev-parse", "HEAD"]);
    let found = eventually(20, || {
        read_events(&linked).iter().any(|e| {
            e["event_type"] == "change_detected"
                && e["commit"] == head.as_str()
                && e["details"]["source"] == "inotify"
        })
    });
    let _ = child.kill();
    let _ = child.wait();
    assert!(found, "{:?}", read_events(&linked));
    // The main worktree's HEAD did not move and its status is clean.
    assert_eq!(repo.git(&["status", "--porcelain"]), "");
}

struct RemoveOnDrop(std::path::PathBuf);

impl Drop for RemoveOnDrop {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
        let _ = std::fs::remove_file(self.0.with_extension("log"));
    }
}

#[test]
fn preempt_kills_running_tests_and_audits_the_bigger_batch() {
    let repo = repo_with_commit();
    let marker = "3129";
    let cfg = config_with(
        &repo,
        &[("preempt", "true")],
        &format!(
            r#"
[runner]
grace = "1s"

[[check]]
name = "slow-tests"
stage = "test"
command = ["sh", "-c", "sleep {marker}"]
timeout = "10m"
"#
        ),
    );
    let w = repo.watch(&["--config", &cfg]);
    let first = repo.head();
    w.wait_event(20, "transition", |e| {
        e["details"]["to"] == "TESTING" && e["commit"] == first.as_str()
    });
    let marker_arg = format!("sleep {marker}");
    assert!(eventually(10, || !pids_matching(&[&marker_arg]).is_empty()));
    let first_run = pids_matching(&[&marker_arg]);
    repo.write("next.txt", "next\n");
    let next = repo.commit("arrives during the tests");
    w.wait_event(20, "audit_cancelled", |e| e["commit"] == first.as_str());
    let started = w.wait_event(20, "audit_started", |e| e["commit"] == next.as_str());
    let covered: Vec<&str> = started["details"]["commits"]
        .as_array()
        .expect("commits")
        .iter()
        .filter_map(Value::as_str)
        .collect();
    assert_eq!(covered, [first.as_str(), next.as_str()], "{started}");
    assert!(
        eventually(10, || first_run.iter().all(|p| exited(*p))),
        "the preempted test run was not killed"
    );
}

#[test]
fn the_watchdog_can_start_the_daemon_in_a_tmux_session() {
    let repo = repo_with_commit();
    let _cleanup = StopOnDrop(&repo);
    let sockets = tempfile::tempdir().expect("tempdir");
    let cfg = config(&repo, "");
    let out = repo
        .auditor()
        .args([
            "watchdog",
            "--config",
            &cfg,
            "--tmux-session",
            "auditor-wd-test",
        ])
        .env("TMUX_TMPDIR", sockets.path())
        .timeout(Duration::from_secs(60))
        .output()
        .expect("watchdog");
    let kill_server = || {
        let _ = std::process::Command::new("tmux")
            .arg("kill-server")
            .env("TMUX_TMPDIR", sockets.path())
            .stderr(std::process::Stdio::null())
            .status();
    };
    if !out.status.success() {
        kill_server();
        panic!("{}", String::from_utf8_lossy(&out.stderr));
    }
    let windows = std::process::Command::new("tmux")
        .args([
            "list-windows",
            "-t",
            "auditor-wd-test",
            "-F",
            "#{window_name}",
        ])
        .env("TMUX_TMPDIR", sockets.path())
        .output()
        .expect("tmux list-windows");
    kill_server();
    assert_eq!(String::from_utf8_lossy(&windows.stdout).trim(), "auditor");
    let restart = repo
        .events()
        .into_iter()
        .find(|e| e["event_type"] == "watchdog_restart")
        .expect("a watchdog_restart event");
    assert_eq!(restart["details"]["tmux_session"], "auditor-wd-test");
}

#[test]
fn ignored_folders_and_the_auditors_own_cost_no_watch() {
    let repo = TestRepo::new();
    repo.write(".gitignore", "target/\n");
    repo.write("src/lib/mod.rs", "// code\n");
    repo.commit("initial");
    for d in [
        "target/debug/deps",
        "target/release/build/x",
        "state/supervisor/workspace/src",
    ] {
        std::fs::create_dir_all(repo.path().join(d)).expect("mkdir");
    }
    let cfg = uncommitted_config(&repo);
    let w = repo.watch(&["--config", &cfg]);
    let started = w.wait_event(10, "daemon_started", |_| true);
    // The root, src/, src/lib/ and state/ (it may hold more than the auditor's folder):
    // not target/, .git/ or state/supervisor/.
    assert_eq!(started["details"]["watched_folders"], 4, "{started}");
    w.wait_settled(20);

    // A folder created later is watched too: a second edit inside it is seen.
    let uncommitted_audits = |w: &crate::support::Watch| {
        w.events()
            .iter()
            .filter(|e| e["event_type"] == "audit_finished" && e["details"]["uncommitted"] == true)
            .count()
    };
    repo.write("docs/new/page.md", "text\n");
    assert!(
        eventually(20, || uncommitted_audits(&w) == 1),
        "{}",
        w.output()
    );
    repo.write("docs/new/page.md", "text, edited\n");
    assert!(
        eventually(20, || uncommitted_audits(&w) == 2),
        "{}",
        w.output()
    );
}

fn inbox_files(repo: &TestRepo, pattern: &str) -> Vec<String> {
    std::fs::read_dir(repo.path().join("tasks/supervisor_feedback"))
        .map(|d| {
            d.flatten()
                .map(|e| e.file_name().to_string_lossy().into_owned())
                .filter(|n| n.contains(pattern))
                .collect()
        })
        .unwrap_or_default()
}

fn ledger_of(repo: &TestRepo) -> Value {
    serde_json::from_str(
        &std::fs::read_to_string(repo.path().join("state/supervisor/ledger.json")).expect("ledger"),
    )
    .expect("ledger json")
}

#[test]
fn a_key_committed_while_tests_run_reaches_the_inbox_and_gate_before_they_finish() {
    let repo = repo_with_commit();
    let cfg = sleeping_test_config(&repo, "3131");
    let w = repo.watch(&["--config", &cfg]);
    let first = repo.head();
    w.wait_event(20, "transition", |e| {
        e["details"]["to"] == "TESTING" && e["commit"] == first.as_str()
    });
    repo.write("config.py", format!("TOKEN = \"{}\"\n", github_token()));
    let leak = repo.commit("add config");
    let committed = Instant::now();
    assert!(
        eventually(10, || !inbox_files(&repo, "_CRITICAL_SEC-").is_empty()),
        "no CRITICAL file: {}",
        w.output()
    );
    let took = committed.elapsed();
    // The previous commit's tests (a 3131 s sleep) are still running.
    assert!(
        !repo
            .path()
            .join(format!("logs/audit/report_{first}.json"))
            .exists()
    );
    assert!(took < Duration::from_secs(5), "took {took:?}");
    // The feedback file comes first; the index, the ledger and the fast lane's verdict
    // follow within the same publish.
    let fast_lane = repo.path().join("state/supervisor/fast_lane.json");
    assert!(eventually(5, || std::fs::read_to_string(&fast_lane)
        .is_ok_and(|t| t.contains(leak.as_str()))));
    let inbox = std::fs::read_to_string(repo.path().join("tasks/supervisor_feedback/INBOX.md"))
        .expect("INBOX.md");
    assert!(inbox.contains("[CRITICAL] SEC-001"), "{inbox}");
    assert!(inbox.contains("config.py:1"), "{inbox}");
    let blocking = std::fs::read_to_string(repo.path().join("tasks/supervisor_feedback/BLOCKING"))
        .expect("BLOCKING");
    assert_eq!(blocking.trim(), "SEC-001");
    let gate = repo.auditor().args(["gate"]).output().expect("gate");
    assert_eq!(gate.status.code(), Some(2), "{gate:?}");
    let fast: Value = serde_json::from_str(
        &std::fs::read_to_string(repo.path().join("state/supervisor/fast_lane.json"))
            .expect("fast_lane.json"),
    )
    .expect("json");
    assert_eq!(fast["commit"], leak.as_str());
    assert_eq!(fast["issues"][0]["id"], "SEC-001");
    let lane = w.wait_event(5, "fast_lane", |e| e["commit"] == leak.as_str());
    assert_eq!(lane["details"]["issues"][0], "SEC-001");
    // The token never reaches a sink.
    assert!(!inbox.contains(&github_token()));
    assert!(!w.output().contains(&github_token()));
}

#[test]
fn the_full_audit_of_an_earlier_commit_leaves_the_fast_lanes_issue_alone_and_the_next_takes_it_over()
 {
    let repo = repo_with_commit();
    let cfg = config(
        &repo,
        r#"
[[check]]
name = "slow-tests"
stage = "test"
command = ["sh", "-c", "sleep 3"]
timeout = "1m"
"#,
    );
    let w = repo.watch(&["--config", &cfg]);
    let first = repo.head();
    w.wait_event(20, "transition", |e| {
        e["details"]["to"] == "TESTING" && e["commit"] == first.as_str()
    });
    // The first commit's audit looks at the same file, which holds no key there.
    repo.write(
        "README.md",
        format!("hello\nTOKEN = \"{}\"\n", github_token()),
    );
    let leak = repo.commit("document the token");
    assert!(eventually(10, || !inbox_files(&repo, "_CRITICAL_SEC-001").is_empty()));
    w.wait_event(30, "audit_finished", |e| e["commit"] == first.as_str());
    let ledger = ledger_of(&repo);
    let entry = &ledger["entries"][0];
    assert_eq!(entry["id"], "SEC-001");
    assert_eq!(entry["life"], "new", "{ledger}");
    assert_eq!(entry["fast_lane_at"], leak.as_str());
    w.wait_event(30, "audit_finished", |e| e["commit"] == leak.as_str());
    let ledger = ledger_of(&repo);
    let entries = ledger["entries"].as_array().expect("entries");
    assert_eq!(entries.len(), 1, "{ledger}");
    let entry = &entries[0];
    assert_eq!(entry["id"], "SEC-001");
    assert_eq!(entry["life"], "new", "{ledger}");
    assert_eq!(entry["seen_in"], 1, "{ledger}");
    assert!(entry.get("fast_lane_at").is_none(), "{ledger}");
    assert_eq!(inbox_files(&repo, "_CRITICAL_").len(), 1);
    let report: Value = serde_json::from_str(
        &std::fs::read_to_string(repo.path().join(format!("logs/audit/report_{leak}.json")))
            .expect("report"),
    )
    .expect("json");
    assert_eq!(issue_of(&report, "SECRET_EXPOSURE")["id"], "SEC-001");
}

#[test]
fn uncommitted_findings_have_their_own_ids_block_the_gate_and_leave_when_committed_or_reverted() {
    let repo = repo_with_commit();
    // SEC-001 was raised and resolved before: an uncommitted key must not reuse its ID.
    repo.write("old.py", format!("KEY = \"{}\"\n", aws_key()));
    repo.commit("old key");
    repo.audit_json(&["--no-tests"]);
    repo.write("old.py", "KEY = None\n");
    repo.commit("drop the old key");
    repo.audit_json(&["--no-tests"]);
    let cfg = uncommitted_config(&repo);
    let w = repo.watch(&["--config", &cfg]);
    w.wait_settled(20);
    repo.write("settings.py", format!("\nTOKEN = \"{}\"\n", github_token()));
    w.wait_event(20, "audit_finished", |e| {
        e["details"]["uncommitted"] == true
    });
    let files = inbox_files(&repo, "_CRITICAL_");
    assert_eq!(files.len(), 1, "{files:?}");
    assert!(files[0].ends_with("_CRITICAL_UNC-SEC-001.md"), "{files:?}");
    let inbox = std::fs::read_to_string(repo.path().join("tasks/supervisor_feedback/INBOX.md"))
        .expect("INBOX.md");
    assert!(!inbox.contains("No open issues"), "{inbox}");
    assert!(
        inbox.contains("[CRITICAL] UNC-SEC-001** (uncommitted)") && inbox.contains("settings.py:2"),
        "{inbox}"
    );
    let blocking = std::fs::read_to_string(repo.path().join("tasks/supervisor_feedback/BLOCKING"))
        .expect("BLOCKING");
    assert_eq!(blocking, "UNC-SEC-001\n");
    let gate = repo.auditor().arg("gate").output().expect("gate");
    let stderr = String::from_utf8_lossy(&gate.stderr).into_owned();
    assert_eq!(gate.status.code(), Some(2), "{stderr}");
    assert!(stderr.contains("UNC-SEC-001 (uncommitted)"), "{stderr}");
    let shown = repo
        .auditor()
        .args(["inbox", "show", "UNC-SEC-001"])
        .output()
        .expect("inbox show");
    let shown = String::from_utf8_lossy(&shown.stdout).into_owned();
    assert!(shown.contains("status: uncommitted"), "{shown}");
    assert!(!shown.contains(&github_token()), "{shown}");

    // Committed: the commit's issue takes over at once, the uncommitted one leaves.
    let leak = repo.commit("settings");
    assert!(
        eventually(10, || inbox_files(&repo, "_CRITICAL_")
            .iter()
            .any(|f| f.ends_with("_CRITICAL_SEC-002.md"))),
        "{:?}",
        inbox_files(&repo, "")
    );
    assert!(eventually(5, || inbox_files(&repo, "UNC-").is_empty()));
    let inbox = std::fs::read_to_string(repo.path().join("tasks/supervisor_feedback/INBOX.md"))
        .expect("INBOX.md");
    assert!(!inbox.contains("UNC-SEC-001"), "{inbox}");
    assert!(inbox.contains("[CRITICAL] SEC-002"), "{inbox}");
    w.wait_event(20, "uncommitted_settled", |e| e["commit"] == leak.as_str());

    // Left uncommitted, then reverted: it leaves once the tree is quiet again.
    repo.write("more.py", format!("KEY = \"{}\"\n", aws_key()));
    assert!(eventually(20, || !inbox_files(&repo, "UNC-SEC-002").is_empty()));
    std::fs::remove_file(repo.path().join("more.py")).expect("revert");
    assert!(
        eventually(15, || inbox_files(&repo, "UNC-").is_empty()),
        "{:?}\n{}",
        inbox_files(&repo, ""),
        w.output()
    );
    let blocking = std::fs::read_to_string(repo.path().join("tasks/supervisor_feedback/BLOCKING"))
        .expect("BLOCKING");
    // The index is rewritten before the file goes.
    assert_eq!(blocking, "SEC-002\n");
}

#[test]
fn the_live_view_shows_what_is_open_not_the_last_verdict() {
    let repo = repo_with_commit();
    let cfg = config(&repo, "");
    repo.write("deploy.py", format!("KEY = \"{}\"\n", aws_key()));
    let leak = repo.commit("add deploy");
    let sockets = tempfile::tempdir().expect("tempdir");
    let tmux = |args: &[&str]| {
        let out = std::process::Command::new("tmux")
            .args(args)
            .env("TMUX_TMPDIR", sockets.path())
            // The server's environment is the pane's: the snapshot stays out of the real cache.
            .env("HOME", repo.path())
            .output()
            .expect("tmux");
        String::from_utf8_lossy(&out.stdout).into_owned()
    };
    let bin = assert_cmd::cargo::cargo_bin("auditor");
    tmux(&[
        "new-session",
        "-d",
        "-s",
        "live",
        "-x",
        "120",
        "-y",
        "40",
        "-c",
        &repo.path().to_string_lossy(),
        "--",
        &bin.to_string_lossy(),
        "watch",
        "--config",
        &cfg,
    ]);
    struct Kill<'a>(&'a std::path::Path);
    impl Drop for Kill<'_> {
        fn drop(&mut self) {
            let _ = std::process::Command::new("tmux")
                .arg("kill-server")
                .env("TMUX_TMPDIR", self.0)
                .status();
        }
    }
    let _kill = Kill(sockets.path());
    let screen = || tmux(&["capture-pane", "-p", "-t", "live"]);
    assert!(
        eventually(20, || screen().contains(&format!("FAIL {}", &leak[..7]))),
        "{}",
        screen()
    );
    // A clean commit: its verdict is clean, the key is still open.
    repo.write("notes.txt", "notes\n");
    let clean = repo.commit("notes");
    assert!(
        eventually(20, || screen().contains(&format!("PASS {}", &clean[..7]))),
        "{}",
        screen()
    );
    let shown = screen();
    assert!(shown.contains("| 1C"), "{shown}");
    assert!(!shown.contains("| clean"), "{shown}");
    assert!(
        shown.contains("[CRITICAL] SEC-001 Secret exposed: AWS access key ID (deploy.py:1)"),
        "{shown}"
    );
}
