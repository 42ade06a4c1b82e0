//! What several subcommands share: opening the repo, loading settings, printing safely.

use std::path::{Path, PathBuf};

use git2::Oid;

use crate::cli::RepoArgs;
use crate::config::{self, RawCheck, Settings, check_installed, detect_checks};
use crate::error::Error;
use crate::git::Repo;
use crate::store::Layout;

/// Opens the repository named by `--repo`, or the one around the current directory.
pub fn open_repo(repo: Option<&Path>) -> Result<Repo, Error> {
    let path = match repo {
        Some(p) => p.to_path_buf(),
        None => std::env::current_dir()
            .map_err(|e| Error::Internal(format!("read the current directory: {e}")))?,
    };
    Ok(Repo::open(&path)?)
}

/// The checks the embedded defaults use: what `init` would detect at `commit`, if installed.
pub fn detected_installed(repo: &Repo, commit: Option<Oid>) -> Vec<RawCheck> {
    let Some(commit) = commit else {
        return Vec::new();
    };
    let paths = repo
        .tree_paths_where(commit, config::matters_for_detection)
        .unwrap_or_default();
    let head = |p: &str| repo.file_head(commit, p, 64 * 1024);
    detect_checks(&paths, &head)
        .into_iter()
        .map(|d| d.check)
        .filter(check_installed)
        .collect()
}

/// Loads the layered settings; detection runs against `commit` only if no file has checks.
pub fn load_settings(repo: &Repo, args: &RepoArgs, commit: Option<Oid>) -> Result<Settings, Error> {
    Ok(config::load(&repo.root, args.config.as_deref(), || {
        detected_installed(repo, commit)
    })?)
}

/// The auditor's folders for this repository.
pub fn layout(repo: &Repo, settings: &Settings) -> Layout {
    settings.layout(&repo.root)
}

/// Prints to stdout (see `sink::print`).
pub fn print(text: &str) -> Result<(), Error> {
    crate::sink::print(text).map_err(|e| Error::Internal(format!("write to stdout: {e}")))
}

/// Resolves a user path against the current directory (for `--sarif FILE`).
pub fn user_path(p: &Path) -> PathBuf {
    if p.is_absolute() {
        p.to_path_buf()
    } else {
        std::env::current_dir()
            .map(|d| d.join(p))
            .unwrap_or_else(|_| p.to_path_buf())
    }
}

/// A single-threaded runtime for the async parts (the runner).
pub fn runtime() -> Result<tokio::runtime::Runtime, Error> {
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .map_err(|e| Error::Internal(format!("start the async runtime: {e}")))
}

/// The settings and layout for commands that must work even when the config is broken
/// (`status`, `stop`, `reset`): a broken config is reported and the embedded defaults used.
pub fn settings_or_defaults(repo: &Repo) -> (Settings, Layout) {
    let settings = match config::load(&repo.root, None, Vec::new) {
        Ok(s) => s,
        Err(e) => {
            crate::sink::warn(&format!(
                "{e}\nauditor: warning: using the embedded defaults"
            ));
            config::embedded_defaults()
        }
    };
    let layout = layout(repo, &settings);
    (settings, layout)
}
