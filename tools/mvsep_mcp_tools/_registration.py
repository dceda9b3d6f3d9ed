"""How a tool, resource or prompt is registered: the description from the docstring, compact schemas, annotations,
structured results, scope checks, and the ONE translation of the product's errors.

Tools stay thin: they turn arguments into calls on domain objects (``mvsep_mcp.*``) and domain results into a short
text plus validated ``structuredContent``. Expected failures are the domain's :class:`~mvsep_mcp.errors.UserError`,
turned into a ``ToolError`` whose sentence names the fix by :func:`tool`, and nowhere else. Who is calling, and with
which account, is ``_caller``.
"""

from __future__ import annotations

import functools
import inspect
from collections.abc import Callable, Mapping, Sequence
from contextvars import ContextVar
from typing import Annotated, Any, TypeVar

from mcp.server.auth.middleware.auth_context import get_access_token
from mcp.server.mcpserver import Context, MCPServer
from mcp.server.mcpserver.exceptions import ResourceError, ResourceNotFoundError, ToolError
from mcp.shared.exceptions import MCPError
from mcp_types import CallToolResult, ContentBlock, TextContent, ToolAnnotations
from mcp_types.jsonrpc import INVALID_PARAMS
from mvsep_mcp.catalog import UnknownModel
from mvsep_mcp.config import ResultsAs
from mvsep_mcp.errors import UserError
from mvsep_mcp.hosted import scopes
from mvsep_mcp.hosted.calls import TOOL_CALLS
from mvsep_mcp.hosted.errors import HostedError
from mvsep_mcp.hosted.usage import request_scope
from mvsep_mcp.jobs import JobNotFound
from mvsep_mcp.mvsep.errors import AuthenticationError
from mvsep_mcp.results.stored import StoredFileMissing
from pydantic import BaseModel, ConfigDict, Field

from mvsep_mcp_tools._arguments import argument_sentences
from mvsep_mcp_tools._caller import ACCOUNT, PRESENTER, current_user, sent_token, session_of
from mvsep_mcp_tools._schema import compact

F = TypeVar("F", bound=Callable[..., Any])

# how saved files show in this tool call's results (the settings' ``results_as``, see ``_job_view``)
results_as: ContextVar[ResultsAs] = ContextVar("results_as", default="both")


def shows_paths() -> bool:
    """Whether this call's results may name the server's paths (not when results are resources only: hosted mode)."""
    return results_as.get() != "resources"

Skip = Annotated[int, Field(ge=0)]  # a page's offset (`start`): the name says it, the schema bounds it

# Hints the MCP spec gives as defaults (readOnly false, destructive true, idempotent false, openWorld true) are left
# out, and so are destructive and idempotent on read-only tools, where they mean nothing: the same facts, said once.
READ_ONLY = ToolAnnotations(read_only_hint=True)  # asks MVSep (open world), changes nothing
LOCAL_READ_ONLY = ToolAnnotations(read_only_hint=True, open_world_hint=False)  # reads only this server's journal
SPENDS_AND_WRITES = ToolAnnotations(destructive_hint=False)  # creates jobs and files, never overwrites or deletes
CHANGES_ACCOUNT = ToolAnnotations(destructive_hint=False, idempotent_hint=True)  # a switch: same call, same state
DESTRUCTIVE = ToolAnnotations(read_only_hint=False)  # cancels or deletes: destructive, not idempotent (the defaults)
LOCAL_WRITES = ToolAnnotations(destructive_hint=False, open_world_hint=False)  # new local files only, never overwrites


def _compact_schema(schema: dict[str, Any]) -> None:
    """Drop the auto-generated titles: they repeat property names and cost context in every tools/list."""
    schema.pop("title", None)
    for prop in schema.get("properties", {}).values():
        if isinstance(prop, dict):
            prop.pop("title", None)


class ToolOutput(BaseModel):
    """Base of every tool's structured output: compact JSON schema."""

    model_config = ConfigDict(json_schema_extra=_compact_schema)


