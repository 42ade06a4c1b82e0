//! Secrets on real code and on adoption: the generic rule reads code, every armor of private
//! key is found, `auditor baseline` and `.gitleaksignore` accept what is there today, and rule
//! files in gitleaks' format add rules. Each widening of what is accepted is seen.

use crate::support::*;

/// A value that looks random, assembled so that this file holds none.
fn random_value() -> String {
    ["q8Zr4Lm2", "Xv7Pw1Ks9Tn3", "Bd6Hy0Fc"].concat()
}

#[test]
fn code_that_names_secrets_is_not_a_secret_and_a_literal_under_a_secret_name_is() {
    let repo = TestRepo::new();
    // The shapes dokku's history holds: types, variables, flags, doc URLs, base64 words.
    repo.write(
        "plugins/k3s/template.go",
        "package k3s\n\
         func x() {\n\
         \tSecretRef: &corev1.SecretEnvSource{\n\
         \tSecretTemplate: &certmanagerv1.CertificateSecretTemplate{\n\
         \tPullSecretBase64: pullSecretBase64,\n\
         \ttokenFlag := \"--scheduler-k3s-global-token\"\n\
         \tconst sample = `\n  password: bmV3LXNlY3JldA==\n`\n\
         }\n",
    );
    repo.write(
        "docs/logs.md",
        "for a uri config value: https://loggerservice.com:1234/?token=abc1234&type=vector\n",
    );
    repo.commit("code");
    let (code, v, _) = repo.scan_json(&["--tree"]);
    assert_eq!(code, 0, "{v}");
    assert!(issues_of(&v, "SECRET_EXPOSURE").is_empty(), "{v}");

    // git/git's LocalSettings.php: a hex key under a secret name is a secret.
    let hex: String = [
        "1c912bfe3519fb70",
        "f5dc523ecc698111",
        "cd43d81a1a2b3c4d",
        "5e6f708192a3b4c5",
    ]
    .concat();
    repo.write(
        "LocalSettings.php",
        format!("<?php\n$wgSecretKey = \"{hex}\";\n"),
    );
    repo.write(
        "app.go",
        format!("var dbPassword = \"{}\"\n", random_value()),
    );
    repo.commit("keys");
    let (code, v, out) = repo.scan_json(&["--tree"]);
    assert_eq!(code, 1);
    let mut files: Vec<String> = issues_of(&v, "SECRET_EXPOSURE")
        .iter()
        .map(|i| i["file"].as_str().unwrap_or_default().to_string())
        .collect();
    files.sort();
    assert_eq!(files, ["LocalSettings.php", "app.go"], "{v}");
    assert!(!out.contains(&hex) && !out.contains(&random_value()));
}

#[test]
fn private_keys_of_every_armor_are_found_whole() {
    let repo = TestRepo::new();
    let b64 = "lQOYBGVnZ2kBCADJ3q8Rk2WcXbN5tLpQ9aHfGdE6uVjK0iOyTrSwMnBx1Zc4a7v1s\n".repeat(40);
    let pgp = |body: &str| {
        format!(
            "-----BEGIN PGP {kind} BLOCK-----\nVersion: GnuPG v1\n\n{body}=Xk9a\n-----END PGP {kind} BLOCK-----\n",
            kind = "PRIVATE KEY"
        )
    };
    // Two keys, as git/git's t/lib-gpg/keyring.gpg holds.
    let second = b64.replace('q', "Q");
    repo.write(
        "t/lib-gpg/keyring.gpg",
        format!("{}{}", pgp(&b64), pgp(&second)),
    );
    repo.write(
        "deploy.ppk",
        format!(
            "PuTTY-User-Key-File-3: ssh-ed25519\nEncryption: none\nComment: deploy\nPublic-Lines: 1\n\
             AAAAC3NzaC1lZDI1NTE5AAAAIOv1sJ0m4Yz3q8Rk2WcXbN5tLpQ9aHfGdE6u\nPrivate-Lines: 1\n\
             AAAAIGv1sJ0m4Yz3q8Rk2WcXbN5tLpQ9aHfGdE6uVjK0iOyTrS\nPrivate-{}: {}\n",
            "MAC",
            "a1b2c3d4e5f60718293a4b5c6d7e8f90a1b2c3d4e5f60718293a4b5c6d7e8f90"
        ),
    );
    repo.commit("keys");
    let (_, v, _) = repo.scan_json(&["--tree"]);
    let mut got: Vec<(String, u64)> = issues_of(&v, "SECRET_EXPOSURE")
        .iter()
        .map(|i| {
            (
                i["rule"].as_str().unwrap_or_default().to_string(),
                i["line"].as_u64().unwrap_or(0),
            )
        })
        .collect();
    got.sort();
    assert_eq!(
        got,
        [
            ("private-key".to_string(), 1),
            ("private-key".to_string(), 46),
            ("putty-private-key".to_string(), 1)
        ],
        "{v}"
    );
}

