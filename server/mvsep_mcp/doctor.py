"""`mvsep-mcp doctor`: checks the setup a user controls, one line per check, each problem with its fix.

Checks, in order: the settings load; MVSep (or the configured base URL) answers; the token is set and accepted; premium
mode; the credit balance; the output folder is writable; the job journal is readable and sound; the toolsets. A server
for many users (hosted mode) has no token of its own, so the token, premium and credit lines are skipped and four more
follow: the hosted extra is installed, the server key, every way of signing users in answers (the JWKS has keys, the
introspection endpoint takes the server's credentials, the API keys file reads), and the public URL is https.
Nothing here changes anything: the output folder is probed with a temporary file that is removed at once, the journal
is opened read-only. The token itself never appears: only where it came from.

This is a terminal command (not the server), so its report goes to stdout; logs still go to stderr.
"""

from __future__ import annotations

import os
import sqlite3
import tempfile
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

import anyio
import httpx

from mvsep_mcp import policy
from mvsep_mcp.config import ALL_TOOLSETS, ConfigError, Settings, load_settings
from mvsep_mcp.mvsep import MVSepClient
from mvsep_mcp.mvsep.errors import APIError, AuthenticationError, MVSepError, TransportError
from mvsep_mcp.mvsep.models import UserInfo

Status = Literal["ok", "warn", "fail", "skip"]
TOKEN_PAGE = "https://mvsep.com/user-api"
PREMIUM_PAGE = "https://mvsep.com/full_api"


@dataclass(frozen=True)
class Check:
    """One line of the report: what was checked, how it went, what was found, and what to do about it."""

    name: str
    status: Status
    detail: str
    fix: str = ""

    def line(self) -> str:
        mark = {"ok": "ok  ", "warn": "WARN", "fail": "FAIL", "skip": "skip"}[self.status]
        text = f"[{mark}] {self.name:<11} {self.detail}"
        return f"{text} → fix: {self.fix}" if self.fix else text


# --- the checks --------------------------------------------------------------------------------------------------


async def check_reachable(settings: Settings, client: MVSepClient) -> Check:
    """The base URL answers an API call (any HTTP answer counts: an error page is still an answer)."""
    try:
        await client.queue()
    except TransportError as exc:
        return Check(
            "mvsep",
            "fail",
            f"{settings.base_url} does not answer ({type(exc).__name__})",
            "check the network connection, or MVSEP_BASE_URL if you set one (the default is "
            f"{policy.DEFAULT_BASE_URL})",
        )
    except APIError as exc:
        return Check("mvsep", "ok", f"{settings.base_url} answers (HTTP {exc.status_code} on the queue endpoint)")
    except MVSepError as exc:
        return Check("mvsep", "warn", f"{settings.base_url} answered oddly: {exc}", "try again in a minute")
    return Check("mvsep", "ok", f"{settings.base_url} answers")


async def check_token(settings: Settings, client: MVSepClient | None) -> tuple[Check, UserInfo | None]:
    if client is None:
        return Check(
            "token",
            "fail",
            "no API token is set",
            f"run `mvsep-mcp login`, or set MVSEP_API_TOKEN in your MCP client's configuration (token at {TOKEN_PAGE})",
        ), None
    source = settings.token_source
    try:
        user = await client.user()
    except AuthenticationError:
        return Check(
            "token",
            "fail",
            f"MVSep refused the token (from the {source})",
            f"copy a fresh token from {TOKEN_PAGE} and run `mvsep-mcp login` (or update MVSEP_API_TOKEN)",
        ), None
    except MVSepError as exc:
        return Check("token", "warn", f"could not be checked ({type(exc).__name__})", "see the mvsep line"), None
    who = user.name or user.email or "your account"
    return Check("token", "ok", f"valid: signed in as {who} (token from the {source})"), user


