//! Hooks: the commands `[hooks] on_critical` and `on_escalate` name, run with the issue in
//! their environment (to message the agent's tmux pane, notify a person, page someone).
//!
//! Syncing the inbox only says which hooks are due; they run after the audit is recorded (the
//! ledger saved, the commits marked audited), so that a kill during a hook neither audits the
//! commit again nor runs the hook twice. They run like checks: through the runner, each in its
//! own process group under a guard, niced, with a timeout, and ended with the auditor.

use std::path::Path;
use std::time::Duration;

use crate::runner::RunnerSettings;
use crate::runner::{Outcome, ProcessSpec, run_process};

/// Bytes of a hook's output kept (it is not shown; only how it ended is recorded).
const HOOK_OUTPUT_CAP: usize = 64 << 10;

/// The commands to run: `[hooks]`, resolved (empty: none).
#[derive(Debug, Clone)]
pub struct HookSettings {
    /// Run for each new CRITICAL issue.
    pub on_critical: Vec<String>,
    /// Run for each escalation.
    pub on_escalate: Vec<String>,
    /// How long a hook may run.
    pub timeout: Duration,
}

/// A hook an audit made due: which, for which issue, and its environment.
#[derive(Debug, Clone, PartialEq)]
pub struct DueHook {
    /// `critical` or `escalation`.
    pub event: &'static str,
    /// The issue it is for.
    pub issue: String,
    /// The command, program first.
    pub command: Vec<String>,
    /// The issue, as `AUDITOR_*` variables.
    pub env: Vec<(&'static str, String)>,
}

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

/// Runs due hooks one after another from `cwd`. Never fails the audit: each outcome says
/// what happened.
pub async fn run_hooks(
    due: Vec<DueHook>,
    cwd: &Path,
    hooks: &HookSettings,
    runner: &RunnerSettings,
) -> Vec<HookRun> {
    let mut out = Vec::with_capacity(due.len());
    for hook in due {
        let outcome = run_one(&hook, cwd, hooks.timeout, runner).await;
        out.push(HookRun {
            event: hook.event,
            issue: hook.issue,
            outcome,
        });
    }
    out
}

async fn run_one(
    hook: &DueHook,
    cwd: &Path,
    timeout: Duration,
    runner: &RunnerSettings,
) -> Result<i32, String> {
    let Some((program, args)) = hook.command.split_first() else {
        return Err("empty command".into());
    };
    let spec = ProcessSpec {
        program: program.into(),
        args: args.iter().map(Into::into).collect(),
        cwd: cwd.to_path_buf(),
        // A hook's environment is an output too: through the redaction choke point.
        env: hook
            .env
            .iter()
            .map(|(k, v)| {
                (
                    (*k).to_string(),
                    crate::secrets::clean(v).into_owned().into(),
                )
            })
            .collect(),
        nice: runner.nice,
        timeout,
        grace: runner.grace,
        output_cap: HOOK_OUTPUT_CAP,
    };
    match run_process(&spec).await.outcome {
        Outcome::Exited(code) => Ok(code),
        Outcome::Signaled(sig) => Err(format!("killed by signal {sig}")),
        Outcome::TimedOut => Err(format!("timed out after {}s", timeout.as_secs())),
        Outcome::NotFound => Err(format!("cannot run {program}: not found")),
        Outcome::SpawnFailed(why) => Err(format!("cannot run {program}: {why}")),
    }
}
