//! The audit engine end to end: reports, inbox, locations, the snapshot, the repo left clean.

use crate::support::*;

const SHELLCHECK_CONFIG: &str = r#"
[[check]]
name = "shellcheck"
command = ["shellcheck", "-f", "json1", "{files}"]
files = ["*.sh"]
format = "shellcheck"
severity = { error = "CRITICAL", warning = "HIGH", info = "MEDIUM", style = "LOW" }
"#;

#[test]
fn shellcheck_finding_has_file_line_and_mapped_severity() {
    let repo = TestRepo::new();
    repo.write("auditor.toml", SHELLCHECK_CONFIG);
    repo.write("bin/run.sh", "#!/bin/sh\necho hello\n");
    repo.commit("add script");
    repo.write("bin/run.sh", "#!/bin/sh\necho hello\ncd /tmp\n");
    repo.commit("cd without a guard");

    let (code, report, _) = repo.audit_json(&[]);
    let lint = issues_of(&report, "LINT");
    assert_eq!(lint.len(), 1, "{lint:?}");
    let i = &lint[0];
    assert_eq!(i["file"], "bin/run.sh");
    assert_eq!(i["line"], 3);
    assert_eq!(i["rule"], "SC2164");
    assert_eq!(i["location"], "introduced");
    // shellcheck calls SC2164 a warning; the config maps warnings to HIGH.
    assert_eq!(i["severity"], "HIGH");
    assert_eq!(i["id"], "LINT-001");
    assert_eq!(check(&report, "shellcheck")["outcome"], "failed");
    assert_eq!(report["status"], "FAIL");
    assert_eq!(code, 1);
}

#[test]
fn preexisting_and_touched_findings_are_ranked_down_not_dropped() {
    let repo = TestRepo::new();
    repo.write("auditor.toml", SHELLCHECK_CONFIG);
    repo.write("a.sh", "#!/bin/sh\ncd /tmp\necho ok\n");
    repo.commit("first");
    repo.write("a.sh", "#!/bin/sh\ncd /tmp\necho fine\n");
    repo.commit("edit another line");

    let (code, report, _) = repo.audit_json(&[]);
    let lint = issues_of(&report, "LINT");
    assert_eq!(lint.len(), 1);
    assert_eq!(lint[0]["location"], "touched");
    assert_eq!(lint[0]["severity"], "MEDIUM", "HIGH dropped one level");
    assert_eq!(report["status"], "WARN");
    assert_eq!(code, 0);
}

#[test]
fn writes_report_and_inbox_and_leaves_git_status_unchanged() {
    let repo = TestRepo::new();
    repo.write("README.md", "hello\n");
    repo.commit("first");
    repo.write("app.py", format!("KEY = \"{}\"\n", aws_key()));
    let head = repo.commit("add config");
    // The agent is mid-task: an edit, an untracked file, a staged change.
    repo.write("README.md", "hello, edited but not committed\n");
    repo.write("notes.txt", "scratch\n");
    repo.write("staged.txt", "staged\n");
    repo.git(&["add", "staged.txt"]);
    let status_before = repo.git(&["status", "--porcelain", "--untracked-files=all"]);
    let index_before = std::fs::read(repo.path().join(".git/index")).expect("index");

    let (code, report, _) = repo.audit_json(&[]);
    assert_eq!(code, 1);
    assert_eq!(report["commit_hash"], head.as_str());
    assert!(
        repo.path()
            .join(format!("logs/audit/report_{head}.json"))
            .is_file()
    );
    let inbox: Vec<_> = repo
        .files_under("tasks/supervisor_feedback")
        .into_iter()
        .filter(|p| p.to_string_lossy().contains("/ISSUE_"))
        .collect();
    assert_eq!(inbox.len(), 1, "{inbox:?}");
    let name = inbox[0]
        .file_name()
        .expect("name")
        .to_string_lossy()
        .into_owned();
    assert!(
        name.starts_with("ISSUE_") && name.ends_with("_CRITICAL_SEC-001.md"),
        "{name}"
    );
    let text = std::fs::read_to_string(&inbox[0]).expect("inbox file");
    for part in [
        "# Supervisor Feedback: [CRITICAL]",
        "**Context:** Commit `",
        "**File:** `app.py` (line 1)",
        "## Issue",
        "## Remediation",
        "## Severity",
        "CRITICAL - Immediate Fix Required.",
    ] {
        assert!(text.contains(part), "missing {part:?} in\n{text}");
    }

    // The agent's tree, index, HEAD and stash are exactly as they were.
    assert_eq!(
        repo.git(&["status", "--porcelain", "--untracked-files=all"]),
        status_before
    );
    assert_eq!(
        std::fs::read(repo.path().join(".git/index")).expect("index"),
        index_before
    );
    assert_eq!(repo.head(), head);
    assert_eq!(repo.git(&["stash", "list"]), "");
    let exclude = std::fs::read_to_string(repo.path().join(".git/info/exclude")).expect("exclude");
    for p in [
        "/logs/audit/",
        "/tasks/supervisor_feedback/",
        "/state/supervisor/",
    ] {
        assert!(exclude.lines().any(|l| l == p), "{p} not excluded");
    }
}

