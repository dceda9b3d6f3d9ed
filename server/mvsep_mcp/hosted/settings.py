"""Hosted mode's settings (part of :class:`mvsep_mcp.config.Settings` as ``settings.hosted``).

Environment variables (flags and the config file take the same names without ``MVSEP_``, in lower case):

    MVSEP_PUBLIC_URL             https://mcp.example.org: where users reach this server (behind its TLS proxy). The
                                 MCP endpoint (and OAuth resource) is <url>/mcp; link pages and downloads hang off it
    MVSEP_AUTH_ISSUER            the authorization server's issuer URL (checked as a JWT's iss, and published in the
                                 protected resource metadata)
    MVSEP_AUTH_JWKS_URL          verify bearer tokens as JWTs signed by a key of this JWKS
    MVSEP_AUTH_INTROSPECTION_URL verify bearer tokens by RFC 7662 introspection at this URL, authenticated with
    MVSEP_AUTH_CLIENT_ID / MVSEP_AUTH_CLIENT_SECRET
    MVSEP_AUTH_AUDIENCE          the audience a token must carry (default: <public url>/mcp, the resource)
    MVSEP_AUTH_ALGORITHMS        JWT signature algorithms accepted (default RS256,ES256)
    MVSEP_AUTH_API_KEYS          a file of static API keys, stored hashed (`mvsep-mcp keys add USER` makes one)
    MVSEP_HOSTED                 1: each user links their own MVSep account (default: on when any auth is set);
                                 0 with auth set: every authenticated user shares the server's MVSEP_API_TOKEN
    MVSEP_SERVER_KEY             the secret that encrypts linked MVSep tokens and signs download URLs; several,
                                 comma-separated, to rotate (the first seals, every one opens). Replicas share it
    MVSEP_SERVER_KEY_FILE        or a file holding it (default <data dir>/server.key, made on first start)
    MVSEP_ALLOWED_ORIGINS        browser origins allowed to call /mcp (default: none besides the public URL's)
    MVSEP_ALLOWED_HOSTS          Host headers accepted besides the public URL's (default: loopback only)
    MVSEP_USER_QUOTA_MB          storage per user (default 2048); MVSEP_RETENTION_DAYS: files kept this long (7)
    MVSEP_SESSIONS_PER_USER      legacy MCP sessions one signed-in user may hold (default 32; their idle ones close
                                 first when they open more)
    MVSEP_CALLS_PER_MINUTE       tool calls and resource reads one signed-in user may make a minute (default 120)
    MVSEP_REPLICA_ID             this replica's name (a-z, 0-9, -): legacy sessions' ids start with "<name>." so a
                                 proxy routes each session to the replica that holds it (deploy/Caddyfile)
"""

from __future__ import annotations

import re
from collections.abc import Callable
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from pydantic import BaseModel, ConfigDict, SecretStr

from mvsep_mcp import policy
from mvsep_mcp.hosted.errors import HostedError

DEFAULT_ALGORITHMS = ("RS256", "ES256")
REPLICA_ID = re.compile(r"^[a-z0-9-]{1,32}$")
MCP_PATH = "/mcp"


class HostedSettingError(HostedError):
    """A hosted-mode setting we cannot use (``config`` reports it as a ``ConfigError``)."""


class HostedSettings(BaseModel):
    model_config = ConfigDict(frozen=True)

    enabled: bool = False  # each authenticated user has their own MVSep account, jobs and folder
    public_url: str | None = None
    issuer: str | None = None
    jwks_url: str | None = None
    introspection_url: str | None = None
    client_id: str | None = None
    client_secret: SecretStr | None = None
    audience: str | None = None
    algorithms: tuple[str, ...] = DEFAULT_ALGORITHMS
    api_keys_file: Path | None = None
    server_key: SecretStr | None = None
    server_key_file: Path | None = None
    allowed_origins: tuple[str, ...] = ()
    allowed_hosts: tuple[str, ...] = ()
    quota_mb: int = policy.USER_QUOTA_MB
    retention_days: float = policy.RETENTION_DAYS
    sessions_per_user: int = policy.SESSIONS_PER_USER
    calls_per_minute: int = policy.CALLS_PER_MINUTE
    replica_id: str | None = None

    @property
    def auth_configured(self) -> bool:
        return bool(self.jwks_url or self.introspection_url or self.api_keys_file)

    @property
    def base_url(self) -> str:
        """The public URL without a trailing slash (``http://127.0.0.1`` when none is set: loopback use)."""
        return (self.public_url or "http://127.0.0.1").rstrip("/")

    @property
    def resource_url(self) -> str:
        """This server as an OAuth protected resource: its MCP endpoint."""
        return self.base_url + MCP_PATH

    @property
    def expected_audience(self) -> str:
        return self.audience or self.resource_url

    @property
    def issuer_url(self) -> str:
        """The authorization server published in the resource metadata (this server itself for API keys only)."""
        return self.issuer or self.base_url

    @property
    def quota_bytes(self) -> int:
        return self.quota_mb * 1024 * 1024

    @property
    def retention_s(self) -> float:
        return self.retention_days * 86400


