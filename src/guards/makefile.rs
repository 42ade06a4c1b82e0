//! What CI runs through `make`: the checks of the Makefile targets a CI definition invokes,
//! their prerequisites included. A check moved from a CI step into `make test` is kept; a
//! step `make test-image` whose recipe checks nothing removes no check.

use std::collections::{HashMap, HashSet};

use super::ci::{ci_checks_of, make_targets_of};

/// A Makefile's rules: each target's prerequisites and recipe lines.
#[derive(Debug, Default)]
pub struct Makefile {
    rules: HashMap<String, (Vec<String>, Vec<String>)>,
    first: Option<String>,
}

impl Makefile {
    /// Reads the rules of a Makefile (variables, conditionals and includes are not followed).
    pub fn parse(text: &str) -> Makefile {
        let mut out = Makefile::default();
        let mut current: Vec<String> = Vec::new();
        for line in text.lines() {
            if let Some(recipe) = line.strip_prefix('\t') {
                for t in &current {
                    if let Some(rule) = out.rules.get_mut(t) {
                        rule.1.push(recipe.to_string());
                    }
                }
                continue;
            }
            let line = line.split('#').next().unwrap_or_default();
            current.clear();
            // `target another: prerequisites`, not a variable (`X := y`, `X ?= y`).
            let Some((targets, prerequisites)) = line.split_once(':') else {
                continue;
            };
            if prerequisites.starts_with('=') || targets.contains('=') || targets.trim().is_empty()
            {
                continue;
            }
            let prerequisites: Vec<String> = prerequisites
                .split_whitespace()
                .map(str::to_string)
                .collect();
            for t in targets.split_whitespace() {
                if t.starts_with('.') {
                    continue;
                }
                out.first.get_or_insert_with(|| t.to_string());
                let rule = out.rules.entry(t.to_string()).or_default();
                rule.0.extend(prerequisites.iter().cloned());
                current.push(t.to_string());
            }
        }
        out
    }

    /// The checks `make target` runs (`None`: the default target), prerequisites included.
    pub fn runs(&self, target: Option<&str>) -> HashSet<String> {
        let mut seen = HashSet::new();
        let mut out = HashSet::new();
        let mut todo: Vec<String> = target
            .or(self.first.as_deref())
            .into_iter()
            .map(str::to_string)
            .collect();
        while let Some(t) = todo.pop() {
            if !seen.insert(t.clone()) {
                continue;
            }
            if let Some((prerequisites, recipe)) = self.rules.get(&t) {
                out.extend(ci_checks_of(&recipe.join("\n")));
                todo.extend(prerequisites.iter().cloned());
            }
        }
        out
    }

    /// Its targets.
    pub fn targets(&self) -> impl Iterator<Item = &str> {
        self.rules.keys().map(String::as_str)
    }

    /// Whether what `target` runs cannot be read here: its recipe, or a prerequisite's,
    /// hands over to another make (`$(MAKE) -C t/`) or a script.
    pub fn opaque(&self, target: &str) -> bool {
        let mut seen = HashSet::new();
        let mut todo = vec![target.to_string()];
        while let Some(t) = todo.pop() {
            if !seen.insert(t.clone()) {
                continue;
            }
            let Some((prerequisites, recipe)) = self.rules.get(&t) else {
                continue;
            };
            let hands_over = |line: &String| {
                let l = line.trim_start_matches(['@', '-', ' ', '\t']);
                l.contains("$(MAKE)")
                    || l.contains("${MAKE}")
                    || l.starts_with("make ")
                    || l.starts_with("./")
                    || l.starts_with("sh ")
                    || l.starts_with("bash ")
            };
            if recipe.iter().any(hands_over) {
                return true;
            }
            todo.extend(prerequisites.iter().cloned());
        }
        false
    }
}

/// Whether a target's name says it checks (`test`, `lint-ci`, `check`).
fn named_as_check(target: &str) -> bool {
    target.split(['-', '_', ':']).any(|part| {
        matches!(
            part,
            "test" | "tests" | "lint" | "check" | "coverage" | "prove"
        )
    })
}

/// What the CI definitions `texts` (the commit's, all of them) run through `make`, and the
/// `make TARGET` steps whose checks all still run: a removed step of those is no lost check.
pub fn kept_through_make(texts: &[&str], makefile: &Makefile) -> HashSet<String> {
    let direct: HashSet<String> = texts
        .iter()
        .flat_map(|t| ci_checks_of(t))
        .filter(|c| !c.starts_with("make "))
        .collect();
    let mut through_make = HashSet::new();
    for text in texts {
        for target in make_targets_of(text) {
            through_make.extend(makefile.runs(target.as_deref()));
        }
    }
    let all: HashSet<String> = direct.union(&through_make).cloned().collect();
    let mut kept = through_make;
    for target in makefile.targets() {
        // A check handed over to a place not read here is not known to be run elsewhere.
        if makefile.opaque(target) && named_as_check(target) {
            continue;
        }
        if makefile.runs(Some(target)).is_subset(&all) {
            kept.insert(format!("make {target}"));
        }
    }
    kept
}

#[cfg(test)]
mod tests {
    use super::*;

    // The shape of spf13/cobra's Makefile (39cf99f) and vault-helm's (7002cc6).
    const MAKEFILE: &str = "BIN=\"./bin\"\n.PHONY: fmt vet test\n\nall: fmt vet test\n\nfmt:\n\t@test -z $(shell gofmt -l .) || exit 1\n\ntest: install_deps vet\n\trichgo test -v ./...\n\ninstall_deps:\n\tgo get -v ./...\n\nvet:\n\tgo vet ./...\n\ntest-image:\n\t@docker build --rm -t vault-helm-test -f test/docker/Test.dockerfile .\n\ntest-unit:\n\tdocker run -it -v ${PWD}:/helm-test vault-helm-test bats /helm-test/test/unit\n";

    #[test]
    fn a_target_runs_its_recipe_and_its_prerequisites() {
        let m = Makefile::parse(MAKEFILE);
        assert!(m.runs(Some("test")).contains("vet"));
        assert!(m.runs(Some("test-image")).is_empty());
        assert!(m.runs(Some("test-unit")).contains("bats"));
        assert!(
            m.runs(None).contains("vet"),
            "the first target is the default"
        );
    }

    #[test]
    fn checks_ci_still_runs_keep_the_make_steps_that_ran_them() {
        let m = Makefile::parse(MAKEFILE);
        // vet moved from a CI line into `make test`.
        let kept = kept_through_make(&["script:\n - make test\n"], &m);
        assert!(kept.contains("vet"));
        // bats now run directly: `make test-unit` and `make test-image` lose nothing.
        let kept = kept_through_make(&["steps:\n  - run: bats ./test/unit -t\n"], &m);
        assert!(
            kept.contains("make test-unit") && kept.contains("make test-image"),
            "{kept:?} {:?} {:?}",
            m.runs(Some("test-unit")),
            m.runs(Some("test-image"))
        );
        // `make test` hands over to another make: not known to be kept.
        let m = Makefile::parse("test:\n\t$(MAKE) -C t/ all\n");
        assert!(!kept_through_make(&["script: tox\n"], &m).contains("make test"));
        let m = Makefile::parse(MAKEFILE);
        // Nothing runs vet any more: `make vet` is lost.
        assert!(
            !kept.contains("make vet"),
            "{kept:?} {:?}",
            m.runs(Some("vet"))
        );
    }
}
