"""The HTTP endpoints beside ``/mcp`` (Starlette routes; no MCP): health, readiness, metrics, the account link page
and signed downloads.

- ``GET /healthz``: the process answers (liveness). ``GET /readyz``: the journal answers and the runner runs
  (readiness: a proxy sends work here). ``GET /metrics``: Prometheus text (needs ``prometheus_client``). Expose
  these to the monitoring network only (the compose file's proxy does not route them).
- ``GET|POST /account/link/{ticket}``: the page where a user pastes their MVSep API token (hosted mode), or, when
  one is linked already, replaces it or unlinks it (``action=unlink``: the sealed token is deleted). It names the
  user the ticket was made for (as the authorization server named them) and asks them to confirm that is who they
  are; a request signed in as another user is refused. The ticket in the URL expires and works once: using it
  revokes the user's other tickets. A POST is checked before its body is read: the ticket, a cross-site origin
  (``Origin`` or ``Sec-Fetch-Site``), and the CSRF value in the form's address (HMAC of the ticket with the server
  key); only then is the form read, URL-encoded, at most ``LINK_FORM_MAX_BYTES`` and ``LINK_FORM_MAX_FIELDS``. The
  page loads nothing, runs no script and may not be framed (CSP, ``X-Frame-Options``), is never cached and sends no
  referrer.
- ``GET /files/{signed}/{name}``: one file of a user's storage, for a URL signed by the server (``signing``).
"""

from __future__ import annotations

import hashlib
import hmac
import html
import logging
from collections.abc import Callable
from typing import TYPE_CHECKING
from urllib.parse import parse_qsl, urlencode, urlsplit

import anyio.to_thread
from starlette.requests import Request
from starlette.responses import FileResponse, HTMLResponse, JSONResponse, PlainTextResponse, Response
from starlette.routing import Route
from starlette.types import Scope

from mvsep_mcp import policy
from mvsep_mcp.hosted.errors import LinkInvalid
from mvsep_mcp.hosted.paths import DOWNLOAD_PREFIX, LINK_PATH
from mvsep_mcp.hosted.storage import file_inside, user_root

if TYPE_CHECKING:
    from mvsep_mcp.jobs.journal.linked import LinkTicket
    from mvsep_mcp.serving.users import HostedAccounts
    from mvsep_mcp.session import Session

log = logging.getLogger(__name__)

CurrentSession = Callable[[], "Session | None"]
PAGE_HEADERS = {
    "Content-Security-Policy": "default-src 'none'; style-src 'unsafe-inline'; form-action 'self'; "
                               "frame-ancestors 'none'; base-uri 'none'",
    "X-Frame-Options": "DENY",
    "Referrer-Policy": "no-referrer",
    "Cache-Control": "no-store",
    "X-Content-Type-Options": "nosniff",
}
MAX_TOKEN_CHARS = 200  # MVSep tokens are 30 characters; anything much longer is not one


def health_routes(current_session: CurrentSession, metrics: Callable[[], bytes] | None) -> list[Route]:
    async def healthz(_request: Request) -> Response:
        return JSONResponse({"status": "ok"})

    async def readyz(_request: Request) -> Response:
        session = current_session()
        if session is None:
            return JSONResponse({"status": "starting"}, status_code=503)
        try:
            await anyio.to_thread.run_sync(session.journal.ping)
        except Exception as exc:
            log.warning("not ready: the journal does not answer (%s)", type(exc).__name__)
            return JSONResponse({"status": "journal unreachable"}, status_code=503)
        if not session.runner.running:
            return JSONResponse({"status": "runner stopped"}, status_code=503)
        return JSONResponse({"status": "ready"})

    routes = [Route("/healthz", healthz, methods=["GET"]), Route("/readyz", readyz, methods=["GET"])]
    if metrics is not None:
        produce = metrics

        async def metrics_endpoint(_request: Request) -> Response:
            body = await anyio.to_thread.run_sync(produce)
            return Response(body, media_type="text/plain; version=0.0.4; charset=utf-8")

        routes.append(Route("/metrics", metrics_endpoint, methods=["GET"]))
    return routes


