//! A verdict that cannot be fooled: the audited tree is exactly the commit, no program the
//! repository configures runs, no commit is lost, and the agent cannot switch the supervision
//! off. Each test reproduces a way it was fooled, through the real binary.

use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};

use crate::support::{TestRepo, aws_key, eventually, issues_of};

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
    // SC2086 twice in one file is one issue listing both lines.
    assert_eq!(files, ["run.sh", "run.sh"], "{out}");
    let sc2086 = lint.iter().find(|i| i["rule"] == "SC2086").expect("SC2086");
    assert!(
        sc2086["description"]
            .as_str()
            .is_some_and(|d| d.contains("at 2 places in `run.sh`")),
        "{out}"
    );
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

/// The snapshot's `git status`: empty when its tracked files are exactly the commit.
fn snapshot_status(repo: &TestRepo) -> String {
    let out = std::process::Command::new("git")
        .args(["status", "--porcelain", "--untracked-files=no"])
        .current_dir(repo.path().join("state/supervisor/workspace"))
        .output()
        .expect("git status in the snapshot");
    String::from_utf8_lossy(&out.stdout).into_owned()
}

#[test]
fn a_fixing_linter_is_reported_and_undone_before_the_tests_run() {
    let repo = TestRepo::new();
    // As pallets/click does: ruff applies its fixes unless told not to.
    repo.write("pyproject.toml", "[tool.ruff]\nfix = true\n");
    repo.write("pkg/__init__.py", "");
    repo.write(
        "pkg/util.py",
        "from __future__ import annotations\n\nimport enum\n\nColor = enum.Enum(\"Color\", \"red green\")\n",
    );
    repo.write(
        "auditor.toml",
        r#"
[[check]]
name = "ruff"
command = ["ruff", "check", "--output-format", "json", "{files}"]
files = ["*.py"]
format = "ruff"

[[check]]
name = "import"
stage = "test"
command = ["python3", "-c", "import pkg.util"]
"#,
    );
    repo.commit("initial");
    // An unused import above the __future__ import: a SyntaxError at import time, which
    // ruff's fix (removing the unused import) would hide from the tests.
    let text = std::fs::read_to_string(repo.path().join("pkg/util.py")).expect("read");
    repo.write("pkg/util.py", format!("import os\n{text}"));
    repo.commit("import os");
    let (code, report, out) = repo.audit_json(&[]);
    let modified = issues_of(&report, "CHECK_MODIFIED_TREE");
    assert_eq!(modified.len(), 1, "{out}");
    let m = &modified[0];
    assert_eq!(m["severity"], "MEDIUM");
    assert_eq!(m["check"], "ruff");
    assert!(
        m["description"]
            .as_str()
            .is_some_and(|d| d.contains("`pkg/util.py` (modified)")),
        "{m}"
    );
    assert!(
        m["snippet"]
            .as_str()
            .is_some_and(|s| s.contains("-import os")),
        "{m}"
    );
    // The test ran on the commit, not on what ruff made of it.
    assert_eq!(
        crate::support::check(&report, "import")["outcome"],
        "failed",
        "{out}"
    );
    assert_eq!(issues_of(&report, "TEST_FAILURE").len(), 1, "{out}");
    assert_eq!(code, 1);
    assert_eq!(snapshot_status(&repo), "");
}

#[test]
fn concurrent_checks_are_run_again_one_at_a_time_when_one_changed_the_tree() {
    let repo = TestRepo::new();
    repo.write("a.txt", "original\n");
    repo.write(
        "auditor.toml",
        r#"
[runner]
jobs = 2

[[check]]
name = "fixer"
command = ["sh", "-c", "echo tampered > a.txt"]

[[check]]
name = "reader"
command = ["sh", "-c", "sleep 0.3; grep -q original a.txt"]

[[check]]
name = "tests"
stage = "test"
command = ["grep", "-q", "original", "a.txt"]
"#,
    );
    repo.commit("initial");
    let (code, report, out) = repo.audit_json(&[]);
    let modified = issues_of(&report, "CHECK_MODIFIED_TREE");
    assert_eq!(modified.len(), 1, "{out}");
    assert_eq!(modified[0]["check"], "fixer");
    // The reader, run again after the fixer's change was undone, saw the commit.
    assert_eq!(
        crate::support::check(&report, "reader")["outcome"],
        "passed",
        "{out}"
    );
    assert_eq!(
        crate::support::check(&report, "tests")["outcome"],
        "passed",
        "{out}"
    );
    assert_eq!(code, 0, "{out}");
    assert_eq!(snapshot_status(&repo), "");
}

