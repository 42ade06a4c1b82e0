//! The MCP server: the tools and resources of `queries`, over rmcp's stdio transport. Every
//! answer is read fresh from the files (a new repository handle and the settings per call),
//! and every text passes the secret masker on its way out: the agent is a sink like any other.

use std::path::PathBuf;
use std::time::Duration;

use rmcp::handler::server::router::tool::ToolRouter;
use rmcp::handler::server::wrapper::Parameters;
use rmcp::model::{
    CallToolResult, ContentBlock, Implementation, ListResourcesResult, PaginatedRequestParams,
    ReadResourceRequestParams, ReadResourceResponse, ReadResourceResult, Resource,
    ResourceContents, ServerCapabilities, ServerConfig,
};
use rmcp::service::RequestContext;
use rmcp::{ErrorData, RoleServer, ServerHandler, schemars, tool, tool_handler, tool_router};
use serde::Deserialize;

use super::queries::{self, Context};

/// The inbox's index as a resource.
pub const INBOX_URI: &str = "auditor://inbox";
/// The latest report as a resource.
pub const REPORT_URI: &str = "auditor://report/latest";

/// `list_issues`' arguments.
#[derive(Debug, Deserialize, schemars::JsonSchema)]
pub struct ListIssues {
    /// Only issues at or above this severity: LOW (the default), MEDIUM, HIGH or CRITICAL.
    pub min_severity: Option<String>,
}

/// `show_issue`'s arguments.
#[derive(Debug, Deserialize, schemars::JsonSchema)]
pub struct ShowIssue {
    /// The issue's ID, as listed (`SEC-001`, `UNC-SEC-001` for an uncommitted change's).
    pub id: String,
}

/// `wait_for_verdict`'s arguments.
#[derive(Debug, Deserialize, schemars::JsonSchema)]
pub struct WaitForVerdict {
    /// The commit (any revision); HEAD when absent.
    pub commit: Option<String>,
    /// How long to wait for its audit, in seconds (default 60, at most 300).
    pub timeout_seconds: Option<u64>,
}

/// `explain_rule`'s arguments.
#[derive(Debug, Deserialize, schemars::JsonSchema)]
pub struct ExplainRule {
    /// A guard's rule (`TEST_DISABLED`), a secret rule's ID (`github-pat`) or an issue type.
    pub rule: String,
}

/// The server: the repository it answers for.
#[derive(Clone)]
pub struct Auditor {
    root: PathBuf,
    tool_router: ToolRouter<Self>,
}

/// A tool's answer: its JSON, masked; or what went wrong, as a tool error the agent reads.
fn answer(result: Result<serde_json::Value, String>) -> CallToolResult {
    match result {
        Ok(v) => {
            let text = serde_json::to_string_pretty(&v).unwrap_or_default();
            CallToolResult::success(vec![ContentBlock::text(
                crate::secrets::clean(&text).into_owned(),
            )])
        }
        Err(message) => CallToolResult::error(vec![ContentBlock::text(
            crate::secrets::clean(&message).into_owned(),
        )]),
    }
}

impl Auditor {
    fn context(&self) -> Result<Context, String> {
        let repo = crate::git::Repo::open(&self.root).map_err(|e| e.to_string())?;
        // The operator's settings; broken ones must not leave the agent without answers.
        let settings = crate::config::load(&repo.root, None, Vec::new)
            .unwrap_or_else(|_| crate::config::embedded_defaults());
        let layout = settings.layout(&repo.root);
        Ok(Context {
            repo,
            settings,
            layout,
        })
    }
}

#[tool_router]
impl Auditor {
    /// A server for the repository at `root`.
    pub fn new(root: PathBuf) -> Auditor {
        Auditor {
            root,
            tool_router: Self::tool_router(),
        }
    }

