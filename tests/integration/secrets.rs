//! The secret scanner through `audit`: CRITICAL, redacted everywhere, history-aware.

use crate::support::*;

#[test]
fn leaked_key_is_critical_and_never_written_in_full() {
    let repo = TestRepo::new();
    let key = aws_key();
    let token = github_token();
    repo.write("README.md", "app\n");
    repo.commit("first");
    repo.write(
        "deploy/config.sh",
        format!("#!/bin/sh\nexport AWS_ACCESS_KEY_ID={key}\nexport GH_TOKEN={token}\n"),
    );
    repo.commit("add deploy config");

    let (code, report, output) = repo.audit_json(&["-v"]);
    assert_eq!(code, 1);
    let secrets = issues_of(&report, "SECRET_EXPOSURE");
    assert_eq!(secrets.len(), 2, "{secrets:?}");
    for s in &secrets {
        assert_eq!(s["severity"], "CRITICAL");
        assert_eq!(s["file"], "deploy/config.sh");
        assert_eq!(s["location"], "introduced");
        assert!(
            s["fingerprint"]
                .as_str()
                .unwrap_or_default()
                .starts_with("sha256:")
        );
    }
    let aws = secrets
        .iter()
        .find(|s| s["rule"] == "aws-access-key-id")
        .expect("aws finding");
    assert_eq!(aws["line"], 2);
    assert_eq!(aws["redacted"], "AKIA****V2");
    assert_eq!(report["metrics"]["security_score"], "F");

    // The human summary and the verbose log don't carry it either.
    let human = repo.auditor().args(["audit", "-vv"]).output().expect("run");
    let human_out = format!(
        "{}{}",
        String::from_utf8_lossy(&human.stdout),
        String::from_utf8_lossy(&human.stderr)
    );
    assert!(human_out.contains("SEC-001"), "{human_out}");
    for value in [&key, &token] {
        assert_nowhere(&repo, value, &output);
        assert_nowhere(&repo, value, &human_out);
    }
}

#[test]
fn secret_added_then_removed_within_a_range_is_still_reported() {
    let repo = TestRepo::new();
    repo.write("app.py", "print('hi')\n");
    let base = repo.commit("base");
    repo.write(
        "app.py",
        format!("TOKEN = \"{}\"\nprint('hi')\n", github_token()),
    );
    let leak = repo.commit("use token");
    repo.write(
        "app.py",
        "import os\nTOKEN = os.environ[\"TOKEN\"]\nprint('hi')\n",
    );
    let fix = repo.commit("read token from env");

    let (code, report, output) = repo.audit_json(&[&format!("{base}..{fix}")]);
    assert_eq!(code, 1);
    let secrets = issues_of(&report, "SECRET_EXPOSURE");
    assert_eq!(secrets.len(), 1);
    assert_eq!(secrets[0]["commit"], leak.as_str());
    assert_eq!(secrets[0]["rule"], "github-token");
    assert_nowhere(&repo, &github_token(), &output);
}

#[test]
fn secret_committed_earlier_in_an_edited_file_is_still_a_leak() {
    let repo = TestRepo::new();
    repo.write("conf.py", format!("KEY = \"{}\"\n", aws_key()));
    repo.commit("leak");
    repo.write(
        "conf.py",
        format!("KEY = \"{}\"\nDEBUG = True\n", aws_key()),
    );
    repo.commit("unrelated edit");
    let (_, report, _) = repo.audit_json(&[]);
    let secrets = issues_of(&report, "SECRET_EXPOSURE");
    assert_eq!(secrets.len(), 1);
    assert_eq!(secrets[0]["location"], "touched");
    assert_eq!(secrets[0]["severity"], "CRITICAL");
}

#[test]
fn allowlists_and_inline_pragma_suppress() {
    let repo = TestRepo::new();
    repo.write(
        "auditor.toml",
        "[secrets]\nallow_paths = [\"fixtures/**\"]\nallow_regexes = [\"FAKE_FOR_TESTS\"]\n",
    );
    repo.write("fixtures/keys.txt", aws_key());
    repo.write("a.py", format!("K = \"{}\"  # FAKE_FOR_TESTS\n", aws_key()));
    repo.write(
        "b.py",
        format!(
            "K = \"{}\"  # auditor:allow documented test key\n",
            github_token()
        ),
    );
    repo.commit("fixtures");
    let (code, report, _) = repo.audit_json(&[]);
    assert_eq!(issues_of(&report, "SECRET_EXPOSURE").len(), 0, "{report}");
    assert_eq!(code, 0);
}

#[test]
fn documented_examples_and_placeholders_are_not_reported() {
    let repo = TestRepo::new();
    repo.write(
        "docs/setup.md",
        "aws_access_key_id = AKIAIOSFODNN7EXAMPLE\napi_key = \"<your-api-key>\"\npassword = ${DB_PASSWORD}\n",
    );
    repo.commit("docs");
    let (code, report, _) = repo.audit_json(&[]);
    assert_eq!(issues(&report).len(), 0, "{report}");
    assert_eq!(code, 0);
}
