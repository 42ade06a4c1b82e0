//! A test command that could not start: what its output says the environment lacks (a
//! module never installed, an installed dependency of another version than the tests need, a
//! package missing from `node_modules`, a program not on PATH, a compiler older than the
//! project requires).
//! Whether that is the commit's doing is decided by the engine, which knows what it changed.

use std::sync::LazyLock;

use regex::Regex;

/// What a test command's output says is missing.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Blocker {
    /// A Python module that could not be imported (`ModuleNotFoundError`), its top-level name.
    PythonModule(String),
    /// An installed Python package (in site-packages) that lacks a name the tests import: the
    /// environment has another version than the project needs (flask's tests import
    /// `notset` from `_pytest.monkeypatch`, which the installed pytest no longer has).
    PythonVersion {
        /// The installed package's top-level module.
        package: String,
        /// The name it lacks.
        name: String,
    },
    /// A Node.js package that could not be resolved (`Cannot find module 'x'`).
    NodePackage(String),
    /// A program a script ran that is not installed (`sh: 1: jest: not found`).
    Program(String),
    /// A Go module go could not download: its module proxy cannot be reached (no network).
    GoModule(String),
    /// The toolchain is older than the project requires (cargo: `rustc 1.95.0 is not supported
    /// by the following packages: grep@0.4.1 requires rustc 1.96`).
    Toolchain {
        /// The required toolchain, as the tool names it (`rustc 1.96`).
        needs: String,
        /// The one the machine has (`rustc 1.95.0`).
        has: String,
        /// The first package that requires it (`grep@0.4.1`).
        package: String,
    },
}

impl Blocker {
    /// The missing thing's name.
    pub fn name(&self) -> &str {
        match self {
            Blocker::PythonModule(n)
            | Blocker::NodePackage(n)
            | Blocker::Program(n)
            | Blocker::GoModule(n) => n,
            Blocker::PythonVersion { package, .. } => package,
            Blocker::Toolchain { needs, .. } => needs,
        }
    }
}

fn re(pattern: &str) -> Regex {
    #[expect(clippy::expect_used, reason = "a fixed pattern, covered by the tests")]
    Regex::new(pattern).expect("environment pattern")
}

// Names are limited to what module, package and program names are made of: the output is
// the agent's text and reaches the report.
static PYTHON: LazyLock<Regex> =
    LazyLock::new(|| re(r"ModuleNotFoundError: No module named '([A-Za-z_][A-Za-z0-9_.]{0,99})'"));
static PYTHON_NAME: LazyLock<Regex> = LazyLock::new(|| {
    re(
        r"ImportError: cannot import name '([A-Za-z_][A-Za-z0-9_]{0,99})' from '([A-Za-z_][A-Za-z0-9_.]{0,99})' \(([^)\n]{0,400})\)",
    )
});
static NODE: LazyLock<Regex> =
    LazyLock::new(|| re(r"Cannot find module '(@?[A-Za-z0-9_.][A-Za-z0-9_./\-]{0,199})'"));
// npm's npx with `--no-install` when the package is not in node_modules:
// `npx canceled due to missing packages and no YES option: ["eslint@10.16.0"]`.
static NPX: LazyLock<Regex> = LazyLock::new(|| {
    re(
        r#"npx canceled due to missing packages and no YES option: \["(@?[A-Za-z0-9_.][A-Za-z0-9_./\-]{0,199})@"#,
    )
});
static RUST_VERSION: LazyLock<Regex> = LazyLock::new(|| {
    re(
        r"error: (rustc [0-9][0-9.]{0,20}[0-9]) is not supported by the following packages?:\s*\n\s*([A-Za-z0-9_\-]{1,100}@[0-9A-Za-z.+\-]{1,50}) requires (rustc [0-9][0-9.]{0,20}[0-9])",
    )
});
// go 1.20 and older cannot read a newer `go` line: `reading go.work: /w/go.work:1: invalid go
// version '1.26.2': must match format 1.23`; 1.21 and newer say what runs:
// `go: go.mod requires go >= 1.26.2 (running go 1.22.1; GOTOOLCHAIN=local)`.
static GO_UNREADABLE: LazyLock<Regex> = LazyLock::new(|| {
    re(
        r"(go\.(?:mod|work)):\d{1,9}: invalid go version '([0-9][0-9.]{0,20}[0-9])': must match format",
    )
});
static GO_VERSION: LazyLock<Regex> = LazyLock::new(|| {
    re(
        r"go: (?:[A-Za-z0-9_./\-]{0,300}/)?(go\.(?:mod|work)) requires go >= ([0-9][0-9.]{0,20}[0-9]) \(running go ([0-9][0-9.]{0,20}[0-9])",
    )
});
// go without a network: `go: github.com/x/y@v2.0.6: Get "https://proxy.golang.org/...": dial
// tcp: lookup proxy.golang.org ...: no such host`. Only a failure to connect: a version that
// does not exist is the project's to fix.
static GO_DOWNLOAD: LazyLock<Regex> = LazyLock::new(|| {
    re(
        r#"go: ([A-Za-z0-9_.\-/]{1,200}@v[0-9A-Za-z.+\-]{1,60}): Get "[^"\n]{1,400}": (?:dial tcp|proxyconnect|net/http: TLS handshake timeout)"#,
    )
});
static PROGRAM: LazyLock<Regex> = LazyLock::new(|| {
    re(
        r"(?m)^(?:/bin/)?(?:sh|bash)(?:: line \d+)?: (?:\d+: )?([A-Za-z0-9_.\-]{1,100}): (?:command )?not found",
    )
});

