//! `auditor stop`: SIGTERM to the repository's daemon, then wait until it has let go of its lock.

use std::time::Duration;

use super::common::{open_repo, say, settings_or_defaults};
use crate::cli::PlainRepoArgs;
use crate::daemon::{self, control};
use crate::error::{Error, ExitCode};
use crate::store::lock;

/// Runs the stop command.
pub fn run(args: PlainRepoArgs) -> Result<ExitCode, Error> {
    let repo = open_repo(args.repo.as_deref())?;
    let (_, layout) = settings_or_defaults(&repo);
    let lock_path = daemon::lock_path(&layout);
    let Some(pid) = lock::holder(&lock_path) else {
        say(&format!("no daemon is watching {}\n", repo.root.display()))?;
        return Ok(ExitCode::Clean);
    };
    if !control::is_daemon_process(pid) {
        return Err(Error::Internal(format!(
            "pid {pid} holds {} but is not an `auditor watch` process; not signalling it",
            lock_path.display()
        )));
    }
    // The daemon itself exits within 5 s of SIGTERM; KILL only if it does not.
    if control::stop_daemon(pid, &lock_path, Duration::from_secs(8)) {
        say(&format!("stopped the daemon (pid {pid})\n"))?;
        Ok(ExitCode::Clean)
    } else {
        Err(Error::Internal(format!(
            "the daemon (pid {pid}) did not stop"
        )))
    }
}
