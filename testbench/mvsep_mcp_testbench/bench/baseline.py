"""Today's polling, frozen: the reference of "status requests for a long job" (computed, not measured).

These are the polling constants of ``policy.py`` when the benchmark was written (first poll right after the create,
then ×1.5 back-off from 5 s up to 20 s while the job waits in the queue, every 5 s while it runs). They are copied
here on purpose: the figure compares whatever the product does now with what it did then, so they must not follow
``policy.py`` when the polling changes.
"""

from __future__ import annotations

TODAY_POLL_INTERVAL_S = 5.0
TODAY_POLL_INTERVAL_MAX_S = 20.0
TODAY_POLL_BACKOFF = 1.5
QUEUE_SHARE = 0.8  # a long job spends this share of its time waiting in the queue, the rest processing


def todays_status_requests(queue_s: float, run_s: float) -> int:
    """Status requests the runner before issue 10 sent for a job that waits ``queue_s`` then runs ``run_s`` seconds."""
    t, interval, count = 0.0, TODAY_POLL_INTERVAL_S, 0
    while True:
        count += 1
        if t >= queue_s + run_s:
            return count
        if t < queue_s:
            interval = min(max(interval, TODAY_POLL_INTERVAL_S) * TODAY_POLL_BACKOFF, TODAY_POLL_INTERVAL_MAX_S)
        else:
            interval = TODAY_POLL_INTERVAL_S
        t += interval


def long_job_split(total_s: float) -> tuple[float, float]:
    """(queue, processing) seconds of a long job of ``total_s`` seconds."""
    return total_s * QUEUE_SHARE, total_s * (1 - QUEUE_SHARE)
