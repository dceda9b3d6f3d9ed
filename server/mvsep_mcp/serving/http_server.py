"""Serving over streamable HTTP: the MCP wiring of :mod:`mvsep_mcp.hosted` (the domain side, free of MCP).

- **Authentication** (an OAuth 2.1 resource server): with any ``MVSEP_AUTH_*`` method set, the server is built with
  the SDK's ``AuthSettings`` and a ``TokenVerifier`` (:class:`PrincipalTokenVerifier`, over the JWT / introspection /
  API-key verifiers). The SDK then answers a request without a valid token with 401 and a ``WWW-Authenticate``
  naming the Protected Resource Metadata (RFC 9728), which it serves; this module serves that document itself so it
  lists every scope (``scopes_supported``), and the verifier checks the audience (``validate_token_resource`` off).
- **Scopes** (:class:`ScopeMiddleware`, inside the SDK's authentication): a JSON-RPC request whose token lacks a
  scope it needs (``hosted.scopes``: ``mvsep:read`` for every request, the tool's own for ``tools/call``) is
  answered 403 with ``error="insufficient_scope"`` and the scopes to ask for, before it reaches the server. The tool
  wrapper checks the same through ``get_access_token()`` for any other transport.
- **Origins**: the SDK's DNS-rebinding protection (``TransportSecuritySettings``) is on for a hosted server: the
  ``Host`` must be the public URL's (or loopback, or ``MVSEP_ALLOWED_HOSTS``), a browser's ``Origin`` the public
  URL's (or ``MVSEP_ALLOWED_ORIGINS``): a cross-origin request gets 403.
- **Request ids** (:class:`RequestIdMiddleware`, outermost): every HTTP request gets an id (a proxy's sane
  ``X-Request-Id``, else a new one), carried by each log line written while it is handled and sent back in the
  response; one log line per request (method, path without capability secrets, status, milliseconds; probes of
  /healthz, /readyz and /metrics at DEBUG), replacing uvicorn's access log.
- **Session affinity** (:class:`SessionAffinityMiddleware`, with ``MVSEP_REPLICA_ID``): a legacy session lives in
  one replica's memory, so its id is sent out as ``<replica>.<id>`` (and taken back in without the prefix): a proxy
  routes every request of a session to its replica by that prefix (``deploy/Caddyfile``); requests without a session
  (an ``initialize``, the stateless 2026 protocol) may go to any replica.
- **Resumable SSE streams** (:mod:`mvsep_mcp.serving.sse_resume`): every POST's SSE stream starts with a priming
  event and ``retry:`` (protocol 2025-11-25 on), and a client whose stream dropped gets it back, live, with
  ``Last-Event-ID``.
- **Endpoints beside /mcp** (``serving.pages``): ``/healthz``, ``/readyz``, ``/metrics``, and in hosted mode the
  account link page and signed downloads; and the lifespan hook that gives the session its per-user accounts.

Without auth settings nothing here changes what a client sees (the SDK's defaults: DNS-rebinding protection on
loopback hosts), except the extra endpoints.
"""

from __future__ import annotations

import importlib.util
import json
import logging
import re
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit

import anyio
import anyio.abc
from mcp.server.auth.middleware.bearer_auth import AuthenticatedUser
from mcp.server.auth.provider import AccessToken, TokenVerifier
from mcp.server.auth.routes import build_resource_metadata_url
from mcp.server.auth.settings import AuthSettings
from mcp.server.mcpserver import MCPServer
from mcp.server.transport_security import TransportSecuritySettings
from pydantic import AnyHttpUrl
from starlette.applications import Starlette
from starlette.datastructures import Headers
from starlette.middleware import Middleware
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from mvsep_mcp import policy
from mvsep_mcp.config import ConfigError, Settings
from mvsep_mcp.hosted import scopes
from mvsep_mcp.hosted.api_keys import ApiKeyError, ApiKeyVerifier
from mvsep_mcp.hosted.paths import CAPABILITY_PATHS
from mvsep_mcp.hosted.settings import MCP_PATH, HostedSettingError, HostedSettings
from mvsep_mcp.logs import REQUEST_ID, register_secret
from mvsep_mcp.serving.guards import JSONRPC_REQUESTS, guard, principal_of
from mvsep_mcp.serving.sse_resume import ResumableStreams
from mvsep_mcp.serving.stopping import stopping_uvicorn

if TYPE_CHECKING:
    from mvsep_mcp.hosted.tokens import ChainVerifier, Verifier
    from mvsep_mcp.hosted.vault import ServerKey
    from mvsep_mcp.serving.users import HostedAccounts
    from mvsep_mcp.session import Session

log = logging.getLogger(__name__)
access_log = logging.getLogger("mvsep_mcp.http")

