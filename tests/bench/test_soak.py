"""`mvsep-mcp bench --soak`: the quick soak runs every kind of request through one server and reports every block and
figure (its numbers belong to the benchmark: no target is asserted here); the blocks are computed as documented."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from mvsep_mcp_testbench.bench.soak import Request, Sample, SoakParams
from mvsep_mcp_testbench.bench.soak_report import COLUMNS, blocks, soak_figures

QUICK_TIMEOUT_S = 400


@pytest.mark.timeout(QUICK_TIMEOUT_S + 30)
def test_quick_soak_runs_every_kind_of_request_through_one_server(tmp_path: Path) -> None:
    out_json = tmp_path / "soak.json"
    env = {**os.environ, "TMPDIR": str(tmp_path)}
    done = subprocess.run([sys.executable, "-m", "mvsep_mcp", "bench", "--soak", "--quick", "--json", str(out_json)],
                          capture_output=True, text=True, timeout=QUICK_TIMEOUT_S, env=env, cwd=tmp_path)
    assert done.returncode == 0, done.stderr[-3000:]
    document = json.loads(out_json.read_text(encoding="utf-8"))
    params = SoakParams.quick()
    assert document["mode"] == "soak-quick"
    requests = document["requests"]
    assert [r["number"] for r in requests] == list(range(1, params.requests + 1))
    outcomes = {(r["kind"], r["outcome"]) for r in requests}
    assert {("fresh", "completed"), ("cancel", "cancelled"), ("refetch", "reused")} <= outcomes, outcomes
    assert all(r["outcome"] in ("completed", "cancelled", "reused") for r in requests), outcomes
    assert {r["account"] for r in requests} == {"soak-a", "soak-b"}  # switched, and back
    assert requests[-1]["account"] == "soak-a"
    assert "restarted" in requests[params.restart_at - 1]["note"]
    assert requests[-1]["sandbox_day"] == pytest.approx(params.days, abs=0.05)  # a week of the service's time
    assert len(document["blocks"]) == params.requests // params.block
    for request in requests:
        sample = request["sample"]
        assert sample["rss_mb"] > 0 and sample["fds"] > 0 and sample["threads"] > 0 and sample["journal_bytes"] > 0
    figures = {f["key"]: f for f in document["figures"]}
    assert {"soak_latency", "soak_rss", "soak_fds", "soak_threads", "soak_journal"} <= set(figures)
    assert all(f["pass"] in (True, False) for key, f in figures.items() if f["target"] != "—")
    lines = done.stdout.splitlines()
    header = next(i for i, line in enumerate(lines) if line.startswith("| requests"))
    assert tuple(c.strip() for c in lines[header].strip("|").split("|")) == COLUMNS
    assert "targets hold" in done.stdout
    assert not list(tmp_path.glob("mvsep-bench-*")), "the work folder was not removed"


def _request(number: int, extra: float | None, *, rss: float, fds: int, journal: int, kind: str = "fresh") -> Request:
    sample = Sample(rss_mb=rss, fds=fds, threads=8, journal_bytes=journal, log_bytes=10 * number)
    return Request(number, kind, "soak-a", "completed" if extra is not None else "cancelled", 0.0, 1.0, 2.0, extra,
                   2, number / 2, sample)


def test_blocks_compare_the_last_requests_with_the_first() -> None:
    baseline = Sample(rss_mb=90.0, fds=18, threads=8, journal_bytes=1000, log_bytes=0)
    requests = [_request(1, 0.2, rss=95.0, fds=18, journal=2000), _request(2, 0.4, rss=96.0, fds=19, journal=3000),
                _request(3, None, rss=97.0, fds=18, journal=3500, kind="cancel"),
                _request(4, 0.6, rss=98.0, fds=18, journal=4000)]
    first, last = blocks(requests, 2, baseline)
    assert (first.median_extra_s, first.worst_extra_s, first.fds_max) == (pytest.approx(0.3), 0.4, 19)
    assert first.journal_growth_per_request == 1000.0 and last.journal_growth_per_request == 500.0
    assert last.measured == 1 and last.kinds == {"cancel": 1, "fresh": 1} and last.status_per_request == 2.0
    figures = {f.key: f for f in soak_figures([first, last], days=7.0)}
    assert figures["soak_latency"].passed is True  # 0.6 s against 0.3 s: within 0.3 s
    assert figures["soak_rss"].value == 2.0 and figures["soak_rss"].passed is True
    assert figures["soak_fds"].passed is True and figures["soak_journal"].passed is True
    assert figures["soak_days"].value == 2.0


def test_the_soak_mixes_refetches_and_cancellations_into_fresh_jobs() -> None:
    params = SoakParams.full()
    kinds = [params.kind_of(n) for n in range(1, params.requests + 1)]
    assert params.requests >= 300 and params.block == 100
    assert kinds.count("refetch") == 16 and kinds.count("cancel") == 12 and kinds.count("fresh") == 272
    assert params.switches == (101, 201) and params.restart_at == 151  # 150 is a cancellation