def check_premium(user: UserInfo | None) -> Check:
    if user is None:
        return Check("premium", "skip", "needs a valid token")
    if user.premium_enabled:
        return Check("premium", "ok", f"on: up to {policy.PREMIUM_CONCURRENT_JOBS} jobs at once, premium queue")
    return Check(
        "premium",
        "warn",
        f"off: jobs wait in the free queue, {policy.FREE_CONCURRENT_JOBS} at a time, and spend no credits",
        "turn it on with the set_premium_mode tool (toolset account) or on mvsep.com, if you have credits",
    )


def check_credits(user: UserInfo | None) -> Check:
    if user is None:
        return Check("credits", "skip", "needs a valid token")
    balance = user.premium_minutes
    if balance > 0:
        return Check("credits", "ok", f"{balance:g} premium credits")
    return Check(
        "credits",
        "warn",
        "0 premium credits: premium-only models will be refused",
        f"buy credits on {PREMIUM_PAGE}, or use free models (search_models shows who may use each)",
    )


def check_output_dir(path: Path) -> Check:
    """Writable now, or creatable: the nearest existing folder above it is writable."""
    if path.exists() and not path.is_dir():
        return Check("output", "fail", f"{path} is a file, not a folder", "set MVSEP_OUTPUT_DIR to a folder")
    if path.is_dir():
        try:
            with tempfile.NamedTemporaryFile(dir=path, prefix=".mvsep-doctor-"):
                pass
        except OSError as exc:
            return Check(
                "output",
                "fail",
                f"{path} is not writable ({exc.strerror or type(exc).__name__})",
                "fix the folder's permissions or set MVSEP_OUTPUT_DIR to a folder you can write to",
            )
        return Check("output", "ok", f"{path} is writable")
    parent = path.parent
    while not parent.exists() and parent != parent.parent:
        parent = parent.parent
    if parent.is_dir() and os.access(parent, os.W_OK | os.X_OK):
        return Check("output", "ok", f"{path} will be created at the first separation")
    return Check(
        "output",
        "fail",
        f"{path} cannot be created ({parent} is not writable)",
        "set MVSEP_OUTPUT_DIR to a folder you can write to",
    )


def check_journal(path: Path) -> Check:
    """Opened read-only: a quick integrity check, the schema version, and the jobs it holds; a damaged journal the
    server moved aside (its note beside the kept file) is a warning naming the kept file."""
    from mvsep_mcp.jobs.journal import SCHEMA_VERSION
    from mvsep_mcp.jobs.journal.salvage import JournalDamage, notes_beside
    from mvsep_mcp.jobs.models import NON_TERMINAL_STATES

    if not path.exists():
        return Check("journal", "ok", f"none yet ({path} is created at the first start)")
    moved = (f"start the server: it moves {path} aside (kept beside it with a timestamp), starts a fresh journal and "
             f"recovers the jobs that still read")
    try:
        with sqlite3.connect(f"file:{path}?mode=ro", uri=True, timeout=policy.DOCTOR_JOURNAL_TIMEOUT_S) as db:
            integrity = db.execute("PRAGMA quick_check").fetchone()[0]
            if integrity != "ok":
                return Check("journal", "fail", f"{path} is damaged ({integrity})", moved)
            version_row = db.execute("SELECT version FROM schema_version").fetchone()
            version = int(version_row[0]) if version_row else 0
            if version > SCHEMA_VERSION:
                return Check(
                    "journal",
                    "fail",
                    f"{path} was written by a newer mvsep-mcp (schema {version} > {SCHEMA_VERSION})",
                    "upgrade mvsep-mcp, or set MVSEP_DATA_DIR to another folder",
                )
            states = dict(db.execute("SELECT state, COUNT(*) FROM jobs GROUP BY state").fetchall())
    except sqlite3.Error as exc:
        return Check("journal", "fail", f"{path} cannot be read ({exc})", moved)
    total = sum(states.values())
    unfinished = sum(count for state, count in states.items() if state in NON_TERMINAL_STATES)
    detail = f"{path}: {total} jobs recorded, {unfinished} unfinished"
    notes = [d for d in (JournalDamage.read(n) for n in notes_beside(path)) if d is not None]
    if notes:
        last = notes[-1]
        when = time.strftime("%Y-%m-%d %H:%M", time.localtime(last.at))
        return Check("journal", "warn", f"{detail}; on {when} it was damaged ({last.reason}) and moved aside to "
                     f"{Path(last.kept_as).name}: {last.recovered.get('jobs', 0)} job(s) recovered",
                     f"nothing to do; delete {Path(last.kept_as).name} (and its .json note) once you no longer need "
                     f"it")
    return Check("journal", "ok", detail)


