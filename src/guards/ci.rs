//! CI definitions to the guards: the checks a definition runs (`pytest`, `make test`, ...),
//! and what an edit does to them: weakens (a check dropped, a step unable to fail, a floor
//! lowered: HIGH), may narrow what is checked (a version or platform gone, a trigger or a
//! condition changed, a check selecting what it runs, a line commented out: MEDIUM, saying
//! which), or leaves every check in place (LOW).

use super::rules::{CI_FLOOR_KEYS, Rule, changed_lines, diff_snippet, file_tampering, is_ci};
use super::{CommitRef, FileChange, GuardSettings, text};
use crate::finding::{Finding, Severity};
use crate::git::FileStatus;

/// What a change to a CI definition does to the checks it runs.
#[derive(Debug, PartialEq, Eq)]
enum CiChange {
    /// Only pinned versions moved (`uses: actions/checkout@v3` to `@v4`, a tool's version):
    /// what dependency bots commit.
    Pins,
    /// A check was dropped, switched off or made unable to fail.
    Weakens(String),
    /// The definition is deleted and every check it ran still runs elsewhere (a change of
    /// CI provider, a workflow merged into another).
    Moved,
    /// Lines added and none removed, none of them narrowing when or where it runs (a job,
    /// a platform, a version, a comment): it checks more, not less.
    Adds,
    /// Anything else, with what in it may narrow what the CI checks (a step that runs a
    /// check rewritten, a line commented out, a trigger changed, fewer versions or platforms
    /// named): worth a look, not a verdict. None: only what it installs, caches, names or
    /// bumps changed (on real histories, most CI edits).
    Edits(Option<String>),
}

/// What added lines say when they make a step unable to fail or keep it from running.
const CI_SOFTENERS: [&str; 10] = [
    "continue-on-error: true",
    "allow_failure: true",
    "|| true",
    "|| exit 0",
    "|| :",
    "set +e",
    "if: false",
    "if: ${{ false }}",
    "when: never",
    "--exit-zero",
];

/// Tools whose name alone says they check the code.
const CI_CHECKERS: [&str; 20] = [
    "pytest",
    "tox",
    "nox",
    "unittest",
    "clippy",
    "vet",
    "ruff",
    "eslint",
    "shellcheck",
    "flake8",
    "mypy",
    "pylint",
    "bats",
    "jest",
    "mocha",
    "vitest",
    "phpunit",
    "rspec",
    "ctest",
    "golangci-lint",
];

/// Words that name a check when a runner comes before them (`make test`, `npm run lint`,
/// `cargo check`, `meson test`), not on their own (`if test -z`, `test/kind/config.yaml`).
const CI_CHECK_WORDS: [&str; 6] = ["test", "tests", "lint", "check", "coverage", "prove"];
const CI_RUNNERS: [&str; 16] = [
    "make",
    "npm",
    "yarn",
    "pnpm",
    "bun",
    "deno",
    "run",
    "go",
    "cargo",
    "mix",
    "dotnet",
    "gradle",
    "./gradlew",
    "mvn",
    "rake",
    "meson",
];

/// What separates the words of a shell command (quotes as escapes keep this file's brace
/// and quote pairs plain for tools that read it).
const CI_SEPARATORS: [char; 7] = [';', '&', '|', '(', ')', '\u{22}', '\u{27}'];

/// A YAML flow mapping opens a line of data (a matrix row), not a command.
const FLOW_MAPPING: &str = "{";

/// What marks a templated word (`${{ matrix.tox }}`, `<< parameters.index >>`, `KEY=value`),
/// never a path or a name (braces as escapes, as above).
const TEMPLATED: [char; 4] = ['$', '\u{7b}', '<', '='];

/// What separates the values of a matrix row (`{python: '3.11', os: ubuntu-latest}`).
const ROW_SEPARATORS: [char; 9] = ['[', ']', '\u{7b}', '\u{7d}', ',', '\'', '"', '=', ':'];

