//! The commented `auditor.toml` that `init` writes.

use super::super::raw::StageValue;
use super::propose::DetectedCheck;
use super::setup::DetectedSetup;
use crate::parsers::Format;

/// A text from the repository (a script, a path) on one comment line: a newline in it would
/// end the comment and write TOML of the repository's choosing into the config.
pub fn one_line(text: &str) -> String {
    text.chars()
        .map(|c| if c.is_control() { ' ' } else { c })
        .collect()
}

fn quote(s: &str) -> String {
    let mut out = String::with_capacity(s.len() + 2);
    out.push('"');
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\t' => out.push_str("\\t"),
            c if c.is_control() => out.push_str(&format!("\\u{:04X}", c as u32)),
            c => out.push(c),
        }
    }
    out.push('"');
    out
}

fn list(items: &[String]) -> String {
    let inner: Vec<String> = items.iter().map(|s| quote(s)).collect();
    format!("[{}]", inner.join(", "))
}

fn format_name(f: Format) -> &'static str {
    match f {
        Format::Shellcheck => "shellcheck",
        Format::Cargo => "cargo",
        Format::Ruff => "ruff",
        Format::Eslint => "eslint",
        Format::Sarif => "sarif",
        Format::Junit => "junit",
        Format::Lines => "lines",
        Format::GoTest => "go-test",
        Format::Rspec => "rspec",
        Format::Jest => "jest",
        Format::Pyright => "pyright",
        Format::ExitCode => "exit-code",
    }
}

/// Renders the commented `auditor.toml` that `init` writes.
pub fn render_init_toml(detected: &[DetectedCheck], setup: Option<&DetectedSetup>) -> String {
    let mut s = String::new();
    s.push_str(
        "# auditor configuration, written by `auditor init`.\n\
         # Every key is optional; see examples/auditor.toml in the auditor's repository for all of them.\n\
         # Layers, lowest first: embedded defaults < this file < --config FILE < command-line flags.\n\n\
         [policy]\n\
         # The severity at or above which an audit fails (exit code 1).\n\
         fail_on = \"HIGH\"\n\
         # A CRITICAL static finding (a leaked key, a build break) skips the test stage.\n\
         skip_tests_on_critical = true\n\n\
         [runner]\n\
         # Checks run niced, each in its own process group, killed with the group on timeout.\n\
         nice = 10\n\
         timeout = \"5m\"\n\
         grace = \"2s\"\n\
         output_cap = \"4MiB\"\n\n\
         [secrets]\n\
         # Paths (globs) and regexes whose matches are never reported.\n\
         allow_paths = []\n\
         allow_regexes = []\n\
         # Rule files in gitleaks' format, beside the 156 built-in rules.\n\
         # rules = [\"team-rules.toml\"]\n\
         # Secrets accepted on adoption (`auditor baseline` writes it).\n\
         # baseline = \"auditor-baseline.json\"\n\n\
         [workspace]\n\
         # \"snapshot\": checks run in an isolated checkout of the audited commit under state/supervisor/.\n\
         mode = \"snapshot\"\n\
         # A setup command runs in the workspace before the checks: on the first audit, when a\n\
         # setup_when_changed file changed, when the setup changed here, and until it succeeds.\n",
    );
    match setup {
        Some(setup) => {
            s.push_str(&format!("# Detected: {}.\n", one_line(&setup.reason)));
            s.push_str(&format!("setup = {}\n", list(&setup.command)));
            s.push_str(&format!(
                "setup_when_changed = {}\n",
                list(&setup.when_changed)
            ));
        }
        None => s.push_str(
            "# setup = [\"npm\", \"ci\"]\n# setup_when_changed = [\"package-lock.json\"]\n",
        ),
    }
    if detected.is_empty() {
        s.push_str(
            "\n# No linter or test command was detected. Add one per [[check]] table, e.g.:\n\
             # [[check]]\n# name = \"tests\"\n# stage = \"test\"\n# command = [\"make\", \"test\"]\n",
        );
    }
    for d in detected {
        let c = &d.check;
        s.push_str(&format!("\n# Detected: {}.\n", one_line(&d.reason)));
        if !d.missing.is_empty() {
            s.push_str(&format!(
                "# Not installed here: {}. Until it is, this check reports CHECK_UNAVAILABLE.\n",
                one_line(&d.missing.join(", "))
            ));
        }
        s.push_str("[[check]]\n");
        s.push_str(&format!("name = {}\n", quote(&c.name)));
        let stage = match c.stage {
            Some(StageValue::Test) => "test",
            _ => "audit",
        };
        s.push_str(&format!("stage = {}\n", quote(stage)));
        s.push_str(&format!("command = {}\n", list(&c.command)));
        if let Some(files) = &c.files {
            s.push_str(&format!("files = {}\n", list(files)));
        }
        if let Some(sh) = &c.shebang {
            s.push_str(&format!("shebang = {}\n", list(sh)));
        }
        if let Some(f) = c.format {
            s.push_str(&format!("format = {}\n", quote(format_name(f))));
        }
        if let Some(j) = &c.junit {
            s.push_str(&format!("junit = {}\n", quote(j)));
        }
        if let Some(t) = c.timeout {
            s.push_str(&format!("timeout = \"{}s\"\n", t.0.as_secs()));
        }
        if let Some(map) = &c.severity {
            let parts: Vec<String> = map
                .iter()
                .map(|(k, v)| format!("{k} = {}", quote(v.0.as_str())))
                .collect();
            s.push_str(&format!("severity = {{ {} }}\n", parts.join(", ")));
        }
    }
    s
}
