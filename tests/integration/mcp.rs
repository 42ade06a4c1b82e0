//! `auditor mcp` driven by a real MCP client (the `mcp` package from PyPI, which
//! tests/run_tests.sh installs): initialize, tools/list, a call of each tool, the resources.

use std::process::Command;

use serde_json::Value;

use crate::support::{TestRepo, aws_key};

/// Runs tests/mcp/client.py against the repository; what the server answered.
fn client(repo: &TestRepo, issue: &str) -> Value {
    let script = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/mcp/client.py");
    let out = Command::new("python3")
        .arg(script)
        .arg(assert_cmd::cargo::cargo_bin("auditor"))
        .arg(repo.path())
        .arg(issue)
        .output()
        .expect("python3 runs the MCP client (tests/run_tests.sh installs `mcp` from PyPI)");
    assert!(
        out.status.success(),
        "the MCP client failed:\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
    serde_json::from_slice(&out.stdout).expect("the client prints JSON")
}

#[test]
fn an_mcp_client_lists_calls_and_reads_everything_and_nothing_weakens_supervision() {
    let repo = TestRepo::new();
    repo.write(
        "auditor.toml",
        "[watch]\ndebounce = \"100ms\"\n\n[[check]]\nname = \"slow\"\nstage = \"test\"\ncommand = [\"sleep\", \"3134\"]\nformat = \"exit-code\"\n",
    );
    repo.write("README.md", "hi\n");
    repo.commit("initial");
    // One report before the daemon, whose first test stage never ends.
    repo.audit_json(&["--no-tests"]);
    let w = repo.watch(&[]);
    w.wait_event(20, "transition", |e| e["details"]["to"] == "TESTING");
    repo.write("deploy.py", format!("\nKEY = \"{}\"\n", aws_key()));
    let leak = repo.commit("add deploy");
    w.wait_event(20, "fast_lane", |e| e["commit"] == leak.as_str());

    let v = client(&repo, "SEC-001");
    let text = v.to_string();
    assert!(!text.contains(&aws_key()), "the key reached the client");
    assert_eq!(v["server"]["name"], "auditor");
    let mut tools: Vec<&str> = v["tools"]
        .as_object()
        .expect("tools")
        .keys()
        .map(String::as_str)
        .collect();
    tools.sort_unstable();
    // Read-only: no acknowledgement, no reset, nothing that writes.
    assert_eq!(
        tools,
        [
            "explain_rule",
            "list_issues",
            "show_issue",
            "status",
            "wait_for_verdict"
        ]
    );
    let call = |name: &str| {
        let c = &v["calls"][name];
        assert_eq!(c["is_error"], false, "{name}: {c}");
        c["value"].clone()
    };
    let status = call("status");
    assert_eq!(status["daemon"]["running"], true, "{status}");
    assert_eq!(status["daemon"]["state"], "TESTING", "{status}");
    assert_eq!(status["head"], leak.as_str());
    assert_eq!(status["head_audited"], false);
    assert_eq!(status["head_scanned_by_fast_lane"], true);
    assert_eq!(status["open"]["CRITICAL"], 1, "{status}");

    let listed = call("list_issues");
    assert_eq!(listed["count"], 1, "{listed}");
    let issue = &listed["issues"][0];
    assert_eq!(issue["id"], "SEC-001");
    assert_eq!(issue["place"], "deploy.py:2");
    assert!(issue["open_for"].is_string(), "{issue}");

    let shown = call("show_issue");
    assert_eq!(shown["id"], "SEC-001");
    assert!(
        shown["feedback"]
            .as_str()
            .is_some_and(|f| f.contains("## Remediation")),
        "{shown}"
    );

    // HEAD's tests still run (a 3134 s sleep): after the wait, what the fast lane found.
    let verdict = call("wait_for_verdict");
    assert_eq!(verdict["commit"], leak.as_str());
    assert_eq!(verdict["audited"], false, "{verdict}");
    assert_eq!(verdict["fast_lane"], true, "{verdict}");
    assert_eq!(verdict["issues"][0]["id"], "SEC-001", "{verdict}");
    assert!(
        verdict["note"]
            .as_str()
            .is_some_and(|n| n.contains("still on it")),
        "{verdict}"
    );

    let rule = call("explain_rule");
    assert_eq!(rule["default_severity"], "HIGH");
    assert!(
        rule["remediation"]
            .as_str()
            .is_some_and(|r| r.contains("marker"))
    );
    let secret = call("explain_secret_rule");
    assert_eq!(secret["scanner"], "secrets");
    assert_eq!(secret["in_this_repository"]["fired"], 1, "{secret}");

    let unknown = &v["calls"]["show_unknown"];
    assert_eq!(unknown["is_error"], true, "{unknown}");
    assert!(
        unknown["value"]
            .as_str()
            .is_some_and(|m| m.contains("SEC-999"))
    );

    assert_eq!(
        v["resources"],
        serde_json::json!(["auditor://inbox", "auditor://report/latest"])
    );
    let inbox = v["read"]["auditor://inbox"].as_str().expect("inbox");
    assert!(inbox.contains("[CRITICAL] SEC-001"), "{inbox}");
    let report: Value = serde_json::from_str(
        v["read"]["auditor://report/latest"]
            .as_str()
            .expect("report"),
    )
    .expect("the latest report is JSON");
    assert_eq!(report["schema_version"], 1);
}
