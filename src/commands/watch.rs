//! `auditor watch`: takes the repository's daemon lock and runs the daemon in the foreground.

use std::io::IsTerminal;

use super::common::{layout, load_settings, open_repo};
use crate::cli::WatchArgs;
use crate::config::Settings;
use crate::daemon::{self, Exit, Setup, view::Mode};
use crate::error::{Error, ExitCode};
use crate::git::{Repo, ensure_excluded};
use crate::store::lock::{self, LockError};

/// Runs the daemon until it is stopped.
pub fn run(args: WatchArgs) -> Result<ExitCode, Error> {
    let repo = open_repo(args.repo.repo.as_deref())?;
    let settings = load_apart(&repo.root, &args.repo)?;
    let layout = layout(&repo, &settings);
    ensure_excluded(&repo, &layout.exclude_patterns())?;
    let lock_path = daemon::lock_path(&layout);
    let mut attempt = lock::try_lock(&lock_path);
    if let Err(LockError::Held { pid: Some(pid), .. }) = &attempt {
        // A daemon that just died can hold its lock a moment longer than it lives.
        if !daemon::control::is_daemon_process(*pid)
            && daemon::control::wait_lock_free(&lock_path, std::time::Duration::from_secs(3))
        {
            attempt = lock::try_lock(&lock_path);
        }
    }
    let lock = match attempt {
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
    let view = if crate::sink::is_quiet() {
        Mode::Quiet
    } else if std::io::stdout().is_terminal() {
        Mode::Live
    } else {
        Mode::Lines
    };
    let root = repo.root.clone();
    let repo_args = args.repo.clone();
    let reload = Box::new(move || load_apart(&root, &repo_args).map_err(|e| e.to_string()));
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

/// Loads the settings on a short-lived thread. Detecting checks lists the whole tree (100,000
/// paths in a big repository); done apart, those allocations land in the thread's own malloc
/// arena, which is then entirely free and handed back, instead of fragmenting the resident
/// memory the daemon idles with.
fn load_apart(root: &std::path::Path, args: &crate::cli::RepoArgs) -> Result<Settings, Error> {
    let loaded = std::thread::scope(|scope| {
        scope
            .spawn(|| {
                let repo = Repo::open(root)?;
                load_settings(&repo, args, repo.head().ok())
            })
            .join()
    })
    .map_err(|_| Error::Internal("loading the configuration panicked".into()))?;
    daemon::release_free_memory();
    loaded
}
