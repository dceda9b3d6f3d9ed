"""Toolset ``account``: account info (token never shown), separation history, premium and long-file-name switches."""

from __future__ import annotations

from typing import Annotated, Any

from mcp.server.mcpserver import Context, MCPServer
from mcp_types import CallToolResult
from mvsep_mcp import policy
from mvsep_mcp.jobs import account_limit
from pydantic import Field

from mvsep_mcp_tools._caller import account_of, manage_link, sent_token, session_of
from mvsep_mcp_tools._registration import CHANGES_ACCOUNT, READ_ONLY, Skip, ToolOutput, result, tool


class AccountInfo(ToolOutput):
    name: str | None = Field(None, description="Account name")
    email: str | None = Field(None, description="Account email")
    credits: float = Field(description="Credit balance (MVSep calls it premium_minutes)")
    premium_enabled: bool = Field(description="When on, jobs spend credits to skip the free queue")
    long_filenames_enabled: bool = Field(description="When on, MVSep's file names carry the algorithm and options")
    current_queue: int | None = Field(None, description="Jobs of this account currently in MVSep's queue")
    concurrent_jobs_allowed: int = Field(description="How many jobs this server runs at once for this account")
    created_at: str | None = None
    token_source: str = Field(description="Where the token came from (environment, config file, …); never the token")


class HistoryItem(ToolOutput):
    hash: str
    created_at: str | None = None
    algorithm: str | None = None
    render_id: int | None = None
    credits: float | None = Field(None, description="Credits charged (null when none)")
    result_available: bool = Field(description="MVSep still has the result files")
    hours_left: float | None = Field(None, description="Hours until MVSep deletes the files (negative: gone)")


class HistoryPage(ToolOutput):
    items: list[HistoryItem]
    next_start: int | None = Field(None, description="Pass as start= for the next page; null at the end")


class SwitchResult(ToolOutput):
    enabled: bool
    message: str = Field(description="MVSep's answer")


def register(server: MCPServer[Any]) -> None:
    @tool(server, name="account_info", annotations=READ_ONLY)
    async def account_info(ctx: Context[Any, Any]) -> Annotated[CallToolResult, AccountInfo]:
        """Your MVSep account: credits, premium, long names, jobs at once."""
        session = session_of(ctx)
        account = await account_of(ctx)
        user = await account.user(refresh=True)
        info = AccountInfo(
            name=user.name,
            email=user.email,
            credits=user.premium_minutes,
            premium_enabled=user.premium_enabled,
            long_filenames_enabled=user.long_filenames_enabled,
            current_queue=user.current_queue,
            concurrent_jobs_allowed=account_limit(user),
            created_at=user.created_at,
            token_source=(session.settings.token_source if account.home is None
                          else "X-MVSep-Token header" if sent_token(ctx) else "linked on this server"),
        )
        mode = "premium mode ON (jobs spend credits)" if user.premium_enabled else "premium mode off (free queue)"
        text = (
            f"Signed in as {user.name or user.email or 'this account'}: {user.premium_minutes:g} credits, {mode}, "
            f"long file names {'on' if user.long_filenames_enabled else 'off'}, "
            f"{info.concurrent_jobs_allowed} job(s) at once."
        )
        link = await manage_link(ctx)
        if link is not None:
            text += (f"\nTo replace or unlink this MVSep account, the user opens {link} (one-time, "
                     f"{int(policy.LINK_TICKET_TTL_S // 60)} minutes; never ask for the token in the chat).")
        return result(info, text)

    @tool(server, name="separation_history", annotations=READ_ONLY)
    async def separation_history(
        ctx: Context[Any, Any],
        start: Skip = 0,
        limit: Annotated[int, Field(ge=1, le=20)] = 20,
    ) -> Annotated[CallToolResult, HistoryPage]:
        """Past MVSep separations with credits and file status."""
        account = await account_of(ctx)
        entries = await account.client.separation_history(start=start, limit=limit)
        items = [
            HistoryItem(
                hash=e.hash,
                created_at=e.created_at,
                credits=e.credits,
                result_available=bool(e.job_exists),
                hours_left=e.time_left,
                algorithm=e.algorithm.name if e.algorithm else None,
                render_id=e.algorithm.render_id if e.algorithm else None,
            )
            for e in entries
        ]
        page = HistoryPage(items=items, next_start=start + len(items) if len(items) == limit else None)
        lines = [
            f"- {i.created_at or '?'} {i.algorithm or '?'} ({i.hash}){'' if i.result_available else ' [files gone]'}"
            for i in items
        ]
        more = f"\nMore: call again with start={page.next_start}." if page.next_start is not None else ""
        return result(page, (f"{len(items)} history entries:\n" + "\n".join(lines) if items else "No history.") + more)

    @tool(server, name="set_premium_mode", annotations=CHANGES_ACCOUNT)
    async def set_premium_mode(
        ctx: Context[Any, Any],
        enabled: bool,
    ) -> Annotated[CallToolResult, SwitchResult]:
        """Premium mode on/off: while on, jobs spend credits and skip the free queue. Ask the user first."""
        account = await account_of(ctx)
        message = await (account.client.enable_premium() if enabled else account.client.disable_premium())
        await account.user(refresh=True)
        out = SwitchResult(enabled=enabled, message=message)
        return result(out, f"Premium mode {'enabled' if enabled else 'disabled'}: {message}")

    @tool(server, name="set_long_filenames", annotations=CHANGES_ACCOUNT)
    async def set_long_filenames(
        ctx: Context[Any, Any],
        enabled: bool,
    ) -> Annotated[CallToolResult, SwitchResult]:
        """MVSep's long file names (model, options) on/off; saved files follow the naming template."""
        account = await account_of(ctx)
        if enabled:
            message = await account.client.enable_long_filenames()
        else:
            message = await account.client.disable_long_filenames()
        out = SwitchResult(enabled=enabled, message=message)
        return result(out, f"Long file names {'enabled' if enabled else 'disabled'}: {message}")
