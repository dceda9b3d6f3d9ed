"""Fixtures every test folder may use: the journal under both backends, and the throwaway PostgreSQL behind it.

``journal`` (and ``open_journal``, to open several on one store, or with a fake clock) is parametrized over
``sqlite`` and ``postgres``, so a test that takes it runs against both. Without PostgreSQL's binaries the
PostgreSQL variants are skipped locally and fail under CI, unless the run does without PostgreSQL
(``tests/programs.py``).
"""

from __future__ import annotations

import os
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from mvsep_mcp.jobs.journal import JobJournal, SqliteJournal

from tests import programs

BACKENDS = ["sqlite", "postgres"]

OpenJournal = Callable[..., JobJournal]


@pytest.fixture(scope="session")
def postgres() -> Iterator[Any]:
    """The session's PostgreSQL server (a ``tests.postgres.PostgresCluster``), started at first use."""
    programs.skip_if_declared_absent("postgresql")
    try:
        from tests.postgres import PostgresCluster, find_bin_dir
    except ImportError as exc:  # psycopg missing: the [postgres] extra is not installed
        programs.missing("postgresql", f"psycopg is not installed ({exc})")
        raise
    given = os.environ.get("MVSEP_TEST_DATABASE_URL")
    if given:
        yield PostgresCluster(given)
        return
    bin_dir = find_bin_dir()
    if bin_dir is None:
        programs.missing("postgresql", "PostgreSQL is not installed (apt-get install postgresql)")
    assert bin_dir is not None
    cluster = PostgresCluster.start(bin_dir)
    try:
        yield cluster
    finally:
        cluster.stop()


@pytest.fixture
def postgres_url(postgres: Any) -> Iterator[str]:
    """A fresh database of the session's PostgreSQL server for this test, dropped afterwards."""
    url: str = postgres.create_database()
    try:
        yield url
    finally:
        postgres.drop_database(url)


@pytest.fixture(params=BACKENDS)
def journal_backend(request: pytest.FixtureRequest) -> str:
    return str(request.param)


@pytest.fixture
def open_journal(journal_backend: str, request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[OpenJournal]:
    """Opens journals on this test's one store (a SQLite file, or a PostgreSQL database); closes them afterwards.

    Keyword arguments go to the backend's constructor (``clock=``, ``migrations=``).
    """
    opened: list[JobJournal] = []
    if journal_backend == "postgres":
        url: str = request.getfixturevalue("postgres_url")
        from mvsep_mcp.jobs.journal.postgres import PostgresJournal

        def open_one(**kw: Any) -> JobJournal:
            journal = PostgresJournal(url, **kw)
            opened.append(journal)
            return journal
    else:
        path = tmp_path / "journal.sqlite3"

        def open_one(**kw: Any) -> JobJournal:
            journal = SqliteJournal(path, **kw)
            opened.append(journal)
            return journal

    yield open_one
    for journal in opened:
        journal.close()


@pytest.fixture
def journal(open_journal: OpenJournal) -> JobJournal:
    """A journal on this test's store, on the real clock."""
    return open_journal(clock=time.time)