def check_database(url: str) -> Check:
    """The shared PostgreSQL journal (MVSEP_DATABASE_URL), read-only: reachable, schema version, the jobs it holds."""
    from mvsep_mcp.jobs.errors import JournalUnavailable
    from mvsep_mcp.jobs.journal import SCHEMA_VERSION
    from mvsep_mcp.jobs.models import NON_TERMINAL_STATES
    from mvsep_mcp.logs import redacted_url

    where = redacted_url(url)
    try:
        from mvsep_mcp.jobs.journal.postgres import inspect_database
    except ImportError:
        return Check("journal", "fail", "MVSEP_DATABASE_URL is set but PostgreSQL support is not installed",
                     "pip install 'mvsep-mcp[postgres]', or unset MVSEP_DATABASE_URL to use SQLite")
    try:
        version, states = inspect_database(url, timeout=policy.DOCTOR_TIMEOUT_S)
    except JournalUnavailable as exc:
        return Check("journal", "fail", exc.user_text(),
                     "check MVSEP_DATABASE_URL, that PostgreSQL runs and that it accepts this user")
    if version == 0:
        return Check("journal", "ok", f"{where}: empty (the tables are created at the first start)")
    if version > SCHEMA_VERSION:
        return Check("journal", "fail", f"{where} was written by a newer mvsep-mcp (schema {version} > "
                     f"{SCHEMA_VERSION})", "upgrade this mvsep-mcp to the version the other replicas run")
    total = sum(states.values())
    unfinished = sum(count for state, count in states.items() if state in NON_TERMINAL_STATES)
    return Check("journal", "ok", f"{where}: {total} jobs recorded, {unfinished} unfinished")


HOSTED_MODULES = ("cryptography", "itsdangerous", "prometheus_client", "jwt")  # the [hosted] extra, as imported
PROBE_TOKEN = "mvsep-mcp-doctor-probe"  # introspected to see that the endpoint takes our credentials: never active


def check_hosted_extra() -> Check:
    import importlib.util

    missing = [name for name in HOSTED_MODULES if importlib.util.find_spec(name) is None]
    if missing:
        return Check("hosted", "fail", f"hosted mode is on but {', '.join(missing)} is not installed",
                     "pip install 'mvsep-mcp[hosted]'")
    return Check("hosted", "ok", "on: each user signs in and links their own MVSep account")


def check_server_key(settings: Settings) -> Check:
    """The key that seals linked tokens and signs download URLs: readable and long enough (never shown)."""
    from mvsep_mcp.hosted.vault import ServerKeyError, load_server_key

    hosted = settings.hosted
    path = hosted.server_key_file or settings.data_dir / "server.key"
    value = hosted.server_key.get_secret_value() if hosted.server_key else None
    shared = "replicas must all have it (MVSEP_SERVER_KEY)"
    try:
        key = load_server_key(value, path, create=False)
    except ServerKeyError as exc:
        if value is None and not path.exists():
            return Check("server-key", "warn", f"none yet: the server makes {path} at its first start",
                         "for more than one replica, set MVSEP_SERVER_KEY on each (`mvsep-mcp keys server-key`)")
        return Check("server-key", "fail", exc.user_text(), "`mvsep-mcp keys server-key` prints a new one")
    where = "MVSEP_SERVER_KEY" if value else str(path)
    rotation = f", {len(key.secrets) - 1} older for rotation" if len(key.secrets) > 1 else ""
    return Check("server-key", "ok", f"from {where}{rotation}; {shared}")