#[test]
fn auditing_the_same_commit_twice_does_not_repeat_feedback() {
    let repo = TestRepo::new();
    repo.write("app.py", format!("KEY = \"{}\"\n", aws_key()));
    repo.commit("leak");
    repo.audit_json(&[]);
    let (_, report, _) = repo.audit_json(&[]);
    let issue_files = repo
        .files_under("tasks/supervisor_feedback")
        .into_iter()
        .filter(|p| p.to_string_lossy().contains("/ISSUE_"))
        .count();
    assert_eq!(issue_files, 1);
    // A re-run of the same commit is not a second commit the issue survived.
    assert_eq!(report["issues"][0]["seen_in_commits"], 1, "{report}");
}

#[test]
fn snapshot_holds_exactly_the_commit_while_the_tree_has_edits() {
    let repo = TestRepo::new();
    repo.write(
        "auditor.toml",
        r#"
[[check]]
name = "view"
command = ["sh", "-c", "echo \"data.txt:1: content=$(cat data.txt) untracked=$(ls untracked.txt 2>/dev/null) gone=$(ls gone.txt 2>/dev/null) pwd=$(pwd)\"; exit 1"]
format = "lines"
"#,
    );
    repo.write("data.txt", "committed\n");
    repo.write("gone.txt", "x\n");
    repo.commit("first");
    repo.git(&["rm", "-q", "gone.txt"]);
    repo.commit("remove gone.txt");
    repo.write("data.txt", "uncommitted edit\n");
    repo.write("untracked.txt", "agent scratch\n");
    repo.write("gone.txt", "recreated but untracked\n");

    let (_, report, _) = repo.audit_json(&["--no-tests"]);
    let desc = issues(&report)
        .into_iter()
        .find(|i| i["check"] == "view")
        .map(|i| i["description"].as_str().unwrap_or_default().to_string())
        .expect("the view check reported");
    assert!(desc.contains("content=committed "), "{desc}");
    assert!(desc.contains("untracked= "), "{desc}");
    assert!(desc.contains("gone= "), "{desc}");
    assert!(desc.contains("state/supervisor/workspace"), "{desc}");
    // The live tree is untouched.
    let data = std::fs::read_to_string(repo.path().join("data.txt")).expect("read");
    assert_eq!(data, "uncommitted edit\n");
}