def tool(server: MCPServer[Any], *, name: str, annotations: ToolAnnotations,
         meta: dict[str, Any] | None = None) -> Callable[[F], F]:
    """``server.tool`` with the docstring, cleaned of its indentation, as the description the model reads.

    ``meta`` is the tool's ``_meta`` (e.g. ``{"ui": {"resourceUri": "ui://…"}}``: the MCP App that shows its result).

    This is the one place where the product's errors become tool errors: any :class:`UserError` raised inside a tool
    reaches the model as its :meth:`~UserError.user_text` (a sentence naming the fix). Anything else is a bug and
    reaches the model only as the SDK's bare "Error executing tool X" (the traceback stays in the log).
    """

    def register(fn: F) -> F:
        description = _one_paragraph(inspect.cleandoc(fn.__doc__ or ""))
        needed = scopes.needed_scopes("tools/call", name, [name] if annotations.read_only_hint else [])

        @functools.wraps(fn)
        async def translated(*args: Any, **kwargs: Any) -> Any:
            ctx = kwargs.get("ctx")
            shown = results_as.set(session_of(ctx).settings.results_as) if isinstance(ctx, Context) else None
            notice = _notice(ctx)
            try:
                _check_scopes(needed)
                with request_scope():  # hosted mode: the user's account stays open until the call ends
                    answer = await fn(*args, **kwargs)
            except UserError as exc:
                TOOL_CALLS.record(name, error=True)
                raise ToolError(_shown(await _for_the_user(ctx, exc)) + (f"\n\n{notice}" if notice else "")) from exc
            except Exception:
                TOOL_CALLS.record(name, error=True)
                raise
            finally:
                if shown is not None:
                    results_as.reset(shown)
            TOOL_CALLS.record(name, error=False)
            if notice and isinstance(answer, CallToolResult):
                answer.content.append(TextContent(type="text", text=notice))
            return answer

        server.tool(name=name, annotations=annotations, description=description, meta=meta)(translated)
        _compact_schemas(server, name)
        return fn

    return register


def _notice(ctx: Any) -> str | None:
    """The session's one-time notice for this answer (a damaged journal moved aside at start). Never in hosted mode:
    the server's own files are its operator's business (the log and ``mvsep-mcp doctor`` say it there)."""
    if not isinstance(ctx, Context):
        return None
    session = session_of(ctx)
    return session.take_notice() if session.users is None else None


def resolver(fn: F) -> F:
    """A tool resolver (``Resolve(fn)``) with the same single translation of :class:`UserError` as :func:`tool`:
    resolvers run before the tool's body, outside its ``try``."""

    @functools.wraps(fn)
    async def translated(*args: Any, **kwargs: Any) -> Any:
        try:
            return await fn(*args, **kwargs)
        except UserError as exc:
            raise ToolError(exc.user_text()) from exc

    return translated  # type: ignore[return-value]


def _compact_schemas(server: MCPServer[Any], name: str) -> None:
    """Publish the compact, equivalent form of the tool's input and output schemas (see ``_schema``).

    The SDK builds both from the signature at registration; its tool manager is the only place to rewrite them.
    """
    registered = server._tool_manager.get_tool(name)
    if registered is None:  # pragma: no cover - registration just happened
        raise RuntimeError(f"tool {name} was not registered")
    registered.parameters = compact(registered.parameters)
    if registered.fn_metadata.output_schema is not None:
        registered.fn_metadata.output_schema = compact(registered.fn_metadata.output_schema, output=True)


