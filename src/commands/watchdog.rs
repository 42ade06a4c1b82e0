//! `auditor watchdog`, for cron every minute: silent when a healthy daemon runs; otherwise it
//! stops a hung one (after checking the pid really is our daemon), starts a new one detached
//! (or in tmux), records a `watchdog_restart` event and exits 0.

use std::time::{Duration, Instant};

use serde_json::json;

use super::common::{layout, load_settings, open_repo, say};
use crate::cli::WatchdogArgs;
use crate::daemon::control::health;
use crate::daemon::{self, control};
use crate::error::{Error, ExitCode};
use crate::eventlog::{Level, append_once};
use crate::store::lock;

/// How long a new daemon has to take its lock and write its first heartbeat.
const START_TIMEOUT: Duration = Duration::from_secs(15);

/// Runs the watchdog.
pub fn run(args: WatchdogArgs) -> Result<ExitCode, Error> {
    let repo = open_repo(args.repo.repo.as_deref())?;
    // A broken config must be fixed by a person; starting a daemon on it would fail anyway.
    let settings = load_settings(&repo, &args.repo, None)?;
    let layout = layout(&repo, &settings);
    // Watchdogs started together take turns; the second finds the first one's daemon.
    let _turn = lock::lock_blocking(&layout.state_dir.join("watchdog.lock"))
        .map_err(|e| Error::Internal(e.to_string()))?;
    let lock_path = daemon::lock_path(&layout);
    let h = health(&layout, settings.watch.stale_after);
    if h.healthy {
        return Ok(ExitCode::Clean);
    }
    let reason = match h.holder {
        Some(pid) if !control::is_daemon_process(pid) => {
            // A daemon that just died can hold its lock a moment longer.
            if !control::wait_lock_free(&lock_path, Duration::from_secs(5)) {
                return Err(Error::Internal(format!(
                    "pid {pid} holds {} but is not an `auditor watch` process; not touching it",
                    lock_path.display()
                )));
            }
            format!("the daemon (pid {pid}) had died")
        }
        Some(pid) => {
            let age = h.heartbeat_age.map_or("no heartbeat".to_string(), |a| {
                format!("heartbeat {:.0}s old", a.as_secs_f64())
            });
            if !control::stop_daemon(pid, &lock_path, Duration::from_secs(5)) {
                return Err(Error::Internal(format!(
                    "the hung daemon (pid {pid}) could not be stopped"
                )));
            }
            format!("replaced hung daemon pid {pid} ({age})")
        }
        None => "no daemon was running".to_string(),
    };
    let exe = std::env::current_exe()
        .map_err(|e| Error::Internal(format!("find the auditor binary: {e}")))?;
    let watch_args = control::watch_args(&repo.root, args.repo.config.as_deref());
    let mut spawned = match &args.tmux_session {
        Some(session) => control::spawn_in_tmux(&exe, &watch_args, session).map(|()| None),
        None => control::spawn_detached(&exe, &watch_args, &layout.daemon_log()).map(Some),
    }
    .map_err(|e| Error::Internal(format!("start the daemon: {e}")))?;
    let new_pid = wait_for_daemon(&layout, settings.watch.stale_after, spawned.as_mut());
    append_once(
        &layout.reports_dir,
        daemon::event_limits(&settings),
        "watchdog_restart",
        if new_pid.is_some() {
            Level::Warning
        } else {
            Level::Error
        },
        json!({
            "reason": reason,
            "old_pid": h.holder,
            "new_pid": new_pid,
            "tmux_session": args.tmux_session,
        }),
    );
    match new_pid {
        Some(pid) => {
            say(&format!(
                "auditor watchdog: {reason}; started daemon pid {pid}\n"
            ))?;
            Ok(ExitCode::Clean)
        }
        None => Err(Error::Internal(format!(
            "{reason}; the new daemon did not start within {}s (see {})",
            START_TIMEOUT.as_secs(),
            layout.daemon_log().display()
        ))),
    }
}

/// Waits until a daemon holds the lock and has written a fresh heartbeat; its pid.
fn wait_for_daemon(
    layout: &crate::store::Layout,
    stale_after: Duration,
    mut spawned: Option<&mut std::process::Child>,
) -> Option<u32> {
    let deadline = Instant::now() + START_TIMEOUT;
    while Instant::now() < deadline {
        let h = health(layout, stale_after);
        if h.healthy {
            return h.holder;
        }
        if let Some(child) = spawned.as_mut() {
            // A child that already exited (a broken config, say) will never get healthy.
            if !matches!(child.try_wait(), Ok(None)) {
                return None;
            }
        }
        std::thread::sleep(Duration::from_millis(50));
    }
    None
}