def hosted_routes(current_session: CurrentSession, csrf_key: bytes,
                  principal_of: Callable[[Scope], str | None] = lambda _scope: None) -> list[Route]:
    """The link page and the downloads (hosted mode: the [hosted] extra is there, checked at start).
    ``principal_of``: the signed-in user of a request, when it carries a bearer token (a link opened with another
    user's sign-in is refused)."""
    from mvsep_mcp.serving.users import HostedAccounts

    def users() -> HostedAccounts | None:
        session = current_session()
        return session.users if session is not None and isinstance(session.users, HostedAccounts) else None

    def csrf_for(ticket: str) -> str:
        return hmac.new(csrf_key, f"link\0{ticket}".encode(), hashlib.sha256).hexdigest()

    async def form(hosted: HostedAccounts, ticket: str, found: LinkTicket, *, error: str | None = None) -> Response:
        action = f"{LINK_PATH}{ticket}?{urlencode({'csrf': csrf_for(ticket)})}"
        return _form(action, found.shown_as, linked=await hosted.is_linked(found.user_key), error=error)

    async def link_page(request: Request) -> Response:
        """Every check that needs no body comes first (the ticket, whose page it is, the origin, the CSRF value in the
        form's address); only then is the small form read."""
        hosted = users()
        if hosted is None:
            return PlainTextResponse("The server is starting; try again in a moment.", status_code=503)
        ticket = request.path_params["ticket"]
        found = await hosted.ticket(ticket)
        if found is None:
            return _page("Link expired", "<p>This link has expired or was used already. Ask your assistant to "
                         "run the tool again: its answer carries a fresh link.</p>", status=410)
        opener = principal_of(request.scope)
        if opener is not None and opener != found.user_key:
            return _page("Not your link", "<p>This link was made for another user of this server. Ask your own "
                         "assistant for a link of yours.</p>", status=403)
        if request.method == "GET":
            return await form(hosted, ticket, found)
        if _cross_site(request, hosted.settings.base_url):
            return _page("Refused", "<p>This form can only be sent from its own page.</p>", status=403)
        if not hmac.compare_digest(request.query_params.get("csrf", ""), csrf_for(ticket)):
            return _page("Refused", "<p>This form is not the one this server made. Open the link again.</p>",
                         status=403)
        fields = await _small_form(request)
        if isinstance(fields, Response):
            return fields
        if fields.get("confirm") != "yes":
            return await form(hosted, ticket, found, error=f"Tick the box to confirm that you are {found.shown_as}.")
        if fields.get("action") == "unlink":
            return await unlink(hosted, ticket)
        token = fields.get("token", "").strip()
        if not token or len(token) > MAX_TOKEN_CHARS:
            return await form(hosted, ticket, found, error="Paste the API token from https://mvsep.com/user-api.")
        try:
            name = await hosted.link(ticket, token)
        except LinkInvalid as exc:
            if await hosted.ticket(ticket) is not None:
                return await form(hosted, ticket, found, error=exc.user_text())
            return _page("Link expired", f"<p>{html.escape(exc.user_text())}</p>", status=410)
        return _page("Linked", f"<p>Your MVSep account <b>{html.escape(name)}</b> is linked to "
                     f"<b>{html.escape(found.shown_as)}</b> on this server. Go back to your assistant and run the "
                     f"request again.</p>")

    async def unlink(hosted: HostedAccounts, ticket: str) -> Response:
        try:
            removed = await hosted.unlink(ticket)
        except LinkInvalid as exc:
            return _page("Link expired", f"<p>{html.escape(exc.user_text())}</p>", status=410)
        said = ("This server no longer holds your MVSep token" if removed else "No MVSep account was linked")
        return _page("Unlinked", f"<p>{said}. Jobs already started still finish; their token is kept, encrypted, only "
                     f"until they end. Your assistant's next request offers a link to connect an account again.</p>")

    async def download(request: Request) -> Response:
        hosted = users()
        if hosted is None:
            return PlainTextResponse("The server is starting; try again in a moment.", status_code=503)
        try:
            user_key, relative = hosted.signer.open(request.path_params["signed"])
            path = await anyio.to_thread.run_sync(
                file_inside, user_root(hosted.session.settings.output_dir, user_key), relative)
        except LinkInvalid as exc:
            return PlainTextResponse(exc.user_text(), status_code=404, headers={"Cache-Control": "no-store"})
        return FileResponse(path, filename=path.name, headers={"Cache-Control": "private, no-store",
                                                                "X-Content-Type-Options": "nosniff"})

    return [
        Route(LINK_PATH + "{ticket}", link_page, methods=["GET", "POST"]),
        Route(DOWNLOAD_PREFIX + "{signed}/{name}", download, methods=["GET"]),
    ]