#[test]
fn a_check_cannot_make_the_next_checkout_write_outside_the_snapshot() {
    let outside = tempfile::tempdir().expect("tempdir");
    let o = outside.path();
    std::fs::write(o.join("victim.txt"), "victim\n").expect("victim");
    std::fs::write(o.join("hard.txt"), "hard\n").expect("hard");
    std::fs::create_dir(o.join("dir")).expect("dir");
    let repo = TestRepo::new();
    repo.write("x.txt", "x\n");
    repo.write("data/f.txt", "f\n");
    // The check plants links where the next commit puts files and folders, and turns tracked
    // paths into a hard link and a symlink out of the snapshot.
    repo.write(
        "auditor.toml",
        format!(
            r#"
[[check]]
name = "planter"
command = ["sh", "-c", "ln -sf {o}/victim.txt later.txt; ln -s {o}/dir newdir; rm -rf data; ln -s {o}/dir data; ln -f {o}/hard.txt x.txt; true"]
"#,
            o = o.display()
        ),
    );
    repo.commit("initial");
    let (_, report, out) = repo.audit_json(&[]);
    let modified = issues_of(&report, "CHECK_MODIFIED_TREE");
    assert_eq!(modified.len(), 1, "{out}");
    let d = modified[0]["description"].as_str().unwrap_or_default();
    assert!(
        d.contains("`data/f.txt`") && d.contains("`x.txt` (modified)"),
        "{d}"
    );

    repo.write("x.txt", "x2\n");
    repo.write("data/f.txt", "f2\n");
    repo.write("later.txt", "written later\n");
    repo.write("newdir/g.txt", "g\n");
    repo.commit("files where the links were");
    repo.audit_json(&[]);
    assert_eq!(
        std::fs::read_to_string(o.join("victim.txt")).expect("read"),
        "victim\n"
    );
    assert_eq!(
        std::fs::read_to_string(o.join("hard.txt")).expect("read"),
        "hard\n"
    );
    let escaped: Vec<_> = std::fs::read_dir(o.join("dir")).expect("list").collect();
    assert!(
        escaped.is_empty(),
        "the checkout wrote outside: {escaped:?}"
    );
    let ws = repo.path().join("state/supervisor/workspace");
    assert_eq!(
        std::fs::read_to_string(ws.join("later.txt")).expect("read"),
        "written later\n"
    );
    assert_eq!(
        std::fs::read_to_string(ws.join("newdir/g.txt")).expect("read"),
        "g\n"
    );
    assert!(
        !std::fs::symlink_metadata(ws.join("newdir"))
            .expect("stat")
            .file_type()
            .is_symlink()
    );
}

#[test]
fn a_check_cannot_point_the_snapshot_at_the_agents_repository() {
    let repo = TestRepo::new();
    repo.write("a.txt", "a\n");
    repo.write(
        "auditor.toml",
        "[[check]]\nname = \"swap\"\ncommand = [\"sh\", \"-c\", \"rm -rf .git && ln -s \\\"$AUDITOR_REPO/.git\\\" .git\"]\n",
    );
    repo.commit("initial");
    repo.write("a.txt", "b\n");
    repo.commit("second");
    let head_before = std::fs::read(repo.path().join(".git/HEAD")).expect("HEAD");
    let index_before = std::fs::read(repo.path().join(".git/index")).expect("index");
    let (_, report, out) = repo.audit_json(&[]);
    assert_eq!(
        std::fs::read(repo.path().join(".git/HEAD")).expect("HEAD"),
        head_before
    );
    assert_eq!(
        std::fs::read(repo.path().join(".git/index")).expect("index"),
        index_before
    );
    let modified = issues_of(&report, "CHECK_MODIFIED_TREE");
    assert!(
        modified[0]["description"]
            .as_str()
            .is_some_and(|d| d.contains("`.git` (replaced by a symlink")),
        "{out}"
    );
    assert_eq!(repo.git(&["status", "--porcelain"]), "");
    // And the next audit finds a snapshot of its own again.
    let (_, report, _) = repo.audit_json(&["HEAD~1"]);
    assert_eq!(
        report["commit_hash"],
        repo.git(&["rev-parse", "HEAD~1"]).trim()
    );
    assert_eq!(snapshot_status(&repo), "");
}

