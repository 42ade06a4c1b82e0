//! `auditor gate`: the hook coding agents' hook systems call (the contract is in `gate/`).
//! Exit 0 when no open issue is at or above the threshold; exit 2 with a short ranked list on
//! stderr otherwise; exit 1 for the gate's own errors (a missing repository, an unreadable
//! ledger, a usage error), which Claude Code shows to the user without blocking the agent.
//! On SessionStart and UserPromptSubmit (Gemini CLI: BeforeAgent) it answers with the open
//! issues as additional context, in the JSON both read on stdout, and exits 0; after
//! a `git commit` (PostToolUse) and on a stop it judges HEAD's verdict, waiting for it while
//! `auditor watch` is still auditing HEAD.

use std::time::{Duration, Instant};

use super::common::{open_repo, runtime, settings_or_defaults};
use crate::cli::GateArgs;
use crate::config::Settings;
use crate::error::{Error, ExitCode};
use crate::eventlog::{Level, append_once};
use crate::finding::Severity;
use crate::gate::{self, Memory, Verdict};
use crate::ledger::{self, Entry, Ledger};
use crate::store::Layout;

/// The gate's own error: said on stderr, exit 1, never a block.
const OWN_ERROR: ExitCode = ExitCode::Findings;

/// How often the gate looks for HEAD's report while it waits.
const POLL: Duration = Duration::from_millis(10);

/// Runs the gate.
pub fn run(args: GateArgs) -> Result<ExitCode, Error> {
    let input = gate::read_hook_input();
    let threshold: Severity = match args.max_severity.parse() {
        Ok(t) => t,
        Err(message) => return Ok(own_error(&message)),
    };
    let repo = match open_repo(args.repo.as_deref()) {
        Ok(r) => r,
        Err(e) => return Ok(own_error(&e.to_string())),
    };
    let (settings, layout) = settings_or_defaults(&repo);
    let wait = match crate::config::parse_duration(&args.wait) {
        Ok(w) => w,
        Err(message) => return Ok(own_error(&format!("--wait: {message}"))),
    };
    // What is open is worth telling at the start of a session at once; a stop or a commit
    // is judged on HEAD's own verdict, once the daemon has it.
    if !matches!(
        input.event,
        gate::HookEvent::Context | gate::HookEvent::Tool
    ) {
        // After a commit, the fast lane's verdict (the built-in scanners, in milliseconds)
        // is the one to wait for; a stop waits for the full audit's.
        let fast_enough = input.event == gate::HookEvent::Committed;
        await_head(&repo, &settings, &layout, wait, fast_enough);
    }
    let ledger = match read_ledger(&layout) {
        Ok(l) => l,
        Err(message) => return Ok(own_error(&message)),
    };
    let uncommitted = crate::inbox::uncommitted::read(&layout).issues;
    let active = open_issues(&repo, &ledger, &uncommitted);
    let blocking: Vec<&Open> = active.iter().filter(|o| o.severity >= threshold).collect();
    let set: Vec<String> = blocking
        .iter()
        .map(|o| format!("{}:{}", o.id, o.severity.as_str()))
        .collect();
    let memory_path = layout.state_dir.join("gate.json");
    let memory: Memory = std::fs::read(&memory_path)
        .ok()
        .and_then(|b| serde_json::from_slice(&b).ok())
        .unwrap_or_default();
    let (verdict, kept) = gate::decide(&set, &input, &memory, settings.policy.gate_stop_blocks);
    if kept != memory {
        let text = serde_json::to_vec_pretty(&kept).unwrap_or_default();
        if let Err(e) = crate::store::write_atomic(&memory_path, &text) {
            crate::sink::warn(&format!("the gate could not remember its block: {e}"));
        }
    }
    let active: Vec<&Open> = active.iter().collect();
    match verdict {
        Verdict::Open => {
            if input.answer == gate::Answer::Followup {
                let _ = crate::sink::print("{}\n");
            }
            Ok(ExitCode::Clean)
        }
        Verdict::Context => {
            // The JSON answer both Claude Code and Gemini CLI read (Gemini reads nothing but
            // JSON on stdout); nothing open adds nothing. A closed stdout (the hook system
            // gone) leaves nothing to tell.
            let answer = if active.is_empty() {
                serde_json::json!({})
            } else {
                serde_json::json!({
                    "hookSpecificOutput": {
                        "hookEventName": input.name,
                        "additionalContext": context(&active, &layout),
                    }
                })
            };
            let _ = crate::sink::print(&format!("{answer}\n"));
            Ok(ExitCode::Clean)
        }
        Verdict::Block if input.answer == gate::Answer::Followup => {
            // Cursor sends the reason back as the agent's next message.
            let reason = block_text(&blocking, threshold, &layout);
            let answer = serde_json::json!({ "followup_message": reason });
            let _ = crate::sink::print(&format!("{answer}\n"));
            Ok(ExitCode::Clean)
        }
        Verdict::Block => {
            crate::sink::say_err(&block_text(&blocking, threshold, &layout));
            Ok(ExitCode::Usage)
        }
        Verdict::Release { repeats } => {
            release(&settings, &layout, &blocking, repeats);
            if input.answer == gate::Answer::Followup {
                let _ = crate::sink::print("{}\n");
            }
            Ok(ExitCode::Clean)
        }
    }
}

