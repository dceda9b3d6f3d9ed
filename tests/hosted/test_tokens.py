"""Bearer tokens checked against the authorization server without letting callers make it work for them: tokens
with made-up key ids (``kid``) fetch the JWKS at most once a minute (PyJWT's cooldown), and the name the
authorization server gives a user is what the link page shows."""

from __future__ import annotations

import uuid

import pytest
from mvsep_mcp import policy
from mvsep_mcp.hosted.tokens import JwtVerifier

from .conftest import Issuer

AUDIENCE = "https://mcp.example.org/mcp"


def verifier(issuer: Issuer) -> JwtVerifier:
    return JwtVerifier(issuer.url + "/jwks.json", issuer=issuer.issuer, audience=AUDIENCE, algorithms=["RS256"])


async def test_twenty_unknown_key_ids_fetch_the_jwks_at_most_once_a_minute(issuer: Issuer) -> None:
    assert policy.JWKS_REFETCH_COOLDOWN_S >= 60
    cold = verifier(issuer)
    before = issuer.jwks_fetches
    for _ in range(20):
        assert await cold.verify(issuer.token("mallory", aud=AUDIENCE, kid=uuid.uuid4().hex)) is None
    assert issuer.jwks_fetches - before <= 1  # the first fills the cache; the other 19 wait for the cooldown
    warm = verifier(issuer)
    assert await warm.verify(issuer.token("alice", aud=AUDIENCE)) is not None
    before = issuer.jwks_fetches
    for _ in range(20):
        assert await warm.verify(issuer.token("mallory", aud=AUDIENCE, kid=uuid.uuid4().hex)) is None
    assert issuer.jwks_fetches == before  # the fetch that verified alice started the cooldown
    assert await warm.verify(issuer.token("alice", aud=AUDIENCE)) is not None  # the known key still works


@pytest.mark.parametrize(("claims", "shown"), [
    ({"name": "Ada Lovelace", "email": "ada@example.org"}, "Ada Lovelace (ada@example.org)"),
    ({"email": "ada@example.org"}, "ada@example.org"),
    ({"preferred_username": "ada"}, "ada"),
    ({}, "sub-42"),
])
async def test_the_name_a_token_gives_its_user(issuer: Issuer, claims: dict[str, str], shown: str) -> None:
    principal = await verifier(issuer).verify(issuer.token("sub-42", aud=AUDIENCE, **claims))
    assert principal is not None and principal.name == shown


def test_an_older_pyjwt_is_refused_at_start(issuer: Issuer, monkeypatch: pytest.MonkeyPatch) -> None:
    """Without the refetch cooldown (PyJWT before 2.14, which the SDK alone allows) the server does not start."""
    from mvsep_mcp.hosted import tokens
    from mvsep_mcp.hosted.settings import HostedSettingError

    monkeypatch.setattr(tokens.jwt, "__version__", "2.13.0")
    with pytest.raises(HostedSettingError, match="PyJWT 2.14 or later"):
        verifier(issuer)