#[test]
fn snapshot_is_updated_incrementally_and_keeps_untracked_caches() {
    let repo = TestRepo::new();
    // The check reports what it sees, then leaves a build cache and tampers with a tracked file.
    repo.write(
        "auditor.toml",
        r#"
[[check]]
name = "cache"
command = ["sh", "-c", "seen=no; [ -f target/cache ] && seen=yes; echo \"f.txt:1: cache=$seen content=$(cat f.txt)\"; mkdir -p target; echo > target/cache; echo tampered > f.txt; exit 1"]
format = "lines"
"#,
    );
    repo.write("f.txt", "one\n");
    repo.commit("first");
    let (_, first, _) = repo.audit_json(&[]);
    repo.write("f.txt", "two\n");
    repo.commit("second");
    let (_, second, _) = repo.audit_json(&[]);
    repo.write("g.txt", "unrelated\n");
    repo.commit("third");
    let (_, third, _) = repo.audit_json(&[]);
    let desc = |r: &serde_json::Value| {
        issues(r)
            .into_iter()
            .find(|i| i["rule"] != "modified-tree")
            .and_then(|i| i["description"].as_str().map(str::to_string))
            .unwrap_or_default()
    };
    // The tampered file is reported and put back before the next check, every time.
    for r in [&first, &second, &third] {
        assert_eq!(issues_of(r, "CHECK_MODIFIED_TREE").len(), 1, "{r}");
    }
    assert!(
        desc(&first).contains("cache=no content=one"),
        "{}",
        desc(&first)
    );
    assert!(
        desc(&second).contains("cache=yes content=two"),
        "{}",
        desc(&second)
    );
    // f.txt did not change in the third commit, yet the tampered copy was restored.
    assert!(
        desc(&third).contains("cache=yes content=two"),
        "{}",
        desc(&third)
    );
}

#[test]
fn range_audit_covers_every_commit_and_reports_for_the_last() {
    let repo = TestRepo::new();
    repo.write("a.txt", "a\n");
    let base = repo.commit("base");
    repo.write("b.txt", "b\n");
    let c1 = repo.commit("one");
    repo.write("c.txt", "c\n");
    let c2 = repo.commit("two");
    // The last commit's own audit first: the range's report must not replace it.
    repo.audit_json(&[&c2]);

    let (code, report, out) = repo.audit_json(&[&format!("{base}..{c2}")]);
    assert_eq!(code, 0);
    assert_eq!(report["commit_hash"], c2.as_str());
    assert_eq!(report["commits"], serde_json::json!([c1, c2]));
    assert_eq!(report["status"], "PASS");
    let range = format!("logs/audit/report_{base}..{c2}.json");
    assert!(repo.path().join(&range).is_file(), "{out}");
    let own = repo.report(&c2);
    assert_eq!(own["commits"], serde_json::json!([c2]), "{own}");
    // The human summary names the file it wrote.
    let out = repo
        .auditor()
        .args(["audit", &format!("{base}..{c2}")])
        .output()
        .expect("audit");
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(text.contains(&range), "{text}");
}

#[test]
fn critical_static_finding_skips_the_test_stage() {
    let repo = TestRepo::new();
    repo.write(
        "auditor.toml",
        r#"
[[check]]
name = "tests"
stage = "test"
command = ["sh", "-c", "exit 0"]
"#,
    );
    repo.write("app.py", format!("KEY = \"{}\"\n", aws_key()));
    repo.commit("leak");
    let (_, report, _) = repo.audit_json(&[]);
    assert_eq!(report["stages"]["test"]["status"], "skipped");
    assert_eq!(check(&report, "tests")["outcome"], "skipped");
    assert_eq!(report["metrics"]["test_pass_rate"], serde_json::Value::Null);
}

#[test]
fn no_tests_flag_skips_tests() {
    let repo = TestRepo::new();
    repo.write(
        "auditor.toml",
        "[[check]]\nname = \"tests\"\nstage = \"test\"\ncommand = [\"false\"]\n",
    );
    repo.commit("first");
    let (code, report, _) = repo.audit_json(&["--no-tests"]);
    assert_eq!(code, 0);
    assert_eq!(check(&report, "tests")["outcome"], "skipped");
}

