"""MVSep-style names: job hashes, output file names, human-readable sizes and dates."""

from __future__ import annotations

import hashlib
import re
import secrets
import string
import time
import unicodedata
from pathlib import PurePath

HASH_PREFIX_RE = re.compile(r"^\d{14}-[0-9a-f]{10}-")
REMOTE_HASH_CHARS = 16


def slugify(text: str) -> str:
    ascii_text = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode("ascii")
    return re.sub(r"[^a-z0-9]+", "-", ascii_text.lower()).strip("-")[:80] or "audio"


def account_hex(token: str) -> str:
    """The 10 hex digits MVSep puts in every hash of one account."""
    return hashlib.md5(token.encode("utf-8")).hexdigest()[:10]


def job_hash(created_at: float, token: str, filename: str, taken: set[str]) -> str:
    """``YYYYMMDDHHMMSS-<10 hex>-<slug>.<ext>``, with ``-N`` added to the slug if that name is taken."""
    path = PurePath(filename or "audio")
    ext = path.suffix.lower().lstrip(".") or "mp3"
    stamp = time.strftime("%Y%m%d%H%M%S", time.gmtime(created_at))
    base = f"{stamp}-{account_hex(token)}-{slugify(path.stem)}"
    candidate, n = f"{base}.{ext}", 0
    while candidate in taken:
        candidate = f"{base}-{n}.{ext}"
        n += 1
    return candidate


def remote_hash() -> str:
    alphabet = string.ascii_letters + string.digits
    return "".join(secrets.choice(alphabet) for _ in range(REMOTE_HASH_CHARS))


def hash_stem(job_hash_text: str) -> str:
    return job_hash_text.rsplit(".", 1)[0]


def download_name(file_name: str) -> str:
    """A stored file's suggested name: without the timestamp-hex prefix."""
    return HASH_PREFIX_RE.sub("", file_name, count=1)


def size_text(size_bytes: int) -> str:
    return f"{size_bytes / (1024 * 1024):.2f} MB"


def date_text(epoch: float, *, seconds: bool = True) -> str:
    return time.strftime("%Y-%m-%d %H:%M:%S" if seconds else "%Y-%m-%d %H:%M", time.gmtime(epoch))
