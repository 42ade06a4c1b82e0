//! `auditor init`: a commented auditor.toml from what the repository contains.

use super::common::open_repo;
use crate::cli::InitArgs;
use crate::config::{
    CONFIG_FILE_NAME, DetectedCheck, DetectedSetup, Tree, detect_checks, detect_setup, one_line,
    render_init_toml,
};
use crate::error::{Error, ExitCode};
use crate::git::ensure_excluded;
use crate::store::{Layout, write_atomic};

/// Writes the config and the excludes.
pub fn run(args: InitArgs) -> Result<ExitCode, Error> {
    let repo = open_repo(args.repo.as_deref())?;
    let path = repo.root.join(CONFIG_FILE_NAME);
    if path.exists() && !args.force {
        return Err(Error::Usage(format!(
            "{} already exists; pass --force to overwrite it",
            path.display()
        )));
    }
    // Detect from the working tree: init often runs before the first commit.
    let paths = crate::git::worktree_paths(&repo);
    let head = |p: &str| {
        use std::io::Read;
        let mut buf = Vec::new();
        std::fs::File::open(repo.root.join(p))
            .and_then(|f| f.take(64 * 1024).read_to_end(&mut buf))
            .ok()
            .map(|_| buf)
    };
    let installed = |p: &str| crate::config::program_available(p);
    let tree = Tree::new(&paths, &head, &installed);
    let mut detected = detect_checks(&tree);
    let setup = detect_setup(&tree, &mut detected);
    write_atomic(
        &path,
        render_init_toml(&detected, setup.as_ref()).as_bytes(),
    )?;
    let defaults = Layout::new(
        &repo.root,
        "logs/audit",
        "tasks/supervisor_feedback",
        "state/supervisor",
    );
    // The config is the operator's: an agent committing a change to it is SUPERVISION_TAMPERING,
    // so by default it stays out of `git add -A` (`git add -f` shares it on purpose).
    let mut patterns = defaults.exclude_patterns();
    patterns.push(format!("/{}", crate::config::CONFIG_FILE_NAME));
    ensure_excluded(&repo, &patterns)?;
    super::common::say(&summary(&path, &detected, setup.as_ref()))?;
    Ok(ExitCode::Clean)
}

/// What `init` found and why, and what it could not run because a program is missing.
fn summary(
    path: &std::path::Path,
    detected: &[DetectedCheck],
    setup: Option<&DetectedSetup>,
) -> String {
    let mut out = format!(
        "wrote {} with {} check{}\n",
        path.display(),
        detected.len(),
        if detected.len() == 1 { "" } else { "s" }
    );
    if detected.is_empty() {
        out.push_str("  no linter or test command detected: add [[check]] tables by hand\n");
    }
    for d in detected {
        out.push_str(&format!("  {:<14} {}\n", d.check.name, one_line(&d.reason)));
    }
    if let Some(setup) = setup {
        out.push_str(&format!("  {:<14} {}\n", "setup", one_line(&setup.reason)));
    }
    for d in detected.iter().filter(|d| !d.missing.is_empty()) {
        out.push_str(&format!(
            "missing: {} not installed: `{}` reports CHECK_UNAVAILABLE until it is\n",
            one_line(&d.missing.join(", ")),
            d.check.name
        ));
    }
    out.push_str(&format!(
        "(kept out of git status through .git/info/exclude: a committed change to it is reported as SUPERVISION_TAMPERING; `git add -f {}` shares it deliberately)\n",
        CONFIG_FILE_NAME
    ));
    out
}
