//! A verdict that cannot be fooled: the audited tree is exactly the commit, no program the
//! repository configures runs, no commit is lost, and the agent cannot switch the supervision
//! off. Each test reproduces a way it was fooled, through the real binary.

use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};

use crate::support::{TestRepo, aws_key, issues_of};

fn executable(path: &Path, text: &str) {
    std::fs::write(path, text).expect("write script");
    std::fs::set_permissions(path, std::fs::Permissions::from_mode(0o755)).expect("chmod");
}

/// A program that records that it ran (and passes stdin through, as a filter would).
fn marker_program(dir: &Path) -> (PathBuf, PathBuf) {
    let marker = dir.join("ran.log");
    let program = dir.join("planted.sh");
    executable(
        &program,
        &format!(
            "#!/bin/sh\necho \"$0 $*\" >> '{}'\ncat 2>/dev/null\nexit 0\n",
            marker.display()
        ),
    );
    (program, marker)
}

#[test]
fn no_program_the_repository_configures_ever_runs() {
    let outside = tempfile::tempdir().expect("tempdir");
    let (program, marker) = marker_program(outside.path());
    let repo = TestRepo::new();
    repo.write("a.txt", "one\n");
    repo.write("run.sh", "#!/bin/sh\necho ok\n");
    repo.commit("initial");
    repo.write("a.txt", "two\n");
    repo.commit("second");
    // A commit object with a signature: `git log` under log.showSignature runs gpg.program.
    let tree = repo.git(&["rev-parse", "HEAD^{tree}"]);
    let parent = repo.head();
    let signed = format!(
        "tree {}\nparent {parent}\nauthor A <a@example.invalid> 1 +0000\ncommitter A <a@example.invalid> 1 +0000\ngpgsig -----BEGIN PGP SIGNATURE-----\n \n iQ\n -----END PGP SIGNATURE-----\n\nsigned\n",
        tree.trim()
    );
    repo.write(".git/signed.txt", signed);
    let oid = repo.git(&["hash-object", "-t", "commit", "-w", ".git/signed.txt"]);
    repo.git(&["update-ref", "refs/heads/main", oid.trim()]);

    // Every program the repository's configuration can name, planted after the commits.
    let p = program.to_string_lossy().into_owned();
    let hooks = outside.path().join("hooks");
    std::fs::create_dir_all(&hooks).expect("hooks dir");
    for hook in [
        "pre-commit",
        "post-checkout",
        "post-index-change",
        "reference-transaction",
        "fsmonitor-watchman",
        "post-rewrite",
    ] {
        executable(
            &hooks.join(hook),
            &format!("#!/bin/sh\nexec '{p}' {hook}\n"),
        );
    }
    for (key, value) in [
        ("core.fsmonitor", p.as_str()),
        ("filter.evil.clean", p.as_str()),
        ("filter.evil.smudge", p.as_str()),
        ("filter.evil.process", p.as_str()),
        ("filter.evil.required", "true"),
        ("diff.evil.textconv", p.as_str()),
        ("diff.evil.command", p.as_str()),
        ("diff.external", p.as_str()),
        ("core.hooksPath", &hooks.to_string_lossy()),
        ("core.sshCommand", p.as_str()),
        ("core.pager", p.as_str()),
        ("pager.log", p.as_str()),
        ("log.showSignature", "true"),
        ("gpg.program", p.as_str()),
        ("core.editor", p.as_str()),
        ("sequence.editor", p.as_str()),
        ("credential.helper", p.as_str()),
        ("core.askPass", p.as_str()),
    ] {
        repo.git(&["config", key, value]);
    }
    repo.write(".git/info/attributes", "* filter=evil diff=evil\n");
    // Uncommitted edits, so that a status has something to look at (and a racy mtime).
    repo.write("a.txt", "three\n");
    repo.write("new.txt", "new\n");
    repo.write(
        "auditor.toml",
        "[[check]]\nname = \"echo\"\ncommand = [\"sh\", \"run.sh\"]\n\n[watch]\ndebounce = \"100ms\"\nuncommitted_quiet = \"1s\"\npoll_interval = \"1s\"\nheartbeat = \"1s\"\nstale_after = \"3s\"\n",
    );
    assert!(!marker.exists(), "planting ran something");

    for args in [
        &["audit", "HEAD"][..],
        &["audit", "HEAD~1..HEAD"],
        &["scan", "--history"],
        &["scan", "--tree"],
        &["scan", "HEAD"],
        &["status"],
        &["inbox"],
        &["gate"],
    ] {
        let out = repo.auditor().args(args).output().expect("run auditor");
        assert!(
            out.status.code().is_some_and(|c| c <= 2),
            "auditor {args:?}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        assert!(
            !marker.exists(),
            "auditor {args:?} ran a program the repository configures:\n{}",
            std::fs::read_to_string(&marker).unwrap_or_default()
        );
    }
    // The daemon: its start-up look at HEAD, and an audit of the uncommitted changes.
    let w = repo.watch(&[]);
    w.wait_event(20, "audit_finished", |e| {
        e["details"]["uncommitted"] == true
    });
    drop(w);
    assert!(
        !marker.exists(),
        "auditor watch ran a program the repository configures:\n{}",
        std::fs::read_to_string(&marker).unwrap_or_default()
    );
}

