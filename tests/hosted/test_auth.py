"""Authentication over real HTTP on loopback, as the MCP authorization spec asks of a resource server: 401 with the
resource metadata's address for no token, an invalid, expired, wrongly addressed or foreign-signed one; 403
``insufficient_scope`` naming the scope for a missing one; cross-origin browser requests refused; a valid token works
through the SDK's own client. Tokens are JWTs minted here and checked against a JWKS served on 127.0.0.1, opaque
tokens checked by RFC 7662 introspection, and static API keys from a hashed file.
"""

from __future__ import annotations

import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from cryptography.hazmat.primitives.asymmetric import rsa
from mvsep_mcp.hosted.api_keys import add_key, remove_keys
from mvsep_mcp_testbench.sandbox import SandboxServer

from tests.http_server import free_port

from .conftest import INITIALIZE, MCP_HEADERS, Issuer, RunningServer, hosted_settings, mcp_client, text_of

pytestmark = pytest.mark.timeout(120)

SEARCH = {"jsonrpc": "2.0", "id": 2, "method": "tools/call", "params": {"name": "search_models", "arguments": {}}}
SEPARATE = {"jsonrpc": "2.0", "id": 3, "method": "tools/call",
            "params": {"name": "separate_audio", "arguments": {"inputs": ["https://x.test/a.mp3"], "model": 27}}}
PREMIUM = {"jsonrpc": "2.0", "id": 4, "method": "tools/call",
           "params": {"name": "set_premium_mode", "arguments": {"enabled": True}}}


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory, issuer: Issuer, sandbox: SandboxServer) -> Iterator[RunningServer]:
    root = tmp_path_factory.mktemp("auth")
    port = free_port()
    keys = root / "api-keys"
    settings = hosted_settings(root, sandbox.base_url, port, auth_issuer=issuer.issuer,
                               auth_jwks_url=issuer.url + "/jwks.json",
                               auth_introspection_url=issuer.url + "/introspect",
                               auth_client_id=issuer.client_id, auth_client_secret=issuer.client_secret,
                               auth_api_keys=str(keys), allowed_origins="https://app.example.org")
    with RunningServer(settings, port) as running:
        yield running


def resource(server: RunningServer) -> str:
    return server.url + "/mcp"


async def post(server: RunningServer, body: dict[str, Any], token: str | None = None,
               headers: dict[str, str] | None = None) -> httpx.Response:
    sent = {**MCP_HEADERS, **({"Authorization": f"Bearer {token}"} if token else {}), **(headers or {})}
    async with httpx.AsyncClient(timeout=30) as http:
        return await http.post(resource(server), json=body, headers=sent)


def assert_401(response: httpx.Response, server: RunningServer) -> None:
    assert response.status_code == 401, response.text
    challenge = response.headers["www-authenticate"]
    assert challenge.startswith("Bearer ")
    assert f'resource_metadata="{server.url}/.well-known/oauth-protected-resource/mcp"' in challenge


async def test_protected_resource_metadata_lists_every_scope(server: RunningServer, issuer: Issuer) -> None:
    async with httpx.AsyncClient() as http:
        answer = await http.get(server.url + "/.well-known/oauth-protected-resource/mcp")
    assert answer.status_code == 200
    metadata = answer.json()
    assert metadata["resource"] == resource(server)
    assert metadata["authorization_servers"] == [issuer.issuer]
    assert metadata["scopes_supported"] == ["mvsep:read", "mvsep:separate", "mvsep:account"]


async def test_no_token_is_401_pointing_at_the_metadata(server: RunningServer) -> None:
    assert_401(await post(server, INITIALIZE), server)


@pytest.mark.parametrize("problem", ["garbage", "foreign key", "expired", "wrong audience", "wrong issuer",
                                     "inactive opaque", "unknown api key"])
async def test_invalid_tokens_are_401(server: RunningServer, issuer: Issuer, problem: str) -> None:
    aud = resource(server)
    token = {
        "garbage": lambda: "not-a-token",
        "foreign key": lambda: issuer.token("mallory", aud=aud, key=rsa.generate_private_key(65537, 2048)),
        "expired": lambda: issuer.token("alice", aud=aud, expires_in=-120),
        "wrong audience": lambda: issuer.token("alice", aud="https://other.example.org/mcp"),
        "wrong issuer": lambda: issuer.token("alice", aud=aud, iss="https://evil.example.org/"),
        "inactive opaque": lambda: issuer.opaque("alice", aud=aud, expires_in=-120),
        "unknown api key": lambda: "mvsk_" + "A" * 43,
    }[problem]()
    assert_401(await post(server, INITIALIZE, token), server)


async def test_a_valid_token_works_through_the_sdk_client(server: RunningServer, issuer: Issuer) -> None:
    async with mcp_client(server.url, issuer.token("alice", aud=resource(server))) as client:
        tools = await client.list_tools()
        assert "separate_audio" in {t.name for t in tools.tools}
        found = await client.call_tool("search_models", {"text": "demucs", "limit": 2})
        assert not found.is_error, text_of(found)
        unlinked = await client.call_tool("list_jobs", {})
        assert unlinked.is_error and "/account/link/" in text_of(unlinked)  # hosted: the user links their account


