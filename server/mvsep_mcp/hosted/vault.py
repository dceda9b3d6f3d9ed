"""The server key, and what it protects: each user's MVSep token at rest (Fernet) and download URLs (signing).

The key is any high-entropy secret (``mvsep-mcp keys server-key`` prints a new one). Two independent keys are derived
from it with HKDF-SHA256 (``cryptography``), one per use, so a leak of one use's output says nothing of the other.
Several keys, comma-separated, rotate: the first seals and signs, every one opens and verifies (``MultiFernet``).

A sealed token binds the user it belongs to (the plaintext carries the user key, checked on opening), so a row moved
from one user to another in the database does not open as the other's.

Without ``MVSEP_SERVER_KEY`` a single server makes ``<data dir>/server.key`` (owner-only) on first start; replicas
must share one key (the setting, or the same file on a shared volume), or they cannot open each other's links.
"""

from __future__ import annotations

import base64
import json
import logging
import os
import secrets
import stat
from dataclasses import dataclass
from pathlib import Path

from cryptography.fernet import Fernet, InvalidToken, MultiFernet
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

from mvsep_mcp.hosted.errors import HostedError

log = logging.getLogger(__name__)

MIN_KEY_CHARS = 32
VAULT_INFO = b"mvsep-mcp: MVSep tokens at rest, v1"
SIGNING_INFO = b"mvsep-mcp: download URLs, v1"


class ServerKeyError(HostedError):
    """The server key cannot be used (too short, unreadable, or a sealed value no configured key opens)."""


def new_server_key() -> str:
    return secrets.token_urlsafe(32)


def _derive(secret: str, info: bytes) -> bytes:
    return HKDF(algorithm=hashes.SHA256(), length=32, salt=None, info=info).derive(secret.encode())


@dataclass(frozen=True)
class ServerKey:
    """The configured secrets, newest first."""

    secrets: tuple[str, ...]

    def __post_init__(self) -> None:
        if not self.secrets or any(len(s) < MIN_KEY_CHARS for s in self.secrets):
            raise ServerKeyError(f"MVSEP_SERVER_KEY must be at least {MIN_KEY_CHARS} random characters "
                                 f"(`mvsep-mcp keys server-key` prints one).")

    def fernet(self) -> MultiFernet:
        return MultiFernet([Fernet(base64.urlsafe_b64encode(_derive(s, VAULT_INFO))) for s in self.secrets])

    def signing_keys(self) -> list[bytes]:
        """For itsdangerous: oldest first, the newest (which signs) last."""
        return [_derive(s, SIGNING_INFO) for s in reversed(self.secrets)]


def load_server_key(value: str | None, path: Path, *, create: bool = True) -> ServerKey:
    """The key from the setting, else from ``path`` (made owner-only on first use when ``create``)."""
    if value:
        return ServerKey(tuple(part.strip() for part in value.split(",") if part.strip()))
    try:
        text = path.read_text(encoding="utf-8").strip()
    except FileNotFoundError:
        if not create:
            raise ServerKeyError(f"No server key: set MVSEP_SERVER_KEY or create {path}.") from None
        text = new_server_key()
        path.parent.mkdir(parents=True, exist_ok=True)
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, stat.S_IRUSR | stat.S_IWUSR)
        with os.fdopen(fd, "w", encoding="utf-8") as fh:
            fh.write(text + "\n")
        log.warning("made a new server key in %s: replicas of this server must share it (MVSEP_SERVER_KEY)", path)
    except OSError as exc:
        raise ServerKeyError(f"The server key file {path} cannot be read ({exc.strerror}).") from None
    return ServerKey(tuple(part.strip() for part in text.split(",") if part.strip()))


class TokenVault:
    """Seals MVSep tokens for the database and opens them again."""

    def __init__(self, key: ServerKey) -> None:
        self._fernet = key.fernet()

    def seal(self, user_key: str, token: str) -> str:
        return self._fernet.encrypt(json.dumps({"u": user_key, "t": token}).encode()).decode()

    def open(self, user_key: str, sealed: str) -> str | None:
        """The token, or ``None`` when no configured key opens it or it belongs to another user."""
        try:
            data = json.loads(self._fernet.decrypt(sealed.encode()))
        except (InvalidToken, ValueError):
            return None
        if not isinstance(data, dict) or data.get("u") != user_key or not isinstance(data.get("t"), str):
            return None
        return str(data["t"])
