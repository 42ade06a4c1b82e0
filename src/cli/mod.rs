//! The command line: every subcommand and flag, parsed by clap.

use std::path::PathBuf;

use clap::{Args, Parser, Subcommand};

/// What `--help` ends with: the exit codes and a few examples.
const HELP_AFTER: &str = "\
Exit codes:
  0    nothing at or above policy.fail_on (default HIGH)
  1    an issue at or above policy.fail_on (status: no healthy daemon; gate: its own error)
  2    usage or configuration error (gate: open issues at or above --max-severity)
  3    internal error

Examples:
  auditor init && auditor audit            audit HEAD with the checks init found
  auditor audit main..HEAD --sarif -       audit a branch's commits, SARIF on stdout
  auditor scan --history                   every commit of every ref, for secrets and shortcuts
  auditor watch                            the daemon, beside the agent
  auditor gate --max-severity HIGH         for agents' hooks: exit 2 while HIGH issues are open";

/// `auditor gate --help`'s exit codes: the hook systems' contract.
const GATE_AFTER: &str = "\
Exit codes (agents' hook contract):
  0    nothing open at or above --max-severity (or a Stop hook let through after repeated blocks)
  2    open issues at or above --max-severity: blocks, and the list on stderr reaches the model
  1    the gate's own error (bad flag, no repository, unreadable ledger): shown, never a block

Examples:
  auditor gate                             in a Stop or PostToolUse hook (reads its JSON on stdin)
  auditor gate --max-severity CRITICAL     block on CRITICAL issues only";

/// Audits every commit an autonomous coding agent makes.
#[derive(Debug, Parser)]
#[command(name = "auditor", version, about, long_about = None, after_help = HELP_AFTER)]
pub struct Cli {
    /// The subcommand.
    #[command(subcommand)]
    pub command: Command,
    /// More log output on stderr (-v info, -vv debug). `AUDITOR_LOG` takes a full filter.
    #[arg(short, long, global = true, action = clap::ArgAction::Count)]
    pub verbose: u8,
    /// Print nothing but errors and the machine output asked for (--json, --sarif -, a hook's
    /// answer); the exit code says the rest. `watch`: no live view, no log lines.
    #[arg(short, long, global = true, conflicts_with = "verbose")]
    pub quiet: bool,
    /// Colours: on a terminal (auto: not with NO_COLOR or TERM=dumb; CLICOLOR_FORCE or
    /// FORCE_COLOR force them), always, or never.
    #[arg(long, global = true, value_enum, default_value_t = ColorWhen::Auto, value_name = "WHEN")]
    pub color: ColorWhen,
}

/// When to colour.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum ColorWhen {
    /// On a terminal, as the environment allows.
    Auto,
    /// Always.
    Always,
    /// Never.
    Never,
}

/// The subcommands.
#[derive(Debug, Subcommand)]
pub enum Command {
    /// Audit a commit (default HEAD) or a range A..B: scanners, linters, tests; write the
    /// report and the inbox.
    Audit(AuditArgs),
    /// Run only the built-in scanners (no linters, no tests) over the tree, the whole history,
    /// a commit or a range. Writes nothing into the repository.
    Scan(ScanArgs),
    /// Accept the secrets the repository holds today: write their fingerprints (never their
    /// values) to the baseline file, so that audits and scans report only new ones.
    Baseline(BaselineArgs),
    /// Write a commented auditor.toml for this repository and exclude the auditor's folders
    /// from git status.
    Init(InitArgs),
    /// Watch the repository and audit every commit (the daemon; runs in the foreground, e.g.
    /// in a tmux pane beside the agent).
    Watch(WatchArgs),
    /// Show the daemon's state, the audit under way, the last verdict and its health
    /// (exit 0 when a healthy daemon runs, 1 when not).
    Status(StatusArgs),
    /// For cron, every minute: start the daemon when none runs, replace a hung one, and stay
    /// silent when a healthy one runs.
    Watchdog(WatchdogArgs),
    /// Stop the running daemon (SIGTERM; it ends its checks and saves its state).
    Stop(PlainRepoArgs),
    /// End a wait for a fix: WAIT_FOR_FIX → IDLE.
    Reset(PlainRepoArgs),
    /// For agents' hooks: exit 0 when no open issue is at or above the threshold, exit 2 with a
    /// ranked list on stderr otherwise.
    #[command(after_help = GATE_AFTER)]
    Gate(GateArgs),
    /// List the open issues (`show ID` for one, `ack ID --reason` to accept one).
    Inbox(InboxArgs),
    /// Write the page for the person: the audits over time, what is open, with inline
    /// charts, self-contained (the daemon keeps logs/audit/index.html current).
    Report(ReportArgs),
    /// Serve the Model Context Protocol on stdin/stdout for agents: the open issues, a
    /// commit's verdict, the rules (read-only).
    Mcp(PlainRepoArgs),
    /// Print a shell completion script.
    Completions {
        /// The shell.
        shell: clap_complete::Shell,
    },
}

/// Where the repository is and which config to use.
#[derive(Debug, Clone, Args)]
pub struct RepoArgs {
    /// The repository to audit (default: the current directory).
    #[arg(long, value_name = "PATH")]
    pub repo: Option<PathBuf>,
    /// A config file laid over the repository's auditor.toml.
    #[arg(long, value_name = "FILE")]
    pub config: Option<PathBuf>,
}

/// Only the repository.
#[derive(Debug, Args)]
pub struct PlainRepoArgs {
    /// The repository (default: the current directory).
    #[arg(long, value_name = "PATH")]
    pub repo: Option<PathBuf>,
}

