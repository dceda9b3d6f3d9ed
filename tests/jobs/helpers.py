"""Shared pieces of the runner tests: a spec for a real input file, a runner with tiny intervals, running it."""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import anyio
from mvsep_mcp.jobs import JobJournal, JobRecord, JobRunner, JobSpec, Journal
from mvsep_mcp.media.files import sha256_file

from tests.audio_factory import make_audio
from tests.jobs.fake_mvsep import BASE

ACCOUNT = "acct-1"
FAST = dict(poll_interval=0.01, poll_interval_max=0.03, retry_delay=0.01, lease_renew=0.05, status_rate=1_000_000)


def input_file(tmp_path: Path, name: str = "My Song", fmt: str = "flac", **kw: Any) -> Path:
    return make_audio(tmp_path / "in", fmt, name=name, seconds=0.5, sample_rate=8000, **kw)


def make_spec(tmp_path: Path, path: Path, **over: Any) -> JobSpec:
    values: dict[str, Any] = dict(account_key=ACCOUNT, base_url=BASE, kind="file", input_path=str(path), sep_type=40,
                                  model_name="BS Roformer", options={"add_opt1": "0"}, output_format=2,
                                  output_root=str(tmp_path / "out"), input_sha256=sha256_file(path))
    values.update(over)
    return JobSpec.model_validate(values)


def no_sessions(done: JobRecord, earlier: list[JobRecord]) -> list[str]:
    """The runner's DAW hook where no request asks for a session file (``jobs.ports.SessionsAfterJob``)."""
    return []


def make_runner(tmp_path: Path, journal: JobJournal | None = None, **over: Any) -> JobRunner:
    """A runner with tiny intervals on ``journal`` (the ``journal`` fixture: both backends), or a SQLite file."""
    return JobRunner(journal if journal is not None else Journal(tmp_path / "journal.sqlite3"),
                     **{"sessions_after_job": no_sessions, **FAST, **over})


@contextlib.asynccontextmanager
async def running(runner: JobRunner) -> AsyncIterator[JobRunner]:
    async with anyio.create_task_group() as tg:
        await runner.start(tg)
        try:
            yield runner
        finally:
            runner.stop()


async def finish(runner: JobRunner, records: list[JobRecord], budget: float = 20.0) -> list[JobRecord]:
    done = await runner.wait(ACCOUNT, [r.id for r in records], timeout=budget)
    assert all(r.is_terminal for r in done), [(r.id, r.state, r.error) for r in done]
    return done
