"""The server's log handler (mvsep_mcp.logs.setup_logging): always to the current stderr, tokens redacted."""

from __future__ import annotations

import io
import logging
import sys
from collections.abc import Iterator

import pytest
from mvsep_mcp import system
from mvsep_mcp.logs import StderrHandler, register_secret, setup_logging


@pytest.fixture
def root_logging() -> Iterator[None]:
    root = logging.getLogger()
    handlers, level = list(root.handlers), root.level
    yield
    root.handlers[:] = handlers
    root.setLevel(level)


def test_a_replaced_and_closed_stderr_does_not_break_later_records(root_logging: None,
                                                                   monkeypatch: pytest.MonkeyPatch) -> None:
    first, second = io.StringIO(), io.StringIO()
    monkeypatch.setattr(sys, "stderr", first)
    setup_logging("INFO")
    assert any(isinstance(handler, StderrHandler) for handler in logging.getLogger().handlers)
    logging.getLogger("mvsep_mcp.test").info("one")
    first.close()  # what a test's capture or a host does to the stderr the server started with
    monkeypatch.setattr(sys, "stderr", second)
    logging.getLogger("mvsep_mcp.test").info("two")
    assert "two" in second.getvalue()


def test_the_handler_redacts_registered_tokens(root_logging: None, monkeypatch: pytest.MonkeyPatch) -> None:
    stream = io.StringIO()
    monkeypatch.setattr(sys, "stderr", stream)
    setup_logging("INFO")
    register_secret("tok-abcdef0123456789")
    logging.getLogger("mvsep_mcp.test").info("calling with tok-abcdef0123456789")
    assert "tok-abcdef0123456789" not in stream.getvalue()


def test_the_tokens_kept_out_of_the_logs_are_bounded(monkeypatch: pytest.MonkeyPatch) -> None:
    from mvsep_mcp import logs

    monkeypatch.setattr(logs, "_secrets", {})
    monkeypatch.setattr(logs, "LOG_SECRETS_MAX", 3)
    for n in range(5):
        register_secret(f"token-number-{n}")
    assert list(logs._secrets) == ["token-number-2", "token-number-3", "token-number-4"]  # the oldest went first
    assert logs.redact("token-number-4 token-number-0") == "*** token-number-0"


def _cp1252_stderr(monkeypatch: pytest.MonkeyPatch) -> tuple[io.BytesIO, io.TextIOWrapper]:
    """stderr as Windows gives it to a piped child: the ANSI code page."""
    raw = io.BytesIO()
    stream = io.TextIOWrapper(raw, encoding="cp1252", errors="backslashreplace", write_through=True)
    monkeypatch.setattr(sys, "stderr", stream)
    return raw, stream


def test_on_windows_stderr_is_written_in_utf8(root_logging: None, monkeypatch: pytest.MonkeyPatch) -> None:
    raw, stream = _cp1252_stderr(monkeypatch)
    with system.simulate("windows"):
        setup_logging("INFO")
    logging.getLogger("mvsep_mcp.test").info("saved 坂本龍一 - Merry Christmas (Vocals).flac")
    assert stream.encoding == "utf-8"
    assert "坂本龍一 - Merry Christmas".encode() in raw.getvalue()


@pytest.mark.parametrize("simulated", ["macos", "linux"])
def test_elsewhere_stderr_is_left_as_it_is(root_logging: None, monkeypatch: pytest.MonkeyPatch,
                                           simulated: system.System) -> None:
    _, stream = _cp1252_stderr(monkeypatch)
    with system.simulate(simulated):
        setup_logging("INFO")
    assert stream.encoding == "cp1252"