QUIET_PATHS = frozenset({"/healthz", "/readyz", "/metrics"})  # probed every few seconds: logged at DEBUG only
# capability URLs (a link ticket, a signed download) are logged without their secret part
_CAPABILITY_PATH = re.compile(r"^(" + "|".join(map(re.escape, CAPABILITY_PATHS)) + r")[^/]+")
LOOPBACK_HOSTS = ("127.0.0.1:*", "localhost:*", "[::1]:*", "127.0.0.1", "localhost", "[::1]")
_SANE_REQUEST_ID = re.compile(r"^[A-Za-z0-9._-]{1,64}$")


class PrincipalTokenVerifier(TokenVerifier):
    """The SDK's ``TokenVerifier`` over a domain verifier: a verified principal becomes an ``AccessToken`` whose
    ``subject`` and ``iss`` claim identify the user (``mvsep_mcp_tools._caller.current_user``)."""

    def __init__(self, verifier: Verifier) -> None:
        self.verifier = verifier

    async def verify_token(self, token: str) -> AccessToken | None:
        principal = await self.verifier.verify(token)
        if principal is None:
            return None
        return AccessToken(token=token, client_id=principal.client_id, scopes=list(principal.scopes),
                           expires_at=principal.expires_at, resource=principal.audience,
                           subject=principal.subject or None, claims={"iss": principal.issuer, "name": principal.name})


def verifier_for(hosted: HostedSettings) -> ChainVerifier:
    from mvsep_mcp.hosted.tokens import ChainVerifier, IntrospectionVerifier, JwtVerifier  # PyJWT: only with auth

    try:
        api_keys = ApiKeyVerifier(hosted.api_keys_file) if hosted.api_keys_file else None
    except ApiKeyError as exc:
        raise ConfigError(exc.user_text()) from None
    try:
        jwt_verifier = (JwtVerifier(hosted.jwks_url, issuer=hosted.issuer_url, audience=hosted.expected_audience,
                                    algorithms=hosted.algorithms) if hosted.jwks_url else None)
    except HostedSettingError as exc:
        raise ConfigError(exc.user_text()) from None
    introspection = None
    if hosted.introspection_url and hosted.client_id and hosted.client_secret:
        introspection = IntrospectionVerifier(hosted.introspection_url, client_id=hosted.client_id,
                                              client_secret=hosted.client_secret.get_secret_value(),
                                              audience=hosted.expected_audience, issuer=hosted.issuer_url)
    return ChainVerifier(api_keys=api_keys, jwt_verifier=jwt_verifier, introspection=introspection)


@dataclass
class Hosting:
    """What :func:`mvsep_mcp.app.create_server` needs for HTTP use: the SDK's auth settings and verifier (None
    without auth), the server key (hosted mode), the lifespan hooks and the endpoints beside /mcp."""

    settings: Settings
    auth: AuthSettings | None = None
    token_verifier: TokenVerifier | None = None
    server_key: ServerKey | None = None

    async def attach(self, session: Session, task_group: anyio.abc.TaskGroup) -> None:
        """Hosted mode: give the session its per-user accounts and start their background work."""
        if self.server_key is None:
            return
        from mvsep_mcp.serving.users import HostedAccounts

        users = HostedAccounts(session, self.server_key)
        session.users = users
        await task_group.start(users.run)

    async def detach(self, session: Session) -> None:
        users: HostedAccounts | None = session.users  # type: ignore[assignment]
        if users is not None:
            await users.aclose()

    def add_routes(self, server: MCPServer[Any], current_session: Callable[[], Session | None]) -> None:
        from mvsep_mcp.serving.pages import health_routes, hosted_routes

        routes = health_routes(current_session, _metrics(current_session))
        if self.server_key is not None:
            routes += hosted_routes(current_session, self.server_key.signing_keys()[-1], principal_of)
        for route in routes:
            server.custom_route(route.path, methods=sorted(route.methods or ()))(route.endpoint)


def _metrics(current_session: Callable[[], Session | None]) -> Callable[[], bytes] | None:
    """What ``/metrics`` serves; prometheus_client (the [hosted] extra) is imported at the first scrape."""
    try:
        if importlib.util.find_spec("prometheus_client") is None:
            return None
    except ImportError:
        return None
    registries: list[Any] = []

    def produce() -> bytes:
        from mvsep_mcp.serving.metrics import exposition, registry_for

        if not registries:
            registries.append(registry_for(current_session))
        return exposition(registries[0])

    return produce