#[test]
fn a_tree_git_refuses_to_check_out_is_still_scanned_and_says_what_did_not_run() {
    let repo = TestRepo::new();
    repo.write("README.md", "hi\n");
    repo.write(
        "auditor.toml",
        "[[check]]\nname = \"tests\"\nstage = \"test\"\ncommand = [\"true\"]\n",
    );
    repo.commit("initial");
    // A commit whose tree holds `.GIT/config` (libgit2 will not write it) and a key.
    let key = repo.git_stdin(
        &["hash-object", "-w", "--stdin"],
        &format!("KEY = \"{}\"\n", aws_key()),
    );
    let config = repo.git_stdin(
        &["hash-object", "-w", "--stdin"],
        "[core]\n\tworktree = /\n",
    );
    let sub = repo.git_stdin(
        &["mktree"],
        &format!("100644 blob {}\tconfig\n", config.trim()),
    );
    let mut top = repo.git(&["ls-tree", "HEAD"]);
    top.push_str(&format!(
        "040000 tree {}\t.GIT\n100644 blob {}\tconf.py\n",
        sub.trim(),
        key.trim()
    ));
    let tree = repo.git_stdin(&["mktree"], &top);
    let commit = repo.git(&[
        "commit-tree",
        tree.trim(),
        "-p",
        "HEAD",
        "-m",
        "refused path",
    ]);
    repo.git(&["update-ref", "refs/heads/main", commit.trim()]);
    let (code, report, out) = repo.audit_json(&[]);
    assert_eq!(code, 1, "{out}");
    assert_eq!(issues_of(&report, "SECRET_EXPOSURE").len(), 1, "{out}");
    let unavailable: Vec<_> = issues_of(&report, "CHECK_ERROR")
        .into_iter()
        .filter(|i| i["check"] == "workspace")
        .collect();
    assert_eq!(unavailable.len(), 1, "{out}");
    assert_eq!(unavailable[0]["severity"], "HIGH");
    assert!(
        unavailable[0]["description"]
            .as_str()
            .is_some_and(|d| d.contains("`.GIT`") && d.contains("`tests`")),
        "{out}"
    );
    assert_eq!(crate::support::check(&report, "tests")["outcome"], "error");
    assert!(
        repo.path()
            .join(format!("logs/audit/report_{}.json", commit.trim()))
            .exists()
    );
}

/// Processes that leave the check's group: a new session (`sleep A`), and a double fork
/// (`sleep B`).
fn escape(a: u32, b: u32) -> String {
    format!(
        "setsid sleep {a} >/dev/null 2>&1 </dev/null & (sh -c 'sleep {b} >/dev/null 2>&1 </dev/null &'); "
    )
}

#[test]
fn processes_that_escape_the_checks_group_are_killed_and_reported() {
    let repo = TestRepo::new();
    repo.write(
        "auditor.toml",
        format!(
            "[[check]]\nname = \"escaper\"\ncommand = [\"sh\", \"-c\", \"{}exit 0\"]\n",
            escape(31401, 31402)
        ),
    );
    repo.commit("escape");
    let (_, report, out) = repo.audit_json(&[]);
    let run = crate::support::check(&report, "escaper");
    assert_eq!(run["outcome"], "passed", "{out}");
    assert_eq!(run["leaked_processes_killed"], true, "{out}");
    let killed = run["killed_processes"].to_string();
    assert!(
        killed.contains("sleep 31401") && killed.contains("sleep 31402"),
        "{killed}"
    );
    assert!(
        !crate::support::process_alive("sleep 31401"),
        "the setsid escapee survived"
    );
    assert!(
        !crate::support::process_alive("sleep 31402"),
        "the double-forked escapee survived"
    );
}

