//! `auditor watch`: takes the repository's daemon lock and runs the daemon in the foreground.

use std::io::IsTerminal;

use super::common::{layout, load_settings, open_repo};
use crate::cli::WatchArgs;
use crate::daemon::{self, Exit, Setup, view::Mode};
use crate::error::{Error, ExitCode};
use crate::git::{Repo, ensure_excluded};
use crate::store::lock::{self, LockError};

/// Runs the daemon until it is stopped.
pub fn run(args: WatchArgs) -> Result<ExitCode, Error> {
    let repo = open_repo(args.repo.repo.as_deref())?;
    let settings = load_settings(&repo, &args.repo, repo.head().ok())?;
    let layout = layout(&repo, &settings);
    ensure_excluded(&repo, &layout.exclude_patterns())?;
    let lock = match lock::try_lock(&daemon::lock_path(&layout)) {
        Ok(l) => l,
        Err(LockError::Held { pid, .. }) => {
            return Err(Error::Usage(format!(
                "another auditor watch (pid {}) is already watching {}; stop it with `auditor stop`",
                pid.map_or("unknown".to_string(), |p| p.to_string()),
                repo.root.display()
            )));
        }
        Err(e) => return Err(Error::Internal(e.to_string())),
    };
    let view = if args.quiet {
        Mode::Quiet
    } else if std::io::stdout().is_terminal() {
        Mode::Live
    } else {
        Mode::Lines
    };
    let root = repo.root.clone();
    let repo_args = args.repo.clone();
    let reload = Box::new(move || {
        let repo = Repo::open(&root).map_err(|e| e.to_string())?;
        load_settings(&repo, &repo_args, repo.head().ok()).map_err(|e| e.to_string())
    });
    let exit = daemon::run(Setup {
        repo,
        settings,
        layout,
        lock,
        view,
        poll_only: args.poll,
        reload,
    })
    .map_err(|e| Error::Internal(e.to_string()))?;
    Ok(match exit {
        Exit::Stopped => ExitCode::Clean,
        Exit::Killed => ExitCode::Interrupted,
    })
}
