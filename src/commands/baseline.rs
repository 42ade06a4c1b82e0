//! `auditor baseline`: adoption on a repository with history. Scans it (the whole history by
//! default) and writes the fingerprints of every secret found to the baseline file; audits
//! and scans then report only secrets it does not hold.
//!
//! The file holds hashes, rule IDs, paths and lines, never a value. Widening it later is a
//! weakening of the supervision like any other: the next audit raises SUPERVISION_TAMPERING
//! until the operator acknowledges it from a terminal.

use std::sync::Arc;

use super::common::{open_repo, say, user_path};
use super::scan::{Scope, collect};
use crate::cli::BaselineArgs;
use crate::error::{Error, ExitCode};
use crate::secrets::Baseline;
use crate::store::write_atomic;

/// Runs the baseline command.
pub fn run(args: BaselineArgs) -> Result<ExitCode, Error> {
    let repo = open_repo(args.repo.repo.as_deref())?;
    let mut settings = crate::config::load(&repo.root, args.repo.config.as_deref(), Vec::new)?;
    // Everything there is today, including what an older baseline or a .gitleaksignore holds.
    settings.secrets.baseline = Arc::default();
    settings.secrets.ignore = Arc::default();
    settings.guards.enabled = false;
    let scope = if args.tree {
        Scope::Tree
    } else {
        Scope::History
    };
    let (mode, commits, found) = collect(&repo, &settings, &scope)?;
    let text = Baseline::render(&found.secrets);
    let entries = Baseline::parse(&text).map_or(0, |b| b.len());
    let path = match &args.output {
        Some(p) => user_path(p),
        None => repo.root.join(&settings.secrets.baseline_path),
    };
    write_atomic(&path, text.as_bytes())?;
    say(&format!(
        "auditor baseline: {entries} secret{} ({} finding{}) in the {mode} of {commits} commit{} written to {}\n\
         Audits and scans now report only secrets it does not hold.\n",
        if entries == 1 { "" } else { "s" },
        found.secrets.len(),
        if found.secrets.len() == 1 { "" } else { "s" },
        if commits == 1 { "" } else { "s" },
        path.display()
    ))?;
    Ok(ExitCode::Clean)
}