/// The checks a CI line runs, if it is a command: `run:`/`script:`/`command:` lines and the
/// lines of a script block, not the keys that name, describe or configure a step.
fn ci_checks(line: &str) -> Vec<String> {
    let t = line.trim_start().trim_start_matches("- ").trim_start();
    if t.starts_with('#') || t.starts_with(FLOW_MAPPING) {
        return Vec::new();
    }
    let command = match t.split_once(':') {
        Some((key, value))
            if !key.contains(' ') && !key.is_empty() && !value.starts_with(['/', '\\']) =>
        {
            if matches!(key, "run" | "script" | "command" | "cmd") {
                value
            } else {
                return Vec::new();
            }
        }
        _ => t,
    };
    let tokens: Vec<String> = command
        .split(|c: char| c.is_whitespace() || CI_SEPARATORS.contains(&c))
        .filter(|w| !w.is_empty())
        .map(str::to_ascii_lowercase)
        .collect();
    // Installing a tool or printing a message about one runs no check.
    let runs_nothing = tokens
        .first()
        .is_some_and(|t| {
            matches!(
                t.as_str(),
                "mkdir" | "cd" | "curl" | "wget" | "export" | "chmod" | "cp" | "mv" | "ln" | "which"
            )
        })
        // `echo`, after a redirection (`>&2 echo ...`).
        || tokens
            .iter()
            .take(3)
            .any(|t| matches!(t.as_str(), "echo" | "printf"))
        || tokens.iter().any(|t| t == "install")
        || tokens.windows(2).any(|w| {
            matches!(w[0].as_str(), "npm" | "pnpm" | "yarn" | "bun")
                && matches!(w[1].as_str(), "ci" | "i" | "add")
        });
    if runs_nothing {
        return Vec::new();
    }
    let mut out = Vec::new();
    for (i, w) in tokens.iter().enumerate() {
        // A checker is a program: a bare name or a path to a bin folder, not a folder named
        // like one (`mkdir -p test-results/bats`).
        let name = match w.rsplit_once('/') {
            Some((dir, name)) if dir.ends_with("bin") => name,
            Some(_) => "",
            None => w.as_str(),
        };
        // pytest's old spelling, still in many CI files (`py.test tests`), is pytest.
        let name = if name == "py.test" { "pytest" } else { name };
        if CI_CHECKERS.contains(&name) {
            out.push(name.to_string());
        } else if let Some(word) = CI_CHECK_WORDS
            .iter()
            // Re-running what failed can only turn red into green: removing it checks more.
            .filter(|_| !w.contains(['/', '$']) && !w.contains("retry") && !w.contains("rerun"))
            .find(|c| w.split(['-', ':']).any(|part| part == **c))
        {
            let plain = |t: &&String| !t.starts_with('-');
            // A make target is its own step (`make test-image` is not `make test-unit`);
            // every word after `make` up to here is a target or an option.
            let under_make = tokens[..i]
                .iter()
                .rposition(|t| t == "make" || t == "gmake")
                .filter(|&at| {
                    tokens[at + 1..i]
                        .iter()
                        .all(|t| t.starts_with('-') || !t.contains(['/', '$', '=']))
                });
            // Else the runner comes right before its check word, options aside (`npm run
            // lint`, `go test -v`): in `docker run -v x vault-helm-test` no runner runs a test;
            // `npm run test:coverage` is npm's.
            let mut before = tokens[..i].iter().rev().filter(plain);
            let runner = match (before.next(), before.next()) {
                (Some(run), Some(r)) if run == "run" && CI_RUNNERS.contains(&r.as_str()) => Some(r),
                (Some(r), _) if CI_RUNNERS.contains(&r.as_str()) => Some(r),
                _ => None,
            };
            if under_make.is_some() {
                out.push(format!("make {w}"));
            } else if let Some(runner) = runner {
                out.push(format!("{runner} {word}"));
            }
        }
    }
    out
}

