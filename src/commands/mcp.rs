//! `auditor mcp`: the MCP server on stdin/stdout (see `mcp`), until the client closes it.

use super::common::{open_repo, runtime};
use crate::cli::PlainRepoArgs;
use crate::error::{Error, ExitCode};

/// Runs the server.
pub fn run(args: PlainRepoArgs) -> Result<ExitCode, Error> {
    let repo = open_repo(args.repo.as_deref())?;
    runtime()?
        .block_on(crate::mcp::serve(repo.root.clone()))
        .map_err(|e| Error::Internal(format!("the MCP server stopped: {e}")))?;
    Ok(ExitCode::Clean)
}