def resource(server: MCPServer[Any], uri: str, **metadata: Any) -> Callable[[F], F]:
    """``server.resource`` with the same single translation: a missing job or model is "not found", any other
    :class:`UserError` a resource error carrying its sentence."""

    def register(fn: F) -> F:
        @functools.wraps(fn)
        async def translated(*args: Any, **kwargs: Any) -> Any:
            ctx = kwargs.get("ctx")  # files show as in a tool's result (hosted mode: never a server path)
            shown = results_as.set(session_of(ctx).settings.results_as) if isinstance(ctx, Context) else None
            try:
                with request_scope():
                    return await fn(*args, **kwargs)
            except (JobNotFound, UnknownModel, StoredFileMissing) as exc:
                raise ResourceNotFoundError(_shown(exc.user_text())) from exc
            except UserError as exc:
                raise ResourceError(_shown(exc.user_text())) from exc
            finally:
                if shown is not None:
                    results_as.reset(shown)

        server.resource(uri, **metadata)(translated)
        return fn

    return register


def prompt(server: MCPServer[Any], *, name: str, title: str,
           choices: Mapping[str, Sequence[str]] | None = None) -> Callable[[F], F]:
    """``server.prompt`` with its arguments checked: a value outside its ``choices`` (argument -> the values it
    takes; an empty value means the default) or any :class:`UserError` refuses the prompt with the sentence, as the
    spec's -32602 (the SDK would answer code 0 and log a traceback)."""
    allowed = dict(choices or {})

    def register(fn: F) -> F:
        @functools.wraps(fn)
        async def checked(*args: Any, **kwargs: Any) -> Any:
            wrong = [arg for arg, values in allowed.items()
                     if str(kwargs.get(arg) or "").strip() and kwargs[arg] not in values]
            if wrong:
                schema = {"properties": {arg: {"enum": list(values)} for arg, values in allowed.items()}}
                raise MCPError(code=INVALID_PARAMS, message=" ".join(argument_sentences(wrong, kwargs, schema)))
            try:
                with request_scope():
                    return await fn(*args, **kwargs)
            except UserError as exc:
                raise MCPError(code=INVALID_PARAMS, message=_shown(exc.user_text())) from exc

        server.prompt(name=name, title=title)(checked)
        return fn

    return register


async def _for_the_user(ctx: Any, exc: UserError) -> str:
    """The sentence of ``exc``; in hosted mode, MVSep refusing the call's token says what a hosted user does about
    it (send another in the header, or link the current one), never a local setting, and lets the account go."""
    account = ACCOUNT.get()
    if isinstance(exc, AuthenticationError) and isinstance(ctx, Context) and account is not None:
        session, user, token = session_of(ctx), current_user(), get_access_token()
        if session.users is not None and user is not None and token is not None:
            may_relink = not scopes.missing(token.scopes, (scopes.ACCOUNT,))
            refused = await session.users.token_refused(user, account, sent_header=sent_token(ctx),
                                                        may_relink=may_relink)
            return refused.user_text()
    return exc.user_text()


def _shown(sentence: str) -> str:
    """An error as the user may see it: in hosted mode without a server path (the user's files relative to their
    folder)."""
    presenter = PRESENTER.get()
    return presenter.text(sentence) if presenter is not None else sentence


def _one_paragraph(text: str) -> str:
    """Docstring line breaks are for the source, not the model: paragraphs stay, wrapped lines are joined."""
    return "\n\n".join(" ".join(part.split()) for part in text.split("\n\n"))


class _MissingScope(HostedError):
    pass


def _check_scopes(needed: tuple[str, ...]) -> None:
    """With a signed-in user, the call's scopes (the HTTP layer already answered 403 for a missing one; this holds
    for any transport that authenticates)."""
    token = get_access_token()
    lacking = scopes.missing(token.scopes, needed) if token is not None else []
    if lacking:
        raise _MissingScope(f"Your sign-in lacks the scope {', '.join(lacking)} that this tool needs: sign in again "
                            f"granting it.")


def result(model: BaseModel, text: str, extra: Sequence[ContentBlock] = ()) -> CallToolResult:
    """A short text for the model to read plus the structured content; fields that are null are left out, as the
    published output schemas say (they list such fields as optional, see ``_schema``). ``extra``: more content after
    the text (resource links, audio)."""
    return CallToolResult(
        content=[TextContent(type="text", text=text), *extra],
        structured_content=model.model_dump(mode="json", exclude_none=True),
    )
