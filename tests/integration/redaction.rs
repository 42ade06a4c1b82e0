//! Not one secret byte leaves the auditor: one repository holding every way a secret reached
//! an output, every output read back, and no 8 characters in a row of any value anywhere.

use std::path::PathBuf;

use crate::support::{TestRepo, aws_key, eventually, github_token};

/// Credential-shaped values, assembled at run time so that this file holds none.
struct Values {
    slack_message: String,
    slack_path: String,
    slack_echo: String,
    aws_secret: String,
    aws_secret_printed: String,
    url_password: String,
    password: String,
    twilio_like: String,
    pem_committed: Vec<String>,
    pem_printed: Vec<String>,
    pem_again: Vec<String>,
    uncommitted: String,
}

/// `lines` lines of 64 base64 characters from `seed`: a key block's body.
fn pem_body(seed: u64, lines: usize) -> Vec<String> {
    const B64: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    let mut x = seed;
    (0..lines)
        .map(|_| {
            (0..64)
                .map(|_| {
                    x = x
                        .wrapping_mul(6_364_136_223_846_793_005)
                        .wrapping_add(1_442_695_040_888_963_407);
                    char::from(B64[usize::try_from(x >> 58).unwrap_or(0)])
                })
                .collect()
        })
        .collect()
}

fn pem(body: &[String]) -> String {
    let kind = ["RSA ", "PRIVATE KEY"].concat();
    format!(
        "-----BEGIN {kind}-----\n{}\n-----END {kind}-----\n",
        body.join("\n")
    )
}

impl Values {
    fn new() -> Values {
        Values {
            slack_message: ["xoxb-", "2048123456-4096123456-aBcDeFgHiJkLmNoPqRsTuVwX"].concat(),
            slack_path: ["xoxb-", "1111222233-4444555566-ZyXwVuTsRqPoNmLkJiHgFeDc"].concat(),
            slack_echo: ["xoxp-", "9876543210-1234509876-QwErTyUiOpAsDfGhJkLzXcVb"].concat(),
            aws_secret: ["wJalrXUtnFEMI", "/K7MDENG/bPxRfiCYzQ8kLm2Tn4b"].concat(),
            aws_secret_printed: ["Zk3PqLm9Rt2Vx7", "/Nb4Hc8Jd1Fg6Sa0Wq5Ey2Ui9Op"].concat(),
            url_password: ["S3cr3tPa", "ssw0rdXq9"].concat(),
            password: ["Vx9Lq2Rt", "7Kp4Wm8Nz3"].concat(),
            twilio_like: ["SK", "0f3a9c2e7b5d1f4a8c6e0b2d9f7a3c5e"].concat(),
            pem_committed: pem_body(7, 25),
            pem_printed: pem_body(11, 25),
            pem_again: pem_body(13, 25),
            uncommitted: ["ghp_", "Uc7mT2xQ9pL4vR8sN3kW6yB1zH5jD0fG2aE4"].concat(),
        }
    }

    fn all(&self) -> Vec<(String, String)> {
        let mut v: Vec<(String, String)> = [
            ("slack in a commit message", &self.slack_message),
            ("slack in a file name", &self.slack_path),
            ("slack echoed by a linter", &self.slack_echo),
            ("aws secret", &self.aws_secret),
            (
                "aws secret printed on a long line",
                &self.aws_secret_printed,
            ),
            ("url password", &self.url_password),
            ("generic password", &self.password),
            ("unrecognised key in context", &self.twilio_like),
            ("uncommitted token", &self.uncommitted),
        ]
        .into_iter()
        .map(|(k, v)| (k.to_string(), v.clone()))
        .collect();
        v.push(("aws key id".into(), aws_key()));
        v.push(("github token".into(), github_token()));
        for (name, body) in [
            ("committed key", &self.pem_committed),
            ("printed key", &self.pem_printed),
            ("recurring key", &self.pem_again),
        ] {
            for (i, line) in body.iter().enumerate() {
                v.push((format!("{name} line {}", i + 1), line.clone()));
            }
        }
        v
    }
}

/// The first 8-character run of `value` that `text` holds.
fn leaked<'v>(text: &str, value: &'v str) -> Option<&'v str> {
    (0..=value.len().saturating_sub(8))
        .filter(|&i| value.is_char_boundary(i) && value.is_char_boundary(i + 8))
        .map(|i| &value[i..i + 8])
        .find(|run| text.contains(run))
}