#[test]
fn workspace_setup_runs_on_creation_and_when_its_trigger_files_change() {
    let repo = TestRepo::new();
    repo.write(
        "auditor.toml",
        r#"
[workspace]
setup = ["sh", "-c", "echo run >> setup-runs.log"]
setup_when_changed = ["deps.lock"]

[[check]]
name = "count"
command = ["sh", "-c", "echo \"x:1: setups=$(wc -l < setup-runs.log)\"; exit 1"]
format = "lines"
"#,
    );
    repo.write("deps.lock", "a\n");
    repo.commit("first");
    let count = |r: &serde_json::Value| {
        issues(r)
            .iter()
            .find(|i| i["check"] == "count")
            .and_then(|i| i["description"].as_str().map(str::to_string))
            .unwrap_or_default()
    };
    let (_, r1, _) = repo.audit_json(&[]);
    assert!(count(&r1).contains("setups=1"), "{}", count(&r1));
    assert_eq!(check(&r1, "workspace-setup")["outcome"], "passed");
    repo.write("other.txt", "x\n");
    repo.commit("unrelated");
    let (_, r2, _) = repo.audit_json(&[]);
    assert!(count(&r2).contains("setups=1"), "{}", count(&r2));
    repo.write("deps.lock", "b\n");
    repo.commit("bump deps");
    let (_, r3, _) = repo.audit_json(&[]);
    assert!(count(&r3).contains("setups=2"), "{}", count(&r3));
}

#[test]
fn tree_scope_runs_on_every_matching_file_when_one_changed() {
    let repo = TestRepo::new();
    repo.write(
        "auditor.toml",
        "[[check]]\nname = \"all\"\ncommand = [\"sh\", \"-c\", \"echo \\\"x:1: n=$#\\\"; exit 1\", \"sh\", \"{files}\"]\nfiles = [\"*.md\"]\nscope = \"tree\"\n\n[[check]]\nname = \"changed\"\ncommand = [\"sh\", \"-c\", \"echo \\\"y:1: n=$#\\\"; exit 1\", \"sh\", \"{files}\"]\nfiles = [\"*.md\"]\nformat = \"lines\"\n",
    );
    repo.write("a.md", "a\n")
        .write("docs/b.md", "b\n")
        .write("c.txt", "c\n");
    repo.commit("first");
    repo.write("a.md", "a2\n");
    repo.commit("edit a.md");
    let (_, report, _) = repo.audit_json(&[]);
    assert_eq!(check(&report, "all")["files"], 2);
    assert_eq!(check(&report, "changed")["files"], 1);
    repo.write("c.txt", "c2\n");
    repo.commit("edit c.txt");
    let (_, report, _) = repo.audit_json(&[]);
    assert_eq!(check(&report, "all")["outcome"], "skipped");
}

#[test]
fn live_mode_runs_checks_in_the_working_tree() {
    let repo = TestRepo::new();
    repo.write(
        "auditor.toml",
        "[workspace]\nmode = \"live\"\n\n[[check]]\nname = \"where\"\ncommand = [\"sh\", \"-c\", \"echo \\\"x:1: content=$(cat f.txt)\\\"; exit 1\"]\nformat = \"lines\"\n",
    );
    repo.write("f.txt", "committed\n");
    repo.commit("first");
    repo.write("f.txt", "edited\n");
    let (_, report, _) = repo.audit_json(&[]);
    assert!(
        issues(&report)[0]["description"]
            .as_str()
            .unwrap_or_default()
            .contains("content=edited")
    );
    assert_eq!(report["workspace"]["mode"], "live");
    assert!(!repo.path().join("state/supervisor/workspace").exists());
}

#[test]
fn a_merge_commits_own_changes_are_scanned() {
    let repo = TestRepo::new();
    repo.write("conf.py", "A = 1\n")
        .write("a.py", "a\n")
        .write("b.py", "b\n");
    repo.commit("base");
    repo.git(&["checkout", "-q", "-b", "topic"]);
    repo.write("a.py", "a2\n");
    repo.commit("topic edit");
    repo.git(&["checkout", "-q", "main"]);
    repo.write("b.py", "b2\n");
    repo.commit("main edit");
    // Slip a key into the merge itself (an "evil merge"): in neither parent.
    repo.git(&["merge", "-q", "--no-commit", "--no-ff", "topic"]);
    repo.write("conf.py", format!("A = 1\nKEY = \"{}\"\n", aws_key()));
    let merge = repo.commit("merge topic");
    let (_, report, _) = repo.audit_json(&[]);
    let secrets = issues_of(&report, "SECRET_EXPOSURE");
    assert_eq!(secrets.len(), 1, "{report}");
    assert_eq!(secrets[0]["commit"], merge.as_str());
}
