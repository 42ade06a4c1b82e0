//! What several subcommands share: opening the repo, loading settings, printing safely.

use std::path::{Path, PathBuf};

use git2::Oid;

use crate::cli::RepoArgs;
use crate::config::{self, RawCheck, Settings, detect_checks};
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
    let installed = |p: &str| config::program_available(p);
    detect_checks(&config::Tree::new(&paths, &head, &installed))
        .into_iter()
        .filter(|d| d.missing.is_empty())
        .map(|d| d.check)
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

/// Prints a message for the person to stdout, unless `--quiet` (see `sink::say`).
pub fn say(text: &str) -> Result<(), Error> {
    crate::sink::say(text).map_err(|e| Error::Internal(format!("write to stdout: {e}")))
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

/// Where `--sarif` sends the log: `-` is stdout (the summary then goes to stderr).
pub fn sarif_to_stdout(path: Option<&Path>) -> bool {
    path.is_some_and(|p| p == Path::new("-"))
}

/// Writes an output where a flag (`--sarif`, `--output`) says: stdout for `-`, else the file (written through a
/// device or a FIFO, atomically otherwise).
pub fn write_requested(path: &Path, text: &str) -> Result<(), Error> {
    if sarif_to_stdout(Some(path)) {
        return print(text);
    }
    crate::store::write_output(&user_path(path), text.as_bytes())?;
    Ok(())
}

/// The text of the line an issue points at: in its own commit (a history scan's issues carry
/// one), else in `default`.
pub fn line_text(
    repo: &Repo,
    default: Option<Oid>,
) -> impl Fn(&crate::policy::Issue) -> Option<String> + '_ {
    move |issue| {
        let f = &issue.finding;
        let (file, line) = (f.file.as_deref()?, f.line?);
        let commit = f
            .commit
            .as_deref()
            .and_then(|c| Oid::from_str(c).ok())
            .or(default)?;
        let content = repo.file_head(commit, file, 4 << 20)?;
        String::from_utf8_lossy(&content)
            .lines()
            .nth(line.saturating_sub(1) as usize)
            .map(str::to_string)
    }
}

/// The `origin` remote's URL as an absolute URI (SARIF requires one), without credentials a
/// URL may carry (`https://user:token@`).
pub fn repository_uri(repo: &Repo) -> Option<String> {
    let remote = repo.git.find_remote("origin").ok()?;
    let url = remote.url().ok()?.to_string();
    Some(absolute_remote_uri(&url, &repo.root))
}

/// A remote's URL as git accepts it, as an absolute URI: a URL without its user info, an
/// scp-like `git@host:owner/repo` as `ssh://git@host/owner/repo` (its user is no credential),
/// and a local path (a clone of a clone) as a `file://` URI, resolved from `root`.
fn absolute_remote_uri(url: &str, root: &Path) -> String {
    if let Some((scheme, rest)) = url.split_once("://") {
        let authority = rest.find('/').unwrap_or(rest.len());
        return match rest[..authority].rfind('@') {
            Some(at) => format!("{scheme}://{}", &rest[at + 1..]),
            None => url.to_string(),
        };
    }
    let colon = url.find(':');
    let slash = url.find('/');
    if let Some(c) = colon.filter(|&c| c > 0 && slash.is_none_or(|s| c < s)) {
        return format!(
            "ssh://{}/{}",
            &url[..c],
            url[c + 1..].trim_start_matches('/')
        );
    }
    let path = root.join(url);
    let uri = crate::report::sarif::file_uri(&path);
    uri.trim_end_matches('/').to_string()
}

#[cfg(test)]
mod tests {
    use super::absolute_remote_uri;
    use std::path::Path;

    #[test]
    fn remotes_become_absolute_uris() {
        let root = Path::new("/w/repo");
        assert_eq!(
            absolute_remote_uri("https://user:tok@github.com/o/r.git", root),
            "https://github.com/o/r.git"
        );
        assert_eq!(
            absolute_remote_uri("git@github.com:o/r.git", root),
            "ssh://git@github.com/o/r.git"
        );
        // A clone of a local mirror: SARIF1005 until it is a file URI.
        assert_eq!(
            absolute_remote_uri("/work/.mirror/pallets+click/repo", root),
            "file:///work/.mirror/pallets%2Bclick/repo"
        );
        assert_eq!(
            absolute_remote_uri("../up stream", root),
            "file:///w/repo/../up%20stream"
        );
    }
}