fn config(v: &Values) -> String {
    let printed_key = pem(&v.pem_printed);
    let long_line = format!(
        "{} aws_secret_access_key={} {}",
        "x".repeat(300),
        v.aws_secret_printed,
        "y".repeat(300)
    );
    let toml_str = |s: &str| format!("{s:?}");
    format!(
        r#"[policy]
escalate_after_commits = 50

[hooks]
on_critical = ["sh", "-c", "env > \"$AUDITOR_REPO/.git/hook-env-$AUDITOR_ISSUE_ID\""]

[[check]]
name = "echo-lines"
stage = "audit"
command = ["sh", "-c", "grep -Hn '' \"$@\"; exit 1", "sh", "{{files}}"]
files = ["*.py"]
format = "lines"

[[check]]
name = "prints-a-key"
stage = "audit"
command = ["sh", "-c", "printf '%s\n' \"$0\" \"$1\"; exit 3", {}, {}]
format = "exit-code"

[[check]]
name = "tests"
stage = "test"
command = ["sh", "-c", "echo \"assert '$0' == 'expected'\"; echo \"url password $1 and $2\"; exit 1", {}, {}, {}]
format = "exit-code"
"#,
        toml_str(&printed_key),
        toml_str(&long_line),
        toml_str(&v.aws_secret),
        toml_str(&v.url_password),
        toml_str(&v.password),
    )
}

/// Every output file of the auditor in the repository (not the snapshot, which is the
/// audited tree and holds what the commits hold), and the hooks' environments.
fn output_files(repo: &TestRepo) -> Vec<PathBuf> {
    let mut files = Vec::new();
    for folder in ["logs", "tasks", "state"] {
        files.extend(repo.files_under(folder).into_iter().filter(|p| {
            let p = p.to_string_lossy();
            // The snapshot is the audited tree. The settings baseline is the operator's
            // config as the auditor last ran with it (what the rules recognise there is
            // redacted; a bare value in a check's command is the config's, not a find).
            !p.contains("state/supervisor/workspace") && !p.ends_with("supervision.json")
        }));
    }
    files.extend(
        std::fs::read_dir(repo.path().join(".git"))
            .expect(".git")
            .flatten()
            .map(|e| e.path())
            .filter(|p| p.to_string_lossy().contains("hook-env-")),
    );
    files
}

fn read_text(p: &std::path::Path) -> String {
    let bytes = std::fs::read(p).unwrap_or_default();
    if p.extension().is_some_and(|e| e == "gz") {
        use std::io::Read;
        let mut s = String::new();
        let _ = flate2::read::GzDecoder::new(&bytes[..]).read_to_string(&mut s);
        return s;
    }
    String::from_utf8_lossy(&bytes).into_owned()
}