/// What a CI change does, from its removed and added lines; `runs_checks`: whether the
/// definition runs any check (a softened step of a release workflow softens no check).
fn ci_change(
    (old, new): (Option<&str>, Option<&str>),
    removed: &[String],
    added: &[String],
    runs_checks: bool,
    added_elsewhere: &std::collections::HashSet<String>,
) -> CiChange {
    let deleted = new.is_none();
    let softened = |l: &str| {
        let l = l.split_once(" #").map_or(l, |(code, _)| code);
        CI_SOFTENERS
            .iter()
            .find(|s| l.contains(*s))
            .copied()
            // A job switched off is always seen; a step that can no longer fail matters
            // where steps check something.
            .filter(|s| {
                s.starts_with("if:")
                    || s.starts_with("when:")
                    || runs_checks
                    || !ci_checks(l).is_empty()
            })
    };
    let was_softened = |s: &str| removed.iter().any(|l| l.contains(s));
    if let Some(s) = added
        .iter()
        .filter_map(|l| softened(l))
        .find(|s| !was_softened(s))
    {
        return CiChange::Weakens(format!("it adds `{s}`"));
    }
    // A check that moved to another CI definition of the commit (a change of CI provider)
    // is kept.
    let mut kept: std::collections::HashSet<String> =
        added.iter().flat_map(|l| ci_checks(l)).collect();
    kept.extend(added_elsewhere.iter().cloned());
    if let Some((line, check)) = removed.iter().find_map(|l| {
        ci_checks(l)
            .into_iter()
            .find(|c| !is_kept(c, &kept))
            .map(|c| (l, c))
    }) {
        return CiChange::Weakens(if deleted {
            format!("the definition is deleted, and with it `{check}`")
        } else {
            format!("it removes `{}`", line.trim())
        });
    }
    if deleted {
        return CiChange::Moved;
    }
    // A coverage floor lowered in a CI command (`--cov-fail-under=80` to `=50`) is the
    // same weakening as in a config file, however small the edit looks.
    let floor = |l: &str| {
        CI_FLOOR_KEYS.iter().find_map(|k| {
            let after = &l[l.find(k)? + k.len()..];
            let digits: String = after
                .chars()
                .skip_while(|c| !c.is_ascii_digit())
                .take_while(|c| c.is_ascii_digit() || *c == '.')
                .collect();
            digits.parse::<f64>().ok().map(|v| (*k, v))
        })
    };
    let before: Vec<(&str, f64)> = removed.iter().filter_map(|l| floor(l)).collect();
    for (key, value) in added.iter().filter_map(|l| floor(l)) {
        if let Some((_, old)) = before.iter().find(|(k, old)| *k == key && value < *old) {
            return CiChange::Weakens(format!("it lowers `{key}` from {old} to {value}"));
        }
    }
    // Triggers and conditions: an added line there can narrow when the CI runs at all.
    let narrows = |l: &String| {
        let l = l.trim_start().trim_start_matches("- ");
        [
            "branches", "paths", "tags", "if:", "when:", "only:", "except:", "rules:", "on:",
        ]
        .iter()
        .any(|k| l.starts_with(k))
    };
    if removed.iter().all(|r| extended(r, added)) && !added.iter().any(narrows) {
        return CiChange::Adds;
    }
    let shape = |l: &String| pin_shape(l);
    let mut before: Vec<String> = removed.iter().map(shape).collect();
    let mut after: Vec<String> = added.iter().map(shape).collect();
    before.sort();
    after.sort();
    if !before.is_empty() && before == after {
        return CiChange::Pins;
    }
    CiChange::Edits(narrowing(
        old.unwrap_or_default(),
        new.unwrap_or_default(),
        removed,
        added,
    ))
}

/// What in an edit of a CI definition may narrow what it checks, said in a few words: a step
/// that runs a check rewritten (`pytest` into `pytest -k 'not slow'`), a line commented out,
/// a trigger or a condition changed, fewer versions or platforms named in the file.
fn narrowing(old: &str, new: &str, removed: &[String], added: &[String]) -> Option<String> {
    let bare = |l: &str| l.trim().trim_start_matches("- ").trim_start().to_string();
    if let Some(how) = removed.iter().find_map(|r| narrowed_step(r, added)) {
        return Some(how);
    }
    let uncommented: Vec<String> = added
        .iter()
        .filter_map(|a| a.trim_start().strip_prefix('#'))
        .map(bare)
        .collect();
    if let Some(line) = removed
        .iter()
        .find(|r| !bare(r).is_empty() && uncommented.contains(&bare(r)))
    {
        return Some(format!("it comments out `{}`", line.trim()));
    }
    if let Some(how) = narrowed_triggers(new, removed, added) {
        return Some(how);
    }
    // Fewer distinct versions or platforms in the file (or tox environments, counted apart so
    // that envs added do not hide versions dropped), one of them gone, and fewer mentions of
    // them all (a bump replaces as many as it removes: `ubuntu-20.04` into `ubuntu-22.04`
    // where another job already ran 22.04).
    let (named_before, named_after) = (platforms(old), platforms(new));
    for tox in [false, true] {
        let of_kind = |named: &[String]| -> Vec<String> {
            named
                .iter()
                .filter(|p| p.starts_with("tox:") == tox)
                .cloned()
                .collect()
        };
        let (all_before, all_after) = (of_kind(&named_before), of_kind(&named_after));
        let before: std::collections::BTreeSet<&String> = all_before.iter().collect();
        let after: std::collections::BTreeSet<&String> = all_after.iter().collect();
        // A version written shorter (`node-version: "1.8"` into `"1"`) or longer is still run.
        let still_run = |v: &String| {
            after.contains(v)
                || after.iter().any(|w| {
                    let (long, short) = if w.len() > v.len() { (*w, v) } else { (v, *w) };
                    long.strip_prefix(short.as_str())
                        .is_some_and(|rest| rest.starts_with('.'))
                })
        };
        let gone: Vec<&str> = before
            .iter()
            .filter(|v| !still_run(v))
            .map(|v| v.as_str())
            .take(3)
            .collect();
        if after.len() < before.len() && !gone.is_empty() && all_after.len() < all_before.len() {
            return Some(format!(
                "it names fewer {} ({} before, {} after; `{}` gone)",
                if tox {
                    "tox environments"
                } else {
                    "versions or platforms"
                },
                before.len(),
                after.len(),
                gone.join("`, `")
            ));
        }
    }
    None
}

