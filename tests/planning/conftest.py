"""Fixtures for planning: the real catalogue (the 2026 dump plus the sandbox's non-upload models) and a ``Session``
whose MVSep side is stubbed: ``catalog_and_account`` answers from that catalogue and a chosen account, and the
runner talks to the in-memory fake client."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from mvsep_mcp.catalog import AccountKind, Catalog
from mvsep_mcp.config import load_settings
from mvsep_mcp.mvsep.models import Algorithm, UserInfo
from mvsep_mcp.session import Account, Session
from mvsep_mcp_testbench.sandbox.algorithms import DATA_DIR

from tests.jobs.fake_mvsep import BASE, FakeMVSep

DATA = DATA_DIR
ACCOUNT = "acct-plan"


@pytest.fixture(scope="session")
def catalog() -> Catalog:
    raw: list[dict[str, Any]] = []
    for name in ("algorithms.json", "extra_algorithms.json"):  # the dump lacks matchering / text-input models
        raw += json.loads((DATA / name).read_text(encoding="utf-8"))
    return Catalog([Algorithm.model_validate(item) for item in raw], fetched_at=1_700_000_000.0)


@dataclass
class Stub:
    """What ``catalog_and_account`` answers; tests change it before planning."""

    kind: AccountKind = "registered"
    premium_enabled: bool = False
    balance: float = 0.0


@pytest.fixture
def stub() -> Stub:
    return Stub()


@pytest.fixture
async def session(
    tmp_path: Path, catalog: Catalog, stub: Stub, monkeypatch: pytest.MonkeyPatch
) -> AsyncIterator[Session]:
    env = {
        "MVSEP_BASE_URL": BASE,
        "MVSEP_OUTPUT_DIR": str(tmp_path / "out"),
        "MVSEP_DATA_DIR": str(tmp_path / "data"),
        "MVSEP_POLL_INTERVAL": "0.01",
        "MVSEP_STATUS_RATE": "100000",
        "MVSEP_AUTO_APPROVE_CREDITS": "1000000",
        "MVSEP_CONFIG": str(tmp_path / "absent.toml"),
        "MVSEP_CREDENTIALS": str(tmp_path / "credentials.json"),
    }
    session = Session(load_settings({}, env))

    async def catalog_and_account(account: Account | None = None) -> tuple[Catalog, AccountKind, UserInfo]:
        user = UserInfo(premium_enabled=stub.premium_enabled, premium_minutes=stub.balance)
        return catalog, stub.kind, user

    monkeypatch.setattr(session, "catalog_and_account", catalog_and_account)
    try:
        yield session
    finally:
        if session.account is not None and not hasattr(session.account.client, "aclose"):
            session.account = None  # the fake client has nothing to close
        await session.aclose()


async def attach_fake(session: Session, fake: FakeMVSep) -> None:
    """Make ``fake`` the session's account client (as ``use_token`` would with a real one)."""
    session.account = Account(client=fake, key=ACCOUNT)  # type: ignore[arg-type,unused-ignore]
    await session.runner.attach_account(ACCOUNT, fake, concurrency=1)
