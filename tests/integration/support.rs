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

    /// Runs `auditor audit ARGS --json` and returns (exit code, report, stdout+stderr).
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