/// Options that select which tests a runner runs (pytest's `-k` and `-m`, mocha's `--grep`,
/// go's `-run`, cargo's `--skip`, ...) or let it pass whatever the outcome.
const CI_SELECTORS: [&str; 18] = [
    "-k",
    "-m",
    "--grep",
    "--ignore",
    "--ignore-glob",
    "--deselect",
    "--skip",
    "--exclude",
    "-run",
    "--testnamepattern",
    "--testpathignorepatterns",
    "--only",
    "--lf",
    "--last-failed",
    "--sf",
    "--filter",
    "--ignore-outcome",
    "--passwithnotests",
];

/// How a step that ran a check (the removed line `removed`) was narrowed in `added`: the
/// line that runs the same check now selects what it runs (`pytest` into
/// `pytest -k 'not slow'`) or names paths it did not (`pytest` into `pytest tests/unit`).
/// Options that only report (`--verbose`, `--junitxml=...`), steps re-wrapped or moved to
/// another line are no narrowing; a check no added line runs is judged as removed, before.
fn narrowed_step(removed: &str, added: &[String]) -> Option<String> {
    let checks = ci_checks(removed);
    if checks.is_empty() {
        return None;
    }
    let words = |l: &str| -> Vec<String> {
        let code = l.split_once(" #").map_or(l, |(code, _)| code);
        code.split(|c: char| c.is_whitespace() || CI_SEPARATORS.contains(&c))
            .filter(|w| !w.is_empty())
            .map(str::to_ascii_lowercase)
            .collect()
    };
    let before = words(removed);
    let plain = |w: &String| !w.starts_with('-') && !w.contains(TEMPLATED);
    let path_like = |w: &String| {
        plain(w)
            && w.starts_with(|c: char| c.is_ascii_alphabetic() || c == '.')
            && (w.contains('/')
                || [".py", ".js", ".ts", ".rs", ".go"]
                    .iter()
                    .any(|e| w.ends_with(e)))
    };
    let had_paths = before.iter().any(path_like);
    let is_selector = |w: &str| {
        let flag = w.split_once('=').map_or(w, |(f, _)| f);
        CI_SELECTORS.contains(&flag)
    };
    // A selection that was there, changed, selects differently (`-k 'not slow'` into
    // `-k 'not slow and not net'`).
    let selected = before.iter().any(|w| is_selector(w));
    // Only what comes after the check's own word selects (`python -m pytest` is no `-m`).
    let last_words: Vec<&str> = checks
        .iter()
        .filter_map(|c| c.split_whitespace().last())
        .collect();
    let narrowing = |line: &String| -> Option<String> {
        let after = words(line);
        let from = after
            .iter()
            .position(|w| last_words.iter().any(|l| w.contains(l)))
            .map_or(0, |at| at + 1);
        let new: Vec<&String> = after[from..]
            .iter()
            .filter(|w| !before.contains(w))
            .collect();
        if selected && !new.is_empty() {
            return Some(format!(
                "it changes what `{}` selects: `{}`",
                checks.join("`, `"),
                line.trim()
            ));
        }
        new.iter()
            .find(|w| is_selector(w))
            .map(|w| {
                format!(
                    "it makes `{}` select what it runs: `{w}`",
                    checks.join("`, `")
                )
            })
            .or_else(|| {
                new.iter()
                    .find(|w| !had_paths && path_like(w))
                    .map(|w| format!("it makes `{}` run only `{w}`", checks.join("`, `")))
            })
    };
    let same_check: Vec<&String> = added
        .iter()
        .filter(|a| ci_checks(a).iter().any(|c| checks.contains(c)))
        .collect();
    // Narrowed only if every line that runs the check now narrows it.
    let mut how = None;
    for line in &same_check {
        match narrowing(line) {
            Some(h) => how = how.or(Some(h)),
            None => return None,
        }
    }
    how
}

