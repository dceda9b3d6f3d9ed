"""Signed, expiring download URLs of a user's files: the only way a remote user's stems leave the server.

A URL names the user and the file's path inside the user's folder, signed with the server key (itsdangerous,
HMAC-SHA256 with a timestamp); it works for ``DOWNLOAD_URL_TTL_S`` and only for that file. Nothing in it is a
server path: the web layer resolves it under the user's own folder and refuses anything that would leave it.
"""

from __future__ import annotations

from urllib.parse import quote

from itsdangerous import BadSignature, SignatureExpired, URLSafeTimedSerializer

from mvsep_mcp import policy
from mvsep_mcp.hosted.errors import LinkInvalid
from mvsep_mcp.hosted.paths import DOWNLOAD_PREFIX
from mvsep_mcp.hosted.vault import ServerKey

SALT = "mvsep-mcp download"


class DownloadSigner:
    def __init__(self, key: ServerKey, base_url: str, *, ttl_s: float = policy.DOWNLOAD_URL_TTL_S) -> None:
        self._serializer = URLSafeTimedSerializer(key.signing_keys(), salt=SALT)
        self.base_url = base_url.rstrip("/")
        self.ttl_s = ttl_s

    def url(self, user_key: str, relative: str) -> str:
        """The download URL of ``relative`` (a POSIX path inside the user's folder); its last part names the file."""
        token = self._serializer.dumps([user_key, relative])
        name = relative.rsplit("/", 1)[-1]
        return f"{self.base_url}{DOWNLOAD_PREFIX}{token}/{quote(name)}"

    def open(self, token: str) -> tuple[str, str]:
        """``(user_key, relative path)`` of a signed token; :class:`LinkInvalid` when forged, altered or expired."""
        try:
            user_key, relative = self._serializer.loads(token, max_age=int(self.ttl_s))
        except SignatureExpired:
            raise LinkInvalid("This download link has expired: ask for the job again (wait_for_jobs) for a fresh "
                              "one.") from None
        except (BadSignature, ValueError, TypeError):
            raise LinkInvalid("This download link is not valid.") from None
        return str(user_key), str(relative)