/// What the output of a failed test command says the environment lacks, if anything.
pub fn blocker(output: &str) -> Option<Blocker> {
    if let Some(c) = PYTHON.captures(output) {
        let top = c[1].split('.').next().unwrap_or_default().to_string();
        return Some(Blocker::PythonModule(top));
    }
    // Only an installed package: a name missing from the project's own module is the code's.
    if let Some(c) = PYTHON_NAME
        .captures(output)
        .filter(|c| c[3].contains("site-packages") || c[3].contains("dist-packages"))
    {
        return Some(Blocker::PythonVersion {
            package: c[2].split('.').next().unwrap_or_default().to_string(),
            name: c[1].to_string(),
        });
    }
    if let Some(c) = NODE.captures(output) {
        let name = &c[1];
        // A path is the project's own code: a missing file is the code's fault.
        if !name.starts_with(['.', '/']) {
            let segments = if name.starts_with('@') { 2 } else { 1 };
            let package: Vec<&str> = name.split('/').take(segments).collect();
            return Some(Blocker::NodePackage(package.join("/")));
        }
    }
    if let Some(c) = NPX.captures(output) {
        return Some(Blocker::NodePackage(c[1].to_string()));
    }
    if let Some(c) = RUST_VERSION.captures(output) {
        return Some(Blocker::Toolchain {
            has: c[1].to_string(),
            package: c[2].to_string(),
            needs: c[3].to_string(),
        });
    }
    if let Some(c) = GO_DOWNLOAD.captures(output) {
        return Some(Blocker::GoModule(c[1].to_string()));
    }
    if let Some(c) = GO_VERSION.captures(output) {
        return Some(Blocker::Toolchain {
            needs: format!("go {}", &c[2]),
            has: format!("go {}", &c[3]),
            package: c[1].to_string(),
        });
    }
    if let Some(c) = GO_UNREADABLE.captures(output) {
        return Some(Blocker::Toolchain {
            needs: format!("go {}", &c[2]),
            has: "an older go, which cannot read that version".into(),
            package: c[1].to_string(),
        });
    }
    PROGRAM
        .captures(output)
        .map(|c| Blocker::Program(c[1].to_string()))
}

/// Files whose change changes what the environment must provide.
pub fn is_dependency_manifest(path: &str) -> bool {
    let name = path.rsplit('/').next().unwrap_or(path);
    matches!(
        name,
        "pyproject.toml"
            | "setup.py"
            | "setup.cfg"
            | "Pipfile"
            | "Pipfile.lock"
            | "poetry.lock"
            | "uv.lock"
            | "pdm.lock"
            | "tox.ini"
            | "package.json"
            | "package-lock.json"
            | "npm-shrinkwrap.json"
            | "yarn.lock"
            | "pnpm-lock.yaml"
            | "bun.lockb"
            | "Cargo.toml"
            | "Cargo.lock"
            | "go.mod"
            | "go.sum"
            | "Gemfile"
            | "Gemfile.lock"
            | "Makefile"
    ) || (name.starts_with("requirements") && name.ends_with(".txt"))
}

