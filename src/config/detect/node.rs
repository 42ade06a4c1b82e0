//! A Node project: the linter its manifest or its `lint` script uses (xo, eslint, standard,
//! biome, or the script itself), tsc when it is a TypeScript project, and its test script
//! (vitest asked for JUnit XML; any other runner through `npm test`).

use super::super::raw::{SeverityValue, StageValue};
use super::propose::{DetectedCheck, check, strings};
use super::tree::Tree;
use crate::finding::Severity;
use crate::parsers::Format;

const JS_FILES: [&str; 8] = [
    "*.js", "*.jsx", "*.mjs", "*.cjs", "*.ts", "*.tsx", "*.mts", "*.cts",
];

/// What package.json says: its dependencies and scripts.
struct Manifest(serde_json::Value);

impl Manifest {
    fn depends_on(&self, package: &str) -> bool {
        ["dependencies", "devDependencies", "peerDependencies"]
            .iter()
            .any(|k| self.0.get(k).and_then(|d| d.get(package)).is_some())
    }

    fn script(&self, name: &str) -> Option<&str> {
        self.0.get("scripts")?.get(name)?.as_str()
    }

    /// Whether a script runs `program` as one of its commands (`xo && ava`, `npx vitest run`).
    fn script_runs(&self, name: &str, program: &str) -> bool {
        self.script(name).is_some_and(|s| runs(s, program))
    }
}

/// Whether a shell command line runs `program`: a word that starts a command (after `&&`,
/// `||`, `;`, `|`, `npx`, or an environment assignment) and names it.
fn runs(script: &str, program: &str) -> bool {
    let mut starts_command = true;
    for word in script.split_whitespace() {
        let ends_command = word.ends_with(';');
        let word = word.trim_matches(|c| c == '(' || c == ')' || c == ';');
        if matches!(word, "&&" | "||" | "|") || ends_command && word.is_empty() {
            starts_command = true;
            continue;
        }
        if starts_command && word == program {
            return true;
        }
        // `npx x`, `cross-env A=1 x` and `A=1 x` keep the next word a command's start.
        starts_command = ends_command
            || starts_command
                && (matches!(word, "npx" | "cross-env" | "pnpm" | "yarn" | "exec")
                    || word.contains('='));
    }
    false
}

/// The linters and the test command, for a tree with a root package.json.
pub fn detect(tree: &Tree) -> Option<(Vec<DetectedCheck>, Option<DetectedCheck>)> {
    if !tree.has("package.json") {
        return None;
    }
    let manifest = Manifest(tree.json("package.json"));
    let mut lint: Vec<DetectedCheck> = linter(&manifest).into_iter().collect();
    if tree.has("tsconfig.json") && manifest.depends_on("typescript") {
        lint.push(tsc());
    }
    Some((lint, tests(&manifest)))
}

fn npx(name: &str, tool: &[&str], format: Format) -> crate::config::RawCheck {
    let mut command = vec!["npx", "--no-install"];
    command.extend_from_slice(tool);
    let mut c = check(name, StageValue::Audit, &command, format);
    c.files = strings(&JS_FILES);
    c
}

fn linter(manifest: &Manifest) -> Option<DetectedCheck> {
    let uses = |package: &str| {
        manifest.depends_on(package)
            || manifest.script_runs("lint", package)
            || manifest.script_runs("test", package)
    };
    if uses("xo") {
        // xo's JSON reporter is eslint's.
        return Some(DetectedCheck::new(
            "package.json: the project lints with xo",
            npx("xo", &["xo", "--reporter=json", "{files}"], Format::Eslint),
        ));
    }
    if uses("eslint") {
        return Some(DetectedCheck::new(
            "package.json: the project lints with eslint",
            npx(
                "eslint",
                &["eslint", "--format", "json", "{files}"],
                Format::Eslint,
            ),
        ));
    }
    if uses("standard") {
        return Some(DetectedCheck::new(
            "package.json: the project lints with standard",
            npx("standard", &["standard", "{files}"], Format::Lines),
        ));
    }
    if manifest.depends_on("@biomejs/biome") || uses("biome") {
        return Some(DetectedCheck::new(
            "package.json: the project lints with biome (its exit code: biome has no stable machine format)",
            npx("biome", &["biome", "lint", "{files}"], Format::ExitCode),
        ));
    }
    let script = manifest.script("lint")?;
    Some(DetectedCheck::new(
        format!(
            "package.json's lint script (`{}`), by its exit code",
            shown(script)
        ),
        check(
            "npm-lint",
            StageValue::Audit,
            &["npm", "run", "lint", "--silent"],
            Format::ExitCode,
        ),
    ))
}

