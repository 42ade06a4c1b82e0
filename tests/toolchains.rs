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