/// Waits, up to `wait` while `auditor watch` runs, until HEAD is audited (its report is
/// written, after the ledger), or with `fast_enough` until the fast lane has scanned it; says
/// on stderr when the verdict that follows is not HEAD's.
fn await_head(
    repo: &crate::git::Repo,
    settings: &Settings,
    layout: &Layout,
    wait: Duration,
    fast_enough: bool,
) {
    let Ok(head) = repo.head() else {
        return;
    };
    let head = head.to_string();
    let report = layout.report_path(&head);
    let judged = || {
        report.is_file()
            || fast_enough
                && crate::report::fast::FastVerdict::read(layout).is_some_and(|v| v.commit == head)
    };
    if judged() {
        return;
    }
    let short = &head[..head.len().min(7)];
    let health = crate::daemon::control::health(layout, settings.watch.stale_after);
    // Audits of HEAD failing in a row: waiting brings no verdict (an AUDIT_FAILED issue is
    // open in the ledger and blocks).
    let failing = health.status.as_ref().ok().and_then(|s| {
        s.audit_failure
            .as_ref()
            .filter(|f| f.commits.contains(&head))
    });
    if let Some(failure) = failing {
        crate::sink::say_err(&format!(
            "auditor: HEAD {short} could not be audited ({} attempts: {})\n",
            failure.attempts, failure.message
        ));
        return;
    }
    if health.healthy {
        let started = Instant::now();
        while started.elapsed() < wait {
            std::thread::sleep(POLL);
            if judged() {
                return;
            }
        }
        crate::sink::say_err(&format!(
            "auditor: HEAD {short} is not audited yet (auditor watch is still on it after {}); what follows is the last audit's verdict\n",
            crate::daemon::status::clock(wait)
        ));
    } else if layout.report_count() > 0 {
        crate::sink::say_err(&format!(
            "auditor: HEAD {short} has not been audited (no auditor watch runs here; `auditor audit` audits it); what follows is the last audit's verdict\n"
        ));
    }
}

fn own_error(message: &str) -> ExitCode {
    crate::sink::eprint(&format!("auditor gate: {message}\n"));
    OWN_ERROR
}

/// The ledger, recovered from its backup when it must be; an error when what is open cannot
/// be known.
fn read_ledger(layout: &Layout) -> Result<Ledger, String> {
    match ledger::read_checked(layout) {
        Ok((_, Some(lost @ ledger::Recovery::Lost { .. }))) => Err(format!(
            "the gate cannot tell what is open: {}",
            lost.message(layout)
        )),
        Ok((l, recovered)) => {
            if let Some(r) = recovered {
                crate::sink::warn(&r.message(layout));
            }
            Ok(l)
        }
        Err(message) => Err(format!("the gate cannot tell what is open: {message}")),
    }
}

/// An open issue as the gate lists it: the ledger's, or one of uncommitted changes.
struct Open<'a> {
    id: &'a str,
    severity: Severity,
    title: &'a str,
    /// Where it is: placed only when listed (following a line to HEAD reads a diff, and at
    /// most ten lines are listed).
    place: Place<'a>,
    /// The ledger's entry; none for an uncommitted change's issue.
    entry: Option<&'a Entry>,
}

/// Where an open issue is, still to be put as `file:line`.
enum Place<'a> {
    /// A ledger entry, to follow to HEAD.
    AtHead(&'a crate::git::Repo, Option<git2::Oid>, &'a Entry),
    /// In the working tree, as found.
    Found(Option<String>),
}

impl Place<'_> {
    fn text(&self) -> Option<String> {
        match self {
            Place::AtHead(repo, head, e) => crate::inbox::place_at(repo, *head, e),
            Place::Found(p) => p.clone(),
        }
    }
}

