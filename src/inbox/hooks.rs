//! Hooks: the commands `[hooks] on_critical` and `on_escalate` name, run with the issue in
//! their environment (to message the agent's tmux pane, notify a person, page someone).

use std::path::Path;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

/// How a hook ran.
#[derive(Debug, Clone, PartialEq)]
pub struct HookRun {
    /// `critical` or `escalation`.
    pub event: &'static str,
    /// The issue it was run for.
    pub issue: String,
    /// Exit code, or why there is none.
    pub outcome: Result<i32, String>,
}

/// Runs `command` with `env` from `cwd`, in its own process group, killed with its group after
/// `timeout`. Never fails the audit: the outcome says what happened.
pub fn run_hook(
    command: &[String],
    env: &[(&str, String)],
    cwd: &Path,
    timeout: Duration,
) -> Result<i32, String> {
    use std::os::unix::process::CommandExt;
    let Some((program, args)) = command.split_first() else {
        return Err("empty command".into());
    };
    let mut cmd = Command::new(program);
    cmd.args(args)
        .current_dir(cwd)
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .process_group(0);
    for (k, v) in env {
        cmd.env(k, v);
    }
    let mut child = cmd
        .spawn()
        .map_err(|e| format!("cannot run {program}: {e}"))?;
    let deadline = Instant::now() + timeout;
    loop {
        match child.try_wait() {
            Ok(Some(status)) => return Ok(status.code().unwrap_or(-1)),
            Ok(None) if Instant::now() < deadline => std::thread::sleep(Duration::from_millis(20)),
            Ok(None) => {
                if let Ok(pid) = i32::try_from(child.id()) {
                    let _ = nix::sys::signal::killpg(
                        nix::unistd::Pid::from_raw(pid),
                        nix::sys::signal::Signal::SIGKILL,
                    );
                }
                let _ = child.wait();
                return Err(format!("timed out after {}s", timeout.as_secs()));
            }
            Err(e) => return Err(e.to_string()),
        }
    }
}