#[test]
fn escaped_processes_die_at_a_timeout_and_with_a_killed_auditor() {
    let repo = TestRepo::new();
    repo.write(
        "auditor.toml",
        format!(
            "[runner]\ngrace = \"300ms\"\n\n[[check]]\nname = \"slow\"\nstage = \"test\"\ncommand = [\"sh\", \"-c\", \"trap '' TERM; {}sleep 31413\"]\ntimeout = \"1s\"\n",
            escape(31411, 31412)
        ),
    );
    repo.commit("escape and hang");
    let (_, report, out) = repo.audit_json(&[]);
    assert_eq!(
        crate::support::check(&report, "slow")["outcome"],
        "timed_out",
        "{out}"
    );
    for n in ["31411", "31412", "31413"] {
        assert!(
            !crate::support::process_alive(&format!("sleep {n}")),
            "sleep {n} survived the timeout"
        );
    }

    // The same check (in a repository of its own), and the auditor SIGKILLed while it runs.
    let repo = TestRepo::new();
    repo.write(
        "auditor.toml",
        format!(
            "[[check]]\nname = \"slow\"\nstage = \"test\"\ncommand = [\"sh\", \"-c\", \"{}sleep 31413\"]\n",
            escape(31411, 31412)
        ),
    );
    repo.commit("escape and run long");
    let mut auditor = std::process::Command::new(assert_cmd::cargo::cargo_bin("auditor"))
        .args(["audit", "--json"])
        .current_dir(repo.path())
        .env("HOME", repo.path())
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .spawn()
        .expect("start auditor");
    assert!(
        crate::support::eventually(30, || ["31411", "31412", "31413"]
            .iter()
            .all(|n| crate::support::process_alive(&format!("sleep {n}")))),
        "the check never started"
    );
    auditor.kill().expect("SIGKILL the auditor");
    auditor.wait().expect("reap");
    assert!(
        crate::support::eventually(10, || ["31411", "31412", "31413"]
            .iter()
            .all(|n| !crate::support::process_alive(&format!("sleep {n}")))),
        "processes outlived the killed auditor"
    );
}

/// Fast daemon timings, then `rest`; written inside `.git/` so the tree stays clean.
fn daemon_config(repo: &TestRepo, uncommitted: bool, rest: &str) -> String {
    let text = format!(
        "[watch]\ndebounce = \"200ms\"\npoll_interval = \"1s\"\nheartbeat = \"1s\"\nstale_after = \"3s\"\nuncommitted = {uncommitted}\nuncommitted_quiet = \"1s\"\n{rest}"
    );
    let path = repo.path().join(".git/auditor-test.toml");
    std::fs::write(&path, text).expect("write config");
    path.to_string_lossy().into_owned()
}

fn inbox_files(repo: &TestRepo, prefix: &str) -> Vec<String> {
    std::fs::read_dir(repo.path().join("tasks/supervisor_feedback"))
        .map(|d| {
            d.flatten()
                .map(|e| e.file_name().to_string_lossy().into_owned())
                .filter(|n| n.starts_with(prefix))
                .collect()
        })
        .unwrap_or_default()
}

#[test]
fn a_kill_during_a_hook_neither_audits_again_nor_runs_the_hook_twice() {
    let repo = TestRepo::new();
    repo.write("README.md", "hi\n");
    repo.commit("initial");
    let log = repo.path().join(".git/hook.log");
    let cfg = daemon_config(
        &repo,
        false,
        &format!(
            "[hooks]\non_critical = [\"sh\", \"-c\", \"echo ran >> '{}'; sleep 31421\"]\ntimeout = \"5m\"\n",
            log.display()
        ),
    );
    let mut w = repo.watch(&["--config", &cfg]);
    w.wait_settled(20);
    repo.write("conf.py", format!("KEY = \"{}\"\n", aws_key()));
    let head = repo.commit("add a key");
    // The shell's own command line names the sleep before it has run the echo: wait for both.
    assert!(
        eventually(20, || log.is_file()
            && crate::support::process_alive("sleep 31421")),
        "the hook never ran:\n{}",
        w.output()
    );
    w.signal(nix::sys::signal::Signal::SIGKILL);
    w.wait_exit(10).expect("the daemon died");
    assert!(
        eventually(10, || !crate::support::process_alive("sleep 31421")),
        "the hook outlived the killed daemon"
    );
    drop(w);
    let w = repo.watch(&["--config", &cfg]);
    w.wait_settled(20);
    std::thread::sleep(std::time::Duration::from_secs(2));
    w.wait_settled(20);
    let audits = crate::support::audited_commits(&w.events())
        .into_iter()
        .filter(|c| *c == head)
        .count();
    assert_eq!(audits, 1, "the commit was audited again:\n{}", w.output());
    assert_eq!(
        inbox_files(&repo, "ISSUE_").len(),
        1,
        "a second feedback file"
    );
    assert_eq!(std::fs::read_to_string(&log).expect("hook log"), "ran\n");
}

