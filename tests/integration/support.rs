//! Test helpers: a temp git repository with a fixed identity and clock, and the real binary
//! with a clean environment.

use std::path::{Path, PathBuf};
use std::process::Command as StdCommand;

use assert_cmd::Command;
use serde_json::Value;

/// A throwaway git repository.
pub struct TestRepo {
    dir: tempfile::TempDir,
    tick: std::cell::Cell<u32>,
}

/// Secrets are assembled at run time so that no test file holds one in full (the auditor
/// audits this repository too).
pub fn aws_key() -> String {
    ["AKIA", "Z7Q3LMNOPQRSTUV2"].concat()
}

/// A GitHub token of the right shape.
pub fn github_token() -> String {
    ["ghp_", "aB3dE5fG7hJ9kL1mN3pQ5rS7tU9vW1xY3zA5"].concat()
}

impl TestRepo {
    /// `git init` in a new temp dir.
    pub fn new() -> TestRepo {
        let repo = TestRepo {
            dir: tempfile::tempdir().expect("tempdir"),
            tick: std::cell::Cell::new(0),
        };
        repo.git(&["init", "-q", "-b", "main"]);
        // The tests' auditor.toml is the operator's, not a commit's: committing it would be
        // SUPERVISION_TAMPERING (a guard tested on its own).
        std::fs::write(repo.path().join(".git/info/exclude"), "/auditor.toml\n").expect("exclude");
        repo
    }

    /// The repository's root.
    pub fn path(&self) -> &Path {
        self.dir.path()
    }