/// `auditor watch`.
#[derive(Debug, Args)]
pub struct WatchArgs {
    /// Repository and config.
    #[command(flatten)]
    pub repo: RepoArgs,
    /// Poll only; set up no file watchers (network filesystems, exhausted inotify limits).
    #[arg(long)]
    pub poll: bool,
}

/// `auditor status`.
#[derive(Debug, Args)]
pub struct StatusArgs {
    /// The repository (default: the current directory).
    #[arg(long, value_name = "PATH")]
    pub repo: Option<PathBuf>,
    /// Print the status as JSON.
    #[arg(long, conflicts_with = "short")]
    pub json: bool,
    /// Print one short line (for a tmux status bar).
    #[arg(long)]
    pub short: bool,
}

/// `auditor watchdog`.
#[derive(Debug, Args)]
pub struct WatchdogArgs {
    /// Repository and config (passed on to the daemon it starts).
    #[command(flatten)]
    pub repo: RepoArgs,
    /// Start the daemon in a window of this tmux session instead of detached.
    #[arg(long, value_name = "NAME")]
    pub tmux_session: Option<String>,
}

/// `auditor gate`.
#[derive(Debug, Args)]
pub struct GateArgs {
    /// The repository (default: the current directory).
    #[arg(long, value_name = "PATH")]
    pub repo: Option<PathBuf>,
    /// Block on open issues at or above this severity.
    #[arg(
        long,
        value_name = "SEVERITY",
        default_value = "HIGH",
        ignore_case = true,
        value_parser = ["LOW", "MEDIUM", "HIGH", "CRITICAL"]
    )]
    pub max_severity: String,
    /// How long to wait for HEAD's verdict while `auditor watch` is still auditing it (keep
    /// it under the hook's timeout).
    #[arg(long, value_name = "DURATION", default_value = "8s")]
    pub wait: String,
}

/// `auditor report`.
#[derive(Debug, Args)]
pub struct ReportArgs {
    /// The repository (default: the current directory).
    #[arg(long, value_name = "PATH")]
    pub repo: Option<PathBuf>,
    /// Write the HTML page (the one format so far; required, so that another can come).
    #[arg(long, required = true)]
    pub html: bool,
    /// Where: a file, or - for stdout (default: logs/audit/index.html).
    #[arg(long, short, value_name = "FILE")]
    pub output: Option<PathBuf>,
}

/// `auditor inbox`.
#[derive(Debug, Args)]
pub struct InboxArgs {
    /// The repository (default: the current directory).
    #[arg(long, value_name = "PATH", global = true)]
    pub repo: Option<PathBuf>,
    /// Print as JSON.
    #[arg(long, global = true)]
    pub json: bool,
    /// What to do (default: list the open issues).
    #[command(subcommand)]
    pub action: Option<InboxAction>,
}

/// `auditor inbox` subcommands.
#[derive(Debug, Subcommand)]
pub enum InboxAction {
    /// Show one issue: its ledger record and its feedback file.
    Show {
        /// The ID (`SEC-001`).
        id: String,
    },
    /// Accept an issue: it leaves the inbox and the gate; every later report lists it.
    Ack {
        /// The ID (`SEC-001`).
        id: String,
        /// Why it is accepted (recorded in the ledger).
        #[arg(long)]
        reason: String,
    },
}

/// `auditor audit`.
#[derive(Debug, Args)]
pub struct AuditArgs {
    /// A commit (default HEAD) or a range `A..B` (every commit in it, oldest first).
    #[arg(value_name = "REV | A..B", default_value = "HEAD")]
    pub rev: String,
    /// Repository and config.
    #[command(flatten)]
    pub repo: RepoArgs,
    /// Skip the test stage.
    #[arg(long)]
    pub no_tests: bool,
    /// Print the JSON report on stdout instead of the summary.
    #[arg(long)]
    pub json: bool,
    /// Also write the issues as SARIF 2.1.0 to FILE.
    #[arg(long, value_name = "FILE")]
    pub sarif: Option<PathBuf>,
}

/// `auditor scan`.
#[derive(Debug, Args)]
pub struct ScanArgs {
    /// Scan every file at HEAD.
    #[arg(long, conflicts_with_all = ["history", "rev"])]
    pub tree: bool,
    /// Scan every commit reachable from any ref.
    #[arg(long, conflicts_with = "rev")]
    pub history: bool,
    /// A commit or a range `A..B` (default HEAD).
    #[arg(value_name = "REV | A..B")]
    pub rev: Option<String>,
    /// Repository and config.
    #[command(flatten)]
    pub repo: RepoArgs,
    /// Print the findings as JSON.
    #[arg(long)]
    pub json: bool,
    /// Also write the findings as SARIF 2.1.0 to FILE.
    #[arg(long, value_name = "FILE")]
    pub sarif: Option<PathBuf>,
}

/// `auditor baseline`.
#[derive(Debug, Args)]
pub struct BaselineArgs {
    /// Only the files at HEAD (default: every commit reachable from any ref).
    #[arg(long)]
    pub tree: bool,
    /// Where to write (default: `[secrets] baseline`, `auditor-baseline.json`).
    #[arg(long, value_name = "FILE")]
    pub output: Option<PathBuf>,
    /// Repository and config.
    #[command(flatten)]
    pub repo: RepoArgs,
}

/// `auditor init`.
#[derive(Debug, Args)]
pub struct InitArgs {
    /// The repository (default: the current directory).
    #[arg(long, value_name = "PATH")]
    pub repo: Option<PathBuf>,
    /// Overwrite an existing auditor.toml.
    #[arg(long)]
    pub force: bool,
}
