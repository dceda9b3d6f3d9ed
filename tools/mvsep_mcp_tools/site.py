"""Toolset ``site``: MVSep's public queue, news and demo separations (no token needed)."""

from __future__ import annotations

from typing import Annotated, Any, Literal

from mcp.server.mcpserver import Context, MCPServer
from mcp_types import CallToolResult
from mvsep_mcp.catalog.text import html_to_text
from pydantic import Field

from mvsep_mcp_tools._caller import session_of
from mvsep_mcp_tools._registration import READ_ONLY, Skip, ToolOutput, result, tool


def plain_text(markup: str | None, limit: int = 600) -> str:
    """HTML to short plain text (the catalogue's HTML reader, cut at ``limit`` characters)."""
    text = html_to_text(markup) if markup else ""
    return text if len(text) <= limit else text[: limit - 1].rstrip() + "…"


class QueueOut(ToolOutput):
    queue: dict[str, Any] = Field(description="Jobs waiting per plan, as MVSep reports them")
    plan: dict[str, Any] | str | None = Field(None, description="This account's plan (only with a token)")


def plan_out(plan: Any) -> dict[str, Any] | str | None:
    """MVSep documents ``plan`` as an object; anything else it may send is kept as text."""
    if plan is None or isinstance(plan, dict):
        return plan
    return str(plan)


class NewsOut(ToolOutput):
    items: list[dict[str, Any]] = Field(description="id, title, date, text (plain)")
    next_start: int | None = None


class DemoOut(ToolOutput):
    items: list[dict[str, Any]] = Field(description="hash, date, algorithm, input_audio URL, size")
    next_start: int | None = None


def register(server: MCPServer[Any]) -> None:
    @tool(server, name="mvsep_queue", annotations=READ_ONLY)
    async def mvsep_queue(ctx: Context[Any, Any]) -> Annotated[CallToolResult, QueueOut]:
        """Jobs waiting in MVSep's queues now."""
        session = session_of(ctx)
        info = await session.any_client().queue()
        out = QueueOut(queue=dict(info.queue), plan=plan_out(info.plan))
        parts = ", ".join(f"{k}: {v}" for k, v in out.queue.items()) or "no data"
        return result(out, f"MVSep queue — {parts}.")

    @tool(server, name="mvsep_news", annotations=READ_ONLY)
    async def mvsep_news(
        ctx: Context[Any, Any],
        lang: Annotated[Literal["en", "ru"], Field(description="Language")] = "en",
        start: Skip = 0,
        limit: Annotated[int, Field(ge=1, le=20)] = 5,
    ) -> Annotated[CallToolResult, NewsOut]:
        """MVSep's news, newest first."""
        news = await session_of(ctx).any_client().news(lang=lang, start=start, limit=limit)
        items = [{"id": n.id, "title": n.title, "date": n.created_at, "text": plain_text(n.text)} for n in news]
        out = NewsOut(items=items, next_start=start + len(items) if len(items) == limit else None)
        text = "\n\n".join(f"{i['date'] or ''} — {i['title']}\n{i['text']}" for i in items) or "No news."
        return result(out, text)

    @tool(server, name="mvsep_demos", annotations=READ_ONLY)
    async def mvsep_demos(
        ctx: Context[Any, Any],
        start: Skip = 0,
        limit: Annotated[int, Field(ge=1, le=20)] = 10,
    ) -> Annotated[CallToolResult, DemoOut]:
        """MVSep's demos, newest first."""
        demos = await session_of(ctx).any_client().demo(start=start, limit=limit)
        items = [
            {
                "hash": d.hash,
                "date": d.date,
                "algorithm": d.algorithm.name if d.algorithm else None,
                "input_audio": d.input_audio,
                "size": d.size,
            }
            for d in demos
        ]
        out = DemoOut(items=items, next_start=start + len(items) if len(items) == limit else None)
        text = "\n".join(f"- {i['date']} {i['algorithm']} ({i['hash']})" for i in items) or "No demos."
        return result(out, text)
