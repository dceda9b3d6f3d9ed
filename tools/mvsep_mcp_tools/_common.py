"""What every toolset shares: the app state from the context, result building, annotations, error translation.

Tools stay thin: they turn arguments into calls on domain objects (``server.*``) and domain results into a short text
plus validated ``structuredContent``. Expected failures become ``ToolError`` whose sentence names the fix.
"""

from __future__ import annotations

import inspect
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from typing import TYPE_CHECKING, Any, TypeVar

from mcp.server.mcpserver import Context, MCPServer
from mcp.server.mcpserver.exceptions import ToolError
from mcp_types import CallToolResult, TextContent, ToolAnnotations
from mvsep_mcp.mvsep import errors as mvsep_errors
from pydantic import BaseModel, ConfigDict

if TYPE_CHECKING:
    from mvsep_mcp.app import AppState
    from mvsep_mcp.catalog import AccountKind, Catalog
    from mvsep_mcp.mvsep.models import UserInfo

F = TypeVar("F", bound=Callable[..., Any])

READ_ONLY = ToolAnnotations(read_only_hint=True, destructive_hint=False, idempotent_hint=True, open_world_hint=True)
LOCAL_READ_ONLY = ToolAnnotations(
    read_only_hint=True, destructive_hint=False, idempotent_hint=True, open_world_hint=False
)
SPENDS_AND_WRITES = ToolAnnotations(
    read_only_hint=False, destructive_hint=False, idempotent_hint=False, open_world_hint=True
)
CHANGES_ACCOUNT = ToolAnnotations(
    read_only_hint=False, destructive_hint=False, idempotent_hint=True, open_world_hint=True
)
DESTRUCTIVE = ToolAnnotations(read_only_hint=False, destructive_hint=True, idempotent_hint=False, open_world_hint=True)

TOKEN_HELP = (
    "No MVSep API token is set. Add MVSEP_API_TOKEN to this server's environment in your MCP client's configuration "
    "(in Claude Desktop: the bundle's 'MVSep API token' field), or run `mvsep-mcp login` in a terminal; "
    "get a token at https://mvsep.com/user-api. Then call this tool again."
)


def _compact_schema(schema: dict[str, Any]) -> None:
    """Drop the auto-generated titles: they repeat property names and cost context in every tools/list."""
    schema.pop("title", None)
    for prop in schema.get("properties", {}).values():
        if isinstance(prop, dict):
            prop.pop("title", None)


class ToolOutput(BaseModel):
    """Base of every tool's structured output: compact JSON schema."""

    model_config = ConfigDict(json_schema_extra=_compact_schema)


def tool(server: MCPServer[Any], *, name: str, annotations: ToolAnnotations) -> Callable[[F], F]:
    """``mvsep_mcp.tool`` with the docstring, cleaned of its indentation, as the description the model reads."""

    def register(fn: F) -> F:
        description = inspect.cleandoc(fn.__doc__ or "")
        return server.tool(name=name, annotations=annotations, description=description)(fn)

    return register


def state_of(ctx: Context[Any, Any]) -> AppState:
    """The server's shared state, built in the lifespan."""
    return ctx.request_context.lifespan_context  # type: ignore[no-any-return]


def result(model: BaseModel, text: str) -> CallToolResult:
    """A short text for the model to read plus the validated structured content."""
    return CallToolResult(
        content=[TextContent(type="text", text=text)],
        structured_content=model.model_dump(mode="json"),
    )


def explain(exc: mvsep_errors.MVSepError) -> str:
    """One sentence for the model, naming the fix, for any client error (the token is never in it)."""
    if isinstance(exc, mvsep_errors.MissingTokenError):
        return TOKEN_HELP
    if isinstance(exc, mvsep_errors.AuthenticationError):
        return (
            'MVSep refused the API token ("invalid token"). Copy it again from https://mvsep.com/user-api into '
            "MVSEP_API_TOKEN (or run `mvsep-mcp login`), restart the server, and call this tool again."
        )
    if isinstance(exc, mvsep_errors.RateLimitError):
        wait = f"{exc.retry_after:.0f} seconds" if exc.retry_after else "a minute"
        return f"MVSep is rate-limiting requests (HTTP 429). Wait {wait}, then call this tool again."
    if isinstance(exc, mvsep_errors.ServerError):
        return f"MVSep is having trouble (HTTP {exc.status_code}); nothing was lost. Call this tool again in a minute."
    if isinstance(exc, mvsep_errors.BadRequestError):
        message = exc.message.rstrip(".")
        if "premium" in message.lower():
            return (
                f"MVSep refused: {message}. Choose a model your account may use (search_models with "
                "usable_only=true) or buy premium on mvsep.com."
            )
        return f"MVSep refused the request: {message}. Fix the request and call again."
    if isinstance(exc, mvsep_errors.InvalidResponseError):
        return "MVSep sent an answer we could not read; it may be under maintenance. Call this tool again in a minute."
    if isinstance(exc, mvsep_errors.TransportError):
        return (
            f"Could not reach MVSep ({exc.message}). Check the internet connection or MVSEP_BASE_URL, "
            "then call this tool again."
        )
    if isinstance(exc, mvsep_errors.APIError):
        return f"MVSep answered with an error (HTTP {exc.status_code}): {exc.message}."
    return f"MVSep call failed: {exc.message}"


async def catalog_and_account(state: AppState) -> tuple[Catalog, AccountKind, UserInfo]:
    """What planning a job needs from MVSep: the catalogue, the account's kind and its user info."""
    session = state.require_session()
    async with mvsep_errors_as_tool_errors():
        return await state.catalog(), await session.account_kind(), await session.user()


@asynccontextmanager
async def mvsep_errors_as_tool_errors() -> AsyncIterator[None]:
    """Turn any client error raised inside into a ``ToolError`` with a sentence that names the fix."""
    try:
        yield
    except mvsep_errors.MVSepError as exc:
        raise ToolError(explain(exc)) from exc
