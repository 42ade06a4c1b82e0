//! `auditor reset`: ends a wait for a fix (WAIT_FOR_FIX → IDLE), through the running daemon
//! (SIGUSR1) or, when none runs, in its persisted state.

use std::time::{Duration, Instant};

use nix::sys::signal::Signal;
use serde_json::json;

use super::common::{open_repo, say, settings_or_defaults};
use crate::cli::PlainRepoArgs;
use crate::daemon::machine::StateName;
use crate::daemon::status::Status;
use crate::daemon::{self, control};
use crate::error::{Error, ExitCode};
use crate::eventlog::{Level, append_once};
use crate::store::{lock, state};

/// Runs the reset command.
pub fn run(args: PlainRepoArgs) -> Result<ExitCode, Error> {
    let repo = open_repo(args.repo.as_deref())?;
    let (settings, layout) = settings_or_defaults(&repo);
    let lock_path = daemon::lock_path(&layout);
    match lock::try_lock(&lock_path) {
        Ok(_held) => {
            // No daemon: clear the wait it would resume on start.
            let (mut persisted, _) = state::load(&layout);
            let was_waiting = persisted.waiting_since.take().is_some();
            state::save(&layout, &persisted)?;
            append_once(
                &layout.reports_dir,
                daemon::event_limits(&settings),
                "reset",
                Level::Info,
                json!({ "daemon_running": false, "was_waiting": was_waiting }),
            );
            say(if was_waiting {
                "no daemon runs; the wait for a fix is cleared (the next daemon starts IDLE)\n"
            } else {
                "no daemon runs and none was waiting for a fix\n"
            })?;
            Ok(ExitCode::Clean)
        }
        Err(lock::LockError::Held { pid: Some(pid), .. }) if control::is_daemon_process(pid) => {
            control::send(pid, Signal::SIGUSR1);
            let deadline = Instant::now() + Duration::from_secs(5);
            while Instant::now() < deadline {
                if let Ok(s) = Status::read(&layout)
                    && s.state != StateName::WaitForFix
                    && s.waiting_since.is_none()
                {
                    say(&format!("reset: the daemon (pid {pid}) is {}\n", s.state))?;
                    return Ok(ExitCode::Clean);
                }
                std::thread::sleep(Duration::from_millis(50));
            }
            Err(Error::Internal(format!(
                "the daemon (pid {pid}) did not leave WAIT_FOR_FIX within 5 s"
            )))
        }
        Err(e) => Err(Error::Internal(e.to_string())),
    }
}
