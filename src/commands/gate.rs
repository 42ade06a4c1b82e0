//! `auditor gate`: the contract of coding agents' hook systems. Exit 0 when no open issue is
//! at or above the threshold; exit 2 with a short ranked list on stderr otherwise (a Claude
//! Code hook that exits 2 blocks the action and shows stderr to the model).

use super::common::{open_repo, settings_or_defaults};
use crate::cli::GateArgs;
use crate::error::{Error, ExitCode};
use crate::finding::Severity;
use crate::ledger;

/// Runs the gate.
pub fn run(args: GateArgs) -> Result<ExitCode, Error> {
    let threshold: Severity = args.max_severity.parse().map_err(Error::Usage)?;
    let repo = open_repo(args.repo.as_deref())?;
    let (_, layout) = settings_or_defaults(&repo);
    // A ledger that cannot be read must not open the gate.
    let ledger = match ledger::read_checked(&layout) {
        Ok((_, Some(lost @ ledger::Recovery::Lost { .. }))) => {
            crate::sink::eprint(&format!(
                "auditor: the gate cannot tell what is open: {}\n",
                lost.message(&layout)
            ));
            return Ok(ExitCode::Usage);
        }
        Ok((l, recovered)) => {
            if let Some(r) = recovered {
                crate::sink::warn(&r.message(&layout));
            }
            l
        }
        Err(message) => {
            crate::sink::eprint(&format!(
                "auditor: the gate cannot tell what is open: {message}\n"
            ));
            return Ok(ExitCode::Usage);
        }
    };
    let blocking: Vec<&ledger::Entry> = ledger
        .active()
        .into_iter()
        .filter(|e| e.severity >= threshold)
        .collect();
    if blocking.is_empty() {
        return Ok(ExitCode::Clean);
    }
    let mut text = format!(
        "auditor: {} open issue{} at or above {} must be fixed first (read {}):\n",
        blocking.len(),
        if blocking.len() == 1 { "" } else { "s" },
        threshold.as_str(),
        layout.inbox_dir.join("INBOX.md").display()
    );
    for e in blocking.iter().take(10) {
        text.push_str(&format!(
            "- [{}] {} {}{}\n",
            e.severity.as_str(),
            e.id,
            e.title,
            e.file
                .as_deref()
                .map(|f| format!(" ({f})"))
                .unwrap_or_default()
        ));
    }
    if blocking.len() > 10 {
        text.push_str(&format!("- ... and {} more\n", blocking.len() - 10));
    }
    crate::sink::eprint(&text);
    Ok(ExitCode::Usage)
}