def prepare(settings: Settings) -> Hosting:
    """Build what ``settings`` ask for; a setting that cannot work is a ``ConfigError`` before anything starts."""
    hosted = settings.hosted
    hosting = Hosting(settings)
    if hosted.auth_configured:
        hosting.auth = AuthSettings(issuer_url=AnyHttpUrl(hosted.issuer_url),
                                    resource_server_url=AnyHttpUrl(hosted.resource_url),
                                    validate_token_resource=False)  # the verifier checks the audience itself
        hosting.token_verifier = PrincipalTokenVerifier(verifier_for(hosted))
    if hosted.enabled:
        try:  # what the [hosted] extra brings, checked before anything starts
            import mvsep_mcp.hosted.signing  # noqa: F401 - itsdangerous
            from mvsep_mcp.hosted.vault import ServerKeyError, load_server_key
        except ImportError as exc:
            raise ConfigError(f"Hosted mode needs the hosted extra ({exc.name} is missing): "
                              f"pip install 'mvsep-mcp[hosted]'.") from None
        try:
            hosting.server_key = load_server_key(
                hosted.server_key.get_secret_value() if hosted.server_key else None,
                hosted.server_key_file or settings.data_dir / "server.key")
        except ServerKeyError as exc:
            raise ConfigError(exc.user_text()) from None
        for secret in hosting.server_key.secrets:  # configured: a trusted value, kept out of every log
            register_secret(secret)
    return hosting


# --- the HTTP app ----------------------------------------------------------------------------------------------------


def transport_security(settings: Settings, host: str) -> TransportSecuritySettings | None:
    """DNS-rebinding and origin checks: the SDK's loopback default, or for a server with a public URL its host and
    origin (plus the configured ones and loopback, for health checks and a proxy on the same machine)."""
    hosted = settings.hosted
    if not hosted.public_url:
        return None  # the SDK protects a loopback bind by itself; anything else is as before
    public = urlsplit(hosted.public_url)
    hosts = [public.netloc, f"{public.hostname}:*", *hosted.allowed_hosts, *LOOPBACK_HOSTS]
    origins = [f"{public.scheme}://{public.netloc}", *hosted.allowed_origins]
    return TransportSecuritySettings(enable_dns_rebinding_protection=True, allowed_hosts=list(dict.fromkeys(hosts)),
                                     allowed_origins=list(dict.fromkeys(origins)))


def http_app(server: MCPServer[Any], settings: Settings, *, host: str) -> Starlette:
    """The Starlette app serving ``/mcp`` and the endpoints beside it, with this module's middleware."""
    app = server.streamable_http_app(transport_security=transport_security(settings, host), host=host,
                                     event_store=ResumableStreams(), retry_interval=policy.SSE_RETRY_MS)
    if settings.hosted.auth_configured:
        read_only = {t.name for t in server._tool_manager.list_tools()
                     if t.annotations is not None and t.annotations.read_only_hint}
        # appended: innermost, so it runs after the SDK's authentication has put the user in the scope
        app.user_middleware.append(Middleware(ScopeMiddleware, hosted=settings.hosted, read_only_tools=read_only))
    if settings.hosted.replica_id:
        app.add_middleware(SessionAffinityMiddleware, replica=settings.hosted.replica_id)
    guard(app, server, settings)  # body limits on every route; sessions and calls per principal (http_guards)
    app.add_middleware(RequestIdMiddleware)  # outermost: every request, every log line
    return app


def serve_http(server: MCPServer[Any], settings: Settings, *, host: str, port: int) -> None:
    import uvicorn

    if not settings.hosted.auth_configured and host not in ("127.0.0.1", "localhost", "::1"):
        log.warning("serving on %s without authentication: anyone who reaches this port acts as the server's MVSep "
                    "account (set MVSEP_AUTH_* for a hosted server; see README 'Hosting it')", host)
    app = http_app(server, settings, host=host)
    config = uvicorn.Config(app, host=host, port=port, log_level=logging.getLevelName(log.getEffectiveLevel()).lower(),
                            proxy_headers=True, server_header=False, access_log=False)  # ours: ids, no secrets
    anyio.run(stopping_uvicorn(config).serve)


def _loggable(path: str) -> str:
    return _CAPABILITY_PATH.sub(r"\1***", path)