    /// Runs git in the repository and returns its stdout; panics on failure.
    pub fn git(&self, args: &[&str]) -> String {
        let t = self.tick.get();
        self.tick.set(t + 1);
        let date = format!("2025-01-01T00:{:02}:{:02}Z", t / 60 % 60, t % 60);
        let out = StdCommand::new("git")
            .args(args)
            .current_dir(self.path())
            .env("GIT_CONFIG_NOSYSTEM", "1")
            .env("HOME", self.path())
            .env("GIT_AUTHOR_NAME", "Agent")
            .env("GIT_AUTHOR_EMAIL", "agent@example.invalid")
            .env("GIT_COMMITTER_NAME", "Agent")
            .env("GIT_COMMITTER_EMAIL", "agent@example.invalid")
            .env("GIT_AUTHOR_DATE", &date)
            .env("GIT_COMMITTER_DATE", &date)
            .output()
            .expect("run git");
        assert!(
            out.status.success(),
            "git {args:?} failed: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        String::from_utf8_lossy(&out.stdout).into_owned()
    }

    /// Runs git with `input` on its stdin and returns its stdout; panics on failure.
    pub fn git_stdin(&self, args: &[&str], input: &str) -> String {
        use std::io::Write;
        let mut child = StdCommand::new("git")
            .args(args)
            .current_dir(self.path())
            .env("GIT_CONFIG_NOSYSTEM", "1")
            .env("HOME", self.path())
            .env("GIT_AUTHOR_NAME", "Agent")
            .env("GIT_AUTHOR_EMAIL", "agent@example.invalid")
            .env("GIT_COMMITTER_NAME", "Agent")
            .env("GIT_COMMITTER_EMAIL", "agent@example.invalid")
            .stdin(std::process::Stdio::piped())
            .stdout(std::process::Stdio::piped())
            .spawn()
            .expect("run git");
        child
            .stdin
            .take()
            .expect("stdin")
            .write_all(input.as_bytes())
            .expect("write stdin");
        let out = child.wait_with_output().expect("wait for git");
        assert!(out.status.success(), "git {args:?} failed");
        String::from_utf8_lossy(&out.stdout).into_owned()
    }

    /// Writes a file (creating folders).
    pub fn write(&self, path: &str, content: impl AsRef<[u8]>) -> &TestRepo {
        let full = self.path().join(path);
        if let Some(parent) = full.parent() {
            std::fs::create_dir_all(parent).expect("mkdir");
        }
        std::fs::write(full, content).expect("write file");
        self
    }

    /// Stages everything and commits; returns the new commit's hash.
    pub fn commit(&self, message: &str) -> String {
        self.git(&["add", "-A"]);
        self.git(&[
            "commit",
            "-q",
            "--no-verify",
            "--allow-empty",
            "-m",
            message,
        ]);
        self.head()
    }

    /// The full hash of HEAD.
    pub fn head(&self) -> String {
        self.git(&["rev-parse", "HEAD"]).trim().to_string()
    }

    /// `auditor ...` in this repository with a clean environment.
    pub fn auditor(&self) -> Command {
        let mut cmd = Command::cargo_bin("auditor").expect("binary built");
        cmd.current_dir(self.path())
            .env_clear()
            .env("PATH", std::env::var_os("PATH").unwrap_or_default())
            .env("HOME", self.path())
            .env("GIT_CONFIG_NOSYSTEM", "1")
            .env("NO_COLOR", "1");
        cmd
    }

    /// Runs `auditor ARGS` on a pseudo-terminal (util-linux `script`), as the operator would
    /// from an interactive shell; returns (exit code, everything it printed).
    pub fn auditor_in_terminal(&self, args: &[&str]) -> (i32, String) {
        let quote = |s: &str| format!("'{}'", s.replace('\'', "'\\''"));
        let bin = assert_cmd::cargo::cargo_bin("auditor");
        let mut line = quote(&bin.to_string_lossy());
        for a in args {
            line.push(' ');
            line.push_str(&quote(a));
        }
        let out = std::process::Command::new("script")
            .args(["-q", "-e", "-c", &line, "/dev/null"])
            .current_dir(self.path())
            .env_clear()
            .env("PATH", std::env::var_os("PATH").unwrap_or_default())
            .env("HOME", self.path())
            .env("GIT_CONFIG_NOSYSTEM", "1")
            .env("NO_COLOR", "1")
            .stdin(std::process::Stdio::null())
            .output()
            .expect("script (util-linux) runs the command on a terminal");
        let text = String::from_utf8_lossy(&out.stdout).into_owned()
            + &String::from_utf8_lossy(&out.stderr);
        (out.status.code().unwrap_or(-1), text)
    }

    /// Runs `auditor audit ARGS --json` and returns (exit code, report, stdout+stderr).
    /// `auditor scan ARGS --json`: exit code, the JSON, and stdout with stderr.
    pub fn scan_json(&self, args: &[&str]) -> (i32, Value, String) {
        let out = self
            .auditor()
            .arg("scan")
            .args(args)
            .arg("--json")
            .output()
            .expect("run auditor");
        let text = String::from_utf8_lossy(&out.stdout).into_owned();
        let v = serde_json::from_str(&text).unwrap_or_else(|e| panic!("{e}: {text}"));
        (
            out.status.code().unwrap_or(-1),
            v,
            format!("{text}{}", String::from_utf8_lossy(&out.stderr)),
        )
    }

    /// `auditor inbox ack ID --reason REASON` from a script (the config must say
    /// `ack = "anyone"`); panics unless it is accepted.
    pub fn ack_from_script(&self, id: &str, reason: &str) {
        let out = self
            .auditor()
            .args(["inbox", "ack", id, "--reason", reason])
            .output()
            .expect("run");
        assert!(
            out.status.success(),
            "ack {id}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
    }

    /// Runs `auditor ARGS` expecting a usage or config error (exit 2); returns stderr.
    pub fn auditor_error(&self, args: &[&str]) -> String {
        let out = self.auditor().args(args).output().expect("run auditor");
        assert_eq!(out.status.code(), Some(2), "{out:?}");
        String::from_utf8_lossy(&out.stderr).into_owned()
    }

    pub fn audit_json(&self, args: &[&str]) -> (i32, Value, String) {
        let out = self
            .auditor()
            .arg("audit")
            .args(args)
            .arg("--json")
            .output()
            .expect("run auditor");
        let stdout = String::from_utf8_lossy(&out.stdout).into_owned();
        let stderr = String::from_utf8_lossy(&out.stderr).into_owned();
        let report: Value = serde_json::from_str(&stdout)
            .unwrap_or_else(|e| panic!("stdout is not JSON ({e}):\n{stdout}\nstderr:\n{stderr}"));
        (
            out.status.code().unwrap_or(-1),
            report,
            format!("{stdout}{stderr}"),
        )
    }

    /// The JSON report the auditor wrote for `commit`.
    pub fn report(&self, commit: &str) -> Value {
        let path = self.path().join(format!("logs/audit/report_{commit}.json"));
        let text = std::fs::read_to_string(&path)
            .unwrap_or_else(|e| panic!("no report at {}: {e}", path.display()));
        serde_json::from_str(&text).expect("the report is JSON")
    }

    /// Every file under a folder of the repository, recursively.
    pub fn files_under(&self, folder: &str) -> Vec<PathBuf> {
        let mut out = Vec::new();
        let mut stack = vec![self.path().join(folder)];
        while let Some(dir) = stack.pop() {
            let Ok(entries) = std::fs::read_dir(&dir) else {
                continue;
            };
            for e in entries.flatten() {
                let p = e.path();
                if p.is_dir() {
                    stack.push(p);
                } else {
                    out.push(p);
                }
            }
        }
        out
    }
}

/// The issues of a report.
pub fn issues(report: &Value) -> Vec<Value> {
    report["issues"].as_array().cloned().unwrap_or_default()
}

/// The first issue of a given type; panics (showing the report) when there is none.
pub fn issue_of(report: &Value, issue_type: &str) -> Value {
    issues_of(report, issue_type)
        .into_iter()
        .next()
        .unwrap_or_else(|| panic!("no {issue_type} issue in {report}"))
}

/// The issues of a given type.
pub fn issues_of(report: &Value, issue_type: &str) -> Vec<Value> {
    issues(report)
        .into_iter()
        .filter(|i| i["type"] == issue_type)
        .collect()
}

/// A check's entry in a report.
pub fn check<'a>(report: &'a Value, name: &str) -> &'a Value {
    report["checks"]
        .as_array()
        .and_then(|c| c.iter().find(|c| c["name"] == name))
        .unwrap_or_else(|| panic!("no check `{name}` in {}", report["checks"]))
}