async def check_sign_in(settings: Settings) -> Check:
    """Every configured way of signing users in works: the JWKS has keys, introspection takes our credentials, the
    API keys file reads. One line for all of them: the worst result, each way's finding in the detail."""
    hosted = settings.hosted
    found: list[tuple[Status, str, str]] = []
    async with httpx.AsyncClient(timeout=policy.DOCTOR_TIMEOUT_S) as http:
        if hosted.jwks_url:
            found.append(await _check_jwks(http, hosted.jwks_url))
        if hosted.introspection_url:
            found.append(await _check_introspection(http, settings))
    if hosted.api_keys_file:
        found.append(_check_api_keys(hosted.api_keys_file))
    statuses = {status for status, _, _ in found}
    worst: Status = "fail" if "fail" in statuses else "warn" if "warn" in statuses else "ok"
    detail = "; ".join(text for _, text, _ in found)
    fix = "; ".join(fix for status, _, fix in found if status != "ok" and fix)
    return Check("sign-in", worst, detail, fix)


async def _check_jwks(http: httpx.AsyncClient, url: str) -> tuple[Status, str, str]:
    fix = "check MVSEP_AUTH_JWKS_URL: your authorization server's jwks_uri (see its /.well-known/ metadata)"
    try:
        response = await http.get(url, headers={"Accept": "application/json"})
    except httpx.HTTPError as exc:
        return "fail", f"the JWKS at {url} does not answer ({type(exc).__name__})", fix
    try:
        keys = response.json().get("keys") if response.status_code == 200 else None
    except (ValueError, AttributeError):
        keys = None
    if not isinstance(keys, list):
        return "fail", f"{url} is not a JWKS (HTTP {response.status_code})", fix
    if not keys:
        return "fail", f"the JWKS at {url} holds no keys", "add a signing key to your authorization server"
    return "ok", f"JWKS: {len(keys)} key{'s' if len(keys) != 1 else ''}", ""


async def _check_introspection(http: httpx.AsyncClient, settings: Settings) -> tuple[Status, str, str]:
    hosted = settings.hosted
    url = str(hosted.introspection_url)
    secret = hosted.client_secret.get_secret_value() if hosted.client_secret else ""
    try:
        response = await http.post(url, data={"token": PROBE_TOKEN, "token_type_hint": "access_token"},
                                   auth=httpx.BasicAuth(hosted.client_id or "", secret),
                                   headers={"Accept": "application/json"})
    except httpx.HTTPError as exc:
        return ("fail", f"introspection at {url} does not answer ({type(exc).__name__})",
                "check MVSEP_AUTH_INTROSPECTION_URL")
    if response.status_code in (401, 403):
        return ("fail", f"introspection at {url} refused this server's credentials (HTTP {response.status_code})",
                "check MVSEP_AUTH_CLIENT_ID and MVSEP_AUTH_CLIENT_SECRET")
    try:
        answer = response.json() if response.status_code == 200 else None
    except ValueError:
        answer = None
    if not isinstance(answer, dict) or "active" not in answer:
        return ("fail", f"{url} is not an RFC 7662 introspection endpoint (HTTP {response.status_code})",
                "check MVSEP_AUTH_INTROSPECTION_URL")
    return "ok", "introspection takes this server's credentials", ""


def _check_api_keys(path: Path) -> tuple[Status, str, str]:
    from mvsep_mcp.hosted.api_keys import ApiKeyError, read_keys

    try:
        keys = read_keys(path)
    except ApiKeyError as exc:
        return "fail", exc.user_text(), "fix the file, or `mvsep-mcp keys remove USER` and add the user again"
    if not keys:
        return "warn", f"API keys: none in {path} yet", "`mvsep-mcp keys add USER` prints a new key once"
    users = len({key.user for key in keys})
    return "ok", f"API keys: {len(keys)} for {users} user{'s' if users != 1 else ''}", ""


def check_public_url(settings: Settings) -> Check:
    from urllib.parse import urlsplit

    url = settings.hosted.base_url
    parts = urlsplit(url)
    if parts.scheme == "https":
        return Check("public-url", "ok", f"users reach {url}/mcp")
    if (parts.hostname or "") in ("127.0.0.1", "::1", "localhost"):
        return Check("public-url", "warn", f"{url}/mcp is reachable from this machine only",
                     "set MVSEP_PUBLIC_URL to the https address users reach (behind a TLS proxy)")
    return Check("public-url", "fail", f"{url} is not https: bearer and MVSep tokens would cross the network in clear",
                 "put a TLS proxy in front (deploy/compose.yaml has Caddy) and set MVSEP_PUBLIC_URL to its https URL")


