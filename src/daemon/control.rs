//! Controlling a daemon from another process: finding it, checking that a pid really is our
//! daemon, signalling it, waiting for its lock, and starting one detached or in tmux.

use std::path::Path;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use nix::sys::signal::{Signal, kill};
use nix::unistd::Pid;

use crate::store::lock;

/// Whether `pid` is an `auditor watch` process (not some process that reused the pid).
pub fn is_daemon_process(pid: u32) -> bool {
    let Ok(raw) = std::fs::read(format!("/proc/{pid}/cmdline")) else {
        return false;
    };
    let args: Vec<&[u8]> = raw.split(|b| *b == 0).collect();
    let program_is_auditor = args.first().is_some_and(|a| {
        use std::os::unix::ffi::OsStrExt;
        Path::new(std::ffi::OsStr::from_bytes(a))
            .file_name()
            .is_some_and(|n| n == "auditor")
    });
    program_is_auditor && args.iter().skip(1).any(|a| *a == b"watch")
}

/// What `status`, `watchdog`, the gate and the MCP server conclude about a repository's daemon.
pub struct Health {
    /// The pid holding the daemon lock.
    pub holder: Option<u32>,
    /// The status file, when readable.
    pub status: Result<crate::daemon::status::Status, String>,
    /// Heartbeat age, when the status file is the holder's.
    pub heartbeat_age: Option<std::time::Duration>,
    /// A daemon runs and its heartbeat is fresh.
    pub healthy: bool,
}

/// Looks at the lock and the status file.
pub fn health(layout: &crate::store::Layout, stale_after: std::time::Duration) -> Health {
    let holder = lock::holder(&crate::daemon::lock_path(layout));
    let status = crate::daemon::status::Status::read(layout);
    let heartbeat_age = match (&status, holder) {
        (Ok(s), Some(pid)) if s.pid == pid => Some(s.heartbeat_age(chrono::Utc::now())),
        _ => None,
    };
    // A dead daemon's lock can outlive it for a moment (the kernel releases files of an
    // exiting process lazily): the holder must also still be our daemon.
    let healthy =
        heartbeat_age.is_some_and(|age| age < stale_after) && holder.is_some_and(is_daemon_process);
    Health {
        holder,
        status,
        heartbeat_age,
        healthy,
    }
}

/// Sends a signal; false when the process is gone.
pub fn send(pid: u32, signal: Signal) -> bool {
    i32::try_from(pid).is_ok_and(|p| kill(Pid::from_raw(p), signal).is_ok())
}

/// Waits until nobody holds the lock at `path`, up to `timeout`. True when it is free.
pub fn wait_lock_free(path: &Path, timeout: Duration) -> bool {
    let deadline = Instant::now() + timeout;
    loop {
        if lock::holder(path).is_none() {
            return true;
        }
        if Instant::now() >= deadline {
            return false;
        }
        std::thread::sleep(Duration::from_millis(50));
    }
}

/// Stops the daemon `pid` holding `lock_path`: SIGTERM (and SIGCONT, in case it is stopped),
/// then SIGKILL if it has not let go of its lock after `patience`. True when it is gone.
pub fn stop_daemon(pid: u32, lock_path: &Path, patience: Duration) -> bool {
    send(pid, Signal::SIGTERM);
    send(pid, Signal::SIGCONT);
    if wait_lock_free(lock_path, patience) {
        return true;
    }
    send(pid, Signal::SIGKILL);
    wait_lock_free(lock_path, Duration::from_secs(5))
}

/// The arguments that start a daemon for `repo` (with `config` when given).
pub fn watch_args(repo: &Path, config: Option<&Path>) -> Vec<String> {
    let mut args = vec![
        "watch".to_string(),
        "--repo".to_string(),
        repo.to_string_lossy().into_owned(),
    ];
    if let Some(c) = config {
        args.push("--config".into());
        args.push(c.to_string_lossy().into_owned());
    }
    args
}

/// Starts `auditor ARGS` detached from the terminal (its own session), output appended to
/// `log`.
#[expect(
    unsafe_code,
    reason = "pre_exec calls setsid, an async-signal-safe system call, between fork and exec"
)]
pub fn spawn_detached(
    exe: &Path,
    args: &[String],
    log: &Path,
) -> std::io::Result<std::process::Child> {
    use std::os::unix::process::CommandExt;
    if let Some(dir) = log.parent() {
        std::fs::create_dir_all(dir)?;
    }
    let out = std::fs::OpenOptions::new()
        .create(true)
        .append(true)
        .open(log)?;
    let err = out.try_clone()?;
    let mut cmd = Command::new(exe);
    cmd.args(args).stdin(Stdio::null()).stdout(out).stderr(err);
    // SAFETY: setsid is async-signal-safe and allocates nothing.
    unsafe {
        cmd.pre_exec(|| {
            nix::unistd::setsid().map_err(std::io::Error::from)?;
            Ok(())
        });
    }
    cmd.spawn()
}

/// Starts `auditor ARGS` in a window of tmux session `session` (created when missing).
pub fn spawn_in_tmux(exe: &Path, args: &[String], session: &str) -> std::io::Result<()> {
    let quoted: Vec<String> = std::iter::once(exe.to_string_lossy().into_owned())
        .chain(args.iter().cloned())
        .map(|a| shell_quote(&a))
        .collect();
    let command = quoted.join(" ");
    let exists = Command::new("tmux")
        .args(["has-session", "-t", session])
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()?
        .success();
    let status = if exists {
        Command::new("tmux")
            .args(["new-window", "-d", "-t", session, "-n", "auditor", &command])
            .status()?
    } else {
        Command::new("tmux")
            .args([
                "new-session",
                "-d",
                "-s",
                session,
                "-n",
                "auditor",
                &command,
            ])
            .status()?
    };
    if status.success() {
        Ok(())
    } else {
        Err(std::io::Error::other(format!("tmux exited with {status}")))
    }
}

fn shell_quote(s: &str) -> String {
    if !s.is_empty()
        && s.bytes()
            .all(|b| b.is_ascii_alphanumeric() || b"-_./=:@".contains(&b))
    {
        s.to_string()
    } else {
        format!("'{}'", s.replace('\'', "'\\''"))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn quotes_for_the_shell() {
        assert_eq!(shell_quote("/usr/bin/auditor"), "/usr/bin/auditor");
        assert_eq!(shell_quote("my repo"), "'my repo'");
        assert_eq!(shell_quote("it's"), "'it'\\''s'");
    }

    #[test]
    fn this_test_process_is_not_a_daemon() {
        assert!(!is_daemon_process(std::process::id()));
        assert!(!is_daemon_process(u32::MAX));
    }
}
