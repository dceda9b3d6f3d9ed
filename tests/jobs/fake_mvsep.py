"""An in-memory stand-in for ``MVSepClient`` with the methods the job runner calls, and counters to assert on.

Each job walks a scripted list of statuses, one step per ``get_separation``; ``done`` results list one file per stem,
and ``download`` writes small real audio (``tests.audio_factory``) so tagging works. The fake enforces a
concurrency limit the way MVSep does (HTTP 400 on create) and keeps the highest number of jobs it ever had in
flight. Faults are set per test through the public attributes.
"""

# ruff: noqa: ASYNC240 - the fake writes tiny files synchronously
from __future__ import annotations

import itertools
import re
import secrets
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

from mvsep_mcp.jobs.ports import JobsClient
from mvsep_mcp.mvsep import MVSepClient, SeparationRequest, errors, models

from tests.audio_factory import signal, write_audio

BASE = "http://127.0.0.1:9/api"
RUNNING = {"waiting", "processing", "distributing", "merging"}


def slug(name: str) -> str:
    stem = name.rsplit(".", 1)[0]
    return re.sub(r"[^a-z0-9]+", "-", stem.lower()).strip("-")


@dataclass
class FakeJob:
    hash: str
    file_name: str
    sep_type: int
    statuses: list[str]
    created_at: datetime
    step: int = 0
    status: str = "waiting"
    cancelled: bool = False
    remote: bool = False
    remote_steps: int = 1
    final_hash: str | None = None
    files: list[dict[str, Any]] = field(default_factory=list)