/// tsc type-checks the whole project (it takes no file list without losing tsconfig.json).
fn tsc() -> DetectedCheck {
    let mut c = check(
        "tsc",
        StageValue::Audit,
        &[
            "npx",
            "--no-install",
            "tsc",
            "--noEmit",
            "--pretty",
            "false",
        ],
        Format::Lines,
    );
    c.files = strings(&["*.ts", "*.tsx", "*.mts", "*.cts", "tsconfig.json"]);
    // A type error breaks a TypeScript project's build.
    c.severity = Some(
        [("error", SeverityValue(Severity::High))]
            .into_iter()
            .map(|(k, v)| (k.to_string(), v))
            .collect(),
    );
    DetectedCheck::new(
        "tsconfig.json and the typescript package: a TypeScript project",
        c,
    )
}

/// A script as a reason quotes it: its first 80 characters, on one line.
fn shown(script: &str) -> String {
    let one_line: String = script
        .chars()
        .map(|c| if c.is_control() { ' ' } else { c })
        .take(80)
        .collect();
    if script.chars().count() > 80 {
        format!("{one_line}...")
    } else {
        one_line
    }
}

fn tests(manifest: &Manifest) -> Option<DetectedCheck> {
    let script = manifest.script("test")?;
    // `npm init`'s placeholder fails on purpose: there are no tests.
    if script.contains("no test specified") {
        return None;
    }
    if manifest.script_runs("test", "vitest") {
        let mut t = check(
            "vitest",
            StageValue::Test,
            &[
                "npx",
                "--no-install",
                "vitest",
                "run",
                "--reporter=junit",
                "--outputFile=.auditor-junit.xml",
            ],
            Format::Junit,
        );
        t.junit = Some(".auditor-junit.xml".into());
        return Some(DetectedCheck::new(
            "package.json's test script runs vitest: asked for JUnit XML",
            t,
        ));
    }
    // A script that is one mocha or jest command takes more arguments: mocha's own xunit
    // reporter writes JUnit XML, jest's `--json` a report on stdout (the rest goes to
    // stderr), so that failures have their places.
    let one_command = !["&&", "||", ";", "|"].iter().any(|op| script.contains(op));
    let runner = script.split_whitespace().next().filter(|_| one_command);
    if runner == Some("jest") {
        return Some(DetectedCheck::new(
            format!(
                "package.json's test script (`{}`) runs jest: asked for its JSON report",
                shown(script)
            ),
            check(
                "jest",
                StageValue::Test,
                &[
                    "npm",
                    "test",
                    "--silent",
                    "--",
                    "--json",
                    "--testLocationInResults",
                ],
                Format::Jest,
            ),
        ));
    }
    if runner == Some("mocha") {
        let mut t = check(
            "mocha",
            StageValue::Test,
            &[
                "npm",
                "test",
                "--silent",
                "--",
                "--reporter",
                "xunit",
                "--reporter-option",
                "output=.auditor-junit.xml",
            ],
            Format::Junit,
        );
        t.junit = Some(".auditor-junit.xml".into());
        return Some(DetectedCheck::new(
            format!(
                "package.json's test script (`{}`) runs mocha: asked for its xunit report",
                shown(script)
            ),
            t,
        ));
    }
    Some(DetectedCheck::new(
        format!("package.json's test script (`{}`)", shown(script)),
        check(
            "npm-test",
            StageValue::Test,
            &["npm", "test", "--silent"],
            Format::ExitCode,
        ),
    ))
}

#[cfg(test)]
mod tests {
    use super::runs;

    #[test]
    fn a_script_runs_a_program_where_a_command_starts() {
        assert!(runs("xo && ava", "xo"));
        assert!(runs("xo && ava", "ava"));
        assert!(runs("npx vitest run", "vitest"));
        assert!(runs("NODE_ENV=test vitest", "vitest"));
        assert!(runs("tsc; standard", "standard"));
        assert!(!runs("echo xo", "xo"));
        assert!(!runs("node scripts/xo.js", "xo"));
        assert!(!runs("mocha --require standard", "standard"));
    }
}
