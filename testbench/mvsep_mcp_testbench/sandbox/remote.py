"""URL input of the sandbox: it downloads only from loopback addresses, never from the internet."""

from __future__ import annotations

from pathlib import Path
from urllib.parse import urlsplit

import httpx

LOOPBACK_HOSTS = frozenset({"127.0.0.1", "localhost", "::1"})
REMOTE_TIMEOUT_S = 30.0
REMOTE_MAX_BYTES = 200 * 1024 * 1024


class RemoteFetchError(Exception):
    """The URL could not be downloaded; the text becomes the job's failure message."""


def check_loopback_url(url: str) -> str | None:
    """An error text when the sandbox will not download this URL."""
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        return "The url format is invalid."
    if parts.hostname.lower() not in LOOPBACK_HOSTS:
        return "Unable to download the file: the sandbox only accepts links to 127.0.0.1 or localhost"
    return None


async def fetch_to_file(url: str, dest: Path) -> int:
    problem = check_loopback_url(url)
    if problem:
        raise RemoteFetchError(problem)
    total = 0
    try:
        async with httpx.AsyncClient(timeout=REMOTE_TIMEOUT_S, follow_redirects=False, trust_env=False) as client:
            async with client.stream("GET", url) as response:
                if response.status_code != 200:
                    raise RemoteFetchError(f"Unable to download the file: HTTP {response.status_code}")
                with dest.open("wb") as out:
                    async for chunk in response.aiter_bytes():
                        total += len(chunk)
                        if total > REMOTE_MAX_BYTES:
                            raise RemoteFetchError("Unable to download the file: it is too large")
                        out.write(chunk)
    except httpx.HTTPError as exc:
        dest.unlink(missing_ok=True)  # noqa: ASYNC240 - a tiny local unlink
        raise RemoteFetchError(f"Unable to download the file: {type(exc).__name__}") from None
    except RemoteFetchError:
        dest.unlink(missing_ok=True)  # noqa: ASYNC240 - a tiny local unlink
        raise
    return total
