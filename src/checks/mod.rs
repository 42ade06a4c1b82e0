//! Configured checks (linters, test commands): which files each runs on, running it as a
//! supervised process, and turning its outcome and output into findings.

mod environment;
mod interpret;
mod reports;
mod select;

pub use environment::{Blocker, imports, is_dependency_manifest};
pub use interpret::{CheckOutcome, CheckRun, interpret};
pub use select::{expand_command, select_files};

use std::sync::Arc;

use crate::config::CheckSpec;
use crate::runner::RunnerSettings;
use crate::runner::{ProcessSpec, run_process};

/// What every check of one audit shares.
#[derive(Debug, Clone)]
pub struct CheckEnv {
    /// Where checks run (the snapshot, or the live tree).
    pub workspace: std::path::PathBuf,
    /// The audited commit.
    pub commit: String,
    /// Changed files that exist at the commit, repo-relative, exactly as git stores them.
    pub changed_files: Vec<std::path::PathBuf>,
    /// The audited repository's root.
    pub repo_root: std::path::PathBuf,
}

/// Runs one check with its selected files and interprets the result.
pub async fn run_check(
    spec: &CheckSpec,
    files: &[std::path::PathBuf],
    env: &CheckEnv,
    runner: &RunnerSettings,
) -> CheckRun {
    let argv = expand_command(&spec.command, files);
    if let Some(pattern) = &spec.junit {
        // A report left by an earlier run must never be read as this run's.
        for stale in reports::report_files(&env.workspace, pattern) {
            let _ = std::fs::remove_file(stale);
        }
    }
    let changed = {
        use std::os::unix::ffi::{OsStrExt, OsStringExt};
        let bytes: Vec<&[u8]> = env
            .changed_files
            .iter()
            .map(|f| f.as_os_str().as_bytes())
            .collect();
        std::ffi::OsString::from_vec(bytes.join(&b'\n'))
    };
    let process = ProcessSpec {
        program: argv[0].clone(),
        args: argv[1..].to_vec(),
        cwd: env.workspace.clone(),
        env: vec![
            ("AUDITOR_COMMIT".into(), env.commit.clone().into()),
            ("AUDITOR_CHANGED_FILES".into(), changed),
            ("AUDITOR_SNAPSHOT".into(), env.workspace.clone().into()),
            ("AUDITOR_REPO".into(), env.repo_root.clone().into()),
            ("AUDITOR_CHECK".into(), spec.name.clone().into()),
        ],
        nice: runner.nice,
        timeout: spec.timeout,
        grace: runner.grace,
        output_cap: runner.output_cap,
    };
    let result = run_process(&process).await;
    let junit = spec.junit.as_ref().and_then(|pattern| {
        reports::read_reports(&reports::report_files(&env.workspace, pattern), 64 << 20)
    });
    let mut run = interpret(spec, &result, junit.as_deref(), &env.workspace);
    run.files = files.len();
    run
}

/// Told when a check starts (`None`) and when it ends (`Some(run)`).
pub type CheckObserver = Arc<dyn Fn(&CheckSpec, Option<&CheckRun>) + Send + Sync>;

/// Runs checks with at most `jobs` at once, returning their runs in input order.
pub async fn run_checks(
    planned: Vec<(CheckSpec, Vec<std::path::PathBuf>)>,
    env: &CheckEnv,
    runner: &RunnerSettings,
    observer: &CheckObserver,
) -> Vec<CheckRun> {
    let semaphore = Arc::new(tokio::sync::Semaphore::new(runner.jobs.max(1)));
    let mut set = tokio::task::JoinSet::new();
    let count = planned.len();
    for (index, (spec, files)) in planned.into_iter().enumerate() {
        let (env, runner, semaphore, observer) = (
            env.clone(),
            runner.clone(),
            semaphore.clone(),
            observer.clone(),
        );
        set.spawn(async move {
            let _permit = semaphore.acquire_owned().await;
            tracing::info!(check = %spec.name, files = files.len(), "check started");
            observer(&spec, None);
            let run = run_check(&spec, &files, &env, &runner).await;
            tracing::info!(check = %spec.name, outcome = run.outcome.as_str(), ms = run.duration_ms, "check finished");
            observer(&spec, Some(&run));
            (index, run)
        });
    }
    let mut runs: Vec<Option<CheckRun>> = (0..count).map(|_| None).collect();
    while let Some(joined) = set.join_next().await {
        if let Ok((index, run)) = joined {
            runs[index] = Some(run);
        }
    }
    runs.into_iter().flatten().collect()
}
