//! The guard: the first process of every check's process group, so that the whole group dies
//! with the auditor, even when the auditor is SIGKILLed.
//!
//! `PR_SET_PDEATHSIG` only reaches a direct child; a test runner's own children would be
//! orphaned and keep running. So the auditor runs `auditor __guard -- PROGRAM ARGS...`: the
//! guard leads the group, runs the check as its child, and gets SIGTERM when the auditor dies
//! (its parent-death signal). A SIGTERM that arrives while its parent is still the auditor is
//! the auditor's own TERM-then-grace to the group, and is left to the check; one that arrives
//! after the parent changed means the auditor is gone, and the guard SIGKILLs the group.

use std::ffi::OsString;
use std::process::Command;
use std::sync::atomic::{AtomicI32, Ordering};

/// The hidden first argument that turns the binary into a guard.
pub const GUARD_ARG: &str = "__guard";
/// The environment variable carrying the auditor's pid to the guard.
pub const PARENT_ENV: &str = "AUDITOR_GUARD_PARENT";

static PARENT: AtomicI32 = AtomicI32::new(0);

extern "C" fn on_term(_: nix::libc::c_int) {
    // Only async-signal-safe calls here: getppid and kill.
    let parent = PARENT.load(Ordering::SeqCst);
    // SAFETY: getppid and kill are async-signal-safe system calls.
    #[expect(unsafe_code, reason = "system calls inside a signal handler")]
    unsafe {
        if nix::libc::getppid() != parent {
            nix::libc::kill(0, nix::libc::SIGKILL);
        }
    }
}

/// Runs the guard: `args` are what follows `__guard --`. Never returns.
pub fn guard_main(args: Vec<OsString>) -> ! {
    use nix::sys::signal::{SaFlags, SigAction, SigHandler, SigSet, Signal, sigaction};
    let parent: i32 = std::env::var(PARENT_ENV)
        .ok()
        .and_then(|p| p.parse().ok())
        .unwrap_or(0);
    PARENT.store(parent, Ordering::SeqCst);
    let action = SigAction::new(
        SigHandler::Handler(on_term),
        SaFlags::SA_RESTART,
        SigSet::empty(),
    );
    // SAFETY: the handler only performs async-signal-safe system calls.
    #[expect(unsafe_code, reason = "installing a signal handler")]
    let installed = unsafe { sigaction(Signal::SIGTERM, &action) };
    if installed.is_err() || nix::unistd::getppid().as_raw() != parent {
        // The auditor died before we were ready: run nothing.
        std::process::exit(125);
    }
    let Some((program, rest)) = args.split_first() else {
        eprintln!("auditor: guard: no command");
        std::process::exit(125);
    };
    let status = Command::new(program)
        .args(rest)
        .env_remove(PARENT_ENV)
        .status();
    match status {
        Ok(status) => {
            use std::os::unix::process::ExitStatusExt;
            if let Some(code) = status.code() {
                std::process::exit(code);
            }
            // Die of the same signal, so the auditor sees how the check ended.
            let sig = status.signal().unwrap_or(nix::libc::SIGKILL);
            // SAFETY: restoring the default action and raising are plain system calls.
            #[expect(unsafe_code, reason = "re-raising the child's fatal signal")]
            unsafe {
                nix::libc::signal(sig, nix::libc::SIG_DFL);
                nix::libc::raise(sig);
            }
            std::process::exit(128 + sig);
        }
        Err(e) => {
            eprintln!(
                "auditor: guard: cannot run {}: {e}",
                program.to_string_lossy()
            );
            std::process::exit(126);
        }
    }
}