async def test_audience_may_be_one_of_a_list(server: RunningServer, issuer: Issuer) -> None:
    token = issuer.token("alice", aud=["https://other.example.org", resource(server)])
    answer = await post(server, INITIALIZE, token)
    assert answer.status_code == 200, answer.text


async def test_a_missing_scope_is_403_insufficient_scope(server: RunningServer, issuer: Issuer) -> None:
    reader = issuer.token("reader", aud=resource(server), scope="mvsep:read")
    assert (await post(server, INITIALIZE, reader)).status_code == 200
    assert (await post(server, SEARCH, reader)).status_code != 403  # a read-only tool: allowed
    for body, scope in ((SEPARATE, "mvsep:separate"), (PREMIUM, "mvsep:account")):
        refused = await post(server, body, reader)
        assert refused.status_code == 403, refused.text
        challenge = refused.headers["www-authenticate"]
        assert 'error="insufficient_scope"' in challenge and scope in challenge
        assert "resource_metadata=" in challenge
    nothing = issuer.token("nobody", aud=resource(server), scope="")
    assert (await post(server, INITIALIZE, nothing)).status_code == 403  # every request needs mvsep:read


def test_the_tool_wrapper_checks_scopes_through_get_access_token() -> None:
    """Past the HTTP layer (any other transport that authenticates), the tool wrapper checks the same scopes."""
    from mcp.server.auth.middleware.auth_context import auth_context_var
    from mcp.server.auth.middleware.bearer_auth import AuthenticatedUser
    from mcp.server.auth.provider import AccessToken
    from mvsep_mcp.errors import UserError
    from mvsep_mcp_tools._registration import _check_scopes

    _check_scopes(("mvsep:read", "mvsep:separate"))  # no authenticated user (stdio): nothing to check
    reader = AuthenticatedUser(AccessToken(token="t", client_id="c", scopes=["mvsep:read"]))
    reset = auth_context_var.set(reader)
    try:
        _check_scopes(("mvsep:read",))
        with pytest.raises(UserError, match="mvsep:separate"):
            _check_scopes(("mvsep:read", "mvsep:separate"))
    finally:
        auth_context_var.reset(reset)


async def test_cross_origin_requests_are_refused(server: RunningServer, issuer: Issuer) -> None:
    token = issuer.token("alice", aud=resource(server))
    refused = await post(server, INITIALIZE, token, headers={"Origin": "https://evil.example.org"})
    assert refused.status_code == 403, refused.text
    allowed = await post(server, INITIALIZE, token, headers={"Origin": "https://app.example.org"})
    assert allowed.status_code == 200, allowed.text
    own = await post(server, INITIALIZE, token, headers={"Origin": server.url})
    assert own.status_code == 200, own.text


async def test_a_foreign_host_header_is_refused(server: RunningServer, issuer: Issuer) -> None:
    token = issuer.token("alice", aud=resource(server))
    refused = await post(server, INITIALIZE, token, headers={"Host": "attacker.example.org"})
    assert refused.status_code == 421, refused.text


async def test_opaque_tokens_are_introspected_and_cached(server: RunningServer, issuer: Issuer) -> None:
    token = issuer.opaque("olga", aud=resource(server))
    before = issuer.introspections
    for _ in range(3):
        assert (await post(server, INITIALIZE, token)).status_code == 200
    assert issuer.introspections == before + 1
    foreign = issuer.opaque("olga", aud="https://other.example.org/mcp")
    assert_401(await post(server, INITIALIZE, foreign), server)


async def test_api_keys_from_a_hashed_file(server: RunningServer) -> None:
    path = server.settings.hosted.api_keys_file
    assert path is not None
    key = add_key(path, "robot", ("mvsep:read",))
    stored = path.read_text()
    assert key not in stored and key[5:] not in stored  # only its hash is kept
    assert sys.platform == "win32" or (path.stat().st_mode & 0o077) == 0  # owner-only (Windows: the folder's ACL)
    assert (await post(server, INITIALIZE, key)).status_code == 200
    assert (await post(server, SEPARATE, key)).status_code == 403  # a key has the scopes it was given
    assert remove_keys(path, "robot") == 1
    assert_401(await post(server, INITIALIZE, key), server)  # the file is read again when it changes


async def test_health_and_readiness_need_no_token(server: RunningServer) -> None:
    async with httpx.AsyncClient() as http:
        assert (await http.get(server.url + "/healthz")).json() == {"status": "ok"}
        ready = await http.get(server.url + "/readyz")
        assert ready.status_code == 200 and ready.json() == {"status": "ready"}
        assert ready.headers["x-request-id"]


def test_api_key_file_lines_are_checked(tmp_path: Path) -> None:
    from mvsep_mcp.hosted.api_keys import ApiKeyError, ApiKeyVerifier

    path = tmp_path / "keys"
    path.write_text("not a key line\n")
    with pytest.raises(ApiKeyError, match="line 1"):
        ApiKeyVerifier(path)
