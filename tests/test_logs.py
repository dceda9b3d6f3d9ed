"""The server's log handler (mvsep_mcp.logs.setup_logging): always to the current stderr, tokens redacted."""

from __future__ import annotations

import io
import json
import logging
import sys
from collections.abc import Iterator

import pytest
from mvsep_mcp import system
from mvsep_mcp.logs import StderrHandler, forget_secret, redact, register_secret, setup_logging


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


def test_the_tokens_kept_out_of_the_logs_are_bounded_and_never_dropped(monkeypatch: pytest.MonkeyPatch) -> None:
    from mvsep_mcp import logs

    monkeypatch.setattr(logs, "_secrets", {})
    monkeypatch.setattr(logs, "LOG_SECRETS_MAX", 3)
    assert all(register_secret(f"token-number-{n}") for n in range(3))
    assert not register_secret("token-number-3")  # full: refused, and no earlier one goes
    assert register_secret("token-number-0")  # one already kept: a second holder
    assert logs.redact("token-number-0 token-number-2 token-number-3") == "*** *** token-number-3"
    forget_secret("token-number-0")
    assert logs.redact("token-number-0") == "***"  # its other holder still uses it
    forget_secret("token-number-0")
    assert logs.redact("token-number-0") == "token-number-0" and register_secret("token-number-3")


def test_capability_urls_are_redacted_wherever_they_appear() -> None:
    line = ("Tool 'account_info' failed: 'No MVSep account is linked. Ask the user to open "
            "https://mcp.example.org/account/link/T1ck3t_-x9 (valid 15 minutes)'; stem at "
            "http://127.0.0.1:8000/files/eyJhIjoxfQ.Zx_Y-1/song%20(vocals).flac")
    assert redact(line) == ("Tool 'account_info' failed: 'No MVSep account is linked. Ask the user to open "
                            "https://mcp.example.org/account/link/*** (valid 15 minutes)'; stem at "
                            "http://127.0.0.1:8000/files/***/song%20(vocals).flac")
    assert redact("/home/me/files/song.flac and /account/link/ on disk") == "/home/me/files/song.flac and " \
        "/account/link/ on disk"  # local paths and the bare prefix are no capability


@pytest.mark.parametrize("fmt", ["text", "json"])
def test_no_request_can_forge_a_line_or_send_escapes(root_logging: None, monkeypatch: pytest.MonkeyPatch,
                                                     fmt: str) -> None:
    stream = io.StringIO()
    monkeypatch.setattr(sys, "stderr", stream)
    setup_logging("INFO", fmt)
    forged = "/x\n2000-01-01 00:00:00,000 WARNING mvsep_mcp.http: GET /admin 200\r\x1b[2J\u2028\u202e\x85"
    logging.getLogger("mvsep_mcp.http").info("GET %s 404", forged)
    try:
        raise ValueError("bad name\n2000-01-01 00:00:00,000 ERROR forged: from an exception")
    except ValueError:
        logging.getLogger("mvsep_mcp.test").exception("a failure")
    out = stream.getvalue()
    lines = out.splitlines()
    assert not any(line.startswith("2000-01-01") for line in lines), out
    for bad in ("\x1b", "\r", "\u2028", "\u202e", "\x85"):
        assert bad not in out
    if fmt == "text":
        assert "GET /x\\n2000-01-01 00:00:00,000 WARNING" in lines[0] and "\\x1b[2J\\u2028\\u202e\\x85" in lines[0]
        assert all(line.startswith("  ") for line in lines[2:]), lines  # the traceback, indented under its record
    else:
        assert len(lines) == 2 and "\\n2000-01-01" in json.loads(lines[0])["message"]


def test_records_are_clean_before_any_handler_sees_them(monkeypatch: pytest.MonkeyPatch) -> None:
    """A handler of someone else's (a test's capture, an embedder's own) gets the cleaned record: the SDK's line of a
    failed tool carries no link ticket."""
    from mvsep_mcp.logs import protect_logs

    protect_logs()
    seen: list[logging.LogRecord] = []

    class Keep(logging.Handler):
        def emit(self, record: logging.LogRecord) -> None:
            seen.append(record)

    sdk = logging.getLogger("mcp.server.mcpserver.server")
    handler = Keep()
    sdk.addHandler(handler)
    level = sdk.level
    sdk.setLevel(logging.INFO)
    try:
        sdk.info("Tool %r failed: %r", "account_info", "open http://h:1/account/link/SeCrEtTiCkEt00 now\n")
    finally:
        sdk.removeHandler(handler)
        sdk.setLevel(level)
    [record] = seen
    assert record.getMessage() == "Tool 'account_info' failed: 'open http://h:1/account/link/*** now\\n'"
    assert record.args is not None  # kept apart where that gives the same text (formatters that read them)


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
