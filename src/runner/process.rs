//! One supervised child process, from spawn to the moment no process of its group remains.

use std::ffi::{OsStr, OsString};
use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::time::{Duration, Instant};

use nix::sys::signal::{Signal, killpg};
use nix::unistd::Pid;
use tokio::io::{AsyncRead, AsyncReadExt};
use tokio::process::Command;
use tokio::sync::watch;

use super::capture::Captured;
use super::guard::{GUARD_ARG, PARENT_ENV};

/// What to run and how.
#[derive(Debug, Clone)]
pub struct ProcessSpec {
    /// The program (a name on `PATH` or a path).
    pub program: OsString,
    /// Its arguments, as bytes (file names from the repository need not be UTF-8).
    pub args: Vec<OsString>,
    /// Working directory.
    pub cwd: PathBuf,
    /// Extra environment variables.
    pub env: Vec<(String, OsString)>,
    /// Nice level to run at (never lower than our own).
    pub nice: i32,
    /// How long it may run.
    pub timeout: Duration,
    /// Between SIGTERM and SIGKILL.
    pub grace: Duration,
    /// Bytes kept per stream.
    pub output_cap: usize,
}

/// How a child process ended.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Outcome {
    /// It exited with this code.
    Exited(i32),
    /// A signal we did not send ended it.
    Signaled(i32),
    /// It ran past its timeout and its group was killed.
    TimedOut,
    /// The program does not exist.
    NotFound,
    /// It could not be started for another reason.
    SpawnFailed(String),
}

/// Everything known about a finished child.
#[derive(Debug, Clone)]
pub struct ProcessResult {
    /// How it ended.
    pub outcome: Outcome,
    /// Its standard output (bounded).
    pub stdout: Captured,
    /// Its standard error (bounded).
    pub stderr: Captured,
    /// Wall-clock time from spawn to the end.
    pub duration: Duration,
    /// Whether processes of its group outlived it and had to be killed.
    pub leaked: bool,
}

impl ProcessResult {
    fn without_run(outcome: Outcome, cap: usize) -> ProcessResult {
        ProcessResult {
            outcome,
            stdout: Captured::new(cap),
            stderr: Captured::new(cap),
            duration: Duration::ZERO,
            leaked: false,
        }
    }

    /// The exit code, when the process exited by itself.
    pub fn exit_code(&self) -> Option<i32> {
        match self.outcome {
            Outcome::Exited(c) => Some(c),
            _ => None,
        }
    }
}

/// Reads a pipe to its end, or until `stop` fires: a process outside the group (one that
/// called setsid) may hold the pipe open forever, and must not hang the audit.
async fn drain<R: AsyncRead + Unpin>(
    reader: Option<R>,
    cap: usize,
    mut stop: watch::Receiver<bool>,
) -> Captured {
    let mut captured = Captured::new(cap);
    let Some(mut reader) = reader else {
        return captured;
    };
    let mut buf = vec![0u8; 64 * 1024];
    loop {
        tokio::select! {
            read = reader.read(&mut buf) => match read {
                Ok(0) | Err(_) => break,
                Ok(n) => captured.push(&buf[..n]),
            },
            _ = stop.wait_for(|stop| *stop) => break,
        }
    }
    captured
}

/// How long output pipes may stay open after the process group is gone.
const PIPE_CLOSE_WAIT: Duration = Duration::from_millis(500);

/// Environment variables that would point a child's git at the agent's repository.
const GIT_ENV_TO_CLEAR: [&str; 5] = [
    "GIT_DIR",
    "GIT_WORK_TREE",
    "GIT_INDEX_FILE",
    "GIT_OBJECT_DIRECTORY",
    "GIT_COMMON_DIR",
];

#[expect(
    unsafe_code,
    reason = "pre_exec runs async-signal-safe syscalls (setpriority, prctl) between fork and exec"
)]
fn configure(cmd: &mut Command, nice: i32, death_signal: i32) {
    // SAFETY: the closure only calls getpriority/setpriority/prctl, which are
    // async-signal-safe system calls, and allocates nothing.
    unsafe {
        cmd.pre_exec(move || {
            use nix::libc;
            // Raise niceness to the configured level; never lower it below ours.
            *libc::__errno_location() = 0;
            let current = libc::getpriority(libc::PRIO_PROCESS, 0);
            if current < nice {
                libc::setpriority(libc::PRIO_PROCESS, 0, nice);
            }
            // If the auditor dies (even by SIGKILL), its direct child is told.
            libc::prctl(libc::PR_SET_PDEATHSIG, death_signal, 0, 0, 0);
            Ok(())
        });
    }
}

fn signal_group(pgid: Pid, signal: Signal) -> bool {
    killpg(pgid, signal).is_ok()
}

/// The process groups of checks running now, so that a shutdown or a preemption can end them
/// from another thread.
static ACTIVE_GROUPS: std::sync::Mutex<Vec<i32>> = std::sync::Mutex::new(Vec::new());

fn active_groups() -> std::sync::MutexGuard<'static, Vec<i32>> {
    // A panic while holding this lock leaves a plain Vec behind: still usable.
    ACTIVE_GROUPS
        .lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner)
}

/// Ends every running check's process group: SIGTERM, up to `grace` for them to exit, then
/// SIGKILL. Blocks until no group remains. Returns how many groups there were.
pub fn terminate_all(grace: Duration) -> usize {
    let groups: Vec<Pid> = active_groups().iter().map(|g| Pid::from_raw(*g)).collect();
    for g in &groups {
        signal_group(*g, Signal::SIGTERM);
    }
    let deadline = Instant::now() + grace;
    // SIGCONT probes whether any member of a group still exists.
    let alive = || {
        groups
            .iter()
            .filter(|g| signal_group(**g, Signal::SIGCONT))
            .count()
    };
    while alive() > 0 && Instant::now() < deadline {
        std::thread::sleep(Duration::from_millis(20));
    }
    for g in &groups {
        signal_group(*g, Signal::SIGKILL);
    }
    groups.len()
}

