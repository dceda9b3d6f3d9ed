"""What every toolset shares: the session from the context, result building, annotations, error translation.

Tools stay thin: they turn arguments into calls on domain objects (``mvsep_mcp.*``) and domain results into a short
text plus validated ``structuredContent``. Expected failures are the domain's :class:`~mvsep_mcp.errors.UserError`,
turned into a ``ToolError`` whose sentence names the fix by :func:`tool`, and nowhere else.
"""

from __future__ import annotations

import functools
import inspect
from collections.abc import Callable
from typing import TYPE_CHECKING, Any, TypeVar

from mcp.server.mcpserver import Context, MCPServer
from mcp.server.mcpserver.exceptions import ResourceError, ResourceNotFoundError, ToolError
from mcp_types import CallToolResult, TextContent, ToolAnnotations
from mvsep_mcp.catalog import UnknownModel
from mvsep_mcp.errors import UserError
from mvsep_mcp.jobs import JobNotFound
from pydantic import BaseModel, ConfigDict

if TYPE_CHECKING:
    from mvsep_mcp.session import Session

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
    """``server.tool`` with the docstring, cleaned of its indentation, as the description the model reads.

    This is the one place where the product's errors become tool errors: any :class:`UserError` raised inside a tool
    reaches the model as its :meth:`~UserError.user_text` (a sentence naming the fix). Anything else is a bug and
    reaches the model only as the SDK's bare "Error executing tool X" (the traceback stays in the log).
    """

    def register(fn: F) -> F:
        description = inspect.cleandoc(fn.__doc__ or "")

        @functools.wraps(fn)
        async def translated(*args: Any, **kwargs: Any) -> Any:
            try:
                return await fn(*args, **kwargs)
            except UserError as exc:
                raise ToolError(exc.user_text()) from exc

        server.tool(name=name, annotations=annotations, description=description)(translated)
        return fn

    return register


def resource(server: MCPServer[Any], uri: str, **metadata: Any) -> Callable[[F], F]:
    """``server.resource`` with the same single translation: a missing job or model is "not found", any other
    :class:`UserError` a resource error carrying its sentence."""

    def register(fn: F) -> F:
        @functools.wraps(fn)
        async def translated(*args: Any, **kwargs: Any) -> Any:
            try:
                return await fn(*args, **kwargs)
            except (JobNotFound, UnknownModel) as exc:
                raise ResourceNotFoundError(exc.user_text()) from exc
            except UserError as exc:
                raise ResourceError(exc.user_text()) from exc

        server.resource(uri, **metadata)(translated)
        return fn

    return register


def session_of(ctx: Context[Any, Any]) -> Session:
    """The server's shared session, built in the lifespan."""
    return ctx.request_context.lifespan_context  # type: ignore[no-any-return]


def result(model: BaseModel, text: str) -> CallToolResult:
    """A short text for the model to read plus the validated structured content."""
    return CallToolResult(
        content=[TextContent(type="text", text=text)],
        structured_content=model.model_dump(mode="json"),
    )