#[test]
fn a_baseline_accepts_todays_secrets_and_reports_new_ones() {
    let repo = TestRepo::new();
    repo.write("old.env", format!("TOKEN={}\n", github_token()));
    repo.commit("an old leak");
    let out = repo.auditor().arg("baseline").output().expect("run");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(stdout.contains("1 secret"), "{stdout}");
    let written =
        std::fs::read_to_string(repo.path().join("auditor-baseline.json")).expect("baseline");
    assert!(
        !written.contains(&github_token()),
        "the baseline holds no value"
    );
    assert!(written.contains("github-token") && written.contains("old.env"));

    let (code, v, out) = repo.scan_json(&["--history"]);
    assert_eq!(code, 0, "{out}");
    assert_eq!(v["baselined"], 1);
    assert!(issues_of(&v, "SECRET_EXPOSURE").is_empty());

    // The same key in another file, and a new key: both new.
    repo.write(
        "new.env",
        format!("TOKEN={}\nAWS={}\n", github_token(), aws_key()),
    );
    repo.commit("a new leak");
    let (code, v, _) = repo.scan_json(&["--history"]);
    assert_eq!(code, 1);
    let found = issues_of(&v, "SECRET_EXPOSURE");
    assert_eq!(found.len(), 2, "{v}");
    assert!(found.iter().all(|i| i["file"] == "new.env"));
}

#[test]
fn a_broken_baseline_is_an_error_that_names_it() {
    let repo = TestRepo::new();
    repo.write("a.txt", "a\n");
    repo.commit("one");
    std::fs::write(repo.path().join("auditor-baseline.json"), "{ not json").expect("write");
    let err = repo.auditor_error(&["scan", "--tree"]);
    assert!(err.contains("auditor-baseline.json"), "{err}");
}

#[test]
fn gitleaksignore_fingerprints_are_honoured_and_widening_them_is_tampering() {
    let repo = TestRepo::new();
    repo.write("README.md", "app\n");
    repo.commit("first");
    let (code, _, _) = repo.audit_json(&["--no-tests"]);
    assert_eq!(code, 0);
    repo.write("config/dev.env", format!("TOKEN={}\n", github_token()));
    let leak = repo.commit("fixture");
    // The agent accepts its own leak in the ignore file gitleaks users keep.
    std::fs::write(
        repo.path().join(".gitleaksignore"),
        format!("{leak}:config/dev.env:github-pat:1\n"),
    )
    .expect("write");
    let (code, v, _) = repo.audit_json(&["--no-tests"]);
    assert_eq!(code, 1, "{v}");
    assert!(
        issues_of(&v, "SECRET_EXPOSURE").is_empty(),
        "the entry is honoured: {v}"
    );
    let tampering = issue_of(&v, "SUPERVISION_TAMPERING");
    assert_eq!(tampering["severity"], "CRITICAL");
    assert!(
        tampering["description"]
            .as_str()
            .unwrap_or_default()
            .contains("secrets.ignore"),
        "{tampering}"
    );
}

#[test]
fn a_rule_file_in_gitleaks_format_adds_rules_and_its_errors_say_where() {
    let repo = TestRepo::new();
    std::fs::write(
        repo.path().join("team-rules.toml"),
        "title = \"team\"\n[extend]\nuseDefault = true\n\n[[rules]]\nid = \"acme-key\"\n\
         description = \"ACME internal key\"\nregex = '''\\b(acme_[a-z0-9]{24})\\b'''\n\
         secretGroup = 1\nkeywords = [\"acme_\"]\n[[rules.allowlists]]\nstopwords = [\"fixture\"]\n",
    )
    .expect("write");
    std::fs::write(
        repo.path().join("auditor.toml"),
        "[secrets]\nrules = [\"team-rules.toml\"]\n",
    )
    .expect("write");
    let key = ["acme_", "q8zr4lm2xv7pw1ks", "9tn3bd6h"].concat();
    repo.write("svc.py", format!("KEY = \"{key}\"\n"));
    repo.commit("acme");
    let (code, v, out) = repo.scan_json(&["--tree"]);
    assert_eq!(code, 1, "{out}");
    let found = issues_of(&v, "SECRET_EXPOSURE");
    assert_eq!(found.len(), 1, "{v}");
    assert_eq!(found[0]["rule"], "acme-key");
    assert!(
        found[0]["remediation"]
            .as_str()
            .unwrap_or_default()
            .contains("ACME internal key")
    );
    assert!(!out.contains(&key));

    std::fs::write(
        repo.path().join("team-rules.toml"),
        "[[rules]]\nid = \"acme-key\"\nregex = '''(acme_'''\n",
    )
    .expect("write");
    let err = repo.auditor_error(&["scan", "--tree"]);
    assert!(err.contains("team-rules.toml:3:9"), "{err}");
    assert!(err.contains("acme-key"), "{err}");
}

#[test]
fn a_team_rules_kind_of_secret_printed_by_a_check_reaches_no_output() {
    let repo = TestRepo::new();
    std::fs::write(
        repo.path().join("team-rules.toml"),
        "[[rules]]\nid = \"acme-key\"\ndescription = \"ACME internal key\"\n\
         regex = '''\\b(acme_[a-z0-9]{24})\\b'''\nkeywords = [\"acme_\"]\n",
    )
    .expect("write");
    // The check prints a key no audited file holds: only the team's rule knows its shape.
    std::fs::write(
        repo.path().join("auditor.toml"),
        "[secrets]\nrules = [\"team-rules.toml\"]\n\n[[check]]\nname = \"talker\"\n\
         command = [\"sh\", \"-c\", \"echo \\\"a.txt:1: key=acme_\\\"q8zr4lm2xv7pw1ks\\\"9tn3bd6h\\\"; exit 1\"]\n\
         format = \"lines\"\n",
    )
    .expect("write");
    repo.write("a.txt", "a\n");
    repo.commit("one");
    let key = ["acme_", "q8zr4lm2xv7pw1ks", "9tn3bd6h"].concat();
    let (_, v, out) = repo.audit_json(&["--no-tests"]);
    assert!(
        v.to_string().contains("talker"),
        "the check ran and was reported: {v}"
    );
    assert_nowhere(&repo, &key, &out);
}
