"""Prometheus metrics of one server process (``/metrics``), read at scrape time from what the server counts anyway.

Nothing in the runner or the client is instrumented for this: the collector reads the runner's ``stats`` (creates,
polls, history look-ups, cancels, downloads and their bytes, reuses), every MVSep client's request statistics
(requests, retries), the journal's jobs by state, and the tool calls and errors the MCP wiring records
(``hosted.calls``). Counters are per process (Prometheus sums replicas); jobs by state are the shared journal's.
Needs ``prometheus_client`` (the ``[hosted]`` extra).
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterator
from typing import TYPE_CHECKING

from prometheus_client import CollectorRegistry, generate_latest
from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily, Metric
from prometheus_client.platform_collector import PlatformCollector
from prometheus_client.process_collector import ProcessCollector
from prometheus_client.registry import Collector

from mvsep_mcp.hosted.calls import TOOL_CALLS
from mvsep_mcp.jobs.models import JobState

if TYPE_CHECKING:
    from mvsep_mcp.session import Session

log = logging.getLogger(__name__)

CONTENT_TYPE = "text/plain; version=0.0.4; charset=utf-8"

RUNNER_COUNTERS = (  # (stats field, metric name, help)
    ("creates_sent", "mvsep_creates", "Creates sent to MVSep (each may upload a file and start a paid job)"),
    ("polls", "mvsep_polls", "Job status requests sent to MVSep (rate() of it is the poll rate)"),
    ("history_lookups", "mvsep_history_lookups", "Separation-history look-ups reconciling an uncertain create"),
    ("cancels_sent", "mvsep_cancels", "Cancels sent to MVSep"),
    ("downloads", "mvsep_downloads", "Result files downloaded and committed"),
    ("bytes_downloaded", "mvsep_download_bytes", "Bytes of result files downloaded"),
    ("reused_results", "mvsep_reused_results", "Jobs that reused an earlier identical job's MVSep result"),
    ("reused_files", "mvsep_reused_files", "Jobs completed at once from an earlier identical job's files"),
)


class ServerCollector(Collector):
    def __init__(self, current_session: Callable[[], Session | None]) -> None:
        self._session = current_session

    def collect(self) -> Iterator[Metric]:
        session = self._session()
        if session is None:
            return
        stats = session.runner.stats.as_dict()
        for field, name, help_text in RUNNER_COUNTERS:
            yield CounterMetricFamily(name, help_text, value=stats.get(field, 0))
        clients = list(session.clients())
        users_clients = getattr(session.users, "clients", None)  # hosted mode: every user's client too
        if users_clients is not None:
            clients += list(users_clients())
        let_go = getattr(session.users, "retired_stats", None)  # hosted mode: clients of idle accounts let go
        every = [c.stats for c in clients] + ([let_go] if let_go is not None else [])
        yield CounterMetricFamily("mvsep_requests", "HTTP requests sent to MVSep (attempts, retries included)",
                                  value=sum(s.total_requests for s in every))
        yield CounterMetricFamily("mvsep_retries", "Requests to MVSep repeated after a failure (API and downloads)",
                                  value=sum(s.retries for s in every))
        calls, errors = TOOL_CALLS.snapshot()
        tool_calls = CounterMetricFamily("mvsep_tool_calls", "MCP tool calls", labels=["tool"])
        tool_errors = CounterMetricFamily("mvsep_tool_errors", "MCP tool calls that ended in an error", labels=["tool"])
        for tool in sorted(calls):
            tool_calls.add_metric([tool], calls[tool])
            tool_errors.add_metric([tool], errors.get(tool, 0))
        yield tool_calls
        yield tool_errors
        yield GaugeMetricFamily("mvsep_runner_running", "1 while the job runner runs",
                                value=int(session.runner.running))
        try:
            counts = session.journal.count_by_state()
        except Exception as exc:  # the database away: the scrape still shows the process's counters
            log.warning("metrics: the journal could not be read: %s", exc)
            yield GaugeMetricFamily("mvsep_journal_up", "1 when the job journal answered this scrape", value=0)
            return
        yield GaugeMetricFamily("mvsep_journal_up", "1 when the job journal answered this scrape", value=1)
        jobs = GaugeMetricFamily("mvsep_jobs", "Jobs in the journal by state (every user, every replica)",
                                 labels=["state"])
        for state in JobState:
            jobs.add_metric([state.value], counts.get(state.value, 0))
        yield jobs


def registry_for(current_session: Callable[[], Session | None]) -> CollectorRegistry:
    registry = CollectorRegistry(auto_describe=False)
    registry.register(ServerCollector(current_session))
    ProcessCollector(registry=registry)
    PlatformCollector(registry=registry)
    return registry


def exposition(registry: CollectorRegistry) -> bytes:
    return generate_latest(registry)
