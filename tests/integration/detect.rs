//! `auditor init` on fixture repositories of each ecosystem it detects: what it writes, what
//! it prints, and what it says it could not run because a program is missing.

use std::path::Path;

use crate::support::TestRepo;

/// A `PATH` of one folder holding only `programs` (links to the real ones, where installed),
/// so that what `init` finds installed does not depend on the machine.
fn only_programs(dir: &Path, programs: &[&str]) -> std::path::PathBuf {
    let bin = dir.join("bin");
    std::fs::create_dir_all(&bin).expect("bin folder");
    for program in programs {
        let real = std::env::split_paths(&std::env::var_os("PATH").unwrap_or_default())
            .map(|d| d.join(program))
            .find(|p| p.is_file());
        if let Some(real) = real {
            std::os::unix::fs::symlink(real, bin.join(program)).expect("link");
        }
    }
    bin
}

/// Runs `init` in `repo` with only `programs` installed; (config, stdout).
fn init_with(repo: &TestRepo, programs: &[&str]) -> (String, String) {
    let tools = tempfile::tempdir().expect("tempdir");
    let bin = only_programs(tools.path(), programs);
    let out = repo
        .auditor()
        .env("PATH", &bin)
        .arg("init")
        .output()
        .expect("run");
    let stdout = String::from_utf8_lossy(&out.stdout).into_owned();
    assert_eq!(
        out.status.code(),
        Some(0),
        "{stdout}{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let config = std::fs::read_to_string(repo.path().join("auditor.toml")).expect("config");
    (config, stdout)
}

/// The `command = [...]` line of the check named `name`.
fn command_of(config: &str, name: &str) -> String {
    let table = config
        .split("[[check]]")
        .find(|t| t.contains(&format!("name = \"{name}\"")))
        .unwrap_or_else(|| panic!("no check {name} in\n{config}"));
    table
        .lines()
        .find(|l| l.starts_with("command = "))
        .unwrap_or_default()
        .to_string()
}

#[test]
fn a_go_workspace_gets_vet_and_test_json_per_module_and_says_what_is_missing() {
    // dokku's shape: a go.work at the root, one module per plugin, no root module.
    let repo = TestRepo::new();
    repo.write(
        "go.work",
        "go 1.19\n\nuse (\n\t./plugins/apps\n\t./plugins/common\n)\n",
    );
    repo.write(
        "plugins/apps/go.mod",
        "module example.com/apps\n\ngo 1.19\n",
    );
    repo.write("plugins/apps/apps.go", "package apps\n");
    repo.write(
        "plugins/common/go.mod",
        "module example.com/common\n\ngo 1.19\n",
    );
    repo.write("plugins/common/common.go", "package common\n");
    repo.write(".golangci.yml", "linters:\n  enable: [errcheck]\n");
    let (config, stdout) = init_with(&repo, &["go"]);
    assert_eq!(
        command_of(&config, "go-vet"),
        r#"command = ["go", "vet", "./plugins/apps/...", "./plugins/common/..."]"#
    );
    assert_eq!(
        command_of(&config, "go-test"),
        r#"command = ["go", "test", "-json", "-vet=off", "./plugins/apps/...", "./plugins/common/..."]"#
    );
    assert!(config.contains("format = \"go-test\""), "{config}");
    assert!(
        stdout.contains("go-vet") && stdout.contains("go.work: a Go workspace of 2 modules"),
        "{stdout}"
    );
    assert!(
        stdout.contains(
            "missing: golangci-lint not installed: `golangci-lint` reports CHECK_UNAVAILABLE until it is"
        ),
        "{stdout}"
    );
    // With go missing too, both go checks say so.
    let (_, stdout) = init_again(&repo, &[]);
    assert!(
        stdout.contains("missing: go not installed: `go-vet`"),
        "{stdout}"
    );
    assert!(
        stdout.contains("missing: go not installed: `go-test`"),
        "{stdout}"
    );
}

/// `init --force` with only `programs` installed.
fn init_again(repo: &TestRepo, programs: &[&str]) -> (String, String) {
    std::fs::remove_file(repo.path().join("auditor.toml")).expect("remove config");
    init_with(repo, programs)
}

#[test]
fn a_node_project_lints_with_its_scripts_tools_and_asks_vitest_for_junit() {
    // got's shape: xo and tsc in the test script, TypeScript.
    let repo = TestRepo::new();
    repo.write(
        "package.json",
        r#"{"scripts": {"test": "xo && tsc --noEmit && ava"}, "devDependencies": {"xo": "^0.58", "typescript": "^5", "ava": "^6"}}"#,
    );
    repo.write("tsconfig.json", "{}\n");
    repo.write("package-lock.json", "{}\n");
    let (config, stdout) = init_with(&repo, &["npx", "npm"]);
    assert_eq!(
        command_of(&config, "xo"),
        r#"command = ["npx", "--no-install", "xo", "--reporter=json", "{files}"]"#
    );
    assert!(
        command_of(&config, "tsc").contains("\"--noEmit\""),
        "{config}"
    );
    assert!(command_of(&config, "npm-test").contains("\"npm\", \"test\""));
    assert!(config.contains("setup = [\"npm\", \"ci\"]"), "{config}");
    assert!(!stdout.contains("missing:"), "{stdout}");

    let repo = TestRepo::new();
    repo.write(
        "package.json",
        r#"{"scripts": {"lint": "standard", "test": "vitest"}}"#,
    );
    let (config, _) = init_with(&repo, &["npx", "npm"]);
    assert!(command_of(&config, "standard").contains("\"standard\", \"{files}\""));
    assert!(
        command_of(&config, "vitest").contains("\"--reporter=junit\""),
        "{config}"
    );
    assert!(
        config.contains("junit = \".auditor-junit.xml\""),
        "{config}"
    );

    // A lint script calling a tool detection does not know runs as the script.
    let repo = TestRepo::new();
    repo.write(
        "package.json",
        r#"{"scripts": {"lint": "node scripts/lint.mjs"}}"#,
    );
    let (config, stdout) = init_with(&repo, &["npm"]);
    assert_eq!(
        command_of(&config, "npm-lint"),
        r#"command = ["npm", "run", "lint", "--silent"]"#
    );
    assert!(
        stdout.contains("package.json's lint script (`node scripts/lint.mjs`)"),
        "{stdout}"
    );
}

#[test]
fn python_ruby_and_jvm_projects() {
    let repo = TestRepo::new();
    repo.write(
        "pyproject.toml",
        "[project]\nname = \"p\"\n\n[tool.mypy]\nstrict = true\n",
    );
    let (config, stdout) = init_with(&repo, &["python3", "ruff"]);
    let mypy = command_of(&config, "mypy");
    assert!(
        mypy.starts_with(r#"command = [".auditor-venv/bin/python", "-m", "mypy""#),
        "{mypy}"
    );
    assert!(stdout.contains("pyproject.toml [tool.mypy]"), "{stdout}");
    assert!(command_of(&config, "pytest").contains("--junitxml"));

    let repo = TestRepo::new();
    repo.write("Gemfile", "source 'https://rubygems.org'\ngem 'rubocop'\n");
    repo.write("spec/calc_spec.rb", "RSpec.describe 1 do\nend\n");
    let (config, stdout) = init_with(&repo, &[]);
    assert!(command_of(&config, "rubocop").contains("\"emacs\""));
    assert_eq!(
        command_of(&config, "rspec"),
        r#"command = ["rspec", "--format", "json"]"#
    );
    assert!(
        stdout.contains("missing: rubocop not installed"),
        "{stdout}"
    );

    let repo = TestRepo::new();
    repo.write("pom.xml", "<project/>\n");
    let (config, _) = init_with(&repo, &["mvn"]);
    assert!(
        config.contains("junit = \"**/target/surefire-reports/TEST-*.xml\""),
        "{config}"
    );
    let repo = TestRepo::new();
    repo.write("build.gradle.kts", "plugins { java }\n");
    repo.write("gradlew", "#!/bin/sh\necho wrapper\n");
    let (config, stdout) = init_with(&repo, &[]);
    assert_eq!(
        command_of(&config, "gradle-test"),
        r#"command = ["gradle", "--console=plain", "--quiet", "test"]"#
    );
    assert!(
        stdout.contains("gradlew is the repository's own program"),
        "{stdout}"
    );
}