#[test]
fn no_output_holds_a_secret_value() {
    let v = Values::new();
    let repo = TestRepo::new();
    repo.write(".gitignore", "logs/\nstate/\ntasks/\n");
    repo.write("README.md", "hi\n");
    repo.commit("initial");
    let cfg_path = repo.path().join(".git/redaction.toml");
    std::fs::write(&cfg_path, config(&v)).expect("config");
    let cfg = cfg_path.to_string_lossy().into_owned();
    let mut outputs: Vec<(String, String)> = Vec::new();
    let mut run = |name: &str, args: &[&str], env: &[(&str, &str)]| {
        let mut cmd = repo.auditor();
        cmd.args(args);
        for (k, val) in env {
            cmd.env(k, val);
        }
        let out = cmd.output().expect("auditor");
        outputs.push((
            format!("{name} stdout"),
            String::from_utf8_lossy(&out.stdout).into_owned(),
        ));
        outputs.push((
            format!("{name} stderr"),
            String::from_utf8_lossy(&out.stderr).into_owned(),
        ));
    };

    // A key block committed, then removed: its rule learns a fix (the worked example).
    repo.write("deploy/key.pem", pem(&v.pem_committed));
    repo.commit("add the deploy key");
    run("audit 1", &["audit", "--config", &cfg, "--json"], &[]);
    repo.git(&["rm", "-q", "deploy/key.pem"]);
    repo.commit("[fix-SEC-001] remove the key");
    run("audit 2", &["audit", "--config", &cfg, "--no-tests"], &[]);

    // Everything else in one commit: a token in the message and in a file name, secrets a
    // linter echoes and tests print, a CI file with tokens, a key block again, and a
    // credential the rules do not know on the line after one they do.
    repo.write(
        "app/settings.py",
        format!(
            "AWS_SECRET_ACCESS_KEY = \"{}\"\nDB = \"postgres://admin:{}@db.internal.net/app\"\npassword = \"{}\"\nSLACK = \"{}\"\n",
            v.aws_secret, v.url_password, v.password, v.slack_echo
        ),
    );
    repo.write(&format!("keys/{}.py", v.slack_path), "X = 1\n");
    repo.write(
        "app/creds.py",
        format!(
            "GH = \"{}\"\nTWILIO_SID = \"{}\"\nAWS_ID = \"{}\"\n",
            github_token(),
            v.twilio_like,
            aws_key()
        ),
    );
    repo.write(
        ".github/workflows/ci.yml",
        format!(
            "on: push\njobs:\n  t:\n    env:\n      GH_TOKEN: {}\n      AWS_SECRET_ACCESS_KEY: {}\n",
            github_token(),
            v.aws_secret
        ),
    );
    repo.write("deploy/other.pem", pem(&v.pem_again));
    let head = repo.commit(&format!("deploy with {} for the bot", v.slack_message));
    run(
        "audit json",
        &[
            "audit",
            "--config",
            &cfg,
            "--json",
            "--sarif",
            ".git/out.sarif",
        ],
        &[],
    );
    run(
        "audit human",
        &["audit", "--config", &cfg],
        &[("AUDITOR_LOG", "trace")],
    );
    run("scan", &["scan", "--config", &cfg, "HEAD~1..HEAD"], &[]);
    run(
        "scan history",
        &["scan", "--config", &cfg, "--history", "--json"],
        &[],
    );
    run("gate", &["gate"], &[]);
    run("inbox", &["inbox", "--json"], &[]);
    run("status", &["status", "--json"], &[]);
    let ids: Vec<String> = {
        let ledger: serde_json::Value = serde_json::from_str(
            &std::fs::read_to_string(repo.path().join("state/supervisor/ledger.json"))
                .expect("ledger"),
        )
        .expect("json");
        ledger["entries"]
            .as_array()
            .expect("entries")
            .iter()
            .filter_map(|e| e["id"].as_str().map(str::to_string))
            .collect()
    };
    for id in &ids {
        run(&format!("inbox show {id}"), &["inbox", "show", id], &[]);
    }

    // The daemon: its output, its events, and an audit of uncommitted changes.
    let watch_cfg = repo.path().join(".git/redaction-watch.toml");
    std::fs::write(
        &watch_cfg,
        format!(
            "{}\n[watch]\ndebounce = \"100ms\"\npoll_interval = \"1s\"\nuncommitted = true\nuncommitted_quiet = \"300ms\"\n",
            config(&v)
        ),
    )
    .expect("config");
    let w = repo.watch(&["--config", &watch_cfg.to_string_lossy()]);
    repo.write("notes.txt", "more\n");
    let next = repo.commit(&format!("notes, again with {}", v.slack_message));
    w.wait_event(30, "audit_finished", |e| e["commit"] == next.as_str());
    repo.write("scratch.py", format!("T = \"{}\"\n", v.uncommitted));
    let uncommitted = repo.path().join("logs/audit/report_uncommitted.json");
    assert!(
        eventually(30, || uncommitted.is_file()),
        "no audit of the uncommitted change:\n{}",
        w.output()
    );
    outputs.push(("watch output".into(), w.output()));
    drop(w);

    // The cases did reach the outputs, redacted: the audit saw each of them.
    let report = repo.report(&head);
    let text = report.to_string();
    for rule in [
        "slack-token",
        "private-key",
        "github-token",
        "aws-access-key-id",
    ] {
        assert!(text.contains(rule), "{rule} not reported: {text}");
    }
    assert!(
        text.contains("commit's message"),
        "the message was not scanned: {text}"
    );
    assert!(
        text.contains("commit's file name"),
        "the path was not scanned: {text}"
    );
    assert!(
        output_files(&repo)
            .iter()
            .any(|p| p.to_string_lossy().contains("hook-env-")),
        "no hook ran"
    );

    let mut sinks: Vec<(String, String)> = output_files(&repo)
        .into_iter()
        .map(|p| (p.display().to_string(), read_text(&p)))
        .collect();
    sinks.push((
        ".git/out.sarif".into(),
        read_text(&repo.path().join(".git/out.sarif")),
    ));
    sinks.extend(outputs);
    let mut leaks = Vec::new();
    for (what, value) in v.all() {
        for (sink, text) in &sinks {
            if let Some(run) = leaked(text, &value) {
                leaks.push(format!("{what}: `{run}` in {sink}"));
            }
        }
    }
    assert!(
        leaks.is_empty(),
        "{} leaks:\n{}",
        leaks.len(),
        leaks.join("\n")
    );
}

#[test]
fn a_file_named_after_a_token_is_reported_and_resolves_once_renamed() {
    let repo = TestRepo::new();
    repo.write("README.md", "hi\n");
    repo.commit("initial");
    let token = github_token();
    repo.write(&format!("keys/{token}.txt"), "x\n");
    repo.commit("add a key file");
    let (_, report, out) = repo.audit_json(&["--no-tests"]);
    let issue = crate::support::issue_of(&report, "SECRET_EXPOSURE");
    assert!(
        issue["title"]
            .as_str()
            .is_some_and(|t| t.contains("file name")),
        "{report}"
    );
    assert!(leaked(&out, &token).is_none(), "{out}");
    repo.git(&["mv", &format!("keys/{token}.txt"), "keys/fine.txt"]);
    repo.commit("rename it");
    let (_, report, _) = repo.audit_json(&["--no-tests"]);
    assert!(
        report["resolved"]
            .as_array()
            .is_some_and(|r| r.iter().any(|x| x["id"] == issue["id"])),
        "{report}"
    );
}