Pick = Callable[[str], Any]


def load_hosted(pick: Pick) -> HostedSettings:
    """Hosted settings from ``pick(name)`` (flags, environment, config file: ``config._pick``)."""
    public_url = _url(pick("public_url"), "MVSEP_PUBLIC_URL")
    if public_url is not None and urlsplit(public_url).path.strip("/"):
        raise HostedSettingError(f"MVSEP_PUBLIC_URL is the server's origin, without a path (got {public_url!r}): the "
                                 f"MCP endpoint is always <url>{MCP_PATH}.")
    secret = pick("auth_client_secret")
    server_key = pick("server_key")
    keys_file, key_file = pick("auth_api_keys"), pick("server_key_file")
    settings = HostedSettings(
        public_url=public_url,
        issuer=_url(pick("auth_issuer"), "MVSEP_AUTH_ISSUER", strip=False),  # compared exactly, as RFC 8414 says
        jwks_url=_url(pick("auth_jwks_url"), "MVSEP_AUTH_JWKS_URL"),
        introspection_url=_url(pick("auth_introspection_url"), "MVSEP_AUTH_INTROSPECTION_URL"),
        client_id=_text(pick("auth_client_id")),
        client_secret=SecretStr(str(secret).strip()) if secret else None,
        audience=_text(pick("auth_audience")),
        algorithms=_listed(pick("auth_algorithms")) or DEFAULT_ALGORITHMS,
        api_keys_file=Path(str(keys_file)).expanduser() if keys_file else None,
        server_key=SecretStr(str(server_key).strip()) if server_key else None,
        server_key_file=Path(str(key_file)).expanduser() if key_file else None,
        allowed_origins=_listed(pick("allowed_origins")),
        allowed_hosts=_listed(pick("allowed_hosts")),
        quota_mb=_number(pick("user_quota_mb"), "MVSEP_USER_QUOTA_MB", policy.USER_QUOTA_MB, int),
        retention_days=_number(pick("retention_days"), "MVSEP_RETENTION_DAYS", policy.RETENTION_DAYS, float),
        sessions_per_user=_number(pick("sessions_per_user"), "MVSEP_SESSIONS_PER_USER", policy.SESSIONS_PER_USER,
                                  int),
        calls_per_minute=_number(pick("calls_per_minute"), "MVSEP_CALLS_PER_MINUTE", policy.CALLS_PER_MINUTE, int),
        replica_id=_text(pick("replica_id")),
    )
    if settings.replica_id is not None and not REPLICA_ID.match(settings.replica_id):
        raise HostedSettingError(f"MVSEP_REPLICA_ID is a short name of a-z, 0-9 and - (got {settings.replica_id!r}).")
    explicit = pick("hosted")
    enabled = settings.auth_configured if explicit is None else _switch(explicit)
    if enabled and not settings.auth_configured:
        raise HostedSettingError(
            "MVSEP_HOSTED is on but no way to authenticate users is set: set MVSEP_AUTH_JWKS_URL (with "
            "MVSEP_AUTH_ISSUER), MVSEP_AUTH_INTROSPECTION_URL, or MVSEP_AUTH_API_KEYS.")
    if settings.jwks_url and not settings.issuer:
        raise HostedSettingError("MVSEP_AUTH_JWKS_URL needs MVSEP_AUTH_ISSUER: the issuer every token must name.")
    if settings.introspection_url and not (settings.client_id and settings.client_secret):
        raise HostedSettingError("MVSEP_AUTH_INTROSPECTION_URL needs MVSEP_AUTH_CLIENT_ID and "
                                 "MVSEP_AUTH_CLIENT_SECRET: the credentials this server introspects with.")
    if settings.auth_configured and not settings.public_url:
        raise HostedSettingError("Authentication needs MVSEP_PUBLIC_URL (e.g. https://mcp.example.org): the address "
                                 "users reach, which tokens name as their audience.")
    return settings.model_copy(update={"enabled": enabled})


def _text(value: Any) -> str | None:
    text = str(value).strip() if value is not None else ""
    return text or None


def _url(value: Any, name: str, *, strip: bool = True) -> str | None:
    text = _text(value)
    if text is None:
        return None
    if not text.startswith(("https://", "http://")):
        raise HostedSettingError(f"{name} must be an http(s) URL (got {text!r}).")
    return text.rstrip("/") if strip else text


def _listed(value: Any) -> tuple[str, ...]:
    items = value.split(",") if isinstance(value, str) else list(value or ())
    return tuple(str(item).strip() for item in items if str(item).strip())


def _switch(value: Any) -> bool:
    if isinstance(value, bool):
        return value
    return str(value).strip().lower() in ("1", "true", "yes", "on")


def _number(value: Any, name: str, default: float, kind: type[int] | type[float]) -> Any:
    if value is None:
        return default
    try:
        number = kind(str(value).strip())
    except ValueError:
        raise HostedSettingError(f"{name} must be a number (got {value!r}).") from None
    if not number > 0:
        raise HostedSettingError(f"{name} must be more than 0 (got {number}).")
    return number
