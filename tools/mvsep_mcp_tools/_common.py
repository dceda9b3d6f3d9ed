"""What every toolset shares: the session from the context, result building, annotations, error translation.

Tools stay thin: they turn arguments into calls on domain objects (``mvsep_mcp.*``) and domain results into a short
text plus validated ``structuredContent``. Expected failures are the domain's :class:`~mvsep_mcp.errors.UserError`,
turned into a ``ToolError`` whose sentence names the fix by :func:`tool`, and nowhere else.
"""

from __future__ import annotations

import functools
import inspect
import secrets
from collections.abc import Callable, Mapping, Sequence
from contextvars import ContextVar
from typing import TYPE_CHECKING, Annotated, Any, TypeVar

import anyio
from mcp.server.auth.middleware.auth_context import get_access_token
from mcp.server.auth.provider import principal_components
from mcp.server.mcpserver import Context, MCPServer
from mcp.server.mcpserver.exceptions import ResourceError, ResourceNotFoundError, ToolError
from mcp.shared.exceptions import MCPError
from mcp_types import CallToolResult, ContentBlock, TextContent, ToolAnnotations
from mcp_types.jsonrpc import INVALID_PARAMS
from mcp_types.version import MODERN_PROTOCOL_VERSIONS
from mvsep_mcp import policy
from mvsep_mcp.catalog import UnknownModel
from mvsep_mcp.config import ResultsAs
from mvsep_mcp.errors import UserError
from mvsep_mcp.hosted import scopes
from mvsep_mcp.hosted.calls import TOOL_CALLS
from mvsep_mcp.hosted.errors import AccountNotLinked, HostedError, NotSignedIn
from mvsep_mcp.hosted.identity import TOKEN_HEADER, User
from mvsep_mcp.hosted.presenting import Presenter
from mvsep_mcp.hosted.usage import request_scope
from mvsep_mcp.jobs import JobNotFound
from mvsep_mcp.jobs.stored import StoredFileMissing
from mvsep_mcp.mvsep.errors import AuthenticationError
from pydantic import BaseModel, ConfigDict, Field

from mvsep_mcp_tools._arguments import argument_sentences
from mvsep_mcp_tools._schema import compact

if TYPE_CHECKING:
    from mvsep_mcp.session import Account, Session

# hosted mode: how this call shows the user's files (set by account_of; read by _job_view), None everywhere else
PRESENTER: ContextVar[Presenter | None] = ContextVar("mvsep_presenter", default=None)
# hosted mode: this call's account (set by account_of), for what MVSep refusing its token means to the user
ACCOUNT: ContextVar[Account | None] = ContextVar("mvsep_call_account", default=None)

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


def session_of(ctx: Context[Any, Any]) -> Session:
    """The server's shared session, built in the lifespan."""
    return ctx.request_context.lifespan_context  # type: ignore[no-any-return]


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


def current_user() -> User | None:
    """The authenticated user of this request (``None`` without authentication: stdio, loopback HTTP)."""
    token = get_access_token()
    if token is None:
        return None
    client_id, issuer, subject = principal_components(token)
    return User.of(issuer, subject, client_id, str((token.claims or {}).get("name") or ""))


async def account_of(ctx: Context[Any, Any]) -> Account:
    """The MVSep account of this call: the server's one, or in hosted mode the signed-in user's own (raises a
    ``UserError`` with the fix when there is none: a token to set, or a page where the user links theirs)."""
    try:
        return await request_account(session_of(ctx), ctx.headers)
    except AccountNotLinked as missing:
        if not client_can_open_links(ctx):
            raise
        return await _link_through_the_host(ctx, missing)


def client_can_open_links(ctx: Context[Any, Any]) -> bool:
    """URL-mode elicitation: the client declared it, and the connection can carry a request mid-call (legacy)."""
    capabilities = ctx.client_capabilities
    elicitation = capabilities.elicitation if capabilities else None
    return (elicitation is not None and elicitation.url is not None
            and ctx.protocol_version not in MODERN_PROTOCOL_VERSIONS)


async def _link_through_the_host(ctx: Context[Any, Any], missing: AccountNotLinked) -> Account:
    """Offer the link page through the host (the token never passes through the model), then wait a while for the
    user to link their account there; the sentence with the link when they decline or take longer."""
    elicitation_id = secrets.token_hex(8)
    answer = await ctx.elicit_url("Link your MVSep account to this server: paste your MVSep API token on the page "
                                  "that opens (not in the chat).", missing.link_url, elicitation_id)
    if answer.action != "accept":
        raise missing
    session, user = session_of(ctx), current_user()
    if session.users is None or user is None:
        raise missing
    with anyio.move_on_after(policy.LINK_WAIT_S):
        while True:
            await anyio.sleep(policy.LINK_CHECK_S)
            account = await session.users.account_if_linked(user)  # no new link each time: it only looks
            if account is None:
                continue
            PRESENTER.set(session.users.presenter(account))
            await ctx.request_context.session.send_elicit_complete(elicitation_id, ctx.request_id)
            return account
    raise missing


async def request_account(session: Session, headers: Mapping[str, str] | None) -> Account:
    """:func:`account_of` for any request handler (``headers``: the HTTP request's, for ``X-MVSep-Token``)."""
    if session.users is None:
        return session.require_account()
    user = current_user()
    if user is None:
        raise NotSignedIn()
    account = await session.users.account_for(user, (headers or {}).get(TOKEN_HEADER))
    PRESENTER.set(session.users.presenter(account))
    ACCOUNT.set(account)
    return account


def sent_token(ctx: Context[Any, Any]) -> bool:
    """Whether this request carries its own MVSep token (``X-MVSep-Token``) instead of using a linked one."""
    return bool((ctx.headers or {}).get(TOKEN_HEADER, "").strip())


async def manage_link(ctx: Context[Any, Any]) -> str | None:
    """Hosted mode, with the account linked on this server: a fresh one-time URL of the page where the user replaces
    or unlinks it (``None`` elsewhere, and for a sign-in without ``mvsep:account``: that page changes the account)."""
    session, user, token = session_of(ctx), current_user(), get_access_token()
    if session.users is None or user is None or token is None or sent_token(ctx):
        return None
    if scopes.missing(token.scopes, (scopes.ACCOUNT,)):
        return None
    return await session.users.link_url(user.key, user.name)


async def account_or_none(ctx: Context[Any, Any]) -> Account | None:
    """The call's account when there is one (local: a token is set; hosted: the user has linked one), else None."""
    session = session_of(ctx)
    if session.users is None:
        return session.account
    try:
        return await account_of(ctx)
    except HostedError:
        return None


def result(model: BaseModel, text: str, extra: Sequence[ContentBlock] = ()) -> CallToolResult:
    """A short text for the model to read plus the structured content; fields that are null are left out, as the
    published output schemas say (they list such fields as optional, see ``_schema``). ``extra``: more content after
    the text (resource links, audio)."""
    return CallToolResult(
        content=[TextContent(type="text", text=text), *extra],
        structured_content=model.model_dump(mode="json", exclude_none=True),
    )
