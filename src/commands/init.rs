//! `auditor init`: a commented auditor.toml from what the repository contains.

use super::common::open_repo;
use crate::cli::InitArgs;
use crate::config::{CONFIG_FILE_NAME, detect_checks, detect_setup, render_init_toml};
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
    let mut detected = detect_checks(&paths, &head);
    let setup = detect_setup(&paths, &mut detected);
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
    let names: Vec<&str> = detected.iter().map(|d| d.check.name.as_str()).collect();
    super::common::print(&format!(
        "wrote {} with {} check{}{}\n(kept out of git status through .git/info/exclude: a committed change to it is reported as SUPERVISION_TAMPERING; `git add -f {}` shares it deliberately)\n",
        path.display(),
        names.len(),
        if names.len() == 1 { "" } else { "s" },
        if names.is_empty() {
            String::new()
        } else {
            format!(": {}", names.join(", "))
        },
        crate::config::CONFIG_FILE_NAME
    ))?;
    Ok(ExitCode::Clean)
}