/// Events a CI definition runs on, and the filters that narrow them.
const CI_EVENTS: [&str; 8] = [
    "push",
    "pull_request",
    "pull_request_target",
    "merge_request",
    "merge_requests",
    "schedule",
    "pr",
    "trigger",
];
const CI_FILTERS: [&str; 10] = [
    "branches",
    "branches-ignore",
    "paths",
    "paths-ignore",
    "tags",
    "tags-ignore",
    "only",
    "except",
    "rules",
    "types",
];

/// A trigger narrowed by an edit: an event the definition no longer runs on, a filter it did
/// not have (`paths-ignore:`, `branches:` on `push`), or a condition (`if:`, `when:`) added or
/// changed on a job or a step that runs a check. A filter that only changes its values (a
/// branch renamed `master` into `main`, more branches) and conditions on steps that check
/// nothing are no narrowing.
fn narrowed_triggers(new: &str, removed: &[String], added: &[String]) -> Option<String> {
    let bare = |l: &str| l.trim().trim_start_matches("- ").trim_start().to_string();
    let key = |l: &str| {
        let b = bare(l);
        let k: String = b
            .chars()
            .take_while(|c| c.is_alphanumeric() || matches!(c, '_' | '-'))
            .collect();
        (b[k.len()..].starts_with(':') || b.len() == k.len()).then_some(k)
    };
    let new_lines: Vec<&str> = new.lines().collect();
    let removed_lines: Vec<&str> = removed.iter().map(String::as_str).collect();
    let names_event = |lines: &[&str], event: &str| {
        lines.iter().any(|l| {
            let b = bare(l);
            key(l).as_deref() == Some(event)
                || (b.starts_with("on:")
                    && b.split(|c: char| !(c.is_alphanumeric() || c == '_'))
                        .any(|w| w == event))
        })
    };
    for event in CI_EVENTS {
        let dropped = names_event(&removed_lines, event) && !names_event(&new_lines, event);
        if dropped {
            return Some(format!("it no longer runs on `{event}`"));
        }
    }
    let removed_keys: Vec<String> = removed.iter().filter_map(|l| key(l)).collect();
    // A filter is a key (`paths:`, not a list item `- tags`) where triggers are: GitLab's
    // `only`/`except`/`rules` anywhere, the others at the top (Travis's `branches:`) or under
    // an event or `filters:` (not CircleCI's `persist_to_workspace: paths:`).
    let in_triggers = |at: usize| {
        let mut own = indent_of(new_lines[at]);
        for l in new_lines[..at].iter().rev() {
            if l.trim().is_empty() || indent_of(l) >= own {
                continue;
            }
            own = indent_of(l);
            let parent = key(l).unwrap_or_default();
            if parent == "on" || parent == "filters" || CI_EVENTS.contains(&parent.as_str()) {
                return true;
            }
            if own == 0 {
                return false;
            }
        }
        true
    };
    if let Some(line) = added.iter().find(|l| {
        let keyed = bare(l).split_once(':').is_some();
        key(l).is_some_and(|k| {
            keyed
                && CI_FILTERS.contains(&k.as_str())
                && !removed_keys.contains(&k)
                && (matches!(k.as_str(), "only" | "except" | "rules")
                    || new_lines
                        .iter()
                        .position(|n| n == l)
                        .is_some_and(in_triggers))
        })
    }) {
        return Some(format!(
            "it adds a filter to when the CI runs: `{}`",
            line.trim()
        ));
    }
    let condition = added.iter().find(|l| {
        let Some(k) = key(l) else { return false };
        if k != "if" && k != "when" {
            return false;
        }
        let Some(at) = new_lines.iter().position(|n| n == l) else {
            return false;
        };
        // On a job or step that was there (its first line is not new: a new job that waits
        // to be started by hand narrows nothing) and that checks something.
        let block = block_around(&new_lines, at);
        !added.iter().any(|a| a == block[0])
            && block
                .iter()
                .any(|b| !ci_checks(b).is_empty() || b.trim_start().starts_with("steps:"))
    });
    condition.map(|line| {
        format!(
            "it adds a condition to a job or a step that runs a check: `{}`",
            line.trim()
        )
    })
}

