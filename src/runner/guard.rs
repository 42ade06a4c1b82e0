//! The guard: the first process of every check's process group, so that nothing a check
//! starts outlives it, even when the auditor is SIGKILLed and even when the check's processes
//! leave its group (`setsid`, a double fork).
//!
//! `PR_SET_PDEATHSIG` only reaches a direct child, and a process group only holds the
//! processes that stay in it. So the auditor runs `auditor __guard -- PROGRAM ARGS...`; the
//! guard leads the group, makes itself a child subreaper (`PR_SET_CHILD_SUBREAPER`: every
//! orphaned descendant, in whatever session or group, is reparented to it, not to init), runs
//! the check as its child, and once the check exits kills and reaps every descendant still
//! there. It ends everything at once on `SIGUSR1` (the runner's "kill now", sent to the guard
//! alone so that it lives to sweep) and when the auditor dies (its parent-death signal,
//! SIGTERM, arriving after its parent changed). A SIGTERM while the auditor lives is the
//! runner's TERM to the group, and is the check's to handle.
//!
//! What it killed is written, one `pid command line` per line, to the file descriptor named
//! by `AUDITOR_GUARD_REPORT`, for the report.

use std::collections::HashMap;
use std::ffi::OsString;
use std::io::Write;
use std::os::fd::{FromRawFd, RawFd};
use std::process::Command;
use std::sync::atomic::{AtomicBool, AtomicI32, Ordering};
use std::time::{Duration, Instant};

use nix::errno::Errno;
use nix::sys::signal::{SaFlags, SigAction, SigHandler, SigSet, Signal, kill, sigaction};
use nix::sys::wait::{WaitPidFlag, WaitStatus, waitpid};
use nix::unistd::Pid;

/// The hidden first argument that turns the binary into a guard.
pub const GUARD_ARG: &str = "__guard";
/// The environment variable carrying the auditor's pid to the guard.
pub const PARENT_ENV: &str = "AUDITOR_GUARD_PARENT";
/// The environment variable naming the file descriptor the guard reports on.
pub const REPORT_ENV: &str = "AUDITOR_GUARD_REPORT";
/// The signal that tells the guard to kill everything now.
pub const KILL_NOW: Signal = Signal::SIGUSR1;

/// How long descendants left behind by an exited check get to finish on their own.
const LEFTOVER_GRACE: Duration = Duration::from_millis(50);
/// How long the sweep keeps killing (a process may fork while it is being killed).
const SWEEP_LIMIT: Duration = Duration::from_secs(5);

static PARENT: AtomicI32 = AtomicI32::new(0);
static KILL_REQUESTED: AtomicBool = AtomicBool::new(false);
static PARENT_GONE: AtomicBool = AtomicBool::new(false);

extern "C" fn on_term(_: nix::libc::c_int) {
    // Only async-signal-safe calls here: getppid and atomics.
    // SAFETY: getppid is an async-signal-safe system call.
    #[expect(unsafe_code, reason = "a system call inside a signal handler")]
    let ppid = unsafe { nix::libc::getppid() };
    if ppid != PARENT.load(Ordering::SeqCst) {
        PARENT_GONE.store(true, Ordering::SeqCst);
        KILL_REQUESTED.store(true, Ordering::SeqCst);
    }
}

extern "C" fn on_kill_now(_: nix::libc::c_int) {
    KILL_REQUESTED.store(true, Ordering::SeqCst);
}

/// One process of the machine, as `/proc/PID/stat` lists it.
struct Proc {
    pid: i32,
    ppid: i32,
    zombie: bool,
}

fn processes() -> Vec<Proc> {
    let Ok(entries) = std::fs::read_dir("/proc") else {
        return Vec::new();
    };
    entries
        .flatten()
        .filter_map(|e| {
            let pid: i32 = e.file_name().to_str()?.parse().ok()?;
            let stat = std::fs::read_to_string(e.path().join("stat")).ok()?;
            // `pid (comm) state ppid ...`; comm may hold spaces and parentheses.
            let rest = &stat[stat.rfind(')')? + 2..];
            let mut fields = rest.split(' ');
            let state = fields.next()?;
            let ppid = fields.next()?.parse().ok()?;
            Some(Proc {
                pid,
                ppid,
                zombie: state == "Z",
            })
        })
        .collect()
}

/// The live descendants of this process (a subreaper's descendants are all below it).
fn descendants() -> Vec<i32> {
    let me = std::process::id() as i32;
    let all = processes();
    let mut children: HashMap<i32, Vec<&Proc>> = HashMap::new();
    for p in &all {
        children.entry(p.ppid).or_default().push(p);
    }
    let mut out = Vec::new();
    let mut stack = vec![me];
    while let Some(pid) = stack.pop() {
        for c in children.get(&pid).into_iter().flatten() {
            if !c.zombie {
                out.push(c.pid);
            }
            stack.push(c.pid);
        }
    }
    out
}

fn command_line(pid: i32) -> String {
    let raw = std::fs::read(format!("/proc/{pid}/cmdline")).unwrap_or_default();
    let line: String = String::from_utf8_lossy(&raw)
        .replace('\0', " ")
        .trim()
        .chars()
        .take(160)
        .collect();
    format!("{pid} {line}")
}