/// Whether a process whose command line contains `needle` is alive.
pub fn process_alive(needle: &str) -> bool {
    let Ok(entries) = std::fs::read_dir("/proc") else {
        return false;
    };
    entries.flatten().any(|e| {
        std::fs::read(e.path().join("cmdline"))
            .map(|c| {
                let c: Vec<u8> = c
                    .into_iter()
                    .map(|b| if b == 0 { b' ' } else { b })
                    .collect();
                String::from_utf8_lossy(&c).contains(needle)
            })
            .unwrap_or(false)
    })
}

/// Pids of live processes whose command line contains every one of `needles`.
pub fn pids_matching(needles: &[&str]) -> Vec<u32> {
    let Ok(entries) = std::fs::read_dir("/proc") else {
        return Vec::new();
    };
    entries
        .flatten()
        .filter_map(|e| {
            let pid: u32 = e.file_name().to_str()?.parse().ok()?;
            let raw = std::fs::read(e.path().join("cmdline")).ok()?;
            let line = String::from_utf8_lossy(&raw).replace('\0', " ");
            needles.iter().all(|n| line.contains(n)).then_some(pid)
        })
        .collect()
}

/// Polls `cond` every 50 ms until it holds or `secs` pass; true when it held.
pub fn eventually(secs: u64, mut cond: impl FnMut() -> bool) -> bool {
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(secs);
    loop {
        if cond() {
            return true;
        }
        if std::time::Instant::now() >= deadline {
            return false;
        }
        std::thread::sleep(std::time::Duration::from_millis(50));
    }
}

/// A real `auditor watch` process on a test repository; killed when dropped.
pub struct Watch {
    child: Option<std::process::Child>,
    root: PathBuf,
    /// Where its stdout and stderr go.
    pub log: PathBuf,
}

impl TestRepo {
    /// Starts `auditor watch --repo <repo> ARGS`, output to a file beside the repository.
    pub fn watch(&self, args: &[&str]) -> Watch {
        let log = self.path().with_extension("watch.log");
        let out = std::fs::File::create(&log).expect("create log");
        let err = out.try_clone().expect("clone log");
        let child = StdCommand::new(assert_cmd::cargo::cargo_bin("auditor"))
            .arg("watch")
            .arg("--repo")
            .arg(self.path())
            .args(args)
            .env_clear()
            .env("PATH", std::env::var_os("PATH").unwrap_or_default())
            .env("HOME", self.path())
            .env("GIT_CONFIG_NOSYSTEM", "1")
            .stdin(std::process::Stdio::null())
            .stdout(out)
            .stderr(err)
            .spawn()
            .expect("start auditor watch");
        let w = Watch {
            child: Some(child),
            root: self.path().to_path_buf(),
            log,
        };
        assert!(
            eventually(20, || w
                .events()
                .iter()
                .any(|e| e["event_type"] == "daemon_started")),
            "the daemon did not start:\n{}",
            w.output()
        );
        w
    }