fn indent_of(line: &str) -> usize {
    line.len() - line.trim_start().len()
}

/// The YAML block a line belongs to: from the nearest line above it indented less (a step's
/// `- name:`, a job's key) through the lines below that one indented deeper.
fn block_around<'l>(lines: &'l [&'l str], at: usize) -> &'l [&'l str] {
    let own = indent_of(lines[at]);
    let start = (0..at)
        .rev()
        .find(|&i| !lines[i].trim().is_empty() && indent_of(lines[i]) < own)
        .unwrap_or(0);
    // A list item's own indentation counts from its dash.
    let parent = indent_of(lines[start]);
    let end = (start + 1..lines.len())
        .find(|&i| !lines[i].trim().is_empty() && indent_of(lines[i]) <= parent)
        .unwrap_or(lines.len());
    &lines[start..end]
}

/// The versions and platforms a CI definition names outside comments and pinned actions, one
/// entry per mention: `3.12`, `1.16.15`, tox's `py311` (read as `3.11`) and `pypy310` (as
/// `pypy3.10`, like `pypy-3.10`), a bare number in a flow list, a list item or on a version's
/// line (`node: [18, 20]`, `- 16`, `node_js: 14`), and operating systems (`ubuntu-22.04`,
/// `windows-latest`, Travis's `osx`), and tox environments (`tox: 'devel,lowest'`,
/// `tox -e docs`).
/// Addresses (`10.0.0.255`) are no versions.
fn platforms(text: &str) -> Vec<String> {
    const SYSTEMS: [&str; 5] = ["ubuntu", "macos", "windows", "osx", "freebsd"];
    const VERSION_KEYS: [&str; 9] = [
        "version",
        "node",
        "python",
        "go:",
        "rust",
        "jdk",
        "ruby",
        "php",
        "toolchain",
    ];
    let dotted = |v: &str| {
        !v.is_empty()
            && v.starts_with(|c: char| c.is_ascii_digit())
            && v.chars()
                .all(|c| c.is_ascii_digit() || c == '.' || c == 'x')
            && v.matches('.').count() <= 2
    };
    let mut out = Vec::new();
    for line in text.lines() {
        let code = line.split_once(" #").map_or(line, |(code, _)| code).trim();
        if code.starts_with('#') || code.contains("uses:") {
            continue;
        }
        let lower_line = code.to_ascii_lowercase();
        let versions_here = code.contains(": [")
            || code.starts_with("- ")
            || VERSION_KEYS.iter().any(|k| lower_line.contains(k));
        let tokens = lower_line.split(|c: char| c.is_whitespace() || ROW_SEPARATORS.contains(&c));
        for t in tokens.filter(|t| !t.is_empty()) {
            // tox's names: `py311` is 3.11, `pypy310` and `pypy-3.10` are pypy3.10.
            let tox = |rest: &str| -> Option<String> {
                let rest = rest.trim_start_matches('-');
                if dotted(rest) && rest.contains('.') {
                    return Some(rest.to_string());
                }
                let digits = rest.chars().all(|c| c.is_ascii_digit()) && rest.len() >= 2;
                digits.then(|| format!("{}.{}", &rest[..1], &rest[1..]))
            };
            let entry = if let Some(rest) = t.strip_prefix("pypy") {
                Some(tox(rest).map_or_else(|| "pypy".to_string(), |v| format!("pypy{v}")))
            } else if let Some(v) = t.strip_prefix("py").and_then(tox) {
                Some(v)
            } else if dotted(t) && (t.contains('.') || versions_here) {
                Some(t.to_string())
            } else {
                SYSTEMS
                    .iter()
                    .any(|s| t.starts_with(s))
                    .then(|| t.to_string())
            };
            out.extend(entry);
        }
        // tox environments other than versions (`tox: 'devel,lowest'`, `TOXENV=py,docs`, and
        // `tox run -e typing` in a job of its own).
        let mut keys = vec!["tox:", "toxenv="];
        if lower_line.contains("tox") {
            keys.push("-e ");
        }
        for key in keys {
            let Some(at) = lower_line.find(key) else {
                continue;
            };
            let value = lower_line[at + key.len()..].trim_start();
            let value = match value.strip_prefix(['\'', '"']) {
                Some(quoted) => quoted.split(['\'', '"']).next().unwrap_or_default(),
                // Unquoted, it ends with its row (a closing brace, escaped) or a space.
                None => value.split([' ', '\u{7d}']).next().unwrap_or_default(),
            };
            out.extend(
                value
                    .split(',')
                    .map(str::trim)
                    .filter(|e| !e.is_empty() && !e.starts_with("py") && !e.contains(TEMPLATED))
                    .map(|e| format!("tox:{e}")),
            );
        }
    }
    out
}

/// Whether a removed CI line is still there, grown, among the added ones: re-indented, or a
/// setting that lists more than before (`node-version: [18, 20]` into `[18, 20, 22]`, a new
/// key on a step's line). Blank and comment lines say nothing. A line that runs a check is
/// only ever moved, never grown: `pytest tests` into `pytest tests -k 'not slow'` keeps its
/// words and deselects tests.
fn extended(removed: &str, added: &[String]) -> bool {
    let r = removed.trim();
    if r.is_empty() || r.starts_with('#') {
        return true;
    }
    let bare = |l: &str| l.trim().trim_start_matches("- ").trim_start().to_string();
    if !ci_checks(r).is_empty() {
        return added.iter().any(|a| bare(a) == bare(r));
    }
    let words = |l: &str| -> Vec<String> {
        l.split(|c: char| !(c.is_alphanumeric() || matches!(c, '.' | '-' | '_' | '/')))
            .filter(|w| !w.is_empty())
            .map(str::to_string)
            .collect()
    };
    let mine = words(r);
    // A line commented out is gone, whatever words its comment keeps.
    added
        .iter()
        .filter(|a| !a.trim().starts_with('#'))
        .any(|a| {
            let theirs = words(a);
            mine.iter().all(|w| theirs.contains(w))
        })
}

/// Whether a removed check still runs: the same check, or a make target split or renamed
/// by a suffix (`make test-ci` into `make test-ci-<< parameters.index >>`, `make lint` into
/// `make lint-ci`).
fn is_kept(check: &str, kept: &std::collections::HashSet<String>) -> bool {
    if kept.contains(check) {
        return true;
    }
    let Some(target) = check.strip_prefix("make ") else {
        return false;
    };
    let extends = |long: &str, short: &str| {
        long.strip_prefix(short)
            .is_some_and(|rest| rest.starts_with(['-', '_']))
    };
    kept.iter()
        .filter_map(|k| k.strip_prefix("make "))
        .any(|k| extends(k, target) || extends(target, k))
}

/// A CI line with its versions blanked: what is left when only a pin moves (the ref of
/// `uses: owner/action@ref`, a trailing `# v1.2.3`, any number).
fn pin_shape(line: &str) -> String {
    let line = line.trim_end();
    let line = match line.find("uses:") {
        Some(at) => match line[at..].find('@') {
            Some(ref_at) => &line[..at + ref_at],
            None => line,
        },
        None => line.split_once(" #").map_or(line, |(code, _)| code),
    };
    let mut out = String::with_capacity(line.len());
    for c in line.chars() {
        if c.is_ascii_digit() {
            if !out.ends_with('0') {
                out.push('0');
            }
        } else {
            out.push(c);
        }
    }
    out
}

/// The checks each CI definition the commit changes runs after it, by path.
pub fn ci_checks_after<'c>(
    changes: &'c [FileChange<'_>],
) -> Vec<(&'c str, std::collections::HashSet<String>)> {
    changes
        .iter()
        .filter(|c| is_ci(&c.path))
        .map(|c| {
            let checks = text(c.new).map(|t| ci_checks_of(&t)).unwrap_or_default();
            (c.path.as_str(), checks)
        })
        .collect()
}

