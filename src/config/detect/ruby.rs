//! A Ruby project: rubocop when it is configured or in the Gemfile (emacs format: a line per
//! offence, with its cop), rspec when there are specs (its JSON formatter).

use super::super::raw::StageValue;
use super::propose::{DetectedCheck, check, seconds, strings};
use super::tree::Tree;
use crate::parsers::Format;

/// The linter and the test command, for a tree with a Gemfile, a gemspec or a rubocop config.
pub fn detect(tree: &Tree) -> Option<(Vec<DetectedCheck>, Option<DetectedCheck>)> {
    let gemspec = tree.any(|p| !p.contains('/') && p.ends_with(".gemspec"));
    let rubocop_config = tree.has(".rubocop.yml");
    if !tree.has("Gemfile") && !gemspec && !rubocop_config {
        return None;
    }
    let gemfile = tree.text("Gemfile");
    let mut lint = Vec::new();
    let rubocop_reason = if rubocop_config {
        Some(".rubocop.yml: the project lints with rubocop")
    } else if gemfile.contains("rubocop") {
        Some("the Gemfile lists rubocop")
    } else {
        None
    };
    if let Some(reason) = rubocop_reason {
        let mut c = check(
            "rubocop",
            StageValue::Audit,
            // --force-exclusion: the files the project excludes stay excluded when named.
            &[
                "rubocop",
                "--format",
                "emacs",
                "--force-exclusion",
                "{files}",
            ],
            Format::Lines,
        );
        c.files = strings(&["*.rb", "*.rake", "*.gemspec", "Gemfile", "Rakefile"]);
        lint.push(DetectedCheck::new(reason, c));
    }
    let specs =
        tree.has(".rspec") || tree.any(|p| p.starts_with("spec/") && p.ends_with("_spec.rb"));
    let test = specs.then(|| {
        let mut t = check(
            "rspec",
            StageValue::Test,
            &["rspec", "--format", "json"],
            Format::Rspec,
        );
        t.timeout = Some(seconds(1800));
        DetectedCheck::new("spec/*_spec.rb: rspec with its JSON formatter", t)
    });
    Some((lint, test))
}