/// Reaps every child that has exited, without waiting.
fn reap() {
    while let Ok(status) = waitpid(None, Some(WaitPidFlag::WNOHANG)) {
        if status == WaitStatus::StillAlive {
            break;
        }
    }
}

/// Kills every descendant and reaps them, until none is left; what was killed.
fn sweep(killed: &mut Vec<String>) {
    let deadline = Instant::now() + SWEEP_LIMIT;
    loop {
        reap();
        let left = descendants();
        if left.is_empty() || Instant::now() > deadline {
            return;
        }
        for pid in left {
            let line = command_line(pid);
            if kill(Pid::from_raw(pid), Signal::SIGKILL).is_ok() && !killed.contains(&line) {
                killed.push(line);
            }
        }
        std::thread::sleep(Duration::from_millis(5));
    }
}

fn install(signal: Signal, handler: extern "C" fn(nix::libc::c_int)) -> bool {
    // No SA_RESTART: the wait for the check must return to look at the flags.
    let action = SigAction::new(
        SigHandler::Handler(handler),
        SaFlags::empty(),
        SigSet::empty(),
    );
    // SAFETY: the handlers only perform async-signal-safe calls and store atomics.
    #[expect(unsafe_code, reason = "installing a signal handler")]
    let installed = unsafe { sigaction(signal, &action) };
    installed.is_ok()
}

fn report_fd() -> Option<RawFd> {
    let fd: RawFd = std::env::var(REPORT_ENV).ok()?.parse().ok()?;
    // The check and its descendants must not hold the report open.
    // SAFETY: fcntl on an inherited descriptor number takes no pointers.
    #[expect(unsafe_code, reason = "a plain fcntl")]
    let set = unsafe { nix::libc::fcntl(fd, nix::libc::F_SETFD, nix::libc::FD_CLOEXEC) };
    (set == 0).then_some(fd)
}

fn write_report(fd: Option<RawFd>, killed: &[String]) {
    let Some(fd) = fd else { return };
    // SAFETY: the fd is ours (see `report_fd`) and is not used after this.
    #[expect(
        unsafe_code,
        reason = "taking ownership of an inherited file descriptor"
    )]
    let mut file = unsafe { std::fs::File::from_raw_fd(fd) };
    let mut text = String::new();
    for k in killed {
        text.push_str(k);
        text.push('\n');
    }
    let _ = file.write_all(text.as_bytes());
}

/// Runs the guard: `args` are what follows `__guard --`. Never returns.
pub fn guard_main(args: Vec<OsString>) -> ! {
    let parent: i32 = std::env::var(PARENT_ENV)
        .ok()
        .and_then(|p| p.parse().ok())
        .unwrap_or(0);
    PARENT.store(parent, Ordering::SeqCst);
    let report = report_fd();
    // SAFETY: prctl with PR_SET_CHILD_SUBREAPER takes no pointers.
    #[expect(unsafe_code, reason = "a plain prctl")]
    let subreaper = unsafe { nix::libc::prctl(nix::libc::PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0) };
    let installed = install(Signal::SIGTERM, on_term) && install(KILL_NOW, on_kill_now);
    if !installed || subreaper != 0 || nix::unistd::getppid().as_raw() != parent {
        // The auditor died before we were ready, or we cannot supervise: run nothing.
        std::process::exit(125);
    }
    let Some((program, rest)) = args.split_first() else {
        crate::sink::eprint("auditor: guard: no command\n");
        std::process::exit(125);
    };
    let child = match Command::new(program)
        .args(rest)
        .env_remove(PARENT_ENV)
        .env_remove(REPORT_ENV)
        .spawn()
    {
        Ok(child) => child,
        Err(e) => {
            crate::sink::eprint(&format!(
                "auditor: guard: cannot run {}: {e}\n",
                program.to_string_lossy()
            ));
            std::process::exit(126);
        }
    };
    let main = Pid::from_raw(child.id() as i32);
    let mut killed = Vec::new();
    let ended = loop {
        if KILL_REQUESTED.load(Ordering::SeqCst) {
            sweep(&mut killed);
            if PARENT_GONE.load(Ordering::SeqCst) {
                std::process::exit(137);
            }
        }
        match waitpid(None, None) {
            Ok(WaitStatus::Exited(pid, code)) if pid == main => break Ok(code),
            Ok(WaitStatus::Signaled(pid, sig, _)) if pid == main => break Err(sig),
            Ok(_) | Err(Errno::EINTR) => continue,
            Err(_) => break Ok(125),
        }
    };
    // The check is gone; whatever it left behind gets a moment, then is killed.
    let deadline = Instant::now() + LEFTOVER_GRACE;
    while !descendants().is_empty() && Instant::now() < deadline {
        reap();
        std::thread::sleep(Duration::from_millis(5));
    }
    sweep(&mut killed);
    write_report(report, &killed);
    match ended {
        Ok(code) => std::process::exit(code),
        Err(sig) => {
            // Die of the same signal, so the auditor sees how the check ended.
            // SAFETY: restoring the default action and raising are plain system calls.
            #[expect(unsafe_code, reason = "re-raising the child's fatal signal")]
            unsafe {
                nix::libc::signal(sig as i32, nix::libc::SIG_DFL);
                nix::libc::raise(sig as i32);
            }
            std::process::exit(128 + sig as i32);
        }
    }
}
