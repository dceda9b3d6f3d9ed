"""Bearer tokens verified against the authorization server: a JWT signed by a key of its JWKS, or RFC 7662
introspection. Both answer a :class:`~mvsep_mcp.hosted.identity.Principal`, or ``None`` for any token that is not
valid here (bad signature, wrong issuer or audience, expired, inactive): the HTTP layer answers 401 for it.

- :class:`JwtVerifier`: PyJWT's ``PyJWKClient`` fetches and caches the JWKS (``JWKS_CACHE_S``; a key id it has not
  seen fetches it again, at most once per ``JWKS_REFETCH_COOLDOWN_S``: PyJWT 2.14's cooldown, so tokens with made-up
  key ids cannot make this server hammer the authorization server); ``jwt.decode`` checks the signature with an
  allowed algorithm only, ``exp`` (required), ``nbf``, ``iss`` and ``aud`` (RFC 8707: the resource, this server's
  ``/mcp`` URL, unless configured otherwise).
- :class:`IntrospectionVerifier`: POSTs the token to the introspection endpoint with the server's client credentials
  (HTTP basic), accepts only ``active`` answers whose ``aud`` names this server and whose ``exp`` lies ahead, and
  caches them by the token's SHA-256 for ``INTROSPECTION_CACHE_S`` at most.
- :class:`ChainVerifier`: API keys first (they announce themselves by prefix), then a JWT (when a JWKS is set, it
  alone decides on anything shaped like a JWT), then introspection for every other token.

Scopes come from ``scope`` (space-separated, RFC 8693/9068) or ``scp`` (a list, as some servers write it).
"""

from __future__ import annotations

import hashlib
import logging
import time
from collections import OrderedDict
from collections.abc import Sequence
from typing import Any, Protocol

import anyio.to_thread
import httpx
import jwt

from mvsep_mcp import policy
from mvsep_mcp.hosted.api_keys import ApiKeyVerifier
from mvsep_mcp.hosted.identity import Principal, shown_name
from mvsep_mcp.hosted.settings import HostedSettingError

log = logging.getLogger(__name__)


class Verifier(Protocol):
    async def verify(self, token: str) -> Principal | None: ...


def scopes_of(claims: dict[str, Any]) -> tuple[str, ...]:
    scope = claims.get("scope")
    if isinstance(scope, str):
        return tuple(scope.split())
    scp = claims.get("scp")
    if isinstance(scp, list):
        return tuple(str(s) for s in scp)
    if isinstance(scp, str):
        return tuple(scp.split())
    return ()


def _audience_matching(aud: Any, expected: str) -> str | None:
    """The entry of a token's ``aud`` (a string or a list) equal to ``expected`` (a trailing slash aside)."""
    entries = aud if isinstance(aud, list) else [aud]
    for entry in entries:
        if isinstance(entry, str) and entry.rstrip("/") == expected.rstrip("/"):
            return entry
    return None


def _principal(claims: dict[str, Any], issuer: str, audience: str) -> Principal | None:
    subject = claims.get("sub")
    client_id = claims.get("client_id") or claims.get("azp") or subject
    if not isinstance(client_id, str) or not client_id:
        return None
    exp = claims.get("exp")
    subject_text = str(subject) if subject else ""
    return Principal(issuer=str(claims.get("iss") or issuer), subject=subject_text,
                     client_id=client_id, scopes=scopes_of(claims),
                     expires_at=int(exp) if isinstance(exp, (int, float)) else None, audience=audience,
                     name=shown_name(claims, subject_text or client_id))


PYJWT_WITH_COOLDOWN = (2, 14)  # PyJWKClient's cooldown_duration: made-up key ids refetch the JWKS only so often


def _pyjwt_version() -> tuple[int, ...]:
    return tuple(int(part) for part in jwt.__version__.split(".")[:2] if part.isdigit())


