//! A Go module or workspace: `go vet`, `go test -json -vet=off` (test2json events, so
//! failures have files and lines), and golangci-lint when the project configures it.
//!
//! `./...` at the root of a go.work with no root module matches nothing ("directory prefix .
//! does not contain modules listed in go.work"), so each module the workspace uses is named.

use super::super::raw::StageValue;
use super::propose::{DetectedCheck, check, seconds, strings};
use super::tree::Tree;
use crate::parsers::Format;

/// The module path a go.mod declares.
pub fn module_path(go_mod: &str) -> Option<String> {
    go_mod.lines().find_map(|l| {
        let rest = l.trim().strip_prefix("module")?;
        let path = rest.trim().trim_matches('"');
        (!path.is_empty() && rest.starts_with(char::is_whitespace)).then(|| path.to_string())
    })
}

/// The directories a go.work `use`s, relative and without `./` ("" for the root).
pub fn go_work_uses(go_work: &str) -> Vec<String> {
    let mut dirs = Vec::new();
    let mut add = |dir: &str| {
        let dir = dir
            .split("//")
            .next()
            .unwrap_or_default()
            .trim()
            .trim_matches('"')
            .trim_start_matches("./")
            .trim_end_matches('/');
        let dir = if dir == "." { "" } else { dir };
        if !dirs.iter().any(|d| d == dir) {
            dirs.push(dir.to_string());
        }
    };
    let mut in_block = false;
    for line in go_work.lines().map(str::trim) {
        if in_block {
            if line.starts_with(')') {
                in_block = false;
            } else if !line.is_empty() && !line.starts_with("//") {
                add(line);
            }
        } else if let Some(rest) = line.strip_prefix("use") {
            let rest = rest.trim();
            if rest == "(" {
                in_block = true;
            } else if !rest.is_empty() && line.starts_with("use ") {
                add(rest);
            }
        }
    }
    dirs
}

const CONFIGS: [&str; 4] = [
    ".golangci.yml",
    ".golangci.yaml",
    ".golangci.toml",
    ".golangci.json",
];

/// The linters and `go test`, for a tree with a root go.mod or go.work.
pub fn detect(tree: &Tree) -> Option<(Vec<DetectedCheck>, DetectedCheck)> {
    let root_module = tree.has("go.mod");
    let uses: Vec<String> = go_work_uses(&tree.text("go.work"))
        .into_iter()
        .filter(|d| !d.is_empty() && tree.has(&format!("{d}/go.mod")))
        .collect();
    let mut packages: Vec<String> = Vec::new();
    if root_module {
        packages.push("./...".into());
    }
    packages.extend(uses.iter().map(|d| format!("./{d}/...")));
    if packages.is_empty() {
        return None;
    }
    let reason = match (root_module, uses.len()) {
        (true, 0) => "go.mod: a Go module".to_string(),
        (true, n) => format!("go.mod and go.work: a Go workspace of {} modules", n + 1),
        (false, n) => format!("go.work: a Go workspace of {n} modules, each named"),
    };
    let with_packages = |head: &[&'static str]| -> Vec<&str> {
        let mut command: Vec<&str> = head.to_vec();
        command.extend(packages.iter().map(String::as_str));
        command
    };
    let go_files = ["*.go", "go.mod", "go.sum", "go.work"];
    let mut vet = check(
        "go-vet",
        StageValue::Audit,
        &with_packages(&["go", "vet"]),
        Format::Lines,
    );
    vet.files = strings(&go_files);
    vet.timeout = Some(seconds(600));
    let mut lint = vec![DetectedCheck::new(reason.clone(), vet)];
    if let Some(config) = tree.first_of(&CONFIGS) {
        let mut c = check(
            "golangci-lint",
            StageValue::Audit,
            &with_packages(&["golangci-lint", "run"]),
            Format::Lines,
        );
        c.files = strings(&go_files);
        c.timeout = Some(seconds(900));
        lint.push(DetectedCheck::new(
            format!("{config}: the project lints with golangci-lint"),
            c,
        ));
    }
    let mut test = check(
        "go-test",
        StageValue::Test,
        // -vet=off: `go vet` is a check of its own; vet's reports from `go test` read like
        // compiler errors, and a printf mistake is no broken build.
        &with_packages(&["go", "test", "-json", "-vet=off"]),
        Format::GoTest,
    );
    test.timeout = Some(seconds(1800));
    Some((
        lint,
        DetectedCheck::new(format!("{reason}: go test -json"), test),
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_go_work_names_its_modules_in_blocks_and_lines() {
        let work = "go 1.22\n\nuse (\n\t./plugins/apps\n\t./plugins/common // shared\n\t.\n)\nuse ./tools\nuser x\n";
        assert_eq!(
            go_work_uses(work),
            ["plugins/apps", "plugins/common", "", "tools"]
        );
        assert_eq!(
            module_path("// c\nmodule github.com/dokku/dokku/plugins/apps\n"),
            Some("github.com/dokku/dokku/plugins/apps".into())
        );
        assert_eq!(module_path("modulex y\n"), None);
    }
}