    #[tool(
        description = "The auditor's state: whether `auditor watch` runs and what it is doing, whether HEAD is audited, the last verdict, and the open issues by severity."
    )]
    async fn status(&self) -> CallToolResult {
        answer(self.context().and_then(|c| queries::status(&c)))
    }

    #[tool(
        description = "The open issues, most severe first, each with file:line at HEAD, severity, status and how long it has been open; issues of uncommitted changes are marked `uncommitted`. Fix CRITICAL and HIGH ones before new work."
    )]
    async fn list_issues(&self, Parameters(args): Parameters<ListIssues>) -> CallToolResult {
        answer(
            self.context()
                .and_then(|c| queries::list_issues(&c, args.min_severity.as_deref())),
        )
    }

    #[tool(
        description = "One issue by ID: where it is, its life in the ledger, and its feedback file (what is wrong and how to fix it)."
    )]
    async fn show_issue(&self, Parameters(args): Parameters<ShowIssue>) -> CallToolResult {
        answer(
            self.context()
                .and_then(|c| queries::show_issue(&c, &args.id)),
        )
    }

    #[tool(
        description = "Waits until a commit (HEAD by default) is audited, then gives its verdict: status, issues, what it resolved. At the bound, what is known so far (the fast lane's scan of the commit) and that the audit is still running."
    )]
    async fn wait_for_verdict(
        &self,
        Parameters(args): Parameters<WaitForVerdict>,
    ) -> CallToolResult {
        let ctx = match self.context() {
            Ok(c) => c,
            Err(e) => return answer(Err(e)),
        };
        let timeout = Duration::from_secs(args.timeout_seconds.unwrap_or(60));
        answer(queries::wait_for_verdict(ctx, args.commit, timeout).await)
    }

    #[tool(
        description = "What a rule finds, its default severity, how to fix its issues, and how often it fired and was fixed in this repository."
    )]
    async fn explain_rule(&self, Parameters(args): Parameters<ExplainRule>) -> CallToolResult {
        answer(
            self.context()
                .and_then(|c| queries::explain_rule(&c, &args.rule)),
        )
    }
}

#[tool_handler(router = self.tool_router)]
impl ServerHandler for Auditor {
    fn get_info(&self) -> ServerConfig {
        ServerConfig::new(
            ServerCapabilities::builder()
                .enable_tools()
                .enable_resources()
                .build(),
        )
        .with_server_info(Implementation::new("auditor", env!("CARGO_PKG_VERSION")))
        .with_instructions(
            "The auditor audits every commit of this repository. Read-only: call list_issues before new work and fix CRITICAL and HIGH issues first; after a commit, wait_for_verdict gives its verdict. Nothing here acknowledges or silences an issue: only fixing it does.",
        )
    }

    async fn list_resources(
        &self,
        _request: Option<PaginatedRequestParams>,
        _context: RequestContext<RoleServer>,
    ) -> Result<ListResourcesResult, ErrorData> {
        let mut resources = vec![
            Resource::new(INBOX_URI, "INBOX.md")
                .with_title("The supervisor's inbox: every open issue, ranked")
                .with_mime_type("text/markdown"),
        ];
        // Listed once there is one to read.
        let ctx = self
            .context()
            .map_err(|e| ErrorData::internal_error(e, None))?;
        if queries::latest_report(&ctx).is_some() {
            resources.push(
                Resource::new(REPORT_URI, "latest report")
                    .with_title("The JSON report of the latest audit")
                    .with_mime_type("application/json"),
            );
        }
        Ok(ListResourcesResult::with_all_items(resources))
    }

    async fn read_resource(
        &self,
        request: ReadResourceRequestParams,
        _context: RequestContext<RoleServer>,
    ) -> Result<ReadResourceResponse, ErrorData> {
        let ctx = self
            .context()
            .map_err(|e| ErrorData::internal_error(e, None))?;
        let text = match request.uri.as_str() {
            INBOX_URI => queries::inbox(&ctx),
            REPORT_URI => queries::latest_report(&ctx).ok_or_else(|| {
                ErrorData::resource_not_found("no audit has written a report yet", None)
            })?,
            uri => {
                return Err(ErrorData::resource_not_found(
                    format!("no resource at {uri}"),
                    None,
                ));
            }
        };
        let text = crate::secrets::clean(&text).into_owned();
        Ok(ReadResourceResult::new(vec![ResourceContents::text(text, request.uri)]).into())
    }
}

/// Serves MCP on stdin/stdout until the client closes it.
pub async fn serve(root: PathBuf) -> Result<(), String> {
    use rmcp::ServiceExt;
    let running = Auditor::new(root)
        .serve(rmcp::transport::stdio())
        .await
        .map_err(|e| e.to_string())?;
    running.waiting().await.map_err(|e| e.to_string())?;
    Ok(())
}
