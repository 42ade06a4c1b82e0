//! The ranked summary printed after an audit, coloured only on a terminal.

use super::{AuditReport, TestStage};
use crate::checks::CheckOutcome;
use crate::finding::Severity;
use crate::policy::Status;

/// ANSI styling, or none.
#[derive(Debug, Clone, Copy)]
pub struct Style {
    color: bool,
}

/// What `--color` said, for the whole process (anstream's global choice).
pub fn set_color(when: crate::cli::ColorWhen) {
    use crate::cli::ColorWhen;
    let choice = match when {
        ColorWhen::Auto => anstream::ColorChoice::Auto,
        ColorWhen::Always => anstream::ColorChoice::Always,
        ColorWhen::Never => anstream::ColorChoice::Never,
    };
    choice.write_global();
}

/// `FORCE_COLOR` set to anything but `0` or nothing (the convention of Node.js and others;
/// anstream reads `CLICOLOR_FORCE`).
fn force_color() -> bool {
    std::env::var_os("FORCE_COLOR").is_some_and(|v| !v.is_empty() && v != "0")
}

impl Style {
    /// Colours for stdout (`stderr`: for stderr) as `--color` and the environment say:
    /// anstream's rules (`NO_COLOR`, `CLICOLOR_FORCE`, `CLICOLOR`, `TERM=dumb`, a terminal),
    /// and `FORCE_COLOR`.
    pub fn detect(stderr: bool) -> Style {
        let choice = if stderr {
            anstream::AutoStream::choice(&std::io::stderr())
        } else {
            anstream::AutoStream::choice(&std::io::stdout())
        };
        let color = match choice {
            anstream::ColorChoice::Never => {
                anstream::ColorChoice::global() == anstream::ColorChoice::Auto
                    && force_color()
                    && std::env::var_os("NO_COLOR").is_none_or(|v| v.is_empty())
            }
            _ => true,
        };
        Style { color }
    }

    /// Plain text.
    pub fn plain() -> Style {
        Style { color: false }
    }

    fn paint(&self, code: &str, text: &str) -> String {
        if self.color {
            format!("\x1b[{code}m{text}\x1b[0m")
        } else {
            text.to_string()
        }
    }

    /// Colours a severity label.
    pub fn severity(&self, s: Severity) -> String {
        let code = match s {
            Severity::Critical => "1;97;41",
            Severity::High => "1;31",
            Severity::Medium => "33",
            Severity::Low => "2",
        };
        self.paint(code, &format!("{:<8}", s.as_str()))
    }

    fn status(&self, s: Status) -> String {
        let code = match s {
            Status::Fail => "1;31",
            Status::Warn => "1;33",
            Status::Pass => "1;32",
        };
        self.paint(code, s.as_str())
    }

    /// Dim text.
    pub fn dim(&self, text: &str) -> String {
        self.paint("2", text)
    }
}

/// Renders the summary: verdict, ranked issues, checks, and where the outputs are.
pub fn render(r: &AuditReport, style: Style, report_path: Option<&std::path::Path>) -> String {
    let short = crate::bytes::short(&r.target);
    let mut out = String::new();
    let subject = r.commits.last().map(|c| c.summary.as_str()).unwrap_or("");
    let covered = if r.commits.len() > 1 {
        format!(" ({} commits)", r.commits.len())
    } else {
        String::new()
    };
    out.push_str(&format!(
        "auditor: {} {short} \"{subject}\"{covered}, security {}, {} issue{}\n",
        style.status(r.status),
        r.security_score,
        r.issues.len(),
        if r.issues.len() == 1 { "" } else { "s" }
    ));
    for i in &r.issues {
        let f = &i.finding;
        let place = match (&f.file, f.line) {
            (Some(file), Some(line)) => format!("  {file}:{line}"),
            (Some(file), None) => format!("  {file}"),
            _ => String::new(),
        };
        out.push_str(&format!(
            "  {} {:<9} {}{}\n",
            style.severity(f.severity),
            i.id,
            f.title,
            style.dim(&place)
        ));
    }
    let checks: Vec<String> = r
        .checks
        .iter()
        .map(|c| match c.outcome {
            CheckOutcome::Skipped => format!("{} skipped", c.name),
            o => format!(
                "{} {} ({:.1}s)",
                c.name,
                o.as_str(),
                c.duration_ms as f64 / 1000.0
            ),
        })
        .collect();
    out.push_str(&format!("checks: {}\n", checks.join(" · ")));
    if let TestStage::Skipped(why) = &r.test_stage {
        out.push_str(&format!("tests: {why}\n"));
    }
    if let Some(path) = report_path {
        let shown = path.strip_prefix(&r.repo_root).unwrap_or(path);
        out.push_str(&style.dim(&format!("report: {}\n", shown.display())));
    }
    out
}