#[test]
fn an_audit_that_cannot_write_is_retried_reported_and_never_counted_as_audited() {
    let repo = TestRepo::new();
    repo.write("README.md", "hi\n");
    repo.commit("initial");
    let cfg = daemon_config(&repo, false, "");
    let w = repo.watch(&["--config", &cfg]);
    w.wait_settled(20);
    // The next commit's report cannot be written: a folder stands at its path.
    repo.write("b.txt", "b\n");
    repo.git(&["add", "-A"]);
    let tree = repo.git(&["write-tree"]);
    let parent = repo.head();
    let commit = repo.git(&["commit-tree", tree.trim(), "-p", &parent, "-m", "second"]);
    let commit = commit.trim().to_string();
    std::fs::create_dir_all(
        repo.path()
            .join(format!("logs/audit/report_{commit}.json/x")),
    )
    .expect("block the report");
    repo.git(&["update-ref", "refs/heads/main", &commit]);

    let feedback = || {
        inbox_files(&repo, "ISSUE_")
            .into_iter()
            .find(|n| n.contains("PROC-"))
    };
    assert!(
        eventually(30, || feedback().is_some()),
        "no AUDIT_FAILED feedback:\n{}",
        w.output()
    );
    // The issue file lands before the index is rewritten: wait for both.
    let index = || {
        std::fs::read_to_string(repo.path().join("tasks/supervisor_feedback/INBOX.md"))
            .unwrap_or_default()
    };
    assert!(
        eventually(10, || index().contains("could not be audited")),
        "{}",
        index()
    );
    let status = repo
        .auditor()
        .args(["status", "--json"])
        .output()
        .expect("status");
    let status: serde_json::Value = serde_json::from_slice(&status.stdout).expect("json");
    assert_eq!(
        status["status"]["unaudited"][0],
        commit.as_str(),
        "{status}"
    );
    let human = |args: &[&str]| {
        let out = repo.auditor().args(args).output().expect("status");
        String::from_utf8_lossy(&out.stdout).into_owned()
    };
    let long = human(&["status"]);
    assert!(
        long.contains(&format!("UNAUDITED:  1 commit ({})", &commit[..7])),
        "{long}"
    );
    let short = human(&["status", "--short"]);
    assert!(short.contains("1 UNAUDITED"), "{short}");
    let gate = repo.auditor().arg("gate").output().expect("gate");
    assert_eq!(gate.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&gate.stderr).contains("could not be audited"));
    let daemon = std::fs::read_to_string(repo.path().join("state/supervisor/daemon.json"))
        .expect("daemon.json");
    let audited: serde_json::Value = serde_json::from_str(&daemon).expect("json");
    assert!(
        !audited["audited"]
            .as_array()
            .is_some_and(|a| a.iter().any(|c| c == commit.as_str())),
        "a failed audit was recorded as audited: {daemon}"
    );

    // The cause goes away: the next retry audits the commit and the issue resolves.
    std::fs::remove_dir_all(repo.path().join(format!("logs/audit/report_{commit}.json")))
        .expect("unblock");
    assert!(
        eventually(60, || repo
            .path()
            .join(format!("logs/audit/report_{commit}.json"))
            .is_file()),
        "never retried:\n{}",
        w.output()
    );
    w.wait_settled(20);
    let gate = repo.auditor().arg("gate").output().expect("gate");
    assert_eq!(
        gate.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&gate.stderr)
    );
}

#[test]
fn a_clean_uncommitted_change_does_not_end_the_wait_while_a_critical_is_open() {
    let repo = TestRepo::new();
    repo.write("README.md", "hi\n");
    repo.commit("initial");
    let cfg = daemon_config(&repo, true, "");
    let w = repo.watch(&["--config", &cfg]);
    w.wait_settled(20);
    repo.write("conf.py", format!("KEY = \"{}\"\n", aws_key()));
    repo.commit("add a key");
    let state = || {
        std::fs::read_to_string(repo.path().join("state/supervisor/status.json"))
            .ok()
            .and_then(|t| serde_json::from_str::<serde_json::Value>(&t).ok())
            .and_then(|v| v["state"].as_str().map(str::to_string))
    };
    assert!(
        eventually(20, || state().as_deref() == Some("WAIT_FOR_FIX")),
        "{}",
        w.output()
    );
    // An unrelated, clean edit, left uncommitted: audited after the quiet period.
    repo.write("README.md", "hello\n");
    w.wait_event(20, "audit_finished", |e| {
        e["details"]["uncommitted"] == true
    });
    w.wait_settled(20);
    assert_eq!(state().as_deref(), Some("WAIT_FOR_FIX"), "{}", w.output());
}

