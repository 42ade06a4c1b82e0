//! `auditor report --html`: the page for the person, from the ledger and the reports.

use super::common::{open_repo, say, settings_or_defaults, user_path, write_requested};
use crate::cli::ReportArgs;
use crate::error::{Error, ExitCode};
use crate::report::html::{PageInput, render};

/// Writes the page.
pub fn run(args: ReportArgs) -> Result<ExitCode, Error> {
    let repo = open_repo(args.repo.as_deref())?;
    let (_, layout) = settings_or_defaults(&repo);
    let ledger = crate::ledger::read_only(&layout);
    let target = args
        .output
        .clone()
        .unwrap_or_else(|| layout.reports_dir.join("index.html"));
    let to_stdout = target == std::path::Path::new("-");
    let file = user_path(&target);
    // Links to the inbox run from where the page is; on stdout, from the current folder.
    let page_dir = if to_stdout {
        user_path(std::path::Path::new("."))
    } else {
        file.parent()
            .map_or(file.clone(), std::path::Path::to_path_buf)
    };
    let input = PageInput::gather(&layout, &ledger, &page_dir);
    if !to_stdout {
        std::fs::create_dir_all(&page_dir)
            .map_err(|e| Error::Internal(format!("create {}: {e}", page_dir.display())))?;
    }
    write_requested(&target, &render(&input))?;
    if !to_stdout {
        say(&format!(
            "wrote {} ({} audits, {} open issues)\n",
            file.display(),
            input.points.len(),
            input.open.len()
        ))?;
    }
    Ok(ExitCode::Clean)
}
