"""Static API keys for self-hosters without an authorization server: a file that holds only each key's SHA-256.

One key per line: ``<sha256 hex> <user> <scope,scope,…>`` (``#`` starts a comment). ``mvsep-mcp keys add USER``
makes a key of 32 random bytes, prints it once and appends its line; the key itself is never stored. A key of that
entropy needs no slow hash: its SHA-256 cannot be reversed or guessed. A presented key is hashed and compared with
every stored hash in constant time (``hmac.compare_digest``, no early exit). The file is read again when it changes,
so keys are added and removed without a restart.
"""

from __future__ import annotations

import hashlib
import hmac
import os
import secrets
import stat
import threading
from dataclasses import dataclass
from pathlib import Path

from mvsep_mcp import policy
from mvsep_mcp.hosted.errors import HostedError
from mvsep_mcp.hosted.identity import Principal
from mvsep_mcp.hosted.scopes import ALL_SCOPES, READ, SEPARATE

KEY_PREFIX = "mvsk_"  # tells an API key from a JWT or an opaque OAuth token at a glance
ISSUER = "mvsep-mcp:api-key"  # the issuer of every API-key principal (users of keys are apart from OAuth users)
DEFAULT_SCOPES = (READ, SEPARATE)


class ApiKeyError(HostedError):
    """The keys file cannot be used as given."""


@dataclass(frozen=True)
class ApiKey:
    digest: str
    user: str
    scopes: tuple[str, ...]


def digest(key: str) -> str:
    return hashlib.sha256(key.encode()).hexdigest()


def new_key() -> str:
    return KEY_PREFIX + secrets.token_urlsafe(policy.API_KEY_BYTES)


def read_keys(path: Path) -> list[ApiKey]:
    """Every key line of the file (none when it does not exist); a malformed line is an error naming it."""
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        return []
    except OSError as exc:
        raise ApiKeyError(f"The API keys file {path} cannot be read ({exc.strerror}): it must be a file.") from None
    keys: list[ApiKey] = []
    for number, raw in enumerate(text.splitlines(), start=1):
        line = raw.split("#", 1)[0].strip()
        if not line:
            continue
        parts = line.split()
        if len(parts) != 3 or len(parts[0]) != 64:
            raise ApiKeyError(f"{path} line {number} is not '<sha256> <user> <scopes>': fix or remove it.")
        keys.append(ApiKey(parts[0].lower(), parts[1], tuple(s for s in parts[2].split(",") if s)))
    return keys


def add_key(path: Path, user: str, scopes: tuple[str, ...] = DEFAULT_SCOPES) -> str:
    """A new key for ``user``; its hash is appended to ``path`` (made owner-only). Returns the key: show it once."""
    if not user or any(ch.isspace() for ch in user) or "#" in user:
        raise ApiKeyError(f"A user name is one word without '#' (got {user!r}).")
    unknown = [s for s in scopes if s not in ALL_SCOPES]
    if unknown:
        raise ApiKeyError(f"Unknown scope {', '.join(unknown)}: use {', '.join(ALL_SCOPES)}.")
    read_keys(path)  # refuse to append to a file we could not read back
    key = new_key()
    path.parent.mkdir(parents=True, exist_ok=True)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_APPEND, stat.S_IRUSR | stat.S_IWUSR)
    with os.fdopen(fd, "a", encoding="utf-8") as fh:
        fh.write(f"{digest(key)} {user} {','.join(scopes)}\n")
    return key


def remove_keys(path: Path, user: str) -> int:
    """Remove every key of ``user``; returns how many."""
    kept: list[str] = []
    removed = 0
    for line in path.read_text(encoding="utf-8").splitlines() if path.exists() else []:
        fields = line.split("#", 1)[0].split()
        if len(fields) == 3 and fields[1] == user:
            removed += 1
        else:
            kept.append(line)
    if removed:
        tmp = path.with_suffix(".tmp")
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, stat.S_IRUSR | stat.S_IWUSR)
        with os.fdopen(fd, "w", encoding="utf-8") as fh:
            fh.write("".join(f"{line}\n" for line in kept))
        os.replace(tmp, path)
    return removed


class ApiKeyVerifier:
    """Verifies presented keys against the file (read again whenever its modification time or size changes)."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self._lock = threading.Lock()
        self._seen: tuple[float, int] | None = None
        self._keys: list[ApiKey] = []
        self._load()  # a malformed file stops the server at start-up, not at the first call

    def _load(self) -> list[ApiKey]:
        try:
            info = self.path.stat()
            seen: tuple[float, int] | None = (info.st_mtime, info.st_size)
        except FileNotFoundError:
            seen = None
        with self._lock:
            if seen != self._seen or seen is None:
                self._keys = read_keys(self.path)
                self._seen = seen
            return self._keys

    def verify(self, token: str) -> Principal | None:
        if not token.startswith(KEY_PREFIX):
            return None
        presented = digest(token)
        found: ApiKey | None = None
        for key in self._load():
            if hmac.compare_digest(presented, key.digest):
                found = key
        if found is None:
            return None
        return Principal(issuer=ISSUER, subject=found.user, client_id=f"api-key:{found.user}", scopes=found.scopes,
                         name=found.user)