/// The checks a CI definition runs.
pub fn ci_checks_of(text: &str) -> std::collections::HashSet<String> {
    text.lines().flat_map(ci_checks).collect()
}

/// A change to a CI definition, by what it does to the checks CI runs.
pub(super) fn ci_definition(
    c: &FileChange<'_>,
    settings: &GuardSettings,
    at: CommitRef<'_>,
    ci_elsewhere: &std::collections::HashSet<String>,
) -> Finding {
    let sev = settings.severity(Rule::SupervisionTampering);
    let (removed, added) = changed_lines(text(c.old).as_deref(), text(c.new).as_deref());
    let deleted = c.kind == FileStatus::Deleted;
    let runs_checks = [text(c.old), text(c.new)]
        .into_iter()
        .flatten()
        .any(|t| t.lines().any(|l| !ci_checks(l).is_empty()));
    let (severity, detail, remediation) = match ci_change(
        (text(c.old).as_deref(), text(c.new).as_deref()),
        &removed,
        &added,
        runs_checks,
        ci_elsewhere,
    ) {
        CiChange::Weakens(how) => (
            sev.min(Severity::High),
            format!("the commit weakens the CI definition `{}`: {how}", c.path),
            Rule::SupervisionTampering.remediation(),
        ),
        // A new definition that softens nothing supervises more, not less.
        CiChange::Edits(_) if c.kind == FileStatus::Added => (
            Severity::Low,
            format!("the commit adds the CI definition `{}`", c.path),
            "Nothing to undo: a new CI definition adds checks. Look at what it runs if you rely on it.",
        ),
        CiChange::Adds => (
            Severity::Low,
            format!("the commit adds to the CI definition `{}`", c.path),
            "Nothing to undo: lines were added and none removed, and none narrows when the CI runs.",
        ),
        // A definition that runs no check (a labeler, a stale-issue bot, a release or docs
        // job) supervises nothing the agent could weaken.
        CiChange::Edits(_) | CiChange::Moved if !runs_checks => (
            Severity::Low,
            format!(
                "the commit {} the CI definition `{}`, which runs no check",
                if deleted { "deletes" } else { "changes" },
                c.path
            ),
            "Nothing to undo if the change is intended: the definition runs no test or linter.",
        ),
        CiChange::Moved => (
            Severity::Low,
            format!(
                "the commit deletes the CI definition `{}`; every check it ran still runs in the commit's other CI definitions",
                c.path
            ),
            "Nothing to undo if the move is intended: no check was lost.",
        ),
        CiChange::Edits(Some(how)) => (
            Severity::Medium.min(sev),
            format!("the commit changes the CI definition `{}`: {how}", c.path),
            "Check that the CI still runs every check it ran before, on every platform it ran on; if the change drops or softens one, restore it.",
        ),
        CiChange::Edits(None) => (
            Severity::Low,
            format!(
                "the commit changes the CI definition `{}`; every check, trigger, version and platform it named is still there",
                c.path
            ),
            "Nothing to undo if the change is intended: it changes how the CI installs, caches, names or bumps, not what it checks.",
        ),
        CiChange::Pins => (
            Severity::Low,
            format!(
                "the commit changes only pinned versions in the CI definition `{}`",
                c.path
            ),
            "Nothing to undo if the new versions are intended (a dependency bump); check that they come from the same publisher.",
        ),
    };
    let mut f = file_tampering(c, at, severity, detail, diff_snippet(&removed, &added));
    f.remediation = remediation.into();
    f
}

/// The targets a CI definition runs `make` with (`None`: the default target).
pub fn make_targets_of(text: &str) -> Vec<Option<String>> {
    let mut out = Vec::new();
    for l in text.lines().filter(|l| !l.trim_start().starts_with('#')) {
        let words: Vec<&str> = l
            .split(|c: char| c.is_whitespace() || CI_SEPARATORS.contains(&c))
            .filter(|w| !w.is_empty())
            .collect();
        for (i, w) in words.iter().enumerate() {
            if *w != "make" && *w != "gmake" {
                continue;
            }
            // Options (and `-C dir`, another Makefile) are skipped; variables set too.
            let targets: Vec<String> = words[i + 1..]
                .iter()
                .take_while(|t| !t.starts_with("-C"))
                .filter(|t| !t.starts_with('-') && !t.contains('='))
                .map(|t| t.to_string())
                .collect();
            if targets.is_empty() {
                out.push(None);
            } else {
                out.extend(targets.into_iter().map(Some));
            }
        }
    }
    out
}
