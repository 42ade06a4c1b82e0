//! One supervised child process, from spawn to the moment no process of its group remains.

use std::ffi::{OsStr, OsString};
use std::os::fd::{AsRawFd, OwnedFd, RawFd};
use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::time::{Duration, Instant};

use nix::sys::signal::{Signal, killpg};
use nix::unistd::Pid;
use tokio::io::{AsyncRead, AsyncReadExt};
use tokio::process::Command;
use tokio::sync::watch;

use super::capture::Captured;
use super::guard::{GUARD_ARG, KILL_NOW, PARENT_ENV, REPORT_ENV};

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
    /// Whether processes it started outlived it and had to be killed.
    pub leaked: bool,
    /// The processes killed after it exited or at its timeout, `pid command line` each.
    pub killed: Vec<String>,
}

impl ProcessResult {
    fn without_run(outcome: Outcome, cap: usize) -> ProcessResult {
        ProcessResult {
            outcome,
            stdout: Captured::new(cap),
            stderr: Captured::new(cap),
            duration: Duration::ZERO,
            leaked: false,
            killed: Vec::new(),
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

/// The file descriptor number the guard's report pipe gets in the guard.
const REPORT_FD: i32 = 3;
/// How long a guard asked to kill everything gets before its group is SIGKILLed.
const GUARD_SWEEP_WAIT: Duration = Duration::from_secs(2);

#[expect(
    unsafe_code,
    reason = "pre_exec runs async-signal-safe syscalls (setpriority, prctl, dup2, fcntl) between fork and exec"
)]
fn configure(cmd: &mut Command, nice: i32, death_signal: i32, report: Option<RawFd>) {
    // SAFETY: the closure only calls getpriority/setpriority/prctl/dup2/fcntl, which are
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
            // The guard's report pipe, at a known number and kept across exec.
            if let Some(fd) = report {
                if fd == REPORT_FD {
                    libc::fcntl(fd, libc::F_SETFD, 0);
                } else if libc::dup2(fd, REPORT_FD) < 0 {
                    return Err(std::io::Error::last_os_error());
                }
            }
            Ok(())
        });
    }
}

fn signal_group(pgid: Pid, signal: Signal) -> bool {
    killpg(pgid, signal).is_ok()
}

/// The process groups of checks running now, so that a shutdown or a preemption can end them
/// from another thread. Each is led by its guard (its pid is the group's id).
static ACTIVE_GROUPS: std::sync::Mutex<Vec<i32>> = std::sync::Mutex::new(Vec::new());

fn active_groups() -> std::sync::MutexGuard<'static, Vec<i32>> {
    // A panic while holding this lock leaves a plain Vec behind: still usable.
    ACTIVE_GROUPS
        .lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner)
}

