"""SIGTERM and SIGINT stop the real server process (stdio and HTTP) at a clean point, with one line, promptly: the
session is closed (the journal's WAL folded back into it) and the process gone within seconds, even with the host's
stdin pipe still open."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from mvsep_mcp.policy import STOP_GRACE_S

from tests.http_server import serving_http

pytestmark = pytest.mark.skipif(not sys.platform.startswith("linux"), reason="POSIX signals, /proc")
PROMPT_S = 5.0  # well under the grace period: the exit follows the closed session, not the timer


def env_for(tmp_path: Path) -> dict[str, str]:
    return {"MVSEP_BASE_URL": "http://127.0.0.1:9/api", "MVSEP_DATA_DIR": str(tmp_path / "data"),
            "MVSEP_OUTPUT_DIR": str(tmp_path / "out"), "MVSEP_CONFIG": str(tmp_path / "absent.toml"),
            "MVSEP_CREDENTIALS": str(tmp_path / "absent.json"), "HOME": str(tmp_path), "PATH": "/usr/bin:/bin"}


def running(pid: int) -> bool:
    """Whether the process still runs (an exited child not yet reaped is a zombie: state Z)."""
    try:
        return Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0] != "Z"
    except FileNotFoundError:
        return False


def initialized(process: subprocess.Popen[bytes]) -> None:
    """An MCP initialize request and its answer, as a host starts the conversation."""
    assert process.stdin is not None and process.stdout is not None
    request = {"jsonrpc": "2.0", "id": 1, "method": "initialize",
               "params": {"protocolVersion": "2025-06-18", "capabilities": {},
                          "clientInfo": {"name": "test", "version": "1"}}}
    process.stdin.write(json.dumps(request).encode() + b"\n")
    process.stdin.flush()
    answer = json.loads(process.stdout.readline())
    assert answer["id"] == 1 and "result" in answer, answer


@pytest.mark.parametrize("sig", [signal.SIGTERM, signal.SIGINT])
def test_a_stdio_server_stops_promptly_with_one_line(tmp_path: Path, sig: signal.Signals) -> None:
    log = tmp_path / "stderr.log"
    with log.open("w", encoding="utf-8") as errors:
        process = subprocess.Popen([sys.executable, "-m", "mvsep_mcp", "serve", "--log-level", "debug"],
                                   env=env_for(tmp_path), stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                                   stderr=errors)
        try:
            initialized(process)  # the lifespan runs: the session (journal, job runner) is open
            started = time.monotonic()
            process.send_signal(sig)
            code = process.wait(timeout=STOP_GRACE_S + 5)  # the host's stdin pipe stays open all along
            took = time.monotonic() - started
        finally:
            process.kill()
            process.wait()
    text = log.read_text(encoding="utf-8")
    assert code == 0 and took < PROMPT_S, (code, took, text[-2000:])
    assert text.count("stopping on") == 1 and f"stopping on {sig.name}: unfinished jobs stay in the journal" in text
    assert "Traceback" not in text
    assert (tmp_path / "data" / "journal.sqlite3").is_file()
    assert not (tmp_path / "data" / "journal.sqlite3-wal").exists()  # closed cleanly: the WAL was folded back


def test_an_http_server_stops_promptly_with_one_line(tmp_path: Path) -> None:
    log = tmp_path / "server.log"
    with serving_http(env_for(tmp_path), log):
        pid = next(int(line.split("[", 1)[1].split("]", 1)[0]) for line in log.read_text().splitlines()
                   if "Started server process" in line)
        started = time.monotonic()
        os.kill(pid, signal.SIGTERM)
        while running(pid):
            assert time.monotonic() - started < PROMPT_S, log.read_text(encoding="utf-8")[-2000:]
            time.sleep(0.05)
    text = log.read_text(encoding="utf-8")
    assert text.count("stopping on SIGTERM") == 1 and "Traceback" not in text
    assert not (tmp_path / "data" / "journal.sqlite3-wal").exists()
