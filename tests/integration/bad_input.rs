//! Bad input gets a clear message and exit 2, or is handled; never a panic.

use crate::support::*;

fn stderr_of(out: &std::process::Output) -> String {
    String::from_utf8_lossy(&out.stderr).into_owned()
}

#[test]
fn broken_config_names_file_line_and_column() {
    let repo = TestRepo::new();
    repo.write(
        "auditor.toml",
        "[runner]\nnice = 5\n\n[[check]]\nname = \"x\"\ncommand = [\"true\"]\nfomat = \"lines\"\n",
    );
    repo.commit("bad config");
    let out = repo.auditor().arg("audit").output().expect("run");
    assert_eq!(out.status.code(), Some(2));
    let err = stderr_of(&out);
    assert!(err.contains("auditor.toml:7:1:"), "{err}");
    assert!(err.contains("fomat"), "{err}");
    assert!(
        !repo.path().join("logs").exists(),
        "nothing written on a config error"
    );
}

#[test]
fn invalid_value_and_syntax_errors_are_located() {
    let repo = TestRepo::new();
    repo.write("auditor.toml", "[policy]\nfail_on = \"SEVERE\"\n");
    let out = repo.auditor().args(["audit"]).output().expect("run");
    // No commit yet: the empty repository is reported first.
    assert_eq!(out.status.code(), Some(2));
    repo.commit("c");
    let out = repo.auditor().args(["audit"]).output().expect("run");
    assert_eq!(out.status.code(), Some(2));
    assert!(
        stderr_of(&out).contains("auditor.toml:2:11:"),
        "{}",
        stderr_of(&out)
    );

    repo.write("auditor.toml", "[policy]\nfail_on = \"HIGH\"\n");
    let cfg = repo.path().join("other.toml");
    std::fs::write(&cfg, "[runner\n").expect("write");
    let out = repo
        .auditor()
        .args(["audit", "--config"])
        .arg(&cfg)
        .output()
        .expect("run");
    assert_eq!(out.status.code(), Some(2));
    assert!(
        stderr_of(&out).contains("other.toml:1:"),
        "{}",
        stderr_of(&out)
    );
}

#[test]
fn not_a_repository_empty_repository_unknown_rev() {
    let dir = tempfile::tempdir().expect("tempdir");
    let mut cmd = assert_cmd::Command::cargo_bin("auditor").expect("bin");
    let out = cmd
        .arg("audit")
        .arg("--repo")
        .arg(dir.path())
        .output()
        .expect("run");
    assert_eq!(out.status.code(), Some(2));
    assert!(
        stderr_of(&out).contains("not inside a git repository"),
        "{}",
        stderr_of(&out)
    );

    let repo = TestRepo::new();
    let out = repo.auditor().arg("audit").output().expect("run");
    assert_eq!(out.status.code(), Some(2));
    assert!(
        stderr_of(&out).contains("no commits yet"),
        "{}",
        stderr_of(&out)
    );

    repo.commit("c");
    let out = repo
        .auditor()
        .args(["audit", "nonexistent-branch"])
        .output()
        .expect("run");
    assert_eq!(out.status.code(), Some(2));
    assert!(stderr_of(&out).contains("unknown revision `nonexistent-branch`"));
    let head = repo.head();
    let out = repo
        .auditor()
        .args(["audit", &format!("{head}..{head}")])
        .output()
        .expect("run");
    assert_eq!(out.status.code(), Some(2));
    assert!(stderr_of(&out).contains("contains no commits"));
}

#[test]
fn awkward_files_are_handled() {
    use std::os::unix::ffi::OsStrExt;
    let repo = TestRepo::new();
    repo.write("README.md", "r\n");
    repo.commit("first");
    // CRLF, a binary file, a symlink, a non-UTF-8 name, an empty file, a deep path.
    repo.write("crlf.py", format!("x = 1\r\nK = \"{}\"\r\n", aws_key()));
    repo.write("image.png", [0x89u8, b'P', b'N', b'G', 0, 0, 0, 13]);
    std::os::unix::fs::symlink("README.md", repo.path().join("link")).expect("symlink");
    let odd = std::ffi::OsStr::from_bytes(b"caf\xe9.txt");
    std::fs::write(repo.path().join(odd), "plain\n").expect("odd name");
    repo.write("empty", "");
    repo.write("a/b/c/d/e/f.txt", "deep\n");
    repo.commit("awkward");

    let (code, report, _) = repo.audit_json(&[]);
    assert_eq!(code, 1);
    let secrets = issues_of(&report, "SECRET_EXPOSURE");
    assert_eq!(secrets.len(), 1);
    assert_eq!(secrets[0]["line"], 2);
    assert_eq!(report["scan"]["skipped_binary"], 1);
}

#[test]
fn submodule_and_shallow_clone() {
    let inner = TestRepo::new();
    inner.write("lib.txt", "lib\n");
    inner.commit("lib");
    let repo = TestRepo::new();
    repo.write("a.txt", "a\n");
    repo.commit("first");
    repo.git(&[
        "-c",
        "protocol.file.allow=always",
        "submodule",
        "add",
        "-q",
        &inner.path().to_string_lossy(),
        "vendor/lib",
    ]);
    repo.commit("add submodule");
    let (code, report, _) = repo.audit_json(&[]);
    assert_eq!(code, 0, "{report}");

    repo.write("b.txt", format!("{}\n", github_token()));
    repo.commit("leak");
    let clone = tempfile::tempdir().expect("tempdir");
    let url = format!("file://{}", repo.path().display());
    let status = std::process::Command::new("git")
        .args(["clone", "-q", "--depth", "1", &url])
        .arg(clone.path().join("c"))
        .status()
        .expect("clone");
    assert!(status.success());
    let mut cmd = assert_cmd::Command::cargo_bin("auditor").expect("bin");
    let out = cmd
        .args(["audit", "--json", "--repo"])
        .arg(clone.path().join("c"))
        .env("HOME", clone.path().join("c"))
        .output()
        .expect("run");
    assert_eq!(out.status.code(), Some(1), "{}", stderr_of(&out));
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).expect("json");
    assert_eq!(issues_of(&v, "SECRET_EXPOSURE").len(), 1);
}
