//! Checks that run a real toolchain (cargo, clippy): a binary of their own, so that the
//! peak memory of what they start does not count against the memory the main integration
//! binary measures of the auditor's children.

#[allow(dead_code)]
#[path = "integration/support.rs"]
mod support;

use support::{TestRepo, issues_of};

/// `clippy -- -D warnings` makes every lint an error; a denied lint is a lint at level error,
/// not a broken build (which would skip the tests). Real cargo, real clippy.
#[test]
fn a_lint_denied_by_clippy_is_no_build_break() {
    let repo = TestRepo::new();
    repo.write(
        "Cargo.toml",
        "[package]\nname = \"tiny\"\nversion = \"0.1.0\"\nedition = \"2021\"\n\n[workspace]\n",
    );
    repo.write(
        "src/lib.rs",
        "pub fn f() -> u32 {\n    let unused = 1;\n    2\n}\n",
    );
    // The test repository is the checks' HOME: tell rustup where the toolchains are.
    let home = std::env::var("HOME").unwrap_or_default();
    let rustup = std::env::var("RUSTUP_HOME").unwrap_or_else(|_| format!("{home}/.rustup"));
    let cargo = std::env::var("CARGO_HOME").unwrap_or_else(|_| format!("{home}/.cargo"));
    repo.write(
        "auditor.toml",
        format!(
            "[[check]]\nname = \"clippy\"\ncommand = [\"env\", \"RUSTUP_HOME={rustup}\", \"CARGO_HOME={cargo}\", \"cargo\", \"clippy\", \"--quiet\", \"--offline\", \"--message-format=json\", \"--\", \"-D\", \"warnings\"]\nformat = \"cargo\"\ntimeout = \"120s\"\n"
        ),
    );
    repo.commit("first");
    let (_, report, _) = repo.audit_json(&[]);
    assert!(issues_of(&report, "BUILD_BREAK").is_empty(), "{report}");
    let lints = issues_of(&report, "LINT");
    assert!(
        lints.iter().any(|l| l["rule"] == "unused_variables"),
        "{report}"
    );
}

/// A Go module with no `[[check]]` anywhere: the embedded defaults detect `go vet` and
/// `go test -json`, and their findings have the file and line the tools name. Real go.
#[test]
fn a_go_module_is_vetted_and_tested_with_files_and_lines() {
    let repo = TestRepo::new();
    repo.write("go.mod", "module example.com/calc\n\ngo 1.19\n");
    repo.write(
        "calc/calc.go",
        "package calc\n\nimport \"fmt\"\n\n// Add adds.\nfunc Add(a, b int) int {\n\tfmt.Printf(\"%d\\n\", \"x\")\n\treturn a - b\n}\n",
    );
    repo.write(
        "calc/calc_test.go",
        "package calc\n\nimport \"testing\"\n\nfunc TestAdd(t *testing.T) {\n\tt.Run(\"small\", func(t *testing.T) {\n\t\tif Add(1, 2) != 3 {\n\t\t\tt.Fatalf(\"Add(1, 2) = %d\", Add(1, 2))\n\t\t}\n\t})\n}\n",
    );
    repo.commit("calc");
    // The test repository is the checks' HOME: keep go's caches out of it.
    let cache = tempfile::tempdir().expect("tempdir");
    let (_, report, stderr) = {
        let out = repo
            .auditor()
            .env("GOCACHE", cache.path().join("build"))
            .env("GOPATH", cache.path().join("path"))
            .env("GOFLAGS", "-mod=mod")
            .args(["audit", "--json"])
            .output()
            .expect("run");
        let report: serde_json::Value =
            serde_json::from_slice(&out.stdout).unwrap_or(serde_json::Value::Null);
        (
            out.status.code(),
            report,
            String::from_utf8_lossy(&out.stderr).into_owned(),
        )
    };
    let vet = issues_of(&report, "LINT");
    assert!(
        vet.iter()
            .any(|l| l["file"] == "calc/calc.go" && l["line"] == 7),
        "{stderr}{report}"
    );
    let failures = issues_of(&report, "TEST_FAILURE");
    assert!(
        failures
            .iter()
            .any(|f| f["file"] == "calc/calc_test.go" && f["line"] == 8),
        "{report}"
    );
    assert!(
        !repo.git(&["status", "--porcelain"]).contains("?? "),
        "the audit dirtied the repository"
    );
}
