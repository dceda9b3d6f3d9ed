"""What the jobs layer needs of an MVSep client, as a ``typing.Protocol``.

Both the real :class:`mvsep_mcp.mvsep.MVSepClient` and the tests' fake satisfy it under ``mypy --strict``, so they
cannot drift apart unseen. The jobs layer never imports the concrete client.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Protocol

from mvsep_mcp.mvsep import models
from mvsep_mcp.mvsep.separation_request import SeparationRequest


class JobsClient(Protocol):
    """The MVSep endpoints the runner calls for an account."""

    async def user(self) -> models.UserInfo: ...

    async def create_separation(
        self, request: SeparationRequest, *, on_body_sent: Callable[[], None] | None = None
    ) -> models.CreatedSeparation: ...

    async def get_separation(self, hash_: str, mirror: bool = False) -> models.SeparationResult: ...

    async def get_remote_separation(self, hash_: str) -> models.SeparationResult: ...

    async def cancel_separation(self, hash_: str) -> bool: ...

    async def separation_history(self, start: int = 0, limit: int = 20) -> list[models.HistoryEntry]: ...

    async def download(self, url: str, dest_path: Path | str) -> int: ...