#[test]
fn skip_audit_skips_linters_and_tests_never_the_secret_scanner_and_the_guards() {
    let repo = TestRepo::new();
    repo.write("README.md", "hi\n");
    repo.commit("initial");
    let cfg = daemon_config(
        &repo,
        false,
        "[[check]]\nname = \"tests\"\nstage = \"test\"\ncommand = [\"true\"]\n",
    );
    let w = repo.watch(&["--config", &cfg]);
    w.wait_settled(20);
    // Alone: a skipped commit that adds a key.
    repo.write("conf.py", format!("KEY = \"{}\"\n", aws_key()));
    let leak = repo.commit("config [skip-audit]");
    w.wait_event(20, "audit_finished", |e| e["commit"] == leak.as_str());
    let report = repo.report(&leak);
    assert_eq!(issues_of(&report, "SECRET_EXPOSURE").len(), 1, "{report}");
    assert_eq!(
        crate::support::check(&report, "tests")["outcome"],
        "skipped"
    );
    // Alternating, in one batch: the key added by a skipped commit, removed by the next.
    drop(w);
    repo.write("conf.py", "KEY = None\n");
    repo.commit("remove the key");
    let w = repo.watch(&["--config", &cfg]);
    w.wait_settled(20);
    repo.write(
        "deploy.py",
        format!("TOKEN = \"{}\"\n", crate::support::github_token()),
    );
    repo.git(&["add", "-A"]);
    repo.git(&["commit", "-q", "-m", "deploy [skip-audit]"]);
    let hidden = repo.head();
    repo.write("deploy.py", "TOKEN = None\n");
    repo.git(&["add", "-A"]);
    repo.git(&["commit", "-q", "-m", "tidy"]);
    let head = repo.head();
    w.wait_event(20, "audit_finished", |e| e["commit"] == head.as_str());
    w.wait_settled(20);
    // Usually one batch; should the commits land in two, the skipped one has its own report.
    let reports: Vec<_> = [&head, &hidden]
        .iter()
        .filter(|c| {
            repo.path()
                .join(format!("logs/audit/report_{c}.json"))
                .exists()
        })
        .map(|c| repo.report(c))
        .collect();
    assert!(
        reports.iter().any(|r| issues_of(r, "SECRET_EXPOSURE")
            .iter()
            .any(|s| s["commit"] == hidden.as_str())),
        "the skipped commit's token was not reported: {reports:?}"
    );
}

#[test]
fn a_pragma_in_a_string_literal_silences_nothing() {
    let repo = TestRepo::new();
    repo.write(
        "web/a.test.js",
        "it('adds', () => { expect(add(1, 1)).toBe(2) })\n",
    );
    repo.commit("initial");
    // A template literal that looks like a pragma, on the line before the skip.
    repo.write(
        "web/a.test.js",
        "const note = `// auditor:allow(TEST_DISABLED) flaky`;\nit.skip('adds', () => { expect(add(1, 1)).toBe(2) })\n",
    );
    repo.commit("skip a test");
    let (_, report, out) = repo.audit_json(&[]);
    let disabled = issues_of(&report, "TEST_DISABLED");
    assert_eq!(disabled.len(), 1, "{out}");
    assert_eq!(disabled[0]["severity"], "HIGH");
    assert!(issues_of(&report, "GUARD_SUPPRESSED").is_empty(), "{out}");
}