def check_toolsets(settings: Settings) -> Check:
    enabled = ", ".join(settings.toolsets)
    if settings.ignored_toolsets:
        unknown = ", ".join(repr(name) for name in settings.ignored_toolsets)
        return Check(
            "toolsets",
            "warn",
            f"{unknown} unknown and ignored; enabled: {enabled}",
            f"MVSEP_TOOLSETS takes {', '.join(ALL_TOOLSETS)} or 'all'",
        )
    return Check("toolsets", "ok", f"enabled: {enabled}")


# --- running them ------------------------------------------------------------------------------------------------


def _client(settings: Settings, token: str | None, transport: httpx.AsyncBaseTransport | None) -> MVSepClient:
    timeout = httpx.Timeout(policy.DOCTOR_TIMEOUT_S)
    return MVSepClient(
        token, base_url=settings.base_url, transport=transport, timeout=timeout, max_retries=policy.DOCTOR_MAX_RETRIES
    )


async def run_checks(settings: Settings, transport: httpx.AsyncBaseTransport | None = None) -> list[Check]:
    if settings.hosted.enabled:
        return await run_hosted_checks(settings, transport)
    token = settings.token.get_secret_value() if settings.token is not None else None
    async with _client(settings, None, transport) as public:
        reach = await check_reachable(settings, public)
    if token is not None and reach.status != "fail":
        async with _client(settings, token, transport) as client:
            token_check, user = await check_token(settings, client)
    elif token is not None:
        token_check, user = Check("token", "skip", f"set (from the {settings.token_source}); MVSep not reachable"), None
    else:
        token_check, user = await check_token(settings, None)
    return [
        reach,
        token_check,
        check_premium(user),
        check_credits(user),
        check_output_dir(settings.output_dir),
        check_database(settings.database_url.get_secret_value()) if settings.database_url is not None
        else check_journal(settings.journal_path),
        check_toolsets(settings),
    ]


async def run_hosted_checks(settings: Settings, transport: httpx.AsyncBaseTransport | None = None) -> list[Check]:
    """A server for many users: no token of its own (each user links theirs), and what signing users in needs."""
    async with _client(settings, None, transport) as public:
        reach = await check_reachable(settings, public)
    per_user = "hosted mode: each user links their own MVSep account"
    extra = check_hosted_extra()
    return [
        reach,
        Check("token", "skip", per_user),  # a server-wide token: config warns that it is ignored
        Check("premium", "skip", "per user in hosted mode"),
        Check("credits", "skip", "per user in hosted mode"),
        check_output_dir(settings.output_dir),
        check_database(settings.database_url.get_secret_value()) if settings.database_url is not None
        else check_journal(settings.journal_path),
        check_toolsets(settings),
        extra,
        *([check_server_key(settings), await check_sign_in(settings)] if extra.status == "ok" else []),
        check_public_url(settings),
    ]


def run_doctor(
    flags: Mapping[str, Any] | None = None,
    env: Mapping[str, str] | None = None,
    write: Callable[[str], object] | None = None,
    transport: httpx.AsyncBaseTransport | None = None,
) -> int:
    """Print one line per check; 0 when nothing failed (warnings allowed), 1 otherwise."""
    import sys

    out: Callable[[str], object] = write or (lambda line: sys.stdout.write(line + "\n"))
    try:
        settings = load_settings(flags, env)
    except ConfigError as exc:
        out(Check("settings", "fail", str(exc), "correct that setting (environment, flag or config file)").line())
        return 1
    out(Check("settings", "ok", f"mvsep-mcp settings loaded (data in {settings.data_dir})").line())
    checks = anyio.run(run_checks, settings, transport)
    for check in checks:
        out(check.line())
    return 1 if any(check.status == "fail" for check in checks) else 0
