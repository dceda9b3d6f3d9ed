"""Who is calling and with which MVSep account: the session from the context, the signed-in user (hosted mode), the
call's account (the server's one, or the user's own, linked through the host when it can open links), and how this
call shows the user's files.

Tool modules ask here for what they act on; registration and the one translation of errors is ``_registration``.
"""

from __future__ import annotations

import secrets
from collections.abc import Mapping
from contextvars import ContextVar
from typing import TYPE_CHECKING, Any

import anyio
from mcp.server.auth.middleware.auth_context import get_access_token
from mcp.server.auth.provider import principal_components
from mcp.server.mcpserver import Context
from mcp_types.version import MODERN_PROTOCOL_VERSIONS
from mvsep_mcp import policy
from mvsep_mcp.hosted import scopes
from mvsep_mcp.hosted.errors import AccountNotLinked, HostedError, NotSignedIn
from mvsep_mcp.hosted.identity import TOKEN_HEADER, User
from mvsep_mcp.hosted.presenting import Presenter

if TYPE_CHECKING:
    from mvsep_mcp.session import Account, Session

# hosted mode: how this call shows the user's files (set by account_of; read by _job_view), None everywhere else
PRESENTER: ContextVar[Presenter | None] = ContextVar("mvsep_presenter", default=None)
# hosted mode: this call's account (set by account_of), for what MVSep refusing its token means to the user
ACCOUNT: ContextVar[Account | None] = ContextVar("mvsep_call_account", default=None)


def session_of(ctx: Context[Any, Any]) -> Session:
    """The server's shared session, built in the lifespan."""
    return ctx.request_context.lifespan_context  # type: ignore[no-any-return]


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