async def _small_form(request: Request) -> dict[str, str] | Response:
    """The link page's form, read only up to ``LINK_FORM_MAX_BYTES`` and ``LINK_FORM_MAX_FIELDS`` (URL-encoded, as
    its page sends it: no multipart, so nothing is ever written to a temporary file)."""
    kind = request.headers.get("content-type", "").split(";")[0].strip().lower()
    if kind != "application/x-www-form-urlencoded":
        return PlainTextResponse("This form takes application/x-www-form-urlencoded only.", status_code=415)
    body = bytearray()
    async for chunk in request.stream():
        body += chunk
        if len(body) > policy.LINK_FORM_MAX_BYTES:
            return PlainTextResponse("Request body too large", status_code=413, headers={"Connection": "close"})
    try:
        pairs = parse_qsl(body.decode("utf-8"), keep_blank_values=True, max_num_fields=policy.LINK_FORM_MAX_FIELDS)
    except (UnicodeDecodeError, ValueError):
        return PlainTextResponse("This is not the form of this page.", status_code=400)
    return dict(pairs)


def _cross_site(request: Request, base_url: str) -> bool:
    """A POST sent from another site's page: its ``Origin`` is not ours, or the browser says so."""
    if request.headers.get("sec-fetch-site", "same-origin") not in ("same-origin", "none"):
        return True
    origin = request.headers.get("origin")
    if origin is None or origin == "null":
        return origin == "null"
    ours = urlsplit(base_url)
    return origin.rstrip("/") != f"{ours.scheme}://{ours.netloc}"


def _page(title: str, body: str, *, status: int = 200) -> HTMLResponse:
    document = f"""<!doctype html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="referrer" content="no-referrer"><title>{html.escape(title)} · mvsep-mcp</title>
<style>body{{font:16px/1.5 system-ui,sans-serif;max-width:34rem;margin:3rem auto;padding:0 1rem;color:#222}}
input[type=password]{{width:100%;padding:.5rem;font:inherit;box-sizing:border-box}}
button{{margin-top:1rem;padding:.5rem 1.2rem;font:inherit}} .error{{color:#a00}} small{{color:#666}}</style>
</head><body><h1>{html.escape(title)}</h1>{body}</body></html>"""
    return HTMLResponse(document, status_code=status, headers=PAGE_HEADERS)


def _form(action: str, shown_as: str, *, linked: bool, error: str | None = None) -> HTMLResponse:
    shown = f'<p class="error">{html.escape(error)}</p>' if error else ""
    who = html.escape(shown_as or "the user this link was made for")
    confirm = (f'<p><label><input type="checkbox" name="confirm" value="yes" required> I am <b>{who}</b>'
               f'</label></p>')
    unlink = f"""<p>An MVSep account is linked to you on this server. Paste another token below to replace it, or
remove it.</p><form method="post" action="{html.escape(action)}">{confirm}
<input type="hidden" name="action" value="unlink">
<button type="submit">Unlink account</button></form>""" if linked else ""
    body = f"""<p>This page links an MVSep account to <b>{who}</b>, as your sign-in names you. If that is not you,
close it: someone may have sent you their link.</p>{unlink}<p>Link your MVSep account to this server. Copy your API
token from <a href="https://mvsep.com/user-api" rel="noreferrer noopener" target="_blank">mvsep.com/user-api</a> and
paste it here. It is checked with MVSep, stored encrypted, and used only for your own jobs; your assistant never sees
it.</p>
{shown}<form method="post" action="{html.escape(action)}" autocomplete="off">
<label for="token">MVSep API token</label>
<input type="password" id="token" name="token" required maxlength="{MAX_TOKEN_CHARS}" autofocus>
{confirm}
<button type="submit">Link account</button></form>
<p><small>This page works once and expires soon.</small></p>"""
    return _page("Link your MVSep account", body, status=400 if error else 200)