/// Whether a line imports `module` (Python) or requires `package` (JavaScript).
pub fn imports(line: &str, blocker: &Blocker) -> bool {
    let line = line.trim_start();
    match blocker {
        Blocker::PythonModule(m) | Blocker::PythonVersion { package: m, .. } => {
            ["import ", "from "].iter().any(|kw| {
                line.strip_prefix(kw).is_some_and(|rest| {
                    rest.split(|c: char| c == ',' || c.is_whitespace())
                        .any(|part| part.split('.').next() == Some(m.as_str()))
                })
            })
        }
        Blocker::NodePackage(p) => {
            ["'", "\""]
                .iter()
                .any(|q| line.contains(&format!("{q}{p}{q}")) || line.contains(&format!("{q}{p}/")))
                && (line.contains("require(") || line.contains("import"))
        }
        Blocker::Program(_) | Blocker::Toolchain { .. } | Blocker::GoModule(_) => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn what_real_runners_print_when_the_environment_lacks_something() {
        let pytest = "ImportError while importing test module '/w/tests/test_core.py'.\nHint: make sure your test modules/packages have valid Python names.\nTraceback:\ntests/test_core.py:1: in <module>\n    from mypkg.core import run\nE   ModuleNotFoundError: No module named 'mypkg'\n";
        assert_eq!(blocker(pytest), Some(Blocker::PythonModule("mypkg".into())));
        let dotted = "E   ModuleNotFoundError: No module named 'yaml.constructor'";
        assert_eq!(blocker(dotted), Some(Blocker::PythonModule("yaml".into())));
        let npm = "> mocha test/\n\nsh: 1: mocha: not found\n";
        assert_eq!(blocker(npm), Some(Blocker::Program("mocha".into())));
        let bash = "bash: line 1: jest: command not found";
        assert_eq!(blocker(bash), Some(Blocker::Program("jest".into())));
        let node = "Error: Cannot find module 'express'\nRequire stack:\n- /w/test/app.js";
        assert_eq!(blocker(node), Some(Blocker::NodePackage("express".into())));
        let scoped = "Error: Cannot find module '@babel/core/lib/x'";
        assert_eq!(
            blocker(scoped),
            Some(Blocker::NodePackage("@babel/core".into()))
        );
        // flask at pytest 9: the installed pytest lacks what the tests import.
        let version = "tests/test_cli.py:14: in <module>\n    from _pytest.monkeypatch import notset\nE   ImportError: cannot import name 'notset' from '_pytest.monkeypatch' (/usr/lib/python3.11/site-packages/_pytest/monkeypatch.py)\n";
        assert_eq!(
            blocker(version),
            Some(Blocker::PythonVersion {
                package: "_pytest".into(),
                name: "notset".into()
            })
        );
        // A name missing from the project's own module is the code.
        let own =
            "E   ImportError: cannot import name 'helper' from 'flask.cli' (/w/src/flask/cli.py)";
        assert_eq!(blocker(own), None);
        let npx = "npm error npx canceled due to missing packages and no YES option: [\"eslint@10.16.0\"]";
        assert_eq!(blocker(npx), Some(Blocker::NodePackage("eslint".into())));
        // cargo (1.95) on ripgrep 15.2, whose crates need rustc 1.96.
        let cargo = "error: rustc 1.95.0 is not supported by the following packages:\n  grep@0.4.1 requires rustc 1.96\n  grep-cli@0.1.12 requires rustc 1.96\n";
        assert_eq!(
            blocker(cargo),
            Some(Blocker::Toolchain {
                needs: "rustc 1.96".into(),
                has: "rustc 1.95.0".into(),
                package: "grep@0.4.1".into(),
            })
        );
        // go 1.19 on dokku's go.work, and go 1.22 on a module that needs 1.26.
        let go_old =
            "reading go.work: /w/go.work:1: invalid go version '1.26.2': must match format 1.23\n";
        assert_eq!(
            blocker(go_old),
            Some(Blocker::Toolchain {
                needs: "go 1.26.2".into(),
                has: "an older go, which cannot read that version".into(),
                package: "go.work".into(),
            })
        );
        let go_new = "go: go.mod requires go >= 1.26.2 (running go 1.22.1; GOTOOLCHAIN=local)\n";
        assert_eq!(
            blocker(go_new),
            Some(Blocker::Toolchain {
                needs: "go 1.26.2".into(),
                has: "go 1.22.1".into(),
                package: "go.mod".into(),
            })
        );
        // go with no route to its module proxy.
        let offline = "go: downloading github.com/spf13/pflag v1.0.9\ngo: github.com/cpuguy83/go-md2man/v2@v2.0.6: Get \"https://proxy.golang.org/github.com/cpuguy83/go-md2man/v2/@v/v2.0.6.mod\": dial tcp: lookup proxy.golang.org on 10.255.255.53:53: no such host\n";
        assert_eq!(
            blocker(offline),
            Some(Blocker::GoModule(
                "github.com/cpuguy83/go-md2man/v2@v2.0.6".into()
            ))
        );
        let missing = "go: example.com/x@v9.9.9: reading https://proxy.golang.org/example.com/x/@v/v9.9.9.mod: 404 Not Found\n";
        assert_eq!(blocker(missing), None);
        // The project's own file missing is the code, not the environment.
        assert_eq!(blocker("Error: Cannot find module './lib/app'"), None);
        assert_eq!(
            blocker("AssertionError: 1 != 2\nFAILED tests/test_a.py"),
            None
        );
    }

    #[test]
    fn an_added_import_of_the_missing_module_is_the_commits() {
        let m = Blocker::PythonModule("requests".into());
        assert!(imports("import requests", &m));
        assert!(imports("    from requests.adapters import HTTPAdapter", &m));
        assert!(imports("import os, requests", &m));
        assert!(!imports("import requests_mock", &m));
        let p = Blocker::NodePackage("supertest".into());
        assert!(imports("const request = require('supertest');", &p));
        assert!(imports("import request from \"supertest\";", &p));
        assert!(!imports("const x = 'supertest';", &p));
    }

    #[test]
    fn manifests() {
        for m in [
            "pyproject.toml",
            "sub/requirements-dev.txt",
            "package-lock.json",
            "go.sum",
        ] {
            assert!(is_dependency_manifest(m), "{m}");
        }
        assert!(!is_dependency_manifest("src/app.py"));
    }
}