class JwtVerifier:
    def __init__(self, jwks_url: str, *, issuer: str, audience: str, algorithms: Sequence[str]) -> None:
        if _pyjwt_version() < PYJWT_WITH_COOLDOWN:
            raise HostedSettingError(f"Signing in with JWTs needs PyJWT 2.14 or later (this is {jwt.__version__}): "
                                     f"pip install 'mvsep-mcp[hosted]'.")
        self.issuer, self.audience, self.algorithms = issuer, audience, list(algorithms)
        self._jwks = jwt.PyJWKClient(jwks_url, cache_keys=True, lifespan=policy.JWKS_CACHE_S,
                                     timeout=policy.JWKS_TIMEOUT_S, cooldown_duration=policy.JWKS_REFETCH_COOLDOWN_S)

    @staticmethod
    def looks_like_jwt(token: str) -> bool:
        return token.count(".") == 2

    async def verify(self, token: str) -> Principal | None:
        if not self.looks_like_jwt(token):
            return None
        try:
            # the key fetch is blocking (urllib) and rare (cached): a worker thread keeps the event loop free
            key = await anyio.to_thread.run_sync(self._jwks.get_signing_key_from_jwt, token)
            claims = jwt.decode(token, key.key, algorithms=self.algorithms, audience=self.audience,
                                issuer=self.issuer, leeway=policy.JWT_LEEWAY_S,
                                options={"require": ["exp", "iss", "aud"]})
        except jwt.PyJWKClientConnectionError as exc:
            log.warning("the authorization server's JWKS could not be fetched: %s", exc)
            return None
        except jwt.PyJWTError as exc:
            log.info("bearer token refused: %s", type(exc).__name__)
            return None
        return _principal(claims, self.issuer, _audience_matching(claims.get("aud"), self.audience) or self.audience)


class IntrospectionVerifier:
    def __init__(self, url: str, *, client_id: str, client_secret: str, audience: str, issuer: str,
                 transport: httpx.AsyncBaseTransport | None = None) -> None:
        self.url, self.audience, self.issuer = url, audience, issuer
        self._auth = httpx.BasicAuth(client_id, client_secret)
        self._http = httpx.AsyncClient(timeout=policy.INTROSPECTION_TIMEOUT_S, transport=transport)
        self._cache: OrderedDict[str, tuple[float, Principal]] = OrderedDict()

    async def verify(self, token: str) -> Principal | None:
        key = hashlib.sha256(token.encode()).hexdigest()
        now = time.time()
        cached = self._cache.get(key)
        if cached is not None and cached[0] > now:
            return cached[1]
        try:
            response = await self._http.post(self.url, data={"token": token, "token_type_hint": "access_token"},
                                             auth=self._auth, headers={"Accept": "application/json"})
        except httpx.HTTPError as exc:
            log.warning("token introspection failed: %s", type(exc).__name__)
            return None
        if response.status_code != 200:
            log.warning("token introspection answered HTTP %d", response.status_code)
            return None
        try:
            claims = response.json()
        except ValueError:
            return None
        if not isinstance(claims, dict) or claims.get("active") is not True:
            return None
        audience = _audience_matching(claims.get("aud"), self.audience)
        exp = claims.get("exp")
        if audience is None or not isinstance(exp, (int, float)) or exp <= now:
            return None  # a token for another resource, or one that never expires, is not taken
        principal = _principal(claims, self.issuer, audience)
        if principal is not None:
            self._cache[key] = (min(now + policy.INTROSPECTION_CACHE_S, float(exp)), principal)
            while len(self._cache) > policy.INTROSPECTION_CACHE_ENTRIES:
                self._cache.popitem(last=False)
        return principal

    async def aclose(self) -> None:
        await self._http.aclose()


class ChainVerifier:
    """API keys, then JWTs, then introspection: the first that recognises the token decides."""

    def __init__(self, *, api_keys: ApiKeyVerifier | None = None, jwt_verifier: JwtVerifier | None = None,
                 introspection: IntrospectionVerifier | None = None) -> None:
        self.api_keys, self.jwt, self.introspection = api_keys, jwt_verifier, introspection

    async def verify(self, token: str) -> Principal | None:
        if self.api_keys is not None and (found := self.api_keys.verify(token)) is not None:
            return found
        if self.jwt is not None and self.jwt.looks_like_jwt(token):
            return await self.jwt.verify(token)  # a JWT refused here is not given a second chance elsewhere
        if self.introspection is not None:
            return await self.introspection.verify(token)
        return None