#[test]
fn a_replace_ref_does_not_hide_a_secret_from_the_history_scan() {
    let repo = TestRepo::new();
    repo.write("conf.py", format!("KEY = \"{}\"\n", aws_key()));
    repo.commit("add a key");
    let leaked = repo.git(&["rev-parse", "HEAD:conf.py"]);
    repo.write("clean.txt", "KEY = None\n");
    repo.commit("unrelated");
    let clean = repo.git(&["rev-parse", "HEAD:clean.txt"]);
    // git (not libgit2) would now show the clean blob in place of the leaked one.
    repo.git(&["replace", "-f", leaked.trim(), clean.trim()]);
    let out = repo
        .auditor()
        .args(["scan", "--history", "--json"])
        .output()
        .expect("scan");
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(
        text.contains("aws-access-key-id"),
        "the replaced blob hid the key: {text}"
    );
}

#[test]
fn a_missing_blob_is_an_error_never_a_pass() {
    let repo = TestRepo::new();
    repo.write("README.md", "hi\n");
    repo.commit("initial");
    repo.write("conf.py", format!("KEY = \"{}\"\n", aws_key()));
    repo.commit("add a key");
    // The agent deletes the object that holds the key.
    let blob = repo.git(&["rev-parse", "HEAD:conf.py"]);
    let blob = blob.trim();
    let object = repo
        .path()
        .join(".git/objects")
        .join(&blob[..2])
        .join(&blob[2..]);
    std::fs::remove_file(&object).expect("remove the loose object");
    let out = repo
        .auditor()
        .args(["audit", "HEAD"])
        .output()
        .expect("audit");
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(3), "{stderr}");
    assert!(
        stderr.contains(blob) && stderr.contains("missing"),
        "{stderr}"
    );
    let out = repo
        .auditor()
        .args(["scan", "--history"])
        .output()
        .expect("scan");
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_ne!(out.status.code(), Some(0), "{stderr}");
    assert!(stderr.contains("missing"), "{stderr}");
}

const SHELLCHECK: &str = r#"
[[check]]
name = "shellcheck"
command = ["shellcheck", "-f", "json1", "{files}"]
files = ["*.sh"]
shebang = ["sh"]
format = "shellcheck"
severity = { error = "CRITICAL", warning = "HIGH", info = "MEDIUM", style = "LOW" }
"#;

#[test]
fn a_file_name_never_becomes_an_option_of_the_check() {
    let repo = TestRepo::new();
    repo.write("auditor.toml", SHELLCHECK);
    repo.write("README.md", "hi\n");
    repo.commit("initial");
    // Three shellcheck findings (SC2164 warning, SC2086 info twice) below `error`...
    repo.write("run.sh", "#!/bin/sh\ncd /tmp\necho $1\necho $2\n");
    // ...and a script whose name is an option that would hide every one of them.
    repo.write("--severity=error", "#!/bin/sh\necho fine\n");
    let head = repo.commit("scripts");
    let (code, report, out) = repo.audit_json(&[]);
    let lint = issues_of(&report, "LINT");
    let files: Vec<&str> = lint.iter().filter_map(|i| i["file"].as_str()).collect();
    assert_eq!(files, ["run.sh", "run.sh", "run.sh"], "{out}");
    assert_eq!(report["status"], "FAIL", "{out}");
    assert_eq!(code, 1);
    assert_eq!(report["commit_hash"], head.as_str());
}

#[test]
fn a_file_name_that_is_not_utf8_reaches_the_check_as_its_bytes() {
    use std::os::unix::ffi::OsStrExt;
    let repo = TestRepo::new();
    repo.write("auditor.toml", SHELLCHECK);
    repo.write("README.md", "hi\n");
    repo.commit("initial");
    let name = std::ffi::OsStr::from_bytes(b"caf\xe9.sh");
    std::fs::write(repo.path().join(name), "#!/bin/sh\ncd /tmp\n").expect("write");
    repo.commit("a script with a Latin-1 name");
    let (_, report, out) = repo.audit_json(&[]);
    let lint = issues_of(&report, "LINT");
    assert_eq!(lint.len(), 1, "{out}");
    assert_eq!(lint[0]["rule"], "SC2164", "{out}");
    assert_eq!(
        crate::support::check(&report, "shellcheck")["outcome"],
        "failed"
    );
}
