"""Small runner and retry budgets for a server run inside the suite's own process.

The product's budgets are minutes long (a poll failing for half an hour, a download retried every 5 s); the suite
must see every give-up path end in seconds. ``fast_budgets()`` swaps, for the duration of a ``with`` block and in
this process only, the runner the :class:`~mvsep_mcp.session.Session` builds and the HTTP client's retry policy for
ones with the ``FAULTS_*`` numbers of :mod:`mvsep_mcp.policy`. Servers run as subprocesses keep the real budgets.
"""

from __future__ import annotations

import functools
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from mvsep_mcp_testbench.faults import knobs

FAST_RUNNER: dict[str, Any] = {
    "reconcile_retry": knobs.FAULTS_RETRY_PAUSE_S,
    "download_retry": knobs.FAULTS_RETRY_PAUSE_S,
    "create_backoff": knobs.FAULTS_RETRY_PAUSE_S,
    "unknown_status_max": knobs.FAULTS_UNKNOWN_STATUS_MAX_S,
    "gone_recheck": knobs.FAULTS_GONE_RECHECK_S,
    "poll_failure_budget": knobs.FAULTS_POLL_FAILURE_BUDGET_S,
}
FAST_RETRY: dict[str, Any] = {
    "backoff_initial_s": knobs.FAULTS_RETRY_BACKOFF_S,
    "backoff_max_s": knobs.FAULTS_RETRY_BACKOFF_S * 4,
}


@contextmanager
def fast_budgets() -> Iterator[None]:
    """Sessions created inside the block get the suite's small budgets (restored on exit)."""
    from mvsep_mcp import session as session_module
    from mvsep_mcp.jobs.runner import JobRunner
    from mvsep_mcp.mvsep import client as client_module
    from mvsep_mcp.mvsep.retry import RetryPolicy

    swaps: list[tuple[Any, str, Any]] = [
        (session_module, "JobRunner", functools.partial(JobRunner, **FAST_RUNNER)),
        (client_module, "RetryPolicy", functools.partial(RetryPolicy, **FAST_RETRY)),
    ]
    originals = [(module, name, getattr(module, name)) for module, name, _ in swaps]
    for module, name, replacement in swaps:
        setattr(module, name, replacement)
    try:
        yield
    finally:
        for module, name, original in originals:
            setattr(module, name, original)
