"""The public paths beside ``/mcp`` whose URLs are capabilities: whoever holds one may use it, so no log shows them.

- ``LINK_PATH`` + a one-time ticket: the page where a user links their MVSep token (``serving.pages``).
- ``DOWNLOAD_PREFIX`` + a signed token + the file's name: one file of a user's storage (``hosted.signing``).
"""

from __future__ import annotations

LINK_PATH = "/account/link/"
DOWNLOAD_PREFIX = "/files/"
CAPABILITY_PATHS = (LINK_PATH, DOWNLOAD_PREFIX)