/// Whether `program` can be run from `cwd`: a path (relative to `cwd`) to an executable file,
/// or a name found on `PATH`.
pub fn program_available(program: impl AsRef<OsStr>, cwd: &Path) -> bool {
    use std::os::unix::ffi::OsStrExt;
    use std::os::unix::fs::PermissionsExt;
    let program = program.as_ref();
    let executable = |p: &Path| {
        p.metadata()
            .is_ok_and(|m| m.is_file() && m.permissions().mode() & 0o111 != 0)
    };
    if program.as_bytes().contains(&b'/') {
        return executable(&cwd.join(program));
    }
    std::env::var_os("PATH")
        .is_some_and(|path| std::env::split_paths(&path).any(|dir| executable(&dir.join(program))))
}

/// The auditor's own executable, when this process is one (not a test harness), for the
/// helpers it re-executes itself as (the guard, the status reader).
pub fn own_binary() -> Option<PathBuf> {
    std::env::current_exe()
        .ok()
        .filter(|exe| exe.file_name().is_some_and(|n| n == "auditor") && exe.is_file())
}

/// The command that starts a check: through the guard (our own binary) when it can be found,
/// so that the check's whole group dies with us; else directly, with only the child covered.
fn command_for(spec: &ProcessSpec) -> (Command, i32) {
    match own_binary() {
        Some(exe) => {
            let mut cmd = Command::new(exe);
            cmd.arg(GUARD_ARG)
                .arg("--")
                .arg(&spec.program)
                .args(&spec.args)
                .env(PARENT_ENV, std::process::id().to_string());
            (cmd, nix::libc::SIGTERM)
        }
        None => {
            let mut cmd = Command::new(&spec.program);
            cmd.args(&spec.args);
            (cmd, nix::libc::SIGKILL)
        }
    }
}

/// Runs one child to completion and makes sure nothing of its process group survives.
pub async fn run_process(spec: &ProcessSpec) -> ProcessResult {
    if !program_available(&spec.program, &spec.cwd) {
        return ProcessResult::without_run(Outcome::NotFound, spec.output_cap);
    }
    let (mut cmd, death_signal) = command_for(spec);
    cmd.current_dir(&spec.cwd)
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .process_group(0)
        .kill_on_drop(true);
    for key in GIT_ENV_TO_CLEAR {
        cmd.env_remove(key);
    }
    for (k, v) in &spec.env {
        cmd.env(k, v);
    }
    configure(&mut cmd, spec.nice, death_signal);

    let started = Instant::now();
    let mut child = match cmd.spawn() {
        Ok(child) => child,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
            return ProcessResult::without_run(Outcome::NotFound, spec.output_cap);
        }
        Err(e) => {
            return ProcessResult::without_run(
                Outcome::SpawnFailed(e.to_string()),
                spec.output_cap,
            );
        }
    };
    let Some(pid) = child.id() else {
        return ProcessResult::without_run(
            Outcome::SpawnFailed("child exited before its pid was read".into()),
            spec.output_cap,
        );
    };
    let pgid = Pid::from_raw(pid as i32);
    active_groups().push(pgid.as_raw());
    let (stop_tx, stop_rx) = watch::channel(false);
    let stdout = tokio::spawn(drain(child.stdout.take(), spec.output_cap, stop_rx.clone()));
    let stderr = tokio::spawn(drain(child.stderr.take(), spec.output_cap, stop_rx));

    let outcome = match tokio::time::timeout(spec.timeout, child.wait()).await {
        Ok(Ok(status)) => exit_outcome(status),
        Ok(Err(e)) => Outcome::SpawnFailed(format!("wait failed: {e}")),
        Err(_elapsed) => {
            signal_group(pgid, Signal::SIGTERM);
            if tokio::time::timeout(spec.grace, child.wait())
                .await
                .is_err()
            {
                signal_group(pgid, Signal::SIGKILL);
                let _ = child.wait().await;
            }
            Outcome::TimedOut
        }
    };

    // The leader is gone; anything still in its group is a leak. Give well-behaved
    // grandchildren a moment to finish, then kill the group so that none remains.
    let mut leaked = false;
    if signal_group(pgid, Signal::SIGCONT) {
        // SIGCONT (harmless) succeeding means some member still exists.
        tokio::time::sleep(Duration::from_millis(50)).await;
        if signal_group(pgid, Signal::SIGCONT) {
            leaked = outcome != Outcome::TimedOut;
            signal_group(pgid, Signal::SIGKILL);
        }
    }
    active_groups().retain(|g| *g != pgid.as_raw());
    // Pipes still open a moment after the whole group is gone belong to an escapee.
    let stopper = tokio::spawn(async move {
        tokio::time::sleep(PIPE_CLOSE_WAIT).await;
        let _ = stop_tx.send(true);
    });
    let stdout = stdout.await.unwrap_or_default();
    let stderr = stderr.await.unwrap_or_default();
    stopper.abort();
    ProcessResult {
        outcome,
        stdout,
        stderr,
        duration: started.elapsed(),
        leaked,
    }
}

fn exit_outcome(status: std::process::ExitStatus) -> Outcome {
    use std::os::unix::process::ExitStatusExt;
    match (status.code(), status.signal()) {
        (Some(code), _) => Outcome::Exited(code),
        (None, Some(sig)) => Outcome::Signaled(sig),
        (None, None) => Outcome::SpawnFailed("unknown exit status".into()),
    }
}
