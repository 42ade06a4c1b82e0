#!/usr/bin/env python3
"""A real MCP client (the `mcp` package from PyPI) against `auditor mcp`, for the integration
tests: initialize, tools/list, one call of each tool, resources/list and resources/read.
Prints one JSON object with what the server answered.

usage: tests/mcp/client.py AUDITOR REPO ISSUE_ID
"""
import asyncio
import json
import sys

from mcp import ClientSession
from mcp.client.stdio import StdioServerParameters, stdio_client


def text_of(result):
    return "".join(getattr(c, "text", "") for c in result.content)


async def main(auditor, repo, issue_id):
    params = StdioServerParameters(command=auditor, args=["mcp", "--repo", repo])
    out = {}
    async with stdio_client(params) as (read, write):
        async with ClientSession(read, write) as session:
            init = await session.initialize()
            out["server"] = {"name": init.server_info.name, "version": init.server_info.version,
                             "instructions": init.instructions}
            tools = await session.list_tools()
            out["tools"] = {t.name: {"description": t.description, "schema": t.input_schema}
                            for t in tools.tools}
            calls = {
                "status": {},
                "list_issues": {"min_severity": "HIGH"},
                "show_issue": {"id": issue_id},
                "wait_for_verdict": {"timeout_seconds": 5},
                "explain_rule": {"rule": "TEST_DISABLED"},
                "explain_secret_rule": ("explain_rule", {"rule": "aws-access-key-id"}),
                "show_unknown": ("show_issue", {"id": "SEC-999"}),
            }
            out["calls"] = {}
            for label, call in calls.items():
                name, args = call if isinstance(call, tuple) else (label, call)
                result = await session.call_tool(name, args)
                text = text_of(result)
                try:
                    value = json.loads(text)
                except ValueError:
                    value = text
                out["calls"][label] = {"is_error": bool(result.is_error), "value": value}
            resources = await session.list_resources()
            out["resources"] = [str(r.uri) for r in resources.resources]
            out["read"] = {}
            for uri in out["resources"]:
                read_result = await session.read_resource(uri)
                out["read"][uri] = "".join(getattr(c, "text", "") for c in read_result.contents)
    print(json.dumps(out))


if __name__ == "__main__":
    asyncio.run(main(*sys.argv[1:4]))