#[test]
fn switching_a_scanner_off_in_the_untracked_config_is_seen() {
    let repo = TestRepo::new();
    repo.write("README.md", "hi\n");
    repo.commit("initial");
    let cfg = daemon_config(&repo, false, "");
    let w = repo.watch(&["--config", &cfg]);
    w.wait_settled(20);
    repo.write("a.txt", "a\n");
    let first = repo.commit("first");
    w.wait_event(20, "audit_finished", |e| e["commit"] == first.as_str());
    drop(w);
    // The agent switches the secret scanner off and restarts the daemon.
    let cfg = daemon_config(&repo, false, "[secrets]\nenabled = false\n");
    let w = repo.watch(&["--config", &cfg]);
    w.wait_settled(20);
    repo.write("conf.py", format!("KEY = \"{}\"\n", aws_key()));
    let leak = repo.commit("config");
    w.wait_event(20, "audit_finished", |e| e["commit"] == leak.as_str());
    let report = repo.report(&leak);
    let tamper = issues_of(&report, "SUPERVISION_TAMPERING");
    assert_eq!(tamper.len(), 1, "{report}");
    assert_eq!(tamper[0]["severity"], "CRITICAL");
    assert!(
        tamper[0]["description"]
            .as_str()
            .is_some_and(|d| d.contains("secrets.enabled: true → false")),
        "{report}"
    );
    assert_eq!(report["status"], "FAIL");
    w.wait_event(5, "config_changed", |e| e["commit"] == leak.as_str());
    assert_eq!(
        repo.auditor()
            .arg("gate")
            .output()
            .expect("gate")
            .status
            .code(),
        Some(2)
    );
    // It stays until the settings supervise as much as before.
    repo.write("b.txt", "b\n");
    let next = repo.commit("more");
    w.wait_event(20, "audit_finished", |e| e["commit"] == next.as_str());
    assert_eq!(
        issues_of(&repo.report(&next), "SUPERVISION_TAMPERING").len(),
        1
    );
    drop(w);
    let cfg = daemon_config(&repo, false, "");
    let w = repo.watch(&["--config", &cfg]);
    w.wait_settled(20);
    repo.write("c.txt", "c\n");
    let restored = repo.commit("restored");
    w.wait_event(20, "audit_finished", |e| e["commit"] == restored.as_str());
    let report = repo.report(&restored);
    assert!(
        issues_of(&report, "SUPERVISION_TAMPERING").is_empty(),
        "{report}"
    );
    assert!(
        report["resolved"]
            .as_array()
            .is_some_and(|r| r.iter().any(|x| x["type"] == "SUPERVISION_TAMPERING")),
        "{report}"
    );
}

#[test]
fn a_change_that_weakens_nothing_is_an_event_not_an_issue() {
    let repo = TestRepo::new();
    repo.write("a.txt", "a\n");
    repo.commit("initial");
    repo.audit_json(&[]);
    repo.write(
        "auditor.toml",
        "[policy]\nfail_on = \"MEDIUM\"\n[runner]\nnice = 15\n",
    );
    repo.write("b.txt", "b\n");
    repo.commit("second");
    let (_, report, out) = repo.audit_json(&[]);
    assert!(
        issues_of(&report, "SUPERVISION_TAMPERING").is_empty(),
        "{out}"
    );
    let changes = report["settings_changes"]
        .as_array()
        .cloned()
        .unwrap_or_default();
    assert_eq!(changes.len(), 1, "{out}");
    assert_eq!(changes[0]["key"], "policy.fail_on");
    assert_eq!(changes[0]["weakens"], false);
}

#[test]
fn a_secret_in_the_settings_reaches_no_report_and_no_state_file() {
    let repo = TestRepo::new();
    repo.write("README.md", "hi\n");
    repo.commit("initial");
    let token = crate::support::github_token();
    let cfg = repo.path().join(".git/auditor-secret-settings.toml");
    let write = |text: &str| std::fs::write(&cfg, text).expect("config");
    let cfg_arg = cfg.to_string_lossy().into_owned();
    // The operator's hook carries a token in its arguments.
    write(&format!(
        "[hooks]\non_critical = [\"notify\", \"--token\", \"{token}\"]\n"
    ));
    repo.audit_json(&["--config", &cfg_arg, "--no-tests"]);
    // The hook goes: a weakening, shown with its before and after.
    write("");
    repo.write("b.txt", "b\n");
    let head = repo.commit("b");
    let (_, report, out) = repo.audit_json(&["--config", &cfg_arg, "--no-tests"]);
    assert_eq!(
        issues_of(&report, "SUPERVISION_TAMPERING").len(),
        1,
        "{report}"
    );
    let report_text =
        std::fs::read_to_string(repo.path().join(format!("logs/audit/report_{head}.json")))
            .expect("report");
    let baseline = std::fs::read_to_string(repo.path().join("state/supervisor/supervision.json"))
        .expect("baseline");
    for (what, text) in [
        ("report", &report_text),
        ("baseline", &baseline),
        ("output", &out),
    ] {
        assert!(
            !text.contains(&token),
            "the token reached the {what}:\n{text}"
        );
    }
    assert!(report_text.contains("hooks.on_critical"), "{report_text}");
}
