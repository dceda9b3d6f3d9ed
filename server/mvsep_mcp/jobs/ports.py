"""What the jobs layer is handed from outside, as ``typing.Protocol``s: an MVSep client, and the DAW work after a job.

Both the real :class:`mvsep_mcp.mvsep.MVSepClient` and the tests' fake satisfy :class:`JobsClient` under ``mypy
--strict``, so they cannot drift apart unseen. The jobs layer never imports the concrete client, nor what writes DAW
sessions from the journal's jobs (that reads jobs, so it sits above this package: the session hands it in).
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Protocol

from mvsep_mcp.jobs.models import JobRecord
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


class SessionsAfterJob(Protocol):
    """What the runner writes once a job's files are saved: the DAW session files its request asked for (a hook the
    session hands in, as it hands in the client: what writes them reads jobs, so it sits above this package)."""

    def __call__(self, done: JobRecord, earlier: list[JobRecord]) -> list[str]:
        """Write the session files ``done.spec.daw_session`` names beside the stems of ``done`` (completed, with its
        manifest; ``earlier``: the jobs of a chain's steps before it, in order, whose stems the session uses too) and
        list them in those jobs' manifests; return their paths, none when they could not be written (the stems stay
        as they are). Blocking file work: the runner calls it in a worker thread, only when some were asked."""
        ...