class FakeMVSep:
    """The fake client. ``limit``: jobs in flight allowed (None: unlimited)."""

    def __init__(
        self,
        *,
        premium: bool = False,
        limit: int | None = 1,
        statuses: list[str] | None = None,
        stems: tuple[str, ...] = ("Vocals", "Instrumental"),
        ext: str = "flac",
    ) -> None:
        self.premium = premium
        self.limit = limit
        self.statuses = statuses or ["waiting", "processing", "done"]
        self.stems = stems
        self.ext = ext
        self.jobs: dict[str, FakeJob] = {}
        self.creates = 0  # creates that made a job
        self.create_calls = 0  # every call, refused or not
        self.gets = 0
        self.remote_gets = 0
        self.history_calls = 0
        self.cancel_calls = 0
        self.downloads = 0
        self.download_calls = 0
        self.max_in_flight = 0
        self._counter = itertools.count(1)
        # faults
        self.create_errors: list[BaseException] = []  # raised (in order) by the next creates, before anything happens
        self.ambiguous_after_create = 0  # this many creates make the job, then raise AmbiguousCreateError
        self.download_failures = 0  # this many downloads write half a file then fail
        self.download_errors: list[BaseException] = []  # raised (in order) by the next downloads, after half a file
        self.size_text: str | None = None  # files[].size of every file (None: no size announced)
        self.file_types: list[str | None] | None = None  # override files[].type labels
        self.file_downloads: list[str | None] | None = None  # override files[].download names
        self.gone: set[str] = set()  # hashes that answer not_found
        self.poll_errors: list[Exception] = []  # raised by the next get_separation calls, in order
        self.failure_message = "Audio file is corrupted"

    # --- bookkeeping ---------------------------------------------------------------------------------------------

    @property
    def in_flight(self) -> int:
        return sum(1 for j in self.jobs.values() if j.status in RUNNING and not j.cancelled)

    def _note(self) -> None:
        self.max_in_flight = max(self.max_in_flight, self.in_flight)

    def _new_hash(self, file_name: str) -> str:
        stamp = datetime.now(UTC).strftime("%Y%m%d%H%M%S")
        ext = file_name.rsplit(".", 1)[-1] if "." in file_name else "mp3"
        return f"{stamp}-{secrets.token_hex(5)}-{slug(file_name)}.{ext}"

    # --- the client surface --------------------------------------------------------------------------------------

    async def user(self) -> models.UserInfo:
        return models.UserInfo.model_validate({"name": "t", "email": "t@example.com",
                                                "premium_enabled": 1 if self.premium else 0, "premium_minutes": 10})

    async def create_separation(
        self, request: SeparationRequest, *, on_body_sent: Callable[[], None] | None = None
    ) -> models.CreatedSeparation:
        self.create_calls += 1
        if on_body_sent is not None:
            on_body_sent()
        if self.create_errors:
            raise self.create_errors.pop(0)
        if self.limit is not None and self.in_flight >= self.limit:
            raise errors.BadRequestError("You can have only 1 active separation at a time", status_code=400)
        name = request.display_name or "text"
        if request.url:
            name = request.url.rstrip("/").rsplit("/", 1)[-1]
        job = FakeJob(hash=self._new_hash(name), file_name=name, sep_type=request.sep_type,
                      statuses=list(self.statuses), created_at=datetime.now(UTC), remote=request.url is not None)
        self.jobs[job.hash] = job
        self.creates += 1
        self._note()
        if self.ambiguous_after_create > 0:
            self.ambiguous_after_create -= 1
            raise errors.AmbiguousCreateError("no answer", sep_type=request.sep_type, file_name=name,
                                              sent_at=datetime.now(UTC))
        return models.CreatedSeparation(hash=job.hash, link=f"{BASE}/separation/get?hash={job.hash}")

    def _advance(self, job: FakeJob) -> None:
        if job.cancelled or job.status in ("done", "failed"):
            return
        job.status = job.statuses[min(job.step, len(job.statuses) - 1)]
        job.step += 1

    def _result(self, job: FakeJob) -> models.SeparationResult:
        if job.cancelled:
            return models.SeparationResult.model_validate({"success": True, "status": "not_found", "data": {}})
        data: dict[str, Any] = {}
        if job.status == "waiting":
            data = {"queue_count": 5, "current_order": 3}
        elif job.status == "distributing":
            data = {"queue_count": 0, "current_order": 0, "finished_chunks": 1, "all_chunks": 3, "message": "x"}
        elif job.status in ("processing", "merging"):
            data = {"message": f"{job.status}..."}
        elif job.status == "failed":
            data = {"message": self.failure_message}
        elif job.status == "done":
            data = {"algorithm": "Fake", "output_format": "flac (16 bit)", "files": self._files(job),
                    "tags": {"tags": {"vorbiscomment": {"title": ["Server Title"], "artist": ["Server Artist"]}}}}
        return models.SeparationResult.model_validate({"success": True, "status": job.status, "data": data})

    def _files(self, job: FakeJob) -> list[dict[str, Any]]:
        out = []
        base = job.hash.rsplit(".", 1)[0]
        for i, stem in enumerate(self.stems):
            label: str | None = stem
            if self.file_types is not None:
                label = self.file_types[i]
            download: str | None = f"{slug(job.file_name)}_{stem.lower()}.{self.ext}"
            if self.file_downloads is not None:
                download = self.file_downloads[i]
            out.append({"type": label, "url": f"http://127.0.0.1:9/storage/processed/{base}_{stem.lower()}.{self.ext}",
                        "download": download, **({"size": self.size_text} if self.size_text else {})})
        return out

    async def get_separation(self, hash_: str, mirror: bool = False) -> models.SeparationResult:
        self.gets += 1
        if self.poll_errors:
            raise self.poll_errors.pop(0)
        job = self.jobs.get(hash_)
        if job is None or hash_ in self.gone:
            return models.SeparationResult.model_validate({"success": True, "status": "not_found", "data": {}})
        self._advance(job)
        self._note()
        return self._result(job)

    async def get_remote_separation(self, hash_: str) -> models.SeparationResult:
        self.remote_gets += 1
        job = self.jobs.get(hash_)
        if job is None or hash_ in self.gone:
            return models.SeparationResult.model_validate({"success": True, "status": "not_found", "data": {}})
        if job.final_hash is None:
            job.final_hash = job.hash + "-final"
            final = FakeJob(hash=job.final_hash, file_name=job.file_name, sep_type=job.sep_type,
                            statuses=list(job.statuses), created_at=job.created_at, status="processing")
            self.jobs[final.hash] = final
            job.status = "done"
            return models.SeparationResult.model_validate({"success": True, "status": "processing", "data": {}})
        return models.SeparationResult.model_validate(
            {"success": True, "status": "done", "data": {"hash": job.final_hash, "link": "x"}})

    async def cancel_separation(self, hash_: str) -> bool:
        self.cancel_calls += 1
        job = self.jobs.get(hash_)
        if job is None or job.cancelled or job.status not in ("waiting",):
            return False
        job.cancelled = True
        return True

    async def separation_history(self, start: int = 0, limit: int = 20) -> list[models.HistoryEntry]:
        self.history_calls += 1
        jobs = sorted(self.jobs.values(), key=lambda j: j.created_at, reverse=True)[start:start + limit]
        return [models.HistoryEntry.model_validate({
            "id": i, "hash": j.hash, "created_at": j.created_at.strftime("%Y-%m-%d %H:%M:%S"),
            "job_exists": True, "credits": 1, "time_left": 72, "algorithm": {"render_id": j.sep_type, "name": "Fake"},
        }) for i, j in enumerate(jobs, start + 1)]

    async def download(self, url: str, dest_path: Path | str, progress: Any = None) -> int:
        self.download_calls += 1
        dest = Path(dest_path)
        dest.parent.mkdir(parents=True, exist_ok=True)
        fmt = url.rsplit(".", 1)[-1]
        if fmt not in ("mp3", "flac", "wav", "ogg", "m4a"):
            fmt = "flac"
        tmp = dest.with_name(dest.name + f".src.{fmt}")
        write_audio(tmp, signal(0.5, 8000, seed=next(self._counter)), 8000)
        data = tmp.read_bytes()
        tmp.unlink()
        if self.download_failures > 0:
            self.download_failures -= 1
            dest.write_bytes(data[: len(data) // 2])
            raise errors.ConnectError("connection reset mid-transfer")
        if self.download_errors:
            dest.write_bytes(data[: len(data) // 2])
            raise self.download_errors.pop(0)
        dest.write_bytes(data)
        self.downloads += 1
        return len(data)


if TYPE_CHECKING:  # both clients satisfy the jobs layer's Protocol (checked by mypy --strict in tests/test_static.py)
    _fake: JobsClient = FakeMVSep()
    _real: JobsClient = MVSepClient(None)
