"""`mvsep-mcp bench`: the quick run produces every figure in a well-formed table and JSON (speed is never asserted:
the numbers belong to the benchmark, not to the tests)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
import soundfile as sf
from mvsep_mcp_testbench.bench.baseline import long_job_split, todays_status_requests
from mvsep_mcp_testbench.bench.figures import COLUMNS, Figure, Target, table
from mvsep_mcp_testbench.bench.job_figures import _max_per_window
from mvsep_mcp_testbench.bench.run import FIGURE_KEYS
from mvsep_mcp_testbench.bench.songs import sparse_wav

QUICK_TIMEOUT_S = 400


@pytest.mark.timeout(QUICK_TIMEOUT_S + 30)
def test_quick_run_reports_every_figure(tmp_path: Path) -> None:
    out_json = tmp_path / "bench.json"
    env = {**os.environ, "TMPDIR": str(tmp_path)}
    done = subprocess.run([sys.executable, "-m", "mvsep_mcp", "bench", "--quick", "--json", str(out_json)],
                          capture_output=True, text=True, timeout=QUICK_TIMEOUT_S, env=env, cwd=tmp_path)
    assert done.returncode == 0, done.stderr[-3000:]
    document = json.loads(out_json.read_text(encoding="utf-8"))
    assert document["mode"] == "quick"
    assert {"cpu", "cores", "memory", "os", "python"} <= set(document["machine"])
    figures = {f["key"]: f for f in document["figures"]}
    assert set(figures) == set(FIGURE_KEYS)
    for key, f in figures.items():
        assert isinstance(f["value"], (int, float)), f"{key} was not measured: {f['note']}"
        assert isinstance(f["reference"], (int, float)), key
        assert f["target"] and f["unit"] and f["figure"], key
        assert f["pass"] in (True, False, None), key
        if f["pass"] is not None:
            assert isinstance(f["ratio"], float), key
    # the printed table: a header, a rule, one row of six cells per figure, the same figures as the JSON
    lines = done.stdout.splitlines()
    start = next(i for i, line in enumerate(lines) if line.startswith("| figure"))
    header = [c.strip() for c in lines[start].strip("|").split("|")]
    assert tuple(header) == COLUMNS
    rows = [line for line in lines[start + 2:] if line.startswith("|")]
    assert len(rows) == len(FIGURE_KEYS)
    names = set()
    for row in rows:
        cells = [c.strip() for c in row.strip("|").split("|")]
        assert len(cells) == len(COLUMNS), row
        assert cells[5] in ("yes", "NO", "—"), row
        names.add(cells[0])
    assert names == {f["figure"] for f in figures.values()}
    assert "targets hold" in done.stdout
    assert not list(tmp_path.glob("mvsep-bench-*")), "the work folder was not removed"


def test_table_columns_ratio_and_verdicts() -> None:
    figures = [
        Figure("a", "faster", "s", 2.0, 4.0, "ref", Target.ratio_at_most(1.2)),
        Figure("b", "slower", "MB/s", 50.0, 100.0, "raw", Target.ratio_at_least(0.9)),
        Figure("c", "info", "MB", 80.0, 60.0, "bare", Target.none(), note="just shown"),
        Figure("d", "broken", "", None, None, "", Target("measured")),
        Figure("e", "bytes too", "ms", 10.0, 400.0, "first", Target.at_most(50, "ms"), extra_check=False),
        Figure("f", "slack", "s", 3.4, 2.0, "job time", Target.ref_plus(1.5, "s")),
    ]
    assert [f.passed for f in figures] == [True, False, None, None, False, True]
    assert figures[0].ratio == 0.5 and figures[3].ratio is None
    text = table(figures)
    assert "| faster " in text and "0.50×" in text and "n/a" in text and "- info: just shown" in text
    assert Figure("g", "x", "s", None, 1.0, "r", Target.at_most(1, "s")).passed is False


def test_todays_polling_schedule() -> None:
    # polls at 0 (waiting), 7.5 (processing), 12.5, 17.5, 22.5 (done)
    assert todays_status_requests(5.0, 15.0) == 5
    assert todays_status_requests(0.0, 0.0) == 1  # done at the first poll
    # 16 s queued, 4 s processing: 0, 7.5, 18.75 (processing), 23.75 (done)
    assert todays_status_requests(*long_job_split(20.0)) == 4
    # in the queue the interval grows ×1.5 up to 20 s: a long wait costs about 3 requests a minute
    assert 40 <= todays_status_requests(*long_job_split(600.0)) <= 55


def test_requests_in_the_busiest_minute() -> None:
    assert _max_per_window([]) == 0
    assert _max_per_window([0.0, 10.0, 59.9, 60.0, 61.0]) == 4  # 10 … 61
    assert _max_per_window([float(t) for t in range(0, 300, 5)]) == 12


def test_sparse_wav_is_valid_silence(tmp_path: Path) -> None:
    path = sparse_wav(tmp_path / "big.wav", 3 * 1024 * 1024)
    info = sf.info(str(path))
    assert info.samplerate == 44100 and info.channels == 2
    assert abs(path.stat().st_size - 3 * 1024 * 1024) < 8
    assert info.frames == (path.stat().st_size - 44) // 4


def test_service_times_jobs_per_account_and_records_when_they_finish(tmp_path: Path) -> None:
    import time

    import httpx
    from mvsep_mcp_testbench.bench.service import BenchService
    from mvsep_mcp_testbench.bench.songs import song
    from mvsep_mcp_testbench.sandbox import JobTiming

    track = song(tmp_path / "in", "Timed", seconds=1.0)
    with BenchService(tmp_path) as service:
        fast = service.account("fast", premium=True)
        slow = service.account("slow", premium=False, render=False)
        assert len(fast) == 30 and fast.isalnum() and fast != slow
        service.set_timing(fast, JobTiming(queue_s=0.1, processing_s=0.2))
        service.set_timing(slow, JobTiming(queue_s=60.0))
        with httpx.Client(base_url=service.base_url, timeout=30, trust_env=False) as api:
            for token in (fast, slow):
                with track.open("rb") as fh:
                    created = api.post("/separation/create", data={"api_token": token, "sep_type": "20"},
                                       files={"audiofile": (track.name, fh)})
                assert created.status_code == 200, created.text
            [fast_job], [slow_job] = service.jobs_of(fast), service.jobs_of(slow)
            assert fast_job.timing.queue_s == 0.1 and slow_job.timing.queue_s == 60.0
            deadline = time.monotonic() + 20
            while fast_job.hash not in service.done_at and time.monotonic() < deadline:
                time.sleep(0.05)
            assert service.done_at[fast_job.hash] >= fast_job.done_at  # finished without anyone asking
            api.get("/separation/get", params={"hash": fast_job.hash, "api_token": fast})
        assert len(service.status_request_times(fast)) == 1 and service.status_request_times(slow) == []
        assert service.upload_bytes(since=0) > track.stat().st_size * 2
        assert slow_job.hash not in service.done_at and slow_job.render_state == "pending"
        service.drop_jobs(slow)
        assert slow_job.cancelled