/// Every open issue, most severe first: the ledger's (placed at HEAD), then the working
/// tree's at each severity.
fn open_issues<'a>(
    repo: &'a crate::git::Repo,
    ledger: &'a Ledger,
    uncommitted: &'a [crate::inbox::uncommitted::UncommittedIssue],
) -> Vec<Open<'a>> {
    let head = repo.head().ok();
    let mut open: Vec<Open> = ledger
        .active()
        .into_iter()
        .map(|e| Open {
            id: &e.id,
            severity: e.severity,
            title: &e.title,
            place: Place::AtHead(repo, head, e),
            entry: Some(e),
        })
        .chain(uncommitted.iter().map(|u| Open {
            id: &u.id,
            severity: u.severity,
            title: &u.title,
            place: Place::Found(u.place()),
            entry: None,
        }))
        .collect();
    open.sort_by_key(|o| std::cmp::Reverse(o.severity));
    open
}

/// One line per issue: severity, ID, title, `file:line`.
fn issue_line(o: &Open) -> String {
    format!(
        "- [{}] {} {}{}{}\n",
        o.severity.as_str(),
        o.id,
        if o.entry.is_none() {
            "(uncommitted) "
        } else {
            ""
        },
        o.title,
        o.place
            .text()
            .map(|p| format!(" ({p})"))
            .unwrap_or_default()
    )
}

fn listed(entries: &[&Open]) -> String {
    let mut text: String = entries.iter().take(10).map(|o| issue_line(o)).collect();
    if entries.len() > 10 {
        text.push_str(&format!("- ... and {} more\n", entries.len() - 10));
    }
    text
}

fn block_text(blocking: &[&Open], threshold: Severity, layout: &Layout) -> String {
    format!(
        "auditor: {} open issue{} at or above {} must be fixed first (read {}):\n{}",
        blocking.len(),
        if blocking.len() == 1 { "" } else { "s" },
        threshold.as_str(),
        layout.inbox_dir.join("INBOX.md").display(),
        listed(blocking)
    )
}

/// What a session or a prompt starts with: every open issue, most severe first.
fn context(active: &[&Open], layout: &Layout) -> String {
    format!(
        "auditor: {} open issue{} in this repository, most severe first (details in {}):\n{}",
        active.len(),
        if active.len() == 1 { "" } else { "s" },
        layout.inbox_dir.join("INBOX.md").display(),
        listed(active)
    )
}

/// Lets a stop through that blocked `repeats` times on the same issues: says so on stderr,
/// logs a `gate_released` event and runs `on_escalate` for the most severe issue, so that
/// the operator decides, not a loop.
fn release(settings: &Settings, layout: &Layout, blocking: &[&Open], repeats: u32) {
    crate::sink::say_err(&format!(
        "auditor: the same {} issue{} blocked {repeats} stops in a row; letting this one through and telling the operator:\n{}",
        blocking.len(),
        if blocking.len() == 1 { "" } else { "s" },
        listed(blocking)
    ));
    let ids: Vec<&str> = blocking.iter().map(|o| o.id).collect();
    append_once(
        &layout.reports_dir,
        crate::daemon::event_limits(settings),
        "gate_released",
        Level::Warning,
        serde_json::json!({ "issues": ids, "blocks": repeats }),
    );
    // The hook's environment describes a ledger entry; an uncommitted change's issue is
    // in the event and the lines above.
    let Some(top) = blocking.iter().find_map(|o| o.entry) else {
        return;
    };
    let file = top.inbox_file.as_deref().map_or_else(
        || layout.inbox_dir.join("INBOX.md"),
        |f| layout.inbox_dir.join(f),
    );
    let due: Vec<_> = crate::inbox::hook_for(
        &settings.hooks.on_escalate,
        "gate-released",
        top,
        &file,
        layout,
    )
    .into_iter()
    .collect();
    if due.is_empty() {
        return;
    }
    match runtime() {
        Ok(rt) => {
            let runs = rt.block_on(crate::hooks::run_hooks(
                due,
                &layout.repo_root,
                &settings.hooks,
                &settings.runner,
            ));
            for run in runs.iter().filter(|r| r.outcome != Ok(0)) {
                crate::sink::warn(&format!("on_escalate for {}: {:?}", run.issue, run.outcome));
            }
        }
        Err(e) => crate::sink::warn(&format!("on_escalate could not run: {e}")),
    }
}