/// Ends every running check (and hook): SIGTERM to each group, up to `grace` for them to
/// exit, then each guard is told to kill everything it supervises (escaped processes
/// included), and what is left of the groups is SIGKILLed. Blocks until no group remains.
/// Returns how many groups there were.
pub fn terminate_all(grace: Duration) -> usize {
    let groups: Vec<Pid> = active_groups().iter().map(|g| Pid::from_raw(*g)).collect();
    for g in &groups {
        signal_group(*g, Signal::SIGTERM);
    }
    // SIGCONT probes whether any member of a group still exists.
    let alive = || {
        groups
            .iter()
            .filter(|g| signal_group(**g, Signal::SIGCONT))
            .count()
    };
    let wait = |deadline: Instant| {
        while alive() > 0 && Instant::now() < deadline {
            std::thread::sleep(Duration::from_millis(20));
        }
    };
    wait(Instant::now() + grace);
    for g in &groups {
        let _ = nix::sys::signal::kill(*g, KILL_NOW);
    }
    wait(Instant::now() + GUARD_SWEEP_WAIT);
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

/// How a child is started: through the guard (our own binary) when it can be found, so that
/// nothing it starts outlives it; else directly, with only the child covered.
struct Start {
    cmd: Command,
    death_signal: i32,
    /// The read end of the guard's report pipe, and the write end to hand to the guard.
    report: Option<(OwnedFd, OwnedFd)>,
}

fn command_for(spec: &ProcessSpec) -> Start {
    let pipe =
        nix::unistd::pipe2(nix::fcntl::OFlag::O_CLOEXEC | nix::fcntl::OFlag::O_NONBLOCK).ok();
    match (own_binary(), pipe) {
        (Some(exe), Some((read, write))) => {
            let mut cmd = Command::new(exe);
            cmd.arg(GUARD_ARG)
                .arg("--")
                .arg(&spec.program)
                .args(&spec.args)
                .env(PARENT_ENV, std::process::id().to_string())
                .env(REPORT_ENV, REPORT_FD.to_string());
            Start {
                cmd,
                death_signal: nix::libc::SIGTERM,
                report: Some((read, write)),
            }
        }
        _ => {
            let mut cmd = Command::new(&spec.program);
            cmd.args(&spec.args);
            Start {
                cmd,
                death_signal: nix::libc::SIGKILL,
                report: None,
            }
        }
    }
}

/// What the guard wrote on its report pipe: the processes it killed. The write end is
/// closed once the guard is gone, and the read end does not block.
fn read_report(read: OwnedFd) -> Vec<String> {
    use std::io::Read;
    let mut text = String::new();
    let _ = std::fs::File::from(read).read_to_string(&mut text);
    text.lines().map(str::to_string).collect()
}

/// Ends a child that ran past its grace: its guard kills everything it supervises; a guard
/// that does not answer is killed with its group.
async fn end_now(pgid: Pid, child: &mut tokio::process::Child, guarded: bool) {
    if guarded {
        let _ = nix::sys::signal::kill(pgid, KILL_NOW);
        if tokio::time::timeout(GUARD_SWEEP_WAIT, child.wait())
            .await
            .is_ok()
        {
            return;
        }
    }
    signal_group(pgid, Signal::SIGKILL);
    let _ = child.wait().await;
}

/// Runs one child to completion and makes sure nothing it started survives.
pub async fn run_process(spec: &ProcessSpec) -> ProcessResult {
    if !program_available(&spec.program, &spec.cwd) {
        return ProcessResult::without_run(Outcome::NotFound, spec.output_cap);
    }
    let Start {
        mut cmd,
        death_signal,
        report,
    } = command_for(spec);
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
    configure(
        &mut cmd,
        spec.nice,
        death_signal,
        report.as_ref().map(|(_, w)| w.as_raw_fd()),
    );
    let guarded = report.is_some();

    let started = Instant::now();
    let spawned = cmd.spawn();
    // Only the guard may hold the write end: once it is gone, the report is complete.
    let report = report.map(|(read, _write)| read);
    let mut child = match spawned {
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
                end_now(pgid, &mut child, guarded).await;
            }
            Outcome::TimedOut
        }
    };

    let mut killed = report.map(read_report).unwrap_or_default();
    // The guard swept what it supervised. Without one (or should it have died), anything
    // still in the group is a leftover: a moment for well-behaved ones, then SIGKILL.
    if signal_group(pgid, Signal::SIGCONT) {
        // SIGCONT (harmless) succeeding means some member still exists.
        tokio::time::sleep(Duration::from_millis(50)).await;
        if signal_group(pgid, Signal::SIGCONT) {
            signal_group(pgid, Signal::SIGKILL);
            killed.push(format!("process group {pgid}"));
        }
    }
    // A timeout kills the check itself; only what outlived an exit is a leak.
    let leaked = !killed.is_empty() && outcome != Outcome::TimedOut;
    active_groups().retain(|g| *g != pgid.as_raw());
    // Pipes still open a moment after everything is gone belong to an escapee we could not
    // see (no guard).
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
        killed,
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