class RequestIdMiddleware:
    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        given = Headers(scope=scope).get("x-request-id", "")
        request_id = given if _SANE_REQUEST_ID.match(given) else uuid.uuid4().hex[:16]
        token = REQUEST_ID.set(request_id)
        started = time.monotonic()
        status = 0

        async def send_with_id(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = int(message["status"])
                message = {**message, "headers": [*message.get("headers", []),
                                                  (b"x-request-id", request_id.encode())]}
            await send(message)

        try:
            await self.app(scope, receive, send_with_id)
        finally:
            path = str(scope.get("path", ""))
            access_log.log(logging.DEBUG if path in QUIET_PATHS else logging.INFO, "%s %s %d %.0f ms",
                           scope.get("method"), _loggable(path), status, (time.monotonic() - started) * 1000)
            REQUEST_ID.reset(token)


SESSION_HEADER = b"mcp-session-id"


class SessionAffinityMiddleware:
    """Session ids out as ``<replica>.<id>``, in as ``<id>``: a proxy can route a legacy session to its replica."""

    def __init__(self, app: ASGIApp, *, replica: str) -> None:
        self.app = app
        self.prefix = f"{replica}.".encode()

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        headers = [(name, value.removeprefix(self.prefix) if name == SESSION_HEADER else value)
                   for name, value in scope["headers"]]

        async def send_prefixed(message: Message) -> None:
            if message["type"] == "http.response.start":
                message = {**message, "headers": [(name, self.prefix + value if name == SESSION_HEADER else value)
                                                  for name, value in message.get("headers", [])]}
            await send(message)

        await self.app({**scope, "headers": headers}, receive, send_prefixed)


class ScopeMiddleware:
    """403 ``insufficient_scope`` for an MCP request its token may not make; the full resource metadata."""

    def __init__(self, app: ASGIApp, *, hosted: HostedSettings, read_only_tools: set[str]) -> None:
        self.app = app
        self.read_only_tools = read_only_tools
        self.metadata_url = str(build_resource_metadata_url(AnyHttpUrl(hosted.resource_url)))
        self.metadata_path = urlsplit(self.metadata_url).path
        self.metadata = json.dumps({
            "resource": hosted.resource_url,
            "authorization_servers": [hosted.issuer_url],
            "scopes_supported": list(scopes.ALL_SCOPES),
            "bearer_methods_supported": ["header"],
            "resource_name": "MVSep music separation (mvsep-mcp)",
        }).encode()

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        if scope["path"] == self.metadata_path and scope["method"] == "GET":
            await _respond(send, 200, self.metadata, [(b"content-type", b"application/json"),
                                                      (b"access-control-allow-origin", b"*"),
                                                      (b"cache-control", b"public, max-age=3600")])
            return
        user = scope.get("user")
        if scope["path"] != MCP_PATH or scope["method"] != "POST" or not isinstance(user, AuthenticatedUser):
            await self.app(scope, receive, send)  # the SDK answers 401 without a valid token
            return
        body, messages = await _read_body(receive)
        if body is None:
            await _respond(send, 413, b"Request body too large", [(b"content-type", b"text/plain"),
                                                                   (b"connection", b"close")])
            return
        requests = _parsed(body)
        needed = self._needed(requests)
        lacking = scopes.missing(user.scopes, needed)
        if lacking:
            challenge = (f'Bearer error="insufficient_scope", scope="{" ".join(needed)}", '
                         f'resource_metadata="{self.metadata_url}", '
                         f'error_description="Required scope: {" ".join(lacking)}"')
            payload = json.dumps({"error": "insufficient_scope",
                                  "error_description": f"Required scope: {' '.join(lacking)}"}).encode()
            await _respond(send, 403, payload, [(b"content-type", b"application/json"),
                                                (b"www-authenticate", challenge.encode())])
            return

        async def replay() -> Message:
            return messages.pop(0) if messages else await receive()

        await self.app({**scope, JSONRPC_REQUESTS: requests}, replay, send)  # for the call limits inside

    def _needed(self, requests: list[Any]) -> tuple[str, ...]:
        needed: list[str] = [scopes.READ]
        for request in requests:
            if not isinstance(request, dict) or not isinstance(request.get("method"), str):
                continue
            params = request.get("params")
            tool = params.get("name") if isinstance(params, dict) and isinstance(params.get("name"), str) else None
            needed += scopes.needed_scopes(request["method"], tool, self.read_only_tools)
        return tuple(dict.fromkeys(needed))


def _parsed(body: bytes) -> list[Any]:
    """The JSON-RPC requests of a body (a batch or one; none when it is not JSON: the transport answers that)."""
    try:
        parsed = json.loads(body) if body else None
    except ValueError:
        return []
    return parsed if isinstance(parsed, list) else [parsed]


async def _read_body(receive: Receive) -> tuple[bytes | None, list[Message]]:
    """The request body and the messages to replay; ``None`` as soon as it passes the limit (which the SDK would
    refuse too): nothing beyond the limit is read or held."""
    chunks: list[bytes] = []
    size = 0
    while True:
        message = await receive()
        if message["type"] != "http.request":
            return b"".join(chunks), [{"type": "http.request", "body": b"".join(chunks), "more_body": True}, message]
        chunk = message.get("body", b"")
        size += len(chunk)
        if size > policy.MCP_BODY_MAX_BYTES:
            return None, []
        chunks.append(chunk)
        if not message.get("more_body", False):
            body = b"".join(chunks)
            return body, [{"type": "http.request", "body": body, "more_body": False}]


async def _respond(send: Send, status: int, body: bytes, headers: list[tuple[bytes, bytes]]) -> None:
    await send({"type": "http.response.start", "status": status,
                "headers": [*headers, (b"content-length", str(len(body)).encode())]})
    await send({"type": "http.response.body", "body": body})
