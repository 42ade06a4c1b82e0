//! `auditor scan`: the built-in scanners over the tree, the history, a rev or a range.

use crate::support::*;

#[test]
fn history_scan_finds_a_secret_deleted_long_ago_on_another_branch() {
    let repo = TestRepo::new();
    repo.write("a.txt", "a\n");
    repo.commit("first");
    repo.git(&["checkout", "-q", "-b", "side"]);
    repo.write("old.env.sh", format!("TOKEN={}\n", github_token()));
    let leak = repo.commit("oops");
    repo.git(&["rm", "-q", "old.env.sh"]);
    repo.commit("remove");
    repo.git(&["checkout", "-q", "main"]);
    repo.write("b.txt", "b\n");
    repo.commit("second");

    let (code, v, out) = repo.scan_json(&["--history"]);
    assert_eq!(code, 1);
    assert_eq!(v["commits"], 4);
    let found = issues(&v);
    assert_eq!(found.len(), 1, "{v}");
    assert_eq!(found[0]["commit"], leak.as_str());
    assert_eq!(found[0]["file"], "old.env.sh");
    assert_eq!(found[0]["line"], 1);
    assert!(!out.contains(&github_token()));
    // Nothing was written into the repository.
    assert!(!repo.path().join("logs").exists() && !repo.path().join("state").exists());
}

#[test]
fn history_scan_attributes_a_blob_to_each_path_it_was_introduced_at() {
    let repo = TestRepo::new();
    repo.write("a.py", format!("K = \"{}\"\n", aws_key()));
    let first = repo.commit("one");
    repo.write("copy/a.py", format!("K = \"{}\"\n", aws_key()));
    let second = repo.commit("copy");
    let (_, v, _) = repo.scan_json(&["--history"]);
    let mut got: Vec<(String, String)> = issues(&v)
        .iter()
        .map(|i| {
            (
                i["file"].as_str().unwrap_or_default().to_string(),
                i["commit"].as_str().unwrap_or_default().to_string(),
            )
        })
        .collect();
    got.sort();
    assert_eq!(
        got,
        [
            ("a.py".to_string(), first),
            ("copy/a.py".to_string(), second)
        ]
    );
}

#[test]
fn tree_scan_sees_only_what_is_at_head() {
    let repo = TestRepo::new();
    repo.write("gone.py", format!("K = \"{}\"\n", aws_key()));
    repo.commit("leak");
    repo.git(&["rm", "-q", "gone.py"]);
    repo.write("here.sh", format!("T={}\n", github_token()));
    repo.commit("another");
    let (code, v, _) = repo.scan_json(&["--tree"]);
    assert_eq!(code, 1);
    let found = issues(&v);
    assert_eq!(found.len(), 1);
    assert_eq!(found[0]["file"], "here.sh");
}

#[test]
fn scan_of_a_range_and_a_clean_rev() {
    let repo = TestRepo::new();
    repo.write("a.txt", "a\n");
    let base = repo.commit("clean");
    repo.write("k.py", format!("K = \"{}\"\n", aws_key()));
    repo.commit("leak");
    let (code, v, _) = repo.scan_json(&[&format!("{base}..HEAD")]);
    assert_eq!((code, issues(&v).len()), (1, 1));
    let (code, v, _) = repo.scan_json(&[&base]);
    assert_eq!((code, issues(&v).len()), (0, 0));
}

#[test]
fn binary_and_oversized_blobs_are_skipped_and_counted() {
    let repo = TestRepo::new();
    repo.write("auditor.toml", "[secrets]\nmax_file_size = \"1KiB\"\n");
    let mut bin = vec![0u8, 1, 2];
    bin.extend_from_slice(aws_key().as_bytes());
    repo.write("blob.bin", bin);
    repo.write("big.txt", "x".repeat(4096));
    repo.commit("blobs");
    let (_, v, _) = repo.scan_json(&["--history"]);
    assert_eq!(v["skipped_binary"], 1);
    assert_eq!(v["skipped_large"], 1);
    // No secret read in either; the guards do flag a binary blob outside asset folders.
    let all = issues(&v);
    let found: Vec<(&str, &str)> = all
        .iter()
        .map(|i| {
            (
                i["type"].as_str().unwrap_or(""),
                i["file"].as_str().unwrap_or(""),
            )
        })
        .collect();
    assert_eq!(found, [("LARGE_FILE", "blob.bin")], "{v}");
}

#[test]
fn history_scan_finds_a_token_in_a_message_and_in_a_file_name() {
    let repo = TestRepo::new();
    let token = github_token();
    repo.write("a.txt", "a\n");
    let in_message = repo.commit(&format!("use {token} for the bot"));
    repo.write(&format!("keys/{token}.txt"), "x\n");
    let in_path = repo.commit("add a key file");
    repo.write("b.txt", "b\n");
    repo.commit("unrelated");

    let (code, v, out) = repo.scan_json(&["--history"]);
    assert_eq!(code, 1, "{out}");
    let found = issues(&v);
    let message = found
        .iter()
        .find(|i| {
            i["title"]
                .as_str()
                .is_some_and(|t| t.contains("commit's message"))
        })
        .expect("the message's token");
    assert_eq!(message["commit"], in_message.as_str());
    let path = found
        .iter()
        .find(|i| {
            i["title"]
                .as_str()
                .is_some_and(|t| t.contains("commit's file name"))
        })
        .expect("the file name's token");
    assert_eq!(path["commit"], in_path.as_str());
    assert!(!out.contains(&token[4..12]), "{out}");
}

/// flask 1e5dd430: a commit drops a test and grows the code beside it. `audit` says HIGH
/// ("adds none that replace them"); the history scan measured every new version's size as 0,
/// took the grown file for code removed, and said MEDIUM "with code the commit removes".
#[test]
fn history_scan_judges_a_deleted_test_as_audit_does() {
    let repo = TestRepo::new();
    let code: String = (0..30)
        .map(|i| format!("def handler_{i}(x):\n    return x + {i}\n\n"))
        .collect();
    repo.write("src/app.py", &code);
    repo.write(
        "tests/test_app.py",
        "def test_a():\n    assert handler_1(1) == 2\n\ndef test_b():\n    assert handler_2(1) == 3\n",
    );
    repo.commit("app and tests");
    repo.write("src/app.py", format!("{code}def more(x):\n    return x\n"));
    repo.write(
        "tests/test_app.py",
        "def test_a():\n    assert handler_1(1) == 2\n",
    );
    let head = repo.commit("refactor error checks");
    let (_, history, _) = repo.scan_json(&["--history"]);
    let (_, single, _) = repo.scan_json(&[head.as_str()]);
    let deleted = |v: &serde_json::Value| {
        issues(v)
            .into_iter()
            .find(|i| i["type"] == "TEST_DELETED")
            .map(|i| (i["severity"].clone(), i["description"].clone()))
    };
    let from_history = deleted(&history).expect("TEST_DELETED in the history scan");
    assert_eq!(from_history.0, "HIGH", "{history}");
    assert_eq!(Some(from_history), deleted(&single));
}