    /// The event log, parsed.
    pub fn events(&self) -> Vec<Value> {
        read_events(self.path())
    }
}

/// Every line of a repository's event log.
pub fn read_events(root: &Path) -> Vec<Value> {
    std::fs::read_to_string(root.join("logs/audit/events.jsonl"))
        .unwrap_or_default()
        .lines()
        .filter_map(|l| serde_json::from_str(l).ok())
        .collect()
}

impl Watch {
    /// The daemon's pid.
    pub fn pid(&self) -> u32 {
        self.child.as_ref().map_or(0, std::process::Child::id)
    }

    /// The event log.
    pub fn events(&self) -> Vec<Value> {
        read_events(&self.root)
    }

    /// What it printed.
    pub fn output(&self) -> String {
        std::fs::read_to_string(&self.log).unwrap_or_default()
    }

    /// Waits for an event of `event_type` matching `pred`, beyond the first `skip` events.
    pub fn wait_event(&self, secs: u64, event_type: &str, pred: impl Fn(&Value) -> bool) -> Value {
        let mut found = None;
        let ok = eventually(secs, || {
            found = self
                .events()
                .into_iter()
                .find(|e| e["event_type"] == event_type && pred(e));
            found.is_some()
        });
        assert!(
            ok,
            "no `{event_type}` event within {secs}s; events:\n{}\noutput:\n{}",
            self.events()
                .iter()
                .map(|e| e.to_string())
                .collect::<Vec<_>>()
                .join("\n"),
            self.output()
        );
        found.unwrap_or_default()
    }

    /// Waits until the daemon is IDLE (or WAIT_FOR_FIX) with nothing queued, per status.json.
    pub fn wait_settled(&self, secs: u64) {
        let ok = eventually(secs, || {
            let Ok(text) = std::fs::read_to_string(self.root.join("state/supervisor/status.json"))
            else {
                return false;
            };
            let v: Value = serde_json::from_str(&text).unwrap_or_default();
            matches!(v["state"].as_str(), Some("IDLE" | "WAIT_FOR_FIX")) && v["current"].is_null()
        });
        assert!(ok, "the daemon did not settle; output:\n{}", self.output());
    }

    /// Sends a signal.
    pub fn signal(&self, signal: nix::sys::signal::Signal) {
        let pid = nix::unistd::Pid::from_raw(i32::try_from(self.pid()).expect("pid"));
        nix::sys::signal::kill(pid, signal).expect("signal the daemon");
    }

    /// Waits for it to exit; its exit status, or `None` after `secs`.
    pub fn wait_exit(&mut self, secs: u64) -> Option<std::process::ExitStatus> {
        let child = self.child.as_mut()?;
        let mut status = None;
        eventually(secs, || {
            status = child.try_wait().ok().flatten();
            status.is_some()
        });
        if status.is_some() {
            self.child = None;
        }
        status
    }
}

impl Drop for Watch {
    fn drop(&mut self) {
        if let Some(mut c) = self.child.take() {
            let _ = c.kill();
            let _ = c.wait();
        }
    }
}

/// The commits of every `audit_started` event, in order.
pub fn audited_commits(events: &[Value]) -> Vec<String> {
    events
        .iter()
        .filter(|e| e["event_type"] == "audit_started" && e["details"]["uncommitted"] == false)
        .flat_map(|e| {
            e["details"]["commits"]
                .as_array()
                .cloned()
                .unwrap_or_default()
                .into_iter()
                .filter_map(|c| c.as_str().map(str::to_string))
        })
        .collect()
}

/// Asserts that `value` appears in no output the auditor wrote. The snapshot workspace is a
/// checkout of the audited commit (the same bytes as the repository itself) and is skipped.
pub fn assert_nowhere(repo: &TestRepo, value: &str, output: &str) {
    assert!(!output.contains(value), "secret leaked to stdout/stderr");
    for folder in ["logs", "tasks", "state"] {
        for file in repo.files_under(folder) {
            if file.starts_with(repo.path().join("state/supervisor/workspace")) {
                continue;
            }
            let bytes = std::fs::read(&file).expect("read");
            assert!(
                !String::from_utf8_lossy(&bytes).contains(value),
                "secret leaked into {}",
                file.display()
            );
        }
    }
}
